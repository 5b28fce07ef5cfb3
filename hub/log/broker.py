"""The embedded broker: Apache Kafka in KRaft mode, one combined broker+controller node.

Kafka's jars come from Maven Central (hub.log.kafka_dist); the hub formats a log directory
under its data directory on first start and runs ``kafka.Kafka`` as a child JVM on free
loopback ports. The log is on disk, so it survives the hub and the broker: a restart finds
every acknowledged record where it was. The broker is still a child of the hub in every
sense: probed over the Kafka protocol until it answers, stopped by its own pid, and
signalled by the kernel if the hub dies first (PR_SET_PDEATHSIG), so no test failure,
Ctrl-C or crash leaves an orphan JVM holding a port.

With ``security=BrokerSecurity(...)`` (the hub's default, ``broker.embedded.secured``), the
broker is secured as production is: clients on SASL_SSL with SCRAM-SHA-512 users made at
format time, deny-by-default ACLs (StandardAuthorizer) from deploy/acls.yaml, and mutual
TLS on the listeners only the broker itself uses (``hub.log.server_properties``).
Tests of the broker itself that need no principals start it PLAINTEXT.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import IO

import structlog

from hub.errors import BrokerError
from hub.log import scram
from hub.log.access import security_env, stored_client_kwargs
from hub.log.children import die_with_parent
from hub.log.kafka_dist import ClassArchive, java_executable, kafka_libs
from hub.log.local_ca import BrokerTls, broker_tls, write_private
from hub.log.probe import free_port, kafka_api_versions, new_cluster_id
from hub.log.scram import BrokerSecurity
from hub.log.server_properties import (
    JVM_OPTIONS,
    LOG4J2,
    NODE_ID,
    SINGLE_NODE,
    escape,
    secured_properties,
)

log = structlog.get_logger(__name__)

# The kernel sends PR_SET_PDEATHSIG when the *thread* that forked the child ends, not the
# process: a broker started from a thread that returns (a supervisor's, a fault injector's)
# would be SIGTERMed then. So brokers are forked from one thread that lives as long as the
# process does (an idle executor thread never ends before the interpreter does).
_SPAWNER = ThreadPoolExecutor(1, thread_name_prefix="leadhub-spawn")


class EmbeddedBroker:
    """An Apache Kafka node owned by this process. Use as a context manager.

    ``data_dir`` holds the broker's log, its configuration and its metadata; a broker
    started again on the same folder has everything it acknowledged before. Without one,
    a temporary folder is used and removed at ``stop`` (tests that need no durability).
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        data_dir: Path | None = None,
        log_file: Path | None = None,
        start_timeout_s: float = 60.0,
        advertised: str | None = None,
        heap_mb: int = 512,
        properties: Mapping[str, str] | None = None,
        node_id: int = NODE_ID,
        controller_port: int = 0,
        voters: str | None = None,
        security: BrokerSecurity | None = None,
        security_dir: Path | None = None,
        cluster_id: str | None = None,
        internal_port: int = 0,
    ) -> None:
        self.host = host
        self.port = port or free_port(host)
        # host:port clients are told to connect to; another address only when something
        # (a fault-injecting proxy in tests) stands between clients and the broker
        self.advertised = advertised or f"{self.host}:{self.port}"
        self._owns_data = data_dir is None
        self.data_dir = data_dir or Path(tempfile.mkdtemp(prefix="leadhub-kafka-"))
        self.log_file = log_file or self.data_dir / "broker.log"
        self._start_timeout_s = start_timeout_s
        self._heap_mb = heap_mb
        self._properties = dict(properties or {})
        self.node_id = node_id
        # a node of a cluster is told its controller port and the whole (static) voter set;
        # a lone node picks a free port at each start and is its own only voter
        self._controller_port = controller_port
        self._voters = voters
        # secured: clients on SASL_SSL (SCRAM-SHA-512), the broker's own listeners on mTLS
        self.security = security
        # the CA, the broker's certificate and the SCRAM passwords: a cluster's nodes share one
        self._security_dir = security_dir
        self.internal_port = internal_port  # secured: the inter-broker (mTLS) listener's port
        self.controller_port = controller_port  # the port in use once started
        self._passwords: dict[str, str] = {}
        self.tls: BrokerTls | None = None
        # every node of a cluster is formatted with the same id; a lone node makes its own
        self._cluster_id = cluster_id
        self._proc: subprocess.Popen[bytes] | None = None
        self.formatted = False  # whether the latest start formatted a new, empty log
        self.ready_s = 0.0  # seconds from spawning the JVM to answering the protocol
        self._classes: ClassArchive | None = None

    @property
    def bootstrap_servers(self) -> list[str]:
        return [f"{self.host}:{self.port}"]

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "log"

    @property
    def security_dir(self) -> Path:
        return self._security_dir or self.data_dir / "security"

    @property
    def security_protocol(self) -> str:
        return "SASL_SSL" if self.security else "PLAINTEXT"

    def password(self, user: str) -> str:
        """A SCRAM user's password (secured mode; generated at the first start)."""
        if user not in self._passwords:
            raise BrokerError(f"the embedded broker has no SCRAM user {user!r}")
        return self._passwords[user]

    def client_kwargs(self, user: str | None = None) -> dict[str, object]:
        """kafka-python's (and aiokafka's) keyword arguments to connect as ``user`` (the
        admin when None); nothing but the protocol for a PLAINTEXT broker."""
        if self.security is None or self.tls is None:
            return {"security_protocol": "PLAINTEXT"}
        stored = stored_client_kwargs(self.security_dir, user or self.security.admin)
        assert stored is not None  # the store and the CA were made at start
        return stored

    def client_env(self, user: str | None = None) -> dict[str, str]:
        """``LEADHUB_BROKER__SECURITY__*`` variables that make a hub process (``leadhub
        apply``, a worker) connect as ``user`` (the admin when None)."""
        return security_env(self.client_kwargs(user))

    def prepare_security(self) -> None:
        """The CA, the broker's certificate and every SCRAM user's password: made once,
        read back on every later start (a user added since gets a password now, and is
        created on the running broker once it answers)."""
        assert self.security is not None
        self.security_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.security_dir, 0o700)
        self.tls = broker_tls(self.security_dir / "tls", list(self.security.hosts))
        self._passwords = scram.passwords(self.security_dir, self.security.all_users)

    def start(self) -> EmbeddedBroker:
        if self._proc is not None:
            return self
        libs = kafka_libs()
        java = java_executable()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        if self.security is not None:
            self.prepare_security()
        config = self._write_config()
        classpath = f"{libs}{os.sep}*"
        self.formatted = not (self.log_dir / "meta.properties").exists()
        if self.formatted:
            self._format(java, classpath, config)
            if self.security is not None:
                scram.formatted_with(self.security_dir, self._passwords)
        self._classes = ClassArchive(libs, java)
        began = time.monotonic()
        # the JVM's own complaints (before log4j starts) go to a file beside its log
        with (self.data_dir / "broker.stderr").open("ab") as stderr:
            self._proc = self._spawn(java, classpath, config, stderr, self._classes.jvm_options())
        atexit.register(self.stop)
        self._wait_ready()
        self.ready_s = time.monotonic() - began
        if self.security is not None:
            scram.add_missing_users(
                self.bootstrap_servers, self.client_kwargs(), self.security_dir, self._passwords
            )
        log.info(
            "broker_started",
            pid=self._proc.pid,
            bootstrap=self.bootstrap_servers[0],
            ready_s=round(self.ready_s, 2),
            formatted=self.formatted,
        )
        return self

    def _spawn(
        self, java: str, classpath: str, config: Path, stderr: IO[bytes], options: list[str]
    ) -> subprocess.Popen[bytes]:
        return _SPAWNER.submit(
            subprocess.Popen,
            [
                java,
                f"-Xmx{self._heap_mb}m",
                *JVM_OPTIONS,
                *options,
                f"-Dlog4j2.configurationFile={self.data_dir / 'log4j2.properties'}",
                "-cp",
                classpath,
                "kafka.Kafka",
                str(config),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,  # Ctrl-C reaches the hub, which stops the broker in order
            # prctl must run in the child: preexec_fn is the only way to get there
            preexec_fn=functools.partial(die_with_parent, os.getpid()),
        ).result()

    def _write_config(self) -> Path:
        controller = self._controller_port or free_port(self.host, avoid={self.port})
        self.controller_port = controller
        properties = {
            **SINGLE_NODE,
            "node.id": str(self.node_id),
            # a static voter set: the controller's port may differ from one start to the next
            "controller.quorum.voters": self._voters or f"{self.node_id}@{self.host}:{controller}",
            "listeners": f"PLAINTEXT://{self.host}:{self.port},CONTROLLER://{self.host}:{controller}",
            "advertised.listeners": f"PLAINTEXT://{self.advertised}",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(self.log_dir),
            "metadata.log.dir": str(self.log_dir),
            **(self._secured(controller) if self.security else {}),
            **self._properties,
        }
        config = self.data_dir / "server.properties"
        text = "".join(f"{k}={escape(v)}\n" for k, v in properties.items())
        if self.security is not None:  # it holds the key's password
            write_private(config, text.encode())
        else:
            config.write_text(text, encoding="utf-8")
        (self.data_dir / "log4j2.properties").write_text(
            LOG4J2.format(log_file=self.log_file), encoding="utf-8"
        )
        return config

    def _secured(self, controller: int) -> dict[str, str]:
        assert self.security is not None and self.tls is not None
        taken = {self.port, controller}
        self.internal_port = self.internal_port or free_port(self.host, avoid=taken)
        return secured_properties(
            host=self.host,
            port=self.port,
            internal_port=self.internal_port,
            controller=controller,
            advertised=self.advertised,
            tls=self.tls,
            admin=self.security.admin,
        )

    def _format(self, java: str, classpath: str, config: Path) -> None:
        cluster_id = self._cluster_id or new_cluster_id()
        # SCRAM users exist from the first moment: bootstrapped into the metadata log
        users = scram.format_arguments(self._passwords)
        done = subprocess.run(
            [
                java,
                f"-Dlog4j2.configurationFile={self.data_dir / 'log4j2.properties'}",
                "-cp",
                classpath,
                "kafka.tools.StorageTool",
                "format",
                # one argument: a random id may begin with "-", which argparse reads as a flag
                f"--cluster-id={cluster_id}",
                "-c",
                str(config),
                *users,
            ],
            capture_output=True,
            text=True,
            timeout=self._start_timeout_s,
            check=False,
        )
        if done.returncode != 0:
            raise BrokerError(
                f"formatting the broker's log in {self.log_dir} failed: "
                + _java_complaint(done.stderr + done.stdout)
            )
        log.info("broker_formatted", log_dir=str(self.log_dir))

    def _wait_ready(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self._start_timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                code = self._proc.returncode
                self._proc = None
                raise BrokerError(
                    f"embedded broker exited with code {code} on {self.host}:{self.port} "
                    f"(see {self.log_file})"
                )
            if kafka_api_versions(self.host, self.port, tls=self._probe_tls()):
                return
            time.sleep(0.1)
        self.stop()
        raise BrokerError(
            f"embedded broker did not answer within {self._start_timeout_s}s (see {self.log_file})"
        )

    def _probe_tls(self) -> ssl.SSLContext | None:
        if self.tls is None:
            return None
        return ssl.create_default_context(cafile=str(self.tls.ca_cert))

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM the broker's own pid (never a group): Kafka shuts down in order and
        flushes its log. SIGKILL only if it lingers."""
        self._end(signal.SIGTERM, timeout)
        if self._owns_data:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def kill(self) -> None:
        """SIGKILL the broker, as a crash would (tests of durability); its data stays."""
        self._end(signal.SIGKILL, 10.0)

    def _end(self, how: signal.Signals, timeout: float) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        atexit.unregister(self.stop)
        if proc.poll() is None:
            proc.send_signal(how)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout)
        if self._classes is not None:  # Kafka exits 143 once SIGTERM stopped it in order
            self._classes.exited(cleanly=proc.returncode in (0, 143))
        log.info("broker_stopped", pid=proc.pid, code=proc.returncode, signal=how.name)

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _java_complaint(output: str) -> str:
    """The one line of a JVM's output that says what is wrong: its exception's message."""
    for line in output.splitlines():
        if "Exception" in line or "Error" in line:
            return line.split(": ", 1)[-1].strip()
    lines = output.strip().splitlines()
    return lines[0] if lines else "no output"
