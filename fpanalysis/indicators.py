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

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import hierarchy
from . import intervals as iv
from . import periods as pr
from .schema import AGE_GROUPS, LEVELS, OPTIONAL_LEVELS, SERVICES, STOCK_COLUMNS, count_columns

__all__ = [
    "FUNNEL_LABELS",
    "add_sex_ratio_test",
    "INDICATORS",
    "Indicator",
    "KINDS",
    "KIND_BEHAVIOUR",
    "NOT_REPORTED",
    "PARTIAL",
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
        if not isinstance(self.key, str) or not self.key.strip() or self.key != self.key.strip():
            raise ValueError(f"an indicator key must be a non-empty name without surrounding "
                             f"spaces, got {self.key!r}")
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        behaviour = KIND_BEHAVIOUR[self.kind]
        method = self.method or behaviour.default_method
        if method not in behaviour.methods:
            raise ValueError(f"method for a {self.kind} must be one of "
                             f"{', '.join(behaviour.methods)}, got {method!r}")
        object.__setattr__(self, "method", method)
        needed = list(self.numerator) + list(self.denominator) + list(self.subtract)
        if self.kind == "tfr":
            needed += [f"births_age_{a}" for a in AGE_GROUPS] + [f"women_{a}"
                                                                  for a in AGE_GROUPS]
        if self.exposure:
            needed.append(self.exposure)
        object.__setattr__(self, "columns", tuple(dict.fromkeys(needed)))

    @property
    def behaviour(self) -> _Kind:
        """The object that knows this kind's value, interval, draws and funnel."""
        return KIND_BEHAVIOUR[self.kind]

    def draw(self, sums: pd.DataFrame, rng: np.random.Generator, draws: int) -> np.ndarray:
        """Values for every row of ``sums`` in every draw, shape (draws, rows).

        Counts are redrawn as a repeat of the period would give them (the predictive
        distribution, Jeffreys priors): a proportion's or a sex ratio's count x* ~
        Binomial(n, p) with p ~ Beta(x + 1/2, n - x + 1/2); a Poisson count x* ~
        Poisson(mu) with mu ~ Gamma(x + 1/2) (both terms of a difference; each age group of
        a TFR). Values come from the redrawn counts the way observed ones do, so a target
        such as ">= 100 %" that the observed count meets can be met again in a draw (a
        redrawn true share never reaches 100 %).
        ``sums`` are as from :func:`group_sums`; a row with a missing count draws NaN.

        Examples
        --------
        >>> s = pd.DataFrame({"births_male": [53.0], "births_female": [50.0]})
        >>> d = get("sex_ratio_at_birth").draw(s, np.random.default_rng(1), 4000)
        >>> d.shape, bool(95 < np.median(d) < 118)
        ((4000, 1), True)
        """
        return self.behaviour.draw(self, _Arrays(sums) if isinstance(sums, pd.DataFrame)
                                   else sums, rng, draws)

    def funnel_axis(self, language: str = "zh") -> str:
        """The x-axis label of this indicator's funnel plot (births, person-years ...)."""
        zh, en = self.behaviour.funnel_axis
        return zh if language == "zh" else en


# --------------------------------------------------------------------------- kinds
#
# Each indicator kind is one object that knows how to estimate its value and interval, how
# to redraw it for rank uncertainty, its funnel limits and the funnel's x-axis label. These
# were four separate switches on ``kind`` (compute, funnel data, rank draws, plot labels).


class _Arrays:
    """The columns of a sums frame as float arrays, each read from the frame once.

    Estimators read a column several times (a numerator is also a denominator elsewhere),
    and a column of a frame with a MultiIndex cost 60 microseconds a read, 60 reads a
    compute. Lives for one call: the frame is never changed meanwhile, and the arrays are
    read-only.
    """

    def __init__(self, frame: pd.DataFrame):
        self._frame = frame
        self.columns = frame.columns
        self._arrays: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self._frame)

    def __getitem__(self, name: str) -> np.ndarray:
        values = self._arrays.get(name)
        if values is None:
            values = self._frame[name].to_numpy(dtype=float)
            values.flags.writeable = False
            self._arrays[name] = values
        return values


def _col(sums: pd.DataFrame | _Arrays, names: Sequence[str]) -> np.ndarray:
    """Sum of the named columns of ``sums`` (NaN when one is absent)."""
    if any(n not in sums.columns for n in names):
        return np.full(len(sums), np.nan)
    # column by column, left to right (as a row sum adds them): selecting a sub-frame
    # copied it, 0.4 ms a call and 60 calls a compute
    total = np.zeros(len(sums))
    for n in names:  # a handful of columns
        column = sums[n]
        total = total + (column if isinstance(column, np.ndarray)
                         else column.to_numpy(dtype=float))
    return total


#: A figure resting on fewer events than this gets an informational note (value kept).
FEW_EVENTS = 10

_EVENT_WORDS = {"births": "births", "deaths": "deaths", "deaths_infant": "infant deaths"}


def _event_word(columns: Sequence[str]) -> str:
    """What the counted events are called in a few-events note."""
    if len(columns) == 1:
        if columns[0].startswith("births"):
            return "births"
        return _EVENT_WORDS.get(columns[0], "events")
    return "events"


def _poisson_redraw(x: np.ndarray, rng: np.random.Generator,
                    size: tuple[int, int]) -> np.ndarray:
    """Replicate counts of a Poisson count x: the mean drawn from its Jeffreys posterior
    Gamma(x + 1/2), then a count from Poisson(mean) (the predictive, a negative binomial).
    NaN where x is missing."""
    mean = rng.gamma(_shape(x), 1.0, size)
    missing = np.isnan(mean)
    out = rng.poisson(np.where(missing, 0.0, mean)).astype(float)
    out[missing] = np.nan
    return out


def _binomial_redraw(x: np.ndarray, n: np.ndarray, rng: np.random.Generator,
                     size: tuple[int, int]) -> np.ndarray:
    """Replicate counts of x of n: p drawn from its Jeffreys posterior Beta(x + 1/2,
    n - x + 1/2), then a count from Binomial(n, p) (the predictive, a beta-binomial), so
    that 100 % (or 0 %) can be observed again. NaN where x or n is missing."""
    with np.errstate(invalid="ignore"):
        p = rng.beta(_shape(x), _shape(n - x), size)
    missing = np.isnan(p) | np.isnan(n)[None, :]
    trials = np.broadcast_to(np.nan_to_num(n).astype(np.int64), size)
    out = rng.binomial(trials, np.where(missing, 0.0, p)).astype(float)
    out[missing] = np.nan
    return out


