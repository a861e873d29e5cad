"""Forms of the vulnerability watch (thin: validation of input; the rules live in the services)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from anzen.assets.models import DeviceKind
from anzen.vulns import contracts, lifecycle
from anzen.vulns.models_watch import Confidence, NoticeResponse

DATE = forms.DateInput(attrs={"type": "date"})


class FindingFilterForm(forms.Form):
    q = forms.CharField(label=_("検索"), required=False, max_length=200)
    severity = forms.ChoiceField(label=_("深刻度"), required=False, choices=[
        ("", _("すべて")), ("critical", _("緊急")), ("high", _("重要")), ("medium", _("警告")), ("low", _("注意")),
        ("none", _("なし")), ("unscored", _("未評価"))])
    status = forms.ChoiceField(label=_("状態"), required=False, choices=[
        ("open", _("対応中（新規・通知済み・回答あり）")), ("closed", _("対応済み")), ("all", _("すべて")),
        *[(key, label) for key, label in lifecycle.STATUS_LABELS.items()]])
    confidence = forms.ChoiceField(label=_("確度"), required=False,
                                   choices=[("", _("すべて")), *Confidence.choices])
    kev = forms.ChoiceField(label=_("KEV"), required=False,
                            choices=[("", _("すべて")), ("yes", _("KEV のみ")), ("no", _("KEV 以外"))])
    system = forms.TypedChoiceField(label=_("システム"), required=False, coerce=int, empty_value=None)
    vendor = forms.TypedChoiceField(label=_("事業者"), required=False, coerce=int, empty_value=None)
    cve = forms.CharField(label=_("CVE ID"), required=False, max_length=40)
    sort = forms.ChoiceField(label=_("並び順"), required=False, choices=[
        ("severity", _("KEV・スコア順")), ("device", _("機器順")), ("cve", _("CVE ID 順")),
        ("first_seen", _("検出の新しい順")), ("status", _("状態順")), ("confidence", _("確度順"))])

    def __init__(self, *args: Any, systems: list[tuple[int, str]] = (), vendors: list[tuple[int, str]] = (),
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["system"].choices = [("", _("すべて")), *systems]
        self.fields["vendor"].choices = [("", _("すべて")), *vendors]


class FindingStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("新しい状態"), choices=[
        (key, lifecycle.STATUS_LABELS[key]) for key in (lifecycle.MITIGATED, lifecycle.RISK_ACCEPTED,
                                                         lifecycle.FALSE_POSITIVE, lifecycle.FIXED, lifecycle.NEW)])
    note = forms.CharField(label=_("対応・理由"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
                           max_length=4000)
    until = forms.DateField(label=_("リスク受容の期限（見直し日）"), required=False, widget=DATE)


class NoticeAnswerForm(forms.Form):
    affected = forms.ChoiceField(label=_("影響"), choices=NoticeResponse.Affected.choices,
                                 widget=forms.RadioSelect)
    countermeasure = forms.CharField(label=_("対応策"), required=False, max_length=8000,
                                     widget=forms.Textarea(attrs={"rows": 4}),
                                     help_text=_("パッチ・ファームウェア更新、設定変更、回避策など"))
    scheduled_on = forms.DateField(label=_("実施予定日"), required=False, widget=DATE)
    text = forms.CharField(label=_("コメント"), required=False, max_length=8000,
                           widget=forms.Textarea(attrs={"rows": 3}))
    evidence = forms.FileField(label=_("添付ファイル（任意）"), required=False,
                               help_text=_("PDF・PNG・JPEG・Excel・Word・CSV・テキスト"))


class NoticeReviewForm(forms.Form):
    decision = forms.ChoiceField(label=_("確認結果"), choices=[("accept", _("受理する")), ("return", _("差し戻す"))],
                                 widget=forms.RadioSelect)
    text = forms.CharField(label=_("コメント"), required=False, max_length=4000,
                           widget=forms.Textarea(attrs={"rows": 3}))


class NoticeWithdrawForm(forms.Form):
    text = forms.CharField(label=_("取下げの理由"), max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))


class WatchItemForm(forms.Form):
    sources = forms.CharField(label=_("確認先"), required=False, max_length=300,
                              help_text=_("JVN、製造元のお知らせ、事業者の MDS/SDS など"))
    last_checked = forms.DateField(label=_("最終確認日"), required=False, widget=DATE)
    notes = forms.CharField(label=_("メモ"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))


RULE_ROWS = 3


class ContractForm(forms.Form):
    """A contract with its coverage and up to three notification rules (blank rows are ignored)."""

    vendor = forms.TypedChoiceField(label=_("事業者"), coerce=int)
    title = forms.CharField(label=_("契約名"), max_length=200)
    reference = forms.CharField(label=_("契約番号"), required=False, max_length=100)
    valid_from = forms.DateField(label=_("契約開始日"), required=False, widget=DATE)
    valid_until = forms.DateField(label=_("契約終了日"), required=False, widget=DATE)
    is_active = forms.BooleanField(label=_("有効"), required=False, initial=True)
    cover_vendor_systems = forms.BooleanField(
        label=_("この事業者が提供・リモート保守するシステムの機器を対象にする"), required=False, initial=True)
    device_kinds = forms.MultipleChoiceField(label=_("対象とする機器の種類（すべての機器）"), required=False,
                                             choices=DeviceKind.choices, widget=forms.CheckboxSelectMultiple)
    systems = forms.TypedMultipleChoiceField(label=_("対象のシステム"), required=False, coerce=int,
                                             widget=forms.CheckboxSelectMultiple)
    score_source = forms.ChoiceField(label=_("採用するスコア"), choices=list(contracts.SCORE_SOURCES.items()),
                                     initial="chosen")
    include_possible = forms.BooleanField(label=_("「可能性あり」の検出も通知する"), required=False, initial=True)
    notes = forms.CharField(label=_("備考"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, vendors: list[tuple[int, str]] = (), systems: list[tuple[int, str]] = (),
                 vendor_fixed: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["vendor"].choices = list(vendors)
        if vendor_fixed:
            self.fields["vendor"].disabled = True
        self.fields["systems"].choices = list(systems)
        for index in range(RULE_ROWS):
            self.fields[f"rule{index}_level"] = forms.ChoiceField(
                label=_("通知の種類"), required=False,
                choices=[("", "—"), *[(key, label) for key, label in contracts.LEVEL_LABELS.items()]])
            self.fields[f"rule{index}_min_score"] = forms.DecimalField(
                label=_("CVSS しきい値（以上）"), required=False, min_value=0, max_value=10, decimal_places=1)
            self.fields[f"rule{index}_report_days"] = forms.IntegerField(label=_("回答期限（日）"), required=False,
                                                                         min_value=0, max_value=3650)
            self.fields[f"rule{index}_countermeasure_days"] = forms.IntegerField(
                label=_("対応策の期限（日）"), required=False, min_value=0, max_value=3650)
            self.fields[f"rule{index}_countermeasure_required"] = forms.BooleanField(label=_("対応策を求める"),
                                                                                     required=False)
            self.fields[f"rule{index}_action"] = forms.CharField(label=_("取り決め（文言）"), required=False,
                                                                 max_length=300)

    def rule_rows(self) -> list[list[Any]]:
        names = ("level", "min_score", "report_days", "countermeasure_days", "countermeasure_required", "action")
        return [[self[f"rule{i}_{name}"] for name in names] for i in range(RULE_ROWS)]

    def main_fields(self) -> list[Any]:
        return [self[name] for name in ("vendor", "title", "reference", "valid_from", "valid_until", "is_active",
                                         "score_source", "include_possible", "notes")]

    def rules(self) -> list[dict[str, Any]]:
        data = self.cleaned_data
        rules = []
        for index in range(RULE_ROWS):
            level = data.get(f"rule{index}_level")
            if not level:
                continue
            rules.append({"level": level, "min_score": data.get(f"rule{index}_min_score"),
                          "report_days": data.get(f"rule{index}_report_days"),
                          "countermeasure_days": data.get(f"rule{index}_countermeasure_days"),
                          "countermeasure_required": bool(data.get(f"rule{index}_countermeasure_required")),
                          "action": data.get(f"rule{index}_action") or ""})
        return rules

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {"title": data["title"], "reference": data["reference"], "valid_from": data["valid_from"],
                "valid_until": data["valid_until"], "is_active": data["is_active"],
                "cover_vendor_systems": data["cover_vendor_systems"], "device_kinds": data["device_kinds"],
                "score_source": data["score_source"], "include_possible": data["include_possible"],
                "notes": data["notes"], "rules": self.rules(), "systems": data["systems"]}

    @staticmethod
    def initial_for(contract: Any | None) -> dict[str, Any]:
        rules = contract.rules if contract is not None else contracts.default_rules_data()
        initial: dict[str, Any] = {}
        if contract is not None:
            initial.update({"vendor": contract.vendor_id, "title": contract.title, "reference": contract.reference,
                            "valid_from": contract.valid_from, "valid_until": contract.valid_until,
                            "is_active": contract.is_active, "cover_vendor_systems": contract.cover_vendor_systems,
                            "device_kinds": contract.device_kinds, "score_source": contract.score_source,
                            "include_possible": contract.include_possible, "notes": contract.notes,
                            "systems": [s.pk for s in contract.systems.all()]})
        for index, rule in enumerate(rules[:RULE_ROWS]):
            for key, value in rule.items():
                initial[f"rule{index}_{key}"] = value
        return initial
