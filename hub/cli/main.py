"""The ``leadhub`` entry point: every area's commands registered on one root command,
and every failure a person can cause printed as one line, not a traceback.

The hub's own areas are imported here; the commands of the packages above the hub (an
agency's inbox, the log tail and dead letters, the witness, the demo) register themselves
through the ``leadhub.commands`` entry point group, so the hub never imports them. They are
loaded when ``main`` runs, not when this module is imported: they import ``hub.cli``, whose
``__init__`` imports this module, so loading them at import would meet a half-made package.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from functools import cache
from importlib.metadata import entry_points
from typing import Any

import typer

from hub.cli import audit, cluster, contract, report, running, web  # noqa: F401 (registers)
from hub.cli.common import app
from hub.errors import HubError


@cache
def _register_plugins() -> None:
    """Once per process: importing each module of the group registers its commands on ``app``."""
    for command in entry_points(group="leadhub.commands"):
        command.load()


def _fail(message: str, code: int) -> int:
    sys.stderr.write(f"leadhub: {' '.join(message.split())}\n")
    return code


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: usage mistakes and hub errors become one line on stderr, not a traceback."""
    _register_plugins()
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
