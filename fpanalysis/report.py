"""Report tables and rendering: display frames for notebooks, Excel export, and papermill runs.

Public outputs suppress small cells (:mod:`fpanalysis.disclosure`): counts from 0 to 4 of
sensitive events (infant deaths, births outside policy) show ``<5`` in display tables at
every level, the rates built on them ``[c]``, and complementary cells ``[c]`` where a total
would give them away by difference, all from one plan per report, so that no figure in a
report can point to an individual family; ``disclosure="internal"`` shows everything.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from . import indicators as ind
from . import periods as pr
from .disclosure import (
    SENSITIVE,
    SUPPRESSED,
    WITHHELD,
    Disclosure,
    DisclosureError,
    _check_numeric_counts,
    _label,
    _parents,
    _plan,
    attach,
    audit,
    check,
    check_public_periods,
    disclosure,
    knowledge,
    make_plan,
    recorded,
    sensitive_counts,
)
from .tables import load_report

__all__ = [
    "SENSITIVE",
    "SUPPRESSED",
    "WITHHELD",
    "Disclosure",
    "DisclosureError",
    "RenderError",
    "SECTIONS",
    "SHEETS",
    "attainment_table",
    "audit",
    "audit_table",
    "backtest_table",
    "change_table",
    "check",
    "check_public_periods",
    "check_period",
    "class_table",
    "counts_table",
    "disclosure",
    "disclosure_line",
    "edition_table",
    "flag_table",
    "folder_name",
    "heading",
    "indicator_table",
    "latest_complete_quarter",
    "league",
    "league_table",
    "redraws_hidden",
    "load_summary",
    "make_plan",
    "method_table",
    "milestone_projection_table",
    "milestone_table",
    "note_table",
    "note_text",
    "nowcast_table",
    "output_folder",
    "probability_table",
    "publishable",
    "quality_table",
    "render",
    "section",
    "sensitive_counts",
    "standing_table",
    "suppress_small_cells",
    "suppressed_rows",
    "test_table",
    "title",
    "tier_count_table",
    "tier_table",
    "withhold",
    "write_excel",
]

#: How an indicator's result row gives its sensitive count: the numerator (infant deaths
#: per births) or denominator minus numerator (births outside policy = births - compliant).
_EVENTS_OF = {"infant_mortality_rate": "numerator", "compliance_rate": "complement"}

#: The sensitive count behind each sensitive indicator.
_COUNT_OF = {k: c for c, keys in SENSITIVE.items() for k in keys}

_SENSITIVE_WORDS = {"deaths_infant": ("婴儿死亡", "infant deaths"),
                    "births_outside": ("政策外出生", "births outside policy")}


def disclosure_line(rule: str | Disclosure = "public", language: str = "zh"):
    """The first line of a report: which disclosure mode made it, as Markdown.

    Examples
    --------
    >>> print(disclosure_line("public", "en").data[:60])
    **Public edition**: infant deaths and births outside policy
    >>> disclosure_line("internal", "en").data
    '**Internal edition, not for publication**: every count is shown, small ones included.'
    """
    from IPython.display import Markdown

    rule = disclosure(rule)
    i = _language(language)
    if not rule.public:
        return Markdown(("**内部版，不得公开**：全部数字如实列出，含小数。",
                         "**Internal edition, not for publication**: every count is shown, "
                         "small ones included.")[i])
    what = ("、", " and ")[i].join(_SENSITIVE_WORDS[c][i] for c in rule.sensitive)
    return Markdown((f"**公开版**：单位每期{what}为0至{rule.threshold}例的，显示为{rule.mark}；"
                     f"据此计算的比率，以及为防止相减推算而一并隐去的数，显示为{rule.withheld}。",
                     f"**Public edition**: {what} of 0 to {rule.threshold} in a unit and "
                     f"period are shown as {rule.mark}; rates built on them, and the counts "
                     f"withheld so that none can be worked out by subtraction, as "
                     f"{rule.withheld}.")[i])


def suppress_small_cells(table: pd.DataFrame, columns: Sequence[str], *, threshold: int = 4,
                         mark: str | None = None) -> pd.DataFrame:
    """Show counts from 0 to ``threshold`` in ``columns`` as the suppression mark.

    Primary suppression only, cell by cell: a table with totals needs a plan
    (:func:`fpanalysis.disclosure.make_plan`) so that no cell can be recovered by difference.

    Parameters
    ----------
    table : pandas.DataFrame
        A display table; it is not changed.
    columns : sequence of str
        Count columns to check; those absent from ``table`` are skipped.
    threshold : int, default 4
        Largest count suppressed.
    mark : str, optional
        What a suppressed cell shows; default ``"<threshold+1>"``.

    Returns
    -------
    pandas.DataFrame
        A copy in which each suppressed cell holds ``mark``. Zeros are suppressed too (a
        zero beside a mark would tell that the marked cell holds an event); counts above
        ``threshold`` are kept; a column with a suppressed cell becomes ``object``. A
        missing count stays ``<NA>``.

    Examples
    --------
    >>> t = pd.DataFrame({"deaths_infant": [0, 1, 4, 5, None]}, dtype="Int64")
    >>> suppress_small_cells(t, ["deaths_infant"])["deaths_infant"].tolist()
    ['<5', '<5', '<5', 5, <NA>]
    """
    rule = disclosure("public", threshold=threshold, mark=mark)
    out = table.copy()
    for c in columns:
        if c in out.columns:
            small = _small(out[c], rule)
            if small.any():
                out[c] = out[c].astype(object).where(~small, rule.mark)
    return out


def _small(values: pd.Series | np.ndarray, rule: Disclosure) -> np.ndarray:
    """Where a count is from 0 to the threshold (a boolean array; missing is not small)."""
    v = pd.to_numeric(pd.Series(np.asarray(values, dtype=object)), errors="coerce")
    return ((v >= 0) & (v <= rule.threshold)).fillna(False).to_numpy(dtype=bool)


def _sensitive_events(results: pd.DataFrame) -> pd.Series:
    """The sensitive count behind each result row (NaN for other indicators)."""
    key = results["indicator"].astype(str).map(_EVENTS_OF)
    num = pd.to_numeric(results["numerator"], errors="coerce") \
        if "numerator" in results.columns else pd.Series(np.nan, index=results.index)
    den = pd.to_numeric(results["denominator"], errors="coerce") \
        if "denominator" in results.columns else pd.Series(np.nan, index=results.index)
    return num.where(key == "numerator", (den - num).where(key == "complement"))


def _uncovered(what: str, status: np.ndarray, unit: np.ndarray, period: np.ndarray,
               wanted: np.ndarray) -> None:
    """Refuse cells the report's plan does not know: they were never planned."""
    gone = wanted & (status == "absent")
    if gone.any():
        pairs = sorted({f"{u} in {p}" for u, p in zip(unit[gone], period[gone], strict=True)})
        raise ValueError(f"{what}: the report's disclosure plan has no cell for "
                         f"{', '.join(pairs[:5])}{' …' if len(pairs) > 5 else ''}; make the "
                         "rule with every unit and period the report shows")


