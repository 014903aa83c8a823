"""The targets file: parsed into frozen Target/Scheme specifications, checked as strictly as
the data.

Each bad file is written here with one rule broken; the expected (key, message) pairs are
the rule's fixed sentence, written out by hand. Expected scores of the Target methods are
hand-computed in comments.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from fpanalysis import indicators
from fpanalysis.schema import DataError
from fpanalysis.scheme import SCOPES, SCORING, Scheme, Target, load_targets, scopes

HEAD = '[[target]]\nindicator = "compliance_rate"\nop = ">="\n'
OK = HEAD + "threshold = 86\npoints = 20\n"
SCOPE_LIST = "dekad, month, quarter, half_year, ytd, span, year"
T1 = "target 1 (compliance_rate): "
UNITS = pd.DataFrame({"unit": ["990101", "101", "102", "103", "104"],
                      "name": ["县", "东林镇", "双凰乡", "长岗乡", "长岗乡"],
                      "parent": ["", "990101", "990101", "990101", "990101"],
                      "level": ["county"] + ["township"] * 4})


def problems(e: pytest.ExceptionInfo) -> list[tuple[str | None, str]]:
    return [(p.column, p.message) for p in e.value.problems]


def test_sample_scheme_loads(sample_dir, sample_units):
    s = load_targets(sample_dir, units=sample_units,
                     indicators=["substantiated_complaints"])
    assert isinstance(s, Scheme) and len(s.targets) == 10
    assert sum(t.points for t in s.targets) == 100  # targets.toml: 20+15+15+5+10+10+10+5+5+5
    assert (s.county_weight, s.city_weight, s.tier_size) == (0.6, 0.4, 3)
    growth = s.targets[1]
    assert (growth.indicator, growth.scoring, growth.floor) == ("natural_growth_rate",
                                                                 "linear", 10.5)
    assert dict(growth.unit_thresholds) == {"990101103": 9.0}
    frame = s.to_frame()
    assert frame.columns.tolist() == ["target", "indicator", "label", "op", "threshold",
                                      "points", "weight", "scoring", "floor", "per_event",
                                      "periods", "unit_thresholds", "against", "done",
                                      "schedule", "compare", "when_empty", "level"]
    assert frame["target"].tolist() == list(range(1, 11))


def test_specifications_are_frozen(sample_dir):
    s = load_targets(sample_dir)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.targets[0].threshold = 0.0
    with pytest.raises(TypeError):
        s.targets[1].unit_thresholds["990101101"] = 1.0


@pytest.mark.parametrize(("toml", "key", "message"), [
    # unknown tables and keys, with the nearest valid name
    ('[schema]\ncounty_weight = 0.5\ncity_weight = 0.5\n' + OK,
     "schema", "unknown table [schema] (did you mean [scheme]?)"),
    (HEAD + "treshold = 86\npoints = 20\n",
     "treshold", T1 + "unknown key 'treshold' (did you mean 'threshold'?)"),
    (HEAD + "treshold = 86\npoints = 20\n", "threshold", T1 + "required key is missing"),
    ('[scheme]\ncounty_wieght = 0.6\n' + OK,
     "county_wieght", "scheme: unknown key 'county_wieght' (did you mean 'county_weight'?)"),
    ('[target]\nindicator = "compliance_rate"\nop = ">="\nthreshold = 86\npoints = 20\n',
     "target", "write each target as [[target]] (an array of tables), not [target]"),
    (OK.replace("[[target]]", "[[targets]]"), "targets",
     "unknown table [targets] (did you mean [[target]]?)"),
    ('name = "x"\n' + OK, "name", "unknown key 'name' (it belongs in the [scheme] table)"),
    ('label = "x"\n' + OK, "label", "unknown key 'label'"),
    ('target = [1, 2]\n', "target", "write each target as a [[target]] table"),
    # refused values
    (HEAD + "threshold = nan\npoints = 20\n", "threshold", T1 + "must be a finite number, got nan"),
    (HEAD + "threshold = inf\npoints = 20\n", "threshold", T1 + "must be a finite number, got inf"),
    (HEAD + "threshold = 86\npoints = -20\n", "points", T1 + "must not be negative, got -20"),
    (OK + "weight = -1.0\n", "weight", T1 + "must not be negative, got -1"),
    (OK + "weight = nan\n", "weight", T1 + "must be a finite number, got nan"),
    (OK + 'scoring = "per_event"\nper_event = -2.5\n',
     "per_event", T1 + "the deduction per event must not be negative, got -2.5"),
    (OK + 'scoring = "linear"\nfloor = -inf\n', "floor", T1 + "must be a finite number, got -inf"),
    (OK + "periods = []\n", "periods", T1 + f"periods is empty: name at least one of {SCOPE_LIST}"),
    (OK + 'periods = ["quarterly"]\n', "periods",
     T1 + f"unknown period scope 'quarterly' (did you mean 'quarter'?) (expected {SCOPE_LIST})"),
    (OK + 'periods = "quarter"\n', "periods", T1 + "must be a list, got 'quarter'"),
    (OK + 'periods = ["quarter", "quarter"]\n', "periods", T1 + "scope listed twice: quarter"),
    (HEAD + "threshold = true\npoints = 20\n", "threshold", T1 + "must be a number, got True"),
    (OK + "weight = false\n", "weight", T1 + "must be a number, got False"),
    (HEAD + 'threshold = "86%"\npoints = 20\n', "threshold", T1 + "must be a number, got '86%'"),
    (HEAD.replace(">=", "=>") + "threshold = 86\npoints = 20\n", "op",
     "target 1 (compliance_rate): must be '<=' or '>=', got '=>'"),
    (OK + 'scoring = "lineal"\nfloor = 50\n', "scoring",
     T1 + "must be one of all_or_nothing, linear, per_event, veto, got 'lineal' (did you mean "
          "'linear'?)"),
    (OK + 'scoring = "linear"\n', "floor", T1 + "linear scoring needs floor"),
    (OK + "floor = 50\n", "floor", T1 + "floor applies only to linear scoring, not "
                                       "all_or_nothing"),
    (OK + 'scoring = "linear"\nfloor = 90\n', "floor",
     T1 + "the floor must lie below the threshold for op '>='"),
    (OK + 'scoring = "linear"\nfloor = 50\n[target.unit_thresholds]\n"101" = 40\n', "floor",
     T1 + "the floor must lie below the threshold of unit 101 (40) for op '>='"),
    (OK + '[target.unit_thresholds]\n"101" = nan\n', "unit_thresholds",
     T1 + "threshold for unit 101 must be a finite number, got nan"),
    ('[scheme]\ncounty_weight = 0.6\ncity_weight = 0.5\n' + OK, "county_weight",
     "scheme: county_weight + city_weight must be 1, got 0.6 + 0.5 = 1.1"),
    ('[scheme]\ncounty_weight = 0.7\n' + OK, "county_weight",
     "scheme: county_weight + city_weight must be 1, got 0.7 + 0.4 = 1.1"),
    ('[scheme]\ncity_weight = -0.4\ncounty_weight = 1.4\n' + OK, "city_weight",
     "scheme: must not be negative, got -0.4"),
    ('[scheme]\ntier_size = 0\n' + OK, "tier_size", "scheme: must be at least 1, got 0"),
    ('[scheme]\ntier_size = 2.5\n' + OK, "tier_size", "scheme: must be an integer, got 2.5"),
    ('[scheme]\ntotal_points = 100\n' + OK + HEAD.replace("compliance_rate", "sex_ratio_at_birth")
     .replace(">=", "<=") + "threshold = 130\npoints = 15\n",
     "points", "scheme: the targets' points sum to 35, but total_points = 100"),
    ('[scheme]\ntotal_weight = 1.0\n' + OK + "weight = 0.6\n"
     + HEAD + "threshold = 90\npoints = 1\nweight = 0.3\n",
     "weight", "scheme: the targets' weight sum to 0.9, but total_weight = 1"),
    ("", "target", "no [[target]] tables in the file"),
])
def test_bad_targets_files_name_target_and_key(write, toml, key, message):
    with pytest.raises(DataError) as e:
        load_targets(write("t.toml", toml))
    assert (key, message) in problems(e)


def test_unknown_indicator_with_the_known_ones_given(write):
    """Built-in keys are always known; the caller adds user indicators and supplied keys."""
    f = write("t.toml", OK.replace("compliance_rate", "compliance_rat") + HEAD.replace(
        "compliance_rate", "income") + "threshold = 50000\npoints = 5\n")
    with pytest.raises(DataError) as e:
        load_targets(f, indicators=[])
    assert problems(e) == [
        ("indicator", "target 1 (compliance_rat): unknown indicator 'compliance_rat' (did "
                      "you mean 'compliance_rate'?)"),
        ("indicator", "target 2 (income): unknown indicator 'income'")]
    user = indicators.proportion("compliance_rat", "a", "b")
    s = load_targets(f, indicators=[user, "income"])
    assert s.indicators == (user,)
    assert [t.indicator for t in s.targets] == ["compliance_rat", "income"]


def test_every_problem_is_listed_at_once(write):
    f = write("t.toml", '[schema]\n' + HEAD + "threshold = nan\npoints = -1\nperiods = []\n"
              + HEAD.replace(">=", "<") + "threshold = 1\npoints = 1\n")
    with pytest.raises(DataError) as e:
        load_targets(f)
    assert len(e.value.problems) == 5
    assert str(e.value).startswith("5 problem(s) found:")


@pytest.mark.parametrize("scope", SCOPES)
def test_every_period_scope_is_accepted(write, scope):
    s = load_targets(write("t.toml", OK + f'periods = ["{scope}"]\n'))
    assert s.targets[0].periods == (scope,)


def test_scopes_of_periods():
    assert scopes("2024H1") == {"half_year", "ytd"}
    assert scopes("2024-01/2024-06") == {"half_year", "ytd"}
    assert scopes("2024-01/2024-12") == {"ytd", "year"}
    assert scopes("2024") == {"ytd", "year"}
    assert scopes("2024H2") == {"half_year"}
    assert scopes("2024-07-D2") == {"dekad"}
    assert scopes("2024-02/2024-04") == {"span"}


# --------------------------------------------------------------------------- per-unit thresholds


def test_unit_thresholds_by_name_are_mapped_to_codes(write):
    """The issue's example: a per-unit threshold written for a name was ignored."""
    f = write("t.toml", OK + '[target.unit_thresholds]\n"东林镇" = 90\n"102" = 88\n')
    s = load_targets(f, units=UNITS)
    assert dict(s.targets[0].unit_thresholds) == {"101": 90.0, "102": 88.0}


