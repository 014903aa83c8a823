"""The unit hierarchy: one walker (ancestors, lineage, descendants) and the units-table rules.

Expected values are read off the small hierarchies written out in each test."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fpanalysis import hierarchy, io
from fpanalysis.schema import DataError

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
    # by hand from data/sample/units.csv (county 990101 and its 18 townships, no villages):
    # everything maps to the county at county level; at township level the county maps to
    # nothing and every township to itself
    county = hierarchy.ancestors(sample_units, "county")
    assert len(county) == 19 and (county == "990101").all()
    town = hierarchy.ancestors(sample_units, "township")
    assert pd.isna(town["990101"])
    townships = town.index[town.index != "990101"]
    assert len(townships) == 18 and (town[townships] == townships).all()


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