def _statuses(results: pd.DataFrame, rule: Disclosure, *, counts: pd.DataFrame | None = None,
              units: pd.DataFrame | None = None, what: str = "the table"
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Status (``shown``, ``primary``, ``complement``, ``missing``, ``unknown``; ``""`` for
    rows of other indicators), sensitive count and count name of each result row.

    The rule's plan decides where it has one; else a plan is made for these rows alone: from
    ``counts`` (with ``units``) when given, else from the rows' numerators, with the
    hierarchy of ``units`` (without units each row stands alone: primaries only).
    """
    n = len(results)
    status = np.full(n, "", dtype=object)
    count = np.full(n, None, dtype=object)
    if "indicator" not in results.columns or n == 0:
        return status, np.full(n, np.nan), count
    indicator = results["indicator"].astype(str)
    chosen = [k for c in rule.sensitive for k in SENSITIVE[c]]
    sensitive = indicator.isin(chosen).to_numpy(dtype=bool)
    count = indicator.map(_COUNT_OF).to_numpy(dtype=object)
    count[~sensitive] = None
    events = _sensitive_events(results).to_numpy(dtype=float)
    has_value = results["value"].notna().to_numpy(dtype=bool) if "value" in results.columns \
        else np.ones(n, dtype=bool)
    unit = results["unit"].astype(object).to_numpy() if "unit" in results.columns \
        else np.asarray([f"row {i + 1}" for i in range(n)], dtype=object)
    period = results["period"].map(_label).to_numpy(dtype=object) \
        if "period" in results.columns else np.full(n, "", dtype=object)
    plan = rule.plan
    if plan is None and counts is not None and rule.public and sensitive.any():
        plan = make_plan(counts, units if units is not None else
                         pd.DataFrame({"unit": pd.unique(counts["unit"]), "parent": None}),
                         sorted(set(period[sensitive]), key=str), threshold=rule.threshold,
                         protection=rule.protection, sensitive=rule.sensitive)
    if plan is None and rule.public and sensitive.any():
        den = pd.to_numeric(results["denominator"], errors="coerce").to_numpy(dtype=float) \
            if "denominator" in results.columns else np.full(n, np.inf)
        cap = np.where(count == "births_outside", den, np.inf)  # births bound them
        cells = pd.DataFrame({"count": count[sensitive], "unit": unit[sensitive],
                              "period": period[sensitive], "value": events[sensitive],
                              "cap": cap[sensitive]})
        dup = cells.duplicated(["count", "unit", "period"], keep=False).to_numpy()
        if dup.any():
            d = cells[dup].iloc[0]
            raise ValueError(f"{what} needs one row per unit, period and indicator; "
                             f"{d['unit']}/{d['period']}/{d['count']} appears more than once")
        parent = _parents(units) if units is not None and "unit" in results.columns else {}
        plan = _plan(cells[cells["value"].notna()], parent, threshold=rule.threshold,
                     protection=rule.protection)
    if plan is None:  # internal, or nothing sensitive: every figure as it is
        status[sensitive] = np.where(np.isnan(events[sensitive]), "missing", "shown")
        return status, events, count
    found, value = plan.lookup(count, unit, period)
    if "numerator" in results.columns:
        # the rows' own counts, where the plan has none; a disagreement is refused
        differ = sensitive & ~np.isnan(events) & ~np.isnan(value) & (events != value)
        if differ.any():
            j = int(np.flatnonzero(differ)[0])
            raise ValueError(f"{what}: {unit[j]} in {period[j]} has {events[j]:g} "
                             f"{count[j]} but the disclosure plan was made from counts with "
                             f"{value[j]:g}")
        value = np.where(np.isnan(value), events, value)
    unknown = found == "absent"
    if rule.plan is not None:
        # a row with a value the plan never planned (another period or unit) is refused,
        # whether or not the row carries its own count (assess output does not)
        _uncovered(what, found, unit, period, sensitive & has_value & unknown)
    status[sensitive] = np.where(unknown[sensitive], "unknown", found[sensitive])
    # a plan cell that is missing but whose row has a value: nothing known to publish it on
    status[sensitive & (status == "missing") & has_value] = "unknown"
    status[sensitive & ~has_value] = "missing"
    return status, value, count


_HIDDEN = ("primary", "masked", "complement", "unknown")


def _records(status: np.ndarray, value: np.ndarray, count: np.ndarray, unit: np.ndarray,
             period: np.ndarray, rule: Disclosure) -> pd.DataFrame:
    """What a table shows about its sensitive cells (:func:`fpanalysis.disclosure.knowledge`)."""
    keep = np.isin(status, ["shown", "primary", "masked", "complement"])
    return knowledge(count[keep], unit[keep], period[keep], status[keep], value[keep],
                     rule.threshold)


def _result_records(results: pd.DataFrame, status: np.ndarray, value: np.ndarray,
                    count: np.ndarray, rule: Disclosure) -> pd.DataFrame:
    unit = results["unit"].astype(object).to_numpy() if "unit" in results.columns \
        else np.asarray([f"row {i + 1}" for i in range(len(results))], dtype=object)
    period = results["period"].to_numpy(dtype=object) if "period" in results.columns \
        else np.full(len(results), "", dtype=object)
    return _records(status, value, count, unit, period, rule)


def suppressed_rows(results: pd.DataFrame, rule: str | Disclosure = "public", *,
                    counts: pd.DataFrame | None = None,
                    units: pd.DataFrame | None = None) -> np.ndarray:
    """Which rows of indicator results rest on a suppressed sensitive count.

    A row of a sensitive indicator (:data:`SENSITIVE`) is suppressed in a public report when
    the report's plan (the rule's, :func:`disclosure`; else one made for these rows, with
    the hierarchy of ``units``) suppresses its cell: a primary (0 to the threshold events:
    infant deaths, the numerator; births outside policy, denominator minus numerator), a
    complement (withheld so that no primary can be worked out by difference), or a count
    that cannot be told: never shown on a guess. Results without a numerator
    (:func:`fpanalysis.targets.assess` output) take the counts from the plan or from
    ``counts``; without either every sensitive row is suppressed.

    Examples
    --------
    >>> r = pd.DataFrame({"indicator": ["compliance_rate"] * 3 + ["crude_birth_rate"],
    ...                   "numerator": [53.0, 40.0, 10.0, 2.0],
    ...                   "denominator": [56.0, 40.0, 20.0, 9.0]})
    >>> suppressed_rows(r).tolist()  # 3, 0 and 10 births outside policy
    [True, True, False, False]
    """
    rule = disclosure(rule)
    if not rule.public:
        return np.zeros(len(results), dtype=bool)
    status, _, _ = _statuses(results, rule, counts=counts, units=units,
                             what="suppressed_rows")
    return np.isin(status, _HIDDEN)


def publishable(results: pd.DataFrame, rule: str | Disclosure = "public", *,
                language: str = "en", units: pd.DataFrame | None = None) -> pd.DataFrame:
    """A copy of indicator results fit to publish, for display and Excel.

    For rows whose sensitive cell is suppressed (:func:`suppressed_rows`) the numerator
    shows the suppression mark (``"<5"``) for a primary count of infant deaths and the
    withheld mark (``"[c]"``) otherwise (compliant births, complements), and value and
    limits show the withheld mark; the note says why (``"suppressed: 0-4 infant deaths"``,
    ``"withheld: would give suppressed cells away"``). Those columns are then of ``object``
    dtype: use the output to publish, not to compute further. ``attrs["disclosure"]``
    records what the copy shows about each sensitive cell (:func:`audit`). ``"internal"``
    returns a copy (with its records).

    Examples
    --------
    >>> r = pd.DataFrame({"unit": ["a", "b"], "indicator": "infant_mortality_rate",
    ...                   "numerator": [2.0, 5.0], "denominator": [400.0, 400.0],
    ...                   "value": [5.0, 12.5], "lower": [0.6, 4.1], "upper": [18.0, 29.2],
    ...                   "note": ""})
    >>> publishable(r)[["numerator", "value", "note"]]
      numerator value                            note
    0        <5   [c]  suppressed: 0-4 infant deaths
    1       5.0  12.5
    """
    rule = disclosure(rule)
    out = results.copy()
    status, value, count = _statuses(out, rule, units=units, what="publishable")
    records = _result_records(out, status, value, count, rule)
    hidden = np.isin(status, _HIDDEN) if rule.public else np.zeros(len(out), dtype=bool)
    if hidden.any():
        deaths = (count == "deaths_infant") & (status == "primary")
        for c in ["numerator", "value", "lower", "upper"]:
            if c in out.columns:
                mark = np.where(deaths, rule.mark, rule.withheld) if c == "numerator" \
                    else rule.withheld
                out[c] = pd.Series(np.where(hidden, mark, out[c].astype(object)),
                                   index=out.index, dtype=object)
        i = _language(language)
        words = np.array([_SENSITIVE_WORDS.get(c, ("", ""))[i] for c in count], dtype=object)
        band = (f"已隐去：{{}}0–{rule.threshold}例", f"suppressed: 0-{rule.threshold} {{}}")[i]
        primary = np.array([band.format(w) for w in words], dtype=object)
        why = np.where(status == "primary", primary,
                       np.where(np.isin(status, ["complement", "masked"]),
                                ("已隐去：防止相减推算", "withheld: would give suppressed cells "
                                 "away")[i],
                                ("已隐去：计数不明", "withheld: counts unknown")[i]))
        note = out["note"].fillna("").astype(str) if "note" in out.columns \
            else pd.Series("", index=out.index)
        out["note"] = np.where(hidden, why, note.to_numpy(dtype=object))
    attach(out, records)
    return out


def withhold(results: pd.DataFrame, rule: str | Disclosure = "public", *,
             counts: pd.DataFrame | None = None,
             units: pd.DataFrame | None = None) -> pd.DataFrame:
    """A copy of indicator results (or :func:`fpanalysis.targets.assess` output) for a
    figure: rows resting on a suppressed cell (:func:`suppressed_rows`) keep their row (the
    unit stays on the axis) with value and limits missing, the target's verdict and mark
    gone (a colour would tell met from not met) and a note saying so; the columns stay
    numeric."""
    rule = disclosure(rule)
    out = results.copy()
    small = suppressed_rows(out, rule, counts=counts, units=units)
    if small.any():
        for c in ["numerator", "value", "lower", "upper"]:
            if c in out.columns:
                out[c] = out[c].astype(float).where(~small)
        if "met" in out.columns:
            out["met"] = out["met"].astype("boolean").mask(small)
        if "verdict" in out.columns:
            out["verdict"] = out["verdict"].astype(object).where(~small, "suppressed")
        note = out["note"].fillna("").astype(str) if "note" in out.columns \
            else pd.Series("", index=out.index)
        out["note"] = note.where(~small, f"suppressed: 0-{rule.threshold} events or "
                                         "withheld to protect them")
    return out


_COUNT_LABELS = {
    "population": ("平均人口", "Mean population"),
    "births": ("出生", "Births"),
    "births_male": ("男", "Male"),
    "births_female": ("女", "Female"),
    "deaths": ("死亡", "Deaths"),
    "deaths_infant": ("婴儿死亡", "Infant deaths"),
    "births_compliant": ("政策内出生", "Compliant births"),
    "births_outside": ("政策外出生", "Births outside policy"),
}


def heading(period: object, language: str = "zh"):
    """A Markdown line naming the assessment period and its dates, for the top of a report.

    Examples
    --------
    >>> heading("2024Q3").data
    '**报告期：2024年第3季度**（2024-07-01 至 2024-09-30，92 天）'
    """
    from IPython.display import Markdown

    p = pr.parse(period)
    first, last = pr.start(p).date(), pr.end(p).date()
    if language == "zh":
        text = f"**报告期：{pr.label(p, 'zh')}**（{first} 至 {last}，{pr.days(p)} 天）"
    else:
        text = f"**Assessment period: {pr.label(p, 'en')}** ({first} to {last}, {pr.days(p)} days)"
    return Markdown(text)


#: Headings and explanations of the quarterly report, by section: (zh, en).
SECTIONS: Mapping[str, tuple[str, str]] = {
    "title": ("# 季度人口与生殖健康监测报告",
              "# Quarterly population and reproductive-health report"),
    "data": ("## 数据读取与校验\n\n读入的每一行或被使用，或注明原因后剔除。",
             "## Data loaded\n\nEvery row read is either used or set aside with a reason."),
    "counts": ("## 一、本期人口变动\n\n按月汇总至本期；人口为本期平均人口。最后一行为全县合计。"
               "政策外出生 = 出生 − 政策内出生。",
               "## 1. Counts for the period\n\nSummed over the months of the period; "
               "population is the mean over the period. The last row is the county. Births "
               "outside policy = births − compliant births."),
    "vital": ("## 二、出生率、死亡率、自然增长率与出生人口性别比\n\n"
              "比率以每千人年计（‰）；出生人口性别比为每100名女婴对应的男婴数。"
              "全县一行由汇总计数计算，而非乡镇比率的平均。",
              "## 2. Vital rates and sex ratio at birth\n\nRates are per 1000 person-years "
              "(‰); the sex ratio at birth is males per 100 females. The county row is "
              "computed from summed counts, never from township rates."),
    "all": ("## 三、全部指标\n\n本期各指标点值（区间见 Excel 表格）。",
            "## 3. Every indicator\n\nPoint values for the period (intervals are in the "
            "Excel workbook)."),
    "notes": ("## 区间方法与说明\n\n本报告中的范围均为下表所列方法的95%置信区间。"
              "基于不足10例事件的数值保留但注明“事件较少”（可合并数个季度，或参看全县数值）；"
              "有男婴而无女婴的性别比上限开放（值为∞）。",
              "## What each interval is, and figures with a note\n\nEvery range in this "
              "report is a 95 % confidence interval of the kind named below. A figure that "
              "rests on fewer than 10 events keeps its value with the note \"few events\" "
              "(pool several quarters, or read the county figure); a sex ratio with boys but "
              "no girls is open-ended (value ∞, upper end open)."),
    "targets": ("## 四、目标考核\n\n✓ 达标，✗ 未达标；95%区间跨越目标时加括号；— 无数据。"
                "名次区间及进入前三、后三的概率来自对计数的10,000次重抽；连续次数为连续处于后列的"
                "季度数（详见 target_attainment.ipynb）。\n\n"
                "95%名次置信集：该乡镇真实名次以不低于95%的概率落在其中；全表：所有乡镇的真实名次"
                "同时落在各自集合中。重抽名次范围及重抽占比描述计数重抽时名次的波动，并非置信集。"
                "一个季度的计数下置信集常为1–18：仅凭偶然即可改变排序；旁列为年初至今的合并结果。"
                "公开版中，若考核方案含以被抑制计数计算的目标，这些由重抽得出的列及年初至今的名次"
                "不予公布（用公布的随机种子重算可反推被抑制的计数）。",
                "## 4. Targets and league table\n\n✓ met, ✗ not met; in brackets where the "
                "95 % interval reaches the other side of the target; — no data. Rank "
                "intervals and the chances of being in the top or bottom three come from "
                "10,000 seeded redraws of the counts; the streak counts quarters running in "
                "the bottom tier (details in target_attainment.ipynb).\n\n"
                "95 % rank confidence set: the township's true rank lies in it with "
                "probability at least 95 %; joint: all townships' true ranks at once. The "
                "redraw rank range and the redraw shares are the spread of ranks when every "
                "count is redrawn, not confidence sets. At a quarter's counts the sets are "
                "often 1–18: chance alone could reorder the table; the year so far is pooled "
                "beside it. In a public edition, where the scheme scores a suppressed count, "
                "the columns made from redraws and the year-to-date rank are left out "
                "(re-run with the published seed, they would give the count away)."),
    "quality": ("## 五、数据质量\n\n本季度数据是否可信？✓ 未发现问题；✗ 严重、! 一般问题，"
                "附触发的数值；— 无法评估（该乡镇在检查窗口内未上报）。各项检查及其窗口见 "
                "data_quality.ipynb（含图表）；下表列出全部严重问题。",
                "## 5. Data quality\n\nCan this quarter's figures be trusted? ✓ nothing "
                "found; ✗ an extreme and ! a moderate flag with the figure that raised it; — "
                "not assessable (the township did not report for the check's window). The "
                "checks and their windows are described in data_quality.ipynb, which also "
                "shows the charts; below, every extreme flag."),
    "excel": ("## 表格导出\n\n本报告各表写入同一 Excel 工作簿（每表一页），图形另存为 PNG 文件，"
              "均与本报告同在一个文件夹。",
              "## Tables for Excel\n\nEvery table of this report is written to one Excel "
              "workbook (a sheet each) and every figure to a PNG file, in this report's "
              "folder."),
}

#: Sheet names of the report workbook: (zh, en).
SHEETS: Mapping[str, tuple[str, str]] = {
    "edition": ("版本", "edition"), "data": ("数据读取", "data loaded"),
    "counts": ("人口变动", "counts"),
    "vital": ("生命统计", "vital rates"), "indicators": ("全部指标", "indicators"),
    "methods": ("区间方法", "interval methods"), "notes": ("说明", "notes"),
    "attainment": ("目标考核", "attainment"), "league": ("排名", "league table"),
    "quality": ("数据质量", "data quality"), "flags": ("严重问题", "extreme flags"),
}


def edition_table(period: object, language: str = "zh",
                  disclosure: str | Disclosure = "public") -> pd.DataFrame:
    """One row saying what a workbook is: the report, its period and which disclosure mode
    made it (the words of :func:`disclosure_line`), for the first sheet.

    Examples
    --------
    >>> edition_table("2024Q3", "en", "internal").iloc[0, 1]
    'Internal edition, not for publication: every count is shown, small ones included.'
    """
    i = _language(language)
    line = disclosure_line(disclosure, language).data.replace("**", "")
    return pd.DataFrame({("报告期", "period")[i]: [pr.label(pr.parse(period), language)],
                         ("公开范围", "disclosure")[i]: [line]},
                        index=pd.Index([SECTIONS["title"][i].lstrip("# ")],
                                       name=("报告", "report")[i]))


def section(key: str, language: str = "zh"):
    """A heading and its explanation for the quarterly report, in ``language``.

    Raises
    ------
    ValueError
        An unknown section (the nearest name is suggested) or language.

    Examples
    --------
    >>> section("counts", "en").data.splitlines()[0]
    '## 1. Counts for the period'
    """
    from IPython.display import Markdown

    i = _language(language)
    if key not in SECTIONS:
        from .schema import suggestion

        raise ValueError(f"no report section {key!r}{suggestion(key, list(SECTIONS))}")
    return Markdown(SECTIONS[key][i])


def title(period: object, language: str = "zh", disclosure: str | Disclosure = "public"):
    """The top of the quarterly report: on its first line the disclosure mode
    (:func:`disclosure_line`), then the title and the period (:func:`heading`).

    Examples
    --------
    >>> title("2024Q3", "en").data.splitlines()[0].startswith("**Public edition**")
    True
    """
    from IPython.display import Markdown

    i = _language(language)
    return Markdown("\n\n".join([disclosure_line(disclosure, language).data,
                                 SECTIONS["title"][i], heading(period, language).data]))

def latest_complete_quarter(counts: pd.DataFrame) -> pd.Period:
    """Return the latest quarter in which every unit reported all three months.

    Raises
    ------
    ValueError
        If the counts are not monthly or no quarter is complete.
    """
    per = counts["period"]
    if per.dtype != "period[M]":
        raise ValueError("latest_complete_quarter needs monthly counts (period[M])")
    units = counts["unit"].nunique()
    q = per.dt.asfreq("Q")
    months = counts.assign(_q=q).groupby("_q", observed=True)["period"].nunique()
    rows = counts.assign(_q=q).groupby("_q", observed=True).size()
    complete = months[(months == 3) & (rows == 3 * units)]
    if complete.empty:
        raise ValueError("no quarter has all three months for every unit")
    return complete.index.max()


def load_summary(*frames: pd.DataFrame, language: str = "en") -> pd.DataFrame:
    """One row per loaded file: rows read, used and set aside (rows in = used + set aside).

    The file name is the index, so that no 0..n row number is shown. ``language='zh'``
    gives Chinese headers (文件, 读入行数, 使用行数, 剔除行数, 原因); the default keeps the
    English column names.
    """
    rows = []
    for f in frames:
        if "load_report" not in f.attrs:
            continue
        rep = load_report(f)
        rows.append({"file": Path(rep.file).name, "rows_in": rep.rows_in,
                     "rows_used": rep.rows_used, "set_aside": len(rep.skipped),
                     "reasons": "; ".join(sorted({why.split(":")[0] for _, why in rep.skipped}))})
    table = pd.DataFrame(rows, columns=["file", "rows_in", "rows_used", "set_aside", "reasons"])
    table = table.set_index("file")
    if _language(language) == 0:
        table = table.rename(columns={"rows_in": "读入行数", "rows_used": "使用行数",
                                      "set_aside": "剔除行数", "reasons": "原因"})
        table.index.name = "文件"
    return table


_rule = disclosure  # the tables' ``disclosure`` argument hides the function


def _name_map(units: pd.DataFrame) -> pd.Series:
    return units.set_index("unit")["name"]


def _names(unit: pd.Series, units: pd.DataFrame | None) -> pd.Series:
    """Unit names where ``units`` knows the code, else the code itself."""
    if units is None:
        return unit.astype(object)
    return unit.map(_name_map(units)).fillna(unit).astype(object)


def _unit_index(unit: pd.Series, units: pd.DataFrame | None, language: str) -> pd.Index:
    return pd.Index(_names(unit, units).to_numpy(dtype=object),
                    name="单位" if language == "zh" else "unit")


def _int_text(values: pd.Series, missing: str = "") -> np.ndarray:
    """Whole numbers as text (an object array), ``missing`` where there is none."""
    v = pd.to_numeric(values, errors="coerce").astype("Float64")
    text = v.fillna(0).round().astype("int64").astype(str).to_numpy(dtype=object)
    return np.where(v.isna().to_numpy(dtype=bool), missing, text).astype(object)


def _one_period(data: pd.DataFrame, what: str) -> None:
    if "period" in data.columns and data["period"].astype(str).nunique() > 1:
        found = ", ".join(sorted(data["period"].astype(str).unique()))
        raise ValueError(f"{what} shows one period; got {found}")


def _duplicates(data: pd.DataFrame, keys: list[str], what: str) -> None:
    dup = data.duplicated(keys, keep=False).to_numpy()
    if dup.any():
        first = [str(v) for v in data.loc[dup, keys].iloc[0].tolist()]
        raise ValueError(f"{what} needs one row per {' and '.join(keys)}; "
                         f"{'/'.join(first)} appears more than once")


def counts_table(counts: pd.DataFrame, units: pd.DataFrame, period: object, *,
                 columns: Sequence[str] = ("population", "births", "births_male",
                                           "births_female", "deaths", "deaths_infant",
                                           "births_compliant", "births_outside"),
                 language: str = "zh", disclosure: str | Disclosure = "public"
                 ) -> pd.DataFrame:
    """Counts of ``period`` per unit with the county total as the last row, for display.

    Monthly counts are rolled up to the period (flows summed, population day-weighted).
    ``births_outside`` is births minus compliant births. Population is rounded to whole
    people for display. The unit name is the index, the code the first column.

    With ``disclosure="public"`` (:func:`disclosure`), the report's plan (the rule's, or one
    made here for ``period``) decides: a sensitive count from 0 to the threshold (4) shows
    the mark (``"<5"``) in every row, the total included; compliant births beside 0-4 births
    outside policy show the withheld mark (``"[c]"``), since births minus them would give
    the count; a complementary cell (one that would give suppressed cells away by
    difference) shows ``"[c]"``. ``attrs["disclosure"]`` records what the table shows about
    each sensitive cell (:func:`audit`).

    Every unit at the counts' level has a row: one
    that did not report all of ``period`` shows missing counts and a note ("missing
    2024-08", "no counts"), and the total is then missing too, never a sum that silently
    lacks a unit. Empty counts give an empty table with the same columns.
    """
    period = pr.parse(period)
    rule = _rule(disclosure)
    if isinstance(columns, str):
        columns = [columns]
    derived = {"births_outside": {"births", "births_compliant"}}
    absent = [c for c in columns if c not in counts.columns
              and not (c == "births" and {"births_male", "births_female"} <= set(counts))
              and not (c in derived and derived[c] <= set(counts))]
    if absent:
        raise ValueError(f"counts_table: the counts have no column(s) {', '.join(absent)}")
    _check_numeric_counts(counts, [c for c in counts.columns if c in _COUNT_LABELS],
                          "counts_table")
    rolled = pr.rollup(counts, period, by=["unit"])
    if "births_outside" in columns:
        rolled["births_outside"] = rolled["births"] - rolled["births_compliant"]
    cols = [c for c in columns if c in rolled.columns]
    # what decides suppression, even where the count itself is not shown
    guard = [c for c in ("births", "births_compliant", "deaths_infant")
             if c in rolled.columns and c not in cols]
    # every unit of the counts' level(s) has a row, reported or not
    levels = set(units.loc[units["unit"].isin(set(counts["unit"])), "level"])
    expected = set(units.loc[units["level"].isin(levels), "unit"]) | set(rolled["unit"])
    rolled = rolled.set_index("unit").reindex(sorted(expected)).rename_axis("unit")
    rolled = rolled.reset_index()
    zh = language == "zh"
    absent = rolled["complete"].isna().to_numpy()
    note = np.where(absent, "无数据" if zh else "no counts",
                    np.where(rolled["complete"].fillna(True).astype(bool), "",
                             ("缺报 " if zh else "missing ")
                             + rolled["missing"].fillna("").astype(str)))
    table = rolled[["unit"] + cols + guard].copy()
    if len(table) and len(counts):
        # a unit that did not report leaves the total missing: never a total that
        # silently lacks a township
        total = table[cols + guard].sum(min_count=1, skipna=False).to_frame().T
        top = units.loc[units["parent"].isna(), "unit"]
        total.insert(0, "unit", top.iloc[0] if len(top) == 1 else "total")
        table = pd.concat([table, total], ignore_index=True)
        missing_units = int((note != "").sum())
        note = np.append(note, "" if not missing_units else f"{missing_units}个单位未报全"
                         if zh else f"{missing_units} unit(s) not reported in full")
    elif len(table):
        table = table.iloc[:0]
        note = note[:0]
    flows = [c for c in cols + guard if c != "population"]
    table[flows] = table[flows].astype("Int64")
    if "population" in table.columns:
        table["population"] = table["population"].astype(float).round().astype("Int64")
    table, records = _suppress_counts(table, cols, counts, units, period, rule)
    table = table.drop(columns=guard)
    i = 0 if language == "zh" else 1
    names = table["unit"].map(_name_map(units)).fillna(("合计", "Total")[i])
    table.index = pd.Index(names.to_numpy(dtype=object), name=("单位", "Unit")[i])
    table["note"] = pd.Series(note, dtype=object).to_numpy()
    labels = {"unit": ("代码", "Code")[i], "note": ("说明", "Note")[i]}
    labels.update({c: _COUNT_LABELS.get(c, (c, c))[i] for c in cols})
    table = table.rename(columns=labels)
    attach(table, records)
    return table


def _suppress_counts(table: pd.DataFrame, cols: list[str], counts: pd.DataFrame,
                     units: pd.DataFrame, period: object, rule: Disclosure
                     ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Marks in a counts table (unit codes in ``unit``, the total row's too) from the
    report's plan, or a plan of this period made here; and the table's records."""
    unit = table["unit"].astype(object).to_numpy()
    per = np.full(len(table), _label(period), dtype=object)
    values, shows = {}, {}
    if "deaths_infant" in rule.sensitive and "deaths_infant" in table.columns:
        values["deaths_infant"] = pd.to_numeric(table["deaths_infant"], errors="coerce") \
            .astype(float).to_numpy()
        shows["deaths_infant"] = ["deaths_infant"] if "deaths_infant" in cols else []
    if "births_outside" in rule.sensitive and {"births", "births_compliant"} <= set(table):
        values["births_outside"] = (pd.to_numeric(table["births"], errors="coerce")
                                    .astype(float) - pd.to_numeric(
                                        table["births_compliant"], errors="coerce")
                                    .astype(float)).to_numpy()
        shows["births_outside"] = [c for c in ("births_outside", "births_compliant")
                                   if c in cols]
    plan = rule.plan
    if rule.public and plan is None and values and len(table):
        plan = make_plan(counts, units, [period], threshold=rule.threshold,
                         protection=rule.protection, sensitive=list(values))
    records = []
    for c, v in values.items():  # two sensitive counts at most
        if plan is None or not rule.public:
            status = np.where(np.isnan(v), "missing", "shown").astype(object)
        else:
            status, planned = plan.lookup(c, unit, per)
            differ = ~np.isnan(v) & ~np.isnan(planned) & (v != planned)
            if differ.any():
                j = int(np.flatnonzero(differ)[0])
                raise ValueError(f"counts_table: {unit[j]} in {per[j]} has {v[j]:g} {c} but "
                                 f"the disclosure plan was made from counts with "
                                 f"{planned[j]:g}")
            if rule.plan is not None:
                _uncovered("counts_table", status, unit, per, ~np.isnan(v))
            # a cell the plan has as missing (or not at all) but these counts give: nothing
            # planned to publish it on, withheld as in publishable
            status = np.where(np.isin(status, ["absent", "missing"]), "unknown",
                              status).astype(object)
            status[np.isnan(v)] = "missing"
        if shows[c]:
            records.append(_records(status, v, np.full(len(v), c, dtype=object), unit, per,
                                    rule))
        hidden = np.isin(status, _HIDDEN)
        for col in shows[c]:
            mark = np.where((status == "primary") & (col != "births_compliant"), rule.mark,
                            rule.withheld)
            if hidden.any():
                table[col] = pd.Series(np.where(hidden, mark, table[col].astype(object)),
                                       index=table.index, dtype=object)
    rec = pd.concat(records, ignore_index=True) if records else knowledge(
        [], [], [], [], [], rule.threshold)
    return table, rec


def indicator_table(results: pd.DataFrame, units: pd.DataFrame | None = None, *,
                    indicators: Sequence[str] | None = None, language: str = "zh",
                    intervals: bool = True, disclosure: str | Disclosure = "public"
                    ) -> pd.DataFrame:
    """Long results -> a display table: one row per unit, value and limits per indicator.

    With ``disclosure="public"``, values resting on a suppressed sensitive count show the
    withheld mark (:func:`publishable`). Units keep the order they have in ``results``.

    Raises
    ------
    ValueError
        If a unit has two rows for one indicator (results of several periods, say): a
        display table shows each figure once and never averages them.
    """
    data = publishable(results, disclosure, units=units)
    records = recorded(data)
    for c in ["value", "lower", "upper"]:  # a column with marks is text: show 2 decimals
        if c in data.columns and data[c].dtype == object:
            data[c] = data[c].map(lambda v: _two_decimals(v) if isinstance(v, float) else v)
    if indicators is not None:
        absent = [k for k in indicators if k not in set(data["indicator"].astype(str))]
        if absent:
            raise ValueError(f"indicator_table: no results for {', '.join(map(str, absent))}")
        data = data[data["indicator"].isin(list(indicators))]
        shown = {_COUNT_OF[k] for k in indicators if k in _COUNT_OF}
        records = records[records["count"].isin(shown)].reset_index(drop=True)
    _duplicates(data, ["unit", "indicator"], "indicator_table")
    order = list(dict.fromkeys(data["indicator"]))
    fields = ["value", "lower", "upper"] if intervals else ["value"]
    wide = data.pivot(index="unit", columns="indicator", values=fields)
    wide = wide.reindex(pd.unique(data["unit"]))
    # columns without a mark are numbers again (object only because other rows had one)
    numeric = [c for c in wide.columns
               if pd.to_numeric(wide[c], errors="coerce").notna().sum() == wide[c].notna().sum()]
    wide[numeric] = wide[numeric].apply(pd.to_numeric, errors="coerce").astype(float)
    i = 0 if language == "zh" else 1
    names = {"value": ("值", "value"), "lower": ("下限", "lower"), "upper": ("上限", "upper")}
    cols = [(k, f) for k in order for f in fields]
    wide = wide.swaplevel(axis=1).reindex(columns=pd.MultiIndex.from_tuples(cols)
                                          if cols else None)
    wide.columns = pd.MultiIndex.from_tuples(
        [(_display_label(k, language), names[f][i]) for k, f in cols]) if cols \
        else pd.MultiIndex.from_tuples([], names=[None, None])
    if not intervals:  # one value per indicator: no second header row saying "value"
        wide.columns = wide.columns.get_level_values(0) if cols else pd.Index([], dtype=object)
    wide.index = _unit_index(pd.Series(wide.index, dtype=object), units, language)
    wide = _readable_gaps(wide)
    attach(wide, records)
    return wide


def _two_decimals(v: float) -> float:
    """A figure of a text column (one holding marks) as shown: two decimals, or two
    significant digits where two decimals would show a non-zero figure as 0 (a TFR lower
    limit of 0.0024 is not a bound of zero)."""
    r = round(v, 2)
    return float(f"{v:.2g}") if r == 0 and v != 0 and np.isfinite(v) else r


def _readable_gaps(wide: pd.DataFrame) -> pd.DataFrame:
    """A column with a missing or infinite figure shows "—" (no data, or a rate without a
    denominator: a third-child sex ratio where no third child was born) and "∞" (boys but
    no girls), not pandas' "NaN" and "inf"; its other figures keep two decimals."""
    out = wide.copy()
    for c in out.columns:
        values = out[c].to_numpy(dtype=object)
        is_float = np.array([isinstance(v, float) for v in values], dtype=bool)
        x = np.where(is_float, values, 0.0).astype(float)  # marks ("[c]") count as finite
        gap = ~np.isfinite(x)
        if not gap.any():
            continue
        text = np.where(np.isnan(x), "—", np.where(x > 0, "∞", "-∞")).astype(object)
        shown = [_two_decimals(v) if f else v for v, f in zip(values, is_float, strict=True)]
        out[c] = np.where(gap, text, np.asarray(shown, dtype=object))
    return out


_METHOD_TEXT = {
    "poisson_exact": ("精确泊松区间", "exact Poisson"),
    "poisson_byar": ("Byar 近似泊松区间", "Byar's Poisson approximation"),
    "mover_jeffreys": ("MOVER 法（Jeffreys 界限）", "MOVER with Jeffreys limits"),
    "normal": ("正态近似", "normal approximation"),
    "gamma": ("加权泊松和的伽马区间（Fay-Feuer）", "gamma interval (Fay-Feuer)"),
    "tiwari": ("伽马区间（Tiwari 修正）", "gamma interval (Tiwari)"),
    "delta": ("Delta 法", "delta method"),
    "clopper_pearson": ("精确二项区间（Clopper-Pearson）", "exact binomial (Clopper-Pearson)"),
    "wilson": ("Wilson 区间", "Wilson score"),
    "wilson_modified": ("修正 Wilson 区间", "modified Wilson"),
    "jeffreys": ("Jeffreys 区间", "Jeffreys"),
}


def method_table(results: pd.DataFrame, *, language: str = "zh") -> pd.DataFrame:
    """Which interval each indicator carries: one row per indicator with its method(s) and
    confidence level, so that a reader knows what each range in the report is.

    Examples
    --------
    >>> r = pd.DataFrame({"indicator": ["crude_birth_rate", "compliance_rate"],
    ...                   "method": ["poisson_exact", "clopper_pearson"], "confidence": 0.95})
    >>> method_table(r, language="en")
                                               interval  confidence
    indicator
    Crude birth rate (‰)                  exact Poisson        0.95
    Policy compliance (%)  exact binomial (Clopper-Pearson)        0.95
    """
    i = 0 if language == "zh" else 1
    data = results.assign(indicator=results["indicator"].astype(str),
                          method=results["method"].astype(str))
    rows = data.groupby("indicator", sort=False).agg(
        method=("method", lambda m: "、".join(_METHOD_TEXT.get(x, (x, x))[i]
                                               for x in pd.unique(m))),
        confidence=("confidence", "first"))
    rows.index = pd.Index([_display_label(k, language) for k in rows.index],
                          name=("指标", "indicator")[i])
    return rows.rename(columns={"method": ("区间方法", "interval")[i],
                                "confidence": ("置信水平", "confidence")[i]})


#: Chinese for the notes of :func:`fpanalysis.indicators.compute` and :func:`withhold`,
#: each applied to one "; "-separated part of a note: (pattern, replacement).
_NOTE_ZH = (
    (r"^not reported: empty count cells$", "未报：计数为空"),
    (r"^not reported: no counts for (.+)$", r"未报：\1无报表"),
    (r"^not reported: no counts$", "未报：无报表"),
    (r"^(not reported|partial): (\d+) of (\d+) months?, (.+) missing$",
     r"\1：应报\3个月，实报\2个月，缺\4"),
    (r"^(not reported|partial): (\d+) of (\d+) dekads?, (.+) missing$",
     r"\1：应报\3旬，实报\2旬，缺\4"),
    (r"^(not reported|partial): children missing: (.+)$", r"\1：缺下级单位 \2"),
    (r"^no person-years$", "人年数为0"),
    (r"^denominator is 0$", "分母为0"),
    (r"^numerator exceeds denominator$", "分子大于分母"),
    (r"^no births$", "无出生"),
    (r"^no female births: value infinite, upper end open$", "无女婴出生：比值为无穷大，上限不定"),
    (r"^no woman-years in an age group$", "有年龄组无育龄妇女人年"),
    (r"^few events: (\S+) births and deaths$", r"事件少：出生和死亡共\1例"),
    (r"^few events: (\S+) infant deaths$", r"事件少：婴儿死亡\1例"),
    (r"^few events: (\S+) births$", r"事件少：出生\1例"),
    (r"^few events: (\S+) deaths$", r"事件少：死亡\1例"),
    (r"^few events: (\S+) events$", r"事件少：\1例"),
    (r"^suppressed: 1-(\d+) events$", r"已隐去：1–\1例"),
    (r"^suppressed: 1-(\d+) infant deaths$", r"已隐去：婴儿死亡1–\1例"),
    (r"^suppressed: 1-(\d+) births outside policy$", r"已隐去：政策外出生1–\1例"),
)
_STATUS_ZH = {"not reported": "未报", "partial": "部分上报"}


def note_text(notes: pd.Series, language: str = "zh") -> np.ndarray:
    """The notes of indicator results in ``language``: the fixed English sentences of
    :func:`fpanalysis.indicators.compute` (and of :func:`withhold`) in Chinese for ``'zh'``,
    part by part (a note may join several with ``"; "``); a part no pattern knows stays as
    it is. Each distinct note is translated once.

    Examples
    --------
    >>> notes = ["few events: 7 births", "",
    ...          "partial: 2 of 3 months, 2024-08 missing; few events: 3 births"]
    >>> list(note_text(pd.Series(notes)))
    ['事件少：出生7例', '', '部分上报：应报3个月，实报2个月，缺2024-08；事件少：出生3例']
    """
    import re

    text = pd.Series(notes, dtype=object).fillna("").astype(str)
    if _language(language) == 1:
        return text.to_numpy(dtype=object)

    def one(note: str) -> str:
        parts = []
        for part in note.split("; "):
            for pattern, repl in _NOTE_ZH:
                new, n = re.subn(pattern, repl, part)
                if n:
                    part = new
                    break
            for en, zh in _STATUS_ZH.items():
                part = part.replace(f"{en}：", f"{zh}：")
            part = re.sub(r" ?\(([^()]*) missing\)", r"（缺\1）", part)
            parts.append(part)
        return "；".join(parts)

    uniq = pd.unique(text)
    return text.map(dict(zip(uniq, (one(u) for u in uniq), strict=True))).to_numpy(
        dtype=object)


def note_table(results: pd.DataFrame, units: pd.DataFrame | None = None, *,
               indicators: Sequence[str] | None = None, language: str = "zh",
               disclosure: str | Disclosure = "public") -> pd.DataFrame:
    """Every figure that comes with a note, one row each: not reported, partial, few events
    (the value stands but rests on fewer than 10 events: pool quarters or use the parent),
    an open-ended ratio, a suppressed cell. Figures without a note are left out;
    ``indicators`` keeps the table to those shown beside it.

    Examples
    --------
    >>> r = pd.DataFrame({"unit": ["a", "b"], "indicator": "crude_birth_rate",
    ...                   "numerator": [7.0, 40.0], "value": [9.3, 11.0],
    ...                   "note": ["few events: 7 births", ""]})
    >>> note_table(r, language="en")
                      indicator  value                  note
    unit
    a      Crude birth rate (‰)    9.3  few events: 7 births
    """
    i = 0 if language == "zh" else 1
    data = publishable(results, disclosure, language=language, units=units)
    if isinstance(indicators, str):  # one indicator, not its letters
        indicators = [indicators]
    if indicators is not None:
        absent = [k for k in indicators if k not in set(data["indicator"].astype(str))]
        if absent:
            raise ValueError(f"note_table: no results for {', '.join(map(str, absent))}")
        data = data[data["indicator"].astype(str).isin(list(indicators))]
    noted = data[data["note"].astype(str) != ""]
    records = recorded(data)
    if len(records):  # what the noted rows show
        keys = pd.DataFrame({"count": noted["indicator"].astype(str).map(_COUNT_OF),
                             "unit": noted["unit"].astype(object),
                             "period": noted["period"].map(_label) if "period" in noted
                             else ""}).dropna().drop_duplicates()
        records = records.merge(keys, on=["count", "unit", "period"])
    table = pd.DataFrame({
        ("指标", "indicator")[i]: [_display_label(str(k), language)
                                   for k in noted["indicator"]],
        ("值", "value")[i]: noted["value"].to_numpy(dtype=object),
        ("说明", "note")[i]: note_text(noted["note"], language),
    }, index=_unit_index(noted["unit"], units, language))
    attach(table, records)
    return table


def _english_name(key: str) -> str:
    """An indicator's English name, or the key where the registry does not know it."""
    try:
        return ind.label(key, "en")
    except (KeyError, ValueError):
        return key


def _display_label(key: str, language: str) -> str:
    return f"{ind.label(key, language)} ({ind.display_unit(key, language)})"


def test_table(results: pd.DataFrame, units: pd.DataFrame | None = None, *,
               indicator: str = "sex_ratio_at_birth", language: str = "zh") -> pd.DataFrame:
    """Display the exact test of a sex ratio against its reference, one row per unit.

    ``results`` come from :func:`fpanalysis.indicators.add_sex_ratio_test`. The unit name
    is the index.
    """
    data = results[results["indicator"] == indicator]
    i = 0 if language == "zh" else 1
    table = pd.DataFrame({
        ("男", "males")[i]: data["numerator"].astype("Int64").to_numpy(),
        ("女", "females")[i]: data["denominator"].astype("Int64").to_numpy(),
        ("性别比", "ratio")[i]: data["value"].to_numpy(),
        ("下限", "lower")[i]: data["lower"].to_numpy(),
        ("上限", "upper")[i]: data["upper"].to_numpy(),
        ("参照值", "reference")[i]: data["reference"].to_numpy(),
        ("P值", "p-value")[i]: data["p_value"].to_numpy(),
    }, index=_unit_index(data["unit"], units, language))
    return table


test_table.__test__ = False  # a table of tests, not a pytest test


def attainment_table(evaluated: pd.DataFrame, units: pd.DataFrame | None = None, *,
                     language: str = "zh", disclosure: str | Disclosure = "public",
                     counts: pd.DataFrame | None = None) -> pd.DataFrame:
    """Units x targets for one period: the value with a mark.

    ✓ met and (✓) met where the interval also reaches the other side of the target; ✗ not
    met and (✗) not met where the interval reaches the target; — without data; † a figure
    corrected by the audit re-checks before it was scored (:func:`audit_table` shows by how
    much). An empty ``evaluated`` (no target applies to the period) gives an empty table.

    With ``disclosure="public"`` a value resting on a suppressed sensitive cell (policy
    compliance with 0-4 births outside policy, infant mortality on 0-4 infant deaths, or a
    complement of the report's plan) shows the withheld mark without the target's mark
    (``"[c]"``: ✓ or ✗ would tell on which side of the target the count lies); the rule's
    plan, or ``counts`` (with ``units``), tell which; without them every sensitive value is
    withheld. ``attrs["disclosure"]`` records what the table shows (:func:`audit`).

    Raises
    ------
    ValueError
        If ``evaluated`` holds several periods or two rows for one unit and target.

    Examples
    --------
    >>> ev = pd.DataFrame({"unit": ["a", "a", "b", "b"], "period": "2024Q3",
    ...                    "target": [1, 2, 1, 2], "indicator": ["x", "y", "x", "y"],
    ...                    "label": "", "value": [91.04, 2.0, 80.0, float("nan")],
    ...                    "met": pd.array([True, False, False, None], dtype="boolean"),
    ...                    "verdict": ["clearly_met", "indeterminate", "clearly_not_met",
    ...                                "no_data"]})
    >>> attainment_table(ev, language="en")
               x      y
    unit
    a     91.0 ✓  2.0 (✗)
    b     80.0 ✗      —
    >>> empty = attainment_table(ev.iloc[:0], language="en")
    >>> empty.shape, empty.columns.name
    ((0, 0), 'no target of the scheme applies to this period')
    """
    _one_period(evaluated, "attainment_table")
    _duplicates(evaluated, ["unit", "target"], "attainment_table")
    data = evaluated.copy()
    met = data["met"].fillna(False).astype(bool).to_numpy()
    unsure = (data["verdict"] == "indeterminate").to_numpy()
    mark = np.where(met, np.where(unsure, "(✓)", "✓"), np.where(unsure, "(✗)", "✗"))
    value = data["value"].to_numpy(dtype=float)
    text = np.char.mod("%.1f", np.nan_to_num(value)).astype(object)
    rule = _rule(disclosure)
    status, events, count = _statuses(data, rule, counts=counts, units=units,
                                      what="attainment_table")
    hidden = np.isin(status, _HIDDEN) if rule.public else np.zeros(len(data), dtype=bool)
    not_reported = data["not_reported"].to_numpy(dtype=bool) if "not_reported" in data \
        else np.zeros(len(data), dtype=bool)
    absent = np.where(not_reported, ("未报", "not reported")[language != "zh"], "—")
    if "uncorrected_value" in data.columns:  # figures the audits changed carry a dagger
        before = data["uncorrected_value"].to_numpy(dtype=float)
        changed = np.isfinite(before) & ~np.isclose(before, value, rtol=1e-12, atol=0)
        text = np.where(changed, text + "†", text)
    cell = np.where(data["met"].isna().to_numpy(), absent, text + " " + mark.astype(object))
    cell = np.where(hidden, rule.withheld, cell)
    data["cell"] = pd.Series(cell, index=data.index, dtype=object)
    records = _result_records(data, np.where(data["met"].isna().to_numpy(), "missing",
                                             status).astype(object), events, count, rule)
    english = pd.Series([_english_name(k) for k in data["indicator"].astype(str)],
                        index=data.index, dtype=object)
    data["column"] = data["label"].where((data["label"] != "") & (language == "zh"),
                                         english)
    order = list(dict.fromkeys(data.sort_values("target")["column"]))
    wide = data.pivot(index="unit", columns="column", values="cell")
    wide = wide.reindex(index=pd.unique(data["unit"]), columns=order)
    wide.index = _unit_index(pd.Series(wide.index, dtype=object), units, language)
    wide.columns = pd.Index(list(wide.columns), dtype=object)
    attach(wide, records)
    return _no_target(wide, evaluated.empty, language)


def audit_table(evaluated: pd.DataFrame, units: pd.DataFrame | None = None, *,
                language: str = "zh") -> pd.DataFrame:
    """What the audit re-checks did to each unit's assessment in one period (from
    :func:`fpanalysis.targets.assess` with ``audits=``): per ``[[audit]]`` table, the false
    cases found among those re-checked with the points deducted (否决 where the false share
    vetoed the unit; 未核查 not audited, no deduction), then each figure the audits
    corrected before scoring, as reported → corrected.

    Raises
    ------
    ValueError
        If ``evaluated`` holds several periods, or has no audit rows (the scheme has no
        ``[[audit]]`` table, or ``assess`` was called without ``audits=``).
    """
    _one_period(evaluated, "audit_table")
    if "scoring" not in evaluated.columns or not (evaluated["scoring"] == "audit").any():
        raise ValueError("audit_table needs results of targets.assess(..., audits=) under a "
                         "scheme with [[audit]] tables; these have no audit rows")
    i = 0 if language == "zh" else 1
    rows = evaluated[evaluated["scoring"] == "audit"].copy()
    checked = rows["audit_checked"].to_numpy(dtype=float)
    found = rows["audit_false_found"].to_numpy(dtype=float)
    lost = rows["audit_deduction"].to_numpy(dtype=float)
    veto = rows["audit_veto"].fillna(False).to_numpy(dtype=bool)
    word = ("查实虚报{f:.0f}/{c:.0f}，扣{d:g}分", "{f:.0f} false of {c:.0f}, -{d:g}")[i]
    none = ("查实虚报0/{c:.0f}，不扣分", "0 false of {c:.0f}, no deduction")[i]
    text = np.array([(none.format(c=c) if f == 0 else word.format(f=f, c=c, d=d))
                     if np.isfinite(c) and c > 0 else ("未核查", "not audited")[i]
                     for f, c, d in zip(found, checked, lost, strict=True)], dtype=object)
    text = np.where(veto, text + ("，否决", ", veto")[i], text)
    if "not_reported" in rows.columns:  # no report, no audit points, whatever was found
        gone = rows["not_reported"].fillna(False).to_numpy(dtype=bool)
        text = np.where(gone, ("未上报，不计分", "not reported, no points")[i], text)
    rows["cell"] = text
    rows["column"] = rows["label"].where(rows["label"] != "", rows["indicator"])
    wide = rows.pivot(index="unit", columns="column", values="cell")
    wide = wide.reindex(index=pd.unique(rows["unit"]),
                        columns=list(dict.fromkeys(rows.sort_values("target")["column"])))
    fixed = evaluated[evaluated.get("audit_corrected", pd.Series(False, index=evaluated.index))
                      .fillna(False).to_numpy(dtype=bool)]
    if len(fixed):
        fixed = fixed.drop_duplicates(["unit", "indicator"])
        cell = [f"{a:.1f} → {b:.1f}" for a, b in zip(fixed["uncorrected_value"],
                                                      fixed["value"], strict=True)]
        corr = pd.DataFrame({"unit": fixed["unit"].to_numpy(), "cell": cell,
                             "column": fixed["indicator"].map(
                                 lambda k: ind.label(k, language)).to_numpy()
                             + ("（核查修正）", " (corrected)")[i]})
        wide = wide.join(corr.pivot(index="unit", columns="column", values="cell"))
    wide.index = _unit_index(pd.Series(wide.index, dtype=object), units, language)
    wide.columns = pd.Index(list(wide.columns), dtype=object)
    return wide.fillna("—")


def _no_target(table: pd.DataFrame, empty: bool, language: str) -> pd.DataFrame:
    """An empty assessment table says why it is empty in its header."""
    if empty:
        table.columns.name = ("本期无适用的考核目标" if language == "zh"
                              else "no target of the scheme applies to this period")
    return table


_LEAGUE_NEEDS = ["unit", "period", "score", "rank", "draw_rank_lower", "draw_rank_upper",
                 "rank_set_lower", "rank_set_upper", "joint_rank_set_lower",
                 "joint_rank_set_upper", "p_top", "p_bottom"]


def _span(data: pd.DataFrame, lower: str, upper: str) -> np.ndarray:
    return _int_text(data[lower]) + "–" + _int_text(data[upper])


def league_table(uncertainty: pd.DataFrame, scores: pd.DataFrame | None = None,
                 units: pd.DataFrame | None = None, *, pooled: pd.DataFrame | None = None,
                 language: str = "zh", disclosure: str | Disclosure = "public",
                 evaluated: pd.DataFrame | None = None,
                 counts: pd.DataFrame | None = None) -> pd.DataFrame:
    """The league table: score, rank, the 95 % rank confidence sets, the spread of ranks under
    redraws and the share of redraws in the top / bottom tier, with the tier and bottom-tier
    streak where ``scores`` (from :func:`targets.assess`) are given.

    Columns (zh / en), from :func:`fpanalysis.targets.rank_uncertainty`:

    * 95%名次置信集 / 95% rank confidence set: ``rank_set_lower``–``rank_set_upper``, the
      unit's true rank lies in it with probability >= 95 %;
    * 全表95%名次置信集 / 95% joint rank set: ``joint_rank_set_*``, all units' true ranks lie
      in their sets at once with probability >= 95 %;
    * 重抽名次范围 / redraw rank range: ``draw_rank_lower``–``draw_rank_upper``, 2.5–97.5 % of
      the ranks under redraws; a description of the spread, not a confidence set;
    * 重抽前列占比% / 重抽后列占比% (top k in redraws % / bottom k in redraws %).

    ``pooled``, a :func:`~fpanalysis.targets.rank_uncertainty` of a longer period (e.g. the
    year to date), adds that period's rank and 95 % rank confidence set beside the
    period's, headed with its label: a set as wide as 1–18 over a quarter often narrows
    over the year.

    The unit name is the index. Where ``scores`` have no row for a unit's period the
    targets met show —. An empty ``uncertainty`` gives an empty table with the columns.

    **Disclosure.** A score is a sum of points, so it tells whether each target was met:
    beside the attainment table (where a target on a suppressed count shows ``"[c]"``), the
    score or the targets met would give that withheld mark away. With a public rule
    (the default) the table needs ``evaluated`` (the period's :func:`targets.assess`
    output) and the rule's plan or ``counts`` (with ``units``), and applies this rule:

    * A unit's status on a withheld target (a sensitive indicator whose cell the plan
      suppresses, :func:`suppressed_rows`) is *uninformative* when every count the reader
      allows gives the same met / not met: 0..min(k, births) births outside policy or 0..k
      infant deaths for a ``"<5"`` (or masked) cell, k+1..births (or up) for a complement,
      0..births for a count that cannot be told (the met of a target is monotone in the
      count, so the two ends decide); a target scored otherwise than all-or-nothing or veto
      (linear, per event) is informative whenever the band holds two counts. Units whose
      withheld targets are all uninformative are published as they are.
    * A unit with an informative withheld target (a *withheld unit*) shows ``"[c]"`` for its
      score, targets met, rank, rank sets, redraw range and shares, tier, bottom streak,
      veto flag and pooled rank and set.
    * Its possible scores run from its score minus the weighted points its withheld
      targets earned to its score plus the weighted points they could still earn. Another
      unit of the same veto group whose score lies in that range (ends included) could
      rank either side of it: its tier, bottom streak, rank sets, redraw range and shares
      show ``"[c]"`` too (they depend on the withheld unit's place). A unit outside every
      such range keeps its rank relative to the withheld units whatever their status, so
      what it shows is the same under every status (the residual: its redraw figures are
      computed with the withheld unit's score in the field). Where the withheld target is a
      veto, every vetoed unit and every unit scoring at most the withheld unit's highest
      possible score is affected too (the withheld unit could change veto group).
    * If an affected unit exists the rank column ranks the published units among
      themselves (header "名次（在公布得分的单位中）" / "rank among the units whose score is
      published"): the original ranks would place the withheld unit by the gap it leaves.
      Otherwise the original ranks stay (the gap is the same under every status).

    ``disclosure="internal"`` shows everything (the office's own use).

    Raises
    ------
    ValueError
        If ``uncertainty`` or ``pooled`` lacks a column of :func:`targets.rank_uncertainty`
        (an older result without the rank confidence sets), or ``pooled`` spans several
        periods or repeats a unit; a public rule without ``evaluated``, or ``evaluated``
        without a row of the table's period.
    """
    missing = [c for c in _LEAGUE_NEEDS if c not in uncertainty.columns]
    if missing:
        raise ValueError("league_table needs the output of targets.rank_uncertainty; "
                         f"missing columns {missing}")
    _one_period(uncertainty, "league_table")
    data = uncertainty.copy()
    pooled_cols: list[str] = []
    if scores is not None:
        extra = scores[["unit", "period", "met", "targets", "tier", "streak"]].assign(
            period=scores["period"].astype(str), unit=scores["unit"].astype(object))
        data = data.assign(unit=data["unit"].astype(object), period=data["period"].astype(str))
        data = data.merge(extra, on=["unit", "period"], how="left", validate="many_to_one")
    i = 0 if language == "zh" else 1
    table = pd.DataFrame({
        ("名次", "rank")[i]: data["rank"].to_numpy(),
        ("得分", "score")[i]: data["score"].to_numpy(),
        ("95%名次置信集", "95% rank confidence set")[i]:
            _span(data, "rank_set_lower", "rank_set_upper"),
        ("全表95%名次置信集", "95% joint rank set")[i]:
            _span(data, "joint_rank_set_lower", "joint_rank_set_upper"),
        ("重抽名次范围", "redraw rank range")[i]:
            _span(data, "draw_rank_lower", "draw_rank_upper"),
        ("重抽前列占比%", "top k in redraws %")[i]: (100 * data["p_top"]).round(1).to_numpy(),
        ("重抽后列占比%", "bottom k in redraws %")[i]:
            (100 * data["p_bottom"]).round(1).to_numpy(),
    }, index=_unit_index(data["unit"], units, language))
    if pooled is not None:
        gone = [c for c in _LEAGUE_NEEDS if c not in pooled.columns]
        if gone:
            raise ValueError("league_table needs the output of targets.rank_uncertainty as "
                             f"pooled; missing columns {gone}")
        label = pooled["period"].astype(str).unique()
        if len(label) > 1:
            raise ValueError(f"league_table pools one period; got {', '.join(sorted(label))}")
        if pooled["unit"].astype(str).duplicated().any():
            raise ValueError("league_table needs one pooled row per unit")
        other = pooled.assign(unit=pooled["unit"].astype(str)).set_index("unit").reindex(
            data["unit"].astype(str))
        name = label[0] if len(label) else ("合并期", "pooled")[i]  # no target applies
        pooled_cols = [(f"{name}名次", f"{name} rank")[i],
                       (f"{name} 95%名次置信集", f"{name} 95% rank confidence set")[i]]
        table[(f"{name}名次", f"{name} rank")[i]] = _int_text(other["rank"], "—")
        table[(f"{name} 95%名次置信集", f"{name} 95% rank confidence set")[i]] = np.where(
            other["rank_set_lower"].isna().to_numpy(dtype=bool), "—",
            _span(other, "rank_set_lower", "rank_set_upper"))
    if "not_reported" in data:
        table[("未报", "not reported")[i]] = np.where(
            data["not_reported"].to_numpy(dtype=bool), ("是", "yes")[i], "")
    if "vetoed" in data:  # ranked last whatever the points; p_vetoed: how sure that is
        table[("否决", "vetoed")[i]] = np.where(
            data["vetoed"].to_numpy(dtype=bool), ("是", "yes")[i], "")
    if scores is not None:
        met, of = _int_text(data["met"]), _int_text(data["targets"])
        table[("达标项", "targets met")[i]] = np.where(data["met"].isna().to_numpy(dtype=bool),
                                                     "—", met + "/" + of)
        tier_names = {"top": ("前列", "top")[i], "bottom": ("后列", "bottom")[i], "": ""}
        table[("梯队", "tier")[i]] = data["tier"].map(tier_names).to_numpy()
        table[("连续后列期数", "bottom streak")[i]] = data["streak"].astype("Int64").to_numpy()
    rule = _rule(disclosure)
    if rule.public and len(data) and evaluated is not None and len(evaluated) == 0:
        # the table ranks units on targets that evaluated does not show
        raise ValueError(f"league_table in a public report: evaluated is empty, but the "
                         f"table ranks {len(data)} unit(s) in {data['period'].iloc[0]}; pass "
                         "the period's targets.assess output (a selection that matched "
                         "nothing cannot tell which scores would give a withheld target away)")
    # the indicators the scores rest on (rank_uncertainty records them), else evaluated's
    scored = {k for f in (uncertainty, pooled) if f is not None
              for k in f.attrs.get("indicators", ())}
    hidden = redraws_hidden(rule, evaluated) or (
        rule.public and bool(scored & set(rule.indicators())))
    if not hidden:
        for name, frame in (("uncertainty", uncertainty), ("pooled", pooled)):
            if frame is not None and "draws" in frame and (frame["draws"] == 0).any():
                raise ValueError(
                    f"league_table: {name} was made with draws=0 (no redraws), but this "
                    "table shows the rank sets and redraw figures; give rank_uncertainty "
                    "draws (default 10000), or use report.league, which knows when they "
                    "are left out")
    if rule.public:
        table = _withhold_league(table, data, rule, evaluated, counts, units, pooled_cols, i)
        table = _drop_redraws(table, hidden, pooled_cols, i)
    return _no_target(table, uncertainty.empty, language)


def redraws_hidden(disclosure: str | Disclosure, evaluated: pd.DataFrame | None,
                   scheme=None, periods: Sequence[object] = ()) -> bool:
    """Whether :func:`league_table` leaves out every figure made from redraws: in a public
    edition where the scheme has a target on a sensitive count in the periods ranked
    (``evaluated``, the period's :func:`targets.assess` output, holds one, or the
    ``scheme`` has one applying to one of ``periods``); see :func:`_drop_redraws`."""
    rule = _rule(disclosure)
    if not rule.public:
        return False
    sensitive = set(rule.indicators())
    if scheme is not None and any(str(t.indicator) in sensitive for p in periods
                                  for t in scheme.applicable(pr.parse(p))):
        return True
    if evaluated is None or len(evaluated) == 0:
        return False
    return bool(evaluated["indicator"].astype(str).isin(sensitive).any())


def league(counts: pd.DataFrame, scheme, period: object, *,
           values: pd.DataFrame | None = None, units: pd.DataFrame | None = None,
           scores: pd.DataFrame | None = None, evaluated: pd.DataFrame | None = None,
           pooled: object = None, language: str = "zh",
           disclosure: str | Disclosure = "public", draws: int = 10_000,
           seed: int = 20241) -> pd.DataFrame:
    """The league table of ``period`` from the counts: :func:`targets.rank_uncertainty` of
    the period (and of the ``pooled`` period, e.g. the year to date, for its rank beside
    the period's) passed to :func:`league_table` with ``scores``, ``evaluated`` and the rule.

    Where the table shows no figure made from redraws (:func:`redraws_hidden`: a public
    edition of a scheme with a target on a sensitive count), none is made: the period is
    ranked on its observed scores (``draws=0``) and the pooled period, whose columns the
    table leaves out too, is not ranked; nor is a pooled period one of whose own targets
    (a year-to-date target, say) is on a sensitive count. The table is the same as with the
    redraws made and dropped; the report saves their cost (0.3 s a period at county scale).

    Parameters
    ----------
    counts, scheme, period, values, units
        As for :func:`targets.rank_uncertainty`.
    scores, evaluated, language, disclosure
        As for :func:`league_table`.
    pooled : period label, optional
        A longer period to rank beside ``period``.
    draws, seed
        Redraws where the table shows them (at least 100) and their seed.
    """
    from . import targets as tg

    if isinstance(pooled, pd.DataFrame):
        raise TypeError(f"league: pooled is a period label (e.g. '2024' or '2024-01/2024-09'), "
                        f"not {type(pooled).__name__}; for a rank_uncertainty result use "
                        "league_table")
    # the same checks whether or not the redraws are made
    if isinstance(draws, bool) or not isinstance(draws, int | np.integer) or draws < 100:
        raise ValueError(f"league: draws must be a whole number of at least 100 (the redraws "
                         f"made where the table shows them; none are made where it does "
                         f"not), got {draws!r}")
    p = pr.parse(period)
    if pooled is not None:
        check_period(counts, pr.parse(pooled), source="the counts (pooled)")
    hidden = redraws_hidden(disclosure, evaluated, scheme, [p])
    uncertainty = tg.rank_uncertainty(counts, scheme, period=period, values=values,
                                      units=units, draws=0 if hidden else int(draws),
                                      seed=seed)
    # the pooled period is ranked only where its redraws can be shown: none of its targets
    # (a year-to-date target too) on a sensitive count
    ranked = None if pooled is None or hidden or redraws_hidden(
        disclosure, None, scheme, [pooled]) else tg.rank_uncertainty(
        counts, scheme, period=pooled, values=values, units=units, draws=int(draws),
        seed=seed)
    return league_table(uncertainty, scores, units, pooled=ranked, language=language,
                        disclosure=disclosure, evaluated=evaluated, counts=counts)


#: League columns computed from redraws of every count (zh, en).
_REDRAW_COLUMNS = (("95%名次置信集", "95% rank confidence set"),
                   ("全表95%名次置信集", "95% joint rank set"),
                   ("重抽名次范围", "redraw rank range"),
                   ("重抽前列占比%", "top k in redraws %"),
                   ("重抽后列占比%", "bottom k in redraws %"))


def _drop_redraws(table: pd.DataFrame, hidden: bool, pooled: list[str], i: int
                  ) -> pd.DataFrame:
    """A public league table without the figures made from redraws (rank sets, redraw
    ranges and shares, the pooled period's rank and set) where the scheme has a target on a
    sensitive count: the redraws start from the true counts, suppressed ones included, so
    with the published seed a reader could re-run them for each value of a suppressed count
    and see which reproduces the published shares (this session's second adversarial pass:
    东林镇's bottom-tier share in 2024Q4 was 12.2, 13.5, 14.3, 17.7 or 21.6 % as its births
    outside policy were 0-4; the published 17.7 gave 3). The internal edition keeps them."""
    if table.empty or not hidden:
        return table
    gone = [c[i] for c in _REDRAW_COLUMNS] + list(pooled)
    return table.drop(columns=[c for c in gone if c in table.columns])


_LEAGUE_OPS = {">=": np.greater_equal, "<=": np.less_equal, ">": np.greater, "<": np.less}


def _informative(evaluated: pd.DataFrame, rule: Disclosure, counts: pd.DataFrame | None,
                 units: pd.DataFrame | None, period: str) -> pd.DataFrame:
    """Rows of ``evaluated`` (one period) on a withheld sensitive target whose met / not met
    tells something about the suppressed count (see :func:`league_table`)."""
    sens = evaluated["indicator"].astype(str).isin(rule.indicators()).to_numpy(dtype=bool)
    rows = evaluated[sens & evaluated["met"].notna().to_numpy(dtype=bool)]
    if rows.empty:
        return rows.assign(informative=np.zeros(0, dtype=bool))
    status, _, count = _statuses(rows, rule, counts=counts, units=units, what="league_table")
    births = pd.Series(np.nan, index=pd.Index(pd.unique(rows["unit"]), dtype=object))
    if counts is not None:
        b = sensitive_counts(counts, period, units, births=True)
        if "births" in b.columns:
            births = b["births"].reindex(births.index)
    elif rule.plan is not None:
        c = rule.plan.cells
        c = c[(c["count"] == "births_outside") & (c["period"] == _label(period))]
        births = c.set_index("unit")["cap"].reindex(births.index)
    n_births = births.reindex(rows["unit"].astype(object)).to_numpy(dtype=float)
    k = float(rule.threshold)
    cap = np.where(count == "births_outside", n_births, np.inf)
    lo = np.select([np.isin(status, ["primary", "masked"]), status == "complement"],
                   [0.0, k + 1], 0.0)
    hi = np.select([np.isin(status, ["primary", "masked"])], [np.fmin(k, cap)], cap)
    hidden = np.isin(status, _HIDDEN)

    def rate(n: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(count == "births_outside", (n_births - n) / n_births * 100.0,
                            n / n_births * 1000.0)

    op = rows["op"].astype(str).to_numpy()
    thr = rows["threshold"].to_numpy(dtype=float)
    known_op = np.isin(op, list(_LEAGUE_OPS))
    met_lo, met_hi = np.zeros(len(rows), dtype=bool), np.zeros(len(rows), dtype=bool)
    for o, f in _LEAGUE_OPS.items():  # four operators
        at = op == o
        with np.errstate(invalid="ignore"):
            met_lo[at] = f(rate(lo)[at], thr[at])
            met_hi[at] = f(rate(hi)[at], thr[at])
    steady = known_op & (met_lo == met_hi) & np.isfinite(rate(lo)) & np.isfinite(rate(hi))
    steady |= lo >= hi  # one count only: nothing to tell
    # met or not decides the points (and a veto the unit's place): nothing else to tell
    step = rows["scoring"].astype(str).isin(["all_or_nothing", "veto"]).to_numpy() \
        if "scoring" in rows.columns else np.zeros(len(rows), dtype=bool)
    informative = hidden & ~((steady & step) | (lo >= hi))
    return rows.assign(informative=informative)


def _withhold_league(table: pd.DataFrame, data: pd.DataFrame, rule: Disclosure,
                     evaluated: pd.DataFrame | None, counts: pd.DataFrame | None,
                     units: pd.DataFrame | None, pooled: list[str], i: int) -> pd.DataFrame:
    """The public league table (:func:`league_table`, "Disclosure")."""
    if data.empty:
        return table
    if evaluated is None:
        raise ValueError("league_table in a public report needs evaluated= (the period's "
                         "targets.assess output) to tell which scores would give a withheld "
                         "target away; disclosure='internal' shows everything")
    period = str(data["period"].iloc[0])
    ev = evaluated[evaluated["period"].map(_label) == _label(period)]
    if ev.empty and not evaluated.empty:
        found = ", ".join(sorted(evaluated["period"].astype(str).unique()))
        raise ValueError(f"league_table: evaluated has no row of {period}; got {found}")
    if ev.empty:
        return table
    rows = _informative(ev, rule, counts, units, period)
    bad = rows[rows["informative"]]
    if bad.empty:
        return table
    unit = data["unit"].astype(str).to_numpy(dtype=object)  # codes compared as text
    withheld = np.isin(unit, pd.unique(bad["unit"].astype(str)))
    # the range of scores each withheld unit could have under another status
    w = bad["weight"].to_numpy(dtype=float)
    could = bad.assign(down=bad["earned"].to_numpy(dtype=float) * w,
                       up=(bad["points"].to_numpy(dtype=float)
                           - bad["earned"].to_numpy(dtype=float)) * w)
    moves = could.groupby(could["unit"].astype(str))[["down", "up"]].sum()
    score = data["score"].to_numpy(dtype=float)
    vetoed = data["vetoed"].fillna(False).to_numpy(dtype=bool) if "vetoed" in data \
        else np.zeros(len(data), dtype=bool)
    # units whose veto could go either way: they could join the other veto group
    flips = set(bad.loc[bad["scoring"].astype(str) == "veto", "unit"].astype(str))
    affected = withheld | np.isnan(score)
    for j in np.flatnonzero(withheld):  # a few withheld units
        d, u = moves.loc[unit[j]]
        top = score[j] + u + 1e-9
        inside = (score >= score[j] - d - 1e-9) & (score <= top) & (vetoed == vetoed[j])
        if unit[j] in flips:  # every vetoed unit moves; unvetoed ones it could pass too
            inside |= vetoed | (score <= top)
        affected |= inside
    out = table.astype(object)
    c = rule.withheld
    place = [("95%名次置信集", "95% rank confidence set"), ("全表95%名次置信集",
             "95% joint rank set"), ("重抽名次范围", "redraw rank range"),
             ("重抽前列占比%", "top k in redraws %"), ("重抽后列占比%", "bottom k in redraws %"),
             ("梯队", "tier"), ("连续后列期数", "bottom streak")]
    for name in place:
        if name[i] in out.columns:
            out.loc[affected, name[i]] = c
    own = [("得分", "score"), ("达标项", "targets met"), ("否决", "vetoed")]
    for name in own:
        if name[i] in out.columns:
            out.loc[withheld, name[i]] = c
    for col in pooled:  # the withheld unit's rank over the longer period
        out.loc[withheld, col] = c
    rank_col = ("名次", "rank")[i]
    if (affected & ~withheld).any():
        shown = ~withheld
        order = pd.Series(data["rank"].to_numpy(dtype=float)[shown])
        new = np.full(len(out), c, dtype=object)
        new[shown] = order.rank(method="min").astype(int).to_numpy(dtype=object)
        out[rank_col] = new
        out = out.rename(columns={rank_col: ("名次（在公布得分的单位中）",
                                             "rank among the units whose score is "
                                             "published")[i]})
    else:
        out.loc[withheld, rank_col] = c
    # the withheld units' rows go last, in code order: in rank order a row's place would
    # tell its score (between the published scores above and below it)
    pos = np.arange(len(out))
    code = data["unit"].astype(str).to_numpy()
    held = pos[withheld][np.argsort(code[withheld], kind="stable")]
    return out.iloc[np.concatenate([pos[~withheld], held])]


def tier_table(scores: pd.DataFrame, units: pd.DataFrame | None = None, *,
               language: str = "zh") -> pd.DataFrame:
    """Units x periods: score and rank, marked ▲ in the top tier and ▼ in the bottom tier
    with the run of consecutive bottom-tier periods (▼3 = third period running), and 否决
    (vetoed) where a veto target failed.

    An empty ``scores`` gives an empty table.

    Raises
    ------
    ValueError
        If a unit has two rows for one period.

    Examples
    --------
    >>> s = pd.DataFrame({"unit": ["a", "b", "a", "b"],
    ...                   "period": ["2024Q1", "2024Q1", "2024Q2", "2024Q2"],
    ...                   "score": [90.0, 72.5, 60.0, 80.0], "rank": [1, 2, 2, 1],
    ...                   "tier": ["top", "bottom", "bottom", "top"], "streak": [0, 1, 1, 0]})
    >>> tier_table(s, language="en")
                 2024Q1     2024Q2
    unit
    a         90 (1) ▲  60 (2) ▼1
    b     72.5 (2) ▼1     80 (1) ▲
    """
    _duplicates(scores, ["unit", "period"], "tier_table")
    data = scores.copy()
    mark = np.where(data["tier"] == "top", " ▲",
                    np.where(data["tier"] == "bottom",
                             " ▼" + _int_text(data["streak"]), "")).astype(object)
    if "vetoed" in data.columns:  # a veto puts the unit at the bottom whatever its points
        mark = mark + np.where(data["vetoed"].to_numpy(dtype=bool),
                               (" 否决", " vetoed")[language != "zh"], "")
    score = np.array([f"{round(v, 1):g}" for v in data["score"].to_numpy(dtype=float)],
                     dtype=object)
    rank = _int_text(data["rank"], "—")
    data["cell"] = pd.Series(score + " (" + rank + ")" + mark.astype(object),
                             index=data.index, dtype=object)
    data["period"] = data["period"].astype(str)
    wide = data.pivot(index="unit", columns="period", values="cell")
    wide = wide.reindex(columns=sorted(wide.columns, key=pr.parse))
    wide.index = _unit_index(pd.Series(wide.index, dtype=object), units, language)
    wide.columns = pd.Index(list(wide.columns), dtype=object)
    return wide


def milestone_table(evaluated: pd.DataFrame, units: pd.DataFrame | None = None, *,
                    language: str = "zh") -> pd.DataFrame:
    """Progress against the annual plan: units x periods, the share of the plan done since
    January with the share due by then and a mark (✓ met, ✗ not met; "not yet due" before
    the first milestone). Each column header gives the share of the year elapsed, so "time
    half gone, work half done" can be read across.

    ``evaluated`` holds milestone rows of :func:`fpanalysis.targets.evaluate` (those with
    an ``elapsed`` share); other rows are ignored. Without milestone rows the table is empty.

    Examples
    --------
    >>> ev = pd.DataFrame({"unit": ["a", "a", "b", "b"], "period": ["2024Q1", "2024Q2"] * 2,
    ...     "target": 1, "share": [24.1, 52.7, 20.0, 41.0], "due": [np.nan, 50, np.nan, 50],
    ...     "elapsed": [24.86, 49.73, 24.86, 49.73], "verdict": ["not_due", "clearly_met",
    ...     "not_due", "clearly_not_met"],
    ...     "met": pd.array([None, True, None, False], dtype="boolean")})
    >>> milestone_table(ev, language="en")
         2024Q1 (24.9% of year)  2024Q2 (49.7% of year)
    unit
    a      24.1% (not yet due)        52.7% of 50% ✓
    b      20.0% (not yet due)        41.0% of 50% ✗
    """
    zh = language == "zh"
    data = evaluated[evaluated["elapsed"].notna()].copy() if "elapsed" in evaluated else \
        evaluated.iloc[:0]
    if data.empty:
        return pd.DataFrame(index=pd.Index([], name="单位" if zh else "unit"))
    if data["target"].nunique() > 1:
        raise ValueError("milestone_table shows one milestone target; got targets "
                         f"{', '.join(map(str, sorted(data['target'].unique())))}")
    _duplicates(data, ["unit", "period", "target"], "milestone_table")
    share = np.char.mod("%.1f%%", np.nan_to_num(data["share"].to_numpy(dtype=float)))
    due = np.char.mod("%g%%", np.nan_to_num(data["due"].to_numpy(dtype=float)))
    met = data["met"].astype("boolean")
    mark = np.where(met.isna().to_numpy(dtype=bool), "—",
                    np.where(met.fillna(False).to_numpy(dtype=bool), "✓", "✗"))
    due = np.where(data["due"].isna().to_numpy(), "—", due.astype(object))
    text = np.where(data["verdict"].to_numpy() == "not_due",
                    share.astype(object) + ("（未到期）" if zh else " (not yet due)"),
                    share.astype(object) + ("，应达" if zh else " of ") + due.astype(object)
                    + " " + mark.astype(object))
    text = np.where(data["share"].isna().to_numpy(), "未报" if zh else "not reported", text)
    data["cell"] = pd.Series(text, index=data.index, dtype=object)
    data["period"] = data["period"].astype(str)
    elapsed = data.groupby("period")["elapsed"].first()
    wide = data.pivot_table(index="unit", columns="period", values="cell", aggfunc="first")
    order = sorted(wide.columns, key=lambda q: (pr.end(q), pr.start(q)))
    wide = wide.reindex(columns=order)
    wide.columns = pd.Index([f"{p}（时间进度{elapsed[p]:.1f}%）" if zh else
                             f"{p} ({elapsed[p]:.1f}% of year)" for p in order], dtype=object)
    wide.index = _unit_index(pd.Series(wide.index, dtype=object), units, language)
    return wide


def change_table(evaluated: pd.DataFrame, units: pd.DataFrame | None = None, *,
                 language: str = "zh") -> pd.DataFrame:
    """Change-on-a-baseline targets for display: the value, the baseline period's value,
    the change with its 95 % interval (both periods' sampling variation, MOVER) and whether
    the change meets the target. Rows without a baseline target are ignored.

    Examples
    --------
    >>> ev = pd.DataFrame({"unit": ["a"], "period": ["2024"], "target": [3],
    ...     "label": ["性别比下降"], "value": [106.82], "baseline": [116.28],
    ...     "baseline_period": ["2023"], "change": [-9.46], "change_lower": [-20.1],
    ...     "change_upper": [1.2], "threshold": [-7.0],
    ...     "met": pd.array([True], dtype="boolean")})
    >>> change_table(ev, language="en").iloc[0].astype(str).tolist()
    ['2024', '性别比下降', '106.82', '2023', '116.28', '-9.46', '-20.10 to 1.20', '-7.0', '✓']
    """
    zh = language == "zh"
    data = evaluated[evaluated["baseline_period"].fillna("").astype(str) != ""] \
        if "baseline_period" in evaluated else evaluated.iloc[:0]
    i = 0 if zh else 1
    _duplicates(data, ["unit", "period", "target"], "change_table")
    met = data["met"].astype("boolean") if len(data) else pd.Series([], dtype="boolean")
    no_interval = (data["change_lower"].isna() | data["change_upper"].isna()).to_numpy()
    interval = np.where(no_interval, "—",
                        np.char.mod("%.2f", np.nan_to_num(data["change_lower"].to_numpy(
                            dtype=float))).astype(object) + (" 至 " if zh else " to ")
                        + np.char.mod("%.2f", np.nan_to_num(data["change_upper"].to_numpy(
                            dtype=float))).astype(object)) if len(data) else np.array([])
    return pd.DataFrame({
        ("期间", "period")[i]: data["period"].astype(str).to_numpy() if len(data) else [],
        ("目标", "target")[i]: data["label"].to_numpy() if len(data) else [],
        ("本期", "value")[i]: data["value"].to_numpy(dtype=float),
        ("基期", "baseline period")[i]: data["baseline_period"].to_numpy(dtype=object),
        ("基期值", "baseline")[i]: data["baseline"].to_numpy(dtype=float),
        ("变化", "change")[i]: data["change"].to_numpy(dtype=float),
        ("变化区间", "95% interval")[i]: interval,
        ("目标变化", "target change")[i]: data["threshold"].to_numpy(dtype=float),
        ("达标", "met")[i]: np.where(met.isna().to_numpy(dtype=bool), "—",
                                   np.where(met.fillna(False).to_numpy(dtype=bool), "✓", "✗")),
    }, index=_unit_index(data["unit"] if len(data) else pd.Series([], dtype=object), units,
                         language))


def class_table(classes: pd.DataFrame, units: pd.DataFrame | None = None, *,
                language: str = "zh") -> pd.DataFrame:
    """Classes of units (from :func:`fpanalysis.targets.classify`) for display: the unit's
    parent, its class and the criteria it failed for the class above.

    Examples
    --------
    >>> c = pd.DataFrame({"unit": ["v1", "v2"], "period": "2024", "class": ["一类", "三类"],
    ...                   "failed": ["", "村政策符合率"]})
    >>> class_table(c, language="en")
         class            failed
    unit
    v1      一类
    v2      三类  村政策符合率
    """
    i = 0 if language == "zh" else 1
    _duplicates(classes, ["unit", "period"], "class_table")
    _one_period(classes, "class_table")
    table = pd.DataFrame({("类别", "class")[i]: classes["class"].to_numpy(),
                          ("未达条件", "failed")[i]: classes["failed"].to_numpy()},
                         index=_unit_index(classes["unit"], units, language))
    if units is not None:
        parent = classes["unit"].map(units.set_index("unit")["parent"])
        table.insert(0, ("上级", "parent")[i], _names(parent.fillna(""), units).to_numpy())
    return table


def tier_count_table(counts: pd.DataFrame, units: pd.DataFrame | None = None, *,
                     language: str = "zh") -> pd.DataFrame:
    """How often each unit was in the top and the bottom tier in each year (from
    :func:`fpanalysis.targets.tier_counts`); ``held`` periods (not reported, counted in the
    bottom tier) are shown where the column is there."""
    i = 0 if language == "zh" else 1
    table = pd.DataFrame({("年度", "year")[i]: counts["period"].astype(str).to_numpy(),
                          ("考核期数", "periods")[i]: counts["periods"].to_numpy(),
                          ("前列次数", "times top")[i]: counts["top"].to_numpy(),
                          ("后列次数", "times bottom")[i]: counts["bottom"].to_numpy()},
                         index=_unit_index(counts["unit"], units, language))
    if "held" in counts.columns:
        table[("未报计入后列", "held in bottom (not reported)")[i]] = counts["held"].to_numpy()
    return table


def standing_table(standing: pd.DataFrame, units: pd.DataFrame | None = None, *,
                   language: str = "zh") -> pd.DataFrame:
    """Year-end standing for display (from :func:`targets.combine`, optionally banded).

    The unit name is the index. An empty ``standing`` gives an empty table with the columns.
    """
    i = 0 if language == "zh" else 1
    table = pd.DataFrame({
        ("名次", "rank")[i]: standing["rank"].to_numpy(),
        ("县考核季度均分", "county mean")[i]: standing["county_score"].to_numpy(),
        ("季度数", "quarters")[i]: standing["quarters"].astype("Int64").to_numpy(),
        ("市考核得分", "city score")[i]: standing["external_score"].to_numpy(),
        ("综合得分", "standing")[i]: standing["score"].to_numpy(),
    }, index=_unit_index(standing["unit"], units, language))
    if "adjustment" in standing.columns:  # year-end adjustments, after the 0.6/0.4 weighting
        at = table.columns.get_loc(("综合得分", "standing")[i])
        table.insert(at, ("加减前得分", "before adjustments")[i], standing["combined"].to_numpy())
        table.insert(at + 1, ("加减分", "adjustment")[i], standing["adjustment"].to_numpy())
        table[("加减分原因", "adjustment reasons")[i]] = standing["adjustment_reasons"].to_numpy()
    if "missing_quarters" in standing.columns:  # a missing quarter counts 0 points
        table.insert(3, ("缺季度", "missing quarters")[i], standing["missing_quarters"].to_numpy())
    if "vetoed_quarters" in standing.columns:  # so does a vetoed one
        table.insert(4, ("否决季度", "vetoed quarters")[i], standing["vetoed_quarters"].to_numpy())
    if "band" in standing.columns:
        table[("等级", "band")[i]] = standing["band"].to_numpy()
    return table


#: Names of the data-quality checks (:mod:`fpanalysis.quality`) in reports.
CHECK_LABELS: Mapping[str, tuple[str, str]] = {
    "reporting_completeness": ("报表完整性", "Reports complete"),
    "timeliness": ("报表及时性", "Reports on time"),
    "value_completeness": ("数据项完整性", "Cells filled"),
    "monthly_outlier": ("月度异常值", "Monthly outlier"),
    "monthly_outlier_modified": ("月度异常值(稳健)", "Monthly outlier (robust)"),
    "funnel": ("漏斗图离群", "Funnel outlier"),
    "consistency_over_time": ("逐年一致性", "Consistency over time"),
    "source_agreement": ("与医院数据一致性", "Agreement with hospitals"),
    "sex_ratio_plausibility": ("性别比合理性", "Sex ratio plausible"),
    "audit_false_rate": ("核查虚报率", "Audit false share"),
}
_SEVERITY_LABELS = {"extreme": ("严重", "extreme"), "moderate": ("一般", "moderate")}


def _check_label(check: str, language: str) -> str:
    return CHECK_LABELS.get(check, (check, check))[0 if language == "zh" else 1]


def _sensitive_items(rule: Disclosure) -> list[str]:
    """Counts and indicators whose figures a public report withholds in data-quality flags:
    the flags carry no counts to tell small from large, so all of them."""
    items = list(rule.indicators())
    if rule.public:
        items += [c for c in rule.sensitive if c != "births_outside"]
        if "births_outside" in rule.sensitive:
            items += ["births_outside", "births_compliant"]
    return items


def quality_table(flags: pd.DataFrame, units: pd.DataFrame, *, level: str = "township",
                  language: str = "zh", disclosure: str | Disclosure = "public"
                  ) -> pd.DataFrame:
    """The data-quality scorecard (:func:`fpanalysis.quality.scorecard`) for display: one
    row per unit of ``level`` (its name the index), one column per check run; ✓ nothing
    found, — not assessable (the unit did not report for the check's window), ✗ an extreme
    and ! a moderate flag with the figure that raised it. With ``disclosure="public"`` the
    flags on a sensitive count or indicator are left out (:func:`_public_flags`) and the
    header says so: a cell then judges the other items of its check."""
    from . import quality

    if language not in ("zh", "en"):
        raise ValueError(f"language must be 'zh' or 'en', got {language!r}")
    rule = _rule(disclosure)
    card = quality.scorecard(_public_flags(flags, rule), units, level=level,
                             language=language)
    table = card.drop(columns=card.columns[0])
    table.index = _unit_index(pd.Series(card.index), units, language)
    table.columns = pd.Index([_check_label(c, language) for c in table.columns],
                             name=_FLAGS_WITHHELD[0 if language == "zh" else 1]
                             if rule.public else None)
    return table


#: What a public data-quality table says, in its header, of the flags it leaves out (zh, en):
#: whether such a check flagged a unit would tell a suppressed count (:func:`_public_flags`).
_FLAGS_WITHHELD = ("公开版：不含婴儿死亡、政策外出生的检查",
                   "public edition: checks of infant deaths and births outside policy left out")


def _public_flags(flags: pd.DataFrame, rule: Disclosure) -> pd.DataFrame:
    """The data-quality flags a public edition shows: none on a sensitive count or indicator
    (:func:`_sensitive_items`, read without stray spaces or capitals). Withholding the
    figure is not enough: a flag bounds its figure by its threshold, and even its presence
    does (西城镇's compliance above the funnel's upper limit, 99.9 % with 17 births, says no
    birth was outside policy). The flags keep the ``check_all`` record of what was run."""
    if not rule.public:
        return flags
    key = flags["indicator"].astype(str).str.strip().str.lower()
    keep = ~key.isin(_sensitive_items(rule)).to_numpy(dtype=bool)
    out = flags[keep]
    out.attrs = {**flags.attrs, "rows": int(keep.sum())} if "rows" in flags.attrs \
        else dict(flags.attrs)
    return out


#: Items of data-quality flags that are neither an indicator nor a count column.
_FLAG_ITEMS_ZH = {"monthly_reports": "月报", "whipple_index": "Whipple指数"}

#: The Chinese sentence of each note of :data:`fpanalysis.quality.notes.TEMPLATES`, around
#: the very pieces (numbers and month labels) of the English note.
_FLAG_NOTES_ZH = {
    "missing": "缺报月份：{months}",
    "late": "迟报月份：{months}",
    "cells": "应填 {cells} 项，已填 {present} 项",
    "outlier": "{value}，对照 {used} 个月均值 {mean}（标准差 {sd}，中位数 {median}）",
    "funnel": "{value}，全县 {county}（99.8% 控制限 {lower}-{upper}，已按过度离散放宽）",
    "sources": "登记 {register}，另一来源 {other}：比值 {ratio}（{confidence} 置信区间 "
               "{lower}-{upper}），超出 1 ± {tolerance}",
    "sex_ratio": "男婴 {boys}，女婴 {girls}：性别比 {ratio}（{lower}-{upper}），参考值 {reference}",
    "heaping": "Whipple指数 {whipple}（{lower}-{upper}），年龄 {ages}",
    "audit": "核查 {checked} 例，不实 {false} 例（不实比例 {share}，精确区间 {lower}-{upper}）",
}


def _flag_item(key: str, language: str) -> str:
    """What a flag checked, as the report names it elsewhere: in Chinese the count's column
    header (:func:`counts_table`), the indicator's name, or the Chinese header the loaders
    read for a count column (:data:`fpanalysis.schema.ALIASES`); in English (and for a key
    none of these knows) the key itself."""
    if language != "zh":
        return key
    if key in _COUNT_LABELS:
        return _COUNT_LABELS[key][0]
    if key in _FLAG_ITEMS_ZH:
        return _FLAG_ITEMS_ZH[key]
    try:
        return ind.label(key, "zh")
    except (KeyError, ValueError):
        pass
    from .schema import ALIASES

    return next((h for h, c in ALIASES.items() if c == key and not h.isascii()), key)


def _flag_notes(notes: pd.Series, language: str) -> np.ndarray:
    """The notes of flags: in English as written; in Chinese each note a check wrote from a
    template (:func:`fpanalysis.quality.notes.parse`) rewritten around the same pieces, and
    any other note left as written (never half translated)."""
    from .quality.notes import parse

    text = notes.astype(object).where(notes.notna(), "").astype(str)
    if language != "zh":
        return text.to_numpy()
    out = {}
    for t in pd.unique(text):  # a few dozen distinct notes
        read = parse(t)
        out[t] = _FLAG_NOTES_ZH[read[0]].format(**read[1]) \
            if read is not None and read[0] in _FLAG_NOTES_ZH else t
    return text.map(out).to_numpy(dtype=object)


def flag_table(flags: pd.DataFrame, units: pd.DataFrame | None = None, *,
               severity: Sequence[str] = ("extreme", "moderate"),
               language: str = "zh", disclosure: str | Disclosure = "public") -> pd.DataFrame:
    """Data-quality flags (:func:`fpanalysis.quality.check_all`) for display, worst first:
    the unit's name as the index, then the window, the check, what was checked, the figure
    and the threshold it crossed (as text, three significant digits), the severity and the
    note. In Chinese the item is named as elsewhere in the report (the counts table's header,
    the indicator's name) and each note a check wrote from a template
    (:mod:`fpanalysis.quality.notes`) is written in Chinese around the very same numbers; a
    note of any other origin is shown as written. With ``disclosure="public"`` the flags on
    a sensitive count or indicator (infant deaths and mortality, compliant births and
    compliance) are left out and the header says so (:func:`_public_flags`): a flag's
    figure, threshold, note and very presence bound the count."""
    from . import quality

    if language not in ("zh", "en"):
        raise ValueError(f"language must be 'zh' or 'en', got {language!r}")
    if isinstance(severity, str):
        severity = (severity,)
    unknown = sorted(set(severity) - set(_SEVERITY_LABELS))
    if unknown:
        raise ValueError(f"severity must be among extreme, moderate; got {', '.join(unknown)}")
    missing = [c for c in quality.FLAG_COLUMNS if c not in flags.columns]
    if missing:
        raise ValueError(f"flags must come from quality.check_all; no column(s) "
                         f"{', '.join(missing)}")
    i = 0 if language == "zh" else 1
    rule = _rule(disclosure)
    f = _public_flags(flags, rule)
    f = f[f["severity"].isin(list(severity))]
    pooled = f["unit"].astype(str) == quality.POOLED  # an audit's county-wide estimate
    unit = f["unit"].astype(object).where(~pooled.to_numpy(),
                                          ("全县（合并）", "county (pooled)")[i])
    table = pd.DataFrame({
        ("期间", "period")[i]: f["period"].astype(str).to_numpy(),
        ("检查", "check")[i]: [_check_label(c, language) for c in f["check"]],
        ("项目", "item")[i]: f["indicator"].astype(str).map(
            {k: _flag_item(k, language) for k in pd.unique(f["indicator"].astype(str))}
        ).to_numpy(dtype=object),
        ("数值", "figure")[i]: [f"{x:.3g}" for x in f["figure"].to_numpy(dtype=float)],
        ("阈值", "threshold")[i]: [f"{x:.3g}" for x in f["threshold"].to_numpy(dtype=float)],
        ("程度", "severity")[i]: [_SEVERITY_LABELS[x][i] for x in f["severity"]],
        ("说明", "note")[i]: _flag_notes(f["note"], language),
    }, index=_unit_index(unit, units, language))
    if rule.public:
        table.columns.name = _FLAGS_WITHHELD[i]
    return table


def write_excel(tables: Mapping[str, pd.DataFrame], path: str | Path, *,
                language: str | None = None,
                disclosure: str | Disclosure | None = None) -> Path:
    """Write several tables to one workbook, a sheet each (names cut to 31 characters).

    With a public ``disclosure`` rule carrying the report's plan (:func:`disclosure` with
    ``counts``, ``units`` and ``periods``) the tables are audited first (:func:`audit`,
    from what each records in ``attrs["disclosure"]``) and nothing is written when a
    suppressed cell could be narrowed below its protection: :class:`DisclosureError` names
    the cells. A public rule without a plan is refused (ValueError): the workbook could not
    be audited; so is a table showing a sensitive cell the plan has none for (a table of
    another period or unit: "the report's disclosure plan has no cell for ...").

    With ``language``, a table keyed by a name of :data:`SHEETS` (``"counts"``) goes to the
    sheet of that language (``"人口变动"``); other names are kept.

    A table's index is written only when it means something: a named index (the unit names
    of the display tables), a MultiIndex, or labels (the indicator names of a transposed
    table). A plain row number (an unnamed integer index) is never written; a
    table with MultiIndex columns and such an index gets flat "a / b" column names instead.
    Periods, dekads and spans are written as their labels ("2024Q3").
    """
    path = Path(path)
    if disclosure is not None:
        rule = _rule(disclosure)
        if rule.public:
            if rule.plan is None:
                raise ValueError("write_excel audits a public workbook against the report's "
                                 "plan: make the rule with disclosure('public', counts=..., "
                                 "units=..., periods=[...])")
            check(rule.plan)
            check(audit(tables, rule))
    if language is not None:
        i = _language(language)
        tables = {SHEETS[k][i] if k in SHEETS else k: t for k, t in tables.items()}
    sheets = [name[:31] for name in tables]
    clash = sorted({s for s in sheets if sheets.count(s) > 1})
    bad = sorted(n for n in tables if set(n) & set("[]:*?/\\") or not n.strip())
    if clash or bad:
        raise ValueError("write_excel needs distinct sheet names of at most 31 characters "
                         "without []:*?/\\: "
                         + "; ".join([f"{s!r} more than once" for s in clash]
                                     + [f"{n!r} is not a sheet name" for n in bad]))
    path.parent.mkdir(parents=True, exist_ok=True)
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, table in tables.items():
            frame = table.copy()
            for c in frame.columns:
                if isinstance(frame[c].dtype, pd.PeriodDtype):
                    frame[c] = frame[c].astype(str)
                elif frame[c].dtype == object:
                    frame[c] = frame[c].map(
                        lambda v: str(v) if isinstance(v, (pd.Period, pr.Dekad, pr.Span)) else v)
            keep_index = isinstance(frame.index, pd.MultiIndex) \
                or any(n is not None for n in frame.index.names) \
                or not pd.api.types.is_integer_dtype(frame.index.dtype)
            if not keep_index and isinstance(frame.columns, pd.MultiIndex):
                frame.columns = [" / ".join(str(x) for x in c) for c in frame.columns]
            frame.to_excel(writer, sheet_name=name[:31], index=keep_index)
    return path


def folder_name(period: object) -> str:
    """The folder a period's report goes to: its label, with "/" made "_".

    Examples
    --------
    >>> [folder_name(x) for x in ("2024年第3季度", "2024-07", "2024年上半年", "2024-01/2024-09")]
    ['2024Q3', '2024-07', '2024H1', '2024-01_2024-09']
    """
    return str(pr.parse(period)).replace("/", "_")


def output_folder(output_dir: str | Path, period: object, *,
                  reports: str | Path = "../reports") -> Path:
    """Where a report notebook writes its tables.

    Parameters
    ----------
    output_dir : str or Path
        The notebook's ``output_dir`` parameter; used as it is unless empty.
    period : period label or Period
        The notebook's period.
    reports : str or Path, default "../reports"
        The reports folder, relative to the notebooks' folder (where the kernel runs).

    Returns
    -------
    pathlib.Path
        ``output_dir``, or when it is empty (or blank) ``<reports>/<folder_name(period)>``,
        the folder :func:`render` uses for that period.

    Examples
    --------
    >>> output_folder("", "2024Q2").as_posix()
    '../reports/2024Q2'
    >>> output_folder("", "2024-01/2024-09").as_posix()
    '../reports/2024-01_2024-09'
    >>> output_folder("out/tables", "2024Q2").as_posix()
    'out/tables'
    """
    if str(output_dir).strip():
        return Path(output_dir)
    return Path(reports) / folder_name(period)


def check_period(counts: pd.DataFrame, period: object, *, source: object = "the counts"
                 ) -> None:
    """Refuse a period the counts do not cover, before any report is run.

    Monthly counts must have rows for every month of the period. Dekad counts must have
    rows for the dekad asked for, or for every month of a longer period. A dekad cannot be
    read from monthly counts.

    Raises
    ------
    ValueError
        One line naming the period, what is absent and what the data cover.

    Examples
    --------
    >>> c = pd.DataFrame({"unit": "1", "period": pd.period_range("2024-01", "2024-08",
    ...                                                          freq="M")})
    >>> check_period(c, "2024H1")
    >>> check_period(c, "2024Q3")
    Traceback (most recent call last):
    ...
    ValueError: the counts have no rows for 2024-09 of period 2024Q3 (they cover 2024-01 to 2024-08)
    """
    p = pr.parse(period)
    values = counts["period"]
    if len(values) == 0:
        raise ValueError(f"{source} have no rows at all; nothing to report for {p}")
    if pr.is_dekad(values):
        present = set(pd.unique(values))
        first, last = min(present), max(present)
        months = {d.month for d in present}
        if isinstance(p, pr.Dekad):
            if p not in present:
                raise ValueError(f"{source} have no rows for dekad {p} (they cover {first} "
                                 f"to {last})")
            return
    else:
        if isinstance(p, pr.Dekad):
            raise ValueError(f"{source} are monthly; a dekad ({p}) needs dekad counts")
        months = set(pd.unique(values))
        first, last = min(months), max(months)
    absent = [str(m) for m in pr.months(p) if m not in months]
    if absent:
        what = absent[0] if len(absent) == 1 else (
            f"{absent[0]} to {absent[-1]}" if len(absent) == len(pr.months(p))
            else ", ".join(absent))
        raise ValueError(f"{source} have no rows for {what} of period {p} "
                         f"(they cover {first} to {last})")


class RenderError(RuntimeError):
    """A report notebook failed or was interrupted; the previous report is unchanged.

    Attributes
    ----------
    failed : pathlib.Path
        The folder where the failed run was kept (``<period>.failed``).
    """

    def __init__(self, message: str, failed: Path):
        super().__init__(message)
        self.failed = failed


def _why(error: BaseException) -> str:
    """One line saying where and why a notebook run stopped."""
    exec_count = getattr(error, "exec_count", None)
    ename = getattr(error, "ename", None)
    if ename is not None:  # every line of the message: a DataError lists its problems
        value = [v.strip() for v in str(getattr(error, "evalue", "")).strip().splitlines()]
        return (f"cell [{exec_count}] raised {ename}"
                + (": " + " | ".join(v for v in value if v) if value else ""))
    text = str(error).strip().splitlines()
    return type(error).__name__ + (f": {text[0]}" if text else "")


def render(
    notebook: str | Path = "notebooks/quarterly_report.ipynb",
    *,
    period: str,
    data_dir: str | Path = "data/sample",
    output_dir: str | Path = "reports",
    language: str = "zh",
    parameters: Mapping[str, object] | None = None,
    check_data: bool = True,
    disclosure: str = "public",
) -> Path:
    """Run a report notebook for one period with papermill and export HTML without code.

    The report goes to ``<output_dir>/<folder_name(period)>/``: the executed notebook, the
    HTML beside it, and whatever the notebook writes into its ``output_dir`` parameter
    (the Excel tables). The kernel starts in the notebook's folder (as under nbval), and
    paths passed as parameters are made relative to that folder.

    The run is atomic. The notebook runs into a hidden temporary folder beside the
    destination (same file system), which replaces the previous report only when the
    notebook and the HTML export have both succeeded; a stale ``<period>.failed`` folder is
    then removed. If the kernel raises, dies or is interrupted, the previous report is left
    as it was, and the temporary folder is kept as ``<output_dir>/<period>.failed`` (the
    executed notebook, with its error, and any partial tables). If the Python process
    itself is killed, the hidden ``.<period>.*.tmp`` folder is left beside the report,
    which stays as it was.

    Parameters
    ----------
    notebook : str or Path
        The report notebook; it must declare ``data_dir`` and ``period`` in its
        ``parameters`` cell. ``output_dir`` (set to the report's folder) and ``language``
        are passed when it declares them.
    period : str
        Any label :func:`fpanalysis.periods.parse` accepts.
    data_dir, output_dir : str or Path
        Data folder, and the folder that holds one folder per period.
    language : {'zh', 'en'}, default 'zh'
    parameters : mapping, optional
        Further notebook parameters (they override the five here).
    check_data : bool, default True
        Load the counts in ``data_dir`` once before the kernel starts and refuse a period
        they do not cover (:func:`check_period`).
    disclosure : {'public', 'internal'}, default 'public'
        Passed when the notebook declares it: ``'public'`` suppresses small sensitive
        counts (:func:`disclosure`), ``'internal'`` shows everything.

    Returns
    -------
    pathlib.Path
        The HTML file.

    Raises
    ------
    ValueError
        Before any kernel starts: an unreadable period, a parameter the notebook does not
        declare, or a period the counts do not cover.
    fpanalysis.schema.DataError
        Before any kernel starts, when ``check_data`` and the counts break the contract.
    FileNotFoundError
        If the notebook or the data folder does not exist (one line each).
    RenderError
        If the notebook failed; the message names the cell and the ``.failed`` folder.
    KeyboardInterrupt
        Re-raised after the partial run is moved to the ``.failed`` folder.
    """
    import shutil
    import tempfile

    import nbformat
    import papermill as pm
    from nbconvert import HTMLExporter

    p = pr.parse(period)
    disclosure_rule = _rule(disclosure)  # refuse an unknown mode before any kernel starts
    label = str(p)
    nb_path = Path(notebook).resolve()
    absent = [] if nb_path.is_file() else [f"no notebook {notebook}"]
    if not Path(data_dir).exists():
        absent.append(f"no data folder {data_dir}")
    if absent:
        raise FileNotFoundError("\n".join(absent))
    nb_dir = nb_path.parent
    declared = pm.inspect_notebook(str(nb_path))
    unknown = sorted({"data_dir", "period", *(parameters or {})} - set(declared))
    if unknown:
        raise ValueError(f"{nb_path.name} has no parameter(s) {', '.join(unknown)}; "
                         f"it declares {', '.join(declared)}")
    if "disclosure" not in declared:  # it could neither apply the rule nor say which it is
        edition = {"public": "a public", "internal": "an internal"}[disclosure_rule.mode]
        raise ValueError(f"{nb_path.name} has no parameter disclosure; it cannot make "
                         f"{edition} report (only notebooks that apply the disclosure rule "
                         "render as reports)")
    own = sorted({"period", "data_dir", "output_dir", "language", "disclosure"}
                 & set(parameters or {}))
    if own:  # each has its argument: through parameters it would bypass the checks here
        raise ValueError(f"render: give {', '.join(own)} as argument(s), not in parameters "
                         "(there it would replace what was checked: a public month under "
                         "a quarter's name, an internal edition asked for as public)")
    if check_data:
        from . import io

        check_period(io.load_counts(data_dir), p, source=f"the counts in {data_dir}")
    if disclosure_rule.public:  # quarters and years only (disclosure.PUBLIC_KINDS)
        check_public_periods([p])

    final = Path(output_dir) / folder_name(p)
    failed = final.with_name(final.name + ".failed")
    final.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent))
    umask = os.umask(0)
    os.umask(umask)
    work.chmod(0o777 & ~umask)  # mkdtemp makes it private; the report is for the office
    params = {"data_dir": os.path.relpath(Path(data_dir).resolve(), nb_dir),
              "period": label,
              "output_dir": os.path.relpath(work.resolve(), nb_dir),
              "language": language, "disclosure": disclosure_rule.mode}
    params = {k: v for k, v in params.items() if k in declared} | dict(parameters or {})
    executed = work / nb_path.name
    try:
        with _one_blas_thread():
            pm.execute_notebook(str(nb_path), str(executed), parameters=params,
                                cwd=str(nb_dir), progress_bar=False, kernel_name="python3",
                                engine_name=_papermill_engine())
        done = _point_to(nbformat.read(executed, as_version=4),
                         params.get("output_dir"), os.path.relpath(final.resolve(), nb_dir))
        nbformat.write(done, executed)
        done.metadata["title"] = _html_title(done, p, language, nb_path.stem)
        exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True,
                                exclude_output_prompt=True)
        body, _ = exporter.from_notebook_node(done)
        executed.with_suffix(".html").write_text(body, encoding="utf-8")
    except BaseException as error:
        try:
            shutil.rmtree(failed, ignore_errors=True)
            os.replace(work, failed)
        except OSError:  # keep the run where it is rather than hide the notebook's error
            failed = work
        kept = failed / nb_path.name if (failed / nb_path.name).exists() else failed
        state = "is unchanged" if final.exists() else "was not written"
        message = (f"{nb_path.name} for {label} "
                   f"{'was interrupted' if isinstance(error, KeyboardInterrupt) else 'failed'}"
                   f": {_why(error)}; the report in {final} {state}; the failed run is "
                   f"kept in {kept}")
        if not isinstance(error, Exception):
            error.add_note(message)
            raise
        raise RenderError(message, failed) from error
    _replace_folder(work, final)
    shutil.rmtree(failed, ignore_errors=True)
    return final / executed.with_suffix(".html").name


