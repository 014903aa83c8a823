"""Indicators: identities, invariances and the generator's known parameters.

Expected values come from the definitions in DESIGN.md applied by hand to the counts in the
test (sums, person-years), from the generator's parameters (fpanalysis.synth.parameters, the
"true" TFR each township was given), and from scipy for intervals.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from fpanalysis import indicators as ind
from fpanalysis import intervals as iv
from fpanalysis import periods as pr
from fpanalysis import synth
from fpanalysis.indicators import RESULT_COLUMNS


def test_result_contract(sample_counts):
    r = ind.compute(sample_counts, period="2024Q3")
    assert list(r.columns) == ["unit", "period"] + list(RESULT_COLUMNS)
    assert r.index.equals(pd.RangeIndex(len(r)))
    assert set(r["indicator"]) == set(ind.keys())
    assert r["unit"].nunique() == 18
    ok = r["note"] == ""
    assert (r.loc[ok, "lower"] <= r.loc[ok, "value"] + 1e-9).all()
    assert (r.loc[ok, "value"] <= r.loc[ok, "upper"] + 1e-9).all()
    assert not np.isinf(r[["value", "lower", "upper"]].to_numpy()).any()


def test_crude_rates_by_person_years(sample_counts):
    """CBR for 2024Q3 = births / (mean population x 92/366) x 1000, mean population weighted
    by the days of each month; natural growth = CBR - CDR."""
    r = ind.compute(sample_counts, ["crude_birth_rate", "crude_death_rate",
                                    "natural_growth_rate"], period="2024Q3")
    m = sample_counts[(sample_counts.unit == "990101103")
                      & sample_counts.period.between(pd.Period("2024-07", "M"),
                                                     pd.Period("2024-09", "M"))]
    days = m.period.dt.days_in_month.to_numpy()
    py = (m.population.to_numpy() * days).sum() / 366
    got = r[r.unit == "990101103"].set_index("indicator")
    assert got.loc["crude_birth_rate", "value"] == pytest.approx(m.births.sum() / py * 1000,
                                                                 rel=1e-13)
    assert got.loc["crude_birth_rate", "denominator"] == pytest.approx(py, rel=1e-13)
    lo, hi = stats.poisson.interval(0.95, m.births.sum())  # scipy's exact-integer interval
    assert got.loc["crude_birth_rate", "upper"] > (hi - 1) / py * 1000
    assert got.loc["natural_growth_rate", "value"] == pytest.approx(
        got.loc["crude_birth_rate", "value"] - got.loc["crude_death_rate", "value"], rel=1e-12)


def test_tfr_is_five_times_sum_of_asfr(sample_counts):
    r = ind.compute(sample_counts, period="2024")
    wide = r.pivot(index="unit", columns="indicator", values="value")
    asfr = wide[[f"asfr_{a}" for a in synth.AGE_GROUPS]].sum(axis=1)
    np.testing.assert_allclose(wide["total_fertility_rate"], 5 * asfr / 1000, rtol=1e-14)


def test_sample_tfr_matches_generator_within_sampling_error(sample_counts):
    """Over 2022-2024 each township's TFR lies within 3.5 standard errors (delta method) of
    the TFR the generator was given, and the z-scores centre on zero."""
    r = ind.compute(sample_counts, ["total_fertility_rate"], by=["unit"])
    truth = synth.parameters().set_index("unit")["tfr"]
    se = (r["upper"] - r["value"]).to_numpy() / 1.959963984540054
    z = (r["value"].to_numpy() - truth.loc[r["unit"]].to_numpy()) / se
    assert np.all(np.abs(z) < 3.5), z
    assert abs(z.mean()) < 3 / np.sqrt(len(z))


def test_parent_from_children_summed_counts(sample_counts, sample_units):
    county = ind.compute(sample_counts, period="2024Q2", level="county", units=sample_units)
    cols = [c for c in sample_counts.columns if c not in ("unit", "period")]
    summed = sample_counts.groupby("period", as_index=False)[cols].sum().assign(unit="990101")
    direct = ind.compute(summed, period="2024Q2")
    pd.testing.assert_frame_equal(county, direct, check_dtype=False, rtol=1e-12)
    assert county["unit"].unique().tolist() == ["990101"]


def test_shuffled_rows_give_identical_results(sample_counts):
    a = ind.compute(sample_counts, period="2024H1")
    b = ind.compute(sample_counts.sample(frac=1, random_state=11), period="2024H1")
    pd.testing.assert_frame_equal(a, b)


def test_year_to_date(sample_counts):
    r = ind.compute(sample_counts, ["crude_birth_rate"], period="2024Q3", ytd=True)
    assert str(r["period"].iloc[0]) == "2024-01/2024-09"
    m = sample_counts[(sample_counts.unit == "990101101")
                      & sample_counts.period.between(pd.Period("2024-01", "M"),
                                                     pd.Period("2024-09", "M"))]
    py = (m.population * m.period.dt.days_in_month).sum() / 366
    assert r.loc[r.unit == "990101101", "value"].item() == pytest.approx(
        m.births.sum() / py * 1000, rel=1e-13)


def _panel(draw_counts: np.ndarray) -> pd.DataFrame:
    months = pd.period_range("2023-01", "2023-12", freq="M")
    n = draw_counts.shape[0]
    return pd.DataFrame({
        "unit": np.repeat([f"U{i}" for i in range(n // 12)], 12)[:n],
        "period": pd.PeriodIndex(np.tile(months, n // 12 + 1)[:n], freq="M"),
        "births_male": draw_counts[:, 0], "births_female": draw_counts[:, 1],
        "deaths": draw_counts[:, 2], "population": draw_counts[:, 3] + 1000,
        "births_compliant": np.minimum(draw_counts[:, 4], draw_counts[:, 0] + draw_counts[:, 1]),
    })


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(*[st.integers(0, 60)] * 4, st.integers(0, 120)),
                min_size=24, max_size=24))
def test_months_rolled_to_quarters_equal_quarterly_sums(rows):
    monthly = _panel(np.array(rows))
    via_freq = ind.compute(monthly, freq="Q")
    quarterly = pr.rollup(monthly, "Q").drop(columns="months")
    direct = ind.compute(quarterly)
    pd.testing.assert_frame_equal(via_freq, direct, rtol=1e-12)


def test_denominator_zero_gives_nan_with_reason():
    c = pd.DataFrame({"unit": ["A", "B", "C"], "period": pd.PeriodIndex(["2024-01"] * 3,
                                                                     freq="M"),
                      "births_male": [0, 3, 2], "births_female": [0, 0, 2],
                      "deaths": [0, 1, 1], "population": [0, 100, pd.NA],
                      "births_compliant": [0, 3, 5]})
    c["population"] = c["population"].astype("Int64")
    r = ind.compute(c, ["crude_birth_rate", "sex_ratio_at_birth", "compliance_rate"])
    notes = r.set_index(["unit", "indicator"])["note"]
    assert notes[("A", "crude_birth_rate")] == "no person-years"
    assert notes[("A", "sex_ratio_at_birth")] == "no births"
    assert notes[("A", "compliance_rate")] == "denominator is 0"
    assert notes[("B", "sex_ratio_at_birth")] == "no female births"
    assert notes[("C", "crude_birth_rate")] == "missing counts"
    assert notes[("C", "compliance_rate")] == "numerator exceeds denominator"
    bad = r["note"] != ""
    assert r.loc[bad, ["value", "lower", "upper"]].isna().all().all()
    assert not np.isinf(r[["value", "lower", "upper"]].to_numpy(dtype=float)).any()


def test_missing_columns_are_reported_per_indicator():
    c = pd.DataFrame({"unit": ["A"], "period": pd.PeriodIndex(["2024"], freq="Y"),
                      "births_male": [5], "births_female": [4]})
    r = ind.compute(c, ["sex_ratio_at_birth", "crude_death_rate"])
    assert r.set_index("indicator").loc["crude_death_rate", "note"] == \
        "missing column(s): deaths, population"
    default = ind.compute(c)  # only what the columns allow
    assert default["indicator"].tolist() == ["sex_ratio_at_birth"]


def test_user_registered_indicator(sample_counts):
    mine = ind.proportion("postpartum_share", "postpartum_visited_timely", "births",
                          label_zh="产后访视占出生比")
    r = ind.compute(sample_counts, ["crude_birth_rate", mine], period="2024Q4")
    got = r[r.indicator == "postpartum_share"]
    q4 = pr.rollup(sample_counts, "2024Q4")
    np.testing.assert_allclose(got["value"], q4.postpartum_visited_timely / q4.births * 100)
    assert got["method"].unique().tolist() == ["wilson"]


def test_methods_and_confidence_are_carried(sample_counts):
    r = ind.compute(sample_counts, ["sex_ratio_at_birth", "crude_birth_rate"], period="2024",
                    confidence=0.9, methods={"sex_ratio_at_birth": "wilson",
                                             "crude_birth_rate": "byar"})
    assert set(r["confidence"]) == {0.9}
    assert set(r["method"]) == {"wilson", "poisson_byar"}
    with pytest.raises(ValueError, match="method for sex_ratio_at_birth must be one of "
                                         "clopper_pearson, wilson, got 'exact'"):
        ind.compute(sample_counts, ["sex_ratio_at_birth"], methods={"sex_ratio_at_birth":
                                                                    "exact"})
    with pytest.raises(ValueError, match="unknown indicator 'srb'"):
        ind.compute(sample_counts, ["srb"])
    with pytest.raises(ValueError, match="level needs the units table"):
        ind.compute(sample_counts, level="county")


def test_sex_ratio_by_order_sums_to_overall(sample_counts):
    r = ind.compute(sample_counts, period="2024")
    w = r.pivot(index="unit", columns="indicator", values="numerator")
    males = w[["sex_ratio_at_birth_o1", "sex_ratio_at_birth_o2", "sex_ratio_at_birth_o3p"]]
    np.testing.assert_array_equal(males.sum(axis=1), w["sex_ratio_at_birth"])
    one = r[(r.unit == "990101107") & (r.indicator == "sex_ratio_at_birth")].iloc[0]
    lo, hi = iv.sex_ratio_confint(one.numerator, one.denominator)
    assert (one.lower, one.upper) == (lo, hi)


def test_dekad_counts_roll_to_months_and_quarters():
    dek = [pr.Dekad(2024, m, k) for m in (1, 2, 3) for k in (1, 2, 3)]
    c = pd.DataFrame({"unit": "A", "period": pd.Series(dek, dtype=object),
                      "births_male": 1, "births_female": 1, "population": 3660})
    r = ind.compute(c, ["crude_birth_rate"], period="2024Q1")
    assert r["value"].item() == pytest.approx(18 / (3660 * 91 / 366) * 1000, rel=1e-12)


def test_three_level_hierarchy_rolls_up_to_each_level():
    units = pd.DataFrame({"unit": ["C", "T1", "T2", "V1", "V2", "V3"],
                          "name": list("CTTVVV"), "parent": [pd.NA, "C", "C", "T1", "T1", "T2"],
                          "level": ["county", "township", "township", "village", "village",
                                    "village"]})
    counts = pd.DataFrame({"unit": ["V1", "V2", "V3"], "period": pd.PeriodIndex(["2024"] * 3,
                                                                           freq="Y"),
                           "births_male": [1, 2, 4], "births_female": [1, 1, 1]})
    t = ind.compute(counts, ["sex_ratio_at_birth"], level="township", units=units)
    assert t[["unit", "numerator", "denominator"]].values.tolist() == [["T1", 3.0, 2.0],
                                                                       ["T2", 4.0, 1.0]]
    c = ind.compute(counts, ["sex_ratio_at_birth"], level="county", units=units)
    assert c[["unit", "numerator", "denominator"]].values.tolist() == [["C", 7.0, 3.0]]


def test_period_missing_from_non_monthly_counts_is_an_error():
    c = pd.DataFrame({"unit": ["A"], "period": pd.PeriodIndex(["2024Q1"], freq="Q"),
                      "births_male": [5], "births_female": [4]})
    assert len(ind.compute(c, ["sex_ratio_at_birth"], period="2024Q1")) == 1
    with pytest.raises(ValueError, match="no counts for period 2024: the counts are not "
                                         "monthly"):
        ind.compute(c, ["sex_ratio_at_birth"], period="2024")
