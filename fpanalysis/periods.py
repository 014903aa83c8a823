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
    "has_duplicate_keys",
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
    "subperiods",
    "year_fraction",
    "year_of",
    "year_to_date",
]

_DEKAD_ZH = {"上旬": 1, "中旬": 2, "下旬": 3}


class _Label(str):
    """A period that is its own label text, ordered by time against its own kind (by
    ``_key``) and as text against anything else."""

    __slots__ = ()

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __str__(self) -> str:
        return str.__str__(self)

    __hash__ = str.__hash__
    __eq__ = str.__eq__
    __ne__ = str.__ne__

    def _key(self, other: object) -> tuple[tuple, tuple] | None:
        return None

    def __lt__(self, other: object) -> bool:
        k = self._key(other)
        return k[0] < k[1] if k else str.__lt__(self, other)

    def __le__(self, other: object) -> bool:
        k = self._key(other)
        return k[0] <= k[1] if k else str.__le__(self, other)

    def __gt__(self, other: object) -> bool:
        k = self._key(other)
        return k[0] > k[1] if k else str.__gt__(self, other)

    def __ge__(self, other: object) -> bool:
        k = self._key(other)
        return k[0] >= k[1] if k else str.__ge__(self, other)


class Dekad(_Label):
    """A ten-day period: part 1 is days 1-10, part 2 days 11-20, part 3 day 21 to month end.

    A ``Dekad`` is a ``str`` whose text is its label (``2024-07-D2``), so result frames that
    hold dekads are written to Parquet, JSON and CSV as plain labels and read back with
    :func:`parse_series`. It compares equal to its label and orders chronologically.

    Examples
    --------
    >>> d = Dekad(2024, 2, 3)
    >>> str(d), d.days, d.month, d == "2024-02-D3"
    ('2024-02-D3', 9, Period('2024-02', 'M'), True)
    """

    year: int
    month_number: int
    part: int

    def __new__(cls, year: int, month_number: int, part: int) -> Dekad:
        year, month_number, part = int(year), int(month_number), int(part)
        if not 1 <= month_number <= 12:
            raise ValueError(f"dekad month must be 1..12, got {month_number}")
        if part not in (1, 2, 3):
            raise ValueError(f"dekad part must be 1, 2 or 3, got {part}")
        self = super().__new__(cls, f"{year:04d}-{month_number:02d}-D{part}")
        object.__setattr__(self, "year", year)
        object.__setattr__(self, "month_number", month_number)
        object.__setattr__(self, "part", part)
        return self


    def __reduce__(self) -> tuple[type, tuple[int, int, int]]:
        return (Dekad, (self.year, self.month_number, self.part))

    def __repr__(self) -> str:
        return f"Dekad({self.year}, {self.month_number}, {self.part})"

    def _key(self, other: object) -> tuple[tuple[int, int, int], tuple[int, int, int]] | None:
        if isinstance(other, Dekad):
            return ((self.year, self.month_number, self.part),
                    (other.year, other.month_number, other.part))
        return None

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


