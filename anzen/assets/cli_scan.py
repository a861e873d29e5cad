"""`anzen assets reconcile SCAN.xml [--institution CODE] [--range CIDR …] [--json]`: import an nmap XML
scan for an institution, reconcile it with the ledger, print the counts and the lists of matched,
changed, unregistered and missing devices. Exit status 0 when imported, 1 when the file was refused."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(commands: Any) -> None:
    """Add the scan subcommands to `anzen assets`."""
    from django.utils.translation import gettext as _

    from anzen.cli.base import add_json_flag

    parser = commands.add_parser("reconcile", help=_("nmap の XML を取り込み、台帳と突合する"))
    parser.add_argument("file", metavar="SCAN.xml", help=_("nmap -oX で出力したファイル"))
    parser.add_argument("--institution", metavar="CODE_OR_ID", help=_("医療機関等のコードまたは ID"))
    parser.add_argument("--range", dest="ranges", action="append", metavar="CIDR",
                        help=_("スキャンした範囲（省略時は nmap の引数から読み取る。複数指定可）"))
    add_json_flag(parser)
    parser.set_defaults(handler=reconcile_run)


def _report(scan: Any) -> dict[str, Any]:
    from anzen.assets import scan_report
    from anzen.assets.models import ScanHost

    hosts: dict[str, list[dict[str, Any]]] = {"matched": [], "changed": [], "unregistered": []}
    rows = ScanHost.objects.filter(scan=scan).select_related("device").order_by("ip", "pk")
    for host in rows.iterator(chunk_size=2000):
        entry: dict[str, Any] = {"ip": host.ip, "mac": host.mac, "vendor": host.mac_vendor, "hostname": host.hostname,
                                 "os": host.os_guess,
                                 "services": [scan_report.service_text(s) for s in host.services]}
        if host.device_id:
            entry.update(device_id=host.device_id, device=host.device.hostname if host.device else "",
                         matched_by=host.matched_by)
        if host.changes:
            entry["changes"] = host.changes
        hosts[host.outcome].append(entry)
    missing = [{"device_id": device.pk, "hostname": device.hostname, "ip": device.ip, "mac": device.mac,
                "location": device.location}
               for device in scan_report.missing_devices(scan, scan_report.missing_ids(scan))]
    summary = scan.summary or {}
    return {"scan_id": scan.pk, "name": scan.name, "sha256": scan.sha256, "scanner": scan.scanner,
            "started_at": scan.started_at.isoformat() if scan.started_at else None,
            "institution": scan.institution.code, "counts": summary.get("counts", {}),
            "ranges": summary.get("ranges", {}), **hosts, "missing": missing}


def _human(data: dict[str, Any]) -> str:
    from django.utils.translation import gettext as _

    counts = data["counts"]
    lines = [
        _("スキャン #%(id)s %(name)s（%(scanner)s）を取り込みました。") % {
            "id": data["scan_id"], "name": data["name"], "scanner": data["scanner"] or "-"},
        _("範囲: %(ranges)s") % {"ranges": ", ".join(data["ranges"].get("ranges", [])) or "-"},
        _("応答 %(hosts)s 台: 一致 %(matched)s、変更あり %(changed)s、未登録 %(unregistered)s／未検出 %(missing)s") % {
            "hosts": counts.get("hosts", 0), "matched": counts.get("matched", 0),
            "changed": counts.get("changed", 0), "unregistered": counts.get("unregistered", 0),
            "missing": counts.get("missing", 0)},
    ]
    for key, title in (("unregistered", _("未登録機器")), ("changed", _("変更あり")), ("missing", _("未検出"))):
        if data[key]:
            lines.append(f"[{title}]")
        for entry in data[key]:
            detail = " ".join(str(c.get("field")) for c in entry.get("changes", []))
            lines.append(f"  {entry.get('ip') or '-':<16} {entry.get('mac') or '-':<17} "
                         f"{entry.get('hostname') or '-':<24} {entry.get('vendor') or entry.get('location') or ''}"
                         f"{(' ' + detail) if detail else ''}".rstrip())
    return "\n".join(lines)


def reconcile_run(args: argparse.Namespace) -> int:
    from django.core.exceptions import ValidationError
    from django.utils.translation import gettext as _

    from anzen.assets import services_scan
    from anzen.assets.cli import institution_of
    from anzen.cli.base import CliError, cli_context, emit
    from anzen.common.permissions import Actor

    path = Path(args.file)
    if not path.is_file():
        raise CliError(_("ファイルが見つかりません: %(path)s") % {"path": path})
    institution = institution_of(args.institution)
    try:
        with cli_context("assets-reconcile"), path.open("rb") as handle:
            scan = services_scan.scan_import(actor=Actor.system(), stream=handle, name=path.name,
                                             institution=institution, ranges=args.ranges)
    except ValidationError as error:
        raise CliError(" ".join(error.messages)) from None
    emit(args, _report(scan), _human)
    return 0