@pytest.mark.parametrize(("table", "message"), [
    ('"东林" = 90\n', "'东林' is neither a unit code nor a unit name in the units table "
                     "(did you mean '东林镇'?)"),
    ('"109" = 90\n', "'109' is neither a unit code nor a unit name in the units table "
                     "(did you mean '104'?)"),
    ('"长岗乡" = 90\n', "unit name '长岗乡' is ambiguous: units 103, 104 share it; use the code"),
    ('"东林镇" = 90\n"101" = 91\n',
     "unit 101 has a second threshold (first in unit_thresholds '东林镇')"),
])
def test_unit_thresholds_for_units_that_are_not_there(write, table, message):
    f = write("t.toml", OK + "[target.unit_thresholds]\n" + table)
    with pytest.raises(DataError) as e:
        load_targets(f, units=UNITS)
    assert problems(e) == [("unit_thresholds", T1 + message)]


def test_unit_thresholds_file(write):
    write("plans.csv", "unit,threshold\n101,9.0\n102,abc\n103,inf\n104,\n")
    f = write("t.toml", '[[target]]\nindicator = "natural_growth_rate"\nop = "<="\n'
                        'threshold = 8.5\npoints = 15\nunit_thresholds_file = "plans.csv"\n')
    with pytest.raises(DataError) as e:
        load_targets(f)
    got = [(p.file.endswith("plans.csv"), p.row, p.column, p.message) for p in e.value.problems]
    where = "target 1 (natural_growth_rate): "
    assert got == [(True, 3, "threshold", where + "not a number: 'abc'"),
                   (True, 4, "threshold", where + "not a number: 'inf'"),
                   (True, 5, "threshold", where + "threshold is empty")]
    write("plans.csv", "unit,threshold\n101,9.0\n")
    assert dict(load_targets(f).targets[0].unit_thresholds) == {"101": 9.0}


