"""Seeded generator of a realistic fictional county, at any scale.

``python -m fpanalysis.synth --out data/sample`` regenerates the committed sample byte for
byte. ``--seed``, ``--units`` and ``--years 2020-2024`` make other counties of the same kind;
``--events N --events-out FILE.parquet`` writes an event-level register of N rows in chunks
(no N Python objects) for benchmarks.

The county is fictional (青禾县, code 990101; no real code starts with 99). Every township draws
its own population, women's age structure, total fertility rate, death rate, birth-order mix,
sex ratio at birth by order, policy compliance and service levels; births and deaths follow
seasonal profiles. Counts are drawn as Poisson/binomial variates, so the indicators computed
from them scatter around the parameters exactly as real small-area figures do.

Two townships have villages (the second groups them in areas, 片): the township counts are
split among their villages event by event, so a township computed from its villages equals its
own row. Village counts go to their own file (``counts_villages.csv``), so that ``counts.csv``
holds the townships alone; each village also has supplied values of the six "zero" criteria of
a class-1 village. Every table has its own random stream, so adding one leaves the others
byte-identical.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .schema import AGE_GROUPS, BIRTH_ORDERS, SERVICES

__all__ = [
    "SAMPLE_SEED",
    "SAMPLE_UNITS",
    "SAMPLE_YEARS",
    "VILLAGE_COLUMNS",
    "ZERO_CRITERIA",
    "full_scheme_toml",
    "make_adjustments",
    "make_annual_plan",
    "make_audits",
    "make_counts",
    "make_city_scores",
    "make_events",
    "make_hospital_births",
    "make_population_age",
    "make_units",
    "make_values",
    "make_village_counts",
    "make_village_values",
    "make_villages",
    "main",
    "parameters",
    "plant_problems",
    "targets_toml",
    "village_parameters",
    "write_event_register",
    "write_events",
    "write_sample",
]

SAMPLE_SEED = 20241
SAMPLE_UNITS = 18
SAMPLE_YEARS = (2022, 2024)
COUNTY_CODE = "990101"
COUNTY_NAME = "青禾县"

#: Share of a woman's lifetime births falling in each 5-year age group (sums to 1).
ASFR_SHAPE = np.array([0.03, 0.22, 0.34, 0.24, 0.12, 0.04, 0.01])
#: Relative monthly intensity of births (autumn peak) and deaths (winter peak), mean 1.
BIRTH_SEASON = np.array([1.02, 0.92, 0.95, 0.93, 0.95, 0.97, 1.0, 1.03, 1.07, 1.08, 1.04, 1.04])
DEATH_SEASON = np.array([1.15, 1.1, 1.05, 0.95, 0.9, 0.88, 0.9, 0.92, 0.95, 1.0, 1.05, 1.15])

_FIRST = list("青柳白金松桃龙清梅石枫双杨马凤云花东西南北黄红新古长安兴永太")
_SECOND = list("石河沙竹岭源泉水溪门林桥柳鞍凰台坪岗湖土岩田城乐平隆和山")
_SUFFIX = ("镇", "乡")


def _names(n: int, rng: np.random.Generator) -> list[str]:
    pairs = [a + b for a in _FIRST for b in _SECOND if a != b]
    order = rng.permutation(len(pairs))
    names = []
    for i in range(n):
        base = pairs[order[i % len(pairs)]]
        suffix = _SUFFIX[int(order[i % len(pairs)]) % 5 == 0]
        names.append(base + suffix if i < len(pairs) else f"{base}{i // len(pairs) + 1}{suffix}")
    return names


def make_units(n_units: int = SAMPLE_UNITS, *, seed: int = SAMPLE_SEED) -> pd.DataFrame:
    """Return the unit table: the county and ``n_units`` townships with codes and names."""
    if n_units < 1:
        raise ValueError(f"n_units must be at least 1, got {n_units}")
    rng = np.random.default_rng([seed, 1])
    width = max(3, len(str(100 + n_units)))
    codes = [COUNTY_CODE + str(100 + i + 1).zfill(width) for i in range(n_units)]
    towns = pd.DataFrame({"unit": codes, "name": _names(n_units, rng),
                          "parent": COUNTY_CODE, "level": "township"})
    county = pd.DataFrame({"unit": [COUNTY_CODE], "name": [COUNTY_NAME], "parent": [""],
                           "level": ["county"]})
    return pd.concat([county, towns], ignore_index=True)


def parameters(n_units: int = SAMPLE_UNITS, *, seed: int = SAMPLE_SEED) -> pd.DataFrame:
    """Return the true per-township parameters the generator draws counts from.

    Columns: ``unit``, ``population0`` (mean population in the first month), ``growth``
    (annual), ``women_share`` (women 15-49 / population), ``tfr``, ``cdr`` (per 1000),
    ``imr`` (infant deaths per birth), ``p_o1``, ``p_o3p`` (birth-order shares),
    ``srb_o1``, ``srb_o2``, ``srb_o3p`` (males per 100 females), ``compliance`` and one level
    per service (``p_<service key>``), ``false_rate`` (share of reported cases that audits
    find false) and ``hospital_ratio`` (hospital-reported births / registered births).

    A few townships are made to miss targets: two have high fertility (natural growth above
    8.5 per mille), up to three have a high sex ratio at second and later births, two have
    low compliance, one falsifies reports, and the last one or two are small (2,500-4,000
    people) so that their rates swing.
    """
    rng = np.random.default_rng([seed, 2])
    n = n_units
    units = make_units(n, seed=seed)["unit"].to_numpy()[1:]
    pop0 = np.clip(rng.lognormal(np.log(26000), 0.45, n), 8000, 90000)
    small = [n - 1] + ([n - 2] if n >= 15 else [])
    pop0[small] = rng.uniform(2500, 4000, len(small))
    tfr = np.clip(rng.normal(1.45, 0.15, n), 1.1, 1.9)
    srb_o2 = rng.normal(111, 2.5, n)
    srb_o3p = rng.normal(118, 4, n)
    compliance = rng.uniform(0.87, 0.96, n)
    false_rate = rng.uniform(0.005, 0.03, n)
    hospital_ratio = np.ones(n)
    if n >= 6:
        picks = rng.permutation(n - len(small))  # the special roles go to larger townships
        tfr[picks[:2]] = rng.uniform(2.15, 2.35, 2)
        high = picks[2:5]
        srb_o2[high] = rng.uniform(138, 152, len(high))
        srb_o3p[high] = rng.uniform(150, 175, len(high))
        compliance[picks[5:7]] = rng.uniform(0.78, 0.84, len(picks[5:7]))
        false_rate[picks[7:8]] = 0.18
        hospital_ratio[picks[8:9]] = 1.15
    out = pd.DataFrame({
        "unit": units,
        "population0": pop0,
        "growth": rng.normal(0.002, 0.003, n),
        "women_share": rng.normal(0.25, 0.012, n),
        "tfr": tfr,
        "cdr": rng.uniform(6.0, 8.0, n),
        "imr": rng.uniform(0.002, 0.006, n),
        "p_o1": np.clip(rng.normal(0.48, 0.04, n), 0.35, 0.6),
        "p_o3p": np.clip(rng.normal(0.09, 0.03, n), 0.02, 0.2),
        "srb_o1": np.full(n, 106.0),
        "srb_o2": srb_o2,
        "srb_o3p": srb_o3p,
        "compliance": compliance,
        "false_rate": false_rate,
        "hospital_ratio": hospital_ratio,
    })
    full = rng.uniform(0, 1, n) < 0.7
    levels = {
        "healthcare_coverage": np.where(full, 1.0, rng.uniform(0.97, 0.995, n)),
        "early_registration_rate": rng.uniform(0.52, 0.85, n),
        "antenatal_followup_rate": rng.uniform(0.86, 0.99, n),
        "migrant_service_coverage": rng.uniform(0.92, 0.995, n),
        "postpartum_visit_rate": rng.uniform(0.74, 0.95, n),
        "counselling_followup_rate": np.where(rng.uniform(0, 1, n) < 0.6, 1.0,
                                              rng.uniform(0.95, 0.995, n)),
        "checkup_completion_ratio": rng.uniform(0.9, 1.15, n),
    }
    for key, value in levels.items():
        out[f"p_{key}"] = value
    return out


def _women_by_age(rng: np.random.Generator, n: int) -> np.ndarray:
    base = np.array([0.13, 0.13, 0.15, 0.16, 0.15, 0.14, 0.14])
    shares = base * rng.uniform(0.85, 1.15, (n, len(base)))
    return shares / shares.sum(axis=1, keepdims=True)


def make_counts(params: pd.DataFrame, years: tuple[int, int] = SAMPLE_YEARS, *,
                seed: int = SAMPLE_SEED) -> pd.DataFrame:
    """Draw monthly counts for every township in ``params`` over the calendar ``years``.

    All draws are vectorized over units x months (x age groups); nothing loops over rows.

    Returns
    -------
    pandas.DataFrame
        ``unit``, ``period`` (``period[M]``) and every count column of the contract, as int64.
    """
    rng = np.random.default_rng([seed, 3])
    first, last = years
    months = pd.period_range(f"{first}-01", f"{last}-12", freq="M")
    n, m = len(params), len(months)
    p = {c: params[c].to_numpy()[:, None] for c in params.columns if c != "unit"}
    t = np.arange(m)[None, :] / 12.0
    d = months.days_in_month.to_numpy()[None, :].astype(float)
    ydays = np.where(months.is_leap_year, 366.0, 365.0)[None, :]
    frac = d / ydays
    moy = months.month.to_numpy() - 1
    season_b, season_d = BIRTH_SEASON[moy][None, :], DEATH_SEASON[moy][None, :]

    pop = np.rint(p["population0"] * (1 + p["growth"]) ** t)
    agedist = _women_by_age(rng, n)
    women = np.rint(pop[:, :, None] * p["women_share"][:, :, None] * agedist[:, None, :])
    asfr = p["tfr"][:, :, None] / 5 * ASFR_SHAPE[None, None, :]
    births_age = rng.poisson(women * asfr * (frac * season_b)[:, :, None])
    births = births_age.sum(axis=2)

    o1 = rng.binomial(births, p["p_o1"])
    o2 = rng.binomial(births - o1, (1 - p["p_o1"] - p["p_o3p"]) / (1 - p["p_o1"]))
    o3p = births - o1 - o2
    cols: dict[str, np.ndarray] = {}
    male_total = np.zeros_like(births)
    for order, k in (("o1", o1), ("o2", o2), ("o3p", o3p)):
        srb = p[f"srb_{order}"]
        male = rng.binomial(k, srb / (100 + srb))
        cols[f"births_male_{order}"], cols[f"births_female_{order}"] = male, k - male
        male_total += male
    deaths_infant = rng.binomial(births, p["imr"])
    deaths = deaths_infant + rng.poisson(pop * p["cdr"] / 1000 * frac * season_d)
    expected_births = pop * p["tfr"] / 5 * p["women_share"] * frac * 1.0

    def served(due: np.ndarray, key: str) -> np.ndarray:
        return rng.binomial(due, np.minimum(p[f"p_{key}"], 1.0))

    eligible = rng.poisson(expected_births * 1.2)
    registered = rng.poisson(expected_births * 1.05)
    antenatal_due = rng.poisson(expected_births * 2.0)
    migrants_due = rng.poisson(pop * 0.004)
    counselling_due = rng.poisson(pop * 0.0004)
    planned = np.rint(expected_births * 1.1)

    cols = {
        "births": births,
        "births_male": male_total,
        "births_female": births - male_total,
        **cols,
        "deaths": deaths,
        "deaths_infant": deaths_infant,
        "population": pop,
        "births_compliant": rng.binomial(births, p["compliance"]),
        "women_15_49": women.sum(axis=2),
        **{f"women_{a}": women[:, :, i] for i, a in enumerate(AGE_GROUPS)},
        **{f"births_age_{a}": births_age[:, :, i] for i, a in enumerate(AGE_GROUPS)},
    }
    dues = {
        "healthcare_coverage": eligible,
        "early_registration_rate": registered,
        "antenatal_followup_rate": antenatal_due,
        "migrant_service_coverage": migrants_due,
        "postpartum_visit_rate": births,
        "counselling_followup_rate": counselling_due,
    }
    for s in SERVICES:
        if s.kind == "coverage":
            cols[s.numerator] = served(dues[s.key], s.key)
            cols[s.denominator] = dues[s.key]
        else:
            cols[s.numerator] = rng.poisson(planned * p[f"p_{s.key}"])
            cols[s.denominator] = planned
    frame = pd.DataFrame({
        "unit": np.repeat(params["unit"].to_numpy(), m),
        "period": pd.PeriodIndex(np.tile(months, n), freq="M"),
    })
    for c, v in cols.items():
        frame[c] = v.reshape(-1).astype(np.int64)
    return frame


def make_audits(counts: pd.DataFrame, params: pd.DataFrame, *, seed: int = SAMPLE_SEED
                ) -> pd.DataFrame:
    """Quarterly audit re-checks of reported births, policy-compliant births and deaths.

    Each quarter 15-30 reported cases per item are re-checked (all of them if fewer were
    reported) and those found false are counted, at the township's ``false_rate``.
    """
    rng = np.random.default_rng([seed, 4])
    q = counts.assign(quarter=counts["period"].dt.asfreq("Q"))
    sums = q.groupby(["unit", "quarter"], sort=True)[["births", "births_compliant",
                                                        "deaths"]].sum()
    long = sums.stack().rename("reported").reset_index()
    long.columns = ["unit", "period", "item", "reported"]
    rate = long["unit"].map(params.set_index("unit")["false_rate"]).to_numpy()
    reported = long["reported"].to_numpy()
    checked = np.minimum(reported, rng.integers(15, 31, len(long)))
    long["checked"] = checked
    long["false_found"] = rng.binomial(checked, rate)
    long["period"] = long["period"].astype(str)
    return long[["unit", "period", "item", "reported", "checked", "false_found"]]


def make_hospital_births(counts: pd.DataFrame, params: pd.DataFrame, *,
                         seed: int = SAMPLE_SEED) -> pd.DataFrame:
    """A second source of births (hospital delivery records) for consistency checks.

    Hospitals see almost every registered birth (each is recorded with probability 0.985)
    plus a few births the register missed; in the township whose ``hospital_ratio`` is 1.15
    the register misses about one birth in eight.
    """
    rng = np.random.default_rng([seed, 5])
    ratio = counts["unit"].map(params.set_index("unit")["hospital_ratio"]).to_numpy()
    out = counts[["unit", "period"]].copy()
    for sex in ("male", "female"):
        b = counts[f"births_{sex}"].to_numpy()
        out[f"births_{sex}"] = rng.binomial(b, 0.985) + rng.poisson(b * (ratio - 0.985 + 0.01))
    return out


def make_values(params: pd.DataFrame, years: tuple[int, int] = SAMPLE_YEARS, *,
                seed: int = SAMPLE_SEED) -> pd.DataFrame:
    """Supplied values: substantiated complaints per township and quarter (a count that the
    scheme deducts points for), as a figure that comes from outside the counts."""
    rng = np.random.default_rng([seed, 7])
    quarters = pd.period_range(f"{years[0]}Q1", f"{years[1]}Q4", freq="Q")
    rate = rng.gamma(1.5, 0.2, len(params))
    n = len(quarters)
    return pd.DataFrame({
        "unit": np.repeat(params["unit"].to_numpy(), n),
        "period": np.tile(quarters.astype(str), len(params)),
        "indicator": "substantiated_complaints",
        "value": rng.poisson(np.repeat(rate, n)),
    })


def make_city_scores(params: pd.DataFrame, years: tuple[int, int] = SAMPLE_YEARS, *,
                     seed: int = SAMPLE_SEED) -> pd.DataFrame:
    """The city's own assessment score of each township per year (0-100), to be combined
    with the county's quarterly scores for the year-end standing."""
    rng = np.random.default_rng([seed, 8])
    yrs = np.arange(years[0], years[1] + 1)
    base = rng.normal(84, 5, len(params))
    score = np.clip(np.repeat(base, len(yrs)) + rng.normal(0, 3, len(params) * len(yrs)),
                    50, 100)
    return pd.DataFrame({"unit": np.repeat(params["unit"].to_numpy(), len(yrs)),
                         "period": np.tile(yrs.astype(str), len(params)),
                         "score": np.round(score, 1)})


