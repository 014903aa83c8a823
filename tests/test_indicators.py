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
    # only a sex ratio with boys but no girls is infinite (value and upper), never its lower
    inf = np.isinf(r[["value", "lower", "upper"]].to_numpy())
    open_end = (r["indicator"].astype(str).str.startswith("sex_ratio")
                & (r["denominator"] == 0) & (r["numerator"] > 0)).to_numpy()
    assert (inf[:, 0] == open_end).all() and (inf[:, 2] == open_end).all()
    assert not inf[:, 1].any()


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
    # exact (Garwood) Poisson limits from scipy's chi-square quantiles, both sides
    x = m.births.sum()
    lo, hi = stats.chi2.ppf(0.025, 2 * x) / 2, stats.chi2.ppf(0.975, 2 * x + 2) / 2
    np.testing.assert_allclose(got.loc["crude_birth_rate", ["lower", "upper"]].to_numpy(float),
                               [lo / py * 1000, hi / py * 1000], rtol=1e-9)
    assert got.loc["natural_growth_rate", "value"] == pytest.approx(
        got.loc["crude_birth_rate", "value"] - got.loc["crude_death_rate", "value"], rel=1e-12)


def test_tfr_is_five_times_sum_of_asfr(sample_counts):
    r = ind.compute(sample_counts, period="2023")  # 2024 has a planted missing month
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
    # 2024Q3, not Q2: 2024-05 of one township is missing in the sample (synth.PLANTED)
    county = ind.compute(sample_counts, period="2024Q3", level="county", units=sample_units)
    cols = [c for c in sample_counts.columns if c not in ("unit", "period")]
    summed = sample_counts.groupby("period", as_index=False)[cols].sum().assign(unit="990101")
    direct = ind.compute(summed, period="2024Q3")
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
    """Expected values are summed by hand with numpy from the monthly rows: births = sum of
    males + females over the quarter's months; person-years = sum(population x days of the
    month) / 365 (2023); CBR = births / PY x 1000; compliance = compliant / births x 100;
    sex ratio = males / females x 100."""
    monthly = _panel(np.array(rows))
    r = ind.compute(monthly, ["crude_birth_rate", "compliance_rate", "sex_ratio_at_birth"],
                    freq="Q")
    got = r.set_index(["unit", r["period"].astype(str), "indicator"])["value"]
    days = monthly["period"].dt.days_in_month.to_numpy()
    for (unit, q), g in monthly.groupby(["unit", monthly["period"].dt.quarter]):
        idx = g.index.to_numpy()
        m, f = g["births_male"].sum(), g["births_female"].sum()
        py = (g["population"].to_numpy() * days[idx]).sum() / 365
        key = (unit, f"2023Q{q}")
        np.testing.assert_allclose(got[key + ("crude_birth_rate",)], (m + f) / py * 1000,
                                   rtol=1e-12)
        comp = g["births_compliant"].sum() / (m + f) * 100 if m + f else np.nan
        np.testing.assert_allclose(got[key + ("compliance_rate",)], comp, rtol=1e-12)
        srb = m / f * 100 if f else (np.inf if m else np.nan)  # boys only: infinite
        np.testing.assert_allclose(got[key + ("sex_ratio_at_birth",)], srb, rtol=1e-12)


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
    # 3 boys and no girls: informational notes, the value (infinite) and limits are kept
    assert notes[("B", "sex_ratio_at_birth")] == \
        "few events: 3 births; no female births: value infinite, upper end open"
    assert notes[("B", "crude_birth_rate")] == "few events: 3 births"
    assert notes[("C", "crude_birth_rate")] == "not reported: empty count cells"
    assert notes[("C", "compliance_rate")] == "numerator exceeds denominator"
    values = r.set_index(["unit", "indicator"])[["value", "lower", "upper"]]
    b = values.loc[("B", "sex_ratio_at_birth")]
    # Clopper-Pearson lower limit of p at 3 of 3: 0.025^(1/3) = 0.292402; 100 p / (1 - p)
    assert b["value"] == np.inf and b["upper"] == np.inf
    assert b["lower"] == pytest.approx(100 * 0.025 ** (1 / 3) / (1 - 0.025 ** (1 / 3)))
    bad = (r["note"] != "") & ~r["note"].astype(str).str.startswith("few events")
    assert r.loc[bad, ["value", "lower", "upper"]].isna().all().all()
    assert np.isinf(r[["value", "lower", "upper"]].to_numpy(dtype=float)).sum() == 2


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
    assert got["method"].unique().tolist() == ["clopper_pearson"]  # the new default


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
    r = ind.compute(sample_counts, period="2023")  # 2024 has a planted missing month
    w = r.pivot(index="unit", columns="indicator", values="numerator")
    males = w[["sex_ratio_at_birth_o1", "sex_ratio_at_birth_o2", "sex_ratio_at_birth_o3p"]]
    np.testing.assert_array_equal(males.sum(axis=1), w["sex_ratio_at_birth"])
    one = r[(r.unit == "990101107") & (r.indicator == "sex_ratio_at_birth")].iloc[0]
    # independent reference: Clopper-Pearson on p = m / (m + f) from scipy, mapped 100p/(1-p)
    ci = stats.binomtest(int(one.numerator), int(one.numerator + one.denominator)
                         ).proportion_ci(confidence_level=0.95, method="exact")
    np.testing.assert_allclose([one.lower, one.upper],
                               [100 * ci.low / (1 - ci.low), 100 * ci.high / (1 - ci.high)],
                               rtol=1e-9)


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


