"""Target attainment, assessment scores, league tables with rank uncertainty, tiers, bands
and streaks.

The steps chain on tidy frames::

    ev = evaluate(results, targets, values=supplied)  # unit x period x target
    sc = score(ev)                                     # unit x period: points, ranks
    sc = tiers(sc, k=3)                                # top / bottom k
    sc = streaks(sc)                                   # periods running in the bottom tier
    ru = rank_uncertainty(counts, targets, period=p)   # how sure is each rank?
    ye = combine(sc_quarters, city_scores)             # 0.6 county + 0.4 city, year end

Values are compared unrounded: a sex ratio of 130.4 does not meet "<= 130" although it
displays as 130. A unit without data for a target is reported as ``no_data`` and earns no
points; it is never scored as met.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from . import indicators as ind
from . import periods as pr

__all__ = [
    "VERDICTS",
    "assess",
    "bands",
    "combine",
    "evaluate",
    "rank_uncertainty",
    "rank_units",
    "score",
    "scope",
    "streaks",
    "tiers",
]

VERDICTS = ("clearly_met", "indeterminate", "clearly_not_met", "no_data")


def scope(period: object) -> str:
    """The target scope a period belongs to: month, quarter, half_year, year or ytd.

    Examples
    --------
    >>> scope("2024Q3"), scope("2024-01/2024-09"), scope("2024H2"), scope("2024-07-D1")
    ('quarter', 'ytd', 'half_year', 'dekad')
    """
    p = pr.parse(period)
    if isinstance(p, pr.Dekad):
        return "dekad"
    if isinstance(p, pr.Span):
        if "H" in str(p):
            return "half_year"
        return "ytd" if p.first.month == 1 else "span"
    return {"M": "month", "Q": "quarter", "Y": "year"}[p.freqstr[0]]


def _thresholds(target: pd.Series, units: pd.Series) -> np.ndarray:
    per_unit = target["unit_thresholds"] or {}
    return units.map(per_unit).fillna(target["threshold"]).to_numpy(dtype=float)


def _earned(target: pd.Series, value: np.ndarray, met: np.ndarray,
            threshold: np.ndarray) -> np.ndarray:
    points = target["points"]
    kind = target["scoring"]
    if kind == "all_or_nothing":
        earned = np.where(met, points, 0.0)
    elif kind == "linear":
        floor = target["floor"]
        # share of the way from the floor (0 points) to the threshold (full points)
        share = np.clip((value - floor) / (threshold - floor), 0.0, 1.0)
        earned = points * share
    else:  # per_event: points off per counted event, never below zero
        earned = np.maximum(points - target["per_event"] * value, 0.0)
    return np.where(np.isnan(value), 0.0, earned)


def evaluate(results: pd.DataFrame, targets: pd.DataFrame, *,
             values: pd.DataFrame | None = None) -> pd.DataFrame:
    """Check every unit and period against every target that applies to the period.

    Parameters
    ----------
    results : pandas.DataFrame
        Indicator results (:func:`fpanalysis.indicators.compute`): ``unit``, ``period``,
        ``indicator``, ``value``, ``lower``, ``upper``. Their (unit, period) pairs are the
        units assessed.
    targets : pandas.DataFrame
        From :func:`fpanalysis.io.load_targets`.
    values : pandas.DataFrame, optional
        Supplied values (:func:`fpanalysis.io.load_values`) for indicators not computed from
        counts; same columns.

    Returns
    -------
    pandas.DataFrame
        One row per unit, period and applicable target: ``unit``, ``period``, ``target``,
        ``indicator``, ``label``, ``value``, ``lower``, ``upper``, ``op``, ``threshold`` (the
        unit's own where overridden), ``met`` (nullable boolean; ``<NA>`` without data),
        ``verdict`` (``clearly_met`` when the whole interval meets the target,
        ``clearly_not_met`` when none of it does, else ``indeterminate``; ``no_data``;
        a value supplied without an interval is taken as exact), ``points`` (available),
        ``weight``, ``earned`` (points earned) and ``weighted`` (earned x weight).

    Examples
    --------
    >>> res = pd.DataFrame({"unit": ["A", "B", "C"], "period": "2024Q1",
    ...     "indicator": "sex_ratio_at_birth", "value": [130.4, 120.0, np.nan],
    ...     "lower": [125.0, 100.0, np.nan], "upper": [136.0, 128.0, np.nan]})
    >>> tg = pd.DataFrame({"target": [1], "indicator": ["sex_ratio_at_birth"], "label": [""],
    ...     "op": ["<="], "threshold": [130.0], "points": [15.0], "weight": [1.0],
    ...     "scoring": ["all_or_nothing"], "floor": [np.nan], "per_event": [np.nan],
    ...     "periods": [("quarter",)], "unit_thresholds": [{}]})
    >>> evaluate(res, tg)[["unit", "value", "met", "verdict", "earned"]]
      unit  value    met          verdict  earned
    0    A  130.4  False    indeterminate     0.0
    1    B  120.0   True      clearly_met    15.0
    2    C    NaN   <NA>          no_data     0.0
    """
    cols = ["unit", "period", "indicator", "value", "lower", "upper"]
    data = results[cols]
    if values is not None:
        data = pd.concat([data, values[cols]], ignore_index=True)
    data = data.assign(period=data["period"].astype(str), indicator=data["indicator"].astype(str))
    pairs = results[["unit", "period"]].assign(period=results["period"].astype(str))
    pairs = pairs.drop_duplicates().reset_index(drop=True)
    pairs["_scope"] = pairs["period"].map({p: scope(p) for p in pairs["period"].unique()})
    pieces = []
    for _, t in targets.iterrows():  # a loop over the ~10 targets of a scheme, not over units
        apply = pairs[pairs["_scope"].isin(t["periods"])][["unit", "period"]]
        rows = data[data["indicator"] == t["indicator"]].drop(columns="indicator")
        rows = rows.drop_duplicates(["unit", "period"], keep="last")
        part = apply.merge(rows, on=["unit", "period"], how="left")
        value = part["value"].to_numpy(dtype=float)
        lower = part["lower"].to_numpy(dtype=float)
        upper = part["upper"].to_numpy(dtype=float)
        threshold = _thresholds(t, part["unit"])
        with np.errstate(invalid="ignore"):
            if t["op"] == "<=":
                met = value <= threshold
                sure = np.where(np.isnan(upper), value, upper) <= threshold
                fail = np.where(np.isnan(lower), value, lower) > threshold
            else:
                met = value >= threshold
                sure = np.where(np.isnan(lower), value, lower) >= threshold
                fail = np.where(np.isnan(upper), value, upper) < threshold
        missing = np.isnan(value)
        verdict = np.select([missing, sure, fail], ["no_data", "clearly_met", "clearly_not_met"],
                            "indeterminate")
        earned = _earned(t, value, met, threshold)
        pieces.append(pd.DataFrame({
            "unit": part["unit"], "period": part["period"], "target": t["target"],
            "indicator": t["indicator"], "label": t["label"], "value": value, "lower": lower,
            "upper": upper, "op": t["op"], "threshold": threshold,
            "met": pd.array(np.where(missing, None, met), dtype="boolean"),
            "verdict": verdict, "points": t["points"], "weight": t["weight"],
            "earned": earned, "weighted": earned * t["weight"],
        }))
    out = pd.concat(pieces, ignore_index=True)
    return out.sort_values(["period", "unit", "target"], kind="stable").reset_index(drop=True)


def assess(counts: pd.DataFrame, targets: pd.DataFrame, *, periods: Sequence[object],
           values: pd.DataFrame | None = None, units: pd.DataFrame | None = None,
           level: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Evaluate and score several periods at once (e.g. every quarter of the year so far).

    Returns
    -------
    evaluated, scores : pandas.DataFrame
        :func:`evaluate` and :func:`score` output over all ``periods``, scores with tiers
        (``tier_size`` of the scheme, default 3) and bottom-tier ``streak``.
    """
    keys = [k for k in dict.fromkeys(targets["indicator"]) if k in set(ind.keys())]
    results = pd.concat([ind.compute(counts, keys, period=p, level=level, units=units)
                         for p in periods], ignore_index=True)  # a handful of periods
    evaluated = evaluate(results, targets, values=values)
    k = int(targets.attrs.get("scheme", {}).get("tier_size", 3))
    return evaluated, streaks(tiers(score(evaluated), k=k))


def score(evaluated: pd.DataFrame) -> pd.DataFrame:
    """Sum points per unit and period and rank the units within each period.

    Returns
    -------
    pandas.DataFrame
        ``unit``, ``period``, ``score`` (weighted points earned), ``max_score`` (weighted
        points available), ``met`` (targets met), ``not_met``, ``no_data``, ``targets``,
        ``rank`` (1 = best; tied units share the better rank), sorted by period, rank, unit.
    """
    e = evaluated.assign(
        _avail=evaluated["points"] * evaluated["weight"],
        _met=evaluated["met"].fillna(False).astype(int),
        _not=(evaluated["met"] == False).fillna(False).astype(int),  # noqa: E712
        _none=evaluated["met"].isna().astype(int))
    g = e.groupby(["unit", "period"], sort=True)
    out = pd.DataFrame({"score": g["weighted"].sum(), "max_score": g["_avail"].sum(),
                        "met": g["_met"].sum(), "not_met": g["_not"].sum(),
                        "no_data": g["_none"].sum(), "targets": g.size()}).reset_index()
    return rank_units(out)


def rank_units(scores: pd.DataFrame, *, column: str = "score", by: str = "period",
               higher_is_better: bool = True) -> pd.DataFrame:
    """Rank units within each ``by`` group; ties share the better rank (``method='min'``).

    Examples
    --------
    >>> s = pd.DataFrame({"unit": list("ABCD"), "period": "2024Q1",
    ...                   "score": [90.0, 95.0, 90.0, 70.0]})
    >>> rank_units(s)[["unit", "rank"]]
      unit  rank
    0    B     1
    1    A     2
    2    C     2
    3    D     4
    """
    out = scores.copy()
    out["rank"] = out.groupby(by)[column].rank(method="min", ascending=not higher_is_better)
    out["rank"] = out["rank"].astype("Int64")
    return out.sort_values([by, "rank", "unit"], kind="stable").reset_index(drop=True)


def tiers(ranked: pd.DataFrame, *, k: int = 3, column: str = "score", by: str = "period",
          higher_is_better: bool = True) -> pd.DataFrame:
    """Mark the top ``k`` and bottom ``k`` units of each period (``tier``: top/bottom/'').

    A unit is in the bottom tier when fewer than ``k`` units are strictly worse; ties at the
    edge therefore all join the tier. Where a table has fewer than 2k units, top wins.
    """
    out = ranked.copy()
    worse_first = out.groupby(by)[column].rank(method="min", ascending=higher_is_better)
    better_first = out.groupby(by)[column].rank(method="min", ascending=not higher_is_better)
    out["tier"] = np.where(better_first <= k, "top", np.where(worse_first <= k, "bottom", ""))
    return out


def streaks(tiered: pd.DataFrame, *, tier: str = "bottom", by: str = "period") -> pd.DataFrame:
    """Add ``streak``: how many consecutive periods, up to this one, the unit has been in
    ``tier`` (0 when it is not). A period the unit has no row for breaks the run.

    Examples
    --------
    >>> t = pd.DataFrame({"unit": ["A"] * 4, "period": ["2024Q1", "2024Q2", "2024Q3", "2024Q4"],
    ...                   "tier": ["bottom", "bottom", "", "bottom"]})
    >>> streaks(t)["streak"].tolist()
    [1, 2, 0, 1]
    """
    out = tiered.copy()
    labels = out[by].astype(str)
    ordinal = labels.map({p: _ordinal(pr.parse(p)) for p in labels.unique()}).to_numpy()
    unit = out["unit"].astype(str).to_numpy()
    order = np.lexsort((ordinal, unit))
    o, u = ordinal[order], unit[order]
    inside = (out["tier"].to_numpy() == tier)[order]
    # a run goes on while the unit stays, the next period follows and both are in the tier
    goes_on = np.r_[False, (u[1:] == u[:-1]) & (o[1:] - o[:-1] == 1) & inside[:-1]] & inside
    run = np.cumsum(~goes_on)
    idx = np.arange(len(o))
    first = pd.Series(idx).groupby(run).transform("min").to_numpy()
    result = np.empty(len(o), dtype=int)
    result[order] = np.where(inside, idx - first + 1, 0)
    out["streak"] = result
    return out


def _ordinal(p: object) -> int:
    """Consecutive integers for consecutive periods of one kind."""
    if isinstance(p, pd.Period):
        return int(p.ordinal)
    if isinstance(p, pr.Dekad):
        return (p.year * 12 + p.month_number - 1) * 3 + p.part - 1
    if isinstance(p, pr.Span):
        return int(p.last.ordinal)
    raise ValueError(f"cannot order period {p!r}")


def bands(scores: pd.DataFrame, *, column: str = "score",
          edges: Sequence[float] = (90.0, 75.0),
          labels: Sequence[str] = ("一类", "二类", "三类")) -> pd.DataFrame:
    """Classify units into named bands by a score or by the number of targets met.

    ``edges`` are lower bounds, best band first: with the defaults a score >= 90 is band 1,
    >= 75 band 2, else band 3. For "class 1 means all six zero-criteria are met", band on
    ``column="met"`` with ``edges=(6, 4)``.

    Examples
    --------
    >>> s = pd.DataFrame({"unit": list("ABC"), "score": [92.0, 75.0, 74.9]})
    >>> bands(s)["band"].tolist()
    ['一类', '二类', '三类']
    """
    if len(labels) != len(edges) + 1:
        raise ValueError("bands needs one label more than edges")
    if list(edges) != sorted(edges, reverse=True):
        raise ValueError("band edges must run from the best band down")
    out = scores.copy()
    v = out[column].to_numpy(dtype=float)
    conds = [v >= e for e in edges]
    out["band"] = np.select(conds, list(labels[:-1]), labels[-1])
    out.loc[np.isnan(v), "band"] = ""
    return out


def combine(county: pd.DataFrame, external: pd.DataFrame, *, county_weight: float = 0.6,
            external_weight: float = 0.4, year: object | None = None) -> pd.DataFrame:
    """Year-end standing: weighted county quarterly average plus an external (city) score.

    Parameters
    ----------
    county : pandas.DataFrame
        Quarterly scores (:func:`score`): ``unit``, ``period`` (quarters), ``score``.
    external : pandas.DataFrame
        ``unit``, ``period`` (the year) and ``score``, e.g. the city's assessment; joined by
        unit and year, never by position.
    county_weight, external_weight : float, default 0.6 and 0.4
    year : period label, optional
        Keep only this year.

    Returns
    -------
    pandas.DataFrame
        ``unit``, ``period`` (year), ``county_score`` (mean of the year's quarterly scores),
        ``quarters`` (how many went in), ``external_score``, ``score`` (the weighted
        standing; NaN where either part is missing) and ``rank``.

    Examples
    --------
    >>> q = pd.DataFrame({"unit": ["A"] * 4 + ["B"] * 4,
    ...                   "period": ["2024Q1", "2024Q2", "2024Q3", "2024Q4"] * 2,
    ...                   "score": [80, 90, 100, 90, 70, 70, 70, 70.0]})
    >>> city = pd.DataFrame({"unit": ["B", "A"], "period": ["2024", "2024"],
    ...                      "score": [100.0, 50.0]})
    >>> combine(q, city)[["unit", "county_score", "external_score", "score", "rank"]]
      unit  county_score  external_score  score  rank
    0    B          70.0           100.0   82.0     1
    1    A          90.0            50.0   74.0     2
    """
    if not np.isclose(county_weight + external_weight, 1.0):
        raise ValueError(f"county_weight + external_weight must be 1, got "
                         f"{county_weight + external_weight:g}")
    q = county.assign(_year=_year_of(county["period"]))
    g = q.groupby(["unit", "_year"], sort=True)["score"]
    avg = pd.DataFrame({"county_score": g.mean(), "quarters": g.size()}).reset_index()
    avg = avg.rename(columns={"_year": "period"})
    ext = external.assign(period=_year_of(external["period"]))[["unit", "period", "score"]]
    ext = ext.rename(columns={"score": "external_score"})
    out = avg.merge(ext, on=["unit", "period"], how="outer")
    if year is not None:
        out = out[out["period"] == str(pr.parse(year).start_time.year)]
    out["score"] = county_weight * out["county_score"] + external_weight * out["external_score"]
    return rank_units(out)


def _year_of(periods: pd.Series) -> pd.Series:
    """The calendar year (as text) of each period, parsing each distinct label once."""
    labels = periods.astype(str)
    return labels.map({p: str(pr.start(p).year) for p in labels.unique()})


# --------------------------------------------------------------------------- uncertainty


def _draw_indicator(spec: ind.Indicator, sums: pd.DataFrame, rng: np.random.Generator,
                    draws: int) -> np.ndarray:
    """Values of one indicator for every unit in every draw, shape (draws, units).

    Numerators are redrawn from their sampling distributions with Jeffreys priors: a
    proportion p ~ Beta(x + 1/2, n - x + 1/2); a Poisson mean ~ Gamma(x + 1/2).
    """
    def col(names: Sequence[str]) -> np.ndarray:
        return sums[list(names)].to_numpy(dtype=float).sum(axis=1)

    size = (draws, len(sums))
    m = spec.multiplier
    with np.errstate(all="ignore"):
        if spec.kind in ("proportion", "sex_ratio"):
            x = col(spec.numerator)
            other = col(spec.denominator)
            rest = other - x if spec.kind == "proportion" else other
            p = rng.beta(np.maximum(x, 0) + 0.5, np.maximum(rest, 0) + 0.5, size)
            return p * m if spec.kind == "proportion" else 100 * p / (1 - p)
        if spec.kind in ("rate", "poisson_ratio"):
            x = col(spec.numerator)
            den = col([spec.exposure] if spec.exposure else spec.denominator)
            return rng.gamma(np.maximum(x, 0) + 0.5, 1.0, size) / den * m
        if spec.kind == "difference":
            b, d = col(spec.numerator), col(spec.subtract)
            py = col([spec.exposure])
            return (rng.gamma(b + 0.5, 1.0, size) - rng.gamma(d + 0.5, 1.0, size)) / py * m
        total = np.zeros(size)
        for a in ind.AGE_GROUPS:  # tfr
            b, w = col([f"births_age_{a}"]), col([f"women_{a}"])
            total += rng.gamma(b + 0.5, 1.0, size) / w
        return 5 * total


def rank_uncertainty(
    counts: pd.DataFrame,
    targets: pd.DataFrame,
    *,
    period: object,
    values: pd.DataFrame | None = None,
    units: pd.DataFrame | None = None,
    level: str | None = None,
    draws: int = 10_000,
    k: int = 3,
    seed: int = 20241,
) -> pd.DataFrame:
    """How certain is each unit's rank? Redraw, rescore and re-rank ``draws`` times.

    Every numerator is drawn from its sampling distribution (Beta for proportions and sex
    ratios, Gamma for Poisson counts, Jeffreys priors); supplied values with an interval
    are drawn from a normal distribution matching it (without one they are held fixed).
    Each draw is scored with the targets and the units are ranked (ties share the better
    rank). All draws are computed at once as (draws x units) arrays.

    Parameters
    ----------
    counts : pandas.DataFrame
        Monthly (or period) counts.
    targets : pandas.DataFrame
        From :func:`fpanalysis.io.load_targets`; only targets that apply to ``period``.
    period : period label
        The assessment period.
    values : pandas.DataFrame, optional
        Supplied values for indicators not computed from counts.
    units, level : optional
        To rank units of another level (as in :func:`fpanalysis.indicators.compute`).
    draws : int, default 10000
    k : int, default 3
        Size of the top and bottom tiers.
    seed : int, default 20241
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    pandas.DataFrame
        ``unit``, ``period``, ``score`` and ``rank`` (observed), ``median_rank``,
        ``rank_lower`` and ``rank_upper`` (2.5 % and 97.5 % quantiles of the simulated
        ranks), ``p_top`` and ``p_bottom`` (probability of being in the top / bottom k),
        ``draws`` and ``seed``; sorted by observed rank.
    """
    rng = np.random.default_rng(seed)
    p = pr.parse(period)
    label = str(p)
    applicable = targets[targets["periods"].map(lambda s: scope(p) in s)].reset_index(drop=True)
    computed = [t for t in applicable["indicator"] if t in set(ind.keys())]
    sums, specs = ind.group_sums(counts, sorted(set(computed)), by=["unit"], period=p,
                                 level=level, units=units)
    unit_codes = pd.Series(sums.index.astype(str))
    results = ind.compute(counts, sorted(set(computed)), period=p, level=level, units=units)
    observed = score(evaluate(results, applicable, values=values))
    observed = observed.set_index("unit").reindex(unit_codes)
    n_units = len(unit_codes)
    total = np.zeros((draws, n_units))
    by_key = {s.key: s for s in specs}
    for _, t in applicable.iterrows():
        if t["indicator"] in by_key:
            value = _draw_indicator(by_key[t["indicator"]], sums, rng, draws)
        else:
            sup = values[(values["indicator"] == t["indicator"])
                         & (values["period"].astype(str) == label)] if values is not None \
                else pd.DataFrame(columns=["unit", "value", "lower", "upper"])
            sup = sup.set_index("unit").reindex(unit_codes)
            mean = sup["value"].to_numpy(dtype=float)
            sd = ((sup["upper"] - sup["lower"]) / (2 * stats.norm.ppf(0.975))).to_numpy(float)
            sd = np.where(np.isnan(sd), 0.0, sd)
            value = mean + sd * rng.standard_normal((draws, n_units))
        threshold = _thresholds(t, unit_codes)
        with np.errstate(invalid="ignore"):
            met = value <= threshold if t["op"] == "<=" else value >= threshold
        total += _earned(t, value, met, threshold) * t["weight"]
    ranks = stats.rankdata(-total, axis=1, method="min")
    from_bottom = stats.rankdata(total, axis=1, method="min")
    out = pd.DataFrame({
        "unit": unit_codes, "period": label,
        "score": observed["score"].to_numpy(), "rank": observed["rank"].to_numpy(),
        "median_rank": np.median(ranks, axis=0),
        "rank_lower": np.quantile(ranks, 0.025, axis=0, method="lower"),
        "rank_upper": np.quantile(ranks, 0.975, axis=0, method="higher"),
        "p_top": (ranks <= k).mean(axis=0), "p_bottom": (from_bottom <= k).mean(axis=0),
        "draws": draws, "seed": seed,
    })
    return out.sort_values(["rank", "unit"], kind="stable").reset_index(drop=True)
