"""Batch runs: render a report notebook for many periods, in parallel, with a manifest.

Each period goes through :func:`fpanalysis.report.render` (atomic: the executed notebook
and its HTML without code replace the previous report only when both succeeded; a failed
run is kept in ``<period>.failed``) into ``<output-dir>/<period folder>/``. Periods run in
parallel up to ``jobs`` worker processes (each starts its own kernel). A period that fails
does not stop the others. ``<output-dir>/manifest.json`` records every period of the batch:
its status (``ok``, ``failed`` or ``skipped``), time, output files, why it failed, and what
it was made from (the SHA-256 of every input data file, of the notebook, the parameters,
the package version and a hash of the package source). A period whose report was made from
the same inputs, notebook, parameters and code is skipped unless ``force``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pandas as pd

from . import periods as pr

__all__ = [
    "MANIFEST",
    "code_hash",
    "data_folder",
    "expand_periods",
    "input_hashes",
    "notebook_names",
    "notebook_path",
    "os_problem",
    "period_range",
    "run_batch",
    "writable_folder",
]

#: Name of the manifest file in the output folder.
MANIFEST = "manifest.json"

_PACKAGE = Path(__file__).resolve().parent
_KIND_WORDS = {"dekad": "a dekad", "month": "a month", "quarter": "a quarter",
               "half_year": "a half-year", "ytd": "a year-to-date span", "span": "a span",
               "year": "a year"}


# ------------------------------------------------------------------------------- periods

def period_range(first: object, last: object) -> list[pr.PeriodLike]:
    """Every period of one kind from ``first`` to ``last``, both included.

    Months, quarters, years, dekads and half-years step by one period; year-to-date spans
    step their last month (``2024-01/2024-03`` .. ``2024-01/2024-05`` gives three spans, each
    from January of its own year).

    Raises
    ------
    ValueError
        An unreadable label, two kinds, a range that runs backwards, or a range of general
        spans (which have no next one: list them with commas).

    Examples
    --------
    >>> [str(p) for p in period_range("2024年第3季度", "2025Q1")]
    ['2024Q3', '2024Q4', '2025Q1']
    >>> [str(p) for p in period_range("2024-07-D2", "2024年8月上旬")]
    ['2024-07-D2', '2024-07-D3', '2024-08-D1']
    >>> [str(p) for p in period_range("2024H2", "2025年下半年")]
    ['2024H2', '2025H1', '2025H2']
    >>> [str(p) for p in period_range("2024年1-3月", "2024-01/2024-05")]
    ['2024-01/2024-03', '2024-01/2024-04', '2024-01/2024-05']
    """
    a, b = pr.parse(first), pr.parse(last)
    ka, kb = pr.kind(a), pr.kind(b)
    if ka != kb:
        raise ValueError(f"a period range runs between two periods of one kind; {a} is "
                         f"{_KIND_WORDS[ka]} and {b} {_KIND_WORDS[kb]}")
    if ka == "span":
        raise ValueError(f"a range of spans ({a}..{b}) has no next span; list them with "
                         "commas")
    if b < a:
        raise ValueError(f"the period range {a}..{b} runs backwards")
    if isinstance(a, pd.Period):
        return list(pd.period_range(a, b, freq=a.freq))
    if isinstance(a, pr.Dekad):
        return [pr.Dekad(m.year, m.month, part)
                for m in pd.period_range(a.month, b.month, freq="M") for part in (1, 2, 3)
                if a <= pr.Dekad(m.year, m.month, part) <= b]
    if ka == "half_year":
        halves = pd.period_range(a.first, b.first, freq="M")[::6]
        return [pr.Span(m, m + 5) for m in halves]
    return [pr.Span(pd.Period(year=m.year, month=1, freq="M"), m)  # year to date
            for m in pd.period_range(a.last, b.last, freq="M")]


def expand_periods(text: str) -> list[pr.PeriodLike]:
    """The periods of a ``--periods`` value: ranges ``A..B`` and single labels, separated by
    commas (``,``, ``，`` or ``、``), in any label syntax :func:`fpanalysis.periods.parse`
    accepts. A period named twice is rendered once (first place kept).

    Examples
    --------
    >>> [str(p) for p in expand_periods("2024年第1季度..2024年第2季度, 2024-07,2024Q1")]
    ['2024Q1', '2024Q2', '2024-07']
    >>> [str(p) for p in expand_periods("2024-01..2024-03")]
    ['2024-01', '2024-02', '2024-03']
    """
    out: list[pr.PeriodLike] = []
    for item in re.split(r"[,，、]", str(text)):
        item = item.strip()
        if not item:
            raise ValueError(f"an empty item in the period list {text!r}")
        if ".." in item:
            first, _, last = item.partition("..")
            if not first.strip() or not last.strip():
                raise ValueError(f"a period range needs both ends, got {item!r}")
            found = period_range(first, last)
        else:
            found = [pr.parse(item)]
        out.extend(p for p in found if p not in out)
    return out


# ----------------------------------------------------------------------------- notebooks

def _notebook_folders() -> list[Path]:
    """Where report notebooks are: in the installed package (the wheel ships notebooks/ as
    ``fpanalysis/notebooks/``), then beside the package in a source checkout."""
    return [f for f in (_PACKAGE / "notebooks", _PACKAGE.parent / "notebooks") if f.is_dir()]


def notebook_names() -> list[str]:
    """Names of the report notebooks found (installed, else in the source checkout)."""
    return sorted({p.stem for f in _notebook_folders() for p in f.glob("*.ipynb")})


def notebook_path(name: str | Path) -> Path:
    """The notebook file for ``--notebook``: a path (anything ending in ``.ipynb`` or with a
    folder in it) is taken as it is; a bare name (``quarterly_report``) is looked up in the
    installed package (``fpanalysis/notebooks/``, shipped in the wheel), then in the
    ``notebooks/`` folder of a source checkout (an editable install).

    Raises
    ------
    ValueError
        A bare name that no folder has; the message lists the names there are.

    Examples
    --------
    >>> notebook_path("quarterly_report").name
    'quarterly_report.ipynb'
    >>> notebook_path("reports/my.ipynb").as_posix()
    'reports/my.ipynb'
    """
    text = str(name)
    if text.endswith(".ipynb") or "/" in text or os.sep in text:
        return Path(name)
    for folder in _notebook_folders():
        candidate = folder / f"{text}.ipynb"
        if candidate.is_file():
            return candidate
    from .schema import suggestion

    names = notebook_names()
    raise ValueError(f"no report notebook named {text!r}{suggestion(text, names)}; the "
                     f"notebooks are: {', '.join(names) or 'none found'}; give a path to "
                     "use another notebook")


# ------------------------------------------------------------------------------ outputs

#: What an operating-system error means for the user, by errno (else its own words).
_OS_REASONS = {"ENOTDIR": "a part of the path is a file, not a folder",
               "EISDIR": "it is a folder, not a file",
               "EACCES": "permission denied", "EPERM": "permission denied",
               "EROFS": "the file system is read-only",
               "ENOSPC": "no space left on the device",
               "EEXIST": "it exists already", "ENAMETOOLONG": "the name is too long"}


def os_problem(error: OSError) -> str:
    """One line for an operating-system error: the path and what is wrong with it, in
    words (``x/y: a part of the path is a file, not a folder``), never ``[Errno 20]``."""
    import errno as _errno

    code = _errno.errorcode.get(error.errno or 0, "")
    reason = _OS_REASONS.get(code) or (error.strerror or str(error)).strip()
    if isinstance(error, FileNotFoundError):
        reason = "no such file or folder"
    if error.filename is None:
        return reason[:1].upper() + reason[1:] if error.strerror else str(error)
    where = str(error.filename) + (f" -> {error.filename2}" if error.filename2 else "")
    return f"{where}: {reason}"


def writable_folder(path: str | Path, what: str = "output folder") -> None:
    """Refuse, before anything is written, a folder that cannot be made or written in.

    ``path`` may not exist yet; the first of its parents that exists must be a folder we
    may write in, and nothing on the way may be a file.

    Raises
    ------
    ValueError
        ``path`` (or a folder on the way to it) is a file, or the folder where it would be
        made is not writable. The message starts with ``what`` and ``path``.
    """
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise ValueError(f"{what} {p} is a file, not a folder")
    probe = p
    while not probe.exists():
        if probe.is_symlink():  # a link to nowhere: the folder cannot be made there
            raise ValueError(f"{what} {p}: {probe} is a broken link")
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise ValueError(f"{what} {p}: {probe} is a file, not a folder")
    if probe.exists() and not os.access(probe, os.W_OK | os.X_OK):
        raise ValueError(f"{what} {p}: cannot write in {probe} (permission denied)")


def data_folder(path: str | Path, what: str = "the data folder") -> None:
    """Refuse a data folder that is a file (a report reads several files from a folder).

    Raises
    ------
    ValueError
        ``path`` is a file; FileNotFoundError when it does not exist.
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"no data folder {p}")
    if not p.is_dir():
        raise ValueError(f"{what} {p} is a file: give the folder that holds it (units, "
                         "counts and the other data files)")


