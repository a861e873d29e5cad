from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssetsConfig(AppConfig):
    name = "anzen.assets"
    label = "assets"
    verbose_name = _("台帳")
