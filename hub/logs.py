"""Structured JSON logs that cannot carry personal data.

Log calls name events and counts, never payloads. As a second line of defence, a
processor replaces the value of any key that could hold personal data or payload
contents, whoever wrote the log call.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, MutableMapping
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


class Repeats(logging.Filter):
    """A client library that cannot reach a broker says so on every attempt, from every
    client: a worker's log had 51,923 "Unable connect to node" lines in one test that
    restarts the broker 50 times. The first warning or error of a kind (its logger and
    message template) goes through; the same kind is held back for ``every_s``, and the
    next one through says how many were held back. Below WARNING nothing is held."""

    def __init__(self, every_s: float = 10.0, clock: Callable[[], float] = time.monotonic):
        super().__init__()
        self.every_s = every_s
        self._clock = clock
        self._kinds: dict[tuple[str, str], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        kind, now = (record.name, str(record.msg)), self._clock()
        since, held = self._kinds.get(kind, (-self.every_s, 0))
        if now - since < self.every_s:
            self._kinds[kind] = (since, held + 1)
            return False
        self._kinds[kind] = (now, 0)
        if held:
            record.msg = f"{record.msg} [and {held} more like this in {now - since:.0f} s]"
        return True


def quiet_repeats(prefixes: tuple[str, ...] = ("kafka", "aiokafka")) -> None:
    """Hold back repeats (``Repeats``) on every logger of the Kafka clients created so far;
    call it once their modules are imported. A logger's filters see only its own records,
    not its children's, hence one filter on each."""
    shared = Repeats()
    names = [n for n in logging.Logger.manager.loggerDict if n.split(".")[0] in prefixes]
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, Repeats) for f in logger.filters):
            logger.addFilter(shared)


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """A handler on ``sys.stderr`` as it is when each record is written, not as it was when
    logging was configured: a command run in-process (a test runner's, which swaps stderr
    for a buffer and then closes it) must not leave the root logger writing to a closed
    stream."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _: Any) -> None:
        pass


def configure(level: str = "info") -> None:
    """JSON lines on stderr (stdout stays for command output), the libraries' included."""
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact,
    ]
    handler = _Stderr()
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
    quiet_repeats()
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
