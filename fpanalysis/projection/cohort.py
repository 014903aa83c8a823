"""Cohort-component population projection by sex and 5-year age group.

:func:`cohort_component` moves a base population forward in 5-year steps: survivors from
life-table person-years (:func:`fpanalysis.projection.lifetable.life_table`), births from
age-specific fertility rates or a crude birth rate, split by the sex ratio at birth and
survived to ages 0-4, and optional net migration. :func:`fertility_scenario` builds ASFR
paths: constant, scaled to a TFR path, or with a policy uplift from a given year.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from numbers import Real

import numpy as np
import pandas as pd

from .lifetable import _numbers, age_start, life_table

__all__ = ["FERTILE_GROUPS", "cohort_component", "cohort_inputs", "fertility_scenario"]

#: Mothers' 5-year age groups of an ASFR schedule.
FERTILE_GROUPS: tuple[str, ...] = ("15-19", "20-24", "25-29", "30-34", "35-39", "40-44",
                                   "45-49")
_SEXES = ("female", "male")


def _labels(open_age: int) -> list[str]:
    return [f"{a}-{a + 4}" for a in range(0, open_age, 5)] + [f"{open_age}+"]


def _base(base: pd.DataFrame) -> tuple[np.ndarray, int, list[str]]:
    """Check the base population; return it as a (sex, group) array, the open age and the
    group labels."""
    missing = [c for c in ("sex", "age_group", "population") if c not in base.columns]
    if missing:
        raise ValueError(f"base_population lacks column(s) {', '.join(missing)}")
    sex = base["sex"].astype("string").str.strip()
    group = base["age_group"].astype("string").str.strip()
    odd = sorted(set(sex.fillna("<NA>")) - set(_SEXES))
    if odd:
        raise ValueError(f"base_population: sex must be 'male' or 'female', got {odd}")
    opens = group[group.str.endswith("+").fillna(False)]
    if opens.nunique() != 1:
        raise ValueError("base_population needs one open age group such as '100+', got "
                         f"{sorted(opens.unique())}")
    top = int(age_start([opens.iloc[0]])[0])
    if top < 15 or top % 5:
        raise ValueError(f"the open age group must start at a multiple of 5 from 15, got {top}")
    labels = _labels(top)
    unknown = sorted(set(group.fillna("<NA>")) - set(labels))
    if unknown:
        raise ValueError(f"base_population: age groups must be {labels[0]}, {labels[1]}, ..., "
                         f"{labels[-1]}; unknown: {unknown}")
    key = pd.DataFrame({"sex": sex, "age_group": group})
    if key.duplicated().any():
        raise ValueError(f"base_population has duplicate rows: "
                         f"{key[key.duplicated()].head(3).to_dict('records')}")
    if len(key) != 2 * len(labels):
        have = set(zip(sex, group, strict=True))
        lack = [f"{s} {g}" for s in _SEXES for g in labels if (s, g) not in have]
        raise ValueError(f"base_population lacks rows: {', '.join(lack[:10])}")
    pop = _numbers(base["population"], "base_population: population").to_numpy(float)
    if (~np.isfinite(pop) | (pop < 0)).any():
        raise ValueError("base_population: population must be finite and non-negative")
    idx = sex.map({s: i for i, s in enumerate(_SEXES)}).to_numpy(int) * len(labels) + \
        group.map({g: i for i, g in enumerate(labels)}).to_numpy(int)
    arr = np.empty(2 * len(labels))
    arr[idx] = pop
    return arr.reshape(2, len(labels)), top, labels


def _interpolate(frame: pd.DataFrame, value: str, keys: list[str], year: float,
                 log: bool) -> pd.DataFrame:
    """Values of ``frame`` at ``year``: (log-)linear between its years, constant beyond."""
    if "year" not in frame.columns:
        return frame
    years = np.sort(frame["year"].unique())
    y = float(np.clip(year, years[0], years[-1]))
    hi = years[np.searchsorted(years, y, side="left")] if y < years[-1] else years[-1]
    lo = years[max(np.searchsorted(years, y, side="right") - 1, 0)]
    a = frame[frame["year"] == lo].set_index(keys)[value]
    b = frame[frame["year"] == hi].set_index(keys)[value].reindex(a.index)
    w = 0.0 if hi == lo else (y - lo) / (hi - lo)
    if log:
        both = (a > 0) & (b > 0)
        with np.errstate(divide="ignore"):
            out = np.where(both, np.exp((1 - w) * np.log(a.where(both, 1))
                                        + w * np.log(b.where(both, 1))),
                           (1 - w) * a + w * b)
    else:
        out = (1 - w) * a + w * b
    return pd.DataFrame({**{k: a.index.get_level_values(k) if len(keys) > 1 else a.index
                            for k in keys}, value: np.asarray(out, float)})


def _check_years(frame: pd.DataFrame, name: str, keys: list[str]) -> None:
    if "year" not in frame.columns:
        return
    y = _numbers(frame["year"], f"{name}: year")
    if y.isna().any() or (y != np.round(y)).any():
        raise ValueError(f"{name}: year must be a number")
    sets = frame.groupby("year")[keys].apply(lambda g: frozenset(map(tuple, g.to_numpy())))
    if sets.nunique() > 1:
        raise ValueError(f"{name}: every year needs the same {', '.join(keys)} rows")


def _survival(mortality: pd.DataFrame, year: float, top: int) -> dict[str, np.ndarray]:
    """Per sex: 5L by 5-year group up to the open group, T at the open age, the open
    group's staying ratio, and L(0-4) / (5 l0)."""
    m = _interpolate(mortality, "mx", ["sex", "age"], year, log=True)[["sex", "age", "mx"]]
    table = life_table(m, by=("sex",), age="age", mx="mx", nax="coale_demeny")
    out: dict[str, np.ndarray] = {}
    for s in _SEXES:
        t = table[table["sex"] == s]
        ages = t["age"].to_numpy()
        big_l, tx, lx, mx = (t[c].to_numpy() for c in ("Lx", "Tx", "lx", "mx"))
        if ages[-1] < top:
            raise ValueError(f"mortality's open age ({ages[-1]}) is below the base "
                             f"population's ({top}): give mx up to at least {top}")
        starts = list(range(0, top + 1, 5))
        pos = {a: i for i, a in enumerate(ages)}
        l5 = np.array([big_l[0] + big_l[1]] + [big_l[pos[a]] for a in starts[1:-1]])
        t_open = tx[pos[top]]
        t_before = tx[pos[top - 5]]
        # T(top + 5) / T(top): from the table, or with the open interval's constant rate
        stay = tx[pos[top + 5]] / t_open if top + 5 in pos else np.exp(-5 * mx[-1])
        ratios = np.append(l5[1:] / l5[:-1], t_open / t_before)
        out[s] = np.concatenate([ratios, [stay, (big_l[0] + big_l[1]) / (5 * lx[0])]])
    return out


