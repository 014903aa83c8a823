"""Assessment periods: parse labels, measure them, and roll monthly counts up to them.

Months, quarters and years are :class:`pandas.Period` (freq ``M``, ``Q``, ``Y``). Two period
kinds pandas lacks are defined here:

* :class:`Dekad` — a ten-day period of a month (days 1-10, 11-20, 21-end), written
  ``2024-07-D2`` (Chinese 上旬/中旬/下旬);
* :class:`Span` — a run of whole months: a half-year (``2024H1``) or a year-to-date span
  (``2024-01/2024-09``).

Coarser periods are always built by summing counts of their months; stocks (population,
women 15-49) are averaged over the months weighted by days, so person-years add up.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import total_ordering

import numpy as np
import pandas as pd

from .schema import STOCK_COLUMNS, count_columns

__all__ = [
    "KINDS",
    "Dekad",
    "Span",
    "days",
    "days_in_year",
    "end",
    "is_dekad",
    "kind",
    "label",
    "months",
    "parse",
    "parse_series",
    "period_days",
    "period_year_days",
    "quarters_to_date",
    "rollup",
    "start",
    "year_fraction",
    "year_to_date",
]

_DEKAD_ZH = {"上旬": 1, "中旬": 2, "下旬": 3}


@total_ordering
@dataclass(frozen=True)
class Dekad:
    """A ten-day period: part 1 is days 1-10, part 2 days 11-20, part 3 day 21 to month end.

    Examples
    --------
    >>> d = Dekad(2024, 2, 3)
    >>> str(d), d.days, d.month
    ('2024-02-D3', 9, Period('2024-02', 'M'))
    """

    year: int
    month_number: int
    part: int

    def __post_init__(self) -> None:
        if not 1 <= self.month_number <= 12:
            raise ValueError(f"dekad month must be 1..12, got {self.month_number}")
        if self.part not in (1, 2, 3):
            raise ValueError(f"dekad part must be 1, 2 or 3, got {self.part}")

    @property
    def month(self) -> pd.Period:
        return pd.Period(year=self.year, month=self.month_number, freq="M")

    @property
    def start_time(self) -> pd.Timestamp:
        return pd.Timestamp(self.year, self.month_number, 1 + 10 * (self.part - 1))

    @property
    def end_time(self) -> pd.Timestamp:
        last = calendar.monthrange(self.year, self.month_number)[1]
        day = last if self.part == 3 else 10 * self.part
        return pd.Timestamp(self.year, self.month_number, day)

    @property
    def days(self) -> int:
        return (self.end_time - self.start_time).days + 1

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month_number:02d}-D{self.part}"

    def __lt__(self, other: Dekad) -> bool:
        return (self.year, self.month_number, self.part) < (
            other.year, other.month_number, other.part)


@total_ordering
@dataclass(frozen=True)
class Span:
    """A run of whole months from ``first`` to ``last`` (both ``Period[M]``, inclusive).

    Half-years print as ``2024H1``/``2024H2``; any other span as ``2024-01/2024-09``.

    Examples
    --------
    >>> s = Span(pd.Period("2024-01", "M"), pd.Period("2024-06", "M"))
    >>> str(s), s.days
    ('2024H1', 182)
    """

    first: pd.Period
    last: pd.Period

    def __post_init__(self) -> None:
        if self.first.freqstr != "M" or self.last.freqstr != "M":
            raise ValueError("a Span runs between monthly periods")
        if self.last < self.first:
            raise ValueError(f"span ends before it starts: {self.first}/{self.last}")

    @property
    def start_time(self) -> pd.Timestamp:
        return self.first.start_time

    @property
    def end_time(self) -> pd.Timestamp:
        return self.last.end_time.normalize()

    @property
    def days(self) -> int:
        return (self.end_time - self.start_time).days + 1

    @property
    def year(self) -> int:
        return self.first.year

    def __str__(self) -> str:
        if kind(self) == "half_year":
            return f"{self.first.year}H{1 if self.first.month == 1 else 2}"
        return f"{self.first}/{self.last}"

    def __lt__(self, other: Span) -> bool:
        return (self.first, self.last) < (other.first, other.last)


PeriodLike = pd.Period | Dekad | Span

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^(\d{4})$"), "Y"),
    (re.compile(r"^(\d{4})年(?:度|全年)?$"), "Y"),
    (re.compile(r"^(\d{4})-?Q([1-4])$", re.I), "Q"),
    (re.compile(r"^(\d{4})年第?([1-4一二三四])季度?$"), "Q"),
    (re.compile(r"^(\d{4})-?H([12])$", re.I), "H"),
    (re.compile(r"^(\d{4})年([上下])半年$"), "H"),
    (re.compile(r"^(\d{4})[-/.](\d{1,2})$"), "M"),
    (re.compile(r"^(\d{4})(\d{2})$"), "M"),
    (re.compile(r"^(\d{4})年(\d{1,2})月(?:份)?$"), "M"),
    (re.compile(r"^(\d{4})[-/.](\d{1,2})-?D([123])$", re.I), "D"),
    (re.compile(r"^(\d{4})年(\d{1,2})月(上旬|中旬|下旬)$"), "D"),
    (re.compile(r"^(\d{4})-(\d{2})/(\d{4})-(\d{2})$"), "S"),
    (re.compile(r"^(\d{4})年(\d{1,2})-(\d{1,2})月$"), "S1"),
]
_ZH_DIGIT = {"一": 1, "二": 2, "三": 3, "四": 4}


def _month(year: int, month: int) -> pd.Period:
    if not 1 <= month <= 12:
        raise ValueError(f"month must be 1..12, got {month}")
    return pd.Period(year=year, month=month, freq="M")


def parse(label: object) -> PeriodLike:
    """Parse an assessment-period label.

    Parameters
    ----------
    label : str or pandas.Period or Dekad or Span
        ``2024`` / ``2024年``; ``2024Q3`` / ``2024年第3季度``; ``2024H1`` / ``2024年上半年``;
        ``2024-07`` / ``2024年7月``; ``2024-07-D2`` / ``2024年7月中旬``;
        ``2024-01/2024-09`` / ``2024年1-9月`` (a span of months, e.g. year to date).
        A period object is returned unchanged.

    Returns
    -------
    pandas.Period or Dekad or Span

    Raises
    ------
    ValueError
        If the label matches none of the forms.

    Examples
    --------
    >>> parse("2024年第3季度")
    Period('2024Q3', 'Q-DEC')
    >>> str(parse("2024年7月中旬")), str(parse("2024年下半年"))
    ('2024-07-D2', '2024H2')
    """
    if isinstance(label, Dekad | Span):
        return label
    if isinstance(label, pd.Period):
        if label.freqstr not in ("M", "Q-DEC", "Y-DEC"):
            raise ValueError(f"unsupported period frequency {label.freqstr!r}")
        return label
    text = str(label).strip().replace("　", "").replace(" ", "")
    for pattern, kind in _PATTERNS:
        m = pattern.match(text)
        if not m:
            continue
        g = m.groups()
        year = int(g[0])
        if kind == "Y":
            return pd.Period(year=year, freq="Y")
        if kind == "Q":
            q = _ZH_DIGIT.get(g[1]) or int(g[1])
            return pd.Period(year=year, quarter=q, freq="Q")
        if kind == "H":
            half = 1 if g[1] in ("1", "上") else 2
            return Span(_month(year, 6 * half - 5), _month(year, 6 * half))
        if kind == "M":
            return _month(year, int(g[1]))
        if kind == "D":
            part = _DEKAD_ZH.get(g[2]) or int(g[2])
            _month(year, int(g[1]))
            return Dekad(year, int(g[1]), part)
        if kind == "S":
            return Span(_month(year, int(g[1])), _month(int(g[2]), int(g[3])))
        if kind == "S1":
            return Span(_month(year, int(g[1])), _month(year, int(g[2])))
    raise ValueError(f"cannot parse period label {label!r}")


def parse_series(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse a column of labels; return the periods and a mask of labels that failed.

    Only distinct labels are parsed (a register of a million rows has a few dozen labels).
    A column of one monthly, quarterly or yearly frequency gets the ``period[...]`` dtype.
    """
    text = values.astype("string").str.strip()
    uniq = pd.unique(text.dropna())
    table: dict[str, object] = {}
    for u in uniq:
        try:
            table[u] = parse(u)
        except ValueError:
            table[u] = None
    parsed = text.map(table)
    bad = parsed.isna()
    good = parsed[~bad]
    if len(good) and all(isinstance(v, pd.Period) for v in table.values() if v is not None):
        freqs = {v.freqstr for v in table.values() if v is not None}
        if len(freqs) == 1:
            out = pd.Series(pd.NaT, index=values.index, dtype=f"period[{freqs.pop()}]")
            out[~bad] = pd.PeriodIndex(list(good), freq=good.iloc[0].freq)
            return out, bad
    return parsed, bad


