"""The consumers' ``leadhub`` commands: ``tail``, ``rejected``, ``receipts``, ``inbox``,
``webhook``, ``digest`` and ``audit witness``, registered on the hub's command line through
the ``leadhub.commands`` entry point (the hub never imports this package)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from hub.cli import (
    BootstrapOption,
    ConfigOption,
    app,
    audit_app,
    bootstrap_for,
    context_from,
    settings_from,
)
from hub.errors import HubError
from hub.log import client_kwargs


@app.command()
def tail(
    topic: str,
    config: ConfigOption = None,
    bootstrap_servers: BootstrapOption = None,
    limit: Annotated[int | None, typer.Option(min=1)] = None,
    follow: bool = False,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per line")] = False,
) -> None:
    """Show a topic's records decoded, with CloudEvents headers and signature status.
    Identity and notes stay encrypted."""
    from consumers.tail import describe
    from hub.log import read_topics

    hub = context_from(config)
    servers = bootstrap_for(hub.settings, bootstrap_servers)
    kwargs = client_kwargs(hub.settings)
    for record in read_topics(servers, [topic], client_kwargs=kwargs, limit=limit, follow=follow):
        d = describe(record, hub.codec, hub.public_keys)
        if as_json:
            typer.echo(json.dumps(d.as_dict(), sort_keys=True))
        else:
            typer.echo(format_row(d.as_dict()))


def format_row(d: dict[str, Any]) -> str:
    status = "verified" if d["ok"] else f"REJECT {d['reason']}"
    body = " ".join(f"{k}={v}" for k, v in d["body"].items() if v not in (None, [], ""))
    return (
        f"p{d['partition']}@{d['offset']:<4} {d['headers'].get('ce_type', '?'):38} "
        f"{d['source']:5} {d['participant_id']:14} {status:9} {body}"
    )


rejected_app = typer.Typer(no_args_is_help=True, help="Dead letters on lead.rejected.")
app.add_typer(rejected_app, name="rejected")

ReasonOption = Annotated[str | None, typer.Option(help="only this reason code")]


def _reason(value: str | None) -> Any:
    from hub.events import Reason

    if value is None:
        return None
    try:
        return Reason(value.upper())
    except ValueError:
        known = ", ".join(r.value for r in Reason)
        raise typer.BadParameter(
            f"unknown reason (known: {known})", param_hint="--reason"
        ) from None


@rejected_app.command("list")
def rejected_list(
    config: ConfigOption = None,
    bootstrap_servers: BootstrapOption = None,
    reason: ReasonOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per line")] = False,
) -> None:
    """Every refused record: reason, detail, where it came from, when."""
    from consumers.rejected import dead_letters

    wanted = _reason(reason)
    settings = settings_from(config)
    servers = bootstrap_for(settings, bootstrap_servers)
    for d in dead_letters(servers, client_kwargs(settings)):
        r = d.rejection
        if wanted is not None and r.reason is not wanted:
            continue
        row = {
            "id": str(r.rejection_id),
            "reason": r.reason.value,
            "detail": r.detail,
            "topic": r.topic,
            "partition": r.partition,
            "offset": r.offset,
            "rejected_at": r.rejected_at.isoformat(),
            "bytes": len(d.value or b""),
        }
        if as_json:
            typer.echo(json.dumps(row, sort_keys=True))
        else:
            typer.echo(
                f"{row['rejected_at']}  {r.topic}:{r.partition}@{r.offset}  "
                f"{r.reason.value:18} {r.detail}"
            )


@rejected_app.command("redrive")
def rejected_redrive(
    config: ConfigOption = None,
    bootstrap_servers: BootstrapOption = None,
    reason: ReasonOption = None,
    dry_run: Annotated[bool, typer.Option(help="say what would be re-driven")] = False,
) -> None:
    """Send dead letters back through the gatekeeper, each at most once."""
    from consumers.rejected import redrive

    wanted = _reason(reason)
    settings = settings_from(config)
    servers = bootstrap_for(settings, bootstrap_servers)
    done = redrive(
        servers,
        settings.paths.redriven,
        reason=wanted,
        dry_run=dry_run,
        client_kwargs=client_kwargs(settings),
    )
    verb = "would re-drive" if dry_run else "re-drove"
    typer.echo(f"{verb} {len(done)} record(s)")


@app.command()
def receipts(
    agency: str,
    config: ConfigOption = None,
    bootstrap_servers: BootstrapOption = None,
    since: Annotated[str | None, typer.Option(help="ISO 8601 time (UTC if no zone)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per line")] = False,
) -> None:
    """An agency's receipts, read as the agency reads them: for each record it put on its
    ingest topic, accepted (and where on lead.events) or rejected (the reason and detail),
    each checked against the hub's signature."""
    from datetime import UTC, datetime

    from hub.log import ReceiptReader

    hub = context_from(config)
    settings = hub.settings
    if agency not in hub.recipients:
        raise HubError(f"unknown agency {agency!r} (known: {', '.join(hub.recipients)})")
    try:
        start = datetime.fromisoformat(since) if since else None
    except ValueError:
        raise HubError(f"--since: not an ISO 8601 time: {since!r}") from None
    if start is not None and start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    reader = ReceiptReader(
        agency,
        codec=hub.codec,
        hub_keys=hub.public_keys,
        bootstrap_servers=bootstrap_for(settings, bootstrap_servers),
        client_kwargs=client_kwargs(settings, agency),
    )
    counts = {"ACCEPTED": 0, "REJECTED": 0, "unsigned": 0}
    for receipt, verified in reader.read(since=start):
        counts[receipt.status.value] += 1
        counts["unsigned"] += not verified
        if as_json:
            row = {**receipt.model_dump(mode="json", exclude={"signature"}), "verified": verified}
            typer.echo(json.dumps(row, sort_keys=True))
            continue
        where = (
            f"lead.events:{receipt.events_partition}@{receipt.events_offset}"
            if receipt.events_offset is not None
            else f"{receipt.reason} {receipt.detail}"
        )
        typer.echo(
            f"{receipt.decided_at.isoformat()[:19]}  {receipt.ingest_topic}:"
            f"{receipt.ingest_partition}@{receipt.ingest_offset}  {receipt.status.value:8} "
            f"{where}{'' if verified else '  NOT SIGNED BY THE HUB'}"
        )
    typer.echo(
        f"{agency}: {counts['ACCEPTED']} accepted, {counts['REJECTED']} rejected"
        + (f", {counts['unsigned']} NOT signed by the hub" if counts["unsigned"] else ""),
        err=True,
    )


