"""Outliers: months that stand out from a unit's own history, and units that stand out from
the county on a funnel plot.

* :func:`monthly_values` lays out one value per unit, month and series (a reported count
  such as births, or an indicator), every month of the window listed, a month without a
  report kept as a missing value with a note.
* :func:`monthly_outliers` scores every month against the unit's own history (z-score and
  modified z-score) and :func:`outlier_summary` calls a unit divergent at one extreme or
  two moderate outliers, as the WHO Data Quality Review does.
* :func:`funnel_outliers` places each unit against the county value with exact 95 % and
  99.8 % funnel limits, optionally widened for over-dispersion (Spiegelhalter 2005, as
  FunnelPlotR does it); :func:`funnel_curves` gives the limits along the x axis for
  :func:`fpanalysis.plots.funnel`.
* :func:`outlier_flags` and :func:`funnel_flags` list the flags raised in the flag-table
  shape (unit, period, check, indicator, figure, threshold, severity).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from .. import indicators as ind
from .. import periods as pr
from ..schema import STOCK_COLUMNS, suggestion

__all__ = [
    "FLAG_COLUMNS",
    "MEANAD_FACTOR",
    "MODIFIED_FACTOR",
    "SEVERITIES",
    "funnel_curves",
    "funnel_flags",
    "funnel_outliers",
    "monthly_outliers",
    "monthly_values",
    "outlier_flags",
    "outlier_summary",
    "overdispersion",
]

#: Severity labels, the worse last.
SEVERITIES = ("moderate", "extreme")

#: 0.6745: the normal quantile at 0.75, which makes MAD / 0.6745 estimate the SD
#: (Iglewicz and Hoaglin 1993).
MODIFIED_FACTOR = 0.6745
#: 1.253314 = sqrt(pi / 2): the SD of a normal variable over its mean absolute deviation;
#: the modified z-score divides by 1.253314 x MeanAD when the MAD is 0 (IBM).
MEANAD_FACTOR = 1.253314

_WINDOWS = ("year", "period")


def _asked(columns: str | Sequence[str], indicators: object
           ) -> tuple[list[str], list[ind.Indicator]]:
    """The count columns and the indicators asked for, at least one of either."""
    columns = [columns] if isinstance(columns, str) else list(columns)
    if isinstance(indicators, str | ind.Indicator):
        indicators = [indicators]
    chosen = [ind.get(i) for i in indicators]
    if not columns and not chosen:
        raise ValueError("give at least one count column or indicator")
    return columns, chosen


def _check_monthly(counts: pd.DataFrame) -> None:
    missing = [c for c in ("unit", "period") if c not in counts.columns]
    if missing:
        raise ValueError(f"counts have no column(s) {', '.join(missing)}")
    if counts["period"].dtype != "period[M]":
        raise ValueError(f"monthly values need monthly counts (a period[M] column), got "
                         f"dtype {counts['period'].dtype}")
    if counts.empty:
        raise ValueError("counts have no rows")
    if counts["period"].isna().any():
        raise ValueError("counts have rows without a period")
    if counts["unit"].isna().any():
        raise ValueError("counts have rows without a unit")
    codes = pd.Series(pd.unique(counts["unit"])).astype(str)
    spaced = codes[codes != codes.str.strip()]
    if len(spaced):
        raise ValueError("counts have unit codes with surrounding spaces: "
                         + ", ".join(repr(c) for c in sorted(spaced)[:5]))
    dup = counts.duplicated(["unit", "period"]).to_numpy()
    if dup.any():
        first = [str(v) for v in counts.loc[dup, ["unit", "period"]].iloc[0].tolist()]
        raise ValueError(f"counts have {int(dup.sum())} duplicate row(s) for (unit, period), "
                         f"e.g. ({', '.join(first)})")


def _window_months(counts: pd.DataFrame, period: object) -> pd.PeriodIndex:
    """The months of ``period``, or every month from the first to the last in the counts."""
    if period is None:
        if counts.empty:
            raise ValueError("counts have no rows: give period= to list the months")
        return pd.period_range(counts["period"].min(), counts["period"].max(), freq="M")
    p = pr.parse(period)
    if isinstance(p, pr.Dekad):
        raise ValueError(f"period {p} is a dekad: monthly values need whole months")
    return pr.months(p)


def _count_frame(counts: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """The named count columns (births derived from male + female), checked."""
    data = counts
    if "births" in columns and "births" not in data.columns \
            and {"births_male", "births_female"} <= set(data.columns):
        data = data.assign(births=data["births_male"] + data["births_female"])
    absent = [c for c in columns if c not in data.columns]
    if absent:
        raise ValueError("counts have no column(s) "
                         + ", ".join(f"{c!r}{suggestion(c, data.columns)}" for c in absent))
    problems = []
    for c in columns:
        dtype = data[c].dtype
        if not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
            problems.append(f"{c!r} is not numeric (dtype {dtype})")
            continue
        values = data[c].to_numpy(dtype=float, na_value=np.nan)
        with np.errstate(invalid="ignore"):
            if (values < 0).any():
                problems.append(f"{c!r} has negative values")
            if np.isinf(values).any():
                problems.append(f"{c!r} has infinite values")
            elif c not in STOCK_COLUMNS and ((np.mod(values, 1) != 0)
                                             & ~np.isnan(values)).any():
                problems.append(f"{c!r} has values that are not whole numbers")
    if problems:
        raise ValueError("count columns must hold numbers >= 0: " + "; ".join(problems))
    return data


def _grid(units: Sequence[str], months: pd.PeriodIndex) -> pd.MultiIndex:
    return pd.MultiIndex.from_product([list(units), months], names=["unit", "period"])


def monthly_values(
    counts: pd.DataFrame,
    *,
    columns: Sequence[str] = ("births",),
    indicators: Iterable[str | ind.Indicator] = (),
    period: object = None,
    units: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Lay out one value per unit, month and series: reported counts and/or indicators.

    Every unit (of the counts, and with ``units`` every unit of the table at the counts'
    level) gets a row for every month of the window, for every series. A month without a
    report is a missing value with the note ``"not reported: no counts for 2024-03"``; an
    empty count cell ``"not reported: empty count cell"``; an indicator keeps the note
    :func:`fpanalysis.indicators.compute` gives it.

    Parameters
    ----------
    counts : pandas.DataFrame
        Monthly counts (``period`` of dtype ``period[M]``), one row per unit and month.
    columns : sequence of str, default ('births',)
        Count columns taken as reported (the WHO Data Quality Review applies its outlier
        rule to monthly reported counts). ``births`` is derived from ``births_male`` +
        ``births_female`` when absent.
    indicators : iterable of str or Indicator, default ()
        Indicators computed per unit and month with :func:`fpanalysis.indicators.compute`.
    period : period label, optional
        The window: its months are listed (``'2024'``, ``'2022-01/2024-12'``). Default:
        every month from the first to the last month in the counts. Months of the counts
        outside the window are not used.
    units : pandas.DataFrame, optional
        Units table: its units at the counts' level get rows even when they never reported.

    Returns
    -------
    pandas.DataFrame
        ``unit``, ``period`` (``period[M]``), ``indicator`` (the count column or indicator
        key), ``source`` (``'count'`` or ``'indicator'``), ``value`` (float, NaN where
        missing; an indicator may be infinite, e.g. a sex ratio without female births),
        ``note``. Sorted by indicator (in the order given, counts first), unit and period.

    Raises
    ------
    ValueError
        Counts not monthly or empty, a row without a unit or period, a unit code with
        surrounding spaces, duplicate (unit, period), an unknown, non-numeric, negative
        or fractional count column (stocks may be fractional), no series asked for, a
        dekad window.

    Examples
    --------
    >>> c = pd.DataFrame({"unit": ["A", "A", "B"], "period": pd.PeriodIndex(
    ...     ["2024-01", "2024-03", "2024-01"], freq="M"), "births": [5, 7, 3]})
    >>> monthly_values(c)[["unit", "period", "value", "note"]]
      unit   period  value                                note
    0    A  2024-01    5.0
    1    A  2024-02    NaN  not reported: no counts for 2024-02
    2    A  2024-03    7.0
    3    B  2024-01    3.0
    4    B  2024-02    NaN  not reported: no counts for 2024-02
    5    B  2024-03    NaN  not reported: no counts for 2024-03
    """
    columns, chosen = _asked(columns, indicators)
    dup_names = sorted({c for c in columns if columns.count(c) > 1}
                       | {c for c in columns if c in {i.key for i in chosen}})
    if dup_names:
        raise ValueError(f"series named twice: {', '.join(dup_names)}")
    _check_monthly(counts)
    months = _window_months(counts, period)
    universe = ind._universe(counts, units) if len(counts) else []
    grid = _grid(universe, months)
    inside = counts[counts["period"].isin(months)]
    present = pd.Series(True, index=pd.MultiIndex.from_frame(inside[["unit", "period"]]))
    reported = present.reindex(grid, fill_value=False).to_numpy(dtype=bool)
    absent_note = np.where(reported, "", "not reported: no counts for "
                           + grid.get_level_values("period").astype(str).to_numpy())
    parts = []
    if columns:
        data = _count_frame(inside, columns).set_index(["unit", "period"])[columns]
        values = data.reindex(grid).to_numpy(dtype=float, na_value=np.nan)
        for j, c in enumerate(columns):  # a few series
            v = values[:, j]
            note = np.where(~reported, absent_note,
                            np.where(np.isnan(v), "not reported: empty count cell", ""))
            parts.append(_series(grid, c, "count", v, note))
    if chosen:
        if len(inside):
            r = ind.compute(inside, chosen, units=units)
        else:
            r = pd.DataFrame(columns=["unit", "period", "indicator", "value", "note"])
        for spec in chosen:  # a few indicators
            one = r[r["indicator"].astype(str) == spec.key].set_index(["unit", "period"])
            v = one["value"].reindex(grid).to_numpy(dtype=float, na_value=np.nan)
            given = one["note"].astype(str).reindex(grid).fillna("").to_numpy(dtype=object)
            note = np.where(~reported, absent_note, given)
            parts.append(_series(grid, spec.key, "indicator", v, note))
    return pd.concat(parts, ignore_index=True)