def _shape(x: np.ndarray) -> np.ndarray:
    """Jeffreys shape x + 1/2 of a count; NaN where the count is missing (the draw then
    gives NaN rather than failing)."""
    return np.where(np.isnan(x), np.nan, np.maximum(np.nan_to_num(x), 0) + 0.5)


class _Kind(ABC):
    """Behaviour of one indicator kind (see :class:`Indicator`); each kind is a subclass."""

    name = ""
    methods: tuple[str, ...] = ()
    default_method = ""
    funnel_axis = ("分母", "denominator")  # x axis of a funnel plot (zh, en)
    funnel = True  # whether funnel limits exist

    @abstractmethod
    def estimate(self, ind: Indicator, sums: pd.DataFrame, method: str, confidence: float,
                 note: _Notes) -> tuple[np.ndarray, ...]:
        """Numerator, denominator, value, lower, upper for every row of ``sums``."""

    @abstractmethod
    def draw(self, ind: Indicator, sums: pd.DataFrame, rng: np.random.Generator,
             draws: int) -> np.ndarray:
        """Values redrawn from the counts' sampling distributions, shape (draws, rows)."""

    def funnel_x(self, rows: pd.DataFrame) -> np.ndarray:
        """The funnel plot's x (what the value rests on) from result rows."""
        return rows["denominator"].to_numpy(dtype=float)

    def funnel_limits(self, x: np.ndarray, target: float, multiplier: float,
                      confidence: float) -> tuple[np.ndarray, np.ndarray]:
        raise ValueError(f"no funnel for a {self.name} indicator")

    def method_label(self, method: str, numerator: np.ndarray) -> str | np.ndarray:
        return method


class _PoissonKind(_Kind):
    """A Poisson count over a denominator: 'rate' (person-years) and 'poisson_ratio'."""

    methods = iv.POISSON_METHODS
    default_method = "exact"

    def _den(self, ind: Indicator, sums: pd.DataFrame) -> np.ndarray:
        return _col(sums, [ind.exposure] if ind.exposure else ind.denominator)

    def estimate(self, ind, sums, method, confidence, note):
        num, den, m = _col(sums, ind.numerator), self._den(ind, sums), ind.multiplier
        with np.errstate(all="ignore"):
            lo, hi = iv.poisson_confint(num, confidence=confidence, method=method)
            value, lower, upper = num / den * m, lo / den * m, hi / den * m
        note.flag(np.isnan(num) | np.isnan(den), _EMPTY_CELLS)
        note.flag(~(den > 0), "no person-years" if self.name == "rate" else "denominator is 0")
        note.few(num, _event_word(ind.numerator))
        return num, den, value, lower, upper

    def draw(self, ind, sums, rng, draws):
        x, den = _col(sums, ind.numerator), self._den(ind, sums)
        with np.errstate(all="ignore"):
            return _poisson_redraw(x, rng, (draws, len(sums))) / den * ind.multiplier

    def funnel_limits(self, x, target, multiplier, confidence):
        lo, hi = iv.funnel_limits_poisson(x, target / multiplier, confidence=confidence)
        return lo * multiplier, hi * multiplier

    def method_label(self, method, numerator):
        if method == "phe":  # say which rule each row used
            return np.where(numerator < 10, "poisson_exact", "poisson_byar")
        return f"poisson_{method}"


class _RateKind(_PoissonKind):
    name = "rate"
    funnel_axis = ("人年数", "person-years")


class _PoissonRatioKind(_PoissonKind):
    name = "poisson_ratio"


class _DifferenceKind(_Kind):
    name = "difference"
    funnel = False
    methods = iv.DIFFERENCE_METHODS
    default_method = "mover_jeffreys"
    funnel_axis = ("人年数", "person-years")

    def estimate(self, ind, sums, method, confidence, note):
        b, d = _col(sums, ind.numerator), _col(sums, ind.subtract)
        py, m = _col(sums, [ind.exposure]), ind.multiplier
        with np.errstate(all="ignore"):
            lo, hi = iv.poisson_difference_confint(b, d, py, confidence=confidence,
                                                   method=method)
            value = (b - d) / py * m
        note.flag(np.isnan(b) | np.isnan(d) | np.isnan(py), _EMPTY_CELLS)
        note.flag(~(py > 0), "no person-years")
        note.few(b + d, "births and deaths")
        return b - d, py, value, lo * m, hi * m

    def draw(self, ind, sums, rng, draws):
        b, d = _col(sums, ind.numerator), _col(sums, ind.subtract)
        py, size = _col(sums, [ind.exposure]), (draws, len(sums))
        with np.errstate(all="ignore"):
            return (_poisson_redraw(b, rng, size) - _poisson_redraw(d, rng, size)) \
                / py * ind.multiplier


class _ProportionKind(_Kind):
    name = "proportion"
    methods = iv.PROPORTION_METHODS
    default_method = "clopper_pearson"  # why: intervals.proportion_confint, Notes

    def estimate(self, ind, sums, method, confidence, note):
        num, den, m = _col(sums, ind.numerator), _col(sums, ind.denominator), ind.multiplier
        with np.errstate(all="ignore"):
            lo, hi = iv.proportion_confint(num, den, confidence=confidence, method=method)
            value = num / den * m
        note.flag(np.isnan(num) | np.isnan(den), _EMPTY_CELLS)
        note.flag(~(den > 0), "denominator is 0")
        note.flag(num > den, "numerator exceeds denominator")
        return num, den, value, lo * m, hi * m

    def draw(self, ind, sums, rng, draws):
        x, n = _col(sums, ind.numerator), _col(sums, ind.denominator)
        redrawn = _binomial_redraw(x, n, rng, (draws, len(sums)))
        with np.errstate(all="ignore"):
            return redrawn / n * ind.multiplier

    def funnel_limits(self, x, target, multiplier, confidence):
        lo, hi = iv.funnel_limits_proportion(x, target / multiplier, confidence=confidence)
        return lo * multiplier, hi * multiplier


