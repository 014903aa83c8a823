"""Assessment schemes: the targets file parsed into frozen, validated specifications.

A scheme (``targets.toml``) is a list of targets, each a :class:`Target` checked in its
``__post_init__`` the way :class:`fpanalysis.indicators.Indicator` is, and a :class:`Scheme`
holding them with the year-end weights and the tier size. :func:`load_targets` reads the
file as strictly as the data: every problem (unknown table or key, with the nearest valid
name suggested; a value of the wrong kind; a non-finite or negative number; an unknown
indicator, period scope or unit) is collected and raised in one
:class:`~fpanalysis.schema.DataError`, each naming the target (number and indicator) and
the key.

How points are earned is one table of behaviour, :data:`SCORING`: each scoring kind knows
the keys it needs, its own checks and how it turns a value into points. Both
:func:`fpanalysis.targets.evaluate` and :func:`fpanalysis.targets.rank_uncertainty` score
through :meth:`Target.earned`, so observed and simulated scores follow the same rule.
"""

from __future__ import annotations

import difflib
import math
import tomllib
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd

from . import indicators as ind
from . import periods as pr
from .schema import COUNTS, LEVELS, DataError, Problem, TableSpec, suggestion

__all__ = [
    "AUDIT_ADJUST",
    "Audit",
    "ClassRule",
    "PLAN",
    "SCOPES",
    "SCORING",
    "Scheme",
    "Scoring",
    "THRESHOLDS",
    "Target",
    "correctable",
    "load_targets",
    "scopes",
]

#: Period scopes a target may name, finest first (see :func:`scopes`).
SCOPES: tuple[str, ...] = ("dekad", "month", "quarter", "half_year", "ytd", "span", "year")

#: The per-unit threshold table named by ``unit_thresholds_file``: ``unit`` (code) or
#: ``name`` (mapped to its code through the units table), and ``threshold``.
THRESHOLDS = TableSpec(
    name="unit_thresholds",
    keys=("unit",),
    required=("threshold",),
    optional=("unit", "name"),
    numbers=("threshold",),
)

#: The annual plan table named by a milestone target's ``plan_file``: ``unit`` (code) or
#: ``name``, ``period`` (the year, e.g. 2024), ``plan`` (> 0) and optionally ``item`` (then
#: only the rows whose item is the target's key are used).
PLAN = TableSpec(
    name="annual_plan",
    keys=("unit", "period"),
    required=("period", "plan"),
    optional=("unit", "name", "item"),
    numbers=("plan",),
)

#: ``when_empty`` values: what a zero denominator (no births, no person-years) means.
WHEN_EMPTY = ("met", "not_met", "no_data")
_AGAINST = ("annual_plan",)
_DEFAULT_PERIODS = ("quarter", "year")
_TABLES = ("scheme", "target", "class", "audit")
_CLASS_KEYS = ("name", "targets", "min")
_TEXT, _NUMBER, _INT, _LIST, _TABLE = "text", "number", "integer", "list", "table"
_TARGET_KEYS = {"indicator": _TEXT, "op": _TEXT, "threshold": _NUMBER, "points": _NUMBER,
                "weight": _NUMBER, "scoring": _TEXT, "periods": _LIST, "label": _TEXT,
                "floor": _NUMBER, "per_event": _NUMBER, "unit_thresholds": _TABLE,
                "unit_thresholds_file": _TEXT, "against": _TEXT, "done": _TEXT,
                "plan_file": _TEXT, "schedule": "table or 'elapsed'", "compare": _TEXT,
                "when_empty": _TEXT, "level": _TEXT}
_SCHEME_KEYS = {"name": _TEXT, "total_points": _NUMBER, "total_weight": _NUMBER,
                "county_weight": _NUMBER, "city_weight": _NUMBER, "tier_size": _INT,
                "default_class": _TEXT}
_REQUIRED = ("indicator", "op", "threshold", "points")
#: How an ``[[audit]]`` corrects the figures of the count column it verifies before scoring.
AUDIT_ADJUST = ("none", "subtract_found", "scale_by_false_share")
_AUDIT_KEYS = {"item": _TEXT, "column": _TEXT, "points": _NUMBER, "points_per_false": _NUMBER,
               "veto_above": _NUMBER, "adjust": _TEXT, "level": _TEXT, "periods": _LIST,
               "label": _TEXT}
_AUDIT_REQUIRED = ("item", "column", "points", "points_per_false")

Rule = tuple[str, str]  # (key, message)


# --------------------------------------------------------------------------- period scopes


def scopes(period: object) -> frozenset[str]:
    """Return the set of target scopes a period belongs to.

    Each period is in the scope of its own kind (:func:`fpanalysis.periods.kind`). A span
    from January is also year to date: January-June (``2024H1``) is ``half_year`` and
    ``ytd``; January-December (the span ``2024-01/2024-12`` and the year ``2024``) is
    ``ytd`` and ``year``. A month or quarter label is not a span: to evaluate year-to-date
    targets, evaluate :func:`fpanalysis.periods.year_to_date` of the period.

    Examples
    --------
    >>> for p in ("2024-07-D1", "2024Q3", "2024H1", "2024H2", "2024-01/2024-09",
    ...           "2024-01/2024-12", "2024", "2024-03/2024-05"):
    ...     print(p, sorted(scopes(p)))
    2024-07-D1 ['dekad']
    2024Q3 ['quarter']
    2024H1 ['half_year', 'ytd']
    2024H2 ['half_year']
    2024-01/2024-09 ['ytd']
    2024-01/2024-12 ['year', 'ytd']
    2024 ['year', 'ytd']
    2024-03/2024-05 ['span']
    """
    p = pr.parse(period)
    kind = pr.kind(p)
    out = {kind}
    if isinstance(p, pr.Span) and p.first.month == 1 and p.first.year == p.last.year:
        out.add("ytd")
        if p.last.month == 12:
            out.add("year")
    if kind == "year":
        out.add("ytd")
    return frozenset(out)


# --------------------------------------------------------------------------- scoring kinds


def _is_number(x: object) -> bool:
    return isinstance(x, int | float | np.integer | np.floating) and not isinstance(x, bool)


def _given(x: object) -> bool:
    """A floor or deduction is given unless absent or the NaN that stands for absent."""
    return x is not None and not (isinstance(x, float) and math.isnan(x))


@dataclass(frozen=True)
class Scoring:
    """How a kind of target earns points.

    Attributes
    ----------
    name : str
        ``all_or_nothing``, ``linear`` or ``per_event``.
    needs : tuple of str
        Target keys this kind requires (and that no other kind accepts).
    earn : callable
        ``earn(target, value, met, threshold) -> points`` on arrays of any shape (one value
        per unit, or draws x units); NaN values are set to 0 points by the caller.
    check : callable
        ``check(fields) -> [(key, message), ...]``: rules particular to this kind, on the
        target's fields once their types are known to be right.
    text : str
        One line for people.
    """

    name: str
    needs: tuple[str, ...]
    earn: Callable[..., np.ndarray]
    check: Callable[[Mapping[str, object]], list[Rule]]
    text: str


def _earn_all_or_nothing(t: Target, value: np.ndarray, met: np.ndarray,
                         threshold: np.ndarray) -> np.ndarray:
    return np.where(met, t.points, 0.0)


def _earn_linear(t: Target, value: np.ndarray, met: np.ndarray,
                 threshold: np.ndarray) -> np.ndarray:
    # share of the way from the floor (0 points) to the threshold (full points)
    with np.errstate(invalid="ignore"):
        share = np.clip((value - t.floor) / (threshold - t.floor), 0.0, 1.0)
    return t.points * share


def _earn_per_event(t: Target, value: np.ndarray, met: np.ndarray,
                    threshold: np.ndarray) -> np.ndarray:
    # points off per counted event, never below zero and never above the points (observed
    # counts are checked to be whole and >= 0 by evaluate; a redrawn one may stray below 0)
    return np.clip(t.points - t.per_event * np.maximum(value, 0.0), 0.0, t.points)


def _earn_veto(t: Target, value: np.ndarray, met: np.ndarray,
               threshold: np.ndarray) -> np.ndarray:
    # a veto earns nothing: failing it puts the unit last (fpanalysis.targets.score)
    return np.zeros(np.broadcast(value, threshold).shape)


def _no_check(fields: Mapping[str, object]) -> list[Rule]:
    return []


def _check_veto(fields: Mapping[str, object]) -> list[Rule]:
    p = fields.get("points", 0)
    if _is_number(p) and math.isfinite(p) and p != 0:
        return [("points", f"a veto carries no points (failing it puts the unit last); "
                           f"got points = {p:g}: leave points out or set it to 0")]
    return []


