"""Audit estimates and audit-adjusted indicators.

Where expected values come from: exact (Clopper-Pearson) limits from
``scipy.stats.binomtest(k, n).proportion_ci(method="exact")``; Wilson limits of the pooled rows
from ``statsmodels.stats.proportion.proportion_confint(..., method="wilson")``; exact Poisson
limits from ``scipy.stats.chi2``; every other figure is hand arithmetic written in a comment.
The code under test calls neither scipy's binomtest nor statsmodels.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint as sm_confint

from fpanalysis import io
from fpanalysis.quality.audits import POOLED, audit_adjusted, audit_estimates, audit_sums


def exact(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=confidence, method="exact")
    return ci.low, ci.high


def scheme_audits(**overrides) -> pd.DataFrame:
    """The scheme's own figures: 27 re-checked, 5 false; 21 re-checked, 7 false (reported
    60 and 40, chosen here)."""
    data = {"unit": ["A", "B"], "period": "2024Q1", "item": "births_compliant",
            "reported": [60, 40], "checked": [27, 21], "false_found": [5, 7]}
    data.update(overrides)
    return pd.DataFrame(data)


# --------------------------------------------------------------------------- estimates


def test_worked_example_rows_match_scipy_exact_intervals():
    e = audit_estimates(scheme_audits())
    rows = e[~e["pooled"]].set_index("unit")
    for unit, (k, n, rep) in {"A": (5, 27, 60), "B": (7, 21, 40)}.items():
        lo, hi = exact(k, n)
        r = rows.loc[unit]
        assert r["false_rate"] == pytest.approx(k / n, rel=1e-12)  # 5/27 = 0.185185
        assert r["lower"] == pytest.approx(lo, rel=1e-9)
        assert r["upper"] == pytest.approx(hi, rel=1e-9)
        assert r["verification_factor"] == pytest.approx((n - k) / n)  # 22/27, 14/21
        assert r["vf_lower"] == pytest.approx(1 - hi, rel=1e-9)
        assert r["vf_upper"] == pytest.approx(1 - lo, rel=1e-9)
        assert r["corrected"] == pytest.approx(rep * (n - k) / n)  # 60 x 22/27 = 48.889
        assert r["corrected_lower"] == pytest.approx(rep * (1 - hi), rel=1e-9)
        assert r["corrected_upper"] == pytest.approx(rep * (1 - lo), rel=1e-9)
        assert r["method"] == "clopper_pearson" and r["units"] == 1
    # lower limits 0.0630 (A) and 0.1459 (B): both above 5 %, only B above 10 %
    assert rows["flag"].tolist() == [True, True]
    e10 = audit_estimates(scheme_audits(), tolerance=0.10).query("not pooled")
    assert e10["flag"].tolist() == [False, True]
    # VF 22/27 = 0.815 and 14/21 = 0.667, both below 0.90
    assert rows["vf_verdict"].tolist() == ["over_reporting", "over_reporting"]


def test_worked_example_at_90_per_cent():
    e = audit_estimates(scheme_audits(), confidence=0.90).query("not pooled")
    lo, hi = exact(5, 27, 0.90)
    assert e["lower"].iloc[0] == pytest.approx(lo, rel=1e-9)
    assert e["upper"].iloc[0] == pytest.approx(hi, rel=1e-9)
    assert (e["confidence"] == 0.90).all()


def test_pooled_row_is_the_stratified_estimate_computed_by_hand():
    e = audit_estimates(scheme_audits())
    pooled = e[e["pooled"]].iloc[0]
    # W = 60/100, 40/100; p = 0.6 x 5/27 + 0.4 x 7/21 = 1/9 + 2/15 = 11/45
    p = 11 / 45
    # v = 0.36 (1 - 27/60) (5/27)(22/27) / 26 + 0.16 (1 - 21/40) (1/3)(2/3) / 20
    v = 0.36 * 0.55 * (5 / 27) * (22 / 27) / 26 + 0.16 * 0.475 * (2 / 9) / 20
    # n* = p (1 - p) / v = 92.6 > 27 + 21 = 48: capped at 48
    assert p * (1 - p) / v > 48
    lo, hi = sm_confint(p * 48, 48, alpha=0.05, method="wilson")
    assert pooled["unit"] == POOLED and pooled["units"] == 2
    assert pooled["false_rate"] == pytest.approx(p, rel=1e-12)
    assert (pooled["lower"], pooled["upper"]) == pytest.approx((lo, hi), rel=1e-9)
    assert (pooled["reported"], pooled["checked"], pooled["false_found"]) == (100, 48, 12)
    assert pooled["corrected"] == pytest.approx(100 * (1 - p))  # 75.556
    assert pooled["method"] == "stratified_wilson"
    assert pooled["flag"]  # lower 0.145 > 0.05


def test_pooled_design_effect_widens_the_interval():
    # A: 1000 reported, 10 checked, 5 false; B: 10 reported, all 10 checked, 0 false.
    # W = 1000/1010, 10/1010; p = (1000/1010)(0.5) = 0.49505
    # v = W_A^2 (1 - 10/1000)(0.25)/9 + 0 (B was checked in full)
    a = pd.DataFrame({"unit": ["A", "B"], "period": "2024-03", "item": "births",
                      "reported": [1000, 10], "checked": [10, 10], "false_found": [5, 0]})
    pooled = audit_estimates(a).query("pooled").iloc[0]
    w = 1000 / 1010
    p = w * 0.5
    v = w * w * 0.99 * 0.25 / 9
    n_eff = p * (1 - p) / v  # 9.27 < 20
    lo, hi = sm_confint(p * n_eff, n_eff, alpha=0.05, method="wilson")
    assert n_eff < 20
    assert pooled["false_rate"] == pytest.approx(p, rel=1e-12)
    assert (pooled["lower"], pooled["upper"]) == pytest.approx((lo, hi), rel=1e-9)


def test_checked_zero_is_no_estimate_never_a_rate_of_zero():
    a = scheme_audits(unit=["A", "B", "C"], reported=[60, 40, 30], checked=[27, 21, 0],
                      false_found=[5, 7, 0])
    e = audit_estimates(a)
    c = e[e["unit"] == "C"].iloc[0]
    assert math.isnan(c["false_rate"]) and math.isnan(c["lower"]) and math.isnan(c["corrected"])
    assert c["flag"] is pd.NA and c["vf_verdict"] == ""
    assert c["note"] == "no case re-checked (checked = 0): no estimate"
    pooled = e[e["pooled"]].iloc[0]
    # C is left out: the pooled estimate is that of A and B alone (11/45)
    assert pooled["false_rate"] == pytest.approx(11 / 45) and pooled["units"] == 2
    assert pooled["reported"] == 100
    assert pooled["note"] == "1 unit(s) with checked = 0 left out (their reported cases too)"


def test_a_period_with_nothing_checked_has_a_pooled_row_without_estimate():
    a = scheme_audits(checked=[0, 0], false_found=[0, 0])
    e = audit_estimates(a)
    assert len(e) == 3
    assert e["false_rate"].isna().all() and e["flag"].isna().all()
    assert e[e["pooled"]]["note"].iloc[0] == "no case re-checked (checked = 0): no estimate"


def test_empty_audits_give_an_empty_table_with_every_column():
    e = audit_estimates(scheme_audits().iloc[:0])
    assert e.empty and list(e.columns)[:3] == ["unit", "period", "item"]
    assert "false_rate" in e and "flag" in e


def test_rows_in_equal_rows_out_plus_one_pooled_row_per_period_and_item():
    a = pd.concat([scheme_audits(), scheme_audits(item="births"),
                   scheme_audits(period="2024Q2")], ignore_index=True)
    e = audit_estimates(a)
    assert (~e["pooled"]).sum() == 6 and e["pooled"].sum() == 3
    assert e[["period", "item"]].astype(str).drop_duplicates().shape[0] == 3


def test_stray_spaces_in_names_are_the_same_item_and_unit():
    a = scheme_audits(unit=[" A", "B "], item=[" births_compliant", "births_compliant "])
    e = audit_estimates(a)
    assert set(e["item"]) == {"births_compliant"} and e["pooled"].sum() == 1
    assert set(e["unit"]) == {"A", "B", POOLED}


def test_shuffled_rows_give_the_same_table():
    a = pd.concat([scheme_audits(), scheme_audits(item="births", false_found=[1, 0])],
                  ignore_index=True)
    pd.testing.assert_frame_equal(audit_estimates(a), audit_estimates(a.iloc[::-1]))


def test_input_is_not_mutated():
    a = scheme_audits(unit=[" A", "B"])
    before = a.copy()
    audit_estimates(a)
    audit_sums(a, ["2024Q1"])
    pd.testing.assert_frame_equal(a, before)


@pytest.mark.parametrize("overrides, message", [
    ({"false_found": [5, 22]}, "audits: false_found exceeds checked at index 1"),
    ({"checked": [27, 41]}, "audits: checked exceeds reported at index 1"),
    ({"false_found": [5, -1]}, "audits: false_found must not be negative at index 1"),
    ({"checked": [27.5, 21]}, "audits: checked must be a whole number at index 0"),
    ({"reported": [60, None]}, "audits: reported is missing or not a number at index 1"),
    ({"reported": ["sixty", 40]}, "audits: reported is missing or not a number at index 0"),
    ({"false_found": [True, False]}, "audits: false_found must be a count, not true/false"),
    ({"item": ["births", " "]}, "audits: item is empty at index 1"),
    ({"period": ["2024Q1", "2024Q9"]}, "audits: period is not a period label at index 1"),
    ({"unit": ["A", "A "]}, "audits: 2 rows share a unit, period and item (e.g. A, 2024Q1, "
                            "births_compliant); each may appear once"),
])
def test_bad_audits_are_refused(overrides, message):
    with pytest.raises(ValueError) as err:
        audit_estimates(scheme_audits(**overrides))
    assert str(err.value) == message


def test_every_problem_is_listed_at_once():
    a = scheme_audits(false_found=[30, 7], reported=[60, None])
    with pytest.raises(ValueError) as err:
        audit_estimates(a)
    assert str(err.value) == ("audits: reported is missing or not a number at index 1; "
                              "false_found exceeds checked at index 0")


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match=r"^tolerance must be a share in \[0, 1\), got 5$"):
        audit_estimates(scheme_audits(), tolerance=5)
    with pytest.raises(ValueError, match="^confidence must be between 0 and 1"):
        audit_estimates(scheme_audits(), confidence=95)
    with pytest.raises(ValueError, match="^the audits have no column"):
        audit_estimates(scheme_audits().drop(columns="checked"))
    with pytest.raises(TypeError, match="^audits must be a pandas DataFrame"):
        audit_estimates([1, 2])


def test_sample_audits_every_row_estimated(sample_dir, sample_units):
    a = io.load_audits(sample_dir / "audits.csv", units=sample_units)
    e = audit_estimates(a)
    groups = a[["period", "item"]].astype(str).drop_duplicates()
    assert (~e["pooled"]).sum() == len(a) and e["pooled"].sum() == len(groups)
    rows = e[~e["pooled"]]
    k, n = rows["false_found"].astype(int), rows["checked"].astype(int)
    first = rows.index[n > 0][0]
    lo, hi = exact(int(k[first]), int(n[first]))
    assert (rows.loc[first, "lower"], rows.loc[first, "upper"]) == pytest.approx((lo, hi))


# --------------------------------------------------------------------------- sums


def test_audit_rows_count_for_the_periods_they_lie_within():
    a = pd.DataFrame({"unit": "A", "period": ["2024Q1", "2024Q2", "2024Q4"], "item": "x",
                      "reported": 50, "checked": [27, 21, 40], "false_found": [5, 7, 1]})
    s = audit_sums(a, ["2024Q2", "2024-01/2024-06", "2024", "2024-05"])
    got = s.set_index("period")[["audit_rows", "checked", "false_found"]]
    # Q2: 21/7; Jan-Jun: Q1 + Q2 = 48/12; year: all three = 88/13; May: none within
    assert got.loc["2024Q2"].tolist() == [1, 21, 7]
    assert got.loc["2024H1"].tolist() == [2, 48, 12]
    assert got.loc["2024"].tolist() == [3, 88, 13]
    assert "2024-05" not in got.index
    with pytest.raises(ValueError, match=r"^no audit row has item 'xx'"):
        audit_sums(a, ["2024"], item="xx")


def test_audit_sums_refuses_overlapping_audit_periods_of_one_unit_and_item():
    # a month audit and the quarter holding it: summed, the month's cases count twice
    # (20 + 60 reported for a quarter of 60); finding S7 of issue 9's review
    a = pd.DataFrame({"unit": ["A", "A", "B"], "period": ["2024-01", "2024Q1", "2024-01"],
                      "item": "births", "reported": [20, 60, 10], "checked": [10, 27, 5],
                      "false_found": [1, 5, 0]})
    with pytest.raises(ValueError, match=r"^audits: overlapping audit periods for one unit "
                       r"and item would count the same cases twice \(A, births: 2024-01 and "
                       r"2024Q1\); give each"):
        audit_sums(a, "2024Q1")
    # the same periods for different items, or for different units, do not overlap
    ok = audit_sums(a.assign(item=["births", "other", "births"]), "2024Q1")
    # A births: the January row (10/1); A other: the quarter (27/5); B births: 5/0
    assert ok[["unit", "item", "checked", "false_found"]].values.tolist() == [
        ["A", "births", 10.0, 1.0], ["A", "other", 27.0, 5.0], ["B", "births", 5.0, 0.0]]


# --------------------------------------------------------------------------- adjusted


def completion(unit=("A",), num=(2780.0,), den=(2700.0,), period="2024"):
    """Completion 2780 of a plan of 2700 = 102.96 %, with the exact Poisson interval of the
    numerator (chi-square quantiles: lower chi2(0.025, 2x) / 2, upper chi2(0.975, 2x + 2) / 2)
    over the plan, per cent."""
    num, den = np.asarray(num), np.asarray(den)
    lo = stats.chi2.ppf(0.025, 2 * num) / 2 / den * 100
    hi = stats.chi2.ppf(0.975, 2 * num + 2) / 2 / den * 100
    return pd.DataFrame({"unit": list(unit), "period": period,
                         "indicator": "checkup_completion_ratio", "numerator": num,
                         "denominator": den, "value": num / den * 100, "lower": lo,
                         "upper": hi, "note": ""})


def test_completion_102_96_becomes_83_9_with_a_widened_interval():
    r = completion()
    a = pd.DataFrame({"unit": ["A"], "period": ["2024"], "item": ["checkups"],
                      "reported": [2780], "checked": [27], "false_found": [5]})
    out = audit_adjusted(r, a, item="checkups", indicator="checkup_completion_ratio").iloc[0]
    v, lv, uv = r[["value", "lower", "upper"]].iloc[0]
    assert v == pytest.approx(102.96296, abs=1e-5)  # 2780 / 2700
    q = 22 / 27  # 1 - 5/27
    assert out["corrected_value"] == pytest.approx(2780 * q / 2700 * 100)  # 83.896
    assert round(out["corrected_value"], 1) == 83.9
    assert out["corrected_numerator"] == pytest.approx(2780 * q)
    plo, phi = exact(5, 27)
    ql, qu = 1 - phi, 1 - plo
    # MOVER on logs: L = v q exp(-sqrt(ln(v/l)^2 + ln(q/ql)^2)), U likewise upward
    low = v * q * math.exp(-math.sqrt(math.log(v / lv) ** 2 + math.log(q / ql) ** 2))
    up = v * q * math.exp(math.sqrt(math.log(uv / v) ** 2 + math.log(qu / q) ** 2))
    assert out["corrected_lower"] == pytest.approx(low, rel=1e-9)
    assert out["corrected_upper"] == pytest.approx(up, rel=1e-9)
    # wider, relative to the value, than the completion's own interval
    assert (up - low) / (v * q) > (uv - lv) / v
    assert out["false_lower"] == pytest.approx(plo) and out["false_upper"] == pytest.approx(phi)
    assert out["corrected"] and out["method"] == "mover_log"
    assert out["note"] == ("corrected by audit: checkups scaled by 1 - 5 false of 27 "
                           "re-checked")


def test_subtract_found_takes_off_the_cases_found_only():
    r = completion()
    a = pd.DataFrame({"unit": ["A"], "period": ["2024Q3"], "item": ["checkups"],
                      "reported": [700], "checked": [27], "false_found": [5]})
    out = audit_adjusted(r, a, item="checkups", indicator="checkup_completion_ratio",
                         adjust="subtract_found").iloc[0]
    # (2780 - 5) / 2700 = 102.78 %; the interval rescaled by 2775 / 2780
    assert out["corrected_value"] == pytest.approx(2775 / 2700 * 100)
    assert out["corrected_lower"] == pytest.approx(r["lower"].iloc[0] * 2775 / 2780)
    assert out["corrected_upper"] == pytest.approx(r["upper"].iloc[0] * 2775 / 2780)
    assert out["method"] == "subtract_found"


def test_units_not_audited_or_not_checked_keep_a_note_and_no_figure():
    r = completion(unit=("A", "B", "C"), num=(2780.0, 100.0, 50.0), den=(2700.0, 90.0, 60.0))
    a = pd.DataFrame({"unit": ["A", "B"], "period": "2024Q2", "item": "checkups",
                      "reported": [2780, 100], "checked": [27, 0], "false_found": [5, 0]})
    out = audit_adjusted(r, a, item=" checkups ", indicator="checkup_completion_ratio")
    assert out["unit"].tolist() == ["A", "B", "C"]  # no unit vanishes
    assert out["corrected"].tolist() == [True, False, False]
    assert out["corrected_value"].isna().tolist() == [False, True, True]
    assert out["note"].iloc[1] == "no case re-checked in 2024: figure not corrected"
    assert out["note"].iloc[2] == "not audited in 2024: figure not corrected"
    assert out["audit_rows"].tolist() == [1, 1, 0]


def test_adjusted_refuses_unknown_names_and_methods():
    r = completion()
    a = pd.DataFrame({"unit": ["A"], "period": ["2024"], "item": ["checkups"],
                      "reported": [2780], "checked": [27], "false_found": [5]})
    with pytest.raises(ValueError, match=r"^no audit row has item 'checkup' \(did you mean "
                                         r"'checkups'\?\)$"):
        audit_adjusted(r, a, item="checkup", indicator="checkup_completion_ratio")
    with pytest.raises(ValueError, match=r"^no result row has indicator 'checkup_completion' "
                                         r"\(did you mean 'checkup_completion_ratio'\?\)$"):
        audit_adjusted(r, a, item="checkups", indicator="checkup_completion")
    with pytest.raises(ValueError, match="^adjust must be one of subtract_found, "
                                         "scale_by_false_share, got 'none'$"):
        audit_adjusted(r, a, item="checkups", indicator="checkup_completion_ratio",
                       adjust="none")
    with pytest.raises(ValueError, match="^the results hold 2 rows of "
                                         "checkup_completion_ratio that share a unit and "
                                         "period; each may appear once$"):
        audit_adjusted(pd.concat([r, r]), a, item="checkups",
                       indicator="checkup_completion_ratio")
    bad = a.assign(false_found=[28])
    with pytest.raises(ValueError, match="false_found exceeds checked"):
        audit_adjusted(r, bad, item="checkups", indicator="checkup_completion_ratio")
    before_r, before_a = r.copy(), a.copy()
    audit_adjusted(r, a, item="checkups", indicator="checkup_completion_ratio")
    pd.testing.assert_frame_equal(r, before_r)
    pd.testing.assert_frame_equal(a, before_a)


# --------------------------------------------------------------------------- review fixes


def test_adjusted_refuses_true_false_and_text_in_the_results():
    # finding S6 / U1: a boolean numerator or value was read as 1/0, a text numerator raised
    # pandas' own error naming neither column nor row
    a = pd.DataFrame({"unit": ["A"], "period": ["2024"], "item": ["checkups"],
                      "reported": [2780], "checked": [27], "false_found": [5]})
    r = completion(unit=("A", "B"), num=(2780.0, 100.0), den=(2700.0, 100.0))
    with pytest.raises(ValueError, match=r"^the results of checkup_completion_ratio: "
                       r"numerator must be a count, not true/false$"):
        audit_adjusted(r.assign(numerator=[True, False]), a, item="checkups",
                       indicator="checkup_completion_ratio")
    with pytest.raises(ValueError, match=r"value must be a number, not true/false"):
        audit_adjusted(r.assign(value=[True, False]), a, item="checkups",
                       indicator="checkup_completion_ratio")
    with pytest.raises(ValueError, match=r"^the results of checkup_completion_ratio: "
                       r"numerator is not a number at index 1 \(e\.g\. 'x'\)$"):
        audit_adjusted(r.assign(numerator=["2780", "x"]), a, item="checkups",
                       indicator="checkup_completion_ratio")


def test_adjusted_matches_float_int_and_text_unit_codes():
    # finding S10: results with unit 1.0 (a float column) and audits with unit 1 did not match,
    # so the figure was silently left uncorrected ("not audited")
    a = pd.DataFrame({"unit": [1], "period": ["2024"], "item": ["checkups"],
                      "reported": [2780], "checked": [27], "false_found": [5]})
    r = completion(unit=(1.0, 2.0), num=(2780.0, 100.0), den=(2700.0, 100.0))
    out = audit_adjusted(r, a, item="checkups", indicator="checkup_completion_ratio")
    assert out["unit"].tolist() == ["1", "2"]
    assert out["corrected"].tolist() == [True, False]
    assert out["corrected_value"].iloc[0] == pytest.approx(2780 * 22 / 27 / 2700 * 100)
    out2 = audit_adjusted(r.assign(unit=["1", "2"]), a.assign(unit=[1.0]), item="checkups",
                          indicator="checkup_completion_ratio")
    assert out2["corrected"].tolist() == [True, False]


def test_estimates_label_periods_canonically_so_spellings_pool_together():
    # finding C2: "2024年第1季度" and "2024-Q1" are one quarter; they made two pooled rows
    e = audit_estimates(scheme_audits(period=["2024年第1季度", "2024-Q1"]))
    assert e["period"].tolist() == ["2024Q1"] * 3
    assert e["unit"].tolist() == ["A", "B", POOLED]
    # pooled: W = 60/100, 40/100; p = 0.6 x 5/27 + 0.4 x 7/21 = 0.11111 + 0.13333 = 0.24444
    assert e["false_rate"].iloc[2] == pytest.approx(0.6 * 5 / 27 + 0.4 * 7 / 21)


def test_estimates_with_units_refuse_audits_of_several_levels():
    # finding S11: a township audit and a village audit were pooled into one county row
    units = pd.DataFrame({"unit": ["A", "B", "A1"], "name": ["a", "b", "a1"],
                          "parent": [pd.NA, pd.NA, "A"],
                          "level": ["township", "township", "village"]})
    e = audit_estimates(scheme_audits(), units=units)  # one level: as without units
    assert e["false_rate"].iloc[2] == pytest.approx(0.6 * 5 / 27 + 0.4 * 7 / 21)
    with pytest.raises(ValueError, match=r"^audits: the audits hold units of several levels "
                       r"\(township: A; village: A1\); a pooled row pools one level"):
        audit_estimates(scheme_audits(unit=["A", "A1"]), units=units)
    with pytest.raises(ValueError, match=r"^audits: unit\(s\) not in the units table: Z"):
        audit_estimates(scheme_audits(unit=["A", "Z"]), units=units)
