"""Issue 8, ranking across time and the year-end standing: adjustments (load_adjustments,
combine(adjustments=)), classes (classify), tiers with vetoes, streaks across years and
period kinds, tier counts within a year.

Expected values are written out by hand in each test from the rule it states (the 0.6/0.4
arithmetic, which criteria a village meets, which periods follow each other); none is
computed with the helpers the code under test calls.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from fpanalysis import io, targets
from fpanalysis.schema import DataError
from fpanalysis.scheme import Scheme, Target

UNITS = ("unit,name,parent,level\n100,青禾县,,county\n101,东林镇,100,township\n"
         "102,双凰乡,100,township\n")


def problems(exc: pytest.ExceptionInfo) -> list[tuple[str, int | None, str | None, str]]:
    return [(Path(p.file).name, p.row, p.column, p.message) for p in exc.value.problems]


def scheme() -> Scheme:
    return Scheme((Target(1, "compliance_rate", ">=", 86.0, 100.0),))


# --------------------------------------------------------------------------- load_adjustments


def test_adjustments_load_with_chinese_headers_title_and_note(write):
    f = write("adjustments.csv", "2024年度考核加减分\n单位代码,期间,加减分,原因\n"
                                 "101,2024,-2.5,年底未结案1例\n101,2024年,1,市级表彰\n"
                                 "102,2024,-0.5,统计迟报\n注：加减分在综合得分之后计算\n")
    a = io.load_adjustments(f)
    # several rows per unit and year are normal (101 has two); sorted by unit, period, reason
    assert a.columns.tolist() == ["unit", "period", "points", "reason"]
    assert a["unit"].tolist() == ["101", "101", "102"]
    assert a["period"].astype(str).tolist() == ["2024", "2024", "2024"]
    assert str(a["period"].dtype) == "period[Y-DEC]"
    assert a["points"].tolist() == [1.0, -2.5, -0.5]
    assert a["reason"].tolist() == ["市级表彰", "年底未结案1例", "统计迟报"]
    rep = io.load_report(a)
    # rows 3-6 below the header: three used, the note set aside
    assert (rep.rows_in, rep.rows_used) == (4, 3)
    assert rep.skipped[0][0] == 6
    english = io.load_adjustments(write("e.csv", "unit,period,points,reason\n"
                                                 "102,2024,-0.5,统计迟报\n101,2024,1,市级表彰\n"
                                                 "101,2024,-2.5,年底未结案1例\n"))
    pd.testing.assert_frame_equal(english, a)


def test_adjustments_every_problem_is_listed(write, tmp_path):
    write("units.csv", UNITS)
    f = write("a.csv", "unit,period,points,reason\n"
                       "101,2024,-2.5,年底未结案1例\n"   # row 2: fine
                       "102,2024Q4,1,x\n"               # row 3: a quarter among years
                       "103,2024,1,y\n"                 # row 4: unknown unit
                       "101,2024,x,z\n"                 # row 5: not a number
                       "101,2024,,w\n"                  # row 6: no points
                       "101,2024,3, \n"                 # row 7: no reason
                       "101,2024,-1,年底未结案1例\n")    # row 8: same reason again
    with pytest.raises(DataError) as e:
        io.load_adjustments(f, units=tmp_path / "units.csv")
    assert problems(e) == [
        ("a.csv", 3, "period", "period '2024Q4' is a quarter, but this file holds year "
                               "periods (one kind of period per file)"),
        ("a.csv", 4, "unit", "unknown unit code '103' (not in units)"),
        ("a.csv", 5, "points", "not a number: 'x'"),
        ("a.csv", 6, "points", "points is empty"),
        ("a.csv", 7, "reason", "reason is empty"),
        ("a.csv", 8, "unit, period, reason", "duplicate (101, 2024, 年底未结案1例): same key "
                                             "as row 2"),
    ]


def test_adjustments_must_be_per_year(write):
    f = write("a.csv", "unit,period,points,reason\n101,2024Q4,-1,x\n102,2024-12,2,y\n")
    with pytest.raises(DataError) as e:
        io.load_adjustments(f)
    assert problems(e) == [
        ("a.csv", 2, "period", "adjustments are per year: period '2024Q4' is a quarter "
                               "(write the year, e.g. 2024)"),
        ("a.csv", 3, "period", "period '2024-12' is a month, but this file holds quarter "
                               "periods (one kind of period per file)"),
    ]
    with pytest.raises(DataError) as e:
        io.load_adjustments(write("b.csv", "unit,period,points\n101,2024,-1\n"))
    assert problems(e) == [("b.csv", 1, "reason", "required column is missing")]


# --------------------------------------------------------------------------- combine


def quarters(unit_scores: dict[str, list[float]]) -> pd.DataFrame:
    return pd.DataFrame({"unit": [u for u in unit_scores for _ in range(4)],
                         "period": ["2024Q1", "2024Q2", "2024Q3", "2024Q4"] * len(unit_scores),
                         "score": [s for v in unit_scores.values() for s in v]})


def test_adjustment_applies_after_the_60_40_combination_and_reranks():
    """A: quarters 85, 95, 90, 90 -> county mean 90; city 80 -> 0.6 x 90 + 0.4 x 80 = 86.0;
    one unresolved case at year end -2.5 -> 83.5. B: county 85, city 85 -> 85.0, no
    adjustment. Before the adjustment A (86) ranks above B (85); after it B is first.
    C: county 80, city 80 -> 80; a bonus +1 and a deduction -0.5 -> 80.5."""
    q = quarters({"A": [85.0, 95.0, 90.0, 90.0], "B": [85.0] * 4, "C": [80.0] * 4})
    city = pd.DataFrame({"unit": ["A", "B", "C"], "period": "2024", "score": [80.0, 85.0, 80.0]})
    adj = pd.DataFrame({"unit": ["A", "C", "C"], "period": ["2024", "2024", "2024年"],
                        "points": [-2.5, 1.0, -0.5],
                        "reason": ["年底未结案1例", "市级表彰", "统计迟报"]})
    plain = targets.combine(q, city, scheme()).set_index("unit")
    assert plain.loc["A", "score"] == pytest.approx(86.0) and plain.loc["A", "rank"] == 1
    assert plain.loc["A", "adjustment"] == 0.0 and plain.loc["A", "adjustment_reasons"] == ""
    y = targets.combine(q, city, scheme(), adjustments=adj)
    assert y["unit"].tolist() == ["B", "A", "C"]  # sorted by the adjusted rank
    y = y.set_index("unit")
    assert y.loc["A", "combined"] == pytest.approx(86.0)
    assert y.loc["A", "adjustment"] == -2.5
    assert y.loc["A", "score"] == pytest.approx(83.5)
    assert y.loc["A", "adjustment_reasons"] == "年底未结案1例 (-2.5)"
    assert y.loc["B", "score"] == pytest.approx(85.0) and y.loc["B", "adjustment"] == 0.0
    assert y.loc["C", "adjustment"] == pytest.approx(0.5)
    assert y.loc["C", "score"] == pytest.approx(80.5)
    assert y.loc["C", "adjustment_reasons"] == "市级表彰 (+1); 统计迟报 (-0.5)"
    assert y["rank"].to_dict() == {"B": 1, "A": 2, "C": 3}


@pytest.mark.parametrize(("rows", "message"), [
    ({"unit": ["Z"], "period": ["2024"], "points": [-1.0], "reason": ["x"]},
     "adjustments for units and years that are not in the standing: Z in 2024"),
    ({"unit": ["A"], "period": ["2023"], "points": [-1.0], "reason": ["x"]},
     "adjustments for units and years that are not in the standing: A in 2023"),
    ({"unit": ["A"], "period": ["2024Q4"], "points": [-1.0], "reason": ["x"]},
     r"combine takes yearly adjustments \(one year each, e.g. 2024\); got 2024Q4 \(quarter\)"),
    ({"unit": ["A"], "period": ["2024"], "points": [np.nan], "reason": ["x"]},
     "every adjustment needs its points; unit A in 2024 has none"),
    ({"unit": ["A"], "period": ["2024"], "points": [-1.0], "reason": [" "]},
     "every adjustment needs its reason; unit A in 2024 has none"),
    ({"unit": ["A", "A"], "period": ["2024", "2024"], "points": [-1.0, -1.0],
      "reason": ["x", "x"]},
     "the adjustments hold the reason 'x' twice for unit A in 2024; sum its points in one "
     "row or tell the cases apart in the reason"),
    ({"unit": ["A"], "period": ["2024"], "points": [-1.0]},
     "the adjustments needs the column"),
])
def test_adjustments_that_cannot_apply_are_refused(rows, message):
    q = quarters({"A": [90.0] * 4})
    city = pd.DataFrame({"unit": ["A"], "period": ["2024"], "score": [80.0]})
    with pytest.raises(ValueError, match=message):
        targets.combine(q, city, scheme(), adjustments=pd.DataFrame(rows))


def test_adjustments_of_another_year_than_the_period_combined_wait_for_their_year():
    # combining 2024 so far (through Q3): the adjustments file also holds 2023's, which
    # belong to the 2023 standing and leave 2024's alone; a 2024 adjustment for a unit
    # without a 2024 standing is still refused
    q = quarters({"A": [90.0] * 4}).iloc[:3]
    city = pd.DataFrame({"unit": ["A", "A"], "period": ["2023", "2024"], "score": [80.0, 80.0]})
    adj = pd.DataFrame({"unit": ["A"], "period": ["2023"], "points": [1.0], "reason": ["x"]})
    y = targets.combine(q, city, scheme(), period="2024Q3", adjustments=adj)
    assert y["adjustment"].tolist() == [0.0]  # (90 x 3) / 3 = 90 -> 0.6 x 90 + 0.4 x 80 = 86
    assert y["score"].tolist() == pytest.approx([86.0])
    stray = pd.DataFrame({"unit": ["Z"], "period": ["2024"], "points": [1.0], "reason": ["x"]})
    with pytest.raises(ValueError, match="not in the standing: Z in 2024"):
        targets.combine(q, city, scheme(), period="2024Q3", adjustments=stray)


def test_adjustments_from_a_file_into_the_standing(write):
    q = quarters({"101": [90.0] * 4, "102": [85.0] * 4})
    city = pd.DataFrame({"unit": ["101", "102"], "period": "2024", "score": [80.0, 85.0]})
    adj = io.load_adjustments(write("a.csv", "单位代码,期间,调整分,事由\n101,2024,-2.5,未结案\n"))
    y = targets.combine(q, city, scheme(), adjustments=adj).set_index("unit")
    # 0.6 x 90 + 0.4 x 80 - 2.5 = 83.5; 0.6 x 85 + 0.4 x 85 = 85
    assert y["score"].to_dict() == pytest.approx({"101": 83.5, "102": 85.0})


# --------------------------------------------------------------------------- classify

# Seven targets of a village scheme: 1-6 the six "zero" criteria of class 1, 7 births
# outside policy under control (a rate, not zero). Class 2 is its own list: births outside
# policy under control (7), statistics without error (2), no points lost on quality (6).
LABELS = {1: "无计划外生育", 2: "统计无差错", 3: "无迟报", 4: "无非法鉴定", 5: "无信访",
          6: "质量无失分", 7: "计划外生育受控"}
KEYS = {1: "unplanned_births", 2: "statistics_errors", 3: "late_reports",
        4: "sex_selection_cases", 5: "complaints", 6: "quality_points_lost",
        7: "compliance_rate"}
CLASS_RULES = [{"name": "一类", "targets": [LABELS[n] for n in range(1, 7)]},
               {"name": "二类", "targets": ["计划外生育受控", "统计无差错", "质量无失分"]}]
# met per village and target 1..7 (None: no data)
VILLAGES = {
    "V1": [True, True, True, True, True, True, True],       # all six: class 1
    "V2": [False, True, True, True, True, True, True],      # 5 of 6; 7, 2, 6 met: class 2
    "V3": [True, False, True, True, True, True, True],      # 5 of 6; statistics error: 3
    "V4": [False, True, False, False, False, True, True],   # 2 of 6; 7, 2, 6 met: class 2
    "V5": [True, True, True, True, True, None, True],       # quality not known: class 3
}


def village_evaluation(villages: dict[str, list[bool | None]] = VILLAGES,
                       period: str = "2024") -> pd.DataFrame:
    return pd.DataFrame([{"unit": u, "period": period, "target": n, "indicator": KEYS[n],
                          "label": LABELS[n], "met": m[n - 1]}
                         for u, m in villages.items() for n in range(1, 8)])


def test_class_1_2_3_villages_by_the_documented_rules():
    c = targets.classify(village_evaluation(), CLASS_RULES, default="三类")
    assert c.columns.tolist() == ["unit", "period", "class", "failed"]
    assert c["unit"].tolist() == ["V1", "V2", "V3", "V4", "V5"]
    assert c["class"].tolist() == ["一类", "二类", "三类", "二类", "三类"]
    assert c["failed"].tolist() == [
        "",                                              # class 1: nothing above it
        "无计划外生育",                                   # what kept V2 from class 1
        "统计无差错",                                     # what kept V3 from class 2
        "无计划外生育, 无迟报, 无非法鉴定, 无信访",          # V4 from class 1
        "质量无失分 (no data)",                           # V5 from class 2: no data, not met
    ]


def test_banding_criteria_met_gets_the_class_2_rules_wrong():
    """bands(column="met", edges=(6, 4)) reads class 2 as "four of the six": V3 (5 of 6,
    but a statistics error) comes out class 2 and V4 (2 of 6, but all three class-2
    criteria met) class 3 - both wrong under the scheme's rules."""
    met_of_six = pd.DataFrame({"unit": ["V1", "V2", "V3", "V4", "V5"], "period": "2024",
                               "met": [6, 5, 5, 2, 5]})  # counted by hand from VILLAGES
    banded = targets.bands(met_of_six, column="met", edges=(6, 4),
                           labels=("一类", "二类", "三类")).set_index("unit")["band"]
    classes = targets.classify(village_evaluation(), CLASS_RULES,
                               default="三类").set_index("unit")["class"]
    assert banded.to_dict() == {"V1": "一类", "V2": "二类", "V3": "二类", "V4": "三类",
                                "V5": "二类"}
    wrong = sorted(banded.index[banded != classes])
    assert wrong == ["V3", "V4", "V5"]


