"""`make demo` as a user runs it (smaller): its own embedded broker and worker, the story,
the summary, and its checks against the scenario's ground truth."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.config import load_settings
from producers.demo import run_demo
from tests.conftest import ROOT

pytestmark = pytest.mark.integration


def test_the_demo_runs_and_its_checks_pass(tmp_path: Path) -> None:
    settings = load_settings(
        ROOT / "deploy" / "demo.yaml", data_dir=tmp_path, keys_dir=tmp_path / "keys"
    )
    lines: list[str] = []
    problems = run_demo(settings, participants=25, seed=11, out=lines.append)
    text = "\n".join(lines)
    assert problems == 0, text
    assert "all checks passed" in lines[-1]
    for heading in (
        "events in the canonical log",
        "notices by agency",
        "denials by reason",
        "rejections by reason",
        "holds:",
        "one participant's story",
    ):
        assert heading in text
    assert all(p.name.startswith("demo-") for p in (tmp_path / "keys").glob("*/*.key"))
