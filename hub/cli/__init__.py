"""``leadhub``, the command line: one module per area (``running``, ``contract``, ``audit``,
``cluster``, ``web``, ``report``) on the root command and options of ``common``, so that each
area's commands stay together and load their part of the hub only when they run. The
surface is the entry point ``main`` and what the packages above the hub (consumers,
producers) need to add their own commands: the root and audit commands, the shared options,
and how a command finds its settings, context and broker."""

from hub.cli.common import (
    BROKER_FILE,
    BootstrapOption,
    ConfigOption,
    app,
    audit_app,
    bootstrap_for,
    context_from,
    settings_from,
)
from hub.cli.main import main

__all__ = [
    "BROKER_FILE",
    "BootstrapOption",
    "ConfigOption",
    "app",
    "audit_app",
    "bootstrap_for",
    "context_from",
    "main",
    "settings_from",
]
