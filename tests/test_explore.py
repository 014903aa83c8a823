"""fpanalysis.explore: sources by level, unit choice, period ranges, the view, the panel.

Expected values are computed by hand in the comments from a small county (one county, three
townships; births and a constant population per month), never with the helpers the code
under test calls.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from fpanalysis import explore, plots

UNITS = pd.DataFrame({
    "unit": ["1", "11", "12", "13", "111", "112"],
    "name": ["县", "东镇", "西镇", "南镇", "甲村", "乙村"],
    "parent": ["", "1", "1", "1", "11", "11"],
    "level": ["county", "township", "township", "township", "village", "village"],
})

# 2024: Q1 has 91 days, Q2 91 days (30 + 31 + 30), H1 182 days; the year 366 days.
# A constant population P gives person-years P x days / 366:
#   P = 36600: Q 9100, H1 18200;   P = 18300: Q 4550, H1 9100.
# births per month (Jan..Jun):
#   11 东镇 P 36600: 30 30 31 | 60 61 61 -> Q1 91 (10.0 per mille), Q2 182 (20.0), H1 273 (15.0)
#   12 西镇 P 18300: 30 30 31 | 30 -- 31 -> Q1 91 (20.0), Q2 not reported (May missing)
#   13 南镇 P 36600: 60 61 61 | 60 61 61 -> Q1 182 (20.0), Q2 182 (20.0), H1 364 (20.0)
_BIRTHS = {"11": [30, 30, 31, 60, 61, 61], "12": [30, 30, 31, 30, None, 31],
           "13": [60, 61, 61, 60, 61, 61]}
_POP = {"11": 36600, "12": 18300, "13": 36600}


def _counts() -> pd.DataFrame:
    rows = [(u, f"2024-{m + 1:02d}", b, _POP[u])
            for u, births in _BIRTHS.items() for m, b in enumerate(births) if b is not None]
    c = pd.DataFrame(rows, columns=["unit", "period", "births", "population"])
    c["period"] = pd.PeriodIndex(c["period"], freq="M")
    return c


def _villages() -> pd.DataFrame:
    c = _counts()
    c = c[c["unit"] == "11"].drop(columns="unit")
    return pd.concat([c.assign(unit="111"), c.assign(unit="112")], ignore_index=True)


@pytest.fixture(scope="module", autouse=True)
def _cjk():
    plots.use_cjk_font()


@pytest.fixture
def data():
    return explore.sources(UNITS, _counts(), _villages())


# --------------------------------------------------------------------------- sources


def test_sources_key_frames_by_level_without_changing_them():
    c, v = _counts(), _villages()
    before = c.copy()
    out = explore.sources(UNITS, v, c)
    assert list(out) == ["township", "village"]  # in LEVELS order, not argument order
    assert out["township"] is c and out["village"] is v
    pd.testing.assert_frame_equal(c, before)


@pytest.mark.parametrize("frames, message", [
    ((), "sources needs at least one counts frame"),
    ((pd.DataFrame({"unit": pd.Series([], dtype=str)}),), "counts frame 1 has no rows"),
    ((pd.DataFrame({"x": [1]}),), "counts frame 1 has no unit column"),
    ((pd.DataFrame({"unit": ["11", "99", "98"]}),),
     "counts frame 1 has units not in the units table: 98, 99"),
    ((pd.DataFrame({"unit": ["11", "111"]}),),
     "counts frame 1 mixes units of levels township, village: give one frame per level"),
    ((pd.DataFrame({"unit": ["11"]}), pd.DataFrame({"unit": ["12"]})),
     "two counts frames hold township units"),
])
def test_sources_refuse(frames, message):
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(") + "$"):
        explore.sources(UNITS, *frames)


def test_source_for_takes_the_nearest_level_at_or_below(data):
    assert explore.source_for(data, "county") is data["township"]
    assert explore.source_for(data, "township") is data["township"]
    assert explore.source_for(data, "area") is data["village"]
    assert explore.source_for(data, "village") is data["village"]
    with pytest.raises(ValueError, match=r"^no counts at or below level 'village'; "
                                         r"counts are at township$"):
        explore.source_for({"township": data["township"]}, "village")
    with pytest.raises(ValueError, match=r"level must be one of county, township, area, "
                                         r"village, got 'towns' \(did you mean 'township'\?\)"):
        explore.source_for(data, "towns")


def test_available_indicators_follow_the_columns():
    # births + population: birth rate only; male/female also give births, the sex ratio, and
    # (with population) the birth rate
    assert explore.available_indicators(_counts()) == ["crude_birth_rate"]
    c = pd.DataFrame(columns=["unit", "period", "births_male", "births_female", "deaths",
                              "population"])
    assert explore.available_indicators(c) == ["crude_birth_rate", "crude_death_rate",
                                               "natural_growth_rate", "sex_ratio_at_birth"]


# --------------------------------------------------------------------------- units


def test_resolve_units_by_name_or_code_in_the_order_given():
    assert explore.resolve_units(UNITS, "township", "南镇，11、 西镇 , 南镇") == ["13", "11", "12"]
    assert explore.resolve_units(UNITS, "township", ["12", " 东镇 "]) == ["12", "11"]
    assert explore.resolve_units(UNITS, "township", "") == ["11", "12", "13"]
    assert explore.resolve_units(UNITS, "township", " , ") == ["11", "12", "13"]
    assert explore.resolve_units(UNITS, "county") == ["1"]


def test_resolve_units_lists_every_unknown_name():
    with pytest.raises(ValueError) as e:
        explore.resolve_units(UNITS, "township", "东镇, 东镇镇, 甲村")
    assert str(e.value) == ("'东镇镇' is no unit of level 'township' (did you mean '东镇'?); "
                            "'甲村' is no unit of level 'township'")


def test_resolve_units_refuses_a_shared_name_and_an_absent_level():
    units = pd.concat([UNITS, pd.DataFrame({"unit": ["14"], "name": ["东镇"], "parent": ["1"],
                                            "level": ["township"]})], ignore_index=True)
    with pytest.raises(ValueError, match=r"^'东镇' names 2 units of level 'township': "
                                         r"give their codes$"):
        explore.resolve_units(units, "township", "东镇")
    assert explore.resolve_units(units, "township", "14") == ["14"]
    with pytest.raises(ValueError, match=r"^no unit of the units table is at level 'area'$"):
        explore.resolve_units(UNITS, "area")


# --------------------------------------------------------------------------- periods


@pytest.mark.parametrize("start, end, freq, labels, whole", [
    ("2023Q1", "2024Q4", "Q", [f"{y}Q{q}" for y in (2023, 2024) for q in (1, 2, 3, 4)],
     "2023-01/2024-12"),
    ("2024Q1", "2024Q4", "H", ["2024H1", "2024H2"], "2024"),
    ("2024-04", "2024-06", "M", ["2024-04", "2024-05", "2024-06"], "2024Q2"),
    ("2024-04", "2024Q2", "M", ["2024-04", "2024-05", "2024-06"], "2024Q2"),
    ("2022", "2024", "Y", ["2022", "2023", "2024"], "2022-01/2024-12"),
    ("2024H2", "2024H2", "Q", ["2024Q3", "2024Q4"], "2024H2"),
    ("2024Q3", "2024Q3", "Q", ["2024Q3"], "2024Q3"),
])
def test_period_range(start, end, freq, labels, whole):
    ps, w = explore.period_range(start, end, freq)
    assert [str(p) for p in ps] == labels
    assert str(w) == whole


@pytest.mark.parametrize("start, end, freq, message", [
    ("2024Q2", "2024Q4", "H", "the range must start where a half-year starts; 2024Q2 does not"),
    ("2024Q1", "2024Q3", "H", "the range must end where a half-year ends; 2024Q3 does not"),
    ("2024-02", "2024Q4", "Q", "the range must start where a quarter starts; 2024-02 does not"),
    ("2024Q4", "2024Q1", "Q", "the range ends (2024Q1) before it starts (2024Q4)"),
    ("2024-07-D1", "2024Q4", "Q", "a period range runs over whole months, not dekads"),
    ("2024Q1", "2024Q4", "W", "freq must be one of M, Q, H, Y, got 'W'"),
    ("2024Q5", "2024Q4", "Q", "cannot parse period label '2024Q5'"),
])
def test_period_range_refuses(start, end, freq, message):
    with pytest.raises(ValueError) as e:
        explore.period_range(start, end, freq)
    assert str(e.value) == message


def test_period_options_are_whole_periods_within_the_months():
    c = _counts()  # 2024-01 .. 2024-06
    assert explore.period_options(c, "Q") == ["2024Q1", "2024Q2"]
    assert explore.period_options(c, "H") == ["2024H1"]
    assert explore.period_options(c, "Y") == []
    assert explore.period_options(c[c["period"] > pd.Period("2024-01", "M")], "Q") == ["2024Q2"]


# --------------------------------------------------------------------------- view


def test_view_numbers_by_hand(data):
    before = data["township"].copy()
    v = explore.view(data, UNITS, selection="西镇, 东镇", start="2024Q1", end="2024Q2",
                     language="en")
    pd.testing.assert_frame_equal(data["township"], before)  # input unchanged
    assert v.units == ["12", "11"] and str(v.whole) == "2024H1"
    # series: period by period, units in the order chosen; 西镇 keeps its Q2 row, no value
    s = v.series
    assert s["period"].astype(str).tolist() == ["2024Q1", "2024Q1", "2024Q2", "2024Q2"]
    assert s["unit"].tolist() == ["12", "11", "12", "11"]
    np.testing.assert_allclose(s["value"], [20.0, 10.0, np.nan, 20.0])  # see the header
    assert s["note"].astype(str).tolist()[2] == "not reported: 2 of 3 months, 2024-05 missing"
    # results: every township for H1; 11: 273 / 18200 = 15.0, 13: 364 / 18200 = 20.0
    r = v.results
    assert r["unit"].tolist() == ["11", "12", "13"]
    np.testing.assert_allclose(r["value"], [15.0, np.nan, 20.0])
    assert r["note"].astype(str).tolist()[1] == "not reported: 5 of 6 months, 2024-05 missing"
    # the table: the chosen units (named), in the order chosen, 西镇 without a figure (—)
    assert v.table.index.tolist() == ["西镇", "东镇"]
    assert v.table.iloc[:, 0].tolist() == ["—", 15.0]
    # notes: the whole range, then each period; 西镇 in H1 and in Q2
    assert v.notes.index.tolist() == [("2024H1", "西镇"), ("2024Q2", "西镇")]
    # funnel over 11 and 13 pooled: (273 + 364) / (18200 + 18200) x 1000 = 17.5
    assert isinstance(v.funnel, Figure) and isinstance(v.trend, Figure)
    assert v.funnel_note == ("Centre line: the pooled value of 2 units, 17.5 "
                             "(1 without a value left out).")
    assert "pooled (2 of 3) 17.5" in [t.get_text() for t in v.funnel.axes[0].get_legend().texts]


def test_view_a_period_without_counts_keeps_its_rows(data):
    # 2024Q3 has no counts at all: compute(freq=) does not list it, the view still does
    v = explore.view(data, UNITS, selection="东镇", start="2024Q2", end="2024Q3")
    assert v.series["period"].astype(str).tolist() == ["2024Q2", "2024Q3"]
    np.testing.assert_allclose(v.series["value"], [20.0, np.nan])
    assert v.series["note"].astype(str).iloc[1].startswith("not reported")
    assert np.isnan(v.results["value"]).all()  # no unit reported all of Q2..Q3
    assert v.funnel is None
    assert v.funnel_note == "漏斗图需要至少两个有数值的单位；乡镇级有 0 个。"


def test_view_target_centre_and_county_level(data):
    v = explore.view(data, UNITS, start="2024Q1", end="2024Q1", target=12.0, language="en")
    assert v.units == ["11", "12", "13"]
    assert v.funnel_note == "Centre line: the target, 12."
    # the county in Q1: (91 + 91 + 182) / (9100 + 4550 + 9100) x 1000 = 364 / 22750 = 16.0
    c = explore.view(data, UNITS, level="county", start="2024Q1", end="2024Q1", language="en")
    np.testing.assert_allclose(c.results["value"], [16.0])
    assert c.funnel is None
    assert c.funnel_note == ("A funnel plot needs at least two units with a value; "
                             "the county level has 1.")
    assert str(c.funnel_or_reason.data) == c.funnel_note
    assert c.funnel_caption.data == ""


def test_view_village_level_uses_village_counts(data):
    # each village has 东镇's births and population: Q1 10.0 per mille
    v = explore.view(data, UNITS, level="village", start="2024Q1", end="2024Q1")
    np.testing.assert_allclose(v.results["value"], [10.0, 10.0])
    assert v.results["unit"].tolist() == ["111", "112"]


def test_view_refuses_with_clear_messages(data):
    with pytest.raises(ValueError, match=r"^the township counts lack columns for "
                                         r"'sex_ratio_at_birth'; they have crude_birth_rate$"):
        explore.view(data, UNITS, indicator="sex_ratio_at_birth")
    with pytest.raises(ValueError, match=r"^unknown indicator 'birth_rate'"):
        explore.view(data, UNITS, indicator="birth_rate")
    with pytest.raises(ValueError, match=r"^language must be 'zh' or 'en', got 'fr'$"):
        explore.view(data, UNITS, language="fr")
    with pytest.raises(ValueError, match=r"^no counts at or below level 'village'"):
        explore.view({"township": data["township"]}, UNITS, level="village")
    with pytest.raises(ValueError, match=r"^'北镇' is no unit of level 'township'"):
        explore.view(data, UNITS, selection="北镇")


def test_view_no_funnel_for_a_difference():
    c = _counts().assign(deaths=1)
    v = explore.view(explore.sources(UNITS, c), UNITS, indicator="natural_growth_rate",
                     start="2024Q1", end="2024Q1", language="en")
    assert v.funnel is None
    assert v.funnel_note == ("No funnel plot for Natural growth rate: no exact control "
                             "limits for its kind.")


# --------------------------------------------------------------------------- panel


def _texts(out) -> list[str]:
    return [o["data"]["text/plain"] for o in out.outputs]


@pytest.mark.filterwarnings("error::UserWarning")  # a missing glyph would warn
def test_panel_starts_from_the_view_and_redraws(data):
    pytest.importorskip("ipywidgets")
    v = explore.view(data, UNITS, selection="东镇", start="2024Q1", end="2024Q2",
                     language="en")
    p = explore.panel(v, data, UNITS)
    level, units, indicator, freq, periods = p.children[0].children
    out = p.children[-1]
    assert (level.value, units.value, indicator.value, freq.value, periods.value) == (
        "township", ("11",), "crude_birth_rate", "Q", ("2024Q1", "2024Q2"))
    assert [lab for lab, _ in level.options] == ["county", "township", "area", "village"][:2] \
        + ["village"]  # no area in these units
    first = _texts(out)
    assert first[0] == ("**Crude birth rate (‰)**, township level, 2024Q1–2024Q2 "
                        "(by quarter), 1 unit")
    kinds = [sorted(o["data"]) for o in out.outputs]
    assert kinds[1] == ["image/png", "text/plain"] and kinds[2] == ["image/png", "text/plain"]
    periods.value = ("2024Q1", "2024Q1")
    assert _texts(out)[0] == ("**Crude birth rate (‰)**, township level, 2024Q1 "
                              "(by quarter), 1 unit")
    units.value = ("11", "13")
    assert _texts(out)[0].endswith("2 units")
    html = [o["data"]["text/html"] for o in out.outputs if "text/html" in o["data"]][0]
    assert "东镇" in html and "南镇" in html and "西镇" not in html
    level.value = "village"  # units follow the level, all chosen
    assert units.value == ("111", "112")
    assert _texts(out)[0].startswith("**Crude birth rate (‰)**, village level, 2024Q1")


def test_panel_shows_what_it_cannot_compute(data):
    pytest.importorskip("ipywidgets")
    v = explore.view(data, UNITS, start="2024Q1", end="2024Q2", language="en")
    p = explore.panel(v, data, UNITS)
    _, _, _, freq, periods = p.children[0].children
    out = p.children[-1]
    freq.value = "Y"  # six months of counts: no whole year
    assert _texts(out) == ["**Cannot compute:** the township counts hold no whole year"]
    assert periods.value == ("2024Q1", "2024Q2")  # left as it was
    freq.value = "M"
    assert periods.value == ("2024-01", "2024-06")
    assert _texts(out)[0].startswith("**Crude birth rate (‰)**, township level, "
                                     "2024-01–2024-06 (by month)")


def test_figures_hide_what_a_published_table_suppresses():
    # infant deaths in Q1: 东镇 1 (a count report.publishable suppresses), 南镇 5; Q2 none
    # (0: suppressed too)
    c = _counts().assign(deaths_infant=0)
    c.loc[(c["unit"] == "11") & (c["period"] == pd.Period("2024-01", "M")), "deaths_infant"] = 1
    c.loc[(c["unit"] == "13") & (c["period"] == pd.Period("2024-02", "M")), "deaths_infant"] = 5
    v = explore.view(explore.sources(UNITS, c), UNITS, selection="东镇, 南镇",
                     indicator="infant_mortality_rate", start="2024Q1", end="2024Q2")
    # the data keep the numbers: 1 / 91 births x 1000 = 10.99; 5 / 182 x 1000 = 27.47
    q1 = v.series[v.series["period"].astype(str) == "2024Q1"]
    np.testing.assert_allclose(q1["value"], [1 / 91 * 1000, 5 / 182 * 1000])
    # the trend draws no point for 东镇 in Q1 (1 death) nor for either township in Q2 (0
    # deaths: zeros are inside the band 0..4 too), and draws 南镇's 5 in Q1
    lines = {ln.get_label(): ln.get_ydata() for ln in v.trend.axes[0].get_lines()}
    assert np.isnan(lines["东镇"]).all()
    np.testing.assert_allclose(lines["南镇"], [5 / 182 * 1000, np.nan])
    # over H1 东镇 has 1 infant death (suppressed), 南镇 5, 西镇 not reported: the funnel
    # draws 南镇 only
    xy = v.funnel.axes[0].collections[0].get_offsets()
    values = np.asarray(xy)[:, 1]
    np.testing.assert_allclose(values[np.isfinite(values)], [5 / 364 * 1000])
    assert not np.isfinite(float(str(v.table.iloc[0, 0]).replace("[c]", "nan")))
