"""Walk a read table: name its columns, sort its rows, parse its numbers, keep its report.

:func:`walk` takes the text cells from :func:`fpanalysis.reading.read_table` and

* maps headers to canonical columns (one alias table, in :mod:`fpanalysis.schema`);
* tells data rows from blank rows, notes below the table and labelled totals rows
  (合计/总计), checking each totals row against the rows above it;
* parses count and number columns strictly (:func:`parse_numbers`): thousands separators only
  in groups of three, no decimal commas, integers exact;
* NFKC-normalises and strips the key columns;
* accounts for every row in a :class:`LoadReport` (rows in = rows used + rows set aside).

Problems are collected in a :class:`Collector`, one per file, and raised together by the
loader.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .reading import find_file, read_table
from .schema import TOTAL_LABELS, DataError, Problem, TableSpec, canonical_header

__all__ = [
    "Collector",
    "LoadReport",
    "Numbers",
    "StoredReport",
    "Walked",
    "fmt",
    "load_report",
    "normalise_keys",
    "parse_numbers",
    "walk",
]

_NOTE_START = re.compile(
    r"^\s*(注|说明|备注|填报|制表|审核|负责人|单位负责人|数据来源|note|source)", re.I)
# a number as offices write it: digits with optional thousands groups of three, a decimal
# point and an exponent
_NUMBER = re.compile(r"^[+-]?(?:\d+|\d{1,3}(?:,\d{3})+)(?:\.\d*)?(?:[eE][+-]?\d+)?$"
                     r"|^[+-]?\.\d+(?:[eE][+-]?\d+)?$")
_INTEGER = re.compile(r"^[+-]?\d+$")
_EXACT = 2 ** 53


@dataclass
class LoadReport:
    """What happened to every row and column of a loaded file.

    ``rows_in`` counts the rows below the header; each is either used or listed in
    ``skipped`` with its row number and the reason (blank, note, checked totals row).
    ``unknown_columns`` lists the columns kept as text because no contract knows them.
    Loaders store it as a plain dict (:meth:`to_dict`) in ``frame.attrs["load_report"]``;
    :func:`load_report` reads it back.
    """

    file: str
    header_row: int | None
    encoding: str | None
    rows_in: int = 0
    rows_used: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)
    sheet: str | None = None
    unknown_columns: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        where = f"{self.file} (sheet {self.sheet!r})" if self.sheet else self.file
        text = (f"{where}: {self.rows_in} rows read, {self.rows_used} used, "
                f"{len(self.skipped)} set aside")
        for row, why in self.skipped:
            text += f"\n  row {row}: {why}"
        if self.unknown_columns:
            text += "\n  columns kept as text (not in any contract): " + ", ".join(
                self.unknown_columns)
        return text

    def to_dict(self) -> dict:
        """Return the report as a JSON-serialisable dict (str, int, None and lists)."""
        out = asdict(self)
        out["skipped"] = [[int(r), str(w)] for r, w in self.skipped]
        return out

    @classmethod
    def from_dict(cls, data: dict) -> LoadReport:
        """Rebuild a report from :meth:`to_dict` output."""
        fields = dict(data)
        fields["skipped"] = [(int(r), str(w)) for r, w in fields.get("skipped", [])]
        fields["unknown_columns"] = list(fields.get("unknown_columns", []))
        return cls(**fields)


class StoredReport(dict):
    """A load report as a loader stores it in ``frame.attrs["load_report"]``: the plain,
    JSON-serialisable dict of :meth:`LoadReport.to_dict`, read-only.

    pandas deep-copies a frame's ``attrs`` into every frame derived from it, down to each
    column read (``counts["births_male"]``): in a quarterly report that was 8,000 copies and
    a quarter of a second. A read-only report can be shared instead of copied.
    """

    def __deepcopy__(self, memo: dict) -> StoredReport:
        return self

    def __reduce__(self) -> tuple:
        return StoredReport, (dict(self),)

    def _read_only(self, *args: object, **kwargs: object) -> None:
        raise TypeError("a stored load report is read-only; rebuild it with "
                        "LoadReport.from_dict(...) and store its to_dict()")

    __setitem__ = __delitem__ = update = pop = popitem = clear = setdefault = _read_only
    __ior__ = _read_only


def load_report(frame: pd.DataFrame) -> LoadReport:
    """Return the :class:`LoadReport` a loader stored in ``frame.attrs["load_report"]``.

    Raises
    ------
    ValueError
        If the frame carries no load report (not from a loader, or an operation dropped
        its ``attrs``).
    """
    data = frame.attrs.get("load_report")
    if data is None:
        raise ValueError("the frame carries no load report (it was not made by a loader, or "
                         "an operation dropped its attrs)")
    if isinstance(data, LoadReport):
        return data
    return LoadReport.from_dict(data)


class Collector:
    """Collects problems for one file; ``rows`` maps frame positions to file rows."""

    def __init__(self, file: str, rows: np.ndarray):
        self.file = file
        self.rows = rows
        self.problems: list[Problem] = []

    def at(self, mask: np.ndarray | pd.Series, column: str | None,
           message: str | Callable[[int], str]) -> None:
        """Add one problem per True position; ``message`` is a str or f(position) -> str."""
        positions = np.flatnonzero(np.asarray(mask, dtype=bool))
        for pos in positions:
            text = message(pos) if callable(message) else message
            self.problems.append(Problem(self.file, int(self.rows[pos]), column, text))

    def add(self, row: int | None, column: str | None, message: str) -> None:
        self.problems.append(Problem(self.file, row, column, message))

    def flagged(self, column: str) -> np.ndarray:
        """Positions that already have a problem in ``column`` (so a cell is reported once)."""
        rows = [p.row for p in self.problems if p.column == column]
        return np.isin(self.rows, rows)

    def raise_if_any(self) -> None:
        """Raise every problem collected so far, in file order."""
        if self.problems:
            raise DataError(sorted(self.problems, key=lambda p: (p.row or 0)))


def fmt(x: float) -> str:
    """Format a count or number for a message: whole numbers without a decimal point."""
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


@dataclass
class Numbers:
    """One parsed column: floats for checks, exact integers for counts, and what failed.

    Attributes
    ----------
    value : pandas.Series
        float64, NaN where empty or bad.
    exact : pandas.Series
        Int64 for count columns (exact beyond 2**53; ``<NA>`` where empty, bad or not whole),
        else the same floats.
    empty : numpy.ndarray
        Cells with nothing in them.
    bad : numpy.ndarray
        Cells that are not a number of the accepted form (each has a message).
    """

    value: pd.Series
    exact: pd.Series
    empty: np.ndarray
    bad: np.ndarray
    messages: dict[int, str]


def parse_numbers(values: pd.Series, *, whole: bool) -> Numbers:
    """Parse a column of numbers strictly.

    Accepted: digits with an optional sign, decimal point and exponent; thousands separators
    only as commas between groups of three digits (``1,234``, ``12,345,678``). Refused, each
    with its message: other commas (``1,2,3``, ``12,34``, the decimal comma ``3,5``), text,
    ``inf``/``nan``, and numbers that cannot be held exactly: for ``whole`` (count) columns
    integers beyond int64 or written as floats from 2**53, for real columns integers from
    2**53 + 1.

    Examples
    --------
    >>> n = parse_numbers(pd.Series(["1,234", "1,2,3", "3,5", "9007199254740993", ""]),
    ...                   whole=True)
    >>> n.exact.tolist()
    [1234, <NA>, <NA>, 9007199254740993, <NA>]
    >>> sorted(n.messages.values())[0]
    "malformed number: '1,2,3' (commas only between groups of three digits, e.g. 1,234; \
decimals with a point, e.g. 3.5)"
    """
    if pd.api.types.is_bool_dtype(values) or (
            pd.api.types.is_numeric_dtype(values) and not
            isinstance(values.dtype, pd.CategoricalDtype)):
        return _typed_numbers(values, whole=whole)
    # parse each distinct cell once (a column of counts has few), then spread by position
    codes, uniq = pd.factorize(values if values.dtype == object else values.astype(object),
                               use_na_sentinel=True)
    distinct = _parse_text(pd.Series(np.append(uniq.astype(object), ""), dtype=object),
                           whole=whole)
    codes = np.where(codes < 0, len(uniq), codes)  # missing cells: the appended ""
    value = pd.Series(distinct.value.to_numpy()[codes], index=values.index)
    exact = pd.Series(distinct.exact.array.take(codes), index=values.index) if whole \
        else value
    bad = distinct.bad[codes]
    messages = {int(p): distinct.messages[int(codes[p])] for p in np.flatnonzero(bad)}
    return Numbers(value, exact, distinct.empty[codes], bad, messages)


def _parse_text(values: pd.Series, *, whole: bool) -> Numbers:
    """:func:`parse_numbers` for a column of text cells."""
    index = values.index
    n = len(values)
    raw = values.astype("string").fillna("")
    text = raw.map(lambda s: unicodedata.normalize("NFKC", s), na_action="ignore").str.strip()
    empty = (text == "").to_numpy()
    good = text.str.match(_NUMBER).fillna(False).to_numpy(dtype=bool) & ~empty
    plain = text.str.replace(",", "", regex=False)
    messages: dict[int, str] = {}
    with_comma = ~good & ~empty & plain.str.match(_NUMBER).fillna(False).to_numpy(dtype=bool)
    for pos in np.flatnonzero(with_comma):
        messages[int(pos)] = (f"malformed number: {raw.iloc[pos].strip()!r} (commas only "
                              "between groups of three digits, e.g. 1,234; decimals with a "
                              "point, e.g. 3.5)")
    for pos in np.flatnonzero(~good & ~empty & ~with_comma):
        messages[int(pos)] = f"not a number: {raw.iloc[pos].strip()!r}"
    value = np.full(n, np.nan)
    exact = pd.Series(pd.NA, index=index, dtype="Int64")
    is_int = good & plain.str.match(_INTEGER).fillna(False).to_numpy(dtype=bool)
    if is_int.any():
        ints = pd.to_numeric(plain[is_int].str.lstrip("+"), errors="coerce")
        if ints.dtype != np.int64:  # beyond int64: uint64 or object
            big = ints.map(lambda x: abs(int(x)) >= 2 ** 63 - 1).to_numpy(dtype=bool)
            pos_big = np.flatnonzero(is_int)[big]
            for pos in pos_big:
                messages[int(pos)] = (f"number too large: {raw.iloc[pos].strip()!r} "
                                      "(at most 9223372036854775806)")
            good[pos_big] = False
            is_int[pos_big] = False
            ints = pd.to_numeric(plain[is_int].str.lstrip("+")).astype(np.int64)
        exact[is_int] = ints.to_numpy()
        value[is_int] = ints.to_numpy(dtype=float)
        if not whole:
            inexact = np.abs(ints.to_numpy()) > _EXACT
            pos_in = np.flatnonzero(is_int)[inexact]
            for pos in pos_in:
                messages[int(pos)] = (f"number too large to be held exactly: "
                                      f"{raw.iloc[pos].strip()!r} (at most 2**53 = "
                                      f"{_EXACT})")
            value[pos_in] = np.nan
            good[pos_in] = False
    is_float = good & ~is_int
    if is_float.any():
        floats = pd.to_numeric(plain[is_float], errors="coerce").to_numpy(dtype=float)
        value[is_float] = floats
        finite = np.isfinite(floats)
        pos_inf = np.flatnonzero(is_float)[~finite]
        for pos in pos_inf:
            messages[int(pos)] = f"not a finite number: {raw.iloc[pos].strip()!r}"
        value[pos_inf] = np.nan
        good[pos_inf] = False
        if whole:
            _float_counts(floats, np.flatnonzero(is_float), value, exact, messages, raw, good)
    bad = ~empty & ~good
    value[bad] = np.nan
    out = pd.Series(value, index=index)
    return Numbers(out, exact if whole else out, empty, bad, messages)


def _float_counts(floats: np.ndarray, positions: np.ndarray, value: np.ndarray,
                  exact: pd.Series, messages: dict[int, str], raw: pd.Series,
                  good: np.ndarray) -> None:
    """Counts written as floats (``3.0``, ``1e3``): whole ones below 2**53 become integers."""
    with np.errstate(invalid="ignore"):
        whole = np.isfinite(floats) & (np.mod(floats, 1) == 0)
    big = whole & (np.abs(floats) >= _EXACT)
    for pos in positions[big]:
        messages[int(pos)] = (f"number too large to be held exactly: {raw.iloc[pos].strip()!r} "
                              "(write it as a whole number without a decimal point or exponent)")
    value[positions[big]] = np.nan
    good[positions[big]] = False
    ok = whole & ~big
    exact.iloc[positions[ok]] = floats[ok].astype(np.int64)


def _typed_numbers(values: pd.Series, *, whole: bool) -> Numbers:
    """Numbers from a typed column (Parquet): integers stay exact."""
    n = len(values)
    empty = values.isna().to_numpy()
    messages: dict[int, str] = {}
    if pd.api.types.is_integer_dtype(values) and not pd.api.types.is_bool_dtype(values):
        exact = values.astype("Int64")
        value = exact.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        bad = np.zeros(n, dtype=bool)
        if not whole:
            big = (exact.abs() > _EXACT).fillna(False).to_numpy(dtype=bool)
            for pos in np.flatnonzero(big):
                messages[int(pos)] = (f"number too large to be held exactly: "
                                      f"{exact.iloc[pos]} (at most 2**53 = {_EXACT})")
            value[big] = np.nan
            bad = big
        out = pd.Series(value, index=values.index)
        return Numbers(out, exact if whole else out, empty, bad, messages)
    value = values.astype(float).to_numpy(copy=True)
    bad = ~empty & ~np.isfinite(value)
    for pos in np.flatnonzero(bad):
        messages[int(pos)] = f"not a finite number: {value[pos]}"
    exact = pd.Series(pd.NA, index=values.index, dtype="Int64")
    if whole:
        with np.errstate(invalid="ignore"):
            is_whole = ~empty & ~bad & (np.mod(value, 1) == 0)
        big = is_whole & (np.abs(value) >= _EXACT)
        for pos in np.flatnonzero(big):
            messages[int(pos)] = (f"number too large to be held exactly: {value[pos]:.17g} "
                                  "(store counts as integers)")
        bad |= big
        ok = is_whole & ~big
        exact.iloc[np.flatnonzero(ok)] = value[ok].astype(np.int64)
    value[bad] = np.nan
    out = pd.Series(value, index=values.index)
    return Numbers(out, exact if whole else out, empty, bad, messages)


def normalise_keys(values: pd.Series) -> pd.Series:
    """Return key cells as NFKC-normalised, stripped text (``<NA>`` stays ``<NA>``).

    Examples
    --------
    >>> normalise_keys(pd.Series([" 11", "１１", "11"])).tolist()
    ['11', '11', '11']
    """
    text = values if isinstance(values.dtype, pd.StringDtype) else values.astype("string")
    codes, uniq = pd.factorize(text, use_na_sentinel=True)
    norm = np.array([unicodedata.normalize("NFKC", u).strip() for u in uniq] + [pd.NA],
                    dtype=object)  # each distinct cell once; code -1 (missing) takes NA
    return pd.Series(norm[codes], index=values.index, dtype="string")


def _canonicalize(frame: pd.DataFrame, known: Collection[str], col: Collector,
                  header_row: int | None) -> tuple[pd.DataFrame, list[str]]:
    """Rename known headers to canonical names; return the frame and the unknown headers."""
    mapping: dict[str, str] = {}
    seen: dict[str, str] = {}
    unknown: list[str] = []
    rename_dup: dict[int, str] = {}
    for i, original in enumerate(frame.columns):
        canon = canonical_header(original)
        if canon is None:
            plain = unicodedata.normalize("NFKC", str(original)).strip().lower()
            canon = plain if plain in known else None
        if canon is None:
            unknown.append(str(original))
            continue
        if canon in seen:
            col.add(header_row, str(original),
                    f"header means the same column ({canon}) as '{seen[canon]}'")
            rename_dup[i] = f"column {i + 1}"
            continue
        seen[canon] = str(original)
        mapping[original] = canon
    names = [rename_dup.get(i, mapping.get(c, c)) for i, c in enumerate(frame.columns)]
    unknown += [rename_dup[i] for i in sorted(rename_dup)]
    return frame.set_axis(names, axis=1), unknown


def _filled(column: pd.Series) -> np.ndarray:
    """Cells that hold something: not missing, and for text not just white space."""
    if pd.api.types.is_numeric_dtype(column):
        return column.notna().to_numpy()
    codes, uniq = pd.factorize(column, use_na_sentinel=True)  # each distinct cell once
    text = pd.Series(uniq, dtype=object).astype("string").str.strip()
    filled = np.append((text.notna() & (text != "")).to_numpy(dtype=bool), False)
    return filled[np.where(codes < 0, len(uniq), codes)]


def _matches(column: pd.Series, pattern: re.Pattern) -> np.ndarray:
    """Cells whose stripped text matches ``pattern`` (each distinct cell tried once)."""
    codes, uniq = pd.factorize(column, use_na_sentinel=True)
    text = pd.Series(uniq, dtype=object).astype("string").str.strip()
    hit = np.append(text.str.match(pattern).fillna(False).to_numpy(dtype=bool), False)
    return hit[np.where(codes < 0, len(uniq), codes)]


def _blank_and_notes(frame: pd.DataFrame, spec: TableSpec, number_columns: Sequence[str],
                     known: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Blank rows and notes; ``known`` gives the filled cells of columns already parsed."""
    n = len(frame)
    filled = {c: known[c] if c in known else _filled(frame[c]) for c in frame.columns}
    blank = ~np.any([filled[c] for c in frame.columns], axis=0) if filled \
        else np.ones(n, dtype=bool)
    counts = [c for c in number_columns if c in frame.columns]
    keys = [c for c in spec.keys if c in frame.columns]
    if "unit" not in frame.columns and "name" in frame.columns:
        keys.append("name")
    no_counts = ~np.any([filled[c] for c in counts], axis=0) if counts \
        else np.ones(n, dtype=bool)
    noted = _matches(frame.iloc[:, 0], _NOTE_START) if frame.shape[1] \
        else np.zeros(0, dtype=bool)
    # a note: starts like a note, or fills only the first cell(s) and neither counts nor keys
    key_empty = ~np.all([filled[c] for c in keys], axis=0) if keys else np.ones(n, dtype=bool)
    if counts:
        note = ~blank & no_counts & (noted | key_empty)
    else:  # a table without counts (units): a row with an empty key is a problem, not a note
        first_only = np.sum([filled[c] for c in frame.columns], axis=0) == 1
        if frame.shape[1]:
            first_only &= filled[frame.columns[0]]
        note = ~blank & (noted | (key_empty & first_only))
    return blank, note


