"""Cleaning the fields of a device or an information system before they are written (no ORM queries).

`clean_device(raw)` is what every way into the ledger goes through (form, API, import, scan
registration, demo data): it normalises MAC/IP/dates/choices and returns the values to store, or
raises `ValidationError` with a dict of Japanese messages by field name (forms show them beside the
field, the import shows them per row).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _

from anzen.assets import normalise
from anzen.assets.models import (
    Device,
    DeviceKind,
    DeviceStatus,
    Hosting,
    InformationSystem,
    LineType,
    SystemCategory,
)

DEVICE_TEXT = ("hostname", "owner", "os_name", "os_version", "payment_class", "model_name", "manufacturer",
               "serial", "vlan", "location", "outlet", "notes")
DEVICE_FIELDS = frozenset({*DEVICE_TEXT, "kind", "status", "mac", "ip", "first_registered", "remote_maintenance",
                           "last_patch_date", "systems"})
DEVICE_IDENTIFIERS = ("hostname", "mac", "ip", "serial", "model_name")

SYSTEM_TEXT = ("name", "vendor_name", "product", "version", "information_handled", "contract", "notes")
SYSTEM_FIELDS = frozenset({*SYSTEM_TEXT, "category", "vendor", "hosting", "remote_maintenance", "remote_line_type",
                           "remote_vendor", "disclosure", "end_of_support"})

_TRUE = {"1", "true", "yes", "y", "on", "はい", "有", "あり", "有り", "○", "〇", "◯", "要", "済"}
_FALSE = {"", "0", "false", "no", "n", "off", "いいえ", "無", "なし", "無し", "×", "-", "ー", "不要"}


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    text = normalise._fold(value).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(_("はい／いいえで指定してください: %(value)s") % {"value": str(value)[:20]})


def choice(value: Any, choices: type[models.TextChoices], label: str) -> str:
    """A choice's code from its code or its Japanese label (サーバ → server), case-insensitive."""
    text = normalise._fold(value or "")
    for code, name in choices.choices:
        if text.lower() == code.lower() or text == str(name):
            return code
    raise ValueError(_("%(label)sが正しくありません: %(value)s") % {"label": label, "value": text[:40]})


def _max_length(model: type[models.Model], name: str) -> int | None:
    return getattr(model._meta.get_field(name), "max_length", None)


def _text(model: type[models.Model], name: str, value: Any, errors: dict[str, str]) -> str:
    text = "" if value is None else str(value).strip()
    limit = _max_length(model, name)
    if limit and len(text) > limit:
        label = str(model._meta.get_field(name).verbose_name)
        errors[name] = _("%(label)sは%(limit)s文字以内で入力してください。") % {"label": label, "limit": limit}
    return text


def _date(name: str, value: Any, errors: dict[str, str]) -> dt.date | None:
    if value in (None, ""):
        return None
    try:
        day = normalise.parse_date(value)
    except ValueError as error:
        errors[name] = str(error)
        return None
    if not 1900 <= day.year <= 2200:
        errors[name] = _("日付が範囲外です: %(value)s") % {"value": day.isoformat()}
    return day


def identifier_required() -> str:
    return _("ホスト名・MACアドレス・IPアドレス・シリアル番号・機器名のいずれかを入力してください。")


def clean_device(raw: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Normalised device values; `partial` cleans only the given keys (an update)."""
    unknown = set(raw) - DEVICE_FIELDS
    if unknown:
        raise TypeError(f"unknown device fields: {sorted(unknown)}")
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    for name in DEVICE_TEXT:
        if name in raw or not partial:
            out[name] = _text(Device, name, raw.get(name), errors)
    if "kind" in raw or not partial:
        try:
            out["kind"] = choice(raw.get("kind") or DeviceKind.PC, DeviceKind, _("機器の種類"))
        except ValueError as error:
            errors["kind"] = str(error)
    if "status" in raw or not partial:
        try:
            out["status"] = choice(raw.get("status") or DeviceStatus.IN_USE, DeviceStatus, _("状態"))
        except ValueError as error:
            errors["status"] = str(error)
    if "mac" in raw or not partial:
        out["mac"] = ""
        if raw.get("mac") not in (None, ""):
            try:
                out["mac"] = normalise.normalise_mac(raw["mac"])
            except ValueError as error:
                errors["mac"] = str(error)
    if "ip" in raw or not partial:
        out["ip"] = None
        if raw.get("ip") not in (None, ""):
            try:
                out["ip"] = normalise.normalise_ip(raw["ip"])
            except ValueError as error:
                errors["ip"] = str(error)
    for name in ("first_registered", "last_patch_date"):
        if name in raw or not partial:
            out[name] = _date(name, raw.get(name), errors)
    if "remote_maintenance" in raw or not partial:
        try:
            out["remote_maintenance"] = parse_bool(raw.get("remote_maintenance"))
        except ValueError as error:
            errors["remote_maintenance"] = str(error)
    if "systems" in raw:
        out["systems"] = list(raw["systems"] or [])
    if not partial and not errors and not any(out.get(name) for name in DEVICE_IDENTIFIERS):
        errors["hostname"] = identifier_required()
    if errors:
        raise ValidationError(errors)
    return out


def clean_system(raw: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Normalised information-system values (organisations and the disclosure are checked by the service)."""
    unknown = set(raw) - SYSTEM_FIELDS
    if unknown:
        raise TypeError(f"unknown system fields: {sorted(unknown)}")
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    for name in SYSTEM_TEXT:
        if name in raw or not partial:
            out[name] = _text(InformationSystem, name, raw.get(name), errors)
    if ("name" in out) and not out["name"] and "name" not in errors:
        errors["name"] = _("システム名を入力してください。")
    for name, choices, label, default in (
        ("category", SystemCategory, _("分類"), SystemCategory.OTHER),
        ("hosting", Hosting, _("設置形態"), Hosting.ON_PREMISES),
    ):
        if name in raw or not partial:
            try:
                out[name] = choice(raw.get(name) or default, choices, label)
            except ValueError as error:
                errors[name] = str(error)
    if "remote_line_type" in raw or not partial:
        out["remote_line_type"] = ""
        if raw.get("remote_line_type"):
            try:
                out["remote_line_type"] = choice(raw["remote_line_type"], LineType, _("回線の種類"))
            except ValueError as error:
                errors["remote_line_type"] = str(error)
    if "remote_maintenance" in raw or not partial:
        try:
            out["remote_maintenance"] = parse_bool(raw.get("remote_maintenance"))
        except ValueError as error:
            errors["remote_maintenance"] = str(error)
    if "end_of_support" in raw or not partial:
        out["end_of_support"] = _date("end_of_support", raw.get("end_of_support"), errors)
    for name in ("vendor", "remote_vendor", "disclosure"):
        if name in raw or not partial:
            out[name] = raw.get(name) or None
    if errors:
        raise ValidationError(errors)
    return out
