#!/usr/bin/env bash
# The whole test run (`make test`, and CI through .ci/run):
#
#   1. system packages the tests need, installed with apt-get only when missing:
#      Debian's chromium (browser tests), fonts-ipaexfont (Japanese rendering), gettext (msgfmt),
#      poppler-utils (pdftotext/pdffonts: the PDF tests read the generated PDFs back)
#   2. .venv synced with requirements/dev.txt (scripts/venv.sh)
#   3. ruff check
#   4. pytest on SQLite
#   5. pytest on PostgreSQL: DATABASE_URL when given, otherwise a throwaway cluster started in a
#      temporary folder on a free port and removed afterwards, whatever happens
#
# Every step runs even when an earlier one failed; a summary follows, and the exit status is
# non-zero when any step failed. Arguments are passed to pytest (scripts/test.sh -k login -x).
#
# Variables: DATABASE_URL (PostgreSQL to test against instead of a throwaway cluster),
# TEST_DATABASES ("sqlite postgresql" by default; one of them to run only that),
# PYTEST_WORKERS (pytest-xdist processes, default 2; 0 runs in one process),
# PG_BINDIR (folder with initdb and pg_ctl; default: the newest /usr/lib/postgresql/*/bin).
set -uo pipefail

cd "$(dirname "$0")/.."
ROOT="$PWD"
ARTIFACTS="$ROOT/test-artifacts"
TEST_DATABASES="${TEST_DATABASES:-sqlite postgresql}"
PYTEST_WORKERS="${PYTEST_WORKERS:-2}"
GIVEN_DATABASE_URL="${DATABASE_URL:-}"
# Tests must never touch a real data folder or database from the caller's environment.
unset DATABASE_URL ANZEN_HOME ANZEN_SECRET_KEY

declare -a SUMMARY=()
FAILED=0
START_ALL=$SECONDS

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
die() { printf '\033[31mtest.sh: %s\033[0m\n' "$*" >&2; exit 1; }

# step NAME COMMAND...: run, time and record the outcome.
step() {
    local name="$1" start=$SECONDS status
    shift
    say "$name"
    "$@"
    status=$?
    if [ "$status" -eq 0 ]; then
        SUMMARY+=("$(printf '  ok      %-34s %4ss' "$name" $((SECONDS - start)))")
    else
        SUMMARY+=("$(printf '  FAILED  %-34s %4ss  (exit %s)' "$name" $((SECONDS - start)) "$status")")
        FAILED=1
    fi
    return 0
}

# --- 1. system packages -------------------------------------------------------------------------

package_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

