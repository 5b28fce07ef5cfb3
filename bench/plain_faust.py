"""The plain-faust baseline: consume, count per key in a table, fan out to two topics.
Same faust settings as the hub's worker; run as `python -m bench.plain_faust`."""

from __future__ import annotations

import sys
from typing import Any

import faust


def main(bootstrap: str, source: str, data_dir: str) -> None:
    app = faust.App(
        "leadhub-bench-plain",
        broker=[f"kafka://{s}" for s in bootstrap.split(",")],
        processing_guarantee="at_least_once",
        broker_session_timeout=6,  # Kafka refuses less than its group.min.session.timeout.ms
        broker_heartbeat_interval=1,
        broker_commit_interval=0.5,
        store="memory://",
        web_enabled=False,
        topic_disable_leader=True,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        key_serializer="raw",
        value_serializer="raw",
        datadir=data_dir,
        autodiscover=False,
        topic_partitions=6,
    )
    counts = app.Table("counts", default=int, partitions=6)
    out1, out2 = app.topic("bench.faust.out1"), app.topic("bench.faust.out2")

    @app.agent(app.topic(source))
    async def fan_out(stream: Any) -> None:
        async for event in stream.events():
            counts[event.key] += 1
            # the idiomatic agent: hand both records to the producer, do not wait for them
            await out1.send(key=event.key, value=event.value)
            await out2.send(key=event.key, value=event.value)

    faust.Worker(app, loglevel="WARNING", quiet=True).execute_from_commandline()


if __name__ == "__main__":
    main(*sys.argv[1:4])
