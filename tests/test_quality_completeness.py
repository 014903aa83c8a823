"""Completeness, timeliness, value completeness, sex-ratio plausibility and age heaping.

Expected values are worked by hand (arithmetic in the comments) or come from
scipy.stats.binomtest; none from the helpers the code under test calls.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from fpanalysis.quality.completeness import (
    completeness,
    completeness_flags,
    mother_age_heaping,
    myers_index,
    sex_ratio_plausibility,
    timeliness,
    value_completeness,
    whipple_index,
)

UNITS = pd.DataFrame({"unit": ["C", "A", "B", "D", "A1"],
                      "name": ["county", "a", "b", "d", "village"],
                      "parent": [None, "C", "C", "C", "A"],
                      "level": ["county", "township", "township", "township", "village"]})


def monthly(rows):
    f = pd.DataFrame(rows, columns=["unit", "period", "births"])
    f["period"] = pd.PeriodIndex(f["period"], freq="M")
    f["births"] = f["births"].astype("Int64")
    return f


# --------------------------------------------------------------------------- completeness

def test_completeness_lists_every_unit_and_names_missing_months():
    months = [f"2024-{m:02d}" for m in range(1, 13)]
    rows = [("A", m, 3) for m in months if m not in ("2024-05", "2024-06")]
    rows += [("B", m, 1) for m in months if m != "2024-02"]
    rows += [("B", "2023-12", 1)]                      # outside the year: not looked at
    out = completeness(monthly(rows), UNITS, period="2024")
    assert out["unit"].tolist() == ["A", "B", "D"]     # townships only, D never reported
    assert out["reported"].tolist() == [10, 11, 0]
    # A 10/12 = 0.8333 < 0.90 flagged; B 11/12 = 0.9167 not; D 0/12
    assert out["completeness"].tolist() == pytest.approx([10 / 12, 11 / 12, 0.0])
    assert out["missing"].tolist()[:2] == ["2024-05, 2024-06", "2024-02"]
    assert out["missing"].iloc[2].startswith("2024-01, 2024-02") and \
        out["missing"].iloc[2].endswith("2024-12")
    assert out["flag"].tolist() == [True, False, True]
    # below 90 %: extreme; above it but a month missing: moderate (listed, not hidden)
    assert out["severity"].tolist() == ["extreme", "moderate", "extreme"]
    assert out["note"].tolist() == ["", "", "no report in 2024"]
    assert (out["threshold"] == 0.9).all() and (out["expected"] == 12).all()


def test_a_row_of_empty_counts_is_not_a_report():
    c = monthly([("A", "2024-01", 3), ("A", "2024-02", None), ("A", "2024-03", 2)])
    out = completeness(c, UNITS, period="2024Q1", level="township")
    a = out.set_index("unit").loc["A"]
    assert (a["reported"], a["missing"]) == (2, "2024-02")


def test_completeness_refusals():
    c = monthly([("Z", "2024-01", 3)])
    with pytest.raises(ValueError) as e:
        completeness(c, UNITS, period="2024")
    assert str(e.value) == "the counts hold 1 unit(s) not in units: Z"
    c = monthly([("A", "2024-01", 3), ("A", "2024-01", 4)])
    with pytest.raises(ValueError) as e:
        completeness(c, UNITS, period="2024")
    assert str(e.value) == ("the counts hold 2 rows that share a unit and month (e.g. A, "
                            "2024-01); each may appear once")
    with pytest.raises(ValueError) as e:
        completeness(monthly([("A", "2024-01", 3)]), UNITS, period="2024", threshold=90)
    assert str(e.value) == "threshold must be a share in (0, 1], e.g. 0.90, got 90"
    q = pd.DataFrame({"unit": ["A"], "period": ["2024Q1"], "births": [3]})
    with pytest.raises(ValueError) as e:
        completeness(q, UNITS, period="2024")
    assert str(e.value) == "completeness needs monthly counts (one row per unit and month)"
    with pytest.raises(ValueError) as e:
        completeness(monthly([]), UNITS, period="2024")
    assert str(e.value) == ("no unit of the counts is in units; pass level= to say which "
                            "units must report")


def test_sample_is_complete_and_a_removed_month_is_found(sample_counts, sample_units):
    # the sample's planted gap (synth.plant_problems): 990101107 lacks 2024-05, 35 of 36
    out = completeness(sample_counts, sample_units, period="2022-01/2024-12").set_index("unit")
    assert len(out) == 18 and not out["flag"].any()
    assert out.loc["990101107", "missing"] == "2024-05"
    assert out.loc["990101107", "completeness"] == pytest.approx(35 / 36)
    assert (out.drop(index="990101107")["completeness"] == 1).all()
    gap = sample_counts[~((sample_counts["unit"] == "990101105")
                          & (sample_counts["period"].astype(str) == "2023-05"))]
    out = completeness(gap, sample_units, period="2023").set_index("unit")
    assert out.loc["990101105", "missing"] == "2023-05"
    # 11/12 = 91.7 % is above the 90 % threshold: named as missing, not flagged
    assert out.loc["990101105", "completeness"] == pytest.approx(11 / 12)
    assert not out["flag"].any()
    assert out.loc["990101105", "severity"] == "moderate"
    assert (out.drop(index="990101105")["severity"] == "").all()


def test_completeness_does_not_mutate(sample_counts, sample_units):
    before = sample_counts.copy(deep=True)
    completeness(sample_counts, sample_units, period="2024")
    value_completeness(sample_counts)
    sex_ratio_plausibility(sample_counts, period="Y")
    pd.testing.assert_frame_equal(sample_counts, before)


# --------------------------------------------------------------------------- timeliness

def test_timeliness_counts_reports_by_the_deadline():
    c = monthly([("A", "2024-01", 1), ("A", "2024-02", 1), ("A", "2024-03", 1),
                 ("B", "2024-01", 1)])
    c["received"] = ["2024-02-05", "2024-03-06", None, "2024-02-01"]
    out = timeliness(c, period="2024Q1", units=UNITS).set_index("unit")
    # A: Jan on the 5th (deadline day 5, inclusive) on time; Feb on 6 March late; Mar undated
    a = out.loc["A"]
    assert (a["reported"], a["dated"], a["on_time"], a["late"]) == (3, 2, 1, 1)
    assert a["timeliness"] == 0.5 and a["flag"] == True  # noqa: E712  (1/2 < 0.90)
    assert (a["late_months"], a["undated_months"]) == ("2024-02", "2024-03")
    assert out.loc["B", "timeliness"] == 1.0
    assert pd.isna(out.loc["D", "flag"]) and out.loc["D", "note"] == "no report in 2024Q1"
    later = timeliness(c, period="2024Q1", deadline_day=10).set_index("unit")
    assert later.loc["A", "on_time"] == 2   # 6 March is within day 10


def test_timeliness_refuses_unreadable_and_impossible_dates():
    c = monthly([("A", "2024-01", 1), ("A", "2024-02", 1)])
    c["received"] = ["5 Feb", "2024-02-10"]
    with pytest.raises(ValueError) as e:
        timeliness(c, period="2024Q1")
    assert str(e.value) == ("1 received date(s) cannot be read as YYYY-MM-DD: A 2024-01: "
                            "'5 Feb'")
    c["received"] = ["2024-02-01", "2024-02-10"]   # February's report before February ends
    with pytest.raises(ValueError) as e:
        timeliness(c, period="2024Q1")
    assert str(e.value) == ("1 report(s) received before the month they report on ended: "
                            "A 2024-02: 2024-02-10")
    with pytest.raises(ValueError, match="^the counts have no column"):
        timeliness(c.drop(columns="received"), period="2024Q1")


# --------------------------------------------------------------------------- values

def test_value_completeness_per_unit_and_overall():
    c = pd.DataFrame({"unit": ["A", "A", "A", "B"],
                      "period": ["2024-01", "2024-02", "2024-03", "2024-01"],
                      "births": [1, None, None, 2], "deaths": [0, 1, 1, 1]})
    out = value_completeness(c)
    # A births: 1 of 3 present = 0.333 < 0.90 flagged; the rest complete
    assert out[["unit", "column", "cells", "present"]].values.tolist() == [
        ["A", "births", 3, 1], ["A", "deaths", 3, 3], ["B", "births", 1, 1],
        ["B", "deaths", 1, 1]]
    assert out["flag"].tolist() == [True, False, False, False]
    overall = value_completeness(c, by=())
    assert overall["share"].tolist() == pytest.approx([2 / 4, 1.0])
    with pytest.raises(ValueError) as e:
        value_completeness(c, columns=["birth"])
    assert str(e.value) == "the counts have no column(s) birth"


def test_value_completeness_with_units_lists_a_unit_that_never_reported():
    # finding S1: unit C of the units table sent nothing and vanished from the table
    units = pd.DataFrame({"unit": ["K", "A", "B", "C"], "name": ["k", "a", "b", "c"],
                          "parent": [None, "K", "K", "K"],
                          "level": ["county", "township", "township", "township"]})
    c = pd.DataFrame({"unit": ["A", "A", "B"], "period": ["2024-01", "2024-02", "2024-01"],
                      "births": [1, None, 2]})
    out = value_completeness(c, units=units)
    # A: 1 of 2 births present = 0.5 < 0.9 flagged; B: 1 of 1; C: nothing, NA and a note
    assert out[["unit", "column", "cells", "present", "note"]].values.tolist() == [
        ["A", "births", 2, 1, ""], ["B", "births", 1, 1, ""],
        ["C", "births", 0, 0, "not reported"]]
    assert out["share"].tolist()[:2] == [0.5, 1.0] and np.isnan(out["share"].iloc[2])
    assert out["flag"].tolist()[:2] == [True, False] and pd.isna(out["flag"].iloc[2])
    with pytest.raises(ValueError, match=r"^units= lists every unit: it needs by=\('unit',\)$"):
        value_completeness(c, units=units, by=())


def test_sex_ratio_refuses_orders_that_do_not_add_up_and_true_false():
    # finding S8: o1 + o2 + o3p = 10 + 5 + 2 = 17 boys against births_male 20 was tested
    # as if both held the same births; S6: True/False read as 1/0
    c = pd.DataFrame({"unit": ["A", "B"], "period": ["2024", "2024"],
                      "births_male": [20, 9], "births_female": [18, 9],
                      "births_male_o1": [10, 3], "births_male_o2": [5, 3],
                      "births_male_o3p": [2, 3], "births_female_o1": [9, 3],
                      "births_female_o2": [6, 3], "births_female_o3p": [3, 3]})
    with pytest.raises(ValueError) as e:
        sex_ratio_plausibility(c)
    assert str(e.value) == (
        "the counts' birth orders do not add up: 1 row(s) where births_male_o1 + "
        "births_male_o2 + births_male_o3p differs from births_male (e.g. A 2024: 10 + 5 + 2 "
        "= 17, births_male 20)")
    fixed = c.assign(births_male_o3p=[5, 3])  # 10 + 5 + 5 = 20
    assert len(sex_ratio_plausibility(fixed)) == 8  # 2 units x (all + 3 orders)
    with pytest.raises(ValueError, match=r"^the counts' column 'births_male' must be a count, "
                       r"not true/false$"):
        sex_ratio_plausibility(fixed.assign(births_male=[True, False]))


# --------------------------------------------------------------------------- sex ratio

def test_sex_ratio_p_values_match_scipy_and_flag_below_alpha():
    c = pd.DataFrame({"unit": ["A", "B", "C", "D"], "period": ["2024"] * 4,
                      "births_male": [60, 530, 300, 0], "births_female": [40, 500, 180, 0],
                      "births_male_o2": [30, 100, 200, 0], "births_female_o2": [20, 95, 100, 0]})
    out = sex_ratio_plausibility(c)
    p0 = 105 / 205
    by = out.set_index(["unit", "order"])
    for (u, o), (m, f) in {("A", "all"): (60, 40), ("B", "all"): (530, 500),
                           ("C", "all"): (300, 180), ("A", "o2"): (30, 20),
                           ("B", "o2"): (100, 95), ("C", "o2"): (200, 100)}.items():
        ref = stats.binomtest(m, m + f, p0).pvalue
        assert by.loc[(u, o), "p_value"] == pytest.approx(ref, rel=1e-9)
        assert by.loc[(u, o), "sex_ratio"] == pytest.approx(100 * m / f)
        assert by.loc[(u, o), "flag"] == (ref < 0.001)
    # C: 300 boys / 180 girls = 166.7; scipy p about 2e-6 < 0.001 -> flagged, high
    assert by.loc[("C", "all"), "flag"] == True  # noqa: E712
    # 6 rows tested (D has no births in either order): 6 x p = 4.5e-6 < 0.001 -> extreme
    ref = stats.binomtest(300, 480, p0).pvalue
    assert by.loc[("C", "all"), "p_bonferroni"] == pytest.approx(6 * ref)
    assert by.loc[("C", "all"), ["direction", "severity"]].tolist() == ["high", "extreme"]
    assert pd.isna(by.loc[("D", "all"), "flag"]) and by.loc[("D", "all"), "note"] == "no births"
    # orders whose columns are absent (o1, o3p) are left out, not reported as zero
    assert out["order"].unique().tolist() == ["all", "o2"]


def test_sex_ratio_rollup_marks_missing_months():
    c = pd.DataFrame({"unit": ["A", "A", "B", "B", "B"],
                      "period": pd.PeriodIndex(["2024-01", "2024-03", "2024-01", "2024-02",
                                                "2024-03"], freq="M"),
                      "births_male": [5, 6, 1, 2, 3], "births_female": [4, 4, 1, 1, 1]})
    out = sex_ratio_plausibility(c, period="2024Q1", by_order=False).set_index("unit")
    assert pd.isna(out.loc["A", "sex_ratio"]) and out.loc["A", "note"] == \
        "months missing: 2024-02"
    # B: 1 + 2 + 3 = 6 boys, 1 + 1 + 1 = 3 girls -> 200
    assert out.loc["B", "sex_ratio"] == pytest.approx(200.0)


def test_sample_sex_ratio_flags(sample_counts):
    span = sex_ratio_plausibility(sample_counts, period="2022-01/2024-12")
    flagged = span[span["flag"].fillna(False)]
    # synth plants high ratios at 2nd/3rd+ births in 990101106, 990101109, 990101112;
    # over three years the two larger ones are found (990101109, 18 000 people, is not)
    assert sorted(set(flagged["unit"])) == ["990101106", "990101112"]
    assert set(flagged["order"]) <= {"all", "o2", "o3p"}
    assert (flagged["direction"] == "high").all()


# --------------------------------------------------------------------------- heaping

def test_whipple_by_hand():
    ages = pd.DataFrame({"age": range(23, 63), "count": 10})
    assert whipple_index(ages)["whipple"].iloc[0] == pytest.approx(100.0)
    heaped = ages.assign(count=np.where(ages["age"] % 5 == 0, 10, 0))
    assert whipple_index(heaped)["whipple"].iloc[0] == pytest.approx(500.0)
    # 10 at each of 40 ages and 10 more at 30: 410 persons, 90 at ages ending 0/5
    # (25, 30, ..., 60: 8 x 10 + 10): Whipple = 100 x 90 / (410 / 5) = 109.756
    extra = ages.assign(count=np.where(ages["age"] == 30, 20, 10))
    out = whipple_index(extra)
    assert out["whipple"].iloc[0] == pytest.approx(100 * 90 / (410 / 5))
    # interval: scipy's exact interval of 90/410, times 500
    ci = stats.binomtest(90, 410).proportion_ci(method="exact")
    assert out["lower"].iloc[0] == pytest.approx(500 * ci.low, rel=1e-9)
    assert out["upper"].iloc[0] == pytest.approx(500 * ci.high, rel=1e-9)
    assert out["flag"].iloc[0] == False  # noqa: E712  (lower about 91 < 110)
    # ages outside the range and missing ages: 23-62 with nothing at 40 -> 390 persons,
    # 70 at 0/5 ages -> 500 x 70 / 390 = 89.74, when an absent age is said to mean nobody
    gap = pd.concat([ages[ages["age"] != 40], pd.DataFrame({"age": [10, 80], "count": [99, 99]})])
    assert whipple_index(gap, missing_ages=True)["whipple"].iloc[0] == pytest.approx(
        500 * 70 / 390)


def test_heaping_refuses_absent_ages_and_true_false_counts():
    # finding S9: ages 30-40 without rows counted 0 in silence; S6: True counted 1
    ages = pd.DataFrame({"age": range(23, 63), "count": 10})
    gap = ages[(ages["age"] < 30) | (ages["age"] > 40)]
    with pytest.raises(ValueError, match=r"^ages 30-40 absent from the range 23-62: give a "
                       r"row \(count 0\) for every age"):
        whipple_index(gap)
    with pytest.raises(ValueError, match=r"^ages 30, 35-36 absent from the range 23-82"):
        myers_index(pd.DataFrame({"age": range(23, 83), "count": 10}).query(
            "age not in (30, 35, 36)"))
    # by group: the group with the gap is named
    two = pd.concat([ages.assign(unit="A"), gap.assign(unit="B")])
    with pytest.raises(ValueError, match=r"^ages 30-40 absent from the range 23-62 in unit=B"):
        whipple_index(two, by=["unit"])
    for f in (whipple_index, myers_index):
        with pytest.raises(ValueError, match=r"^column 'count' must be a count, not true/false"):
            f(ages.assign(count=True))


def test_mother_age_heaping_refuses_text_ages():
    # finding U2: "25岁" raised pandas' own int() error
    ev = pd.DataFrame({"unit": "A", "event": "birth", "mother_age": [25, "25岁", 30]})
    with pytest.raises(ValueError, match=r"^column 'mother_age' must hold whole ages in years; "
                       r"1 birth\(s\) do not \(e\.g\. '25岁' at row 1\)$"):
        mother_age_heaping(ev)
    # absent ages in events mean nobody: 3 births, 25, 30, 30 -> all at 0/5 ages: 500
    ok = mother_age_heaping(ev.assign(mother_age=[25, 30, 30]))
    assert ok["whipple"].tolist() == [pytest.approx(500.0)]


def test_myers_by_hand():
    ages = pd.DataFrame({"age": range(10, 30), "count": 10})
    # uniform: every digit's blended total equal -> 0
    assert myers_index(ages, ages=(10, 29))["myers"].iloc[0] == pytest.approx(0.0)
    # 20 at age 10, 10 elsewhere over 10-29. Sum 1 = ages 10-19, sum 2 = ages 20-29.
    # digit 0: 20 x 1 + 10 x 9 = 110; digit d >= 1: 10 (d + 1) + 10 (9 - d) = 100;
    # total 1010. Index = 50 x (|110/1010 - 0.1| + 9 |100/1010 - 0.1|) = 50 x 18/1010
    one = ages.assign(count=np.where(ages["age"] == 10, 20, 10))
    out = myers_index(one, ages=(10, 29))
    assert out["myers"].iloc[0] == pytest.approx(900 / 1010)
    assert out["preferred"].iloc[0] == 0
    # everyone at ages ending 5 over 23-82: all blended weight on digit 5 -> 90
    five = pd.DataFrame({"age": range(23, 83)}).assign(
        count=lambda f: np.where(f["age"] % 10 == 5, 7, 0))
    out = myers_index(five)
    assert out["myers"].iloc[0] == pytest.approx(90.0) and out["preferred"].iloc[0] == 5


def test_heaping_groups_and_refusals():
    a = pd.DataFrame({"unit": ["X"] * 40 + ["Y"] * 40, "age": list(range(23, 63)) * 2,
                      "count": [10] * 40 + [0] * 40})
    out = whipple_index(a, by=["unit"])
    assert out["unit"].tolist() == ["X", "Y"]
    assert out["whipple"].iloc[0] == pytest.approx(100.0) and np.isnan(out["whipple"].iloc[1])
    assert pd.isna(out["flag"].iloc[1])
    with pytest.raises(ValueError) as e:
        whipple_index(a, ages=(23, 60))
    assert str(e.value) == ("ages must span a multiple of 5 single years of age (so that each "
                            "final digit is equally represented), got 23-60")
    with pytest.raises(ValueError) as e:
        myers_index(a, ages=(23, 67), by=["unit"])
    assert str(e.value).startswith("ages must span a multiple of 10")
    with pytest.raises(ValueError) as e:
        whipple_index(a.assign(age=a["age"] + 0.5))
    assert str(e.value) == "column 'age' must hold whole ages; 80 do not (e.g. 23.5)"
    with pytest.raises(ValueError) as e:
        whipple_index(a)   # no by: each age appears twice
    assert str(e.value) == ("the age counts hold 40 repeated age(s) within a group; give one "
                            "row per age")


def test_mother_age_heaping_from_events():
    ages = np.repeat(np.arange(18, 48), 10)          # 10 births at each age 18-47
    ev = pd.DataFrame({"unit": "A", "date": pd.Timestamp("2024-03-01"), "event": "birth",
                       "mother_age": ages})
    ev = pd.concat([ev, pd.DataFrame({"unit": ["A", "A", "A"], "date": pd.Timestamp(
        "2024-03-02"), "event": ["birth", "birth", "death"], "mother_age": [None, None, None]}),
        pd.DataFrame({"unit": ["A"], "date": [pd.Timestamp("2023-12-31")], "event": ["birth"],
                      "mother_age": [30]})], ignore_index=True)
    before = ev.copy(deep=True)
    out = mother_age_heaping(ev, period="2024")
    pd.testing.assert_frame_equal(ev, before)
    assert out["whipple"].iloc[0] == pytest.approx(100.0)   # uniform 23-47
    assert out["myers"].iloc[0] == pytest.approx(0.0)       # uniform 18-47
    assert out["births_in_range"].iloc[0] == 250            # 25 ages x 10
    assert out["note"].iloc[0] == "2 births without mother's age left out"


def test_mother_age_heaping_on_a_synthetic_register(tmp_path):
    from fpanalysis.synth import write_events

    path = write_events(tmp_path / "events.parquet", 20_000, n_units=3, year=2024)
    ev = pd.read_parquet(path)
    out = mother_age_heaping(ev)
    # the generator draws ages from a normal(29, 5) without heaping: no unit is flagged
    assert len(out) == ev["unit"].nunique() and not out["flag"].any()


def test_flags_table_from_every_check():
    comp = completeness(monthly([("A", f"2024-{m:02d}", 1) for m in range(1, 12)]), UNITS,
                        period="2024")
    sr = sex_ratio_plausibility(pd.DataFrame({"unit": ["A"], "period": ["2024"],
                                              "births_male": [300],
                                              "births_female": [180]}))
    heap = whipple_index(pd.DataFrame({"age": range(23, 63)}).assign(
        count=lambda f: np.where(f["age"] % 5 == 0, 50, 10)))
    out = completeness_flags(completeness=comp, sex_ratio=sr, heaping=heap)
    assert out.columns.tolist() == ["unit", "period", "check", "indicator", "figure",
                                    "threshold", "severity", "note"]
    # A: 11/12 above 90 % but December missing -> moderate; B, D never reported -> extreme
    rows = out[["unit", "check", "severity"]].values.tolist()
    assert rows[:3] == [["A", "reporting_completeness", "moderate"],
                        ["B", "reporting_completeness", "extreme"],
                        ["D", "reporting_completeness", "extreme"]]
    assert out["note"].iloc[0] == "missing 2024-12"
    assert rows[3] == ["A", "sex_ratio_plausibility", "extreme"]
    assert out["threshold"].iloc[3] == 0.001
    assert out["figure"].iloc[3] == pytest.approx(stats.binomtest(300, 480, 105 / 205).pvalue)
    # heaping: 8 ages x 50 + 32 x 10 = 720 persons, 400 heaped: Whipple = 500 x 400/720
    assert out["check"].iloc[4] == "age_heaping"
    assert out["figure"].iloc[4] == pytest.approx(500 * 400 / 720)
    assert completeness_flags().empty


def test_sex_ratio_refuses_bad_counts():
    c = pd.DataFrame({"unit": ["A", "A"], "period": ["2024", "2024"],
                      "births_male": [3, 4], "births_female": [2, 2]})
    with pytest.raises(ValueError) as e:
        sex_ratio_plausibility(c)
    assert str(e.value) == ("the counts hold 2 rows that share a unit and period (e.g. A, "
                            "2024); each may appear once")
    with pytest.raises(ValueError) as e:
        sex_ratio_plausibility(c.iloc[:1].assign(births_female=[-1]))
    assert str(e.value) == ("the counts' column 'births_female' holds 1 value(s) that are not "
                            "non-negative whole numbers (e.g. -1)")
    with pytest.raises(ValueError) as e:
        sex_ratio_plausibility(c.iloc[:1].assign(births_male_o2=[1]))
    assert str(e.value) == "the counts have births_male_o2 without the other sex's column"


def test_sex_ratio_lists_units_that_did_not_report():
    c = pd.DataFrame({"unit": ["A", "A"], "period": pd.PeriodIndex(["2024-01", "2024-02"],
                                                                   freq="M"),
                      "births_male": [5, 6], "births_female": [4, 4]})
    out = sex_ratio_plausibility(c, period="2024Q1", by_order=False, units=UNITS)
    # A: Q1 lacks March -> no figure; B and D have no rows at all -> listed, not reported
    assert out["unit"].tolist() == ["A", "B", "D"]
    assert out["note"].tolist() == ["months missing: 2024-03", "not reported", "not reported"]
    assert out["sex_ratio"].isna().all() and out["flag"].isna().all()
    monthly_out = sex_ratio_plausibility(c, by_order=False, units=UNITS)
    # 3 units x 2 months; A's figures: 5/4 -> 125, 6/4 -> 150
    assert len(monthly_out) == 6
    assert monthly_out["sex_ratio"].iloc[:2].tolist() == pytest.approx([125.0, 150.0])
    assert monthly_out["period"].astype(str).tolist() == ["2024-01", "2024-02"] * 3
    # with a frequency, a quarter that no unit has complete is left out (still running)
    assert sex_ratio_plausibility(c, period="Q", units=UNITS).empty
