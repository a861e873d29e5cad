"""Normalising what people type or import into the ledger (pure: no ORM, no Django settings).

- MAC addresses in any of the usual notations → `aa:bb:cc:dd:ee:ff`; `oui_of` gives the IEEE prefix.
- IP addresses (IPv4 with zero-padded octets as Excel lists often have them, IPv6) → compressed form.
- Dates as typed in Japanese lists (2024/4/1, 2024-04-01, 2024年4月1日, 令和6年4月1日, R6.4.1).
- CPE 2.3 formatted strings (NISTIR 7695 §6.2) parsed into their eleven components, and CPE 2.2 URIs
  (what nmap prints) converted to CPE 2.3 formatted strings (NISTIR 7695 §6.1 unbinding → §6.2 binding).

Everything raises `ValueError` with a Japanese message on malformed input.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import unicodedata
from dataclasses import astuple, dataclass, fields

from django.utils.translation import gettext as _

# --- MAC / OUI --------------------------------------------------------------------------------------

_HEX = "0123456789abcdef"
_MAC_SEPARATED = re.compile(r"^([0-9a-f]{1,2})([:\-])([0-9a-f]{1,2})\2([0-9a-f]{1,2})\2([0-9a-f]{1,2})\2"
                            r"([0-9a-f]{1,2})\2([0-9a-f]{1,2})$")
_MAC_DOTTED = re.compile(r"^([0-9a-f]{4})\.([0-9a-f]{4})\.([0-9a-f]{4})$")
_MAC_BARE = re.compile(r"^[0-9a-f]{12}$")


def _fold(value: object) -> str:
    """Full-width letters and digits (common in Japanese Excel lists) folded to ASCII, trimmed."""
    return unicodedata.normalize("NFKC", str(value)).strip()


def normalise_mac(value: object) -> str:
    """`aa:bb:cc:dd:ee:ff` from aa-bb-cc-dd-ee-ff, AA:BB:…, AABB.CCDD.EEFF, aabbccddeeff, a:b:c:d:e:f."""
    text = _fold(value).lower()
    separated = _MAC_SEPARATED.match(text)
    if separated:
        octets = [separated.group(i).rjust(2, "0") for i in (1, 3, 4, 5, 6, 7)]
    else:
        dotted = _MAC_DOTTED.match(text)
        if dotted:
            text = "".join(dotted.groups())
        elif not _MAC_BARE.match(text):
            raise ValueError(_("MACアドレスの形式が正しくありません: %(value)s") % {"value": str(value)[:40]})
        octets = [text[i:i + 2] for i in range(0, 12, 2)]
    return ":".join(octets)


def oui_of(mac: str) -> str:
    """The IEEE MA-L prefix of a MAC address as six upper-case hex digits (e.g. `00D49E`)."""
    return normalise_mac(mac).replace(":", "")[:6].upper()


def is_locally_administered(mac: str) -> bool:
    """Randomised / locally administered addresses (second-lowest bit of the first octet) have no vendor."""
    return bool(int(normalise_mac(mac)[:2], 16) & 0x02)


# --- IP ---------------------------------------------------------------------------------------------

_V4_PADDED = re.compile(r"^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$")


def normalise_ip(value: object) -> str:
    """An IPv4 or IPv6 address in compressed form; IPv4 octets with leading zeros are read as decimal."""
    text = _fold(value)
    padded = _V4_PADDED.match(text)
    if padded:
        text = ".".join(str(int(part)) for part in padded.groups())
    try:
        return ipaddress.ip_address(text).compressed
    except ValueError:
        raise ValueError(_("IPアドレスの形式が正しくありません: %(value)s") % {"value": str(value)[:60]}) from None


# --- dates ------------------------------------------------------------------------------------------

_ERAS = {"令和": 2018, "r": 2018, "平成": 1988, "h": 1988, "昭和": 1925, "s": 1925}
_DATE_WESTERN = re.compile(r"^(\d{4})[/\-.年](\d{1,2})[/\-.月](\d{1,2})日?(?:[ t]\d{1,2}:\d{2}(?::\d{2})?)?$")
_DATE_ERA = re.compile(r"^(令和|平成|昭和|r|h|s)\s*(\d{1,2}|元)[/\-.年](\d{1,2})[/\-.月](\d{1,2})日?$")
_DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


def parse_date(value: object) -> dt.date:
    """A date from a date/datetime or from text: 2024/4/1, 2024-04-01, 2024年4月1日, 20240401,
    令和6年4月1日, R6.4.1 (元年 too)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _fold(value).lower()
    try:
        western = _DATE_WESTERN.match(text) or _DATE_COMPACT.match(text)
        if western:
            year, month, day = (int(part) for part in western.groups())
            return dt.date(year, month, day)
        era = _DATE_ERA.match(text)
        if era:
            name, year_text, month, day = era.groups()
            year = 1 if year_text == "元" else int(year_text)
            return dt.date(_ERAS[name] + year, int(month), int(day))
    except ValueError:
        pass
    raise ValueError(_("日付の形式が正しくありません: %(value)s") % {"value": str(value)[:40]})


