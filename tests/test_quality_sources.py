"""Consistency between sources: the hospital-births loader and compare_sources.

Expected values come from hand arithmetic (written beside each) or from
scipy.stats.binomtest, never from the helpers the code under test calls.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from fpanalysis import targets
from fpanalysis.io import load_births_hospital, load_report
from fpanalysis.quality.sources import agreement_values, compare_sources, source_flags
from fpanalysis.schema import DataError
from fpanalysis.scheme import load_targets


def frame(units, periods, births, column="births"):
    return pd.DataFrame({"unit": units, "period": periods, column: births})


# --------------------------------------------------------------------------- loader

def test_sample_hospital_births_load_whole(sample_dir):
    h = load_births_hospital(sample_dir)
    rep = load_report(h)
    # 18 townships x 36 months = 648 rows, every one used
    assert (rep.rows_in, rep.rows_used, rep.skipped) == (648, 648, [])
    assert list(h.columns) == ["unit", "period", "births_male", "births_female", "births"]
    assert str(h["period"].dtype) == "period[M]" and str(h["births"].dtype) == "Int64"
    # first row of the file: 990101101,2022-01,15,4 -> births 19
    assert h.iloc[0][["births_male", "births_female", "births"]].tolist() == [15, 4, 19]


def test_loader_lists_every_problem_with_row_and_column(write, sample_units):
    f = write("births_hospital.csv",
              "unit,period,births,births_male,births_female\n"
              "990101101,2024-01,10,6,4\n"          # row 2 fine
              "990101101,2024-01,3,2,1\n"           # row 3 duplicate of row 2
              "990101102,2024-02,10,6,3\n"          # row 4 6 + 3 != 10
              "990101103,2024-03,-1,x,2.5\n"        # row 5 negative, text, fraction
              "999,2024-04,1,1,0\n"                 # row 6 unknown unit
              "990101104,2024年13月,1,1,0\n")      # row 7 unreadable period
    with pytest.raises(DataError) as e:
        load_births_hospital(f, units=sample_units)
    got = {(p.row, p.column) for p in e.value.problems}
    assert {(3, "unit, period"), (4, "births"), (5, "births"), (5, "births_male"),
            (5, "births_female"), (6, "unit"), (7, "period")} <= got
    text = str(e.value)
    assert f"{f}, row 4, column 'births': male + female births = 9 but total births = 10" in text
    assert f"{f}, row 3, column 'unit, period': duplicate (990101101, 2024-01): same key " \
           "as row 2" in text


def test_loader_needs_a_births_column_and_both_sexes(write):
    f = write("births_hospital.csv", "unit,period,deaths\n101,2024-01,3\n")
    with pytest.raises(DataError, match=r"column 'births': required column is missing "
                                        r"\(give births, or births_male and births_female\)"):
        load_births_hospital(f)
    g = write("b2.csv", "unit,period,births_male\n101,2024-01,3\n")
    with pytest.raises(DataError, match=r"column 'births_female': column is missing "
                                        r"although its pair 'births_male' is given"):
        load_births_hospital(g)


def test_loader_total_only_and_gaps_stay_missing(write):
    f = write("births_hospital.csv", "乡镇代码,期间,出生数\n101,2024-01,7\n101,2024-02,\n")
    h = load_births_hospital(f)
    assert list(h.columns) == ["unit", "period", "births"]
    assert h["births"].iloc[0] == 7 and h["births"].isna().iloc[1]  # empty cell: <NA>, not 0


# --------------------------------------------------------------------------- compare_sources

def ratio_ci_reference(a, b, confidence=0.95):
    """Register/other interval from scipy's exact interval of a / (a + b)."""
    ci = stats.binomtest(a, a + b).proportion_ci(confidence_level=confidence, method="exact")
    return ci.low / (1 - ci.low), ci.high / (1 - ci.high)


@pytest.mark.parametrize("a,b", [(87, 100), (870, 1000), (500, 1000), (1, 3), (40, 40)])
def test_ratio_interval_and_p_value_match_scipy(a, b):
    out = compare_sources(frame(["A"], ["2024"], [a]), frame(["A"], ["2024"], [b]))
    lo, hi = ratio_ci_reference(a, b)
    assert out["ratio"].iloc[0] == pytest.approx(a / b, rel=1e-12)
    assert out["lower"].iloc[0] == pytest.approx(lo, rel=1e-9)
    assert out["upper"].iloc[0] == pytest.approx(hi, rel=1e-9)
    assert out["p_value"].iloc[0] == pytest.approx(stats.binomtest(a, a + b, 0.5).pvalue,
                                                   rel=1e-9)
    assert out["difference"].iloc[0] == a - b


