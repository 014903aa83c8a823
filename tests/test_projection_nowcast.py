"""Year-end nowcast, its backtest and projected milestones (fpanalysis.projection.nowcast).

Expected values are computed by hand on tiny frames built here (arithmetic in comments):
the flat-profile projection X * 12 / M, the seasonal share of a profile shrunk toward flat by
120 pseudo-events, the straight-line stock; the predictive probability with no
over-dispersion and a known profile is compared with the closed form from
scipy.stats.nbinom (remaining ~ NegBin(X + 1/2, S)), which the code does not call. The
backtest test reads data/sample (18 townships, 2022-2024) and checks the issue's acceptance
line: pooled 95 % coverage in [0.85, 1.0].
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from fpanalysis import indicators
from fpanalysis.projection import nowcast as nc
from fpanalysis.schema import DataError
from fpanalysis.scheme import Scheme, Target, load_targets


def monthly(unit: str, first: str, last: str, **columns) -> pd.DataFrame:
    """Monthly rows of one unit; each column a scalar or a list over the months."""
    months = pd.period_range(first, last, freq="M")
    return pd.DataFrame({"unit": unit, "period": months, **columns})


def flat_counts(ytd: list[int], history: int = 10) -> pd.DataFrame:
    """Unit A: 2023 with ``history`` deaths every month, then 2024 with ``ytd``."""
    hist = monthly("A", "2023-01", "2023-12", deaths=history, population=1000)
    cur = monthly("A", "2024-01", f"2024-{len(ytd):02d}", deaths=ytd, population=1000)
    return pd.concat([hist, cur], ignore_index=True)


# --------------------------------------------------------------------------- arithmetic


def test_flat_profile_projects_ytd_times_12_over_m():
    # a flat history: every month 1/12 of the year (120/12 + 10 pseudo-events a month keeps
    # it flat), so S = 3/12 and expected = 30 + 30 * (12 - 3) / 3 = 120
    r = nc.project_counts(flat_counts([10, 8, 12]), year=2024, through=3, columns=["deaths"])
    row = r.iloc[0]
    assert row["observed"] == 30
    assert row["share_observed"] == pytest.approx(0.25)
    assert row["expected"] == pytest.approx(120.0)
    assert row["dispersion"] == 1.0  # history exactly on its profile: Poisson
    assert row["lower_0.95"] <= row["median"] <= row["upper_0.95"]


def test_seasonal_share_shrunk_toward_flat():
    # history: January 30, other months 10 (N = 140). County profile with 120 flat
    # pseudo-events (10 a month): s_jan = (30 + 10) / (140 + 120) = 40 / 260.
    # One unit: its Pearson X2 against that profile is 3.93 < 11, so kappa is infinite and
    # the unit takes the county profile. Through January with 15: expected 15 * 260 / 40.
    hist = monthly("A", "2023-01", "2023-12", deaths=[30] + [10] * 11)
    cur = monthly("A", "2024-01", "2024-01", deaths=[15])
    r = nc.project_counts(pd.concat([hist, cur]), year=2024, through=1, columns=["deaths"])
    assert r["share_observed"].iloc[0] == pytest.approx(40 / 260)
    assert r["expected"].iloc[0] == pytest.approx(97.5)
    assert r["profile_weight"].iloc[0] == 0.0


def test_through_accepts_labels():
    c = flat_counts([10] * 6)
    for through in (6, "2024-06", "2024Q2", "2024H1", "2024年6月"):
        r = nc.project_counts(c, year=2024, through=through, columns=["deaths"], draws=100)
        assert r["through"].iloc[0] == "2024-06"
        assert r["expected"].iloc[0] == pytest.approx(120.0)  # 60 * 12 / 6


def test_stock_continues_the_years_straight_line():
    # Jan 1000, Feb 1010: March..December 1020 .. 1110 (slope 10). 2024 has 366 days:
    # mean = sum(v_m * days_m) / 366
    days = np.array([31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    v = 1000 + 10 * np.arange(12)
    expected = (v * days).sum() / 366
    got = nc._stock_annual(np.array([[1000.0, 1010.0]]), 2024)
    assert got[0] == pytest.approx(expected)


# --------------------------------------------------------------------------- closed form


def test_probability_matches_negative_binomial_closed_form():
    # History: 10**6 a month, exactly flat, so theta = 1 and the profile is known
    # (precision 1.2e7: S* = 0.5 to 1e-4). Through June, X = 50 deaths. With the Jeffreys
    # rate posterior Gamma(50.5, rate S) the remaining count is NegBin(50.5, p = S = 0.5)
    # (scipy.stats.nbinom: failures before the 50.5th success). Population 1000 constant:
    # the user rate "deaths per 1000" equals the annual deaths, so the target "<= 90" is
    # met with P(R <= 40) = nbinom.cdf(40, 50.5, 0.5) = 0.159 (a plug-in Poisson(50) would
    # give 0.086, dropping the Jeffreys 1/2 0.171: the tolerance tells them apart).
    hist = monthly("A", "2023-01", "2023-12", deaths=10**6, population=1000)
    cur = monthly("A", "2024-01", "2024-06", deaths=[8, 9, 8, 9, 8, 8], population=1000)
    counts = pd.concat([hist, cur], ignore_index=True)
    per_mille = indicators.rate("deaths_per_1000", "deaths")
    target = Target(1, "deaths_per_1000", "<=", 90, 10, periods=("year",))
    scheme = Scheme((target,), indicators=(per_mille,))
    r = nc.nowcast(counts, year=2024, through=6, targets=scheme, draws=20000, seed=3)
    expected = stats.nbinom.cdf(40, 50.5, 0.5)
    # Monte Carlo standard error sqrt(0.159 * 0.841 / 20000) = 0.0026: 3 of them
    assert r["probability"].iloc[0] == pytest.approx(expected, abs=0.008)
    # the 95 % interval of the annual count: 50 + the NegBin 2.5 % and 97.5 % points
    lo, hi = 50 + stats.nbinom.ppf([0.025, 0.975], 50.5, 0.5)
    assert abs(r["lower_0.95"].iloc[0] - lo) <= 2
    assert abs(r["upper_0.95"].iloc[0] - hi) <= 2


def test_through_12_collapses_to_the_observed_value():
    # the whole year observed: 12 * 10 deaths over 1000 person-years = 120 per mille
    c = flat_counts([10] * 12)
    r = nc.nowcast(c, year=2024, through=12, indicators=["crude_death_rate"], draws=200)
    row = r.iloc[0]
    assert row["observed"] == pytest.approx(120.0)
    for col in ("value", "lower_0.8", "upper_0.8", "lower_0.95", "upper_0.95"):
        assert row[col] == pytest.approx(120.0)


def test_compare_target_on_last_year():
    # 2023: 120 deaths over 1000 person-years = 120 per mille (the baseline). 2024 fully
    # observed: A 120 (change 0, not <= -7: probability 0), B 60 (change -60: probability
    # 1). C lacks 2023-05: no baseline, probability missing and said.
    a = flat_counts([10] * 12)
    b = flat_counts([5] * 12).assign(unit="B")
    c = flat_counts([10] * 12).assign(unit="C")
    c = c[c["period"] != pd.Period("2023-05", "M")]
    target = Target(1, "crude_death_rate", "<=", -7, 5, compare="previous_year",
                    periods=("year",))
    with pytest.warns(UserWarning):
        r = nc.nowcast(pd.concat([a, b, c]), year=2024, through=12,
                       targets=Scheme((target,)), draws=200)
    assert r["baseline"].tolist()[:2] == pytest.approx([120.0, 120.0])
    assert r["probability"].tolist()[:2] == [0.0, 1.0]
    assert np.isnan(r["baseline"].iloc[2]) and np.isnan(r["probability"].iloc[2])
    assert r["note"].iloc[2].endswith("no baseline value for 2023")


# --------------------------------------------------------------------------- edge cases


def test_unit_without_history_warns_and_is_wider():
    # B has no 2023: county profile, precision capped at 120 pseudo-events, a warning
    # naming it and a note; same year to date as A, so its interval must be wider
    a = flat_counts([10] * 6)
    b = monthly("B", "2024-01", "2024-06", deaths=10, population=1000)
    with pytest.warns(UserWarning, match=r"no earlier complete year for unit\(s\) B"):
        r = nc.project_counts(pd.concat([a, b]), year=2024, through=6, columns=["deaths"],
                              draws=4000)
    ra, rb = r.iloc[0], r.iloc[1]
    assert rb["note"] == "no earlier complete year: county seasonal profile"
    assert ra["note"] == ""
    assert rb["expected"] == pytest.approx(120.0)
    assert rb["upper_0.95"] - rb["lower_0.95"] > ra["upper_0.95"] - ra["lower_0.95"]


def test_no_history_at_all_gives_flat_profile():
    c = monthly("A", "2024-01", "2024-04", deaths=[5, 6, 7, 2])
    with pytest.warns(UserWarning, match="A"):
        r = nc.project_counts(c, year=2024, through=4, columns=["deaths"])
    # flat: 20 * 12 / 4 = 60
    assert r["expected"].iloc[0] == pytest.approx(60.0)
    assert r["note"].iloc[0] == "no earlier complete year in the counts: flat seasonal profile"


def test_missing_month_in_year_to_date_is_an_error_naming_unit_and_month():
    c = flat_counts([10] * 6)
    c = c[c["period"] != pd.Period("2024-03", "M")]
    b = monthly("B", "2024-01", "2024-06", deaths=[1, 2, None, 4, 5, 6], population=1000)
    b["deaths"] = b["deaths"].astype("Int64")
    with pytest.raises(DataError) as err:
        nc.project_counts(pd.concat([c, b]), year=2024, through=6, columns=["deaths"])
    text = str(err.value)
    assert "unit A: month 2024-03 is missing from the year to date" in text
    assert "column 'deaths': unit B: 2024-03 has no value" in text
    assert len(err.value.problems) == 2


def test_missing_month_in_history_is_left_out_and_said():
    a = flat_counts([10] * 6)
    a = a[a["period"] != pd.Period("2023-05", "M")]
    b = monthly("B", "2023-01", "2024-06", deaths=10, population=1000)
    with pytest.warns(UserWarning, match=r"left out of the seasonal history: A \(2023\)"), \
            pytest.warns(UserWarning, match=r"no earlier complete year for unit\(s\) A"):
        r = nc.project_counts(pd.concat([a, b]), year=2024, through=6, columns=["deaths"])
    assert r["note"].iloc[0] == ("no earlier complete year: county seasonal profile; "
                                 "2023 left out of the history: months or cells missing")
    assert r["note"].iloc[1] == ""


def test_zero_deaths():
    # no deaths in 2023 nor in 2024 so far: the rate is 0, the interval [0, something > 0]
    c = flat_counts([0] * 6, history=0)
    r = nc.nowcast(c, year=2024, through=6, indicators=["crude_death_rate"])
    row = r.iloc[0]
    assert row["observed"] == 0 and row["value"] == 0 and row["lower_0.95"] == 0
    assert row["upper_0.95"] > 0
    assert np.isfinite(row["upper_0.95"])


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"year": 2024, "through": 9}, "through 2024-09 is beyond the data: the counts of 2024 "
                                   "end at 2024-06"),
    ({"year": 2025, "through": 3}, "no counts for the year 2025 (the counts cover 2023-2024)"),
    ({"year": 2024, "through": 13}, "through must be a month 1..12 or a period label, got 13"),
    ({"year": 2024, "through": "2023-06"}, "through 2023-06 does not end in the year 2024"),
    ({"year": 2024, "through": 6, "indicators": ["crude_death_rat"]},
     "unknown indicator 'crude_death_rat' (did you mean 'crude_death_rate'?)"),
    ({"year": 2024, "through": 6, "indicators": ["crude_death_rate"], "draws": 10},
     "draws must be an integer of at least 100, got 10"),
    ({"year": 2024, "through": 6, "indicators": ["crude_death_rate"], "confidence": 95},
     "confidence must be between 0 and 1 (exclusive), got 95"),
    ({"year": 2024, "through": 6, "indicators": ["crude_birth_rate"]},
     "counts lack the column(s) 'births'"),
])
def test_argument_errors(kwargs, message):
    with pytest.raises(ValueError) as err:
        nc.nowcast(flat_counts([10] * 6), **kwargs)
    assert message in str(err.value)


@pytest.mark.parametrize(("change", "message"), [
    ({"deaths": -1}, "counts must not be negative: 'deaths' has negative values"),
    ({"deaths": "10"}, "count column(s) 'deaths' are not numeric"),
])
def test_bad_values_are_refused(change, message):
    with pytest.raises(ValueError) as err:
        nc.nowcast(flat_counts([10] * 6).assign(**change), year=2024, through=6,
                   indicators=["crude_death_rate"])
    assert message in str(err.value)


def test_input_not_mutated(sample_counts, sample_units, sample_dir):
    before = sample_counts.copy(deep=True)
    scheme = load_targets(sample_dir / "scheme_full.toml", units=sample_units)
    nc.nowcast(sample_counts, year=2024, through=6, targets=scheme, units=sample_units,
               draws=200)
    nc.project_counts(sample_counts, year=2024, through=6, draws=200)
    nc.project_milestones(sample_counts, scheme, year=2024, through=6, units=sample_units,
                          draws=200)
    pd.testing.assert_frame_equal(sample_counts, before)


def test_shuffled_rows_give_the_same_projection(sample_counts):
    shuffled = sample_counts.sample(frac=1.0, random_state=5).reset_index(drop=True)
    a = nc.nowcast(sample_counts, year=2024, through=6, indicators=["sex_ratio_at_birth"],
                   draws=300)
    b = nc.nowcast(shuffled, year=2024, through=6, indicators=["sex_ratio_at_birth"],
                   draws=300)
    pd.testing.assert_frame_equal(a, b)


# --------------------------------------------------------------------------- sample data


def test_sample_targets_have_probabilities(sample_counts, sample_dir):
    scheme = load_targets(sample_dir / "targets.toml")
    r = nc.nowcast(sample_counts, year=2024, through=6, targets=scheme, draws=500)
    # 18 townships x the 9 annual targets computed from counts
    assert len(r) == 18 * 9
    assert r["probability"].between(0, 1).all()
    # unit thresholds honoured: 990101103 has 9.0 for the natural growth rate
    ngr = r[r["indicator"] == "natural_growth_rate"].set_index("unit")["threshold"]
    assert ngr["990101103"] == 9.0 and ngr["990101101"] == 8.5
    proportions = r[r["indicator"] == "compliance_rate"]
    assert (proportions["upper_0.95"] <= 100).all()  # numerators thinned, never above


def test_backtest_coverage_on_the_sample(sample_counts):
    b = nc.backtest_nowcast(sample_counts, 2024, range(1, 12), draws=1000)
    pooled = b[b["quantity"] != "all"]
    for kind in ("count", "indicator"):
        part = pooled[pooled["kind"] == kind]
        cover95 = (part["coverage_0.95"] * part["n"]).sum() / part["n"].sum()
        cover80 = (part["coverage_0.8"] * part["n"]).sum() / part["n"].sum()
        assert 0.85 <= cover95 <= 1.0, (kind, cover95)
        assert 0.65 <= cover80 <= 0.95, (kind, cover80)
    assert set(b["years"]) == {"2023, 2024"}


# --------------------------------------------------------------------------- milestones


def milestone_scheme(plan: float = 120.0) -> Scheme:
    t = Target(1, "checkup_progress", ">=", float("nan"), 10, against="annual_plan",
               done="checkups_done", plan_file="plan.csv",
               schedule={"06": 50, "12": 100}, periods=("ytd", "quarter"),
               plan={("A", 2024): plan, ("B", 2024): plan})
    return Scheme((t,))


def test_milestone_projection_by_hand():
    # A: 10 a month, 60 by June: share 50 %, projected 120 = 100 % of the plan, reached in
    # December on the flat path. B: 5 a month, 30 by June: pace 60 a year, December at 60;
    # the remaining 60 at 5 a month take 12 more months: 2025-12.
    a = monthly("A", "2023-01", "2024-06", checkups_done=10)
    b = monthly("B", "2023-01", "2024-06", checkups_done=[10] * 12 + [5] * 6)
    r = nc.project_milestones(pd.concat([a, b]), milestone_scheme(), year=2024, through=6)
    ra, rb = r.iloc[0], r.iloc[1]
    assert ra["share"] == pytest.approx(50.0) and ra["due"] == 50.0
    assert ra["due_year_end"] == 100.0
    assert ra["reach_month"] == "2024-12"
    assert rb["share"] == pytest.approx(25.0)
    assert rb["reach_month"] == "2025-12"
    assert rb["note"] == "reaches the plan after December at the projected pace"
    assert rb["probability"] < 0.01 < ra["probability"]


def test_milestone_plan_without_the_year():
    a = monthly("A", "2023-01", "2025-06", checkups_done=10)
    with pytest.raises(ValueError, match="the annual plan has no year 2025"):
        nc.project_milestones(a, milestone_scheme(), year=2025, through=6)


def test_milestone_never_reached():
    a = monthly("A", "2023-01", "2024-06", checkups_done=[10] * 12 + [0] * 6)
    r = nc.project_milestones(a, milestone_scheme(), year=2024, through=6)
    assert r["reach_month"].iloc[0] == ""
    assert r["note"].iloc[0] == "never reaches the plan on the observed trend (nothing done)"


def test_sample_milestone(sample_counts, sample_units, sample_dir):
    scheme = load_targets(sample_dir / "scheme_full.toml", units=sample_units)
    r = nc.project_milestones(sample_counts, scheme, year=2024, through=6, units=sample_units,
                              draws=500)
    assert len(r) == 18
    # done to date is the January-June sum of checkups_done, as targets.done_to_date has it
    june = sample_counts[(sample_counts["period"] >= pd.Period("2024-01", "M"))
                         & (sample_counts["period"] <= pd.Period("2024-06", "M"))]
    done = june.groupby("unit")["checkups_done"].sum().astype(float)
    np.testing.assert_array_equal(r.set_index("unit")["done"].loc[done.index], done)