#: Period kinds, finest first, as :func:`kind` names them.
KINDS: tuple[str, ...] = ("dekad", "month", "quarter", "half_year", "ytd", "span", "year")


def kind(period: PeriodLike) -> str:
    """Return the kind of a period: dekad, month, quarter, half_year, ytd, span or year.

    A span of months is a ``half_year`` when it is January-June or July-December of one
    year, ``ytd`` when it otherwise starts in January and ends in the same year, else
    ``span``. This is the one place that tells period kinds apart.

    Examples
    --------
    >>> [kind(x) for x in ("2024-07-D1", "2024-07", "2024Q3", "2024H1", "2024-01/2024-09",
    ...                    "2024-03/2024-05", "2024")]
    ['dekad', 'month', 'quarter', 'half_year', 'ytd', 'span', 'year']
    """
    p = parse(period)
    if isinstance(p, Dekad):
        return "dekad"
    if isinstance(p, Span):
        if p.first.year == p.last.year and (p.first.month, p.last.month) in ((1, 6), (7, 12)):
            return "half_year"
        if p.first.month == 1 and p.first.year == p.last.year:
            return "ytd"
        return "span"
    return {"M": "month", "Q": "quarter", "Y": "year"}[p.freqstr[0]]


def start(period: PeriodLike) -> pd.Timestamp:
    """Return the first day of ``period``."""
    p = parse(period)
    return p.start_time.normalize()


