"""The ledger import without the database: column mapping, profiles, row validation and the plan
(what each row of the file does to the ledger). No queries: the service hands in a snapshot of the
ledger and writes what the plan says.

- Fields: the device fields a column can fill, with the header texts that name them (筐体名 → hostname …).
- Profiles: saved column layouts; the built-in ones (`device-list`, seed 003's device list) are read
  from data/import-profiles.yaml. A profile matches the file's columns by header text (folded: NFKC,
  no spaces, case-insensitive); a file without a header row is read by position in the profile's order.
- Rows: every mapped cell is checked (formula-like text, MAC, IP, dates — 2024/4/1, R6.4.1, 令和6年4月1日,
  Excel serials —, kind/status labels, はい/いいえ, system names, software by CPE) through the ledger's own
  `fields.clean_device`; a row needs a host name, a MAC address or a serial number. Blank cells leave
  the ledger's value as it is (an import never clears a field).
- Plan: each row creates a device, updates one (matched by MAC, then serial, then host name — disposed
  devices are history and are not matched), leaves it unchanged, or has errors (with the reason and
  the column). Duplicates inside the file and clashes with other devices of the ledger are errors.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from anzen.assets import fields as field_rules
from anzen.assets import normalise
from anzen.assets.models import Device, DeviceKind, DeviceStatus
from anzen.reports import japanese_dates

PROFILES_FILE = Path(__file__).with_name("data") / "import-profiles.yaml"
HEADER_SCAN_ROWS = 30
MAX_PROFILE_COLUMNS = 200
IDENTITY = ("mac", "serial", "hostname")  # match order against the ledger
CASE_INSENSITIVE = frozenset({"serial", "hostname"})
_SPLIT_SYSTEMS = re.compile(r"[、,;；／/\n]+")
_SPLIT_SOFTWARE = re.compile(r"[;；\n]+")
_FORMULA_START = ("=", "+", "-", "@", "＝", "＋", "－", "＠")
_PLACEHOLDER = re.compile(r"^[\-－―ー‐—–]+$")  # 「-」「－」 written for "none" in Japanese lists
_VERSION_TAIL = re.compile(r"^(?P<name>.+?)\s+(?:ver\.?\s*|v)?(?P<version>\d[\w.\-]*)$", re.IGNORECASE)
_SERIAL_DIGITS = re.compile(r"^\d{5}(?:\.0+)?$")


# --- fields --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldSpec:
    key: str
    label: Any  # lazy translation
    aliases: tuple[str, ...] = ()


def _label(name: str) -> Any:
    return Device._meta.get_field(name).verbose_name


FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("hostname", _label("hostname"), ("筐体名", "ホスト名", "hostname", "host", "コンピュータ名",
                                                 "コンピューター名", "端末名")),
    FieldSpec("owner", _label("owner"), ("申請者", "管理者", "所有者", "使用者", "owner")),
    FieldSpec("os_name", _label("os_name"), ("OS", "OS名", "オペレーティングシステム")),
    FieldSpec("os_version", _label("os_version"), ("OSバージョン", "OS version")),
    FieldSpec("payment_class", _label("payment_class"), ("支払区分", "費用負担", "負担区分")),
    FieldSpec("model_name", _label("model_name"), ("機器名", "型番", "機種", "機種名", "モデル", "model")),
    FieldSpec("manufacturer", _label("manufacturer"), ("メーカー", "メーカ", "製造元", "製造業者", "manufacturer")),
    FieldSpec("serial", _label("serial"), ("シリアル", "シリアル番号", "製造番号", "S/N", "serial")),
    FieldSpec("mac", _label("mac"), ("MAC", "MACアドレス", "MAC address", "物理アドレス")),
    FieldSpec("ip", _label("ip"), ("IP", "IPアドレス", "IP address")),
    FieldSpec("vlan", _label("vlan"), ("VLAN", "VLAN ID")),
    FieldSpec("location", _label("location"), ("設置場所", "場所", "設置部署", "部署", "location")),
    FieldSpec("outlet", _label("outlet"), ("登録情報コンセント番号", "コンセント番号", "情報コンセント",
                                             "情報コンセント番号", "outlet")),
    FieldSpec("first_registered", _label("first_registered"), ("初回登録", "初回登録日", "登録日")),
    FieldSpec("status", _label("status"), ("状態", "ステータス", "status")),
    FieldSpec("kind", _label("kind"), ("種類", "種別", "機器種別", "機器の種類", "kind")),
    FieldSpec("remote_maintenance", _label("remote_maintenance"), ("リモート保守", "リモートメンテナンス",
                                                                     "リモート保守の有無")),
    FieldSpec("last_patch_date", _label("last_patch_date"), ("最終パッチ適用日", "パッチ適用日", "最終パッチ")),
    FieldSpec("systems", gettext_lazy("所属するシステム"), ("システム", "所属システム", "医療情報システム",
                                                          "所属するシステム")),
    FieldSpec("software", gettext_lazy("ソフトウェア（CPE）"), ("ソフトウェア", "CPE", "ソフトウェア（CPE）")),
    FieldSpec("notes", _label("notes"), ("備考", "メモ", "notes")),
)
FIELD_BY_KEY = {spec.key: spec for spec in FIELDS}
DATE_FIELDS = ("first_registered", "last_patch_date")
# Words Japanese ledgers use for the kinds and states, beside the ledger's own labels and codes.
_KIND_WORDS = {
    DeviceKind.SERVER: ("サーバー", "server", "サーバ機"),
    DeviceKind.PC: ("PC", "パソコン", "端末", "クライアント", "ノートPC", "デスクトップPC", "タブレットPC"),
    DeviceKind.NETWORK: ("NW機器", "ネットワーク", "スイッチ", "ルータ", "ルーター", "ファイアウォール", "無線AP",
                         "アクセスポイント", "UTM"),
    DeviceKind.MEDICAL: ("医療機器", "モダリティ"),
    DeviceKind.IOT: ("IoT",),
    DeviceKind.MOBILE: ("スマートフォン", "スマホ", "タブレット", "携帯端末", "モバイル"),
    DeviceKind.PRINTER: ("プリンタ", "プリンター", "複合機"),
    DeviceKind.STORAGE: ("NAS", "ストレージ", "外部記憶装置"),
}
_STATUS_WORDS = {
    DeviceStatus.IN_USE: ("使用中", "稼働中", "運用中", "利用中", "稼動中", "稼働"),
    DeviceStatus.STOCK: ("予備", "保管", "保管中", "在庫", "予備機"),
    DeviceStatus.DISPOSED: ("廃棄", "廃棄済", "廃棄済み", "撤去"),
}


@lru_cache(maxsize=1)
def choice_aliases() -> dict[str, dict[str, str]]:
    aliases: dict[str, dict[str, str]] = {"kind": {}, "status": {}}
    for key, words in (("kind", _KIND_WORDS), ("status", _STATUS_WORDS)):
        for code, names in words.items():
            for name in names:
                aliases[key][header_key(name)] = str(code)
    return aliases
DEFAULTS = {"kind": str(DeviceKind.PC), "status": str(DeviceStatus.IN_USE)}


def header_key(text: Any) -> str:
    """Header text folded for matching: NFKC, lower case, without spaces and brackets."""
    folded = unicodedata.normalize("NFKC", str(text or "")).lower()
    return re.sub(r"[\s()（）\[\]【】「」・:：_]+", "", folded)


@lru_cache(maxsize=1)
def _alias_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for spec in FIELDS:
        for name in (*spec.aliases, str(spec.label), spec.key):
            index.setdefault(header_key(name), spec.key)
    return index


def field_for_header(text: Any) -> str | None:
    return _alias_index().get(header_key(text)) if text not in (None, "") else None


def field_label(key: str) -> str:
    spec = FIELD_BY_KEY.get(key)
    return str(spec.label) if spec else key


# --- profiles ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProfileColumn:
    header: str
    field: str

    @property
    def label(self) -> str:
        return field_label(self.field) if self.field else _("取り込まない")


@dataclass(frozen=True)
class Profile:
    key: str
    name: str
    columns: tuple[ProfileColumn, ...]
    defaults: dict[str, str] = field(default_factory=dict)
    description: str = ""
    builtin: bool = False
    pk: int | None = None  # a saved profile's id

    @classmethod
    def from_settings(cls, *, key: str, name: str, settings: dict[str, Any], description: str = "",
                      builtin: bool = False, pk: int | None = None) -> Profile:
        columns = tuple(ProfileColumn(str(entry.get("header") or ""),
                                      str(entry.get("field")) if entry.get("field") in FIELD_BY_KEY else "")
                        for entry in settings.get("columns") or [])
        defaults = {name: str(value) for name, value in (settings.get("defaults") or {}).items()
                    if name in DEFAULTS and value}
        return cls(key=key, name=name, columns=columns, defaults=defaults, description=description,
                   builtin=builtin, pk=pk)

    @property
    def default_labels(self) -> list[tuple[str, str]]:
        return [(field_label(name), display(name, value)) for name, value in self.defaults.items()]

    def as_settings(self) -> dict[str, Any]:
        return {"columns": [{"header": column.header, "field": column.field} for column in self.columns],
                "defaults": dict(self.defaults)}


@lru_cache(maxsize=1)
def _builtin_raw() -> tuple[dict[str, Any], ...]:
    data = yaml.safe_load(PROFILES_FILE.read_text(encoding="utf-8")) or {}
    return tuple(data.get("profiles") or [])


def builtin_profiles() -> dict[str, Profile]:
    return {entry["key"]: Profile.from_settings(key=entry["key"], name=entry["name"], settings=entry,
                                                description=entry.get("description", ""), builtin=True)
            for entry in _builtin_raw()}


def validate_profile_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """Settings as stored for a saved profile (unknown fields and empty headers dropped)."""
    columns = [{"header": str(entry.get("header") or "")[:200],
                "field": entry.get("field") if entry.get("field") in FIELD_BY_KEY else ""}
               for entry in settings.get("columns") or []][:MAX_PROFILE_COLUMNS]
    if not any(column["field"] for column in columns):
        raise ValidationError(_("保存する列の対応付けがありません。"))
    defaults = {name: value for name, value in (settings.get("defaults") or {}).items() if name in DEFAULTS}
    return {"columns": columns, "defaults": defaults}


# --- the header row and the mapping ---------------------------------------------------------------


@dataclass
class Mapping:
    """Which file row holds the headers (None: the file has none) and which column fills which field."""

    header_row: int | None
    columns: dict[int, str]  # 0-based column → field key
    defaults: dict[str, str] = field(default_factory=lambda: dict(DEFAULTS))

    def as_dict(self) -> dict[str, Any]:
        return {"header_row": self.header_row, "columns": [[index, key] for index, key in sorted(self.columns.items())],
                "defaults": dict(self.defaults)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Mapping:
        columns = {int(index): key for index, key in data.get("columns") or [] if key in FIELD_BY_KEY}
        defaults = {**DEFAULTS, **{k: v for k, v in (data.get("defaults") or {}).items() if k in DEFAULTS and v}}
        header = data.get("header_row")
        return cls(header_row=int(header) if header not in (None, "") else None, columns=columns, defaults=defaults)


def _known_headers(profile: Profile | None) -> set[str]:
    known = set(_alias_index())
    if profile:
        known |= {header_key(column.header) for column in profile.columns if column.header}
    return known


def detect_header_row(rows: list[tuple[int, list[Any]]], profile: Profile | None = None) -> int | None:
    """The row (file row number) among the first ones whose cells name the most known columns; None
    when no row names at least two (the file has no header row)."""
    known = _known_headers(profile)
    best, best_score = None, 1
    for number, cells in rows[:HEADER_SCAN_ROWS]:
        score = sum(1 for cell in cells if isinstance(cell, str) and header_key(cell) in known)
        if score > best_score:
            best, best_score = number, score
    return best


def headers_of(rows: list[tuple[int, list[Any]]], header_row: int | None) -> list[str]:
    for number, cells in rows:
        if number == header_row:
            return ["" if cell is None else str(cell) for cell in cells]
    return []


def column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def suggest_mapping(rows: list[tuple[int, list[Any]]], profile: Profile | None = None) -> Mapping:
    """The mapping a profile (or, without one, the known header texts) gives for this file: by header
    text when the file has a header row and the profile names headers, otherwise by position."""
    header_row = detect_header_row(rows, profile)
    headers = headers_of(rows, header_row)
    columns: dict[int, str] = {}
    if profile is not None and (header_row is None or not any(column.header for column in profile.columns)):
        columns = {index: column.field for index, column in enumerate(profile.columns) if column.field}
    elif profile is not None:
        wanted = {header_key(column.header): column.field for column in profile.columns
                  if column.header and column.field}
        for index, text in enumerate(headers):
            key = header_key(text)
            if key in wanted and wanted[key] not in columns.values():
                columns[index] = wanted[key]
    else:
        for index, text in enumerate(headers):
            key = field_for_header(text)
            if key and key not in columns.values():
                columns[index] = key
    defaults = {**DEFAULTS, **(profile.defaults if profile else {})}
    return Mapping(header_row=header_row, columns=columns, defaults=defaults)


def mapping_problems(mapping: Mapping) -> list[str]:
    problems = []
    used: dict[str, int] = {}
    for index, key in sorted(mapping.columns.items()):
        if key in used:
            problems.append(_("「%(field)s」に複数の列（%(a)s列・%(b)s列）が対応付けられています。")
                            % {"field": field_label(key), "a": column_letter(used[key]), "b": column_letter(index)})
        used.setdefault(key, index)
    if not any(key in used for key in IDENTITY):
        problems.append(_("ホスト名（筐体名）・MACアドレス・シリアル番号のいずれかの列を対応付けてください。"))
    for name, value in mapping.defaults.items():
        choices = DeviceKind if name == "kind" else DeviceStatus
        if value not in choices.values:
            problems.append(_("既定値が正しくありません: %(value)s") % {"value": value})
    return problems


def profile_from_mapping(mapping: Mapping, headers: list[str]) -> dict[str, Any]:
    """Settings for saving the mapping as a profile: the mapped columns by header text, or — for a
    file without a header row — every column up to the last mapped one, by position."""
    if mapping.header_row is not None:
        columns = [{"header": headers[index] if index < len(headers) else "", "field": key}
                   for index, key in sorted(mapping.columns.items())]
        if all(column["header"] for column in columns):
            return {"columns": columns, "defaults": dict(mapping.defaults)}
    width = max(mapping.columns, default=-1) + 1
    return {"columns": [{"header": "", "field": mapping.columns.get(index, "")} for index in range(width)],
            "defaults": dict(mapping.defaults)}


# --- rows ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SoftwareEntry:
    name: str = ""
    version: str = ""
    cpe23: str = ""

    @property
    def key(self) -> str:
        return software_key(self.name, self.version, self.cpe23)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "cpe23": self.cpe23}


def software_key(name: str, version: str, cpe23: str) -> str:
    return cpe23.lower() if cpe23 else f"{name.casefold()}|{version.casefold()}"


@dataclass
class RowResult:
    row: int  # as numbered in the file
    values: dict[str, Any] = field(default_factory=dict)  # cleaned values of the non-blank mapped cells
    cells: dict[str, str] = field(default_factory=dict)  # the same cells as text, for display
    errors: list[str] = field(default_factory=list)

    def identity(self) -> dict[str, str]:
        return {"mac": self.values.get("mac") or "", "serial": (self.values.get("serial") or "").lower(),
                "hostname": (self.values.get("hostname") or "").lower()}

    @property
    def label(self) -> str:
        return self.cells.get("hostname") or self.cells.get("mac") or self.cells.get("serial") or ""


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def looks_like_formula(text: str) -> bool:
    """Text that a spreadsheet would run as a formula (=, +, -, @ …) and that is not a number."""
    if not text.startswith(_FORMULA_START):
        return False
    try:
        float(unicodedata.normalize("NFKC", text))
    except ValueError:
        return True
    return False


def _date_value(value: Any) -> Any:
    """Excel serials (a number, or five digits as text) and the many Japanese notations → date;
    anything unreadable is handed on as it is so the ledger's rule reports it."""
    if isinstance(value, str) and _SERIAL_DIGITS.match(value):
        value = int(float(value))
    try:
        return japanese_dates.parse_date(value) or ""
    except (japanese_dates.DateProblem, ValueError, OverflowError):
        return value