def test_flag_rule_needs_both_gap_and_significance():
    reg = frame(["A", "B", "C", "D"], ["2024"] * 4, [87, 870, 500, 1060])
    hos = frame(["A", "B", "C", "D"], ["2024"] * 4, [100, 1000, 1000, 1000])
    out = compare_sources(reg, hos).set_index("unit")
    # A: 0.87 is beyond ±10 % but 87 vs 100 is chance (p = 0.35): no flag
    assert out.loc["A", ["beyond_tolerance", "significant", "flag"]].tolist() == \
        [True, False, False]
    # B: 0.87 with ten times the births: scipy p < 0.01, interval (0.79, 0.96) excludes 1
    assert out.loc["B", ["beyond_tolerance", "significant", "flag"]].tolist() == \
        [True, True, True]
    assert out.loc["B", "severity"] == "moderate"  # upper 0.96 > 0.90: not wholly outside
    # C: 0.5, interval about (0.45, 0.56), wholly below 0.90 -> extreme
    assert out.loc["C", "severity"] == "extreme"
    # D: 1.06 within tolerance, not flagged even if it were significant
    assert out.loc["D", ["beyond_tolerance", "flag", "severity"]].tolist() == [False, False, ""]
    assert (out["threshold"] == 0.10).all() and (out["method"] == "exact_conditional").all()


def test_units_in_one_source_are_listed_and_units_table_adds_silent_ones():
    units = pd.DataFrame({"unit": ["C0", "A", "B", "C", "D"],
                          "name": ["county", "a", "b", "c", "d"],
                          "parent": [None, "C0", "C0", "C0", "C0"],
                          "level": ["county", "township", "township", "township", "township"]})
    reg = frame(["A", "B"], ["2024", "2024"], [10, 12])
    hos = frame(["A", "C"], ["2024", "2024"], [11, 4])
    out = compare_sources(reg, hos, units=units)
    assert out["unit"].tolist() == ["A", "B", "C", "D"]
    assert out["note"].tolist() == ["", "not in the other source", "not in the register",
                                    "not in either source"]
    assert out["flag"].isna().tolist() == [False, True, True, True]
    assert out["register"].isna().tolist() == [False, False, True, True]


def test_rollup_marks_an_incomplete_period_instead_of_summing_part_of_it():
    months = ["2024-01", "2024-02", "2024-03"]
    reg = frame(["A"] * 3 + ["B"] * 2, months + ["2024-01", "2024-03"], [5, 6, 7, 1, 2])
    reg["period"] = pd.PeriodIndex(reg["period"], freq="M")
    hos = frame(["A"] * 3 + ["B"] * 3, months * 2, [6, 6, 8, 1, 1, 1])
    hos["period"] = pd.PeriodIndex(hos["period"], freq="M")
    out = compare_sources(reg, hos, period="Q").set_index("unit")
    # A: 5 + 6 + 7 = 18 against 6 + 6 + 8 = 20
    assert (out.loc["A", "register"], out.loc["A", "other"]) == (18, 20)
    assert out.loc["A", "ratio"] == pytest.approx(0.9)
    # B lacks February in the register: no ratio, the month named
    assert pd.isna(out.loc["B", "register"]) and np.isnan(out.loc["B", "ratio"])
    assert out.loc["B", "note"] == "register lacks 2024-02"
    assert out.loc["B", "period"] == "2024Q1"


def test_no_births_in_either_source_is_said_not_divided():
    out = compare_sources(frame(["A"], ["2024"], [0]), frame(["A"], ["2024"], [0]))
    assert np.isnan(out["ratio"].iloc[0]) and out["note"].iloc[0] == "no births in either source"
    out = compare_sources(frame(["A"], ["2024"], [3]), frame(["A"], ["2024"], [0]))
    assert out["ratio"].iloc[0] == np.inf and out["upper"].iloc[0] == np.inf