def _check_linear(fields: Mapping[str, object]) -> list[Rule]:
    op, floor = fields.get("op"), fields.get("floor")
    if op not in ("<=", ">=") or not _is_number(floor) or not math.isfinite(floor):
        return []
    side = "below" if op == ">=" else "above"
    out = []
    if _is_number(fields.get("threshold")):
        t = fields["threshold"]
        if (op == ">=" and floor >= t) or (op == "<=" and floor <= t):
            out.append(("floor", f"the floor must lie {side} the threshold for op {op!r}"))
    for unit, t in (fields.get("unit_thresholds") or {}).items():
        if _is_number(t) and ((op == ">=" and floor >= t) or (op == "<=" and floor <= t)):
            out.append(("floor", f"the floor must lie {side} the threshold of unit {unit} "
                                 f"({t:g}) for op {op!r}"))
    return out


def _check_per_event(fields: Mapping[str, object]) -> list[Rule]:
    d = fields.get("per_event")
    out = []
    if _is_number(d) and math.isfinite(d) and d < 0:
        out.append(("per_event", f"the deduction per event must not be negative, got {d:g}"))
    if fields.get("op") == ">=":
        out.append(("op", "per_event scoring counts events to deduct (complaints, cases): "
                          "fewer is better, so op must be '<='"))
    return out


#: The scoring kinds, by name: the one place that says how each earns points.
SCORING: Mapping[str, Scoring] = MappingProxyType({s.name: s for s in (
    Scoring("all_or_nothing", (), _earn_all_or_nothing, _no_check,
            "full points when the target is met, none otherwise"),
    Scoring("linear", ("floor",), _earn_linear, _check_linear,
            "0 points at the floor rising linearly to full points at the threshold"),
    Scoring("per_event", ("per_event",), _earn_per_event, _check_per_event,
            "full points less per_event for each counted event, never below 0"),
    Scoring("veto", (), _earn_veto, _check_veto,
            "no points; failing it ranks the unit after every unit that passes its vetoes"),
)})


# --------------------------------------------------------------------------- schedules


def _schedule_rules(value: object) -> list[Rule]:
    """A milestone schedule: 'elapsed', or period-end months ("01".."12") or years
    ("2024") to the per cent of the annual plan due, in 0..100 and increasing."""
    if isinstance(value, str):
        if value != "elapsed":
            return [("schedule", f"must be a table of milestones or 'elapsed', got {value!r}"
                                 f"{_suggest(value, ['elapsed'])}")]
        return []
    out: list[Rule] = []
    if not value:
        return [("schedule", "schedule is empty: give at least one milestone, e.g. "
                             "{ \"12\" = 100 }")]
    kinds = set()
    good: list[tuple[int, float, str]] = []
    for key, v in value.items():
        k = str(key)
        if len(k) == 2 and k.isdigit() and 1 <= int(k) <= 12:
            kinds.add("month")
        elif len(k) == 4 and k.isdigit() and 1900 <= int(k) <= 2999:
            kinds.add("year")
        else:
            out.append(("schedule", f"milestone {k!r} is neither a month \"01\"..\"12\" nor a "
                                    "year such as \"2024\""))
            k = ""
        if not _is_number(v) or not math.isfinite(v):
            out.append(("schedule", f"milestone {key}: the share due must be a finite number, "
                                    f"got {v!r}"))
        elif not 0 <= v <= 100:
            out.append(("schedule", f"milestone {key}: the share due must lie in 0..100 (per "
                                    f"cent of the annual plan), got {v:g}"))
        elif k:
            good.append((int(k), float(v), k))
    if len(kinds) > 1:
        out.append(("schedule", "schedule mixes months and years; use one or the other"))
        return out
    good.sort()
    for (_, v0, k0), (_, v1, k1) in zip(good, good[1:], strict=False):
        if v1 <= v0:
            out.append(("schedule", f"the share due must increase with the date: {v1:g} at "
                                    f"{k1} is not above {v0:g} at {k0}"))
    return out


# --------------------------------------------------------------------------- rules


_suggest = suggestion


def _kind_ok(value: object, kind: str) -> bool:
    if kind == _TEXT:
        return isinstance(value, str)
    if kind == _NUMBER:
        return _is_number(value)
    if kind == _INT:
        return isinstance(value, int | np.integer) and not isinstance(value, bool)
    if kind == _LIST:
        return isinstance(value, list | tuple)
    if kind == _TABLE:
        return isinstance(value, Mapping)
    return isinstance(value, Mapping | str)  # a schedule: a table or 'elapsed'


def _type_rules(fields: Mapping[str, object], kinds: Mapping[str, str]) -> list[Rule]:
    out = []
    for key, value in fields.items():
        if key not in kinds:
            out.append((key, f"unknown key {key!r}{_suggest(key, kinds)}"))
        elif not _kind_ok(value, kinds[key]):
            article = "an" if kinds[key] == _INT else "a"
            out.append((key, f"must be {article} {kinds[key]}, got {value!r}"))
    return out


def _periods_rules(given: list[object]) -> list[Rule]:
    """Rules of a ``periods`` list: not empty, known scopes, each once."""
    out: list[Rule] = []
    if not given:
        out.append(("periods", f"periods is empty: name at least one of {', '.join(SCOPES)}"))
    for s in given:
        if s not in SCOPES:
            out.append(("periods", f"unknown period scope {s!r}{_suggest(s, SCOPES)} "
                                   f"(expected {', '.join(SCOPES)})"))
    twice = sorted({str(s) for s in given if given.count(s) > 1})
    if twice:
        out.append(("periods", f"scope listed twice: {', '.join(twice)}"))
    return out


def _target_rules(fields: Mapping[str, object]) -> list[Rule]:
    """Every rule a target breaks, as (key, message); ``fields`` holds the keys given."""
    milestone = "against" in fields
    veto = fields.get("scoring") == "veto"
    required = [k for k in _REQUIRED if not (k == "threshold" and milestone)
                and not (k == "points" and veto)]
    out = [(k, "required key is missing") for k in required if k not in fields]
    out += _type_rules(fields, _TARGET_KEYS)
    bad_type = {k for k, _ in out}

    def ok(key: str) -> bool:
        return key in fields and key not in bad_type

    if ok("indicator") and not fields["indicator"].strip():
        out.append(("indicator", "indicator is empty"))
    if ok("op") and fields["op"] not in ("<=", ">="):
        out.append(("op", f"must be '<=' or '>=', got {fields['op']!r}"))
    for key in ("threshold", "points", "weight", "floor", "per_event"):
        if ok(key) and not math.isfinite(fields[key]):
            out.append((key, f"must be a finite number, got {fields[key]!r}"))
            bad_type.add(key)
    for key in ("points", "weight"):
        if ok(key) and fields[key] < 0:
            out.append((key, f"must not be negative, got {fields[key]:g}"))
    if ok("periods"):
        out += _periods_rules(list(fields["periods"]))
    if ok("unit_thresholds"):
        for unit, value in fields["unit_thresholds"].items():
            if not _is_number(value) or not math.isfinite(value):
                out.append(("unit_thresholds", f"threshold for unit {unit} must be a finite "
                                               f"number, got {value!r}"))
                bad_type.add("unit_thresholds")
    out += _plan_rules(fields, ok)
    scoring = fields.get("scoring", "all_or_nothing")
    if isinstance(scoring, str) and scoring not in SCORING:
        out.append(("scoring", f"must be one of {', '.join(SCORING)}, got {scoring!r}"
                               f"{_suggest(scoring, SCORING)}"))
    elif scoring in SCORING:
        kind = SCORING[scoring]
        for key in kind.needs:
            if key not in fields:
                out.append((key, f"{scoring} scoring needs {key}"))
        for other in SCORING.values():
            for key in other.needs:
                if key in fields and key not in kind.needs:
                    out.append((key, f"{key} applies only to {other.name} scoring, "
                                     f"not {scoring}"))
        if not bad_type & {"op", "threshold", "floor", "per_event", "unit_thresholds"}:
            out += kind.check(fields)
    return out


