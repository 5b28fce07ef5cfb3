"""What the figures were measured on: without it a number means nothing."""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from hub.log import kafka_version

PACKAGES = ("faust-streaming", "aiokafka", "kafka-python", "fastavro", "cryptography")


def describe() -> dict[str, Any]:
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(memory_gib, 1),
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "packages": {p: metadata.version(p) for p in PACKAGES},
        "broker": f"embedded Apache Kafka {kafka_version()} (KRaft, one node)",
    }
