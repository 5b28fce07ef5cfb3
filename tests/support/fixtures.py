"""The fixtures every layer of the tests shares (a pytest plugin, see tests/conftest.py): the
contract loaded once, throwaway keys, one embedded broker per test session, and a
three-node cluster per test module that asks for one (its tests may kill its nodes)."""

from __future__ import annotations

import contextlib
import gc
import signal
import socket
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from hub.crypto.signing import PublicKeys, SigningKey, generate_key
from hub.domain.agencies import AgencyRegistry
from hub.events.codec import Codec
from hub.events.schemas import SchemaRegistry
from hub.events.topics import load_topic_specs
from hub.log.broker import EmbeddedBroker
from hub.log.kafka_cluster import EmbeddedCluster
from hub.ops.cluster import ensure_topics
from tests.support.paths import DEPLOY, SCHEMAS
from tests.support.stories import Story, build_story

# Tests never fail on timing: no per-example deadline and no "too slow" health check for
# hypothesis (a loaded machine runs examples slower, which says nothing about the code).
settings.register_profile("leadhub", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("leadhub")


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


@pytest.fixture(scope="module")
def kafka_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedCluster]:
    """Three combined KRaft nodes on loopback, replication 3 and min ISR 2, no topics: a
    module of its own, because its tests kill nodes and check what the log holds."""
    with EmbeddedCluster(3, data_dir=tmp_path_factory.mktemp("cluster")) as cluster:
        yield cluster


# kafka-python 3.0.12 never closes the socket of a refused connection (kafka/net/inet.py:
# sock_connect raises without sock.close()), and the traceback it keeps holds the socket to
# the end of the session, where pytest turns its ResourceWarning into an error. Its clients
# try every bootstrap server, so a test that kills a node leaks one socket per attempt:
# such tests ignore exactly that warning and close, after each test, the sockets that never
# connected (nothing else can use them).
REFUSED_SOCKETS_LEAK = [
    pytest.mark.filterwarnings("ignore:unclosed <socket.socket:ResourceWarning"),
    pytest.mark.usefixtures("refused_sockets_closed"),
]


@pytest.fixture
def refused_sockets_closed() -> Iterator[None]:
    yield
    for candidate in gc.get_objects():
        # type(), not isinstance(): the heap holds weak proxies, which raise once dead
        if type(candidate) is socket.socket and candidate.fileno() != -1:
            try:
                candidate.getpeername()
            except OSError:
                if candidate.type == socket.SOCK_STREAM and candidate.getsockname()[1] != 0:
                    with contextlib.suppress(OSError):
                        if not _listening(candidate):
                            candidate.close()


def _listening(sock: socket.socket) -> bool:
    return bool(sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN))


@pytest.fixture
def ctrl_c_reaches_children() -> Iterator[None]:
    """Children started meanwhile take SIGINT (the test's Ctrl-C) as a terminal's foreground
    job does. A test run started in the background (``make test &``) ignores SIGINT, and a
    child inherits an ignored signal: Ctrl-C would never reach it."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.fixture(scope="module")
def story(
    codec: Codec,
    agencies: AgencyRegistry,
    agency_keys: dict[str, SigningKey],
    public_keys: PublicKeys,
) -> Story:
    """A seeded program told to the hub's handlers on an in-memory bus, once per module."""
    return build_story(codec, agencies, agency_keys, public_keys)