def _totals_mask(frame: pd.DataFrame) -> np.ndarray:
    mask = np.zeros(len(frame), dtype=bool)
    for c in ("unit", "name"):
        if c in frame.columns:
            mask |= normalise_keys(frame[c]).fillna("").str.lower() \
                .isin(TOTAL_LABELS).to_numpy()
    return mask


def _check_totals(numbers: dict[str, pd.Series], totals: np.ndarray, data_rows: np.ndarray,
                  col: Collector) -> None:
    """Compare each totals row with the sum of the data rows since the previous totals row."""
    if not totals.any():
        return
    block = np.cumsum(totals) - totals  # block id of each row: totals rows close a block
    for name, num in numbers.items():
        values = num.to_numpy()
        sums = pd.Series(np.where(data_rows, np.nan_to_num(values), 0.0)).groupby(block).sum()
        expect = sums.reindex(block[totals]).to_numpy()
        got = values[totals]
        wrong = ~np.isclose(got, expect, rtol=0, atol=1e-6) & ~np.isnan(got)
        tpos = np.flatnonzero(totals)
        for k in np.flatnonzero(wrong):
            col.add(int(col.rows[tpos[k]]), name,
                    f"totals row says {fmt(got[k])} but the rows above it sum to "
                    f"{fmt(expect[k])}")


