"""`anzen assets …`: the ledger (list; export in `cli_export`), the import (`cli_import`) and the scans
(`cli_scan`).

The CLI acts as `Actor.system()` (shell access to the database already implies every right) but reads
through the same selectors as the screens.
"""

from __future__ import annotations

import argparse
from typing import Any

from anzen.cli.base import CliError, add_json_flag, emit


def register(subparsers: Any) -> None:
    from django.utils.translation import gettext as _

    from anzen.assets import cli_export, cli_import, cli_scan

    parser = subparsers.add_parser("assets", help=_("機器台帳（一覧・出力・取込・スキャン突合）"))
    commands = parser.add_subparsers(dest="assets_command", metavar=_("操作"))
    commands.required = True

    listing = commands.add_parser("list", help=_("機器台帳の一覧"))
    listing.add_argument("--institution", metavar="CODE_OR_ID", help=_("医療機関等のコードまたは ID"))
    add_json_flag(listing)
    listing.set_defaults(handler=list_run)

    cli_export.register(commands)
    cli_import.register(commands)
    cli_scan.register(commands)


def institution_of(value: str | None) -> Any:
    """The institution named by code or id; the only one when there is just one; else an error."""
    from django.utils.translation import gettext as _

    from anzen.accounts.models import Organisation
    from anzen.accounts.roles import OrgKind

    institutions = Organisation.objects.filter(kind=OrgKind.INSTITUTION)
    if value:
        found = institutions.filter(code=value).first()
        if found is None and value.isdigit():
            found = institutions.filter(pk=int(value)).first()
        if found is None:
            raise CliError(_("医療機関等「%(value)s」が見つかりません（コードまたは ID を指定してください）")
                           % {"value": value})
        return found
    candidates = list(institutions[:2])
    if len(candidates) != 1:
        raise CliError(_("医療機関等を --institution で指定してください。"))
    return candidates[0]


def list_run(args: argparse.Namespace) -> int:
    from django.utils.translation import gettext as _

    from anzen.assets import selectors
    from anzen.common.permissions import Actor

    institution = institution_of(args.institution)
    rows = [{
        "id": device.pk, "kind": device.kind, "hostname": device.hostname, "owner": device.owner,
        "os": device.os_name, "os_version": device.os_version, "payment_class": device.payment_class,
        "model": device.model_name, "manufacturer": device.manufacturer, "serial": device.serial,
        "mac": device.mac, "ip": device.ip, "vlan": device.vlan, "location": device.location, "outlet": device.outlet,
        "first_registered": device.first_registered.isoformat() if device.first_registered else None,
        "status": device.status, "remote_maintenance": device.remote_maintenance,
        "last_patch_date": device.last_patch_date.isoformat() if device.last_patch_date else None,
    } for device in selectors.devices(Actor.system(), institution=institution.pk).iterator(chunk_size=2000)]

    def human(data: list[dict[str, Any]]) -> str:
        if not data:
            return _("機器は登録されていません。")
        lines = [f"{row['id']:>6}  {row['kind']:<8} {row['hostname'] or '-':<24} {row['ip'] or '-':<16} "
                 f"{row['mac'] or '-':<17} {row['status']}" for row in data]
        return "\n".join([*lines, _("%(count)s 台") % {"count": len(data)}])

    emit(args, rows, human)
    return 0