def test_duplicate_rows_of_non_monthly_counts_are_an_error():
    c = pd.DataFrame({"unit": ["A", "A"], "period": pd.PeriodIndex(["2024Q1"] * 2, freq="Q"),
                      "births_male": [5, 5], "births_female": [4, 4]})
    with pytest.raises(ValueError, match=r"counts have 1 duplicate row\(s\) for \(unit, "
                                         r"period\), e.g. \(A, 2024Q1\)"):
        ind.compute(c, ["sex_ratio_at_birth"], period="2024Q1")


def test_period_missing_from_non_monthly_counts_is_an_error():
    c = pd.DataFrame({"unit": ["A"], "period": pd.PeriodIndex(["2024Q1"], freq="Q"),
                      "births_male": [5], "births_female": [4]})
    assert len(ind.compute(c, ["sex_ratio_at_birth"], period="2024Q1")) == 1
    with pytest.raises(ValueError, match="no counts for period 2024: the counts are not "
                                         "monthly"):
        ind.compute(c, ["sex_ratio_at_birth"], period="2024")


# --------------------------------------------------------------------------- issue 7

Q3 = pd.PeriodIndex(["2024-07", "2024-08", "2024-09"], freq="M")


def _without(counts: pd.DataFrame, unit: str, months: list[str]) -> pd.DataFrame:
    drop = (counts.unit == unit) & counts.period.isin(pd.PeriodIndex(months, freq="M"))
    return counts[~drop].reset_index(drop=True)


def test_unit_missing_a_month_keeps_its_rows_with_a_not_reported_note(sample_counts):
    c = _without(sample_counts, "990101103", ["2024-08"])
    r = ind.compute(c, period="2024Q3")
    assert r["unit"].nunique() == 18
    mine = r[r.unit == "990101103"]
    assert len(mine) == len(ind.keys())  # one row for every indicator
    assert set(mine["note"]) == {"not reported: 2 of 3 months, 2024-08 missing"}
    assert mine[["value", "lower", "upper"]].isna().all().all()
    # opt-in: from July and September only, noted as partial; hand: births / PY x 1000 with
    # PY = (pop_Jul x 31 + pop_Sep x 30) / 366
    p = ind.compute(c, ["crude_birth_rate"], period="2024Q3", partial=True)
    row = p[p.unit == "990101103"].iloc[0]
    g = c[(c.unit == "990101103") & c.period.isin(Q3)]
    py = (g.population.to_numpy() * np.array([31, 30])).sum() / 366
    assert row["value"] == pytest.approx(g.births.sum() / py * 1000, rel=1e-12)
    assert row["note"] == "partial: 2 of 3 months, 2024-08 missing"


