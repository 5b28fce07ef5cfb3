"""``leadhub up`` and ``leadhub run``: the broker alone, or the whole hub."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from typing import Annotated

import typer

from hub.cli.common import BROKER_FILE, ConfigOption, app, context_from
from hub.config import Settings
from hub.context import HubContext
from hub.log import as_client, client_kwargs


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
    from hub.ops import open_broker

    overrides = {"broker": {"embedded": {"nodes": brokers}}} if brokers else {}
    hub = context_from(config, **overrides)
    settings = hub.settings
    took: list[float] = []
    with (
        open_broker(settings, hub.agencies, took.append) as bootstrap,
        _announced(settings, bootstrap),
    ):
        secured = client_kwargs(settings).get("security_protocol") == "SASL_SSL"
        how = (
            f"SASL_SSL, each principal's password and the CA in {settings.paths.kafka}/security; "
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
    # written whole, then renamed into place: a reader never finds it empty or half there
    partial = marker.with_suffix(".partial")
    partial.write_text(json.dumps({"bootstrap_servers": bootstrap}), encoding="utf-8")
    partial.replace(marker)
    try:
        yield
    finally:
        marker.unlink(missing_ok=True)


@app.command("run")
def run_hub(config: ConfigOption = None) -> None:
    """Run the hub: its broker (embedded unless a cluster is configured) and the stream
    worker (gatekeeper, disclosure), until Ctrl-C or SIGTERM."""
    from hub.ops import open_broker
    from hub.streams import run

    hub = context_from(config)
    settings = hub.settings
    with open_broker(settings, hub.agencies) as bootstrap, _announced(settings, bootstrap):
        run(HubContext(as_client(settings, bootstrap)), bootstrap)
