"""The hub on HTTP: the agency API, the pages for people, and metrics, served inside the
worker so that a submission is on the log before it is answered; each agency sees only
what the policy disclosed to it."""

from typing import TYPE_CHECKING

from hub.surface import lazy_surface

__all__ = ["Story", "WebContext", "create_asgi", "hub_registry", "issue_session", "sign_request"]

# Loaded name by name (hub.surface): the worker and `leadhub web` need the context and
# the sessions; FastAPI, Jinja and Prometheus load only when the worker serves HTTP.
if TYPE_CHECKING:
    from hub.web.auth import issue_session, sign_request
    from hub.web.context import WebContext
    from hub.web.metrics import hub_registry
    from hub.web.server import create_asgi
    from hub.web.story import Story
else:
    __getattr__ = lazy_surface(
        __name__,
        {
            "hub.web.auth": ("issue_session", "sign_request"),
            "hub.web.context": ("WebContext",),
            "hub.web.metrics": ("hub_registry",),
            "hub.web.server": ("create_asgi",),
            "hub.web.story": ("Story",),
        },
    )
