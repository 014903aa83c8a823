"""Command line: ``fpanalysis report --periods 2024Q1..2024Q4`` renders reports, and more.

Subcommands (``fpanalysis <command> --help`` for each):

* ``report`` renders a report notebook to HTML for one period (``--period``) or many
  (``--periods``: ranges and lists, in parallel with ``--jobs``); without either, the latest
  quarter that every unit reported in full. Each goes to ``<output-dir>/<period>/``, and
  ``<output-dir>/manifest.json`` records the batch; a report whose inputs and code are
  unchanged is not rendered again unless ``--force``.
* ``indicators`` prints (or writes) the indicator table of one period.
* ``validate`` runs every loader on every data file it knows in a folder.
* ``sample-data`` writes the fictional sample county.

Problems (bad data, a missing file, an unreadable period, an unknown notebook parameter, a
period the data do not cover, a failed notebook) are printed one per line on stderr and the
exit status is 2 (``validate``: 1 when the data have problems); ``--debug`` shows the Python
traceback as well. On success ``report`` prints the path of each HTML report on stdout.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

from . import periods as pr
from .schema import DataError

__all__ = ["main"]

#: Exit status for a problem the user can fix (as argparse uses for a bad argument).
PROBLEM = 2
#: Exit status of ``validate`` when the data have problems.
INVALID = 1
#: Exit status after Ctrl-C (128 + SIGINT).
INTERRUPTED = 130

_PERIODS = ("assessment period: a month 2024-07 (2024年7月), a quarter 2024Q3 (2024年第3季度), "
            "a half-year 2024H1 (2024年上半年), year to date 2024-01/2024-09 (2024年1-9月) "
            "or a year 2024 (2024年); a period the counts do not cover is refused "
            "(default: latest complete quarter of the data)")
_MANY = ("several periods: ranges FIRST..LAST of one kind and single periods, separated by "
         "commas, in any syntax --period takes, e.g. 2024Q1..2024Q4, "
         "2024年第1季度..2024年第4季度, 2024-01..2024-06, 2024H1,2024-01/2024-09")


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
    if isinstance(error, OSError) and error.errno is not None:  # never "[Errno 20] ..."
        from .batch import os_problem

        return [os_problem(error)]
    text = str(error).strip() or type(error).__name__
    return text.splitlines()


def _jobs(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got {text!r}")
    return n


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fpanalysis", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    rep = sub.add_parser("report", help="render a report notebook to HTML for one or more "
                                        "periods", description="Render a report notebook "
                         "to HTML (without code) for one or more periods.")
    which = rep.add_mutually_exclusive_group()
    which.add_argument("--period", help=_PERIODS)
    which.add_argument("--periods", help=_MANY)
    rep.add_argument("--data-dir", type=Path, default=Path("data/sample"),
                     help="the data folder (default: data/sample)")
    rep.add_argument("--output-dir", type=Path, default=Path("reports"),
                     help="each report goes to <output-dir>/<period>/, the batch's "
                          "manifest.json to <output-dir>/ (default: reports)")
    rep.add_argument("--notebook", default="quarterly_report",
                     help="a report notebook by name (shipped with the package: "
                          "quarterly_report, ...) or a path to an .ipynb file "
                          "(default: quarterly_report)")
    rep.add_argument("--language", choices=("zh", "en"), default="zh",
                     help="language of titles, labels and headers (default: zh)")
    rep.add_argument("--disclosure", choices=("public", "internal"), default="public",
                     help="public (default): small counts of sensitive events shown as <5 and "
                          "what is built on them withheld; internal: everything shown")
    rep.add_argument("--jobs", "-j", type=_jobs, default=1,
                     help="periods rendered at once, each in its own process (default: 1)")
    rep.add_argument("--force", action="store_true",
                     help="render again periods whose inputs, notebook, parameters and "
                          "code are unchanged since their report")
    rep.add_argument("-p", "--parameter", nargs=2, action="append", default=[],
                     metavar=("NAME", "VALUE"), help="a further notebook parameter")
    rep.add_argument("--debug", action="store_true",
                     help="show the Python traceback of a problem")

    ind = sub.add_parser("indicators", help="the indicator table of one period",
                         description="Compute every indicator the counts allow for one "
                         "period and print it as CSV (or write CSV, Excel or Markdown).")
    ind.add_argument("--data-dir", type=Path, default=Path("data/sample"),
                     help="the data folder (default: data/sample)")
    ind.add_argument("--period", required=True, help=_PERIODS.split(";")[0])
    ind.add_argument("--level", help="unit level to compute for (county, township, ...; "
                                     "default: the level of the counts)")
    ind.add_argument("--format", choices=("csv", "xlsx", "markdown"),
                     help="output format (default: from the --output file's ending, .csv, "
                          ".xlsx or .md, else csv; xlsx needs --output)")
    ind.add_argument("--output", type=Path, help="write to this file instead of stdout")
    ind.add_argument("--disclosure", choices=("public", "internal"), default="public",
                     help="public (default): sensitive indicators built on a few events "
                          "show the suppression mark instead of numbers "
                          "(fpanalysis.report.publishable); internal: every number")
    ind.add_argument("--debug", action="store_true",
                     help="show the Python traceback of a problem")

    val = sub.add_parser("validate", help="check every data file in a folder",
                         description="Run every loader on every data file it knows in the "
                         "folder (units, counts, counts_villages, audits, births_hospital, "
                         "values, values_villages, city_scores, adjustments, "
                         "population_age, targets.toml, scheme_full.toml with the files "
                         "they name) and print every problem, one per line, then each "
                         "known file the folder lacks and which report needs it; exit 1 "
                         "if there is any problem or a file the quarterly report requires "
                         "is missing, else 0 with one line per file.")
    val.add_argument("--data-dir", type=Path, default=Path("data/sample"),
                     help="the data folder (default: data/sample)")
    val.add_argument("--debug", action="store_true",
                     help="show the Python traceback of a problem")

    smp = sub.add_parser("sample-data", help="write the fictional sample county's data",
                         description="Write the fictional sample county's data files "
                         "(the ones in data/sample) to a folder.")
    smp.add_argument("--out", type=Path, required=True,
                     help="the folder to write: new or empty (else refused)")
    smp.add_argument("--force", action="store_true",
                     help="write into a folder that holds files, replacing those of the "
                          "same name")
    smp.add_argument("--debug", action="store_true",
                     help="show the Python traceback of a problem")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 done, 1 invalid data (validate) or
    an internal error, 2 problem, 130 interrupted)."""
    args = _parser().parse_args(argv)
    command = {"report": _report, "indicators": _indicators, "validate": _validate,
               "sample-data": _sample}[args.command]
    try:
        return command(args)
    except KeyboardInterrupt as error:
        if args.debug:
            traceback.print_exc()
        notes = getattr(error, "__notes__", [])
        print(notes[-1] if notes else "interrupted", file=sys.stderr)
        return INTERRUPTED
    except Exception as error:
        if args.debug:
            traceback.print_exc()
        if isinstance(error, ValueError | OSError) or _render_error(error):
            for line in _problems(error):  # DataError is a ValueError
                print(line, file=sys.stderr)
            return PROBLEM
        # a defect, not a user's problem: still no traceback unasked
        print(f"internal error: {type(error).__name__}: {_problems(error)[0]} "
              "(run again with --debug to see where)", file=sys.stderr)
        return 1


