"""Year-end nowcast: project the full-year counts of every unit from the year to date, with a
predictive distribution, and derive the annual indicators, the probability of meeting each
annual target and the projected year-end share of milestone plans.

The model
---------
For each unit *u*, count column *c* (a flow: births, deaths, services done or due), year
*t* and month *m*, the monthly count is taken as over-dispersed Poisson around a seasonal
profile::

    y[u,t,m] ~ NB(mean = lambda[u,t] * s[u,m], variance = theta[u,c] * mean)

where ``s[u, 1..12]`` are the unit's seasonal shares (sum 1) and ``theta >= 1`` the column's
dispersion (1 = Poisson). With ``through`` = M months observed, the year-to-date count is
``X = sum(y[m <= M])`` and the share of the year's events expected by then is
``S = s[1] + ... + s[M]``. The point projection of the annual count is ``X / S``, i.e.
expected remaining = ``X * (1 - S) / S`` (a flat profile gives ``X * (12 - M) / M``).

*Seasonal profile* (from the earlier *complete* years of the counts: all 12 months present
and every needed cell filled; pooled over years):

1. County profile = the pooled monthly totals of every unit, shrunk toward the flat profile
   (1/12 a month) by a Dirichlet prior of :data:`FLAT_PSEUDO_EVENTS` (120) pseudo-events:
   ``s_county[m] = (Y[m] + 120/12) / (N + 120)``; negligible for a county with thousands of
   events, dominant where history is short or events are rare.
2. Unit profile = empirical-Bayes Dirichlet-multinomial shrinkage toward the county:
   ``s[u,m] = (Y[u,m] + theta[u] kappa s_county[m]) / (n[u] + theta[u] kappa)``, weight on
   the unit's own history ``n[u] / (n[u] + theta[u] kappa)`` (column ``profile_weight``).
   ``kappa`` is estimated by the method of moments from the Pearson X2 of each unit's
   monthly totals against the county profile, ``sum X2 / 11 = sum_u (theta[u] kappa +
   n[u]) / (kappa + 1)``, i.e. over-dispersion is not read as a difference of profile;
   when units differ no more than over-dispersed noise says, ``kappa`` is infinite and
   every unit takes the county profile (weight 0). With no unit holding two complete
   earlier years the dispersion cannot be told from profile differences: every unit takes
   the county profile and the dispersion, measured against it, absorbs them.
3. A unit without a complete earlier year takes the county profile (weight 0); when no unit
   has one (the first year of the data) the profile is flat. Either way a warning names the
   units and their ``note`` says so.

*Dispersion* ``theta`` (column ``dispersion``, per unit): ``variance = mean * (a + b *
mean)`` of a monthly count (``b = 0``: NB1; ``a = 1``: NB2), fitted by moments to the
squared Pearson residuals of the history before any unit profile is fitted: each complete
unit-year against the unit's own pooled profile scaled to that year's total (a contingency
table years x months per unit, ``(T - 1) * 11`` degrees of freedom: blind to differences
of profile between units), or, when no unit has two complete years, against the county
profile (``cells - unit-years - 11`` degrees of freedom). A unit's ``theta`` is taken at
its year-to-date monthly mean, never below the pooled mean of the squared residuals (the
slope is noisy) nor 1. With no history it is 1. Its estimation error
is carried into the draws: ``theta* = theta * df / chi2(df)`` on every draw (at least 1),
``df`` the degrees of freedom times ``2 mean(r2)^2 / var(r2)`` where the squared residuals
``r2`` have a heavier tail than chi2(1) (Satterthwaite), so a short or heavy-tailed history
widens the interval. (Before this, ``kappa`` read over-dispersion as
profile differences, the unit profiles over-fitted the noise and ``theta`` measured
against them fell toward 1: 95 % coverage 0.76-0.89 on simulated NB1 data.)

*Predictive draws* (``draws`` of them, seeded), for every unit at once:

* the share observed ``S* ~ Beta(c S, c (1 - S))`` with the profile's precision ``c`` =
  ``n[u] / theta[u] + kappa`` (the county's ``(N + 120) / theta`` when ``kappa`` is
  infinite, ``theta`` the history's event-weighted mean; for a unit without
  a complete earlier year at most 120, the flat prior's): uncertainty about the profile,
  widest without history;
* the annual rate ``lambda* ~ Gamma(X / theta + 1/2, scale theta / S*)`` (Jeffreys prior on
  the rate of the over-dispersed year-to-date count);
* the remaining count ``R ~ NB1(lambda* (1 - S*), theta)`` (Gamma-Poisson), so with
  ``theta = 1`` and a known profile ``R ~ NegBin(X + 1/2, S)``;
* the annual count ``X + R``. With ``through = 12`` nothing remains and the interval
  collapses to the observed count.

A numerator of a proportion (compliant births of births, services delivered of due) is
drawn by thinning its denominator's remaining count, ``Binomial(R_den, p*)`` with ``p* ~
Beta(x + 1/2, n - x + 1/2)`` from the year to date, so that it never exceeds it.

*Stocks* (population, women by age: :data:`fpanalysis.schema.STOCK_COLUMNS` and any user
rate's exposure) are projected, not drawn: the months after ``through`` continue the
straight line through the first and last observed months of the year (the last value when
one month is observed), clipped at 0; the annual stock is the day-weighted mean of the 12
months, as :func:`fpanalysis.periods.rollup` averages stocks. Planned or due figures
(``checkups_planned``, ``antenatal_due`` …) are monthly flows in the counts contract and
are projected like any other flow.

*Indicators* are computed on every draw by :func:`fpanalysis.indicators.compute` (units x
draws rows, period = the year), so their definitions are the registry's; the projected
value is the median of the draws, the predictive interval their quantiles.

Missing data are never filled in. A unit missing a month (or a cell of a needed column) of
the year to date, or without any row in the year, is not projected: it keeps its rows in
every output with missing values and probability, a note starting ``"not projected: "``
that names the months (``"not projected: 2024-05 missing from the year to date"``,
``"not projected: no report for 2024 in the counts"``) and a warning, as
:func:`fpanalysis.indicators.compute` keeps a unit that did not report. The model is fitted
to the other units as if it were not in the counts, so their projections are exactly those
of a run without it. An earlier year with a gap is left out of that unit's history, named
in its note and a warning; so is an earlier year with a month far off its other months
(at least :data:`FAR_OFF_FACTOR` times their median + 2: a count typed ten times over), so
that one typo distorts neither the unit's profile nor the county's. Text, booleans, negative
or infinite values in a count column, or a fraction in a flow, are a
:class:`~fpanalysis.schema.DataError` naming every cell (by unit and period). Unit codes are
compared as text stripped of spaces (a whole float loses its '.0'); a (unit, period)
repeated once so normalised is refused. A numerator of a proportion above its denominator in
the year to date (compliant births above births) is not projected, with a note.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Sequence
from numbers import Real

import numpy as np
import pandas as pd

from .. import indicators as ind
from .. import periods as pr
from ..schema import STOCK_COLUMNS, DataError, Problem, suggestion
from ..scheme import Scheme, Target

__all__ = [
    "FAR_OFF_FACTOR",
    "FLAT_PSEUDO_EVENTS",
    "backtest_nowcast",
    "nowcast",
    "project_counts",
    "project_milestones",
]

#: Pseudo-events of the flat prior on the county's seasonal profile (10 a month).
FLAT_PSEUDO_EVENTS = 120.0
#: A history month at least this many times the year's median month + 2 is far off (a typo):
#: its unit-year leaves the history, with a note and a warning.
FAR_OFF_FACTOR = 5.0
_METHOD = "nowcast_nb"
_MONTHS = 12


# --------------------------------------------------------------------------- arguments


def _check_common(draws: object, seed: object, confidence: object) -> tuple[float, ...]:
    if isinstance(draws, bool) or not isinstance(draws, int | np.integer) or draws < 100:
        raise ValueError(f"draws must be an integer of at least 100, got {draws!r}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    levels = (confidence,) if isinstance(confidence, int | float) else tuple(confidence)
    if not levels:
        raise ValueError("confidence must name at least one level, e.g. (0.8, 0.95)")
    for c in levels:
        if isinstance(c, bool) or not isinstance(c, int | float) or not 0 < c < 1:
            raise ValueError(f"confidence must be between 0 and 1 (exclusive), got {c!r}")
    return tuple(sorted({float(c) for c in levels}))


def _check_year(year: object) -> int:
    if isinstance(year, bool) or not isinstance(year, int | np.integer):
        raise ValueError(f"year must be an integer such as 2024, got {year!r}")
    return int(year)


def _through_month(year: int, through: object) -> int:
    """The last observed month (1..12) of ``year`` from an int or a period label."""
    if isinstance(through, bool):
        raise ValueError(f"through must be a month 1..12 or a period label, got {through!r}")
    if isinstance(through, int | np.integer):
        if not 1 <= through <= _MONTHS:
            raise ValueError(f"through must be a month 1..12 or a period label, got {through}")
        return int(through)
    p = pr.parse(through)
    if isinstance(p, pr.Dekad):
        raise ValueError(f"through must end with a whole month, got the dekad {p}")
    last = pr.months(p)[-1]
    if last.year != year:
        raise ValueError(f"through {p} does not end in the year {year}")
    return int(last.month)


def _file_of(counts: pd.DataFrame) -> str:
    report = counts.attrs.get("load_report")
    return str(report.get("file", "counts")) if isinstance(report, dict) else "counts"


def _indicators(indicators: Iterable[object] | None) -> list[ind.Indicator]:
    out = []
    for i in indicators:
        if isinstance(i, ind.Indicator):
            out.append(ind.get(i))
        elif isinstance(i, str) and i in ind.keys():
            out.append(ind.get(i))
        else:
            raise ValueError(f"unknown indicator {i!r}{suggestion(i, ind.keys())}")
    return list({i.key: i for i in out}.values())


# --------------------------------------------------------------------------- the panel


def _check_values(data: pd.DataFrame, columns: Sequence[str], file: str,
                  stocks: Sequence[str] = ()) -> pd.DataFrame:
    """``data`` with ``columns`` as numbers, or a DataError naming every cell that is text,
    a boolean, negative, infinite or (outside ``stocks``) not a whole number (by unit and
    period: a frame has no file rows)."""
    problems: list[Problem] = []
    numbers = {}
    for c in columns:  # a few count columns
        col = data[c]
        if pd.api.types.is_bool_dtype(col.dtype):
            problems.append(Problem(file, None, c, "true/false values, not counts"))
            continue
        if pd.api.types.is_numeric_dtype(col.dtype):
            values = col.to_numpy(dtype=float, na_value=np.nan)
            bad = np.zeros(len(col), dtype=bool)
        else:  # object: only real numbers (no text such as '10', no booleans) pass
            real = col.map(lambda v: isinstance(v, Real) and not isinstance(v, bool | np.bool_))
            filled = col.notna().to_numpy()
            bad = filled & ~real.to_numpy(dtype=bool)
            values = np.full(len(col), np.nan)
            values[filled & ~bad] = col[filled & ~bad].to_numpy(dtype=float)
        for i in np.flatnonzero(bad):  # the bad cells only
            problems.append(Problem(file, None, c, f"unit {data['unit'].iloc[i]}, "
                                    f"{data['period'].iloc[i]}: {col.iloc[i]!r} is not a "
                                    "number"))
        for i in np.flatnonzero(values < 0):  # the bad cells only
            problems.append(Problem(file, None, c, f"unit {data['unit'].iloc[i]}, "
                                    f"{data['period'].iloc[i]}: negative count "
                                    f"({values[i]:g})"))
        for i in np.flatnonzero(np.isinf(values) & (values > 0)):  # the bad cells only
            problems.append(Problem(file, None, c, f"unit {data['unit'].iloc[i]}, "
                                    f"{data['period'].iloc[i]}: {values[i]:g} is not a "
                                    "finite count"))
        if c not in stocks:
            with np.errstate(invalid="ignore"):
                frac = np.isfinite(values) & (values != np.round(values))
            for i in np.flatnonzero(frac):  # the bad cells only
                problems.append(Problem(file, None, c, f"unit {data['unit'].iloc[i]}, "
                                        f"{data['period'].iloc[i]}: {values[i]:g} is not a "
                                        "whole count"))
        if not pd.api.types.is_numeric_dtype(col.dtype):
            numbers[c] = values
    if problems:
        raise DataError(problems)
    return data.assign(**numbers) if numbers else data


def _codes(units: pd.Series) -> pd.Series:
    """Unit codes as text without surrounding spaces, a whole float without its '.0'."""
    return units.astype(str).str.strip().str.replace(r"^(\d+)\.0$", r"\1", regex=True)


def _entry(counts: object) -> pd.DataFrame:
    """The counts of a public function: a non-empty frame, unit codes normalised."""
    if not isinstance(counts, pd.DataFrame):
        raise TypeError(f"counts must be a pandas DataFrame, got {type(counts).__name__}")
    if counts.empty:
        raise ValueError("counts are empty: there is nothing to project")
    return _normalise_units(counts)


def _normalise_units(counts: pd.DataFrame) -> pd.DataFrame:
    """``counts`` (a copy where needed) with normalised unit codes (:func:`_codes`); a
    (unit, period) repeated once normalised is refused, naming it."""
    if not isinstance(counts, pd.DataFrame) or "unit" not in counts.columns:
        return counts
    codes = _codes(counts["unit"])
    if "period" in counts.columns:
        dup = pd.DataFrame({"unit": codes, "period": counts["period"]}).duplicated(keep=False)
        if dup.any():
            first = dup.to_numpy().argmax()
            raise ValueError(f"counts have duplicate rows for (unit, period) once unit codes "
                             f"are stripped of spaces and '.0', e.g. ({codes.iloc[first]}, "
                             f"{counts['period'].iloc[first]})")
    if codes.equals(counts["unit"]):
        return counts
    return counts.assign(unit=codes)


class _Panel:
    """The counts of ``columns`` as arrays units x years x 12 months (NaN where absent)."""

    def __init__(self, counts: pd.DataFrame, columns: Sequence[str], year: int, through: int,
                 also: Sequence[str] = (), stocks: Sequence[str] = (),
                 pairs: dict[str, str] | None = None):
        if not isinstance(counts, pd.DataFrame):
            raise TypeError(f"counts must be a pandas DataFrame, got {type(counts).__name__}")
        counts = _normalise_units(counts)
        for key in ("unit", "period"):
            if key not in counts.columns:
                raise ValueError(f"counts have no column {key!r}")
        if counts.empty:
            raise ValueError("counts are empty: there is nothing to project")
        if counts["period"].dtype != "period[M]":
            raise ValueError("the nowcast needs monthly counts (a period[M] column, as "
                             "load_counts gives for monthly data)")
        data = counts
        derived = "births" in columns and "births" not in data.columns \
            and {"births_male", "births_female"} <= set(data.columns)
        needed = [c for c in dict.fromkeys(columns) if not (derived and c == "births")]
        absent = [c for c in needed if c not in data.columns]
        if absent:
            raise ValueError("counts lack the column(s) " + ", ".join(
                f"{c!r}{suggestion(c, data.columns)}" for c in absent))
        if derived:
            needed += [c for c in ("births_male", "births_female") if c not in needed]
        data = _check_values(data, needed, _file_of(counts), stocks)
        if derived:
            data = data.assign(births=data["births_male"] + data["births_female"])
        if data.duplicated(["unit", "period"]).any():
            first = data.loc[data.duplicated(["unit", "period"]), ["unit", "period"]].iloc[0]
            raise ValueError(f"counts have duplicate rows for (unit, period), e.g. "
                             f"({first['unit']}, {first['period']})")
        years = data["period"].dt.year.to_numpy()
        month = data["period"].dt.month.to_numpy()
        present_years = sorted(set(years.tolist()))
        if year not in present_years:
            raise ValueError(f"no counts for the year {year} (the counts cover "
                             f"{present_years[0]}-{present_years[-1]})")
        last = data.loc[years == year, "period"].max()
        if last.month < through:
            raise ValueError(f"through {year}-{through:02d} is beyond the data: the counts of "
                             f"{year} end at {last}")
        self.file = _file_of(counts)
        self.year, self.through = year, through
        self.hist_years = [y for y in present_years if y < year]
        keep = (years < year) | ((years == year) & (month <= through))
        # ``also``: units of the units table without any counts; they get rows, not projected
        present_codes = data["unit"].astype(str).to_numpy()
        units = np.unique(np.concatenate([present_codes, np.asarray(also, dtype=str)]))
        codes = np.searchsorted(units, present_codes)
        # index of each row's year among hist_years + [year] (later years are not kept)
        yi = np.searchsorted(np.array(self.hist_years + [year]), years)
        n_u, n_y = len(units), len(self.hist_years) + 1
        present = np.zeros((n_u, n_y, _MONTHS), dtype=bool)
        present[codes[keep], yi[keep], month[keep] - 1] = True
        values: dict[str, np.ndarray] = {}
        for c in dict.fromkeys(columns):
            arr = np.full((n_u, n_y, _MONTHS), np.nan)
            arr[codes[keep], yi[keep], month[keep] - 1] = data.loc[keep, c].to_numpy(
                dtype=float, na_value=np.nan)
            values[c] = arr
        filled = present.copy()
        for arr in values.values():
            filled &= ~np.isnan(arr)
        reported = np.zeros(n_u, dtype=bool)
        reported[codes[years == year]] = True
        #: every unit of the counts; ``ok`` marks those whose year to date is complete
        self.all_units = units.astype(object)
        self.ok = filled[:, -1, :through].all(axis=1)
        self.skip_note, self.skipped = self._gaps_ytd(present, values, filled, reported)
        for num, den in (pairs or {}).items():  # a few proportions
            x_num = values[num][:, -1, :through].sum(axis=1)
            x_den = values[den][:, -1, :through].sum(axis=1)
            over = self.ok & (x_num > x_den)
            for u in np.flatnonzero(over):  # the inconsistent units only
                why = (f"{num} ({x_num[u]:g}) exceed {den} ({x_den[u]:g}) in the year to "
                       "date")
                self.skip_note[u] = f"not projected: {why}"
                self.skipped.append(f"{units[u]} ({why})")
            self.ok = self.ok & ~over
        # the model sees the complete units only, as if the others were not in the counts
        self.units = self.all_units[self.ok]
        self.present = present[self.ok]
        self.values = {c: arr[self.ok] for c, arr in values.items()}
        self.complete = filled[self.ok, :-1, :].all(axis=2)  # units x history years
        self.far = self._far_off([c for c in self.values if c not in stocks])

    def _far_off(self, flows: Sequence[str]) -> np.ndarray:
        """Notes (units x history years, '' where fine) of the complete unit-years holding a
        month far off the year's other months (at least :data:`FAR_OFF_FACTOR` times their
        median + 2, e.g. a count typed ten times over); these years leave the history (the
        county's profile and dispersion too), so one typo cannot distort every unit."""
        note = np.full(self.complete.shape, "", dtype=object)
        for c in flows:  # a few count columns
            arr = np.where(self.complete[:, :, None], self.values[c][:, :-1, :], np.nan)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN unit-years
                med = np.nanmedian(arr, axis=2)
            far = arr >= FAR_OFF_FACTOR * (med[:, :, None] + 2)
            for u, j, m in zip(*np.nonzero(far), strict=True):  # the far-off cells only
                add = (f"{c} {self.hist_years[j]}-{m + 1:02d} ({arr[u, j, m]:g}) far off the "
                       f"year's other months (median {med[u, j]:g})")
                note[u, j] = add if note[u, j] == "" else note[u, j] + ", " + add
        self.complete &= note == ""
        return note

    def _gaps_ytd(self, present: np.ndarray, values: dict[str, np.ndarray],
                  filled: np.ndarray, reported: np.ndarray) -> tuple[np.ndarray, list[str]]:
        """Note (all units, '' where complete) naming the months absent or with empty cells
        in the year to date, and the same as short texts for the warning."""
        note = np.full(len(self.all_units), "", dtype=object)
        short = []
        for u in np.flatnonzero(~self.ok):  # the incomplete units only
            if not reported[u]:
                note[u] = f"not projected: no report for {self.year} in the counts"
                short.append(f"{self.all_units[u]} (no report for {self.year})")
                continue
            months = np.flatnonzero(~filled[u, -1, :self.through])
            absent = [f"{self.year}-{m + 1:02d}" for m in months if not present[u, -1, m]]
            empty = [f"{self.year}-{m + 1:02d} ("
                     + ", ".join(c for c, arr in values.items() if np.isnan(arr[u, -1, m]))
                     + ")" for m in months if present[u, -1, m]]
            parts = []
            if absent:
                parts.append(f"{', '.join(absent)} missing from the year to date")
            if empty:
                parts.append(f"empty count cells in {', '.join(empty)}")
            note[u] = "not projected: " + "; ".join(parts)
            short.append(f"{self.all_units[u]} ({'; '.join(parts)})")
        return note, short

    def ytd(self, column: str) -> np.ndarray:
        return self.values[column][:, -1, :self.through]

    def history(self, column: str) -> np.ndarray:
        """History counts, NaN outside the complete unit-years."""
        arr = self.values[column][:, :-1, :]
        return np.where(self.complete[:, :, None], arr, np.nan)

    def notes(self) -> tuple[np.ndarray, list[str]]:
        """Per-unit notes on the history and the units without any complete earlier year."""
        note = np.full(len(self.units), "", dtype=object)
        n_hist = self.complete.sum(axis=1)
        none_at_all = not self.complete.any()
        fresh = n_hist == 0
        text = ("no earlier complete year in the counts: flat seasonal profile"
                if none_at_all else "no earlier complete year: county seasonal profile")
        note[fresh] = text
        far = self.far != ""
        gaps = ~self.complete & self.present[:, :-1, :].any(axis=2) & ~far
        for j, y in enumerate(self.hist_years):  # a few history years
            hit = gaps[:, j]
            if hit.any():
                add = f"{y} left out of the history: months or cells missing"
                note[hit] = np.where(note[hit] == "", add, note[hit] + "; " + add)
            hit = far[:, j]
            if hit.any():
                add = f"{y} left out of the history: " + self.far[hit, j]
                note[hit] = np.where(note[hit] == "", add, note[hit] + "; " + add)
        self.far_off = [f"{self.units[u]} ({self.far[u, j]})"
                        for u, j in zip(*np.nonzero(far), strict=True)]  # the far-off only
        self.gaps = [f"{self.units[u]} ({self.hist_years[j]})"
                     for u, j in zip(*np.nonzero(gaps), strict=True)]  # the gaps only
        return note, [str(u) for u in self.units[fresh]]


# --------------------------------------------------------------------------- the model


class _Profile:
    """Seasonal profile, its precision and the dispersion of one column (see module doc)."""

    def __init__(self, hist: np.ndarray, has_history: np.ndarray):
        n_u = hist.shape[0]
        by_month = np.nansum(hist, axis=1)  # units x 12
        n = by_month.sum(axis=1)
        county = by_month.sum(axis=0)
        total = county.sum()
        flat = np.full(_MONTHS, 1.0 / _MONTHS)
        self.county = (county + FLAT_PSEUDO_EVENTS / _MONTHS) / (total + FLAT_PSEUDO_EVENTS)
        self.any_history = bool(has_history.any())
        if not self.any_history:
            self.county = flat
        # dispersion first (it does not depend on the unit profiles), then kappa from X2/theta
        self.pooled = 1.0
        self.a, self.b, self.df, self.within = self._dispersion(hist, by_month)
        years = np.isfinite(hist.sum(axis=2)).sum(axis=1)
        theta_hist = self.theta_at(np.where(years > 0, n / np.maximum(years, 1) / _MONTHS, 0))
        used = has_history & (n > 0)
        expected = n[used, None] * self.county[None, :]
        x2 = ((by_month[used] - expected) ** 2 / expected).sum()
        a, n_sum, t_sum = x2 / (_MONTHS - 1), n[used].sum(), theta_hist[used].sum()
        # E[X2 / 11] = sum_u (theta_u kappa + n_u) / (kappa + 1); with one history year the
        # dispersion is measured against the county profile and absorbs any unit differences
        if not self.within or not used.any() or a <= t_sum:
            kappa = math.inf
        elif a >= n_sum:
            kappa = 0.0
        else:
            kappa = (n_sum - a) / (a - t_sum)
        self.kappa = kappa
        if math.isinf(kappa):
            self.shares = np.tile(self.county, (n_u, 1))
            self.weight = np.zeros(n_u)
            pooled = (theta_hist[used] * n[used]).sum() / n_sum if n_sum > 0 else 1.0
            county_precision = (total + FLAT_PSEUDO_EVENTS) / pooled if self.any_history \
                else FLAT_PSEUDO_EVENTS
            self.precision = np.full(n_u, county_precision)
        else:
            prior = theta_hist * kappa  # the county's pseudo-events, in events
            with np.errstate(invalid="ignore", divide="ignore"):  # kappa = 0, no history
                own = (by_month + prior[:, None] * self.county) / (n + prior)[:, None]
                self.weight = np.where(n + prior > 0, n / (n + prior), 0.0)
            self.shares = np.where((n + prior > 0)[:, None], own, self.county[None, :])
            self.precision = n / theta_hist + kappa
        # a unit without history knows its own profile no better than the flat prior's
        # pseudo-events would tell: its interval is the wider for it
        fresh = ~has_history
        self.precision = np.maximum(np.where(
            fresh, np.minimum(self.precision, FLAT_PSEUDO_EVENTS), self.precision), 1.0)

    def theta_at(self, monthly_mean: np.ndarray) -> np.ndarray:
        """Dispersion (variance / mean) of a monthly count with this mean: the fitted line,
        never below the pooled (mean) dispersion nor 1 (the slope is noisy: a unit smaller
        than most is not given a narrower interval on its strength)."""
        line = self.a + self.b * np.asarray(monthly_mean, dtype=float)
        return np.maximum(max(1.0, self.pooled), line)

    def _dispersion(self, hist: np.ndarray,
                    by_month: np.ndarray) -> tuple[float, float, int, bool]:
        """``variance = mean * (a + b * mean)`` fitted by moments to the Pearson residuals of
        the history, its degrees of freedom and whether they are within units.

        With a unit holding two or more complete years the residuals are those of each
        unit-year against the unit's own pooled profile (a contingency table years x months
        per unit: ``(T - 1) * 11`` degrees of freedom), which is blind to differences of
        profile between units; else against the county profile (``cells - unit-years -
        11``), which takes such differences for dispersion (wider, never narrower)."""
        annual = hist.sum(axis=2)  # NaN outside complete unit-years
        years = (np.isfinite(annual) & (annual > 0)).sum(axis=1)
        within = bool((years >= 2).any())
        if within:
            n = by_month.sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                own = np.where(n[:, None] > 0, by_month / n[:, None], 0.0)
            e = annual[:, :, None] * own[:, None, :]
            months = (own > 0).sum(axis=1)
            df_u = np.where(years >= 2, (years - 1) * np.maximum(months - 1, 0), 0)
            cells_u = years * months
            with np.errstate(invalid="ignore", divide="ignore"):
                scale_u = np.where(df_u > 0, cells_u / np.maximum(df_u, 1), 0.0)
            scale = np.broadcast_to(scale_u[:, None, None], e.shape)
            df = int(df_u.sum())
        else:
            e = annual[:, :, None] * self.county[None, None, :]
            cells = int((np.isfinite(e) & (e > 0)).sum())
            df = cells - int((years > 0).sum()) - (_MONTHS - 1)
            scale = np.full(e.shape, cells / df if df > 0 else 0.0)
        ok = np.isfinite(e) & (e > 0) & (scale > 0)
        if not ok.any() or df <= 0:
            return 1.0, 0.0, 0, within
        r2 = (hist[ok] - e[ok]) ** 2 / e[ok] * scale[ok]  # E[r2] ~ a + b * e
        mu = e[ok]
        a, b = r2.mean(), 0.0
        self.pooled = float(a)
        var_mu = ((mu - mu.mean()) ** 2).mean()
        if var_mu > 0:
            b = ((mu - mu.mean()) * (r2 - a)).mean() / var_mu
            a = a - b * mu.mean()
            if b < 0:
                a, b = r2.mean(), 0.0
            elif a < 1:  # theta >= 1 at every mean: refit the slope through (0, 1)
                a, b = 1.0, max(0.0, float(((r2 - 1) * mu).sum() / (mu ** 2).sum()))
        # Satterthwaite: squared residuals with a heavier tail than chi2(1) carry fewer
        # effective degrees of freedom (var of chi2(1) / mean^2 is 2)
        spread = r2.var() / r2.mean() ** 2 if r2.mean() > 0 else 2.0
        df_eff = max(1, int(df * min(1.0, 2.0 / spread))) if spread > 0 else df
        return max(1.0, float(a)), float(b), df_eff, within


def _flow_draws(x: np.ndarray, share: np.ndarray, precision: np.ndarray, theta: np.ndarray,
                df: int, rng: np.random.Generator, draws: int) -> np.ndarray:
    """Annual counts (units x draws) from the year-to-date counts ``x``; ``theta`` (one per
    unit) is estimated on ``df`` degrees of freedom and drawn as ``theta * df / chi2(df)``
    (at least 1) so that a short history widens the interval."""
    n_u = len(x)
    size = (n_u, draws)
    open_ = share < 1
    s = np.broadcast_to(share[:, None], size).copy()
    drawn = open_ & np.isfinite(precision)
    if drawn.any():
        a = np.where(drawn, precision * share, 1.0)[:, None]
        b = np.where(drawn, precision * (1 - share), 1.0)[:, None]
        s = np.where(drawn[:, None], rng.beta(a, b, size), s)
    s = np.clip(s, 1e-9, 1.0)
    th = np.broadcast_to(np.asarray(theta, dtype=float)[:, None], size)
    if df > 0:
        th = np.maximum(1.0, th * df / rng.chisquare(df, (1, draws)))
    rate = rng.gamma(x[:, None] / th + 0.5, th / s, size)
    mean = np.where(open_[:, None], rate * (1 - s), 0.0)
    extra = th > 1
    if extra.any():
        t1 = np.where(extra, th - 1, 1.0)
        mean = np.where(extra, rng.gamma(mean / t1, t1, size), mean)
    return x[:, None] + rng.poisson(mean).astype(float)


def _thin(x_num: np.ndarray, x_den: np.ndarray, den_annual: np.ndarray,
          rng: np.random.Generator) -> np.ndarray:
    """Annual numerator: year-to-date numerator + Binomial(remaining denominator, p*)."""
    x_num = np.minimum(x_num, x_den)
    p = rng.beta((x_num + 0.5)[:, None], (x_den - x_num + 0.5)[:, None], den_annual.shape)
    rest = np.maximum(den_annual - x_den[:, None], 0).astype(np.int64)
    return x_num[:, None] + rng.binomial(rest, p).astype(float)


def _stock_annual(obs: np.ndarray, year: int) -> np.ndarray:
    """Day-weighted annual mean of a stock, the later months on the year's straight line."""
    m = obs.shape[1]
    days = pd.period_range(f"{year}-01", f"{year}-12", freq="M").days_in_month.to_numpy(
        dtype=float)
    slope = (obs[:, -1] - obs[:, 0]) / (m - 1) if m > 1 else np.zeros(len(obs))
    ahead = np.arange(1, _MONTHS - m + 1, dtype=float)
    future = np.maximum(obs[:, -1:] + slope[:, None] * ahead[None, :], 0.0)
    full = np.concatenate([obs, future], axis=1)
    return (full * days).sum(axis=1) / days.sum()


class _Projection:
    """Projected annual counts of every unit: draws of the flows, the stocks."""

    def __init__(self, counts: pd.DataFrame, *, year: int, through: int,
                 flows: Sequence[str], stocks: Sequence[str],
                 thinned: dict[str, str], seed: int, draws: int, also: Sequence[str] = ()):
        self.panel = _Panel(counts, list(flows) + list(stocks), year, through, also,
                            stocks=stocks, pairs=thinned)
        model_note, self.fresh = self.panel.notes()
        #: every unit of the counts, and which of them are projected (complete year to date);
        #: the arrays of draws, counts and profiles below hold the projected units only
        self.units, self.ok = self.panel.all_units, self.panel.ok
        self.note = self.panel.skip_note.copy()
        self.note[self.ok] = model_note
        rng = np.random.default_rng(seed)
        self.draws: dict[str, np.ndarray] = {}
        self.expected: dict[str, np.ndarray] = {}
        self.ytd: dict[str, np.ndarray] = {}
        self.profile: dict[str, _Profile] = {}
        self.share: dict[str, np.ndarray] = {}
        self.theta: dict[str, np.ndarray] = {}
        has = self.panel.complete.any(axis=1)
        order = [c for c in flows if c not in thinned] + [c for c in flows if c in thinned]
        for c in order:  # a loop over count columns
            x = self.panel.ytd(c).sum(axis=1)
            prof = _Profile(self.panel.history(c), has)
            share = prof.shares[:, :through].sum(axis=1)
            self.profile[c], self.share[c], self.ytd[c] = prof, share, x
            self.expected[c] = x / share
            den = thinned.get(c)
            if den is not None and den in self.draws:
                self.draws[c] = _thin(x, self.ytd[den], self.draws[den], rng)
            else:
                self.theta[c] = prof.theta_at(x / through)
                self.draws[c] = _flow_draws(x, share, prof.precision, self.theta[c], prof.df,
                                            rng, draws)
        self.stocks = {c: _stock_annual(self.panel.ytd(c), year) for c in stocks}
        self.n_draws = draws

    def full(self, values: np.ndarray, fill: object = np.nan) -> np.ndarray:
        """``values`` of the projected units (first axis) spread over every unit, ``fill``
        for those not projected."""
        shape = (len(self.units),) + values.shape[1:]
        dtype = object if isinstance(fill, str) else np.result_type(values, type(fill))
        out = np.full(shape, fill, dtype=dtype)
        out[self.ok] = values
        return out

    def warn(self) -> None:
        """Warn of the units not projected, left out of the history or without one."""
        if self.panel.skipped:
            warnings.warn("unit(s) not projected for a gap in the year to date (their rows "
                          "are kept with missing values): " + ", ".join(self.panel.skipped),
                          UserWarning, stacklevel=3)
        if self.panel.gaps:
            warnings.warn("earlier year(s) with missing months or cells left out of the "
                          "seasonal history: " + ", ".join(self.panel.gaps), UserWarning,
                          stacklevel=3)
        if self.panel.far_off:
            warnings.warn("earlier year(s) with a month far off the year's other months left "
                          "out of the seasonal history (check for a typo): "
                          + ", ".join(self.panel.far_off), UserWarning, stacklevel=3)
        if self.fresh:
            warnings.warn("no earlier complete year for unit(s) " + ", ".join(self.fresh)
                          + ": projected on the county's (or a flat) seasonal profile, with "
                          "a wider interval", UserWarning, stacklevel=3)


def _columns(chosen: Sequence[ind.Indicator]) -> tuple[list[str], list[str], dict[str, str]]:
    """Flow and stock columns the indicators need, and the proportion numerators drawn by
    thinning their denominator."""
    needed = list(dict.fromkeys(c for i in chosen for c in i.columns))
    exposures = {i.exposure for i in chosen if i.exposure}
    stocks = [c for c in needed if c in STOCK_COLUMNS or c in exposures]
    flows = [c for c in needed if c not in stocks]
    thinned: dict[str, str] = {}
    for i in chosen:
        if i.kind == "proportion" and len(i.numerator) == 1 and len(i.denominator) == 1:
            num, den = i.numerator[0], i.denominator[0]
            if num not in thinned and den not in thinned and num != den:
                thinned[num] = den
    return flows, stocks, thinned


def _quantiles(x: np.ndarray, levels: Sequence[float]) -> dict[str, np.ndarray]:
    """Median and equal-tailed predictive limits over axis 1 (sample values, no
    interpolation, so an infinite sex ratio stays infinite)."""
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows give NaN
        out["median"] = np.nanquantile(x, 0.5, axis=1, method="inverted_cdf")
        for c in levels:
            a = (1 - c) / 2
            out[f"lower_{c:g}"] = np.nanquantile(x, a, axis=1, method="inverted_cdf")
            out[f"upper_{c:g}"] = np.nanquantile(x, 1 - a, axis=1, method="inverted_cdf")
    return out


# --------------------------------------------------------------------------- public


def project_counts(
    counts: pd.DataFrame,
    *,
    year: int,
    through: object,
    columns: Sequence[str] = ("births", "deaths"),
    units: pd.DataFrame | None = None,
    seed: int = 0,
    draws: int = 4000,
    confidence: float | Sequence[float] = (0.8, 0.95),
) -> pd.DataFrame:
    """Project the full-year counts of every unit from the year to date.

    See the module docstring for the model. Every column is a flow projected on its own
    (no thinning).

    Parameters
    ----------
    counts : pandas.DataFrame
        Monthly counts of all units over several years (:func:`fpanalysis.io.load_counts`).
    year : int
        The year projected.
    through : int or period label
        The last observed month of ``year`` (``6``, ``"2024-06"``, ``"2024Q2"``); later
        months in the counts are ignored.
    columns : sequence of str, default ('births', 'deaths')
        Flow count columns to project.
    units : pandas.DataFrame, optional
        The units table (:func:`fpanalysis.io.load_units`): its units at the level of the
        counts' units that have no counts at all get rows too, not projected (as
        :func:`fpanalysis.indicators.compute` gives every unit of the table a row).
    seed : int, default 0
    draws : int, default 4000
    confidence : float or sequence of float, default (0.8, 0.95)

    Returns
    -------
    pandas.DataFrame
        One row per unit and column: ``unit``, ``period`` (the year), ``through`` (the last
        month observed), ``column``, ``observed`` (year to date), ``share_observed`` (the
        profile's share of the year by ``through``), ``expected`` (``observed /
        share_observed``), ``median``, ``lower_<c>``, ``upper_<c>`` for each confidence
        ``c``, ``profile_weight`` (weight of the unit's own history in its profile),
        ``dispersion`` (the unit's theta), ``draws``, ``method`` and ``note``. A unit not
        projected (a gap in the year to date, see :func:`nowcast`) keeps its rows with every
        value missing and its note.

    Examples
    --------
    >>> m = pd.period_range("2023-01", "2024-12", freq="M")
    >>> c = pd.DataFrame({"unit": "A", "period": m, "deaths": 10})
    >>> r = project_counts(c, year=2024, through=3, columns=["deaths"])
    >>> r[["unit", "observed", "share_observed", "expected", "dispersion"]]
      unit  observed  share_observed  expected  dispersion
    0    A      30.0            0.25     120.0         1.0
    """
    levels = _check_common(draws, seed, confidence)
    counts = _entry(counts)
    year = _check_year(year)
    m = _through_month(year, through)
    columns = list(dict.fromkeys([columns] if isinstance(columns, str) else columns))
    stocks = [c for c in columns if c in STOCK_COLUMNS]
    if stocks:
        raise ValueError(f"{', '.join(stocks)} are stocks, not counts of events: they are "
                         "projected with the indicators that use them")
    proj = _Projection(counts, year=year, through=m, flows=columns, stocks=[], thinned={},
                       seed=int(seed), draws=int(draws), also=_unreported(units, counts))
    proj.warn()
    parts = []
    for c in columns:  # a loop over columns
        q = {k: proj.full(v) for k, v in _quantiles(proj.draws[c], levels).items()}
        prof = proj.profile[c]
        parts.append(pd.DataFrame({
            "unit": proj.units, "period": str(year), "through": f"{year}-{m:02d}",
            "column": c, "observed": proj.full(proj.ytd[c]),
            "share_observed": proj.full(proj.share[c]),
            "expected": proj.full(proj.expected[c]), **q,
            "profile_weight": proj.full(prof.weight), "dispersion": proj.full(proj.theta[c]),
            "draws": int(draws), "method": _METHOD, "note": proj.note}))
    return pd.concat(parts, ignore_index=True)


def _draw_frame(proj: _Projection, year: int) -> pd.DataFrame:
    """One row per unit and draw (unit = row code) with the annual counts and stocks."""
    n_u, d = int(proj.ok.sum()), proj.n_draws
    # flows as integers: an all-float frame trips compute (see the report to the lead)
    cols = {c: v.reshape(-1).astype(np.int64) for c, v in proj.draws.items()}
    cols.update({c: np.repeat(v, d) for c, v in proj.stocks.items()})
    frame = pd.DataFrame(cols)
    frame.insert(0, "unit", np.arange(n_u * d))
    frame.insert(1, "period", pd.PeriodIndex([pd.Period(year=year, freq="Y")] * (n_u * d)))
    return frame


def _indicator_draws(proj: _Projection, year: int,
                     chosen: Sequence[ind.Indicator]) -> tuple[np.ndarray, np.ndarray]:
    """Indicator values on every draw and whether the draw's numerator and denominator
    are both 0, units x draws x indicators (NaN and False for the units not projected)."""
    n_u, d, n_i = int(proj.ok.sum()), proj.n_draws, len(chosen)
    values, empty = np.full((n_u, d, n_i), np.nan), np.zeros((n_u, d, n_i), dtype=bool)
    if n_u:
        result = ind.compute(_draw_frame(proj, year), list(chosen), by=("unit",))
        values = result["value"].to_numpy(dtype=float).reshape(n_u, d, n_i)
        empty = ((result["numerator"].to_numpy(dtype=float) == 0)
                 & (result["denominator"].to_numpy(dtype=float) == 0)).reshape(n_u, d, n_i)
    return proj.full(values), proj.full(empty, False)


def _levels(units: pd.DataFrame, counts: pd.DataFrame) -> tuple[dict[str, str], set[str]]:
    """Level of every unit of the table, and the levels of the counts' units."""
    if not isinstance(counts, pd.DataFrame):
        raise TypeError(f"counts must be a pandas DataFrame, got {type(counts).__name__}")
    if not isinstance(units, pd.DataFrame) or not {"unit", "level"} <= set(units.columns):
        raise ValueError("units must be the units table (load_units), with columns 'unit' "
                         "and 'level'")
    level = dict(zip(units["unit"].astype(str).str.strip(), units["level"], strict=False))
    codes = np.unique(counts["unit"].astype(str).to_numpy()) if "unit" in counts else []
    unknown = sorted({str(u) for u in codes} - set(level))
    if unknown:
        raise ValueError(f"counts have unit codes that are not in the units table: "
                         f"{', '.join(unknown[:10])}")
    return level, {level[str(u)] for u in codes}


def _unreported(units: pd.DataFrame | None, counts: pd.DataFrame) -> list[str]:
    """Units of the table at the counts' level(s) that have no counts at all."""
    if units is None:
        return []
    level, levels = _levels(units, counts)
    codes = set(counts["unit"].astype(str)) if "unit" in counts else set()
    return sorted(u for u, lv in level.items() if lv in levels and u not in codes)


def _targets_for(scheme: Scheme, year: int, units: pd.DataFrame | None,
                 counts: pd.DataFrame) -> list[Target]:
    """The scheme's annual (year or ytd scope) targets for these units' level."""
    chosen = [t for t in scheme.targets if t.applies_to(str(year))]
    leveled = [t for t in chosen if t.level]
    if leveled and units is None:
        raise ValueError(f"target {leveled[0].number} ({leveled[0].indicator}) applies to "
                         f"{leveled[0].level} units only: pass units= so that levels are known")
    if units is not None:
        _, levels = _levels(units, counts)
        chosen = [t for t in chosen if not t.level or t.level in levels]
    return chosen


def nowcast(
    counts: pd.DataFrame,
    *,
    year: int,
    through: object,
    targets: Scheme | None = None,
    indicators: Iterable[str | ind.Indicator] | None = None,
    units: pd.DataFrame | None = None,
    seed: int = 0,
    draws: int = 4000,
    confidence: float | Sequence[float] = (0.8, 0.95),
) -> pd.DataFrame:
    """Project every unit's annual indicators from the year to date, with predictive
    intervals and the probability of meeting each annual target.

    The counts of the year to date are projected to the full year (module docstring: a
    seasonal profile from earlier complete years, negative-binomial draws with the
    dispersion estimated from history), and each indicator is computed on every draw by
    :func:`fpanalysis.indicators.compute`.

    Parameters
    ----------
    counts : pandas.DataFrame
        Monthly counts of every unit over several years (:func:`fpanalysis.io.load_counts`):
        the year projected up to ``through`` and earlier complete years as history. Not
        modified.
    year : int
        The year projected.
    through : int or period label
        Last observed month of ``year``: ``6``, ``"2024-06"``, ``"2024Q2"`` or ``"2024H1"``.
        Months after it (and later years) are ignored, so the counts may run further.
    targets : Scheme, optional
        From :func:`fpanalysis.scheme.load_targets`. Its targets that apply to the year
        (scope ``year`` or ``ytd``) and are computed from counts get the probability of
        being met; their indicators are projected even when not listed in ``indicators``.
        Milestone targets are projected by :func:`project_milestones`.
    indicators : iterable of str or Indicator, optional
        Indicator keys or user indicators. Default: the targets' indicators, or without
        ``targets`` every built-in indicator whose columns the counts have.
    units : pandas.DataFrame, optional
        The units table; needed when targets name a ``level`` (only the targets of the
        counts' level apply). Its units at the level of the counts' units that have no
        counts at all get rows too, not projected (note ``"not projected: no report for
        <year> in the counts"``).
    seed : int, default 0
    draws : int, default 4000
        Predictive draws (at least 100).
    confidence : float or sequence of float, default (0.8, 0.95)
        Levels of the equal-tailed predictive intervals.

    Returns
    -------
    pandas.DataFrame
        One row per unit and indicator, and per applicable target where an indicator has
        several: ``unit``, ``period`` (the year), ``through`` (the last month observed),
        ``indicator``, ``observed`` (the year-to-date value, annualized as
        :func:`~fpanalysis.indicators.compute` gives it), ``value`` (the projected annual
        value: median of the draws), ``lower_<c>`` and ``upper_<c>`` for each confidence
        ``c`` (e.g. ``lower_0.95``), ``multiplier``, ``target`` (number, ``<NA>`` without
        one), ``label``, ``op``, ``threshold`` (the unit's own where overridden),
        ``baseline`` (a compare target's previous value), ``probability`` (share of draws
        meeting the target: a draw without a value, e.g. no births, counts as not met
        unless the target's ``when_empty`` is ``'met'``), ``draws``, ``method`` and
        ``note`` (why a value is missing or uncertain: ``"not projected: 2024-05 missing
        from the year to date"``, no history, a year left out, a target that cannot be
        projected). Every unit of the counts has its rows, a unit not projected with
        missing ``observed``, ``value``, limits and ``probability`` (its ``threshold`` and
        ``baseline`` are given). Sorted by unit, indicator order and target.

    Raises
    ------
    DataError
        Text, booleans or negative values in a needed count column (every cell named by
        unit and period). A unit missing a month or a cell of the year to date is not an
        error: its rows have missing values and a note ``"not projected: ..."``.
    ValueError
        Unknown indicator (with the nearest name), a year not in the counts, ``through``
        beyond the data or outside the year, counts that are not monthly, missing columns,
        bad ``draws``, ``seed`` or ``confidence``; targets with a ``level`` and no units.

    Warns
    -----
    UserWarning
        Naming the units not projected for a gap in the year to date, the units without
        any earlier complete year (county or flat profile), and the units and earlier years
        left out of the history for a gap.

    Examples
    --------
    >>> m = pd.period_range("2023-01", "2024-12", freq="M")
    >>> c = pd.DataFrame({"unit": "A", "period": m, "births_male": 20,
    ...                   "births_female": 19, "deaths": 25, "population": 40000})
    >>> r = nowcast(c, year=2024, through=12, indicators=["crude_birth_rate"], draws=200)
    >>> r[["unit", "observed", "value", "lower_0.95", "upper_0.95"]]
      unit  observed  value  lower_0.95  upper_0.95
    0    A      11.7   11.7        11.7        11.7
    """
    levels = _check_common(draws, seed, confidence)
    counts = _entry(counts)
    year = _check_year(year)
    m = _through_month(year, through)
    if targets is not None and not isinstance(targets, Scheme):
        raise ValueError(f"targets must be a Scheme (from fpanalysis.scheme.load_targets), "
                         f"got {type(targets).__name__}")
    if isinstance(indicators, str | ind.Indicator):
        indicators = [indicators]
    user = {i.key: i for i in targets.indicators} if targets is not None else {}
    if indicators is not None:
        chosen = _indicators([user.get(i, i) if isinstance(i, str) else i
                              for i in indicators])
    else:
        chosen = []
    if targets is not None:
        annual = _targets_for(targets, year, units, counts)
        for t in annual:
            if not t.is_milestone and (t.indicator in user or t.indicator in ind.keys()):
                chosen.append(ind.get(user.get(t.indicator, t.indicator)))
        chosen = list({i.key: i for i in chosen}.values())
    else:
        annual = []
    if indicators is None and targets is None:
        data_cols = set(counts.columns) | ({"births"} if {"births_male", "births_female"}
                                            <= set(counts.columns) else set())
        chosen = [i for i in ind.INDICATORS if set(i.columns) <= data_cols]
    if not chosen:
        raise ValueError("no indicator to project: name indicators= or give targets with "
                         "indicators computed from counts")
    flows, stocks, thinned = _columns(chosen)
    proj = _Projection(counts, year=year, through=m, flows=flows, stocks=stocks,
                       thinned=thinned, seed=int(seed), draws=int(draws),
                       also=_unreported(units, counts))
    proj.warn()
    d = int(draws)
    values, empty = _indicator_draws(proj, year, chosen)
    ytd = ind.compute(counts, chosen, period=f"{year}-01/{year}-{m:02d}")
    ytd = ytd.assign(unit=ytd["unit"].astype(str), indicator=ytd["indicator"].astype(str))
    parts = []
    for j, spec in enumerate(chosen):  # a loop over indicators
        v = values[:, :, j]
        q = _quantiles(v, levels)
        q["value"] = q.pop("median")
        obs = ytd[ytd["indicator"] == spec.key].set_index("unit")["value"]
        undefined = np.where(proj.ok, np.isnan(v).mean(axis=1), 0.0)
        note = proj.note.copy()
        add = np.where(undefined == 1, "no value in any draw (e.g. no events)",
                       "no value in " + pd.Series(100 * undefined).round(1).astype(str)
                       + " % of draws")
        note = np.where(undefined > 0, np.where(note == "", add, note + "; " + add), note)
        base = {"unit": proj.units.astype(str), "period": str(year),
                "through": f"{year}-{m:02d}", "indicator": spec.key,
                "observed": np.where(proj.ok, obs.reindex(proj.units.astype(str)).to_numpy(
                    dtype=float), np.nan),
                "value": q.pop("value"), **q, "multiplier": float(spec.multiplier)}
        mine = [t for t in annual if t.indicator == spec.key and not t.is_milestone]
        if not mine:
            parts.append(pd.DataFrame({**base, "target": pd.NA, "label": "", "op": "",
                                       "threshold": np.nan, "baseline": np.nan,
                                       "probability": np.nan, "note": note}))
        for t in mine:  # the few targets of this indicator
            got = _attainment(t, v, empty[:, :, j], proj, counts, spec, year)
            why = got.pop("_why")
            parts.append(pd.DataFrame({**base, **got, "note": np.where(
                why == "", note, np.where(note == "", why, note + "; " + why))}))
    for t in annual:  # targets on supplied values cannot be projected: say so
        if t.is_milestone or t.indicator in {i.key for i in chosen}:
            continue
        parts.append(pd.DataFrame({
            "unit": proj.units.astype(str), "period": str(year), "through": f"{year}-{m:02d}",
            "indicator": t.indicator, "observed": np.nan, "value": np.nan,
            **{f"{s}_{c:g}": np.nan for c in levels for s in ("lower", "upper")},
            "multiplier": np.nan, "target": t.number, "label": t.label, "op": t.op,
            "threshold": t.thresholds(proj.units.astype(str)), "baseline": np.nan,
            "probability": np.nan,
            "note": "not projected: not an indicator computed from counts"}))
    out = pd.concat(parts, ignore_index=True)
    out["target"] = pd.array(out["target"], dtype="Int64")
    out["draws"] = d
    out["method"] = _METHOD
    order = {k.key: i for i, k in enumerate(chosen)}
    out["_o"] = out["indicator"].map(order).fillna(len(order))
    out = out.sort_values(["unit", "_o", "target"], kind="stable").drop(columns="_o")
    cols = ["unit", "period", "through", "indicator", "observed", "value"]
    cols += [f"{s}_{c:g}" for c in levels for s in ("lower", "upper")]
    cols += ["multiplier", "target", "label", "op", "threshold", "baseline", "probability",
             "draws", "method", "note"]
    return out[cols].reset_index(drop=True)


def _attainment(t: Target, v: np.ndarray, empty: np.ndarray, proj: _Projection,
                counts: pd.DataFrame, spec: ind.Indicator, year: int) -> dict[str, object]:
    """Threshold and probability of meeting target ``t`` from the draws ``v`` (units x
    draws)."""
    codes = proj.units.astype(str)
    threshold = t.thresholds(codes)
    baseline = np.full(len(codes), np.nan)
    compared = v
    if t.compare:
        period = t.baseline_period(str(year))
        try:
            r = ind.compute(counts, [spec], period=period)
            base = r.assign(unit=r["unit"].astype(str)).set_index("unit")["value"]
            baseline = base.reindex(codes).to_numpy(dtype=float)
        except ValueError:  # no counts for the baseline period: no baseline
            pass
        compared = v - baseline[:, None]
        note = np.where(np.isnan(baseline), f"no baseline value for {period}", "")
    else:
        note = np.full(len(codes), "", dtype=object)
    met = t.meets(compared, threshold[:, None])
    if t.when_empty == "met":
        met = met | empty
    probability = np.where(proj.ok, met.mean(axis=1), np.nan)
    if t.compare:
        probability = np.where(np.isnan(baseline), np.nan, probability)
    return {"target": t.number, "label": t.label, "op": t.op, "threshold": threshold,
            "baseline": baseline, "probability": probability, "_why": note}


def project_milestones(
    counts: pd.DataFrame,
    scheme: Scheme,
    *,
    year: int,
    through: object,
    units: pd.DataFrame | None = None,
    seed: int = 0,
    draws: int = 4000,
    confidence: float | Sequence[float] = (0.8, 0.95),
) -> pd.DataFrame:
    """Project the year-end share of the annual plan of each milestone target, and the
    month the plan is reached.

    The done column of each milestone (``against = "annual_plan"``) is cumulated from
    January as :func:`fpanalysis.targets.done_to_date` does (a unit missing a month is
    not projected, see :func:`nowcast`) and projected to the year's end by the nowcast model;
    the share is ``100 x done / plan`` with the unit's plan for the year
    (:attr:`fpanalysis.scheme.Target.plan`), as :func:`fpanalysis.targets.evaluate` takes it.

    Parameters
    ----------
    counts, year, through, units, seed, draws, confidence
        As for :func:`nowcast`.
    scheme : Scheme
        Its milestone targets are projected (a scheme without one gives an empty frame).

    Returns
    -------
    pandas.DataFrame
        One row per unit and milestone target: ``unit``, ``period`` (the year), ``through``,
        ``target``, ``indicator`` (the target's key), ``label``, ``plan``, ``done`` (to
        date), ``share`` (per cent of the plan done to date), ``due`` (per cent due at
        ``through``, NaN before the first milestone), ``done_projected`` (median year-end
        done), ``share_projected`` (median year-end share), ``lower_<c>``, ``upper_<c>``
        (of the share), ``due_year_end`` (per cent due at December), ``probability`` (of
        reaching ``due_year_end`` by December), ``reach_month`` (the month the cumulative
        done reaches 100 % of the plan: observed, else on the projected seasonal path, else
        beyond December at the projected annual pace, e.g. ``'2025-02'``; empty where it
        never does), ``note``. A unit not projected (see :func:`nowcast`) keeps its rows
        with ``done``, ``share``, the projections, ``probability`` missing, ``reach_month``
        empty and its note.

    Raises
    ------
    ValueError
        A milestone's done column missing from the counts (nearest name suggested); a plan
        without the year; as :func:`nowcast`.
    """
    levels = _check_common(draws, seed, confidence)
    counts = _entry(counts)
    year = _check_year(year)
    m = _through_month(year, through)
    if not isinstance(scheme, Scheme):
        raise ValueError(f"scheme must be a Scheme (from fpanalysis.scheme.load_targets), "
                         f"got {type(scheme).__name__}")
    milestones = [t for t in _targets_for(scheme, year, units, counts) if t.is_milestone]
    cols = ["unit", "period", "through", "target", "indicator", "label", "plan", "done",
            "share", "due", "done_projected", "share_projected"]
    cols += [f"{s}_{c:g}" for c in levels for s in ("lower", "upper")]
    cols += ["due_year_end", "probability", "reach_month", "note"]
    if not milestones:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    for t in milestones:
        if t.done not in counts.columns:
            raise ValueError(f"target {t.number} ({t.indicator}) counts done work in column "
                             f"{t.done!r}, which the counts do not have"
                             f"{suggestion(t.done, counts.columns)}")
        planned = {y for _, y in t.plan}
        if year not in planned:
            raise ValueError(f"{t.name}: the annual plan has no year {year} (it holds "
                             f"{', '.join(map(str, sorted(planned))) or 'no year'})")
    flows = list(dict.fromkeys(t.done for t in milestones))
    proj = _Projection(counts, year=year, through=m, flows=flows, stocks=[], thinned={},
                       seed=int(seed), draws=int(draws), also=_unreported(units, counts))
    proj.warn()
    unit_codes = proj.units.astype(str)
    parts = []
    for t in milestones:  # a few milestone targets
        c = t.done
        plan = pd.Series([(u, year) for u in unit_codes], dtype=object).map(
            dict(t.plan)).to_numpy(dtype=float)
        mine = plan[proj.ok]  # the projected units' plans
        with np.errstate(divide="ignore", invalid="ignore"):
            share_draws = 100 * proj.draws[c] / mine[:, None]
            share = 100 * proj.ytd[c] / mine
        q = {k: proj.full(v) for k, v in _quantiles(share_draws, levels).items()}
        due_end = t.due(str(year))[0]
        prob = np.where(np.isnan(mine), np.nan,
                        (share_draws >= due_end).mean(axis=1) if not np.isnan(due_end)
                        else np.nan)
        reach, why = (proj.full(a, "") for a in _reach(proj, c, mine, year, m))
        note = proj.note.copy()
        no_plan = np.isnan(plan)
        note = np.where(no_plan, np.where(note == "", f"no annual plan for {year}",
                                          note + f"; no annual plan for {year}"), note)
        note = np.where(why != "", np.where(note == "", why, note + "; " + why), note)
        parts.append(pd.DataFrame({
            "unit": unit_codes, "period": str(year), "through": f"{year}-{m:02d}",
            "target": t.number, "indicator": t.indicator, "label": t.label, "plan": plan,
            "done": proj.full(proj.ytd[c]), "share": proj.full(share),
            "due": t.due(f"{year}-{m:02d}")[0],
            "done_projected": proj.full(_quantiles(proj.draws[c], [])["median"]),
            "share_projected": q.pop("median"), **q, "due_year_end": due_end,
            "probability": proj.full(prob), "reach_month": reach, "note": note}))
    return pd.concat(parts, ignore_index=True)[cols]


def _reach(proj: _Projection, column: str, plan: np.ndarray, year: int,
           through: int) -> tuple[np.ndarray, np.ndarray]:
    """Month label when the cumulative done reaches the plan, and a note where it never
    does: observed months first, then the expected seasonal path, then the annual pace
    carried past December."""
    monthly = proj.panel.ytd(column)
    cum_obs = np.cumsum(monthly, axis=1)
    shares = np.cumsum(proj.profile[column].shares, axis=1)  # units x 12
    x, s_obs = proj.ytd[column], proj.share[column]
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(s_obs > 0, x / s_obs, 0.0)  # expected annual done
    path = x[:, None] + rate[:, None] * (shares - s_obs[:, None])
    path[:, :through] = cum_obs
    hit = path >= plan[:, None]
    first = np.where(hit.any(axis=1), hit.argmax(axis=1) + 1, 0)
    beyond = np.zeros(len(x), dtype=np.int64)
    late = (first == 0) & (rate > 0) & np.isfinite(plan)
    with np.errstate(divide="ignore", invalid="ignore"):
        extra = np.ceil((plan - path[:, -1]) / (rate / _MONTHS))
    beyond[late] = extra[late].astype(np.int64)
    month_no = np.where(first > 0, first, np.where(late, _MONTHS + beyond, 0))
    start = pd.Period(year=year, month=1, freq="M")
    labels = np.array([str(start + int(k) - 1) if k > 0 else "" for k in month_no],
                      dtype=object)  # one label per unit
    why = np.where(np.isnan(plan), "", np.where(
        month_no == 0, "never reaches the plan on the observed trend (nothing done)",
        np.where(late, "reaches the plan after December at the projected pace", "")))
    return labels, why.astype(object)


def backtest_nowcast(
    counts: pd.DataFrame,
    year: int,
    months_observed: Iterable[int] = range(1, 12),
    *,
    columns: Sequence[str] | None = None,
    indicators: Iterable[str | ind.Indicator] | None = (
        "crude_birth_rate", "crude_death_rate", "natural_growth_rate", "sex_ratio_at_birth",
        "compliance_rate"),
    seed: int = 0,
    draws: int = 2000,
    confidence: float | Sequence[float] = (0.8, 0.95),
) -> pd.DataFrame:
    """Replay the nowcast on earlier years and score its intervals against what happened.

    Each year ``y <= year`` of the counts that has at least one earlier year of data (so a
    seasonal history may exist) is replayed for each number of months observed, using only
    the counts up to that month (``y-01`` … ``y-MM``; earlier years complete). The
    projections are compared with the actual annual counts and indicators of ``y`` for the
    units whose year ``y`` is complete (other units are counted in ``excluded``).

    Parameters
    ----------
    counts : pandas.DataFrame
        Monthly counts (:func:`fpanalysis.io.load_counts`).
    year : int
        The last year replayed.
    months_observed : iterable of int, default 1..11
        Months observed at the cut-off.
    columns : sequence of str, optional
        Count columns scored; default the flows the indicators use.
    indicators : iterable of str or Indicator, optional
        Indicators scored (default: crude birth and death rates, natural growth, sex ratio
        at birth, compliance). ``None`` or empty: counts only.
    seed, draws, confidence
        As for :func:`nowcast` (2000 draws by default: the backtest runs many nowcasts).

    Returns
    -------
    pandas.DataFrame
        One row per month observed, kind (``'count'`` or ``'indicator'``) and quantity (a
        column or indicator key), and per month and kind a pooled row ``'all'``:
        ``through`` (months observed), ``kind``, ``quantity``, ``years`` (replayed, e.g.
        ``'2023, 2024'``), ``n`` (unit-years scored), ``excluded`` (unit-years not
        scored: without a complete actual year or value, or not projected),
        ``not_projected`` (of these, the unit-years not projected for a gap in the months
        observed, see :func:`nowcast`), ``coverage_<c>`` (share of actual values inside
        the ``c`` interval), ``mae`` (mean absolute error of the median), ``relative_mae``
        (sum of absolute errors / sum of absolute actual values).

    Raises
    ------
    ValueError
        No year to replay (none has an earlier year of data), months outside 1..12, as
        :func:`nowcast`.
    """
    levels = _check_common(draws, seed, confidence)
    counts = _entry(counts)
    year = _check_year(year)
    months = sorted({_through_month(year, k) if isinstance(k, int | np.integer)
                     and not isinstance(k, bool) else -1 for k in months_observed})
    if not months or months[0] < 1:
        raise ValueError("months_observed must be months 1..12")
    if not isinstance(counts, pd.DataFrame) or "period" not in counts.columns \
            or counts["period"].dtype != "period[M]":
        raise ValueError("the backtest needs monthly counts (a period[M] column)")
    chosen = _indicators(list(indicators)) if indicators else []
    flows, stocks, thinned = _columns(chosen)
    if columns is not None:
        extra = [c for c in columns if c not in flows]
        flows = flows + extra
    scored_cols = list(columns) if columns is not None else flows
    absent = [c for c in scored_cols if c not in counts.columns
              and not (c == "births" and {"births_male", "births_female"} <= set(counts))]
    if absent:
        raise ValueError("counts lack the column(s) " + ", ".join(
            f"{c!r}{suggestion(c, counts.columns)}" for c in absent))
    data_years = sorted(set(counts["period"].dt.year.tolist()))
    if year not in data_years:
        raise ValueError(f"no counts for the year {year} (the counts cover "
                         f"{data_years[0]}-{data_years[-1]})")
    replay = [y for y in data_years if y <= year and any(h < y for h in data_years)]
    if not replay:
        raise ValueError(f"no year up to {year} has an earlier year of counts to learn the "
                         "seasonal profile from")
    rows = []
    for y in replay:  # a few years
        actual_counts, actual_ind = _actuals(counts, y, scored_cols, chosen)
        for k in months:  # months observed
            cut = counts[counts["period"] <= pd.Period(year=y, month=k, freq="M")]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                proj = _Projection(cut, year=y, through=k, flows=flows, stocks=stocks,
                                   thinned=thinned, seed=int(seed) + 1000 * y + k,
                                   draws=int(draws))
            # the units not projected (a gap in the year to date) get NaN draws: excluded
            units, skipped = proj.units.astype(str), ~proj.ok
            for c in scored_cols:
                truth = actual_counts[c].reindex(units).to_numpy(dtype=float)
                rows.append((k, "count", c, y, proj.full(proj.draws[c]), truth, skipped))
            if chosen:
                vals, _ = _indicator_draws(proj, y, chosen)
                for j, spec in enumerate(chosen):
                    truth = actual_ind[spec.key].reindex(units).to_numpy(dtype=float)
                    rows.append((k, "indicator", spec.key, y, vals[:, :, j], truth, skipped))
    return _score(rows, levels)


def _actuals(counts: pd.DataFrame, y: int, columns: Sequence[str],
             chosen: Sequence[ind.Indicator]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Actual annual counts (NaN for an incomplete year) and indicator values of year y."""
    part = counts[counts["period"].dt.year == y]
    data = part
    if "births" in columns and "births" not in part.columns:
        data = part.assign(births=part["births_male"] + part["births_female"])
    unit = data["unit"].astype(str)
    sums = data[list(columns)].astype(float).groupby(unit).sum(min_count=1)
    gaps = data[list(columns)].isna().groupby(unit).any()
    n_months = data.groupby(unit)["period"].nunique()
    sums = sums.mask(gaps | (n_months < _MONTHS).to_numpy()[:, None])
    if not chosen:
        return sums, pd.DataFrame(index=sums.index)
    r = ind.compute(counts, list(chosen), period=str(y))
    r = r.assign(unit=r["unit"].astype(str), indicator=r["indicator"].astype(str))
    values = r.pivot(index="unit", columns="indicator", values="value")
    return sums, values


def _score(rows: list, levels: Sequence[float]) -> pd.DataFrame:
    """Coverage and errors per (months observed, kind, quantity) and pooled per kind."""
    recs = []
    pooled: dict[tuple[int, str], list] = {}
    for k, kind, name, y, draws_, truth, skipped in rows:
        q = _quantiles(draws_, levels)
        ok = np.isfinite(truth) & np.isfinite(q["median"])
        rec = {"through": k, "kind": kind, "quantity": name, "year": y,
               "truth": truth[ok], "median": q["median"][ok],
               "excluded": int((~ok).sum()), "not_projected": int(skipped.sum())}
        for c in levels:
            lo, hi = q[f"lower_{c:g}"][ok], q[f"upper_{c:g}"][ok]
            rec[f"in_{c:g}"] = (truth[ok] >= lo) & (truth[ok] <= hi)
        recs.append(rec)
        pooled.setdefault((k, kind), []).append(rec)
    groups: dict[tuple[int, str, str], list] = {}
    for rec in recs:
        groups.setdefault((rec["through"], rec["kind"], rec["quantity"]), []).append(rec)
    for (k, kind), recs_ in pooled.items():
        groups[(k, kind, "all")] = recs_
    out = []
    for (k, kind, name), rs in groups.items():
        truth = np.concatenate([r["truth"] for r in rs])
        med = np.concatenate([r["median"] for r in rs])
        row = {"through": k, "kind": kind, "quantity": name,
               "years": ", ".join(str(y) for y in sorted({r["year"] for r in rs})),
               "n": len(truth), "excluded": sum(r["excluded"] for r in rs),
               "not_projected": sum(r["not_projected"] for r in rs)}
        for c in levels:
            inside = np.concatenate([r[f"in_{c:g}"] for r in rs])
            row[f"coverage_{c:g}"] = inside.mean() if len(inside) else np.nan
        err = np.abs(med - truth)
        row["mae"] = err.mean() if len(err) else np.nan
        denom = np.abs(truth).sum()
        row["relative_mae"] = err.sum() / denom if denom > 0 else np.nan
        out.append(row)
    frame = pd.DataFrame(out)
    frame["_all"] = frame["quantity"] == "all"
    frame = frame.sort_values(["through", "kind", "_all", "quantity"], kind="stable")
    return frame.drop(columns="_all").reset_index(drop=True)
