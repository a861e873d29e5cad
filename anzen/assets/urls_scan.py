"""URLs of the network scans (nmap XML import and reconciliation) — provided by the scan area."""

urlpatterns: list = []
