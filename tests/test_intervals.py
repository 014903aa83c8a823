"""Confidence intervals and funnel limits against independent references.

Sources of expected values:
- ../shared/reference/phe/*.csv: PHEindicatormethods 2.1.0's own test-suite values (read in
  place; skipped where ../shared is absent), with the tolerances its README states.
- statsmodels.stats.proportion.proportion_confint and scipy.stats.binomtest: computed in the
  test run.
- tests/reference/exact_tails.py: high-precision binomial and Poisson tails (mpmath start
  term + exact term ratios) for exact limits at n up to 10^10.
- mpmath findroot on the regularized incomplete beta at 30 digits, for moderate n.
"""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special, stats
from statsmodels.stats.proportion import proportion_confint as sm_confint

from fpanalysis import intervals as iv
from tests.conftest import phe_file
from tests.reference import exact_tails as ref

METHODS = ["wilson", "clopper_pearson", "jeffreys"]


def rel_close(got, want, rtol, atol=0.0):
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    assert np.array_equal(np.isnan(got), np.isnan(want)), (got, want)
    ok = ~np.isnan(want)
    np.testing.assert_allclose(got[ok], want[ok], rtol=rtol, atol=atol)


# --------------------------------------------------------------------------- PHE: proportions


def test_phe_wilson_proportions():
    """phe_proportion.csv: Wilson limits, tolerance rel 1e-9 (README). Rows at confidence
    1.0 are left out: fpanalysis accepts confidence only in the open interval (0, 1)."""
    data = pd.read_csv(phe_file("phe_proportion.csv"))
    data = data[data["confidence"] < 1]
    assert len(data) >= 50
    for (conf, mult), g in data.groupby(["confidence", "multiplier"]):
        lo, hi = iv.proportion_confint(g["numerator"], g["denominator"], confidence=conf,
                                        method="wilson")
        rel_close(lo * mult, g["lowercl"], 1e-9)
        rel_close(hi * mult, g["uppercl"], 1e-9)


def test_confidence_one_is_rejected_not_guessed():
    with pytest.raises(ValueError, match=r"^confidence must be between 0 and 1 \(exclusive\), "
                                         r"got 1.0$"):
        iv.proportion_confint(1, 10, confidence=1.0)
    with pytest.raises(ValueError, match="got 95$"):
        iv.poisson_confint(3, confidence=95)


# --------------------------------------------------------------------------- PHE: rates


def test_phe_rates_and_method_labels():
    """phe_rate.csv: exact below 10 events, Byar's from 10 (rel 1e-9), through compute() with
    a user-registered ratio indicator, including the method label of each row."""
    from fpanalysis import indicators

    data = pd.read_csv(phe_file("phe_rate.csv"))
    rates = data[data["function"].str.startswith("phe_rate")].reset_index(drop=True)
    spec = indicators.ratio("rate", "x", "n", multiplier=1.0, method="phe")
    labels = {"Exact": "poisson_exact", "Byars": "poisson_byar"}
    for (conf, mult), g in rates.groupby(["confidence", "multiplier"]):
        counts = pd.DataFrame({"unit": np.arange(len(g)).astype(str),
                               "period": pd.Period("2024", "Y"),
                               "x": g["numerator"].to_numpy(), "n": g["denominator"].to_numpy()})
        r = indicators.compute(counts, [spec], confidence=conf,
                               methods={"rate": "phe"}).sort_values("unit", key=lambda s:
                                                                    s.astype(int))
        rel_close(r["value"] * mult, g["value"], 1e-9)
        rel_close(r["lower"] * mult, g["lowercl"], 1e-9)
        rel_close(r["upper"] * mult, g["uppercl"], 1e-9)
        known = g["method"].notna().to_numpy()
        assert list(r["method"][known]) == [labels[m] for m in g["method"][known]]


