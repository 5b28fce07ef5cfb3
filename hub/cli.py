"""``leadhub``: the hub's command line. Every failure a person can cause prints one line."""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hub import logs
from hub.access import as_client, client_kwargs
from hub.config import Settings, load_settings
from hub.errors import HubError

if TYPE_CHECKING:
    from hub.agencies import AgencyRegistry
    from hub.policy import Policy

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="LEAD Hub: lawful, consented data sharing between LEAD agencies.",
)
schemas_app = typer.Typer(no_args_is_help=True, help="The Avro event contract in schemas/.")
keys_app = typer.Typer(no_args_is_help=True, help="Agency signing keys.")
policy_app = typer.Typer(no_args_is_help=True, help="The data-sharing policy in deploy/.")
rejected_app = typer.Typer(no_args_is_help=True, help="Dead letters on lead.rejected.")
app.add_typer(schemas_app, name="schemas")
app.add_typer(keys_app, name="keys")
app.add_typer(policy_app, name="policy")
app.add_typer(rejected_app, name="rejected")

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="YAML config file (default: $LEADHUB_CONFIG, defaults)"),
]
BROKER_FILE = "broker.json"


def _settings(config: Path | None, **overrides: Any) -> Settings:
    settings = load_settings(config, **overrides)
    logs.configure(settings.log_level)
    return settings


@app.command()
def up(
    config: ConfigOption = None,
    brokers: Annotated[
        int | None,
        typer.Option(
            min=1, max=9, help="embedded Kafka nodes (3: a replicated cluster; default: config)"
        ),
    ] = None,
) -> None:
    """Start the broker (embedded unless a cluster is configured), create the hub's topics,
    and run until Ctrl-C."""
    from hub.agencies import AgencyRegistry
    from hub.broker import open_broker

    overrides = {"broker": {"embedded": {"nodes": brokers}}} if brokers else {}
    settings = _settings(config, **overrides)
    agencies = AgencyRegistry.load(settings.agencies_file)
    took: list[float] = []
    with (
        open_broker(settings, agencies, took.append) as bootstrap,
        _announced(settings, bootstrap),
    ):
        secured = client_kwargs(settings).get("security_protocol") == "SASL_SSL"
        how = (
            f"SASL_SSL, each principal's password and the CA in {settings.data_dir / 'kafka'}"
            "/security; "
            if secured and settings.broker.is_embedded
            else ""
        )
        started = f"ready in {took[0]:.1f} s; " if took else ""
        typer.echo(f"broker ready at {','.join(bootstrap)}; {started}{how}Ctrl-C stops it")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            typer.echo("stopping")


@contextlib.contextmanager
def _announced(settings: Settings, bootstrap: list[str]) -> Iterator[None]:
    """Tell other commands (tail, rejected) on this machine where the running broker is."""
    marker = settings.data_dir / BROKER_FILE
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps({"bootstrap_servers": bootstrap}), encoding="utf-8")
    try:
        yield
    finally:
        marker.unlink(missing_ok=True)


@app.command("run")
def run_hub(config: ConfigOption = None) -> None:
    """Run the hub: its broker (embedded unless a cluster is configured) and the stream
    worker (gatekeeper, disclosure), until Ctrl-C or SIGTERM."""
    from hub.agencies import AgencyRegistry
    from hub.broker import open_broker
    from hub.streams.worker import run

    settings = _settings(config)
    agencies = AgencyRegistry.load(settings.agencies_file)
    with open_broker(settings, agencies) as bootstrap, _announced(settings, bootstrap):
        run(as_client(settings, bootstrap), bootstrap)


@app.command()
def demo(
    config: ConfigOption = Path("deploy/demo.yaml"),
    participants: Annotated[int, typer.Option(min=1, max=5000)] = 300,
    seed: int = 2026,
) -> None:
    """The hub on its embedded broker with a synthetic LEAD program: a seeded scenario of
    referrals, holds, consents, treatment and housing flows through, and the summary
    shows who was told what."""
    from producers.demo import run_demo

    settings = _settings(config)
    problems = run_demo(
        settings, participants=participants, seed=seed, out=typer.echo, config=config
    )
    if problems:
        raise HubError(f"demo: {problems} expectation(s) not met")


@schemas_app.command("list")
def schemas_list(schemas_dir: Path = Path("schemas")) -> None:
    """Each subject with its category, fingerprint and released version."""
    from hub.events.schemas import SchemaRegistry, load_lock

    registry = SchemaRegistry.load(schemas_dir)
    lock = load_lock(schemas_dir)
    typer.echo(f"{'subject':28} {'category':16} {'fingerprint':16} released")
    for schema in registry:
        versions = lock.get(schema.subject, [])
        latest = f"v{versions[-1]['version']}" if versions else "-"
        typer.echo(
            f"{schema.subject:28} {schema.category or '-':16} {schema.fingerprint.hex()} {latest}"
        )