def parse_software(text: str) -> tuple[list[SoftwareEntry], list[str]]:
    """Entries separated by ; or new lines: a CPE 2.3 name, a CPE 2.2 URI, or a name (with a version)."""
    entries, problems = [], []
    for part in _SPLIT_SOFTWARE.split(text):
        item = part.strip()
        if not item:
            continue
        if item.lower().startswith(("cpe:2.3:", "cpe:/")):
            try:
                formatted = normalise.to_cpe23(item)
            except ValueError as error:
                problems.append(str(error))
                continue
            cpe = normalise.parse_cpe23(formatted)
            version = "" if cpe.version in (normalise.ANY, normalise.NA) else cpe.value("version")
            entries.append(SoftwareEntry(name=cpe.value("product").replace("_", " ")[:200], version=version[:100],
                                         cpe23=formatted))
            continue
        found = _VERSION_TAIL.match(item)
        name, version = (found.group("name"), found.group("version")) if found else (item, "")
        entries.append(SoftwareEntry(name=name[:200], version=version[:100]))
    return entries, problems


def parse_row(number: int, cells: list[Any], mapping: Mapping, systems: dict[str, int]) -> RowResult:
    """One data row: the mapped cells checked and normalised. `systems`: folded system name → id."""
    result = RowResult(row=number)
    raw: dict[str, Any] = {}
    for index, key in sorted(mapping.columns.items()):
        value = cells[index] if index < len(cells) else None
        text = cell_text(value)
        if not text or _PLACEHOLDER.match(text):
            continue
        result.cells[key] = text
        where = _where(index, key)
        if isinstance(value, str) and looks_like_formula(text):
            result.errors.append(_("%(where)s: 数式として実行されるおそれのある値は取り込みません（「%(value)s」）。"
                                   "先頭の記号を取り除いてください。") % {"where": where, "value": text[:30]})
            continue
        if key == "systems":
            ids, unknown = [], []
            for name in _SPLIT_SYSTEMS.split(text):
                found = systems.get(header_key(name))
                if found:
                    ids.append(found)
                elif name.strip():
                    unknown.append(name.strip())
            if unknown:
                message = _("%(where)s: 台帳にないシステムです（%(names)s）。先にシステムを登録してください。")
                result.errors.append(message % {"where": where, "names": "、".join(unknown[:5])})
            else:
                raw["systems"] = sorted(set(ids))
            continue
        if key == "software":
            entries, problems = parse_software(text)
            result.errors.extend(f"{where}: {problem}" for problem in problems)
            result.values["software"] = entries
            continue
        if key in DATE_FIELDS:
            day = _date_value(text if isinstance(value, str) else value)
            if day != "":
                raw[key] = day
        elif key in ("kind", "status"):
            raw[key] = choice_aliases()[key].get(header_key(text), text)
        else:
            raw[key] = text
    try:
        cleaned = field_rules.clean_device(raw, partial=True)
    except ValidationError as error:
        index_of = {key: index for index, key in mapping.columns.items()}
        for key, messages in error.message_dict.items():
            where = _where(index_of.get(key, 0), key)
            hint = _choice_hint(key)
            result.errors.extend(f"{where}: {message}{hint}" for message in messages)
        cleaned = {}
    result.values.update(cleaned)
    if not any(result.cells.get(key) for key in IDENTITY) and not result.errors:
        result.errors.append(_("ホスト名（筐体名）・MACアドレス・シリアル番号のいずれかが必要です。"))
    return result