# --------------------------------------------------------------------------- villages and areas

#: The six "zero" criteria of a class-1 village, supplied per village and quarter (and year):
#: key, Chinese label of the target that asks for zero.
ZERO_CRITERIA: tuple[tuple[str, str], ...] = (
    ("statistics_errors", "出生统计零差错"),
    ("overdue_services", "到期服务零积压"),
    ("missed_registrations", "育龄妇女零漏登"),
    ("missed_followups", "孕期随访零漏访"),
    ("health_education_gaps", "健康教育零空白"),
    ("sex_selection_cases", "性别选择零发生"),
)

_AREA_NAMES = ("东片", "西片", "南片", "北片", "中片")
#: Villages of the first township with villages (directly under it), and per area of the
#: second (its villages are all in areas).
_DIRECT_VILLAGES = 7
_AREA_VILLAGES = (3, 3, 3)
_BIRTH_CELLS = tuple(f"births_{sex}_{o}" for o in BIRTH_ORDERS for sex in ("male", "female"))
#: Columns of the village counts, in contract order.
VILLAGE_COLUMNS: tuple[str, ...] = (
    "births", "births_male", "births_female", *_BIRTH_CELLS, "deaths", "deaths_infant",
    "population", "births_compliant", "postpartum_visited_timely", "postpartum_due")


