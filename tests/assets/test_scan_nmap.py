"""The nmap XML reader: the real samples, and every kind of malformed input refused with a clear message."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from anzen.assets import nmap

FIXTURES = Path(__file__).parent / "fixtures" / "scan"


def load(name: str) -> nmap.ScanRun:
    with (FIXTURES / name).open("rb") as handle:
        return nmap.parse(handle)


def test_fullscan_two_hosts_up_of_256_with_service_cpes_converted_to_23() -> None:
    run = load("libnmap-fullscan.xml")
    assert run.scanner_label == "nmap 6.40-2"
    assert run.args == "nmap -A -vv -oX fullscan.xml 192.168.1.0/24"
    assert run.started_at is not None and run.started_at.year == 2014
    assert [host.ip for host in run.hosts] == ["192.168.1.1", "192.168.1.4"]
    assert len(run.down_addresses) == 254 and run.declared_up == 2 and run.declared_down == 254
    assert len(run.scanned_addresses) == 256
    ssh = next(s for s in run.hosts[1].services if s.port == 22)
    assert ssh.label == "OpenSSH 5.9p1 Debian 5ubuntu1"
    assert ssh.cpes[0] == "cpe:2.3:a:openbsd:openssh:5.9p1:*:*:*:*:*:*:*"
    http = next(s for s in run.hosts[1].services if s.port == 80)
    assert http.cpes == ("cpe:2.3:a:apache:http_server:2.2.22:*:*:*:*:*:*:*",)
    assert run.finished_at is not None and run.exit_status == "success"


def test_full_sudo6_macs_with_vendor_and_several_os_cpes() -> None:
    run = load("libnmap-full_sudo6.xml")
    by_ip = {host.ip: host for host in run.hosts}
    assert by_ip["192.168.1.1"].mac == "6C:2E:85:19:AF:00" and by_ip["192.168.1.1"].mac_vendor == "Sagemcom"
    assert by_ip["192.168.1.2"].mac_vendor == "Apple"
    intel = by_ip["192.168.1.5"]
    assert intel.mac_vendor == "Intel Corporate"
    assert intel.os_families == ("Windows",)
    assert "cpe:2.3:o:microsoft:windows_7:*:sp1:*:*:*:*:*:*" in intel.os_cpes
    assert "cpe:2.3:o:microsoft:windows_server_2008:*:beta3:*:*:*:*:*:*" in intel.os_cpes
    assert len(intel.best_matches()) == 5  # nmap is unsure: five guesses at 100 %
    mac = by_ip["192.168.1.3"]
    assert mac.os_guess.startswith("Apple Mac OS X 10.8")
    assert set(mac.os_families) == {"Mac OS X", "iOS"}
    assert by_ip["192.168.1.1"].device_types[:1] == ("WAP",)


def test_dionaea_many_services_and_smb_name() -> None:
    run = load("libnmap-dionaea_scan.xml")
    assert len(run.hosts) == 1
    host = run.hosts[0]
    assert host.ip == "172.28.1.3" and host.mac == "02:42:AC:1C:01:03"
    assert host.hostnames[0] == "dionaea"
    assert host.netbios_name == "HOMEUSER-3AF6FE"
    assert len(host.services) == 16
    ports = {service.port for service in host.services}
    assert {21, 80, 445, 1433, 3306, 11211, 27017} <= ports
    mysql = next(s for s in host.services if s.port == 3306)
    assert mysql.cpes == ("cpe:2.3:a:mysql:mysql:5.7.16:*:*:*:*:*:*:*",)
    assert host.os_guess == "Linux 4.15 - 5.6"


def test_vulners_script_ids_and_cvss() -> None:
    run = load("defectdojo-nmap_script_vulners.xml")
    service = run.hosts[0].services[0]
    assert (service.port, service.name, service.product, service.version) == (5022, "ssh", "OpenSSH", "7.4")
    assert service.vulns == (("CVE-2018-15919", "5.0"), ("CVE-2017-15906", "5.0"))
    assert service.as_dict()["cpe"] == ["cpe:2.3:a:openbsd:openssh:7.4:*:*:*:*:*:*:*"]


def test_convert_cpe_of_nmap() -> None:
    assert nmap.convert_cpe("cpe:/o:microsoft:windows_7::-:professional") == \
        "cpe:2.3:o:microsoft:windows_7:*:-:professional:*:*:*:*:*"
    assert nmap.convert_cpe("cpe:/o:cisco:ios:15.4%283%29m") == "cpe:2.3:o:cisco:ios:15.4\\(3\\)m:*:*:*:*:*:*:*"
    assert nmap.convert_cpe("cpe:/a:vendor:product:1.0::~~~~x64~") == \
        "cpe:2.3:a:vendor:product:1.0:*:*:*:*:*:x64:*"
    assert nmap.convert_cpe("not a cpe") == ""
    assert nmap.convert_cpe("cpe:/x:bad:part") == ""


# --- malformed input -----------------------------------------------------------------------------------

MINIMAL = (b'<?xml version="1.0"?>\n<!DOCTYPE nmaprun>\n<nmaprun scanner="nmap" args="nmap -sn 10.0.0.0/30" '
           b'start="1700000000" version="7.94">\n<host><status state="up"/><address addr="10.0.0.1" addrtype="ipv4"/>'
           b'</host>\n<runstats><finished time="1700000010" elapsed="10"/><hosts up="1" down="3" total="4"/>'
           b'</runstats>\n</nmaprun>\n')


def refused(data: bytes, **kwargs: object) -> str:
    with pytest.raises(nmap.NmapError) as error:
        nmap.parse_bytes(data, **kwargs)
    return str(error.value)


def test_minimal_document_with_doctype_is_read() -> None:
    run = nmap.parse_bytes(MINIMAL)
    assert [h.ip for h in run.hosts] == ["10.0.0.1"] and run.declared_down == 3


@pytest.mark.parametrize("cut", [40, len(MINIMAL) // 2, len(MINIMAL) - 12])
def test_truncated_file(cut: int) -> None:
    message = refused(MINIMAL[:cut])
    assert "途中で終わっています" in message or "XML として読めません" in message


def test_real_scan_cut_in_the_middle() -> None:
    data = (FIXTURES / "libnmap-full_sudo6.xml").read_bytes()
    assert "途中で終わっています" in refused(data[: len(data) * 2 // 3])


def test_scan_without_runstats_is_incomplete() -> None:
    data = MINIMAL.replace(b'<runstats><finished time="1700000010" elapsed="10"/><hosts up="1" down="3" total="4"/>'
                           b'</runstats>', b"")
    assert "終了記録" in refused(data)


def test_billion_laughs_is_refused() -> None:
    bomb = b'<?xml version="1.0"?>\n<!DOCTYPE nmaprun [\n<!ENTITY lol "lol">\n'
    for level in range(1, 10):
        bomb += f'<!ENTITY lol{level} "{("&lol" + str(level - 1 if level > 1 else "") + ";") * 10}">\n'.encode()
    bomb += b']>\n<nmaprun scanner="nmap">&lol9;</nmaprun>\n'
    assert "実体宣言" in refused(bomb)


def test_external_entity_is_refused() -> None:
    data = (b'<?xml version="1.0"?>\n<!DOCTYPE nmaprun [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
            b'<nmaprun scanner="nmap"><host><hostnames><hostname name="&xxe;"/></hostnames></host></nmaprun>')
    message = refused(data)
    assert "実体宣言" in message or "外部" in message
    assert "root:" not in message


def test_external_dtd_reference_is_not_fetched() -> None:
    data = MINIMAL.replace(b"<!DOCTYPE nmaprun>", b'<!DOCTYPE nmaprun SYSTEM "http://example.invalid/nmap.dtd">')
    try:
        run = nmap.parse_bytes(data)
    except nmap.NmapError as error:
        assert "外部" in str(error)
    else:  # expat does not load external DTDs; the document itself is fine
        assert [h.ip for h in run.hosts] == ["10.0.0.1"]


@pytest.mark.parametrize("data", [b"", b"not xml at all", b"\x89PNG\r\n\x1a\n\x00\x00", "名前,MAC\n".encode("cp932")])
def test_not_xml(data: bytes) -> None:
    message = refused(data)
    assert "XML" in message or "空" in message


def test_xml_that_is_not_nmap() -> None:
    assert "<nmaprun>" in refused(b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>')


def test_huge_file_stops_at_the_limit() -> None:
    host = b'<host><status state="up"/><address addr="10.0.0.1" addrtype="ipv4"/></host>\n'
    data = MINIMAL.replace(b"</nmaprun>", host * 2000 + b"</nmaprun>")
    assert len(data) > 100_000
    assert "大きすぎます" in refused(data, max_bytes=50_000)


def test_too_many_hosts() -> None:
    host = b'<host><status state="up"/><address addr="10.0.0.1" addrtype="ipv4"/></host>\n'
    data = MINIMAL.replace(b"</nmaprun>", host * 20 + b"</nmaprun>")
    assert "ホストの数が多すぎます" in refused(data, max_hosts=10)


def test_wrong_encoding_declaration() -> None:
    data = MINIMAL.replace(b'args="nmap -sn 10.0.0.0/30"', 'args="nmap 病院"'.encode("cp932"))
    assert "XML として読めません" in refused(data)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_random_bytes_never_crash_the_reader(data: bytes) -> None:
    with contextlib.suppress(nmap.NmapError):
        nmap.parse(io.BytesIO(data))


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0, max_value=len(MINIMAL) - 1), st.binary(min_size=1, max_size=8))
def test_corrupted_documents_give_a_clean_error_or_a_scan(position: int, garbage: bytes) -> None:
    data = MINIMAL[:position] + garbage + MINIMAL[position + len(garbage):]
    try:
        run = nmap.parse(io.BytesIO(data))
    except nmap.NmapError as error:
        assert str(error)
    else:
        assert isinstance(run.hosts, list)
