"""``leadhub``, the command line: one module per area (``running``, ``contract``, ``audit``,
``cluster``, ``web``, ``report``) on the root command and options of ``common``."""

from hub.cli.common import BROKER_FILE, app
from hub.cli.main import main

__all__ = ["BROKER_FILE", "app", "main"]
