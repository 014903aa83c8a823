"""Report tables and figures of the projections (report.probability_table, nowcast_table,
milestone_projection_table, backtest_table; projection.figures).

Expected cells are written by hand from the small frames built here (the arithmetic is in
the comments); the frames imitate the columns of projection.nowcast, project_milestones,
backtest_nowcast and cohort_component, whose numbers these functions only lay out.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from fpanalysis import plots, report
from fpanalysis.projection import figures

UNITS = pd.DataFrame({"unit": ["a", "b", "c"], "name": ["东林镇", "双凰乡", "新台镇"],
                      "parent": "top", "level": "township"})
NOT_PROJECTED = "not projected: 2024-05 missing from the year to date"


def _nowcast() -> pd.DataFrame:
    """Three units, two targets on x (one, target 1) and y (target 2); c not projected."""
    return pd.DataFrame({
        "unit": ["a", "a", "b", "b", "c", "c"], "period": "2024", "through": "2024-09",
        "indicator": ["natural_growth_rate", "sex_ratio_at_birth"] * 3,
        "observed": [3.44, 102.8, 8.67, 91.2, np.nan, np.nan],
        "value": [3.436, 103.09, 8.733, 91.5, np.nan, np.nan],
        "lower_0.8": [2.771, 92.3, 8.03, 84.87, np.nan, np.nan],
        "upper_0.8": [4.104, 115.2, 9.40, 99.07, np.nan, np.nan],
        "lower_0.95": [2.434, 86.67, 7.68, 81.55, np.nan, np.nan],
        "upper_0.95": [4.486, 121.84, 9.82, 103.14, np.nan, np.nan],
        "multiplier": [1000.0, 100.0] * 3,
        "target": pd.array([2, 3] * 3, dtype="Int64"),
        "label": ["人口自然增长率", "出生人口性别比"] * 3, "op": "<=",
        "threshold": [8.5, 130.0, 8.5, 130.0, 9.0, 130.0], "baseline": np.nan,
        "probability": [1.0, 0.9951, 0.33, 0.004, np.nan, np.nan],
        "draws": 4000, "method": "nowcast_nb",
        "note": ["", "", "", "", NOT_PROJECTED, NOT_PROJECTED]})


# --------------------------------------------------------------------------- tables


def test_probability_table_cells_by_hand():
    nc = _nowcast()
    before = nc.copy()
    t = report.probability_table(nc, UNITS)
    # 1.0 -> "100%"; 0.9951 rounds to 100 but is not certain -> ">99%"; 0.33 -> "33%";
    # 0.004 rounds to 0 but is not 0 -> "<1%"; c has no probability -> "—" and its note
    expected = pd.DataFrame(
        {"人口自然增长率": ["100%", "33%", "—"], "出生人口性别比": [">99%", "<1%", "—"],
         "说明": ["", "", NOT_PROJECTED]},
        index=pd.Index(["东林镇", "双凰乡", "新台镇"], name="单位"))
    expected.columns = pd.Index(list(expected.columns), dtype=object)
    pd.testing.assert_frame_equal(t, expected, check_dtype=False)
    pd.testing.assert_frame_equal(nc, before)  # input untouched


def test_probability_table_english_headers_and_no_target_rows():
    nc = _nowcast()
    t = report.probability_table(nc, language="en")
    assert list(t.columns) == ["natural_growth_rate (#2)", "sex_ratio_at_birth (#3)", "note"]
    assert list(t.index) == ["a", "b", "c"]  # codes without a units table
    # a nowcast without targets: every unit kept, the note column only
    bare = report.probability_table(nc.assign(target=pd.array([pd.NA] * 6, dtype="Int64")),
                                    UNITS)
    assert list(bare.index) == ["东林镇", "双凰乡", "新台镇"]
    assert list(bare.columns) == ["说明"]


def test_probability_table_same_label_twice_gets_numbers():
    nc = _nowcast().assign(label="同名")
    t = report.probability_table(nc)
    assert list(t.columns)[:2] == ["同名 (#2)", "同名 (#3)"]


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d.drop(columns="probability"),
     "probability_table needs the output of projection.nowcast; missing columns "
     "['probability']"),
    (lambda d: d.assign(period=["2023"] * 3 + ["2024"] * 3),
     "probability_table shows one period; got 2023, 2024"),
    (lambda d: d.assign(target=pd.array([2] * 6, dtype="Int64")),
     "probability_table needs one row per unit and target; a/2 appears more than once"),
])
def test_probability_table_refuses(change, message):
    with pytest.raises(ValueError, match=None) as err:
        report.probability_table(change(_nowcast()))
    assert str(err.value) == message


def test_tables_refuse_unknown_language_and_non_frames():
    with pytest.raises(ValueError, match="language must be 'zh' or 'en', got 'fr'"):
        report.probability_table(_nowcast(), language="fr")
    with pytest.raises(ValueError, match="needs a DataFrame from projection.nowcast, got list"):
        report.nowcast_table([], indicator="x")


def test_nowcast_table_cells_by_hand():
    t = report.nowcast_table(_nowcast(), UNITS, indicator="natural_growth_rate")
    assert list(t.columns) == ["年初至今", "预计全年", "80%预测区间", "95%预测区间", "目标",
                               "达标概率", "说明"]
    assert list(t.index) == ["东林镇", "双凰乡", "新台镇"]
    # ranges: 2.771-4.104 at 2 decimals; c kept with "—" and its note
    assert t["80%预测区间"].tolist() == ["2.77–4.10", "8.03–9.40", "—"]
    assert t["95%预测区间"].tolist() == ["2.43–4.49", "7.68–9.82", "—"]
    assert t["目标"].tolist() == ["≤ 8.5", "≤ 8.5", "≤ 9"]
    assert t["达标概率"].tolist() == ["100%", "33%", "—"]
    assert t["说明"].tolist() == ["", "", NOT_PROJECTED]
    assert np.isnan(t.loc["新台镇", "预计全年"])
    assert t.loc["东林镇", "预计全年"] == 3.436


def test_nowcast_table_change_target_and_refusals():
    nc = _nowcast()
    extra = nc[nc["indicator"] == "sex_ratio_at_birth"].assign(
        target=pd.array([13] * 3, dtype="Int64"), threshold=-7.0,
        baseline=[98.148, 108.8, np.nan])
    both = pd.concat([nc, extra], ignore_index=True)
    with pytest.raises(ValueError) as err:
        report.nowcast_table(both, indicator="sex_ratio_at_birth")
    assert str(err.value) == ("nowcast_table: sex_ratio_at_birth has several targets (3, 13); "
                              "choose one with target=")
    t = report.nowcast_table(both, indicator="sex_ratio_at_birth", target=13, language="en")
    assert t["target"].tolist() == ["≤ -7 (on last year's 98.15)",
                                    "≤ -7 (on last year's 108.80)", "≤ -7"]
    with pytest.raises(ValueError) as err:
        report.nowcast_table(both, indicator="sex_ratio_at_birth", target=4)
    assert str(err.value) == ("nowcast_table: sex_ratio_at_birth has no target 4 (its "
                              "targets: 3, 13)")
    with pytest.raises(ValueError, match=r"no rows for indicator 'natural_growth'.*"
                                         r"natural_growth_rate"):
        report.nowcast_table(nc, indicator="natural_growth")


def _milestones() -> pd.DataFrame:
    return pd.DataFrame({
        "unit": ["a", "b", "c"], "period": "2024", "through": "2024-09", "target": 12,
        "indicator": "checkup_plan_progress", "label": "孕前优生检查年度计划进度",
        "plan": [1500.0, 1200.0, 6860.0], "done": [1173.0, 817.0, np.nan],
        "share": [78.2, 68.0833, np.nan], "due": 80.0,
        "done_projected": [1573.0, 1096.0, np.nan],
        "share_projected": [104.8667, 91.3333, np.nan],
        "lower_0.8": [102.8, 89.17, np.nan], "upper_0.8": [107.0, 93.5, np.nan],
        "lower_0.95": [101.8, 88.08, np.nan], "upper_0.95": [108.0667, 94.8333, np.nan],
        "due_year_end": 100.0, "probability": [0.99975, 0.0, np.nan],
        "reach_month": ["2024-12", "2025-02", ""],
        "note": ["", "reaches the plan after December at the projected pace", NOT_PROJECTED]})


def test_milestone_projection_table_cells_by_hand():
    m = _milestones()
    before = m.copy()
    t = report.milestone_projection_table(m, UNITS)
    expected = pd.DataFrame({
        "年度计划": ["1500", "1200", "6860"],
        "已完成": ["1173", "817", "—"],
        "完成进度": ["78.2%", "68.1%", "—"],  # 68.0833 -> 68.1
        "应达进度": ["80%", "80%", "80%"],
        # 104.8667 -> 104.9, range 101.8-108.0667 -> 101.8-108.1
        "预计年末进度（95%预测区间）": ["104.9%（101.8–108.1%）", "91.3%（88.1–94.8%）", "—"],
        "年末达100%概率": [">99%", "0%", "—"],
        "达到100%月份": ["2024-12", "2025-02", "—"],
        "说明": ["", "reaches the plan after December at the projected pace", NOT_PROJECTED],
    }, index=pd.Index(["东林镇", "双凰乡", "新台镇"], name="单位"))
    pd.testing.assert_frame_equal(t, expected, check_dtype=False)
    pd.testing.assert_frame_equal(m, before)


def test_milestone_projection_table_refusals():
    two = pd.concat([_milestones(), _milestones().assign(target=14)], ignore_index=True)
    with pytest.raises(ValueError) as err:
        report.milestone_projection_table(two)
    assert str(err.value) == ("milestone_projection_table shows one milestone target; got "
                              "targets 12, 14")
    with pytest.raises(ValueError) as err:
        report.milestone_projection_table(_milestones().drop(columns="reach_month"))
    assert str(err.value) == ("milestone_projection_table needs the output of "
                              "projection.project_milestones; missing columns ['reach_month']")
    dup = pd.concat([_milestones(), _milestones().iloc[[0]]], ignore_index=True)
    with pytest.raises(ValueError, match="one row per unit; a appears more than once"):
        report.milestone_projection_table(dup)


def _backtest() -> pd.DataFrame:
    # births and deaths, 10 unit-years each month. Sums of |actual| (truth) implied:
    # month 1 births 50/0.1 = 500, deaths 30/0.2 = 150; month 2 births 20/0.05 = 400,
    # deaths 10/0.1 = 100.
    return pd.DataFrame({
        "through": [1, 1, 1, 2, 2, 2], "kind": "count",
        "quantity": ["births", "deaths", "all"] * 2, "years": "2023, 2024",
        "n": [10, 10, 20, 10, 10, 20], "excluded": [1, 1, 2, 0, 0, 0],
        "not_projected": 0,
        "coverage_0.8": [0.8, 0.6, 0.7, 1.0, 0.8, 0.9],
        "coverage_0.95": [0.9, 1.0, 0.95, 1.0, 0.9, 0.95],
        "mae": [5.0, 3.0, 4.0, 2.0, 1.0, 1.5],
        "relative_mae": [0.1, 0.2, 80 / 650, 0.05, 0.1, 30 / 500]})


def test_backtest_table_pools_by_hand():
    b = _backtest()
    before = b.copy()
    t = report.backtest_table(b, language="en")
    assert t.index.names == ["months observed", "kind", "quantity"]
    assert list(t.index) == [("1", "counts", "pooled"), ("2", "counts", "pooled"),
                             ("all", "counts", "births"), ("all", "counts", "deaths"),
                             ("all", "counts", "pooled")]
    # all months, births: n 20, 80 %: (8 + 10) / 20 = 90 %, 95 %: (9 + 10) / 20 = 95 %,
    # MAE (50 + 20) / 20 = 3.5, relative 70 / 900 = 7.8 %
    # deaths: 80 %: (6 + 8) / 20 = 70 %, 95 %: (10 + 9) / 20 = 95 %, MAE 40 / 20 = 2,
    # relative 40 / 250 = 16 %; pooled: n 40, 80 %: (14 + 18) / 40 = 80 %,
    # 95 %: 38 / 40 = 95 %, MAE 110 / 40 = 2.75, relative 110 / 1150 = 9.6 %
    assert t["n"].tolist() == [20, 20, 20, 20, 40]
    assert t["excluded"].tolist() == [2, 0, 1, 1, 2]
    assert t["80% coverage"].tolist() == ["70.0%", "90.0%", "90.0%", "70.0%", "80.0%"]
    assert t["95% coverage"].tolist() == ["95.0%", "95.0%", "95.0%", "95.0%", "95.0%"]
    np.testing.assert_allclose(t["MAE"].to_numpy(float), [4.0, 1.5, 3.5, 2.0, 2.75])
    assert t["relative MAE"].tolist() == ["12.3%", "6.0%", "7.8%", "16.0%", "9.6%"]
    pd.testing.assert_frame_equal(b, before)
    detail = report.backtest_table(b, detail=True)
    assert len(detail) == 6 + 3  # every month row, then the three all-month rows
    assert detail.index[0] == ("1", "计数", "出生数")


def test_backtest_table_refusals():
    with pytest.raises(ValueError) as err:
        report.backtest_table(_backtest().drop(columns=["coverage_0.8", "coverage_0.95"]))
    assert str(err.value) == ("backtest_table needs the output of projection.backtest_nowcast; "
                              "missing coverage_<level> columns")
    with pytest.raises(ValueError, match="missing columns \\['mae'\\]"):
        report.backtest_table(_backtest().drop(columns="mae"))
    dup = pd.concat([_backtest(), _backtest().iloc[[0]]], ignore_index=True)
    with pytest.raises(ValueError, match="one row per through and kind and quantity"):
        report.backtest_table(dup)


def test_tables_on_the_sample_keep_the_unit_not_projected(sample_counts, sample_units,
                                                          sample_dir):
    """On data/sample, 990101107 (新台镇) lacks 2024-05: it keeps its row with "—"."""
    from fpanalysis import load_targets
    from fpanalysis.projection import nowcast, project_milestones

    scheme = load_targets(sample_dir / "scheme_full.toml", units=sample_units)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        nc = nowcast(sample_counts, year=2024, through="2024Q3", targets=scheme,
                     units=sample_units, draws=200)
        ms = project_milestones(sample_counts, year=2024, through="2024Q3", scheme=scheme,
                                units=sample_units, draws=200)
    townships = sample_units.loc[sample_units["level"] == "township", "name"]
    for t in (report.probability_table(nc, sample_units),
              report.nowcast_table(nc, sample_units, indicator="natural_growth_rate"),
              report.milestone_projection_table(ms, sample_units)):
        assert sorted(t.index) == sorted(townships)
        row = t.loc["新台镇"]
        assert row.iloc[-1].startswith("not projected: 2024-05 missing")
    prob = report.probability_table(nc, sample_units)
    assert (prob.loc["新台镇"].iloc[:-1] == "—").all()
    assert (prob.drop(index="新台镇").iloc[:, :-1] != "—").all().all()


# --------------------------------------------------------------------------- figures


def _render(fig: Figure) -> list[str]:
    """Draw the figure to PNG; return the warnings raised (a missing glyph warns)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.savefig(io.BytesIO(), format="png", dpi=50)
    return [str(w.message) for w in caught]


