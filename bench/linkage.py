"""Record linkage against the truth: synthetic people referred, then a share of them referred
again with one kind of difference each and a share of namesakes (producers.variants), fed in
order, each under an id of its own, to the hub's linker (hub.domain.linkage): it answers
each referral as the worker's disclosure step does, then folds it in as every worker's
follower does, and folds its answer in as the log would. Printed: precision of the automatic
links, recall (re-referrals linked or put to case management as a probable match), the tasks
it makes, recall by kind of difference, and the cost per referral with the index at its
full size.

`python -m bench.linkage [PEOPLE]`; `make bench` runs it at 100,000."""

from __future__ import annotations

import json
import sys
import time
import uuid
from collections import Counter
from random import Random
from typing import Any

from hub.domain import Linker, Thresholds
from hub.events import Identity
from producers.variants import referrals

SECRET = b"bench: a fixed linkage secret, never a deployment's"


def main(people: int, thresholds: Thresholds | None = None) -> dict[str, Any]:
    thresholds = thresholds or Thresholds()
    refs = referrals(Random(20261207), people)
    # each referral's identity as the linker keeps it: its "nonce" says which (no cipher:
    # the worker's AES-GCM opening costs about a microsecond, the decoding is counted in
    # the codec figures)
    held: dict[bytes, Identity] = {}
    linker = Linker(SECRET, lambda participant, nonce, ciphertext: held.get(nonce))
    person_of: dict[str, int] = {}
    n = Counter[str]()
    by_kind, found_kind = Counter[str](), Counter[str]()
    seconds = {"first": 0.0, "again": 0.0}
    for number, ref in enumerate(refs):
        pid = f"P{number}"  # each referral its own id, as the hub issues them
        person_of[pid] = ref.person
        nonce = number.to_bytes(12, "big")
        held[nonce] = ref.identity
        field = {"nonce": nonce, "ciphertext": b""}
        started = time.perf_counter()
        found = linker.decide(uuid.UUID(int=number), pid, field, thresholds)  # the disclosure
        linker.follow(pid, "referral_made", {"identity": field})  # every worker's follower
        seconds["first" if ref.kind == "first" else "again"] += time.perf_counter() - started
        if found is not None:
            linker.follow(pid, found.event_type, found.body)  # the answer, on the log
        right = found is not None and person_of[found.body["linked_participant_id"]] == ref.person
        link = found is not None and found.event_type == "participants_linked"
        if ref.kind not in ("first", "namesake"):
            by_kind[ref.kind] += 1
            n["repeats"] += 1
            if right:
                found_kind[ref.kind] += 1
                n["found"] += 1
                n["linked" if link else "confirmed_by_task"] += 1
        if found is not None:
            n["links" if link else "tasks"] += 1
            n[("wrong_links" if link else "tasks_wrong")] += 0 if right else 1
    firsts = sum(1 for r in refs if r.kind == "first")
    later = len(refs) - firsts
    return {
        "people": people,
        "referrals": len(refs),
        "re_referrals": n["repeats"],
        "namesakes": sum(1 for r in refs if r.kind == "namesake"),
        "precision": (n["links"] - n["wrong_links"]) / n["links"] if n["links"] else 1.0,
        "recall": n["found"] / n["repeats"] if n["repeats"] else 1.0,
        "recall_automatic": n["linked"] / n["repeats"] if n["repeats"] else 1.0,
        "links": n["links"],
        "wrong_links": n["wrong_links"],
        "tasks": n["tasks"],
        "tasks_wrong": n["tasks_wrong"],
        "recall_by_kind": {k: found_kind[k] / by_kind[k] for k in sorted(by_kind)},
        "ms_per_first_referral": seconds["first"] / firsts * 1000,
        "ms_per_later_referral": seconds["again"] / later * 1000 if later else 0.0,
        "thresholds": {"match": thresholds.match, "probable": thresholds.probable},
    }


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000), indent=1))
