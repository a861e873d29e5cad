#!/usr/bin/env bash
# Create or update the project's virtual environment (.venv) from the lock files.
#
#   scripts/venv.sh base   runtime dependencies (requirements/base.txt) + anzen (editable)
#   scripts/venv.sh dev    runtime + test and lint tools (requirements/dev.txt) + anzen (editable)
#
# Incremental: a stamp file in .venv records a hash of the lock file, pyproject.toml and the uv
# version; when nothing changed the script returns at once. The environment is synced exactly to
# the lock file (uv pip sync), so a package removed from the lock is removed from .venv too.
# The dev lock is compiled with the runtime lock as constraints, so a dev environment also
# satisfies "base" and `make run` after `make test` does not reinstall anything.
#
# Variables: PYTHON (interpreter to create .venv with; default python3.11, else python3 >= 3.11),
# VENV (default .venv), UV_VERSION (the uv release bootstrapped into .venv).
set -euo pipefail

cd "$(dirname "$0")/.."
KIND="${1:-dev}"
VENV="${VENV:-.venv}"
UV_VERSION="${UV_VERSION:-0.13.9}"
LOCK="requirements/${KIND}.txt"

case "$KIND" in base | dev) ;; *) echo "usage: $0 base|dev" >&2; exit 2 ;; esac
[ -f "$LOCK" ] || { echo "venv: $LOCK is missing (make lock)" >&2; exit 1; }

python_ok() {  # $1: interpreter; true when it is CPython >= 3.11
    "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null
}

pick_python() {
    local candidate
    for candidate in ${PYTHON:-} python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 && python_ok "$candidate"; then
            echo "$candidate"
            return 0
        fi
    done
    echo "venv: Python 3.11 or newer is needed (tried: ${PYTHON:-} python3.11 python3); set PYTHON=/path/to/python3.11" >&2
    return 1
}

if [ -x "$VENV/bin/python" ] && ! python_ok "$VENV/bin/python"; then
    echo "venv: $VENV uses $("$VENV/bin/python" -V 2>&1); recreating it" >&2
    rm -rf "$VENV"
fi
if [ ! -x "$VENV/bin/python" ]; then
    PY="$(pick_python)"
    echo "venv: creating $VENV with $PY ($("$PY" -V 2>&1))"
    "$PY" -m venv "$VENV"
fi
if ! "$VENV/bin/uv" --version 2>/dev/null | grep -q "^uv ${UV_VERSION}\b"; then
    echo "venv: installing uv ${UV_VERSION} into $VENV"
    "$VENV/bin/python" -m pip install --quiet --quiet --disable-pip-version-check "uv==${UV_VERSION}"
fi

key_of() {  # the stamp content for a lock kind
    { cat "requirements/$1.txt" pyproject.toml; echo "uv ${UV_VERSION}"; "$VENV/bin/python" -V; } \
        | sha256sum | cut -d' ' -f1
}
stamp_current() { [ -f "$VENV/.stamp-$1" ] && [ "$(cat "$VENV/.stamp-$1")" = "$(key_of "$1")" ]; }

if stamp_current "$KIND" || { [ "$KIND" = base ] && stamp_current dev; }; then
    exit 0
fi

echo "venv: syncing $VENV with $LOCK"
rm -f "$VENV"/.stamp-*
export UV_PYTHON="$VENV/bin/python"
"$VENV/bin/uv" pip sync --quiet --python "$VENV/bin/python" "$LOCK"
"$VENV/bin/uv" pip install --quiet --python "$VENV/bin/python" --no-deps -e .

# The lock files must cover what pyproject.toml asks for (someone added a dependency and forgot
# `make lock`): check every requirement of anzen (with the dev extra for "dev") against .venv.
if ! "$VENV/bin/python" - "$KIND" <<'PY'
import sys
from importlib.metadata import PackageNotFoundError, requires, version

from packaging.requirements import Requirement

extras = {"dev"} if sys.argv[1] == "dev" else set()
problems = []
for text in requires("anzen") or []:
    req = Requirement(text)
    if req.marker and not any(req.marker.evaluate({"extra": e}) for e in extras | {""}):
        continue
    try:
        installed = version(req.name)
    except PackageNotFoundError:
        problems.append(f"{req} is not in the lock file")
        continue
    if req.specifier and not req.specifier.contains(installed, prereleases=True):
        problems.append(f"{req} but the lock file has {installed}")
for problem in problems:
    print(f"venv: {problem}", file=sys.stderr)
sys.exit(1 if problems else 0)
PY
then
    echo "venv: requirements/*.txt are out of date with pyproject.toml: run 'make lock' and commit them" >&2
    exit 1
fi
key_of "$KIND" >"$VENV/.stamp-$KIND"
echo "venv: $VENV is ready ($KIND)"