@functools.cache
def _papermill_engine() -> str:
    """The name of papermill's nbclient engine, registered (once) with a manager that
    writes the executed notebook when the run starts and ends (failed or not), as each cell
    starts (so that a run killed in a hung cell shows which one, with every output before
    it) and every 30 seconds when output arrives (papermill's autosave), but not again as
    each cell completes: the next cell's start or the end writes that. Papermill wrote the
    growing notebook (up to 0.7 MB with the figures) twice per cell."""
    from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines

    name = "fpanalysis"

    class Manager(NotebookExecutionManager):
        _quiet = False

        def save(self, **kwargs):
            if not self._quiet:
                super().save(**kwargs)

        def _without_saving(self, step, *args, **kwargs):
            self._quiet = True
            try:
                step(*args, **kwargs)
            finally:
                self._quiet = False
            self.autosave_cell()  # still written when 30 s have passed

        def cell_complete(self, cell, cell_index=None, **kwargs):
            self._without_saving(super().cell_complete, cell, cell_index, **kwargs)

    class Engine(NBClientEngine):
        @classmethod
        def execute_notebook(cls, nb, kernel_name, output_path=None, progress_bar=True,
                             log_output=False, autosave_cell_every=30, **kwargs):
            manager = Manager(nb, output_path=output_path, progress_bar=progress_bar,
                              log_output=log_output, autosave_cell_every=autosave_cell_every)
            manager.notebook_start()
            try:
                cls.execute_managed_notebook(manager, kernel_name, log_output=log_output,
                                             **kwargs)
            finally:
                manager.cleanup_pbar()
                manager.notebook_complete()
            return manager.nb

    papermill_engines.register(name, Engine)
    return name


