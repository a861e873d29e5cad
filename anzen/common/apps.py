from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommonConfig(AppConfig):
    name = "anzen.common"
    label = "common"
    verbose_name = _("共通")

    def ready(self) -> None:
        from anzen.common import audit_signals  # noqa: F401  (connects the audit trail)
