"""Who may connect to a secured embedded broker: its SCRAM-SHA-512 users, their passwords
(generated once, kept 0600 beside the broker's CA), and which of them the broker holds.

A user exists from the broker's first moment (bootstrapped into the metadata log when the
log is formatted); one added to deploy/ later is created on the running broker through the
admin API. ``<security_dir>/scram-users`` lists those the broker holds, so each is made once.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from hub.errors import BrokerError
from hub.log.access import ADMIN_USER, SCRAM
from hub.log.local_ca import write_private

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class BrokerSecurity:
    """What a secured embedded broker needs to know: the SCRAM users to create (names
    without ``User:``, e.g. the principals of deploy/acls.yaml) and which of them is the
    super user that `leadhub apply` runs as. Passwords are generated on first start and
    kept in ``<data_dir>/security/scram.json`` (0600); nobody types them."""

    users: tuple[str, ...] = ()
    admin: str = ADMIN_USER
    hosts: tuple[str, ...] = field(default=("127.0.0.1", "localhost"))

    @property
    def all_users(self) -> list[str]:
        return sorted({self.admin, *self.users})


def passwords(security_dir: Path, users: Sequence[str]) -> dict[str, str]:
    """Every user's password: those stored, and a new one for a user not stored yet (in
    ``security_dir``, which the broker has made, 0700, for its CA as well)."""
    store = security_dir / "scram.json"
    known: dict[str, str] = json.loads(store.read_text(encoding="utf-8")) if store.exists() else {}
    wanted = {u: known.get(u) or secrets.token_urlsafe(24) for u in users}
    for user in wanted:
        _check_user(user)
    if wanted != known:
        write_private(store, json.dumps({**known, **wanted}, indent=1).encode())
    return {**known, **wanted}


def format_arguments(users: Mapping[str, str]) -> list[str]:
    """Kafka's StorageTool arguments that bootstrap ``users`` into a log being formatted."""
    return [
        arg
        for user in sorted(users)
        for arg in ("--add-scram", f"{SCRAM}=[name={user},password={users[user]}]")
    ]


def formatted_with(security_dir: Path, users: Mapping[str, str]) -> None:
    """The broker's log was formatted with exactly ``users``: the users it holds now."""
    _held(security_dir).write_text("".join(f"{u}\n" for u in sorted(users)), encoding="utf-8")


def add_missing_users(
    bootstrap: Sequence[str],
    admin_kwargs: Mapping[str, object],
    security_dir: Path,
    users: Mapping[str, str],
) -> None:
    """Create, on the running broker, users it does not hold yet (an agency added to
    deploy/ since its log was formatted: format-time bootstrap runs once)."""
    from kafka.admin import KafkaAdminClient, ScramMechanism, UserScramCredentialUpsertion

    held_file = _held(security_dir)
    held = set(held_file.read_text(encoding="utf-8").split()) if held_file.exists() else set()
    missing = [u for u in sorted(users) if u not in held]
    if not missing:
        return
    admin = KafkaAdminClient(bootstrap_servers=list(bootstrap), **admin_kwargs)
    try:
        sha512 = ScramMechanism.SCRAM_SHA_512
        errors = admin.alter_user_scram_credentials(
            [UserScramCredentialUpsertion(u, sha512, users[u]) for u in missing]
        )
    finally:
        admin.close()
    failed = {u: e for u, e in errors.items() if e}
    if failed:
        user, error = next(iter(failed.items()))
        raise BrokerError(f"the broker refused SCRAM user {user!r}: {error}")
    held_file.write_text("".join(f"{u}\n" for u in sorted(held | set(missing))), encoding="utf-8")
    log.info("broker_scram_users_added", users=missing)


def _held(security_dir: Path) -> Path:
    """The SCRAM users the broker holds (created at format time or since)."""
    return security_dir / "scram-users"


def _check_user(user: str) -> None:
    """A SCRAM user name goes into StorageTool's ``name=...,password=...`` syntax and a
    principal: refuse what would break either."""
    if not user or any(c in user for c in ",=[]\"' \n*;"):
        raise BrokerError(f"{user!r} cannot be a SCRAM user name of the embedded broker")