def test_a_minimum_number_of_criteria_and_names_by_key_or_number():
    # class 2 as "at least 4 of the six" (min=4), criteria named by indicator key or number
    rules = [SimpleNamespace(name="一类", targets=tuple(range(1, 7)), min=None),
             SimpleNamespace(name="二类", targets=[KEYS[n] for n in range(1, 7)], min=4)]
    c = targets.classify(village_evaluation(), rules, default="三类").set_index("unit")
    assert c["class"].to_dict() == {"V1": "一类", "V2": "二类", "V3": "二类", "V4": "三类",
                                    "V5": "二类"}
    # V4 meets 2 (targets 2 and 6) of the six
    assert c.loc["V4", "failed"] == ("2 of 6 met, 4 needed: unplanned_births, late_reports, "
                                     "sex_selection_cases, complaints")
    assert c.loc["V5", "failed"] == "6 (no data)"


def test_a_scheme_with_classes_and_a_default_class():
    s = SimpleNamespace(classes=[SimpleNamespace(name="一类", targets=["统计无差错"], min=None)],
                        default_class="三类")
    c = targets.classify(village_evaluation(), s)
    assert c["class"].tolist() == ["一类", "一类", "三类", "一类", "一类"]
    assert targets.classify(village_evaluation(), s, default="二类")["class"].tolist()[2] == "二类"


