"""Target attainment, assessment scores, league tables with rank uncertainty, tiers, bands
and streaks.

The steps chain on tidy frames and one :class:`~fpanalysis.scheme.Scheme`::

    scheme = load_targets(data_dir, units=units)        # fpanalysis.scheme
    ev = evaluate(results, scheme, values=supplied, units=units,  # unit x period x target
                  audits=audits)                         # with [[audit]] tables
    sc = score(ev)                                       # unit x period: points, ranks
    sc = tiers(sc, k=scheme.tier_size)                   # top / bottom k
    sc = streaks(sc)                                     # periods running in the bottom tier
    ru = rank_uncertainty(counts, scheme, period=p)      # how sure is each rank?
    ye = combine(sc_quarters, city_scores, scheme)       # 0.6 county + 0.4 city, year end

The scheme's own rules: a veto target (``scoring = "veto"``) earns nothing and puts a unit
that fails it after every other unit of the period (:func:`score`); a milestone target
(``against = "annual_plan"``) compares the share of the annual plan done to date
(:func:`done_to_date`) with the share due by the schedule; a compare target is met on the
change against a baseline period, with a MOVER interval; ``when_empty`` says what a zero
denominator means; an ``[[audit]]`` table deducts points per false case found in re-checks,
may veto, and may correct the figures it verifies before they are scored (:func:`evaluate`
with ``audits=``).

Values are compared unrounded: a sex ratio of 130.4 does not meet "<= 130" although it
displays as 130. Every unit is assessed in every period: a unit without data for a target
is reported as ``no_data``, earns no points and, when its counts were not reported, is
flagged ``not_reported``; so no unit can gain points or rank by not reporting.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from . import indicators as ind
from . import intervals as iv
from . import periods as pr
from . import ranks as rk
from .schema import suggestion
from .scheme import Audit, Scheme, Target, correctable, scopes

__all__ = [
    "VERDICTS",
    "assess",
    "bands",
    "classify",
    "combine",
    "done_to_date",
    "evaluate",
    "rank_uncertainty",
    "rank_units",
    "score",
    "scopes",
    "streaks",
    "tier_counts",
    "tiers",
]

VERDICTS = ("clearly_met", "indeterminate", "clearly_not_met", "no_data", "not_due")
_PREFER = ("computed", "supplied")
_KEY = ["unit", "period", "indicator"]


def _check_scheme(scheme: object) -> Scheme:
    if not isinstance(scheme, Scheme):
        raise ValueError(f"scheme must be a Scheme (from fpanalysis.scheme.load_targets), "
                         f"got {type(scheme).__name__}")
    return scheme


def _labels(values: pd.Series) -> pd.Series:
    """Canonical period labels, each distinct label parsed once ('2024年第3季度' -> '2024Q3')."""
    text = values.astype(str)
    return text.map({p: str(pr.parse(p)) for p in text.unique()})


def _numbers(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[column]).astype(float).to_numpy()


def _observations(results: pd.DataFrame, values: pd.DataFrame | None,
                  prefer: str | None) -> pd.DataFrame:
    """Computed and supplied values in one frame with their ``source``; a value that is both
    computed and supplied is kept from the source ``prefer`` names, or refused."""
    parts = []
    for source, frame in (("computed", results), ("supplied", values)):
        if frame is None:
            continue
        missing = [c for c in _KEY + ["value"] if c not in frame.columns]
        if missing:
            raise ValueError(f"the {source} values have no column(s) {', '.join(missing)}")
        note = frame["note"].astype("string").fillna("").to_numpy(dtype=object) \
            if "note" in frame.columns else np.full(len(frame), "", dtype=object)
        part = pd.DataFrame({"unit": frame["unit"].astype(str).str.strip().to_numpy(),
                             "period": _labels(frame["period"]).to_numpy(),
                             "indicator": frame["indicator"].astype(str).to_numpy(),
                             "value": _numbers(frame, "value"),
                             "lower": _numbers(frame, "lower"),
                             "upper": _numbers(frame, "upper"),
                             "numerator": _numbers(frame, "numerator"),
                             "denominator": _numbers(frame, "denominator"),
                             "note": note, "source": source})
        dup = part.duplicated(_KEY, keep=False).to_numpy()
        if dup.any():
            u, p, i = part.loc[dup, _KEY].iloc[0]
            raise ValueError(f"the {source} values hold {int(dup.sum())} rows that share a unit, "
                             f"period and indicator (e.g. {u}, {p}, {i}); each may appear once")
        parts.append(part)
    data = pd.concat(parts, ignore_index=True)
    both = data.duplicated(_KEY, keep=False).to_numpy()
    if both.any():
        if prefer is None:
            first = data[both].sort_values(_KEY + ["source"], kind="stable").iloc[:2]
            u, p, i = first[_KEY].iloc[0]
            c, s = first["value"].iloc[0], first["value"].iloc[1]
            raise ValueError(
                f"{int(both.sum()) // 2} value(s) are both computed from counts and supplied "
                f"(e.g. {i} of unit {u} in {p}: computed {c:g}, supplied {s:g}); pass "
                "prefer='computed' or prefer='supplied'")
        data = data[~both | (data["source"] == prefer).to_numpy()]
    return data.reset_index(drop=True)


def _assessed(results: pd.DataFrame, units: pd.DataFrame | None) -> pd.DataFrame:
    """The (unit, period) pairs to assess, with ``_rows``: whether the results have any row
    for the pair. With ``units``: every unit of the results' level(s) in every period."""
    pairs = pd.DataFrame({"unit": results["unit"].astype(str).str.strip().to_numpy(),
                          "period": _labels(results["period"]).to_numpy()}).drop_duplicates()
    pairs["_rows"] = True
    if units is None:
        return pairs.reset_index(drop=True)
    codes = units["unit"].astype(str).str.strip()
    level = pd.Series(units["level"].astype(str).to_numpy(), index=codes.to_numpy())
    unknown = sorted(set(pairs["unit"]) - set(codes))
    if unknown:
        raise ValueError(f"the results hold unit(s) that are not in the units table: "
                         f"{', '.join(unknown[:10])}")
    levels = set(level.reindex(pairs["unit"].unique()))
    everyone = codes[level.reindex(codes).isin(levels).to_numpy()].to_numpy()
    grid = pd.MultiIndex.from_product([everyone, pairs["period"].unique()],
                                      names=["unit", "period"]).to_frame(index=False)
    out = grid.merge(pairs, on=["unit", "period"], how="left")
    out["_rows"] = out["_rows"].fillna(False).astype(bool)
    return out




def _check_target_data(t: Target, periods: Sequence[str], rows: pd.DataFrame,
                       indicators: set[str], codes: set[str], units_given: bool) -> None:
    """Refuse a target that would give every unit ``no_data`` in silence, or that names
    per-unit thresholds for units that are not there."""
    if rows.empty and t.is_milestone:
        raise ValueError(f"{t.name}: no done to date under the milestone's key "
                         f"{t.indicator!r} in the results or the supplied values (assess() "
                         "computes it from the counts, see done_to_date())")
    if rows.empty:
        raise ValueError(f"{t.name}: indicator {t.indicator!r} is in neither the results nor "
                         f"the supplied values{suggestion(t.indicator, indicators)}")
    absent = sorted(set(periods) - set(rows["period"]))
    if absent:
        raise ValueError(f"{t.name}: no value of {t.indicator} for period(s) "
                         f"{', '.join(absent)} in the results or the supplied values")
    stray = sorted(set(t.unit_thresholds) - codes)
    if stray:
        where = "in the units table" if units_given else \
            "among the results' units (pass units= to check codes against the units table)"
        raise ValueError(f"{t.name}: per-unit threshold for {', '.join(stray)}, which is not "
                         f"a unit {where}")


def _verdicts(t: Target, value: np.ndarray, lower: np.ndarray, upper: np.ndarray,
              threshold: np.ndarray) -> np.ndarray:
    """``clearly_met`` when the whole interval meets the target, ``clearly_not_met`` when
    none of it does, else ``indeterminate``; ``no_data`` without a value. A value without an
    interval is taken as exact."""
    lo = np.where(np.isnan(lower), value, lower)
    hi = np.where(np.isnan(upper), value, upper)
    with np.errstate(invalid="ignore"):
        if t.op == "<=":
            sure, fail = hi <= threshold, lo > threshold
        else:
            sure, fail = lo >= threshold, hi < threshold
    out = np.full(len(value), "indeterminate", dtype=object)
    out[sure] = "clearly_met"
    out[fail] = "clearly_not_met"
    out[np.isnan(value)] = "no_data"
    return out


_EVALUATED = ["unit", "period", "target", "indicator", "label", "value", "lower", "upper",
              "op", "threshold", "met", "verdict", "points", "weight", "earned", "weighted",
              "source", "note", "not_reported", "scoring", "empty", "done", "plan", "share",
              "due", "elapsed", "baseline", "baseline_period", "change", "change_lower",
              "change_upper"]


def _per_period(periods: pd.Series, f) -> pd.Series:
    """``f`` of each distinct period label, spread over the rows (a few labels)."""
    return periods.map({p: f(p) for p in periods.unique()})


def _milestone(t: Target, part: pd.DataFrame) -> dict[str, np.ndarray]:
    """Done to date (the value given for the target's key), the unit's annual plan for the
    period's year, the share of the plan done, the share due and the share of the year
    elapsed at the period's end."""
    done = part["value"].to_numpy(dtype=float)
    year = _per_period(part["period"], lambda p: pr.end(p).year).to_numpy(dtype=int)
    plan = pd.Series(list(zip(part["unit"], year, strict=True)), dtype=object) \
        .map(dict(t.plan)).to_numpy(dtype=float)
    planned = {y for _, y in t.plan}
    unplanned = sorted(set(year.tolist()) - planned)
    if unplanned and len(part):  # a plan file for other years: not the units' fault
        raise ValueError(f"{t.name}: the annual plan has no year {', '.join(map(str, unplanned))}"
                         f" (it holds {', '.join(map(str, sorted(planned))) or 'no year'})")
    dues = _per_period(part["period"], t.due)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = 100.0 * done / plan
    return {"done": done, "plan": plan, "share": share,
            "due": np.array([d for d, _ in dues], dtype=float),
            "elapsed": np.array([e for _, e in dues], dtype=float), "year": year}


def _change(t: Target, part: pd.DataFrame, base: pd.DataFrame) -> dict[str, np.ndarray]:
    """The baseline period's value and the change with its MOVER interval (Newcombe 1998,
    Zou & Donner 2008): L = d - sqrt((v1 - l1)^2 + (u0 - v0)^2), U = d + sqrt((u1 - v1)^2 +
    (v0 - l0)^2), 1 = the period, 0 = the baseline; a value without an interval is exact."""
    bp = _per_period(part["period"], t.baseline_period)
    b = base[base["indicator"] == t.indicator].rename(columns={
        "period": "_bp", "value": "_v0", "lower": "_l0", "upper": "_u0"})
    got = pd.DataFrame({"unit": part["unit"].to_numpy(), "_bp": bp.to_numpy()}).merge(
        b[["unit", "_bp", "_v0", "_l0", "_u0"]], on=["unit", "_bp"], how="left")
    v1 = part["value"].to_numpy(dtype=float)
    l1 = np.where(np.isnan(part["lower"].to_numpy(float)), v1, part["lower"].to_numpy(float))
    u1 = np.where(np.isnan(part["upper"].to_numpy(float)), v1, part["upper"].to_numpy(float))
    v0 = got["_v0"].to_numpy(dtype=float)
    l0 = np.where(np.isnan(got["_l0"].to_numpy(float)), v0, got["_l0"].to_numpy(float))
    u0 = np.where(np.isnan(got["_u0"].to_numpy(float)), v0, got["_u0"].to_numpy(float))
    d = v1 - v0
    with np.errstate(invalid="ignore"):
        lower = d - np.sqrt((v1 - l1) ** 2 + (u0 - v0) ** 2)
        upper = d + np.sqrt((u1 - v1) ** 2 + (v0 - l0) ** 2)
    # a sex ratio with boys but no girls is infinite with an open upper end: MOVER has no
    # meaning there, but plain interval arithmetic still bounds the change honestly
    open_end = np.isinf(v1) | np.isinf(v0)
    lower = np.where(open_end, l1 - u0, lower)
    upper = np.where(open_end, u1 - l0, upper)
    return {"baseline": v0, "baseline_period": bp.to_numpy(dtype=object), "change": d,
            "change_lower": lower, "change_upper": upper}