def _render_error(error: BaseException) -> bool:
    report = sys.modules.get("fpanalysis.report")
    return report is not None and isinstance(error, report.RenderError)


def _report(args: argparse.Namespace) -> int:
    from . import batch, io, report

    own = {"period", "data_dir", "output_dir", "language", "disclosure"} & {
        k for k, _ in args.parameter}
    if own:  # each has its option, which renders into the right folder
        raise ValueError(f"-p {', '.join(sorted(own))}: use the option "
                         f"{', '.join('--' + k.replace('_', '-') for k in sorted(own))} "
                         "instead")
    if args.period is not None:
        try:
            periods = [pr.parse(args.period)]
        except ValueError as error:
            raise ValueError(f"--period {args.period}: {error}") from error
    elif args.periods is not None:
        try:
            periods = batch.expand_periods(args.periods)
        except ValueError as error:
            raise ValueError(f"--periods {args.periods}: {error}") from error
    else:
        periods = [report.latest_complete_quarter(io.load_counts(args.data_dir))]
    notebook = batch.notebook_path(args.notebook)
    batch.writable_folder(args.output_dir, "--output-dir")
    many = len(periods) > 1

    def done(record) -> None:
        if record["status"] == "ok":
            print(f"rendered {notebook.name} for {record['period']} in "
                  f"{record['seconds']:.1f} s", file=sys.stderr)
        elif record["status"] == "skipped":
            print(f"skipped {record['period']}: its report is up to date "
                  f"(--force renders it again)", file=sys.stderr)

    start = time.perf_counter()
    manifest = batch.run_batch(notebook, periods, data_dir=args.data_dir,
                               output_dir=args.output_dir, language=args.language,
                               disclosure=args.disclosure,
                               parameters={k: _value(v) for k, v in args.parameter},
                               jobs=args.jobs, force=args.force, on_done=done)
    records = manifest["periods"]
    for r in records:
        if r["html"]:
            print(args.output_dir / r["html"])
    failed = [r for r in records if r["status"] == "failed"]
    if not failed:
        if many:
            print(f"{len(records)} periods in {time.perf_counter() - start:.1f} s "
                  f"(manifest: {args.output_dir / batch.MANIFEST})", file=sys.stderr)
        return 0
    if not many:
        print(failed[0]["reason"], file=sys.stderr)
        return PROBLEM
    for r in failed:
        print(f"failed {r['period']}: {r['reason']}", file=sys.stderr)
    print(f"{len(failed)} of {len(records)} periods failed: "
          f"{', '.join(r['period'] for r in failed)} "
          f"(manifest: {args.output_dir / batch.MANIFEST})", file=sys.stderr)
    return PROBLEM


