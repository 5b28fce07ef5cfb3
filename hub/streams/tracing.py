"""OpenTelemetry spans around the steps' records (``streams.tracing``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from hub.streams.handlers import carried


def record_spans(app: Any, exporter: str) -> Callable[[Sequence[Any]], list[Any]]:
    """A function opening a span per record of a step, parented by the record's trace
    context (the step ends them once the batch's outputs are on the log); faust's sensor
    (faust.contrib.opentelemetry) carries the context from an HTTP request into the
    records the worker's producer sends. Spans go wherever the operator's OpenTelemetry SDK
    sends them (e.g. under ``opentelemetry-instrument``); ``console`` installs one writing
    JSON lines to stdout. Spans carry topics, offsets and pseudonymous keys, never
    payloads. Without an SDK nothing is opened at all."""
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

    def open_spans(records: Sequence[Any]) -> list[Any]:
        spans = []
        for m in records:
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
