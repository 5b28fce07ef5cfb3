"""``leadhub audit ...`` and ``leadhub erase``: the auditor's and the erasure commands.

Auditors read the archive by default (it outlives the embedded broker: after `make demo`
the broker is gone and the archive is the log); ``--from kafka`` reads a running broker.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import typer

from hub.cli import BootstrapOption, ConfigOption, _bootstrap, _settings, app
from hub.errors import HubError

audit_app = typer.Typer(
    no_args_is_help=True,
    help="Verify, replay and account for the decision log (reads the archive by default).",
)
app.add_typer(audit_app, name="audit")

SourceOption = Annotated[
    str, typer.Option("--from", help="archive (default: works after the hub stopped) or kafka")
]
FormatOption = Annotated[str, typer.Option("--format", "-f", help="table, json or csv")]
ParticipantOption = Annotated[str, typer.Option("--participant", "-p", help="participant id")]


def _format(value: str) -> Literal["table", "json", "csv"]:
    if value not in ("table", "json", "csv"):
        raise HubError(f"--format must be table, json or csv, not {value!r}")
    return value  # type: ignore[return-value]


def _auditor(config: Any, source: str, bootstrap_servers: str | None) -> Any:
    from consumers.auditor import Auditor, read_log

    settings = _settings(config)
    if source not in ("archive", "kafka"):
        raise HubError(f"--from must be archive or kafka, not {source!r}")
    servers = _bootstrap(settings, bootstrap_servers) if source == "kafka" else []
    return Auditor.open(settings, read_log(settings, source, servers))  # type: ignore[arg-type]


def _moment(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise HubError(f"--as-of {value!r} is not an ISO 8601 date or time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@audit_app.command("verify")
def audit_verify(
    config: ConfigOption = None,
    source: SourceOption = "archive",
    bootstrap_servers: BootstrapOption = None,
    fmt: FormatOption = "table",
) -> None:
    """Check the signed checkpoints, every inclusion and consistency proof, and (from the
    archive) every segment and record chain. Exit 1 and name the place if any fails."""
    from consumers.auditor import render

    form = _format(fmt)
    rows = _auditor(config, source, bootstrap_servers).verify()
    typer.echo(render(rows, form))
    if any(r["status"] == "FAIL" for r in rows):
        raise typer.Exit(1)


@audit_app.command("replay")
def audit_replay(
    config: ConfigOption = None,
    source: SourceOption = "archive",
    bootstrap_servers: BootstrapOption = None,
    fmt: FormatOption = "table",
) -> None:
    """Re-derive every decision from lead.events and the policy versions in force, and
    diff against lead.audit. Exit 1 if there is any finding."""
    from consumers.auditor import render

    form = _format(fmt)
    findings, summary = _auditor(config, source, bootstrap_servers).replay_findings()
    rows = [{"check": k, "value": v} for k, v in summary.items()]
    rows += [{"check": "FINDING", "value": f} for f in findings]
    rows.append({"check": "result", "value": "MATCH" if not findings else "DIFFERENCES"})
    typer.echo(render(rows, form))
    if findings:
        raise typer.Exit(1)


@audit_app.command("disclosures")
def audit_disclosures(
    participant: ParticipantOption,
    config: ConfigOption = None,
    source: SourceOption = "archive",
    bootstrap_servers: BootstrapOption = None,
    fmt: FormatOption = "table",
) -> None:
    """The accounting of disclosures for one participant (42 CFR 2.25, HIPAA): who
    received what, when, under which rule and consent."""
    from consumers.auditor import render

    form = _format(fmt)
    auditor = _auditor(config, source, bootstrap_servers)
    typer.echo(render(auditor.disclosures(participant), form))


@audit_app.command("timeline")
def audit_timeline(
    participant: ParticipantOption,
    as_of: Annotated[str, typer.Option("--as-of", help="ISO 8601 time (UTC if no zone)")],
    as_seen_by: Annotated[str | None, typer.Option("--as-seen-by", help="agency id")] = None,
    config: ConfigOption = None,
    source: SourceOption = "archive",
    bootstrap_servers: BootstrapOption = None,
    fmt: FormatOption = "table",
) -> None:
    """What had happened to a participant by a moment (by the hub's recorded time), and
    what one agency could see of it then."""
    from consumers.auditor import render

    moment, form = _moment(as_of), _format(fmt)
    auditor = _auditor(config, source, bootstrap_servers)
    typer.echo(render(auditor.timeline(participant, moment, as_seen_by), form))


@audit_app.command("prove")
def audit_prove(
    decision: Annotated[str | None, typer.Option(help="decision id: its inclusion proof")] = None,
    since: Annotated[
        int | None, typer.Option(help="tree size: consistency proof to the latest checkpoint")
    ] = None,
    config: ConfigOption = None,
    source: SourceOption = "archive",
    bootstrap_servers: BootstrapOption = None,
) -> None:
    """Serve a proof against the latest signed checkpoint, as JSON (RFC 9162 hashes in
    base64), with the checkpoint note, for anyone to check on their own."""
    if (decision is None) == (since is None):
        raise HubError("give exactly one of --decision or --since")
    auditor = _auditor(config, source, bootstrap_servers)
    proof = auditor.prove(decision=decision, since=since)
    typer.echo(json.dumps(proof, indent=2))


@audit_app.command("witness")
def audit_witness(
    agency: Annotated[str, typer.Option(help="the witnessing agency (its signing key)")],
    config: ConfigOption = None,
    bootstrap_servers: BootstrapOption = None,
) -> None:
    """As an agency, cosign the newest checkpoint if it extends the last one this agency
    cosigned, and publish the cosignature to lead.checkpoints."""
    from consumers.auditor import witness

    settings = _settings(config)
    servers = _bootstrap(settings, bootstrap_servers)
    size = witness(settings, servers, agency)
    typer.echo(
        f"{agency}: cosigned checkpoint {size}" if size else f"{agency}: nothing new to cosign"
    )


@app.command()
def erase(
    participant: ParticipantOption,
    basis: Annotated[str, typer.Option(help="EXPUNGEMENT, RETENTION_ENDED or ...")],
    authorised_by: Annotated[str, typer.Option(help="pseudonymous administrator id")],
    config: ConfigOption = None,
    bootstrap_servers: BootstrapOption = None,
) -> None:
    """Erase a participant (expungement, end of retention): the hub publishes
    participant_erased and its worker destroys the data key, so the identity in every copy
    of the log can no longer be decrypted, while the log still replays and proves."""
    from consumers.auditor import erasure_basis, publish_erasure

    lawful = erasure_basis(basis)
    settings = _settings(config)
    servers = _bootstrap(settings, bootstrap_servers)
    event_id = publish_erasure(settings, servers, participant, lawful, authorised_by)
    typer.echo(f"participant_erased {event_id} published for {participant}")