def test_inputs_are_not_mutated():
    reg = frame(["A", "B"], ["2024-01", "2024-01"], [5, 6])
    reg["period"] = pd.PeriodIndex(reg["period"], freq="M")
    hos = reg.assign(births=[6, 6])
    before = (reg.copy(deep=True), hos.copy(deep=True))
    compare_sources(reg, hos, period="2024Q1")
    compare_sources(reg, hos)
    pd.testing.assert_frame_equal(reg, before[0])
    pd.testing.assert_frame_equal(hos, before[1])


@pytest.mark.parametrize("kwargs,message", [
    ({"tolerance": 10}, "tolerance must be a fraction between 0 and 1 (exclusive), e.g. 0.10 "
                        "for ±10 %, got 10"),
    ({"confidence": 95}, "confidence must be between 0 and 1 (exclusive), got 95"),
    ({"column": "births_male"}, "the counts have no column(s) births_male"),
])
def test_argument_errors(kwargs, message):
    reg = frame(["A"], ["2024"], [5])
    with pytest.raises(ValueError) as e:
        compare_sources(reg, reg, **kwargs)
    assert str(e.value) == message


def test_bad_data_is_refused():
    good = frame(["A"], ["2024"], [5])
    with pytest.raises(ValueError) as e:
        compare_sources(frame(["A", " A"], ["2024", "2024"], [1, 2]), good)
    assert str(e.value) == ("the counts hold 2 rows that share a unit and period (e.g. A, "
                            "2024); each may appear once")
    with pytest.raises(ValueError) as e:
        compare_sources(good, frame(["A"], ["2024"], [-3]))
    assert str(e.value) == ("the other source' column 'births' holds 1 value(s) that are not "
                            "non-negative whole numbers (e.g. -3)")
    with pytest.raises(ValueError) as e:
        compare_sources(good, frame(["A"], ["2024Q1"], [3]))
    assert str(e.value) == ("the sources hold periods of different kinds (quarter, year); "
                            "pass period= to roll both up")
    with pytest.raises(ValueError) as e:
        compare_sources(good, good, period="Y")
    assert str(e.value).startswith("the counts must be monthly (or dekads) to be rolled up")


# --------------------------------------------------------------------------- scheme

def test_agreement_values_feed_a_scheme_target(write):
    compared = compare_sources(frame(["A", "B", "C"], ["2024"] * 3, [870, 99, 50]),
                               frame(["A", "B", "C"], ["2024"] * 3, [1000, 100, None]))
    vals = agreement_values(compared)
    # A: |870/1000 - 1| = 13 %; interval from scipy's exact a/(a+b) interval mapped
    lo, hi = ratio_ci_reference(870, 1000)
    a = vals.set_index("unit").loc["A"]
    assert a["value"] == pytest.approx(13.0)
    assert a["lower"] == pytest.approx((1 - hi) * 100) and a["upper"] == pytest.approx(
        (1 - lo) * 100)
    # B: 1 % off, interval holds 1 -> lower 0
    assert vals.set_index("unit").loc["B", "lower"] == 0.0
    assert vals.set_index("unit").loc["C", "note"] == "not reported: other source has no births"
    f = write("t.toml", '[[target]]\nindicator = "source_discrepancy"\nop = "<="\n'
                        'threshold = 10\npoints = 5\n')
    scheme = load_targets(f)
    results = pd.DataFrame({"unit": ["A", "B", "C"], "period": ["2024"] * 3,
                            "indicator": "crude_birth_rate", "value": [10.0, 11.0, 12.0]})
    ev = targets.evaluate(results, scheme, values=vals).set_index("unit")
    assert ev.loc["A", "met"] == False  # noqa: E712  (13 % > 10 %)
    assert ev.loc["A", "verdict"] == "indeterminate"  # interval (3.7 %, 21.7 %) straddles 10
    assert ev.loc["B", "met"] == True  # noqa: E712
    assert ev.loc["C", "verdict"] == "no_data"


# --------------------------------------------------------------------------- sample