class _SexRatioKind(_Kind):
    name = "sex_ratio"
    methods = ("clopper_pearson", "wilson")
    default_method = "clopper_pearson"
    funnel_axis = ("出生数", "births")

    def estimate(self, ind, sums, method, confidence, note):
        num, den, m = _col(sums, ind.numerator), _col(sums, ind.denominator), ind.multiplier
        with np.errstate(all="ignore"):
            lower, upper = iv.sex_ratio_confint(num, den, confidence=confidence, method=method)
            value = num / den * m
        note.flag(np.isnan(num) | np.isnan(den), _EMPTY_CELLS)
        note.flag(num + den == 0, "no births")
        note.few(num + den, "births")
        note.inform(den == 0, "no female births: value infinite, upper end open")
        return num, den, value, lower, upper

    def draw(self, ind, sums, rng, draws):
        x, f = _col(sums, ind.numerator), _col(sums, ind.denominator)
        males = _binomial_redraw(x, x + f, rng, (draws, len(sums)))
        with np.errstate(all="ignore"):  # boys only in a redraw: infinite, as observed
            return 100 * males / ((x + f) - males)

    def funnel_x(self, rows):
        return (rows["numerator"] + rows["denominator"]).to_numpy(dtype=float)

    def funnel_limits(self, x, target, multiplier, confidence):
        lo, hi = iv.funnel_limits_proportion(x, target / (100 + target), confidence=confidence)
        with np.errstate(divide="ignore"):
            return 100 * lo / (1 - lo), 100 * hi / (1 - hi)


class _TfrKind(_Kind):
    name = "tfr"
    funnel = False
    methods = iv.TFR_METHODS
    default_method = "gamma"

    def estimate(self, ind, sums, method, confidence, note):
        b = np.stack([_col(sums, [f"births_age_{a}"]) for a in AGE_GROUPS])
        w = np.stack([_col(sums, [f"women_{a}"]) for a in AGE_GROUPS])
        with np.errstate(all="ignore"):
            value, lower, upper = iv.tfr_confint(b, w, confidence=confidence, method=method)
        note.flag(np.isnan(b).any(axis=0) | np.isnan(w).any(axis=0), _EMPTY_CELLS)
        note.flag(~np.all(w > 0, axis=0), "no woman-years in an age group")
        note.few(b.sum(axis=0), "births")
        return b.sum(axis=0), w.sum(axis=0), value, lower, upper

    def draw(self, ind, sums, rng, draws):
        total = np.zeros((draws, len(sums)))
        with np.errstate(all="ignore"):
            for a in AGE_GROUPS:  # seven age groups
                b, w = _col(sums, [f"births_age_{a}"]), _col(sums, [f"women_{a}"])
                total += _poisson_redraw(b, rng, total.shape) / w
        return 5 * total


#: The behaviour of each indicator kind, by name.
KIND_BEHAVIOUR: dict[str, _Kind] = {k.name: k for k in (
    _RateKind(), _DifferenceKind(), _ProportionKind(), _PoissonRatioKind(), _SexRatioKind(),
    _TfrKind())}
