"""Consistency between sources: births in the register against a second source.

The register (the family-planning system's counts) is compared with a reference source
that counts the same events independently, e.g. hospital delivery records
(:func:`fpanalysis.io.load_births_hospital`). As in the WHO Data Quality Review's external
comparison and DHIS2's consistency checks, the ratio is the figure under review over the
reference::

    ratio = register / other

so a ratio below 1 means the register holds fewer births than the reference (births
missed or hidden), above 1 more (births reported that the reference does not know).

The interval for the ratio treats both counts as Poisson: conditional on their sum
``a + b``, the register's count is binomial with p = R / (1 + R), R the true ratio. The
Clopper-Pearson interval (pl, pu) of a / (a + b) maps to (pl / (1 - pl), pu / (1 - pu));
the p-value is the exact binomial test of p = 1/2 (R = 1). Two sources that count largely
the same births are positively correlated, so this interval is conservative (wider than the
truth): a flag from it is safe.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import periods as pr
from ..intervals import check_confidence, proportion_confint, sex_ratio_test
from .notes import note as _note

__all__ = ["agreement_values", "compare_sources", "source_flags"]

_METHOD = "exact_conditional"


def _check_tolerance(tolerance: object) -> float:
    if isinstance(tolerance, bool) or not isinstance(tolerance, int | float | np.floating) \
            or not 0 < tolerance < 1:
        raise ValueError(f"tolerance must be a fraction between 0 and 1 (exclusive), e.g. 0.10 "
                         f"for ±10 %, got {tolerance!r}")
    return float(tolerance)


def _source(frame: object, column: str, what: str) -> pd.DataFrame:
    """``unit``, ``period``, ``column`` of one source, checked: no duplicate key, counts are
    non-negative whole numbers or missing."""
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{what} must be a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in ("unit", "period", column) if c not in frame.columns]
    if missing:
        raise ValueError(f"the {what} have no column(s) {', '.join(missing)}")
    out = frame[["unit", "period", column]].copy()
    out["unit"] = out["unit"].astype("string").str.strip()
    if out["unit"].isna().any() or out["period"].isna().any():
        raise ValueError(f"the {what} have rows without a unit or period")
    raw = out[column]
    if pd.api.types.is_bool_dtype(raw) or raw.map(type).eq(bool).any():
        raise ValueError(f"the {what}' column {column!r} must be a count, not true/false")
    try:
        values = pd.to_numeric(raw, errors="raise").astype("Float64")
    except (TypeError, ValueError):
        raise ValueError(f"the {what}' column {column!r} holds values that are not "
                         "numbers") from None
    v = values.to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isnan(v) & ((v < 0) | (np.mod(np.where(np.isnan(v), 0, v), 1) != 0))
    if bad.any():
        raise ValueError(f"the {what}' column {column!r} holds {int(bad.sum())} value(s) that "
                         f"are not non-negative whole numbers (e.g. {v[bad][0]:g})")
    out[column] = values
    if out["period"].dtype == object or pd.api.types.is_string_dtype(out["period"]):
        # labels ('2024年1月', ' 2024-01') parsed once each; a column of one frequency gets
        # its period dtype, so that monthly text labels can be rolled up
        parsed, bad = pr.parse_series(out["period"])
        if bad.any():
            raise ValueError(f"the {what} hold a period that cannot be read: "
                             f"{out['period'][bad].iloc[0]!r}")
        out["period"] = parsed
    text = out["period"].astype(str)
    dup = pd.DataFrame({"u": out["unit"], "p": text}).duplicated(keep=False).to_numpy()
    if dup.any():
        u, p = out["unit"][dup].iloc[0], text[dup].iloc[0]
        raise ValueError(f"the {what} hold {int(dup.sum())} rows that share a unit and period "
                         f"(e.g. {u}, {p}); each may appear once")
    return out


def _rolled(frame: pd.DataFrame, column: str, period: object, what: str) -> pd.DataFrame:
    """One source rolled up to ``period`` (a frequency or a label); an incomplete period's
    count is missing and ``missing`` names the absent months."""
    if frame["period"].dtype != "period[M]" and not pr.is_dekad(frame["period"]):
        raise ValueError(f"the {what} must be monthly (or dekads) to be rolled up to "
                         f"{period}; pass period=None to compare them as they are")
    out = pr.rollup(frame, period, columns=[column], complete=True)
    return out[["unit", "period", column, "missing"]]


def compare_sources(counts: pd.DataFrame, other: pd.DataFrame, *, column: str = "births",
                    tolerance: float = 0.10, confidence: float = 0.95, period: object = None,
                    units: pd.DataFrame | None = None) -> pd.DataFrame:
    """Compare a count (births) between the register and a second source, per unit and period.

    Parameters
    ----------
    counts : pandas.DataFrame
        The register (:func:`fpanalysis.io.load_counts`): ``unit``, ``period``, ``column``.
    other : pandas.DataFrame
        The reference source, same columns (:func:`fpanalysis.io.load_births_hospital`).
    column : str, default 'births'
        The count compared (``births_male`` or ``births_female`` work too).
    tolerance : float, default 0.10
        The ratio may lie within 1 ± tolerance.
    confidence : float, default 0.95
        Level of the ratio's interval, in (0, 1).
    period : {'M', 'Q', 'H', 'Y'} or period label, optional
        Roll both sources up to this frequency or period (by summing months, through
        :func:`fpanalysis.periods.rollup`) before comparing. A unit missing some of the
        period's months in a source gets no count from it (never a partial sum): the ratio
        is missing and ``note`` names the absent months; with a frequency, a period that
        no unit has complete in a source (a quarter still running) is left out, as
        :func:`~fpanalysis.periods.rollup` does. Without ``period`` the rows are compared
        as they are (both sources must then hold periods of one kind).
    units : pandas.DataFrame, optional
        The units table: every unit of the levels found in either source is then listed
        in every period, also one that is in neither source.

    Returns
    -------
    pandas.DataFrame
        One row per unit and period found in either source (a unit found in one source
        only is listed, with the other count missing and a note): ``unit``, ``period``,
        ``item`` (``column``), ``register``, ``other`` (``Int64``), ``difference``
        (register − other), ``ratio`` (register / other; ``inf`` when other is 0 and the
        register is not), ``lower``, ``upper`` (exact conditional interval of the ratio),
        ``p_value`` (exact binomial test of ratio 1), ``beyond_tolerance`` (ratio outside
        1 ± tolerance), ``significant`` (the interval excludes 1), ``flag`` (both; the rule
        is: a gap beyond the tolerance that chance does not explain), ``severity``
        (``extreme`` when the whole interval lies outside 1 ± tolerance, ``moderate`` for
        another flag, else ''), ``threshold`` (the tolerance), ``confidence``, ``method``
        (``exact_conditional``), ``note`` (why a row has no ratio). The three booleans are
        ``<NA>`` where there is no ratio.

    Raises
    ------
    ValueError
        A missing column, a duplicate (unit, period), a count that is not a non-negative
        whole number (true/false is not a count), a bad tolerance or confidence, periods
        of different kinds without ``period``, or sources that are not monthly with
        ``period`` (text labels such as "2024-01" or "2024年1月" are read as months).

    Examples
    --------
    >>> reg = pd.DataFrame({"unit": ["A", "B"], "period": ["2024", "2024"],
    ...                     "births": [87, 100]})
    >>> hosp = pd.DataFrame({"unit": ["A", "C"], "period": ["2024", "2024"],
    ...                      "births": [100, 5]})
    >>> out = compare_sources(reg, hosp)
    >>> out[["unit", "register", "other", "ratio", "flag", "note"]]
      unit  register  other  ratio   flag                           note
    0    A        87    100   0.87  False
    1    B       100   <NA>    NaN   <NA>  not in the other source
    2    C      <NA>      5    NaN   <NA>        not in the register
    """
    tol = _check_tolerance(tolerance)
    conf = check_confidence(confidence)
    if not isinstance(column, str):
        raise TypeError(f"column must be a column name (str), got {column!r}")
    reg = _source(counts, column, "counts")
    oth = _source(other, column, "other source")
    if period is not None:
        reg = _rolled(reg, column, period, "counts")
        oth = _rolled(oth, column, period, "other source")
    else:
        kinds = {str(k) for f in (reg, oth) for k in
                 pd.Series(f["period"].astype(str).unique()).map(lambda p: pr.kind(p))}
        if len(kinds) > 1:
            raise ValueError(f"the sources hold periods of different kinds "
                             f"({', '.join(sorted(kinds))}); pass period= to roll both up")
        reg["missing"] = ""
        oth["missing"] = ""
    # plain objects for the join (an empty Arrow-backed string column cannot be merged)
    reg = reg.assign(unit=reg["unit"].astype(object), period=reg["period"].astype(str)
                     .astype(object), _in_reg=True)
    oth = oth.assign(unit=oth["unit"].astype(object), period=oth["period"].astype(str)
                     .astype(object), _in_oth=True)
    data = reg.merge(oth, on=["unit", "period"], how="outer", suffixes=("_reg", "_oth"))
    if units is not None:
        data = _with_all_units(data, units)
    a = data[f"{column}_reg"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    b = data[f"{column}_oth"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    ok = ~np.isnan(a) & ~np.isnan(b) & (a + b > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(ok, a / b, np.nan)
        pl, pu = proportion_confint(np.where(ok, a, 0), np.where(ok, a + b, 1),
                                    confidence=conf, method="clopper_pearson")
        lower = np.where(ok, pl / (1 - pl), np.nan)
        upper = np.where(ok, np.where(b == 0, np.inf, pu / (1 - pu)), np.nan)
    p_value = np.where(ok, sex_ratio_test(np.where(ok, a, 0), np.where(ok, b, 0),
                                          reference=100.0), np.nan)
    beyond = (ratio < 1 - tol) | (ratio > 1 + tol)
    significant = (lower > 1) | (upper < 1)
    flag = beyond & significant
    extreme = (lower > 1 + tol) | (upper < 1 - tol)
    note = _notes(data, a, b, column)
    out = pd.DataFrame({
        "unit": data["unit"].astype("string"), "period": data["period"],
        "item": column,
        "register": pd.array(a, dtype="Float64").astype("Int64"),
        "other": pd.array(b, dtype="Float64").astype("Int64"),
        "difference": a - b, "ratio": ratio, "lower": lower, "upper": upper,
        "p_value": p_value,
        "beyond_tolerance": pd.array(np.where(ok, beyond, False), dtype="boolean"),
        "significant": pd.array(np.where(ok, significant, False), dtype="boolean"),
        "flag": pd.array(np.where(ok, flag, False), dtype="boolean"),
        "severity": np.where(ok & extreme, "extreme", np.where(ok & flag, "moderate", "")),
        "threshold": tol, "confidence": conf, "method": _METHOD, "note": note})
    for c in ("beyond_tolerance", "significant", "flag"):
        out.loc[~ok, c] = pd.NA
    out["difference"] = pd.array(out["difference"], dtype="Float64").astype("Int64")
    return out.sort_values(["unit", "period"], kind="stable").reset_index(drop=True)


def _with_all_units(data: pd.DataFrame, units: pd.DataFrame) -> pd.DataFrame:
    """Every unit of the levels found in the data, in every period of the data."""
    if not isinstance(units, pd.DataFrame) or not {"unit", "level"} <= set(units.columns):
        raise ValueError("units must be the units table (fpanalysis.io.load_units), with "
                         "columns unit and level")
    code = units["unit"].astype("string").str.strip()
    levels = set(units.loc[code.isin(set(data["unit"])), "level"])
    wanted = code[units["level"].isin(levels).to_numpy()].unique()
    grid = pd.MultiIndex.from_product([pd.Index(wanted, dtype="string"),
                                       pd.unique(data["period"])], names=["unit", "period"])
    grid = grid.to_frame(index=False)
    return grid.merge(data, on=["unit", "period"], how="outer")


def _notes(data: pd.DataFrame, a: np.ndarray, b: np.ndarray, column: str) -> np.ndarray:
    """Why a row has no ratio, vectorised."""
    in_reg = data["_in_reg"].fillna(False).to_numpy(dtype=bool)
    in_oth = data["_in_oth"].fillna(False).to_numpy(dtype=bool)
    miss_reg = data["missing_reg"].astype(object).where(data["missing_reg"].notna(), "")
    miss_reg = miss_reg.to_numpy(dtype=object)
    miss_oth = data["missing_oth"].astype(object).where(data["missing_oth"].notna(), "")
    miss_oth = miss_oth.to_numpy(dtype=object)
    note = np.full(len(data), "", dtype=object)
    rules = [
        (~in_reg & ~in_oth, "not in either source"),
        (in_reg & ~in_oth, "not in the other source"),
        (~in_reg & in_oth, "not in the register"),
    ]
    for mask, text in rules:
        note[mask & (note == "")] = text
    gap_reg = in_reg & np.isnan(a)
    gap_oth = in_oth & np.isnan(b)
    note = np.where(gap_reg & (miss_reg != ""), "register lacks " + miss_reg.astype(str), note)
    note = np.where(gap_reg & (miss_reg == ""), f"register has no {column}", note)
    both = gap_oth & (note != "")
    note = np.where(both & (miss_oth != ""), note + "; other source lacks "
                    + miss_oth.astype(str), note)
    note = np.where(both & (miss_oth == ""), note + f"; other source has no {column}", note)
    alone = gap_oth & (note == "")
    note = np.where(alone & (miss_oth != ""), "other source lacks " + miss_oth.astype(str),
                    note)
    note = np.where(alone & (miss_oth == ""), f"other source has no {column}", note)
    zero = (a == 0) & (b == 0)
    note = np.where(zero, f"no {column} in either source", note)
    return note.astype(object)


def agreement_values(compared: pd.DataFrame, *,
                     indicator: str = "source_discrepancy") -> pd.DataFrame:
    """The discrepancy between sources as supplied values for the assessment scheme.

    ``value`` = |ratio − 1| × 100, the register's gap from the reference in per cent, with
    ``lower``/``upper`` from the ratio's interval (``lower`` is 0 when the interval holds
    1). A target such as ``indicator = "source_discrepancy", op = "<=", threshold = 10``
    then scores "the register agrees with the hospitals within 10 %", with a verdict from
    the interval.

    Parameters
    ----------
    compared : pandas.DataFrame
        Output of :func:`compare_sources`.
    indicator : str, default 'source_discrepancy'
        Indicator key the values carry.

    Returns
    -------
    pandas.DataFrame
        ``unit``, ``period`` (label), ``indicator``, ``value``, ``lower``, ``upper``,
        ``note``: the shape of :func:`fpanalysis.io.load_values`, to pass as ``values=`` to
        :func:`fpanalysis.targets.evaluate`. A row without a ratio keeps a missing value
        and its note (the unit is then "no data", never dropped).

    Examples
    --------
    >>> reg = pd.DataFrame({"unit": ["A"], "period": ["2024"], "births": [87]})
    >>> hosp = pd.DataFrame({"unit": ["A"], "period": ["2024"], "births": [100]})
    >>> agreement_values(compare_sources(reg, hosp))[["unit", "indicator", "value"]]
      unit           indicator  value
    0    A  source_discrepancy   13.0
    """
    need = ["unit", "period", "ratio", "lower", "upper", "note"]
    missing = [c for c in need if c not in compared.columns]
    if missing:
        raise ValueError(f"compared must come from compare_sources; it has no column(s) "
                         f"{', '.join(missing)}")
    if not isinstance(indicator, str) or not indicator.strip():
        raise ValueError(f"indicator must be a non-empty name, got {indicator!r}")
    r, lo, hi = (compared[c].to_numpy(dtype=float) for c in ("ratio", "lower", "upper"))
    with np.errstate(invalid="ignore"):
        value = np.abs(r - 1) * 100
        holds_one = (lo <= 1) & (hi >= 1)
        low = np.where(holds_one, 0.0, np.minimum(np.abs(lo - 1), np.abs(hi - 1)) * 100)
        high = np.maximum(np.abs(lo - 1), np.abs(hi - 1)) * 100
    low = np.where(np.isnan(value), np.nan, low)
    high = np.where(np.isnan(value), np.nan, high)
    note = compared["note"].astype("string").fillna("").to_numpy(dtype=object)
    note = np.where(np.isnan(value) & (note != ""), "not reported: " + note.astype(str), note)
    return pd.DataFrame({"unit": compared["unit"].astype("string"),
                         "period": compared["period"].astype(str), "indicator": indicator,
                         "value": value, "lower": low, "upper": high, "note": note})


def source_flags(compared: pd.DataFrame) -> pd.DataFrame:
    """The flagged rows of :func:`compare_sources` in the shape of the data-quality flag
    table (``check_all``).

    Returns
    -------
    pandas.DataFrame
        ``unit``, ``period``, ``check`` (``source_agreement``), ``indicator`` (the count
        compared), ``figure`` (the ratio register / other), ``threshold`` (the tolerance),
        ``severity``, ``note`` (both counts and the interval). ``threshold`` is the bound
        the ratio crossed: 1 - tolerance (e.g. 0.9) for a ratio below 1, 1 + tolerance
        (e.g. 1.1) above.
    """
    need = ["unit", "period", "item", "register", "other", "ratio", "lower", "upper", "flag",
            "severity", "threshold", "confidence"]
    missing = [c for c in need if c not in compared.columns]
    if missing:
        raise ValueError(f"compared must come from compare_sources; it has no column(s) "
                         f"{', '.join(missing)}")
    f = compared[compared["flag"].fillna(False).to_numpy(dtype=bool)]
    tol, ratio = f["threshold"].to_numpy(dtype=float), f["ratio"].to_numpy(dtype=float)
    bound = np.where(ratio < 1, 1 - tol, 1 + tol)  # the bound the ratio crossed
    note = [_note("sources", register=f"{r}", other=f"{o}", ratio=f"{x:.3f}",
                  confidence=f"{c:.0%}", lower=f"{lo:.3f}", upper=f"{hi:.3f}",
                  tolerance=f"{t:g}") for r, o, x, lo, hi, t, c in
            zip(f["register"], f["other"], f["ratio"], f["lower"], f["upper"],
                f["threshold"], f["confidence"], strict=True)]
    return pd.DataFrame({"unit": f["unit"].astype("string").to_numpy(),
                         "period": f["period"].astype(str).to_numpy(),
                         "check": "source_agreement", "indicator": f["item"].to_numpy(),
                         "figure": f["ratio"].to_numpy(dtype=float),
                         "threshold": bound,
                         "severity": f["severity"].to_numpy(), "note": note})