def test_unit_without_counts_for_the_period_gets_rows(sample_counts, sample_units):
    c = _without(sample_counts, "990101105", ["2024-07", "2024-08", "2024-09"])
    r = ind.compute(c, ["compliance_rate"], period="2024Q3")  # unit is in other periods
    assert r.set_index("unit").loc["990101105", "note"] == "not reported: no counts for 2024Q3"
    gone = sample_counts[sample_counts.unit != "990101105"]  # never reported at all
    assert "990101105" not in set(ind.compute(gone, ["compliance_rate"], period="2024Q3").unit)
    r = ind.compute(gone, ["compliance_rate"], period="2024Q3", units=sample_units)
    row = r.set_index("unit").loc["990101105"]
    assert row["note"] == "not reported: no counts for 2024Q3" and np.isnan(row["value"])
    assert r["unit"].nunique() == 18


def test_freq_lists_periods_some_unit_has_complete(sample_counts):
    c = sample_counts[sample_counts.period <= pd.Period("2024-11", "M")]
    r = ind.compute(c, ["crude_birth_rate"], freq="Q")
    assert str(r["period"].max()) == "2024Q3"  # 2024Q4 is still running for everyone
    c = _without(sample_counts, "990101101", ["2024-12"])
    r = ind.compute(c, ["crude_birth_rate"], freq="Q")
    q4 = r[r.period == pd.Period("2024Q4", "Q")].set_index("unit")
    assert len(q4) == 18
    assert q4.loc["990101101", "note"] == "not reported: 2 of 3 months, 2024-12 missing"
    others = q4.drop(index="990101101")["note"].astype(str)
    assert (others.str.startswith("few events: ") | (others == "")).all()


def test_county_total_is_missing_and_names_the_missing_townships(sample_counts, sample_units):
    c = _without(sample_counts, "990101103", ["2024-08"])
    c = _without(c, "990101105", ["2024-07", "2024-08", "2024-09"])
    r = ind.compute(c, ["crude_birth_rate"], period="2024Q3", level="county",
                    units=sample_units)
    row = r.iloc[0]
    assert np.isnan(row["value"])
    assert row["note"] == ("not reported: children missing: 990101103 (2024-08 missing), "
                           "990101105")
    p = ind.compute(c, ["crude_birth_rate"], period="2024Q3", level="county",
                    units=sample_units, partial=True).iloc[0]
    assert p["note"].startswith("partial: children missing: 990101103")
    # hand: births of every township's Q3 rows that are present / their person-years
    g = c[c.period.isin(Q3)]
    py = (g.population * g.period.dt.days_in_month).sum() / 366
    assert p["value"] == pytest.approx(g.births.sum() / py * 1000, rel=1e-12)
    full = ind.compute(sample_counts, ["crude_birth_rate"], period="2024Q3", level="county",
                       units=sample_units).iloc[0]
    assert full["note"] == ""


def test_unit_not_in_the_hierarchy_is_an_error(sample_counts, sample_units):
    stray = sample_counts[sample_counts.unit == "990101101"].assign(unit="990101199")
    c = pd.concat([sample_counts, stray], ignore_index=True)
    with pytest.raises(ValueError, match="counts have unit codes that are not in the units "
                                         "table: 990101199"):
        ind.compute(c, ["crude_birth_rate"], period="2024Q3", level="county",
                    units=sample_units)