class Span(_Label):
    """A run of whole months from ``first`` to ``last`` (both ``Period[M]``, inclusive).

    Half-years print as ``2024H1``/``2024H2``; any other span as ``2024-01/2024-09``. Like
    :class:`Dekad`, a ``Span`` is a ``str`` whose text is its label (so it survives Parquet
    and JSON as text), and orders by ``(first, last)``, not by its text.

    Examples
    --------
    >>> s = Span(pd.Period("2024-01", "M"), pd.Period("2024-06", "M"))
    >>> str(s), s.days, s == "2024H1"
    ('2024H1', 182, True)
    >>> sorted([parse("2024-01/2024-09"), parse("2024H2"), parse("2024H1")])
    [Span('2024H1'), Span('2024-01/2024-09'), Span('2024H2')]
    """

    first: pd.Period
    last: pd.Period

    def __new__(cls, first: pd.Period, last: pd.Period) -> Span:
        if not (isinstance(first, pd.Period) and isinstance(last, pd.Period)
                and first.freqstr == "M" and last.freqstr == "M"):
            raise ValueError("a Span runs between monthly periods")
        if last < first:
            raise ValueError(f"span ends before it starts: {first}/{last}")
        half = (first.year == last.year and (first.month, last.month) in ((1, 6), (7, 12)))
        text = f"{first.year}H{1 if first.month == 1 else 2}" if half else f"{first}/{last}"
        self = super().__new__(cls, text)
        object.__setattr__(self, "first", first)
        object.__setattr__(self, "last", last)
        return self


    def __reduce__(self) -> tuple[type, tuple[pd.Period, pd.Period]]:
        return (Span, (self.first, self.last))

    def __repr__(self) -> str:
        return f"Span({str.__str__(self)!r})"

    def _key(self, other: object) -> tuple[tuple, tuple] | None:
        if isinstance(other, Span):
            return ((self.first.ordinal, self.last.ordinal),
                    (other.first.ordinal, other.last.ordinal))
        return None

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
    codes, uniq_text = pd.factorize(text)
    objs = np.empty(len(uniq_text) + 1, dtype=object)
    objs[:-1] = [table[u] for u in uniq_text]
    objs[-1] = None
    parsed = pd.Series(objs[codes], index=values.index, dtype=object)  # -1 -> None
    bad = parsed.isna()
    good = parsed[~bad]
    if len(good) and all(isinstance(v, pd.Period) for v in table.values() if v is not None):
        freqs = {v.freqstr for v in table.values() if v is not None}
        if len(freqs) == 1:  # one Period per distinct label, then taken by code
            per = pd.PeriodIndex([table[u] if table[u] is not None else pd.NaT
                                  for u in uniq_text], freq=freqs.pop())
            return pd.Series(per.take(codes, allow_fill=True, fill_value=pd.NaT),
                             index=values.index), bad
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
    """Return the years ``period`` covers, the factor that annualizes rates: its days over
    the length of its year, summed year by year for a span that crosses years (2023-01 to
    2024-12 is exactly 2, not 731 / 365).

    Examples
    --------
    >>> round(year_fraction("2024Q3"), 6)
    0.251366
    >>> year_fraction("2023-01/2024-12")  # 365/365 + 366/366
    2.0
    >>> round(year_fraction("2023-07/2024-06"), 6)  # 184/365 + 182/366
    1.001377
    """
    first, last = start(period), end(period)
    if first.year == last.year:
        return days(period) / days_in_year(period)
    total = 0.0
    for year in range(first.year, last.year + 1):  # the few years a span covers
        lo = max(first, pd.Timestamp(year, 1, 1))
        hi = min(last, pd.Timestamp(year, 12, 31))
        total += ((hi - lo).days + 1) / (366 if calendar.isleap(year) else 365)
    return total


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


def year_of(period: PeriodLike) -> pd.Period:
    """Return the calendar year holding the end of ``period``.

    Examples
    --------
    >>> str(year_of("2024Q3")), str(year_of("2024-07-D2")), str(year_of("2023-01/2023-12"))
    ('2024', '2024', '2023')
    """
    return pd.Period(year=months(period)[-1].year, freq="Y")


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


_FREQS = ("M", "Q", "H", "Y")


def _target_of(sub: pd.Period | Dekad, to: str | PeriodLike) -> PeriodLike | None:
    """The target period a month or dekad falls in (None when outside a single target)."""
    month = sub.month if isinstance(sub, Dekad) else sub
    if isinstance(to, str) and not isinstance(to, Dekad | Span) and to in _FREQS:
        if to == "H":
            return parse(f"{month.year}H{1 if month.month <= 6 else 2}")
        return month.asfreq(to)
    target = parse(to)
    if isinstance(target, Dekad):
        return target if sub == target else None
    return target if month in set(months(target)) else None


def subperiods(period: PeriodLike, *, dekads: bool = False) -> list[pd.Period | Dekad]:
    """The months of ``period`` (its dekads with ``dekads=True``), in order.

    Examples
    --------
    >>> [str(s) for s in subperiods("2024-07", dekads=True)]
    ['2024-07-D1', '2024-07-D2', '2024-07-D3']
    >>> [str(s) for s in subperiods("2024Q3")]
    ['2024-07', '2024-08', '2024-09']
    """
    p = parse(period)
    if isinstance(p, Dekad):
        if not dekads:
            raise ValueError(f"period {p} is a dekad: it has no months")
        return [p]
    ms = list(months(p))
    if not dekads:
        return ms
    return [Dekad(m.year, m.month, k) for m in ms for k in (1, 2, 3)]


