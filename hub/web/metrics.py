"""Prometheus metrics: faust's own sensors, and the hub's counters read at scrape time.

The hub's handlers already count everything as ``kind.label`` (accepted.referral_made,
rejected.BAD_SIGNATURE, notices.sao, denied.NO_CONSENT, ...); a collector turns those
into labelled counters when scraped, so the hot path pays nothing extra. Counts only, by
event type, reason or agency: never an id or a payload.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

# count prefix -> (metric name, label, help)
FAMILIES = {
    "accepted": ("leadhub_accepted_events", "event_type", "events admitted to lead.events"),
    "rejected": ("leadhub_rejected_events", "reason", "ingest records dead-lettered"),
    "notices": ("leadhub_notices", "agency", "sealed notices sent"),
    "denied": ("leadhub_denials", "reason", "disclosure decisions that denied"),
    "views": ("leadhub_records_viewed", "agency", "participants' records read via the web"),
}


class HubCollector(Collector):
    def __init__(
        self,
        counts: Callable[[], Mapping[str, int]],
        lag: Callable[[], Mapping[tuple[str, int], int]],
    ) -> None:
        self.counts = counts
        self.lag = lag

    def collect(self) -> Iterator[Metric]:
        families = {
            prefix: CounterMetricFamily(name, text, labels=[label])
            for prefix, (name, label, text) in FAMILIES.items()
        }
        other = CounterMetricFamily("leadhub_events", "other hub counts", labels=["kind"])
        for key, value in sorted(self.counts().items()):
            prefix, _, label = key.partition(".")
            family = families.get(prefix)
            if family is not None and label:
                family.add_metric([label], value)
            else:
                other.add_metric([key], value)
        yield from families.values()
        yield other
        lag = GaugeMetricFamily(
            "leadhub_consumer_lag",
            "records behind the broker's high watermark, per assigned partition",
            labels=["topic", "partition"],
        )
        for (topic, partition), behind in sorted(self.lag().items()):
            lag.add_metric([topic, str(partition)], behind)
        yield lag


def hub_registry(
    counts: Callable[[], Mapping[str, int]],
    lag: Callable[[], Mapping[tuple[str, int], int]],
    faust_app: Any | None = None,
) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(HubCollector(counts, lag))
    if faust_app is not None:
        from faust.sensors.prometheus import FaustMetrics, PrometheusMonitor

        faust_app.monitor = PrometheusMonitor(metrics=FaustMetrics.create(registry, "leadhub"))
    return registry