def _where(index: int, key: str) -> str:
    return _("%(col)s列「%(field)s」") % {"col": column_letter(index), "field": field_label(key)}


def _choice_hint(key: str) -> str:
    if key not in ("kind", "status"):
        return ""
    choices = DeviceKind if key == "kind" else DeviceStatus
    return _("（使える値: %(values)s）") % {"values": "、".join(str(label) for label in choices.labels)}


def parse_rows(rows: list[tuple[int, list[Any]]], mapping: Mapping, systems: dict[str, int]) -> list[RowResult]:
    """The data rows after the header row (every row with content when there is none)."""
    start = mapping.header_row or 0
    return [parse_row(number, cells, mapping, systems) for number, cells in rows if number > start]


# --- the plan ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerDevice:
    """What the plan needs to know of one device of the ledger."""

    id: int
    label: str
    values: dict[str, Any]
    systems: frozenset[int] = frozenset()
    software: frozenset[str] = frozenset()


@dataclass
class Ledger:
    """A snapshot: the identity index (`selectors.device_index`) and the matched devices' values."""

    index: dict[str, dict[str, list[int]]]
    devices: dict[int, LedgerDevice] = field(default_factory=dict)
    system_names: dict[int, str] = field(default_factory=dict)


CREATE, UPDATE, UNCHANGED, ERROR = "create", "update", "unchanged", "error"


