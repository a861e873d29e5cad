"""`anzen orgs ...` and `anzen users ...`: bootstrap a real installation without the web UI."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from anzen.cli.base import CliError, add_json_flag, cli_context, emit


def register(subparsers: Any) -> None:
    from django.utils.translation import gettext as _

    from anzen.accounts.roles import InstitutionType, OrgKind, Role

    orgs = subparsers.add_parser("orgs", help=_("組織の一覧・作成"))
    org_commands = orgs.add_subparsers(dest="orgs_command", metavar=_("操作"))
    org_commands.required = True
    listing = org_commands.add_parser("list", help=_("組織の一覧"))
    add_json_flag(listing)
    listing.set_defaults(handler=orgs_list)
    create = org_commands.add_parser("create", help=_("組織を作成する"))
    create.add_argument("--kind", required=True, choices=list(OrgKind.values), help=_("種別"))
    create.add_argument("--type", dest="institution_type", default="", choices=["", *InstitutionType.values],
                        help=_("施設種別（医療機関等のみ）"))
    create.add_argument("--name", required=True, help=_("名称"))
    create.add_argument("--code", required=True, help=_("識別子（半角英数字とハイフン）"))
    add_json_flag(create)
    create.set_defaults(handler=orgs_create)

    users = subparsers.add_parser("users", help=_("利用者の一覧・作成"))
    user_commands = users.add_subparsers(dest="users_command", metavar=_("操作"))
    user_commands.required = True
    listing = user_commands.add_parser("list", help=_("利用者と所属の一覧"))
    add_json_flag(listing)
    listing.set_defaults(handler=users_list)
    create = user_commands.add_parser("create", help=_("利用者を作成して組織に所属させる"))
    create.add_argument("--username", required=True, help=_("ログインID"))
    create.add_argument("--email", required=True, help=_("メールアドレス"))
    create.add_argument("--name", required=True, help=_("氏名"))
    create.add_argument("--org", required=True, help=_("所属する組織の識別子"))
    create.add_argument("--role", required=True, choices=list(Role.values), help=_("役割"))
    create.add_argument("--password-stdin", action="store_true", help=_("パスワードを標準入力から読む"))
    add_json_flag(create)
    create.set_defaults(handler=users_create)


def orgs_list(args: argparse.Namespace) -> int:
    from anzen.accounts.models import Organisation
    from anzen.accounts.roles import Perm
    from anzen.common.permissions import Actor, scope

    rows = [{"id": o.pk, "code": o.code, "kind": o.kind, "type": o.institution_type, "name": o.name}
            for o in scope(Actor.system(), Organisation.objects.all(), Perm.ORG_VIEW)]
    emit(args, rows, lambda rs: "\n".join(f"{r['id']:>4} {r['code']:<24} {r['kind']:<12} {r['name']}" for r in rs))
    return 0


def orgs_create(args: argparse.Namespace) -> int:
    from django.core.exceptions import ValidationError
    from django.db import IntegrityError

    from anzen.accounts import services

    try:
        with cli_context():
            org = services.organisation_create(kind=args.kind, name=args.name, code=args.code,
                                               institution_type=args.institution_type)
    except (ValidationError, IntegrityError) as error:
        raise CliError("; ".join(getattr(error, "messages", [str(error)]))) from error
    emit(args, {"id": org.pk, "code": org.code}, lambda d: f"{d['id']} {d['code']}")
    return 0


def users_list(args: argparse.Namespace) -> int:
    from anzen.accounts.models import Membership
    from anzen.accounts.roles import Perm
    from anzen.common.permissions import Actor, scope

    memberships = scope(Actor.system(), Membership.objects.select_related("user", "organisation"), Perm.ORG_VIEW)
    rows = [{"username": m.user.username, "name": m.user.display_name, "organisation": m.organisation.code,
             "role": m.role, "active": m.is_active} for m in memberships.order_by("user__username")]
    emit(args, rows, lambda rs: "\n".join(
        f"{r['username']:<20} {r['organisation']:<24} {r['role']:<10} {r['name']}" for r in rs))
    return 0


def users_create(args: argparse.Namespace) -> int:
    from django.conf import settings
    from django.core.exceptions import ValidationError
    from django.db import transaction
    from django.utils.translation import gettext as _

    from anzen.accounts import services
    from anzen.accounts.models import Organisation, User

    org = Organisation.objects.filter(code=args.org).first()
    if org is None:
        raise CliError(_("組織「%(code)s」が見つかりません。") % {"code": args.org})
    if User.objects.filter(username=args.username).exists():
        raise CliError(_("このログインIDは既に使われています。"))
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass(_("パスワード: "))
    expects_mfa = args.role in settings.ANZEN_MFA_REQUIRED_ROLES or org.require_mfa_for_all
    try:
        with cli_context(), transaction.atomic():
            user = services.user_create(username=args.username, email=args.email, display_name=args.name,
                                        password=password, expects_mfa=expects_mfa)
            services.membership_add(user=user, organisation=org, role=args.role)
    except ValidationError as error:
        raise CliError(" ".join(error.messages)) from error
    emit(args, {"username": user.username, "organisation": org.code, "role": args.role},
         lambda d: _("%(u)s を作成しました。") % {"u": d["username"]})
    return 0