def _html_title(nb, period: object, language: str, fallback: str) -> str:
    """The ``<title>`` of a report's HTML: the first level-1 heading the report shows (a
    Markdown cell, or a Markdown output such as :func:`title`'s), with the period's label
    when the heading does not name it; ``fallback`` (the notebook's name) when there is no
    heading. Without it nbconvert titles every report "Notebook"."""
    label = pr.label(period, language)
    for cell in nb.cells:
        texts = [cell.source] if cell.cell_type == "markdown" else [
            "".join(o.get("data", {}).get("text/markdown", ""))
            for o in cell.get("outputs", [])]
        for text in texts:
            for line in str(text).splitlines():
                if line.startswith("# "):
                    head = line[2:].replace("**", "").strip()
                    return head if label in head else f"{head} {label}"
    return f"{fallback} {label}"


#: Thread counts of the BLAS libraries numpy may use, set to 1 for a report's kernel unless
#: the user set them: a report's matrices are tiny, and multi-threaded OpenBLAS spun its
#: threads for 0.2-0.6 s on an (18 x 18) covariance when two reports ran on two cores.
_BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


@contextlib.contextmanager
def _one_blas_thread():
    """Start kernels with one BLAS thread (the kernel inherits this process's environment);
    variables the user set are kept, and the environment is restored afterwards."""
    added = [k for k in _BLAS_THREADS if k not in os.environ]
    os.environ.update(dict.fromkeys(added, "1"))
    try:
        yield
    finally:
        for k in added:
            os.environ.pop(k, None)


