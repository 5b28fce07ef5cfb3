"""The producers' ``leadhub demo``, registered on the hub's command line through the
``leadhub.commands`` entry point (the hub never imports this package)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hub.cli import ConfigOption, app, context_from
from hub.errors import HubError


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

    problems = run_demo(
        context_from(config), participants=participants, seed=seed, out=typer.echo, config=config
    )
    if problems:
        raise HubError(f"demo: {problems} expectation(s) not met")
