"""``leadhub plan`` and ``leadhub apply``: the cluster's topics and ACLs as code.

``plan`` needs no broker: it prints what deploy/ says the cluster must hold, so a change
to agencies.yaml, topics.yaml or acls.yaml can be reviewed before anyone applies it.
``apply`` brings a cluster in step (``--dry-run``: only say what it would change).
"""

from __future__ import annotations

from typing import Annotated

import typer

from hub.cli.common import (
    BootstrapOption,
    ConfigOption,
    app,
    bootstrap_for,
    context_from,
)
from hub.errors import HubError
from hub.events import check_topics_file
from hub.log import ADMIN, client_kwargs


@app.command("plan")
def plan(config: ConfigOption = None) -> None:
    """Print the topics and ACLs the cluster needs, from deploy/ (agencies, topics, acls)."""
    from hub.ops import desired_state, plan_lines

    hub = context_from(config)
    check_topics_file(hub.settings.topics_file)
    desired = desired_state(hub.settings, hub.agencies)
    for line in plan_lines(desired):
        typer.echo(line)


@app.command("apply")
def apply(
    config: ConfigOption = None,
    bootstrap_servers: BootstrapOption = None,
    dry_run: Annotated[
        bool, typer.Option(help="print what would be created, changed or removed")
    ] = False,
    grow_partitions: Annotated[
        bool, typer.Option(help="allow adding partitions (moves participants' keys)")
    ] = False,
    skip_acls: Annotated[
        bool, typer.Option(help="manage topics only (a broker without an authorizer)")
    ] = False,
    timeout: Annotated[
        float, typer.Option(min=0.5, max=600, help="seconds to wait for each admin request")
    ] = 30.0,
) -> None:
    """Create or update the cluster's topics and ACLs to match deploy/."""
    from hub.ops import (
        AclsUnavailable,
        admin_client,
        apply_acls,
        apply_topics,
        desired_state,
        diff,
        observe,
    )

    hub = context_from(config)
    settings = hub.settings
    check_topics_file(settings.topics_file)
    desired = desired_state(settings, hub.agencies)
    servers = bootstrap_for(settings, bootstrap_servers)
    with admin_client(servers, client_kwargs(settings, ADMIN), timeout) as admin:
        observed = observe(admin, [s.name for s in desired.topics], timeout)
        d = diff(desired, observed, grow_partitions=grow_partitions)
        if skip_acls:
            d.create_acls, d.delete_acls, d.acls_problem = [], [], None
        if dry_run:
            for line in d.lines():
                typer.echo(line)
            if d.topics_in_step and d.acls_in_step and not d.conflicts:
                typer.echo("in step: nothing to create, change or remove")
            return
        done = apply_topics(admin, d)
        for line in done:
            typer.echo(line)
        for line in d.lines():
            if line.startswith(("!", "?")) and not line.startswith("! acls:"):
                typer.echo(line)
        topics = f"topics: {len(done)} change(s)" if done else "topics: in step"
        if skip_acls:
            typer.echo(f"{topics}; ACLs skipped (--skip-acls)")
        else:
            try:
                acl_done = apply_acls(admin, d, timeout)
            except AclsUnavailable as exc:
                raise HubError(
                    f"apply: {topics}; ACLs not applied: {exc} "
                    "(use --skip-acls on a broker without an authorizer)"
                ) from None
            for line in acl_done:
                typer.echo(line)
            typer.echo(f"{topics}; acls: {len(acl_done)} change(s)" if acl_done else
                       f"{topics}; acls: in step")  # fmt: skip
    if d.conflicts:
        raise HubError(f"apply: {len(d.conflicts)} difference(s) need an operator (see above)")
