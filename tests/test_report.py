"""Report tables, Excel export and the papermill render.

Expected values are worked out by hand from small frames built in the test (the arithmetic is
in the comments). Render tests use a tiny notebook written by :func:`tiny_notebook` (well
under a second per run); one test renders the real quarterly report end to end.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import numpy as np
import openpyxl
import pandas as pd
import pytest

from fpanalysis import report
from tests.conftest import ROOT, SAMPLE

# --- small frames -------------------------------------------------------------------------

UNITS = pd.DataFrame({"unit": ["c", "a", "b"], "name": ["县", "甲乡", "乙镇"],
                      "parent": [None, "c", "c"], "level": ["county", "township", "township"]})


def q3_counts() -> pd.DataFrame:
    """Two townships, July to September 2024."""
    return pd.DataFrame({
        "unit": ["a"] * 3 + ["b"] * 3,
        "period": pd.PeriodIndex(["2024-07", "2024-08", "2024-09"] * 2, freq="M"),
        "population": pd.array([100, 100, 100, 90, 93, 96], dtype="Int64"),
        "births": pd.array([1, 2, 3, 4, 5, 6], dtype="Int64"),
        "deaths_infant": pd.array([0, 1, 0, 1, 1, 1], dtype="Int64"),
    })


def q3_counts_big() -> pd.DataFrame:
    """As q3_counts, with b's infant deaths 1, 2, 2 (5 in the quarter) and compliant births."""
    return q3_counts().assign(
        deaths_infant=pd.array([0, 1, 0, 1, 2, 2], dtype="Int64"),
        births_compliant=pd.array([1, 2, 3, 2, 3, 5], dtype="Int64"))


def test_latest_complete_quarter(sample_counts):
    # the sample runs to 2024-12 for all 18 townships; without one township's December the
    # last complete quarter is 2024Q3
    assert report.latest_complete_quarter(sample_counts) == pd.Period("2024Q4", "Q")
    cut = sample_counts[~((sample_counts.unit == "990101105")
                          & (sample_counts.period == pd.Period("2024-12", "M")))]
    assert report.latest_complete_quarter(cut) == pd.Period("2024Q3", "Q")


def test_counts_table_by_hand():
    t = report.counts_table(q3_counts(), UNITS, "2024Q3",
                            columns=("population", "births", "deaths_infant"))
    # births: a 1+2+3 = 6, b 4+5+6 = 15, county 21
    # population (day-weighted): a 100; b (90*31 + 93*31 + 96*30) / 92 = 8553/92 = 92.97 -> 93;
    # county 100 + 92.97 = 192.97 -> 193
    # infant deaths: a 0+1+0 = 1, b 3, county 4: all 1..4 -> "<5" at every level
    expected = pd.DataFrame({"代码": ["a", "b", "c"], "平均人口": [100, 93, 193],
                             "出生": [6, 15, 21], "婴儿死亡": ["<5", "<5", "<5"],
                             "说明": ["", "", ""]},
                            index=pd.Index(["甲乡", "乙镇", "县"], name="单位"))
    assert t.index.tolist() == expected.index.tolist() and t.index.name == "单位"
    assert t.astype(object).to_dict("list") == expected.astype(object).to_dict("list")


def test_counts_table_keeps_a_unit_that_did_not_report():
    # b sent no August report, and a third township d (in the units table) sent nothing:
    # both keep their row with missing counts and a note, and the county total is missing
    # rather than the sum of a alone (6 births) that silently lacks them
    units = pd.concat([UNITS, pd.DataFrame({"unit": ["d"], "name": ["丙村"], "parent": ["c"],
                                            "level": ["township"]})], ignore_index=True)
    c = q3_counts()
    c = c[~((c["unit"] == "b") & (c["period"] == pd.Period("2024-08", "M")))]
    t = report.counts_table(c, units, "2024Q3", columns=("births",), language="en")
    assert t.index.tolist() == ["甲乡", "乙镇", "丙村", "县"]  # the county row is the total
    assert t["Births"].iloc[0] == 6
    assert t["Births"].iloc[1:].isna().all()
    assert t["Note"].tolist() == ["", "missing 2024-08", "no counts",
                                  "2 unit(s) not reported in full"]


def test_counts_table_of_a_period_without_rows_lists_every_unit_as_not_reported():
    t = report.counts_table(q3_counts(), UNITS, "2024Q4", columns=("population", "births"),
                            language="en")
    assert list(t.columns) == ["Code", "Mean population", "Births", "Note"]
    assert t.index.name == "Unit" and t.index.tolist() == ["甲乡", "乙镇", "县"]
    assert t[["Mean population", "Births"]].isna().all().all()
    assert t["Note"].tolist() == ["no counts", "no counts", "2 unit(s) not reported in full"]
    empty = report.counts_table(q3_counts().iloc[:0], UNITS, "2024Q3", columns=("births",))
    assert empty.empty and list(empty.columns) == ["代码", "出生", "说明"]


def test_counts_table_on_the_sample_matches_the_raw_rows(sample_counts, sample_units):
    # independent reference: the raw monthly rows of 2024Q3 summed here
    t = report.counts_table(sample_counts, sample_units, "2024Q3", language="en")
    q3 = sample_counts[sample_counts.period.between(pd.Period("2024-07", "M"),
                                                    pd.Period("2024-09", "M"))]
    assert t.index[-1] == "青禾县"
    assert t["Births"].iloc[-1] == q3["births"].sum()
    assert t.loc["东林镇", "Births"] == q3.loc[q3.unit == "990101101", "births"].sum()


