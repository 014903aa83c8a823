"""The unit hierarchy (county -> township -> [area ->] village): walk it, check it, name its
units. An area (片) groups villages of one township; areas are optional, so a village's parent
is an area or a township.

One walker serves the whole package: :func:`ancestors` maps units to their ancestor at a
level (for aggregating to townships or the county), :func:`lineage` lists every
(unit, proper ancestor) pair (for finding rows that are totals of other rows), and
:func:`descendants` the units below one unit. :func:`check_units` holds the rules of the
units table; :func:`codes_for_names` maps the unit names of a names-only sheet to codes,
refusing names that match no unit or several.

Every walk steps all units up one level at a time, so it takes as many vectorised steps as
the hierarchy has levels (four), never a loop over units.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .schema import LEVELS, OPTIONAL_LEVELS
from .tables import Collector

__all__ = ["ancestors", "check_units", "codes_for_names", "descendants", "lineage"]


def _parent_map(units: pd.DataFrame) -> pd.Series:
    parent = pd.Series(units["parent"].to_numpy(), index=units["unit"].to_numpy())
    return parent[~parent.index.duplicated()]


def ancestors(units: pd.DataFrame, level: str) -> pd.Series:
    """Map every unit code to its ancestor (or itself) at ``level``.

    Parameters
    ----------
    units : pandas.DataFrame
        The units table (``unit``, ``parent``, ``level``), as from
        :func:`fpanalysis.io.load_units`.
    level : {'county', 'township', 'area', 'village'}
        The level to map to.

    Returns
    -------
    pandas.Series
        Indexed by unit code: the code of the unit's ancestor-or-self at ``level``; NaN for
        units above ``level`` or with no ancestor there (at ``level="area"``, a village
        directly under its township).

    Raises
    ------
    ValueError
        If no unit of the units table is at ``level``.

    Examples
    --------
    >>> units = pd.DataFrame({"unit": ["1", "11", "111", "12"],
    ...                       "parent": [None, "1", "11", "1"],
    ...                       "level": ["county", "township", "village", "township"]})
    >>> ancestors(units, "township").to_dict()
    {'1': nan, '11': '11', '111': '11', '12': '12'}

    Village 121 is in area 12A; village 122 sits directly under its township:

    >>> units = pd.DataFrame({"unit": ["1", "12", "12A", "121", "122"],
    ...                       "parent": [None, "1", "12", "12A", "12"],
    ...                       "level": ["county", "township", "area", "village", "village"]})
    >>> ancestors(units, "area").to_dict()
    {'1': nan, '12': nan, '12A': '12A', '121': '12A', '122': nan}
    """
    parent = _parent_map(units)
    lvl = pd.Series(units["level"].to_numpy(), index=units["unit"].to_numpy())
    lvl = lvl[~lvl.index.duplicated()]
    if level not in set(lvl):
        raise ValueError(f"no unit of level {level!r} in units")
    current = pd.Series(units["unit"].to_numpy(), index=units["unit"].to_numpy())
    for _ in range(len(LEVELS)):  # one step up the hierarchy for every unit at once
        nxt = current.where(current.map(lvl) == level, current.map(parent))
        if nxt.equals(current):
            break
        current = nxt
    return current.where(current.map(lvl) == level)


def lineage(units: pd.DataFrame) -> pd.DataFrame:
    """List every (unit, proper ancestor) pair of the hierarchy.

    Returns
    -------
    pandas.DataFrame
        ``unit``, ``ancestor`` and ``steps`` (1 for the parent, 2 for the grandparent, ...),
        sorted by unit and steps. A unit at the top has no rows. A parent cycle is walked
        at most as many steps as there are units.

    Examples
    --------
    >>> units = pd.DataFrame({"unit": ["1", "11", "111"], "parent": [None, "1", "11"]})
    >>> lineage(units).values.tolist()
    [['11', '1', 1], ['111', '11', 1], ['111', '1', 2]]
    """
    parent = _parent_map(units)
    parent = parent[parent.notna() & (parent.astype("string") != "")]
    current = parent.copy()
    pieces = []
    for steps in range(1, len(parent) + 2):
        if current.empty:
            break
        pieces.append(pd.DataFrame({"unit": current.index.to_numpy(),
                                    "ancestor": current.to_numpy(), "steps": steps}))
        current = current.map(parent).dropna()
    if not pieces:
        return pd.DataFrame({"unit": pd.Series([], dtype=object),
                             "ancestor": pd.Series([], dtype=object),
                             "steps": pd.Series([], dtype=np.int64)})
    out = pd.concat(pieces, ignore_index=True)
    out = out.drop_duplicates(["unit", "ancestor"])  # a cycle revisits its units
    return out.sort_values(["unit", "steps"], kind="stable").reset_index(drop=True)


def descendants(units: pd.DataFrame, unit: str) -> list[str]:
    """Return the codes of every unit below ``unit`` (children, grandchildren ...), sorted.

    Examples
    --------
    >>> units = pd.DataFrame({"unit": ["1", "11", "111", "12"],
    ...                       "parent": [None, "1", "11", "1"]})
    >>> descendants(units, "1"), descendants(units, "12")
    (['11', '111', '12'], [])
    """
    pairs = lineage(units)
    return sorted(pairs.loc[pairs["ancestor"] == unit, "unit"].tolist())


def _cycles(codes: pd.Series, parent: pd.Series, orphan: np.ndarray) -> dict[int, str]:
    """Positions of units in or above a parent cycle, with the chain that closes it."""
    up = pd.Series(parent.to_numpy(), index=codes.to_numpy())
    up = up[~up.index.duplicated()]
    current = parent.where(~pd.Series(orphan, index=parent.index), "")
    climbing = np.flatnonzero(current != "")
    # a valid chain ends within a few steps, so only units still climbing are walked further
    for _ in range(len(codes)):
        if not len(climbing):
            break
        nxt = current.iloc[climbing].map(up).fillna("")
        current.iloc[climbing] = nxt.to_numpy()
        climbing = climbing[(nxt != "").to_numpy()]
    chains = {}
    for pos in climbing:  # only the few units caught in a cycle
        chain, c = [codes.iloc[pos]], up[codes.iloc[pos]]
        while c not in chain and c:
            chain.append(c)
            c = up.get(c, "")
        chains[int(pos)] = " -> ".join(chain + [c])
    return chains


def _a(word: str) -> str:
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"


def _parent_levels() -> dict[str, tuple[str, ...]]:
    """The levels each level's parent may have: the next level up, and past an optional level
    (:data:`~fpanalysis.schema.OPTIONAL_LEVELS`) the one above it too.

    Examples
    --------
    >>> _parent_levels()
    {'county': (), 'township': ('county',), 'area': ('township',), 'village': ('area', 'township')}
    """
    out: dict[str, tuple[str, ...]] = {}
    for i, lv in enumerate(LEVELS):
        up: list[str] = []
        for above in reversed(LEVELS[:i]):
            up.append(above)
            if above not in OPTIONAL_LEVELS:
                break
        out[lv] = tuple(up)
    return out


def _parent_rule(level: str) -> str:
    allowed = _parent_levels()[level]
    if not allowed:
        return f"{_a(level)} has no parent (it is the top level)"
    skipped = [lv for lv in allowed if lv in OPTIONAL_LEVELS]
    note = f"; {', '.join(lv + 's' for lv in skipped)} are optional" if skipped else ""
    return (f"{_a(level)}'s parent must be {' or '.join(_a(lv) for lv in allowed)} "
            f"(the next level up{note})")


def check_units(data: pd.DataFrame, col: Collector) -> None:
    """Check a units table (text columns ``unit``, ``name``, ``parent``, ``level``, levels
    already mapped to English): known levels, known parents at the next level up (a village
    may skip the optional area: its parent is an area or a township), no cycles, an empty
    parent only at the top level. Problems go to ``col``."""
    level, parent = data["level"], data["parent"]
    col.at(~level.isin(LEVELS).to_numpy(), "level",
           lambda p: f"unknown level {level.iloc[p]!r} (expected one of {', '.join(LEVELS)})")
    top = level == LEVELS[0]
    no_parent = ((parent == "") & ~top & level.isin(LEVELS)).to_numpy()
    col.at(no_parent, "parent",
           lambda p: f"{_a(level.iloc[p])} needs a parent (only the {LEVELS[0]} has none)")
    codes = set(data["unit"])
    orphan = ((parent != "") & ~parent.isin(codes)).to_numpy()
    col.at(orphan, "parent", lambda p: f"parent {parent.iloc[p]!r} is not a unit in this file")
    chains = _cycles(data["unit"], parent, orphan)
    for pos, chain in chains.items():
        col.add(int(col.rows[pos]), "parent", f"parent cycle: {chain}")
    rank = {lv: i for i, lv in enumerate(LEVELS)}
    allowed = np.zeros((len(LEVELS), len(LEVELS)), dtype=bool)  # [level, parent's level]
    for lv, ups in _parent_levels().items():
        allowed[rank[lv], [rank[u] for u in ups]] = True
    level_rank = level.map(rank)
    coded = (data["unit"] != "").to_numpy()  # a row without a code is reported elsewhere
    rank_of = pd.Series(level_rank.to_numpy()[coded], index=data["unit"].to_numpy()[coded])
    parent_rank = parent.where(parent != "").map(rank_of.groupby(level=0).first())
    cyc = np.zeros(len(data), dtype=bool)
    cyc[list(chains)] = True
    both = (parent_rank.notna() & level_rank.notna()).to_numpy()
    ok = np.ones(len(data), dtype=bool)
    ok[both] = allowed[level_rank.to_numpy()[both].astype(int),
                       parent_rank.to_numpy()[both].astype(int)]
    col.at(~ok & ~cyc, "parent",
           lambda p: f"{_parent_rule(level.iloc[p])}, but {parent.iloc[p]!r} is "
                     f"{_a(LEVELS[int(parent_rank.iloc[p])])}")


def codes_for_names(names: pd.Series, units: pd.DataFrame, col: Collector) -> pd.Series:
    """Map unit names to codes through ``units``; report names matching no unit or several.

    Parameters
    ----------
    names : pandas.Series
        Unit names (normalised text) of the data rows.
    units : pandas.DataFrame
        The units table.
    col : Collector
        Receives one problem per row whose name is unknown or ambiguous (column ``name``).

    Returns
    -------
    pandas.Series
        The code for each row, ``<NA>`` where the name is unknown or ambiguous.
    """
    table = pd.DataFrame({"name": units["name"].astype("string").str.strip(),
                          "unit": units["unit"].astype("string"),
                          "level": units["level"].astype("string")})
    groups = table.groupby("name", sort=True)
    codes_of = groups["unit"].agg(lambda s: ", ".join(sorted(s)))
    how_many = groups.size()
    unique = table[table["name"].map(how_many) == 1].set_index("name")["unit"]
    text = names.astype("string").fillna("")
    filled = (text != "").to_numpy()
    count = text.map(how_many).fillna(0).to_numpy()
    col.at(~filled, "name", "name is empty (the sheet has unit names, not codes)")
    col.at(filled & (count == 0), "name",
           lambda p: f"unknown unit name {text.iloc[p]!r} (not in units)")
    col.at(filled & (count > 1), "name",
           lambda p: f"ambiguous unit name {text.iloc[p]!r}: units "
                     f"{codes_of[text.iloc[p]]} share it; give unit codes instead of names")
    return text.map(unique).astype("string")