def _village_townships(params: pd.DataFrame) -> list[str]:
    """The (up to) two townships that get villages: the first two without a special role
    (ordinary fertility, sex ratio, compliance and reporting, not small), else the first."""
    ordinary = ((params["tfr"] < 2) & (params["srb_o2"] < 130) & (params["compliance"] >= 0.86)
                & (params["false_rate"] < 0.1) & (params["hospital_ratio"] == 1)
                & (params["population0"] >= 4000))
    chosen = params.loc[ordinary, "unit"].tolist()
    if len(chosen) < 2:
        chosen = params["unit"].tolist()
    return [str(u) for u in chosen[:2]]


def village_parameters(params: pd.DataFrame, years: tuple[int, int] = SAMPLE_YEARS, *,
                       seed: int = SAMPLE_SEED) -> pd.DataFrame:
    """Return the areas and villages of the county with the parameters villages are drawn by.

    The first township chosen (see below) has :data:`_DIRECT_VILLAGES` villages directly
    under it, the last of them a hamlet of about 350 people that has no births in the second
    quarter of the last year (for ``when_empty``); the second has three areas (片) of three
    villages each. The townships are the first two without a special role in
    :func:`parameters` (ordinary fertility, sex ratio, compliance and reporting, not small).
    Codes: a village is its township's code + ``2NN``, an area its township's code + ``90N``.

    Returns
    -------
    pandas.DataFrame
        One row per area and village: ``unit``, ``name``, ``parent``, ``level`` (``area`` or
        ``village``), ``township``, and for villages (NaN or '' for areas) ``share`` (of the
        township's population, births and deaths; the shares of a township sum to 1),
        ``role`` (``clean``: all six zero criteria met; ``good``: no statistics error, a
        missed zero elsewhere each year, high compliance and postpartum visits; ``weak``: a
        statistics error each year, more births outside policy and fewer visits),
        ``compliance_weight`` and ``visit_weight`` (how strongly policy-compliant births and
        timely postpartum visits go to the village rather than its neighbours) and
        ``empty_quarter`` (the quarter without births, or '').
    """
    rng = np.random.default_rng([seed, 9])
    towns = _village_townships(params)
    pairs = [a + b for a in _FIRST for b in _SECOND if a != b]
    n_villages = _DIRECT_VILLAGES + (sum(_AREA_VILLAGES) if len(towns) > 1 else 0)
    names = iter(pairs[i] + "村" for i in rng.permutation(len(pairs))[:n_villages])
    rows: list[dict[str, object]] = []
    first = towns[0]
    share = rng.dirichlet(np.full(_DIRECT_VILLAGES - 1, 6.0))
    hamlet = 350 / float(params.set_index("unit").loc[first, "population0"])
    share = np.append(share * (1 - hamlet), hamlet)
    for i in range(_DIRECT_VILLAGES):
        rows.append({"unit": f"{first}{201 + i}", "name": next(names), "parent": first,
                     "level": "village", "township": first, "share": share[i],
                     "empty_quarter": f"{years[1]}Q2" if i == _DIRECT_VILLAGES - 1 else ""})
    if len(towns) > 1:
        second = towns[1]
        share = rng.dirichlet(np.full(sum(_AREA_VILLAGES), 6.0))
        k = 0
        for j, size in enumerate(_AREA_VILLAGES):
            area = f"{second}{901 + j}"
            rows.append({"unit": area, "name": _AREA_NAMES[j], "parent": second,
                         "level": "area", "township": second, "share": np.nan,
                         "empty_quarter": ""})
            for _ in range(size):
                rows.append({"unit": f"{second}{201 + k}", "name": next(names), "parent": area,
                             "level": "village", "township": second, "share": share[k],
                             "empty_quarter": ""})
                k += 1
    out = pd.DataFrame(rows)
    village = (out["level"] == "village").to_numpy()
    n = int(village.sum())
    n_clean, n_weak = max(1, round(n / 4)), max(1, round(n / 3))
    roles = np.array(["clean"] * n_clean + ["weak"] * n_weak + ["good"] * (n - n_clean - n_weak))
    out["role"] = ""
    out.loc[village, "role"] = roles[rng.permutation(n)]
    weak = (out["role"] == "weak").to_numpy()
    out["compliance_weight"] = np.where(village, np.where(weak, 0.5, 2.5), np.nan)
    out["visit_weight"] = np.where(village, np.where(weak, 0.5, 2.0), np.nan)
    return out


def make_villages(params: pd.DataFrame, *, seed: int = SAMPLE_SEED) -> pd.DataFrame:
    """Return the units-table rows of the county's areas and villages (see
    :func:`village_parameters`): ``unit``, ``name``, ``parent``, ``level``."""
    return village_parameters(params, seed=seed)[["unit", "name", "parent", "level"]]


