"""URLs of the ledger import (CSV/Excel with column mapping) — provided by the import area."""

urlpatterns: list = []