def _inside(inner: Path, outer: Path) -> bool:
    try:
        inner.resolve().relative_to(outer.resolve())
    except ValueError:
        return False
    return True


# -------------------------------------------------------------------------------- hashes

def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def input_hashes(data_dir: str | Path) -> dict[str, str]:
    """SHA-256 of every file in the data folder (subfolders too; hidden files and folders
    left out), keyed by its path relative to the folder, in POSIX form and sorted."""
    root = Path(data_dir)
    if root.is_file():
        return {root.name: _sha256(root)}
    files = [p for p in root.rglob("*") if p.is_file()
             and not any(part.startswith(".") for part in p.relative_to(root).parts)]
    return {p.relative_to(root).as_posix(): _sha256(p)
            for p in sorted(files, key=lambda p: p.relative_to(root).as_posix())}


def code_hash() -> str:
    """SHA-256 over the package's source (every ``.py`` file and the shipped notebooks,
    each with its path), so that a changed module makes every report out of date."""
    h = hashlib.sha256()
    files = [p for p in _PACKAGE.rglob("*") if p.suffix in (".py", ".ipynb")
             and "__pycache__" not in p.parts and p.is_file()]
    for p in sorted(files, key=lambda p: p.relative_to(_PACKAGE).as_posix()):
        h.update(p.relative_to(_PACKAGE).as_posix().encode() + b"\0")
        h.update(p.read_bytes() + b"\0")
    return h.hexdigest()


