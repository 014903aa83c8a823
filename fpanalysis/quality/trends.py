"""Consistency over time: a unit's year against its previous years, relative to the county
(WHO Data Quality Review), and a weighted trend test over the last few periods.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from .. import indicators as ind
from .. import intervals as iv
from .. import periods as pr
from ..schema import STOCK_COLUMNS
from .outliers import _asked, _check_monthly, _count_frame

__all__ = [
    "BETTER",
    "consistency_flags",
    "consistency_over_time",
    "trend_test",
    "weighted_slope",
]

#: Words accepted for the direction of "better": a target's op or the plain word.
BETTER = {">=": "higher", ">": "higher", "higher": "higher", "<=": "lower", "<": "lower",
          "lower": "lower"}


def _year(year: object) -> int:
    if isinstance(year, bool) or not isinstance(year, int | str | pd.Period):
        raise ValueError(f"year must be a year such as 2024 or '2024', got {year!r}")
    p = pr.parse(year)
    if pr.kind(p) != "year":
        raise ValueError(f"year must be a calendar year such as 2024, got {year!r}")
    return int(p.year)


_BY_UNIT = ["unit", "period"]


def _yearly(counts: pd.DataFrame, columns: list[str], chosen: list[ind.Indicator],
            year: int, universe: list[str], units: pd.DataFrame | None,
            prepared: dict[int, tuple[pd.DataFrame, list[ind.Indicator], list[str]]]
            | None = None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each series' value per unit of ``universe`` in ``year`` (NaN where the year is not
    complete) and the note saying why. The indicators are computed as
    :func:`fpanalysis.indicators.compute` does (``period=year``, ``units``); the rows it
    rolled up are kept in ``prepared[year]`` for the county values (:func:`_county`)."""
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    label = str(year)
    rows = None
    if chosen:
        specs = [ind.get(i) for i in chosen]
        data, specs, cols = ind._prepare(counts, specs, by=_BY_UNIT, period=label, ytd=False,
                                         freq=None, level=None, units=units, partial=False)
        if prepared is not None:
            prepared[year] = (data, specs, cols)
        stocks = {c for c in cols if c in STOCK_COLUMNS or any(i.exposure == c for i in specs)}
        if all(c in cols and c not in stocks for c in columns):
            rows = data  # else a column the indicators do not sum as a flow: rolled up below
    if columns:
        idx = pd.Index(universe, name="unit")
        if rows is not None:  # the same months summed for the indicators (flows, one row
            # a unit, a unit without counts filled in), as a complete=True rollup gives them
            rolled = rows.set_index("unit").reindex(idx)
            present = rolled["reported"].notna().to_numpy()
            missing = rolled["missing"].astype(object).where(
                rolled["missing"].notna(), "").to_numpy(dtype=object)
            done = rolled["complete"].astype(object).where(
                rolled["complete"].notna(), False).to_numpy(dtype=bool)
        else:
            in_year = counts[counts["period"].dt.year == year]
            if len(in_year):
                rolled = pr.rollup(in_year[["unit", "period"] + columns], label, by=["unit"],
                                   complete=True, columns=columns
                                   ).set_index("unit").reindex(idx)
                present = rolled["reported"].notna().to_numpy()
                missing = rolled["missing"].fillna("").to_numpy(dtype=object)
                done = rolled["complete"].fillna(False).to_numpy(dtype=bool)
            else:
                rolled = pd.DataFrame(index=idx, columns=columns, dtype=float)
                present = np.zeros(len(idx), dtype=bool)
                missing = np.full(len(idx), "", dtype=object)
                done = present
        note = np.where(~present, f"{ind.NOT_REPORTED}: no counts for {label}",
                        np.where(~done, f"{ind.NOT_REPORTED}: {label} incomplete, "
                                 + missing.astype(str) + " missing", ""))
        for c in columns:  # a few series
            v = rolled[c].to_numpy(dtype=float, na_value=np.nan)
            gap = done & np.isnan(v)
            out[c] = (np.where(done, v, np.nan).astype(float),
                      np.where(gap, f"{ind.NOT_REPORTED}: empty count cells in {label}",
                               note).astype(object))
    if chosen:
        sums, status = ind._sum_groups(data, _BY_UNIT, cols)
        r = ind._results(sums, specs, status, by=_BY_UNIT,
                         confidence=ind.iv.check_confidence(0.95), methods={})
        for spec in chosen:  # a few indicators
            one = r[r["indicator"].astype(str) == spec.key].set_index("unit")
            v = one["value"].reindex(universe).to_numpy(dtype=float, na_value=np.nan)
            note = one["note"].astype(str).reindex(universe).fillna(
                f"{ind.NOT_REPORTED}: no counts for {label}").to_numpy(dtype=object)
            v = np.where(np.isfinite(v), v, np.nan)
            note = np.where(np.isnan(v) & (note == ""), "value not finite", note)
            out[spec.key] = (v, note)
    return out


