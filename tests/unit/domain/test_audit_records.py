"""One audit record per event: every decision about it, names and never values, read back
whole; and a log written before (one record per decision) still reads."""

from __future__ import annotations

import json

import pytest

from hub.crypto.signing import SigningKey
from hub.domain.audit_records import audit_record, decisions_of, read_decisions
from hub.domain.notices import notice_id
from hub.events.codec import Codec
from hub.events.errors import UnexpectedSchema
from tests.unit.domain.test_notices import permitted


def test_one_record_holds_every_decision_about_the_event_by_name_never_value(
    codec: Codec, agency_keys: dict[str, SigningKey]
) -> None:
    env, body, decisions = permitted(codec, agency_keys["sao"])
    record = audit_record(env, list(decisions.values()))
    assert [d["recipient"] for d in record["decisions"]] == list(decisions)
    assert record["event_id"] == env.event_id and record["decided_at"] == env.recorded_at
    assert record["policy_version"] == decisions["opd"].policy_version is not None
    by_recipient = {d["recipient"]: d for d in decisions_of(record)}
    permit, deny = by_recipient["opd"], by_recipient["tx"]
    assert permit["permit"] and permit["fields_disclosed"][0] == "case_ref"
    assert not deny["permit"] and deny["reason"] == "NO_RULE" and deny["fields_disclosed"] == []
    for recipient, d in by_recipient.items():  # each whole: the event's fields and its own
        assert d["decision_id"] == notice_id(env.event_id, recipient)
        assert (d["event_id"], d["participant_id"]) == (env.event_id, env.participant_id)
    encoded = codec.encode("audit_record", record)
    assert read_decisions(codec, encoded) == decisions_of(record)
    assert body.case_ref.encode() not in encoded  # type: ignore[attr-defined]
    assert body.case_ref not in json.dumps(record, default=str)  # type: ignore[attr-defined]


def test_a_record_of_one_decision_written_before_reads_as_that_decision(
    codec: Codec, agency_keys: dict[str, SigningKey]
) -> None:
    env, _, decisions = permitted(codec, agency_keys["sao"])
    [whole] = decisions_of(audit_record(env, [decisions["opd"]]))
    legacy = codec.encode("audit_decision", whole)  # the released v1, as hubs wrote it
    assert read_decisions(codec, legacy) == [whole]


def test_another_kind_of_record_is_not_read_as_decisions(
    codec: Codec, agency_keys: dict[str, SigningKey]
) -> None:
    env, _, _ = permitted(codec, agency_keys["sao"])
    envelope = codec.encode("envelope", env.model_dump())
    with pytest.raises(UnexpectedSchema, match="expected an audit record"):
        read_decisions(codec, envelope)
