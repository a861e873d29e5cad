"""URLs of the vulnerability watch (namespace "vulns"): the institution's board, findings, devices, CVEs,
watch list, notices and contracts; the vendor's inbox of notices addressed to it."""

from django.urls import path

from anzen.vulns import views, views_notices

app_name = "vulns"
urlpatterns = [
    path("", views.board, name="board"),
    path("findings/", views.finding_list, name="finding_list"),
    path("findings/export/<str:fmt>/", views.finding_export, name="finding_export"),
    path("findings/<int:pk>/", views.finding_detail, name="finding_detail"),
    path("findings/<int:pk>/status/", views.finding_status, name="finding_status"),
    path("devices/<int:pk>/", views.device, name="device"),
    path("cves/<str:cve_id>/", views.cve_detail, name="cve_detail"),
    path("match/", views.match, name="match"),
    path("watch/", views.watchlist, name="watchlist"),
    path("watch/<int:pk>/", views.watch_note, name="watch_note"),
    path("notices/", views_notices.notice_list, name="notice_list"),
    path("notices/<int:pk>/", views_notices.notice_detail, name="notice_detail"),
    path("notices/<int:pk>/review/", views_notices.notice_review, name="notice_review"),
    path("notices/<int:pk>/withdraw/", views_notices.notice_withdraw, name="notice_withdraw"),
    path("responses/<int:pk>/file/", views_notices.evidence, name="evidence"),
    path("contracts/", views_notices.contract_list, name="contract_list"),
    path("contracts/new/", views_notices.contract_create, name="contract_create"),
    path("contracts/<int:pk>/", views_notices.contract_detail, name="contract_detail"),
    path("contracts/<int:pk>/edit/", views_notices.contract_edit, name="contract_edit"),
    path("inbox/", views_notices.inbox, name="inbox"),
    path("inbox/<int:pk>/", views_notices.inbox_notice, name="inbox_notice"),
    path("inbox/<int:pk>/answer/", views_notices.inbox_answer, name="inbox_answer"),
    path("inbox/responses/<int:pk>/file/", views_notices.inbox_evidence, name="inbox_evidence"),
]
