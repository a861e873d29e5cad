"""CPE 2.3 name matching (NISTIR 7696) and the alias table."""

from __future__ import annotations

import pytest

from anzen.vulns import cpe
from anzen.vulns.cpe import Relation

R = Relation


@pytest.mark.parametrize(("source", "target", "relation"), [
    # NISTIR 7696 Table 6-2
    ("*", "*", R.EQUAL), ("*", "-", R.SUPERSET), ("*", "6.0", R.SUPERSET),
    ("-", "*", R.SUBSET), ("-", "-", R.EQUAL), ("-", "6.0", R.DISJOINT),
    ("6.0", "*", R.SUBSET), ("6.0", "-", R.DISJOINT), ("6.0", "6.0", R.EQUAL), ("6.0", "6.1", R.DISJOINT),
    ("6.0", "6.*", R.UNDEFINED),  # wildcards in a target are undefined
    # source wildcards (§6.1.3): * any run, ? one character each at either end
    ("6.*", "6.0.4", R.SUPERSET), ("*.4", "6.0.4", R.SUPERSET), ("6.?", "6.0", R.SUPERSET),
    ("6.?", "6.01", R.DISJOINT), ("??.4", "6.4", R.SUPERSET), ("6.0.4", "6.0.5", R.DISJOINT),
    # escapes: a quoted * is a character, not a wildcard
    ("15.4\\(3\\)m", "15.4\\(3\\)m", R.EQUAL), ("a\\*b", "axb", R.DISJOINT),
    ("FortiOS", "fortios", R.EQUAL),
])
def test_compare_component(source: str, target: str, relation: Relation) -> None:
    assert cpe.compare_component(source.lower(), target.lower()) is relation


def test_names_match_as_supersets() -> None:
    criteria = "cpe:2.3:o:fortinet:fortios:6.0.4:*:*:*:*:*:*:*"
    assert cpe.matches(criteria, "cpe:2.3:o:fortinet:fortios:6.0.4:-:*:*:*:*:*:*")
    assert not cpe.matches(criteria, "cpe:2.3:o:fortinet:fortios:6.0.5:*:*:*:*:*:*:*")
    assert not cpe.matches(criteria, "cpe:2.3:o:fortinet:fortios:*:*:*:*:*:*:*:*")  # unknown version: SUBSET
    assert cpe.may_match(criteria, "cpe:2.3:o:fortinet:fortios:*:*:*:*:*:*:*:*")
    assert not cpe.may_match("cpe:2.3:h:yamaha:rtx810:-:*:*:*:*:*:*:*", "cpe:2.3:h:yamaha:rtx1210:-:*:*:*:*:*:*:*")


def test_split_keeps_escaped_colons() -> None:
    parts = cpe.split("cpe:2.3:a:vendor:prod\\:uct:1.0:*:*:*:*:*:*:*")
    assert parts[2] == "prod\\:uct" and len(parts) == 11
    with pytest.raises(ValueError, match=r"CPE 2\.3"):
        cpe.split("cpe:/a:apache:activemq:5.16.2")


def test_alias_table_palo_alto() -> None:
    aliases = cpe.aliases()
    assert aliases.canonical("palo_alto_networks", "pan-os") == aliases.canonical("paloaltonetworks", "pan-os")
    variants = aliases.variants("palo_alto_networks", "pan-os")
    assert ("paloaltonetworks", "pan-os") in variants and ("palo_alto_networks", "pan-os") in variants
    assert aliases.variants("nobody", "nothing") == {("nobody", "nothing")}


def test_text_keys_for_free_text_names() -> None:
    assert cpe.text_key("GE HealthCare") == "ge_healthcare"
    assert cpe.text_key("Ｖｅｎｕｅ Go") == "venue_go"
    assert cpe.squash("palo_alto_networks") == cpe.squash("paloaltonetworks")