def end(period: PeriodLike) -> pd.Timestamp:
    """Return the last day of ``period`` (midnight)."""
    p = parse(period)
    return p.end_time.normalize()


def days(period: PeriodLike) -> int:
    """Return the number of days in ``period``.

    Examples
    --------
    >>> days("2024Q1"), days("2023Q1"), days("2024-02-D3"), days("2024")
    (91, 90, 9, 366)
    """
    p = parse(period)
    return int((end(p) - start(p)).days) + 1


def days_in_year(period: PeriodLike) -> int:
    """Return the length (365 or 366) of the calendar year ``period`` falls in."""
    year = start(period).year
    return 366 if calendar.isleap(year) else 365


def year_fraction(period: PeriodLike) -> float:
    """Return ``days(period) / days_in_year(period)``, the factor that annualizes rates.

    Examples
    --------
    >>> round(year_fraction("2024Q3"), 6)
    0.251366
    """
    return days(period) / days_in_year(period)


def months(period: PeriodLike) -> pd.PeriodIndex:
    """Return the months that make up ``period`` (for a dekad, the month it falls in)."""
    p = parse(period)
    if isinstance(p, Dekad):
        return pd.PeriodIndex([p.month])
    if isinstance(p, Span):
        return pd.period_range(p.first, p.last, freq="M")
    return pd.period_range(p.start_time, p.end_time, freq="M")


