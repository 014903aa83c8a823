"""Rank confidence sets: hand-computed examples, refusals, and coverage from known truth.

Coverage is measured on simulated counties: the true rates are fixed, births are Poisson
draws for all replicate counties at once (fixed seed), and a set covers when the true rank
(1 = best, ties share the better rank) lies in it. With R = 1000 counties the Monte Carlo
standard error of a coverage near 0.95 is sqrt(0.95 x 0.05 / 1000) = 0.0069, and near 0.99
it is 0.0031.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from fpanalysis import ranks, targets
from tests.test_targets import _equal_units, compliance, scheme_of

Z975 = stats.norm.ppf(0.975)


# --------------------------------------------------------------------------- by hand


def test_four_units_from_their_intervals_by_hand():
    """95 % intervals -> se = (upper - lower) / (2 x 1.95996):
    a 50 [46.08, 53.92] se 2; b 44 [40.08, 47.92] se 2; c 40 [38.04, 41.96] se 1;
    d 30 [28.04, 31.96] se 1. K = 4, alpha = 0.05.
    Marginal: c = z(1 - 0.05 / 6) = 2.394; joint: c = z(1 - 0.05 / 12) = 2.638.
    Pair SDs: a-b sqrt(8) = 2.828 (margins 6.77 / 7.46); a-c, a-d, b-c, b-d sqrt(5) = 2.236
    (5.35 / 5.90); c-d sqrt(2) = 1.414 (3.39 / 3.73).
    Differences: a-b 6 (< 6.77: unsure), a-c 10, a-d 20, b-d 14, c-d 10 (all sure),
    b-c 4 (< 5.35: unsure).
    a: none surely better, c and d surely worse -> 1-2.  b: none better, d worse -> 1-3.
    c: a better, d worse -> 2-3.  d: all three better -> 4-4.  Joint: same pairs are sure
    (6 < 7.46, 4 < 5.90, 10 > 5.90, 10 > 3.73), so the same sets."""
    w = Z975
    est = pd.DataFrame({"unit": ["d", "c", "b", "a"], "value": [30.0, 40.0, 44.0, 50.0],
                        "lower": [30 - w, 40 - w, 44 - 2 * w, 50 - 2 * w],
                        "upper": [30 + w, 40 + w, 44 + 2 * w, 50 + 2 * w]})
    got = ranks.rank_sets(est, lower="lower", upper="upper")
    assert got["unit"].tolist() == ["a", "b", "c", "d"]
    assert got["rank"].tolist() == [1, 2, 3, 4]
    assert got["rank_set_lower"].tolist() == [1, 1, 2, 4]
    assert got["rank_set_upper"].tolist() == [2, 3, 3, 4]
    assert got["joint_rank_set_lower"].tolist() == [1, 1, 2, 4]
    assert got["joint_rank_set_upper"].tolist() == [2, 3, 3, 4]
    assert got["se"].round(12).tolist() == [2.0, 2.0, 1.0, 1.0]
    assert got.attrs["level"] == 0.95


def test_the_joint_set_is_wider_where_a_difference_falls_between_the_margins():
    """Three units, se 1 each, pair SD sqrt(2): marginal margin z(1 - 0.05/4) sqrt(2) =
    2.2414 x 1.4142 = 3.170, joint margin z(1 - 0.05/6) sqrt(2) = 2.3940 x 1.4142 = 3.386.
    a - b = 3.3 lies between: sure for the marginal sets, not for the joint one.
    b - c = 0.5 is never sure; a - c = 3.8 is sure for both.
    Marginal: a 1-1, b 2-3, c 2-3. Joint: a 1-2 (b not surely worse), b 1-3, c 2-3."""
    s = ranks.confidence_sets(np.array([10.0, 6.7, 6.2]), se=np.ones(3))
    assert s["rank_set_lower"].tolist() == [1, 2, 2]
    assert s["rank_set_upper"].tolist() == [1, 3, 3]
    assert s["joint_rank_set_lower"].tolist() == [1, 1, 2]
    assert s["joint_rank_set_upper"].tolist() == [2, 3, 3]


def test_lower_is_better_reverses_the_sets():
    """The same three values ranked with the lowest first: c (6.2) and b (6.7) are unsure
    of each other, both surely better than a (10): b, c 1-2 and a 3-3 (marginal)."""
    s = ranks.confidence_sets(np.array([10.0, 6.7, 6.2]), se=np.ones(3),
                              higher_is_better=False)
    assert s["rank"].tolist() == [3, 2, 1]
    assert s["rank_set_lower"].tolist() == [3, 1, 1]
    assert s["rank_set_upper"].tolist() == [3, 2, 2]


def test_exact_values_give_exact_ranks_and_ties_share_a_set():
    """se = 0: every distinct pair is sure; the two 5s are never sure of each other, so
    both get 2-3 (their true rank, 2 with ties sharing the better rank, is inside)."""
    s = ranks.confidence_sets(np.array([9.0, 5.0, 5.0, 1.0]), se=np.zeros(4))
    assert s["rank"].tolist() == [1, 2, 2, 4]
    assert s["rank_set_lower"].tolist() == [1, 2, 2, 4]
    assert s["rank_set_upper"].tolist() == [1, 3, 3, 4]


def test_also_centre_widens_each_difference_to_both_centres():
    """Two units, difference SD 1: margin z(1 - 0.05/2) = 1.96. Observed difference 3
    alone is sure (3 - 1.96 > 0); with a second centre of difference 0.5 the interval is
    [0.5 - 1.96, 3 + 1.96], not sure: both 1-2."""
    sd = np.array([[0.0, 1.0], [1.0, 0.0]])
    alone = ranks.confidence_sets(np.array([3.0, 0.0]), difference_sd=sd)
    both = ranks.confidence_sets(np.array([3.0, 0.0]), difference_sd=sd,
                                 also_centre=np.array([0.5, 0.0]))
    assert alone["rank_set_upper"].tolist() == [1, 2] and alone["rank_set_lower"].tolist() \
        == [1, 2]
    assert both["rank_set_lower"].tolist() == [1, 1] and both["rank_set_upper"].tolist() \
        == [2, 2]


def test_draw_difference_sd_against_the_sd_of_each_difference():
    """Reference: numpy's std (ddof 1) of S_k - S_j, pair by pair."""
    draws = np.random.default_rng(4).normal(size=(500, 5)) @ np.diag([1, 2, 3, 4, 5.0])
    draws[:, 4] += draws[:, 0]  # correlated units
    got = ranks.draw_difference_sd(draws)
    for k in range(5):
        for j in range(5):
            assert got[k, j] == pytest.approx(np.std(draws[:, k] - draws[:, j], ddof=1),
                                              abs=1e-9)


