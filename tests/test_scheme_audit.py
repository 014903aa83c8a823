"""Audits in the score: ``[[audit]]`` tables of the targets file, their deductions, vetoes
and corrected figures.

Where expected values come from: the scheme's own re-check figures (27 re-checked, 5 false;
21 re-checked, 7 false) with exact limits from
``scipy.stats.binomtest(k, n).proportion_ci(method="exact")`` (not called by the code under
test); points, corrected figures and ranks are hand arithmetic written in the comments.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from fpanalysis import targets
from fpanalysis.schema import DataError
from fpanalysis.scheme import Audit, Scheme, Target, load_targets

UNITS = pd.DataFrame({"unit": ["K", "A", "B", "D", "E"], "name": ["县", "甲", "乙", "丁", "戊"],
                      "parent": ["", "K", "K", "K", "K"],
                      "level": ["county"] + ["township"] * 4})


def exact(k: int, n: int) -> tuple[float, float]:
    ci = stats.binomtest(k, n).proportion_ci(method="exact")
    return ci.low, ci.high


def counts() -> pd.DataFrame:
    """Check-ups done against the plan in 2024Q1: A 2780 / 2700 = 102.96 %, B 2500 / 2600 =
    96.15 %, E 2700 / 2600 = 103.85 %; D sent no counts."""
    return pd.DataFrame({"unit": ["A", "B", "E"],
                         "period": pd.PeriodIndex(["2024Q1"] * 3, freq="Q"),
                         "checkups_done": [2780, 2500, 2700],
                         "checkups_planned": [2700, 2600, 2600]})


def audits() -> pd.DataFrame:
    """A: 27 re-checked, 5 false; B: 21 re-checked, 7 false; D (no counts): 10, none
    false; E not audited; deaths audited but not scored."""
    return pd.DataFrame({"unit": ["A", "B", "D", "A"], "period": "2024Q1",
                         "item": ["checkups", "checkups", "checkups", "deaths"],
                         "reported": [2780, 2500, 100, 20], "checked": [27, 21, 10, 5],
                         "false_found": [5, 7, 0, 1]})


def scheme(adjust: str = "scale_by_false_share", **audit) -> Scheme:
    fields = {"number": 1, "item": "checkups", "column": "checkups_done", "points": 10,
              "points_per_false": 2, "veto_above": 0.10, "adjust": adjust,
              "periods": ("quarter",), "label": "检查核查"}
    fields.update(audit)
    return Scheme((Target(1, "checkup_completion_ratio", ">=", 100, 10,
                          periods=("quarter",)),), audits=(Audit(**fields),))


def test_the_schemes_own_figures_deducted_vetoed_and_corrected():
    ev, sc = targets.assess(counts(), scheme(), periods=["2024Q1"], units=UNITS,
                            audits=audits())
    rows = ev[ev["scoring"] == "audit"].set_index("unit")
    # false shares with their exact intervals, per cent
    for unit, (k, n) in {"A": (5, 27), "B": (7, 21)}.items():
        lo, hi = exact(k, n)
        assert rows.loc[unit, "value"] == pytest.approx(100 * k / n)  # 18.52 %, 33.33 %
        assert rows.loc[unit, "lower"] == pytest.approx(100 * lo, rel=1e-9)
        assert rows.loc[unit, "upper"] == pytest.approx(100 * hi, rel=1e-9)
    # points: 10 - 2 x 5 = 0 (A); 10 - 2 x 7 = -4 -> never below 0 (B); E not audited keeps
    # 10; D sent no counts: 0 whatever its audit found (finding S5: it kept 10)
    assert rows["earned"].to_dict() == {"A": 0.0, "B": 0.0, "D": 0.0, "E": 10.0}
    assert rows["audit_deduction"].fillna(-1).to_dict() == {"A": 10.0, "B": 10.0, "D": -1,
                                                             "E": 0.0}
    assert rows["not_reported"].to_dict() == {"A": False, "B": False, "D": True, "E": False}
    assert rows.loc["D", "note"] == ("not reported in 2024Q1: no audit points (0 false of 10 "
                                     "re-checked: no deduction not applied)")
    # veto above 10 %: lower limits 6.30 % (A, no) and 14.59 % (B, vetoed)
    assert rows["audit_veto"].to_dict() == {"A": False, "B": True, "D": False, "E": False}
    assert rows.loc["A", "note"] == "5 false of 27 re-checked: -10 points"
    assert rows.loc["E", "note"] == ("not audited in 2024Q1: no deduction (a reporting unit "
                                     "not audited keeps the audit's points)")
    assert rows.loc["E", "verdict"] == "no_data" and pd.isna(rows.loc["E", "met"])
    target = ev[ev["target"] == 1].set_index("unit")
    # completion 2780 / 2700 = 102.96 % corrected to 2780 x (1 - 5/27) / 2700 = 83.9 %
    assert target.loc["A", "uncorrected_value"] == pytest.approx(2780 / 27)
    assert target.loc["A", "value"] == pytest.approx(2780 * 22 / 27 / 27)
    assert round(target.loc["A", "value"], 1) == 83.9
    # B: 2500 x 14/21 / 2600 = 64.10 %; E not corrected: 2700 / 2600 = 103.85 %, met
    assert target.loc["B", "value"] == pytest.approx(2500 * 2 / 3 / 26)
    assert target.loc["E", "value"] == pytest.approx(2700 / 26)
    assert target["audit_corrected"].to_dict() == {"A": True, "B": True, "D": False,
                                                   "E": False}
    assert target.loc["A", "note"] == ("corrected by audit: checkups scaled by 1 - 5 false "
                                       "of 27 re-checked")
    assert target.loc["E", "note"] == "not audited in 2024Q1: figure not corrected"
    assert target["earned"].to_dict() == {"A": 0.0, "B": 0.0, "D": 0.0, "E": 10.0}
    s = sc.set_index("unit")
    # E 10 + 10 = 20, D 0 + 0 = 0 (kept, not reported), A 0, B vetoed last
    assert s["score"].to_dict() == {"E": 20.0, "A": 0.0, "D": 0.0, "B": 0.0}
    assert s["rank"].to_dict() == {"E": 1, "A": 2, "D": 2, "B": 4}
    assert s["max_score"].eq(20.0).all() and s["targets"].eq(1).all()
    assert s["audit_deduction"].to_dict() == {"E": 0.0, "A": 10.0, "D": 0.0, "B": 10.0}
    assert bool(s.loc["D", "not_reported"]) and bool(s.loc["B", "vetoed"])
    lo_b = 100 * exact(7, 21)[0]
    assert s.loc["B", "veto_reason"] == (
        f"检查核查: false share above 10 % (lower limit {lo_b:.1f} %; 7 false of 21 "
        "re-checked: -10 points)")
    assert s.loc["A", "audit_note"] == ("检查核查: 5 false of 27 re-checked: -10 points; "
                                        "corrected by audit: checkup_completion_ratio")
    assert s.loc["E", "audit_note"] == ("检查核查: not audited in 2024Q1: no deduction (a "
                                        "reporting unit not audited keeps the audit's points)")
    # finding C4: the non-reporting unit's figure is said not reported, not "not corrected"
    assert "figure not corrected" not in s.loc["D", "veto_reason"] + s.loc["D", "audit_note"]
    assert "figure not corrected" not in "".join(ev.loc[ev["unit"] == "D", "note"])
    assert ev.attrs["audit_notes"] == ["audit item 'deaths' (1 rows) has no [[audit]] table: "
                                       "not scored"]


def test_subtract_found_and_no_adjustment():
    ev, _ = targets.assess(counts(), scheme("subtract_found"), periods=["2024Q1"],
                           units=UNITS, audits=audits())
    a = ev[(ev["target"] == 1) & (ev["unit"] == "A")].iloc[0]
    # (2780 - 5) / 2700 = 102.78 % >= 100: met, 10 points
    assert a["value"] == pytest.approx(2775 / 27) and a["earned"] == 10.0
    ev, _ = targets.assess(counts(), scheme("none"), periods=["2024Q1"], units=UNITS,
                           audits=audits())
    a = ev[(ev["target"] == 1) & (ev["unit"] == "A")].iloc[0]
    assert a["value"] == pytest.approx(2780 / 27) and not a["audit_corrected"]
    assert math.isnan(a["uncorrected_value"]) and a["note"] == ""


def test_an_audited_unit_without_counts_is_kept_without_a_units_table():
    ev, sc = targets.assess(counts(), scheme(), periods=["2024Q1"], audits=audits())
    assert set(sc["unit"]) == {"A", "B", "D", "E"}
    d = ev[ev["unit"] == "D"].set_index("target")
    assert d.loc[1, "verdict"] == "no_data" and bool(d.loc[1, "not_reported"])
    assert d.loc[2, "earned"] == 0.0 and bool(d.loc[2, "not_reported"])  # S5


def test_audits_of_other_periods_do_not_count_and_are_said_so():
    a = audits().assign(period="2024Q2")
    ev, sc = targets.assess(counts(), scheme(), periods=["2024Q1"], units=UNITS, audits=a)
    rows = ev[ev["scoring"] == "audit"]
    # A, B, E reported and were not audited in 2024Q1: 10 each; D sent no counts: 0
    assert rows.set_index("unit")["earned"].to_dict() == {"A": 10.0, "B": 10.0, "D": 0.0,
                                                          "E": 10.0}
    said = rows.set_index("unit")["note"]
    assert said.drop("D").eq("not audited in 2024Q1: no deduction (a reporting unit not "
                             "audited keeps the audit's points)").all()
    assert said["D"] == "not reported in 2024Q1: no audit points"


def test_the_year_sums_its_quarters_audits():
    a = pd.concat([audits(), audits().assign(period="2024Q2")], ignore_index=True)
    s = Scheme((Target(1, "checkup_completion_ratio", ">=", 100, 10, periods=("year",
                                                                             "ytd")),),
               audits=(Audit(1, "checkups", "checkups_done", 10, 2, periods=("year",)),))

    def results(period: str) -> pd.DataFrame:
        return pd.DataFrame({"unit": ["A"], "period": [period],
                             "indicator": "checkup_completion_ratio", "value": [100.0]})

    ev = targets.evaluate(results("2024"), s, audits=a)
    r = ev[ev["scoring"] == "audit"].iloc[0]
    # 2024 holds both quarters: 54 re-checked, 10 false -> 10 - 20 -> 0 points
    assert (r["audit_checked"], r["audit_false_found"], r["earned"]) == (54.0, 10.0, 0.0)
    # January-June is year to date, not a year: the audit does not apply there
    ev = targets.evaluate(results("2024-01/2024-06"), s, audits=a)
    assert (ev["scoring"] != "audit").all() and len(ev) == 1


def test_empty_audits_leave_every_unit_not_audited():
    ev, sc = targets.assess(counts(), scheme(), periods=["2024Q1"], units=UNITS,
                            audits=audits().iloc[:0])
    rows = ev[ev["scoring"] == "audit"]
    assert len(rows) == 4
    assert rows.set_index("unit")["audit_deduction"].fillna(-1).to_dict() == {
        "A": 0.0, "B": 0.0, "D": -1, "E": 0.0}  # D sent no counts: no audit points at all
    assert rows.loc[rows["unit"] != "D", "note"].str.startswith(
        "not audited in 2024Q1: no deduction").all()
    assert not ev["audit_corrected"].any()


def test_scoring_without_the_audits_a_scheme_names_is_refused():
    with pytest.raises(ValueError, match=r"^the scheme has 1 \[\[audit\]\] table\(s\) that "
                                         r"apply here \(checkups\): pass audits="):
        targets.assess(counts(), scheme(), periods=["2024Q1"], units=UNITS)
    # an audit of villages, or of years, does not apply to townships' quarters
    for other in (scheme(level="village"), scheme(periods=("year",))):
        ev, _ = targets.assess(counts(), other, periods=["2024Q1"], units=UNITS)
        assert "audit_deduction" not in ev
    plain = Scheme((Target(1, "checkup_completion_ratio", ">=", 100, 10),))
    with pytest.raises(ValueError, match=r"^audits were given but the scheme has no "
                                         r"\[\[audit\]\] table"):
        targets.assess(counts(), plain, periods=["2024Q1"], units=UNITS, audits=audits())


def test_an_item_the_audits_do_not_hold_is_refused_with_a_suggestion():
    a = audits().assign(item=["checkup", "checkup", "checkup", "deaths"])
    with pytest.raises(ValueError, match=r"^audit 1 \(checkups\): the audits have no item "
                                         r"'checkups' \(did you mean 'checkup'\?\)$"):
        targets.assess(counts(), scheme(), periods=["2024Q1"], units=UNITS, audits=a)


def test_bad_audits_and_unknown_units_are_refused():
    with pytest.raises(ValueError, match="false_found exceeds checked at index 0"):
        targets.assess(counts(), scheme(), periods=["2024Q1"], units=UNITS,
                       audits=audits().assign(false_found=[28, 7, 0, 1]))
    with pytest.raises(ValueError, match="audits: 2 rows share a unit, period and item"):
        targets.assess(counts(), scheme(), periods=["2024Q1"], units=UNITS,
                       audits=audits().assign(unit=["A", "A ", "D", "B"]))
    with pytest.raises(ValueError, match="^the audits hold unit.s. that are not in the "
                                         "units table: Z$"):
        targets.assess(counts(), scheme(), periods=["2024Q1"], units=UNITS,
                       audits=audits().assign(unit=["A", "B", "Z", "A"]))


def test_inputs_are_not_mutated_and_a_scheme_without_audits_is_unchanged():
    c, a = counts(), audits()
    before_c, before_a = c.copy(), a.copy()
    targets.assess(c, scheme(), periods=["2024Q1"], units=UNITS, audits=a)
    pd.testing.assert_frame_equal(c, before_c)
    pd.testing.assert_frame_equal(a, before_a)
    plain = Scheme((Target(1, "checkup_completion_ratio", ">=", 100, 10),))
    ev, sc = targets.assess(c, plain, periods=["2024Q1"], units=UNITS)
    assert "audit_deduction" not in ev and "audit_deduction" not in sc


def test_rank_uncertainty_leaves_audits_out():
    ru = targets.rank_uncertainty(counts(), scheme(), period="2024Q1", units=UNITS,
                                  draws=200)
    # targets only, on uncorrected figures: A 102.96 % and E 103.85 % meet >= 100 (10
    # points), B 96.15 % does not, D has no counts
    assert ru.set_index("unit")["score"].to_dict() == {"A": 10.0, "B": 0.0, "D": 0.0,
                                                       "E": 10.0}


# --------------------------------------------------------------------------- the file

GOOD = """
[[target]]
indicator = "compliance_rate"
op = ">="
threshold = 86
points = 20