def _fertility(fertility: pd.DataFrame | None) -> str | None:
    if fertility is None:
        return None
    asfr, cbr = {"age_group", "asfr"} <= set(fertility.columns), \
        "crude_birth_rate" in fertility.columns
    if asfr and cbr:
        raise ValueError("fertility has both asfr and crude_birth_rate: give one or the other")
    if asfr:
        groups = fertility["age_group"].astype("string").str.strip()
        keys = ["age_group"] + (["year"] if "year" in fertility.columns else [])
        if pd.DataFrame({**{k: fertility[k] for k in keys}, "age_group": groups}) \
                .duplicated().any():
            raise ValueError("fertility has duplicate rows for an age group (and year)")
        unknown = sorted(set(groups.fillna("<NA>")) - set(FERTILE_GROUPS))
        if unknown:
            raise ValueError(f"fertility: age groups must be among {', '.join(FERTILE_GROUPS)}; "
                             f"unknown: {unknown}")
        v = _numbers(fertility["asfr"], "fertility: asfr")
        if (~np.isfinite(v) | (v < 0)).any():
            raise ValueError("fertility: asfr must be finite and non-negative")
        if (v > 1).any():
            raise ValueError("fertility: asfr is births per woman per year (at most 1); "
                             "divide rates per 1000 women by 1000")
        _check_years(fertility.assign(age_group=groups), "fertility", ["age_group"])
        return "asfr"
    if {"year", "crude_birth_rate"} <= set(fertility.columns):
        v = _numbers(fertility["crude_birth_rate"], "fertility: crude_birth_rate")
        if (~np.isfinite(v) | (v < 0)).any():
            raise ValueError("fertility: crude_birth_rate must be finite and non-negative")
        if (v > 100).any():
            raise ValueError("fertility: crude_birth_rate is births per 1000 people per year "
                             "(at most 100)")
        y = _numbers(fertility["year"], "fertility: year")
        if not np.isfinite(y).all() or (y != np.round(y)).any():
            raise ValueError("fertility: year must be a number")
        if fertility["year"].duplicated().any():
            raise ValueError("fertility has duplicate years")
        return "cbr"
    raise ValueError("fertility must have age_group and asfr (births per woman per year, "
                     "optionally by year) or year and crude_birth_rate (per 1000)")


