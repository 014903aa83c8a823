"""Aggregate an event-level register (births and deaths) into the ``counts`` contract.

:func:`aggregate_events` is the one heavy step of the package (DESIGN.md, Scale): a register
of tens of millions of events is reduced to one row per unit and period, and everything
after it works on that small panel. The register can be

* a pandas DataFrame,
* a Parquet file or a directory of Parquet files, streamed over record batches with
  pyarrow so that peak memory is bounded by the batch size and the counts, not the file,
* a dask DataFrame (e.g. ``dd.read_parquet`` of a partitioned register): each partition is
  counted where it lives (threads, or the workers of the active ``dask.distributed``
  client) and the partial counts are summed in a tree. dask is imported only then.

Every path runs the same counting code: unit codes are factorised once (Parquet dictionary
indices are used as they are), dates become period codes through a lookup table over the
days of the requested range, and the output column (sex x birth order, death, infant
death, mother's age group, compliant), unit and period form one integer key whose counts
are added with ``numpy.add.at`` into one dense int64 array, laid out as the result's block
of count columns so that the result frame is that array, not a copy. There is no Python
loop over rows or units.

Invalid events are never dropped in silence: each rule an event breaks is counted and its
first rows (as numbered in the file) are kept, and ``rows_in == rows_used + rows_rejected``
(:func:`rejected_events`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import periods as pr
from .schema import AGE_GROUPS, BIRTH_ORDERS, DataError, Problem

__all__ = [
    "EVENT_COLUMNS",
    "MOTHER_AGES",
    "PERIOD_TYPES",
    "REASONS",
    "aggregate_events",
    "rejected_events",
]

#: Columns of the ``events`` contract (DESIGN.md); ``age_at_death`` is optional.
EVENT_COLUMNS: tuple[str, ...] = ("unit", "date", "event", "sex", "birth_order",
                                  "mother_age", "compliant")
#: Period types: code -> kind name (as :func:`fpanalysis.periods.kind` names them).
PERIOD_TYPES: dict[str, str] = {"D": "dekad", "M": "month", "Q": "quarter",
                                "H": "half_year", "Y": "year"}
#: Valid mothers' ages (whole years); 10-14 and 50-60 have columns of their own.
MOTHER_AGES: tuple[int, int] = (10, 60)
_MAX_DEATH_AGE = 130

#: Rules an event can break: (reason, column, message). ``date_outside`` is a selection,
#: not a data error: ``strict=True`` does not raise for it.
REASONS: tuple[tuple[str, str, str], ...] = (
    ("unit_missing", "unit", "unit is empty"),
    ("unit_unknown", "unit", "unit is not in the units table"),
    ("unit_not_leaf", "unit", "unit has units below it in the units table (record the "
                              "event at the unit it belongs to)"),
    ("date_missing", "date", "date is empty"),
    ("date_invalid", "date", "date is not a date (expected e.g. 2024-07-15)"),
    ("date_outside", "date", "date is outside the requested periods"),
    ("event_missing", "event", "event is empty"),
    ("event_unknown", "event", "unknown event (expected birth or death)"),
    ("sex_missing", "sex", "sex of a birth is empty"),
    ("sex_unknown", "sex", "unknown sex code (expected M/F, male/female, 男/女 or 1/2)"),
    ("birth_order_missing", "birth_order", "birth order of a birth is empty"),
    ("birth_order_invalid", "birth_order", "birth order must be a whole number of at "
                                           "least 1"),
    ("mother_age_missing", "mother_age", "mother's age of a birth is empty"),
    ("mother_age_invalid", "mother_age", "mother's age must be a whole number of years "
                                         "from 10 to 60"),
    ("compliant_missing", "compliant", "compliant of a birth is empty"),
    ("compliant_invalid", "compliant", "compliant must be true or false (1/0, yes/no, "
                                       "是/否)"),
    ("age_at_death_missing", "age_at_death", "age at death of a death is empty"),
    ("age_at_death_invalid", "age_at_death", "age at death must be a whole number of years "
                                             "from 0 to 130"),
)
_FIRST_ROWS = 5  # row numbers kept per reason

# -- the count columns, in contract order; the accumulator holds one row per column -------
_AGE_EXTRA = ("10_14", "50_60")


def _count_columns(deaths_by_age: bool) -> tuple[str, ...]:
    """The output count columns (``deaths_infant`` only with ages at death)."""
    orders = tuple(f"births_{sex}_{o}" for o in BIRTH_ORDERS for sex in ("male", "female"))
    return (("births", "births_male", "births_female") + orders + ("deaths",)
            + (("deaths_infant",) if deaths_by_age else ()) + ("births_compliant",)
            + tuple(f"births_age_{a}" for a in AGE_GROUPS + _AGE_EXTRA))


def _slots(columns: tuple[str, ...]) -> dict[str, object]:
    """Row numbers of the accumulator: per (sex, order) code, per age code, and the rest.
    Row ``len(columns)`` is a trash row where rejected events and unused contributions
    go (so that no index needs a mask)."""
    at = {c: i for i, c in enumerate(columns)}
    trash = len(columns)
    order_rows = np.array([at[f"births_{sex}_{o}"] for sex in ("male", "female")
                           for o in BIRTH_ORDERS], dtype=np.int64)  # index sex * 3 + order
    ages = np.arange(MOTHER_AGES[0], MOTHER_AGES[1] + 1)
    groups = [f"births_age_{a}" for a in AGE_GROUPS]
    age_rows = np.array([at["births_age_10_14"] if a < 15 else at["births_age_50_60"] if a > 49
                         else at[groups[(a - 15) // 5]] for a in ages], dtype=np.int64)
    # code 0-5: a birth's sex x order; 6: a death; 7: rejected
    first = np.append(order_rows, [at["deaths"], trash])
    # code 0-50: a birth's mother's age - 10; 51: an infant death; 52: anything else
    second = np.append(age_rows, [at.get("deaths_infant", trash), trash])
    # code 0: a compliant birth; 1: anything else
    third = np.array([at["births_compliant"], trash], dtype=np.int64)
    return {"first": first, "second": second, "third": third}


_SEX_WORDS = {"m": 0, "male": 0, "男": 0, "1": 0, "f": 1, "female": 1, "女": 1, "2": 1}
_EVENT_WORDS = {"birth": 0, "出生": 0, "death": 1, "死亡": 1}
_TRUE_WORDS = {"true", "t", "1", "yes", "y", "是", "符合", "合规"}
_FALSE_WORDS = {"false", "f", "0", "no", "n", "否", "不符合", "不合规"}
_MISSING, _UNKNOWN, _NOT_LEAF = -1, -2, -3
_EPOCH = pd.Timestamp("1970-01-01")


# --------------------------------------------------------------------------- small helpers

_WHOLE_TEXT = re.compile(r"[+-]?\d+\.0+")
#: A date written in full: year, month and day (ISO 2024-01-05, 2024/1/5, or 20240105).
_FULL_DATE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(\D.*)?|\d{8}(T.*)?")


def _label(x: object) -> str | None:
    """A cell as key text: NFKC-normalised and stripped; whole floats without '.0';
    ``None`` for a missing or blank cell."""
    if x is None or x is pd.NA or x is pd.NaT:
        return None
    if isinstance(x, float | np.floating):
        if np.isnan(x):
            return None
        if float(x).is_integer():
            x = int(x)
    text = unicodedata.normalize("NFKC", str(x)).strip()
    if _WHOLE_TEXT.fullmatch(text):  # "101.0": a whole float written out as text (dask
        text = text.split(".")[0]    # turns an object column of numbers into text)
    return text or None


def _is_arrow(col: object) -> bool:
    return type(col).__module__.startswith("pyarrow")


def _native(col: object) -> object:
    """A pandas column backed by Arrow (``date32[pyarrow]`` from ``dd.read_parquet``) as its
    Arrow array, so that the Arrow paths read it; anything else unchanged."""
    if isinstance(col, pd.Series) and isinstance(col.dtype, pd.ArrowDtype):
        import pyarrow as pa

        arr = pa.array(col.array)
        return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    return col


def _label_codes(col: object, labels: bool = True) -> tuple[np.ndarray, list]:
    """Codes of each cell into a list of its distinct raw values (-1 for a missing cell);
    with ``labels=False`` the list is not built (the caller has it)."""
    col = _native(col)
    if _is_arrow(col):
        import pyarrow as pa
        import pyarrow.compute as pc

        if not pa.types.is_dictionary(col.type):
            col = col.dictionary_encode()
        idx = col.indices
        codes = (idx.to_numpy() if idx.null_count == 0
                 else pc.fill_null(idx, -1).to_numpy())
        return codes, (col.dictionary.to_pylist() if labels else [])
    if isinstance(col.dtype, pd.CategoricalDtype):
        return col.cat.codes.to_numpy(), (list(col.cat.categories) if labels else [])
    codes, uniq = pd.factorize(col, use_na_sentinel=True)
    if any(isinstance(u, bool | np.bool_) for u in uniq):
        # True == 1 and False == 0 hash alike: one label for both would read every 1 as
        # True (or True as 1); keep a boolean apart from the number it equals
        raw = col.to_numpy(dtype=object)
        isb = np.fromiter((isinstance(x, bool | np.bool_) for x in raw), dtype=bool,
                          count=len(raw))  # only for the rare column that mixes them
        valid = codes >= 0
        pair = codes.astype(np.int64) * 2 + isb
        new = np.full(len(codes), -1, dtype=np.int64)
        new[valid], _ = pd.factorize(pair[valid])
        _, first = np.unique(new[valid], return_index=True)
        return new, list(raw[valid][first])
    return codes, list(uniq)


def _lut(values: list, missing: int, dtype: type = np.int64) -> np.ndarray:
    """A lookup table of per-label values with the missing code appended (index -1)."""
    return np.array(list(values) + [missing], dtype=dtype)


def _null_mask(col: object) -> np.ndarray:
    """The missing cells of an Arrow array as a bool array."""
    if col.null_count == 0:
        return np.zeros(len(col), dtype=bool)
    return col.is_null().to_numpy(zero_copy_only=False)


def _filled(col: object) -> np.ndarray:
    """The values of an Arrow array of fixed-width integers as numpy, without a copy. Cells
    under a null hold whatever the writer left there: callers mask them (_null_mask)."""
    if col.null_count == 0:
        return col.to_numpy()
    dtype = np.dtype(col.type.to_pandas_dtype())
    return np.frombuffer(col.buffers()[1], dtype=dtype, count=len(col),
                         offset=col.offset * dtype.itemsize)


def _words(col: object, words: dict[str, int]) -> np.ndarray:
    """Codes through a word table: -1 missing, -2 unknown."""
    codes, labels = _label_codes(col)
    texts = [_label(x) for x in labels]
    vals = [_MISSING if t is None else words.get(t.lower(), _UNKNOWN) for t in texts]
    return _lut(vals, _MISSING, np.int8)[codes]


def _numbers(col: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Numbers (integers as they are; else floats, NaN where missing or bad), the missing
    mask and the bad mask."""
    col = _native(col)
    if _is_arrow(col):
        import pyarrow as pa

        t = col.type
        if pa.types.is_integer(t):
            return _filled(col), _null_mask(col), np.zeros(len(col), dtype=bool)
        if pa.types.is_floating(t):
            vals = col.to_numpy(zero_copy_only=False).astype(np.float64)
            missing = np.isnan(vals)
            bad = np.isinf(vals)
            return np.where(bad, np.nan, vals), missing, bad
        if pa.types.is_boolean(t):
            missing = col.is_null().to_numpy(zero_copy_only=False)
            return np.full(len(col), np.nan), missing, ~missing
    elif pd.api.types.is_bool_dtype(col.dtype):
        missing = col.isna().to_numpy()
        return np.full(len(col), np.nan), missing, ~missing
    elif pd.api.types.is_integer_dtype(col.dtype):
        missing = col.isna().to_numpy()
        dtype = getattr(col.dtype, "numpy_dtype", col.dtype)
        return col.to_numpy(dtype=dtype, na_value=0), missing, np.zeros(len(col), dtype=bool)
    elif pd.api.types.is_numeric_dtype(col.dtype) and not isinstance(
            col.dtype, pd.CategoricalDtype):
        vals = col.to_numpy(dtype=np.float64, na_value=np.nan)
        missing = np.isnan(vals)
        bad = np.isinf(vals)
        return np.where(bad, np.nan, vals), missing, bad
    codes, labels = _label_codes(col)
    texts = [_label(x) for x in labels]
    parsed = pd.to_numeric(pd.Series([t if t is not None else "" for t in texts],
                                     dtype=object), errors="coerce").to_numpy(np.float64, copy=True)
    is_bool = np.array([isinstance(x, bool | np.bool_) for x in labels], dtype=bool)
    parsed[is_bool | np.isinf(parsed)] = np.nan
    none = np.array([t is None for t in texts], dtype=bool)
    state = np.where(none, 1, np.where(np.isnan(parsed), 2, 0))  # 0 ok, 1 missing, 2 bad
    lut_v = np.append(parsed, np.nan)
    lut_s = np.append(state, 1)
    s = lut_s[codes]
    return lut_v[codes], s == 1, s == 2


