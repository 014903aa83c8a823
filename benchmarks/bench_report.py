"""Benchmark: one quarterly report against a minimal papermill notebook, and a batch of four.

    python benchmarks/bench_report.py [--repeat 3] [--batch-repeat 1] [--period 2024Q4]
                                      [--periods 2024Q1..2024Q4] [--jobs 2] [--no-batch]

In the same run, each timed in this process with papermill and nbconvert already imported
(every run starts its own kernel, which imports everything afresh):

  1. the peer: a minimal notebook, written to a temporary folder, that imports pandas and
     matplotlib and draws one figure, run with ``papermill.execute_notebook``;
  2. one report: ``fpanalysis.report.render`` of ``notebooks/quarterly_report.ipynb`` on
     ``data/sample`` (papermill, the HTML export and the Excel workbook the notebook
     writes). Runs of 1 and 2 alternate so that both see the same load on the machine;
  3. the batch: the four periods one after the other, then with ``--jobs`` workers, through
     ``fpanalysis.batch.run_batch`` when that module exists, else through
     ``concurrent.futures`` over ``render`` calls (one process per worker);
  4. ``python -c "import fpanalysis"`` in a fresh interpreter.

Medians (and the fastest run) are printed with the ratios the acceptance asks for: one
report / minimal notebook (at most 2) and batch with jobs / sequential (at most 0.55), and
the time per cell of the last report (papermill records it in the cell metadata). The CPU
seconds of each run (this process and its kernels) are printed too: on a shared machine the
wall times swing with the load, the CPU seconds much less. With
``PYTHONDONTWRITEBYTECODE=1`` every import compiles from source, in both notebooks alike.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import importlib.util
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import papermill as pm
from nbconvert import HTMLExporter  # noqa: F401  (imported here so that no run pays for it)

from fpanalysis import periods as pr
from fpanalysis import report

ROOT = Path(__file__).resolve().parents[1]

MINIMAL = [
    "%matplotlib inline\nimport pandas as pd\nimport matplotlib.pyplot as plt",
    'frame = pd.DataFrame({"x": [1, 2, 3], "y": [2.0, 4.5, 3.5]})\n'
    "fig, ax = plt.subplots()\nax.plot(frame[\"x\"], frame[\"y\"])",
]


def minimal_notebook(folder: Path) -> Path:
    """Write the peer notebook into ``folder``."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in MINIMAL]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path = folder / "minimal.ipynb"
    nbformat.write(nb, path)
    return path


CPU: list[tuple[str, float]] = []  # (what, CPU seconds of this process and its children)


def _cpu() -> float:
    me, kids = (resource.getrusage(w) for w in (resource.RUSAGE_SELF,
                                                 resource.RUSAGE_CHILDREN))
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def timed(fn, what: str = "") -> float:
    """Wall seconds of ``fn()``; its CPU seconds (this process and the kernels and workers
    it waited for) go to ``CPU`` under ``what``: they hardly depend on the load of a shared
    machine, which the wall time does."""
    c, t = _cpu(), time.perf_counter()
    fn()
    wall = time.perf_counter() - t
    CPU.append((what, _cpu() - c))
    return wall


def cpu(what: str) -> list[float]:
    return [s for w, s in CPU if w == what]


def summary(times: list[float]) -> str:
    return f"median {statistics.median(times):6.2f} s, best {min(times):6.2f} s (n={len(times)})"


def ratios(a: list[float], b: list[float]) -> str:
    return (f"{statistics.median(a) / statistics.median(b):.2f} (medians), "
            f"{min(a) / min(b):.2f} (best)")


def _render(notebook: str, period: str, data_dir: str, output_dir: str) -> str:
    return str(report.render(notebook, period=period, data_dir=data_dir,
                             output_dir=output_dir))


def _has_batch() -> bool:
    """Whether ``fpanalysis.batch`` exists beside the ``fpanalysis`` imported (an editable
    install of another checkout could otherwise lend its own)."""
    import fpanalysis

    spec = importlib.util.find_spec("fpanalysis.batch")
    return spec is not None and spec.origin is not None and \
        Path(spec.origin).parent == Path(fpanalysis.__file__).parent


def batch_runner(notebook: Path, labels: list[str], data_dir: Path):
    """A function (jobs, output folder) -> None rendering every period, and its name."""
    if _has_batch():
        from fpanalysis import batch

        def run(jobs: int, out: Path) -> None:
            manifest = batch.run_batch(notebook, labels, data_dir=data_dir, output_dir=out,
                                       jobs=jobs, force=True, progress=False)
            if manifest.get("failed"):
                why = {r["period"]: r["reason"] for r in manifest["periods"]
                       if r.get("status") == "failed"}
                raise RuntimeError(f"batch failed: {why}")

        return run, "fpanalysis.batch.run_batch"

    def run(jobs: int, out: Path) -> None:
        args = [(str(notebook), p, str(data_dir), str(out)) for p in labels]
        if jobs == 1:
            for a in args:
                _render(*a)
            return
        with cf.ProcessPoolExecutor(max_workers=jobs) as pool:
            for future in [pool.submit(_render, *a) for a in args]:
                future.result()

    return run, "concurrent.futures over report.render"


