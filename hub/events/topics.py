"""The hub's topics: their names, and their declaration in deploy/topics.yaml. (Making a
broker hold them is ``hub.ops.cluster.ensure_topics``.)"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from hub.errors import DeploymentError
from hub.yamlfile import load_yaml_model

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


def receipts_topic(agency: str) -> str:
    return f"lead.receipts.{agency}"


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


def known_topics() -> tuple[str, ...]:
    """Every topic the hub's code reads or writes, as deploy/topics.yaml must declare it."""
    return (
        ingest_topic(AGENCY_PLACEHOLDER),
        EVENTS,
        REJECTED,
        notify_topic(AGENCY_PLACEHOLDER),
        receipts_topic(AGENCY_PLACEHOLDER),
        AUDIT,
        CHECKPOINTS,
    )


def check_topics_file(path: Path) -> None:
    """deploy/topics.yaml declares exactly the topics the hub's code uses, or this says
    which differ (without it, a topic renamed in the file stops the worker at its start)."""
    names = [d.name for d in load_yaml_model(path, TopicsFile).topics]
    missing = [n for n in known_topics() if n not in names]
    unknown = [n for n in names if n not in known_topics()]
    if missing or unknown:
        raise DeploymentError(
            f"{path}: "
            + "; ".join(
                [f"declares no {n!r}, which the hub uses" for n in missing]
                + [f"declares {n!r}, which no part of the hub uses" for n in unknown]
            )
        )


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