KINDS = tuple(KIND_BEHAVIOUR)


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
               label_zh: str = "", label_en: str = "", method: str = "clopper_pearson",
               higher_is_better: bool | None = True) -> Indicator:
    """Build a user indicator: a coverage-type proportion in per cent (Clopper-Pearson by
    default: near 100 % Wilson's upper limit falls below the truth too often).

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
        if key.key in _BY_KEY and _BY_KEY[key.key] != key:
            raise ValueError(f"indicator key {key.key!r} is built in; give your own indicator "
                             "another key")
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

#: Notes of rows whose value is missing because counts were not reported start with this.
NOT_REPORTED = "not reported"
#: The note of a row whose count cells are empty: a report that was sent blank.
_EMPTY_CELLS = "not reported: empty count cells"
#: Notes of rows computed, with ``partial=True``, from part of their sub-periods or children.
PARTIAL = "partial"


def _object_array(values: Sequence[object]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


def _period_values(periods: Sequence[object], n_repeat: int) -> object:
    """``periods`` tiled ``n_repeat`` times, as a period array when they are pandas Periods."""
    if periods and all(isinstance(p, pd.Period) for p in periods):
        return pd.PeriodIndex(list(periods) * n_repeat, freq=periods[0].freq)
    return _object_array(list(periods) * n_repeat)


def _check_numeric(data: pd.DataFrame, columns: Sequence[str], stocks: Sequence[str]) -> None:
    """Counts are numbers >= 0, and flows (events) whole numbers, whoever built the frame."""
    dtypes = data.dtypes  # once: a column's dtype read one by one cost 40 lookups a call
    for c in columns:
        dtype = dtypes[c]
        if not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
            raise ValueError(f"count column {c!r} is not numeric (dtype {dtype}): pass the "
                             "indicator to load_counts(indicators=[...]) so that it is "
                             "loaded and checked as a count column")
    if not len(columns) or not len(data):
        return
    names = list(columns)
    negative = np.zeros(len(names), dtype=bool)
    fraction = np.zeros(len(names), dtype=bool)
    for i, c in enumerate(names):  # the indicators' columns, no sub-frame copied
        values = data[c].to_numpy(dtype=float, na_value=np.nan)
        with np.errstate(invalid="ignore"):
            negative[i] = (values < 0).any()
            if c not in stocks and not pd.api.types.is_integer_dtype(dtypes[c]):
                fraction[i] = ((np.mod(values, 1) != 0) & ~np.isnan(values)).any()
    problems = [f"{names[i]!r} has negative values" for i in np.flatnonzero(negative)]
    problems += [f"{names[i]!r} has values that are not whole numbers"
                 for i in np.flatnonzero(fraction)]
    if problems:
        raise ValueError("counts must be non-negative whole numbers (population and women "
                         "may be means): " + "; ".join(problems)
                         + " (load_counts finds the rows)")


def _check_keys(data: pd.DataFrame) -> None:
    """One row per unit and period: a duplicate would be summed twice."""
    keys = [k for k in ("unit", "period") if k in data.columns]
    if len(keys) < 2 or not pr.has_duplicate_keys(data, keys):
        return
    dup = data.duplicated(keys).to_numpy()
    if dup.any():
        first = [str(v) for v in data.loc[dup, keys].iloc[0].tolist()]
        raise ValueError(f"counts have {int(dup.sum())} duplicate row(s) for "
                         f"({', '.join(keys)}), e.g. ({', '.join(first)})")


def _prepare(counts: pd.DataFrame, chosen: list[Indicator] | None, *, by: list[str],
             period: object, ytd: bool, freq: str | None, level: str | None,
             units: pd.DataFrame | None, partial: bool
             ) -> tuple[pd.DataFrame, list[Indicator], list[str]]:
    """Roll counts to the requested periods and units, one row per unit of the universe.

    Returns the rows (stocks already turned into person-years, ``_note`` saying why a row is
    not reported or partial), the indicators and the count columns they use.
    """
    data = counts
    if "births" not in data.columns and {"births_male", "births_female"} <= set(data):
        data = data.assign(births=data["births_male"] + data["births_female"])
    if chosen is None:
        present = set(data.columns)
        chosen = [i for i in INDICATORS if set(i.columns) <= present]
    needed = set().union(*(i.columns for i in chosen)) if chosen else set()
    cols = [c for c in count_columns(data.columns) if c in needed]
    cols += sorted(c for c in needed if c in data.columns and c not in cols)
    stocks = [c for c in cols if c in STOCK_COLUMNS or any(i.exposure == c for i in chosen)]
    checked = [c for c in cols if c in counts.columns]
    if "births" in cols and "births" not in counts.columns:  # derived from male + female
        checked += ["births_male", "births_female"]
    _check_numeric(counts, checked, stocks)
    _check_keys(data)
    has_unit, has_period = "unit" in data.columns, "period" in data.columns
    if stocks and not has_period:
        raise ValueError("counts need a period column to turn "
                         f"{', '.join(stocks)} into person-years")
    universe = _universe(data, units) if has_unit else None
    # only the columns the indicators use are summed: an unused column may hold anything
    data = data[[c for c in data.columns if c in set(cols) | {"unit", "period"} | set(by)]]
    rolled = False
    sub_word = "dekads" if has_period and pr.is_dekad(data["period"]) else "months"
    monthly = has_period and (data["period"].dtype == "period[M]" or pr.is_dekad(data["period"]))
    if period is not None:
        target = pr.parse(period)
        if ytd:
            target = pr.year_to_date(target)
        if monthly:
            data = pr.rollup(data, target, by=["unit"] if has_unit else [], complete=False,
                             columns=cols, stocks=stocks)
            rolled = True
        else:
            data = data[data["period"] == target]
            if data.empty:
                raise ValueError(f"no counts for period {target}: the counts are not monthly, "
                                 "so only periods present in them can be computed")
        targets: list[object] = [target]
    elif freq is not None:
        if not monthly:
            raise ValueError("freq needs monthly or dekad counts")
        data = pr.rollup(data, freq, by=["unit"] if has_unit else [], complete=False,
                         columns=cols, stocks=stocks)
        done = pd.unique(data.loc[data["complete"].to_numpy(dtype=bool), "period"])
        if not len(done):
            raise ValueError(f"no {freq} period is complete for any unit in the counts: "
                             "ask for one period with period= (its note says what is missing)")
        data = data[data["period"].isin(done)]  # a period some unit has complete
        targets = sorted(done)
        rolled = True
    else:
        targets = sorted(pd.unique(data["period"])) if has_period else []
    # copy: for an all-float frame pandas may hand back a read-only view of its own block
    values = data[cols].to_numpy(dtype=float, na_value=np.nan, copy=True) if cols else \
        np.empty((len(data), 0))
    note = np.full(len(data), "", dtype=object)
    if rolled:
        incomplete = ~data["complete"].to_numpy(dtype=bool)
        if incomplete.any():  # the exception: text for those rows only
            rows = data.loc[incomplete]
            word = np.where(rows["expected"].to_numpy() == 1, sub_word[:-1], sub_word)
            prefix = f"{PARTIAL}: " if partial else f"{NOT_REPORTED}: "
            note[incomplete] = (prefix + rows["reported"].astype(str) + " of "
                                + rows["expected"].astype(str) + " " + word + ", "
                                + rows["missing"] + " missing").to_numpy(dtype=object)
            if not partial:
                values[incomplete] = np.nan
        year_days = pr.period_year_days(data["period"]) if len(data) else np.empty(0)
        frac = data["days_reported"].to_numpy(dtype=float) / year_days
    else:
        frac = (pr.period_days(data["period"]) / pr.period_year_days(data["period"])
                if has_period and len(data) else np.ones(len(data)))
    for s in stocks:
        values[:, cols.index(s)] *= frac
    rest = data[[c for c in data.columns if c not in cols]].reset_index(drop=True)
    data = pd.concat([rest, pd.DataFrame(values, columns=cols)], axis=1)
    data["_note"] = note
    if universe is not None and "unit" in by:
        data = _fill_universe(data, universe, targets if "period" in by else None, cols)
    if level is not None:
        if units is None:
            raise ValueError("level needs the units table: pass units=")
        data = _to_level(data, units, level, cols=cols, by=by,
                         targets=targets if "period" in by else None, partial=partial)
    return data, chosen, cols


def _universe(data: pd.DataFrame, units: pd.DataFrame | None) -> list[str]:
    """Units that get a row: every unit of the counts, and with ``units`` every unit of the
    table at the levels of the counts' units."""
    codes = pd.unique(data["unit"].dropna())
    if units is None:
        return sorted(codes)
    known = pd.Series(units["level"].to_numpy(), index=units["unit"].to_numpy())
    unknown = sorted(str(c) for c in codes if c not in known.index)
    if unknown:
        raise ValueError(f"counts have unit codes that are not in the units table: "
                         f"{', '.join(unknown)}")
    level_of = known.loc[list(codes)]
    levels = set(level_of)
    if len(levels) > 1:
        listed = "; ".join(
            f"{lv}: {', '.join(sorted(map(str, level_of.index[level_of == lv]))[:5])}"
            for lv in sorted(levels))
        raise ValueError(f"counts hold units of several levels ({listed}): a unit's own row "
                         "beside its children's would be counted twice (load_counts(units=) "
                         "checks it as a totals row and sets it aside); compute each level "
                         "from its own counts")
    return sorted(set(codes) | set(known.index[known.isin(levels)]))


