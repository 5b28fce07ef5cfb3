"""Notices: sealed to one recipient, signed by the hub, deterministic ids; audit records
name what was decided and never carry the values."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hub.crypto.epochs import EpochSealer
from hub.crypto.sealing import (
    SealError,
    SealingKey,
    generate_sealing_key,
    load_recipient_key,
    load_sealing_key,
    open_sealed,
    seal,
    write_sealing_key,
)
from hub.crypto.signing import PublicKeys, SigningKey, generate_key, write_key
from hub.domain.notices import build_notice, notice_id, open_notice
from hub.domain.policy import ConsentState, PolicyEvent, decide
from hub.events.codec import Codec
from hub.events.envelope import sign_event
from hub.events.errors import SignatureError
from producers.samples import sample_event
from tests.support.fakes import fake_seal
from tests.support.histories import RECIPIENTS, default_policy

POLICY = default_policy()
NOW = datetime(2026, 6, 1, 8, 30, tzinfo=UTC)
HUB = generate_key("hub", demo=True)
HUB_KEYS = PublicKeys({("hub", HUB.key_id): HUB.public})


def sealer(key: SealingKey) -> EpochSealer:
    return EpochSealer({key.agency: (key.key_id, key.public)})


def permitted(codec: Codec, key: SigningKey):  # type: ignore[no-untyped-def]
    body = sample_event("charges_held", random.Random(2), fake_seal)
    env = sign_event(body, codec=codec, key=key, participant_id="P-NOTICE0001", occurred_at=NOW)
    env = env.model_copy(update={"recorded_at": NOW + timedelta(seconds=2)})
    event = PolicyEvent(
        env.event_id,
        env.event_type,
        env.source,
        env.participant_id,
        env.recorded_at,
        body.model_dump(),
    )  # type: ignore[arg-type]
    decisions = {d.recipient: d for d in decide(event, ConsentState(), POLICY, RECIPIENTS)}
    return env, body, decisions


def test_seal_and_open() -> None:
    key = generate_sealing_key("cm", demo=True)
    sealed = seal(b"hold confirmed", key.public, b"ctx")
    assert len(sealed) == 32 + len(b"hold confirmed") + 16
    assert open_sealed(sealed, key.private, b"ctx") == b"hold confirmed"
    with pytest.raises(SealError):
        open_sealed(sealed, key.private, b"other context")
    with pytest.raises(SealError):
        open_sealed(sealed, generate_sealing_key("cm", demo=True).private, b"ctx")


def test_sealing_keys_live_beside_signing_keys(tmp_path: Path) -> None:
    signing = generate_key("opd", demo=True)
    write_key(signing, tmp_path)
    sealing = generate_sealing_key("opd", demo=True)
    write_sealing_key(sealing, tmp_path)
    assert PublicKeys.load(tmp_path).get("opd", signing.key_id) is not None
    key_id, public = load_recipient_key(tmp_path, "opd")
    assert key_id == sealing.key_id
    assert load_sealing_key(tmp_path, "opd").public.public_bytes_raw() == public.public_bytes_raw()


def test_a_permit_becomes_a_notice_only_its_recipient_can_read(
    codec: Codec, agency_keys: dict[str, SigningKey]
) -> None:
    env, body, decisions = permitted(codec, agency_keys["sao"])
    opd_key = generate_sealing_key("opd", demo=True)
    notice = build_notice(env, decisions["opd"], POLICY, sealer(opd_key), HUB)
    assert notice.notice_id == notice_id(env.event_id, "opd")
    assert notice.rule_id == "opd.client-hold-lifecycle" and notice.recipient == "opd"
    opened = open_notice(notice, opd_key, HUB_KEYS)
    assert set(opened["fields"]) == {
        "case_ref",
        "charge_category",
        "held_at",
        "intake_deadline",
        "window_days",
    }
    assert opened["fields"]["case_ref"] == body.case_ref  # type: ignore[attr-defined]
    assert opened["event_id"] == str(env.event_id)
    assert b"case_ref" not in notice.sealed  # sealed, not in clear
    with pytest.raises(SealError):
        open_notice(notice, generate_sealing_key("bpd", demo=True), HUB_KEYS)


def test_the_same_disclosure_is_the_same_notice_id(
    codec: Codec, agency_keys: dict[str, SigningKey]
) -> None:
    env, _, decisions = permitted(codec, agency_keys["sao"])
    key = generate_sealing_key("cm", demo=True)
    first = build_notice(env, decisions["cm"], POLICY, sealer(key), HUB)
    again = build_notice(env, decisions["cm"], POLICY, sealer(key), HUB)
    assert first.notice_id == again.notice_id
    assert first.epoch_id != again.epoch_id  # sealed again by another worker: same notice
    assert first.sealed != again.sealed
    assert notice_id(env.event_id, "cm") != notice_id(env.event_id, "opd")
    assert notice_id(uuid.uuid4(), "cm") != first.notice_id


def test_a_tampered_notice_is_refused(codec: Codec, agency_keys: dict[str, SigningKey]) -> None:
    env, _, decisions = permitted(codec, agency_keys["sao"])
    key = generate_sealing_key("cm", demo=True)
    notice = build_notice(env, decisions["cm"], POLICY, sealer(key), HUB)
    changes: list[dict[str, object]] = [
        {"recipient": "opd"},
        {"participant_id": "P-OTHER"},
        {"rule_id": "x"},
        {"epoch_id": uuid.uuid4()},
        {"epoch_id": None},  # read as if written without an epoch
        {"wrapped_key": notice.wrapped_key[::-1] if notice.wrapped_key else b""},
    ]
    for change in changes:
        with pytest.raises(SignatureError):
            open_notice(notice.model_copy(update=change), key, HUB_KEYS)


def test_a_deny_never_becomes_a_notice(codec: Codec, agency_keys: dict[str, SigningKey]) -> None:
    env, _, decisions = permitted(codec, agency_keys["sao"])
    assert not decisions["tx"].permit
    key = generate_sealing_key("tx", demo=True)
    with pytest.raises(ValueError, match="only a permit"):
        build_notice(env, decisions["tx"], POLICY, sealer(key), HUB)


def test_notice_encodes_with_its_schema(codec: Codec, agency_keys: dict[str, SigningKey]) -> None:
    env, _, decisions = permitted(codec, agency_keys["sao"])
    key = generate_sealing_key("cm", demo=True)
    notice = build_notice(env, decisions["cm"], POLICY, sealer(key), HUB)
    decoded = codec.decode(codec.encode("notice", notice.model_dump()), "notice")
    assert type(notice).model_validate(decoded.datum) == notice


def test_notices_to_one_recipient_share_an_epoch_and_each_opens_alone(
    codec: Codec, agency_keys: dict[str, SigningKey]
) -> None:
    """One HPKE wrap per recipient per epoch: the second notice carries the same wrapped
    key, each notice opens, and a content is bound to its own notice id. (That a notice
    opens with nothing but the recipient's key, the document's reader shows: it keeps no
    epoch key from one notice to the next.)"""
    env, _, decisions = permitted(codec, agency_keys["sao"])
    key = generate_sealing_key("cm", demo=True)
    seals = sealer(key)
    later = env.model_copy(update={"event_id": uuid.uuid4()})
    first = build_notice(env, decisions["cm"], POLICY, seals, HUB)
    second = build_notice(later, decisions["cm"], POLICY, seals, HUB)
    assert (first.epoch_id, first.wrapped_key) == (second.epoch_id, second.wrapped_key)
    assert open_notice(second, key, HUB_KEYS)["event_id"] == str(later.event_id)
    assert open_notice(first, key, HUB_KEYS)["event_id"] == str(env.event_id)
    swapped = second.model_copy(update={"sealed": first.sealed})  # re-signed by a forger
    forged = swapped.model_copy(update={"signature": HUB.sign(swapped.signing_input())})
    with pytest.raises(SealError):  # bound to its notice id, whoever signs it
        open_notice(forged, key, HUB_KEYS)
