"""Abridged life tables with Chiang's confidence intervals, and ageing indicators.

:func:`life_table` builds a period life table per group (sex, unit, period ...) from deaths
and population by age, or from central death rates ``mx``. The ages are the starts of the
abridged intervals 0, 1, 5, 10, ..., with the last one open (85+, 90+, 100+ ...); every group
must have the whole grid. :func:`ageing_indicators` gives the share aged 65 and over and the
old-age dependency ratio from a population by age.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from numbers import Real

import numpy as np
import pandas as pd

__all__ = ["ageing_indicators", "age_start", "life_expectancy", "life_table"]

_NAX = ("coale_demeny", "phe")
_METHOD = {
    "coale_demeny": "abridged life table, Coale-Demeny 1a0 and 4a1, constant hazard above "
                    "age 5; Chiang variance (Silcocks et al. open interval)",
    "phe": "Chiang, using Silcocks et al for confidence limits",
}
#: Coale-Demeny West coefficients (Preston, Heuveline & Guillot 2001, table 3.3):
#: (m0 threshold, 1a0 above, 1a0 intercept, 1a0 slope, 4a1 above, 4a1 intercept, 4a1 slope).
_COALE_DEMENY = {
    "male": (0.107, 0.330, 0.045, 2.684, 1.352, 1.651, -2.816),
    "female": (0.107, 0.350, 0.053, 2.800, 1.361, 1.522, -1.518),
}
_LABEL = re.compile(r"^\s*(\d+)\s*(?:[-–~]\s*(\d+)|\+)?\s*$")


def age_start(values: pd.Series | Sequence[object]) -> np.ndarray:
    """Return the start age of each age-group label (``"0"``, ``"1-4"``, ``"100+"``) or
    whole number, as int; ``-1`` where a value is not an age or age group.

    Examples
    --------
    >>> age_start(["0", "1-4", "5-9", "100+", 15, "abc"]).tolist()
    [0, 1, 5, 100, 15, -1]
    """
    s = pd.Series(list(values) if not isinstance(values, pd.Series) else values, dtype=object)
    codes, uniq = pd.factorize(s, use_na_sentinel=True)
    out = []
    for u in uniq:  # each distinct label once
        if isinstance(u, (int, np.integer)) and not isinstance(u, bool):
            out.append(int(u) if u >= 0 else -1)
            continue
        if isinstance(u, (float, np.floating)) and float(u).is_integer() and u >= 0:
            out.append(int(u))
            continue
        m = _LABEL.match(str(u)) if isinstance(u, str) else None
        out.append(int(m.group(1)) if m else -1)
    table = np.array(out + [-1], dtype=np.int64)
    return table[np.where(codes < 0, len(uniq), codes)]


def _grid(data: pd.DataFrame, by: list[str], ages: np.ndarray) -> tuple[pd.DataFrame, int]:
    """Sort rows by group and age, check every group has the abridged grid 0, 1, 5, ...,
    the same open age; return the sorted frame and the number of ages."""
    problems = []
    bad = ages < 0
    if bad.any():
        shown = ", ".join(map(repr, pd.unique(data["__age_raw"][bad])[:5]))
        problems.append(f"age values that are not an age or age group: {shown}")
    if problems:
        raise ValueError("; ".join(problems))
    frame = data.assign(__age=ages)
    keys = by + ["__age"]
    dup = frame.duplicated(keys, keep=False)
    if dup.any():
        shown = frame.loc[dup, keys].drop_duplicates().head(5).to_dict("records")
        raise ValueError(f"data have duplicate rows for a group and age: {shown}")
    frame = frame.sort_values(keys, kind="stable").reset_index(drop=True)
    top = int(frame["__age"].max())
    if top < 5 or top % 5:
        raise ValueError(f"the open age interval must start at a multiple of 5 from 5 up, "
                         f"got {top}")
    grid = np.array([0, 1] + list(range(5, top + 1, 5)))
    if by:
        got = frame.groupby(by, sort=False, dropna=False)["__age"].agg(tuple)
    else:
        got = pd.Series({(): tuple(frame["__age"])})
    wrong = got[got.map(lambda t: t != tuple(grid))]
    if len(wrong):
        first = wrong.index[0] if by else "the table"
        missing = sorted(int(a) for a in set(grid) - set(wrong.iloc[0]))
        extra = sorted(int(a) for a in set(wrong.iloc[0]) - set(grid))
        raise ValueError(
            f"every group needs the ages 0, 1, 5, 10, ..., {top} (the last open): "
            f"{len(wrong)} group(s) differ, e.g. {first!r}"
            + (f" lacks {missing}" if missing else "") + (f" has {extra}" if extra else ""))
    return frame, len(grid)


def _ax(mx: np.ndarray, width: np.ndarray, sexes: np.ndarray | None, nax: str) -> np.ndarray:
    """Person-years lived in the interval by those dying in it (years), closed intervals."""
    if nax == "phe":
        return np.where(width == 1, 0.1, 0.5) * width
    # constant hazard within the interval: a = n + 1/m - n / (1 - exp(-n m)) (PHG eq. 3.9
    # solved for a), with its series n/2 - n^2 m / 12 for small n m
    nm = width * mx
    with np.errstate(divide="ignore", invalid="ignore"):
        exact = width + 1 / mx - width / -np.expm1(-nm)
    ax = np.where(nm < 1e-4, width / 2 - width * nm / 12, exact)
    m0 = mx[:, :1]
    for sex, (t, hi0, c0, s0, hi1, c1, s1) in _COALE_DEMENY.items():
        rows = (sexes == sex)[:, None]
        a0 = np.where(m0 >= t, hi0, c0 + s0 * m0)
        a1 = np.where(m0 >= t, hi1, c1 + s1 * m0)
        ax[:, :1] = np.where(rows, a0, ax[:, :1])
        ax[:, 1:2] = np.where(rows, a1, ax[:, 1:2])
    return ax


def life_table(data: pd.DataFrame, *, by: Sequence[str] = ("sex",), age: str = "age",
               deaths: str = "deaths", population: str = "population", mx: str = "mx",
               sex: str = "sex", nax: str = "coale_demeny", confidence: float = 0.95,
               radix: float = 100_000.0, open_age: int | None = None) -> pd.DataFrame:
    """Build an abridged period life table per group, with Chiang's interval for ex.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per group and age: ``by`` columns, ``age`` and either ``deaths`` and
        ``population`` (mid-year population; mx = deaths / population) or ``mx``, not both.
    by : sequence of str, default ('sex',)
        Columns that identify one life table (e.g. ``("unit", "period", "sex")``).
    age : str, default 'age'
        Start of the abridged interval (0, 1, 5, 10, ..., the last one open) as a whole
        number or an age-group label (``"0"``, ``"1-4"``, ``"5-9"``, ``"100+"``). Every group
        needs the whole grid up to the same open age.
    deaths, population, mx : str
        Column names.
    sex : str, default 'sex'
        Column holding ``male``/``female``; needed by ``nax='coale_demeny'`` (it must be one
        of ``by``).
    nax : {'coale_demeny', 'phe'}, default 'coale_demeny'
        Person-years lived in the interval by those who die in it (years). ``'coale_demeny'``:
        1a0 and 4a1 from the Coale-Demeny West formulas by sex (Notes), a constant hazard in
        the intervals from age 5, ``1/mx`` in the open one. ``'phe'``: the PHE/ONS choice,
        0.1 at age 0 and half the interval elsewhere.
    confidence : float, default 0.95
        Level of the interval, in (0, 1).
    radix : float, default 100000
        l0.
    open_age : int, optional
        Close the table at this age: deaths and population of the groups from it up are
        summed into one open group (e.g. 85 or 90 for a small area whose oldest groups are
        thin or empty). Needs deaths and population, not mx.

    Returns
    -------
    pandas.DataFrame
        Per group and age: the ``by`` columns, ``age`` (int start), ``n`` (interval width,
        NaN for the open interval), ``deaths`` and ``population`` (when given), ``mx``, ``ax``
        (years), ``qx``, ``lx``, ``dx``, ``Lx``, ``Tx``, ``ex``, ``se`` (standard error of ex),
        ``lower``, ``upper`` (NaN when built from ``mx``: no counts, no sampling
        variance), ``confidence``, ``method``.

    Raises
    ------
    ValueError
        Missing column, both counts and mx given, an unknown ``nax``, a confidence outside
        (0, 1), a sex other than male/female with Coale-Demeny, an incomplete or duplicated
        age grid, a negative, missing or infinite value, deaths above population, a
        population of 0, no deaths (mx of 0) in the open interval, or qx above 1 with
        ``nax='phe'``.

    Notes
    -----
    With widths n, mx and ax: qx = n mx / (1 + (n - ax) mx) (qx = 1 in the open interval);
    l(x+n) = lx (1 - qx); dx = lx qx; Lx = n l(x+n) + ax dx, and Lx = lx / mx in the open
    interval; Tx = sum of Lx from x up; ex = Tx / lx.

    Coale-Demeny (Preston, Heuveline & Guillot 2001, table 3.3), with m0 the rate at age 0:

    ===========  ====================  ====================
    sex          1a0                   4a1
    ===========  ====================  ====================
    male         0.045 + 2.684 m0      1.651 - 2.816 m0
    female       0.053 + 2.800 m0      1.522 - 1.518 m0
    ===========  ====================  ====================

    and 0.330/1.352 (male), 0.350/1.361 (female) when m0 >= 0.107. From age 5 the hazard is
    taken as constant within the interval, ax = n + 1/mx - n / (1 - exp(-n mx)): about n/2
    where mortality is low, and it keeps qx below 1 at the oldest ages.

    Variance (Chiang 1984, with the open interval of Silcocks et al. 2001, as in the ONS and
    PHE life-expectancy method): var(qx) = qx^2 (1 - qx) / Dx for the closed intervals (0
    when Dx = 0); var(ex) = sum over i >= x of li^2 [(1 - fi) ni + e(i+1)]^2 var(qi) / lx^2,
    with fi = ai / ni, plus for the open interval w the term lw^2 / (Dw mw^2) (the variance
    of 1/mw with Poisson deaths), over lx^2. The interval is ex -/+ z se.

    References
    ----------
    Preston SH, Heuveline P, Guillot M (2001). Demography: measuring and modeling population
    processes. Blackwell, ch. 3.
    Chiang CL (1984). The life table and its applications. Krieger.
    Silcocks PBS, Jenner DA, Reza R (2001). Life expectancy as a summary of mortality in a
    population: statistical considerations and suitability for use by health authorities.
    J Epidemiol Community Health 55: 38-43.

    Examples
    --------
    >>> d = pd.DataFrame({"age": [0, 1, 5], "deaths": [2, 1, 50],
    ...                   "population": [100, 400, 1000]})
    >>> t = life_table(d, by=(), nax="phe")
    >>> t[["age", "qx", "lx", "ex"]].round(4)
       age      qx           lx       ex
    0    0  0.0196  100000.0000  24.2962
    1    1  0.0100   98035.3635  23.7811
    2    5  1.0000   97059.8872  20.0000
    """
    from scipy.stats import norm

    if nax not in _NAX:
        raise ValueError(f"nax must be one of {', '.join(map(repr, _NAX))}, got {nax!r}")
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or \
            not 0 < confidence < 1:
        raise ValueError(f"confidence must be a number in (0, 1), e.g. 0.95, got {confidence!r}")
    if isinstance(by, str):
        raise TypeError("by must be a sequence of column names, not a string")
    by = list(by)
    counts = {deaths, population} <= set(data.columns)
    if counts and mx in data.columns:
        raise ValueError(f"data have both {deaths}/{population} and {mx}: give one or the "
                         "other (the life table is built from either)")
    need = by + [age] + ([deaths, population] if counts else [mx])
    missing = [c for c in need if c not in data.columns]
    if missing:
        raise ValueError(f"data lack column(s) {', '.join(missing)} (needs {', '.join(by + [age])}"
                         f" and either {deaths} and {population}, or {mx})")
    if nax == "coale_demeny":
        if sex not in by:
            raise ValueError(f"nax='coale_demeny' needs the sex column {sex!r} among by "
                             "(its formulas differ by sex); use nax='phe' for both sexes")
        sexes = data[sex].astype("string").str.strip()
        odd = sorted(set(sexes.fillna("<NA>")) - {"male", "female"})
        if odd:
            raise ValueError(f"sex must be 'male' or 'female' for Coale-Demeny, got {odd}")
    if data.empty:
        raise ValueError("data have no rows")
    frame = data[need].copy()
    for c in by:  # a few grouping columns: ' male' is 'male'
        frame[c] = frame[c].map(lambda v: v.strip() if isinstance(v, str) else v)
    for c in ([deaths, population] if counts else [mx]):
        frame[c] = _numbers(frame[c], c)
    if counts:
        d = frame[deaths].to_numpy(float)
        with np.errstate(invalid="ignore"):
            frac = np.isfinite(d) & (d != np.round(d))
        if frac.any():
            raise ValueError(f"{deaths} must be whole numbers: {int(frac.sum())} value(s) are "
                             f"not, e.g. {d[frac][0]:g}")
    frame["__age_raw"] = frame[age]
    if open_age is not None:
        frame = _close(frame, by, age, open_age, counts, deaths, population)
    frame, k = _grid(frame, by, age_start(frame[age]))
    _check_labels(frame["__age_raw"], frame["__age"].to_numpy(), k, open_age is not None)
    g = len(frame) // k
    ages = frame["__age"].to_numpy().reshape(g, k)
    width = np.diff(ages, axis=1).astype(float)
    out = {}
    if counts:
        dd = frame[deaths].to_numpy(float).reshape(g, k)
        pp = frame[population].to_numpy(float).reshape(g, k)
        _check_values({deaths: dd, population: pp}, ages)
        if (dd > pp).any():
            i, j = np.argwhere(dd > pp)[0]
            raise ValueError(f"deaths exceed population at age {ages[i, j]} "
                             f"({dd[i, j]:g} > {pp[i, j]:g})")
        if (pp == 0).any():
            i, j = np.argwhere(pp == 0)[0]
            raise ValueError(f"population is 0 at age {ages[i, j]}: no rate can be computed")
        m = dd / pp
        out[deaths], out[population] = dd, pp
    else:
        m = frame[mx].to_numpy(float).reshape(g, k)
        _check_values({mx: m}, ages)
        dd = None
    if (m[:, -1] == 0).any():
        i = int(np.flatnonzero(m[:, -1] == 0)[0])
        where = f" (e.g. {frame[by].iloc[i * k].tolist()})" if by else ""
        raise ValueError(f"no deaths (mx = 0) in the open age interval {ages[0, -1]}+ of "
                         f"{int((m[:, -1] == 0).sum())} group(s){where}: life expectancy "
                         "there is undefined (use a lower open_age or pool years)")
    sex_by_group = frame[sex].astype("string").str.strip().to_numpy()[::k] \
        if nax == "coale_demeny" else None
    mc = m[:, :-1]
    ax = _ax(mc, width, sex_by_group, nax)
    qx = width * mc / (1 + (width - ax) * mc)
    if (qx > 1).any():
        i, j = np.argwhere(qx > 1)[0]
        other = "nax='coale_demeny'" if nax == "phe" else "nax='phe'"
        raise ValueError(f"qx exceeds 1 at age {ages[i, j]} (mx = {mc[i, j]:g}, "
                         f"{width[i, j]:g}-year interval, ax = {ax[i, j]:.3g}): a death rate "
                         "this high is implausible at that age; check the deaths and "
                         f"population there (or try {other})")
    qx = np.concatenate([qx, np.ones((g, 1))], axis=1)
    lx = radix * np.concatenate([np.ones((g, 1)), np.cumprod(1 - qx[:, :-1], axis=1)], axis=1)
    dx = lx * qx
    big_l = np.concatenate([width * lx[:, 1:] + ax * dx[:, :-1], lx[:, -1:] / m[:, -1:]],
                           axis=1)
    tx = np.cumsum(big_l[:, ::-1], axis=1)[:, ::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        ex = tx / lx
    ax_all = np.concatenate([ax, 1 / m[:, -1:]], axis=1)
    se = np.full((g, k), np.nan)
    if dd is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            var_q = np.where(dd[:, :-1] > 0, qx[:, :-1] ** 2 * (1 - qx[:, :-1])
                             / dd[:, :-1], 0.0)
            w = lx[:, :-1] ** 2 * ((width - ax) + ex[:, 1:]) ** 2 * var_q
            w_open = lx[:, -1:] ** 2 / (dd[:, -1:] * m[:, -1:] ** 2)
        total = np.concatenate([w, w_open], axis=1)
        var_e = np.cumsum(total[:, ::-1], axis=1)[:, ::-1] / lx ** 2
        se = np.sqrt(var_e)
    z = norm.ppf(0.5 + confidence / 2)
    res = frame[by].reset_index(drop=True).copy()
    res["age"] = ages.reshape(-1)
    res["n"] = np.concatenate([width, np.full((g, 1), np.nan)], axis=1).reshape(-1)
    for c, v in out.items():
        res[c] = v.reshape(-1)
    for c, v in (("mx", m), ("ax", ax_all), ("qx", qx), ("lx", lx), ("dx", dx),
                 ("Lx", big_l), ("Tx", tx), ("ex", ex), ("se", se)):
        res[c] = v.reshape(-1)
    res["lower"] = res["ex"] - z * res["se"]
    res["upper"] = res["ex"] + z * res["se"]
    res["confidence"] = float(confidence)
    res["method"] = _METHOD[nax]
    return res


def _close(frame: pd.DataFrame, by: list[str], age: str, open_age: object, counts: bool,
           deaths: str, population: str) -> pd.DataFrame:
    """Sum the groups from ``open_age`` up into one open group."""
    if not counts:
        raise ValueError("open_age needs deaths and population (rates cannot be summed)")
    if isinstance(open_age, bool) or not isinstance(open_age, (int, np.integer)) or \
            open_age < 5 or open_age % 5:
        raise ValueError(f"open_age must be a multiple of 5 from 5 up, got {open_age!r}")
    start = age_start(frame[age])
    if (start >= 0).all() and start.max() < open_age:
        raise ValueError(f"open_age {open_age} is above the oldest age group ({start.max()})")
    values = frame[[deaths, population]]
    if values.isna().any().any():
        raise ValueError(f"{deaths} and {population} must be finite and non-negative")
    top = start >= open_age
    frame = frame.assign(**{deaths: values[deaths], population: values[population]})
    frame[age] = np.where(top, open_age, start)
    frame["__age_raw"] = np.where(top, open_age, frame["__age_raw"])
    low = frame[~top]
    high = frame[top].groupby(by, sort=False, dropna=False)[[deaths, population]].sum() \
        if by else frame[top][[deaths, population]].sum().to_frame().T
    high = high.reset_index() if by else high
    high[age] = open_age
    high["__age_raw"] = open_age
    return pd.concat([low, high[low.columns]], ignore_index=True)


def _numbers(values: pd.Series, name: str) -> pd.Series:
    """``values`` as floats; text (even '12') or true/false refused with one sentence."""
    if pd.api.types.is_bool_dtype(values.dtype) or not (
            pd.api.types.is_numeric_dtype(values.dtype)
            or values.map(lambda v: v is None or (isinstance(v, Real)
                                                  and not isinstance(v, bool | np.bool_)))
            .all()):
        raise ValueError(f"{name} must be numbers, not text or true/false")
    return pd.Series(values.to_numpy(dtype=float, na_value=np.nan), index=values.index)


def _check_labels(raw: pd.Series, ages: np.ndarray, k: int, closed_here: bool) -> None:
    """An age-group label ends where the next group starts ('10-15' does not); the last
    group is open ('95+', or a bare start age) unless ``open_age`` closed it here."""
    text = raw.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
    ranged = text & raw.astype("string").str.contains(r"\d\s*[-–~]\s*\d",
                                                       regex=True).fillna(False).to_numpy()
    last = (np.arange(len(raw)) % k) == k - 1
    if not closed_here and (ranged & last).any():
        label = raw[ranged & last].iloc[0]
        raise ValueError(f"the last age group {label!r} is closed: label the open group with "
                         f"'+' (e.g. '{int(ages[ranged & last][0])}+') or pass open_age")
    nxt = np.append(ages[1:], -1)
    wrong = ranged & ~last & (_age_end(raw) != nxt)
    if wrong.any():
        i = int(np.flatnonzero(wrong)[0])
        raise ValueError(f"age group {raw.iloc[i]!r} does not end where the next group "
                         f"starts ({int(nxt[i])}): the groups are 0, 1-4, 5-9, 10-14, ...")


def _check_values(columns: dict[str, np.ndarray], ages: np.ndarray) -> None:
    for name, v in columns.items():
        bad = ~np.isfinite(v) | (v < 0)
        if bad.any():
            i, j = np.argwhere(bad)[0]
            raise ValueError(f"{name} must be finite and non-negative: {int(bad.sum())} "
                             f"value(s) are not, e.g. {v[i, j]!r} at age {ages[i, j]}")


def life_expectancy(data: pd.DataFrame, *, at: int = 0, by: Sequence[str] = ("sex",),
                    **kwargs: object) -> pd.DataFrame:
    """Return life expectancy at age ``at`` with its interval, in the shape of supplied
    values (``values.csv``), so that a scheme listing life expectancy can be fed from data.

    Parameters
    ----------
    data : pandas.DataFrame
        As for :func:`life_table`.
    at : int, default 0
        The age (a start of the abridged grid: 0, 1, 5, 10 ...).
    by : sequence of str, default ('sex',)
        As for :func:`life_table`.
    **kwargs
        Passed to :func:`life_table` (``age``, ``deaths``, ``nax``, ``confidence`` ...).

    Returns
    -------
    pandas.DataFrame
        The ``by`` columns, ``indicator`` (``life_expectancy`` at 0, else
        ``life_expectancy_at_<at>``), ``value`` (years), ``lower``, ``upper``, ``confidence``,
        ``method``. A sex column can be folded into ``indicator`` for ``values.csv``.
    """
    table = life_table(data, by=by, **kwargs)
    if at not in set(table["age"]):
        raise ValueError(f"at must be a start age of the table "
                         f"({', '.join(map(str, sorted(set(table['age']))))}), got {at!r}")
    rows = table[table["age"] == at].reset_index(drop=True)
    name = "life_expectancy" if at == 0 else f"life_expectancy_at_{at}"
    return pd.DataFrame({**{c: rows[c] for c in by}, "indicator": name, "value": rows["ex"],
                         "lower": rows["lower"], "upper": rows["upper"],
                         "confidence": rows["confidence"], "method": rows["method"]})


def ageing_indicators(population: pd.DataFrame, *, by: Sequence[str] = ("unit", "period"),
                      age: str = "age_group", count: str = "population") -> pd.DataFrame:
    """Return the share aged 65 and over and the old-age dependency ratio per group.

    Parameters
    ----------
    population : pandas.DataFrame
        Population by age: ``by`` columns, ``age`` (age-group labels such as ``"0"``,
        ``"1-4"``, ``"60-64"``, ``"65-69"``, ``"100+"`` or start ages; the groups must not
        straddle 15 or 65) and ``count``. Rows of both sexes are summed (and of several
        units or periods when ``by`` leaves them out); the ages of each unit, period and
        sex present must tile 0 to an open group on their own, without a repeated row.
    by : sequence of str, default ('unit', 'period')
        Grouping columns.
    age, count : str
        Column names.

    Returns
    -------
    pandas.DataFrame
        The ``by`` columns, ``indicator`` (``share_aged_65_plus``,
        ``old_age_dependency_ratio``), ``numerator``, ``denominator``, ``value``,
        ``multiplier`` (100), sorted by ``by`` and indicator. No interval: the population
        is a count of everyone, not a sample.

    Raises
    ------
    ValueError
        Missing column, an age value that is not an age or age group, a group straddling
        15 or 65, negative or missing counts, a group whose population (or population
        15-64) is 0.

    Notes
    -----
    share aged 65+ = P(65+) / P(all) x 100; old-age dependency ratio = P(65+) / P(15-64)
    x 100 (persons 65 and over per 100 persons aged 15-64, the UN definition).

    Examples
    --------
    >>> p = pd.DataFrame({"unit": "1", "period": "2024",
    ...                   "age_group": ["0-14", "15-64", "65+"], "population": [20, 60, 20]})
    >>> ageing_indicators(p)[["indicator", "numerator", "denominator", "value"]]
                      indicator  numerator  denominator      value
    0  old_age_dependency_ratio         20           60  33.333333
    1        share_aged_65_plus         20          100  20.000000
    """
    if isinstance(by, str):
        raise TypeError("by must be a sequence of column names, not a string")
    by = list(by)
    missing = [c for c in by + [age, count] if c not in population.columns]
    if missing:
        raise ValueError(f"population lacks column(s) {', '.join(missing)}")
    if population.empty:
        raise ValueError("population has no rows")
    # each unit, period and sex (where there are such columns, summed or not) must tile the
    # ages on its own; a repeated (group, unit, period, sex, age) would be counted twice
    tile_by = by + [c for c in ("unit", "period", "sex") if c in population.columns
                    and c not in by]
    keyed = pd.DataFrame({c: population[c].map(lambda v: v.strip() if isinstance(v, str)
                                                else v) for c in tile_by + [age]})
    dup = keyed.duplicated(keep=False)
    if dup.any():
        shown = keyed[dup].drop_duplicates().head(3).to_dict("records")
        raise ValueError(f"population has duplicate rows for a group and age: {shown}")
    start = age_start(population[age])
    if (start < 0).any():
        shown = ", ".join(map(repr, pd.unique(population[age][start < 0])[:5]))
        raise ValueError(f"age values that are not an age or age group: {shown}")
    end = _age_end(population[age])
    straddle = ((start < 15) & (end > 15)) | ((start < 65) & (end > 65))
    if straddle.any():
        shown = ", ".join(map(repr, pd.unique(population[age][straddle])[:5]))
        raise ValueError(f"age groups straddle 15 or 65, so the indicators cannot be split: "
                         f"{shown}")
    _check_tiling(keyed, tile_by, start, end, age)
    values = _numbers(population[count], count).to_numpy(float)
    if (~np.isfinite(values) | (values < 0)).any():
        raise ValueError(f"{count} must be finite and non-negative")
    frame = population[by].copy()
    frame["old"] = np.where(start >= 65, values, 0.0)
    frame["working"] = np.where((start >= 15) & (start < 65), values, 0.0)
    frame["all"] = values
    sums = frame.groupby(by, sort=True, dropna=False)[["old", "working", "all"]].sum()
    if ((sums["all"] == 0) | (sums["working"] == 0)).any():
        first = sums.index[((sums["all"] == 0) | (sums["working"] == 0)).to_numpy()][0]
        raise ValueError(f"a group has no population (or none aged 15-64): {first!r}")
    sums = sums.reset_index()
    parts = []
    for ind, den in (("old_age_dependency_ratio", "working"), ("share_aged_65_plus", "all")):
        parts.append(sums[by].assign(indicator=ind, numerator=sums["old"],
                                     denominator=sums[den],
                                     value=sums["old"] / sums[den] * 100, multiplier=100))
    out = pd.concat(parts, ignore_index=True).sort_values(by + ["indicator"], kind="stable")
    for c in ("numerator", "denominator"):
        if (out[c] == np.round(out[c])).all():
            out[c] = out[c].astype(np.int64)
    return out.reset_index(drop=True)


def _check_tiling(population: pd.DataFrame, by: list[str], start: np.ndarray, end: np.ndarray,
                  age: str) -> None:
    """The age groups of every group cover 0 to the open group without gaps or overlaps."""
    iv = pd.DataFrame({**{c: population[c].to_numpy() for c in by}, "start": start,
                       "end": end}).drop_duplicates()
    iv = iv.sort_values(by + ["start", "end"], kind="stable")
    if by:
        g = iv.groupby(by, sort=False, dropna=False)
        first = g.cumcount() == 0
        prev_end = g["end"].shift()
        last = g.cumcount(ascending=False) == 0
    else:
        first = pd.Series(np.arange(len(iv)) == 0, index=iv.index)
        prev_end = iv["end"].shift()
        last = pd.Series(np.arange(len(iv)) == len(iv) - 1, index=iv.index)
    bad = (first & (iv["start"] != 0)) | (~first & (iv["start"] != prev_end)) | \
        (last & np.isfinite(iv["end"]))
    if bad.any():
        row = iv[bad].iloc[0]
        where = f" in group {tuple(row[c] for c in by)!r}" if by else ""
        raise ValueError(f"the {age} values must cover every age from 0 to an open group such "
                         f"as '65+' or '100+' without gaps or overlaps: they do not{where}, "
                         f"near age {int(row['start'])}")


def _age_end(values: pd.Series) -> np.ndarray:
    """End (exclusive) of each age-group label: 5 for ``"1-4"``, a large number for
    ``"65+"``, start + 1 for a single age."""
    s = values.astype("string").fillna("")
    hi = s.str.extract(r"[-–~]\s*(\d+)\s*$")[0]
    end = pd.to_numeric(hi, errors="coerce").to_numpy(float) + 1
    plus = s.str.strip().str.endswith("+").to_numpy()
    start = age_start(values).astype(float)
    return np.where(plus, np.inf, np.where(np.isnan(end), start + 1, end))
