"""`make bench`'s verdicts and its profile table: pure functions of a run's figures and of
py-spy's raw stacks, so they are checked here on made-up figures (the bench itself is
never run by the tests: speed is measured, not asserted)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench import profile, targets


def figures(**changed: Any) -> dict[str, Any]:
    run: dict[str, Any] = {
        "started": "2026-12-07T00:00:00+00:00",
        "machine": {"cores": 2},
        "plain_faust_per_s": 1000.0,
        "hub": {"events_per_s": 2500.0, "ready_s": 3.0},
        "hub_two_workers": {"events_per_s": 4000.0},
        "latency": {"p99_ms": 40.0},
        "ed25519_verify_per_s": 10_000.0,
        "audit": {"replay_events_per_s": 15_000.0, "verify_records_per_s": 30_000.0},
        "memory": {"rss_mb": 350.0},
        "linkage": {"precision": 0.999, "recall": 0.99, "ms_per_later_referral": 0.1},
    }
    run.update(changed)
    return run


def verdict(rows: list[dict[str, Any]], measure: str) -> dict[str, Any]:
    return next(row for row in rows if row["measure"] == measure)


def test_each_target_is_a_ratio_or_bound_of_the_same_run() -> None:
    rows = targets.verdicts(figures())
    faust = verdict(rows, "hub, 1 worker / plain faust")
    assert (faust["figure"], faust["pass"]) == (2.5, True)
    two = verdict(rows, "hub, 2 workers / 1 worker")
    assert (two["figure"], two["pass"]) == (1.6, False)  # 4,000 / 2,500 < 1.8
    replay = verdict(rows, "replay + verify / (bare Ed25519 x cores)")
    assert (replay["figure"], replay["pass"]) == (0.75, False)  # 15,000 / (10,000 x 2)
    assert verdict(rows, "p99 publish to sealed notice at 500 ev/s")["pass"]


def test_a_bound_is_met_at_the_bound_and_missed_beyond_it() -> None:
    at = targets.verdicts(figures(latency={"p99_ms": 50.0}))
    beyond = targets.verdicts(figures(latency={"p99_ms": 50.5}))
    name = "p99 publish to sealed notice at 500 ev/s"
    assert verdict(at, name)["pass"] and not verdict(beyond, name)["pass"]
    table = targets.table(beyond)
    assert any(line.startswith(name) and line.endswith("FAIL") for line in table.splitlines())


def test_every_run_appends_one_line_to_the_history(tmp_path: Path) -> None:
    history = tmp_path / "history.jsonl"
    for p99 in (40.0, 60.0):
        run = figures(latency={"p99_ms": p99})
        targets.keep(history, run, targets.verdicts(run))
    lines = [json.loads(line) for line in history.read_text().splitlines()]
    assert [line["results"]["latency"]["p99_ms"] for line in lines] == [40.0, 60.0]
    latency = "p99 publish to sealed notice at 500 ev/s"
    assert [verdict(line["targets"], latency)["pass"] for line in lines] == [True, False]


def test_a_sample_counts_for_its_innermost_known_frame(tmp_path: Path) -> None:
    raw = tmp_path / "worker-profile.txt"
    raw.write_text(
        "run (hub/streams/steps.py:1);build_notice (hub/domain/notices.py:2);"
        "SigningKey.sign (hub/crypto/signing.py:3);sign (cryptography/x.py:4) 30\n"
        "run (hub/streams/steps.py:1);build_notice (hub/domain/notices.py:2) 10\n"
        "run (hub/streams/steps.py:1);getmany (aiokafka/consumer/consumer.py:5) 20\n"
        "main (somewhere.py:1) 40\n"
    )
    us = profile.costs(raw, events=10)
    per_sample = 1e6 / profile.RATE_HZ / 10
    assert us["Ed25519 sign"] == 30 * per_sample
    assert us["policy, consent, fold, notices"] == 10 * per_sample
    assert us["Kafka client (aiokafka)"] == 20 * per_sample
    assert us[profile.OTHER] == 40 * per_sample
    assert sum(us.values()) == 100 * per_sample
