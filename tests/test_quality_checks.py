"""check_all and scorecard: every planted problem of the sample is found, nothing else is
graded extreme, and the argument and data edge cases are refused or handled.

Where the planted problems are comes from the generator, not from the code under test:
``synth.plant_problems`` (a missing month, a tripled month of births) and ``synth.parameters``
(the township that falsifies reports, ``false_rate`` 0.18; the one whose register misses
births hospitals record, ``hospital_ratio`` 1.15; the ones with a high sex ratio at later
births, ``srb_o2`` above 130).
"""

from __future__ import annotations

import pandas as pd
import pytest

from fpanalysis import io, quality, synth
from tests.conftest import SAMPLE


@pytest.fixture(scope="module")
def sample():
    units = io.load_units(SAMPLE)
    return {"units": units, "counts": io.load_counts(SAMPLE, units=units),
            "audits": io.load_audits(SAMPLE, units=units),
            "hospital": io.load_births_hospital(SAMPLE, units=units)}


@pytest.fixture(scope="module")
def planted():
    params = synth.parameters()
    _, where = synth.plant_problems(synth.make_counts(params), params)
    return {"missing": where["missing_month"], "outlier": where["outlier_month"],
            "audit": str(params.loc[params["false_rate"] > 0.1, "unit"].item()),
            "sources": str(params.loc[params["hospital_ratio"] > 1.1, "unit"].item()),
            "srb": set(params.loc[params["srb_o2"] > 130, "unit"].astype(str))}


@pytest.fixture(scope="module")
def flags(sample):
    return quality.check_all(sample["counts"], audits=sample["audits"], units=sample["units"],
                             period="2024Q4", hospital=sample["hospital"])


def _has(flags, unit, check, **where):
    rows = flags[(flags["unit"] == unit) & (flags["check"] == check)]
    for k, v in where.items():
        rows = rows[rows[k] == v]
    return rows


def test_every_planted_problem_is_flagged(flags, planted):
    unit, month = planted["missing"]
    rows = _has(flags, unit, "reporting_completeness", severity="extreme")
    # 2024Q2 has 2 of its 3 months: 2/3 < 0.90
    assert rows["figure"].tolist() == pytest.approx([2 / 3])
    assert rows["note"].str.contains(month).all()
    unit, month = planted["outlier"]
    assert len(_has(flags, unit, "monthly_outlier", period=month, indicator="births",
                    severity="extreme")) == 1
    assert len(_has(flags, planted["sources"], "source_agreement")) == 1
    assert len(_has(flags, planted["audit"], "audit_false_rate", severity="extreme")) >= 1
    srb = flags[flags["check"] == "sex_ratio_plausibility"]
    assert set(srb["unit"]) and set(srb["unit"]) <= planted["srb"]
    assert (srb["severity"] == "extreme").any()


def test_no_extreme_flag_anywhere_else_and_moderate_ones_are_listed(flags, planted):
    allowed = {planted["missing"][0], planted["outlier"][0], planted["audit"],
               planted["sources"]} | planted["srb"]
    extreme = flags[flags["severity"] == "extreme"]
    assert set(extreme["unit"]) <= allowed
    # chance flags are expected and shown: moderate ones outside the planted townships
    assert len(flags[(flags["severity"] == "moderate") & ~flags["unit"].isin(allowed)]) > 0
    assert list(flags.columns) == list(quality.FLAG_COLUMNS)
    assert flags["figure"].notna().all() and flags["threshold"].notna().all()


def test_a_unit_that_did_not_report_is_not_passed(flags, planted):
    unit = planted["missing"][0]
    gaps = flags.attrs["unassessed"]
    assert {"source_agreement", "sex_ratio_plausibility", "funnel"} <= set(
        gaps.loc[gaps["unit"] == unit, "check"])
    card = quality.scorecard(flags, io.load_units(SAMPLE))
    assert card.loc[unit, "source_agreement"] == "—"
    assert card.loc[unit, "reporting_completeness"].startswith("✗")
    assert len(card) == 18  # every township, flagged or not
    assert (card.drop(columns="名称") == "✓").all(axis=1).sum() >= 1