def _migration(migration: pd.DataFrame | None, labels: list[str]) -> pd.DataFrame | None:
    if migration is None:
        return None
    need = ["sex", "age_group", "net_migrants"]
    missing = [c for c in need if c not in migration.columns]
    if missing:
        raise ValueError(f"migration lacks column(s) {', '.join(missing)}")
    frame = migration.assign(sex=migration["sex"].astype("string").str.strip(),
                             age_group=migration["age_group"].astype("string").str.strip())
    bad_sex = sorted(set(frame["sex"].fillna("<NA>")) - set(_SEXES))
    bad_age = sorted(set(frame["age_group"].fillna("<NA>")) - set(labels))
    if bad_sex or bad_age:
        raise ValueError(f"migration: unknown sex {bad_sex} or age group {bad_age} (age groups "
                         f"as in base_population)")
    keys = ["sex", "age_group"] + (["year"] if "year" in frame.columns else [])
    if frame.duplicated(keys).any():
        raise ValueError("migration has duplicate rows for a sex and age group (and year)")
    v = _numbers(frame["net_migrants"], "migration: net_migrants")
    if (~np.isfinite(v)).any():
        raise ValueError("migration: net_migrants must be finite numbers")
    if "year" in frame.columns:
        y = _numbers(frame["year"], "migration: year")
        if y.isna().any() or (y != np.round(y)).any():
            raise ValueError("migration: year must be a number")
        frame = frame.assign(year=y)
    return frame.assign(net_migrants=v)


