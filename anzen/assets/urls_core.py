"""URLs of the ledger screens (namespace "assets")."""

from django.urls import path

from anzen.assets import views, views_media, views_systems

urlpatterns = [
    path("", views.device_list, name="device_list"),
    path("devices/new/", views.device_create, name="device_create"),
    path("devices/<int:pk>/", views.device_detail, name="device_detail"),
    path("devices/<int:pk>/edit/", views.device_edit, name="device_edit"),
    path("devices/<int:pk>/delete/", views.device_delete, name="device_delete"),
    path("devices/<int:pk>/software/", views.software_add, name="software_add"),
    path("software/<int:pk>/delete/", views.software_delete, name="software_delete"),
    path("export/ledger/", views.ledger_export, name="ledger_export"),
    path("export/remote/", views.remote_export, name="remote_export"),
    path("attach/", views.attach_to_checklist, name="attach"),
    path("systems/", views_systems.system_list, name="system_list"),
    path("systems/new/", views_systems.system_create, name="system_create"),
    path("systems/<int:pk>/", views_systems.system_detail, name="system_detail"),
    path("systems/<int:pk>/edit/", views_systems.system_edit, name="system_edit"),
    path("remote/", views_systems.remote_view, name="remote"),
    path("media/", views_media.media_list, name="media_list"),
    path("media/new/", views_media.media_create, name="media_create"),
    path("media/<int:pk>/", views_media.media_detail, name="media_detail"),
    path("media/<int:pk>/edit/", views_media.media_edit, name="media_edit"),
    path("media/<int:pk>/check-out/", views_media.media_check_out, name="media_check_out"),
    path("media/<int:pk>/return/", views_media.media_return, name="media_return"),
    path("disposals/", views_media.disposal_list, name="disposal_list"),
    path("disposals/new/", views_media.disposal_create, name="disposal_create"),
    path("disposals/<int:pk>/certificate/", views_media.disposal_certificate, name="disposal_certificate"),
    path("disposals/<int:pk>/certificate/upload/", views_media.disposal_certificate_upload,
         name="disposal_certificate_upload"),
]
