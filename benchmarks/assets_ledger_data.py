"""Data generator for the ledger benchmark: a hospital ledger of N devices and an nmap XML scan of it.

Devices follow the product families of `hospital-cpe-families.csv` (assets per 500 beds × share within the
role, so terminals dominate, then medical devices, printers, network and servers), with the CPE names and
example versions of the families as software, MAC addresses from real IEEE prefixes of the vendors that
occur in hospital networks (`oui-hospital-vendors.csv`, or the OUI table shipped in Anzen), IP addresses in
one /16 per category (VLANs), and the columns of seed 003's device list (筐体名, 申請者, OS, 支払区分, 機器名,
MACアドレス, IPアドレス, 登録情報コンセント番号, 初回登録 …).

The scan answers for most devices of the scanned VLANs, with some IP addresses moved, some OS changed,
unregistered hosts (new MACs in the same VLANs), open services with nmap's CPE 2.2 names; the devices of
those VLANs that do not answer are the missing ones. Deterministic (seeded random).

Reads /work/shared/data/ledger when it is there (benchmarks may), else the copies inside Anzen.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path("/work/shared/data/ledger")
FAMILIES = [SHARED / "hospital-cpe-families.csv", ROOT / "anzen" / "assets" / "data" / "hospital-cpe-families.csv"]
HOSPITAL_OUI = SHARED / "oui-hospital-vendors.csv"

KIND = {"pc": "pc", "server": "server", "network": "network", "printer": "printer", "medical": "medical"}
VLAN = {"pc": 10, "server": 20, "network": 30, "printer": 40, "medical": 50}  # 10.<vlan>.x.y
OUI_KEYS = {
    "pc": ["intel", "dell", "hpe_hp", "lenovo", "fujitsu", "nec", "panasonic", "microsoft"],
    "server": ["hpe_hp", "dell", "fujitsu", "nec", "vmware"],
    "network": ["cisco", "yamaha", "alaxala", "allied_telesis", "fortinet", "aruba", "juniper", "paloaltonetworks",
                "apc_schneider", "buffalo"],
    "printer": ["canon", "ricoh", "sharp", "kyocera", "epson", "brother", "konica_minolta", "fujifilm"],
    "medical": ["nihon_kohden", "fukuda_denshi", "terumo", "philips_medical", "ge_healthcare", "baxter", "bd",
                "draeger", "sysmex", "shimadzu", "olympus", "nikkiso", "siemens_healthineers"],
}
FALLBACK_OUI = {"pc": ["00D49E", "A02942"], "server": ["001F3C"], "network": ["0012E2", "0000F4"],
                "printer": ["000085"], "medical": ["00A09A", "0040D1", "60F673"]}
OWNERS = ["山下 芳範", "佐藤 花子", "鈴木 一郎", "高橋 直子", "田中 誠", "情報システム部", "放射線部", "検査部",
          "看護部"]
PAYMENT = ["病院負担", "研究費", "リース", "保守契約"]
LOCATIONS = ["本館1F 外来", "本館2F 病棟", "本館3F 手術部", "東館 検査部", "西館 放射線部", "サーバ室", "医局"]
PREFIX = {"pc": "pc", "server": "srv", "network": "nw", "printer": "prn", "medical": "me"}
SEED_HEADER = ["筐体名", "申請者", "OS", "支払区分", "機器名", "MACアドレス", "IPアドレス", "登録情報コンセント番号",
               "初回登録", "種類", "状態", "設置場所", "OSのバージョン", "CPE"]


@dataclass
class Family:
    category: str
    role: str
    weight: float
    template: str
    versions: list[str]
    no_cpe_label: str = ""

    @property
    def is_os(self) -> bool:
        """The family that makes the device (OS, firmware, a medical device without CPE, an MFP)."""
        return ":o:" in self.template or bool(self.no_cpe_label) or self.category == "printer"

    def cpe(self, version: str) -> str:
        return self.template.replace("{v}", version.replace("\\", "") if version != "-" else "-") \
            if self.template else ""

    @property
    def product(self) -> str:
        if self.no_cpe_label:
            return self.no_cpe_label
        parts = self.template.split(":")
        return f"{parts[3]} {parts[4]}".replace("_", " ")


@dataclass
class Device:
    hostname: str
    kind: str
    owner: str
    os_name: str
    os_version: str
    payment_class: str
    model_name: str
    mac: str
    ip: str
    outlet: str
    first_registered: dt.date
    location: str
    cpe: str
    software: list[dict[str, str]] = field(default_factory=list)

    def row(self) -> dict[str, Any]:
        return {"hostname": self.hostname, "kind": self.kind, "owner": self.owner, "os_name": self.os_name,
                "os_version": self.os_version, "payment_class": self.payment_class, "model_name": self.model_name,
                "mac": self.mac, "ip": self.ip, "outlet": self.outlet, "first_registered": self.first_registered,
                "location": self.location, "status": "in_use", "software": self.software}


def families() -> list[Family]:
    path = next(p for p in FAMILIES if p.is_file())
    found = []
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            template = row["cpe23_template"]
            label = template.removeprefix("(no CPE)").strip() if template.startswith("(no CPE)") else ""
            found.append(Family(row["category"], row["role"], float(row["assets_per_500_beds"]) *
                                float(row["share_within_role"]), "" if label else template,
                                [v for v in row["example_versions"].split(";") if v], label))
    return found


def _ouis() -> dict[str, list[str]]:
    if not HOSPITAL_OUI.is_file():
        return FALLBACK_OUI
    keyed: dict[str, list[str]] = {}
    with HOSPITAL_OUI.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            keyed.setdefault(row["vendor_key"], []).append(row["oui"])
    return {category: [o for key in keys for o in keyed.get(key, [])[:40]] or FALLBACK_OUI[category]
            for category, keys in OUI_KEYS.items()}


def generate(count: int = 20_000, *, seed: int = 4) -> list[Device]:
    rng = random.Random(seed)
    fams = families()
    os_families = [f for f in fams if f.is_os]
    apps = [f for f in fams if not f.is_os]
    categories = sorted({f.category for f in os_families})
    weights = [sum(f.weight for f in os_families if f.category == c) for c in categories]
    ouis = _ouis()
    devices: list[Device] = []
    macs: set[str] = set()
    counters = dict.fromkeys(categories, 0)
    start = dt.date(2015, 4, 1)
    for _index in range(count):
        category = rng.choices(categories, weights)[0]
        options = [f for f in os_families if f.category == category]
        family = rng.choices(options, [f.weight for f in options])[0]
        version = rng.choice(family.versions) if family.versions else "-"
        counters[category] += 1
        number = counters[category]
        while True:
            mac = rng.choice(ouis[category]) + f"{rng.getrandbits(24):06X}"
            if mac not in macs:
                macs.add(mac)
                break
        mac_text = ":".join(mac[i:i + 2] for i in range(0, 12, 2)).lower()
        ip = f"10.{VLAN[category]}.{number // 250}.{number % 250 + 1}"
        software = []
        if family.template:
            software.append({"name": family.product, "version": "" if version == "-" else version,
                             "cpe23": family.cpe(version)})
        else:
            software.append({"name": family.no_cpe_label, "no_cpe": True})
        for app in apps:
            if app.category == category and rng.random() < min(0.9, app.weight / 1100):
                app_version = rng.choice(app.versions) if app.versions else "-"
                software.append({"name": app.product, "version": "" if app_version == "-" else app_version,
                                 "cpe23": app.cpe(app_version)})
        devices.append(Device(
            hostname=f"{PREFIX[category]}{number:05d}", kind=KIND[category], owner=rng.choice(OWNERS),
            os_name=family.product if family.template else family.no_cpe_label, os_version="" if version == "-"
            else version, payment_class=rng.choice(PAYMENT), model_name=f"{family.role} {rng.randrange(1, 9)}",
            mac=mac_text, ip=ip, outlet=f"{rng.randrange(1, 9)}F-{rng.randrange(1, 400):03d}",
            first_registered=start + dt.timedelta(days=rng.randrange(0, 3600)), location=rng.choice(LOCATIONS),
            cpe=family.cpe(version), software=software[:4]))
    return devices


def device_list_csv(devices: list[Device]) -> bytes:
    """The ledger as seed 003's device list (UTF-8 with BOM, as Excel saves "CSV UTF-8")."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(SEED_HEADER)
    for d in devices:
        writer.writerow([d.hostname, d.owner, d.os_name, d.payment_class, d.model_name, d.mac, d.ip, d.outlet,
                         d.first_registered.strftime("%Y/%m/%d"), d.kind, "使用中", d.location, d.os_version, d.cpe])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


