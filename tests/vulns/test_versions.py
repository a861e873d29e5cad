"""The tolerant version comparator on the version strings vendors really write (NVD, JVN, CNA data)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anzen.vulns import versions

# Real strings from NVD criteria and vendor advisories, with their neighbours.
REAL = ["6.0.4", "6.0.16", "5.16.2", "5.16.7", "rev.11.01.31", "rev.11.01.30", "9.1(7.16)", "9.1(7.2)", "13.1-49.13",
        "13.1-49.15", "08-10-04", "08-10-10", "update_202", "update_91", "2.0.0-beta", "2.0.0-rc1", "2.0.0",
        "7.4p1", "1.0.2k", "R3.3", "22.7r2.3", "10.0.19045.2965", "19c", "6.5.4.4-44v-21-1551", "0:1.2", ""]


@pytest.mark.parametrize(("older", "newer"), [
    ("6.0.4", "6.0.16"),  # numbers, not text: 4 < 16
    ("5.16.2", "5.16.7"),
    ("rev.11.01.30", "rev.11.01.31"),
    ("9.1(7.2)", "9.1(7.16)"),  # Cisco ASA interim releases
    ("9.1(7.16)", "9.1(8)"),
    ("13.1-49.13", "13.1-49.15"),  # Citrix ADC builds
    ("13.1-49.15", "13.1-50.1"),
    ("08-10-04", "08-10-10"),
    ("update_91", "update_202"),  # Java updates: 91 < 202 although "9" > "2"
    ("2.0.0-alpha", "2.0.0-beta"),
    ("2.0.0-beta", "2.0.0-rc1"),
    ("2.0.0-rc1", "2.0.0"),  # a pre-release comes before its release
    ("2.0.0", "2.0.0.1"),
    ("7.4", "7.4p1"),  # OpenSSH portable: a suffix word comes after
    ("7.4p1", "7.5"),
    ("1.0.2", "1.0.2k"),  # OpenSSL letter releases
    ("R3", "R3.3"),
])
def test_order_of_real_versions(older: str, newer: str) -> None:
    assert versions.compare(older, newer) == -1
    assert versions.compare(newer, older) == 1


@pytest.mark.parametrize(("left", "right"), [
    ("rev.11.01.31", "11.1.31"),  # YAMAHA's "rev." prefix and leading zeros
    ("08-10-04", "8.10.4"),
    ("6.0", "6.0.0"),
    ("2.0-beta", "2.0.0-beta"),
    ("V6.0.4", "6.0.4"),
    ("０:1.2", "1.2"),  # full-width digits (NFKC) and rpm epoch 0
])
def test_equal_spellings(left: str, right: str) -> None:
    assert versions.compare(left, right) == 0


def test_ranges_as_nvd_writes_them() -> None:
    # CVE-2022-42475: FortiOS 6.0.0 ≤ v ≤ 6.0.15 is affected (versionEndIncluding 6.0.15, NVD 2.0 record)
    assert versions.in_range("6.0.4", start_including="6.0.0", end_including="6.0.15")
    assert not versions.in_range("6.0.16", start_including="6.0.0", end_including="6.0.15")
    # CVE-2023-46604: ActiveMQ 5.16.0 ≤ v < 5.16.7
    assert versions.in_range("5.16.2", start_including="5.16.0", end_excluding="5.16.7")
    assert not versions.in_range("5.16.7", start_including="5.16.0", end_excluding="5.16.7")
    assert not versions.in_range("5.16.0", start_excluding="5.16.0")
    # CVE-2018-0665: RTX810 firmware ≤ rev.11.01.31
    assert versions.in_range("rev.11.01.31", end_including="rev.11.01.31")
    assert not versions.in_range("rev.11.01.34", end_including="rev.11.01.31")


def test_unknown_versions() -> None:
    assert not versions.is_known("")
    assert not versions.is_known("*")
    assert not versions.is_known("-")
    assert versions.is_known("6.0.4")


def test_describe_range_in_japanese() -> None:
    text = versions.describe_range(start_including="6.0.0", end_excluding="6.0.16")
    assert text == "6.0.0 以上 6.0.16 未満"
    assert versions.describe_range() == "全バージョン"


# --- properties: key() is a total preorder on every string --------------------------------------------

_PIECES = st.one_of(st.sampled_from(REAL), st.from_regex(r"[0-9]{1,3}", fullmatch=True),
                    st.sampled_from(["beta", "rc", "p", "update", "rev.", "r", "k", "_", "-", ".", "(", ")"]))
VERSIONS = st.one_of(st.sampled_from(REAL), st.lists(_PIECES, min_size=1, max_size=6).map("".join),
                     st.text(max_size=12))


@settings(max_examples=400, deadline=None)
@given(VERSIONS, VERSIONS)
def test_antisymmetric_and_consistent(left: str, right: str) -> None:
    assert versions.compare(left, right) == -versions.compare(right, left)
    assert versions.compare(left, left) == 0


@settings(max_examples=400, deadline=None)
@given(VERSIONS, VERSIONS, VERSIONS)
def test_transitive(a: str, b: str, c: str) -> None:
    ordered = sorted([a, b, c], key=versions.key)
    assert versions.compare(ordered[0], ordered[1]) <= 0
    assert versions.compare(ordered[1], ordered[2]) <= 0
    assert versions.compare(ordered[0], ordered[2]) <= 0


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=999), min_size=1, max_size=5),
       st.lists(st.integers(min_value=0, max_value=999), min_size=1, max_size=5))
def test_dotted_numbers_compare_like_tuples(left: list[int], right: list[int]) -> None:
    def trimmed(values: list[int]) -> list[int]:
        values = list(values)
        while len(values) > 1 and values[-1] == 0:
            values.pop()
        return values

    expected = (trimmed(left) > trimmed(right)) - (trimmed(left) < trimmed(right))
    assert versions.compare(".".join(map(str, left)), ".".join(map(str, right))) == expected


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=99), min_size=1, max_size=4),
       st.sampled_from(["alpha", "beta", "rc1", "-beta", "-rc.2", "-SNAPSHOT"]))
def test_pre_release_precedes_release(numbers: list[int], suffix: str) -> None:
    release = ".".join(map(str, numbers))
    assert versions.compare(release + suffix, release) == -1


@settings(max_examples=300, deadline=None)
@given(VERSIONS, st.sampled_from(REAL[:10]), st.sampled_from(REAL[:10]))
def test_in_range_agrees_with_compare(version: str, low: str, high: str) -> None:
    inside = versions.in_range(version, start_including=low, end_excluding=high)
    assert inside == (versions.compare(version, low) >= 0 and versions.compare(version, high) < 0)