def test_unit_thresholds_file_by_name_and_its_clashes(write):
    write("plans.csv", "name,threshold\n东林镇,9.0\n双凰乡,9.5\n无名乡,9.5\n")
    f = write("t.toml", '[[target]]\nindicator = "natural_growth_rate"\nop = "<="\n'
                        'threshold = 8.5\npoints = 15\nunit_thresholds_file = "plans.csv"\n'
                        '[target.unit_thresholds]\n"102" = 9.1\n')
    with pytest.raises(DataError) as e:
        load_targets(f, units=UNITS)
    got = [(p.row, p.column, p.message) for p in e.value.problems]
    where = "target 1 (natural_growth_rate): "
    assert got == [
        (3, "name", where + "unit 102 has a second threshold (first in unit_thresholds "
                            "'102')"),
        (4, "name", where + "'无名乡' is neither a unit code nor a unit name in the units "
                            "table"),
    ]


def test_unit_thresholds_file_on_the_wrong_side_of_a_linear_floor(write):
    write("plans.csv", "unit,threshold\n101,11.0\n")
    f = write("t.toml", '[[target]]\nindicator = "natural_growth_rate"\nop = "<="\n'
                        'threshold = 8.5\npoints = 15\nscoring = "linear"\nfloor = 10.5\n'
                        'unit_thresholds_file = "plans.csv"\n')
    with pytest.raises(DataError) as e:
        load_targets(f)
    assert problems(e) == [("floor", "target 1 (natural_growth_rate): the floor must lie "
                                     "above the threshold of unit 101 (11) for op '<='")]


