"""``leadhub audit ...`` and ``leadhub erase``: the auditor's and the erasure commands.

Auditors read the archive by default (it outlives the embedded broker: after `make demo`
the broker is gone and the archive is the log); ``--source kafka`` reads a running broker.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Annotated

import typer

from hub.cli.common import (
    BootstrapOption,
    ConfigOption,
    FormatOption,
    SourceOption,
    app,
    audit_app,
    bootstrap_for,
    context_from,
    log_source,
    moment,
    render,
    table_format,
)
from hub.errors import HubError

if TYPE_CHECKING:
    from pathlib import Path

    from hub.audit import Auditor


def _participant(typed: str) -> str:
    """The id as the hub issued it, from what a person typed (case, spaces, I/L for 1, O
    for 0); refused if its check symbol fails, so a mistyped id erases or shows no one."""
    from hub.domain import read_participant_id

    participant = read_participant_id(typed)
    if participant is None:
        raise typer.BadParameter(
            f"{typed!r} is not a participant id the hub issued (P- and twelve symbols; "
            "its check symbol fails)"
        )
    return participant


ParticipantOption = Annotated[
    str, typer.Option("--participant", "-p", help="participant id", callback=_participant)
]


def _auditor(config: Path | None, source: str, bootstrap_servers: str | None) -> Auditor:
    from hub.audit import Auditor, processes_for, read_log

    where = log_source(source)
    hub = context_from(config)
    servers = bootstrap_for(hub.settings, bootstrap_servers) if where == "kafka" else []
    log = read_log(hub.settings, where, servers)
    return Auditor(hub, log, processes=processes_for(os.cpu_count()))


@audit_app.command("verify")
def audit_verify(
    config: ConfigOption = None,
    source: SourceOption = "archive",
    bootstrap_servers: BootstrapOption = None,
    fmt: FormatOption = "table",
) -> None:
    """Check the signed checkpoints and their cosignatures, every inclusion and consistency
    proof, and (from the archive) every segment and record chain. Each check is ok, FAIL or
    NOT CHECKED, and each fault is one finding at its place. Exit 0 if all is ok, 1 on a
    failure, 2 if something could not be checked."""
    from hub.audit import exit_code

    form = table_format(fmt)
    rows = _auditor(config, source, bootstrap_servers).verify()
    typer.echo(render(rows, form))
    if code := exit_code(rows):
        raise typer.Exit(code)


@audit_app.command("replay")
def audit_replay(
    config: ConfigOption = None,
    source: SourceOption = "archive",
    bootstrap_servers: BootstrapOption = None,
    fmt: FormatOption = "table",
) -> None:
    """Re-derive every decision from lead.events and the policy versions in force, and
    diff against lead.audit. Exit 1 if there is any finding."""
    form = table_format(fmt)
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
    form = table_format(fmt)
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
    when, form = moment("--as-of", as_of), table_format(fmt)
    auditor = _auditor(config, source, bootstrap_servers)
    typer.echo(render(auditor.timeline(participant, when, as_seen_by), form))


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
    from hub.audit import erasure_basis, publish_erasure

    lawful = erasure_basis(basis)
    hub = context_from(config)
    servers = bootstrap_for(hub.settings, bootstrap_servers)
    event_id = publish_erasure(hub, servers, participant, lawful, authorised_by)
    typer.echo(f"participant_erased {event_id} published for {participant}")
    held = hub.intake_keys.held()
    if held:  # what the agencies sealed to these keys still opens, with the hub's key
        last = max(k.destroyed_at for k in held)
        typer.echo(
            "copies sealed to the hub's intake keys (ingest topics, dead letters, the "
            f"archive) open until those keys are destroyed: {', '.join(k.key_id for k in held)}"
            f"; the last at {last:%Y-%m-%d %H:%M} UTC"
        )


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
    from hub.audit import exposure

    start, form = moment("--since", since), table_format(fmt)
    end = moment("--until", until) if until is not None else None
    rows = exposure(_auditor(config, source, bootstrap_servers), recipient, start, end)
    typer.echo(render(rows, form))
    people = len({r["participant"] for r in rows})
    typer.echo(f"{recipient}: {len(rows)} disclosure(s) about {people} participant(s)", err=True)
