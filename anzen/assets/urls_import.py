"""URLs of the ledger import (namespace "assets"): CSV/Excel upload → column mapping → preview → commit,
and the institution's saved column layouts (取込設定)."""

from django.urls import URLPattern, path

from anzen.assets import views_import

urlpatterns: list[URLPattern] = [
    path("import/", views_import.import_upload, name="import_upload"),
    path("import/mapping/", views_import.import_mapping, name="import_mapping"),
    path("import/preview/", views_import.import_preview, name="import_preview"),
    path("import/cancel/", views_import.import_cancel, name="import_cancel"),
    path("import/profiles/", views_import.import_profiles, name="import_profiles"),
    path("import/profiles/<int:pk>/delete/", views_import.import_profile_delete, name="import_profile_delete"),
]
