"""Loading and validation. Every rule gets a bad file and the exact file/row/column asserted;
row numbers are as a spreadsheet program shows them (header and title lines counted)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from fpanalysis import io
from fpanalysis.schema import DataError, canonical_header

HEADER = "unit,period,births,births_male,births_female,deaths,population\n"
UNITS = ("unit,name,parent,level\n100,青禾县,,county\n101,东林镇,100,township\n"
         "102,双凰乡,100,township\n")


def problems(exc: pytest.ExceptionInfo) -> list[tuple[str, int | None, str | None, str]]:
    return [(Path(p.file).name, p.row, p.column, p.message) for p in exc.value.problems]


def where(exc: pytest.ExceptionInfo) -> list[tuple[str, int | None, str | None]]:
    return [t[:3] for t in problems(exc)]


def test_sample_loads_with_every_row_accounted_for(sample_dir):
    counts = io.load_counts(sample_dir)
    rep = io.load_report(counts)
    assert rep.rows_in == rep.rows_used + len(rep.skipped) == len(counts) == 647
    # 18 townships x 36 months, less the month synth.PLANTED removes
    assert counts["period"].dtype == "period[M]"
    assert counts["births"].dtype == "Int64"
    assert counts.index.equals(pd.RangeIndex(len(counts)))


def test_missing_required_column(write):
    f = write("c.csv", "unit,births_male,births_female\n101,1,2\n")
    with pytest.raises(DataError) as e:
        io.load_counts(f)
    assert where(e) == [("c.csv", 1, "period")]
    assert "required column is missing" in str(e.value)


def test_non_numeric_negative_and_fractional_counts(write):
    f = write("c.csv", HEADER + "101,2024-01,3,abc,1,0,1000\n"
                                "101,2024-02,1,1,0,-2,1000\n"
                                "101,2024-03,2,1.5,0.5,0,1000\n")
    with pytest.raises(DataError) as e:
        io.load_counts(f)
    got = problems(e)
    assert ("c.csv", 2, "births_male", "not a number: 'abc'") in got
    assert ("c.csv", 3, "deaths", "negative count: -2") in got
    assert ("c.csv", 4, "births_male", "count is not a whole number: 1.5") in got
    assert ("c.csv", 4, "births_female", "count is not a whole number: 0.5") in got


def test_male_plus_female_must_equal_births(write):
    f = write("c.csv", HEADER + "101,2024-01,3,1,1,0,1000\n")
    with pytest.raises(DataError) as e:
        io.load_counts(f)
    assert problems(e) == [("c.csv", 2, "births",
                            "male + female births = 2 but total births = 3")]


def test_duplicate_unit_period(write):
    f = write("c.csv", HEADER + "101,2024-01,2,1,1,0,1000\n102,2024-01,2,1,1,0,900\n"
                                "101,2024年1月,2,1,1,0,1000\n")
    with pytest.raises(DataError) as e:
        io.load_counts(f)
    assert where(e) == [("c.csv", 4, "unit, period")]
    assert "same key as row 2" in problems(e)[0][3]


def test_unknown_unit_code(write, tmp_path):
    write("units.csv", UNITS)
    f = write("c.csv", HEADER + "101,2024-01,2,1,1,0,1000\n999,2024-01,2,1,1,0,1000\n")
    with pytest.raises(DataError) as e:
        io.load_counts(f, units=tmp_path / "units.csv")
    assert problems(e) == [("c.csv", 3, "unit", "unknown unit code '999' (not in units)")]


def test_unparseable_period(write):
    f = write("c.csv", HEADER + "101,2024-13,2,1,1,0,1000\n101,,2,1,1,0,1000\n")
    with pytest.raises(DataError) as e:
        io.load_counts(f)
    assert where(e) == [("c.csv", 2, "period"), ("c.csv", 3, "period")]
    assert "cannot read period '2024-13'" in problems(e)[0][3]
    assert problems(e)[1][3] == "period is empty"


def test_one_kind_of_period_per_file(write):
    f = write("c.csv", HEADER + "101,2024-01,2,1,1,0,1000\n102,2024-01,2,1,1,0,900\n"
                                "101,2024Q1,2,1,1,0,1000\n")
    with pytest.raises(DataError) as e:
        io.load_counts(f)
    assert problems(e) == [("c.csv", 4, "period", "period '2024Q1' is a quarter, but this "
                                                  "file holds month periods (one kind of "
                                                  "period per file)")]


def test_dekad_counts_load(write):
    c = io.load_counts(write("c.csv", HEADER + "101,2024年7月上旬,2,1,1,0,1000\n"
                                               "101,2024-07-D2,2,1,1,0,1000\n"))
    assert [str(p) for p in c["period"]] == ["2024-07-D1", "2024-07-D2"]


@pytest.mark.parametrize("text", ["", "\n\n", "  \r\n"])
def test_empty_file(write, text):
    f = write("c.csv", text)
    with pytest.raises(DataError) as e:
        io.load_counts(f)
    assert problems(e) == [("c.csv", None, None, "the file is empty")]


def test_population_zero_with_births(write):
    f = write("c.csv", HEADER + "101,2024-01,2,1,1,0,0\n101,2024-02,0,0,0,0,0\n")
    with pytest.raises(DataError) as e:
        io.load_counts(f)
    assert problems(e) == [("c.csv", 2, "population", "population is 0 but there are 2 births")]


def test_parent_cycle_in_hierarchy(write):
    f = write("units.csv", "unit,name,parent,level\n100,青禾县,,county\n101,甲镇,103,township\n"
                           "102,乙镇,100,township\n103,丙村,101,village\n")
    with pytest.raises(DataError) as e:
        io.load_units(f)
    got = problems(e)
    assert ("units.csv", 3, "parent", "parent cycle: 101 -> 103 -> 101") in got
    assert ("units.csv", 5, "parent", "parent cycle: 103 -> 101 -> 103") in got


def test_unit_rules_unknown_parent_level_and_duplicate(write):
    f = write("units.csv", "unit,name,parent,level\n100,青禾县,,county\n101,甲镇,100,township\n"
                           "101,乙镇,100,township\n104,丁村,999,village\n105,戊,100,city\n"
                           "106,己村,100,village\n")
    with pytest.raises(DataError) as e:
        io.load_units(f)
    assert where(e) == [("units.csv", 4, "unit"), ("units.csv", 5, "parent"),
                        ("units.csv", 6, "level"), ("units.csv", 7, "parent")]
    assert problems(e)[3][3] == ("a village's parent must be an area or a township (the next "
                                 "level up; areas are optional), but '100' is a county")


def test_several_problems_are_all_listed(write):
    f = write("c.csv", HEADER + "101,2024-01,3,1,1,0,1000\n"
                                "101,2024-99,2,1,1,0,1000\n"
                                "101,2024-01,2,x,1,0,1000\n"
                                "102,2024-02,2,1,1,-1,0\n")
    with pytest.raises(DataError) as e:
        io.load_counts(f)
    assert where(e) == [("c.csv", 2, "births"), ("c.csv", 3, "period"),
                        ("c.csv", 4, "births_male"), ("c.csv", 4, "unit, period"),
                        ("c.csv", 5, "deaths"), ("c.csv", 5, "population")]
    text = str(e.value)
    assert text.startswith("6 problem(s) found:")
    assert text.count("c.csv, row") == 6


def test_chinese_headers_title_lines_totals_and_notes_in_gbk(write):
    text = ("青禾县2024年1月人口出生统计表\n填报单位：青禾县统计局,,,,,\n"
            "乡镇代码,期间,出生数,男,女,死亡数,平均人口,备注\n"
            "101,2024年1月,3,2,1,1,1000,\n102,2024年1月,2,1,1,0,900,新建\n"
            "合计,,5,3,2,1,1900,\n\n注：本表数据截至2月5日。,,,,,\n")
    f = write("c.csv", text, encoding="gbk")
    counts = io.load_counts(f)
    english = io.load_counts(write("e.csv", HEADER + "101,2024-01,3,2,1,1,1000\n"
                                                     "102,2024-01,2,1,1,0,900\n"))
    pd.testing.assert_frame_equal(counts.drop(columns="备注"), english)
    rep = io.load_report(counts)
    assert rep.header_row == 3
    assert rep.encoding == "gb18030"
    assert rep.rows_in == rep.rows_used + len(rep.skipped) == 5
    assert [r for r, _ in rep.skipped] == [6, 7, 8]
    assert "totals row" in rep.skipped[0][1] and "note" in rep.skipped[2][1]


def test_totals_row_mismatch_is_a_problem(write):
    f = write("c.csv", HEADER + "101,2024-01,3,2,1,1,1000\n102,2024-01,2,1,1,0,900\n"
                                "合计,,6,3,3,1,1900\n")
    with pytest.raises(DataError) as e:
        io.load_counts(f)
    assert problems(e) == [
        ("c.csv", 4, "births", "totals row says 6 but the rows above it sum to 5"),
        ("c.csv", 4, "births_female", "totals row says 3 but the rows above it sum to 2"),
    ]


def test_utf8_with_bom_and_explicit_header_row(write):
    f = write("c.csv", "\ufeff标题\n" + HEADER + "101,2024-01,3,2,1,1,1000\n")
    c = io.load_counts(f, header_row=2)
    assert c["births"].tolist() == [3]
    assert io.load_report(c).encoding == "utf-8-sig"


def test_csv_xlsx_and_parquet_give_identical_frames(tmp_path, sample_dir):
    csv = io.load_counts(sample_dir / "counts.csv")
    raw = pd.read_csv(sample_dir / "counts.csv", dtype={"unit": str})
    xlsx = tmp_path / "counts.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["青禾县分月人口统计"])
    ws.merge_cells("A1:F1")
    ws.append(list(raw.columns))
    for row in raw.head(60).itertuples(index=False):
        ws.append(list(row))
    ws.append(["注：示例数据"])
    wb.save(xlsx)
    from_xlsx = io.load_counts(xlsx)
    pd.testing.assert_frame_equal(from_xlsx, csv.iloc[:60].reset_index(drop=True))
    assert io.load_report(from_xlsx).skipped == [(63, "note below or beside the table: "
                                                            "'注：示例数据'")]
    parquet = tmp_path / "counts.parquet"
    raw.to_parquet(parquet)
    pd.testing.assert_frame_equal(io.load_counts(parquet), csv)


def test_shuffled_rows_give_the_same_frame(tmp_path, sample_dir):
    raw = pd.read_csv(sample_dir / "counts.csv", dtype={"unit": str})
    shuffled = tmp_path / "counts.csv"
    raw.sample(frac=1, random_state=3).to_csv(shuffled, index=False)
    pd.testing.assert_frame_equal(io.load_counts(shuffled), io.load_counts(sample_dir))


def test_unit_names_instead_of_codes(write, tmp_path):
    write("units.csv", UNITS)
    f = write("c.csv", "乡镇,期间,男,女\n东林镇,2024-01,2,1\n双凰乡,2024-01,0,1\n"
                       "无名乡,2024-01,1,1\n")
    with pytest.raises(DataError) as e:
        io.load_counts(f, units=tmp_path / "units.csv")
    # issue 7: a name that matches no unit is reported as a name, not passed on as a code
    assert problems(e) == [("c.csv", 4, "name", "unknown unit name '无名乡' (not in units)")]


def test_consistency_rules_between_columns(write):
    f = write("c.csv", "unit,period,births,births_compliant,deaths,deaths_infant,"
                       "antenatal_followed,antenatal_due\n"
                       "101,2024-01,3,4,1,2,5,4\n")
    with pytest.raises(DataError) as e:
        io.load_counts(f)
    assert where(e) == [("c.csv", 2, "births_compliant"), ("c.csv", 2, "deaths_infant"),
                        ("c.csv", 2, "antenatal_followed")]


def test_pair_column_missing(write):
    f = write("c.csv", "unit,period,births_male\n101,2024-01,3\n")
    with pytest.raises(DataError) as e:
        io.load_counts(f)
    assert where(e) == [("c.csv", None, "births_female")]


def test_empty_cells_stay_missing_not_zero(write):
    c = io.load_counts(write("c.csv", HEADER + "101,2024-01,,,,1,1000\n"))
    assert c["births"].isna().all() and c["deaths"].tolist() == [1]


def test_audits(sample_dir, write):
    a = io.load_audits(sample_dir)
    assert list(a.columns) == ["unit", "period", "item", "reported", "checked", "false_found"]
    assert (a["checked"] <= a["reported"]).all() and (a["false_found"] <= a["checked"]).all()
    f = write("a.csv", "单位代码,期间,项目,上报数,抽查数,不实数\n101,2024Q1,births,20,27,5\n"
                       "101,2024Q2,births,30,27,28\n")
    with pytest.raises(DataError) as e:
        io.load_audits(f)
    assert problems(e) == [("a.csv", 2, "checked", "checked (27) exceeds reported (20)"),
                           ("a.csv", 3, "false_found", "false_found (28) exceeds checked (27)")]


def test_audits_refuse_an_empty_count_cell(write):
    # finding U7: an empty false_found (or checked / reported) cell was read as missing and
    # passed; a re-check with no count is not a re-check with none false
    f = write("a.csv", "unit,period,item,reported,checked,false_found\n"
                       "101,2024Q3,births,60,27,\n102,2024Q3,births,60,,3\n"
                       "103,2024Q3,births,,27,3\n104,2024Q3,births,60,27,3\n")
    with pytest.raises(DataError) as e:
        io.load_audits(f)
    assert sorted(problems(e)) == [("a.csv", 2, "false_found", "false_found is empty"),
                                   ("a.csv", 3, "checked", "checked is empty"),
                                   ("a.csv", 4, "reported", "reported is empty")]


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="no counts.csv"):
        io.load_counts(tmp_path)


@pytest.mark.parametrize(("header", "canonical"), [
    ("出生数", "births"), ("男", "births_male"), ("年末人口", "population_end"),
    ("25-29岁妇女", "women_25_29"), ("30～34岁生育数", "births_age_30_34"),
    ("30-34岁生育数", "births_age_30_34"), ("乡镇", "name"), ("BIRTHS_MALE", "births_male"),
    ("早孕建册数", "pregnancies_registered_early"),
])
def test_alias_table(header, canonical):
    assert canonical_header(header) == canonical


def test_population_start_end_averaged(write):
    c = io.load_counts(write("c.csv", "unit,period,births_male,births_female,年初人口,年末人口\n"
                                      "101,2024,3,2,1000,1011\n"))
    assert c["population"].tolist() == [1005.5]
    assert np.isclose(c["population"].iloc[0], 1005.5)


def test_every_problem_is_kept_and_the_message_stays_readable(write):
    rows = "".join(f"{100 + i},2024-01,x,1,1,0,1000\n" for i in range(250))
    with pytest.raises(DataError) as e:
        io.load_counts(write("c.csv", HEADER + rows))
    assert len(e.value.problems) == 250
    text = str(e.value)
    assert text.startswith("250 problem(s) found:")
    assert text.count("\n  - ") == 200 and text.endswith("… and 50 more (all are in .problems)")


# --------------------------------------------------------------------------- issue 7
# Expected values are the cells written in each test; row numbers count the header line.

MALFORMED = ("malformed number: {!r} (commas only between groups of three digits, e.g. 1,234; "
             "decimals with a point, e.g. 3.5)")


_BAD_COMMAS = ("1,2,3", "12,34", "3,5")


@pytest.mark.parametrize(("loader", "head", "row", "column"), [
    (io.load_counts, "unit,period,deaths", '10{i},2024-01,"{cell}"', "deaths"),
    (io.load_values, "unit,period,indicator,value", '10{i},2024,income,"{cell}"', "value"),
    (io.load_scores, "unit,period,score", '10{i},2024,"{cell}"', "score"),
])
def test_malformed_thousands_and_decimal_commas_are_refused(write, loader, head, row, column):
    # before issue 7, "1,2,3" loaded as 123 and "3,5" as 35
    body = "".join(row.format(i=i, cell=cell) + "\n" for i, cell in enumerate(_BAD_COMMAS))
    f = write("f.csv", head + "\n" + body)
    with pytest.raises(DataError) as e:
        loader(f)
    assert problems(e) == [("f.csv", 2 + i, column, MALFORMED.format(cell))
                           for i, cell in enumerate(_BAD_COMMAS)]


def test_well_formed_thousands_still_load(write):
    c = io.load_counts(write("c.csv", 'unit,period,population,deaths\n'
                                      '101,2024-01,"12,345,678","1,234"\n'))
    assert c[["population", "deaths"]].values.tolist() == [[12345678, 1234]]
    v = io.load_values(write("v.csv", 'unit,period,indicator,value\n101,2024,income,"1,234.5"\n'))
    assert v["value"].tolist() == [1234.5]


def test_integers_beyond_2_53_are_exact_in_counts_and_refused_in_values(write):
    # 2**53 + 1 = 9007199254740993 has no float64 of its own: as a float it reads ...992
    c = io.load_counts(write("c.csv", "unit,period,population\n101,2024-01,9007199254740993\n"))
    assert c["population"].dtype == "Int64"
    assert int(c["population"].iloc[0]) == 2 ** 53 + 1
    with pytest.raises(DataError) as e:
        io.load_values(write("v.csv", "unit,period,indicator,value\n"
                                      "101,2024,x,9007199254740993\n"))
    assert problems(e) == [("v.csv", 2, "value", "number too large to be held exactly: "
                            "'9007199254740993' (at most 2**53 = 9007199254740992)")]
    with pytest.raises(DataError) as e:
        io.load_counts(write("c2.csv", "unit,period,population\n101,2024-01,9.007199254740993e15\n"
                                       "102,2024-01,99999999999999999999\n"))
    assert problems(e) == [
        ("c2.csv", 2, "population", "number too large to be held exactly: "
                                    "'9.007199254740993e15' (write it as a whole number "
                                    "without a decimal point or exponent)"),
        ("c2.csv", 3, "population", "number too large: '99999999999999999999' "
                                    "(at most 9223372036854775806)")]


def test_keys_are_normalised_before_the_duplicate_check(write):
    # before issue 7, " 11" and "11" passed as two units; full-width １１ is NFKC 11
    f = write("c.csv", HEADER + " 11,2024-01,2,1,1,0,1000\n11,2024-01,2,1,1,0,1000\n"
                                "１１,２０２４-01,2,1,1,0,1000\n")
    with pytest.raises(DataError) as e:
        io.load_counts(f)
    assert problems(e) == [
        ("c.csv", 3, "unit, period", "duplicate (11, 2024-01): same key as row 2"),
        ("c.csv", 4, "unit, period", "duplicate (11, 2024-01): same key as row 2")]


def test_audit_and_value_keys_are_normalised_too(write):
    with pytest.raises(DataError) as e:
        io.load_values(write("v.csv", "unit,period,indicator,value\n101,2024,income ,5\n"
                                      "101,2024,ｉｎｃｏｍｅ,6\n"))
    assert problems(e) == [("v.csv", 3, "unit, period, indicator",
                            "duplicate (101, 2024, income): same key as row 2")]
    with pytest.raises(DataError) as e:
        io.load_audits(write("a.csv", "unit,period,item,reported,checked,false_found\n"
                                      "101,2024Q1,births,20,5,1\n101,2024Q1, births,20,5,1\n"))
    assert where(e) == [("a.csv", 3, "unit, period, item")]


def test_months_and_dekads_in_one_file(write):
    # before issue 7 this raised AttributeError from inside pandas
    f = write("c.csv", HEADER + "101,2024-07-D1,2,1,1,0,1000\n102,2024-07-D1,2,1,1,0,1000\n"
                                "101,2024-07,2,1,1,0,1000\n")
    with pytest.raises(DataError) as e:
        io.load_counts(f)
    assert problems(e) == [("c.csv", 4, "period", "period '2024-07' is a month, but this file "
                                                  "holds dekad periods (one kind of period per "
                                                  "file)")]


def test_period_given_for_a_one_period_sheet(write):
    f = write("c.csv", "2024年第三季度各乡镇出生统计\nunit,births_male,births_female\n"
                       "101,1,2\n102,3,4\n")
    c = io.load_counts(f, period="2024年第三季度")
    assert [str(p) for p in c["period"]] == ["2024Q3", "2024Q3"]
    assert c[["births_male", "births_female"]].values.tolist() == [[1, 2], [3, 4]]
    with pytest.raises(DataError) as e:
        io.load_counts(f)
    assert problems(e) == [("c.csv", 2, "period", "required column is missing (a sheet of one "
                                                  "period can be loaded with period=)")]
    g = write("g.csv", "unit,period,births_male,births_female\n101,2024Q3,1,2\n")
    with pytest.raises(DataError) as e:
        io.load_counts(g, period="2024Q3")
    assert problems(e) == [("g.csv", 1, "period", "the file has a period column, so period= "
                                                  "must not be given")]
    with pytest.raises(ValueError, match="^period must be a period label such as 2024Q3 or "
                                         "2024-07, got 'Q3'$"):
        io.load_counts(f, period="Q3")


UNITS_TWIN = UNITS + "1011,新村,101,village\n1021,新村,102,village\n"


def test_names_only_sheet_with_an_ambiguous_name_is_refused(write, tmp_path):
    write("units.csv", UNITS_TWIN)
    f = write("c.csv", "村,期间,男,女\n新村,2024-01,1,1\n东林镇,2024-01,1,1\n")
    with pytest.raises(DataError) as e:
        io.load_counts(f, units=tmp_path / "units.csv")
    assert problems(e) == [("c.csv", 2, "name", "ambiguous unit name '新村': units 1011, 1021 "
                                                "share it; give unit codes instead of names")]
    for loader, text in ((io.load_values, "单位,期间,指标,值\n新村,2024,income,5\n"),
                         (io.load_scores, "单位,期间,得分\n新村,2024,80\n"),
                         (io.load_audits, "单位,期间,项目,上报数,抽查数,不实数\n"
                                          "新村,2024Q1,births,3,2,1\n")):
        with pytest.raises(DataError) as e:
            loader(write("x.csv", text), units=tmp_path / "units.csv")
        assert where(e) == [("x.csv", 2, "name")]


def test_names_only_sheet_needs_units(write):
    with pytest.raises(DataError) as e:
        io.load_counts(write("c.csv", "乡镇,期间,男,女\n东林镇,2024-01,2,1\n"))
    assert problems(e) == [("c.csv", 1, "unit", "required column is missing (a sheet of unit "
                                                "names needs the units table: units=)")]


def test_the_countys_own_row_is_a_checked_totals_row(write, tmp_path):
    write("units.csv", UNITS)
    # 100 is the county of 101 and 102: its row is their total (3 + 2 = 5 births ...)
    f = write("c.csv", HEADER + "101,2024-01,3,2,1,1,1000\n102,2024-01,2,1,1,0,900\n"
                                "100,2024-01,5,3,2,1,1900\n100,2024-02,4,2,2,0,1900\n")
    c = io.load_counts(f, units=tmp_path / "units.csv")
    # in 2024-02 the county's row is the only one: its own figures, used
    assert c[["unit", "births"]].values.tolist() == [["100", 4], ["101", 3], ["102", 2]]
    rep = io.load_report(c)
    assert rep.rows_in == rep.rows_used + len(rep.skipped) == 4
    assert rep.skipped == [(4, "totals row (checked against the rows of its units below, in "
                               "the same period): unit 100")]
    bad = write("bad.csv", HEADER + "101,2024-01,3,2,1,1,1000\n102,2024-01,2,1,1,0,900\n"
                                    "100,2024-01,6,3,3,1,1900\n")
    with pytest.raises(DataError) as e:
        io.load_counts(bad, units=tmp_path / "units.csv")
    assert problems(e) == [
        ("bad.csv", 4, "births", "row for unit 100 is a totals row (its units below have rows "
                                 "for 2024-01): it says 6 but the 2 rows below it sum to 5"),
        ("bad.csv", 4, "births_female", "row for unit 100 is a totals row (its units below "
                                        "have rows for 2024-01): it says 3 but the 2 rows "
                                        "below it sum to 2")]


def test_user_indicator_columns_are_counts(write):
    from fpanalysis import indicators

    filing = indicators.proportion("filing_rate", "newlyweds_filed", "newlyweds")
    f = write("c.csv", "unit,period,newlyweds_filed,newlyweds\n101,2024-01,-3,5\n"
                       "101,2024-02,2.5,5\n101,2024-03,x,5\n101,2024-04,6,5\n")
    with pytest.raises(DataError) as e:
        io.load_counts(f, indicators=[filing])
    assert problems(e) == [
        ("c.csv", 2, "newlyweds_filed", "negative count: -3"),
        ("c.csv", 3, "newlyweds_filed", "count is not a whole number: 2.5"),
        ("c.csv", 4, "newlyweds_filed", "not a number: 'x'"),
        ("c.csv", 5, "newlyweds_filed", "newlyweds_filed (6) exceeds newlyweds (5)")]
    c = io.load_counts(write("ok.csv", "unit,period,newlyweds_filed,newlyweds,备注\n"
                                       "101,2024-01,3,5,补报\n101,2024-02,2,4,\n"),
                       indicators=[filing, "crude_birth_rate"])
    assert c["newlyweds_filed"].dtype == "Int64" and c["newlyweds"].tolist() == [5, 4]
    assert c["备注"].iloc[0] == "补报" and c["备注"].isna().tolist() == [False, True]
    assert io.load_report(c).unknown_columns == ["备注"]


def test_unknown_columns_are_listed_and_kept_as_text(write):
    c = io.load_counts(write("c.csv", "unit,period,births_male,births_female,newlyweds\n"
                                      "101,2024-01,1,2,007\n"))
    assert c["newlyweds"].tolist() == ["007"]
    rep = io.load_report(c)
    assert rep.unknown_columns == ["newlyweds"]
    assert "columns kept as text (not in any contract): newlyweds" in str(rep)


def test_indicators_must_be_indicator_objects(write):
    with pytest.raises(ValueError, match=r"^indicators must be Indicator objects \(with "
                                         r"\.columns\), got 3$"):
        io.load_counts(write("c.csv", HEADER + "101,2024-01,3,2,1,1,1000\n"), indicators=[3])


def test_loaded_frames_stay_ordinary_pandas(tmp_path, sample_dir):
    import json
    import pickle

    units = io.load_units(sample_dir)
    frames = {"units": units, "counts": io.load_counts(sample_dir, units=units),
              "audits": io.load_audits(sample_dir, units=units),
              "values": io.load_values(sample_dir, units=units),
              "scores": io.load_scores(sample_dir, units=units)}
    for name, frame in frames.items():
        report = io.load_report(frame)
        json.dumps(frame.attrs)  # the report is plain JSON data
        path = tmp_path / f"{name}.parquet"
        frame.to_parquet(path)  # before issue 7: TypeError, LoadReport not JSON serializable
        back = pd.read_parquet(path)
        pd.testing.assert_frame_equal(back, frame)
        assert io.load_report(back) == report
        # pandas writes Period cells to JSON only through a default handler (any frame)
        records = json.loads(frame.to_json(orient="records", default_handler=str))
        assert len(records) == len(frame) == report.rows_used
        both = pd.concat([frame, frame], ignore_index=True)
        assert len(both) == 2 * len(frame) and io.load_report(both) == report
        pd.testing.assert_frame_equal(pickle.loads(pickle.dumps(frame)), frame)
    assert frames["counts"]["period"].dtype == "period[M]"
    assert json.loads(frames["counts"].to_json(orient="records", default_handler=str))[0][
        "period"] == "2022-01"


def test_load_report_without_a_report():
    with pytest.raises(ValueError, match="^the frame carries no load report"):
        io.load_report(pd.DataFrame({"a": [1]}))


def test_parquet_counts_are_checked_like_csv(tmp_path):
    # typed columns: -1 is negative, 2.5 not whole, 2**53 as a float cannot be exact;
    # keys " 11" and "11" are one unit
    f = tmp_path / "c.parquet"
    pd.DataFrame({"unit": [" 11", "11", "12", "13"], "period": ["2024-01"] * 4,
                  "deaths": [1, 1, -1, 0], "population": [10.0, 10.0, 2.5, 2.0 ** 53]}
                 ).to_parquet(f)
    with pytest.raises(DataError) as e:
        io.load_counts(f)
    assert problems(e) == [
        ("c.parquet", 2, "unit, period", "duplicate (11, 2024-01): same key as row 1"),
        ("c.parquet", 3, "deaths", "negative count: -1"),
        ("c.parquet", 3, "population", "count is not a whole number: 2.5"),
        ("c.parquet", 4, "population", "number too large to be held exactly: "
                                       "9007199254740992 (store counts as integers)")]
    g = tmp_path / "g.parquet"
    pd.DataFrame({"unit": ["11"], "period": ["2024-01"],
                  "population": pd.array([2 ** 53 + 1], dtype="int64")}).to_parquet(g)
    assert int(io.load_counts(g)["population"].iloc[0]) == 2 ** 53 + 1


def test_a_malformed_number_in_a_totals_row_is_reported(write):
    f = write("c.csv", HEADER + "101,2024-01,3,2,1,1,1000\n102,2024-01,2,1,1,0,900\n"
                                '合计,,5,3,2,1,"1,9,0,0"\n')
    with pytest.raises(DataError) as e:
        io.load_counts(f)
    assert problems(e) == [("c.csv", 4, "population", MALFORMED.format("1,9,0,0"))]


def test_units_file_without_units_is_refused(write):
    f = write("units.csv", "unit,name,parent,level\n")
    with pytest.raises(DataError) as e:
        io.load_units(f)
    assert problems(e) == [("units.csv", 1, None, "no units below the header")]


def test_code_and_name_that_point_at_two_units_are_refused(write):
    # row 2 says unit 101 but names 双凰乡, which is unit 102: which one reported?
    units = write("units.csv", UNITS)
    f = write("c.csv", "乡镇代码,乡镇,期间,男,女\n101,双凰乡,2024-07,1,2\n102,双凰乡,2024-07,2,2\n")
    with pytest.raises(DataError) as e:
        io.load_counts(f, units=units)
    assert problems(e) == [("c.csv", 2, "name",
                            "name '双凰乡' does not match unit 101 (东林镇) in units")]


def test_two_files_for_one_table_are_refused(tmp_path, write):
    # counts.csv beside counts.xlsx used to load the csv in silence; which one holds the
    # figures is for the user to say (the workbook need not even be readable: it is never
    # opened)
    write("units.csv", UNITS)
    write("counts.csv", HEADER + "101,2024-01,3,2,1,0,1000\n")
    write("counts.xlsx", "not opened")
    with pytest.raises(DataError) as exc:
        io.load_counts(tmp_path)
    assert [str(p) for p in exc.value.problems] == [
        f"{tmp_path}: 2 files for the counts table: counts.csv and counts.xlsx; keep one "
        "(move the other out of the folder) or give the file itself"]
    # the file itself is read as given
    assert len(io.load_counts(tmp_path / "counts.csv", units=tmp_path / "units.csv")) == 1


def test_two_units_files_and_an_optional_table_twice_are_refused(tmp_path, write):
    write("units.csv", UNITS)
    write("units.parquet", "x")
    write("counts.csv", HEADER + "101,2024-01,3,2,1,0,1000\n")
    with pytest.raises(DataError, match=r"2 files for the units table: units.csv and "
                                        r"units.parquet"):
        io.load_counts(tmp_path)  # the units beside the counts are looked up too
    (tmp_path / "units.parquet").unlink()
    write("audits.csv", "x")
    write("audits.xlsx", "x")
    write("audits.parquet", "x")
    with pytest.raises(DataError, match=r"3 files for the audits table: audits.csv, "
                                        r"audits.xlsx and audits.parquet"):
        io.load_audits(tmp_path, optional=True)  # never taken for "no audits"
