"""Read a table file into text cells: decode it, pick the sheet, find the header row.

This module knows about file formats and nothing about what the columns mean beyond
recognising a header by its known column names. It turns a CSV (UTF-8 with or without BOM,
UTF-16 with BOM, GB18030/GBK), an Excel workbook or a Parquet file into a :class:`RawTable`:
the cells below the header as text (Parquet keeps its typed columns), the file row number of
each, and the problems found on the way (duplicate header names, ragged rows). Every decode,
CSV-parser, field-size and Excel-engine error becomes a
:class:`~fpanalysis.schema.DataError` naming the file.

A CSV is read in two ways that give the same table. The fast path hands the text below the
header to pandas' C parser when nothing in it can be read differently from the strict csv
module (quoting, row width, field size are checked first) and keeps count and number
columns that it types as whole numbers held exactly. Otherwise, and whenever the C parser
stops, the careful path reads every record with the csv module and lists every problem
with its row number.
"""

from __future__ import annotations

import codecs
import csv
import io as _io
import re
import unicodedata
import warnings
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .schema import DataError, Problem, TableSpec, canonical_header

__all__ = ["RawTable", "cell_text", "find_file", "read_table"]

SUFFIXES = (".csv", ".xlsx", ".parquet")
_MAX_HEADER_SCAN = 30


@dataclass
class RawTable:
    """The cells of one table as read from its file.

    Attributes
    ----------
    frame : pandas.DataFrame
        The rows below the header, columns named by their header cells (a repeated or empty
        header gets a made-up name). Cells are text (``""`` when empty; Python or pandas
        strings), except from Parquet and in the count and number columns of a CSV that
        pandas' C parser typed as whole numbers held exactly (int64, or float64 with NaN
        for an empty cell).
    rows : numpy.ndarray
        File row number (1-based, title and header lines counted) of each frame row.
    header_row : int or None
        File row number of the header (None for Parquet).
    encoding : str or None
        Text encoding of a CSV file.
    sheet : str or None
        Name of the worksheet read from a workbook.
    problems : list of Problem
        Duplicate header names and ragged rows.
    """

    frame: pd.DataFrame
    rows: np.ndarray
    header_row: int | None
    encoding: str | None
    sheet: str | None = None
    problems: list[Problem] = field(default_factory=list)


def find_file(path: str | Path, name: str) -> Path:
    """Return ``path`` if it is a file, else ``<path>/<name>.{csv,xlsx,parquet}``.

    A folder holding two files for one table (``counts.csv`` beside ``counts.xlsx``, e.g.
    an old export next to a corrected workbook) is refused: which one holds the figures is
    for the user to say, never for the loader to guess.

    Raises
    ------
    FileNotFoundError
        If neither exists.
    DataError
        If the folder holds more than one file for ``name`` (naming them all).
    """
    p = Path(path)
    if p.is_file():
        return p
    if p.is_dir():
        found = [p / f"{name}{suffix}" for suffix in SUFFIXES
                 if (p / f"{name}{suffix}").is_file()]
        if len(found) > 1:
            files = [f.name for f in found]
            raise _fail(str(p), f"{len(found)} files for the {name} table: "
                                f"{', '.join(files[:-1])} and {files[-1]}; keep one (move "
                                "the other out of the folder) or give the file itself")
        if found:
            return found[0]
        raise FileNotFoundError(
            f"no {name}.csv, {name}.xlsx or {name}.parquet in directory {p}")
    raise FileNotFoundError(f"no such file or directory: {p}")


def _fail(name: str, message: str) -> DataError:
    return DataError([Problem(name, None, None, message)])


