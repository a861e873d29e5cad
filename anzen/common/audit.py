"""Writing and checking the audit trail. Every entry goes through `record`."""

from __future__ import annotations

import datetime as dt
import decimal
import ipaddress
import uuid
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from anzen.common import audit_chain
from anzen.common.context import AuditContext, current
from anzen.common.models import AuditChainHead, AuditEntry

Action = AuditEntry.Action


def jsonable(value: Any) -> Any:
    """A JSON value that survives a round trip through SQLite and PostgreSQL jsonb unchanged."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float | decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat() if timezone.is_aware(value) else value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(item) for item in value]
    if hasattr(value, "name") and hasattr(value, "url"):  # FieldFile
        return value.name or ""
    return str(value)


def snapshot(instance: models.Model) -> dict[str, Any]:
    """The recorded field values; deferred fields (.only/.defer) are left out, never fetched."""
    excluded = getattr(instance, "audit_exclude", frozenset())
    deferred = instance.get_deferred_fields()
    return {
        field.name: jsonable(field.value_from_object(instance))
        for field in instance._meta.concrete_fields
        if field.name not in excluded and field.attname not in deferred
    }


def snapshot_of_values(instance: models.Model, by_attname: dict[str, Any]) -> dict[str, Any]:
    """Like `snapshot`, from the raw values the database returned (keyed by attname)."""
    excluded = getattr(instance, "audit_exclude", frozenset())
    return {
        field.name: jsonable(by_attname[field.attname])
        for field in instance._meta.concrete_fields
        if field.name not in excluded and field.attname in by_attname
    }


def object_type(instance_or_model: Any) -> str:
    opts = instance_or_model._meta
    return f"{opts.app_label}.{opts.model_name}"


def _normal_ip(ip: str | None) -> str | None:
    if not ip:
        return None
    try:
        return ipaddress.ip_address(ip).compressed
    except ValueError:
        return None


@transaction.atomic
def record(
    action: str,
    *,
    obj: models.Model | None = None,
    object_type_label: str = "",
    object_id: str = "",
    object_repr: str = "",
    before: Any = None,
    after: Any = None,
    message: str = "",
    context: AuditContext | None = None,
) -> AuditEntry:
    """Append one entry, chained to the last, in the caller's transaction."""
    ctx = context or current()
    if obj is not None:
        object_type_label = object_type_label or object_type(obj)
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)
    head = AuditChainHead.objects.select_for_update().get(pk=1)
    fields: dict[str, Any] = {
        "seq": head.seq + 1,
        "at": timezone.now(),
        "action": str(action),
        "actor_id": ctx.actor_id,
        "actor_label": ctx.actor_label[:200],
        "organisation_id": ctx.organisation_id,
        "organisation_label": ctx.organisation_label[:200],
        "object_type": object_type_label[:100],
        "object_id": str(object_id)[:64],
        "object_repr": object_repr[:300],
        "before": jsonable(before),
        "after": jsonable(after),
        "message": message[:500],
        "client_ip": _normal_ip(ctx.client_ip),
        "source": ctx.source[:10],
        "prev_hash": head.hash,
    }
    fields["hash"] = audit_chain.entry_hash(hash_payload(fields))
    entry = AuditEntry.objects.create(**fields)
    head.seq, head.hash = entry.seq, entry.hash
    head.save(update_fields=["seq", "hash"])
    return entry


def hash_payload(fields: dict[str, Any]) -> dict[str, Any]:
    payload = dict(fields)
    at = payload["at"]
    payload["at"] = at.astimezone(dt.UTC).isoformat() if isinstance(at, dt.datetime) else at
    return payload


def verify_chain() -> audit_chain.ChainReport:
    """Check the whole chain from the database (streamed, constant memory)."""
    head = AuditChainHead.objects.get(pk=1)
    values = ["hash", *audit_chain.HASHED_FIELDS]
    rows = AuditEntry.objects.order_by("seq").values(*values).iterator(chunk_size=2000)
    return audit_chain.verify((hash_payload(row) for row in rows), head.seq, head.hash)


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    keys = [key for key in after if before.get(key) != after.get(key)]
    return {key: before.get(key) for key in keys}, {key: after[key] for key in keys}
