from django.urls import path

from anzen.library import views, views_import

app_name = "library"
urlpatterns = [
    path("", views.framework_list, name="framework_list"),
    path("editions/<int:pk>/", views.edition_detail, name="edition_detail"),
    path("nodes/<int:pk>/", views.node_detail, name="node_detail"),
    path("search/", views.search, name="search"),
    path("diff/", views.edition_diff, name="diff"),
    path("import/", views_import.import_upload, name="import_upload"),
    path("import/configure/", views_import.import_configure, name="import_configure"),
    path("import/cancel/", views_import.import_cancel, name="import_cancel"),
]
