"""Disclosure control that survives subtraction: primary and secondary suppression of the
sensitive counts, planned once per report, and a linear-programming audit of what the
published tables give away.

The rule
--------
* **Primary suppression.** A sensitive count (:data:`SENSITIVE`: infant deaths; births
  outside policy = births - compliant births) of a unit and period from 0 to the threshold
  ``k`` (default 4) is shown as ``"<k+1>"`` (``"<5"``): zeros fall inside the band, so a
  mark never tells that an event happened. Everything built on such a count is withheld
  (``"[c]"``): its rate and limits, compliant births beside births, the target mark.
* **Secondary suppression.** A report publishes its cells ``(count, unit, period)`` for the
  units of the counts and every unit above them, and for each period it shows (the quarter;
  where a report shows them its months and the year to date). A parent is the sum of its
  children, a longer period the sum of the published periods inside it. :func:`make_plan`
  suppresses *complementary* cells (shown ``"[c]"``), the smallest counts first, until no
  primary cell can be narrowed by differencing (checked with the audit below).
* **What an adversary knows.** A shown cell exactly; a ``"<5"`` cell lies in 0..k; a
  complement (``"[c]"``) is not a primary, so it is at least k+1 (the safe assumption: the
  marks differ); every count is a non-negative whole number and every published total is
  the sum of its parts, down to the months of the units of the counts.
* **Protection.** A primary cell is protected when the adversary's interval ``[lo, hi]`` (the
  linear-programming bounds, rounded inwards to whole numbers) is at least
  ``min(2 * protection, k, births)`` wide (default protection 2: with k = 4 the interval must
  be the whole band 0..4, so the tables tell nothing beyond the mark; births outside policy
  cannot exceed the births published beside them, so a township with 2 births needs 0..2).
  Complements need no protection (they are above the threshold) but must not be pinned.
* **Audit.** :func:`audit` takes every table of a report (each records, in
  ``DataFrame.attrs["disclosure"]``, the knowledge it gives about each sensitive cell it
  touches, :func:`attach`) and the plan, and bounds every suppressed cell: in closed form
  where the cells are nested (one period: a unit tree), else with
  ``scipy.optimize.linprog`` (HiGHS; a year with its quarters). :func:`check` raises
  :class:`DisclosureError` naming the unprotected cells. A table assembled by hand
  (``pd.concat`` of tables with different records drops them) shows what the audit cannot
  see: publish the report's own tables.

A group in which every part is a primary and whose total exceeds the threshold cannot be
protected with band marks (two children of 1 and 4 under a parent of 5: the parent, shown
or ``"[c]"``, is at least 5, so each child is at least 1). There :func:`make_plan` *masks*
the small cells of the group: they show ``"[c]"`` like complements, and the audit gives the
reader only ``>= 0`` for them (a reader cannot tell a masked cell from a complement; that
the pattern itself could hint at it is the second-order inference that cell suppression
leaves aside). Cells that even masking cannot protect (births outside policy pinned by the
births published beside them) are listed in ``Plan.unprotected`` and :func:`check` refuses
to publish.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from . import periods as pr

__all__ = [
    "SENSITIVE",
    "SUPPRESSED",
    "PUBLIC_KINDS",
    "WITHHELD",
    "Disclosure",
    "DisclosureError",
    "Plan",
    "attach",
    "audit",
    "check",
    "check_public_periods",
    "disclosure",
    "knowledge",
    "make_plan",
    "published_inside",
    "recorded",
    "sensitive_counts",
]

#: Sensitive counts (infant deaths; births outside policy, ``births - births_compliant``) and
#: the indicators built on each: in a public report a unit-period with 0 to the threshold
#: (default 4) of these events shows the suppression mark instead of the count, and the
#: rates built on it are withheld.
SENSITIVE: Mapping[str, tuple[str, ...]] = {
    "deaths_infant": ("infant_mortality_rate",),
    "births_outside": ("compliance_rate",),
}

#: What a public table shows in place of a suppressed small count (threshold 4: 0 to 4).
SUPPRESSED = "<5"

#: What a public table shows in place of a complementary cell, and of a rate, limit or other
#: figure built on a suppressed count: "[c]", the Government Statistical Service symbol for
#: "confidential" (a rate cell reading "<5" would look like a value below 5).
WITHHELD = "[c]"

_MODES = ("public", "internal")

#: Statuses of a cell in a plan.
SHOWN, PRIMARY, COMPLEMENT, MISSING = "shown", "primary", "complement", "missing"
#: A primary shown as a complement ("[c]", not "<5") where no complement could protect it.
MASKED = "masked"
_SUPPRESSED = (PRIMARY, MASKED, COMPLEMENT)

#: Columns of the records a table keeps in ``attrs["disclosure"]``.
RECORD_COLUMNS = ["count", "unit", "period", "lower", "upper"]


class DisclosureError(ValueError):
    """Published tables would let a reader narrow a suppressed cell: nothing is written."""


@dataclass(frozen=True, eq=False)
class Plan:
    """Which sensitive cells a report shows, suppresses or withholds: made by
    :func:`make_plan`, consulted by every table of the report.

    Attributes
    ----------
    cells : pandas.DataFrame
        One row per cell: ``count`` (a key of :data:`SENSITIVE`), ``unit``, ``period``
        (label, ``str(periods.parse(p))``), ``value`` (the true count, NaN where the unit did
        not report all of the period), ``cap`` (births, for births outside policy: a bound
        every reader knows), ``status`` (``shown``, ``primary`` 0..k shown ``"<5"``,
        ``masked`` 0..k shown ``"[c]"``, ``complement`` suppressed to protect a small cell,
        ``missing``). Never publish this frame.
    parent : dict
        Parent of each unit of the cells (None at the top).
    threshold, protection : int, float
        The band 0..threshold and the protection (see the module notes).
    unprotected : pandas.DataFrame
        Small cells nothing could protect (``count, unit, period, lower, upper,
        required``).
    """

    cells: pd.DataFrame
    parent: Mapping[object, object]
    threshold: int = 4
    protection: float = 2.0
    unprotected: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=RECORD_COLUMNS))
    published: tuple[str, ...] = ()

    @property
    def periods(self) -> tuple[str, ...]:
        """The period labels the plan covers."""
        return tuple(pd.unique(self.cells["period"]))

    @property
    def loss(self) -> float:
        """Share of the non-sensitive cells (counts above the threshold) suppressed as
        complements (NaN when there is none)."""
        big = self.cells["value"].to_numpy(dtype=float) > self.threshold
        if not big.any():
            return float("nan")
        return float((self.cells["status"].to_numpy()[big] == COMPLEMENT).mean())

    def lookup(self, count: object, unit: Sequence[object], period: Sequence[object]
               ) -> tuple[np.ndarray, np.ndarray]:
        """Status and value of cells of one ``count`` (or a sequence of counts, one per
        cell); ``absent`` where the plan has no such cell."""
        n = len(unit)
        counts = np.full(n, count, dtype=object) if isinstance(count, str) \
            else np.asarray(count, dtype=object)
        keys = pd.MultiIndex.from_arrays([counts, pd.Series(unit, dtype=object).to_numpy(),
                                          _labels(period)])
        if not len(self.cells) or n == 0:
            return np.full(n, "absent", dtype=object), np.full(n, np.nan)
        mine = pd.MultiIndex.from_frame(self.cells[["count", "unit", "period"]])
        at = mine.get_indexer(keys)
        found = at >= 0
        at = np.where(found, at, 0)
        status = np.where(found, self.cells["status"].to_numpy(dtype=object)[at], "absent")
        value = np.where(found, self.cells["value"].to_numpy(dtype=float)[at], np.nan)
        return status.astype(object), value.astype(float)

    def knowledge(self) -> pd.DataFrame:
        """What the plan publishes, as records (:data:`RECORD_COLUMNS`): shown cells
        exactly, primaries 0..k, complements k+1 and up; missing cells none."""
        c = self.cells[self.cells["status"] != MISSING]
        return knowledge(c["count"], c["unit"], c["period"], c["status"], c["value"],
                         self.threshold, c["cap"])


@dataclass(frozen=True)
class Disclosure:
    """How much a report may show: made by :func:`disclosure`.

    Attributes
    ----------
    mode : {'public', 'internal'}
        ``'public'`` suppresses small sensitive counts; ``'internal'`` shows everything.
    threshold : int
        Largest count suppressed (counts 0 … threshold are).
    mark : str
        What a suppressed count shows (``"<5"`` for threshold 4).
    withheld : str
        What a complement, and a rate, limit or figure built on a suppressed count shows
        (``"[c]"``).
    sensitive : tuple of str
        Sensitive counts, keys of :data:`SENSITIVE`.
    plan : Plan or None
        The report's suppression plan (:func:`make_plan`); without one each table plans
        for itself from the data it is given.
    protection : float
        Protection of the audit (module notes).
    """

    mode: str = "public"
    threshold: int = 4
    mark: str = SUPPRESSED
    withheld: str = WITHHELD
    sensitive: tuple[str, ...] = tuple(SENSITIVE)
    plan: Plan | None = field(default=None, compare=False, repr=False)
    protection: float = 2.0

    def __post_init__(self) -> None:
        _check_rule_plan(self)

    @property
    def public(self) -> bool:
        """True when small sensitive counts are suppressed."""
        return self.mode == "public"

    def indicators(self) -> list[str]:
        """Indicators built on a sensitive count (suppressed where it is small)."""
        return [k for c in self.sensitive for k in SENSITIVE[c]] if self.public else []


def _check_frame(data: object, name: str, needed: Sequence[str], wanted: str) -> None:
    """Refuse ``data`` that is not a DataFrame with the ``needed`` columns."""
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"a disclosure plan needs the {name} as a DataFrame, got "
                        f"{type(data).__name__}")
    gone = [c for c in needed if c not in data.columns]
    if gone:
        raise ValueError(f"a disclosure plan needs {name} with {wanted}; missing "
                         f"{', '.join(gone)}")


def _check_plan_arguments(counts: object = None, units: object = None, *,
                          threshold: object = 4, protection: object = 2.0,
                          sensitive: object = None) -> tuple[str, ...]:
    """Check the arguments of a rule or plan (one sentence per rule, shared by
    :func:`disclosure` and :func:`make_plan`) and return the sensitive counts chosen (a
    single name is one count; None all of them).

    Examples
    --------
    >>> _check_plan_arguments(sensitive="deaths_infant")
    ('deaths_infant',)
    >>> _check_plan_arguments(sensitive=["births_outsid"])
    Traceback (most recent call last):
    ...
    ValueError: unknown sensitive count(s) 'births_outsid' (did you mean 'births_outside'?); \
