"""Structured JSON logs that cannot carry personal data.

Log calls name events and counts, never payloads. As a second line of defence, a
processor replaces the value of any key that could hold personal data or payload
contents, whoever wrote the log call.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

REDACTED = "[redacted]"
FORBIDDEN_KEYS = frozenset(
    {
        "name",
        "given_name",
        "family_name",
        "middle_name",
        "aliases",
        "date_of_birth",
        "dob",
        "birth_date",
        "identity",
        "payload",
        "body",
        "datum",
        "record",
        "value",
        "note",
        "text",
        "ciphertext",
        "address",
        "local_record_numbers",
    }
)


def redact(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in event_dict.keys() & FORBIDDEN_KEYS:
        event_dict[key] = REDACTED
    return event_dict


# Client libraries log connection chatter at INFO; only their warnings matter to operators.
QUIET_LIBRARIES = ("kafka", "aiokafka", "faust", "mode")


def _not_a_cancelled_refresh(record: logging.LogRecord) -> bool:
    """kafka-python logs an error when a consumer closed by the hub cancels its own
    metadata request: that is how reading a topic to its end finishes, not a failure."""
    args = record.args if isinstance(record.args, tuple) else ()
    return not (
        record.msg == "Metadata refresh: failed %s"
        and len(args) == 1
        and type(args[0]).__name__ == "Cancelled"
    )


def _not_a_slow_step(record: logging.LogRecord) -> bool:
    """kafka-python warns when one step of its network loop ran over 0.1 s. On a busy
    machine that is the CPU being shared (the broker's JVM, the worker, a collection), not
    something an operator can act on; a real stall still ends in the client's timeouts."""
    return not (isinstance(record.msg, str) and "It is blocking the event loop" in record.msg)


def configure(level: str = "info") -> None:
    """JSON lines on stderr (stdout stays for command output), the libraries' included."""
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact,
    ]
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                structlog.processors.JSONRenderer(),
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    logging.getLogger("kafka.cluster").addFilter(_not_a_cancelled_refresh)
    logging.getLogger("kafka.net.selector").addFilter(_not_a_slow_step)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
