"""The foundation demo: every event type, signed by the agency allowed to emit it, through
the broker and back, decoded and verified. The stream-pipeline work grows this into the
full LEAD scenario."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from consumers.tail import describe, read_topics
from hub.agencies import AgencyRegistry
from hub.broker import open_broker
from hub.config import Settings
from hub.crypto.fields import DataKeyStore, seal_field
from hub.crypto.signing import PublicKeys, SigningKey, generate_key, load_signing_key, write_key
from hub.errors import DeploymentError
from hub.events.codec import Codec
from hub.events.envelope import SYSTEM_PARTICIPANT, Envelope
from hub.events.models import EVENT_MODELS, EncryptedField, Identity, Narrative
from hub.events.schemas import SchemaRegistry
from hub.topics import ingest_topic
from producers.samples import sample_event
from producers.sdk import Publisher

DEMO_START = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
SUMMARY_FIELDS = 4


def synthetic_participant_id(rng: random.Random) -> str:
    """A hub pseudonym, drawn from the seed so that a demo run is reproducible."""
    return "P-" + "".join(rng.choice("ABCDEFGHJKMNPQRSTVWXYZ23456789") for _ in range(10))


def demo_keys(settings: Settings, agencies: AgencyRegistry) -> dict[str, SigningKey]:
    """The agencies' DEMO keys, generated on first use, only ever under the data directory."""
    if not settings.keys_dir.resolve().is_relative_to(settings.data_dir.resolve()):
        raise DeploymentError("demo keys must live under data_dir (set keys_dir inside it)")
    keys: dict[str, SigningKey] = {}
    for agency in agencies:
        try:
            keys[agency] = load_signing_key(settings.keys_dir, agency)
        except DeploymentError:
            keys[agency] = generate_key(agency, demo=True)
            write_key(keys[agency], settings.keys_dir)
    return keys


def _publish_all(
    settings: Settings,
    bootstrap: list[str],
    codec: Codec,
    agencies: AgencyRegistry,
    participants: int,
    rng: random.Random,
) -> list[Envelope]:
    """One event of each type, in catalogue order, spread over synthetic participants."""
    keys = demo_keys(settings, agencies)
    datakeys = DataKeyStore(settings.data_dir / "datakeys")
    people = [synthetic_participant_id(rng) for _ in range(participants)]
    correlation = {p: uuid.UUID(int=rng.getrandbits(128), version=4) for p in people}
    publishers: dict[str, Publisher] = {}
    sent: list[Envelope] = []
    clock = DEMO_START
    try:
        for i, event_type in enumerate(EVENT_MODELS):
            agency = next(a for a in agencies if agencies.may_emit(a, event_type))
            if agency not in publishers:
                publishers[agency] = Publisher(
                    key=keys[agency],
                    codec=codec,
                    bootstrap_servers=bootstrap,
                    client_kwargs=settings.broker.client_kwargs(),
                )
            person = (
                SYSTEM_PARTICIPANT if event_type == "policy_published" else people[i % participants]
            )

            def seal(plain: Identity | Narrative, person: str = person) -> EncryptedField:
                key_id, key = datakeys.get_or_create(person)
                return seal_field(plain, participant_id=person, key_id=key_id, key=key, codec=codec)

            clock += timedelta(minutes=rng.randint(5, 600))
            sent.append(
                publishers[agency].publish(
                    sample_event(event_type, rng, seal),
                    participant_id=person,
                    occurred_at=clock,
                    event_id=uuid.UUID(int=rng.getrandbits(128), version=4),
                    correlation_id=correlation.get(person),
                )
            )
    finally:
        for publisher in publishers.values():
            publisher.close()
    return sent


def run_demo(
    settings: Settings, *, participants: int, seed: int, out: Callable[[str], None]
) -> int:
    """Publish, read back, print; return how many of this run's events failed to come back
    decoded and verified."""
    rng = random.Random(seed)
    agencies = AgencyRegistry.load(settings.agencies_file)
    codec = Codec(SchemaRegistry.load(settings.schemas_dir), settings.limits.max_event_bytes)
    with open_broker(settings, agencies) as bootstrap:
        out(f"broker at {bootstrap[0]}: {len(agencies)} agencies, {len(EVENT_MODELS)} event types")
        sent = _publish_all(settings, bootstrap, codec, agencies, participants, rng)
        out(f"published {len(sent)} signed events; reading them back:")
        public = PublicKeys.load(settings.keys_dir)
        mine = {str(e.event_id) for e in sent}
        topics = sorted({ingest_topic(e.source) for e in sent})
        shown_by_id = {}
        for record in read_topics(bootstrap, topics, client_kwargs=settings.broker.client_kwargs()):
            ce_id = dict(record.headers or []).get("ce_id", b"").decode()
            if ce_id in mine:  # the broker may be shared: skip what this run did not send
                shown_by_id[ce_id] = describe(record, codec, public)
        for envelope in sent:
            shown = shown_by_id.get(str(envelope.event_id))
            if shown is None:
                out(f"  {envelope.source:4} {envelope.event_type:26} MISSING")
                continue
            summary = " ".join(
                f"{k}={v}"
                for k, v in list(shown.body.items())[:SUMMARY_FIELDS]
                if v not in (None, [])
            )
            status = "verified" if shown.ok else f"REJECTED {shown.reason}"
            who = f"{shown.source:4} {shown.event_type:26} {shown.participant_id:12}"
            out(f"  {who} {status:9} {summary}")
        verified = {i for i, shown in shown_by_id.items() if shown.ok}
    out(
        f"read back {len(sent)} of {len(sent)}; {len(verified)} decoded and verified"
        if len(verified) == len(sent)
        else f"only {len(verified)} of {len(sent)} verified"
    )
    return len(sent) - len(verified)