@dataclass
class PlannedRow:
    row: int
    action: str
    label: str
    values: dict[str, Any] = field(default_factory=dict)
    device_id: int | None = None
    device_label: str = ""
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    add_systems: list[int] = field(default_factory=list)
    add_software: list[SoftwareEntry] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass
class Plan:
    rows: list[PlannedRow]

    def of(self, action: str) -> list[PlannedRow]:
        return [row for row in self.rows if row.action == action]

    @property
    def counts(self) -> dict[str, int]:
        counts = {CREATE: 0, UPDATE: 0, UNCHANGED: 0, ERROR: 0}
        for row in self.rows:
            counts[row.action] += 1
        return counts

    @property
    def ok(self) -> bool:
        return not any(row.action == ERROR for row in self.rows)

    @property
    def writes(self) -> int:
        counts = self.counts
        return counts[CREATE] + counts[UPDATE]


def _identity_labels() -> dict[str, str]:
    return {"mac": field_label("mac"), "serial": field_label("serial"), "hostname": field_label("hostname")}


def matched_ids(results: list[RowResult], index: dict[str, dict[str, list[int]]]) -> set[int]:
    """The ledger devices any row could touch (their values are loaded for the plan)."""
    found: set[int] = set()
    for result in results:
        for key, value in result.identity().items():
            if value:
                found.update(index[key].get(value, []))
    return found


