# ruff: noqa: E501  (demo data: names and addresses quoted whole)
"""The demo ledger of さくら台総合病院（デモ）: its information systems and a few hundred devices.

* systems: 電子カルテ (ひかり電子カルテ, remote maintenance over IPsec-VPN), PACS (あおば画像システム,
  TLS-VPN, linked to its MDS/SDS), 部門 systems (検査 — past its end of support —, 放射線, 薬剤), 地域連携
  (cloud) and the 院内ネットワーク maintained remotely by みなとネットワーク保守 over IP-VPN;
* ~330 devices: servers, clinical PCs, network devices, printers, medical devices (monitors, consoles,
  pumps), NAS, UPS cards, smartphones; software and CPE names from the product families of
  `anzen/assets/data/hospital-cpe-families.csv` (products without a CPE are marked for the manual
  vulnerability path); MAC addresses from the makers' IEEE OUIs (public domain); IP addresses from the
  documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24);
* portable media with check-out records, three disposal records;
* this fiscal year's 医療機関確認用 gets the ledger export as the evidence of 2(1) (it replaces the small
  extract the demo year attached) and the remote-maintenance list as the evidence of 2(2).

Deterministic (seeded random), loaded through the services as sakura-staff (devices in one
`devices_bulk_create`), and only once: nothing is added when the hospital already has devices.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils import timezone

from anzen.accounts.models import Organisation
from anzen.assessments import services as assessment_services
from anzen.assessments.models import Assessment, Evidence, SubjectKind
from anzen.assets import services, services_checklist, services_media
from anzen.assets.models import Device, InformationSystem
from anzen.common.wareki import fiscal_year_of
from anzen.demo.assessments import PACS, VENDORS, _as

FAMILIES = Path(__file__).resolve().parent.parent / "assets" / "data" / "hospital-cpe-families.csv"
SEED = 2026
STAFF = "sakura-staff"

# IEEE MA-L assignments (public domain, from the IEEE registry via Debian's ieee-data) of the makers used.
OUI = {
    "fujitsu": ["00000E", "000B5D"], "nec": ["00004C", "000D02"], "lenovo": ["0012FE"], "dell": ["00065B", "000874"],
    "hp": ["0001E6", "0001E7"], "cisco": ["00000C", "000142"], "alaxala": ["0012E2", "D4354A"],
    "allied": ["0000F4", "000941"], "fortinet": ["00090F", "000CE6"], "yamaha": ["00A0DE", "AC44F2"],
    "aruba": ["000B86", "001A1E"], "canon": ["000085", "001E8F"], "ricoh": ["000074", "002673"],
    "fujifilm": ["080037", "1C7D22"], "nihon_kohden": ["00A09A"], "fukuda": ["0040D1"], "terumo": ["60F673"],
    "ge": ["444B5D"], "philips": ["00095C"], "shimadzu": ["00E096"], "buffalo": ["000740", "000D0B"], "apc": ["000054", "000123"],
    "sharp": ["00175C"], "draeger": ["00105D"],
}
PC_MODELS = [("fujitsu", "富士通", "FMV ESPRIMO D7012"), ("nec", "NEC", "Mate MKM34B"),
             ("lenovo", "Lenovo", "ThinkCentre M75q Gen 2"), ("dell", "Dell", "OptiPlex 7010")]
PLACES = ["1階 外来", "1階 救急外来", "2階 手術室", "3階 東病棟", "3階 西病棟", "4階 東病棟", "4階 西病棟", "5階 小児病棟",
          "放射線科", "臨床検査科", "薬剤部", "医事課", "医局", "看護部", "情報システム課"]
OWNERS = ["情報 太郎", "運用 花子", "佐藤 一", "鈴木 恵", "高橋 誠", "田中 舞", "伊藤 翼", "渡辺 光", "山本 茜", "中村 悠"]
PAYMENT = ["病院負担", "病院負担", "病院負担", "研究費", "部門予算"]


@dataclass(frozen=True)
class Family:
    category: str
    role: str
    share: float
    template: str
    versions: tuple[str, ...]

    @property
    def has_cpe(self) -> bool:
        return self.template.startswith("cpe:2.3:")

    def pick(self, rng: random.Random) -> dict[str, Any]:
        version = rng.choice(self.versions) if self.versions else "-"
        if not self.has_cpe:
            return {"name": self.template.removeprefix("(no CPE)").strip(), "no_cpe": True}
        cpe = self.template.replace("{v}", version)
        return {"cpe23": cpe}


def families() -> dict[str, list[Family]]:
    by_role: dict[str, list[Family]] = {}
    with FAMILIES.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            versions = tuple(v for v in row["example_versions"].split(";") if v and v not in ("-", "*"))
            family = Family(row["category"], row["role"], float(row["share_within_role"] or 0),
                            row["cpe23_template"], versions)
            by_role.setdefault(row["role"], []).append(family)
    return by_role


class Builder:
    """Deterministic device rows (MACs unique, addresses from the documentation ranges)."""

    def __init__(self, systems: dict[str, InformationSystem]) -> None:
        self.rng = random.Random(SEED)  # noqa: S311  (demo data, not security)
        self.families = families()
        self.systems = systems
        self.macs: set[str] = set()
        self.hosts = {"192.0.2": 1, "198.51.100": 1, "203.0.113": 1}
        self.rows: list[dict[str, Any]] = []

    def mac(self, maker: str) -> str:
        while True:
            oui = self.rng.choice(OUI[maker])
            tail = "".join(f"{self.rng.randrange(256):02x}" for _ in range(3))
            mac = ":".join([oui[0:2], oui[2:4], oui[4:6]]).lower() + ":" + ":".join(tail[i:i + 2] for i in (0, 2, 4))
            if mac not in self.macs:
                self.macs.add(mac)
                return mac

    def ip(self, net: str) -> str:
        host = self.hosts[net]
        self.hosts[net] = host + 1
        return f"{net}.{host}"

    def software(self, role: str, *, chance: float | None = None) -> list[dict[str, Any]]:
        """One family of the role chosen by its share (or each family with its share as probability)."""
        options = self.families.get(role, [])
        if not options:
            return []
        if chance is None:
            return [self.rng.choices(options, weights=[f.share or 0.01 for f in options])[0].pick(self.rng)]
        return [f.pick(self.rng) for f in options if self.rng.random() < f.share * chance]

    def day(self, start: int = 2018, end: int = 2025) -> dt.date:
        first = dt.date(start, 4, 1)
        return first + dt.timedelta(days=self.rng.randrange((dt.date(end, 3, 31) - first).days))

    def add(self, **fields: Any) -> dict[str, Any]:
        row = {"status": "in_use", "first_registered": self.day(), **fields}
        systems = row.pop("system_keys", [])
        row["systems"] = [self.systems[key].pk for key in systems]
        self.rows.append(row)
        return row

    def build(self) -> list[dict[str, Any]]:
        self.servers()
        self.network()
        self.pcs()
        self.printers()
        self.medical()
        self.others()
        return self.rows

    def servers(self) -> None:
        specs = [("ehr-db01", "ehr", "EHR DB"), ("ehr-db02", "ehr", "EHR DB"), ("ehr-ap01", "ehr", "web/app server"),
                 ("ehr-ap02", "ehr", "web/app server"), ("pacs-sv01", "pacs", "department DB"),
                 ("pacs-sv02", "pacs", "department DB"), ("pacs-web01", "pacs", "web server"),
                 ("lab-sv01", "lab", "department DB"), ("ris-sv01", "ris", "department DB"),
                 ("pharm-sv01", "pharmacy", "department DB"), ("hl7-gw01", "ehr", "messaging (HL7 interface)"),
                 ("ad01", "network", "remote access"), ("ad02", "network", "remote access"),
                 ("file01", "network", "department DB"), ("wsus01", "network", "web server"),
                 ("vcenter01", "network", "virtualization mgmt"), ("esx01", "network", "hypervisor"),
                 ("esx02", "network", "hypervisor")]
        for hostname, system, role in specs:
            linux = role in ("web server", "messaging (HL7 interface)", "remote access") and hostname.startswith(
                ("pacs", "hl7"))
            os_role = "Linux server OS" if linux else "Windows server OS"
            if role == "hypervisor":
                software = self.software("hypervisor")
            else:
                software = [*self.software(os_role), *self.software(role), *self.software("OOB management")]
            if linux:
                software += self.software("crypto lib") + self.software("remote access")
            maker = self.rng.choice(["hp", "fujitsu", "nec"])
            os_cpe = next((s["cpe23"] for s in software if s.get("cpe23", "").startswith("cpe:2.3:o:")), "")
            os_name, os_version = _os_label(os_cpe)
            self.add(kind="server", hostname=hostname, owner="情報システム課", os_name=os_name, os_version=os_version,
                     payment_class="病院負担", manufacturer={"hp": "HPE", "fujitsu": "富士通", "nec": "NEC"}[maker],
                     model_name={"hp": "ProLiant DL360 Gen10", "fujitsu": "PRIMERGY RX2540 M6",
                                 "nec": "Express5800/R120h-1M"}[maker],
                     serial=f"SV{self.rng.randrange(10**7):07d}", mac=self.mac(maker), ip=self.ip("192.0.2"),
                     vlan="10", location="サーバ室", outlet=f"SR-{len(self.rows) + 1:02d}",
                     remote_maintenance=system in ("ehr", "pacs"), system_keys=[system],
                     last_patch_date=self.day(2024, 2025), software=software)

    def network(self) -> None:
        specs = [("core-sw%02d", "alaxala", "ALAXALA", "AX3660S", "core/distribution switch", 2, True),
                 ("fw%02d", "fortinet", "Fortinet", "FortiGate 100F", "perimeter firewall/UTM + SSL-VPN", 2, True),
                 ("vpn-rt%02d", "yamaha", "ヤマハ", "RTX1210", "remote-maintenance VPN router", 3, True),
                 ("floor-sw%02d", "cisco", "Cisco", "Catalyst 2960-X", "floor/edge switch", 14, False),
                 ("ap%02d", "aruba", "Aruba", "AP-515", "wireless AP", 6, False)]
        for pattern, maker, manufacturer, model, role, count, remote in specs:
            for index in range(1, count + 1):
                software = self.software(role)
                os_name, os_version = _os_label(software[0].get("cpe23", "")) if software else ("", "")
                self.add(kind="network", hostname=pattern % index, owner="情報システム課", os_name=os_name,
                         os_version=os_version, payment_class="病院負担", manufacturer=manufacturer, model_name=model,
                         serial=f"NW{self.rng.randrange(10**7):07d}", mac=self.mac(maker), ip=self.ip("192.0.2"),
                         vlan="1", location="サーバ室" if remote else self.rng.choice(PLACES),
                         remote_maintenance=remote, system_keys=["network"], last_patch_date=self.day(2023, 2025),
                         software=software)

    def pcs(self) -> None:
        for index in range(1, 231):
            maker, manufacturer, model = self.rng.choice(PC_MODELS)
            software = self.software("EHR/clinical client OS")
            for role in ("office suite", "browser", "PDF reader", "Java runtime", ".NET", "endpoint AV",
                         "asset mgmt agent", "remote desktop/VDI client"):
                software += self.software(role, chance=1.0)
            os_name, os_version = _os_label(software[0].get("cpe23", ""))
            place = self.rng.choice(PLACES)
            systems = ["ehr"] + (["lab"] if place == "臨床検査科" else ["ris"] if place == "放射線科"
                                 else ["pharmacy"] if place == "薬剤部" else [])
            status = "in_use" if index % 40 else "stock"
            net = "198.51.100" if index <= 200 else "203.0.113"
            self.add(kind="pc", hostname=f"sakura-pc{index:04d}", owner=self.rng.choice(OWNERS), os_name=os_name,
                     os_version=os_version, payment_class=self.rng.choice(PAYMENT), model_name=model,
                     manufacturer=manufacturer, serial=f"PC{self.rng.randrange(10**8):08d}", mac=self.mac(maker),
                     ip=self.ip(net) if status == "in_use" else "", vlan="20", location=place,
                     outlet=f"{place.split()[0]}-{self.rng.randrange(1, 60):02d}", status=status,
                     system_keys=systems, last_patch_date=self.day(2024, 2025) if index % 7 else None,
                     software=software)

    def printers(self) -> None:
        makers = {"canon": ("キヤノン", "imageRUNNER ADVANCE"), "fujifilm": ("富士フイルム", "ApeosPort-VI"),
                  "ricoh": ("リコー", "IM C3500")}
        for index in range(1, 21):
            maker = self.rng.choice(list(makers))
            manufacturer, model = makers[maker]
            self.add(kind="printer", hostname=f"mfp{index:02d}", owner="総務課", manufacturer=manufacturer,
                     model_name=model, serial=f"PR{self.rng.randrange(10**7):07d}", mac=self.mac(maker),
                     ip=self.ip("203.0.113"), vlan="30", location=self.rng.choice(PLACES), system_keys=[],
                     software=self.software("MFP"))

    def medical(self) -> None:
        specs = [
            ("bsm%02d", 8, "nihon_kohden", "日本光電", "ベッドサイドモニタ", "bedside patient monitor", [], False),
            ("ds%02d", 3, "fukuda", "フクダ電子", "DS-8500", "bedside patient monitor", [], False),
            ("cns%02d", 2, "nihon_kohden", "日本光電", "セントラルモニタ", "central monitor (Windows embedded)", [],
             False),
            ("ct-con%02d", 1, "ge", "GE", "Revolution CT コンソール", "CT/MRI/X-ray console", ["pacs"], True),
            ("mri-con%02d", 1, "philips", "Philips", "Ingenia MRI コンソール", "CT/MRI/X-ray console", ["pacs"], True),
            ("us%02d", 2, "ge", "GE", "Venue 超音波診断装置", "ultrasound", ["pacs"], False),
            ("pump-mgr%02d", 1, "terumo", "テルモ", "輸液ポンプ管理システム", "infusion/syringe pump (networked)", [],
             False),
            ("vent%02d", 2, "draeger", "Dräger", "Infinity Delta", "ventilator/anaesthesia", [], False),
        ]
        for pattern, count, maker, manufacturer, model, role, systems, remote in specs:
            for index in range(1, count + 1):
                software = self.software(role)
                os_name, os_version = _os_label(software[0].get("cpe23", "")) if software else ("", "")
                self.add(kind="medical", hostname=pattern % index, owner="臨床工学室", os_name=os_name,
                         os_version=os_version, payment_class="病院負担", manufacturer=manufacturer,
                         model_name=model, serial=f"ME{self.rng.randrange(10**7):07d}", mac=self.mac(maker),
                         ip=self.ip("192.0.2"), vlan="50", location=self.rng.choice(PLACES[:9]),
                         remote_maintenance=remote, system_keys=systems, software=software)
        # a modality console someone flagged as remotely maintained without saying over which system
        self.add(kind="medical", hostname="xray-con01", owner="放射線科", manufacturer="島津製作所",
                 model_name="一般撮影装置コンソール", serial="ME0000001", mac=self.mac("shimadzu"), ip=self.ip("192.0.2"),
                 vlan="50", location="放射線科", remote_maintenance=True, system_keys=[],
                 software=self.software("CT/MRI/X-ray console"))

    def others(self) -> None:
        for index in range(1, 3):
            self.add(kind="storage", hostname=f"nas{index:02d}", owner="情報システム課", manufacturer="バッファロー",
                     model_name="TeraStation TS5610DN", mac=self.mac("buffalo"), ip=self.ip("192.0.2"), vlan="10",
                     location="サーバ室", system_keys=["network"], software=self.software("NAS (department shares)"))
        for index in range(1, 4):
            self.add(kind="iot", hostname=f"ups-nmc{index:02d}", owner="施設課", manufacturer="シュナイダーエレクトリック",
                     model_name="APC Network Management Card 3", mac=self.mac("apc"), ip=self.ip("192.0.2"),
                     vlan="10", location="サーバ室", system_keys=[], software=self.software("UPS management card"))
        for index in range(1, 9):
            self.add(kind="mobile", hostname=f"ward-phone{index:02d}", owner="看護部", manufacturer="シャープ",
                     model_name="AQUOS sense 病棟スマートフォン", mac=self.mac("sharp"), vlan="40",
                     location=self.rng.choice(PLACES[3:8]), system_keys=["ehr"])
        # two PCs and a switch already replaced (their disposal records follow)
        for hostname, kind, maker, model in (("sakura-pc-old01", "pc", "nec", "Mate MK32M"),
                                             ("sakura-pc-old02", "pc", "fujitsu", "FMV ESPRIMO D587"),
                                             ("floor-sw-old01", "network", "allied", "CentreCOM GS924M")):
            self.add(kind=kind, hostname=hostname, owner="情報システム課", model_name=model, mac=self.mac(maker),
                     status="disposed", location="廃棄済み", system_keys=[], first_registered=self.day(2013, 2017))


# how the makers write them (the CPE products are lower case)
OS_NAMES = {"enterprise_linux": "Red Hat Enterprise Linux", "esxi": "VMware ESXi", "fortios": "FortiOS",
            "ios": "Cisco IOS", "ios_xe": "Cisco IOS XE", "pan-os": "PAN-OS", "sonicos": "SonicOS",
            "aos-cx": "AOS-CX", "instant": "ArubaOS Instant"}


def _os_label(cpe: str) -> tuple[str, str]:
    """A readable OS name and version from an OS CPE (cpe:2.3:o:microsoft:windows_10_22h2:10.0.19045… →
    Windows 10 22h2, 10.0.19045…; names as the makers write them)."""
    if not cpe.startswith("cpe:2.3:o:"):
        return "", ""
    parts = cpe.split(":")
    product, version = parts[4], parts[5]
    name = OS_NAMES.get(product) or " ".join(
        word.upper() if any(c.isdigit() for c in word) else word.capitalize()
        for word in product.replace("_firmware", "").split("_"))
    return name, "" if version in ("*", "-") else version.replace("\\", "")


SYSTEMS: list[dict[str, Any]] = [
    {"key": "ehr", "name": "電子カルテシステム", "category": "ehr", "vendor": "hikari", "product": "ひかりカルテ",
     "version": "5.2", "information_handled": "診療録、オーダ、看護記録、患者基本情報", "remote_maintenance": True,
     "remote_line_type": "ipsec", "remote_vendor": "hikari", "contract": "保守契約 HK-2023-001（24時間365日対応）",
     "end_of_support": "2028-03-31"},
    {"key": "pacs", "name": "PACS（医用画像管理）", "category": "pacs", "vendor": "aoba", "product": "AobaPACS",
     "version": "3.2", "information_handled": "医用画像（DICOM）、読影レポート", "remote_maintenance": True,
     "remote_line_type": "tls", "remote_vendor": "aoba", "contract": "保守契約 AB-PACS-0032",
     "end_of_support": "2029-03-31"},
    {"key": "lab", "name": "臨床検査システム", "category": "lab", "vendor_name": "ラボナビ株式会社（デモ）",
     "product": "LabNavi", "version": "7.1", "information_handled": "検体検査オーダ・結果",
     "end_of_support": "2025-03-31", "notes": "後継システムへの更新を計画中（予算要求済み）。"},
    {"key": "ris", "name": "放射線部門システム（RIS）", "category": "department", "vendor_name": "レイテック株式会社（デモ）",
     "product": "RayRIS", "version": "4.0", "information_handled": "放射線検査予約・実施記録",
     "end_of_support": "2027-09-30"},
    {"key": "pharmacy", "name": "薬剤部門システム", "category": "pharmacy", "vendor_name": "ファーマシス株式会社（デモ）",
     "product": "PharmaOne", "version": "2.8", "information_handled": "処方・調剤・医薬品在庫"},
    {"key": "regional", "name": "地域医療連携ネットワーク", "category": "regional", "hosting": "cloud",
     "vendor_name": "さくら台地域医療ネット協議会（デモ）", "information_handled": "診療情報提供書、検査結果の共有"},
    {"key": "network", "name": "院内ネットワーク", "category": "other", "vendor": "minato", "product": "院内LAN・VPN装置",
     "information_handled": "全システムの通信", "remote_maintenance": True, "remote_line_type": "ip_vpn",
     "remote_vendor": "minato", "contract": "ネットワーク保守契約（リモート監視・設定変更）"},
]


def _systems(staff: Any, hospital: Organisation) -> dict[str, InformationSystem]:
    vendors = {key: Organisation.objects.get(code=code) for key, code in VENDORS.items()}
    pacs_mds = Assessment.objects.filter(institution=hospital, subject_kind=SubjectKind.SYSTEM,
                                         subject_label=PACS).order_by("-fiscal_year").first()
    made = {}
    for spec in SYSTEMS:
        fields = {k: v for k, v in spec.items() if k != "key"}
        for name in ("vendor", "remote_vendor"):
            if name in fields:
                fields[name] = vendors[fields[name]]
        if spec["key"] == "pacs" and pacs_mds is not None:
            fields["disclosure"] = pacs_mds
        made[spec["key"]] = services.system_create(actor=staff, **fields)
    return made


def _media_and_disposals(staff: Any) -> None:
    now = timezone.now()
    specs = [("USB-001", "usb", True, "情報システム課 金庫"), ("USB-002", "usb", True, "情報システム課 金庫"),
             ("USB-003", "usb", True, "医局 保管庫"), ("USB-004", "usb", False, "放射線科"),
             ("HDD-001", "hdd", True, "サーバ室 ラック"), ("HDD-002", "hdd", True, "サーバ室 ラック"),
             ("DVD-001", "disc", False, "医事課"), ("SD-001", "sd", False, "臨床工学室")]
    media = {}
    for media_id, kind, encrypted, location in specs:
        media[media_id] = services_media.media_create(actor=staff, media_id=media_id, kind=kind, encrypted=encrypted,
                                                      owner="情報システム課", location=location)
    services_media.media_check_out(actor=staff, media=media["USB-001"], borrower="佐藤 一", purpose="学会発表資料の持参",
                                   at=now - dt.timedelta(days=20), due_back=(now - dt.timedelta(days=18)).date())
    services_media.media_return(actor=staff, media=media["USB-001"], at=now - dt.timedelta(days=18))
    services_media.media_check_out(actor=staff, media=media["HDD-001"], borrower="運用 花子",
                                   purpose="バックアップの遠隔地保管", at=now - dt.timedelta(days=3),
                                   due_back=(now + dt.timedelta(days=4)).date())
    today = timezone.localdate()
    for hostname, method, who in (("sakura-pc-old01", "contractor", "（デモ）リサイクルセンター"),
                                  ("sakura-pc-old02", "overwrite", "情報システム課"),
                                  ("floor-sw-old01", "physical", "みなとネットワーク保守（デモ）")):
        device = Device.objects.get(institution=staff.organisation, hostname=hostname)
        services_media.disposal_create(actor=staff, device=device, description=f"{device.model_name}（{hostname}）",
                                       disposed_on=today - dt.timedelta(days=60), method=method, performed_by=who)
    services_media.disposal_create(actor=staff, media=media["SD-001"], description="SDカード（心電計データ転送用）",
                                   disposed_on=today - dt.timedelta(days=10), method="physical",
                                   performed_by="臨床工学室")


def _attach(staff: Any, fiscal_year: int) -> bool:
    """This year's 医療機関確認用: the ledger export replaces the demo year's extract on 2(1), and the
    remote-maintenance list is the evidence of 2(2), both attached as the ledger screen's 添付 does."""
    candidates = list(services_checklist.checklist_candidates(staff, fiscal_year=fiscal_year))
    if not candidates:
        return False
    assessment = candidates[0]
    today = timezone.localdate()
    day = today if fiscal_year_of(today) == fiscal_year else min(today, dt.date(fiscal_year + 1, 3, 31))
    extract = Evidence.objects.filter(answer__assessment=assessment, original_name="機器台帳_抜粋.csv",
                                      answer__node__node_id=services_checklist.LEDGER_NODE).first()
    if extract is not None:
        assessment_services.evidence_remove(actor=staff, evidence=extract)
    services_checklist.attach_ledger_to_checklist(actor=staff, assessment=assessment, fmt="xlsx", day=day)
    return True


def load_demo_ledger(hospital: Organisation, *, fiscal_year: int | None = None) -> dict[str, Any]:
    """Create the demo ledger once; returns what was made (nothing when the hospital has devices)."""
    if Device.objects.filter(institution=hospital).exists():
        return {"created": False}
    with _as(STAFF) as staff:
        systems = _systems(staff, hospital)
        rows = Builder(systems).build()
        devices = services.devices_bulk_create(actor=staff, rows=rows, source="import")
        _media_and_disposals(staff)
        attached = _attach(staff, fiscal_year or fiscal_year_of(timezone.localdate()))
    return {"created": True, "systems": len(systems), "devices": len(devices), "attached": attached}
