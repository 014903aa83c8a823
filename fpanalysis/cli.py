"""Command line: ``python -m fpanalysis.cli report [--period 2024Q4]`` renders a report.

Without ``--period`` the latest quarter that every unit reported in full is used.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from . import io, report

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fpanalysis", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("report", help="render a report notebook to HTML for one period")
    rep.add_argument("--period", help="assessment period, e.g. 2024Q4, 2024-07, 2024年第3季度 "
                                      "(default: latest complete quarter of the data)")
    rep.add_argument("--data-dir", type=Path, default=Path("data/sample"))
    rep.add_argument("--output-dir", type=Path, default=Path("reports"))
    rep.add_argument("--notebook", type=Path, default=Path("notebooks/quarterly_report.ipynb"))
    rep.add_argument("--language", choices=("zh", "en"), default="zh")
    args = parser.parse_args(argv)

    period = args.period
    if period is None:
        period = str(report.latest_complete_quarter(io.load_counts(args.data_dir)))
    start = time.perf_counter()
    html = report.render(args.notebook, period=period, data_dir=args.data_dir,
                         output_dir=args.output_dir, language=args.language)
    print(f"rendered {args.notebook.name} for {period} in "
          f"{time.perf_counter() - start:.1f} s", file=sys.stderr)
    print(html)
    return 0


if __name__ == "__main__":
    sys.exit(main())
