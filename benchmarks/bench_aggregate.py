"""Benchmark: count an event register into unit x month counts, against DuckDB and dask.

    python benchmarks/bench_aggregate.py --rows 10000000 [--units 40000] [--repeat 3]
                                         [--data DIR] [--invalid 0.0]

The register comes from fpanalysis.synth.write_event_register (40,000 units, 2023-2024,
Parquet in row groups of 1M rows: unit/event/sex dictionary-encoded, date as date32, small
ints as int8/int16) and is reused from --data when it is there. Then, interleaved over
--repeat rounds, each measurement in a fresh subprocess so that its peak RSS
(getrusage ru_maxrss of that process) is its own:

  fpanalysis    aggregate_events(path, "M", start, end): streamed over record batches
  duckdb        the same counts in SQL on the same file (same validity rules, GROUP BY
                unit, month), fetched into a pandas DataFrame
  dask-threads  aggregate_events(dd.read_parquet(path, split_row_groups=True), ...) on the
                threaded scheduler (one partition per row group; dask's default makes one
                partition of the whole file, which nothing can count in parallel)
  dask-cluster  the same on a LocalCluster of 2 worker processes (1 thread each); its
                RSS is the client process only, the workers' memory is not in it

Times and peak RSS are taken right after the call (imports and cluster start-up are not
timed; the checks that follow are not in the RSS). Every method's column
totals are compared with fpanalysis' and the run fails if any differ. The last line reads
``ratio_vs_duckdb=<x.xx> peak_rss_mb=<n>`` (fpanalysis' median time over DuckDB's, and
fpanalysis' largest peak RSS).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

METHODS = ("fpanalysis", "duckdb", "dask-threads", "dask-cluster")
COLUMNS = ["births", "births_male", "births_female", "births_male_o1", "births_female_o1",
           "births_male_o2", "births_female_o2", "births_male_o3p", "births_female_o3p",
           "deaths", "deaths_infant", "births_compliant",
           "births_age_15_19", "births_age_20_24", "births_age_25_29", "births_age_30_34",
           "births_age_35_39", "births_age_40_44", "births_age_45_49",
           "births_age_10_14", "births_age_50_60"]


def duckdb_sql(path: Path, first: str, last: str) -> str:
    """The counts of aggregate_events in SQL, with the same validity rules."""
    birth = "event = 'birth'"
    sexes = {"male": "'M'", "female": "'F'"}
    orders = {"o1": "birth_order = 1", "o2": "birth_order = 2", "o3p": "birth_order >= 3"}
    ages = {"15_19": (15, 19), "20_24": (20, 24), "25_29": (25, 29), "30_34": (30, 34),
            "35_39": (35, 39), "40_44": (40, 44), "45_49": (45, 49), "10_14": (10, 14),
            "50_60": (50, 60)}
    agg = {"births": birth}
    for s, code in sexes.items():
        agg[f"births_{s}"] = f"{birth} AND sex = {code}"
    for o, cond in orders.items():
        for s, code in sexes.items():
            agg[f"births_{s}_{o}"] = f"{birth} AND sex = {code} AND {cond}"
    agg["deaths"] = "event = 'death'"
    agg["deaths_infant"] = "event = 'death' AND age_at_death = 0"
    agg["births_compliant"] = f"{birth} AND compliant"
    for a, (lo, hi) in ages.items():
        agg[f"births_age_{a}"] = f"{birth} AND mother_age BETWEEN {lo} AND {hi}"
    sums = ",\n  ".join(f"count(*) FILTER (WHERE {cond}) AS {name}"
                        for name, cond in agg.items())
    return f"""
SELECT unit, date_trunc('month', date) AS period,
  {sums}
FROM read_parquet('{path}')
WHERE unit IS NOT NULL AND date BETWEEN DATE '{first}' AND DATE '{last}'
  AND ((event = 'birth' AND sex IN ('M', 'F') AND birth_order >= 1
        AND mother_age BETWEEN 10 AND 60 AND compliant IS NOT NULL)
       OR (event = 'death' AND age_at_death BETWEEN 0 AND 130))
