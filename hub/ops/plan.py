"""What a cluster should hold (topics and ACLs from deploy/), what it holds, and the
difference: pure code, so `leadhub plan`, `apply --dry-run` and `apply` agree by
construction and the difference can be tested without a broker (hub.ops.cluster does I/O).

Apply only ever adds or corrects; some differences it refuses to fix on its own:
- a topic on the cluster that deploy/ does not declare is reported, never deleted
  (the log is the truth: deleting a topic destroys evidence);
- fewer partitions than the cluster has cannot be had (Kafka cannot shrink a topic);
- more partitions move participants to other partitions, and with them the order of
  their consent and data events, so growing needs an explicit ``--grow-partitions``;
- a replication factor differs: that is a partition reassignment, an operator's job.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from hub.config import Settings
from hub.events import TopicSpec, load_topic_specs
from hub.log import ANY_HOST, Grant

MIN_INSYNC = "min.insync.replicas"
MANAGED_PREFIX = "lead."

# (principal, host, resource type, pattern type, name, operation, permission)
AclKey = tuple[str, str, str, str, str, str, str]


def acl_key(grant: Grant) -> AclKey:
    return (
        grant.principal,
        ANY_HOST,
        grant.resource_type.value,
        grant.pattern.value,
        grant.name,
        grant.operation.value,
        "ALLOW",
    )


def render_key(key: AclKey) -> str:
    principal, host, rtype, pattern, name, op, permission = key
    extra = "" if (host, pattern, permission) == (ANY_HOST, "LITERAL", "ALLOW") else (
        f" [{permission} host={host} pattern={pattern}]"
    )  # fmt: skip
    return f"{principal:22} {op:8} {rtype.lower():5} {name}{extra}"


@dataclass(frozen=True)
class Desired:
    topics: list[TopicSpec]
    acls: list[Grant]

    @property
    def acl_keys(self) -> set[AclKey]:
        return {acl_key(g) for g in self.acls}


def with_min_insync(specs: Iterable[TopicSpec]) -> list[TopicSpec]:
    """With three or more replicas an acks=all write must reach two of them: it survives
    one broker down and is refused, not silently under-replicated, with two down. Set per
    topic, so a broker whose default was forgotten still holds the line."""
    out = []
    for spec in specs:
        if spec.replication_factor >= 3 and MIN_INSYNC not in spec.configs:
            configs = {**spec.configs, MIN_INSYNC: "2"}
            out.append(spec.model_copy(update={"configs": configs}))
        else:
            out.append(spec)
    return out


def desired_state(settings: Settings, agencies: Iterable[str]) -> Desired:
    from hub.log import desired_acls, load_principals

    names = list(agencies)
    specs = load_topic_specs(settings.topics_file, names, settings.broker.replication_factor)
    return Desired(
        topics=with_min_insync(specs),
        acls=desired_acls(names, load_principals(settings.acls_file)),
    )


@dataclass(frozen=True)
class ObservedTopic:
    name: str
    partitions: int
    replication_factor: int
    configs: dict[str, str] | None  # None: the broker did not report them


@dataclass(frozen=True)
class Observed:
    topics: dict[str, ObservedTopic]
    acls: set[AclKey] | None  # None: the broker could not list ACLs
    acls_problem: str | None = None


@dataclass
class Diff:
    create_topics: list[TopicSpec] = field(default_factory=list)
    grow_partitions: dict[str, tuple[int, int]] = field(default_factory=dict)
    alter_configs: dict[str, dict[str, tuple[str | None, str]]] = field(default_factory=dict)
    conflicts: list[str] = field(default_factory=list)
    unmanaged_topics: list[str] = field(default_factory=list)
    create_acls: list[AclKey] = field(default_factory=list)
    delete_acls: list[AclKey] = field(default_factory=list)
    acls_problem: str | None = None

    @property
    def topics_in_step(self) -> bool:
        return not (self.create_topics or self.grow_partitions or self.alter_configs)

    @property
    def acls_in_step(self) -> bool:
        return self.acls_problem is None and not (self.create_acls or self.delete_acls)

    def lines(self) -> list[str]:
        """`+` create, `~` change, `-` remove, `!` needs an operator, `?` left alone."""
        out = [
            f"+ topic {s.name} partitions={s.partitions} replication={s.replication_factor}"
            for s in self.create_topics
        ]
        out += [
            f"~ topic {name} partitions {have} -> {want}"
            for name, (have, want) in sorted(self.grow_partitions.items())
        ]
        for name, changes in sorted(self.alter_configs.items()):
            out += [
                f"~ topic {name} {key}: {have if have is not None else '(unset)'} -> {want}"
                for key, (have, want) in sorted(changes.items())
            ]
        out += [f"! {c}" for c in self.conflicts]
        out += [
            f"? topic {n} is not declared in deploy/ (left alone)" for n in self.unmanaged_topics
        ]
        out += [f"+ acl {render_key(k)}" for k in self.create_acls]
        out += [f"- acl {render_key(k)}" for k in self.delete_acls]
        if self.acls_problem:
            out.append(f"! acls: {self.acls_problem}")
        return out


def _in_scope(key: AclKey, principals: set[str], resources: set[str]) -> bool:
    """ACLs apply may remove: those of a principal it manages or on a resource it manages
    (so an agency struck from agencies.yaml loses its grants), never anyone else's."""
    principal, _, _, _, name, _, _ = key
    return principal in principals or name in resources or name.startswith(MANAGED_PREFIX)


