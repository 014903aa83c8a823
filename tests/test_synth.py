"""The sample-county generator: byte-identical regeneration, other counties, scale, realism.
Realism ranges are those the Foundation issue asks for (CBR 9-14 per mille, CDR 6-8, SRB of
first births near 106, compliance 80-95 %)."""

from __future__ import annotations

import filecmp
import subprocess
import sys
import tomllib

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from fpanalysis import indicators, io, periods, synth
from tests.conftest import ROOT, SAMPLE


def test_regenerates_committed_sample_byte_for_byte(tmp_path):
    subprocess.run([sys.executable, "-m", "fpanalysis.synth", "--out", str(tmp_path)],
                   check=True, cwd=ROOT, capture_output=True)
    names = sorted(p.name for p in SAMPLE.iterdir())
    assert names == sorted(p.name for p in tmp_path.iterdir())
    match, mismatch, errors = filecmp.cmpfiles(SAMPLE, tmp_path, names, shallow=False)
    assert mismatch == [] and errors == []


def test_other_counties_load_cleanly(tmp_path):
    synth.write_sample(tmp_path, seed=7, units=25, years=(2020, 2024))
    units = io.load_units(tmp_path)
    counts = io.load_counts(tmp_path)
    # the county, 25 townships, 7 villages under one township, 3 areas of 3 under another
    assert len(units) == 1 + 25 + 7 + 3 + 9 and counts["unit"].nunique() == 25
    villages = io.load_counts(tmp_path / "counts_villages.csv", units=units)
    assert villages["unit"].nunique() == 16 and len(villages) == 16 * 60
    io.load_values(tmp_path / "values_villages.csv", units=units)
    assert counts["period"].min() == pd.Period("2020-01", "M")
    assert counts["period"].max() == pd.Period("2024-12", "M")
    io.load_audits(tmp_path)
    io.load_counts(tmp_path / "births_hospital.csv", units=units)


def test_sample_levels_are_realistic(sample_counts):
    year = periods.rollup(sample_counts, "Y", by=[])
    cbr = year["births"] / year["population"] * 1000
    cdr = year["deaths"] / year["population"] * 1000
    assert cbr.between(9, 14).all() and cdr.between(6, 8).all()
    s = sample_counts[["births_male_o1", "births_female_o1", "births_compliant", "births"]].sum()
    srb1 = s.births_male_o1 / s.births_female_o1 * 100
    assert 100 < srb1 < 112
    assert 0.80 < s.births_compliant / s.births < 0.95
    params = synth.parameters()
    assert (params["population0"] < 4000).sum() == 2  # small townships whose rates swing
    assert (params["srb_o2"] > 130).sum() == 3


def test_event_register_is_written_in_chunks(tmp_path):
    path = synth.write_events(tmp_path / "events.parquet", 25_000, n_units=40, chunk=10_000)
    meta = pq.ParquetFile(path)
    assert meta.metadata.num_rows == 25_000
    assert meta.metadata.num_row_groups == 3
    table = pq.read_table(path).to_pandas()
    assert set(table["event"]) == {"birth", "death"}
    births = table[table["event"] == "birth"]
    assert births["mother_age"].between(15, 49).all()
    assert table.loc[table["event"] == "death", "birth_order"].isna().all()
    assert table["date"].min() >= pd.Timestamp("2024-01-01").date()
    assert table["unit"].nunique() <= 40


def test_generator_scales_without_row_loops():
    params = synth.parameters(2000, seed=3)
    counts = synth.make_counts(params, (2024, 2024), seed=3)
    assert len(counts) == 24_000
    assert (counts.drop(columns=["unit", "period"]).to_numpy() >= 0).all()


def test_bad_arguments():
    with pytest.raises(ValueError, match="n_units must be at least 1"):
        synth.make_units(0)
    with pytest.raises(SystemExit):
        synth.main(["--years", "2024-2020"])
    assert np.isclose(synth.ASFR_SHAPE.sum(), 1)


# ------------------------------------------------------------------ villages of the sample

