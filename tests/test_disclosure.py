"""Small-cell suppression in the rendered quarterly report, HTML and Excel, and the CJK font.

Which unit-periods must be suppressed is worked out here from the raw rows of
data/sample/counts.csv (summed with plain pandas, not with fpanalysis): infant deaths, and
births outside policy = births - births_compliant, from 0 to 4 in 2024Q4 (Oct-Dec 2024), for
each township and for the county (the sum of the townships): zeros are suppressed too, since
a zero beside a mark tells that the marked unit had an event. The report is rendered with
:func:`fpanalysis.report.render` (about 10-25 s per render) and every table cell of the HTML
and of the workbook is scanned for those counts and the rates built on them.
"""

from __future__ import annotations

import io
import logging
import re
import warnings

import openpyxl
import pandas as pd
import pytest

from fpanalysis import report
from tests.conftest import ROOT, SAMPLE

PERIOD = "2024Q4"
MONTHS = ("2024-10", "2024-11", "2024-12")


# --- what must be suppressed, by hand ---------------------------------------------------------

@pytest.fixture(scope="module")
def by_hand() -> pd.DataFrame:
    """Per unit name: infant deaths, births, compliant births, births outside policy in
    2024Q4, the county row the sum of its townships."""
    raw = pd.read_csv(SAMPLE / "counts.csv", dtype={"unit": str, "period": str})
    units = pd.read_csv(SAMPLE / "units.csv", dtype={"unit": str, "parent": str})
    q = raw[raw["period"].isin(MONTHS)]
    assert q.groupby("unit").size().eq(3).all()  # every township reported all three months
    sums = q.groupby("unit")[["deaths_infant", "births", "births_compliant"]].sum()
    sums.loc[units.loc[units["level"] == "county", "unit"].iloc[0]] = sums.sum()
    sums["births_outside"] = sums["births"] - sums["births_compliant"]
    sums.index = sums.index.map(units.set_index("unit")["name"])
    return sums


def test_the_sample_has_cells_to_suppress(by_hand):
    # the test below is only meaningful if 2024Q4 has small cells of both kinds (the hand
    # sums: 东林镇 2 infant deaths and 56 - 53 = 3 births outside policy, 古沙镇 53 - 51 = 2)
    assert by_hand.loc["东林镇", "deaths_infant"] == 2
    assert by_hand.loc["东林镇", "births_outside"] == 3
    assert by_hand.loc["古沙镇", "births_outside"] == 2
    small = by_hand[["deaths_infant", "births_outside"]].apply(lambda c: c.between(1, 4))
    assert small["deaths_infant"].sum() >= 3 and small["births_outside"].sum() >= 2
    # and zeros: twelve townships without an infant death, two without a birth outside
    # policy (the hand sums of counts.csv)
    assert (by_hand["deaths_infant"] == 0).sum() == 12
    assert (by_hand["births_outside"] == 0).sum() == 2


# --- reading the outputs ----------------------------------------------------------------------

def html_cells(text: str) -> list[tuple[str, str, str]]:
    """(row label, column label, cell text) of every body cell of every HTML table; the
    column label joins the header rows' texts (colspans expanded)."""
    from bs4 import BeautifulSoup

    out = []
    for table in BeautifulSoup(text, "html.parser").find_all("table"):
        heads = []
        for tr in (table.thead.find_all("tr") if table.thead else []):
            row = []
            for cell in tr.find_all(["th", "td"]):
                row += [cell.get_text(" ", strip=True)] * int(cell.get("colspan", 1))
            heads.append(row)
        for tr in (table.tbody.find_all("tr") if table.tbody else []):
            cells = [c.get_text(" ", strip=True) for c in tr.find_all(["th", "td"])]
            for j, value in enumerate(cells[1:], start=1):
                label = " ".join(h[j] for h in heads if j < len(h) and h[j])
                out.append((cells[0], label, value))
    return out