def test_counts_table_births_outside_policy_and_internal_mode():
    t = report.counts_table(q3_counts_big(), UNITS, "2024Q3", language="en",
                            columns=("births", "deaths_infant", "births_compliant",
                                     "births_outside"))
    # births a 6, b 15, county 21; compliant a 1+2+3 = 6, b 2+3+5 = 10, county 16
    # outside a 0 (0..4: "<5"), b 5, county 5: county - b would give a = 0, so the county is
    # withheld (b goes first, being first of the equal 5s, then the county; b is given back:
    # with the county "[c]", i.e. >= 5, a = county - 5 is >= 0 with no upper bound);
    # infant deaths a 1 -> <5, b 5, and the county's 6 is withheld the same way
    assert t["Infant deaths"].tolist() == ["<5", 5, "[c]"]
    assert t["Compliant births"].tolist() == ["[c]", 10, "[c]"]
    assert t["Births outside policy"].tolist() == ["<5", 5, "[c]"]
    # 4 births outside policy in b: 11 compliant of 15 -> b suppressed, compliant births
    # withheld there (15 - 11 would give 4); a 0 and the county 4 are 0..4 too: "<5" each,
    # and a + b = county in 0..4 tells nothing more
    c = q3_counts_big().assign(births_compliant=pd.array([1, 2, 3, 2, 4, 5], dtype="Int64"))
    t = report.counts_table(c, UNITS, "2024Q3", language="en",
                            columns=("births", "births_compliant", "births_outside"))
    assert t["Births outside policy"].tolist() == ["<5", "<5", "<5"]
    assert t["Compliant births"].tolist() == ["[c]", "[c]", "[c]"]
    # the guard works when births outside policy is not shown at all
    t = report.counts_table(c, UNITS, "2024Q3", language="en",
                            columns=("births", "births_compliant"))
    assert t.columns.tolist() == ["Code", "Births", "Compliant births", "Note"]
    assert t["Compliant births"].tolist() == ["[c]", "[c]", "[c]"]
    full = report.counts_table(c, UNITS, "2024Q3", language="en", disclosure="internal",
                               columns=("births_compliant", "births_outside"))
    assert full["Births outside policy"].tolist() == [0, 4, 4]
    assert full["Compliant births"].tolist() == [6, 11, 17]
    # another threshold and mark: 0..2 shown as "fewer than 3"; a 1, b 5, county 6: b is
    # withheld (>= 3), so a = 6 - b <= 3, no narrower than a's band 0..2
    rule = report.disclosure(threshold=2, mark="fewer than 3")
    t = report.counts_table(q3_counts_big(), UNITS, "2024Q3", disclosure=rule,
                            columns=("deaths_infant",), language="en")
    assert t["Infant deaths"].tolist() == ["fewer than 3", "[c]", 6]


def test_totals_that_give_suppressed_cells_away_are_withheld():
    # q3_counts: a 1, b 3 infant deaths, county 4: two cells suppressed, not all 1 -> the
    # county shows "<5" (itself 1-4), nothing recoverable
    t = report.counts_table(q3_counts(), UNITS, "2024Q3", columns=("deaths_infant",))
    assert t["婴儿死亡"].tolist() == ["<5", "<5", "<5"]
    # both townships at 1, county 2: with zeros in the band the county is "<5" too, and
    # a + b = county in 0..4 leaves each in 0..4
    ones = q3_counts().assign(deaths_infant=pd.array([0, 1, 0, 0, 0, 1], dtype="Int64"))
    t = report.counts_table(ones, UNITS, "2024Q3", columns=("deaths_infant",))
    assert t["婴儿死亡"].tolist() == ["<5", "<5", "<5"]
    # rates: a 2 deaths (suppressed), b 5, county 7 -> 7 - 5 = 2 -> the county rate is
    # withheld when the units tell that c is their total
    r = pd.DataFrame({"unit": ["a", "b", "c"], "period": "2024Q3",
                      "indicator": "infant_mortality_rate", "numerator": [2.0, 5.0, 7.0],
                      "denominator": [400.0, 400.0, 800.0], "value": [5.0, 12.5, 8.75],
                      "lower": 0.0, "upper": 30.0, "note": ""})
    assert report.publishable(r, units=UNITS)["value"].tolist() == ["[c]", 12.5, "[c]"]
    assert report.publishable(r)["value"].tolist() == ["[c]", 12.5, 8.75]
    t = report.indicator_table(r, UNITS, intervals=False, language="en")
    assert t.iloc[:, 0].tolist() == ["[c]", 12.5, "[c]"]


def test_small_cells_show_the_suppression_mark():
    t = pd.DataFrame({"deaths_infant": [0, 1, 2, 3, 4, 5, None]}, dtype="Int64")
    out = report.suppress_small_cells(t, ["deaths_infant"])
    assert out["deaths_infant"].tolist() == ["<5", "<5", "<5", "<5", "<5", 5, pd.NA]
    assert report.SUPPRESSED == "<5" and report.WITHHELD == "[c]"
    assert t["deaths_infant"].tolist() == [0, 1, 2, 3, 4, 5, pd.NA]  # input untouched
    out = report.suppress_small_cells(t, ["deaths_infant"], threshold=2, mark="*")
    assert out["deaths_infant"].tolist() == ["*", "*", "*", 3, 4, 5, pd.NA]


def results_frame() -> pd.DataFrame:
    """Infant mortality of three units: 2, 0 and 5 deaths per 400 births."""
    return pd.DataFrame({
        "unit": ["a", "b", "c"], "period": "2024Q3", "indicator": "infant_mortality_rate",
        "numerator": [2.0, 0.0, 5.0], "denominator": [400.0, 400.0, 800.0],
        "value": [5.0, 0.0, 6.25], "lower": [0.6, 0.0, 2.03], "upper": [17.9, 9.2, 14.5],
        "note": ["", "", ""]})


def test_publishable_marks_small_infant_death_counts():
    pub = report.publishable(results_frame())
    # 2 and 0 deaths (0..4) -> suppressed; 5 is shown
    assert pub["numerator"].tolist() == ["<5", "<5", 5.0]
    assert pub["value"].tolist() == ["[c]", "[c]", 6.25]
    assert pub["lower"].tolist() == ["[c]", "[c]", 2.03]
    assert pub["upper"].tolist() == ["[c]", "[c]", 14.5]
    assert pub["note"].tolist() == ["suppressed: 0-4 infant deaths"] * 2 + [""]
    assert report.publishable(results_frame(), language="zh")["note"].iloc[0] \
        == "已隐去：婴儿死亡0–4例"
    assert report.publishable(results_frame(), "internal").equals(results_frame())
    assert results_frame().equals(results_frame())  # a new frame each time


