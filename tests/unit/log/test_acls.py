"""The generated ACL matrix, checked cell by cell against an independent statement of intent:
every principal x every topic and group x every Kafka operation is allowed exactly where
the design says (an agency writes only its ingest topic and reads only its notify topic)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.domain.agencies import AgencyRegistry
from hub.errors import DeploymentError
from hub.events.topics import load_topic_specs
from hub.log.acls import (
    HUB,
    Grant,
    Operation,
    PatternType,
    PrincipalsFile,
    ResourceType,
    desired_acls,
    load_principals,
)
from tests.support.paths import DEPLOY

# Every operation Kafka's authorizer knows for topics and groups, not only the ones granted.
KAFKA_OPERATIONS = [
    "READ",
    "WRITE",
    "DESCRIBE",
    "CREATE",
    "DELETE",
    "ALTER",
    "DESCRIBE_CONFIGS",
    "ALTER_CONFIGS",
    "CLUSTER_ACTION",
    "IDEMPOTENT_WRITE",
    "ALL",
]
AUDITOR = "User:auditor"
WITNESSES = ("opd", "bchd")
HUB_USER = "User:leadhub"


@pytest.fixture(scope="module")
def principals() -> PrincipalsFile:
    return load_principals(DEPLOY / "acls.yaml")


@pytest.fixture(scope="module")
def agency_ids() -> list[str]:
    return list(AgencyRegistry.load(DEPLOY / "agencies.yaml"))


@pytest.fixture(scope="module")
def grants(agency_ids: list[str], principals: PrincipalsFile) -> list[Grant]:
    return desired_acls(agency_ids, principals)


def allowed(grants: list[Grant], principal: str, rtype: str, name: str, op: str) -> bool:
    """What a Kafka authorizer holding only these ALLOW ACLs would decide, literally."""
    return any(
        g.principal == principal
        and g.resource_type == rtype
        and g.operation == op
        and (
            g.name == name
            if g.pattern is PatternType.LITERAL
            else name.startswith(g.name)
        )
        for g in grants
    )  # fmt: skip


def intended(principal: str, rtype: str, name: str, op: str, agencies: list[str]) -> bool:
    """The design (DESIGN.md, Security; deploy/acls.yaml), written out independently."""
    recipients = [a for a in agencies if a != HUB]
    reads = op in ("READ", "DESCRIBE")
    if principal == HUB_USER:
        if rtype == "GROUP":
            return name == "leadhub" and reads
        hub_topics = {f"lead.ingest.{a}" for a in agencies} | {
            f"lead.{kind}.{a}" for a in recipients for kind in ("notify", "receipts")
        }
        hub_topics |= {"lead.events", "lead.rejected", "lead.audit", "lead.checkpoints"}
        return name in hub_topics and op in ("READ", "WRITE", "DESCRIBE")
    if principal == AUDITOR:
        return (
            rtype == "TOPIC"
            and name in ("lead.events", "lead.audit", "lead.checkpoints", "lead.ingest.hub")
            and reads
        )
    for w in WITNESSES:
        if principal == f"User:witness.{w}":
            if rtype != "TOPIC":
                return False
            if name == "lead.audit":
                return reads
            return name == "lead.checkpoints" and op in ("READ", "WRITE", "DESCRIBE")
    for a in recipients:
        if principal == f"User:{a}":
            if rtype == "GROUP":
                return name == f"lead.agency.{a}" and reads
            if name == f"lead.ingest.{a}":
                return op in ("WRITE", "DESCRIBE")
            if name in (f"lead.notify.{a}", f"lead.receipts.{a}"):
                return reads
            return False
    return False


def test_matrix_is_exactly_as_intended(grants: list[Grant], agency_ids: list[str]) -> None:
    topics = [s.name for s in load_topic_specs(DEPLOY / "topics.yaml", agency_ids)]
    topics += ["lead.unknown", "lead.ingest", "__consumer_offsets", "leadhub-__assignor-__leader"]
    groups = ["leadhub", "leadhub2", *(f"lead.agency.{a}" for a in agency_ids), "lead.agency."]
    people = [HUB_USER, AUDITOR, "User:stranger", "User:hub", "User:witness.cm"]
    people += [f"User:{a}" for a in agency_ids if a != HUB]
    people += [f"User:witness.{w}" for w in WITNESSES]
    cells = wrong = 0
    mistakes: list[str] = []
    for who in people:
        for rtype, names in (("TOPIC", topics), ("GROUP", groups)):
            for name in names:
                for op in KAFKA_OPERATIONS:
                    cells += 1
                    got = allowed(grants, who, rtype, name, op)
                    if got != intended(who, rtype, name, op, agency_ids):
                        wrong += 1
                        mistakes.append(f"{who} {op} {rtype} {name}: {got}")
    assert not mistakes, mistakes[:20]
    assert cells > 5000 and wrong == 0


def test_an_agency_writes_one_topic_and_reads_its_notices_and_receipts(
    grants: list[Grant], agency_ids: list[str]
) -> None:
    for a in agency_ids:
        if a == HUB:
            continue
        mine = [g for g in grants if g.principal == f"User:{a}"]
        writes = {g.name for g in mine if g.operation is Operation.WRITE}
        reads = {g.name for g in mine if g.operation is Operation.READ}
        assert writes == {f"lead.ingest.{a}"}
        assert reads == {f"lead.notify.{a}", f"lead.receipts.{a}", f"lead.agency.{a}"}


def test_no_wildcard_and_one_prefix_only(grants: list[Grant]) -> None:
    """Every grant names one topic or group, except the hub's transactional ids: one per
    input partition, so a prefix (``leadhub-``) owned by the hub's principal alone."""
    for g in grants:
        assert "*" not in g.principal and "*" not in g.name, g
        assert g.operation.value != "ALL"
        assert g.why, f"{g.render()} says not why it exists"
        if g.pattern is not PatternType.LITERAL:
            assert g.resource_type is ResourceType.TRANSACTIONAL_ID, g
            assert (g.principal, g.name) == ("User:leadhub", "leadhub-"), g
    assert len({g.key for g in grants}) == len(grants)
    assert {g.resource_type for g in grants} == set(ResourceType)


