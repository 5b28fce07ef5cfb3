"""The ACLs a cluster needs, derived from deploy/ (agencies, topics, principals).

Pure code: nothing here talks to Kafka, so the whole access matrix can be computed,
printed and tested exhaustively without a broker. ``hub.ops.cluster`` applies it.

Every grant names one literal topic or group and says why it exists, because an ACL
nobody can explain is one nobody dares remove. Operations are Kafka's own names; READ
and WRITE imply DESCRIBE on a real broker, but DESCRIBE is granted explicitly so that the
matrix reads the same to someone who does not know that rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hub.errors import DeploymentError
from hub.events import (
    AGENCY_PLACEHOLDER,
    AUDIT,
    CHECKPOINTS,
    EVENTS,
    HUB,
    REJECTED,
    ingest_topic,
    notify_topic,
    receipts_topic,
)
from hub.yamlfile import load_yaml_model

ANY_HOST = "*"  # Kafka's "from any address": agencies connect from their own networks


class Operation(StrEnum):
    READ = "READ"
    WRITE = "WRITE"
    DESCRIBE = "DESCRIBE"


class ResourceType(StrEnum):
    TOPIC = "TOPIC"
    GROUP = "GROUP"
    TRANSACTIONAL_ID = "TRANSACTIONAL_ID"


class PatternType(StrEnum):
    LITERAL = "LITERAL"
    PREFIXED = "PREFIXED"


class Grant(BaseModel):
    """One ALLOW ACL; ``key`` is its identity, ``why`` travels with it into `leadhub plan`."""

    model_config = ConfigDict(frozen=True)

    principal: str
    resource_type: ResourceType
    name: str
    operation: Operation
    pattern: PatternType = PatternType.LITERAL
    why: str = ""

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        """Identity of the ACL on the broker (host is always any host, see ANY_HOST)."""
        return (self.principal, self.resource_type, self.pattern, self.name, self.operation)

    def render(self) -> str:
        pattern = "" if self.pattern is PatternType.LITERAL else f" ({self.pattern.lower()})"
        return (
            f"{self.principal:22} {self.operation:8} {self.resource_type.lower():5} "
            f"{self.name}{pattern}"
        )


def _principal(value: str) -> str:
    if not value.startswith("User:") or "*" in value or len(value) <= len("User:"):
        raise ValueError(f"{value!r}: a principal is User:<name>, never a wildcard")
    return value


class HubPrincipal(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    principal: str
    group: str = Field(pattern=r"^[A-Za-z0-9._-]+$")

    _check = field_validator("principal")(_principal)


def _agency_template(value: str) -> str:
    """A per-agency name: it names {agency} and grants no wildcard."""
    if AGENCY_PLACEHOLDER not in value or "*" in value:
        raise ValueError(f"{value!r} must contain {AGENCY_PLACEHOLDER} and no wildcard")
    return value


class AgencyPrincipals(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    principal: str = "User:{agency}"
    group: str = "lead.agency.{agency}"

    _templated = field_validator("principal", "group")(_agency_template)

    def principal_of(self, agency: str) -> str:
        return self.principal.replace(AGENCY_PLACEHOLDER, agency)

    def group_of(self, agency: str) -> str:
        return self.group.replace(AGENCY_PLACEHOLDER, agency)


class Auditors(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    principals: list[str] = Field(default_factory=list)

    @field_validator("principals")
    @classmethod
    def _each(cls, values: list[str]) -> list[str]:
        return [_principal(v) for v in values]


class Witnesses(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    principal: str = "User:witness.{agency}"
    agencies: list[str] = Field(default_factory=list)

    _templated = field_validator("principal")(_agency_template)

    def principal_of(self, agency: str) -> str:
        return self.principal.replace(AGENCY_PLACEHOLDER, agency)


class PrincipalsFile(BaseModel):
    """deploy/acls.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int
    hub: HubPrincipal
    agencies: AgencyPrincipals = AgencyPrincipals()
    auditors: Auditors = Auditors()
    witnesses: Witnesses = Witnesses()


def load_principals(path: Path) -> PrincipalsFile:
    return load_yaml_model(path, PrincipalsFile)


def _topic(principal: str, name: str, ops: Iterable[Operation], why: str) -> list[Grant]:
    return [Grant(principal=principal, resource_type=ResourceType.TOPIC, name=name,
                  operation=op, why=why) for op in ops]  # fmt: skip


def _group(principal: str, name: str, why: str) -> list[Grant]:
    return [
        Grant(principal=principal, resource_type=ResourceType.GROUP, name=name, operation=op,
              why=why)
        for op in (Operation.READ, Operation.DESCRIBE)
    ]  # fmt: skip


