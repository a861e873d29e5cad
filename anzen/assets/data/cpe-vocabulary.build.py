"""Rebuild cpe-vocabulary.csv (the offline CPE vocabulary of the CPE help) from the project's reference data.

Run from the repository root when the reference folder is available (Anzen itself never reads it):

    .venv/bin/python anzen/assets/data/cpe-vocabulary.build.py /work/shared/data

Sources (see cpe-vocabulary.README.md): ledger/hospital-cpe-families.csv (templates, example versions,
products without a CPE), the CPE names in nvd/api2-fixtures (CPE API titles, match strings, CVE
configurations) and nvd/legacy-1.1/fixtures, the CPE 2.2 names in the nmap samples (converted to 2.3),
and a short curated list (the alternatives named in the families' notes, a few common OS names, and the
names nmap uses where the NVD dictionary uses another vendor).
"""

from __future__ import annotations

import csv
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from django.conf import settings  # noqa: E402

if not settings.configured:
    settings.configure(USE_I18N=False)

from anzen.assets.normalise import cpe22_to_23, parse_cpe23  # noqa: E402

COLUMNS = ["part", "vendor", "product", "title", "keywords", "template", "versions", "no_cpe", "checked",
           "alias_of", "category", "source"]

# Extra search words (Japanese names, common abbreviations) for products of the families list.
KEYWORDS = {
    "microsoft:windows_10_22h2": "win10 windows10",
    "microsoft:windows_10_1809": "win10 windows10 ltsc 2019 ltsc2019",
    "microsoft:windows_10_1607": "win10 windows10 ltsb 2016 ltsb2016",
    "microsoft:windows_11_23h2": "win11 windows11",
    "microsoft:windows_7": "win7 windows7",
    "microsoft:office": "オフィス excel word",
    "microsoft:365_apps": "office 365 microsoft365 m365 オフィス",
    "microsoft:edge_chromium": "edge ブラウザ",
    "google:chrome": "ブラウザ",
    "mozilla:firefox_esr": "firefox ブラウザ",
    "adobe:acrobat_reader_dc": "adobe reader acrobat pdf",
    "oracle:jre": "java jre",
    "microsoft:.net_framework": ".net dotnet net framework",
    "trendmicro:apex_one": "トレンドマイクロ ウイルス対策 ウイルスバスター",
    "skygroup:skysea_client_view": "skysea 資産管理",
    "motex:lanscope_endpoint_manager": "lanscope 資産管理",
    "vmware:horizon_client": "horizon vdi",
    "redhat:enterprise_linux": "rhel red hat",
    "oracle:database_server": "oracle database db",
    "intersystems:cache": "caché iris",
    "microsoft:sql_server": "sql server mssql",
    "apache:http_server": "apache httpd",
    "openbsd:openssh": "ssh",
    "hp:integrated_lights-out_4_firmware": "ilo ilo4",
    "fortinet:fortios": "fortigate フォーティゲート utm",
    "paloaltonetworks:pan-os": "palo alto",
    "ivanti:connect_secure": "pulse secure sslvpn",
    "citrix:netscaler_gateway": "netscaler citrix adc",
    "yamaha:rtx1210_firmware": "ヤマハ rtx1210 ルータ",
    "yamaha:rtx830_firmware": "ヤマハ rtx830 ルータ",
    "cisco:ios": "catalyst isr",
    "cisco:ios_xe": "catalyst",
    "arubanetworks:aos-cx": "aruba",
    "alaxala:ax_router": "アラクサラ alaxala ax",
    "allied-telesis:centrecom_ar260s_firmware": "アライドテレシス centrecom",
    "arubanetworks:instant": "aruba instant ap 無線",
    "nec:univerge_wa2612-ap_firmware": "univerge 無線 ap",
    "fortinet:fortiap": "無線 ap",
    "buffalo:ts5600d1206_firmware": "バッファロー terastation nas",
    "apc:network_management_card": "apc ups nmc",
    "canon:imagerunner": "キヤノン 複合機",
    "fujifilm:apeosport-vi": "富士フイルム 富士ゼロックス 複合機 apeosport",
    "ricoh:d5520_firmware": "リコー 複合機",
    "hp:laserjet_pro_m304-m305_w1a47a_firmware": "laserjet プリンタ",
    "philips:intellivue_mx450_firmware": "フィリップス 生体情報モニタ intellivue",
    "baxter:sigma_spectrum_infusion_system_firmware": "バクスター 輸液ポンプ",
    "bd:alaris_gh_firmware": "alaris 輸液ポンプ シリンジポンプ",
    "gehealthcare:venue_firmware": "超音波 エコー",
    "philips:intellispace_portal": "pacs ビューア",
    "offis:dcmtk": "dicom",
    "draeger:infinity_delta_firmware": "ドレーゲル 人工呼吸器 麻酔器",
    "philips:brilliance_firmware_64": "ct",
}