@pytest.fixture(scope="module", autouse=True)
def _cjk():
    plots.use_cjk_font()


def test_fan_chart_keeps_every_unit_and_renders_cjk():
    fig = figures.fan_chart(_nowcast(), "natural_growth_rate", units=UNITS)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    # sorted by projected value, the unit not projected first (at the bottom)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["新台镇", "东林镇", "双凰乡"]
    assert "未预测" in [t.get_text() for t in ax.texts]
    # thresholds differ (8.5, 8.5, 9.0): a tick per unit rather than one line
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["95%预测区间", "80%预测区间", "预计全年", "年初至今", "目标（各单位）"]
    assert _render(fig) == []


def test_fan_chart_common_target_line_and_english():
    nc = _nowcast().assign(threshold=130.0)
    fig = figures.fan_chart(nc, "sex_ratio_at_birth", units=UNITS, language="en")
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels[-1] == "target 130"
    assert "not projected" in [t.get_text() for t in fig.axes[0].texts]
    assert _render(fig) == []
    with pytest.raises(ValueError, match="fan_chart: no rows for indicator 'crude_birth_rate'"):
        figures.fan_chart(nc, "crude_birth_rate")
    with pytest.raises(ValueError, match="fan_chart shows one year; got 2023, 2024"):
        figures.fan_chart(nc.assign(period=["2023"] * 3 + ["2024"] * 3), "sex_ratio_at_birth")


