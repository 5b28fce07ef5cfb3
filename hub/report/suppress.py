"""Small-cell suppression with complementary suppression, across every published table.

Counts from 1 to 10 could single out a person, so they are hidden (primary suppression).
Hiding one entry of a published sum is not enough: the total minus the other entries
gives it back. So every line (a row or column with its total) that hides one entry hides
a second (complementary suppression), preferring the smallest non-zero inner cell, and
the whole publication is then checked as one linear system: every table's sums over the
keys they share. No hidden quantity may be a linear combination of published ones; if
one is, another entry of a line it is in is hidden, and the check runs again.

What this does not do: it guards against exact recovery through published sums (within a
table, and across tables through the totals they share), not against bounds an attacker
could draw from inequalities between different measures (participants active at some
time in a month are at least those active at its end), nor against differencing two
reports of overlapping periods.

Everything here is pure: numbers in, the set of hidden keys out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from hub.report.tables import Key, Position, Table

LOW, HIGH = 1, 10
"""Counts in LOW..HIGH are hidden; zero is not (it singles nobody out)."""


@dataclass(frozen=True)
class Published:
    """The tables as they may be shown: the true counts and the keys to hide."""

    tables: tuple[Table, ...]
    hidden: frozenset[Key]
    primary: frozenset[Key]

    def shown(self, table: Table, pos: Position) -> int | None:
        """The number to print, or None where it is suppressed."""
        return None if table.key(pos) in self.hidden else table.value(pos)


def all_values(tables: Iterable[Table]) -> dict[Key, int]:
    """Every quantity once; two tables printing one quantity must agree on it."""
    values: dict[Key, int] = {}
    for t in tables:
        for k, v in t.values().items():
            if values.setdefault(k, v) != v:
                raise ValueError(f"{t.name}: {k} is {v} here and {values[k]} elsewhere")
    return values


def suppress(tables: Sequence[Table], low: int = LOW, high: int = HIGH) -> Published:
    values = all_values(tables)
    primary = frozenset(k for k, v in values.items() if low <= v <= high)
    hidden = set(primary)
    while True:
        if _complete_lines(tables, hidden, values):
            continue
        exposed = determined(tables, hidden)
        if not exposed:
            break
        _protect(tables, sorted(exposed)[0], hidden, values)
    return Published(tuple(tables), frozenset(hidden), primary)


def _complete_lines(tables: Sequence[Table], hidden: set[Key], values: Mapping[Key, int]) -> bool:
    """Hide a second entry of every line that hides exactly one; True if any was hidden."""
    changed = False
    for t in tables:
        for line in t.lines():
            keys = [t.key(p) for p in line]
            if sum(k in hidden for k in set(keys)) == 1:
                _hide_next(t, line, hidden, values)
                changed = True
    return changed


def _hide_next(t: Table, line: list[Position], hidden: set[Key], values: Mapping[Key, int]) -> bool:
    """Hide the line's cheapest published entry: an inner cell before a total (totals are
    shared by other tables), non-zero before zero (a zero may be known to be zero), then
    the smallest."""
    candidates = [p for p in line if t.key(p) not in hidden]
    if not candidates:
        return False
    best = min(
        candidates,
        key=lambda p: (t.is_margin(p), values[t.key(p)] == 0, values[t.key(p)], t.key(p)),
    )
    hidden.add(t.key(best))
    return True


def _protect(
    tables: Sequence[Table], exposed: Key, hidden: set[Key], values: Mapping[Key, int]
) -> None:
    for t in tables:
        for line in t.lines():
            if exposed in {t.key(p) for p in line} and _hide_next(t, line, hidden, values):
                return
    raise AssertionError(f"{exposed} is determined but in no line with a published entry")


def equations(tables: Iterable[Table]) -> list[dict[Key, int]]:
    """Every published sum as an equation: inner entries +1, the total -1, equal to 0."""
    found: list[dict[Key, int]] = []
    for t in tables:
        for line in t.lines():
            eq: dict[Key, int] = {}
            *inner, total = line
            for p in inner:
                eq[t.key(p)] = eq.get(t.key(p), 0) + 1
            eq[t.key(total)] = eq.get(t.key(total), 0) - 1
            found.append(eq)
    return found


def determined(tables: Iterable[Table], hidden: Iterable[Key]) -> set[Key]:
    """Hidden keys whose value follows from the published ones by linear algebra.

    Published values are constants, so only the hidden columns of the equations matter:
    a hidden x is determined iff the unit vector of x lies in their row space, which in
    reduced row echelon form means some row is exactly that unit vector."""
    unknown = sorted(set(hidden))
    index = {k: i for i, k in enumerate(unknown)}
    rows: list[list[Fraction]] = []
    for eq in equations(tables):
        row = [Fraction(0)] * len(unknown)
        for k, coefficient in eq.items():
            if k in index:
                row[index[k]] += coefficient
        if any(row):
            rows.append(row)
    reduced = _rref(rows, len(unknown))
    return {
        unknown[next(i for i, v in enumerate(row) if v)]
        for row in reduced
        if sum(1 for v in row if v) == 1
    }


def _rref(rows: list[list[Fraction]], width: int) -> list[list[Fraction]]:
    pivot_row = 0
    for col in range(width):
        pick = next((i for i in range(pivot_row, len(rows)) if rows[i][col]), None)
        if pick is None:
            continue
        rows[pivot_row], rows[pick] = rows[pick], rows[pivot_row]
        lead = rows[pivot_row][col]
        rows[pivot_row] = [v / lead for v in rows[pivot_row]]
        for i, row in enumerate(rows):
            if i != pivot_row and row[col]:
                factor = row[col]
                rows[i] = [a - factor * b for a, b in zip(row, rows[pivot_row], strict=True)]
        pivot_row += 1
        if pivot_row == len(rows):
            break
    return rows[:pivot_row]