SERVICES = {
    "pc": [(135, "msrpc", "Microsoft Windows RPC", "", "cpe:/o:microsoft:windows"),
           (445, "microsoft-ds", "", "", ""), (3389, "ms-wbt-server", "Microsoft Terminal Services", "", "")],
    "server": [(22, "ssh", "OpenSSH", "7.4", "cpe:/a:openbsd:openssh:7.4"),
               (443, "http", "Apache Tomcat", "9.0.80", "cpe:/a:apache:tomcat:9.0.80"),
               (1521, "oracle-tns", "Oracle TNS listener", "19c", "cpe:/a:oracle:database_server:19c")],
    "network": [(22, "ssh", "Cisco SSH", "1.25", "cpe:/o:cisco:ios"), (443, "https", "", "", ""),
                (161, "snmp", "", "", "")],
    "printer": [(80, "http", "", "", ""), (9100, "jetdirect", "", "", ""), (631, "ipp", "", "", "")],
    "medical": [(104, "dicom", "", "", ""), (2575, "hl7", "", "", "")],
}
OS_MATCH = {"pc": ("Microsoft Windows 10 1607 - 11", "Windows", "10", "general purpose", "cpe:/o:microsoft:windows_10"),
            "server": ("Linux 4.15 - 5.6", "Linux", "4.X", "general purpose", "cpe:/o:linux:linux_kernel:4"),
            "network": ("Cisco IOS 15.2", "IOS", "15.X", "switch", "cpe:/o:cisco:ios:15.2"),
            "printer": ("Canon imageRUNNER printer", "embedded", "", "printer", "cpe:/h:canon:imagerunner"),
            "medical": ("Linux 3.2 - 4.9", "Linux", "3.X", "specialized", "cpe:/o:linux:linux_kernel:3")}