def _plan_rules(fields: Mapping[str, object], ok: Callable[[str], bool]) -> list[Rule]:
    """Rules of milestones (``against``), baselines (``compare``) and ``when_empty``."""
    out: list[Rule] = []
    if ok("level") and fields["level"] not in LEVELS:
        lv = fields["level"]
        out.append(("level", f"must be one of {', '.join(LEVELS)}, got {lv!r}"
                             f"{_suggest(lv, LEVELS)}"))
    if fields.get("when_empty") in ("met", "not_met") and (
            "compare" in fields or fields.get("scoring") == "per_event"):
        out.append(("when_empty", "applies to a rate or share whose denominator can be 0, "
                                  "not to a change on a baseline or a count of events"))
    if ok("when_empty") and fields["when_empty"] not in WHEN_EMPTY:
        w = fields["when_empty"]
        out.append(("when_empty", f"must be one of {', '.join(WHEN_EMPTY)}, got {w!r}"
                                  f"{_suggest(w, WHEN_EMPTY)}"))
    if ok("compare") and fields["compare"] != "previous_year":
        c = fields["compare"]
        try:
            pr.parse(c)
        except ValueError:
            out.append(("compare", f"must be 'previous_year' or a period label such as "
                                   f"'2023', got {c!r}{_suggest(c, ['previous_year'])}"))
    scoring = fields.get("scoring", "all_or_nothing")
    if "compare" in fields and scoring == "per_event":
        out.append(("compare", "per_event scoring counts events; it cannot score a change"))
    if "against" not in fields:
        for key in ("done", "plan_file", "schedule"):
            if key in fields:
                out.append((key, f"{key} applies only to a milestone target (against = "
                                 "'annual_plan')"))
        return out
    if ok("indicator") and fields["indicator"] in ind.keys():
        out.append(("indicator", f"a milestone's key must be its own name, not the indicator "
                                 f"{fields['indicator']!r} (it holds the done to date)"))
    if ok("against") and fields["against"] not in _AGAINST:
        a = fields["against"]
        out.append(("against", f"must be 'annual_plan', got {a!r}{_suggest(a, _AGAINST)}"))
    for key in ("done", "plan_file", "schedule"):
        if key not in fields:
            out.append((key, f"a milestone target (against) needs {key}"))
        elif ok(key) and isinstance(fields[key], str) and not fields[key].strip():
            out.append((key, f"{key} is empty"))
    if ok("schedule"):
        out += _schedule_rules(fields["schedule"])
    if fields.get("unit_thresholds"):
        out.append(("unit_thresholds", "unit_thresholds does not apply to a milestone target: "
                                       "the schedule gives the share due"))
    for key, why in (("threshold", "the schedule gives the share due"),
                     ("unit_thresholds_file", "the schedule gives the share due"),
                     ("compare", "a milestone is a share of this year's plan"),
                     ("when_empty", "the plan, not a count, is the denominator")):
        if key in fields:
            out.append((key, f"{key} does not apply to a milestone target: {why}"))
    if ok("op") and fields["op"] != ">=":
        out.append(("op", f"a milestone target's op must be '>=' (the share done must reach "
                          f"the share due), got {fields['op']!r}"))
    if scoring in ("linear", "per_event"):
        out.append(("scoring", f"{scoring} scoring does not apply to a milestone target; use "
                               "all_or_nothing or veto"))
    if ok("periods") and "dekad" in fields["periods"]:
        out.append(("periods", "a milestone is assessed on the year to date at a month's end; "
                               "remove 'dekad' (assess the month instead)"))
    return out


def _scheme_rules(fields: Mapping[str, object]) -> list[Rule]:
    out = _type_rules(fields, _SCHEME_KEYS)
    bad = {k for k, _ in out}
    for key in ("total_points", "total_weight", "county_weight", "city_weight"):
        if key in fields and key not in bad:
            v = fields[key]
            if not math.isfinite(v):
                out.append((key, f"must be a finite number, got {v!r}"))
                bad.add(key)
            elif v < 0:
                out.append((key, f"must not be negative, got {v:g}"))
                bad.add(key)
    if "tier_size" in fields and "tier_size" not in bad and fields["tier_size"] < 1:
        out.append(("tier_size", f"must be at least 1, got {fields['tier_size']}"))
    cw, xw = fields.get("county_weight", 0.6), fields.get("city_weight", 0.4)
    if not bad & {"county_weight", "city_weight"} and not math.isclose(cw + xw, 1.0):
        out.append(("county_weight", f"county_weight + city_weight must be 1, got "
                                     f"{cw:g} + {xw:g} = {cw + xw:g}"))
    return out


def _raise_rules(where: str, rules: list[Rule]) -> None:
    if rules:
        raise ValueError("; ".join(f"{where}: {key}: {msg}" for key, msg in rules))


# --------------------------------------------------------------------------- specifications