R, W, D = Operation.READ, Operation.WRITE, Operation.DESCRIBE


def hub_grants(principal: str, group: str, agencies: Iterable[str]) -> list[Grant]:
    """What the hub's processes use, topic by topic (hub/streams/worker.py, consumers/).

    faust needs nothing more: the worker disables its leader topic
    (``topic_disable_leader``), keeps no tables (so no changelog topics), repartitions
    nothing (no ``group_by`` topics) and never declares topics (``topic_allow_declare``).
    The one prefixed grant is the hub's transactional ids, ``<group>-...``: one per input
    partition (hub.streams.transactions) and the archive restore's.

    Nor a cluster grant: an idempotent producer's InitProducerId needs IDEMPOTENT_WRITE on
    the cluster *or* WRITE on any topic (KIP-679, Kafka 3.0+), and every producing
    principal has the latter (tests/integration/test_acl_matrix.py proves it on Kafka
    4.1). The hub's other readers (archiver, notary, tail) assign partitions and commit
    nowhere, so ``group`` is the only group.
    """
    everyone = sorted(agencies)
    recipients = [a for a in everyone if a != HUB]
    grants: list[Grant] = []
    for a in everyone:
        ops = (R, D, W)
        why = (
            "gatekeeper reads it; the hub publishes policy_published and participant_erased"
            if a == HUB
            else "gatekeeper reads it; `rejected redrive` re-sends the agency's own signed "
            "bytes to the topic they came from"
        )
        grants += _topic(principal, ingest_topic(a), ops, why)
    grants += _topic(principal, EVENTS, (R, W, D), "gatekeeper admits; disclosure folds")
    grants += _topic(principal, REJECTED, (R, W, D), "dead letters; learned at start")
    for a in recipients:
        grants += _topic(
            principal, notify_topic(a), (R, W, D), "sealed notices; sent ids learned at start"
        )
        grants += _topic(
            principal, receipts_topic(a), (R, W, D), "signed receipts; sent ids learned at start"
        )
    grants += _topic(principal, AUDIT, (R, W, D), "decision records; the notary reads them")
    grants += _topic(principal, CHECKPOINTS, (R, W, D), "the notary's signed checkpoints")
    grants += _group(principal, group, "faust's consumer group (the app id)")
    grants += [
        Grant(principal=principal, resource_type=ResourceType.TRANSACTIONAL_ID,
              name=f"{group}-", operation=op, pattern=PatternType.PREFIXED,
              why="a transaction per input partition and batch; the archive restore's")
        for op in (W, D)
    ]  # fmt: skip
    return grants


def agency_grants(agency: str, principals: AgencyPrincipals) -> list[Grant]:
    who = principals.principal_of(agency)
    grants = _topic(who, ingest_topic(agency), (W, D), "publishes its signed events")
    grants += _topic(who, notify_topic(agency), (R, D), "reads the notices sealed to it")
    grants += _topic(who, receipts_topic(agency), (R, D), "reads the receipts for what it sent")
    grants += _group(who, principals.group_of(agency), "its own consumer offsets")
    return grants


def desired_acls(agencies: Iterable[str], principals: PrincipalsFile) -> list[Grant]:
    """The whole access matrix, sorted, each ACL once."""
    known = sorted(agencies)
    strays = [a for a in principals.witnesses.agencies if a not in known or a == HUB]
    if strays:
        raise DeploymentError(f"acls: witness {strays[0]!r} is not an agency")
    grants = hub_grants(principals.hub.principal, principals.hub.group, known)
    for a in known:
        if a != HUB:  # the hub publishes lead.ingest.hub itself
            grants += agency_grants(a, principals.agencies)
    for auditor in principals.auditors.principals:
        for name in (EVENTS, AUDIT, CHECKPOINTS, ingest_topic(HUB)):
            grants += _topic(auditor, name, (R, D), "replays and verifies; discloses nothing")
    for a in principals.witnesses.agencies:
        who = principals.witnesses.principal_of(a)
        grants += _topic(who, AUDIT, (R, D), "rebuilds the tree to check consistency")
        grants += _topic(who, CHECKPOINTS, (R, W, D), "reads checkpoints, adds cosignatures")
    unique = {g.key: g for g in grants}
    if len(unique) != len(grants):
        raise DeploymentError("acls: two principals in deploy/acls.yaml are the same user")
    return sorted(unique.values(), key=lambda g: g.key)


def scram_users(grants: Iterable[Grant]) -> list[str]:
    """The user names (``User:`` stripped) the matrix names: the SCRAM users a secured
    broker must hold for deploy/ to work, no more."""
    return sorted({g.principal.removeprefix("User:") for g in grants})