def rollup(
    counts: pd.DataFrame,
    to: str | PeriodLike,
    *,
    by: Sequence[str] = ("unit",),
    period: str = "period",
    complete: bool = True,
    columns: Sequence[str] = (),
    stocks: Sequence[str] = (),
) -> pd.DataFrame:
    """Roll monthly (or dekad) counts up to a coarser period by summing counts.

    Flows (births, deaths, service counts) are summed. Stocks (population, women by age) are
    averaged over the months weighted by their days, so that person-years = mean stock x
    days / days in year add up exactly over the months.

    A target period that lacks some of its months (dekads, for dekad counts) for a key is
    never dropped: its row stays, with ``complete`` False and ``missing`` naming the absent
    sub-periods, so that callers can say what is missing.

    Parameters
    ----------
    counts : pandas.DataFrame
        Tidy counts with ``by`` columns, a ``period`` column of months or dekads, and count
        columns. One row per key and period (duplicates are refused).
    to : {'M', 'Q', 'H', 'Y'} or period label
        Target frequency, or one target period (e.g. a year-to-date ``Span``, or a dekad of
        dekad counts); months outside a single target period are left out.
    by : sequence of str, default ('unit',)
        Key columns kept apart (``[]`` sums every row of a period together).
    period : str, default 'period'
        Name of the period column.
    complete : bool, default True
        With True the count columns of an incomplete period are missing (``<NA>``), never
        a partial sum, and with a target frequency, periods that no key has complete (a
        trailing quarter still running) are left out. With False incomplete periods hold
        the sums of what is present (``reported`` says how many sub-periods went in).
        (Before issue 7, True dropped incomplete rows; they are now kept and marked.)
    columns : sequence of str, default ()
        Further count columns to roll up besides the schema's (e.g. the columns of a user
        indicator); flows unless also listed in ``stocks``.
    stocks : sequence of str, default ()
        Further columns that are stocks (day-weighted means), e.g. a user rate's exposure.

    Returns
    -------
    pandas.DataFrame
        ``by`` columns, ``period`` (the target periods), the rolled-up count columns, then
        ``reported`` (sub-periods present), ``expected`` (sub-periods the period has),
        ``days_reported`` (days of the sub-periods present), ``complete`` (bool) and
        ``missing`` (the absent sub-periods, e.g. ``'2024-08'``, comma-separated; empty
        when complete). Missing values stay missing: a month with a gap in a column makes
        that column missing for the whole period.

    Raises
    ------
    ValueError
        If the period column is neither monthly nor dekads, a dekad is asked of monthly
        counts, a row has no period, or a key has two rows for one period.

    Examples
    --------
    >>> m = pd.DataFrame({"unit": ["A"] * 3 + ["B"] * 2,
    ...                   "period": pd.PeriodIndex(["2024-01", "2024-02", "2024-03",
    ...                                             "2024-01", "2024-03"], freq="M"),
    ...                   "births_male": [1, 2, 3, 4, 5],
    ...                   "population": [1000, 1010, 1020, 500, 500]})
    >>> rollup(m, "Q")[["unit", "period", "births_male", "population", "complete", "missing"]]
      unit  period  births_male  population  complete  missing
    0    A  2024Q1            6      1010.0      True
    1    B  2024Q1         <NA>         NaN     False  2024-02
    """
    if period not in counts.columns:
        raise ValueError(f"counts have no column {period!r}")
    by = list(by)
    per = counts[period]
    dekads = is_dekad(per)
    if not dekads and per.dtype != "period[M]":
        raise ValueError("rollup needs a monthly period column (period[M]) or dekads")
    is_freq = isinstance(to, str) and not isinstance(to, Dekad | Span) and to in _FREQS
    if not is_freq:
        target = parse(to)
        if isinstance(target, Dekad) and not dekads:
            raise ValueError(f"period {target} is a dekad but the counts are monthly: dekad "
                             "figures need dekad counts")
    if per.isna().any():
        raise ValueError("counts have rows without a period")
    if by and has_duplicate_keys(counts, by + [period]):  # by=[]: every key summed together
        dup = counts.duplicated(by + [period])
        first = [str(v) for v in counts.loc[dup, by + [period]].iloc[0].tolist()]
        raise ValueError(f"counts have {int(dup.sum())} duplicate row(s) for "
                         f"({', '.join(by + [period])}), e.g. ({', '.join(first)})")
    sub_code, sub_uniq = pd.factorize(per)
    sub_uniq = list(sub_uniq)
    sub_days = np.array([s.days if dekads else s.days_in_month for s in sub_uniq], dtype=float)
    if is_freq or isinstance(target, Dekad):
        tgt = [_target_of(s, to) for s in sub_uniq]
    else:  # one target period: its months once, not once per sub-period
        inside = set(months(target))
        tgt = [target if (s.month if isinstance(s, Dekad) else s) in inside else None
               for s in sub_uniq]
    targets = sorted({t for t in tgt if t is not None})
    t_index = {t: i for i, t in enumerate(targets)}
    t_of_sub = np.array([t_index[t] if t is not None else -1 for t in tgt], dtype=np.int64)
    row_t = t_of_sub[sub_code] if len(sub_code) else np.empty(0, dtype=np.int64)
    keep = row_t >= 0
    cols = count_columns(counts.columns)
    cols += [c for c in dict.fromkeys(list(columns) + list(stocks))
             if c in counts.columns and c not in cols and c not in by + [period]]
    stock_cols = [c for c in cols if c in STOCK_COLUMNS or c in set(stocks)]
    # Sums by group in numpy (a bincount per column): the pandas groupby-sum, mask and
    # setitem this replaced took 20 ms a call on an 18-township panel, and a report makes
    # thirty calls. Integer counts sum exactly in float64 below 2**53 (loaders refuse more).
    keys = by + ["_t"]
    days_row = sub_days[sub_code[keep]]
    grouping = _group_keys(counts, by, keep, row_t[keep], len(targets))
    if grouping is None:  # keys numpy cannot sort as pandas does (or no row): pandas groups
        data = counts.loc[keep, by].copy()
        data["_t"] = row_t[keep]
        grouped = data.groupby(keys, sort=True, observed=True, dropna=False)
        gid = grouped.ngroup().to_numpy()
        sizes = grouped.size()
        n_groups = len(sizes)
        key_columns = dict(sizes.index.to_frame(index=False).items())
        sizes = sizes.to_numpy()
    else:
        gid, key_columns = grouping
        sizes = np.bincount(gid)
        n_groups = len(sizes)
    if not by:  # rows of every key sum together: the days of the distinct sub-periods
        distinct = pd.DataFrame({"_g": gid, "_s": sub_code[keep], "_d": days_row}
                                ).drop_duplicates(["_g", "_s"])
        total_days = np.bincount(distinct["_g"].to_numpy(), weights=distinct["_d"].to_numpy(),
                                 minlength=n_groups)
        reported = np.bincount(distinct["_g"].to_numpy(), minlength=n_groups)
    else:
        total_days = np.bincount(gid, weights=days_row, minlength=n_groups)
        reported = sizes
    stock_set = set(stock_cols)
    sums: dict[str, np.ndarray] = {}
    kept = np.flatnonzero(keep)  # the rows once, column by column (no sub-frame copy)
    for c in cols:  # a few dozen count columns
        v = counts[c].array.take(kept).to_numpy(dtype=float, na_value=np.nan)
        if c in stock_set:
            v = v * days_row
        absent = np.isnan(v)
        total = np.bincount(gid, weights=np.where(absent, 0.0, v), minlength=n_groups)
        # a gap in any month keeps the period's value missing (never silently zero)
        col_gap = np.bincount(gid, weights=absent, minlength=n_groups) > 0
        if c in stock_set:
            total = total / total_days
        sums[c] = np.where(col_gap, np.nan, total)
    t_codes = key_columns["_t"].to_numpy() if isinstance(key_columns["_t"], pd.Series) \
        else key_columns["_t"]
    n_expected = np.array([len(subperiods(t, dekads=dekads)) for t in targets], dtype=np.int64)
    expected = n_expected[t_codes] if n_groups else np.empty(0, dtype=np.int64)
    is_complete = reported == expected
    missing = np.full(n_groups, "", dtype=object)
    incomplete = ~is_complete
    if incomplete.any():
        missing[incomplete] = _missing_text(np.flatnonzero(incomplete), t_codes, gid,
                                            sub_code[keep], sub_uniq, targets, dekads=dekads)
    rows = np.ones(n_groups, dtype=bool)
    if complete:
        if is_freq:  # a period is listed when some key has it complete
            done = np.zeros(len(targets), dtype=bool)
            done[t_codes[is_complete]] = True
            rows = done[t_codes]
        for c in cols:
            sums[c] = np.where(is_complete, sums[c], np.nan)
    index = pd.RangeIndex(int(rows.sum()))
    dtypes = counts.dtypes
    result: dict[str, object] = {}
    for b in by:
        result[b] = _take_rows(key_columns[b], rows)
    result[period] = _period_array(t_codes[rows], targets, index)
    for c in cols:
        v = sums[c][rows]
        nan = np.isnan(v)
        if c in stock_set:
            result[c] = v
        elif pd.api.types.is_integer_dtype(dtypes[c]):
            result[c] = pd.arrays.IntegerArray(np.where(nan, 0, v).astype(np.int64), nan)
        elif isinstance(dtypes[c], pd.api.extensions.ExtensionDtype):
            result[c] = pd.array(np.where(nan, np.nan, v), dtype=dtypes[c])
        else:
            result[c] = v
    result["reported"] = reported[rows]
    result["expected"] = expected[rows]
    result["days_reported"] = total_days[rows]
    result["complete"] = is_complete[rows]
    out = pd.DataFrame(result, index=index)
    out["missing"] = ""  # the same text column as before (str)
    if incomplete[rows].any():
        out.loc[incomplete[rows], "missing"] = missing[rows][incomplete[rows]]
    return out


