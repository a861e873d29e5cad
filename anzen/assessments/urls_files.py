"""URLs of files in and out (namespace "assessments"): downloads, the Excel import, the inspection pack."""

from django.urls import URLPattern, path

from anzen.assessments import views_files

urlpatterns: list[URLPattern] = [
    path("<int:pk>/export/<str:fmt>/", views_files.export_file, name="export"),
    path("<int:pk>/import/", views_files.import_upload, name="import_upload"),
    path("<int:pk>/import/preview/", views_files.import_preview, name="import_preview"),
    path("pack/", views_files.pack_page, name="pack"),
    path("pack/<str:job>/", views_files.pack_job, name="pack_job"),
    path("pack/<str:job>/<str:kind>/", views_files.pack_download, name="pack_download"),
]