# Products named in the families list without a CPE (the manual vulnerability path), with search words.
NO_CPE = {
    "Nihon Kohden bedside monitor": ("nihon_kohden", "bedside_monitor", "Nihon Kohden bedside monitor (CSM/BSM series)",
                                     "日本光電 ベッドサイドモニタ 生体情報モニタ csm bsm"),
    "Fukuda Denshi DS-series": ("fukuda_denshi", "ds-series", "Fukuda Denshi DS series patient monitor",
                                "フクダ電子 ds 生体情報モニタ"),
    "GE CARESCAPE B450/B650": ("ge_healthcare", "carescape", "GE HealthCare CARESCAPE B450/B650",
                               "carescape b450 b650 ge 生体情報モニタ"),
    "Terumo pump management system": ("terumo", "pump_management_system", "Terumo pump management system",
                                      "テルモ 輸液ポンプ シリンジポンプ"),
}

# Alternatives named in the families' notes, common OS names, and nmap's names for products the NVD
# dictionary files under another vendor (alias_of → the dictionary's name).
CURATED = [
    # part, vendor, product, title, keywords, alias_of
    ("o", "microsoft", "windows_10", "Microsoft Windows 10", "win10 windows10", ""),
    ("o", "microsoft", "windows_11", "Microsoft Windows 11", "win11 windows11", ""),
    ("o", "microsoft", "windows_11_22h2", "Microsoft Windows 11 22H2", "win11 windows11", ""),
    ("o", "microsoft", "windows_11_24h2", "Microsoft Windows 11 24H2", "win11 windows11", ""),
    ("o", "microsoft", "windows_10_21h2", "Microsoft Windows 10 21H2", "win10 windows10", ""),
    ("o", "microsoft", "windows_10_21h1", "Microsoft Windows 10 21H1", "win10 windows10", ""),
    ("o", "microsoft", "windows_server_2008", "Microsoft Windows Server 2008", "", ""),
    ("o", "microsoft", "windows_server_2012", "Microsoft Windows Server 2012", "", ""),
    ("o", "microsoft", "windows_xp", "Microsoft Windows XP", "winxp", ""),
    ("o", "canonical", "ubuntu_linux", "Canonical Ubuntu Linux", "ubuntu", ""),
    ("o", "debian", "debian_linux", "Debian GNU/Linux", "debian", ""),
    ("a", "citrix", "workspace", "Citrix Workspace app", "citrix vdi", ""),
    ("a", "trendmicro", "officescan", "Trend Micro OfficeScan", "ウイルスバスター ウイルス対策", ""),
    ("a", "skysea", "client_view", "SKYSEA Client View (alias)", "skysea", "skygroup:skysea_client_view"),
    ("a", "pulsesecure", "pulse_connect_secure", "Pulse Connect Secure (former name)", "pulse secure",
     "ivanti:connect_secure"),
    ("o", "synology", "diskstation_manager", "Synology DiskStation Manager", "dsm nas", ""),
    ("o", "qnap", "qts", "QNAP QTS", "nas", ""),
    ("h", "fortinet", "fortigate-100f", "Fortinet FortiGate 100F", "fortigate", ""),
    ("h", "yamaha", "rtx1210", "YAMAHA RTX1210", "ヤマハ ルータ", ""),
    ("h", "yamaha", "rtx830", "YAMAHA RTX830", "ヤマハ ルータ", ""),
    ("h", "philips", "intellivue_mx450", "Philips IntelliVue MX450", "生体情報モニタ", ""),
    ("h", "baxter", "sigma_spectrum_infusion_system", "Baxter Sigma Spectrum infusion system", "輸液ポンプ", ""),
    ("h", "draeger", "infinity_delta", "Draeger Infinity Delta", "", ""),
    ("a", "canon", "medical_vitrea_view", "Canon Medical Vitrea View", "pacs ビューア", ""),
    ("a", "igor_sysoev", "nginx", "nginx (nmap's name)", "nginx", "f5:nginx"),
    ("a", "f5", "nginx", "F5 nginx", "nginx", ""),
    ("a", "mysql", "mysql", "MySQL (nmap's name)", "mysql", "oracle:mysql"),
]
NO_CPE_EXTRA = [
    ("fujifilm", "synapse", "FUJIFILM Synapse PACS", "富士フイルム pacs synapse"),
]

_SOURCE_FAMILIES = "hospital-cpe-families"


