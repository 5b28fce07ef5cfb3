"""`make bench PROFILE=1`: py-spy on the hub worker while it drains the backlog.

Two samplers attach to the worker process for the one-worker throughput phase: one draws
the flame graph (``worker-profile.svg``), the other keeps the raw stacks
(``worker-profile.txt``), from which ``costs`` makes the table of where each event's
microseconds go. Sampling is non-blocking (the worker is never paused), at a rate low
enough to cost the worker a few per cent.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

RATE_HZ = 100

# (bucket, substrings of a stack frame): a sample goes to the bucket of its innermost
# frame that matches, so a signature made while building a notice counts as signing
BUCKETS: list[tuple[str, tuple[str, ...]]] = [
    ("Ed25519 verify", ("PublicKeys.verify",)),
    ("Ed25519 sign", ("SigningKey.sign",)),
    ("HPKE / AES-GCM seal", ("hub/crypto/sealing.py", "hub/crypto/epochs.py")),
    ("Avro encode / decode", ("hub/events/codec.py", "fastavro")),
    ("policy, consent, fold, notices", ("hub/domain/",)),
    ("Kafka client (aiokafka)", ("aiokafka/",)),
    ("event loop waiting (select)", ("selectors.py",)),
    ("hub stream adapters", ("hub/streams/",)),
    ("faust and mode", ("faust/", "mode/")),
]
OTHER = "other"


def spy() -> str | None:
    """py-spy beside this interpreter (the dev extras install it), else on the PATH."""
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


@contextmanager
def profiled(pid: int, out_dir: Path) -> Iterator[None]:
    """Sample ``pid`` while the block runs."""
    exe = spy()
    if exe is None:
        raise SystemExit("PROFILE=1 needs py-spy: make bench installs it with the dev extras")
    common = [exe, "record", "--pid", str(pid), "--rate", str(RATE_HZ), "--nonblocking"]
    samplers = [
        subprocess.Popen(
            [*common, "--format", fmt, "-o", str(out_dir / name)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for fmt, name in (("flamegraph", "worker-profile.svg"), ("raw", "worker-profile.txt"))
    ]
    try:
        yield
    finally:
        for sampler in samplers:
            sampler.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
        for sampler in samplers:
            sampler.wait(60)


def bucket(stack: list[str]) -> str:
    for frame in reversed(stack):
        for name, needles in BUCKETS:
            if any(needle in frame for needle in needles):
                return name
    return OTHER


def costs(raw: Path, events: int) -> dict[str, float]:
    """Microseconds per event, sampled, per bucket: CPU time across the worker's threads
    (the signature threads run beside the event loop), so they may add up to more than
    the wall time per event."""
    samples: Counter[str] = Counter()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            samples[bucket(stack.split(";"))] += int(count)
    per_event = 1e6 / RATE_HZ / max(1, events)
    return {name: samples[name] * per_event for name, _ in [*BUCKETS, (OTHER, ())]}


def table(us: dict[str, float], wall_us: float) -> str:
    width = max(map(len, us))
    lines = [f"{'where the time goes (sampled)'.ljust(width)}  us/event"]
    for name, value in sorted(us.items(), key=lambda kv: -kv[1]):
        lines.append(f"{name.ljust(width)}  {value:8.1f}")
    lines.append(f"{'sampled, all threads'.ljust(width)}  {sum(us.values()):8.1f}")
    lines.append(f"{'wall time per event'.ljust(width)}  {wall_us:8.1f}")
    return "\n".join(lines)