known: deaths_infant, births_outside
    """
    from .schema import suggestion

    if isinstance(threshold, bool) or not isinstance(threshold, (int, np.integer)) \
            or threshold < 1:
        raise ValueError(f"the disclosure threshold must be a whole number of at least 1, "
                         f"got {threshold!r}")
    if isinstance(protection, bool) or not isinstance(protection, (int, float, np.number)) \
            or not np.isfinite(protection) or protection <= 0:
        raise ValueError(f"the protection must be a positive number, got {protection!r}")
    if isinstance(sensitive, str):
        sensitive = [sensitive]
    if sensitive is not None and not isinstance(sensitive, (Sequence, set, frozenset,
                                                            np.ndarray, pd.Index)):
        raise ValueError(f"the sensitive counts must be a list of names (keys of SENSITIVE), "
                         f"got {sensitive!r}")
    chosen = tuple(SENSITIVE) if sensitive is None else tuple(sensitive)
    unknown = [c for c in chosen if c not in SENSITIVE]
    if unknown:
        raise ValueError(f"unknown sensitive count(s) {', '.join(map(repr, unknown))}"
                         f"{suggestion(unknown[0], SENSITIVE)}; known: {', '.join(SENSITIVE)}")
    if not chosen:
        raise ValueError("the sensitive counts must name at least one count; known: "
                         f"{', '.join(SENSITIVE)}")
    if counts is not None:
        _check_frame(counts, "counts", ("unit", "period"), "the column(s) unit, period")
        _check_numeric_counts(counts, ("deaths_infant", "births", "births_compliant"),
                              "a disclosure plan")
    if units is not None:
        _check_frame(units, "units", ("unit", "parent"),
                     "the columns unit and parent (the hierarchy)")
        from .hierarchy import _cycles

        twice = units["unit"][units["unit"].duplicated()]
        if len(twice):
            raise ValueError(f"a disclosure plan needs each unit once in the units; "
                             f"{', '.join(map(repr, pd.unique(twice)[:5]))} appear(s) more "
                             "than once")
        # codes as the plan reads them (a parent "C " is not the unit "C": a top unit)
        codes = units["unit"].astype(object).map(str).reset_index(drop=True)
        up = units["parent"].astype(object).where(units["parent"].notna(), "").map(str) \
            .reset_index(drop=True)
        cycles = _cycles(codes, up, (~up.isin(set(codes)) & (up != "")).to_numpy())
        if cycles:  # sums up a cycle never end: no plan could be made
            chain = cycles[min(cycles)]
            raise ValueError(f"a disclosure plan needs a tree of units; the parents go round "
                             f"in a cycle: {chain}")
        if counts is not None:  # a unit outside the hierarchy would be planned alone
            known = set(units["unit"])
            stray = [u for u in pd.unique(counts["unit"]) if u not in known]
            if stray:
                raise ValueError(f"a disclosure plan needs every unit of the counts in the "
                                 f"units; unknown {', '.join(map(repr, stray[:5]))}"
                                 f"{' …' if len(stray) > 5 else ''}"
                                 f"{suggestion(stray[0], known)}")
    return chosen


def _check_numeric_counts(counts: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    """Refuse count columns that hold text (``"2"``, ``"2.0"``): a count is a number, and
    text would be parsed, summed or compared wrongly downstream.

    Examples
    --------
    >>> _check_numeric_counts(pd.DataFrame({"births": ["3"]}), ["births"], "counts_table")
    Traceback (most recent call last):
    ...
    ValueError: counts_table needs numbers in the count column(s) births; births holds text \
