"""URLs of the assessments app, assembled from the modules of its three areas."""

from anzen.assessments.urls_answer_once import urlpatterns as answer_once_patterns
from anzen.assessments.urls_core import urlpatterns as core_patterns
from anzen.assessments.urls_files import urlpatterns as file_patterns

app_name = "assessments"
urlpatterns = [*core_patterns, *file_patterns, *answer_once_patterns]
