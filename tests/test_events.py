"""Tests of fpanalysis.events.aggregate_events (issue 12, Scale).

Expected values come from (a) arithmetic by hand, written in comments, or (b) ``reference``
below: a plain pandas filter + groupby written here from the rules in the docstring, which
shares no code with the module (no lookup tables, no integer keys, no bincount).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fpanalysis import indicators, io, synth
from fpanalysis.events import aggregate_events, rejected_events
from fpanalysis.schema import DataError

ROOT = Path(__file__).resolve().parents[1]
COUNT_COLUMNS = [
    "births", "births_male", "births_female", "births_male_o1", "births_female_o1",
    "births_male_o2", "births_female_o2", "births_male_o3p", "births_female_o3p", "deaths",
    "deaths_infant", "births_compliant", "births_age_15_19", "births_age_20_24",
    "births_age_25_29", "births_age_30_34", "births_age_35_39", "births_age_40_44",
    "births_age_45_49", "births_age_10_14", "births_age_50_60"]


# --------------------------------------------------------------------------- the reference

def _label(dates: pd.Series, kind: str) -> pd.Series:
    """Period label text of each date, written out by hand for each kind."""
    def one(d: pd.Timestamp) -> str | None:
        if pd.isna(d):
            return None
        if kind == "M":
            return f"{d.year}-{d.month:02d}"
        if kind == "Q":
            return f"{d.year}Q{(d.month - 1) // 3 + 1}"
        if kind == "Y":
            return f"{d.year}"
        return f"{d.year}-{d.month:02d}-D{1 if d.day <= 10 else 2 if d.day <= 20 else 3}"

    return pd.Series([one(d) for d in dates], index=dates.index, dtype=object)


def reference(ev: pd.DataFrame, kind: str, start: str, end: str,
              units: list[str] | None = None) -> tuple[pd.DataFrame, int]:
    """Counts by a plain filter + groupby; returns the frame and the number of rows used."""
    unit = ev["unit"].astype("string").str.strip()
    date = pd.to_datetime(ev["date"], format="ISO8601", errors="coerce")
    num = {c: pd.to_numeric(ev[c], errors="coerce") for c in
           ("birth_order", "mother_age", "age_at_death")}
    ok = unit.notna() & (unit != "") & date.notna()
    ok &= (date >= pd.Timestamp(start)) & (date <= pd.Timestamp(end))
    if units is not None:
        ok &= unit.isin(units)
    birth = ev["event"].eq("birth").fillna(False).astype(bool)
    death = ev["event"].eq("death").fillna(False).astype(bool)
    good_birth = (birth & ev["sex"].isin(["M", "F"]) & (num["birth_order"] >= 1)
                  & num["mother_age"].between(10, 60) & ev["compliant"].notna())
    good_death = death & num["age_at_death"].between(0, 130)
    ok &= good_birth | good_death
    e = pd.DataFrame({"unit": unit, "period": _label(date.where(ok), kind)})[ok]
    b = good_birth[ok]
    male = b & ev["sex"].eq("M")[ok]
    female = b & ev["sex"].eq("F")[ok]
    order = num["birth_order"][ok]
    age = num["mother_age"][ok]
    cols = {"births": b, "births_male": male, "births_female": female}
    for o, sel in (("o1", order == 1), ("o2", order == 2), ("o3p", order >= 3)):
        cols[f"births_male_{o}"] = male & sel
        cols[f"births_female_{o}"] = female & sel
    cols["deaths"] = good_death[ok]
    cols["deaths_infant"] = good_death[ok] & (num["age_at_death"][ok] == 0)
    cols["births_compliant"] = b & ev["compliant"][ok].eq(True).fillna(False).astype(bool)
    for lo in (15, 20, 25, 30, 35, 40, 45):
        cols[f"births_age_{lo}_{lo + 4}"] = b & age.between(lo, lo + 4)
    cols["births_age_10_14"] = b & age.between(10, 14)
    cols["births_age_50_60"] = b & age.between(50, 60)
    for c, v in cols.items():
        e[c] = v.astype(np.int64)
    sums = e.groupby(["unit", "period"], sort=True)[COUNT_COLUMNS].sum()
    days = pd.date_range(start, end, freq="D").to_series()
    all_periods = list(dict.fromkeys(_label(days, kind)))
    seen = sorted(units) if units is not None else sorted(set(unit.dropna()) - {""})
    grid = pd.MultiIndex.from_product([seen, all_periods], names=["unit", "period"])
    out = sums.reindex(grid, fill_value=0).reset_index()
    return out, int(ok.sum())


def _comparable(counts: pd.DataFrame) -> pd.DataFrame:
    out = counts[["unit", "period"] + COUNT_COLUMNS].copy()
    out["unit"] = out["unit"].astype(object)
    out["period"] = out["period"].astype(str).astype(object)
    return out.sort_values(["unit", "period"]).reset_index(drop=True)


# --------------------------------------------------------------------------- random registers

UNITS = ["101", "102", " 103", "104", None, ""]
FIELDS = ["unit", "date", "event", "sex", "birth_order", "mother_age", "compliant",
          "age_at_death"]
ROWS = st.fixed_dictionaries({
    "unit": st.sampled_from(UNITS),
    "date": st.one_of(
        st.dates(pd.Timestamp("2023-12-25").date(), pd.Timestamp("2025-01-05").date()).map(
            lambda d: d.isoformat()),
        st.sampled_from([None, "2024-02-30", "not a date"])),
    "event": st.sampled_from(["birth", "birth", "birth", "death", "death", "marriage", None]),
    "sex": st.sampled_from(["M", "F", "M", "F", "X", None]),
    "birth_order": st.sampled_from([1, 2, 3, 4, 7, 0, -1, None]),
    "mother_age": st.one_of(st.integers(9, 61), st.none()),
    "compliant": st.sampled_from([True, False, None]),
    "age_at_death": st.sampled_from([0, 0, 1, 45, 130, 131, -1, None]),
})


def _frame(rows: list[dict]) -> pd.DataFrame:
    ev = pd.DataFrame(rows, columns=FIELDS) if rows else pd.DataFrame(
        {c: pd.Series(dtype=object) for c in FIELDS})
    for c in ("birth_order", "mother_age", "age_at_death"):
        ev[c] = pd.array(ev[c].tolist(), dtype="Int64")
    ev["compliant"] = pd.array(ev["compliant"].tolist(), dtype="boolean")
    for c in ("unit", "date", "event", "sex"):
        ev[c] = ev[c].astype(object)
    return ev


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(rows=st.lists(ROWS, max_size=40), kind=st.sampled_from(["M", "Q", "Y", "D"]),
       with_units=st.booleans())
def test_fast_parquet_dask_and_groupby_reference_agree(tmp_path_factory, rows, kind,
                                                       with_units):
    try:
        import dask.dataframe as dd
    except ImportError:  # dask is an optional extra: the other paths are still compared
        dd = None

    ev = _frame(rows)
    before = ev.copy()
    units = ["101", "103", "104", "105"] if with_units else None
    start, end = "2024-01-01", "2024-12-31"
    expected, used = reference(ev, kind, start, end, units)
    fast = aggregate_events(ev, kind, units=units, start="2024-01", end="2024-12",
                            batch_size=7)
    pd.testing.assert_frame_equal(_comparable(fast), expected, check_dtype=False)
    rep = fast.attrs["events_report"]
    assert rep["rows_in"] == len(ev) == rep["rows_used"] + rep["rows_rejected"]
    assert rep["rows_used"] == used
    pd.testing.assert_frame_equal(ev, before)  # input not mutated

    path = tmp_path_factory.mktemp("pq") / "events.parquet"
    pq.write_table(pa.Table.from_pandas(ev, preserve_index=False), path, row_group_size=5)
    streamed = aggregate_events(path, kind, units=units, start="2024-01", end="2024-12",
                                batch_size=3)
    pd.testing.assert_frame_equal(streamed, fast)
    assert streamed.attrs["events_report"]["rows_used"] == used

    if dd is not None:
        lazy = aggregate_events(dd.from_pandas(ev, npartitions=3), kind, units=units,
                                start="2024-01", end="2024-12")
        pd.testing.assert_frame_equal(lazy, fast)
        assert lazy.attrs["events_report"]["rows_rejected"] == rep["rows_rejected"]
    pd.testing.assert_frame_equal(ev, before)


def test_synthetic_register_same_on_every_path(tmp_path):
    # a typed register (dictionary units, date32, int8, bool) with planted problems
    dd = pytest.importorskip("dask.dataframe")

    ev = synth.make_events(30_000, n_units=60, seed=5, invalid=0.02, chunk=10_000)
    path = synth.write_event_register(tmp_path / "ev.parquet", 30_000, n_units=60, seed=5,
                                      invalid=0.02, row_group=10_000)
    assert pq.ParquetFile(path).metadata.num_row_groups == 3
    fast = aggregate_events(ev, "M", start="2023-01", end="2024-12")
    expected, used = reference(
        ev.assign(date=ev["date"].dt.strftime("%Y-%m-%d"), event=ev["event"].astype(object),
                  sex=ev["sex"].astype(object), unit=ev["unit"].astype(object)),
        "M", "2023-01-01", "2024-12-31")
    pd.testing.assert_frame_equal(_comparable(fast), expected, check_dtype=False)
    assert fast.attrs["events_report"]["rows_used"] == used
    streamed = aggregate_events(path, "M", start="2023-01", end="2024-12", batch_size=4096)
    pd.testing.assert_frame_equal(streamed, fast)
    lazy = aggregate_events(dd.read_parquet(path), "M", start="2023-01", end="2024-12")
    pd.testing.assert_frame_equal(lazy, fast)
    # without start/end the range comes from the data (planted dates a year early: 2022)
    open_range = aggregate_events(path, "Q")
    assert str(open_range["period"].min()) == "2022Q1"
    assert str(open_range["period"].max()) == "2024Q4"


# --------------------------------------------------------------------------- by hand

def _hand_register() -> pd.DataFrame:
    return pd.DataFrame({
        "unit": ["A", "A", "A", "A", "B", "B", "B", "A"],
        "date": pd.to_datetime(["2024-07-01", "2024-07-10", "2024-07-11", "2024-07-31",
                                "2024-08-21", "2024-09-30", "2024-10-01", "2024-08-15"]),
        "event": ["birth", "birth", "death", "birth", "birth", "death", "birth", "birth"],
        "sex": ["M", "F", "M", "M", "F", None, "F", "F"],
        "birth_order": [1, 3, None, 2, 5, None, 1, 2],
        "mother_age": [24, 51, None, 14, 33, None, 30, 45],
        "compliant": [True, False, None, True, True, None, True, False],
        "age_at_death": [None, None, 0, None, None, 70, None, None],
    })


def test_hand_computed_quarter():
    out = aggregate_events(_hand_register(), "Q", start="2024Q3", end="2024Q3")
    # 2024Q3 = July-September; row 7 (2024-10-01) is outside: date_outside
    # A: births rows 1, 2, 4, 8 = 4 (male: rows 1, 4 = 2; female: rows 2, 8 = 2)
    #    by order: male o1 (row 1), male o2 (row 4), female o3p (row 2), female o2 (row 8)
    #    deaths: row 3, age 0 -> 1 death, 1 infant death
    #    compliant: rows 1, 4 = 2; ages 24 -> 20-24, 51 -> 50-60, 14 -> 10-14, 45 -> 45-49
    # B: births row 5 (female, order 5 -> o3p, 33 -> 30-34, compliant) = 1; death row 6
    a = out.set_index("unit").loc["A"]
    b = out.set_index("unit").loc["B"]
    assert list(out["unit"]) == ["A", "B"] and str(a["period"]) == "2024Q3"
    assert (a["births"], a["births_male"], a["births_female"]) == (4, 2, 2)
    assert (a["births_male_o1"], a["births_male_o2"], a["births_male_o3p"]) == (1, 1, 0)
    assert (a["births_female_o1"], a["births_female_o2"], a["births_female_o3p"]) == (0, 1, 1)
    assert (a["deaths"], a["deaths_infant"], a["births_compliant"]) == (1, 1, 2)
    assert (a["births_age_20_24"], a["births_age_45_49"], a["births_age_10_14"],
            a["births_age_50_60"], a["births_age_30_34"]) == (1, 1, 1, 1, 0)
    assert (b["births"], b["births_female_o3p"], b["births_age_30_34"], b["deaths"],
            b["deaths_infant"], b["births_compliant"]) == (1, 1, 1, 1, 0, 1)
    r = rejected_events(out).set_index("reason")
    assert r.loc["date_outside", "rows"] == 1
    assert r.loc["date_outside", "first_rows"] == "events row 7"
    assert r.attrs == {"rows_in": 8, "rows_used": 7, "rows_rejected": 1}


def test_hand_computed_dekads_and_zero_rows():
    out = aggregate_events(_hand_register(), "dekad", units=["A", "B", "C"], start="2024-07",
                           end="2024-07")
    # July has three dekads: D1 = 1-10 (rows 1, 2: births M o1, F o3p), D2 = 11-20 (row 3:
    # the infant death), D3 = 21-31 (row 4: birth M o2 on the 31st). B and C have no July
    # events: rows of zeros. Rows 5-8 are outside July.
    assert list(out["unit"]) == ["A"] * 3 + ["B"] * 3 + ["C"] * 3
    assert [str(p) for p in out["period"][:3]] == ["2024-07-D1", "2024-07-D2", "2024-07-D3"]
    assert out["births"].tolist() == [2, 0, 1] + [0] * 6
    assert out["deaths_infant"].tolist() == [0, 1, 0] + [0] * 6
    assert rejected_events(out).set_index("reason").loc["date_outside", "rows"] == 4


def test_every_age_and_order_lands_in_its_column():
    # one valid birth per mother's age 9..61 (53 births), order cycling 1..5, sex M, F, M...
    ages = list(range(9, 62))
    ev = pd.DataFrame({"unit": "A", "date": "2024-05-05", "event": "birth",
                       "sex": ["M" if i % 2 == 0 else "F" for i in range(len(ages))],
                       "birth_order": [i % 5 + 1 for i in range(len(ages))],
                       "mother_age": ages, "compliant": True})
    out = aggregate_events(ev, "M", start="2024-05", end="2024-05").iloc[0]
    # ages 9 and 61 are rejected: 51 births; 10-14: 5 (10..14), each 5-year group 15-19 ..
    # 45-49: 5, 50-60: 11 (50..60); 5 + 7 x 5 + 11 = 51
    assert out["births"] == 51
    assert out["births_age_10_14"] == 5 and out["births_age_50_60"] == 11
    for lo in range(15, 50, 5):
        assert out[f"births_age_{lo}_{lo + 4}"] == 5
    # ages 10..60 are positions 1..51; position i has order i % 5 + 1 and sex M when i is
    # even. Order 1: i % 5 == 0, i = 5, 10, .., 50 -> 10; order 2: i % 5 == 1, i = 1, 6,
    # .., 51 -> 11; orders 3-5: 51 - 21 = 30
    assert out["births_male_o1"] + out["births_female_o1"] == 10
    assert out["births_male_o2"] + out["births_female_o2"] == 11
    assert out["births_male_o3p"] + out["births_female_o3p"] == 30
    # even positions 2..50: 25 boys; odd 1..51: 26 girls
    assert (out["births_male"], out["births_female"]) == (25, 26)
    assert rejected_events(aggregate_events(ev, "M", start="2024-05", end="2024-05")) \
        .set_index("reason").loc["mother_age_invalid", "first_rows"] == \
        "events row 1, events row 53"


def test_output_has_the_contract_types_and_order():
    out = aggregate_events(_hand_register(), "M", start="2024-07", end="2024-10")
    assert list(out.columns) == ["unit", "period"] + COUNT_COLUMNS
    assert out["unit"].dtype == "string"
    assert out["period"].dtype == "period[M]"
    assert all(out[c].dtype == np.int64 for c in COUNT_COLUMNS)
    assert isinstance(out.index, pd.RangeIndex)
    # no age_at_death column: no deaths_infant column, deaths still counted
    plain = aggregate_events(_hand_register().drop(columns="age_at_death"), "Y",
                             start="2024", end="2024")
    assert "deaths_infant" not in plain.columns
    assert plain["deaths"].tolist() == [1, 1]  # A: row 3; B: row 6
    assert plain["period"].dtype == "period[Y-DEC]"
    halves = aggregate_events(_hand_register(), "H", start="2024H2", end="2024H2")
    # 2024H2 = July-December: every event; A has births on rows 1, 2, 4, 8, B on 5, 7
    assert [str(p) for p in halves["period"]] == ["2024H2", "2024H2"]
    assert halves["births"].tolist() == [4, 2]


# --------------------------------------------------------------------------- invalid events

BIRTH = {"unit": "101", "date": "2024-03-05", "event": "birth", "sex": "F", "birth_order": 2,
         "mother_age": 30, "compliant": True, "age_at_death": None}
DEATH = {"unit": "101", "date": "2024-03-06", "event": "death", "sex": None,
         "birth_order": None, "mother_age": None, "compliant": None, "age_at_death": 0}

CASES = [  # (base row, column, bad value, reason)
    (BIRTH, "unit", None, "unit_missing"),
    (BIRTH, "unit", "  ", "unit_missing"),
    (BIRTH, "unit", "999", "unit_unknown"),
    (BIRTH, "unit", "100", "unit_not_leaf"),
    (BIRTH, "date", None, "date_missing"),
    (BIRTH, "date", "2024-13-01", "date_invalid"),
    (BIRTH, "date", "2025-01-01", "date_outside"),
    (BIRTH, "event", None, "event_missing"),
    (BIRTH, "event", "marriage", "event_unknown"),
    (BIRTH, "sex", None, "sex_missing"),
    (BIRTH, "sex", "X", "sex_unknown"),
    (BIRTH, "birth_order", None, "birth_order_missing"),
    (BIRTH, "birth_order", 0, "birth_order_invalid"),
    (BIRTH, "birth_order", -2, "birth_order_invalid"),
    (BIRTH, "birth_order", 1.5, "birth_order_invalid"),
    (BIRTH, "mother_age", None, "mother_age_missing"),
    (BIRTH, "mother_age", 9, "mother_age_invalid"),
    (BIRTH, "mother_age", 61, "mother_age_invalid"),
    (BIRTH, "mother_age", 30.5, "mother_age_invalid"),
    (BIRTH, "mother_age", "thirty", "mother_age_invalid"),
    (BIRTH, "compliant", None, "compliant_missing"),
    (BIRTH, "compliant", "maybe", "compliant_invalid"),
    (DEATH, "age_at_death", None, "age_at_death_missing"),
    (DEATH, "age_at_death", -1, "age_at_death_invalid"),
    (DEATH, "age_at_death", 131, "age_at_death_invalid"),
]
TOWNS = pd.DataFrame({"unit": ["100", "101", "102"], "name": ["T", "V1", "V2"],
                      "parent": ["", "100", "100"], "level": ["township", "village",
                                                              "village"]})


@pytest.mark.parametrize("case", CASES, ids=[f"{c[1]}={c[2]!r}" for c in CASES])
def test_every_invalid_reason_is_counted_and_named(case):
    base, column, value, reason = case
    bad = dict(base)
    bad[column] = value
    ev = pd.DataFrame([BIRTH, DEATH, bad], dtype=object)
    out = aggregate_events(ev, "M", units=TOWNS, start="2024-01", end="2024-12")
    r = rejected_events(out).set_index("reason")
    assert r.loc[reason, "rows"] == 1
    assert r.loc[reason, "first_rows"] == "events row 3"
    assert r["rows"].sum() == 1  # no other rule fires
    assert r.attrs == {"rows_in": 3, "rows_used": 2, "rows_rejected": 1}
    # the valid birth and death are counted; the township above the villages has no row
    assert out["unit"].unique().tolist() == ["101", "102"]
    assert out["births"].sum() == 1 and out["deaths"].sum() == 1
    if reason != "date_outside":
        with pytest.raises(DataError, match=rf"events, row 3, column '{column}': "):
            aggregate_events(ev, "M", units=TOWNS, start="2024-01", end="2024-12",
                             strict=True)
    else:  # a selection, not a data error
        aggregate_events(ev, "M", units=TOWNS, start="2024-01", end="2024-12", strict=True)


def test_strict_lists_every_problem_of_every_row():
    ev = pd.DataFrame([BIRTH, {**BIRTH, "sex": "X", "mother_age": 70}, DEATH,
                       {**DEATH, "age_at_death": -5, "unit": None}], dtype=object)
    with pytest.raises(DataError) as err:
        aggregate_events(ev, "M", start="2024-01", end="2024-12", strict=True)
    text = [str(p) for p in err.value.problems]
    assert text == [
        "events, row 2, column 'sex': unknown sex code (expected M/F, male/female, 男/女 or 1/2)",
        "events, row 2, column 'mother_age': mother's age must be a whole number of years "
        "from 10 to 60",
        "events, row 4, column 'unit': unit is empty",
        "events, row 4, column 'age_at_death': age at death must be a whole number of years "
        "from 0 to 130",
    ]
    assert str(err.value).startswith("4 problem(s) found:")


def test_equivalent_codes_are_accepted():
    ev = pd.DataFrame({"unit": ["１０１", "101 ", "101", "101"],
                       "date": ["2024-03-01", "2024-03-02T10:30:00", "2024-03-03", "2024-03-04"],
                       "event": ["出生", "BIRTH", "birth", "死亡"],
                       "sex": ["男", "female", 2, None], "birth_order": ["1", 2.0, 3, None],
                       "mother_age": [30, "31", 32.0, None], "compliant": ["是", "no", 1, None],
                       "age_at_death": [None, None, None, "0"]}, dtype=object)
    out = aggregate_events(ev, "M", start="2024-03", end="2024-03")
    # full-width １０１ and '101 ' are unit 101; 男 male, female and 2 female;
    # compliant: 是 yes, no, 1 yes -> 2; the death has age 0 -> infant
    row = out.iloc[0]
    assert out["unit"].tolist() == ["101"]
    assert (row["births"], row["births_male"], row["births_female"]) == (3, 1, 2)
    assert (row["births_male_o1"], row["births_female_o2"], row["births_female_o3p"]) == \
        (1, 1, 1)
    assert (row["births_compliant"], row["deaths"], row["deaths_infant"]) == (2, 1, 1)


# --------------------------------------------------------------------------- arguments

def test_argument_errors_have_one_sentence_each(tmp_path):
    ev = _hand_register()
    with pytest.raises(ValueError, match=r"period must be one of 'D' \(dekad\), 'M' "
                                         r"\(month\), 'Q' \(quarter\), 'H' \(half-year\) or "
                                         r"'Y' \(year\), got 'W'"):
        aggregate_events(ev, "W")
    with pytest.raises(ValueError, match=r"by column 'unt' is not in the events \(did you "
                                         r"mean 'unit'\?\)"):
        aggregate_events(ev, by=("unt",))
    with pytest.raises(ValueError, match="by must not name 'period'"):
        aggregate_events(ev.assign(period="x"), by=("unit", "period"))
    with pytest.raises(TypeError, match=r"by must be a sequence of column names such as "
                                        r"\('unit',\), got 'unit'"):
        aggregate_events(ev, by="unit")
    with pytest.raises(TypeError, match="events must be a pandas DataFrame, a path to a "
                                        "Parquet file or directory, or a dask DataFrame, "
                                        "got list"):
        aggregate_events([1, 2])
    with pytest.raises(ValueError, match=r"start 2024-01-15 is not the first day of a month"):
        aggregate_events(ev, "M", start="2024-01-15")
    with pytest.raises(ValueError, match=r"end 2024-03-30 is not the last day of a quarter"):
        aggregate_events(ev, "Q", end="2024-03-30")
    with pytest.raises(ValueError, match="end '2024-01' is before start '2024-03'"):
        aggregate_events(ev, "M", start="2024-03", end="2024-01")
    with pytest.raises(ValueError, match="start must be a period label"):
        aggregate_events(ev, "M", start="soon")
    with pytest.raises(DataError, match="events, column 'sex': required column is missing"):
        aggregate_events(ev.drop(columns="sex"))
    with pytest.raises(ValueError, match="units must have a 'unit' column"):
        aggregate_events(ev, units=pd.DataFrame({"code": ["A"]}))
    with pytest.raises(ValueError, match="units has an empty unit code"):
        aggregate_events(ev, units=["A", None])
    with pytest.raises(FileNotFoundError, match="no such events file or directory"):
        aggregate_events(tmp_path / "none.parquet")
    (tmp_path / "ev.csv").write_text("unit\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"events file must be Parquet \(.parquet\), got "
                                         r"ev.csv"):
        aggregate_events(tmp_path / "ev.csv")


# --------------------------------------------------------------------------- edges

def test_empty_register_gives_zero_rows_for_every_unit_or_nothing():
    empty = _hand_register().iloc[:0]
    out = aggregate_events(empty, "Q", units=["A", "B"], start="2024Q1", end="2024Q2")
    assert out[["unit", "period"]].astype(str).values.tolist() == [
        ["A", "2024Q1"], ["A", "2024Q2"], ["B", "2024Q1"], ["B", "2024Q2"]]
    assert (out[COUNT_COLUMNS] == 0).all().all()
    # no range and no events: no periods, so no rows, but every column
    bare = aggregate_events(empty, "M")
    assert len(bare) == 0 and list(bare.columns) == ["unit", "period"] + COUNT_COLUMNS
    assert rejected_events(bare).attrs == {"rows_in": 0, "rows_used": 0, "rows_rejected": 0}


def test_a_unit_whose_events_are_all_rejected_keeps_its_rows():
    ev = pd.DataFrame([BIRTH, {**BIRTH, "unit": "102", "sex": "X"}], dtype=object)
    out = aggregate_events(ev, "Q", start="2024Q1", end="2024Q1")
    # 102 is named by the register: it has its row (zeros), its event is reported
    assert out["unit"].tolist() == ["101", "102"]
    assert out["births"].tolist() == [1, 0]


def test_by_other_columns_and_by_nothing():
    ev = _hand_register().assign(residence=["u", "r", "u", "u", "r", "r", "u", None])
    out = aggregate_events(ev, "Y", by=("unit", "residence"), start="2024", end="2024")
    # units A, B crossed with residences r, u; row 8 has no residence: rejected
    assert out[["unit", "residence"]].values.tolist() == [["A", "r"], ["A", "u"],
                                                          ["B", "r"], ["B", "u"]]
    # A-r: row 2 (birth); A-u: rows 1, 4 (births), 3 (death); B-r: row 5 birth, row 6
    # death; B-u: row 7 birth
    assert out["births"].tolist() == [1, 2, 1, 1]
    assert out["deaths"].tolist() == [0, 1, 1, 0]
    assert rejected_events(out).set_index("reason").loc["residence_missing", "rows"] == 1
    total = aggregate_events(_hand_register(), "Y", by=(), start="2024", end="2024")
    assert list(total.columns[:2]) == ["period", "births"]
    assert total["births"].tolist() == [6] and total["deaths"].tolist() == [2]


def test_parquet_directory_numbers_rows_per_file(tmp_path):
    d = tmp_path / "register"
    d.mkdir()
    first = pd.DataFrame([BIRTH, BIRTH], dtype=object)
    second = pd.DataFrame([BIRTH, {**BIRTH, "birth_order": 0}], dtype=object)
    for name, frame in (("a.parquet", first), ("b.parquet", second)):
        frame = frame.assign(birth_order=frame["birth_order"].astype("Int64"),
                             mother_age=frame["mother_age"].astype("Int64"),
                             compliant=frame["compliant"].astype("boolean"),
                             age_at_death=frame["age_at_death"].astype("Int64"))
        frame.to_parquet(d / name, index=False)
    out = aggregate_events(d, "M", start="2024-03", end="2024-03")
    assert out["births"].tolist() == [3]
    r = rejected_events(out).set_index("reason")
    assert r.loc["birth_order_invalid", "first_rows"] == "b.parquet row 2"
    with pytest.raises(DataError, match=r"b.parquet, row 2, column 'birth_order'"):
        aggregate_events(d, "M", start="2024-03", end="2024-03", strict=True)


def test_output_feeds_indicators_and_the_loader(tmp_path):
    ev = synth.make_events(5_000, n_units=4, years=(2024, 2024), seed=2)
    counts = aggregate_events(ev, "M")
    counts["population"] = 10_000
    res = indicators.compute(counts, ["crude_birth_rate", "sex_ratio_at_birth"])
    cbr = res[res["indicator"] == "crude_birth_rate"].iloc[0]
    first = counts.iloc[0]
    # crude birth rate = births / (10,000 x 31 / 366) x 1000 for January 2024
    assert cbr["value"] == pytest.approx(first["births"] / (10_000 * 31 / 366) * 1000)
    assert len(res) == 2 * len(counts)
    # the loader's checks (male + female = births, orders, ages <= births, compliant <=
    # births, infant <= deaths) accept the counts written out
    path = tmp_path / "counts.csv"
    counts.assign(period=counts["period"].astype(str)).to_csv(path, index=False)
    loaded = io.load_counts(path)
    assert loaded["births"].astype("int64").tolist() == counts["births"].tolist()


def test_dask_on_a_local_cluster_of_two_workers():
    # two worker processes (not threads): the tallies travel between processes by pickle,
    # as on a real cluster
    dd = pytest.importorskip("dask.dataframe")
    distributed = pytest.importorskip("dask.distributed")
    Client, LocalCluster = distributed.Client, distributed.LocalCluster

    ev = synth.make_events(20_000, n_units=30, seed=4, invalid=0.01, chunk=5_000)
    expected = aggregate_events(ev, "Q", start="2023Q1", end="2024Q4")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster):
        got = aggregate_events(dd.from_pandas(ev, npartitions=4), "Q", start="2023Q1",
                               end="2024Q4")
    pd.testing.assert_frame_equal(got, expected)
    assert got.attrs["events_report"]["rows_rejected"] == \
        expected.attrs["events_report"]["rows_rejected"] > 0


def test_importing_the_package_does_not_import_dask_and_pandas_path_needs_none():
    code = ("import sys; sys.modules['dask'] = None\n"  # any import of dask now fails
            "import fpanalysis, fpanalysis.events as e, pandas as pd\n"
            "ev = pd.DataFrame({'unit': ['1'], 'date': ['2024-01-02'], 'event': ['death'],\n"
            "    'sex': [None], 'birth_order': [None], 'mother_age': [None],\n"
            "    'compliant': [None]})\n"
            "print(int(e.aggregate_events(ev)['deaths'].sum()))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": ""}, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"
    check = subprocess.run([sys.executable, "-c", "import sys, fpanalysis, fpanalysis.events; "
                            "print(any(m.split('.')[0] == 'dask' for m in sys.modules))"],
                           capture_output=True, text=True, cwd=ROOT,
                           env={"PYTHONPATH": str(ROOT), "PATH": ""}, check=False)
    assert check.stdout.strip() == "False", check.stderr


def test_reader_errors_reach_the_caller_and_stopping_stops_the_reader():
    import threading

    from fpanalysis.events import _prefetch

    def broken():
        yield ("f.parquet", 0, {})
        raise OSError("disk gone")

    batches = _prefetch(broken())
    assert next(batches)[0] == "f.parquet"
    with pytest.raises(OSError, match="disk gone"):
        next(batches)

    def endless():
        k = 0
        while True:
            yield ("f.parquet", k, {})
            k += 1

    batches = _prefetch(endless())
    assert next(batches)[1] == 0
    batches.close()  # the consumer stops early (an error while counting)
    assert not any(t.name == "fpanalysis-events-reader" for t in threading.enumerate())


def test_births_to_young_and_old_mothers_load_back_and_count_in_the_age_check(tmp_path):
    # aggregate_events writes births_age_10_14 and births_age_50_60; load_counts reads them
    # as counts (not text), and the rule "births by mother's age <= births" counts them:
    # 15-49 groups sum to 3 here, 50-60 adds 2, so 5 > 4 births (by hand)
    ages = ",".join(f"births_age_{a}" for a in ("15_19", "20_24", "25_29", "30_34", "35_39",
                                                 "40_44", "45_49"))
    (tmp_path / "counts.csv").write_text(
        f"unit,period,births_male,births_female,{ages},births_age_10_14,births_age_50_60\n"
        "A,2024-01,2,2,1,1,1,0,0,0,0,0,0\n"
        "A,2024-02,2,2,1,1,1,0,0,0,0,0,2\n", encoding="utf-8")
    with pytest.raises(DataError) as caught:
        io.load_counts(tmp_path)
    text = str(caught.value)
    assert "row 3" in text and "births by mother's age sum to 5, more than births (4)" in text
    assert "row 2" not in text
    (tmp_path / "counts.csv").write_text(
        f"unit,period,births_male,births_female,{ages},births_age_10_14,births_age_50_60\n"
        "A,2024-01,2,2,1,1,1,0,0,0,0,1,0\n", encoding="utf-8")
    counts = io.load_counts(tmp_path)
    assert counts["births_age_10_14"].tolist() == [1]
    assert pd.api.types.is_integer_dtype(counts["births_age_50_60"].dtype)
    assert io.load_report(counts).unknown_columns == []


def _one(**cells):
    """A register of the given rows (lists) with valid defaults, all births of unit 101."""
    n = max(len(v) for v in cells.values() if isinstance(v, list))
    base = {"unit": "101", "date": "2024-03-15", "event": "birth", "sex": "F",
            "birth_order": 1, "mother_age": 30, "compliant": True}
    base.update(cells)
    return pd.DataFrame({k: v if isinstance(v, list) else [v] * n for k, v in base.items()})


def test_careless_registers_of_this_session():
    # a date of only a year or a month is not the date of an event: before, "2024" was
    # counted on 1 January (2 births in January here; by hand 1 counted and 2 rejected)
    c = aggregate_events(_one(date=["2024", "2024-01", "2024-01-20"]), "M",
                         start="2024-01", end="2024-01")
    assert c["births"].tolist() == [1]
    assert c.attrs["events_report"]["rows_rejected"] == 2
    # True and 1 hash alike: the boolean birth order is rejected, both 1s counted
    c = aggregate_events(_one(birth_order=[True, 1, 1]), "M", start="2024-03", end="2024-03")
    assert c["births_female_o1"].tolist() == [2]
    assert rejected_events(c).set_index("reason").loc["birth_order_invalid", "rows"] == 1
    # a unit code written as the text of a whole float ("101.0", as dask makes of an object
    # column of numbers) is the unit 101, not a second one
    c = aggregate_events(_one(unit=["101", "101.0", 101.0]), "M", start="2024-03",
                         end="2024-03")
    assert c["unit"].tolist() == ["101"] and c["births"].tolist() == [3]
    # a missing unit column (a typo) and a column given twice are data problems
    with pytest.raises(DataError, match="column 'unit': required column is missing"):
        aggregate_events(_one(birth_order=[1]).rename(columns={"unit": "Unit"}))
    twice = pd.concat([_one(birth_order=[1]), _one(birth_order=[1])[["sex"]]], axis=1)
    with pytest.raises(DataError, match="column 'sex': column appears more than once"):
        aggregate_events(twice)