def _rank_within(group: np.ndarray, key: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Rank (0-based) of each record by ``key`` within its group; groups are 0..len(sizes)-1
    and ``sizes`` their record counts."""
    order = np.lexsort((key, group))
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rank = np.empty(len(group), dtype=np.int64)
    rank[order] = np.arange(len(group)) - offsets[group[order]]
    return rank


def _draw_village(rng: np.random.Generator, month: np.ndarray, weights: np.ndarray
                  ) -> np.ndarray:
    """Draw a village for each record from its month's row of ``weights`` (months x
    villages); a village of weight 0 never gets one."""
    cum = np.cumsum(weights, axis=1)
    x = rng.uniform(0, 1, len(month)) * cum[month, -1]
    pick = (x[:, None] >= cum[month]).sum(axis=1)
    last = weights.shape[1] - 1 - np.argmax(weights[:, ::-1] > 0, axis=1)
    return np.minimum(pick, last[month])


def make_village_counts(counts: pd.DataFrame, villages: pd.DataFrame, *,
                        seed: int = SAMPLE_SEED) -> pd.DataFrame:
    """Split the monthly counts of each township with villages among its villages.

    Every birth of the township's month (with its sex and order, whether it complied with
    policy and whether its postpartum visit was timely) and every death (infant or not) is
    given to one village, so the villages of a township sum **exactly** to the township's
    row in every column; population is split by the villages' shares (largest remainders,
    so it sums exactly too). Births go to villages by their shares (none to a village in its
    ``empty_quarter``), compliant births and timely visits preferably to villages of high
    ``compliance_weight`` / ``visit_weight`` (each birth draws an exponential key divided
    by its village's weight; the month's compliant births are those with the smallest
    keys). No loop over records: only over the (two) townships.

    Returns
    -------
    pandas.DataFrame
        ``unit``, ``period`` (``period[M]``) and :data:`VILLAGE_COLUMNS` as int64, sorted by
        unit and period.
    """
    rng = np.random.default_rng([seed, 10])
    vill = villages[villages["level"] == "village"]
    pieces = []
    for town, vs in vill.groupby("township", sort=True):  # the two townships with villages
        rows = counts[counts["unit"] == town].sort_values("period", kind="stable")
        months = pd.PeriodIndex(rows["period"], freq="M")
        m, k = len(rows), len(vs)
        share = vs["share"].to_numpy(dtype=float)
        births_w = np.tile(share, (m, 1))
        quarter = months.asfreq("Q").astype(str).to_numpy()
        empty = vs["empty_quarter"].to_numpy(dtype=object)
        births_w[quarter[:, None] == empty[None, :]] = 0.0
        cells = rows[list(_BIRTH_CELLS)].to_numpy(dtype=np.int64)  # months x cells
        births = cells.sum(axis=1)
        n_cells = len(_BIRTH_CELLS)
        month = np.repeat(np.repeat(np.arange(m), n_cells), cells.reshape(-1))
        cell = np.repeat(np.tile(np.arange(n_cells), m), cells.reshape(-1))
        village = _draw_village(rng, month, births_w)
        flags = {}
        for col, weight in (("births_compliant", "compliance_weight"),
                            ("postpartum_visited_timely", "visit_weight")):
            key = rng.exponential(1.0, len(month)) / vs[weight].to_numpy(float)[village]
            rank = _rank_within(month, key, births)
            flags[col] = rank < rows[col].to_numpy(dtype=np.int64)[month]
        deaths = rows["deaths"].to_numpy(dtype=np.int64)
        d_month = np.repeat(np.arange(m), deaths)
        offsets = np.concatenate([[0], np.cumsum(deaths)[:-1]])
        infant = (np.arange(len(d_month)) - offsets[d_month]
                  < rows["deaths_infant"].to_numpy(dtype=np.int64)[d_month])
        d_village = _draw_village(rng, d_month, np.tile(share, (m, 1)))
        pop = rows["population"].to_numpy(dtype=np.int64)
        exact = pop[:, None] * share[None, :]
        base = np.floor(exact).astype(np.int64)
        left = pop - base.sum(axis=1)  # 0..k-1 people left by rounding down
        order = np.argsort(-(exact - base), axis=1, kind="stable")
        base += np.argsort(order, axis=1, kind="stable") < left[:, None]

        def tally(v: np.ndarray, mo: np.ndarray, mask: np.ndarray | None = None,
                  m: int = m, k: int = k) -> np.ndarray:
            idx = v * m + mo if mask is None else (v * m + mo)[mask]
            return np.bincount(idx, minlength=k * m)

        cols = {c: tally(village[cell == i], month[cell == i])
                for i, c in enumerate(_BIRTH_CELLS)}
        male = sum(cols[c] for c in _BIRTH_CELLS if "_male_" in c)
        female = sum(cols[c] for c in _BIRTH_CELLS if "_female_" in c)
        total = tally(village, month)
        out = {
            "births": total, "births_male": male, "births_female": female, **cols,
            "deaths": tally(d_village, d_month),
            "deaths_infant": tally(d_village, d_month, infant),
            "population": base.T.reshape(-1),
            "births_compliant": tally(village, month, flags["births_compliant"]),
            "postpartum_visited_timely": tally(village, month,
                                               flags["postpartum_visited_timely"]),
            "postpartum_due": total,
        }
        frame = pd.DataFrame({"unit": np.repeat(vs["unit"].to_numpy(dtype=object), m),
                              "period": pd.PeriodIndex(np.tile(months, k), freq="M")})
        for c in VILLAGE_COLUMNS:
            frame[c] = np.asarray(out[c]).astype(np.int64)
        pieces.append(frame)
    frame = pd.concat(pieces, ignore_index=True)
    return frame.sort_values(["unit", "period"], kind="stable").reset_index(drop=True)


def make_village_values(villages: pd.DataFrame, years: tuple[int, int] = SAMPLE_YEARS, *,
                        seed: int = SAMPLE_SEED) -> pd.DataFrame:
    """Supplied values of the six zero criteria (:data:`ZERO_CRITERIA`) per village, for each
    quarter and each year (the year's value is the sum of its quarters: they count cases).

    ``clean`` villages have none; ``good`` villages have no statistics error and at least
    one case of another criterion each year; ``weak`` villages at least one statistics
    error each year and more cases of the others. Sex-selection cases are rarer.

    Returns
    -------
    pandas.DataFrame
        ``unit``, ``period`` (``2024Q1`` ... ``2024Q4``, ``2024``), ``indicator``, ``value``
        (int), each village's quarters of a year followed by the year.
    """
    rng = np.random.default_rng([seed, 11])
    vill = villages[villages["level"] == "village"]
    role = vill["role"].to_numpy()
    yrs = np.arange(years[0], years[1] + 1)
    n_v, n_y, n_i = len(vill), len(yrs), len(ZERO_CRITERIA)
    rate = rng.gamma(1.5, 0.12, (n_v, n_i)) * np.where(role == "weak", 2.5, 1.0)[:, None]
    rate[:, 0] = np.where(role == "weak", rng.gamma(2.0, 0.25, n_v), 0.0)
    rate[:, -1] *= 0.2
    rate[role == "clean"] = 0.0
    x = rng.poisson(np.broadcast_to(rate[:, None, None, :], (n_v, n_y, 4, n_i))).copy()
    # the roles hold every year: a weak village errs at least once, a good one misses a zero
    q = rng.integers(0, 4, (n_v, n_y))
    weak_clean = (role == "weak")[:, None] & (x[:, :, :, 0].sum(axis=2) == 0)
    v, y = np.nonzero(weak_clean)
    x[v, y, q[v, y], 0] += 1
    which = rng.integers(1, n_i - 1, (n_v, n_y))
    good_clean = (role == "good")[:, None] & (x[:, :, :, 1:].sum(axis=(2, 3)) == 0)
    v, y = np.nonzero(good_clean)
    x[v, y, q[v, y], which[v, y]] += 1
    full = np.concatenate([x, x.sum(axis=2, keepdims=True)], axis=2)  # 4 quarters + year
    labels = np.array([[f"{yr}Q{i}" for i in range(1, 5)] + [str(yr)] for yr in yrs]).reshape(-1)
    return pd.DataFrame({
        "unit": np.repeat(vill["unit"].to_numpy(dtype=object), n_y * 5 * n_i),
        "period": np.tile(np.repeat(labels, n_i), n_v),
        "indicator": np.tile(np.array([k for k, _ in ZERO_CRITERIA]), n_v * n_y * 5),
        "value": full.reshape(-1).astype(np.int64),
    })


def make_annual_plan(counts: pd.DataFrame, *, seed: int = SAMPLE_SEED) -> pd.DataFrame:
    """Each township's annual plan of pre-pregnancy check-ups per year: about the year's sum
    of ``checkups_planned`` (times 0.97-1.05), rounded to tens.

    Returns
    -------
    pandas.DataFrame
        ``unit``, ``period`` (the year, e.g. ``2024``), ``plan`` (int).
    """
    rng = np.random.default_rng([seed, 12])
    yearly = counts.groupby([counts["unit"], counts["period"].dt.year.rename("year")],
                            sort=True)["checkups_planned"].sum()
    factor = rng.uniform(0.97, 1.05, len(yearly))
    plan = np.round(yearly.to_numpy() * factor / 10).astype(np.int64) * 10
    keys = yearly.index.to_frame(index=False)
    return pd.DataFrame({"unit": keys["unit"].to_numpy(), "period": keys["year"].astype(str),
                         "plan": plan})


def make_adjustments(params: pd.DataFrame, years: tuple[int, int] = SAMPLE_YEARS, *,
                     seed: int = SAMPLE_SEED) -> pd.DataFrame:
    """Year-end adjustments of the last two years: per-case deductions (falsified births
    found by the year-end audit, 1 point each, for the township that falsifies reports;
    concealed births, 2 points each, for another township) and a bonus (+2) for a third.

    Returns
    -------
    pandas.DataFrame
        ``unit``, ``period`` (year), ``points`` (negative for deductions), ``reason``; one
        row per unit and year.
    """
    rng = np.random.default_rng([seed, 13])
    codes = params["unit"].astype(str).to_numpy()
    liar = codes[int(np.argmax(params["false_rate"].to_numpy()))]
    rows = []
    for year in range(max(years[0], years[1] - 1), years[1] + 1):  # the last two years
        others = rng.permutation(codes[codes != liar])
        n_false, n_hidden = int(rng.integers(2, 5)), int(rng.integers(1, 3))
        rows.append((liar, str(year), -n_false, f"年终核查虚报出生{n_false}例，每例扣1分"))
        if len(others) > 0:
            rows.append((others[0], str(year), -2 * n_hidden,
                         f"年终核查瞒报出生{n_hidden}例，每例扣2分"))
        if len(others) > 1:
            rows.append((others[1], str(year), 2, "获评市级人口监测先进单位，加2分"))
    out = pd.DataFrame(rows, columns=["unit", "period", "points", "reason"])
    return out.sort_values(["period", "unit"], kind="stable").reset_index(drop=True)


#: Share of the population in each 5-year group 0-4, 5-9, ..., 95-99, 100+ of a rural
#: Chinese county in the 2020s (young adults working away, many aged 45-64), both sexes.
_AGE_SHARE = np.array([0.045, 0.055, 0.058, 0.052, 0.045, 0.050, 0.065, 0.062, 0.060, 0.075,
                       0.085, 0.080, 0.060, 0.058, 0.045, 0.028, 0.016, 0.008, 0.0025, 0.0005,
                       0.00005])
#: Share of men in each 5-year group (high sex ratio at birth in the young, women outliving
#: men in the old).
_MALE_SHARE = np.array([0.53] * 4 + [0.51] * 8 + [0.50] * 2 + [0.47] * 2 + [0.42] * 2
                       + [0.33] * 3)
#: Central death rates at ages 1-4, 5-9, ..., 100+ (both sexes), and the sex multipliers.
_MX = np.array([0.0003, 0.00018, 0.0002, 0.0004, 0.0005, 0.0006, 0.0008, 0.0011, 0.0017,
                0.0026, 0.004, 0.006, 0.010, 0.016, 0.028, 0.048, 0.085, 0.14, 0.22, 0.33,
                0.5])
_MX_SEX = {"male": 1.35, "female": 0.7}


def make_population_age(counts: pd.DataFrame, params: pd.DataFrame, *,
                        seed: int = SAMPLE_SEED) -> pd.DataFrame:
    """Population (mid-year) and deaths by township, year, sex and abridged age group.

    Consistent with ``counts``: per township and year the population sums to the
    day-weighted mean of the monthly populations (rounded), the women 15-19 ... 45-49 are
    the yearly means of the counts' women by age group, and the deaths sum to the year's
    monthly deaths exactly. Age 0 holds 99.5 % of the year's births of each sex and the
    year's infant deaths (55 % of them boys); the rest of the population is split over
    sex and age groups 1-4 ... 100+ after a rural county's age structure (each township
    its own, ±8 %), the rest of the deaths in proportion to population x a death-rate
    schedule. Vectorized over township-years; its own random stream.

    Returns
    -------
    pandas.DataFrame
        ``unit``, ``period`` (the year), ``sex``, ``age_group`` (``0``, ``1-4``, ...,
        ``100+``), ``population``, ``deaths``, sorted in that order (male first, ages
        ascending).
    """
    from .schema import POPULATION_AGE_GROUPS

    rng = np.random.default_rng([seed, 20])
    units = params["unit"].to_numpy()
    shares = _AGE_SHARE[None, :] * rng.lognormal(0, 0.08, (len(units), len(_AGE_SHARE)))
    women = [f"women_{a}" for a in AGE_GROUPS]
    frame = counts[["unit", "period", "population", "deaths", "deaths_infant",
                    "births_male", "births_female"]].copy()
    days = frame["period"].dt.days_in_month.to_numpy()
    frame["year"] = frame["period"].dt.year
    stocks = ["population"] + women
    for c in stocks:  # day-weighted sums, for the year's mean stock
        frame[f"pd_{c}"] = counts[c].to_numpy() * days
    frame["days"] = days
    y = frame.groupby(["unit", "year"], sort=True)[
        [f"pd_{c}" for c in stocks] + ["days", "deaths", "deaths_infant", "births_male",
                                       "births_female"]].sum()
    r = len(y)
    mean = {c: np.rint(y[f"pd_{c}"].to_numpy() / y["days"].to_numpy()).astype(np.int64)
            for c in stocks}
    total = mean["population"]
    fertile = np.stack([mean[c] for c in women], axis=1)  # women 15-19 ... 45-49
    row_unit = np.searchsorted(units, y.index.get_level_values("unit"))
    # age 0: the year's births (less a few infant deaths), and the infant deaths
    infant = y["deaths_infant"].to_numpy()
    infant_m = rng.binomial(infant, 0.55)
    infant_sex = np.stack([infant_m, infant - infant_m], axis=1)
    births = y[["births_male", "births_female"]].to_numpy()
    age0 = np.maximum(np.rint(births * 0.995).astype(np.int64), infant_sex)
    # women 15-49 are the counts' women by age group (their yearly mean), men 15-49 as many
    # times the sex ratio of those ages; the rest of ages 1-4 ... 100+ by the age structure
    # (1-4 takes four fifths of the 0-4 share)
    group = shares[row_unit].copy()
    group[:, 0] *= 0.8
    p = np.concatenate([group * _MALE_SHARE, group * (1 - _MALE_SHARE)], axis=1)
    ages = np.arange(3, 10)  # 15-19 ... 45-49 among groups 1-4 ... 100+
    ratio = _MALE_SHARE[ages] / (1 - _MALE_SHARE[ages])
    men = np.rint(fertile * ratio * rng.lognormal(0, 0.03, fertile.shape)).astype(np.int64)
    fixed = np.concatenate([ages, 21 + ages])
    p[:, fixed] = 0
    p /= p.sum(axis=1, keepdims=True)
    rest = rng.multinomial(total - age0.sum(axis=1) - fertile.sum(axis=1) - men.sum(axis=1), p)
    rest[:, ages], rest[:, 21 + ages] = men, fertile
    mx = np.concatenate([_MX * _MX_SEX["male"], _MX * _MX_SEX["female"]])
    w = rest * mx[None, :]
    dead = rng.multinomial(y["deaths"].to_numpy() - infant, w / w.sum(axis=1, keepdims=True))
    # a tiny township can draw more deaths than people in a cell: move the excess to the
    # most populous cell aged 60+ of its sex-year row (never needed in the sample)
    excess = np.maximum(dead - rest, 0)
    if excess.any():
        old = np.where(np.tile(np.arange(21) >= 13, 2)[None, :], rest, -1)
        dead -= excess
        np.add.at(dead, (np.arange(r), old.argmax(axis=1)), excess.sum(axis=1))
        if (dead > rest).any():
            raise RuntimeError("the generator drew more deaths than people in a cell")
    k = len(POPULATION_AGE_GROUPS)
    pop = np.empty((r, 2, k), dtype=np.int64)
    deaths = np.empty((r, 2, k), dtype=np.int64)
    pop[:, :, 0], deaths[:, :, 0] = age0, infant_sex
    pop[:, :, 1:] = rest.reshape(r, 2, k - 1)
    deaths[:, :, 1:] = dead.reshape(r, 2, k - 1)
    return pd.DataFrame({
        "unit": np.repeat(y.index.get_level_values("unit").to_numpy(), 2 * k),
        "period": np.repeat(y.index.get_level_values("year").astype(str).to_numpy(), 2 * k),
        "sex": np.tile(np.repeat(["male", "female"], k), r),
        "age_group": np.tile(POPULATION_AGE_GROUPS, 2 * r),
        "population": pop.reshape(-1),
        "deaths": deaths.reshape(-1),
    })


#: The township targets of the sample scheme: indicator, label, op, threshold, points, scoring,
#: extra keys (thresholds of a real county's scheme).
_TOWNSHIP_TARGETS = (
    ("compliance_rate", "政策符合率", ">=", 86, 20, "all_or_nothing", ""),
    ("natural_growth_rate", "人口自然增长率", "<=", 8.5, 15, "linear", "floor = 10.5\n"),
    ("sex_ratio_at_birth", "出生人口性别比", "<=", 130, 15, "all_or_nothing", ""),
    ("healthcare_coverage", "孕前孕期保健覆盖率", ">=", 100, 5, "all_or_nothing", ""),
    ("migrant_service_coverage", "流动人口服务覆盖率", ">=", 95, 10, "all_or_nothing", ""),
    ("early_registration_rate", "早孕建册率", ">=", 60, 10, "all_or_nothing", ""),
    ("antenatal_followup_rate", "孕期随访率", ">=", 90, 10, "all_or_nothing", ""),
    ("postpartum_visit_rate", "产后访视及时率", ">=", 80, 5, "all_or_nothing", ""),
    ("counselling_followup_rate", "咨询随访率", ">=", 100, 5, "all_or_nothing", ""),
    ("substantiated_complaints", "查实投诉", "<=", 0, 5, "per_event", "per_event = 2.5\n"),
)


def _township_targets(params: pd.DataFrame | None) -> str:
    """The ``[[target]]`` tables of :data:`_TOWNSHIP_TARGETS`; the township with the highest
    fertility gets its own natural-growth threshold."""
    high = None
    if params is not None and len(params):
        high = str(params.sort_values("tfr")["unit"].iloc[-1])
    text = ""
    for ind, lab, op, thr, pts, scoring, extra in _TOWNSHIP_TARGETS:
        periods = '["quarter"]' if scoring == "per_event" else '["quarter", "year", "ytd"]'
        text += (f"\n[[target]]\nindicator = \"{ind}\"\nlabel = \"{lab}\"\nop = \"{op}\"\n"
                 f"threshold = {thr}\npoints = {pts}\nweight = 1.0\nscoring = \"{scoring}\"\n"
                 f"{extra}periods = {periods}\n")
        if ind == "natural_growth_rate" and high is not None:
            text += f"\n[target.unit_thresholds]\n\"{high}\" = 9.0\n"
    return text


def targets_toml(params: pd.DataFrame | None = None) -> str:
    """Return the sample scheme's targets (thresholds of a real county's scheme).

    The township with the highest fertility gets its own natural-growth threshold (9.0 per
    mille, from its population plan), to show per-unit thresholds.
    """
    text = ("# Assessment targets of the fictional 青禾县 scheme. Thresholds are in the\n"
            "# indicator's display unit (per cent, per mille, males per 100 females) and are\n"
            "# compared with unrounded values. Regenerated by python -m fpanalysis.synth.\n"
            "\n[scheme]\nname = \"青禾县人口和计划生育目标管理责任制考核\"\n"
            "total_points = 100\ncounty_weight = 0.6\ncity_weight = 0.4\ntier_size = 3\n")
    return text + _township_targets(params)


def _quoted(items: Sequence[str]) -> str:
    return "[" + ", ".join(f"\"{i}\"" for i in items) + "]"


#: The scheme's re-checks (核查结果纳入考评), appended to :func:`full_scheme_toml`.
AUDIT_BLOCK = """
# Re-checks count in the score (核查结果纳入考评): 2 points off the item's 10 for
# each false compliant birth found, never below 0; a township whose false share
# is surely (lower limit of the exact interval) above 20 % is vetoed; compliance
# figures are corrected by the false share before they are scored. Births
# re-checks deduct 1 point of 5 per false birth; deaths re-checks are not scored.
[[audit]]
level = "township"
item = "births_compliant"
column = "births_compliant"
label = "政策符合出生核查"
points = 10
points_per_false = 2
veto_above = 0.20
adjust = "scale_by_false_share"
periods = ["quarter", "year", "ytd"]

