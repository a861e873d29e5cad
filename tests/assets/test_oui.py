"""Vendors from MAC prefixes: the IEEE registries shipped in anzen/assets/data/oui.csv.gz."""

from __future__ import annotations

import gzip
from pathlib import Path

from anzen.assets import oui


def test_table_is_the_full_registry() -> None:
    table = oui.table()
    assert len(table) > 45_000
    assert sum(1 for prefix in table if len(prefix) == 6) > 30_000


def test_vendor_in_any_notation() -> None:
    assert oui.vendor_for("00:d4:9e:3c:3f:d9") == "Intel Corporate"  # seed 003's Surface
    assert oui.vendor_for("A0-29-42-23-19-73") == "Intel Corporate"
    assert oui.vendor_for("6c2e.8519.af00") == "Sagemcom Broadband SAS"
    assert oui.vendor_for("0040D1123456") == "FUKUDA DENSHI CO., LTD."
    assert oui.vendor_for("60:f6:73:00:00:01") == "TERUMO CORPORATION"


def test_longest_prefix_wins() -> None:
    assert oui.vendor_for("70:B3:D5:F2:F0:01") == "TELEPLATFORMS"  # MA-S inside an IEEE RA block
    assert oui.vendor_for("74:1a:e0:10:00:00") == "Socionext Inc."  # MA-M


def test_unknown_local_and_malformed() -> None:
    assert oui.is_local("02:42:ac:1c:01:03")
    assert oui.vendor_for("02:42:ac:1c:01:03") == ""  # Docker's locally administered address
    assert oui.vendor_for("not a mac") == ""
    assert oui.vendor_for("") == ""
    assert oui.vendors_for(["00:1f:3c:87:66:50", "zz"]) == {"00:1f:3c:87:66:50": "Intel Corporate"}


def test_missing_or_damaged_file_falls_back(tmp_path: Path) -> None:
    assert oui.vendor_for("00:d4:9e:3c:3f:d9", path=tmp_path / "absent.csv.gz") == ""
    broken = tmp_path / "broken.csv.gz"
    broken.write_bytes(b"\x1f\x8b\x08\x00garbage")
    assert oui.vendor_for("00:d4:9e:3c:3f:d9", path=broken) == ""
    small = tmp_path / "small.csv.gz"
    with gzip.open(small, "wt", encoding="utf-8") as handle:
        handle.write("prefix,organization\n00D49E,Test Vendor\n")
    assert oui.vendor_for("00:d4:9e:00:00:01", path=small) == "Test Vendor"
