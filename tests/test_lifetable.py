"""Tests of fpanalysis.projection.lifetable.

Reference values: PHEindicatormethods (UKHSA's R package), tests/testthat/testLifeExpectancy.R
(data frame ``df1`` and its expected ``answer1``, given there to 8-10 significant digits and
tested to 4 decimals); the other expected values are computed by hand below.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fpanalysis.projection.lifetable import ageing_indicators, life_expectancy, life_table

# PHEindicatormethods tests/testthat/testLifeExpectancy.R, df1 and answer1
PHE_AGES = [0, 1] + list(range(5, 95, 5))
PHE_POPS = [7060, 35059, 46974, 48489, 43219, 38561, 46009, 57208, 61435, 55601, 50209, 56416,
            46411, 39820, 37978, 37039, 33288, 23306, 11936, 11936]
PHE_DEATHS = [17, 9, 4, 8, 20, 15, 24, 33, 50, 71, 100, 163, 263, 304, 536, 872, 1390, 1605,
              1936, 1937]
PHE_VALUE = [80.16960813, 79.36245674, 75.44193645, 70.47299936, 65.52909542, 60.67510088,
             55.78835987, 50.92752727, 46.06740425, 41.24505636, 36.49322717, 31.83343842,
             27.26027992, 22.9719144, 18.76856852, 14.95858336, 11.51684445, 8.618849241,
             6.163942934, 6.16210635]
PHE_LOWER = [79.88268548, 79.0898816, 75.17407307, 70.20675732, 65.26548673, 60.41876577,
             55.53801579, 50.68279939, 45.82666794, 41.00842831, 36.26223216, 31.60996318,
             27.04337271, 22.76653134, 18.57570352, 14.77985004, 11.34831778, 8.451134045,
             5.978358351, 5.887683386]
PHE_UPPER = [80.45653078, 79.63503188, 75.70979983, 70.7392414, 65.79270412, 60.931436,
             56.03870395, 51.17225516, 46.30814055, 41.48168441, 36.72422219, 32.05691365,
             27.47718713, 23.17729746, 18.96143352, 15.13731667, 11.68537112, 8.786564437,
             6.349527517, 6.436529314]


def _phe():
    return pd.DataFrame({"age": PHE_AGES, "population": PHE_POPS, "deaths": PHE_DEATHS})


def test_phe_life_expectancy_reference():
    data = _phe()
    before = data.copy()
    t = life_table(data, by=(), nax="phe")
    pd.testing.assert_frame_equal(data, before)  # input untouched
    # PHE tests to 4 decimals; ex agrees to 1e-8
    assert np.allclose(t["ex"], PHE_VALUE, rtol=0, atol=1e-8)
    # PHE's limits use z = 1.96 (not qnorm(0.975) = 1.959964): their half-width / 1.96 is
    # the standard error, which agrees to 1e-8; the limits themselves to 4 decimals
    half = (np.array(PHE_UPPER) - np.array(PHE_LOWER)) / 2
    assert np.allclose(t["se"], half / 1.96, rtol=0, atol=1e-8)
    assert np.allclose(t["lower"], PHE_LOWER, rtol=0, atol=5e-5)
    assert np.allclose(t["upper"], PHE_UPPER, rtol=0, atol=5e-5)
    assert (t["method"] == "Chiang, using Silcocks et al for confidence limits").all()
    # age groups as labels, rows shuffled: same table
    labels = ["0", "1-4"] + [f"{a}-{a + 4}" for a in range(5, 90, 5)] + ["90+"]
    shuffled = data.assign(age=labels).sample(frac=1, random_state=1)
    t2 = life_table(shuffled, by=(), nax="phe")
    assert np.allclose(t2["ex"], PHE_VALUE, rtol=0, atol=1e-8)


def _cd(m0, m1, m5, a0, a1):
    """Three-interval table (0, 1-4, 5+) written out by hand."""
    q0 = m0 / (1 + (1 - a0) * m0)
    q1 = 4 * m1 / (1 + (4 - a1) * m1)
    l0, l1 = 1.0, 1 - q0
    l5 = l1 * (1 - q1)
    big_l0 = l1 + a0 * (l0 - l1)
    big_l1 = 4 * l5 + a1 * (l1 - l5)
    big_l5 = l5 / m5
    return (big_l0 + big_l1 + big_l5) / l0, q0, q1


@pytest.mark.parametrize("sex, m0, a0, a1", [
    # Preston et al. table 3.3: male 1a0 = 0.045 + 2.684 x 0.02 = 0.09868,
    # 4a1 = 1.651 - 2.816 x 0.02 = 1.59468
    ("male", 0.02, 0.045 + 2.684 * 0.02, 1.651 - 2.816 * 0.02),
    # female 0.053 + 2.800 x 0.02 = 0.109, 1.522 - 1.518 x 0.02 = 1.49164
    ("female", 0.02, 0.053 + 2.800 * 0.02, 1.522 - 1.518 * 0.02),
    # m0 >= 0.107: the constants
    ("male", 0.2, 0.330, 1.352),
    ("female", 0.2, 0.350, 1.361),
])
def test_coale_demeny_by_hand(sex, m0, a0, a1):
    data = pd.DataFrame({"sex": sex, "age": [0, 1, 5], "mx": [m0, 0.005, 0.05]})
    t = life_table(data)
    e0, q0, q1 = _cd(m0, 0.005, 0.05, a0, a1)
    assert t["ax"].iloc[0] == pytest.approx(a0, rel=1e-12)
    assert t["ax"].iloc[1] == pytest.approx(a1, rel=1e-12)
    assert t["qx"].iloc[0] == pytest.approx(q0, rel=1e-12)
    assert t["qx"].iloc[1] == pytest.approx(q1, rel=1e-12)
    assert t["ex"].iloc[0] == pytest.approx(e0, rel=1e-12)
    assert t["ex"].iloc[2] == pytest.approx(20.0)  # open interval: 1 / 0.05
    assert t[["se", "lower", "upper"]].isna().all().all()  # from mx: no interval


def test_constant_hazard_above_five():
    # a closed 5-year interval with mx = 0.4: a = 5 + 1/0.4 - 5/(1 - exp(-2)) = 1.71807...,
    # q = 1 - exp(-2) = 0.864665 (PHE's a = 2.5 would give q = 2 / 2 = 1)
    data = pd.DataFrame({"sex": "female", "age": [0, 1, 5, 10], "mx": [0.01, 0.001, 0.4, 0.5]})
    t = life_table(data)
    assert t["ax"].iloc[2] == pytest.approx(5 + 2.5 - 5 / (1 - np.exp(-2)), rel=1e-12)
    assert t["qx"].iloc[2] == pytest.approx(1 - np.exp(-2), rel=1e-12)
    # phe's a = 2.5 with mx = 0.5: q = 5 x 0.5 / (1 + 2.5 x 0.5) = 1.11 > 1
    with pytest.raises(ValueError) as err:
        life_table(data.assign(mx=[0.01, 0.001, 0.5, 0.5]), by=(), nax="phe")
    assert str(err.value) == (
        "qx exceeds 1 at age 5 (mx = 0.5, 5-year interval, ax = 2.5): a death rate this high "
        "is implausible at that age; check the deaths and population there (or try "
        "nax='coale_demeny')")
    # finding 22: under Coale-Demeny (mx 2.5 at 1-4: 4a1 = 1.522 - 1.518 x 0.01 = 1.507,
    # q = 4 x 2.5 / (1 + 2.493 x 2.5) > 1) the message no longer advises Coale-Demeny
    with pytest.raises(ValueError, match=r"\(or try nax='phe'\)$"):
        life_table(data.assign(mx=[0.01, 2.5, 0.4, 0.5]))


def test_chiang_variance_by_hand():
    # ages 0 (n = 1), 1 (n = 4), 5+ ; PHE ax: 0.1 and 2.0 years
    # D = 2, 1, 50 ; P = 100, 400, 1000 ; m = 0.02, 0.0025, 0.05
    # q0 = 0.02 / (1 + 0.9 x 0.02) = 0.0196464; q1 = 0.01 / (1 + 2 x 0.0025) = 0.00995025
    # l1 = 0.980354, l5 = l1 (1 - q1) = 0.970599
    # e5 = 20; e1 = (4 l5 + 2 (l1 - l5) + l5 / 0.05) / l1; var terms:
    #   open: l5^2 / (D m^2) = l5^2 / (50 x 0.0025)
    #   age 1: l1^2 (2 + e5)^2 q1^2 (1 - q1) / 1
    #   age 0: 1 (0.9 + e1)^2 q0^2 (1 - q0) / 2
    data = pd.DataFrame({"age": [0, 1, 5], "deaths": [2, 1, 50],
                         "population": [100, 400, 1000]})
    t = life_table(data, by=(), nax="phe", radix=1.0)
    q0, q1 = 0.02 / 1.018, 0.01 / 1.005
    l1 = 1 - q0
    l5 = l1 * (1 - q1)
    e1 = (4 * l5 + 2 * (l1 - l5) + l5 / 0.05) / l1
    w5 = l5 ** 2 / (50 * 0.05 ** 2)
    w1 = l1 ** 2 * (2 + 20) ** 2 * q1 ** 2 * (1 - q1) / 1
    w0 = (0.9 + e1) ** 2 * q0 ** 2 * (1 - q0) / 2
    assert t["se"].iloc[2] == pytest.approx(np.sqrt(w5 / l5 ** 2), rel=1e-12)
    assert t["se"].iloc[1] == pytest.approx(np.sqrt((w1 + w5) / l1 ** 2), rel=1e-12)
    assert t["se"].iloc[0] == pytest.approx(np.sqrt(w0 + w1 + w5), rel=1e-12)
    z = 1.959963984540054  # scipy.stats.norm.ppf(0.975)
    assert t["lower"].iloc[0] == pytest.approx(t["ex"].iloc[0] - z * t["se"].iloc[0])


def test_zero_deaths_in_a_closed_interval():
    # no deaths at 1-4: q = 0, no variance from that interval, the table goes on
    data = _phe().assign(deaths=lambda f: f["deaths"].where(f["age"] != 1, 0))
    t = life_table(data, by=(), nax="phe")
    assert t["qx"].iloc[1] == 0
    assert t["lx"].iloc[2] == t["lx"].iloc[1]
    assert t["se"].notna().all()


def test_by_groups_and_sexes():
    both = pd.concat([_phe().assign(sex="female", unit="1"), _phe().assign(sex="male",
                                                                           unit="1")])
    t = life_table(both, by=("unit", "sex"))
    assert len(t) == 40
    assert list(t.columns[:3]) == ["unit", "sex", "age"]
    le = life_expectancy(both, by=("unit", "sex"), at=65)
    assert list(le.columns) == ["unit", "sex", "indicator", "value", "lower", "upper",
                                "confidence", "method"]
    assert (le["indicator"] == "life_expectancy_at_65").all()
    assert len(le) == 2
    with pytest.raises(ValueError, match="at must be a start age of the table"):
        life_expectancy(both, by=("unit", "sex"), at=3)


@pytest.mark.parametrize("change, kwargs, message", [
    (lambda d: d[d["age"] != 40], {}, "1 group\\(s\\) differ, e.g. 'the table' lacks \\[40\\]"),
    (lambda d: pd.concat([d, d.iloc[[3]]]), {}, "duplicate rows for a group and age"),
    (lambda d: d.assign(deaths=d["deaths"].where(d["age"] != 5, 50000)), {},
     "deaths exceed population at age 5"),
    (lambda d: d.assign(population=d["population"].where(d["age"] != 20, 0),
                        deaths=d["deaths"].where(d["age"] != 20, 0)), {},
     "population is 0 at age 20"),
    (lambda d: d.assign(deaths=d["deaths"].where(d["age"] != 90, 0)), {},
     "no deaths \\(mx = 0\\) in the open age interval 90\\+"),
    (lambda d: d.assign(deaths=d["deaths"].where(d["age"] != 10, -5)), {},
     "deaths must be finite and non-negative"),
    (lambda d: d.assign(deaths=d["deaths"].astype(float).where(d["age"] != 10)), {},
     "deaths must be finite and non-negative"),
    (lambda d: d.assign(mx=0.1), {}, "both deaths/population and mx"),
    (lambda d: d.assign(age=d["age"].astype(str).replace("10", "ten")), {},
     "not an age or age group: 'ten'"),
    (lambda d: d, {"confidence": 95}, "confidence must be a number in \\(0, 1\\)"),
    (lambda d: d, {"nax": "keyfitz"}, "nax must be one of 'coale_demeny', 'phe'"),
    (lambda d: d, {"nax": "coale_demeny"}, "needs the sex column 'sex' among by"),
    (lambda d: d.iloc[:0], {}, "data have no rows"),
])
def test_bad_data_refused(change, kwargs, message):
    args = {"by": (), "nax": "phe"} | kwargs
    with pytest.raises(ValueError, match=message):
        life_table(change(_phe()), **args)


def test_unknown_sex_refused():
    data = _phe().assign(sex="Female")
    with pytest.raises(ValueError, match="sex must be 'male' or 'female' for Coale-Demeny"):
        life_table(data)


def test_group_with_other_open_age_refused():
    a = _phe().assign(sex="male")
    b = _phe().assign(sex="female")
    b = b[b["age"] != 90]
    with pytest.raises(ValueError, match="1 group\\(s\\) differ, e.g. 'female' lacks \\[90\\]"):
        life_table(pd.concat([a, b]))


def test_ageing_indicators_by_hand():
    # abridged groups of one township: 0-14: 10 + 40 + 50 + 50 = 150, 15-64: 700 (10 groups
    # of 70), 65+: 6 groups of 25 = 150; total 1000.
    # share 65+ = 150 / 1000 x 100 = 15; old-age dependency = 150 / 700 x 100 = 21.428571
    labels = ["0", "1-4", "5-9", "10-14"] + [f"{a}-{a + 4}" for a in range(15, 65, 5)] + \
        [f"{a}-{a + 4}" for a in range(65, 90, 5)] + ["90+"]
    pop = [10, 40, 50, 50] + [70] * 10 + [25] * 6
    frame = pd.DataFrame({"unit": "101", "period": "2024", "sex": "female",
                          "age_group": labels, "population": pop})
    before = frame.copy()
    out = ageing_indicators(frame)
    pd.testing.assert_frame_equal(frame, before)
    got = out.set_index("indicator")
    assert got.loc["share_aged_65_plus", "value"] == pytest.approx(15.0)
    assert got.loc["old_age_dependency_ratio", "value"] == pytest.approx(150 / 700 * 100)
    assert got.loc["old_age_dependency_ratio", "denominator"] == 700
    assert (out["multiplier"] == 100).all()
    with pytest.raises(ValueError,
                       match="straddle 15 or 65, so the indicators cannot be split: '60-69'"):
        ageing_indicators(frame.assign(age_group=frame["age_group"].replace("60-64", "60-69")))
    with pytest.raises(ValueError, match="no population \\(or none aged 15-64\\)"):
        ageing_indicators(frame.assign(population=0))
    # without its oldest groups a share of 0 would be silently wrong: refused
    with pytest.raises(ValueError, match="without gaps or overlaps: they do not in group "
                                         "\\('101', '2024', 'female'\\), near age 85"):
        ageing_indicators(frame[~frame["age_group"].isin(["90+"])])
    with pytest.raises(ValueError, match="near age 25"):  # 20-24 missing: 25 follows 15-19
        ageing_indicators(frame[frame["age_group"] != "20-24"])


def test_open_age_folds_the_oldest_groups():
    # closed at 85: the 85-89 and 90+ rows become 85+ with 1936 + 1937 = 3873 deaths and
    # 11936 x 2 = 23872 people; e85 = 1 / m = 23872 / 3873; ages below are unchanged
    t = life_table(_phe(), by=(), nax="phe", open_age=85)
    full = life_table(_phe(), by=(), nax="phe")
    assert t["age"].tolist() == PHE_AGES[:-1]
    assert t["ex"].iloc[-1] == pytest.approx(23872 / 3873, rel=1e-12)
    assert np.allclose(t["qx"].iloc[:-1], full["qx"].iloc[:-2], rtol=1e-12)
    with pytest.raises(ValueError, match="open_age must be a multiple of 5 from 5 up"):
        life_table(_phe(), by=(), nax="phe", open_age=87)
    with pytest.raises(ValueError, match="open_age needs deaths and population"):
        life_table(pd.DataFrame({"age": [0, 1, 5], "mx": [0.1, 0.1, 0.1]}), by=(),
                   nax="phe", open_age=5)


def test_sample_population_age_feeds_life_tables():
    # the county's 2024 table from the sample's population_age.csv, both sexes
    from fpanalysis.io import load_population_age
    from tests.conftest import SAMPLE

    pa = load_population_age(SAMPLE)
    county = pa.groupby(["period", "sex", "age_group"], sort=False)[
        ["population", "deaths"]].sum().reset_index()
    le = life_expectancy(county, by=("period", "sex"), age="age_group")
    assert len(le) == 6
    assert ((le["value"] > 70) & (le["value"] < 90)).all()
    assert (le["lower"] < le["value"]).all() and (le["value"] < le["upper"]).all()
    female = le[le["sex"] == "female"]["value"].to_numpy()
    male = le[le["sex"] == "male"]["value"].to_numpy()
    assert (female > male).all()


# --------------------------------------------------------------------------- review findings


def _labelled():
    """The PHE table with labels 0, 1-4, 5-9, ..., 85-89, 90+ (the ages of PHE_AGES)."""
    d = _phe()
    labels = ["0", "1-4"] + [f"{a}-{a + 4}" for a in PHE_AGES[2:-1]] + ["90+"]
    return d.assign(age=labels)


def test_labels_closed_last_group_and_wrong_end_refused():
    d = _labelled()
    # the labels give the same table as the start ages (PHE_VALUE, the reference above)
    assert np.allclose(life_table(d, by=(), nax="phe")["ex"], PHE_VALUE, rtol=0, atol=1e-8)
    # finding 10: '90-94' as the last group was silently taken as open
    with pytest.raises(ValueError, match=r"^the last age group '90-94' is closed: label the "
                                         r"open group with '\+' \(e\.g\. '90\+'\) or pass "
                                         r"open_age$"):
        life_table(d.assign(age=d["age"].replace("90+", "90-94")), by=(), nax="phe")
    # with open_age the closed groups from 85 up are folded into 85+: accepted
    life_table(d.assign(age=d["age"].replace("90+", "90-94")), by=(), nax="phe", open_age=85)
    # finding 15: '10-15' does not end where 15-19 starts
    with pytest.raises(ValueError, match=r"^age group '10-15' does not end where the next "
                                         r"group starts \(15\)"):
        life_table(d.assign(age=d["age"].replace("10-14", "10-15")), by=(), nax="phe")


@pytest.mark.parametrize(("column", "value", "message"), [
    ("deaths", "12", "deaths must be numbers, not text or true/false"),
    ("deaths", True, "deaths must be numbers, not text or true/false"),
    ("population", "1000", "population must be numbers, not text or true/false"),
    ("deaths", 2.5, "deaths must be whole numbers: 1 value(s) are not, e.g. 2.5"),
])
def test_text_booleans_fractional_deaths_refused(column, value, message):
    # finding 11/12: pd.to_numeric used to turn '12' into 12 and True into 1
    d = _phe()
    d[column] = d[column].astype(object)
    d.loc[3, column] = value
    with pytest.raises(ValueError) as err:
        life_table(d, by=(), nax="phe")
    assert str(err.value) == message


def test_sex_with_a_stray_space_is_one_group():
    # finding 23: 'male ' on one row made a second, incomplete group
    d = pd.concat([_phe().assign(sex="male"), _phe().assign(sex="female")], ignore_index=True)
    d.loc[4, "sex"] = "male "
    t = life_table(d, by=("sex",), nax="phe")
    assert sorted(set(t["sex"])) == ["female", "male"]
    assert np.allclose(t.loc[t["sex"] == "male", "ex"], PHE_VALUE, rtol=0, atol=1e-8)


def test_ageing_tiles_each_sex_and_refuses_duplicates_and_empty():
    # finding 9: with a sex column, the females lacking 65+ while the males have it passed
    # the tiling check (the union of both sexes tiled); a repeated row was counted twice
    rows = []
    for sex in ("male", "female"):
        rows += [("1", "2024", sex, g, 10) for g in ("0-14", "15-64", "65+")]
    p = pd.DataFrame(rows, columns=["unit", "period", "sex", "age_group", "population"])
    # both sexes: 20 of 60 aged 65+ = 33.3 %, 20 per 40 aged 15-64 = 50
    got = ageing_indicators(p).set_index("indicator")["value"]
    assert got["share_aged_65_plus"] == pytest.approx(100 / 3)
    with pytest.raises(ValueError, match=r"they do not in group \('1', '2024', 'female'\)"):
        ageing_indicators(p[~((p["sex"] == "female") & (p["age_group"] == "65+"))])
    with pytest.raises(ValueError, match="^population has duplicate rows for a group and age"):
        ageing_indicators(pd.concat([p, p.iloc[[0]]], ignore_index=True))
    with pytest.raises(ValueError, match="^population has no rows$"):
        ageing_indicators(p.iloc[:0])


def test_ageing_sums_units_left_out_of_by():
    # two units summed by period: 40 of 120 aged 65+ (both sexes, both units) = 33.3 %; the
    # same (period, sex, age) in two units is not a duplicate
    rows = [(u, "2024", sex, g, 10) for u in ("1", "2") for sex in ("male", "female")
            for g in ("0-14", "15-64", "65+")]
    p = pd.DataFrame(rows, columns=["unit", "period", "sex", "age_group", "population"])
    got = ageing_indicators(p, by=("period",)).set_index("indicator")
    assert got.loc["share_aged_65_plus", "numerator"] == 40
    assert got.loc["share_aged_65_plus", "value"] == pytest.approx(100 / 3)
