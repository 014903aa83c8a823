"""Completeness and plausibility of reported counts.

* :func:`completeness`: the share of expected monthly reports present, per unit of the units
  table (a unit that never reported is listed with 0 %), with the missing months named;
* :func:`timeliness`: the share of reports received by the deadline, where a received date
  is given;
* :func:`value_completeness`: the share of non-missing cells per count column;
* :func:`sex_ratio_plausibility`: the sex ratio at birth against the biological reference
  (105 boys per 100 girls), overall and by birth order, by an exact binomial test;
* :func:`whipple_index`, :func:`myers_index`, :func:`mother_age_heaping`: age heaping in
  counts by single year of age (mother's age at birth from an event register).

Every output carries the figure, the threshold that judges it, ``flag`` and ``severity``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .. import periods as pr
from ..intervals import check_confidence, proportion_confint, sex_ratio_confint, sex_ratio_test
from ..schema import BIRTH_ORDERS, count_columns
from .notes import note as _note

__all__ = [
    "completeness",
    "completeness_flags",
    "mother_age_heaping",
    "myers_index",
    "sex_ratio_plausibility",
    "timeliness",
    "value_completeness",
    "whipple_index",
]


# --------------------------------------------------------------------------- helpers

def _check_share(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating) \
            or not 0 < value <= 1:
        raise ValueError(f"{name} must be a share in (0, 1], e.g. 0.90, got {value!r}")
    return float(value)


def _frame(data: object, what: str, columns: Sequence[str]) -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"{what} must be a pandas DataFrame, got {type(data).__name__}")
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise ValueError(f"the {what} have no column(s) {', '.join(missing)}")
    return data


def _monthly(counts: pd.DataFrame) -> pd.DataFrame:
    """``unit`` (stripped text) and ``period`` (``period[M]``) of monthly counts, checked."""
    _frame(counts, "counts", ["unit", "period"])
    out = pd.DataFrame({"unit": counts["unit"].astype("string").str.strip(),
                        "period": counts["period"]}, index=counts.index)
    if out["unit"].isna().any() or out["period"].isna().any():
        raise ValueError("the counts have rows without a unit or period")
    if out["period"].dtype != "period[M]":
        parsed, bad = pr.parse_series(out["period"])
        kinds = {pr.kind(p) for p in pd.unique(parsed[~bad])}
        if bad.any() or kinds != {"month"}:
            raise ValueError("completeness needs monthly counts (one row per unit and month)")
        out["period"] = pd.PeriodIndex(list(parsed), freq="M")
    dup = out.duplicated(["unit", "period"], keep=False).to_numpy()
    if dup.any():
        u, p = out["unit"][dup].iloc[0], out["period"][dup].iloc[0]
        raise ValueError(f"the counts hold {int(dup.sum())} rows that share a unit and month "
                         f"(e.g. {u}, {p}); each may appear once")
    return out


def _expected_units(units: pd.DataFrame, present: pd.Series, level: str | None
                    ) -> pd.DataFrame:
    """The units expected to report: those of ``level``, or of the levels of the units
    present in the counts. Unit codes in the counts that the table lacks are refused."""
    _frame(units, "units", ["unit", "name", "level"])
    code = units["unit"].astype("string").str.strip()
    unknown = sorted(set(present.dropna()) - set(code))
    if unknown:
        raise ValueError(f"the counts hold {len(unknown)} unit(s) not in units: "
                         f"{', '.join(unknown[:5])}")
    if level is None:
        levels = set(units.loc[code.isin(set(present)).to_numpy(), "level"])
        if not levels:
            raise ValueError("no unit of the counts is in units; pass level= to say which "
                             "units must report")
    else:
        if level not in set(units["level"]):
            raise ValueError(f"level {level!r} is not a level of the units table")
        levels = {level}
    keep = units["level"].isin(levels).to_numpy()
    return pd.DataFrame({"unit": code[keep].to_numpy(),
                         "name": units.loc[keep, "name"].astype("string").to_numpy()})


def _months_of(period: object) -> pd.PeriodIndex:
    try:
        p = pr.parse(period)
    except ValueError:
        raise ValueError(f"period must be a period label such as 2024, 2024Q3 or "
                         f"2022-01/2024-12, got {period!r}") from None
    if isinstance(p, pr.Dekad):
        raise ValueError(f"period {p} is a dekad: completeness is counted in months")
    return pr.months(p)


def _joined(labels: pd.Series) -> str:
    return ", ".join(labels)


# --------------------------------------------------------------------------- completeness

def completeness(counts: pd.DataFrame, units: pd.DataFrame, *, period: object,
                 threshold: float = 0.90, level: str | None = None) -> pd.DataFrame:
    """Share of expected monthly reports present, per unit of the units table.

    A month counts as reported when the unit has a row for it with at least one count
    (a row whose count cells are all empty is not a report). Rows outside ``period`` are
    not looked at.

    Parameters
    ----------
    counts : pandas.DataFrame
        Monthly counts (:func:`fpanalysis.io.load_counts`).
    units : pandas.DataFrame
        The units table (:func:`fpanalysis.io.load_units`): every unit of the level(s)
        concerned is expected to report every month.
    period : period label
        The months expected: a year (``2024``), a quarter, a half-year or a span of months
        (``2022-01/2024-12``).
    threshold : float, default 0.90
        A unit below this share is flagged.
    level : str, optional
        Level of the units that must report (``township``); by default the levels of the
        units found in the counts.

    Returns
    -------
    pandas.DataFrame
        One row per expected unit, in unit order: ``unit``, ``name``, ``period`` (label),
        ``expected`` (months), ``reported``, ``completeness`` (share, 0 to 1), ``missing``
        (the absent months, e.g. ``'2023-05, 2023-06'``), ``flag`` (below ``threshold``,
        the WHO Data Quality Review's rule), ``severity`` (``extreme`` for a flag,
        ``moderate`` for a unit above the threshold that still misses a month: a missing
        report is never chance, so it is listed too; else ''), ``threshold``, ``note``.

    Examples
    --------
    >>> units = pd.DataFrame({"unit": ["1", "A", "B"], "name": ["county", "a", "b"],
    ...                       "parent": [None, "1", "1"],
    ...                       "level": ["county", "township", "township"]})
    >>> counts = pd.DataFrame({"unit": ["A", "A"], "period": ["2024-01", "2024-03"],
    ...                        "births": [3, 4]})
    >>> completeness(counts, units, period="2024Q1")[["unit", "completeness", "missing"]]
      unit  completeness                    missing
    0    A      0.666667                    2024-02
    1    B      0.000000  2024-01, 2024-02, 2024-03
    """
    thr = _check_share(threshold, "threshold")
    months = _months_of(period)
    label = str(pr.parse(period))
    rows = _monthly(counts)
    cols = count_columns(counts.columns)
    has_value = counts[cols].notna().any(axis=1).to_numpy() if cols else \
        np.ones(len(counts), dtype=bool)
    rows = rows[has_value & rows["period"].isin(months).to_numpy()]
    expected = _expected_units(units, rows["unit"], level)
    grid = pd.MultiIndex.from_product([expected["unit"], months], names=["unit", "period"])
    present = pd.MultiIndex.from_frame(rows[["unit", "period"]])
    have = grid.isin(present)
    frame = grid.to_frame(index=False).assign(_have=have)
    reported = frame.groupby("unit", sort=False)["_have"].sum()
    absent = frame[~have].assign(_label=lambda f: f["period"].astype(str))
    missing = absent.groupby("unit", sort=False)["_label"].agg(_joined)
    out = expected.copy()
    out.insert(2, "period", label)
    out["expected"] = len(months)
    out["reported"] = out["unit"].map(reported).fillna(0).astype(int).to_numpy()
    out["completeness"] = out["reported"] / len(months)
    named = out["unit"].map(missing)
    out["missing"] = np.where(named.isna(), "", named.astype(object))
    out["flag"] = out["completeness"] < thr
    never = out["reported"].to_numpy() == 0
    gaps = out["reported"].to_numpy() < len(months)
    out["severity"] = np.where(out["flag"], "extreme", np.where(gaps, "moderate", ""))
    out["threshold"] = thr
    out["note"] = np.where(never, f"no report in {label}", "")
    return out.sort_values("unit", kind="stable").reset_index(drop=True)


def timeliness(counts: pd.DataFrame, *, period: object, received: str = "received",
               deadline_day: int = 5, threshold: float = 0.90,
               units: pd.DataFrame | None = None) -> pd.DataFrame:
    """Share of monthly reports received by the deadline (day ``deadline_day`` of the
    following month, inclusive), per unit, as the WHO Data Quality Review's timeliness:
    reports on time over reports received.

    Parameters
    ----------
    counts : pandas.DataFrame
        Monthly counts with a column of received dates (kept as text by
        :func:`fpanalysis.io.load_counts`, which lists it under ``unknown_columns``).
    period : period label
        The months looked at.
    received : str, default 'received'
        Name of the date column (``YYYY-MM-DD``).
    deadline_day : int, default 5
        Reports are due by this day of the following month.
    threshold : float, default 0.90
        A unit whose share on time is below this is flagged.
    units : pandas.DataFrame, optional
        The units table: units of the level(s) in the counts that sent no report in the
        period are then listed too (with no share and a note).

    Returns
    -------
    pandas.DataFrame
        ``unit``, ``period`` (label), ``reported`` (months with a row), ``dated`` (with a
        received date), ``on_time``, ``late``, ``timeliness`` (on_time / dated; NaN
        without dated reports), ``late_months`` (text), ``undated_months`` (text),
        ``flag``, ``severity``, ``threshold``, ``deadline_day``, ``note``.

    Raises
    ------
    ValueError
        No ``received`` column, a date that cannot be read (each named with its unit and
        month), a date before the month it reports on ends, a bad deadline day.
    """
    thr = _check_share(threshold, "threshold")
    if isinstance(deadline_day, bool) or not isinstance(deadline_day, int | np.integer) \
            or not 1 <= deadline_day <= 28:
        raise ValueError(f"deadline_day must be a whole day of the month from 1 to 28, "
                         f"got {deadline_day!r}")
    _frame(counts, "counts", ["unit", "period", received])
    months = _months_of(period)
    label = str(pr.parse(period))
    rows = _monthly(counts)
    if pd.api.types.is_datetime64_any_dtype(counts[received]):  # typed (Parquet) dates
        dates = counts[received].dt.normalize()
        text = dates.astype("string")
    else:
        text = counts[received].astype("string").str.strip()
        text = text.where(text != "")
        dates = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    inside = rows["period"].isin(months).to_numpy()
    bad = (text.notna() & dates.isna()).to_numpy() & inside
    if bad.any():
        where = [f"{u} {p}: {t!r}" for u, p, t in
                 zip(rows["unit"][bad], rows["period"][bad].astype(str), text[bad],
                     strict=True)][:5]
        raise ValueError(f"{int(bad.sum())} received date(s) cannot be read as YYYY-MM-DD: "
                         + "; ".join(where))
    month_end = rows["period"].dt.end_time.dt.normalize()
    early = (dates < month_end).to_numpy() & inside
    if early.any():
        where = [f"{u} {p}: {d.date()}" for u, p, d in
                 zip(rows["unit"][early], rows["period"][early].astype(str), dates[early],
                     strict=True)][:5]
        raise ValueError(f"{int(early.sum())} report(s) received before the month they "
                         "report on ended: " + "; ".join(where))
    deadline = (rows["period"] + 1).dt.start_time + pd.Timedelta(days=deadline_day - 1)
    frame = pd.DataFrame({"unit": rows["unit"], "label": rows["period"].astype(str),
                          "dated": dates.notna().to_numpy(),
                          "on_time": (dates <= deadline).to_numpy()})[inside]
    frame["late"] = frame["dated"] & ~frame["on_time"]
    g = frame.groupby("unit", sort=True)
    out = pd.DataFrame({"reported": g.size(), "dated": g["dated"].sum(),
                        "on_time": g["on_time"].sum(), "late": g["late"].sum()})
    out["late_months"] = frame[frame["late"]].groupby("unit")["label"].agg(_joined)
    out["undated_months"] = frame[~frame["dated"]].groupby("unit")["label"].agg(_joined)
    out = out.reset_index()
    if units is not None:
        expected = _expected_units(units, rows["unit"], None)
        out = expected[["unit"]].merge(out, on="unit", how="left")
    for c in ("reported", "dated", "on_time", "late"):
        out[c] = out[c].fillna(0).astype(int)
    for c in ("late_months", "undated_months"):
        out[c] = out[c].astype(object).where(out[c].notna(), "")
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(out["dated"] > 0, out["on_time"] / out["dated"].clip(lower=1),
                         np.nan)
    out.insert(1, "period", label)
    out["timeliness"] = share
    out["flag"] = pd.array(np.where(np.isnan(share), False, share < thr), dtype="boolean")
    out.loc[np.isnan(share), "flag"] = pd.NA
    out["severity"] = np.where(out["flag"].fillna(False), "moderate", "")
    out["threshold"] = thr
    out["deadline_day"] = deadline_day
    out["note"] = np.where(out["reported"] == 0, f"no report in {label}",
                           np.where(out["dated"] == 0, "no received date given", ""))
    cols = ["unit", "period", "reported", "dated", "on_time", "late", "timeliness",
            "late_months", "undated_months", "flag", "severity", "threshold", "deadline_day",
            "note"]
    return out[cols].sort_values("unit", kind="stable").reset_index(drop=True)


def value_completeness(counts: pd.DataFrame, *, columns: Sequence[str] | None = None,
                       by: Sequence[str] = ("unit",), threshold: float = 0.90,
                       units: pd.DataFrame | None = None, level: str | None = None
                       ) -> pd.DataFrame:
    """Share of non-missing cells per count column (per unit with ``by=("unit",)``, over
    all rows with ``by=()``).

    Only rows that exist are looked at: a month without a row is a missing report
    (:func:`completeness`), not a missing value.

    Parameters
    ----------
    units : pandas.DataFrame, optional
        The units table (``by`` must be ``("unit",)``): every unit of ``level`` (default:
        the levels of the units in the counts) is then listed, one without a row with 0
        cells, no share, ``flag`` ``<NA>`` and the note "not reported". Counts units that
        the table lacks are refused.
    level : str, optional
        With ``units``: the level whose units must report.

    Returns
    -------
    pandas.DataFrame
        ``by`` columns, ``column``, ``cells`` (rows), ``present`` (non-missing),
        ``share`` (NaN without cells), ``flag`` (nullable boolean: share below
        ``threshold``; ``<NA>`` without cells), ``severity`` (``moderate`` for a flag),
        ``threshold``, ``note`` ("not reported" for a unit without rows, "no rows" for
        another group without cells). Rows in ``by`` then column order.

    Examples
    --------
    >>> c = pd.DataFrame({"unit": ["A", "A", "B"], "period": ["2024-01", "2024-02", "2024-01"],
    ...                   "births": [1, None, 2], "deaths": [0, 1, 1]})
    >>> value_completeness(c)[["unit", "column", "present", "share"]]
      unit  column  present  share
    0    A  births        1    0.5
    1    A  deaths        2    1.0
    2    B  births        1    1.0
    3    B  deaths        1    1.0
    """
    thr = _check_share(threshold, "threshold")
    by = list(by)
    _frame(counts, "counts", by)
    if units is not None and by != ["unit"]:
        raise ValueError("units= lists every unit: it needs by=('unit',)")
    if columns is None:
        columns = count_columns(counts.columns)
    else:
        columns = list(columns)
        unknown = [c for c in columns if c not in counts.columns]
        if unknown:
            raise ValueError(f"the counts have no column(s) {', '.join(unknown)}")
    if not columns:
        raise ValueError("the counts have no count columns to look at")
    present = counts[list(columns)].notna()
    if by:
        keys = [counts[k].astype("string").str.strip() for k in by]
        g = present.groupby(keys, sort=True)
        long = pd.DataFrame({"present": g.sum().stack(), "cells": g.count().stack()})
        long.index = long.index.set_names(by + ["column"])
        long = long.reset_index()
    else:
        long = pd.DataFrame({"column": list(columns),
                             "present": present.sum().to_numpy(),
                             "cells": len(counts)})
    long["note"] = ""
    if units is not None:  # every unit that must report, one without a row too
        present_units = counts["unit"].astype("string").str.strip()
        expected = _expected_units(units, present_units, level)["unit"].astype(object)
        grid = pd.MultiIndex.from_product([pd.unique(expected), list(columns)],
                                          names=["unit", "column"]).to_frame(index=False)
        long = grid.merge(long.assign(unit=long["unit"].astype(object)),
                          on=["unit", "column"], how="left")
        absent = long["cells"].isna().to_numpy()
        long["note"] = np.where(absent, "not reported", "")
        long[["cells", "present"]] = long[["cells", "present"]].fillna(0)
    long["present"] = long["present"].astype(int)
    long["cells"] = long["cells"].astype(int)
    has = long["cells"].to_numpy() > 0
    long["share"] = np.where(has, long["present"] / long["cells"].clip(lower=1), np.nan)
    long["flag"] = pd.array(np.where(has, long["share"] < thr, None), dtype="boolean")
    long["severity"] = np.where(long["flag"].fillna(False), "moderate", "")
    long["threshold"] = thr
    long["note"] = np.where(~has & (long["note"] == ""), "no rows", long["note"])
    return long[by + ["column", "cells", "present", "share", "flag", "severity",
                      "threshold", "note"]].reset_index(drop=True)


# --------------------------------------------------------------------------- sex ratio

def _pairs(orders: bool) -> list[tuple[str, str, str]]:
    pairs = [("all", "births_male", "births_female")]
    if orders:
        pairs += [(o, f"births_male_{o}", f"births_female_{o}") for o in BIRTH_ORDERS]
    return pairs


def _check_orders(data: pd.DataFrame, pairs: list[tuple[str, str, str]]) -> None:
    """Refuse rows whose birth-order counts (o1 + o2 + o3p) do not add up to the sex's
    total, where the total and every order are given: the order rows would then judge
    other births than the ``all`` row."""
    orders = [p for p in pairs if p[0] != "all"]
    if len(orders) != len(BIRTH_ORDERS):
        return  # not every order given: nothing to add up
    problems = []
    for i, total in ((1, "births_male"), (2, "births_female")):  # two sexes
        parts = np.column_stack([data[p[i]].to_numpy(dtype=float, na_value=np.nan)
                                 for p in orders])
        whole = data[total].to_numpy(dtype=float, na_value=np.nan)
        given = ~np.isnan(whole) & ~np.isnan(parts).any(axis=1)
        off = given & (parts.sum(axis=1) != whole)
        if off.any():
            j = int(np.flatnonzero(off)[0])
            terms = " + ".join(f"{v:g}" for v in parts[j])
            problems.append(f"{int(off.sum())} row(s) where {' + '.join(p[i] for p in orders)}"
                            f" differs from {total} (e.g. {data['unit'].iloc[j]} "
                            f"{data['period'].iloc[j]}: {terms} = {parts[j].sum():g}, "
                            f"{total} {whole[j]:g})")
    if problems:
        raise ValueError("the counts' birth orders do not add up: " + "; ".join(problems))


def sex_ratio_plausibility(counts: pd.DataFrame, *, period: object = None,
                           reference: float = 105.0, alpha: float = 0.001,
                           confidence: float = 0.95, by_order: bool = True,
                           units: pd.DataFrame | None = None) -> pd.DataFrame:
    """Sex ratio at birth against the biological reference, overall and by birth order.

    Each unit, period and order is tested exactly: males ~ Bin(births, r / (100 + r)) with
    r = ``reference`` (105 boys per 100 girls, p0 = 105/205), two-sided (the rule of
    :func:`scipy.stats.binomtest`, via :func:`fpanalysis.intervals.sex_ratio_test`), and
    flagged when the p-value is below ``alpha``. With 18 townships x 4 orders x 12 months
    about 0.9 false flags a year are expected at alpha = 0.001; a sustained imbalance shows
    in the yearly figures (``period="Y"``).

    Parameters
    ----------
    counts : pandas.DataFrame
        Counts with ``births_male``/``births_female`` and, for the order breakdown,
        ``births_male_o1`` ... ``births_female_o3p`` (orders whose columns are absent are
        left out).
    period : {'M', 'Q', 'H', 'Y'} or period label, optional
        Roll monthly counts up first (:func:`fpanalysis.periods.rollup`); a unit missing
        some months of a period gets no figure and a note naming them.
    reference : float, default 105.0
        Boys per 100 girls expected.
    alpha : float, default 0.001
        Flag when p < alpha.
    confidence : float, default 0.95
        Level of the sex ratio's exact (Clopper-Pearson) interval.
    by_order : bool, default True
        Add rows per birth order (``o1``, ``o2``, ``o3p``).
    units : pandas.DataFrame, optional
        The units table: every unit of the levels in the counts then appears in every
        period, one without a row with no figure and the note "not reported".

    Returns
    -------
    pandas.DataFrame
        ``unit``, ``period``, ``order`` (``all``, ``o1``, ``o2``, ``o3p``), ``male``,
        ``female``, ``births``, ``sex_ratio`` (boys per 100 girls), ``lower``, ``upper``,
        ``p_value``, ``direction`` (``high``/``low``), ``flag`` (p < alpha; ``<NA>``
        without births), ``p_bonferroni`` (p times the number of tests in the table,
        at most 1), ``severity`` (``extreme`` when a flag survives the Bonferroni
        correction, so that a table with no true imbalance has an extreme flag with
        probability below alpha; ``moderate`` for another flag), ``threshold`` (alpha),
        ``reference``, ``note``.

    Raises
    ------
    ValueError
        A missing column, a count that is text, true/false, fractional or negative, a
        duplicate (unit, period), counts not monthly with ``period``, or (with every order
        column) rows whose orders o1 + o2 + o3p do not add up to ``births_male`` or
        ``births_female``, with the first such row named.

    Examples
    --------
    >>> c = pd.DataFrame({"unit": ["A", "B"], "period": ["2024", "2024"],
    ...                   "births_male": [60, 530], "births_female": [40, 500]})
    >>> sex_ratio_plausibility(c)[["unit", "sex_ratio", "p_value", "flag"]].round(4)
      unit  sex_ratio  p_value   flag
    0    A      150.0   0.0888  False
    1    B      106.0   0.9008  False
    """
    conf = check_confidence(confidence)
    if isinstance(alpha, bool) or not isinstance(alpha, int | float | np.floating) \
            or not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1 (exclusive), got {alpha!r}")
    if isinstance(reference, bool) or not isinstance(reference, int | float | np.floating) \
            or not reference > 0 or not np.isfinite(reference):
        raise ValueError(f"reference must be a positive number of boys per 100 girls, "
                         f"got {reference!r}")
    _frame(counts, "counts", ["unit", "period", "births_male", "births_female"])
    half = [c for _, m, f in _pairs(by_order) for c, o in ((m, f), (f, m))
            if c in counts.columns and o not in counts.columns]
    if half:
        raise ValueError(f"the counts have {', '.join(half)} without the other sex's column")
    pairs = [p for p in _pairs(by_order) if {p[1], p[2]} <= set(counts.columns)]
    cols = [c for _, m, f in pairs for c in (m, f)]
    data = counts[["unit", "period"] + cols].copy()
    data["unit"] = data["unit"].astype("string").str.strip()
    for c in cols:
        column = data[c]
        # only a column of objects can hold a True among numbers: no per-cell look otherwise
        if pd.api.types.is_bool_dtype(column) or (
                column.dtype == object and column.map(type).eq(bool).any()):
            raise ValueError(f"the counts' column {c!r} must be a count, not true/false")
        try:
            v = pd.to_numeric(data[c], errors="raise").astype("Float64")
        except (TypeError, ValueError):
            raise ValueError(f"the counts' column {c!r} holds values that are not "
                             "numbers") from None
        x = v.to_numpy(dtype=float, na_value=np.nan)
        bad = ~np.isnan(x) & ((x < 0) | (np.mod(np.nan_to_num(x), 1) != 0))
        if bad.any():
            raise ValueError(f"the counts' column {c!r} holds {int(bad.sum())} value(s) "
                             f"that are not non-negative whole numbers (e.g. {x[bad][0]:g})")
        data[c] = v
    _check_orders(data, pairs)
    if period is None:
        dup = data.assign(_p=data["period"].astype(str)).duplicated(["unit", "_p"],
                                                                    keep=False).to_numpy()
        if dup.any():
            u, p = data["unit"][dup].iloc[0], data["period"][dup].iloc[0]
            raise ValueError(f"the counts hold {int(dup.sum())} rows that share a unit and "
                             f"period (e.g. {u}, {p}); each may appear once")
    if period is not None:
        if data["period"].dtype != "period[M]" and not pr.is_dekad(data["period"]):
            raise ValueError(f"the counts must be monthly to be rolled up to {period}")
        data = pr.rollup(data, period, columns=cols, complete=True)
        missing = data["missing"].to_numpy(dtype=object)
    else:
        missing = np.full(len(data), "", dtype=object)
    if units is not None:  # units without a row in a period are listed, not dropped
        present = counts["unit"].astype("string").str.strip()  # before any roll-up
        expected = _expected_units(units, present, None)["unit"].astype(object)
        labels = data["period"].astype(str).astype(object)
        grid = pd.MultiIndex.from_product([expected, pd.unique(labels)],
                                          names=["unit", "_label"]).to_frame(index=False)
        have = pd.DataFrame({"unit": data["unit"].astype(object), "_label": labels,
                             "_pos": np.arange(len(data))})
        grid = grid.merge(have, on=["unit", "_label"], how="left")
        pos = grid["_pos"].to_numpy()
        absent = np.isnan(pos)
        take = np.where(absent, 0, pos).astype(int)
        first = {lab: data["period"].iloc[i] for i, lab in enumerate(labels)}
        data = pd.DataFrame({"unit": grid["unit"].astype("string"),
                             "period": grid["_label"].map(first).to_numpy(),
                             **{c: data[c].astype("Float64").to_numpy(
                                 dtype=float, na_value=np.nan)[take] for c in cols}})
        for c in cols:
            data.loc[absent, c] = np.nan
        missing = np.where(absent, "not reported", missing[take]).astype(object)
    parts = []
    for order, m_col, f_col in pairs:
        m = data[m_col].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        f = data[f_col].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        parts.append(pd.DataFrame({"unit": data["unit"].to_numpy(),
                                   "period": data["period"].astype(str).to_numpy(),
                                   "order": order, "male": m, "female": f,
                                   "missing": missing}))
    long = pd.concat(parts, ignore_index=True)
    m, f = long["male"].to_numpy(), long["female"].to_numpy()
    n = m + f
    ok = n > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(ok, np.where(f > 0, 100 * m / f, np.inf), np.nan)
    lo, hi = sex_ratio_confint(np.where(ok, m, 0), np.where(ok, f, 1), confidence=conf)
    pval = sex_ratio_test(np.where(ok, m, 0), np.where(ok, f, 0), reference=reference)
    flag = ok & (pval < alpha)
    miss = long["missing"].astype(str).to_numpy(dtype=object)
    note = np.where(miss == "not reported", "not reported",
                    np.where(miss != "", "months missing: " + miss,
                             np.where(np.isnan(n), "births missing",
                                      np.where(n == 0, "no births", ""))))
    out = pd.DataFrame({
        "unit": long["unit"].astype("string"), "period": long["period"],
        "order": long["order"],
        "male": pd.array(m, dtype="Float64").astype("Int64"),
        "female": pd.array(f, dtype="Float64").astype("Int64"),
        "births": pd.array(n, dtype="Float64").astype("Int64"),
        "sex_ratio": ratio, "lower": np.where(ok, lo, np.nan), "upper": np.where(ok, hi, np.nan),
        "p_value": np.where(ok, pval, np.nan),
        "direction": np.where(ok, np.where(ratio > reference, "high", "low"), ""),
        "flag": pd.array(flag, dtype="boolean"),
        "p_bonferroni": np.where(ok, np.minimum(1.0, pval * max(int(ok.sum()), 1)), np.nan),
        "severity": np.where(flag & (pval * ok.sum() < alpha), "extreme",
                             np.where(flag, "moderate", "")),
        "threshold": float(alpha), "reference": float(reference), "note": note})
    out.loc[~ok, "flag"] = pd.NA
    order_rank = {o: i for i, (o, _, _) in enumerate(pairs)}
    out["_o"] = out["order"].map(order_rank)
    out = out.sort_values(["unit", "period", "_o"], kind="stable").drop(columns="_o")
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------- age heaping

def _check_range(ages: object, name: str, step: int) -> tuple[int, int]:
    ok = (isinstance(ages, tuple | list) and len(ages) == 2
          and all(isinstance(a, int | np.integer) and not isinstance(a, bool) for a in ages))
    if not ok or not 0 <= ages[0] < ages[1]:
        raise ValueError(f"{name} must be two whole ages (first, last), first < last, "
                         f"got {ages!r}")
    lo, hi = int(ages[0]), int(ages[1])
    if (hi - lo + 1) % step:
        raise ValueError(f"{name} must span a multiple of {step} single years of age "
                         f"(so that each final digit is equally represented), got {lo}-{hi}")
    return lo, hi


def _spans(ages: np.ndarray) -> str:
    """Whole ages as runs: [30, 31, 32, 35] -> '30-32, 35'."""
    ages = np.sort(ages)
    breaks = np.flatnonzero(np.diff(ages) != 1)
    starts = np.r_[ages[:1], ages[breaks + 1]]
    ends = np.r_[ages[breaks], ages[-1:]]
    return ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in zip(starts, ends,
                                                                      strict=True))


def _age_matrix(data: pd.DataFrame, age: str, count: str, by: list[str], lo: int, hi: int,
                missing_ages: bool = False) -> tuple[pd.DataFrame, np.ndarray]:
    """Group keys and a (groups x ages lo..hi) matrix of counts. An age of the range
    without a row is refused in a group that has rows in the range (a silent 0 would move
    the index), unless ``missing_ages`` (then it counts 0: counts aggregated from events
    have no row for an age nobody had)."""
    _frame(data, "age counts", [age, count] + by)
    if pd.api.types.is_bool_dtype(data[count]) or data[count].map(type).eq(bool).any():
        raise ValueError(f"column {count!r} must be a count, not true/false")
    a = pd.to_numeric(data[age], errors="coerce").to_numpy(dtype=float)
    c = pd.to_numeric(data[count], errors="coerce").to_numpy(dtype=float)
    bad_age = np.isnan(a) | (np.mod(np.where(np.isnan(a), 0, a), 1) != 0) | (a < 0)
    if bad_age.any():
        raise ValueError(f"column {age!r} must hold whole ages; {int(bad_age.sum())} do not "
                         f"(e.g. {data[age][bad_age].iloc[0]})")
    bad = np.isnan(c) | (c < 0)
    if bad.any():
        raise ValueError(f"column {count!r} must hold non-negative counts; "
                         f"{int(bad.sum())} do not (e.g. {data[count][bad].iloc[0]})")
    keys = data[by].astype("string") if by else pd.DataFrame(index=data.index)
    if by:
        codes, uniq = pd.factorize(pd.MultiIndex.from_frame(keys), sort=True)
        groups = pd.DataFrame(list(uniq), columns=by, dtype="string")
    else:
        codes, groups = np.zeros(len(data), dtype=np.int64), pd.DataFrame(index=[0])
    dup = pd.DataFrame({"g": codes, "a": a}).duplicated().to_numpy()
    if dup.any():
        raise ValueError(f"the age counts hold {int(dup.sum())} repeated age(s) within a "
                         "group; give one row per age")
    inside = (a >= lo) & (a <= hi)
    mat = np.zeros((len(groups), hi - lo + 1))
    np.add.at(mat, (codes[inside], (a[inside] - lo).astype(int)), c[inside])
    if not missing_ages:
        seen = np.zeros(mat.shape, dtype=bool)
        seen[codes[inside], (a[inside] - lo).astype(int)] = True
        gap = seen.any(axis=1) & ~seen.all(axis=1)
        if gap.any():
            g = int(np.flatnonzero(gap)[0])
            absent = _spans(lo + np.flatnonzero(~seen[g]))
            which = (" in " + ", ".join(f"{k}={v}" for k, v in zip(
                by, groups.iloc[g].tolist(), strict=True))) if by else ""
            more = f" ({int(gap.sum())} groups)" if gap.sum() > 1 else ""
            raise ValueError(f"ages {absent} absent from the range {lo}-{hi}{which}{more}: "
                             "give a row (count 0) for every age of the range, or pass "
                             "missing_ages=True if an absent age means nobody")
    return groups.reset_index(drop=True), mat


def whipple_index(data: pd.DataFrame, *, age: str = "age", count: str = "count",
                  by: Sequence[str] = (), ages: tuple[int, int] = (23, 62),
                  confidence: float = 0.95, threshold: float = 110.0,
                  missing_ages: bool = False) -> pd.DataFrame:
    """Whipple's index of heaping on ages ending in 0 or 5.

    ``Whipple = 100 x (persons at ages ending 0 or 5) / (persons at all ages x k / L)``
    over ``ages`` (first, last), with L single years in the range and k of them ending in
    0 or 5 (23-62: k/L = 8/40 = 1/5, the standard range of Shryock and Siegel, *The
    Methods and Materials of Demography*, and of the UN). 100 means no preference for 0
    and 5, 500 that every age ends in 0 or 5. The UN's categories: under 105 highly
    accurate, 105-110 fairly accurate, 110-125 approximate, 125-175 rough, 175 and over
    very rough.

    The interval treats the persons at 0/5 ages as binomial among the persons in range
    (exact Clopper-Pearson), so that heaping in a small township is told from chance;
    ``flag`` when its lower limit exceeds ``threshold``.

    Parameters
    ----------
    data : pandas.DataFrame
        Counts by single year of age: ``age``, ``count`` (whole numbers, not true/false)
        and the ``by`` columns; one row per age and group, for every age of the range.
    ages : (int, int), default (23, 62)
        First and last age, spanning a multiple of 5 years. For mother's age at birth
        (15-49) use e.g. (23, 47).
    missing_ages : bool, default False
        An age of the range without a row in a group that has rows in the range is
        refused ("ages 30-40 absent from the range 23-62"); with True it counts 0 (counts
        aggregated from events, where an absent age means nobody). A group with no row in
        the range has no index (NaN).

    Returns
    -------
    pandas.DataFrame
        ``by`` columns, ``persons`` (in range), ``heaped`` (at ages ending 0 or 5),
        ``whipple``, ``lower``, ``upper``, ``flag`` (``<NA>`` without persons),
        ``severity`` (``extreme`` when the lower limit is 175 or more, ``moderate`` for
        another flag), ``threshold``, ``ages`` (text).

    Examples
    --------
    A uniform population (10 at every age) has no heaping; all at 0/5 ages gives 500:

    >>> ages = pd.DataFrame({"age": range(23, 63), "count": 10})
    >>> float(whipple_index(ages)["whipple"].iloc[0])
    100.0
    >>> heaped = ages.assign(count=ages["age"].mod(5).eq(0) * 10)
    >>> float(whipple_index(heaped)["whipple"].iloc[0])
    500.0
    """
    conf = check_confidence(confidence)
    lo, hi = _check_range(ages, "ages", 5)
    by = list(by)
    groups, mat = _age_matrix(data, age, count, by, lo, hi, bool(missing_ages))
    span = np.arange(lo, hi + 1)
    heap = span % 5 == 0
    k, length = int(heap.sum()), len(span)
    persons = mat.sum(axis=1)
    heaped = mat[:, heap].sum(axis=1)
    scale = 100.0 * length / k
    ok = persons > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        whipple = np.where(ok, scale * heaped / persons, np.nan)
    pl, pu = proportion_confint(heaped, np.where(ok, persons, 1), confidence=conf,
                                method="clopper_pearson")
    lower = np.where(ok, scale * pl, np.nan)
    upper = np.where(ok, scale * pu, np.nan)
    flag = ok & (lower > threshold)
    out = groups.copy()
    out["persons"] = persons
    out["heaped"] = heaped
    out["whipple"] = whipple
    out["lower"] = lower
    out["upper"] = upper
    out["flag"] = pd.array(flag, dtype="boolean")
    out.loc[~ok, "flag"] = pd.NA
    out["severity"] = np.where(flag & (lower >= 175), "extreme", np.where(flag, "moderate", ""))
    out["threshold"] = float(threshold)
    out["ages"] = f"{lo}-{hi}"
    return out.reset_index(drop=True)


def myers_index(data: pd.DataFrame, *, age: str = "age", count: str = "count",
                by: Sequence[str] = (), ages: tuple[int, int] = (23, 82),
                missing_ages: bool = False) -> pd.DataFrame:
    """Myers' blended index of preference for each final digit of age.

    Over ``ages`` (first, last), spanning whole decades: for each final digit d, the
    persons at ages ending in d are summed twice, once from the first age over all decades
    but the last (sum 1) and once from ten years higher over all decades but the first
    (sum 2), so both sums cover the same number of decades. The digit met first from the
    range's start weighs 1 in sum 1 and 9 in sum 2, the next 2 and 8, ..., the last 10
    and 0. The blended total of each digit as a share of all is compared with 10 %: index
    = half the sum of the absolute deviations, in percentage points (0 = no preference,
    e.g. a uniform population; 90 = every age ends in one digit). Myers (1940, 1954);
    Shryock and Siegel, *The Methods and Materials of Demography*, ch. 8 (weights 1..10 on
    the sum from the lower age, 9..0 on the sum from ten years higher); this is DemoTools'
    ``check_heaping_myers(Value, Age, ageMin, ageMax, method="orig")``, whose default range
    23-82 is the default here. The US Census Bureau's PAS spreadsheet variant (sum 1 over
    every decade) is not implemented.

    ``count`` must hold whole counts (not true/false); an age of the range without a row is
    refused unless ``missing_ages=True``, as for :func:`whipple_index`.

    Returns
    -------
    pandas.DataFrame
        ``by`` columns, ``persons`` (in range), ``myers``, ``preferred`` (the digit with
        the largest blended share), ``ages`` (text).

    Examples
    --------
    A uniform population gives 0; everyone at ages ending 0 gives 90:

    >>> ages = pd.DataFrame({"age": range(10, 90), "count": 10})
    >>> float(myers_index(ages, ages=(10, 89))["myers"].iloc[0])
    0.0
    >>> zeros = ages.assign(count=ages["age"].mod(10).eq(0) * 10)
    >>> round(float(myers_index(zeros, ages=(10, 89))["myers"].iloc[0]), 9)
    90.0
    """
    lo, hi = _check_range(ages, "ages", 10)
    if hi - lo + 1 < 20:
        raise ValueError(f"ages must span at least two decades for Myers' index, got {lo}-{hi}")
    by = list(by)
    groups, mat = _age_matrix(data, age, count, by, lo, hi, bool(missing_ages))
    decades = (hi - lo + 1) // 10
    cube = mat.reshape(len(mat), decades, 10)        # [group, decade, position from lo]
    sum1 = cube[:, :-1, :].sum(axis=1)
    sum2 = cube[:, 1:, :].sum(axis=1)
    w = np.arange(1, 11)                              # position 0 (digit lo % 10) weighs 1
    blended = sum1 * w + sum2 * (10 - w)
    total = blended.sum(axis=1)
    ok = total > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        share = blended / total[:, None]
    myers = np.where(ok, 50.0 * np.abs(share - 0.1).sum(axis=1), np.nan)
    digits = (lo + np.arange(10)) % 10
    out = groups.copy()
    out["persons"] = mat.sum(axis=1)
    out["myers"] = myers
    out["preferred"] = pd.array(np.where(ok, digits[np.argmax(blended, axis=1)], -1),
                                dtype="Int64")
    out.loc[~ok, "preferred"] = pd.NA
    out["ages"] = f"{lo}-{hi}"
    return out.reset_index(drop=True)


def mother_age_heaping(events: pd.DataFrame, *, by: Sequence[str] = ("unit",),
                       period: object = None, whipple_ages: tuple[int, int] = (23, 47),
                       myers_ages: tuple[int, int] = (18, 47), confidence: float = 0.95,
                       threshold: float = 110.0) -> pd.DataFrame:
    """Heaping in mother's age at birth, from an event register.

    The register (:func:`fpanalysis.synth.write_events` writes one: ``unit``, ``date``,
    ``event``, ``mother_age`` ...) is reduced to births by single year of mother's age per
    ``by`` group, then :func:`whipple_index` and :func:`myers_index` are applied. Mothers
    are 15-49, so the standard ranges (23-62, 23-82) do not fit: Whipple over 23-47 (five
    ages ending 0 or 5 among 25) and Myers over 18-47 (three decades). Births fall steeply
    with age after 30, which tilts both indices a little even without heaping; compare
    units with one another rather than with 100 and 0.

    Returns
    -------
    pandas.DataFrame
        ``by`` columns, ``births`` (with a mother's age), ``whipple``, ``lower``,
        ``upper``, ``myers``, ``preferred``, ``flag``, ``severity``, ``threshold``,
        ``note`` (births without a mother's age, which are not used).

    Raises
    ------
    ValueError
        A missing column; a ``mother_age`` that is not a whole number of years (text such
        as "25岁", a fraction, a negative age), with the first one and its row named. Ages
        no mother had count 0 (``missing_ages=True``: from events an absent age means
        nobody).
    """
    by = list(by)
    _frame(events, "events", ["event", "mother_age"] + by + (["date"] if period else []))
    births = events[events["event"].astype("string") == "birth"]
    if period is not None:
        p = pr.parse(period)
        dates = pd.to_datetime(births["date"])
        births = births[((dates >= pr.start(p)) & (dates <= pr.end(p))).to_numpy()]
    no_age = births["mother_age"].isna()
    years = pd.to_numeric(births["mother_age"].where(~no_age), errors="coerce")
    bad = (~no_age & (years.isna() | (years.fillna(0) % 1 != 0) | (years < 0))).to_numpy()
    if pd.api.types.is_bool_dtype(births["mother_age"]):
        bad = ~no_age.to_numpy()
    if bad.any():
        raise ValueError(f"column 'mother_age' must hold whole ages in years; "
                         f"{int(bad.sum())} birth(s) do not (e.g. "
                         f"{births['mother_age'][bad].iloc[0]!r} at row "
                         f"{births.index[bad][0]})")
    unaged = births[no_age].groupby([births[k].astype("string") for k in by]).size() \
        if by else pd.Series([int(no_age.sum())])
    aged = births[~no_age]
    keys = [aged[k].astype("string") for k in by] + [years[~no_age].astype(int)]
    table = aged.groupby(keys, observed=True).size().rename("count").reset_index()
    # an age no mother had has no row: from events it means nobody (0)
    w = whipple_index(table, age="mother_age", by=by, ages=whipple_ages, confidence=confidence,
                      threshold=threshold, missing_ages=True)
    m = myers_index(table, age="mother_age", by=by, ages=myers_ages, missing_ages=True)
    out = w.merge(m[by + ["myers", "preferred"]], on=by, how="left") if by else \
        w.assign(myers=m["myers"].to_numpy(), preferred=m["preferred"].to_numpy())
    out = out.rename(columns={"persons": "births_in_range"})
    n_unaged = out[by].astype("string").apply(tuple, axis=1).map(
        {(k if isinstance(k, tuple) else (k,)): v for k, v in unaged.items()}) if by else \
        pd.Series([int(unaged.iloc[0])])
    n_unaged = n_unaged.fillna(0).astype(int).to_numpy()
    out["note"] = np.where(n_unaged > 0, [f"{k} births without mother's age left out"
                                          for k in n_unaged], "")
    return out


# --------------------------------------------------------------------------- flags

_FLAG_COLUMNS = ["unit", "period", "check", "indicator", "figure", "threshold", "severity",
                 "note"]


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name in frame.columns:
        return frame[name].astype(str).to_numpy(dtype=object)
    return np.full(len(frame), "", dtype=object)


def _flag_rows(frame: pd.DataFrame, keep: np.ndarray, check: str, indicator: object,
               figure: str, note: object) -> pd.DataFrame:
    f = frame[keep]
    ind = indicator(f) if callable(indicator) else np.full(len(f), indicator, dtype=object)
    text = note(f) if callable(note) else np.full(len(f), note, dtype=object)
    return pd.DataFrame({"unit": _column(f, "unit"), "period": _column(f, "period"),
                         "check": check, "indicator": ind,
                         "figure": f[figure].to_numpy(dtype=float),
                         "threshold": f["threshold"].to_numpy(dtype=float),
                         "severity": f["severity"].to_numpy(dtype=object), "note": text})


def completeness_flags(*, completeness: pd.DataFrame | None = None,
                       timeliness: pd.DataFrame | None = None,
                       values: pd.DataFrame | None = None,
                       sex_ratio: pd.DataFrame | None = None,
                       heaping: pd.DataFrame | None = None) -> pd.DataFrame:
    """The findings of this module's checks in the shape of the data-quality flag table
    (``check_all``): one row per finding, with the figure and the threshold that raised it.

    Parameters
    ----------
    completeness, timeliness, values, sex_ratio, heaping : pandas.DataFrame, optional
        Outputs of :func:`completeness` (every unit missing a month: ``extreme`` below
        the threshold, ``moderate`` above it), :func:`timeliness`,
        :func:`value_completeness`, :func:`sex_ratio_plausibility` (figure: the p-value,
        threshold: alpha) and :func:`whipple_index` or :func:`mother_age_heaping` (figure:
        the index, threshold: the level its lower limit exceeds).

    Returns
    -------
    pandas.DataFrame
        ``unit``, ``period``, ``check`` (``reporting_completeness``, ``timeliness``,
        ``value_completeness``, ``sex_ratio_plausibility``, ``age_heaping``),
        ``indicator``, ``figure``, ``threshold``, ``severity``, ``note``.
    """
    parts = [pd.DataFrame(columns=_FLAG_COLUMNS)]
    if completeness is not None:
        parts.append(_flag_rows(
            completeness, (completeness["severity"] != "").to_numpy(), "reporting_completeness",
            "monthly_reports", "completeness",
            lambda f: np.array([_note("missing", months=m) for m in f["missing"].astype(str)],
                               dtype=object)))
    if timeliness is not None:
        parts.append(_flag_rows(
            timeliness, timeliness["flag"].fillna(False).to_numpy(dtype=bool), "timeliness",
            "monthly_reports", "timeliness",
            lambda f: np.array([_note("late", months=m) for m in f["late_months"].astype(str)],
                               dtype=object)))
    if values is not None:
        parts.append(_flag_rows(
            values, values["flag"].fillna(False).to_numpy(dtype=bool), "value_completeness",
            lambda f: f["column"].to_numpy(dtype=object), "share",
            lambda f: np.array([_note("cells", present=f"{p}", cells=f"{c}") for p, c in
                                zip(f["present"], f["cells"], strict=True)], dtype=object)))
    if sex_ratio is not None:
        parts.append(_flag_rows(
            sex_ratio, sex_ratio["flag"].fillna(False).to_numpy(dtype=bool),
            "sex_ratio_plausibility",
            lambda f: np.where(f["order"] == "all", "sex_ratio_at_birth",
                               "sex_ratio_at_birth_" + f["order"].astype(str)), "p_value",
            lambda f: np.array([_note("sex_ratio", boys=f"{m}", girls=f"{g}", ratio=f"{r:.1f}",
                                      lower=f"{lo:.1f}", upper=f"{hi:.1f}",
                                      reference=f"{ref:g}") for m, g, r, lo, hi, ref in
                                zip(f["male"], f["female"], f["sex_ratio"], f["lower"],
                                    f["upper"], f["reference"], strict=True)], dtype=object)))
    if heaping is not None:
        parts.append(_flag_rows(
            heaping, heaping["flag"].fillna(False).to_numpy(dtype=bool), "age_heaping",
            "whipple_index", "whipple",
            lambda f: np.array([_note("heaping", whipple=f"{w:.1f}", lower=f"{lo:.1f}",
                                      upper=f"{hi:.1f}", ages=f"{a}")
                                for w, lo, hi, a in zip(f["whipple"], f["lower"], f["upper"],
                                                        f["ages"], strict=True)],
                               dtype=object)))
    parts = [p for p in parts if len(p)] or parts[:1]
    out = pd.concat(parts, ignore_index=True)
    out["figure"] = out["figure"].astype(float)
    out["threshold"] = out["threshold"].astype(float)
    return out[_FLAG_COLUMNS]