def test_the_period_limits_what_is_known(sample, planted):
    # through September the August outlier is already seen; through July it is not
    k = dict(audits=sample["audits"], units=sample["units"], hospital=sample["hospital"])
    sep = quality.check_all(sample["counts"], period="2024-09", **k)
    jul = quality.check_all(sample["counts"], period="2024-07", **k)
    unit, month = planted["outlier"]
    assert len(_has(sep, unit, "monthly_outlier", period=month)) == 1
    assert len(_has(jul, unit, "monthly_outlier", period=month)) == 0
    # 36 months back would start in 2021-08, but the counts start in 2022-01
    assert jul.attrs["checks"]["sex_ratio_plausibility"] == "2022-01/2024-07"
    assert jul.attrs["checks"]["monthly_outlier"] == "2023-08/2024-07 (flags from 2024-01)"
    assert not (pd.PeriodIndex(jul.loc[jul["check"] == "monthly_outlier", "period"],
                               freq="M") > pd.Period("2024-07", "M")).any()


def test_inputs_are_not_changed(sample):
    before = {k: v.copy() for k, v in sample.items()}
    quality.check_all(sample["counts"], audits=sample["audits"], units=sample["units"],
                      period="2024Q3", hospital=sample["hospital"])
    for k, v in sample.items():
        pd.testing.assert_frame_equal(v, before[k])


def test_what_cannot_run_says_so(sample):
    f = quality.check_all(sample["counts"], period="2023Q1")
    skipped = " | ".join(f.attrs["skipped"])
    assert "no audits given" in skipped and "no second source" in skipped
    assert "units not given" in skipped
    # 2023Q1 ends 2023-03: the latest complete year is 2022, the sample starts in 2022-01
    assert ("consistency_over_time: not run for 2023Q1: it compares the latest complete year "
            "to the period's end (2023-03) with the mean of at least two earlier complete "
            "years; that year is 2022, and the counts start in 2022-01, so 2022 has fewer "
            "than two earlier complete years") in f.attrs["skipped"]


# The sample runs 2022-01..2024-12. By hand: a period ending before December has the year
# before as its latest complete year (2023, one earlier year: 2022, so not run); one ending
# in December 2024 has 2024 (earlier 2022 and 2023: run); 2022Q1 ends before any complete
# year of the counts.
@pytest.mark.parametrize("period, label, last, year", [
    ("2024-07", "2024-07", "2024-07", 2023),
    ("2024年第3季度", "2024Q3", "2024-09", 2023),
    ("2024H1", "2024H1", "2024-06", 2023),
    ("2024年1-9月", "2024-01/2024-09", "2024-09", 2023),
    ("2024", "2024", "2024-12", None),
    ("2024H2", "2024H2", "2024-12", None),
    ("2022Q1", "2022Q1", "2022-03", 2021),
])
def test_every_period_kind_runs_and_says_what_it_skips(sample, period, label, last, year):
    f = quality.check_all(sample["counts"], audits=sample["audits"], units=sample["units"],
                          period=period, hospital=sample["hospital"])
    head = (f"consistency_over_time: not run for {label}: it compares the latest complete "
            f"year to the period's end ({last}) with the mean of at least two earlier "
            "complete years")
    mine = [s for s in f.attrs["skipped"] if s.startswith("consistency_over_time")]
    if year is None:
        assert mine == [] and f.attrs["checks"]["consistency_over_time"] == "2024"
    elif year == 2021:
        assert mine == [f"{head}, and the counts (from 2022-01) hold no complete year before "
                        "2022-03"]
    else:
        assert mine == [f"{head}; that year is 2023, and the counts start in 2022-01, so 2023 "
                        "has fewer than two earlier complete years"]
        assert "consistency_over_time" not in f.attrs["checks"]
    # every other check ran for the period (timeliness: the sample has no received date)
    assert set(f.attrs["checks"]) | {"timeliness", "consistency_over_time"} == set(
        quality.CHECKS)