def _series(grid: pd.MultiIndex, name: str, source: str, values: np.ndarray,
            note: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"unit": grid.get_level_values("unit").astype(object),
                         "period": grid.get_level_values("period"),
                         "indicator": name, "source": source, "value": values,
                         "note": note.astype(object)})


def monthly_outliers(
    counts: pd.DataFrame,
    *,
    columns: Sequence[str] = ("births",),
    indicators: Iterable[str | ind.Indicator] = (),
    period: object = None,
    units: pd.DataFrame | None = None,
    within: str = "year",
    moderate: float = 2.0,
    extreme: float = 3.0,
    modified: float = 3.5,
    min_months: int = 3,
) -> pd.DataFrame:
    """Score each month against the unit's own history: z-score and modified z-score.

    For every unit, series and window (a calendar year, or the whole ``period``), the
    months with a value give the mean, standard deviation (sample, n - 1), median, MAD
    and mean absolute deviation; each month then gets

    * ``z = (x - mean) / SD``: ``'extreme'`` at |z| >= ``extreme`` (3), ``'moderate'``
      at ``moderate`` (2) <= |z| < ``extreme`` (WHO Data Quality Review);
    * ``modified_z = 0.6745 (x - median) / MAD`` (Iglewicz and Hoaglin), or, where the
      MAD is 0, ``(x - median) / (1.253314 MeanAD)`` with MeanAD the mean absolute
      deviation from the median (IBM); ``modified_outlier`` where |modified_z| >
      ``modified`` (3.5).

    Missing months are missing values, left out of the statistics (``months_used`` says
    how many went in); they keep their row and note. A window with fewer than
    ``min_months`` values gets no scores, and a note says so.

    Parameters
    ----------
    counts : pandas.DataFrame
        Monthly counts; see :func:`monthly_values`.
    columns, indicators, period, units
        As in :func:`monthly_values`.
    within : {'year', 'period'}, default 'year'
        The history a month is compared with: the months of its calendar year inside the
        window (as the WHO Data Quality Review does), or every month of the window.
    moderate, extreme : float, default 2 and 3
        z-score thresholds (in SD). With n months the largest possible |z| is
        (n - 1) / sqrt(n) (3.18 for 12 months; a history shorter than 11 months cannot
        show an extreme outlier).
    modified : float, default 3.5
        Modified z-score threshold.
    min_months : int, default 3
        Fewest months with a value for scores to be given.

    Returns
    -------
    pandas.DataFrame
        One row per unit, series and month: ``unit``, ``indicator``, ``source``,
        ``window`` (the year as text, or the window's label), ``period``, ``value``,
        ``months_used``, ``mean``, ``sd``, ``median``, ``mad``, ``mean_ad``, ``z``,
        ``modified_z``, ``severity`` (``'extreme'``, ``'moderate'``, or missing),
        ``modified_outlier`` (bool), ``threshold`` (the z threshold that raised the
        severity, NaN when none), ``note``. An infinite value (a sex ratio without female
        births) is not scored and says why.

    Raises
    ------
    ValueError
        As :func:`monthly_values`; thresholds not positive, ``extreme`` below
        ``moderate``, ``min_months`` below 2, an unknown ``within``.

    References
    ----------
    World Health Organization (2017) Data quality review: a toolkit for facility data
    quality assessment. Module 2: Desk review of data quality (outliers, internal
    consistency). Iglewicz B, Hoaglin DC (1993) How to Detect and Handle Outliers. ASQC.
    IBM Cognos Analytics documentation, "Modified z score" (the MAD = 0 rule).

    Examples
    --------
    Eleven months of 10 births and one of 40: the mean is 12.5, the SD
    sqrt((11 x 2.5^2 + 27.5^2) / 11) = 8.66, z = 27.5 / 8.66 = 3.18; the MAD is 0, the
    mean absolute deviation from the median 30 / 12 = 2.5, so modified_z = 30 / (1.253314
    x 2.5) = 9.57.

    >>> c = pd.DataFrame({"unit": "A", "period": pd.period_range("2024-01", periods=12,
    ...                   freq="M"), "births": [10] * 11 + [40]})
    >>> o = monthly_outliers(c)
    >>> o.loc[11, ["z", "modified_z"]].round(2).tolist(), o.loc[11, "severity"]
    ([3.18, 9.57], 'extreme')
    """
    if within not in _WINDOWS:
        raise ValueError(f"within must be one of {', '.join(_WINDOWS)}, got {within!r}")
    for name, v in (("moderate", moderate), ("extreme", extreme), ("modified", modified)):
        if not (isinstance(v, int | float) and np.isfinite(v) and v > 0):
            raise ValueError(f"{name} must be a positive number, got {v!r}")
    if extreme < moderate:
        raise ValueError(f"extreme must not be below moderate, got {extreme!r} < {moderate!r}")
    if not isinstance(min_months, int) or isinstance(min_months, bool) or min_months < 2:
        raise ValueError(f"min_months must be a whole number of at least 2, got {min_months!r}")
    values = monthly_values(counts, columns=columns, indicators=indicators, period=period,
                            units=units)
    if within == "year":
        window = values["period"].dt.year.astype(str)
    else:
        window = pd.Series(str(pr.parse(period)) if period is not None else
                           f"{values['period'].min()}/{values['period'].max()}",
                           index=values.index)
    out = values[["unit", "indicator", "source"]].copy()
    out["window"] = window.to_numpy(dtype=object)
    out["period"] = values["period"]
    out["value"] = values["value"]
    x = values["value"].to_numpy(dtype=float)
    usable = np.isfinite(x)
    xs = pd.Series(np.where(usable, x, np.nan), index=values.index)
    keys = [out["unit"], out["indicator"], out["window"]]
    g = xs.groupby(keys, sort=False)
    n = g.transform("count").to_numpy(dtype=float)
    mean = g.transform("mean").to_numpy(dtype=float)
    sd = g.transform("std").to_numpy(dtype=float)
    median = g.transform("median").to_numpy(dtype=float)
    dev = (xs - median).abs()
    gd = dev.groupby(keys, sort=False)
    mad = gd.transform("median").to_numpy(dtype=float)
    mean_ad = gd.transform("mean").to_numpy(dtype=float)
    enough = n >= min_months
    with np.errstate(all="ignore"):
        z = np.where(sd > 0, (xs.to_numpy() - mean) / sd, 0.0)
        mz = np.where(mad > 0, MODIFIED_FACTOR * (xs.to_numpy() - median) / mad,
                      np.where(mean_ad > 0,
                               (xs.to_numpy() - median) / (MEANAD_FACTOR * mean_ad), 0.0))
    scored = enough & usable
    z = np.where(scored, z, np.nan)
    mz = np.where(scored, mz, np.nan)
    for name, arr in (("months_used", n), ("mean", mean), ("sd", sd), ("median", median),
                      ("mad", mad), ("mean_ad", mean_ad)):
        out[name] = np.where(enough | (name == "months_used"), arr, np.nan)
    out["months_used"] = out["months_used"].astype(int)
    out["z"] = z
    out["modified_z"] = mz
    az = np.abs(z)
    with np.errstate(invalid="ignore"):
        is_extreme, is_moderate = az >= extreme, (az >= moderate) & (az < extreme)
        out["modified_outlier"] = np.abs(mz) > modified
    sev = np.full(len(out), None, dtype=object)
    sev[is_moderate], sev[is_extreme] = "moderate", "extreme"
    out["severity"] = sev
    out["threshold"] = np.select([is_extreme, is_moderate], [float(extreme), float(moderate)],
                                 np.nan)
    note = values["note"].to_numpy(dtype=object).copy()
    infinite = np.isinf(x)
    note = np.where(infinite & (note == ""), "value infinite: not scored", note)
    short = ~enough & (note == "")
    if short.any():
        note[short] = ("only " + pd.Series(n[short]).astype(int).astype(str)
                       + f" months with a value in the window ({min_months} needed)"
                       ).to_numpy(dtype=object)
    out["note"] = note
    out = out[["unit", "indicator", "source", "window", "period", "value", "months_used",
               "mean", "sd", "median", "mad", "mean_ad", "z", "modified_z", "severity",
               "modified_outlier", "threshold", "note"]]
    return out.reset_index(drop=True)


