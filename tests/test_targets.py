"""Target attainment, scores, ranks and their uncertainty.

Expected values are hand-computed from the scoring rules stated in each test (all-or-
nothing, linear between floor and threshold, points off per event, the 60/40 year-end
combination) on small frames built here; the simulation tests use symmetry (equal true
rates must give equal chances) and the sample county.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fpanalysis import io, targets
from fpanalysis.schema import DataError


def target_table(**overrides) -> pd.DataFrame:
    row = {"target": 1, "indicator": "compliance_rate", "label": "", "op": ">=",
           "threshold": 86.0, "points": 20.0, "weight": 1.0, "scoring": "all_or_nothing",
           "floor": np.nan, "per_event": np.nan, "periods": ("quarter", "year"),
           "unit_thresholds": {}}
    row.update(overrides)
    return pd.DataFrame([row])


def results(values, lower=None, upper=None, indicator="compliance_rate", period="2024Q2"):
    n = len(values)
    return pd.DataFrame({"unit": [f"U{i}" for i in range(n)], "period": period,
                         "indicator": indicator, "value": values,
                         "lower": lower if lower is not None else [np.nan] * n,
                         "upper": upper if upper is not None else [np.nan] * n})


def test_all_or_nothing_compares_unrounded_values():
    ev = targets.evaluate(results([86.0, 85.999, 90.0]), target_table())
    assert ev["met"].tolist() == [True, False, True]
    assert ev["earned"].tolist() == [20.0, 0.0, 20.0]


def test_sex_ratio_130_4_does_not_meet_130():
    ev = targets.evaluate(results([130.4, 129.96], indicator="sex_ratio_at_birth"),
                          target_table(indicator="sex_ratio_at_birth", op="<=",
                                       threshold=130.0))
    assert ev["met"].tolist() == [False, True]


def test_linear_scoring_between_floor_and_threshold():
    """<= 8.5 full points, 10.5 and above none: 9.0 earns 15 x (10.5 - 9.0) / 2 = 11.25."""
    t = target_table(indicator="natural_growth_rate", op="<=", threshold=8.5, points=15.0,
                     scoring="linear", floor=10.5)
    ev = targets.evaluate(results([8.0, 9.0, 10.5, 12.0], indicator="natural_growth_rate"), t)
    assert ev["earned"].tolist() == [15.0, 11.25, 0.0, 0.0]
    assert ev["met"].tolist() == [True, False, False, False]
    up = target_table(op=">=", threshold=90.0, scoring="linear", floor=80.0, points=10.0)
    ev = targets.evaluate(results([95.0, 85.0, 70.0]), up)
    assert ev["earned"].tolist() == [10.0, 5.0, 0.0]


def test_per_event_scoring_floors_at_zero():
    t = target_table(indicator="substantiated_complaints", op="<=", threshold=0.0,
                     points=5.0, scoring="per_event", per_event=2.5)
    ev = targets.evaluate(results([0.0, 1.0, 2.0, 7.0],
                                  indicator="substantiated_complaints"), t)
    assert ev["earned"].tolist() == [5.0, 2.5, 0.0, 0.0]
    assert ev["met"].tolist() == [True, False, False, False]


def test_verdicts_from_intervals():
    ev = targets.evaluate(results([90.0, 88.0, 84.0, 80.0], lower=[87.0, 84.0, 80.0, 75.0],
                                  upper=[93.0, 91.0, 87.0, 85.9]), target_table())
    assert ev["verdict"].tolist() == ["clearly_met", "indeterminate", "indeterminate",
                                      "clearly_not_met"]


def test_missing_indicator_is_reported_never_met():
    r = pd.concat([results([90.0, 91.0]),
                   results([1.0, 1.0, 1.0], indicator="other")], ignore_index=True)
    ev = targets.evaluate(r, target_table())
    u2 = ev[ev["unit"] == "U2"].iloc[0]
    assert pd.isna(u2["met"]) and u2["verdict"] == "no_data" and u2["earned"] == 0
    sc = targets.score(ev).set_index("unit")
    assert sc.loc["U2", "no_data"] == 1 and sc.loc["U2", "met"] == 0
    assert sc.loc["U2", "score"] == 0.0


def test_targets_apply_only_to_their_period_scopes():
    t = target_table(periods=("year",))
    assert targets.evaluate(results([90.0]), t).empty
    assert len(targets.evaluate(results([90.0], period="2024"), t)) == 1


def test_per_unit_threshold_override():
    t = target_table(unit_thresholds={"U1": 95.0})
    ev = targets.evaluate(results([90.0, 90.0]), t)
    assert ev["threshold"].tolist() == [86.0, 95.0]
    assert ev["met"].tolist() == [True, False]


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


def test_combination_60_40_hand_computed():
    """A: quarters 80, 90, 100, 90 -> 90; city 70 -> 0.6 x 90 + 0.4 x 70 = 82.
    B: quarters 95 x 4 -> 95; city 60 -> 57 + 24 = 81. C has no city score -> NaN."""
    q = pd.DataFrame({"unit": ["A"] * 4 + ["B"] * 4 + ["C"] * 4,
                      "period": ["2024Q1", "2024Q2", "2024Q3", "2024Q4"] * 3,
                      "score": [80, 90, 100, 90] + [95.0] * 4 + [99.0] * 4})
    city = pd.DataFrame({"unit": ["B", "A"], "period": [2024, 2024], "score": [60.0, 70.0]})
    y = targets.combine(q, city).set_index("unit")
    assert y.loc["A", "score"] == pytest.approx(82.0)
    assert y.loc["B", "score"] == pytest.approx(81.0)
    assert np.isnan(y.loc["C", "score"])
    assert y.loc["A", "rank"] == 1 and y.loc["B", "rank"] == 2
    assert y.loc["A", "quarters"] == 4
    with pytest.raises(ValueError, match="must be 1"):
        targets.combine(q, city, county_weight=0.7, external_weight=0.4)


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


def test_equal_true_rates_give_equal_chances_of_first_place():
    """Natural growth (72 births - 6 deaths) / 4973 person-years = 13.3 per mille (SE 1.8)
    sits well inside the linear zone (full points at 8.5, none at 20): scores vary
    continuously and ties are rare, so each unit is first in half of the draws."""
    counts = _equal_units(20_000, births=12, deaths=2, compliant=20)
    t = target_table(indicator="natural_growth_rate", op="<=", threshold=8.5,
                     scoring="linear", floor=20.0, points=10.0)
    ru = targets.rank_uncertainty(counts, t, period="2024Q1", draws=20_000, seed=7, k=1)
    p1 = ru.set_index("unit")["p_top"]
    assert p1["U0"] == pytest.approx(0.5, abs=0.02)
    assert p1["U1"] == pytest.approx(0.5, abs=0.02)
    assert ru["score"].nunique() == 1


def test_tiny_equal_units_have_rank_intervals_spanning_the_table():
    """Eight identical townships of 300 people: 6 births, 5 compliant, each quarter.
    Compliance is scored linearly from 50 % to 86 %, so chance alone reorders them."""
    counts = _equal_units(300, births=1, deaths=1, compliant=2, n_units=8)
    counts.loc[counts.period == pd.Period("2024-01", "M"), "births_compliant"] = 1
    t = pd.concat([target_table(scoring="linear", floor=50.0),
                   target_table(target=2, indicator="sex_ratio_at_birth", op="<=",
                                threshold=130.0, points=15.0)], ignore_index=True)
    ru = targets.rank_uncertainty(counts, t, period="2024Q1", draws=5_000, seed=11)
    assert (ru["rank"] == 1).all()  # the observed scores are all equal
    assert (ru["rank_lower"] == 1).all() and (ru["rank_upper"] == 8).all()


def test_rank_uncertainty_on_sample_is_seeded_and_consistent(sample_counts, sample_dir):
    t = io.load_targets(sample_dir)
    v = io.load_values(sample_dir)
    a = targets.rank_uncertainty(sample_counts, t, period="2024Q4", values=v, draws=2_000)
    b = targets.rank_uncertainty(sample_counts, t, period="2024Q4", values=v, draws=2_000)
    pd.testing.assert_frame_equal(a, b)
    assert (a["rank_lower"] <= a["median_rank"]).all()
    assert (a["median_rank"] <= a["rank_upper"]).all()
    assert a["p_top"].sum() >= 3 - 1e-9  # ties can put more than k units in the top k
    sc = targets.score(targets.evaluate(
        __import__("fpanalysis").indicators.compute(sample_counts, period="2024Q4"), t,
        values=v))
    np.testing.assert_array_equal(a.sort_values("unit")["score"],
                                  sc.sort_values("unit")["score"])


def test_sample_scheme_loads_and_scores(sample_counts, sample_dir):
    from fpanalysis import indicators

    t = io.load_targets(sample_dir, indicators=indicators.keys() + ["substantiated_complaints"])
    assert t["points"].sum() == 100 and t.attrs["scheme"]["county_weight"] == 0.6
    assert len(t.loc[t.indicator == "natural_growth_rate", "unit_thresholds"].item()) == 1
    r = indicators.compute(sample_counts, period="2024Q4")
    ev = targets.evaluate(r, t, values=io.load_values(sample_dir))
    assert len(ev) == 18 * 10
    assert set(ev["verdict"]) <= set(targets.VERDICTS)


@pytest.mark.parametrize(("toml", "key", "message"), [
    ('[[target]]\nindicator = "nope"\nop = "<="\nthreshold = 1\npoints = 1\n',
     "indicator", "target 1 (nope): unknown indicator 'nope'"),
    ('[[target]]\nindicator = "compliance_rate"\nop = "=>"\nthreshold = 1\npoints = 1\n',
     "op", "target 1 (compliance_rate): must be '<=' or '>=', got '=>'"),
    ('[[target]]\nindicator = "compliance_rate"\nop = ">="\nthreshold = "86%"\npoints = 1\n',
     "threshold", "target 1 (compliance_rate): must be a int or float, got '86%'"),
    ('[scheme]\ntotal_points = 100\n[[target]]\nindicator = "compliance_rate"\nop = ">="\n'
     'threshold = 86\npoints = 20\n[[target]]\nindicator = "sex_ratio_at_birth"\nop = "<="\n'
     'threshold = 130\npoints = 15\n',
     "points", "scheme: the targets' points sum to 35, but total_points = 100"),
    ('[scheme]\ntotal_weight = 1.0\n[[target]]\nindicator = "compliance_rate"\nop = ">="\n'
     'threshold = 86\npoints = 20\nweight = 0.6\n[[target]]\nindicator = "sex_ratio_at_birth"\n'
     'op = "<="\nthreshold = 130\npoints = 15\nweight = 0.3\n',
     "weight", "scheme: the targets' weight sum to 0.9, but total_weight = 1"),
    ('[[target]]\nindicator = "natural_growth_rate"\nop = "<="\nthreshold = 8.5\n'
     'points = 15\nscoring = "linear"\nfloor = 6\n',
     "floor", "target 1 (natural_growth_rate): the floor must lie above the threshold "
              "for op '<='"),
])
def test_bad_targets_files_name_target_and_key(write, toml, key, message):
    with pytest.raises(DataError) as e:
        io.load_targets(write("t.toml", toml), indicators=["compliance_rate",
                                                           "sex_ratio_at_birth",
                                                           "natural_growth_rate"])
    assert (key, message) in [(p.column, p.message) for p in e.value.problems]


def test_unit_thresholds_file(write, tmp_path):
    write("plans.csv", "unit,threshold\n101,9.0\n102,abc\n")
    f = write("t.toml", '[[target]]\nindicator = "natural_growth_rate"\nop = "<="\n'
                        'threshold = 8.5\npoints = 15\nunit_thresholds_file = "plans.csv"\n')
    with pytest.raises(DataError) as e:
        io.load_targets(f)
    p = e.value.problems[0]
    assert (p.file.endswith("plans.csv"), p.row, p.column) == (True, 3, "threshold")
    write("plans.csv", "unit,threshold\n101,9.0\n")
    assert io.load_targets(f)["unit_thresholds"].item() == {"101": 9.0}


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