def excel_cells(path) -> list[tuple[str, str, object]]:
    """(row label, column label, value) of every sheet: the column label joins the header
    rows above the first row whose first cell is a unit name or a file name."""
    out = []
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        rows = [list(r) for r in ws.iter_rows(values_only=True)]
        first = next((k for k, r in enumerate(rows)
                      if k > 0 and r[0] not in (None, "") and rows[k - 1][0] not in (None,)
                      and k >= 1), 1)
        heads = [list(h) for h in rows[:first]]
        for h in heads:  # merged header cells hold their text in the first cell only
            for j in range(2, len(h)):
                if h[j] is None:
                    h[j] = h[j - 1]
        for r in rows[first:]:
            for j, value in enumerate(r[1:], start=1):
                label = " ".join(str(h[j]) for h in heads if j < len(h) and h[j] is not None)
                out.append((str(r[0]), label, value))
    return out


def leaks(cells, by_hand: pd.DataFrame, words: dict[str, str]) -> list[tuple]:
    """Cells that show a suppressed count (0 to 4), its complement (compliant births) or a
    rate built on it (to 1 or 2 decimals, or as a number within 0.005)."""
    found = []
    for unit, row in by_hand.iterrows():
        checks = []
        if 0 <= row["deaths_infant"] <= 4:
            rate = 1000 * row["deaths_infant"] / row["births"]
            checks += [(words["deaths_infant"], row["deaths_infant"]),
                       (words["infant_mortality_rate"], rate)]
        if 0 <= row["births_outside"] <= 4:
            rate = 100 * row["births_compliant"] / row["births"]
            checks += [(words["births_outside"], row["births_outside"]),
                       (words["births_compliant"], row["births_compliant"]),
                       (words["compliance_rate"], rate)]
        for a, b, value in cells:
            if unit not in (a, b):
                continue
            label = b if a == unit else a  # transposed tables: units across
            for word, number in checks:
                if word not in label:
                    continue
                if word == words["deaths_infant"] and words["infant_mortality_rate"] in label:
                    continue  # the rate column is checked as a rate
                if word == words["births_outside"] and words["compliance_rate"] in label:
                    continue
                if _shows(value, number):
                    found.append((unit, label, value))
    return found


def _shows(value: object, number: float) -> bool:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return abs(float(value) - number) < 0.005
    text = str(value).strip()
    forms = {f"{number:.1f}", f"{number:.2f}", f"{number:g}"}
    if float(number).is_integer():
        forms.add(str(int(number)))
    return any(re.fullmatch(re.escape(f) + r"(\s.*)?", text) for f in forms)


ZH = {"deaths_infant": "婴儿死亡", "infant_mortality_rate": "婴儿死亡率",
      "births_outside": "政策外出生", "births_compliant": "政策内出生",
      "compliance_rate": "政策符合率"}
EN = {"deaths_infant": "Infant deaths", "infant_mortality_rate": "Infant mortality rate",
      "births_outside": "Births outside policy", "births_compliant": "Compliant births",
      "compliance_rate": "Policy compliance"}


def test_leak_scan_catches_a_leak(by_hand):
    # the scanner itself: a table showing 东林镇's 2 infant deaths and its compliance rate
    # 53/56 = 94.64 % is caught; "<5" and "[c]" are not
    bad = [("东林镇", "婴儿死亡", "2"), ("东林镇", "政策符合率 (%) 值", "94.64"),
           ("东林镇", "婴儿死亡率 (‰) 值", "[c]"), ("东林镇", "政策外出生", "<5")]
    assert leaks(bad, by_hand, ZH) == bad[:2]


# --- the rendered reports -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def public_zh(tmp_path_factory):
    out = tmp_path_factory.mktemp("public")
    html = report.render(ROOT / "notebooks" / "quarterly_report.ipynb", period=PERIOD,
                         data_dir=SAMPLE, output_dir=out)
    return html


@pytest.fixture(scope="module")
def internal_en(tmp_path_factory):
    out = tmp_path_factory.mktemp("internal")
    html = report.render(ROOT / "notebooks" / "quarterly_report.ipynb", period=PERIOD,
                         data_dir=SAMPLE, output_dir=out, language="en",
                         disclosure="internal")
    return html