def has_duplicate_keys(frame: pd.DataFrame, keys: Sequence[str]) -> bool:
    """Whether two rows of ``frame`` share their ``keys``, as
    ``frame.duplicated(keys).any()`` finds it (missing keys are equal), from the factorized
    key columns only (``duplicated`` walks every column of the frame).

    Examples
    --------
    >>> has_duplicate_keys(pd.DataFrame({"u": ["A", "A"], "p": [1, 2]}), ["u", "p"])
    False
    """
    combined = np.zeros(len(frame), dtype=np.int64)
    for k in keys:
        codes, uniq = pd.factorize(frame[k])  # missing: -1, one code for all of them
        # numbered afresh after each key: below the row count, so never past int64
        combined = pd.factorize(combined * (len(uniq) + 1) + (codes + 1))[0]
    return len(pd.unique(combined)) < len(combined)


def _group_keys(counts: pd.DataFrame, by: list[str], keep: np.ndarray, t: np.ndarray,
                n_targets: int) -> tuple[np.ndarray, dict[str, object]] | None:
    """Group numbers of the kept rows by ``by`` and target ``t``, in the sorted order of
    ``groupby(by + ['_t'], sort=True)``, and the key columns of the groups; None where
    pandas must group (no row, a missing key, a key that is not text or whole numbers)."""
    if not by or not keep.any():
        return None
    combined = np.zeros(int(keep.sum()), dtype=np.int64)
    uniques, key_codes = [], []
    for b in by:
        column = counts[b]
        dtype = column.dtype
        if not (pd.api.types.is_string_dtype(dtype) or (
                pd.api.types.is_integer_dtype(dtype)
                and not isinstance(dtype, pd.api.extensions.ExtensionDtype))):
            return None
        values = column.array[keep] if isinstance(dtype, pd.api.extensions.ExtensionDtype) \
            else column.to_numpy()[keep]
        if pd.isna(values).any():
            return None
        mixed = isinstance(dtype, np.dtype) and dtype.kind == "O" and not all(
            isinstance(v, str) for v in pd.unique(values))
        if mixed:
            return None  # objects other than text: pandas' own ordering
        codes, uniq = pd.factorize(values, sort=True)
        # numbered afresh (in order) after each key: below the row count, never past int64
        combined = np.unique(combined * len(uniq) + codes, return_inverse=True)[1].reshape(-1)
        uniques.append(uniq)
        key_codes.append(codes)
    groups, first, gid = np.unique(combined * n_targets + t, return_index=True,
                                   return_inverse=True)
    key_columns = {b: uniq.take(codes[first])
                   for b, uniq, codes in zip(by, uniques, key_codes, strict=True)}
    return gid.reshape(-1), {**key_columns, "_t": np.asarray(t)[first]}


