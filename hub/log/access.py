"""As whom each of the hub's clients connects to the broker.

Towards a cluster the operator configured, a process connects as its settings say
(``broker.security``): each process is given its own credential, as production hands
them out. Towards the embedded broker, which the hub secures itself (SASL_SSL, a SCRAM
user for every principal of deploy/acls.yaml, passwords generated once under the data
directory, hub.log.broker), a process on the hub's machine connects as the principal its job
needs and no more: the worker, the archiver and the operator's tools as the hub, `audit
--source kafka` as the auditor, `inbox AGENCY` and the simulator's agencies as that agency,
a witness as its own witness principal, `apply` as the admin. Reading that password file
takes what reading the hub's keys takes: the data directory.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from hub.config import SecuritySettings, Settings
from hub.errors import BrokerError
from hub.events import HUB
from hub.log.acls import desired_acls, load_principals, scram_users

ADMIN = "admin"  # the embedded broker's super user: topics and ACLs (`leadhub apply`)
AUDITOR = "auditor"
ADMIN_USER = "leadhub-admin"
SCRAM = "SCRAM-SHA-512"


def _user(principal: str) -> str:
    return principal.removeprefix("User:")


def scram_user(settings: Settings, who: str = HUB, *, witness: bool = False) -> str:
    """The SCRAM user of ``who``: ``admin``, ``auditor``, or an agency id (``hub`` is the
    hub itself); ``witness`` picks that agency's witness principal."""
    if who == ADMIN:
        return ADMIN_USER
    principals = load_principals(settings.acls_file)
    if who == AUDITOR:
        if not principals.auditors.principals:
            raise ValueError(f"{settings.acls_file} names no auditor principal")
        return _user(principals.auditors.principals[0])
    if witness:
        return _user(principals.witnesses.principal_of(who))
    if who == HUB:
        return _user(principals.hub.principal)
    return _user(principals.agencies.principal_of(who))


def embedded_users(settings: Settings, agencies: Iterable[str]) -> tuple[str, ...]:
    """Every SCRAM user the embedded broker needs: each principal the ACLs name."""
    return tuple(scram_users(desired_acls(list(agencies), load_principals(settings.acls_file))))


def client_kwargs(
    settings: Settings, who: str = HUB, *, witness: bool = False
) -> dict[str, object]:
    """kafka-python's (and aiokafka's) connection arguments for ``who``: what the settings
    say, when they say anything (a cluster, or a credential handed to this process);
    otherwise ``who``'s own credential on the hub's secured embedded broker."""
    configured = settings.broker.client_kwargs()
    if not settings.broker.is_embedded or settings.broker.security.protocol != "PLAINTEXT":
        return configured
    stored = stored_client_kwargs(
        settings.paths.kafka / "security", scram_user(settings, who, witness=witness)
    )
    return {**configured, **stored} if stored else configured


def as_client(settings: Settings, bootstrap: list[str], who: str = HUB) -> Settings:
    """These settings as a client of ``bootstrap`` connected as ``who``: to it, the embedded
    broker is one more cluster (the worker reads nothing but broker.security)."""
    kw = client_kwargs(settings, who)
    password = kw.get("sasl_plain_password")
    security = SecuritySettings.model_validate(
        {
            "protocol": kw["security_protocol"],
            "sasl_mechanism": kw.get("sasl_mechanism"),
            "sasl_username": kw.get("sasl_plain_username"),
            "sasl_password": str(password) if password is not None else None,
            "ssl_cafile": kw.get("ssl_cafile"),
            "ssl_certfile": kw.get("ssl_certfile"),
            "ssl_keyfile": kw.get("ssl_keyfile"),
        }
    )
    broker = settings.broker.model_copy(
        update={"bootstrap_servers": list(bootstrap), "security": security}
    )
    return settings.model_copy(update={"broker": broker})


def client_env(settings: Settings, who: str = HUB) -> dict[str, str]:
    """What makes a hub process pointed at the embedded broker as at a cluster (the demo's
    worker) connect as ``who``."""
    return security_env(client_kwargs(settings, who))


def security_env(kwargs: Mapping[str, object]) -> dict[str, str]:
    """Connection arguments as the ``LEADHUB_BROKER__SECURITY__*`` variables a hub process
    (a worker, ``leadhub apply``) reads its broker.security from."""
    names = {
        "security_protocol": "PROTOCOL",
        "sasl_mechanism": "SASL_MECHANISM",
        "sasl_plain_username": "SASL_USERNAME",
        "sasl_plain_password": "SASL_PASSWORD",
        "ssl_cafile": "SSL_CAFILE",
    }
    prefix = "LEADHUB_BROKER__SECURITY__"
    return {prefix + names[k]: str(v) for k, v in kwargs.items() if k in names}


def stored_client_kwargs(security: Path, user: str) -> dict[str, object] | None:
    """How to connect as ``user`` to the secured broker (or cluster) whose security
    directory this is (the passwords it generated, its CA: hub.log.broker keeps them there),
    for any process of the same hub; None when that broker is not secured (or never
    started)."""
    store, ca = security / "scram.json", security / "tls" / "ca.pem"
    if not (store.exists() and ca.exists()):
        return None
    passwords: dict[str, str] = json.loads(store.read_text(encoding="utf-8"))
    if user not in passwords:
        raise BrokerError(f"the embedded broker has no SCRAM user {user!r}")
    return {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": SCRAM,
        "sasl_plain_username": user,
        "sasl_plain_password": passwords[user],
        "ssl_cafile": str(ca),
    }
