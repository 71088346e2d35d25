"""Residents (实有人口) from the spreadsheets a community keeps: one row per person with the
household's address or key, GBK CSV or XLSX under a title row, every value checked (ID number
per GB 11643 against the birth date and sex given), member counts following the residents,
personal data never shown unmasked (issue 15, section 6: "every household and resident
field a file may carry")."""

from __future__ import annotations

import csv
import datetime as dt
from io import StringIO

import openpyxl
import pandas as pd
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from grids.models import Household, Resident, Sex
from grids.services.imports import import_households, import_residents, placing
from grids.services.imports.people import check_digit, check_id_number, check_phone
from tests.conftest import centre_of


@pytest.fixture(autouse=True)
def english():
    """These tests check the English wording of the messages (run with --language en); the
    Chinese the commands and the API speak by default is tested in test_import_words.py."""
    with translation.override("en"):
        yield


ADDRESS_A = "重庆市永川区中山路街道红旗社区中山路12号"
ADDRESS_B = "重庆市永川区中山路街道红旗社区中山路14号附1号"
HEADER = ["序号", "姓名", "性别", "公民身份号码", "出生日期", "联系电话", "门牌地址", "人员类别"]


def id_number(birth: str, male: bool, seq: int = 12) -> str:
    """A valid 18-digit number of the test district for a birth date YYYYMMDD."""
    body = f"500118{birth}{seq * 2 + (1 if male else 0):03d}"
    return body + check_digit(body)


ZHANG = id_number("19450312", True)
LI = id_number("19480705", False)
WANG = id_number("20150101", True, seq=40)
ZHAO = id_number("19700220", False, seq=7)


def people_rows():
    return [
        ["1", "张 三", "男", ZHANG, "1945-03-12", "13812345678", ADDRESS_A, "独居老人、退役军人"],
        ["2", "李四", "女", LI, "1948/7/5", "023-49876543", ADDRESS_A, "老年人,低保"],
        ["3", "王小五", "男", WANG, "", "", ADDRESS_A, "儿童"],
        ["4", "赵六", "女", ZHAO, "19700220", "+86 139 1234 5678", ADDRESS_B, ""],
    ]


def write_csv(path, rows, header=HEADER, encoding="gbk"):
    with path.open("w", newline="", encoding=encoding) as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_residents", *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def two_homes(tree, add_household):
    grid = tree.grids[(1, 1, 1)]
    return (
        add_household(centre_of(grid), address=ADDRESS_A, client_key="HH-0001"),
        add_household(centre_of(grid), address=ADDRESS_B, client_key="HH-0002"),
    )


def assert_no_personal_data(*texts):
    for text in texts:
        for value in (ZHANG, LI, WANG, ZHAO, "13812345678", "49876543", "张三", "李四"):
            assert value not in text


# ---------------------------------------------------------------------------- the good file


def test_gbk_csv_one_row_per_person_goes_into_households_by_address(two_homes, tmp_path):
    a, b = two_homes
    path = write_csv(tmp_path / "实有人口.csv", people_rows())
    out, err = run(path)
    assert "4 read, 0 errors" in out
    assert "4 would be written. Dry run" in out
    assert "2 households would have their residents added" in out
    assert Resident.objects.count() == 0
    out, err = run(path, "--commit")
    assert "4 written" in out
    assert_no_personal_data(out, err)
    zhang = Resident.objects.get(id_number=ZHANG)
    assert (zhang.household, zhang.name, zhang.sex, zhang.birth_date, zhang.phone) == (
        a,
        "张三",
        Sex.MALE,
        dt.date(1945, 3, 12),
        "13812345678",
    )
    assert zhang.tags == ["elderly", "living_alone", "veteran"]
    assert Resident.objects.get(id_number=LI).tags == ["elderly", "low_income"]
    assert Resident.objects.get(id_number=LI).phone == "023-49876543"
    # No birth date or sex given: the ID number's.
    wang = Resident.objects.get(id_number=WANG)
    assert (wang.birth_date, wang.sex, wang.phone) == (dt.date(2015, 1, 1), Sex.MALE, "")
    assert Resident.objects.get(id_number=ZHAO).phone == "13912345678"
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.member_count, b.member_count) == (3, 1)


def test_households_are_looked_up_in_batches(two_homes, tmp_path, monkeypatch):
    """A district's file names more households than PostgreSQL's 65,535 parameters of one
    statement: lookups and locks go in batches, with the same result."""
    monkeypatch.setattr(placing, "BATCH", 1)
    path = write_csv(tmp_path / "people.csv", people_rows())
    out, _ = run(path, "--commit")
    assert "4 written" in out
    a, b = two_homes
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.member_count, b.member_count) == (3, 1)
    assert placing.batches({3, 1, 2}) == [[1], [2], [3]]