def _point_to(nb, work: object, final: str):
    """Make the executed notebook name the report folder, not the temporary one it ran in
    (the injected parameters cell and papermill's metadata), so that it tells the truth
    once moved into place."""
    if not isinstance(work, str):
        return nb
    for cell in nb.cells:
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell.source = cell.source.replace(work, final)
    meta = nb.metadata.get("papermill", {})
    if meta.get("parameters", {}).get("output_dir") == work:
        meta["parameters"]["output_dir"] = final
    if isinstance(meta.get("output_path"), str):
        meta["output_path"] = meta["output_path"].replace(Path(work).name, Path(final).name)
    return nb


def _replace_folder(new: Path, final: Path) -> None:
    """Put ``new`` in place of ``final``; if that fails, put the old ``final`` back."""
    import shutil
    import tempfile

    if not final.exists():
        os.replace(new, final)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".old", dir=final.parent))
    os.replace(final, old / final.name)
    try:
        os.replace(new, final)
    except BaseException:
        os.replace(old / final.name, final)
        raise
    shutil.rmtree(old, ignore_errors=True)


# --------------------------------------------------------------------------- projection

_NOWCAST_NEEDS = ["unit", "period", "indicator", "observed", "value", "target", "label", "op",
                  "threshold", "probability", "note"]
