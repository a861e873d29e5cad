"""Reading nmap XML output (`nmap -oX`) safely: pure, no ORM, no Django settings.

- defusedxml refuses entity declarations (billion laughs, quadratic blow-up) and external entities or DTDs;
  the plain `<!DOCTYPE nmaprun>` nmap writes is accepted.
- The file is read as a stream (`iterparse`) and every finished <host> is dropped from the tree, so a
  5,000-host scan needs memory for the extracted facts only; a byte limit stops oversized input early.
- Anything malformed (truncated file, not XML, not nmap, too large, too many hosts) raises `NmapError`
  with a Japanese message; callers write nothing before parsing succeeded.

What is kept per host that answered (state "up"): addresses (IPv4, IPv6, MAC with nmap's vendor), host
names, OS guesses (osmatch/osclass with CPEs), open ports with the service's name, product, version and
CPEs (nmap prints CPE 2.2 URIs; they are converted to CPE 2.3 formatted strings), vulnerability ids that
the `vulners` script listed, and the NetBIOS name/OS from `smb-os-discovery` when there is one.
Hosts reported down are only counted (and their addresses kept: they tell which addresses were scanned).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import iterparse
from django.utils.translation import gettext as _

from anzen.assets.normalise import cpe22_to_23, to_cpe23

DEFAULT_MAX_BYTES = 200 * 1024 * 1024
MAX_HOSTS = 100_000  # hosts that answered; a /16 has 65,536 addresses
MAX_PORTS_PER_HOST = 2 * 65_536
MAX_TEXT = 300
MAX_VULNS_PER_SERVICE = 200


class NmapError(ValueError):
    """The file cannot be read as an nmap XML scan; the message says why, in Japanese."""


@dataclass(frozen=True)
class Service:
    port: int
    protocol: str
    name: str = ""
    product: str = ""
    version: str = ""
    extrainfo: str = ""
    tunnel: str = ""
    device_type: str = ""
    cpes: tuple[str, ...] = ()  # CPE 2.3 formatted strings
    vulns: tuple[tuple[str, str], ...] = ()  # (id, cvss) from the vulners script

    @property
    def label(self) -> str:
        """"OpenSSH 7.4" or the service name when nmap did not recognise the product."""
        text = " ".join(part for part in (self.product, self.version) if part)
        return text or self.name

    def as_dict(self) -> dict[str, Any]:
        return {"port": self.port, "protocol": self.protocol, "name": self.name, "product": self.product,
                "version": self.version, "extrainfo": self.extrainfo, "tunnel": self.tunnel,
                "device_type": self.device_type, "cpe": list(self.cpes), "vulns": [list(v) for v in self.vulns]}


@dataclass(frozen=True)
class OsClass:
    type: str = ""
    vendor: str = ""
    family: str = ""
    generation: str = ""
    accuracy: int = 0
    cpes: tuple[str, ...] = ()


@dataclass(frozen=True)
class OsMatch:
    name: str
    accuracy: int
    classes: tuple[OsClass, ...] = ()


@dataclass(frozen=True)
class Host:
    ipv4: str = ""
    ipv6: str = ""
    mac: str = ""  # as nmap wrote it (upper case, colons)
    mac_vendor: str = ""
    hostnames: tuple[str, ...] = ()
    os_matches: tuple[OsMatch, ...] = ()
    services: tuple[Service, ...] = ()
    netbios_name: str = ""
    smb_os: str = ""

    @property
    def ip(self) -> str:
        return self.ipv4 or self.ipv6

    @property
    def hostname(self) -> str:
        return self.hostnames[0] if self.hostnames else self.netbios_name

    def best_matches(self) -> tuple[OsMatch, ...]:
        """The OS guesses with the highest accuracy (nmap often lists several at 100%)."""
        if not self.os_matches:
            return ()
        top = max(match.accuracy for match in self.os_matches)
        return tuple(match for match in self.os_matches if match.accuracy == top)

    @property
    def os_guess(self) -> str:
        best = self.best_matches()
        if best:
            return best[0].name[:MAX_TEXT]
        return self.smb_os[:MAX_TEXT]

    @property
    def os_families(self) -> tuple[str, ...]:
        """Distinct OS families of the best guesses (e.g. ("Windows",)), service hints as a fallback."""
        families: list[str] = []
        for match in self.best_matches():
            for os_class in match.classes:
                if os_class.family and os_class.family not in families:
                    families.append(os_class.family)
        if not families and self.smb_os:
            families.append(self.smb_os)
        return tuple(families)

    @property
    def device_types(self) -> tuple[str, ...]:
        types: list[str] = []
        for match in self.best_matches():
            for os_class in match.classes:
                if os_class.type and os_class.type not in types:
                    types.append(os_class.type)
        for service in self.services:
            if service.device_type and service.device_type not in types:
                types.append(service.device_type)
        return tuple(types)

    @property
    def os_cpes(self) -> tuple[str, ...]:
        cpes: list[str] = []
        for match in self.best_matches():
            for os_class in match.classes:
                cpes.extend(cpe for cpe in os_class.cpes if cpe not in cpes)
        return tuple(cpes)


@dataclass
class ScanRun:
    scanner: str = ""
    version: str = ""
    args: str = ""
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    elapsed: str = ""
    summary: str = ""
    exit_status: str = ""
    scan_types: tuple[str, ...] = ()
    hosts: list[Host] = field(default_factory=list)  # hosts that answered
    down_addresses: list[str] = field(default_factory=list)  # hosts listed as down (with -v)
    declared_up: int | None = None  # <runstats><hosts up=…> as nmap counted them
    declared_down: int | None = None

    @property
    def scanner_label(self) -> str:
        return " ".join(part for part in (self.scanner, self.version) if part)

    @property
    def scanned_addresses(self) -> list[str]:
        """Every address nmap reported on, up or down."""
        return [host.ip for host in self.hosts if host.ip] + self.down_addresses


# --- reading ---------------------------------------------------------------------------------------


class _LimitedReader:
    """A binary stream that refuses to yield more than `limit` bytes."""

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        self.stream, self.limit, self.count = stream, limit, 0

    def read(self, size: int = -1) -> bytes:
        chunk = self.stream.read(size if size and size > 0 else 64 * 1024)
        self.count += len(chunk)
        if self.count > self.limit:
            megabytes = max(1, self.limit // (1024 * 1024))
            raise NmapError(_("ファイルが大きすぎます（上限 %(mb)s MB）。") % {"mb": megabytes})
        return chunk


def _text(value: str | None, limit: int = MAX_TEXT) -> str:
    return " ".join((value or "").split())[:limit]


def _int(value: str | None, default: int = 0) -> int:
    try:
        return int(value or default)
    except ValueError:
        return default


def _epoch(value: str | None) -> dt.datetime | None:
    try:
        seconds = int(value or "")
    except ValueError:
        return None
    if seconds <= 0:
        return None
    try:
        return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
    except (OverflowError, OSError, ValueError):
        return None


def convert_cpe(value: str) -> str:
    """A CPE as nmap prints it (2.2 URI, sometimes 2.3) → CPE 2.3 formatted string; "" if unusable."""
    text = (value or "").strip()
    try:
        if text.lower().startswith("cpe:/"):
            return cpe22_to_23(text)
        if text.lower().startswith("cpe:2.3:"):
            return to_cpe23(text)
    except ValueError:
        return ""
    return ""


def _cpes(element: Element) -> tuple[str, ...]:
    found: list[str] = []
    for cpe in element.iterfind("cpe"):
        converted = convert_cpe(cpe.text or "")
        if converted and converted not in found:
            found.append(converted)
    return tuple(found)


def _vulners(script: Element) -> tuple[tuple[str, str], ...]:
    found: list[tuple[str, str]] = []
    for table in script.iterfind("table"):
        for entry in table.iterfind("table"):
            values = {elem.get("key"): (elem.text or "").strip() for elem in entry.iterfind("elem")}
            if values.get("id"):
                found.append((values["id"][:100], values.get("cvss", "")[:10]))
            if len(found) >= MAX_VULNS_PER_SERVICE:
                return tuple(found)
    return tuple(found)


def _service(port: Element) -> Service | None:
    state = port.find("state")
    if state is None or state.get("state") != "open":
        return None
    service = port.find("service")
    vulns: tuple[tuple[str, str], ...] = ()
    for script in port.iterfind("script"):
        if script.get("id") == "vulners":
            vulns = _vulners(script)
    attrs = service.attrib if service is not None else {}
    return Service(
        port=_int(port.get("portid")), protocol=_text(port.get("protocol"), 10), name=_text(attrs.get("name"), 100),
        product=_text(attrs.get("product"), 200), version=_text(attrs.get("version"), 100),
        extrainfo=_text(attrs.get("extrainfo"), 200), tunnel=_text(attrs.get("tunnel"), 20),
        device_type=_text(attrs.get("devicetype"), 100),
        cpes=_cpes(service) if service is not None else (), vulns=vulns,
    )


def _os_matches(host: Element) -> tuple[OsMatch, ...]:
    matches = []
    for match in host.iterfind("os/osmatch"):
        classes = tuple(
            OsClass(type=_text(c.get("type"), 100), vendor=_text(c.get("vendor"), 100),
                    family=_text(c.get("osfamily"), 100), generation=_text(c.get("osgen"), 50),
                    accuracy=_int(c.get("accuracy")), cpes=_cpes(c))
            for c in match.iterfind("osclass")
        )
        matches.append(OsMatch(name=_text(match.get("name")), accuracy=_int(match.get("accuracy")), classes=classes))
    return tuple(matches)


def _smb(host: Element) -> tuple[str, str]:
    for script in host.iterfind("hostscript/script"):
        if script.get("id") == "smb-os-discovery":
            values = {elem.get("key"): (elem.text or "").strip() for elem in script.iterfind("elem")}
            return _text(values.get("server", "").removesuffix("\\x00"), 100), _text(values.get("os"))
    return "", ""


def _host(element: Element) -> Host:
    ipv4 = ipv6 = mac = mac_vendor = ""
    for address in element.iterfind("address"):
        kind, value = address.get("addrtype"), _text(address.get("addr"), 64)
        if kind == "ipv4" and not ipv4:
            ipv4 = value
        elif kind == "ipv6" and not ipv6:
            ipv6 = value
        elif kind == "mac" and not mac:
            mac, mac_vendor = value, _text(address.get("vendor"), 200)
    names: list[str] = []
    for hostname in sorted(element.iterfind("hostnames/hostname"), key=lambda h: h.get("type") != "user"):
        name = _text(hostname.get("name"), 255)
        if name and name not in names:
            names.append(name)
    ports = element.findall("ports/port")
    if len(ports) > MAX_PORTS_PER_HOST:
        raise NmapError(_("ポートの数が多すぎます（1台あたり上限 %(count)s）。") % {"count": MAX_PORTS_PER_HOST})
    services = tuple(s for s in (_service(port) for port in ports) if s is not None)
    netbios, smb_os = _smb(element)
    return Host(ipv4=ipv4, ipv6=ipv6, mac=mac, mac_vendor=mac_vendor, hostnames=tuple(names),
                os_matches=_os_matches(element), services=services, netbios_name=netbios, smb_os=smb_os)


def _address(element: Element) -> str:
    for address in element.iterfind("address"):
        if address.get("addrtype") in ("ipv4", "ipv6"):
            return _text(address.get("addr"), 64)
    return ""


def _events(source: IO[bytes]) -> Iterator[tuple[str, Element]]:
    try:
        yield from iterparse(source, events=("start", "end"), forbid_dtd=False, forbid_entities=True,
                             forbid_external=True)
    except EntitiesForbidden:
        raise NmapError(_("XML に実体宣言（ENTITY）が含まれているため読み込みません（実体展開による攻撃の"
                          "おそれ）。nmap の -oX で出力したファイルをそのまま指定してください。")) from None
    except (ExternalReferenceForbidden, DTDForbidden):
        raise NmapError(_("XML が外部のファイルや DTD を参照しているため読み込みません。nmap の -oX で出力した"
                          "ファイルをそのまま指定してください。")) from None
    except DefusedXmlException:
        raise NmapError(_("安全でない XML の構文が含まれているため読み込みません。")) from None
    except ParseError as error:
        line, column = getattr(error, "position", (0, 0))
        if "no element found" in str(error) or "unclosed token" in str(error):
            message = _("XML が途中で終わっています（%(line)s 行目）。スキャンが完了したファイルか、"
                        "転送の途中で切れていないか確認してください。")
        else:
            message = _("XML として読めません（%(line)s 行 %(column)s 桁）。nmap の -oX で出力したファイルを"
                        "指定してください。")
        raise NmapError(message % {"line": line, "column": column + 1}) from None


def parse(stream: IO[bytes], *, max_bytes: int = DEFAULT_MAX_BYTES, max_hosts: int = MAX_HOSTS) -> ScanRun:
    """Read an nmap XML scan from a binary stream; `NmapError` (Japanese) if it is not a complete one."""
    run = ScanRun()
    root: Element | None = None
    depth = 0
    finished = False
    for event, element in _events(_LimitedReader(stream, max_bytes)):  # type: ignore[arg-type]
        if event == "start":
            depth += 1
            if root is None:
                root = element
                if element.tag != "nmaprun":
                    raise NmapError(_("nmap の XML ではありません（最上位の要素が <nmaprun> ではありません）。"))
                run.scanner = _text(element.get("scanner"), 50)
                run.version = _text(element.get("version"), 40)
                run.args = _text(element.get("args"), 4000)
                run.started_at = _epoch(element.get("start"))
            continue
        depth -= 1
        if depth != 1:  # only direct children of <nmaprun> are handled (and then dropped)
            continue
        tag = element.tag
        if tag == "host":
            status = element.find("status")
            if status is not None and status.get("state") == "up":
                if len(run.hosts) >= max_hosts:
                    raise NmapError(_("ホストの数が多すぎます（上限 %(count)s 台）。スキャンを分けて取り込んで"
                                      "ください。") % {"count": max_hosts})
                run.hosts.append(_host(element))
            else:
                address = _address(element)
                if address:
                    run.down_addresses.append(address)
        elif tag == "scaninfo" and element.get("type"):
            run.scan_types = (*run.scan_types, _text(element.get("type"), 30))
        elif tag == "runstats":
            finished_element = element.find("finished")
            if finished_element is not None:
                finished = True
                run.finished_at = _epoch(finished_element.get("time"))
                run.elapsed = _text(finished_element.get("elapsed"), 20)
                run.summary = _text(finished_element.get("summary"), 500)
                run.exit_status = _text(finished_element.get("exit"), 20)
            hosts = element.find("hosts")
            if hosts is not None:
                run.declared_up, run.declared_down = _int(hosts.get("up")), _int(hosts.get("down"))
        if root is not None:
            root.clear()  # drop what was read (attributes of <nmaprun> were taken at its start)
    if root is None:
        raise NmapError(_("ファイルが空か、XML の要素がありません。"))
    if not finished:
        raise NmapError(_("スキャンの終了記録（<runstats>）がありません。nmap が途中で止まったか、ファイルが"
                          "途中で切れています。"))
    return run


def parse_bytes(data: bytes, **kwargs: Any) -> ScanRun:
    import io

    return parse(io.BytesIO(data), **kwargs)


_SPLIT_ARGS = re.compile(r"\s+")


def arguments(run: ScanRun) -> list[str]:
    """The command line nmap recorded, split into words."""
    return [word for word in _SPLIT_ARGS.split(run.args.strip()) if word]
