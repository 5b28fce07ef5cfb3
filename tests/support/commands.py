"""The command line as a user runs it: ``python -m hub`` in the repository, its output.

``leadhub`` starts the real process (integration and end-to-end tests: the process
boundary is the point there). ``leadhub_here`` runs the same entry point in this process,
its output captured the same way: a unit test of a command's arguments and messages then
costs milliseconds instead of a new interpreter's second."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from collections.abc import Mapping
from unittest import mock

from tests.support.paths import ROOT


def leadhub(
    *args: str, env: Mapping[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """``leadhub *args`` with ``env`` over this process's environment."""
    return subprocess.run(
        [sys.executable, "-m", "hub", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def leadhub_here(
    *args: str, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``leadhub *args`` through ``hub.cli.main.main`` in this process, from the
    repository's root, with ``env`` over the environment: its exit code and output."""
    from hub.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    code: int | str | None = 0
    with (
        mock.patch.dict(os.environ, dict(env or {})),
        contextlib.chdir(ROOT),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code
    returncode = code if isinstance(code, int) else (0 if code is None else 1)
    return subprocess.CompletedProcess(
        ["leadhub", *args], returncode, out.getvalue(), err.getvalue()
    )