@app.command()
def inbox(
    agency: str,
    config: ConfigOption = None,
    bootstrap_servers: BootstrapOption = None,
    ack: Annotated[bool, typer.Option(help="acknowledge every unacknowledged notice")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per line")] = False,
) -> None:
    """An agency's inbox: fetch its notices, check the hub's signature, open them with the
    agency's sealing key, keep each once; optionally acknowledge them."""
    from dataclasses import asdict
    from datetime import UTC, datetime

    from consumers.inbox import acknowledge_with, reminder_lines

    hub, box = _inbox(config, agency)
    new = _sync(hub, box, agency, bootstrap_servers)
    settings, codec = hub.settings, hub.codec
    servers = bootstrap_for(settings, bootstrap_servers)
    kwargs = client_kwargs(settings, agency)
    for item in box.items.values():
        if as_json:
            typer.echo(json.dumps(asdict(item), sort_keys=True))
        else:
            fields = " ".join(f"{k}={v}" for k, v in item.fields.items())
            typer.echo(
                f"{item.occurred_at[:16]}  {item.participant_id}  {item.event_type:24} {fields}"
            )
    if not as_json:
        for line in reminder_lines(box, datetime.now(UTC)):
            typer.echo(line)
    acked = acknowledge_with(box, servers, hub.signing_key(agency), codec, kwargs) if ack else 0
    typer.echo(
        f"{agency}: {len(box.items)} notices ({new} new, {box.counts['duplicates']} repeats "
        f"dropped, {box.counts['invalid']} invalid), {acked} acknowledged",
        err=True,
    )


def _inbox(config: Any, agency: str) -> Any:
    """The hub's context and the agency's inbox as kept on disk."""
    from consumers.inbox import Inbox

    hub = context_from(config)
    if agency not in hub.agencies or agency == "hub":
        raise HubError(f"unknown agency {agency!r} (known: {', '.join(hub.agencies)})")
    return hub, Inbox.open(hub.settings.paths.inbox(agency))


def _sync(hub: Any, box: Any, agency: str, bootstrap_servers: Any) -> int:
    """Every notice now on the agency's topic checked and opened into ``box``: how many
    were new."""
    from consumers.inbox import sync
    from hub.crypto import load_sealing_key

    settings = hub.settings
    new: int = sync(
        box,
        bootstrap_for(settings, bootstrap_servers),
        agency,
        load_sealing_key(settings.keys_dir, agency),
        hub.public_keys,
        hub.codec,
        client_kwargs(settings, agency),
    )
    return new


@app.command()
def webhook(
    agency: str,
    url: Annotated[str, typer.Option(help="the agency's HTTPS endpoint")],
    secret_file: Annotated[
        Path, typer.Option(help="the secret shared with the endpoint (HMAC-SHA256)")
    ],
    config: ConfigOption = None,
    bootstrap_servers: BootstrapOption = None,
    follow: Annotated[bool, typer.Option(help="keep delivering new notices")] = False,
    interval_s: Annotated[float, typer.Option(min=1.0)] = 10.0,
) -> None:
    """Deliver the agency's notices to its own endpoint, each once, signed, retried with
    backoff; what never succeeds goes to a dead-letter list (docs/protocol.md 17.7)."""
    import time

    from consumers.webhook import Relay, endpoint

    try:
        endpoint(url)
        secret = secret_file.read_bytes().strip()
    except (ValueError, OSError) as exc:
        raise HubError(
            str(exc) if isinstance(exc, ValueError) else f"{secret_file}: cannot read"
        ) from None
    if len(secret) < 16:
        raise HubError(f"{secret_file}: a webhook secret is at least 16 bytes")
    hub, box = _inbox(config, agency)
    where = hub.settings.paths.webhook(agency)
    relay = Relay(box, url, secret, where / "deliveries.jsonl", where / "dead.jsonl")
    while True:  # the context, the inbox and the delivery log are read once
        _sync(hub, box, agency, bootstrap_servers)
        counts = relay.deliver_pending()
        typer.echo(
            f"{agency}: {counts['delivered']} delivered, {counts['dead']} set aside "
            f"(dead letters: {where / 'dead.jsonl'})",
            err=True,
        )
        if not follow:
            return
        time.sleep(interval_s)


@app.command()
def digest(
    agency: str,
    config: ConfigOption = None,
    bootstrap_servers: BootstrapOption = None,
    day: Annotated[str | None, typer.Option(help="YYYY-MM-DD (default: yesterday)")] = None,
) -> None:
    """A day's notices for a person who does not keep a page open: each in a sentence,
    by participant, in the site's time zone, and the reminders still pending. Print it,
    or mail it from cron."""
    from datetime import UTC, date, datetime, timedelta

    from consumers.inbox import digest_lines
    from hub.web import Story

    hub, box = _inbox(config, agency)
    _sync(hub, box, agency, bootstrap_servers)
    story = Story(hub.settings.site.time_zone)
    try:
        wanted = date.fromisoformat(day) if day else datetime.now(story.zone).date() - timedelta(1)
    except ValueError:
        raise HubError(f"--day {day!r}: not a date (YYYY-MM-DD)") from None
    for line in digest_lines(box, story, wanted, datetime.now(UTC)):
        typer.echo(line)


@audit_app.command("witness")
def audit_witness(
    agency: Annotated[str, typer.Option(help="the witnessing agency (its signing key)")],
    config: ConfigOption = None,
    bootstrap_servers: BootstrapOption = None,
) -> None:
    """As an agency, cosign the newest checkpoint if it extends the last one this agency
    cosigned, and publish the cosignature to lead.checkpoints."""
    from consumers.witness import witness

    hub = context_from(config)
    size = witness(hub, bootstrap_for(hub.settings, bootstrap_servers), agency)
    typer.echo(
        f"{agency}: cosigned checkpoint {size}" if size else f"{agency}: nothing new to cosign"
    )
