"""Load counts, units, audits, supplied values, external scores, adjustments and targets.

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

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from . import periods as pr
from .hierarchy import check_units, codes_for_names, lineage
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
from .schema import (
    ADJUSTMENTS,
    AUDITS,
    COUNTS,
    HOSPITAL_BIRTHS,
    POPULATION_AGE,
    POPULATION_AGE_GROUPS,
    SCORES,
    SEXES,
    UNITS,
    VALUES,
    DataError,
    TableSpec,
    suggestion,
)
from .tables import (
    Collector,
    LoadReport,
    StoredReport,
    Walked,
    fmt,
    load_report,
    normalise_keys,
    walk,
)

__all__ = [
    "LoadReport",
    "find_file",
    "load_adjustments",
    "load_audits",
    "load_births_hospital",
    "load_counts",
    "load_population_age",
    "load_report",
    "load_scores",
    "load_units",
    "load_values",
]

_LEVEL_ALIASES = {"县": "county", "县级": "county", "区": "county", "乡": "township",
                  "镇": "township", "乡镇": "township", "街道": "township", "片": "area",
                  "片区": "area", "管区": "area", "工作片": "area", "村": "village",
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


def _absent(path: str | Path, name: str, optional: bool) -> bool:
    """True when ``optional`` and ``path`` is a data directory without a ``name`` table."""
    if not optional:
        return False
    p = Path(path)
    if not p.is_dir():
        return False
    try:
        find_file(p, name)
    except FileNotFoundError:
        return True
    return False


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


def _store(out: pd.DataFrame, report: LoadReport, **extra: object) -> pd.DataFrame:
    out.attrs["load_report"] = StoredReport(report.to_dict(), **extra)
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
    if data.empty:  # every later table is checked against this one: it cannot be empty
        col.add(w.report.header_row, None, "no units below the header")
        col.raise_if_any()
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
    for ind in indicators or ():
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
                period: object = None, optional: bool = False) -> pd.DataFrame | None:
    """Load audit re-checks: per unit, period and item, how many reported cases were checked
    and how many of those were found false.

    Parameters are as for :func:`load_counts`; with ``optional=True`` a data directory
    without an audits file gives ``None`` (a county that re-checked nothing), not an error.

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
    if _absent(path, AUDITS.name, optional):
        return None
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


def _check_years(data: pd.DataFrame, col: Collector, what: str = "adjustments") -> None:
    """Report parsed periods that are not years (each distinct period looked at once)."""
    values = data["period"].astype(object)
    codes, uniq = pd.factorize(values)  # hashing only: Dekad and Period do not compare
    kinds = np.array([pr.kind(u) for u in uniq] + [""], dtype=object)
    labels = np.array([str(u) for u in uniq] + [""], dtype=object)
    codes = np.where(codes < 0, len(uniq), codes)
    wrong = (kinds[codes] != "year") & (codes < len(uniq)) & ~col.flagged("period")
    col.at(wrong, "period",
           lambda p: f"{what} are per year: period {labels[codes[p]]!r} is a "
                     f"{kinds[codes[p]].replace('_', '-')} (write the year, e.g. 2024)")


