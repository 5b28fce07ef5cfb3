"""``leadhub schemas``, ``keys`` and ``policy``: the contract, the keys and the rules."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hub.cli.common import ConfigOption, app, context_from
from hub.errors import HubError

if TYPE_CHECKING:
    from hub.domain import AgencyRegistry, Policy

schemas_app = typer.Typer(no_args_is_help=True, help="The Avro event contract in schemas/.")

keys_app = typer.Typer(no_args_is_help=True, help="Agency signing keys; the hub's intake keys.")

policy_app = typer.Typer(no_args_is_help=True, help="The data-sharing policy in deploy/.")
app.add_typer(schemas_app, name="schemas")
app.add_typer(keys_app, name="keys")
app.add_typer(policy_app, name="policy")


@schemas_app.command("list")
def schemas_list(schemas_dir: Path = Path("schemas")) -> None:
    """Each subject with its category, fingerprint and released version."""
    from hub.events import SchemaRegistry, load_lock

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
    """Fail if any schema change would stop the hub reading a released version, or if
    hub/events/models.py is not what ``schemas generate`` writes from these schemas."""
    from hub.events import COMMAND, MODULE_PATH, check, render

    reports = check(schemas_dir)
    for r in reports:
        if r.status.value != "unchanged":
            typer.echo(f"{r.subject}: {r.status.value} {r.detail}".rstrip())
    bad = [r for r in reports if not r.ok]
    if bad:
        raise HubError(f"schemas check: {len(bad)} subject(s) fail the BACKWARD gate")
    if _read_text(MODULE_PATH) != render(schemas_dir):
        raise HubError(f"schemas check: {MODULE_PATH} differs from {schemas_dir}: run {COMMAND}")
    typer.echo(f"schemas check: {len(reports)} subjects, all BACKWARD compatible, models current")


@schemas_app.command("generate")
def schemas_generate(schemas_dir: Path = Path("schemas")) -> None:
    """Write hub/events/models.py, the pydantic models of the schemas (never edit it)."""
    from hub.events import MODULE_PATH, write

    typer.echo(f"{MODULE_PATH}: {'written' if write(schemas_dir) else 'up to date'}")


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


@schemas_app.command("release")
def schemas_release(schemas_dir: Path = Path("schemas")) -> None:
    """Freeze new and changed schemas as their next released version."""
    from hub.events import release

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
    from hub.crypto import generate_key, generate_sealing_key, write_key, write_sealing_key

    hub = context_from(config)
    settings, registry = hub.settings, hub.agencies
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


@keys_app.command("intake")
def keys_intake(
    config: ConfigOption = None,
    note: Annotated[bool, typer.Option(help="print the signed key set, to publish")] = False,
) -> None:
    """The intake keys the hub holds (this epoch's made if need be), newest first: what
    agencies seal identity and notes to, and when each private key is destroyed. With
    --note, the key set as the signed note GET /v1/intake-keys serves (docs/protocol.md
    16.2), for publishing where agencies without the API can fetch it."""
    keys, signed = context_from(config).intake_key_set()
    if note:
        typer.echo(signed, nl=False)
        return
    for k in keys:
        typer.echo(
            f"{k.key_id}  current {k.starts:%Y-%m-%d %H:%M} to {k.ends:%Y-%m-%d %H:%M} UTC, "
            f"destroyed at {k.destroyed_at:%Y-%m-%d %H:%M} UTC"
        )


def _policy(config: Path | None, policy_file: Path | None) -> tuple[Policy, AgencyRegistry]:
    from hub.domain import load_policy

    hub = context_from(config)
    policy = load_policy(policy_file, hub.agencies) if policy_file else hub.policy
    return policy, hub.agencies


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
    from hub.domain import RENDERERS

    if fmt not in RENDERERS:
        raise typer.BadParameter(f"must be one of {', '.join(RENDERERS)}", param_hint="--format")
    policy, agencies = _policy(config, policy_file)
    recipients = [a for a in agencies if a != "hub"]
    emits = {a: agencies[a].emits for a in agencies}
    typer.echo(RENDERERS[fmt](policy, recipients, emits), nl=False)