def _fill_universe(data: pd.DataFrame, universe: list[str], targets: list[object] | None,
                   cols: list[str]) -> pd.DataFrame:
    """Add a not-reported row for every unit (and period) of the universe without one."""
    keys = ["unit", "period"] if targets is not None else ["unit"]
    if targets is not None:
        n_t = len(targets)
        if pr.has_duplicate_keys(data, keys):
            return data  # several rows per key (non-monthly input): nothing to fill
        # the units of ``data`` are all in the universe: equal counts mean a full grid
        if len(data) == len(universe) * n_t and data["unit"].nunique() == len(universe):
            return data
        grid = pd.DataFrame({"unit": np.repeat(np.array(universe, dtype=object), n_t),
                             "period": _period_values(targets, len(universe))})
    else:
        if data["unit"].nunique() == len(universe):
            return data
        grid = pd.DataFrame({"unit": _object_array(universe)})
    grid["_present"] = True
    key_frame = data[keys].assign(_row=np.arange(len(data)))
    merged = grid.merge(key_frame, on=keys, how="left")
    absent = merged.loc[merged["_row"].isna(), keys]
    if absent.empty:
        return data
    extra = absent.reset_index(drop=True)
    if targets is not None:
        extra["_note"] = f"{NOT_REPORTED}: no counts for " + extra["period"].astype(str)
    else:
        extra["_note"] = f"{NOT_REPORTED}: no counts"
    for c in cols:
        extra[c] = np.nan
    out = pd.concat([data, extra], ignore_index=True)
    return out.sort_values(keys, kind="stable").reset_index(drop=True)


