"""The unit hierarchy: one walker (ancestors, lineage, descendants) and the units-table rules.

Expected values are read off the small hierarchies written out in each test."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fpanalysis import hierarchy, indicators, io, targets
from fpanalysis.schema import DataError
from fpanalysis.scheme import Scheme, Target

# county 1; townships 11, 12; villages 111, 112 (under 11) and 121 (under 12)
UNITS = pd.DataFrame({
    "unit": ["1", "11", "12", "111", "112", "121"],
    "name": ["县", "甲镇", "乙镇", "一村", "二村", "三村"],
    "parent": [pd.NA, "1", "1", "11", "11", "12"],
    "level": ["county", "township", "township", "village", "village", "village"],
})


def problems(exc: pytest.ExceptionInfo) -> list[tuple[str, int | None, str | None, str]]:
    return [(Path(p.file).name, p.row, p.column, p.message) for p in exc.value.problems]


def test_ancestors_at_each_level():
    # read off the tree above: a unit maps to itself at its own level, to its ancestor below
    # it, and to NaN above it
    assert hierarchy.ancestors(UNITS, "township").to_dict() == {
        "1": np.nan, "11": "11", "12": "12", "111": "11", "112": "11", "121": "12"}
    county = hierarchy.ancestors(UNITS, "county")
    assert county.to_dict() == dict.fromkeys(["1", "11", "12", "111", "112", "121"], "1")
    village = hierarchy.ancestors(UNITS, "village")
    assert village.isna().tolist() == [True, True, True, False, False, False]


def test_ancestors_of_a_level_nobody_has():
    with pytest.raises(ValueError, match="^no unit of level 'village' in units$"):
        hierarchy.ancestors(UNITS[UNITS["level"] != "village"], "village")


def test_ancestors_on_the_sample(sample_units):
    # by hand from data/sample/units.csv: county 990101, its 18 townships 990101101-118;
    # villages 990101101201-207 directly under township 101; areas 990101105901-903 under
    # township 105, each with three villages (201-203, 204-206, 207-209)
    assert sample_units["level"].value_counts().to_dict() == {
        "township": 18, "village": 16, "area": 3, "county": 1}
    county = hierarchy.ancestors(sample_units, "county")
    assert len(county) == 38 and (county == "990101").all()
    town = hierarchy.ancestors(sample_units, "township")
    assert pd.isna(town["990101"])
    townships = sample_units.loc[sample_units["level"] == "township", "unit"]
    assert len(townships) == 18 and (town[townships] == townships.to_numpy()).all()
    assert (town[[f"990101101{201 + i}" for i in range(7)]] == "990101101").all()
    assert (town[[f"990101105{201 + i}" for i in range(9)]] == "990101105").all()
    assert (town[["990101105901", "990101105902", "990101105903"]] == "990101105").all()
    area = hierarchy.ancestors(sample_units, "area")
    assert area.dropna().to_dict() == {
        "990101105201": "990101105901", "990101105202": "990101105901",
        "990101105203": "990101105901", "990101105204": "990101105902",
        "990101105205": "990101105902", "990101105206": "990101105902",
        "990101105207": "990101105903", "990101105208": "990101105903",
        "990101105209": "990101105903", "990101105901": "990101105901",
        "990101105902": "990101105902", "990101105903": "990101105903"}
    # the villages of township 101 are in no area
    assert area[[f"990101101{201 + i}" for i in range(7)]].isna().all()


def test_lineage_and_descendants():
    # pairs read off the tree: 5 parents + 3 grandparents (the villages' county)
    pairs = hierarchy.lineage(UNITS)
    assert pairs.values.tolist() == [
        ["11", "1", 1], ["111", "11", 1], ["111", "1", 2], ["112", "11", 1],
        ["112", "1", 2], ["12", "1", 1], ["121", "12", 1], ["121", "1", 2]]
    assert hierarchy.descendants(UNITS, "1") == ["11", "111", "112", "12", "121"]
    assert hierarchy.descendants(UNITS, "11") == ["111", "112"]
    assert hierarchy.descendants(UNITS, "121") == []


def test_only_the_county_may_lack_a_parent(write):
    f = write("units.csv", "unit,name,parent,level\n100,青禾县,,county\n101,甲镇,,township\n"
                           "102,乙镇,100,township\n103,丙村,,village\n")
    with pytest.raises(DataError) as e:
        io.load_units(f)
    assert problems(e) == [
        ("units.csv", 3, "parent", "a township needs a parent (only the county has none)"),
        ("units.csv", 5, "parent", "a village needs a parent (only the county has none)")]


def test_a_units_row_without_a_code_is_a_problem_not_a_note(write):
    # before issue 7 this row was set aside as a note
    f = write("units.csv", "unit,name,parent,level\n100,青禾县,,county\n,甲镇,100,township\n")
    with pytest.raises(DataError) as e:
        io.load_units(f)
    assert problems(e) == [("units.csv", 3, "unit", "unit is empty")]


def test_a_note_below_the_units_table_is_still_a_note(write):
    units = io.load_units(write("units.csv", "unit,name,parent,level\n100,青禾县,,county\n"
                                             "101,甲镇,100,township\n注：2024年区划\n"))
    assert units["unit"].tolist() == ["100", "101"]
    assert io.load_report(units).skipped == [(4, "note below or beside the table: "
                                                 "'注：2024年区划'")]


# ---------------------------------------------------------------------------- areas (片)

# county 1; township 11 with area 11A (villages 111, 112) and village 113 directly under it;
# township 12 with village 121
AREA_CSV = ("单位代码,名称,上级代码,级别\n1,青禾县,,县\n11,甲镇,1,镇\n11A,东片,11,片区\n"
            "111,一村,11A,村\n112,二村,11A,村\n113,三村,11,村\n12,乙乡,1,乡\n121,四村,12,村\n")


def test_units_with_areas_load(write):
    units = io.load_units(write("units.csv", AREA_CSV))
    # read off AREA_CSV: Chinese level names mapped, sorted by code
    assert units.values.tolist() == [
        ["1", "青禾县", pd.NA, "county"], ["11", "甲镇", "1", "township"],
        ["111", "一村", "11A", "village"], ["112", "二村", "11A", "village"],
        ["113", "三村", "11", "village"], ["11A", "东片", "11", "area"],
        ["12", "乙乡", "1", "township"], ["121", "四村", "12", "village"]]
    assert hierarchy.ancestors(units, "area").to_dict() == {
        "1": np.nan, "11": np.nan, "111": "11A", "112": "11A", "113": np.nan, "11A": "11A",
        "12": np.nan, "121": np.nan}
    assert hierarchy.ancestors(units, "township")[["111", "113", "11A"]].tolist() == \
        ["11", "11", "11"]
    assert hierarchy.descendants(units, "11") == ["111", "112", "113", "11A"]
    # villages of an area are three steps below the county
    pairs = hierarchy.lineage(units)
    assert pairs[pairs["unit"] == "111"].values.tolist() == [
        ["111", "11A", 1], ["111", "11", 2], ["111", "1", 3]]


def test_area_rule_errors_name_file_row_and_column(write):
    # rows as numbered in the file (header = row 1):
    #  3 an area under the county, 4 a village under the county, 5 an area under a village,
    #  6 a township under an area, 7 a village under a village, 9 a county with a parent
    text = ("unit,name,parent,level\n100,青禾县,,county\n10A,东片,100,area\n"
            "103,丙村,100,village\n10B,西片,103,area\n104,丁镇,10C,township\n"
            "105,戊村,103,village\n10C,北片,106,area\n200,邻县,106,county\n"
            "106,己镇,100,township\n")
    with pytest.raises(DataError) as e:
        io.load_units(write("units.csv", text))
    assert problems(e) == [
        ("units.csv", 3, "parent", "an area's parent must be a township (the next level up), "
                                   "but '100' is a county"),
        ("units.csv", 4, "parent", "a village's parent must be an area or a township (the next "
                                   "level up; areas are optional), but '100' is a county"),
        ("units.csv", 5, "parent", "an area's parent must be a township (the next level up), "
                                   "but '103' is a village"),
        ("units.csv", 6, "parent", "a township's parent must be a county (the next level up), "
                                   "but '10C' is an area"),
        ("units.csv", 7, "parent", "a village's parent must be an area or a township (the next "
                                   "level up; areas are optional), but '103' is a village"),
        ("units.csv", 9, "parent", "a county has no parent (it is the top level), but '106' is "
                                   "a township")]


def test_an_area_needs_a_parent_and_a_known_level(write):
    text = "unit,name,parent,level\n100,青禾县,,county\n10A,东片,,area\n10B,西片,100,片\n" \
           "10C,北片,100,district\n"
    with pytest.raises(DataError) as e:
        io.load_units(write("units.csv", text))
    assert problems(e) == [
        ("units.csv", 3, "parent", "an area needs a parent (only the county has none)"),
        ("units.csv", 4, "parent", "an area's parent must be a township (the next level up), "
                                   "but '100' is a county"),
        ("units.csv", 5, "level", "unknown level 'district' (expected one of county, township, "
                                  "area, village)")]


# villages of AREA_CSV with hand-made monthly counts (one month, 2024-07)
AREA_COUNTS = pd.DataFrame({
    "unit": ["111", "112", "113", "121"], "period": pd.PeriodIndex(["2024-07"] * 4, freq="M"),
    "births": [3, 5, 4, 0], "births_compliant": [2, 4, 4, 0],
    "births_male": [2, 3, 2, 0], "births_female": [1, 2, 2, 0],
    "population": [1000, 1500, 800, 600]})


def test_compute_at_area_level(write):
    units = io.load_units(write("units.csv", AREA_CSV))
    # an area is the only level-"area" unit: compute on the villages of its township's
    # branch (the county, township 11, area 11A and its villages)
    inside = units[units["unit"].isin(["1", "11", "11A", "111", "112"])]
    counts = AREA_COUNTS[AREA_COUNTS["unit"].isin(["111", "112"])]
    r = indicators.compute(counts, ["compliance_rate", "sex_ratio_at_birth",
                                    "crude_birth_rate"], period="2024-07", level="area",
                           units=inside).set_index("indicator")
    assert (r["unit"] == "11A").all()
    # 8 births: the rates keep their values with a "few events" note (fewer than 10)
    assert r["note"].astype(str).to_dict() == {"compliance_rate": "",
                                               "sex_ratio_at_birth": "few events: 8 births",
                                               "crude_birth_rate": "few events: 8 births"}
    # compliance: (2 + 4) / (3 + 5) = 6 / 8 = 75 %; sex ratio (2 + 3) / (1 + 2) x 100 = 166.67;
    # crude birth rate: 8 births / (2500 people x 31 / 366 years) x 1000 = 37.7806...
    assert r.loc["compliance_rate", "value"] == pytest.approx(75.0)
    assert r.loc["sex_ratio_at_birth", "value"] == pytest.approx(500 / 3)
    assert r.loc["crude_birth_rate", "value"] == pytest.approx(8 / (2500 * 31 / 366) * 1000)


def test_offices_rank_areas(write):
    # two areas of one township, each of two villages; ranked on compliance (>= 80 %, 10
    # points) and the sex ratio at birth (<= 130, 5 points)
    text = ("unit,name,parent,level\n1,县,,county\n11,甲镇,1,township\n11A,东片,11,area\n"
            "11B,西片,11,area\n111,一村,11A,village\n112,二村,11A,village\n"
            "113,三村,11B,village\n114,四村,11B,village\n")
    units = io.load_units(write("units.csv", text))
    counts = pd.DataFrame({
        "unit": ["111", "112", "113", "114"],
        "period": pd.PeriodIndex(["2024-07"] * 4, freq="M"),
        "births": [3, 5, 6, 4], "births_compliant": [2, 4, 6, 3],
        "births_male": [2, 3, 4, 3], "births_female": [1, 2, 2, 1]})
    res = indicators.compute(counts, ["compliance_rate", "sex_ratio_at_birth"],
                             period="2024-07", level="area", units=units)
    scheme = Scheme((Target(1, "compliance_rate", ">=", 80, 10, periods=("month",)),
                     Target(2, "sex_ratio_at_birth", "<=", 130, 5, periods=("month",))))
    s = targets.score(targets.evaluate(res, scheme, units=units))
    # 11A: compliance 6/8 = 75 % (not met), SRB 5/3 x 100 = 166.7 (not met): 0 points;
    # 11B: compliance 9/10 = 90 % (met), SRB 7/3 x 100 = 233.3 (not met): 10 points
    assert s[["unit", "score", "rank"]].values.tolist() == [["11B", 10.0, 1], ["11A", 0.0, 2]]
