"""Lenient reading of what people write in the forms' cells: dates (西暦, 和暦, Excel serials, month/day
in a fiscal year) and answers (labels, marks, the form's placeholder) — pure, no database."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from anzen.reports import answer_marks
from anzen.reports.csv_writer import csv_bytes
from anzen.reports.japanese_dates import DateProblem, parse_date, slash, wareki_short

YES_NO = [("yes", "はい"), ("no", "いいえ")]
YES_NO_NA = [("yes", "はい"), ("no", "いいえ"), ("na", "対象外")]
APPLICABLE = [("applicable", "該当"), ("not_applicable", "非該当")]


@pytest.mark.parametrize("text, expected", [
    ("2025/6/30", dt.date(2025, 6, 30)),
    ("2025/06/30", dt.date(2025, 6, 30)),
    ("2025-06-30", dt.date(2025, 6, 30)),
    ("2025.6.30", dt.date(2025, 6, 30)),
    ("２０２５／６／３０", dt.date(2025, 6, 30)),
    ("2025年6月30日", dt.date(2025, 6, 30)),
    ("R7.6.30", dt.date(2025, 6, 30)),
    ("r7/6/30", None),  # lower-case era letters are not a convention: refused below
    ("令和7年6月30日", dt.date(2025, 6, 30)),
    ("令和元年5月1日", dt.date(2019, 5, 1)),
    ("H31.4.30", dt.date(2019, 4, 30)),
    ("平成31年4月30日", dt.date(2019, 4, 30)),
    ("20250630", dt.date(2025, 6, 30)),
    ("( / )", None),
    ("(/)", None),
    ("", None),
    ("  ", None),
])
def test_dates_as_people_write_them(text: str, expected: dt.date | None) -> None:
    if text == "r7/6/30":
        with pytest.raises(DateProblem):
            parse_date(text)
        return
    assert parse_date(text) == expected


def test_month_and_day_fall_in_the_fiscal_year() -> None:
    # The MHLW form prints only (月 / 日): April–December belong to the fiscal year, January–March to the next year.
    assert parse_date("8 / 2", fiscal_year=2025) == dt.date(2025, 8, 2)
    assert parse_date("(3/31)", fiscal_year=2025) == dt.date(2026, 3, 31)
    assert parse_date("9月20日", fiscal_year=2023) == dt.date(2023, 9, 20)
    with pytest.raises(DateProblem):
        parse_date("8/2")  # no fiscal year known: a month and day alone are not a date


def test_excel_dates_and_serials() -> None:
    assert parse_date(dt.datetime(2025, 6, 30, 0, 0)) == dt.date(2025, 6, 30)
    assert parse_date(dt.date(2025, 6, 30)) == dt.date(2025, 6, 30)
    assert parse_date(45838) == dt.date(2025, 6, 30)  # Excel's serial number of 2025-06-30
    with pytest.raises(DateProblem):
        parse_date(12)  # a count, not a date
    with pytest.raises(DateProblem):
        parse_date(45838.5)


@pytest.mark.parametrize("text", ["2025/2/30", "R7.13.1", "令和1年4月1日", "H32.1.1", "明日", "2025/6", "6.30.2025"])
def test_impossible_or_unknown_dates_are_refused(text: str) -> None:
    # 令和1年4月1日 is 平成31年 (令和 began on 1 May 2019); H32 does not exist.
    with pytest.raises(DateProblem):
        parse_date(text)


@given(st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2099, 12, 31)))
def test_written_dates_read_back(day: dt.date) -> None:
    assert parse_date(slash(day)) == day
    assert parse_date(wareki_short(day)) == day


@given(st.text(max_size=20))
def test_any_text_is_a_date_or_a_clear_refusal(text: str) -> None:
    try:
        result = parse_date(text, fiscal_year=2025)
    except DateProblem:
        return
    assert result is None or isinstance(result, dt.date)


@pytest.mark.parametrize("cell, options, expected", [
    ("はい", YES_NO, ("yes", "")),
    ("いいえ", YES_NO, ("no", "")),
    ("○はい", YES_NO_NA, ("yes", "")),
    ("◯ いいえ", YES_NO_NA, ("no", "")),
    ("【対象外】", YES_NO_NA, ("na", "")),
    ("はい (8 / 2)", YES_NO, ("yes", "8 / 2")),
    ("いいえ（9/20）", YES_NO, ("no", "9/20")),
    ("はい・いいえ", YES_NO, ("", "")),
    ("はい・いいえ (/)", YES_NO, ("", "")),
    ("はい・○いいえ", YES_NO, ("no", "")),
    ("yes", YES_NO, ("yes", "")),
    ("N/A", YES_NO_NA, ("na", "")),
    ("該当", APPLICABLE, ("applicable", "")),
    ("非該当", APPLICABLE, ("not_applicable", "")),
    ("○", YES_NO, (answer_marks.MARK, "")),
    ("✓", YES_NO, (answer_marks.MARK, "")),
    ("×", YES_NO, (answer_marks.NO_MARK, "")),
    ("", YES_NO, ("", "")),
    (None, YES_NO, ("", "")),
])
def test_answers_as_people_mark_them(cell: object, options: list[tuple[str, str]], expected: tuple[str, str]) -> None:
    assert answer_marks.read_choice(cell, options) == expected


@pytest.mark.parametrize("cell, options", [("たぶん", YES_NO), ("対象外", YES_NO), ("該当", YES_NO_NA), ("○×", YES_NO)])
def test_values_outside_the_options_are_refused(cell: str, options: list[tuple[str, str]]) -> None:
    with pytest.raises(answer_marks.ChoiceProblem):
        answer_marks.read_choice(cell, options)


def test_csv_has_a_bom_crlf_and_keeps_vendor_text_from_running_as_a_formula() -> None:
    data = csv_bytes(["備考", "数"], [["=HYPERLINK(\"http://x\")", "-1"], ["オプション契約", "12"]])
    assert data.startswith("\ufeff".encode())
    text = data.decode("utf-8-sig")
    assert text.splitlines()[0] == "備考,数"
    assert "'=HYPERLINK" in text  # guarded
    assert ",-1\r\n" in text  # a number stays a number
    assert text.endswith("\r\n")