def cohort_component(base_population: pd.DataFrame, mortality: pd.DataFrame, *, start: int,
                     years: int, step: int = 5, fertility: pd.DataFrame | None = None,
                     srb: float = 105.0, migration: pd.DataFrame | None = None,
                     components: bool = False
                     ) -> pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]:
    """Project a population by sex and 5-year age group (cohort-component method).

    Parameters
    ----------
    base_population : pandas.DataFrame
        ``sex`` (``male``/``female``), ``age_group`` (``0-4``, ``5-9``, ..., and one open
        group such as ``100+``) and ``population`` at ``start``: every sex and group once.
    mortality : pandas.DataFrame
        ``sex``, ``age`` (start of the abridged group: 0, 1, 5, ..., up to at least the
        open age of the base population; the last open) and ``mx`` (central death rate),
        optionally with ``year``: rates are then interpolated log-linearly to the middle
        of each step, and held at the first or last year outside their range.
    start : int
        Year of the base population.
    years : int
        Horizon: a positive multiple of ``step``.
    step : int, default 5
        Years per step; only 5 (the width of the age groups).
    fertility : pandas.DataFrame, optional
        Either ASFR: ``age_group`` (mothers' ``15-19`` ... ``45-49``; groups not given have
        no births), ``asfr`` (births per woman per year), optionally ``year`` (linear
        interpolation to the middle of the step, constant outside); see
        :func:`fertility_scenario`. Or a crude birth rate series: ``year`` and
        ``crude_birth_rate`` (per 1000, linear interpolation to the middle of the step).
        Without it no births are projected (the 0-4 group empties).
    srb : float, default 105.0
        Sex ratio at birth, males per 100 females.
    migration : pandas.DataFrame, optional
        ``sex``, ``age_group`` (as in the base population), ``net_migrants`` (per year, any
        sign; counted at their age at the end of the step), optionally ``year`` (the value
        of the step's start year, or the nearest earlier year given; steps that start
        before the first year given have no migration).
    components : bool, default False
        Also return the components of change.

    Returns
    -------
    pandas.DataFrame
        ``year``, ``sex``, ``age_group``, ``population`` for ``start`` and every step,
        sorted by year, sex and age (groups in age order). With ``components=True``, a
        tuple of it and a frame of the components by step and sex: ``year`` (start of the
        step), ``end_year``, ``sex``, ``population_start``, ``births``, ``deaths``,
        ``net_migration``, ``population_end``; ``deaths`` balances the account
        (start + births - deaths + net migration = end), so it counts the deaths of the
        step's births and migrants as well.

    Raises
    ------
    ValueError
        Missing or malformed inputs (unknown sex or age group, duplicate or missing rows,
        negative or non-finite values), ``step`` other than 5, ``years`` not a positive
        multiple of it, mortality not reaching the open age, ``srb`` outside 90-130 (males per
        100 females), a crude birth rate above 100 per 1000, text or true/false in a
        number column, a negative or infinite projected population, net
        emigration larger than the population of a group.

    Notes
    -----
    Over a step of h = 5 years, with life-table person-years nLx and Tx at the middle of
    the step: P(x+5, t+5) = P(x, t) 5L(x+5) / 5L(x); the open group A+ gets
    P(A-5, t) T(A) / T(A-5) + P(A+, t) T(A+5) / T(A), where T(A+5) / T(A) = exp(-5 m(A))
    when A is mortality's open age (constant rate in the open interval). Births over the
    step are h x the sum over mothers' groups of ASFR x (W(t) + W(t+5)) / 2 (women at the
    start and end of the step), or h x CBR / 1000 x (P(t) + P(t+5)) / 2 (solved for
    P(t+5), which includes the births' survivors); they are split srb : 100 and survived to
    0-4 with 5L0 / (5 l0). Net migrants are added as h x annual migrants to the group at
    its end-of-step age.

    References
    ----------
    Preston SH, Heuveline P, Guillot M (2001). Demography, ch. 6 (population projection).
    """
    if step != 5:
        raise ValueError(f"step must be 5 (the width of the age groups), got {step!r}")
    if isinstance(years, bool) or not isinstance(years, (int, np.integer)) or years <= 0 \
            or years % step:
        raise ValueError(f"years must be a positive multiple of step ({step}), got {years!r}")
    if isinstance(start, bool) or not isinstance(start, (int, np.integer)):
        raise ValueError(f"start must be a year (an integer), got {start!r}")
    if isinstance(srb, bool) or not isinstance(srb, Real) or not 90 <= srb <= 130:
        raise ValueError(f"srb is males per 100 females (between 90 and 130), got {srb!r}")
    pop, top, labels = _base(base_population)
    need = [c for c in ("sex", "age", "mx") if c not in mortality.columns]
    if need:
        raise ValueError(f"mortality lacks column(s) {', '.join(need)}")
    mort = mortality.assign(sex=mortality["sex"].astype("string").str.strip())
    mkeys = ["sex", "age"] + (["year"] if "year" in mort.columns else [])
    if mort.duplicated(mkeys).any():
        raise ValueError(f"mortality has duplicate rows for a {', '.join(mkeys)}: "
                         f"{mort.loc[mort.duplicated(mkeys), mkeys].head(3).to_dict('records')}")
    lacking = sorted(set(_SEXES) - set(mort["sex"].dropna()))
    if lacking:
        raise ValueError(f"mortality has no rows for {', '.join(lacking)}")
    _check_years(mort, "mortality", ["sex", "age"])
    kind = _fertility(fertility)
    mig = _migration(migration, labels)
    if mig is not None and "year" in mig.columns:
        given = sorted(set(mig["year"].astype(float)))
        used = {max((y for y in given if y <= t), default=None)
                for t in range(start, start + years, step)} - {None}
        unused = [f"{y:g}" for y in given if y not in used]
        if unused:
            warnings.warn(f"migration rows of year(s) {', '.join(unused)} are used by no step "
                          f"(steps start {', '.join(map(str, range(start, start + years, step)))}"
                          "; each step takes the latest year at or before its start)",
                          UserWarning, stacklevel=2)
    k = len(labels)
    male_share = srb / (100 + srb)
    fert_idx = [labels.index(g) for g in FERTILE_GROUPS if g in labels]
    if kind == "asfr":
        given = set(fertility["age_group"].astype("string").str.strip())
        lost = sorted(given - set(labels))
        if lost:
            raise ValueError(f"fertility age groups {lost} are not groups of base_population "
                             f"(its open group is {labels[-1]}): mothers' groups must be "
                             "separate")
    frames = [pop.copy()]
    comps = []
    for t in range(start, start + years, step):
        mid = t + step / 2
        surv = _survival(mort, mid, top)
        new = np.zeros_like(pop)
        for i, s in enumerate(_SEXES):
            r = surv[s]
            new[i, 1:k - 1] = pop[i, :k - 2] * r[:k - 2]
            new[i, k - 1] = pop[i, k - 2] * r[k - 2] + pop[i, k - 1] * r[k - 1]
        added = np.zeros_like(pop)
        if mig is not None:
            m = mig
            if "year" in m.columns:
                ok = m[m["year"] <= t]
                m = ok[ok["year"] == ok["year"].max()] if len(ok) else m.iloc[:0]
            for i, s in enumerate(_SEXES):
                part = m[m["sex"] == s].set_index("age_group")["net_migrants"]
                added[i] = part.reindex(labels).fillna(0).to_numpy() * step
            if (new + added < 0).any():
                i, j = np.argwhere(new + added < 0)[0]
                raise ValueError(f"net emigration exceeds the population of {_SEXES[i]} "
                                 f"{labels[j]} in {t + step}")
        s0 = np.array([surv[s][-1] for s in _SEXES])  # L(0-4) / (5 l0)
        share = np.array([1 - male_share, male_share])
        births = 0.0
        if kind == "asfr":
            f = fertility.assign(age_group=fertility["age_group"].astype("string").str.strip())
            f = _interpolate(f, "asfr", ["age_group"], mid, log=False)
            rates = f.set_index("age_group")["asfr"].reindex(
                [labels[j] for j in fert_idx]).fillna(0).to_numpy()
            women = (pop[0, fert_idx] + new[0, fert_idx] + added[0, fert_idx]) / 2
            births = step * float(np.sum(rates * women))
        elif kind == "cbr":
            cbr = fertility.sort_values("year")
            c = np.interp(mid, cbr["year"].to_numpy(float),
                          cbr["crude_birth_rate"].to_numpy(float)) / 1000
            rest = pop.sum() + new.sum() + added.sum()
            births = c * step * rest / 2 / (1 - c * step * float(share @ s0) / 2)
        new[:, 0] = births * share * s0
        new += added
        if not np.isfinite(new).all() or (new < 0).any():
            raise ValueError(f"the projection gives a negative or infinite population in "
                             f"{t + step}: check fertility, mortality and migration")
        comps.append(pd.DataFrame({
            "year": t, "end_year": t + step, "sex": list(_SEXES),
            "population_start": pop.sum(axis=1), "births": births * share,
            "deaths": pop.sum(axis=1) + births * share + added.sum(axis=1) - new.sum(axis=1),
            "net_migration": added.sum(axis=1), "population_end": new.sum(axis=1)}))
        pop = new
        frames.append(pop.copy())
    n = len(frames)
    out = pd.DataFrame({
        "year": np.repeat(np.arange(start, start + years + 1, step), 2 * k),
        "sex": np.tile(np.repeat(_SEXES, k), n),
        "age_group": np.tile(labels, 2 * n),
        "population": np.concatenate([f.reshape(-1) for f in frames]),
    })
    if components:
        return out, pd.concat(comps, ignore_index=True)
    return out