system_packages() {
    local missing=()
    if ! [ -x /usr/bin/chromium ]; then missing+=(chromium); fi
    if ! package_installed fonts-ipaexfont-gothic; then missing+=(fonts-ipaexfont); fi
    if ! command -v msgfmt >/dev/null 2>&1; then missing+=(gettext); fi
    if ! command -v pdftotext >/dev/null 2>&1; then missing+=(poppler-utils); fi
    if [ ${#missing[@]} -eq 0 ]; then
        echo "chromium, fonts-ipaexfont, gettext and poppler-utils are installed"
        return 0
    fi
    command -v apt-get >/dev/null 2>&1 \
        || { echo "missing ${missing[*]} and no apt-get: install them by hand" >&2; return 1; }
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            sudo=(sudo)
        else
            echo "missing ${missing[*]}: run as root, or install sudo, or install them by hand" >&2
            return 1
        fi
    fi
    local apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -y -q)
    # Refresh the package lists only when apt does not know a package (first run on a new machine).
    local pkg need_update=0
    for pkg in "${missing[@]}"; do
        apt-cache show "$pkg" >/dev/null 2>&1 || need_update=1
    done
    if [ "$need_update" -eq 1 ]; then
        echo "apt-get update"
        "${apt[@]}" update >/dev/null || return 1
    fi
    echo "apt-get install ${missing[*]}"
    if ! "${apt[@]}" install --no-install-recommends "${missing[@]}" >/dev/null; then
        # Stale lists (a package version gone from the mirror): refresh once and retry.
        echo "install failed; apt-get update and retry"
        "${apt[@]}" update >/dev/null && "${apt[@]}" install --no-install-recommends "${missing[@]}" >/dev/null \
            || return 1
    fi
    fc-cache >/dev/null 2>&1 || true
}

# --- 4./5. pytest -------------------------------------------------------------------------------

run_pytest() {  # $1: label (sqlite / postgresql); the rest: extra pytest arguments
    local label="$1"
    shift
    local workers=()
    if [ "$PYTEST_WORKERS" != 0 ]; then workers=(-n "$PYTEST_WORKERS"); fi
    rm -rf "${ARTIFACTS:?}/$label"
    mkdir -p "$ARTIFACTS/$label"
    # In the background and waited for, so that a signal to this script runs its trap at once
    # (stopping pytest and removing the throwaway cluster) instead of after pytest ends.
    ANZEN_TEST_ARTIFACTS="$ARTIFACTS/$label" .venv/bin/pytest -q "${workers[@]}" \
        --junitxml="$ARTIFACTS/$label/junit.xml" "$@" </dev/null &
    PYTEST_PID=$!
    wait "$PYTEST_PID"
    local status=$?
    PYTEST_PID=""
    return "$status"
}

PG_TMP=""
PG_DATA=""
cleanup_pg() {
    [ -n "$PG_TMP" ] || return 0
    if [ -f "$PG_DATA/postmaster.pid" ]; then
        as_pg "$PG_BINDIR/pg_ctl" -D "$PG_DATA" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$PG_TMP"
    echo "throwaway PostgreSQL cluster stopped and removed ($PG_TMP)"
    PG_TMP=""
}
PYTEST_PID=""
interrupted() {
    trap - INT TERM
    printf '\ninterrupted\n' >&2
    if [ -n "$PYTEST_PID" ]; then
        pkill -TERM -P "$PYTEST_PID" 2>/dev/null  # the pytest-xdist workers
        kill -TERM "$PYTEST_PID" 2>/dev/null
        wait "$PYTEST_PID" 2>/dev/null
    fi
    cleanup_pg
    exit 130
}
trap cleanup_pg EXIT
trap interrupted INT TERM

as_pg() {  # initdb and pg_ctl refuse to run as root: run them as the postgres user then
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_throwaway_cluster() {
    if [ -z "${PG_BINDIR:-}" ]; then
        PG_BINDIR="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
    fi
    if ! [ -x "${PG_BINDIR:-}/initdb" ]; then
        echo "no PostgreSQL server binaries (initdb) found: install postgresql, set PG_BINDIR," \
            "or set DATABASE_URL=postgres://user@host:port/db" >&2
        return 1
    fi
    if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
        echo "running as root but there is no 'postgres' user to run initdb as" >&2
        return 1
    fi
    PG_TMP="$(mktemp -d /tmp/anzen-pg.XXXXXX)"
    PG_DATA="$PG_TMP/data"
    mkdir -p "$PG_TMP/socket"
    if [ "$(id -u)" -eq 0 ]; then chown -R postgres: "$PG_TMP"; fi
    local port
    port="$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    echo "initdb in $PG_DATA ($("$PG_BINDIR/postgres" --version))"
    as_pg "$PG_BINDIR/initdb" -D "$PG_DATA" -U postgres --auth=trust -E UTF8 --no-locale --no-sync \
        >"$PG_TMP/initdb.log" 2>&1 || { cat "$PG_TMP/initdb.log" >&2; return 1; }
    # Durability is pointless for a cluster that is deleted afterwards: fsync off makes tests faster.
    as_pg "$PG_BINDIR/pg_ctl" -D "$PG_DATA" -l "$PG_TMP/server.log" -w -t 60 \
        -o "-p $port -k $PG_TMP/socket -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=50" \
        start >/dev/null || { cat "$PG_TMP/server.log" >&2; return 1; }
    as_pg "$PG_BINDIR/createdb" -h "$PG_TMP/socket" -p "$port" -U postgres anzen || return 1
    export DATABASE_URL="postgres://postgres@127.0.0.1:$port/anzen"
    echo "throwaway cluster on 127.0.0.1:$port (DATABASE_URL=$DATABASE_URL)"
}

pytest_postgresql() {
    local status
    if [ -n "$GIVEN_DATABASE_URL" ]; then
        echo "using the given DATABASE_URL (tests create and drop their own test_* databases there)"
        export DATABASE_URL="$GIVEN_DATABASE_URL"
    else
        start_throwaway_cluster || return 1
    fi
    run_pytest postgresql "$@"
    status=$?
    cleanup_pg
    unset DATABASE_URL
    return "$status"
}

# --- the run ------------------------------------------------------------------------------------

step "system packages" system_packages
step "virtual environment (.venv, dev)" scripts/venv.sh dev
[ -x .venv/bin/pytest ] || { printf '%s\n' "${SUMMARY[@]}"; die "the virtual environment could not be set up"; }
step "ruff check" .venv/bin/ruff check --output-format concise .
for db in $TEST_DATABASES; do
    case "$db" in
        sqlite) step "pytest on SQLite" run_pytest sqlite "$@" ;;
        postgresql) step "pytest on PostgreSQL" pytest_postgresql "$@" ;;
        *) die "unknown database in TEST_DATABASES: $db (sqlite, postgresql)" ;;
    esac
done

say "summary ($((SECONDS - START_ALL))s in all; artefacts in test-artifacts/)"
printf '%s\n' "${SUMMARY[@]}"
if [ "$FAILED" -ne 0 ]; then
    printf '\033[31mFAILED\033[0m\n'
    exit 1
fi
printf '\033[32mall passed\033[0m\n'
