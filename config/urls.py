from django.urls import include, path
from django.views.i18n import set_language

from anzen.api.urls import api
from anzen.common.http import public

urlpatterns = [
    path("", include("anzen.common.urls")),
    path("accounts/", include("anzen.accounts.urls")),
    path("library/", include("anzen.library.urls")),
    path("assessments/", include("anzen.assessments.urls")),
    path("assets/", include("anzen.assets.urls")),
    path("vulns/", include("anzen.vulns.urls")),
    path("api/", api.urls),
    path("i18n/setlang/", public(set_language), name="set_language"),
]