TOWN_A, TOWN_B = "990101101", "990101105"  # villages directly under A; in areas under B


def _raw(name: str) -> pd.DataFrame:
    """A sample CSV read as plain text and integers (not through the package's loaders)."""
    return pd.read_csv(SAMPLE / name, dtype={"unit": str, "period": str, "parent": str})


def test_counts_csv_holds_townships_only_and_county_figures_are_complete(sample_units,
                                                                         sample_counts):
    units = _raw("units.csv")
    towns = set(units.loc[units["level"] == "township", "unit"])
    assert set(_raw("counts.csv")["unit"]) == towns
    county = indicators.compute(sample_counts, ["crude_birth_rate"], period="2024Q4",
                                level="county", units=sample_units)
    # the villages have no rows in counts.csv and do not make the county 'children missing'
    assert county["note"].tolist() == [""]
    # independent reference from the raw file: births of Oct-Dec 2024 over person-years
    # (each month's population x its days / 366), per 1000
    raw = _raw("counts.csv")
    q = raw[raw["period"].isin(["2024-10", "2024-11", "2024-12"])]
    days = q["period"].map({"2024-10": 31, "2024-11": 30, "2024-12": 31})
    expected = q["births"].sum() / (q["population"] * days).sum() * 366 * 1000
    assert county["value"].iloc[0] == pytest.approx(expected, rel=1e-12)


def test_villages_sum_exactly_to_their_townships():
    units = _raw("units.csv").set_index("unit")
    v = _raw("counts_villages.csv")
    area_or_town = v["unit"].map(units["parent"])
    town = area_or_town.where(area_or_town.map(units["level"]) == "township",
                              area_or_town.map(units["parent"]))
    assert set(town) == {TOWN_A, TOWN_B}
    sums = v.drop(columns="unit").groupby([town.rename("unit"), "period"]).sum()
    own = _raw("counts.csv").set_index(["unit", "period"]).loc[sums.index, sums.columns]
    assert len(sums) == 2 * 36
    pd.testing.assert_frame_equal(sums, own)  # every column, every month, exactly


def test_a_township_computed_from_its_villages_equals_its_own_row(sample_units,
                                                                    sample_counts):
    villages = io.load_counts(SAMPLE / "counts_villages.csv", units=sample_units)
    keys = ["crude_birth_rate", "crude_death_rate", "natural_growth_rate",
            "sex_ratio_at_birth", "compliance_rate", "postpartum_visit_rate"]
    for period in ("2024Q4", "2023"):
        up = indicators.compute(villages, keys, period=period, level="township",
                                units=sample_units)
        own = indicators.compute(sample_counts, keys, period=period, units=sample_units)
        a = up[up["unit"].isin([TOWN_A, TOWN_B])].set_index(["unit", "indicator"])
        b = own[own["unit"].isin([TOWN_A, TOWN_B])].set_index(["unit", "indicator"])
        assert len(a) == 12 and (a["note"] == "").all()
        for col in ("value", "lower", "upper"):
            np.testing.assert_allclose(a[col], b.loc[a.index, col], rtol=1e-12)
        # the 16 townships without villages are not reported at township level from villages
        assert (up.loc[~up["unit"].isin([TOWN_A, TOWN_B]), "note"]
                .str.startswith("not reported").all())


def test_areas_are_computed_from_their_villages(sample_units):
    villages = io.load_counts(SAMPLE / "counts_villages.csv", units=sample_units)
    branch = [TOWN_B] + [u for u in sample_units["unit"] if u.startswith(TOWN_B) and
                         u != TOWN_B]
    inside = sample_units[sample_units["unit"].isin(["990101"] + branch)]
    mine = villages[villages["unit"].isin(branch)]
    r = indicators.compute(mine, ["compliance_rate"], period="2024", level="area",
                           units=inside)
    # reference from the raw file: compliant births / births of each area's three villages
    raw = _raw("counts_villages.csv")
    raw = raw[raw["period"].str.startswith("2024")]
    area = raw["unit"].map(_raw("units.csv").set_index("unit")["parent"])
    s = raw.groupby(area)[["births_compliant", "births"]].sum()
    expected = (s["births_compliant"] / s["births"] * 100).to_dict()
    assert dict(zip(r["unit"], r["value"], strict=True)) == pytest.approx(
        {k: expected[k] for k in ("990101105901", "990101105902", "990101105903")})