(row 1: '3'): load the counts with fpanalysis.load_counts
    """
    wrong = [c for c in columns if c in counts.columns
             and not pd.api.types.is_numeric_dtype(counts[c].dtype)
             and not counts[c].map(lambda v: isinstance(v, (int, float, np.number))
                                   and not isinstance(v, bool) or pd.isna(v)).all()]
    if wrong:
        c = wrong[0]
        text = counts[c].map(lambda v: not isinstance(v, (int, float, np.number))
                             or isinstance(v, bool)).to_numpy(dtype=bool)
        j = int(np.flatnonzero(text & counts[c].notna().to_numpy(dtype=bool))[0])
        raise ValueError(f"{what} needs numbers in the count column(s) {', '.join(wrong)}; "
                         f"{c} holds text (row {j + 1}: {counts[c].iloc[j]!r}): load the "
                         "counts with fpanalysis.load_counts")


def _check_rule_plan(rule: Disclosure) -> None:
    """Refuse a rule whose plan was made with another threshold, protection or sensitive
    counts: the tables would mark by one rule and the audit check by the other."""
    plan = rule.plan
    if plan is None:
        return
    if not isinstance(plan, Plan):
        raise TypeError(f"a disclosure rule's plan must be a Plan (make_plan), got "
                        f"{type(plan).__name__}")
    wrong = []
    if plan.threshold != rule.threshold:
        wrong.append(f"threshold {plan.threshold!r} (the rule's is {rule.threshold!r})")
    if float(plan.protection) != float(rule.protection):
        wrong.append(f"protection {plan.protection!r} (the rule's is {rule.protection!r})")
    extra = [c for c in pd.unique(plan.cells["count"]) if c not in rule.sensitive] \
        if "count" in plan.cells.columns else []
    if extra:
        wrong.append(f"sensitive count(s) {', '.join(map(str, extra))} the rule does not "
                     f"suppress (the rule's: {', '.join(rule.sensitive)})")
    if wrong:
        raise ValueError("the disclosure plan was made with another rule: "
                         + "; ".join(wrong) + ". Make the rule and its plan together: "
                         "disclosure('public', counts=..., units=..., periods=[...], "
                         "threshold=..., protection=..., sensitive=[...])")


def disclosure(mode: str | Disclosure = "public", *, threshold: int = 4,
               mark: str | None = None, withheld: str = WITHHELD,
               sensitive: Sequence[str] | None = None, counts: pd.DataFrame | None = None,
               units: pd.DataFrame | None = None, periods: Sequence[object] | None = None,
               protection: float = 2.0) -> Disclosure:
    """The disclosure rule of a report, with its suppression plan.

    Parameters
    ----------
    mode : {'public', 'internal'} or Disclosure, default 'public'
        A :class:`Disclosure` is returned as it is.
    threshold : int, default 4
        Counts from 0 to ``threshold`` of a sensitive event are suppressed.
    mark : str, optional
        What a suppressed count shows; default ``"<threshold+1>"`` (``"<5"``).
    withheld : str, default "[c]"
        What a complement, or a rate or figure built on a suppressed count, shows.
    sensitive : sequence of str, optional
        Sensitive counts (keys of :data:`SENSITIVE`); default all of them.
    counts, units : pandas.DataFrame, optional
        With ``periods``, the counts and units the report publishes: the rule then carries
        the report's plan (:func:`make_plan`), which every table consults.
    periods : sequence of period labels, optional
        Every period the report publishes counts or rates of (the quarter; its months or the
        year to date where shown).
    protection : float, default 2
        The audit's protection (module notes).

    Raises
    ------
    ValueError
        An unknown mode or sensitive count, a threshold that is not a whole number >= 1, an
        empty mark, a protection that is not a positive number, counts without periods or
        units, a :class:`Disclosure` with counts or periods (it would not be planned).

    Examples
    --------
    >>> disclosure().mark, disclosure(threshold=2).mark, disclosure("internal").public
    ('<5', '<3', False)
    """
    if isinstance(mode, Disclosure):
        if counts is not None or periods is not None:
            raise ValueError("disclosure: a rule is returned as it is; to plan, make it from "
                             "its mode: disclosure(rule.mode, counts=..., units=..., "
                             "periods=[...])")
        return mode
    if mode not in _MODES:
        raise ValueError(f"disclosure must be 'public' or 'internal', got {mode!r}")
    chosen = _check_plan_arguments(threshold=threshold, protection=protection,
                                   sensitive=sensitive)
    mark = f"<{int(threshold) + 1}" if mark is None else str(mark)
    if not mark.strip() or not str(withheld).strip():
        raise ValueError("the suppression marks must not be empty")
    plan = None
    if counts is not None or periods is not None:
        if counts is None or periods is None or units is None:
            raise ValueError("a disclosure plan needs counts, units and the periods the "
                             "report publishes")
        if mode == "public":  # a report of a period without counts has nothing to plan
            _check_covered(counts, [_label(p) for p in _as_list(periods)])
            plan = make_plan(counts, units, periods, threshold=int(threshold),
                             protection=float(protection), sensitive=chosen)
    return Disclosure(mode, int(threshold), mark, str(withheld), chosen, plan,
                      float(protection))


def check_public_periods(periods: Sequence[object] | object) -> None:
    """Refuse, before anything is computed, an output period a public edition cannot have
    (:data:`PUBLIC_KINDS`: quarters and years). One report may still show months or a
    year to date beside its quarter: its one plan covers them all (:func:`disclosure` with
    every period); what is refused is a separate public output of such a period, which no
    plan of the quarters' and years' outputs holds.

    Examples
    --------
    >>> check_public_periods(["2024Q3", "2024"])
    >>> check_public_periods("2024-07")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: a public edition covers quarters and years; 2024-07 is a month: use the ...
    """
    items = _as_list(periods)
    bad = []
    for p in items:  # a few periods
        kind = pr.kind(p)
        if kind not in PUBLIC_KINDS:
            bad.append(f"{_label(p)} is a {kind.replace('_', '-')}")
    if bad:
        raise ValueError(f"a public edition covers quarters and years; {'; '.join(bad)}: "
                         "use the internal edition (--disclosure internal) for it (monthly, "
                         "half-year and year-to-date figures beside the published quarters "
                         "would let a reader work out suppressed counts by subtraction)")


def _labels(periods: Sequence[object]) -> np.ndarray:
    """:func:`_label` of every item, parsing each distinct period once."""
    values = pd.Series(np.asarray(periods, dtype=object), dtype=object)
    if values.empty:
        return np.zeros(0, dtype=object)
    codes, uniq = pd.factorize(values.astype(str))
    return np.asarray([_label(p) for p in uniq], dtype=object)[codes]


def _label(period: object) -> str:
    """The canonical label of a period ("2024Q4"); a label that does not parse is kept."""
    if isinstance(period, str) and period == "":
        return ""
    try:
        return str(pr.parse(period))
    except (ValueError, TypeError):
        return str(period)


def sensitive_counts(counts: pd.DataFrame, period: object,
                     units: pd.DataFrame | None = None, *, births: bool = False
                     ) -> pd.DataFrame:
    """The sensitive counts of every unit for ``period``, rolled up the hierarchy (with
    ``births=True`` the births too, which bound births outside policy).

    Returns
    -------
    pandas.DataFrame
        Index ``unit`` (the units of the counts and, with ``units``, every unit above them),
        one column per sensitive count (:data:`SENSITIVE`) the counts can give; missing
        where a unit did not report all of ``period`` (a parent whose children did not all
        report is missing too).
    """
    p = pr.parse(period)
    have = [c for c in ("deaths_infant", "births", "births_compliant") if c in counts.columns]
    rolled = pr.rollup(counts[["unit", "period", *have]], p, by=["unit"], columns=have)
    full = rolled["complete"].fillna(False).astype(bool).to_numpy()
    out = pd.DataFrame(index=pd.Index(rolled["unit"].astype(object), name="unit"))
    if "deaths_infant" in have:
        out["deaths_infant"] = rolled["deaths_infant"].astype(float).where(full).to_numpy()
    if {"births", "births_compliant"} <= set(have):
        out["births_outside"] = (rolled["births"].astype(float)
                                 - rolled["births_compliant"].astype(float)).where(full) \
            .to_numpy()
        if births:
            out["births"] = rolled["births"].astype(float).where(full).to_numpy()
    if units is None or out.empty:
        return out
    parent = units.set_index("unit")["parent"]
    level = out
    for _ in range(10):  # up the hierarchy, one level at a time (a few levels)
        up = level.index.to_series().map(parent)
        if up.isna().all():
            break
        keep = up.notna().to_numpy()
        summed = level[keep].groupby(up[keep].to_numpy()).sum(min_count=1)
        # a parent whose child has no value, or that has unreported children, is missing
        gaps = level[keep].isna().groupby(up[keep].to_numpy()).any()
        kids = units[units["parent"].isin(summed.index)].groupby("parent").size()
        lacking = kids.reindex(summed.index).fillna(0).to_numpy() \
            > level[keep].groupby(up[keep].to_numpy()).size().reindex(summed.index).to_numpy()
        summed = summed.mask(gaps.to_numpy() | lacking[:, None])
        summed.index.name = "unit"
        out = pd.concat([out, summed[~summed.index.isin(out.index)]])
        level = summed
    return out


def _known(status: np.ndarray, value: np.ndarray, threshold: int,
           cap: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bound a reader knows of each cell (NaN: no knowledge): a shown
    count exactly, a primary 0..k, a complement k+1 and up; never above ``cap`` (births
    outside policy cannot exceed the births published beside them)."""
    status = np.asarray(status, dtype=object)
    value = np.asarray(value, dtype=float)
    cap = np.full(len(status), np.inf) if cap is None else np.asarray(cap, dtype=float)
    cap = np.where(np.isnan(cap), np.inf, cap)
    lower = np.select([status == SHOWN, status == PRIMARY, status == COMPLEMENT,
                       status == MASKED], [value, 0.0, threshold + 1.0, 0.0], np.nan)
    upper = np.select([status == SHOWN, status == PRIMARY, status == COMPLEMENT,
                       status == MASKED],
                      [value, np.minimum(float(threshold), cap), cap, cap], np.nan)
    return lower, upper


def _width(status: np.ndarray, lo: np.ndarray, hi: np.ndarray, cap: np.ndarray,
           threshold: int) -> np.ndarray:
    """Width of each interval; a small cell's is clipped to its band 0..min(k, cap) (a
    masked cell bounded at 1..5 is narrowed to 1..4 of its band: it tells an event)."""
    status = np.asarray(status, dtype=object)
    cap = np.where(np.isnan(cap), np.inf, cap)
    small = np.isin(status, [PRIMARY, MASKED])
    top = np.where(small, np.minimum(hi, np.minimum(float(threshold), cap)), hi)
    bottom = np.where(small, np.maximum(lo, 0.0), lo)
    return top - bottom


def _needs(status: np.ndarray, cap: np.ndarray | None, threshold: int,
           protection: float) -> np.ndarray:
    """Width each cell's interval needs: ``min(2 * protection, k, cap)`` for a primary (its
    band, clipped to what the births beside it already say), 1 for a complement (it must
    not be pinned), 0 otherwise."""
    status = np.asarray(status, dtype=object)
    cap = np.full(len(status), np.inf) if cap is None else np.asarray(cap, dtype=float)
    cap = np.where(np.isnan(cap), np.inf, cap)
    band = np.minimum(_required(threshold, protection), cap)
    return np.select([np.isin(status, [PRIMARY, MASKED]), status == COMPLEMENT],
                     [band, 1.0], 0.0)


