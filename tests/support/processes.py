"""Processes as the kernel sees them (/proc): whether one lives, waiting for it to go, the
broker JVMs under a hub, and a TLS context for a hub's own CA."""

from __future__ import annotations

import ssl
import time
from pathlib import Path


def alive(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def wait_gone(pid: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return False


def ca_of(data_dir: Path) -> ssl.SSLContext:
    """A TLS context that trusts the CA the hub made for its embedded broker."""
    return ssl.create_default_context(cafile=data_dir / "kafka" / "security" / "tls" / "ca.pem")


def broker_children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmd = (entry / "cmdline").read_bytes()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        if int(stat[1]) == pid and b"kafka.Kafka" in cmd:
            found.append(int(entry.name))
    return found
