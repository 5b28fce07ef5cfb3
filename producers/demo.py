"""The foundation demo: every event type, signed by the agency allowed to emit it, through
the embedded broker and back, decoded and verified. The stream-pipeline work grows this
into the full LEAD scenario."""

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
from hub.events.models import EncryptedField, Identity, Narrative
from hub.events.schemas import SchemaRegistry
from hub.topics import ingest_topic
from producers.sdk import Publisher

DEMO_START = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


def synthetic_participant_id(rng: random.Random) -> str:
    """A hub pseudonym; drawn from the seed so a demo run is reproducible."""
    return "P-" + "".join(rng.choice("ABCDEFGHJKMNPQRSTVWXYZ23456789") for _ in range(10))


def demo_keys(settings: Settings, agencies: AgencyRegistry) -> dict[str, SigningKey]:
    """The agencies' DEMO keys, generated on first use into the demo's keys_dir."""
    if not settings.keys_dir.resolve().is_relative_to(settings.data_dir.resolve()):
        raise DeploymentError("demo keys must live under data_dir (set keys_dir inside it)")
    keys: dict[str, SigningKey] = {}
    for agency in agencies:
        try:
            keys[agency] = load_signing_key(settings.keys_dir, agency)
        except DeploymentError:
            key = generate_key(agency, demo=True)
            write_key(key, settings.keys_dir)
            keys[agency] = key
    return keys


def run_demo(
    settings: Settings, *, participants: int, seed: int, out: Callable[[str], None]
) -> int:
    """Publish, read back, print; return how many records failed to verify."""
    from producers.samples import sample_event

    rng = random.Random(seed)
    agencies = AgencyRegistry.load(settings.agencies_file)
    codec = Codec(SchemaRegistry.load(settings.schemas_dir), settings.limits.max_event_bytes)
    keys = demo_keys(settings, agencies)
    public = PublicKeys.load(settings.keys_dir)
    datakeys = DataKeyStore(settings.data_dir / "datakeys")
    people = [synthetic_participant_id(rng) for _ in range(participants)]
    emitter = {t: next(a for a in agencies if agencies.may_emit(a, t)) for t in codec.registry.event_types}

    with open_broker(settings, agencies) as bootstrap:
        out(f"embedded broker at {bootstrap[0]}; {len(agencies)} agencies, {len(emitter)} event types")
        publishers = {
            a: Publisher(key=keys[a], codec=codec, bootstrap_servers=bootstrap,
                         client_kwargs=settings.broker.client_kwargs())
            for a in sorted(set(emitter.values()))
        }
        clock = DEMO_START
        correlation = {p: uuid.UUID(int=rng.getrandbits(128)) for p in people}
        try:
            for i, event_type in enumerate(codec.registry.event_types):
                person = people[i % len(people)]
                key_id, key = datakeys.get_or_create(person)

                def seal(plain: Identity | Narrative, person: str = person,
                         key_id: str = key_id, key: bytes = key) -> EncryptedField:
                    return seal_field(plain, participant_id=person, key_id=key_id, key=key, codec=codec)

                body = sample_event(event_type, rng, seal)
                clock += timedelta(minutes=rng.randint(5, 600))
                publishers[emitter[event_type]].publish(
                    body,
                    participant_id=person,
                    occurred_at=clock,
                    event_id=uuid.UUID(int=rng.getrandbits(128), version=4),
                    correlation_id=correlation[person],
                )
        finally:
            for p in publishers.values():
                p.close()
        published = len(codec.registry.event_types)
        out(f"published {published} signed events; reading them back:")
        read = failures = 0
        topics = [ingest_topic(a) for a in sorted(set(emitter.values()))]
        for record in read_topics(bootstrap, topics, client_kwargs=settings.broker.client_kwargs()):
            d = describe(record, codec, public)
            read += 1
            failures += 0 if d.ok else 1
            status = "verified" if d.ok else f"REJECTED {d.reason}"
            out(f"  {record.topic:18} {d.event_type:26} {d.participant_id} {status}")
        out(f"read back {read} of {published}; {read - failures} decoded and verified")
        if read != published:
            failures += published - read
    return failures