def evaluate(results: pd.DataFrame, scheme: Scheme, *, values: pd.DataFrame | None = None,
             units: pd.DataFrame | None = None, prefer: str | None = None,
             baseline: pd.DataFrame | None = None,
             audits: pd.DataFrame | None = None) -> pd.DataFrame:
    """Check every unit and period against every target of the scheme that applies to it.

    Parameters
    ----------
    results : pandas.DataFrame
        Indicator results (:func:`fpanalysis.indicators.compute`): ``unit``, ``period``,
        ``indicator``, ``value`` and optionally ``lower``, ``upper``, ``numerator``,
        ``denominator``, ``note``. Their periods are the periods assessed; a ``note``
        starting with "not reported" marks a unit whose counts are missing (fully or
        partly) for the period. For a milestone target the rows of its key give the
        cumulative done from January to the period's end as ``value``
        (:func:`done_to_date`; or supplied in ``values``).
    scheme : Scheme
        From :func:`fpanalysis.scheme.load_targets`.
    values : pandas.DataFrame, optional
        Supplied values (:func:`fpanalysis.io.load_values`) for indicators not computed from
        counts; same columns. They are looked up for the assessed units and periods.
    units : pandas.DataFrame, optional
        The units table. Every unit of the level(s) the results hold is then assessed in
        every period of the results, also a unit without any result row (its values are
        missing and it is flagged ``not_reported``); per-unit threshold codes are checked
        against it.
    prefer : {'computed', 'supplied'}, optional
        Which value wins where an indicator of a unit and period is both in ``results`` and
        in ``values``. Without it such a clash is an error.
    baseline : pandas.DataFrame, optional
        Results of the baseline periods of ``compare`` targets (same columns as
        ``results``), used only as baselines, never assessed. Baselines are also looked up
        in ``results`` and ``values``.
    audits : pandas.DataFrame, optional
        Audit re-checks (:func:`fpanalysis.io.load_audits`), required when the scheme has
        ``[[audit]]`` tables (and refused when it has none). Each audit adds one row per
        assessed unit and period (see Returns) and, with ``adjust``, corrects the computed
        figures whose numerator counts the audited column before they are evaluated.

    Returns
    -------
    pandas.DataFrame
        One row per unit, period and applicable target: ``unit``, ``period`` (label),
        ``target`` (number), ``indicator``, ``label``, ``value``, ``lower``, ``upper``,
        ``op``, ``threshold`` (the unit's own where overridden), ``met`` (nullable boolean,
        on the unrounded value; ``<NA>`` without data), ``verdict`` (``clearly_met`` when the
        whole interval meets the target, ``clearly_not_met`` when none of it does, else
        ``indeterminate``; ``no_data``; ``not_due``; a value supplied without an interval is
        taken as exact), ``points`` (available), ``weight``, ``earned`` (points earned; 0
        without data), ``weighted`` (earned x weight), ``source`` (``computed``,
        ``supplied`` or '' without a value), ``note`` (from the results, and why a row has
        no data), ``not_reported`` (the note starts with "not reported", or the unit has no
        result row in the period), ``scoring``, ``empty`` (the denominator is 0: numerator
        and denominator both 0, e.g. no births), then for milestone targets ``done``,
        ``plan``, ``share`` (% of the plan), ``due`` (% due at the period's end),
        ``elapsed`` (% of the year elapsed at the period's end), and for compare targets
        ``baseline``, ``baseline_period``, ``change`` (value - baseline),
        ``change_lower``, ``change_upper`` (NaN / '' for other targets). Sorted by period,
        unit and target.

        A milestone row has ``value`` = ``share`` and ``threshold`` = ``due``; before the
        schedule's first milestone nothing is due: ``verdict`` ``not_due``, ``met``
        ``<NA>``, ``points`` 0 (the target is not assessed yet, as if it did not apply). A
        compare row is met on the change: ``change op threshold``, its verdict from the
        change's interval; without a baseline value it is ``no_data``. An empty
        denominator (not a unit that did not report) is met, not met or no data as the
        target's ``when_empty`` says; met earns the full points.

        With ``audits``: one more row per ``[[audit]]`` (``scoring`` ``audit``, ``target``
        = number of targets + the audit's number, ``indicator`` the item, ``label`` the
        audit's) per assessed unit and period where it applies: ``value``, ``lower``,
        ``upper`` the false share (per cent) of the cases re-checked in audit rows within
        the period (summed) with its exact Clopper-Pearson interval, ``threshold`` the
        veto level (per cent; NaN without), ``points`` the audit's, ``earned`` = points -
        points_per_false x false found, never below 0, ``met`` no false case found,
        ``verdict`` ``clearly_met`` / ``clearly_not_met`` / ``no_data`` (not audited or
        none re-checked, or not reported), ``source`` ``audit``, ``note`` ("5 false of 27
        re-checked: -10 points", "0 false of 20 re-checked: no deduction", "not audited in
        2024Q3: no deduction (a reporting unit not audited keeps the audit's points)"). A
        reporting unit with no audit row keeps the points, with that note (the scheme's
        policy: only cases found false are deducted). A unit that did not report its counts
        in the period earns 0 audit points whether audited or not (flagged
        ``not_reported``, ``audit_deduction`` NaN, note "not reported in 2024Q3: no audit
        points"), so that no unit gains points by not reporting. Every row then also has
        ``audit_checked``,
        ``audit_false_found``, ``audit_deduction`` (points taken off; NaN on target rows),
        ``audit_veto`` (the false share's lower limit exceeds ``veto_above``),
        ``audit_corrected`` (the figure was corrected by an audit, said in ``note``:
        "corrected by audit: births_compliant scaled by 1 - 5 false of 27 re-checked") and
        ``uncorrected_value`` (the figure before correction; NaN where not corrected).
        A compare target's baseline is corrected by the audits of the baseline period.
        ``attrs["audit_notes"]`` lists audit items without an ``[[audit]]`` table and
        audit rows of units not assessed (not scored).

    Raises
    ------
    ValueError
        A target whose indicator is in neither the results nor the supplied values (naming
        the target), or that has no value at all for an assessed period; a per-unit
        threshold for a unit that is not there; a value both computed and supplied without
        ``prefer``; two rows for one unit, period and indicator; result units missing from
        ``units``; a scheme with ``[[audit]]`` tables but no ``audits`` or the reverse; an
        audited item not in the (non-empty) audits; audit units missing from ``units``;
        an audits problem (:func:`fpanalysis.quality.audits.audit_estimates`).

    Examples
    --------
    >>> from fpanalysis.scheme import Scheme, Target
    >>> res = pd.DataFrame({"unit": ["A", "B", "C"], "period": "2024Q1",
    ...     "indicator": "sex_ratio_at_birth", "value": [130.4, 120.0, np.nan],
    ...     "lower": [125.0, 100.0, np.nan], "upper": [136.0, 128.0, np.nan],
    ...     "note": ["", "", "not reported: no counts for 2024Q1"]})
    >>> s = Scheme((Target(1, "sex_ratio_at_birth", "<=", 130, 15),))
    >>> evaluate(res, s)[["unit", "value", "met", "verdict", "earned", "not_reported"]]
      unit  value    met          verdict  earned  not_reported
    0    A  130.4  False    indeterminate     0.0         False
    1    B  120.0   True      clearly_met    15.0         False
    2    C    NaN   <NA>          no_data     0.0          True
    """
    scheme = _check_scheme(scheme)
    if prefer is not None and prefer not in _PREFER:
        raise ValueError(f"prefer must be 'computed' or 'supplied', got {prefer!r}")
    if audits is not None and not scheme.audits:
        raise ValueError("audits were given but the scheme has no [[audit]] table to score "
                         "them")
    data = _observations(results, values, prefer)
    pairs = _assessed(results, units)
    audit_notes: list[str] = []
    earlier = _observations(baseline, None, None) if baseline is not None else None
    if audits is not None:  # correct the figures before anything is compared with them
        sums, pairs, audit_notes = _audit_pairs(scheme, audits, pairs, units)
        data = _audit_corrections(scheme, data, audits, units)
        if earlier is not None:  # a baseline is corrected by its own period's audits
            earlier = _audit_corrections(scheme, earlier, audits, units)
    base = data if earlier is None else pd.concat(
        [data, earlier], ignore_index=True).drop_duplicates(_KEY, keep="first")
    indicators = set(data["indicator"])
    codes = set(units["unit"].astype(str).str.strip()) if units is not None \
        else set(pairs["unit"])
    level_of = pairs["unit"].map(dict(zip(units["unit"].astype(str).str.strip(),
                                          units["level"], strict=False))) \
        if units is not None else None
    if level_of is not None and level_of.nunique() > 1:  # ranked within one level only
        shown = "; ".join(
            f"{lv}: {', '.join(sorted(set(pairs.loc[level_of == lv, 'unit']))[:3])}"
            for lv in sorted(level_of.dropna().unique()))
        raise ValueError(f"the results hold units of several levels ({shown}): evaluate and "
                         "rank each level on its own")
    period_scopes = {p: scopes(p) for p in pairs["period"].unique()}
    leveled = [t for t in scheme.targets if t.level]
    if leveled and units is None:
        raise ValueError(f"target {leveled[0].number} ({leveled[0].indicator}) applies to "
                         f"{leveled[0].level} units only: pass units= so that levels are known")
    if audits is not None and units is None and any(a.level for a in scheme.audits):
        a = next(a for a in scheme.audits if a.level)
        raise ValueError(f"{a.name} applies to {a.level} units only: pass units= so that "
                         "levels are known")
    if audits is None and scheme.audits:
        levels = set(level_of.dropna()) if level_of is not None else None
        due = [a for a in scheme.audits
               if any(s & set(a.periods) for s in period_scopes.values())
               and (not a.level or levels is None or a.level in levels)]
        if due:
            raise ValueError(f"the scheme has {len(due)} [[audit]] table(s) that apply here "
                             f"({', '.join(a.item for a in due)}): pass audits= "
                             "(fpanalysis.io.load_audits) so that their deductions are scored")
    pieces = []
    for t in scheme.targets:  # a loop over the ~10 targets of a scheme, not over units
        applies = [p for p, s in period_scopes.items() if s & set(t.periods)]
        assessed = pairs[pairs["period"].isin(applies)]
        if t.level:
            assessed = assessed[(level_of.loc[assessed.index] == t.level).to_numpy()]
        if assessed.empty:
            continue
        applies = list(pd.unique(assessed["period"]))
        rows = data[data["indicator"] == t.indicator]
        _check_target_data(t, applies, rows, indicators, codes, units is not None)
        pieces.append(_evaluate_target(t, _with_observations(assessed, rows), base))
    columns = _EVALUATED
    if audits is not None:
        columns = _EVALUATED + _AUDIT_COLUMNS
        pieces = [_audit_extras(p, data) for p in pieces]
        # a unit-period whose computed figures say "not reported" (or "partial") did not
        # report its counts: its audit rows earn nothing
        comp = data[(data["source"] == "computed").to_numpy()]
        silent = comp["note"].fillna("").astype(str).str.startswith(
            ("not reported", "partial")).groupby([comp["unit"], comp["period"]]).any()
        silent = silent[silent].index
        for a in scheme.audits:  # the few audits of a scheme
            applies = [p for p, s in period_scopes.items() if s & set(a.periods)]
            assessed = pairs[pairs["period"].isin(applies)]
            if a.level:
                assessed = assessed[(level_of.loc[assessed.index] == a.level).to_numpy()]
            if not assessed.empty:
                pieces.append(_evaluate_audit(a, len(scheme.targets), assessed, sums,
                                              silent))
    if not pieces:
        out = pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    else:
        out = pd.concat(pieces, ignore_index=True)[columns]
        out = out.sort_values(["period", "unit", "target"], kind="stable").reset_index(
            drop=True)
    if audits is not None:
        out.attrs["audit_notes"] = audit_notes
    return out


_AUDIT_COLUMNS = ["audit_checked", "audit_false_found", "audit_deduction", "audit_veto",
                  "audit_corrected", "uncorrected_value"]


def _audit_pairs(scheme: Scheme, audits: pd.DataFrame, pairs: pd.DataFrame,
                 units: pd.DataFrame | None
                 ) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """The audits summed per unit, assessed period and item; the pairs to assess with the
    audited units that have no result row (when ``units`` is not given); notes on audit
    items and rows that are not scored."""
    from .quality.audits import audit_sums

    labels = list(pairs["period"].unique())
    sums = audit_sums(audits, labels)  # checks the audits too
    given = set(audits["item"].astype("string").str.strip().dropna())
    if given:  # an empty audits frame: every unit is simply not audited
        for a in scheme.audits:
            if a.item not in given:
                raise ValueError(f"{a.name}: the audits have no item {a.item!r}"
                                 f"{suggestion(a.item, given)}")
    notes = []
    scored = {a.item for a in scheme.audits}
    counts = audits["item"].astype("string").str.strip().value_counts()
    for item in sorted(given - scored):
        notes.append(f"audit item {item!r} ({int(counts[item])} rows) has no [[audit]] table: "
                     "not scored")
    scoped = {p: scopes(p) for p in labels}
    applies = pd.Series(False, index=sums.index)
    for a in scheme.audits:  # a few audits x a few periods
        when = [p for p, s in scoped.items() if s & set(a.periods)]
        applies |= (sums["item"] == a.item) & sums["period"].isin(when)
    audited = sums[applies.to_numpy()][["unit", "period"]].drop_duplicates()
    if units is not None:
        codes = set(units["unit"].astype(str).str.strip())
        unknown = sorted(set(audited["unit"]) - codes)
        if unknown:
            raise ValueError(f"the audits hold unit(s) that are not in the units table: "
                             f"{', '.join(unknown[:10])}")
    extra = audited.merge(pairs[["unit", "period"]], on=["unit", "period"], how="left",
                          indicator=True)
    extra = extra[extra["_merge"] == "left_only"][["unit", "period"]]
    if len(extra) and units is None:
        pairs = pd.concat([pairs, extra.assign(_rows=False)], ignore_index=True)
    elif len(extra):
        notes.append(f"{len(extra)} audited unit-period(s) of units not assessed here (another "
                     f"level), e.g. {extra['unit'].iloc[0]} in {extra['period'].iloc[0]}: "
                     "not scored")
    return sums, pairs.reset_index(drop=True), notes


def _numerator_columns(scheme: Scheme, key: str) -> tuple[str, ...]:
    """The numerator column of an indicator an audit can correct, else ()."""
    user = {i.key: i for i in scheme.indicators}
    spec = user.get(key) or (ind.get(key) if key in ind.keys() else None)
    return tuple(spec.numerator) if spec is not None and correctable(spec) else ()


