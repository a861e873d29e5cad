from django.urls import path

from anzen.common import views

app_name = "common"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("audit/", views.audit_log, name="audit_log"),
    path("history/<str:object_type>/<str:object_id>/", views.object_history, name="object_history"),
    path("healthz", views.healthz, name="healthz"),
]