def _decode(raw: bytes, name: str) -> tuple[str, str]:
    """Decode CSV bytes: a BOM decides (UTF-8, UTF-16); else UTF-8, else GB18030."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates: Iterable[str] = ("utf-16",)
    else:
        candidates = ("utf-8-sig", "gb18030")
    errors: list[UnicodeDecodeError] = []
    for encoding in candidates:
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError as exc:
            errors.append(exc)
    first = errors[0]
    raise _fail(name, f"cannot decode the file as {' or '.join(candidates)} "
                      f"(byte {raw[first.start]:#04x} at offset {first.start}): save it as "
                      "UTF-8 or GB18030")


def cell_text(value: object) -> str:
    """Return a spreadsheet cell as stripped text: ``""`` for empty, whole floats without
    ``.0``, dates as ``YYYY-MM``.

    Floats at or above 2**53 keep their float form, so that a count too large to be exact
    is refused later rather than read as a neighbouring integer.

    Examples
    --------
    >>> cell_text(3.0), cell_text(None), cell_text(" 101 "), cell_text(2.0 ** 60)
    ('3', '', '101', '1.152921504606847e+18')
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, pd.Timestamp | np.datetime64) or hasattr(value, "strftime"):
        return pd.Timestamp(value).strftime("%Y-%m")
    if isinstance(value, float) and value.is_integer() and abs(value) < 2.0 ** 53:
        return str(int(value))
    if isinstance(value, int | np.integer) and not isinstance(value, bool) \
            and abs(int(value)) >= 2 ** 53:  # a spreadsheet holds doubles: not exact here
        return repr(float(value))
    return str(value).strip()


def _header_score(cells: Iterable[object], known: Collection[str]) -> int:
    names = {canonical_header(c) for c in cells}
    names |= {unicodedata.normalize("NFKC", str(c)).strip().lower() for c in cells}
    return len(names & set(known))


def _find_header(rows: list[list[str]], known: Collection[str]) -> int | None:
    best, best_score = None, 1
    for i, cells in enumerate(rows[:_MAX_HEADER_SCAN]):
        score = _header_score(cells, known)
        if score > best_score:
            best, best_score = i, score
    return best


def _csv_text(path: Path, name: str) -> tuple[str, str]:
    text, encoding = _decode(path.read_bytes(), name)
    if not text.strip():
        raise _fail(name, "the file is empty")
    return text, encoding