def load_adjustments(path: str | Path, *, units: pd.DataFrame | str | Path | None = None,
                     header_row: int | None = None, sheet: str | int | None = None,
                     period: object = None) -> pd.DataFrame:
    """Load year-end adjustments: points added to or taken off a unit's year-end standing,
    each with its reason (a deduction per case decided at year end, a bonus).

    The file (``adjustments.*`` in a data directory; English or Chinese headers, title lines
    and notes as for counts) has ``unit`` (or ``name`` with ``units``), ``period`` (the
    year, e.g. ``2024``), ``points`` (any sign, fractions allowed; 调整分/加减分) and
    ``reason`` (text, required; 原因/事由). A unit may have several adjustments in a year,
    one row per reason; :func:`fpanalysis.targets.combine` adds them up after the
    county/city combination. Other parameters are as for :func:`load_counts` (``period``:
    the year of every row, for a sheet without a period column).

    The key is (unit, period, reason): the same reason twice for one unit and year is
    refused as a row entered twice. Several cases of one kind go in one row with their
    summed points, or in rows whose reasons tell them apart (e.g. the case number).

    Returns
    -------
    pandas.DataFrame
        ``unit``, ``period`` (``period[Y-DEC]``), ``points`` (float), ``reason`` (text,
        normalised: NFKC, stripped), sorted by unit, period and reason.

    Raises
    ------
    DataError
        Missing column, non-numeric, malformed or empty points, empty reason, a period that
        is not a year, unreadable period, duplicate (unit, period, reason), unknown unit.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "adjustments.csv").write_text(
    ...     "单位代码,期间,加减分,原因\\n101,2024,-2.5,年底未结案1例\\n"
    ...     "101,2024,1,市级表彰\\n", encoding="utf-8")
    >>> load_adjustments(d)
      unit period  points   reason
    0  101   2024     1.0     市级表彰
    1  101   2024    -2.5  年底未结案1例
    """
    units = _units_table(path, units)
    w = _walk(path, ADJUSTMENTS, units, header_row=header_row, sheet=sheet, period=period)
    data, col = w.data, w.col
    points = w.numbers["points"].to_numpy()
    col.at(np.isnan(points) & ~col.flagged("points"), "points", "points is empty")
    check_periods(data, col)
    _check_years(data, col)
    check_duplicates(data, ADJUSTMENTS.keys, col)
    check_units_known(data, units, col)
    col.raise_if_any()
    out = pd.DataFrame({"unit": data["unit"].astype("string"), "period": data["period"],
                        "points": points, "reason": data["reason"].astype("string")})
    out = out.sort_values(["unit", "period", "reason"], kind="stable").reset_index(drop=True)
    return _store(out, w.report)


# ---- population by sex and age group (population_age.csv) ----

_SEX_ALIASES = {"男": "male", "女": "female", "男性": "male", "女性": "female", "m": "male",
                "f": "female"}
#: Relative tolerance between population_age's total and the counts' mean population.
POPULATION_TOLERANCE = 0.01


def _age_labels(values: pd.Series) -> pd.Series:
    """Normalise age-group cells: ``0岁`` -> ``0``, ``1～4岁`` -> ``1-4``, ``100岁及以上`` and
    ``100 +`` -> ``100+``."""
    text = normalise_keys(values).fillna("")
    text = text.str.replace(r"\s+", "", regex=True).str.replace(r"[~—–至]", "-", regex=True)
    text = text.str.replace(r"岁?(及以上|以上)$", "+", regex=True).str.replace("岁", "",
                                                                              regex=False)
    return text


def _population_age_totals(data: pd.DataFrame, numbers: dict[str, pd.Series],
                           counts: pd.DataFrame, col: Collector) -> list[str]:
    """Compare each (unit, year)'s totals with the monthly counts of a complete year;
    return the (unit, year)s not compared, each with the reason."""
    need = {"unit", "period", "population", "deaths"}
    if not need <= set(counts.columns):
        raise ValueError("counts= needs unit, period, population and deaths columns")
    if counts["period"].dtype != "period[M]":
        raise ValueError("counts= must be monthly counts (period[M]), as load_counts returns")
    women = "women_15_49" in counts.columns
    cols = list(need) + (["women_15_49"] if women else [])
    years = pr.rollup(counts[cols], "Y", columns=())
    years = years[years["complete"]]
    fertile = (data["sex"] == "female").to_numpy() & data["age_group"].isin(
        [f"{a}-{a + 4}" for a in range(15, 50, 5)]).to_numpy()
    key = pd.DataFrame({"unit": data["unit"].astype(str), "period": data["period"].astype(str),
                        "pos": np.arange(len(data)),
                        "population": numbers["population"].to_numpy(),
                        "women": np.where(fertile, numbers["population"].to_numpy(), 0.0),
                        "deaths": numbers["deaths"].to_numpy()})
    sums = key.groupby(["unit", "period"], sort=False).agg(
        pos=("pos", "min"), population=("population", "sum"), women=("women", "sum"),
        deaths=("deaths", "sum"))
    ref = pd.DataFrame({"unit": years["unit"].astype(str), "period": years["period"].astype(str),
                        "mean_population": years["population"].to_numpy(float),
                        "mean_women": years["women_15_49"].astype("Float64").to_numpy(
                            float, na_value=np.nan) if women else np.nan,
                        "deaths_counts": years["deaths"].to_numpy(float)})
    both = sums.reset_index().merge(ref, on=["unit", "period"])
    pos = both["pos"].to_numpy()
    for c, ref_c, what in (("population", "mean_population", "population"),
                           ("women", "mean_women", "women 15-49")):
        far = (np.abs(both[c] - both[ref_c]) > POPULATION_TOLERANCE * both[ref_c]).to_numpy()
        for i in np.flatnonzero(far):
            col.add(int(col.rows[pos[i]]), "population",
                    f"unit {both['unit'].iloc[i]}, {both['period'].iloc[i]}: {what} by age "
                    f"sum to {fmt(both[c].iloc[i])} but the counts' mean {what} is "
                    f"{both[ref_c].iloc[i]:.1f} (more than {POPULATION_TOLERANCE:.0%} apart)")
    off = (both["deaths"] != both["deaths_counts"]).to_numpy()
    for i in np.flatnonzero(off):
        col.add(int(col.rows[pos[i]]), "deaths",
                f"unit {both['unit'].iloc[i]}, {both['period'].iloc[i]}: deaths by age sum to "
                f"{fmt(both['deaths'].iloc[i])} but the monthly counts' deaths sum to "
                f"{fmt(both['deaths_counts'].iloc[i])}")
    partial = set(zip(counts["unit"].astype(str), counts["period"].dt.year.astype(str),
                      strict=True))
    keys = sums.index.tolist()
    compared = set(zip(both["unit"], both["period"], strict=True))
    return [f"{u} {y} (" + ("the counts hold only part of the year" if (u, y) in partial
                            else "no counts for it") + ")"
            for u, y in keys if (u, y) not in compared]