def _audit_corrections(scheme: Scheme, data: pd.DataFrame, audits: pd.DataFrame,
                       units: pd.DataFrame | None) -> pd.DataFrame:
    """Computed figures whose numerator counts an audited column, corrected as the audit's
    ``adjust`` says (:func:`fpanalysis.quality.audits.audit_adjusted`) in the periods and
    level it applies to; ``_corrected`` and ``_uncorrected`` record what was changed."""
    from .quality.audits import audit_adjusted

    data = data.assign(_corrected=False, _uncorrected=np.nan)
    level = dict(zip(units["unit"].astype(str).str.strip(), units["level"].astype(str),
                     strict=False)) if units is not None else {}
    has_rows = len(audits) > 0
    for a in scheme.audits:  # a few audits x the few indicators counting their column
        if a.adjust == "none":
            continue
        for key in sorted(set(data["indicator"])):
            if a.column not in _numerator_columns(scheme, key):
                continue
            rows = (data["indicator"] == key) & (data["source"] == "computed")
            rows &= _per_period(data["period"], a.applies_to).astype(bool)
            if a.level:
                rows &= data["unit"].map(level).eq(a.level)
            if not rows.any():
                continue
            part = data[rows]
            if has_rows:
                adj = audit_adjusted(part, audits, item=a.item, indicator=key,
                                     adjust=a.adjust)
                ok = adj["corrected"].to_numpy(dtype=bool)
                why = adj["note"].to_numpy(dtype=object)
            else:
                ok = np.zeros(len(part), dtype=bool)
                why = ("not audited in " + part["period"].astype(str)
                       + ": figure not corrected").to_numpy(dtype=object)
            idx = part.index
            before = data.loc[idx, "value"].to_numpy(dtype=float)
            if ok.any():
                for col, new in (("value", "corrected_value"), ("lower", "corrected_lower"),
                                 ("upper", "corrected_upper"),
                                 ("numerator", "corrected_numerator")):
                    data.loc[idx[ok], col] = adj[new].to_numpy(dtype=float)[ok]
                data.loc[idx[ok], "_uncorrected"] = before[ok]
                data.loc[idx[ok], "_corrected"] = True
            said = data.loc[idx, "note"].fillna("").astype(str)
            # a figure not reported has nothing to correct: say only that it was not reported
            why = np.where(said.str.startswith(("not reported", "partial")).to_numpy(), "",
                           np.asarray(why, dtype=str))
            data.loc[idx, "note"] = _join(said.to_numpy(dtype=object),
                                          np.asarray(why, dtype=str)).tolist()
    return data


def _audit_extras(piece: pd.DataFrame, data: pd.DataFrame) -> pd.DataFrame:
    """The audit columns of a target's rows: whether its figure was corrected."""
    flags = data[["unit", "period", "indicator", "_corrected", "_uncorrected"]]
    got = piece[["unit", "period", "indicator"]].merge(flags, on=["unit", "period",
                                                                  "indicator"], how="left")
    return piece.assign(audit_checked=np.nan, audit_false_found=np.nan,
                        audit_deduction=np.nan, audit_veto=False,
                        audit_corrected=got["_corrected"].fillna(False).astype(bool)
                        .to_numpy(),
                        uncorrected_value=got["_uncorrected"].to_numpy(dtype=float))


def _evaluate_audit(a: Audit, n_targets: int, assessed: pd.DataFrame,
                    sums: pd.DataFrame, silent: pd.Index) -> pd.DataFrame:
    """The rows of one audit for its assessed (unit, period) pairs; ``silent`` holds the
    (unit, period) pairs whose counts were not reported."""
    got = assessed[["unit", "period", "_rows"]].merge(
        sums[sums["item"] == a.item].drop(columns="item"), on=["unit", "period"], how="left")
    n, x = got["checked"].to_numpy(dtype=float), got["false_found"].to_numpy(dtype=float)
    lo, hi = iv.proportion_confint(x, n, method="clopper_pearson")
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(n > 0, x / n, np.nan)
    checked = n > 0
    # a unit that did not report its counts earns no audit points: never the full points
    # for not being audited, nor any for an audit of figures it did not report
    not_reported = ~got["_rows"].to_numpy(dtype=bool) | pd.MultiIndex.from_arrays(
        [got["unit"], got["period"]]).isin(silent)
    found = np.where(checked, x, np.nan)
    earned = np.where(not_reported, 0.0, a.earned(found))
    deduction = np.where(not_reported, np.nan, a.points - earned)
    period = got["period"].to_numpy(dtype=object)
    def words(v: np.ndarray) -> pd.Series:
        return pd.Series(np.nan_to_num(v)).round(9).astype(str).str.removesuffix(".0")

    taken = np.where(np.nan_to_num(deduction) > 0,
                     ("-" + words(deduction) + " points").to_numpy(dtype=object),
                     "no deduction")
    text = (words(x) + " false of " + words(n) + " re-checked: ").to_numpy(dtype=object) \
        + taken
    note = np.where(np.isnan(n), "not audited in " + period
                    + ": no deduction (a reporting unit not audited keeps the audit's points)",
                    text)
    note = np.where(n == 0, "no case re-checked in " + period + ": no deduction", note)
    note = np.where(not_reported, "not reported in " + period + ": no audit points"
                    + np.where(checked, " (" + text + " not applied)", ""), note)
    veto = np.zeros(len(got), dtype=bool)
    if not np.isnan(a.veto_above):
        with np.errstate(invalid="ignore"):
            veto = checked & (lo > a.veto_above)
    nan = np.full(len(got), np.nan)
    verdict = np.where(~checked | not_reported, "no_data",
                       np.where(x > 0, "clearly_not_met", "clearly_met"))
    return pd.DataFrame({
        "unit": got["unit"].to_numpy(), "period": period, "target": n_targets + a.number,
        "indicator": a.item, "label": a.display, "value": 100 * share,
        "lower": np.where(checked, 100 * lo, np.nan),
        "upper": np.where(checked, 100 * hi, np.nan), "op": "<=",
        "threshold": 100 * a.veto_above,
        "met": pd.array(np.where(checked & ~not_reported, x == 0, None), dtype="boolean"),
        "verdict": verdict, "points": a.points, "weight": 1.0, "earned": earned,
        "weighted": earned, "source": "audit", "note": note.astype(object),
        "not_reported": not_reported, "scoring": "audit",
        "empty": False, "done": nan, "plan": nan, "share": nan, "due": nan, "elapsed": nan,
        "baseline": nan, "baseline_period": "", "change": nan, "change_lower": nan,
        "change_upper": nan, "audit_checked": n, "audit_false_found": x,
        "audit_deduction": deduction, "audit_veto": veto, "audit_corrected": False,
        "uncorrected_value": nan})


def _with_observations(assessed: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """``assessed`` (unit, period pairs) with the observation of each pair from ``rows`` (one
    indicator's, at most one a pair) or missing values: the rows of
    ``assessed.merge(rows.drop(columns="indicator"), on=["unit", "period"], how="left")``,
    found by position instead of a merge (twenty merges an assessment)."""
    right = rows.drop(columns="indicator")
    n_left = len(assessed)
    key = np.zeros(n_left + len(right), dtype=np.int64)
    for k in ("unit", "period"):  # both sides' keys numbered together
        codes, uniq = pd.factorize(np.concatenate([assessed[k].to_numpy(dtype=object),
                                                   right[k].to_numpy(dtype=object)]))
        key = key * (len(uniq) + 1) + (codes + 1)
    right_key = pd.Index(key[n_left:])
    if not right_key.is_unique:  # a pair twice: the merge says what that means
        return assessed.merge(right, on=["unit", "period"], how="left")
    pos = right_key.get_indexer(key[:n_left])
    hit = pos >= 0
    out: dict[str, object] = {c: assessed[c].to_numpy() for c in assessed.columns}
    for c in right.columns:
        if c in ("unit", "period"):
            continue
        values = right[c].to_numpy()
        if values.dtype.kind == "f":
            out[c] = np.where(hit, values[np.where(hit, pos, 0)] if len(values) else np.nan,
                              np.nan)
        else:
            taken = np.full(len(pos), np.nan, dtype=object)
            taken[hit] = values[pos[hit]]
            out[c] = taken
    return pd.DataFrame(out)


def _evaluate_target(t: Target, part: pd.DataFrame, base: pd.DataFrame) -> pd.DataFrame:
    """The rows of one target: ``part`` holds its assessed (unit, period) pairs with their
    observations (value, lower, upper, numerator, denominator, note, source, _rows)."""
    n = len(part)
    value = part["value"].to_numpy(dtype=float)
    lower = part["lower"].to_numpy(dtype=float)
    upper = part["upper"].to_numpy(dtype=float)
    note = part["note"].fillna("").astype(str).to_numpy(dtype=object)
    # a partial figure (compute(partial=True)) is not a full report either: never scored as one
    not_reported = pd.Series(note).str.startswith(("not reported", "partial")).to_numpy() \
        | ~part["_rows"].to_numpy(dtype=bool)
    nan = np.full(n, np.nan)
    extra: dict[str, np.ndarray] = {k: nan for k in ("done", "plan", "share", "due", "elapsed",
                                                     "baseline", "change", "change_lower",
                                                     "change_upper")}
    extra["baseline_period"] = np.full(n, "", dtype=object)
    if t.unit_thresholds or isinstance(t.threshold, bool) or not isinstance(
            t.threshold, int | float | np.integer | np.floating):
        threshold = t.thresholds(part["unit"])
    else:  # the county-wide threshold for every unit, as thresholds() gives it
        threshold = np.full(n, float(t.threshold))
    points = np.full(n, t.points)
    compared, lo, hi = value, lower, upper
    not_due = np.zeros(n, dtype=bool)
    if t.is_milestone:
        m = _milestone(t, part)
        extra.update({k: m[k] for k in ("done", "plan", "share", "due", "elapsed")})
        compared, lo, hi, threshold = m["share"], nan, nan, m["due"]
        not_due = np.isnan(m["due"])
        no_plan = ~np.isnan(value) & np.isnan(m["plan"])
        note = np.where(no_plan, _join(note, "no annual plan for " + m["year"].astype(str)),
                        note)
        points = np.where(not_due, 0.0, points)
    elif t.compare:
        c = _change(t, part, base)
        extra.update(c)
        compared, lo, hi = c["change"], c["change_lower"], c["change_upper"]
        no_base = ~np.isnan(value) & np.isnan(c["baseline"])
        note = np.where(no_base, _join(note, "no baseline value for "
                                       + c["baseline_period"].astype(str)), note)
    if t.scoring == "per_event":  # events are counted: whole numbers, never below zero
        with np.errstate(invalid="ignore"):
            wrong = ~np.isnan(value) & ((value < 0) | (np.mod(value, 1) != 0))
        if wrong.any():
            shown = ", ".join(f"{u} in {p}: {v:g}" for u, p, v in zip(
                part["unit"].to_numpy()[wrong][:5], part["period"].to_numpy()[wrong][:5],
                value[wrong][:5], strict=True))
            raise ValueError(f"target {t.number} ({t.indicator}) deducts per event, so its "
                             f"values must be counts (whole numbers >= 0); got {shown}")
    num = part["numerator"].to_numpy(dtype=float)
    den = part["denominator"].to_numpy(dtype=float)
    empty = ~not_reported & np.isnan(value) & (num == 0) & (den == 0)
    missing = np.isnan(compared) & ~(empty & (t.when_empty != "no_data"))
    met = t.meets(compared, threshold)
    earned = t.earned(compared, threshold)
    verdict = _verdicts(t, compared, lo, hi, threshold)
    if t.when_empty != "no_data" and empty.any():
        ok = t.when_empty == "met"
        met = np.where(empty, ok, met)
        earned = np.where(empty, t.points if ok and not t.is_veto else 0.0, earned)
        verdict = np.where(empty, "clearly_met" if ok else "clearly_not_met", verdict)
    verdict = np.where(not_due, "not_due", verdict)
    earned = np.where(not_due | missing, 0.0, earned)
    source = part["source"].where(~np.isnan(value), "").fillna("").astype(str).to_numpy()
    columns = {
        "unit": part["unit"].to_numpy(), "period": part["period"].to_numpy(),
        "target": t.number, "indicator": t.indicator, "label": t.label, "value": compared
        if t.is_milestone else value, "lower": lower, "upper": upper, "op": t.op,
        "threshold": threshold,
        "met": pd.array(np.where(missing | not_due, None, met), dtype="boolean"),
        "verdict": verdict, "points": points, "weight": t.weight, "earned": earned,
        "weighted": earned * t.weight, "source": source, "note": note,
        "not_reported": not_reported, "scoring": t.scoring, "empty": empty, **extra}
    # built in the order of the table: no second frame to reorder it
    return pd.DataFrame({c: columns[c] for c in _EVALUATED})


def _join(note: np.ndarray, text: object) -> np.ndarray:
    """``note; text`` (or ``text`` where the note is empty), element-wise."""
    note = pd.Series(note, dtype=object).astype(str)
    text = pd.Series(text, index=note.index).astype(str) if not isinstance(text, str) \
        else text
    out = np.where(note == "", text, note + "; " + text)
    return np.where(pd.Series(text, index=note.index).astype(str) == "", note, out).astype(
        object)


def _computed(scheme: Scheme, targets: Sequence[Target] | None = None
              ) -> list[str | ind.Indicator]:
    """The indicators of the targets that are computed from counts: built-in keys and the
    scheme's user indicators, each once (a milestone's key is not an indicator)."""
    user = {i.key: i for i in scheme.indicators}
    builtin = set(ind.keys())
    out: dict[str, str | ind.Indicator] = {}
    for t in targets if targets is not None else scheme.targets:
        if t.is_milestone:
            continue
        if t.indicator in user:
            out[t.indicator] = user[t.indicator]
        elif t.indicator in builtin:
            out[t.indicator] = t.indicator
    return list(out.values())


def done_to_date(counts: pd.DataFrame, scheme: Scheme, *, periods: Sequence[object],
                 units: pd.DataFrame | None = None, level: str | None = None
                 ) -> pd.DataFrame:
    """Cumulative done of each milestone target, January to each period's end.

    For every milestone target (``against = "annual_plan"``) that applies to a period, the
    target's ``done`` count column is summed over the year to date ending with the period
    (:func:`fpanalysis.periods.year_to_date`) for every unit, as
    :func:`fpanalysis.indicators.compute` sums counts (a unit missing a month of it is
    not reported, never counted short).

    Returns
    -------
    pandas.DataFrame
        Result rows for :func:`evaluate`: ``unit``, ``period`` (the period assessed, e.g.
        ``2024Q3``), ``indicator`` (the target's key), ``numerator`` and ``value`` (the
        done to date), ``denominator``, ``lower`` and ``upper`` (NaN: a count of work done
        is exact) and ``note`` (why the value is missing, else '').
    """
    parts = []
    counted = set(units.loc[units["unit"].isin(set(counts["unit"])), "level"]) \
        if units is not None and level is None else {level}
    for t in scheme.targets:  # the few milestone targets x the few periods
        if not t.is_milestone or (t.level and t.level not in counted):
            continue  # a township milestone is not looked for in village counts
        if t.done not in counts.columns:
            raise ValueError(f"target {t.number} ({t.indicator}) counts done work in column "
                             f"{t.done!r}, which the counts do not have"
                             f"{suggestion(t.done, counts.columns)}")
        spec = ind.ratio(t.indicator, t.done, t.done)
        for p in periods:
            if not t.applies_to(p):
                continue
            r = ind.compute(counts, [spec], period=p, ytd=True, level=level, units=units)
            note = r["note"].astype(str)
            done = r["numerator"].to_numpy(dtype=float)
            blocked = note.str.startswith(ind.NOT_REPORTED).to_numpy()
            done = np.where(blocked, np.nan, done)
            keep = blocked | np.isnan(done) | note.str.startswith(ind.PARTIAL).to_numpy()
            parts.append(pd.DataFrame({
                "unit": r["unit"].astype(str).to_numpy(), "period": str(pr.parse(p)),
                "indicator": t.indicator, "numerator": done, "denominator": np.nan,
                "value": done, "lower": np.nan, "upper": np.nan,
                "note": np.where(keep, note.to_numpy(dtype=object), "")}))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in
                             ("unit", "period", "indicator", "numerator", "denominator",
                              "value", "lower", "upper", "note")})
    return pd.concat(parts, ignore_index=True)


