"""The composition root: the parts every entry point needs, built from settings once.

The CLI, the worker, the web server, the auditor, the report and the bench differ only in
which parts they take. Each part is loaded the first time it is asked for and then shared,
so a command that needs no keys never reads the keys directory, and no two parts of one
process can disagree about the schemas, the agencies or the policy in force."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cached_property

from hub.config import DataDir, Settings
from hub.crypto import (
    EpochSealer,
    IntakeKey,
    IntakeKeyring,
    PublicKeys,
    SigningKey,
    load_recipient_key,
    load_signing_key,
    signed_key_set,
)
from hub.domain import AgencyRegistry, Policy, load_policy
from hub.errors import DeploymentError
from hub.events import (
    HUB,
    Codec,
    DataKeyStore,
    SchemaRegistry,
    TopicSpec,
    check_topics_file,
    ingest_topic,
    load_topic_specs,
)


class HubContext:
    """One hub's configuration, contract and keys, as this process sees them."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def paths(self) -> DataDir:
        return self.settings.paths

    @cached_property
    def schemas(self) -> SchemaRegistry:
        return SchemaRegistry.load(self.settings.schemas_dir)

    @cached_property
    def codec(self) -> Codec:
        return Codec(self.schemas, self.settings.limits.max_event_bytes)

    @cached_property
    def agencies(self) -> AgencyRegistry:
        return AgencyRegistry.load(self.settings.agencies_file)

    @property
    def recipients(self) -> list[str]:
        """Every agency a notice can go to: all but the hub itself."""
        return [a for a in self.agencies if a != HUB]

    @cached_property
    def topics(self) -> list[TopicSpec]:
        """deploy/topics.yaml for these agencies, as this hub creates them."""
        check_topics_file(self.settings.topics_file)
        rf = self.settings.broker.replication_factor
        return load_topic_specs(self.settings.topics_file, self.agencies, rf)

    def topic(self, name: str) -> TopicSpec:
        return next(s for s in self.topics if s.name == name)

    @cached_property
    def intake_keys(self) -> IntakeKeyring:
        """The keys agencies seal identity to. An epoch's key is destroyed once every ingest
        topic has dropped what was published in it, so nothing sealed to it opens again."""
        retention = [
            int(self.topic(ingest_topic(a)).configs.get("retention.ms", "-1"))
            for a in self.agencies
        ]
        if min(retention) < 0:
            raise DeploymentError(
                f"{self.settings.topics_file}: the ingest topics keep records forever "
                "(retention.ms -1), so no intake key could ever be destroyed: give them a "
                "retention"
            )
        return IntakeKeyring(
            self.paths.intake,
            timedelta(days=self.settings.intake.epoch_days),
            timedelta(milliseconds=max(retention)),
        )

    def intake_key_set(self) -> tuple[list[IntakeKey], str]:
        """The intake keys the hub holds, newest first (this epoch's made if need be), and
        the same as the signed note agencies check them with (docs/protocol.md 16.2)."""
        self.intake_keys.current(datetime.now(UTC))
        keys = self.intake_keys.held()
        return keys, signed_key_set(self.settings.audit.origin, keys, self.hub_key.private)

    @cached_property
    def datakeys(self) -> DataKeyStore:
        """Per-participant data keys: what encrypts identities on lead.events."""
        return DataKeyStore(self.paths.datakeys)

    @cached_property
    def policy(self) -> Policy:
        """The policy file in force now (replay also reads every earlier version)."""
        return load_policy(self.settings.policy_file, self.agencies)

    @cached_property
    def public_keys(self) -> PublicKeys:
        """Every agency's signing keys, the hub's included: what verifies an event."""
        return PublicKeys.load(self.settings.keys_dir)

    @cached_property
    def hub_key(self) -> SigningKey:
        """The hub's own signing key: for its events, notices and checkpoints."""
        return load_signing_key(self.settings.keys_dir, HUB)

    def signing_key(self, agency: str) -> SigningKey:
        return load_signing_key(self.settings.keys_dir, agency)

    @cached_property
    def notice_sealer(self) -> EpochSealer:
        """Seals notices to each recipient's newest sealing key under epoch keys; one per
        process, so a worker's partitions share each recipient's epoch."""
        keys_dir = self.settings.keys_dir
        return EpochSealer({a: load_recipient_key(keys_dir, a) for a in self.recipients})