[[audit]]
level = "township"
item = "births"
column = "births"
label = "出生核查"
points = 5
points_per_false = 1
periods = ["quarter", "year", "ytd"]
"""


def full_scheme_toml(params: pd.DataFrame | None = None) -> str:
    """Return the sample county's whole scheme (``scheme_full.toml``), in the targets-file
    syntax of issue 8: the township targets of :func:`targets_toml` (per-case deductions for
    complaints among them), a veto, a milestone against the annual plan, a change on last
    year, the village targets (six zeros, compliance and postpartum visits, empty
    denominators met) and the village classes; ``[scheme]`` holds the 0.6/0.4 weights and
    the default class. Adjustments are a table (``adjustments.csv``), not keys of the file.
    """
    zero_labels = [label for _, label in ZERO_CRITERIA]
    text = (
        "# The whole assessment scheme of the fictional 青禾县 in one targets file: the\n"
        "# township targets of targets.toml (with per-case deductions for complaints), a\n"
        "# veto, a milestone against the annual plan, a change on last year, the village\n"
        "# targets and the village classes. Year-end standing: 0.6 x the mean of the\n"
        "# county's quarterly scores + 0.4 x the city's score (city_scores.csv), then the\n"
        "# year-end adjustments of adjustments.csv. The village targets are assessed on\n"
        "# village results (counts_villages.csv, values_villages.csv).\n"
        "# Regenerated by python -m fpanalysis.synth.\n"
        "\n[scheme]\nname = \"青禾县人口和计划生育目标管理责任制考核（全貌）\"\n"
        "county_weight = 0.6\ncity_weight = 0.4\ntier_size = 3\ndefault_class = \"三类\"\n"
        "\n# ---- township targets ----\n"
    )
    # every target says which level of unit it applies to: township results and village
    # results are evaluated against the one scheme
    text += _township_targets(params).replace("[[target]]\n", "[[target]]\nlevel = \"township\"\n")
    text += (
        "\n# A veto (一票否决): compliance below 80 % puts the township at the bottom of the\n"
        "# period whatever its points.\n"
        "[[target]]\nlevel = \"township\"\nindicator = \"compliance_rate\"\n"
        "label = \"政策符合率一票否决\"\nop = \">=\"\n"
        "threshold = 80\npoints = 0\nscoring = \"veto\"\n"
        "periods = [\"quarter\", \"year\", \"ytd\"]\n"
        "\n# Check-ups done since January against the year's plan (annual_plan.csv): at least\n"
        "# 50 % by the end of June, 80 % by September, 100 % by December.\n"
        "[[target]]\nlevel = \"township\"\nindicator = \"checkup_plan_progress\"\n"
        "label = \"孕前优生检查年度计划进度\"\n"
        "against = \"annual_plan\"\ndone = \"checkups_done\"\nplan_file = \"annual_plan.csv\"\n"
        "schedule = { \"06\" = 50, \"09\" = 80, \"12\" = 100 }\nop = \">=\"\npoints = 10\n"
        "periods = [\"quarter\", \"ytd\"]\n"
        "\n# The sex ratio at birth down at least 7 points on last year.\n"
        "[[target]]\nlevel = \"township\"\nindicator = \"sex_ratio_at_birth\"\n"
        "label = \"出生人口性别比较上年下降\"\n"
        "compare = \"previous_year\"\nop = \"<=\"\nthreshold = -7\npoints = 5\n"
        "periods = [\"year\"]\n"
        "\n# ---- village targets (village results) ----\n"
        "# The six zeros of a class-1 village, supplied per quarter and year.\n"
    )
    for key, label in ZERO_CRITERIA:
        text += (f"\n[[target]]\nlevel = \"village\"\nindicator = \"{key}\"\n"
                 f"label = \"{label}\"\nop = \"<=\"\n"
                 "threshold = 0\npoints = 10\nperiods = [\"quarter\", \"year\"]\n")
    text += (
        "\n# A village without births has had none outside policy: met, not 0 points.\n"
        "[[target]]\nlevel = \"village\"\nindicator = \"compliance_rate\"\n"
        "label = \"村政策符合率\"\nop = \">=\"\n"
        "threshold = 90\npoints = 20\nwhen_empty = \"met\"\nperiods = [\"quarter\", \"year\"]\n"
        "\n[[target]]\nlevel = \"village\"\nindicator = \"postpartum_visit_rate\"\n"
        "label = \"村产后访视及时率\"\n"
        "op = \">=\"\nthreshold = 80\npoints = 20\nwhen_empty = \"met\"\n"
        "periods = [\"quarter\", \"year\"]\n"
        "\n# ---- village classes, best first; a village meeting neither is 三类 ----\n"
        "# 一类: the six zeros.\n"
        f"[[class]]\nname = \"一类\"\ntargets = {_quoted(zero_labels)}\n"
        "\n# 二类: births outside policy under control, no statistics error, no points lost\n"
        "# on quality (postpartum visits).\n"
        f"[[class]]\nname = \"二类\"\n"
        f"targets = {_quoted(['村政策符合率', zero_labels[0], '村产后访视及时率'])}\n"
    )
    return text + AUDIT_BLOCK


#: Data problems planted in the sample for the data-quality checks to find:
#: (role, month) — a township whose May report never arrived, and one whose August births
#: were entered three times over (every birth column tripled, so the row stays consistent).
PLANTED = (("missing_month", "2024-05"), ("outlier_month", "2024-08"))


def plant_problems(counts: pd.DataFrame, params: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Return ``counts`` with the :data:`PLANTED` problems and which township got which.

    The problems go to the third and fourth ordinary townships (the first two have
    villages, whose counts must keep summing to their township's row), so that no
    township carries two planted problems. The other planted problems of the sample come
    from the parameters: the township that falsifies reports (``false_rate``), the one
    whose register misses births that hospitals record (``hospital_ratio``) and the ones
    with a high sex ratio at later births (``srb_o2``).
    """
    ordinary = ((params["tfr"] < 2) & (params["srb_o2"] < 130) & (params["compliance"] >= 0.86)
                & (params["false_rate"] < 0.1) & (params["hospital_ratio"] == 1)
                & (params["population0"] >= 4000))
    pool = [str(u) for u in params.loc[ordinary, "unit"]][2:2 + len(PLANTED)]
    if len(pool) < len(PLANTED):
        return counts, {}
    out = counts.copy()
    where = dict(zip((role for role, _ in PLANTED), pool, strict=True))
    month = {role: pd.Period(m, freq="M") for role, m in PLANTED}
    unit = out["unit"].astype(str)
    gone = (unit == where["missing_month"]) & (out["period"] == month["missing_month"])
    spike = (unit == where["outlier_month"]) & (out["period"] == month["outlier_month"])
    births = [c for c in out.columns if c.startswith("births")]
    out.loc[spike, births] = out.loc[spike, births] * 3
    return out.loc[~gone].reset_index(drop=True), {
        role: (where[role], str(month[role])) for role in where}


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")