def _county(counts: pd.DataFrame, columns: list[str], chosen: list[ind.Indicator],
            year: int, pool: np.ndarray, universe: list[str],
            values: dict[str, np.ndarray], *, every: list[ind.Indicator] | None = None,
            pooled: dict[tuple[int, bytes], pd.DataFrame] | None = None,
            prepared: dict[int, tuple[pd.DataFrame, list[ind.Indicator], list[str]]]
            | None = None) -> dict[str, float]:
    """The county value of each series in ``year`` from the units of ``pool`` only.

    With ``every`` (all the indicators compared) and ``pooled`` (a dict kept by the caller
    for one call), the pooled counts of a year and pool are computed once for every
    indicator: a pooled indicator's value rests on its own columns' sums only, so it is the
    same number whichever other indicators are computed beside it. With ``prepared`` (the
    year's rolled-up rows of every unit, from :func:`_yearly` for ``every``), the pool's
    rows are taken from them: they are the rows ``compute`` rolls up from the pool's counts
    (a unit's rows never depend on another unit's), summed in the same order.
    """
    out: dict[str, float] = {}
    for c in columns:
        v = values[c]
        out[c] = float(v[pool].sum()) if pool.any() else np.nan
    if chosen:
        key = (year, np.asarray(pool, dtype=bool).tobytes())
        if pooled is not None and key in pooled:
            r = pooled[key]
        else:
            keep = set(np.asarray(universe, dtype=object)[pool])
            if prepared is not None and year in prepared and every:
                data, specs, cols = prepared[year]
                rows = data[data["unit"].isin(keep).to_numpy(dtype=bool)]
                sums, status = ind._sum_groups(rows, ["period"], cols)
                r = ind._results(sums, specs, status, by=["period"],
                                 confidence=ind.iv.check_confidence(0.95), methods={}) \
                    if len(rows) else None
            else:
                part = counts[counts["unit"].isin(keep)]
                r = ind.compute(part, every or chosen, period=str(year), by=("period",)) \
                    if len(part) else None
            if pooled is not None:
                pooled[key] = r
        if r is not None:
            for spec in chosen:
                row = r[r["indicator"].astype(str) == spec.key]
                out[spec.key] = float(row["value"].iloc[0]) if len(row) else np.nan
        else:
            out.update({spec.key: np.nan for spec in chosen})
    return out


