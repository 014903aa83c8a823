"""Tests of fpanalysis.quality.trends: consistency over time against the county and the
inverse-variance weighted trend test.

Expected values are computed by hand (arithmetic in the comments), with statsmodels WLS
(``cov_type='fixed scale'``: variances taken as known), or with scipy's exact
Clopper-Pearson interval (``binomtest(...).proportion_ci(method='exact')``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from fpanalysis.quality.trends import consistency_over_time, trend_test, weighted_slope


def _monthly(births: dict[str, list[int]], first: str = "2021-01", **extra) -> pd.DataFrame:
    """Monthly counts: each unit's list of yearly birth totals spread as 12 equal months
    (a total that 12 does not divide puts the remainder in December)."""
    rows = []
    for unit, totals in births.items():
        for k, total in enumerate(totals):
            base = total // 12
            months = [base] * 11 + [total - 11 * base]
            for m, b in enumerate(months):
                rows.append((unit, pd.Period(first, "M") + 12 * k + m, b))
    frame = pd.DataFrame(rows, columns=["unit", "period", "births"])
    frame["births"] = frame["births"].astype("Int64")
    frame["period"] = frame["period"].astype("period[M]")
    for name, value in extra.items():
        frame[name] = value
    return frame


# --------------------------------------------------------------------------- consistency


def test_ratio_of_ratios_by_hand():
    # A: 120, 120, 120, 240 -> ratio 240 / 120 = 2; B: 240 each year -> 1.
    # County: 360, 360, 360, 480 -> 480 / 360 = 1.3333. Relative: 2 / 1.3333 = 1.5 (above
    # 1.33), 1 / 1.3333 = 0.75 (inside 0.67 .. 1.33).
    c = _monthly({"A": [120, 120, 120, 240], "B": [240] * 4})
    r = consistency_over_time(c, year=2024)
    assert r["previous_years"].iloc[0] == "2021, 2022, 2023"
    assert r["ratio"].tolist() == pytest.approx([2.0, 1.0])
    assert r["county_ratio"].iloc[0] == pytest.approx(480 / 360)
    assert r["relative"].tolist() == pytest.approx([1.5, 0.75])
    assert r["flag"].iloc[0] == "above" and pd.isna(r["flag"].iloc[1])
    assert r["threshold"].iloc[0] == pytest.approx(1.33) and np.isnan(r["threshold"].iloc[1])
    assert (r["county_units"] == 2).all() and (r["note"] == "").all()


def test_tolerance_is_configurable():
    c = _monthly({"A": [120, 120, 120, 240], "B": [240] * 4})
    r = consistency_over_time(c, year=2024, tolerance=0.2)
    assert r["flag"].fillna("none").tolist() == ["above", "below"]  # 1.5 > 1.2, 0.75 < 0.8


def test_incomplete_current_year_is_refused_for_that_unit():
    c = _monthly({"A": [120, 120, 120, 240], "B": [240] * 4})
    c = c[~((c["unit"] == "A") & (c["period"] == pd.Period("2024-05", "M")))]
    r = consistency_over_time(c, year=2024).set_index("unit")
    assert np.isnan(r.loc["A", "ratio"]) and pd.isna(r.loc["A", "flag"])
    assert r.loc["A", "note"].startswith("not reported: 2024 incomplete, 2024-05 missing")
    # the county pools B alone, like for like: ratio 1, B's relative 1
    assert r.loc["B", "county_units"] == 1
    assert r.loc["B", "relative"] == pytest.approx(1.0)
    assert r.loc["B", "note"] == "county pooled over 1 of 2 units (left out: A)"


def test_missing_previous_year_month_leaves_unit_out():
    c = _monthly({"A": [120, 120, 120, 240], "B": [240] * 4, "C": [360] * 4})
    c = c[~((c["unit"] == "C") & (c["period"] == pd.Period("2022-03", "M")))]
    r = consistency_over_time(c, year=2024).set_index("unit")
    assert np.isnan(r.loc["C", "ratio"])
    assert r.loc["C", "note"].startswith("not reported: 2022 incomplete, 2022-03 missing")
    # county of A and B: 480 / 360
    assert r.loc["A", "county_ratio"] == pytest.approx(480 / 360)
    assert "left out: C" in r.loc["A", "note"]


def test_too_few_previous_years():
    c = _monthly({"A": [120, 120, 240]}, first="2022-01")  # 2022, 2023, 2024
    r = consistency_over_time(c, year=2024)
    assert np.isnan(r["ratio"].iloc[0])
    assert r["note"].iloc[0] == ("only 2 of the 3 previous years have a complete year "
                                 "(2022, 2023); 3 needed")
    r2 = consistency_over_time(c, year=2024, min_previous=2)
    assert r2["ratio"].iloc[0] == pytest.approx(2.0)
    assert r2["previous_years"].iloc[0] == "2022, 2023"


def test_unit_without_any_counts_keeps_a_row():
    c = _monthly({"A": [120] * 4})
    units = pd.DataFrame({"unit": ["K", "A", "Z"], "name": ["k", "a", "z"],
                          "parent": [pd.NA, "K", "K"], "level": ["county", "township",
                                                                 "township"]})
    r = consistency_over_time(c, year=2024, units=units).set_index("unit")
    assert list(r.index) == ["A", "Z"]
    assert r.loc["Z", "note"].startswith("not reported: no counts for 2024")


def test_indicator_by_hand():
    # compliance: A 50 of 100 in 2021-2023, 90 of 100 in 2024 -> ratio 90 / 50 = 1.8;
    # B 80 of 100 each year -> 1. County: 130 / 200 = 65 % before, 170 / 200 = 85 % in 2024
    # -> county ratio 85 / 65 = 1.3077; relative A = 1.8 / 1.3077 = 1.3765 -> above.
    c = _monthly({"A": [120] * 4, "B": [120] * 4})
    comp = {"A": [50, 50, 50, 90], "B": [80] * 4}
    c["births"] = 0
    c["births_compliant"] = 0
    c = c.astype({"births": "Int64", "births_compliant": "Int64"})
    for unit, totals in comp.items():
        for k, t in enumerate(totals):
            rows = (c["unit"] == unit) & (c["period"].dt.year == 2021 + k)
            dec = rows & (c["period"].dt.month == 12)
            c.loc[dec, "births"] = 100
            c.loc[dec, "births_compliant"] = t
    r = consistency_over_time(c, year=2024, columns=(), indicators=["compliance_rate"])
    assert r["ratio"].tolist() == pytest.approx([1.8, 1.0])
    assert r["county_ratio"].iloc[0] == pytest.approx(85 / 65)
    assert r["relative"].iloc[0] == pytest.approx(1.8 / (85 / 65))
    assert r["flag"].iloc[0] == "above"


def test_does_not_mutate_and_shuffle_invariant():
    c = _monthly({"A": [120, 120, 120, 240], "B": [240] * 4})
    before = c.copy()
    r1 = consistency_over_time(c, year=2024)
    r2 = consistency_over_time(c.sample(frac=1, random_state=1), year=2024)
    pd.testing.assert_frame_equal(r1, r2)
    pd.testing.assert_frame_equal(c, before)


@pytest.mark.parametrize("kwargs, message", [
    ({"year": "2024Q1"}, "year must be a calendar year such as 2024, got '2024Q1'"),
    ({"year": 2024, "previous": 0}, "previous must be a whole number of at least 1, got 0"),
    ({"year": 2024, "min_previous": 4}, "min_previous must not exceed previous, got 4 > 3"),
    ({"year": 2024, "tolerance": 33}, "tolerance must be between 0 and 1 (exclusive), got 33"),
    ({"year": 2024, "columns": ()}, "give at least one count column or indicator"),
])
def test_consistency_argument_errors(kwargs, message):
    with pytest.raises(ValueError) as err:
        consistency_over_time(_monthly({"A": [12] * 4}), **kwargs)
    assert str(err.value) == message


# --------------------------------------------------------------------------- trend test


def test_weighted_slope_against_statsmodels():
    sm = pytest.importorskip("statsmodels.api")
    y = np.array([[10.0, 11.5, 11.0, 13.2, 14.1], [5.0, np.nan, 4.0, 3.5, 3.9]])
    se = np.array([[0.5, 0.4, 0.6, 0.5, 0.3], [1.0, 1.0, 0.8, 0.9, 1.2]])
    slope, slope_se, used, chi2 = weighted_slope(y, se)
    for i in range(2):
        ok = ~np.isnan(y[i])
        x = sm.add_constant(np.arange(5.0)[ok])
        fit = sm.WLS(y[i][ok], x, weights=1 / se[i][ok] ** 2).fit(cov_type="fixed scale")
        assert slope[i] == pytest.approx(fit.params[1])
        assert slope_se[i] == pytest.approx(fit.bse[1])
        assert chi2[i] == pytest.approx(np.sum(fit.wresid ** 2))
    assert used.tolist() == [5, 4]


def test_weighted_slope_by_hand():
    # equal SE 0.5 (w = 4), x = 0..4: x̄ = 2, Σw(x - x̄)² = 4 x 10 = 40; y = 10 + x
    # -> slope 1, SE 1 / sqrt(40) = 0.1581
    slope, se, _, chi2 = weighted_slope(np.array([[10.0, 11, 12, 13, 14]]),
                                        np.full((1, 5), 0.5))
    assert slope[0] == pytest.approx(1.0) and se[0] == pytest.approx(1 / np.sqrt(40))
    assert chi2[0] == pytest.approx(0.0)


def _quarterly(done: list[int], due: list[int], unit: str = "A") -> pd.DataFrame:
    """Five quarters (2023Q4 .. 2024Q4) of compliance counts, one month per quarter
    holding them all and the other two zero."""
    rows = []
    for k, (x, n) in enumerate(zip(done, due, strict=True)):
        q = pd.Period("2023Q4", "Q") + k
        for m, month in enumerate(pd.period_range(q.start_time, q.end_time, freq="M")):
            rows.append((unit, month, x if m == 0 else 0, n if m == 0 else 0))
    frame = pd.DataFrame(rows, columns=["unit", "period", "births_compliant", "births"])
    frame["period"] = frame["period"].astype("period[M]")
    return frame.astype({"births_compliant": "Int64", "births": "Int64"})


def test_trend_test_against_statsmodels_and_scipy_intervals():
    sm = pytest.importorskip("statsmodels.api")
    x, n = [60, 66, 70, 78, 85], [100] * 5
    r = trend_test(_quarterly(x, n), ["compliance_rate"], period="2024Q4")
    # independent reference: Clopper-Pearson limits from scipy, SE = width / (2 x 1.959964)
    ci = [stats.binomtest(k, m).proportion_ci(method="exact") for k, m in zip(x, n, strict=True)]
    se = np.array([(c.high - c.low) * 100 / (2 * stats.norm.ppf(0.975)) for c in ci])
    y = np.array(x) / np.array(n) * 100
    fit = sm.WLS(y, sm.add_constant(np.arange(5.0)), weights=1 / se ** 2).fit(
        cov_type="fixed scale")
    row = r.iloc[0]
    assert row["slope"] == pytest.approx(fit.params[1], rel=1e-6)
    assert row["se"] == pytest.approx(fit.bse[1], rel=1e-6)
    assert row["p_value"] == pytest.approx(fit.pvalues[1], rel=1e-6)
    assert (row["first"], row["last"], row["periods_used"]) == ("2023Q4", "2024Q4", 5)
    assert row["better"] == "higher" and row["trend"] == "improving"


def test_trend_direction_from_target_op_and_unknown_direction():
    c = _quarterly([60, 66, 70, 78, 85], [100] * 5)
    r = trend_test(c, ["compliance_rate"], period="2024Q4", better="<=")
    assert r["trend"].iloc[0] == "worsening"
    r = trend_test(c, ["compliance_rate"], period="2024Q4",
                   better={"compliance_rate": "lower"})
    assert r["trend"].iloc[0] == "worsening"
    flat = _quarterly([70, 71, 69, 70, 71], [100] * 5)
    assert trend_test(flat, ["compliance_rate"], period="2024Q4")["trend"].iloc[0] == \
        "no significant change"


def test_trend_missing_period_noted_and_too_few_not_tested():
    c = _quarterly([60, 66, 70, 78, 85], [100] * 5)
    gap = c[c["period"] != pd.Period("2024-04", "M")]  # 2024Q2 lacks a month
    r = trend_test(gap, ["compliance_rate"], period="2024Q4")
    assert r["periods_used"].iloc[0] == 4
    assert r["note"].iloc[0] == "no value for 2024Q2"
    assert r["trend"].iloc[0] == "improving"
    r = trend_test(gap, ["compliance_rate"], period="2024Q4", min_periods=5)
    assert pd.isna(r["trend"].iloc[0]) and np.isnan(r["slope"].iloc[0])
    assert r["note"].iloc[0] == ("no value for 2024Q2; fewer than 5 periods with a value: "
                                 "not tested")


@pytest.mark.parametrize("kwargs, message", [
    ({"period": "2024H2"}, "a trend needs months, quarters or years, got 2024H2"),
    ({"period": "2024Q4", "periods": 2}, "periods must be a whole number of at least 3, got 2"),
    ({"period": "2024Q4", "min_periods": 6},
     "min_periods must not exceed periods, got 6 > 5"),
    ({"period": "2024Q4", "better": "up"},
     "better must be one of >=, >, higher, <=, <, lower, got 'up'"),
    ({"period": "2024Q4", "better": {"crude_birth_rate": "higher"}},
     "better names indicator(s) not tested here: crude_birth_rate"),
])
def test_trend_argument_errors(kwargs, message):
    with pytest.raises(ValueError) as err:
        trend_test(_quarterly([1] * 5, [2] * 5), ["compliance_rate"], **kwargs)
    assert str(err.value) == message


def test_trend_infinite_value_is_left_out_and_input_untouched():
    # sex ratio with boys only in 2024Q2 (third of 2023Q4..2024Q4): infinite, left out
    rows = []
    for k, (m, f) in enumerate([(50, 50), (52, 48), (6, 0), (55, 45), (56, 44)]):
        q = pd.Period("2023Q4", "Q") + k
        for j, month in enumerate(pd.period_range(q.start_time, q.end_time, freq="M")):
            rows.append(("A", month, m if j == 0 else 0, f if j == 0 else 0))
    c = pd.DataFrame(rows, columns=["unit", "period", "births_male", "births_female"])
    c["period"] = c["period"].astype("period[M]")
    before = c.copy()
    r = trend_test(c, ["sex_ratio_at_birth"], period="2024Q4")
    assert r["periods_used"].iloc[0] == 4
    assert r["note"].iloc[0] == "no value for 2024Q2"
    pd.testing.assert_frame_equal(c, before)


def test_consistency_flags():
    from fpanalysis.quality.trends import consistency_flags

    c = _monthly({"A": [120, 120, 120, 240], "B": [240] * 4})
    fl = consistency_flags(consistency_over_time(c, year=2024))
    assert fl.values.tolist() == [["A", "2024", "consistency_over_time", "births", 1.5,
                                   1.33, "moderate"]]
