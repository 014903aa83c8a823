"""The audit's closed form for nested cells (:func:`fpanalysis.disclosure._nested_bounds`).

A report of one quarter publishes a unit tree: every two cells are nested or disjoint, and the
smallest and largest value of a suppressed cell follow by interval propagation without a
linear programme. The expected bounds come from two independent references: scipy's HiGHS
linear programme (``scipy.optimize.linprog``, the audit's general method, ``method="lp"``) on
random forests, and, for the hand-made cases, the arithmetic in the comments.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fpanalysis import disclosure as dc


def atoms(sets: list[set[int]]) -> dc._Atoms:
    row = [i for i, s in enumerate(sets) for _ in s]
    col = [a for s in sets for a in sorted(s)]
    width = max((a for s in sets for a in s), default=-1) + 1
    return dc._Atoms(np.array(row, dtype=np.int64), np.array(col, dtype=np.int64),
                     (len(sets), width))


def test_a_county_of_three_townships_by_hand():
    # county = a + b + c (one atom each). Shown: county 9, a 3; b is "<5" (0..4); c is a
    # complement (5 and up). b = 9 - 3 - c <= 6 - 5 = 1 and >= 0 -> 0..1; c = 6 - b -> 5..6.
    m = atoms([{0, 1, 2}, {0}, {1}, {2}])
    nan = np.nan
    lower = np.array([9.0, 3.0, 0.0, 5.0])
    upper = np.array([9.0, 3.0, 4.0, np.inf])
    lo, hi = dc._bounds(m, lower, upper, np.array([2, 3]), method="nested")
    assert lo.tolist() == [0.0, 5.0] and hi.tolist() == [1.0, 6.0]
    # the county unknown: nothing ties them; b 0..4, c 5..inf
    lower[0], upper[0] = nan, nan
    lo, hi = dc._bounds(m, lower, upper, np.array([2, 3]))
    assert lo.tolist() == [0.0, 5.0] and hi.tolist() == [4.0, np.inf]


def test_atoms_outside_the_children_leave_the_parent_open_above():
    # a parent {0, 1, 2} with one child {0} (atoms 1 and 2 in no child): parent "<5" 0..4,
    # child shown 3 -> parent 3..4 (the free atoms add 0..1), child pinned at 3
    m = atoms([{0, 1, 2}, {0}])
    lo, hi = dc._bounds(m, np.array([0.0, 3.0]), np.array([4.0, 3.0]), np.array([0, 1]),
                        method="nested")
    assert lo.tolist() == [3.0, 3.0] and hi.tolist() == [4.0, 3.0]


def test_crossed_cells_are_left_to_the_linear_programme():
    # a county and a township, each in a quarter and in the year: {county, year} and
    # {township, quarter} overlap without nesting
    county_year, town_year, county_q, town_q = {0, 1, 2, 3}, {0, 1}, {0, 2}, {0}
    m = atoms([county_year, town_year, county_q, town_q])
    lower = np.array([12.0, 0.0, 6.0, 0.0])
    upper = np.array([12.0, 4.0, 6.0, 4.0])
    assert dc._nested_bounds(m, lower, upper, np.array([1, 3])) is None
    with pytest.raises(ValueError, match="not nested: use method='lp'"):
        dc._bounds(m, lower, upper, np.array([1, 3]), method="nested")
    # auto falls back to the linear programme and agrees with it
    auto = dc._bounds(m, lower, upper, np.array([1, 3]))
    lp = dc._bounds(m, lower, upper, np.array([1, 3]), method="lp")
    assert all(np.array_equal(a, b) for a, b in zip(auto, lp, strict=True))


def test_contradicting_tables_are_refused():
    # county shown 9, its two townships shown 3 and 4: 7 != 9
    m = atoms([{0, 1}, {0}, {1}])
    v = np.array([9.0, 3.0, 4.0])
    with pytest.raises(dc.DisclosureError, match="contradict each other"):
        dc._bounds(m, v, v, np.array([1]), method="nested")
    with pytest.raises(dc.DisclosureError, match="contradict each other"):
        dc._bounds(m, v, v, np.array([1]), method="lp")


def test_an_unknown_method_is_refused():
    m = atoms([{0}])
    with pytest.raises(ValueError, match="method must be 'auto', 'nested' or 'lp'"):
        dc._bounds(m, np.array([1.0]), np.array([1.0]), np.array([0]), method="LP")


@st.composite
def forests(draw):
    """A random forest of 1-9 cells (roots, children, grandchildren), some with atoms of
    their own beside their children's, some repeated (a county with one township: the same
    set twice); true counts 0-11 per atom; each cell shown, banded 0..4, a complement (5 and
    up), an interval around its value, or unknown."""
    n = draw(st.integers(1, 9))
    parent = [-1] + [draw(st.integers(-1, i - 1)) for i in range(1, n)]
    own = [draw(st.booleans()) for _ in range(n)]
    kids = [[j for j in range(n) if parent[j] == i] for i in range(n)]
    next_atom = 0
    own_atom: dict[int, int] = {}
    for i in range(n):
        if own[i] or not kids[i]:
            own_atom[i] = next_atom
            next_atom += 1

    def atoms_of(i: int) -> set[int]:
        s = {own_atom[i]} if i in own_atom else set()
        for k in kids[i]:
            s |= atoms_of(k)
        return s

    sets = [atoms_of(i) for i in range(n)]
    sets += [sets[i] for i in range(n) if draw(st.integers(0, 9)) == 0]
    x = np.array(draw(st.lists(st.integers(0, 11), min_size=next_atom, max_size=next_atom)),
                 dtype=float)
    value = np.array([x[sorted(s)].sum() for s in sets])
    lower, upper = np.full(len(sets), np.nan), np.full(len(sets), np.nan)
    for i, v in enumerate(value):
        kind = draw(st.sampled_from(["shown", "band", "complement", "around", "unknown"]))
        if kind == "shown":
            lower[i] = upper[i] = v
        elif kind == "band" and v <= 4:
            lower[i], upper[i] = 0.0, 4.0
        elif kind == "complement" and v >= 5:
            lower[i], upper[i] = 5.0, np.inf
        elif kind == "around":
            lower[i] = max(0.0, v - draw(st.integers(0, 2)))
            upper[i] = v + draw(st.integers(0, 2))
    return atoms(sets), lower, upper


@settings(max_examples=300, deadline=None)
@given(forests())
def test_nested_bounds_equal_the_linear_programme(forest):
    m, lower, upper = forest
    targets = np.arange(m.shape[0])
    nested = dc._bounds(m, lower, upper, targets, method="nested")
    lp = dc._bounds(m, lower, upper, targets, method="lp")
    np.testing.assert_array_equal(nested[0], lp[0])
    np.testing.assert_array_equal(nested[1], lp[1])
