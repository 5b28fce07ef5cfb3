"""The difference between what deploy/ declares and what a cluster holds, without a broker."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.config import load_settings
from hub.domain.agencies import AgencyRegistry
from hub.errors import DeploymentError
from hub.events.topics import check_topics_file, load_topic_specs
from hub.log.acls import desired_acls, load_principals
from hub.ops.plan import (
    Desired,
    Observed,
    ObservedTopic,
    acl_key,
    desired_state,
    diff,
    plan_lines,
    with_min_insync,
)
from tests.support.paths import DEPLOY, ROOT


@pytest.fixture(scope="module")
def desired() -> Desired:
    agencies = list(AgencyRegistry.load(DEPLOY / "agencies.yaml"))
    return Desired(
        topics=with_min_insync(load_topic_specs(DEPLOY / "topics.yaml", agencies)),
        acls=desired_acls(agencies, load_principals(DEPLOY / "acls.yaml")),
    )


def in_step(desired: Desired) -> Observed:
    topics = {
        s.name: ObservedTopic(s.name, s.partitions, s.replication_factor, dict(s.configs))
        for s in desired.topics
    }
    return Observed(topics, set(desired.acl_keys))


def test_an_empty_cluster_needs_everything(desired: Desired) -> None:
    d = diff(desired, Observed({}, set()))
    assert [s.name for s in d.create_topics] == [s.name for s in desired.topics]
    assert len(d.create_acls) == len(desired.acls)
    assert not d.delete_acls and not d.conflicts
    assert d.lines()[0].startswith("+ topic lead.ingest.")


def test_a_cluster_in_step_needs_nothing(desired: Desired) -> None:
    d = diff(desired, in_step(desired))
    assert d.topics_in_step and d.acls_in_step and not d.conflicts
    assert d.lines() == []


def test_changed_config_and_extra_topics(desired: Desired) -> None:
    observed = in_step(desired)
    events = observed.topics["lead.events"]
    observed.topics["lead.events"] = ObservedTopic(
        "lead.events", 6, 1, {**(events.configs or {}), "retention.ms": "604800000"}
    )
    observed.topics["lead.old"] = ObservedTopic("lead.old", 1, 1, {})
    observed.topics["other.team"] = ObservedTopic("other.team", 1, 1, {})
    d = diff(desired, observed)
    assert d.alter_configs == {"lead.events": {"retention.ms": ("604800000", "-1")}}
    assert d.unmanaged_topics == ["lead.old"]  # reported, never deleted; others not ours
    assert "~ topic lead.events retention.ms: 604800000 -> -1" in d.lines()


def test_unreported_configs_are_not_a_difference(desired: Desired) -> None:
    observed = in_step(desired)
    observed.topics["lead.audit"] = ObservedTopic("lead.audit", 1, 1, None)
    assert diff(desired, observed).topics_in_step


def test_partitions_and_replication_need_an_operator(desired: Desired) -> None:
    observed = in_step(desired)
    observed.topics["lead.events"] = ObservedTopic("lead.events", 3, 1, None)
    observed.topics["lead.audit"] = ObservedTopic("lead.audit", 2, 3, None)
    d = diff(desired, observed)
    assert len(d.conflicts) == 3 and not d.grow_partitions
    assert any("re-keys participants" in c for c in d.conflicts)
    assert any("cannot shrink" in c for c in d.conflicts)
    assert any("replication 3" in c for c in d.conflicts)
    grown = diff(desired, observed, grow_partitions=True)
    assert grown.grow_partitions == {"lead.events": (3, 6)}


def test_stray_acls_go_only_when_they_are_ours(desired: Desired) -> None:
    observed = in_step(desired)
    assert observed.acls is not None
    gone_agency = ("User:oldagency", "*", "TOPIC", "LITERAL", "lead.ingest.old", "WRITE", "ALLOW")
    widened = ("User:bpd", "*", "TOPIC", "LITERAL", "lead.events", "READ", "ALLOW")
    wildcard = ("User:sao", "*", "TOPIC", "PREFIXED", "lead.", "READ", "ALLOW")
    foreign = ("User:kafka-ui", "*", "TOPIC", "LITERAL", "metrics", "READ", "ALLOW")
    observed.acls.update({gone_agency, widened, wildcard, foreign})
    missing = acl_key(desired.acls[0])
    observed.acls.discard(missing)
    d = diff(desired, observed)
    assert d.create_acls == [missing]
    assert d.delete_acls == sorted([gone_agency, widened, wildcard])
    assert any(line.startswith("- acl User:bpd") for line in d.lines())


def test_unknown_acls_are_a_stated_problem(desired: Desired) -> None:
    observed = Observed(in_step(desired).topics, None, "the broker does not implement X")
    d = diff(desired, observed)
    assert d.topics_in_step and not d.acls_in_step
    assert d.lines() == ["! acls: the broker does not implement X"]


def test_three_replicas_mean_two_in_sync(desired: Desired) -> None:
    assert all("min.insync.replicas" not in s.configs for s in desired.topics)
    three = with_min_insync(s.model_copy(update={"replication_factor": 3}) for s in desired.topics)
    assert all(s.configs["min.insync.replicas"] == "2" for s in three)


def test_desired_state_follows_the_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # deploy/ paths in Settings are relative to the working directory
    config = tmp_path / "hub.yaml"
    config.write_text("broker:\n  replication_factor: 3\n")
    settings = load_settings(config)
    state = desired_state(settings, AgencyRegistry.load(settings.agencies_file))
    assert {s.replication_factor for s in state.topics} == {3}
    text = "\n".join(plan_lines(state))
    assert "min.insync.replicas=2" in text and "User:witness.opd" in text


def test_every_topic_someone_may_use_and_none_that_nobody_may(desired: Desired) -> None:
    """``per: recipient`` topics exist for each agency but the hub (which receives no
    notices), so the plan makes no topic that no ACL lets anyone read."""
    names = {s.name for s in desired.topics}
    assert "lead.ingest.hub" in names and "lead.notify.hub" not in names
    assert {f"lead.notify.{a}" for a in ("bpd", "sao", "cm", "tx")} <= names
    readable = {g.name for g in desired.acls if g.operation.name == "READ"}
    assert names <= readable


def test_topics_yaml_and_the_code_name_the_same_topics(tmp_path: Path) -> None:
    """A topic renamed in deploy/topics.yaml is one clear error (the worker checks at
    start, and so do plan and apply), naming both sides, not a StopIteration."""
    text = (DEPLOY / "topics.yaml").read_text()
    renamed = tmp_path / "topics.yaml"
    renamed.write_text(text.replace("name: lead.audit", "name: lead.decisions"))
    with pytest.raises(DeploymentError) as caught:
        check_topics_file(renamed)
    message = str(caught.value)
    assert "declares no 'lead.audit', which the hub uses" in message
    assert "declares 'lead.decisions', which no part of the hub uses" in message
    check_topics_file(DEPLOY / "topics.yaml")
