"""`make bench`: every figure in one run, printed as a table and written as JSON.

Order: micro costs; then, on one embedded broker, the raw aiokafka passthrough, the plain
faust agent and the hub's worker on the same records; latency at a fixed load; the
auditor's replay and verification over what the hub wrote; memory with many
participants' state. Ratios compare figures from this same run only.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from contextlib import nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import baselines, clock, linkage, machine, micro, pipeline, profile, targets
from bench.workload import Record, scenario_records
from hub.config import load_settings
from hub.context import HubContext
from hub.domain import AgencyRegistry
from hub.events import TopicSpec, load_topic_specs
from hub.log import EmbeddedBroker
from hub.ops import ensure_topics
from producers.demo import demo_keys, start_worker, stop_worker

PARTICIPANTS = 1500  # about 16,000 events
LATENCY_LOAD = 500.0  # events per second, offered
LATENCY_SECONDS = 10
MEMORY_PARTICIPANTS = 100_000
CLOCK_PARTICIPANTS = 300  # the demo's city
LINKAGE_PEOPLE = 100_000
RAW_IN, RAW_OUT, FAUST_IN = "bench.raw.in", "bench.raw.out", "bench.faust.in"


def run(out_dir: Path, profiling: bool = False) -> dict[str, Any]:
    data = out_dir / "data"
    shutil.rmtree(data, ignore_errors=True)
    hub = HubContext(load_settings(data_dir=data, keys_dir=data / "keys", log_level="warning"))
    settings, agencies, codec = hub.settings, hub.agencies, hub.codec
    keys = demo_keys(settings, agencies)
    results: dict[str, Any] = {"machine": machine.describe(), "started": _now()}
    say("preparing the workload (signed, encrypted scenario events)")
    records = scenario_records(codec, keys, PARTICIPANTS)
    paced = scenario_records(codec, keys, int(LATENCY_LOAD * LATENCY_SECONDS / 10.7), seed=7)
    results["workload"] = {"events": len(records), "participants": PARTICIPANTS}
    results["codec"] = micro.codec_costs(codec, records)
    results["ed25519_verify_per_s"] = micro.ed25519_verify_rate()
    with EmbeddedBroker(log_file=data / "broker.log") as broker:
        bootstrap = broker.bootstrap_servers
        specs = list(hub.topics)
        specs += [
            TopicSpec(name=t, partitions=6, replication_factor=1, configs={})
            for t in (RAW_IN, RAW_OUT, FAUST_IN, "bench.faust.out1", "bench.faust.out2")
        ]
        ensure_topics(bootstrap, specs, {})
        say(f"raw aiokafka passthrough of {len(records)} records")
        asyncio.run(baselines.produce(bootstrap, RAW_IN, records))
        raw = asyncio.run(baselines.raw_passthrough(bootstrap, RAW_IN, RAW_OUT, len(records), 6))
        results["raw_passthrough_per_s"] = raw
        say("plain faust agent: table update and fan-out to two topics")
        asyncio.run(baselines.produce(bootstrap, FAUST_IN, records))
        plain, plain_ready = baselines.plain_faust(
            bootstrap, FAUST_IN, len(records), data / "faust"
        )
        results["plain_faust_per_s"], results["plain_faust_ready_s"] = plain, plain_ready
        say("the hub worker, every guarantee on, same records as a backlog")
        results.update(one_worker(hub, bootstrap, records, paced, out_dir, profiling))
        say("auditor: read, replay and verify what the hub wrote")
        results["audit"] = pipeline.audit_rates(settings, bootstrap)
    say("two hub workers sharing the partitions, the same records as a backlog")
    results["hub_two_workers"] = two_workers(data, records, agencies)
    say(f"memory: worker state for {MEMORY_PARTICIPANTS} participants")
    results["memory"] = json.loads(
        subprocess.run(
            [sys.executable, "-m", "bench.memory", str(MEMORY_PARTICIPANTS)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    say(f"the hub's clock: ticks for a city of {CLOCK_PARTICIPANTS} participants")
    results["clock"] = clock.main(CLOCK_PARTICIPANTS)
    say(f"record linkage: {LINKAGE_PEOPLE} people, a tenth referred again, namesakes")
    results["linkage"] = linkage.main(LINKAGE_PEOPLE)
    hub = results["hub"]["events_per_s"]
    results["ratios"] = {
        "hub/raw": hub / raw,
        "hub/plain_faust": hub / plain,
        "two_workers/one": results["hub_two_workers"]["events_per_s"] / hub,
        "replay/raw_read": results["audit"]["replay_events_per_s"]
        / results["audit"]["raw_read_per_s"],
    }
    return results


def one_worker(
    hub: HubContext,
    bootstrap: list[str],
    records: Sequence[Record],
    paced: Sequence[Record],
    out_dir: Path,
    profiling: bool,
) -> dict[str, Any]:
    """One worker process: its throughput on the records as a backlog (sampled by py-spy
    when profiling), then its latency at a fixed load."""
    for topic in {r.topic for r in records}:
        asyncio.run(baselines.produce(bootstrap, topic, [r for r in records if r.topic == topic]))
    results: dict[str, Any] = {}
    spawned = time.time()
    worker = start_worker(hub.settings, bootstrap, None)
    try:
        with profile.profiled(worker.pid, out_dir) if profiling else nullcontext():
            results["hub"] = pipeline.throughput(bootstrap, records, spawned)
        if profiling:
            raw = out_dir / "worker-profile.txt"
            results["profile_us_per_event"] = profile.costs(raw, len(records))
        say(f"latency at {LATENCY_LOAD:.0f} events/s offered, {len(paced)} events")
        results["latency"] = pipeline.latency(bootstrap, hub.codec, paced, LATENCY_LOAD)
    finally:
        stop_worker(worker)
    return results


def two_workers(
    data: Path, records: Sequence[Record], agencies: AgencyRegistry
) -> dict[str, float]:
    """Scale-out on this machine: two worker processes in one consumer group on a broker
    of their own (fresh topics), the same backlog, the same keys."""
    settings = load_settings(data_dir=data / "two", keys_dir=data / "keys", log_level="warning")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with EmbeddedBroker(log_file=data / "broker-two.log") as broker:
        bootstrap = broker.bootstrap_servers
        ensure_topics(bootstrap, load_topic_specs(settings.topics_file, agencies), {})
        for topic in {r.topic for r in records}:
            asyncio.run(
                baselines.produce(bootstrap, topic, [r for r in records if r.topic == topic])
            )
        spawned = time.time()
        workers = [start_worker(settings, bootstrap, None) for _ in range(2)]
        try:
            return pipeline.throughput(bootstrap, records, spawned)
        finally:
            for worker in workers:
                stop_worker(worker)


def table(r: dict[str, Any]) -> str:
    m, lat, audit, mem = r["machine"], r["latency"], r["audit"], r["memory"]
    rows = [
        (
            "machine",
            f"{m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, Python {m['python']}",
        ),
        (
            "workload",
            f"{r['workload']['events']} events, {r['workload']['participants']} participants",
        ),
        ("raw aiokafka passthrough", f"{r['raw_passthrough_per_s']:,.0f} ev/s"),
        ("plain faust (table + fan-out x2)", f"{r['plain_faust_per_s']:,.0f} ev/s"),
        ("hub, every guarantee on (1 worker)", f"{r['hub']['events_per_s']:,.0f} ev/s"),
        ("hub, 2 workers (one group)", f"{r['hub_two_workers']['events_per_s']:,.0f} ev/s"),
        ("  ratio 2 workers / 1 worker", f"{r['ratios']['two_workers/one']:.2f}"),
        ("  ratio hub/raw", f"{r['ratios']['hub/raw']:.3f}"),
        ("  ratio hub/plain faust", f"{r['ratios']['hub/plain_faust']:.2f}"),
        ("hub worker ready (spawn to first event)", f"{r['hub']['ready_s']:.1f} s"),
        (
            f"publish to notice at {lat['offered_per_s']:.0f} ev/s",
            f"p50 {lat['p50_ms']:.0f} ms, p99 {lat['p99_ms']:.0f} ms, "
            f"p99.9 {lat['p999_ms']:.0f} ms ({lat['notices']:.0f} notices)",
        ),
        ("auditor raw read (kafka-python)", f"{audit['raw_read_per_s']:,.0f} rec/s"),
        (
            "auditor replay (verify sig + decide)",
            f"{audit['replay_events_per_s']:,.0f} ev/s",
        ),
        ("  ratio replay/raw read", f"{r['ratios']['replay/raw_read']:.2f}"),
        (
            "auditor Merkle verify (all proofs)",
            f"{audit['verify_records_per_s']:,.0f} rec/s",
        ),
        (
            "codec decode envelope + body",
            f"{r['codec']['decode_envelope_us'] + r['codec']['decode_body_us']:.1f} us/ev",
        ),
        ("codec encode envelope", f"{r['codec']['encode_envelope_us']:.1f} us/ev"),
        ("Ed25519 verify (bare)", f"{r['ed25519_verify_per_s']:,.0f} /s"),
        (
            f"clock ticks, a city of {r['clock']['participants']} over "
            f"{r['clock']['days']:.0f} days",
            f"{r['clock']['ticks_per_partition_day']:.2f} per partition-day (every minute: "
            f"{r['clock']['ticks_per_partition_day_every_minute']}), "
            f"{r['clock']['audit_records_per_tick']:.0f} audit records each, "
            f"{r['clock']['fold_us_per_tick']:.0f} us to fold",
        ),
        (
            f"record linkage, {r['linkage']['people']:,} people",
            f"precision {r['linkage']['precision']:.4f}, recall {r['linkage']['recall']:.4f} "
            f"(linked at once {r['linkage']['recall_automatic']:.3f}), "
            f"{r['linkage']['ms_per_later_referral']:.2f} ms per referral",
        ),
        (
            f"RSS, state of {mem['participants']:,} participants",
            f"{mem['rss_mb']:,.0f} MB ({mem['events']:,} events)",
        ),
    ]
    width = max(len(a) for a, _ in rows)
    lines = [f"{'measure'.ljust(width)}  result"]
    lines += [f"{a.ljust(width)}  {b}" for a, b in rows]
    return "\n".join(lines)


def say(text: str) -> None:
    print(f"[bench {_now()}] {text}", file=sys.stderr, flush=True)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def main() -> None:
    args = sys.argv[1:]
    if args not in ([], ["--profile"]):
        raise SystemExit(f"unknown arguments {' '.join(args)!r}: python -m bench [--profile]")
    out_dir = Path(".leadhub/bench")
    started = time.monotonic()
    results = run(out_dir, profiling=args == ["--profile"])
    results["seconds"] = time.monotonic() - started
    path = out_dir / "results.json"
    path.write_text(json.dumps(results, indent=2))
    rows = targets.verdicts(results)
    targets.keep(out_dir / "history.jsonl", results, rows)
    print(table(results))
    print()
    print(targets.table(rows))
    if "profile_us_per_event" in results:
        print()
        wall_us = 1e6 / results["hub"]["events_per_s"]
        print(profile.table(results["profile_us_per_event"], wall_us))
        print(f"flame graph: {out_dir / 'worker-profile.svg'}")
    print(f"\n(written to {path} and {out_dir / 'history.jsonl'}; {results['seconds']:.0f} s)")


if __name__ == "__main__":
    main()