def write_sample(out: str | Path, *, seed: int = SAMPLE_SEED, units: int = SAMPLE_UNITS,
                 years: tuple[int, int] = SAMPLE_YEARS) -> list[Path]:
    """Write one county's data and schemes to ``out``.

    Files: ``units.csv`` (the county, its townships, then the areas and villages of
    :func:`village_parameters`), ``counts.csv`` (townships only, with the problems of
    :func:`plant_problems`: one month missing, one month's births tripled), ``counts_villages.csv``
    (the villages: they sum exactly to their townships' rows), ``audits.csv``,
    ``births_hospital.csv``, ``values.csv`` (complaints per township),
    ``values_villages.csv`` (the six zero criteria per village), ``city_scores.csv``,
    ``annual_plan.csv``, ``adjustments.csv``, ``targets.toml`` and ``scheme_full.toml``.

    Returns the paths written. The same arguments give byte-identical files.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    params = parameters(units, seed=seed)
    villages = village_parameters(params, years, seed=seed)
    unit_table = pd.concat([make_units(units, seed=seed),
                            villages[["unit", "name", "parent", "level"]]], ignore_index=True)
    counts = make_counts(params, years, seed=seed)
    village_counts = make_village_counts(counts, villages, seed=seed)
    # every other table is drawn from the true counts; only the register shows the problems
    reported, _ = plant_problems(counts, params)
    written = {
        "units.csv": unit_table,
        "counts.csv": reported.assign(period=reported["period"].astype(str)),
        "counts_villages.csv": village_counts.assign(
            period=village_counts["period"].astype(str)),
        "audits.csv": make_audits(counts, params, seed=seed),
        "births_hospital.csv": make_hospital_births(counts, params, seed=seed).assign(
            period=lambda f: f["period"].astype(str)),
        "values.csv": make_values(params, years, seed=seed),
        "values_villages.csv": make_village_values(villages, years, seed=seed),
        "city_scores.csv": make_city_scores(params, years, seed=seed),
        "annual_plan.csv": make_annual_plan(counts, seed=seed),
        "adjustments.csv": make_adjustments(params, years, seed=seed),
        "population_age.csv": make_population_age(counts, params, seed=seed),
    }
    paths = []
    for name, frame in written.items():
        _write_csv(frame, out / name)
        paths.append(out / name)
    for name, text in (("targets.toml", targets_toml(params)),
                       ("scheme_full.toml", full_scheme_toml(params))):
        (out / name).write_text(text, encoding="utf-8", newline="\n")
        paths.append(out / name)
    return paths


def write_events(path: str | Path, n_rows: int, *, n_units: int = 1000, year: int = 2024,
                 seed: int = SAMPLE_SEED, chunk: int = 1_000_000) -> Path:
    """Write an event-level register (births and deaths) of ``n_rows`` rows to Parquet.

    Rows are drawn in chunks of ``chunk`` straight into Arrow arrays (unit codes dictionary-
    encoded), so memory stays bounded and no per-row Python objects are made. Columns:
    ``unit``, ``date``, ``event`` (birth/death), ``sex`` (M/F), ``birth_order`` (1, 2, 3+ as
    3; null for deaths), ``mother_age`` (null for deaths), ``compliant`` (null for deaths).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng([seed, 6])
    codes = pa.array(make_units(n_units, seed=seed)["unit"].to_numpy()[1:])
    weights = rng.lognormal(0, 0.5, n_units)
    cum = np.cumsum(weights / weights.sum())
    ydays = 366 if pd.Timestamp(year, 12, 31).day_of_year == 366 else 365
    start = np.datetime64(f"{year}-01-01", "D").astype(np.int32)
    schema = pa.schema([("unit", pa.dictionary(pa.int32(), pa.string())), ("date", pa.date32()),
                        ("event", pa.dictionary(pa.int8(), pa.string())),
                        ("sex", pa.dictionary(pa.int8(), pa.string())),
                        ("birth_order", pa.int8()), ("mother_age", pa.int8()),
                        ("compliant", pa.bool_())])
    events = pa.array(["birth", "death"])
    sexes = pa.array(["M", "F"])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with pq.ParquetWriter(path, schema) as writer:
        for lo in range(0, n_rows, chunk):
            k = min(chunk, n_rows - lo)
            unit_idx = np.searchsorted(cum, rng.uniform(0, 1, k)).clip(0, n_units - 1)
            is_death = rng.uniform(0, 1, k) < 0.42
            male = rng.uniform(0, 1, k) < np.where(is_death, 0.53, 0.53)
            order = rng.choice(np.array([1, 2, 3], dtype=np.int8), k, p=[0.48, 0.43, 0.09])
            age = np.clip(rng.normal(29, 5, k), 15, 49).astype(np.int8)
            compliant = rng.uniform(0, 1, k) < 0.91
            mask = is_death
            batch = pa.RecordBatch.from_arrays([
                pa.DictionaryArray.from_arrays(pa.array(unit_idx.astype(np.int32)), codes),
                pa.array((start + rng.integers(0, ydays, k)).astype("datetime64[D]")),
                pa.DictionaryArray.from_arrays(pa.array(is_death.astype(np.int8)), events),
                pa.DictionaryArray.from_arrays(pa.array((~male).astype(np.int8)), sexes),
                pa.array(order, mask=mask), pa.array(age, mask=mask),
                pa.array(compliant, mask=mask),
            ], schema=schema)
            writer.write_batch(batch)
    return path



