"""Generated LEAD histories for one participant, and an oracle that decides by brute force.

The oracle re-reads the raw history prefix for every question and shares no code with
hub.domain.policy's folding, so agreement between the two is evidence, not tautology.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import yaml

from hub.domain.policy import Policy, PolicyEvent
from hub.domain.policy.rules import check_policy, load_policy
from hub.events.models import EVENT_MODELS, ConsentGranted, ConsentRevoked, DataCategory, Purpose
from producers.samples import sample_event
from tests.support.fakes import fake_seal
from tests.support.paths import DEPLOY

RECIPIENTS = ["bpd", "sao", "opd", "cm", "bchd", "tx", "hsg"]
AGENCIES = [*RECIPIENTS, "hub"]
CASE_REFS = ["case-a", "case-b"]
LOCK_EVENTS = ["charges_declined", "charges_filed", "program_exited"]
DATA_TYPES = [
    t
    for t in EVENT_MODELS
    if t not in {"consent_granted", "consent_revoked", "policy_published", "participant_erased"}
]
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def default_policy() -> Policy:
    return load_policy(DEPLOY / "policy.yaml", AGENCIES)


def variant_policy() -> Policy:
    """A second version: Part 2 to cm withdrawn, housing to hsg added."""
    data = yaml.safe_load((DEPLOY / "policy.yaml").read_text())
    data["version"] = "test-variant"
    data["rules"] = [r for r in data["rules"] if r["id"] != "cm.treatment"]
    data["rules"].append(
        {
            "id": "hsg.housing-test",
            "recipient": "hsg",
            "purpose": "CARE_COORDINATION",
            "consent": "program",
            "basis": "test",
            "disclose": {"housed": ["housing_type"]},
        }
    )
    data["sha256"] = "f" * 64
    policy = Policy.model_validate(data)
    check_policy(policy, AGENCIES)
    return policy


def emitters() -> Mapping[str, list[str]]:
    raw = yaml.safe_load((DEPLOY / "agencies.yaml").read_text())["agencies"]
    return {t: [a for a, v in raw.items() if t in v["emits"]] for t in EVENT_MODELS}


_EMITTERS = emitters()


def _subset(rng: random.Random, items: Sequence[str], at_least: int = 1) -> list[str]:
    k = rng.randint(at_least, len(items))
    return rng.sample(list(items), k)


@dataclass
class Generator:
    rng: random.Random
    policies: Sequence[Policy]
    now: datetime = START

    def __post_init__(self) -> None:
        self.grants: list[dict[str, Any]] = []
        self.started = False

    def _time(self) -> datetime:
        """Mostly forward by a random step; often exactly on a consent boundary, to the
        microsecond, because that is where an off-by-one would disclose."""
        r = self.rng.random()
        if self.grants and r < 0.35:
            g = self.rng.choice(self.grants)
            edge = self.rng.choice([g["effective_at"], g["expires_at"]])
            return edge + timedelta(microseconds=self.rng.choice([-1, 0, 1]))
        self.now += timedelta(microseconds=self.rng.randint(1, 3 * 86_400_000_000))
        return self.now

    def _grant(self) -> dict[str, Any]:
        rng = self.rng
        recipients = _subset(rng, RECIPIENTS, at_least=3)
        categories = _subset(rng, [c.value for c in DataCategory])
        effective = self.now + timedelta(
            microseconds=rng.randint(-2 * 86_400_000_000, 86_400_000_000)
        )
        body: dict[str, Any] = {
            "consent_id": uuid.UUID(int=rng.getrandbits(128), version=4),
            "form_version": "lead-roi-test",
            "recipients": recipients,
            "categories": categories,
            "purposes": _subset(rng, [p.value for p in Purpose], at_least=3),
            "effective_at": effective,
            "expires_at": effective + timedelta(microseconds=rng.randint(1, 10 * 86_400_000_000)),
        }
        if "SUD_TREATMENT" in categories:
            body["part2"] = {
                "patient_acknowledged": True,
                "disclosing_program": "tx",
                "information_description": "ADMISSION_DISCHARGE",
                "purpose": "care coordination",
                "recipients_named": _subset(rng, recipients),
                "revocation_right_stated": True,
                "expiry_description": "one year",
                "signed": True,
                "signed_on": effective.date(),
                "signer_role": "PATIENT",
            }
        if rng.random() < 0.3:
            body["criminal_justice_lock"] = {
                "regulation": "42 CFR 2.35",
                "justice_agency": rng.choice(recipients),
                "case_ref": rng.choice([None, *CASE_REFS]),
                "locked_until_event": rng.choice(LOCK_EVENTS),
            }
        validated = ConsentGranted.model_validate(body).model_dump()
        self.grants.append(validated)
        return validated

    def _revocation(self) -> dict[str, Any]:
        rng = self.rng
        consent_id = (
            rng.choice(self.grants)["consent_id"]
            if self.grants and rng.random() < 0.9
            else uuid.UUID(int=rng.getrandbits(128), version=4)
        )
        scope = rng.choice(["ALL", "RECIPIENTS"])
        recipients = [] if scope == "ALL" else _subset(rng, RECIPIENTS)
        return ConsentRevoked.model_validate(
            {
                "consent_id": consent_id,
                "revoked_at": self.now,
                "in_writing": rng.random() < 0.8,
                "scope": scope,
                "recipients": recipients,
            }
        ).model_dump()

    def _published(self) -> dict[str, Any]:
        rng = self.rng
        r = rng.random()
        if r < 0.8:
            policy = rng.choice(self.policies)
            return {"policy_version": policy.version, "policy_sha256": policy.sha256}
        if r < 0.9:  # a known version with the wrong hash: not the policy we hold
            return {"policy_version": self.policies[0].version, "policy_sha256": "0" * 64}
        return {"policy_version": "never-heard-of-it", "policy_sha256": "1" * 64}

    def event(self) -> PolicyEvent:
        rng = self.rng
        r = rng.random()
        if not self.started:  # the hub publishes its policy before anything else
            self.started = True
            policy = rng.choice(self.policies)
            event_type, body = (
                "policy_published",
                {"policy_version": policy.version, "policy_sha256": policy.sha256},
            )
        elif r < 0.10:
            event_type, body = "consent_granted", self._grant()
        elif r < 0.13:
            event_type, body = "consent_revoked", self._revocation()
        elif r < 0.145:
            event_type, body = "policy_published", self._published()
        elif r < 0.1455:
            event_type, body = "participant_erased", {"basis": "EXPUNGEMENT"}
        else:
            event_type = rng.choice(DATA_TYPES)
            body = self.data_body(event_type)
        return self.make(event_type, body)

    def data_body(self, event_type: str) -> dict[str, Any]:
        body = sample_event(event_type, self.rng, fake_seal).model_dump()
        if "case_ref" in body:
            body["case_ref"] = self.rng.choice(CASE_REFS)
        return body

    def make(self, event_type: str, body: dict[str, Any]) -> PolicyEvent:
        rng = self.rng
        return PolicyEvent(
            event_id=uuid.UUID(int=rng.getrandbits(128), version=4),
            event_type=event_type,
            source=rng.choice(_EMITTERS[event_type]),
            participant_id="P-PROPERTY01",
            at=self._time(),
            body=body,
        )


def generate(seed: int, length: int, policies: Sequence[Policy]) -> list[PolicyEvent]:
    gen = Generator(random.Random(seed), policies)
    return [gen.event() for _ in range(length)]


# --------------------------------------------------------------------------- the oracle


def _lifts(lock: Mapping[str, Any], event: PolicyEvent) -> bool:
    return event.event_type == lock["locked_until_event"] and (
        lock["case_ref"] is None or event.body.get("case_ref") == lock["case_ref"]
    )


def oracle(
    history: Sequence[PolicyEvent], position: int, recipient: str, policies: Sequence[Policy]
) -> tuple[bool, uuid.UUID | None, Policy | None]:
    """Whether history[position] may be disclosed to recipient, by re-reading the prefix."""
    prefix = history[: position + 1]
    event = history[position]
    policy: Policy | None = None
    for e in prefix:
        if e.event_type == "policy_published":
            policy = next(
                (
                    p
                    for p in policies
                    if p.version == e.body["policy_version"] and p.sha256 == e.body["policy_sha256"]
                ),
                None,
            )
    if event.event_type == "records_viewed":  # a read: logged for its reader, whatever else
        return recipient == event.body["viewer"], None, policy
    if policy is None or event.source == recipient:
        return False, None, policy
    if any(e.event_type == "participant_erased" for e in prefix):
        return False, None, policy
    category = EVENT_MODELS[event.event_type].category
    for ban in policy.prohibitions:
        if recipient in ban.recipients and category in ban.categories:
            return False, None, policy
    rules = [r for r in policy.rules if r.recipient == recipient and event.event_type in r.disclose]
    if not rules:
        return False, None, policy
    rule = rules[0]
    if rule.consent.value == "none":
        return True, None, policy
    seen: set[uuid.UUID] = set()
    for i, e in enumerate(prefix):
        if e.event_type != "consent_granted" or e.body["consent_id"] in seen:
            continue
        g = e.body
        seen.add(g["consent_id"])
        if recipient not in g["recipients"] or category.upper() not in [
            str(c) for c in g["categories"]
        ]:
            continue
        if rule.purpose.value not in [str(p) for p in g["purposes"]]:
            continue
        if rule.consent.value == "part2" and (
            not g["part2"] or recipient not in g["part2"]["recipients_named"]
        ):
            continue
        if not g["effective_at"] <= event.at < g["expires_at"]:
            continue
        later = prefix[i + 1 :]
        revoked = any(
            r.event_type == "consent_revoked"
            and r.body["consent_id"] == g["consent_id"]
            and (str(r.body["scope"]) == "ALL" or recipient in r.body["recipients"])
            for r in later
        )
        lock = g["criminal_justice_lock"]
        if revoked and lock and lock["justice_agency"] == recipient:
            revoked = any(_lifts(lock, x) for x in later)
        if not revoked:
            return True, g["consent_id"], policy
    return False, None, policy
