"""URLs of the network scans (namespace "assets"): nmap XML import, the reconciliation report with its
export and the registration of unregistered hosts, and the CPE suggestions of the software form."""

from django.urls import URLPattern, path

from anzen.assets import views_scan

urlpatterns: list[URLPattern] = [
    path("scans/", views_scan.scan_list, name="scan_list"),
    path("scans/upload/", views_scan.scan_upload, name="scan_upload"),
    path("scans/<int:pk>/", views_scan.scan_detail, name="scan_detail"),
    path("scans/<int:pk>/export/<str:fmt>/", views_scan.scan_export, name="scan_export"),
    path("scans/<int:pk>/register/", views_scan.scan_register, name="scan_register"),
    path("cpe/suggest/", views_scan.cpe_suggest, name="cpe_suggest"),
]
