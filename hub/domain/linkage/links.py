"""Which participant ids are one person, as the log's linkage events say.

A ``participants_linked`` joins two ids, a ``participants_unlinked`` parts them again, each
from its position on the log; ``match_suspected`` joins nothing (a question, not an
answer). A person is a connected group: linked A-B and B-C make A, B and C one timeline,
and parting B-C leaves A-B. Views, the report and replay fold the events they may see in
log order and ask for a participant's group."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hub.domain.linkage.linker import LINKED, UNLINKED

JOINING = frozenset({LINKED, UNLINKED})


@dataclass
class Links:
    _edges: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, events: Iterable[tuple[str, str, Mapping[str, Any]]]) -> Links:
        """From (participant, event type, body) in log order."""
        links = cls()
        for participant, event_type, body in events:
            links.apply(participant, event_type, body)
        return links

    def apply(self, participant: str, event_type: str, body: Mapping[str, Any]) -> None:
        if event_type not in JOINING:
            return
        other = body["linked_participant_id"]
        if event_type == LINKED:
            self._edges.setdefault(participant, set()).add(other)
            self._edges.setdefault(other, set()).add(participant)
        else:
            self._edges.get(participant, set()).discard(other)
            self._edges.get(other, set()).discard(participant)

    def group(self, participant: str) -> frozenset[str]:
        """The participant and every id linked to it, directly or through others."""
        found, todo = {participant}, [participant]
        while todo:
            for other in self._edges.get(todo.pop(), ()):
                if other not in found:
                    found.add(other)
                    todo.append(other)
        return frozenset(found)