def test_rank_sets_refusals():
    est = pd.DataFrame({"unit": ["a", "b", "a"], "value": [1.0, 2.0, 3.0], "se": 1.0})
    with pytest.raises(ValueError, match=r"rank_sets needs one row per unit; repeated: "
                                         r"\['a'\]"):
        ranks.rank_sets(est, se="se")
    with pytest.raises(ValueError, match="rank_sets needs either se or both lower and upper"):
        ranks.rank_sets(est, se="se", lower="se")
    with pytest.raises(ValueError, match=r"rank_sets needs columns \['sd'\]"):
        ranks.rank_sets(est.iloc[:2], se="sd")
    gap = pd.DataFrame({"unit": ["a", "b"], "value": [1.0, None], "se": [1.0, " "]})
    with pytest.raises(ValueError, match=r"rank_sets needs a finite value and standard error "
                                         r"for every unit; missing for \['b'\]"):
        ranks.rank_sets(gap, se="se")
    with pytest.raises(ValueError, match="standard errors must not be negative"):
        ranks.confidence_sets(np.array([1.0, 2.0]), se=np.array([1.0, -1.0]))
    with pytest.raises(ValueError, match="level must be between 0 and 1"):
        ranks.confidence_sets(np.array([1.0, 2.0]), se=np.ones(2), level=95)


def test_one_unit_and_no_unit():
    one = ranks.rank_sets(pd.DataFrame({"unit": ["a"], "value": [1.0], "se": [1.0]}), se="se")
    assert one[["rank", "rank_set_lower", "rank_set_upper"]].iloc[0].tolist() == [1, 1, 1]
    none = ranks.rank_sets(pd.DataFrame({"unit": [], "value": [], "se": []}), se="se")
    assert none.empty and "joint_rank_set_upper" in none


# --------------------------------------------------------------------------- coverage

