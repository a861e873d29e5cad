from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VulnsConfig(AppConfig):
    name = "anzen.vulns"
    label = "vulns"
    verbose_name = _("脆弱性")

    def import_models(self) -> None:
        # The watch's models live in models_watch.py (models.py is the CVE store); importing them here,
        # while the registry loads models, registers them like models.py's own.
        super().import_models()
        from anzen.vulns import models_watch  # noqa: F401