def test_a_village_without_births_in_a_quarter():
    raw = _raw("counts_villages.csv")
    hamlet = raw[(raw["unit"] == "990101101207")
                 & raw["period"].isin(["2024-04", "2024-05", "2024-06"])]
    assert hamlet["births"].tolist() == [0, 0, 0]
    assert (hamlet["population"] > 300).all()


def _classes(year: str) -> pd.Series:
    """Class of each village in ``year`` by the rules of scheme_full.toml, from the raw files:
    一类 = the six zeros; 二类 = compliance >= 90 %, no statistics error, postpartum visits
    >= 80 % (no births: met); else 三类."""
    values = _raw("values_villages.csv")
    v = values[values["period"] == year].pivot(index="unit", columns="indicator",
                                                values="value")
    raw = _raw("counts_villages.csv")
    c = raw[raw["period"].str.startswith(year)].groupby("unit").sum(numeric_only=True)
    no_births = c["births"] == 0
    compliant = no_births | (c["births_compliant"] / c["births"] >= 0.9)
    visited = no_births | (c["postpartum_visited_timely"] / c["postpartum_due"] >= 0.8)
    two = compliant & visited & (v["statistics_errors"] == 0)
    six = (v == 0).all(axis=1)
    return pd.Series(np.where(six, "一类", np.where(two, "二类", "三类")), index=v.index)


def test_the_villages_fall_in_all_three_classes():
    for year in ("2022", "2023", "2024"):
        assert set(_classes(year)) == {"一类", "二类", "三类"}
    # 2024: 4 class-1, 6 class-2 and 6 class-3 villages (one of them, 990101101206, only
    # for its postpartum visits: 15 of 19, 78.9 %)
    assert _classes("2024").value_counts().to_dict() == {"二类": 6, "三类": 6, "一类": 4}
    raw = _raw("counts_villages.csv")
    v206 = raw[(raw["unit"] == "990101101206") & raw["period"].str.startswith("2024")]
    assert v206[["postpartum_visited_timely", "postpartum_due"]].sum().tolist() == [15, 19]


def test_village_values_year_is_the_sum_of_its_quarters(sample_units):
    values = io.load_values(SAMPLE / "values_villages.csv", units=sample_units)
    assert set(values["indicator"]) == {k for k, _ in synth.ZERO_CRITERIA}
    raw = _raw("values_villages.csv")
    year = raw[~raw["period"].str.contains("Q")].set_index(["unit", "period", "indicator"])
    q = raw[raw["period"].str.contains("Q")]
    summed = q.groupby([q["unit"], q["period"].str[:4], q["indicator"]])["value"].sum()
    assert len(year) == 16 * 3 * 6
    assert summed.loc[year.index].tolist() == year["value"].tolist()


def test_annual_plan_and_adjustments():
    plan = _raw("annual_plan.csv")
    counts = _raw("counts.csv")
    true = synth.make_counts(synth.parameters())  # the plan is set from the counts before
    yearly = true.groupby([true["unit"], true["period"].dt.year.astype(str)])[  # any problem
        "checkups_planned"].sum()
    plan = plan.set_index(["unit", "period"])["plan"]
    assert len(plan) == 18 * 3 and (plan % 10 == 0).all()
    ratio = plan / yearly.loc[plan.index].to_numpy()
    assert ratio.between(0.96, 1.06).all()  # 0.97-1.05, then rounded to tens
    adj = _raw("adjustments.csv")
    assert list(adj.columns) == ["unit", "period", "points", "reason"]
    assert not adj.duplicated(["unit", "period"]).any()
    assert set(adj["unit"]) <= set(counts["unit"]) and set(adj["period"]) == {"2023", "2024"}
    assert (adj["points"] < 0).sum() == 4 and (adj["points"] > 0).sum() == 2