def _indicators(args: argparse.Namespace) -> int:
    from . import indicators, io, report

    try:
        period = pr.parse(args.period)
    except ValueError as error:
        raise ValueError(f"--period {args.period}: {error}") from error
    args.format = _output_format(args.format, args.output)
    if args.format == "xlsx" and args.output is None:
        raise ValueError("--format xlsx needs --output FILE (a workbook cannot go to the "
                         "terminal)")
    if args.output is not None:
        from .batch import writable_folder

        if args.output.is_dir():
            raise ValueError(f"--output {args.output} is a folder; give a file name")
        writable_folder(args.output.parent, f"--output {args.output}: the folder")
    from .batch import data_folder

    data_folder(args.data_dir, "--data-dir")
    level = None if args.level is None else args.level.strip()
    units = io.load_units(args.data_dir)
    counts = io.load_counts(args.data_dir, units=units)
    report.check_period(counts, period, source=f"the counts in {args.data_dir}")
    table = indicators.compute(counts, period=period, level=level, units=units)
    table = table.assign(period=table["period"].astype(str))
    rule = None
    if args.disclosure == "public":
        report.check_public_periods([period])
        # one plan over the whole hierarchy, whatever --level shows: a county run and a
        # township run suppress the same cells, so neither can be differenced against the
        # other; the table is audited before it goes out in any format
        rule = report.disclosure("public", counts=counts, units=units, periods=[period])
        table = report.publishable(table, rule, units=units)
        report.check(report.audit({"indicators": table}, rule))
    if args.format == "xlsx":
        report.write_excel({"indicators": table}, args.output, disclosure=rule)
        print(args.output)
        return 0
    text = table.to_csv(index=False, lineterminator="\n") if args.format == "csv" \
        else _markdown(table)
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
        print(args.output)
    return 0


#: The format a file ending names.
_ENDINGS = {".csv": "csv", ".xlsx": "xlsx", ".md": "markdown", ".markdown": "markdown"}