GROUP BY unit, period
"""


def child(method: str, path: Path, first: str, last: str) -> None:
    """Run one measurement; print wall time, peak RSS and the column totals as JSON."""
    import numpy as np

    if method == "duckdb":
        import duckdb

        con = duckdb.connect()
        t = time.perf_counter()
        out = con.sql(duckdb_sql(path, first, last)).df()
        wall = time.perf_counter() - t
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
        rows = len(out)
    else:
        from fpanalysis.events import aggregate_events

        cluster = client = None
        source: object = path
        if method.startswith("dask"):
            import dask.dataframe as dd

            if method == "dask-cluster":
                from dask.distributed import Client, LocalCluster

                cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
                client = Client(cluster)
            source = dd.read_parquet(path, split_row_groups=True)  # a partition a row group
        t = time.perf_counter()
        out = aggregate_events(source, "M", start=first[:7], end=last[:7])
        wall = time.perf_counter() - t
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before the checks
        seen = np.zeros(len(out), dtype=bool)  # cells with events, as SQL lists them
        for c in COLUMNS:
            seen |= out[c].to_numpy() > 0
        rows = int(seen.sum())
        if client is not None:
            client.close()
            cluster.close()
    totals = {c: int(out[c].sum()) for c in COLUMNS}
    print(json.dumps({"wall": wall, "rss_mb": rss, "rows": rows, "totals": totals}))


def describe(path: Path) -> None:
    """Print the register's size and its decoded columns (in a child of its own)."""
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    decoded = sum(pf.read_row_group(g).nbytes for g in range(pf.metadata.num_row_groups))
    print(json.dumps({"rows": pf.metadata.num_rows, "row_groups": pf.metadata.num_row_groups,
                      "decoded_mb": decoded / 2**20}))


def generate(path: Path, rows: int, units: int, invalid: float) -> None:
    from fpanalysis import synth

    synth.write_event_register(path, rows, n_units=units, years=(2023, 2024),
                               invalid=invalid, row_group=1_000_000)


def run(*args: str) -> str:
    """Run this script as a child. Every step that needs memory runs in a child: Linux keeps
    ru_maxrss across fork and exec, so a child would report the parent's high-water mark."""
    proc = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True,
                          text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"{args[:2]} failed:\n{proc.stderr}")
    return proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--units", type=int, default=40_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", type=Path, default=Path("/tmp/fpanalysis_bench_events"))
    parser.add_argument("--invalid", type=float, default=0.0,
                        help="share of rows with a planted problem (default 0)")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        step, path, *rest = args.child
        if step == "generate":
            generate(Path(path), int(rest[0]), int(rest[1]), float(rest[2]))
        elif step == "describe":
            describe(Path(path))
        else:
            child(step, Path(path), *rest)
        return

    years = (2023, 2024)
    first, last = f"{years[0]}-01-01", f"{years[1]}-12-31"
    path = args.data / (f"events_{args.rows}_{args.units}_{args.invalid:g}.parquet")
    if not path.exists():
        t = time.perf_counter()
        run("generate", str(path), str(args.rows), str(args.units), str(args.invalid))
        print(f"wrote {path} in {time.perf_counter() - t:.1f} s")
    info = json.loads(run("describe", str(path)))
    decoded = info["decoded_mb"]
    print(f"register: {info['rows']:,} rows, {args.units:,} units, {years[0]}-{years[1]}, "
          f"{info['row_groups']} row groups, {path.stat().st_size / 2**20:.0f} MiB Parquet, "
          f"decoded columns {decoded:.0f} MiB (Arrow)")
    print(f"load average before: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
    methods = [m for m in args.methods.split(",") if m]
    results: dict[str, list[dict]] = {m: [] for m in methods}
    print(f"this process's peak RSS (a floor for its children's): "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    for rep in range(args.repeat):
        for m in methods:
            res = json.loads(run(m, str(path), first, last))
            results[m].append(res)
            print(f"  round {rep + 1} {m:13s} {res['wall']:7.2f} s  {res['rss_mb']:6.0f} MiB")
    ref = results[methods[0]][0]
    for m in methods:
        for res in results[m]:
            if res["totals"] != ref["totals"] or res["rows"] != ref["rows"]:
                sys.exit(f"{m} disagrees with {methods[0]}: {res['totals']} vs "
                         f"{ref['totals']}")
    print(f"all methods agree: {ref['rows']:,} unit-months with events, "
          f"{ref['totals']['births']:,} births, {ref['totals']['deaths']:,} deaths")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print(f"{'method':14s} {'median s':>9s} {'peak RSS MiB':>13s}")
    med = {m: statistics.median(r["wall"] for r in results[m]) for m in methods}
    rss = {m: max(r["rss_mb"] for r in results[m]) for m in methods}
    for m in methods:
        print(f"{m:14s} {med[m]:9.2f} {rss[m]:13.0f}")
    if "fpanalysis" in med and "duckdb" in med:
        ratio = med["fpanalysis"] / med["duckdb"]
        print(f"fpanalysis / DuckDB time: {ratio:.2f}; peak RSS fpanalysis / DuckDB: "
              f"{rss['fpanalysis'] / rss['duckdb']:.2f}; fpanalysis / decoded columns: "
              f"{rss['fpanalysis'] / decoded:.2f}")
        print(f"ratio_vs_duckdb={ratio:.2f} peak_rss_mb={rss['fpanalysis']:.0f}")


if __name__ == "__main__":
    main()
