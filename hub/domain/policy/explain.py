"""The who-sees-what matrix of a policy, for people: terminal, Markdown or HTML."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass

from hub.domain.policy.rules import ConsentKind, Policy
from hub.events import EVENT_MODELS

LEGEND = {
    ConsentKind.NONE.value: "shared under the interagency agreement, no consent needed",
    "consent": "shared only under the participant's LEAD release in force",
    "Part 2": "shared only under a written 42 CFR 2.31 consent naming the recipient",
    "NEVER": "prohibited whatever any consent says",
    "own": "the recipient is the agency that emits this event type",
    "-": "not shared (no rule: denied by default)",
}
_CODE = {ConsentKind.NONE: "none", ConsentKind.PROGRAM: "consent", ConsentKind.PART2: "Part 2"}


@dataclass(frozen=True)
class Cell:
    code: str
    fields: tuple[str, ...] = ()
    rule_id: str = ""
    purpose: str = ""


def matrix(
    policy: Policy, recipients: Sequence[str], emits: Mapping[str, Set[str]]
) -> dict[str, dict[str, Cell]]:
    """event type -> recipient -> what that recipient is told, in catalogue order."""
    out: dict[str, dict[str, Cell]] = {}
    for event_type, model in EVENT_MODELS.items():
        row: dict[str, Cell] = {}
        for r in recipients:
            rule = policy.rule_for(r, event_type)
            if policy.prohibition_for(r, model.category):
                row[r] = Cell("NEVER")
            elif rule is None and event_type in emits.get(r, ()):
                row[r] = Cell("own")
            elif rule is None:
                row[r] = Cell("-")
            else:
                row[r] = Cell(
                    _CODE[rule.consent], rule.disclose[event_type], rule.id, rule.purpose.value
                )
        out[event_type] = row
    return out


def _title(policy: Policy) -> str:
    return f"LEAD Hub data-sharing policy {policy.version} (sha256 {policy.sha256[:16]}…)"


def _linkage(policy: Policy) -> str:
    link = policy.linkage
    return (
        f"linkage: a referral scoring {link.match_weight:g} bits or more against an earlier "
        f"participant is linked to them; from {link.probable_weight:g} bits, {link.reviewer} "
        "is asked to confirm (who learns either: the rows participants_linked and "
        "match_suspected)"
    )


def render_text(policy: Policy, recipients: Sequence[str], emits: Mapping[str, Set[str]]) -> str:
    m = matrix(policy, recipients, emits)
    width = max(len(t) for t in m) + len("[sud_treatment] ")
    lines = [_title(policy), "", _linkage(policy), ""]
    lines.append(f"{'event [category]':{width}}" + "".join(f"{r:>9}" for r in recipients))
    for event_type, row in m.items():
        label = f"{event_type} [{EVENT_MODELS[event_type].category}]"
        lines.append(f"{label:{width}}" + "".join(f"{row[r].code:>9}" for r in recipients))
    lines += ["", "legend:"] + [f"  {code:8} {text}" for code, text in LEGEND.items()]
    lines += ["", "fields disclosed (minimum necessary):"]
    for r in recipients:
        shared = [(t, row[r]) for t, row in m.items() if row[r].rule_id]
        lines.append(f"  {r}:" + ("" if shared else " nothing"))
        for t, cell in shared:
            fields = ", ".join(cell.fields) or "(the fact and its time only)"
            lines.append(f"    {t:26} {cell.code:8} {fields}   [{cell.rule_id}]")
    return "\n".join(lines) + "\n"


def render_markdown(
    policy: Policy, recipients: Sequence[str], emits: Mapping[str, Set[str]]
) -> str:
    m = matrix(policy, recipients, emits)
    lines = [f"# {_title(policy)}", "", _linkage(policy).capitalize(), ""]
    lines.append("| event | category | " + " | ".join(recipients) + " |")
    lines.append("|---|---|" + "---|" * len(recipients))
    for event_type, row in m.items():
        cells = " | ".join(row[r].code for r in recipients)
        lines.append(f"| `{event_type}` | {EVENT_MODELS[event_type].category} | {cells} |")
    lines += ["", "Legend: " + "; ".join(f"**{c}** {t}" for c, t in LEGEND.items()), ""]
    lines.append("## Fields disclosed (minimum necessary)")
    for r in recipients:
        lines += ["", f"### {r}", ""]
        shared = [(t, row[r]) for t, row in m.items() if row[r].rule_id]
        if not shared:
            lines.append("Nothing.")
        for t, cell in shared:
            fields = ", ".join(f"`{f}`" for f in cell.fields) or "the fact and its time only"
            lines.append(f"- `{t}` ({cell.code}, {cell.purpose}, rule `{cell.rule_id}`): {fields}")
    return "\n".join(lines) + "\n"


def render_html(policy: Policy, recipients: Sequence[str], emits: Mapping[str, Set[str]]) -> str:
    m = matrix(policy, recipients, emits)
    esc = html.escape
    head = "".join(f"<th scope='col'>{esc(r)}</th>" for r in recipients)
    rows = []
    for event_type, row in m.items():
        cells = "".join(
            f"<td class='{esc(row[r].code.replace(' ', ''))}' "
            f"title='{esc(', '.join(row[r].fields) or row[r].code)}'>{esc(row[r].code)}</td>"
            for r in recipients
        )
        category = esc(EVENT_MODELS[event_type].category)
        rows.append(f"<tr><th scope='row'>{esc(event_type)}</th><td>{category}</td>{cells}</tr>")
    legend = "".join(f"<li><b>{esc(c)}</b> {esc(t)}</li>" for c, t in LEGEND.items())
    return (
        "<!doctype html><html lang='en'><meta charset='utf-8'>"
        f"<title>{esc(_title(policy))}</title>"
        "<style>body{font-family:system-ui,sans-serif}td,th{padding:2px 8px;border:1px solid #ccc}"
        "table{border-collapse:collapse}.NEVER{background:#f4c7c3}.none{background:#d9ead3}"
        ".consent{background:#fff2cc}.Part2{background:#cfe2f3}</style>"
        f"<h1>{esc(_title(policy))}</h1><table><thead><tr><th>event</th><th>category</th>"
        f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table><ul>{legend}</ul></html>\n"
    )


RENDERERS = {"text": render_text, "markdown": render_markdown, "html": render_html}
