"""`anzen setup --demo` and `anzen audit verify` as a user runs them: real processes, a fresh ANZEN_HOME.

The commands run with the production settings (as `make run` does) on a SQLite file in a temporary
folder, never with the test database. Each test takes a few seconds (migrations, static files).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

# Independent of the test database: nothing here uses pytest-django's db fixtures. Each test has its
# own data folder, so pytest-xdist may run them side by side.
ANZEN = Path(sys.executable).with_name("anzen")


def anzen(home: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if k not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL", "ANZEN_SECRET_KEY", "ANZEN_LANG"}}
    env.update(ANZEN_HOME=str(home), LANG="C.UTF-8", PYTHONIOENCODING="utf-8")
    command = [str(ANZEN)] if ANZEN.exists() else [sys.executable, "-m", "anzen.cli.main"]
    result = subprocess.run([*command, *args], env=env, capture_output=True, text=True, timeout=300,
                            check=False)
    if check and result.returncode != 0:
        pytest.fail(f"anzen {' '.join(args)} exited {result.returncode}\nstdout:\n{result.stdout}\n"
                    f"stderr:\n{result.stderr}")
    return result


def database_state(path: Path) -> dict[str, tuple[int, str]]:
    """Row count and a digest of the full content of every table."""
    with sqlite3.connect(path) as connection:
        tables = [row[0] for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        state = {}
        for table in tables:
            rows = connection.execute(f'SELECT * FROM "{table}" ORDER BY 1').fetchall()  # noqa: S608
            state[table] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
    return state


def test_setup_demo_twice_the_second_run_changes_nothing(tmp_path: Path) -> None:
    from anzen.cli.setup import _human

    home = tmp_path / "home"
    first = json.loads(anzen(home, "setup", "--demo", "--json").stdout)
    assert first["home"] == str(home.resolve())
    assert first["database"] == "sqlite3"
    assert first["demo"]["created"] is True
    assert first["library"]["loaded"] > 0
    assert {"sakura-admin", "sakura-auditor", "eval-evaluator"} <= {
        login["username"] for login in first["demo"]["logins"]}
    assert (home / "anzen.sqlite3").exists()
    assert (home / "secret_key").exists()
    assert (home / "static" / "staticfiles.json").exists(), "collectstatic did not run"
    before = database_state(home / "anzen.sqlite3")
    assert before["accounts_user"][0] >= 9
    assert before["common_auditentry"][0] >= 3

    # What `make run` prints: the data folder and every demo login with the shared password.
    text = _human(first)
    assert str(home.resolve()) in text
    assert first["demo"]["password"] in text
    for login in first["demo"]["logins"]:
        assert login["username"] in text

    second = json.loads(anzen(home, "setup", "--demo", "--json").stdout)
    after = database_state(home / "anzen.sqlite3")
    assert second["demo"]["created"] is False
    assert second["library"]["loaded"] == 0
    assert second["library"]["unchanged"] == first["library"]["loaded"] + first["library"]["unchanged"]
    assert after["common_auditentry"][0] == before["common_auditentry"][0], "the audit chain grew"
    changed = {table: (before.get(table), after.get(table)) for table in before.keys() | after.keys()
               if before.get(table) != after.get(table)}
    assert changed == {}, f"the second run changed these tables (rows, digest): {changed}"


def test_audit_verify_detects_an_edited_entry(tmp_path: Path) -> None:
    home = tmp_path / "home"
    anzen(home, "setup", "--demo")
    ok = anzen(home, "audit", "verify", "--json")
    report = json.loads(ok.stdout)
    assert report["ok"] is True
    entries = database_state(home / "anzen.sqlite3")["common_auditentry"][0]
    assert report["checked"] == entries >= 3

    with sqlite3.connect(home / "anzen.sqlite3") as connection:
        edited = connection.execute("UPDATE common_auditentry SET object_repr = 'x' WHERE seq = 3")
        assert edited.rowcount == 1

    bad = anzen(home, "audit", "verify", check=False)
    assert bad.returncode == 1
    assert "#3 " in bad.stderr, bad.stderr
    assert "#1 " not in bad.stderr and "#2 " not in bad.stderr
    assert bad.stdout == ""
