from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.password_validation import password_validators_help_texts
from django.utils.translation import gettext_lazy as _

from anzen.accounts.roles import ROLES_BY_KIND, Role


class LoginForm(forms.Form):
    username = forms.CharField(label=_("ログインID"), max_length=150,
                               widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}))
    password = forms.CharField(label=_("パスワード"), strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("確認コード"), max_length=20,
        help_text=_("認証アプリに表示される6桁のコード、またはリカバリーコードを入力してください。"),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


class NewPasswordMixin(forms.Form):
    new_password1 = forms.CharField(label=_("新しいパスワード"), strip=False,
                                    widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    new_password2 = forms.CharField(label=_("新しいパスワード（確認）"), strip=False,
                                    widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].help_text = " ".join(str(t) for t in password_validators_help_texts())

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("new_password1") and data.get("new_password1") != data.get("new_password2"):
            raise forms.ValidationError(_("確認用のパスワードが一致しません。"))
        return data


class PasswordChangeForm(NewPasswordMixin):
    old_password = forms.CharField(label=_("現在のパスワード"), strip=False,
                                   widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    field_order = ["old_password", "new_password1", "new_password2"]


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("メールアドレス"))
    role = forms.ChoiceField(label=_("役割"))

    def __init__(self, *args: Any, kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(r, Role(r).label) for r in ROLES_BY_KIND[kind]]


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("役割"))

    def __init__(self, *args: Any, kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(r, Role(r).label) for r in ROLES_BY_KIND[kind]]


class AcceptInvitationForm(NewPasswordMixin):
    username = forms.RegexField(label=_("ログインID"), max_length=150, regex=r"^[\w.@+-]+$",
                                help_text=_("半角英数字と @ . + - _ が使えます。"))
    display_name = forms.CharField(label=_("氏名"), max_length=150)
    field_order = ["username", "display_name", "new_password1", "new_password2"]


class OrganisationSettingsForm(forms.Form):
    require_mfa_for_all = forms.BooleanField(label=_("全員に二要素認証を必須とする"), required=False)


class ApiTokenForm(forms.Form):
    name = forms.CharField(label=_("用途"), max_length=100)
    days = forms.IntegerField(label=_("有効日数"), min_value=1, max_value=730, initial=365)