def import_time(repeat: int) -> list[float]:
    code = ("import time; t = time.perf_counter(); import fpanalysis; "
            "print(time.perf_counter() - t)")
    env = os.environ | {"PYTHONPATH": os.pathsep.join(filter(None, [
        str(ROOT), os.environ.get("PYTHONPATH")]))}
    return [float(subprocess.run([sys.executable, "-c", code], check=True, env=env,
                                 capture_output=True, text=True).stdout)
            for _ in range(repeat)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batch-repeat", type=int, default=1)
    parser.add_argument("--period", default="2024Q4")
    parser.add_argument("--periods", default="2024Q1..2024Q4")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--data-dir", type=Path, default=ROOT / "data" / "sample")
    parser.add_argument("--notebook", type=Path,
                        default=ROOT / "notebooks" / "quarterly_report.ipynb")
    parser.add_argument("--no-batch", action="store_true")
    args = parser.parse_args()

    import fpanalysis

    print(f"fpanalysis from {Path(fpanalysis.__file__).parent}; python {sys.version.split()[0]}"
          f"; PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE', '')}; "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")
    tmp = Path(tempfile.mkdtemp(prefix="bench_report."))
    try:
        imports = import_time(args.repeat)
        print(f"import fpanalysis (fresh interpreter):  {summary(imports)}")

        peer = minimal_notebook(tmp)
        t_min, t_rep = [], []
        for i in range(args.repeat):
            t_min.append(timed(lambda: pm.execute_notebook(
                str(peer), str(tmp / "minimal.out.ipynb"), cwd=str(tmp),
                progress_bar=False, kernel_name="python3"), "minimal"))
            t_rep.append(timed(lambda i=i: report.render(
                args.notebook, period=args.period, data_dir=args.data_dir,
                output_dir=tmp / f"one{i}"), "report"))
        print(f"minimal papermill notebook:             {summary(t_min)}")
        print(f"one report {args.period} (papermill+HTML+Excel): {summary(t_rep)}")
        print(f"ratio report / minimal, wall:           {ratios(t_rep, t_min)}  (target <= 2)")
        print(f"  CPU s: minimal {summary(cpu('minimal'))}; report {summary(cpu('report'))}")
        print(f"  ratio report / minimal, CPU:          {ratios(cpu('report'), cpu('minimal'))}")

        done = nbformat.read(tmp / f"one{args.repeat - 1}"
                             / report.folder_name(pr.parse(args.period))
                             / args.notebook.name, as_version=4)
        cells = sorted(((c.metadata.get("papermill", {}).get("duration") or 0.0,
                         c.source.splitlines()[0][:70] if c.source else "")
                        for c in done.cells if c.cell_type == "code"), reverse=True)
        print(f"  kernel run {done.metadata['papermill']['duration']:.2f} s; slowest cells:")
        for seconds, first in cells[:6]:
            print(f"    {seconds:5.2f} s  {first}")

        if args.no_batch:
            return
        labels = _expand(args.periods)
        run, how = batch_runner(args.notebook, labels, args.data_dir)
        t_seq, t_par = [], []
        for i in range(args.batch_repeat):  # alternating, as above
            t_seq.append(timed(lambda i=i: run(1, tmp / f"seq{i}"), "seq"))
            t_par.append(timed(lambda i=i: run(args.jobs, tmp / f"par{i}"), "par"))
        print(f"batch {labels[0]}..{labels[-1]} via {how}")
        print(f"  sequential:                           {summary(t_seq)}")
        print(f"  --jobs {args.jobs}:                              {summary(t_par)}")
        print(f"  ratio jobs / sequential, wall:        {ratios(t_par, t_seq)}"
              "  (target <= 0.55)")
        print(f"  CPU s: sequential {summary(cpu('seq'))}; jobs {summary(cpu('par'))}")
        print(f"  ratio batch with jobs / one report:   {ratios(t_par, t_rep)}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _expand(text: str) -> list[str]:
    """``2024Q1..2024Q4`` or ``2024Q1,2024Q3`` to period labels."""
    if _has_batch():
        from fpanalysis import batch

        return [str(p) for p in batch.expand_periods(text)]
    if ".." not in text:
        return [str(pr.parse(t.strip())) for t in text.split(",")]
    first, last = (pr.parse(t.strip()) for t in text.split(".."))
    return [str(p) for p in __import__("pandas").period_range(first, last)]


if __name__ == "__main__":
    main()