@dataclass
class Walked:
    """A walked table: data rows, their report and collector, and parsed number columns.

    ``numbers`` holds float64 Series (NaN for empty or bad) for checks; ``exact`` the
    values to store (Int64 for counts, float64 for numbers). Positions and ``col.rows``
    refer to the data rows only.
    """

    data: pd.DataFrame
    report: LoadReport
    col: Collector
    numbers: dict[str, pd.Series]
    exact: dict[str, pd.Series]
    unknown: list[str]


def walk(path: str | Path, spec: TableSpec, *, header_row: int | None = None,
         sheet: str | int | None = None, extra_counts: Collection[str] = (),
         period: str | None = None) -> Walked:
    """Read a table file and sort, parse and account for its rows (see the module text).

    Parameters
    ----------
    path : str or Path
        File, or data directory holding ``<spec.name>.*``.
    spec : TableSpec
        The table's contract.
    header_row, sheet
        As for :func:`fpanalysis.reading.read_table`.
    extra_counts : collection of str
        Column names no contract knows that hold counts all the same (user indicators'
        columns): parsed and checked like the contract's count columns.

    Raises
    ------
    DataError
        Reading problems, duplicate or ragged headers or rows, missing required columns
        (except for ``units``, where the loader reports them).
    """
    file = find_file(path, spec.name)
    extra = tuple(c for c in dict.fromkeys(extra_counts) if c not in spec.columns)
    raw = read_table(file, spec, header_row=header_row, sheet=sheet, known=extra)
    frame, rows, hrow = raw.frame, raw.rows, raw.header_row
    col = Collector(str(file), rows)
    col.problems += raw.problems
    report = LoadReport(str(file), hrow, raw.encoding, rows_in=len(frame), sheet=raw.sheet)
    frame, unknown = _canonicalize(frame, extra, col, hrow)
    counts = spec.counts + extra
    first_cells = frame.iloc[:, 0].copy() if frame.shape[1] else None  # for note messages
    for k in spec.keys + ("name",):  # codes typed as numbers (Parquet) become text too
        if k in frame.columns and not isinstance(frame[k].dtype, pd.PeriodDtype):
            frame[k] = normalise_keys(frame[k])

    parsed_columns = {c: parse_numbers(frame[c], whole=c in counts)
                      for c in counts + spec.numbers if c in frame.columns}
    if file.suffix.lower() == ".parquet":  # typed columns: no title, totals or note rows
        blank = note = totals = np.zeros(len(frame), dtype=bool)
    else:
        blank, note = _blank_and_notes(frame, spec, counts + spec.numbers,
                                       {c: ~p.empty for c, p in parsed_columns.items()})
        totals = _totals_mask(frame) & ~blank
    note &= ~totals
    data_rows = ~(blank | note | totals)

    # a sheet of unit names instead of codes: the loader maps names to codes (or reports
    # the missing unit column when it has no units table)
    missing = [c for c in spec.required if c not in frame.columns
               and not (c == "unit" and "name" in frame.columns and spec.name != "units")
               and not (c == "period" and period is not None)]
    for c in missing:
        col.add(hrow, c, "required column is missing" + (
            " (a sheet of one period can be loaded with period=)" if c == "period" else ""))
    if period is not None and "period" in frame.columns:
        col.add(hrow, "period", "the file has a period column, so period= must not be given")
        col.raise_if_any()
    if missing and spec.name != "units":
        col.raise_if_any()

    numbers: dict[str, pd.Series] = {}
    exact: dict[str, pd.Series] = {}
    for c, parsed in parsed_columns.items():
        # a bad cell in a totals row is reported too: the row is set aside, not ignored
        col.at(parsed.bad & (data_rows | totals), c, lambda p, m=parsed.messages: m[int(p)])
        num = parsed.value
        if c in counts:
            with np.errstate(invalid="ignore"):
                col.at((num.to_numpy() < 0) & data_rows, c,
                       lambda p, num=num: f"negative count: {fmt(num.iloc[p])}")
                frac = ~np.isnan(num.to_numpy()) & (np.mod(num.fillna(0).to_numpy(), 1) != 0)
            col.at(frac & data_rows, c,
                   lambda p, num=num: f"count is not a whole number: {num.iloc[p]:g}")
        numbers[c] = num
        exact[c] = parsed.exact
    _check_totals({c: numbers[c] for c in counts if c in numbers}, totals, data_rows, col)

    for k in spec.keys:
        if k in frame.columns and k != "period":
            empty = (frame[k].astype("string").fillna("").str.strip() == "").to_numpy()
            col.at(empty & data_rows, k, f"{k} is empty")

    for pos in np.flatnonzero(blank):
        report.skipped.append((int(rows[pos]), "blank row"))
    for pos in np.flatnonzero(note):
        first = str(first_cells.iloc[pos]).strip()[:40]
        report.skipped.append((int(rows[pos]), f"note below or beside the table: {first!r}"))
    for pos in np.flatnonzero(totals):
        report.skipped.append((int(rows[pos]), "totals row (checked against the rows above)"))
    report.skipped.sort()
    keep = np.flatnonzero(data_rows)
    data = frame.iloc[keep].reset_index(drop=True)
    unnamed = [u for u in unknown if u.startswith("column ") and not _filled(data[u]).any()]
    data = data.drop(columns=unnamed)  # empty columns without a header: nothing to keep
    report.unknown_columns = [u for u in unknown if u not in unnamed]
    for u in report.unknown_columns:  # kept as text; an empty cell is missing
        if not pd.api.types.is_numeric_dtype(data[u]):
            text = data[u].astype("string").str.strip()
            data[u] = text.astype(object).where(text.notna() & (text != ""), np.nan)
    if period is not None:
        data["period"] = pd.Series(period, index=data.index, dtype=object)
    col.rows = rows[keep]  # from here on, positions refer to the data rows
    numbers = {c: n.iloc[keep].reset_index(drop=True) for c, n in numbers.items()}
    exact = {c: n.iloc[keep].reset_index(drop=True) for c, n in exact.items()}
    report.rows_used = len(data)
    return Walked(data, report, col, numbers, exact, unknown)