def _first_text(html) -> str:
    from bs4 import BeautifulSoup

    body = BeautifulSoup(html.read_text(encoding="utf-8"), "html.parser").body
    return body.get_text("\n", strip=True).splitlines()[0]


def test_public_report_shows_no_suppressed_cell(public_zh, by_hand):
    text = public_zh.read_text(encoding="utf-8")
    assert _first_text(public_zh) == "公开版"  # the bold first words of the first line
    from bs4 import BeautifulSoup

    words = BeautifulSoup(text, "html.parser").body.get_text("", strip=False)
    assert ("公开版：单位每期婴儿死亡、政策外出生为0至4例的，显示为<5；"
            "据此计算的比率，以及为防止相减推算而一并隐去的数，显示为[c]。") in words
    cells = html_cells(text)
    assert leaks(cells, by_hand, ZH) == []
    # and the marks are there: the counts table shows "<5" for every small count, zeros
    # included (18 townships for infant deaths, the county's 8 shown)
    small_deaths = int(by_hand["deaths_infant"].between(0, 4).sum())
    small_outside = int(by_hand["births_outside"].between(0, 4).sum())
    assert small_deaths == 18
    shown = [(a, b) for a, b, v in cells if v == "<5"]
    assert sum(b == "婴儿死亡" for _, b in shown) == small_deaths
    assert sum(b == "政策外出生" for _, b in shown) == small_outside
    book = public_zh.parent / "quarterly_tables.xlsx"
    xl = excel_cells(book)
    assert leaks(xl, by_hand, ZH) == []
    assert sum(v == "<5" and b == "婴儿死亡" for _, b, v in xl) == small_deaths
    wb = openpyxl.load_workbook(book)
    assert wb["版本"]["C2"].value.startswith("公开版：单位每期婴儿死亡")
    # the workbook passed the audit before it was written: the county's 8 beside eighteen
    # "<5" (each 0..4, adding to 8) gives no township away
    assert ("青禾县", "婴儿死亡", 8) in xl
    sheets = wb.sheetnames
    assert sheets == ["版本", "数据读取", "人口变动", "生命统计", "全部指标", "区间方法", "说明",
                      "目标考核", "排名", "数据质量", "严重问题"]
    # the figures are PNG files beside the HTML
    pngs = sorted(p.name for p in public_zh.parent.glob("*.png"))
    assert pngs == ["attainment.png", "crude_birth_rate.png", "sex_ratio_at_birth.png"]


def test_internal_report_shows_everything_in_english(internal_en, by_hand):
    text = internal_en.read_text(encoding="utf-8")
    assert _first_text(internal_en) == "Internal edition, not for publication"
    cells = html_cells(text)
    # the counts a public report hides are there (so the scan above can find them)
    assert leaks(cells, by_hand, EN) != []
    assert ("东林镇", "Infant deaths", "2") in cells
    assert not any(v == "<5" for _, _, v in cells)
    # every heading and table header in English; Chinese only in unit names (and the
    # county's 合计 never appears)
    names = set(pd.read_csv(SAMPLE / "units.csv")["name"])
    headers = {b for _, b, _ in cells}
    assert not [h for h in headers if re.search(r"[\u4e00-\u9fff]", h) and h not in names]
    visible = re.sub(r"<[^>]+>", " ", text.split("<body", 1)[1])
    for name in names:
        visible = visible.replace(name, "")
    chinese = re.findall(r"[\u4e00-\u9fff]+", visible)
    assert chinese == [], chinese[:10]
    sheets = openpyxl.load_workbook(internal_en.parent / "quarterly_tables.xlsx").sheetnames
    assert sheets[:3] == ["edition", "data loaded", "counts"]