def _take_rows(values: object, rows: np.ndarray) -> object:
    """``values[rows]`` of a key column (a Series, an array or an extension array)."""
    if isinstance(values, pd.Series):
        return values.array[rows]
    return values[rows]


def _period_array(codes: np.ndarray, targets: list, index: pd.Index) -> object:
    """``targets[codes]`` as a ``period[...]`` array when they are pandas Periods, else as
    objects (dekads, spans)."""
    if targets and all(isinstance(t, pd.Period) for t in targets):
        return pd.PeriodIndex(targets, freq=targets[0].freq).take(codes).array
    table = np.empty(len(targets), dtype=object)
    table[:] = targets
    return pd.Series(table[codes], index=index, dtype=object)


def _missing_text(groups: np.ndarray, t_codes: np.ndarray, gid: np.ndarray,
                  sub_code: np.ndarray, sub_uniq: list, targets: list, *,
                  dekads: bool) -> np.ndarray:
    """For each incomplete group of ``groups`` (numbers as in ``gid``, the group of each
    kept row, whose sub-period is ``sub_code``), its absent sub-periods as text, in time
    order, comma-separated."""
    ids: dict[str, int] = {}
    row_sub = np.array([ids.setdefault(str(s), len(ids)) for s in sub_uniq], dtype=np.int64)
    wanted = [np.array([ids.setdefault(str(s), len(ids))
                        for s in subperiods(t, dekads=dekads)], dtype=np.int64)
              for t in targets]  # the few target periods
    n_ids = len(ids)
    present = np.unique(gid.astype(np.int64) * n_ids
                        + (row_sub[sub_code] if len(sub_code) else 0))
    row_parts, sub_parts = [], []
    t_of = t_codes[groups]
    for t, subs in enumerate(wanted):  # the grid of each target's incomplete groups
        at = np.flatnonzero(t_of == t)
        row_parts.append(np.repeat(at, len(subs)))
        sub_parts.append(np.tile(subs, len(at)))
    row = np.concatenate(row_parts) if row_parts else np.empty(0, dtype=np.int64)
    sub = np.concatenate(sub_parts) if sub_parts else np.empty(0, dtype=np.int64)
    order = np.argsort(row, kind="stable")  # each group's sub-periods in time order
    row, sub = row[order], sub[order]
    absent = ~np.isin(groups[row].astype(np.int64) * n_ids + sub, present)
    text = np.empty(n_ids, dtype=object)
    text[list(ids.values())] = list(ids)
    listed = pd.Series(text[sub[absent]]).groupby(row[absent], sort=True).agg(", ".join)
    return listed.reindex(range(len(groups)), fill_value="").to_numpy(dtype=object)


def is_dekad(values: pd.Series) -> bool:
    """Whether a period column holds dekads (ten-day periods), every one of them.

    A column that mixes dekads with months is not a dekad column (rollup then refuses it).
    """
    if values.dtype != object or len(values) == 0 or not isinstance(values.iloc[0], Dekad):
        return False
    return all(isinstance(v, Dekad) for v in pd.unique(values))


def period_days(values: pd.Series) -> np.ndarray:
    """Days in each period of a column (vectorized over distinct periods)."""
    return values.map({p: days(p) for p in pd.unique(values)}).to_numpy(dtype=float)


def period_year_days(values: pd.Series) -> np.ndarray:
    """The year length to annualize each period of a column by: the days of its calendar
    year, and for a span that crosses years its days over the years it covers (so that
    days / this = :func:`year_fraction`)."""
    return values.map({p: days(p) / year_fraction(p)
                       for p in pd.unique(values)}).to_numpy(dtype=float)