# --- CPE 2.3 ----------------------------------------------------------------------------------------

CPE_COMPONENTS = ("part", "vendor", "product", "version", "update", "edition", "language", "sw_edition",
                  "target_sw", "target_hw", "other")
ANY, NA = "*", "-"
_FS_PREFIX = "cpe:2.3:"
_PRINTABLE = {chr(code) for code in range(0x21, 0x7F)}
_FS_PLAIN = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")
_LANGTAG = re.compile(r"^[a-z]{2,3}(?:\\?-(?:[a-z]{2}|[0-9]{3}))?$", re.IGNORECASE)


@dataclass(frozen=True)
class Cpe:
    """The eleven components of a CPE 2.3 name, each as written in the formatted string
    (`*` any, `-` not applicable, otherwise the value with its backslash escapes)."""

    part: str
    vendor: str
    product: str
    version: str = ANY
    update: str = ANY
    edition: str = ANY
    language: str = ANY
    sw_edition: str = ANY
    target_sw: str = ANY
    target_hw: str = ANY
    other: str = ANY

    def to_fs(self) -> str:
        """The formatted string (`cpe:2.3:a:vendor:product:…`)."""
        return _FS_PREFIX + ":".join(astuple(self))

    def value(self, component: str) -> str:
        """A component without its escapes, for display (`*` and `-` stay as they are)."""
        return unescape(getattr(self, component))

    def lower(self) -> Cpe:
        return Cpe(*(part.lower() for part in astuple(self)))


def unescape(component: str) -> str:
    if component in (ANY, NA):
        return component
    return re.sub(r"\\(.)", r"\1", component)


def escape(value: str) -> str:
    """A free-text value as a formatted-string component: spaces become `_`, punctuation other than
    `-`, `.` and `_` is escaped (what a user means by typing “Acrobat Reader DC” → acrobat_reader_dc)."""
    text = _fold(value).replace(" ", "_")
    if text in ("", ANY):
        return ANY
    if text == NA:
        return NA
    escaped = "".join(ch if ch in _FS_PLAIN else "\\" + ch for ch in text if ch in _PRINTABLE)
    return escaped or ANY


def _split_fs(text: str) -> list[str]:
    parts, current, index = [], [], 0
    while index < len(text):
        ch = text[index]
        if ch == "\\":
            if index + 1 >= len(text):
                raise ValueError(_("CPE 2.3 の末尾に単独の「\\」があります"))
            current.append(text[index:index + 2])
            index += 2
            continue
        if ch == ":":
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
        index += 1
    parts.append("".join(current))
    return parts


def _check_component(name: str, value: str) -> None:
    if value in (ANY, NA):
        return
    if value == "":
        raise ValueError(_("CPE 2.3 の %(name)s が空です（不明なら「*」、該当しないなら「-」）") % {"name": name})
    index, length = 0, len(value)
    while index < length:
        ch = value[index]
        if ch not in _PRINTABLE:
            raise ValueError(_("CPE 2.3 の %(name)s に使えない文字があります（空白・全角文字は不可）") % {"name": name})
        if ch == "\\":
            if index + 1 >= length or value[index + 1] not in _PRINTABLE:
                raise ValueError(_("CPE 2.3 の %(name)s のエスケープが正しくありません") % {"name": name})
            index += 2
            continue
        if ch == "*":
            if index not in (0, length - 1):
                message = _("CPE 2.3 の %(name)s: ワイルドカード「*」は先頭か末尾にだけ書けます")
                raise ValueError(message % {"name": name})
        elif ch == "?":
            run_start = index
            while run_start > 0 and value[run_start - 1] == "?":
                run_start -= 1
            run_end = index
            while run_end + 1 < length and value[run_end + 1] == "?":
                run_end += 1
            if run_start != 0 and run_end != length - 1:
                message = _("CPE 2.3 の %(name)s: ワイルドカード「?」は先頭か末尾にだけ書けます")
                raise ValueError(message % {"name": name})
        elif ch not in _FS_PLAIN:
            message = _("CPE 2.3 の %(name)s の記号「%(char)s」は「\\%(char)s」とエスケープしてください")
            raise ValueError(message % {"name": name, "char": ch})
        index += 1
    if value == "**":
        raise ValueError(_("CPE 2.3 の %(name)s が正しくありません（「**」）") % {"name": name})


