"""Coverage study: the default 95 % intervals before and after issue 13, from known truth.

    PYTHONPATH=. python benchmarks/coverage.py [--reps 20000] [--seed 13]

The cells and the simulation are those of ``tests/test_coverage.py`` (a township of 3,000
people over a quarter and a year; coverage targets at 95, 99 and 99.9 %), run with more
replicates. Each replicate is a unit of one counts frame and each time scale one
``compute`` call. "before" is the old defaults (Wilson for proportions, delta for the TFR,
normal for natural growth, and no interval for a sex ratio with boys but no girls, which
counts as a miss); "after" is today's defaults. With 20,000 replicates a coverage near
0.95 has a Monte Carlo standard error of sqrt(0.95 x 0.05 / 20000) = 0.0015.
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from tests.test_coverage import PROPORTIONS, study

OLD = {**{f"cov_{k}": "wilson" for k in range(len(PROPORTIONS))},
       "total_fertility_rate": "delta", "natural_growth_rate": "normal"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    start = time.perf_counter()
    before = study(args.reps, args.seed, methods=OLD, open_end_missing=True)
    after = study(args.reps, args.seed)
    table = pd.DataFrame({
        "before": before["coverage"], "before_below": before["below"],
        "after": after["coverage"], "after_below": after["below"],
        "after_above": after["above"],
        "width_ratio": after["width"] / before["width"]})
    pd.set_option("display.width", 200)
    print(f"{args.reps} replicates per cell, seed {args.seed}; MC SE at 0.95: "
          f"{(0.95 * 0.05 / args.reps) ** 0.5:.4f}; {time.perf_counter() - start:.1f} s")
    print("below = interval entirely below the truth; width_ratio = median width after / "
          "before")
    print(table.round(4).to_string())


if __name__ == "__main__":
    main()
