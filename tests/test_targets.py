"""Target attainment, scores, ranks and their uncertainty, the year-end combination.

Expected values are hand-computed from the scoring rules stated in each test (all-or-
nothing, linear between floor and threshold, points off per event, the 60/40 year-end
combination) on small frames built here, with the arithmetic in a comment; the rank
simulation is checked against closed-form beta-binomial tails from scipy.stats.betabinom,
which the code under test does not call, and against symmetry (equal true rates must give
equal chances).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from fpanalysis import indicators, io, targets
from fpanalysis.schema import DataError
from fpanalysis.scheme import Scheme, Target, load_targets


def scheme_of(*targets_: Target, **kw) -> Scheme:
    return Scheme(tuple(targets_), **kw)


def compliance(**overrides) -> Target:
    fields = {"number": 1, "indicator": "compliance_rate", "op": ">=", "threshold": 86.0,
              "points": 20.0}
    fields.update(overrides)
    return Target(**fields)


def results(values, lower=None, upper=None, indicator="compliance_rate", period="2024Q2",
            notes=None):
    n = len(values)
    return pd.DataFrame({"unit": [f"U{i}" for i in range(n)], "period": period,
                         "indicator": indicator, "value": values,
                         "lower": lower if lower is not None else [np.nan] * n,
                         "upper": upper if upper is not None else [np.nan] * n,
                         "note": notes if notes is not None else [""] * n})


UNITS = pd.DataFrame({"unit": ["C", "U0", "U1", "U2"], "name": ["县", "甲", "乙", "丙"],
                      "parent": ["", "C", "C", "C"],
                      "level": ["county", "township", "township", "township"]})


# --------------------------------------------------------------------------- scoring rules


def test_all_or_nothing_compares_unrounded_values():
    ev = targets.evaluate(results([86.0, 85.999, 90.0]), scheme_of(compliance()))
    assert ev["met"].tolist() == [True, False, True]
    assert ev["earned"].tolist() == [20.0, 0.0, 20.0]


def test_sex_ratio_130_4_does_not_meet_130():
    s = scheme_of(compliance(indicator="sex_ratio_at_birth", op="<=", threshold=130.0))
    ev = targets.evaluate(results([130.4, 129.96], indicator="sex_ratio_at_birth"), s)
    assert ev["met"].tolist() == [False, True]


def test_linear_scoring_between_floor_and_threshold():
    """<= 8.5 full points, 10.5 and above none: 9.0 earns 15 x (10.5 - 9.0) / 2 = 11.25."""
    t = compliance(indicator="natural_growth_rate", op="<=", threshold=8.5, points=15.0,
                   scoring="linear", floor=10.5)
    ev = targets.evaluate(results([8.0, 9.0, 10.5, 12.0], indicator="natural_growth_rate"),
                          scheme_of(t))
    assert ev["earned"].tolist() == [15.0, 11.25, 0.0, 0.0]
    assert ev["met"].tolist() == [True, False, False, False]
    # >= 90 full, 80 none: 85 earns 10 x (85 - 80) / (90 - 80) = 5
    up = compliance(threshold=90.0, scoring="linear", floor=80.0, points=10.0)
    ev = targets.evaluate(results([95.0, 85.0, 70.0]), scheme_of(up))
    assert ev["earned"].tolist() == [10.0, 5.0, 0.0]


def test_per_event_scoring_floors_at_zero():
    """5 points less 2.5 per complaint: 0 -> 5, 1 -> 2.5, 2 -> 0, 7 -> 0 (never negative)."""
    t = compliance(indicator="substantiated_complaints", op="<=", threshold=0.0,
                   points=5.0, scoring="per_event", per_event=2.5)
    ev = targets.evaluate(results([0.0, 1.0, 2.0, 7.0],
                                  indicator="substantiated_complaints"), scheme_of(t))
    assert ev["earned"].tolist() == [5.0, 2.5, 0.0, 0.0]
    assert ev["met"].tolist() == [True, False, False, False]


def test_verdicts_from_intervals_each_case_written_out():
    """Target >= 86. U0 [87, 93]: all above -> clearly met. U1 [84, 91] and U2 [80, 87]
    straddle 86 -> indeterminate. U3 [75, 85.9]: all below -> clearly not met. U4 90 and
    U5 80 without an interval are exact -> clearly met / clearly not met (not
    indeterminate, which is np.select's default). U6 has no value -> no_data."""
    ev = targets.evaluate(results([90.0, 88.0, 84.0, 80.0, 90.0, 80.0, np.nan],
                                  lower=[87.0, 84.0, 80.0, 75.0, np.nan, np.nan, np.nan],
                                  upper=[93.0, 91.0, 87.0, 85.9, np.nan, np.nan, np.nan]),
                          scheme_of(compliance()))
    assert ev["verdict"].tolist() == ["clearly_met", "indeterminate", "indeterminate",
                                      "clearly_not_met", "clearly_met", "clearly_not_met",
                                      "no_data"]
    # the same rule reversed for "<=": 130 with [125, 136] is indeterminate, 120 with
    # [100, 128] clearly met, 140 with [131, 150] clearly not met
    s = scheme_of(compliance(indicator="sex_ratio_at_birth", op="<=", threshold=130.0))
    ev = targets.evaluate(results([130.0, 120.0, 140.0], lower=[125.0, 100.0, 131.0],
                                  upper=[136.0, 128.0, 150.0], indicator="sex_ratio_at_birth"),
                          s)
    assert ev["verdict"].tolist() == ["indeterminate", "clearly_met", "clearly_not_met"]


def test_missing_indicator_is_reported_never_met():
    r = pd.concat([results([90.0, 91.0]),
                   results([1.0, 1.0, 1.0], indicator="other")], ignore_index=True)
    ev = targets.evaluate(r, scheme_of(compliance()))
    u2 = ev[ev["unit"] == "U2"].iloc[0]
    assert pd.isna(u2["met"]) and u2["verdict"] == "no_data" and u2["earned"] == 0
    sc = targets.score(ev).set_index("unit")
    assert sc.loc["U2", "no_data"] == 1 and sc.loc["U2", "met"] == 0
    assert sc.loc["U2", "score"] == 0.0


def test_per_unit_threshold_override():
    t = compliance(unit_thresholds={"U1": 95.0})
    ev = targets.evaluate(results([90.0, 90.0]), scheme_of(t))
    assert ev["threshold"].tolist() == [86.0, 95.0]
    assert ev["met"].tolist() == [True, False]


# --------------------------------------------------------------------------- period scopes


def test_targets_apply_only_to_their_period_scopes():
    s = scheme_of(compliance(periods=("year",)))
    assert targets.evaluate(results([90.0]), s).empty
    assert len(targets.evaluate(results([90.0], period="2024"), s)) == 1


@pytest.mark.parametrize(("period", "scope_list", "applies"), [
    ("2024H1", ("ytd",), True),              # year to date through June
    ("2024-01/2024-06", ("ytd",), True),     # the same span written out
    ("2024H1", ("half_year",), True),
    ("2024H2", ("ytd",), False),             # July-December is not year to date
    ("2024-01/2024-12", ("year",), True),    # January to December
    ("2024-01/2024-12", ("ytd",), True),
    ("2024", ("ytd",), True),
    ("2024", ("year",), True),
    ("2024-01/2024-09", ("ytd",), True),
    ("2024-01/2024-09", ("year",), False),
    ("2024-07-D1", ("dekad",), True),
    ("2024-03/2024-05", ("span",), True),
    ("2024Q3", ("month",), False),
])
def test_period_scopes(period, scope_list, applies):
    s = scheme_of(compliance(periods=scope_list))
    ev = targets.evaluate(results([90.0], period=period), s)
    assert len(ev) == (1 if applies else 0)


# --------------------------------------------------------------------------- every unit


def test_every_unit_is_assessed_in_every_period_and_non_reporters_flagged():
    """U0 reports both quarters; U1's 2024Q3 counts lack a month (compute's note); U2 has no
    result row at all. With the units table all three townships get a row in each quarter;
    the county (another level) does not."""
    r = pd.concat([
        results([90.0, np.nan], period="2024Q2"),
        results([90.0, np.nan], period="2024Q3",
                notes=["", "not reported: 2 of 3 months, 2024-08 missing"]),
    ], ignore_index=True)
    ev = targets.evaluate(r, scheme_of(compliance()), units=UNITS)
    assert len(ev) == 3 * 2
    assert set(ev["unit"]) == {"U0", "U1", "U2"}
    flags = ev.set_index(["unit", "period"])["not_reported"].to_dict()
    assert flags == {("U0", "2024Q2"): False, ("U1", "2024Q2"): False,
                     ("U2", "2024Q2"): True, ("U0", "2024Q3"): False,
                     ("U1", "2024Q3"): True, ("U2", "2024Q3"): True}
    u2 = ev[ev["unit"] == "U2"]
    assert u2["verdict"].eq("no_data").all() and u2["earned"].eq(0).all()
    assert u2["met"].isna().all()
    sc = targets.score(ev).set_index(["unit", "period"])
    assert bool(sc.loc[("U2", "2024Q2"), "not_reported"])
    assert not bool(sc.loc[("U1", "2024Q2"), "not_reported"])
    assert sc.loc[("U2", "2024Q2"), "score"] == 0.0


def test_not_reporting_never_raises_score_or_rank():
    """Two units meeting the target with the same 90 %: both 20 points, rank 1. If U1's
    quarter is not reported its value is missing: 0 points and rank 2, never better."""
    s = scheme_of(compliance())
    before = targets.score(targets.evaluate(results([90.0, 90.0]), s)).set_index("unit")
    after = targets.score(targets.evaluate(
        results([90.0, np.nan], notes=["", "not reported: 2 of 3 months, 2024-05 missing"]),
        s)).set_index("unit")
    assert before.loc["U1", ["score", "rank"]].tolist() == [20.0, 1]
    assert after.loc["U1", ["score", "rank"]].tolist() == [0.0, 2]
    assert bool(after.loc["U1", "not_reported"])


def test_results_with_a_unit_missing_from_the_units_table_are_refused():
    r = results([90.0, 90.0, 90.0, 90.0])  # U3 is not in UNITS
    with pytest.raises(ValueError, match="not in the units table: U3"):
        targets.evaluate(r, scheme_of(compliance()), units=UNITS)


# --------------------------------------------------------------------------- refusals


def test_misspelt_indicator_is_refused_naming_the_target():
    """Loaded without an indicator list the misspelling passes the loader; evaluate must
    refuse it rather than give every township no_data and 0 points."""
    s = scheme_of(compliance(), compliance(number=2, indicator="compliance_rat"))
    with pytest.raises(ValueError) as e:
        targets.evaluate(results([90.0, 80.0]), s)
    assert str(e.value) == ("target 2 (compliance_rat): indicator 'compliance_rat' is in "
                            "neither the results nor the supplied values (did you mean "
                            "'compliance_rate'?)")


def test_misspelt_indicator_in_a_file_is_refused_by_evaluate(write):
    f = write("t.toml", '[[target]]\nindicator = "sex_ratio_at_brith"\nop = "<="\n'
                        'threshold = 130\npoints = 15\n')
    s = load_targets(f)  # no indicator list: cannot be checked here
    with pytest.raises(ValueError, match=r"^target 1 \(sex_ratio_at_brith\): indicator "
                                         r"'sex_ratio_at_brith' is in neither"):
        targets.evaluate(results([120.0], indicator="sex_ratio_at_birth"), s)


def test_supplied_indicator_without_values_for_the_period_is_refused():
    s = scheme_of(compliance(indicator="substantiated_complaints", op="<=", threshold=0,
                             points=5, scoring="per_event", per_event=2.5,
                             periods=("quarter",)))
    values = pd.DataFrame({"unit": ["U0"], "period": ["2024Q1"],
                           "indicator": ["substantiated_complaints"], "value": [1.0]})
    r = pd.concat([results([90.0]), results([90.0], period="2024Q1")], ignore_index=True)
    with pytest.raises(ValueError, match=r"^target 1 \(substantiated_complaints\): no value "
                                         r"of substantiated_complaints for period\(s\) 2024Q2"):
        targets.evaluate(r, s, values=values)


def test_supplied_value_clashing_with_a_computed_one_needs_prefer():
    """The issue's example: a supplied 5.0 silently replaced a computed 92.0."""
    computed = results([92.0])
    supplied = results([5.0]).drop(columns="note")
    s = scheme_of(compliance())
    with pytest.raises(ValueError) as e:
        targets.evaluate(computed, s, values=supplied)
    assert str(e.value) == ("1 value(s) are both computed from counts and supplied (e.g. "
                            "compliance_rate of unit U0 in 2024Q2: computed 92, supplied 5); "
                            "pass prefer='computed' or prefer='supplied'")
    by_computed = targets.evaluate(computed, s, values=supplied, prefer="computed")
    assert by_computed[["value", "source", "earned"]].values.tolist() == [[92.0, "computed",
                                                                           20.0]]
    by_supplied = targets.evaluate(computed, s, values=supplied, prefer="supplied")
    assert by_supplied[["value", "source", "earned"]].values.tolist() == [[5.0, "supplied",
                                                                           0.0]]
    with pytest.raises(ValueError, match="prefer must be 'computed' or 'supplied'"):
        targets.evaluate(computed, s, values=supplied, prefer="both")


def test_duplicate_rows_are_refused():
    r = pd.concat([results([92.0]), results([80.0])], ignore_index=True)
    with pytest.raises(ValueError, match=r"the computed values hold 2 rows that share a "
                                         r"unit, period and indicator \(e.g. U0, 2024Q2"):
        targets.evaluate(r, scheme_of(compliance()))


def test_per_unit_threshold_for_a_name_is_refused_without_units():
    """The issue's example: a per-unit threshold written for a name was ignored."""
    s = scheme_of(compliance(unit_thresholds={"乙": 95.0}))
    with pytest.raises(ValueError, match=r"target 1 \(compliance_rate\): per-unit threshold "
                                         r"for 乙, which is not a unit among the results"):
        targets.evaluate(results([90.0, 90.0]), s)


def test_a_data_frame_of_targets_is_refused():
    with pytest.raises(ValueError, match="scheme must be a Scheme"):
        targets.evaluate(results([90.0]), scheme_of(compliance()).to_frame())


# --------------------------------------------------------------------------- ranks, tiers


def test_ties_share_the_better_rank_and_are_ordered_by_unit():
    sc = pd.DataFrame({"unit": ["C", "A", "B", "D"], "period": "2024Q1",
                       "score": [80.0, 80.0, 95.0, 60.0]})
    ranked = targets.rank_units(sc)
    assert ranked[["unit", "rank"]].values.tolist() == [["B", 1], ["A", 2], ["C", 2],
                                                         ["D", 4]]
    t = targets.tiers(ranked, k=1)
    assert dict(zip(t["unit"], t["tier"], strict=True)) == {"B": "top", "A": "", "C": "",
                                                            "D": "bottom"}
    tied_bottom = targets.tiers(pd.DataFrame({"unit": list("ABC"), "period": "2024Q1",
                                              "score": [90.0, 50.0, 50.0]}), k=1)
    assert tied_bottom["tier"].tolist() == ["top", "bottom", "bottom"]


def test_ranks_never_get_worse_as_the_score_improves():
    rng = np.random.default_rng(3)
    sc = pd.DataFrame({"unit": [f"U{i:02d}" for i in range(30)], "period": "2024Q1",
                       "score": rng.integers(50, 100, 30).astype(float)})
    r = targets.rank_units(sc).sort_values("score")
    assert r["rank"].is_monotonic_decreasing
    assert r["rank"].between(1, 30).all()


def test_streak_of_bottom_tier_periods():
    t = pd.DataFrame({"unit": ["A"] * 5 + ["B"] * 3,
                      "period": ["2024Q1", "2024Q2", "2024Q3", "2024Q4", "2025Q1",
                                 "2024Q1", "2024Q3", "2024Q4"],
                      "tier": ["bottom", "bottom", "bottom", "", "bottom",
                               "bottom", "bottom", "bottom"]})
    s = targets.streaks(t.sample(frac=1, random_state=1)).sort_values(["unit", "period"])
    assert s["streak"].tolist() == [1, 2, 3, 0, 1, 1, 1, 2]  # B misses 2024Q2: run breaks


def test_bands_by_score_and_by_criteria_met():
    s = pd.DataFrame({"unit": list("ABCD"), "score": [95.0, 80.0, 60.0, np.nan],
                      "met": [6, 5, 3, 0]})
    assert targets.bands(s)["band"].tolist() == ["一类", "二类", "三类", ""]
    by_met = targets.bands(s, column="met", edges=(6, 4), labels=("class 1", "class 2",
                                                                  "class 3"))
    assert by_met["band"].tolist() == ["class 1", "class 2", "class 3", "class 3"]
    with pytest.raises(ValueError, match="one label more than edges"):
        targets.bands(s, edges=(90,), labels=("a",))


# --------------------------------------------------------------------------- combine


QUARTERS = ["2024Q1", "2024Q2", "2024Q3", "2024Q4"]


def test_combination_60_40_hand_computed():
    """A: quarters 80, 90, 100, 90 -> 90; city 70 -> 0.6 x 90 + 0.4 x 70 = 82.
    B: quarters 95 x 4 -> 95; city 60 -> 57 + 24 = 81. C has no city score -> NaN."""
    q = pd.DataFrame({"unit": ["A"] * 4 + ["B"] * 4 + ["C"] * 4, "period": QUARTERS * 3,
                      "score": [80, 90, 100, 90] + [95.0] * 4 + [99.0] * 4})
    city = pd.DataFrame({"unit": ["B", "A"], "period": [2024, 2024], "score": [60.0, 70.0]})
    y = targets.combine(q, city, scheme_of(compliance())).set_index("unit")
    assert y.loc["A", "score"] == pytest.approx(82.0)
    assert y.loc["B", "score"] == pytest.approx(81.0)
    assert np.isnan(y.loc["C", "score"])
    assert y.loc["A", "rank"] == 1 and y.loc["B", "rank"] == 2
    assert y.loc["A", "quarters"] == 4 and y.loc["A", "missing_quarters"] == ""
    # the scheme's weights are used: 0.5 x 90 + 0.5 x 70 = 80
    half = scheme_of(compliance(), county_weight=0.5, city_weight=0.5)
    assert targets.combine(q, city, half).set_index("unit").loc["A", "score"] == 80.0


def test_a_missing_quarter_counts_as_zero_never_the_mean_of_the_rest():
    """A reports 80, 90, 100 and no Q4: county part (80 + 90 + 100 + 0) / 4 = 67.5, not
    the mean of the three present (90); standing 0.6 x 67.5 + 0.4 x 70 = 68.5. B with
    all four quarters at 80 (county 80, standing 0.6 x 80 + 0.4 x 70 = 76) stays ahead."""
    q = pd.DataFrame({"unit": ["A"] * 3 + ["B"] * 4, "period": QUARTERS[:3] + QUARTERS,
                      "score": [80.0, 90.0, 100.0] + [80.0] * 4})
    city = pd.DataFrame({"unit": ["A", "B"], "period": ["2024", "2024"], "score": [70.0, 70.0]})
    y = targets.combine(q, city, scheme_of(compliance())).set_index("unit")
    assert y.loc["A", "county_score"] == 67.5
    assert y.loc["A", "score"] == pytest.approx(68.5)
    assert y.loc["A", "missing_quarters"] == "2024Q4" and y.loc["A", "quarters"] == 3
    assert bool(y.loc["A", "not_reported"]) and not bool(y.loc["B", "not_reported"])
    assert y.loc["B", "rank"] == 1 and y.loc["A", "rank"] == 2
    # the year so far through Q3: A (80 + 90 + 100) / 3 = 90, B 80
    through_q3 = targets.combine(q[q["period"] != "2024Q4"], city, scheme_of(compliance()),
                                 period="2024Q3").set_index("unit")
    assert through_q3.loc["A", "county_score"] == 90.0
    assert through_q3.loc["A", "missing_quarters"] == ""
    with pytest.raises(ValueError, match="county scores for 2024Q4 lie after 2024Q3"):
        targets.combine(q, city, scheme_of(compliance()), period="2024Q3")


def test_combine_refuses_quarterly_city_scores():
    """The issue's example: quarterly city scores multiplied the standing rows (72 for 18
    units). 4 quarters x 2 units would have given 8 rows here."""
    q = pd.DataFrame({"unit": ["A"] * 4 + ["B"] * 4, "period": QUARTERS * 2,
                      "score": [80.0] * 8})
    city = pd.DataFrame({"unit": ["A"] * 4 + ["B"] * 4, "period": QUARTERS * 2,
                         "score": [70.0] * 8})
    with pytest.raises(ValueError) as e:
        targets.combine(q, city, scheme_of(compliance()))
    assert str(e.value) == ("combine takes yearly external scores; got 2024Q1 (quarter), "
                            "2024Q2 (quarter), 2024Q3 (quarter), 2024Q4 (quarter)")


def test_combine_refuses_county_rows_that_are_not_quarters():
    q = pd.DataFrame({"unit": ["A", "A"], "period": ["2024Q1", "2024-01/2024-09"],
                      "score": [80.0, 85.0]})
    city = pd.DataFrame({"unit": ["A"], "period": ["2024"], "score": [70.0]})
    with pytest.raises(ValueError, match=r"combine takes quarterly county scores \(select "
                                         r"the quarters\); got 2024-01/2024-09 \(ytd\)"):
        targets.combine(q, city, scheme_of(compliance()))
    twice = pd.DataFrame({"unit": ["A", "A"], "period": ["2024Q1", "2024Q1"],
                          "score": [80.0, 85.0]})
    with pytest.raises(ValueError, match="the county scores hold more than one score for "
                                         "unit A in 2024Q1"):
        targets.combine(twice, city, scheme_of(compliance()))


# --------------------------------------------------------------------------- assess


def _equal_units(population: int, births: int, deaths: int, compliant: int,
                 n_units: int = 2) -> pd.DataFrame:
    """Units with identical monthly counts: identical true rates."""
    months = pd.period_range("2024-01", "2024-03", freq="M")
    return pd.DataFrame({
        "unit": np.repeat([f"U{i}" for i in range(n_units)], 3),
        "period": pd.PeriodIndex(np.tile(months, n_units), freq="M"),
        "births_male": births, "births_female": births, "births_compliant": compliant,
        "deaths": deaths, "population": population,
    })


def test_assess_computes_user_indicators_of_the_scheme():
    """A user proportion screened / eligible, on quarterly counts: U0 27 / 30 = 90 % >= 85
    -> 10 points; U1 21 / 30 = 70 % -> 0. (Quarterly, because rolling user columns up from
    months is the compute helper's part of issue 7.)"""
    counts = pd.DataFrame({"unit": ["U0", "U1"],
                           "period": pd.PeriodIndex(["2024Q1"] * 2, freq="Q"),
                           "screened": [27, 21], "eligible": [30, 30]})
    user = indicators.proportion("screening_rate", "screened", "eligible")
    s = Scheme((compliance(indicator="screening_rate", threshold=85.0, points=10.0),),
               indicators=(user,))
    ev, sc = targets.assess(counts, s, periods=["2024Q1"])
    assert ev.set_index("unit")["value"].round(6).to_dict() == {"U0": 90.0, "U1": 70.0}
    assert sc.set_index("unit")["score"].to_dict() == {"U0": 10.0, "U1": 0.0}
    assert "tier" in sc and "streak" in sc


# --------------------------------------------------------------------------- uncertainty


def test_rank_uncertainty_against_beta_tail_probabilities():
    """Compliance >= 86 % for 20 points. U0: 27 of 30 compliant births (90 %, 20 points);
    U1: 24 of 30 (80 %, 0 points): observed scores 20 and 0, ranks 1 and 2 (by hand).
    In each draw the compliant count is redrawn from its predictive x* ~ Binomial(30, p),
    p ~ Beta(x + 1/2, n - x + 1/2), i.e. beta-binomial; a unit meets the target when
    x* / 30 >= 0.86, i.e. x* >= 26: a0 = P(BetaBinom(30, 27.5, 3.5) >= 26), a1 =
    P(BetaBinom(30, 24.5, 6.5) >= 26). U0 is first (alone or tied) unless it misses while U1
    meets: p_top(U0) = 1 - (1 - a0) a1 with k = 1, and p_bottom(U1) = 1 - a1 (1 - a0)
    likewise. a0, a1 come from scipy.stats.betabinom.sf."""
    counts = _equal_units(10_000, births=5, deaths=1, compliant=9)
    counts.loc[counts["unit"] == "U1", "births_compliant"] = 8
    s = scheme_of(compliance())
    ru = targets.rank_uncertainty(counts, s, period="2024Q1", draws=40_000, k=1,
                                  seed=5).set_index("unit")
    assert ru["score"].to_dict() == {"U0": 20.0, "U1": 0.0}
    assert ru["rank"].to_dict() == {"U0": 1, "U1": 2}
    a0 = stats.betabinom.sf(25, 30, 27.5, 3.5)
    a1 = stats.betabinom.sf(25, 30, 24.5, 6.5)
    assert ru.loc["U0", "p_top"] == pytest.approx(1 - (1 - a0) * a1, abs=0.01)
    assert ru.loc["U1", "p_bottom"] == pytest.approx(1 - a1 * (1 - a0), abs=0.01)


def test_equal_true_rates_give_equal_chances_of_first_place():
    """Natural growth (72 births - 6 deaths) / 4973 person-years = 13.3 per mille (SE 1.8)
    sits well inside the linear zone (full points at 8.5, none at 20): scores vary
    continuously and ties are rare, so each unit is first in half of the draws."""
    counts = _equal_units(20_000, births=12, deaths=2, compliant=20)
    t = compliance(indicator="natural_growth_rate", op="<=", threshold=8.5,
                   scoring="linear", floor=20.0, points=10.0)
    ru = targets.rank_uncertainty(counts, scheme_of(t), period="2024Q1", draws=20_000,
                                  seed=7, k=1)
    p1 = ru.set_index("unit")["p_top"]
    assert p1["U0"] == pytest.approx(0.5, abs=0.02)
    assert p1["U1"] == pytest.approx(0.5, abs=0.02)
    assert ru["score"].nunique() == 1


def test_tiny_equal_units_have_rank_intervals_spanning_the_table():
    """Eight identical townships of 300 people: 6 births, 5 compliant, each quarter.
    Compliance is scored linearly from 50 % to 86 %, so chance alone reorders them."""
    counts = _equal_units(300, births=1, deaths=1, compliant=2, n_units=8)
    counts.loc[counts.period == pd.Period("2024-01", "M"), "births_compliant"] = 1
    s = scheme_of(compliance(scoring="linear", floor=50.0),
                  compliance(number=2, indicator="sex_ratio_at_birth", op="<=",
                             threshold=130.0, points=15.0))
    ru = targets.rank_uncertainty(counts, s, period="2024Q1", draws=5_000, seed=11)
    assert (ru["rank"] == 1).all()  # the observed scores are all equal
    assert (ru["draw_rank_lower"] == 1).all() and (ru["draw_rank_upper"] == 8).all()


def test_a_unit_without_counts_is_ranked_last_in_every_draw():
    """U2 is in the units table but has no counts: it scores 0 in the observation and in
    every draw. It is never above another unit, so its worst rank is 3 and it is in the
    bottom tier (k = 1) in every draw; it shares rank 1 only when U0 and U1 both miss the
    target, which has probability (1 - a)^2, a = P(BetaBinom(30, 27.5, 3.5) >= 26) from
    scipy.stats.betabinom.sf (each has 27 of 30 compliant births; 26 / 30 >= 86 %)."""
    counts = _equal_units(10_000, births=5, deaths=1, compliant=9)
    units = pd.DataFrame({"unit": ["C", "U0", "U1", "U2"], "name": ["c", "a", "b", "d"],
                          "parent": ["", "C", "C", "C"],
                          "level": ["county", "township", "township", "township"]})
    ru = targets.rank_uncertainty(counts, scheme_of(compliance()), period="2024Q1",
                                  units=units, draws=40_000, k=1).set_index("unit")
    assert ru.loc["U2", ["score", "rank", "median_rank", "draw_rank_upper"]].tolist() == [
        0.0, 3, 3.0, 3]
    assert bool(ru.loc["U2", "not_reported"]) and ru.loc["U2", "p_bottom"] == 1.0
    a = stats.betabinom.sf(25, 30, 27.5, 3.5)
    assert ru.loc["U2", "p_top"] == pytest.approx((1 - a) ** 2, abs=0.005)


def test_rank_uncertainty_on_sample_is_seeded(sample_counts, sample_dir, sample_units):
    v = io.load_values(sample_dir)
    s = load_targets(sample_dir, units=sample_units, indicators=["substantiated_complaints"])
    a = targets.rank_uncertainty(sample_counts, s, period="2024Q4", values=v, draws=2_000)
    b = targets.rank_uncertainty(sample_counts, s, period="2024Q4", values=v, draws=2_000)
    pd.testing.assert_frame_equal(a, b)
    assert len(a) == 18
    assert (a["draw_rank_lower"] <= a["median_rank"]).all()
    assert (a["median_rank"] <= a["draw_rank_upper"]).all()


def test_sample_scheme_scores_a_township_by_hand(sample_counts, sample_dir, sample_units):
    """東林镇 (990101101), 2024Q4, from counts.csv rows 2024-10..12: compliant births
    14 + 17 + 22 = 53 of 15 + 18 + 23 = 56 -> 94.64 % >= 86: 20 points. Sex ratio
    (9 + 12 + 12) / (6 + 6 + 11) = 33 / 23 x 100 = 143.48 > 130: 0 points. values.csv:
    1 substantiated complaint -> 5 - 2.5 = 2.5 points. 990101103 has its own growth
    threshold 9.0 (targets.toml), the others 8.5."""
    s = load_targets(sample_dir, units=sample_units, indicators=["substantiated_complaints"])
    r = indicators.compute(sample_counts, period="2024Q4")
    ev = targets.evaluate(r, s, values=io.load_values(sample_dir), units=sample_units)
    assert len(ev) == 18 * 10
    one = ev[ev["unit"] == "990101101"].set_index("indicator")
    assert one.loc["compliance_rate", "value"] == pytest.approx(100 * 53 / 56)
    assert one.loc["compliance_rate", "earned"] == 20.0
    assert one.loc["sex_ratio_at_birth", "value"] == pytest.approx(100 * 33 / 23)
    assert one.loc["sex_ratio_at_birth", "earned"] == 0.0
    assert one.loc["substantiated_complaints", ["value", "earned", "source"]].tolist() == [
        1.0, 2.5, "supplied"]
    growth = ev[ev["indicator"] == "natural_growth_rate"].set_index("unit")["threshold"]
    assert growth["990101103"] == 9.0 and (growth.drop("990101103") == 8.5).all()


# --------------------------------------------------------------------------- supplied values
# (loader tests kept from before; they test fpanalysis.io.load_values)


def test_supplied_values_validation(write):
    f = write("values.csv", "unit,period,indicator,value,lower,upper\n"
                            "101,2024,income,5,6,7\n101,2024,income,5,4,6\n101,20x,income,x,,\n")
    with pytest.raises(DataError) as e:
        io.load_values(f)
    got = [(p.row, p.column) for p in e.value.problems]
    assert got == [(2, "lower"), (3, "unit, period, indicator"), (4, "value"), (4, "period")]


def test_supplied_values_may_mix_period_kinds(write):
    f = write("values.csv", "unit,period,indicator,value\n101,2024,income,52000\n"
                            "101,2024Q4,substantiated_complaints,1\n")
    v = io.load_values(f)
    assert sorted(v["period"].astype(str)) == ["2024", "2024Q4"]


def test_a_township_missing_one_month_does_not_climb(sample_counts, sample_dir, sample_units):
    """The issue's example: leaving out one monthly report moved a township up (rank 11 to
    9). With every unit assessed, a township without 2024-08 keeps its row for 2024Q3,
    flagged not_reported, and its score and rank never improve."""
    v = io.load_values(sample_dir)
    s = load_targets(sample_dir, units=sample_units, indicators=["substantiated_complaints"])
    _, full = targets.assess(sample_counts, s, periods=["2024Q3"], values=v,
                             units=sample_units)
    full = full.set_index("unit")
    for unit in ("990101103", "990101111"):
        gap = sample_counts[~((sample_counts["unit"] == unit)
                              & (sample_counts["period"] == pd.Period("2024-08", "M")))]
        _, after = targets.assess(gap, s, periods=["2024Q3"], values=v, units=sample_units)
        after = after.set_index("unit")
        assert len(after) == 18
        assert bool(after.loc[unit, "not_reported"])
        assert after.loc[unit, "score"] <= full.loc[unit, "score"]
        assert after.loc[unit, "rank"] >= full.loc[unit, "rank"]


# --------------------------------------------------------------------------- careless input


def test_per_event_scoring_deducts_only_for_counted_events(write):
    # a per-event target counts events (complaints): fewer is better, so op ">=" is refused
    f = write("t.toml", '[[target]]\nindicator = "compliance_rate"\nop = ">="\nthreshold = 86\n'
                        'points = 5\nscoring = "per_event"\nper_event = 2.5\n')
    with pytest.raises(DataError, match="fewer is better, so op must be '<='"):
        load_targets(f)
    # a negative or fractional count is refused, never worth more than the points (5 - 2.5 x
    # -2 would be 10 of 5)
    t = Target(1, "substantiated_complaints", "<=", 0, 5, scoring="per_event", per_event=2.5,
               periods=("quarter",))
    s = Scheme((t,))
    res = pd.DataFrame({"unit": ["A"], "period": "2024Q3", "indicator": "compliance_rate",
                        "value": [90.0], "lower": [80.0], "upper": [95.0]})
    for bad in (-2.0, 0.5):
        values = pd.DataFrame({"unit": ["A"], "period": "2024Q3",
                               "indicator": "substantiated_complaints", "value": [bad],
                               "lower": np.nan, "upper": np.nan})
        with pytest.raises(ValueError, match="values must be counts .whole numbers >= 0.; "
                                             f"got A in 2024Q3: {bad:g}"):
            targets.evaluate(res, s, values=values)
    # 0, 1, 2 and 3 events: 5, 2.5, 0 and 0 points (never below 0)
    assert t.earned(np.array([0.0, 1, 2, 3]), np.zeros(4)).tolist() == [5.0, 2.5, 0.0, 0.0]


def test_results_of_several_levels_are_not_ranked_together(sample_counts, sample_units,
                                                           sample_dir):
    v = io.load_values(sample_dir, units=sample_units)
    s = load_targets(sample_dir, units=sample_units, indicators=["substantiated_complaints"])
    both = pd.concat([indicators.compute(sample_counts, period="2024Q3", units=sample_units),
                      indicators.compute(sample_counts, period="2024Q3", level="county",
                                         units=sample_units)])
    with pytest.raises(ValueError, match=r"several levels \(county: 990101; township: "):
        targets.evaluate(both, s, values=v, units=sample_units)


def test_a_partial_figure_is_scored_as_not_reported(sample_counts, sample_units, sample_dir):
    # compute(partial=True) fills a quarter from two months; scored as complete it raised a
    # township from rank 8 to 5 (found by trying it): it must stay flagged not_reported
    v = io.load_values(sample_dir, units=sample_units)
    s = load_targets(sample_dir, units=sample_units, indicators=["substantiated_complaints"])
    cut = sample_counts[~((sample_counts["unit"] == "990101102")
                          & (sample_counts["period"] == pd.Period("2024-08", "M")))]
    r = indicators.compute(cut, period="2024Q3", units=sample_units, partial=True)
    ev = targets.evaluate(r, s, values=v, units=sample_units)
    computed = ev[(ev["unit"] == "990101102") & (ev["source"] == "computed")]
    assert len(computed) == 9 and computed["not_reported"].all()
    sc = targets.score(ev).set_index("unit")
    assert bool(sc.loc["990101102", "not_reported"])
