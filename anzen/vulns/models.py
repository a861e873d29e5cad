"""Vulnerability watch: CVE store, matching, findings, contract duties and notices."""