@dataclass(frozen=True)
class Target:
    """One target of an assessment scheme.

    Attributes
    ----------
    number : int
        Position in the scheme, from 1; names the target in messages and results.
    indicator : str
        Indicator key (built in, a user indicator, or a supplied value).
    op : {'<=', '>='}
        The target is met when ``value op threshold`` (unrounded).
    threshold : float
        County-wide threshold, in the indicator's display unit.
    points : float
        Points available (>= 0).
    weight : float, default 1
        Multiplier of the points in the composite score (>= 0).
    scoring : {'all_or_nothing', 'linear', 'per_event'}, default 'all_or_nothing'
        See :data:`SCORING`.
    floor : float
        ``linear`` only: the value earning 0 points (finite, on the far side of every
        threshold); NaN otherwise.
    per_event : float
        ``per_event`` only: points off per counted event (>= 0); NaN otherwise.
    periods : tuple of str, default ('quarter', 'year')
        Scopes the target applies to (:data:`SCOPES`, see :func:`scopes`).
    label : str
        Display label.
    unit_thresholds : mapping of str to float
        Thresholds of particular units (by unit code), overriding ``threshold``.
    against : {'', 'annual_plan'}
        ``annual_plan`` makes a milestone target: the share of the unit's annual plan done
        from January to the period's end must reach the share due then. ``indicator`` is
        then the target's own key (results rows of that key carry the done to date, see
        :func:`fpanalysis.targets.done_to_date`); ``threshold`` is not given (NaN); ``op``
        is ``>=``.
    done : str
        Milestones: the count column cumulated from January to the period's end.
    plan_file : str
        Milestones: the annual plan table (:data:`PLAN`), read into ``plan`` at load.
    schedule : mapping of str to float, or 'elapsed'
        Milestones: period-end month (``"06"``) or year (``"2024"``) -> per cent of the plan
        due by then (0..100, increasing); ``"elapsed"``: the share of the year elapsed at
        the period's end is due ("time half gone, work half done").
    compare : str
        ``previous_year`` or a period label: the target is met on the change ``value -
        baseline`` (``change op threshold``), see :meth:`baseline_period`.
    when_empty : {'no_data', 'met', 'not_met'}, default 'no_data'
        What a zero denominator (numerator and denominator both 0: no births, no
        person-years) means; a unit that did not report is never saved by it.
    level : str, default ''
        The level of unit the target applies to (``village``, ``township`` …; with the units
        table at evaluation); empty: every unit assessed.
    plan : mapping of (unit, year) to float
        Milestones: each unit's annual plan.

    Examples
    --------
    >>> t = Target(1, "natural_growth_rate", "<=", 8.5, 15, scoring="linear", floor=10.5)
    >>> t.earned(np.array([8.0, 9.0, 11.0, np.nan]), np.full(4, 8.5)).tolist()
    [15.0, 11.25, 0.0, 0.0]
    >>> Target(2, "compliance_rate", ">=", float("nan"), -5)
    Traceback (most recent call last):
    ...
    ValueError: target 2 (compliance_rate): threshold: must be a finite number, got nan; \
target 2 (compliance_rate): points: must not be negative, got -5
    """

    number: int
    indicator: str
    op: str
    threshold: float
    points: float
    weight: float = 1.0
    scoring: str = "all_or_nothing"
    floor: float = float("nan")
    per_event: float = float("nan")
    periods: tuple[str, ...] = _DEFAULT_PERIODS
    label: str = ""
    unit_thresholds: Mapping[str, float] = field(default_factory=dict, hash=False)
    against: str = ""
    done: str = ""
    plan_file: str = ""
    schedule: Mapping[str, float] | str | None = field(default=None, hash=False)
    compare: str = ""
    when_empty: str = "no_data"
    plan: Mapping[tuple[str, int], float] = field(default_factory=dict, hash=False)
    level: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.number, int) or isinstance(self.number, bool) \
                or self.number < 1:
            raise ValueError(f"a target's number must be a positive integer, got "
                             f"{self.number!r}")
        fields = {"indicator": self.indicator, "op": self.op, "threshold": self.threshold,
                  "points": self.points, "weight": self.weight, "scoring": self.scoring,
                  "periods": list(self.periods) if isinstance(self.periods, list | tuple)
                  else self.periods, "label": self.label,
                  "unit_thresholds": self.unit_thresholds}
        if _given(self.floor):
            fields["floor"] = self.floor
        if _given(self.per_event):
            fields["per_event"] = self.per_event
        if self.against or self.done or self.plan_file or self.schedule is not None:
            fields.update({k: getattr(self, k) for k in ("against", "done", "plan_file")
                           if getattr(self, k) or self.against})
            if self.schedule is not None:
                fields["schedule"] = self.schedule
            if self.against and not _given(self.threshold):
                del fields["threshold"]
        if self.compare:
            fields["compare"] = self.compare
        if self.when_empty != "no_data":
            fields["when_empty"] = self.when_empty
        if self.level:
            fields["level"] = self.level
        _raise_rules(f"target {self.number} ({self.indicator})", _target_rules(fields))
        for name in ("threshold", "points", "weight", "floor", "per_event"):
            object.__setattr__(self, name, float(getattr(self, name)))
        object.__setattr__(self, "periods", tuple(self.periods))
        object.__setattr__(self, "unit_thresholds", MappingProxyType(
            {str(k): float(v) for k, v in self.unit_thresholds.items()}))
        if isinstance(self.schedule, Mapping):
            object.__setattr__(self, "schedule", MappingProxyType(
                {str(k): float(v) for k, v in sorted(self.schedule.items())}))
        object.__setattr__(self, "plan", MappingProxyType(
            {(str(u), int(y)): float(v) for (u, y), v in self.plan.items()}))

    @property
    def is_milestone(self) -> bool:
        """Whether the target is a share of an annual plan due by dates (``against``)."""
        return bool(self.against)

    @property
    def columns(self) -> tuple[str, ...]:
        """Count columns the target itself reads from the counts: a milestone's ``done``.

        Pass the targets to :func:`fpanalysis.io.load_counts` with the user indicators
        (``indicators=[*scheme.indicators, *scheme.targets]``) so that these columns are
        loaded and checked as counts.
        """
        return (self.done,) if self.is_milestone else ()

    @property
    def is_veto(self) -> bool:
        """Whether failing the target puts the unit last (``scoring = "veto"``)."""
        return self.scoring == "veto"

    def baseline_period(self, period: object) -> str:
        """The period a ``compare`` target compares ``period`` with: the same period a
        year earlier (``previous_year``) or the named period.

        Examples
        --------
        >>> t = Target(1, "sex_ratio_at_birth", "<=", -7, 5, compare="previous_year")
        >>> [t.baseline_period(p) for p in ("2024", "2024Q3", "2024-06", "2024-01/2024-09",
        ...                                 "2024-06-D2")]
        ['2023', '2023Q3', '2023-06', '2023-01/2023-09', '2023-06-D2']
        """
        if not self.compare:
            raise ValueError(f"{self.name} compares with no baseline")
        p = pr.parse(period)
        if self.compare != "previous_year":
            base = pr.parse(self.compare)
            # a rate or ratio of a quarter may be set against last year's level; but a
            # baseline must lie before the period it is the baseline of
            if pr.end(base) >= pr.start(p):
                raise ValueError(
                    f"{self.name} compares {p} with {base}: a named baseline must end before "
                    "the period it is compared with; or use compare = \"previous_year\"")
            return str(base)
        if isinstance(p, pr.Dekad):
            return str(pr.Dekad(p.year - 1, p.month_number, p.part))
        if isinstance(p, pr.Span):
            return str(pr.Span(p.first - 12, p.last - 12))
        return str(p - (1 if p.freqstr.startswith("Y") else
                        4 if p.freqstr.startswith("Q") else 12))

    def due(self, period: object) -> tuple[float, float]:
        """A milestone target's share due (per cent of the annual plan) at the end of
        ``period`` and the share of the year elapsed then (per cent, days to the period's
        end over days in the year).

        The share due is that of the latest milestone on or before the period's end; before
        the first milestone nothing is due yet (NaN). With ``schedule = "elapsed"`` the
        share due is the share of the year elapsed.

        Examples
        --------
        >>> t = Target(1, "checkups", ">=", float("nan"), 10, against="annual_plan",
        ...            done="checkups_done", plan_file="plan.csv",
        ...            schedule={"06": 50, "09": 80, "12": 100}, periods=("ytd", "month"))
        >>> [t.due(p)[0] for p in ("2024-05", "2024-06", "2024Q3", "2024-11", "2024")]
        [nan, 50.0, 80.0, 80.0, 100.0]
        >>> round(t.due("2024-06")[1], 4)  # 182 days (Jan-Jun 2024) / 366
        49.7268
        """
        end = pr.end(period)
        elapsed = 100.0 * ((end - pd.Timestamp(year=end.year, month=1, day=1)).days + 1) \
            / pr.days_in_year(period)
        if self.schedule == "elapsed":
            return elapsed, elapsed
        due = float("nan")
        for key, share in dict(self.schedule or {}).items():  # a handful of milestones
            stop = pd.Timestamp(year=int(key), month=12, day=31) if len(key) == 4 else \
                pd.Timestamp(year=end.year, month=int(key), day=1) + pd.offsets.MonthEnd(0)
            if stop <= end:
                due = share
        return due, elapsed

    @property
    def name(self) -> str:
        """``target N (indicator)``, as messages name it."""
        return f"target {self.number} ({self.indicator})"

    def applies_to(self, period: object) -> bool:
        """Whether the target applies to ``period`` (any of its scopes is listed)."""
        return bool(scopes(period) & set(self.periods))

    def thresholds(self, units: Iterable[str]) -> np.ndarray:
        """Each unit's threshold: its own where given, else the county-wide one."""
        codes = pd.Series(list(units), dtype=object)
        return codes.map(dict(self.unit_thresholds)).fillna(self.threshold).to_numpy(float)

    def meets(self, value: np.ndarray, threshold: np.ndarray) -> np.ndarray:
        """``value op threshold`` element-wise (False where the value is NaN)."""
        with np.errstate(invalid="ignore"):
            return value <= threshold if self.op == "<=" else value >= threshold

    def earned(self, value: np.ndarray, threshold: np.ndarray) -> np.ndarray:
        """Points earned for each value (any shape broadcasting with ``threshold``); a
        missing value earns nothing."""
        value = np.asarray(value, dtype=float)
        points = SCORING[self.scoring].earn(self, value, self.meets(value, threshold),
                                            threshold)
        return np.where(np.isnan(value), 0.0, points)


@dataclass(frozen=True)
class ClassRule:
    """A class of units (一类, 二类 … villages): the named targets that decide it.

    A unit is in the class when all of ``targets`` are met, or at least ``min`` of them.
    Each name is a target's label or indicator key and must name exactly one target of the
    scheme (checked by :class:`Scheme`). Units are given the first class whose rule holds
    (:func:`fpanalysis.targets.classify`), else the scheme's ``default_class``.

    Examples
    --------
    >>> ClassRule("一类", ("出生统计零差错", "性别选择零发生")).min is None
    True
    >>> ClassRule("二类", ("a", "b"), min=3)
    Traceback (most recent call last):
    ...
    ValueError: class 二类: min must be a whole number between 1 and the number of its \
targets (2), got 3
    """

    name: str
    targets: tuple[str, ...]
    min: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError(f"a class needs a name, got {self.name!r}")
        names = self.targets
        if isinstance(names, str) or not isinstance(names, list | tuple) or not names or \
                not all(isinstance(n, str) and n.strip() for n in names):
            raise ValueError(f"class {self.name}: targets must be a non-empty list of target "
                             f"labels or keys, got {names!r}")
        twice = sorted({n for n in names if list(names).count(n) > 1})
        if twice:
            raise ValueError(f"class {self.name}: target(s) named twice: {', '.join(twice)}")
        object.__setattr__(self, "targets", tuple(names))
        if self.min is not None and (isinstance(self.min, bool) or not isinstance(self.min, int)
                                     or not 1 <= self.min <= len(names)):
            raise ValueError(f"class {self.name}: min must be a whole number between 1 and the "
                             f"number of its targets ({len(names)}), got {self.min!r}")


def _audit_rules(fields: Mapping[str, object]) -> list[Rule]:
    """Every rule an ``[[audit]]`` table breaks, as (key, message)."""
    out = [(k, "required key is missing") for k in _AUDIT_REQUIRED if k not in fields]
    out += _type_rules(fields, _AUDIT_KEYS)
    bad = {k for k, _ in out}

    def ok(key: str) -> bool:
        return key in fields and key not in bad

    for key in ("item", "column"):
        if ok(key) and not fields[key].strip():
            out.append((key, f"{key} is empty"))
    for key in ("points", "points_per_false", "veto_above"):
        if ok(key) and not math.isfinite(fields[key]):
            out.append((key, f"must be a finite number, got {fields[key]!r}"))
            bad.add(key)
    for key in ("points", "points_per_false"):
        if ok(key) and fields[key] < 0:
            out.append((key, f"must not be negative, got {fields[key]:g}"))
    if ok("veto_above") and not 0 <= fields["veto_above"] < 1:
        out.append(("veto_above", f"is a share of the cases checked, in [0, 1) (0.10 for "
                                  f"10 %), got {fields['veto_above']:g}"))
    if ok("adjust") and fields["adjust"] not in AUDIT_ADJUST:
        a = fields["adjust"]
        out.append(("adjust", f"must be one of {', '.join(AUDIT_ADJUST)}, got {a!r}"
                              f"{_suggest(a, AUDIT_ADJUST)}"))
    if ok("level") and fields["level"] not in LEVELS:
        lv = fields["level"]
        out.append(("level", f"must be one of {', '.join(LEVELS)}, got {lv!r}"
                             f"{_suggest(lv, LEVELS)}"))
    if ok("periods"):
        out += _periods_rules(list(fields["periods"]))
    return out