def knowledge(count: Sequence[object], unit: Sequence[object], period: Sequence[object],
              status: Sequence[str], value: Sequence[float], threshold: int,
              cap: Sequence[float] | None = None) -> pd.DataFrame:
    """Records of what a table shows about sensitive cells (:data:`RECORD_COLUMNS`).

    ``status`` per cell: ``shown`` gives the exact ``value`` (lower = upper), ``primary``
    0..threshold, ``complement`` threshold+1 and up (upper infinite); other statuses
    (withheld for want of data, missing) give no record. ``cap`` (optional, per cell) is an
    upper bound the reader knows anyway (births, for births outside policy).

    Examples
    --------
    >>> knowledge(["deaths_infant"] * 3, ["a", "b", "c"], ["2024Q4"] * 3,
    ...           ["shown", "primary", "complement"], [7.0, 2.0, 9.0], 4)
               count unit  period  lower  upper
    0  deaths_infant    a  2024Q4    7.0    7.0
    1  deaths_infant    b  2024Q4    0.0    4.0
    2  deaths_infant    c  2024Q4    5.0    inf
    """
    status = np.asarray(status, dtype=object)
    lower, upper = _known(status, np.asarray(value, dtype=float), threshold,
                          None if cap is None else np.asarray(cap, dtype=float))
    keep = np.isin(status, [SHOWN, *_SUPPRESSED]) & ~np.isnan(lower)
    out = pd.DataFrame({"count": np.asarray(count, dtype=object)[keep] if not isinstance(
        count, str) else count, "unit": np.asarray(unit, dtype=object)[keep],
        "period": _labels(np.asarray(period, dtype=object)[keep]),
        "lower": lower[keep], "upper": upper[keep]})
    return out.reset_index(drop=True)


# --- the structure of a report's cells: atoms (leaf unit x elementary period) ---------------

def _span(label: str) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    try:
        p = pr.parse(label)
    except (ValueError, TypeError):
        return None
    return pr.start(p).normalize(), pr.end(p).normalize()


@dataclass(frozen=True)
class _Atoms:
    """A 0/1 matrix (cells x atoms) as the coordinates of its ones; the scipy CSR matrix
    only where a linear programme needs it (importing scipy.optimize costs 0.4 s)."""

    row: np.ndarray
    col: np.ndarray
    shape: tuple[int, int]

    def sparse(self):
        from scipy import sparse

        return sparse.csr_matrix((np.ones(len(self.row)), (self.row, self.col)),
                                 shape=self.shape)


def _structure(cells: pd.DataFrame, parent: Mapping[object, object]):
    """Which atoms each cell sums (a 0/1 matrix, cells x atoms, as :class:`_Atoms`): atoms
    are (count, leaf unit, elementary period); a leaf unit is one without a child among the
    cells' units, an elementary period a run of days between the periods' boundaries."""
    units = pd.unique(cells["unit"])
    labels = list(pd.unique(cells["period"]))
    counts = list(pd.unique(cells["count"]))
    # leaves below each unit: walk every unit up its chain (a few levels)
    has_child = {parent.get(u) for u in units}
    leaves = [u for u in units if u not in has_child]
    u_at = {u: i for i, u in enumerate(units)}
    lm = np.zeros((len(units), len(leaves)), dtype=bool)
    for j, leaf in enumerate(leaves):
        u, seen = leaf, 0
        while u is not None and u in u_at and seen < 50:
            lm[u_at[u], j] = True
            u, seen = parent.get(u), seen + 1
    # elementary periods between all boundaries
    spans = [_span(lab) for lab in labels]
    cuts = sorted({t for s in spans if s for t in (s[0], s[1] + pd.Timedelta(days=1))})
    atoms = list(zip(cuts[:-1], cuts[1:], strict=False))
    pm = np.zeros((len(labels), max(len(atoms), 1) + len(labels)), dtype=bool)
    for i, s in enumerate(spans):
        if s is None:  # a label that is not a period: its own atom, no time relation
            pm[i, len(atoms) + i] = True
            continue
        for a, (first, after) in enumerate(atoms):
            if s[0] <= first and after <= s[1] + pd.Timedelta(days=1):
                pm[i, a] = True
    used = pm.any(axis=0)
    pm = pm[:, used]
    ui = cells["unit"].map(u_at).to_numpy(dtype=int)
    pi = cells["period"].map({lab: i for i, lab in enumerate(labels)}).to_numpy(dtype=int)
    ci = cells["count"].map({c: i for i, c in enumerate(counts)}).to_numpy(dtype=int)
    nl, na = lm.shape[1], pm.shape[1]
    rows = (lm[ui][:, :, None] & pm[pi][:, None, :]).reshape(len(cells), nl * na)
    r, col = np.nonzero(rows)
    col = col + ci[r] * nl * na
    return _Atoms(r.astype(np.int64), col.astype(np.int64), (len(cells), len(counts) * nl * na))


def _bounds(matrix: _Atoms, lower: np.ndarray, upper: np.ndarray, targets: np.ndarray, *,
            method: str = "auto") -> tuple[np.ndarray, np.ndarray]:
    """Smallest and largest value of each target cell (rows of ``matrix``) over the
    non-negative atoms that satisfy ``lower <= cell <= upper`` for every cell with a finite
    bound (NaN lower: no knowledge), rounded inwards to whole numbers (``inf``: unbounded).

    Where the cells' atom sets are nested or disjoint (one period per count: a unit tree),
    :func:`_nested_bounds` gives the exact bounds in closed form (``method="auto"`` or
    ``"nested"``); otherwise (a year with its quarters: units crossed with periods), or with
    ``method="lp"``, all targets' linear programmes are stacked block-diagonally into one
    minimisation and one maximisation (HiGHS); each block holds the constraints of the
    connected parts of the atoms its target touches."""
    if method not in ("auto", "nested", "lp"):
        raise ValueError(f"method must be 'auto', 'nested' or 'lp', not {method!r}")
    targets = np.asarray(targets, dtype=int)
    n_t = len(targets)
    if n_t == 0:
        return np.zeros(0), np.zeros(0)
    lower = np.asarray(lower, dtype=float)
    upper = np.asarray(upper, dtype=float)
    known = ~np.isnan(lower) & ((lower > 0) | np.isfinite(upper))
    if method != "lp":
        nested = _nested_bounds(matrix, np.where(known, lower, 0.0),
                                np.where(known & ~np.isnan(upper), upper, np.inf), targets)
        if nested is not None:
            return nested
        if method == "nested":
            raise ValueError("the cells' atom sets are not nested: use method='lp'")
    from scipy import sparse
    from scipy.optimize import linprog
    from scipy.sparse.csgraph import connected_components

    exact = known & (lower == upper)
    above = known & ~exact & (lower > 0)
    below = known & ~exact & np.isfinite(upper)
    m = matrix.sparse()
    finite = np.concatenate([lower[known], upper[known & np.isfinite(upper)]])
    cap = 10.0 * (float(np.nansum(np.abs(finite))) + m.shape[0] + 10.0)
    link = m[known]
    graph = (link.T @ link).tocsr() if link.shape[0] else sparse.csr_matrix(
        (m.shape[1], m.shape[1]))
    _, comp = connected_components(graph, directed=False)
    first = np.asarray(m.argmax(axis=1)).ravel()  # a known row's atoms are one component
    row_c = comp[first]
    blocks_eq, blocks_ub, objective, b_eq, b_ub, sizes, order = [], [], [], [], [], [], []
    t_comps = [tuple(np.unique(comp[m[t].indices])) for t in targets]
    by_comps: dict[tuple, list[int]] = {}
    for j, cs in enumerate(t_comps):
        by_comps.setdefault(cs, []).append(j)
    for comps, js in by_comps.items():  # targets that share their connected atoms
        atoms = np.flatnonzero(np.isin(comp, comps))
        rows = np.flatnonzero(known & np.isin(row_c, comps))
        sub = m[rows][:, atoms] if len(rows) else sparse.csr_matrix((0, len(atoms)))
        e, a, b = exact[rows], above[rows], below[rows]
        eye = sparse.identity(len(js), format="csr")
        blocks_eq.append(sparse.kron(eye, sub[e]))
        b_eq.append(np.tile(lower[rows][e], len(js)))
        blocks_ub.append(sparse.kron(eye, sparse.vstack([sub[b], -sub[a]])))
        b_ub.append(np.tile(np.concatenate([upper[rows][b], -lower[rows][a]]), len(js)))
        objective.append(m[targets[js]][:, atoms].toarray().ravel())
        sizes += [len(atoms)] * len(js)
        order += js
    a_eq = sparse.block_diag(blocks_eq, format="csr")
    a_ub = sparse.block_diag(blocks_ub, format="csr")
    c = np.concatenate(objective)
    ends = np.cumsum(sizes)
    out = []
    for sign in (1.0, -1.0):
        res = linprog(sign * c, A_ub=a_ub if a_ub.shape[0] else None,
                      b_ub=np.concatenate(b_ub) if a_ub.shape[0] else None,
                      A_eq=a_eq if a_eq.shape[0] else None,
                      b_eq=np.concatenate(b_eq) if a_eq.shape[0] else None,
                      bounds=(0, cap), method="highs")
        if res.status == 2:
            raise DisclosureError(_CONTRADICTION)
        if res.status != 0:
            raise RuntimeError(f"the disclosure audit's linear programme failed: {res.message}")
        x = res.x * c
        out.append(np.add.reduceat(x, np.r_[0, ends[:-1]]) if len(x) else np.zeros(n_t))
    back = np.empty(n_t, dtype=int)
    back[np.asarray(order, dtype=int)] = np.arange(n_t)
    lo, hi = out[0][back], out[1][back]
    hi = np.where(hi >= cap - 1e-6, np.inf, hi)
    return _whole(lo, hi)


