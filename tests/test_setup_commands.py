"""`anzen setup --demo` and `anzen audit verify` as a user runs them: real processes, a fresh ANZEN_HOME.

The commands run with the production settings (as `make run` does), never on the test database:
on a SQLite file in the temporary ANZEN_HOME, or, when the suite itself runs on PostgreSQL
(DATABASE_URL, as in the second pass of `make test`), on a throwaway database created on that
server for the test and dropped afterwards. One sequence in one test: the set-up is the slow part
(migrations, static files, library, demo year), so it is done once.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings

ANZEN = Path(sys.executable).with_name("anzen")
ON_POSTGRESQL = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


class Target:
    """Where the commands keep their data, and raw access to it for checks and tampering."""

    def __init__(self, home: Path, database_url: str | None) -> None:
        self.home = home
        self.database_url = database_url

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if k not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL", "ANZEN_SECRET_KEY", "ANZEN_LANG"}}
        env.update(ANZEN_HOME=str(self.home), LANG="C.UTF-8", PYTHONIOENCODING="utf-8")
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        return env

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(ANZEN)] if ANZEN.exists() else [sys.executable, "-m", "anzen.cli.main"]
        result = subprocess.run([*command, *args], env=self.env(), capture_output=True, text=True,
                                timeout=600, check=False)
        if check and result.returncode != 0:
            pytest.fail(f"anzen {' '.join(args)} exited {result.returncode}\nstdout:\n{result.stdout}\n"
                        f"stderr:\n{result.stderr}")
        return result

    def execute(self, sql: str) -> int:
        """Run one statement; the number of rows it changed."""
        if self.database_url:
            import psycopg

            with psycopg.connect(self.database_url, autocommit=True) as connection:
                return connection.execute(sql).rowcount
        with sqlite3.connect(self.home / "anzen.sqlite3") as connection:
            return connection.execute(sql).rowcount

    def state(self) -> dict[str, tuple[int, str]]:
        """Row count and a digest of the full content of every table."""
        if self.database_url:
            import psycopg

            with psycopg.connect(self.database_url) as connection:
                tables = [row[0] for row in connection.execute(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
                    "AND table_type = 'BASE TABLE'")]
                return {table: _digest(connection.execute(f'SELECT * FROM "{table}"').fetchall())  # noqa: S608
                        for table in tables}
        with sqlite3.connect(self.home / "anzen.sqlite3") as connection:
            tables = [row[0] for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
            return {table: _digest(connection.execute(f'SELECT * FROM "{table}"').fetchall())  # noqa: S608
                    for table in tables}


def _digest(rows: list[Any]) -> tuple[int, str]:
    return len(rows), hashlib.sha256("\n".join(sorted(repr(tuple(row)) for row in rows)).encode()).hexdigest()


@pytest.fixture
def target(tmp_path: Path) -> Iterator[Target]:
    home = tmp_path / "home"
    if not ON_POSTGRESQL:
        yield Target(home, None)
        return
    import psycopg
    from psycopg import sql

    server = os.environ["DATABASE_URL"]
    name = f"anzen_setup_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield Target(home, urlsplit(server)._replace(path=f"/{name}").geturl())
    finally:
        with psycopg.connect(server, autocommit=True) as connection:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def test_setup_is_idempotent_and_audit_verify_detects_an_edited_entry(target: Target) -> None:
    from anzen.cli.setup import _human

    # First run: database, secret key, static files, library and demo data.
    first = json.loads(target.run("setup", "--demo", "--json").stdout)
    assert first["home"] == str(target.home.resolve())
    assert first["database"] == ("postgresql" if ON_POSTGRESQL else "sqlite3")
    assert first["demo"]["created"] is True
    assert first["library"]["loaded"] > 0
    assert {"sakura-admin", "sakura-auditor", "eval-evaluator"} <= {
        login["username"] for login in first["demo"]["logins"]}
    assert (target.home / "anzen.sqlite3").exists() is not ON_POSTGRESQL
    assert (target.home / "secret_key").exists()
    assert (target.home / "static" / "staticfiles.json").exists(), "collectstatic did not run"
    before = target.state()
    assert before["accounts_user"][0] >= 9
    assert before["common_auditentry"][0] >= 3

    # What `make run` prints: the data folder and every demo login with the shared password.
    text = _human(first)
    assert str(target.home.resolve()) in text
    assert first["demo"]["password"] in text
    for login in first["demo"]["logins"]:
        assert login["username"] in text

    # Second run: nothing changes, not even the audit trail.
    second = json.loads(target.run("setup", "--demo", "--json").stdout)
    after = target.state()
    assert second["demo"]["created"] is False
    assert second["library"]["loaded"] == 0
    assert second["library"]["unchanged"] == first["library"]["loaded"] + first["library"]["unchanged"]
    assert after["common_auditentry"][0] == before["common_auditentry"][0], "the audit chain grew"
    changed = {table: (before.get(table), after.get(table)) for table in before.keys() | after.keys()
               if before.get(table) != after.get(table)}
    assert changed == {}, f"the second run changed these tables (rows, digest): {changed}"

    # The audit chain verifies; after an entry is edited behind the application's back, it does not.
    report = json.loads(target.run("audit", "verify", "--json").stdout)
    assert report == {"ok": True, "checked": after["common_auditentry"][0]}
    assert target.execute("UPDATE common_auditentry SET object_repr = 'x' WHERE seq = 3") == 1
    bad = target.run("audit", "verify", check=False)
    assert bad.returncode == 1
    assert "#3 " in bad.stderr, bad.stderr
    assert "#1 " not in bad.stderr and "#2 " not in bad.stderr
    assert bad.stdout == ""
