"""Defects of the rendered reports found by an adversarial pass, each with the report that
showed it: the data-quality notebook for a period that is not a year's last quarter, the
forest plot of a unit with an infinite sex ratio.

Expected values come from the sample's own files (read here with the csv module) or are
written out by hand in each test.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from fpanalysis import cli, indicators, report
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


def _forest_table():
    import numpy as np
    import pandas as pd

    # three units by hand: A 90 (60-130), B undefined (no births: 0/0), C infinite (2 boys,
    # 0 girls: the ratio has no upper end)
    return pd.DataFrame({"unit": ["A", "B", "C"], "period": "2024-07",
                         "indicator": "sex_ratio_at_birth",
                         "numerator": [9.0, 0.0, 2.0], "denominator": [10.0, 0.0, 0.0],
                         "value": [90.0, np.nan, np.inf], "lower": [60.0, np.nan, 10.0],
                         "upper": [130.0, np.nan, np.inf], "note": ""})


def test_forest_keeps_an_infinite_sex_ratio_on_the_axis_with_a_note():
    import warnings

    from fpanalysis import plots

    table = _forest_table()
    before = table.copy()
    for language, word in (("en", " (infinite)"), ("zh", "（无穷大）")):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            fig = plots.forest(table, "sex_ratio_at_birth", language=language,
                               reference=105.0)
        ax = fig.axes[0]
        # sorted by value, missing first: B (undefined) at the bottom, A, then C on top
        labels = [t.get_text() for t in ax.get_yticklabels()]
        assert labels == ["B —", "A", f"C{word}"]
        # axis by hand over the finite points 90 and 105: span 15, 90 - 0.6 * 15 = 81 and
        # 105 + 9 = 114, padded twice by 3 % of 33 (0.99): 79.02 to 115.98
        assert ax.get_xlim() == pytest.approx((79.02, 115.98))
        # one point drawn, for A only (at y 1); C's interval runs from 10 to the right edge
        dots = [ln for ln in ax.lines if ln.get_marker() == "o"]
        assert len(dots) == 1 and list(dots[0].get_xdata()) == [90.0]
        assert list(dots[0].get_ydata()) == [1]
        arrows = [ln for ln in ax.lines if ln.get_marker() == ">"]
        assert list(arrows[0].get_ydata()) == [1, 2]  # A's 130 and C's infinity cut
    assert table.equals(before)


def test_forest_of_the_sample_for_a_month_with_no_female_births():
    # 990101118 had 1 boy and 0 girls in July 2024 (its counts.csv row for 2024-07)
    import csv
    import warnings

    import fpanalysis as fp
    from fpanalysis import indicators, plots

    with open(SAMPLE / "counts.csv", encoding="utf-8") as f:
        row = next(r for r in csv.DictReader(f)
                   if r["unit"] == "990101118" and r["period"] == "2024-07")
    assert (row["births_male"], row["births_female"]) == ("1", "0")
    units = fp.load_units(SAMPLE)
    counts = fp.load_counts(SAMPLE, units=units)
    results = indicators.compute(counts, period="2024-07", units=units)
    name = units.set_index("unit").loc["990101118", "name"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = plots.forest(results, "sex_ratio_at_birth", units=units, language="zh")
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    n = (results["indicator"] == "sex_ratio_at_birth").sum()
    assert len(labels) == n == 18 and labels[-1] == f"{name}（无穷大）"


def test_indicator_table_shows_dashes_and_infinity_not_nan_and_inf(sample_counts, sample_units):
    # by hand from data/sample/counts.csv (plain pandas), Oct-Dec 2024: 西城镇 (990101118) had
    # second-order boys but no second-order girls (a sex ratio without a denominator: open,
    # ∞) and no third-order births at all (nothing to compute: —); the county had both
    raw = pd.read_csv(SAMPLE / "counts.csv", dtype={"unit": str})
    q = raw[raw["period"].isin(["2024-10", "2024-11", "2024-12"])].groupby("unit").sum(
        numeric_only=True)
    west = q.loc["990101118"]
    assert west["births_male_o2"] > 0 and west["births_female_o2"] == 0
    assert west["births_male_o3p"] == 0 and west["births_female_o3p"] == 0
    results = indicators.compute(sample_counts, period="2024Q4", units=sample_units,
                                 indicators=["sex_ratio_at_birth_o2", "sex_ratio_at_birth_o3p"])
    t = report.indicator_table(results, sample_units, language="en", intervals=False,
                               disclosure="internal")
    o2, o3 = t.columns  # the display names of the two ratios
    assert t.loc["西城镇", o2] == "∞" and t.loc["西城镇", o3] == "—"
    html = t.to_html()
    assert "NaN" not in html and "inf" not in html
    # the other units keep their figures, to two decimals: 东林镇 (990101101) by hand
    east = q.loc["990101101"]
    assert t.loc["东林镇", o2] == round(100 * east["births_male_o2"]
                                      / east["births_female_o2"], 2)
