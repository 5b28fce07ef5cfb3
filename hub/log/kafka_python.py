"""kafka-python as the hub runs it: one repair to how its clients keep their view of the
cluster (which node leads which partition) current.

Each kafka-python client (3.0.12, and its main branch as of August 2026) refreshes that view
in one background loop, ``ClusterMetadata._refresh_loop``. The loop outlives a failed
refresh only if the failure is a ``KafkaError``. A connection reset while a new connection
is being set up reaches it bare (``ConnectionResetError``: ``KafkaConnection.initialize``
closes with whatever it caught), the loop ends, and nothing starts it again: the client
goes on fetching from, or producing to, a dead leader for as long as it lives. The cluster
failover test met it: the watcher of lead.events never saw another event from the
partitions of a SIGKILLed node, 60 s after their new leaders had them.

The repair turns every failed refresh into a ``KafkaConnectionError``, as the library
already does for most connection failures, so the loop backs off and asks another node.
It is applied when ``hub.log`` is imported, before any of the hub's clients exists.
"""

from __future__ import annotations

from typing import Any

import structlog
from kafka.cluster import ClusterMetadata
from kafka.errors import KafkaConnectionError, KafkaError

log = structlog.get_logger(__name__)
_MARK = "_leadhub_any_failure_is_a_connection_error"


def repair() -> None:
    """Idempotent: a failed metadata refresh is a ``KafkaConnectionError``, whatever its
    cause, and so never ends the client's refresh loop."""
    original = ClusterMetadata._do_refresh_metadata
    if getattr(original, _MARK, False):
        return

    async def refresh(self: ClusterMetadata, node_id: Any) -> None:
        try:
            await original(self, node_id)
        except KafkaError:
            raise
        except OSError as exc:  # a connection reset or refused, reaching the loop bare
            raise KafkaConnectionError(f"metadata refresh failed: {exc}") from exc
        except Exception as exc:  # not a network failure: say so, and still keep refreshing
            log.warning("kafka_metadata_refresh_error", error=type(exc).__name__)
            raise KafkaConnectionError(f"metadata refresh failed: {exc!r}") from exc

    setattr(refresh, _MARK, True)
    ClusterMetadata._do_refresh_metadata = refresh