def test_a_reimport_adds_nobody_and_counts_stay(two_homes, tmp_path):
    path = write_csv(tmp_path / "people.csv", people_rows())
    run(path, "--commit")
    out, _ = run(path, "--commit")
    assert "4 already present; 0 written" in out
    assert Resident.objects.count() == 4
    assert sorted(Household.objects.values_list("member_count", flat=True)) == [1, 3]


def test_member_count_from_the_household_file_gives_way_to_the_residents(tree, tmp_path):
    grid = tree.grids[(1, 1, 1)]
    point = centre_of(grid)
    households = pd.DataFrame(
        {"门牌": [ADDRESS_A, ADDRESS_B], "lon": [point.x] * 2, "lat": [point.y] * 2, "人数": [5, 1]}
    )
    households_path = tmp_path / "住户.csv"
    households.to_csv(households_path, index=False, encoding="gbk")
    report = import_households(households_path, fields={"address": "门牌"}, commit=True)
    assert report.written == 2 and not report.errors
    assert Household.objects.get(address=ADDRESS_A).member_count == 5
    path = write_csv(tmp_path / "people.csv", people_rows())
    report = import_residents(path, commit=True)
    [warning] = [p for p in report.warnings if p.code == "member_count_changed"]
    assert (warning.row, warning.field) == (2, "member_count")
    assert "member count 5" in warning.message and "becomes 3" in warning.message
    assert Household.objects.get(address=ADDRESS_A).member_count == 3
    assert Household.objects.get(address=ADDRESS_B).member_count == 1


# ---------------------------------------------------------------------------- bad values


def test_every_bad_value_is_named_by_row_field_and_masked_and_nothing_is_written(
    two_homes, tmp_path
):
    wrong_check = ZHANG[:17] + ("0" if ZHANG[17] != "0" else "1")
    rows = people_rows() + [
        ["5", "钱七", "男", wrong_check, "", "", ADDRESS_B, ""],
        ["6", "孙八", "男", id_number("19800101", True), "1980-01-02", "", ADDRESS_B, ""],
        ["7", "周九", "女", id_number("19800101", True, 3), "", "", ADDRESS_B, ""],
        ["8", "吴十", "未知", id_number("19810101", True), "", "", ADDRESS_B, ""],
        ["9", "郑一", "", id_number("19820101", False), "1982-13-01", "", ADDRESS_B, ""],
        ["10", "冯二", "", id_number("19830101", False), "", "1381234", ADDRESS_B, ""],
        ["11", "陈三", "", id_number("19840101", False), "", "", ADDRESS_B, "网红"],
        ["12", "褚四", "", "5.00118E+17", "", "", ADDRESS_B, ""],
        ["13", "卫五", "", id_number("19850101", False), "", "", "中山路99号", ""],
        ["14", "张三", "男", ZHANG, "", "", ADDRESS_A, ""],
        ["15", "", "", id_number("19860101", False), "", "", ADDRESS_B, ""],
        ["16", "蒋六", "", "50011819870101", "", "", ADDRESS_B, ""],
        # Every problem of a row is named at once, not only the first.
        ["17", "钱八", "男", ZHANG, "", "138", "中山路99号", ""],
    ]
    path = write_csv(tmp_path / "people.csv", rows)
    report_path = tmp_path / "problems.csv"
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError, match="4 of 17 rows have no error. Nothing was written") as e:
        call_command(
            "import_residents",
            str(path),
            "--commit",
            "--report",
            str(report_path),
            stdout=out,
            stderr=err,
        )
    assert "row 6, field id_number: the check digit" in err.getvalue()
    assert_no_personal_data(out.getvalue(), err.getvalue(), str(e.value))
    report = import_residents(path, commit=True)
    found = {(p.row, p.field, p.code) for p in report.errors}
    assert found == {
        (6, "id_number", "id_checksum"),
        (7, "birth_date", "birth_date_mismatch"),
        (8, "sex", "sex_mismatch"),
        (9, "sex", "bad_sex"),
        (10, "birth_date", "bad_date"),
        (11, "phone", "bad_phone"),
        (12, "tags", "unknown_tag"),
        (13, "id_number", "id_number_as_number"),
        (14, "address", "unknown_household"),
        (15, "id_number", "duplicate_person"),
        (16, "name", "missing_value"),
        (17, "id_number", "bad_id_number"),
        (18, "phone", "bad_phone"),
        (18, "id_number", "duplicate_person"),
        (18, "address", "unknown_household"),
    }
    assert Resident.objects.count() == 0
    by_code = {p.code: p for p in report.errors}
    assert by_code["sex_mismatch"].message.startswith("sex 女, but the ID number (its 17th")
    assert "网红" in by_code["unknown_tag"].message and "独居老人" in by_code["unknown_tag"].message
    # Values are masked wherever they are shown: terminal and problem report alike.
    assert by_code["id_checksum"].value == wrong_check[:4] + "*" * 10 + wrong_check[-4:]
    with report_path.open(encoding="utf-8-sig") as handle:
        lines = list(csv.DictReader(handle))
    assert len(lines) == 15
    assert {line["row"] for line in lines} == {str(r) for r in range(6, 19)}
    assert_no_personal_data(report_path.read_text(encoding="utf-8-sig"), str(report.problems))
    assert wrong_check not in report_path.read_text(encoding="utf-8-sig")


