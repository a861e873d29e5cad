"""URLs of the answer-once screens (namespace "assessments")."""

from django.urls import path

from anzen.assessments import views_answer_once as views

urlpatterns = [
    path("<int:pk>/suggestions/", views.suggestions_page, name="suggestions"),
    path("<int:pk>/suggestions/confirm/", views.suggestion_confirm, name="suggestion_confirm"),
    path("<int:pk>/suggestions/reject/", views.suggestion_reject, name="suggestion_reject"),
    path("<int:pk>/copy/", views.copy_previous, name="copy_previous"),
    path("<int:pk>/year-over-year/", views.year_over_year, name="yoy"),
    path("<int:pk>/crosscheck/", views.crosscheck_page, name="crosscheck"),
    path("crosscheck/", views.crosscheck_index, name="crosscheck_index"),
]