@dataclass(frozen=True)
class Audit:
    """An ``[[audit]]`` table: re-checks of an item that count in the score.

    Attributes
    ----------
    number : int
        Position among the scheme's audits, from 1.
    item : str
        The ``item`` of the audits table (:func:`fpanalysis.io.load_audits`) it scores
        (spaces around it are stripped, as the loader strips them).
    column : str
        The count column the re-checks verify (``births_compliant``): a contract count
        column or one of a user indicator's.
    points : float
        Points of the audit item; each false case found takes ``points_per_false`` off, the
        item never falling below 0 (as ``per_event`` targets do).
    points_per_false : float
        Points deducted per false case found (>= 0).
    veto_above : float
        Veto (the unit ranks after every unit not vetoed) when the lower limit of the exact
        interval of the false share exceeds this share, in [0, 1); NaN: no veto.
    adjust : {'none', 'subtract_found', 'scale_by_false_share'}, default 'none'
        Whether the unit's figures whose numerator counts ``column`` are corrected before
        they are scored: by subtracting the false cases found, or by scaling the numerator
        with 1 - the false share (:func:`fpanalysis.quality.audits.audit_adjusted`).
    level : str, default ''
        The level of unit audited; empty: every unit assessed.
    periods : tuple of str, default ('quarter', 'year')
        Scopes in which the audit is scored; an audit row counts for an assessed period when
        its own period lies within it.
    label : str
        Display label; default ``audit <item>``.

    Examples
    --------
    >>> Audit(1, " births_compliant", "births_compliant", 10, 2).item
    'births_compliant'
    >>> Audit(1, "births", "births", 10, 2, veto_above=10, adjust="scale")
    Traceback (most recent call last):
    ...
    ValueError: audit 1 (births): veto_above: is a share of the cases checked, in [0, 1) \
(0.10 for 10 %), got 10; audit 1 (births): adjust: must be one of none, subtract_found, \
scale_by_false_share, got 'scale'
    """

    number: int
    item: str
    column: str
    points: float
    points_per_false: float
    veto_above: float = float("nan")
    adjust: str = "none"
    level: str = ""
    periods: tuple[str, ...] = _DEFAULT_PERIODS
    label: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.number, int) or isinstance(self.number, bool) \
                or self.number < 1:
            raise ValueError(f"an audit's number must be a positive integer, got "
                             f"{self.number!r}")
        fields = {"item": self.item, "column": self.column, "points": self.points,
                  "points_per_false": self.points_per_false, "adjust": self.adjust,
                  "periods": list(self.periods) if isinstance(self.periods, list | tuple)
                  else self.periods, "label": self.label}
        if _given(self.veto_above):
            fields["veto_above"] = self.veto_above
        if self.level:
            fields["level"] = self.level
        _raise_rules(f"audit {self.number} ({self.item})", _audit_rules(fields))
        object.__setattr__(self, "item", self.item.strip())
        object.__setattr__(self, "column", self.column.strip())
        for name in ("points", "points_per_false", "veto_above"):
            object.__setattr__(self, name, float(getattr(self, name)))
        object.__setattr__(self, "periods", tuple(self.periods))

    @property
    def name(self) -> str:
        """``audit N (item)``, as messages name it."""
        return f"audit {self.number} ({self.item})"

    @property
    def display(self) -> str:
        """The label, or ``audit <item>``."""
        return self.label or f"audit {self.item}"

    def applies_to(self, period: object) -> bool:
        """Whether the audit is scored in ``period`` (any of its scopes is listed)."""
        return bool(scopes(period) & set(self.periods))

    def earned(self, false_found: np.ndarray) -> np.ndarray:
        """Points kept: ``points - points_per_false x false_found`` in [0, points]; a unit
        not audited (NaN) keeps its points."""
        x = np.asarray(false_found, dtype=float)
        kept = np.clip(self.points - self.points_per_false * x, 0.0, self.points)
        return np.where(np.isnan(x), self.points, kept)


def correctable(spec: ind.Indicator) -> bool:
    """Whether an audit of a count column can correct ``spec`` by scaling or reducing its
    numerator: one numerator column, and a value proportional to it (not a difference or a
    TFR)."""
    return len(spec.numerator) == 1 and spec.kind in ("rate", "proportion", "poisson_ratio",
                                                      "sex_ratio")


def _audit_columns(audits: Iterable[Audit], targets: Iterable[Target],
                   indicators: Iterable[ind.Indicator]) -> list[Rule]:
    """An audit must verify a known count column; one that corrects figures must verify the
    whole numerator of a target's computed indicator (a numerator of several columns, or a
    difference such as births - deaths, cannot be scaled by one column's false share); each
    item is audited once."""
    audits, targets = list(audits), list(targets)
    user = {i.key: i for i in indicators}
    numerators: set[str] = set()
    mixed: dict[str, str] = {}
    for t in targets:
        spec = user.get(t.indicator) or (ind.get(t.indicator) if t.indicator in ind.keys()
                                         else None)
        if spec is None or t.is_milestone:
            continue
        if correctable(spec):
            numerators |= set(spec.numerator)
        else:
            mixed.update({c: spec.key for c in spec.numerator})
    known = set(COUNTS.counts) | numerators | {c for i in user.values() for c in i.columns} \
        | {t.done for t in targets if t.done}
    out: list[Rule] = []
    seen: dict[str, int] = {}
    for a in audits:
        if a.column not in known:
            out.append(("column", f"{a.name}: unknown count column {a.column!r}"
                                  f"{_suggest(a.column, known)}"))
        elif a.adjust != "none" and a.column in mixed:
            out.append(("adjust", f"{a.name}: adjust = {a.adjust!r} cannot correct "
                                  f"{mixed[a.column]}, whose numerator is not {a.column!r} "
                                  "alone (several columns, or a difference); use adjust = "
                                  "\"none\""))
        elif a.adjust != "none" and a.column not in numerators:
            out.append(("adjust", f"{a.name}: adjust = {a.adjust!r} corrects the figures that "
                                  f"count {a.column!r}, but no target's indicator has it in "
                                  "its numerator"))
        if a.item in seen:
            out.append(("item", f"{a.name}: item {a.item!r} is audited twice (also audit "
                                f"{seen[a.item]})"))
        seen.setdefault(a.item, a.number)
    return out


def _class_names(targets: tuple[Target, ...], classes: tuple[ClassRule, ...]) -> list[Rule]:
    """Each class criterion must name exactly one target, by label or indicator key."""
    out: list[Rule] = []
    for rule in classes:
        for name in rule.targets:
            hits = [t for t in targets if name in (t.label, t.indicator)]
            if len(hits) != 1:
                labels = [t.label or t.indicator for t in targets]
                why = "no target" if not hits else \
                    f"{len(hits)} targets ({', '.join(str(t.number) for t in hits)})"
                out.append(("class", f"class {rule.name}: {name!r} names {why}"
                                     + (_suggest(name, labels) if not hits else
                                        "; name it by its label")))
    return out


