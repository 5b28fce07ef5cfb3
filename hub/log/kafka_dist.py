"""Apache Kafka's jars, resolved from Maven Central once and kept outside the repository.

deploy/kafka/pom.xml pins the version; Maven resolves it with its dependencies into
``~/.cache/leadhub/kafka/<version>-<digest of the pom>/libs`` (or ``$LEADHUB_KAFKA_CACHE``).
A half-finished resolve never counts: Maven writes into a temporary folder that is renamed
into place only when it succeeded, under a file lock, so two hub processes starting at once
resolve it once.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import structlog

from hub.errors import BrokerError

log = structlog.get_logger(__name__)

DEFAULT_POM = Path(__file__).resolve().parents[2] / "deploy" / "kafka" / "pom.xml"
CACHE_ENV = "LEADHUB_KAFKA_CACHE"
_MAVEN_NS = {"m": "http://maven.apache.org/POM/4.0.0"}
_RESOLVE_TIMEOUT_S = 900


def kafka_version(pom: Path = DEFAULT_POM) -> str:
    """The pinned Kafka version, read from the pom's ``kafka.version`` property."""
    try:
        node = ET.parse(pom).find("m:properties/m:kafka.version", _MAVEN_NS)  # noqa: S314
    except (OSError, ET.ParseError) as exc:
        raise BrokerError(f"cannot read the broker's build file {pom}: {exc}") from None
    if node is None or not (node.text or "").strip():
        raise BrokerError(f"{pom} names no kafka.version property")
    return (node.text or "").strip()


def cache_root() -> Path:
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "leadhub" / "kafka"


def java_executable() -> str:
    """``$JAVA_HOME/bin/java``, else ``java`` on the PATH; Kafka 4's broker needs Java 17+."""
    home = os.environ.get("JAVA_HOME")
    if home and os.access(Path(home) / "bin" / "java", os.X_OK):
        return str(Path(home) / "bin" / "java")
    found = shutil.which("java")
    if found is None:
        raise BrokerError(
            "Java is not installed: the embedded broker is Apache Kafka and needs Java 17 or "
            "newer (Debian: apt-get install openjdk-17-jre-headless; `make` does this)"
        )
    return found


def kafka_libs(pom: Path = DEFAULT_POM) -> Path:
    """The folder of jars for ``java -cp 'libs/*'``, resolving them first if need be."""
    digest = hashlib.sha256(pom.read_bytes()).hexdigest()[:12]
    target = cache_root() / f"{kafka_version(pom)}-{digest}"
    libs = target / "libs"
    if (target / "complete").exists():
        return libs
    target.mkdir(parents=True, exist_ok=True)
    with _locked(target / "lock"):
        if not (target / "complete").exists():
            _resolve(pom, libs)
            (target / "complete").write_text(digest + "\n", encoding="utf-8")
    return libs


class ClassArchive:
    """Kafka's classes, archived once for class data sharing (AppCDS): a JVM that maps them
    from the archive starts in about half the time (measured on 2 cores: a restart after
    SIGKILL 5.2 s with it, 6.2 s without; the first start 2.2 s, 4.1 s). An archive is only
    valid for the JVM binary and the jars that wrote it, so it lives beside the jars, named
    for the JVM. No archive yet: this start writes one at its clean exit (a killed JVM
    writes nothing, and the next clean stop tries again); a JVM that finds an archive it
    cannot use warns on its own stdout and starts without it."""

    def __init__(self, libs: Path, java: str) -> None:
        real = Path(java).resolve()
        stat = real.stat()
        tag = hashlib.sha256(f"{real}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()
        self.path = libs.parent / f"classes-{tag[:12]}.jsa"
        self._pending: Path | None = None

    def jvm_options(self) -> list[str]:
        if self.path.exists():
            self._pending = None
            return [f"-XX:SharedArchiveFile={self.path}"]
        # a name of its own: several brokers (a cluster, parallel tests) may start at once
        self._pending = self.path.with_name(f"{self.path.stem}-{os.getpid()}-{id(self)}.tmp")
        return [f"-XX:ArchiveClassesAtExit={self._pending}"]

    def exited(self, cleanly: bool) -> None:
        """After the JVM exited: the archive it wrote at a clean exit is the one from now on;
        one cut short (the JVM killed while writing it) is removed."""
        if self._pending is not None and self._pending.exists():
            if cleanly:
                os.replace(self._pending, self.path)
            else:
                self._pending.unlink(missing_ok=True)
        self._pending = None


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _resolve(pom: Path, libs: Path) -> None:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise BrokerError(
            "Maven is not installed: the embedded broker's jars come from Maven Central "
            "(Debian: apt-get install maven; `make` does this)"
        )
    staging = Path(tempfile.mkdtemp(prefix="libs-", dir=libs.parent))
    command = [
        mvn,
        "-q",
        "-B",
        "-f",
        str(pom),
        "dependency:copy-dependencies",
        "-DincludeScope=runtime",
        f"-DoutputDirectory={staging}",
    ]
    log.info("kafka_resolving", version=kafka_version(pom), into=str(libs))
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=_RESOLVE_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        shutil.rmtree(staging, ignore_errors=True)
        raise BrokerError(f"Maven did not resolve Kafka within {_RESOLVE_TIMEOUT_S} s") from None
    if done.returncode != 0 or not any(staging.glob("kafka_2.13-*.jar")):
        shutil.rmtree(staging, ignore_errors=True)
        tail = (done.stdout + done.stderr).strip().splitlines()[-1:] or ["no output"]
        raise BrokerError(
            f"Maven could not resolve Kafka from {pom} (exit {done.returncode}): {tail[0]}"
        )
    shutil.rmtree(libs, ignore_errors=True)
    staging.rename(libs)


if __name__ == "__main__":  # `make kafka`: resolve once, say where
    from hub import logs

    logs.configure("warning")
    try:
        print(f"Apache Kafka {kafka_version()}: {kafka_libs()}")
    except BrokerError as exc:
        raise SystemExit(f"make kafka: {exc}") from None
