"""``leadhub report``: the program's evaluation measures, safe to share.

Reads the archive by default, like the auditor (after `make demo` the broker is gone
and the archive is the log); ``--source kafka`` reads a running broker.
"""

from __future__ import annotations

import time as clock
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

import typer

from hub.cli.common import (
    BootstrapOption,
    ConfigOption,
    SourceOption,
    app,
    bootstrap_for,
    context_from,
    log_source,
    moment,
)
from hub.errors import HubError

Format = Literal["markdown", "html", "json"]

FORMATS: tuple[Format, ...] = ("markdown", "html", "json")


def _date(option: str, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise HubError(f"{option} {value!r} is not a date (YYYY-MM-DD)") from None


def _format(value: str) -> Format:
    for f in FORMATS:
        if value == f:
            return f
    raise HubError(f"--format must be markdown, html or json, not {value!r}")


@app.command("report")
def report(
    config: ConfigOption = None,
    source: SourceOption = "archive",
    bootstrap_servers: BootstrapOption = None,
    start: Annotated[
        str | None, typer.Option("--from", help="first day of the period (default: the log's)")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="last day of the period (default: the log's)")
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="only what was recorded by then (ISO 8601)")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="markdown, html or json")] = "markdown",
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="file to write (Markdown: charts beside it)"),
    ] = None,
) -> None:
    """The LEAD evaluation measures for a period, from the log: referrals, hand-offs, holds,
    intake, engagement, housing, new arrests, consent and data sharing. Aggregates only;
    counts from 1 to 10 and whatever would reveal them are suppressed."""
    from hub.report import Period, charts, derive, markdown, read, suppress, to_html, to_json

    form, where = _format(fmt), log_source(source)
    recorded_by = moment("--as-of", as_of) if as_of is not None else None
    period = Period(_date("--from", start), _date("--to", end), recorded_by)
    if period.start and period.end and period.start > period.end:
        raise HubError("--from must not be after --to")
    if period.start and period.as_of and period.as_of.date() < period.start:
        raise HubError("--as-of must not be before --from")
    if output is not None and output.is_dir():
        raise HubError(f"--output {output} is a directory")
    began = clock.monotonic()
    hub = context_from(config)
    settings = hub.settings
    servers = bootstrap_for(settings, bootstrap_servers) if where == "kafka" else []
    log = read(hub, where, servers)
    measures = derive(log, period, settings.site.intake_window_days)
    published = suppress(measures.tables)
    written: list[Path] = []
    if form == "json":
        text = to_json(published, measures)
    elif form == "html":
        text = to_html(published, measures, charts(published, measures))
    else:
        files: dict[str, str] = {}
        if output is not None:
            output.parent.mkdir(parents=True, exist_ok=True)
            for name, (_, png) in charts(published, measures).items():
                path = output.with_name(f"{output.stem}-{name}.png")
                path.write_bytes(png)
                files[name] = path.name
                written.append(path)
        text = markdown(published, measures, files)
    if output is None:
        typer.echo(text, nl=False)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    extra = f" and {len(written)} charts beside it" if written else ""
    typer.echo(
        f"wrote {output}{extra}: {len(measures.tables)} tables, {len(published.hidden)} "
        f"entries suppressed, in {clock.monotonic() - began:.1f} s"
    )
