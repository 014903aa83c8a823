"""Command line: ``python -m fpanalysis.cli report [--period 2024Q4]`` renders a report.

Without ``--period`` the latest quarter that every unit reported in full is used.

Problems (bad data, a missing file, an unreadable period, an unknown notebook parameter, a
period the data do not cover, a failed notebook) are printed one per line on stderr and the
exit status is 2; ``--debug`` shows the Python traceback as well. On success the path of the
HTML report is printed on stdout.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

from . import io, report
from . import periods as pr
from .schema import DataError

__all__ = ["main"]

#: Exit status for a problem the user can fix (as argparse uses for a bad argument).
PROBLEM = 2
#: Exit status after Ctrl-C (128 + SIGINT).
INTERRUPTED = 130

_PERIODS = ("assessment period: a month 2024-07 (2024年7月), a quarter 2024Q3 (2024年第3季度), "
            "a half-year 2024H1 (2024年上半年), year to date 2024-01/2024-09 (2024年1-9月) "
            "or a year 2024 (2024年); a period the counts do not cover is refused "
            "(default: latest complete quarter of the data)")


def _value(text: str) -> object:
    """A notebook parameter from the command line: True/False, a number, else the text."""
    if text in ("True", "False"):
        return text == "True"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _problems(error: BaseException) -> list[str]:
    """The lines to print for an error: one per problem."""
    if isinstance(error, DataError):
        lines = [str(p) for p in error.problems]
        return lines or [str(error)]
    if isinstance(error, FileNotFoundError) and error.filename is not None:
        return [f"no such file or folder: {error.filename}"]
    text = str(error).strip() or type(error).__name__
    return text.splitlines()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 done, 2 problem, 130 interrupted)."""
    parser = argparse.ArgumentParser(prog="fpanalysis", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("report", help="render a report notebook to HTML for one period")
    rep.add_argument("--period", help=_PERIODS)
    rep.add_argument("--data-dir", type=Path, default=Path("data/sample"))
    rep.add_argument("--output-dir", type=Path, default=Path("reports"),
                     help="the report goes to <output-dir>/<period>/ (default: reports)")
    rep.add_argument("--notebook", type=Path, default=Path("notebooks/quarterly_report.ipynb"))
    rep.add_argument("--language", choices=("zh", "en"), default="zh")
    rep.add_argument("-p", "--parameter", nargs=2, action="append", default=[],
                     metavar=("NAME", "VALUE"), help="a further notebook parameter")
    rep.add_argument("--debug", action="store_true",
                     help="show the Python traceback of a problem")
    args = parser.parse_args(argv)

    try:
        own = {"period", "data_dir", "output_dir", "language"} & {k for k, _ in args.parameter}
        if own:  # each has its option, which renders into the right folder
            raise ValueError(f"-p {', '.join(sorted(own))}: use the option "
                             f"{', '.join('--' + k.replace('_', '-') for k in sorted(own))} "
                             "instead")
        period = args.period
        if period is not None:
            try:
                period = str(pr.parse(period))
            except ValueError as error:
                raise ValueError(f"--period {args.period}: {error}") from error
        else:
            period = str(report.latest_complete_quarter(io.load_counts(args.data_dir)))
        start = time.perf_counter()
        html = report.render(args.notebook, period=period, data_dir=args.data_dir,
                             output_dir=args.output_dir, language=args.language,
                             parameters={k: _value(v) for k, v in args.parameter})
    except KeyboardInterrupt as error:
        if args.debug:
            traceback.print_exc()
        notes = getattr(error, "__notes__", [])
        print(notes[-1] if notes else "interrupted", file=sys.stderr)
        return INTERRUPTED
    except (ValueError, OSError, report.RenderError) as error:  # DataError is a ValueError
        if args.debug:
            traceback.print_exc()
        for line in _problems(error):
            print(line, file=sys.stderr)
        return PROBLEM
    except Exception as error:  # a defect, not a user's problem: still no traceback unasked
        if args.debug:
            traceback.print_exc()
        print(f"internal error: {type(error).__name__}: {_problems(error)[0]} "
              "(run again with --debug to see where)", file=sys.stderr)
        return 1
    print(f"rendered {args.notebook.name} for {period} in "
          f"{time.perf_counter() - start:.1f} s", file=sys.stderr)
    print(html)
    return 0


if __name__ == "__main__":
    sys.exit(main())