def test_backtest_chart_lines():
    fig = figures.backtest_chart(_backtest())
    ax = fig.axes[0]
    # two nominal lines and one line per level for the one kind present
    assert len(ax.lines) == 2 + 2
    np.testing.assert_allclose(ax.lines[1].get_ydata(), [70.0, 90.0])  # 80 %, pooled rows
    assert _render(fig) == []
    with pytest.raises(ValueError, match="backtest_chart needs the output"):
        figures.backtest_chart(_backtest().query("quantity != 'all'"))


def _population() -> pd.DataFrame:
    return pd.DataFrame({
        "unit": ["a"] * 8, "period": "2023", "sex": ["male", "female"] * 4,
        "age_group": ["0", "0", "1-4", "1-4", "5-9", "5-9", "10+", "10+"],
        "population": [10, 9, 40, 38, 50, 52, 100, 120]})


def test_pyramid_sums_0_and_1_4_and_puts_males_left():
    pop = _population()
    before = pop.copy()
    fig = figures.pyramid(pop)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0-4", "5-9", "10+"]
    widths = [p.get_width() for p in ax.patches]
    # males (left, negative): 0-4 = 10 + 40 = 50, 5-9 = 50, 10+ = 100;
    # females: 0-4 = 9 + 38 = 47, 52, 120
    assert widths == [-50, -50, -100, 47, 52, 120]
    assert ax.get_title() == "2023年 总人口 419"  # 50 + 50 + 100 + 47 + 52 + 120
    assert _render(fig) == []
    pd.testing.assert_frame_equal(pop, before)


