"""Column contracts, the Chinese/English header alias table, and the data error type.

Every table the package reads is described here once: which columns it has, which are
required, which hold counts, and which Chinese headers county spreadsheets use for them.
``io.py`` reads files against these contracts; nothing else in the package knows about headers.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "ADJUSTMENTS",
    "AGE_GROUPS",
    "ALIASES",
    "AUDITS",
    "COUNTS",
    "DataError",
    "HOSPITAL_BIRTHS",
    "LEVELS",
    "OPTIONAL_LEVELS",
    "POPULATION_AGE",
    "POPULATION_AGE_GROUPS",
    "Problem",
    "SERVICES",
    "SEXES",
    "STOCK_COLUMNS",
    "Service",
    "TableSpec",
    "TOTAL_LABELS",
    "SCORES",
    "UNITS",
    "VALUES",
    "canonical_header",
    "count_columns",
    "suggestion",
]

#: Five-year age groups of women 15-49, as column suffixes.
AGE_GROUPS: tuple[str, ...] = ("15_19", "20_24", "25_29", "30_34", "35_39", "40_44", "45_49")

#: Birth orders with their own sex split: first, second, third and higher.
BIRTH_ORDERS: tuple[str, ...] = ("o1", "o2", "o3p")

#: Administrative levels, top down. An area (片, a group of villages that an office assesses
#: and ranks together) is optional: a village's parent is an area or a township.
LEVELS: tuple[str, ...] = ("county", "township", "area", "village")

#: Levels a unit's parent may skip: a village may sit directly under a township.
OPTIONAL_LEVELS: frozenset[str] = frozenset({"area"})

#: Cell values that mark a totals row in county spreadsheets (合计/总计) rather than a unit.
TOTAL_LABELS: frozenset[str] = frozenset(
    {"合计", "总计", "全县", "全县合计", "小计", "total", "totals", "sum", "all"}
)


@dataclass(frozen=True)
class Service:
    """A reproductive-health service indicator registered as a numerator/denominator pair.

    ``kind`` is ``"coverage"`` (a proportion, numerator <= denominator, Wilson interval) or
    ``"completion"`` (done against a plan, may exceed 100 %, Poisson interval on the numerator).
    """

    key: str
    numerator: str
    denominator: str
    label_zh: str
    label_en: str
    numerator_zh: str
    denominator_zh: str
    kind: str = "coverage"


#: The service indicators of the bundled sample scheme; users register their own in indicators.py.
SERVICES: tuple[Service, ...] = (
    Service("healthcare_coverage", "healthcare_covered", "healthcare_eligible",
            "孕前孕期保健覆盖率", "Pre- and peri-pregnancy health-care coverage",
            "孕前孕期保健覆盖人数", "应覆盖人数"),
    Service("early_registration_rate", "pregnancies_registered_early", "pregnancies_registered",
            "早孕建册率", "Early pregnancy registration",
            "早孕建册数", "孕产妇建册数"),
    Service("antenatal_followup_rate", "antenatal_followed", "antenatal_due",
            "孕期随访率", "Antenatal follow-up",
            "孕期随访人数", "应随访孕妇数"),
    Service("migrant_service_coverage", "migrants_served", "migrants_due",
            "流动人口服务覆盖率", "Migrant-population service coverage",
            "流动人口服务人数", "应服务流动人口数"),
    Service("postpartum_visit_rate", "postpartum_visited_timely", "postpartum_due",
            "产后访视及时率", "Timely postpartum visits",
            "产后及时访视数", "应访视产妇数"),
    Service("counselling_followup_rate", "counselling_followed", "counselling_due",
            "咨询随访率", "Counselling follow-up",
            "咨询随访数", "应随访咨询数"),
    Service("checkup_completion_ratio", "checkups_done", "checkups_planned",
            "孕前优生检查完成率", "Pre-pregnancy check-up completion against plan",
            "孕前优生检查完成数", "计划检查数", kind="completion"),
)


@dataclass(frozen=True)
class TableSpec:
    """The contract of one input table.

    Attributes
    ----------
    name : str
        Table name, also the stem of its file in a data directory (``counts.csv``).
    keys : tuple of str
        Columns that identify a row; duplicates are reported.
    required : tuple of str
        Columns that must be present.
    optional : tuple of str
        Other known columns.
    counts : tuple of str
        Columns holding non-negative integer counts.
    numbers : tuple of str
        Columns holding real numbers (any sign, fractions allowed): supplied values, scores.
    """

    name: str
    keys: tuple[str, ...]
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    counts: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        seen = dict.fromkeys(self.required + self.optional)
        return tuple(seen)


_BIRTH_COLS = ("births", "births_male", "births_female") + tuple(
    f"births_{sex}_{o}" for o in BIRTH_ORDERS for sex in ("male", "female")
)
_WOMEN_COLS = ("women_15_49",) + tuple(f"women_{a}" for a in AGE_GROUPS)
# births to mothers of 10-14 and 50-60 (valid ages outside the fertility schedule's groups;
# aggregate_events counts them here so that no birth of a valid mother goes uncounted)
_AGE_BIRTH_COLS = tuple(f"births_age_{a}" for a in AGE_GROUPS) + ("births_age_10_14",
                                                                    "births_age_50_60")
_SERVICE_COLS = tuple(c for s in SERVICES for c in (s.numerator, s.denominator))
_COUNT_COLS = (
    _BIRTH_COLS
    + ("deaths", "deaths_infant", "population", "population_start", "population_end",
       "births_compliant")
    + _WOMEN_COLS
    + _AGE_BIRTH_COLS
    + _SERVICE_COLS
)

#: Stocks (people present) rather than flows (events): rolled up to longer periods as a
#: day-weighted mean, never summed. Person-years are mean stock x days / days in year.
STOCK_COLUMNS: frozenset[str] = frozenset(
    {"population", "population_start", "population_end"} | set(_WOMEN_COLS)
)

COUNTS = TableSpec(
    name="counts",
    keys=("unit", "period"),
    required=("unit", "period"),
    optional=("name",) + _COUNT_COLS,
    counts=_COUNT_COLS,
)

UNITS = TableSpec(
    name="units",
    keys=("unit",),
    required=("unit", "name", "parent", "level"),
)

AUDITS = TableSpec(
    name="audits",
    keys=("unit", "period", "item"),
    required=("unit", "period", "item", "reported", "checked", "false_found"),
    optional=("name",),
    counts=("reported", "checked", "false_found"),
)

VALUES = TableSpec(
    name="values",
    keys=("unit", "period", "indicator"),
    required=("unit", "period", "indicator", "value"),
    optional=("name", "lower", "upper"),
    numbers=("value", "lower", "upper"),
)

SCORES = TableSpec(
    name="city_scores",
    keys=("unit", "period"),
    required=("unit", "period", "score"),
    optional=("name",),
    numbers=("score",),
)


#: Year-end adjustments (a deduction per case decided at year end, a bonus): several rows per
#: unit and year are normal, one per reason. The key is (unit, period, reason): the same
#: reason twice for a unit and year is refused as a row entered twice; several cases of one
#: kind go in one row with their summed points, or in rows whose reasons tell them apart
#: (the case number).
ADJUSTMENTS = TableSpec(
    name="adjustments",
    keys=("unit", "period", "reason"),
    required=("unit", "period", "points", "reason"),
    optional=("name",),
    numbers=("points",),
)


# -- second source of births (issue 9, consistency between sources) -------------------------
#: Births from a second source (hospital delivery records), per unit and period, to compare
#: with the register's. ``births`` (total) and the sex split are each optional, but the file
#: must hold a total or both sexes; when all three are given they must add up.
HOSPITAL_BIRTHS = TableSpec(
    name="births_hospital",
    keys=("unit", "period"),
    required=("unit", "period"),
    optional=("name", "births", "births_male", "births_female"),
    counts=("births", "births_male", "births_female"),
)
# -- end second source of births ------------------------------------------------------------


def suggestion(word: object, choices: Iterable[object]) -> str:
    """``" (did you mean 'x'?)"`` for the nearest of ``choices``, or ``""``: one helper for
    every message that refuses an unknown name.

    Examples
    --------
    >>> suggestion("complaince_rate", ["compliance_rate", "crude_birth_rate"])
    " (did you mean 'compliance_rate'?)"
    """
    near = difflib.get_close_matches(str(word), sorted({str(c) for c in choices}), n=1,
                                     cutoff=0.6)
    return f" (did you mean {near[0]!r}?)" if near else ""


def count_columns(columns: Iterable[str]) -> list[str]:
    """Return the contract count columns among ``columns``, in contract order."""
    present = set(columns)
    return [c for c in _COUNT_COLS if c in present]


def _age_aliases() -> dict[str, str]:
    out: dict[str, str] = {}
    for a in AGE_GROUPS:
        lo, hi = a.split("_")
        for dash in ("-", "~", "—", "至"):
            out[f"{lo}{dash}{hi}岁妇女"] = f"women_{a}"
            out[f"{lo}{dash}{hi}岁妇女数"] = f"women_{a}"
            out[f"{lo}{dash}{hi}岁生育数"] = f"births_age_{a}"
            out[f"{lo}{dash}{hi}岁出生数"] = f"births_age_{a}"
            out[f"母亲{lo}{dash}{hi}岁出生数"] = f"births_age_{a}"
    return out


#: Chinese (and common English variant) headers -> canonical column. One table for every loader.
ALIASES: dict[str, str] = {
    # keys and descriptors
    "单位代码": "unit", "代码": "unit", "编码": "unit", "乡镇代码": "unit", "村代码": "unit",
    "区划代码": "unit", "行政区划代码": "unit", "unit_code": "unit", "code": "unit",
    "片区代码": "unit", "片区": "name", "片区名称": "name",
    "单位": "name", "单位名称": "name", "乡镇": "name", "乡镇名称": "name", "名称": "name",
    "村": "name", "村名": "name", "地区": "name", "unit_name": "name",
    "上级代码": "parent", "上级单位代码": "parent", "上级": "parent", "上级单位": "parent",
    "级别": "level", "层级": "level",
    "期间": "period", "时期": "period", "统计期": "period", "月份": "period",
    "考核期": "period", "报告期": "period", "统计时期": "period",
    # births and deaths
    "出生数": "births", "出生人数": "births", "出生合计": "births", "出生": "births",
    "男": "births_male", "出生男": "births_male", "男婴": "births_male", "出生数男": "births_male",
    "女": "births_female", "出生女": "births_female", "女婴": "births_female",
    "出生数女": "births_female",
    "一孩男": "births_male_o1", "一孩女": "births_female_o1",
    "二孩男": "births_male_o2", "二孩女": "births_female_o2",
    "三孩及以上男": "births_male_o3p", "三孩及以上女": "births_female_o3p",
    "多孩男": "births_male_o3p", "多孩女": "births_female_o3p",
    "死亡数": "deaths", "死亡人数": "deaths", "死亡": "deaths",
    "婴儿死亡数": "deaths_infant", "婴儿死亡": "deaths_infant",
    "平均人口": "population", "年平均人口": "population", "平均人口数": "population",
    "人口数": "population", "总人口": "population",
    "年初人口": "population_start", "期初人口": "population_start",
    "年末人口": "population_end", "期末人口": "population_end",
    "政策内出生": "births_compliant", "符合政策出生数": "births_compliant",
    "政策内出生数": "births_compliant", "合法生育数": "births_compliant",
    "育龄妇女": "women_15_49", "育龄妇女数": "women_15_49", "15-49岁妇女": "women_15_49",
    # audits
    "项目": "item", "核查项目": "item", "上报数": "reported", "报告数": "reported",
    "抽查数": "checked", "核查数": "checked", "复核数": "checked",
    "不实数": "false_found", "虚报数": "false_found", "核查不实数": "false_found",
    # supplied values and external scores
    "指标": "indicator", "指标名称": "indicator", "值": "value", "数值": "value",
    "指标值": "value", "下限": "lower", "上限": "upper",
    "得分": "score", "考核得分": "score", "市考核得分": "score",
    # year-end adjustments: only sign-neutral headers (扣分/加分 carry a sign of their own
    # and are deliberately not aliases: -2 under 扣分 would be ambiguous)
    "调整分": "points", "调整分值": "points", "调整分数": "points", "加减分": "points",
    "加减分值": "points", "adjustment": "points",
    "原因": "reason", "调整原因": "reason", "加减分原因": "reason", "事由": "reason",
    "调整事由": "reason", "加减分事由": "reason", "理由": "reason",
    **_age_aliases(),
    **{s.numerator_zh: s.numerator for s in SERVICES},
    **{s.denominator_zh: s.denominator for s in SERVICES},
}

_KNOWN = {c for spec in (COUNTS, UNITS, AUDITS, VALUES, SCORES, ADJUSTMENTS)
          for c in spec.columns}


# ---- population by sex and age group (population_age.csv) ----

#: Sexes of the population_age contract.
SEXES: tuple[str, ...] = ("male", "female")

#: Abridged age groups of population_age.csv, in order: 0, 1-4, 5-9, ..., 95-99, 100+ (the
#: life table needs 0 and 1-4 apart; 0-4 is their sum).
POPULATION_AGE_GROUPS: tuple[str, ...] = ("0", "1-4") + tuple(
    f"{a}-{a + 4}" for a in range(5, 100, 5)) + ("100+",)

#: Mid-year population and the year's deaths by unit, year, sex and age group.
POPULATION_AGE = TableSpec(
    name="population_age",
    keys=("unit", "period", "sex", "age_group"),
    required=("unit", "period", "sex", "age_group", "population", "deaths"),
    optional=("name",),
    counts=("population", "deaths"),
)
ALIASES.update({"性别": "sex", "年龄组": "age_group", "年龄段": "age_group", "年龄": "age_group",
                "年龄别": "age_group", "age": "age_group", "年中人口": "population"})
_KNOWN |= set(POPULATION_AGE.columns)


def canonical_header(header: object) -> str | None:
    """Map a header cell to its canonical column name, or ``None`` if it is not known.

    Full-width characters are folded (NFKC), spaces, brackets and separators removed, and
    English headers compared case-insensitively.

    Examples
    --------
    >>> canonical_header("出生数（男）")
    'births_male'
    >>> canonical_header(" Births_Female ")
    'births_female'
    >>> canonical_header("备注") is None
    True
    """
    if header is None:
        return None
    text = unicodedata.normalize("NFKC", str(header)).strip()
    if not text:
        return None
    lowered = text.lower().replace(" ", "_")
    if lowered in _KNOWN:
        return lowered
    squeezed = re.sub(r"[\s()（）\[\]【】:：/_·.、]", "", text)
    for candidate in (text, squeezed):
        if candidate in ALIASES:
            return ALIASES[candidate]
    return None


@dataclass(frozen=True)
class Problem:
    """One problem found in an input file: where it is and what rule it breaks."""

    file: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        return f"{', '.join(where)}: {self.message}"


#: Problems spelled out in a DataError's message; all of them stay in ``.problems``.
MAX_LISTED = 200


class DataError(ValueError):
    """Input data break the contract. Carries every problem found, not only the first.

    Attributes
    ----------
    problems : list of Problem
        Each with ``file``, ``row`` (as numbered in the file, 1-based), ``column`` and
        ``message``.
    """

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        lines = [f"{len(self.problems)} problem(s) found:"]
        lines += [f"  - {p}" for p in self.problems[:MAX_LISTED]]
        if len(self.problems) > MAX_LISTED:
            lines.append(f"  … and {len(self.problems) - MAX_LISTED} more (all are in "
                         ".problems)")
        super().__init__("\n".join(lines))
