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
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .schema import AGE_GROUPS, SERVICES

__all__ = [
    "SAMPLE_SEED",
    "SAMPLE_UNITS",
    "SAMPLE_YEARS",
    "make_audits",
    "make_counts",
    "make_city_scores",
    "make_hospital_births",
    "make_units",
    "make_values",
    "main",
    "parameters",
    "targets_toml",
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


def targets_toml(params: pd.DataFrame | None = None) -> str:
    """Return the sample scheme's targets (thresholds of a real county's scheme).

    The township with the highest fertility gets its own natural-growth threshold (9.0 per
    mille, from its population plan), to show per-unit thresholds.
    """
    rows = [
        ("compliance_rate", "政策符合率", ">=", 86, 20, "all_or_nothing", ""),
        ("natural_growth_rate", "人口自然增长率", "<=", 8.5, 15, "linear", "floor = 10.5\n"),
        ("sex_ratio_at_birth", "出生人口性别比", "<=", 130, 15, "all_or_nothing", ""),
        ("healthcare_coverage", "孕前孕期保健覆盖率", ">=", 100, 5, "all_or_nothing", ""),
        ("migrant_service_coverage", "流动人口服务覆盖率", ">=", 95, 10, "all_or_nothing", ""),
        ("early_registration_rate", "早孕建册率", ">=", 60, 10, "all_or_nothing", ""),
        ("antenatal_followup_rate", "孕期随访率", ">=", 90, 10, "all_or_nothing", ""),
        ("postpartum_visit_rate", "产后访视及时率", ">=", 80, 5, "all_or_nothing", ""),
        ("counselling_followup_rate", "咨询随访率", ">=", 100, 5, "all_or_nothing", ""),
        ("substantiated_complaints", "查实投诉", "<=", 0, 5, "per_event",
         "per_event = 2.5\n"),
    ]
    text = ("# Assessment targets of the fictional 青禾县 scheme. Thresholds are in the\n"
            "# indicator's display unit (per cent, per mille, males per 100 females) and are\n"
            "# compared with unrounded values. Regenerated by python -m fpanalysis.synth.\n"
            "\n[scheme]\nname = \"青禾县人口和计划生育目标管理责任制考核\"\n"
            "total_points = 100\ncounty_weight = 0.6\ncity_weight = 0.4\ntier_size = 3\n")
    high = None
    if params is not None and len(params):
        high = str(params.sort_values("tfr")["unit"].iloc[-1])
    for ind, lab, op, thr, pts, scoring, extra in rows:
        periods = '["quarter"]' if scoring == "per_event" else '["quarter", "year", "ytd"]'
        text += (f"\n[[target]]\nindicator = \"{ind}\"\nlabel = \"{lab}\"\nop = \"{op}\"\n"
                 f"threshold = {thr}\npoints = {pts}\nweight = 1.0\nscoring = \"{scoring}\"\n"
                 f"{extra}periods = {periods}\n")
        if ind == "natural_growth_rate" and high is not None:
            text += f"\n[target.unit_thresholds]\n\"{high}\" = 9.0\n"
    return text


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")


def write_sample(out: str | Path, *, seed: int = SAMPLE_SEED, units: int = SAMPLE_UNITS,
                 years: tuple[int, int] = SAMPLE_YEARS) -> list[Path]:
    """Write units, counts, audits, hospital births and targets of one county to ``out``.

    Returns the paths written. The same arguments give byte-identical files.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    unit_table = make_units(units, seed=seed)
    params = parameters(units, seed=seed)
    counts = make_counts(params, years, seed=seed)
    written = {
        "units.csv": unit_table,
        "counts.csv": counts.assign(period=counts["period"].astype(str)),
        "audits.csv": make_audits(counts, params, seed=seed),
        "births_hospital.csv": make_hospital_births(counts, params, seed=seed).assign(
            period=lambda f: f["period"].astype(str)),
        "values.csv": make_values(params, years, seed=seed),
        "city_scores.csv": make_city_scores(params, years, seed=seed),
    }
    paths = []
    for name, frame in written.items():
        _write_csv(frame, out / name)
        paths.append(out / name)
    (out / "targets.toml").write_text(targets_toml(params), encoding="utf-8", newline="\n")
    paths.append(out / "targets.toml")
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
                        help="directory for units, counts, audits, births_hospital, values "
                             "and city_scores CSVs and targets.toml (default data/sample)")
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