# --------------------------------------------------------------------------- event register
#: Codes of the event register's dictionary columns (position = code).
EVENT_CODES = ("birth", "death", "marriage")  # "marriage": an unknown event, for invalid rows
SEX_CODES = ("M", "F", "X")  # "X": an unknown sex code, for invalid rows


def _event_chunk(rng: np.random.Generator, k: int, weights_cum: np.ndarray, first_day: int,
                 n_days: int, invalid: float) -> dict[str, np.ndarray]:
    """Draw ``k`` events as numpy arrays: codes for the dictionary columns, a mask of
    missing cells for the others. A share ``invalid`` of rows gets one planted problem."""
    n_units = len(weights_cum)
    unit = np.searchsorted(weights_cum, rng.uniform(0, 1, k)).clip(0, n_units - 1)
    death = rng.uniform(0, 1, k) < 0.42
    out = {
        "unit": unit.astype(np.int32),
        "date": (first_day + rng.integers(0, n_days, k)).astype(np.int32),
        "event": death.astype(np.int8),
        "sex": (rng.uniform(0, 1, k) >= 0.53).astype(np.int8),
        "birth_order": rng.choice(np.array([1, 2, 3, 4], dtype=np.int8), k,
                                  p=[0.47, 0.42, 0.08, 0.03]),
        "mother_age": np.clip(np.rint(rng.normal(29, 5.5, k)), 12, 56).astype(np.int8),
        "compliant": rng.uniform(0, 1, k) < 0.91,
        # deaths: about 1 in 100 is an infant (age 0); the others 1-100
        "age_at_death": np.where(rng.uniform(0, 1, k) < 0.01, 0,
                                 rng.integers(1, 101, k)).astype(np.int16),
    }
    missing = {c: death.copy() for c in ("birth_order", "mother_age", "compliant")}
    missing["age_at_death"] = ~death
    missing["date"] = np.zeros(k, dtype=bool)
    if invalid > 0:
        bad = np.flatnonzero(rng.uniform(0, 1, k) < invalid)
        kind = rng.integers(0, 7, len(bad))
        out["event"][bad[kind == 0]] = 2  # unknown event
        births = bad[(kind >= 1) & ~death[bad]]
        kb = kind[(kind >= 1) & ~death[bad]]
        out["sex"][births[kb == 1]] = 2  # unknown sex code
        out["birth_order"][births[kb == 2]] = 0  # birth order 0
        out["mother_age"][births[kb == 3]] = rng.choice(np.array([8, 65], dtype=np.int8),
                                                        int((kb == 3).sum()))
        missing["compliant"][births[kb == 4]] = True  # compliant missing
        early = bad[kind == 5]  # a date in the year before the years
        out["date"][early] = first_day - 1 - rng.integers(0, 365, len(early))
        missing["date"][bad[kind == 6]] = True  # no date
    return {"values": out, "missing": missing}