def parse_cpe23(value: object) -> Cpe:
    """The components of a CPE 2.3 formatted string; `ValueError` (Japanese) when it is malformed."""
    text = str(value).strip()
    if not text.lower().startswith(_FS_PREFIX):
        raise ValueError(_("CPE 2.3 名は「cpe:2.3:」で始まります（例: cpe:2.3:a:microsoft:edge:118.0:*:*:*:*:*:*:*）"))
    parts = _split_fs(text[len(_FS_PREFIX):])
    if len(parts) != len(CPE_COMPONENTS):
        raise ValueError(_("CPE 2.3 名には11個の要素が必要です（%(count)s個あります）") % {"count": len(parts)})
    part = parts[0].lower()
    if part not in ("a", "o", "h", ANY, NA):
        raise ValueError(_("CPE 2.3 の part は a（アプリケーション）・o（OS）・h（ハードウェア）のいずれかです"))
    for name, component in zip(CPE_COMPONENTS, parts, strict=True):
        _check_component(name, component)
    language = parts[6]
    if language not in (ANY, NA) and not _LANGTAG.match(language):
        raise ValueError(_("CPE 2.3 の language は言語タグ（例: ja、en-us）で書いてください"))
    return Cpe(*parts)


def cpe_fields() -> tuple[str, ...]:
    return tuple(field.name for field in fields(Cpe))


# --- CPE 2.2 URI → 2.3 formatted string -------------------------------------------------------------

_URI_PREFIX = "cpe:/"


def _uri_component(raw: str) -> str:
    """One URI component (percent-encoded) as a formatted-string component."""
    if raw == "":
        return ANY
    if raw == NA:
        return NA
    out: list[str] = []
    index = 0
    while index < len(raw):
        ch = raw[index]
        if ch == "%":
            code = raw[index + 1:index + 3]
            if len(code) != 2 or any(c not in _HEX for c in code.lower()):
                raise ValueError(_("CPE 2.2 名のパーセントエンコードが正しくありません"))
            if code == "01":
                out.append("?")
            elif code == "02":
                out.append("*")
            else:
                decoded = chr(int(code, 16))
                if decoded not in _PRINTABLE:
                    raise ValueError(_("CPE 2.2 名に使えない文字があります"))
                out.append(decoded if decoded in _FS_PLAIN else "\\" + decoded)
            index += 3
            continue
        if ch not in _PRINTABLE:
            raise ValueError(_("CPE 2.2 名に使えない文字があります（空白・全角文字は不可）"))
        out.append(ch if ch in _FS_PLAIN else "\\" + ch)
        index += 1
    return "".join(out)


def cpe22_to_23(uri: object) -> str:
    """`cpe:/a:apache:http_server:2.4.7` → `cpe:2.3:a:apache:http_server:2.4.7:*:*:*:*:*:*:*`.

    Handles percent-encoding, the `%01`/`%02` wildcards and the packed edition
    (`~edition~sw_edition~target_sw~target_hw~other`); missing trailing components are ANY."""
    text = str(uri).strip()
    if not text.lower().startswith(_URI_PREFIX):
        raise ValueError(_("CPE 2.2 名は「cpe:/」で始まります（例: cpe:/a:apache:http_server:2.4.7）"))
    parts = text[len(_URI_PREFIX):].split(":")
    if len(parts) > 7:
        raise ValueError(_("CPE 2.2 名の要素が多すぎます（最大7個）"))
    parts += [""] * (7 - len(parts))
    part, vendor, product, version, update, edition, language = parts
    values = {"part": part.lower() or ANY, "vendor": vendor, "product": product, "version": version,
              "update": update, "language": language}
    packed = {"edition": edition, "sw_edition": "", "target_sw": "", "target_hw": "", "other": ""}
    if edition.startswith("~"):
        pieces = edition[1:].split("~")
        if len(pieces) != 5:
            raise ValueError(_("CPE 2.2 名の edition（~ で区切った5要素）が正しくありません"))
        packed = dict(zip(("edition", "sw_edition", "target_sw", "target_hw", "other"), pieces, strict=True))
    values.update(packed)
    components = [values["part"] if name == "part" else _uri_component(values[name]).lower()
                  for name in CPE_COMPONENTS]
    formatted = _FS_PREFIX + ":".join(components)
    parse_cpe23(formatted)  # the result must itself be valid (e.g. part a/o/h)
    return formatted


def to_cpe23(value: object) -> str:
    """A CPE 2.3 formatted string from either binding, lower-cased (CPE names compare case-insensitively
    and the NVD dictionary writes them in lower case)."""
    text = str(value).strip()
    if text.lower().startswith(_URI_PREFIX):
        return cpe22_to_23(text)
    return parse_cpe23(text).lower().to_fs()
