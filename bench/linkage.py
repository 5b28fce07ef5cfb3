"""Record linkage against the truth: synthetic people referred, then a share of them referred
again with one kind of difference each and a share of namesakes (producers.variants), fed in
order to keyed blocking tokens and Fellegi-Sunter scoring as the hub would (a match joins the
earlier participant, anything else starts a new one). Printed: precision of the automatic
links, recall (re-referrals linked or put to case management as a probable match), the tasks
it makes, recall by kind of difference, and the cost per referral with the index at its
full size.

`python -m bench.linkage [PEOPLE]`; `make bench` runs it at 100,000."""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from random import Random
from typing import Any

from hub.domain import Thresholds, TokenIndex, Verdict, blocking_tokens, score
from hub.events import Identity
from producers.variants import referrals

SECRET = b"bench: a fixed linkage secret, never a deployment's"


def main(people: int, thresholds: Thresholds | None = None) -> dict[str, Any]:
    thresholds = thresholds or Thresholds()
    refs = referrals(Random(20261207), people)
    index = TokenIndex()
    identities: dict[str, list[Identity]] = {}  # participant -> the identities referred
    person_of: dict[str, int] = {}
    n = Counter[str]()
    by_kind, found_kind = Counter[str](), Counter[str]()
    seconds = {"first": 0.0, "again": 0.0}
    for number, ref in enumerate(refs):
        started = time.perf_counter()
        tokens = blocking_tokens(ref.identity, SECRET)
        best, best_pid = None, None
        for candidate in index.candidates(tokens):
            for known in identities[candidate]:
                scored = score(ref.identity, known)
                if best is None or scored.weight > best.weight:
                    best, best_pid = scored, candidate
        verdict = best.verdict(thresholds) if best is not None else Verdict.NONE
        seconds["first" if ref.kind == "first" else "again"] += time.perf_counter() - started
        right = best_pid is not None and person_of[best_pid] == ref.person
        repeat = ref.kind not in ("first", "namesake")
        if repeat:
            by_kind[ref.kind] += 1
            n["repeats"] += 1
            if verdict is not Verdict.NONE and right:
                found_kind[ref.kind] += 1
                n["found"] += 1
                n["linked" if verdict is Verdict.MATCH else "confirmed_by_task"] += 1
        if verdict is Verdict.MATCH:
            n["links"] += 1
            n["wrong_links"] += 0 if right else 1
        elif verdict is Verdict.PROBABLE:
            n["tasks"] += 1
            n["tasks_wrong"] += 0 if right else 1
        if verdict is Verdict.MATCH and best_pid is not None:
            pid = best_pid
        else:
            pid = f"P{number}"
            person_of[pid] = ref.person
        index.add(pid, tokens)
        identities.setdefault(pid, []).append(ref.identity)
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