def test_publishable_leaves_other_indicators_alone():
    r = results_frame().assign(indicator="crude_birth_rate")
    pub = report.publishable(r)
    assert pub["value"].tolist() == [5.0, 0.0, 6.25]


def test_indicator_table_shows_the_mark_not_nan():
    t = report.indicator_table(results_frame(), UNITS, language="en")
    assert t.index.tolist() == ["甲乡", "乙镇", "县"] and t.index.name == "unit"
    values = t.xs("value", axis=1, level=1).iloc[:, 0].tolist()
    # a's 2 and b's 0 deaths are small; c, the county above them, has 5: beside two "<5"
    # it would give a + b = 5, so a >= 1 and b >= 1, and withheld ("[c]", so 5 or more) the
    # same. So a and b lose their band mark (masked: "[c]", known only as >= 0) and the
    # county's figure is shown: a + b = 5 leaves each 0..5, its whole band 0..4
    assert values == ["[c]", "[c]", 6.25]
    t = report.indicator_table(results_frame(), language="en")  # no units: no hierarchy
    assert t.xs("value", axis=1, level=1).iloc[:, 0].tolist() == ["[c]", "[c]", 6.25]


def test_indicator_table_refuses_two_rows_for_one_unit_and_indicator():
    r = results_frame()
    two = pd.concat([r, r.assign(period="2024Q4")])
    with pytest.raises(ValueError, match="indicator_table needs one row per unit and "
                                         "indicator; a/infant_mortality_rate appears more"):
        report.indicator_table(two)


def test_indicator_table_of_empty_results_is_empty():
    t = report.indicator_table(results_frame().iloc[:0])
    assert t.shape == (0, 0) and t.index.name == "单位"


def evaluated_frame(period: str = "2024Q3") -> pd.DataFrame:
    return pd.DataFrame({
        "unit": ["a", "a", "b", "b"], "period": period, "target": [1, 2, 1, 2],
        "indicator": ["compliance_rate", "sex_ratio_at_birth"] * 2,
        "label": ["政策符合率", "出生人口性别比"] * 2,
        "value": [91.04, 131.0, 80.0, np.nan],
        "met": pd.array([True, False, False, None], dtype="boolean"),
        "verdict": ["clearly_met", "indeterminate", "clearly_not_met", "no_data"]})


def test_attainment_table_by_hand():
    t = report.attainment_table(evaluated_frame(), UNITS, disclosure="internal")
    # 91.04 met for sure -> "91.0 ✓"; 131.0 not met, interval reaches 130 -> "131.0 (✗)";
    # 80.0 clearly not met -> "80.0 ✗"; no value -> "—"
    assert t.to_dict("index") == {"甲乡": {"政策符合率": "91.0 ✓", "出生人口性别比": "131.0 (✗)"},
                                  "乙镇": {"政策符合率": "80.0 ✗", "出生人口性别比": "—"}}
    assert t.index.name == "单位" and t.columns.name is None


def test_attainment_table_withholds_compliance_on_few_births_outside_policy():
    ev = evaluated_frame()
    # without counts every compliance value is withheld: nothing shown on a guess
    # (and without the target's mark: ✓ or ✗ would tell on which side of it the count lies)
    t = report.attainment_table(ev, UNITS)
    assert t["政策符合率"].tolist() == ["[c]", "[c]"]
    assert t["出生人口性别比"].tolist() == ["131.0 (✗)", "—"]
    # with counts: a has 6 - 6 = 0 outside policy (0..4: withheld), b 15 - 10 = 5 (shown) ...
    t = report.attainment_table(ev, UNITS, counts=q3_counts_big())
    assert t["政策符合率"].tolist() == ["[c]", "80.0 ✗"]
    # ... and with 15 - 11 = 4 outside policy b is withheld too
    c = q3_counts_big().assign(births_compliant=pd.array([1, 2, 3, 2, 4, 5], dtype="Int64"))
    t = report.attainment_table(ev, UNITS, counts=c)
    assert t["政策符合率"].tolist() == ["[c]", "[c]"]


@pytest.mark.parametrize("period", ["2024-07", "2024H1", "2024-01/2024-09"])
def test_attainment_table_of_a_period_without_targets_is_empty(period):
    # the examples: no quarterly target applies to these periods, so the notebook's
    # selection evaluated[evaluated.period == str(p)] is empty; it used to crash (UFuncTypeError)
    ev = evaluated_frame()
    t = report.attainment_table(ev[ev["period"] == period], UNITS)
    assert t.shape == (0, 0) and t.index.name == "单位"


def test_attainment_table_refuses_several_periods():
    two = pd.concat([evaluated_frame(), evaluated_frame("2024Q4")])
    with pytest.raises(ValueError, match="attainment_table shows one period; got 2024Q3, 2024Q4"):
        report.attainment_table(two)


UNCERTAINTY = pd.DataFrame({
    "unit": ["b", "a"], "period": "2024Q3", "score": [90.0, 72.5], "rank": [1, 2],
    "median_rank": [1.0, 2.0], "draw_rank_lower": [1, 1], "draw_rank_upper": [2, 2],
    "rank_set_lower": [1, 1], "rank_set_upper": [2, 2], "joint_rank_set_lower": [1, 1],
    "joint_rank_set_upper": [2, 2], "p_top": [0.8123, 0.1877], "p_bottom": [0.1877, 0.8123],
    "draws": 100, "seed": 1})
SCORES = pd.DataFrame({"unit": ["b", "a"], "period": "2024Q3", "met": [9, 7], "targets": 10,
                       "tier": ["top", "bottom"], "streak": [0, 2]})