CATEGORY_OF_KIND = {v: k for k, v in KIND.items()}


@dataclass
class ScanPlan:
    xml: bytes
    hosts: int
    from_ledger: int
    moved: int
    os_changed: int
    unregistered: int
    vlans: list[str]


def nmap_xml(devices: list[Device], hosts: int = 5_000, *, seed: int = 5, services: bool = True) -> ScanPlan:
    """An nmap -sV -O scan of the VLANs of the ledger, answering for `hosts` hosts: 88 % ledger devices
    (3 % of them on a moved IP, 2 % with another OS), 12 % unregistered."""
    rng = random.Random(seed)
    by_vlan: dict[str, list[Device]] = {}
    for device in devices:
        by_vlan.setdefault(".".join(device.ip.split(".")[:2]), []).append(device)
    vlans: list[str] = []
    pool: list[Device] = []
    for vlan in sorted(by_vlan, key=lambda v: len(by_vlan[v])):  # smaller VLANs first, then the PCs
        vlans.append(vlan)
        pool.extend(by_vlan[vlan])
        if len(pool) >= hosts:
            break
    known = rng.sample(pool, min(len(pool), int(hosts * 0.88)))
    used_ips = {d.ip for d in devices}
    out = io.StringIO()
    start = 1_763_000_000
    targets = " ".join(f"{vlan}.0.0/16" for vlan in vlans)
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE nmaprun>\n')
    out.write(f'<nmaprun scanner="nmap" args="nmap -sV -O -oX bench.xml {targets}" start="{start}" '
              f'version="7.94" xmloutputversion="1.05">\n<scaninfo type="syn" protocol="tcp" numservices="1000"/>\n')
    moved = os_changed = 0

    def host(ip: str, mac: str, category: str, os_override: str = "") -> None:
        out.write(f'<host starttime="{start}" endtime="{start + 30}"><status state="up" reason="arp-response"/>\n')
        out.write(f'<address addr="{ip}" addrtype="ipv4"/>\n<address addr="{mac.upper()}" addrtype="mac"/>\n')
        out.write("<hostnames></hostnames>\n")
        if services:
            out.write('<ports><extraports state="closed" count="997"/>\n')
            for port, name, product, version, cpe in SERVICES[category]:
                attrs = f'name="{name}"' + (f" product={quoteattr(product)}" if product else "") + \
                        (f' version="{version}"' if version else "")
                cpe_xml = f"<cpe>{cpe}</cpe>" if cpe else ""
                out.write(f'<port protocol="tcp" portid="{port}"><state state="open" reason="syn-ack"/>'
                          f'<service {attrs} method="probed" conf="10">{cpe_xml}</service></port>\n')
            out.write("</ports>\n")
            name, family, gen, kind, cpe = OS_MATCH[os_override or category]
            out.write(f'<os><osmatch name="{name}" accuracy="96"><osclass type="{kind}" vendor="" '
                      f'osfamily="{family}" osgen="{gen}" accuracy="96"><cpe>{cpe}</cpe></osclass></osmatch></os>\n')
        out.write("</host>\n")

    for device in known:
        category = CATEGORY_OF_KIND[device.kind]
        ip = device.ip
        roll = rng.random()
        if roll < 0.03:
            moved += 1
            while ip in used_ips:
                ip = f"{'.'.join(device.ip.split('.')[:2])}.{rng.randrange(100, 250)}.{rng.randrange(1, 250)}"
            used_ips.add(ip)
        override = ""
        if 0.03 <= roll < 0.05 and category == "pc":
            os_changed += 1
            override = "server"  # a Windows terminal answering as Linux
        host(ip, device.mac, category, override)
    unregistered = hosts - len(known)
    for _index in range(unregistered):
        vlan = rng.choice(vlans)
        ip = ""
        while not ip or ip in used_ips:
            ip = f"{vlan}.{rng.randrange(100, 250)}.{rng.randrange(1, 250)}"
        used_ips.add(ip)
        mac = "02" + "".join(f"{rng.randrange(256):02x}" for _ in range(5))
        host(ip, ":".join(mac[i:i + 2] for i in range(0, 12, 2)), rng.choice(list(SERVICES)))
    out.write(f'<runstats><finished time="{start + 600}" elapsed="600" exit="success"/>'
              f'<hosts up="{hosts}" down="0" total="{hosts}"/></runstats>\n</nmaprun>\n')
    return ScanPlan(out.getvalue().encode("utf-8"), hosts, len(known), moved, os_changed, unregistered, vlans)
