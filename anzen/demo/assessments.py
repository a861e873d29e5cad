"""The demo year of さくら台総合病院（デモ）: where a new user lands.

* last fiscal year's 医療機関確認用: answered (two いいえ fixed in 2回目), evaluated by
  医療情報安全評価センター（デモ） and signed off by the 経営層 user (sakura-manager);
* this fiscal year's 医療機関確認用: copied from last year, answered from the suggestions with dates
  (two いいえ with 目標日), evidence files attached (a ledger extract, the contact chart), submitted,
  and one item (3(1) 連絡体制図) returned by the evaluator with a comment;
* the 事業者確認用 of ひかり電子カルテ and みなとネットワーク保守, submitted through the vendors' accounts
  (みなと's 備考 shift work to the hospital and need a separate quote);
* the MDS/SDS of あおば画像システム's PACS「AobaPACS 3.2」, submitted, with a 備考 「オプション契約で対応」,
  and あおば's 事業者確認用 requested and still in progress (a vendor that has not submitted yet; its
  2(6) はい disagrees with the MDS/SDS 4.3.2 いいえ in the cross-check).

Everything goes through the services as the demo users (each step in the audit context of the user
who acts), so the audit trail and the workflow history read like a real year. Names, products, hosts
and addresses are fictional (IP addresses from the documentation range 192.0.2.0/24).
Loading is skipped when the demo hospital already has assessments: a second run adds nothing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from anzen.accounts.models import Membership, Organisation
from anzen.assessments import services, structure, suggestions
from anzen.assessments.models import Answer, Assessment, SubjectKind
from anzen.assessments.services_copy import assessment_copy_previous, newest_edition
from anzen.common.context import acting, context_for, current
from anzen.common.permissions import Actor
from anzen.common.wareki import fiscal_year_of
from anzen.library.models import Edition, Framework, RequirementNode

CHECKLIST = "mhlw-cyber-checklist"
MDS_SDS = "jahis-mds-sds"
EVALUATOR = "demo-evaluator"
VENDORS = {"hikari": "demo-hikari-ehr", "minato": "demo-minato-net", "aoba": "demo-aoba-pacs"}
PACS = "AobaPACS 3.2"

# Items answered いいえ at first: last year (fixed in 2回目) and this year (目標日 within the year).
LAST_YEAR_NO = {
    "H-2-9-server": "不要なサービスの棚卸しを保守事業者と実施する。",
    "H-3-3": "サイバー攻撃を想定したBCPを情報システム委員会で策定する。",
}
THIS_YEAR_NO = {  # node id → (対応策, 備考, which 目標日)
    "H-R7-2fa": ("電子カルテ更新（令和9年度予定）に合わせて二要素認証を導入する。",
                 "現行システムは ID・パスワードのみ。", "year_end"),
    "H-R7-usb": ("USBストレージの接続制限を資産管理ソフトで設定する。", "一部の端末で接続制限が未設定。", "target"),
}
RETURNED_ITEM = "H-3-1"
RETURN_COMMENT = ("連絡体制図の最終更新日と、夜間・休日の連絡先（事業者を含む）が確認できません。"
                  "最新版を添付してください。")
VENDOR_REMARKS = {
    "hikari": {"V-2-2": "リモート保守はVPN装置経由で、作業ごとに病院の承認を得て接続しています。"},
    "minato": {
        "V-2-2": "リモート保守回線は病院で用意される回線を利用します。",
        "V-2-4-server": "サーバは施設ご提供の機器のため、アカウント設定は病院側の運用で実施してください。",
        "V-R7-patch-all": "ネットワーク機器のファームウェア更新は保守契約外です（別途お見積り）。",
    },
}
VENDOR_NO = {"minato": {"V-R7-patch-all": "次回契約更新時に更新作業を契約に含める。"}}
VENDOR_IN_PROGRESS = {"aoba": ("V-1-1", "V-2-2", "V-2-3", "V-2-4-server", "V-2-6-server")}  # answered so far
MDS_ANSWERS = {  # node id → (value, 備考); items not listed are はい (該当 for 該当/非該当 items)
    "2": ("na", "端末は医療機関の調達品です。覗き見防止フィルタの利用をご検討ください。"),
    "4.1-b": ("no", ""),
    "4.1-c": ("no", ""),
    "4.1-d": ("no", "二要素認証には対応していません（次期バージョンで対応予定）。"),
    "4.1-e": ("na", ""),
    "4.1.1": ("yes", "パスワードの強度は上位システム（電子カルテ）の管理に依存します。"),
    "4.1.2": ("na", ""),
    "4.3.2": ("no", "アクセスログの閲覧制限はサーバOSの権限設定で行ってください。"),
    "5": ("yes", "ご施設のNTPサーバと時刻同期します。"),
    "7": ("na", "無線LANは使用しません。"),
    "11": ("yes", "非常時アカウントはオプション契約で対応"),
    "12.3.1.1-a": ("not_applicable", ""),
    "12.3.1.1-b": ("not_applicable", ""),
    "12.3.1.1-c": ("not_applicable", ""),
}
LEDGER = (
    "機器名,種別,設置場所,OS,IPアドレス,管理者\r\n"
    "EHR-SV01,電子カルテサーバ,サーバ室,Windows Server 2022,192.0.2.10,情報システム課\r\n"
    "PACS-SV01,画像サーバ,サーバ室,Windows Server 2019,192.0.2.20,放射線科・情報システム課\r\n"
    "VPN-GW01,VPN装置,サーバ室,ファームウェア 9.1,192.0.2.1,情報システム課\r\n"
)
CONTACT_CHART = (
    "さくら台総合病院（デモ） サイバー攻撃発生時の連絡体制図（抜粋）\n"
    "発見者 → 情報システム課（内線 1234）→ 医療情報システム安全管理責任者 → 院長\n"
    "事業者: ひかり電子カルテ（電子カルテ）、みなとネットワーク保守（ネットワーク）、あおば画像システム（PACS）\n"
    "外部: 厚生労働省、警察（サイバー犯罪相談窓口）\n"
)


def _membership(username: str) -> Membership:
    return Membership.objects.select_related("user", "organisation").get(user__username=username, is_active=True)


@contextlib.contextmanager
def _as(username: str) -> Iterator[Actor]:
    """Act as a demo user: the services check that user's rights, the audit trail names them."""
    membership = _membership(username)
    with acting(context_for(membership.user, membership.organisation, source=current().source)):
        yield Actor(membership.user, membership)