LEAGUE_EN = ["rank", "score", "95% rank confidence set", "95% joint rank set",
             "redraw rank range", "top k in redraws %", "bottom k in redraws %",
             "targets met", "tier", "bottom streak"]


def test_league_table_by_hand():
    t = report.league_table(UNCERTAINTY, SCORES, UNITS, language="en",
                            disclosure="internal")
    assert list(t.columns) == LEAGUE_EN and t.index.tolist() == ["乙镇", "甲乡"]
    # 100 * 0.8123 = 81.23 -> 81.2; 100 * 0.1877 = 18.77 -> 18.8
    assert t.iloc[0].tolist() == [1, 90.0, "1–2", "1–2", "1–2", 81.2, 18.8, "9/10", "top", 0]
    assert t.iloc[1].tolist() == [2, 72.5, "1–2", "1–2", "1–2", 18.8, 81.2, "7/10", "bottom",
                                  2]


def test_league_table_tells_the_confidence_sets_from_the_redraw_range():
    # each column shows its own pair of columns of the input, written by hand here
    u = UNCERTAINTY.assign(rank_set_lower=[1, 2], rank_set_upper=[1, 2],
                           joint_rank_set_lower=[1, 1], joint_rank_set_upper=[2, 2],
                           draw_rank_lower=[1, 2], draw_rank_upper=[1, 2])
    t = report.league_table(u, language="zh", disclosure="internal")
    assert t[["95%名次置信集", "全表95%名次置信集", "重抽名次范围"]].to_numpy().tolist() == [
        ["1–1", "1–2", "1–1"], ["2–2", "1–2", "2–2"]]
    assert "重抽前列占比%" in t and "名次区间" not in t


def test_league_table_puts_the_pooled_year_beside_the_quarter():
    year = UNCERTAINTY.assign(period="2024", rank=[2, 1], rank_set_lower=[2, 1],
                              rank_set_upper=[2, 1]).iloc[[1]]  # unit a only
    t = report.league_table(UNCERTAINTY, SCORES, UNITS, pooled=year, language="en",
                            disclosure="internal")
    assert t["2024 rank"].tolist() == ["—", "1"]  # b has no pooled row
    assert t["2024 95% rank confidence set"].tolist() == ["—", "1–1"]
    # no target applies to the pooled period: its columns say so with —, not a blank label
    none = report.league_table(UNCERTAINTY, pooled=year.iloc[:0], language="en",
                               disclosure="internal")
    assert none["pooled rank"].tolist() == ["—", "—"]


def test_league_table_refuses_an_old_result_and_a_pooled_table_of_two_periods():
    old = UNCERTAINTY.rename(columns={"draw_rank_lower": "rank_lower"})
    with pytest.raises(ValueError, match=r"league_table needs the output of "
                                         r"targets.rank_uncertainty; missing columns "
                                         r"\['draw_rank_lower'\]"):
        report.league_table(old)
    two = pd.concat([UNCERTAINTY, UNCERTAINTY.assign(period="2024")])
    with pytest.raises(ValueError, match="league_table pools one period; got 2024, 2024Q3"):
        report.league_table(UNCERTAINTY, pooled=two)


def test_league_table_without_scores_for_the_period_says_so():
    # scores are quarterly; a year's uncertainty has no matching row -> "—", not "<NA>/<NA>"
    t = report.league_table(UNCERTAINTY.assign(period="2024"), SCORES, language="en",
                            disclosure="internal")
    assert t["targets met"].tolist() == ["—", "—"]


def test_league_table_of_nothing_is_empty_with_its_columns():
    t = report.league_table(UNCERTAINTY.iloc[:0], SCORES.iloc[:0], UNITS, language="en")
    assert t.empty and list(t.columns) == LEAGUE_EN


def test_tier_table_by_hand_and_empty():
    s = pd.DataFrame({"unit": ["a", "b", "a", "b"],
                      "period": ["2024Q2", "2024Q2", "2024Q1", "2024Q1"],  # out of order
                      "score": [60.0, 80.0, 90.0, 72.5], "rank": [2, 1, 1, 2],
                      "tier": ["bottom", "top", "top", "bottom"], "streak": [1, 0, 0, 1]})
    t = report.tier_table(s, UNITS, language="en")
    assert list(t.columns) == ["2024Q1", "2024Q2"]  # in time order
    assert t.to_dict("index") == {"甲乡": {"2024Q1": "90 (1) ▲", "2024Q2": "60 (2) ▼1"},
                                  "乙镇": {"2024Q1": "72.5 (2) ▼1", "2024Q2": "80 (1) ▲"}}
    assert report.tier_table(s.iloc[:0]).shape == (0, 0)
    with pytest.raises(ValueError, match="tier_table needs one row per unit and period"):
        report.tier_table(pd.concat([s, s]))


def test_standing_table_by_hand_and_empty():
    st = pd.DataFrame({"unit": ["a", "b"], "period": "2024", "county_score": [92.5, 80.0],
                       "quarters": [4.0, 4.0], "external_score": [88.6, 90.0],
                       "score": [90.94, 84.0], "rank": [1, 2], "band": ["一类", "二类"]})
    t = report.standing_table(st, UNITS, language="en")
    assert t.index.tolist() == ["甲乡", "乙镇"] and t.index.name == "unit"
    assert list(t.columns) == ["rank", "county mean", "quarters", "city score", "standing",
                               "band"]
    assert t.iloc[0].tolist() == [1, 92.5, 4, 88.6, 90.94, "一类"]
    empty = report.standing_table(st.iloc[:0], UNITS, language="en")
    assert empty.empty and list(empty.columns) == list(t.columns)


def test_load_summary_is_indexed_by_file(sample_units, sample_counts):
    t = report.load_summary(sample_units, sample_counts)
    assert t.index.name == "file" and "counts.csv" in t.index
    assert (t["rows_in"] == t["rows_used"] + t["set_aside"]).all()