def _baselines(counts: pd.DataFrame, scheme: Scheme, periods: Sequence[object],
               units: pd.DataFrame | None, level: str | None) -> pd.DataFrame | None:
    """Results of the baseline periods of the scheme's compare targets that are not among
    ``periods``; a baseline period the counts do not cover is left out (its units are then
    ``no_data`` with a note)."""
    assessed = {str(pr.parse(p)) for p in periods}
    wanted: dict[str, list[str | ind.Indicator]] = {}
    for t in scheme.targets:
        if not t.compare:
            continue
        for p in periods:
            if t.applies_to(p):
                b = t.baseline_period(p)
                if b not in assessed:
                    wanted.setdefault(b, []).extend(_computed(scheme, [t]))
    out = []
    for b, keys in wanted.items():  # a few baseline periods
        try:
            out.append(ind.compute(counts, list({str(getattr(k, "key", k)): k
                                                 for k in keys}.values()),
                                   period=b, level=level, units=units))
        except ValueError:  # no counts for the baseline period: no baseline, no points
            continue
    return pd.concat(out, ignore_index=True) if out else None


def _inputs(counts: pd.DataFrame, scheme: Scheme, periods: Sequence[object],
            units: pd.DataFrame | None, level: str | None
            ) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The results :func:`evaluate` needs for ``periods`` (indicators and milestones' done to
    date) and the baseline periods' results."""
    keys = _computed(scheme)
    if not keys and not any(t.is_milestone for t in scheme.targets):
        raise ValueError("no target of the scheme is computed from counts; evaluate "
                         "supplied values with evaluate()")
    parts = [ind.compute(counts, keys, period=p, level=level, units=units)
             for p in periods] if keys else []  # a handful of periods
    if any(t.is_milestone for t in scheme.targets):
        parts.append(done_to_date(counts, scheme, periods=periods, units=units, level=level))
    results = pd.concat([pt.astype({"period": object}).assign(
        period=_labels(pt["period"]).to_numpy(), indicator=pt["indicator"].astype(str))
        for pt in parts], ignore_index=True)
    return results, _baselines(counts, scheme, periods, units, level)


