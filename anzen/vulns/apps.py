from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VulnsConfig(AppConfig):
    name = "anzen.vulns"
    label = "vulns"
    verbose_name = _("脆弱性")
