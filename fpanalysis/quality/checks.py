"""Every data-quality check at once: :func:`check_all` and its per-township :func:`scorecard`.

:func:`check_all` runs the checks of this package over one assessment period and returns one
tidy table of every flag raised, each with the figure and the threshold that raised it. The
windows are those a county statistician would read for the period. Each check, its window
and its grading:

* ``reporting_completeness``: each quarter of the year to date; the monthly reports present
  per unit of the units table (a unit that never reported is listed). Extreme below 90 %,
  moderate above it with a month missing.
* ``timeliness`` (where the counts have a ``received`` date): reports in by day 5 of the
  next month, graded as :func:`.timeliness` grades them.
* ``value_completeness``: every count column over the year to date, the share of cells
  present; extreme below 90 %.
* ``monthly_outlier``: the unit's own last twelve months to the period's end, births and
  deaths, flags in the year to date (WHO DQR): moderate at abs(z) >= 2, extreme at 3;
  modified z above 3.5 alone: moderate.
* ``funnel``: the year to date, sex ratio at birth, compliance and crude birth rate against
  the county, over-dispersion adjusted; moderate at most (below).
* ``consistency_over_time``: the latest complete year to the period's end over the mean of
  up to three previous years (at least two), relative to the county, outside 1 +- 0.33:
  moderate.
* ``source_agreement``: the year to date, register births over the second source (hospital
  deliveries), outside 1 +- 0.10 with the interval excluding 1: moderate; extreme when the
  whole interval lies outside the band.
* ``sex_ratio_plausibility``: the 36 months to the period's end (from the counts' first
  month if later), all births and each birth order, exact test against 105: moderate at
  p < 0.001, extreme when it survives a Bonferroni correction over the table.
* ``audit_false_rate``: the re-checks of the year to date whose lower exact limit of the
  false share exceeds the tolerance (0.05): moderate; extreme above twice the tolerance.

Funnel flags are never graded above moderate here: a unit outside the funnel differs from
the county, which real differences between townships explain as well as bad data; whether
it is the data is for the other checks (and the audits) to say. Every other grading is that
of the check itself.

A check that cannot run says why in ``flags.attrs["skipped"]`` (no audits given, no second
source, no earlier year); ``flags.attrs["checks"]`` lists each check run with its window. A
unit whose figures are missing for a window (it did not report) is not flagged by the
statistical checks for it; its gap is flagged by ``reporting_completeness``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import periods as pr
from .audits import audit_estimates
from .completeness import (
    completeness,
    completeness_flags,
    sex_ratio_plausibility,
    timeliness,
    value_completeness,
)
from .notes import note as _note
from .outliers import (
    _funnel_outliers,
    _funnel_results,
    funnel_flags,
    monthly_outliers,
    outlier_flags,
)
from .sources import compare_sources, source_flags
from .trends import consistency_flags, consistency_over_time

__all__ = ["CHECKS", "FLAG_COLUMNS", "FUNNEL_INDICATORS", "check_all", "scorecard", "windows"]

#: The columns of the flag table.
FLAG_COLUMNS = ("unit", "period", "check", "indicator", "figure", "threshold", "severity",
                "note")
#: The checks of :func:`check_all`, in the order of the scorecard.
CHECKS = ("reporting_completeness", "timeliness", "value_completeness", "monthly_outlier",
          "funnel", "consistency_over_time", "source_agreement", "sex_ratio_plausibility",
          "audit_false_rate")
#: Indicators whose funnel outliers :func:`check_all` lists.
FUNNEL_INDICATORS = ("sex_ratio_at_birth", "compliance_rate", "crude_birth_rate")
_SEVERITY_ORDER = {"extreme": 0, "moderate": 1}


def _flags(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    if "note" not in out.columns:
        out["note"] = ""
    return out[list(FLAG_COLUMNS)]


def _monthly(counts: pd.DataFrame) -> None:
    if not isinstance(counts, pd.DataFrame):
        raise TypeError(f"counts must be a pandas DataFrame, got {type(counts).__name__}")
    for c in ("unit", "period"):
        if c not in counts.columns:
            raise ValueError(f"the counts have no column {c!r}")
    if not isinstance(counts["period"].dtype, pd.PeriodDtype) \
            or str(counts["period"].dtype) != "period[M]":
        raise ValueError("check_all needs monthly counts (a period[M] column, as load_counts "
                         "returns for a monthly file)")
    if not len(counts):
        raise ValueError("the counts have no rows: there is nothing to check")


def _period(period: object) -> tuple[object, pd.Period, pd.PeriodIndex]:
    """The period, its last month and the months of its year to date."""
    if period is None:
        raise ValueError("check_all needs period=, the assessment period checked "
                         "(e.g. '2024Q4' or '2024')")
    p = pr.parse(period)
    if pr.kind(p) == "dekad":
        raise ValueError(f"check_all works on months; {period!r} is a dekad: give the month, "
                         "quarter or year it falls in")
    last = pr.months(p)[-1]
    ytd = pd.period_range(pd.Period(f"{last.year}-01", freq="M"), last, freq="M")
    return p, last, ytd


def windows(counts: pd.DataFrame, period: object, *, srb_months: int = 36) -> dict[str, object]:
    """The windows :func:`check_all` reads for ``period``, so that a notebook can show the
    same figures: ``ytd`` (the year to date), ``quarters`` (each quarter of it, cut at the
    period's end), ``outliers`` (the last twelve months), ``srb`` (the sex-ratio window),
    ``year`` (the latest complete year to the period's end, for consistency over time,
    ``None`` when the counts have fewer than two earlier years) and ``last`` (the last
    month). Labels are text such as ``'2024-01/2024-09'``.

    Examples
    --------
    >>> c = pd.DataFrame({"unit": "A", "period": pd.period_range("2021-01", "2024-12",
    ...                                                          freq="M")})
    >>> w = windows(c, "2024Q3")
    >>> w["ytd"], w["outliers"], w["srb"], w["year"]
    ('2024-01/2024-09', '2023-10/2024-09', '2021-10/2024-09', 2023)
    """
    _monthly(counts)
    if isinstance(srb_months, bool) or not isinstance(srb_months, int) or srb_months < 1:
        raise ValueError(f"srb_months must be a whole number of months >= 1, got {srb_months!r}")
    p, last, ytd = _period(period)
    months = pd.PeriodIndex(counts["period"])
    if not (months >= last).any():
        raise ValueError(f"the counts end at {months.max()}, before the end of period {p} "
                         f"({last}): nothing to check for it")
    first = months.min()
    if last < first:
        raise ValueError(f"the counts start at {first}, after the end of period {p} ({last}): "
                         "nothing to check for it")
    quarters = [pd.period_range(max(q.asfreq("M", "s"), ytd[0]), min(q.asfreq("M", "e"), last),
                                freq="M") for q in pd.unique(ytd.asfreq("Q"))]
    year = last.year if last.month == 12 else last.year - 1
    return {"period": str(p), "last": last, "ytd": _span(ytd[0], ytd[-1]),
            "quarters": [_span(q[0], q[-1]) for q in quarters],
            "outliers": _span(max(last - 11, first), last),
            "srb": _span(max(last - (srb_months - 1), first), last),
            "year": year if year - first.year >= 2 else None, "first": first}


def _unassessed(result: pd.DataFrame, missing: object, check: str, period: str,
                what: str = "note") -> pd.DataFrame:
    """Units a check could not judge (its figure is missing), with the check's own note."""
    rows = result[np.asarray(missing, dtype=bool)].drop_duplicates("unit")
    note = rows[what].astype(str).to_numpy() if what in rows.columns else ""
    return pd.DataFrame({"unit": rows["unit"].astype(object).to_numpy(), "check": check,
                         "period": period, "note": note})


def _no_year(w: dict[str, object]) -> str:
    """Why consistency over time cannot run for the period of windows ``w``."""
    last, first = w["last"], w["first"]
    latest = last.year if last.month == 12 else last.year - 1
    head = (f"consistency_over_time: not run for {w['period']}: it compares the latest "
            f"complete year to the period's end ({last}) with the mean of at least two "
            "earlier complete years")
    if latest < first.year:
        return f"{head}, and the counts (from {first}) hold no complete year before {last}"
    return (f"{head}; that year is {latest}, and the counts start in {first}, so "
            f"{latest} has fewer than two earlier complete years")


def _span(first: pd.Period, last: pd.Period) -> str:
    return f"{first}/{last}" if first != last else str(first)


def check_all(counts: pd.DataFrame, *, audits: pd.DataFrame | None = None,
              units: pd.DataFrame | None = None, period: object = None,
              hospital: pd.DataFrame | None = None, level: str | None = None,
              tolerance: float = 0.05, source_tolerance: float = 0.10,
              consistency_tolerance: float = 0.33, completeness_threshold: float = 0.90,
              srb_months: int = 36) -> pd.DataFrame:
    """Run every data-quality check for one assessment period and list every flag raised.

    Parameters
    ----------
    counts : pandas.DataFrame
        Monthly counts (:func:`fpanalysis.io.load_counts`), with the earlier years the
        outlier, consistency and sex-ratio checks read.
    audits : pandas.DataFrame, optional
        Audit re-checks (:func:`fpanalysis.io.load_audits`); without them the audit check is
        skipped (and says so).
    units : pandas.DataFrame, optional
        The units table. With it, a unit that never reported is listed by the completeness
        check; without it only the units found in the counts can be checked (said in
        ``attrs["skipped"]``).
    period : period label
        The assessment period, e.g. ``'2024Q4'``, ``'2024-06'`` or ``'2024'``.
    hospital : pandas.DataFrame, optional
        A second source of births (:func:`fpanalysis.io.load_births_hospital`).
    level : str, optional
        Level of the units that must report (default: the levels found in the counts).
    tolerance : float
        Audit false share tolerated (the lower limit of the exact interval is compared).
    source_tolerance, consistency_tolerance, completeness_threshold : float
        The bands of the source, consistency and completeness checks.
    srb_months : int
        Length of the window of the sex-ratio plausibility test, in months.

    Returns
    -------
    pandas.DataFrame
        ``unit``, ``period`` (the window the figure belongs to), ``check``, ``indicator``,
        ``figure``, ``threshold``, ``severity`` (``extreme`` or ``moderate``), ``note``:
        extreme flags first, then by unit. ``attrs["checks"]`` maps each check run to its
        window; ``attrs["skipped"]`` lists the checks that could not run and why;
        ``attrs["unassessed"]`` (``unit``, ``check``, ``period``, ``note``) the units a
        check could not judge (e.g. a year with a month missing), which are not "passed".

    See the module docstring for each check's window and grading.
    """
    w = windows(counts, period, srb_months=srb_months)
    last, ytd_label = w["last"], w["ytd"]
    counts = counts[counts["period"] <= last]  # nothing after the period is known at it
    skipped: list[str] = []
    ran: dict[str, str] = {}
    given = units
    code = counts["unit"].astype("string").str.strip()
    if units is None:
        skipped.append("units not given: a unit that never reported cannot be listed; "
                       "only the units of the counts are checked")
        names = pd.unique(code)
        units = pd.DataFrame({"unit": names, "name": names, "parent": pd.NA,
                              "level": level or "unit"})
    known = units["unit"].astype("string").str.strip()
    levels = [level] if level is not None else sorted(
        set(units.loc[known.isin(set(code)).to_numpy(), "level"].astype(str)))
    universe = sorted(set(known[units["level"].astype(str).isin(levels).to_numpy()]))
    if not universe:
        raise ValueError("no unit of the counts is in the units table"
                         + (f" at level {level!r}" if level else ""))
    for frame, what in ((hospital, "hospital births"),):
        if frame is not None and str(frame["period"].dtype) != "period[M]":
            raise ValueError(f"check_all needs monthly {what} (a period[M] column, as "
                             f"load_births_hospital returns for a monthly file); got "
                             f"{frame['period'].dtype}")
    parts: list[pd.DataFrame] = [pd.DataFrame(columns=list(FLAG_COLUMNS))]
    unjudged: list[pd.DataFrame] = [pd.DataFrame(columns=["unit", "check", "period", "note"])]
    judged: dict[str, set[str]] = {}

    def seen(check: str, units_with_figure: object) -> None:
        judged[check] = set(pd.Series(units_with_figure, dtype="string").str.strip())

    # reporting: every quarter of the year to date, and the month cells of the year to date
    for window in w["quarters"]:
        parts.append(_flags(completeness_flags(completeness=completeness(
            counts, units, period=window, threshold=completeness_threshold, level=level))))
    ran["reporting_completeness"] = ", ".join(w["quarters"])
    seen("reporting_completeness", universe)  # it lists every unit, reported or not
    ytd = pr.months(pr.parse(ytd_label))
    in_ytd = counts[counts["period"].between(ytd[0], ytd[-1])]
    if len(in_ytd):
        vc = value_completeness(in_ytd, threshold=completeness_threshold, units=given,
                                level=level if given is not None else None)
        parts.append(_flags(completeness_flags(values=vc.assign(period=ytd_label))))
        seen("value_completeness", vc.loc[vc["cells"] > 0, "unit"])
        ran["value_completeness"] = ytd_label
    if "received" in counts.columns:
        t = timeliness(counts, period=ytd_label, threshold=completeness_threshold, units=given)
        parts.append(_flags(completeness_flags(timeliness=t)))
        seen("timeliness", t.loc[t["timeliness"].notna(), "unit"])
        ran["timeliness"] = ytd_label
    else:
        skipped.append("timeliness: the counts have no 'received' date column")

    # outliers against the unit's own last twelve months; flags in the year to date
    year_window = w["outliers"]
    o = monthly_outliers(counts, columns=["births", "deaths"], period=year_window,
                         units=given, within="period")
    none = o["z"].isna().groupby([o["unit"], o["indicator"]]).transform("all")
    unjudged.append(_unassessed(o, none, "monthly_outlier", year_window))
    seen("monthly_outlier", o.loc[~none.to_numpy(dtype=bool), "unit"])
    of = outlier_flags(o)
    of = of[pd.PeriodIndex(of["period"], freq="M") >= ytd[0]] if len(of) else of
    if len(of):
        o_key = o.assign(period=o["period"].astype(str))
        o_key = o_key.set_index(["unit", "indicator", "period"])
        ctx = o_key.loc[pd.MultiIndex.from_arrays(
            [of["unit"], of["indicator"], of["period"].astype(str)])]
        of = of.assign(note=[
            _note("outlier", value=f"{v:g}", mean=f"{m:.1f}", sd=f"{sd:.1f}", median=f"{md:g}",
                  used=f"{n}") for v, m, sd, md, n in
            zip(ctx["value"], ctx["mean"], ctx["sd"], ctx["median"], ctx["months_used"],
                strict=True)])
    parts.append(_flags(of))
    ran["monthly_outlier"] = f"{year_window} (flags from {ytd[0]})"

    # funnel against the county, over-dispersion adjusted, graded moderate at most
    valued: set[str] | None = None
    computed = _funnel_results(counts, FUNNEL_INDICATORS, period=ytd_label, units=given)
    for key in FUNNEL_INDICATORS:
        fo = _funnel_outliers(counts, key, period=ytd_label, adjust=True, units=given,
                              confidence=(0.95, 0.998), trim=0.1, results=computed)
        unjudged.append(_unassessed(fo, fo["value"].isna(), "funnel", ytd_label))
        mine = set(fo.loc[fo["value"].notna(), "unit"].astype(str))
        valued = mine if valued is None else valued & mine
        f = funnel_flags(fo)
        hit = fo[fo["severity"].notna()]
        f = f.assign(severity="moderate", note=[
            _note("funnel", value=f"{v:.4g}", county=f"{c:.4g}", lower=f"{lo:.4g}",
                  upper=f"{hi:.4g}") for v, c, lo, hi in
            zip(hit["value"], hit["county_value"], hit["lower_0.998"], hit["upper_0.998"],
                strict=True)])
        parts.append(_flags(f))
    seen("funnel", sorted(valued or ()))
    ran["funnel"] = ytd_label

    # consistency over time: the latest complete year to the period's end
    year = w["year"]
    if year is not None:
        c = consistency_over_time(counts, year=year, indicators=["crude_birth_rate",
                                                                   "sex_ratio_at_birth"],
                                  min_previous=2, tolerance=consistency_tolerance, units=given)
        parts.append(_flags(consistency_flags(c)))
        unjudged.append(_unassessed(c, c["relative"].isna(), "consistency_over_time",
                                    str(year)))
        seen("consistency_over_time", c.loc[c["relative"].notna(), "unit"])
        ran["consistency_over_time"] = str(year)
    else:
        skipped.append(_no_year(w))

    # a second source
    if hospital is not None:
        s = compare_sources(counts, hospital, period=ytd_label, tolerance=source_tolerance,
                            units=given)
        parts.append(_flags(source_flags(s)))
        unjudged.append(_unassessed(s, s["ratio"].isna(), "source_agreement", ytd_label))
        seen("source_agreement", s.loc[s["ratio"].notna(), "unit"])
        ran["source_agreement"] = ytd_label
    else:
        skipped.append("source_agreement: no second source of births given (hospital=)")

    # sex ratio at birth against the biological reference, over several years
    srb_window = w["srb"]
    sr = sex_ratio_plausibility(counts, period=srb_window, units=given)
    overall = (sr["order"] == "all").to_numpy()
    unjudged.append(_unassessed(sr, overall & sr["p_value"].isna().to_numpy(),
                                "sex_ratio_plausibility", srb_window))
    seen("sex_ratio_plausibility", sr.loc[overall & sr["p_value"].notna().to_numpy(), "unit"])
    parts.append(_flags(completeness_flags(sex_ratio=sr)))
    ran["sex_ratio_plausibility"] = srb_window

    # audits of the year to date
    if audits is not None:
        if given is not None and len(audits):
            stray = sorted(set(audits["unit"].astype("string").str.strip()) - set(known))
            if stray:
                raise ValueError(f"the audits name unit(s) not in the units table: "
                                 f"{', '.join(stray[:10])}")
        est = audit_estimates(audits, tolerance=tolerance) if len(audits) else None
        if est is not None:
            spans = {x: pr.months(pr.parse(x)) for x in pd.unique(est["period"].astype(str))}
            inside = est["period"].astype(str).map(
                {x: bool(m[0] >= ytd[0] and m[-1] <= ytd[-1]) for x, m in spans.items()})
            est = est[inside.to_numpy(dtype=bool)]
        if est is not None and len(est):
            hit = est[est["flag"].fillna(False).to_numpy(dtype=bool)]
            parts.append(_flags(pd.DataFrame({
                "unit": hit["unit"].astype(object).to_numpy(),
                "period": hit["period"].astype(str).to_numpy(),
                "check": "audit_false_rate",
                "indicator": hit["item"].astype(str).to_numpy(),
                "figure": hit["lower"].to_numpy(dtype=float),
                "threshold": hit["tolerance"].to_numpy(dtype=float),
                "severity": np.where(hit["lower"].to_numpy(dtype=float) > 2 * tolerance,
                                     "extreme", "moderate"),
                "note": [_note("audit", false=f"{f:.0f}", checked=f"{c:.0f}", share=f"{r:.1%}",
                               lower=f"{lo:.1%}", upper=f"{hi:.1%}") for f, c, r, lo, hi in
                         zip(hit["false_found"], hit["checked"], hit["false_rate"],
                             hit["lower"], hit["upper"], strict=True)],
            })))
            mine = est[~est["pooled"].to_numpy(dtype=bool)]
            seen("audit_false_rate", mine.loc[mine["checked"] > 0, "unit"])
            ran["audit_false_rate"] = ytd_label
        else:
            skipped.append(f"audit_false_rate: no re-check lies within {ytd_label}")
    else:
        skipped.append("audit_false_rate: no audits given (audits=)")

    # a unit of the universe that a check did not judge is not assessed by it, never passed
    gaps = pd.concat([x for x in unjudged if len(x)] or unjudged[:1], ignore_index=True)
    grid = pd.MultiIndex.from_product([universe, list(ran)], names=["unit", "check"])
    have = pd.MultiIndex.from_tuples(
        [(u, c) for c, us in judged.items() for u in us], names=["unit", "check"])
    noted = pd.MultiIndex.from_arrays([gaps["unit"].astype(str), gaps["check"].astype(str)])
    lack = grid.difference(have).difference(noted).to_frame(index=False)
    window = lack["check"].map({c: x.split(" ")[0] for c, x in ran.items()})
    why = np.where(lack["check"] == "audit_false_rate", "not audited (no case re-checked) in ",
                   "no figure (no counts) in ")
    gaps = pd.concat([gaps, pd.DataFrame({"unit": lack["unit"], "check": lack["check"],
                                          "period": window, "note": why + window})],
                     ignore_index=True)

    out = pd.concat([x for x in parts if len(x)] or parts[:1], ignore_index=True)
    out["unit"] = out["unit"].astype(object)
    order = out["severity"].map(_SEVERITY_ORDER).fillna(2)
    out = out.assign(_o=order).sort_values(["_o", "unit", "check", "period", "indicator"],
                                           kind="stable").drop(columns="_o")
    out = out.reset_index(drop=True)
    out.attrs["checks"] = ran
    out.attrs["skipped"] = skipped
    out.attrs["unassessed"] = gaps.drop_duplicates(["unit", "check", "period"]).reset_index(
        drop=True)
    out.attrs["universe"] = universe
    out.attrs["levels"] = levels
    out.attrs["rows"] = len(out)
    out.attrs["period"] = w["period"]
    return out


def scorecard(flags: pd.DataFrame, units: pd.DataFrame, *, level: str = "township",
              language: str = "zh") -> pd.DataFrame:
    """One row per unit of ``level``, one column per check run: ``✓`` where the check raised
    nothing, ``—`` where it could not judge the unit (``attrs["unassessed"]`` of the flags
    says why), else the worst severity with the figure that raised it (``✗`` extreme, ``!``
    moderate; the number of flags in brackets when several).

    Parameters
    ----------
    flags : pandas.DataFrame
        A :func:`check_all` result (its ``attrs["checks"]`` says which checks ran).
    units : pandas.DataFrame
        The units table; every unit of ``level`` gets a row, flagged or not.
    level : str
        Level of the units listed.
    language : str
        ``'zh'`` or ``'en'`` for the unit name column.
    """
    if not isinstance(flags, pd.DataFrame) or "check" not in flags.columns:
        raise ValueError("flags must be a check_all result")
    if language not in ("zh", "en"):
        raise ValueError(f"language must be 'zh' or 'en', got {language!r}")
    need = ("checks", "unassessed", "universe", "rows", "levels")
    if any(k not in flags.attrs for k in need) or flags.attrs["rows"] != len(flags):
        raise ValueError("flags must be one whole check_all result: pd.concat drops what it "
                         "knows of the checks run and the units not assessed, and a subset "
                         "(e.g. one severity) would show the units it left out as passed")
    if level not in flags.attrs["levels"]:
        raise ValueError(f"the checks looked at units of level "
                         f"{', '.join(flags.attrs['levels'])}, not {level!r}")
    checks = [c for c in CHECKS if c in flags.attrs["checks"]]
    mine = units[units["level"].astype(str) == level]
    if not len(mine):
        raise ValueError(f"the units table has no unit of level {level!r}")
    known = set(mine["unit"].astype(str))
    f = flags[flags["unit"].astype(str).isin(known)].copy()
    f["_o"] = f["severity"].map(_SEVERITY_ORDER).fillna(2)
    # the worst figure of a unit and check: furthest from its threshold, on a log scale (a
    # p-value far below alpha, a z far above 2, a share far below 90 %)
    fig, thr = f["figure"].abs().to_numpy(float), f["threshold"].abs().to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        f["_d"] = -np.abs(np.log(np.where(thr > 0, fig / thr, np.nan)))
    f = f.sort_values(["_o", "_d"], kind="stable", na_position="last")
    n = f.groupby(["unit", "check"]).size()
    worst = f.drop_duplicates(["unit", "check"]).set_index(["unit", "check"])
    mark = np.where(worst["severity"] == "extreme", "✗", "!")
    text = pd.Series([f"{m} {fig:.3g}" for m, fig in zip(mark, worst["figure"], strict=True)],
                     index=worst.index, dtype=object)
    several = (n.loc[text.index] > 1).to_numpy()
    text[several] = text[several] + " (" + n.loc[text.index][several].astype(str) + ")"
    table = text.unstack("check") if len(text) else pd.DataFrame(
        index=pd.Index([], name="unit"), columns=checks)
    table = table.reindex(index=mine["unit"].astype(str), columns=checks).astype(object)
    gaps = flags.attrs.get("unassessed")
    if isinstance(gaps, pd.DataFrame) and len(gaps):
        g = gaps.drop_duplicates(["unit", "check"])
        g = g[g["unit"].astype(str).isin(table.index) & g["check"].isin(checks)]
        for check, part in g.groupby("check"):
            blank = table.loc[part["unit"].astype(str), check].isna()
            table.loc[blank[blank].index, check] = "—"
    table = table.where(table.notna(), "✓")
    table.insert(0, "名称" if language == "zh" else "name",
                 mine.set_index(mine["unit"].astype(str))["name"].reindex(table.index))
    table.index.name = "unit"
    table.columns.name = None
    return table