def test_pyramid_years_and_refusals():
    two = pd.concat([_population(), _population().assign(period="2024")], ignore_index=True)
    with pytest.raises(ValueError) as err:
        figures.pyramid(two)
    assert str(err.value) == ("pyramid shows one year; choose one with year= (the data hold "
                              "2023, 2024)")
    fig = figures.pyramid(two, year=["2023", "2024"], language="en")
    assert len(fig.axes) == 2
    assert fig.axes[0].get_xlim() == fig.axes[1].get_xlim()  # one scale
    with pytest.raises(ValueError, match="pyramid: no rows for year 2030"):
        figures.pyramid(two, year=2030)
    with pytest.raises(ValueError, match="sex must be male or female, got M"):
        figures.pyramid(_population().assign(sex="M"))


def test_scenario_chart_totals_and_births():
    def frame(scale):
        pop = pd.DataFrame({"year": [2023, 2023, 2028, 2028], "sex": ["male", "female"] * 2,
                            "age_group": "0-4", "population": [10.0, 10.0, 12.0, 11.0]})
        comp = pd.DataFrame({"year": [2023, 2023], "end_year": [2028, 2028],
                             "sex": ["male", "female"], "births": [5.0 * scale, 5.0 * scale]})
        return pop.assign(population=pop["population"] * scale), comp

    projections = {"不变": frame(1), "上升": frame(2)}
    fig = figures.scenario_chart(projections)
    ax = fig.axes[0]
    assert len(ax.lines) == 2
    # totals: 2023: 10 + 10 = 20, 2028: 12 + 11 = 23; doubled: 40, 46
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [20, 23])
    np.testing.assert_allclose(ax.lines[1].get_ydata(), [40, 46])
    assert _render(fig) == []
    births = figures.scenario_chart(projections, what="births", language="en").axes[0]
    # (5 + 5) births over the 5-year step = 2 a year, drawn at 2025.5
    np.testing.assert_allclose(births.lines[0].get_ydata(), [2.0])
    np.testing.assert_allclose(births.lines[0].get_xdata(), [2025.5])
    with pytest.raises(ValueError, match="what must be 'population' or 'births', got 'deaths'"):
        figures.scenario_chart(projections, what="deaths")
    with pytest.raises(ValueError, match="projections must map at least one scenario"):
        figures.scenario_chart({})
    with pytest.raises(ValueError, match="scenario 'x': births needs columns"):
        figures.scenario_chart({"x": frame(1)[0]}, what="births")
