"""Fixtures of the ledger tests: members of the test hospital and a small ledger."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from anzen.accounts.models import Membership
from anzen.accounts.roles import Role
from anzen.assets import services
from anzen.assets.models import Device, InformationSystem
from anzen.common.permissions import Actor
from tests.conftest import World


def actor_of(membership: Membership) -> Actor:
    return Actor(user=membership.user, membership=membership)


@dataclass
class Ledger:
    staff: Membership
    actor: Actor
    ehr: InformationSystem
    network: InformationSystem
    server: Device
    pc: Device
    router: Device


@pytest.fixture
def staff(world: World, make_member: Callable[..., Membership]) -> Membership:
    return make_member("ledger-staff", world.hospital, Role.STAFF)


@pytest.fixture
def ledger(world: World, staff: Membership) -> Ledger:
    actor = actor_of(staff)
    ehr = services.system_create(actor=actor, name="電子カルテ", category="ehr", vendor=world.vendor,
                                 product="ひかりカルテ", version="5.2", remote_maintenance=True,
                                 remote_line_type="ip_vpn", remote_vendor=world.vendor,
                                 end_of_support="2024-03-31")
    network = services.system_create(actor=actor, name="院内ネットワーク", category="other")
    server = services.device_create(actor=actor, kind="server", hostname="ehr-db01", mac="00-D4-9E-3C-3F-D9",
                                    ip="172.30.1.10", os_name="Windows Server", os_version="2019",
                                    remote_maintenance=True, systems=[ehr])
    pc = services.device_create(actor=actor, kind="pc", hostname="fhej2004", owner="山下 芳範",
                                mac="a0:29:42:23:19:73", ip="172.30.103.4", os_name="Windows 10",
                                payment_class="病院負担", model_name="IYYAMA NJ50PU", first_registered="2023/4/1",
                                systems=[ehr])
    router = services.device_create(actor=actor, kind="network", hostname="core-sw1", serial="SN-001",
                                    manufacturer="YAMAHA", systems=[network])
    return Ledger(staff, actor, ehr, network, server, pc, router)
