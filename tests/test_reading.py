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

from fpanalysis import io
from fpanalysis.schema import DataError

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
