"""Batch runs: period ranges, the notebook lookup, the manifest, a failing period that does
not stop the others, and skipping what is up to date.

Expected period lists are written out by hand from the calendar; expected hashes are
computed here with hashlib from the files themselves; messages are the fixed sentences of
the code under test, written out in full.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import nbformat
import pytest

import fpanalysis
from fpanalysis import batch, cli
from tests.conftest import ROOT, SAMPLE
from tests.test_report import tiny_notebook

# --------------------------------------------------------------------------- period lists


@pytest.mark.parametrize(("text", "expected"), [
    ("2024Q1..2024Q4", ["2024Q1", "2024Q2", "2024Q3", "2024Q4"]),
    ("2024年第1季度..2024年第4季度", ["2024Q1", "2024Q2", "2024Q3", "2024Q4"]),
    ("2024年第四季度..2025年第一季度", ["2024Q4", "2025Q1"]),
    ("2024-01..2024-06", ["2024-01", "2024-02", "2024-03", "2024-04", "2024-05", "2024-06"]),
    ("2024年11月..2025年2月", ["2024-11", "2024-12", "2025-01", "2025-02"]),
    ("2022..2024", ["2022", "2023", "2024"]),
    ("2023H2..2024年下半年", ["2023H2", "2024H1", "2024H2"]),
    ("2024-02-D3..2024-03-D2", ["2024-02-D3", "2024-03-D1", "2024-03-D2"]),
    ("2024年1-3月..2024-01/2024-05", ["2024-01/2024-03", "2024-01/2024-04",
                                      "2024-01/2024-05"]),
    ("2024Q3", ["2024Q3"]),
    ("2024Q1,2024H1，2024-01/2024-09、2024年", ["2024Q1", "2024H1", "2024-01/2024-09", "2024"]),
    ("2024Q1..2024Q2, 2024Q2, 2024年第1季度", ["2024Q1", "2024Q2"]),  # each once
])
def test_expand_periods(text, expected):
    assert [str(p) for p in batch.expand_periods(text)] == expected


@pytest.mark.parametrize(("text", "message"), [
    ("2024Q1..2024-06", "a period range runs between two periods of one kind; 2024Q1 is a "
                        "quarter and 2024-06 a month"),
    ("2024Q4..2024Q1", "the period range 2024Q4..2024Q1 runs backwards"),
    ("2024-02/2024-03..2024-02/2024-05", "a range of spans (2024-02/2024-03..2024-02/2024-05)"
                                         " has no next span; list them with commas"),
    ("2024Q1,,2024Q2", "an empty item in the period list '2024Q1,,2024Q2'"),
    ("2024Q1..", "a period range needs both ends, got '2024Q1..'"),
    ("2024Q1..2024Q5", "cannot parse period label '2024Q5'"),
])
def test_expand_periods_refuses(text, message):
    with pytest.raises(ValueError) as e:
        batch.expand_periods(text)
    assert str(e.value) == message


def test_cli_bad_periods_is_one_line_and_writes_nothing(capsys, tmp_path):
    code = cli.main(["report", "--periods", "2024Q3..2024Q1", "--output-dir",
                     str(tmp_path / "r")])
    assert code == 2
    assert capsys.readouterr().err.splitlines() == [
        "--periods 2024Q3..2024Q1: the period range 2024Q3..2024Q1 runs backwards"]
    assert not (tmp_path / "r").exists()


def test_period_and_periods_exclude_each_other(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["report", "--period", "2024Q1", "--periods", "2024Q1..2024Q2"])
    assert e.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


@pytest.mark.parametrize("jobs", ["0", "-1", "two"])
def test_jobs_must_be_positive(capsys, jobs):
    with pytest.raises(SystemExit):
        cli.main(["report", "--jobs", jobs])
    assert "must be a whole number of at least 1" in capsys.readouterr().err


# ------------------------------------------------------------------------------ notebooks


def test_notebook_by_name_in_a_source_checkout():
    # no fpanalysis.notebooks package in a checkout: the repository's notebooks/ folder
    assert batch.notebook_path("quarterly_report") == ROOT / "notebooks" / \
        "quarterly_report.ipynb"
    assert "quarterly_report" in batch.notebook_names()


def test_notebook_path_is_taken_as_it_is(tmp_path):
    assert batch.notebook_path(tmp_path / "x.ipynb") == tmp_path / "x.ipynb"
    assert batch.notebook_path("mine.ipynb") == Path("mine.ipynb")


def test_unknown_notebook_name_lists_the_names(capsys, tmp_path):
    code = cli.main(["report", "--notebook", "quarterly_reprot", "--period", "2024Q3",
                     "--output-dir", str(tmp_path)])
    err = capsys.readouterr().err.splitlines()
    assert code == 2 and len(err) == 1
    assert err[0].startswith("no report notebook named 'quarterly_reprot' (did you mean "
                             "'quarterly_report'?); the notebooks are: ")
    assert err[0].endswith("; give a path to use another notebook")
    assert not any(tmp_path.iterdir())


# ----------------------------------------------------------------- a period that breaks


def broken_notebook(folder: Path) -> Path:
    """The tiny report, plus a cell that raises for a period the data folder says is broken
    (standing in for input that breaks one period's notebook)."""
    path = tiny_notebook(folder)
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(2, nbformat.v4.new_code_cell(
        "import pathlib\n"
        "broken = pathlib.Path(data_dir, 'broken_periods.txt')\n"
        "if broken.exists() and period in broken.read_text().split():\n"
        "    raise ValueError(f'the input for {period} is broken')"))
    nbformat.write(nb, path)
    return path


def copy_sample(dest: Path, *, drop_month: str | None = None) -> Path:
    """A copy of the sample data; ``drop_month`` removes that month's counts rows."""
    shutil.copytree(SAMPLE, dest)
    if drop_month:
        lines = (SAMPLE / "counts.csv").read_text(encoding="utf-8").splitlines()
        at = lines[0].split(",").index("period")
        kept = [lines[0]] + [ln for ln in lines[1:] if ln.split(",")[at] != drop_month]
        assert len(kept) < len(lines)
        (dest / "counts.csv").write_text("\n".join(kept) + "\n", encoding="utf-8")
    return dest


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(capsys, *args: str) -> tuple[int, list[str], list[str]]:
    code = cli.main(["report", *args])
    captured = capsys.readouterr()
    err = [ln for ln in captured.err.splitlines() if "[IPKernelApp]" not in ln]
    return code, err, captured.out.splitlines()


def by_period(manifest: dict) -> dict[str, dict]:
    return {r["period"]: r for r in manifest["periods"]}


def test_a_failing_notebook_does_not_stop_the_others(capsys, tmp_path):
    nb = broken_notebook(tmp_path / "nb")
    data = copy_sample(tmp_path / "data")
    (data / "broken_periods.txt").write_text("2024Q2\n")
    out = tmp_path / "r"
    args = ["--notebook", str(nb), "--data-dir", str(data), "--output-dir", str(out),
            "--periods", "2024Q1..2024Q4", "--jobs", "2"]
    code, err, stdout = run(capsys, *args)
    assert code == 2
    why = (f"tiny.ipynb for 2024Q2 failed: cell [3] raised ValueError: the input for 2024Q2 "
           f"is broken; the report in {out / '2024Q2'} was not written; the failed run is "
           f"kept in {out / '2024Q2.failed' / 'tiny.ipynb'}")
    assert f"failed 2024Q2: {why}" in err
    assert err[-1] == f"1 of 4 periods failed: 2024Q2 (manifest: {out / 'manifest.json'})"
    assert stdout == [str(out / q / "tiny.html") for q in ("2024Q1", "2024Q3", "2024Q4")]
    for q in ("2024Q1", "2024Q3", "2024Q4"):
        assert (out / q / "tables.txt").read_text() == f"tables for {q} (good)"
    assert not (out / "2024Q2").exists()
    kept = nbformat.read(out / "2024Q2.failed" / "tiny.ipynb", as_version=4)
    assert any(o.get("ename") == "ValueError" for c in kept.cells for o in c.get("outputs", []))

    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["failed"] == ["2024Q2"]
    rec = by_period(manifest)
    assert [r["period"] for r in manifest["periods"]] == ["2024Q1", "2024Q2", "2024Q3",
                                                          "2024Q4"]
    assert {q: r["status"] for q, r in rec.items()} == {
        "2024Q1": "ok", "2024Q2": "failed", "2024Q3": "ok", "2024Q4": "ok"}
    assert rec["2024Q2"]["reason"] == why
    assert rec["2024Q2"]["failed_run"] == "2024Q2.failed/tiny.ipynb"
    assert rec["2024Q1"]["outputs"] == ["2024Q1/tables.txt", "2024Q1/tiny.html",
                                        "2024Q1/tiny.ipynb"]
    assert rec["2024Q1"]["html"] == "2024Q1/tiny.html" and rec["2024Q1"]["reason"] is None
    # what each report was made from, hashed here independently
    inputs = {p.name: sha256(p) for p in sorted(data.iterdir())}
    for r in rec.values():
        assert r["inputs"] == inputs
        assert r["notebook"] == "tiny" and r["notebook_sha256"] == sha256(nb)
        assert r["package_version"] == fpanalysis.__version__
        assert len(r["code_sha256"]) == 64
        assert r["parameters"] == {"language": "zh", "disclosure": "public"}
        assert r["seconds"] > 0

    # again without --force: the three reports are up to date, the failed period is retried
    before = {q: (out / q / "tiny.html").stat().st_mtime_ns for q in ("2024Q1", "2024Q3")}
    code, err, stdout = run(capsys, *args)
    assert code == 2
    assert [ln for ln in err if ln.startswith("skipped")] == [
        f"skipped {q}: its report is up to date (--force renders it again)"
        for q in ("2024Q1", "2024Q3", "2024Q4")]
    rec = by_period(json.loads((out / "manifest.json").read_text(encoding="utf-8")))
    assert {q: r["status"] for q, r in rec.items()} == {
        "2024Q1": "skipped", "2024Q2": "failed", "2024Q3": "skipped", "2024Q4": "skipped"}
    assert rec["2024Q2"]["seconds"] > 0 and rec["2024Q2"]["reason"] == why  # it ran again
    assert rec["2024Q3"]["outputs"] == ["2024Q3/tables.txt", "2024Q3/tiny.html",
                                        "2024Q3/tiny.ipynb"]
    assert before == {q: (out / q / "tiny.html").stat().st_mtime_ns for q in before}

    # the input fixed: every report is out of date (the data changed), all render
    (data / "broken_periods.txt").write_text("\n")
    code, err, stdout = run(capsys, *args)
    assert code == 0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert [r["status"] for r in manifest["periods"]] == ["ok"] * 4
    assert manifest["failed"] == [] and not (out / "2024Q2.failed").exists()


def test_what_makes_a_report_out_of_date(capsys, tmp_path):
    nb = tiny_notebook(tmp_path / "nb")
    out = tmp_path / "r"
    args = ["--notebook", str(nb), "--data-dir", str(SAMPLE), "--output-dir", str(out),
            "--periods", "2024Q1,2024Q2"]

    def statuses(*extra: str) -> list[str]:
        assert run(capsys, *args, *extra)[0] == 0
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        return [r["status"] for r in manifest["periods"]]

    assert statuses() == ["ok", "ok"]
    assert statuses() == ["skipped", "skipped"]
    assert statuses("--force") == ["ok", "ok"]
    # a parameter given is part of what made the report, even at the notebook's default
    assert statuses("-p", "crash", "") == ["ok", "ok"]
    assert statuses("-p", "crash", "") == ["skipped", "skipped"]
    assert statuses("--language", "en") == ["ok", "ok"]
    (out / "2024Q2" / "tiny.html").unlink()  # an output gone: that period renders again
    assert statuses("--language", "en") == ["skipped", "ok"]
    nb.write_text(nb.read_text(encoding="utf-8").replace("Tiny report", "Tiny report v2"),
                  encoding="utf-8")
    assert statuses("--language", "en") == ["ok", "ok"]


def test_a_single_period_keeps_earlier_batches_in_the_manifest(capsys, tmp_path):
    nb = tiny_notebook(tmp_path / "nb")
    out = tmp_path / "r"
    common = ["--notebook", str(nb), "--data-dir", str(SAMPLE), "--output-dir", str(out)]
    assert run(capsys, *common, "--periods", "2024Q1,2024Q2")[0] == 0
    assert run(capsys, *common, "--period", "2024Q3")[0] == 0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert [r["period"] for r in manifest["periods"]] == ["2024Q3"]
    assert [r["period"] for r in manifest["earlier"]] == ["2024Q1", "2024Q2"]
    code, err, _ = run(capsys, *common, "--periods", "2024Q1..2024Q3")
    assert code == 0 and sum(ln.startswith("skipped") for ln in err) == 3


def test_every_period_outside_the_data_writes_nothing(capsys, tmp_path):
    nb = tiny_notebook(tmp_path / "nb")
    code, err, out = run(capsys, "--notebook", str(nb), "--data-dir", str(SAMPLE),
                         "--output-dir", str(tmp_path / "r"), "--periods", "2025Q1..2025Q2")
    assert code == 2 and out == []
    assert err == [f"the counts in {SAMPLE} have no rows for 2025-01 to 2025-03 of period "
                   "2025Q1 (they cover 2022-01 to 2024-12)",
                   f"the counts in {SAMPLE} have no rows for 2025-04 to 2025-06 of period "
                   "2025Q2 (they cover 2022-01 to 2024-12)"]
    assert not (tmp_path / "r").exists()


def test_run_batch_refuses_bad_arguments(tmp_path):
    nb = tiny_notebook(tmp_path / "nb")
    with pytest.raises(ValueError, match=r"^jobs must be a whole number of at least 1, got 0$"):
        batch.run_batch(nb, ["2024Q1"], data_dir=SAMPLE, output_dir=tmp_path, jobs=0)
    with pytest.raises(ValueError, match=r"^no periods to render$"):
        batch.run_batch(nb, [], data_dir=SAMPLE, output_dir=tmp_path)
    with pytest.raises(ValueError, match=r"^a period is named twice: 2024Q1$"):
        batch.run_batch(nb, ["2024Q1", "2024年第1季度"], data_dir=SAMPLE, output_dir=tmp_path)
    assert not any(tmp_path.glob("manifest.json"))


def test_input_hashes_leave_out_hidden_files(tmp_path):
    (tmp_path / "a.csv").write_text("x\n")
    (tmp_path / ".a.csv.swp").write_text("editor\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.csv").write_text("y\n")
    assert batch.input_hashes(tmp_path) == {
        "a.csv": hashlib.sha256(b"x\n").hexdigest(),
        "sub/b.csv": hashlib.sha256(b"y\n").hexdigest()}


# ------------------------------------------------------- acceptance: the real report


def test_four_quarters_with_one_broken_render_the_other_three(capsys, tmp_path):
    # the real quarterly report (about 10 s each, two at once). The counts lack 2024-11 for
    # every unit, so 2024Q4 cannot be reported; Q1-Q3 need nothing after September.
    data = copy_sample(tmp_path / "data", drop_month="2024-11")
    out = tmp_path / "reports"
    args = ["--data-dir", str(data), "--output-dir", str(out), "--periods",
            "2024年第1季度..2024年第4季度", "--jobs", "2", "--language", "en"]
    code, err, stdout = run(capsys, *args)
    why = (f"the counts in {data} have no rows for 2024-11 of period 2024Q4 (they cover "
           "2022-01 to 2024-12)")
    assert code == 2
    assert err[-2:] == [f"failed 2024Q4: {why}",
                        f"1 of 4 periods failed: 2024Q4 (manifest: {out / 'manifest.json'})"]
    assert stdout == [str(out / q / "quarterly_report.html")
                      for q in ("2024Q1", "2024Q2", "2024Q3")]
    for q in ("2024Q1", "2024Q2", "2024Q3"):
        assert sorted(p.name for p in (out / q).iterdir()) == [
            "attainment.png", "crude_birth_rate.png", "quarterly_report.html",
            "quarterly_report.ipynb", "quarterly_tables.xlsx", "sex_ratio_at_birth.png"]
        html = (out / q / "quarterly_report.html").read_text(encoding="utf-8")
        assert f"Assessment period: {q[:4]} Q{q[-1]}" in html or q in html
        assert "import fpanalysis" not in html  # exported without code cells
    assert not (out / "2024Q4").exists()
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    rec = by_period(manifest)
    assert manifest["failed"] == ["2024Q4"]
    assert rec["2024Q4"]["status"] == "failed" and rec["2024Q4"]["reason"] == why
    assert [rec[q]["status"] for q in ("2024Q1", "2024Q2", "2024Q3")] == ["ok"] * 3
    assert rec["2024Q1"]["notebook"] == "quarterly_report"
    assert rec["2024Q1"]["parameters"] == {"language": "en", "disclosure": "public"}

    code, err, _ = run(capsys, *args)  # again: three skipped, the broken one tried again
    assert code == 2
    rec = by_period(json.loads((out / "manifest.json").read_text(encoding="utf-8")))
    assert {q: r["status"] for q, r in rec.items()} == {
        "2024Q1": "skipped", "2024Q2": "skipped", "2024Q3": "skipped", "2024Q4": "failed"}
    assert err[-2] == f"failed 2024Q4: {why}"


def test_the_executed_notebook_holds_every_cells_state_without_a_save_per_cell(tmp_path):
    # the report's papermill engine writes the notebook when the run starts and ends (and
    # every 30 s), not twice per cell: the notebook written at the end must still say, cell
    # by cell, what papermill records (completed, a duration), and keep every output; a
    # failed run's notebook is covered by test_a_failing_notebook_does_not_stop_the_others
    from fpanalysis import report

    nb = tiny_notebook(tmp_path / "nb")
    html = report.render(nb, period="2024Q3", data_dir=SAMPLE, output_dir=tmp_path / "r")
    done = nbformat.read(html.with_suffix(".ipynb"), as_version=4)
    code = [c for c in done.cells if c.cell_type == "code"]
    assert code and all(c.metadata.papermill["status"] == "completed" for c in code)
    assert all(c.metadata.papermill["duration"] is not None for c in code)
    assert done.metadata.papermill["duration"] is not None
    source = nbformat.read(nb, as_version=4)
    assert len(done.cells) == len(source.cells) + 1  # papermill's injected parameters
    printed = [o.get("text", "") for c in code for o in c.outputs]
    assert "report for 2024Q3\n" in printed
