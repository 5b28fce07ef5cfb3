"""Logs are JSON and cannot carry names, birth dates or payloads, whoever writes the call."""

from __future__ import annotations

import json
import logging

import pytest
import structlog

from hub import logs


def test_personal_keys_are_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    logs.configure("info")
    structlog.get_logger("t").info(
        "event_seen", given_name="Tavo", date_of_birth="1990-04-01", payload=b"\x01", count=3
    )
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["event"] == "event_seen" and line["count"] == 3
    for key in ("given_name", "date_of_birth", "payload"):
        assert line[key] == logs.REDACTED
    assert "Tavo" not in json.dumps(line)


def test_library_logs_are_json_and_quiet(capsys: pytest.CaptureFixture[str]) -> None:
    logs.configure("info")
    logging.getLogger("kafka.conn").info("chatter")
    logging.getLogger("kafka.conn").warning("connection lost")
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert json.loads(err[0])["event"] == "connection lost"


def test_a_cancelled_metadata_refresh_on_close_is_not_an_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from kafka.errors import Cancelled, KafkaConnectionError

    logs.configure("info")
    cluster = logging.getLogger("kafka.cluster")
    cluster.error("Metadata refresh: failed %s", Cancelled())
    cluster.error("Metadata refresh: failed %s", KafkaConnectionError("broker gone"))
    err = capsys.readouterr().err
    assert "Cancelled" not in err
    assert "broker gone" in err


def test_a_slow_step_of_the_clients_network_loop_is_not_a_warning(
    capsys: pytest.CaptureFixture[str],
) -> None:
    logs.configure("info")
    selector = logging.getLogger("kafka.net.selector")
    selector.warning(
        "Task <Task> ran for 0.131s (>0.100s threshold). It is blocking the event loop -- "
        "likely a tight sync loop inside a coroutine. Other pollers will time out."
    )
    selector.warning("selector closed unexpectedly")
    err = capsys.readouterr().err.strip().splitlines()
    assert [json.loads(line)["event"] for line in err] == ["selector closed unexpectedly"]
