"""Load counts, units, audits and targets, validating every row against the contracts.

Files come as county offices make them: CSV in UTF-8 (with or without BOM) or GB18030/GBK,
Excel workbooks, or Parquet; English or Chinese headers; one or two title lines above the
header; a totals row (合计/总计); notes below the table. The loaders find the header row,
check totals rows against the rows above them, set notes aside, and validate the rest. Every
problem is collected and raised together in one :class:`~fpanalysis.schema.DataError` naming
file, row (as numbered in the file), column and rule. Nothing is dropped silently: each loaded
frame carries a :class:`LoadReport` in ``frame.attrs["load_report"]`` with
``rows_in == rows_used + len(skipped)``.
"""

from __future__ import annotations

import csv
import io as _io
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from .periods import Dekad, parse_series
from .schema import (
    AGE_GROUPS,
    AUDITS,
    COUNTS,
    LEVELS,
    SCORES,
    SERVICES,
    TOTAL_LABELS,
    UNITS,
    VALUES,
    DataError,
    Problem,
    TableSpec,
    canonical_header,
)

__all__ = [
    "LoadReport",
    "find_file",
    "load_audits",
    "load_counts",
    "load_scores",
    "load_targets",
    "load_units",
    "load_values",
]

_SUFFIXES = (".csv", ".xlsx", ".parquet")
_NOTE_START = re.compile(
    r"^\s*(注|说明|备注|填报|制表|审核|负责人|单位负责人|数据来源|note|source)", re.I)
_LEVEL_ALIASES = {"县": "county", "县级": "county", "区": "county", "乡": "township",
                  "镇": "township", "乡镇": "township", "街道": "township", "村": "village",
                  "社区": "village", "村居": "village"}
_MAX_HEADER_SCAN = 30


@dataclass
class LoadReport:
    """What happened to every row of a loaded file.

    ``rows_in`` counts the rows below the header; each is either used or listed in
    ``skipped`` with its row number and the reason (blank, note, checked totals row).
    """

    file: str
    header_row: int | None
    encoding: str | None
    rows_in: int = 0
    rows_used: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)

    def __str__(self) -> str:
        text = (f"{self.file}: {self.rows_in} rows read, {self.rows_used} used, "
                f"{len(self.skipped)} set aside")
        for row, why in self.skipped:
            text += f"\n  row {row}: {why}"
        return text


# --------------------------------------------------------------------------- reading


def find_file(path: str | Path, name: str) -> Path:
    """Return ``path`` if it is a file, else ``<path>/<name>.{csv,xlsx,parquet}``.

    Raises
    ------
    FileNotFoundError
        If neither exists.
    """
    p = Path(path)
    if p.is_file():
        return p
    if p.is_dir():
        for suffix in _SUFFIXES:
            candidate = p / f"{name}{suffix}"
            if candidate.is_file():
                return candidate
        raise FileNotFoundError(
            f"no {name}.csv, {name}.xlsx or {name}.parquet in directory {p}")
    raise FileNotFoundError(f"no such file or directory: {p}")


def _decode(raw: bytes) -> tuple[str, str]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise UnicodeDecodeError("gb18030", raw, 0, 1, "neither UTF-8 nor GB18030")


def _header_score(cells: Iterable[object], spec: TableSpec) -> int:
    names = {canonical_header(c) for c in cells}
    return len(names & set(spec.columns))


def _find_header(rows: list[list[object]], spec: TableSpec) -> int | None:
    best, best_score = None, 1
    for i, cells in enumerate(rows[:_MAX_HEADER_SCAN]):
        score = _header_score(cells, spec)
        if score > best_score:
            best, best_score = i, score
    return best


def _cell_text(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, pd.Timestamp | np.datetime64) or hasattr(value, "strftime"):
        return pd.Timestamp(value).strftime("%Y-%m")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _read(path: Path, spec: TableSpec, header_row: int | None
          ) -> tuple[pd.DataFrame, np.ndarray, int | None, str | None]:
    """Read a file into a frame of cells with its file row numbers.

    Returns the frame (original headers), row numbers (1-based as in the file), the header's
    row number and the text encoding (CSV only). Raises DataError for an empty or unreadable
    file.
    """
    name = str(path)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        frame = pd.read_parquet(path)
        if frame.empty:
            raise DataError([Problem(name, None, None, "the file is empty (no data rows)")])
        return frame.reset_index(drop=True), np.arange(1, len(frame) + 1), None, None
    if suffix in (".xlsx", ".xlsm"):
        raw = pd.read_excel(path, header=None, dtype=object, sheet_name=0)
        rows = raw.to_numpy().tolist()
        encoding = None
    elif suffix in (".csv", ".txt"):
        data = path.read_bytes()
        if not data.strip():
            raise DataError([Problem(name, None, None, "the file is empty")])
        text, encoding = _decode(data)
        rows = list(csv.reader(_io.StringIO("\n".join(text.splitlines()[:_MAX_HEADER_SCAN]))))
    else:
        raise DataError([Problem(name, None, None,
                                 f"unsupported file type {suffix!r}; use .csv, .xlsx or .parquet")])
    if not any(any(_cell_text(c) for c in r) for r in rows):
        raise DataError([Problem(name, None, None, "the file is empty")])
    if header_row is None:
        h = _find_header(rows, spec)
        if h is None:
            raise DataError([Problem(
                name, None, None,
                "no header row found in the first 30 rows: expected columns such as "
                + ", ".join(spec.required))])
    else:
        h = header_row - 1
    if suffix in (".csv", ".txt"):
        # count columns are read as numbers where every cell is one (the fast, common case);
        # a column with any other text stays text and is checked cell by cell. Codes, names,
        # periods and unknown columns are always text ("0101" keeps its zero).
        header = rows[h] if h < len(rows) else []
        numeric = set(spec.counts) | set(spec.numbers)
        text_cols = {c: str for c in header if canonical_header(c) not in numeric}
        try:
            frame = pd.read_csv(_io.StringIO(text), skiprows=h, header=0, dtype=text_cols,
                                keep_default_na=False, na_values=[""],
                                skip_blank_lines=False)
        except pd.errors.ParserError as exc:
            raise DataError([Problem(name, None, None, f"CSV cannot be parsed: {exc}")]) from exc
    else:
        body = raw.iloc[h + 1:].reset_index(drop=True)
        body.columns = [_cell_text(c) or f"column {i + 1}" for i, c in enumerate(raw.iloc[h])]
        frame = body.map(_cell_text)
    rownum = np.arange(h + 2, h + 2 + len(frame))
    return frame, rownum, h + 1, encoding


