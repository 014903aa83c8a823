"""Coverage of the default 95 % intervals, simulated from known truth (issue 13).

Every cell is a small township of 3,000 people (about 10 births a quarter) over a quarter and
over a year, or a coverage target at 95, 99 and 99.9 % with the case numbers of the issue.
The replicates are units of ONE counts frame, and each time scale is ONE :func:`compute`
call over all of them (no loop over units). Truth is known because we draw the counts:
births ~ Poisson(rate x person-years), served ~ Binomial(n, p), and so on.

Monte Carlo error: with R = 4,000 replicates a coverage near 0.95 has standard error
sqrt(0.95 x 0.05 / 4000) = 0.0034, so the bar 0.93 sits about 6 standard errors below the
nominal 0.95 (a correct interval fails it with probability < 1e-8); sex ratios by order are
judged on the replicates with at least one birth in the cell (about 2,680 for third births
in a quarter: SE 0.0042, the bar 4.7 SE below 0.95). ``benchmarks/coverage.py`` runs the
same study with 20,000 replicates and prints the before/after table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fpanalysis import indicators as ind
from fpanalysis.schema import AGE_GROUPS

#: The small township: people, births and deaths per person-year (births about 10 a
#: quarter and deaths a third of that: the three-fold case of natural growth).
POPULATION = 3000.0
BIRTH_RATE = 0.0135
DEATH_RATE = 0.0045
#: Age-specific fertility per woman-year (TFR = 5 x 0.25 = 1.25) and women per age group:
#: over a quarter most groups expect fewer than one birth.
ASFR = np.array([0.008, 0.075, 0.095, 0.05, 0.018, 0.003, 0.001])
WOMEN = np.array([95.0, 100.0, 110.0, 120.0, 115.0, 110.0, 105.0])
#: Sex ratio at birth by order (males per 100 females) and expected births in the cell per
#: person-year of the township population (third births: about one a quarter).
SRB = {"o1": (106.0, 0.0065), "o2": (112.0, 0.0055), "o3p": (140.0, 0.0015)}
#: Coverage targets: (p, n) cells, with n x (1 - p) near 0.1 where Wilson failed.
PROPORTIONS = [(0.95, 20), (0.95, 50), (0.95, 100), (0.99, 10), (0.99, 20), (0.99, 54),
               (0.999, 100), (0.999, 200), (0.999, 535)]
SCALES = {"quarter": ("2023Q1", 90 / 365), "year": ("2023", 1.0)}


def proportion_indicators() -> list[ind.Indicator]:
    """One coverage indicator per (p, n) cell, with the package's default method."""
    return [ind.proportion(f"cov_{k}", f"served_{k}", f"eligible_{k}")
            for k in range(len(PROPORTIONS))]


def simulate(reps: int, scale: str, seed: int) -> tuple[pd.DataFrame, dict[str, float]]:
    """Counts of ``reps`` replicate townships for one period, and the true value of each
    indicator (in display units)."""
    period, years = SCALES[scale]
    rng = np.random.default_rng(seed)
    py = POPULATION * years  # person-years: population x days / 365 (2023 has 365 days)
    births = rng.poisson(BIRTH_RATE * py, reps)
    deaths = rng.poisson(DEATH_RATE * py, reps)
    male = rng.binomial(births, 105 / 205)
    freq = "Q" if scale == "quarter" else "Y"
    c = {"unit": [f"u{i:06d}" for i in range(reps)],
         "period": pd.PeriodIndex([period] * reps, freq=freq),
         "births": births, "births_male": male, "births_female": births - male,
         "deaths": deaths, "population": np.full(reps, POPULATION)}
    truth = {"crude_birth_rate": BIRTH_RATE * 1000, "crude_death_rate": DEATH_RATE * 1000,
             "natural_growth_rate": (BIRTH_RATE - DEATH_RATE) * 1000,
             "total_fertility_rate": 5 * ASFR.sum()}
    for a, f, w in zip(AGE_GROUPS, ASFR, WOMEN, strict=True):
        c[f"births_age_{a}"] = rng.poisson(f * w * years, reps)
        c[f"women_{a}"] = np.full(reps, w)
    for order, (ratio, rate) in SRB.items():
        n = rng.poisson(rate * py, reps)
        m = rng.binomial(n, ratio / (100 + ratio))
        c[f"births_male_{order}"], c[f"births_female_{order}"] = m, n - m
        truth[f"sex_ratio_at_birth_{order}"] = ratio
    for k, (p, n) in enumerate(PROPORTIONS):
        c[f"served_{k}"] = rng.binomial(n, p, reps)
        c[f"eligible_{k}"] = np.full(reps, n)
        truth[f"cov_{k}"] = 100 * p
    return pd.DataFrame(c), truth


INDICATORS = ["crude_birth_rate", "crude_death_rate", "natural_growth_rate",
              "total_fertility_rate", "sex_ratio_at_birth_o1", "sex_ratio_at_birth_o2",
              "sex_ratio_at_birth_o3p"]


