"""The county scheme's own rules (issue 8): vetoes, milestones against an annual plan, change
on a baseline period, and what an empty denominator means.

Every expected value is computed by hand in a comment next to the assertion (shares of a
plan, days of the year elapsed, the MOVER interval of a change); the Clopper-Pearson limits
behind a change are recomputed here from scipy.stats.beta, which the code under test does
not call, and the chance of failing a veto in the rank simulation is a closed-form Beta
tail probability.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from fpanalysis import targets
from fpanalysis.schema import DataError
from fpanalysis.scheme import Scheme, Target, load_targets

NAN = float("nan")
UNITS = pd.DataFrame({"unit": ["C", "101", "102", "103"],
                      "name": ["县", "甲镇", "乙镇", "丙镇"],
                      "parent": ["", "C", "C", "C"],
                      "level": ["county", "township", "township", "township"]})


def rows(period: str, indicator: str, values: dict[str, float], **cols) -> pd.DataFrame:
    """Result rows of one indicator in one period, one per unit."""
    out = pd.DataFrame({"unit": list(values), "period": period, "indicator": indicator,
                        "value": list(values.values())})
    for k, v in cols.items():
        out[k] = v
    return out


def monthly(unit_months: dict[str, dict[str, dict[str, int]]]) -> pd.DataFrame:
    """Monthly counts: {unit: {"2024-01": {column: count}}}."""
    recs = [{"unit": u, "period": m, **c} for u, ms in unit_months.items()
            for m, c in ms.items()]
    out = pd.DataFrame(recs)
    out["period"] = pd.PeriodIndex(out["period"], freq="M")
    return out


# --------------------------------------------------------------------------- veto

VETO = Target(2, "compliance_rate", ">=", 80, 0, scoring="veto", label="符合率否决",
              periods=("dekad", "month", "quarter", "ytd"))
GROWTH = Target(1, "crude_birth_rate", "<=", 12, 30, periods=("dekad", "month", "quarter",
                                                              "ytd"))


@pytest.mark.parametrize("period", ["2024-07-D1", "2024-07", "2024Q3", "2024-01/2024-09"])
def test_vetoed_unit_ranks_last_despite_the_best_points(period):
    # 101 meets the growth target (10 <= 12: 30 points) but fails the veto (75 < 80);
    # 102 misses growth (13 > 12: 0 points) and passes the veto (85 >= 80);
    # 103 meets growth (30 points) and has no compliance value: vetoed for no data.
    res = pd.concat([rows(period, "crude_birth_rate", {"101": 10.0, "102": 13.0, "103": 11.0}),
                     rows(period, "compliance_rate", {"101": 75.0, "102": 85.0, "103": NAN})])
    sc = targets.score(targets.evaluate(res, Scheme((GROWTH, VETO)))).set_index("unit")
    assert sc["score"].to_dict() == {"102": 0.0, "101": 30.0, "103": 30.0}
    assert sc["vetoed"].to_dict() == {"102": False, "101": True, "103": True}
    assert sc.loc["101", "veto_reason"] == "符合率否决: not met"
    assert sc.loc["103", "veto_reason"] == "符合率否决: no data"
    assert sc.loc["102", "veto_reason"] == ""
    # 102 first (the only unit not vetoed); 101 and 103 tie on 30 points: both rank 2
    assert sc["rank"].to_dict() == {"102": 1, "101": 2, "103": 2}


def test_vetoed_units_rank_among_themselves_by_score():
    # all four fail the veto except D; among A, B, C the scores 30 > 20 > 0 decide
    s = pd.DataFrame({"unit": list("ABCD"), "period": "2024Q1",
                      "score": [20.0, 30.0, 0.0, 5.0], "vetoed": [True, True, True, False]})
    assert targets.rank_units(s)[["unit", "rank"]].values.tolist() == [
        ["D", 1], ["B", 2], ["A", 3], ["C", 4]]


def test_veto_points_must_be_zero_and_default_to_zero(write):
    head = '[[target]]\nindicator = "compliance_rate"\nop = ">="\nthreshold = 80\n'
    with pytest.raises(DataError) as e:
        load_targets(write("t.toml", head + 'scoring = "veto"\npoints = 5\n'))
    assert [(p.column, p.message) for p in e.value.problems] == [
        ("points", "target 1 (compliance_rate): a veto carries no points (failing it puts "
                   "the unit last); got points = 5: leave points out or set it to 0")]
    s = load_targets(write("t.toml", head + 'scoring = "veto"\n'))
    assert (s.targets[0].points, s.targets[0].is_veto) == (0.0, True)


def test_rank_uncertainty_puts_vetoed_draws_last():
    # unit 101: compliance 80 of 100 (26 + 27 + 27) against a veto at >= 80 %. Its compliant
    # count is redrawn from the beta-binomial predictive BetaBinom(100, 80.5, 20.5)
    # (Jeffreys), so it fails the veto (fewer than 80 of 100) with probability
    # betabinom.cdf(79, 100, 80.5, 20.5) (scipy, closed form). 101 has the best growth:
    # 100 births / (100,000 x 92/366 person-years) x 1000 = 3.98 <= 14.5 (30 points); 102
    # and 103: 120 / (10,000 x 92/366) x 1000 = 47.7 > 14.5 (0 points) and 117 of 120
    # compliant (97.5 %), which fails the veto with P(p < 0.8 | Beta(117.5, 3.5)) ~ 1e-8.
    # So 101 ranks 1 in a draw unless it is vetoed, and then it is last (3).
    c = monthly({"101": {f"2024-0{m}": {"births": b, "births_compliant": k,
                                        "population": 100000}
                         for m, b, k in ((7, 30, 26), (8, 30, 27), (9, 40, 27))}})
    other = monthly({u: {f"2024-0{m}": {"births": 40, "births_compliant": 39,
                                        "population": 10000} for m in (7, 8, 9)}
                     for u in ["102", "103"]})
    counts = pd.concat([c, other], ignore_index=True)
    s = Scheme((Target(1, "crude_birth_rate", "<=", 14.5, 30, periods=("quarter",)),
                Target(2, "compliance_rate", ">=", 80, 0, scoring="veto",
                       periods=("quarter",))))
    ru = targets.rank_uncertainty(counts, s, period="2024Q3", draws=20000, seed=1, k=1)
    ru = ru.set_index("unit")
    expected = stats.betabinom.cdf(79, 100, 80.5, 20.5)
    se = math.sqrt(expected * (1 - expected) / 20000)
    assert abs(ru.loc["101", "p_vetoed"] - expected) < 4 * se
    # top (k = 1) exactly when not vetoed; bottom exactly when vetoed
    assert abs(ru.loc["101", "p_top"] - (1 - ru.loc["101", "p_vetoed"])) < 1e-12
    assert abs(ru.loc["101", "p_bottom"] - ru.loc["101", "p_vetoed"]) < 1e-12
    assert (ru.loc["101", "draw_rank_lower"], ru.loc["101", "draw_rank_upper"]) == (1, 3)
    assert bool(ru.loc["101", "vetoed"]) is False  # observed 80.0 >= 80: passes
    assert ru.loc["101", "rank"] == 1
    assert ru.loc["102", "p_vetoed"] < 1e-3


# --------------------------------------------------------------------------- milestones


def milestone(**kw) -> Target:
    fields = {"number": 1, "indicator": "checkup_plan_progress", "op": ">=",
              "threshold": NAN, "points": 10, "against": "annual_plan",
              "done": "checkups_done", "plan_file": "annual_plan.csv",
              "schedule": {"06": 50, "09": 80, "12": 100},
              "periods": ("ytd", "quarter", "month", "year"),
              "plan": {("101", 2024): 1200.0, ("102", 2024): 1200.0}}
    fields.update(kw)
    return Target(**fields)


def checkups() -> pd.DataFrame:
    # 101: 100 a month Jan-Sep, then 100, 100, 110: 600 by June, 900 by September,
    # 1,210 by December. 102: 90 a month; it sent no report for 2024-08.
    a = {f"2024-{m:02d}": {"checkups_done": 110 if m == 12 else 100} for m in range(1, 13)}
    b = {f"2024-{m:02d}": {"checkups_done": 90} for m in range(1, 13) if m != 8}
    return monthly({"101": a, "102": b})


def test_milestones_at_june_september_december_against_1200():
    ev, sc = targets.assess(checkups(), Scheme((milestone(),)),
                            periods=["2024-06", "2024Q3", "2024", "2024-05",
                                     "2024-01/2024-09"])
    u = ev[ev["unit"] == "101"].set_index("period")
    # June: 600 / 1200 = 50.00 % >= 50 % due: met
    # Q3 (Jan-Sep): 900 / 1200 = 75.00 % < 80 % due: not met
    # year: 1210 / 1200 = 100.8333 % >= 100 %: met
    assert u.loc["2024-06", ["done", "plan", "share", "due"]].tolist() == [600, 1200, 50, 50]
    assert u.loc["2024Q3", ["done", "share", "due"]].tolist() == [900, 75, 80]
    # the year-to-date span January-September is the same 900 / 1200
    assert u.loc["2024-01/2024-09", ["done", "share", "due"]].tolist() == [900, 75, 80]
    assert u.loc["2024", "done"] == 1210 and u.loc["2024", "due"] == 100
    assert u.loc["2024", "share"] == pytest.approx(100 * 1210 / 1200)  # 100.8333
    assert [u.loc[p, "met"] for p in ("2024-06", "2024Q3", "2024")] == [True, False, True]
    assert pd.isna(u.loc["2024-05", "met"])
    assert u.loc["2024-06", "value"] == 50 and u.loc["2024-06", "threshold"] == 50
    assert u["earned"].to_dict() == {"2024-05": 0, "2024-06": 10, "2024Q3": 0, "2024": 10,
                                     "2024-01/2024-09": 0}
    # May is before the first milestone: nothing due, not assessed (no points available)
    may = u.loc["2024-05"]
    assert may["verdict"] == "not_due" and may["points"] == 0 and np.isnan(may["due"])
    assert may["share"] == pytest.approx(100 * 500 / 1200)
    # elapsed: days Jan 1 - period end / 366 (2024): June 182 -> 49.7268 %, Q3 274 ->
    # 74.8634 %, May 152 -> 41.5301 %
    assert u.loc["2024-06", "elapsed"] == pytest.approx(100 * 182 / 366)
    assert u.loc["2024Q3", "elapsed"] == pytest.approx(100 * 274 / 366)
    s = sc.set_index(["unit", "period"])
    assert s.loc[("101", "2024-05"), ["targets", "max_score"]].tolist() == [0, 0]
    # 102 missed August: no done to date from August on, never counted short
    b = ev[ev["unit"] == "102"].set_index("period")
    assert b.loc["2024-06", "done"] == 540  # 6 x 90
    assert np.isnan(b.loc["2024Q3", "done"]) and b.loc["2024Q3", "verdict"] == "no_data"
    assert bool(b.loc["2024Q3", "not_reported"]) and b.loc["2024Q3", "earned"] == 0
    assert b.loc["2024Q3", "note"].startswith("not reported")


def test_time_half_gone_work_half_done():
    # 600 by the end of June: 50.00 % of 1200 against 182/366 = 49.7268 % of 2024 elapsed
    # (Jan 31 + Feb 29 + Mar 31 + Apr 30 + May 31 + Jun 30 = 182 days): met. By the end of
    # May 500: 41.6667 % against 152/366 = 41.5301 %: met. 102 by June 540: 45.00 % < 49.73
    ev, _ = targets.assess(checkups(), Scheme((milestone(schedule="elapsed"),)),
                           periods=["2024-05", "2024-06"])
    e = ev.set_index(["unit", "period"])
    assert e.loc[("101", "2024-06"), "share"] == 50.0
    assert e.loc[("101", "2024-06"), "due"] == pytest.approx(100 * 182 / 366)
    assert e.loc[("101", "2024-06"), "due"] == e.loc[("101", "2024-06"), "elapsed"]
    # sorted by period, then unit: 101 May, 102 May, 101 June, 102 June
    # 102 in May: 450 / 1200 = 37.5 % < 41.53 %
    assert e["met"].tolist() == [True, False, True, False]


def test_a_milestone_veto_bites_only_once_due():
    # as a veto: May (nothing due) vetoes nobody; June 600/1200 = 50 % meets 50 %; Q3
    # 75 % < 80 % vetoes 101; 102 has no done to date in Q3 (August missing): vetoed, no data
    t = milestone(scoring="veto", points=0)
    _, sc = targets.assess(checkups(), Scheme((t,)), periods=["2024-05", "2024-06", "2024Q3"])
    v = sc.set_index(["unit", "period"])
    assert v["vetoed"].to_dict() == {
        ("101", "2024-05"): False, ("102", "2024-05"): False,
        ("101", "2024-06"): False, ("102", "2024-06"): True,  # 540/1200 = 45 % < 50 %
        ("101", "2024Q3"): True, ("102", "2024Q3"): True}
    assert v.loc[("102", "2024Q3"), "veto_reason"] == \
        ("target 1 (checkup_plan_progress): no data (not reported: 8 of 9 months, "
         "2024-08 missing)")


def test_milestone_done_column_is_loaded_as_counts(write, tmp_path):
    # load_counts checks the columns of the objects it is given as counts: a milestone's
    # done column is one (a negative cell is refused), other targets add none
    from fpanalysis import io
    write("units.csv", "unit,name,parent,level\nC,县,,county\n101,甲镇,C,township\n")
    write("counts.csv", "unit,period,births,visits_done\n101,2024-01,3,-2\n")
    visits = milestone(done="visits_done")
    assert visits.columns == ("visits_done",) and VETO.columns == ()
    units = io.load_units(tmp_path)
    with pytest.raises(DataError) as e:
        io.load_counts(tmp_path, units=units, indicators=[visits, VETO])
    assert [(p.row, p.column, p.message) for p in e.value.problems] == [
        (2, "visits_done", "negative count: -2")]
    write("counts.csv", "unit,period,births,visits_done\n101,2024-01,3,7\n")
    c = io.load_counts(tmp_path, units=units, indicators=[visits, VETO])
    assert c["visits_done"].tolist() == [7]


def test_milestone_key_must_not_be_an_indicator():
    with pytest.raises(ValueError, match="a milestone's key must be its own name, not the "
                                         "indicator 'compliance_rate'"):
        milestone(indicator="compliance_rate")


def test_milestone_without_a_plan_for_the_unit_is_no_data():
    t = milestone(plan={("101", 2024): 1200.0})
    ev, _ = targets.assess(checkups(), Scheme((t,)), periods=["2024-06"])
    b = ev.set_index("unit").loc["102"]
    assert b["verdict"] == "no_data" and b["earned"] == 0
    assert b["note"] == "no annual plan for 2024"


def test_staged_coverage_over_years_from_supplied_cumulative_values():
    # coverage built up over years, supplied as the cumulative done: 50 % by 2024, 80 % by
    # 2025, 100 % by 2026 of a plan of 400 households. 2025: 300 / 400 = 75 % < 80 %.
    t = milestone(schedule={"2024": 50, "2025": 80, "2026": 100}, periods=("year",),
                  plan={("101", 2024): 400.0, ("101", 2025): 400.0})
    res = pd.concat([rows("2024", t.indicator, {"101": 210.0}),
                     rows("2025", t.indicator, {"101": 300.0})])
    ev = targets.evaluate(res, Scheme((t,))).set_index("period")
    assert ev["share"].tolist() == [52.5, 75.0]  # 210/400, 300/400
    assert ev["due"].tolist() == [50.0, 80.0]
    assert ev["met"].tolist() == [True, False]


def test_annual_plan_file_is_loaded_strictly(write, tmp_path):
    toml = ('[[target]]\nindicator = "checkups"\nagainst = "annual_plan"\ndone = "checkups_done"'
            '\nplan_file = "annual_plan.csv"\nschedule = { "06" = 50, "09" = 80, "12" = 100 }'
            '\nop = ">="\npoints = 10\nperiods = ["ytd", "quarter", "month"]\n')
    write("annual_plan.csv", "unit,period,plan\n101,2024,1200\n甲镇,2025,1\n")
    s = load_targets(write("t.toml", toml), units=UNITS)
    t = s.targets[0]
    assert dict(t.plan) == {("101", 2024): 1200.0, ("101", 2025): 1.0}
    assert dict(t.schedule) == {"06": 50.0, "09": 80.0, "12": 100.0} and t.is_milestone
    write("annual_plan.csv", "unit,period,plan\n101,2024,1200\n101,2024,1300\n109,2024,5\n"
                             "102,24,5\n103,2024,0\n")
    with pytest.raises(DataError) as e:
        load_targets(tmp_path / "t.toml", units=UNITS)
    where = "target 1 (checkups): "
    got = [(p.row, p.column, p.message) for p in e.value.problems]
    assert got == [
        (3, "unit", where + "unit 101 has a second plan for 2024 (first in row 2)"),
        (4, "unit", where + "'109' is neither a unit code nor a unit name in the units table "
                             "(did you mean '103'?)"),
        (5, "period", where + "the plan's period must be a year, got '24'"),
        (6, "plan", where + "the annual plan must be a positive number, got 0"),
    ]


# --------------------------------------------------------------------------- change


SRB = Target(1, "sex_ratio_at_birth", "<=", -7, 5, compare="previous_year",
             periods=("dekad", "month", "quarter", "ytd", "year"))


def test_change_on_last_year_worked_example_and_mover_interval():
    # 116.28 in 2023, 106.82 in 2024: change 106.82 - 116.28 = -9.46 <= -7: met.
    # MOVER (1 = 2024, 0 = 2023) with intervals 2024 [100.00, 114.00], 2023 [109.00, 124.00]:
    # L = -9.46 - sqrt((106.82 - 100)^2 + (124 - 116.28)^2) = -9.46 - sqrt(6.82^2 + 7.72^2)
    #   = -9.46 - sqrt(46.5124 + 59.5984) = -9.46 - sqrt(106.1108) = -9.46 - 10.301010 ...
    # U = -9.46 + sqrt((114 - 106.82)^2 + (116.28 - 109)^2) = -9.46 + sqrt(7.18^2 + 7.28^2)
    #   = -9.46 + sqrt(51.5524 + 52.9984) = -9.46 + sqrt(104.5508) = -9.46 + 10.225009 ...
    res = pd.concat([rows("2024", "sex_ratio_at_birth", {"101": 106.82}, lower=100.0,
                          upper=114.0)])
    base = rows("2023", "sex_ratio_at_birth", {"101": 116.28}, lower=109.0, upper=124.0)
    ev = targets.evaluate(res, Scheme((SRB,)), baseline=base).iloc[0]
    assert ev["value"] == 106.82 and ev["baseline"] == 116.28
    assert ev["baseline_period"] == "2023"
    assert ev["change"] == pytest.approx(-9.46, abs=1e-12)
    assert ev["change_lower"] == pytest.approx(-9.46 - math.sqrt(106.1108), abs=1e-9)
    assert ev["change_upper"] == pytest.approx(-9.46 + math.sqrt(104.5508), abs=1e-9)
    assert ev["change_lower"] == pytest.approx(-19.761010, abs=1e-6)
    assert ev["change_upper"] == pytest.approx(0.765009, abs=1e-6)
    # met on the change, unsure on its interval (-19.76 <= -7 < 0.77)
    assert bool(ev["met"]) and ev["verdict"] == "indeterminate" and ev["earned"] == 5


def test_change_from_counts_quarter_and_month_with_clopper_pearson_limits():
    # 2023Q3: 11,628 boys and 10,000 girls -> 116.28; 2024Q3: 10,682 and 10,000 -> 106.82,
    # spread over three months (July carries the remainder). Each month of 2024 against the
    # same month of 2023; the quarter against 2023Q3.
    def spread(m, f, year):
        return {f"{year}-0{k}": {"births_male": m // 3 + (m % 3 if k == 7 else 0),
                                 "births_female": f // 3 + (f % 3 if k == 7 else 0)}
                for k in (7, 8, 9)}
    counts = monthly({"101": {**spread(11628, 10000, 2023), **spread(10682, 10000, 2024)}})
    ev, _ = targets.assess(counts, Scheme((SRB,)), periods=["2024Q3", "2024-07"])
    q = ev.set_index("period").loc["2024Q3"]
    assert q["baseline_period"] == "2023Q3"
    assert q["baseline"] == pytest.approx(116.28) and q["value"] == pytest.approx(106.82)
    assert q["change"] == pytest.approx(-9.46)
    assert bool(q["met"])

    def cp(x, n):  # Clopper-Pearson limits of the male share, as males per 100 females
        lo, hi = stats.beta.ppf(0.025, x, n - x + 1), stats.beta.ppf(0.975, x + 1, n - x)
        return 100 * lo / (1 - lo), 100 * hi / (1 - hi)
    l1, u1 = cp(10682, 20682)
    l0, u0 = cp(11628, 21628)
    d = 106.82 - 116.28
    assert q["change_lower"] == pytest.approx(d - math.hypot(106.82 - l1, u0 - 116.28),
                                              rel=1e-6)
    assert q["change_upper"] == pytest.approx(d + math.hypot(u1 - 106.82, 116.28 - l0),
                                              rel=1e-6)
    m = ev.set_index("period").loc["2024-07"]
    # July 2023: 3876 + 0 boys, 3333 + 1 girls (11628 // 3 = 3876, 10000 // 3 = 3333 r 1)
    assert m["baseline_period"] == "2023-07"
    assert m["baseline"] == pytest.approx(100 * 3876 / 3334)


def test_missing_baseline_is_no_data_never_met():
    res = rows("2024Q3", "sex_ratio_at_birth", {"101": 100.0, "102": 104.0})
    base = rows("2023Q3", "sex_ratio_at_birth", {"102": 120.0})
    ev = targets.evaluate(res, Scheme((SRB,)), baseline=base).set_index("unit")
    assert ev.loc["101", "verdict"] == "no_data" and pd.isna(ev.loc["101", "met"])
    assert ev.loc["101", "earned"] == 0
    assert ev.loc["101", "note"] == "no baseline value for 2023Q3"
    assert ev.loc["102", "change"] == -16.0 and bool(ev.loc["102", "met"])  # 104 - 120


def test_change_against_a_named_period_and_on_dekads():
    t = Target(1, "sex_ratio_at_birth", "<=", -7, 5, compare="2023", periods=("quarter",))
    res = rows("2024Q3", "sex_ratio_at_birth", {"101": 106.82})
    ev = targets.evaluate(res, Scheme((t,)), values=None,
                          baseline=rows("2023", "sex_ratio_at_birth", {"101": 110.0})).iloc[0]
    assert ev["baseline_period"] == "2023" and ev["change"] == pytest.approx(-3.18)
    assert not bool(ev["met"])  # -3.18 > -7
    res = pd.concat([rows("2024-07-D2", "sex_ratio_at_birth", {"101": 100.0})])
    ev = targets.evaluate(res, Scheme((SRB,)), baseline=rows(
        "2023-07-D2", "sex_ratio_at_birth", {"101": 110.0})).iloc[0]
    assert ev["baseline_period"] == "2023-07-D2" and ev["change"] == -10.0


# --------------------------------------------------------------------------- when_empty


@pytest.mark.parametrize("period", ["2024-07", "2024Q3"])
@pytest.mark.parametrize(("when", "met", "earned", "verdict"), [
    ("met", True, 20.0, "clearly_met"), ("not_met", False, 0.0, "clearly_not_met"),
    ("no_data", None, 0.0, "no_data")])
def test_village_without_births(period, when, met, earned, verdict):
    # 101: no births at all (compliance 0 / 0: "denominator is 0"); 102: one birth, outside
    # policy (0 / 1 = 0 %); 103: sent no report.
    months = ["2024-07"] if period == "2024-07" else ["2024-07", "2024-08", "2024-09"]
    counts = monthly({"101": {m: {"births": 0, "births_compliant": 0} for m in months},
                      "102": {m: {"births": int(m == "2024-07"), "births_compliant": 0}
                              for m in months}})
    t = Target(1, "compliance_rate", ">=", 90, 20, when_empty=when,
               periods=("month", "quarter"))
    units = UNITS
    ev, sc = targets.assess(counts, Scheme((t,)), periods=[period], units=units)
    e = ev.set_index("unit")
    assert bool(e.loc["101", "empty"]) and e.loc["101", "note"] == "denominator is 0"
    assert (pd.isna(e.loc["101", "met"]) if met is None else e.loc["101", "met"] == met)
    assert e.loc["101", "earned"] == earned and e.loc["101", "verdict"] == verdict
    # the village with an unplanned birth scores 0 whatever when_empty says
    assert e.loc["102", "value"] == 0 and not bool(e.loc["102", "met"])
    assert e.loc["102", "earned"] == 0
    # a unit that did not report is never saved by when_empty
    assert bool(e.loc["103", "not_reported"]) and not bool(e.loc["103", "empty"])
    assert pd.isna(e.loc["103", "met"]) and e.loc["103", "earned"] == 0
    assert e.loc["103", "verdict"] == "no_data"


def test_empty_sex_ratio_on_a_dekad_and_a_veto_saved_by_when_empty():
    # no births in the dekad: 0 boys, 0 girls ("no births"); when_empty = "met" on a veto
    # means the unit is not vetoed
    res = rows("2024-07-D1", "sex_ratio_at_birth", {"101": NAN, "102": 140.0},
               numerator=[0.0, 14.0], denominator=[0.0, 10.0], note=["no births", ""])
    t = Target(1, "sex_ratio_at_birth", "<=", 130, 0, scoring="veto", when_empty="met",
               periods=("dekad",))
    sc = targets.score(targets.evaluate(res, Scheme((t,)))).set_index("unit")
    assert sc["vetoed"].to_dict() == {"101": False, "102": True}
    assert sc["rank"].to_dict() == {"101": 1, "102": 2}


# --------------------------------------------------------------------------- strictness


def test_every_new_key_is_checked_and_every_problem_listed(write):
    text = (
        '[[target]]\nindicator = "compliance_rate"\nop = ">="\nthreshold = 80\npoints = 3\n'
        'scoring = "veto"\nwhen_empty = "yes"\ncompare = "last_year"\n'
        '[[target]]\nindicator = "progress"\nagainst = "annual_plans"\nop = "<="\n'
        'points = 10\nschedule = { "6" = 50, "09" = 120, "12" = 40, "2025" = 60 }\n'
        'threshold = 50\nperiods = ["dekad", "month"]\n'
        '[[target]]\nindicator = "progress2"\nagainst = "annual_plan"\npoints = 10\nop = ">="\n'
        'schedule = "elapse"\ndone = ""\n'
        '[[target]]\nindicator = "births"\nop = ">="\nthreshold = 1\npoints = 1\n'
        'done = "x"\nshedule = "elapsed"\nwhen_empty = 1\n')
    with pytest.raises(DataError) as e:
        load_targets(write("t.toml", text))
    t1, t2 = "target 1 (compliance_rate): ", "target 2 (progress): "
    t3, t4 = "target 3 (progress2): ", "target 4 (births): "
    got = [(p.column, p.message) for p in e.value.problems]
    assert got == [
        ("when_empty", t1 + "must be one of met, not_met, no_data, got 'yes'"),
        ("compare", t1 + "must be 'previous_year' or a period label such as '2023', got "
                         "'last_year'"),
        ("points", t1 + "a veto carries no points (failing it puts the unit last); got "
                        "points = 3: leave points out or set it to 0"),
        ("against", t2 + "must be 'annual_plan', got 'annual_plans' (did you mean "
                         "'annual_plan'?)"),
        ("done", t2 + "a milestone target (against) needs done"),
        ("plan_file", t2 + "a milestone target (against) needs plan_file"),
        ("schedule", t2 + "milestone '6' is neither a month \"01\"..\"12\" nor a year such "
                          "as \"2024\""),
        ("schedule", t2 + "milestone 09: the share due must lie in 0..100 (per cent of the "
                          "annual plan), got 120"),
        ("schedule", t2 + "schedule mixes months and years; use one or the other"),
        ("threshold", t2 + "threshold does not apply to a milestone target: the schedule "
                           "gives the share due"),
        ("op", t2 + "a milestone target's op must be '>=' (the share done must reach the "
                    "share due), got '<='"),
        ("periods", t2 + "a milestone is assessed on the year to date at a month's end; "
                         "remove 'dekad' (assess the month instead)"),
        ("done", t3 + "done is empty"),
        ("plan_file", t3 + "a milestone target (against) needs plan_file"),
        ("schedule", t3 + "must be a table of milestones or 'elapsed', got 'elapse' (did "
                          "you mean 'elapsed'?)"),
        ("shedule", t4 + "unknown key 'shedule' (did you mean 'schedule'?)"),
        ("when_empty", t4 + "must be a text, got 1"),
        ("done", t4 + "done applies only to a milestone target (against = 'annual_plan')"),
    ]


def test_schedule_must_increase_and_types_are_checked():
    with pytest.raises(ValueError, match="the share due must increase with the date: 50 at "
                                         "09 is not above 50 at 06"):
        milestone(schedule={"06": 50, "09": 50})
    with pytest.raises(ValueError, match=r"schedule: must be a table or 'elapsed', got 5"):
        milestone(schedule=5)
    with pytest.raises(ValueError, match="schedule is empty"):
        milestone(schedule={})


def test_the_agreed_targets_file_syntax_loads(write):
    # the syntax of /work/issue8_plan.md, as the sample scheme writes it
    text = '''[scheme]
name = "县考核"
county_weight = 0.6
city_weight = 0.4
tier_size = 3

[[target]]
indicator = "compliance_rate"
op = ">="
threshold = 80
points = 0
scoring = "veto"
label = "政策符合率一票否决"

[[target]]
indicator = "checkup_plan_progress"
against = "annual_plan"
done = "checkups_done"
plan_file = "annual_plan.csv"
schedule = { "06" = 50, "09" = 80, "12" = 100 }
op = ">="
points = 10
periods = ["ytd", "quarter", "month"]

[[target]]
indicator = "sex_ratio_at_birth"
compare = "previous_year"
op = "<="
threshold = -7
points = 5
periods = ["year"]

[[target]]
indicator = "compliance_rate"
op = ">="
threshold = 86
points = 20
when_empty = "met"

[[target]]
indicator = "progress_elapsed"
against = "annual_plan"
done = "checkups_done"
plan_file = "annual_plan.csv"
schedule = "elapsed"
op = ">="
points = 5
periods = ["month"]

[[target]]
indicator = "sex_ratio_at_birth"
compare = "2023"
op = "<="
threshold = 0
points = 5
'''
    write("annual_plan.csv", "unit,period,plan\n101,2024,1200\n102,2024,800\n")
    s = load_targets(write("t.toml", text), units=UNITS)
    veto, mile, change, empty, elapsed, named = s.targets
    assert veto.is_veto and veto.points == 0 and veto.label == "政策符合率一票否决"
    assert dict(mile.plan) == {("101", 2024): 1200.0, ("102", 2024): 800.0}
    assert mile.periods == ("ytd", "quarter", "month") and np.isnan(mile.threshold)
    assert change.baseline_period("2024") == "2023" and named.baseline_period("2024Q3") == \
        "2023"
    assert empty.when_empty == "met" and elapsed.schedule == "elapsed"


def test_plan_file_with_an_item_column_uses_the_targets_rows(write):
    write("annual_plan.csv", "unit,period,plan,item\n101,2024,1200,checkups\n"
                             "101,2024,5,other\n")
    toml = ('[[target]]\nindicator = "checkups"\nagainst = "annual_plan"\ndone = "c"\n'
            'plan_file = "annual_plan.csv"\nschedule = "elapsed"\nop = ">="\npoints = 1\n')
    t = load_targets(write("t.toml", toml)).targets[0]
    assert dict(t.plan) == {("101", 2024): 1200.0}


def test_rank_uncertainty_redraws_a_change_and_holds_a_milestone():
    # 101: 2023Q3 13,000 boys / 10,000 girls (130.0) -> 2024Q3 10,500 / 10,000 (105.0):
    # change -25, met by far (<= -7); 102: 100.0 (10,000 / 10,000) -> 110.0 (11,000 /
    # 10,000): change +10, not met. With ~20,000 births a year the sampling sd of a sex
    # ratio is about 1.5 (of a change about 2.1), so the change of 101 is below -7 in
    # every draw and that of 102 (8 sd away) never: 101 ranks 1 in every draw, 102 ranks 2.
    # The milestone (both units 900 of 1,200 by Q3 = 75 % < 80 %) is held
    # at its observed share and earns nothing in any draw.
    def q3(year, m, f):
        return {f"{year}-0{k}": {"births_male": m // 3, "births_female": f // 3,
                                 "checkups_done": 300 if year == 2024 else 0}
                for k in (7, 8, 9)}
    ytd = {f"2024-0{k}": {"births_male": 0, "births_female": 0, "checkups_done": 0}
           for k in range(1, 7)}
    counts = monthly({"101": {**q3(2023, 13002, 10002), **ytd, **q3(2024, 10500, 10002)},
                      "102": {**q3(2023, 10002, 10002), **ytd, **q3(2024, 11001, 10002)}})
    s = Scheme((SRB, milestone(number=2)))
    ru = targets.rank_uncertainty(counts, s, period="2024Q3", draws=2000, seed=3, k=1)
    ru = ru.set_index("unit")
    assert ru["score"].to_dict() == {"101": 5.0, "102": 0.0}
    assert ru["p_top"].to_dict() == {"101": 1.0, "102": 0.0}
    assert ru["p_bottom"].to_dict() == {"101": 0.0, "102": 1.0}


# --------------------------------------------------------------------------- careless input


def test_when_empty_cannot_save_a_change_or_a_count_of_events(tmp_path):
    f = tmp_path / "t.toml"
    f.write_text('[[target]]\nindicator = "sex_ratio_at_birth"\ncompare = "previous_year"\n'
                 'op = "<="\nthreshold = -7\npoints = 5\nperiods = ["year"]\n'
                 'when_empty = "met"\n', encoding="utf-8")
    with pytest.raises(DataError, match="applies to a rate or share whose denominator can be 0"):
        load_targets(f)


def test_default_class_that_is_also_a_class_is_refused(tmp_path):
    f = tmp_path / "t.toml"
    f.write_text('[scheme]\ndefault_class = "二类"\n[[target]]\nindicator = "compliance_rate"\n'
                 'op = ">="\nthreshold = 86\npoints = 20\n[[class]]\nname = "二类"\n'
                 'targets = ["compliance_rate"]\n', encoding="utf-8")
    with pytest.raises(DataError, match="default_class '二类' is also the name of a"):
        load_targets(f)


def test_a_misspelt_done_column_is_refused_not_scored_as_no_data(sample_counts, sample_units):
    t = Target(1, "checkup_plan_progress", ">=", float("nan"), 10, against="annual_plan",
               done="checkup_done", plan_file="annual_plan.csv",
               schedule={"06": 50, "12": 100}, periods=("quarter",),
               plan={("990101101", 2024): 1500.0})
    with pytest.raises(ValueError, match="column 'checkup_done', which the counts do not "
                                         "have .did you mean 'checkups_done'.."):
        targets.assess(sample_counts, Scheme((t,)), periods=["2024Q2"], units=sample_units)


def test_a_change_from_an_open_ended_sex_ratio_is_bounded_not_guessed():
    # 2024: boys only -> ratio inf, lower 150, upper inf; 2023: 110 (100-120). The change is
    # +inf; its interval by interval arithmetic is [150 - 120, inf - 100] = [30, inf], so
    # "down at least 7" is clearly not met (before: MOVER gave NaN limits)
    t = Target(1, "sex_ratio_at_birth", "<=", -7, 5, compare="previous_year",
               periods=("year",))
    now = pd.DataFrame({"unit": ["A"], "period": ["2024"], "indicator": "sex_ratio_at_birth",
                        "value": [np.inf], "lower": [150.0], "upper": [np.inf]})
    before = now.assign(period="2023", value=110.0, lower=100.0, upper=120.0)
    ev = targets.evaluate(now, Scheme((t,)), baseline=before)
    row = ev.iloc[0]
    assert row["change"] == np.inf and row["change_lower"] == 30.0
    assert row["change_upper"] == np.inf
    assert row["verdict"] == "clearly_not_met" and not row["met"]


def test_a_named_baseline_after_the_period_is_refused():
    # a quarter may be set against last year's level (a ratio of any length), but a
    # baseline in the future, or the period itself, is no baseline
    t = Target(1, "sex_ratio_at_birth", "<=", -7, 5, compare="2023",
               periods=("quarter", "year"))
    assert t.baseline_period("2024") == "2023" and t.baseline_period("2024Q3") == "2023"
    with pytest.raises(ValueError, match="compares 2023Q2 with 2023: a named baseline must end"):
        t.baseline_period("2023Q2")
    later = Target(1, "sex_ratio_at_birth", "<=", -7, 5, compare="2030", periods=("year",))
    with pytest.raises(ValueError, match="compares 2024 with 2030"):
        later.baseline_period("2024")


def test_a_plan_file_for_other_years_is_refused_not_scored_as_no_data():
    # every township got no_data and lost the points when the plan file held only 2023
    t = Target(1, "checkup_plan_progress", ">=", float("nan"), 10, against="annual_plan",
               done="checkups_done", plan_file="annual_plan.csv",
               schedule={"06": 50, "12": 100}, periods=("quarter",),
               plan={("101", 2023): 1200.0})
    res = rows("2024Q2", "checkup_plan_progress", {"101": 600.0})
    with pytest.raises(ValueError, match=r"the annual plan has no year 2024 \(it holds 2023\)"):
        targets.evaluate(res, Scheme((t,)))