def test_phe_byar_on_counts():
    data = pd.read_csv(phe_file("phe_rate.csv"))
    byar = data[data["function"].str.startswith("byars")]
    for conf, g in byar.groupby("confidence"):
        lo, hi = iv.byar_confint(g["numerator"], confidence=conf)
        rel_close(lo, g["lowercl"], 1e-9)  # x = 1 at 99.8 %: NaN, the cube is negative
        rel_close(hi, g["uppercl"], 1e-9)
    assert byar["lowercl"].isna().sum() == 1


# --------------------------------------------------------------------------- PHE: funnels


def _limits(case: str) -> pd.DataFrame:
    table = pd.read_csv(phe_file("phe_funnel_limits.csv"))
    return table[table["case"] == case].reset_index(drop=True)


@pytest.mark.parametrize("case", ["proportion_all_inputs", "proportion_denominator_lt_31000"])
def test_phe_funnel_limits_proportion(case):
    """Tolerance x exact; values rel 5e-7 + abs 1e-6 (README)."""
    inp = pd.read_csv(phe_file("phe_funnel_prop_inputs.csv"))
    if case.endswith("lt_31000"):
        inp = inp[inp["denominator"] < 31000]
    want = _limits(case)
    av = inp["numerator"].sum() / inp["denominator"].sum()
    x = iv.funnel_axis(inp["denominator"], kind="proportion")
    np.testing.assert_array_equal(x, want["x"])
    for conf, tag in ((0.95, "2s"), (0.998, "3s")):
        lo, hi = iv.funnel_limits_proportion(x, av, confidence=conf, method="phe")
        rel_close(lo * 100, want[f"lower_{tag}_limit"], 5e-7, 1e-6)
        rel_close(hi * 100, want[f"upper_{tag}_limit"], 5e-7, 1e-6)
    rel_close(np.full(len(x), av * 100), want["baseline"], 5e-7, 1e-6)


@pytest.mark.parametrize("ratio_type", ["count", "isr"])
def test_phe_funnel_limits_ratio(ratio_type):
    inp = pd.read_csv(phe_file("phe_funnel_ratio_inputs.csv"))
    want = _limits(f"ratio_{ratio_type}")
    x = iv.funnel_axis(inp["expected"], kind="ratio")
    np.testing.assert_array_equal(x, want["x"])
    for p, tag in ((0.025, "2s"), (0.001, "3s")):
        low_exp = iv.poisson_funnel_bisection(x, p, "high")
        high_exp = iv.poisson_funnel_bisection(x, p, "low")
        rel_close(low_exp, want[f"lower_{tag}_aux"], 5e-7, 1e-6)
        rel_close(high_exp, want[f"upper_{tag}_aux"], 5e-7, 1e-6)
        lo, hi = x / low_exp, x / high_exp
        if ratio_type == "count":
            lo, hi = lo - 1, hi - 1
        else:
            lo, hi = lo * 100, hi * 100
        rel_close(lo, want[f"lower_{tag}_limit"], 5e-7, 1e-6)
        rel_close(hi, want[f"upper_{tag}_limit"], 5e-7, 1e-6)


@pytest.mark.parametrize("case", ["rate_dsr_per100000_3yrs", "rate_crude_per100000_3yrs_lt10",
                                  "rate_crude_per100000_3yrs_zero_with_denominator"])
def test_phe_funnel_limits_rate(case):
    inp = pd.read_csv(phe_file("phe_funnel_rate_limit_inputs.csv"))
    inp = inp[inp["case"] == case]
    want = _limits(case)
    m, years = 1e5, 3
    with np.errstate(all="ignore"):
        den = m * inp["ev"] / inp["rate"]
    den = np.where(inp["ev"] == 0, inp["pop"], den)  # NaN for dsr, the denominator if given
    av = inp["ev"].sum() / np.nansum(den)
    x = iv.funnel_axis(den, kind="rate", years=years, average=av)
    np.testing.assert_array_equal(x, want["x"])
    for p, tag in ((0.025, "2s"), (0.001, "3s")):
        pop_lo = iv.poisson_funnel_bisection(x, p, "high") / av
        pop_hi = iv.poisson_funnel_bisection(x, p, "low") / av
        rel_close(pop_lo / years, want[f"lower_{tag}_aux"], 5e-7, 1e-6)
        rel_close(pop_hi / years, want[f"upper_{tag}_aux"], 5e-7, 1e-6)
        rel_close(x / pop_lo * m, want[f"lower_{tag}_limit"], 5e-7, 1e-6)
        rel_close(x / pop_hi * m, want[f"upper_{tag}_limit"], 5e-7, 1e-6)
    rel_close(np.full(len(x), av * m), want["baseline"], 5e-7, 1e-6)


