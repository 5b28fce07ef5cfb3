"""The hub's topics as declared in deploy/topics.yaml, and making sure a broker has them."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Literal

import structlog
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError, TopicAuthorizationFailedError
from pydantic import BaseModel, ConfigDict, Field

from hub.errors import BrokerError
from hub.yamlfile import load_yaml_model

log = structlog.get_logger(__name__)

AGENCY_PLACEHOLDER = "{agency}"
HUB = "hub"  # the hub's own agency id: it publishes (lead.ingest.hub), never receives
EVENTS = "lead.events"
REJECTED = "lead.rejected"
AUDIT = "lead.audit"
CHECKPOINTS = "lead.checkpoints"


def ingest_topic(agency: str) -> str:
    return f"lead.ingest.{agency}"


def notify_topic(agency: str) -> str:
    return f"lead.notify.{agency}"


class TopicDeclaration(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9._{}-]*$")
    # what ``{agency}`` expands to: every agency, or those that receive notices (the hub
    # itself never does, so it gets no topic nobody may read)
    per: Literal["agency", "recipient"] = "agency"
    partitions: int = Field(ge=1, le=1024)
    key: str
    doc: str
    configs: dict[str, str] = Field(default_factory=dict)


class TopicsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int
    replication_factor: int = Field(ge=1)
    defaults: dict[str, str] = Field(default_factory=dict)
    topics: list[TopicDeclaration]


class TopicSpec(BaseModel):
    """One concrete topic: a declaration with its agency placeholder filled in."""

    model_config = ConfigDict(frozen=True)

    name: str
    partitions: int
    replication_factor: int
    configs: dict[str, str]


def load_topic_specs(
    path: Path, agencies: Iterable[str], replication_factor: int | None = None
) -> list[TopicSpec]:
    """Expand the declarations for these agencies; ``replication_factor`` overrides the file's."""
    declared = load_yaml_model(path, TopicsFile)
    rf = replication_factor or declared.replication_factor
    specs: list[TopicSpec] = []
    for decl in declared.topics:
        each = sorted(a for a in agencies if decl.per == "agency" or a != HUB)
        names = (
            [decl.name.replace(AGENCY_PLACEHOLDER, a) for a in each]
            if AGENCY_PLACEHOLDER in decl.name
            else [decl.name]
        )
        configs = {**declared.defaults, **decl.configs}
        specs.extend(
            TopicSpec(name=n, partitions=decl.partitions, replication_factor=rf, configs=configs)
            for n in names
        )
    return specs


def _wait_listed(admin: KafkaAdminClient, names: list[str], timeout_s: float = 30.0) -> None:
    """Until every broker's metadata lists the topics: a topic Kafka has just created is
    not in the next metadata answer yet, and a client started then would not find it."""
    deadline = time.monotonic() + timeout_s
    while not set(names) <= set(admin.list_topics()):
        if time.monotonic() > deadline:
            missing = sorted(set(names) - set(admin.list_topics()))
            raise BrokerError(f"topics created but not listed after {timeout_s:.0f} s: {missing}")
        time.sleep(0.1)


def ensure_topics(
    bootstrap_servers: list[str], specs: list[TopicSpec], client_kwargs: Mapping[str, object]
) -> list[str]:
    """Create the topics the broker lacks; return their names. Existing topics are left as
    they are (a partition count cannot shrink, and growing it would re-key participants)."""
    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers, **client_kwargs)
    except KafkaError as exc:
        raise BrokerError(f"cannot reach Kafka at {','.join(bootstrap_servers)}: {exc}") from None
    try:
        existing = set(admin.list_topics())
        missing = [s for s in specs if s.name not in existing]
        created: list[str] = []
        for spec in missing:
            topic = NewTopic(
                spec.name, spec.partitions, spec.replication_factor, topic_configs=spec.configs
            )
            try:
                admin.create_topics([topic])
                created.append(spec.name)
            except TopicAlreadyExistsError:
                pass  # another worker created it between our listing and our request
            except TopicAuthorizationFailedError:
                raise BrokerError(
                    f"topic {spec.name} is missing, and this principal may not create it "
                    "(on a secured cluster `leadhub apply` creates the topics)"
                ) from None
        _wait_listed(admin, [s.name for s in specs])
        log.info("topics_ensured", created=len(created), existing=len(specs) - len(missing))
        return created
    finally:
        admin.close()
