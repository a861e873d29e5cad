"""Which evidence files are accepted: by extension AND by content (magic bytes), never by what the
browser claims. Pure except for reading the given file object."""

from __future__ import annotations

import re
import unicodedata
import zipfile
from dataclasses import dataclass
from typing import IO

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

CHUNK = 64 * 1024


@dataclass(frozen=True)
class FileType:
    extension: str
    label: str  # the format's own name (not translated)
    content_type: str  # recorded for information; downloads are always application/octet-stream


TYPES = {
    "pdf": FileType("pdf", "PDF", "application/pdf"),
    "png": FileType("png", "PNG", "image/png"),
    "jpg": FileType("jpg", "JPEG", "image/jpeg"),
    "jpeg": FileType("jpg", "JPEG", "image/jpeg"),
    "xlsx": FileType("xlsx", "Excel (xlsx)",
                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "docx": FileType("docx", "Word (docx)",
                     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "csv": FileType("csv", "CSV", "text/csv"),
    "txt": FileType("txt", "TXT", "text/plain"),
}
ALLOWED_LABEL = gettext_lazy("PDF・PNG・JPEG・Excel (xlsx)・Word (docx)・CSV・テキスト (txt)")
_OOXML_PART = {"xlsx": "xl/workbook.xml", "docx": "word/document.xml"}
_BINARY_MAGIC = (b"%PDF", b"PK\x03\x04", b"MZ", b"\x7fELF", b"\x89PNG", b"\xff\xd8\xff", b"\xd0\xcf\x11\xe0")


class RejectedFile(ValueError):
    """The file is not accepted; the message says why, in Japanese."""


def safe_name(name: str) -> str:
    """The file's own name without folders or control characters (kept for the download)."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(ch for ch in unicodedata.normalize("NFC", base) if unicodedata.category(ch)[0] != "C")
    base = base.strip().strip(".") or "evidence"
    if len(base) > 200:
        stem, dot, ext = base.rpartition(".")
        base = (stem[: 190] + dot + ext) if dot else base[:200]
    return base


def extension_of(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def file_type(name: str) -> FileType:
    found = TYPES.get(extension_of(name))
    if found is None:
        raise RejectedFile(_("この種類のファイルは登録できません。登録できるのは %(types)s です。")
                           % {"types": ALLOWED_LABEL})
    return found


def _head(stream: IO[bytes], size: int = 16) -> bytes:
    stream.seek(0)
    head = stream.read(size)
    stream.seek(0)
    return head


def _is_text(stream: IO[bytes]) -> bool:
    stream.seek(0)
    data = b""
    while chunk := stream.read(CHUNK):
        if b"\x00" in chunk:
            stream.seek(0)
            return False
        data += chunk
    stream.seek(0)
    if data.startswith(_BINARY_MAGIC):
        return False
    for encoding in ("utf-8-sig", "cp932"):
        try:
            data.decode(encoding)
            return True
        except UnicodeDecodeError:
            continue
    return False


def _is_ooxml(stream: IO[bytes], part: str) -> bool:
    if _head(stream, 4) != b"PK\x03\x04":
        return False
    try:
        with zipfile.ZipFile(stream) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return False
    finally:
        stream.seek(0)
    return "[Content_Types].xml" in names and part in names


def check(name: str, stream: IO[bytes], size: int, max_bytes: int) -> FileType:
    """The accepted type of the file, or RejectedFile with the reason."""
    kind = file_type(name)
    if size <= 0:
        raise RejectedFile(_("ファイルが空です。"))
    if size > max_bytes:
        raise RejectedFile(_("ファイルが大きすぎます（上限 %(mb)s MB）。") % {"mb": max(1, max_bytes // (1024 * 1024))})
    ext = kind.extension
    head = _head(stream)
    ok = {
        "pdf": lambda: head.startswith(b"%PDF-"),
        "png": lambda: head.startswith(b"\x89PNG\r\n\x1a\n"),
        "jpg": lambda: head.startswith(b"\xff\xd8\xff"),
        "xlsx": lambda: _is_ooxml(stream, _OOXML_PART["xlsx"]),
        "docx": lambda: _is_ooxml(stream, _OOXML_PART["docx"]),
        "csv": lambda: _is_text(stream),
        "txt": lambda: _is_text(stream),
    }[ext]()
    if not ok:
        message = _("ファイルの中身が拡張子（.%(ext)s）の形式と一致しません。%(label)s のファイルを選んでください。")
        raise RejectedFile(message % {"ext": extension_of(name), "label": kind.label})
    return kind