def test_phe_funnel_significance_proportion_and_ratio():
    prop = pd.read_csv(phe_file("phe_funnel_prop_inputs.csv"))
    got = iv.funnel_significance_proportion(prop["numerator"], prop["denominator"])
    assert list(got) == list(prop["significance"])
    ratio = pd.read_csv(phe_file("phe_funnel_ratio_inputs.csv"))
    assert list(iv.funnel_significance_ratio(ratio["obs"], ratio["expected"])) == \
        list(ratio["significance"])


@pytest.mark.parametrize("kind", ["dsr", "crude"])
@pytest.mark.parametrize("multiplier", [100000, 100])
@pytest.mark.parametrize("zeros", ["with", "without"])
def test_phe_funnel_significance_rate(kind, multiplier, zeros):
    data = pd.read_csv(phe_file("phe_funnel_rate_significance_inputs.csv"))
    column = f"{kind}_per_{multiplier}_{zeros}_0"
    if zeros == "without":
        data = data[data["count"] > 0]
    rate = data["rate_dsr"] if kind == "dsr" else data[f"rate_crude_per_{multiplier}"]
    with np.errstate(all="ignore"):
        den = multiplier * data["count"] / rate
    if kind == "crude":  # the crude tests pass the population as denominator
        den = np.where(data["count"] == 0, data["pop"], den)
    else:
        den = np.where(data["count"] == 0, np.nan, den)
    got = iv.funnel_significance_rate(data["count"], den, dsr=kind == "dsr")
    assert list(got) == list(data[column])


# --------------------------------------------------------------------------- exact accuracy

HUGE = [(x, n) for n in (1e6, 7.6e9, 1e10)
        for x in (1, 2, 10, 1000, 123457, np.floor(n / 3), n - 1000, n - 1)]


def _check_lower(x: float, n: float, lower: float, eps: float = 1e-9) -> None:
    """The root of P(X >= x | p) = 0.025 lies within rel eps of ``lower``."""
    assert ref.binom_upper_tail(x, n, lower * (1 - eps)) < 0.025
    if lower * (1 + eps) < 1:  # else [lower, 1) is already within rel eps
        assert 0.025 < ref.binom_upper_tail(x, n, lower * (1 + eps))


@pytest.mark.parametrize(("x", "n"), HUGE)
def test_clopper_pearson_right_to_1e9_at_huge_n(x, n):
    """The true limits lie within rel 1e-9 of ours, judged by high-precision tails. The upper
    limit is the complement of the lower limit for n - x (checked to 1e-15 absolute), so
    both ends are held to the same standard, also near 0 and 1."""
    lo, hi = iv.proportion_confint(x, n, confidence=0.95, method="clopper_pearson")
    _check_lower(x, n, float(lo))
    lo_c, _ = iv.proportion_confint(n - x, n, confidence=0.95, method="clopper_pearson")
    _check_lower(n - x, n, float(lo_c))
    assert hi == pytest.approx(1 - lo_c, rel=1e-9, abs=1e-15)


def test_betaincinv_alone_is_off_where_ours_is_right():
    """Why the solver polishes: at x = 1000, n = 7.6e9 scipy's betaincinv (and so
    statsmodels' 'beta' method) returns about twice the true lower limit."""
    x, n = 1000, 7.6e9
    naive = special.betaincinv(x, n - x + 1, 0.025)
    ours, _ = iv.proportion_confint(x, n, method="clopper_pearson")
    assert abs(naive / ours - 1) > 0.5
    assert ref.binom_upper_tail(x, n, float(ours)) == pytest.approx(0.025, rel=1e-6)


