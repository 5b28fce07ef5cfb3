"""Every policy version the hub ever published, kept beside the archive for replay.

A ``policy_published`` event names a version and the SHA-256 of its file; a replay years
later needs that exact file. The worker copies the policy it publishes here, named by its
hash, so the archive carries the rules with the log they governed.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from hub.domain.policy.rules import Policy, load_policy


def keep(policy_file: Path, policy: Policy, directory: Path) -> Path:
    """Copy the file under its hash (once; the hash makes any copy checkable)."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{policy.sha256}.yaml"
    if not target.exists():
        tmp = target.with_suffix(".tmp")
        tmp.write_bytes(policy_file.read_bytes())
        tmp.replace(target)
    return target


def load_all(directory: Path, agencies: Iterable[str], current: Path | None = None) -> list[Policy]:
    """Every kept version (and the current file): a copy whose bytes no longer hash to its
    name is skipped, so replay denies what it governed (NO_POLICY) and the diff shows it."""
    agencies = list(agencies)
    found: dict[str, Policy] = {}
    paths = sorted(directory.glob("*.yaml")) if directory.is_dir() else []
    for path in [*paths, *([current] if current else [])]:
        policy = load_policy(path, agencies)
        if path.parent == directory and path.stem != policy.sha256:
            continue
        found[policy.sha256] = policy
    return list(found.values())
