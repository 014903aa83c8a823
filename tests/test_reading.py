"""Reading files (issue 7, family 4): encodings, sheets, headers, ragged rows, and every
decoder, parser or engine error turned into a DataError naming the file.

Expected values are the cells written in each test; row numbers are as a spreadsheet shows
them (title and header lines counted)."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fpanalysis import io, reading
from fpanalysis.schema import COUNTS, DataError

HEADER = "unit,period,births,births_male,births_female,deaths,population\n"
ROW = "101,2024-01,3,2,1,1,1000\n"


def problems(exc: pytest.ExceptionInfo) -> list[tuple[str, int | None, str | None, str]]:
    return [(Path(p.file).name, p.row, p.column, p.message) for p in exc.value.problems]


def _workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
    wb.save(path)
    return path


SHEET_A = [["unit", "period", "births_male", "births_female"], ["101", "2024-01", 2, 1]]
SHEET_B = [["unit", "period", "births_male", "births_female"], ["101", "2024-02", 5, 4]]


def test_a_workbook_of_several_sheets_needs_sheet(tmp_path):
    f = _workbook(tmp_path / "c.xlsx", {"一月": SHEET_A, "二月": SHEET_B})
    with pytest.raises(DataError) as e:
        io.load_counts(f)
    assert problems(e) == [("c.xlsx", None, None, "the workbook has 2 sheets ('一月', '二月'): "
                                                  "name the one to read with sheet=")]
    by_name = io.load_counts(f, sheet="二月")
    by_index = io.load_counts(f, sheet=1)
    # the second sheet's one row: 5 boys, 4 girls in 2024-02
    assert by_name[["births_male", "births_female"]].values.tolist() == [[5, 4]]
    pd.testing.assert_frame_equal(by_name, by_index)
    assert io.load_report(by_name).sheet == "二月"
    with pytest.raises(DataError) as e:
        io.load_counts(f, sheet="三月")
    assert problems(e) == [("c.xlsx", None, None, "no sheet '三月' in the workbook; its sheets "
                                                  "are '一月', '二月'")]
    with pytest.raises(DataError) as e:
        io.load_counts(f, sheet=2)
    assert problems(e) == [("c.xlsx", None, None, "no sheet number 2 (0-based) in the "
                                                  "workbook; its sheets are '一月', '二月'")]


def test_a_one_sheet_workbook_needs_no_sheet(tmp_path):
    c = io.load_counts(_workbook(tmp_path / "c.xlsx", {"一月": SHEET_A}))
    assert c[["births_male", "births_female"]].values.tolist() == [[2, 1]]


def test_a_damaged_workbook_is_a_data_error(write):
    f = write("c.xlsx", "this is not a zip archive")
    with pytest.raises(DataError) as e:
        io.load_counts(f)
    (file, row, column, message), = problems(e)
    assert (file, row, column) == ("c.xlsx", None, None)
    assert message.startswith("the workbook cannot be read: ")


def test_utf16_with_bom_is_read(write):
    c = io.load_counts(write("c.csv", HEADER + ROW, encoding="utf-16"))
    assert c["births"].tolist() == [3]
    assert io.load_report(c).encoding == "utf-16"


def test_undecodable_bytes_are_a_data_error(tmp_path):
    f = tmp_path / "c.csv"
    f.write_bytes(HEADER.encode() + b"101,2024-01,\xff\xfe\x80,1,1,0,9\n")
    with pytest.raises(DataError) as e:
        io.load_counts(f)
    # 0xff is the first byte neither UTF-8 nor GB18030 accepts, at offset len(HEADER) + 12
    assert problems(e) == [("c.csv", None, None, "cannot decode the file as utf-8-sig or "
                            f"gb18030 (byte 0xff at offset {len(HEADER) + 12}): save it as "
                            "UTF-8 or GB18030")]


def test_a_field_beyond_the_csv_limit_is_a_data_error(tmp_path):
    f = tmp_path / "c.csv"
    f.write_text(HEADER + '101,2024-01,"' + "9" * (csv.field_size_limit() + 1) + '",1,1,0,9\n')
    with pytest.raises(DataError) as e:
        io.load_counts(f)
    assert problems(e) == [("c.csv", None, None, "CSV cannot be parsed: field larger than "
                                                 f"field limit ({csv.field_size_limit()})")]


def test_an_unclosed_quote_is_a_data_error(write):
    with pytest.raises(DataError) as e:
        io.load_counts(write("c.csv", HEADER + '101,2024-01,"3,2,1,1,1000\n'))
    assert problems(e) == [("c.csv", None, None, "CSV cannot be parsed: unexpected end of data")]


def test_ragged_rows_are_reported_with_their_row_numbers(write):
    f = write("c.csv", HEADER + ROW + "102,2024-01,2,1,1,0,900,7\n"
                                      "103,2024-01,2,1,1,0,900,,\n"
                                      "104,2024-01,2,1,1,0,900,1,2\n")
    with pytest.raises(DataError) as e:
        io.load_counts(f)
    # row 4 has only empty cells beyond the header: harmless trailing commas
    assert problems(e) == [("c.csv", 3, None, "ragged row: 8 cells but the header has 7"),
                           ("c.csv", 5, None, "ragged row: 9 cells but the header has 7")]


def test_duplicate_header_names_are_refused(write):
    f = write("c.csv", "unit,period,births,births_male,births_female,births\n"
                       "101,2024-01,3,2,1,3\n")
    with pytest.raises(DataError) as e:
        io.load_counts(f)
    assert problems(e) == [("c.csv", 1, "births", "duplicate header: columns 3 and 6 are both "
                                                  "named 'births'")]


def test_two_aliases_of_one_column_are_refused(write):
    f = write("c.csv", "unit,period,出生数,births\n101,2024-01,3,3\n")
    with pytest.raises(DataError) as e:
        io.load_counts(f)
    assert problems(e) == [("c.csv", 1, "births", "header means the same column (births) as "
                                                  "'出生数'")]


def test_sheet_is_for_workbooks_only(write):
    with pytest.raises(ValueError, match="^sheet= applies only to Excel workbooks$"):
        io.load_counts(write("c.csv", HEADER + ROW), sheet=0)


# --- the fast path (pandas' C parser below the header) must read exactly what the careful
# path (the strict csv module) reads, or leave the file to it. The reference here is the
# careful path itself, run with the fast path switched off: the two are independent parsers.

CELLS = ["3", " 4 ", "+5", "-2", "007", '"1,234"', '"1,2,3"', "3,5", "3.5", "3.0", "1e3", "",
         "9007199254740993", "99999999999999999999", "x", '"a""b"', '"x\ny"', '"ab"c',
         'a"b', '""', "合计", "注：单位", "inf", "True", " ", "\ufeff1", "a\x00b", "\x1a", "#c",
         "\t2", "1\x0b"]


def _careful(monkeypatch, run):
    """Run ``run()`` with the fast path switched off; return its result or its problems."""
    with monkeypatch.context() as m:
        m.setattr(reading, "_csv_fast", lambda *a, **k: None)
        return _outcome(run)


def _outcome(run):
    try:
        return run()
    except DataError as exc:
        return [(p.row, p.column, p.message) for p in exc.problems]


@settings(max_examples=int(__import__("os").environ.get("FUZZ", 150)), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(title=st.booleans(),
       rows=st.lists(st.lists(st.sampled_from(CELLS), min_size=0, max_size=6), max_size=8),
       ends=st.lists(st.sampled_from(["\n", "\r\n", "\r"]), min_size=9, max_size=9),
       last=st.booleans())
def test_fast_and_careful_paths_agree(tmp_path, monkeypatch, title, rows, ends, last):
    # unit and period are keys (text); births and deaths are counts; the rows are random
    # cells: clean, blank, ragged, badly quoted, quoted line breaks, thousands, big integers
    lines = (["2024年报表"] if title else []) + ["unit,period,births,deaths"] + [
        ",".join(r) for r in rows]
    text = "".join(line + end for line, end in zip(lines, ends, strict=False))
    if not last:
        text = text.rstrip("\r\n")
    f = tmp_path / "c.csv"
    f.write_bytes(text.encode("utf-8"))
    spec = COUNTS
    fast = reading._csv_fast(text, str(f), spec, (), None)
    careful = _careful(monkeypatch, lambda: reading.read_table(f, spec))
    if fast is not None:
        assert isinstance(careful, reading.RawTable)
        assert fast.rows.tolist() == careful.rows.tolist()
        assert fast.header_row == careful.header_row
        assert fast.problems == careful.problems
        assert list(fast.frame.columns) == list(careful.frame.columns)
        for c in careful.frame.columns:
            got, want = fast.frame[c], careful.frame[c]
            if got.dtype == "int64":  # typed: the careful text is an integer of that value
                assert [int(t) for t in want] == got.tolist()
            elif got.dtype == "float64":  # typed whole numbers; NaN for an empty cell
                assert [float(t) if t else None for t in want] == \
                    [None if pd.isna(v) else v for v in got.tolist()]
            else:
                assert got.tolist() == want.tolist()
    assert _outcome(lambda: io.load_counts(f)).__repr__() == \
        _careful(monkeypatch, lambda: io.load_counts(f)).__repr__()


def test_a_quoted_line_break_keeps_spreadsheet_row_numbers(write):
    # the remark of row 3 holds a line break inside quotes: a spreadsheet shows it as one
    # row, so the negative count below it is on row 4 (file line 5)
    f = write("c.csv", "unit,period,births,remark\n101,2024-01,3,ok\n"
                       '102,2024-01,2,"two\nlines"\n103,2024-01,-1,x\n')
    assert reading._csv_fast(f.read_text(), str(f), COUNTS, (), None) is not None
    with pytest.raises(DataError) as e:
        io.load_counts(f)
    assert problems(e) == [("c.csv", 4, "births", "negative count: -1")]


def test_a_quote_closed_before_other_text_is_a_data_error(write):
    # pandas' C parser would read "3"x as 3x; the strict csv module refuses it
    f = write("c.csv", HEADER + ROW + '102,2024-01,"3"x,2,1,0,9\n')
    with pytest.raises(DataError) as e:
        io.load_counts(f)
    assert problems(e) == [("c.csv", None, None,
                            "CSV cannot be parsed: ',' expected after '\"'")]


def test_trailing_commas_on_every_row_still_load(write):
    # every row has two empty cells beyond the header: harmless, read by the careful path
    f = write("c.csv", HEADER.rstrip("\n") + "\n" + ROW.rstrip("\n") + ",,\n"
              + "102,2024-01,2,1,1,0,900,,\n")
    c = io.load_counts(f)
    assert c["births"].tolist() == [3, 2]
    assert c["population"].tolist() == [1000, 900]


def test_big_and_thousands_cells_in_a_clean_file_keep_their_rules(write):
    # the C parser would take "1,2,3" quoted as text and 9007199254740993 as int64: each
    # column falls back to the strict number parser with its messages
    f = write("c.csv", HEADER + '101,2024-01,"1,2,3",2,1,1,9007199254740993\n'
                                '102,2024-01,"1,234",1000,234,0,9\n')
    with pytest.raises(DataError) as e:
        io.load_counts(f)
    assert problems(e) == [("c.csv", 2, "births", "malformed number: '1,2,3' (commas only "
                            "between groups of three digits, e.g. 1,234; decimals with a "
                            "point, e.g. 3.5)")]
    ok = write("d.csv", HEADER + '101,2024-01,"1,234",1000,234,1,9007199254740993\n')
    c = io.load_counts(ok)
    # 1,234 is 1234; the population is exact above 2**53 (2**53 + 1)
    assert c["births"].tolist() == [1234]
    assert c["population"].tolist() == [9007199254740993]


def test_a_quoted_field_of_short_lines_beyond_the_csv_limit_is_a_data_error(tmp_path):
    # three lines of 60,000 characters, each below the limit, make one quoted field of
    # 180,002 characters, beyond csv.field_size_limit() (131,072 by default)
    limit = csv.field_size_limit()
    field = "\n".join(["x" * 60_000] * 3)
    assert len(field) > limit
    f = tmp_path / "c.csv"
    f.write_text("unit,period,births,remark\n101,2024-01,3,\"" + field + '"\n')
    with pytest.raises(DataError) as e:
        io.load_counts(f)
    assert problems(e) == [("c.csv", None, None, "CSV cannot be parsed: field larger than "
                                                 f"field limit ({limit})")]


def test_an_office_file_is_read_by_the_fast_path(write):
    # a title line, a blank row, a totals row and a note: all read by pandas' C parser,
    # with rows numbered as in the file (title 1, header 2, data from 3)
    f = write("c.csv", "2024年1月 出生统计\n" + HEADER + ROW + "\n"
                       "102,2024-01,2,1,1,0,900\n合计,2024-01,5,3,2,1,1900\n"
                       "注：数据来源 县卫健委\n")
    raw = reading._csv_fast(f.read_text(encoding="utf-8"), str(f), COUNTS, (), None)
    assert raw is not None and raw.header_row == 2
    assert raw.rows.tolist() == [3, 4, 5, 6, 7]
    assert str(raw.frame["births"].dtype) == "float64"  # whole numbers, NaN where empty
    c = io.load_counts(f)
    assert c["births"].tolist() == [3, 2]
    assert io.load_report(c).skipped == [
        (4, "blank row"), (6, "totals row (checked against the rows above)"),
        (7, "note below or beside the table: '注：数据来源 县卫健委'")]


def test_workbook_formula_without_a_saved_value_is_refused(tmp_path):
    # openpyxl (and other programs) write formulas without their results; read as data
    # the cell would be an empty count in silence
    wb = openpyxl.Workbook()
    wb.active.append(["unit", "period", "births_male", "births_female"])
    wb.active.append(["101", "2024-07", "=1+1", 1])
    wb.save(tmp_path / "f.xlsx")
    with pytest.raises(DataError) as e:
        io.load_counts(tmp_path / "f.xlsx")
    assert [(p.row, p.column, p.message) for p in e.value.problems] == [
        (2, "column C", "formula =1+1 has no saved value: open the workbook in Excel or WPS "
                        "and save it")]


def test_workbook_integer_beyond_2_53_is_refused_not_rounded(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.append(["unit", "period", "births_male", "births_female"])
    wb.active.append(["101", "2024-07", 9007199254740993, 1])
    wb.save(tmp_path / "big.xlsx")
    with pytest.raises(DataError, match="row 2, column 'births_male': number too large"):
        io.load_counts(tmp_path / "big.xlsx")