@pytest.mark.parametrize("x", [0, 1, 2, 10, 1000, 1e5, 1e8, 1e10])
def test_exact_poisson_right_to_1e9_at_huge_counts(x):
    lo, hi = iv.poisson_confint(x, confidence=0.95)
    if x > 0:
        assert ref.poisson_upper_tail(x, lo * (1 - 1e-9)) < 0.025 < \
            ref.poisson_upper_tail(x, lo * (1 + 1e-9))
    else:
        assert lo == 0
    assert ref.poisson_lower_tail(x, hi * (1 + 1e-9)) < 0.025 < \
        ref.poisson_lower_tail(x, hi * (1 - 1e-9))


@pytest.mark.parametrize(("x", "n"), [(1, 7), (3, 40), (17, 213), (500, 1000), (999, 1000)])
@pytest.mark.parametrize("method", ["clopper_pearson", "jeffreys"])
def test_beta_limits_against_mpmath(x, n, method):
    a_lo, b_lo, a_hi, b_hi = ((x, n - x + 1, x + 1, n - x) if method == "clopper_pearson"
                              else (x + .5, n - x + .5, x + .5, n - x + .5))
    mp.mp.dps = 30

    def root(a, b, q):
        start = special.betaincinv(a, b, q)
        bracket = (mp.mpf(start) * (1 - mp.mpf(1e-6)), min(mp.mpf(start) * (1 + mp.mpf(1e-6)), 1))
        return float(mp.findroot(lambda p: mp.betainc(a, b, 0, p, regularized=True) - q,
                                 bracket, solver="anderson"))

    lo, hi = iv.proportion_confint(x, n, confidence=0.9, method=method)
    assert lo == pytest.approx(root(a_lo, b_lo, 0.05), rel=1e-12)
    assert hi == pytest.approx(root(a_hi, b_hi, 0.95), rel=1e-12)


# --------------------------------------------------------------------------- peers in the run

