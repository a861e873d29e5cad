from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "anzen.accounts"
    label = "accounts"
    verbose_name = _("アカウント")

    def ready(self) -> None:
        from anzen.accounts import auth_events  # noqa: F401  (login/lockout entries in the audit trail)