def coverage(results: pd.DataFrame, truth: dict[str, float], *,
             open_end_missing: bool = False) -> pd.DataFrame:
    """Per indicator: share of intervals holding the truth, share lying entirely below it
    (``upper < truth``) and above it (``lower > truth``), the replicates judged and the
    median width. Sex ratios are judged where the cell has births; a missing interval
    there counts as a miss (``open_end_missing`` emulates the old output, which gave a
    cell with boys but no girls no interval)."""
    r = results.assign(truth=results["indicator"].astype(str).map(truth))
    judged = ~(r["indicator"].astype(str).str.startswith("sex_ratio")
               & (r["numerator"] + r["denominator"] == 0))
    r = r[judged]
    lo, hi, t = (r[c].to_numpy(dtype=float) for c in ("lower", "upper", "truth"))
    if open_end_missing:
        gone = (r["indicator"].astype(str).str.startswith("sex_ratio")
                & (r["denominator"] == 0)).to_numpy()
        lo, hi = np.where(gone, np.nan, lo), np.where(gone, np.nan, hi)
    out = pd.DataFrame({"indicator": r["indicator"].astype(str).to_numpy(),
                        "covers": (lo <= t) & (t <= hi), "below": hi < t, "above": lo > t,
                        "width": hi - lo})
    return out.groupby("indicator", sort=False).agg(
        coverage=("covers", "mean"), below=("below", "mean"), above=("above", "mean"),
        judged=("covers", "size"), width=("width", "median"))


def study(reps: int, seed: int, methods: dict[str, str] | None = None,
          open_end_missing: bool = False) -> pd.DataFrame:
    """The coverage table over both time scales: one compute call per time scale."""
    tables = []
    for s, scale in enumerate(SCALES):
        counts, truth = simulate(reps, scale, seed + s)
        chosen = INDICATORS + (proportion_indicators() if scale == "quarter" else [])
        keys = {i if isinstance(i, str) else i.key for i in chosen}
        r = ind.compute(counts, chosen,
                        methods={k: v for k, v in (methods or {}).items() if k in keys})
        # the person-years are the ones the truth was built on
        rates = r[r["indicator"] == "crude_birth_rate"]["denominator"].to_numpy()
        np.testing.assert_allclose(rates, POPULATION * SCALES[scale][1], rtol=1e-12)
        t = coverage(r, truth, open_end_missing=open_end_missing)
        tables.append(t.assign(scale=scale).set_index("scale", append=True))
    table = pd.concat(tables)
    labels = {f"cov_{k}": f"proportion p={p:g} n={n}" for k, (p, n) in
              enumerate(PROPORTIONS)}
    return table.rename(index=labels, level=0)


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return study(reps=4000, seed=13)


def test_every_default_interval_covers_at_least_093(table):
    """R = 4,000 per cell: SE 0.0034 at 0.95 (0.0042 for third births a quarter)."""
    low = table[table["coverage"] < 0.93]
    assert low.empty, low


def test_every_cell_is_judged(table):
    """All cells are there, and each sex-ratio cell judges the replicates with births:
    third births in a quarter expect 0.0015 x 3000 x 90/365 = 1.1096 births, so one or
    more in 1 - e^-1.1096 = 67.0 % of them (SE 0.74 %)."""
    assert len(table) == 2 * len(INDICATORS) + len(PROPORTIONS)
    third = table.loc[("sex_ratio_at_birth_o3p", "quarter"), "judged"]
    assert 0.64 * 4000 < third < 0.70 * 4000


def test_natural_growth_keeps_each_tail_near_2_5_percent(table):
    """Births three times deaths: MOVER-Jeffreys keeps each tail below 4 % (the normal
    interval's upper miss reached 5 % in the issue's study)."""
    for scale in SCALES:
        row = table.loc[("natural_growth_rate", scale)]
        assert row["below"] < 0.04 and row["above"] < 0.04, row


def test_tfr_small_township_quarter_does_not_sit_below_truth(table):
    """The delta interval lay entirely below the truth 6.7 % of the time; gamma must not
    exceed 4 % on that side."""
    assert table.loc[("total_fertility_rate", "quarter"), "below"] < 0.04


def test_old_defaults_fail_where_the_issue_says():
    """The study can fail: Wilson near 100 % and the delta TFR miss the bar in the same
    cells the issue names (p = 0.99 with n = 10: Wilson covers P(x >= 9) only, since the
    upper limit at x = 10 is 1 and at x = 9 is 0.9823 < 0.99 ... exact coverage
    0.99^10 = 0.9044, so simulated coverage near 0.904)."""
    old = study(reps=4000, seed=13, methods={**{f"cov_{k}": "wilson" for k in
                                                range(len(PROPORTIONS))},
                                             "total_fertility_rate": "delta",
                                             "natural_growth_rate": "normal"})
    cell = old.loc[("proportion p=0.99 n=10", "quarter"), "coverage"]
    assert cell == pytest.approx(0.99**10, abs=4 * 0.0047)  # SE sqrt(.904 x .096 / 4000)
    assert cell < 0.93
