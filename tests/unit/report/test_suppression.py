"""Small-cell suppression: what it hides, that a second entry of every line hides with
it, and that no attacker, by spreadsheet or by linear algebra, gets a hidden count back,
from one table or from several that share totals."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.report.suppress import (
    HIGH,
    LOW,
    Published,
    _complete_lines,
    all_values,
    determined,
    suppress,
)
from hub.report.tables import MEASURE, Table, table
from tests.support.reports import lines_with_one_hidden, peel, solvable

COUNT = st.one_of(st.just(0), st.integers(LOW, HIGH), st.integers(HIGH + 1, 60))


def grid(cells: list[list[int]], **kw: object) -> Table:
    rows = [f"r{i}" for i in range(len(cells))]
    cols = [f"c{j}" for j in range(len(cells[0]))]
    counts = {(r, c): cells[i][j] for i, r in enumerate(rows) for j, c in enumerate(cols)}
    return table(
        "t",
        "t",
        measure="m",
        row_dim="r",
        rows=rows,
        col_dim="c",
        columns=cols,
        counts=counts,
        **kw,
    )  # type: ignore[arg-type]


@st.composite
def grids(draw: st.DrawFn) -> Table:
    n_rows, n_cols = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    cells = draw(
        st.lists(
            st.lists(COUNT, min_size=n_cols, max_size=n_cols), min_size=n_rows, max_size=n_rows
        )
    )
    return grid(cells)


def assert_safe(published: Published) -> None:
    for t in published.tables:
        for p in t.positions():
            if LOW <= t.value(p) <= HIGH:
                assert t.key(p) in published.hidden
    assert lines_with_one_hidden(published) == []
    assert peel(published) == {}
    assert solvable(published) == set()


def test_a_small_cell_takes_the_next_smallest_of_its_row_and_column_with_it() -> None:
    t = grid([[5, 20, 30], [40, 50, 60]])
    published = suppress([t])
    shown = [[published.shown(t, (r, c)) for c in range(3)] for r in range(2)]
    assert shown == [[None, None, 30], [None, None, 60]]
    assert [published.shown(t, (None, c)) for c in range(3)] == [45, 70, 90]
    assert [published.shown(t, (r, None)) for r in range(2)] == [55, 150]
    assert published.shown(t, (None, None)) == 205
    # The attempt: the first row's total less what it shows leaves 25, which is the two
    # hidden cells together (5 + 20), not the 5; the first column leaves 45 (5 + 40).
    assert 55 - 30 == 25 != 5 and 45 - 0 == 45 != 5
    assert peel(published) == {} and solvable(published) == set()


def test_a_small_total_is_hidden_and_so_is_a_second_total_beside_it() -> None:
    t = grid([[3, 4], [30, 40]])
    published = suppress([t])
    assert published.shown(t, (0, None)) is None  # 7 is small
    assert published.shown(t, (1, None)) is None  # else grand total minus 70 gives 7
    assert_safe(published)


def test_zero_is_published_and_only_chosen_when_nothing_else_will_do() -> None:
    t = grid([[0, 5, 25], [0, 30, 40]])
    published = suppress([t])
    assert published.shown(t, (0, 0)) == 0 and published.shown(t, (1, 0)) == 0
    assert_safe(published)


@settings(max_examples=300, deadline=None)
@given(grids())
def test_no_line_ever_has_exactly_one_suppressed_entry(t: Table) -> None:
    assert_safe(suppress([t]))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from("ABC"), st.sampled_from("abcd"), st.sampled_from(["m1", "m2", "m3"])
        ),
        max_size=120,
    )
)
def test_tables_sharing_totals_are_safe_together(records: list[tuple[str, str, str]]) -> None:
    """Referrals by month x door and by month x area share the month totals and the grand
    total; hand-offs by month share the arrest door's monthly counts as their row totals."""
    months = ["m1", "m2", "m3"]
    by_door = Counter((mo, d) for d, _, mo in records)
    by_area = Counter((mo, a) for _, a, mo in records)
    handoff = Counter(
        (mo, "x" if i % 3 else "y") for i, (d, _, mo) in enumerate(records) if d == "A"
    )
    tables = [
        table(
            "door",
            "",
            measure="n",
            row_dim="month",
            rows=months,
            col_dim="door",
            columns=list("ABC"),
            counts=by_door,
        ),
        table(
            "area",
            "",
            measure="n",
            row_dim="month",
            rows=months,
            col_dim="area",
            columns=list("abcd"),
            counts=by_area,
        ),
        table(
            "handoff",
            "",
            measure="n",
            fixed={"door": "A"},
            row_dim="month",
            rows=months,
            col_dim="handoff",
            columns=["x", "y"],
            counts=handoff,
        ),
    ]
    published = suppress(tables)
    assert_safe(published)
    for a in tables:  # a quantity printed in two tables is hidden in both or in neither
        for b in tables:
            for p in a.positions():
                for q in b.positions():
                    if a.key(p) == b.key(q):
                        assert published.shown(a, p) == published.shown(b, q)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(COUNT, min_size=3, max_size=3), min_size=1, max_size=8))
def test_columns_of_different_measures_are_suppressed_down_each_column(
    rows: list[list[int]],
) -> None:
    months = [f"m{i}" for i in range(len(rows))]
    counts = {(mo, c): rows[i][j] for i, mo in enumerate(months) for j, c in enumerate("xyz")}
    t = table(
        "s",
        "",
        measure="services",
        row_dim="month",
        rows=months,
        col_dim=MEASURE,
        columns=list("xyz"),
        counts=counts,
    )
    assert not t.row_totals
    assert_safe(suppress([t]))


def test_published_totals_are_the_true_totals() -> None:
    t = grid([[5, 20, 30], [40, 50, 2]])
    published = suppress([t])
    for p in t.positions():
        if t.is_margin(p) and published.shown(t, p) is not None:
            assert published.shown(t, p) == t.value(p)


def test_linear_algebra_finds_what_the_line_rule_misses() -> None:
    """Here every line ends up with two hidden entries, yet the first row's total follows
    from the others: the line rule alone would publish a derivable count."""
    t = grid([[0, 1, 5], [5, 0, 0], [8, 0, 0]])
    values = all_values([t])
    hidden = {k for k, v in values.items() if LOW <= v <= HIGH}
    while _complete_lines([t], hidden, values):
        pass
    assert lines_with_one_hidden(Published((t,), frozenset(hidden), frozenset())) == []
    assert determined([t], hidden) == {t.key((0, None))}
    assert_safe(suppress([t]))