@dataclass(frozen=True)
class Scheme:
    """An assessment scheme: its targets and how scores combine.

    Attributes
    ----------
    targets : tuple of Target
        Numbered 1, 2, ... in order.
    name : str
    county_weight, city_weight : float, default 0.6 and 0.4
        Year-end standing = county_weight x county quarterly mean + city_weight x the
        external (city) score; they sum to 1.
    tier_size : int, default 3
        Size of the top and bottom tiers.
    total_points, total_weight : float or None
        Declared totals, checked against the targets' points and weights.
    indicators : tuple of Indicator
        User indicators the scheme's targets may name (computed by
        :func:`fpanalysis.targets.assess` with the built-in ones).
    classes : tuple of ClassRule
        Classes of units, best first (``[[class]]`` tables), for
        :func:`fpanalysis.targets.classify`.
    default_class : str
        The class of a unit that meets no class's rule (needed with ``classes``).
    audits : tuple of Audit
        Re-checks that count in the score (``[[audit]]`` tables), numbered 1, 2, ...; scored
        by :func:`fpanalysis.targets.evaluate` with ``audits=``.

    Examples
    --------
    >>> s = Scheme((Target(1, "compliance_rate", ">=", 86, 20),), county_weight=0.7)
    Traceback (most recent call last):
    ...
    ValueError: scheme: county_weight: county_weight + city_weight must be 1, got 0.7 + 0.4 = 1.1
    """

    targets: tuple[Target, ...]
    name: str = ""
    county_weight: float = 0.6
    city_weight: float = 0.4
    tier_size: int = 3
    total_points: float | None = None
    total_weight: float | None = None
    indicators: tuple[ind.Indicator, ...] = ()
    classes: tuple[ClassRule, ...] = ()
    default_class: str = ""
    audits: tuple[Audit, ...] = ()

    def __post_init__(self) -> None:
        targets = tuple(self.targets)
        classes = tuple(self.classes)
        if not all(isinstance(c, ClassRule) for c in classes):
            raise ValueError("a scheme's classes must be ClassRule objects")
        names = [c.name for c in classes] + ([self.default_class] if self.default_class else [])
        if len(set(names)) != len(names):
            raise ValueError(f"class names must differ, got {', '.join(names)}")
        if classes and not self.default_class:
            raise ValueError("scheme: default_class: classes need a default_class for units "
                             "that meet no class's rule (e.g. default_class = \"三类\")")
        _raise_rules("scheme", _class_names(targets, classes))
        object.__setattr__(self, "classes", classes)
        if not targets:
            raise ValueError("a scheme needs at least one target")
        if not all(isinstance(t, Target) for t in targets):
            raise ValueError("a scheme's targets must be Target objects")
        numbers = [t.number for t in targets]
        if numbers != list(range(1, len(targets) + 1)):
            raise ValueError(f"targets must be numbered 1 to {len(targets)} in order, got "
                             f"{numbers}")
        fields = {k: getattr(self, k) for k in _SCHEME_KEYS
                  if getattr(self, k) is not None}
        _raise_rules("scheme", _scheme_rules(fields) + _total_rules(fields, targets))
        object.__setattr__(self, "targets", targets)
        object.__setattr__(self, "indicators", tuple(self.indicators))
        audits = tuple(self.audits)
        if not all(isinstance(a, Audit) for a in audits):
            raise ValueError("a scheme's audits must be Audit objects")
        if [a.number for a in audits] != list(range(1, len(audits) + 1)):
            raise ValueError(f"audits must be numbered 1 to {len(audits)} in order, got "
                             f"{[a.number for a in audits]}")
        _raise_rules("scheme", _audit_columns(audits, targets, self.indicators))
        object.__setattr__(self, "audits", audits)
        object.__setattr__(self, "county_weight", float(self.county_weight))
        object.__setattr__(self, "city_weight", float(self.city_weight))

    def applicable(self, period: object) -> tuple[Target, ...]:
        """The targets that apply to ``period``."""
        s = scopes(period)
        return tuple(t for t in self.targets if s & set(t.periods))

    def to_frame(self) -> pd.DataFrame:
        """The targets as a table for display: ``target`` (number), ``indicator``,
        ``label``, ``op``, ``threshold``, ``points``, ``weight``, ``scoring``, ``floor``,
        ``per_event``, ``periods`` (tuple), ``unit_thresholds`` (dict unit -> threshold),
        ``against``, ``done``, ``schedule`` (dict or 'elapsed'), ``compare`` and
        ``when_empty``.

        Examples
        --------
        >>> s = Scheme((Target(1, "compliance_rate", ">=", 86, 20, label="政策符合率"),
        ...             Target(2, "natural_growth_rate", "<=", 8.5, 15, scoring="linear",
        ...                    floor=10.5, unit_thresholds={"103": 9.0})))
        >>> s.to_frame()[["target", "indicator", "threshold", "floor", "unit_thresholds"]]
           target            indicator  threshold  floor unit_thresholds
        0       1      compliance_rate       86.0    NaN              {}
        1       2  natural_growth_rate        8.5   10.5   {'103': 9.0}
        """
        return pd.DataFrame([{
            "target": t.number, "indicator": t.indicator, "label": t.label, "op": t.op,
            "threshold": t.threshold, "points": t.points, "weight": t.weight,
            "scoring": t.scoring, "floor": t.floor, "per_event": t.per_event,
            "periods": t.periods, "unit_thresholds": dict(t.unit_thresholds),
            "against": t.against, "done": t.done,
            "schedule": t.schedule if isinstance(t.schedule, str) else dict(t.schedule or {}),
            "compare": t.compare, "when_empty": t.when_empty, "level": t.level,
        } for t in self.targets])

    def audits_frame(self) -> pd.DataFrame:
        """The ``[[audit]]`` tables for display: ``audit`` (number), ``item``, ``column``,
        ``label`` (or ``audit <item>``), ``points``, ``points_per_false``, ``veto_above``
        (share; NaN: no veto), ``adjust``, ``level``, ``periods`` (tuple); no row without
        audits.

        Examples
        --------
        >>> s = Scheme((Target(1, "compliance_rate", ">=", 86, 20),),
        ...            audits=(Audit(1, "births_compliant", "births_compliant", 10, 2),))
        >>> s.audits_frame()[["audit", "item", "label", "points", "adjust"]]
           audit              item                   label  points adjust
        0      1  births_compliant  audit births_compliant    10.0   none
        """
        return _audits_frame(self.audits)


def _audits_frame(audits: Iterable[Audit]) -> pd.DataFrame:
    columns = ["audit", "item", "column", "label", "points", "points_per_false",
               "veto_above", "adjust", "level", "periods"]
    return pd.DataFrame([{
        "audit": a.number, "item": a.item, "column": a.column, "label": a.display,
        "points": a.points, "points_per_false": a.points_per_false,
        "veto_above": a.veto_above, "adjust": a.adjust, "level": a.level,
        "periods": a.periods} for a in audits], columns=columns)


def _total_rules(fields: Mapping[str, object], targets: Iterable[Target]) -> list[Rule]:
    """Declared totals that the targets' points or weights do not sum to."""
    targets = list(targets)
    out = []
    for total, column in (("total_points", "points"), ("total_weight", "weight")):
        declared = fields.get(total)
        if _is_number(declared) and math.isfinite(declared):
            got = sum(getattr(t, column) for t in targets)
            if not math.isclose(got, declared, rel_tol=1e-9, abs_tol=1e-9):
                out.append((column, f"the targets' {column} sum to {got:g}, but {total} = "
                                    f"{declared:g}"))
    return out


# --------------------------------------------------------------------------- loading


def _read_table(path: Path, spec: TableSpec
                ) -> tuple[pd.DataFrame, np.ndarray, pd.Series, list[Problem]]:
    """Read a small table with the package's strict reader (file, row and column in every
    problem), :func:`fpanalysis.tables.walk`.

    Returns the data rows, their row numbers in the file, the parsed ``threshold`` column
    (NaN where empty or unreadable) and the problems found in its cells; raises DataError
    for a file that cannot be read as a table at all.
    """
    from .tables import walk

    table = walk(path, spec, header_row=1)
    return (table.data, np.asarray(table.col.rows), table.numbers["threshold"],
            list(table.col.problems))


def _key_text(x: object) -> str:
    return unicodedata.normalize("NFKC", str(x)).strip()


def _map_units(keys: list[str], units: pd.DataFrame | None) -> list[tuple[str | None, str]]:
    """Each key as a unit code: a code of the units table, or a name found there once.

    Returns (code or None, problem text or '') per key; without ``units`` keys are codes.
    """
    if units is None:
        return [(k, "") for k in keys]
    codes = units["unit"].astype(str).map(_key_text)
    names = units["name"].astype(str).map(_key_text)
    code_set = set(codes)
    by_name = pd.Series(codes.to_numpy()).groupby(names.to_numpy()).agg(list).to_dict()
    out: list[tuple[str | None, str]] = []
    for k in keys:  # a handful of per-unit thresholds
        if k in code_set:
            out.append((k, ""))
        elif len(by_name.get(k, [])) == 1:
            out.append((by_name[k][0], ""))
        elif k in by_name:
            out.append((None, f"unit name {k!r} is ambiguous: units {', '.join(by_name[k])} "
                              "share it; use the code"))
        else:
            near = _suggest(k, list(code_set) + list(by_name))
            out.append((None, f"{k!r} is neither a unit code nor a unit name in the units "
                              f"table{near}"))
    return out


