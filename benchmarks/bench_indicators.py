"""Benchmark: every indicator with intervals for a synthetic panel of units x months.

    python benchmarks/bench_indicators.py [--units 40000] [--months 12] [--repeat 3]

The panel comes from fpanalysis.synth (realistic counts, not uniform noise), is written to
Parquet, and is then:
  1. loaded and validated with fpanalysis.io.load_counts, from Parquet and from CSV (the
     CSV against DuckDB's read_csv into pandas, which checks nothing),
  2. turned into every indicator with 95 % intervals for every unit and month
     (fpanalysis.indicators.compute) and for every unit and quarter (freq="Q"),
  3. summed and turned into point rates by DuckDB from the same Parquet file, as the peer:
     the same group-by sums and value columns, without intervals (SQL has no exact
     binomial or Poisson quantiles); the ratio says what the intervals and checks cost.
Also printed: the time of each interval method on the panel's own arrays.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from fpanalysis import indicators, intervals, io, synth


def best_of(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def duckdb_peer(path: Path) -> object:
    import duckdb

    sql = f"""
    SELECT unit, period,
           sum(births) AS births, sum(deaths) AS deaths,
           1000.0 * sum(births) / sum(population * 31.0 / 366) AS cbr,
           1000.0 * sum(deaths) / sum(population * 31.0 / 366) AS cdr,
           100.0 * sum(births_male) / nullif(sum(births_female), 0) AS srb,
           100.0 * sum(births_male_o1) / nullif(sum(births_female_o1), 0) AS srb1,
           100.0 * sum(births_male_o2) / nullif(sum(births_female_o2), 0) AS srb2,
           100.0 * sum(births_male_o3p) / nullif(sum(births_female_o3p), 0) AS srb3,
           100.0 * sum(births_compliant) / nullif(sum(births), 0) AS compliance,
           1000.0 * sum(births) / sum(women_15_49 * 31.0 / 366) AS gfr,
           {", ".join(f"1000.0 * sum(births_age_{a}) / sum(women_{a} * 31.0 / 366) AS asfr_{a}"
                      for a in synth.AGE_GROUPS)},
           {", ".join(f"100.0 * sum({s.numerator}) / nullif(sum({s.denominator}), 0) AS {s.key}"
                      for s in synth.SERVICES)}
    FROM read_parquet('{path}') GROUP BY unit, period
    """
    return duckdb.sql(sql).fetchnumpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=40_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    years = (2024, 2024 + (args.months - 1) // 12)
    params = synth.parameters(args.units, seed=1)
    counts = synth.make_counts(params, years, seed=1)
    counts = counts[counts["period"] < counts["period"].min() + args.months]
    tmp = Path(tempfile.mkdtemp())
    path = tmp / "counts.parquet"
    counts.assign(period=counts["period"].astype(str)).to_parquet(path, index=False)
    rows = len(counts)
    print(f"panel: {args.units:,} units x {args.months} months = {rows:,} rows, "
          f"{len(counts.columns) - 2} count columns ({path.stat().st_size / 1e6:.1f} MB Parquet)")

    csv = tmp / "counts.csv"
    counts.assign(period=counts["period"].astype(str)).to_csv(csv, index=False)
    t_load, loaded = best_of(lambda: io.load_counts(path), args.repeat)
    t_csv, _ = best_of(lambda: io.load_counts(csv), args.repeat)
    import duckdb

    t_csv_peer, _ = best_of(lambda: duckdb.sql(f"SELECT * FROM read_csv('{csv}')").df(),
                            args.repeat)
    t_all, res = best_of(lambda: indicators.compute(loaded), args.repeat)
    t_q, _ = best_of(lambda: indicators.compute(loaded, freq="Q"), args.repeat)
    t_peer, _ = best_of(lambda: duckdb_peer(path), args.repeat)
    n_ind = res["indicator"].nunique()
    print(f"load_counts Parquet (validate {rows:,} rows): {t_load:7.2f} s")
    print(f"load_counts CSV (validate {rows:,} rows):     {t_csv:7.2f} s  "
          f"(DuckDB read_csv to pandas, no checks: {t_csv_peer:.2f} s, "
          f"ratio {t_csv / t_csv_peer:.1f} x)")
    print(f"compute, {n_ind} indicators x unit x month:  {t_all:7.2f} s  "
          f"({len(res):,} result rows, {rows / t_all:,.0f} input rows/s)")
    print(f"compute, rolled up to quarters:          {t_q:7.2f} s")
    print(f"DuckDB peer (sums + point values only):  {t_peer:7.2f} s")
    print(f"ratio compute / DuckDB:                  {t_all / t_peer:7.1f} x")
    print(f"ratio (load + compute) / DuckDB:         {(t_load + t_all) / t_peer:7.1f} x")

    print("\ninterval methods on the panel's arrays (one call each, best of repeats):")
    b = loaded["births"].to_numpy(dtype=float)
    comp = loaded["births_compliant"].to_numpy(dtype=float)
    m, f = (loaded["births_male"].to_numpy(dtype=float),
            loaded["births_female"].to_numpy(dtype=float))
    cases = {
        "wilson (compliance)": lambda: intervals.proportion_confint(comp, b),
        "clopper_pearson (compliance)": lambda: intervals.proportion_confint(
            comp, b, method="clopper_pearson"),
        "jeffreys (compliance)": lambda: intervals.proportion_confint(comp, b,
                                                                      method="jeffreys"),
        "sex ratio, clopper_pearson": lambda: intervals.sex_ratio_confint(m, f),
        "poisson exact (births)": lambda: intervals.poisson_confint(b),
        "poisson byar (births)": lambda: intervals.poisson_confint(b, method="byar"),
        "sex ratio exact test vs 105": lambda: intervals.sex_ratio_test(m, f),
    }
    for name, fn in cases.items():
        t, _ = best_of(fn, args.repeat)
        print(f"  {name:32s} {t:7.3f} s  ({rows / t:,.0f} rows/s)")
    distinct = len(np.unique(np.stack([m, f]), axis=1).T)
    print(f"  (distinct male/female pairs: {distinct:,} of {rows:,} rows; exact limits are "
          "solved once per distinct pair)")


if __name__ == "__main__":
    main()