def test_sample_flags_only_the_planted_township(sample_counts, sample_dir, sample_units):
    h = load_births_hospital(sample_dir)
    yearly = compare_sources(sample_counts, h, period="Y", units=sample_units)
    assert len(yearly) == 18 * 3
    flagged = yearly[yearly["flag"].fillna(False)]
    # synth plants hospital_ratio 1.15 in 990101113 only: register/hospital about 0.87
    assert sorted(set(flagged["unit"])) == ["990101113"]
    assert flagged["period"].tolist() == ["2022", "2023", "2024"]
    assert (yearly["severity"] != "extreme").all()
    # month by month only the planted tripled month (synth.plant_problems) stands out, and
    # the register's missing month (990101107, 2024-05) is listed, not dropped
    monthly = compare_sources(sample_counts, h)
    assert len(monthly) == 648
    flagged = monthly[monthly["flag"].fillna(False)]
    assert flagged[["unit", "period"]].astype(str).values.tolist() == [["990101108",
                                                                          "2024-08"]]
    gap = monthly[(monthly["unit"] == "990101107") & (monthly["period"].astype(str)
                                                      == "2024-05")]
    assert gap["note"].tolist() == ["not in the register"]


def test_source_flags_carry_figure_and_threshold():
    compared = compare_sources(frame(["A", "B"], ["2024", "2024"], [870, 99]),
                               frame(["A", "B"], ["2024", "2024"], [1000, 100]))
    f = source_flags(compared)
    assert f.columns.tolist() == ["unit", "period", "check", "indicator", "figure",
                                  "threshold", "severity", "note"]
    # only A (870/1000 = 0.87, significant) is flagged
    assert f[["unit", "period", "check", "indicator", "severity"]].values.tolist() == [
        ["A", "2024", "source_agreement", "births", "moderate"]]
    # finding U9: the threshold is the bound 0.87 crossed, 1 - 0.10 = 0.90, not the tolerance
    assert f["figure"].iloc[0] == pytest.approx(0.87)
    assert f["threshold"].iloc[0] == pytest.approx(0.9)
    # and 1 + 0.10 = 1.10 for a register above the other source: 1300 / 1000 = 1.3
    up = source_flags(compare_sources(frame(["A"], ["2024"], [1300]),
                                      frame(["A"], ["2024"], [1000])))
    assert up["threshold"].tolist() == [pytest.approx(1.1)]
    assert f["note"].iloc[0].startswith("register 870 vs other 1000: ratio 0.870 (95% CI ")


def test_period_labels_are_read_not_compared_as_text():
    # '2024年' and ' 2024' are the same year: one row, not two half-empty ones
    out = compare_sources(frame(["A"], ["2024年"], [10]), frame(["A"], [" 2024"], [10]))
    assert out[["period", "register", "other", "note"]].values.tolist() == [
        ["2024", 10, 10, ""]]
    with pytest.raises(ValueError) as e:
        compare_sources(frame(["A"], ["2024年13月"], [10]), frame(["A"], ["2024"], [10]))
    assert str(e.value) == "the counts hold a period that cannot be read: '2024年13月'"


def test_empty_sources_give_an_empty_table():
    empty = frame([], [], [])
    out = compare_sources(empty, empty)
    assert out.empty and "ratio" in out.columns


def test_monthly_text_periods_are_rolled_up():
    # finding U6: text labels "2024-01" (a column read as text) were refused as "must be
    # monthly"; now read as months. Register 5 + 6 + 7 = 18, other 6 + 6 + 8 = 20: 0.9
    reg = frame(["A"] * 3, ["2024-01", "2024年2月", " 2024-03"], [5, 6, 7])
    hos = frame(["A"] * 3, ["2024-01", "2024-02", "2024-03"], [6, 6, 8])
    out = compare_sources(reg, hos, period="2024Q1")
    assert out[["unit", "period", "register", "other"]].values.tolist() == [
        ["A", "2024Q1", 18, 20]]
    assert out["ratio"].iloc[0] == pytest.approx(0.9)


def test_true_false_is_not_a_count():
    # finding S6: True/False births were read as 1/0
    with pytest.raises(ValueError) as e:
        compare_sources(frame(["A"], ["2024"], [10]),
                        frame(["A", "B"], ["2024", "2024"], [True, False]))
    assert str(e.value) == "the other source' column 'births' must be a count, not true/false"
    with pytest.raises(ValueError, match=r"^the counts' column 'births' must be a count, not "):
        compare_sources(frame(["A"], ["2024"], [True]), frame(["A"], ["2024"], [10]))