def _dekad_counts() -> pd.DataFrame:
    # births and compliant births of unit A in the three dekads of July 2024, and of B
    dek = pd.Series([pr.Dekad(2024, 7, k) for k in (1, 2, 3)] * 2, dtype=object)
    return pd.DataFrame({"unit": ["A"] * 3 + ["B"] * 3, "period": dek,
                         "births_male": [10, 12, 9, 3, 3, 3], "births_female": [10, 8, 11, 3, 3, 3],
                         "births_compliant": [18, 17, 18, 6, 6, 6]})


def test_dekad_period_gives_that_dekad_only():
    r = ind.compute(_dekad_counts(), ["compliance_rate"], period="2024-07-D1")
    a = r.set_index("unit").loc["A"]
    assert a["value"] == pytest.approx(18 / 20 * 100)  # 90.00, not the month's 53/60 = 88.33
    assert str(a["period"]) == "2024-07-D1" and isinstance(a["period"], pr.Dekad)
    month = ind.compute(_dekad_counts(), ["compliance_rate"], period="2024-07")
    assert month.set_index("unit").loc["A", "value"] == pytest.approx(53 / 60 * 100)


def test_dekad_of_monthly_counts_is_an_error(sample_counts):
    with pytest.raises(ValueError, match="period 2024-07-D1 is a dekad but the counts are "
                                         "monthly"):
        ind.compute(sample_counts, period="2024-07-D1")


def test_month_of_dekad_counts_missing_a_dekad():
    c = _dekad_counts().drop(index=1)
    r = ind.compute(c, ["compliance_rate"], period="2024-07").set_index("unit")
    assert r.loc["A", "note"] == "not reported: 2 of 3 dekads, 2024-07-D2 missing"
    assert r.loc["B", "value"] == pytest.approx(18 / 18 * 100)
    r = ind.compute(c, ["compliance_rate"], period="2024-07-D2").set_index("unit")
    assert r.loc["A", "note"] == "not reported: no counts for 2024-07-D2"


def test_user_columns_roll_up_with_the_others():
    months = pd.period_range("2024-07", "2024-09", freq="M")
    c = pd.DataFrame({"unit": ["A"] * 3, "period": months, "newlyweds_filed": [4, 5, 6],
                      "newlyweds": [5, 6, 8], "marriages": [3, 2, 4],
                      "adults": [1000, 1100, 1200]})
    filed = ind.proportion("newlywed_filing_rate", "newlyweds_filed", "newlyweds")
    married = ind.rate("marriage_rate", "marriages", exposure="adults")
    r = ind.compute(c, [filed, married], period="2024Q3").set_index("indicator")
    assert r.loc["newlywed_filing_rate", "value"] == pytest.approx(15 / 19 * 100)
    # the exposure is a stock: PY = (1000 x 31 + 1100 x 31 + 1200 x 30) / 366
    py = (1000 * 31 + 1100 * 31 + 1200 * 30) / 366
    assert r.loc["marriage_rate", "value"] == pytest.approx(9 / py * 1000, rel=1e-12)
    text = c.assign(newlyweds=c["newlyweds"].astype(str))
    with pytest.raises(ValueError, match="count column 'newlyweds' is not numeric .*pass the "
                                         r"indicator to load_counts\(indicators=\[...\]\)"):
        ind.compute(text, [filed], period="2024Q3")


def test_results_with_spans_and_dekads_survive_parquet_json_concat_pickle(tmp_path,
                                                                        sample_counts):
    import pickle

    parts = [ind.compute(sample_counts, ["crude_birth_rate"], period="2024H1"),
             ind.compute(sample_counts, ["crude_birth_rate"], period="2024Q3", ytd=True),
             ind.compute(_dekad_counts(), ["compliance_rate"], period="2024-07-D2")]
    for r in parts:
        r.to_parquet(tmp_path / "r.parquet")
        back = pd.read_parquet(tmp_path / "r.parquet")
        periods, bad = pr.parse_series(back["period"])
        assert not bad.any() and list(periods) == list(r["period"])
        r.to_json(tmp_path / "r.json")
        back = pd.read_json(tmp_path / "r.json", dtype={"unit": str, "period": str})
        assert list(pr.parse_series(back["period"])[0]) == list(r["period"])
        assert pickle.loads(pickle.dumps(r))["period"].tolist() == r["period"].tolist()
    both = pd.concat(parts[:2], ignore_index=True)
    assert [str(p) for p in pd.unique(both["period"])] == ["2024H1", "2024-01/2024-09"]