_MILESTONE_NEEDS = ["unit", "target", "plan", "done", "share", "due", "share_projected",
                    "due_year_end", "probability", "reach_month", "note"]
_BACKTEST_NEEDS = ["through", "kind", "quantity", "years", "n", "excluded", "mae",
                   "relative_mae"]
_OPS = {"<=": "≤", ">=": "≥", "<": "<", ">": ">", "==": "="}


def _language(language: str) -> int:
    if language not in ("zh", "en"):
        raise ValueError(f"language must be 'zh' or 'en', got {language!r}")
    return 0 if language == "zh" else 1


def _needs(data: object, needed: list[str], what: str, source: str) -> None:
    if not isinstance(data, pd.DataFrame):
        raise ValueError(f"{what} needs a DataFrame from {source}, got {type(data).__name__}")
    missing = [c for c in needed if c not in data.columns]
    if missing:
        raise ValueError(f"{what} needs the output of {source}; missing columns {missing}")


def _levels_of(data: pd.DataFrame, prefix: str = "lower_") -> list[str]:
    """Confidence levels of the interval columns (``lower_0.8`` -> ``'0.8'``), ascending."""
    return sorted((c.removeprefix(prefix) for c in data.columns if c.startswith(prefix)),
                  key=float)


def _percent_text(p: pd.Series | np.ndarray, missing: str = "—") -> np.ndarray:
    """Probabilities as whole per cents ("97%"); ">99%" and "<1%" for what rounds to 100 or
    0 without being certain, so that no projection reads as a certainty it is not."""
    v = pd.to_numeric(pd.Series(np.asarray(p, dtype=object)), errors="coerce").to_numpy(
        dtype=float)
    pct = np.char.mod("%.0f%%", np.nan_to_num(100 * v)).astype(object)
    pct = np.where((v > 0.995) & (v < 1), ">99%", np.where((v > 0) & (v < 0.005), "<1%", pct))
    return np.where(np.isnan(v), missing, pct).astype(object)


