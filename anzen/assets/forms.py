"""Forms of the ledger screens. They check input shapes only; normalisation and rules live in the
services (MAC/IP/CPE are validated there and their messages shown beside the field)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from anzen.accounts.models import Organisation
from anzen.assets.models import (
    Device,
    DeviceKind,
    DeviceStatus,
    Disposal,
    Hosting,
    InformationSystem,
    LineType,
    PortableMedia,
    SystemCategory,
)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


YES_NO_ANY = [("", _("すべて")), ("yes", _("あり")), ("no", _("なし"))]


class DeviceFilterForm(forms.Form):
    q = forms.CharField(label=_("検索"), required=False, max_length=100, widget=forms.TextInput(
        attrs={"type": "search", "placeholder": _("ホスト名・IP・MAC・管理者・機器名・シリアル・設置場所")}))
    kind = forms.ChoiceField(label=_("種類"), required=False, choices=[("", _("すべて")), *DeviceKind.choices])
    status = forms.ChoiceField(label=_("状態"), required=False, choices=[("", _("すべて")), *DeviceStatus.choices])
    system = forms.TypedChoiceField(label=_("システム"), required=False, coerce=int, empty_value=None)
    remote = forms.ChoiceField(label=_("リモート保守"), required=False, choices=YES_NO_ANY)
    sort = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, systems: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["system"].choices = [("", _("すべて")), *systems]


class DeviceForm(forms.ModelForm):
    # Text inputs: MAC, IP and dates are normalised by the service (any usual notation is accepted).
    mac = forms.CharField(label=_("MACアドレス"), required=False, max_length=40,
                          help_text=_("aa:bb:cc:dd:ee:ff・AA-BB-…・AABB.CCDD.EEFF のいずれでも入力できます。"))
    ip = forms.CharField(label=_("IPアドレス"), required=False, max_length=60)
    systems = forms.TypedMultipleChoiceField(label=_("所属するシステム"), required=False, coerce=int,
                                             widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = Device
        fields = ["kind", "status", "hostname", "owner", "os_name", "os_version", "payment_class", "model_name",
                  "manufacturer", "serial", "mac", "ip", "vlan", "location", "outlet", "first_registered",
                  "remote_maintenance", "last_patch_date", "systems", "notes"]
        widgets = {"first_registered": DateInput(), "last_patch_date": DateInput(),
                   "notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, systems: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["systems"].choices = systems
        if self.instance.pk:
            self.initial["systems"] = [system.pk for system in self.instance.systems.all()]

    def _post_clean(self) -> None:  # the service validates and writes (no model validation here)
        pass

    def values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class SystemForm(forms.ModelForm):
    vendor = forms.ModelChoiceField(label=_("事業者"), required=False, queryset=Organisation.objects.none())
    remote_vendor = forms.ModelChoiceField(label=_("リモート保守の事業者"), required=False,
                                           queryset=Organisation.objects.none())
    category = forms.ChoiceField(label=_("分類"), choices=SystemCategory.choices)
    hosting = forms.ChoiceField(label=_("設置形態"), choices=Hosting.choices)
    remote_line_type = forms.ChoiceField(label=_("回線の種類"), required=False,
                                         choices=[("", "—"), *LineType.choices])

    class Meta:
        model = InformationSystem
        fields = ["name", "category", "vendor", "vendor_name", "product", "version", "hosting", "information_handled",
                  "remote_maintenance", "remote_line_type", "remote_vendor", "contract", "disclosure",
                  "end_of_support", "notes"]
        widgets = {"end_of_support": DateInput(), "information_handled": forms.Textarea(attrs={"rows": 2}),
                   "notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, vendors: Any, disclosures: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["vendor"].queryset = vendors
        self.fields["remote_vendor"].queryset = vendors
        self.fields["disclosure"].queryset = disclosures
        self.fields["disclosure"].required = False

    def _post_clean(self) -> None:
        pass

    def values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class SoftwareForm(forms.Form):
    name = forms.CharField(label=_("名称"), required=False, max_length=200,
                           help_text=_("空欄なら CPE の product から付けます。"))
    version = forms.CharField(label=_("バージョン"), required=False, max_length=100)
    cpe23 = forms.CharField(label=_("CPE"), required=False, max_length=400, widget=forms.TextInput(
        attrs={"placeholder": "cpe:2.3:a:microsoft:edge_chromium:118.0.2088.46:*:*:*:*:*:*:*", "size": 60}),
        help_text=_("CPE 2.3（cpe:2.3:…）または CPE 2.2（cpe:/…）。"))
    no_cpe = forms.BooleanField(
        label=_("CPEなし（脆弱性は個別に確認）"), required=False,
        help_text=_("CPE が割り当てられていない製品（多くの医療機器）は、脆弱性情報を手作業で確認する対象になります。"))


class MediaForm(forms.ModelForm):
    class Meta:
        model = PortableMedia
        fields = ["media_id", "kind", "owner", "encrypted", "location", "status", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [choice for choice in PortableMedia.Status.choices if choice[0] != PortableMedia.Status.CHECKED_OUT]
        if self.instance.pk and self.instance.status == PortableMedia.Status.CHECKED_OUT:
            self.fields.pop("status")
        else:
            self.fields["status"].choices = choices

    def _post_clean(self) -> None:
        pass

    def values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields if name in self.cleaned_data}


class CheckOutForm(forms.Form):
    borrower = forms.CharField(label=_("持出者"), max_length=200)
    purpose = forms.CharField(label=_("目的"), required=False, max_length=300)
    due_back = forms.DateField(label=_("返却予定日"), required=False, widget=DateInput())


class DisposalForm(forms.Form):
    description = forms.CharField(label=_("廃棄したもの"), required=False, max_length=300,
                                  help_text=_("機器・媒体を選んだ場合は空欄でも構いません。"))
    device = forms.TypedChoiceField(label=_("機器"), required=False, coerce=int, empty_value=None)
    media = forms.TypedChoiceField(label=_("可搬媒体"), required=False, coerce=int, empty_value=None)
    disposed_on = forms.DateField(label=_("廃棄日"), widget=DateInput())
    method = forms.ChoiceField(label=_("方法"), choices=Disposal.Method.choices)
    performed_by = forms.CharField(label=_("実施者"), max_length=200)
    certificate = forms.FileField(label=_("廃棄証明書（PDF・PNG・JPEG）"), required=False)
    notes = forms.CharField(label=_("備考"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, devices: list[tuple[int, str]], media: list[tuple[int, str]],
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["device"].choices = [("", "—"), *devices]
        self.fields["media"].choices = [("", "—"), *media]


class CertificateForm(forms.Form):
    certificate = forms.FileField(label=_("廃棄証明書（PDF・PNG・JPEG）"))


class AttachForm(forms.Form):
    assessment = forms.TypedChoiceField(label=_("添付先の評価"), coerce=int)
    fmt = forms.ChoiceField(label=_("形式"), choices=[("xlsx", "Excel (xlsx)"), ("csv", "CSV")], initial="xlsx")

    def __init__(self, *args: Any, assessments: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assessment"].choices = assessments
