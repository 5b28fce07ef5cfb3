"""Child processes that die with the hub: the broker JVM, the archiver, a worker. The
kernel signals them when their parent goes, whatever way it goes (SIGKILL included), so
no broker or archiver outlives a crashed hub."""

from __future__ import annotations

import ctypes
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int) -> None:
    """Runs in the child before exec: ask the kernel to SIGTERM us when the hub dies."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)
