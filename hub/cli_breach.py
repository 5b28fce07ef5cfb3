"""``leadhub audit exposure``: every disclosure to one recipient since a moment, the
list a breach response starts from (docs/runbook.md, "Respond to a suspected breach")."""

from __future__ import annotations

from typing import Annotated

import typer

from hub.cli import BootstrapOption, ConfigOption
from hub.cli_audit import FormatOption, SourceOption, _auditor, _format, _moment, audit_app


@audit_app.command("exposure")
def audit_exposure(
    recipient: Annotated[str, typer.Option(help="the agency whose systems are suspect")],
    since: Annotated[str, typer.Option(help="ISO 8601 time (UTC if no zone): from when")],
    until: Annotated[str | None, typer.Option(help="ISO 8601 time: up to (default: now)")] = None,
    config: ConfigOption = None,
    source: SourceOption = "archive",
    bootstrap_servers: BootstrapOption = None,
    fmt: FormatOption = "table",
) -> None:
    """Every disclosure to one recipient decided since a moment: who it concerned, what
    fields, under which rule and consent. The count goes to stderr."""
    from consumers.auditor import render
    from consumers.exposure import exposure

    start, form = _moment(since), _format(fmt)
    end = _moment(until) if until is not None else None
    rows = exposure(_auditor(config, source, bootstrap_servers), recipient, start, end)
    typer.echo(render(rows, form))
    people = len({r["participant"] for r in rows})
    typer.echo(f"{recipient}: {len(rows)} disclosure(s) about {people} participant(s)", err=True)
