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


def test_a_repeated_complaint_is_held_back_and_then_counted() -> None:
    now = [0.0]
    repeats = logs.Repeats(every_s=10.0, clock=lambda: now[0])

    def passes(msg: str, level: int = logging.ERROR, name: str = "aiokafka.client") -> bool:
        record = logging.LogRecord(name, level, __file__, 1, msg, ("1", "refused"), None)
        passed = repeats.filter(record)
        if passed:
            shown.append(record.getMessage())
        return passed

    shown: list[str] = []
    template = "Unable connect to node with id %s: %s"
    assert passes(template)
    now[0] = 3.0
    assert not passes(template) and not passes(template)
    assert passes("Unable to update metadata from %s %s")  # another kind
    assert passes(template, name="aiokafka.conn")  # the same words from another logger
    assert passes(template, level=logging.INFO)  # below WARNING, never held
    now[0] = 10.5
    assert passes(template)
    assert shown[-1] == "Unable connect to node with id 1: refused [and 2 more like this in 10 s]"
    now[0] = 25.0
    assert passes(template)
    assert shown[-1] == "Unable connect to node with id 1: refused"


def test_every_kafka_client_logger_holds_back_repeats() -> None:
    import aiokafka.client
    import aiokafka.producer.sender
    import kafka.net.manager

    logs.quiet_repeats()
    logs.quiet_repeats()  # idempotent: one filter per logger
    for module in (aiokafka.client, aiokafka.producer.sender, kafka.net.manager):
        name = module.log.name
        held = [f for f in logging.getLogger(name).filters if isinstance(f, logs.Repeats)]
        assert len(held) == 1
    assert not any(isinstance(f, logs.Repeats) for f in logging.getLogger("hub").filters)