def _flags(col: object) -> np.ndarray:
    """Booleans as 1/0; -1 missing, -2 not a boolean."""
    col = _native(col)
    if _is_arrow(col):
        import pyarrow as pa
        import pyarrow.compute as pc

        if pa.types.is_boolean(col.type):
            filled = pc.fill_null(col, False) if col.null_count else col
            vals = filled.to_numpy(zero_copy_only=False).astype(np.int8)
            vals[_null_mask(col)] = _MISSING
            return vals
        if pa.types.is_integer(col.type) or pa.types.is_floating(col.type):
            return _zero_one(*_numbers(col))
    elif pd.api.types.is_bool_dtype(col.dtype):
        missing = col.isna().to_numpy()
        vals = col.to_numpy(dtype=bool, na_value=False).astype(np.int8)
        vals[missing] = _MISSING
        return vals
    elif pd.api.types.is_numeric_dtype(col.dtype) and not isinstance(
            col.dtype, pd.CategoricalDtype):
        return _zero_one(*_numbers(col))
    codes, labels = _label_codes(col)
    vals = []
    for x in labels:  # distinct values only
        if isinstance(x, bool | np.bool_):
            vals.append(int(x))
            continue
        t = _label(x)
        vals.append(_MISSING if t is None else 1 if t.lower() in _TRUE_WORDS
                    else 0 if t.lower() in _FALSE_WORDS else _UNKNOWN)
    return _lut(vals, _MISSING, np.int8)[codes]


