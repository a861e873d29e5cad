"""Forms of the assessment screens. They validate input shapes only; the rules live in services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from anzen.accounts.models import Organisation
from anzen.assessments import rules
from anzen.assessments.models import Status, SubjectKind
from anzen.library.models import Edition, RequirementNode


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class FilterForm(forms.Form):
    fiscal_year = forms.TypedChoiceField(label=_("年度"), required=False, coerce=int, empty_value=None)
    subject_kind = forms.ChoiceField(label=_("種類"), required=False,
                                     choices=[("", _("すべて")), *SubjectKind.choices])
    status = forms.ChoiceField(label=_("状態"), required=False, choices=[("", _("すべて")), *Status.choices])

    def __init__(self, *args: Any, years: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["fiscal_year"].choices = [("", _("すべて")), *[(y, f"{y}") for y in years]]


def form_choices(editions: list[Edition], forms_by_edition: dict[int, list[RequirementNode]]) -> list[tuple[str, str]]:
    """One choice per form of each edition ("<edition>:<form>"), or per edition without forms."""
    choices = []
    for edition in editions:
        nodes = forms_by_edition.get(edition.pk, [])
        if nodes:
            choices += [(f"{edition.pk}:{node.pk}", f"{edition.title} — {node.text}") for node in nodes]
        else:
            choices.append((f"{edition.pk}:", edition.title))
    return choices


class CreateForm(forms.Form):
    subject_kind = forms.ChoiceField(label=_("種類"), choices=SubjectKind.choices, widget=forms.RadioSelect,
                                     initial=SubjectKind.INSTITUTION)
    target = forms.ChoiceField(label=_("チェックリスト・様式"))
    fiscal_year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)
    respondent = forms.ModelChoiceField(
        label=_("回答する事業者"), required=False, queryset=Organisation.objects.none(),
        help_text=_("事業者確認用・MDS/SDS では必須。チェックシートでは空欄なら自施設が回答します。"))
    subject_label = forms.CharField(label=_("対象（システム・製品名とバージョン）"), required=False, max_length=200,
                                    help_text=_("MDS/SDS では必須（例: 電子カルテ ひかりEHR 5.2）。"))
    due_date = forms.DateField(label=_("提出期限"), required=False, widget=DateInput())
    evaluator = forms.ModelChoiceField(
        label=_("評価機関（任意）"), required=False, queryset=Organisation.objects.none(),
        help_text=_("第三者評価を依頼する場合に選びます。"))
    no_vendor_contract = forms.BooleanField(label=rules.condition_label("no_vendor_contract"), required=False)

    def __init__(self, *args: Any, targets: list[tuple[str, str]], vendors: Any, evaluators: Any,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = targets
        self.fields["respondent"].queryset = vendors
        self.fields["evaluator"].queryset = evaluators
        self.fields["no_vendor_contract"].label = rules.condition_label("no_vendor_contract")

    def split_target(self) -> tuple[int, int | None]:
        edition, _sep, form = self.cleaned_data["target"].partition(":")
        return int(edition), (int(form) if form else None)


class SettingsForm(forms.Form):
    due_date = forms.DateField(label=_("提出期限"), required=False, widget=DateInput())
    evaluator = forms.ModelChoiceField(label=_("評価機関"), required=False, queryset=Organisation.objects.none())

    def __init__(self, *args: Any, conditions: list[str], evaluators: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["evaluator"].queryset = evaluators
        self.condition_keys = conditions
        for key in conditions:
            self.fields[f"condition_{key}"] = forms.BooleanField(label=rules.condition_label(key), required=False)

    def conditions(self) -> dict[str, bool]:
        return {key: bool(self.cleaned_data.get(f"condition_{key}")) for key in self.condition_keys}


class AnswerForm(forms.Form):
    """One item's row: values are checked against the item's options in the service."""

    round1_value = forms.CharField(required=False, max_length=20)
    round1_date = forms.DateField(required=False)
    target_date = forms.DateField(required=False)
    round2_value = forms.CharField(required=False, max_length=20)
    round2_date = forms.DateField(required=False)
    remarks = forms.CharField(required=False, max_length=4000)
    countermeasure = forms.CharField(required=False, max_length=4000)
    effective_date = forms.DateField(required=False)

    def changed_fields(self, posted: Any) -> dict[str, Any]:
        """Only the fields the page sent (a form without round 2 leaves round 2 alone)."""
        return {name: value for name, value in self.cleaned_data.items() if name in posted}


class EvidenceFileForm(forms.Form):
    file = forms.FileField(label=_("ファイル"))
    title = forms.CharField(label=_("名称"), required=False, max_length=300)
    effective_date = forms.DateField(label=_("基準日"), required=False, widget=DateInput())


class EvidenceLinkForm(forms.Form):
    url = forms.CharField(label=_("URL"), max_length=1000)
    title = forms.CharField(label=_("名称"), max_length=300)
    effective_date = forms.DateField(label=_("基準日"), required=False, widget=DateInput())


class ReviewForm(forms.Form):
    result = forms.ChoiceField(label=_("評価結果"), choices=[("accept", _("確認")), ("return", _("差戻し")),
                                                          ("comment", _("コメントのみ"))], widget=forms.RadioSelect,
                               initial="comment")
    text = forms.CharField(label=_("コメント"), required=False, max_length=4000,
                           widget=forms.Textarea(attrs={"rows": 3}))


class CommentForm(forms.Form):
    text = forms.CharField(label=_("コメント"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))


class TransitionForm(forms.Form):
    comment = forms.CharField(label=_("コメント"), required=False, max_length=4000)


class ReopenForm(forms.Form):
    reason = forms.CharField(label=_("再開の理由"), max_length=4000)