def _range_text(lower: pd.Series, upper: pd.Series, fmt: str = "%.2f",
                suffix: str = "") -> np.ndarray:
    lo, hi = lower.to_numpy(dtype=float), upper.to_numpy(dtype=float)
    text = (np.char.mod(fmt, np.nan_to_num(lo)).astype(object) + "–"
            + np.char.mod(fmt, np.nan_to_num(hi)).astype(object) + suffix)
    return np.where(np.isnan(lo) | np.isnan(hi), "—", text).astype(object)


def _unit_notes(data: pd.DataFrame) -> pd.Series:
    """Per unit (in first-seen order), its distinct non-empty notes joined by "; "."""
    notes = data.assign(note=data["note"].fillna("").astype(str))
    order = pd.unique(notes["unit"])
    kept = notes[notes["note"] != ""].drop_duplicates(["unit", "note"])
    joined = kept.groupby("unit", sort=False)["note"].agg("; ".join)
    return joined.reindex(order).fillna("")


def probability_table(nowcast: pd.DataFrame, units: pd.DataFrame | None = None, *,
                      language: str = "zh") -> pd.DataFrame:
    """The probability of meeting each annual target by the year end, units x targets.

    Parameters
    ----------
    nowcast : pandas.DataFrame
        :func:`fpanalysis.projection.nowcast` output of one year and cut-off, run with
        ``targets``; rows without a target are ignored.
    units : pandas.DataFrame, optional
        The units table, for names.
    language : {'zh', 'en'}, default 'zh'

    Returns
    -------
    pandas.DataFrame
        One row per unit of ``nowcast`` (its name the index, in the nowcast's order), one
        column per target in target order headed by its label (zh) or ``"<indicator>
        (#<target>)"`` (en); each cell the share of predictive draws meeting the target as
        whole per cents (``"97%"``; ``">99%"``/``"<1%"`` when it rounds to 100 or 0 without
        being so), ``"—"`` where there is none (a unit not projected). A last column
        说明/note gives the unit's notes (``"not projected: 2024-05 missing from the year to
        date"``). A nowcast without target rows gives the units with the note column only.

    Raises
    ------
    ValueError
        Not a nowcast (columns missing), several years or cut-offs, two rows for one unit
        and target, an unknown language.

    Examples
    --------
    >>> nc = pd.DataFrame({"unit": ["a", "a", "b", "b"], "period": "2024",
    ...     "through": "2024-09", "indicator": ["x", "y", "x", "y"],
    ...     "observed": [1.0, 2.0, np.nan, np.nan], "value": [1.0, 2.0, np.nan, np.nan],
    ...     "target": pd.array([1, 2, 1, 2], dtype="Int64"), "label": ["X", "Y", "X", "Y"],
    ...     "op": "<=", "threshold": [3.0, 1.0, 3.0, 1.0],
    ...     "probability": [0.974, 0.001, np.nan, np.nan],
    ...     "note": ["", "", "not projected: 2024-05 missing", "not projected: 2024-05 missing"]})
    >>> probability_table(nc)
           X    Y                            说明
    单位
    a    97%  <1%
    b      —    —  not projected: 2024-05 missing
    """
    i = _language(language)
    _needs(nowcast, _NOWCAST_NEEDS, "probability_table", "projection.nowcast")
    _one_period(nowcast, "probability_table")
    if "through" in nowcast.columns:
        _one_period(nowcast.drop(columns="period").rename(columns={"through": "period"}),
                    "probability_table (cut-off)")
    order = pd.unique(nowcast["unit"])
    notes = _unit_notes(nowcast)
    data = nowcast[nowcast["target"].notna()].copy()
    _duplicates(data, ["unit", "target"], "probability_table")
    data["target"] = data["target"].astype(int)
    if i == 0:
        data["column"] = data["label"].fillna("").astype(str).where(
            data["label"].fillna("").astype(str) != "", data["indicator"].astype(str))
    else:
        data["column"] = data["indicator"].astype(str) + " (#" + data["target"].astype(str) \
            + ")"
    first = data.drop_duplicates("target").sort_values("target")
    if first["column"].duplicated().any():  # two targets with one label: number them
        data["column"] = data["column"] + " (#" + data["target"].astype(str) + ")"
        first = data.drop_duplicates("target").sort_values("target")
    data["cell"] = _percent_text(data["probability"])
    wide = data.pivot(index="unit", columns="column", values="cell")
    wide = wide.reindex(index=order, columns=list(first["column"])).fillna("—")
    wide[("说明", "note")[i]] = notes.reindex(order).to_numpy(dtype=object)
    wide.index = _unit_index(pd.Series(order, dtype=object), units, language)
    wide.columns = pd.Index(list(wide.columns), dtype=object)
    return wide