def test_a_check_digit_lost_to_a_number_cell_says_so():
    # Excel keeps 15 significant digits: 500118194503120251 becomes 500118194503120000.
    rounded = next(
        n[:15] + "000" for n in (ZHANG, LI, WANG, ZHAO) if check_digit(n[:15] + "00") != "0"
    )
    _, (code, message) = check_id_number(rounded)
    assert code == "id_checksum" and "format the column as text" in message


@pytest.mark.parametrize(
    "value, expected",
    [
        (ZHANG.lower(), ZHANG.lower().upper()),
        ("５００１１８" + ZHANG[6:], ZHANG),  # full-width digits
        (f" {ZHANG[:6]} {ZHANG[6:]} ", ZHANG),
    ],
)
def test_id_number_spellings(value, expected):
    checked, problem = check_id_number(value)
    assert problem is None and checked["id_number"] == expected


def test_a_15_digit_number_is_stored_as_its_18_digit_form(two_homes, tmp_path):
    old = ZHAO[:6] + ZHAO[8:17]  # 15 digits: no century, no check digit
    rows = [["1", "赵六", "女", old, "1970-02-20", "", ADDRESS_B, ""]]
    report = import_residents(write_csv(tmp_path / "p.csv", rows), commit=True)
    assert not report.errors
    assert [p.code for p in report.warnings] == ["id_number_upgraded"]
    assert Resident.objects.get().id_number == ZHAO


@pytest.mark.parametrize(
    "value, stored",
    [
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("023-4987654", "023-4987654"),
        ("02349876543", "02349876543"),
        ("49876543", "49876543"),
        ("023-49876543-801", "023-49876543-801"),
        ("", ""),
        ("12812345678", None),
        ("138123456789", None),
        ("13812345678、13912345678", None),
        ("电话", None),
    ],
)
def test_phone_numbers(value, stored):
    phone, problem = check_phone(value, 20)
    assert phone == stored
    assert (problem is None) == (stored is not None)


# ---------------------------------------------------------------------------- shapes of files


def test_xlsx_under_a_title_row_with_merged_household_cells_and_yes_no_columns(two_homes, tmp_path):
    a, b = two_homes
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["红旗社区实有人口登记表（2025年）"])
    sheet.merge_cells("A1:G1")
    sheet.append(["户编号", "姓名", "性别", "身份证号", "手机", "是否低保", "是否独居", "出生日期"])
    sheet.append(
        ["HH-0001", "张三", "男", ZHANG, 13812345678, "是", "是", dt.datetime(1945, 3, 12)]
    )
    sheet.append([None, "李四", "女", LI, None, "否", "", None])
    sheet.append(["HH-0002", "赵六", "女", ZHAO, None, "否", "否", None])
    sheet.append([None, "王小五", "男", WANG, None, "不详", "", None])
    sheet.append([])
    sheet.merge_cells("A3:A4")
    path = tmp_path / "实有人口.xlsx"
    book.save(path)
    report = import_residents(path)
    # Without --fill-down the merged cell's second row has no household.
    assert {(p.row, p.field, p.code) for p in report.errors} == {
        (4, "client_key", "missing_value"),
        (6, "client_key", "missing_value"),
        (6, "是否低保", "bad_yes_no"),
    }
    assert "--fill-down" in report.errors[0].message
    sheet["F6"] = "否"
    book.save(path)
    out, err = run(path, "--fill-down", "--commit")
    assert "4 read, 0 errors" in out and "4 written" in out
    assert_no_personal_data(out, err)
    assert Resident.objects.get(id_number=ZHANG).tags == ["low_income", "living_alone"]
    assert Resident.objects.get(id_number=ZHANG).phone == "13812345678"
    assert Resident.objects.get(id_number=LI).household == a
    assert Resident.objects.get(id_number=WANG).household == b
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.member_count, b.member_count) == (2, 2)