def _items(assessment: Assessment) -> list[RequirementNode]:
    return [node for node in structure.form_nodes(assessment) if structure.is_answerable(node)]


def _default(node: RequirementNode) -> str:
    values = [value for value, _label in structure.options_of(node)]
    for preferred in ("yes", "applicable"):
        if preferred in values:
            return preferred
    return values[0]


def _dates(fiscal_year: int, today: dt.date) -> dict[str, dt.date]:
    """Answer dates inside the fiscal year and not after today; 目標日 before the year ends."""
    start, end = dt.date(fiscal_year, 4, 1), dt.date(fiscal_year + 1, 3, 31)
    answered = max(start, min(today, dt.date(fiscal_year, 6, 20)))
    target = min(end, max(answered + dt.timedelta(days=120), today + dt.timedelta(days=20)))
    return {"answered": answered, "target": max(target, answered), "year_end": end,
            "due": answered + dt.timedelta(days=60), "second": min(end, answered + dt.timedelta(days=150))}


def _last_year(hospital: Organisation, evaluator: Organisation, edition: Edition, fiscal_year: int) -> Assessment:
    days = _dates(fiscal_year, dt.date(fiscal_year + 1, 3, 31))
    with _as("sakura-staff") as staff:
        last = services.assessment_create(actor=staff, edition=edition, subject_kind=SubjectKind.INSTITUTION,
                                          fiscal_year=fiscal_year, evaluator=evaluator, due_date=days["due"])
        for node in _items(last):
            fields: dict[str, Any] = {"round1_value": _default(node), "round1_date": days["answered"]}
            if node.node_id in LAST_YEAR_NO:
                fields.update(round1_value="no", target_date=days["target"], round2_value="yes",
                              round2_date=days["second"], countermeasure=LAST_YEAR_NO[node.node_id])
            services.answer_set(actor=staff, assessment=last, node=node, **fields)
        services.assessment_submit(actor=staff, assessment=last, comment="年度の確認結果を提出します。")
    with _as("eval-evaluator") as reviewer:
        services.assessment_start_review(actor=reviewer, assessment=last)
        services.assessment_accept(actor=reviewer, assessment=last, comment="エビデンスと照合し、受理します。")
    with _as("sakura-manager") as manager:
        services.assessment_sign_off(actor=manager, assessment=last)
    return last


def _evidence(actor: Actor, answer: Answer, name: str, text: str, title: str, day: dt.date) -> None:
    upload = SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/plain")
    services.evidence_add_file(actor=actor, answer=answer, uploaded_file=upload, title=title, effective_date=day)


