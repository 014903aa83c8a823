"""The indicator registry and :func:`compute`, which turns counts into tidy results.

Each indicator is a small frozen :class:`Indicator`: what is counted (numerator), against
what (a count column, or person-years of a stock such as population), the multiplier, the
display unit, the interval method and whether higher is better. :func:`compute` sums counts
over units and periods first (parents from children, quarters from months), then computes
every value and interval in one vectorized pass per indicator.

Register your own indicator without touching the package: build it with
:func:`proportion`, :func:`rate` or :func:`ratio` and pass it to ``compute(indicators=...)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import intervals as iv
from . import periods as pr
from .schema import AGE_GROUPS, LEVELS, SERVICES, STOCK_COLUMNS, count_columns

__all__ = [
    "FUNNEL_LABELS",
    "add_sex_ratio_test",
    "INDICATORS",
    "Indicator",
    "RESULT_COLUMNS",
    "compute",
    "display_unit",
    "funnel_data",
    "get",
    "group_sums",
    "keys",
    "label",
    "proportion",
    "rate",
    "ratio",
]

KINDS = ("rate", "difference", "proportion", "poisson_ratio", "sex_ratio", "tfr")
_DEFAULT_METHOD = {"rate": "exact", "difference": "normal", "proportion": "wilson",
                   "poisson_ratio": "exact", "sex_ratio": "clopper_pearson", "tfr": "delta"}
_METHODS = {"rate": iv.POISSON_METHODS, "poisson_ratio": iv.POISSON_METHODS,
            "difference": ("normal",), "proportion": iv.PROPORTION_METHODS,
            "sex_ratio": ("clopper_pearson", "wilson"), "tfr": ("delta",)}

#: Columns of every result frame, after the ``by`` keys.
RESULT_COLUMNS = ("indicator", "numerator", "denominator", "value", "lower", "upper",
                  "multiplier", "confidence", "method", "note")


@dataclass(frozen=True)
class Indicator:
    """Specification of one indicator.

    Attributes
    ----------
    key : str
        English snake_case key, e.g. ``sex_ratio_at_birth``.
    label_zh, label_en : str
        Display labels.
    kind : {'rate', 'difference', 'proportion', 'poisson_ratio', 'sex_ratio', 'tfr'}
        'rate': events per person-year of ``exposure`` (a stock column); 'difference':
        (numerator - subtract) per person-year; 'proportion': numerator / denominator with
        numerator <= denominator; 'poisson_ratio': numerator / denominator where the
        numerator is a Poisson count and may exceed the denominator (completion against a
        plan, infant deaths per birth); 'sex_ratio': numerator (males) / denominator
        (females); 'tfr': 5 x the sum of age-specific rates.
    numerator : tuple of str
        Count columns summed for the numerator.
    denominator : tuple of str
        Count columns summed for the denominator ('proportion', 'poisson_ratio',
        'sex_ratio').
    exposure : str
        Stock column whose person-years are the denominator ('rate', 'difference').
    subtract : tuple of str
        Count columns subtracted from the numerator ('difference').
    multiplier : float
        1000 for per mille, 100 for per cent and for males per 100 females.
    display_unit : str
        '‰', '%', 'per 100 females', 'per woman'.
    method : str
        Default interval method.
    higher_is_better : bool or None
        None where neither direction is better in itself (birth rate).
    """

    key: str
    label_zh: str
    label_en: str
    kind: str
    numerator: tuple[str, ...]
    denominator: tuple[str, ...] = ()
    exposure: str = ""
    subtract: tuple[str, ...] = ()
    multiplier: float = 1000.0
    display_unit: str = "‰"
    method: str = ""
    higher_is_better: bool | None = None
    columns: tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        method = self.method or _DEFAULT_METHOD[self.kind]
        if method not in _METHODS[self.kind]:
            raise ValueError(f"method for a {self.kind} must be one of "
                             f"{', '.join(_METHODS[self.kind])}, got {method!r}")
        object.__setattr__(self, "method", method)
        needed = list(self.numerator) + list(self.denominator) + list(self.subtract)
        if self.kind == "tfr":
            needed += [f"births_age_{a}" for a in AGE_GROUPS] + [f"women_{a}"
                                                                  for a in AGE_GROUPS]
        if self.exposure:
            needed.append(self.exposure)
        object.__setattr__(self, "columns", tuple(dict.fromkeys(needed)))


def rate(key: str, numerator: str | Sequence[str], exposure: str = "population", *,
         label_zh: str = "", label_en: str = "", multiplier: float = 1000.0,
         display_unit: str = "‰", method: str = "exact",
         higher_is_better: bool | None = None) -> Indicator:
    """Build a user indicator: events per person-year of a stock, e.g. per 1000 population.

    Examples
    --------
    >>> rate("marriage_rate", "marriages", label_zh="结婚率").kind
    'rate'
    """
    return Indicator(key, label_zh or key, label_en or key, "rate", _cols(numerator),
                     exposure=exposure, multiplier=multiplier, display_unit=display_unit,
                     method=method, higher_is_better=higher_is_better)


def proportion(key: str, numerator: str | Sequence[str], denominator: str | Sequence[str], *,
               label_zh: str = "", label_en: str = "", method: str = "wilson",
               higher_is_better: bool | None = True) -> Indicator:
    """Build a user indicator: a coverage-type proportion in per cent (Wilson by default).

    Examples
    --------
    >>> proportion("screening_rate", "screened", "eligible").multiplier
    100.0
    """
    return Indicator(key, label_zh or key, label_en or key, "proportion", _cols(numerator),
                     _cols(denominator), multiplier=100.0, display_unit="%", method=method,
                     higher_is_better=higher_is_better)


def ratio(key: str, numerator: str | Sequence[str], denominator: str | Sequence[str], *,
          label_zh: str = "", label_en: str = "", multiplier: float = 100.0,
          display_unit: str = "%", method: str = "exact",
          higher_is_better: bool | None = True) -> Indicator:
    """Build a user indicator: a Poisson count against a denominator that it may exceed
    (completion against a plan), with an exact Poisson interval on the numerator."""
    return Indicator(key, label_zh or key, label_en or key, "poisson_ratio", _cols(numerator),
                     _cols(denominator), multiplier=multiplier, display_unit=display_unit,
                     method=method, higher_is_better=higher_is_better)


def _cols(value: str | Sequence[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def _registry() -> tuple[Indicator, ...]:
    out = [
        Indicator("crude_birth_rate", "出生率", "Crude birth rate", "rate", ("births",),
                  exposure="population"),
        Indicator("crude_death_rate", "死亡率", "Crude death rate", "rate", ("deaths",),
                  exposure="population", higher_is_better=False),
        Indicator("natural_growth_rate", "自然增长率", "Natural growth rate", "difference",
                  ("births",), subtract=("deaths",), exposure="population"),
        Indicator("infant_mortality_rate", "婴儿死亡率", "Infant mortality rate",
                  "poisson_ratio", ("deaths_infant",), ("births",), higher_is_better=False),
        Indicator("general_fertility_rate", "一般生育率", "General fertility rate", "rate",
                  ("births",), exposure="women_15_49"),
    ]
    for a in AGE_GROUPS:
        lo, hi = a.split("_")
        out.append(Indicator(f"asfr_{a}", f"{lo}-{hi}岁生育率",
                             f"Age-specific fertility rate {lo}-{hi}", "rate",
                             (f"births_age_{a}",), exposure=f"women_{a}"))
    out += [
        Indicator("total_fertility_rate", "总和生育率", "Total fertility rate", "tfr", (),
                  multiplier=1.0, display_unit="per woman"),
        Indicator("sex_ratio_at_birth", "出生人口性别比", "Sex ratio at birth", "sex_ratio",
                  ("births_male",), ("births_female",), multiplier=100.0,
                  display_unit="per 100 females", higher_is_better=False),
    ]
    for order, zh, en in (("o1", "一孩", "first births"), ("o2", "二孩", "second births"),
                          ("o3p", "三孩及以上", "third and later births")):
        out.append(Indicator(f"sex_ratio_at_birth_{order}", f"{zh}出生性别比",
                             f"Sex ratio at birth, {en}", "sex_ratio", (f"births_male_{order}",),
                             (f"births_female_{order}",), multiplier=100.0,
                             display_unit="per 100 females", higher_is_better=False))
    out.append(Indicator("compliance_rate", "政策符合率", "Policy compliance", "proportion",
                         ("births_compliant",), ("births",), multiplier=100.0,
                         display_unit="%", higher_is_better=True))
    for s in SERVICES:
        kind = "proportion" if s.kind == "coverage" else "poisson_ratio"
        out.append(Indicator(s.key, s.label_zh, s.label_en, kind, (s.numerator,),
                             (s.denominator,), multiplier=100.0, display_unit="%",
                             higher_is_better=True))
    return tuple(out)


#: Every built-in indicator, in display order.
INDICATORS: tuple[Indicator, ...] = _registry()
_BY_KEY = {i.key: i for i in INDICATORS}


def keys() -> list[str]:
    """Return the keys of the built-in indicators, in display order."""
    return [i.key for i in INDICATORS]


def get(key: str | Indicator) -> Indicator:
    """Return the built-in indicator ``key`` (an :class:`Indicator` is returned unchanged)."""
    if isinstance(key, Indicator):
        return key
    try:
        return _BY_KEY[key]
    except KeyError:
        raise ValueError(f"unknown indicator {key!r}; known: {', '.join(_BY_KEY)}") from None


def label(key: str | Indicator, language: str = "zh") -> str:
    """Return the display label of an indicator in ``'zh'`` or ``'en'``."""
    ind = get(key)
    return ind.label_zh if language == "zh" else ind.label_en


_UNIT_ZH = {"per 100 females": "男/100女", "per woman": "个/妇女"}


def display_unit(key: str | Indicator, language: str = "zh") -> str:
    """Return the unit an indicator is shown in: ‰, %, males per 100 females, per woman.

    Examples
    --------
    >>> display_unit("sex_ratio_at_birth"), display_unit("sex_ratio_at_birth", "en")
    ('男/100女', 'per 100 females')
    """
    unit = get(key).display_unit
    return _UNIT_ZH.get(unit, unit) if language == "zh" else unit


# --------------------------------------------------------------------------- compute


def _ancestors(units: pd.DataFrame, level: str) -> pd.Series:
    """Map every unit code to its ancestor (or itself) at ``level``."""
    parent = pd.Series(units["parent"].to_numpy(), index=units["unit"].to_numpy())
    lvl = pd.Series(units["level"].to_numpy(), index=units["unit"].to_numpy())
    if level not in set(lvl):
        raise ValueError(f"no unit of level {level!r} in units")
    current = pd.Series(units["unit"].to_numpy(), index=units["unit"].to_numpy())
    for _ in range(len(LEVELS)):  # one step up the hierarchy for every unit at once
        nxt = current.where(current.map(lvl) == level, current.map(parent))
        if nxt.equals(current):
            break
        current = nxt
    return current.where(current.map(lvl) == level)


def _prepare(counts: pd.DataFrame, *, period: object, ytd: bool, freq: str | None,
             level: str | None, units: pd.DataFrame | None) -> pd.DataFrame:
    data = counts
    if "births" not in data.columns and {"births_male", "births_female"} <= set(data):
        data = data.assign(births=data["births_male"] + data["births_female"])
    if period is not None:
        target = pr.parse(period)
        if ytd:
            target = pr.year_to_date(target)
        if data["period"].dtype == "period[M]" or pr.is_dekad(data["period"]):
            data = pr.rollup(data, target, by=[c for c in ("unit",) if c in data])
        else:
            data = data[data["period"] == target]
            if data.empty:
                raise ValueError(f"no counts for period {target}: the counts are not monthly, "
                                 "so only periods present in them can be computed")
    elif freq is not None:
        data = pr.rollup(data, freq, by=[c for c in ("unit",) if c in data])
    if level is not None:
        if units is None:
            raise ValueError("level needs the units table: pass units=")
        anc = _ancestors(units, level)
        mapped = data["unit"].map(anc)
        data = data.assign(unit=mapped)[mapped.notna().to_numpy()]
    return data


def compute(
    counts: pd.DataFrame,
    indicators: Iterable[str | Indicator] | None = None,
    *,
    by: Sequence[str] = ("unit", "period"),
    period: object = None,
    freq: str | None = None,
    level: str | None = None,
    ytd: bool = False,
    confidence: float = 0.95,
    units: pd.DataFrame | None = None,
    methods: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Compute indicators with confidence intervals for every group of ``by``.

    Counts are summed first, never rates: a parent unit is computed from its children's
    summed counts, a quarter from its months. Crude rates are annualized by person-years
    (mean stock x days in period / days in year).

    Parameters
    ----------
    counts : pandas.DataFrame
        Tidy counts (as from :func:`fpanalysis.io.load_counts`).
    indicators : iterable of str or Indicator, optional
        Keys of built-in indicators and/or user :class:`Indicator` objects. Default: every
        built-in indicator whose columns are present.
    by : sequence of str, default ('unit', 'period')
        Grouping keys of the result.
    period : period label, optional
        Restrict to one assessment period, rolling monthly counts up to it (e.g. '2024Q3').
    freq : {'M', 'Q', 'H', 'Y'}, optional
        Roll monthly counts up to every complete period of this frequency.
    level : {'county', 'township', 'village'}, optional
        Aggregate units to their ancestor at this level first (needs ``units``).
    ytd : bool, default False
        With ``period``: use the year to date ending with that period.
    confidence : float, default 0.95
    units : pandas.DataFrame, optional
        Unit hierarchy, for ``level``.
    methods : mapping of str to str, optional
        Interval method per indicator key, overriding the registry default.

    Returns
    -------
    pandas.DataFrame
        ``by`` columns, then ``indicator``, ``numerator`` (events; births minus deaths for the
        natural growth rate; males for sex ratios), ``denominator`` (person-years,
        denominator count, or females), ``value``, ``lower``, ``upper`` (in display units:
        value = numerator / denominator x multiplier), ``multiplier``, ``confidence``,
        ``method`` and ``note`` (why a value is missing, else empty). Sorted by ``by`` and
        the registry order of indicators; RangeIndex.

    Raises
    ------
    ValueError
        Unknown indicator or method, confidence outside (0, 1), ``level`` without units.

    Notes
    -----
    Person-years ``PY = population × days / days_in_year``; crude birth rate
    ``births / PY × 1000`` (per 1000 person-years); natural growth ``(B - D) / PY × 1000``
    with ``var = (B + D) / PY²``; TFR ``5 Σ ASFR / 1000`` children per woman.

    Examples
    --------
    >>> c = pd.DataFrame({"unit": ["A", "B"], "period": pd.PeriodIndex(["2024Q1"] * 2,
    ...                   freq="Q"), "births_male": [53, 0], "births_female": [50, 0],
    ...                   "deaths": [40, 1], "population": [40000, 500]})
    >>> r = compute(c, ["crude_birth_rate", "sex_ratio_at_birth"])
    >>> r[["unit", "indicator", "numerator", "value", "lower", "upper", "note"]].round(2)
      unit           indicator  numerator   value  lower   upper       note
    0    A    crude_birth_rate      103.0   10.36   8.45   12.56
    1    A  sex_ratio_at_birth       53.0  106.00  70.65  159.23
    2    B    crude_birth_rate        0.0    0.00   0.00   29.67
    3    B  sex_ratio_at_birth        0.0     NaN    NaN     NaN  no births
    """
    c = iv.check_confidence(confidence)
    by = list(by)
    methods = dict(methods or {})
    sums, chosen = group_sums(counts, indicators, by=by, period=period, freq=freq,
                              level=level, ytd=ytd, units=units)
    n_groups, n_ind = len(sums), len(chosen)
    if n_ind == 0:
        return pd.DataFrame(columns=by + list(RESULT_COLUMNS))
    # numbers are written contiguously per indicator, then transposed once so that rows run
    # (group, indicator): the result is born sorted by the keys and the registry order, with
    # no concat and no sort. Text columns are categorical (codes, not 12 M strings).
    numeric = ("numerator", "denominator", "value", "lower", "upper")
    block = np.empty((len(numeric), n_ind, n_groups))
    labels: dict[str, int] = {"": 0}
    method_code = np.empty((n_ind, n_groups), dtype=np.int32)
    note_code = np.empty((n_ind, n_groups), dtype=np.int32)
    for j, spec in enumerate(chosen):
        chosen_method = methods.get(spec.key, spec.method)
        if chosen_method not in _METHODS[spec.kind]:
            raise ValueError(f"method for {spec.key} must be one of "
                             f"{', '.join(_METHODS[spec.kind])}, got {chosen_method!r}")
        one = _one(spec, sums, chosen_method, c)
        for f, field_name in enumerate(numeric):
            block[f, j] = one[field_name]
        method_code[j] = _codes(one["method"], labels)
        table = np.array([labels.setdefault(r, len(labels)) for r in one["note"].reasons],
                         dtype=np.int32)
        note_code[j] = table[one["note"].code]
    out = pd.DataFrame({f: np.ascontiguousarray(block[i].T).reshape(-1)
                        for i, f in enumerate(numeric)}, copy=False)
    out["multiplier"] = np.tile(np.array([float(sp.multiplier) for sp in chosen]), n_groups)
    out["confidence"] = c
    rows = np.repeat(np.arange(n_groups), n_ind)
    index = sums.index
    for level, name in enumerate(by):
        values = index.get_level_values(level) if index.nlevels > 1 else index
        out.insert(level, name, pd.Series(values).take(rows).array)
    out.insert(len(by), "indicator", pd.Categorical.from_codes(
        np.tile(np.arange(n_ind, dtype=np.int32), n_groups), [sp.key for sp in chosen]))
    text = list(labels)
    out["method"] = pd.Categorical.from_codes(method_code.T.reshape(-1), text)
    out["note"] = pd.Categorical.from_codes(note_code.T.reshape(-1), text)
    return out