def outlier_summary(outliers: pd.DataFrame, *, extreme_count: int = 1,
                    moderate_count: int = 2) -> pd.DataFrame:
    """Count each unit's outliers per series and window and call it divergent or not.

    A unit is divergent at ``extreme_count`` (1) or more extreme outliers or
    ``moderate_count`` (2) or more moderate ones (WHO Data Quality Review).

    Parameters
    ----------
    outliers : pandas.DataFrame
        Output of :func:`monthly_outliers`.
    extreme_count, moderate_count : int, default 1 and 2

    Returns
    -------
    pandas.DataFrame
        ``unit``, ``indicator``, ``source``, ``window``, ``months`` (in the window),
        ``months_used``, ``moderate``, ``extreme``, ``modified_outliers`` (counts),
        ``divergent`` (boolean, ``<NA>`` where the history was too short to score),
        ``months_flagged`` (the months with a severity, e.g. ``'2024-03 (extreme)'``) and
        ``note`` (why a unit was not scored, and which months are missing).

    Examples
    --------
    >>> o = pd.DataFrame({"unit": "A", "indicator": "births", "source": "count",
    ...     "window": "2024", "period": pd.period_range("2024-01", periods=3, freq="M"),
    ...     "months_used": 3, "z": [2.1, -2.2, 0.1],
    ...     "severity": ["moderate", "moderate", None], "modified_outlier": False,
    ...     "note": ""})
    >>> outlier_summary(o)[["moderate", "extreme", "divergent"]]
       moderate  extreme  divergent
    0         2        0       True
    """
    for name, v in (("extreme_count", extreme_count), ("moderate_count", moderate_count)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise ValueError(f"{name} must be a whole number of at least 1, got {v!r}")
    need = ["unit", "indicator", "source", "window", "period", "months_used", "z", "severity",
            "modified_outlier", "note"]
    absent = [c for c in need if c not in outliers.columns]
    if absent:
        raise ValueError(f"outliers have no column(s) {', '.join(absent)}: pass the output "
                         "of monthly_outliers")
    keys = ["unit", "indicator", "source", "window"]
    sev = outliers["severity"]
    data = outliers[keys].assign(
        _mod=(sev == "moderate").to_numpy(dtype=int), _ext=(sev == "extreme").to_numpy(dtype=int),
        _mzo=outliers["modified_outlier"].to_numpy(dtype=bool).astype(int),
        _scored=outliers["z"].notna().to_numpy(), _used=outliers["months_used"].to_numpy())
    g = data.groupby(keys, sort=True, observed=True)
    out = g.agg(months=("_mod", "size"), months_used=("_used", "max"), moderate=("_mod", "sum"),
                extreme=("_ext", "sum"), modified_outliers=("_mzo", "sum"),
                _scored=("_scored", "any")).reset_index()
    divergent = (out["extreme"] >= extreme_count) | (out["moderate"] >= moderate_count)
    out["divergent"] = pd.array(np.where(out["_scored"], divergent, False), dtype="boolean")
    out.loc[~out["_scored"].to_numpy(dtype=bool), "divergent"] = pd.NA
    flagged = outliers["severity"].notna().to_numpy()
    text = pd.Series("", index=out.index, dtype=object)
    if flagged.any():
        f = outliers.loc[flagged, keys].assign(
            _t=outliers.loc[flagged, "period"].astype(str) + " ("
            + outliers.loc[flagged, "severity"].astype(str) + ")")
        listed = f.groupby(keys, sort=True, observed=True)["_t"].agg(", ".join)
        text = out.set_index(keys).index.map(listed).to_series(index=out.index).fillna("")
    out["months_flagged"] = text.astype(object)
    missing = outliers["note"].astype(str).str.startswith(ind.NOT_REPORTED).to_numpy()
    note = np.where(out["_scored"], "", "too few months with a value to score")
    if missing.any():
        m = outliers.loc[missing, keys].assign(_t=outliers.loc[missing, "period"].astype(str))
        listed = m.groupby(keys, sort=True, observed=True)["_t"].agg(", ".join)
        miss = out.set_index(keys).index.map(listed).to_series(index=out.index)
        miss_text = ("months missing: " + miss.fillna("")).where(miss.notna(), "")
        note = np.where(note == "", miss_text,
                        np.where(miss_text == "", note, note + "; " + miss_text))
    out["note"] = pd.Series(note, dtype=object)
    return out.drop(columns="_scored")


# --------------------------------------------------------------------------- funnel


def _transformed(kind: str, num: np.ndarray, den: np.ndarray, centre: float,
                 multiplier: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Each unit's value on the variance-stabilised scale, its standard error there, and
    the centre on that scale (Spiegelhalter 2005, Table 1; FunnelPlotR ``transformed_zscore``).

    Proportions (and a sex ratio as the share of boys): arcsine square root, s =
    1 / (2 sqrt(n)). Poisson counts against person-years or a denominator: the square root
    of observed / expected, s = 1 / (2 sqrt(E)), centre 1.
    """
    with np.errstate(all="ignore"):
        if kind == "sex_ratio":
            n = num + den
            y = np.arcsin(np.sqrt(num / n))
            p0 = centre / (100.0 + centre)
            return y, 1 / (2 * np.sqrt(n)), float(np.arcsin(np.sqrt(p0)))
        if kind == "proportion":
            y = np.arcsin(np.sqrt(num / den))
            return y, 1 / (2 * np.sqrt(den)), float(np.arcsin(np.sqrt(centre / multiplier)))
        expected = den * centre / multiplier
        return np.sqrt(num / expected), 1 / (2 * np.sqrt(expected)), 1.0


def _back(kind: str, t: np.ndarray, centre: float, multiplier: float) -> np.ndarray:
    """A limit on the transformed scale back in display units."""
    if kind in ("proportion", "sex_ratio"):
        p = np.sin(np.clip(t, 0.0, np.pi / 2)) ** 2
        if kind == "sex_ratio":
            with np.errstate(divide="ignore"):
                return 100 * p / (1 - p)
        return p * multiplier
    return np.maximum(t, 0.0) ** 2 * centre


def overdispersion(z: np.ndarray, s: np.ndarray, *, trim: float = 0.1
                   ) -> tuple[float, float, int]:
    """Over-dispersion factor phi and between-unit variance tau² from z-scores.

    z-scores are winsorised at the ``trim`` and 1 - ``trim`` quantiles (R's default type 7,
    numpy's 'linear'); phi = Σ z_w² / n; tau² = 0 when n phi < n - 1, else
    max(0, (n phi - (n - 1)) / (Σw - Σw² / Σw)) with w = 1 / s² (DerSimonian-Laird
    form, Spiegelhalter 2005; FunnelPlotR ``phi_func``/``tau_func``). Units with a missing
    z are left out. Returns phi, tau² and n.

    Examples
    --------
    z² sums to 4 + 0 + 1 + 9 = 14, phi = 14 / 4 = 3.5; w = 100 each, so
    tau² = (14 - 3) / (400 - 40000 / 400) = 11 / 300:

    >>> phi, tau2, n = overdispersion(np.array([-2.0, 0.0, 1.0, 3.0]),
    ...                               np.array([0.1, 0.1, 0.1, 0.1]), trim=0.0)
    >>> round(phi, 4), round(tau2, 6), n
    (3.5, 0.036667, 4)
    """
    if not (0 <= trim < 0.5):
        raise ValueError(f"trim must be at least 0 and below 0.5, got {trim!r}")
    ok = np.isfinite(z) & np.isfinite(s) & (s > 0)
    z, s = z[ok], s[ok]
    n = len(z)
    if n == 0:
        return float("nan"), float("nan"), 0
    lo, hi = np.quantile(z, [trim, 1 - trim])
    zw = np.clip(z, lo, hi)
    phi = float(np.sum(zw ** 2) / n)
    w = 1 / s ** 2
    if n * phi < n - 1:
        return phi, 0.0, n
    denom = w.sum() - (w ** 2).sum() / w.sum()
    tau2 = float(max(0.0, (n * phi - (n - 1)) / denom)) if denom > 0 else 0.0
    return phi, tau2, n


def _tails(kind: str, num: np.ndarray, den: np.ndarray, centre: float, multiplier: float
           ) -> tuple[np.ndarray, np.ndarray]:
    """P(X <= x) and P(X >= x) of each observed count under the county value: binomial
    (proportion; males of all births for a sex ratio) or Poisson (rates, ratios)."""
    from .. import _discrete as dist

    with np.errstate(all="ignore"):
        if kind in ("proportion", "sex_ratio"):
            n = num + den if kind == "sex_ratio" else den
            p0 = centre / (100.0 + centre) if kind == "sex_ratio" else centre / multiplier
            return dist.binom_cdf(num, n, p0), dist.binom_sf(num - 1, n, p0)
        mu = den * centre / multiplier
        return dist.poisson_cdf(num, mu), dist.poisson_sf(num - 1, mu)


def funnel_outliers(
    counts: pd.DataFrame,
    indicator: str | ind.Indicator,
    *,
    period: object,
    units: pd.DataFrame | None = None,
    confidence: tuple[float, float] = (0.95, 0.998),
    adjust: bool = False,
    trim: float = 0.1,
) -> pd.DataFrame:
    """Compare each unit with the county value on a funnel plot, flagging units outside.

    The centre is the county (pooled) value, Σ numerators / Σ denominators over the units
    with a value. Each unit's limits at its own denominator are exact (binomial for
    proportions and sex ratios, Poisson for rates and ratios, interpolated for
    discreteness; :meth:`Indicator.behaviour.funnel_limits`). With ``adjust=True`` and
    over-dispersion (phi > 1, as FunnelPlotR decides, and tau² > 0), the limits are instead
    centre ± z sqrt(s² + tau²) on the variance-stabilised scale (arcsine square root for
    proportions and the share of boys, square root of observed / expected for Poisson
    counts) mapped back, tau² from winsorised z-scores (:func:`overdispersion`).

    A unit is flagged outside the c limits when its observed count lies in a tail of the
    county value's binomial or Poisson distribution smaller than (1 - c) / 2 (the exact
    test behind the limits). The interpolated limits are for drawing: a count exactly on
    the discrete quantile r lies just beyond its interpolated limit (in (r - 1, r]) yet is
    not significant (e.g. 10 of 10 against 90.5 %, P = 0.37), so it is not flagged. With
    the adjustment a unit is flagged where |z| exceeds the normal quantile, as
    FunnelPlotR does.

    Parameters
    ----------
    counts : pandas.DataFrame
        Counts that :func:`fpanalysis.indicators.compute` rolls up to ``period``.
    indicator : str or Indicator
        An indicator with a funnel (not natural growth, not TFR).
    period : period label
        The period compared, e.g. ``'2024Q4'`` or ``'2024'``.
    units : pandas.DataFrame, optional
        Units table: every unit at the counts' level gets a row.
    confidence : (float, float), default (0.95, 0.998)
        Inner and outer limits.
    adjust : bool, default False
        Widen the limits for over-dispersion.
    trim : float, default 0.1
        Share winsorised at each end before phi is computed.

    Returns
    -------
    pandas.DataFrame
        One row per unit: ``unit``, ``period``, ``indicator``, ``numerator``,
        ``denominator``, ``x`` (the funnel's x: births for a sex ratio, else the
        denominator), ``value``, ``county_value``, ``lower_<c>``/``upper_<c>`` for the
        inner and outer confidence (e.g. ``lower_0.95``, ``upper_0.998``), ``z`` (on the
        transformed scale, over sqrt(s² + tau²) when adjusted), ``phi``, ``tau2``,
        ``adjusted`` (bool: whether the limits were widened), ``flag`` (``'outside
        99.8 %'``, ``'outside 95 %'``, or missing), ``direction`` (``'high'``, ``'low'``, or
        missing), ``severity`` (``'extreme'`` outside the outer limits, ``'moderate'``
        outside the inner only, else missing), ``threshold`` (the limit crossed),
        ``funnel`` (the flag as :func:`fpanalysis.indicators.funnel_data` labels it,
        e.g. ``'High (0.001)'``, for :func:`fpanalysis.plots.funnel`) and ``note``
        (why a value is missing; how many units the county value pools).

    Raises
    ------
    ValueError
        Unknown indicator, an indicator without a funnel, confidences not two levels in
        (0, 1), ``trim`` outside [0, 0.5), as :func:`fpanalysis.indicators.compute`.

    References
    ----------
    Spiegelhalter DJ (2005) Funnel plots for comparing institutional performance. Stat Med
    24:1185-1202. Spiegelhalter DJ (2005) Handling over-dispersion of performance
    indicators. Qual Saf Health Care 14:347-351. FunnelPlotR (nhs-r-community),
    R/od_adjustment.R and R/calculate_limits.R.
    """

    spec = ind.get(indicator)
    kind = spec.behaviour
    if not kind.funnel:
        raise ValueError(f"no funnel for a {spec.kind} indicator ({spec.key})")
    if (not isinstance(confidence, tuple | list) or len(confidence) != 2
            or len(set(confidence)) != 2):
        raise ValueError(f"confidence must be two different levels, got {confidence!r}")
    inner, outer = sorted(float(c) for c in confidence)
    for c in (inner, outer):
        ind.iv.check_confidence(c)
    if not (0 <= trim < 0.5):
        raise ValueError(f"trim must be at least 0 and below 0.5, got {trim!r}")
    return _funnel_outliers(counts, indicator, period=period, units=units,
                            confidence=confidence, adjust=adjust, trim=trim)


def _funnel_outliers(counts: pd.DataFrame, indicator: str | ind.Indicator, *, period: object,
                     units: pd.DataFrame | None, confidence: tuple[float, float],
                     adjust: bool, trim: float,
                     results: Mapping[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """:func:`funnel_outliers`, from ``results`` where they hold the indicator's rows:
    :func:`_funnel_results` of these very counts, period and units, made by the caller
    (:func:`fpanalysis.quality.check_all`, three funnels) just before. Private, so that no
    rows of other counts or another period can be passed in."""
    from scipy import special

    spec = ind.get(indicator)
    kind = spec.behaviour
    inner, outer = sorted(float(c) for c in confidence)
    r = results.get(spec.key) if results is not None else None
    if r is None:
        r = ind.compute(counts, [spec], period=period, units=units)
        r = r[r["indicator"].astype(str) == spec.key].reset_index(drop=True)
    out = r[["unit", "period", "indicator", "numerator", "denominator"]].copy()
    out["x"] = kind.funnel_x(r)
    value = r["value"].to_numpy(dtype=float)
    out["value"] = value
    num = r["numerator"].to_numpy(dtype=float)
    den = r["denominator"].to_numpy(dtype=float)
    has = np.isfinite(value)
    n_units, n_pooled = len(r), int(has.sum())
    centre = float(num[has].sum() / den[has].sum() * spec.multiplier) if n_pooled else np.nan
    out["county_value"] = centre
    x = out["x"].to_numpy(dtype=float)
    limits = {}
    for c in (inner, outer):
        if np.isfinite(centre):
            limits[c] = kind.funnel_limits(x, centre, spec.multiplier, c)
        else:
            limits[c] = (np.full(len(r), np.nan), np.full(len(r), np.nan))
    y, s, t0 = _transformed(spec.kind, num, den, centre, spec.multiplier)
    with np.errstate(all="ignore"):
        z = np.where(has, (y - t0) / s, np.nan)
    phi, tau2, _ = overdispersion(z, s, trim=trim)
    adjusted = bool(adjust and np.isfinite(phi) and phi > 1 and tau2 > 0)
    if adjusted:
        sd = np.sqrt(s ** 2 + tau2)
        with np.errstate(all="ignore"):
            z = np.where(has, (y - t0) / sd, np.nan)
        for c in (inner, outer):
            q = special.ndtri(0.5 + c / 2)
            limits[c] = (_back(spec.kind, t0 - q * sd, centre, spec.multiplier),
                         _back(spec.kind, t0 + q * sd, centre, spec.multiplier))
    for c in (inner, outer):
        out[f"lower_{c:g}"], out[f"upper_{c:g}"] = limits[c]
    out["z"] = z
    out["phi"] = phi
    out["tau2"] = tau2
    out["adjusted"] = adjusted
    lo_i, hi_i = limits[inner]
    lo_o, hi_o = limits[outer]
    if adjusted:  # beyond the widened (continuous) limits
        with np.errstate(invalid="ignore"):
            side = np.sign(z)
            beyond = {c: np.abs(z) > special.ndtri(0.5 + c / 2) for c in (inner, outer)}
    else:  # exact tails of the observed count: P(X >= x) or P(X <= x) below (1 - c) / 2
        p_low, p_high = _tails(spec.kind, num, den, centre, spec.multiplier)
        side = np.where(p_high < p_low, 1.0, -1.0)
        tail = np.minimum(p_low, p_high)
        with np.errstate(invalid="ignore"):
            beyond = {c: tail < (1 - c) / 2 for c in (inner, outer)}
    beyond = {c: b & has for c, b in beyond.items()}
    high, low = side > 0, side < 0
    flag = np.full(len(out), None, dtype=object)
    flag[beyond[inner]] = f"outside {inner * 100:g} %"
    flag[beyond[outer]] = f"outside {outer * 100:g} %"
    out["flag"] = flag
    direction = np.full(len(out), None, dtype=object)
    direction[beyond[inner] & low] = "low"
    direction[beyond[inner] & high] = "high"
    out["direction"] = direction
    severity = np.full(len(out), None, dtype=object)
    severity[beyond[inner]] = "moderate"
    severity[beyond[outer]] = "extreme"
    out["severity"] = severity
    out["threshold"] = np.select(
        [beyond[outer] & low, beyond[outer] & high, beyond[inner] & low, beyond[inner] & high],
        [lo_o, hi_o, lo_i, hi_i], np.nan)
    label = np.full(len(out), "", dtype=object)  # as funnel_data and plots.funnel read it
    label[has] = ind.FUNNEL_LABELS[4]
    for c, b in ((inner, beyond[inner]), (outer, beyond[outer])):
        tail_text = f"{(1 - c) / 2:g}"
        label[b & low] = f"Low ({tail_text})"
        label[b & high] = f"High ({tail_text})"
    out["funnel"] = label
    note = r["note"].astype(str).to_numpy(dtype=object)
    if n_pooled < n_units:
        pooled = f"county value pooled over {n_pooled} of {n_units} units"
        note = np.where(note == "", pooled, note + "; " + pooled)
    out["note"] = note
    return out


def _funnel_results(counts: pd.DataFrame, indicators: Sequence[str], *, period: object,
                    units: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """The rows :func:`funnel_outliers` computes for each of ``indicators``, from one
    :func:`fpanalysis.indicators.compute` call: each indicator's rows, with its
    ``indicator`` column as a compute of that indicator alone gives it (a categorical of
    its key). An indicator's numbers rest on its own count columns only, so they are those
    of its own compute. Bad counts: an empty dict (each funnel then computes its own
    indicator and says what is wrong as it always did).

    Examples
    --------
    >>> c = pd.DataFrame({"unit": ["A", "B"], "period": pd.PeriodIndex(["2024Q1"] * 2,
    ...                   freq="Q"), "births_compliant": [40, 90], "births": [50, 100]})
    >>> r = _funnel_results(c, ["compliance_rate"], period="2024Q1")
    >>> r["compliance_rate"]["value"].round(1).tolist()
    [80.0, 90.0]
    """
    specs = [ind.get(k) for k in indicators]
    try:
        r = ind.compute(counts, specs, period=period, units=units)
    except ValueError:
        return {}
    key = r["indicator"].astype(str).to_numpy(dtype=object)
    out = {}
    for spec in specs:  # the few funnel indicators
        part = r[key == spec.key].reset_index(drop=True)
        out[spec.key] = part.assign(indicator=pd.Categorical.from_codes(
            np.zeros(len(part), dtype=np.int32), [spec.key]))
    return out


def funnel_curves(funnel: pd.DataFrame, *, points: int = 200) -> pd.DataFrame:
    """The funnel limits of a :func:`funnel_outliers` result along the x axis, for drawing.

    Exact limits around the county value, or, where the result was adjusted for
    over-dispersion, the widened limits with its tau². The frame has the shape of
    :func:`fpanalysis.indicators.funnel_data`'s curves, so that
    ``fpanalysis.plots.funnel(result, funnel_curves(result), indicator)`` draws it (the
    line it calls the target is the county value).

    Returns
    -------
    pandas.DataFrame
        ``x``, ``lower_<c>``, ``upper_<c>`` for each confidence of the result, ``target``
        (the county value).

    Examples
    --------
    >>> c = pd.DataFrame({"unit": ["A", "B"], "period": pd.PeriodIndex(["2024Q1"] * 2,
    ...                   freq="Q"), "births_compliant": [40, 90], "births": [50, 100]})
    >>> cur = funnel_curves(funnel_outliers(c, "compliance_rate", period="2024Q1"))
    >>> list(cur.columns)
    ['x', 'lower_0.95', 'upper_0.95', 'lower_0.998', 'upper_0.998', 'target']
    """
    from scipy import special

    keys = pd.unique(funnel["indicator"].astype(str))
    if len(keys) != 1:
        raise ValueError(f"funnel_curves needs the result for one indicator, got "
                         f"{len(keys)}")
    if not isinstance(points, int) or isinstance(points, bool) or points < 2:
        raise ValueError(f"points must be a whole number of at least 2, got {points!r}")
    spec = ind.get(str(keys[0]))
    kind = spec.behaviour
    levels = sorted(float(c.removeprefix("lower_")) for c in funnel.columns
                    if c.startswith("lower_"))
    centre = float(funnel["county_value"].iloc[0])
    xs = funnel["x"].to_numpy(dtype=float)
    xs = xs[np.isfinite(xs) & (xs > 0)]
    top = xs.max() * 1.15 if len(xs) else 10.0
    start = max(1.0, xs.min() / 2 if len(xs) else 1.0)
    grid = np.unique(np.round(np.geomspace(start, top, points)))
    curves = pd.DataFrame({"x": grid})
    adjusted = bool(funnel["adjusted"].iloc[0])
    tau2 = float(funnel["tau2"].iloc[0])
    for c in levels:
        if not np.isfinite(centre):
            lo = hi = np.full(len(grid), np.nan)
        elif adjusted:
            if spec.kind in ("proportion", "sex_ratio"):
                s = 1 / (2 * np.sqrt(grid))
                t0 = (np.arcsin(np.sqrt(centre / (100 + centre))) if spec.kind == "sex_ratio"
                      else np.arcsin(np.sqrt(centre / spec.multiplier)))
            else:
                s, t0 = 1 / (2 * np.sqrt(grid * centre / spec.multiplier)), 1.0
            sd = np.sqrt(s ** 2 + tau2)
            q = special.ndtri(0.5 + c / 2)
            lo = _back(spec.kind, t0 - q * sd, centre, spec.multiplier)
            hi = _back(spec.kind, t0 + q * sd, centre, spec.multiplier)
        else:
            lo, hi = kind.funnel_limits(grid, centre, spec.multiplier, c)
        curves[f"lower_{c:g}"], curves[f"upper_{c:g}"] = lo, hi
    curves["target"] = centre
    return curves


# --------------------------------------------------------------------------- flags

#: Columns of a flag table (as check_all lists every flag raised).
FLAG_COLUMNS = ("unit", "period", "check", "indicator", "figure", "threshold", "severity")


def _flags(rows: pd.DataFrame, check: str, figure: str, severity: object) -> pd.DataFrame:
    out = pd.DataFrame({"unit": rows["unit"].astype(object).to_numpy(),
                        "period": rows["period"].astype(str).to_numpy(dtype=object),
                        "check": check,
                        "indicator": rows["indicator"].astype(str).to_numpy(dtype=object),
                        "figure": rows[figure].to_numpy(dtype=float),
                        "threshold": rows["threshold"].to_numpy(dtype=float),
                        "severity": severity})
    return out.reset_index(drop=True)


def outlier_flags(outliers: pd.DataFrame, *, modified: float = 3.5) -> pd.DataFrame:
    """The flags of a :func:`monthly_outliers` result as a flag table.

    A month with a z-score severity gives a ``'monthly_outlier'`` flag (figure: z,
    threshold: the z threshold crossed, severity as given); a month flagged by the
    modified z-score alone gives a ``'monthly_outlier_modified'`` flag (figure: modified
    z, threshold: ``modified``, severity ``'moderate'``).

    Returns
    -------
    pandas.DataFrame
        :data:`FLAG_COLUMNS`: ``unit``, ``period`` (the month as text), ``check``,
        ``indicator``, ``figure``, ``threshold``, ``severity``.
    """
    by_z = outliers[outliers["severity"].notna()]
    z = _flags(by_z, "monthly_outlier", "z", by_z["severity"].to_numpy(dtype=object))
    only = outliers[outliers["severity"].isna()
                    & outliers["modified_outlier"].to_numpy(dtype=bool)]
    m = _flags(only.assign(threshold=float(modified)), "monthly_outlier_modified",
               "modified_z", "moderate")
    return pd.concat([z, m], ignore_index=True).sort_values(
        ["unit", "period", "check", "indicator"], kind="stable").reset_index(drop=True)


def funnel_flags(funnel: pd.DataFrame) -> pd.DataFrame:
    """The flags of a :func:`funnel_outliers` result as a flag table: check ``'funnel'``,
    figure the unit's value, threshold the limit crossed, severity ``'extreme'`` (outer)
    or ``'moderate'`` (inner)."""
    rows = funnel[funnel["severity"].notna()]
    return _flags(rows, "funnel", "value", rows["severity"].to_numpy(dtype=object))
