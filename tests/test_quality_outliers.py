"""Tests of fpanalysis.quality.outliers: monthly z / modified z outliers, divergent units,
funnel outliers with the over-dispersion adjustment.

Expected values are computed by hand (arithmetic in the comments) or with numpy/scipy
primitives written out here (np.mean, np.std, np.median, scipy.stats.binom), never with the
helpers the code under test calls.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from fpanalysis.quality.outliers import (
    funnel_curves,
    funnel_outliers,
    monthly_outliers,
    monthly_values,
    outlier_summary,
    overdispersion,
)


def _months(first: str, n: int) -> pd.PeriodIndex:
    return pd.period_range(first, periods=n, freq="M")


def _series(values, unit="A", first="2024-01", column="births") -> pd.DataFrame:
    return pd.DataFrame({"unit": unit, "period": _months(first, len(values)),
                         column: pd.array(values, dtype="Int64")})


# --------------------------------------------------------------------------- monthly values


def test_missing_month_is_listed_with_a_note():
    c = _series([5, 6, 7, 8]).drop(index=1)  # 2024-02 not reported
    v = monthly_values(c)
    assert v["period"].astype(str).tolist() == ["2024-01", "2024-02", "2024-03", "2024-04"]
    assert np.isnan(v.loc[1, "value"])
    assert v.loc[1, "note"] == "not reported: no counts for 2024-02"
    assert (v.loc[[0, 2, 3], "note"] == "").all()


def test_empty_cell_and_unit_that_never_reported():
    c = _series([5, None, 7])
    units = pd.DataFrame({"unit": ["C", "A", "B"], "name": ["c", "a", "b"],
                          "parent": [pd.NA, "C", "C"],
                          "level": ["county", "township", "township"]})
    v = monthly_values(c, units=units)
    assert v.loc[1, "note"] == "not reported: empty count cell"
    b = v[v["unit"] == "B"]
    assert len(b) == 3 and b["value"].isna().all()
    assert b["note"].str.startswith("not reported: no counts for").all()
    assert "C" not in set(v["unit"])  # the county is another level


def test_births_derived_from_male_and_female():
    c = pd.DataFrame({"unit": "A", "period": _months("2024-01", 2),
                      "births_male": [3, 4], "births_female": [2, 2]})
    assert monthly_values(c)["value"].tolist() == [5.0, 6.0]


def test_indicator_values_by_hand():
    c = pd.DataFrame({"unit": "A", "period": _months("2024-01", 2),
                      "births_male": [6, 5], "births_female": [5, 0]})
    v = monthly_values(c, columns=(), indicators=["sex_ratio_at_birth"])
    assert v.loc[0, "value"] == pytest.approx(120.0)  # 100 x 6 / 5
    assert np.isinf(v.loc[1, "value"])  # boys only
    o = monthly_outliers(c, columns=(), indicators=["sex_ratio_at_birth"], min_months=2)
    assert np.isnan(o.loc[1, "z"])
    assert "infinite" in o.loc[1, "note"]


def test_window_from_period_label():
    c = _series([1] * 24, first="2023-01")
    v = monthly_values(c, period="2024")
    assert len(v) == 12 and v["period"].min() == pd.Period("2024-01", "M")


@pytest.mark.parametrize("bad, message", [
    (lambda c: c.assign(period=c["period"].astype(str)),
     "monthly values need monthly counts (a period[M] column), got dtype"),
    (lambda c: pd.concat([c, c.iloc[[0]]]),
     "counts have 1 duplicate row(s) for (unit, period), e.g. (A, 2024-01)"),
    (lambda c: c.assign(births=-c["births"]), "count columns must hold numbers >= 0: "
     "'births' has negative values"),
    (lambda c: c.drop(columns="unit"), "counts have no column(s) unit"),
    (lambda c: c.iloc[:0], "counts have no rows"),
    (lambda c: c.assign(unit=["A", None, "A"]), "counts have rows without a unit"),
    (lambda c: c.assign(unit=["A", "A ", "A"]),
     "counts have unit codes with surrounding spaces: 'A '"),
    (lambda c: c.assign(births=[1.0, 2.5, 3.0]),
     "count columns must hold numbers >= 0: 'births' has values that are not whole numbers"),
    (lambda c: c.assign(births=["1", "2", "3"]),
     "count columns must hold numbers >= 0: 'births' is not numeric"),
])
def test_bad_counts_refused(bad, message):
    with pytest.raises(ValueError) as err:
        monthly_values(bad(_series([1, 2, 3])))
    assert message in str(err.value)


def test_unknown_column_names_a_suggestion():
    with pytest.raises(ValueError, match="counts have no column\\(s\\) 'birth'"):
        monthly_values(_series([1, 2, 3]), columns=["birth"])


# --------------------------------------------------------------------------- z scores


def test_meanad_branch_by_hand():
    # 11 months of 10 and one of 40: mean 12.5; deviations -2.5 (x11) and 27.5;
    # SD = sqrt((11 x 6.25 + 756.25) / 11) = sqrt(75) = 8.660; z = 27.5 / 8.660 = 3.1754.
    # median 10, MAD 0 -> MeanAD = 30 / 12 = 2.5; Mz = 30 / (1.253314 x 2.5) = 9.5746.
    o = monthly_outliers(_series([10] * 11 + [40]))
    last = o.iloc[11]
    assert last["z"] == pytest.approx(27.5 / np.sqrt(75))
    assert last["modified_z"] == pytest.approx(30 / (1.253314 * 2.5))
    assert last["severity"] == "extreme" and last["threshold"] == 3.0
    assert bool(last["modified_outlier"])
    assert o.iloc[0]["z"] == pytest.approx(-2.5 / np.sqrt(75))
    assert pd.isna(o.iloc[0]["severity"])


def test_mad_branch_by_hand():
    # 1, 2, 3, 4, 100: median 3, |dev| 2, 1, 0, 1, 97 -> MAD 1; Mz(100) = 0.6745 x 97.
    # mean 22, SD = sqrt(7610 / 4) = 43.618, z(100) = 78 / 43.618 = 1.788 (the largest
    # |z| 5 values allow is 4 / sqrt(5) = 1.789): no severity although Mz = 65.4.
    o = monthly_outliers(_series([1, 2, 3, 4, 100]))
    assert o["modified_z"].iloc[4] == pytest.approx(0.6745 * 97)
    assert o["modified_z"].iloc[0] == pytest.approx(-0.6745 * 2)
    assert o["z"].iloc[4] == pytest.approx(78 / np.sqrt(7610 / 4))
    assert o["severity"].isna().all()
    assert o["modified_outlier"].tolist() == [False, False, False, False, True]


def test_against_numpy_reference_with_a_missing_month():
    rng = np.random.default_rng(3)
    x = rng.poisson(20, 12).astype(float)
    x[4] = 60
    c = _series(x.astype(int)).drop(index=7)  # 2024-08 missing
    o = monthly_outliers(c)
    used = np.delete(x, 7)
    z = (used - used.mean()) / used.std(ddof=1)
    med = np.median(used)
    mad = np.median(np.abs(used - med))
    mz = 0.6745 * (used - med) / mad
    got = o.drop(index=7)
    np.testing.assert_allclose(got["z"], z)
    np.testing.assert_allclose(got["modified_z"], mz)
    assert (o["months_used"] == 11).all()
    assert np.isnan(o.loc[7, "z"]) and pd.isna(o.loc[7, "severity"])
    assert o.loc[7, "note"] == "not reported: no counts for 2024-08"
    expected = np.where(np.abs(z) >= 3, "extreme", np.where(np.abs(z) >= 2, "moderate", None))
    assert got["severity"].fillna("none").tolist() == [e or "none" for e in expected]


def test_short_history_gets_no_score_and_a_note():
    o = monthly_outliers(_series([5, 6]))
    assert o["z"].isna().all() and o["severity"].isna().all()
    assert o["note"].eq("only 2 months with a value in the window (3 needed)").all()
    s = outlier_summary(o)
    assert pd.isna(s.loc[0, "divergent"])
    assert s.loc[0, "note"] == "too few months with a value to score"


def test_constant_series_scores_zero():
    o = monthly_outliers(_series([7] * 6))
    assert (o["z"] == 0).all() and (o["modified_z"] == 0).all()


def test_within_year_and_period():
    # 2023 all 10, 2024 all 20: by year nothing stands out; over both years every month is
    # 10 from the mean 15, SD = sqrt(24 x 25 / 23) = 5.108, |z| = 0.979.
    c = _series([10] * 12 + [20] * 12, first="2023-01")
    by_year = monthly_outliers(c)
    assert (by_year["z"] == 0).all()
    assert set(by_year["window"]) == {"2023", "2024"}
    whole = monthly_outliers(c, within="period")
    assert whole["z"].abs().to_numpy() == pytest.approx(np.full(24, 5 / np.sqrt(600 / 23)))
    assert set(whole["window"]) == {"2023-01/2024-12"}


def test_divergent_rule():
    # unit A: one extreme month -> divergent; B: one moderate -> not; C: two moderate -> yes
    a = [10] * 11 + [40]  # z = 3.18
    b = [10, 12] * 5 + [10, 16]  # mean 11.5, SD 1.73: 16 -> z = 2.6
    c = [10] * 10 + [14, 6]  # mean 10, SD sqrt(32 / 11) = 1.706: z = ±2.345
    frame = pd.concat([_series(a, "A"), _series(b, "B"), _series(c, "C")], ignore_index=True)
    o = monthly_outliers(frame)
    zb = (np.array(b) - np.mean(b)) / np.std(b, ddof=1)
    zc = (np.array(c) - np.mean(c)) / np.std(c, ddof=1)
    assert 2 <= zb.max() < 3 and (np.abs(zb) >= 2).sum() == 1
    assert ((np.abs(zc) >= 2) & (np.abs(zc) < 3)).sum() == 2
    s = outlier_summary(o).set_index("unit")
    assert s["divergent"].tolist() == [True, False, True]
    assert s.loc["A", "months_flagged"] == "2024-12 (extreme)"
    assert s.loc["C", "moderate"] == 2


def test_shuffled_rows_give_the_same_result_and_input_is_untouched():
    frame = pd.concat([_series([3, 4, 5, 9, 4, 3], "A"), _series([1, 1, 2, 8, 1, 2], "B")],
                      ignore_index=True)
    before = frame.copy()
    o1 = monthly_outliers(frame, indicators=[], columns=["births"])
    o2 = monthly_outliers(frame.sample(frac=1, random_state=2))
    pd.testing.assert_frame_equal(o1, o2)
    pd.testing.assert_frame_equal(frame, before)


@pytest.mark.parametrize("kwargs, message", [
    ({"within": "month"}, "within must be one of year, period, got 'month'"),
    ({"moderate": 0}, "moderate must be a positive number, got 0"),
    ({"extreme": 1.5}, "extreme must not be below moderate, got 1.5 < 2.0"),
    ({"min_months": 1}, "min_months must be a whole number of at least 2, got 1"),
    ({"columns": ()}, "give at least one count column or indicator"),
    ({"columns": ("births", "births")}, "series named twice: births"),
])
def test_argument_errors(kwargs, message):
    with pytest.raises(ValueError) as err:
        monthly_outliers(_series([1, 2, 3]), **kwargs)
    assert str(err.value) == message


def test_sample_has_no_extreme_births_month(sample_counts, sample_units):
    """On the sample, births per month: the planted tripled month (990101108, 2024-08,
    synth.plant_problems) is the one extreme flag; a handful of moderate ones from chance."""
    o = monthly_outliers(sample_counts, units=sample_units)
    assert len(o) == 18 * 36  # 990101107's missing 2024-05 is a row with no value
    assert o.loc[o["severity"] == "extreme", ["unit", "period"]].astype(str).values.tolist() \
        == [["990101108", "2024-08"]]
    assert (o["severity"] == "moderate").sum() <= 0.08 * len(o)


# --------------------------------------------------------------------------- funnel


def test_overdispersion_by_hand():
    # z = -3, -1, 0, 1, 5; trim 0.1 (R type 7): lower = -3 + 0.4 x 2 = -2.2,
    # upper = 1 + 0.6 x 4 = 3.4. Winsorised: -2.2, -1, 0, 1, 3.4; squares 4.84 + 1 + 0 + 1
    # + 11.56 = 18.4; phi = 3.68. s = .1, .1, .2, .2, .1 -> w = 100, 100, 25, 25, 100;
    # Σw = 350, Σw² = 31250, Σw²/Σw = 89.2857; tau² = (18.4 - 4) / (350 - 89.2857).
    phi, tau2, n = overdispersion(np.array([-3.0, -1, 0, 1, 5]),
                                  np.array([0.1, 0.1, 0.2, 0.2, 0.1]), trim=0.1)
    assert n == 5
    assert phi == pytest.approx(3.68)
    assert tau2 == pytest.approx(14.4 / (350 - 31250 / 350))


def test_no_overdispersion_gives_tau_zero():
    # phi = (0.25 + 0.25) / 2 = 0.25; n phi = 0.5 < n - 1 = 1 -> tau² = 0
    phi, tau2, _ = overdispersion(np.array([0.5, -0.5]), np.array([0.1, 0.1]), trim=0.0)
    assert phi == pytest.approx(0.25) and tau2 == 0.0


def _proportions(x, n, units=None):
    units = units or [f"U{i}" for i in range(len(x))]
    return pd.DataFrame({"unit": units, "period": pd.PeriodIndex(["2024Q4"] * len(x), freq="Q"),
                         "births_compliant": x, "births": n})


def test_funnel_flags_from_exact_tails():
    x, n = [50, 90, 90, 90, 10, 2], [100, 100, 100, 100, 10, 2]
    f = funnel_outliers(_proportions(x, n), "compliance_rate", period="2024Q4")
    p0 = sum(x) / sum(n)  # 332 / 412
    assert f["county_value"].iloc[0] == pytest.approx(100 * p0)
    low = stats.binom.cdf(np.array(x), np.array(n), p0)
    high = stats.binom.sf(np.array(x) - 1, np.array(n), p0)
    tail = np.minimum(low, high)
    expected = np.where(tail < 0.001, "outside 99.8 %",
                        np.where(tail < 0.025, "outside 95 %", "none"))
    assert f["flag"].fillna("none").tolist() == expected.tolist()
    assert f.loc[0, "severity"] == "extreme" and f.loc[0, "direction"] == "low"
    # 10 of 10 and 2 of 2 lie above the interpolated 99.8 % limit but are not significant
    assert pd.isna(f.loc[4, "flag"]) and pd.isna(f.loc[5, "flag"])
    assert f.loc[4, "value"] > f.loc[4, "upper_0.998"]
    assert high[4] == pytest.approx(p0 ** 10)


def test_funnel_overdispersion_limits_follow_funnelplotr():
    x = [30, 60, 45, 80, 20, 70, 55, 90]
    n = [100, 100, 90, 120, 60, 100, 80, 110]
    f = funnel_outliers(_proportions(x, n), "compliance_rate", period="2024Q4", adjust=True)
    xs, ns = np.array(x, float), np.array(n, float)
    p0 = xs.sum() / ns.sum()
    # FunnelPlotR, data_type "PR": Y = asin(sqrt(p)), s = 1 / (2 sqrt(n)),
    # target asin(sqrt(p0)); z winsorised at the 10 % / 90 % type-7 quantiles
    y, s, t0 = np.arcsin(np.sqrt(xs / ns)), 1 / (2 * np.sqrt(ns)), np.arcsin(np.sqrt(p0))
    z = (y - t0) / s
    lo, hi = np.percentile(z, [10, 90])
    zw = np.clip(z, lo, hi)
    phi = np.mean(zw ** 2)
    w = 1 / s ** 2
    tau2 = (len(z) * phi - (len(z) - 1)) / (w.sum() - (w ** 2).sum() / w.sum())
    assert phi > 1
    assert f["phi"].iloc[0] == pytest.approx(phi)
    assert f["tau2"].iloc[0] == pytest.approx(tau2)
    assert f["adjusted"].all()
    sd = np.sqrt(s ** 2 + tau2)
    np.testing.assert_allclose(f["lower_0.95"], 100 * np.sin(t0 - 1.959964 * sd) ** 2,
                               rtol=1e-6)
    np.testing.assert_allclose(f["upper_0.998"], 100 * np.sin(t0 + 3.090232 * sd) ** 2,
                               rtol=1e-6)
    np.testing.assert_allclose(f["z"], (y - t0) / sd)
    expected = np.where(np.abs((y - t0) / sd) > 3.090232, "outside 99.8 %",
                        np.where(np.abs((y - t0) / sd) > 1.959964, "outside 95 %", "none"))
    assert f["flag"].fillna("none").tolist() == expected.tolist()


def test_funnel_rate_and_missing_unit():
    c = pd.DataFrame({"unit": ["A", "B", "C"], "period": pd.PeriodIndex(["2024"] * 3, freq="Y"),
                      "births": [100, 300, 40], "population": [10000, 20000, 4000]})
    units = pd.DataFrame({"unit": ["K", "A", "B", "C", "D"], "name": list("kabcd"),
                          "parent": [pd.NA, "K", "K", "K", "K"],
                          "level": ["county"] + ["township"] * 4})
    f = funnel_outliers(c, "crude_birth_rate", period="2024", units=units)
    assert f["unit"].tolist() == ["A", "B", "C", "D"]
    # 2024 has 366 days: PY = population; county rate = 440 / 34000 x 1000 = 12.941
    assert f["county_value"].iloc[0] == pytest.approx(440 / 34000 * 1000)
    rate0 = 440 / 34000
    mu = np.array([10000, 20000, 4000]) * rate0
    obs = np.array([100, 300, 40])
    tail = np.minimum(stats.poisson.cdf(obs, mu), stats.poisson.sf(obs - 1, mu))
    expected = np.where(tail < 0.001, "outside 99.8 %",
                        np.where(tail < 0.025, "outside 95 %", "none"))
    assert f["flag"].iloc[:3].fillna("none").tolist() == expected.tolist()
    d = f.iloc[3]
    assert np.isnan(d["value"]) and pd.isna(d["flag"])
    assert d["note"].startswith("not reported")
    assert d["note"].endswith("county value pooled over 3 of 4 units")


def test_funnel_sex_ratio_uses_share_of_boys():
    c = pd.DataFrame({"unit": ["A", "B", "C"], "period": pd.PeriodIndex(["2024Q1"] * 3, freq="Q"),
                      "births_male": [60, 52, 90], "births_female": [40, 50, 50]})
    f = funnel_outliers(c, "sex_ratio_at_birth", period="2024Q1")
    p0 = 202 / 342  # boys over all births
    assert f["county_value"].iloc[0] == pytest.approx(100 * 202 / 140)
    y = np.arcsin(np.sqrt(np.array([60, 52, 90]) / np.array([100, 102, 140])))
    z = (y - np.arcsin(np.sqrt(p0))) * 2 * np.sqrt(np.array([100, 102, 140]))
    np.testing.assert_allclose(f["z"], z)


def test_funnel_refuses_indicator_without_funnel_and_bad_arguments():
    c = _proportions([5], [10])
    with pytest.raises(ValueError, match="no funnel for a difference indicator"):
        funnel_outliers(c, "natural_growth_rate", period="2024Q4")
    with pytest.raises(ValueError, match="confidence must be two different levels"):
        funnel_outliers(c, "compliance_rate", period="2024Q4", confidence=(0.95, 0.95))
    with pytest.raises(ValueError, match="trim must be at least 0 and below 0.5, got 0.5"):
        funnel_outliers(c, "compliance_rate", period="2024Q4", trim=0.5)


def test_funnel_does_not_mutate(sample_counts):
    before = sample_counts.copy()
    funnel_outliers(sample_counts, "compliance_rate", period="2024", adjust=True)
    pd.testing.assert_frame_equal(sample_counts, before)


@pytest.mark.parametrize("adjust", [False, True])
def test_funnel_curves_meet_each_unit_limits(adjust):
    # invariant: the curve evaluated at a unit's x equals the limits given on its row
    x = [30, 60, 45, 80, 20, 70, 55, 90]
    n = [100, 100, 90, 120, 60, 100, 80, 110]
    f = funnel_outliers(_proportions(x, n), "compliance_rate", period="2024Q4", adjust=adjust)
    assert bool(f["adjusted"].iloc[0]) is adjust
    cur = funnel_curves(f, points=400).set_index("x")
    assert set(f["x"]) <= set(cur.index)  # the grid (30 .. 138, 400 points) holds every x
    for _, row in f.iterrows():
        if row["x"] in cur.index:
            assert cur.loc[row["x"], "lower_0.95"] == pytest.approx(row["lower_0.95"])
            assert cur.loc[row["x"], "upper_0.998"] == pytest.approx(row["upper_0.998"])
    assert (cur["target"] == f["county_value"].iloc[0]).all()


def test_figures_draw_and_refuse_unknown_rows(sample_counts, sample_units):
    from matplotlib.figure import Figure

    from fpanalysis.quality import figures
    from fpanalysis.quality.trends import consistency_over_time

    o = monthly_outliers(sample_counts, units=sample_units)
    assert isinstance(figures.outlier_chart(o, "990101101", "births"), Figure)
    with pytest.raises(ValueError, match="no rows for unit 'X' and indicator 'births'"):
        figures.outlier_chart(o, "X", "births")
    f = funnel_outliers(sample_counts, "sex_ratio_at_birth", period="2024")
    assert isinstance(figures.funnel_chart(f, units=sample_units, language="en"), Figure)
    r = consistency_over_time(sample_counts, year=2024, min_previous=2)
    assert isinstance(figures.consistency_chart(r, "births"), Figure)


def test_one_unit_is_never_adjusted():
    # one unit: Σw - Σw²/Σw = 0, so tau² is 0 and the exact limits stay
    f = funnel_outliers(_proportions([30], [100]), "compliance_rate", period="2024Q4",
                        adjust=True)
    assert not f["adjusted"].iloc[0] and f["tau2"].iloc[0] == 0.0


def test_flag_tables_carry_figure_and_threshold():
    from fpanalysis.quality.outliers import FLAG_COLUMNS, funnel_flags, outlier_flags

    # A: one extreme month (z = 3.18); B: 1, 2, 3, 4, 100 -> flagged by the modified z only
    frame = pd.concat([_series([10] * 11 + [40], "A"), _series([1, 2, 3, 4, 100], "B")],
                      ignore_index=True)
    fl = outlier_flags(monthly_outliers(frame))
    assert tuple(fl.columns) == FLAG_COLUMNS
    assert fl[["unit", "period", "check", "severity"]].values.tolist() == [
        ["A", "2024-12", "monthly_outlier", "extreme"],
        ["B", "2024-05", "monthly_outlier_modified", "moderate"]]
    assert fl["figure"].tolist() == pytest.approx([27.5 / np.sqrt(75), 0.6745 * 97])
    assert fl["threshold"].tolist() == [3.0, 3.5]
    f = funnel_outliers(_proportions([50, 90, 90, 90], [100] * 4), "compliance_rate",
                        period="2024Q4")
    ff = funnel_flags(f)
    # p0 = 320 / 400 = 0.8: 50 of 100 is far below (extreme); 90 of 100 has
    # P(X >= 90) = binom.sf(89, 100, 0.8) = 0.0057 < 0.025, above the 95 % limits only
    assert 0.001 < stats.binom.sf(89, 100, 0.8) < 0.025
    assert ff["unit"].tolist() == ["U0", "U1", "U2", "U3"]
    assert ff["severity"].tolist() == ["extreme", "moderate", "moderate", "moderate"]
    assert ff["figure"].tolist() == [50.0, 90.0, 90.0, 90.0]
    assert ff["threshold"].iloc[0] == pytest.approx(f.loc[0, "lower_0.998"])
    assert ff["threshold"].iloc[1] == pytest.approx(f.loc[1, "upper_0.95"])


def test_funnel_rate_overdispersion_on_square_root_scale():
    # Poisson counts: Y = sqrt(O / E), E = PY x county rate, s = 1 / (2 sqrt(E)), centre 1
    # (Spiegelhalter 2005); limits mapped back by squaring: rate0 x (1 ± q sqrt(s² + tau²))².
    births = np.array([100, 300, 40, 260, 90, 30])
    pop = np.array([10000, 20000, 4000, 30000, 6000, 5000])
    c = pd.DataFrame({"unit": list("ABCDEF"), "period": pd.PeriodIndex(["2024"] * 6, freq="Y"),
                      "births": births, "population": pop})
    f = funnel_outliers(c, "crude_birth_rate", period="2024", adjust=True, trim=0.0)
    rate0 = births.sum() / pop.sum()  # 2024 has 366 days: person-years = population
    e = pop * rate0
    y, s = np.sqrt(births / e), 1 / (2 * np.sqrt(e))
    z = (y - 1) / s
    phi = np.mean(z ** 2)
    w = 1 / s ** 2
    tau2 = (6 * phi - 5) / (w.sum() - (w ** 2).sum() / w.sum())
    assert f["adjusted"].all() and phi > 1
    assert f["phi"].iloc[0] == pytest.approx(phi) and f["tau2"].iloc[0] == pytest.approx(tau2)
    sd = np.sqrt(s ** 2 + tau2)
    np.testing.assert_allclose(f["upper_0.95"],
                               1000 * rate0 * (1 + 1.959964 * sd) ** 2, rtol=1e-6)
    np.testing.assert_allclose(f["lower_0.998"],
                               1000 * rate0 * np.maximum(1 - 3.090232 * sd, 0) ** 2, rtol=1e-6)


def _sample() -> tuple[pd.DataFrame, pd.DataFrame]:
    from pathlib import Path

    from fpanalysis.io import load_counts, load_units

    folder = Path(__file__).resolve().parents[1] / "data" / "sample"
    units = load_units(folder)
    return units, load_counts(folder, units=units)


def test_funnel_results_of_several_indicators_are_each_indicators_own():
    # reference: funnel_outliers computing its indicator alone (compute([indicator])); the
    # rows from one compute of three indicators (check_all's three funnels) must give the
    # very same table
    from fpanalysis.quality.outliers import _funnel_outliers, _funnel_results

    units, counts = _sample()
    keys = ["sex_ratio_at_birth", "compliance_rate", "crude_birth_rate"]
    results = _funnel_results(counts, keys, period="2023", units=units)
    assert list(results) == keys
    for key in keys:
        assert list(results[key]["indicator"].cat.categories) == [key]
        alone = funnel_outliers(counts, key, period="2023", units=units, adjust=True)
        shared = _funnel_outliers(counts, key, period="2023", units=units, adjust=True,
                                  confidence=(0.95, 0.998), trim=0.1, results=results)
        pd.testing.assert_frame_equal(shared, alone, check_exact=True)


def test_funnel_results_on_bad_counts_leave_each_funnel_its_own_error():
    # a negative count: _funnel_results gives nothing, the funnel says what is wrong
    from fpanalysis.quality.outliers import _funnel_outliers, _funnel_results

    units, counts = _sample()
    counts = counts.assign(births=-counts["births"])
    none = _funnel_results(counts, ["crude_birth_rate"], period="2023", units=units)
    assert none == {}
    with pytest.raises(ValueError, match="negative values"):
        _funnel_outliers(counts, "crude_birth_rate", period="2023", units=units,
                         confidence=(0.95, 0.998), adjust=False, trim=0.1, results=none)


def test_funnel_outliers_takes_no_rows_from_outside():
    # the careless passes: rows of another period, or lacking a unit, passed as results= were
    # used; then a guard by identity missed counts changed in place and broke copying. Rows
    # shared between funnels are check_all's own business: the public function takes none.
    import inspect

    from fpanalysis.quality import outliers

    assert "results" not in inspect.signature(funnel_outliers).parameters
    assert not hasattr(outliers, "funnel_results") and not hasattr(outliers, "FunnelResults")
