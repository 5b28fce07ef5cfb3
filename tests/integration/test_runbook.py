"""docs/runbook.md, executed: every `sh` block, in order, as one script (so a variable set
in one block is there in the next), in a scratch copy of deploy/ and schemas/ after a
short demo. A runbook whose commands do not work is worse than none: it fails at 3 a.m."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from tests.support.paths import ROOT

pytestmark = pytest.mark.integration
RUNBOOK = ROOT / "docs" / "runbook.md"


def sh_blocks(text: str) -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```", text, flags=re.S | re.M)


def test_the_runbook_has_a_block_for_every_procedure() -> None:
    text = RUNBOOK.read_text()
    sections = re.findall(r"^## \d+\. (.+)$", text, flags=re.M)
    assert sections[:7] == [
        "Start",
        "Stop",
        "Upgrade",
        "Restore from the archive",
        "Rotate an agency's key",
        "Respond to a suspected breach",
        "Add an agency",
    ]
    body = "\n".join(sh_blocks(text))
    for command in ("leadhub run", "kill -TERM", "audit verify", "audit exposure",
                    "audit disclosures", "audit timeline", "audit replay", "keys generate",
                    "leadhub plan", "leadhub apply", "tar -C"):  # fmt: skip
        assert command in body, command


def test_every_runbook_command_works(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    shutil.copytree(ROOT / "deploy", site / "deploy", ignore=shutil.ignore_patterns("cluster"))
    shutil.copytree(ROOT / "schemas", site / "schemas")
    (site / ".venv").symlink_to(ROOT / ".venv")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADHUB_")}

    # What `make demo` leaves behind, smaller: a hub state for the runbook to work on.
    demo = subprocess.run(
        [".venv/bin/leadhub", "demo", "--participants", "30"],
        cwd=site,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert demo.returncode == 0, demo.stdout[-2000:] + demo.stderr[-2000:]

    script = site / "runbook.sh"
    script.write_text("set -euo pipefail\n" + "\n".join(sh_blocks(RUNBOOK.read_text())))
    try:
        result = subprocess.run(
            ["bash", "-x", str(script)],
            cwd=site,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    finally:
        pid_file = site / "hub.pid"
        if pid_file.exists():  # a failed step may leave the hub running: stop it, by its pid
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid_file.read_text()), signal.SIGTERM)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert (
        out.count("in step: nothing to create, change or remove") == 3
    )  # start, upgrade, new agency
    assert "no topic or ACL change" in out
    assert "acknowledgements signed with the new key were accepted" in out
    assert re.search(r"^result\s+MATCH$", out, flags=re.M)
    assert re.search(r"^sao: \d+ disclosure\(s\) about \d+ participant\(s\)$", result.stderr, re.M)
    assert "lead.notify.peer" in out and "User:peer" in out
    assert (site / "exposure-sao.csv").read_text().startswith("disclosed_at,participant,")
