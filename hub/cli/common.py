"""What every ``leadhub`` command shares: the root command, its common options, how a
command finds its settings and the running broker, and how it prints rows."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from uuid import UUID

import typer
from typer.core import TyperGroup

from hub import logs
from hub.config import Settings, load_settings
from hub.context import HubContext
from hub.errors import HubError

# `leadhub --help` as a table of contents: running, the contract, looking at the log,
# an agency's side, auditing, reporting, the cluster, the pages
CONTENTS = [
    "up",
    "run",
    "demo",
    "schemas",
    "keys",
    "policy",
    "tail",
    "rejected",
    "inbox",
    "audit",
    "erase",
    "report",
    "plan",
    "apply",
    "web",
]


class _Contents(TyperGroup):
    def list_commands(self, ctx: Any) -> list[str]:  # typer vendors its own click
        def place(name: str) -> int:
            return CONTENTS.index(name) if name in CONTENTS else len(CONTENTS)

        return sorted(super().list_commands(ctx), key=place)


app = typer.Typer(
    cls=_Contents,
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="LEAD Hub: lawful, consented data sharing between LEAD agencies.",
)
audit_app = typer.Typer(
    no_args_is_help=True,
    help="Verify, replay and account for the decision log (reads the archive by default).",
)
app.add_typer(audit_app, name="audit")

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="YAML config file (default: $LEADHUB_CONFIG, defaults)"),
]
BootstrapOption = Annotated[
    str | None, typer.Option(help="host:port[,..]; default: the running `leadhub up`")
]
SourceOption = Annotated[
    str, typer.Option("--source", help="archive (default: works after the hub stopped) or kafka")
]
TableFormat = Literal["table", "json", "csv"]
FormatOption = Annotated[str, typer.Option("--format", "-f", help="table, json or csv")]
BROKER_FILE = "broker.json"


def settings_from(config: Path | None, **overrides: Any) -> Settings:
    settings = load_settings(config, **overrides)
    logs.configure(settings.log_level)
    return settings


def context_from(config: Path | None, **overrides: Any) -> HubContext:
    """The composition root of one command: its settings, and the parts built from them."""
    return HubContext(settings_from(config, **overrides))


def bootstrap_for(settings: Settings, explicit: str | None) -> list[str]:
    if explicit:
        return [s.strip() for s in explicit.split(",") if s.strip()]
    if settings.broker.bootstrap_servers:
        return list(settings.broker.bootstrap_servers)
    marker = settings.data_dir / BROKER_FILE
    if not marker.exists():
        raise HubError("no broker: start `leadhub up` (same --config) or pass --bootstrap-servers")
    servers: list[str] = json.loads(marker.read_text(encoding="utf-8"))["bootstrap_servers"]
    return servers


def log_source(value: str) -> Literal["archive", "kafka"]:
    if value not in ("archive", "kafka"):
        raise HubError(f"--source must be archive or kafka, not {value!r}")
    return value  # type: ignore[return-value]


def moment(option: str, value: str) -> datetime:
    """An ISO 8601 date or time given as ``option``; UTC when it names no zone."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise HubError(f"{option} {value!r} is not an ISO 8601 date or time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def table_format(value: str) -> TableFormat:
    if value not in ("table", "json", "csv"):
        raise HubError(f"--format must be table, json or csv, not {value!r}")
    return value  # type: ignore[return-value]


def render(rows: Sequence[dict[str, Any]], fmt: TableFormat) -> str:
    plain = [{k: _cell(v) for k, v in r.items()} for r in rows]
    if fmt == "json":
        return json.dumps(plain, indent=2, ensure_ascii=False)
    columns = list(dict.fromkeys(k for r in plain for k in r))
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(plain)
        return buffer.getvalue().rstrip("\n")
    if not plain:
        return "(none)"
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in plain)) for c in columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in columns).rstrip()]
    lines += [
        "  ".join(str(r.get(c, "")).ljust(widths[c]) for c in columns).rstrip() for r in plain
    ]
    return "\n".join(lines)


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, UUID):
        return str(value)
    return "" if value is None else value