# 18 townships: populations and true birth rates (per 1000 a year). Near-ties on purpose:
# 10.0 / 10.0 (exact tie), 10.1, 10.2, 10.3, 10.4 within 0.4 per mille.
POP = np.array([3000, 3500, 4000, 5000, 6000, 8000, 10000, 12000, 15000, 18000, 20000,
                25000, 30000, 35000, 40000, 45000, 50000, 60000.0])
RATE = np.array([14.0, 9.0, 11.0, 10.0, 10.0, 12.5, 9.5, 10.2, 10.4, 8.0, 10.3, 11.5, 9.8,
                 10.6, 9.9, 12.0, 10.1, 8.6])
# A county whose rates are spread (5.5 to 22.5 per mille, steps of 1) but for two near-tied
# pairs, so that the sets are narrow and a set that is too narrow shows.
SPREAD = np.array([5.5, 6.5, 7.5, 8.5, 9.5, 10.5, 11.5, 12.5, 12.7, 13.5, 14.5, 15.5, 16.5,
                   17.5, 18.5, 18.6, 20.5, 22.5])
R = 1000


def _true_rank(rate: np.ndarray) -> np.ndarray:
    return 1 + (rate[None, :] > rate[:, None]).sum(axis=1)  # higher first, ties share


def _coverage(lo: np.ndarray, hi: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, float]:
    inside = (lo <= truth) & (truth <= hi)
    return inside.mean(axis=0), float(inside.all(axis=1).mean())


