"""Shared fixtures: the contract loaded once, and one embedded broker per test session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.agencies import AgencyRegistry
from hub.broker import EmbeddedBroker
from hub.crypto.signing import PublicKeys, SigningKey, generate_key
from hub.events.codec import Codec
from hub.events.schemas import SchemaRegistry
from hub.topics import ensure_topics, load_topic_specs

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "schemas"
DEPLOY = ROOT / "deploy"


@pytest.fixture(scope="session")
def registry() -> SchemaRegistry:
    return SchemaRegistry.load(SCHEMAS)


@pytest.fixture(scope="session")
def codec(registry: SchemaRegistry) -> Codec:
    return Codec(registry, max_bytes=256 * 1024)


@pytest.fixture(scope="session")
def agencies() -> AgencyRegistry:
    return AgencyRegistry.load(DEPLOY / "agencies.yaml")


@pytest.fixture(scope="session")
def agency_keys(agencies: AgencyRegistry) -> dict[str, SigningKey]:
    """Throwaway keys made for this test session only."""
    return {a: generate_key(a, demo=True) for a in agencies}


@pytest.fixture(scope="session")
def public_keys(agency_keys: dict[str, SigningKey]) -> PublicKeys:
    return PublicKeys({(k.agency, k.key_id): k.public for k in agency_keys.values()})


@pytest.fixture(scope="session")
def broker(
    tmp_path_factory: pytest.TempPathFactory, agencies: AgencyRegistry
) -> Iterator[EmbeddedBroker]:
    """The one embedded broker of this test session, with every hub topic created."""
    log_file = tmp_path_factory.mktemp("broker") / "broker.log"
    with EmbeddedBroker(log_file=log_file) as b:
        ensure_topics(b.bootstrap_servers, load_topic_specs(DEPLOY / "topics.yaml", agencies), {})
        yield b
