"""The agency registry: who may publish, which event types each may emit, and their keys."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from hub.errors import DeploymentError
from hub.yamlfile import load_yaml_model

AGENCY_ID = r"^[a-z][a-z0-9_]{1,15}$"


class Agency(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    role: str = Field(min_length=1)
    emits: frozenset[str]


class AgenciesFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int
    agencies: dict[str, Agency]


class AgencyRegistry(Mapping[str, Agency]):
    """Read-only view of deploy/agencies.yaml; agencies are configuration, never code."""

    def __init__(self, agencies: Mapping[str, Agency]) -> None:
        bad = [a for a in agencies if not re.fullmatch(AGENCY_ID, a)]
        if bad:
            raise DeploymentError(f"agency id {bad[0]!r} must match {AGENCY_ID}")
        self._agencies = dict(agencies)

    @classmethod
    def load(cls, path: Path) -> AgencyRegistry:
        return cls(load_yaml_model(path, AgenciesFile).agencies)

    def may_emit(self, agency: str, event_type: str) -> bool:
        found = self._agencies.get(agency)
        return found is not None and event_type in found.emits

    def __getitem__(self, key: str) -> Agency:
        return self._agencies[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._agencies)

    def __len__(self) -> int:
        return len(self._agencies)
