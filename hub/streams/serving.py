"""The worker's HTTP side: the API and pages on its own loop, and what /metrics shows."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from hub.streams.runtime import Runtime


def counts(runtime: Runtime) -> Counter[str]:
    """Every handler's counters, summed: what /metrics shows."""
    total = Counter(runtime.ingest.counts)
    for handler in runtime.canonical.values():
        total.update(handler.counts)
    if runtime.web is not None:
        total.update(runtime.web.counts)
    return total


def serve_web(app: Any, runtime: Runtime, lag: Callable[[], dict[tuple[str, int], int]]) -> None:
    """The API and pages on the worker's own loop (faust.contrib.asgi), producing through
    the worker's producer, so a submission is on the log before it is answered. Traces
    follow a record from the HTTP request through the steps (faust.contrib.opentelemetry)
    once an OpenTelemetry SDK is configured; until then the API is a no-op."""
    from faust.contrib.asgi import serve_asgi

    from hub.web import create_asgi, hub_registry

    web = runtime.web
    assert web is not None

    async def produce(
        topic: str, key: bytes | None, value: bytes, headers: list[tuple[str, bytes]]
    ) -> tuple[int, int]:
        metadata = await (await app.producer.send(topic, key, value, None, None, headers))
        return metadata.partition, metadata.offset

    web.produce = produce
    registry = hub_registry(lambda: counts(runtime), lag, app)
    serve_asgi(app, create_asgi(web, registry), access_log=False)


def can_listen(host: str, port: int) -> bool:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True
