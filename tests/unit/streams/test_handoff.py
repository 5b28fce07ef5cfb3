"""The handoff from the gatekeeper to the disclosure job of the same worker: every event
it admits to one partition is decoded once, not twice; what is handed over is what
decoding gives (``CheckedHandoff`` asserts it on every take); a policy change, sent to
every partition, is decoded by each; the handoff stays within its bound."""

from __future__ import annotations

from hub.crypto.signing import PublicKeys, SigningKey
from hub.domain import BROADCAST
from hub.domain.agencies import AgencyRegistry
from hub.events.codec import Codec
from hub.events.envelope import decode_envelope
from hub.events.topics import EVENTS
from hub.streams.handlers import Handoff
from producers.simulator import plan
from tests.support.fakes import fake_seal
from tests.support.stories import CheckedHandoff, MemoryBus, told


def test_every_event_admitted_to_one_partition_is_decoded_once(
    codec: Codec,
    agencies: AgencyRegistry,
    agency_keys: dict[str, SigningKey],
    public_keys: PublicKeys,
) -> None:
    scenario = plan(7, 12, lambda pid, event_id: fake_seal)
    bus, _ = told(MemoryBus, scenario, codec, agencies, agency_keys, public_keys)
    handoff = bus.canonical.handoff
    assert isinstance(handoff, CheckedHandoff) and handoff is bus.ingest.handoff
    on_log = [decode_envelope(o.value, codec).event_type for o in bus.topics[EVENTS]]
    single = [t for t in on_log if t not in BROADCAST]
    assert len(single) > 50 and len(single) < len(on_log)  # a policy change among them
    assert handoff.taken == len(single)
    assert handoff.take(bus.topics[EVENTS][-1].value) is None  # taken once


def test_the_handoff_keeps_only_the_newest() -> None:
    """What another worker folds is never taken here: it is pushed out, oldest first."""
    handoff = Handoff(size=2)
    decoded = [(object(), object()) for _ in range(3)]
    for n, (envelope, body) in enumerate(decoded):
        handoff.put(bytes([n]), envelope, body)  # type: ignore[arg-type]
    assert handoff.take(bytes([0])) is None
    assert handoff.take(bytes([1])) == decoded[1] and handoff.take(bytes([2])) == decoded[2]
