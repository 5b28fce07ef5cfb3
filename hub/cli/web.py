"""`leadhub web`: sign-in links for the pages the worker serves when web.enabled is set."""

from __future__ import annotations

from typing import Annotated

import typer

from hub.cli.common import ConfigOption, app, context_from
from hub.errors import HubError

web_app = typer.Typer(no_args_is_help=True, help="The hub's pages and HTTP API.")
app.add_typer(web_app, name="web")


@web_app.command("login")
def web_login(
    agency: Annotated[str, typer.Argument(help="agency id from deploy/agencies.yaml")],
    config: ConfigOption = None,
    hours: Annotated[float, typer.Option(min=0.1, max=168.0)] = 8.0,
) -> None:
    """Print a sign-in link for one agency's staff, signed with the hub's key; it works
    until it expires, so hand it over the way you would hand over a password."""
    from hub.web import issue_session

    hub = context_from(config)
    settings, agencies = hub.settings, hub.agencies
    if agency not in agencies or agency == "hub":
        known = ", ".join(a for a in agencies if a != "hub")
        raise HubError(f"unknown agency {agency!r}; one of: {known}")
    if not settings.web.enabled:
        raise HubError("web.enabled is false in this config: the hub serves no pages")
    token = issue_session(hub.hub_key, agency, hours)
    typer.echo(f"http://{settings.web.host}:{settings.web.port}/login?token={token}")