def _to_level(data: pd.DataFrame, units: pd.DataFrame, level: str, *, cols: list[str],
              by: list[str], targets: list[object] | None, partial: bool) -> pd.DataFrame:
    """Sum children's rows into their ancestors at ``level``, noting missing children."""
    anc = hierarchy.ancestors(units, level)
    mapped = data["unit"].map(anc)
    # areas are optional: a village directly under its township belongs to no area, so at
    # level="area" it is left out (its township's other villages are grouped in areas)
    depth = pd.Series(units["level"].to_numpy(), index=units["unit"].to_numpy()).map(
        {lv: i for i, lv in enumerate(LEVELS)})
    outside = (mapped.isna() & (data["unit"].map(depth) > LEVELS.index(level))).to_numpy()
    if level in OPTIONAL_LEVELS and outside.any():
        data, mapped = data[~outside].reset_index(drop=True), mapped[~outside].reset_index(
            drop=True)
    unplaced = sorted(str(u) for u in pd.unique(data.loc[mapped.isna(), "unit"]))
    if unplaced:
        raise ValueError(f"units cannot be placed under a unit of level {level!r}: "
                         f"{', '.join(unplaced)}")
    keys = [k for k in by if k in data.columns and k != "unit"]
    note = data["_note"].to_numpy(dtype=object)
    absent = np.char.startswith(note.astype(str), NOT_REPORTED) if len(note) else \
        np.zeros(0, dtype=bool)
    flagged = note != ""
    child = data.assign(unit=mapped.to_numpy())
    used = child[~absent]
    group = [used["unit"]] + [used[k] for k in keys]
    sums = used[cols].groupby(group, sort=True, observed=True, dropna=False).sum(min_count=1)
    gaps = used[cols].isna().groupby(group, sort=True, observed=True, dropna=False).any()
    sums = sums.mask(gaps.to_numpy(dtype=bool)).reset_index()
    sums.columns = ["unit"] + keys + cols
    parents = sorted(units.loc[units["level"] == level, "unit"])
    sums["_note"] = ""
    sums = _fill_universe(sums, parents, targets, cols)
    if flagged.any():  # few rows: list the missing children of each parent
        bad = child.loc[flagged, ["unit"] + keys].copy()
        no_counts = np.char.startswith(note[flagged].astype(str), f"{NOT_REPORTED}: no counts")
        bad["_child"] = np.where(
            no_counts, data.loc[flagged, "unit"].astype(str),
            data.loc[flagged, "unit"].astype(str) + " ("
            + data.loc[flagged, "_note"].astype(str).str.partition(", ")[2] + ")")
        listed = bad.groupby(["unit"] + keys, sort=True, observed=True)["_child"].agg(", ".join)
        listed = listed.rename("_children").reset_index().astype(object)
        merged = sums[["unit"] + keys].astype(object).merge(listed, on=["unit"] + keys,
                                                             how="left")
        children = merged["_children"].to_numpy(dtype=object)
        hit = pd.notna(children)
        none_used = sums[cols].isna().all(axis=1).to_numpy() if cols else hit
        if partial:
            prefix = np.where(none_used, f"{NOT_REPORTED}: ", f"{PARTIAL}: ")
        else:
            prefix = np.full(len(sums), f"{NOT_REPORTED}: ", dtype=object)
            sums.loc[hit, cols] = np.nan
        text = prefix + "children missing: " + np.where(hit, children, "").astype(object)
        sums["_note"] = np.where(hit, text, sums["_note"].to_numpy(dtype=object))
    return sums


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
    partial: bool = False,
) -> pd.DataFrame:
    """Compute indicators with confidence intervals for every group of ``by``.

    Counts are summed first, never rates: a parent unit is computed from its children's
    summed counts, a quarter from its months. Crude rates are annualized by person-years
    (mean stock x days in period / days in year).

    Every unit keeps its rows. A unit that lacks some sub-periods of a requested period (a
    month of a quarter, a dekad of a month), or has no counts at all for it, still gets a
    row for every indicator, with ``value``, ``lower`` and ``upper`` missing and a note that
    starts with ``"not reported"`` and names what is missing (``"not reported: 2 of 3
    months, 2024-08 missing"``, ``"not reported: no counts for 2024Q3"``). With
    ``partial=True`` incomplete rows are computed from what is present (person-years over
    the days present) and the note starts with ``"partial:"``.

    A parent unit (``level=``) whose children are not all complete is **missing**, with a
    note naming the missing children (``"not reported: children missing: 101, 105"``;
    an incomplete child is listed with its gap, e.g. ``103 (2024-08 missing)``): a county
    total that silently lacks a township is worse than none. With ``partial=True`` the
    parent is computed from the children present and noted ``"partial: children missing:
    ..."``.

    Parameters
    ----------
    counts : pandas.DataFrame
        Tidy counts (as from :func:`fpanalysis.io.load_counts`). One row per unit and
        period. Columns that a user indicator uses but the schema does not know roll up
        with the others (flows summed; a user rate's exposure is a stock).
    indicators : iterable of str or Indicator, optional
        Keys of built-in indicators and/or user :class:`Indicator` objects. Default: every
        built-in indicator whose columns are present.
    by : sequence of str, default ('unit', 'period')
        Grouping keys of the result.
    period : period label, optional
        Restrict to one assessment period, rolling monthly (or dekad) counts up to it
        (e.g. '2024Q3'). A dekad (``'2024-07-D1'``) selects exactly that dekad of dekad
        counts.
    freq : {'M', 'Q', 'H', 'Y'}, optional
        Roll monthly counts up to this frequency. A period is listed when at least one
        unit has it complete; every unit then gets a row in it.
    level : {'county', 'township', 'area', 'village'}, optional
        Aggregate units to their ancestor at this level first (needs ``units``).
    ytd : bool, default False
        With ``period``: use the year to date ending with that period.
    confidence : float, default 0.95
    units : pandas.DataFrame, optional
        Unit hierarchy. Needed for ``level``; when given, every unit of the table at the
        level of the counts' units (and at ``level``) gets rows, reported or not.
    methods : mapping of str to str, optional
        Interval method per indicator key, overriding the registry default.
    partial : bool, default False
        Compute incomplete periods and parents from what is present, marked in the note.

    Returns
    -------
    pandas.DataFrame
        ``by`` columns, then ``indicator``, ``numerator`` (events; births minus deaths for the
        natural growth rate; males for sex ratios), ``denominator`` (person-years,
        denominator count, or females), ``value``, ``lower``, ``upper`` (in display units:
        value = numerator / denominator x multiplier), ``multiplier``, ``confidence``,
        ``method`` and ``note`` (why a value is missing, or that it is partial; else
        empty). Sorted by ``by`` and the registry order of indicators; RangeIndex.

        Two notes are informational and keep the value and limits: ``"few events: 7
        births"`` where a rate, ratio, natural growth (births + deaths), TFR (births) or sex
        ratio (births) rests on fewer than :data:`FEW_EVENTS` (10) events, so that tables
        and verdicts can show it and offer pooling (several quarters, or the parent unit);
        and, for a sex ratio with boys but no girls, ``"no female births: value infinite,
        upper end open"``: the value and upper limit are ``inf``, the lower limit finite.
        Several are joined by ``"; "``. Every other note blanks the value: test for a
        missing value with ``value.isna()``, not with ``note != ""``.

    Raises
    ------
    ValueError
        Unknown indicator or method, confidence outside (0, 1), ``level`` without units, a
        unit code not in ``units``, a unit that cannot be placed under ``level``, a dekad
        asked of monthly counts, a count column that is not numeric.

    Notes
    -----
    Person-years ``PY = population × days / days_in_year``; crude birth rate
    ``births / PY × 1000`` (per 1000 person-years); natural growth ``(B - D) / PY × 1000``
    (MOVER-Jeffreys interval by default, ``'normal'``: ``var = (B + D) / PY²``); TFR
    ``5 Σ ASFR / 1000`` children per woman (gamma interval of Fay and Feuer by default,
    ``'tiwari'`` and ``'delta'`` on request); coverage proportions Clopper-Pearson by
    default (``'wilson'``, ``'wilson_modified'``, ``'jeffreys'`` on request). Why: see
    :mod:`fpanalysis.intervals` and ``benchmarks/coverage.py``.

    Examples
    --------
    >>> c = pd.DataFrame({"unit": ["A", "B"], "period": pd.PeriodIndex(["2024Q1"] * 2,
    ...                   freq="Q"), "births_male": [53, 0], "births_female": [50, 0],
    ...                   "deaths": [40, 1], "population": [40000, 500]})
    >>> r = compute(c, ["crude_birth_rate", "sex_ratio_at_birth"])
    >>> r[["unit", "numerator", "value", "lower", "upper", "note"]].round(2)
      unit  numerator   value  lower   upper                  note
    0    A      103.0   10.36   8.45   12.56
    1    A       53.0  106.00  70.65  159.23
    2    B        0.0    0.00   0.00   29.67  few events: 0 births
    3    B        0.0     NaN    NaN     NaN             no births

    A unit that sent two of three monthly reports keeps its row:

    >>> m = pd.DataFrame({"unit": ["A"] * 3 + ["B"] * 2, "period": pd.PeriodIndex(
    ...     ["2024-07", "2024-08", "2024-09", "2024-07", "2024-09"], freq="M"),
    ...     "births_male": [5, 6, 7, 1, 2], "births_female": [5, 5, 6, 1, 2]})
    >>> compute(m, ["sex_ratio_at_birth"], period="2024Q3")[["unit", "value", "note"]]
      unit       value                                           note
    0    A  112.5
    1    B         NaN  not reported: 2 of 3 months, 2024-08 missing
    """
    c = iv.check_confidence(confidence)
    by = list(by)
    methods = dict(methods or {})
    if isinstance(indicators, str | Indicator):  # one indicator, not its letters
        indicators = [indicators]
    sums, chosen, status = _group_sums(counts, indicators, by=by, period=period, freq=freq,
                                       level=level, ytd=ytd, units=units, partial=partial)
    return _results(sums, chosen, status, by=by, confidence=c, methods=methods)


