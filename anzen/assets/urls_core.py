"""URLs of the ledger screens (namespace "assets")."""

urlpatterns: list = []