[[audit]]
item = " births_compliant "
column = "births_compliant"
points = 10
points_per_false = 2
veto_above = 0.2
adjust = "scale_by_false_share"
label = "符合政策出生核查"
"""


def test_an_audit_table_is_read(write):
    s = load_targets(write("t.toml", GOOD))
    (a,) = s.audits
    assert (a.number, a.item, a.column, a.points, a.points_per_false, a.veto_above,
            a.adjust, a.periods, a.label) == (1, "births_compliant", "births_compliant",
                                              10.0, 2.0, 0.2, "scale_by_false_share",
                                              ("quarter", "year"), "符合政策出生核查")
    minimal = GOOD.replace("veto_above = 0.2\n", "").replace(
        'adjust = "scale_by_false_share"\n', "")
    (m,) = load_targets(write("m.toml", minimal)).audits
    assert m.adjust == "none" and math.isnan(m.veto_above)


def problems(write, text: str) -> list[str]:
    with pytest.raises(DataError) as err:
        load_targets(write("bad.toml", text))
    return [p.message for p in err.value.problems]


def test_every_problem_of_an_audit_table_is_listed(write):
    bad = GOOD.replace("points_per_false = 2", 'points_per_fals = 2\npoints = "10"') \
        .replace("veto_above = 0.2", "veto_above = 20").replace(
        '"scale_by_false_share"', '"scale"') + 'level = "town"\nperiods = ["quartr"]\n'
    bad = bad.replace("points = 10\n", "")
    assert problems(write, bad) == [
        "audit 1 (births_compliant): required key is missing",
        "audit 1 (births_compliant): unknown key 'points_per_fals' (did you mean "
        "'points_per_false'?)",
        "audit 1 (births_compliant): must be a number, got '10'",
        "audit 1 (births_compliant): is a share of the cases checked, in [0, 1) (0.10 for "
        "10 %), got 20",
        "audit 1 (births_compliant): must be one of none, subtract_found, "
        "scale_by_false_share, got 'scale'",
        "audit 1 (births_compliant): must be one of county, township, area, village, got "
        "'town' (did you mean 'township'?)",
        "audit 1 (births_compliant): unknown period scope 'quartr' (did you mean "
        "'quarter'?) (expected dekad, month, quarter, half_year, ytd, span, year)",
    ]


def test_an_unknown_column_an_item_twice_and_a_useless_adjust_are_refused(write):
    text = GOOD.replace('column = "births_compliant"', 'column = "births_complaint"')
    assert problems(write, text) == [
        "audit 1 (births_compliant): unknown count column 'births_complaint' (did you mean "
        "'births_compliant'?)"]
    twice = GOOD + GOOD.split("[[audit]]")[1].join(["[[audit]]", ""]).replace(
        'column = "births_compliant"', 'column = "births"').replace(
        'adjust = "scale_by_false_share"', "")
    assert problems(write, twice) == [
        "audit 2 (births_compliant): item 'births_compliant' is audited twice (also audit "
        "1)"]
    useless = GOOD.replace('column = "births_compliant"', 'column = "deaths"')
    assert problems(write, useless) == [
        "audit 1 (births_compliant): adjust = 'scale_by_false_share' corrects the figures "
        "that count 'deaths', but no target's indicator has it in its numerator"]
    single = GOOD.replace("[[audit]]", "[audit]")
    assert problems(write, single) == [
        "write each audit as an [[audit]] table (an array of tables), not [audit]"]
    misspelt = GOOD.replace("[[audit]]", "[[audits]]")
    assert problems(write, misspelt) == ["unknown table [audits] (did you mean [[audit]]?)"]


def test_an_audit_built_in_code_is_checked_like_the_file():
    with pytest.raises(ValueError, match=r"^audit 1 \(x\): points_per_false: must not be "
                                         r"negative, got -1$"):
        Audit(1, "x", "births", 5, -1)
    with pytest.raises(ValueError, match=r"^scheme: column: audit 1 \(x\): unknown count "
                                         r"column 'birth'"):
        Scheme((Target(1, "compliance_rate", ">=", 86, 20),), audits=(Audit(1, "x", "birth",
                                                                            5, 1),))
    assert np.array_equal(Audit(1, "x", "births", 5, 2).earned(np.array([0, 2, 9, np.nan])),
                          [5.0, 1.0, 0.0, 5.0])


def test_a_difference_or_several_columns_cannot_be_corrected():
    with pytest.raises(ValueError, match=r"cannot correct natural_growth_rate, whose numerator "
                                         r"is not 'births' alone"):
        Scheme((Target(1, "natural_growth_rate", "<=", 8.5, 15),),
               audits=(Audit(1, "births", "births", 5, 1, adjust="subtract_found"),))
    # the same audit that only deducts points is accepted
    s = Scheme((Target(1, "natural_growth_rate", "<=", 8.5, 15),),
               audits=(Audit(1, "births", "births", 5, 1),))
    assert s.audits[0].adjust == "none"


# --------------------------------------------------------------------------- sample county

def test_sample_scheme_with_the_audit_block(sample_dir, sample_units, sample_counts, tmp_path):
    import shutil

    from fpanalysis import io

    text = (sample_dir / "scheme_full.toml").read_text(encoding="utf-8")
    assert "[[audit]]" in text  # synth.AUDIT_BLOCK
    (tmp_path / "scheme_full.toml").write_text(text, encoding="utf-8")
    shutil.copy(sample_dir / "annual_plan.csv", tmp_path / "annual_plan.csv")
    values = io.load_values(sample_dir / "values.csv", units=sample_units)
    s = load_targets(tmp_path / "scheme_full.toml", units=sample_units)
    assert [a.item for a in s.audits] == ["births_compliant", "births"]
    a = io.load_audits(sample_dir / "audits.csv", units=sample_units)
    ev, sc = targets.assess(sample_counts, s, periods=["2024Q3"], values=values,
                            units=sample_units, audits=a)
    # expected from the raw file: min(2 x false, 10) + min(1 x false, 5) per township
    raw = pd.read_csv(sample_dir / "audits.csv", dtype={"unit": str})
    raw = raw[raw["period"] == "2024Q3"].set_index(["unit", "item"])["false_found"]
    expected = (np.minimum(2 * raw.xs("births_compliant", level="item"), 10)
                + np.minimum(raw.xs("births", level="item"), 5)).astype(float)
    # 990101107 misses 2024-08 (planted): not reported, its audit deducts nothing and earns 0
    expected["990101107"] = 0.0
    got = sc.set_index("unit")["audit_deduction"]
    townships = sample_units.loc[sample_units["level"] == "township", "unit"]
    assert sorted(got.index) == sorted(townships)  # every township, audited or not
    pd.testing.assert_series_equal(got.reindex(expected.index), expected, check_names=False)
    assert ev.attrs["audit_notes"] == ["audit item 'deaths' (216 rows) has no [[audit]] "
                                       "table: not scored"]


def test_a_baseline_is_corrected_by_its_own_periods_audits():
    c = pd.concat([counts(), pd.DataFrame({
        "unit": ["A"], "period": pd.PeriodIndex(["2023Q1"], freq="Q"),
        "checkups_done": [2600], "checkups_planned": [2600]})], ignore_index=True)
    a = pd.concat([audits(), pd.DataFrame({
        "unit": ["A"], "period": ["2023Q1"], "item": ["checkups"], "reported": [2600],
        "checked": [30], "false_found": [3]})], ignore_index=True)
    s = Scheme((Target(1, "checkup_completion_ratio", ">=", -50, 10, compare="previous_year",
                       periods=("quarter",)),), audits=scheme().audits)
    ev, _ = targets.assess(c, s, periods=["2024Q1"], units=UNITS, audits=a)
    r = ev[(ev["unit"] == "A") & (ev["target"] == 1)].iloc[0]
    # 2024Q1: 2780 x 22/27 / 2700 = 83.896 %; 2023Q1: 2600 x 27/30 / 2600 = 90 %
    assert r["value"] == pytest.approx(2780 * 22 / 27 / 27)
    assert r["baseline"] == pytest.approx(90.0)
    assert r["change"] == pytest.approx(2780 * 22 / 27 / 27 - 90.0)


def test_no_false_case_found_says_no_deduction_not_minus_0_points():
    # finding C4: "0 false of 27 re-checked: -0 points"
    a = audits().assign(false_found=[0, 7, 0, 1])
    ev, sc = targets.assess(counts(), scheme(), periods=["2024Q1"], units=UNITS, audits=a)
    rows = ev[ev["scoring"] == "audit"].set_index("unit")
    assert rows.loc["A", "note"] == "0 false of 27 re-checked: no deduction"
    assert rows.loc["A", "earned"] == 10.0 and rows.loc["A", "audit_deduction"] == 0.0
    assert rows.loc["B", "note"] == "7 false of 21 re-checked: -10 points"  # 2 x 7 = 14 > 10
