"""Row rules: periods, duplicate keys, known units, and consistency between columns.

Each rule takes the data rows of a walked table (:class:`fpanalysis.tables.Walked`) and adds
one problem per offending cell to the file's :class:`~fpanalysis.tables.Collector`. All rules
are vectorised; messages name the values involved.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from . import periods as pr
from .hierarchy import lineage
from .schema import AGE_GROUPS, SERVICES
from .tables import Collector, fmt

__all__ = [
    "ancestor_rows",
    "check_audits",
    "check_duplicates",
    "check_intervals",
    "check_periods",
    "check_units_known",
    "consistency",
]

_KIND_NAMES = {"half_year": "half-year", "ytd": "year-to-date span", "span": "span of months"}


def _kind(p: object) -> str:
    kind = pr.kind(p)
    return _KIND_NAMES.get(kind, kind)


def check_periods(data: pd.DataFrame, col: Collector, *, one_kind: bool = True) -> None:
    """Parse the ``period`` column in place; with ``one_kind`` every period must be of the
    file's main kind (months, dekads, quarters ...), since counts of different lengths
    cannot sit in one table."""
    if "period" not in data.columns:
        return
    if isinstance(data["period"].dtype, pd.PeriodDtype):
        return
    parsed, bad = pr.parse_series(data["period"])
    text = data["period"].astype("string").fillna("")
    sub = Collector(col.file, col.rows)
    sub.at(bad.to_numpy(), "period",
           lambda p: f"cannot read period {text.iloc[p]!r} (expected e.g. 2024-07, 2024Q3, "
                     "2024-07-D2, 2024年7月)" if text.iloc[p].strip() else "period is empty")
    good = ~bad.to_numpy()
    if one_kind and good.any():
        # kinds by label text: Dekad and Period objects do not compare, so they are never
        # keys of one index
        label = text.str.strip()
        kind_of = {t: _kind(t) for t in pd.unique(label[good])}
        kinds = label[good].map(kind_of)
        main = kinds.value_counts().index[0]
        other = np.zeros(len(parsed), dtype=bool)
        other[np.flatnonzero(good)] = (kinds != main).to_numpy()
        sub.at(other, "period",
               lambda p: f"period {text.iloc[p]!r} is a {kind_of[label.iloc[p]]}, but this "
                         f"file holds {main} periods (one kind of period per file)")
    col.problems += sub.problems
    data["period"] = parsed


def _as_text(values: pd.Series) -> pd.Series:
    """Key cells as text for comparing: periods by their label, each distinct value once."""
    if isinstance(values.dtype, pd.PeriodDtype):
        return values.astype(str).where(values.notna()).astype("string")
    if values.dtype == object:  # Dekad/Span objects, or text
        codes, uniq = pd.factorize(values)  # hashing only: Dekad and Period do not compare
        labels = np.array([str(u) for u in uniq] + [None], dtype=object)
        return pd.Series(labels[codes], index=values.index, dtype="string")
    return values.astype("string")


def _key_text(data: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame({k: _as_text(data[k]) for k in keys}, index=data.index)


def check_duplicates(data: pd.DataFrame, keys: Sequence[str], col: Collector) -> None:
    """Report every row whose key repeats an earlier row's (keys are already normalised:
    NFKC, stripped; periods parsed, so 2024-01 and 2024年1月 are one key)."""
    keys = [k for k in keys if k in data.columns]
    if not keys:
        return
    keyframe = _key_text(data, keys)
    complete = keyframe.notna().all(axis=1).to_numpy()  # bad keys are reported elsewhere
    dup = keyframe.duplicated(keep=False).to_numpy() & complete
    if not dup.any():
        return
    first_row = keyframe.assign(_row=col.rows).groupby(keys, dropna=False)["_row"] \
        .transform("min")
    later = keyframe.duplicated(keep="first").to_numpy() & complete
    col.at(later, ", ".join(keys),
           lambda p: f"duplicate ({', '.join(map(str, keyframe.iloc[p]))}): "
                     f"same key as row {first_row.iloc[p]}")


def check_units_known(data: pd.DataFrame, units: pd.DataFrame | None, col: Collector) -> None:
    """Report unit codes that are not in the units table."""
    if units is None or "unit" not in data.columns:
        return
    codes = data["unit"].astype("string").fillna("")
    unknown = (~codes.isin(set(units["unit"])) & (codes != "")).to_numpy()
    col.at(unknown, "unit", lambda p: f"unknown unit code {codes.iloc[p]!r} (not in units)")
    if "name" in data.columns:  # a code and a name that point at two units: which is meant?
        given = data["name"].astype("string").fillna("").str.strip()
        known = codes.map(dict(zip(units["unit"], units["name"], strict=False)))
        known = known.astype("string").fillna("")
        wrong = ((given != "") & ~unknown & (known != "") & (given != known)).to_numpy()
        col.at(wrong, "name", lambda p: f"name {given.iloc[p]!r} does not match unit "
                                        f"{codes.iloc[p]} ({known.iloc[p]}) in units")


def ancestor_rows(data: pd.DataFrame, numbers: dict[str, pd.Series], units: pd.DataFrame,
                  col: Collector) -> np.ndarray:
    """Find rows for an ancestor of other rows of the same period (the county's own row in
    a sheet of townships) and check each against the sum of the rows below it.

    The rows below a unit are the rows of its descendants that are not themselves ancestors
    of other rows of that period. A column is compared where the totals row and every row
    below it have a value.

    Returns
    -------
    numpy.ndarray
        Mask of the ancestor (totals) rows, to be set aside.
    """
    n = len(data)
    mask = np.zeros(n, dtype=bool)
    if n == 0 or "unit" not in data or "period" not in data:
        return mask
    present = pd.DataFrame({"pos": np.arange(n), "unit": data["unit"].astype(object),
                            "period": _key_text(data, ["period"])["period"].astype(object)})
    present = present[present["unit"].notna() & present["period"].notna()]
    pairs = lineage(units)
    joined = present.merge(pairs[["unit", "ancestor"]], on="unit")
    heads = joined[["ancestor", "period"]].drop_duplicates().rename(columns={"ancestor": "unit"})
    totals = present.merge(heads, on=["unit", "period"])["pos"].to_numpy()
    if not len(totals):
        return mask
    mask[totals] = True
    below = joined[~mask[joined["pos"].to_numpy()]]
    head_rows = present.set_index("pos").loc[totals]
    for c, num in numbers.items():
        values = num.to_numpy()
        part = pd.DataFrame({"ancestor": below["ancestor"].to_numpy(),
                             "period": below["period"].to_numpy(),
                             "v": values[below["pos"].to_numpy()]})
        grouped = part.groupby(["ancestor", "period"], sort=False)["v"]
        sums = grouped.sum()
        complete = grouped.count() == grouped.size()
        sizes = grouped.size()
        keys = pd.MultiIndex.from_arrays([head_rows["unit"], head_rows["period"]])
        expect = sums.reindex(keys).to_numpy()
        ok = complete.reindex(keys).fillna(False).to_numpy(dtype=bool)
        k = sizes.reindex(keys).to_numpy()
        got = values[totals]
        wrong = ok & ~np.isnan(got) & ~np.isclose(got, expect, rtol=0, atol=1e-6)
        for i in np.flatnonzero(wrong):
            col.add(int(col.rows[totals[i]]), c,
                    f"row for unit {head_rows['unit'].iloc[i]} is a totals row (its units "
                    f"below have rows for {head_rows['period'].iloc[i]}): it says "
                    f"{fmt(got[i])} but the {int(k[i])} rows below it sum to {fmt(expect[i])}")
    return mask


def check_audits(n: dict[str, pd.Series], col: Collector) -> None:
    """Audit rows: every count given (an empty cell is not 0), checked <= reported and
    false_found <= checked."""
    for k in ("reported", "checked", "false_found"):
        if k in n:
            col.at(np.isnan(n[k].to_numpy(dtype=float)) & ~col.flagged(k), k,
                   f"{k} is empty")
    if {"checked", "reported", "false_found"} <= set(n):
        c, r, fl = (n[k].to_numpy() for k in ("checked", "reported", "false_found"))
        col.at(c > r, "checked", lambda p: f"checked ({fmt(c[p])}) exceeds reported "
                                           f"({fmt(r[p])})")
        col.at(fl > c, "false_found", lambda p: f"false_found ({fmt(fl[p])}) exceeds checked "
                                                f"({fmt(c[p])})")


def check_intervals(lo: np.ndarray, v: np.ndarray, hi: np.ndarray, col: Collector) -> None:
    """Supplied values: lower <= value <= upper where given."""
    col.at(lo > v, "lower", lambda p: f"lower ({lo[p]:g}) exceeds value ({v[p]:g})")
    col.at(v > hi, "upper", lambda p: f"value ({v[p]:g}) exceeds upper ({hi[p]:g})")


def consistency(data: pd.DataFrame, n: dict[str, pd.Series], col: Collector,
                proportions: Sequence[tuple[str, str]] = ()) -> None:
    """Rules between columns of one counts row (all vectorised).

    ``proportions`` adds (numerator, denominator) column pairs of user proportions, whose
    numerator must not exceed the denominator.
    """
    sub = Collector(col.file, col.rows)

    def v(c: str) -> np.ndarray:
        return n[c].to_numpy()

    f = fmt
    if {"births", "births_male", "births_female"} <= set(n):
        s = v("births_male") + v("births_female")
        wrong = ~np.isnan(s) & ~np.isnan(v("births")) & (s != v("births"))
        sub.at(wrong, "births", lambda p: f"male + female births = {f(s[p])} but total births "
                                          f"= {f(v('births')[p])}")
    for sex in ("male", "female"):
        parts = [f"births_{sex}_{o}" for o in ("o1", "o2", "o3p")]
        if set(parts) <= set(n) and f"births_{sex}" in n:
            s = sum(v(c) for c in parts)
            wrong = ~np.isnan(s) & ~np.isnan(v(f"births_{sex}")) & (s != v(f"births_{sex}"))
            sub.at(wrong, f"births_{sex}",
                   lambda p, s=s, sex=sex: f"{sex} births by order sum to {f(s[p])} but "
                                           f"births_{sex} = {f(v(f'births_{sex}')[p])}")
    births = None
    if "births" in n:
        births = v("births")
    elif {"births_male", "births_female"} <= set(n):
        births = v("births_male") + v("births_female")
    if births is not None:
        pops = [c for c in ("population", "population_start", "population_end") if c in n]
        for c in pops:
            zero = (v(c) == 0) & (births > 0)
            sub.at(zero, c, lambda p, births=births: f"population is 0 but there are "
                                                     f"{f(births[p])} births")
        if "births_compliant" in n:
            over = v("births_compliant") > births
            sub.at(over, "births_compliant",
                   lambda p, births=births: f"births complying with policy "
                   f"({f(v('births_compliant')[p])}) exceed births ({f(births[p])})")
        ages = [f"births_age_{a}" for a in AGE_GROUPS]
        if set(ages) <= set(n):
            # with the births to mothers of 10-14 and 50-60 where the counts have them
            # (aggregate_events writes them)
            s = sum(v(c) for c in ages + [c for c in ("births_age_10_14", "births_age_50_60")
                                          if c in n])
            over = s > births
            sub.at(over, "births_age_15_19",
                   lambda p, s=s, births=births: f"births by mother's age sum to {f(s[p])}, "
                   f"more than births ({f(births[p])})")
    women = [f"women_{a}" for a in AGE_GROUPS]
    if set(women) <= set(n) and "women_15_49" in n:
        s = sum(v(c) for c in women)
        wrong = ~np.isnan(s) & ~np.isnan(v("women_15_49")) & (s != v("women_15_49"))
        sub.at(wrong, "women_15_49", lambda p, s=s: f"women by age group sum to {f(s[p])} but "
                                                    f"women_15_49 = {f(v('women_15_49')[p])}")
    if {"deaths_infant", "deaths"} <= set(n):
        over = v("deaths_infant") > v("deaths")
        sub.at(over, "deaths_infant", lambda p: f"infant deaths ({f(v('deaths_infant')[p])}) "
                                                f"exceed deaths ({f(v('deaths')[p])})")
    pairs = [(s.numerator, s.denominator) for s in SERVICES if s.kind == "coverage"]
    for num, den in dict.fromkeys(pairs + list(proportions)):
        if {num, den} <= set(n):
            over = v(num) > v(den)
            sub.at(over, num, lambda p, a=num, b=den: f"{a} ({f(v(a)[p])}) exceeds "
                                                      f"{b} ({f(v(b)[p])})")
    for a, b in (("births_male", "births_female"),) + tuple(
            (s.numerator, s.denominator) for s in SERVICES):
        if (a in data.columns) != (b in data.columns):
            present, absent = (a, b) if a in data.columns else (b, a)
            col.add(None, absent, f"column is missing although its pair '{present}' is given")
    col.problems += sub.problems
