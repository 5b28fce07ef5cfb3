"""Epoch keys: one HPKE wrap per recipient per epoch, AES-256-GCM per notice; an epoch
ends by count, by age or by a clock set back, and only its recipient opens it."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.crypto.epochs import (
    EPOCH_NOTICES,
    EPOCH_SECONDS,
    NONCE_BYTES,
    EpochSealer,
    epoch_info,
    open_epoch_sealed,
)
from hub.crypto.sealing import SealError, generate_sealing_key, open_sealed

CM = generate_sealing_key("cm", demo=True)
OPD = generate_sealing_key("opd", demo=True)
T0 = 1_793_697_300.0


def sealer() -> EpochSealer:
    return EpochSealer({"cm": (CM.key_id, CM.public), "opd": (OPD.key_id, OPD.public)})


@given(st.binary(max_size=2048), st.binary(max_size=64))
def test_what_is_sealed_opens_to_itself_for_its_recipient_only(plain: bytes, aad: bytes) -> None:
    s = sealer().seal("cm", plain, aad, T0)
    assert s.recipient_key_id == CM.key_id
    assert len(s.wrapped_key) == 32 + 32 + 16
    assert len(s.sealed) == NONCE_BYTES + len(plain) + 16
    assert open_epoch_sealed(s.sealed, s.wrapped_key, s.epoch_id, CM.private, aad) == plain
    with pytest.raises(SealError):
        open_epoch_sealed(s.sealed, s.wrapped_key, s.epoch_id, OPD.private, aad)
    with pytest.raises(SealError):
        open_epoch_sealed(s.sealed, s.wrapped_key, s.epoch_id, CM.private, aad + b"x")


def test_the_wrapped_key_is_bound_to_its_epoch_and_holds_a_32_byte_key() -> None:
    s = sealer().seal("cm", b"hold confirmed", b"n1", T0)
    assert len(open_sealed(s.wrapped_key, CM.private, epoch_info(s.epoch_id))) == 32
    with pytest.raises(SealError):  # the same wrapped key claimed for another epoch
        open_epoch_sealed(s.sealed, s.wrapped_key, uuid.uuid4(), CM.private, b"n1")


def test_a_content_or_wrapped_key_from_another_epoch_does_not_open() -> None:
    a = sealer().seal("cm", b"first", b"n1", T0)
    b = sealer().seal("cm", b"second", b"n1", T0)  # another worker: another epoch
    assert a.epoch_id != b.epoch_id
    with pytest.raises(SealError):
        open_epoch_sealed(a.sealed, b.wrapped_key, b.epoch_id, CM.private, b"n1")
    with pytest.raises(SealError):
        open_epoch_sealed(
            a.sealed[:-1] + bytes([a.sealed[-1] ^ 1]), a.wrapped_key, a.epoch_id, CM.private, b"n1"
        )


def test_notices_of_one_epoch_share_its_wrapped_key_with_fresh_nonces() -> None:
    s = sealer()
    first = s.seal("cm", b"same content", b"n1", T0)
    second = s.seal("cm", b"same content", b"n1", T0 + 1)
    assert (first.epoch_id, first.wrapped_key) == (second.epoch_id, second.wrapped_key)
    assert first.sealed[:NONCE_BYTES] != second.sealed[:NONCE_BYTES]
    assert first.sealed != second.sealed
    other = s.seal("opd", b"same content", b"n1", T0)
    assert other.epoch_id != first.epoch_id  # one epoch per recipient
    assert other.recipient_key_id == OPD.key_id


def test_an_epoch_ends_an_hour_away_from_its_first_notice_either_way() -> None:
    s = sealer()
    first = s.seal("cm", b"x", b"", T0).epoch_id
    assert s.seal("cm", b"x", b"", T0 - 0.5).epoch_id == first  # partitions interleave times
    assert s.seal("cm", b"x", b"", T0 + EPOCH_SECONDS - 1).epoch_id == first
    later = s.seal("cm", b"x", b"", T0 + EPOCH_SECONDS).epoch_id
    assert later != first
    back = s.seal("cm", b"x", b"", T0).epoch_id  # an hour back, as after a restore
    assert back not in (first, later)


def test_an_epoch_ends_after_its_last_notice() -> None:
    s = sealer()
    ids = {s.seal("cm", b"", b"", T0).epoch_id for _ in range(EPOCH_NOTICES)}
    assert len(ids) == 1
    assert s.seal("cm", b"", b"", T0).epoch_id not in ids


def test_a_recipient_without_a_sealing_key_gets_nothing() -> None:
    with pytest.raises(KeyError):
        sealer().seal("bpd", b"x", b"", T0)