def _stray_index(ws) -> bool:
    """Whether a sheet's first column is an unnamed 0..n-1 row number."""
    rows = list(ws.iter_rows(values_only=True))
    header = [r for r in rows if r[0] not in (None, "")]
    first = [r[0] for r in rows]
    numbers = [v for v in first if isinstance(v, int)]
    return first[0] in (None, "") and numbers == list(range(len(numbers))) and len(header) > 0 \
        and len(numbers) > 0


def test_excel_has_no_stray_index_on_any_sheet(tmp_path, sample_counts, sample_units):
    from fpanalysis import indicators

    r = indicators.compute(sample_counts, ["crude_birth_rate", "infant_mortality_rate"],
                           period="2024Q4")
    ev = evaluated_frame()
    tables = {
        "counts": report.counts_table(sample_counts, sample_units, "2024Q4"),
        "indicators": report.publishable(r),
        "wide": report.indicator_table(r, sample_units),
        "tall": report.indicator_table(r, sample_units, intervals=False).T,
        "attainment": ev[ev["unit"] == "b"],  # a filtered frame: index 2, 3
        "attainment_table": report.attainment_table(ev, UNITS),
        "league": report.league_table(UNCERTAINTY, SCORES, UNITS, disclosure="internal"),
        "raw_uncertainty": UNCERTAINTY,
        "flat": pd.DataFrame([[1, 2]], columns=pd.MultiIndex.from_tuples([("x", "v"),
                                                                          ("y", "v")])),
    }
    path = report.write_excel(tables, tmp_path / "t.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == list(tables)
    for ws in wb.worksheets:
        assert not _stray_index(ws), ws.title
    # first header cells: the named index or the first real column
    assert wb["counts"]["A1"].value == "单位" and wb["counts"]["B1"].value == "代码"
    assert wb["indicators"]["A1"].value == "unit"
    assert wb["attainment"]["A1"].value == "unit" and wb["attainment"]["A2"].value == "b"
    assert wb["league"]["A1"].value == "单位"
    assert wb["raw_uncertainty"]["A1"].value == "unit"
    assert [c.value for c in wb["flat"][1]] == ["x / v", "y / v"]
    # suppressed cells carry the marks in the workbook too: "<5" for the count, "[c]" for
    # value, lower and upper
    cells = [c.value for row in wb["indicators"].iter_rows() for c in row]
    imr = r[r["indicator"] == "infant_mortality_rate"]
    small = int(((imr["numerator"] >= 0) & (imr["numerator"] <= 4)).sum())
    assert small > 0 and cells.count("<5") == small and cells.count("[c]") == 3 * small


def test_excel_round_trips_periods(tmp_path, sample_counts):
    from fpanalysis import indicators

    r = indicators.compute(sample_counts, ["crude_birth_rate"], period="2024Q4")
    path = report.write_excel({"indicators": pd.concat([r, r])}, tmp_path / "t.xlsx")
    back = pd.read_excel(path, sheet_name="indicators", dtype={"unit": str})
    assert list(back.columns[:3]) == ["unit", "period", "indicator"]
    assert back["period"].iloc[0] == "2024Q4" and len(back) == 2 * len(r)


# --- folders and the pre-flight check ------------------------------------------------------

@pytest.mark.parametrize(("label", "folder"), [
    ("2024-07", "2024-07"), ("2024年7月", "2024-07"), ("2024Q3", "2024Q3"),
    ("2024年第3季度", "2024Q3"), ("2024H1", "2024H1"), ("2024年上半年", "2024H1"),
    ("2024-01/2024-09", "2024-01_2024-09"), ("2024年1-9月", "2024-01_2024-09"),
    ("2024", "2024"), ("2024-07-D1", "2024-07-D1")])
def test_folder_name(label, folder):
    assert report.folder_name(label) == folder


def test_output_folder_follows_the_period():
    # the README's `papermill ... -p period 2024Q2` must write into 2024Q2, not 2024Q4
    assert report.output_folder("", "2024Q2") == Path("../reports/2024Q2")
    assert report.output_folder("  ", "2024年1-9月") == Path("../reports/2024-01_2024-09")
    assert report.output_folder("../x", "2024Q2") == Path("../x")
    assert report.output_folder("", "2024Q2", reports="out") == Path("out/2024Q2")


def test_quarterly_notebook_default_output_dir_follows_its_period():
    nb = nbformat.read(ROOT / "notebooks" / "quarterly_report.ipynb", as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    params = next(c.source for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    assert re.search(r'^output_dir: str = ""', params, re.M)
    assert any("report.output_folder(output_dir, p)" in s for s in code)


MONTHS = pd.DataFrame({"unit": "a", "period": pd.period_range("2024-01", "2024-08", freq="M")})


@pytest.mark.parametrize("period", ["2024-07", "2024Q2", "2024H1", "2024-01/2024-08",
                                    "2024年7月", "2024年上半年"])
def test_check_period_accepts_covered_periods(period):
    assert report.check_period(MONTHS, period) is None


@pytest.mark.parametrize(("period", "message"), [
    ("2024Q3", "the counts have no rows for 2024-09 of period 2024Q3 (they cover 2024-01 to "
               "2024-08)"),
    ("2025Q1", "the counts have no rows for 2025-01 to 2025-03 of period 2025Q1"),
    ("2024", "the counts have no rows for 2024-09, 2024-10, 2024-11, 2024-12 of period 2024 "),
    ("2024-07-D1", "the counts are monthly; a dekad (2024-07-D1) needs dekad counts"),
])
def test_check_period_refuses_periods_without_data(period, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        report.check_period(MONTHS, period)


def test_check_period_on_dekad_counts():
    from fpanalysis import periods as pr

    dek = pd.DataFrame({"unit": "a", "period": pd.Series(
        [pr.parse("2024-07-D1"), pr.parse("2024-07-D2"), pr.parse("2024-07-D3")],
        dtype=object)})
    assert report.check_period(dek, "2024-07-D2") is None
    assert report.check_period(dek, "2024-07") is None
    with pytest.raises(ValueError, match=re.escape(
            "the counts have no rows for dekad 2024-08-D1 (they cover 2024-07-D1 to 2024-07-D3)")):
        report.check_period(dek, "2024-08-D1")
    with pytest.raises(ValueError, match="no rows for 2024-08 of period 2024-08"):
        report.check_period(dek, "2024-08")


def test_check_period_refuses_empty_counts():
    with pytest.raises(ValueError, match="the counts have no rows at all; nothing to report "
                                         "for 2024Q3"):
        report.check_period(MONTHS.iloc[:0], "2024Q3")


# --- render: atomic, with a tiny notebook --------------------------------------------------

TINY_PARAMETERS = ('data_dir: str = "../data/sample"\nperiod: str = "2024Q3"\n'
                   'output_dir: str = "."\nlanguage: str = "zh"\ncrash: str = ""\n'
                   'disclosure: str = "public"')


def tiny_notebook(folder: Path, parameters: str = TINY_PARAMETERS) -> Path:
    """A report notebook that writes one table file, then runs, raises or kills its kernel.

    ``crash``: "" runs to the end; "raise" raises in the third cell; "kill" kills the kernel
    process there (as an out-of-memory kill would). Without an ``output_dir`` parameter it
    writes no table.
    """
    folder.mkdir(parents=True, exist_ok=True)
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(parameters)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Tiny report"),
        params,
        nbformat.v4.new_code_cell(
            "import os, pathlib\n"
            + ("out = pathlib.Path(output_dir)\n"
               "(out / 'tables.txt').write_text(f'tables for {period} ({crash or \"good\"})')\n"
               if "output_dir" in parameters else "")
            + "print('report for', period)"),
        nbformat.v4.new_code_cell(
            "if crash == 'raise':\n    raise RuntimeError('boom in the report')\n"
            "if crash == 'kill':\n    os.kill(os.getpid(), 9)"),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path = folder / "tiny.ipynb"
    nbformat.write(nb, path)
    return path


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


@pytest.fixture
def good_report(tmp_path):
    """A tiny report rendered once for 2024Q3: (notebook, output folder, file snapshot)."""
    nb = tiny_notebook(tmp_path / "nb")
    out = tmp_path / "reports"
    html = report.render(nb, period="2024年第3季度", data_dir=SAMPLE, output_dir=out)
    assert html == out / "2024Q3" / "tiny.html"
    before = snapshot(out / "2024Q3")
    assert sorted(before) == ["tables.txt", "tiny.html", "tiny.ipynb"]
    assert before["tables.txt"] == b"tables for 2024Q3 (good)"
    # the kept notebook names its own folder, not the temporary one it ran in
    assert b".tmp" not in before["tiny.ipynb"]
    assert b'output_dir = \\"../reports/2024Q3\\"' in before["tiny.ipynb"]
    return nb, out, before


@pytest.mark.parametrize(("crash", "why"), [
    # In [4]: parameters, injected parameters, the table cell, then the cell that raises
    ("raise", "cell [4] raised RuntimeError: boom in the report"),
    ("kill", "DeadKernelError"),
])
def test_failed_rerun_leaves_the_previous_report_byte_identical(good_report, crash, why):
    nb, out, before = good_report
    with pytest.raises(report.RenderError) as err:
        report.render(nb, period="2024Q3", data_dir=SAMPLE, output_dir=out,
                      parameters={"crash": crash})
    message = str(err.value)
    assert message.startswith("tiny.ipynb for 2024Q3 failed: ")
    assert why in message
    assert f"the report in {out / '2024Q3'} is unchanged" in message
    assert f"the failed run is kept in {out / '2024Q3.failed' / 'tiny.ipynb'}" in message
    assert snapshot(out / "2024Q3") == before
    failed = out / "2024Q3.failed"
    assert err.value.failed == failed
    assert (failed / "tables.txt").read_text() == f"tables for 2024Q3 ({crash})"
    assert not (failed / "tiny.html").exists()
    assert sorted(p.name for p in out.iterdir()) == ["2024Q3", "2024Q3.failed"]  # no temp left
    if crash == "raise":  # papermill saved the notebook with the error in it
        kept = nbformat.read(failed / "tiny.ipynb", as_version=4)
        assert any(o.get("ename") == "RuntimeError" for c in kept.cells if c.cell_type == "code"
                   for o in c.outputs)
    # a later good run replaces the report and clears the stale failure
    report.render(nb, period="2024Q3", data_dir=SAMPLE, output_dir=out)
    assert sorted(p.name for p in out.iterdir()) == ["2024Q3"]


def test_interrupted_rerun_leaves_the_previous_report_intact(good_report, monkeypatch):
    import papermill

    nb, out, before = good_report

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(papermill, "execute_notebook", interrupted)
    with pytest.raises(KeyboardInterrupt) as err:
        report.render(nb, period="2024Q3", data_dir=SAMPLE, output_dir=out)
    assert snapshot(out / "2024Q3") == before
    assert (out / "2024Q3.failed").is_dir()
    assert err.value.__notes__[-1].startswith("tiny.ipynb for 2024Q3 was interrupted")


def test_first_render_that_fails_writes_no_report(tmp_path):
    nb = tiny_notebook(tmp_path / "nb")
    with pytest.raises(report.RenderError, match="the report in .*2024Q3 was not written"):
        report.render(nb, period="2024Q3", data_dir=SAMPLE, output_dir=tmp_path / "r",
                      parameters={"crash": "raise"})
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == ["2024Q3.failed"]


@pytest.mark.parametrize(("period", "message"), [
    ("2025Q1", "the counts in {data} have no rows for 2025-01 to 2025-03 of period 2025Q1 "
               "(they cover 2022-01 to 2024-12)"),
    ("2024-07-D1", "the counts in {data} are monthly; a dekad (2024-07-D1) needs dekad counts"),
    ("2024Q5", "cannot parse period label '2024Q5'"),
])
def test_render_refuses_before_the_kernel_starts(tmp_path, monkeypatch, period, message):
    import papermill

    def never(*args, **kwargs):
        raise AssertionError("the kernel was started")

    monkeypatch.setattr(papermill, "execute_notebook", never)
    nb = tiny_notebook(tmp_path / "nb")
    with pytest.raises(ValueError, match=re.escape(message.format(data=SAMPLE))):
        report.render(nb, period=period, data_dir=SAMPLE, output_dir=tmp_path / "r")
    assert not (tmp_path / "r").exists()


def test_render_rejects_unknown_parameters(tmp_path):
    nb = tiny_notebook(tmp_path / "nb")
    with pytest.raises(ValueError, match="tiny.ipynb has no parameter.s. colour; it declares "
                                         "data_dir, period, output_dir, language, crash, "
                                         "disclosure"):
        report.render(nb, period="2024Q3", output_dir=tmp_path, parameters={"colour": "red"})


def test_render_passes_output_dir_and_language_only_when_declared(tmp_path):
    # like birth_rates.ipynb, which declares data_dir, period and language only
    nb = tiny_notebook(tmp_path / "nb", 'data_dir: str = ""\nperiod: str = ""\ncrash: str = ""\n'
                                        'disclosure: str = "public"')
    html = report.render(nb, period="2024Q3", data_dir=SAMPLE, output_dir=tmp_path / "r")
    assert html == tmp_path / "r" / "2024Q3" / "tiny.html"
    assert sorted(p.name for p in (tmp_path / "r" / "2024Q3").iterdir()) == [
        "tiny.html", "tiny.ipynb"]


def test_render_needs_data_dir_and_period(tmp_path):
    nb = tiny_notebook(tmp_path / "nb", 'data_dir: str = ""\ncrash: str = ""')
    with pytest.raises(ValueError, match="tiny.ipynb has no parameter.s. period; it declares "
                                         "data_dir, crash"):
        report.render(nb, period="2024Q3", data_dir=SAMPLE, output_dir=tmp_path / "r")


def test_a_notebook_that_cannot_apply_the_disclosure_rule_is_no_report(tmp_path):
    # found by an adversarial pass: target_attainment rendered "public" showed compliant
    # births from which 1-4 births outside policy follow; a notebook without the parameter
    # can neither withhold nor say which edition it is, so it renders in no mode
    nb = tiny_notebook(tmp_path / "nb", 'data_dir: str = ""\nperiod: str = ""\ncrash: str = ""')
    for mode, edition in (("public", "a public"), ("internal", "an internal")):
        with pytest.raises(ValueError, match=f"tiny.ipynb has no parameter disclosure; it "
                                             f"cannot make {edition} report"):
            report.render(nb, period="2024Q3", data_dir=SAMPLE, output_dir=tmp_path / "r",
                          disclosure=mode)


def test_render_names_every_missing_path(tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        report.render(tmp_path / "no.ipynb", period="2024Q3", data_dir=tmp_path / "nodata")
    assert str(err.value).splitlines() == [f"no notebook {tmp_path / 'no.ipynb'}",
                                           f"no data folder {tmp_path / 'nodata'}"]


# --- the real report, end to end (slow: about 10 s each) -----------------------------------

def test_render_writes_html_without_code(tmp_path):
    html = report.render(ROOT / "notebooks" / "quarterly_report.ipynb", period="2024年第3季度",
                         data_dir=ROOT / "data" / "sample", output_dir=tmp_path)
    assert html == tmp_path / "2024Q3" / "quarterly_report.html"
    text = html.read_text(encoding="utf-8")
    assert "东林镇" in text and "2024年第3季度" in text
    assert "import fpanalysis" not in text
    assert 'class="highlight' not in text  # no code cell is shown
    assert (tmp_path / "2024Q3" / "quarterly_tables.xlsx").is_file()
    assert "Traceback" not in text
    assert not re.search(r'data-mime-type="application/vnd.jupyter.stderr"', text)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2024Q3"]


@pytest.fixture(scope="module")
def other_county(tmp_path_factory):
    """A county of another kind: other seed, 25 townships, the years 2020-2021."""
    from fpanalysis import synth

    out = tmp_path_factory.mktemp("county")
    synth.write_sample(out, seed=7, units=25, years=(2020, 2021))
    return out


@pytest.mark.parametrize("name", ["quarterly_report", "birth_rates", "sex_ratio",
                                  "target_attainment"])
def test_every_notebook_runs_unchanged_on_another_county(name, other_county, tmp_path):
    import papermill as pm

    nb = ROOT / "notebooks" / f"{name}.ipynb"
    params = {"data_dir": str(other_county), "period": "2021Q4"}
    declared = pm.inspect_notebook(str(nb))
    if "output_dir" in declared:
        params["output_dir"] = str(tmp_path)
    if "targets" in declared:
        params["targets"] = "scheme_full.toml"  # the generated county has the full scheme too
    out = pm.execute_notebook(str(nb), str(tmp_path / f"{name}.ipynb"), parameters=params,
                              cwd=str(nb.parent), progress_bar=False, kernel_name="python3")
    errors = [o for c in out.cells for o in c.get("outputs", [])
              if o.get("output_type") == "error" or o.get("name") == "stderr"]
    assert errors == []


def test_careless_table_requests_are_refused_not_dropped(tmp_path, sample_counts, sample_units):
    from fpanalysis import indicators

    r = indicators.compute(sample_counts, ["crude_birth_rate"], period="2024Q4")
    with pytest.raises(ValueError, match="indicator_table: no results for nope"):
        report.indicator_table(r, sample_units, indicators=["nope"])
    with pytest.raises(ValueError, match=r"counts_table: the counts have no column\(s\) nope"):
        report.counts_table(sample_counts, sample_units, "2024Q3", columns=("population", "nope"))
    # two names that become one sheet once cut to 31 characters would lose a table
    with pytest.raises(ValueError, match="more than once"):
        report.write_excel({"x" * 40: r, "x" * 35: r}, tmp_path / "w.xlsx")
    with pytest.raises(ValueError, match="'a/b' is not a sheet name"):
        report.write_excel({"a/b": r}, tmp_path / "w.xlsx")


def test_scheme_tables_show_missing_as_missing_and_refuse_mixtures():
    ev = pd.DataFrame({"unit": ["a", "b"], "period": "2024Q2", "target": 1,
                       "share": [52.7, 41.0], "due": [50.0, np.nan], "elapsed": [49.73] * 2,
                       "verdict": ["clearly_met", "no_data"],
                       "met": pd.array([True, None], dtype="boolean")})
    t = report.milestone_table(ev, language="en")
    # b has no due share and no verdict: shown as such, never "of 0% ✗"
    assert t.iloc[:, 0].tolist() == ["52.7% of 50% ✓", "41.0% of — —"]
    with pytest.raises(ValueError, match="milestone_table shows one milestone target"):
        report.milestone_table(pd.concat([ev, ev.assign(target=2)]), language="en")
    ch = pd.DataFrame({"unit": ["a"], "period": ["2024"], "target": [3], "label": ["x"],
                       "value": [106.82], "baseline": [116.28], "baseline_period": ["2023"],
                       "change": [-9.46], "change_lower": [np.nan], "change_upper": [np.nan],
                       "threshold": [-7.0], "met": pd.array([True], dtype="boolean")})
    # no interval for the change: "—", not "0.00 to 0.00"
    assert report.change_table(ch, language="en")["95% interval"].tolist() == ["—"]
    with pytest.raises(ValueError, match="change_table"):
        report.change_table(pd.concat([ch, ch]), language="en")
    with pytest.raises(ValueError, match="league_table shows one period"):
        report.league_table(pd.concat([UNCERTAINTY, UNCERTAINTY.assign(period="2024Q2")]))


def test_note_text_puts_the_indicator_notes_in_chinese():
    # the fixed sentences of indicators.compute, translated by hand; a part no pattern
    # knows stays as it is
    notes = pd.Series(["few events: 7 births", "",
                       "partial: 2 of 3 months, 2024-08 missing; few events: 3 infant deaths",
                       "not reported: children missing: 105 (2024-07, 2024-08 missing)",
                       "few events: 1 births; no female births: value infinite, upper end open",
                       "not reported: no counts for 2024Q3", "something new"])
    assert list(report.note_text(notes, "zh")) == [
        "事件少：出生7例", "",
        "部分上报：应报3个月，实报2个月，缺2024-08；事件少：婴儿死亡3例",
        "未报：缺下级单位 105（缺2024-07, 2024-08）",
        "事件少：出生1例；无女婴出生：比值为无穷大，上限不定",
        "未报：2024Q3无报表", "something new"]
    assert list(report.note_text(notes, "en")) == list(notes)


def test_note_table_in_chinese_has_no_english_note():
    r = pd.DataFrame({"unit": ["a", "b"], "indicator": "crude_birth_rate",
                      "numerator": [7.0, 40.0], "value": [9.3, 11.0],
                      "note": ["few events: 7 births", ""]})
    assert list(report.note_table(r, language="zh")["说明"]) == ["事件少：出生7例"]


def test_html_title_is_the_report_heading_and_period(tmp_path):
    # the tiny notebook's first heading is "# Tiny report"; nbconvert's default is "Notebook"
    nb = tiny_notebook(tmp_path / "nb")
    for language, label in (("zh", "2024年第3季度"), ("en", "2024Q3")):
        html = report.render(nb, period="2024Q3", data_dir=SAMPLE,
                             output_dir=tmp_path / language, language=language)
        text = html.read_text(encoding="utf-8")
        assert f"<title>Tiny report {label}</title>" in text


def test_report_kernel_runs_with_one_blas_thread(tmp_path, monkeypatch):
    # the kernel inherits the environment render sets: one BLAS thread unless the user chose
    # (a report's matrices are tiny; threads only contend); the caller's environment is
    # restored afterwards
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {
        "name": "python3", "display_name": "Python 3", "language": "python"}})
    parameters = 'period = "2024Q3"\ndata_dir = ""\ndisclosure = "internal"'
    nb.cells = [nbformat.v4.new_code_cell(parameters, metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell(
                    'import os\nprint(os.environ.get("OPENBLAS_NUM_THREADS"), '
                    'os.environ.get("OMP_NUM_THREADS"))')]
    path = tmp_path / "nb" / "env.ipynb"
    path.parent.mkdir()
    nbformat.write(nb, path)
    html = report.render(path, period="2024Q3", data_dir=SAMPLE, output_dir=tmp_path / "out",
                         disclosure="internal")
    done = nbformat.read(html.with_suffix(".ipynb"), as_version=4)
    assert done.cells[-1].outputs[0]["text"] == "1 3\n"
    assert "OPENBLAS_NUM_THREADS" not in os.environ


@pytest.mark.parametrize("key", ["period", "disclosure", "data_dir"])
def test_render_refuses_its_own_arguments_in_parameters(tmp_path, monkeypatch, key):
    # second adversarial pass: parameters={"period": "2024-07"} rendered a public month into
    # the 2024Q3 folder, and {"disclosure": "internal"} an internal edition asked for as
    # public: the merged parameters replaced what render had checked
    import papermill

    def never(*args, **kwargs):
        raise AssertionError("the kernel was started")

    monkeypatch.setattr(papermill, "execute_notebook", never)
    nb = tiny_notebook(tmp_path / "nb")
    value = {"period": "2024-07", "disclosure": "internal", "data_dir": "elsewhere"}[key]
    with pytest.raises(ValueError, match=f"render: give {key} as argument"):
        report.render(nb, period="2024Q3", data_dir=SAMPLE, output_dir=tmp_path / "r",
                      parameters={key: value})
    assert not (tmp_path / "r").exists()