def _unit_thresholds(raw: Mapping[str, object], csv_name: str | None, base: Path,
                     units: pd.DataFrame | None, where: str, file: str
                     ) -> tuple[dict[str, float], list[Problem]]:
    """The target's per-unit thresholds, from its table and its CSV file, by unit code."""
    problems: list[Problem] = []
    found: dict[str, tuple[float, str]] = {}  # code -> (threshold, where it was given)

    def put(key: str, value: float, src: str, pfile: str, row: int | None,
            column: str) -> None:
        code, why = _map_units([key], units)[0]
        if code is None:
            problems.append(Problem(pfile, row, column, f"{where}: {why}"))
        elif code in found:
            problems.append(Problem(pfile, row, column, f"{where}: unit {code} has a second "
                                                        f"threshold (first in {found[code][1]})"))
        else:
            found[code] = (value, src)

    for key, value in raw.items():
        put(_key_text(key), float(value), f"unit_thresholds {key!r}", file, None,
            "unit_thresholds")
    if csv_name is not None:
        path = base / csv_name
        if not path.is_file():
            problems.append(Problem(file, None, "unit_thresholds_file",
                                    f"{where}: no such file {path}"))
        else:
            try:
                data, rows, thr, read_problems = _read_table(path, THRESHOLDS)
            except DataError as exc:
                read_problems, data = exc.problems, None
            problems += [Problem(p.file, p.row, p.column, f"{where}: {p.message}")
                         for p in read_problems]
            if data is not None:
                flagged = {p.row for p in read_problems}
                column = "unit" if "unit" in data.columns else "name"
                if column not in data.columns:
                    problems.append(Problem(str(path), 1, "unit", f"{where}: the file needs a "
                                                                  "unit (or name) column"))
                    data = data.iloc[:0]
                value = thr.to_numpy(dtype=float)
                for pos in range(len(data)):  # a per-unit table: one row per township
                    row = int(rows[pos])
                    if row in flagged:
                        continue
                    if np.isnan(value[pos]):
                        problems.append(Problem(str(path), row, "threshold",
                                                f"{where}: threshold is empty"))
                    elif not np.isfinite(value[pos]):
                        problems.append(Problem(str(path), row, "threshold",
                                                f"{where}: must be a finite number, got "
                                                f"{value[pos]}"))
                    else:
                        put(_key_text(data[column].iloc[pos]), float(value[pos]),
                            f"{path.name} row {row}", str(path), row, column)
    return {k: v for k, (v, _) in found.items()}, problems


def _annual_plan(csv_name: str, key: str, base: Path, units: pd.DataFrame | None,
                 where: str, file: str) -> tuple[dict[tuple[str, int], float], list[Problem]]:
    """A milestone target's annual plan, read strictly from ``plan_file`` (:data:`PLAN`):
    one positive plan per unit and year (and per ``item``, where the file has that column:
    only the rows whose item is the target's key are used)."""
    path = base / csv_name
    if not path.is_file():
        return {}, [Problem(file, None, "plan_file", f"{where}: no such file {path}")]
    from .tables import walk

    try:
        table = walk(path, PLAN, header_row=1)
    except DataError as exc:
        return {}, [Problem(p.file, p.row, p.column, f"{where}: {p.message}")
                    for p in exc.problems]
    problems = [Problem(p.file, p.row, p.column, f"{where}: {p.message}")
                for p in table.col.problems]
    data, rows = table.data, np.asarray(table.col.rows)
    plan = table.numbers["plan"].to_numpy(dtype=float)
    column = "unit" if "unit" in data.columns else "name"
    if column not in data.columns:
        return {}, problems + [Problem(str(path), 1, "unit", f"{where}: the file needs a unit "
                                                             "(or name) column")]
    flagged = {p.row for p in table.col.problems}
    if "item" in data.columns:
        items = data["item"].map(_key_text).to_numpy()
        if key not in set(items):
            problems.append(Problem(str(path), None, "item", f"{where}: no row has item "
                                                             f"{key!r}"))
    else:
        items = np.full(len(data), key, dtype=object)
    found: dict[tuple[str, int], tuple[float, int]] = {}
    mapped = _map_units([_key_text(k) for k in data[column]], units)
    for pos in np.flatnonzero(items == key):  # one row per unit: a few dozen rows
        row = int(rows[pos])
        if row in flagged:
            continue
        code, why = mapped[pos]
        year = _key_text(data["period"].iloc[pos])
        if code is None:
            problems.append(Problem(str(path), row, column, f"{where}: {why}"))
        if not (len(year) == 4 and year.isdigit()):
            problems.append(Problem(str(path), row, "period", f"{where}: the plan's period "
                                                              f"must be a year, got {year!r}"))
        if np.isnan(plan[pos]):
            problems.append(Problem(str(path), row, "plan", f"{where}: plan is empty"))
        elif not np.isfinite(plan[pos]) or plan[pos] <= 0:
            problems.append(Problem(str(path), row, "plan", f"{where}: the annual plan must "
                                                            f"be a positive number, got "
                                                            f"{plan[pos]:g}"))
        elif code is not None and len(year) == 4 and year.isdigit():
            if (code, int(year)) in found:
                problems.append(Problem(str(path), row, column, f"{where}: unit {code} has a "
                                        f"second plan for {year} (first in row "
                                        f"{found[(code, int(year))][1]})"))
            else:
                found[(code, int(year))] = (float(plan[pos]), row)
    return {k: v for k, (v, _) in found.items()}, problems


def _known_indicators(indicators: Iterable[str | ind.Indicator] | None
                      ) -> tuple[set[str] | None, tuple[ind.Indicator, ...]]:
    if indicators is None:
        return None, ()
    given = list(indicators)
    user = tuple(i for i in given if isinstance(i, ind.Indicator))
    keys = {i.key if isinstance(i, ind.Indicator) else str(i) for i in given}
    return keys | set(ind.keys()), user