def test_indicator_draws_follow_jeffreys_posteriors():
    """Means of the draws against the Jeffreys posterior means by hand: Beta(x + 1/2,
    n - x + 1/2) has mean (x + 1/2) / (n + 1); Gamma(x + 1/2) has mean x + 1/2."""
    rng = np.random.default_rng(7)
    sums = pd.DataFrame({"births_compliant": [40.0, np.nan], "births": [50.0, 10.0],
                         "births_male": [60.0, 5.0], "births_female": [50.0, 5.0],
                         "population": [2000.0, 100.0], "deaths": [10.0, 1.0]})
    d = ind.get("compliance_rate").draw(sums, rng, 20000)
    assert d.shape == (20000, 2) and np.isnan(d[:, 1]).all()
    assert d[:, 0].mean() == pytest.approx(40.5 / 51 * 100, rel=5e-3)
    d = ind.get("crude_birth_rate").draw(sums, rng, 20000)
    assert d[:, 0].mean() == pytest.approx(50.5 / 2000 * 1000, rel=1e-2)
    d = ind.get("sex_ratio_at_birth").draw(sums, rng, 20000)
    p = 60.5 / 111  # median of 100p/(1-p) is the map of the Beta median, close to this
    assert np.median(d[:, 0]) == pytest.approx(100 * p / (1 - p), rel=2e-2)
    d = ind.get("natural_growth_rate").draw(sums, rng, 20000)
    assert d[:, 0].mean() == pytest.approx((50.5 - 10.5) / 2000 * 1000, rel=3e-2)
    assert ind.get("sex_ratio_at_birth").funnel_axis("en") == "births"


@settings(max_examples=15, deadline=None)
@given(unit=st.integers(0, 17), month=st.integers(1, 12))
def test_removing_any_month_of_any_unit_leaves_it_not_reported(sample_counts, unit, month):
    """Dropping one month of one township: its quarter and year rows stay, all missing and
    noted; every other township's figures are unchanged (compared with the full data)."""
    code = f"9901011{unit + 1:02d}"
    label = f"2023-{month:02d}"  # 2023: the sample's 2024 has a planted missing month
    c = _without(sample_counts, code, [label])
    quarter = f"2023Q{(month - 1) // 3 + 1}"
    for p, n in ((quarter, 3), ("2023", 12)):
        full = ind.compute(sample_counts, ["crude_birth_rate", "compliance_rate"], period=p)
        got = ind.compute(c, ["crude_birth_rate", "compliance_rate"], period=p)
        assert len(got) == len(full) == 36
        mine = got["unit"] == code
        assert got.loc[mine, "value"].isna().all()
        assert set(got.loc[mine, "note"]) == {
            f"not reported: {n - 1} of {n} months, {label} missing"}
        pd.testing.assert_frame_equal(got[~mine].reset_index(drop=True),
                                      full[~mine].reset_index(drop=True), check_categorical=False)


