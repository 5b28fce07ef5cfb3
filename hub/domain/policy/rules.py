"""The data-sharing policy as data (deploy/policy.yaml), and the checks that make a policy
file safe to put in force: every agency, event type, field and notice it names exists,
no two rules answer the same question, and no rule breaks a prohibition."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from hub.domain.linkage import Thresholds
from hub.errors import HubError
from hub.events import EVENT_MODELS, Purpose

# The notice id whose text is the 42 CFR 2.32 prohibition on redisclosure; every rule that
# discloses Part 2 data must attach it.
PART2_NOTICE = "part2_redisclosure"


class PolicyError(HubError):
    """The policy file is unusable; the message names the rule and what is wrong."""


class ConsentKind(StrEnum):
    NONE = "none"  # covered by the program's interagency agreement (justice-to-justice)
    PROGRAM = "program"  # the participant's general LEAD release of information
    PART2 = "part2"  # a written 42 CFR 2.31 consent that names the recipient


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rule(_Strict):
    """One recipient's view of some event types: what it sees, why, and on what authority."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    recipient: str
    purpose: Purpose
    consent: ConsentKind
    basis: str = Field(min_length=1, description="the agreement or regulation relied on")
    disclose: dict[str, tuple[str, ...]] = Field(min_length=1)
    notices: tuple[str, ...] = ()