def build_plan(results: list[RowResult], ledger: Ledger) -> Plan:
    labels = _identity_labels()
    seen: dict[str, dict[str, int]] = {key: {} for key in IDENTITY}
    claimed: dict[int, int] = {}
    planned: list[PlannedRow] = []
    for result in results:
        row = PlannedRow(row=result.row, action=ERROR, label=result.label, values=result.values,
                         errors=list(result.errors))
        planned.append(row)
        if row.errors:
            continue
        identity = result.identity()
        for key in IDENTITY:
            value = identity[key]
            if value and value in seen[key]:
                row.errors.append(_("%(row)s 行目と同じ%(label)s「%(value)s」です（ファイル内の重複）。")
                                  % {"row": seen[key][value], "label": labels[key], "value": result.cells.get(key)})
        target, problems = _match(identity, ledger, labels, result)
        row.errors.extend(problems)
        if target is not None and target in claimed and not row.errors:
            row.errors.append(_("%(row)s 行目と同じ機器（%(device)s）です（ファイル内の重複）。")
                              % {"row": claimed[target], "device": ledger.devices[target].label})
        for key in IDENTITY:
            if identity[key]:
                seen[key].setdefault(identity[key], result.row)
        if row.errors:
            continue
        if target is None:
            row.action = CREATE
            row.add_software = list(result.values.get("software") or [])
            continue
        claimed[target] = result.row
        _changes(row, result, ledger.devices[target], ledger)
    return Plan(planned)