def _event_plan(n_rows: int, n_units: int, years: tuple[int, int], seed: int
                ) -> tuple[np.ndarray, np.ndarray, int, int]:
    if n_rows < 0:
        raise ValueError(f"n_rows must be at least 0, got {n_rows}")
    first, last = years
    if last < first:
        raise ValueError(f"years run backwards: {first}-{last}")
    codes = make_units(n_units, seed=seed)["unit"].to_numpy()[1:]
    weights = np.random.default_rng([seed, 9]).lognormal(0, 0.5, n_units)
    cum = np.cumsum(weights / weights.sum())
    first_day = int(np.datetime64(f"{first}-01-01", "D").astype(np.int64))
    n_days = int(np.datetime64(f"{last + 1}-01-01", "D").astype(np.int64)) - first_day
    return codes, cum, first_day, n_days


def make_events(n_rows: int, *, n_units: int = 40_000, years: tuple[int, int] = (2023, 2024),
                seed: int = SAMPLE_SEED, invalid: float = 0.0, chunk: int = 1_000_000
                ) -> pd.DataFrame:
    """Return a synthetic event register (births and deaths) of ``n_rows`` rows.

    Columns: ``unit`` (categorical codes of :func:`make_units`' townships, weighted so
    that units differ in size), ``date`` (``datetime64[s]``, uniform over ``years``),
    ``event`` (``birth``/``death``, 42 % deaths), ``sex`` (``M``/``F``), ``birth_order``
    (1-4, ``Int8``), ``mother_age`` (``Int8``, about 29 +- 5.5, from 12 to 56, so some are
    outside 15-49), ``compliant`` (``boolean``), ``age_at_death`` (``Int16``, 0 for about
    one death in a hundred); the birth columns are missing for deaths and ``age_at_death``
    for births. With ``invalid`` > 0 that share of rows gets one planted problem each: an
    unknown event or sex code (``marriage``, ``X``), birth order 0, mother's age 8 or 65,
    compliant missing, a date in the year before ``years``, or no date.

    Rows are drawn ``chunk`` at a time, each chunk from its own seeded stream, so
    :func:`write_event_register` writes the same rows with the same ``chunk``.

    Examples
    --------
    >>> ev = make_events(1000, n_units=5, seed=1)
    >>> list(ev.columns)
    ['unit', 'date', 'event', 'sex', 'birth_order', 'mother_age', 'compliant', 'age_at_death']
    >>> int(ev["event"].eq("birth").sum() + ev["event"].eq("death").sum())
    1000
    """
    codes, cum, first_day, n_days = _event_plan(n_rows, n_units, years, seed)
    frames = []
    for i, lo in enumerate(range(0, n_rows, chunk)):
        k = min(chunk, n_rows - lo)
        part = _event_chunk(np.random.default_rng([seed, 10, i]), k, cum, first_day, n_days,
                            invalid)
        v, m = part["values"], part["missing"]
        frames.append(pd.DataFrame({
            "unit": pd.Categorical.from_codes(v["unit"], categories=codes),
            "date": pd.Series(v["date"].astype("datetime64[D]").astype("datetime64[s]")
                              ).where(~m["date"]),
            "event": pd.Categorical.from_codes(v["event"], categories=list(EVENT_CODES)),
            "sex": pd.Categorical.from_codes(v["sex"], categories=list(SEX_CODES)),
            "birth_order": pd.array(v["birth_order"], dtype="Int8"),
            "mother_age": pd.array(v["mother_age"], dtype="Int8"),
            "compliant": pd.array(v["compliant"], dtype="boolean"),
            "age_at_death": pd.array(v["age_at_death"], dtype="Int16"),
        }))
        for c in ("birth_order", "mother_age", "compliant", "age_at_death"):
            frames[-1].loc[m[c], c] = pd.NA
    if not frames:
        return make_events(1, n_units=n_units, years=years, seed=seed).iloc[:0]
    return pd.concat(frames, ignore_index=True)


def write_event_register(path: str | Path, n_rows: int, *, n_units: int = 40_000,
                         years: tuple[int, int] = (2023, 2024), seed: int = SAMPLE_SEED,
                         invalid: float = 0.0, row_group: int = 1_000_000) -> Path:
    """Write the register of :func:`make_events` (same rows with ``chunk=row_group``) to
    Parquet, one row group per ``row_group`` rows, drawn chunk by chunk straight into Arrow
    arrays so that memory stays bounded at any ``n_rows``.

    Column types chosen for counting: ``unit``, ``event`` and ``sex`` dictionary-encoded
    (int32/int8 indices into the codes), ``date`` as ``date32``, ``birth_order`` and
    ``mother_age`` as ``int8``, ``compliant`` as ``bool``, ``age_at_death`` as ``int16``
    (nulls where a column does not apply).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    codes, cum, first_day, n_days = _event_plan(n_rows, n_units, years, seed)
    schema = pa.schema([("unit", pa.dictionary(pa.int32(), pa.string())),
                        ("date", pa.date32()),
                        ("event", pa.dictionary(pa.int8(), pa.string())),
                        ("sex", pa.dictionary(pa.int8(), pa.string())),
                        ("birth_order", pa.int8()), ("mother_age", pa.int8()),
                        ("compliant", pa.bool_()), ("age_at_death", pa.int16())])
    dictionaries = {"unit": pa.array(codes.astype(str)), "event": pa.array(EVENT_CODES),
                    "sex": pa.array(SEX_CODES)}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with pq.ParquetWriter(path, schema) as writer:
        for i, lo in enumerate(range(0, n_rows, row_group)):
            k = min(row_group, n_rows - lo)
            part = _event_chunk(np.random.default_rng([seed, 10, i]), k, cum, first_day,
                                n_days, invalid)
            v, m = part["values"], part["missing"]
            arrays = []
            for f in schema:
                if f.name in dictionaries:
                    arrays.append(pa.DictionaryArray.from_arrays(
                        pa.array(v[f.name]), dictionaries[f.name]))
                elif f.name == "date":
                    arrays.append(pa.array(v["date"].astype("datetime64[D]"), type=pa.date32(),
                                           mask=m["date"]))
                else:
                    arrays.append(pa.array(v[f.name], type=f.type, mask=m[f.name]))
            writer.write_batch(pa.RecordBatch.from_arrays(arrays, schema=schema),
                               row_group_size=row_group)
    return path

def _years(text: str) -> tuple[int, int]:
    first, _, last = text.partition("-")
    a, b = int(first), int(last or first)
    if b < a:
        raise argparse.ArgumentTypeError(f"years run backwards: {text}")
    return a, b


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fpanalysis.synth",
                                     description="Generate a fictional county's data.")
    parser.add_argument("--out", type=Path, default=Path("data/sample"),
                        help="directory for the sample's CSVs, targets.toml and "
                             "scheme_full.toml (default data/sample)")
    parser.add_argument("--seed", type=int, default=SAMPLE_SEED)
    parser.add_argument("--units", type=int, default=SAMPLE_UNITS, help="number of townships")
    parser.add_argument("--years", type=_years, default=SAMPLE_YEARS,
                        help="calendar years, e.g. 2022-2024")
    parser.add_argument("--events", type=int, default=0,
                        help="also write an event register with this many rows")
    parser.add_argument("--events-out", type=Path, default=None,
                        help="where to write the event register (default OUT/events.parquet)")
    args = parser.parse_args(argv)
    for path in write_sample(args.out, seed=args.seed, units=args.units, years=args.years):
        print(path)
    if args.events:
        target = args.events_out or args.out / "events.parquet"
        print(write_events(target, args.events, n_units=args.units, year=args.years[1],
                           seed=args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
