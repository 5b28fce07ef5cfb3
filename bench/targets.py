"""What `make bench` holds the hub to, each target against its figure from the same run.

Speed targets are ratios to baselines measured in the same run on the same machine (the
plain faust agent, one worker, the bare Ed25519 rate), so a slower or faster machine
moves both sides; absolute ones are latency, memory and linkage quality. Tests never
assert any of these: the table and the history are where a regression shows.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Results = dict[str, Any]


@dataclass(frozen=True)
class Target:
    measure: str
    figure: Callable[[Results], float]
    shown: str  # how the figure is printed: a format string
    at_least: float | None = None
    at_most: float | None = None

    def text(self) -> str:
        bound = self.at_least if self.at_least is not None else self.at_most
        return f"{'>=' if self.at_least is not None else '<='} {self.shown.format(bound)}"

    def met(self, value: float) -> bool:
        if self.at_least is not None and value < self.at_least:
            return False
        return self.at_most is None or value <= self.at_most


def _replay_share(r: Results) -> float:
    """Replay with every signature verified, over the bare Ed25519 rate times the cores."""
    bound = r["ed25519_verify_per_s"] * r["machine"]["cores"]
    return float(r["audit"]["replay_events_per_s"] / bound)


TARGETS = [
    Target(
        "hub, 1 worker / plain faust",
        lambda r: r["hub"]["events_per_s"] / r["plain_faust_per_s"],
        "{:.2f}x",
        at_least=2.0,
    ),
    Target(
        "hub, 2 workers / 1 worker",
        lambda r: r["hub_two_workers"]["events_per_s"] / r["hub"]["events_per_s"],
        "{:.2f}x",
        at_least=1.8,
    ),
    Target(
        "p99 publish to sealed notice at 500 ev/s",
        lambda r: r["latency"]["p99_ms"],
        "{:.0f} ms",
        at_most=50,
    ),
    Target(
        "replay + verify / (bare Ed25519 x cores)",
        _replay_share,
        "{:.0%}",
        at_least=0.8,
    ),
    Target(
        "auditor Merkle verify",
        lambda r: r["audit"]["verify_records_per_s"],
        "{:,.0f}/s",
        at_least=20_000,
    ),
    Target(
        "hub worker ready (spawn to first event)",
        lambda r: r["hub"]["ready_s"],
        "{:.1f} s",
        at_most=10,
    ),
    Target(
        "RSS, state of 100,000 participants",
        lambda r: r["memory"]["rss_mb"],
        "{:,.0f} MB",
        at_most=400,
    ),
    Target(
        "record linkage precision",
        lambda r: r["linkage"]["precision"],
        "{:.4f}",
        at_least=0.995,
    ),
    Target("record linkage recall", lambda r: r["linkage"]["recall"], "{:.4f}", at_least=0.95),
    Target(
        "record linkage per later referral",
        lambda r: r["linkage"]["ms_per_later_referral"],
        "{:.2f} ms",
        at_most=2,
    ),
]


def verdicts(r: Results) -> list[dict[str, Any]]:
    rows = []
    for t in TARGETS:
        value = t.figure(r)
        rows.append(
            {
                "measure": t.measure,
                "figure": value,
                "shown": t.shown.format(value),
                "target": t.text(),
                "pass": t.met(value),
            }
        )
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    width = max(len(row["measure"]) for row in rows)
    value = max(len(row["shown"]) for row in rows)
    target = max(len(row["target"]) for row in rows)
    lines = [f"{'target'.ljust(width)}  {'figure'.ljust(value)}  {'wanted'.ljust(target)}"]
    for row in rows:
        verdict = "PASS" if row["pass"] else "FAIL"
        lines.append(
            f"{row['measure'].ljust(width)}  {row['shown'].ljust(value)}  "
            f"{row['target'].ljust(target)}  {verdict}"
        )
    return "\n".join(lines)


def keep(history: Path, r: Results, rows: list[dict[str, Any]]) -> None:
    """One JSON line per run: when, which commit, the machine, every figure and verdict."""
    git = shutil.which("git")
    commit = (
        git
        and subprocess.run(
            [git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
    )
    line = {"started": r["started"], "commit": commit or None, "results": r, "targets": rows}
    with history.open("a") as f:
        f.write(json.dumps(line) + "\n")
