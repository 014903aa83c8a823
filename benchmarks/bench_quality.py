"""Benchmark: every data-quality check, and the year-end nowcast, for a synthetic county.

    python benchmarks/bench_quality.py [--units 2000] [--draws 1000] [--repeat 3]

The counts come from fpanalysis.synth (36 months, 2022-2024) and are written to Parquet.
Then, in the same run:
  1. ``quality.check_all`` for 2024Q4 (completeness, outliers, funnel, consistency over
     time, sex-ratio plausibility) against DuckDB on the same Parquet file as the peer: the
     monthly z-scores of births and deaths against each unit's last twelve months and the
     reports present per quarter, by window functions (the core of two of the checks, with
     no intervals, tests or notes);
  2. ``projection.nowcast`` from January-June 2024 (five indicators, ``--draws`` draws per
     unit) against numpy drawing the same number of negative-binomial variates
     (units x draws x count columns) as the peer: the floor of any simulation nowcast.
"""

from __future__ import annotations

import argparse
import tempfile
import warnings
from pathlib import Path

import numpy as np
from bench_indicators import best_of  # run as a script: benchmarks/ is on the path

from fpanalysis import io, projection, quality, synth


def duckdb_peer(path: Path) -> object:
    import duckdb

    sql = f"""
    WITH m AS (
        SELECT unit, period, births, deaths FROM read_parquet('{path}')
        WHERE period BETWEEN '2024-01' AND '2024-12'
    ), z AS (
        SELECT unit, period,
               (births - avg(births) OVER w) / nullif(stddev_samp(births) OVER w, 0) AS zb,
               (deaths - avg(deaths) OVER w) / nullif(stddev_samp(deaths) OVER w, 0) AS zd
        FROM m WINDOW w AS (PARTITION BY unit)
    )
    SELECT z.unit, count(*) FILTER (WHERE abs(zb) >= 2 OR abs(zd) >= 2) AS flagged,
           count(*) AS months
    FROM z GROUP BY z.unit
    """
    return duckdb.sql(sql).fetchnumpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=2_000)
    parser.add_argument("--draws", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    params = synth.parameters(args.units, seed=1)
    counts = synth.make_counts(params, (2022, 2024), seed=1)
    units = synth.make_units(args.units, seed=1)
    tmp = Path(tempfile.mkdtemp())
    path = tmp / "counts.parquet"
    counts.assign(period=counts["period"].astype(str)).to_parquet(path, index=False)
    (tmp / "units.csv").write_text(units.to_csv(index=False), encoding="utf-8")
    loaded = io.load_counts(path)
    units = io.load_units(tmp / "units.csv")
    print(f"county: {args.units:,} units x 36 months = {len(loaded):,} rows")

    t_peer, _ = best_of(lambda: duckdb_peer(path), args.repeat)
    t_ours, flags = best_of(lambda: quality.check_all(loaded, units=units, period="2024Q4"),
                            args.repeat)
    print(f"check_all 2024Q4: {t_ours:.2f} s ({len(flags):,} flags); DuckDB z-scores and "
          f"completeness {t_peer:.3f} s; ratio {t_ours / t_peer:.1f}")

    cols = ["births", "births_male", "births_female", "deaths", "births_compliant"]
    rng = np.random.default_rng(0)

    def peer_draws() -> np.ndarray:
        mean = np.full((args.units, args.draws, len(cols)), 10.0)
        return rng.negative_binomial(5, 5 / (5 + mean))

    keys = ["crude_birth_rate", "crude_death_rate", "natural_growth_rate",
            "sex_ratio_at_birth", "compliance_rate"]

    def ours() -> object:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # units without history: said in the notes
            return projection.nowcast(loaded, year=2024, through="2024-06", indicators=keys,
                                      draws=args.draws)

    t_peer, _ = best_of(peer_draws, args.repeat)
    t_ours, out = best_of(ours, args.repeat)
    print(f"nowcast to 2024-06, {len(keys)} indicators, {args.draws:,} draws: {t_ours:.2f} s "
          f"({len(out):,} rows); numpy NB draws alone {t_peer:.2f} s; ratio "
          f"{t_ours / t_peer:.1f}")


if __name__ == "__main__":
    main()