# --------------------------------------------------------------------------- checks


class _Collector:
    """Collects problems for one file; ``rows`` maps frame positions to file rows."""

    def __init__(self, file: str, rows: np.ndarray):
        self.file = file
        self.rows = rows
        self.problems: list[Problem] = []

    def at(self, mask: np.ndarray | pd.Series, column: str | None, message) -> None:
        """Add one problem per True position; ``message`` is a str or f(position) -> str."""
        positions = np.flatnonzero(np.asarray(mask, dtype=bool))
        for pos in positions:
            text = message(pos) if callable(message) else message
            self.problems.append(Problem(self.file, int(self.rows[pos]), column, text))

    def add(self, row: int | None, column: str | None, message: str) -> None:
        self.problems.append(Problem(self.file, row, column, message))


def _canonicalize(frame: pd.DataFrame, spec: TableSpec, col: _Collector,
                  header_row: int | None) -> pd.DataFrame:
    mapping: dict[str, str] = {}
    seen: dict[str, str] = {}
    for original in frame.columns:
        canon = canonical_header(original)
        if canon is None:
            continue
        if canon in seen:
            col.add(header_row, str(original),
                    f"header means the same column ({canon}) as '{seen[canon]}'")
            continue
        seen[canon] = str(original)
        mapping[original] = canon
    return frame.rename(columns=mapping)