def year_to_date(period: PeriodLike) -> Span:
    """Return the span from January to the last month of ``period``.

    Examples
    --------
    >>> str(year_to_date("2024Q3")), str(year_to_date("2024-06"))
    ('2024-01/2024-09', '2024H1')
    """
    last = months(period)[-1]
    return Span(pd.Period(year=last.year, month=1, freq="M"), last)


def quarters_to_date(period: PeriodLike) -> list[pd.Period]:
    """The quarters of the year from Q1 to the one holding the end of ``period``.

    Examples
    --------
    >>> [str(q) for q in quarters_to_date("2024-08")]
    ['2024Q1', '2024Q2', '2024Q3']
    """
    last = months(period)[-1].asfreq("Q")
    return list(pd.period_range(pd.Period(year=last.year, quarter=1, freq="Q"), last, freq="Q"))


def label(period: PeriodLike, language: str = "zh") -> str:
    """Return a display label: ``2024年第3季度`` in Chinese, ``2024Q3`` in English.

    Examples
    --------
    >>> label("2024Q3"), label("2024-07-D3"), label("2024-01/2024-09")
    ('2024年第3季度', '2024年7月下旬', '2024年1-9月')
    """
    p = parse(period)
    if language == "en":
        return str(p)
    if language != "zh":
        raise ValueError(f"language must be 'zh' or 'en', got {language!r}")
    if isinstance(p, Dekad):
        return f"{p.year}年{p.month_number}月{'上中下'[p.part - 1]}旬"
    if isinstance(p, Span):
        if kind(p) == "half_year":
            return f"{p.year}年{'上下'[p.first.month // 7]}半年"
        if p.first.year == p.last.year:
            return f"{p.year}年{p.first.month}-{p.last.month}月"
        return f"{p.first.year}年{p.first.month}月至{p.last.year}年{p.last.month}月"
    if p.freqstr == "M":
        return f"{p.year}年{p.month}月"
    if p.freqstr.startswith("Q"):
        return f"{p.year}年第{p.quarter}季度"
    return f"{p.year}年"


def _target_of(month: pd.Period, to: str | PeriodLike) -> PeriodLike | None:
    if isinstance(to, str) and to in ("M", "Q", "Y"):
        return month.asfreq(to)
    if isinstance(to, str) and to == "H":
        return parse(f"{month.year}H{1 if month.month <= 6 else 2}")
    target = parse(to)
    return target if month in set(months(target)) else None