@schemas_app.command("check")
def schemas_check(schemas_dir: Path = Path("schemas")) -> None:
    """Fail if any schema change would stop the hub reading a released version."""
    from hub.events.evolution import check

    reports = check(schemas_dir)
    for r in reports:
        if r.status.value != "unchanged":
            typer.echo(f"{r.subject}: {r.status.value} {r.detail}".rstrip())
    bad = [r for r in reports if not r.ok]
    if bad:
        raise HubError(f"schemas check: {len(bad)} subject(s) fail the BACKWARD gate")
    typer.echo(f"schemas check: {len(reports)} subjects, all BACKWARD compatible")


@schemas_app.command("release")
def schemas_release(schemas_dir: Path = Path("schemas")) -> None:
    """Freeze new and changed schemas as their next released version."""
    from hub.events.evolution import release

    try:
        done = release(schemas_dir)
    except ValueError as exc:
        raise HubError(f"schemas release refused: {exc}") from None
    typer.echo("released: " + (", ".join(done) if done else "nothing changed"))


@keys_app.command("generate")
def keys_generate(
    agency: Annotated[str, typer.Option(help="agency id, or 'all' for every agency")],
    config: ConfigOption = None,
    demo: Annotated[bool, typer.Option(help="mark as a DEMO key (local demo only)")] = False,
    keys_dir: Annotated[Path | None, typer.Option(help="default: keys_dir from config")] = None,
) -> None:
    """Generate an agency's key pairs: Ed25519 to sign what it publishes, X25519 to open the
    notices sealed to it. Private halves are written 0600 beside the public ones."""
    from hub.agencies import AgencyRegistry
    from hub.crypto.sealing import generate_sealing_key, write_sealing_key
    from hub.crypto.signing import generate_key, write_key

    settings = _settings(config)
    registry = AgencyRegistry.load(settings.agencies_file)
    targets = list(registry) if agency == "all" else [agency]
    unknown = [a for a in targets if a not in registry]
    if unknown:
        raise HubError(f"unknown agency {unknown[0]!r} (known: {', '.join(registry)})")
    for a in targets:
        pub, _ = write_key(generate_key(a, demo=demo), keys_dir or settings.keys_dir)
        seal_pub, _ = write_sealing_key(
            generate_sealing_key(a, demo=demo), keys_dir or settings.keys_dir
        )
        typer.echo(f"{a}: {pub} {seal_pub}")


def _policy(config: Path | None, policy_file: Path | None) -> tuple[Policy, AgencyRegistry]:
    from hub.agencies import AgencyRegistry
    from hub.policy import load_policy

    settings = _settings(config)
    agencies = AgencyRegistry.load(settings.agencies_file)
    return load_policy(policy_file or settings.policy_file, agencies), agencies


PolicyFileOption = Annotated[
    Path | None, typer.Option("--file", help="policy file (default: policy_file from config)")
]


@policy_app.command("check")
def policy_check(config: ConfigOption = None, policy_file: PolicyFileOption = None) -> None:
    """Validate the policy: agencies, event types, fields, notices, prohibitions."""
    policy, _ = _policy(config, policy_file)
    typer.echo(
        f"policy {policy.version}: {len(policy.rules)} rules, "
        f"{len(policy.prohibitions)} prohibitions, sha256 {policy.sha256}: OK"
    )


@policy_app.command("explain")
def policy_explain(
    config: ConfigOption = None,
    policy_file: PolicyFileOption = None,
    fmt: Annotated[str, typer.Option("--format", help="text, markdown or html")] = "text",
) -> None:
    """Print who sees what: the matrix of event types by recipient, and the fields."""
    from hub.policy.explain import RENDERERS

    if fmt not in RENDERERS:
        raise typer.BadParameter(f"must be one of {', '.join(RENDERERS)}", param_hint="--format")
    policy, agencies = _policy(config, policy_file)
    recipients = [a for a in agencies if a != "hub"]
    emits = {a: agencies[a].emits for a in agencies}
    typer.echo(RENDERERS[fmt](policy, recipients, emits), nl=False)


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
    from consumers.tail import describe, read_topics
    from hub.crypto.signing import PublicKeys
    from hub.events.codec import Codec
    from hub.events.schemas import SchemaRegistry

    settings = _settings(config)
    servers = _bootstrap(settings, bootstrap_servers)
    codec = Codec(SchemaRegistry.load(settings.schemas_dir), settings.limits.max_event_bytes)
    keys = PublicKeys.load(settings.keys_dir)
    kwargs = client_kwargs(settings)
    for record in read_topics(servers, [topic], client_kwargs=kwargs, limit=limit, follow=follow):
        d = describe(record, codec, keys)
        if as_json:
            typer.echo(json.dumps(d.as_dict(), sort_keys=True))
        else:
            typer.echo(format_row(d.as_dict()))


