"""Charts of the published tables, as PNG bytes (matplotlib's Agg canvas, no display).

Charts draw only what the tables publish: a suppressed entry is drawn as a gap marked
"s", never as its value, so a chart cannot leak what its table hides.
"""

from __future__ import annotations

import io
import textwrap

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from hub.report.suppress import Published
from hub.report.tables import Measures, Table

COLOURS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00"]
MARK = "s"


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    return buffer.getvalue()


def _figure(title: str) -> tuple[Figure, Axes]:
    fig = Figure(figsize=(7.5, 3.6), layout="constrained")
    ax = fig.add_subplot()
    ax.set_title(title, fontsize=11, loc="left")
    ax.spines[["top", "right"]].set_visible(False)
    return fig, ax


def _busy_rows(published: Published, t: Table) -> list[int]:
    """Rows with something in them (or something hidden): empty months are not drawn."""
    return [
        r
        for r in range(len(t.rows))
        if any(published.shown(t, (r, c)) != 0 for c in range(len(t.columns)))
    ] or list(range(len(t.rows)))


def _note_suppressed(fig: Figure, any_hidden: bool) -> None:
    if any_hidden:
        fig.text(0.99, 0.99, f"{MARK} = suppressed", ha="right", va="top", fontsize=8)


def grouped_bars(
    published: Published, t: Table, title: str, columns: list[str] | None = None
) -> bytes:
    """Rows along the axis, one bar per column (referrals by month and door)."""
    fig, ax = _figure(title)
    rows = _busy_rows(published, t)
    chosen = [t.columns.index(c) for c in columns] if columns else list(range(len(t.columns)))
    width = 0.8 / max(1, len(chosen))
    hidden = False
    for i, c in enumerate(chosen):
        xs = [x + (i - (len(chosen) - 1) / 2) * width for x in range(len(rows))]
        values = [published.shown(t, (r, c)) for r in rows]
        ax.bar(xs, [v or 0 for v in values], width, label=t.col_label(c), color=COLOURS[i % 6])
        for x, v in zip(xs, values, strict=True):
            if v is None:
                hidden = True
                ax.text(x, 0, MARK, ha="center", va="bottom", fontsize=8)
    ax.set_xticks(range(len(rows)), [t.row_label(r) for r in rows])
    ax.set_ylabel("count")
    ax.legend(frameon=False, fontsize=8)
    _note_suppressed(fig, hidden)
    return _png(fig)


def funnel(published: Published, t: Table, title: str) -> bytes:
    """The table's total, then each column's total: how the holds ended."""
    fig, ax = _figure(title)
    labels = ["held", *(t.col_label(c) for c in range(len(t.columns)))]
    values = [
        published.shown(t, (None, None)),
        *(published.shown(t, (None, c)) for c in range(len(t.columns))),
    ]
    ys = list(range(len(labels)))[::-1]
    colours = ["#555555", *COLOURS[: len(t.columns)]]
    ax.barh(ys, [v or 0 for v in values], color=colours)
    for y, v in zip(ys, values, strict=True):
        ax.text(v or 0, y, f" {v:,}" if v is not None else f" {MARK}", va="center", fontsize=8)
    ax.set_yticks(ys, labels)
    ax.set_xlabel("charge holds")
    _note_suppressed(fig, any(v is None for v in values))
    return _png(fig)


def bars(published: Published, t: Table, title: str, xlabel: str, split: int | None) -> bytes:
    """One bar per row of a one-column table; ``split`` draws a line before that row."""
    fig, ax = _figure(title)
    values = [published.shown(t, (r, 0)) for r in range(len(t.rows))]
    ax.bar(range(len(values)), [v or 0 for v in values], color=COLOURS[0])
    for x, v in enumerate(values):
        if v is None:
            ax.text(x, 0, MARK, ha="center", va="bottom", fontsize=8)
    if split is not None:
        ax.axvline(split - 0.5, color="#D55E00", linestyle="--", linewidth=1)
        ax.text(split - 0.45, ax.get_ylim()[1] * 0.95, "intake window ends", fontsize=8)
    labels = [textwrap.fill(t.row_label(r), 12) for r in range(len(t.rows))]
    ax.set_xticks(range(len(values)), labels, fontsize=8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("participants")
    _note_suppressed(fig, any(v is None for v in values))
    return _png(fig)


def charts(published: Published, measures: Measures) -> dict[str, tuple[str, bytes]]:
    """Chart name -> (caption, PNG)."""
    window = int(measures.facts.get("intake_window_days", "14"))
    intake = measures.table("time_to_intake")
    split = next((i for i, r in enumerate(intake.rows) if r == f">={window}"), None)
    found = {
        "referrals": (
            "Referrals over time by door",
            grouped_bars(published, measures.table("referrals_by_door"), "Referrals by door"),
        ),
        "holds": (
            "How charge holds ended",
            funnel(published, measures.table("holds"), "Charge holds and how they ended"),
        ),
        "intake": (
            "Days from referral to intake",
            bars(published, intake, "Days from referral to intake", "days", split),
        ),
        "housing": (
            "Housing over time",
            grouped_bars(
                published,
                measures.table("services"),
                "Shelter entries and moves into housing",
                ["shelter_entries", "housed"],
            ),
        ),
    }
    return found