def _output_format(chosen: str | None, output: Path | None) -> str:
    """The format of ``indicators``: as chosen, else as the output file's ending names it,
    else csv. A chosen format that its file's ending contradicts (a workbook named .csv,
    CSV text named .xlsx) is refused: the file would not open as its name says."""
    named = _ENDINGS.get(output.suffix.lower()) if output is not None else None
    if chosen is None:
        return named or "csv"
    if output is not None and (chosen == "xlsx") != (output.suffix.lower() == ".xlsx") \
            or named is not None and named != chosen:
        raise ValueError(f"--output {output} ends in {output.suffix or 'no extension'} but "
                         f"--format is {chosen}: name a {chosen} file "
                         f"{'.xlsx' if chosen == 'xlsx' else '.csv, .md or .txt'}, or leave "
                         "--format out to take the format from the name")
    return chosen


def _markdown(table) -> str:
    """A GitHub Markdown table (no tabulate needed); missing values shown empty."""
    def cell(v: object) -> str:
        import pandas as pd

        if v is None or (not isinstance(v, str) and pd.isna(v)):
            return ""
        text = f"{v:.6g}" if isinstance(v, float) else str(v)
        return text.replace("|", "\\|").replace("\n", " ")

    head = "| " + " | ".join(map(str, table.columns)) + " |"
    rule = "|" + "|".join("---" for _ in table.columns) + "|"
    rows = ["| " + " | ".join(cell(v) for v in row) + " |"
            for row in table.itertuples(index=False)]
    return "\n".join([head, rule, *rows]) + "\n"


def _validate(args: argparse.Namespace) -> int:
    lines, problems = _check_folder(args.data_dir)
    stream = sys.stderr if problems else sys.stdout
    for line in lines:
        print(line, file=stream)
    return INVALID if problems else 0


#: Data files ``validate`` knows, in load order: (name, loader name, what it is).
_KNOWN = ("units", "counts", "counts_villages", "audits", "births_hospital", "values",
          "values_villages", "city_scores", "adjustments", "population_age")
_SCHEMES = ("targets.toml", "scheme_full.toml")
#: What needs each data file: (required by the quarterly report, who uses it). Taken from
#: the loaders each shipped notebook calls (a loader with ``optional=True`` is optional).
_NEEDED = {
    "units": (True, "the quarterly report and every other report"),
    "counts": (True, "the quarterly report and every other report"),
    "values": (True, "the quarterly report and target_attainment"),
    "targets.toml": (True, "the quarterly report"),
    "audits": (False, "the quarterly report lists audit flags when it is there; "
                      "data_quality and target_attainment need it"),
    "births_hospital": (False, "the quarterly report compares the two sources of births "
                               "when it is there; data_quality needs it"),
    "counts_villages": (False, "explore and target_attainment need it"),
    "values_villages": (False, "target_attainment needs it"),
    "city_scores": (False, "target_attainment needs it"),
    "adjustments": (False, "target_attainment needs it"),
    "population_age": (False, "projection needs it"),
    "scheme_full.toml": (False, "target_attainment and projection need it"),
}


def _missing(name: str) -> str:
    """The line for a data file the folder lacks: who requires it, or who uses it."""
    required, who = _NEEDED[name]
    shown = name if name.endswith(".toml") else f"{name} (.csv, .xlsx or .parquet)"
    return f"{shown}: missing ({'required by ' + who if required else 'optional: ' + who})"


