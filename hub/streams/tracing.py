"""OpenTelemetry spans around the agents' batches (``streams.tracing``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from hub.streams.handlers import carried


def trace_agents(app: Any, exporter: str) -> Callable[[Sequence[Any]], list[Any]]:
    """A span per record each agent processes, parented by the record's trace context.
    faust.contrib.opentelemetry opens them for agents that take one event at a time (the
    notary); for the batched agents the returned function opens one per event of a batch
    (``finish`` closes them once the batch's outputs are on the log). Spans go wherever the
    operator's OpenTelemetry SDK sends them (e.g. under ``opentelemetry-instrument``);
    ``console`` installs one writing JSON lines to stdout. Spans carry topics, offsets and
    pseudonymous keys, never payloads. Without an SDK nothing is opened at all."""
    from faust.contrib.opentelemetry import sdk_is_configured, setup_opentelemetry

    if exporter == "console":
        import sys

        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

        provider = TracerProvider()
        lines = ConsoleSpanExporter(
            out=sys.stdout, formatter=lambda span: span.to_json(indent=None) + "\n"
        )
        provider.add_span_processor(SimpleSpanProcessor(lines))
        trace.set_tracer_provider(provider)
    setup_opentelemetry(app)
    if not sdk_is_configured():
        return lambda taken: []
    from opentelemetry import propagate, trace

    tracer = trace.get_tracer("leadhub")

    def open_spans(taken: Sequence[Any]) -> list[Any]:
        spans = []
        for event in taken:
            m = event.message
            carrier = {k: v.decode("latin-1") for k, v in carried(m.headers or [])}
            spans.append(
                tracer.start_span(
                    f"{m.topic} process",
                    context=propagate.extract(carrier),
                    kind=trace.SpanKind.CONSUMER,
                    attributes={
                        "messaging.system": "kafka",
                        "messaging.destination.name": m.topic,
                        "messaging.destination.partition.id": str(m.partition),
                        "messaging.kafka.message.offset": m.offset,
                    },
                )
            )
        return spans

    return open_spans


def finish(spans: Iterable[Any]) -> None:
    for span in spans:
        span.end()