def fertility_scenario(asfr: pd.DataFrame, years: range | list[int], *,
                       tfr: Mapping[int, float] | None = None, uplift: float = 0.0,
                       uplift_from: int | None = None,
                       uplift_groups: tuple[str, ...] = FERTILE_GROUPS) -> pd.DataFrame:
    """Return an ASFR path by year for :func:`cohort_component`.

    Parameters
    ----------
    asfr : pandas.DataFrame
        ``age_group`` (``15-19`` ... ``45-49``) and ``asfr`` (births per woman per year):
        the age pattern (and, without ``tfr``, the level).
    years : sequence of int
        The years of the path.
    tfr : mapping of int to float, optional
        Target TFR by year; linear between the years given, constant outside. The ASFR are
        scaled so that 5 x sum(ASFR) equals it. Without it the level is kept (constant).
    uplift : float, default 0.0
        A policy change: ASFR of ``uplift_groups`` times (1 + uplift) from ``uplift_from``
        on (e.g. 0.1 for a second-child change raising births 10 % at ages 25-39).
    uplift_from : int, optional
        First year of the uplift; required when ``uplift`` is not 0.
    uplift_groups : tuple of str
        Mothers' age groups the uplift applies to.

    Returns
    -------
    pandas.DataFrame
        ``year``, ``age_group``, ``asfr``, ``tfr`` (5 x sum of the year's ASFR).

    Examples
    --------
    >>> a = pd.DataFrame({"age_group": ["20-24", "25-29"], "asfr": [0.1, 0.1]})
    >>> fertility_scenario(a, [2025, 2030], tfr={2025: 1.0, 2035: 2.0})
       year age_group  asfr  tfr
    0  2025     20-24  0.10  1.0
    1  2025     25-29  0.10  1.0
    2  2030     20-24  0.15  1.5
    3  2030     25-29  0.15  1.5
    """
    _fertility(asfr)
    if "year" in asfr.columns:
        raise ValueError("asfr must be one schedule without a year column")
    if uplift and uplift_from is None:
        raise ValueError("uplift needs uplift_from (the first year of the change)")
    if not np.isfinite(uplift) or uplift <= -1:
        raise ValueError(f"uplift must be a number above -1, got {uplift!r}")
    years = np.asarray(list(years), dtype=int)
    if not len(years):
        raise ValueError("years is empty")
    base = asfr.assign(age_group=asfr["age_group"].astype("string").str.strip())
    rates = base["asfr"].to_numpy(float)
    level = 5 * rates.sum()
    if tfr:
        if level == 0:
            raise ValueError("asfr sums to 0: it cannot be scaled to a TFR")
        ty = np.array(sorted(tfr), dtype=float)
        target = np.interp(years, ty, np.array([tfr[y] for y in sorted(tfr)], dtype=float))
        scale = target / level
    else:
        scale = np.ones(len(years))
    out = pd.DataFrame({"year": np.repeat(years, len(base)),
                        "age_group": np.tile(base["age_group"].to_numpy(), len(years)),
                        "asfr": np.outer(scale, rates).reshape(-1)})
    if uplift:
        hit = (out["year"] >= uplift_from) & out["age_group"].isin(uplift_groups)
        out.loc[hit, "asfr"] *= 1 + uplift
    out["tfr"] = out.groupby("year")["asfr"].transform("sum") * 5
    return out


