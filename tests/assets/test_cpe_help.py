"""CPE help: the offline vocabulary, suggestions from free text, products without a CPE, nmap's names."""

from __future__ import annotations

import pytest

from anzen.assets import cpe_help
from anzen.assets.normalise import parse_cpe23


def first(text: str, **kwargs: object) -> cpe_help.Suggestion:
    found = cpe_help.suggest(text, **kwargs)  # type: ignore[arg-type]
    assert found, text
    return found[0]


def test_vocabulary_is_shipped_and_valid() -> None:
    entries = cpe_help.vocabulary()
    assert len(entries) > 300
    sources = {entry.source for entry in entries}
    assert {"hospital-cpe-families", "nvd-fixtures", "nmap-samples", "curated"} <= sources
    for entry in entries:
        if entry.no_cpe:
            assert entry.template == "" and entry.checked == "n/a"
        else:
            parse_cpe23(entry.template.replace("{v}", "*"))  # every template is a valid CPE 2.3 name


@pytest.mark.parametrize(("text", "expected"), [
    ("Windows 10 22H2", "cpe:2.3:o:microsoft:windows_10_22h2:*:*:*:*:*:*:x64:*"),
    ("windows 11 23h2 10.0.22631.2861", "cpe:2.3:o:microsoft:windows_11_23h2:10.0.22631.2861:*:*:*:*:*:x64:*"),
    ("Apache Tomcat 9.0.80", "cpe:2.3:a:apache:tomcat:9.0.80:*:*:*:*:*:*:*"),
    ("FortiOS 6.4.9", "cpe:2.3:o:fortinet:fortios:6.4.9:*:*:*:*:*:*:*"),
    ("Acrobat Reader DC 24.002.20933", "cpe:2.3:a:adobe:acrobat_reader_dc:24.002.20933:*:*:*:continuous:*:*:*"),
    ("Cisco IOS 15.2(4)m11", "cpe:2.3:o:cisco:ios:15.2\\(4\\)m11:*:*:*:*:*:*:*"),
    ("ＳＫＹＳＥＡ", "cpe:2.3:a:skygroup:skysea_client_view:*:*:*:*:*:*:*:*"),
    ("Windows10", "cpe:2.3:o:microsoft:windows_10:*:*:*:*:*:*:*:*"),
])
def test_suggestions(text: str, expected: str) -> None:
    best = first(text)
    assert best.cpe23 == expected
    parse_cpe23(best.cpe23)


def test_part_filter_and_os_helper() -> None:
    assert all(s.part == "o" or s.no_cpe for s in cpe_help.suggest("Microsoft Windows Server 2019", parts=("o",)))
    assert cpe_help.suggest_os("Windows 10", "22H2")[0].product == "windows_10_22h2"


def test_medical_device_without_cpe_goes_the_manual_path() -> None:
    best = first("日本光電 ベッドサイドモニタ")
    assert best.no_cpe and best.cpe23 == "" and best.vendor == "nihon_kohden"
    assert cpe_help.known_without_cpe("テルモ 輸液ポンプ") is not None
    assert cpe_help.known_without_cpe("Apache Tomcat") is None


def test_nothing_for_noise_or_numbers_only() -> None:
    assert cpe_help.suggest("") == []
    assert cpe_help.suggest("10") == []
    assert cpe_help.suggest("zzqx unknownproduct") == []


def test_nmap_names_are_mapped_to_the_dictionary() -> None:
    assert cpe_help.canonical("cpe:2.3:a:igor_sysoev:nginx:1.2.3:*:*:*:*:*:*:*") == \
        "cpe:2.3:a:f5:nginx:1.2.3:*:*:*:*:*:*:*"
    assert cpe_help.canonical("cpe:2.3:a:mysql:mysql:5.7.16:*:*:*:*:*:*:*") == \
        "cpe:2.3:a:oracle:mysql:5.7.16:*:*:*:*:*:*:*"
    assert cpe_help.canonical("cpe:2.3:a:apache:tomcat:9.0:*:*:*:*:*:*:*") == \
        "cpe:2.3:a:apache:tomcat:9.0:*:*:*:*:*:*:*"
    assert cpe_help.canonical("garbage") == "garbage"
    assert first("nginx").vendor == "f5"  # the alias is suggested as the dictionary's name
    assert cpe_help.title_of("cpe:2.3:o:microsoft:windows_7:*:*:*:*:*:*:*:*") == "Microsoft Windows 7"