def load_targets(path: str | Path, *, indicators: Iterable[str | ind.Indicator] | None = None,
                 units: pd.DataFrame | None = None) -> Scheme:
    """Load an assessment scheme from a TOML file.

    The file has one ``[[target]]`` table per target and an optional ``[scheme]`` table;
    nothing else. A target has ``indicator``, ``op`` (``<=`` or ``>=``), ``threshold`` (in
    the indicator's display unit: per mille, per cent, males per 100 females; compared
    unrounded), ``points`` and optionally ``weight`` (default 1), ``scoring``
    (``all_or_nothing``, the default; ``linear`` with a ``floor``; ``per_event`` with the
    ``per_event`` deduction; see :data:`SCORING`), ``periods`` (scopes from
    :data:`SCOPES`; default quarter and year), ``label``, and per-unit thresholds in a
    ``[target.unit_thresholds]`` table (unit code or name = threshold) and/or a CSV named
    by ``unit_thresholds_file`` (relative to the TOML file; columns ``unit`` or ``name``,
    and ``threshold``). ``[scheme]`` may hold ``name``, ``total_points`` and
    ``total_weight`` (checked against the targets), ``county_weight`` and ``city_weight``
    (default 0.6 and 0.4; they must sum to 1) and ``tier_size`` (default 3).

    The scheme's own rules take these keys (see :class:`Target`)::

        scoring = "veto"                # no points; failing it puts the unit last
        when_empty = "met"              # or "not_met", "no_data" (default): denominator 0
        compare = "previous_year"       # or a period label, e.g. "2023": met on the change
        against = "annual_plan"         # a milestone, with:
        done = "checkups_done"          #   the count column cumulated from January
        plan_file = "annual_plan.csv"   #   unit (or name), period (year), plan [, item]
        schedule = { "06" = 50, "09" = 80, "12" = 100 }   # or years, or "elapsed"

    Re-checks count in the score through ``[[audit]]`` tables (see :class:`Audit`)::

        [[audit]]
        item = "births_compliant"       # the item of the audits table
        column = "births_compliant"     # the count column it verifies
        points = 10                     # the audit item's points ...
        points_per_false = 2            # ... less 2 per false case found, never below 0
        veto_above = 0.10               # optional: veto when the false share's lower
                                        #   limit (exact interval) exceeds 10 %
        adjust = "scale_by_false_share" # or "subtract_found", "none" (default): correct
                                        #   the figures counting the column before scoring
        periods = ["quarter", "year"]   # optional, as for targets; level and label too

    A veto's points may be left out (0; any other value is refused). A milestone has no
    ``threshold`` (the schedule gives the share due), ``op = ">="``, no per-unit
    thresholds, no ``compare`` or ``when_empty``, all_or_nothing or veto scoring, and no
    ``dekad`` scope; its ``indicator`` is a free key. The plan file is read as strictly as
    the data: every row's unit (a code or a unique name of ``units`` when given), a
    four-digit year, a positive plan, one plan per unit and year; with an ``item`` column
    only the rows whose item is the target's key are used.

    Parameters
    ----------
    path : str or Path
        The TOML file, or a data directory holding ``targets.toml``.
    indicators : iterable of str or Indicator, optional
        Indicators the targets may name besides the built-in ones: user
        :class:`~fpanalysis.indicators.Indicator` objects (kept in
        :attr:`Scheme.indicators`) and the keys of supplied values. Without it indicator
        keys are not checked here; :func:`fpanalysis.targets.evaluate` then refuses a
        target whose indicator is in neither the results nor the supplied values.
    units : pandas.DataFrame, optional
        The units table: per-unit thresholds must then name its units, by code or by a name
        that only one unit has (names are mapped to codes).

    Returns
    -------
    Scheme

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    DataError
        Every problem, each naming the target (number and indicator) and the key: not valid
        TOML; an unknown table or key (with the nearest valid name); ``[target]`` written as a
        single table; a missing key; a value of the wrong kind (a bool is not a number); a
        non-finite threshold; negative points, weight or deduction; an unknown or empty
        period scope; an unknown indicator; a floor on the wrong side of a threshold; a
        per-unit threshold for an unknown or ambiguous unit or given twice; declared totals
        that do not match; county_weight + city_weight other than 1; a veto with points; a
        when_empty or compare value that is not known; a milestone without done,
        plan_file or schedule, or with a key that does not apply to it; a schedule key that
        is not a month "01".."12" or a year, a share due outside 0..100 or not increasing;
        an annual plan row with an unknown unit, a period that is not a year, a plan that
        is not positive, or a second plan for a unit and year; an ``[[audit]]`` with a
        missing or unknown key, a negative deduction, a veto_above outside [0, 1), an
        unknown adjust, level, period scope or count column, an item audited twice, or an
        adjust that corrects no target's figures.

    Examples
    --------
    >>> import tempfile
    >>> f = Path(tempfile.mkdtemp()) / "t.toml"
    >>> _ = f.write_text('[schema]\\ncity_weight = 0.5\\n[[target]]\\nindicator = "x"\\n'
    ...                  'op = ">="\\ntreshold = 1\\npoints = -1\\n', encoding="utf-8")
    >>> try:
    ...     load_targets(f)
    ... except DataError as e:
    ...     print("\\n".join(p.message for p in e.problems))
    unknown table [schema] (did you mean [scheme]?)
    target 1 (x): required key is missing
    target 1 (x): unknown key 'treshold' (did you mean 'threshold'?)
    target 1 (x): must not be negative, got -1
    """
    p = Path(path)
    file = p / "targets.toml" if p.is_dir() else p
    if not file.is_file():
        raise FileNotFoundError(f"no targets file {file}")
    name = str(file)
    try:
        doc = tomllib.loads(file.read_text(encoding="utf-8-sig"))  # Notepad writes a BOM
    except UnicodeDecodeError as exc:
        raise DataError([Problem(name, None, None, "not UTF-8 text: save the targets file as "
                                 f"UTF-8 ({exc.reason} at byte {exc.start})")]) from exc
    except tomllib.TOMLDecodeError as exc:
        raise DataError([Problem(name, None, None, f"not valid TOML: {exc}")]) from exc
    problems: list[Problem] = []
    for key, value in doc.items():
        if key in _TABLES:
            continue
        what = "table" if isinstance(value, dict | list) else "key"
        near = difflib.get_close_matches(key, _TABLES, n=1, cutoff=0.6)
        spelled = {"scheme": "[scheme]", "target": "[[target]]", "class": "[[class]]",
                   "audit": "[[audit]]"}
        hint = f" (did you mean {spelled[near[0]]}?)" if near and what == "table" else \
            (f" (did you mean {near[0]!r}?)" if near else "")
        if what == "key" and key in _SCHEME_KEYS:
            hint = " (it belongs in the [scheme] table)"
        shown = f"[{key}]" if what == "table" else repr(key)
        problems.append(Problem(name, None, key, f"unknown {what} {shown}{hint}"))

    raw_scheme = doc.get("scheme", {})
    if not isinstance(raw_scheme, dict):
        problems.append(Problem(name, None, "scheme", "scheme must be a table: [scheme]"))
        raw_scheme = {}
    scheme_fields = dict(raw_scheme)
    for key, msg in _scheme_rules(scheme_fields):
        problems.append(Problem(name, None, key, f"scheme: {msg}"))

    raw_targets = doc.get("target", [])
    if isinstance(raw_targets, dict) or not isinstance(raw_targets, list):
        problems.append(Problem(name, None, "target", "write each target as [[target]] (an "
                                                      "array of tables), not [target]"))
        raw_targets = []
    elif not raw_targets:
        problems.append(Problem(name, None, "target", "no [[target]] tables in the file"))
    elif not all(isinstance(t, dict) for t in raw_targets):
        problems.append(Problem(name, None, "target", "write each target as a [[target]] "
                                                      "table"))
        raw_targets = []
    known, user = _known_indicators(indicators)
    targets: list[Target] = []
    for i, t in enumerate(raw_targets, start=1):
        where = f"target {i} ({t.get('indicator', '?')})"
        rules = _target_rules(t)
        indicator = t.get("indicator")
        if known is not None and isinstance(indicator, str) and indicator.strip() \
                and indicator not in known and "against" not in t:
            rules.append(("indicator", f"unknown indicator {indicator!r}"
                                       f"{_suggest(indicator, known)}"))
        problems += [Problem(name, None, key, f"{where}: {msg}") for key, msg in rules]
        raw_units = t.get("unit_thresholds", {})
        usable = isinstance(raw_units, Mapping) and not any(k == "unit_thresholds"
                                                            for k, _ in rules)
        csv_name = t.get("unit_thresholds_file")
        per_unit, unit_problems = _unit_thresholds(
            raw_units if usable else {}, csv_name if isinstance(csv_name, str) else None,
            file.parent, units, where, name)
        problems += unit_problems
        plan: dict[tuple[str, int], float] = {}
        plan_name = t.get("plan_file")
        if "against" in t and isinstance(plan_name, str) and plan_name.strip() \
                and isinstance(indicator, str):
            plan, plan_problems = _annual_plan(plan_name, indicator, file.parent, units,
                                               where, name)
            problems += plan_problems
            unit_problems = unit_problems + plan_problems
        if rules or unit_problems:
            continue
        fields = {k: v for k, v in t.items() if k != "unit_thresholds_file"}
        fields["unit_thresholds"] = per_unit
        # thresholds read from the CSV meet the same rules (a linear floor's side)
        late = _target_rules(fields)
        problems += [Problem(name, None, key, f"{where}: {msg}") for key, msg in late]
        if not late:
            if "against" in fields:
                fields.setdefault("threshold", float("nan"))
            if fields.get("scoring") == "veto":
                fields.setdefault("points", 0.0)
            targets.append(Target(number=i, plan=plan,
                                  **{k: tuple(v) if k == "periods" else v
                                     for k, v in fields.items()}))
    classes: list[ClassRule] = []
    raw_classes = doc.get("class", [])
    if not isinstance(raw_classes, list) or not all(isinstance(c, dict) for c in raw_classes):
        problems.append(Problem(name, None, "class", "write each class as a [[class]] table"))
        raw_classes = []
    for i, c in enumerate(raw_classes, start=1):
        where = f"class {i} ({c.get('name', '?')})"
        for key in c:
            if key not in _CLASS_KEYS:
                problems.append(Problem(name, None, key, f"{where}: unknown key {key!r}"
                                                         f"{_suggest(key, _CLASS_KEYS)}"))
        try:
            classes.append(ClassRule(c.get("name", ""), c.get("targets", ()), c.get("min")))
        except ValueError as error:
            problems.append(Problem(name, None, "class", f"{where}: {error}"))
    if classes and not problems:
        problems += [Problem(name, None, key, msg)
                     for key, msg in _class_names(tuple(targets), tuple(classes))]
    if classes and scheme_fields.get("default_class") in {c.name for c in classes}:
        problems.append(Problem(name, None, "default_class", f"scheme: default_class "
                                f"{scheme_fields['default_class']!r} is also the name of a "
                                "[[class]]: the default is for units that meet no class"))
    if classes and not scheme_fields.get("default_class"):
        problems.append(Problem(name, None, "default_class", "scheme: [[class]] tables need "
                                "default_class in [scheme] for units that meet no class"))
    if not classes and scheme_fields.get("default_class"):
        problems.append(Problem(name, None, "default_class", "scheme: default_class without "
                                "any [[class]] table"))
    audits: list[Audit] = []
    raw_audits = doc.get("audit", [])
    if not isinstance(raw_audits, list) or not all(isinstance(a, dict) for a in raw_audits):
        problems.append(Problem(name, None, "audit", "write each audit as an [[audit]] table "
                                                     "(an array of tables), not [audit]"))
        raw_audits = []
    for i, a in enumerate(raw_audits, start=1):
        item = a.get("item", "?")
        where = f"audit {i} ({item.strip() if isinstance(item, str) else item})"
        rules = _audit_rules(a)
        problems += [Problem(name, None, key, f"{where}: {msg}") for key, msg in rules]
        if not rules:
            audits.append(Audit(number=i, **{k: tuple(v) if k == "periods" else v
                                             for k, v in a.items()}))
    if audits and len(audits) == len(raw_audits):
        problems += [Problem(name, None, key, msg) for key, msg in
                     _audit_columns(audits, targets, user)]
    if not problems:
        problems += [Problem(name, None, key, f"scheme: {msg}")
                     for key, msg in _total_rules(scheme_fields, targets)]
    if problems:
        raise DataError(problems)
    return Scheme(tuple(targets), indicators=user, classes=tuple(classes),
                  audits=tuple(audits), **scheme_fields)