def _fraction(vals: np.ndarray) -> np.ndarray | bool:
    """Where a number is not whole (never, for an integer array)."""
    if vals.dtype.kind in "iub":
        return False
    with np.errstate(invalid="ignore"):
        return np.mod(vals, 1) != 0


def _zero_one(vals: np.ndarray, missing: np.ndarray, bad: np.ndarray) -> np.ndarray:
    out = np.where((vals == 0) | (vals == 1), np.nan_to_num(vals), _UNKNOWN).astype(np.int8)
    out[bad] = _UNKNOWN
    out[missing] = _MISSING
    return out


def _days(col: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Days since 1970-01-01 (int64), the missing mask and the unreadable mask."""
    col = _native(col)
    if _is_arrow(col):
        import pyarrow as pa
        import pyarrow.compute as pc

        t = col.type
        if pa.types.is_date32(t):  # days since 1970 already
            return _filled(col.view(pa.int32())), _null_mask(col), np.zeros(len(col), bool)
        if pa.types.is_date64(t) or pa.types.is_timestamp(t):
            if pa.types.is_timestamp(t) and t.tz is not None:
                col = pc.local_timestamp(col)
            missing = col.is_null().to_numpy(zero_copy_only=False)
            arr = col.to_numpy(zero_copy_only=False)
            days = arr.astype("datetime64[D]").astype(np.int64)
            days[missing] = 0
            return days, missing, np.zeros(len(col), dtype=bool)
    elif pd.api.types.is_datetime64_any_dtype(col.dtype):
        if getattr(col.dt, "tz", None) is not None:
            col = col.dt.tz_localize(None)
        missing = col.isna().to_numpy()
        days = col.to_numpy().astype("datetime64[D]").astype(np.int64)
        days[missing] = 0
        return days, missing, np.zeros(len(col), dtype=bool)
    codes, labels = _label_codes(col)
    texts = [_label(x) for x in labels]
    stamps = pd.to_datetime(pd.Series([t if t is not None else "" for t in texts],
                                      dtype=object), format="ISO8601", errors="coerce")
    none = np.array([t is None for t in texts], dtype=bool)
    # "2024" or "2024-01" parse as the period's first day: not a date of an event
    partial = np.array([t is not None and not _FULL_DATE.fullmatch(t) for t in texts],
                       dtype=bool)
    bad = ~none & (stamps.isna().to_numpy() | partial)
    days = np.zeros(len(texts), dtype=np.int64)
    good = ~none & ~bad
    if good.any():
        days[good] = stamps[good].to_numpy().astype("datetime64[D]").astype(np.int64)
    state = np.where(none, 1, np.where(bad, 2, 0))
    s = np.append(state, 1)[codes]
    return np.append(days, 0)[codes], s == 1, s == 2


# --------------------------------------------------------------------------- periods

def _period_key(dates: pd.DatetimeIndex, kind: str) -> np.ndarray:
    y, m = dates.year.to_numpy(np.int64), dates.month.to_numpy(np.int64) - 1
    if kind == "M":
        return y * 12 + m
    if kind == "Q":
        return y * 4 + m // 3
    if kind == "H":
        return y * 2 + m // 6
    if kind == "Y":
        return y
    return (y * 12 + m) * 3 + np.minimum((dates.day.to_numpy(np.int64) - 1) // 10, 2)


def _period_label(key: int, kind: str) -> object:
    if kind == "M":
        return pd.Period(year=key // 12, month=key % 12 + 1, freq="M")
    if kind == "Q":
        return pd.Period(year=key // 4, quarter=key % 4 + 1, freq="Q")
    if kind == "H":
        return pr.parse(f"{key // 2}H{key % 2 + 1}")
    if kind == "Y":
        return pd.Period(year=key, freq="Y")
    month = key // 3
    return pr.Dekad(month // 12, month % 12 + 1, key % 3 + 1)


@dataclass(frozen=True)
class _Plan:
    """The periods counted: their kind, first and last day (days since 1970) and the
    lookup table from a day's offset to its period's code."""

    kind: str
    first: int
    last: int
    lut: np.ndarray
    labels: tuple

    @classmethod
    def make(cls, kind: str, first: int, last: int) -> _Plan:
        if last < first:
            return cls(kind, first, last, np.zeros(0, dtype=np.int64), ())
        dates = pd.DatetimeIndex(np.arange(first, last + 1).astype("datetime64[D]"))
        codes, uniq = pd.factorize(_period_key(dates, kind))  # in order: days increase
        labels = tuple(_period_label(int(k), kind) for k in uniq)  # a few distinct periods
        return cls(kind, first, last, codes.astype(np.int64), labels)


def _day(ts: pd.Timestamp) -> int:
    return int((ts.normalize() - _EPOCH).days)


def _bound(value: object, name: str, kind: str) -> int:
    """A requested start or end (period label or date) as days since 1970, checked to fall
    on a boundary of the period type."""
    try:
        p = pr.parse(value)
        ts = pr.start(p) if name == "start" else pr.end(p)
    except ValueError:
        try:
            ts = pd.Timestamp(value)
        except (ValueError, TypeError):
            raise ValueError(f"{name} must be a period label (e.g. 2024-01, 2024Q1) or a "
                             f"date, got {value!r}") from None
        if pd.isna(ts):
            raise ValueError(f"{name} must be a period label (e.g. 2024-01, 2024Q1) or a "
                             f"date, got {value!r}") from None
    ts = ts.normalize()
    near = pd.DatetimeIndex([ts - pd.Timedelta(days=1), ts, ts + pd.Timedelta(days=1)])
    key = _period_key(near, kind)
    if name == "start" and key[0] == key[1]:
        raise ValueError(f"start {ts.date()} is not the first day of a {PERIOD_TYPES[kind]} "
                         "(a partly covered period would be counted in part)")
    if name == "end" and key[1] == key[2]:
        raise ValueError(f"end {ts.date()} is not the last day of a {PERIOD_TYPES[kind]} "
                         "(a partly covered period would be counted in part)")
    return _day(ts)


def _widen(kind: str, lo: int, hi: int) -> tuple[int, int]:
    """The first day of lo's period and the last day of hi's period."""
    days = pd.DatetimeIndex(np.arange(lo - 400, lo + 1).astype("datetime64[D]"))
    key = _period_key(days, kind)
    first = lo - int(np.sum(key == key[-1])) + 1
    days = pd.DatetimeIndex(np.arange(hi, hi + 400).astype("datetime64[D]"))
    key = _period_key(days, kind)
    last = hi + int(np.sum(key == key[0])) - 1
    return first, last


# --------------------------------------------------------------------------- registries

class _Registry:
    """Distinct key labels in order of first sight; fixed (a units table) or growing."""

    def __init__(self, fixed: Sequence[str] | None = None, not_leaf: Sequence[str] = ()):
        self.labels: list[str] = list(fixed) if fixed is not None else []
        self.index = pd.Index(self.labels, dtype=object)
        self.fixed = fixed is not None
        self.not_leaf = pd.Index(list(not_leaf), dtype=object)
        self._cache: tuple[object, np.ndarray] | None = None

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_cache": None}

    def codes(self, col: object) -> np.ndarray:
        """Global codes of a column's cells: -1 missing, -2 unknown, -3 not a leaf.

        The batches of one Parquet row group (or one categorical) share a dictionary: its
        lookup table is kept and reused while the dictionary stays the same."""
        col = _native(col)
        dictionary = None
        if _is_arrow(col):
            import pyarrow as pa

            if pa.types.is_dictionary(col.type):
                dictionary = col.dictionary
        elif isinstance(col.dtype, pd.CategoricalDtype):
            dictionary = col.cat.categories
        if dictionary is not None and self._cache is not None and \
                type(self._cache[0]) is type(dictionary) and self._cache[0].equals(dictionary):
            raw, _ = _label_codes(col, labels=False)
            return self._cache[1][raw]
        raw, labels = _label_codes(col)
        texts = [_label(x) for x in labels]
        at = self.index.get_indexer(texts) if texts else np.zeros(0, dtype=np.intp)
        none = np.array([t is None for t in texts], dtype=bool)
        new = (at < 0) & ~none
        if new.any():
            if self.fixed:
                leafless = self.not_leaf.get_indexer([texts[i] for i in np.flatnonzero(new)])
                at[np.flatnonzero(new)] = np.where(leafless >= 0, _NOT_LEAF, _UNKNOWN)
            else:
                fresh = list(dict.fromkeys(texts[i] for i in np.flatnonzero(new)))
                self.labels += fresh
                self.index = pd.Index(self.labels, dtype=object)
                at = self.index.get_indexer(texts)
        at = np.where(none, _MISSING, at)
        lut = _lut(at, _MISSING)
        if dictionary is not None:
            self._cache = (dictionary, lut)
        return lut[raw]


# --------------------------------------------------------------------------- the tally

def _zeros(n: int, dtype: type = np.int64) -> np.ndarray:
    """Zeros written in order: the pages are touched sequentially here, not one by one at
    random by the counting (10x faster for an array of 100+ MB)."""
    out = np.empty(n, dtype=dtype)
    out.fill(0)
    return out


@dataclass
class _Tally:
    """Counts so far and what was rejected, per reason.

    ``acc[column, key..., period]`` holds one row per output count column (so that the
    result frame is this array, not a copy of it); ``buf`` is ``acc`` flat plus one last
    cell where rejected rows and unused contributions are added. ``dtype`` int32 halves the
    partial counts dask keeps and moves; they turn int64 before any cell could overflow
    (2**31 - 1 rows counted).
    """

    by: tuple[str, ...]
    plan: _Plan
    registries: dict[str, _Registry]
    unit: _Registry
    reasons: tuple[tuple[str, str, str], ...]
    strict: bool
    deaths_by_age: bool
    dtype: type = np.int64
    buf: np.ndarray | None = field(default=None)
    sparse: tuple[np.ndarray, np.ndarray] | None = None
    rows_in: int = 0
    rows_used: int = 0
    rows_rejected: int = 0
    rejected: np.ndarray = field(default=None)
    first: list = field(default=None)
    every: list = field(default=None)

    def __post_init__(self) -> None:
        self.columns = _count_columns(self.deaths_by_age)
        self.slots = _slots(self.columns)
        self.rejected = np.zeros(len(self.reasons), dtype=np.int64)
        self.first = [[] for _ in self.reasons]
        self.every = [[] for _ in self.reasons]
        self._shape = self._dims()
        self.buf = _zeros(int(np.prod(self._shape)), self.dtype)

    def compact(self) -> _Tally:
        """Keep only the non-zero cells (flat index, count) when that is smaller: the
        partial counts of a dask partition touch a few cells of a large grid."""
        flat = self.buf[:-int(np.prod(self._shape[1:]))]  # without the trash row
        idx = np.flatnonzero(flat)
        if idx.size * (idx.itemsize + flat.itemsize) < flat.nbytes:
            self.sparse, self.buf = (idx, flat[idx]), None
        return self

    def dense(self) -> _Tally:
        """Undo :meth:`compact`."""
        if self.buf is None:
            idx, vals = self.sparse
            self.buf = _zeros(int(np.prod(self._shape)), vals.dtype)
            self.buf[idx] = vals
            self.sparse = None
        return self

    def _dims(self) -> list[int]:
        return ([len(self.columns) + 1] + [len(self.registries[c].labels) for c in self.by]
                + [len(self.plan.labels)])

    @property
    def acc(self) -> np.ndarray:
        """The counts, ``acc[column, key..., period]`` (a view of ``buf``, without the
        trash row)."""
        return self.buf.reshape(self._shape)[:-1]

    def _grow(self, more: int = 0) -> None:
        """Make room for keys first seen in this batch, and turn int64 before ``more`` rows
        could overflow an int32 cell."""
        dims = self._dims()
        dtype = self.buf.dtype
        if dtype != np.int64 and self.rows_in + more >= 2 ** 31 - 1:
            dtype = np.dtype(np.int64)
        if dims != self._shape or dtype != self.buf.dtype:
            old = self.acc
            self.buf = _zeros(int(np.prod(dims)), dtype)
            self._shape = dims
            self.acc[tuple(slice(0, k) for k in old.shape)] = old

    def add(self, cols: dict[str, object], file: str, offset: int) -> None:
        """Count one batch (a dict of same-length columns, Arrow arrays or Series)."""
        n = len(cols["unit"])
        if n == 0:
            return
        unit = self.unit.codes(cols["unit"])
        keys = [unit if c == "unit" else self.registries[c].codes(cols[c]) for c in self.by]
        self._grow(n)
        days, d_missing, d_bad = _days(cols["date"])
        offs = days - self.plan.first
        inside = (offs >= 0) & (offs < len(self.plan.lut))
        pcode = self.plan.lut[np.where(inside, offs, 0)] if len(self.plan.lut) else offs
        event = _words(cols["event"], _EVENT_WORDS)
        birth = event == 0
        sex = _words(cols["sex"], _SEX_WORDS)
        order, o_missing, o_bad = _numbers(cols["birth_order"])
        age, a_missing, a_bad = _numbers(cols["mother_age"])
        compliant = _flags(cols["compliant"])
        with np.errstate(invalid="ignore"):
            o_invalid = o_bad | (~o_missing & ((order < 1) | _fraction(order)))
            a_invalid = a_bad | (~a_missing & ((age < MOTHER_AGES[0]) | (age > MOTHER_AGES[1])
                                               | _fraction(age)))
        masks = {
            "unit_missing": unit == _MISSING,
            "unit_unknown": unit == _UNKNOWN,
            "unit_not_leaf": unit == _NOT_LEAF,
            "date_missing": d_missing,
            "date_invalid": d_bad,
            "date_outside": ~d_missing & ~d_bad & ~inside,
            "event_missing": event == _MISSING,
            "event_unknown": event == _UNKNOWN,
            "sex_missing": birth & (sex == _MISSING),
            "sex_unknown": birth & (sex == _UNKNOWN),
            "birth_order_missing": birth & o_missing,
            "birth_order_invalid": birth & o_invalid,
            "mother_age_missing": birth & a_missing,
            "mother_age_invalid": birth & a_invalid,
            "compliant_missing": birth & (compliant == _MISSING),
            "compliant_invalid": birth & (compliant == _UNKNOWN),
        }
        infant = None
        if self.deaths_by_age:
            dage, g_missing, g_bad = _numbers(cols["age_at_death"])
            death = event == 1
            with np.errstate(invalid="ignore"):
                g_invalid = g_bad | (~g_missing & ((dage < 0) | (dage > _MAX_DEATH_AGE)
                                                   | _fraction(dage)))
                infant = dage == 0
            masks["age_at_death_missing"] = death & g_missing
            masks["age_at_death_invalid"] = death & g_invalid
        for c in self.by:
            if c != "unit":
                masks[f"{c}_missing"] = keys[self.by.index(c)] == _MISSING
        bad = np.zeros(n, dtype=bool)
        for i, (reason, _, _) in enumerate(self.reasons):
            m = masks.get(reason)
            if m is None or not m.any():
                continue
            bad |= m
            rows = np.flatnonzero(m)
            self.rejected[i] += len(rows)
            room = _FIRST_ROWS - len(self.first[i])
            if room > 0:
                self.first[i] += [(file, int(r) + offset + 1) for r in rows[:room]]
            if self.strict and reason != "date_outside":
                self.every[i].append((file, rows + offset + 1))
        ok = ~bad
        used = int(ok.sum())
        self.rows_in += n
        self.rows_used += used
        self.rows_rejected += n - used
        if not used:
            return
        # one integer key: the column's row offset plus the (key..., period) cell
        dims = self._shape
        n_cells = int(np.prod(dims[1:]))
        # (the key codes are fresh arrays of this batch: reused in place)
        cell = np.asarray(keys[0], dtype=np.int64) if keys else np.zeros(n, dtype=np.int64)
        for k, size in zip(keys[1:], dims[2:-1], strict=True):
            cell *= size
            cell += k
        cell *= dims[-1]
        cell += pcode
        if used < n:
            cell[bad] = 0  # a valid cell: rejected rows count in the trash row
        is_birth = ok & birth
        is_death = ok & (event == 1)
        first, second, third = (self.slots[k] * n_cells for k in ("first", "second", "third"))
        one = self.buf.dtype.type(1)  # of the buffer's type: numpy's fast path of add.at
        with np.errstate(invalid="ignore"):  # garbage where not a valid birth: not used
            code = sex * 3 + np.clip(order, 1, 3).astype(np.int8) - 1
            code = np.where(is_birth, code, np.where(is_death, 6, 7).astype(np.int8))
            np.add.at(self.buf, cell + first[code], one)
            code = np.clip(age, *MOTHER_AGES).astype(np.int8) - MOTHER_AGES[0]
            other = np.int8(51) if infant is None else np.where(is_death & infant, 51, 52
                                                                ).astype(np.int8)
            code = np.where(is_birth, code, other)
            np.add.at(self.buf, cell + second[code], one)
        code = (~(is_birth & (compliant == 1))).view(np.int8)
        np.add.at(self.buf, cell + third[code], one)


@dataclass(frozen=True)
class _Spec:
    """Everything a fresh tally needs (sent to dask workers)."""

    by: tuple[str, ...]
    plan: _Plan
    units: tuple[str, ...] | None
    not_leaf: tuple[str, ...]
    reasons: tuple[tuple[str, str, str], ...]
    strict: bool
    deaths_by_age: bool
    batch_size: int

    def tally(self, dtype: type = np.int64) -> _Tally:
        unit = _Registry(self.units, self.not_leaf) if self.units is not None else _Registry()
        regs = {c: (unit if c == "unit" else _Registry()) for c in self.by}
        return _Tally(self.by, self.plan, regs, unit, self.reasons, self.strict,
                      self.deaths_by_age, dtype)


def _merge(a: _Tally, b: _Tally) -> _Tally:
    """Add tally ``b`` into ``a`` (keys matched by label); returns ``a``, compacted when
    that is smaller (see :meth:`_Tally.compact`)."""
    a.dense()
    index = []
    for c in a.by:
        ra, rb = a.registries[c], b.registries[c]
        if not ra.fixed:
            known = set(ra.labels)
            ra.labels += [x for x in rb.labels if x not in known]
            ra.index = pd.Index(ra.labels, dtype=object)
        index.append(ra.index.get_indexer(rb.labels))
    a._grow(b.rows_in)
    if b.buf is None:  # sparse: move its cells to a's layout (flat indices are distinct)
        idx, vals = b.sparse
        coords = np.unravel_index(idx, b._shape)
        moved = [coords[0]] + [index[i][coords[i + 1]] for i in range(len(a.by))] + [
            coords[-1]]
        a.buf[np.ravel_multi_index(moved, a._shape)] += vals
    elif a.by:
        a.acc[(slice(None),) + np.ix_(*index)] += b.acc
    else:
        a.acc[...] += b.acc
    a.rows_in += b.rows_in
    a.rows_used += b.rows_used
    a.rows_rejected += b.rows_rejected
    a.rejected += b.rejected
    for i in range(len(a.reasons)):
        a.first[i] = (a.first[i] + b.first[i])[:_FIRST_ROWS]
        a.every[i] += b.every[i]
    return a.compact()


# --------------------------------------------------------------------------- sources

def _kind_of_source(events: object) -> str:
    if isinstance(events, pd.DataFrame):
        return "pandas"
    if isinstance(events, str | Path):
        return "parquet"
    if type(events).__module__.split(".")[0] in ("dask", "dask_expr") and hasattr(
            events, "to_delayed"):
        return "dask"
    raise TypeError("events must be a pandas DataFrame, a path to a Parquet file or "
                    f"directory, or a dask DataFrame, got {type(events).__name__}")


def _parquet_files(path: str | Path) -> list[Path]:
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.parquet") if p.is_file())
        if not files:
            raise ValueError(f"no Parquet files (*.parquet) in the directory {path}")
        return files
    if not path.exists():
        raise FileNotFoundError(f"no such events file or directory: {path}")
    if path.suffix.lower() != ".parquet":
        raise ValueError(f"events file must be Parquet (.parquet), got {path.name} (load a "
                         "CSV into a DataFrame first)")
    return [path]


def _frame_batches(frame: pd.DataFrame, columns: list[str], size: int, file: str
                   ) -> Iterator[tuple[str, int, dict]]:
    for lo in range(0, len(frame), size):
        yield file, lo, {c: frame[c].iloc[lo:lo + size] for c in columns}


def _parquet_batches(files: list[Path], columns: list[str], size: int
                     ) -> Iterator[tuple[str, int, dict]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    for f in files:
        schema = pq.read_schema(f)
        text = [c for c in columns if c in ("unit", "event", "sex") or c not in EVENT_COLUMNS]
        text = [c for c in text if pa.types.is_string(schema.field(c).type)
                or pa.types.is_large_string(schema.field(c).type)]
        # buffered reads (pages, not whole column chunks) and one decoding thread: the
        # counting is one thread anyway, and this keeps the reader's memory small. The file
        # is reopened for each row group: one reader keeps every row group's bytes it has
        # read until it is closed (pyarrow 26: +100 MiB per 20M rows), so that peak memory
        # would grow with the file.
        meta = pq.ParquetFile(f).metadata
        lo = 0
        for g in range(meta.num_row_groups):
            with pq.ParquetFile(f, metadata=meta, read_dictionary=text,
                                buffer_size=1 << 20) as pf:
                for rb in pf.iter_batches(batch_size=size, row_groups=[g], columns=columns,
                                          use_threads=False):
                    yield str(f), lo, {c: rb.column(c) for c in columns}
                    lo += rb.num_rows


def _prefetch(batches: Iterator[tuple[str, int, dict]]) -> Iterator[tuple[str, int, dict]]:
    """The same batches, the next one read in a thread while this one is counted (Arrow
    decodes without holding the GIL, so reading and counting overlap on two cores). An
    error in the reader is raised here; stopping early stops the reader."""
    import queue
    import threading

    box: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()
    end = object()

    def put(item: tuple) -> bool:
        while not stop.is_set():
            try:
                box.put(item, timeout=0.1)
                return True
            except queue.Full:
                pass
        return False

    def work() -> None:
        try:
            for item in batches:
                if not put(item):
                    return
            put((end, None))
        except BaseException as exc:  # handed to the consumer, raised there
            put((end, exc))

    reader = threading.Thread(target=work, name="fpanalysis-events-reader", daemon=True)
    reader.start()
    try:
        while True:
            item = box.get()
            if item[0] is end:
                if item[1] is not None:
                    raise item[1]
                return
            yield item
    finally:
        stop.set()
        reader.join()


def _day_range_batches(batches: Iterator[tuple[str, int, dict]]) -> tuple[int, int] | None:
    lo, hi = None, None
    for _, _, cols in batches:
        days, missing, bad = _days(cols["date"])
        good = days[~missing & ~bad]
        if len(good):
            lo = int(good.min()) if lo is None else min(lo, int(good.min()))
            hi = int(good.max()) if hi is None else max(hi, int(good.max()))
    return None if lo is None else (lo, hi)


def _parquet_day_range(files: list[Path], size: int) -> tuple[int, int] | None:
    """First and last date from the row-group statistics, else from reading the dates."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    lo, hi, ok = None, None, True
    for f in files:
        meta = pq.ParquetFile(f)
        typ = meta.schema_arrow.field("date").type
        if not (pa.types.is_date32(typ) or pa.types.is_date64(typ)):
            ok = False
            break
        j = meta.schema_arrow.get_field_index("date")
        for g in range(meta.metadata.num_row_groups):
            st = meta.metadata.row_group(g).column(j).statistics
            rg_rows = meta.metadata.row_group(g).num_rows
            if st is None or not st.has_min_max:
                if st is not None and st.null_count == rg_rows:
                    continue  # only empty dates: nothing to bound
                ok = False
                break
            a, b = _day(pd.Timestamp(st.min)), _day(pd.Timestamp(st.max))
            lo = a if lo is None else min(lo, a)
            hi = b if hi is None else max(hi, b)
        if not ok:
            break
    if ok:
        return None if lo is None else (lo, hi)
    return _day_range_batches(_parquet_batches(files, ["date"], size))


def _frame_range(frame: pd.DataFrame) -> tuple[int, int] | None:
    return _day_range_batches(_frame_batches(frame, ["date"], max(len(frame), 1), ""))


def _tally_frame(frame: pd.DataFrame, spec: _Spec, file: str,
                 dtype: type = np.int64) -> _Tally:
    t = spec.tally(dtype)
    for name, lo, cols in _frame_batches(frame, list(frame.columns), spec.batch_size, file):
        t.add(cols, name, lo)
    return t


def _partition_tally(frame: pd.DataFrame, spec: _Spec, file: str) -> _Tally:
    """The counts of one dask partition: int32, compacted (what travels between workers)."""
    return _tally_frame(frame, spec, file, np.int32).compact()


def _tree(items: list, merge: object) -> object:
    while len(items) > 1:
        items = [merge(items[i], items[i + 1]) if i + 1 < len(items) else items[i]
                 for i in range(0, len(items), 2)]
    return items[0]


# --------------------------------------------------------------------------- arguments

def _period_type(period: object) -> str:
    names = {**{k: k for k in PERIOD_TYPES}, **{v: k for k, v in PERIOD_TYPES.items()}}
    if not isinstance(period, str) or period not in names:
        raise ValueError("period must be one of 'D' (dekad), 'M' (month), 'Q' (quarter), "
                         f"'H' (half-year) or 'Y' (year), got {period!r}")
    return names[period]


def _units_spec(units: object) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Leaf unit codes of a units table (or a list of codes) and the codes above them."""
    if isinstance(units, pd.DataFrame):
        if "unit" not in units.columns:
            raise ValueError("units must have a 'unit' column (as load_units returns)")
        codes = [_label(x) for x in units["unit"]]
        parents = ({_label(x) for x in units["parent"]} - {None}
                   if "parent" in units.columns else set())
    elif isinstance(units, str | bytes) or not isinstance(units, Sequence | pd.Series
                                                          | pd.Index | np.ndarray):
        raise TypeError("units must be a units table (DataFrame with a 'unit' column) or a "
                        f"sequence of unit codes, got {type(units).__name__}")
    else:
        codes = [_label(x) for x in units]
        parents = set()
    if any(c is None for c in codes):
        raise ValueError("units has an empty unit code")
    leaves = tuple(sorted({c for c in codes if c not in parents}))
    return leaves, tuple(sorted(set(codes) & parents))


def _by_columns(by: object, columns: Sequence[str]) -> tuple[str, ...]:
    if isinstance(by, str) or not isinstance(by, Sequence):
        raise TypeError(f"by must be a sequence of column names such as ('unit',), got "
                        f"{by!r}")
    by = tuple(by)
    for c in by:
        if not isinstance(c, str):
            raise TypeError(f"by must be a sequence of column names such as ('unit',), got "
                            f"{by!r}")
        if c == "period":
            raise ValueError("by must not name 'period': periods are always a key of the "
                             "result")
        if c not in columns:
            from .schema import suggestion

            raise ValueError(f"by column {c!r} is not in the events{suggestion(c, columns)}")
    if len(set(by)) != len(by):
        raise ValueError(f"by names a column twice: {by!r}")
    return by


# --------------------------------------------------------------------------- output

def _strings(labels: np.ndarray, idx: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """``labels[idx]`` as a ``string`` array, taken in Arrow when pandas stores strings
    there (no Python object per row)."""
    dtype = pd.StringDtype()
    if dtype.storage == "pyarrow":
        import pyarrow as pa

        return dtype.__from_arrow__(pa.array(list(labels), pa.string()).take(pa.array(idx)))
    return pd.array(labels[idx], dtype=dtype)


def _counts_frame(t: _Tally) -> pd.DataFrame:
    acc = t.acc
    labels = []
    for i, c in enumerate(t.by):
        lab = np.array(t.registries[c].labels, dtype=object)
        order = np.argsort(lab, kind="stable") if len(lab) else np.zeros(0, dtype=np.intp)
        if not np.array_equal(order, np.arange(len(lab))):
            acc = acc.take(order, axis=i + 1)
        labels.append(lab[order])
    dims = [len(x) for x in labels]
    n_p = len(t.plan.labels)
    n = int(np.prod(dims)) * n_p
    keys = {}
    for i, (c, lab) in enumerate(zip(t.by, labels, strict=True)):
        inner = int(np.prod(dims[i + 1:])) * n_p
        outer = int(np.prod(dims[:i]))
        keys[c] = _strings(lab, np.tile(np.repeat(np.arange(len(lab)), inner), outer))
    pcodes = np.tile(np.arange(n_p), n // n_p if n_p else 0)
    if t.plan.kind in ("M", "Q", "Y"):
        per = (pd.PeriodIndex(list(t.plan.labels)) if n_p
               else pd.PeriodIndex([], freq=t.plan.kind))
        keys["period"] = per.take(pcodes).array
    else:
        table = np.empty(n_p, dtype=object)
        table[:] = list(t.plan.labels)
        keys["period"] = table[pcodes]
    mat = acc.reshape(len(t.columns), n)  # one row per count column: the frame's block
    if mat.dtype != np.int64:  # int32 partial counts from dask
        mat = mat.astype(np.int64)
    cols = list(t.columns)
    male = [cols.index(f"births_male_{o}") for o in BIRTH_ORDERS]
    female = [cols.index(f"births_female_{o}") for o in BIRTH_ORDERS]
    np.sum(mat[male], axis=0, out=mat[1])
    np.sum(mat[female], axis=0, out=mat[2])
    np.add(mat[1], mat[2], out=mat[0])
    counts = pd.DataFrame(mat.T, columns=cols, copy=False)
    return pd.concat([pd.DataFrame(keys), counts], axis=1)


def _report(t: _Tally, source: str) -> dict:
    rejected = [{"reason": r, "column": c, "rows": int(t.rejected[i]),
                 "first_rows": [[f, int(row)] for f, row in t.first[i]], "message": m}
                for i, (r, c, m) in enumerate(t.reasons)]
    return {"source": source, "period_type": PERIOD_TYPES[t.plan.kind],
            "rows_in": int(t.rows_in), "rows_used": int(t.rows_used),
            "rows_rejected": int(t.rows_rejected), "rejected": rejected}


def _raise_strict(t: _Tally, order: dict[str, int]) -> None:
    problems = []
    for i, (reason, column, message) in enumerate(t.reasons):
        if reason == "date_outside":
            continue
        for file, rows in t.every[i]:
            problems += [Problem(file, int(r), column, message) for r in rows]
    if problems:
        problems.sort(key=lambda p: (order.get(p.file, 0), p.file, p.row))
        raise DataError(problems)


def rejected_events(counts: pd.DataFrame) -> pd.DataFrame:
    """Return what :func:`aggregate_events` set aside, one row per rule.

    Parameters
    ----------
    counts : pandas.DataFrame
        A result of :func:`aggregate_events` (its ``attrs["events_report"]``).

    Returns
    -------
    pandas.DataFrame
        ``reason``, ``column``, ``rows`` (events breaking the rule; an event breaking two
        rules is in both), ``first_rows`` (the first rows as numbered in the file, e.g.
        ``'events.parquet row 12'``), ``message``. ``attrs`` holds ``rows_in``,
        ``rows_used`` and ``rows_rejected`` (distinct rows; ``rows_in == rows_used +
        rows_rejected``).

    Raises
    ------
    ValueError
        If the frame carries no events report.
    """
    rep = counts.attrs.get("events_report")
    if rep is None:
        raise ValueError("the frame carries no events report (it was not made by "
                         "aggregate_events, or an operation dropped its attrs)")
    out = pd.DataFrame({
        "reason": [r["reason"] for r in rep["rejected"]],
        "column": [r["column"] for r in rep["rejected"]],
        "rows": np.array([r["rows"] for r in rep["rejected"]], dtype=np.int64),
        "first_rows": [", ".join(f"{Path(f).name} row {k}" if f else f"row {k}"
                                 for f, k in r["first_rows"]) for r in rep["rejected"]],
        "message": [r["message"] for r in rep["rejected"]],
    })
    out.attrs = {k: rep[k] for k in ("rows_in", "rows_used", "rows_rejected")}
    return out


# --------------------------------------------------------------------------- the function

def aggregate_events(
    events: pd.DataFrame | str | Path | object,
    period: str = "M",
    *,
    by: Sequence[str] = ("unit",),
    units: pd.DataFrame | Sequence[str] | None = None,
    start: object = None,
    end: object = None,
    strict: bool = False,
    batch_size: int = 250_000,
) -> pd.DataFrame:
    """Count an event register (births and deaths) into the ``counts`` contract.

    One row per unit (per ``by`` key) and period, every one of them: a unit with no event
    in a period has a row of zeros. Population is not an event: it comes from the
    population table (merge ``population`` by unit and period before
    :func:`fpanalysis.indicators.compute`).

    Parameters
    ----------
    events : pandas.DataFrame, str, Path or dask.dataframe.DataFrame
        The register: columns ``unit``, ``date``, ``event`` (``birth``/``death``,
        ``出生``/``死亡``), ``sex`` (``M``/``F``, ``male``/``female``, ``男``/``女``, 1/2;
        case and full-width forms folded), ``birth_order`` (1, 2, 3 ...), ``mother_age``
        (whole years), ``compliant`` (true/false, 1/0, yes/no, 是/否) and, optionally,
        ``age_at_death`` (completed years; 0 is an infant death). A path is a Parquet file
        or a directory of them (every ``*.parquet`` below it, subfolders included, as in a
        partitioned register: keep backups elsewhere), read in batches of ``batch_size``
        rows with only the needed columns. A dask DataFrame is counted partition by
        partition on the active scheduler (threads, or a ``dask.distributed`` client) and
        the partial counts are summed; dask is imported only for it. ``date`` is a
        date/datetime column or ISO text (``2024-07-15``; a year or a month alone is not a
        date and is rejected); the date of a timezone-aware time is its local date.
    period : {'M', 'Q', 'Y', 'D', 'H'}, default 'M'
        Period type: month, quarter, year, dekad (``2024-07-D2``) or half-year; the names
        ``'month'``, ``'quarter'``, ``'year'``, ``'dekad'``, ``'half_year'`` also work.
    by : sequence of str, default ('unit',)
        Key columns of the result besides ``period``. ``()`` counts the whole register
        per period. Each key column's values (the units of ``units`` for ``unit``) are
        crossed with each other and with every period.
    units : DataFrame or sequence of str, optional
        The units events belong to (a units table, as :func:`fpanalysis.io.load_units`
        returns, or the codes). Every unit gets a row for every period, and an event of a
        unit not in it is rejected. With a ``parent`` column only units with no unit
        below them are used: an event recorded at a township that has villages is
        rejected (``unit_not_leaf``), since a township row beside its villages' rows
        would be counted twice when rolled up. Without ``units`` every unit the register
        names (even on rejected rows only) gets its rows.
    start, end : period label or date, optional
        First and last period to count (``'2024-01'``, ``'2024Q1'``, ``'2024-01-01'``;
        a date must be the first, resp. last, day of a period of the type). Events outside
        are rejected as ``date_outside``. Without them the periods run from that of the
        earliest valid date to that of the latest (for Parquet, read from the row-group
        statistics when the dates are typed; else, and for dask, in a first pass over the
        dates): give them to read a dask register once, and to get rows of zeros for an
        empty register.
    strict : bool, default False
        Raise :class:`~fpanalysis.schema.DataError` listing every invalid event (each
        rule it breaks, with file, row and column) instead of reporting them. Events
        outside ``start``-``end`` are a selection, not an error: never raised.
    batch_size : int, default 250_000
        Rows counted at a time (Parquet record batches, slices of a DataFrame or of a
        dask partition); memory grows with it (about 100 bytes a row), speed hardly.

    Returns
    -------
    pandas.DataFrame
        ``by`` columns (``string``), ``period`` (``period[M]``, ``period[Q-DEC]``,
        ``period[Y-DEC]``, or :class:`~fpanalysis.periods.Dekad` /
        :class:`~fpanalysis.periods.Span` objects), then int64 counts: ``births``,
        ``births_male``, ``births_female``, ``births_male_o1``, ``births_female_o1``,
        ``births_male_o2``, ``births_female_o2``, ``births_male_o3p``,
        ``births_female_o3p`` (orders 3 and above), ``deaths``, ``deaths_infant`` (only
        with an ``age_at_death`` column), ``births_compliant``, ``births_age_15_19`` ...
        ``births_age_45_49``, and ``births_age_10_14``, ``births_age_50_60``: births to
        mothers aged 10-14 and 50-60 are valid, counted in the births, sex and order
        columns, and in these two columns rather than in a five-year group of 15-49 (so
        the seven groups may sum to fewer than ``births``, which the loaders accept).
        Sorted by ``by`` and period; RangeIndex. ``attrs["events_report"]`` (a plain
        dict) records rows in, used and rejected per rule; :func:`rejected_events`
        returns it as a table.

    Raises
    ------
    TypeError
        If ``events``, ``by`` or ``units`` is of the wrong type.
    ValueError
        Unknown period type; a ``by`` column that is absent or is ``period``; ``start``
        or ``end`` unreadable, off a period boundary, or end before start; a units table
        without ``unit`` or with an empty code; a path that is not Parquet.
    FileNotFoundError
        If the path does not exist.
    DataError
        If a required column is missing (each file named), and with ``strict=True`` for
        every invalid event.

    See Also
    --------
    rejected_events : the rejected events per rule.
    fpanalysis.indicators.compute : indicators from the counts (with a population column).

    Notes
    -----
    A birth needs every column valid: sex a known code, birth order a whole number >= 1,
    mother's age a whole number of years from 10 to 60, compliant a boolean, a date in
    the requested periods, a unit (known, with ``units``). A death needs unit, date and,
    when the column exists, ``age_at_death`` (whole years, 0-130); its sex, order, age
    and compliant cells are not read. An event breaking a rule is not counted anywhere
    (not even in ``deaths``): it is counted in ``rejected_events`` under each rule it
    breaks, and ``rows_in == rows_used + rows_rejected``. Rows are numbered from 1 in
    each Parquet file (it has no header), by position (1-based) in a DataFrame (``file``
    is ``'events'``), and within each partition (``file`` is ``'partition <i>'``) for
    dask.

    Examples
    --------
    >>> ev = pd.DataFrame({
    ...     "unit": ["101", "101", "101", "102", "102"],
    ...     "date": ["2024-01-05", "2024-01-20", "2024-02-03", "2024-01-09", "2024-02-30"],
    ...     "event": ["birth", "birth", "death", "birth", "birth"],
    ...     "sex": ["M", "F", None, "F", "M"],
    ...     "birth_order": [1, 2, None, 3, 1],
    ...     "mother_age": [24, 31, None, 52, 28],
    ...     "compliant": [True, True, None, False, True]})
    >>> c = aggregate_events(ev, "M", units=["101", "102", "103"], start="2024-01",
    ...                      end="2024-02")
    >>> c[["unit", "period", "births", "births_male", "deaths", "births_age_50_60"]]
      unit   period  births  births_male  deaths  births_age_50_60
    0  101  2024-01       2            1       0                 0
    1  101  2024-02       0            0       1                 0
    2  102  2024-01       1            0       0                 1
    3  102  2024-02       0            0       0                 0
    4  103  2024-01       0            0       0                 0
    5  103  2024-02       0            0       0                 0
    >>> r = rejected_events(c)
    >>> r.loc[r["rows"] > 0, ["reason", "rows", "first_rows"]]
             reason  rows    first_rows
    4  date_invalid     1  events row 5
    >>> r.attrs
    {'rows_in': 5, 'rows_used': 4, 'rows_rejected': 1}
    """
    kind = _period_type(period)
    source = _kind_of_source(events)
    if not isinstance(batch_size, int | np.integer) or isinstance(batch_size, bool) \
            or batch_size < 1:
        raise ValueError(f"batch_size must be a whole number of at least 1, got {batch_size!r}")
    if not isinstance(strict, bool):
        raise TypeError(f"strict must be True or False, got {strict!r}")
    files: list[Path] = []
    if source == "parquet":
        import pyarrow.parquet as pq

        files = _parquet_files(events)
        schemas = {str(f): pq.read_schema(f).names for f in files}
    else:
        schemas = {"events" if source == "pandas" else "dask DataFrame":
                   [str(c) for c in events.columns]}
    common = set.intersection(*(set(v) for v in schemas.values()))
    problems = [Problem(f, None, c, "required column is missing")
                for f, names in schemas.items() for c in EVENT_COLUMNS if c not in names]
    problems += [Problem(f, None, c, "column appears more than once")
                 for f, names in schemas.items()
                 for c in sorted({n for n in names if names.count(n) > 1})]
    if problems:
        raise DataError(problems)
    by = _by_columns(by, sorted(common))
    deaths_by_age = "age_at_death" in common
    columns = list(EVENT_COLUMNS) + (["age_at_death"] if deaths_by_age else []) + [
        c for c in by if c not in EVENT_COLUMNS]
    leaves, not_leaf = _units_spec(units) if units is not None else (None, ())
    reasons = [r for r in REASONS if deaths_by_age or not r[0].startswith("age_at_death")]
    reasons += [(f"{c}_missing", c, f"{c} is empty") for c in by if c != "unit"]

    first = _bound(start, "start", kind) if start is not None else None
    last = _bound(end, "end", kind) if end is not None else None
    if first is not None and last is not None and last < first:
        raise ValueError(f"end {end!r} is before start {start!r}")
    parts = None
    if source == "dask":
        import dask

        parts = events[columns].to_delayed()
    if first is None or last is None:
        if source == "pandas":
            seen = _frame_range(events)
        elif source == "parquet":
            seen = _parquet_day_range(files, batch_size)
        else:
            ranges = [r for r in dask.compute(*[dask.delayed(_frame_range)(p) for p in parts])
                      if r is not None]
            seen = (min(r[0] for r in ranges), max(r[1] for r in ranges)) if ranges else None
        if seen is not None:
            lo, hi = _widen(kind, *seen)
            first = lo if first is None else first
            last = hi if last is None else last
        elif first is None and last is None:
            first, last = 0, -1  # no dates at all: no periods
        else:
            first = last if first is None else first
            last = first if last is None else last
            first, last = _widen(kind, first, first)[0], _widen(kind, last, last)[1]
    spec = _Spec(by, _Plan.make(kind, first, last), leaves, not_leaf, tuple(reasons), strict,
                 deaths_by_age, int(batch_size))
    if source == "pandas":
        tally = _tally_frame(events[columns], spec, "events")
        name = "DataFrame"
    elif source == "parquet":
        tally = spec.tally()
        for file, lo, cols in _prefetch(_parquet_batches(files, columns, spec.batch_size)):
            tally.add(cols, file, lo)
        name = str(events)
    else:
        partials = [dask.delayed(_partition_tally)(p, spec, f"partition {i}")
                    for i, p in enumerate(parts)]
        tally = dask.compute(_tree(partials, dask.delayed(_merge)))[0] if partials \
            else spec.tally()
        tally.dense()
        name = "dask DataFrame"
    if strict:
        order = {str(f): i for i, f in enumerate(files)}
        _raise_strict(tally, order)
    out = _counts_frame(tally)
    out.attrs["events_report"] = _report(tally, name)
    return out
