"""One typed configuration for every hub process.

Sources, strongest first: ``LEADHUB_*`` environment variables (nested with ``__``,
e.g. ``LEADHUB_BROKER__EMBEDDED__PORT``), then the YAML file, then defaults. Relative
paths are taken from the working directory, so ``make demo`` in a clone just works.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from hub.errors import ConfigError

CONFIG_ENV = "LEADHUB_CONFIG"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EmbeddedBrokerSettings(_Section):
    """The Apache Kafka node the hub starts for itself when no cluster is named; its log
    lives under ``data_dir/kafka``, its log4j output in ``data_dir/broker.log``. With
    ``nodes`` above 1, that many nodes form a cluster, each under ``data_dir/kafka/node-<n>``
    (``port`` is then ignored: the cluster keeps the ports it chose in its own file)."""

    host: str = "127.0.0.1"
    port: int = Field(default=0, ge=0, le=65535, description="0 picks a free port")
    heap_mb: int = Field(default=512, ge=128, le=16384, description="the broker JVM's -Xmx")
    start_timeout_s: float = Field(default=60.0, gt=0)
    secured: bool = Field(
        default=True,
        description=(
            "SASL_SSL with a SCRAM user per principal of deploy/acls.yaml, TLS from a CA the "
            "hub makes, and those ACLs on a deny-by-default authorizer, on every node"
        ),
    )
    nodes: int = Field(
        default=1,
        ge=1,
        le=9,
        description="Kafka nodes to run (3: a replicated cluster on loopback)",
    )


class SecuritySettings(_Section):
    """Client security towards a real cluster (SASL/SCRAM over TLS, or mTLS)."""

    protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: Path | None = None
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None

    @model_validator(mode="after")
    def _sasl_complete(self) -> SecuritySettings:
        if self.protocol.startswith("SASL") and not (
            self.sasl_mechanism and self.sasl_username and self.sasl_password
        ):
            raise ValueError("SASL needs sasl_mechanism, sasl_username and sasl_password")
        return self


class BrokerSettings(_Section):
    """Embedded when ``bootstrap_servers`` is empty; otherwise a cluster the hub only uses."""

    bootstrap_servers: list[str] = Field(default_factory=list)
    client_id: str = "leadhub"
    replication_factor: int | None = Field(
        default=None, ge=1, description="overrides deploy/topics.yaml (3 on a cluster)"
    )
    embedded: EmbeddedBrokerSettings = EmbeddedBrokerSettings()
    security: SecuritySettings = SecuritySettings()

    @property
    def is_embedded(self) -> bool:
        return not self.bootstrap_servers

    def client_kwargs(self) -> dict[str, object]:
        """Security keyword arguments in the spelling kafka-python and aiokafka share."""
        s = self.security
        kwargs: dict[str, object] = {"security_protocol": s.protocol, "client_id": self.client_id}
        if s.sasl_mechanism:
            kwargs["sasl_mechanism"] = s.sasl_mechanism
            kwargs["sasl_plain_username"] = s.sasl_username
            kwargs["sasl_plain_password"] = (
                s.sasl_password.get_secret_value() if s.sasl_password else None
            )
        for name in ("ssl_cafile", "ssl_certfile", "ssl_keyfile"):
            value = getattr(s, name)
            if value is not None:
                kwargs[name] = str(value)
        return kwargs


class LimitSettings(_Section):
    """Bounds that keep hostile input from costing memory or time."""

    max_event_bytes: int = Field(default=256 * 1024, ge=1024, le=16 * 1024 * 1024)


class SiteSettings(_Section):
    """Facts of this LEAD site that its agencies agreed on."""

    intake_window_days: int = Field(
        default=14, ge=7, le=30, description="charge-hold intake window (7 to 30 days by site)"
    )
    time_zone: str = Field(
        default="UTC",
        description="the site's IANA time zone (e.g. America/Los_Angeles): pages show times in it",
    )

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, zone: str) -> str:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            known = "an IANA name, e.g. Europe/Paris"
            raise ValueError(f"unknown time zone {zone!r}: {known}") from None
        return zone


class StreamSettings(_Section):
    """The worker's consumer group and batching."""

    session_timeout_s: float = Field(
        default=6.0,
        gt=0,
        description="how soon a crashed worker's partitions move (Kafka's minimum is 6 s)",
    )
    fetch_max_wait_ms: int = Field(default=50, ge=1, le=5000)
    batch_max: int = Field(
        default=500,
        ge=1,
        le=100_000,
        description="records per step at most: a step takes what has arrived, up to this",
    )
    signature_threads: int = Field(
        default=2,
        ge=1,
        le=64,
        description="threads checking a batch's signatures while the event loop goes on",
    )
    tracing: Literal["off", "console"] = Field(
        default="off",
        description="OpenTelemetry spans: off (or the operator's own SDK), or JSON lines on stdout",
    )
    log_clock: bool = Field(
        default=False,
        description="stamp recorded_at from the log's own time (simulations), not the wall clock",
    )
    tick_interval_s: float = Field(
        default=60.0,
        gt=0,
        le=3600,
        description="wall-clock mode: how often the worker looks for a partition where "
        "something is due (a lapse, a reminder, a consent's expiry) and ticks its clock",
    )


