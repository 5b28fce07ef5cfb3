"""Configuration: file, environment and defaults; every mistake is one line naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.config import load_settings
from hub.errors import ConfigError


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("LEADHUB_"):
            monkeypatch.delenv(name)


def test_defaults_are_embedded() -> None:
    s = load_settings()
    assert s.broker.is_embedded
    assert s.agencies_file == Path("deploy/agencies.yaml")
    assert s.broker.client_kwargs()["security_protocol"] == "PLAINTEXT"


def test_yaml_file_then_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "hub.yaml"
    cfg.write_text(
        "data_dir: /var/lib/leadhub\n"
        "broker:\n  bootstrap_servers: [k1:9093, k2:9093]\n  replication_factor: 3\n"
        "  security:\n    protocol: SASL_SSL\n    sasl_mechanism: SCRAM-SHA-512\n"
        "    sasl_username: hub\n    sasl_password: s3cret\n    ssl_cafile: /etc/ca.pem\n"
    )
    monkeypatch.setenv("LEADHUB_DATA_DIR", "/srv/hub")
    s = load_settings(cfg)
    assert s.data_dir == Path("/srv/hub")
    assert not s.broker.is_embedded and s.broker.replication_factor == 3
    kwargs = s.broker.client_kwargs()
    assert kwargs["sasl_plain_password"] == "s3cret" and kwargs["ssl_cafile"] == "/etc/ca.pem"
    assert "s3cret" not in repr(s)


def test_config_file_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "hub.yaml"
    cfg.write_text("log_level: debug\n")
    monkeypatch.setenv("LEADHUB_CONFIG", str(cfg))
    assert load_settings().log_level == "debug"


def test_nested_environment_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADHUB_BROKER__EMBEDDED__PORT", "19999")
    assert load_settings().broker.embedded.port == 19999


@pytest.mark.parametrize(
    ("yaml_text", "field"),
    [
        ("broker:\n  embedded:\n    port: 70000\n", "broker.embedded.port"),
        ("log_level: loud\n", "log_level"),
        ("limits:\n  max_event_bytes: 10\n", "limits.max_event_bytes"),
        ("brokr: {}\n", "brokr"),
        ("broker:\n  security:\n    protocol: SASL_SSL\n", "broker.security"),
        ("site:\n  time_zone: Mars/Olympus\n", "site.time_zone"),
    ],
)
def test_invalid_config_is_one_line_naming_the_field(
    tmp_path: Path, yaml_text: str, field: str
) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(yaml_text)
    with pytest.raises(ConfigError) as err:
        load_settings(cfg)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"invalid config: {field}")


def test_invalid_environment_value_names_the_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADHUB_BROKER__EMBEDDED__PORT", "ninety")
    with pytest.raises(ConfigError, match=r"^invalid config: broker\.embedded\.port: "):
        load_settings()


@pytest.mark.parametrize(("text", "expected"), [("a: [", "not valid YAML"), ("- 1\n", "mapping")])
def test_unreadable_files(tmp_path: Path, text: str, expected: str) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(text)
    with pytest.raises(ConfigError, match=expected):
        load_settings(cfg)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_settings(tmp_path / "nope.yaml")
