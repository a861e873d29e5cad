"""Matching software identities against real CVE records: FortiOS, ActiveMQ, YAMAHA (AND with a platform),
PAN-OS and GE HealthCare (no configurations: CNA affected data), JVN-only advisories."""

from __future__ import annotations

import pytest

from anzen.vulns import engine
from anzen.vulns.engine import CONFIRMED, MANUAL, POSSIBLE, Identity

from .feeds_support import load

pytestmark = pytest.mark.django_db


@pytest.fixture
def store() -> None:
    load("nvd11/CVE-2018-13379.json", "nvd11/CVE-2017-0144.json", "nvd20/CVE-2022-42475.json",
         "nvd20/CVE-2023-46604.json", "nvd20/CVE-2018-0665.json", "nvd20/CVE-2024-1486.json", "cve5/CVE-2024-1486.json",
         "cve5/CVE-2024-3400.json", "cve5/CVE-2024-6387.json", "jvn/getVulnOverviewList_oka.json")


def hits(name: str) -> dict[str, engine.Hit]:
    return {hit.cve_id: hit for hit in engine.check(name)}


def test_fortios(store: None) -> None:
    found = hits("cpe:2.3:o:fortinet:fortios:6.0.4:*:*:*:*:*:*:*")
    assert set(found) == {"CVE-2018-13379", "CVE-2022-42475"}
    assert all(hit.confidence == CONFIRMED for hit in found.values())
    assert found["CVE-2022-42475"].reason == "fortios 6.0.4 は 6.0.0 以上 6.0.16 未満の範囲に該当（NVD 構成 1）"
    assert not found["CVE-2022-42475"].requires_platform  # the OR configuration needs no platform
    # 6.4.9 is past CVE-2018-13379 (≤ 6.0.4, 5.6.3–5.6.7) but inside CVE-2022-42475 (6.4.0 – 6.4.10)
    assert set(hits("cpe:2.3:o:fortinet:fortios:6.4.9:*:*:*:*:*:*:*")) == {"CVE-2022-42475"}
    assert hits("cpe:2.3:o:fortinet:fortios:7.2.5:*:*:*:*:*:*:*") == {}


def test_activemq(store: None) -> None:
    found = hits("cpe:2.3:a:apache:activemq:5.16.2:*:*:*:*:*:*:*")
    assert list(found) == ["CVE-2023-46604"] and found["CVE-2023-46604"].confidence == CONFIRMED
    assert "5.16.0 以上 5.16.7 未満" in found["CVE-2023-46604"].reason
    assert hits("cpe:2.3:a:apache:activemq:5.18.3:*:*:*:*:*:*:*") == {}  # the fixed release
    assert set(hits("cpe:2.3:a:apache:activemq:5.15.9:*:*:*:*:*:*:*")) == {"CVE-2023-46604"}


def test_yamaha_firmware_needs_its_router(store: None) -> None:
    found = hits("cpe:2.3:o:yamaha:rtx810_firmware:rev.11.01.31:*:*:*:*:*:*:*")
    hit = found["CVE-2018-0665"]
    assert hit.confidence == CONFIRMED
    assert hit.requires_platform == ("cpe:2.3:h:yamaha:rtx810:-:*:*:*:*:*:*:*",)
    assert "yamaha:rtx810" in hit.reason and "rev.11.01.31 以下" in hit.reason
    assert hits("cpe:2.3:o:yamaha:rtx810_firmware:rev.11.01.34:*:*:*:*:*:*:*") == {}
    # The AND configuration: a device with the firmware matches only when it is that router.
    assert engine.platform_satisfied(hit.requires_platform, ["cpe:2.3:h:yamaha:rtx810:-:*:*:*:*:*:*:*"])
    assert engine.platform_satisfied(hit.requires_platform, ["cpe:2.3:h:yamaha:rtx810:*:*:*:*:*:*:*:*"])
    assert not engine.platform_satisfied(hit.requires_platform, ["cpe:2.3:h:yamaha:rtx1210:-:*:*:*:*:*:*:*"])
    assert not engine.platform_satisfied(hit.requires_platform, [])
    assert engine.platform_satisfied((), [])


def test_version_unknown_is_possible(store: None) -> None:
    hit = hits("cpe:2.3:o:yamaha:rtx810_firmware:*:*:*:*:*:*:*:*")["CVE-2018-0665"]
    assert hit.confidence == POSSIBLE and "バージョンが台帳にない" in hit.reason


