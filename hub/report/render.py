"""The published report as Markdown, HTML (charts embedded) or JSON.

Rendering shows what suppression left: a hidden entry is printed "suppressed" (null in
JSON), whatever its size. Rows with nothing in them (months without any) are left out of
the Markdown and HTML tables, not of the JSON.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Callable, Mapping
from typing import Any

from hub.report.summary import SUPPRESSED, shown_stat, summary
from hub.report.suppress import Published
from hub.report.tables import Measures, Position, Table

TITLE = "LEAD program report"
SECTIONS: list[tuple[str, list[str]]] = [
    ("Referrals", ["referrals_by_door", "chart:referrals", "referrals_by_area", "handoff"]),
    (
        "Charge holds",
        [
            "holds",
            "chart:holds",
            "stat:days_to_declined",
            "stat:days_to_filed",
            "reminders",
        ],
    ),
    ("Intake", ["time_to_intake", "chart:intake", "stat:days_to_intake"]),
    ("Participants and case management", ["status", "contacts"]),
    ("Housing, treatment and benefits", ["services", "chart:housing", "benefits"]),
    (
        "New arrests after entry",
        ["rearrest", "stat:rearrest_6m", "stat:rearrest_12m", "stat:days_to_rearrest"],
    ),
    ("Consent", ["consent"]),
    (
        "Data sharing",
        [
            "notices",
            "denials",
            "reads",
            "rejections",
            "stat:notice_latency",
            "stat:decision_stamp",
        ],
    ),
]
Charts = Mapping[str, tuple[str, bytes]]


def _cell(value: int | None) -> str:
    return SUPPRESSED if value is None else f"{value:,}"


def _grid(published: Published, t: Table) -> tuple[list[str], list[list[str]], list[bool]]:
    """Header, rows of text, and which rows are totals: the table as a person reads it."""
    one = t.col_dim is None
    header = [t.row_dim.replace("_", " ")]
    header += ["count"] if one else [t.col_label(c) for c in range(len(t.columns))]
    if t.row_totals:
        header.append("total")
    cols: list[int | None] = list(range(len(t.columns)))
    if t.row_totals:
        cols.append(None)
    body: list[list[str]] = []
    totals: list[bool] = []
    for r in range(len(t.rows)):
        values = [published.shown(t, (r, c)) for c in cols]
        if all(v == 0 for v in values):
            continue
        body.append([t.row_label(r), *(_cell(v) for v in values)])
        totals.append(False)
    if t.col_totals:
        body.append(["total", *(_cell(published.shown(t, (None, c))) for c in cols)])
        totals.append(True)
    return header, body, totals


def _stat_line(measures: Measures, name: str) -> str:
    s = next(x for x in measures.statistics if x.name == name)
    return f"{s.label}: {shown_stat(s, 2 if s.unit == 'seconds' else 1)}"


def _walk(
    measures: Measures,
    on_table: Callable[[Table], None],
    on_chart: Callable[[str], None],
    on_stat: Callable[[str], None],
    on_section: Callable[[str], None],
) -> None:
    names = {t.name for t in measures.tables}
    for title, items in SECTIONS:
        on_section(title)
        for item in items:
            kind, _, name = item.rpartition(":")
            if kind == "chart":
                on_chart(name)
            elif kind == "stat":
                on_stat(name)
            elif name in names:
                on_table(measures.table(name))


def _period(measures: Measures) -> str:
    f = measures.facts
    text = f"{f['period_start']} to {f['period_end']}"
    return text + (f", as recorded by {f['as_of']}" if f.get("as_of") else "")


# ---------------------------------------------------------------------------- markdown


def markdown(published: Published, measures: Measures, chart_files: Mapping[str, str]) -> str:
    """``chart_files``: chart name -> file name beside the Markdown (none: no images)."""
    out = [f"# {TITLE}: {_period(measures)}", "", "## At a glance", ""]
    out += [f"- {line}" for line in summary(published, measures)]
    footnotes: list[str] = []

    def table(t: Table) -> None:
        header, body, totals = _grid(published, t)
        footnotes.append(f"{t.title}: {t.note}")
        out.extend(["", f"**{t.title}** [{len(footnotes)}]", ""])
        out.append("| " + " | ".join(header) + " |")
        out.append("|" + "|".join(["---", *(["---:"] * (len(header) - 1))]) + "|")
        for row, total in zip(body, totals, strict=True):
            cells = [f"**{c}**" if total else c for c in row]
            out.append("| " + " | ".join(cells) + " |")

    def chart(name: str) -> None:
        if name in chart_files:
            out.extend(["", f"![{name}]({chart_files[name]})"])

    def stat(name: str) -> None:
        out.extend(["", f"- {_stat_line(measures, name)}"])

    _walk(measures, table, chart, stat, lambda title: out.extend(["", f"## {title}"]))
    out.extend(["", "## Notes", ""])
    out += [f"{i}. {note}" for i, note in enumerate(footnotes, 1)]
    out += [f"- {note}" for note in measures.notes]
    out += [f"- {s.label}: {s.note}" for s in measures.statistics if s.note]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------- html

CSS = """
body { font-family: system-ui, sans-serif; max-width: 62rem; margin: 2rem auto; color: #222;
       padding: 0 1rem; line-height: 1.45; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem;
       border-bottom: 1px solid #ddd; }
.glance { background: #f4f7fb; border-left: 4px solid #0072B2; padding: .5rem 1.5rem; }
table { border-collapse: collapse; margin: .5rem 0 .2rem; font-size: .9rem; }
th, td { padding: .2rem .6rem; border-bottom: 1px solid #e5e5e5; text-align: right; }
th:first-child, td:first-child { text-align: left; }
tr.total td { font-weight: 600; border-top: 1px solid #999; }
td.suppressed { color: #888; font-style: italic; }
caption { text-align: left; font-weight: 600; padding-bottom: .3rem; white-space: nowrap; }
.note { font-size: .8rem; color: #555; margin: 0 0 1rem; }
img { max-width: 100%; }
"""


def to_html(published: Published, measures: Measures, charts: Charts) -> str:
    e = html.escape
    out = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(TITLE)}: {e(_period(measures))}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>{e(TITLE)}: {e(_period(measures))}</h1>",
        '<div class="glance"><h2>At a glance</h2><ul>',
        *(f"<li>{e(line)}</li>" for line in summary(published, measures)),
        "</ul></div>",
    ]

    def table(t: Table) -> None:
        header, body, totals = _grid(published, t)
        out.append(f"<table><caption>{e(t.title)}</caption><thead><tr>")
        out.extend(f"<th>{e(h)}</th>" for h in header)
        out.append("</tr></thead><tbody>")
        for row, total in zip(body, totals, strict=True):
            out.append('<tr class="total">' if total else "<tr>")
            for c in row:
                css = ' class="suppressed"' if c == SUPPRESSED else ""
                out.append(f"<td{css}>{e(c)}</td>")
            out.append("</tr>")
        out.append(f'</tbody></table><p class="note">{e(t.note)}</p>')

    def chart(name: str) -> None:
        if name in charts:
            caption, png = charts[name]
            data = base64.b64encode(png).decode()
            out.append(f'<p><img alt="{e(caption)}" src="data:image/png;base64,{data}"></p>')

    def stat(name: str) -> None:
        out.append(f"<p>{e(_stat_line(measures, name))}</p>")

    _walk(measures, table, chart, stat, lambda title: out.append(f"<h2>{e(title)}</h2>"))
    out.append("<h2>Notes</h2><ul>")
    out += [f"<li>{e(note)}</li>" for note in measures.notes]
    out += [f"<li>{e(s.label)}: {e(s.note)}</li>" for s in measures.statistics if s.note]
    out.append("</ul></body></html>")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------- json


def _entry(published: Published, t: Table, pos: Position) -> int | None:
    return published.shown(t, pos)


def to_json(published: Published, measures: Measures) -> str:
    tables: list[dict[str, Any]] = []
    for t in measures.tables:
        cols: list[int | None] = list(range(len(t.columns)))
        entry: dict[str, Any] = {
            "name": t.name,
            "title": t.title,
            "row_dimension": t.row_dim,
            "column_dimension": t.col_dim,
            "columns": [
                {
                    "id": t.columns[c],
                    "label": t.col_label(c),
                    **({"total": _entry(published, t, (None, c))} if t.col_totals else {}),
                }
                for c in range(len(t.columns))
            ],
            "rows": [
                {
                    "id": t.rows[r],
                    "label": t.row_label(r),
                    "cells": [_entry(published, t, (r, c)) for c in cols],
                    **({"total": _entry(published, t, (r, None))} if t.row_totals else {}),
                }
                for r in range(len(t.rows))
            ],
            "note": t.note,
        }
        if t.row_totals and t.col_totals:
            entry["total"] = _entry(published, t, (None, None))
        tables.append(entry)
    document = {
        "report": TITLE,
        "period": measures.facts,
        "suppression": {
            "rule": "counts from 1 to 10 and their complements are null",
            "suppressed_entries": len(published.hidden),
        },
        "summary": summary(published, measures),
        "tables": tables,
        "statistics": [
            {
                "name": s.name,
                "label": s.label,
                "value": None if s.value is None or s.n < 11 else round(s.value, 4),
                "unit": s.unit,
                "note": s.note,
            }
            for s in measures.statistics
        ],
        "notes": measures.notes,
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
