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