def _results(sums: pd.DataFrame, chosen: list[Indicator], status: np.ndarray, *,
             by: list[str], confidence: float, methods: Mapping[str, str]) -> pd.DataFrame:
    """:func:`compute`'s rows from the group sums (``confidence`` checked, ``methods`` a
    dict)."""
    c = confidence
    n_groups, n_ind = len(sums), len(chosen)
    unknown = sorted(set(methods) - {sp.key for sp in chosen})
    if unknown:
        raise ValueError(f"methods names indicator(s) not computed here: {', '.join(unknown)}; "
                         f"computed: {', '.join(sp.key for sp in chosen)}")
    if (status != "").any():
        codes, uniq = pd.factorize(status)
        noted: tuple[np.ndarray, list[str]] | None = (codes, [str(u) for u in uniq])
    else:
        noted = None
    if n_ind == 0:
        return pd.DataFrame(columns=by + list(RESULT_COLUMNS))
    # numbers are written contiguously per indicator, then transposed once so that rows run
    # (group, indicator): the result is born sorted by the keys and the registry order, with
    # no concat and no sort. Text columns are categorical (codes, not 12 M strings).
    numeric = ("numerator", "denominator", "value", "lower", "upper")
    block = np.empty((len(numeric), n_ind, n_groups))
    labels: dict[str, int] = {"": 0}
    method_code = np.empty((n_ind, n_groups), dtype=np.int32)
    arrays = _Arrays(sums)  # each count column read once for every indicator
    note_code = np.empty((n_ind, n_groups), dtype=np.int32)
    for j, spec in enumerate(chosen):
        chosen_method = methods.get(spec.key, spec.method)
        if chosen_method not in spec.behaviour.methods:
            raise ValueError(f"method for {spec.key} must be one of "
                             f"{', '.join(spec.behaviour.methods)}, got {chosen_method!r}")
        one = _one(spec, arrays, chosen_method, c, noted)
        for f, field_name in enumerate(numeric):
            block[f, j] = one[field_name]
        method_code[j] = _codes(one["method"], labels)
        codes, reasons = one["note"].labels()
        table = np.array([labels.setdefault(r, len(labels)) for r in reasons], dtype=np.int32)
        note_code[j] = table[codes]
    out = pd.DataFrame({f: np.ascontiguousarray(block[i].T).reshape(-1)
                        for i, f in enumerate(numeric)}, copy=False)
    out["multiplier"] = np.tile(np.array([float(sp.multiplier) for sp in chosen]), n_groups)
    out["confidence"] = c
    rows = np.repeat(np.arange(n_groups), n_ind)
    index = sums.index
    for position, name in enumerate(by):
        values = index.get_level_values(position) if index.nlevels > 1 else index
        if name == "period":
            values = _as_periods(values)
        keep = object if isinstance(values, np.ndarray) and values.dtype == object else None
        column = pd.Series(values, dtype=keep).take(rows)
        out.insert(position, name, column.array if keep is None else
                   pd.Series(column.to_numpy(), index=out.index, dtype=object))
    out.insert(len(by), "indicator", pd.Categorical.from_codes(
        np.tile(np.arange(n_ind, dtype=np.int32), n_groups), [sp.key for sp in chosen]))
    text = list(labels)
    out["method"] = pd.Categorical.from_codes(method_code.T.reshape(-1), text)
    out["note"] = pd.Categorical.from_codes(note_code.T.reshape(-1), text)
    return out


def _as_periods(values: pd.Index) -> object:
    """Period keys as period objects again (grouping turns dekads and spans into text)."""
    if isinstance(values, pd.PeriodIndex) or len(values) == 0:
        return values
    codes, uniq = pd.factorize(values)
    parsed = [pr.parse(u) for u in uniq]
    if all(isinstance(p, pd.Period) for p in parsed) and len({p.freqstr for p in parsed}) == 1:
        return pd.PeriodIndex(parsed, freq=parsed[0].freq).take(codes)
    return _object_array(parsed)[codes]


class _Notes:
    """Why each value is missing, as small codes into ``reasons`` (0 = no reason); the first
    reason flagged for a row wins. ``status`` (not reported / partial) comes first: a
    not-reported row is masked, a partial row keeps its value and its note is prefixed to
    any later reason."""

    def __init__(self, n: int, status: tuple[np.ndarray, list[str]] | None = None):
        self.code = np.zeros(n, dtype=np.int32)
        self.reasons = [""]
        self.prefix = np.zeros(n, dtype=np.int32)
        self.prefixes = [""]
        self.info = np.zeros(n, dtype=np.int32)  # informational notes: the value is kept
        if status is not None and n:
            codes, uniq = status  # factorized once for all indicators
            blocking = np.array([u.startswith(NOT_REPORTED) for u in uniq], dtype=bool)
            partial = np.array([u != "" and not b for u, b in zip(uniq, blocking,
                                                                   strict=True)], dtype=bool)
            base_r, base_p = len(self.reasons), len(self.prefixes)
            self.reasons += uniq
            self.prefixes += uniq
            self.code = np.where(blocking[codes], base_r + codes, 0).astype(np.int32)
            self.prefix = np.where(partial[codes], base_p + codes, 0).astype(np.int32)

    def flag(self, mask: np.ndarray, reason: str) -> None:
        """Mark rows whose value is missing for ``reason`` (value and limits are blanked)."""
        hit = (self.code == 0) & np.asarray(mask, dtype=bool)
        if hit.any():
            self.reasons.append(reason)
            self.code[hit] = len(self.reasons) - 1

    def inform(self, mask: np.ndarray, text: str) -> None:
        """Say ``text`` in the note of rows that keep their value (informational: nothing is
        blanked). A blocking reason replaces it; several informational texts are joined by
        '; ' in the order given."""
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        existing = self.info[mask]
        new = np.empty_like(existing)
        for u in np.unique(existing):  # the few distinct notes already given
            self.reasons.append(text if u == 0 else f"{self.reasons[u]}; {text}")
            new[existing == u] = len(self.reasons) - 1
        self.info[mask] = new

    def few(self, events: np.ndarray, word: str) -> None:
        """Note "few events: 7 births" where a value rests on fewer than
        :data:`FEW_EVENTS` events (informational; the value is kept)."""
        events = np.asarray(events, dtype=float)
        with np.errstate(invalid="ignore"):
            small = np.isfinite(events) & (events < FEW_EVENTS)
        rows = np.flatnonzero(small)
        if not len(rows):
            return
        small_events = events[rows]
        whole = small_events.astype(np.int64)
        if np.all(whole == small_events) and whole.min() >= 0:  # counts: no sort needed
            ks = np.flatnonzero(np.bincount(whole, minlength=FEW_EVENTS))
            lookup = np.zeros(FEW_EVENTS, dtype=np.int64)
            lookup[ks] = np.arange(len(ks))
            ks, which = ks.astype(float), lookup[whole]
        else:
            ks, which = np.unique(small_events, return_inverse=True)
        if self.info[rows].any():  # rare: join to the notes already given
            for k in ks:
                self.inform(small & (events == k), f"few events: {k:g} {word}")
            return
        base = len(self.reasons)
        self.reasons += [f"few events: {k:g} {word}" for k in ks]
        self.info[rows] = base + which.reshape(-1)

    def labels(self) -> tuple[np.ndarray, list[str]]:
        """Codes and texts of the final notes (partial prefix + reason, or the informational
        note where no reason blanks the value)."""
        code = np.where(self.code == 0, self.info, self.code).astype(np.int32)
        if not self.prefix.any():
            return code, self.reasons
        pair = self.prefix.astype(np.int64) * len(self.reasons) + code
        uniq, inverse = np.unique(pair, return_inverse=True)
        texts = []
        for u in uniq:
            p, r = self.prefixes[u // len(self.reasons)], self.reasons[u % len(self.reasons)]
            texts.append("; ".join(t for t in (p, r) if t))
        return inverse.astype(np.int32), texts


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
    partial: bool = False,
) -> tuple[pd.DataFrame, list[Indicator]]:
    """The summed counts behind :func:`compute`: one row per group of ``by`` (the index),
    one column per count the indicators need, stocks already turned into person-years.

    Takes the arguments of :func:`compute` (``partial`` included). Returns the sums
    (float, NaN where any summed cell was missing, and for every count of a unit that did
    not report, which keeps its row) and the indicators. Other steps that redraw counts
    (rank uncertainty, :meth:`Indicator.draw`) start from these sums.
    """
    sums, chosen, _ = _group_sums(counts, indicators, by=list(by), period=period, freq=freq,
                                  level=level, ytd=ytd, units=units, partial=partial)
    return sums, chosen