# --------------------------------------------------------------------------- specifications


def test_target_scores_through_the_scoring_table():
    """One rule per kind, hand-computed: all or nothing >= 86 for 20 points; linear <= 8.5
    from 10.5 for 15 points (9.0 -> 15 x 1.5 / 2 = 11.25); 5 points less 2.5 per event
    (1 -> 2.5, 3 -> 0); a veto earns nothing whatever the value. Missing values earn nothing.
    The same method works on (draws x units) arrays."""
    assert set(SCORING) == {"all_or_nothing", "linear", "per_event", "veto"}
    veto = Target(4, "compliance_rate", ">=", 80, 0, scoring="veto")
    assert veto.earned(np.array([[90.0, 70.0]]), np.full(2, 80.0)).tolist() == [[0.0, 0.0]]
    a = Target(1, "compliance_rate", ">=", 86, 20)
    assert a.earned(np.array([86.0, 85.9, np.nan]), np.full(3, 86.0)).tolist() == [20, 0, 0]
    lin = Target(2, "natural_growth_rate", "<=", 8.5, 15, scoring="linear", floor=10.5)
    assert lin.earned(np.array([[9.0, 12.0]]), np.array([8.5, 8.5])).tolist() == [[11.25, 0.0]]
    ev = Target(3, "substantiated_complaints", "<=", 0, 5, scoring="per_event", per_event=2.5)
    assert ev.earned(np.array([0.0, 1.0, 3.0]), np.zeros(3)).tolist() == [5.0, 2.5, 0.0]
    assert lin.thresholds(["101", "103"]).tolist() == [8.5, 8.5]
    own = dataclasses.replace(lin, unit_thresholds={"103": 9.0})
    assert own.thresholds(["101", "103"]).tolist() == [8.5, 9.0]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"threshold": float("inf")}, "threshold: must be a finite number, got inf"),
    ({"points": -1}, "points: must not be negative, got -1"),
    ({"weight": True}, "weight: must be a number, got True"),
    ({"periods": ()}, "periods: periods is empty"),
    ({"scoring": "per_event", "per_event": -1.0},
     "per_event: the deduction per event must not be negative, got -1"),
])
def test_target_refuses_bad_values_when_built_directly(kwargs, message):
    fields = {"number": 1, "indicator": "compliance_rate", "op": ">=", "threshold": 86.0,
              "points": 20.0, **kwargs}
    with pytest.raises(ValueError, match="^target 1 \\(compliance_rate\\): " + message):
        Target(**fields)


def test_scheme_refuses_bad_weights_and_numbering():
    t = Target(1, "compliance_rate", ">=", 86, 20)
    with pytest.raises(ValueError, match=r"county_weight \+ city_weight must be 1, got "
                                         r"0.5 \+ 0.4 = 0.9"):
        Scheme((t,), county_weight=0.5)
    with pytest.raises(ValueError, match=r"targets must be numbered 1 to 1 in order, got \[2\]"):
        Scheme((dataclasses.replace(t, number=2),))
    with pytest.raises(ValueError, match="a scheme needs at least one target"):
        Scheme(())