# --------------------------------------------------------------------------------- batch

#: Set in a worker process once Ctrl-C reached it: its later tasks do not start.
_INTERRUPTED = False


def _render_one(task: Mapping[str, object]) -> dict[str, object]:
    """Render one period (in a worker process, or in this one); never raises but for an
    interrupt in this process. Returns status, seconds, output files (relative to the
    output folder), the reason of a failure and where its run is kept."""
    global _INTERRUPTED
    from . import report

    start = time.perf_counter()
    out = Path(str(task["output_dir"]))
    if _INTERRUPTED:
        return {"status": "failed", "seconds": 0.0, "outputs": [], "failed_run": None,
                "reason": "interrupted before it started"}
    try:
        html = report.render(task["notebook"], period=str(task["period"]),
                             data_dir=task["data_dir"], output_dir=out,
                             language=str(task["language"]),
                             disclosure=str(task.get("disclosure", "public")),
                             parameters=dict(task["parameters"]), check_data=False)
    except KeyboardInterrupt as error:
        if not task.get("worker"):
            raise
        _INTERRUPTED = True
        notes = getattr(error, "__notes__", [])
        return {"status": "failed", "seconds": round(time.perf_counter() - start, 2),
                "outputs": [], "failed_run": None,
                "reason": notes[-1] if notes else "interrupted"}
    except report.RenderError as error:
        kept = error.failed / Path(str(task["notebook"])).name
        return {"status": "failed", "seconds": round(time.perf_counter() - start, 2),
                "outputs": [], "reason": str(error),
                "failed_run": _relative(kept if kept.exists() else error.failed, out)}
    except (ValueError, OSError) as error:
        return {"status": "failed", "seconds": round(time.perf_counter() - start, 2),
                "outputs": [], "reason": _one_line(error), "failed_run": None}
    except Exception as error:  # a defect: still one line, and the other periods go on
        return {"status": "failed", "seconds": round(time.perf_counter() - start, 2),
                "outputs": [], "failed_run": None,
                "reason": f"internal error: {type(error).__name__}: {_one_line(error)}"}
    folder = html.parent
    return {"status": "ok", "seconds": round(time.perf_counter() - start, 2),
            "outputs": sorted(_relative(p, out) for p in folder.rglob("*") if p.is_file()),
            "html": _relative(html, out), "reason": None, "failed_run": None}