def _this_year(last: Assessment, fiscal_year: int, today: dt.date) -> Assessment:
    days = _dates(fiscal_year, today)
    with _as("sakura-staff") as staff:
        this = assessment_copy_previous(actor=staff, previous=last, fiscal_year=fiscal_year)
        services.assessment_update(actor=staff, assessment=this, due_date=days["due"])
        found = suggestions.suggestions_for(staff, this)
        answers: dict[str, Answer] = {}
        for node in _items(this):
            previous = next((s for s in found.get(node.pk, []) if s.origin == "previous_year"), None)
            fields: dict[str, Any] = {"round1_value": _default(node), "round1_date": days["answered"]}
            if node.node_id in THIS_YEAR_NO:
                countermeasure, remarks, target = THIS_YEAR_NO[node.node_id]
                fields.update(round1_value="no", target_date=days[target], countermeasure=countermeasure,
                              remarks=remarks)
            provenance = None
            if previous is not None and previous.proposed_value == fields["round1_value"]:
                provenance = {**previous.provenance(), "confirmed_value": previous.proposed_value,
                              "confirmed_on": days["answered"].isoformat(), "confirmed_by": "sakura-staff"}
            answers[node.node_id] = services.answer_set(actor=staff, assessment=this, node=node,
                                                        provenance=provenance, **fields)
        if "H-2-1" in answers:
            _evidence(staff, answers["H-2-1"], "機器台帳_抜粋.csv", LEDGER, "機器台帳（抜粋）", days["answered"])
        if RETURNED_ITEM in answers:
            _evidence(staff, answers[RETURNED_ITEM], "連絡体制図.txt", CONTACT_CHART, "連絡体制図",
                      days["answered"])
        services.assessment_submit(actor=staff, assessment=this, comment="今年度の1回目の確認結果を提出します。")
    with _as("eval-evaluator") as reviewer:
        services.assessment_start_review(actor=reviewer, assessment=this)
        for node_id, answer in answers.items():
            if node_id == RETURNED_ITEM:
                services.item_review(actor=reviewer, answer=answer, result="return", text=RETURN_COMMENT)
            elif node_id in ("H-0", "H-1-1", "H-2-1"):
                services.item_review(actor=reviewer, answer=answer, result="accept")
        services.assessment_return(actor=reviewer, assessment=this,
                                   comment="3(1) の連絡体制図を確認してください。ほかの確認は継続します。")
    return this


def _vendor_form(key: str, edition: Edition, fiscal_year: int, today: dt.date) -> Assessment:
    days = _dates(fiscal_year, today)
    vendor = Organisation.objects.get(code=VENDORS[key])
    with _as("sakura-staff") as staff:
        form = services.assessment_create(actor=staff, edition=edition, subject_kind=SubjectKind.VENDOR,
                                          fiscal_year=fiscal_year, respondent=vendor, due_date=days["due"])
    in_progress = VENDOR_IN_PROGRESS.get(key)
    with _as(f"{key}-vendor") as answerer:
        for node in _items(form):
            if in_progress is not None and node.node_id not in in_progress:
                continue
            fields: dict[str, Any] = {"round1_value": _default(node), "round1_date": days["answered"],
                                      "remarks": VENDOR_REMARKS.get(key, {}).get(node.node_id, "")}
            if node.node_id in VENDOR_NO.get(key, {}):
                fields.update(round1_value="no", target_date=days["target"],
                              countermeasure=VENDOR_NO[key][node.node_id])
            services.answer_set(actor=answerer, assessment=form, node=node, **fields)
        if in_progress is None:
            services.assessment_submit(actor=answerer, assessment=form)
    return form


def _mds_sds(edition: Edition, fiscal_year: int, today: dt.date) -> Assessment:
    days = _dates(fiscal_year, today)
    vendor = Organisation.objects.get(code=VENDORS["aoba"])
    with _as("sakura-staff") as staff:
        mds = services.assessment_create(actor=staff, edition=edition, subject_kind=SubjectKind.SYSTEM,
                                         fiscal_year=fiscal_year, respondent=vendor, subject_label=PACS,
                                         due_date=days["due"])
    with _as("aoba-vendor") as answerer:
        for node in _items(mds):
            value, remarks = MDS_ANSWERS.get(node.node_id, (_default(node), ""))
            services.answer_set(actor=answerer, assessment=mds, node=node, round1_value=value, remarks=remarks)
        services.assessment_submit(actor=answerer, assessment=mds, comment=f"{PACS} の開示書を提出します。")
    return mds


def _current_edition(key: str, fiscal_year: int) -> Edition | None:
    framework = Framework.objects.filter(key=key).first()
    return newest_edition(framework.pk, fiscal_year) if framework else None


def load_demo_year(hospital: Organisation, *, today: dt.date | None = None) -> dict[str, Any]:
    """Create the demo year once; returns what was made (nothing when the hospital has assessments)."""
    today = today or timezone.localdate()
    fiscal_year = fiscal_year_of(today)
    if Assessment.objects.filter(institution=hospital).exists():
        return {"created": False, "fiscal_year": fiscal_year}
    last_edition = _current_edition(CHECKLIST, fiscal_year - 1)
    this_edition = _current_edition(CHECKLIST, fiscal_year)
    mds_edition = _current_edition(MDS_SDS, fiscal_year)
    if last_edition is None or this_edition is None or mds_edition is None:
        return {"created": False, "fiscal_year": fiscal_year, "skipped": "library not loaded"}
    evaluator = Organisation.objects.get(code=EVALUATOR)
    last = _last_year(hospital, evaluator, last_edition, fiscal_year - 1)
    this = _this_year(last, fiscal_year, today)
    forms = [_vendor_form(key, this_edition, fiscal_year, today) for key in ("hikari", "minato")]
    mds = _mds_sds(mds_edition, fiscal_year, today)
    forms.append(_vendor_form("aoba", this_edition, fiscal_year, today))
    return {"created": True, "fiscal_year": fiscal_year,
            "assessments": [a.pk for a in (last, this, *forms, mds)]}
