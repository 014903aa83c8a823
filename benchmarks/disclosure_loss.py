"""Information loss and time of the public disclosure plans on the sample county.

    python benchmarks/disclosure_loss.py [--data-dir data/sample] [--years 2022 2023 2024]

For every public report (each quarter and each year; a year's plan holds its quarters'
cells fixed), prints the plan's time, the complements withheld among the report's own
cells above the threshold (the information loss #14 asks for) and whether the report's
counts and indicator tables pass the linear-programming audit. The first plan includes
importing scipy.optimize.
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

import fpanalysis as fp
from fpanalysis import disclosure, indicators, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default="data/sample")
    parser.add_argument("--years", type=int, nargs="+", default=[2022, 2023, 2024])
    args = parser.parse_args()
    units = fp.load_units(args.data_dir)
    counts = fp.load_counts(args.data_dir, units=units)
    total_big = total_comp = 0
    print(f"{'report':8} {'plan s':>7} {'complements / cells above k':>28}  audit")
    for year in args.years:  # a few years, five reports each
        for period in [f"{year}Q{q}" for q in range(1, 5)] + [str(year)]:
            start = time.perf_counter()
            rule = report.disclosure("public", counts=counts, units=units, periods=[period])
            seconds = time.perf_counter() - start
            cells = rule.plan.cells
            own = cells[cells["period"] == str(fp.parse_period(period))]
            big = own["value"].to_numpy(dtype=float) > rule.threshold
            comp = (own["status"] == disclosure.COMPLEMENT).to_numpy() & big
            both = pd.concat([indicators.compute(counts, period=period, units=units),
                              indicators.compute(counts, period=period, units=units,
                                                 level="county")])
            tables = {"counts": report.counts_table(counts, units, period, disclosure=rule),
                      "indicators": report.indicator_table(both, units, disclosure=rule)}
            result = report.audit(tables, rule)
            total_big += int(big.sum())
            total_comp += int(comp.sum())
            print(f"{period:8} {seconds:7.2f} {int(comp.sum()):>20} / {int(big.sum()):<5}  "
                  f"{'pass' if result['protected'].all() else 'FAIL'}")
    print(f"all: {total_comp} / {total_big} = {total_comp / max(total_big, 1):.3f}")


if __name__ == "__main__":
    main()