class _Notes:
    """Why each value is missing, as small codes into ``reasons`` (0 = no reason); the first
    reason flagged for a row wins."""

    def __init__(self, n: int):
        self.code = np.zeros(n, dtype=np.int32)
        self.reasons = [""]

    def flag(self, mask: np.ndarray, reason: str) -> None:
        hit = (self.code == 0) & np.asarray(mask, dtype=bool)
        if hit.any():
            self.reasons.append(reason)
            self.code[hit] = len(self.reasons) - 1


def _codes(values: object, labels: dict[str, int]) -> np.ndarray:
    """Small-integer codes of strings (a scalar or an array with few distinct values)."""
    if isinstance(values, str):
        return np.full(1, labels.setdefault(values, len(labels)), dtype=np.int32)
    inverse, uniq = pd.factorize(np.asarray(values, dtype=object))
    table = np.array([labels.setdefault(str(u), len(labels)) for u in uniq], dtype=np.int32)
    return table[inverse]


def group_sums(
    counts: pd.DataFrame,
    indicators: Iterable[str | Indicator] | None = None,
    *,
    by: Sequence[str] = ("unit", "period"),
    period: object = None,
    freq: str | None = None,
    level: str | None = None,
    ytd: bool = False,
    units: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, list[Indicator]]:
    """The summed counts behind :func:`compute`: one row per group of ``by`` (the index),
    one column per count the indicators need, stocks already turned into person-years.

    Returns the sums (float, NaN where any summed cell was missing) and the indicators.
    Other steps that redraw counts (rank uncertainty) start from these sums.
    """
    by = list(by)
    chosen = [get(i) for i in indicators] if indicators is not None else None
    data = _prepare(counts, period=period, ytd=ytd, freq=freq, level=level, units=units)
    missing_by = [b for b in by if b not in data.columns]
    if missing_by:
        raise ValueError(f"counts have no column(s) {', '.join(missing_by)} to group by")
    if chosen is None:
        chosen = [i for i in INDICATORS if set(i.columns) <= set(data.columns)]
    needed = set().union(*(i.columns for i in chosen)) & set(data.columns)
    cols = [c2 for c2 in count_columns(data.columns) if c2 in needed]
    cols += sorted(c2 for c2 in needed if c2 not in cols)
    if stocks_needed := [s for s in cols if s in STOCK_COLUMNS]:
        if "period" not in data.columns:
            raise ValueError("counts need a period column to turn "
                             f"{', '.join(stocks_needed)} into person-years")
    frame = data[by + cols].copy()
    stocks = [s for s in cols if s in STOCK_COLUMNS or any(i.exposure == s for i in chosen)]
    if stocks:
        frac = pr.period_days(data["period"]) / pr.period_year_days(data["period"])
        for s in stocks:
            frame[s] = frame[s].astype("Float64") * frac
    keys = [frame[b] for b in by]
    values = frame[cols].astype("Float64")
    sums = values.groupby(keys, sort=True, observed=True, dropna=False).sum(min_count=1)
    gaps = values.isna().groupby(keys, sort=True, observed=True, dropna=False).any()
    return sums.astype(float).mask(gaps.to_numpy()), chosen