def _check_folder(data_dir: Path) -> tuple[list[str], bool]:
    """Run every loader on every known file in ``data_dir``.

    Returns the lines to print (one per problem, or one summary per file when there is
    none; then one line per known file the folder lacks, saying whether the quarterly
    report requires it or who uses it) and whether any problem was found (a required file
    missing is one). The units table is loaded first and passed to the others (not re-read
    by each, so that its problems are listed once); a schemes file is loaded with the
    indicators of ``values`` so that supplied-value targets are known, and with it the
    files it names (unit thresholds, the annual plan). Two files for one table (e.g.
    ``counts.csv`` and ``counts.xlsx``) are a problem, as for the loaders.
    """
    import pandas as pd

    from . import io
    from .batch import data_folder
    from .reading import SUFFIXES, find_file
    from .scheme import load_targets

    folder = Path(data_dir)
    data_folder(folder, "--data-dir")
    loaders = {"units": io.load_units, "counts": io.load_counts,
               "counts_villages": io.load_counts, "audits": io.load_audits,
               "births_hospital": io.load_births_hospital, "values": io.load_values,
               "values_villages": io.load_values, "city_scores": io.load_scores,
               "adjustments": io.load_adjustments, "population_age": io.load_population_age}
    lines: list[str] = []
    bad = False
    units = None
    values = []
    seen: set[Path] = set()
    absent: list[str] = []
    for name in _KNOWN:
        found = [folder / f"{name}{s}" for s in SUFFIXES if (folder / f"{name}{s}").is_file()]
        seen.update(found)
        if not found:
            absent.append(name)
        try:
            find_file(folder, name)
        except DataError as error:  # two files for one table: the loaders refuse it
            bad = True
            lines.extend(_problems(error))
            continue
        except FileNotFoundError:
            continue
        for path in found:
            try:
                if name == "units":
                    frame = io.load_units(path)
                elif name == "city_scores":
                    frame = io.load_scores(path, name=name, units=units)
                else:
                    frame = loaders[name](path, units=units)
            except (ValueError, OSError) as error:
                bad = True
                lines.extend(_problems(error) if isinstance(error, DataError)
                             else [f"{path}: {line}" for line in _problems(error)])
                continue
            if name == "units":
                units = frame
            if name in ("values", "values_villages"):
                values.append(frame)
            rep = io.load_report(frame)
            lines.append(f"{path.name}: {rep.rows_in} rows read, {rep.rows_used} used, "
                         f"{len(rep.skipped)} set aside"
                         + (f" ({'; '.join(sorted({w.split(':')[0] for _, w in rep.skipped}))})"
                            if rep.skipped else ""))
    known = sorted({str(k) for v in values for k in pd.unique(v["indicator"])})
    for name in _SCHEMES:
        path = folder / name
        if not path.is_file():
            absent.append(name)
            continue
        seen.add(path)
        try:
            scheme = load_targets(path, units=units, indicators=known or None)
        except (ValueError, OSError) as error:
            bad = True
            lines.extend(_problems(error) if isinstance(error, DataError)
                         else [f"{path}: {line}" for line in _problems(error)])
            continue
        named = sorted(_named_files(path))
        seen.update(folder / n for n in named)
        lines.append(f"{name}: {len(scheme.targets)} targets"
                     + (f" (with {', '.join(named)})" if named else ""))
    if not seen:
        raise FileNotFoundError(f"no data file validate knows in {data_dir} (it reads "
                                f"{', '.join(_KNOWN)} as .csv, .xlsx or .parquet, and "
                                f"{' and '.join(_SCHEMES)}; the quarterly report needs "
                                "units, counts, values and targets.toml)")
    lines.extend(_missing(name) for name in absent)
    bad = bad or any(_NEEDED[name][0] for name in absent)
    others = sorted(p.name for p in folder.iterdir()
                    if p.is_file() and p not in seen and not p.name.startswith("."))
    if others and not bad:
        lines.append(f"not checked (not a data file validate knows, or named by a schemes "
                     f"file): {', '.join(others)}")
    return lines, bad


def _named_files(path: Path) -> set[str]:
    """Files a schemes file names (``plan_file``, ``unit_thresholds_file``, any ``*_file``)."""
    import tomllib

    def walk(node: object) -> set[str]:
        if isinstance(node, dict):
            return {str(v) for k, v in node.items() if k.endswith("_file")
                    and isinstance(v, str)} | {n for v in node.values() for n in walk(v)}
        if isinstance(node, list):
            return {n for v in node for n in walk(v)}
        return set()

    with open(path, "rb") as f:
        return walk(tomllib.load(f))


def _sample(args: argparse.Namespace) -> int:
    from . import synth
    from .batch import writable_folder

    writable_folder(args.out, "--out")
    present = sorted(p.name for p in args.out.iterdir()) if args.out.is_dir() else []
    if present and not args.force:
        shown = ", ".join(present[:8]) + (f" and {len(present) - 8} more"
                                          if len(present) > 8 else "")
        raise ValueError(f"--out {args.out} is not empty (it holds {shown}): the sample "
                         "would overwrite or mix with those files; give an empty or new "
                         "folder, or add --force to write the sample over them")
    for path in synth.write_sample(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