def test_gbk_csv_under_a_title_line(two_homes, tmp_path):
    path = tmp_path / "people.csv"
    with path.open("w", newline="", encoding="gbk") as handle:
        writer = csv.writer(handle)
        writer.writerow(["红旗社区实有人口花名册"] + [""] * (len(HEADER) + 1))
        writer.writerow(["填报日期：2025年3月"] + [""] * (len(HEADER) + 1))
        writer.writerow(HEADER + ["备注", "备注"])
        writer.writerows(row + ["", ""] for row in people_rows()[:2])
        writer.writerow(["3", "王小五", "男", WANG, "2015-01-02", "", ADDRESS_A, "", "", "x"])
    report = import_residents(path)
    [unused] = report.warnings
    assert "columns 备注, 备注.1 are not read" in unused.message
    [problem] = report.errors
    # Row 6 of the sheet: two lines of title, the header, two people.
    assert (problem.row, problem.field, problem.code) == (6, "birth_date", "birth_date_mismatch")
    assert problem.value == "2015-**-**"


def test_household_key_wins_and_a_different_address_is_a_warning(two_homes, tmp_path):
    header = ["户号", "姓名", "身份证号", "住址"]
    rows = [["HH-0002", "赵六", ZHAO, ADDRESS_A]]
    report = import_residents(write_csv(tmp_path / "p.csv", rows, header), commit=True)
    assert [(p.code, p.row, p.field) for p in report.warnings] == [
        ("address_differs", 2, "address")
    ]
    assert Resident.objects.get().household == two_homes[1]


def test_households_that_cannot_be_told_apart_or_are_gone_are_errors(tree, add_household, tmp_path):
    point = centre_of(tree.grids[(1, 1, 1)])
    add_household(point, address=ADDRESS_A)
    add_household(point, address=ADDRESS_A)
    add_household(point, address=ADDRESS_B, registered_on=dt.date(2020, 1, 1))
    Household.objects.filter(address=ADDRESS_B).update(removed_on=dt.date(2024, 6, 1))
    header = ["姓名", "身份证号", "地址"]
    rows = [["张三", ZHANG, ADDRESS_A], ["赵六", ZHAO, ADDRESS_B.replace("中山路", "中山路 ")]]
    report = import_residents(write_csv(tmp_path / "p.csv", rows, header))
    assert {(p.row, p.code) for p in report.errors} == {
        (2, "ambiguous_address"),
        (3, "household_removed"),
    }


def test_a_person_of_another_household_is_an_error(two_homes, tmp_path):
    path = write_csv(tmp_path / "p.csv", people_rows())
    run(path, "--commit")
    moved = [["1", "赵六", "女", ZHAO, "", "", ADDRESS_A, ""]]
    report = import_residents(write_csv(tmp_path / "moved.csv", moved), commit=True)
    [problem] = report.errors
    assert (problem.code, problem.row, problem.field) == ("resident_elsewhere", 2, "id_number")
    assert ADDRESS_B in problem.message
    assert Resident.objects.get(id_number=ZHAO).household == two_homes[1]


def test_unknown_tags_may_be_left_out_on_request(two_homes, tmp_path):
    rows = [["1", "陈三", "女", LI, "", "", ADDRESS_A, "网红、低保"]]
    path = write_csv(tmp_path / "p.csv", rows)
    out, _ = run(path, "--ignore-unknown-tags", "--commit")
    assert "1 written" in out
    assert Resident.objects.get().tags == ["low_income"]


def test_options_and_columns_are_refused_in_one_line(two_homes, tmp_path):
    path = write_csv(tmp_path / "p.csv", people_rows())
    with pytest.raises(CommandError, match="there is no field 'members'.*client_key, address"):
        run(path, "--field", "members=人数")
    with pytest.raises(CommandError, match="unknown encoding 'GBKX'"):
        run(path, "--encoding", "GBKX")
    with pytest.raises(CommandError, match="cannot read the attributes of p.csv as utf-8"):
        run(path, "--encoding", "UTF-8")
    nameless = write_csv(tmp_path / "n.csv", [["张三", ZHANG]], header=["姓名", "身份证号"])
    with pytest.raises(CommandError, match="no column for the household"):
        run(nameless)


def test_household_import_points_to_the_resident_import(tree, tmp_path):
    point = centre_of(tree.grids[(1, 1, 1)])
    table = pd.DataFrame({"地址": [ADDRESS_A], "lon": [point.x], "lat": [point.y], "姓名": ["x"]})
    path = tmp_path / "hh.csv"
    table.to_csv(path, index=False)
    report = import_households(path)
    [warning] = [p for p in report.warnings if p.code == "resident_columns"]
    assert "import_residents" in warning.message
