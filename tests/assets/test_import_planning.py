"""The import's pure part: profiles and the column mapping, row validation, and the plan against a
ledger snapshot (no database)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from anzen.assets import importing
from anzen.assets.importing import CREATE, ERROR, UNCHANGED, UPDATE, Ledger, LedgerDevice, Mapping

HEADER = ["筐体名", "申請者", "OS", "支払区分", "機器名", "MACアドレス", "IP アドレス", "登録情報コンセント番号",
          "初回登録"]


def device_list() -> importing.Profile:
    return importing.builtin_profiles()["device-list"]


def mapping(**columns: int) -> Mapping:
    return Mapping(header_row=1, columns={index: key for key, index in columns.items()})


def parse(cells: list[Any], **columns: int) -> importing.RowResult:
    return importing.parse_row(2, cells, mapping(**columns), {})


# --- profiles and mapping ------------------------------------------------------------------------


def test_device_list_profile_is_seed_003s_columns_in_order() -> None:
    profile = device_list()
    assert profile.builtin and profile.key == "device-list"
    assert [(c.header, c.field) for c in profile.columns] == [
        ("筐体名", "hostname"), ("申請者", "owner"), ("OS", "os_name"), ("支払区分", "payment_class"),
        ("機器名", "model_name"), ("MACアドレス", "mac"), ("IPアドレス", "ip"), ("登録情報コンセント番号", "outlet"),
        ("初回登録", "first_registered")]
    assert profile.defaults == {"kind": "pc", "status": "in_use"}


def test_profile_finds_the_header_row_below_a_title_and_matches_folded_headers() -> None:
    rows = [(1, ["端末や機器のリスト化"]), (2, ["", "作成: 情報部"]),
            (3, ["ＮＯ", *HEADER]),  # an extra numbering column in front, full-width letters
            (4, [1, "fhej0002", "山下 芳範"])]
    result = importing.suggest_mapping(rows, device_list())
    assert result.header_row == 3
    assert result.columns == {1: "hostname", 2: "owner", 3: "os_name", 4: "payment_class", 5: "model_name",
                              6: "mac", 7: "ip", 8: "outlet", 9: "first_registered"}
    assert result.defaults["kind"] == "pc"


def test_profile_reads_a_file_without_header_row_by_position() -> None:
    rows = [(1, ["fhej0002", "山下 芳範", "Windows 11", "病院負担", "MS surface", "00:d4:9e:3c:3f:d9"]),
            (2, ["fhej2004", "山下 芳範", "Windows 10", "病院負担", "IYYAMA NJ50PU", "a0:29:42:23:19:73"])]
    result = importing.suggest_mapping(rows, device_list())
    assert result.header_row is None
    assert result.columns[0] == "hostname" and result.columns[5] == "mac"
    parsed = importing.parse_rows(rows, result, {})
    assert [r.row for r in parsed] == [1, 2]  # no header row: every row is data
    assert parsed[0].values["mac"] == "00:d4:9e:3c:3f:d9"


def test_without_a_profile_known_headers_are_mapped() -> None:
    rows = [(1, ["ホスト名（筐体名）", "MAC", "種別", "設置場所", "シリアル番号", "なにか", "備考"])]
    result = importing.suggest_mapping(rows)
    assert result.columns == {0: "hostname", 1: "mac", 2: "kind", 3: "location", 4: "serial", 6: "notes"}


def test_mapping_problems() -> None:
    assert importing.mapping_problems(Mapping(1, {0: "owner", 1: "os_name"})) == [
        "ホスト名（筐体名）・MACアドレス・シリアル番号のいずれかの列を対応付けてください。"]
    problems = importing.mapping_problems(Mapping(1, {0: "mac", 3: "mac"}))
    assert problems == ["「MACアドレス」に複数の列（A列・D列）が対応付けられています。"]
    assert importing.mapping_problems(Mapping(1, {0: "mac"}, {"kind": "robot", "status": "in_use"}))


def test_profile_settings_round_trip_by_header_and_by_position() -> None:
    by_header = importing.profile_from_mapping(Mapping(2, {0: "hostname", 2: "mac"}), ["筐体名", "x", "MAC"])
    assert by_header["columns"] == [{"header": "筐体名", "field": "hostname"}, {"header": "MAC", "field": "mac"}]
    profile = importing.Profile.from_settings(key="saved:1", name="私の一覧", settings=by_header)
    assert importing.suggest_mapping([(1, ["MAC", "筐体名"])], profile).columns == {0: "mac", 1: "hostname"}
    by_position = importing.profile_from_mapping(Mapping(None, {0: "hostname", 2: "mac"}), [])
    assert [c["field"] for c in by_position["columns"]] == ["hostname", "", "mac"]
    profile = importing.Profile.from_settings(key="saved:2", name="位置", settings=by_position)
    assert importing.suggest_mapping([(1, ["pc1", "x", "00:11:22:33:44:55"])], profile).columns == {0: "hostname",
                                                                                                   2: "mac"}


# --- rows ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("mac", ["00-D4-9E-3C-3F-D9", "00D4.9E3C.3FD9", "00d49e3c3fd9", "００:D4:9E:3C:3F:D9"])
def test_mac_notations_are_normalised(mac: str) -> None:
    assert parse(["pc1", mac], hostname=0, mac=1).values["mac"] == "00:d4:9e:3c:3f:d9"


def test_invalid_mac_and_ip_name_the_column() -> None:
    result = parse(["pc1", "00:d4:9e:3c:3f", "172.30.300.4"], hostname=0, mac=1, ip=2)
    assert any(e.startswith("B列「MACアドレス」: MACアドレスの形式が正しくありません") for e in result.errors)
    assert any(e.startswith("C列「IPアドレス」: IPアドレスの形式が正しくありません") for e in result.errors)


@pytest.mark.parametrize("value", ["2024/4/1", "2024-04-01", "R6.4.1", "令和6年4月1日", "R6/4/1", 45383, "45383",
                                   dt.datetime(2024, 4, 1), "２０２４／４／１"])
def test_japanese_dates_and_excel_serials(value: Any) -> None:
    assert parse(["pc1", value], hostname=0, first_registered=1).values["first_registered"] == dt.date(2024, 4, 1)


@pytest.mark.parametrize("value", ["2024/13/1", "R6.2.30", "昨年", "12345678"])
def test_unreadable_dates_are_row_errors(value: str) -> None:
    result = parse(["pc1", value], hostname=0, last_patch_date=1)
    assert result.errors and result.errors[0].startswith("B列「最終パッチ適用日」: 日付")


def test_kind_status_and_remote_words() -> None:
    result = parse(["srv1", "サーバー", "稼働中", "○"], hostname=0, kind=1, status=2, remote_maintenance=3)
    assert result.values == {"hostname": "srv1", "kind": "server", "status": "in_use", "remote_maintenance": True}
    assert parse(["p", "複合機", "廃棄"], hostname=0, kind=1, status=2).values["status"] == "disposed"
    bad = parse(["x", "ロボット"], hostname=0, kind=1)
    assert bad.errors and "B列「種類」" in bad.errors[0] and "使える値: サーバ、端末PC" in bad.errors[0]


@pytest.mark.parametrize("value", ["=cmd|' /C calc'!A0", "+SUM(A1)", "@SUM(1)", "-2+3+cmd", "＝HYPERLINK(\"x\")"])
def test_formula_like_text_is_refused(value: str) -> None:
    result = parse(["pc1", value], hostname=0, notes=1)
    assert result.errors == [f"B列「備考」: 数式として実行されるおそれのある値は取り込みません（「{value[:30]}」）。"
                             "先頭の記号を取り除いてください。"]
    assert "notes" not in result.values


def test_dash_placeholders_are_blank_and_negative_numbers_are_text() -> None:
    result = parse(["pc1", "-", "－", "-5"], hostname=0, ip=1, first_registered=2, vlan=3)
    assert result.errors == []
    assert result.values == {"hostname": "pc1", "vlan": "-5"}


def test_a_row_needs_hostname_mac_or_serial() -> None:
    result = parse(["", "Windows 11", "172.30.1.1"], hostname=0, os_name=1, ip=2)
    assert result.errors == ["ホスト名（筐体名）・MACアドレス・シリアル番号のいずれかが必要です。"]


def test_systems_by_name_and_unknown_systems() -> None:
    systems = {importing.header_key("電子カルテ"): 7, importing.header_key("PACS"): 9}
    ok = importing.parse_row(2, ["pc1", "電子カルテ、pacs"], mapping(hostname=0, systems=1), systems)
    assert ok.values["systems"] == [7, 9]
    bad = importing.parse_row(2, ["pc1", "電子カルテ/検査"], mapping(hostname=0, systems=1), systems)
    assert bad.errors == ["B列「所属するシステム」: 台帳にないシステムです（検査）。先にシステムを登録してください。"]


def test_software_by_cpe_uri_or_name() -> None:
    result = parse(["pc1", "cpe:2.3:o:microsoft:windows_10_22h2:10.0.19045.2965:*:*:*:*:*:x64:*; "
                           "cpe:/a:apache:http_server:2.4.7\nChrome 120.0.6099"], hostname=0, software=1)
    assert result.errors == []
    entries = result.values["software"]
    assert entries[0] == importing.SoftwareEntry("windows 10 22h2", "10.0.19045.2965",
                                                 "cpe:2.3:o:microsoft:windows_10_22h2:10.0.19045.2965:*:*:*:*:*:x64:*")
    assert entries[1].cpe23 == "cpe:2.3:a:apache:http_server:2.4.7:*:*:*:*:*:*:*"
    assert entries[2] == importing.SoftwareEntry("Chrome", "120.0.6099", "")
    bad = parse(["pc1", "cpe:2.3:a:vendor"], hostname=0, software=1)
    assert bad.errors and bad.errors[0].startswith("B列「ソフトウェア（CPE）」: CPE 2.3 名には11個の要素が必要です")


# --- the plan ------------------------------------------------------------------------------------


def ledger(*devices: dict[str, Any]) -> Ledger:
    index: dict[str, dict[str, list[int]]] = {"mac": {}, "ip": {}, "hostname": {}, "serial": {}}
    known = {}
    for values in devices:
        pk = values.pop("pk")
        for key in ("mac", "serial", "hostname"):
            if values.get(key):
                index[key].setdefault(values[key].lower(), []).append(pk)
        known[pk] = LedgerDevice(pk, values.get("hostname") or f"#{pk}", values, frozenset(values.pop("systems", [])),
                                 frozenset(values.pop("software", [])))
    return Ledger(index=index, devices=known)


COLUMNS = {"hostname": 0, "mac": 1, "serial": 2, "os_name": 3}


def plan(rows: list[list[Any]], snapshot: Ledger, **columns: int) -> importing.Plan:
    results = importing.parse_rows([(1, ["h"]), *[(n, row) for n, row in enumerate(rows, 2)]],
                                   mapping(**(columns or COLUMNS)), {})
    return importing.build_plan(results, snapshot)


def test_create_update_unchanged() -> None:
    snapshot = ledger({"pk": 1, "hostname": "pc1", "mac": "00:00:00:00:00:01", "os_name": "Windows 10"},
                      {"pk": 2, "hostname": "pc2", "mac": "00:00:00:00:00:02", "os_name": "Windows 11"})
    result = plan([["pc1", "00-00-00-00-00-01", "", "Windows 11"],  # OS changed
                   ["PC2", "", "", "Windows 11"],  # host names compare case-insensitively; blank MAC stays
                   ["pc3", "00:00:00:00:00:03", "SN3", "Windows 11"]], snapshot)
    assert [(row.row, row.action, row.device_id) for row in result.rows] == [
        (2, UPDATE, 1), (3, UNCHANGED, 2), (4, CREATE, None)]
    assert result.rows[0].changes == {"os_name": ("Windows 10", "Windows 11")}
    assert result.rows[1].changes == {}  # PC2 is pc2: the ledger keeps its spelling
    assert result.counts == {CREATE: 1, UPDATE: 1, UNCHANGED: 1, ERROR: 0} and result.ok and result.writes == 2
    same = plan([["pc1", "00:00:00:00:00:01", "", "Windows 10"]], snapshot)
    assert same.rows[0].action == UNCHANGED and same.writes == 0


def test_match_order_mac_then_serial_then_hostname() -> None:
    snapshot = ledger({"pk": 1, "hostname": "old-name", "serial": "SN-1"}, {"pk": 2, "hostname": "pc9"})
    by_serial = plan([["new-name", "00:00:00:00:00:09", "sn-1", ""]], snapshot)  # new MAC: found by serial
    assert by_serial.rows[0].device_id == 1
    assert by_serial.rows[0].changes == {"hostname": ("old-name", "new-name"), "mac": (None, "00:00:00:00:00:09")}


def test_duplicates_inside_the_file() -> None:
    result = plan([["pc1", "00:00:00:00:00:01", "", ""], ["pc2", "00-00-00-00-00-01", "", ""],
                   ["PC1", "", "", ""]], ledger())
    assert result.rows[0].action == CREATE
    assert result.rows[1].errors == ["2 行目と同じMACアドレス「00-00-00-00-00-01」です（ファイル内の重複）。"]
    assert result.rows[2].errors == ["2 行目と同じホスト名（筐体名）「PC1」です（ファイル内の重複）。"]
    assert not result.ok and result.counts[ERROR] == 2


def test_two_rows_for_the_same_ledger_device() -> None:
    snapshot = ledger({"pk": 5, "hostname": "pc5", "mac": "00:00:00:00:00:05", "serial": "SN5"})
    result = plan([["", "00:00:00:00:00:05", "", ""], ["", "", "SN5", ""]], snapshot)
    assert result.rows[0].action == UNCHANGED
    assert result.rows[1].errors == ["2 行目と同じ機器（pc5）です（ファイル内の重複）。"]


def test_clash_with_another_device_of_the_ledger() -> None:
    snapshot = ledger({"pk": 1, "hostname": "pc1", "mac": "00:00:00:00:00:01"}, {"pk": 2, "hostname": "pc2"})
    result = plan([["pc2", "00:00:00:00:00:01", "", ""]], snapshot)
    assert result.rows[0].errors == ["ホスト名（筐体名）「pc2」は別の機器（pc2）に登録済みです。"]


def test_ambiguous_hostname_in_the_ledger() -> None:
    snapshot = ledger({"pk": 1, "hostname": "pc1"}, {"pk": 2, "hostname": "PC1"})
    result = plan([["pc1", "", "", "Windows 11"]], snapshot)
    assert result.rows[0].errors == ["ホスト名（筐体名）「pc1」の機器が台帳に複数あります（MACアドレスかシリアル番号で"
                                     "特定してください）。"]


def test_systems_and_software_are_added_not_replaced() -> None:
    snapshot = ledger({"pk": 1, "hostname": "pc1", "systems": [7],
                       "software": [importing.software_key("Chrome", "120", "")]})
    results = importing.parse_rows([(1, ["h"]), (2, ["pc1", "電子カルテ、PACS", "Chrome 120; Edge 121"])],
                                   mapping(hostname=0, systems=1, software=2), {"電子カルテ": 7, "pacs": 9})
    row = importing.build_plan(results, snapshot).rows[0]
    assert row.action == UPDATE and row.changes == {}
    assert row.add_systems == [9]
    assert row.add_software == [importing.SoftwareEntry("Edge", "121", "")]


def test_row_errors_stay_errors_in_the_plan() -> None:
    result = plan([["pc1", "zz", "", ""]], ledger())
    assert result.rows[0].action == ERROR and "MACアドレス" in result.rows[0].errors[0]