def _csv_rows(text: str, name: str) -> list[list[str]]:
    """Every record of the file, parsed strictly by the csv module (the careful path)."""
    try:
        return list(csv.reader(_io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:  # NUL bytes, a field beyond csv.field_size_limit(), bad quoting
        raise _fail(name, f"CSV cannot be parsed: {exc}") from exc


# A quoted field (opened at the start of a field, ``""`` an escaped quote) whose closing
# quote is followed by something other than a comma, a line end or the end of the text: the
# csv module (strict) refuses it, pandas' C parser would join the text silently. Possessive,
# so that an escaped ``""`` is never taken for the closing quote. It may also fire inside a
# quoted field holding ``,"``; that only sends the file to the careful path.
_BAD_CLOSE = re.compile(r'(?:\A|(?<=[,\r\n]))"(?:[^"]|"")*+"(?![,\r\n]|\Z)')
_EXACT = 2 ** 53


def _has_long_line(text: str, limit: int) -> bool:
    """Whether a line (a CR or LF ends one) may be longer than ``limit`` characters.

    A line longer than ``limit`` holds a whole aligned block of ``limit // 2`` characters,
    so it is enough that every such block has a line end (one ``find`` per block, no copy).
    A line between ``limit // 2`` and ``limit`` characters long may be taken for a long one;
    that only sends the file to the careful path.
    """
    block = max(limit // 2, 1)
    for start in range(0, len(text) - block + 1, block):
        end = start + block
        if text.find("\n", start, end) < 0 and text.find("\r", start, end) < 0:
            return True
    return False


def _typed_ok(column: pd.Series) -> bool:
    """A number column as the C parser typed it that the strict parser would read alike:
    int64 within +-2**53, or float64 whose values are whole and below 2**53 in size (NaN
    only for an empty cell).

    Every cell the C parser types so is, once stripped of blanks, an optional sign with
    digits, a decimal point and an exponent, a form the strict grammar accepts with the
    same value; text it does not type (``1,234``, ``nan``, full-width digits) leaves the
    column as text. Infinity and fractions (where the two parsers could round apart) are
    left to the strict parser too.
    """
    if len(column) == 0:
        return False
    if column.dtype == np.int64:
        return bool(-_EXACT <= column.min() and column.max() <= _EXACT)
    if column.dtype == np.float64:
        v = column.to_numpy()
        v = v[~np.isnan(v)]
        return bool(np.all((np.abs(v) < _EXACT) & (v == np.floor(v))))
    return False


def _numeric_positions(names: list[str], spec: TableSpec, known: Collection[str]
                       ) -> list[int]:
    """Positions of the columns that :mod:`fpanalysis.tables` will parse as numbers (the
    same header mapping as its ``_canonicalize``)."""
    numeric = set(spec.counts) | set(spec.numbers) | set(known)
    out = []
    for i, original in enumerate(names):
        canon = canonical_header(original)
        if canon is None:
            plain = unicodedata.normalize("NFKC", str(original)).strip().lower()
            canon = plain if plain in known else None
        if canon in numeric:
            out.append(i)
    return out


def _read_body(body: str, width: int, text_columns: Collection[int],
               usecols: list[int] | None = None, numeric: Collection[int] = ()
               ) -> pd.DataFrame:
    """pandas' C parser on the text below the header, configured like the csv module
    (comma, double quote, ``""`` escape, no comments, blank lines kept). Only an empty cell
    of a ``numeric`` column is NA; every other cell is kept as written or typed."""
    with warnings.catch_warnings():
        # a parser's warning (lost columns, mixed types) sends the file to the careful path
        warnings.simplefilter("error", pd.errors.ParserWarning)
        warnings.simplefilter("error", pd.errors.DtypeWarning)
        # UTF-8 bytes: the C parser reads them as they are (a text stream would be encoded
        # to UTF-8 chunk by chunk)
        return pd.read_csv(_io.BytesIO(body.encode("utf-8")), encoding="utf-8",
                           encoding_errors="strict", sep=",", header=None,
                           names=list(range(width)), index_col=False, usecols=usecols,
                           dtype={i: str for i in text_columns}, engine="c",
                           na_filter=bool(numeric), na_values={i: [""] for i in numeric},
                           keep_default_na=False, skip_blank_lines=False,
                           low_memory=False, quotechar='"', doublequote=True,
                           escapechar=None, comment=None, skipinitialspace=False,
                           thousands=None, decimal=".")


def _csv_fast(text: str, name: str, spec: TableSpec, known: Collection[str],
              header_row: int | None) -> RawTable | None:
    """Read a CSV with pandas' C parser below the header, or return None when the file
    needs the careful path (the csv module, which lists every problem with its row).

    The records above and including the header are read by the csv module, exactly as the
    careful path reads them. The body goes to the C parser only when it cannot differ from
    the csv module: no quote closed before other text, no line longer than the csv field
    limit, no row longer than the header. Rows are records, numbered as the careful path
    numbers them (a quoted line break stays inside its row), so that a spreadsheet shows the
    same numbers. Count and number columns that the C parser types as :func:`_typed_ok`
    allows are kept typed; every other column is text.
    """
    scan = _MAX_HEADER_SCAN if header_row is None else header_row
    stream = _io.StringIO(text, newline="")
    records: list[list[str]] = []
    ends: list[int] = []
    try:
        for record in csv.reader(stream, strict=True):
            records.append(record)
            ends.append(stream.tell())
            if len(records) >= scan:
                break
    except csv.Error:
        return None
    if header_row is None:
        h = _find_header(records, set(spec.columns) | set(known))
    else:
        h = header_row - 1 if 0 <= header_row - 1 < len(records) else None
    if h is None:
        return None
    names, problems = _header_names(records[h], h + 1, name)
    width = len(names)
    body = text[ends[h]:]
    limit = csv.field_size_limit()
    # pandas drops a byte-order mark that opens its text; the csv module keeps it
    if not body or body.startswith("\ufeff") or _has_long_line(body, limit):
        return None
    quoted = '"' in body
    if quoted and _BAD_CLOSE.search(body):
        return None
    numeric = _numeric_positions(names, spec, known)
    text_columns = [i for i in range(width) if i not in set(numeric)]
    try:
        frame = _read_body(body, width, text_columns, numeric=numeric)
        retext = [i for i in numeric if not _typed_ok(frame[i])]
        if retext:  # fractions, infinities, beyond 2**53, text: the strict parser reads them
            again = _read_body(body, width, retext, usecols=retext)
            if len(again) != len(frame):
                return None
            for i in retext:
                frame[i] = again[i]
    except (ValueError, pd.errors.ParserError, pd.errors.ParserWarning,
            pd.errors.DtypeWarning, csv.Error, OverflowError, MemoryError):
        return None
    texts = [i for i in range(width) if not _typed_ok(frame[i])]
    for i in texts:
        if not isinstance(frame[i].dtype, pd.StringDtype):
            return None
        if quoted and frame[i].str.len().max() > limit:
            return None  # a quoted field spanning lines beyond the csv field limit
    frame.columns = pd.Index(names, dtype=object)
    rownum = np.arange(h + 2, h + 2 + len(frame))
    return RawTable(frame, rownum, h + 1, None, None, problems)


def _excel_rows(path: Path, name: str, sheet: str | int | None
                ) -> tuple[list[list[str]], str]:
    try:
        with pd.ExcelFile(path) as book:
            names = list(book.sheet_names)
            listed = ", ".join(repr(s) for s in names)
            if sheet is None:
                if len(names) > 1:
                    raise _fail(name, f"the workbook has {len(names)} sheets ({listed}): "
                                      "name the one to read with sheet=")
                chosen = names[0]
            elif isinstance(sheet, int) and not isinstance(sheet, bool):
                if not 0 <= sheet < len(names):
                    raise _fail(name, f"no sheet number {sheet} (0-based) in the workbook; "
                                      f"its sheets are {listed}")
                chosen = names[sheet]
            elif sheet in names:
                chosen = str(sheet)
            else:
                raise _fail(name, f"no sheet {sheet!r} in the workbook; its sheets are {listed}")
            raw = pd.read_excel(book, sheet_name=chosen, header=None, dtype=object)
        _refuse_uncached_formulas(path, name, chosen)
    except DataError:
        raise
    except Exception as exc:  # zipfile, openpyxl and pandas each raise their own types
        raise _fail(name, f"the workbook cannot be read: {type(exc).__name__}: {exc}") from exc
    rows = [[cell_text(c) for c in r] for r in raw.to_numpy().tolist()]
    return rows, chosen


def _refuse_uncached_formulas(path: Path, name: str, sheet: str) -> None:
    """A formula cell whose result was never saved (a workbook written by a program, not
    by Excel) reads as empty: say so, rather than take it for a gap in the data."""
    import openpyxl
    from openpyxl.utils import get_column_letter

    formulas = openpyxl.load_workbook(path, read_only=True, data_only=False)
    values = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        problems = []
        for r, (f_row, v_row) in enumerate(zip(formulas[sheet].iter_rows(values_only=True),
                                               values[sheet].iter_rows(values_only=True),
                                               strict=False), start=1):
            for c, (f, v) in enumerate(zip(f_row, v_row, strict=False), start=1):
                if v is None and isinstance(f, str) and f.startswith("="):
                    problems.append(Problem(name, r, f"column {get_column_letter(c)}",
                                            f"formula {f} has no saved value: open the "
                                            "workbook in Excel or WPS and save it"))
    finally:
        formulas.close()
        values.close()
    if problems:
        raise DataError(problems)


def _header_names(cells: list[str], header_row: int, name: str
                  ) -> tuple[list[str], list[Problem]]:
    """Column names from header cells; a repeated header text is a problem."""
    names: list[str] = []
    first: dict[str, int] = {}
    problems: list[Problem] = []
    for i, cell in enumerate(cells):
        text = unicodedata.normalize("NFKC", cell).strip()
        if not text:
            names.append(f"column {i + 1}")
            continue
        if text in first:
            problems.append(Problem(name, header_row, text,
                                    f"duplicate header: columns {first[text] + 1} and {i + 1} "
                                    f"are both named {text!r}"))
            names.append(f"column {i + 1}")
            continue
        first[text] = i
        names.append(cell.strip())
    return names, problems


def read_table(path: Path, spec: TableSpec, *, header_row: int | None = None,
               sheet: str | int | None = None, known: Collection[str] = ()) -> RawTable:
    """Read ``path`` into a :class:`RawTable` of text cells below its header.

    Parameters
    ----------
    path : Path
        A ``.csv``/``.txt``, ``.xlsx``/``.xlsm`` or ``.parquet`` file.
    spec : TableSpec
        The table's contract; its column names (and ``known``) recognise the header row.
    header_row : int, optional
        File row number (1-based) of the header; found automatically if omitted.
    sheet : str or int, optional
        Worksheet name or 0-based index; needed when a workbook has several sheets.
    known : collection of str
        Further column names that count towards recognising the header (user columns).

    Raises
    ------
    DataError
        Empty, undecodable or unparsable file; unsupported type; several sheets and no
        ``sheet``; an unknown sheet; no recognisable header.
    """
    name = str(path)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises its own error types
            raise _fail(name, f"the Parquet file cannot be read: {type(exc).__name__}: "
                              f"{exc}") from exc
        if frame.empty:
            raise _fail(name, "the file is empty (no data rows)")
        frame = frame.reset_index(drop=True)
        problems = []
        if frame.columns.duplicated().any():
            dup = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
            problems = [Problem(name, None, c, f"duplicate header: two columns are named "
                                               f"{c!r}") for c in dup]
            raise DataError(problems)
        return RawTable(frame, np.arange(1, len(frame) + 1), None, None)
    encoding = chosen = None
    if suffix in (".xlsx", ".xlsm"):
        rows, chosen = _excel_rows(path, name, sheet)
    elif suffix in (".csv", ".txt"):
        if sheet is not None:
            raise ValueError("sheet= applies only to Excel workbooks")
        text, encoding = _csv_text(path, name)
        fast = _csv_fast(text, name, spec, known, header_row)
        if fast is not None:
            fast.encoding = encoding
            return fast
        rows = _csv_rows(text, name)
    else:
        raise _fail(name, f"unsupported file type {suffix!r}; use .csv, .xlsx or .parquet")
    if not any(any(c.strip() for c in r) for r in rows):
        raise _fail(name, "the file is empty")
    if header_row is None:
        h = _find_header(rows, set(spec.columns) | set(known))
        if h is None:
            raise _fail(name, "no header row found in the first 30 rows: expected columns "
                              "such as " + ", ".join(spec.required))
    else:
        h = header_row - 1
        if not 0 <= h < len(rows):
            raise ValueError(f"header_row must be between 1 and {len(rows)}, got {header_row}")
    names, problems = _header_names(rows[h], h + 1, name)
    width = len(names)
    body = rows[h + 1:]
    lengths = np.fromiter((len(r) for r in body), dtype=np.int64, count=len(body))
    rownum = np.arange(h + 2, h + 2 + len(body))
    for pos in np.flatnonzero(lengths > width):
        extra = body[pos][width:]
        if any(c.strip() for c in extra):  # trailing empty cells are harmless
            problems.append(Problem(name, int(rownum[pos]), None,
                                    f"ragged row: {lengths[pos]} cells but the header has "
                                    f"{width}"))
    cells = [r[:width] + [""] * (width - len(r)) if len(r) != width else r for r in body]
    frame = pd.DataFrame(cells, columns=pd.Index(names, dtype=object), dtype=object)
    if not len(body):
        frame = pd.DataFrame({c: pd.Series([], dtype=object) for c in names})
    return RawTable(frame, rownum, h + 1, encoding, chosen, problems)
