"""Report tables and the papermill render (one real render of the quarterly report)."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from fpanalysis import report
from tests.conftest import ROOT


def test_latest_complete_quarter(sample_counts):
    assert report.latest_complete_quarter(sample_counts) == pd.Period("2024Q4", "Q")
    cut = sample_counts[~((sample_counts.unit == "990101105")
                          & (sample_counts.period == pd.Period("2024-12", "M")))]
    assert report.latest_complete_quarter(cut) == pd.Period("2024Q3", "Q")


def test_counts_table_has_county_total(sample_counts, sample_units):
    t = report.counts_table(sample_counts, sample_units, "2024Q3", language="en")
    assert t.iloc[-1]["Unit"] == "青禾县"
    assert t.iloc[-1]["Births"] == t.iloc[:-1]["Births"].sum()
    period = sample_counts.period
    q3 = sample_counts[period.dt.quarter.eq(3) & period.dt.year.eq(2024)]
    assert t.iloc[-1]["Births"] == q3["births"].sum()


def test_small_cells_are_suppressed():
    t = pd.DataFrame({"deaths_infant": [0, 1, 2, 3]})
    out = report.suppress_small_cells(t, ["deaths_infant"], min_count=3)
    assert out["deaths_infant"].isna().tolist() == [False, True, True, False]
    assert t["deaths_infant"].tolist() == [0, 1, 2, 3]  # input untouched


def test_render_rejects_unknown_parameters(tmp_path):
    with pytest.raises(ValueError, match="has no parameter"):
        report.render(ROOT / "notebooks" / "quarterly_report.ipynb", period="2024Q3",
                      output_dir=tmp_path, parameters={"colour": "red"})


def test_render_writes_html_without_code(tmp_path):
    html = report.render(ROOT / "notebooks" / "quarterly_report.ipynb", period="2024年第3季度",
                         data_dir=ROOT / "data" / "sample", output_dir=tmp_path)
    assert html == tmp_path / "2024Q3" / "quarterly_report.html"
    text = html.read_text(encoding="utf-8")
    assert "东林镇" in text and "2024年第3季度" in text
    assert "import fpanalysis" not in text
    assert 'class="highlight' not in text  # no code cell is shown
    assert (tmp_path / "2024Q3" / "quarterly_tables.xlsx").is_file()
    assert "Traceback" not in text
    assert not re.search(r'data-mime-type="application/vnd.jupyter.stderr"', text)


def test_publishable_blanks_small_infant_death_counts(sample_counts):
    from fpanalysis import indicators

    r = indicators.compute(sample_counts, ["infant_mortality_rate", "crude_birth_rate"],
                           period="2024Q4")
    pub = report.publishable(r)
    imr = pub[pub["indicator"] == "infant_mortality_rate"]
    raw = r[r["indicator"] == "infant_mortality_rate"]
    small = ((raw["numerator"] > 0) & (raw["numerator"] < 3)).to_numpy()
    assert small.any() and (~small).any()
    assert imr.loc[small, ["numerator", "value", "lower", "upper"]].isna().all().all()
    assert (imr.loc[small, "note"] == "suppressed: fewer than 3 events").all()
    assert imr.loc[~small, "value"].notna().all()
    cbr = pub[pub["indicator"] == "crude_birth_rate"]
    assert cbr["value"].notna().all()  # births are not sensitive
    assert r["value"].notna().sum() > pub["value"].notna().sum()  # input untouched


def test_excel_export_round_trips(tmp_path, sample_counts, sample_units):
    from fpanalysis import indicators

    r = indicators.compute(sample_counts, ["crude_birth_rate"], period="2024Q4")
    path = report.write_excel({"indicators": pd.concat([r, r]),
                               "wide": report.indicator_table(r, sample_units)},
                              tmp_path / "t.xlsx")
    back = pd.read_excel(path, sheet_name="indicators", dtype={"unit": str})
    assert list(back.columns[:3]) == ["unit", "period", "indicator"]  # no stray index
    assert back["period"].iloc[0] == "2024Q4" and len(back) == 2 * len(r)


@pytest.fixture(scope="module")
def other_county(tmp_path_factory):
    """A county of another kind: other seed, 25 townships, the years 2020-2021."""
    from fpanalysis import synth

    out = tmp_path_factory.mktemp("county")
    synth.write_sample(out, seed=7, units=25, years=(2020, 2021))
    return out


@pytest.mark.parametrize("name", ["quarterly_report", "birth_rates", "sex_ratio",
                                  "target_attainment"])
def test_every_notebook_runs_unchanged_on_another_county(name, other_county, tmp_path):
    import papermill as pm

    nb = ROOT / "notebooks" / f"{name}.ipynb"
    params = {"data_dir": str(other_county), "period": "2021Q4"}
    declared = pm.inspect_notebook(str(nb))
    if "output_dir" in declared:
        params["output_dir"] = str(tmp_path)
    if "targets" in declared:
        params["targets"] = str(other_county / "targets.toml")
    out = pm.execute_notebook(str(nb), str(tmp_path / f"{name}.ipynb"), parameters=params,
                              cwd=str(nb.parent), progress_bar=False, kernel_name="python3")
    errors = [o for c in out.cells for o in c.get("outputs", [])
              if o.get("output_type") == "error" or o.get("name") == "stderr"]
    assert errors == []


def test_cli_renders_the_latest_complete_quarter(tmp_path, capsys, monkeypatch):
    from fpanalysis import cli

    monkeypatch.chdir(ROOT)
    assert cli.main(["report", "--output-dir", str(tmp_path)]) == 0
    printed = capsys.readouterr().out.strip()
    assert printed == str(tmp_path / "2024Q4" / "quarterly_report.html")
    assert (tmp_path / "2024Q4" / "quarterly_report.html").is_file()