def cohort_inputs(population_age: pd.DataFrame, *, period: object,
                  counts: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """Return the inputs of :func:`cohort_component` for the sum of all units of one year.

    Parameters
    ----------
    population_age : pandas.DataFrame
        As :func:`fpanalysis.io.load_population_age` returns it (every unit of the area
        once: a county's townships, not the townships and the county).
    period : period label
        The year (e.g. ``"2024"``).
    counts : pandas.DataFrame, optional
        Monthly counts (:func:`fpanalysis.io.load_counts`) of the same units: the year's
        ASFR by mother's age group (:func:`fpanalysis.indicators.compute`, all units
        summed) become ``fertility``.

    Returns
    -------
    dict
        ``base_population`` (``sex``, ``age_group`` 0-4 ... 95-99, 100+, ``population``:
        0 and 1-4 summed), ``mortality`` (``sex``, ``age`` 0, 1, 5, ..., 100, ``mx`` =
        deaths / population) and, with ``counts``, ``fertility`` (``age_group``, ``asfr``
        per woman per year).

    Raises
    ------
    ValueError
        If ``population_age`` has no rows for the year, or a group with no population, or
        the counts of the year are incomplete (a unit missing a month).
    """
    from .. import periods as pr
    from ..indicators import compute

    year = pr.parse(period)
    if pr.kind(year) != "year":
        raise ValueError(f"period must be a year, e.g. 2024, got {period!r}")
    rows = population_age[population_age["period"].astype(str) == str(year)]
    if rows.empty:
        raise ValueError(f"population_age has no rows for {year}")
    if "unit" in population_age.columns:
        unit = rows["unit"].astype(str).str.strip()
        absent = sorted(set(population_age["unit"].astype(str).str.strip()) - set(unit))
        if absent:
            raise ValueError(f"population_age has no rows for {year} for unit(s) "
                             f"{', '.join(absent[:10])} (present in other years): the sum "
                             "would leave them out")
        key = pd.DataFrame({"unit": unit, "sex": rows["sex"].astype(str).str.strip(),
                            "age_group": rows["age_group"].astype(str).str.strip()})
        dup = key.duplicated(keep=False)
        if dup.any():
            first = key[dup].iloc[0]
            raise ValueError(f"population_age has duplicate rows for {year}: unit "
                             f"{first['unit']}, {first['sex']} {first['age_group']}")
    sums = rows.groupby(["sex", "age_group"], sort=False)[["population", "deaths"]].sum()
    sums = sums.reset_index()
    start = age_start(sums["age_group"])
    if (sums["population"] == 0).any():
        raise ValueError("population_age has a sex and age group with no population in "
                         f"{year}: no death rate can be computed")
    mort = pd.DataFrame({"sex": sums["sex"].astype(str), "age": start,
                         "mx": sums["deaths"].to_numpy(float)
                         / sums["population"].to_numpy(float)})
    five = np.where(start < 5, "0-4", sums["age_group"].astype(str))
    base = sums.assign(age_group=five).groupby(["sex", "age_group"], sort=False)[
        "population"].sum().reset_index()
    base = base.assign(sex=base["sex"].astype(str), population=base["population"].astype(float))
    out = {"base_population": base, "mortality": mort.sort_values(["sex", "age"])
           .reset_index(drop=True)}
    if counts is not None:
        keys = [f"asfr_{g.replace('-', '_')}" for g in FERTILE_GROUPS]
        res = compute(counts, keys, by=("period",), period=str(year))
        if res["value"].isna().any():  # a unit that did not report leaves the sum unknown
            note = res.loc[res["value"].isna(), "note"].astype(str).iloc[0]
            months = counts.loc[counts["period"].astype(str).str[:4] == str(year)]
            have = months.groupby(months["unit"].astype(str))["period"].nunique()
            short = ", ".join(have[have < 12].index)
            raise ValueError(f"the counts give no fertility for {year} ({note}"
                             + (f"; short: {short}" if short else "") + "): give the ASFR "
                             "yourself (fertility=) or a year every unit reported")
        out["fertility"] = pd.DataFrame({
            "age_group": res["indicator"].str[5:].str.replace("_", "-").to_numpy(),
            "asfr": (res["value"] / res["multiplier"]).to_numpy(float)})
    return out
