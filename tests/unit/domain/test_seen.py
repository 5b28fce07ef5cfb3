"""The kinds of "already seen" (hub.domain.seen): each recognises exactly its repeats."""

from __future__ import annotations

from uuid import UUID, uuid4

from hypothesis import given
from hypothesis import strategies as st

from hub.domain.seen import AcceptedIds, FirstSeen, OnTheLog, Positions

origins = st.builds(
    lambda topic, partition, offset: f"{topic}/{partition}/{offset}",
    st.sampled_from(["lead.ingest.bpd", "lead.ingest.cm", "lead.ingest.hub"]),
    st.integers(0, (1 << 16) - 1),
    st.integers(0, (1 << 40) - 1),
)


@given(st.lists(st.tuples(st.uuids(), origins), max_size=30), origins)
def test_accepted_ids_know_each_id_and_exactly_its_origin(
    accepted: list[tuple[UUID, str]], other: str
) -> None:
    ids = AcceptedIds()
    for event_id, origin in accepted:
        ids.add(event_id, origin)
    latest = dict(accepted)
    assert len(ids) == len(latest)
    for event_id, origin in latest.items():
        assert event_id in ids
        assert ids.came_from(event_id, origin)
        assert ids.came_from(event_id, other) == (other == origin)
    assert uuid4() not in ids
    assert "not a uuid" not in ids


def test_an_unknown_origin_matches_no_origin() -> None:
    ids = AcceptedIds()
    event_id = uuid4()
    ids.add(event_id, "restored")
    assert event_id in ids
    assert not ids.came_from(event_id, "restored")
    ids.add(event_id, f"lead.ingest.bpd/{1 << 16}/0")  # past what the packing holds
    assert not ids.came_from(event_id, f"lead.ingest.bpd/{1 << 16}/0")


def test_a_discarded_id_is_accepted_no_more() -> None:
    ids = AcceptedIds()
    event_id = uuid4()
    ids.add(event_id, "lead.ingest.bpd/0/7")
    ids.discard(event_id)
    ids.discard(event_id)  # twice is harmless: an uncommitted transaction's outputs
    assert event_id not in ids and len(ids) == 0


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 50)), max_size=40))
def test_positions_say_folded_for_everything_below_the_last_advance(
    steps: list[tuple[int, int]],
) -> None:
    positions = Positions()
    last: dict[int, int] = {}
    for partition, offset in steps:
        positions.advance(partition, offset)
        last[partition] = offset
    for partition in range(4):
        end = last.get(partition, -1) + 1
        assert positions[partition] == end
        assert all(positions.folded(partition, o) for o in range(end))
        assert not positions.folded(partition, end)
    positions.forget(0)
    assert positions[0] == 0 and not positions.folded(0, 0)


def test_on_the_log_drops_each_output_once() -> None:
    sent = OnTheLog()
    assert not sent
    assert sent.unsent(["a", "b"], lambda x: x) == ["a", "b"]
    sent.add("lead.audit/1")
    sent.add("lead.rejected/2")
    outs = ["lead.audit/1", "lead.audit/3", None, "lead.rejected/2"]
    assert sent.unsent(outs, lambda x: x) == ["lead.audit/3", None]
    assert not sent  # each is dropped once: derived again, it is sent
    assert sent.unsent(["lead.audit/1"], lambda x: x) == ["lead.audit/1"]


@given(st.lists(st.tuples(st.integers(0, 5), st.text(max_size=3))))
def test_first_seen_keeps_the_first_copy_and_counts_the_rest(
    records: list[tuple[int, str]],
) -> None:
    first: FirstSeen[int, str] = FirstSeen()
    kept = [first.keep(k, v) for k, v in records]
    expected: dict[int, str] = {}
    for k, v in records:
        expected.setdefault(k, v)
    assert dict(first) == expected
    assert sum(kept) == len(expected)
    assert first.repeats == len(records) - len(expected)
