"""population_age.csv: the contract, its loader and the sample file.

Every rule gets a bad file and the exact file/row/column asserted; rows are numbered as a
spreadsheet shows them (header = row 1). The sample's totals are compared with counts.csv
read with plain pandas (independent of the loaders).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fpanalysis import io, synth
from fpanalysis.schema import POPULATION_AGE_GROUPS, DataError
from fpanalysis.synth import make_counts, make_population_age, parameters
from tests.conftest import SAMPLE

HEADER = "unit,period,sex,age_group,population,deaths\n"
GROUPS = list(POPULATION_AGE_GROUPS)


def _rows(unit="101", period="2024", pop=100, deaths=1):
    """44 rows: male 0 ... 100+ (file rows 2-23), then female (rows 24-45)."""
    return [f"{unit},{period},{s},{g},{pop},{deaths}" for s in ("male", "female")
            for g in GROUPS]


@pytest.fixture
def write(tmp_path):
    def _write(lines, name="population_age.csv", header=HEADER):
        path = tmp_path / name
        path.write_text(header + "\n".join(lines) + "\n", encoding="utf-8")
        return path
    return _write


def problems(exc):
    return [(Path(p.file).name, p.row, p.column, p.message) for p in exc.value.problems]


def test_groups_are_the_abridged_ones():
    assert GROUPS[:4] == ["0", "1-4", "5-9", "10-14"]
    assert GROUPS[-2:] == ["95-99", "100+"]
    assert len(GROUPS) == 22


def test_good_file_loads(write):
    frame = io.load_population_age(write(_rows()))
    assert len(frame) == 44
    assert list(frame.columns) == ["unit", "period", "sex", "age_group", "population", "deaths"]
    assert str(frame["period"].dtype) == "period[Y-DEC]"
    assert str(frame["population"].dtype) == "Int64"
    assert frame["age_group"].tolist()[:3] == ["0", "1-4", "5-9"]
    assert frame["sex"].iloc[0] == "male" and frame["sex"].iloc[-1] == "female"
    rep = io.load_report(frame)
    assert (rep.rows_in, rep.rows_used) == (44, 44)


def test_shuffled_rows_give_the_same_frame(write):
    rows = _rows()
    a = io.load_population_age(write(rows, "a.csv"))
    b = io.load_population_age(write(rows[::-1], "b.csv"))
    pd.testing.assert_frame_equal(a, b)


def test_chinese_headers_and_labels(write):
    zh = {"male": "男", "female": "女"}
    label = {"0": "0岁", "1-4": "1～4岁", "100+": "100岁及以上"}
    lines = [f"101,2024年,{zh[s]},{label.get(g, g + '岁')},100,1" for s in ("male", "female")
             for g in GROUPS]
    frame = io.load_population_age(write(lines, header="乡镇代码,期间,性别,年龄组,人口数,死亡数\n"))
    assert frame["age_group"].tolist()[:2] == ["0", "1-4"]
    assert frame["age_group"].iloc[21] == "100+"
    assert set(frame["sex"]) == {"male", "female"}


def test_unknown_sex_and_age_group_with_suggestions(write):
    rows = _rows()
    rows[0] = rows[0].replace(",male,", ",mael,")       # file row 2
    rows[5] = rows[5].replace(",20-24,", ",20-25,")     # file row 7
    with pytest.raises(DataError) as exc:
        io.load_population_age(write(rows))
    got = problems(exc)
    assert ("population_age.csv", 2, "sex",
            "unknown sex 'mael' (male or female) (did you mean 'male'?)") in got
    assert any(r == 7 and c == "age_group" and m.startswith(
        "unknown age group '20-25' (0, 1-4, 5-9, ..., 95-99, 100+)") for _, r, c, m in got)
    # the unknown labels leave their (unit, year, sex) incomplete: reported too, at the
    # first readable row of the unit and year (row 3)
    assert ("population_age.csv", 3, "age_group",
            "unit 101, 2024, male: no row for age group(s) 0, 20-24") in got


def test_duplicate_after_normalising_labels(write):
    rows = _rows() + ["101,2024,male,1～4岁,5,0"]    # row 46 repeats row 3 (1-4)
    with pytest.raises(DataError) as exc:
        io.load_population_age(write(rows))
    assert problems(exc) == [("population_age.csv", 46, "unit, period, sex, age_group",
                              "duplicate (101, 2024, male, 1-4): same key as row 3")]


def test_missing_group_and_missing_sex(write):
    rows = _rows()[:22] + _rows(unit="102")
    del rows[2]  # male 5-9 of unit 101
    with pytest.raises(DataError) as exc:
        io.load_population_age(write(rows))
    assert problems(exc) == [
        ("population_age.csv", 2, "age_group", "unit 101, 2024, female: no rows"),
        ("population_age.csv", 2, "age_group",
         "unit 101, 2024, male: no row for age group(s) 5-9"),
    ]


def test_deaths_above_population_negative_and_fractional(write):
    rows = _rows()
    rows[3] = "101,2024,male,10-14,5,6"      # row 5
    rows[4] = "101,2024,male,15-19,-3,0"     # row 6
    rows[6] = "101,2024,male,25-29,100,1.5"  # row 8
    with pytest.raises(DataError) as exc:
        io.load_population_age(write(rows))
    got = problems(exc)
    assert ("population_age.csv", 5, "deaths", "deaths (6) exceed population (5)") in got
    assert ("population_age.csv", 6, "population", "negative count: -3") in got
    assert ("population_age.csv", 8, "deaths", "count is not a whole number: 1.5") in got


def test_period_must_be_a_year(write):
    rows = [r.replace(",2024,", ",2024-07,") for r in _rows()]
    with pytest.raises(DataError) as exc:
        io.load_population_age(write(rows))
    got = problems(exc)
    assert len(got) == 44
    assert got[0] == ("population_age.csv", 2, "period",
                      "population and deaths by age are per year: period '2024-07' is a month "
                      "(write the year, e.g. 2024)")


def test_unknown_unit(write, tmp_path):
    units = tmp_path / "units.csv"
    units.write_text("unit,name,parent,level\n100,县,,county\n101,镇,100,township\n",
                     encoding="utf-8")
    rows = _rows() + _rows(unit="109")
    with pytest.raises(DataError) as exc:
        io.load_population_age(write(rows), units=units)
    got = problems(exc)
    assert len(got) == 44
    assert got[0] == ("population_age.csv", 46, "unit", "unknown unit code '109' (not in units)")


def _monthly(unit="101", year=2024, population=4400, deaths=(4,) * 11 + (0,)):
    months = pd.period_range(f"{year}-01", f"{year}-12", freq="M")
    return pd.DataFrame({"unit": unit, "period": months,
                         "population": pd.array([population] * 12, dtype="Int64"),
                         "deaths": pd.array(list(deaths), dtype="Int64")})


def test_totals_against_counts(write):
    # population by age: 44 x 100 = 4400, deaths 44 x 1 = 44
    path = write(_rows())
    ok = _monthly()  # mean population 4400, deaths 11 x 4 = 44
    assert len(io.load_population_age(path, counts=ok)) == 44
    # 1 % tolerance: 4400 against 4444 is 1.0 % apart (accepted), against 4445 more
    assert len(io.load_population_age(path, counts=_monthly(population=4444))) == 44
    with pytest.raises(DataError) as exc:
        io.load_population_age(path, counts=_monthly(population=4445,
                                                     deaths=(4,) * 11 + (1,)))
    assert problems(exc) == [
        ("population_age.csv", 2, "population",
         "unit 101, 2024: population by age sum to 4400 but the counts' mean population "
         "is 4445.0 (more than 1% apart)"),
        ("population_age.csv", 2, "deaths",
         "unit 101, 2024: deaths by age sum to 44 but the monthly counts' deaths sum to 45"),
    ]


def test_women_15_49_against_counts(write):
    # female 15-19 ... 45-49: 7 groups x 100 = 700; counts' women 700 pass, 708 (1.1 %) not
    path = write(_rows())
    assert len(io.load_population_age(path, counts=_monthly().assign(women_15_49=700))) == 44
    with pytest.raises(DataError) as exc:
        io.load_population_age(path, counts=_monthly().assign(women_15_49=708))
    assert problems(exc) == [
        ("population_age.csv", 2, "population",
         "unit 101, 2024: women 15-49 by age sum to 700 but the counts' mean women 15-49 is "
         "708.0 (more than 1% apart)")]


def test_a_partial_year_of_counts_is_not_compared(write):
    partial = _monthly(population=9999).iloc[:6]
    assert len(io.load_population_age(write(_rows()), counts=partial)) == 44
    with pytest.raises(ValueError, match="counts= must be monthly counts"):
        io.load_population_age(write(_rows()),
                               counts=partial.assign(period=partial["period"].dt.asfreq("Q")))


def test_sample_file_matches_counts():
    # independent of the loaders: the generator's counts before synth.plant_problems (the
    # register, counts.csv, lacks a month of 990101107 in 2024; population_age does not)
    counts = synth.make_counts(synth.parameters())
    counts = counts.assign(unit=counts["unit"].astype(str), period=counts["period"].astype(str))
    per = pd.PeriodIndex(counts["period"], freq="M")
    counts = counts.assign(year=per.year.astype(str), days=per.days_in_month,
                           pd_=counts["population"] * per.days_in_month)
    yearly = counts.groupby(["unit", "year"]).agg(deaths=("deaths", "sum"),
                                                  infant=("deaths_infant", "sum"),
                                                  pd_=("pd_", "sum"), days=("days", "sum"))
    pa = pd.read_csv(SAMPLE / "population_age.csv", dtype={"unit": str, "period": str})
    assert len(pa) == len(yearly) * 44
    sums = pa.groupby(["unit", "period"])[["population", "deaths"]].sum()
    sums.index.names = ["unit", "year"]
    assert (sums["deaths"] == yearly["deaths"]).all()
    assert (sums["population"] == np.rint(yearly["pd_"] / yearly["days"])).all()
    age0 = pa[pa["age_group"] == "0"].groupby(["unit", "period"])["deaths"].sum()
    assert (age0.to_numpy() == yearly["infant"].to_numpy()).all()
    assert (pa["deaths"] <= pa["population"]).all()
    women = counts.assign(wd=counts["women_15_49"] * counts["days"]).groupby(
        ["unit", "year"])["wd"].sum() / yearly["days"]
    fertile = pa[(pa["sex"] == "female") & pa["age_group"].isin(
        ["15-19", "20-24", "25-29", "30-34", "35-39", "40-44", "45-49"])]
    got = fertile.groupby(["unit", "period"])["population"].sum()
    assert np.allclose(got.to_numpy(), women.to_numpy(), rtol=0, atol=7 * 0.5 + 1e-9)
    # a rural Chinese county's structure: 65+ between 12 and 22 %, more old women than men
    old = pa[pa["age_group"].str[:2].isin(["65", "70", "75", "80", "85", "90", "95", "10"])
             & (pa["age_group"] != "10-14")]
    share = old["population"].sum() / pa["population"].sum()
    assert 0.12 < share < 0.22
    loaded = io.load_population_age(SAMPLE, counts=io.load_counts(SAMPLE))
    assert len(loaded) == len(pa)


def test_generator_is_its_own_stream():
    params = parameters(6, seed=5)
    counts = make_counts(params, (2023, 2024), seed=5)
    a = make_population_age(counts, params, seed=5)
    b = make_population_age(counts, params, seed=5)
    pd.testing.assert_frame_equal(a, b)
    before = counts.copy()
    make_population_age(counts, params, seed=6)
    pd.testing.assert_frame_equal(counts, before)
    assert len(a) == 6 * 2 * 44


def test_empty_cells_are_not_zero(write):
    rows = _rows()
    rows[1] = "101,2024,male,1-4,,"   # row 3
    with pytest.raises(DataError) as exc:
        io.load_population_age(write(rows))
    assert problems(exc) == [("population_age.csv", 3, "population", "population is empty"),
                             ("population_age.csv", 3, "deaths", "deaths is empty")]


def test_a_county_row_beside_its_townships_is_refused(write, tmp_path):
    (tmp_path / "units.csv").write_text(
        "unit,name,parent,level\n100,县,,county\n101,镇,100,township\n", encoding="utf-8")
    rows = _rows() + _rows(unit="100")  # the county's rows start at row 46
    with pytest.raises(DataError) as exc:
        io.load_population_age(write(rows), units=tmp_path / "units.csv")
    assert problems(exc) == [
        ("population_age.csv", 46, "unit",
         "unit 100 has rows for 2024 and so do units below it: population_age holds units of "
         "one level (a county's figures are the sum of its townships'; drop the county's "
         "rows)")]
    # the county alone is fine
    assert len(io.load_population_age(write(_rows(unit="100"), "c.csv"),
                                      units=tmp_path / "units.csv")) == 44


def test_all_problems_are_listed_together(write):
    rows = _rows()
    rows[0] = rows[0].replace(",male,", ",mael,")  # row 2: unknown sex
    rows[3] = "101,2024,male,10-14,5,6"            # row 5: deaths > population
    rows[4] = "101,2024,male,15-19,abc,0"          # row 6: not a number
    with pytest.raises(DataError) as exc:
        io.load_population_age(write(rows))
    got = [(r, c) for _, r, c, _ in problems(exc)]
    assert (2, "sex") in got and (5, "deaths") in got and (6, "population") in got
    assert (3, "age_group") in got  # male lacks its age-0 row (row 2 was unreadable)


def test_unit_years_not_compared_are_reported(write):
    # finding 17: 101 2024 compared (4400 = 44 x 100 people; 44 deaths = 4 x 11 + 0), 101
    # 2023 held in part by the counts, 102 2024 absent from them: both named with the reason
    counts = pd.concat([_monthly(), _monthly(year=2023).iloc[:6]], ignore_index=True)
    lines = _rows() + _rows(period="2023") + _rows(unit="102")
    pa = io.load_population_age(write(lines), counts=counts)
    assert sorted(pa.attrs["load_report"]["not_compared"]) == [
        "101 2023 (the counts hold only part of the year)",
        "102 2024 (no counts for it)"]
    # without counts= there is no such entry
    assert "not_compared" not in io.load_population_age(write(lines)).attrs["load_report"]