def _group_sums(counts: pd.DataFrame, indicators: Iterable[str | Indicator] | None, *,
                by: list[str], period: object, freq: str | None, level: str | None,
                ytd: bool, units: pd.DataFrame | None, partial: bool
                ) -> tuple[pd.DataFrame, list[Indicator], np.ndarray]:
    chosen = [get(i) for i in indicators] if indicators is not None else None
    data, chosen, cols = _prepare(counts, chosen, by=by, period=period, ytd=ytd, freq=freq,
                                  level=level, units=units, partial=partial)
    sums, status = _sum_groups(data, by, cols)
    return sums, chosen, status


def _sum_groups(data: pd.DataFrame, by: list[str], cols: list[str]
                ) -> tuple[pd.DataFrame, np.ndarray]:
    """The sums of the rows :func:`_prepare` made, by ``by``, and each group's note."""
    missing_by = [b for b in by if b not in data.columns]
    if missing_by:
        raise ValueError(f"counts have no column(s) {', '.join(missing_by)} to group by")
    keys = [data[b] for b in by]
    fast = _one_row_groups(data, by, keys, cols)
    if fast is not None:
        return fast, data["_note"].to_numpy(dtype=object)
    values = data[cols].astype(float)
    grouped = values.groupby(keys, sort=True, observed=True, dropna=False)
    sums = grouped.sum(min_count=1)
    if cols:
        if np.isnan(values.to_numpy()).any():  # a gap keeps the group's sum missing
            gaps = values.isna().groupby(keys, sort=True, observed=True, dropna=False).any()
            sums = sums.mask(gaps.to_numpy(dtype=bool))
    else:
        sums = pd.DataFrame(index=grouped.size().index)
    status = np.full(len(sums), "", dtype=object)
    noted = data["_note"].to_numpy(dtype=object) != ""
    if noted.any():
        first = data.loc[noted].groupby(by, sort=True, observed=True)["_note"].first()
        status = first.reindex(sums.index, fill_value="").to_numpy(dtype=object)
    return sums, status


def _one_row_groups(data: pd.DataFrame, by: list[str], keys: list[pd.Series],
                    cols: list[str]) -> pd.DataFrame | None:
    """The group sums of rows that are their own groups already (one row per key, sorted
    by the keys, as a rolled-up period is), without grouping: pandas' sum of one number is
    0.0 + the number (so -0.0 turns 0.0) and NaN stays NaN. None where rows must be grouped
    (a key twice, rows out of order, a missing key, a key of objects)."""
    if len(by) < 2 or not len(data) or not cols or any(
            isinstance(k.dtype, np.dtype) and k.dtype.kind == "O" for k in keys):
        return None  # objects (dekads, spans): grouping turns them into text
    if pr.has_duplicate_keys(data, by):
        return None
    index = pd.MultiIndex.from_arrays(keys)
    if not index.is_monotonic_increasing or any((code < 0).any() for code in index.codes):
        return None
    values = np.empty((len(data), len(cols)))
    for j, c in enumerate(cols):  # float columns already (no sub-frame copied)
        values[:, j] = data[c].to_numpy(dtype=float) + 0.0
    return pd.DataFrame(values, index=index, columns=pd.Index(cols))


def _one(ind: Indicator, sums: _Arrays, method: str, confidence: float,
         status: tuple[np.ndarray, list[str]] | None = None) -> dict[str, np.ndarray | str]:
    note = _Notes(len(sums), status)
    absent = [c for c in ind.columns if c not in sums.columns]
    if absent:
        note.flag(np.ones(len(sums), dtype=bool), "missing column(s): " + ", ".join(absent))
    kind = ind.behaviour
    num, den, value, lower, upper = kind.estimate(ind, sums, method, confidence, note)
    bad = note.code != 0
    value = np.where(bad, np.nan, value)
    lower = np.where(bad, np.nan, lower)
    upper = np.where(bad, np.nan, upper)
    return {"numerator": num, "denominator": den, "value": value, "lower": lower,
            "upper": upper, "method": kind.method_label(method, num), "note": note}


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
    kind = spec.behaviour
    if not kind.funnel:
        raise ValueError(f"no funnel for a {spec.kind} indicator ({spec.key})")
    data["x"] = kind.funnel_x(data)

    def limits(x: np.ndarray, c: float) -> tuple[np.ndarray, np.ndarray]:
        return kind.funnel_limits(x, target, spec.multiplier, c)

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