BootstrapOption = Annotated[
    str | None, typer.Option(help="host:port[,..]; default: the running `leadhub up`")
]
ReasonOption = Annotated[str | None, typer.Option(help="only this reason code")]


def _reason(value: str | None) -> Any:
    from hub.events.errors import Reason

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
    settings = _settings(config)
    servers = _bootstrap(settings, bootstrap_servers)
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
    settings = _settings(config)
    servers = _bootstrap(settings, bootstrap_servers)
    done = redrive(
        servers,
        settings.data_dir / "redriven.ledger",
        reason=wanted,
        dry_run=dry_run,
        client_kwargs=client_kwargs(settings),
    )
    verb = "would re-drive" if dry_run else "re-drove"
    typer.echo(f"{verb} {len(done)} record(s)")


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

    from consumers.inbox import Inbox, acknowledge_with, sync
    from hub.agencies import AgencyRegistry
    from hub.crypto.sealing import load_sealing_key
    from hub.crypto.signing import PublicKeys, load_signing_key
    from hub.events.codec import Codec
    from hub.events.schemas import SchemaRegistry

    settings = _settings(config)
    registry = AgencyRegistry.load(settings.agencies_file)
    if agency not in registry or agency == "hub":
        raise HubError(f"unknown agency {agency!r} (known: {', '.join(registry)})")
    servers = _bootstrap(settings, bootstrap_servers)
    codec = Codec(SchemaRegistry.load(settings.schemas_dir), settings.limits.max_event_bytes)
    kwargs = client_kwargs(settings, agency)
    box = Inbox.open(settings.data_dir / "inbox" / f"{agency}.jsonl")
    new = sync(
        box,
        servers,
        agency,
        load_sealing_key(settings.keys_dir, agency),
        PublicKeys.load(settings.keys_dir),
        codec,
        kwargs,
    )
    for item in box.items.values():
        if as_json:
            typer.echo(json.dumps(asdict(item), sort_keys=True))
        else:
            fields = " ".join(f"{k}={v}" for k, v in item.fields.items())
            typer.echo(
                f"{item.occurred_at[:16]}  {item.participant_id}  {item.event_type:24} {fields}"
            )
    acked = (
        acknowledge_with(box, servers, load_signing_key(settings.keys_dir, agency), codec, kwargs)
        if ack
        else 0
    )
    typer.echo(
        f"{agency}: {len(box.items)} notices ({new} new, {box.counts['duplicates']} repeats "
        f"dropped, {box.counts['invalid']} invalid), {acked} acknowledged",
        err=True,
    )


def format_row(d: dict[str, Any]) -> str:
    status = "verified" if d["ok"] else f"REJECT {d['reason']}"
    body = " ".join(f"{k}={v}" for k, v in d["body"].items() if v not in (None, [], ""))
    return (
        f"p{d['partition']}@{d['offset']:<4} {d['headers'].get('ce_type', '?'):38} "
        f"{d['source']:5} {d['participant_id']:14} {status:9} {body}"
    )


def _bootstrap(settings: Settings, explicit: str | None) -> list[str]:
    if explicit:
        return [s.strip() for s in explicit.split(",") if s.strip()]
    if settings.broker.bootstrap_servers:
        return list(settings.broker.bootstrap_servers)
    marker = settings.data_dir / BROKER_FILE
    if not marker.exists():
        raise HubError("no broker: start `leadhub up` (same --config) or pass --bootstrap-servers")
    servers: list[str] = json.loads(marker.read_text(encoding="utf-8"))["bootstrap_servers"]
    return servers


def _fail(message: str, code: int) -> int:
    sys.stderr.write(f"leadhub: {' '.join(message.split())}\n")
    return code


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: usage mistakes and hub errors become one line on stderr, not a traceback."""
    run: Callable[..., Any] = app
    try:
        result = run(args=list(argv) if argv is not None else None, standalone_mode=False)
    except HubError as exc:
        sys.exit(_fail(str(exc), 1))
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        sys.exit(_fail("interrupted", 130))
    except Exception as exc:
        # Click's usage errors (typer vendors its own click, so match by behaviour).
        if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):
            sys.exit(_fail(f"error: {exc.format_message()}", int(exc.exit_code)))
        raise
    sys.exit(result if isinstance(result, int) else 0)


# register `audit` (with `audit exposure`), `erase`, `plan`, `apply` and `web`
from hub import cli_audit, cli_breach, cli_cluster, cli_web  # noqa: E402, F401
from hub.report import cli as report_cli  # noqa: E402, F401 - registers `leadhub report`
