from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def ensure_chain_head(using: str = "default", **kwargs: Any) -> None:
    """The audit chain's head row must exist. A data migration creates it; this receiver puts it
    back after a database flush (which deletes every row and emits post_migrate), as test runs do."""
    from anzen.common.models import AuditChainHead

    AuditChainHead.objects.using(using).get_or_create(pk=1, defaults={"seq": 0, "hash": "0" * 64})


class CommonConfig(AppConfig):
    name = "anzen.common"
    label = "common"
    verbose_name = _("共通")

    def ready(self) -> None:
        from anzen.common import audit_signals  # noqa: F401  (connects the audit trail)

        post_migrate.connect(ensure_chain_head, sender=self, dispatch_uid="anzen_chain_head")