def assess(counts: pd.DataFrame, scheme: Scheme, *, periods: Sequence[object],
           values: pd.DataFrame | None = None, units: pd.DataFrame | None = None,
           level: str | None = None, prefer: str | None = None,
           audits: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Evaluate and score several periods at once (e.g. every quarter of the year so far).

    Computes the scheme's indicators that come from counts (built-in ones and the scheme's
    user indicators) for each period, the milestone targets' done to date
    (:func:`done_to_date`) and the results of the compare targets' baseline periods, then
    :func:`evaluate` (with ``values``, ``units``, ``prefer`` and ``audits``, which a scheme
    with ``[[audit]]`` tables needs), :func:`score`,
    :func:`tiers` (``scheme.tier_size``) and :func:`streaks` (within each kind of period,
    with ``missing="in_tier"``: a report not sent never breaks a bottom streak).

    Returns
    -------
    evaluated, scores : pandas.DataFrame
        :func:`evaluate` and :func:`score` output over all ``periods``, scores with
        ``tier`` and bottom-tier ``streak``.
    """
    scheme = _check_scheme(scheme)
    results, base = _inputs(counts, scheme, periods, units, level)
    evaluated = evaluate(results, scheme, values=values, units=units, prefer=prefer,
                         baseline=base, audits=audits)
    scored = tiers(score(evaluated), k=scheme.tier_size)
    if scored.empty:
        return evaluated, scored.assign(streak=pd.Series(dtype="int64"))
    # streaks run within one kind of period (quarters after quarters); a unit that did not
    # report is held in the bottom tier, so skipping a report never breaks a streak
    labels = scored["period"].astype(str)
    kinds = labels.map({p: pr.kind(p) for p in labels.unique()})
    if (kinds == "ytd").any():  # 2024-01/2024-06 prints as 2024H1 but runs in the ytd series
        starts_january = labels.map({p: pr.start(p).month == 1 for p in labels.unique()})
        kinds = kinds.mask((kinds == "half_year") & starts_january.astype(bool), "ytd")
    parts = [streaks(part, missing="in_tier") for _, part in scored.groupby(kinds, sort=False)]
    return evaluated, pd.concat(parts).loc[scored.index]


def score(evaluated: pd.DataFrame) -> pd.DataFrame:
    """Sum points per unit and period and rank the units within each period.

    A unit that fails a veto target (``scoring = "veto"``) in a period, or has no data on
    it (a unit that does not report must never gain), is ``vetoed``: it ranks after every
    unit that is not, whatever its points; vetoed units rank among themselves by score.
    A milestone not due yet (verdict ``not_due``) counts neither way. Audit rows
    (``scoring`` ``audit``, from :func:`evaluate` with ``audits=``) add their points kept to
    ``score`` and their points to ``max_score`` but are not targets (not counted in
    ``met`` ... ``targets``); an audit whose false share's lower limit exceeds its
    ``veto_above`` vetoes the unit.

    Returns
    -------
    pandas.DataFrame
        ``unit``, ``period``, ``score`` (weighted points earned), ``max_score`` (weighted
        points available), ``met`` (targets met), ``not_met``, ``no_data``, ``targets``
        (targets assessed: met + not_met + no_data), ``not_reported`` (any of the unit's
        rows in the period is), ``vetoed`` (bool), ``veto_reason`` (each failed veto as
        "label: not met" or "label: no data", joined by "; "; '' if none), ``rank`` (1 =
        best; tied units share the better rank; vetoed units after all others), sorted by
        period, rank, unit. With audit rows also ``audit_deduction`` (points taken off by
        audits), ``audit_note`` (each audit's note, "label: 5 false of 27 re-checked: -10
        points", "label: not audited in 2024Q3: no deduction (...)" or "label: not reported
        in 2024Q3: no audit points", then "corrected by audit:
        <indicators>" for figures corrected before evaluation; joined by "; ").

    Examples
    --------
    >>> ev = pd.DataFrame({"unit": ["A", "A", "B", "B"], "period": "2024Q1",
    ...     "target": [1, 2, 1, 2], "label": ["", "符合率否决"] * 2,
    ...     "indicator": ["x", "compliance_rate"] * 2, "points": [10.0, 0.0] * 2,
    ...     "weight": 1.0, "weighted": [10.0, 0.0, 5.0, 0.0],
    ...     "met": pd.array([True, False, False, True], dtype="boolean"),
    ...     "verdict": ["clearly_met", "clearly_not_met", "clearly_not_met", "clearly_met"],
    ...     "scoring": ["all_or_nothing", "veto"] * 2, "not_reported": False})
    >>> score(ev)[["unit", "score", "vetoed", "veto_reason", "rank"]]
      unit  score  vetoed     veto_reason  rank
    0    B    5.0   False                     1
    1    A   10.0    True  符合率否决: not met     2
    """
    due = (evaluated["verdict"] != "not_due").to_numpy() if "verdict" in evaluated.columns \
        else np.ones(len(evaluated), dtype=bool)
    met = evaluated["met"]
    veto = (evaluated["scoring"] == "veto").to_numpy() if "scoring" in evaluated.columns \
        else np.zeros(len(evaluated), dtype=bool)
    failed = veto & due & ~met.fillna(False).to_numpy(dtype=bool)
    audited = "audit_deduction" in evaluated.columns
    audit = (evaluated["scoring"] == "audit").to_numpy() if audited \
        else np.zeros(len(evaluated), dtype=bool)
    if audited:
        failed = failed | (audit & evaluated["audit_veto"].fillna(False).to_numpy(dtype=bool))
    due = due & ~audit  # audit rows add points but are not targets
    e = evaluated.assign(
        _avail=evaluated["points"] * evaluated["weight"],
        _met=(met.fillna(False).astype(int) * due),
        _not=((met == False).fillna(False).astype(int) * due),  # noqa: E712
        _none=(met.isna().astype(int) * due),
        _due=due.astype(int),
        _nr=evaluated["not_reported"].astype(bool),
        _veto=failed)
    g = e.groupby(["unit", "period"], sort=True)
    out = pd.DataFrame({"score": g["weighted"].sum(), "max_score": g["_avail"].sum(),
                        "met": g["_met"].sum(), "not_met": g["_not"].sum(),
                        "no_data": g["_none"].sum(), "targets": g["_due"].sum(),
                        "not_reported": g["_nr"].any(), "vetoed": g["_veto"].any()})
    out["veto_reason"] = ""
    if failed.any():  # the few failed vetoes: name each
        f = e[failed]
        name = f["label"].astype(str).where(f["label"].astype(str) != "",
                                            "target " + f["target"].astype(str) + " ("
                                            + f["indicator"].astype(str) + ")")
        # say why there are no data: not reported, an empty denominator, no baseline ...
        note = f["note"].fillna("").astype(str) if "note" in f.columns \
            else pd.Series("", index=f.index)
        no_data = ": no data" + np.where(note != "", " (" + note + ")", "")
        why = name + np.where(f["met"].isna(), no_data, ": not met")
        if audited:
            share = (": false share above " + f["threshold"].map("{:g} %".format)
                     + " (lower limit " + f["lower"].map("{:.1f} %".format) + "; "
                     + note + ")")
            why = why.where(f["scoring"] != "audit", name + share)
        reasons = why.groupby([f["unit"], f["period"]], sort=True).agg("; ".join)
        out["veto_reason"] = reasons.reindex(out.index).fillna("").to_numpy(dtype=object)
    if audited:
        out["audit_deduction"] = e["audit_deduction"].where(audit, 0.0).groupby(
            [e["unit"], e["period"]], sort=True).sum().reindex(out.index).to_numpy()
        a = e[audit]
        said = (a["label"].astype(str) + ": " + a["note"].fillna("").astype(str)).groupby(
            [a["unit"], a["period"]], sort=True).agg("; ".join)
        fixed = e.loc[e["audit_corrected"].fillna(False).astype(bool).to_numpy(),
                      ["unit", "period", "indicator"]].astype(str).drop_duplicates() \
            .sort_values(["unit", "period", "indicator"])
        keys = "corrected by audit: " + fixed.groupby(["unit", "period"], sort=True)[
            "indicator"].agg(", ".join)
        said = said.reindex(out.index).fillna("")
        keys = keys.reindex(out.index).fillna("")
        out["audit_note"] = np.where((said != "") & (keys != ""), said + "; " + keys,
                                     said + keys).astype(object)
    return rank_units(out.reset_index())


def rank_units(scores: pd.DataFrame, *, column: str = "score", by: str = "period",
               higher_is_better: bool = True) -> pd.DataFrame:
    """Rank units within each ``by`` group; ties share the better rank (``method='min'``).

    Where ``scores`` has a ``vetoed`` column, vetoed units rank after every unit that is
    not, ties among them by ``column``.

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
    >>> rank_units(s.assign(vetoed=[False, True, False, True]))[["unit", "rank"]]
      unit  rank
    0    A     1
    1    C     1
    2    B     3
    3    D     4
    """
    out = scores.copy()
    if "vetoed" in out.columns and len(out):
        vetoed = out["vetoed"].astype(bool)
        within = out.groupby([out[by], vetoed])[column].rank(
            method="min", ascending=not higher_is_better)
        clean = (~vetoed).astype(int).groupby(out[by]).transform("sum")
        out["rank"] = within + np.where(vetoed, clean, 0)
    else:
        out["rank"] = out.groupby(by)[column].rank(method="min",
                                                   ascending=not higher_is_better)
    out["rank"] = out["rank"].astype("Int64")
    return out.sort_values([by, "rank", "unit"], kind="stable").reset_index(drop=True)


_TIERS = ("top", "bottom")


def _check_tier(tier: object) -> None:
    if tier not in _TIERS:
        raise ValueError(f"tier must be 'top' or 'bottom', got {tier!r}")


def _require(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} needs the column(s) {', '.join(missing)}")


def _keyed(frame: pd.DataFrame, by: str, what: str, extra: Sequence[str] = ()
           ) -> tuple[np.ndarray, np.ndarray]:
    """Unit codes (stripped) and canonical period labels of ``frame``; refuse two rows for
    one unit and period (and ``extra`` key columns), naming up to five of them."""
    unit = frame["unit"].astype(str).str.strip().to_numpy(dtype=object)
    labels = _labels(frame[by]).to_numpy(dtype=object)
    keys = pd.DataFrame({"unit": unit, "period": labels}
                        | {c: frame[c].astype(str).to_numpy() for c in extra})
    dup = keys.duplicated(keep="first").to_numpy()
    if dup.any():
        shown = keys[dup].drop_duplicates().iloc[:5].astype(str).to_numpy()
        names = ", ".join(f"{r[0]} in {r[1]}" + "".join(f" ({c} {v})" for c, v in
                                                         zip(extra, r[2:], strict=True))
                          for r in shown)
        per = "unit and period" if not extra else f"unit, period and {', '.join(extra)}"
        raise ValueError(f"{what} takes one row per {per}; the table holds more than one "
                         f"for {names}")
    return unit, labels


def _tier_values(frame: pd.DataFrame, what: str) -> np.ndarray:
    """The ``tier`` column as text; refuse any value but 'top', 'bottom' and ''."""
    tier = frame["tier"]
    bad = ~tier.isin(["top", "bottom", ""]).to_numpy()
    if bad.any():
        shown = sorted({repr(v) for v in tier[bad].astype(object)})[:5]
        raise ValueError(f"{what}: tier must be 'top', 'bottom' or '' in every row, got "
                         f"{', '.join(shown)}")
    return tier.to_numpy(dtype=object)


def _not_reported(frame: pd.DataFrame) -> np.ndarray:
    """``not_reported`` as bool (an unknown flag counts as not reported); False without it."""
    if "not_reported" not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    return pd.array(frame["not_reported"], dtype="boolean").fillna(True).to_numpy(dtype=bool)


def tiers(ranked: pd.DataFrame, *, k: int = 3, column: str = "score", by: str = "period",
          higher_is_better: bool = True) -> pd.DataFrame:
    """Mark the top ``k`` and bottom ``k`` units of each period (``tier``: top/bottom/'').

    A unit is in the bottom tier when fewer than ``k`` units are strictly worse; ties at the
    edge therefore all join the tier. Where a table has fewer than 2k units, top wins. A
    unit without a score (NaN) is in no tier. Where ``ranked`` has a ``vetoed`` column
    (:func:`score`), a vetoed unit ranks after every unvetoed one whatever its score: it is
    never in the top tier, and vetoed units are compared among themselves by score.

    Parameters
    ----------
    ranked : pandas.DataFrame
        ``unit``, ``by`` and ``column``, one row per unit and period; optionally
        ``vetoed``.
    k : int, default 3
    column : str, default 'score'
    by : str, default 'period'
    higher_is_better : bool, default True

    Returns
    -------
    pandas.DataFrame
        A copy of ``ranked`` (rows in their order) with ``tier``.

    Raises
    ------
    ValueError
        ``k`` below 1, a missing column, two rows for one unit and period, a ``vetoed``
        flag that is missing.

    Examples
    --------
    >>> s = pd.DataFrame({"unit": list("ABCD"), "period": "2024Q1",
    ...                   "score": [95.0, 80.0, 70.0, 60.0],
    ...                   "vetoed": [True, False, False, False]})
    >>> tiers(s, k=1)["tier"].tolist()
    ['bottom', 'top', '', '']
    """
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"k must be a whole number of at least 1, got {k!r}")
    _require(ranked, ["unit", by, column], "tiers")
    out = ranked.copy()
    if out.empty:
        out["tier"] = pd.Series(dtype=object)
        return out
    _, labels = _keyed(out, by, "tiers")
    value = pd.to_numeric(out[column]).astype(float).to_numpy()
    vetoed = np.zeros(len(out), dtype=bool)
    if "vetoed" in out.columns:
        flags = pd.array(out["vetoed"], dtype="boolean")
        if flags.isna().any():
            raise ValueError("tiers: vetoed must be True or False in every row")
        vetoed = flags.to_numpy(dtype=bool)
    scored = ~np.isnan(value)
    frame = pd.DataFrame({"g": labels, "v": vetoed,
                          "s": -value if higher_is_better else value})  # smaller is better
    within = frame.groupby(["g", "v"], sort=False)["s"]
    better = within.rank(method="min").to_numpy()
    worse = within.rank(method="min", ascending=False).to_numpy()
    clear = pd.Series(~vetoed & scored).groupby(labels).transform("sum").to_numpy()
    barred = pd.Series(vetoed & scored).groupby(labels).transform("sum").to_numpy()
    better_first = better + np.where(vetoed, clear, 0)
    worse_first = worse + np.where(vetoed, 0, barred)
    with np.errstate(invalid="ignore"):
        top = (better_first <= k) & ~vetoed
        bottom = worse_first <= k
    out["tier"] = np.where(top, "top", np.where(bottom, "bottom", "")).astype(object)
    return out


def _year_of(p: object) -> int:
    """The calendar year a period counts in: the year of its last day (a span that crosses
    the new year, such as 2023-12/2024-01, counts in the year it ends)."""
    if isinstance(p, pr.Span):
        return int(p.last.year)
    if isinstance(p, pd.Period | pr.Dekad):
        return int(p.year)
    raise ValueError(f"cannot place period {p!r} in a year")


def _ordinal(p: object, *, ytd_step: int | None = None) -> int:
    """Consecutive integers for consecutive periods of one kind.

    Months, quarters and years are numbered by pandas; dekads three to a month; a span of
    L months (two-monthly 双月 periods, half-years) by its first month // L, so spans that
    tile the calendar (2024-01/2024-02, 2024-03/2024-04, ...) number 1 apart. Year-to-date
    spans of one series (``ytd_step``: months between their ends) are numbered by their
    last month, so 2024-01/2024-12 and 2025-01/2025-03 follow each other quarterly.

    Examples
    --------
    >>> [_ordinal(pr.parse(x)) for x in ("2024-11/2024-12", "2025-01/2025-02")]
    [329, 330]
    >>> [_ordinal(pr.parse(x)) for x in ("2023-12-D3", "2024-01-D1")]
    [72863, 72864]
    """
    if isinstance(p, pd.Period):
        return int(p.ordinal)
    if isinstance(p, pr.Dekad):
        return (p.year * 12 + p.month_number - 1) * 3 + p.part - 1
    if isinstance(p, pr.Span):
        if ytd_step is not None:
            return (int(p.last.ordinal) + 1) // ytd_step
        length = int(p.last.ordinal - p.first.ordinal) + 1
        return int(p.first.ordinal) // length
    raise ValueError(f"cannot order period {p!r}")


def _series(labels: np.ndarray, what: str) -> tuple[dict[str, int], dict[str, int]]:
    """Ordinal and year of each distinct period label; refuse periods that are not one
    series (months with quarters, two-monthly spans with quarterly ones)."""
    parsed = {u: pr.parse(u) for u in pd.unique(labels)}

    def family(p: object) -> str:
        return "span" if isinstance(p, pr.Span) else "dekad" if isinstance(p, pr.Dekad) \
            else p.freqstr

    families = {}
    for u, p in parsed.items():
        families.setdefault(family(p), u)
    if len(families) > 1:
        shown = ", ".join(f"{u} ({pr.kind(u)})" for u in families.values())
        raise ValueError(f"{what} needs periods of one kind, got {shown}")
    step = None
    spans = [p for p in parsed.values() if isinstance(p, pr.Span)]
    if spans and all(s.first.month == 1 and s.first.year == s.last.year for s in spans):
        step = int(np.gcd.reduce([s.last.month for s in spans] + [12]))  # year to date
    elif spans:
        shape = {(int(s.last.ordinal - s.first.ordinal) + 1,
                  int(s.first.ordinal) % (int(s.last.ordinal - s.first.ordinal) + 1))
                 for s in spans}
        if len(shape) > 1:
            raise ValueError(f"{what} needs spans of one length that follow each other "
                             f"(e.g. two-monthly 2024-01/2024-02, 2024-03/2024-04), got "
                             f"{', '.join(sorted(parsed)[:6])}")
    return ({u: _ordinal(p, ytd_step=step) for u, p in parsed.items()},
            {u: _year_of(p) for u, p in parsed.items()})


_MISSING = ("break", "in_tier")


def streaks(tiered: pd.DataFrame, *, tier: str = "bottom", by: str = "period",
            missing: str = "break", reset: str | None = None) -> pd.DataFrame:
    """Add ``streak``: how many consecutive periods, up to this one, the unit has been in
    ``tier`` (0 when it is not).

    Periods follow each other across year boundaries (2023Q4 then 2024Q1; 2023-12 then
    2024-01; 2023-12-D3 then 2024-01-D1; two-monthly 2023-11/2023-12 then 2024-01/2024-02;
    year-to-date spans of one series, 2024-01/2024-12 then 2025-01/2025-03). All periods
    must be of one kind. A period that no unit has a row for is not in the table: it
    breaks every run.

    Parameters
    ----------
    tiered : pandas.DataFrame
        ``unit``, ``by``, ``tier`` ('top', 'bottom' or ''), one row per unit and period
        (e.g. :func:`tiers` output); optionally ``not_reported``.
    tier : {'bottom', 'top'}, default 'bottom'
    by : str, default 'period'
    missing : {'break', 'in_tier'}, default 'break'
        ``'break'``: a period the unit has no row for breaks its run. ``'in_tier'`` (bottom
        tier only): a period of the table that the unit has no row for, or a row flagged
        ``not_reported``, counts as in the bottom tier, so skipping a report never breaks a
        run (nor gains anything). Every unit of the table is taken to be assessed in every
        period of the table.
    reset : {None, 'year'}, default None
        ``'year'``: runs restart with the first period of each calendar year (the year of
        the period's last day).

    Returns
    -------
    pandas.DataFrame
        A copy of ``tiered`` (rows in their order) with ``streak`` (int).

    Raises
    ------
    ValueError
        An unknown ``tier``, ``missing`` or ``reset``; ``missing='in_tier'`` with the top
        tier; a missing column; a tier value other than 'top', 'bottom' or ''; two rows for
        one unit and period; periods of several kinds.

    Examples
    --------
    >>> t = pd.DataFrame({"unit": ["A"] * 4, "period": ["2024Q1", "2024Q2", "2024Q3", "2024Q4"],
    ...                   "tier": ["bottom", "bottom", "", "bottom"]})
    >>> streaks(t)["streak"].tolist()
    [1, 2, 0, 1]
    >>> y = pd.DataFrame({"unit": ["A"] * 3, "period": ["2023Q3", "2023Q4", "2024Q1"],
    ...                   "tier": "bottom"})
    >>> streaks(y)["streak"].tolist(), streaks(y, reset="year")["streak"].tolist()
    ([1, 2, 3], [1, 2, 1])
    """
    _check_tier(tier)
    if missing not in _MISSING:
        raise ValueError(f"missing must be 'break' or 'in_tier', got {missing!r}")
    if reset not in (None, "year"):
        raise ValueError(f"reset must be None or 'year', got {reset!r}")
    if missing == "in_tier" and tier != "bottom":
        raise ValueError("missing='in_tier' holds a unit that did not report in the bottom "
                         "tier; it cannot be used with tier='top' (no unit may gain by not "
                         "reporting)")
    _require(tiered, ["unit", by, "tier"], "streaks")
    out = tiered.copy()
    if out.empty:
        out["streak"] = pd.Series(dtype="int64")
        return out
    unit, labels = _keyed(out, by, "streaks")
    inside = _tier_values(out, "streaks") == tier
    ordinal_of, year_of = _series(labels, "streaks")
    if missing == "in_tier":
        inside |= _not_reported(out)
        grid = pd.MultiIndex.from_product([pd.unique(unit), pd.unique(labels)])
        absent = grid.difference(pd.MultiIndex.from_arrays([unit, labels]), sort=False)
        unit = np.concatenate([unit, absent.get_level_values(0).to_numpy(dtype=object)])
        labels = np.concatenate([labels, absent.get_level_values(1).to_numpy(dtype=object)])
        inside = np.concatenate([inside, np.ones(len(absent), dtype=bool)])
    ordinal = pd.Series(labels).map(ordinal_of).to_numpy(dtype=np.int64)
    year = pd.Series(labels).map(year_of).to_numpy(dtype=np.int64)
    order = np.lexsort((ordinal, unit))
    o, u, y, i = ordinal[order], unit[order], year[order], inside[order]
    follows = (u[1:] == u[:-1]) & (o[1:] - o[:-1] == 1)
    if reset == "year":
        follows &= y[1:] == y[:-1]
    # a run goes on while the unit stays, the next period follows and both are in the tier
    goes_on = np.r_[False, follows & i[:-1]] & i
    run = np.cumsum(~goes_on)
    idx = np.arange(len(o))
    first = pd.Series(idx).groupby(run).transform("min").to_numpy()
    result = np.empty(len(o), dtype=np.int64)
    result[order] = np.where(i, idx - first + 1, 0)
    out["streak"] = result[:len(out)]
    return out


def bands(scores: pd.DataFrame, *, column: str = "score",
          edges: Sequence[float] = (90.0, 75.0),
          labels: Sequence[str] = ("一类", "二类", "三类")) -> pd.DataFrame:
    """Band units by a score: ``edges`` are lower bounds, best band first.

    With the defaults a score >= 90 is band 1, >= 75 band 2, else band 3; a missing score
    gets no band (''). Banding the number of targets met (``column="met"``) is right only
    when every band is "at least n of the same criteria"; classes defined by their own named
    criteria (a class-2 village: births outside policy under control, statistics without
    error, no points lost on quality) need :func:`classify`.

    Returns
    -------
    pandas.DataFrame
        A copy of ``scores`` with ``band``.

    Raises
    ------
    ValueError
        Labels not one more than edges, edges not from the best band down, a missing
        column, two rows for one unit (and period, where there is a ``period`` column).

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
    _require(scores, ["unit", column], "bands")
    out = scores.copy()
    if "period" in out.columns and len(out):
        _keyed(out, "period", "bands")
    elif out["unit"].astype(str).str.strip().duplicated().any():
        twice = out["unit"][out["unit"].astype(str).str.strip().duplicated()].iloc[0]
        raise ValueError(f"bands takes one row per unit; the table holds more than one for "
                         f"{twice}")
    v = pd.to_numeric(out[column]).astype(float).to_numpy()
    conds = [v >= e for e in edges]
    out["band"] = np.select(conds, list(labels[:-1]), labels[-1]).astype(object)
    out.loc[np.isnan(v), "band"] = ""
    return out


def _refuse_kinds(labels: pd.Series, want: str, what: str) -> pd.Series:
    """The kind of each label; refuse any label that is not a ``want``."""
    kinds = labels.map({p: pr.kind(p) for p in labels.unique()})
    bad = sorted(set(labels[kinds != want]))
    if bad:
        shown = ", ".join(f"{b} ({pr.kind(b)})" for b in bad[:6])
        raise ValueError(f"combine takes {what}; got {shown}")
    return kinds


def _flag(values: pd.Series, name: str) -> np.ndarray:
    """A column of true/false flags read as such: text such as "False" is refused, never
    taken as true."""
    if not pd.api.types.is_bool_dtype(values) or values.isna().any():
        raise ValueError(f"{name} must hold True or False in every row, got dtype "
                         f"{values.dtype}" + (" with missing values" if values.isna().any()
                                              else ""))
    return values.to_numpy(dtype=bool)


def _refuse_duplicates(frame: pd.DataFrame, what: str) -> None:
    dup = frame.duplicated(["unit", "period"], keep=False).to_numpy()
    if dup.any():
        u, p = frame.loc[dup, ["unit", "period"]].iloc[0]
        raise ValueError(f"the {what} hold more than one score for unit {u} in {p}")


def _adjustments(adjustments: pd.DataFrame, standing: pd.DataFrame,
                 years: set[str] | None = None) -> pd.DataFrame:
    """Sum the adjustments per unit and year, with their reasons. With ``years`` (the year
    asked for) adjustments of other years are left for those years; any other adjustment
    for a unit and year not in the standing is refused."""
    _require(adjustments, ["unit", "period", "points", "reason"], "the adjustments")
    none = pd.DataFrame({"unit": pd.Series(dtype=object), "period": pd.Series(dtype=object),
                         "adjustment": pd.Series(dtype=float),
                         "adjustment_reasons": pd.Series(dtype=object)})
    if adjustments.empty:
        return none
    a = pd.DataFrame({"unit": adjustments["unit"].astype(str).str.strip().to_numpy(),
                      "period": _labels(adjustments["period"]).to_numpy(),
                      "points": pd.to_numeric(adjustments["points"]).astype(float).to_numpy(),
                      "reason": adjustments["reason"].astype("string").str.strip()
                      .fillna("").to_numpy(dtype=object)})
    _refuse_kinds(a["period"], "year", "yearly adjustments (one year each, e.g. 2024)")
    if not np.isfinite(a["points"].to_numpy()).all():
        u, p = a.loc[~np.isfinite(a["points"].to_numpy()), ["unit", "period"]].iloc[0]
        raise ValueError(f"every adjustment needs its points; unit {u} in {p} has none")
    if (a["reason"] == "").any():
        u, p = a.loc[a["reason"] == "", ["unit", "period"]].iloc[0]
        raise ValueError(f"every adjustment needs its reason; unit {u} in {p} has none")
    twice = a.duplicated(["unit", "period", "reason"]).to_numpy()
    if twice.any():
        u, p, r = a.loc[twice, ["unit", "period", "reason"]].iloc[0]
        raise ValueError(f"the adjustments hold the reason {r!r} twice for unit {u} in {p}; "
                         "sum its points in one row or tell the cases apart in the reason")
    if years is not None:
        a = a[a["period"].isin(years)].reset_index(drop=True)
        if a.empty:
            return none
    known = pd.MultiIndex.from_frame(standing[["unit", "period"]])
    stray = ~pd.MultiIndex.from_frame(a[["unit", "period"]]).isin(known)
    if stray.any():
        pairs = a.loc[stray, ["unit", "period"]].drop_duplicates()
        shown = ", ".join(f"{u} in {p}" for u, p in pairs.itertuples(index=False))
        raise ValueError(f"adjustments for units and years that are not in the standing: "
                         f"{shown}")
    a = a.sort_values(["unit", "period", "reason"], kind="stable")
    a["text"] = a["reason"] + " (" + a["points"].map("{:+g}".format) + ")"
    g = a.groupby(["unit", "period"], sort=True)
    return pd.DataFrame({"adjustment": g["points"].sum(),
                         "adjustment_reasons": g["text"].agg("; ".join)}).reset_index()


def combine(county: pd.DataFrame, external: pd.DataFrame, scheme: Scheme, *,
            period: object | None = None,
            adjustments: pd.DataFrame | None = None,
            annual: pd.DataFrame | None = None) -> pd.DataFrame:
    """Year-end standing: the county's mean quarterly score and an external (city) score,
    weighted as the scheme says (``county_weight`` and ``city_weight``), then adjusted.

    The county part is the mean over the quarters combined (all four quarters of the year,
    or the first ones up to ``period``) in which a missing quarter counts as 0 points and
    is named in ``missing_quarters``; it is never the mean of the quarters present, so no
    unit gains by a missing quarter. Year-end adjustments (a deduction per case decided at
    year end, a bonus) are added after the weighting::

        score = county_weight x county_score + city_weight x external_score + adjustment

    Parameters
    ----------
    county : pandas.DataFrame
        Quarterly scores (:func:`score`): ``unit``, ``period`` (quarters only), ``score``,
        optionally ``not_reported``.
    external : pandas.DataFrame
        ``unit``, ``period`` (years only) and ``score``, e.g. the city's assessment;
        joined by unit and year, never by position.
    scheme : Scheme
        Gives ``county_weight`` and ``city_weight`` (checked to sum to 1 when loaded).
    period : period label, optional
        The year to combine (``2024``: its four quarters), or a period inside it to combine
        the year so far (``2024Q3`` or ``2024-08``: Q1 to Q3). Rows of other years are left
        out. Default: every year of the county scores, four quarters each.
    annual : pandas.DataFrame, optional
        :func:`score` of the year itself (period ``2024``), for the targets assessed on the
        year's figures: a unit vetoed there ranks after every unit that is not
        (``vetoed``, ``veto_reason``), whatever its standing. A year not reported in full
        (mid-year) vetoes nobody; its missing quarters already count 0.
    adjustments : pandas.DataFrame, optional
        ``unit``, ``period`` (the year), ``points`` (any sign) and ``reason``
        (:func:`fpanalysis.io.load_adjustments`), several rows per unit and year allowed
        (one per reason). Every row must be for a unit and year of the standing: one that
        is not is refused, never ignored.

    Returns
    -------
    pandas.DataFrame
        ``unit``, ``period`` (year), ``county_score`` (sum of the quarterly scores / the
        number of quarters combined), ``quarters`` (quarters with a score),
        ``missing_quarters`` (those without, '' if none), ``vetoed_quarters`` (quarters
        whose assessment a veto failed: they count 0 points), ``not_reported`` (a quarter
        is missing or was not reported, or the external score is missing),
        ``external_score``, ``combined`` (the weighted
        standing before adjustments; NaN without an external score), ``adjustment`` (sum
        of the unit's adjustment points in the year, 0 without any),
        ``adjustment_reasons`` (each reason with its points, "; "-separated, by reason;
        '' without any), ``score`` (``combined`` + ``adjustment``) and ``rank`` (on
        ``score``; a unit without a score ranks after every unit with one).

    Raises
    ------
    ValueError
        County rows that are not quarters, or quarters after ``period``; external rows that
        are not years; two scores for one unit and period; adjustments that are not for
        a year, lack points or a reason, repeat a reason for a unit and year, or are for a
        unit and year not in the standing.

    Examples
    --------
    >>> from fpanalysis.scheme import Scheme, Target
    >>> s = Scheme((Target(1, "compliance_rate", ">=", 86, 100),))
    >>> q = pd.DataFrame({"unit": ["A"] * 4 + ["B"] * 3,
    ...                   "period": (["2024Q1", "2024Q2", "2024Q3", "2024Q4"] * 2)[:7],
    ...                   "score": [80, 90, 100, 90, 100, 100, 100.0]})
    >>> city = pd.DataFrame({"unit": ["B", "A"], "period": ["2024", "2024"],
    ...                      "score": [100.0, 50.0]})
    >>> combine(q, city, s)[["unit", "county_score", "missing_quarters", "score", "rank"]]
      unit  county_score missing_quarters  score  rank
    0    B          75.0           2024Q4   85.0     1
    1    A          90.0                    74.0     2
    >>> adj = pd.DataFrame({"unit": ["B"], "period": ["2024"], "points": [-12.0],
    ...                     "reason": ["unresolved cases"]})
    >>> combine(q, city, s, adjustments=adj)[["unit", "combined", "adjustment", "score",
    ...                                       "rank"]]
      unit  combined  adjustment  score  rank
    0    A      74.0         0.0   74.0     1
    1    B      85.0       -12.0   73.0     2
    """
    scheme = _check_scheme(scheme)
    c = pd.DataFrame({"unit": county["unit"].astype(str).str.strip().to_numpy(),
                      "period": _labels(county["period"]).to_numpy(),
                      "score": pd.to_numeric(county["score"]).astype(float).to_numpy(),
                      "_nr": county["not_reported"].astype(bool).to_numpy()
                      if "not_reported" in county.columns else False,
                      "_veto": county["vetoed"].astype(bool).to_numpy()
                      if "vetoed" in county.columns else False})
    x = pd.DataFrame({"unit": external["unit"].astype(str).str.strip().to_numpy(),
                      "period": _labels(external["period"]).to_numpy(),
                      "external_score": pd.to_numeric(external["score"]).astype(float)
                      .to_numpy()})
    _refuse_kinds(c["period"], "quarter", "quarterly county scores (select the quarters)")
    _refuse_kinds(x["period"], "year", "yearly external scores")
    _refuse_duplicates(c, "county scores")
    _refuse_duplicates(x, "external scores")
    c["year"] = c["period"].str[:4]
    c["q"] = c["period"].str[-1].astype(int)
    if period is None:
        through = dict.fromkeys(sorted(c["year"].unique()), 4)
    else:
        months = pr.months(pr.parse(period))
        if months[0].year != months[-1].year:
            raise ValueError(f"period must lie within one year, got {period}")
        through = {str(months[-1].year): (months[-1].month - 1) // 3 + 1}
        c = c[c["year"].isin(list(through))]
        late = c["q"] > c["year"].map(through)
        if late.any():
            raise ValueError(f"county scores for {', '.join(sorted(set(c.loc[late, 'period'])))} "
                             f"lie after {period}; select the quarters up to it")
    x = x[x["period"].isin(list(through))]
    cols = ["unit", "period", "county_score", "quarters", "missing_quarters",
            "vetoed_quarters", "not_reported", "external_score", "combined", "adjustment",
            "adjustment_reasons", "score"]
    if not through:  # no county scores at all
        out = pd.DataFrame({c_: pd.Series(dtype=float) for c_ in cols})
    else:
        grids = []
        for year, last in through.items():  # one row per unit and quarter combined; a few
            units = sorted(set(c.loc[c["year"] == year, "unit"])
                           | set(x.loc[x["period"] == year, "unit"]))
            quarters = [f"{year}Q{q}" for q in range(1, last + 1)]
            grids.append(pd.MultiIndex.from_product([units, quarters],
                                                    names=["unit", "quarter"])
                         .to_frame(index=False).assign(year=year, n=last))
        grid = pd.concat(grids, ignore_index=True)
        grid = grid.merge(c.rename(columns={"period": "quarter"})[["unit", "quarter", "score",
                                                                   "_nr", "_veto"]],
                          on=["unit", "quarter"], how="left")
        absent = grid["score"].isna()
        vetoed = grid["_veto"].fillna(False).astype(bool)
        # a missing quarter counts 0, and so does a vetoed one: its assessment failed
        grid["_score0"] = grid["score"].fillna(0.0).where(~vetoed, 0.0)
        grid["_nr"] = grid["_nr"].fillna(True).astype(bool) | absent
        g = grid.groupby(["unit", "year"], sort=True)
        out = pd.DataFrame({"county_score": g["_score0"].sum() / g["n"].first(),
                            "quarters": g["score"].count(),
                            "not_reported": g["_nr"].any()})
        missing = grid[absent].groupby(["unit", "year"])["quarter"].agg(", ".join)
        out["missing_quarters"] = missing.reindex(out.index).fillna("")
        out["vetoed_quarters"] = grid[vetoed].groupby(["unit", "year"])["quarter"].agg(
            ", ".join).reindex(out.index).fillna("")
        out = out.reset_index().rename(columns={"year": "period"})
        out = out.merge(x, on=["unit", "period"], how="left")
        out["combined"] = scheme.county_weight * out["county_score"] \
            + scheme.city_weight * out["external_score"]
    if adjustments is not None:
        adj = _adjustments(adjustments, out,
                       set(out["period"]) if period is not None else None)
        out = out.merge(adj, on=["unit", "period"], how="left")
    out["adjustment"] = out["adjustment"].astype(float).fillna(0.0) \
        if "adjustment" in out.columns else 0.0
    out["adjustment_reasons"] = out["adjustment_reasons"].astype(object).fillna("") \
        if "adjustment_reasons" in out.columns else ""
    out["score"] = out["combined"] + out["adjustment"]
    if annual is not None:  # a veto failed on the year's own figures
        _require(annual, ["unit", "period", "vetoed"], "the annual scores")
        flags = {c: _flag(annual[c], c) for c in ("vetoed", "not_reported")
                 if c in annual.columns}
        a = pd.DataFrame({"unit": annual["unit"].astype(str).str.strip().to_numpy(),
                          "period": _labels(annual["period"]).to_numpy(),
                          # a year not yet complete (not reported) vetoes nobody: its
                          # quarters already count what is missing
                          "vetoed": flags["vetoed"] & ~flags.get("not_reported", False),
                          "veto_reason": annual["veto_reason"].astype(str).to_numpy()
                          if "veto_reason" in annual.columns else ""})
        _refuse_duplicates(a, "annual scores")
        stray = ~pd.MultiIndex.from_frame(a[["unit", "period"]]).isin(
            pd.MultiIndex.from_frame(out[["unit", "period"]]))
        if stray.any():
            u, p = a.loc[stray, ["unit", "period"]].iloc[0]
            raise ValueError(f"annual scores for a unit and year not in the standing: {u} in {p}")
        _refuse_kinds(a["period"], "year", "the year's own scores (period 2024)")
        out = out.merge(a, on=["unit", "period"], how="left")
        out["vetoed"] = out["vetoed"].astype("boolean").fillna(False).astype(bool)
        out["veto_reason"] = out["veto_reason"].astype(object).fillna("")
        cols = cols + ["vetoed", "veto_reason"]
    # a unit without an external score has no standing, but it never escapes the ranking:
    # it ranks after every unit with one (and is flagged not_reported)
    no_score = out["score"].isna()
    out["not_reported"] = out["not_reported"].astype(bool) | no_score
    ranked = rank_units(out[cols])
    if no_score.any():
        ranked["rank"] = ranked["rank"].fillna(
            ranked.groupby("period")["score"].transform("count") + 1).astype("Int64")
    return ranked


_COUNTS = ("unit", "period", "periods", "top", "bottom", "held")


def tier_counts(tiered: pd.DataFrame, *, within: str = "year",
                tier: str | Sequence[str] = ("top", "bottom"), by: str = "period",
                missing: str | None = None) -> pd.DataFrame:
    """Count, per unit and calendar year, the periods the unit was in the top and in the
    bottom tier (the scheme acts on "in the bottom three times or more in a year").

    Parameters
    ----------
    tiered : pandas.DataFrame
        ``unit``, ``by``, ``tier`` ('top', 'bottom' or ''), one row per unit and period,
        all periods of one kind (e.g. :func:`tiers` output over the year's quarters or
        months); optionally ``not_reported``.
    within : {'year'}, default 'year'
        Count within each calendar year (the year of the period's last day).
    tier : {'top', 'bottom'} or sequence of them, default ('top', 'bottom')
        The tiers to count, a column each.
    by : str, default 'period'
    missing : {None, 'in_tier'}, default None
        ``'in_tier'``: a period of the table that the unit has no row for, or a row flagged
        ``not_reported``, counts as a bottom-tier period (and never as a top-tier one), as
        :func:`streaks` does; ``held`` counts those. Every unit of the table is taken to
        be assessed in every period of the table.

    Returns
    -------
    pandas.DataFrame
        One row per unit of the input and year of the input (zeros where the unit was in no
        tier): ``unit``, ``period`` (the year, e.g. '2024'), ``periods`` (the table's
        periods in that year), a count column per tier asked for (``top``, ``bottom``) and
        ``held`` (periods counted in the bottom tier for not reporting; 0 unless
        ``missing='in_tier'``). Sorted by period and unit.

    Raises
    ------
    ValueError
        An unknown ``within``, ``tier`` or ``missing``; a missing column; a tier value
        other than 'top', 'bottom' or ''; two rows for one unit and period; periods of
        several kinds.

    Examples
    --------
    >>> t = pd.DataFrame({"unit": ["A"] * 4 + ["B"] * 4,
    ...                   "period": ["2024Q1", "2024Q2", "2024Q3", "2024Q4"] * 2,
    ...                   "tier": ["bottom", "bottom", "", "bottom", "top", "", "", ""]})
    >>> tier_counts(t)
      unit period  periods  top  bottom  held
    0    A   2024        4    0       3     0
    1    B   2024        4    1       0     0
    """
    if within != "year":
        raise ValueError(f"within must be 'year', got {within!r}")
    names = tuple(dict.fromkeys((tier,) if isinstance(tier, str) else tuple(tier)))
    if not names:
        raise ValueError("tier must name 'top', 'bottom' or both")
    for name in names:
        _check_tier(name)
    if missing not in (None, "in_tier"):
        raise ValueError(f"missing must be None or 'in_tier', got {missing!r}")
    _require(tiered, ["unit", by, "tier"], "tier_counts")
    cols = [c for c in _COUNTS if c not in _TIERS or c in names]
    if tiered.empty:
        return pd.DataFrame({c: pd.Series(dtype=object if c in ("unit", "period")
                                          else "int64") for c in cols})
    unit, labels = _keyed(tiered, by, "tier_counts")
    where = _tier_values(tiered, "tier_counts")
    _, year_of = _series(labels, "tier_counts")
    year = pd.Series(labels).map(year_of).astype(str).to_numpy(dtype=object)
    held = _not_reported(tiered) if missing == "in_tier" else np.zeros(len(unit), dtype=bool)
    rows = pd.DataFrame({"unit": unit, "period": year,
                         "top": (where == "top") & ~held,
                         "bottom": (where == "bottom") | held,
                         "held": held & (where != "bottom")})
    grid = pd.MultiIndex.from_product([sorted(set(unit)), sorted(set(year))],
                                      names=["unit", "period"])
    g = rows.groupby(["unit", "period"], sort=True)
    out = g[["top", "bottom", "held"]].sum().reindex(grid, fill_value=0).astype("int64")
    per_year = pd.Series(labels).groupby(year).nunique()
    periods = per_year.reindex(grid.get_level_values("period")).to_numpy(dtype="int64")
    if missing == "in_tier":  # periods of the table the unit has no row for
        absent = periods - g.size().reindex(grid, fill_value=0).to_numpy(dtype="int64")
        out["bottom"] += absent
        out["held"] += absent
    out.insert(0, "periods", periods)
    out = out.reset_index()
    return out.sort_values(["period", "unit"], kind="stable")[cols].reset_index(drop=True)


_RULE_KEYS = ("name", "targets", "min")


def _class_rules(rules: object, default: str | None
                 ) -> tuple[list[tuple[str, tuple[object, ...], int]], str]:
    """(name, criteria, number needed) per class, best first, and the default class."""
    if hasattr(rules, "classes"):  # a scheme
        if default is None:
            default = getattr(rules, "default_class", None)
        rules = rules.classes
    if isinstance(rules, str | bytes | Mapping) or not isinstance(rules, Iterable):
        raise ValueError("rules must be a sequence of classes (objects or dicts with name, "
                         "targets and optionally min), best first, or a scheme with classes")
    out = []
    for i, rule in enumerate(rules, start=1):
        if isinstance(rule, Mapping):
            unknown = sorted(set(map(str, rule)) - set(_RULE_KEYS))
            if unknown:
                raise ValueError(f"class {i}: unknown key {unknown[0]!r}"
                                 f"{suggestion(unknown[0], _RULE_KEYS)}; a class has name, "
                                 "targets and optionally min")
            name, criteria, need = rule.get("name"), rule.get("targets"), rule.get("min")
        else:
            name, criteria, need = (getattr(rule, "name", None), getattr(rule, "targets", None),
                                    getattr(rule, "min", None))
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"class {i}: name must be a non-empty text, got {name!r}")
        if isinstance(criteria, str | bytes) or not isinstance(criteria, Iterable):
            raise ValueError(f"class {name!r}: targets must be a list of target names, got "
                             f"{criteria!r}")
        criteria = tuple(criteria)
        if not criteria:
            raise ValueError(f"class {name!r}: targets must name at least one target")
        seen = [str(c).strip() for c in criteria]
        if "" in seen:
            raise ValueError(f"class {name!r}: a target name is empty")
        if len(set(seen)) < len(seen):
            twice = next(c for c in seen if seen.count(c) > 1)
            raise ValueError(f"class {name!r}: target {twice!r} is listed twice")
        if need is None:
            need = len(criteria)
        elif isinstance(need, bool) or not isinstance(need, int | np.integer) \
                or not 1 <= need <= len(criteria):
            raise ValueError(f"class {name!r}: min must be a whole number from 1 to "
                             f"{len(criteria)} (its number of targets), got {need!r}")
        out.append((name.strip(), criteria, int(need)))
    if not out:
        raise ValueError("classify needs at least one class")
    names = [r[0] for r in out]
    if len(set(names)) < len(names):
        raise ValueError(f"class {next(n for n in names if names.count(n) > 1)!r} is "
                         "defined twice")
    if default is None:
        raise ValueError("classify needs default=, the class of a unit that meets no class's "
                         "criteria (e.g. '三类')")
    if not isinstance(default, str) or not default.strip():
        raise ValueError(f"default must be a non-empty text, got {default!r}")
    if default.strip() in names:
        raise ValueError(f"default {default!r} is also the name of a class with criteria")
    return out, default.strip()


def _criterion(name: object, cls: str, catalogue: pd.DataFrame) -> str:
    """The ``target`` (as text) a criterion names: by the target's label, indicator key, number,
    or ``target N (indicator)``; exactly one target must match."""
    text = str(name).strip()
    hit = catalogue.loc[(catalogue[["target", "indicator", "label", "name"]] == text)
                        .any(axis=1).to_numpy(), "target"]
    found = list(dict.fromkeys(hit))
    if not found:
        choices = set(catalogue["label"]) | set(catalogue["indicator"])
        raise ValueError(f"class {cls!r}: criterion {text!r} names no target of the evaluated "
                         f"table{suggestion(text, choices - {''})}")
    if len(found) > 1:
        raise ValueError(f"class {cls!r}: criterion {text!r} names several targets "
                         f"({', '.join(map(str, found))}); name one by its label or number")
    return found[0]


def classify(evaluated: pd.DataFrame, rules: object, *,
             default: str | None = None) -> pd.DataFrame:
    """Give each unit and period the first class whose criteria it meets, best class first.

    Each class names its criteria: targets of the evaluated table that must all be met, or
    at least ``min`` of them. A class-1 village meets all six "zero" criteria; a class-2
    village meets the class-2 list, which need not be "four of the six" (e.g. births outside
    policy under control, statistics without error, no points lost on quality); a unit that
    meets no class's criteria gets ``default``. A criterion without data (``met`` is
    ``<NA>``, or the unit has no row for the target) is not met, so no unit gains a class
    by not reporting.

    Parameters
    ----------
    evaluated : pandas.DataFrame
        :func:`evaluate` output: ``unit``, ``period``, ``target`` and ``met``, and
        optionally ``indicator`` and ``label`` (to name criteria by).
    rules : sequence of class rules, or a scheme with ``classes``
        Best class first. Each rule is an object with attributes, or a dict with keys,
        ``name`` (text), ``targets`` (the criteria: each a target's label, indicator key,
        number, or ``target N (indicator)``, naming exactly one target of ``evaluated``)
        and ``min`` (optional: how many of them must be met; default all). A scheme's
        ``classes`` are used, and its ``default_class`` when ``default`` is not given.
    default : str
        The class of a unit that meets no class's criteria, e.g. '三类'.

    Returns
    -------
    pandas.DataFrame
        ``unit``, ``period``, ``class`` and ``failed``: for a unit below the first class,
        the criteria of the class just above the one it got that it failed, each by the
        name the rule gives it, with "(no data)" where there was none, and for a ``min``
        class led by "k of n met, m needed:"; '' for the first class. Sorted by period and
        unit.

    Raises
    ------
    ValueError
        A rule without a name or criteria, a ``min`` outside 1..number of criteria, a
        class named twice, no ``default``; a criterion that names no target or several; a
        criterion's target with no row in a period of the table (it does not apply to the
        period: classify the periods it applies to); two rows for one unit, period and
        target.

    Examples
    --------
    >>> ev = pd.DataFrame({"unit": ["V1", "V1", "V2", "V2"], "period": "2024",
    ...                    "target": [1, 2, 1, 2], "indicator": ["a", "b", "a", "b"],
    ...                    "label": ["", "", "", ""], "met": [True, True, True, None]})
    >>> classify(ev, [{"name": "一类", "targets": ["a", "b"]}], default="二类")
      unit period class          failed
    0   V1   2024  一类
    1   V2   2024  二类  b (no data)
    """
    classes, default = _class_rules(rules, default)
    _require(evaluated, ["unit", "period", "target", "met"], "classify")
    cols = ["unit", "period", "class", "failed"]
    if evaluated.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    unit, labels = _keyed(evaluated, "period", "classify", extra=("target",))
    key = evaluated["target"].astype(str).str.strip().to_numpy(dtype=object)
    text = {c: evaluated[c].astype("string").fillna("").str.strip().to_numpy(dtype=object)
            if c in evaluated.columns else np.full(len(unit), "", dtype=object)
            for c in ("indicator", "label")}
    catalogue = pd.DataFrame({"target": key, "indicator": text["indicator"],
                              "label": text["label"]}).drop_duplicates("target")
    catalogue["name"] = "target " + catalogue["target"] + " (" + catalogue["indicator"] + ")"
    met = pd.array(evaluated["met"], dtype="boolean")
    state = np.where(met.isna(), -1, met.fillna(False).to_numpy(dtype=bool).astype(int))
    wide = pd.DataFrame({"unit": unit, "period": labels, "key": key,
                         "state": state}).pivot(index=["period", "unit"], columns="key",
                                                values="state")
    periods = pd.Series(labels).groupby(key).unique()
    all_periods = set(labels)
    holds, failed = [], []
    for name, criteria, need in classes:  # a loop over the few classes and their criteria
        met_n = np.zeros(len(wide), dtype=int)
        text_failed = np.full(len(wide), "", dtype=object)
        for c in criteria:
            k = _criterion(c, name, catalogue)
            absent = sorted(all_periods - set(periods[k]))
            if absent:
                raise ValueError(f"class {name!r}: criterion {str(c).strip()!r} has no row in "
                                 f"period(s) {', '.join(absent[:6])} (its target does not "
                                 "apply there); classify the periods it applies to")
            s = wide[k].fillna(-1).to_numpy(dtype=int)
            met_n += s == 1
            piece = np.where(s == 1, "", np.where(s == -1, f"{str(c).strip()} (no data)",
                                                  str(c).strip())).astype(object)
            text_failed = np.where(piece == "", text_failed,
                                   np.where(text_failed == "", piece,
                                            text_failed + ", " + piece)).astype(object)
        if need < len(criteria):
            lead = pd.Series(met_n).astype(str).to_numpy(dtype=object) \
                + f" of {len(criteria)} met, {need} needed: "
            text_failed = (lead + text_failed).astype(object)
        holds.append(met_n >= need)
        failed.append(text_failed)
    names = [c[0] for c in classes]
    got = np.select(holds, names, default).astype(object)
    above = [np.full(len(wide), "", dtype=object)] + failed[:-1]
    why = np.select(holds, above, failed[-1]).astype(object)
    out = wide.index.to_frame(index=False)[["unit", "period"]]
    out["class"] = got
    out["failed"] = why
    return out.sort_values(["period", "unit"], kind="stable").reset_index(drop=True)[cols]


# --------------------------------------------------------------------------- uncertainty


_UNCERTAINTY = {"unit": object, "period": object, "score": float, "rank": "Int64",
                "not_reported": bool, "vetoed": bool, "p_vetoed": float,
                "median_rank": float, "draw_rank_lower": float,
                "draw_rank_upper": float, "rank_set_lower": int, "rank_set_upper": int,
                "joint_rank_set_lower": int, "joint_rank_set_upper": int,
                "p_top": float, "p_bottom": float, "draws": int, "seed": int}


_SET_COLUMNS = ("rank_set_lower", "rank_set_upper", "joint_rank_set_lower",
                "joint_rank_set_upper")
_RANK_SET_ATTRS = {
    "level": 0.95,
    "method": "rank_set_*: marginal 95 % rank confidence set (Bonferroni over the unit's K - 1 "
              "score differences); joint_rank_set_*: simultaneous 95 % set (Bonferroni over "
              "all pairs); each difference: observed and mean redrawn difference, +/- z x "
              "its SD over the redraws (normal approximation). draw_rank_*: 2.5-97.5 % of "
              "the ranks under redraws, not a confidence set."}


def _rank_min(a: np.ndarray) -> np.ndarray:
    """``scipy.stats.rankdata(a, axis=1, method="min")`` without importing scipy.stats
    (about a second of every report's start): ties share the lowest rank, int64 out. A row
    with NaN is left to scipy (its rows of NaN).

    Examples
    --------
    >>> _rank_min(np.array([[3.0, 1.0, 3.0, 2.0], [0.0, 0.0, -1.0, 5.0]])).tolist()
    [[3, 1, 3, 2], [2, 2, 1, 4]]
    """
    if np.isnan(a).any():
        from scipy import stats

        return stats.rankdata(a, axis=1, method="min")
    order = np.argsort(a, axis=1, kind="stable")
    s = np.take_along_axis(a, order, axis=1)
    start = np.ones(s.shape, dtype=bool)  # first of a run of ties
    start[:, 1:] = s[:, 1:] != s[:, :-1]
    first = np.maximum.accumulate(np.where(start, np.arange(s.shape[1]), 0), axis=1)
    ranks = np.empty(s.shape, dtype=np.asarray(1).dtype)
    np.put_along_axis(ranks, order, first + 1, axis=1)
    return ranks


def rank_uncertainty(
    counts: pd.DataFrame,
    scheme: Scheme,
    *,
    period: object,
    values: pd.DataFrame | None = None,
    units: pd.DataFrame | None = None,
    level: str | None = None,
    prefer: str | None = None,
    draws: int = 10_000,
    k: int | None = None,
    seed: int = 20241,
) -> pd.DataFrame:
    """How certain is each unit's rank? 95 % rank confidence sets, and the ranks under
    ``draws`` redraws.

    The observed evaluation is :func:`evaluate` of the scheme's targets that apply to
    ``period`` (with ``values``, ``units`` and ``prefer``). In each draw every computed
    numerator is drawn from its sampling distribution (Beta for proportions and sex ratios,
    Gamma for Poisson counts, Jeffreys priors); a supplied value with an interval is drawn
    from the normal distribution matching it (without one it is held fixed); a value that is
    missing stays missing and earns nothing. Each draw is scored with
    :meth:`fpanalysis.scheme.Target.earned`, the rule :func:`evaluate` uses, and the units
    are ranked (ties share the better rank). A unit that fails a veto target in a draw
    ranks after every unit that does not in that draw, as :func:`score` ranks it. A
    compare target redraws both periods' values and scores their difference; a milestone's
    done to date is a count of work, not a sample, and is held at its observed share; an
    empty denominator is met or not as ``when_empty`` says, in every draw. All draws are
    computed at once as (draws x units) arrays.

    Parameters
    ----------
    counts : pandas.DataFrame
        Monthly (or period) counts.
    scheme : Scheme
        From :func:`fpanalysis.scheme.load_targets`.
    period : period label
        The assessment period.
    values : pandas.DataFrame, optional
        Supplied values for indicators not computed from counts.
    units, level : optional
        Every unit of ``units`` at the level ranked is assessed; ``level`` ranks units of
        another level (as in :func:`fpanalysis.indicators.compute`).
    prefer : {'computed', 'supplied'}, optional
        As in :func:`evaluate`.
    draws : int, default 10000
        At least 100; or 0 for the observed scores and ranks alone, without a redraw:
        every column made from redraws (``p_vetoed``, ``median_rank``, the redraw ranges,
        the rank sets, ``p_top``, ``p_bottom``) is then missing (NaN), for a table that
        shows none of them (:func:`fpanalysis.report.league`, public edition).
    k : int, optional
        Size of the top and bottom tiers; default ``scheme.tier_size``.
    seed : int, default 20241
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    pandas.DataFrame
        ``unit``, ``period``, ``score`` and ``rank`` (observed), ``not_reported``,
        ``vetoed`` (observed), ``p_vetoed`` (share of draws in which the unit fails a
        veto), ``median_rank``, ``draw_rank_lower`` and ``draw_rank_upper`` (2.5 % and
        97.5 % quantiles of the ranks under redraws: the spread of the ranks, *not* a 95 %
        confidence set for the true rank; redraws centred on the observed counts inherit the
        observed ranks' pull towards the middle), ``rank_set_lower`` and ``rank_set_upper``
        (the marginal 95 % rank confidence set: the unit's true rank lies in it with
        probability >= 95 %), ``joint_rank_set_lower`` and ``joint_rank_set_upper`` (the
        simultaneous 95 % set: every unit's true rank lies in its set at once with
        probability >= 95 %), ``p_top`` and ``p_bottom`` (share of redraws in the top /
        bottom k), ``draws`` and ``seed``; sorted by observed rank. Empty (with these
        columns) when no target of the scheme applies to ``period``. ``attrs["level"]`` and
        ``attrs["method"]`` say how the sets are built.

    Notes
    -----
    The rank sets come from :func:`fpanalysis.ranks.confidence_sets`: an interval for each
    pairwise difference of the scores (from the smaller to the larger of the observed and
    the mean redrawn difference, +/- z times its standard deviation over the redraws;
    Bonferroni over the unit's K - 1 differences for the marginal set and over all pairs
    for the joint set). The scores compared include the veto: a vetoed unit's score is
    lowered below every unvetoed score, as in the ranking. It is a normal approximation;
    see :mod:`fpanalysis.ranks` for where it is weak. At a quarter's counts the sets of an
    18-township county are often 1-18: that is what the data can tell.

    A scheme's ``[[audit]]`` tables are left out: the scores redrawn and ranked here are
    the targets' alone, without audit deductions, vetoes or corrected figures (re-checks
    are not sampled counts). Compare with :func:`score` of :func:`evaluate` with
    ``audits=`` for the scores with them.
    """
    from scipy import special

    scheme = _check_scheme(scheme)
    k = scheme.tier_size if k is None else k
    if isinstance(draws, bool) or not isinstance(draws, int | np.integer) or (
            draws < 100 and draws != 0):
        raise ValueError(f"draws must be a whole number of at least 100 (rank sets and "
                         f"tier shares rest on them), or 0 for the observed ranks alone, "
                         f"got {draws!r}")
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"k (the tier size) must be a whole number of at least 1, got {k!r}")
    rng = np.random.default_rng(seed)
    scheme = replace(scheme, audits=())  # audit deductions are not redrawn (see Notes)
    p = pr.parse(period)
    applicable = scheme.applicable(p)
    if not applicable:  # e.g. a monthly report under a quarterly scheme: nothing to rank
        empty = pd.DataFrame({c: pd.Series(dtype=d) for c, d in _UNCERTAINTY.items()})
        empty.attrs.update(_RANK_SET_ATTRS)
        return empty
    keys = _computed(scheme, applicable)
    if not keys and not any(t.is_milestone for t in applicable):
        raise ValueError(f"no target that applies to {p} is computed from counts; "
                         "rank_uncertainty redraws counts")
    results, base = _inputs(counts, scheme, [p], units, level)
    ev = evaluate(results, scheme, values=values, units=units, prefer=prefer, baseline=base)
    observed = score(ev).set_index("unit")
    if len(observed) and observed["not_reported"].all():
        raise ValueError(f"no unit reported {p} in full: there is nothing to rank (every "
                         "score would rest on missing counts)")
    unit_codes = pd.Series(sorted(observed.index.astype(str)))
    n_units = len(unit_codes)
    if draws == 0:  # the observed scores and ranks alone: every redraw column missing
        return _uncertainty_frame(observed.reindex(unit_codes), unit_codes, p, {
            c: np.full(n_units, np.nan) for c in _UNCERTAINTY if c not in _OBSERVED},
            draws, seed, applicable)
    total = np.zeros((draws, n_units))
    vetoed = np.zeros((draws, n_units), dtype=bool)
    sums_of: dict[str, tuple[pd.DataFrame, dict[str, ind.Indicator]]] = {}

    def redraw(key: str, period: str) -> np.ndarray:
        """Draws of one indicator for every unit in ``period`` (NaN without counts)."""
        if period not in sums_of:
            try:
                sums, specs = ind.group_sums(counts, keys, by=["unit"], period=period,
                                             level=level, units=units)
            except ValueError:  # no counts for a baseline period
                sums, specs = pd.DataFrame(index=pd.Index([], dtype=object)), []
            sums = sums.set_axis(sums.index.astype(str)).reindex(unit_codes)
            sums_of[period] = (sums, {sp.key: sp for sp in specs})
        sums, by_key = sums_of[period]
        if key not in by_key:
            return np.full((draws, n_units), np.nan)
        return by_key[key].draw(sums, rng, draws)

    for t in applicable:  # the ~10 targets; each draws all units at once
        obs = ev[ev["target"] == t.number].set_index("unit").reindex(unit_codes)
        source = obs["source"].fillna("").to_numpy()
        threshold = obs["threshold"].to_numpy(dtype=float)
        value = np.full((draws, n_units), np.nan)
        if t.is_milestone:  # work done is counted, not sampled: held at the observed share
            value = np.broadcast_to(obs["share"].to_numpy(dtype=float), value.shape)
        elif (source == "computed").any():
            value = np.where(source == "computed", redraw(t.indicator, str(p)), value)
        if not t.is_milestone and (source == "supplied").any():
            mean = obs["value"].to_numpy(dtype=float)
            sd = ((obs["upper"] - obs["lower"]) / (2 * special.ndtri(0.975))).to_numpy(float)
            sd = np.where(np.isnan(sd), 0.0, sd)
            value = np.where(source == "supplied",
                             mean + sd * rng.standard_normal((draws, n_units)), value)
        if t.compare:  # the change on the baseline, both periods redrawn
            bp = obs["baseline_period"].fillna("").astype(str).to_numpy()
            b = np.full((draws, n_units), np.nan)
            for period in sorted(set(bp) - {""}):  # one baseline period per assessed period
                b = np.where(bp == period, redraw(t.indicator, period), b)
            held = obs["baseline"].to_numpy(dtype=float)  # a supplied baseline: held fixed
            b = np.where(np.isnan(held), np.nan, np.where(np.isnan(b), held, b))
            value = value - b
        earned = t.earned(value, threshold)
        met = t.meets(value, threshold) & ~np.isnan(value)
        empty = obs["empty"].fillna(False).to_numpy(dtype=bool)
        if t.when_empty != "no_data":  # an empty denominator: met or not by rule, no draw
            ok = t.when_empty == "met"
            earned = np.where(empty, t.points if ok and not t.is_veto else 0.0, earned)
            met = np.where(empty, ok, met)
        due = (obs["verdict"] != "not_due").to_numpy()
        total += np.where(due, earned, 0.0) * t.weight
        if t.is_veto:
            vetoed |= due & ~met
    # a vetoed unit ranks after every other, among vetoed units by score
    full = sum(t.points * t.weight for t in applicable) + 1.0
    total = total - np.where(vetoed, full, 0.0)
    obs_units = observed.reindex(unit_codes)
    obs_key = obs_units["score"].to_numpy(dtype=float) \
        - np.where(obs_units["vetoed"].to_numpy(dtype=bool), full, 0.0)
    if n_units > 1:  # rank sets: intervals on every pairwise score difference
        sets = rk.confidence_sets(obs_key, difference_sd=rk.draw_difference_sd(total),
                                  also_centre=total.mean(axis=0))
    else:
        sets = {c: np.ones(n_units, dtype=int) for c in _SET_COLUMNS}
    ranks = _rank_min(-total)
    from_bottom = _rank_min(total)
    return _uncertainty_frame(obs_units, unit_codes, p, {
        "p_vetoed": vetoed.mean(axis=0),
        "median_rank": np.median(ranks, axis=0),
        "draw_rank_lower": np.quantile(ranks, 0.025, axis=0, method="lower"),
        "draw_rank_upper": np.quantile(ranks, 0.975, axis=0, method="higher"),
        **{c: sets[c] for c in _SET_COLUMNS},
        "p_top": (ranks <= k).mean(axis=0), "p_bottom": (from_bottom <= k).mean(axis=0),
    }, draws, seed, applicable)


#: Columns of :func:`rank_uncertainty` that come from the observed evaluation, not redraws.
_OBSERVED = ("unit", "period", "score", "rank", "not_reported", "vetoed", "draws", "seed")


def _uncertainty_frame(obs_units: pd.DataFrame, unit_codes: pd.Series, p: object,
                       redrawn: Mapping[str, np.ndarray], draws: int, seed: int,
                       applicable: Sequence[Target]) -> pd.DataFrame:
    """The :func:`rank_uncertainty` table: the observed scores and ranks (``obs_units``, by
    unit code), the columns made from redraws, sorted by rank; ``attrs["indicators"]``
    names the indicators the scores rest on (a public league table withholds redraws of a
    sensitive one)."""
    out = pd.DataFrame({
        "unit": unit_codes, "period": str(p),
        "score": obs_units["score"].to_numpy(), "rank": obs_units["rank"].to_numpy(),
        "not_reported": obs_units["not_reported"].to_numpy(dtype=bool),
        "vetoed": obs_units["vetoed"].to_numpy(dtype=bool),
        **redrawn, "draws": draws, "seed": seed})
    out = out.sort_values(["rank", "unit"], kind="stable").reset_index(drop=True)
    out.attrs.update(_RANK_SET_ATTRS)
    out.attrs["indicators"] = tuple(sorted({str(t.indicator) for t in applicable}))
    return out
