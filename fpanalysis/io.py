"""Load counts, units, audits, supplied values, external scores and targets.

Files come as county offices make them: CSV in UTF-8 (with or without BOM), UTF-16 with BOM
or GB18030/GBK, Excel workbooks (one sheet, or the one named with ``sheet=``), or Parquet;
English or Chinese headers; one or two title lines above the header; a totals row
(合计/总计, or the county's own row among its townships'); notes below the table. The work is
split by concern:

* :mod:`fpanalysis.reading` decodes a file, picks its sheet and finds its header row;
* :mod:`fpanalysis.tables` walks the table: data, blank, note and totals rows, strict
  numbers, normalised keys, and the :class:`LoadReport`;
* :mod:`fpanalysis.rules` holds the row rules (periods, duplicate keys, known units,
  consistency between columns);
* :mod:`fpanalysis.hierarchy` holds the unit hierarchy: its checks and its one walker.

This module puts them together into the public loaders. Every problem is collected and
raised together in one :class:`~fpanalysis.schema.DataError` naming file, row (as numbered
in the file), column and rule. Nothing is dropped silently: each loaded frame carries its
report as a plain dict in ``frame.attrs["load_report"]`` (so the frame survives Parquet,
JSON, ``pd.concat`` and pickling); :func:`load_report` returns it as a :class:`LoadReport`
with ``rows_in == rows_used + len(skipped)``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from . import periods as pr
from .hierarchy import check_units, codes_for_names
from .reading import find_file
from .rules import (
    ancestor_rows,
    check_audits,
    check_duplicates,
    check_intervals,
    check_periods,
    check_units_known,
    consistency,
)
from .schema import AUDITS, COUNTS, SCORES, UNITS, VALUES, DataError, Problem, TableSpec
from .tables import LoadReport, Walked, load_report, normalise_keys, walk

__all__ = [
    "LoadReport",
    "find_file",
    "load_audits",
    "load_counts",
    "load_report",
    "load_scores",
    "load_targets",
    "load_units",
    "load_values",
]

_LEVEL_ALIASES = {"县": "county", "县级": "county", "区": "county", "乡": "township",
                  "镇": "township", "乡镇": "township", "街道": "township", "村": "village",
                  "社区": "village", "村居": "village"}


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


def _period_label(period: object) -> str | None:
    if period is None:
        return None
    try:
        return str(pr.parse(period))
    except ValueError:
        raise ValueError(f"period must be a period label such as 2024Q3 or 2024-07, "
                         f"got {period!r}") from None


def _walk(path: str | Path, spec: TableSpec, units: pd.DataFrame | None, *,
          header_row: int | None, sheet: str | int | None, period: object,
          extra_counts: Iterable[str] = ()) -> Walked:
    """Walk a data table and give every row a unit code (mapping a names-only sheet)."""
    w = walk(path, spec, header_row=header_row, sheet=sheet, period=_period_label(period),
             extra_counts=tuple(extra_counts))
    if "unit" not in w.data.columns:  # a sheet of unit names: codes come from units
        if units is None:
            w.col.add(w.report.header_row, "unit", "required column is missing (a sheet of "
                                                   "unit names needs the units table: units=)")
            w.col.raise_if_any()
        w.data["unit"] = codes_for_names(w.data["name"], units, w.col)
    return w


def _store(out: pd.DataFrame, report: LoadReport) -> pd.DataFrame:
    out.attrs["load_report"] = report.to_dict()
    return out


def load_units(path: str | Path, *, header_row: int | None = None,
               sheet: str | int | None = None) -> pd.DataFrame:
    """Load the unit hierarchy (county -> township -> village).

    Parameters
    ----------
    path : str or Path
        A file, or a data directory holding ``units.csv`` (or ``.xlsx``/``.parquet``).
    header_row : int, optional
        Row number (1-based, as in the file) of the header; found automatically if omitted.
    sheet : str or int, optional
        Worksheet name or 0-based index, for a workbook of several sheets.

    Returns
    -------
    pandas.DataFrame
        ``unit`` (code), ``name``, ``parent`` (code, ``<NA>`` at the top), ``level``
        (county/township/village), sorted by ``unit``.

    Raises
    ------
    DataError
        Missing column, empty or duplicate code, unknown level, unknown parent, an empty
        parent below the county, a parent cycle, or a parent not one level up.
    """
    w = walk(path, UNITS, header_row=header_row, sheet=sheet)
    data, col = w.data, w.col
    if any(p.message == "required column is missing" for p in col.problems):
        raise DataError(col.problems)
    for c in ("unit", "name", "parent", "level"):
        data[c] = normalise_keys(data[c]).fillna("")
    data["level"] = data["level"].str.lower().replace(_LEVEL_ALIASES)
    check_duplicates(data, ["unit"], col)
    check_units(data, col)
    col.raise_if_any()
    data["parent"] = data["parent"].replace("", pd.NA)
    out = data[["unit", "name", "parent", "level"]].sort_values("unit", kind="stable")
    return _store(out.reset_index(drop=True), w.report)


def _user_columns(indicators: Iterable[object]) -> tuple[list[str], list[tuple[str, str]]]:
    """Count columns that user indicators use and the contract does not know, and the
    (numerator, denominator) pairs of user proportions."""
    extra: list[str] = []
    pairs: list[tuple[str, str]] = []
    for ind in indicators:
        if isinstance(ind, str):  # a built-in indicator key: its columns are in the contract
            continue
        columns = getattr(ind, "columns", None)
        if columns is None or isinstance(columns, str):
            raise ValueError(f"indicators must be Indicator objects (with .columns), "
                             f"got {ind!r}")
        extra += [c for c in columns if c not in COUNTS.columns]
        num, den = getattr(ind, "numerator", ()), getattr(ind, "denominator", ())
        if getattr(ind, "kind", None) == "proportion" and len(num) == 1 and len(den) == 1:
            pairs.append((num[0], den[0]))
    return list(dict.fromkeys(extra)), pairs


def _finish_counts(data: pd.DataFrame, exact: dict[str, pd.Series]) -> pd.DataFrame:
    for c, num in exact.items():
        data[c] = num
    if "population" not in data.columns and {"population_start", "population_end"} <= set(data):
        data["population"] = (data["population_start"].astype("Float64")
                              + data["population_end"].astype("Float64")) / 2
    data["unit"] = data["unit"].astype("string")
    cols = ["unit", "period"] + [c for c in data.columns if c not in ("unit", "period")]
    return data[cols].sort_values(["unit", "period"], kind="stable").reset_index(drop=True)


def load_counts(path: str | Path, *, units: pd.DataFrame | str | Path | None = None,
                header_row: int | None = None, sheet: str | int | None = None,
                period: object = None, indicators: Iterable[object] = ()) -> pd.DataFrame:
    """Load and validate a counts table (one row per unit and period).

    Parameters
    ----------
    path : str or Path
        A ``.csv`` (UTF-8, UTF-8 with BOM, UTF-16 with BOM, GB18030/GBK), ``.xlsx`` or
        ``.parquet`` file, or a data directory holding ``counts.*``.
    units : DataFrame or path, optional
        The unit table (or where to load it from). Unit codes not in it are reported; sheets
        that carry unit names instead of codes are mapped through it (a name matching no
        unit or several is reported); a row for an ancestor of other rows of its period
        (the county's own row among its townships') is checked against their sum and set
        aside. When ``path`` is a directory with ``units.*`` and ``units`` is omitted, that
        table is used.
    header_row : int, optional
        Row number of the header in the file; found automatically if omitted.
    sheet : str or int, optional
        Worksheet name or 0-based index; required for a workbook of several sheets.
    period : period label, optional
        The period of every row, for a sheet of one period without a period column (an
        office's sheet titled "2024年第三季度..."). An error if the file has a period column.
    indicators : iterable of Indicator, optional
        User indicators (objects with ``.columns``, see :mod:`fpanalysis.indicators`): their
        columns that the contract does not know are checked as counts (non-negative whole
        numbers) and returned as ``Int64``; a user proportion's numerator must not exceed
        its denominator.

    Returns
    -------
    pandas.DataFrame
        ``unit``, ``period`` (``period[M]`` for monthly data), then the count columns present
        as nullable ``Int64`` (a gap stays ``<NA>``; exact beyond 2**53), sorted by unit and
        period. When only ``population_start``/``population_end`` are given, ``population``
        is their mean. Other columns are kept as text and listed in the load report's
        ``unknown_columns``; :func:`load_report` returns the report.

    Raises
    ------
    DataError
        With every problem: missing required column, non-numeric, malformed (``1,2,3``,
        ``3,5``), negative, fractional or inexact count, male + female births not equal to
        births, order or age breakdowns that do not add up, duplicate (unit, period) after
        normalising keys, unknown unit or unit name, ambiguous unit name, unreadable period,
        periods of several kinds, empty file, population 0 with births, a totals row that
        does not match the rows it totals, numerators above their denominators, duplicate
        header names, ragged rows, undecodable or unparsable file.

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
    >>> rep = load_report(c)
    >>> rep.rows_in, rep.rows_used, rep.skipped
    (3, 2, [(5, 'totals row (checked against the rows above)')])
    """
    extra, pairs = _user_columns(indicators)
    units = _units_table(path, units)
    w = _walk(path, COUNTS, units, header_row=header_row, sheet=sheet, period=period,
              extra_counts=extra)
    data, col = w.data, w.col
    check_periods(data, col)
    check_duplicates(data, COUNTS.keys, col)
    check_units_known(data, units, col)
    consistency(data, w.numbers, col, pairs)
    heads = np.zeros(len(data), dtype=bool)
    if units is not None:
        heads = ancestor_rows(data, w.numbers, units, col)
    col.raise_if_any()
    if heads.any():
        for pos in np.flatnonzero(heads):
            w.report.skipped.append((int(col.rows[pos]), "totals row (checked against the "
                                     "rows of its units below, in the same period): unit "
                                     f"{data['unit'].iloc[pos]}"))
        w.report.skipped.sort()
        w.report.rows_used -= int(heads.sum())
        keep = np.flatnonzero(~heads)
        data = data.iloc[keep].reset_index(drop=True)
        w.exact = {c: s.iloc[keep].reset_index(drop=True) for c, s in w.exact.items()}
    return _store(_finish_counts(data, w.exact), w.report)


def load_audits(path: str | Path, *, units: pd.DataFrame | str | Path | None = None,
                header_row: int | None = None, sheet: str | int | None = None,
                period: object = None) -> pd.DataFrame:
    """Load audit re-checks: per unit, period and item, how many reported cases were checked
    and how many of those were found false.

    Parameters are as for :func:`load_counts`.

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
    w = _walk(path, AUDITS, units, header_row=header_row, sheet=sheet, period=period)
    data, col = w.data, w.col
    check_periods(data, col)
    check_duplicates(data, AUDITS.keys, col)
    check_units_known(data, units, col)
    check_audits(w.numbers, col)
    col.raise_if_any()
    for k, num in w.exact.items():
        data[k] = num
    data["unit"] = data["unit"].astype("string")
    data["item"] = data["item"].astype("string")
    out = data[list(AUDITS.required)].sort_values(["unit", "period", "item"], kind="stable")
    return _store(out.reset_index(drop=True), w.report)


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
                header_row: int | None = None, sheet: str | int | None = None,
                period: object = None) -> pd.DataFrame:
    """Load supplied indicator values (figures computed elsewhere: infant mortality from the
    health system, income, life expectancy, an inspection score, counted complaints).

    The file (``values.*`` in a data directory; English or Chinese headers, title lines and
    notes as for counts) has ``unit``, ``period``, ``indicator``, ``value`` and optionally
    ``lower``, ``upper`` (an interval, used for verdicts and rank uncertainty). Periods of
    different kinds may mix (yearly income, quarterly complaints). Other parameters are as
    for :func:`load_counts`.

    Returns
    -------
    pandas.DataFrame
        ``unit``, ``period``, ``indicator``, ``value``, ``lower``, ``upper`` (NaN where
        absent), in the shape of :func:`fpanalysis.indicators.compute` results.

    Raises
    ------
    DataError
        Missing column, non-numeric, malformed or empty value, an integer beyond 2**53,
        lower > value or value > upper, duplicate (unit, period, indicator), unknown unit,
        unreadable period.
    """
    units = _units_table(path, units)
    w = _walk(path, VALUES, units, header_row=header_row, sheet=sheet, period=period)
    data, col, n = w.data, w.col, w.numbers
    nan = pd.Series(np.nan, index=data.index)
    lo, v, hi = (n.get(c, nan).to_numpy() for c in ("lower", "value", "upper"))
    col.at(np.isnan(v) & ~col.flagged("value"), "value", "value is empty")
    check_intervals(lo, v, hi, col)
    check_periods(data, col, one_kind=False)  # yearly and quarterly figures mix
    check_duplicates(data, VALUES.keys, col)
    check_units_known(data, units, col)
    col.raise_if_any()
    out = pd.DataFrame({"unit": data["unit"].astype("string"), "period": data["period"],
                        "indicator": data["indicator"].astype("string"),
                        "value": v, "lower": lo, "upper": hi})
    out = out.sort_values(["unit", "indicator"], kind="stable").reset_index(drop=True)
    return _store(out, w.report)