def _title(vendor: str, product: str) -> str:
    def words(text: str) -> str:
        return " ".join(part.capitalize() if part.islower() else part for part in text.replace("_", " ").split())

    return f"{words(vendor)} {words(product)}"


def _identity(cpe23: str) -> tuple[str, str, str]:
    cpe = parse_cpe23(cpe23).lower()
    return cpe.part, cpe.vendor, cpe.product


def build(shared: Path) -> list[dict[str, str]]:
    rows: dict[tuple[str, str, str], dict[str, str]] = {}

    def add(part: str, vendor: str, product: str, **values: str) -> None:
        key = (part, vendor, product)
        if key in rows:
            for name, value in values.items():
                if value and not rows[key].get(name):
                    rows[key][name] = value
            return
        row = dict.fromkeys(COLUMNS, "")
        row.update(part=part, vendor=vendor, product=product, no_cpe="0")
        row.update({k: v for k, v in values.items() if v})
        if not row["title"]:
            row["title"] = _title(vendor, product)
        if not row["template"] and row["no_cpe"] == "0":
            row["template"] = f"cpe:2.3:{part}:{vendor}:{product}:{{v}}:*:*:*:*:*:*:*"
        rows[key] = row

    with (shared / "ledger" / "hospital-cpe-families.csv").open(encoding="utf-8", newline="") as handle:
        for family in csv.DictReader(handle):
            template = family["cpe23_template"].strip()
            if template.startswith("(no CPE)"):
                label = template.removeprefix("(no CPE)").strip()
                for prefix, (vendor, product, title, keywords) in NO_CPE.items():
                    if label.startswith(prefix):
                        add("", vendor, product, title=title, keywords=keywords, no_cpe="1", checked="n/a",
                            category=family["category"], source=_SOURCE_FAMILIES)
                continue
            part, vendor, product = _identity(template.replace("{v}", "*"))
            add(part, vendor, product, keywords=KEYWORDS.get(f"{vendor}:{product}", ""), template=template,
                versions=family["example_versions"].replace("\\", ""), category=family["category"],
                checked="yes" if family["in_bundled_nvd_or_cve5_data"] == "yes" else "no",
                source=_SOURCE_FAMILIES)
    for vendor, product, title, keywords in NO_CPE_EXTRA:
        add("", vendor, product, title=title, keywords=keywords, no_cpe="1", checked="n/a", category="medical",
            source=_SOURCE_FAMILIES + " (notes)")
    for part, vendor, product, title, keywords, alias_of in CURATED:
        add(part, vendor, product, title=title, keywords=keywords, alias_of=alias_of, checked="no", source="curated")

    titles: dict[tuple[str, str, str], str] = {}
    found: set[tuple[str, str, str]] = set()
    for path in sorted([*(shared / "nvd" / "api2-fixtures").rglob("*.json"),
                        *(shared / "nvd" / "legacy-1.1" / "fixtures").rglob("*.json")]):
        text = path.read_text(encoding="utf-8")
        data = json.loads(text)
        for product in data.get("products", []) if isinstance(data, dict) else []:
            cpe = product.get("cpe", {})
            english = [t["title"] for t in cpe.get("titles", []) if t.get("lang") == "en"]
            if cpe.get("cpeName") and english:
                titles.setdefault(_identity(cpe["cpeName"]), re.sub(r"\s+\S*\d\S*(\s+for\s+\S+)?$", "", english[0]))
        for match in re.finditer(r"cpe:2\.3:[aoh](?::(?:\\.|[^:\"\\])*){10}", text):
            try:
                found.add(_identity(match.group(0).replace("\\\\", "\\")))
            except ValueError:
                continue
    for part, vendor, product in sorted(found):
        add(part, vendor, product, title=titles.get((part, vendor, product), ""), source="nvd-fixtures")
        rows[(part, vendor, product)]["checked"] = "yes"  # the name occurs in NVD data

    for path in sorted((shared / "nmap").glob("*.xml")):
        for match in re.finditer(r"<cpe>(cpe:/[^<]+)</cpe>", path.read_text(encoding="utf-8")):
            try:
                part, vendor, product = _identity(cpe22_to_23(match.group(1)))
            except ValueError:
                continue
            add(part, vendor, product, checked="no", source="nmap-samples")
    return sorted(rows.values(), key=lambda r: (r["source"] != _SOURCE_FAMILIES, r["part"], r["vendor"], r["product"]))


def main() -> None:
    shared = Path(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data")
    rows = build(shared)
    target = HERE / "cpe-vocabulary.csv"
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"{target}: {len(rows)} products")


if __name__ == "__main__":
    main()