def test_three_levels_name_the_missing_village():
    units = pd.DataFrame({"unit": ["C", "T1", "T2", "V1", "V2", "V3"],
                          "name": list("CTTVVV"), "parent": [pd.NA, "C", "C", "T1", "T1", "T2"],
                          "level": ["county", "township", "township", "village", "village",
                                    "village"]})
    counts = pd.DataFrame({"unit": ["V1", "V3"], "period": pd.PeriodIndex(["2024"] * 2,
                                                                         freq="Y"),
                           "births_male": [1, 4], "births_female": [1, 1]})
    t = ind.compute(counts, ["sex_ratio_at_birth"], level="township", units=units)
    # V2 (a village of T1) sent nothing: T1 is missing and says so, T2 = 4 / 1 x 100
    assert t["note"].tolist() == ["not reported: children missing: V2",
                                  "few events: 5 births"]
    assert np.isnan(t["value"].iloc[0]) and t["value"].iloc[1] == 400.0
    v = ind.compute(counts, ["sex_ratio_at_birth"], units=units)
    assert v["unit"].tolist() == ["V1", "V2", "V3"]
    # V1: 1 + 1 births, V3: 4 + 1 (informational notes, values kept)
    assert v["note"].tolist() == ["few events: 2 births", "not reported: no counts for 2024",
                                  "few events: 5 births"]


# --------------------------------------------------------------------------- careless input
# Cases found by trying the package as a careless user would (issue 7): each is refused with
# a sentence naming the problem, or handled correctly. Expected values are by hand.

_UNITS3 = pd.DataFrame({"unit": ["1", "11", "12"], "name": ["县", "甲乡", "乙乡"],
                        "parent": [pd.NA, "1", "1"], "level": ["county", "township", "township"]})


def _q3(**over) -> pd.DataFrame:
    c = pd.DataFrame({"unit": ["11"] * 3, "period": pd.PeriodIndex(
        ["2024-07", "2024-08", "2024-09"], freq="M"), "births_male": [1, 2, 3],
        "births_female": [1, 1, 1], "deaths": [0, 0, 0], "population": [100, 100, 100]})
    return c.assign(**over)


def test_county_row_beside_its_townships_is_refused_not_counted_twice():
    # the county's own row (4 + 6 births) beside its townships' (3 + 7): summing all three
    # would give 20 births where the county had 10
    c = pd.DataFrame({"unit": ["1", "11", "12"], "period": pd.PeriodIndex(["2024-07"] * 3,
                                                                         freq="M"),
                      "births_male": [4, 1, 3], "births_female": [6, 2, 4],
                      "deaths": [2, 1, 1], "population": [300, 100, 200]})
    with pytest.raises(ValueError, match=r"several levels \(county: 1; township: 11, 12\)"):
        ind.compute(c, ["crude_birth_rate"], period="2024-07", level="county", units=_UNITS3)


def test_hand_built_counts_are_checked_like_loaded_ones():
    with pytest.raises(ValueError, match=r"1 duplicate row\(s\) for \(unit, period\), "
                                         r"e\.g\. \(11, 2024-07\)"):
        ind.compute(pd.concat([_q3(), _q3().iloc[[0]]]), ["crude_birth_rate"])
    with pytest.raises(ValueError, match="'births_male' has values that are not whole"):
        ind.compute(_q3(births_male=[1.5, 2, 3]), ["crude_birth_rate"], period="2024Q3")
    with pytest.raises(ValueError, match="'births_male' has negative values"):
        ind.compute(_q3(births_male=[-5, 2, 3]), ["crude_birth_rate"], period="2024Q3")
    # a mean population may be fractional: (1000 + 1001) / 2
    r = ind.compute(_q3(population=[1000.5] * 3), ["crude_birth_rate"], period="2024Q3")
    assert r["numerator"].iloc[0] == 9  # 1+2+3 + 1+1+1


def test_misspelt_method_key_and_borrowed_builtin_key_are_refused():
    with pytest.raises(ValueError, match="methods names indicator.s. not computed here: "
                                         "crude_birth_rat"):
        ind.compute(_q3(), ["crude_birth_rate"], methods={"crude_birth_rat": "byar"})
    with pytest.raises(ValueError, match="indicator key 'compliance_rate' is built in"):
        ind.compute(_q3(births_compliant=[1, 1, 1]),
                    [ind.proportion("compliance_rate", "births_male", "births_female")])
    with pytest.raises(ValueError, match="an indicator key must be a non-empty name"):
        ind.proportion("", "a", "b")