def _whole(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Whole numbers: the adversary rounds inwards."""
    return np.ceil(lo - 1e-6), np.where(np.isfinite(hi), np.floor(hi + 1e-6), np.inf)


_CONTRADICTION = ("the published tables contradict each other (no counts fit all of them): "
                  "a table shows a figure the counts do not give")


def _nested_bounds(matrix: _Atoms, own_lo: np.ndarray, own_hi: np.ndarray,
                   targets: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Exact bounds of the target cells where every two cells' atom sets are nested or
    disjoint (a laminar family: the cells form a forest, each cell the sum of its children
    and of its atoms outside them); None where they are not.

    Each cell is known to lie in ``[own_lo, own_hi]`` (0..inf: unknown). Bottom up, a cell
    can take the values of its own interval that the sums of its children's can reach
    (``sub``; any value up from there where it has atoms outside its children); top down,
    those of ``sub`` that leave its siblings and free atoms room inside its parent's final
    range. On a forest of sums of non-negative parts, interval propagation like this is
    exact: it gives the linear programme's bounds without one.

    The forest comes from the atoms: sorted by atom and, within an atom, by cell size
    (largest first, then cell order), the cell before each cell is its candidate parent; the
    family is laminar exactly when every cell has the same candidate at each of its atoms.
    """
    n = matrix.shape[0]
    r, a = matrix.row, matrix.col
    size = np.bincount(r, minlength=n)
    if n == 0 or (size == 0).any():
        return None
    order = np.lexsort((r, -size[r], a))
    rs, at = r[order], a[order]
    first = np.r_[True, at[1:] != at[:-1]]
    cand = np.where(first, -1, np.r_[-1, rs[:-1]])
    low, high = np.full(n, n), np.full(n, -2)
    np.minimum.at(low, rs, cand)
    np.maximum.at(high, rs, cand)
    if (low != high).any():
        return None
    parent = low  # -1: a root
    has = parent >= 0
    # depth of each cell (one step per level of the forest)
    depth = np.zeros(n, dtype=int)
    up = parent.copy()
    while (up >= 0).any():
        depth[up >= 0] += 1
        up = np.where(up >= 0, parent[np.maximum(up, 0)], -1)
    free = size - np.bincount(parent[has], weights=size[has], minlength=n).astype(int) > 0
    sub_lo, sub_hi = own_lo.astype(float).copy(), own_hi.astype(float).copy()
    kids_lo = np.zeros(n)
    kids_hi_finite = np.zeros(n)
    kids_hi_inf = np.zeros(n, dtype=int)
    for d in range(depth.max(), -1, -1):  # bottom up, one level at a time
        kids = depth == d + 1
        kid_parent = parent[kids]
        kids_lo += np.bincount(kid_parent, weights=sub_lo[kids], minlength=n)
        finite = np.isfinite(sub_hi[kids])
        kids_hi_finite += np.bincount(kid_parent[finite], weights=sub_hi[kids][finite],
                                      minlength=n)
        kids_hi_inf += np.bincount(kid_parent[~finite], minlength=n)
        here = depth == d
        reach_hi = np.where(free | (kids_hi_inf > 0), np.inf, kids_hi_finite)
        sub_lo[here] = np.maximum(sub_lo[here], kids_lo[here])
        sub_hi[here] = np.minimum(sub_hi[here], reach_hi[here])
    if (sub_lo > sub_hi + 1e-9).any():
        raise DisclosureError(_CONTRADICTION)
    lo, hi = sub_lo.copy(), sub_hi.copy()
    for d in range(1, depth.max() + 1):  # top down: the parents' ranges are final
        here = np.flatnonzero(depth == d)
        p = parent[here]
        others_lo = kids_lo[p] - sub_lo[here]
        mine_inf = ~np.isfinite(sub_hi[here])
        others_inf = free[p] | (kids_hi_inf[p] - mine_inf > 0)
        others_hi = np.where(others_inf, np.inf,
                             kids_hi_finite[p] - np.where(mine_inf, 0.0, sub_hi[here]))
        lo[here] = np.maximum(sub_lo[here], lo[p] - others_hi)
        hi[here] = np.minimum(sub_hi[here], hi[p] - others_lo)
    return _whole(lo[targets], hi[targets])


def _required(threshold: int, protection: float) -> float:
    return float(min(2 * protection, threshold))


# --- the plan ---------------------------------------------------------------------------------

def _cells_from_counts(counts: pd.DataFrame, units: pd.DataFrame, periods: Sequence[object],
                       sensitive: Sequence[str]) -> pd.DataFrame:
    frames = []
    for p in periods:  # a few periods
        s = sensitive_counts(counts, p, units, births=True)
        for c in sensitive:
            if c in s.columns:
                cap = s["births"].to_numpy(dtype=float) if c == "births_outside" \
                    and "births" in s.columns else np.full(len(s), np.inf)
                frames.append(pd.DataFrame({"count": c, "unit": s.index.astype(object),
                                            "period": _label(p),
                                            "value": s[c].to_numpy(dtype=float),
                                            "cap": cap}))
    if not frames:
        return pd.DataFrame({"count": [], "unit": [], "period": [], "value": [], "cap": []})
    return pd.concat(frames, ignore_index=True)


def make_plan(counts: pd.DataFrame, units: pd.DataFrame, periods: Sequence[object], *,
              threshold: int = 4, protection: float = 2.0,
              sensitive: Sequence[str] = tuple(SENSITIVE),
              published: Sequence[object] | None = None,
              _memo: dict | None = None) -> Plan:
    """Plan a report's suppression: primaries, then complements until the audit passes.

    Parameters
    ----------
    counts : pandas.DataFrame
        Monthly (or dekad) counts with ``deaths_infant`` and/or ``births`` and
        ``births_compliant``.
    units : pandas.DataFrame
        The hierarchy (``unit``, ``parent``).
    periods : sequence of period labels
        Every period the report publishes (duplicates are refused).
    threshold, protection, sensitive
        As in :func:`disclosure`.
    published : sequence of period labels, optional
        Periods inside the report's that other outputs publish (or may publish) from the
        same counts: their cells are in the plan, held fixed, and the report's own cells are
        suppressed so that, with all of them, no small cell is narrowed. Default: every
        period of a public kind inside the report's (:func:`published_inside`: a year's
        quarters), each with the statuses its own plan gives it (planned the same way,
        shortest first), so that the quarters' reports and the year's agree. Given
        explicitly, their cells count as shown above the threshold and ``"<5"`` at or
        below it.

    Returns
    -------
    Plan
        Cells of every unit of the counts and above, for every period and sensitive count
        (the published periods' too; ``Plan.published`` names those).

    Raises
    ------
    ValueError
        No periods, a repeated period, counts with none of the sensitive columns or without
        ``unit`` / ``period``, units without ``unit`` / ``parent``, and the threshold,
        protection and sensitive counts :func:`disclosure` refuses (same sentences); a
        single sensitive name is one count.

    Notes
    -----
    Primary cells are those with 0..threshold events. Then, repeatedly: the audit's linear
    programmes bound every primary (and every complement, which must not be pinned to one
    value either) from the plan's own published knowledge; for each primary still narrower
    than the protection, the shown cell with the smallest count among the groups it belongs
    to (its parent with its siblings, its longer period with the periods inside it; and,
    if they hold none, the groups of the suppressed cells reached from it) becomes a
    complement. Where no shown cell is left around an exposed primary, the primaries of its
    cluster are masked (shown ``"[c]"``); cells still exposed are listed in
    ``Plan.unprotected``. Last, complements the protection does not need are given back,
    the largest first.
    """
    sensitive = _check_plan_arguments(counts, units, threshold=threshold,
                                      protection=protection, sensitive=sensitive)
    periods = [] if periods is None else _as_list(periods)
    labels = [_label(p) for p in periods]
    if not labels:
        raise ValueError("a disclosure plan needs at least one period the report publishes")
    if len(set(labels)) < len(labels):
        raise ValueError(f"a disclosure plan lists each period once; got {', '.join(labels)}")
    if published is not None:
        published = _as_list(published)
        outside = [q for q in dict.fromkeys(_label(x) for x in published)
                   if not any(_within(q, lab) for lab in labels)]
        if outside:
            raise ValueError(f"published periods must lie inside the report's "
                             f"({', '.join(labels)}); {', '.join(outside)} do(es) not")
    can = {"deaths_infant": {"deaths_infant"}, "births_outside": {"births", "births_compliant"}}
    if not any(can[c] <= set(counts.columns) for c in sensitive):
        raise ValueError("the counts have none of the sensitive counts "
                         f"({', '.join(sensitive)}); nothing to plan")
    parent = _parents(units)
    if published is None:  # the outputs inside, each with the statuses its own plan gives
        inside = published_inside(labels)
        memo = {} if _memo is None else _memo
        for q in sorted(inside, key=lambda q: pr.days(pr.parse(q))):  # shortest first
            if q not in memo:
                sub = make_plan(counts, units, [q], threshold=threshold,
                                protection=protection, sensitive=sensitive, _memo=memo)
                memo[q] = sub.cells[sub.cells["period"] == q]
        own = _cells_from_counts(counts, units, labels, sensitive)
        cells = pd.concat([own, *(memo[q] for q in inside)], ignore_index=True)
        given = cells["status"].to_numpy(dtype=object) if "status" in cells.columns \
            else np.full(len(cells), None, dtype=object)
    else:  # as the values give them: shown above the threshold, "<5" at or below it
        inside = [q for q in dict.fromkeys(_label(x) for x in published) if q not in labels]
        cells = _cells_from_counts(counts, units, labels + inside, sensitive)
        given = np.full(len(cells), None, dtype=object)
    fixed = cells["period"].isin(inside).to_numpy(dtype=bool)
    cells = cells.drop(columns=[c for c in ("status",) if c in cells.columns])
    plan = _plan(cells, parent, threshold=threshold, protection=protection, fixed=fixed,
                 given=given)
    return replace(plan, published=tuple(inside))


#: Kinds of period a public edition may have: quarters and years. Any two are nested or
#: disjoint, so a year's plan holds its quarters' published cells fixed (each as its own
#: plan has it) and the quarters and the year of one county cannot be differenced. Months,
#: half-years, year-to-date and other spans are internal only: a year planned against its
#: months and half-years took 107 s on the sample and withheld 23 % of its large cells (a
#: quarter 0.65 s and 19-35 %), while months and year-to-date spans overlap the quarters.
PUBLIC_KINDS = ("quarter", "year")


def _as_list(periods: object) -> list:
    """A single period label (text, a pandas Period, a year as a number) as a list of one;
    any other sequence as a list."""
    if isinstance(periods, (str, pd.Period, int, np.integer, pr.Dekad, pr.Span)):
        return [periods]
    if isinstance(periods, bytes):
        raise TypeError(f"a period label is text, got bytes {periods!r}")
    return list(periods)


def _within(short: str, long: str) -> bool:
    """Whether period ``short`` lies inside period ``long`` (both labels)."""
    a, b = pr.parse(short), pr.parse(long)
    return pr.start(a) >= pr.start(b) and pr.end(a) <= pr.end(b)


def _check_covered(counts: pd.DataFrame, labels: Sequence[str]) -> None:
    """Refuse a period of which the counts have no month (a plan of it would be all
    missing cells, and tables would show nothing a reader could trust)."""
    have = set(counts["period"].astype(str).str[:7])  # months (a dekad's month)
    bare = [lab for lab in labels if not have & {str(m) for m in pr.months(pr.parse(lab))}]
    if bare:
        raise ValueError(f"the counts have no rows in {', '.join(bare)}: nothing to plan")


def published_inside(periods: Sequence[object]) -> list[str]:
    """Every period of a kind a public edition may have (:data:`PUBLIC_KINDS`) strictly
    inside one of ``periods`` and not one of them: what other public outputs of the same
    counts may show.

    Examples
    --------
    >>> published_inside(["2024Q3"])
    []
    >>> published_inside(["2024"])
    ['2024Q1', '2024Q2', '2024Q3', '2024Q4']
    >>> published_inside(["2024", "2024Q4"])  # 2024Q4 is the report's own
    ['2024Q1', '2024Q2', '2024Q3']
    """
    labels = [_label(p) for p in _as_list(periods)]
    out: list[str] = []
    for lab in labels:  # a few periods
        p = pr.parse(lab)
        months = [str(m) for m in pr.months(p)]
        quarters = list(dict.fromkeys(str(pd.Period(m, freq="Q")) for m in months))
        halves = list(dict.fromkeys(f"{m[:4]}H{1 if int(m[5:7]) <= 6 else 2}" for m in months))
        first, last = pr.start(p), pr.end(p)
        inner = [q for q in months + quarters + halves
                 if pr.start(pr.parse(q)) >= first and pr.end(pr.parse(q)) <= last]
        out += [q for q in inner if q != lab and pr.kind(q) in PUBLIC_KINDS]
    return [q for q in dict.fromkeys(_label(q) for q in out) if q not in labels]


def _parents(units: pd.DataFrame | None) -> dict:
    if units is None:
        return {}
    p = units.set_index("unit")["parent"]
    gone = p.isna().to_numpy(dtype=bool) | (p.astype(object).astype(str).str.strip() == "") \
        .to_numpy(dtype=bool)
    return {u: (None if g else v) for u, v, g in zip(p.index, p.to_numpy(dtype=object), gone,
                                                      strict=True)}


def _groups(cells: pd.DataFrame, parent: Mapping[object, object]) -> list[np.ndarray]:
    """Groups of cells that add up: a parent with its children (one period), a longer
    period with the published periods inside it (one unit). Each group lists its cells."""
    key = {k: i for i, k in enumerate(zip(cells["count"], cells["unit"], cells["period"],
                                          strict=True))}
    groups: dict[tuple, list[int]] = {}
    for i, (c, u, p) in enumerate(zip(cells["count"], cells["unit"], cells["period"],
                                      strict=True)):
        top = key.get((c, parent.get(u), p))
        if top is not None:
            groups.setdefault(("h", top), [top]).append(i)
    labels = list(pd.unique(cells["period"]))
    spans = {lab: _span(lab) for lab in labels}
    inside = [(long, short) for long in labels for short in labels if long != short
              and spans[long] and spans[short] and spans[long][0] <= spans[short][0]
              and spans[short][1] <= spans[long][1]]
    for long, short in inside:  # a few pairs of periods
        for c, u in zip(cells.loc[cells["period"] == short, "count"],
                        cells.loc[cells["period"] == short, "unit"], strict=True):
            top, part = key.get((c, u, long)), key.get((c, u, short))
            if top is not None and part is not None:
                groups.setdefault(("t", top), [top]).append(part)
    return [np.asarray(g, dtype=int) for g in groups.values()]


def _plan(cells: pd.DataFrame, parent: Mapping[object, object], *, threshold: int,
          protection: float, fixed: np.ndarray | None = None,
          given: np.ndarray | None = None) -> Plan:
    """Primaries, then complements (never among the ``fixed`` cells, published elsewhere:
    their statuses stay as the values give them) until every small cell is protected."""
    cells = cells.reset_index(drop=True).copy()
    fixed = np.zeros(len(cells), dtype=bool) if fixed is None else np.asarray(fixed, bool)
    given = np.full(len(cells), None, dtype=object) if given is None else \
        np.asarray(given, dtype=object)
    if "cap" not in cells.columns:
        cells["cap"] = np.inf
    value = cells["value"].to_numpy(dtype=float)
    cap = cells["cap"].to_numpy(dtype=float)
    status = np.where(np.isnan(value), MISSING,
                      np.where(value <= threshold, PRIMARY, SHOWN)).astype(object)
    have = fixed & (given != None)  # noqa: E711  (elementwise: statuses given)
    status[have] = given[have]
    if cells.empty:
        cells["status"] = status
        return Plan(cells, dict(parent), threshold, protection)
    matrix = _structure(cells, parent)
    groups = _groups(cells, parent)
    member: dict[int, list[int]] = {}
    for g, cells_of in enumerate(groups):
        for i in cells_of:
            member.setdefault(int(i), []).append(g)
    hopeless: set[int] = set()
    lo_all = hi_all = None
    for _ in range(2 * len(cells) + 1):  # each round suppresses or masks one more cell
        lower, upper = _known(status, value, threshold, cap)
        targets = np.flatnonzero(np.isin(status, _SUPPRESSED))
        lo, hi = _bounds(matrix, lower, upper, targets)
        lo_all, hi_all = dict(zip(targets, lo, strict=True)), dict(zip(targets, hi,
                                                                       strict=True))
        need = _needs(status[targets], cap[targets], threshold, protection)
        short = _width(status[targets], lo, hi, cap[targets], threshold) < need
        weak = [int(t) for t in targets[short] if t not in hopeless]
        if not weak:
            break
        chosen: set[int] = set()
        masked: set[int] = set()
        for t in weak:  # the cells still exposed (a few per round)
            pick, cluster = _complement(t, status, value, groups, member, fixed)
            if pick is not None:
                chosen.add(pick)
                continue
            # no shown cell left around it: its small neighbours lose their band mark, so
            # that a reader cannot tell them from complements
            small = [i for i in cluster if status[i] == PRIMARY and not fixed[i]]
            if small:
                masked.update(small)
            else:
                hopeless.add(t)
        if not chosen and not masked:
            break
        status[list(chosen)] = COMPLEMENT
        status[list(masked)] = MASKED
    if not hopeless:
        status = _prune(matrix, status, value, cap, threshold, protection)
    cells["status"] = status
    bad = sorted(t for t in hopeless if status[t] in (PRIMARY, MASKED))
    unprotected = pd.DataFrame({
        "count": cells["count"].to_numpy()[bad], "unit": cells["unit"].to_numpy()[bad],
        "period": cells["period"].to_numpy()[bad],
        "lower": [lo_all[t] for t in bad], "upper": [hi_all[t] for t in bad],
        "required": _needs(status[bad], cap[bad], threshold, protection)},
        columns=[*RECORD_COLUMNS, "required"])
    return Plan(cells, dict(parent), threshold, protection, unprotected)


def _weak(matrix, status: np.ndarray, value: np.ndarray, cap: np.ndarray, threshold: int,
          protection: float) -> bool:
    """Whether any primary is narrower than it needs or any complement pinned."""
    lower, upper = _known(status, value, threshold, cap)
    targets = np.flatnonzero(np.isin(status, _SUPPRESSED))
    lo, hi = _bounds(matrix, lower, upper, targets)
    width = _width(status[targets], lo, hi, cap[targets], threshold)
    return bool((width < _needs(status[targets], cap[targets], threshold, protection)).any())


def _prune(matrix, status: np.ndarray, value: np.ndarray, cap: np.ndarray, threshold: int,
           protection: float) -> np.ndarray:
    """Give back complements the protection does not need, the largest counts first (the
    smallest-first choice can leave a small cell suppressed that a later, larger one made
    redundant)."""
    status = status.copy()
    chosen = np.flatnonzero(status == COMPLEMENT)
    for t in chosen[np.argsort(-value[chosen], kind="stable")]:  # one audit per complement
        status[t] = SHOWN
        if _weak(matrix, status, value, cap, threshold, protection):
            status[t] = COMPLEMENT
    return status


def _complement(t: int, status: np.ndarray, value: np.ndarray, groups: list[np.ndarray],
                member: Mapping[int, list[int]], fixed: np.ndarray | None = None
                ) -> tuple[int | None, set[int]]:
    """The shown cell with the smallest count in the groups of ``t``; where they hold none,
    in the groups of the suppressed cells reached from it (breadth first). Without one,
    None and the suppressed cells reached (``t``'s cluster)."""
    seen, frontier = {t}, [t]
    while frontier:
        near = {int(i) for f in frontier for g in member.get(f, []) for i in groups[g]}
        near -= seen
        shown = [i for i in near if status[i] == SHOWN
                 and (fixed is None or not fixed[i])]
        if shown:
            return min(shown, key=lambda i: (value[i], i)), seen
        seen |= near
        frontier = [i for i in near if status[i] in _SUPPRESSED]
    return None, seen


# --- the audit --------------------------------------------------------------------------------

def attach(table: pd.DataFrame, records: pd.DataFrame) -> pd.DataFrame:
    """Keep ``records`` (:data:`RECORD_COLUMNS`) in ``table.attrs["disclosure"]``, as a tuple
    of tuples (a frame there would break ``pd.concat`` of tables, which compares attrs), and
    return ``table``.

    Examples
    --------
    >>> t = attach(pd.DataFrame({"x": [1]}), knowledge(["deaths_infant"], ["a"], ["2024Q4"],
    ...                                                ["primary"], [2.0], 4))
    >>> t.attrs["disclosure"]
    (('deaths_infant', 'a', '2024Q4', 0.0, 4.0),)
    >>> recorded(pd.concat([t, t])).shape
    (1, 5)
    """
    table.attrs["disclosure"] = _Records(
        (c, u, p, float(lo), float(hi)) for c, u, p, lo, hi in
        records[RECORD_COLUMNS].itertuples(index=False, name=None))
    return table


class _Records(tuple):
    """The records a table keeps (:func:`attach`): a tuple of ``(count, unit, period, lower,
    upper)`` tuples, immutable, so pandas shares it with every frame derived from the table
    instead of deep-copying it into each (1,500 copies, 0.1 s, in a quarterly report's Excel
    workbook alone)."""

    __slots__ = ()

    def __deepcopy__(self, memo: dict) -> _Records:
        return self

    def __copy__(self) -> _Records:
        return self




def recorded(table: pd.DataFrame) -> pd.DataFrame:
    """The records a table keeps (:func:`attach`; a frame of :data:`RECORD_COLUMNS` is
    read too), as a frame; empty when it keeps none."""
    rec = table.attrs.get("disclosure") if hasattr(table, "attrs") else None
    if rec is None:
        return pd.DataFrame(columns=RECORD_COLUMNS)
    if isinstance(rec, pd.DataFrame):
        missing = [c for c in RECORD_COLUMNS if c not in rec.columns]
        if missing:
            raise ValueError(f"disclosure records without column(s) {', '.join(missing)}")
        return rec[RECORD_COLUMNS].reset_index(drop=True)
    return pd.DataFrame(list(rec), columns=RECORD_COLUMNS)


def _records_of(tables: Mapping[str, pd.DataFrame] | Sequence[pd.DataFrame]
                ) -> pd.DataFrame:
    items = tables.items() if isinstance(tables, Mapping) else \
        ((f"table {i + 1}", t) for i, t in enumerate(tables))
    frames = []
    for name, table in items:
        try:
            rec = recorded(table)
        except ValueError as e:
            raise ValueError(f"table {name!r}: {e}") from None
        if rec.empty:
            continue
        frames.append(rec[RECORD_COLUMNS].assign(table=str(name),
                                                 period=rec["period"].map(_label)))
    if not frames:
        return pd.DataFrame(columns=[*RECORD_COLUMNS, "table"])
    return pd.concat(frames, ignore_index=True)


def audit(tables: Mapping[str, pd.DataFrame] | Sequence[pd.DataFrame],
          plan: Plan | Disclosure, *, protection: float | None = None) -> pd.DataFrame:
    """How far a reader can narrow each suppressed cell by differencing a report's tables.

    Parameters
    ----------
    tables : mapping of name to DataFrame, or sequence of DataFrames
        Every table the report publishes. Each table records what it shows about sensitive
        cells in ``attrs["disclosure"]`` (:data:`RECORD_COLUMNS`: ``lower == upper`` for a
        shown count, 0..k for a ``"<5"`` mark, k+1..inf for a complement); tables without
        records show no sensitive figure. A cell shown in several tables is known from
        the narrowest of them.
    plan : Plan or Disclosure
        The report's plan (a rule with one): it gives the hierarchy, the periods and which
        cells must be protected.
    protection : float, optional
        Default the plan's.

    Returns
    -------
    pandas.DataFrame
        One row per cell the plan suppresses (primary, masked or complement):
        ``count, unit, period, status`` (the
        plan's), ``value`` (true count: internal), ``lower, upper`` (the narrowest interval
        by linear differencing, whole numbers, ``inf`` unbounded), ``width`` (upper - lower,
        for a small cell clipped to its band 0..min(k, births)), ``required``
        (``min(2 * protection, k, births)`` for a small cell, 0 for a complement),
        ``protected``, ``shown_in`` (tables showing the exact count: a cell the plan
        suppressed shown anyway is caught there).

    Raises
    ------
    ValueError
        No plan, records without their columns, or a table that shows a cell the plan has
        none for (another period or unit: "the report's disclosure plan has no cell for
        ..."); it could not be audited.
    DisclosureError
        Tables that contradict each other.
    """
    if isinstance(plan, Disclosure):
        if plan.plan is None:
            raise ValueError("audit needs the report's plan: make the rule with "
                             "disclosure('public', counts=..., units=..., periods=[...])")
        plan = plan.plan
    if not isinstance(plan, Plan):
        raise TypeError(f"audit needs a Plan or a Disclosure with one, got "
                        f"{type(plan).__name__}")
    p = plan.protection if protection is None else float(protection)
    k = plan.threshold
    rec = _records_of(tables)
    cells = plan.cells[["count", "unit", "period", "value", "status", "cap"]].copy()
    # cells the tables show that the plan does not know: kept, with no true value
    extra = rec[["count", "unit", "period"]].drop_duplicates()
    extra = extra.merge(cells[["count", "unit", "period"]], how="left", indicator=True)
    extra = extra[extra["_merge"] == "left_only"].drop(columns="_merge")
    if len(extra):  # a table of a unit or period the plan never planned: not audited
        pairs = list(dict.fromkeys(f"{c} of {u} in {q}" for c, u, q in extra[
            ["count", "unit", "period"]].itertuples(index=False, name=None)))
        raise ValueError(f"audit: the report's disclosure plan has no cell for "
                         f"{', '.join(pairs[:5])}{' …' if len(pairs) > 5 else ''} "
                         f"({len(pairs)} cell(s)); make the rule with every unit and period "
                         "the report shows")
    key = pd.MultiIndex.from_frame(cells[["count", "unit", "period"]])
    at = key.get_indexer(pd.MultiIndex.from_frame(rec[["count", "unit", "period"]])) \
        if len(rec) else np.zeros(0, dtype=int)
    n = len(cells)
    lower = np.full(n, np.nan)
    upper = np.full(n, np.nan)
    if len(rec):
        lo_rec = pd.Series(rec["lower"].to_numpy(dtype=float)).groupby(at).max()
        hi_rec = pd.Series(rec["upper"].to_numpy(dtype=float)).groupby(at).min()
        lower[lo_rec.index.to_numpy()] = lo_rec.to_numpy()
        upper[hi_rec.index.to_numpy()] = hi_rec.to_numpy()
    # cells other outputs publish (a year's quarters): known as their own plans show them
    elsewhere = cells["period"].isin(plan.published).to_numpy(dtype=bool) & np.isnan(lower)
    if elsewhere.any():
        lo_e, hi_e = _known(cells["status"].to_numpy(dtype=object)[elsewhere],
                            cells["value"].to_numpy(dtype=float)[elsewhere], k,
                            cells["cap"].to_numpy(dtype=float)[elsewhere])
        lower[elsewhere], upper[elsewhere] = lo_e, hi_e
    # births published beside births outside policy bound it for every reader
    cap = cells["cap"].to_numpy(dtype=float)
    capped = np.isfinite(cap)
    lower[capped & np.isnan(lower)] = 0.0
    upper[capped] = np.fmin(np.where(np.isnan(upper[capped]), np.inf, upper[capped]),
                            cap[capped])
    exact_rec = rec[rec["lower"].to_numpy(dtype=float) == rec["upper"].to_numpy(dtype=float)]
    shown_in = exact_rec.groupby(
        key.get_indexer(pd.MultiIndex.from_frame(exact_rec[["count", "unit", "period"]]))
        if len(exact_rec) else np.zeros(0, dtype=int))["table"].agg(
        lambda s: ", ".join(dict.fromkeys(s)))
    status = cells["status"].to_numpy(dtype=object)
    suppressed = np.isin(status, _SUPPRESSED)
    shown_anyway = np.zeros(n, dtype=bool)
    shown_anyway[shown_in.index.to_numpy(dtype=int)] = True
    targets = np.flatnonzero(suppressed | (shown_anyway & (status == "absent")))
    matrix = _structure(cells, plan.parent)
    lo, hi = _bounds(matrix, lower, upper, targets)
    out = cells.iloc[targets].reset_index(drop=True)
    out["lower"], out["upper"] = lo, hi
    banded = np.isin(out["status"].to_numpy(), [PRIMARY, MASKED]) | (
        (out["status"].to_numpy() == "absent") & (hi <= k))
    out["width"] = _width(np.where(banded, PRIMARY, COMPLEMENT), lo, hi,
                          out["cap"].to_numpy(dtype=float), k)
    out["required"] = np.where(banded, np.minimum(_required(k, p), np.where(
        np.isnan(out["cap"].to_numpy(dtype=float)), np.inf, out["cap"].to_numpy(dtype=float))),
        0.0)
    out = out.drop(columns="cap")
    out["protected"] = out["width"].to_numpy() >= out["required"].to_numpy()
    out["shown_in"] = pd.Series(targets).map(shown_in).astype(object).where(
        pd.Series(targets).isin(shown_in.index), "").to_numpy(dtype=object)
    return out


_CHECK_COLUMNS = ["count", "unit", "period", "lower", "upper", "required", "protected"]


def _protected_flags(result: object) -> np.ndarray:
    """The ``protected`` column of an audit result as booleans; anything else refused (a
    string "False" or a NaN would read as protected)."""
    if not isinstance(result, pd.DataFrame):
        raise TypeError(f"check needs an audit() result or a Plan, got "
                        f"{type(result).__name__}")
    gone = [c for c in _CHECK_COLUMNS if c not in result.columns]
    if gone:
        raise ValueError(f"check needs an audit() result or a Plan; the frame has no "
                         f"column(s) {', '.join(gone)}")
    flags = result["protected"]
    if pd.api.types.is_bool_dtype(flags.dtype) and not flags.isna().any():
        return flags.to_numpy(dtype=bool)
    values = flags.to_numpy(dtype=object)
    wrong = np.flatnonzero([not isinstance(v, (bool, np.bool_)) for v in values])
    if len(wrong):
        j = int(wrong[0])
        raise ValueError(f"check needs the audit's protected column as True/False; row "
                         f"{j + 1} has {values[j]!r} ({len(wrong)} such row(s))")
    return values.astype(bool)


def check(result: pd.DataFrame | Plan, units: pd.DataFrame | None = None) -> None:
    """Refuse to publish: raise :class:`DisclosureError` naming every unprotected cell of an
    :func:`audit` result (or of a plan's ``unprotected``) with its interval.

    Raises
    ------
    DisclosureError
        A cell is not protected.
    ValueError, TypeError
        Not an audit result: a frame without its columns (an empty ``pd.DataFrame()``), a
        ``protected`` column that is not True/False (a string ``"False"``, NaN).

    Examples
    --------
    >>> ok = pd.DataFrame({"count": ["deaths_infant"], "unit": ["a"], "period": ["2024Q4"],
    ...                    "lower": [0.0], "upper": [4.0], "required": [4.0],
    ...                    "protected": [True], "shown_in": [""]})
    >>> check(ok)
    >>> check(ok.assign(lower=1.0, protected=False))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    fpanalysis.disclosure.DisclosureError: refusing to publish: 1 suppressed cell(s) ...: \
deaths_infant of a in 2024Q4 to 1..4 (needs a range of 4)
    """
    if isinstance(result, Plan):
        bad = result.unprotected.assign(shown_in="")
        if "required" not in bad.columns:
            bad["required"] = _required(result.threshold, result.protection)
    else:
        bad = result[~_protected_flags(result)]
    if bad.empty:
        return
    names = units.set_index("unit")["name"] if units is not None and "name" in units \
        else pd.Series(dtype=object)

    def _end(v: float) -> str:
        return "inf" if not np.isfinite(v) else f"{v:.0f}"

    parts = []
    for row in bad.itertuples(index=False):  # the cells named in the message
        who = f"{names.get(row.unit, row.unit)}" + (f" ({row.unit})" if row.unit in names
                                                   else "")
        shown = f", shown in {row.shown_in}" if getattr(row, "shown_in", "") else ""
        parts.append(f"{row.count} of {who} in {row.period} to {_end(row.lower)}.."
                     f"{_end(row.upper)} (needs a range of {row.required:.0f}{shown})")
    raise DisclosureError(f"refusing to publish: {len(parts)} suppressed cell(s) can be "
                          "narrowed by differencing the published tables: "
                          + "; ".join(parts))