def _match(identity: dict[str, str], ledger: Ledger, labels: dict[str, str],
           result: RowResult) -> tuple[int | None, list[str]]:
    """The device the row updates (first identity that hits: MAC, serial, host name), or clashes."""
    target: int | None = None
    problems: list[str] = []
    for key in IDENTITY:
        ids = ledger.index[key].get(identity[key], []) if identity[key] else []
        if not ids:
            continue
        if target is None:
            if len(ids) > 1:
                problems.append(_("%(label)s「%(value)s」の機器が台帳に複数あります（MACアドレスかシリアル番号で"
                                  "特定してください）。") % {"label": labels[key], "value": result.cells.get(key)})
                return None, problems
            target = ids[0]
        elif target not in ids:
            other = ledger.devices.get(ids[0])
            problems.append(_("%(label)s「%(value)s」は別の機器（%(other)s）に登録済みです。")
                            % {"label": labels[key], "value": result.cells.get(key),
                               "other": other.label if other else f"#{ids[0]}"})
    return target, problems


def _changes(row: PlannedRow, result: RowResult, device: LedgerDevice, ledger: Ledger) -> None:
    row.device_id, row.device_label = device.id, device.label
    for key, value in result.values.items():
        if key in ("systems", "software"):
            continue
        current = device.values.get(key)
        if key in CASE_INSENSITIVE and isinstance(current, str) and current.casefold() == str(value).casefold():
            continue  # the same identifier written in another case: the ledger keeps its spelling
        if current != value:
            row.changes[key] = (current, value)
    row.add_systems = [pk for pk in result.values.get("systems") or [] if pk not in device.systems]
    known = set(device.software)
    for entry in result.values.get("software") or []:
        if entry.key not in known:
            row.add_software.append(entry)
            known.add(entry.key)
    row.action = UPDATE if (row.changes or row.add_systems or row.add_software) else UNCHANGED


def display(key: str, value: Any) -> str:
    """A value as the preview shows it."""
    if value in (None, ""):
        return "—"
    if isinstance(value, bool):
        return _("はい") if value else _("いいえ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if key == "kind":
        return str(dict(DeviceKind.choices).get(value, value))
    if key == "status":
        return str(dict(DeviceStatus.choices).get(value, value))
    return str(value)