def test_one_indicator_given_as_a_string():
    one = ind.compute(_q3(), "crude_birth_rate", period="2024Q3")
    assert one["indicator"].astype(str).tolist() == ["crude_birth_rate"]
    assert one["numerator"].iloc[0] == 9


def test_freq_with_no_complete_period_says_so():
    with pytest.raises(ValueError, match="no Y period is complete for any unit"):
        ind.compute(_q3(), ["crude_birth_rate"], freq="Y")


def test_a_report_sent_blank_is_not_reported():
    c = _q3()
    c[["births_male", "births_female", "deaths", "population"]] = \
        c[["births_male", "births_female", "deaths", "population"]].astype("Int64")
    c.loc[1, ["births_male", "births_female", "deaths", "population"]] = pd.NA
    r = ind.compute(c, ["crude_birth_rate"], period="2024Q3")
    assert np.isnan(r["value"].iloc[0])
    assert r["note"].iloc[0] == "not reported: empty count cells"


def test_few_events_note_keeps_the_value():
    """Issue 13: fewer than 10 events say so without blanking. A: 4 births, 2 deaths over a
    year of 1,000 people: natural growth (4 - 2) / 1000 x 1000 = 2 per mille on 6 events;
    B: 12 births and 3 deaths (15 events), no note."""
    c = pd.DataFrame({"unit": ["A", "B"], "period": pd.PeriodIndex(["2023"] * 2, freq="Y"),
                      "births_male": [2, 6], "births_female": [2, 6], "deaths": [2, 3],
                      "population": [1000, 1000]})
    r = ind.compute(c, ["crude_birth_rate", "crude_death_rate", "natural_growth_rate",
                        "sex_ratio_at_birth"]).set_index(["unit", "indicator"])
    assert r.loc[("A", "natural_growth_rate"), "note"] == "few events: 6 births and deaths"
    assert r.loc[("A", "natural_growth_rate"), "value"] == pytest.approx(2.0, rel=1e-12)
    assert r.loc[("A", "crude_death_rate"), "note"] == "few events: 2 deaths"
    assert r.loc[("A", "sex_ratio_at_birth"), "note"] == "few events: 4 births"
    assert r.loc[("A", "sex_ratio_at_birth"), "value"] == 100.0
    assert r.loc["A", ["value", "lower", "upper"]].notna().all().all()
    assert (r.loc["B", "note"].drop("crude_death_rate") == "").all()
    assert r.loc[("B", "crude_death_rate"), "note"] == "few events: 3 deaths"


def test_float_counts_with_a_stock_and_nothing_rolled_up():
    # all-float columns made pandas hand back a read-only view ("output array is read-only");
    # by hand: CDR = 12 / (1000 x 366/366) x 1000 = 12 per mille for leap year 2024
    c = pd.DataFrame({"unit": ["A"], "period": pd.PeriodIndex(["2024"], freq="Y"),
                      "deaths": [12.0], "population": [1000.0]})
    r = ind.compute(c, ["crude_death_rate"])
    assert r["value"].iloc[0] == pytest.approx(12.0)


def test_a_column_no_indicator_uses_may_hold_anything(sample_counts):
    # text in births_male does not stop the crude birth rate, which reads births only; the
    # values equal those of the clean counts (compared with them, not with a formula)
    d = sample_counts.copy()
    d["births_male"] = d["births_male"].astype(object)
    d.loc[0, "births_male"] = "12"
    got = ind.compute(d, ["crude_birth_rate"], period="2023Q1")
    want = ind.compute(sample_counts, ["crude_birth_rate"], period="2023Q1")
    pd.testing.assert_frame_equal(got, want)
    with pytest.raises(ValueError, match="count column 'births_male' is not numeric"):
        ind.compute(d, ["sex_ratio_at_birth"], period="2023Q1")
