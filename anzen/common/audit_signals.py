"""Connects every AuditedModel to the audit trail.

This is infrastructure, not a business rule: putting it on the model signals means no create,
update or delete can bypass the trail (services, admin, shell, data migrations alike). Bulk
operations (bulk_create, QuerySet.update/delete) skip signals; services that use them call
`audit.record` themselves.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save, pre_delete
from django.dispatch import receiver

from anzen.common import audit
from anzen.common.models import AuditedModel


def _action_for(instance: AuditedModel, default: str) -> tuple[str, str]:
    override = getattr(instance, "audit_action", None)
    return (override, default) if override else (default, "")


@receiver(post_save, dispatch_uid="anzen_audit_post_save")
def _on_save(sender: Any, instance: Any, created: bool, raw: bool = False, **kwargs: Any) -> None:
    if not isinstance(instance, AuditedModel):
        return
    now = audit.snapshot(instance)
    if created:
        action, message = _action_for(instance, audit.Action.CREATE)
        audit.record(action, obj=instance, after=now, message=message)
    else:
        loaded = instance.audit_loaded()
        before, after = audit.changed_fields(loaded or {}, now)
        if after:
            action, message = _action_for(instance, audit.Action.UPDATE)
            audit.record(action, obj=instance, before=before if loaded is not None else None,
                         after=after, message=message)
    instance._audit_loaded = now


@receiver(pre_delete, dispatch_uid="anzen_audit_pre_delete")
def _before_delete(sender: Any, instance: Any, **kwargs: Any) -> None:
    if isinstance(instance, AuditedModel):
        instance._audit_deleted = (str(instance.pk), str(instance), audit.snapshot(instance))


@receiver(post_delete, dispatch_uid="anzen_audit_post_delete")
def _on_delete(sender: Any, instance: Any, **kwargs: Any) -> None:
    if not isinstance(instance, AuditedModel):
        return
    object_id, label, before = getattr(instance, "_audit_deleted", (str(instance.pk), str(instance), None))
    action, message = _action_for(instance, audit.Action.DELETE)
    audit.record(action, obj=None, object_type_label=audit.object_type(instance), object_id=object_id,
                 object_repr=label, before=before, message=message)