def test_smbv1_on_windows(store: None) -> None:
    """CVE-2017-0144 (EternalBlue, NVD 1.1): SMBv1 is vulnerable when it runs on one of the Windows versions
    listed (AND node, the platforms are `vulnerable: false`)."""
    hit = hits("cpe:2.3:a:microsoft:server_message_block:1.0:*:*:*:*:*:*:*")["CVE-2017-0144"]
    assert hit.confidence == CONFIRMED and len(hit.requires_platform) == 12
    assert "ほか 9 件" in hit.reason  # three platforms shown, the rest counted
    assert engine.platform_satisfied(hit.requires_platform, ["cpe:2.3:o:microsoft:windows_7:-:sp1:*:*:*:*:*:*"])
    assert not engine.platform_satisfied(hit.requires_platform,
                                         ["cpe:2.3:o:microsoft:windows_11:21h2:*:*:*:*:*:*:*"])
    assert "CVE-2017-0144" not in hits("cpe:2.3:o:microsoft:windows_7:-:sp1:*:*:*:*:*:*")  # the platform alone


def test_no_configurations_cna_affected_is_manual(store: None) -> None:
    hit = hits("cpe:2.3:o:gehealthcare:venue_firmware:r3.3:*:*:*:*:*:*:*")["CVE-2024-1486"]
    assert hit.confidence == MANUAL and hit.origin == "cve5"
    assert "NVD の構成情報がなく" in hit.reason and "R3" in hit.reason
    assert "CVE-2024-1486" not in hits("cpe:2.3:o:gehealthcare:venue_firmware:r5.0:*:*:*:*:*:*:*")


def test_alias_palo_alto_networks(store: None) -> None:
    """The CNA writes "Palo Alto Networks", CISA paloaltonetworks; a ledger may use palo_alto_networks."""
    for vendor in ("paloaltonetworks", "palo_alto_networks"):
        found = hits(f"cpe:2.3:o:{vendor}:pan-os:10.2.5:*:*:*:*:*:*:*")
        assert found["CVE-2024-3400"].confidence == MANUAL
    assert "CVE-2024-3400" not in hits("cpe:2.3:o:paloaltonetworks:pan-os:10.2.10:*:*:*:*:*:*:*")


def test_openssh_upstream_entry_not_distribution_builds(store: None) -> None:
    found = hits("cpe:2.3:a:openbsd:openssh:8.5:p1:*:*:*:*:*:*")
    assert "OpenSSH" in found["CVE-2024-6387"].reason and "Red Hat" not in found["CVE-2024-6387"].reason
    assert "CVE-2024-6387" not in hits("cpe:2.3:a:openbsd:openssh:9.8:p1:*:*:*:*:*:*")
    assert "CVE-2024-6387" not in hits("cpe:2.3:a:openbsd:openssh:8.4:p1:*:*:*:*:*:*")


def test_jvn_only_is_possible(store: None) -> None:
    from anzen.vulns.models import CveProduct

    row = CveProduct.objects.filter(origin="jvn").select_related("cve").first()
    assert row is not None
    name = f"cpe:2.3:{row.part}:{row.vendor}:{row.product}:*:*:*:*:*:*:*:*"
    hit = hits(name)[row.cve.cve_id]
    assert hit.confidence == POSSIBLE and hit.origin == "jvn" and "JVN iPedia" in hit.reason


def test_match_identities_distinct_and_restricted(store: None) -> None:
    fortios = Identity.from_cpe23("cpe:2.3:o:fortinet:fortios:6.0.4:*:*:*:*:*:*:*")
    activemq = Identity.from_cpe23("cpe:2.3:a:apache:activemq:5.16.2:*:*:*:*:*:*:*")
    nothing = Identity.from_cpe23("cpe:2.3:a:example:nothing:1.0:*:*:*:*:*:*:*")
    result = engine.match_identities([fortios, activemq, nothing, fortios])
    assert list(result) == [fortios, activemq, nothing]
    assert [hit.cve_id for hit in result[fortios]] == ["CVE-2018-13379", "CVE-2022-42475"]
    assert result[nothing] == []
    only = engine.match_identities([fortios], cve_ids={"CVE-2022-42475"})
    assert [hit.cve_id for hit in only[fortios]] == ["CVE-2022-42475"]
    assert engine.match_identities([fortios], cve_ids=set()) == {fortios: []}


def test_changed_cve_ids() -> None:
    [first] = load("nvd20/CVE-2023-46604.json")
    load("nvd20/CVE-2022-42475.json")
    assert engine.changed_cve_ids(first.pk) == {"CVE-2022-42475"}
    assert engine.changed_cve_ids(None) == {"CVE-2022-42475", "CVE-2023-46604"}


def test_check_rejects_bad_names_in_japanese(store: None) -> None:
    with pytest.raises(ValueError) as error:
        engine.check("fortios 6.0.4")
    assert any("\u3040" <= char <= "\u30ff" or "\u4e00" <= char <= "\u9fff" for char in str(error.value))