def nowcast_table(nowcast: pd.DataFrame, units: pd.DataFrame | None = None, *,
                  indicator: str, target: int | None = None,
                  language: str = "zh") -> pd.DataFrame:
    """The year-end nowcast of one indicator per unit, for display.

    Parameters
    ----------
    nowcast : pandas.DataFrame
        :func:`fpanalysis.projection.nowcast` output of one year and cut-off.
    units : pandas.DataFrame, optional
        The units table, for names.
    indicator : str
        The indicator shown.
    target : int, optional
        The target number, needed when the indicator has several targets.
    language : {'zh', 'en'}, default 'zh'

    Returns
    -------
    pandas.DataFrame
        One row per unit (name as index, nowcast order): 年初至今/year to date (the
        observed value), 预计全年/projected (median of the draws), one predictive range per
        confidence level of the nowcast (``"2.77–4.10"``, e.g. 80%预测区间 / 80% range),
        目标/target (``"≤ 8.5"``, with last year's value for a change target), 达标概率/
        probability (``"97%"`` as :func:`probability_table`), 说明/note. A unit not
        projected keeps its row with missing values, ``"—"`` and its note.

    Raises
    ------
    ValueError
        Not a nowcast, several years or cut-offs, an indicator without rows (nearest name
        given), an indicator with several targets and no ``target``, a ``target`` the
        indicator does not have, an unknown language.
    """
    i = _language(language)
    _needs(nowcast, _NOWCAST_NEEDS, "nowcast_table", "projection.nowcast")
    _one_period(nowcast, "nowcast_table")
    keys = [str(k) for k in pd.unique(nowcast["indicator"].astype(str))]
    if indicator not in keys:
        from .schema import suggestion

        raise ValueError(f"nowcast_table: no rows for indicator {indicator!r}"
                         f"{suggestion(indicator, keys)}")
    data = nowcast[nowcast["indicator"].astype(str) == indicator]
    numbers = sorted(int(t) for t in pd.unique(data["target"].dropna()))
    if target is not None:
        if target not in numbers:
            raise ValueError(f"nowcast_table: {indicator} has no target {target!r} (its "
                             f"targets: {', '.join(map(str, numbers)) or 'none'})")
        data = data[data["target"].astype("Int64") == target]
    elif len(numbers) > 1:
        raise ValueError(f"nowcast_table: {indicator} has several targets "
                         f"({', '.join(map(str, numbers))}); choose one with target=")
    _duplicates(data, ["unit"], "nowcast_table")
    table = pd.DataFrame({("年初至今", "year to date")[i]: data["observed"].to_numpy(float),
                          ("预计全年", "projected")[i]: data["value"].to_numpy(float)},
                         index=_unit_index(data["unit"], units, language))
    for lev in _levels_of(data):
        pct = f"{float(lev) * 100:g}%"
        table[(f"{pct}预测区间", f"{pct} range")[i]] = _range_text(
            data[f"lower_{lev}"], data[f"upper_{lev}"])
    if data["target"].notna().any():
        thr = data["threshold"].to_numpy(dtype=float)
        op = data["op"].fillna("").astype(str).map(lambda o: _OPS.get(o, o)).to_numpy(object)
        text = op + " " + np.array([f"{v:g}" for v in thr], dtype=object)
        if "baseline" in data.columns and data["baseline"].notna().any():
            base = data["baseline"].to_numpy(dtype=float)
            text = np.where(np.isnan(base), text, text + np.array(
                [(f"（较上年 {b:.2f}）", f" (on last year's {b:.2f})")[i] for b in base],
                dtype=object))
        table[("目标", "target")[i]] = np.where(np.isnan(thr), "—", text)
        table[("达标概率", "probability")[i]] = _percent_text(data["probability"])
    table[("说明", "note")[i]] = data["note"].fillna("").astype(str).to_numpy()
    return table


def milestone_projection_table(milestones: pd.DataFrame, units: pd.DataFrame | None = None,
                               *, language: str = "zh") -> pd.DataFrame:
    """The projected year-end share of a milestone plan per unit, for display.

    Parameters
    ----------
    milestones : pandas.DataFrame
        :func:`fpanalysis.projection.project_milestones` output for one milestone target.
    units : pandas.DataFrame, optional
        The units table, for names.
    language : {'zh', 'en'}, default 'zh'

    Returns
    -------
    pandas.DataFrame
        One row per unit (name as index): 年度计划/plan, 已完成/done to date, 完成进度/share
        to date (``"78.2%"``), 应达进度/due now (``"80%"``, ``"—"`` before the first
        milestone), 预计年末进度/projected year-end share with the widest predictive range
        (``"104.9%（101.8–108.1%）"``), the probability of reaching the year-end share due
        (header names it: 年末达100%概率 / P(100% by Dec)), 达到100%月份/month 100% is
        reached (observed or projected; ``"—"`` never), 说明/note. A unit not projected keeps
        its row with ``"—"`` and its note. No milestone rows: an empty table.

    Raises
    ------
    ValueError
        Not a :func:`project_milestones` output, several targets or years, two rows for one
        unit, an unknown language.
    """
    i = _language(language)
    _needs(milestones, _MILESTONE_NEEDS, "milestone_projection_table",
           "projection.project_milestones")
    _one_period(milestones, "milestone_projection_table")
    if milestones["target"].nunique() > 1:
        raise ValueError("milestone_projection_table shows one milestone target; got targets "
                         f"{', '.join(map(str, sorted(milestones['target'].unique())))}")
    _duplicates(milestones, ["unit"], "milestone_projection_table")
    data = milestones
    due_end = pd.unique(data["due_year_end"].dropna())
    end_text = f"{due_end[0]:g}%" if len(due_end) == 1 else ("年末应达", "year-end due")[i]
    levels = _levels_of(data)
    share = data["share"].to_numpy(dtype=float)
    proj = data["share_projected"].to_numpy(dtype=float)
    projected = np.char.mod("%.1f%%", np.nan_to_num(proj)).astype(object)
    if levels:
        widest = levels[-1]
        rng = _range_text(data[f"lower_{widest}"], data[f"upper_{widest}"], "%.1f", "%")
        projected = projected + np.where(rng == "—", "", ("（", " (")[i] + rng + ("）", ")")[i])
        head = (f"预计年末进度（{float(widest) * 100:g}%预测区间）",
                f"projected year-end share ({float(widest) * 100:g}% range)")[i]
    else:
        head = ("预计年末进度", "projected year-end share")[i]
    due = data["due"].to_numpy(dtype=float)
    reach = data["reach_month"].fillna("").astype(str).to_numpy(dtype=object)
    return pd.DataFrame({
        ("年度计划", "plan")[i]: _int_text(data["plan"], "—"),
        ("已完成", "done to date")[i]: _int_text(data["done"], "—"),
        ("完成进度", "share to date")[i]: np.where(
            np.isnan(share), "—", np.char.mod("%.1f%%", np.nan_to_num(share)).astype(object)),
        ("应达进度", "due now")[i]: np.where(
            np.isnan(due), "—", np.char.mod("%g%%", np.nan_to_num(due)).astype(object)),
        head: np.where(np.isnan(proj), "—", projected),
        (f"年末达{end_text}概率", f"P({end_text} by December)")[i]:
            _percent_text(data["probability"]),
        ("达到100%月份", "month 100% reached")[i]: np.where(reach == "", "—", reach),
        ("说明", "note")[i]: data["note"].fillna("").astype(str).to_numpy(),
    }, index=_unit_index(data["unit"], units, language))


_KIND_LABELS = {"count": ("计数", "counts"), "indicator": ("指标", "indicators")}
_COUNT_WORDS = {"births": ("出生数", "births"), "deaths": ("死亡数", "deaths"),
                "births_male": ("男婴出生数", "male births"),
                "births_female": ("女婴出生数", "female births"),
                "births_compliant": ("政策内出生数", "compliant births")}


def _quantity_label(kind: str, key: str, language: str) -> str:
    i = 0 if language == "zh" else 1
    if key == "all":
        return ("合计", "pooled")[i]
    if kind == "count":
        return _COUNT_WORDS.get(key, (key, key))[i]
    try:
        return ind.label(key, language)
    except (KeyError, ValueError):
        return key


def backtest_table(backtest: pd.DataFrame, *, detail: bool = False,
                   language: str = "zh") -> pd.DataFrame:
    """The nowcast backtest for display: by months observed, the coverage of each
    predictive interval and the mean absolute error, with rows pooled over all months.

    Parameters
    ----------
    backtest : pandas.DataFrame
        :func:`fpanalysis.projection.backtest_nowcast` output.
    detail : bool, default False
        Show every quantity for every month; by default the months show only the rows
        pooled over the quantities of each kind (the backtest's ``'all'`` rows), and the
        rows pooled over all months show every quantity and the pooled one.
    language : {'zh', 'en'}, default 'zh'

    Returns
    -------
    pandas.DataFrame
        Index: 已观察月数/months observed (1 … 11, then 全部/all), 类别/kind (counts or
        indicators) and 项目/quantity. Columns: 年份/years replayed, 单位年数/n (unit-years
        scored), 未计入/excluded, coverage of each level of the backtest as a per cent
        (``"80%区间覆盖率"`` / ``"80% coverage"``), 平均绝对误差/MAE and 相对误差/relative
        MAE (per cent). The rows "all months" pool the month rows: coverage and MAE
        weighted by ``n`` (exactly the share and mean over all scored unit-years), relative
        MAE as the sum of absolute errors over the sum of absolute actual values.

    Raises
    ------
    ValueError
        Not a backtest (columns missing), a month row repeated, an unknown language.
    """
    i = _language(language)
    _needs(backtest, _BACKTEST_NEEDS, "backtest_table", "projection.backtest_nowcast")
    levels = _levels_of(backtest, "coverage_")
    if not levels:
        raise ValueError("backtest_table needs the output of projection.backtest_nowcast; "
                         "missing coverage_<level> columns")
    _duplicates(backtest, ["through", "kind", "quantity"], "backtest_table")
    data = backtest
    # sum of absolute errors = mae x n; sum of |actual| = that / relative_mae (0 where the
    # backtest's relative_mae is NaN: no actual value away from 0; unknown where the error
    # is 0, and the pooled relative error is then not shown)
    data = data.assign(_abs=data["mae"] * data["n"])
    rel = data["relative_mae"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        data["_truth"] = np.where(np.isnan(rel), 0.0, data["_abs"].to_numpy(float) / rel)
    data["_unknown"] = ~np.isfinite(data["_truth"].to_numpy(dtype=float))
    for lev in levels:
        data[f"_in_{lev}"] = data[f"coverage_{lev}"] * data["n"]
    sums = data.groupby(["kind", "quantity"], sort=False)[
        ["n", "excluded", "_abs", "_truth", "_unknown"]
        + [f"_in_{lev}" for lev in levels]].sum().reset_index()
    years = sorted({y.strip() for text in data["years"].astype(str) for y in text.split(",")})
    pooled = pd.DataFrame({"through": ("全部", "all")[i], "kind": sums["kind"],
                           "quantity": sums["quantity"], "years": ", ".join(years),
                           "n": sums["n"], "excluded": sums["excluded"]})
    with np.errstate(divide="ignore", invalid="ignore"):
        for lev in levels:
            pooled[f"coverage_{lev}"] = np.where(sums["n"] > 0, sums[f"_in_{lev}"] / sums["n"],
                                                 np.nan)
        pooled["mae"] = np.where(sums["n"] > 0, sums["_abs"] / sums["n"], np.nan)
        pooled["relative_mae"] = np.where((sums["_unknown"] == 0) & (sums["_truth"] > 0),
                                          sums["_abs"] / sums["_truth"], np.nan)
    months = data if detail else data[data["quantity"] == "all"]
    rows = pd.concat([months.drop(columns=[c for c in data.columns if c.startswith("_")])
                      .astype({"through": object}), pooled], ignore_index=True)
    index = pd.MultiIndex.from_arrays(
        [rows["through"].astype(str).to_numpy(),
         [_KIND_LABELS.get(k, (k, k))[i] for k in rows["kind"]],
         [_quantity_label(k, q, language) for k, q in zip(rows["kind"], rows["quantity"],
                                                         strict=True)]],
        names=[("已观察月数", "months observed")[i], ("类别", "kind")[i],
               ("项目", "quantity")[i]])
    table = pd.DataFrame({("年份", "years")[i]: rows["years"].astype(str).to_numpy(),
                          ("单位年数", "n")[i]: rows["n"].astype("Int64").to_numpy(),
                          ("未计入", "excluded")[i]: rows["excluded"].astype("Int64").to_numpy()},
                         index=index)
    for lev in levels:
        pct = f"{float(lev) * 100:g}%"
        cov = rows[f"coverage_{lev}"].to_numpy(dtype=float)
        table[(f"{pct}区间覆盖率", f"{pct} coverage")[i]] = np.where(
            np.isnan(cov), "—", np.char.mod("%.1f%%", np.nan_to_num(100 * cov)).astype(object))
    table[("平均绝对误差", "MAE")[i]] = rows["mae"].to_numpy(dtype=float)
    rel = rows["relative_mae"].to_numpy(dtype=float)
    table[("相对误差", "relative MAE")[i]] = np.where(
        np.isnan(rel), "—", np.char.mod("%.1f%%", np.nan_to_num(100 * rel)).astype(object))
    return table
