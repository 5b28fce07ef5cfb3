"""Erasure (expungement, end of retention): the hub's signed ``participant_erased``. Its
worker destroys the participant's data key when it folds the event, so the identity in
every copy of the log can no longer be decrypted, while the log still replays and proves.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from uuid import UUID

from hub.context import HubContext
from hub.errors import HubError
from hub.events import ErasureBasis, ParticipantErased
from hub.log import Publisher, client_kwargs


def erasure_basis(basis: str) -> ErasureBasis:
    try:
        return ErasureBasis(basis)
    except ValueError:
        choices = ", ".join(b.value for b in ErasureBasis)
        raise HubError(f"--basis must be one of {choices}, not {basis!r}") from None


def publish_erasure(
    hub: HubContext, bootstrap: Sequence[str], participant: str, basis: str, by: str
) -> UUID:
    """The hub's signed participant_erased; its worker destroys the key when it folds it."""
    lawful = erasure_basis(basis)
    held = hub.datakeys.get(participant)
    if held is None:
        raise HubError(f"no data key is held for participant {participant!r} (erased already?)")
    body = ParticipantErased(basis=lawful, key_id=held[0], authorised_by=by)
    with Publisher(
        key=hub.hub_key,
        codec=hub.codec,
        bootstrap_servers=list(bootstrap),
        client_kwargs=client_kwargs(hub.settings),
    ) as publisher:
        envelope = publisher.publish(
            body, participant_id=participant, occurred_at=datetime.now(UTC)
        )
    return envelope.event_id