def _numeric(values: pd.Series) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Parse counts; return numbers (NaN for empty or bad), empty mask, non-numeric mask."""
    if pd.api.types.is_numeric_dtype(values):
        num = values.astype(float)
        empty = num.isna().to_numpy()
        return num, empty, np.zeros(len(values), dtype=bool)
    text = values.astype("string").fillna("").str.strip().str.replace(",", "", regex=False)
    empty = (text == "").to_numpy()
    num = pd.to_numeric(text.where(~empty), errors="coerce").astype(float)
    bad = num.isna().to_numpy() & ~empty
    return num, empty, bad


def _filled(column: pd.Series) -> np.ndarray:
    """Cells that hold something: not missing, and for text not just white space."""
    if pd.api.types.is_numeric_dtype(column):
        return column.notna().to_numpy()
    text = column.astype("string").str.strip()
    return (text.notna() & (text != "")).to_numpy()


def _blank_and_notes(frame: pd.DataFrame, spec: TableSpec) -> tuple[np.ndarray, np.ndarray]:
    n = len(frame)
    filled = {c: _filled(frame[c]) for c in frame.columns}
    blank = ~np.any([filled[c] for c in frame.columns], axis=0) if filled \
        else np.ones(n, dtype=bool)
    counts = [c for c in spec.counts + spec.numbers if c in frame.columns]
    keys = [c for c in spec.keys if c in frame.columns]
    no_counts = ~np.any([filled[c] for c in counts], axis=0) if counts \
        else np.ones(n, dtype=bool)
    first = frame.iloc[:, 0].astype("string").str.strip() if frame.shape[1] \
        else pd.Series([], dtype="string")
    noted = first.str.match(_NOTE_START).fillna(False).to_numpy(dtype=bool)
    # a note: starts like a note, or fills only the first cell(s) and neither counts nor keys
    key_empty = ~np.all([filled[c] for c in keys], axis=0) if keys else np.ones(n, dtype=bool)
    note = ~blank & no_counts & (noted | key_empty)
    return blank, note


def _totals_mask(frame: pd.DataFrame) -> np.ndarray:
    mask = np.zeros(len(frame), dtype=bool)
    for c in ("unit", "name"):
        if c in frame.columns:
            mask |= frame[c].astype("string").fillna("").str.strip().str.lower() \
                .isin(TOTAL_LABELS).to_numpy()
    return mask


def _check_totals(frame: pd.DataFrame, numbers: dict[str, pd.Series], totals: np.ndarray,
                  data_rows: np.ndarray, col: _Collector) -> None:
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
                    f"totals row says {_fmt(got[k])} but the rows above it sum to "
                    f"{_fmt(expect[k])}")


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _load_table(path: str | Path, spec: TableSpec, *, header_row: int | None,
                units: pd.DataFrame | None) -> tuple[pd.DataFrame, LoadReport, _Collector,
                                                     dict[str, pd.Series]]:
    file = find_file(path, spec.name)
    frame, rows, hrow, encoding = _read(file, spec, header_row)
    col = _Collector(str(file), rows)
    report = LoadReport(str(file), hrow, encoding, rows_in=len(frame))
    frame = _canonicalize(frame, spec, col, hrow)

    # name -> unit code, for sheets that carry only unit names
    if "unit" not in frame.columns and "name" in frame.columns and units is not None:
        by_name = dict(zip(units["name"], units["unit"], strict=True))
        names = frame["name"].astype("string").fillna("").str.strip()
        frame["unit"] = names.map(by_name).fillna(names)

    if file.suffix.lower() == ".parquet":  # typed columns: no title, totals or note rows
        blank = note = totals = np.zeros(len(frame), dtype=bool)
    else:
        blank, note = _blank_and_notes(frame, spec)
        totals = _totals_mask(frame) & ~blank
    note &= ~totals
    data_rows = ~(blank | note | totals)

    missing = [c for c in spec.required if c not in frame.columns]
    for c in missing:
        col.add(hrow, c, "required column is missing")
    if missing and spec.name != "units":
        raise DataError(col.problems)

    numbers: dict[str, pd.Series] = {}
    for c in spec.counts:
        if c not in frame.columns:
            continue
        num, empty, bad = _numeric(frame[c])
        raw = frame[c]
        col.at(bad & data_rows, c, lambda p, raw=raw: f"not a number: {str(raw.iloc[p])!r}")
        col.at((num.to_numpy() < 0) & data_rows, c,
               lambda p, num=num: f"negative count: {_fmt(num.iloc[p])}")
        frac = ~np.isnan(num.to_numpy()) & (np.mod(num.fillna(0).to_numpy(), 1) != 0)
        col.at(frac & data_rows, c, lambda p, num=num: f"count is not a whole number: "
                                                      f"{num.iloc[p]:g}")
        numbers[c] = num
    for c in spec.numbers:  # real numbers: only their form is checked here
        if c in frame.columns:
            num, empty, bad = _numeric(frame[c])
            raw = frame[c]
            col.at(bad & data_rows, c, lambda p, raw=raw: f"not a number: {str(raw.iloc[p])!r}")
            numbers[c] = num
    _check_totals(frame, {c: numbers[c] for c in spec.counts if c in numbers}, totals,
                  data_rows, col)

    for k in spec.keys:
        if k in frame.columns and k != "period":
            empty = (frame[k].astype("string").fillna("").str.strip() == "").to_numpy()
            col.at(empty & data_rows, k, f"{k} is empty")

    for pos in np.flatnonzero(blank):
        report.skipped.append((int(rows[pos]), "blank row"))
    for pos in np.flatnonzero(note):
        first = str(frame.iloc[pos, 0])[:40]
        report.skipped.append((int(rows[pos]), f"note below or beside the table: {first!r}"))
    for pos in np.flatnonzero(totals):
        report.skipped.append((int(rows[pos]), "totals row (checked against the rows above)"))
    report.skipped.sort()

    keep = np.flatnonzero(data_rows)
    data = frame.iloc[keep].reset_index(drop=True)
    col.rows = rows[keep]  # from here on, positions refer to the data rows
    numbers = {c: n.iloc[keep].reset_index(drop=True) for c, n in numbers.items()}
    report.rows_used = len(data)
    return data, report, col, numbers


def _period_kind(p: object) -> str:
    if isinstance(p, pd.Period):
        return {"M": "month", "Q": "quarter", "Y": "year"}[p.freqstr[0]]
    if isinstance(p, Dekad):
        return "dekad"
    return "half-year" if "H" in str(p) else "span of months"


def _check_periods(data: pd.DataFrame, col: _Collector, rows: np.ndarray,
                   one_kind: bool = True) -> None:
    """Parse the period column; with ``one_kind`` every period must be of the file's main
    kind (months, quarters ...), since counts of different lengths cannot sit in one table."""
    if "period" not in data.columns:
        return
    parsed, bad = parse_series(data["period"])
    text = data["period"].astype("string").fillna("")
    sub = _Collector(col.file, rows)
    sub.at(bad.to_numpy(), "period",
           lambda p: f"cannot read period {text.iloc[p]!r} (expected e.g. 2024-07, 2024Q3, "
                     "2024-07-D2, 2024年7月)" if text.iloc[p].strip() else "period is empty")
    if one_kind and not bad.all():
        kinds = parsed[~bad].map({p: _period_kind(p) for p in pd.unique(parsed[~bad])})
        main = kinds.value_counts().index[0]
        other = np.zeros(len(parsed), dtype=bool)
        other[np.flatnonzero(~bad.to_numpy())] = (kinds != main).to_numpy()
        sub.at(other, "period",
               lambda p: f"period {text.iloc[p]!r} is a {_period_kind(parsed.iloc[p])}, but this "
                         f"file holds {main} periods (one kind of period per file)")
    col.problems += sub.problems
    data["period"] = parsed


def _check_duplicates(data: pd.DataFrame, keys: Sequence[str], col: _Collector,
                      rows: np.ndarray) -> None:
    keys = [k for k in keys if k in data.columns]
    if not keys:
        return
    keyframe = data[keys].astype("string")
    complete = keyframe.notna().all(axis=1).to_numpy()  # bad keys are reported elsewhere
    dup = keyframe.duplicated(keep=False).to_numpy() & complete
    if not dup.any():
        return
    first_row = keyframe.assign(_row=rows).groupby(keys, dropna=False)["_row"].transform("min")
    later = keyframe.duplicated(keep="first").to_numpy() & complete
    sub = _Collector(col.file, rows)
    sub.at(later, ", ".join(keys),
           lambda p: f"duplicate ({', '.join(map(str, keyframe.iloc[p]))}): "
                     f"same key as row {first_row.iloc[p]}")
    col.problems += sub.problems


def _check_units_known(data: pd.DataFrame, units: pd.DataFrame | None, col: _Collector,
                       rows: np.ndarray) -> None:
    if units is None or "unit" not in data.columns:
        return
    codes = data["unit"].astype("string").fillna("").str.strip()
    unknown = (~codes.isin(set(units["unit"])) & (codes != "")).to_numpy()
    sub = _Collector(col.file, rows)
    sub.at(unknown, "unit", lambda p: f"unknown unit code {codes.iloc[p]!r} (not in units)")
    col.problems += sub.problems


def _finish_counts(data: pd.DataFrame, numbers: dict[str, pd.Series]) -> pd.DataFrame:
    for c, num in numbers.items():
        data[c] = num.round().astype("Int64")
    if "population" not in data.columns and {"population_start", "population_end"} <= set(data):
        data["population"] = (data["population_start"].astype("Float64")
                              + data["population_end"].astype("Float64")) / 2
    data["unit"] = data["unit"].astype("string").str.strip()
    cols = ["unit", "period"] + [c for c in data.columns if c not in ("unit", "period")]
    return data[cols].sort_values(["unit", "period"], kind="stable").reset_index(drop=True)


def _consistency(data: pd.DataFrame, n: dict[str, pd.Series], col: _Collector,
                 rows: np.ndarray) -> None:
    """Rules between columns of one counts row (all vectorized)."""
    sub = _Collector(col.file, rows)

    def v(c: str) -> np.ndarray:
        return n[c].to_numpy()

    def f(x: float) -> str:
        return _fmt(x)

    if {"births", "births_male", "births_female"} <= set(n):
        s = v("births_male") + v("births_female")
        wrong = ~np.isnan(s) & ~np.isnan(v("births")) & (s != v("births"))
        sub.at(wrong, "births", lambda p: f"male + female births = {f(s[p])} but total births "
                                          f"= {f(v('births')[p])}")
    for sex in ("male", "female"):
        parts = [f"births_{sex}_{o}" for o in ("o1", "o2", "o3p")]
        if set(parts) <= set(n) and f"births_{sex}" in n:
            s = sum(v(c) for c in parts)
            wrong = ~np.isnan(s) & ~np.isnan(v(f"births_{sex}")) & (s != v(f"births_{sex}"))
            sub.at(wrong, f"births_{sex}",
                   lambda p, s=s, sex=sex: f"{sex} births by order sum to {f(s[p])} but "
                                           f"births_{sex} = {f(v(f'births_{sex}')[p])}")
    births = None
    if "births" in n:
        births = v("births")
    elif {"births_male", "births_female"} <= set(n):
        births = v("births_male") + v("births_female")
    if births is not None:
        pops = [c for c in ("population", "population_start", "population_end") if c in n]
        for c in pops:
            zero = (v(c) == 0) & (births > 0)
            sub.at(zero, c, lambda p, births=births: f"population is 0 but there are "
                                                     f"{f(births[p])} births")
        if "births_compliant" in n:
            over = v("births_compliant") > births
            sub.at(over, "births_compliant",
                   lambda p, births=births: f"births complying with policy "
                   f"({f(v('births_compliant')[p])}) exceed births ({f(births[p])})")
        ages = [f"births_age_{a}" for a in AGE_GROUPS]
        if set(ages) <= set(n):
            s = sum(v(c) for c in ages)
            over = s > births
            sub.at(over, "births_age_15_19",
                   lambda p, s=s, births=births: f"births by mother's age sum to {f(s[p])}, "
                   f"more than births ({f(births[p])})")
    women = [f"women_{a}" for a in AGE_GROUPS]
    if set(women) <= set(n) and "women_15_49" in n:
        s = sum(v(c) for c in women)
        wrong = ~np.isnan(s) & ~np.isnan(v("women_15_49")) & (s != v("women_15_49"))
        sub.at(wrong, "women_15_49", lambda p, s=s: f"women by age group sum to {f(s[p])} but "
                                                    f"women_15_49 = {f(v('women_15_49')[p])}")
    if {"deaths_infant", "deaths"} <= set(n):
        over = v("deaths_infant") > v("deaths")
        sub.at(over, "deaths_infant", lambda p: f"infant deaths ({f(v('deaths_infant')[p])}) "
                                                f"exceed deaths ({f(v('deaths')[p])})")
    for s in SERVICES:
        if s.kind == "coverage" and {s.numerator, s.denominator} <= set(n):
            over = v(s.numerator) > v(s.denominator)
            sub.at(over, s.numerator,
                   lambda p, s=s: f"{s.numerator} ({f(v(s.numerator)[p])}) exceeds "
                                  f"{s.denominator} ({f(v(s.denominator)[p])})")
    for a, b in (("births_male", "births_female"),) + tuple(
            (s.numerator, s.denominator) for s in SERVICES):
        if (a in data.columns) != (b in data.columns):
            present, absent = (a, b) if a in data.columns else (b, a)
            col.add(None, absent, f"column is missing although its pair '{present}' is given")
    col.problems += sub.problems


# --------------------------------------------------------------------------- public loaders


def _flagged(col: _Collector, column: str) -> np.ndarray:
    """Data rows that already have a problem in ``column`` (so a cell is reported once)."""
    rows = [p.row for p in col.problems if p.column == column]
    return np.isin(col.rows, rows)


def _units_table(path: str | Path, units: pd.DataFrame | str | Path | None
                 ) -> pd.DataFrame | None:
    """The unit table to check codes against: as given, loaded from where it is given, or
    ``units.*`` beside the data when ``path`` is a directory that has one."""
    if isinstance(units, pd.DataFrame):
        return units
    if units is not None:
        return load_units(units)
    if Path(path).is_dir():
        try:
            return load_units(path)
        except FileNotFoundError:
            return None
    return None


def load_units(path: str | Path, *, header_row: int | None = None) -> pd.DataFrame:
    """Load the unit hierarchy (county -> township -> village).

    Parameters
    ----------
    path : str or Path
        A file, or a data directory holding ``units.csv`` (or ``.xlsx``/``.parquet``).
    header_row : int, optional
        Row number (1-based, as in the file) of the header; found automatically if omitted.

    Returns
    -------
    pandas.DataFrame
        ``unit`` (code), ``name``, ``parent`` (code, ``<NA>`` at the top), ``level``
        (county/township/village), sorted by ``unit``.

    Raises
    ------
    DataError
        Missing column, empty or duplicate code, unknown level, unknown parent, a parent
        cycle, or a parent not one level up.
    """
    data, report, col, _ = _load_table(path, UNITS, header_row=header_row, units=None)
    rows = col.rows
    if col.problems and any(p.message == "required column is missing" for p in col.problems):
        raise DataError(col.problems)
    for c in ("unit", "name", "parent", "level"):
        data[c] = data[c].astype("string").fillna("").str.strip()
    data["level"] = data["level"].str.lower().replace(_LEVEL_ALIASES)
    col.at(~data["level"].isin(LEVELS).to_numpy(), "level",
           lambda p: f"unknown level {data['level'].iloc[p]!r} (expected one of "
                     f"{', '.join(LEVELS)})")
    _check_duplicates(data, ["unit"], col, rows)
    codes = set(data["unit"])
    parent = data["parent"]
    orphan = ((parent != "") & ~parent.isin(codes)).to_numpy()
    col.at(orphan, "parent", lambda p: f"parent {parent.iloc[p]!r} is not a unit in this file")
    # cycles: walk every unit up the hierarchy at once; a valid chain ends within a few
    # steps, so only units still climbing (those in or above a cycle) are walked further
    up = pd.Series(parent.to_numpy(), index=data["unit"].to_numpy())
    up = up[~up.index.duplicated()]
    current = parent.where(~pd.Series(orphan), "")
    climbing = np.flatnonzero(current != "")
    for _ in range(len(data)):
        if not len(climbing):
            break
        nxt = current.iloc[climbing].map(up).fillna("")
        current.iloc[climbing] = nxt.to_numpy()
        climbing = climbing[(nxt != "").to_numpy()]
    cyc = np.zeros(len(data), dtype=bool)
    cyc[climbing] = True
    for pos in climbing:
        chain, c = [data["unit"].iloc[pos]], up[data["unit"].iloc[pos]]
        while c not in chain and c:
            chain.append(c)
            c = up.get(c, "")
        col.add(int(rows[pos]), "parent", f"parent cycle: {' -> '.join(chain + [c])}")
    rank = {lv: i for i, lv in enumerate(LEVELS)}
    level_rank = data["level"].map(rank)
    parent_rank = parent.map(pd.Series(level_rank.to_numpy(), index=data["unit"].to_numpy())
                             .groupby(level=0).first())
    wrong = (parent_rank.notna() & level_rank.notna()
             & (parent_rank != level_rank - 1)).to_numpy() & ~cyc
    col.at(wrong, "parent",
           lambda p: f"a {data['level'].iloc[p]}'s parent must be one level up, but "
                     f"{parent.iloc[p]!r} is a {LEVELS[int(parent_rank.iloc[p])]}")
    if col.problems:
        raise DataError(sorted(col.problems, key=lambda p: (p.row or 0)))
    data["parent"] = data["parent"].replace("", pd.NA)
    out = data[["unit", "name", "parent", "level"]].sort_values("unit", kind="stable")
    out = out.reset_index(drop=True)
    out.attrs["load_report"] = report
    return out


def load_counts(path: str | Path, *, units: pd.DataFrame | str | Path | None = None,
                header_row: int | None = None) -> pd.DataFrame:
    """Load and validate a counts table (one row per unit and period).

    Parameters
    ----------
    path : str or Path
        A ``.csv`` (UTF-8, UTF-8 with BOM, GB18030/GBK), ``.xlsx`` or ``.parquet`` file, or
        a data directory holding ``counts.*``.
    units : DataFrame or path, optional
        The unit table (or where to load it from). Unit codes not in it are reported; sheets
        that carry unit names instead of codes are mapped through it. When ``path`` is a
        directory with ``units.*`` and ``units`` is omitted, that table is used.
    header_row : int, optional
        Row number of the header in the file; found automatically if omitted.

    Returns
    -------
    pandas.DataFrame
        ``unit``, ``period`` (``period[M]`` for monthly data), then the count columns present
        as nullable ``Int64`` (a gap stays ``<NA>``), sorted by unit and period. When only
        ``population_start``/``population_end`` are given, ``population`` is their mean.
        ``attrs["load_report"]`` holds the :class:`LoadReport`.

    Raises
    ------
    DataError
        With every problem: missing required column, non-numeric, negative or fractional
        count, male + female births not equal to births, order or age breakdowns that do not
        add up, duplicate (unit, period), unknown unit, unreadable period, empty file,
        population 0 with births, a totals row that does not match the rows above it,
        numerators above their denominators.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "c.csv").write_text(
    ...     "县乡镇出生统计表\\n乡镇代码,期间,男,女,死亡数,平均人口\\n"
    ...     "101,2024年7月,5,4,3,10000\\n102,2024年7月,2,3,2,5000\\n合计,,7,7,5,15000\\n",
    ...     encoding="gb18030")
    >>> c = load_counts(d / "c.csv")
    >>> c[["unit", "period", "births_male", "births_female"]]
      unit   period  births_male  births_female
    0  101  2024-07            5              4
    1  102  2024-07            2              3
    >>> rep = c.attrs["load_report"]
    >>> rep.rows_in, rep.rows_used, rep.skipped
    (3, 2, [(5, 'totals row (checked against the rows above)')])
    """
    units = _units_table(path, units)
    data, report, col, numbers = _load_table(path, COUNTS, header_row=header_row, units=units)
    rows = col.rows
    _check_periods(data, col, rows)
    _check_duplicates(data, COUNTS.keys, col, rows)
    _check_units_known(data, units, col, rows)
    _consistency(data, numbers, col, rows)
    if col.problems:
        raise DataError(sorted(col.problems, key=lambda p: (p.row or 0)))
    out = _finish_counts(data, numbers)
    out.attrs["load_report"] = report
    return out


def load_audits(path: str | Path, *, units: pd.DataFrame | str | Path | None = None,
                header_row: int | None = None) -> pd.DataFrame:
    """Load audit re-checks: per unit, period and item, how many reported cases were checked
    and how many of those were found false.

    Returns
    -------
    pandas.DataFrame
        ``unit``, ``period``, ``item``, ``reported``, ``checked``, ``false_found``.

    Raises
    ------
    DataError
        Missing column, bad count, checked > reported, false_found > checked, duplicate
        (unit, period, item), unknown unit, unreadable period.
    """
    units = _units_table(path, units)
    data, report, col, n = _load_table(path, AUDITS, header_row=header_row, units=units)
    rows = col.rows
    _check_periods(data, col, rows)
    _check_duplicates(data, AUDITS.keys, col, rows)
    _check_units_known(data, units, col, rows)
    sub = _Collector(col.file, rows)
    if {"checked", "reported", "false_found"} <= set(n):
        c, r, fl = (n[k].to_numpy() for k in ("checked", "reported", "false_found"))
        sub.at(c > r, "checked", lambda p: f"checked ({_fmt(c[p])}) exceeds reported "
                                           f"({_fmt(r[p])})")
        sub.at(fl > c, "false_found", lambda p: f"false_found ({_fmt(fl[p])}) exceeds checked "
                                                f"({_fmt(c[p])})")
    col.problems += sub.problems
    if col.problems:
        raise DataError(sorted(col.problems, key=lambda p: (p.row or 0)))
    for k, num in n.items():
        data[k] = num.round().astype("Int64")
    data["unit"] = data["unit"].astype("string").str.strip()
    data["item"] = data["item"].astype("string").str.strip()
    out = data[list(AUDITS.required)].sort_values(["unit", "period", "item"], kind="stable")
    out = out.reset_index(drop=True)
    out.attrs["load_report"] = report
    return out


_TARGET_KEYS = {"indicator": str, "op": str, "threshold": (int, float), "points": (int, float),
                "weight": (int, float), "scoring": str, "periods": list, "label": str,
                "floor": (int, float), "per_event": (int, float), "unit_thresholds": dict,
                "unit_thresholds_file": str}
_SCHEME_KEYS = {"name": str, "total_points": (int, float), "total_weight": (int, float),
                "county_weight": (int, float), "city_weight": (int, float), "tier_size": int}
_SCORING = ("all_or_nothing", "linear", "per_event")
_SCOPES = ("month", "quarter", "half_year", "year", "ytd")


def _type_name(want: type | tuple[type, ...]) -> str:
    return " or ".join(w.__name__ for w in want) if isinstance(want, tuple) else want.__name__


def load_targets(path: str | Path, *, indicators: Iterable[str] | None = None) -> pd.DataFrame:
    """Load an assessment scheme: targets and their scoring, from a TOML file.

    Each ``[[target]]`` table has ``indicator``, ``op`` (``<=`` or ``>=``), ``threshold``
    (in the indicator's display unit: per mille, per cent, males per 100 females; compared
    unrounded), ``points``, ``weight`` (default 1), ``scoring`` (``all_or_nothing``;
    ``linear`` from 0 points at ``floor`` to full points at the threshold; ``per_event``:
    ``per_event`` points off for each counted event, never below 0), ``periods`` (any of
    month, quarter, half_year, year, ytd; default quarter and year) and an optional
    ``label``. A threshold is county-wide unless overridden per unit, in a
    ``[target.unit_thresholds]`` table (unit code = threshold) or in a CSV named by
    ``unit_thresholds_file`` (columns ``unit``, ``threshold``; relative to the TOML file).
    An optional ``[scheme]`` table declares ``total_points`` / ``total_weight`` (checked
    against the targets), ``county_weight`` and ``city_weight`` (year-end combination,
    default 0.6 and 0.4) and ``tier_size`` (default 3); it is returned in
    ``frame.attrs["scheme"]``.

    Parameters
    ----------
    path : str or Path
        The TOML file, or a data directory holding ``targets.toml``.
    indicators : iterable of str, optional
        Known indicator keys (built-in and supplied); a target naming another is reported.

    Returns
    -------
    pandas.DataFrame
        One row per target: ``target`` (number, from 1), ``indicator``, ``label``, ``op``,
        ``threshold``, ``points``, ``weight``, ``scoring``, ``floor``, ``per_event``,
        ``periods`` (tuple) and ``unit_thresholds`` (dict unit -> threshold).

    Raises
    ------
    DataError
        Every problem, naming the target (number and indicator) and the key: unknown
        indicator or key, bad op, a value of the wrong type, a linear target without a floor
        (or with the floor on the wrong side), weights or points that do not sum as declared.
    """
    p = Path(path)
    file = p / "targets.toml" if p.is_dir() else p
    if not file.is_file():
        raise FileNotFoundError(f"no targets file {file}")
    try:
        doc = tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise DataError([Problem(str(file), None, None, f"not valid TOML: {exc}")]) from exc
    problems: list[Problem] = []
    scheme = {"name": "", "county_weight": 0.6, "city_weight": 0.4, "tier_size": 3}
    for key, value in doc.get("scheme", {}).items():
        if key not in _SCHEME_KEYS:
            problems.append(Problem(str(file), None, key, "scheme: unknown key"))
        elif isinstance(value, bool) or not isinstance(value, _SCHEME_KEYS[key]):
            problems.append(Problem(str(file), None, key, f"scheme: must be a "
                                    f"{_type_name(_SCHEME_KEYS[key])}, got {value!r}"))
        else:
            scheme[key] = value
    targets = doc.get("target", [])
    if not targets:
        problems.append(Problem(str(file), None, "target", "no [[target]] tables in the file"))
    known = set(indicators) if indicators is not None else None
    rows = []
    for i, t in enumerate(targets, start=1):
        where = f"target {i} ({t.get('indicator', '?')})"

        def bad(key: str, msg: str, where: str = where) -> None:
            problems.append(Problem(str(file), None, key, f"{where}: {msg}"))

        for key in ("indicator", "op", "threshold", "points"):
            if key not in t:
                bad(key, "required key is missing")
        typed_ok = True
        for key, value in t.items():
            if key not in _TARGET_KEYS:
                bad(key, "unknown key")
            elif isinstance(value, bool) or not isinstance(value, _TARGET_KEYS[key]):
                bad(key, f"must be a {_type_name(_TARGET_KEYS[key])}, got {value!r}")
                typed_ok = False
        op = t.get("op")
        if "op" in t and op not in ("<=", ">="):
            bad("op", f"must be '<=' or '>=', got {op!r}")
        scoring = t.get("scoring", "all_or_nothing")
        if scoring not in _SCORING:
            bad("scoring", f"must be one of {', '.join(_SCORING)}, got {scoring!r}")
        if scoring == "linear" and "floor" not in t:
            bad("floor", "linear scoring needs a floor")
        elif scoring == "linear" and typed_ok and op in ("<=", ">=") and "threshold" in t:
            if (op == ">=" and t["floor"] >= t["threshold"]) or \
                    (op == "<=" and t["floor"] <= t["threshold"]):
                side = "below" if op == ">=" else "above"
                bad("floor", f"the floor must lie {side} the threshold for op {op!r}")
        if scoring == "per_event" and "per_event" not in t:
            bad("per_event", "per_event scoring needs the points deducted per event")
        for scope in t.get("periods", []) if isinstance(t.get("periods"), list) else []:
            if scope not in _SCOPES:
                bad("periods", f"unknown period scope {scope!r} (expected {', '.join(_SCOPES)})")
        if known is not None and isinstance(t.get("indicator"), str) \
                and t["indicator"] not in known:
            bad("indicator", f"unknown indicator {t['indicator']!r}")
        per_unit: dict[str, float] = {}
        if isinstance(t.get("unit_thresholds"), dict):
            for unit, value in t["unit_thresholds"].items():
                if isinstance(value, bool) or not isinstance(value, int | float):
                    bad("unit_thresholds", f"threshold for unit {unit} must be a number, "
                                           f"got {value!r}")
                else:
                    per_unit[str(unit)] = float(value)
        if isinstance(t.get("unit_thresholds_file"), str):
            csv_path = file.parent / t["unit_thresholds_file"]
            try:
                table = pd.read_csv(csv_path, dtype={"unit": str})
                if not {"unit", "threshold"} <= set(table.columns):
                    bad("unit_thresholds_file", f"{csv_path.name} needs columns unit, threshold")
                else:
                    num = pd.to_numeric(table["threshold"], errors="coerce")
                    for row in np.flatnonzero(num.isna().to_numpy()):
                        problems.append(Problem(str(csv_path), int(row) + 2, "threshold",
                                                f"{where}: not a number: "
                                                f"{table['threshold'].iloc[row]!r}"))
                    per_unit.update(dict(zip(table["unit"].str.strip(), num, strict=True)))
            except FileNotFoundError:
                bad("unit_thresholds_file", f"no such file {csv_path}")
        rows.append({"target": i, "indicator": t.get("indicator"), "label": t.get("label", ""),
                     "op": op, "threshold": t.get("threshold"),
                     "points": t.get("points"), "weight": t.get("weight", 1.0),
                     "scoring": scoring, "floor": t.get("floor", np.nan),
                     "per_event": t.get("per_event", np.nan),
                     "periods": tuple(t.get("periods", ("quarter", "year"))),
                     "unit_thresholds": per_unit})
    numeric_ok = all(isinstance(r[k], int | float) and not isinstance(r[k], bool)
                     for r in rows for k in ("points", "weight"))
    if rows and numeric_ok:
        for total, column in (("total_points", "points"), ("total_weight", "weight")):
            if total in scheme:
                got = sum(r[column] for r in rows)
                if not np.isclose(got, scheme[total]):
                    problems.append(Problem(str(file), None, column, f"scheme: the targets' "
                                            f"{column} sum to {got:g}, but {total} = "
                                            f"{scheme[total]:g}"))
    if problems:
        raise DataError(problems)
    out = pd.DataFrame(rows)
    for c in ("threshold", "points", "weight", "floor", "per_event"):
        out[c] = out[c].astype(float)
    out.attrs["scheme"] = scheme
    return out


def load_values(path: str | Path, *, units: pd.DataFrame | str | Path | None = None,
                header_row: int | None = None) -> pd.DataFrame:
    """Load supplied indicator values (figures computed elsewhere: infant mortality from the
    health system, income, life expectancy, an inspection score, counted complaints).

    The file (``values.*`` in a data directory; English or Chinese headers, title lines and
    notes as for counts) has ``unit``, ``period``, ``indicator``, ``value`` and optionally
    ``lower``, ``upper`` (an interval, used for verdicts and rank uncertainty). Periods of
    different kinds may mix (yearly income, quarterly complaints).

    Returns
    -------
    pandas.DataFrame
        ``unit``, ``period``, ``indicator``, ``value``, ``lower``, ``upper`` (NaN where
        absent), in the shape of :func:`fpanalysis.indicators.compute` results.

    Raises
    ------
    DataError
        Missing column, non-numeric or empty value, lower > value or value > upper,
        duplicate (unit, period, indicator), unknown unit, unreadable period.
    """
    units = _units_table(path, units)
    data, report, col, n = _load_table(path, VALUES, header_row=header_row, units=units)
    rows = col.rows
    nan = pd.Series(np.nan, index=data.index)
    lo, v, hi = (n.get(c, nan).to_numpy() for c in ("lower", "value", "upper"))
    col.at(np.isnan(v) & ~_flagged(col, "value"), "value", "value is empty")
    col.at(lo > v, "lower", lambda p: f"lower ({lo[p]:g}) exceeds value ({v[p]:g})")
    col.at(v > hi, "upper", lambda p: f"value ({v[p]:g}) exceeds upper ({hi[p]:g})")
    _check_periods(data, col, rows, one_kind=False)  # yearly and quarterly figures mix
    _check_duplicates(data, VALUES.keys, col, rows)
    _check_units_known(data, units, col, rows)
    if col.problems:
        raise DataError(sorted(col.problems, key=lambda q: (q.row or 0)))
    out = pd.DataFrame({"unit": data["unit"].astype("string").str.strip(),
                        "period": data["period"],
                        "indicator": data["indicator"].astype("string").str.strip(),
                        "value": v, "lower": lo, "upper": hi})
    out = out.sort_values(["unit", "indicator"], kind="stable").reset_index(drop=True)
    out.attrs["load_report"] = report
    return out


def load_scores(path: str | Path, *, name: str = "city_scores",
                units: pd.DataFrame | str | Path | None = None,
                header_row: int | None = None) -> pd.DataFrame:
    """Load external assessment scores (e.g. the city's score of each unit per year).

    The file (``<name>.*`` in a data directory) has ``unit``, ``period`` and ``score``;
    combined with the county's own scores by :func:`fpanalysis.targets.combine`.

    Raises
    ------
    DataError
        Missing column, non-numeric or empty score, duplicate (unit, period), unknown unit,
        unreadable period.
    """
    units = _units_table(path, units)
    spec = replace(SCORES, name=name)
    data, report, col, n = _load_table(path, spec, header_row=header_row, units=units)
    score = n["score"].to_numpy()
    col.at(np.isnan(score) & ~_flagged(col, "score"), "score", "score is empty")
    _check_periods(data, col, col.rows)
    _check_duplicates(data, spec.keys, col, col.rows)
    _check_units_known(data, units, col, col.rows)
    if col.problems:
        raise DataError(sorted(col.problems, key=lambda q: (q.row or 0)))
    out = pd.DataFrame({"unit": data["unit"].astype("string").str.strip(),
                        "period": data["period"], "score": score})
    out = out.sort_values(["unit", "period"], kind="stable").reset_index(drop=True)
    out.attrs["load_report"] = report
    return out
