"""Template helpers for the library pages."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()

FIELD_LABELS = {
    "ref": _("番号"),
    "text": _("本文"),
    "text_partial": _("本文（一部）"),
    "topic": _("主題"),
    "required_from": _("必須となる年度"),
    "reference_only": _("参考項目"),
    "status": _("区分（必須／参考）"),
    "verified": _("確認状況"),
    "audience": _("対象"),
}
VALUE_LABELS = {
    "required": _("必須"),
    "reference": _("参考"),
    "true": _("確認済み"),
    "partial": _("一部確認"),
    "false": _("未確認"),
    "institution": _("医療機関等"),
    "vendor": _("事業者"),
    "both": _("共通"),
}
SCOPE_LABELS = {
    "all": _("医療情報システム全般"),
    "server": _("サーバ"),
    "pc": _("端末PC"),
    "network": _("ネットワーク機器"),
}
CONDITION_LABELS = {"no_vendor_contract": _("事業者と契約していない場合は記入不要")}


@register.filter
def field_label(name: str) -> str:
    return str(FIELD_LABELS.get(name, name))


@register.filter
def value_label(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(_("はい")) if value else str(_("いいえ"))
    return str(VALUE_LABELS.get(str(value), value))


@register.filter
def scope_label(code: str) -> str:
    return str(SCOPE_LABELS.get(code, code))


@register.filter
def condition_label(code: str) -> str:
    return str(CONDITION_LABELS.get(code, code))


@register.filter
def meta_text(value: Any) -> str:
    """A meta value as plain text: lists joined, mappings as `key: value` lines."""
    if isinstance(value, list):
        return "、".join(meta_text(item) for item in value)
    if isinstance(value, dict):
        return "\n".join(f"{key}: {meta_text(item)}" for key, item in value.items())
    if isinstance(value, bool):
        return str(_("はい")) if value else str(_("いいえ"))
    return "" if value is None else str(value)