def _col(sums: pd.DataFrame, names: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    missing = [n for n in names if n not in sums.columns]
    if missing:
        return np.full(len(sums), np.nan), missing
    return sums[list(names)].to_numpy(dtype=float).sum(axis=1), []


def _one(ind: Indicator, sums: pd.DataFrame, method: str, confidence: float
         ) -> dict[str, np.ndarray | str]:
    n = len(sums)
    note = _Notes(n)
    absent = [c for c in ind.columns if c not in sums.columns]
    if absent:
        note.flag(np.ones(n, dtype=bool), "missing column(s): " + ", ".join(absent))
    if ind.kind == "tfr":
        b = np.stack([_col(sums, [f"births_age_{a}"])[0] for a in AGE_GROUPS])
        w = np.stack([_col(sums, [f"women_{a}"])[0] for a in AGE_GROUPS])
        value, lower, upper = iv.tfr_confint(b, w, confidence=confidence)
        num, den = b.sum(axis=0), w.sum(axis=0)
        note.flag(np.isnan(b).any(axis=0) | np.isnan(w).any(axis=0), "missing counts")
        note.flag(~np.all(w > 0, axis=0), "no woman-years in an age group")
    else:
        num, _ = _col(sums, ind.numerator)
        if ind.subtract:
            sub, _ = _col(sums, ind.subtract)
        if ind.exposure:
            den, _ = _col(sums, [ind.exposure])
        else:
            den, _ = _col(sums, ind.denominator)
        m = ind.multiplier
        with np.errstate(all="ignore"):
            if ind.kind == "rate":
                value = num / den * m
                lo, hi = iv.poisson_confint(num, confidence=confidence, method=method)
                lower, upper = lo / den * m, hi / den * m
            elif ind.kind == "difference":
                value = (num - sub) / den * m
                lo, hi = iv.poisson_difference_confint(num, sub, den, confidence=confidence)
                lower, upper = lo * m, hi * m
                num = num - sub
            elif ind.kind == "poisson_ratio":
                value = num / den * m
                lo, hi = iv.poisson_confint(num, confidence=confidence, method=method)
                lower, upper = lo / den * m, hi / den * m
            elif ind.kind == "proportion":
                value = num / den * m
                lo, hi = iv.proportion_confint(num, den, confidence=confidence, method=method)
                lower, upper = lo * m, hi * m
            else:  # sex_ratio
                value = num / den * m
                lower, upper = iv.sex_ratio_confint(num, den, confidence=confidence,
                                                    method=method)
        nan_in = np.isnan(num) | np.isnan(den)
        if ind.subtract:
            nan_in |= np.isnan(sub)
        note.flag(nan_in, "missing counts")
        if ind.kind == "sex_ratio":
            note.flag(num + den == 0, "no births")
            note.flag(den == 0, "no female births")
        elif ind.kind in ("rate", "difference"):
            note.flag(~(den > 0), "no person-years")
        else:
            note.flag(~(den > 0), "denominator is 0")
        if ind.kind == "proportion":
            note.flag(num > den, "numerator exceeds denominator")
    bad = note.code != 0
    value = np.where(bad, np.nan, value)
    lower = np.where(bad, np.nan, lower)
    upper = np.where(bad, np.nan, upper)
    label = f"poisson_{method}" if ind.kind in ("rate", "poisson_ratio") else method
    if label == "poisson_phe":  # say which rule each row used
        label = np.where(num < 10, "poisson_exact", "poisson_byar")
    return {"numerator": num, "denominator": den, "value": value, "lower": lower,
            "upper": upper, "method": label, "note": note}


# --------------------------------------------------------------------------- derived views


def add_sex_ratio_test(results: pd.DataFrame, *, reference: float = 105.0) -> pd.DataFrame:
    """Add the exact binomial test of each sex ratio against ``reference`` (default 105).

    Parameters
    ----------
    results : pandas.DataFrame
        Output of :func:`compute`; rows of sex-ratio indicators are tested (numerator =
        males, denominator = females), other rows get NaN.
    reference : float, default 105
        Males per 100 females under the null hypothesis (the biological norm is about 105).

    Returns
    -------
    pandas.DataFrame
        A copy with ``reference`` and ``p_value`` (two-sided, exact) columns.

    Examples
    --------
    >>> r = pd.DataFrame({"unit": ["A"], "indicator": ["sex_ratio_at_birth"],
    ...                   "numerator": [150.0], "denominator": [100.0]})
    >>> round(float(add_sex_ratio_test(r)["p_value"].iloc[0]), 6)
    0.006406
    """
    out = results.copy()
    sex_ratios = [k for k, spec in _BY_KEY.items() if spec.kind == "sex_ratio"]
    is_sr = out["indicator"].astype(str).isin(sex_ratios).to_numpy()
    p = np.full(len(out), np.nan)
    p[is_sr] = iv.sex_ratio_test(out.loc[is_sr, "numerator"], out.loc[is_sr, "denominator"],
                                 reference=reference)
    out["reference"] = np.where(is_sr, reference, np.nan)
    out["p_value"] = p
    return out


FUNNEL_LABELS = ("Low (0.001)", "Low (0.025)", "High (0.001)", "High (0.025)",
                 "Not significant")


def funnel_data(
    results: pd.DataFrame,
    indicator: str | Indicator,
    *,
    target: float,
    confidence: tuple[float, float] = (0.95, 0.998),
    points: int = 200,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Exact funnel-plot control limits around ``target`` and each unit's position.

    The x axis is the number the value rests on: births (males + females) for sex ratios,
    the denominator for proportions and ratios, person-years for rates. Limits are exact
    (binomial for sex ratios and proportions, Poisson for rates), interpolated for
    discreteness (Spiegelhalter 2005), and given in display units.

    Parameters
    ----------
    results : pandas.DataFrame
        Output of :func:`compute` for one period.
    indicator : str or Indicator
    target : float
        In display units: 105 or 130 males per 100 females, 86 %, 8.5 per mille ...
    confidence : (float, float), default (0.95, 0.998)
        Inner and outer funnels.
    points : int, default 200
        Points along the x axis.

    Returns
    -------
    units : pandas.DataFrame
        The indicator's result rows with ``x`` and ``funnel`` (``'High (0.001)'``,
        ``'High (0.025)'``, ``'Low (0.001)'``, ``'Low (0.025)'`` or ``'Not significant'``,
        as PHEindicatormethods labels them; empty where the value is missing).
    curves : pandas.DataFrame
        ``x``, then ``lower_<c>`` and ``upper_<c>`` for each confidence c (e.g.
        ``lower_0.95``), and ``target``.
    """
    spec = get(indicator)
    data = results[results["indicator"] == spec.key].reset_index(drop=True).copy()
    m = spec.multiplier
    if spec.kind == "sex_ratio":
        data["x"] = data["numerator"] + data["denominator"]
        p0 = target / (100 + target)

        def limits(x: np.ndarray, c: float) -> tuple[np.ndarray, np.ndarray]:
            lo, hi = iv.funnel_limits_proportion(x, p0, confidence=c)
            with np.errstate(divide="ignore"):
                return 100 * lo / (1 - lo), 100 * hi / (1 - hi)
    elif spec.kind == "proportion":
        data["x"] = data["denominator"]

        def limits(x: np.ndarray, c: float) -> tuple[np.ndarray, np.ndarray]:
            lo, hi = iv.funnel_limits_proportion(x, target / m, confidence=c)
            return lo * m, hi * m
    elif spec.kind in ("rate", "poisson_ratio"):
        data["x"] = data["denominator"]

        def limits(x: np.ndarray, c: float) -> tuple[np.ndarray, np.ndarray]:
            lo, hi = iv.funnel_limits_poisson(x, target / m, confidence=c)
            return lo * m, hi * m
    else:
        raise ValueError(f"no funnel for a {spec.kind} indicator ({spec.key})")
    inner, outer = sorted(confidence)
    x = data["x"].to_numpy(dtype=float)
    value = data["value"].to_numpy(dtype=float)
    lo_i, hi_i = limits(x, inner)
    lo_o, hi_o = limits(x, outer)
    label = np.select([value < lo_o, value < lo_i, value > hi_o, value > hi_i],
                      list(FUNNEL_LABELS[:4]), FUNNEL_LABELS[4]).astype(object)
    data["funnel"] = np.where(np.isnan(value), "", label)
    xs = x[np.isfinite(x) & (x > 0)]
    top = xs.max() * 1.15 if len(xs) else 10.0
    grid = np.unique(np.round(np.geomspace(max(1.0, xs.min() / 2 if len(xs) else 1.0), top,
                                           points)))
    curves = pd.DataFrame({"x": grid})
    for c in (inner, outer):
        curves[f"lower_{c:g}"], curves[f"upper_{c:g}"] = limits(grid, c)
    curves["target"] = float(target)
    return data, curves
