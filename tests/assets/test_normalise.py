"""MAC/IP/date normalisation and CPE 2.3 parsing, with property-based round trips and malformed input."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anzen.assets import normalise
from anzen.assets.normalise import Cpe

PROPERTY = settings(deadline=None, max_examples=100)  # no timing flakes on a loaded CI machine
octets = st.lists(st.integers(min_value=0, max_value=255), min_size=6, max_size=6)


@PROPERTY
@given(octets, st.sampled_from(["{}:", "{}-", "upper:", "dotted", "bare"]))
def test_every_mac_notation_normalises_to_the_same_colon_form(values: list[int], style: str) -> None:
    canonical = ":".join(f"{value:02x}" for value in values)
    hexes = [f"{value:02x}" for value in values]
    text = {
        "{}:": ":".join(hexes), "{}-": "-".join(hexes), "upper:": ":".join(hexes).upper(),
        "dotted": ".".join("".join(hexes[i:i + 2]) for i in range(0, 6, 2)).upper(), "bare": "".join(hexes),
    }[style]
    assert normalise.normalise_mac(text) == canonical
    assert normalise.normalise_mac(canonical) == canonical  # idempotent
    assert normalise.oui_of(text) == "".join(hexes[:3]).upper()


def test_mac_single_digit_octets_and_full_width_digits() -> None:
    assert normalise.normalise_mac("0:1:2:a:b:c") == "00:01:02:0a:0b:0c"
    assert normalise.normalise_mac("ａ０－２９－４２－２３－１９－７３") == "a0:29:42:23:19:73"


@pytest.mark.parametrize("bad", ["", "00:11:22:33:44", "00:11:22:33:44:55:66", "00:11-22:33:44:55", "gg:11:22:33:44:55",
                                 "0011.2233.445", "001122334455x", "00112233445", "::::::", "00 11 22 33 44 55"])
def test_malformed_macs_are_refused_in_japanese(bad: str) -> None:
    with pytest.raises(ValueError, match="MACアドレス"):
        normalise.normalise_mac(bad)


@PROPERTY
@given(st.text(max_size=30))
def test_normalise_mac_never_fails_with_anything_but_value_error(text: str) -> None:
    try:
        result = normalise.normalise_mac(text)
    except ValueError:
        return
    assert len(result) == 17 and result == normalise.normalise_mac(result)


def test_locally_administered_flag() -> None:
    assert normalise.is_locally_administered("02:00:00:00:00:01")
    assert not normalise.is_locally_administered("00:d4:9e:3c:3f:d9")


def test_ip_normalisation() -> None:
    assert normalise.normalise_ip(" 172.030.101.004 ") == "172.30.101.4"
    assert normalise.normalise_ip("FE80:0:0:0:0:0:0:1") == "fe80::1"
    for bad in ("172.30.101", "300.1.1.1", "host-a", ""):
        with pytest.raises(ValueError, match="IPアドレス"):
            normalise.normalise_ip(bad)


@pytest.mark.parametrize(("text", "expected"), [
    ("2024/4/1", dt.date(2024, 4, 1)), ("2024-04-01", dt.date(2024, 4, 1)), ("2024年4月1日", dt.date(2024, 4, 1)),
    ("20240401", dt.date(2024, 4, 1)), ("令和6年4月1日", dt.date(2024, 4, 1)), ("R6.4.1", dt.date(2024, 4, 1)),
    ("令和元年5月1日", dt.date(2019, 5, 1)), ("H31/4/30", dt.date(2019, 4, 30)),
    ("2024/04/01 00:00:00", dt.date(2024, 4, 1)),
])
def test_dates_as_typed_in_japanese_lists(text: str, expected: dt.date) -> None:
    assert normalise.parse_date(text) == expected


@pytest.mark.parametrize("bad", ["2024/2/30", "昨日", "2024/13/1", "R6", ""])
def test_bad_dates_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="日付"):
        normalise.parse_date(bad)


# --- CPE 2.3 ---------------------------------------------------------------------------------------

def test_parse_cpe23_components() -> None:
    cpe = normalise.parse_cpe23("cpe:2.3:a:oracle:jre:1.8.0:update_202:*:*:*:*:*:*")
    assert (cpe.part, cpe.vendor, cpe.product, cpe.version, cpe.update) == ("a", "oracle", "jre", "1.8.0", "update_202")
    assert cpe.other == "*"
    escaped = normalise.parse_cpe23(r"cpe:2.3:a:foo\\bar:big\$money_2010:*:*:*:*:special:ipod_touch:80gb:*")
    assert escaped.vendor == r"foo\\bar" and escaped.value("vendor") == "foo\\bar"
    assert escaped.value("product") == "big$money_2010"
    assert normalise.parse_cpe23("cpe:2.3:a:microsoft:.net_framework:4.8:*:*:*:*:*:*:*").product == ".net_framework"
    assert normalise.parse_cpe23("cpe:2.3:a:x:y:1.*:*:*:en-us:*:*:*:*").language == "en-us"


@pytest.mark.parametrize("bad", [
    "cpe:/a:apache:http_server:2.4.7",  # a 2.2 URI is not a formatted string
    "cpe:2.3:a:microsoft:edge:1:*:*:*:*:*:*",  # 10 components
    "cpe:2.3:a:microsoft:edge:1:*:*:*:*:*:*:*:*",  # 12 components
    "cpe:2.3:x:microsoft:edge:1:*:*:*:*:*:*:*",  # part
    "cpe:2.3:a:micro soft:edge:1:*:*:*:*:*:*:*",  # space
    "cpe:2.3:a:microsoft:edge!:1:*:*:*:*:*:*:*",  # unescaped punctuation
    "cpe:2.3:a:microsoft:ed*ge:1:*:*:*:*:*:*:*",  # wildcard in the middle
    "cpe:2.3:a:microsoft::1:*:*:*:*:*:*:*",  # empty component
    "cpe:2.3:a:microsoft:edge:1:*:*:japanese_lang:*:*:*:*",  # language tag
    "cpe:2.3:a:microsoft:edge:1:*:*:*:*:*:*:\\",  # trailing escape
    "cpe:2.3:a:富士通:edge:1:*:*:*:*:*:*:*",  # non-ASCII
])
def test_malformed_cpe23_is_refused_in_japanese(bad: str) -> None:
    with pytest.raises(ValueError, match="CPE"):
        normalise.parse_cpe23(bad)


plain = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-.", min_size=1, max_size=12).filter(
    lambda value: value != "-")
punctuation = st.sampled_from(list("!\"#$%&'()+,/:;<=>@[]^`{|}~\\*?"))
component = st.one_of(
    st.just("*"), st.just("-"), plain,
    st.lists(st.one_of(plain, punctuation.map(lambda ch: "\\" + ch)), min_size=1, max_size=4).map("".join),
)


@PROPERTY
@given(st.sampled_from(["a", "o", "h"]), st.lists(component, min_size=10, max_size=10))
def test_cpe23_formatted_string_round_trip(part: str, rest: list[str]) -> None:
    rest[5] = "*"  # language: tags are tested separately
    text = "cpe:2.3:" + ":".join([part, *rest])
    assert normalise.parse_cpe23(text).to_fs() == text


@PROPERTY
@given(st.text(min_size=1, max_size=20))
def test_escape_then_parse_gives_back_the_value(value: str) -> None:
    escaped = normalise.escape(value)
    cpe = Cpe("a", "vendor", escaped)
    parsed = normalise.parse_cpe23(cpe.to_fs())
    assert parsed.product == escaped


@PROPERTY
@given(st.text(max_size=60))
def test_parse_cpe23_fails_only_with_value_error(text: str) -> None:
    for candidate in (text, "cpe:2.3:" + text):
        with contextlib.suppress(ValueError):
            normalise.parse_cpe23(candidate)


def test_cpe22_to_23() -> None:
    assert normalise.cpe22_to_23("cpe:/a:apache:http_server:2.4.7") == \
        "cpe:2.3:a:apache:http_server:2.4.7:*:*:*:*:*:*:*"
    assert normalise.cpe22_to_23("cpe:/o:linux:linux_kernel") == "cpe:2.3:o:linux:linux_kernel:*:*:*:*:*:*:*:*"
    assert normalise.cpe22_to_23("cpe:/o:microsoft:windows_7::sp1:~~~~x64~") == \
        "cpe:2.3:o:microsoft:windows_7:*:sp1:*:*:*:*:x64:*"
    assert normalise.cpe22_to_23("cpe:/a:Vendor:Prod%21uct:1.0:-") == r"cpe:2.3:a:vendor:prod\!uct:1.0:-:*:*:*:*:*:*"
    assert normalise.cpe22_to_23("cpe:/a:x:y:1.%02") == "cpe:2.3:a:x:y:1.*:*:*:*:*:*:*:*"
    assert normalise.to_cpe23("CPE:2.3:A:Microsoft:Edge:1:*:*:*:*:*:*:*") == "cpe:2.3:a:microsoft:edge:1:*:*:*:*:*:*:*"
    for bad in ("cpe:/z:x:y", "cpe:/a:x:y:1:2:3:4:5", "cpe:/a:x:y%2", "cpe:/a:x:y:1:u:~a~b", "http://x"):
        with pytest.raises(ValueError, match="CPE"):
            normalise.cpe22_to_23(bad)


@PROPERTY
@given(st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._-%~!", max_size=8), max_size=8))
def test_cpe22_conversion_is_valid_or_refused(parts: list[str]) -> None:
    uri = "cpe:/a:" + ":".join(parts)
    try:
        result = normalise.cpe22_to_23(uri)
    except ValueError:
        return
    assert normalise.parse_cpe23(result).to_fs() == result