def _relative(path: Path, root: Path) -> str:
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def _one_line(error: BaseException) -> str:
    from .schema import DataError

    if isinstance(error, DataError) and error.problems:
        return " | ".join(str(p) for p in error.problems)
    if isinstance(error, FileNotFoundError) and error.filename is not None:
        return f"no such file or folder: {error.filename}"
    if isinstance(error, OSError) and error.errno is not None:
        return os_problem(error)
    return " | ".join(ln.strip() for ln in str(error).strip().splitlines() if ln.strip()) \
        or type(error).__name__


def _read_manifest(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_manifest(path: Path, manifest: Mapping[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


_SAME = ("notebook_sha256", "parameters", "inputs", "package_version", "code_sha256")


def _unchanged(old: Mapping[str, object] | None, new: Mapping[str, object], out: Path) -> bool:
    """Whether an earlier record made the same report and its files are all still there."""
    if not old or old.get("status") not in ("ok", "skipped"):
        return False
    if any(old.get(k) != new[k] for k in _SAME):
        return False
    outputs = old.get("outputs") or []
    return bool(outputs) and all((out / str(f)).is_file() for f in outputs)


def _check_inputs(notebook: Path, data_dir: Path, parameters: Mapping[str, object]) -> None:
    """The checks :func:`report.render` makes before a kernel starts, once for the batch."""
    import papermill as pm

    absent = [] if notebook.is_file() else [f"no notebook {notebook}"]
    if not data_dir.exists():
        absent.append(f"no data folder {data_dir}")
    if absent:
        raise FileNotFoundError("\n".join(absent))
    data_folder(data_dir)
    from .reading import find_file

    find_file(data_dir, "units")  # every report names its units: say so before any kernel
    declared = pm.inspect_notebook(str(notebook.resolve()))
    unknown = sorted({"data_dir", "period", *parameters} - set(declared))
    if unknown:
        raise ValueError(f"{notebook.name} has no parameter(s) {', '.join(unknown)}; "
                         f"it declares {', '.join(declared)}")


def run_batch(
    notebook: str | Path,
    periods: Sequence[object],
    *,
    data_dir: str | Path,
    output_dir: str | Path = "reports",
    language: str = "zh",
    parameters: Mapping[str, object] | None = None,
    disclosure: str = "public",
    jobs: int = 1,
    force: bool = False,
    progress: bool | None = None,
    on_done: Callable[[Mapping[str, object]], None] | None = None,
) -> dict[str, object]:
    """Render ``notebook`` for every period and write ``<output_dir>/manifest.json``.

    Parameters
    ----------
    notebook : str or Path
        The notebook file (see :func:`notebook_path` for names).
    periods : sequence of period labels
        In any syntax :func:`fpanalysis.periods.parse` accepts (see :func:`expand_periods`).
    data_dir, output_dir, language, parameters, disclosure
        As for :func:`fpanalysis.report.render` (the disclosure mode is part of what a
        report is: a public and an internal edition are never taken for each other).
    jobs : int, default 1
        Worker processes; with 1 (or one period to render) everything runs in this process.
    force : bool, default False
        Render periods whose report is up to date, too.
    progress : bool, optional
        Show a progress bar on stderr; by default only when stderr is a terminal.
    on_done : callable, optional
        Called with each period's record as it finishes (or is skipped).

    Returns
    -------
    dict
        The manifest: ``fpanalysis_version``, ``code_sha256``, ``notebook``, ``data_dir``,
        ``language``, ``jobs``, ``started``, ``seconds``, ``failed`` (the labels), and
        ``periods``: one record per period in the order given, with ``period``, ``folder``,
        ``notebook``, ``notebook_sha256``, ``status`` (``ok``/``failed``/``skipped``),
        ``seconds``, ``outputs`` (relative to ``output_dir``), ``html``, ``reason`` (why it
        failed, one line), ``failed_run`` (the kept failed notebook), ``parameters``,
        ``inputs`` (SHA-256 per data file), ``package_version``, ``code_sha256``. Records
        of periods rendered by earlier batches into the same folder and not in this one
        are kept under ``earlier``.

    Raises
    ------
    FileNotFoundError, ValueError, fpanalysis.schema.DataError
        Before anything is written: no notebook or data folder, an undeclared parameter,
        counts that break the contract, no periods, ``jobs`` below 1, every period
        outside the data (one line each), an output folder that is a file, lies inside
        the data folder or cannot be written in (:func:`writable_folder`).
    KeyboardInterrupt
        After the manifest is written with the periods done so far.
    """
    from . import __version__, io, report

    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a whole number of at least 1, got {jobs!r}")
    labels = [pr.parse(p) for p in periods]
    if not labels:
        raise ValueError("no periods to render")
    if len({str(p) for p in labels}) != len(labels):
        raise ValueError("a period is named twice: "
                         + ", ".join(sorted({str(p) for p in labels
                                             if [str(q) for q in labels].count(str(p)) > 1})))
    nb = Path(notebook)
    data = Path(data_dir)
    out = Path(output_dir)
    params = dict(parameters or {})
    _check_inputs(nb, data, params)
    writable_folder(out)
    if data.is_dir() and _inside(out, data):
        raise ValueError(f"the output folder {out} is inside the data folder {data}: the "
                         "reports would become part of the data they are made from (and "
                         "change its hash at every run); choose a folder outside it")
    counts = io.load_counts(data)
    outside: dict[str, str] = {}
    for p in labels:
        try:
            report.check_period(counts, p, source=f"the counts in {data_dir}")
        except ValueError as error:
            outside[str(p)] = str(error)
    if len(outside) == len(labels):
        raise ValueError("\n".join(outside.values()))
    if disclosure == "public":  # quarters and years only, every period before any kernel
        report.check_public_periods(labels)

    started = time.time()
    clock = time.perf_counter()
    common = {"notebook": nb.stem, "notebook_sha256": _sha256(nb),
              "parameters": {"language": language, "disclosure": disclosure,
                             **{k: params[k] for k in sorted(params)}},
              "inputs": input_hashes(data), "package_version": __version__,
              "code_sha256": code_hash()}
    json.dumps(common["parameters"])  # a parameter JSON cannot hold is refused up front
    manifest_path = out / MANIFEST
    old_manifest = _read_manifest(manifest_path)
    before = {str(r.get("period")): r for r in
              [*old_manifest.get("earlier", []), *old_manifest.get("periods", [])]
              if isinstance(r, dict)}
    records: dict[str, dict[str, object]] = {}
    tasks = []
    for p in labels:
        key = str(p)
        record = {"period": key, "folder": report.folder_name(p), **common}
        if key in outside:
            record |= {"status": "failed", "seconds": 0.0, "outputs": [], "html": None,
                       "reason": outside[key], "failed_run": None}
        elif not force and _unchanged(before.get(key), record, out):
            old = before[key]
            record |= {"status": "skipped", "seconds": 0.0, "outputs": old["outputs"],
                       "html": old.get("html"), "reason": None, "failed_run": None,
                       "rendered_at": old.get("rendered_at")}
        else:
            tasks.append({"notebook": str(nb), "period": key, "data_dir": str(data),
                          "output_dir": str(out), "language": language,
                          "disclosure": disclosure, "parameters": params})
            continue
        records[key] = record
        if on_done is not None:
            on_done(record)

    def finish(task: Mapping[str, object], result: Mapping[str, object]) -> None:
        key = str(task["period"])
        record = {"period": key, "folder": report.folder_name(key), **common,
                  "html": None, **result}
        if record["status"] == "ok":
            record["rendered_at"] = _stamp(time.time())
        records[key] = record
        if on_done is not None:
            on_done(record)

    def write() -> dict[str, object]:
        this = [records[str(p)] for p in labels if str(p) in records]
        earlier = [r for k, r in before.items() if k not in {str(p) for p in labels}]
        manifest = {
            "fpanalysis_version": __version__, "code_sha256": common["code_sha256"],
            "notebook": str(nb), "data_dir": str(data), "language": language,
            "disclosure": disclosure, "jobs": jobs,
            "started": _stamp(started), "seconds": round(time.perf_counter() - clock, 2),
            "failed": [r["period"] for r in this if r["status"] == "failed"],
            "periods": this, "earlier": earlier}
        _write_manifest(manifest_path, manifest)
        return manifest

    try:
        _run(tasks, jobs, progress, finish)
    except KeyboardInterrupt:
        for task in tasks:
            if str(task["period"]) not in records:
                records[str(task["period"])] = {
                    "period": str(task["period"]),
                    "folder": report.folder_name(str(task["period"])), **common,
                    "status": "failed", "seconds": 0.0, "outputs": [], "html": None,
                    "reason": "interrupted", "failed_run": None}
        write()
        raise
    return write()


def _stamp(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def _run(tasks: list[dict[str, object]], jobs: int, progress: bool | None,
         finish: Callable[[Mapping[str, object], Mapping[str, object]], None]) -> None:
    """Run the tasks in this process (one job or one task) or in a process pool."""
    if not tasks:
        return
    from tqdm import tqdm

    disable = None if progress is None else not progress  # None: only on a terminal
    if jobs == 1 or len(tasks) == 1:
        with tqdm(total=len(tasks), unit="report", desc="reports", file=sys.stderr,
                  disable=disable) as bar:
            for task in tasks:
                bar.set_postfix_str(str(task["period"]))
                finish(task, _render_one(task))
                bar.update()
        return
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    # fork where there is one: the workers start with papermill and nbconvert imported
    # (no kernel or ZeroMQ context exists yet in this process); spawn elsewhere
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    if method == "fork":
        import nbconvert  # noqa: F401
        import papermill  # noqa: F401
    pool = ProcessPoolExecutor(max_workers=min(jobs, len(tasks)),
                               mp_context=multiprocessing.get_context(method))
    pending = {}
    try:
        pending = {pool.submit(_render_one, task | {"worker": True}): task for task in tasks}
        with tqdm(total=len(tasks), unit="report", desc="reports", file=sys.stderr,
                  disable=disable) as bar:
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    task = pending.pop(future)
                    try:
                        result = future.result()
                    except Exception as error:  # the worker died (killed, out of memory)
                        result = {"status": "failed", "seconds": None, "outputs": [],
                                  "failed_run": None,
                                  "reason": f"the worker process for {task['period']} "
                                            f"stopped: {type(error).__name__}: {error}"}
                    finish(task, result)
                    bar.set_postfix_str(str(task["period"]))
                    bar.update()
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        for future, task in pending.items():  # what finished while the pool wound down
            if future.done() and not future.cancelled() and future.exception() is None:
                finish(task, future.result())
        raise
    pool.shutdown(wait=True)
