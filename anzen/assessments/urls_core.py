"""URLs of the core assessment screens (namespace "assessments")."""

from django.urls import path

from anzen.assessments import views, views_items, views_workflow

urlpatterns = [
    path("", views.assessment_list, name="list"),
    path("new/", views.assessment_create, name="create"),
    path("<int:pk>/", views.assessment_detail, name="detail"),
    path("<int:pk>/hispro/", views.assessment_hispro, name="hispro"),
    path("<int:pk>/settings/", views.assessment_settings, name="settings"),
    path("<int:pk>/submit/", views_workflow.submit, name="submit"),
    path("<int:pk>/start-review/", views_workflow.start_review, name="start_review"),
    path("<int:pk>/return/", views_workflow.return_assessment, name="return"),
    path("<int:pk>/accept/", views_workflow.accept, name="accept"),
    path("<int:pk>/sign-off/", views_workflow.sign_off, name="sign_off"),
    path("<int:pk>/reopen/", views_workflow.reopen, name="reopen"),
    path("<int:pk>/items/<int:node_pk>/", views_items.item_detail, name="item"),
    path("<int:pk>/items/<int:node_pk>/answer/", views_items.answer_save, name="answer_save"),
    path("<int:pk>/items/<int:node_pk>/evidence/", views_items.evidence_upload, name="evidence_upload"),
    path("<int:pk>/items/<int:node_pk>/link/", views_items.evidence_link, name="evidence_link"),
    path("<int:pk>/items/<int:node_pk>/review/", views_items.item_review, name="item_review"),
    path("<int:pk>/items/<int:node_pk>/comment/", views_items.item_comment, name="item_comment"),
    path("evidence/<int:pk>/download/", views_items.evidence_download, name="evidence_download"),
    path("evidence/<int:pk>/delete/", views_items.evidence_delete, name="evidence_delete"),
]
