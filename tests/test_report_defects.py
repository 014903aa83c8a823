"""Defects of the rendered reports found by an adversarial pass, each with the report that
showed it: the data-quality notebook for a period that is not a year's last quarter, the
forest plot of a unit with an infinite sex ratio.

Expected values come from the sample's own files (read here with the csv module) or are
written out by hand in each test.
"""

from __future__ import annotations

import json

from fpanalysis import cli
from tests.conftest import SAMPLE


def test_data_quality_notebook_renders_for_a_quarter_it_cannot_check_over_time(capsys,
                                                                               tmp_path):
    # 2024Q3: the latest complete year to September 2024 is 2023, with only 2022 before it
    # in the sample (which starts in 2022-01), so consistency over time cannot run; the
    # notebook used to stop on year=None instead of saying so
    out = tmp_path / "r"
    status = cli.main(["report", "--data-dir", str(SAMPLE), "--notebook", "data_quality",
                       "--period", "2024Q3", "--output-dir", str(out),
                       "--disclosure", "internal"])
    err = capsys.readouterr().err
    assert status == 0, err
    nb = json.loads((out / "2024Q3" / "data_quality.ipynb").read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if c.get("id") == "c22")
    text = "".join("".join(o.get("data", {}).get("text/plain", "")) for o in cell["outputs"])
    assert "consistency_over_time: not run for 2024Q3" in " ".join(text.split())


def test_data_quality_notebook_is_never_a_public_edition(capsys, tmp_path):
    # it withholds nothing, so the default (public) is refused with one line saying why
    status = cli.main(["report", "--data-dir", str(SAMPLE), "--notebook", "data_quality",
                       "--period", "2024Q3", "--output-dir", str(tmp_path / "r")])
    err = [ln for ln in capsys.readouterr().err.splitlines() if "[IPKernelApp]" not in ln]
    assert status == 2 and len(err) == 1
    assert ("raised ValueError: the data-quality review shows every figure of every unit and "
            "withholds nothing: it is made only with disclosure='internal' (fpanalysis report "
            "--disclosure internal), got 'public'") in err[0]
    assert not (tmp_path / "r" / "2024Q3").exists()