def test_nobody_but_the_hub_writes_the_canonical_or_decision_log(grants: list[Grant]) -> None:
    for name in ("lead.events", "lead.audit", "lead.rejected"):
        writers = {g.principal for g in grants if g.name == name and g.operation is Operation.WRITE}
        assert writers == {HUB_USER}
    cosigners = {
        g.principal
        for g in grants
        if g.name == "lead.checkpoints" and g.operation is Operation.WRITE
    }
    assert cosigners == {HUB_USER, *(f"User:witness.{w}" for w in WITNESSES)}


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("version: 1\nhub: {principal: 'User:*', group: leadhub}\n", "wildcard"),
        ("version: 1\nhub: {principal: leadhub, group: leadhub}\n", "User:"),
        (
            "version: 1\nhub: {principal: 'User:leadhub', group: leadhub}\n"
            "agencies: {principal: 'User:shared'}\n",
            "{agency}",
        ),
        (
            "version: 1\nhub: {principal: 'User:leadhub', group: leadhub}\n"
            "auditors: {principals: ['User:*']}\n",
            "wildcard",
        ),
    ],
)
def test_principals_file_refuses_wildcards(tmp_path: Path, yaml_text: str, message: str) -> None:
    path = tmp_path / "acls.yaml"
    path.write_text(yaml_text)
    with pytest.raises(DeploymentError, match=r"acls\.yaml") as err:
        load_principals(path)
    assert message in str(err.value)


def test_witness_must_be_an_agency(agency_ids: list[str]) -> None:
    bad = PrincipalsFile.model_validate(
        {
            "version": 1,
            "hub": {"principal": "User:leadhub", "group": "leadhub"},
            "witnesses": {"agencies": ["nobody"]},
        }
    )
    with pytest.raises(DeploymentError, match="witness 'nobody'"):
        desired_acls(agency_ids, bad)


def test_same_user_twice_is_refused(agency_ids: list[str]) -> None:
    clash = PrincipalsFile.model_validate(
        {
            "version": 1,
            "hub": {"principal": "User:leadhub", "group": "leadhub"},
            "auditors": {"principals": ["User:leadhub"]},
        }
    )
    with pytest.raises(DeploymentError, match="same user"):
        desired_acls(agency_ids, clash)
