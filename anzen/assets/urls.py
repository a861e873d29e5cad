"""URLs of the ledger (namespace "assets"), assembled from its three areas: the ledger screens (core),
the CSV/Excel import, and the network scans."""

from anzen.assets.urls_core import urlpatterns as core_patterns
from anzen.assets.urls_import import urlpatterns as import_patterns
from anzen.assets.urls_scan import urlpatterns as scan_patterns

app_name = "assets"
urlpatterns = [*core_patterns, *import_patterns, *scan_patterns]
