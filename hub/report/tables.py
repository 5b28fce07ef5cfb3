"""Count tables whose every number is named by the quantity it counts.

A key says what a number counts (a measure and its filters, e.g. referrals with
door=ARREST_DIVERSION and month=2026-09), not where it is printed. Two tables that print
the same quantity (a month's arrest diversions are a cell of one table and a row total of
another) share its key, so suppression hides it everywhere or nowhere, and an attacker
combining tables finds the same unknown in each.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

Key = tuple[str, ...]
"""(measure, "dim=value", ...) with the filters sorted, so equal quantities are equal keys."""

Position = tuple[int | None, int | None]
"""(row, column) of a table; None in either place is that direction's total."""

MEASURE = "measure"
"""A column dimension whose values are measures (each column counts something else)."""


def key_of(measure: str, dims: Mapping[str, str]) -> Key:
    return (measure, *sorted(f"{d}={v}" for d, v in dims.items()))


@dataclass(frozen=True)
class Table:
    """Rows x columns of counts, with row totals, column totals or both.

    ``col_dim`` None makes a one-column table (its single column is the count itself);
    ``col_dim`` MEASURE makes each column its own measure, which only column totals make
    sense for."""

    name: str
    title: str
    measure: str
    row_dim: str
    rows: tuple[str, ...]
    col_dim: str | None
    columns: tuple[str, ...]
    cells: tuple[tuple[int, ...], ...]
    row_totals: bool = True
    col_totals: bool = True
    fixed: tuple[tuple[str, str], ...] = ()
    note: str = ""
    row_labels: tuple[str, ...] = ()
    col_labels: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if len(self.cells) != len(self.rows) or any(
            len(r) != len(self.columns) for r in self.cells
        ):
            raise ValueError(f"{self.name}: cells do not match rows x columns")
        if self.col_dim in (None, MEASURE) and self.row_totals and len(self.columns) > 1:
            raise ValueError(f"{self.name}: row totals of different measures mean nothing")
        if any(v < 0 for r in self.cells for v in r):
            raise ValueError(f"{self.name}: counts cannot be negative")

    # ------------------------------------------------------------------ positions and keys

    def positions(self) -> Iterator[Position]:
        rows: list[int | None] = list(range(len(self.rows)))
        cols: list[int | None] = list(range(len(self.columns)))
        if self.col_totals:
            rows.append(None)
        if self.row_totals:
            cols.append(None)
        for r in rows:
            for c in cols:
                yield (r, c)

    def key(self, pos: Position) -> Key:
        r, c = pos
        dims = dict(self.fixed)
        measure = self.measure
        if r is not None:
            dims[self.row_dim] = self.rows[r]
        if c is not None:
            if self.col_dim == MEASURE:
                measure = self.columns[c]
            elif self.col_dim is not None:
                dims[self.col_dim] = self.columns[c]
        elif self.col_dim == MEASURE:  # the row total of a one-measure table
            measure = self.columns[0]
        return key_of(measure, dims)

    def value(self, pos: Position) -> int:
        r, c = pos
        rows = range(len(self.rows)) if r is None else [r]
        cols = range(len(self.columns)) if c is None else [c]
        return sum(self.cells[i][j] for i in rows for j in cols)

    def is_margin(self, pos: Position) -> bool:
        return None in pos

    def lines(self) -> Iterator[list[Position]]:
        """Every published sum: the entries of a line add up to its last entry."""
        rows: list[int | None] = list(range(len(self.rows)))
        cols: list[int | None] = list(range(len(self.columns)))
        if self.row_totals:
            for r in [*rows, *([None] if self.col_totals else [])]:
                yield [*((r, c) for c in cols), (r, None)]
        if self.col_totals:
            for c in [*cols, *([None] if self.row_totals else [])]:
                yield [*((r, c) for r in rows), (None, c)]

    def values(self) -> dict[Key, int]:
        return {self.key(p): self.value(p) for p in self.positions()}

    def row_label(self, r: int) -> str:
        return self.row_labels[r] if self.row_labels else self.rows[r]

    def col_label(self, c: int) -> str:
        return self.col_labels[c] if self.col_labels else self.columns[c]


def table(
    name: str,
    title: str,
    *,
    measure: str,
    row_dim: str,
    rows: Sequence[str],
    col_dim: str | None,
    columns: Sequence[str],
    counts: Mapping[tuple[str, str], int],
    row_totals: bool = True,
    col_totals: bool = True,
    fixed: Mapping[str, str] | None = None,
    note: str = "",
    row_labels: Sequence[str] = (),
    col_labels: Sequence[str] = (),
) -> Table:
    """A table from counts by (row, column); a one-column table counts by (row, "")."""
    cols = tuple(columns) if col_dim is not None else ("",)
    return Table(
        name=name,
        title=title,
        measure=measure,
        row_dim=row_dim,
        rows=tuple(rows),
        col_dim=col_dim,
        columns=cols,
        cells=tuple(tuple(counts.get((r, c), 0) for c in cols) for r in rows),
        row_totals=row_totals and col_dim not in (None, MEASURE),
        col_totals=col_totals,
        fixed=tuple(sorted((fixed or {}).items())),
        note=note,
        row_labels=tuple(row_labels),
        col_labels=tuple(col_labels) if col_dim is not None else ("count",),
    )


@dataclass(frozen=True)
class Statistic:
    """A median or share over ``n`` people or records: shown only if ``n`` is not small."""

    name: str
    label: str
    value: float | None
    unit: str
    n: int
    note: str = ""


@dataclass
class Measures:
    """What the report publishes before suppression."""

    tables: list[Table] = field(default_factory=list)
    statistics: list[Statistic] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    facts: dict[str, str] = field(default_factory=dict)  # the period and the log read

    def table(self, name: str) -> Table:
        return next(t for t in self.tables if t.name == name)