def test_a_village_without_a_row_for_a_criterion_does_not_meet_it():
    ev = village_evaluation()
    ev = ev[~((ev["unit"] == "V1") & (ev["target"] == 2))]  # V1 has no row for target 2
    c = targets.classify(ev.sample(frac=1, random_state=2), CLASS_RULES, default="三类")
    assert c.set_index("unit").loc["V1", "class"] == "三类"
    assert c.set_index("unit").loc["V1", "failed"] == "统计无差错 (no data)"
    # shuffled rows, same answer as in order
    pd.testing.assert_frame_equal(c, targets.classify(ev, CLASS_RULES, default="三类"))


def test_classes_per_period():
    ev = pd.concat([village_evaluation(period="2023"),
                    village_evaluation({"V1": [False] + [True] * 6}, period="2024")])
    c = targets.classify(ev, CLASS_RULES, default="三类")
    assert c[["unit", "period", "class"]].values.tolist()[:2] == [["V1", "2023", "一类"],
                                                                   ["V2", "2023", "二类"]]
    assert c[["unit", "period", "class"]].values.tolist()[-1] == ["V1", "2024", "二类"]


@pytest.mark.parametrize(("rules", "default", "message"), [
    ([{"name": "一类", "targets": ["统计无差误"]}], "三类",
     "class '一类': criterion '统计无差误' names no target of the evaluated table "
     "(did you mean '统计无差错'?)"),
    ([{"name": "一类", "targets": ["统计无差错"], "mini": 1}], "三类",
     "class 1: unknown key 'mini' (did you mean 'min'?); a class has name, targets and "
     "optionally min"),
    ([{"name": "一类", "targets": ["统计无差错", "无迟报"], "min": 3}], "三类",
     "class '一类': min must be a whole number from 1 to 2 (its number of targets), got 3"),
    ([{"name": "一类", "targets": []}], "三类",
     "class '一类': targets must name at least one target"),
    ([{"name": "一类", "targets": "统计无差错"}], "三类",
     "class '一类': targets must be a list of target names"),
    ([{"name": "一类", "targets": ["无迟报", "无迟报"]}], "三类",
     "class '一类': target '无迟报' is listed twice"),
    ([{"name": "一类", "targets": ["无迟报"]}, {"name": "一类", "targets": ["无信访"]}], "三类",
     "class '一类' is defined twice"),
    ([{"name": "一类", "targets": ["无迟报"]}], None,
     "classify needs default=, the class of a unit that meets no class's criteria"),
    ([{"name": "一类", "targets": ["无迟报"]}], "一类",
     "default '一类' is also the name of a class with criteria"),
    ([], "三类", "classify needs at least one class"),
    ({"name": "一类", "targets": ["无迟报"]}, "三类", "rules must be a sequence of classes"),
])
def test_bad_class_rules_are_refused(rules, default, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        targets.classify(village_evaluation(), rules, default=default)


def test_criteria_that_name_several_targets_or_none_in_a_period_are_refused():
    ev = village_evaluation()
    ev.loc[ev["target"] == 3, "label"] = "统计无差错"  # two targets share a label
    with pytest.raises(ValueError, match=r"criterion '统计无差错' names several targets "
                                         r"\(2, 3\); name one by its label or number"):
        targets.classify(ev, CLASS_RULES, default="三类")
    both = pd.concat([village_evaluation(period="2024Q3"),
                      village_evaluation(period="2024Q4")])
    both = both[~((both["period"] == "2024Q4") & (both["target"] == 6))]
    with pytest.raises(ValueError, match=r"class '一类': criterion '质量无失分' has no row in "
                                         r"period\(s\) 2024Q4 \(its target does not apply "
                                         r"there\); classify the periods it applies to"):
        targets.classify(both, CLASS_RULES, default="三类")
    twice = pd.concat([village_evaluation(), village_evaluation().iloc[:1]])
    with pytest.raises(ValueError, match=r"classify takes one row per unit, period and "
                                         r"target; the table holds more than one for V1 in "
                                         r"2024 \(target 1\)"):
        targets.classify(twice, CLASS_RULES, default="三类")


def test_classify_of_nothing_is_an_empty_table():
    c = targets.classify(village_evaluation().iloc[:0], CLASS_RULES, default="三类")
    assert c.empty and c.columns.tolist() == ["unit", "period", "class", "failed"]


# --------------------------------------------------------------------------- tiers


def test_a_vetoed_unit_is_never_top_and_ranks_below_every_unvetoed_one():
    s = pd.DataFrame({"unit": list("ABCDE"), "period": "2024Q1",
                      "score": [99.0, 90.0, 80.0, 70.0, np.nan],
                      "vetoed": [True, False, False, False, False]})
    # k=1: top B (best unvetoed), bottom A (vetoed, below everyone); E has no score
    assert targets.tiers(s, k=1)["tier"].tolist() == ["bottom", "top", "", "", ""]
    # k=2: top B, C; bottom A and D (one unit, A, is worse than D)
    assert targets.tiers(s, k=2)["tier"].tolist() == ["bottom", "top", "top", "bottom", ""]
    # a table smaller than 2k: top wins, but never for a vetoed unit
    two = s.iloc[:2]
    assert targets.tiers(two, k=3)["tier"].tolist() == ["bottom", "top"]
    no_veto = s.drop(columns="vetoed")
    assert targets.tiers(no_veto, k=1)["tier"].tolist() == ["top", "", "", "bottom", ""]


def test_tiers_refuse_duplicates_and_bad_k_and_keep_empty_tables():
    s = pd.DataFrame({"unit": ["A", "A"], "period": ["2024Q1", "2024年第1季度"],
                      "score": [1.0, 2.0]})
    with pytest.raises(ValueError, match="tiers takes one row per unit and period; the table "
                                         "holds more than one for A in 2024Q1"):
        targets.tiers(s)
    with pytest.raises(ValueError, match="k must be a whole number of at least 1, got 0"):
        targets.tiers(s, k=0)
    with pytest.raises(ValueError, match="tiers needs the column"):
        targets.tiers(s.drop(columns="score"))
    with pytest.raises(ValueError, match="tiers: vetoed must be True or False in every row"):
        targets.tiers(pd.DataFrame({"unit": ["A"], "period": ["2024Q1"], "score": [1.0],
                                    "vetoed": [None]}))
    empty = targets.tiers(s.iloc[:0])
    assert empty.empty and "tier" in empty.columns


# --------------------------------------------------------------------------- streaks


def run(units: list[str], periods: list[str], in_tier: list[str], **kw) -> list[int]:
    t = pd.DataFrame({"unit": units, "period": periods, "tier": in_tier})
    return targets.streaks(t, **kw)["streak"].tolist()


def test_a_streak_of_three_across_a_year_boundary():
    # bottom three in 2023Q3, 2023Q4 and 2024Q1: a streak of three
    p = ["2023Q3", "2023Q4", "2024Q1"]
    assert run(["A"] * 3, p, ["bottom"] * 3) == [1, 2, 3]
    assert run(["A"] * 3, p, ["bottom"] * 3, reset="year") == [1, 2, 1]
    # shuffled rows: the streak follows the periods, not the row order
    assert run(["A"] * 3, p[::-1], ["bottom"] * 3) == [3, 2, 1]


@pytest.mark.parametrize(("periods", "expected"), [
    (["2023-11", "2023-12", "2024-01", "2024-03"], [1, 2, 3, 1]),            # months
    (["2023-12-D2", "2023-12-D3", "2024-01-D1", "2024-01-D3"], [1, 2, 3, 1]),  # dekads
    (["2023-09/2023-10", "2023-11/2023-12", "2024年1-2月", "2024-05/2024-06"],
     [1, 2, 3, 1]),                                                          # two-monthly
    (["2023H1", "2023H2", "2024H1", "2025H1"], [1, 2, 3, 1]),                # half-years
    (["2024H1", "2024-01/2024-09", "2024-01/2024-12", "2025-01/2025-06"],
     [1, 2, 3, 1]),                       # year to date, quarterly: 2025-01/2025-03 absent
    (["2021", "2022", "2023", "2025"], [1, 2, 3, 1]),                        # years
])
def test_consecutive_periods_of_every_kind_continue_a_streak(periods, expected):
    assert run(["A"] * 4, periods, ["bottom"] * 4) == expected


def test_the_year_restarts_runs_of_months_and_two_month_spans_with_reset():
    assert run(["A"] * 3, ["2023-11", "2023-12", "2024-01"], ["bottom"] * 3,
               reset="year") == [1, 2, 1]
    assert run(["A"] * 3, ["2023-09/2023-10", "2023-11/2023-12", "2024-01/2024-02"],
               ["bottom"] * 3, reset="year") == [1, 2, 1]


def test_a_unit_that_did_not_report_is_held_in_the_bottom_tier():
    """A: bottom in 2023Q3, no row for 2023Q4, bottom in 2024Q1, flagged not reported in
    2024Q2 (tier ''). Held in the tier: 1, (2), 3, 4. With 'break': 1, 1, 0."""
    t = pd.DataFrame({"unit": ["A"] * 3 + ["B"] * 4,
                      "period": ["2023Q3", "2024Q1", "2024Q2",
                                 "2023Q3", "2023Q4", "2024Q1", "2024Q2"],
                      "tier": ["bottom", "bottom", "", "top", "", "", "bottom"],
                      "not_reported": [False, False, True, False, False, False, False]})
    held = targets.streaks(t, missing="in_tier")
    assert held["streak"].tolist() == [1, 3, 4, 0, 0, 0, 1]
    assert len(held) == len(t)  # the held period adds no row
    assert targets.streaks(t)["streak"].tolist() == [1, 1, 0, 0, 0, 0, 1]
    assert targets.streaks(t, missing="in_tier", reset="year")["streak"].tolist() == \
        [1, 1, 2, 0, 0, 0, 1]


def test_top_streaks():
    assert run(["A"] * 3, ["2024-01", "2024-02", "2024-03"], ["top", "top", "bottom"],
               tier="top") == [1, 2, 0]


@pytest.mark.parametrize(("kw", "message"), [
    ({"tier": "Bottom"}, "tier must be 'top' or 'bottom', got 'Bottom'"),
    ({"missing": "hold"}, "missing must be 'break' or 'in_tier', got 'hold'"),
    ({"reset": "january"}, "reset must be None or 'year', got 'january'"),
    ({"tier": "top", "missing": "in_tier"},
     r"missing='in_tier' holds a unit that did not report in the bottom tier; it cannot be "
     r"used with tier='top' \(no unit may gain by not reporting\)"),
])
def test_streak_arguments_are_checked(kw, message):
    with pytest.raises(ValueError, match=message):
        run(["A"], ["2024Q1"], ["bottom"], **kw)


@pytest.mark.parametrize(("units", "periods", "tier", "message"), [
    (["A", "A"], ["2024-01", "2024Q1"], ["bottom"] * 2,
     r"streaks needs periods of one kind, got 2024-01 \(month\), 2024Q1 \(quarter\)"),
    (["A", "A"], ["2024-03/2024-04", "2024-05/2024-07"], ["bottom"] * 2,
     "streaks needs spans of one length that follow each other"),
    (["A", "A"], ["2024Q1", "2024年第1季度"], ["bottom"] * 2,
     "streaks takes one row per unit and period; the table holds more than one for A in "
     "2024Q1"),
    (["A"], ["2024Q1"], ["bottom3"], "streaks: tier must be 'top', 'bottom' or '' in every "
                                     "row, got 'bottom3'"),
])
def test_tables_streaks_cannot_read_are_refused(units, periods, tier, message):
    with pytest.raises(ValueError, match=message):
        run(units, periods, tier)


def test_streaks_of_nothing():
    t = pd.DataFrame({"unit": [], "period": [], "tier": []})
    s = targets.streaks(t, missing="in_tier")
    assert s.empty and s.columns.tolist() == ["unit", "period", "tier", "streak"]


# --------------------------------------------------------------------------- tier_counts


QUARTERS5 = ["2023Q4", "2024Q1", "2024Q2", "2024Q3", "2024Q4"]


def test_tier_counts_per_year_with_every_unit():
    """A bottom in 2023Q4, 2024Q1, 2024Q2, 2024Q4: 2023 once, 2024 three times. B top in
    2024Q1 and 2024Q3. C never in a tier: zeros, in both years."""
    t = pd.DataFrame({"unit": ["A"] * 5 + ["B"] * 5 + ["C"] * 5, "period": QUARTERS5 * 3,
                      "tier": ["bottom", "bottom", "bottom", "", "bottom",
                               "", "top", "", "top", "",
                               "", "", "", "", ""]})
    c = targets.tier_counts(t.sample(frac=1, random_state=4))
    expected = pd.DataFrame({"unit": ["A", "B", "C", "A", "B", "C"],
                             "period": ["2023"] * 3 + ["2024"] * 3,
                             "periods": [1, 1, 1, 4, 4, 4],
                             "top": [0, 0, 0, 0, 2, 0],
                             "bottom": [1, 0, 0, 3, 0, 0],
                             "held": [0] * 6})
    pd.testing.assert_frame_equal(c, expected, check_dtype=False)
    assert (c[["periods", "top", "bottom", "held"]].dtypes == "int64").all()
    bottom_only = targets.tier_counts(t, tier="bottom")
    assert bottom_only.columns.tolist() == ["unit", "period", "periods", "bottom", "held"]


def test_tier_counts_hold_units_that_did_not_report_in_the_bottom_tier():
    """C has no row for 2024Q3 and is flagged not reported in 2024Q2: two periods held in
    the bottom tier. B, top in 2024Q3 but flagged not reported there, is held in the bottom
    instead: top 1 (2024Q1), bottom 1, held 1."""
    t = pd.DataFrame({"unit": ["B"] * 4 + ["C"] * 3, "period": QUARTERS5[1:] + ["2024Q1",
                                                                               "2024Q2",
                                                                               "2024Q4"],
                      "tier": ["top", "", "top", "", "", "", ""],
                      "not_reported": [False, False, True, False, False, True, False]})
    c = targets.tier_counts(t, missing="in_tier").set_index("unit")
    assert c.loc["B", ["top", "bottom", "held"]].tolist() == [1, 1, 1]
    assert c.loc["C", ["top", "bottom", "held"]].tolist() == [0, 2, 2]
    plain = targets.tier_counts(t).set_index("unit")
    assert plain.loc["B", ["top", "bottom", "held"]].tolist() == [2, 0, 0]
    assert plain.loc["C", ["top", "bottom", "held"]].tolist() == [0, 0, 0]


def test_tier_counts_of_months_and_dekads():
    months = pd.DataFrame({"unit": "A", "period": ["2024-01", "2024-02", "2024-03", "2025-01"],
                           "tier": ["bottom", "", "bottom", "bottom"]})
    c = targets.tier_counts(months)
    assert c[["period", "periods", "bottom"]].values.tolist() == [["2024", 3, 2],
                                                                  ["2025", 1, 1]]
    dekads = pd.DataFrame({"unit": "A", "period": ["2024-12-D3", "2025-01-D1"],
                           "tier": ["bottom", "bottom"]})
    assert targets.tier_counts(dekads)["bottom"].tolist() == [1, 1]


@pytest.mark.parametrize(("kw", "message"), [
    ({"within": "quarter"}, "within must be 'year', got 'quarter'"),
    ({"tier": ("top", "middle")}, "tier must be 'top' or 'bottom', got 'middle'"),
    ({"tier": ()}, "tier must name 'top', 'bottom' or both"),
    ({"missing": "break"}, "missing must be None or 'in_tier', got 'break'"),
])
def test_tier_count_arguments_are_checked(kw, message):
    t = pd.DataFrame({"unit": ["A"], "period": ["2024Q1"], "tier": ["bottom"]})
    with pytest.raises(ValueError, match=message):
        targets.tier_counts(t, **kw)


def test_tier_counts_refuse_mixed_kinds_and_duplicates_and_count_nothing_as_empty():
    mixed = pd.DataFrame({"unit": ["A", "A"], "period": ["2024Q1", "2024-04"],
                          "tier": ["bottom", "bottom"]})
    with pytest.raises(ValueError, match="tier_counts needs periods of one kind"):
        targets.tier_counts(mixed)
    twice = pd.DataFrame({"unit": ["A", "A"], "period": ["2024Q1", "2024Q1"],
                          "tier": ["bottom", ""]})
    with pytest.raises(ValueError, match="tier_counts takes one row per unit and period"):
        targets.tier_counts(twice)
    empty = targets.tier_counts(twice.iloc[:0])
    assert empty.empty and empty.columns.tolist() == ["unit", "period", "periods", "top",
                                                      "bottom", "held"]


# --------------------------------------------------------------------------- bands


def test_bands_refuse_duplicates_and_keep_empty_tables():
    s = pd.DataFrame({"unit": ["A", "A"], "period": ["2024", "2024"], "score": [90.0, 80.0]})
    with pytest.raises(ValueError, match="bands takes one row per unit and period"):
        targets.bands(s)
    with pytest.raises(ValueError, match="bands takes one row per unit; the table holds more "
                                         "than one for A"):
        targets.bands(s.drop(columns="period"))
    empty = targets.bands(s.iloc[:0])
    assert empty.empty and "band" in empty.columns


def test_adjustments_read_alike_from_csv_excel_and_parquet(tmp_path, write):
    rows = pd.DataFrame({"unit": ["101", "102"], "period": ["2024", "2024"],
                         "points": [-2.5, 1.0], "reason": ["年底未结案1例", "市级表彰"]})
    csv = io.load_adjustments(write("a.csv", rows.to_csv(index=False)))
    rows.rename(columns={"unit": "单位代码", "period": "期间", "points": "调整分",
                         "reason": "调整原因"}).to_excel(tmp_path / "a.xlsx", index=False)
    typed = rows.assign(unit=[101, 102], period=[2024, 2024])
    typed.to_parquet(tmp_path / "a.parquet")
    for other in (io.load_adjustments(tmp_path / "a.xlsx"),
                  io.load_adjustments(tmp_path / "a.parquet")):
        pd.testing.assert_frame_equal(other, csv)
    assert csv["points"].tolist() == [-2.5, 1.0]


def test_a_class_criterion_must_be_named():
    with pytest.raises(ValueError, match="class '一类': a target name is empty"):
        targets.classify(village_evaluation(), [{"name": "一类", "targets": [" "]}],
                         default="三类")


def test_skipping_reports_never_shortens_a_streak_nor_lowers_a_bottom_count():
    """Property over random tables (seeded): drop random rows of one unit; with
    missing='in_tier' every remaining row's streak and every year's bottom count is at
    least what the full table gives (a held period counts as bottom)."""
    rng = np.random.default_rng(8)
    periods = ["2023Q1", "2023Q2", "2023Q3", "2023Q4", "2024Q1", "2024Q2", "2024Q3", "2024Q4"]
    for _ in range(40):
        full = pd.DataFrame({"unit": ["A"] * 8 + ["B"] * 8, "period": periods * 2,
                             "tier": rng.choice(["bottom", "", "top"], 16)})
        keep = np.r_[rng.random(8) < 0.6, np.ones(8, dtype=bool)]  # B keeps every row
        keep[rng.integers(8)] = True  # A keeps at least one row
        part = full[keep]
        whole = targets.streaks(full, missing="in_tier")["streak"].to_numpy()[keep]
        skipped = targets.streaks(part, missing="in_tier")["streak"].to_numpy()
        assert (skipped >= whole).all()
        b_full = targets.tier_counts(full, missing="in_tier")["bottom"].to_numpy()
        b_part = targets.tier_counts(part, missing="in_tier")["bottom"].to_numpy()
        assert (b_part >= b_full).all()


def test_a_vetoed_quarter_counts_zero_in_the_year_end_standing():
    # A: 100, 100, 100, 100 but vetoed in Q2 -> county (100 + 0 + 100 + 100) / 4 = 75;
    # city 80 -> 0.6 x 75 + 0.4 x 80 = 77.0. B: 80 each quarter -> 80; city 80 -> 80.0.
    q = quarters({"A": [100.0] * 4, "B": [80.0] * 4})
    q["vetoed"] = [False, True, False, False] + [False] * 4
    city = pd.DataFrame({"unit": ["A", "B"], "period": "2024", "score": [80.0, 80.0]})
    y = targets.combine(q, city, scheme()).set_index("unit")
    assert y.loc["A", "county_score"] == pytest.approx(75.0)
    assert y.loc["A", "score"] == pytest.approx(77.0)
    assert y.loc["A", "vetoed_quarters"] == "2024Q2" and y.loc["B", "vetoed_quarters"] == ""
    assert y["rank"].to_dict() == {"B": 1, "A": 2}


def test_a_unit_without_a_city_score_ranks_last_not_nowhere():
    # C has the best county scores but no city score: no standing, so it cannot be ranked
    # among the others; it ranks after them (3 of 3) and is flagged, never left unranked
    q = quarters({"A": [90.0] * 4, "B": [80.0] * 4, "C": [100.0] * 4})
    city = pd.DataFrame({"unit": ["A", "B"], "period": "2024", "score": [80.0, 80.0]})
    y = targets.combine(q, city, scheme()).set_index("unit")
    assert np.isnan(y.loc["C", "score"])
    assert y["rank"].to_dict() == {"A": 1, "B": 2, "C": 3}
    assert bool(y.loc["C", "not_reported"]) and not bool(y.loc["A", "not_reported"])


def test_a_veto_failed_on_the_year_puts_the_unit_last_in_the_standing():
    # A has the best quarters (95) but failed a veto target on the year's own figures:
    # 0.6 x 95 + 0.4 x 80 = 89 would rank it first; vetoed, it ranks after B (0.6 x 80 +
    # 0.4 x 80 = 80). C's year is not complete (not reported): that vetoes nobody.
    q = quarters({"A": [95.0] * 4, "B": [80.0] * 4, "C": [70.0] * 4})
    city = pd.DataFrame({"unit": ["A", "B", "C"], "period": "2024", "score": [80.0] * 3})
    annual = pd.DataFrame({"unit": ["A", "B", "C"], "period": "2024",
                           "vetoed": [True, False, True], "not_reported": [False, False, True],
                           "veto_reason": ["政策符合率一票否决: not met", "", "x: no data"]})
    y = targets.combine(q, city, scheme(), annual=annual).set_index("unit")
    assert y["rank"].to_dict() == {"B": 1, "C": 2, "A": 3}
    assert y.loc["A", "score"] == pytest.approx(89.0)
    assert y.loc["A", "veto_reason"] == "政策符合率一票否决: not met"
    assert not y.loc["C", "vetoed"]


def test_assess_runs_a_year_to_date_streak_through_june():
    # 2024-01/2024-06 prints as 2024H1 but belongs to the year-to-date series: a township
    # in the bottom tier at every year-to-date point keeps counting 1, 2, 3 through June
    from fpanalysis import io
    from tests.conftest import SAMPLE

    units = io.load_units(SAMPLE)
    counts = io.load_counts(SAMPLE, units=units)
    s = Scheme((Target(1, "compliance_rate", ">=", 86.0, 100.0, periods=("ytd", "half_year")),),
               tier_size=3)
    p = ["2024-01/2024-03", "2024-01/2024-06", "2024-01/2024-09"]
    _, sc = targets.assess(counts, s, periods=p, units=units)
    bottom_all = sc.groupby("unit")["tier"].apply(lambda t: (t == "bottom").all())
    unit = bottom_all[bottom_all].index[0]
    got = sc[sc["unit"] == unit].assign(period=sc["period"].astype(str)).set_index("period")
    assert got.loc[["2024-01/2024-03", "2024H1", "2024-01/2024-09"], "streak"].tolist() == \
        [1, 2, 3]


def test_annual_scores_are_read_strictly():
    q = quarters({"A": [95.0] * 4, "B": [80.0] * 4})
    city = pd.DataFrame({"unit": ["A", "B"], "period": "2024", "score": [80.0, 80.0]})
    # the text "False" is not a veto: refused rather than read as true
    text = pd.DataFrame({"unit": ["B"], "period": ["2024"], "vetoed": ["False"]})
    with pytest.raises(ValueError, match="vetoed must hold True or False"):
        targets.combine(q, city, scheme(), annual=text)
    # two annual rows for one unit would list it twice in the standing
    twice = pd.DataFrame({"unit": ["B", "B"], "period": ["2024"] * 2, "vetoed": [True, False]})
    with pytest.raises(ValueError, match="more than one score for unit B in 2024"):
        targets.combine(q, city, scheme(), annual=twice)
    stray = pd.DataFrame({"unit": ["Z"], "period": ["2024"], "vetoed": [True]})
    with pytest.raises(ValueError, match="not in the standing: Z in 2024"):
        targets.combine(q, city, scheme(), annual=stray)


def test_rank_uncertainty_needs_enough_draws_and_a_real_tier():
    from fpanalysis import io
    from tests.conftest import SAMPLE

    units = io.load_units(SAMPLE)
    counts = io.load_counts(SAMPLE, units=units)
    with pytest.raises(ValueError, match="draws must be a whole number of at least 100"):
        targets.rank_uncertainty(counts, scheme(), period="2024Q1", units=units, draws=2)
    with pytest.raises(ValueError, match="k .the tier size. must be a whole number"):
        targets.rank_uncertainty(counts, scheme(), period="2024Q1", units=units, k=0)
    # a month missing for every township: nothing was reported in full, nothing to rank
    cut = counts[counts["period"] != pd.Period("2024-02", "M")]
    with pytest.raises(ValueError, match="no unit reported 2024Q1 in full"):
        targets.rank_uncertainty(cut, scheme(), period="2024Q1", units=units, draws=200)