class WebSettings(_Section):
    """The HTTP API and pages, served from inside the worker (off unless enabled)."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = Field(default=8780, ge=0, le=65535)
    auditors: list[str] = Field(
        default_factory=lambda: ["bchd"],
        description="agencies that may use the auditor's endpoints and pages (oversight)",
    )
    clock_skew_s: int = Field(default=300, ge=1, le=3600, description="signed request age")
    session_hours: float = Field(default=8.0, gt=0, le=24 * 7, description="page sign-in life")
    verdict_timeout_s: float = Field(default=10.0, gt=0, le=120)
    max_body_bytes: int = Field(default=512 * 1024, ge=1024, le=16 * 1024 * 1024)


class AuditSettings(_Section):
    """The decision log's identity and the durable archive (embedded mode restores from it)."""

    origin: str = Field(
        default="leadhub.example/audit",
        pattern=r"^[a-z0-9.-]+(/[A-Za-z0-9._-]+)*$",
        description="the log's origin (C2SP tlog-checkpoint): a schema-less URL unique to it",
    )
    checkpoint_interval_s: float = Field(default=1.0, gt=0, le=3600)
    archive: bool = Field(default=True, description="archive every topic under data_dir")
    flush_interval_s: float = Field(default=2.0, gt=0, le=3600)
    max_segment_records: int = Field(default=50_000, ge=1)


class IntakeSettings(_Section):
    """The intake keys agencies seal identity to (docs/protocol.md 16.2)."""

    epoch_days: float = Field(
        default=7.0,
        gt=0,
        le=90,
        description="how long one intake key is current; it is destroyed once the ingest "
        "topics' retention has passed after its epoch",
    )


@dataclass(frozen=True)
class DataDir:
    """What the hub writes under ``data_dir``, each place named once (operators back up,
    move and erase these; docs/runbook.md lists them)."""

    root: Path

    @property
    def kafka(self) -> Path:
        """The embedded broker's log, metadata and security (CA, SCRAM credentials)."""
        return self.root / "kafka"

    @property
    def broker_log(self) -> Path:
        return self.root / "broker.log"

    @property
    def worker_log(self) -> Path:
        return self.root / "worker.log"

    @property
    def archive(self) -> Path:
        """The signed archive of every topic: the auditor's copy, and disaster recovery."""
        return self.root / "archive"

    @property
    def policies(self) -> Path:
        """Every policy version that has been in force, for replay."""
        return self.archive / "policies"

    @property
    def datakeys(self) -> Path:
        """Per-participant data keys: destroying one erases that person from the log."""
        return self.root / "datakeys"

    @property
    def linkage_secret(self) -> Path:
        """The HMAC key of linkage's blocking tokens, apart from the data keys (the tokens
        themselves are never written anywhere: each worker derives them from the log)."""
        return self.root / "linkage" / "secret.key"

    @property
    def intake(self) -> Path:
        """The intake private keys, one per epoch: destroyed when their epoch has expired."""
        return self.root / "intake"

    @property
    def faust(self) -> Path:
        return self.root / "faust"

    @property
    def redriven(self) -> Path:
        """Dead letters sent again, so none is sent twice."""
        return self.root / "redriven.ledger"

    def inbox(self, agency: str) -> Path:
        return self.root / "inbox" / f"{agency}.jsonl"

    def witness(self, agency: str) -> Path:
        return self.root / "witness" / f"{agency}.json"

    def webhook(self, agency: str) -> Path:
        """The webhook relay's delivery log and dead-letter list, on the agency's side."""
        return self.root / "webhook" / agency


class Settings(BaseSettings):
    """Everything a hub process needs to know about where it runs."""

    model_config = SettingsConfigDict(
        env_prefix="LEADHUB_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    data_dir: Path = Path(".leadhub")
    schemas_dir: Path = Path("schemas")
    agencies_file: Path = Path("deploy/agencies.yaml")
    topics_file: Path = Path("deploy/topics.yaml")
    policy_file: Path = Path("deploy/policy.yaml")
    acls_file: Path = Field(default=Path("deploy/acls.yaml"), description="principals (plan)")
    keys_dir: Path = Field(default=Path("deploy/keys"), description="agencies' public keys")
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    broker: BrokerSettings = BrokerSettings()
    limits: LimitSettings = LimitSettings()
    streams: StreamSettings = StreamSettings()
    site: SiteSettings = SiteSettings()
    audit: AuditSettings = AuditSettings()
    web: WebSettings = WebSettings()
    intake: IntakeSettings = IntakeSettings()

    @property
    def paths(self) -> DataDir:
        return DataDir(self.data_dir)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, YamlConfigSettingsSource(settings_cls))


def _one_line(err: ValidationError) -> str:
    first = err.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "(top level)"
    more = f" (and {err.error_count() - 1} more)" if err.error_count() > 1 else ""
    return f"invalid config: {where}: {first['msg']}{more}"


def load_settings(config_file: Path | None = None, **overrides: object) -> Settings:
    """Read the config file (argument, then ``$LEADHUB_CONFIG``) and the environment.

    Raises ConfigError with one line naming the offending field, so an operator sees
    what to fix rather than a stack of pydantic internals.
    """
    path = config_file or (Path(os.environ[CONFIG_ENV]) if os.environ.get(CONFIG_ENV) else None)
    if path is not None:
        if not path.is_file():
            raise ConfigError(f"invalid config: file not found: {path}")
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = f" line {mark.line + 1}" if mark is not None else ""
            raise ConfigError(f"invalid config: {path}{line}: not valid YAML") from None
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(f"invalid config: {path}: top level must be a mapping")

    class _FromFile(Settings):
        model_config = SettingsConfigDict(yaml_file=path)

    try:
        return _FromFile(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigError(_one_line(exc)) from None