def consistency_over_time(
    counts: pd.DataFrame,
    *,
    year: object,
    columns: Sequence[str] = ("births",),
    indicators: Iterable[str | ind.Indicator] = (),
    previous: int = 3,
    min_previous: int | None = None,
    tolerance: float = 0.33,
    units: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Compare each unit's year with the mean of its previous years, relative to the county.

    For every unit and series: ``ratio = value(year) / mean(value of the previous years)``,
    the same ratio for the county, and ``relative = ratio / county_ratio``, flagged outside
    1 ± ``tolerance`` (WHO Data Quality Review, consistency over time: 33 %).

    Only whole years are compared (:func:`fpanalysis.periods.rollup` and
    :func:`fpanalysis.indicators.compute` say when a month is missing). The previous years
    compared are those of the ``previous`` years before ``year`` in which some unit has a
    complete year; with fewer than ``min_previous`` of them no ratio is given and every row
    says why. A unit lacking the current year or one of the compared years gets no ratio
    (the note names the gap) and is left out of the county value, which pools the other
    units like for like (the note says so): a county ratio is never taken over a changing
    set of units in silence.

    Parameters
    ----------
    counts : pandas.DataFrame
        Monthly counts (``period[M]``), one row per unit and month.
    year : int or str
        The year assessed, e.g. 2024.
    columns : sequence of str, default ('births',)
        Count columns compared as annual totals (``births`` derived from male + female).
    indicators : iterable of str or Indicator, default ()
        Indicators compared as annual values.
    previous : int, default 3
        How many years before ``year`` make the baseline.
    min_previous : int, optional
        Fewest of them that must exist (default ``previous``).
    tolerance : float, default 0.33
        Relative ratios outside [1 - tolerance, 1 + tolerance] are flagged.
    units : pandas.DataFrame, optional
        Units table: every unit at the counts' level gets rows.

    Returns
    -------
    pandas.DataFrame
        One row per unit and series: ``unit``, ``indicator``, ``source`` (``'count'`` or
        ``'indicator'``), ``year``, ``value``, ``previous_years`` (the years averaged, e.g.
        ``'2021, 2022, 2023'``), ``previous_mean``, ``ratio``, ``county_value``,
        ``county_previous_mean``, ``county_ratio``, ``county_units`` (units pooled),
        ``relative``, ``lower``/``upper`` (1 ∓ tolerance), ``flag`` (``'above'``,
        ``'below'`` or missing), ``threshold`` (the bound crossed, else NaN), ``note``.

    Raises
    ------
    ValueError
        Counts not monthly or with duplicate keys, an unknown or non-numeric count
        column, no series, ``previous``/``min_previous`` not whole numbers with
        1 <= min_previous <= previous, ``tolerance`` not in (0, 1), a year that is not a
        calendar year.

    References
    ----------
    World Health Organization (2017) Data quality review: a toolkit for facility data
    quality assessment. Module 2: Desk review of data quality (consistency over time).

    Examples
    --------
    >>> c = pd.DataFrame({"unit": np.repeat(["A", "B"], 36), "period": np.tile(
    ...     pd.period_range("2022-01", periods=36, freq="M"), 2),
    ...     "births": [10] * 24 + [20] * 12 + [10] * 36})
    >>> r = consistency_over_time(c, year=2024, min_previous=2)
    >>> r[["unit", "ratio", "county_ratio", "relative", "flag"]].round(3)
      unit  ratio  county_ratio  relative   flag
    0    A    2.0           1.5     1.333  above
    1    B    1.0           1.5     0.667  below
    """
    y = _year(year)
    for name, v in (("previous", previous), ("min_previous", min_previous)):
        if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 1):
            raise ValueError(f"{name} must be a whole number of at least 1, got {v!r}")
    min_previous = previous if min_previous is None else min_previous
    if min_previous > previous:
        raise ValueError(f"min_previous must not exceed previous, got {min_previous} > "
                         f"{previous}")
    if not (isinstance(tolerance, int | float) and 0 < tolerance < 1):
        raise ValueError(f"tolerance must be between 0 and 1 (exclusive), got {tolerance!r}")
    columns, chosen = _asked(columns, indicators)
    _check_monthly(counts)
    counts = _count_frame(counts, columns) if columns else counts
    universe = ind._universe(counts, units) if len(counts) else []
    if not universe:
        raise ValueError("counts have no units")
    years = list(range(y - previous, y + 1))
    prepared: dict[int, tuple[pd.DataFrame, list[ind.Indicator], list[str]]] = {}
    per_year = {yy: _yearly(counts, columns, chosen, yy, universe, units, prepared)
                for yy in years}
    names = columns + [s.key for s in chosen]
    county_results: dict[tuple[int, bytes], pd.DataFrame] = {}  # this call only
    parts = []
    for name in names:  # a few series
        cur_v, cur_note = per_year[y][name]
        prev_v = np.stack([per_year[yy][name][0] for yy in years[:-1]])  # (previous, units)
        exists = ~np.isnan(prev_v).all(axis=1)
        used = [yy for yy, e in zip(years[:-1], exists, strict=True) if e]
        note = cur_note.copy()
        if len(used) < min_previous:
            why = (f"only {len(used)} of the {previous} previous years have a complete "
                   f"year ({', '.join(map(str, used)) or 'none'}); {min_previous} needed")
            note = np.where(note == "", why, note + "; " + why)
            pool = np.zeros(len(universe), dtype=bool)
        else:
            prev_used = prev_v[exists]
            lacking = np.isnan(prev_used).any(axis=0)
            if lacking.any():
                texts = np.array([per_year[yy][name][1] for yy in used], dtype=object)
                first_gap = np.argmax(np.isnan(prev_used), axis=0)
                gap_note = texts[first_gap, np.arange(len(universe))]
                note = np.where((note == "") & lacking, gap_note, note)
            pool = ~np.isnan(cur_v) & ~lacking
        with np.errstate(all="ignore"):
            prev_mean = (prev_v[exists].mean(axis=0) if exists.any()
                         else np.full(len(universe), np.nan))
            prev_mean = np.where(pool, prev_mean, np.nan)
            ratio = cur_v / prev_mean
        zero = pool & (prev_mean == 0)
        note = np.where(zero & (note == ""), "mean of the previous years is 0", note)
        ratio = np.where(pool & ~zero, ratio, np.nan)
        if pool.any() and len(used) >= min_previous:
            cur_c = _county(counts, [name] if name in columns else [],
                            [s for s in chosen if s.key == name], y, pool, universe,
                            {name: cur_v}, every=chosen, pooled=county_results,
                            prepared=prepared)[name]
            prev_c = [_county(counts, [name] if name in columns else [],
                              [s for s in chosen if s.key == name], yy, pool, universe,
                              {name: per_year[yy][name][0]}, every=chosen,
                              pooled=county_results, prepared=prepared)[name]
                      for yy in used]
            c_prev = float(np.mean(prev_c))
        else:
            cur_c, c_prev = np.nan, np.nan
        with np.errstate(all="ignore"):
            c_ratio = cur_c / c_prev if c_prev != 0 else np.nan
            relative = ratio / c_ratio
        if np.isfinite(cur_c) and not np.isfinite(c_ratio):
            why = "county mean of the previous years is 0"
            note = np.where(note == "", why, note)
        n_pool = int(pool.sum())
        if 0 < n_pool < len(universe):
            left = ", ".join(np.asarray(universe, dtype=object)[~pool].astype(str))
            pooled = f"county pooled over {n_pool} of {len(universe)} units (left out: {left})"
            note = np.where(note == "", pooled, note + "; " + pooled)
        lower, upper = 1 - tolerance, 1 + tolerance
        with np.errstate(invalid="ignore"):
            above, below = relative > upper, relative < lower
        flag = np.full(len(universe), None, dtype=object)
        flag[above], flag[below] = "above", "below"
        parts.append(pd.DataFrame({
            "unit": np.asarray(universe, dtype=object), "indicator": name,
            "source": "count" if name in columns else "indicator", "year": str(y),
            "value": cur_v, "previous_years": ", ".join(map(str, used)),
            "previous_mean": prev_mean, "ratio": ratio, "county_value": cur_c,
            "county_previous_mean": c_prev, "county_ratio": c_ratio,
            "county_units": n_pool, "relative": relative, "lower": lower, "upper": upper,
            "flag": flag, "threshold": np.select([above, below], [upper, lower], np.nan),
            "note": note.astype(object)}))
    return pd.concat(parts, ignore_index=True)


# --------------------------------------------------------------------------- trend test


def _periods_back(period: object, n: int) -> list[pd.Period]:
    p = pr.parse(period)
    if not isinstance(p, pd.Period):
        raise ValueError(f"a trend needs months, quarters or years, got {p}")
    return [p - k for k in range(n - 1, -1, -1)]


def _better(spec: ind.Indicator, better: object) -> str | None:
    """'higher', 'lower' or None (neither direction is better) for one indicator."""
    if isinstance(better, Mapping):
        better = better.get(spec.key)
    if better is None:
        if spec.higher_is_better is None:
            return None
        return "higher" if spec.higher_is_better else "lower"
    if not isinstance(better, str) or better.strip() not in BETTER:
        raise ValueError(f"better must be one of {', '.join(BETTER)}, got {better!r}")
    return BETTER[better.strip()]


def weighted_slope(y: np.ndarray, se: np.ndarray, x: np.ndarray | None = None
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Inverse-variance weighted least-squares slope of each row of ``y`` on ``x``.

    Rows are series (units), columns periods; a NaN value or standard error leaves the
    point out. Weights w = 1 / se²; slope = Σw(x - x̄)(y - ȳ) / Σw(x - x̄)² with weighted
    means; its standard error 1 / sqrt(Σw(x - x̄)²) takes the variances as known (no
    rescaling by the residuals, statsmodels WLS with ``cov_type='fixed scale'``).
    Returns slope, se, the points used and the residual chi-square Σw(y - fit)².

    Examples
    --------
    >>> b, s, n, chi2 = weighted_slope(np.array([[1.0, 2.0, 3.0]]), np.array([[1.0] * 3]))
    >>> float(b[0]), round(float(s[0]), 4), int(n[0])
    (1.0, 0.7071, 3)
    """
    y = np.asarray(y, dtype=float)
    se = np.asarray(se, dtype=float)
    x = np.arange(y.shape[1], dtype=float) if x is None else np.asarray(x, dtype=float)
    xb = np.broadcast_to(x, y.shape)
    ok = np.isfinite(y) & np.isfinite(se) & (se > 0)
    with np.errstate(all="ignore"):
        w = np.where(ok, 1 / np.where(ok, se, 1.0) ** 2, 0.0)
        yy = np.where(ok, y, 0.0)
        sw = w.sum(axis=1)
        xm = (w * xb).sum(axis=1) / sw
        ym = (w * yy).sum(axis=1) / sw
        dx = xb - xm[:, None]
        sxx = (w * dx ** 2).sum(axis=1)
        slope = (w * dx * (yy - ym[:, None])).sum(axis=1) / sxx
        fit = ym[:, None] + slope[:, None] * dx
        chi2 = (w * (yy - fit) ** 2).sum(axis=1)
        return slope, 1 / np.sqrt(sxx), ok.sum(axis=1), chi2


def trend_test(
    counts: pd.DataFrame,
    indicators: Iterable[str | ind.Indicator],
    *,
    period: object,
    periods: int = 5,
    better: str | Mapping[str, str] | None = None,
    confidence: float = 0.95,
    min_periods: int = 3,
    units: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Test whether each unit's indicator got significantly better or worse over the last
    ``periods`` periods.

    The values of the ``periods`` periods ending with ``period`` (months, quarters or
    years, as ``period`` is) come from :func:`fpanalysis.indicators.compute`; each value's
    standard error is its interval's width over 2 z (z the normal quantile of the
    interval's confidence). The slope of the inverse-variance weighted least-squares line
    on the period index (:func:`weighted_slope`) is tested with z = slope / SE (two-sided,
    at 1 - ``confidence``).

    Parameters
    ----------
    counts : pandas.DataFrame
        Counts that :func:`fpanalysis.indicators.compute` rolls up to each period.
    indicators : iterable of str or Indicator
    period : period label
        The last period, e.g. ``'2024Q4'`` (then 2023Q4 ... 2024Q4 with ``periods=5``).
    periods : int, default 5
    better : str or mapping of str to str, optional
        Which direction is better: ``'>='``/``'higher'`` or ``'<='``/``'lower'`` (a
        target's ``op``), for all indicators or per indicator key. Default: the
        indicator's ``higher_is_better``; where that is None the trend is called
        ``'increasing'``/``'decreasing'``.
    confidence : float, default 0.95
        Of the intervals behind the standard errors and of the test.
    min_periods : int, default 3
        Fewest periods with a value for a test.
    units : pandas.DataFrame, optional
        Units table: every unit at the counts' level gets rows.

    Returns
    -------
    pandas.DataFrame
        One row per unit and indicator: ``unit``, ``indicator``, ``first``, ``last``
        (periods), ``periods_used``, ``slope`` (display units per period), ``se``, ``z``,
        ``p_value``, ``chi2`` (weighted residual sum of squares; much above
        ``periods_used - 2`` means the values vary more than their intervals say, and the
        test is then too ready to call a change), ``better`` (``'higher'``,
        ``'lower'`` or missing), ``trend`` (``'improving'``, ``'worsening'``, ``'no
        significant change'``, or ``'increasing'``/``'decreasing'`` without a better
        direction; None when not tested) and ``note`` (missing periods, why not tested).

    Raises
    ------
    ValueError
        No indicator, a period that is not a month, quarter or year, ``periods`` or
        ``min_periods`` below 3 or ``min_periods`` above ``periods``, an unknown
        ``better``, confidence outside (0, 1), as :func:`fpanalysis.indicators.compute`.

    Examples
    --------
    Rates 10, 11, 12, 13, 14 per mille each with SE 0.5: slope 1 per period, SE
    1 / sqrt(4 x 10) = 0.158, z = 6.3.

    >>> b, s, n, chi2 = weighted_slope(np.array([[10.0, 11, 12, 13, 14]]), np.full((1, 5), 0.5))
    >>> round(float(b[0]), 3), round(float(s[0]), 3)
    (1.0, 0.158)
    """
    from scipy import special

    c = iv.check_confidence(confidence)
    for name, v in (("periods", periods), ("min_periods", min_periods)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 3:
            raise ValueError(f"{name} must be a whole number of at least 3, got {v!r}")
    if min_periods > periods:
        raise ValueError(f"min_periods must not exceed periods, got {min_periods} > {periods}")
    if isinstance(indicators, str | ind.Indicator):
        indicators = [indicators]
    chosen = [ind.get(i) for i in indicators]
    if not chosen:
        raise ValueError("give at least one indicator")
    directions = {spec.key: _better(spec, better) for spec in chosen}
    if isinstance(better, Mapping):
        unknown = sorted(set(better) - set(directions))
        if unknown:
            raise ValueError(f"better names indicator(s) not tested here: {', '.join(unknown)}")
    steps = _periods_back(period, periods)
    q = special.ndtri(0.5 + c / 2)
    frames = [ind.compute(counts, chosen, period=p, units=units, confidence=c) for p in steps]
    res = pd.concat(frames, ignore_index=True)
    res["indicator"] = res["indicator"].astype(str)
    res["_step"] = np.repeat(np.arange(len(steps)), [len(f) for f in frames])
    res["_se"] = (res["upper"] - res["lower"]) / (2 * q)
    value = res.pivot_table(index=["unit", "indicator"], columns="_step", values="value",
                            aggfunc="first", dropna=False)
    order = [(u, s.key) for u in sorted(pd.unique(res["unit"])) for s in chosen]
    idx = pd.MultiIndex.from_tuples(order, names=["unit", "indicator"])
    cols = range(len(steps))
    y = value.reindex(index=idx, columns=cols).to_numpy(dtype=float)
    se = res.pivot_table(index=["unit", "indicator"], columns="_step", values="_se",
                         aggfunc="first", dropna=False).reindex(
        index=idx, columns=cols).to_numpy(dtype=float)
    se = np.where(np.isfinite(y), se, np.nan)
    slope, slope_se, used, chi2 = weighted_slope(y, se)
    tested = used >= min_periods
    with np.errstate(all="ignore"):
        z = np.where(tested, slope / slope_se, np.nan)
    p_value = np.where(tested, 2 * special.ndtr(-np.abs(z)), np.nan)
    out = pd.DataFrame({"unit": idx.get_level_values("unit").astype(object),
                        "indicator": idx.get_level_values("indicator").astype(object),
                        "first": str(steps[0]), "last": str(steps[-1]),
                        "periods_used": used.astype(int),
                        "slope": np.where(tested, slope, np.nan),
                        "se": np.where(tested, slope_se, np.nan), "z": z,
                        "p_value": p_value, "chi2": np.where(tested, chi2, np.nan)})
    out["better"] = out["indicator"].map(directions).astype(object)
    significant = tested & (p_value < 1 - c)
    up = significant & (slope > 0)
    down = significant & (slope < 0)
    higher = (out["better"] == "higher").to_numpy()
    lower = (out["better"] == "lower").to_numpy()
    none = out["better"].isna().to_numpy()
    trend = np.full(len(out), None, dtype=object)
    trend[tested] = "no significant change"
    trend[(up & higher) | (down & lower)] = "improving"
    trend[(down & higher) | (up & lower)] = "worsening"
    trend[up & none] = "increasing"
    trend[down & none] = "decreasing"
    out["trend"] = trend
    missing = ~(np.isfinite(y) & np.isfinite(se))
    labels = np.array([str(s) for s in steps], dtype=object)
    note = np.full(len(out), "", dtype=object)
    if missing.any():
        rows = np.flatnonzero(missing.any(axis=1))
        note[rows] = ["no value for " + ", ".join(labels[missing[r]]) for r in rows]
    short = ~tested
    why = f"fewer than {min_periods} periods with a value: not tested"
    note[short] = np.where(note[short] == "", why, note[short] + "; " + why)
    out["note"] = note
    return out


def consistency_flags(consistency: pd.DataFrame) -> pd.DataFrame:
    """The flags of a :func:`consistency_over_time` result as a flag table: check
    ``'consistency_over_time'``, period the year, figure the relative ratio, threshold the
    bound crossed, severity ``'moderate'`` (the WHO review grades no further)."""
    rows = consistency[consistency["flag"].notna()]
    out = pd.DataFrame({"unit": rows["unit"].astype(object).to_numpy(),
                        "period": rows["year"].astype(str).to_numpy(dtype=object),
                        "check": "consistency_over_time",
                        "indicator": rows["indicator"].astype(str).to_numpy(dtype=object),
                        "figure": rows["relative"].to_numpy(dtype=float),
                        "threshold": rows["threshold"].to_numpy(dtype=float),
                        "severity": "moderate"})
    return out.reset_index(drop=True)