def test_planted_problems_are_where_the_docs_say():
    # synth.PLANTED: township 990101107 lacks 2024-05; 990101108 has its 2024-08 births
    # tripled; nothing else in counts.csv differs from the drawn counts
    reported = _raw("counts.csv")
    true = synth.make_counts(synth.parameters()).assign(
        period=lambda f: f["period"].astype(str))
    assert len(true) - len(reported) == 1
    key = ["unit", "period"]
    merged = true.merge(reported, on=key, how="left", suffixes=("", "_r"), indicator=True)
    gone = merged.loc[merged["_merge"] == "left_only", key]
    assert gone.values.tolist() == [["990101107", "2024-05"]]
    both = merged[merged["_merge"] == "both"]
    cols = [c for c in true.columns if c not in key]
    differs = np.zeros(len(both), bool)
    for c in cols:
        differs |= both[c].to_numpy() != both[c + "_r"].to_numpy()
    assert both.loc[differs, key].values.tolist() == [["990101108", "2024-08"]]
    row = both[differs].iloc[0]
    births = [c for c in cols if c.startswith("births")]
    assert all(row[c + "_r"] == 3 * row[c] for c in births)
    assert all(row[c + "_r"] == row[c] for c in cols if c not in births)


def test_full_scheme_file_has_the_whole_shape():
    doc = tomllib.loads((SAMPLE / "scheme_full.toml").read_text(encoding="utf-8"))
    basic = tomllib.loads((SAMPLE / "targets.toml").read_text(encoding="utf-8"))
    assert set(doc) == {"scheme", "target", "class"}
    assert doc["scheme"]["county_weight"] == 0.6 and doc["scheme"]["city_weight"] == 0.4
    t = doc["target"]
    # the township targets of targets.toml, unchanged but for the level they apply to
    assert [{k: v for k, v in x.items() if k != "level"} for x in t[:10]] == basic["target"]
    assert {x["level"] for x in t[:13]} == {"township"}
    assert {x["level"] for x in t[13:]} == {"village"}
    by_label = {x["label"]: x for x in t}
    assert len(by_label) == len(t)
    assert by_label["政策符合率一票否决"]["scoring"] == "veto"
    assert by_label["政策符合率一票否决"]["points"] == 0
    m = by_label["孕前优生检查年度计划进度"]
    assert m["against"] == "annual_plan" and (SAMPLE / m["plan_file"]).is_file()
    assert m["schedule"] == {"06": 50, "09": 80, "12": 100}
    c = by_label["出生人口性别比较上年下降"]
    assert (c["compare"], c["op"], c["threshold"]) == ("previous_year", "<=", -7)
    assert by_label["村政策符合率"]["when_empty"] == "met"
    assert by_label["查实投诉"]["scoring"] == "per_event"
    classes = doc["class"]
    assert [k["name"] for k in classes] == ["一类", "二类"]
    assert classes[0]["targets"] == [label for _, label in synth.ZERO_CRITERIA]
    assert all(name in by_label for k in classes for name in k["targets"])
    assert doc["scheme"]["default_class"] == "三类"


def test_township_rows_beside_their_villages_are_checked_as_totals(tmp_path, sample_units):
    # one sheet with the two townships' own rows and their villages' rows: the loader takes
    # each township row as the total of its villages, checks it column by column and sets it
    # aside (a mismatch would be a DataError)
    v = _raw("counts_villages.csv")
    t = _raw("counts.csv")
    t = t.loc[t["unit"].isin([TOWN_A, TOWN_B]), list(v.columns)]
    (pd.concat([t, v]).to_csv(tmp_path / "both.csv", index=False))
    both = io.load_counts(tmp_path / "both.csv", units=sample_units)
    rep = io.load_report(both)
    assert (rep.rows_in, rep.rows_used, len(rep.skipped)) == (72 + 576, 576, 72)
    assert set(both["unit"]) == set(v["unit"])