def _county(rate: np.ndarray, years: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    exposure = POP * years / 1000  # thousand person-years
    x = np.random.default_rng(seed).poisson(rate * exposure, size=(R, len(rate)))
    return x, exposure


def _exact_se(x: np.ndarray, exposure: np.ndarray) -> np.ndarray:
    """SE from the exact (Garwood) Poisson interval, as rank_sets converts an interval:
    (upper - lower) / (2 z); chi-square quantiles from scipy."""
    lo = np.where(x > 0, stats.chi2.ppf(0.025, 2 * np.maximum(x, 1)) / 2, 0.0)
    hi = stats.chi2.ppf(0.975, 2 * x + 2) / 2
    return (hi - lo) / (2 * Z975) / exposure


@pytest.mark.parametrize(("rate", "years", "seed", "narrow"), [
    (RATE, 0.25, 1, False),  # a quarter: 8-135 expected births per township
    (RATE, 1.0, 2, False),  # a year: 32-540
    (SPREAD, 1.0, 3, True),  # spread rates over a year: informative sets
])
def test_sets_from_standard_errors_cover_the_true_ranks(rate, years, seed, narrow):
    """Marginal: every unit's set holds its true rank in >= 95 % of 1000 counties;
    joint: all 18 at once in >= 95 % (MC SE <= 0.007). Measured (seed as given):
    quarter 0.995 min unit / 0.996 joint (mean set 17.7 of 18 ranks wide: the finding),
    year 0.998 / 1.000 (16.5 wide), spread 1.000 / 1.000 (7.6 wide)."""
    x, exposure = _county(rate, years, seed)
    s = ranks.confidence_sets(x / exposure, se=_exact_se(x, exposure))
    truth = _true_rank(rate)
    marginal, _ = _coverage(s["rank_set_lower"], s["rank_set_upper"], truth)
    _, joint = _coverage(s["joint_rank_set_lower"], s["joint_rank_set_upper"], truth)
    assert marginal.min() >= 0.95, marginal
    assert joint >= 0.95
    if narrow:  # the check has teeth: the sets are far from 1-18
        width = (s["rank_set_upper"] - s["rank_set_lower"] + 1).mean()
        assert width < 8, width


def test_sets_from_redraws_cover_and_the_redraw_range_does_not():
    """The quarter county again, with the rank_uncertainty recipe: Gamma(x + 1/2) redraws
    of each rate (Jeffreys), difference SDs from the redraws, centred on both the observed
    and the mean redrawn rates. Sets: >= 0.95 per unit and jointly. The 2.5-97.5 % range of
    the redrawn ranks (draw_rank_*) is no confidence set. Measured with 300 redraws: sets
    0.993 min unit, 0.993 joint; redraw range 0.904 overall, 0.688 for the worst unit, all
    18 inside in 0.184 of counties (0.207 and 0.694 with 1000 redraws)."""
    rate, d = RATE, 300
    x, exposure = _county(rate, 0.25, 5)
    rng = np.random.default_rng(6)
    g = rng.standard_gamma(x[:, None, :] + 0.5, size=(R, d, 18)) / exposure
    c = g - g.mean(axis=1, keepdims=True)
    cov = np.einsum("rdk,rdj->rkj", c, c) / (d - 1)
    v = np.diagonal(cov, axis1=1, axis2=2)
    sd = np.sqrt(np.clip(v[:, :, None] + v[:, None, :] - 2 * cov, 0, None))
    s = ranks.confidence_sets(x / exposure, difference_sd=sd, also_centre=g.mean(axis=1))
    truth = _true_rank(rate)
    marginal, _ = _coverage(s["rank_set_lower"], s["rank_set_upper"], truth)
    _, joint = _coverage(s["joint_rank_set_lower"], s["joint_rank_set_upper"], truth)
    assert marginal.min() >= 0.95 and joint >= 0.95
    rk = stats.rankdata(-g, axis=2, method="min")
    lo = np.quantile(rk, 0.025, axis=1, method="lower")
    hi = np.quantile(rk, 0.975, axis=1, method="higher")
    per_unit, all_in = _coverage(lo, hi, truth)
    assert all_in < 0.5 and per_unit.min() < 0.9


# --------------------------------------------------------------------------- in the scheme


def test_rank_uncertainty_gives_sure_sets_for_units_far_apart():
    """Compliance >= 86 % for 20 points. U0: 597 of 600 compliant births (99.5 %), U1: 300
    of 600 (50 %). The redrawn counts BetaBinom(600, 597.5, 3.5) < 516 and
    BetaBinom(600, 300.5, 300.5) >= 516 have probabilities below 1e-12 (scipy.stats.betabinom),
    so the scores are 20 and 0 in every redraw: difference 20, SD 0, U0 surely first."""
    counts = _equal_units(10_000, births=100, deaths=1, compliant=199)
    counts.loc[counts["unit"] == "U1", "births_compliant"] = 100
    ru = targets.rank_uncertainty(counts, scheme_of(compliance()), period="2024Q1",
                                  draws=2_000, k=1).set_index("unit")
    cols = ["rank_set_lower", "rank_set_upper", "joint_rank_set_lower",
            "joint_rank_set_upper", "draw_rank_lower", "draw_rank_upper"]
    assert ru.loc["U0", cols].tolist() == [1, 1, 1, 1, 1, 1]
    assert ru.loc["U1", cols].tolist() == [2, 2, 2, 2, 2, 2]
    assert ru.attrs["level"] == 0.95 and "not a confidence set" in ru.attrs["method"]


def test_rank_uncertainty_sets_of_tiny_equal_units_span_the_table():
    """Eight identical townships of 300 people (as in test_targets): no pair is sure, so
    every set is 1-8, marginal and joint."""
    counts = _equal_units(300, births=1, deaths=1, compliant=2, n_units=8)
    s = scheme_of(compliance(scoring="linear", floor=50.0))
    ru = targets.rank_uncertainty(counts, s, period="2024Q1", draws=2_000, seed=11)
    assert (ru["rank_set_lower"] == 1).all() and (ru["rank_set_upper"] == 8).all()
    assert (ru["joint_rank_set_lower"] == 1).all() and (ru["joint_rank_set_upper"] == 8).all()


def test_look_alike_keys_and_infinite_values_are_refused():
    # " 101", "101" and 101 are one unit: ranking it twice would push the others down
    frame = pd.DataFrame({"unit": [" 101", "101", "102"], "value": [1.0, 2.0, 3.0], "se": 1.0})
    with pytest.raises(ValueError, match="one row per unit; repeated: \\['101'\\]"):
        ranks.rank_sets(frame, se="se")
    with pytest.raises(ValueError, match="every value must be finite"):
        ranks.confidence_sets(np.array([1.0, np.inf, 3.0]), se=np.ones(3))
    with pytest.raises(ValueError, match="standard errors must be finite"):
        ranks.confidence_sets(np.array([1.0, 2.0]), se=np.array([1.0, np.inf]))
    with pytest.raises(ValueError, match="higher_is_better must be True or False"):
        ranks.confidence_sets(np.array([1.0, 2.0]), se=np.ones(2), higher_is_better="no")
