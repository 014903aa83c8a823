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
from .schema import DataError, Problem, TableSpec

__all__ = [
    "SCOPES",
    "SCORING",
    "Scheme",
    "Scoring",
    "THRESHOLDS",
    "Target",
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

_DEFAULT_PERIODS = ("quarter", "year")
_TABLES = ("scheme", "target")
_TEXT, _NUMBER, _INT, _LIST, _TABLE = "text", "number", "integer", "list", "table"
_TARGET_KEYS = {"indicator": _TEXT, "op": _TEXT, "threshold": _NUMBER, "points": _NUMBER,
                "weight": _NUMBER, "scoring": _TEXT, "periods": _LIST, "label": _TEXT,
                "floor": _NUMBER, "per_event": _NUMBER, "unit_thresholds": _TABLE,
                "unit_thresholds_file": _TEXT}
_SCHEME_KEYS = {"name": _TEXT, "total_points": _NUMBER, "total_weight": _NUMBER,
                "county_weight": _NUMBER, "city_weight": _NUMBER, "tier_size": _INT}
_REQUIRED = ("indicator", "op", "threshold", "points")

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
    # points off per counted event, never below zero
    return np.maximum(t.points - t.per_event * value, 0.0)


def _no_check(fields: Mapping[str, object]) -> list[Rule]:
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
    if _is_number(d) and math.isfinite(d) and d < 0:
        return [("per_event", f"the deduction per event must not be negative, got {d:g}")]
    return []


#: The scoring kinds, by name: the one place that says how each earns points.
SCORING: Mapping[str, Scoring] = MappingProxyType({s.name: s for s in (
    Scoring("all_or_nothing", (), _earn_all_or_nothing, _no_check,
            "full points when the target is met, none otherwise"),
    Scoring("linear", ("floor",), _earn_linear, _check_linear,
            "0 points at the floor rising linearly to full points at the threshold"),
    Scoring("per_event", ("per_event",), _earn_per_event, _check_per_event,
            "full points less per_event for each counted event, never below 0"),
)})


# --------------------------------------------------------------------------- rules


def _suggest(word: object, choices: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the nearest choice, or ''."""
    near = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f" (did you mean {near[0]!r}?)" if near else ""


def _kind_ok(value: object, kind: str) -> bool:
    if kind == _TEXT:
        return isinstance(value, str)
    if kind == _NUMBER:
        return _is_number(value)
    if kind == _INT:
        return isinstance(value, int | np.integer) and not isinstance(value, bool)
    if kind == _LIST:
        return isinstance(value, list | tuple)
    return isinstance(value, Mapping)


def _type_rules(fields: Mapping[str, object], kinds: Mapping[str, str]) -> list[Rule]:
    out = []
    for key, value in fields.items():
        if key not in kinds:
            out.append((key, f"unknown key {key!r}{_suggest(key, kinds)}"))
        elif not _kind_ok(value, kinds[key]):
            article = "an" if kinds[key] == _INT else "a"
            out.append((key, f"must be {article} {kinds[key]}, got {value!r}"))
    return out


def _target_rules(fields: Mapping[str, object]) -> list[Rule]:
    """Every rule a target breaks, as (key, message); ``fields`` holds the keys given."""
    out = [(k, "required key is missing") for k in _REQUIRED if k not in fields]
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
        given = list(fields["periods"])
        if not given:
            out.append(("periods", f"periods is empty: name at least one of "
                                   f"{', '.join(SCOPES)}"))
        for s in given:
            if s not in SCOPES:
                out.append(("periods", f"unknown period scope {s!r}{_suggest(s, SCOPES)} "
                                       f"(expected {', '.join(SCOPES)})"))
        twice = sorted({str(s) for s in given if given.count(s) > 1})
        if twice:
            out.append(("periods", f"scope listed twice: {', '.join(twice)}"))
    if ok("unit_thresholds"):
        for unit, value in fields["unit_thresholds"].items():
            if not _is_number(value) or not math.isfinite(value):
                out.append(("unit_thresholds", f"threshold for unit {unit} must be a finite "
                                               f"number, got {value!r}"))
                bad_type.add("unit_thresholds")
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
        _raise_rules(f"target {self.number} ({self.indicator})", _target_rules(fields))
        for name in ("threshold", "points", "weight", "floor", "per_event"):
            object.__setattr__(self, name, float(getattr(self, name)))
        object.__setattr__(self, "periods", tuple(self.periods))
        object.__setattr__(self, "unit_thresholds", MappingProxyType(
            {str(k): float(v) for k, v in self.unit_thresholds.items()}))

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

    def __post_init__(self) -> None:
        targets = tuple(self.targets)
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
        object.__setattr__(self, "county_weight", float(self.county_weight))
        object.__setattr__(self, "city_weight", float(self.city_weight))

    def applicable(self, period: object) -> tuple[Target, ...]:
        """The targets that apply to ``period``."""
        s = scopes(period)
        return tuple(t for t in self.targets if s & set(t.periods))

    def to_frame(self) -> pd.DataFrame:
        """The targets as a table for display: ``target`` (number), ``indicator``,
        ``label``, ``op``, ``threshold``, ``points``, ``weight``, ``scoring``, ``floor``,
        ``per_event``, ``periods`` (tuple) and ``unit_thresholds`` (dict unit -> threshold).

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
        } for t in self.targets])


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
        that do not match; county_weight + city_weight other than 1.

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
        doc = tomllib.loads(file.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DataError([Problem(name, None, None, f"not valid TOML: {exc}")]) from exc
    problems: list[Problem] = []
    for key, value in doc.items():
        if key in _TABLES:
            continue
        what = "table" if isinstance(value, dict | list) else "key"
        near = difflib.get_close_matches(key, _TABLES, n=1, cutoff=0.6)
        spelled = {"scheme": "[scheme]", "target": "[[target]]"}
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
                and indicator not in known:
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
        if rules or unit_problems:
            continue
        fields = {k: v for k, v in t.items() if k != "unit_thresholds_file"}
        fields["unit_thresholds"] = per_unit
        # thresholds read from the CSV meet the same rules (a linear floor's side)
        late = _target_rules(fields)
        problems += [Problem(name, None, key, f"{where}: {msg}") for key, msg in late]
        if not late:
            targets.append(Target(number=i, **{k: tuple(v) if k == "periods" else v
                                               for k, v in fields.items()}))
    if not problems:
        problems += [Problem(name, None, key, f"scheme: {msg}")
                     for key, msg in _total_rules(scheme_fields, targets)]
    if problems:
        raise DataError(problems)
    return Scheme(tuple(targets), indicators=user, **scheme_fields)
