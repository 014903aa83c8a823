"""The data-quality section of a Chinese report reads as Chinese (issue 11, item 4).

Expected Chinese sentences and item names are written by hand below; the numbers in them
are those of the English note of the same flag (written out by hand too, or worked by hand
in a comment). The coverage test runs the checks themselves on crafted data so that every
kind of note a check can write is met, never a copy of the templates.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from fpanalysis import io, quality, report
from fpanalysis.quality.completeness import (
    completeness,
    completeness_flags,
    sex_ratio_plausibility,
    whipple_index,
)
from fpanalysis.quality.notes import TEMPLATES, parse

from .conftest import SAMPLE

COLUMNS = ["unit", "period", "check", "indicator", "figure", "threshold", "severity", "note"]


def flag(indicator, note, check="audit_false_rate", unit="A"):
    return pd.DataFrame([[unit, "2024Q1", check, indicator, 0.172, 0.05, "extreme", note]],
                        columns=COLUMNS)


def zh(frame, **kw):
    return report.flag_table(frame, None, language="zh", disclosure="internal", **kw)


# one crafted flag per kind of note: the English note as a check writes it, and the Chinese
# sentence written by hand around the same numbers
HAND = [
    ("births", "8 false of 22 re-checked (false share 36.4%, exact interval 17.2%-59.3%)",
     "核查 22 例，不实 8 例（不实比例 36.4%，精确区间 17.2%-59.3%）"),
    ("sex_ratio_at_birth", "815 boys, 599 girls: sex ratio 136.1 (122.3-151.4) against 105",
     "男婴 815，女婴 599：性别比 136.1（122.3-151.4），参考值 105"),
    ("monthly_reports", "missing 2024-05", "缺报月份：2024-05"),
    ("monthly_reports", "missing 2024-04, 2024-05", "缺报月份：2024-04, 2024-05"),
    ("monthly_reports", "late 2024-03", "迟报月份：2024-03"),
    ("births", "42 against a mean of 14.8 (SD 8.9, median 12) over 12 months",
     "42，对照 12 个月均值 14.8（标准差 8.9，中位数 12）"),
    ("deaths", "-3 against a mean of 1e+03 (SD 8.9, median 12.5) over 9 months",
     "-3，对照 9 个月均值 1e+03（标准差 8.9，中位数 12.5）"),
    ("crude_birth_rate", "15.26 against the county's 11.31 (99.8 % limits 7.2-16.35, "
     "widened for over-dispersion)",
     "15.26，全县 11.31（99.8% 控制限 7.2-16.35，已按过度离散放宽）"),
    ("births", "register 809 vs other 930: ratio 0.870 (95% CI 0.791-0.957) outside 1 ± 0.1",
     "登记 809，另一来源 930：比值 0.870（95% 置信区间 0.791-0.957），超出 1 ± 0.1"),
    ("births_male", "10 of 12 cells filled", "应填 12 项，已填 10 项"),
    ("whipple_index", "Whipple 155.6 (140.1-171.0) over ages 23-62",
     "Whipple指数 155.6（140.1-171.0），年龄 23-62"),
    ("births", "", ""),
]


@pytest.mark.parametrize("item, english, chinese", HAND)
def test_a_crafted_note_in_chinese_by_hand(item, english, chinese):
    t = zh(flag(item, english))
    assert t["说明"].tolist() == [chinese]
    en = report.flag_table(flag(item, english), None, language="en", disclosure="internal")
    assert en["note"].tolist() == [english] and en["item"].tolist() == [item]


@pytest.mark.parametrize("item, name", [
    ("births", "出生"), ("deaths", "死亡"), ("births_compliant", "政策内出生"),
    ("births_male", "男"),  # the counts table's headers
    ("sex_ratio_at_birth", "出生人口性别比"), ("sex_ratio_at_birth_o2", "二孩出生性别比"),
    ("sex_ratio_at_birth_o3p", "三孩及以上出生性别比"), ("compliance_rate", "政策符合率"),
    ("crude_birth_rate", "出生率"),  # the indicators' names
    ("births_male_o1", "一孩男"), ("women_15_49", "育龄妇女"),  # the loaders' Chinese headers
    ("monthly_reports", "月报"), ("whipple_index", "Whipple指数"),
    ("something_else", "something_else"),  # no name known: the key, never a guess
])
def test_items_by_the_names_the_report_uses(item, name):
    assert zh(flag(item, ""))["项目"].tolist() == [name]


@pytest.mark.parametrize("english", [
    "not reported", "no rows", "missing", "missing ", "late",
    "8 false of 22 re-checked (false share 36.4%, exact interval 17.2%-59.3%) and more",
    "8 false of 22 re-checked (false share 36.4%, exact interval 17.2%-59.3%",
    "eight false of 22 re-checked (false share 36.4%, exact interval 17.2%-59.3%)",
    "815 boys, 599 girls: sex ratio 136.1 (122.3-151.4) against 105; note",
    "42 against a mean of 14.8 (SD 8.9, median 12) over twelve months",
])
def test_a_note_no_template_wrote_stays_english_whole(english):
    assert parse(english) is None
    assert zh(flag("births", english))["说明"].tolist() == [english]


def test_pieces_are_cut_where_the_template_put_them():
    # a negative lower limit, exponents and a missing value keep their place
    assert parse("-2.1 against the county's -1e-05 (99.8 % limits -2.1--1.0, widened for "
                 "over-dispersion)") == ("funnel", {"value": "-2.1", "county": "-1e-05",
                                                    "lower": "-2.1", "upper": "-1.0"})
    assert parse("5 boys, 0 girls: sex ratio inf (60.1-inf) against 105")[1] == {
        "boys": "5", "girls": "0", "ratio": "inf", "lower": "60.1", "upper": "inf",
        "reference": "105"}


def test_crafted_checks_in_chinese():
    # A reports January-November 2024 only (11 of 12 months: moderate, December missing)
    units = pd.DataFrame({"unit": ["C", "A"], "name": ["县", "甲乡"], "parent": [None, "C"],
                          "level": ["county", "township"]})
    c = pd.DataFrame({"unit": "A", "period": pd.period_range("2024-01", "2024-11", freq="M"),
                      "births": pd.array([1] * 11, dtype="Int64")})
    # 300 boys, 180 girls: 300 / 180 x 100 = 166.7 per 100 girls
    sr = sex_ratio_plausibility(pd.DataFrame({"unit": ["A"], "period": ["2024"],
                                              "births_male": [300],
                                              "births_female": [180]}))
    # 8 ages x 50 + 32 x 10 = 720 persons, 400 heaped: Whipple = 500 x 400 / 720 = 277.8
    heap = whipple_index(pd.DataFrame({"age": range(23, 63)}).assign(
        count=lambda f: np.where(f["age"] % 5 == 0, 50, 10)))
    flags = completeness_flags(completeness=completeness(c, units, period="2024"),
                               sex_ratio=sr, heaping=heap)
    before = flags.copy(deep=True)
    t = report.flag_table(flags, units, language="zh", disclosure="internal")
    pd.testing.assert_frame_equal(flags, before)  # the flags are not changed
    lo, hi = sr["lower"].iloc[0], sr["upper"].iloc[0]  # the check's own interval
    assert t["说明"].tolist() == [
        "缺报月份：2024-12",
        f"男婴 300，女婴 180：性别比 166.7（{lo:.1f}-{hi:.1f}），参考值 105",
        f"Whipple指数 277.8（{heap['lower'].iloc[0]:.1f}-{heap['upper'].iloc[0]:.1f}），"
        "年龄 23-62"]
    assert t["项目"].tolist() == ["月报", "出生人口性别比", "Whipple指数"]
    assert t.index.tolist() == ["甲乡", "甲乡", ""]


@pytest.fixture(scope="module")
def crafted():
    """check_all on the sample with what the sample lacks for every kind of note: reports
    received late (990101101: March and July after day 5 of the next month, 10 of 12 on
    time < 90 %) and cells left empty (990101102: births_male of May and June, 10 of 12)."""
    units = io.load_units(SAMPLE)
    counts = io.load_counts(SAMPLE, units=units)
    audits = io.load_audits(SAMPLE, units=units)
    hospital = io.load_births_hospital(SAMPLE, units=units)
    c = counts.copy()
    nxt = (c["period"] + 1).dt.start_time
    late = (c["unit"] == "990101101") & c["period"].astype(str).isin(["2024-03", "2024-07"])
    c["received"] = np.where(late, (nxt + pd.Timedelta(days=9)).dt.strftime("%Y-%m-%d"),
                             nxt.dt.strftime("%Y-%m-%d"))
    empty = (c["unit"] == "990101102") & c["period"].astype(str).isin(["2024-05", "2024-06"])
    c["births_male"] = c["births_male"].astype("Int64").mask(empty)
    flags = quality.check_all(c, audits=audits, units=units, period="2024Q4",
                              hospital=hospital)
    heap = completeness_flags(heaping=whipple_index(pd.DataFrame({"age": range(23, 63)}).assign(
        count=lambda f: np.where(f["age"] % 5 == 0, 50, 10))))
    return units, flags, heap


def test_every_note_the_checks_write_is_read_and_written_in_chinese(crafted):
    units, flags, heap = crafted
    both = pd.concat([flags, heap], ignore_index=True)
    notes = both["note"].astype(str)
    read = [parse(n) for n in notes]
    # every non-empty note is read; only consistency over time writes none
    assert all(r is not None for n, r in zip(notes, read, strict=True) if n)
    assert set(both.loc[notes == "", "check"]) <= {"consistency_over_time"}
    assert {r[0] for r in read if r} == set(TEMPLATES)  # every kind of note was met
    t = report.flag_table(both, units, language="zh", disclosure="internal")
    en = report.flag_table(both, units, language="en", disclosure="internal")
    assert en["note"].tolist() == notes.tolist()  # English as the checks wrote it
    number = re.compile(r"[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?%?")
    for z, e in zip(t["说明"], en["note"], strict=True):
        # the same numbers, formatted the same way (the funnel's "99.8 %" is the template's
        # constant, written "99.8%" in Chinese)
        e = e.replace("(99.8 % limits", "(99.8% limits")
        assert sorted(number.findall(z)) == sorted(number.findall(e)), (z, e)
        assert not re.search(r"[A-Za-z]{2,}", z.replace("Whipple", "")), z
    assert not any(re.search(r"[A-Za-z]{2,}", x) for x in t["项目"].str.replace("Whipple", ""))


def test_sample_report_quality_section_in_chinese(crafted):
    units, _, _ = crafted
    counts = io.load_counts(SAMPLE, units=units)
    flags = quality.check_all(counts, audits=io.load_audits(SAMPLE, units=units), units=units,
                              period="2024Q4",
                              hospital=io.load_births_hospital(SAMPLE, units=units))
    t = report.flag_table(flags, units, severity="extreme", language="zh")
    # the first rows of the 2024Q4 sample report, by hand from its English notes
    assert t.iloc[0].tolist() == ["2024Q1", "核查虚报率", "出生", "0.172", "0.05", "严重",
                                  "核查 22 例，不实 8 例（不实比例 36.4%，精确区间 17.2%-59.3%）"]
    assert t.loc["新台镇"].tolist() == ["2024-04/2024-06", "报表完整性", "月报", "0.667", "0.9",
                                     "严重", "缺报月份：2024-05"]
    card = report.quality_table(flags, units, language="zh")
    cells = [str(x) for x in card.to_numpy().ravel()] + list(card.columns) + list(card.index)
    assert not any(re.search(r"[A-Za-z]{2,}", x) for x in cells)


@pytest.mark.parametrize("language", ["zh", "en"])
def test_a_public_flag_table_leaves_out_the_flags_on_sensitive_items(language):
    # a funnel flag on compliance: its note repeats the unit's rate against the county's
    # (76.06 against 91.68), its threshold and its very presence bound the rate; an audit
    # flag on compliant births gives the re-check's false share. A public table leaves both
    # out and says so in its header; a flag on births stays. (An earlier version withheld
    # the figure and the note but kept the row: the careless pass read 0 births outside
    # policy off 西城镇's threshold.)
    frame = pd.concat([
        flag("compliance_rate", "76.06 against the county's 91.68 (95 % limits 82-99.5, "
             "widened for over-dispersion)", check="funnel"),
        flag(" Births_Compliant", "7 false of 24 re-checked (false share 29.2%, exact "
             "interval 12.6%-51.1%)"),
        flag("births", "8 false of 22 re-checked (false share 36.4%, exact interval "
             "17.2%-59.3%)", unit="B")], ignore_index=True)
    t = report.flag_table(frame, None, language=language, disclosure="public")
    assert t.index.tolist() == ["B"] and "36.4%" in t.iloc[0, -1]
    assert t.columns.name == ("公开版：不含婴儿死亡、政策外出生的检查" if language == "zh" else
                              "public edition: checks of infant deaths and births outside "
                              "policy left out")
    internal = report.flag_table(frame, None, language=language, disclosure="internal")
    assert len(internal) == 3 and internal.columns.name is None
    assert "76.06" in internal.iloc[0, -1] and "29.2%" in internal.iloc[1, -1]