def load_population_age(path: str | Path, *, units: pd.DataFrame | str | Path | None = None,
                        counts: pd.DataFrame | str | Path | None = None,
                        header_row: int | None = None, sheet: str | int | None = None,
                        period: object = None) -> pd.DataFrame:
    """Load population and deaths by unit, year, sex and abridged age group.

    The file (``population_age.*`` in a data directory; English or Chinese headers, title
    lines and notes as for counts) has ``unit`` (or ``name`` with ``units``), ``period``
    (the year, e.g. ``2024``: the population is the mid-year population, the deaths those
    of the year), ``sex`` (``male``/``female``; 男/女 accepted), ``age_group`` and
    ``population``, ``deaths`` (non-negative whole numbers). The age groups are strictly
    the abridged ones, ``0``, ``1-4``, ``5-9``, ..., ``95-99``, ``100+``
    (:data:`fpanalysis.schema.POPULATION_AGE_GROUPS`; ``1～4岁`` and ``100岁及以上`` are
    read as ``1-4`` and ``100+``); every unit and year has both sexes with every group, so
    that a life table can be built (0 and 1-4 apart) and 0-4 is their sum. Other
    parameters are as for :func:`load_counts`.

    Parameters
    ----------
    counts : DataFrame or path, optional
        Monthly counts (as :func:`load_counts` returns, or where to load them from). For
        every unit and year that both tables have, with all twelve months in the counts:
        the population by age must sum to within 1 % (``POPULATION_TOLERANCE``) of the
        counts' mean population over the year (day-weighted, a mid-year population
        measured another way), so must the women 15-49 (female 15-19 ... 45-49) to the
        counts' mean ``women_15_49`` where the counts have it, and the deaths by age must
        sum exactly to the year's monthly deaths. Years the counts hold only in part (or not
        at all) are not compared: ``attrs["load_report"]["not_compared"]`` lists them, e.g.
        ``["101 2025 (the counts hold only part of the year)"]``.

    Returns
    -------
    pandas.DataFrame
        ``unit``, ``period`` (``period[Y-DEC]``), ``sex``, ``age_group`` (text, the labels
        above), ``population``, ``deaths`` (``Int64``), sorted by unit, period, sex and age.

    Raises
    ------
    DataError
        Missing column, bad count (negative, fractional, not a number), a period that is
        not a year, unknown sex or age group (with a suggestion), duplicate (unit, period,
        sex, age group), unknown unit, an empty population or deaths cell, a unit and year
        lacking a sex or age group, deaths above population, rows of a unit and of units
        below it for the same year (with ``units``), totals that disagree with ``counts``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> groups = ["0", "1-4"] + [f"{a}-{a + 4}" for a in range(5, 100, 5)] + ["100+"]
    >>> rows = [f"101,2024,{s},{g},100,1" for s in ("male", "female") for g in groups]
    >>> _ = (d / "population_age.csv").write_text(
    ...     "unit,period,sex,age_group,population,deaths\\n" + "\\n".join(rows) + "\\n")
    >>> load_population_age(d).head(3)
      unit period   sex age_group  population  deaths
    0  101   2024  male         0         100       1
    1  101   2024  male       1-4         100       1
    2  101   2024  male       5-9         100       1
    """
    units = _units_table(path, units)
    w = _walk(path, POPULATION_AGE, units, header_row=header_row, sheet=sheet, period=period)
    data, col, n = w.data, w.col, w.numbers
    check_periods(data, col)
    _check_years(data, col, "population and deaths by age")
    sex = normalise_keys(data["sex"]).fillna("").str.lower()
    sex = sex.replace(_SEX_ALIASES)
    bad_sex = ~sex.isin(SEXES) & (sex != "")
    col.at(bad_sex.to_numpy(), "sex",
           lambda p: f"unknown sex {sex.iloc[p]!r} (male or female)"
                     f"{suggestion(sex.iloc[p], SEXES)}")
    age = _age_labels(data["age_group"])
    bad_age = ~age.isin(POPULATION_AGE_GROUPS) & (age != "")
    col.at(bad_age.to_numpy(), "age_group",
           lambda p: f"unknown age group {age.iloc[p]!r} (0, 1-4, 5-9, ..., 95-99, 100+)"
                     f"{suggestion(age.iloc[p], POPULATION_AGE_GROUPS)}")
    data["sex"], data["age_group"] = sex, age
    check_duplicates(data, POPULATION_AGE.keys, col)
    check_units_known(data, units, col)
    pop, dead = n["population"].to_numpy(), n["deaths"].to_numpy()
    for c, v in (("population", pop), ("deaths", dead)):  # a gap here is not a count of 0
        col.at(np.isnan(v) & ~col.flagged(c), c, f"{c} is empty")
    col.at(dead > pop, "deaths",
           lambda p: f"deaths ({fmt(dead[p])}) exceed population ({fmt(pop[p])})")
    _check_complete(data, col, (sex.isin(SEXES) & age.isin(POPULATION_AGE_GROUPS)).to_numpy())
    if units is not None:
        _check_one_level(data, units, col)
    not_compared = None
    if counts is not None and not col.problems:
        if not isinstance(counts, pd.DataFrame):
            counts = load_counts(counts, units=units)
        not_compared = _population_age_totals(data, n, counts, col)
    col.raise_if_any()
    for c, num in w.exact.items():
        data[c] = num
    data["unit"] = data["unit"].astype("string")
    order = {g: i for i, g in enumerate(POPULATION_AGE_GROUPS)}
    out = data[list(POPULATION_AGE.required)].assign(
        _s=data["sex"].map({"male": 0, "female": 1}), _a=data["age_group"].map(order))
    out = out.sort_values(["unit", "period", "_s", "_a"], kind="stable")
    out = out.drop(columns=["_s", "_a"]).astype({"sex": "string", "age_group": "string"})
    # with counts=: the unit-years not checked, and why
    extra = {} if not_compared is None else {"not_compared": not_compared}
    return _store(out.reset_index(drop=True), w.report, **extra)


