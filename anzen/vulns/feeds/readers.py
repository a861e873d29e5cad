"""Reading feed files: plain, gzip, xz, bzip2 and zip, single files and whole directories (USB sticks on
closed networks), with format detection and the NVD ``.meta`` check (size and SHA-256 of the uncompressed
JSON). Every failure is a `FeedError` with a Japanese message that names the file.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import lzma
import zipfile
import zlib
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from django.utils.translation import gettext as _

from anzen.vulns.feeds import cve5, jvn, nvd11, nvd20
from anzen.vulns.feeds.records import FeedError, SourceRecord

COMPRESSED = {".gz": "gzip", ".xz": "xz", ".bz2": "bz2"}
FEED_SUFFIXES = (".json", ".jsonl", ".xml", ".rdf")
SKIPPED_SUFFIXES = (".meta", ".md", ".txt", ".sha256", ".csv", ".html", ".py", ".yaml", ".yml")
MAX_DOCUMENT_BYTES = 2 * 1024 * 1024 * 1024  # one JSON document, uncompressed


@dataclass
class Member:
    """One feed document: a file, or a member of a zip archive."""

    name: str
    source: str
    raw: bytes  # as stored (compressed or not)
    compression: str = ""
    meta: Path | None = None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()

    @property
    def size(self) -> int:
        return len(self.raw)

    @property
    def base_name(self) -> str:
        """The name without the compression suffix (``nvdcve-1.1-2018.json``)."""
        name = self.name.rsplit("!", 1)[-1]
        for suffix in COMPRESSED:
            if name.endswith(suffix):
                return name[: -len(suffix)]
        return name

    def stream(self) -> io.BufferedIOBase:
        buffer = io.BytesIO(self.raw)
        if self.compression == "gzip":
            return gzip.GzipFile(fileobj=buffer)  # type: ignore[return-value]
        if self.compression == "xz":
            return lzma.LZMAFile(buffer)  # type: ignore[return-value]
        if self.compression == "bz2":
            return bz2.BZ2File(buffer)  # type: ignore[return-value]
        return buffer

    def read(self) -> bytes:
        try:
            if self.compression == "gzip":
                data = gzip.decompress(self.raw)
            elif self.compression == "xz":
                data = lzma.decompress(self.raw)
            elif self.compression == "bz2":
                data = bz2.decompress(self.raw)
            else:
                data = self.raw
        except (EOFError, OSError, zlib.error, lzma.LZMAError, ValueError) as error:
            raise damaged(self.name, error) from None
        if len(data) > MAX_DOCUMENT_BYTES:
            raise FeedError(_("%(name)s は大きすぎます（展開後 %(size)s バイト）。") % {"name": self.name,
                                                                            "size": len(data)})
        return data


def damaged(name: str, error: BaseException) -> FeedError:
    if isinstance(error, EOFError):
        detail = _("圧縮データが途中で終わっています（ファイルが途中までしかありません）")
    else:
        detail = _("圧縮データが壊れています（%(error)s）") % {"error": str(error)[:120]}
    return FeedError(_("%(name)s を読み込めません: %(detail)s。このファイルからは何も取り込んでいません。") % {
        "name": name, "detail": detail})


def _compression(name: str) -> str:
    for suffix, kind in COMPRESSED.items():
        if name.lower().endswith(suffix):
            return kind
    return ""


def _meta_for(path: Path) -> Path | None:
    name = path.name
    for suffix in (".json.gz", ".json.zip", ".json.xz", ".json"):
        if name.endswith(suffix):
            candidate = path.with_name(name[: -len(suffix)] + ".meta")
            return candidate if candidate.is_file() else None
    return None


def _is_feed_name(name: str) -> bool:
    lower = name.lower()
    if lower.endswith(SKIPPED_SUFFIXES) or Path(lower).name.startswith("."):
        return False
    for suffix in COMPRESSED:
        if lower.endswith(suffix):
            lower = lower[: -len(suffix)]
    return lower.endswith(FEED_SUFFIXES) or lower.endswith(".zip")


def members(path: Path) -> Iterator[Member]:
    """The feed documents under `path` (a file, an archive or a directory, recursively, sorted by name)."""
    if path.is_dir():
        for child in sorted(item for item in path.rglob("*") if item.is_file()):
            if _is_feed_name(child.name):
                yield from members(child)
        return
    if not path.is_file():
        raise FeedError(_("%(path)s が見つかりません。") % {"path": path})
    raw = path.read_bytes()
    if path.name.lower().endswith(".zip"):
        yield from _zip_members(path.name, str(path), raw)
        return
    yield Member(path.name, str(path), raw, _compression(path.name), _meta_for(path))


def _zip_members(name: str, source: str, raw: bytes) -> Iterator[Member]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        infos = sorted((info for info in archive.infolist() if not info.is_dir() and _is_feed_name(info.filename)),
                       key=lambda info: info.filename)
        contents = [(info.filename, archive.read(info)) for info in infos]
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as error:
        raise damaged(name, error) from None
    if not contents:
        raise FeedError(_("%(name)s にフィードのファイルがありません。") % {"name": name})
    for inner, data in contents:
        yield Member(f"{name}!{inner}", source, data, _compression(inner))


def member_from_bytes(name: str, data: bytes, *, source: str = "") -> Member:
    return Member(name, source or name, data, _compression(name))


# --- .meta ------------------------------------------------------------------------------------------


def parse_meta(text: str) -> dict[str, str]:
    values = {}
    for line in text.splitlines():
        key, _sep, value = line.partition(":")
        if _sep:
            values[key.strip()] = value.strip()
    return values


def meta_check(member: Member, data: bytes) -> Future[None] | None:
    """Starts checking the uncompressed bytes against the `.meta` file beside the feed (in a thread: hashing
    releases the GIL, so it overlaps with parsing); `.result()` raises FeedError on a mismatch."""
    if member.meta is None:
        return None
    values = parse_meta(member.meta.read_text(encoding="ascii", errors="replace"))

    def check() -> None:
        size = values.get("size")
        if size and size.isdigit() and int(size) != len(data):
            raise FeedError(_("%(name)s のサイズが .meta と一致しません"
                              "（.meta %(expected)s バイト、実際 %(actual)s バイト）。"
                              "このファイルからは何も取り込んでいません。") % {
                "name": member.name, "expected": size, "actual": len(data)})
        expected = values.get("sha256", "").lower()
        if expected and hashlib.sha256(data).hexdigest() != expected:
            raise FeedError(_("%(name)s の SHA-256 が .meta と一致しません。ファイルが壊れているか別の版です。"
                              "このファイルからは何も取り込んでいません。") % {"name": member.name})

    executor = ThreadPoolExecutor(max_workers=1)
    future = executor.submit(check)
    executor.shutdown(wait=False)
    return future


# --- documents → records ----------------------------------------------------------------------------


def _loads(name: str, data: bytes) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise FeedError(_("%(name)s は JSON として読めません（%(error)s）。ファイルが壊れているか途中で切れています。"
                          "このファイルからは何も取り込んでいません。") % {
                              "name": name, "error": str(error)[:160]}) from None


def detect(document: Any) -> str:
    if nvd11.is_feed(document) or nvd11.is_item(document):
        return "nvd11"
    if jvn.is_json(document):
        return "jvn-json"
    if nvd20.is_page(document) or nvd20.is_cve(document) or nvd20.is_wrapped_cve(document):
        return "nvd20"
    if cve5.is_record(document) or (isinstance(document, list) and document and cve5.is_record(document[0])):
        return "cve5"
    return ""


def records(member: Member, *, errors: list[str], formats: list[str]) -> Iterator[SourceRecord]:
    """Every record of one document. The detected format is appended to `formats`."""
    if member.base_name.lower().endswith(".jsonl"):
        formats.append("cve5")
        yield from _jsonl(member, errors)
        return
    data = member.read()
    checking = meta_check(member, data)
    head = data[:64].lstrip()
    if head.startswith(b"<"):
        formats.append("jvn-xml")
        advisories = jvn.parse_xml(data)
        del data
        yield from jvn.records(advisories, errors=errors)
    else:
        document = _loads(member.name, data)
        del data
        kind = detect(document)
        formats.append(kind)
        if kind == "nvd11":
            yield from nvd11.records(document, errors=errors)
        elif kind == "nvd20":
            yield from nvd20.records(document, errors=errors)
        elif kind == "cve5":
            yield from cve5.records(document, errors=errors)
        elif kind == "jvn-json":
            yield from jvn.records(jvn.parse_json(document), errors=errors)
        else:
            raise FeedError(_("%(name)s の形式がわかりません"
                              "（NVD 1.1/2.0、CVE JSON 5、JVN iPedia のいずれでもありません）。")
                            % {"name": member.name})
    if checking is not None:
        checking.result()


def _jsonl(member: Member, errors: list[str]) -> Iterator[SourceRecord]:
    try:
        with member.stream() as stream:
            for number, line in enumerate(stream, 1):
                if not line.strip():
                    continue
                try:
                    document = orjson.loads(line)
                except orjson.JSONDecodeError as error:
                    raise FeedError(_("%(name)s の %(line)s 行目が JSON として読めません（%(error)s）。"
                                      "このファイルからは何も取り込んでいません。") % {
                        "name": member.name, "line": number, "error": str(error)[:120]}) from None
                if cve5.is_record(document):
                    try:
                        yield cve5.record_of(document)
                    except (KeyError, TypeError, AttributeError, ValueError) as error:
                        errors.append(f"{number}: {error}"[:300])
                elif nvd20.is_wrapped_cve(document) or nvd20.is_cve(document):
                    yield from nvd20.records(document, errors=errors)
                else:
                    errors.append(_("%(line)s 行目: CVE のレコードではありません") % {"line": number})
    except (EOFError, OSError, zlib.error, lzma.LZMAError) as error:
        raise damaged(member.name, error) from None
