"""Benchmark: league-table rank uncertainty, 10,000 draws for 40 units x 10 targets.

    python benchmarks/bench_ranks.py [--units 40] [--draws 10000] [--repeat 3]

The county comes from fpanalysis.synth (40 townships, one year of monthly counts) with the
sample scheme's 10 targets (one scored from supplied values). fpanalysis.targets.
rank_uncertainty draws all counts at once as (draws x units) arrays; the peer in the same
run is the straightforward loop a notebook user would write, one draw at a time with
pandas ranking (same distributions, same scoring), timed on a tenth of the draws and
scaled. Peak memory of the vectorized call is measured with tracemalloc (numpy reports its
allocations to it).
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

from fpanalysis import indicators, io, synth, targets
from fpanalysis import scheme as sch


def loop_peer(counts, applicable, period, values, draws, seed) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    keys = sorted({t.indicator for t in applicable} & set(indicators.keys()))
    sums, specs = indicators.group_sums(counts, keys, by=["unit"], period=period)
    units = pd.Series(sums.index.astype(str))
    by_key = {s.key: s for s in specs}
    ranks = []
    for _ in range(draws):  # the peer: one draw at a time
        total = np.zeros(len(units))
        for t in applicable:
            if t.indicator in by_key:
                value = by_key[t.indicator].draw(sums, rng, 1)[0]
            else:
                sup = values[(values["indicator"] == t.indicator)
                             & (values["period"].astype(str) == str(period))]
                value = sup.set_index("unit").reindex(units)["value"].to_numpy(dtype=float)
            total += t.earned(value, t.thresholds(units)) * t.weight
        ranks.append(pd.Series(-total).rank(method="min").to_numpy())
    return pd.DataFrame(ranks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=40)
    parser.add_argument("--draws", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    out = Path(tempfile.mkdtemp())
    synth.write_sample(out, seed=5, units=args.units, years=(2024, 2024))
    units = io.load_units(out)
    counts = io.load_counts(out, units=units)
    values = io.load_values(out, units=units)
    scheme = sch.load_targets(out, units=units, indicators=list(values["indicator"].unique()))
    period = "2024Q4"
    applicable = scheme.applicable(period)
    print(f"{args.units} units x {len(applicable)} targets x {args.draws:,} draws "
          f"(period {period})")

    times = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        res = targets.rank_uncertainty(counts, scheme, period=period, values=values,
                                       draws=args.draws)
        times.append(time.perf_counter() - t)
    tracemalloc.start()
    targets.rank_uncertainty(counts, scheme, period=period, values=values, draws=args.draws)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    best = min(times)
    print(f"rank_uncertainty (vectorized):   {best:7.3f} s  best of {args.repeat}; "
          f"peak memory {peak / 1e6:,.0f} MB")

    tenth = max(1, args.draws // 10)
    t = time.perf_counter()
    loop_peer(counts, applicable, period, values, tenth, 1)
    peer = (time.perf_counter() - t) * args.draws / tenth
    print(f"loop peer (one draw at a time):  {peer:7.3f} s  ({tenth:,} draws timed, scaled)")
    print(f"ratio vectorized / loop peer:    {best / peer:7.3f}")
    widest = res.assign(width=res["draw_rank_upper"] - res["draw_rank_lower"]).nlargest(3, "width")
    print("widest rank intervals:", ", ".join(
        f"{u} rank {r} ({lo}-{hi})" for u, r, lo, hi in
        widest[["unit", "rank", "draw_rank_lower", "draw_rank_upper"]].itertuples(index=False)))


if __name__ == "__main__":
    main()
