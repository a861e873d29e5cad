from django import forms
from django.utils.translation import gettext_lazy as _

from anzen.common.models import AuditEntry


class AuditSearchForm(forms.Form):
    q = forms.CharField(
        label=_("キーワード"), required=False,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("対象・操作者・内容・接続元")}),
    )
    action = forms.ChoiceField(label=_("操作"), required=False,
                               choices=[("", _("すべて")), *AuditEntry.Action.choices])
    object_type = forms.ChoiceField(label=_("対象の種類"), required=False)
    actor = forms.CharField(label=_("操作者"), required=False)
    date_from = forms.DateField(label=_("開始日"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("終了日"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: object, object_types: list[str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["object_type"].choices = [("", _("すべて")), *[(t, t) for t in object_types]]