def test_render_refuses_an_unknown_disclosure_mode(tmp_path):
    with pytest.raises(ValueError, match="disclosure must be 'public' or 'internal', got 'open'"):
        report.render(ROOT / "notebooks" / "quarterly_report.ipynb", period=PERIOD,
                      data_dir=SAMPLE, output_dir=tmp_path, disclosure="open")
    assert list(tmp_path.iterdir()) == []


# --- the rule itself ------------------------------------------------------------------------

@pytest.mark.parametrize(("kwargs", "message"), [
    ({"mode": "secret"}, "disclosure must be 'public' or 'internal', got 'secret'"),
    ({"threshold": 0}, "the disclosure threshold must be a whole number of at least 1, got 0"),
    ({"threshold": 2.5}, "the disclosure threshold must be a whole number of at least 1, got 2.5"),
    ({"sensitive": ["deaths"]}, "unknown sensitive count(s) 'deaths' (did you mean "
                                "'deaths_infant'?); known: deaths_infant, births_outside"),
    ({"sensitive": ["births_outsid"]}, "unknown sensitive count(s) 'births_outsid' (did you "
                                       "mean 'births_outside'?); known: deaths_infant, "
                                       "births_outside"),
    ({"sensitive": []}, "the sensitive counts must name at least one count"),
    ({"mark": " "}, "the suppression marks must not be empty"),
])
def test_disclosure_refuses_bad_rules(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        report.disclosure(**kwargs)


def test_disclosure_rule_defaults_and_options():
    rule = report.disclosure()
    assert (rule.mode, rule.threshold, rule.mark, rule.withheld) == ("public", 4, "<5", "[c]")
    assert rule.indicators() == ["infant_mortality_rate", "compliance_rate"]
    assert report.disclosure(threshold=9).mark == "<10"
    assert report.disclosure("internal").indicators() == []
    only = report.disclosure(sensitive="deaths_infant")
    assert only.indicators() == ["infant_mortality_rate"]
    assert report.disclosure(only) is only


def test_sensitive_counts_roll_up_the_hierarchy(sample_counts, sample_units, by_hand):
    s = report.sensitive_counts(sample_counts, PERIOD, sample_units)
    names = sample_units.set_index("unit")["name"]
    got = s.rename(index=names)
    # hand sums from counts.csv (by_hand), township by township and for the county
    assert got["deaths_infant"].to_dict() == by_hand["deaths_infant"].astype(float).to_dict()
    assert got["births_outside"].to_dict() == by_hand["births_outside"].astype(float).to_dict()


def test_flag_and_quality_tables_withhold_sensitive_figures(sample_units):
    flags = pd.DataFrame({"unit": ["990101101", "990101101"], "period": PERIOD,
                          "check": ["funnel", "monthly_outlier"],
                          "indicator": ["compliance_rate", "births"],
                          "figure": [94.6, 3.05], "threshold": [3.09, 3.0],
                          "severity": ["extreme", "extreme"], "note": ""})
    # public: the flag on compliance is left out whole (its threshold and presence bound the
    # rate; an earlier version showed "[c]" in its figure), and the header says so
    t = report.flag_table(flags, sample_units, language="en")
    assert t["figure"].tolist() == ["3.05"]
    assert t.columns.name.startswith("public edition: checks of infant deaths")
    t = report.flag_table(flags, sample_units, language="en", disclosure="internal")
    assert t["figure"].tolist() == ["94.6", "3.05"]


# --- the CJK font -------------------------------------------------------------------------------

def test_chinese_figure_renders_without_missing_glyph_or_findfont(caplog):
    from matplotlib import font_manager

    from fpanalysis import plots

    family = plots.use_cjk_font()
    import matplotlib as mpl

    installed = {f.name for f in font_manager.fontManager.ttflist}
    # never a font listed that is not installed (it floods the output with findfont lines)
    assert all(name in installed for name in mpl.rcParams["font.sans-serif"])
    assert mpl.rcParams["font.sans-serif"][0] == family
    results = pd.DataFrame({"unit": ["a", "b"], "indicator": "crude_birth_rate",
                            "value": [10.0, 12.0], "lower": [8.0, 9.0], "upper": [12.0, 15.0]})
    units = pd.DataFrame({"unit": ["a", "b"], "name": ["东林镇", "双凰乡"]})
    caplog.set_level(logging.DEBUG, logger="matplotlib.font_manager")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig = plots.forest(results, "crude_birth_rate", units=units, reference=11.0,
                           reference_label="全县", target=13.0)
        fig.suptitle("出生率：乡镇比较（‰）")
        fig.savefig(io.BytesIO(), format="png")
    glyphs = [str(w.message) for w in caught if "missing from font" in str(w.message)
              or "Glyph" in str(w.message)]
    assert glyphs == []
    assert not [r for r in caplog.records if "findfont" in r.getMessage()
                and ("not found" in r.getMessage() or "Font family" in r.getMessage())]


def test_county_total_shown_where_the_band_protects_the_townships(sample_counts, sample_units):
    # by hand from counts.csv, 2023Q3 (Jul-Sep 2023): seven townships with 1 infant death
    # each, the rest 0, county 7. With zeros inside the band every township shows "<5", so
    # a reader knows only: eighteen counts in 0..4 adding up to 7. Each is then at least
    # 7 - 17 * 4 < 0 -> 0 and at most min(4, 7) = 4: nothing beyond its mark, and the county's
    # 7 and its infant mortality rate are shown. (Before zeros were banded, seven "<5" beside
    # eleven zeros and the county's 7 gave every marked township away as 1.)
    raw = pd.read_csv(SAMPLE / "counts.csv", dtype={"unit": str, "period": str})
    q = raw[raw["period"].isin(["2023-07", "2023-08", "2023-09"])]
    per_unit = q.groupby("unit")["deaths_infant"].sum()
    assert sorted(per_unit[per_unit > 0].tolist()) == [1] * 7 and per_unit.sum() == 7
    rule = report.disclosure(counts=sample_counts, units=sample_units, periods=["2023Q3"])
    t = report.counts_table(sample_counts, sample_units, "2023Q3", language="en",
                            disclosure=rule)
    assert t["Infant deaths"].iloc[-1] == 7
    assert (t["Infant deaths"].iloc[:-1] == "<5").sum() == 18
    from fpanalysis import indicators

    both = pd.concat([indicators.compute(sample_counts, ["infant_mortality_rate"],
                                         period="2023Q3", units=sample_units),
                      indicators.compute(sample_counts, ["infant_mortality_rate"],
                                         period="2023Q3", level="county",
                                         units=sample_units)])
    shown = report.indicator_table(both, sample_units, intervals=False, language="en",
                                   disclosure=rule)
    assert shown.loc["青禾县"].iloc[0] == pytest.approx(1000 * 7 / q["births"].sum(),
                                                      abs=0.005)
    assert (shown.iloc[:-1, 0] == "[c]").all()
    result = report.audit({"counts": t, "rates": shown}, rule)
    deaths = result[result["count"] == "deaths_infant"]
    assert len(deaths) == 18 and (deaths["lower"] == 0).all() and (deaths["upper"] == 4).all()
    internal = report.indicator_table(both, sample_units, intervals=False, language="en",
                                      disclosure="internal")
    assert internal.loc["青禾县"].iloc[0] == pytest.approx(1000 * 7 / q["births"].sum())


def test_render_refuses_internal_for_a_notebook_without_the_parameter(tmp_path):
    # a notebook that cannot make an internal report is refused before any kernel starts,
    # rather than making a report that does not say what it is
    from tests.test_report import tiny_notebook

    nb = tiny_notebook(tmp_path / "nb", 'data_dir: str = ""\nperiod: str = ""\ncrash: str = ""')
    with pytest.raises(ValueError, match="has no parameter disclosure; it cannot make an "
                                         "internal report"):
        report.render(nb, period=PERIOD, data_dir=SAMPLE, output_dir=tmp_path / "out",
                      disclosure="internal")
    assert not (tmp_path / "out").exists()
