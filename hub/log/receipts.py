"""An agency's receipts, read from ``lead.receipts.<agency>`` with the agency's own
credentials (or an operator's), each checked against the hub's key: what the agency SDK
waits on after publishing, and what ``leadhub receipts`` shows."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta

from hub.crypto import PublicKeys
from hub.domain import Receipt
from hub.errors import HubError
from hub.events import Codec, receipts_topic
from hub.log.reading import read_topics

# A receipt is written after the record it answers; a producer's clock and the broker's
# may disagree by this much, so a wait starts reading this far before the publish.
CLOCK_SLACK = timedelta(minutes=5)


class ReceiptReader:
    def __init__(
        self,
        agency: str,
        *,
        codec: Codec,
        hub_keys: PublicKeys,
        bootstrap_servers: Sequence[str],
        client_kwargs: dict[str, object] | None = None,
    ) -> None:
        self.topic = receipts_topic(agency)
        self.codec = codec
        self.hub_keys = hub_keys
        self.bootstrap_servers = list(bootstrap_servers)
        self.client_kwargs = client_kwargs

    def read(self, since: datetime | None = None) -> Iterator[tuple[Receipt, bool]]:
        """Each receipt on the topic (from ``since``), with whether the hub's signature on
        it verifies: one that does not was not written by the hub."""
        for record in read_topics(
            self.bootstrap_servers, [self.topic], client_kwargs=self.client_kwargs, since=since
        ):
            receipt = Receipt.model_validate(self.codec.decode(record.value, "receipt").datum)
            yield receipt, receipt.verifies(self.hub_keys)

    def wait_for(
        self,
        *,
        published_at: datetime,
        event_id: uuid.UUID | None = None,
        position: tuple[int, int] | None = None,
        timeout_s: float = 30.0,
    ) -> Receipt:
        """The receipt for the record published at ``published_at`` with this event id (the
        first, if it was published twice) or at this (partition, offset) of the ingest
        topic, once the hub has written it and its signature verifies."""
        if (event_id is None) == (position is None):
            raise ValueError("wait for an event id or an ingest position")
        deadline = time.monotonic() + timeout_s
        while True:
            for receipt, verified in self.read(since=published_at - CLOCK_SLACK):
                place = (receipt.ingest_partition, receipt.ingest_offset)
                if receipt.event_id == event_id or place == position:
                    if not verified:
                        raise HubError(f"receipt {receipt.receipt_id} is not signed by the hub")
                    return receipt
            if time.monotonic() > deadline:
                what = event_id or f"{self.topic}/{position}"
                raise HubError(f"no receipt for {what} within {timeout_s:g} s: is the hub up?")
            time.sleep(0.2)