def _check_one_level(data: pd.DataFrame, units: pd.DataFrame, col: Collector) -> None:
    """Rows of a unit whose descendants have rows for the same year would be counted twice
    when the units are summed: report the first row of each such unit and year."""
    present = pd.DataFrame({"unit": data["unit"].astype(str),
                            "period": data["period"].astype(str), "row": col.rows})
    pairs = present[["unit", "period"]].drop_duplicates().merge(
        lineage(units)[["unit", "ancestor"]], on="unit")
    heads = pairs[["ancestor", "period"]].drop_duplicates().rename(columns={"ancestor": "unit"})
    first = present.groupby(["unit", "period"], sort=True)["row"].min().reset_index()
    for _, r in first.merge(heads, on=["unit", "period"]).iterrows():  # a few at most
        col.add(int(r["row"]), "unit",
                f"unit {r['unit']} has rows for {r['period']} and so do units below it: "
                "population_age holds units of one level (a county's figures are the sum of "
                "its townships'; drop the county's rows)")


def _check_complete(data: pd.DataFrame, col: Collector, good: np.ndarray) -> None:
    """Every (unit, year) present has both sexes and every age group."""
    keys = pd.DataFrame({"unit": data["unit"].astype(str), "period": data["period"].astype(str),
                         "sex": data["sex"], "age_group": data["age_group"],
                         "row": col.rows})[good]
    if keys.empty:
        return
    heads = keys.groupby(["unit", "period"], sort=True)["row"].min()
    k = len(SEXES) * len(POPULATION_AGE_GROUPS)
    full = pd.MultiIndex.from_arrays(
        [np.repeat(heads.index.get_level_values(0).to_numpy(), k),
         np.repeat(heads.index.get_level_values(1).to_numpy(), k),
         np.tile(np.repeat(SEXES, len(POPULATION_AGE_GROUPS)), len(heads)),
         np.tile(POPULATION_AGE_GROUPS, len(SEXES) * len(heads))],
        names=["unit", "period", "sex", "age_group"])
    have = pd.MultiIndex.from_frame(keys[["unit", "period", "sex", "age_group"]])
    lack = full.difference(have).to_frame(index=False)
    if lack.empty:
        return
    order = {g: i for i, g in enumerate(POPULATION_AGE_GROUPS)}
    lack["_a"] = lack["age_group"].map(order)
    for (u, p, s), part in lack.sort_values("_a").groupby(["unit", "period", "sex"], sort=True):
        groups = part["age_group"].tolist()
        what = ("no rows" if len(groups) == len(POPULATION_AGE_GROUPS)
                else "no row for age group(s) " + ", ".join(groups))
        col.add(int(heads[(u, p)]), "age_group", f"unit {u}, {p}, {s}: {what}")


