"""Password rules of GL 6.0 Q&A シQ-54 and no reuse of recent passwords.

シQ-54: a) 英数字、記号を混在させた13文字以上, or c) with two-factor authentication 8文字以上 (mixed).
(b, 8 characters changed at most every two months, is not offered: periodic forced changes are
discouraged and the guideline accepts a) or c) without them.)
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MIN_LENGTH_WITH_MFA = 8
MIN_LENGTH_WITHOUT_MFA = 13


def character_classes(password: str) -> set[str]:
    classes = set()
    for char in password:
        if char.isascii() and char.isalpha():
            classes.add("letter")
        elif char.isdigit():
            classes.add("digit")
        elif not char.isspace():
            classes.add("symbol")
    return classes


def uses_mfa(user: Any) -> bool:
    """Two-factor is on when the user has a confirmed device or must enrol one before any use."""
    if user is None or getattr(user, "pk", None) is None:
        return getattr(user, "_anzen_mfa_expected", False)
    from anzen.accounts import selectors

    return getattr(user, "_anzen_mfa_expected", False) or selectors.has_mfa(user) or selectors.mfa_required(user)


def min_length_for(user: Any) -> int:
    return MIN_LENGTH_WITH_MFA if uses_mfa(user) else MIN_LENGTH_WITHOUT_MFA


class GuidelinePasswordValidator:
    def validate(self, password: str, user: Any = None) -> None:
        minimum = min_length_for(user)
        problems = []
        if len(password) < minimum:
            problems.append(_("パスワードは%(n)d文字以上にしてください。") % {"n": minimum})
        if character_classes(password) != {"letter", "digit", "symbol"}:
            problems.append(_("パスワードには英字・数字・記号をすべて含めてください。"))
        if problems:
            raise ValidationError(problems, code="password_guideline")

    def get_help_text(self) -> str:
        return _(
            "英字・数字・記号を混在させた13文字以上（二要素認証を使う場合は8文字以上）にしてください"
            "（安全管理ガイドライン第6.0版 Q&A シQ-54）。"
        )


class PasswordHistoryValidator:
    def validate(self, password: str, user: Any = None) -> None:
        if user is None or getattr(user, "pk", None) is None:
            return
        recent = user.password_history.all()[: settings.ANZEN_PASSWORD_HISTORY]
        if any(check_password(password, entry.password) for entry in recent):
            raise ValidationError(
                _("最近使用したパスワード（直近%(n)d個）は再利用できません。") % {"n": settings.ANZEN_PASSWORD_HISTORY},
                code="password_reused",
            )

    def get_help_text(self) -> str:
        return _("最近使用したパスワードは再利用できません。")
