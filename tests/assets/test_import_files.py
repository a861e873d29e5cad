"""Reading uploaded ledger files: encodings, delimiters, Excel, and every defence against bad input
(each refusal is an ImportFileError with a Japanese message)."""

from __future__ import annotations

import codecs
import datetime as dt
import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
from defusedxml import DefusedXmlException
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from anzen.assets import import_files
from anzen.assets.import_files import ImportFileError, read_table

FIXTURES = Path(__file__).parent / "fixtures" / "import"
HEADER = ["筐体名", "申請者", "OS", "支払区分", "機器名", "MACアドレス", "IP アドレス", "登録情報コンセント番号",
          "初回登録"]
ROW = ["fhej0002", "山下 芳範", "Windows 11", "病院負担", "MS surface", "00:d4:9e:3c:3f:d9", "172.30.101.4", "", ""]


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def csv_text(rows: list[list[str]], delimiter: str = ",", newline: str = "\r\n") -> str:
    return newline.join(delimiter.join(row) for row in rows) + newline


def xlsx_bytes(rows: list[list[object]], *, sheet: str = "機器一覧", extra_sheet: str | None = None) -> bytes:
    workbook = openpyxl.Workbook()
    worksheet = workbook.active
    worksheet.title = sheet
    for row in rows:
        worksheet.append(row)
    if extra_sheet:
        workbook.create_sheet(extra_sheet).append(["筐体名", "MACアドレス"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def replace_part(data: bytes, part: str, content: bytes) -> bytes:
    """The same package with one part replaced (or added)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            if item.filename != part:
                target.writestr(item, source.read(item.filename))
        target.writestr(part, content)
    return out.getvalue()


# --- CSV encodings -------------------------------------------------------------------------------


def test_cp932_csv_as_japanese_excel_writes_it_is_detected(tmp_path: Path) -> None:
    path = write(tmp_path, "list.csv", csv_text([HEADER, ROW]).encode("cp932"))
    table = read_table(path, "csv")
    assert table.encoding == "cp932" and table.encoding_label == "Shift_JIS (CP932)"
    assert table.delimiter == ","
    assert table.rows[0] == (1, HEADER)
    assert table.rows[1][1][1] == "山下 芳範"


def test_the_seed_fixture_reads_as_cp932_with_crlf(tmp_path: Path) -> None:
    raw = (FIXTURES / "seed003-device-list.csv").read_bytes()
    assert b"\r\n" in raw and not raw.startswith(codecs.BOM_UTF8)
    table = read_table(FIXTURES / "seed003-device-list.csv", "csv")
    assert table.encoding == "cp932"
    assert len(table.rows) == 15
    assert table.rows[0][1][:2] == ["筐体名", "申請者"]


@pytest.mark.parametrize(("encoding", "expected"), [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig")])
def test_utf8_with_and_without_bom(tmp_path: Path, encoding: str, expected: str) -> None:
    path = write(tmp_path, "list.csv", csv_text([HEADER, ROW]).encode(encoding))
    table = read_table(path, "csv")
    assert table.encoding == expected
    assert table.rows[0][1][0] == "筐体名"  # no BOM left in the first header


def test_excel_unicode_text_utf16_tab_separated(tmp_path: Path) -> None:
    path = write(tmp_path, "list.txt", codecs.BOM_UTF16_LE + csv_text([HEADER, ROW], "\t").encode("utf-16-le"))
    table = read_table(path, "csv")
    assert table.encoding == "utf-16" and table.delimiter == "\t"
    assert table.rows[1][1][1] == "山下 芳範"


def test_tab_and_semicolon_delimiters_are_sniffed(tmp_path: Path) -> None:
    tab = read_table(write(tmp_path, "a.tsv", csv_text([HEADER, ROW], "\t").encode()), "csv")
    semi = read_table(write(tmp_path, "b.csv", csv_text([HEADER, ROW], ";").encode()), "csv")
    assert tab.delimiter == "\t" and semi.delimiter == ";"
    assert tab.rows[1][1][5] == semi.rows[1][1][5] == "00:d4:9e:3c:3f:d9"


def test_quoted_cells_with_commas_and_new_lines_keep_the_row_number(tmp_path: Path) -> None:
    text = '筐体名,備考\r\npc1,"一行目\r\n二行目, 続き"\r\npc2,x\r\n'
    table = read_table(write(tmp_path, "q.csv", text.encode("cp932")), "csv")
    assert table.rows[1] == (2, ["pc1", "一行目\r\n二行目, 続き"])
    assert table.rows[2] == (4, ["pc2", "x"])  # the file line where the record starts


def test_cp932_file_read_as_utf8_is_refused_with_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "list.csv", csv_text([["筐体名"], ["pc1"], ["申請者"]]).encode("cp932"))
    with pytest.raises(ImportFileError, match="UTF-8 として読めません（1 行目）"):
        read_table(path, "csv", encoding="utf-8")


def test_utf8_file_read_as_cp932_is_refused_instead_of_garbling(tmp_path: Path) -> None:
    path = write(tmp_path, "list.csv", csv_text([HEADER, ROW]).encode("utf-8"))
    with pytest.raises(ImportFileError, match="UTF-8 で保存されています"):
        read_table(path, "csv", encoding="cp932")


def test_utf8_bom_file_read_as_cp932_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "list.csv", csv_text([HEADER, ROW]).encode("utf-8-sig"))
    with pytest.raises(ImportFileError, match="BOM 付き"):
        read_table(path, "csv", encoding="cp932")


@pytest.mark.parametrize("garbled", [
    "申請者".encode().decode("cp1252", errors="ignore"),  # UTF-8 read as Windows-1252 once
    "山下 \ufffd\ufffd",  # replacement characters of a lossy conversion
    "逕ｳ隲倶ｺ",  # UTF-8 read as CP932 once (申請者)
])
def test_text_that_is_already_mojibake_is_refused(tmp_path: Path, garbled: str) -> None:
    path = write(tmp_path, "list.csv", csv_text([HEADER, ["pc1", garbled]]).encode("utf-8"))
    with pytest.raises(ImportFileError, match="2 行目が文字化けしています"):
        read_table(path, "csv")


def test_bytes_that_are_neither_utf8_nor_cp932_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "list.csv", b"hostname\r\npc\x80\xff\xfe1\r\n")
    with pytest.raises(ImportFileError, match="文字コードを判別できません"):
        read_table(path, "csv")


# --- malformed CSV -------------------------------------------------------------------------------


def test_truncated_csv_with_an_open_quote_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "cut.csv", '筐体名,備考\r\npc1,"途中で切れた\r\n'.encode("cp932"))
    with pytest.raises(ImportFileError, match="CSV の形式が正しくありません"):
        read_table(path, "csv")


def test_control_characters_mean_not_a_text_file(tmp_path: Path) -> None:
    path = write(tmp_path, "bin.csv", b"hostname,notes\r\npc1,a\x00b\x01c\r\n")
    with pytest.raises(ImportFileError, match="2 行目 2 列目に制御文字"):
        read_table(path, "csv")


def test_a_binary_file_named_csv_is_refused_on_receipt(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="テキスト（CSV）ファイルではありません"):
        import_files.check_received("list.csv", 100, b"\x89PNG\r\n\x1a\n", 10_000)
    path = write(tmp_path, "list.csv", xlsx_bytes([HEADER]))
    with pytest.raises(ImportFileError, match="テキスト（CSV）ファイルではありません"):
        import_files.check_stored(path, "csv")


def test_empty_and_header_only_files(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="ファイルが空です"):
        import_files.check_received("list.csv", 0, b"", 10_000)
    with pytest.raises(ImportFileError, match="データがありません"):
        read_table(write(tmp_path, "blank.csv", b"\r\n , \r\n"), "csv")


def test_huge_file_is_refused_before_it_is_read() -> None:
    with pytest.raises(ImportFileError, match="ファイルが大きすぎます（上限 20 MB）"):
        import_files.check_received("list.csv", 20 * 1024 * 1024 + 1, b"a,b", 20 * 1024 * 1024)


def test_too_many_rows(tmp_path: Path) -> None:
    path = write(tmp_path, "many.csv", csv_text([["筐体名"]] + [[f"pc{n}"] for n in range(30)]).encode())
    with pytest.raises(ImportFileError, match="行が多すぎます（20 行まで）"):
        read_table(path, "csv", max_rows=20)
    assert len(read_table(path, "csv", max_rows=31).rows) == 31


def test_a_huge_cell_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "cell.csv", ("筐体名,備考\r\npc1," + "あ" * 10_001 + "\r\n").encode("utf-8"))
    with pytest.raises(ImportFileError, match="2 行目 2 列目の値が長すぎます"):
        read_table(path, "csv")


@pytest.mark.parametrize(("name", "message"), [
    ("list.xls", "この形式（.xls）は取り込めません"),
    ("list.xlsm", "この形式（.xlsm）は取り込めません"),
    ("list.pdf", "取り込めるのは CSV"),
    ("noextension", "取り込めるのは CSV"),
])
def test_other_file_types_are_refused_by_name(name: str, message: str) -> None:
    with pytest.raises(ImportFileError, match=message):
        import_files.file_format(name)


# --- Excel ---------------------------------------------------------------------------------------


def test_xlsx_rows_keep_types_and_file_row_numbers(tmp_path: Path) -> None:
    rows = [["院内機器一覧"], [], HEADER, ["fhej0002", "山下 芳範", "Windows 11", "病院負担", "MS surface",
                                       "00:d4:9e:3c:3f:d9", "172.30.101.4", 12.0, dt.date(2023, 4, 1)]]
    table = read_table(write(tmp_path, "list.xlsx", xlsx_bytes(rows)), "xlsx")
    assert table.format == "xlsx" and table.sheet == "機器一覧"
    assert [number for number, _cells in table.rows] == [1, 3, 4]
    assert table.rows[2][1][7] == 12  # a whole float becomes an int
    assert table.rows[2][1][8] == dt.datetime(2023, 4, 1)


def test_xlsx_sheet_by_name_and_unknown_sheet(tmp_path: Path) -> None:
    path = write(tmp_path, "two.xlsx", xlsx_bytes([HEADER, ROW], extra_sheet="予備機"))
    assert read_table(path, "xlsx", sheet="予備機").rows == [(1, ["筐体名", "MACアドレス"])]
    assert read_table(path, "xlsx").sheets == ["機器一覧", "予備機"]
    with pytest.raises(ImportFileError, match="シート「なし」がありません（機器一覧、予備機）"):
        read_table(path, "xlsx", sheet="なし")


def test_xlsx_with_formulas_is_refused_naming_the_cells(tmp_path: Path) -> None:
    data = xlsx_bytes([HEADER, ["pc1", "=CONCAT(\"a\",\"b\")", "Windows 11"], ["pc2", "=1+2"]])
    with pytest.raises(ImportFileError, match=r"数式を含むセルがあります（B2、B3、計 2 個）"):
        read_table(write(tmp_path, "f.xlsx", data), "xlsx")


def test_truncated_xlsx_is_refused(tmp_path: Path) -> None:
    data = xlsx_bytes([HEADER, ROW])
    path = write(tmp_path, "cut.xlsx", data[: len(data) // 2])
    with pytest.raises(ImportFileError, match="壊れているか途中で切れています"):
        import_files.check_stored(path, "xlsx")
    with pytest.raises(ImportFileError, match="壊れているか途中で切れています"):
        read_table(path, "xlsx")


def test_not_a_zip_named_xlsx_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match=r"Excel ブック（\.xlsx）ではありません"):
        import_files.check_received("list.xlsx", 30, b"hostname,mac\r\n", 10_000)
    path = write(tmp_path, "list.xlsx", csv_text([HEADER, ROW]).encode("cp932"))
    with pytest.raises(ImportFileError, match="xlsx として読めません"):
        read_table(path, "xlsx")


def test_a_zip_that_is_not_a_workbook_is_refused(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "not a workbook")
    with pytest.raises(ImportFileError, match="ブックの構成要素がありません"):
        read_table(write(tmp_path, "zip.xlsx", buffer.getvalue()), "xlsx")


def test_zip_bomb_shared_strings_is_refused_before_decompressing(tmp_path: Path, monkeypatch) -> None:
    huge = b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">' + b" " * (8 * 1024 * 1024)
    data = replace_part(xlsx_bytes([HEADER, ROW]), "xl/sharedStrings.xml", huge)
    assert len(data) < 100_000  # tiny on disk, 8 MB once decompressed
    path = write(tmp_path, "bomb.xlsx", data)

    def no_decompression(*args: object, **kwargs: object) -> None:
        raise AssertionError("the bomb was opened")

    monkeypatch.setattr("anzen.library.excel_workbook.check_package", no_decompression)
    with pytest.raises(ImportFileError, match="圧縮爆弾の可能性"):
        import_files.check_stored(path, "xlsx")


def test_total_uncompressed_size_is_bounded(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(import_files, "MAX_XLSX_UNCOMPRESSED", 1024)
    with pytest.raises(ImportFileError, match="展開後のサイズが大きすぎます"):
        read_table(write(tmp_path, "big.xlsx", xlsx_bytes([HEADER, ROW])), "xlsx")


BOMB_DOCTYPE = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
                b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>')


@pytest.mark.parametrize(("part", "target"), [("xl/worksheets/sheet1.xml", b"fhej0002"),  # read row by row
                                              ("xl/workbook.xml", b"\xe6\xa9\x9f")])  # read on opening
def test_xml_entity_bomb_inside_the_workbook_is_refused(tmp_path: Path, part: str, target: bytes) -> None:
    data = xlsx_bytes([HEADER, ROW])
    original = zipfile.ZipFile(io.BytesIO(data)).read(part)
    body = original.split(b"?>", 1)[1] if original.startswith(b"<?xml") else original
    assert target in body
    bombed = BOMB_DOCTYPE + body.replace(target, b"&lol3;", 1)
    path = write(tmp_path, "lol.xlsx", replace_part(data, part, bombed))
    with pytest.raises(ImportFileError, match="安全でない内容") as caught:
        read_table(path, "xlsx")
    chain, error = [], caught.value
    while error is not None:
        chain.append(error)
        error = error.__cause__ or error.__context__
    assert any(isinstance(item, DefusedXmlException) for item in chain)  # refused by defusedxml, not by luck


def test_xlsx_too_many_rows(tmp_path: Path) -> None:
    path = write(tmp_path, "rows.xlsx", xlsx_bytes([HEADER] + [[f"pc{n}"] for n in range(12)]))
    with pytest.raises(ImportFileError, match="行が多すぎます（10 行まで）"):
        read_table(path, "xlsx", max_rows=10)


def test_empty_sheet(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="シート「機器一覧」にデータがありません"):
        read_table(write(tmp_path, "empty.xlsx", xlsx_bytes([])), "xlsx")


# --- fuzzing -------------------------------------------------------------------------------------

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(data=st.binary(max_size=2048), fmt=st.sampled_from(["csv", "xlsx"]))
def test_random_bytes_never_crash_the_reader(tmp_path: Path, data: bytes, fmt: str) -> None:
    path = write(tmp_path, f"fuzz.{fmt}", data)
    try:
        table = read_table(path, fmt)
    except ImportFileError as error:
        assert str(error)  # a message for the user, nothing else
    else:
        assert fmt == "csv" and table.rows


VALID_XLSX = xlsx_bytes([HEADER, ROW, ["pc2", "=1+2"]])


@FUZZ
@given(edits=st.lists(st.tuples(st.integers(0, len(VALID_XLSX) - 1), st.integers(0, 255)), min_size=1, max_size=8),
       cut=st.integers(100, len(VALID_XLSX)))
def test_damaged_workbooks_never_crash_the_reader(tmp_path: Path, edits: list[tuple[int, int]], cut: int) -> None:
    data = bytearray(VALID_XLSX[:cut])
    for position, value in edits:
        if position < len(data):
            data[position] = value
    path = write(tmp_path, "damaged.xlsx", bytes(data))
    with pytest.raises(ImportFileError):
        import_files.check_stored(path, "xlsx")
        read_table(path, "xlsx")  # the formula in B3 refuses even an intact workbook