@pytest.mark.parametrize("period, message", [
    (None, "check_all needs period="),
    ("2024-07-D1", "check_all works on months"),
    ("2026Q1", "the counts end at 2024-12, before the end of period 2026Q1"),
])
def test_bad_periods_are_refused(sample, period, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        quality.check_all(sample["counts"], period=period)


def test_bad_counts_are_refused(sample):
    with pytest.raises(ValueError, match="the counts have no rows"):
        quality.check_all(sample["counts"].iloc[:0], period="2024Q4")
    q = sample["counts"].assign(period=sample["counts"]["period"].dt.asfreq("Q"))
    with pytest.raises(ValueError, match="check_all needs monthly counts"):
        quality.check_all(q, period="2024Q4")
    with pytest.raises(TypeError, match="counts must be a pandas DataFrame"):
        quality.check_all([1, 2], period="2024Q4")
    with pytest.raises(ValueError, match="srb_months must be a whole number"):
        quality.check_all(sample["counts"], period="2024Q4", srb_months=0)


def test_scorecard_refuses_what_is_not_a_flag_table(sample, flags):
    with pytest.raises(ValueError, match="flags must be a check_all result"):
        quality.scorecard(pd.DataFrame({"x": [1]}), sample["units"])
    with pytest.raises(ValueError, match="the checks looked at units of level township, not "
                                         "'village'"):
        quality.scorecard(flags, sample["units"], level="village")  # nothing checked them
    with pytest.raises(ValueError, match="flags must be one whole check_all result"):
        quality.scorecard(pd.concat([flags, flags]), sample["units"])  # concat drops attrs
    with pytest.raises(ValueError, match="flags must be one whole check_all result"):
        quality.scorecard(flags[flags["severity"] == "extreme"], sample["units"])


def test_windows_by_hand():
    # the sample runs 2022-01..2024-12: through 2024-05 the year to date is Jan-May, its
    # quarters Q1 and April-May, the outlier window the twelve months to May, and the
    # latest complete year 2023 has only 2022 before it (fewer than two: None)
    c = io.load_counts(SAMPLE)
    w = quality.windows(c, "2024-05")
    assert w["ytd"] == "2024-01/2024-05"
    assert w["quarters"] == ["2024-01/2024-03", "2024-04/2024-05"]
    assert w["outliers"] == "2023-06/2024-05" and w["srb"] == "2022-01/2024-05"
    assert w["year"] is None
    assert quality.windows(c, "2024")["year"] == 2024


def test_display_tables(sample, flags):
    from fpanalysis import report

    card = report.quality_table(flags, sample["units"], language="en")
    assert card.index.name == "unit" and "东林镇" in card.index and len(card) == 18
    assert "Reports complete" in card.columns and "Audit false share" in card.columns
    listed = report.flag_table(flags, sample["units"], severity="extreme",
                               disclosure="internal")
    assert set(listed["程度"]) == {"严重"}
    assert len(listed) == (flags["severity"] == "extreme").sum()
    # the public edition (the default) leaves out the flags on infant deaths, births outside
    # policy and the indicators on them (the disclosure rule's items)
    public = report.flag_table(flags, sample["units"], severity="extreme")
    sensitive = {"deaths_infant", "infant_mortality_rate", "births_outside",
                 "births_compliant", "compliance_rate"}
    assert len(public) == ((flags["severity"] == "extreme")
                           & ~flags["indicator"].astype(str).isin(sensitive)).sum()
    with pytest.raises(ValueError, match="severity must be among extreme, moderate; got severe"):
        report.flag_table(flags, sample["units"], severity="severe")
    with pytest.raises(ValueError, match="flags must come from quality.check_all"):
        report.flag_table(flags.drop(columns="note"), sample["units"])


def test_optional_sources_absent_from_a_data_directory(tmp_path):
    # a county without hospital records or re-checks: None, and check_all says so
    (tmp_path / "units.csv").write_bytes((SAMPLE / "units.csv").read_bytes())
    assert io.load_births_hospital(tmp_path, optional=True) is None
    assert io.load_audits(tmp_path, optional=True) is None
    with pytest.raises(FileNotFoundError, match="no births_hospital.csv"):
        io.load_births_hospital(tmp_path)
    with pytest.raises(FileNotFoundError):  # a named file is never optional
        io.load_audits(tmp_path / "audits.csv", optional=True)


def test_a_township_that_never_reported_is_not_assessed_by_any_check(sample):
    # drop 990101105 entirely: every check but reporting completeness has no figure for it
    c = sample["counts"][sample["counts"]["unit"] != "990101105"]
    a = sample["audits"][sample["audits"]["unit"] != "990101105"]
    f = quality.check_all(c, audits=a, units=sample["units"], period="2024Q3",
                          hospital=sample["hospital"])
    card = quality.scorecard(f, sample["units"])
    row = card.loc["990101105"].drop("名称")
    assert row["reporting_completeness"].startswith("✗ 0")  # 0 of 3 months
    assert (row.drop("reporting_completeness") == "—").all(), row.to_dict()
    gaps = f.attrs["unassessed"]
    why = gaps[(gaps["unit"] == "990101105") & (gaps["check"] == "audit_false_rate")]
    assert why["note"].tolist() == ["not audited (no case re-checked) in 2024-01/2024-09"]


def test_scorecard_shows_the_worst_figure(sample, flags):
    # 990101104's audit flags of 2024: lower limits 0.172 (8 of 22) is the furthest above 0.05
    card = quality.scorecard(flags, sample["units"])
    worst = flags[(flags["unit"] == "990101104") & (flags["check"] == "audit_false_rate")]
    top = worst.loc[(worst["figure"] / 0.05).idxmax(), "figure"]
    assert card.loc["990101104", "audit_false_rate"].startswith(f"✗ {top:.3g}")


def test_flags_carry_notes_and_the_pooled_row_is_named(sample, flags):
    funnel = flags[flags["check"] == "funnel"]
    assert len(funnel) and funnel["note"].str.contains("against the county's").all()
    from fpanalysis import report
    listed = report.flag_table(flags, sample["units"])
    assert "(pooled)" not in set(listed.index)


@pytest.mark.parametrize("change, message", [
    ("quarterly_hospital", "check_all needs monthly hospital births"),
    ("stray_audit_unit", "the audits name unit\\(s\\) not in the units table: 990109999"),
])
def test_bad_companion_tables_are_refused(sample, change, message):
    k = dict(audits=sample["audits"], units=sample["units"], hospital=sample["hospital"])
    if change == "quarterly_hospital":
        h = sample["hospital"].copy()
        h["period"] = h["period"].dt.asfreq("Q")
        k["hospital"] = h
    else:
        a = sample["audits"].copy()
        a["unit"] = a["unit"].astype(object)
        a.loc[0, "unit"] = "990109999"
        k["audits"] = a
    with pytest.raises(ValueError, match=message):
        quality.check_all(sample["counts"], period="2024Q3", **k)


def test_a_period_before_the_counts_is_refused(sample):
    with pytest.raises(ValueError, match="the counts start at 2022-01, after the end of "
                                         "period 2021Q4"):
        quality.check_all(sample["counts"], units=sample["units"], period="2021Q4")


def test_audit_table_says_what_the_audits_did(sample):
    # 990101105 sends no counts for 2024Q3 but was audited: no audit points, said so; by
    # hand from audits.csv, 990101104's 2024Q3 compliant births: 9 false of 29 re-checked,
    # 2 points each, capped at the item's 10
    from fpanalysis import report, scheme, targets

    units, a = sample["units"], sample["audits"]
    c = sample["counts"][sample["counts"]["unit"] != "990101105"]
    values = io.load_values(SAMPLE, units=units)
    vv = io.load_values(SAMPLE / "values_villages.csv", units=units)
    s = scheme.load_targets(SAMPLE / "scheme_full.toml", units=units,
                            indicators=list(values["indicator"].unique())
                            + list(vv["indicator"].unique()))
    ev, _ = targets.assess(c, s, periods=["2024Q3"], values=values, units=units, audits=a)
    table = report.audit_table(ev, units)
    assert table.loc["凤岭镇", "政策符合出生核查"] == "未上报，不计分"
    assert table.loc["杨平镇", "政策符合出生核查"] == "查实虚报9/29，扣10分"
    assert "→" in table.loc["杨平镇", "政策符合率（核查修正）"]
    with pytest.raises(ValueError, match="audit_table needs results of targets.assess"):
        report.audit_table(ev[ev["scoring"] != "audit"], units)