def diff(desired: Desired, observed: Observed, *, grow_partitions: bool = False) -> Diff:
    d = Diff(acls_problem=observed.acls_problem)
    declared = {s.name for s in desired.topics}
    for spec in desired.topics:
        have = observed.topics.get(spec.name)
        if have is None:
            d.create_topics.append(spec)
            continue
        if have.replication_factor != spec.replication_factor:
            d.conflicts.append(
                f"topic {spec.name} has replication {have.replication_factor}, deploy/ says "
                f"{spec.replication_factor}: reassign its partitions (kafka-reassign-partitions)"
            )
        if have.partitions > spec.partitions:
            d.conflicts.append(
                f"topic {spec.name} has {have.partitions} partitions, deploy/ says "
                f"{spec.partitions}: Kafka cannot shrink a topic; declare {have.partitions}"
            )
        elif have.partitions < spec.partitions:
            if grow_partitions:
                d.grow_partitions[spec.name] = (have.partitions, spec.partitions)
            else:
                d.conflicts.append(
                    f"topic {spec.name} has {have.partitions} partitions, deploy/ says "
                    f"{spec.partitions}: growing re-keys participants; stop every producer "
                    "and pass --grow-partitions"
                )
        if have.configs is not None:
            changes = {
                k: (have.configs.get(k), v)
                for k, v in sorted(spec.configs.items())
                if have.configs.get(k) != v
            }
            if changes:
                d.alter_configs[spec.name] = changes
    d.unmanaged_topics = sorted(
        n for n in observed.topics if n.startswith(MANAGED_PREFIX) and n not in declared
    )
    if observed.acls is not None:
        want = desired.acl_keys
        principals = {g.principal for g in desired.acls}
        resources = {g.name for g in desired.acls}
        d.create_acls = sorted(want - observed.acls)
        d.delete_acls = sorted(
            k for k in observed.acls - want if _in_scope(k, principals, resources)
        )
    return d


def plan_lines(desired: Desired) -> list[str]:
    """The whole desired state, for `leadhub plan`: every topic, then every ACL and why."""
    out = ["topics:"]
    for s in desired.topics:
        configs = " ".join(f"{k}={v}" for k, v in sorted(s.configs.items()))
        out.append(
            f"  {s.name:24} partitions={s.partitions} replication={s.replication_factor} {configs}"
        )
    out.append(f"acls ({len(desired.acls)}, ALLOW from any host; everything else is denied):")
    out += [f"  {g.render():64} # {g.why}" for g in desired.acls]
    return out