def load_scores(path: str | Path, *, name: str = "city_scores",
                units: pd.DataFrame | str | Path | None = None,
                header_row: int | None = None, sheet: str | int | None = None,
                period: object = None) -> pd.DataFrame:
    """Load external assessment scores (e.g. the city's score of each unit per year).

    The file (``<name>.*`` in a data directory) has ``unit``, ``period`` and ``score``;
    combined with the county's own scores by :func:`fpanalysis.targets.combine`. Other
    parameters are as for :func:`load_counts`.

    Raises
    ------
    DataError
        Missing column, non-numeric, malformed or empty score, duplicate (unit, period),
        unknown unit, unreadable period.
    """
    units = _units_table(path, units)
    spec = replace(SCORES, name=name)
    w = _walk(path, spec, units, header_row=header_row, sheet=sheet, period=period)
    data, col = w.data, w.col
    score = w.numbers["score"].to_numpy()
    col.at(np.isnan(score) & ~col.flagged("score"), "score", "score is empty")
    check_periods(data, col)
    check_duplicates(data, spec.keys, col)
    check_units_known(data, units, col)
    col.raise_if_any()
    out = pd.DataFrame({"unit": data["unit"].astype("string"), "period": data["period"],
                        "score": score})
    out = out.sort_values(["unit", "period"], kind="stable").reset_index(drop=True)
    return _store(out, w.report)
