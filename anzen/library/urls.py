from django.urls import path

from anzen.library import views

app_name = "library"
urlpatterns = [
    path("", views.framework_list, name="framework_list"),
    path("editions/<int:pk>/", views.edition_detail, name="edition_detail"),
]
