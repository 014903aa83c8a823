"""Secondary suppression and the linear-programming audit (:mod:`fpanalysis.disclosure`).

Expected intervals of the hand-made cases are worked out by hand in the comments: an
adversary knows every shown count exactly, a "<5" cell lies in 0..4, a "[c]" complement is at
least 5, every count is a whole number >= 0, and a parent (a longer period) is the sum of its
children (the periods inside it). The sample's counts are summed with plain pandas from
data/sample/counts.csv, never with fpanalysis. The property test draws random small counties.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fpanalysis import disclosure as dc
from fpanalysis import indicators, report
from fpanalysis.disclosure import Disclosure, make_plan
from tests.conftest import SAMPLE

# --- small hand-made counties ---------------------------------------------------------------

UNITS = pd.DataFrame({"unit": ["c", "a", "b"], "name": ["县", "甲乡", "乙镇"],
                      "parent": [None, "c", "c"], "level": ["county", "township", "township"]})


def monthly(deaths: dict[str, list[int]], first: str = "2024-01") -> pd.DataFrame:
    """Counts of townships by month: infant deaths as given, 50 births a month, all
    compliant (births outside policy 0)."""
    rows = []
    for unit, values in deaths.items():
        for k, v in enumerate(values):
            rows.append({"unit": unit, "period": pd.Period(first, "M") + k,
                         "births": 50, "births_compliant": 50, "deaths_infant": v,
                         "population": 1000})
    out = pd.DataFrame(rows)
    out["period"] = out["period"].astype("period[M]")
    return out


def cell(result: pd.DataFrame, unit: str, period: str, count: str = "deaths_infant"):
    row = result[(result["unit"] == unit) & (result["period"] == period)
                 & (result["count"] == count)]
    assert len(row) == 1
    return row.iloc[0]


def test_one_small_township_beside_its_county():
    # a 1 infant death (in 2024Q1: 1 + 0 + 0), b 5 (2 + 2 + 1), county 6.
    # Shown as they are, a = 6 - 5 = 1. The plan suppresses b first (5 < 6): then a + b = 6
    # with b >= 5 gives a <= 1, still pinned, so the county goes too; b is then given back
    # (largest complements first: the county 6 is needed, b 5 is not): with the county a
    # "[c]" (>= 5) and b = 5 shown, a = county - 5 >= 0 and unbounded above -> 0..4.
    counts = monthly({"a": [1, 0, 0], "b": [2, 2, 1]})
    rule = report.disclosure(counts=counts, units=UNITS, periods=["2024Q1"])
    t = report.counts_table(counts, UNITS, "2024Q1", columns=("deaths_infant",),
                            language="en", disclosure=rule)
    assert t["Infant deaths"].tolist() == ["<5", 5, "[c]"]
    result = report.audit({"counts": t}, rule)
    a = cell(result, "a", "2024Q1")
    assert (a["lower"], a["upper"], a["protected"]) == (0, 4, True)
    # the county: a + 5 with a in 0..4 -> 5..9
    c = cell(result, "c", "2024Q1")
    assert (c["status"], c["lower"], c["upper"]) == ("complement", 5, 9)
    # the same table cut without a plan (each table for itself) gives the same marks
    t2 = report.counts_table(counts, UNITS, "2024Q1", columns=("deaths_infant",),
                             language="en")
    assert t2["Infant deaths"].tolist() == ["<5", 5, "[c]"]


def test_zeros_fall_inside_the_band():
    # a 0, b 7 (3 + 2 + 2), county 7: the zero is a primary; shown, county - b gives a = 0.
    # b goes first (7, equal to the county, comes first): a = 7 - b with b >= 5 gives a <= 2,
    # still narrower than 0..4, so the county goes too. Then b is given back: with the
    # county "[c]" (>= 5) and b = 7 shown, a = county - 7 >= 0 with no upper bound -> 0..4.
    counts = monthly({"a": [0, 0, 0], "b": [3, 2, 2]})
    rule = report.disclosure(counts=counts, units=UNITS, periods=["2024Q1"])
    t = report.counts_table(counts, UNITS, "2024Q1", columns=("deaths_infant",),
                            language="en", disclosure=rule)
    assert t["Infant deaths"].tolist() == ["<5", 7, "[c]"]
    a = cell(report.audit({"t": t}, rule), "a", "2024Q1")
    assert (a["lower"], a["upper"]) == (0, 4)


def test_a_small_group_under_a_large_total_loses_its_band_marks():
    # a 1, b 4, county 5: with "<5" on both townships, the county (shown, or "[c]": not
    # small, so at least 5) gives a >= 5 - 4 = 1 and b >= 1: each is known to hold an
    # infant death whatever is withheld. So both show "[c]" like complements: a reader who
    # cannot tell them from counts of 5 or more knows only a + b = 5, a, b >= 0: each 0..5,
    # which clipped to the band is 0..4.
    counts = monthly({"a": [1, 0, 0], "b": [2, 1, 1]})
    rule = report.disclosure(counts=counts, units=UNITS, periods=["2024Q1"])
    assert rule.plan.unprotected.empty
    t = report.counts_table(counts, UNITS, "2024Q1", columns=("deaths_infant",),
                            language="en", disclosure=rule)
    assert t["Infant deaths"].tolist() == ["[c]", "[c]", 5]
    result = report.audit({"counts": t}, rule)
    a = cell(result, "a", "2024Q1")
    assert (a["status"], a["lower"], a["upper"], a["width"], a["protected"]) == (
        "masked", 0, 5, 4, True)


def test_a_group_that_nothing_can_protect_is_refused(tmp_path):
    # every birth outside policy: a 2 births (1 + 1 + 0), b 3 (1 + 1 + 1), none compliant;
    # the county 5 births, 5 outside. Births are published, and births outside policy
    # cannot exceed them: a in 0..2, b in 0..3, the county in 5..5 (5 or more, at most its
    # 5 births) however it is marked; so a = 5 - b >= 2 and b = 5 - a >= 3: both pinned.
    counts = pd.DataFrame({
        "unit": ["a"] * 3 + ["b"] * 3,
        "period": pd.PeriodIndex(["2024-01", "2024-02", "2024-03"] * 2, freq="M"),
        "births": [1, 1, 0, 1, 1, 1], "births_compliant": 0, "deaths_infant": 5})
    rule = report.disclosure(counts=counts, units=UNITS, periods=["2024Q1"],
                             sensitive="births_outside")
    bad = rule.plan.unprotected.set_index("unit")
    assert sorted(bad.index) == ["a", "b"]
    assert bad.loc["a", ["lower", "upper"]].tolist() == [2.0, 2.0]
    assert bad.loc["b", ["lower", "upper"]].tolist() == [3.0, 3.0]
    t = report.counts_table(counts, UNITS, "2024Q1", columns=("births", "births_outside"),
                            language="en", disclosure=rule)
    with pytest.raises(dc.DisclosureError, match=r"refusing to publish: 2 suppressed cell\(s\)"
                                                 r" can be narrowed .*births_outside of a in "
                                                 r"2024Q1 to 2\.\.2 \(needs a range of 2\)"):
        report.write_excel({"counts": t}, tmp_path / "w.xlsx", disclosure=rule)
    assert not (tmp_path / "w.xlsx").exists()


def test_the_audit_catches_a_table_that_shows_a_suppressed_cell(tmp_path):
    counts = monthly({"a": [1, 0, 0], "b": [2, 2, 1]})
    rule = report.disclosure(counts=counts, units=UNITS, periods=["2024Q1"])
    public = report.counts_table(counts, UNITS, "2024Q1", columns=("deaths_infant",),
                                 disclosure=rule)
    internal = report.counts_table(counts, UNITS, "2024Q1", columns=("deaths_infant",),
                                   disclosure="internal")
    result = report.audit({"counts": public, "internal copy": internal}, rule)
    a = cell(result, "a", "2024Q1")
    # the internal table shows a's 1 and the county's 6
    assert (a["lower"], a["upper"], a["protected"], a["shown_in"]) == (1, 1, False,
                                                                       "internal copy")
    with pytest.raises(dc.DisclosureError, match="shown in internal copy"):
        report.write_excel({"counts": public, "internal copy": internal},
                           tmp_path / "w.xlsx", disclosure=rule)


def test_a_public_workbook_without_a_plan_is_refused(tmp_path):
    with pytest.raises(ValueError, match="write_excel audits a public workbook against the "
                                         "report's plan"):
        report.write_excel({"x": pd.DataFrame({"a": [1]})}, tmp_path / "w.xlsx",
                           disclosure="public")


def test_year_to_date_differenced_against_the_published_quarters():
    # a: Q1 6 (2+2+2), Q2 2 (1+1+0), Q3 8 (3+3+2), so Jan-Sep 16;
    # b: Q1 7 (3+2+2), Q2 9 (3+3+3), Q3 5 (2+2+1), so Jan-Sep 21; county 13, 11, 13, 37.
    counts = monthly({"a": [2, 2, 2, 1, 1, 0, 3, 3, 2], "b": [3, 2, 2, 3, 3, 3, 2, 2, 1]})
    quarters = ["2024Q1", "2024Q2", "2024Q3"]
    ytd = "2024-01/2024-09"
    # each quarter planned on its own: Q2 withholds b (then a + b = 11 with b >= 5 leaves a
    # in 0..4)
    own = {}
    for p in quarters:
        rule = report.disclosure(counts=counts, units=UNITS, periods=[p])
        own[p] = report.counts_table(counts, UNITS, p, columns=("deaths_infant",),
                                     language="en", disclosure=rule)
    assert own["2024Q2"]["Infant deaths"].tolist() == ["<5", "[c]", 11]
    # a year to date planned blind to the quarters published beside it has no small cell
    # and shows everything
    blind = Disclosure(plan=make_plan(counts, UNITS, [ytd], published=[]))
    own[ytd] = report.counts_table(counts, UNITS, ytd, columns=("deaths_infant",),
                                   language="en", disclosure=blind)
    assert own[ytd]["Infant deaths"].tolist() == [16, 21, 37]
    # together: a's Q2 = 16 - 6 - 8 = 2 exactly
    joint = report.disclosure(counts=counts, units=UNITS, periods=[*quarters, ytd])
    result = report.audit(own, joint)
    a = cell(result, "a", "2024Q2")
    assert (a["lower"], a["upper"], a["protected"]) == (2, 2, False)
    # planned by default, a separate output holds the quarters inside it fixed, each as
    # its own plan shows it: a's year to date is withheld, and then so is one more cell of
    # the county's (37 - 21 would give a's 16 back), so that all four outputs together
    # leave a's Q2 anywhere in 0..4
    rule = report.disclosure(counts=counts, units=UNITS, periods=[ytd])
    assert rule.plan.published == tuple(quarters)
    own[ytd] = report.counts_table(counts, UNITS, ytd, columns=("deaths_infant",),
                                   language="en", disclosure=rule)
    shown = own[ytd]["Infant deaths"].tolist()
    assert shown[0] == "[c]" and shown.count("[c]") == 2
    result = report.audit(own, joint)
    assert result["protected"].all()
    a = cell(result, "a", "2024Q2")
    assert (a["lower"], a["upper"]) == (0, 4)
    # one plan for all four periods in one report protects it too, in every table at once
    tables = {p: report.counts_table(counts, UNITS, p, columns=("deaths_infant",),
                                     language="en", disclosure=joint)
              for p in [*quarters, ytd]}
    result = report.audit(tables, joint)
    assert result["protected"].all()
    a = cell(result, "a", "2024Q2")
    assert (a["lower"], a["upper"]) == (0, 4)
    report.check(result)


def test_sample_year_and_its_quarters_as_separate_outputs(sample_counts, sample_units):
    # the adversarial pass of this session: the year's report minus three quarters' gave a
    # fourth. Each output planned on its own (the year holding its quarters fixed); all
    # five audited together against one plan of the five periods
    periods = ["2024Q1", "2024Q2", "2024Q3", "2024Q4", "2024"]
    tables = {}
    for p in periods:
        rule = report.disclosure(counts=sample_counts, units=sample_units, periods=[p])
        tables[p] = report.counts_table(sample_counts, sample_units, p, disclosure=rule)
    joint = report.disclosure(counts=sample_counts, units=sample_units, periods=periods)
    result = report.audit(tables, joint)
    assert result["protected"].all()
    blind = {p: tables[p] for p in periods[:4]}
    blind["2024"] = report.counts_table(
        sample_counts, sample_units, "2024",
        disclosure=Disclosure(plan=make_plan(sample_counts, sample_units, ["2024"],
                                             published=[])))
    assert not report.audit(blind, joint)["protected"].all()  # the year alone leaks


def test_rates_and_notes_follow_the_plan():
    # the rates of the first case: a's infant mortality (1 death) and the county's are
    # withheld; b's 5 deaths per 150 births = 33.33 per mille is shown
    counts = monthly({"a": [1, 0, 0], "b": [2, 2, 1]})
    rule = report.disclosure(counts=counts, units=UNITS, periods=["2024Q1"])
    results = pd.concat([
        indicators.compute(counts, ["infant_mortality_rate"], period="2024Q1", units=UNITS),
        indicators.compute(counts, ["infant_mortality_rate"], period="2024Q1",
                           level="county", units=UNITS)])
    t = report.indicator_table(results, UNITS, intervals=False, language="en",
                               disclosure=rule)
    assert t.iloc[:, 0].tolist()[0] == "[c]" and t.iloc[:, 0].tolist()[2] == "[c]"
    assert t.iloc[1, 0] == pytest.approx(1000 * 5 / 150, abs=0.005)  # shown to 2 decimals
    notes = report.note_table(results, UNITS, language="en", disclosure=rule)
    assert notes.loc["甲乡", "note"] == "suppressed: 0-4 infant deaths"
    assert notes.loc["县", "note"] == "withheld: would give suppressed cells away"
    result = report.audit({"rates": t, "notes": notes}, rule)
    assert result["protected"].all()
    # a table showing a period the plan does not cover is refused, not guessed
    other = indicators.compute(monthly({"a": [1, 0, 0], "b": [2, 2, 1]}, "2024-04"),
                               ["infant_mortality_rate"], period="2024Q2", units=UNITS)
    with pytest.raises(ValueError, match="the report's disclosure plan has no cell for a in "
                                         "2024Q2"):
        report.indicator_table(other, UNITS, disclosure=rule)


def test_bad_plans_are_refused():
    counts = monthly({"a": [1, 0, 0], "b": [2, 2, 1]})
    with pytest.raises(ValueError, match="a disclosure plan lists each period once; got "
                                         "2024Q1, 2024Q1"):
        dc.make_plan(counts, UNITS, ["2024Q1", "2024年第1季度"])
    with pytest.raises(ValueError, match="a disclosure plan needs at least one period"):
        dc.make_plan(counts, UNITS, [])
    with pytest.raises(ValueError, match="a disclosure plan needs counts, units and the "
                                         "periods"):
        report.disclosure(counts=counts, periods=["2024Q1"])
    with pytest.raises(ValueError, match="the protection must be a positive number, got 0"):
        report.disclosure(protection=0)
    with pytest.raises(ValueError, match="audit needs the report's plan"):
        report.audit({}, report.disclosure())
    with pytest.raises(ValueError, match="disclosure: a rule is returned as it is; to plan"):
        report.disclosure(report.disclosure(), counts=counts, units=UNITS, periods=["2024Q1"])
    with pytest.raises(TypeError, match="audit needs a Plan or a Disclosure with one, got "
                                        "DataFrame"):
        report.audit({}, counts)
    bad = pd.DataFrame()
    bad.attrs["disclosure"] = pd.DataFrame({"count": ["deaths_infant"], "unit": ["a"]})
    rule = report.disclosure(counts=counts, units=UNITS, periods=["2024Q1"])
    with pytest.raises(ValueError, match="table 'x': disclosure records without column.s. "
                                         "period, lower, upper"):
        report.audit({"x": bad}, rule)
    with pytest.raises(ValueError, match="counts_table: a in 2024Q1 has 2 deaths_infant but "
                                         "the disclosure plan was made from counts with 1"):
        report.counts_table(counts.assign(deaths_infant=[2, 0, 0, 2, 2, 1]), UNITS, "2024Q1",
                            columns=("deaths_infant",), disclosure=rule)
    before = counts.copy()
    dc.make_plan(counts, UNITS, ["2024Q1"])
    pd.testing.assert_frame_equal(counts, before)  # the input is not changed


# --- the sample --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    return pd.read_csv(SAMPLE / "counts.csv", dtype={"unit": str, "period": str})


def test_todays_case_is_caught(sample_counts, sample_units, raw):
    # by hand from counts.csv, 2024Q4: the county's 8 infant deaths lie in six townships
    # (each 1-4), twelve have 0
    q = raw[raw["period"].isin(["2024-10", "2024-11", "2024-12"])]
    per_unit = q.groupby("unit")["deaths_infant"].sum()
    assert per_unit.sum() == 8 and (per_unit == 0).sum() == 12
    assert per_unit[per_unit > 0].between(1, 4).all()
    rule = report.disclosure(counts=sample_counts, units=sample_units, periods=["2024Q4"])
    # the old workbook: zeros shown, "suppressed: 1-4" for the six, the county's 8
    county = sample_units.loc[sample_units["level"] == "county", "unit"].iloc[0]
    old = pd.DataFrame({"count": "deaths_infant",
                        "unit": [*per_unit.index, county], "period": "2024Q4",
                        "lower": [*np.where(per_unit == 0, 0.0, 1.0), 8.0],
                        "upper": [*np.where(per_unit == 0, 0.0, 4.0), 8.0]})
    table = pd.DataFrame()
    dc.attach(table, old)
    result = report.audit({"old workbook": table}, rule)
    six = result[result["unit"].isin(per_unit[per_unit > 0].index)
                 & (result["count"] == "deaths_infant")]
    # six cells in 1..4 adding up to 8: each at least 8 - 5 * 4 < 1 -> 1, at most
    # 8 - 5 * 1 = 3: the interval 1..3 is narrower than the band 0..4
    assert len(six) == 6
    assert six["lower"].tolist() == [1] * 6 and six["upper"].tolist() == [3] * 6
    assert not six["protected"].any()
    # the zeros shown are themselves primaries the old table gave away exactly
    zeros = result[result["unit"].isin(per_unit[per_unit == 0].index)
                   & (result["count"] == "deaths_infant")]
    assert (zeros["upper"] == 0).all() and len(zeros) == 12
    with pytest.raises(dc.DisclosureError):
        report.check(result)
    # the new table: all eighteen "<5" (0..4 each, adding to 8: 8 - 17 * 4 < 0 -> 0, and
    # min(4, 8) = 4), the county's 8 shown
    t = report.counts_table(sample_counts, sample_units, "2024Q4", language="en",
                            disclosure=rule)
    assert t["Infant deaths"].tolist() == ["<5"] * 18 + [8]
    result = report.audit({"counts": t}, rule)
    deaths = result[result["count"] == "deaths_infant"]
    assert (deaths["lower"] == 0).all() and (deaths["upper"] == 4).all()


def sample_tables(counts, units, period, rule) -> dict[str, pd.DataFrame]:
    results = indicators.compute(counts, period=period, units=units)
    county = indicators.compute(counts, period=period, level="county", units=units)
    both = pd.concat([results, county])
    return {"counts": report.counts_table(counts, units, period, disclosure=rule),
            "vital": report.indicator_table(both, units, intervals=False, disclosure=rule).T,
            "indicators": report.indicator_table(both, units, disclosure=rule),
            "notes": report.note_table(both, units, disclosure=rule)}


@pytest.mark.parametrize("period", [f"{y}Q{q}" for y in (2022, 2023, 2024)
                                    for q in (1, 2, 3, 4)])
def test_every_sample_quarter_passes_the_audit(sample_counts, sample_units, raw, period):
    rule = report.disclosure(counts=sample_counts, units=sample_units, periods=[period])
    tables = sample_tables(sample_counts, sample_units, period, rule)
    result = report.audit(tables, rule)
    assert result["protected"].all()
    assert rule.plan.unprotected.empty
    # every primary is shown nowhere: its interval is its whole band 0..4, or 0..births for
    # births outside policy where the township had fewer than 4 births (西城镇: 2 in
    # 2024Q4), which its published births tell anyway; births summed here from counts.csv
    q = pd.Period(period, "Q")
    months = [str(m) for m in pd.period_range(q.start_time, q.end_time, freq="M")]
    births = raw[raw["period"].isin(months)].groupby("unit")["births"].sum()
    primary = result[result["status"] == "primary"]
    band = np.where(primary["count"] == "births_outside",
                    np.minimum(4, primary["unit"].map(births).fillna(np.inf)), 4)
    assert len(primary) and (primary["lower"] == 0).all()
    assert (primary["upper"].to_numpy() == band).all()


def test_sample_2024q4_with_months_and_year_to_date(sample_counts, sample_units):
    periods = ["2024Q4", "2024-10", "2024-11", "2024-12", "2024"]
    rule = report.disclosure(counts=sample_counts, units=sample_units, periods=periods)
    tables = {p: report.counts_table(sample_counts, sample_units, p, disclosure=rule)
              for p in periods}
    tables["attainment-like"] = sample_tables(sample_counts, sample_units, "2024Q4",
                                              rule)["indicators"]
    result = report.audit(tables, rule)
    assert result["protected"].all() and rule.plan.unprotected.empty
    assert (result["status"] == "complement").any()  # the months need complements


# --- random small counties ------------------------------------------------------------------

@st.composite
def counties(draw):
    """A county of 2 or 3 levels (2-4 townships, 2-3 villages each), monthly infant deaths
    0-3 for January-June at the lowest level, and one of a few sets of nested periods."""
    units = [("r", None, "county")]
    kids = draw(st.integers(2, 4))
    villages = draw(st.booleans())  # 3 levels (villages under every township) or 2
    leaves = []
    for i in range(kids):
        t = f"t{i}"
        units.append((t, "r", "township"))
        if villages:
            for j in range(draw(st.integers(2, 3))):
                units.append((f"{t}v{j}", t, "village"))
                leaves.append(f"{t}v{j}")
        else:
            leaves.append(t)
    frame = pd.DataFrame(units, columns=["unit", "parent", "level"])
    frame["name"] = frame["unit"]
    values = draw(st.lists(st.integers(0, 3), min_size=6 * len(leaves),
                           max_size=6 * len(leaves)))
    counts = pd.DataFrame({
        "unit": np.repeat(leaves, 6),
        "period": pd.PeriodIndex(np.tile([f"2024-{m:02d}" for m in range(1, 7)],
                                         len(leaves)), freq="M"),
        "deaths_infant": values, "births": 40, "births_compliant": 40})
    periods = draw(st.sampled_from([["2024Q1"], ["2024Q1", "2024Q2", "2024H1"],
                                    ["2024-01", "2024-02", "2024-03", "2024Q1"],
                                    ["2024Q1", "2024-01/2024-05"]]))
    return frame, counts, periods


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(counties())
def test_suppression_never_leaves_a_cell_pinned(county):
    units, counts, periods = county
    plan = dc.make_plan(counts, units, periods, sensitive=["deaths_infant"])
    rule = report.disclosure(counts=counts, units=units, periods=periods,
                             sensitive="deaths_infant")
    # the tables a report would publish: every unit, every period
    tables = {p: report.counts_table(counts, units, p, columns=("deaths_infant",),
                                     disclosure=rule) for p in periods}
    records = rule.plan.knowledge()  # what the plan publishes at every level
    every = pd.DataFrame()
    dc.attach(every, records)
    tables["every cell"] = every
    result = dc.audit(tables, rule)
    # every small cell is protected: its interval, clipped to its band 0..4, is the whole
    # band; none is left for the report to refuse (infant deaths have no published bound
    # like births, so masking a small group's marks always leaves it 0..4)
    assert plan.unprotected.empty and rule.plan.unprotected.empty
    small = result[result["status"].isin(["primary", "masked"])]
    assert small["protected"].all(), small[~small["protected"]]
    assert (small["width"] == 4).all()
    # and no complement is pinned to one value
    assert (result.loc[result["status"] == "complement", "width"] >= 1).all()
    # the plan does not depend on how it was asked for: the rule's plan is the same
    pd.testing.assert_frame_equal(plan.cells, rule.plan.cells)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 9), min_size=2, max_size=4))
def test_audit_bounds_match_brute_force(quarter):
    # an independent reference for the linear programmes: a county of 2-4 townships, one
    # quarter (the deaths all in its first month); every assignment of 0..30 to the
    # townships that fits what the tables show (shown counts exactly, "<5" 0..4, "[c]" 5 and
    # up, or 0 and up where it masks a small count; the county the sum) is enumerated, and
    # each suppressed cell's smallest and largest value compared with the audit's (30
    # reached: no upper bound)
    import itertools

    towns = [f"t{i}" for i in range(len(quarter))]
    units = pd.DataFrame({"unit": ["r", *towns], "name": ["r", *towns],
                          "parent": [None, *["r"] * len(towns)],
                          "level": ["county", *["township"] * len(towns)]})
    counts = monthly({t: [v, 0, 0] for t, v in zip(towns, quarter, strict=True)})
    rule = report.disclosure(counts=counts, units=units, periods=["2024Q1"],
                             sensitive="deaths_infant")
    t = report.counts_table(counts, units, "2024Q1", columns=("deaths_infant",),
                            language="en", disclosure=rule)
    result = report.audit({"counts": t}, rule).set_index("unit")
    shown = t["Infant deaths"].tolist()  # townships, then the county
    # a "[c]" is 5 and up, or 0 and up where it masks a small count (the audit's model)
    masked = [u in result.index and result.loc[u, "status"] == "masked" for u in towns]
    masked.append(False)

    def fits(v: object, x: int, m: bool) -> bool:
        return (0 <= x <= 4) if v == "<5" else (x >= (0 if m else 5)) if v == "[c]" \
            else x == v

    top = 30
    feasible = [xs for xs in itertools.product(range(top + 1), repeat=len(towns))
                if all(fits(v, x, m) for v, x, m in zip(shown[:-1], xs, masked[:-1],
                                                        strict=True))
                and fits(shown[-1], sum(xs), False)]
    assert feasible  # the truth is among them
    for i, unit in enumerate(towns):
        if unit not in result.index:
            continue
        values = [xs[i] for xs in feasible]
        lo, hi = min(values), max(values)
        assert result.loc[unit, "lower"] == lo
        assert result.loc[unit, "upper"] == (np.inf if hi == top else hi)


# --- the league table (F4): a score must not give a withheld target away ------------------------

@pytest.fixture(scope="module")
def league_2024q4(sample_counts, sample_units):
    import fpanalysis as fp
    values = fp.load_values(SAMPLE, units=sample_units)
    scheme = fp.load_targets(SAMPLE, units=sample_units,
                             indicators=list(values["indicator"].unique()))
    current, scores = fp.targets.assess(sample_counts, scheme, periods=["2024Q4"],
                                        values=values, units=sample_units)
    unc = fp.targets.rank_uncertainty(sample_counts, scheme, period="2024Q4", values=values,
                                      units=sample_units, draws=100)
    rule = report.disclosure("public", counts=sample_counts, units=sample_units,
                             periods=["2024Q4"])
    return current, scores, unc, rule


def test_league_table_withholds_a_score_that_tells_a_withheld_target(
        league_2024q4, sample_counts, sample_units, raw):
    current, scores, unc, rule = league_2024q4
    # by hand from counts.csv (Oct-Dec 2024): births and compliant births per township
    q = raw[raw["period"].isin(["2024-10", "2024-11", "2024-12"])].groupby("unit")[
        ["births", "births_compliant"]].sum()
    assert q.loc["990101118"].tolist() == [2, 2] and q.loc["990101117"].tolist() == [10, 10]
    # compliance >= 86 %, all or nothing, 20 points. 西城镇: 2 births, band 0..2 outside:
    # 0 -> 100 % met, 2 -> 0 % not met: informative. 柳和镇: 10 births, band 0..4: 0 -> 100 %
    # met, 4 -> 60 % not met: informative. 东林镇 56 births, 4 -> 52/56 = 92.9 % met; 马田镇
    # 40, 36/40 = 90 %; 古沙镇 53, 49/53 = 92.5 %: met across the band, uninformative.
    internal = report.league_table(unc, scores, sample_units, language="en",
                                   disclosure="internal")
    t = report.league_table(unc, scores, sample_units, language="en", disclosure=rule,
                            evaluated=current, counts=sample_counts)
    assert sorted(t.index) == sorted(internal.index)  # no unit vanishes
    hidden = t.index[t["score"] == "[c]"].tolist()
    # the withheld rows go last in code order (990101117, 990101118): in rank order 西城镇's
    # row sat between the scores 95.0 and 92.5 and so told its own
    assert hidden == ["柳和镇", "西城镇"] and t.index[-2:].tolist() == hidden
    assert t.index[:-2].tolist() == [u for u in internal.index if u not in hidden]
    for u in hidden:
        assert set(t.loc[u].drop("not reported")) == {"[c]"}
    # 西城镇 scores 95 with the 20 points (75 without), 柳和镇 90 (70): units scoring 70..95
    # could rank either side of them -> their tier, streak and rank sets are withheld
    score = internal["score"]
    inside = score[(score >= 70) & (score <= 95)].index.difference(hidden)
    assert set(t.loc[inside, "tier"]) == {"[c]"}
    # the figures made from redraws are not in a public league table at all: with the
    # published seed they could be re-run for each value of a suppressed count (second
    # adversarial pass: 东林镇's bottom share 12.2/13.5/14.3/17.7/21.6 % for 0..4 outside)
    redraws = ["95% rank confidence set", "95% joint rank set", "redraw rank range",
               "top k in redraws %", "bottom k in redraws %"]
    assert not set(redraws) & set(t.columns) and set(redraws) <= set(internal.columns)
    outside = ["双凰乡", "东林镇", "长岗乡", "杨乐镇", "青鞍镇"]  # 97.5, 67.5, 60, 55, 45
    assert t.loc[outside, "tier"].tolist() == internal.loc[outside, "tier"].tolist()
    assert t.loc[outside, "tier"].tolist() == ["top", "", "bottom", "bottom", "bottom"]
    # ranks among the 16 published scores (97.5, 95, 92.5, 90 x3, 80 x3, 77.5, 75, 70, 67.5,
    # 60, 55, 45; ties share the better rank)
    col = "rank among the units whose score is published"
    assert "rank" not in t.columns
    shown = t[t[col] != "[c]"].sort_values("score", ascending=False, kind="stable")
    assert shown[col].tolist() == [1, 2, 3, 4, 4, 4, 7, 7, 7, 10, 11, 12, 13, 14, 15, 16]
    # scores and targets met of the others are their own
    assert t.loc["双凰乡", "score"] == 97.5 and t.loc["双凰乡", "targets met"] == "9/10"
    # the tester's subtraction (targets met minus the shown ticks) has nothing to work on
    assert t.loc["西城镇", "targets met"] == "[c]"


def test_league_table_unchanged_where_the_withheld_targets_tell_nothing(
        league_2024q4, sample_counts, sample_units):
    current, scores, unc, rule = league_2024q4
    # drop 西城镇 and 柳和镇: the other withheld compliance cells (东林镇, 马田镇, 古沙镇) are
    # met across their band (see above), so nothing changes
    keep = ~current["unit"].isin(["990101118", "990101117"])
    u2 = unc[~unc["unit"].isin(["990101118", "990101117"])]
    public = report.league_table(u2, scores, sample_units, language="en", disclosure=rule,
                                 evaluated=current[keep], counts=sample_counts)
    internal = report.league_table(u2, scores, sample_units, language="en",
                                   disclosure="internal")
    # the same but for the figures made from redraws, which a public table never shows
    redraws = ["95% rank confidence set", "95% joint rank set", "redraw rank range",
               "top k in redraws %", "bottom k in redraws %"]
    pd.testing.assert_frame_equal(public, internal.drop(columns=redraws))


def test_league_makes_no_redraw_where_the_public_table_shows_none(
        league_2024q4, sample_counts, sample_units, monkeypatch):
    import fpanalysis as fp
    from fpanalysis import targets

    current, scores, unc, rule = league_2024q4
    values = fp.load_values(SAMPLE, units=sample_units)
    scheme = fp.load_targets(SAMPLE, units=sample_units,
                             indicators=list(values["indicator"].unique()))
    real = targets.rank_uncertainty
    asked: list[tuple[str, int]] = []

    def spy(*args, **kwargs):
        asked.append((str(kwargs["period"]), kwargs["draws"]))
        return real(*args, **kwargs)

    monkeypatch.setattr(targets, "rank_uncertainty", spy)
    # public, a scheme with a compliance target (births outside policy are sensitive): the
    # table the report has always published (redraws made, then dropped) ...
    made = report.league_table(unc, scores, sample_units, language="en", disclosure=rule,
                               evaluated=current, counts=sample_counts)
    # ... comes out the same without one redraw, and without ranking the pooled year
    t = report.league(sample_counts, scheme, "2024Q4", values=values, units=sample_units,
                      scores=scores, evaluated=current, pooled="2024", language="en",
                      disclosure=rule)
    assert asked == [("2024Q4", 0)]
    pd.testing.assert_frame_equal(t, made, check_exact=True)
    # internal: the redraws and the pooled year are made and shown, as league_table shows
    # them from rank_uncertainty's own results
    asked.clear()
    t = report.league(sample_counts, scheme, "2024Q4", values=values, units=sample_units,
                      scores=scores, pooled="2024", language="en", disclosure="internal",
                      draws=100)
    assert asked == [("2024Q4", 100), ("2024", 100)]
    pooled = real(sample_counts, scheme, period="2024", values=values, units=sample_units,
                  draws=100)
    pd.testing.assert_frame_equal(t, report.league_table(
        unc, scores, sample_units, pooled=pooled, language="en", disclosure="internal"),
        check_exact=True)
    assert "2024 95% rank confidence set" in t.columns
    with pytest.raises(TypeError, match="pooled is a period label"):
        report.league(sample_counts, scheme, "2024Q4", units=sample_units, pooled=pooled,
                      disclosure="internal")


@pytest.mark.parametrize("disclosure", ["public", "internal"])
@pytest.mark.parametrize("kwargs, error, message", [
    ({"draws": True}, ValueError, "league: draws must be a whole number of at least 100"),
    ({"draws": 5}, ValueError, "league: draws must be a whole number of at least 100"),
    ({"draws": 0}, ValueError, "league: draws must be a whole number of at least 100"),
    ({"pooled": "2024Q9"}, ValueError, "2024Q9"),
    ({"pooled": "2030"}, ValueError, "the counts .pooled. have no rows"),
])
def test_league_checks_its_arguments_whether_or_not_it_redraws(
        league_2024q4, sample_counts, sample_units, disclosure, kwargs, error, message):
    # the careless pass: with the redraws left out (public), draws=True or 5 and a pooled
    # period without counts went through unchecked; the internal edition refused them
    import fpanalysis as fp

    current, scores, unc, rule = league_2024q4
    values = fp.load_values(SAMPLE, units=sample_units)
    scheme = fp.load_targets(SAMPLE, units=sample_units,
                             indicators=list(values["indicator"].unique()))
    with pytest.raises(error, match=message):
        report.league(sample_counts, scheme, "2024Q4", values=values, units=sample_units,
                      scores=scores, evaluated=current,
                      disclosure=rule if disclosure == "public" else "internal", **kwargs)


def test_observed_ranks_without_redraws_and_where_they_are_refused(
        league_2024q4, sample_counts, sample_units):
    import fpanalysis as fp

    current, scores, unc, rule = league_2024q4
    values = fp.load_values(SAMPLE, units=sample_units)
    scheme = fp.load_targets(SAMPLE, units=sample_units,
                             indicators=list(values["indicator"].unique()))
    bare = fp.targets.rank_uncertainty(sample_counts, scheme, period="2024Q4",
                                       values=values, units=sample_units, draws=0)
    # the observed scores and ranks are assess's for the quarter; every redraw column NaN
    quarter = scores[scores["period"].astype(str) == "2024Q4"].set_index("unit")
    mine = bare.set_index("unit")
    assert sorted(mine.index) == sorted(quarter.index.astype(str))
    np.testing.assert_array_equal(mine["score"].to_numpy(dtype=float),
                                  quarter.loc[mine.index, "score"].to_numpy(dtype=float))
    np.testing.assert_array_equal(mine["rank"].to_numpy(dtype=float),
                                  quarter.loc[mine.index, "rank"].to_numpy(dtype=float))
    redrawn = ["p_vetoed", "median_rank", "draw_rank_lower", "draw_rank_upper",
               "rank_set_lower", "rank_set_upper", "joint_rank_set_lower",
               "joint_rank_set_upper", "p_top", "p_bottom"]
    assert bare[redrawn].isna().all().all() and (bare["draws"] == 0).all()
    assert bare.columns.tolist() == unc.columns.tolist()
    # a table that would show the redraw figures refuses such a result: never "nan–nan"
    with pytest.raises(ValueError, match="uncertainty was made with draws=0"):
        report.league_table(bare, scores, sample_units, disclosure="internal")
    with pytest.raises(ValueError, match="pooled was made with draws=0"):
        report.league_table(unc, scores, sample_units, pooled=bare, disclosure="internal")
    with pytest.raises(ValueError, match="or 0 for the observed ranks alone, got 50"):
        fp.targets.rank_uncertainty(sample_counts, scheme, period="2024Q4", values=values,
                                    units=sample_units, draws=50)


def test_league_table_keeps_the_ranks_where_no_unit_could_change_place(sample_units):
    # hand-made: a withheld unit b (1 birth outside of 2, compliance 50 % -> band 0..2:
    # 100 % met, 0 % not met) scores 40 with 0 earned -> could score 40..60 (20 points);
    # a (90) and c (10) are outside that range: their ranks 1 and 3 are the same whatever
    # b's status, so the gap at 2 tells nothing: ranks kept, b's withheld
    units = pd.DataFrame({"unit": ["r", "a", "b", "c"], "name": ["R", "A", "B", "C"],
                          "parent": [None, "r", "r", "r"], "level": ["county"] + ["t"] * 3})
    unc = pd.DataFrame({"unit": ["a", "b", "c"], "period": "2024Q1",
                        "score": [90.0, 40.0, 10.0], "rank": [1, 2, 3],
                        "draw_rank_lower": 1, "draw_rank_upper": 3, "rank_set_lower": 1,
                        "rank_set_upper": 3, "joint_rank_set_lower": 1,
                        "joint_rank_set_upper": 3, "p_top": 0.5, "p_bottom": 0.5})
    ev = pd.DataFrame({"unit": ["a", "b", "c"], "period": "2024Q1", "target": 1,
                       "indicator": "compliance_rate", "op": ">=", "threshold": 86.0,
                       "met": pd.array([True, False, True], dtype="boolean"),
                       "value": [100.0, 50.0, 100.0], "points": 20.0, "weight": 1.0,
                       "earned": [20.0, 0.0, 20.0], "scoring": "all_or_nothing"})
    counts = pd.DataFrame({"unit": np.repeat(["a", "b", "c"], 3),
                           "period": pd.PeriodIndex(["2024-01", "2024-02", "2024-03"] * 3,
                                                    freq="M"),
                           "births": [20, 15, 15, 1, 1, 0, 20, 15, 15],  # 50, 2, 50
                           "births_compliant": [20, 15, 15, 1, 0, 0, 20, 15, 15],
                           "deaths_infant": 3})  # 9 each
    rule = report.disclosure("public", counts=counts, units=units, periods=["2024Q1"])
    t = report.league_table(unc, units=units, language="en", disclosure=rule, evaluated=ev)
    assert t["rank"].tolist() == [1, 3, "[c]"]  # B's row goes last (its place told its rank)
    assert t.loc["B"].tolist() == ["[c]"] * 2  # rank and score (no redraw figures)
    assert "95% rank confidence set" not in t.columns
    # without the assessment a public league table cannot tell: refused
    # a veto on compliance >= 80 % (0 points): a has 0 outside of 50 ("<5"), band 0..4:
    # 100 % and 46/50 = 92 % both met -> tells nothing, the table is the same
    veto = ev.iloc[[0]].assign(target=2, threshold=80.0, points=0.0, earned=0.0,
                               scoring="veto")
    t2 = report.league_table(unc, units=units, language="en", disclosure=rule,
                             evaluated=pd.concat([ev, veto], ignore_index=True))
    pd.testing.assert_frame_equal(t2, t)
    with pytest.raises(ValueError, match="league_table in a public report needs evaluated="):
        report.league_table(unc, units=units, disclosure=rule)
    with pytest.raises(ValueError, match="league_table: evaluated has no row of 2024Q1; got "
                                         "2024Q2"):
        report.league_table(unc, units=units, disclosure=rule,
                            evaluated=ev.assign(period="2024Q2"))


def test_counts_table_withholds_a_cell_the_plan_has_as_missing(sample_counts, sample_units):
    # F5: a plan made from counts that lack 西城镇's October (an earlier extract) has its
    # 2024Q4 cells, and the county's, as missing; a table of the full counts must not show
    # them exactly (publishable turns such a cell into "withheld: counts unknown" too)
    part = sample_counts[~((sample_counts["unit"] == "990101118")
                           & (sample_counts["period"].astype(str) == "2024-10"))]
    rule = report.disclosure("public", counts=part, units=sample_units, periods=["2024Q4"])
    t = report.counts_table(sample_counts, sample_units, "2024Q4", disclosure=rule)
    cols = ["婴儿死亡", "政策内出生", "政策外出生"]
    assert t.loc["西城镇", cols].tolist() == ["[c]"] * 3
    assert t.loc["青禾县", cols].tolist() == ["[c]"] * 3
    # the county's 1673 births stay: births are not sensitive (hand sum of counts.csv)
    assert t.loc["青禾县", "出生"] == 1673
    rec = dc.recorded(t)
    assert not rec["unit"].isin(["990101118", "990101"]).any()  # nothing shown about them


def test_a_rule_with_a_plan_of_another_rule_is_refused():
    # F6: a plan made with threshold 2 (1 death is "<3" there) under a rule of threshold 4
    # would mark "<5" cells by one band and audit them by the other
    counts = monthly({"a": [1, 0, 0], "b": [2, 2, 1]})
    plan2 = dc.make_plan(counts, UNITS, ["2024Q1"], threshold=2)
    with pytest.raises(ValueError, match=r"the disclosure plan was made with another rule: "
                                         r"threshold 2 \(the rule's is 4\)\. Make the rule"):
        dc.Disclosure(plan=plan2)
    plan_p = dc.make_plan(counts, UNITS, ["2024Q1"], protection=1.0)
    with pytest.raises(ValueError, match=r"protection 1.0 \(the rule's is 2.0\)"):
        dc.Disclosure(plan=plan_p)
    with pytest.raises(ValueError, match=r"sensitive count\(s\) births_outside the rule does "
                                         r"not suppress \(the rule's: deaths_infant\)"):
        dc.Disclosure(sensitive=("deaths_infant",), plan=dc.make_plan(counts, UNITS,
                                                                      ["2024Q1"]))
    with pytest.raises(TypeError, match="a disclosure rule's plan must be a Plan"):
        dc.Disclosure(plan=counts)
    # the same rule, made by hand or by disclosure(), is accepted
    plan = dc.make_plan(counts, UNITS, ["2024Q1"], threshold=2)
    assert dc.Disclosure(threshold=2, mark="<3", plan=plan).plan is plan
    assert report.disclosure(threshold=2, counts=counts, units=UNITS,
                             periods=["2024Q1"]).plan.threshold == 2


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    # F7/F10: the sentences of disclosure() (tests/test_disclosure.py) for make_plan
    ({"threshold": 0}, ValueError,
     "the disclosure threshold must be a whole number of at least 1, got 0"),
    ({"threshold": 2.5}, ValueError,
     "the disclosure threshold must be a whole number of at least 1, got 2.5"),
    ({"threshold": "4"}, ValueError,
     "the disclosure threshold must be a whole number of at least 1, got '4'"),
    ({"threshold": True}, ValueError,
     "the disclosure threshold must be a whole number of at least 1, got True"),
    ({"protection": -1}, ValueError, "the protection must be a positive number, got -1"),
    ({"protection": float("nan")}, ValueError,
     "the protection must be a positive number, got nan"),
    ({"sensitive": ["births_outsid"]}, ValueError,
     "unknown sensitive count(s) 'births_outsid' (did you mean 'births_outside'?); known: "
     "deaths_infant, births_outside"),
    ({"sensitive": 3}, ValueError, "the sensitive counts must be a list of names"),
    ({"units": UNITS[["unit", "name"]]}, ValueError,
     "a disclosure plan needs units with the columns unit and parent (the hierarchy); "
     "missing parent"),
    ({"counts": monthly({"a": [1, 0, 0]}).drop(columns="unit")}, ValueError,
     "a disclosure plan needs counts with the column(s) unit, period; missing unit"),
])
def test_make_plan_refuses_bad_arguments(kwargs, error, message):
    args = {"counts": monthly({"a": [1, 0, 0], "b": [2, 2, 1]}), "units": UNITS,
            "periods": ["2024Q1"]}
    args.update(kwargs)
    with pytest.raises(error, match=re.escape(message)):
        dc.make_plan(args.pop("counts"), args.pop("units"), args.pop("periods"), **args)


def test_make_plan_takes_one_sensitive_name_as_one_count():
    # F7: "deaths_infant" was iterated letter by letter (KeyError 'd'); as in disclosure()
    # a single name is one count: the plan has deaths_infant cells only, 3 units x 1 period
    counts = monthly({"a": [1, 0, 0], "b": [2, 2, 1]})
    plan = dc.make_plan(counts, UNITS, ["2024Q1"], sensitive="deaths_infant")
    assert plan.cells["count"].unique().tolist() == ["deaths_infant"]
    assert sorted(plan.cells["unit"]) == ["a", "b", "c"]
    # a: 1 + 0 + 0 = 1, b: 2 + 2 + 1 = 5, c: 6
    assert plan.cells.set_index("unit")["value"].to_dict() == {"a": 1.0, "b": 5.0, "c": 6.0}


def test_check_refuses_what_is_not_an_audit_result():
    # F8: a string "False" or a NaN read as protected with astype(bool): refused instead
    ok = pd.DataFrame({"count": ["deaths_infant"], "unit": ["a"], "period": ["2024Q4"],
                       "lower": [1.0], "upper": [4.0], "required": [4.0],
                       "protected": [False], "shown_in": [""]})
    with pytest.raises(dc.DisclosureError, match=re.escape("deaths_infant of a in 2024Q4 to "
                                                           "1..4 (needs a range of 4)")):
        dc.check(ok)
    with pytest.raises(ValueError, match=re.escape(
            "check needs the audit's protected column as True/False; row 1 has 'False' "
            "(1 such row(s))")):
        dc.check(ok.assign(protected="False"))
    with pytest.raises(ValueError, match="check needs the audit's protected column as "
                                         "True/False; row 1 has nan"):
        dc.check(ok.assign(protected=np.nan))
    with pytest.raises(ValueError, match="check needs an audit.. result or a Plan; the frame "
                                         "has no column.s. count, unit, period, lower, upper, "
                                         "required, protected"):
        dc.check(pd.DataFrame())
    with pytest.raises(TypeError, match="check needs an audit.. result or a Plan, got list"):
        dc.check([])
    dc.check(ok.iloc[:0])  # an audit with no suppressed cell: nothing to refuse
    dc.check(ok.assign(protected=pd.array([True], dtype="boolean")))
    dc.check(ok.assign(protected=np.array([True], dtype=object)))


def test_tables_of_a_period_the_plan_does_not_cover_are_refused(tmp_path):
    # F9: a 2024Q2 table audited with a plan of 2024Q1 only was audited as if unplanned and
    # written; refused now, and nothing is written
    counts = monthly({"a": [1, 0, 0, 3, 3, 3], "b": [2, 2, 1, 3, 3, 3]})
    q1 = report.disclosure(counts=counts, units=UNITS, periods=["2024Q1"])
    q2 = report.disclosure(counts=counts, units=UNITS, periods=["2024Q2"])
    t = report.counts_table(counts, UNITS, "2024Q2", columns=("deaths_infant",),
                            disclosure=q2)
    message = re.escape("audit: the report's disclosure plan has no cell for deaths_infant "
                        "of a in 2024Q2, deaths_infant of b in 2024Q2, deaths_infant of c in "
                        "2024Q2 (3 cell(s)); make the rule with every unit and period")
    with pytest.raises(ValueError, match=message):
        dc.audit({"counts": t}, q1)
    with pytest.raises(ValueError, match=message):
        report.write_excel({"counts": t}, tmp_path / "x.xlsx", disclosure=q1)
    assert not (tmp_path / "x.xlsx").exists()
    # with the plan of its own period the same table passes (a: 9, b: 9, c: 18 shown)
    assert report.write_excel({"counts": t}, tmp_path / "x.xlsx", disclosure=q2).exists()


def test_attainment_of_another_period_than_the_plan_is_refused():
    # F11: assess output (no numerator) of 2024Q2 under a plan of 2024Q1 showed every
    # sensitive cell "[c]" in silence; refused as publishable refuses it
    counts = monthly({"a": [1, 0, 0], "b": [2, 2, 1]})
    rule = report.disclosure(counts=counts, units=UNITS, periods=["2024Q1"])
    ev = pd.DataFrame({"unit": ["a", "b"], "period": "2024Q2", "target": 1,
                       "indicator": "infant_mortality_rate", "label": "",
                       "value": [6.7, 33.3], "met": pd.array([True, False], dtype="boolean"),
                       "verdict": ["clearly_met", "clearly_not_met"]})
    with pytest.raises(ValueError, match=re.escape(
            "attainment_table: the report's disclosure plan has no cell for a in 2024Q2, b in "
            "2024Q2; make the rule")):
        report.attainment_table(ev, UNITS, disclosure=rule)
    # its own period: a 1 death ("<5", its rate withheld), b 5 shown with its mark (the plan
    # protects a by withholding the county's 6 instead: a = c - 5 with c >= 5 gives 0..4)
    t = report.attainment_table(ev.assign(period="2024Q1"), UNITS, disclosure=rule,
                                language="en")
    assert t.iloc[:, 0].tolist() == ["[c]", "33.3 ✗"]


def test_counts_as_text_are_refused_clearly():
    # F10: counts read as text gave "invalid literal for int() with base 10: '2.0'"
    counts = monthly({"a": [1, 0, 0], "b": [2, 2, 1]})
    text = counts.assign(deaths_infant=counts["deaths_infant"].astype(str))
    message = ("needs numbers in the count column(s) deaths_infant; deaths_infant holds text "
               "(row 1: '1'): load the counts with fpanalysis.load_counts")
    with pytest.raises(ValueError, match=re.escape("counts_table " + message)):
        report.counts_table(text, UNITS, "2024Q1", columns=("deaths_infant",),
                            disclosure="internal")
    with pytest.raises(ValueError, match=re.escape("a disclosure plan " + message)):
        report.disclosure(counts=text, units=UNITS, periods=["2024Q1"])
    # numbers in an object column are numbers: a 1 + 0 + 0 = 1 shown internally
    mixed = counts.assign(deaths_infant=counts["deaths_infant"].astype(object))
    t = report.counts_table(mixed, UNITS, "2024Q1", columns=("deaths_infant",),
                            disclosure="internal", language="en")
    assert t["Infant deaths"].tolist() == [1, 5, 6]


def test_league_table_with_an_informative_veto(sample_units):
    # a veto on compliance >= 80 % (0 points) for b: 1 outside of 2 births ("<5"), band
    # 0..2: 100 % met, 0 % not met -> informative; b could be vetoed (ranked last) or not.
    # Units scoring at most b's highest possible score (40 + 0 = 40: c at 10) and every
    # vetoed unit (d) could change place; a (90) could not: a keeps its rank sets
    units = pd.DataFrame({"unit": ["r", "a", "b", "c", "d"], "name": list("RABCD"),
                          "parent": [None, "r", "r", "r", "r"],
                          "level": ["county"] + ["t"] * 4})
    unc = pd.DataFrame({"unit": ["a", "b", "c", "d"], "period": "2024Q1",
                        "score": [90.0, 40.0, 10.0, 95.0], "rank": [1, 2, 3, 4],
                        "vetoed": [False, False, False, True],
                        "draw_rank_lower": 1, "draw_rank_upper": 4, "rank_set_lower": 1,
                        "rank_set_upper": 4, "joint_rank_set_lower": 1,
                        "joint_rank_set_upper": 4, "p_top": 0.5, "p_bottom": 0.5})
    # d is vetoed on another, non-sensitive target (its compliance cell is a complement of
    # the plan, which would make it a withheld unit itself)
    ev = pd.DataFrame({"unit": ["a", "b", "c", "d"], "period": "2024Q1", "target": 1,
                       "indicator": ["compliance_rate"] * 3 + ["healthcare_coverage"],
                       "op": ">=", "threshold": 80.0,
                       "met": pd.array([True, False, True, False], dtype="boolean"),
                       "value": [100.0, 50.0, 100.0, 50.0], "points": 0.0, "weight": 1.0,
                       "earned": 0.0, "scoring": "veto"})
    counts = pd.DataFrame({"unit": np.repeat(["a", "b", "c", "d"], 3),
                           "period": pd.PeriodIndex(["2024-01", "2024-02", "2024-03"] * 4,
                                                    freq="M"),
                           "births": [20, 15, 15, 1, 1, 0, 20, 15, 15, 20, 20, 20],
                           "births_compliant": [20, 15, 15, 1, 0, 0, 20, 15, 15, 10, 10, 10],
                           "deaths_infant": 3})  # d: 60 births, 30 outside: shown
    rule = report.disclosure("public", counts=counts, units=units, periods=["2024Q1"])
    t = report.league_table(unc, units=units, language="en", disclosure=rule, evaluated=ev)
    col = "rank among the units whose score is published"
    assert t[col].tolist() == [1, 2, 3, "[c]"]  # a, c, d ranked among themselves, b last
    assert "95% rank confidence set" not in t.columns
    assert t.loc["B", "vetoed"] == "[c]" and t.loc["D", "vetoed"] == "yes"


def test_make_plan_refuses_a_unit_outside_the_hierarchy():
    # a stray space or an unknown code was planned as a unit without parent, its county
    # then "missing" (api probe): refused, with the nearest code
    counts = monthly({"a": [1, 0, 0], "b ": [2, 2, 1]})
    with pytest.raises(ValueError, match=re.escape(
            "a disclosure plan needs every unit of the counts in the units; unknown 'b ' "
            "(did you mean 'b'?)")):
        dc.make_plan(counts, UNITS, ["2024Q1"])


def test_a_public_rule_for_a_period_without_counts_is_refused(sample_counts, sample_units):
    # second adversarial pass: periods=["2025"] planned all-missing cells in silence (the
    # sample covers 2022-01 to 2024-12)
    for period in ("2025", "2021Q4"):
        with pytest.raises(ValueError, match=f"the counts have no rows in {period}: nothing"):
            report.disclosure("public", counts=sample_counts, units=sample_units,
                              periods=[period])
    # a single label is one period; published periods must lie inside the report's
    plan = make_plan(sample_counts, sample_units, "2024", published="2024Q1")
    assert plan.published == ("2024Q1",)
    with pytest.raises(ValueError, match="published periods must lie inside the report's "
                                         r"\(2024Q3\); 2023Q1"):
        make_plan(sample_counts, sample_units, ["2024Q3"], published=["2023Q1"])