# -- second source of births (issue 9) ------------------------------------------------------
def load_births_hospital(path: str | Path, *, units: pd.DataFrame | str | Path | None = None,
                         header_row: int | None = None, sheet: str | int | None = None,
                         period: object = None, optional: bool = False
                         ) -> pd.DataFrame | None:
    """Load births from a second source (hospital delivery records) per unit and period,
    to compare with the register's (:func:`fpanalysis.quality.sources.compare_sources`).

    The file (``births_hospital.*`` in a data directory; English or Chinese headers, title
    lines, a totals row and notes as for counts) has ``unit`` (or ``name`` with ``units``),
    ``period`` and ``births`` (total) or ``births_male`` and ``births_female``, or all
    three. Other parameters are as for :func:`load_counts`; with ``optional=True`` a data
    directory without the file gives ``None`` (no second source), not an error.

    Returns
    -------
    pandas.DataFrame
        ``unit``, ``period``, ``births_male``, ``births_female`` (when given) and ``births``
        (as given, or male + female), nullable ``Int64`` (an empty cell stays ``<NA>``,
        never 0), sorted by unit and period.

    Raises
    ------
    DataError
        With every problem: missing unit or period column, no births column (neither
        ``births`` nor both sexes), one sex without the other, non-numeric, negative or
        fractional count, male + female not equal to births, duplicate (unit, period),
        unknown unit, unreadable period, periods of several kinds.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "births_hospital.csv").write_text(
    ...     "乡镇代码,期间,男,女\\n101,2024-07,5,4\\n102,2024-07,2,\\n", encoding="utf-8")
    >>> load_births_hospital(d)
      unit   period  births_male  births_female  births
    0  101  2024-07            5              4       9
    1  102  2024-07            2           <NA>    <NA>
    """
    if _absent(path, HOSPITAL_BIRTHS.name, optional):
        return None
    units = _units_table(path, units)
    w = _walk(path, HOSPITAL_BIRTHS, units, header_row=header_row, sheet=sheet, period=period)
    data, col, n = w.data, w.col, w.numbers
    if "births" not in n and not {"births_male", "births_female"} & set(n):
        col.add(w.report.header_row, "births", "required column is missing (give births, "
                                               "or births_male and births_female)")
    check_periods(data, col)
    check_duplicates(data, HOSPITAL_BIRTHS.keys, col)
    check_units_known(data, units, col)
    consistency(data, n, col)  # male + female = births; one sex without the other
    col.raise_if_any()
    cols = [c for c in ("births_male", "births_female", "births") if c in w.exact]
    out = pd.DataFrame({"unit": data["unit"].astype("string"), "period": data["period"]})
    for c in cols:
        out[c] = w.exact[c].astype("Int64")
    if "births" not in out.columns:
        out["births"] = out["births_male"] + out["births_female"]
    out = out.sort_values(["unit", "period"], kind="stable").reset_index(drop=True)
    return _store(out, w.report)
# -- end second source of births ------------------------------------------------------------
