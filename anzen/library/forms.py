"""Forms of the library pages (validation only; the work is in selectors and services)."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from anzen.library import domain

COLUMN = re.compile(r"^[A-Za-z]{1,3}$")


def _column_field(label: str, *, required: bool = False) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=3,
        widget=forms.TextInput(attrs={"size": 3, "autocomplete": "off"}),
    )


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("検索語"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("例: アクセスログ（保守）")}),
    )
    edition = forms.TypedChoiceField(label=_("版"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args: Any, editions: list[Any] = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        self.fields["edition"].choices = [("", _("すべての最新版"))] + [(e.pk, str(e)) for e in editions]


class DiffForm(forms.Form):
    a = forms.TypedChoiceField(label=_("比較元の版"), coerce=int)
    b = forms.TypedChoiceField(label=_("比較先の版"), coerce=int)

    def __init__(self, *args: Any, editions: list[Any] = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        choices = [(e.pk, f"{e}{'' if e.is_current else ' #' + str(e.version)}") for e in editions]
        self.fields["a"].choices = choices
        self.fields["b"].choices = choices


class ImportUploadForm(forms.Form):
    NEW = "__new__"

    file = forms.FileField(label=_("Excel ブック（.xlsx）"))
    framework = forms.ChoiceField(label=_("フレームワーク"))
    new_framework_key = forms.CharField(
        label=_("新しいフレームワークの識別子"),
        required=False,
        max_length=80,
        help_text=_("英小文字・数字・ハイフン（例: mhlw-pharmacy-checklist）"),
    )
    new_framework_title = forms.CharField(
        label=_("新しいフレームワークの名称"), required=False, max_length=300
    )
    edition_code = forms.CharField(
        label=_("版の識別子"), max_length=60, help_text=_("例: R8（英数字と . _ -）")
    )
    title = forms.CharField(label=_("版の名称"), max_length=300)
    publisher = forms.CharField(label=_("発行者"), max_length=300, required=False, initial="厚生労働省")
    fiscal_year = forms.IntegerField(
        label=_("対象年度（西暦）"), required=False, min_value=1900, max_value=2200
    )
    profile = forms.ChoiceField(label=_("取込設定"), required=False)

    def __init__(
        self,
        *args: Any,
        frameworks: list[Any] = (),
        profiles: list[tuple[str, str]] = (),  # type: ignore[assignment]
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["framework"].choices = [(f.key, f"{f.title}（{f.key}）") for f in frameworks] + [
            (self.NEW, _("新しいフレームワーク"))
        ]
        self.fields["profile"].choices = [("", _("列を手動で指定する")), *profiles]

    def clean_edition_code(self) -> str:
        code = self.cleaned_data["edition_code"].strip()
        if not domain.EDITION_CODE.match(code):
            raise forms.ValidationError(_("英数字と . _ - で指定してください（例: R8）"))
        return code

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("framework") == self.NEW:
            key = (data.get("new_framework_key") or "").strip()
            if not domain.FRAMEWORK_ID.match(key):
                self.add_error("new_framework_key", _("英小文字・数字・ハイフンで指定してください"))
            if not (data.get("new_framework_title") or "").strip():
                self.add_error("new_framework_title", _("名称を入力してください"))
        return data


class ImportConfigureForm(forms.Form):
    sheet = forms.ChoiceField(label=_("シート"))
    text_col = _column_field(_("本文（チェック項目）の列"), required=True)
    ref_col = _column_field(_("番号の列"))
    section_col = _column_field(_("区分（1 体制構築 …）の列"))
    audience_col = _column_field(_("対象の列"))
    audience = forms.ChoiceField(
        label=_("対象"),
        choices=[("institution", _("医療機関等")), ("vendor", _("事業者")), ("both", _("共通"))],
    )
    header_text = forms.CharField(
        label=_("見出しの文字"),
        max_length=50,
        required=False,
        help_text=_("この文字が本文の列にある行の次からを取り込みます"),
    )
    start_row = forms.IntegerField(
        label=_("開始行"),
        required=False,
        min_value=1,
        max_value=100000,
        help_text=_("指定すると見出しの代わりにこの行から取り込みます"),
    )
    id_prefix = forms.CharField(label=_("項目IDの接頭辞"), max_length=20, initial="X")
    official = forms.BooleanField(
        label=_("本文は発行元の公式ファイルから変更せずに取り込んだものです（確認済みとして登録する）"),
        required=False,
    )
    profile_name = forms.CharField(
        label=_("この設定を取込設定として保存する（名称）"), max_length=200, required=False
    )

    def __init__(self, *args: Any, sheets: list[str] = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        self.fields["sheet"].choices = [(name, name) for name in sheets]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for name in ("text_col", "ref_col", "section_col", "audience_col"):
            value = (data.get(name) or "").strip().upper()
            if value and not COLUMN.match(value):
                self.add_error(name, _("列名（A, B, …）で指定してください"))
            data[name] = value or None
        prefix = (data.get("id_prefix") or "").strip()
        if prefix and not domain.NODE_ID.match(prefix):
            self.add_error("id_prefix", _("英数字で指定してください"))
        return data