GRID = [(x, n) for n in (1, 2, 5, 10, 37, 100, 1000, 10**6, 10**9)
        for x in sorted({0, 1, n - 1, n, n // 2, n // 7})]


@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.998])
def test_wilson_matches_statsmodels(confidence):
    x, n = np.array(GRID, dtype=float).T
    lo, hi = iv.proportion_confint(x, n, confidence=confidence, method="wilson")
    slo, shi = sm_confint(x, n, alpha=1 - confidence, method="wilson")
    np.testing.assert_allclose(lo, slo, rtol=0, atol=1e-12)
    np.testing.assert_allclose(hi, shi, rtol=0, atol=1e-12)


@pytest.mark.parametrize("confidence", [0.9, 0.95])
def test_clopper_pearson_and_jeffreys_match_statsmodels_at_moderate_n(confidence):
    """statsmodels' Jeffreys interval does not set the lower limit to 0 at x = 0 and the upper
    to 1 at x = n (Brown, Cai & DasGupta 2001, section 4.1.2, do); those ends are compared
    with the convention instead."""
    x, n = np.array([g for g in GRID if g[1] <= 1000], dtype=float).T
    for ours, theirs in (("clopper_pearson", "beta"), ("jeffreys", "jeffreys")):
        lo, hi = iv.proportion_confint(x, n, confidence=confidence, method=ours)
        slo, shi = sm_confint(x, n, alpha=1 - confidence, method=theirs)
        slo, shi = np.where(x == 0, 0.0, slo), np.where(x == n, 1.0, shi)
        np.testing.assert_allclose(lo, slo, rtol=1e-10, atol=1e-15)
        np.testing.assert_allclose(hi, shi, rtol=1e-10, atol=1e-15)


def test_sex_ratio_interval_and_test_match_scipy():
    rng = np.random.default_rng(5)
    m, f = rng.integers(0, 400, 300), rng.integers(1, 400, 300)
    lo, hi = iv.sex_ratio_confint(m, f)
    pv = iv.sex_ratio_test(m, f, reference=105)
    for k in range(0, 300, 7):
        res = stats.binomtest(int(m[k]), int(m[k] + f[k]), 105 / 205)
        ci = res.proportion_ci(method="exact")
        assert lo[k] == pytest.approx(100 * ci.low / (1 - ci.low), rel=1e-10, abs=1e-12)
        assert hi[k] == pytest.approx(100 * ci.high / (1 - ci.high), rel=1e-10)
        assert pv[k] == pytest.approx(res.pvalue, rel=1e-10)
    wlo, whi = iv.sex_ratio_confint(m, f, method="wilson")
    slo, shi = sm_confint(m, m + f, method="wilson")
    np.testing.assert_allclose(wlo, 100 * slo / (1 - slo), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(whi, 100 * shi / (1 - shi), rtol=1e-10, atol=1e-12)


def test_sex_ratio_edge_cases():
    lo, hi = iv.sex_ratio_confint([0, 5, 0], [0, 0, 5])
    assert np.isnan(lo[0]) and np.isnan(hi[0])  # no births
    # boys but no girls: the upper end is open, the lower limit is finite. Clopper-Pearson
    # lower limit of p at 5 of 5 is 0.025^(1/5) = 0.478176 (scipy below), ratio 100 p/(1-p)
    p = stats.beta.ppf(0.025, 5, 1)
    assert hi[1] == np.inf and lo[1] == pytest.approx(100 * p / (1 - p), rel=1e-12)
    assert lo[1] == pytest.approx(91.6356, abs=1e-4)
    assert lo[2] == 0 and hi[2] > 0
    assert np.isnan(iv.sex_ratio_test([0], [0])[0])


# --------------------------------------------------------------------------- edge cases


@pytest.mark.parametrize("method", METHODS)
def test_proportion_edge_cases(method):
    lo, hi = iv.proportion_confint([0, 7, 7, 3, 1e8, np.nan], [7, 7, 0, 2, 3e8, 5],
                                   method=method)
    assert lo[0] == 0 and 0 < hi[0] < 1
    assert 0 < lo[1] < 1 and hi[1] == 1
    assert np.isnan(lo[2:4]).all() and np.isnan(hi[2:4]).all()  # n = 0; x > n
    assert lo[4] < 1 / 3 < hi[4] and hi[4] - lo[4] < 1e-3
    assert np.isnan(lo[5]) and np.isnan(hi[5])


@pytest.mark.parametrize("method", ["exact", "byar", "phe"])
def test_poisson_edge_cases(method):
    lo, hi = iv.poisson_confint([0, 1e8, -1, np.nan], method=method, confidence=0.9)
    z = special.ndtri(0.95)
    zero_upper = (1 - 1 / 9 + z / 3) ** 3 if method == "byar" else -np.log(0.05)
    assert lo[0] == 0 and hi[0] == pytest.approx(zero_upper, rel=1e-12)
    assert lo[1] < 1e8 < hi[1]
    assert np.isnan(lo[2:]).all() and np.isnan(hi[2:]).all()


def test_bad_method_is_named():
    with pytest.raises(ValueError, match="method must be one of wilson, wilson_modified, "
                                         "clopper_pearson, jeffreys, got 'exact'"):
        iv.proportion_confint(1, 2, method="exact")


@settings(max_examples=200, deadline=None)
@given(n=st.integers(1, 10**9), frac=st.floats(0, 1),
       confidence=st.floats(0.5, 0.999), method=st.sampled_from(METHODS))
def test_proportion_interval_contains_estimate(n, frac, confidence, method):
    x = np.floor(frac * n)
    lo, hi = iv.proportion_confint(x, n, confidence=confidence, method=method)
    assert 0 <= lo <= x / n <= hi <= 1


@settings(max_examples=200, deadline=None)
@given(x=st.integers(0, 10**10), confidence=st.floats(0.5, 0.999),
       method=st.sampled_from(["exact", "byar", "phe"]))
def test_poisson_interval_contains_estimate(x, confidence, method):
    lo, hi = iv.poisson_confint(x, confidence=confidence, method=method)
    assert x <= hi
    # Byar's lower limit is NaN only where its cube is negative (as PHEindicatormethods
    # leaves it); exact limits, and the PHE rule (exact below 10 events), are never NaN
    z = special.ndtri((1 + confidence) / 2)
    if method == "byar" and x > 0 and 1 - 1 / (9 * x) - z / (3 * np.sqrt(x)) < 0:
        assert np.isnan(lo)
    else:
        assert 0 <= lo <= x


@pytest.mark.parametrize(("n", "p"), [(50, 0.3), (200, 0.1), (200, 0.5), (1000, 0.9)])
def test_wilson_coverage_is_near_nominal(n, p):
    """Simulated coverage of the 95 % Wilson interval lies in [0.93, 0.97] (seeded)."""
    rng = np.random.default_rng(20241)
    x = rng.binomial(n, p, 40_000)
    lo, hi = iv.proportion_confint(x, n, method="wilson")
    coverage = np.mean((lo <= p) & (p <= hi))
    assert 0.93 <= coverage <= 0.97


def test_rate_difference_and_tfr():
    lo, hi = iv.poisson_difference_confint([30], [10], [1000.0], method="normal")
    z = special.ndtri(0.975)
    # (30 - 10) / 1000 -/+ z sqrt(30 + 10) / 1000, both sides
    assert lo[0] == pytest.approx(0.02 - z * np.sqrt(40) / 1000, rel=1e-14)
    assert hi[0] == pytest.approx(0.02 + z * np.sqrt(40) / 1000, rel=1e-14)
    b = np.array([[2.0], [10.0]])
    w = np.array([[100.0], [200.0]])
    tfr, tlo, thi = iv.tfr_confint(b, w, method="delta")
    assert tfr[0] == pytest.approx(5 * (2 / 100 + 10 / 200), rel=1e-14)
    assert thi[0] - tfr[0] == pytest.approx(z * 5 * np.sqrt(2 / 100**2 + 10 / 200**2))


def test_exact_funnel_limits_bracket_the_target():
    n = np.array([10, 100, 1000, 10**5])
    lo, hi = iv.funnel_limits_proportion(n, 105 / 205, confidence=0.998)
    assert (lo < 105 / 205).all() and (hi > 105 / 205).all()
    assert np.all(np.diff(hi - lo) < 0)  # the funnel narrows
    # at n = 1e5 the exact and normal-approximation limits agree closely
    approx = 105 / 205 + special.ndtri(0.999) * np.sqrt(105 / 205 * 100 / 205 / 1e5)
    assert hi[-1] == pytest.approx(approx, rel=1e-3)
    plo, phi = iv.funnel_limits_poisson([1000, 1e6], 0.01)
    assert plo[1] < 0.01 < phi[1] and plo[0] < plo[1]


# --------------------------------------------------------------------------- issue 13 methods


def test_modified_wilson_against_poisson_limits():
    """Brown, Cai and DasGupta (2001) 4.1.1: one-sided Poisson limit λ/n with
    P(Poisson(λ) >= x) = α for 1 <= x <= x* (x* = 2 for n <= 50, 3 above); the mirror image
    for the upper limit. λ from scipy.stats.poisson by root finding (independent of the
    gammaincinv used by the code); elsewhere the plain Wilson limits of statsmodels."""
    from scipy.optimize import brentq

    def lam(k):  # P(X >= k | λ) = 0.05
        return brentq(lambda m: stats.poisson.sf(k - 1, m) - 0.05, 1e-9, 50, xtol=1e-14)

    x = np.array([1, 2, 3, 1, 3, 4, 48, 49, 97, 98, 10])
    n = np.array([50, 50, 50, 100, 100, 100, 50, 50, 100, 100, 500])
    lo, hi = iv.proportion_confint(x, n, method="wilson_modified")
    slo, shi = sm_confint(x, n, alpha=0.05, method="wilson")
    few = np.where(n <= 50, 2, 3)
    for i in range(len(x)):
        want_lo = lam(x[i]) / n[i] if x[i] <= few[i] else slo[i]
        want_hi = 1 - lam(n[i] - x[i]) / n[i] if n[i] - x[i] <= few[i] else shi[i]
        assert lo[i] == pytest.approx(want_lo, rel=1e-9), i
        assert hi[i] == pytest.approx(want_hi, rel=1e-9), i
    # 49 of 50: 1 - λ(1)/50 with λ(1) = -log(0.95) = 0.051293 by hand
    assert hi[7] == pytest.approx(1 + np.log(0.95) / 50, rel=1e-12)


def test_mover_jeffreys_difference():
    """Zou and Donner (2008) MOVER with Jeffreys limits: quantiles of Gamma(x + 1/2) from
    scipy.stats.gamma (the code uses special.gammaincinv)."""
    x1, x2, e = 30.0, 10.0, 1000.0
    g = stats.gamma
    l1, u1 = g.ppf(0.025, x1 + 0.5), g.ppf(0.975, x1 + 0.5)
    l2, u2 = g.ppf(0.025, x2 + 0.5), g.ppf(0.975, x2 + 0.5)
    lo, hi = iv.poisson_difference_confint([x1], [x2], [e])
    assert lo[0] == pytest.approx((20 - np.hypot(x1 - l1, u2 - x2)) / e, rel=1e-10)
    assert hi[0] == pytest.approx((20 + np.hypot(u1 - x1, x2 - l2)) / e, rel=1e-10)
    assert np.isnan(iv.poisson_difference_confint([1], [1], [0.0])[0][0])


def test_tfr_gamma_and_tiwari():
    """Fay and Feuer (1997): y = Σ w B, v = Σ w² B, w_M = max w;
    lower = v/(2y) χ²(2y²/v, α/2), upper = (v + w_M²)/(2(y + w_M)) χ²(2(y+w_M)²/(v+w_M²),
    1 - α/2), chi-square quantiles from scipy.stats.chi2. Tiwari: mean weight for w_M."""
    b = np.array([[2.0, 0.0], [10.0, 0.0]])
    w = np.array([[100.0, 50.0], [200.0, 80.0]])
    wt = 5 / w[:, 0]  # 0.05, 0.025
    y, v = (wt * b[:, 0]).sum(), (wt * wt * b[:, 0]).sum()  # 0.35, 0.01125
    chi2 = stats.chi2.ppf
    for method, wm in (("gamma", wt.max()), ("tiwari", wt.mean())):
        tfr, lo, hi = iv.tfr_confint(b, w, method=method)
        assert tfr[0] == pytest.approx(0.35, rel=1e-14)
        assert lo[0] == pytest.approx(v / (2 * y) * chi2(0.025, 2 * y * y / v), rel=1e-10)
        assert hi[0] == pytest.approx((v + wm**2) / (2 * (y + wm))
                                      * chi2(0.975, 2 * (y + wm) ** 2 / (v + wm**2)),
                                      rel=1e-10)
        # no births at all: lower 0, upper the exact Poisson upper limit of one event at
        # weight w_M: w_M Γ⁻¹(1, 0.975) = -w_M log(0.025)
        wm0 = (5 / w[:, 1]).max() if method == "gamma" else (5 / w[:, 1]).mean()
        assert tfr[1] == 0 and lo[1] == 0
        assert hi[1] == pytest.approx(-wm0 * np.log(0.025), rel=1e-10)
    with pytest.raises(ValueError, match="method must be one of gamma, tiwari, delta, got"):
        iv.tfr_confint(b, w, method="exact")
