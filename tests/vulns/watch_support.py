"""Fixtures of WATCH's tests: real CVE records (ENGINE's fixture files under tests/vulns/fixtures/, NVD data,
public domain) imported through the feed service, and a small hospital ledger with the demo's vulnerable
products — FortiOS 6.0.4 (CVE-2018-13379, CVE-2022-42475), ActiveMQ 5.16.2 (CVE-2023-46604), YAMAHA RTX810
firmware rev.11.01.31 on RTX810 hardware (CVE-2018-0665, AND configuration)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from anzen.accounts.models import Membership
from anzen.accounts.roles import Role
from anzen.common.permissions import Actor

FIXTURES = Path(__file__).parent / "fixtures"
CVE_FILES = ("nvd11/CVE-2018-13379.json", "nvd20/CVE-2022-42475.json", "nvd20/CVE-2023-46604.json",
             "nvd20/CVE-2018-0665.json")

FORTIOS_604 = "cpe:2.3:o:fortinet:fortios:6.0.4:*:*:*:*:*:*:*"
FORTIOS_649 = "cpe:2.3:o:fortinet:fortios:6.4.9:*:*:*:*:*:*:*"
FORTIGATE = "cpe:2.3:h:fortinet:fortigate-100f:-:*:*:*:*:*:*:*"
ACTIVEMQ = "cpe:2.3:a:apache:activemq:5.16.2:*:*:*:*:*:*:*"
ACTIVEMQ_FIXED = "cpe:2.3:a:apache:activemq:5.16.7:*:*:*:*:*:*:*"
RTX810_FW = "cpe:2.3:o:yamaha:rtx810_firmware:rev.11.01.31:*:*:*:*:*:*:*"
RTX810_HW = "cpe:2.3:h:yamaha:rtx810:-:*:*:*:*:*:*:*"


def import_cves(*names: str) -> list[Any]:
    from anzen.vulns import services_feeds

    return services_feeds.import_paths(paths=[FIXTURES / name for name in (names or CVE_FILES)])


@dataclass
class Ledger:
    world: Any
    system: Actor
    network: Any  # InformationSystem maintained by world.vendor
    fw1: Any  # FortiOS 6.0.4 on a FortiGate
    fw2: Any  # FortiOS 6.4.9
    mq: Any  # ActiveMQ 5.16.2 (server, no system)
    rtx: Any  # RTX810 firmware with its hardware
    rtx_alone: Any  # RTX810 firmware, hardware not recorded: the AND configuration does not apply
    monitor: Any  # a bedside monitor without CPE

    def add(self, device: Any, cpe23: str, name: str = "") -> Any:
        from anzen.assets import services

        return services.software_add(actor=self.system, device=device, cpe23=cpe23, name=name)


def make_ledger(world: Any) -> Ledger:
    from anzen.assets import services

    system = Actor.system()
    network = services.system_create(actor=system, institution=world.hospital, name="院内ネットワーク",
                                     category="other", vendor=world.vendor)

    def device(hostname: str, kind: str, *cpes: str, systems: tuple[Any, ...] = ()) -> Any:
        made = services.device_create(actor=system, institution=world.hospital, hostname=hostname, kind=kind,
                                      systems=list(systems))
        for cpe in cpes:
            services.software_add(actor=system, device=made, cpe23=cpe)
        return made

    ledger = Ledger(
        world=world, system=system, network=network,
        fw1=device("fw-main", "network", FORTIOS_604, FORTIGATE, systems=(network,)),
        fw2=device("fw-remote", "network", FORTIOS_649, FORTIGATE, systems=(network,)),
        mq=device("hl7-mq", "server", ACTIVEMQ),
        rtx=device("rtx-maint", "network", RTX810_FW, RTX810_HW, systems=(network,)),
        rtx_alone=device("rtx-spare", "network", RTX810_FW),
        monitor=device("bsm-icu-1", "medical"),
    )
    services.software_add(actor=system, device=ledger.monitor, name="ベッドサイドモニタ BSM-0000", version="01-02",
                          no_cpe=True)
    return ledger


# Fixtures are registered under their short names; the functions have other names so that a test module
# can import them (`from tests.vulns.watch_support import ledger_fixture`) without shadowing its parameters.
@pytest.fixture(name="cves")
def cves_fixture(db: None) -> list[Any]:
    return import_cves()


@pytest.fixture(name="ledger")
def ledger_fixture(world: Any, cves: list[Any]) -> Ledger:
    return make_ledger(world)


@pytest.fixture(name="members")
def members_fixture(world: Any, make_member: Callable[..., Membership]) -> dict[str, Membership]:
    return {
        "staff": make_member("w-staff", world.hospital, Role.STAFF),
        "manager": make_member("w-manager", world.hospital, Role.MANAGER),
        "vendor": make_member("w-vendor", world.vendor, Role.VENDOR),
        "other_vendor": make_member("w-vendor2", world.other_vendor, Role.VENDOR),
        "other_staff": make_member("w-other", world.other_hospital, Role.STAFF),
    }


def actor(membership: Membership) -> Actor:
    return Actor(membership.user, membership)


def finding(world: Any, device: Any, cve_id: str) -> Any:
    from anzen.vulns.models_watch import Finding

    return Finding.objects.get(institution=world.hospital, device=device, cve_id=cve_id)
