"""Audit re-checks: false-report rates, verification factors, audit-corrected counts and
audit-adjusted indicators.

An office re-checks a sample of the cases a unit reported ("27 re-checked, 5 false"). The
audits table (:func:`fpanalysis.io.load_audits`) holds, per unit, period and item, the cases
``reported``, how many of them were ``checked`` and how many of those were ``false_found``.
:func:`audit_estimates` turns each row into a false-report rate with an exact interval, the
verification factor of the WHO Data Quality Review and the count corrected for the false
share, and pools units into a stratified estimate per period and item.
:func:`audit_adjusted` recomputes an indicator after correcting its numerator, with the
interval widened for the uncertainty of the audit. :func:`audit_sums` sums the re-checks that
fall within an assessment period; :func:`fpanalysis.targets.evaluate` scores them.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .. import intervals as iv
from .. import periods as pr
from ..schema import suggestion

__all__ = [
    "ADJUST",
    "POOLED",
    "VF_OVER",
    "VF_UNDER",
    "audit_adjusted",
    "audit_estimates",
    "audit_sums",
]

#: How a figure is corrected by an audit: not at all, by subtracting the false cases found,
#: or by scaling with one minus the estimated false share.
ADJUST = ("none", "subtract_found", "scale_by_false_share")

#: The ``unit`` of a pooled row of :func:`audit_estimates`.
POOLED = "(pooled)"

#: WHO Data Quality Review: a verification factor below 0.90 means over-reporting, above
#: 1.10 under-reporting.
VF_OVER, VF_UNDER = 0.90, 1.10

_REQUIRED = ("unit", "period", "item", "reported", "checked", "false_found")
_COUNTS = ("reported", "checked", "false_found")
_ESTIMATES = ["unit", "period", "item", "pooled", "units", "reported", "checked",
              "false_found", "false_rate", "lower", "upper", "verification_factor",
              "vf_lower", "vf_upper", "vf_verdict", "corrected", "corrected_lower",
              "corrected_upper", "flag", "tolerance", "confidence", "method", "note"]
_NOT_CHECKED = "no case re-checked (checked = 0): no estimate"


def _where(mask: np.ndarray, index: pd.Index) -> str:
    shown = [str(i) for i in index[mask][:5]]
    more = f" and {int(mask.sum()) - 5} more" if mask.sum() > 5 else ""
    return f"{', '.join(shown)}{more}"


def unit_codes(values: pd.Series) -> pd.Series:
    """Unit codes as stripped text, a whole number written as a float (``1.0``, as a column
    with a gap reads) as its integer text (``"1"``), so that codes match across frames."""
    text = pd.Series(values, copy=False).astype("string").str.strip()
    return text.str.replace(r"^([+-]?\d+)\.0*$", r"\1", regex=True)


def _prepare(audits: object) -> pd.DataFrame:
    """A checked copy: ``unit`` and ``item`` stripped text, ``_label`` the canonical period
    label, counts as floats holding whole numbers. Every problem is listed in one
    ``ValueError`` (rows named by the frame's index)."""
    if not isinstance(audits, pd.DataFrame):
        raise TypeError(f"audits must be a pandas DataFrame (fpanalysis.io.load_audits), got "
                        f"{type(audits).__name__}")
    missing = [c for c in _REQUIRED if c not in audits.columns]
    if missing:
        raise ValueError(f"the audits have no column(s) {', '.join(missing)}")
    data = audits[list(_REQUIRED)].copy()
    index = data.index
    problems = []
    for key in ("unit", "item"):
        text = unit_codes(data[key]) if key == "unit" else data[key].astype("string").str.strip()
        empty = (text.isna() | (text == "")).to_numpy(dtype=bool)
        if empty.any():
            problems.append(f"{key} is empty at index {_where(empty, index)}")
        data[key] = text.fillna("").astype(object)
    labels = data["period"].astype("string").fillna("").str.strip()
    parsed = {}
    for label in labels.unique():  # a few dozen distinct labels
        try:
            parsed[label] = str(pr.parse(label))
        except ValueError:
            parsed[label] = ""
    data["_label"] = labels.map(parsed).astype(object)
    bad = (data["_label"] == "").to_numpy(dtype=bool)
    if bad.any():
        problems.append(f"period is not a period label at index {_where(bad, index)}")
    for key in _COUNTS:
        raw = data[key]
        if pd.api.types.is_bool_dtype(raw) or raw.map(type).eq(bool).any():
            problems.append(f"{key} must be a count, not true/false")
            data[key] = np.nan
            continue
        num = pd.to_numeric(raw, errors="coerce").astype(float).to_numpy()
        gap = np.isnan(num)
        if gap.any():
            problems.append(f"{key} is missing or not a number at index {_where(gap, index)}")
        with np.errstate(invalid="ignore"):
            frac = ~gap & (~np.isfinite(num) | (np.mod(num, 1) != 0))
            negative = ~gap & ~frac & (num < 0)
        if frac.any():
            problems.append(f"{key} must be a whole number at index {_where(frac, index)}")
        if negative.any():
            problems.append(f"{key} must not be negative at index {_where(negative, index)}")
        data[key] = np.where(gap | frac | negative, np.nan, num)
    n, rep, x = (data[k].to_numpy(dtype=float) for k in ("checked", "reported", "false_found"))
    with np.errstate(invalid="ignore"):
        over = n > rep
        too_many = x > n
    if over.any():
        problems.append(f"checked exceeds reported at index {_where(over, index)}")
    if too_many.any():
        problems.append(f"false_found exceeds checked at index {_where(too_many, index)}")
    dup = data.duplicated(["unit", "_label", "item"], keep=False).to_numpy()
    if dup.any():
        u, p, i = data.loc[dup, ["unit", "_label", "item"]].iloc[0]
        problems.append(f"{int(dup.sum())} rows share a unit, period and item (e.g. {u}, {p}, "
                        f"{i}); each may appear once")
    if problems:
        raise ValueError("audits: " + "; ".join(problems))
    return data


def _check_overlaps(data: pd.DataFrame) -> None:
    """Refuse two audit rows of one unit and item whose periods overlap (a month and the
    quarter holding it): summed, they would count the same cases twice."""
    labels = list(pd.unique(data["_label"]))
    if len(labels) < 2:
        return
    spans = {a: (pr.start(a), pr.end(a)) for a in labels}
    problems = []
    for i, a in enumerate(labels):  # a few dozen distinct audit periods
        for b in labels[i + 1:]:
            if spans[a][0] <= spans[b][1] and spans[b][0] <= spans[a][1]:
                both = data[data["_label"] == a][["unit", "item"]].merge(
                    data[data["_label"] == b][["unit", "item"]], on=["unit", "item"])
                for u, it in both.drop_duplicates().head(5).itertuples(index=False):
                    problems.append(f"{u}, {it}: {a} and {b}")
    if problems:
        raise ValueError("audits: overlapping audit periods for one unit and item would count "
                         "the same cases twice (" + "; ".join(problems[:10]) + "); give "
                         "each unit and item audits of periods that do not overlap")


def _check_share(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating) \
            or not math.isfinite(value) or not 0 <= value < 1:
        raise ValueError(f"{name} must be a share in [0, 1), got {value!r}")
    return float(value)


def _verdict(vf: np.ndarray) -> np.ndarray:
    out = np.full(len(vf), "", dtype=object)
    with np.errstate(invalid="ignore"):
        out[vf < VF_OVER] = "over_reporting"
        out[vf > VF_UNDER] = "under_reporting"
        out[(vf >= VF_OVER) & (vf <= VF_UNDER)] = "consistent"
    return out


def _pooled(data: pd.DataFrame, confidence: float) -> pd.DataFrame:
    """Stratified estimates per period label and item (each unit a stratum)."""
    checked = data["checked"].to_numpy(dtype=float)
    audited = data[checked > 0]
    keys = ["_label", "item"]
    groups = data.groupby(keys, sort=True)
    out = groups.agg(period=("_label", "first"), reported=("reported", "sum"),
                     checked=("checked", "sum"), false_found=("false_found", "sum"),
                     strata=("unit", "size"))
    if len(audited):
        n = audited["checked"].to_numpy(dtype=float)
        big_n = audited["reported"].to_numpy(dtype=float)
        p = audited["false_found"].to_numpy(dtype=float) / n
        total = audited.groupby(keys)["reported"].transform("sum").to_numpy(dtype=float)
        w = big_n / total
        with np.errstate(divide="ignore", invalid="ignore"):
            term = np.where(n > 1, w * w * (1 - n / big_n) * p * (1 - p) / (n - 1), 0.0)
        parts = pd.DataFrame({"_label": audited["_label"].to_numpy(),
                              "item": audited["item"].to_numpy(), "wp": w * p, "var": term,
                              "n": n, "used": 1.0, "rep_used": big_n})
        sums = parts.groupby(keys, sort=True)[["wp", "var", "n", "used", "rep_used"]].sum()
        out = out.join(sums)
    else:
        out = out.assign(wp=np.nan, var=np.nan, n=0.0, used=0.0, rep_used=0.0)
    out[["n", "used", "rep_used"]] = out[["n", "used", "rep_used"]].fillna(0.0)
    out = out.reset_index()
    p = np.where(out["used"] > 0, out["wp"].to_numpy(dtype=float), np.nan)
    var = out["var"].to_numpy(dtype=float)
    n_all = out["n"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        n_eff = np.where((var > 0) & (p > 0) & (p < 1), p * (1 - p) / var, n_all)
    n_eff = np.minimum(n_eff, n_all)
    lower, upper = iv.proportion_confint(p * n_eff, n_eff, confidence=confidence,
                                         method="wilson")
    lower = np.where(p == 0, 0.0, lower)
    unchecked = (out["strata"] - out["used"]).to_numpy(dtype=int)
    note = np.where(unchecked > 0, pd.Series(unchecked).astype(str).to_numpy(dtype=object)
                    + " unit(s) with checked = 0 left out (their reported cases too)", "")
    note = np.where(out["used"].to_numpy() == 0, _NOT_CHECKED, note)
    return pd.DataFrame({
        "unit": POOLED, "period": out["period"].to_numpy(), "_label": out["_label"],
        "item": out["item"], "pooled": True, "units": out["used"].astype(int),
        "reported": out["rep_used"].to_numpy(dtype=float),
        "checked": out["checked"].to_numpy(dtype=float),
        "false_found": out["false_found"].to_numpy(dtype=float),
        "false_rate": p, "lower": lower, "upper": upper, "method": "stratified_wilson",
        "note": note})


def _check_one_level(data: pd.DataFrame, units: object) -> None:
    """Refuse audits of units missing from ``units`` or of units of several levels."""
    if not isinstance(units, pd.DataFrame) or not {"unit", "level"} <= set(units.columns):
        raise TypeError("units must be a units table with columns unit and level "
                        "(fpanalysis.io.load_units)")
    level = pd.Series(units["level"].astype("string").str.strip().to_numpy(),
                      index=unit_codes(units["unit"]).to_numpy())
    level = level[~level.index.duplicated()]
    got = data["unit"].map(level)
    unknown = sorted(set(data.loc[got.isna().to_numpy(), "unit"]))
    if unknown:
        raise ValueError(f"audits: unit(s) not in the units table: {', '.join(unknown[:10])}"
                         f"{suggestion(unknown[0], set(level.index))}")
    levels = sorted(set(got))
    if len(levels) > 1:
        which = "; ".join(
            f"{lv}: {', '.join(sorted(set(data.loc[(got == lv).to_numpy(), 'unit']))[:3])}"
            for lv in levels)  # a few levels
        raise ValueError(f"audits: the audits hold units of several levels ({which}); a pooled "
                         "row pools one level: pass the audits of one level")


def audit_estimates(audits: pd.DataFrame, *, confidence: float = 0.95,
                    tolerance: float = 0.05, units: pd.DataFrame | None = None
                    ) -> pd.DataFrame:
    """Estimate the false-report rate of every audit row and of each period's pooled units.

    Parameters
    ----------
    audits : pandas.DataFrame
        ``unit``, ``period``, ``item``, ``reported``, ``checked``, ``false_found``
        (:func:`fpanalysis.io.load_audits`; a frame built by hand is checked the same way).
    confidence : float, default 0.95
        Two-sided level of the intervals.
    tolerance : float, default 0.05
        A row is flagged when the lower limit of its false rate exceeds this share.
    units : pandas.DataFrame, optional
        The units table (:func:`fpanalysis.io.load_units`). With it every audit unit must be
        in it and all of one level (a pooled row pools one level: township audits are not
        pooled with village audits). Without it the pooled rows assume that the audits
        hold units of one level; pass it to have that checked.

    Returns
    -------
    pandas.DataFrame
        One row per audits row (``pooled`` False) and, per period and item, one pooled row
        (``unit`` :data:`POOLED`, ``pooled`` True), sorted by period, item, pooled, unit:

        ``unit``, ``period``, ``item``, ``pooled``, ``units`` (units in the estimate: 1, or
        the audited units pooled), ``reported``, ``checked``, ``false_found`` (pooled: sums;
        ``reported`` over the audited units only), ``false_rate`` (false_found / checked;
        pooled: the stratified estimate), ``lower``, ``upper`` (its interval),
        ``verification_factor`` (confirmed / checked = 1 - false_rate), ``vf_lower``,
        ``vf_upper``, ``vf_verdict`` (``over_reporting`` below 0.90, ``under_reporting``
        above 1.10, else ``consistent``; '' without an estimate), ``corrected`` (reported x
        (1 - false_rate)), ``corrected_lower``, ``corrected_upper`` (reported x (1 -
        upper), reported x (1 - lower)), ``flag`` (nullable boolean: lower > tolerance;
        ``<NA>`` without an estimate), ``tolerance``, ``confidence``, ``method``
        (``clopper_pearson`` or ``stratified_wilson``), ``note`` (why a row has no
        estimate, or which units a pooled row leaves out). ``period`` is the canonical
        label (``2024Q1`` for "2024年第1季度" or "2024-Q1"), so that spellings pool together.

    Raises
    ------
    ValueError
        A missing column, an empty unit or item, a period that is not a label, a count that
        is missing, fractional or negative, checked > reported, false_found > checked, or
        two rows for one unit, period and item (after stripping spaces), all listed;
        ``confidence`` or ``tolerance`` out of range; with ``units``, audit units not in it
        or of several levels.

    Notes
    -----
    Row estimates: p = x / n with the exact Clopper-Pearson interval (x false of n
    checked). A row with n = 0 has no estimate (NaN, a note), never a rate of 0.

    The verification factor (WHO Data Quality Review) is recounted over reported. A re-check
    here can only find reported cases false, so VF = 1 - p <= 1: under-reporting cannot be
    seen in these data.

    Pooled rows treat each audited unit h as a stratum with N_h reported cases of which n_h
    were checked: p = sum W_h p_h with W_h = N_h / sum N_h, and (Cochran 1977, 5A.4) v(p) =
    sum W_h^2 (1 - n_h / N_h) p_h (1 - p_h) / (n_h - 1) (a stratum with n_h = 1 adds 0).
    The interval is Wilson's on the effective sample size n* = p (1 - p) / v(p) (Kish),
    capped at sum n_h as Korn and Graubard (1998) do, so that pooling never gives a
    narrower interval than the plain binomial of the pooled checks; with p = 0, p = 1 or
    v(p) = 0, n* = sum n_h. Units with n_h = 0 are left out (and said so in ``note``).

    References
    ----------
    Clopper CJ, Pearson ES (1934) Biometrika 26:404-413. Cochran WG (1977) Sampling
    Techniques, 3rd ed., ch. 5A. Korn EL, Graubard BI (1998) Survey Methodology 24:193-201.
    WHO (2017) Data Quality Review, module 3: the verification factor.

    Examples
    --------
    >>> a = pd.DataFrame({"unit": ["A", "B"], "period": "2024Q1", "item": "births",
    ...                   "reported": [60, 40], "checked": [27, 21], "false_found": [5, 7]})
    >>> e = audit_estimates(a)
    >>> e[["unit", "false_rate", "lower", "upper", "corrected"]].round(4)
           unit  false_rate   lower   upper  corrected
    0         A      0.1852  0.0630  0.3808    48.8889
    1         B      0.3333  0.1459  0.5697    26.6667
    2  (pooled)      0.2444  0.1449  0.3819    75.5556
    """
    c = iv.check_confidence(confidence)
    tol = _check_share(tolerance, "tolerance")
    data = _prepare(audits)
    if units is not None:
        _check_one_level(data, units)
    if data.empty:
        return pd.DataFrame({k: pd.Series(dtype=object if k in ("unit", "period", "item",
                                                                 "vf_verdict", "method",
                                                                 "note") else
                                          "boolean" if k == "flag" else
                                          bool if k == "pooled" else
                                          "int64" if k == "units" else float)
                             for k in _ESTIMATES})
    x, n = data["false_found"].to_numpy(dtype=float), data["checked"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(n > 0, x / n, np.nan)
    lower, upper = iv.proportion_confint(x, n, confidence=c, method="clopper_pearson")
    rows = pd.DataFrame({
        "unit": data["unit"].to_numpy(), "period": data["_label"].to_numpy(),
        "_label": data["_label"].to_numpy(), "item": data["item"].to_numpy(), "pooled": False,
        "units": 1, "reported": data["reported"].to_numpy(dtype=float), "checked": n,
        "false_found": x, "false_rate": rate, "lower": lower, "upper": upper,
        "method": "clopper_pearson", "note": np.where(n > 0, "", _NOT_CHECKED)})
    out = pd.concat([rows, _pooled(data, c)], ignore_index=True)
    p, lo, hi = (out[k].to_numpy(dtype=float) for k in ("false_rate", "lower", "upper"))
    rep = out["reported"].to_numpy(dtype=float)
    out["verification_factor"] = 1 - p
    out["vf_lower"], out["vf_upper"] = 1 - hi, 1 - lo
    out["vf_verdict"] = _verdict(1 - p)
    out["corrected"] = rep * (1 - p)
    out["corrected_lower"], out["corrected_upper"] = rep * (1 - hi), rep * (1 - lo)
    with np.errstate(invalid="ignore"):
        out["flag"] = pd.array(np.where(np.isnan(lo), None, lo > tol), dtype="boolean")
    out["tolerance"], out["confidence"] = tol, c
    out["units"] = out["units"].astype("int64")
    out = out.sort_values(["_label", "item", "pooled", "unit"], kind="stable")
    return out[_ESTIMATES].reset_index(drop=True)


def audit_sums(audits: pd.DataFrame, periods: object, *, item: str | None = None
               ) -> pd.DataFrame:
    """Sum the re-checks of each unit and item that fall within each of ``periods``.

    An audit row counts for an assessment period when its own period lies wholly within it
    (a 2024Q3 audit counts for 2024Q3, 2024H2 and 2024; a 2024 audit counts for 2024 only).
    The audits of one unit and item must not overlap (a month and its quarter).

    Parameters
    ----------
    audits : pandas.DataFrame
        As for :func:`audit_estimates`.
    periods : label or sequence of labels
        The assessment periods.
    item : str, optional
        Only this item (spaces stripped); it must be in the audits.

    Returns
    -------
    pandas.DataFrame
        ``unit``, ``period`` (the assessment period's canonical label), ``item``,
        ``audit_rows`` (audit rows summed), ``reported``, ``checked``, ``false_found``; one
        row per unit, period and item that has any audit row. Audit rows within no period
        are not in it.

    Raises
    ------
    ValueError
        As :func:`audit_estimates`; an ``item`` that the audits do not hold; two audit rows
        of one unit and item whose periods overlap (a month and its quarter), which would
        count the same cases twice.

    Examples
    --------
    >>> a = pd.DataFrame({"unit": "A", "period": ["2024Q1", "2024Q2", "2024Q4"],
    ...     "item": " births", "reported": 50, "checked": [27, 21, 40],
    ...     "false_found": [5, 7, 1]})
    >>> audit_sums(a, ["2024Q1", "2024H1", "2024"])
      unit   period    item  audit_rows  reported  checked  false_found
    0    A   2024Q1  births           1      50.0     27.0          5.0
    1    A   2024H1  births           2     100.0     48.0         12.0
    2    A     2024  births           3     150.0     88.0         13.0

    A 2024 audit next to the 2024Q1 one would count the first quarter's cases twice: refused.
    """
    data = _prepare(audits)
    labels = [str(pr.parse(p)) for p in ([periods] if isinstance(periods, str)
                                         or not hasattr(periods, "__iter__") else periods)]
    if item is not None:
        wanted = str(item).strip()
        if wanted not in set(data["item"]):
            raise ValueError(f"no audit row has item {wanted!r}"
                             f"{suggestion(wanted, set(data['item']))}")
        data = data[data["item"] == wanted]
    _check_overlaps(data)
    spans = {a: (pr.start(a), pr.end(a)) for a in data["_label"].unique()}
    parts = []
    for p in dict.fromkeys(labels):  # a few assessment periods x a few audit periods
        first, last = pr.start(p), pr.end(p)
        inside = [a for a, (s, e) in spans.items() if s >= first and e <= last]
        part = data[data["_label"].isin(inside)]
        if part.empty:
            continue
        g = part.groupby(["unit", "item"], sort=True)
        sums = g[list(_COUNTS)].sum().assign(audit_rows=g.size()).reset_index()
        parts.append(sums.assign(period=p))
    columns = ["unit", "period", "item", "audit_rows", *_COUNTS]
    if not parts:
        return pd.DataFrame({k: pd.Series(dtype=object if k in ("unit", "period", "item")
                                          else "int64" if k == "audit_rows" else float)
                             for k in columns})
    out = pd.concat(parts, ignore_index=True)[columns]
    out["audit_rows"] = out["audit_rows"].astype("int64")
    return out


def _product_interval(v: np.ndarray, lv: np.ndarray, uv: np.ndarray, q: np.ndarray,
                      lq: np.ndarray, uq: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """MOVER on the log scale for the product of two independent positive estimates; plain
    interval arithmetic where either estimate is 0. A missing limit means exact."""
    lv, uv = np.where(np.isnan(lv), v, lv), np.where(np.isnan(uv), v, uv)
    with np.errstate(divide="ignore", invalid="ignore"):
        down = np.sqrt(np.log(v / lv) ** 2 + np.log(q / lq) ** 2)
        up = np.sqrt(np.log(uv / v) ** 2 + np.log(uq / q) ** 2)
        lower = v * q * np.exp(-down)
        upper = v * q * np.exp(up)
    zero = (v == 0) | (q == 0)
    return np.where(zero, lv * lq, lower), np.where(zero, uv * uq, upper)


_ADJUSTED = ["unit", "period", "indicator", "item", "numerator", "denominator", "value",
             "lower", "upper", "audit_rows", "checked", "false_found", "false_rate",
             "false_lower", "false_upper", "corrected", "corrected_numerator",
             "corrected_value", "corrected_lower", "corrected_upper", "adjust", "confidence",
             "method", "note"]


def audit_adjusted(results: pd.DataFrame, audits: pd.DataFrame, *, item: str,
                   indicator: str, adjust: str = "scale_by_false_share",
                   confidence: float = 0.95) -> pd.DataFrame:
    """Recompute an indicator with its numerator corrected by the audit of ``item``.

    Parameters
    ----------
    results : pandas.DataFrame
        Indicator results (:func:`fpanalysis.indicators.compute`): ``unit``, ``period``,
        ``indicator``, ``numerator``, ``value`` and optionally ``denominator``, ``lower``,
        ``upper``.
    audits : pandas.DataFrame
        As for :func:`audit_estimates`; the re-checks of ``item`` within each result's
        period are summed per unit (:func:`audit_sums`).
    item : str
        The audit item that verifies the indicator's numerator.
    indicator : str
        The indicator to correct (rows of other indicators are left out).
    adjust : {'scale_by_false_share', 'subtract_found'}, default 'scale_by_false_share'
        ``scale_by_false_share``: numerator x (1 - p), p the false share of the cases
        checked; ``subtract_found``: numerator - the false cases found.
    confidence : float, default 0.95
        Level of the false share's exact interval and of the widened interval.

    Returns
    -------
    pandas.DataFrame
        One row per result row of ``indicator`` (no unit left out): ``unit``, ``period``,
        ``indicator``, ``item``, ``numerator``, ``denominator``, ``value``, ``lower``,
        ``upper`` (as given), ``audit_rows``, ``checked``, ``false_found`` (summed; 0 rows
        and NaN when not audited), ``false_rate``, ``false_lower``, ``false_upper`` (exact
        Clopper-Pearson), ``corrected`` (bool: the figure was corrected),
        ``corrected_numerator``, ``corrected_value``, ``corrected_lower``,
        ``corrected_upper`` (NaN when not corrected), ``adjust``, ``confidence``,
        ``method`` (``mover_log`` or ``subtract_found``), ``note`` ("corrected by audit: ...",
        "not audited in <period>: figure not corrected", or no case re-checked).

    Raises
    ------
    ValueError
        An unknown ``adjust``; no result row of ``indicator`` (with the nearest key); an
        ``item`` not in the audits; results without the needed columns; a numerator,
        denominator, value or limit that is true/false or text (column and row named); an
        audits problem (see :func:`audit_estimates`, :func:`audit_sums`).

    Notes
    -----
    Unit codes are matched as text with whole floats written as integers (``1.0`` matches
    ``1`` and ``"1"``), in the results and the audits alike.

    ``scale_by_false_share``: value' = value x q with q = 1 - p. The interval combines the
    indicator's interval [l, u] and the exact interval of q, [1 - p_U, 1 - p_L], as a
    product of independent estimates by MOVER on the log scale (Zou & Donner 2008):
    L = value' exp(-sqrt(ln(value/l)^2 + ln(q/q_L)^2)), U = value' exp(sqrt(ln(u/value)^2
    + ln(q_U/q)^2)); where value or q is 0, plain interval arithmetic (l q_L, u q_U). A
    missing limit counts as exact.

    ``subtract_found``: numerator' = numerator - false found (never below 0, said in the
    note); the false cases found are certain, not estimated, so the value and its interval
    are rescaled by numerator' / numerator without widening.

    References
    ----------
    Zou GY, Donner A (2008) Construction of confidence limits about effect measures: a
    general approach. Statistics in Medicine 27:1693-1702.

    Examples
    --------
    Completion 2780 of a plan of 2700 (102.96 %), re-check 5 false of 27:

    >>> r = pd.DataFrame({"unit": ["A"], "period": ["2024"], "indicator": "completion",
    ...                   "numerator": [2780.0], "denominator": [2700.0],
    ...                   "value": [2780 / 27], "lower": [99.18], "upper": [106.83]})
    >>> a = pd.DataFrame({"unit": ["A"], "period": ["2024"], "item": "checkups",
    ...                   "reported": [2780], "checked": [27], "false_found": [5]})
    >>> out = audit_adjusted(r, a, item="checkups", indicator="completion")
    >>> round(float(out["corrected_value"].iloc[0]), 2)  # 2780 x 22/27 / 2700 x 100
    83.9
    """
    if adjust not in ADJUST[1:]:
        raise ValueError(f"adjust must be one of {', '.join(ADJUST[1:])}, got {adjust!r}")
    c = iv.check_confidence(confidence)
    missing = [k for k in ("unit", "period", "indicator", "numerator", "value")
               if k not in results.columns]
    if missing:
        raise ValueError(f"the results have no column(s) {', '.join(missing)}")
    keys = results["indicator"].astype(str)
    if indicator not in set(keys):
        raise ValueError(f"no result row has indicator {indicator!r}"
                         f"{suggestion(indicator, set(keys))}")
    rows = results[(keys == indicator).to_numpy()]
    twice = rows.assign(_u=unit_codes(rows["unit"]),
                        _p=rows["period"].astype(str)).duplicated(["_u", "_p"], keep=False)
    if twice.any():
        raise ValueError(f"the results hold {int(twice.sum())} rows of {indicator} that share "
                         "a unit and period; each may appear once")
    labels = rows["period"].astype(str).map(
        {p: str(pr.parse(p)) for p in rows["period"].astype(str).unique()})
    sums = audit_sums(audits, list(labels.unique()), item=item)
    got = pd.DataFrame({"unit": unit_codes(rows["unit"]).to_numpy(dtype=object),
                        "period": labels.to_numpy()}).merge(
        sums.drop(columns="item"), on=["unit", "period"], how="left")

    problems = []

    def col(name: str) -> np.ndarray:
        if name not in rows.columns:
            return np.full(len(rows), np.nan)
        raw = rows[name]
        if pd.api.types.is_bool_dtype(raw) or raw.map(type).eq(bool).any():
            what = "a count" if name in ("numerator", "denominator") else "a number"
            problems.append(f"{name} must be {what}, not true/false")
            return np.full(len(rows), np.nan)
        num = pd.to_numeric(raw, errors="coerce").astype(float)
        bad = (num.isna() & raw.notna()).to_numpy(dtype=bool)
        if bad.any():
            problems.append(f"{name} is not a number at index {_where(bad, rows.index)} "
                            f"(e.g. {raw[bad].iloc[0]!r})")
        return num.to_numpy()

    num, den, v, lv, uv = (col(k) for k in ("numerator", "denominator", "value", "lower",
                                             "upper"))
    if problems:
        raise ValueError(f"the results of {indicator}: " + "; ".join(problems))
    x, n = got["false_found"].to_numpy(dtype=float), got["checked"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(n > 0, x / n, np.nan)
    pl, pu = iv.proportion_confint(x, n, confidence=c, method="clopper_pearson")
    audited = n > 0
    if adjust == "scale_by_false_share":
        q = 1 - p
        new_num = num * q
        value = v * q
        lower, upper = _product_interval(v, lv, uv, q, 1 - pu, 1 - pl)
        method = "mover_log"
    else:
        new_num = np.maximum(num - x, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = np.where(num > 0, new_num / num, 1.0)
        value = v * factor
        lower = np.where(np.isnan(lv), value, lv * factor)
        upper = np.where(np.isnan(uv), value, uv * factor)
        method = "subtract_found"
    ok = audited & ~np.isnan(value)
    period = got["period"].to_numpy(dtype=object)
    word = "scaled by 1 - " if adjust == "scale_by_false_share" else "less "
    fmt = np.vectorize(lambda a, b: f"{a:g} false of {b:g} re-checked", otypes=[object])
    found = fmt(np.nan_to_num(x), np.nan_to_num(n)) if len(x) else np.array([], dtype=object)
    note = np.where(ok, "corrected by audit: " + item.strip() + " " + word + found, "")
    note = np.where(np.isnan(n), "not audited in " + period + ": figure not corrected", note)
    note = np.where(n == 0, "no case re-checked in " + period + ": figure not corrected", note)
    note = np.where(audited & np.isnan(v), "no value to correct", note)
    short = ok & (adjust == "subtract_found") & (num - x < 0)
    note = np.where(short, note + " (more false found than the numerator: set to 0)", note)
    nan = np.full(len(rows), np.nan)
    out = pd.DataFrame({
        "unit": got["unit"].to_numpy(), "period": rows["period"].to_numpy(),
        "indicator": indicator, "item": item.strip(), "numerator": num, "denominator": den,
        "value": v, "lower": lv, "upper": uv,
        "audit_rows": got["audit_rows"].fillna(0).astype("int64").to_numpy(),
        "checked": n, "false_found": x, "false_rate": p, "false_lower": pl,
        "false_upper": pu, "corrected": ok,
        "corrected_numerator": np.where(ok, new_num, nan),
        "corrected_value": np.where(ok, value, nan),
        "corrected_lower": np.where(ok, lower, nan),
        "corrected_upper": np.where(ok, upper, nan),
        "adjust": adjust, "confidence": c, "method": method,
        "note": note.astype(object)})
    return out[_ADJUSTED]