class Prohibition(_Strict):
    """What no rule and no consent can permit (e.g. Part 2 records to law enforcement)."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    recipients: frozenset[str] = Field(min_length=1)
    categories: frozenset[str] = Field(min_length=1)
    basis: str = Field(min_length=1)


class Reminders(_Strict):
    """When the hub reminds before a deadline. Part of the policy, not of a worker's
    settings: the reminders are decided from the log, and the policy in force at each log
    position is on the log (policy_published), so replay derives the same ones."""

    intake_deadline_hours: tuple[Annotated[int, Field(ge=1, le=30 * 24)], ...] = (72, 24)
    consent_expiry_days: tuple[Annotated[int, Field(ge=1, le=365)], ...] = (14,)

    @field_validator("intake_deadline_hours", "consent_expiry_days")
    @classmethod
    def _distinct(cls, marks: tuple[int, ...]) -> tuple[int, ...]:
        if len(set(marks)) != len(marks):
            raise ValueError("a reminder mark is listed twice")
        return tuple(sorted(marks, reverse=True))


class Linkage(_Strict):
    """When a new referral's identity is linked to an earlier participant's without asking
    (its Fellegi-Sunter weight, in bits, at or above ``match_weight``), when it becomes a
    task for ``reviewer`` to confirm or dismiss (at or above ``probable_weight``), and
    otherwise not at all. Who learns of a link or a task is not said here but by the
    rules, like any event (participants_linked, match_suspected): so consent,
    prohibitions, minimum necessary and the audit apply to linkage as to everything."""

    match_weight: float = Field(default=20.0, ge=0)
    probable_weight: float = Field(default=12.0, ge=0)
    reviewer: str = "cm"

    @model_validator(mode="after")
    def _ordered(self) -> Linkage:
        if self.probable_weight > self.match_weight:
            raise ValueError("probable_weight is above match_weight")
        return self

    @property
    def thresholds(self) -> Thresholds:
        return Thresholds(self.match_weight, self.probable_weight)


class Policy(_Strict):
    version: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    notices: dict[str, str] = Field(default_factory=dict)
    reminders: Reminders = Field(default_factory=Reminders)
    linkage: Linkage = Field(default_factory=Linkage)
    prohibitions: tuple[Prohibition, ...] = ()
    rules: tuple[Rule, ...]
    sha256: str = Field(default="", description="of the file's bytes; set by load_policy")

    def rule_for(self, recipient: str, event_type: str) -> Rule | None:
        return self._index().get((recipient, event_type))

    def prohibition_for(self, recipient: str, category: str) -> Prohibition | None:
        for p in self.prohibitions:
            if recipient in p.recipients and category in p.categories:
                return p
        return None

    def _index(self) -> Mapping[tuple[str, str], Rule]:
        cached: dict[tuple[str, str], Rule] | None = self.__dict__.get("_rule_index")
        if cached is None:
            cached = {(r.recipient, t): r for r in self.rules for t in r.disclose}
            object.__setattr__(self, "_rule_index", cached)  # frozen model: cache once
        return cached


def category_of(event_type: str) -> str:
    return EVENT_MODELS[event_type].category


def check_policy(policy: Policy, agencies: Iterable[str]) -> None:
    """Raise PolicyError on the first thing that would make a decision wrong or ambiguous."""
    known = set(agencies)
    categories = {m.category for m in EVENT_MODELS.values()}
    for p in policy.prohibitions:
        for agency in sorted(p.recipients - known):
            raise PolicyError(f"prohibition {p.id}: unknown agency {agency!r}")
        for category in sorted(p.categories - categories):
            raise PolicyError(f"prohibition {p.id}: unknown category {category!r}")
    reviewer = policy.linkage.reviewer
    if reviewer not in known:
        raise PolicyError(f"linkage: unknown reviewer {reviewer!r}")
    answered: dict[tuple[str, str], str] = {}
    seen_ids: set[str] = set()
    for rule in policy.rules:
        if rule.id in seen_ids:
            raise PolicyError(f"rule {rule.id}: duplicate rule id")
        seen_ids.add(rule.id)
        if rule.recipient not in known:
            raise PolicyError(f"rule {rule.id}: unknown agency {rule.recipient!r}")
        for notice in rule.notices:
            if notice not in policy.notices:
                raise PolicyError(f"rule {rule.id}: unknown notice {notice!r}")
        for event_type, fields in rule.disclose.items():
            _check_disclosure(policy, rule, event_type, fields)
            other = answered.setdefault((rule.recipient, event_type), rule.id)
            if other != rule.id:
                raise PolicyError(
                    f"rule {rule.id}: {event_type} to {rule.recipient} is already decided "
                    f"by {other}"
                )
    # (a policy written before linkage says nothing of it: its tasks are denied to all)
    if (
        "linkage" in policy.model_fields_set
        and policy.rule_for(reviewer, "match_suspected") is None
    ):
        raise PolicyError(
            f"linkage: no rule discloses match_suspected to the reviewer {reviewer}: its "
            "tasks would reach no one"
        )


def _check_disclosure(policy: Policy, rule: Rule, event_type: str, fields: tuple[str, ...]) -> None:
    where = f"rule {rule.id}"
    model = EVENT_MODELS.get(event_type)
    if model is None:
        raise PolicyError(f"{where}: unknown event type {event_type!r}")
    for name in fields:
        if name not in model.model_fields:
            raise PolicyError(f"{where}: {event_type} has no field {name!r}")
    if len(set(fields)) != len(fields):
        raise PolicyError(f"{where}: {event_type} lists a field twice")
    banned = policy.prohibition_for(rule.recipient, model.category)
    if banned is not None:
        raise PolicyError(
            f"{where}: {event_type} ({model.category}) to {rule.recipient} "
            f"breaks prohibition {banned.id}"
        )
    if model.category == "sud_treatment":
        if rule.consent is not ConsentKind.PART2:
            raise PolicyError(f"{where}: {event_type} is Part 2 data: consent must be part2")
        if PART2_NOTICE not in rule.notices:
            raise PolicyError(f"{where}: Part 2 disclosures must carry {PART2_NOTICE!r}")


def load_policy(path: Path, agencies: Iterable[str]) -> Policy:
    """Read, validate and check a policy file; its sha256 is what policy_published names."""
    try:
        raw = path.read_bytes()
    except OSError:
        raise PolicyError(f"{path}: cannot read policy file") from None
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError:
        raise PolicyError(f"{path}: not valid YAML") from None
    if isinstance(data, dict):
        data["sha256"] = hashlib.sha256(raw).hexdigest()
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise PolicyError(f"{path}: {where}: {first['msg']}") from None
    try:
        check_policy(policy, agencies)
    except PolicyError as exc:
        raise PolicyError(f"{path}: {exc}") from None
    return policy