def rollup(
    counts: pd.DataFrame,
    to: str | PeriodLike,
    *,
    by: Sequence[str] = ("unit",),
    period: str = "period",
    complete: bool = True,
) -> pd.DataFrame:
    """Roll monthly (or dekad) counts up to a coarser period by summing counts.

    Flows (births, deaths, service counts) are summed. Stocks (population, women by age) are
    averaged over the months weighted by their days, so that person-years = mean stock x
    days / days in year add up exactly over the months.

    Parameters
    ----------
    counts : pandas.DataFrame
        Tidy counts with ``by`` columns, a ``period`` column of months or dekads, and count
        columns.
    to : {'M', 'Q', 'H', 'Y'} or period label
        Target frequency, or one target period (e.g. a year-to-date ``Span``); months outside
        a single target period are left out.
    by : sequence of str, default ('unit',)
        Key columns kept apart.
    period : str, default 'period'
        Name of the period column.
    complete : bool, default True
        Keep only target periods for which every month (every dekad for dekad input) is
        present for that key. With ``False`` partial periods are summed as they are and the
        ``months`` column says how many months went in.

    Returns
    -------
    pandas.DataFrame
        ``by`` columns, ``period`` (the target periods), the summed count columns and
        ``months`` (number of months summed). Missing values stay missing: a month with a
        gap in a column makes that column missing for the whole period.

    Examples
    --------
    >>> m = pd.DataFrame({"unit": ["A"] * 3,
    ...                   "period": pd.period_range("2024-01", "2024-03", freq="M"),
    ...                   "births_male": [1, 2, 3], "population": [1000, 1010, 1020]})
    >>> rollup(m, "Q")
      unit  period  births_male  population  months
    0    A  2024Q1            6      1010.0       3
    """
    if period not in counts.columns:
        raise ValueError(f"counts have no column {period!r}")
    by = list(by)
    data = counts.copy()
    per = data[period]
    if is_dekad(per):
        # dekads -> months first: a month needs all three dekads to be complete
        data = _dekads_to_months(data, by=by, period=period, complete=complete)
        per = data[period]
    if per.dtype != "period[M]":
        raise ValueError("rollup needs a monthly period column (period[M]) or dekads")
    uniq = pd.unique(per)
    mapping = {m: _target_of(m, to) for m in uniq}
    data["_target"] = per.map(mapping)
    data = data[data["_target"].notna()].copy()
    data["_days"] = per.loc[data.index].dt.days_in_month.to_numpy()
    cols = count_columns(data.columns)
    stocks = [c for c in cols if c in STOCK_COLUMNS]
    for c in stocks:
        data[c] = data[c] * data["_days"]
    keys = by + ["_target"]
    grouped = data.groupby(keys, sort=True, observed=True, dropna=False)
    out = grouped[cols].sum(min_count=1)
    # a gap in any month keeps the period's value missing (never silently zero)
    if cols:
        gaps = data[cols].isna().groupby(
            [data[k] for k in keys], sort=True, observed=True, dropna=False).any()
        out = out.mask(gaps.to_numpy())
    out["months"] = grouped.size()
    total_days = grouped["_days"].sum()
    for c in stocks:
        out[c] = out[c] / total_days
    out = out.reset_index().rename(columns={"_target": period})
    expected = out[period].map({t: len(months(t)) for t in pd.unique(out[period])})
    if complete:
        out = out[out["months"].to_numpy() == expected.to_numpy()]
    flows = [c for c in cols if c not in STOCK_COLUMNS]
    out[flows] = out[flows].astype("Int64")
    out = out[by + [period] + cols + ["months"]]
    return out.sort_values(by + [period], kind="stable").reset_index(drop=True)


def _dekads_to_months(
    data: pd.DataFrame, *, by: list[str], period: str, complete: bool
) -> pd.DataFrame:
    data = data.copy()
    dek = data[period]
    data["_month"] = dek.map({d: d.month for d in pd.unique(dek)})
    data["_ddays"] = dek.map({d: d.days for d in pd.unique(dek)}).astype(float)
    cols = count_columns(data.columns)
    stocks = [c for c in cols if c in STOCK_COLUMNS]
    for c in stocks:
        data[c] = data[c] * data["_ddays"]
    grouped = data.groupby(by + ["_month"], sort=True, observed=True)
    out = grouped[cols].sum(min_count=1)
    n = grouped.size()
    ddays = grouped["_ddays"].sum()
    for c in stocks:
        out[c] = out[c] / ddays
    out = out.reset_index().rename(columns={"_month": period})
    out[period] = pd.PeriodIndex(out[period], freq="M")
    if complete:
        out = out[(n == 3).to_numpy()]
    return out.reset_index(drop=True)


def is_dekad(values: pd.Series) -> bool:
    """Whether a period column holds dekads (ten-day periods)."""
    return values.dtype == object and len(values) > 0 and isinstance(values.iloc[0], Dekad)


def period_days(values: pd.Series) -> np.ndarray:
    """Days in each period of a column (vectorized over distinct periods)."""
    return values.map({p: days(p) for p in pd.unique(values)}).to_numpy(dtype=float)


def period_year_days(values: pd.Series) -> np.ndarray:
    """Days in the calendar year of each period of a column."""
    return values.map({p: days_in_year(p) for p in pd.unique(values)}).to_numpy(dtype=float)
