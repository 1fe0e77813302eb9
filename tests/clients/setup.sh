#!/usr/bin/env bash
# Installs the third-party clients used by the interoperability checks:
#   - a Python venv at tests/clients/.venv with requirements.txt (clients and schemathesis)
#   - node_modules from package-lock.json (npm ci)
# Idempotent: each step is redone only when its inputs changed (hash stamp).
# Quiet unless something fails; then the captured tool output is printed.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE"

PYTHON="${PYTHON:-python3}"
VENV="$HERE/.venv"
LOG="$(mktemp "${TMPDIR:-/tmp}/ferrid-clients-setup.XXXXXX")"
trap 'rm -f "$LOG"' EXIT

die() {
    echo "setup.sh: $*" >&2
    if [ -s "$LOG" ]; then
        echo "---- output ----" >&2
        tail -n 60 "$LOG" >&2
    fi
    exit 1
}

hash_of() {
    # Hash of the given files plus an extra string (tool version).
    local extra="$1"; shift
    { cat "$@"; printf '%s' "$extra"; } | sha256sum | cut -d' ' -f1
}

command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON not found"
command -v node >/dev/null 2>&1 || die "node not found"
command -v npm >/dev/null 2>&1 || die "npm not found"

# ---- Python -----------------------------------------------------------------
py_version="$("$PYTHON" -c 'import sys; print(sys.version)')"
py_hash="$(hash_of "$py_version" requirements.txt)"
py_stamp="$VENV/.ferrid-requirements.sha256"

venv_version="$("$VENV/bin/python" -c 'import sys; print(sys.version)' 2>/dev/null || true)"
if [ "$venv_version" != "$py_version" ]; then
    # missing, broken, or made by another Python: start over
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV" >"$LOG" 2>&1 \
        || die "could not create venv (on Debian: apt-get install python3-venv)"
fi

if [ "$(cat "$py_stamp" 2>/dev/null || true)" != "$py_hash" ]; then
    rm -f "$py_stamp"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        --no-input -r requirements.txt >"$LOG" 2>&1 \
        || die "pip install -r requirements.txt failed"
    "$VENV/bin/python" -c 'import authlib, requests_oauthlib, jwt, cryptography, requests, schemathesis' >"$LOG" 2>&1 \
        || die "installed Python packages do not import"
    printf '%s\n' "$py_hash" >"$py_stamp"
fi

# ---- Node -------------------------------------------------------------------
node_hash="$(hash_of "$(node --version)" package.json package-lock.json)"
node_stamp="$HERE/node_modules/.ferrid-lock.sha256"

if [ "$(cat "$node_stamp" 2>/dev/null || true)" != "$node_hash" ]; then
    npm ci --no-audit --no-fund --loglevel=error </dev/null >"$LOG" 2>&1 \
        || die "npm ci failed"
    printf '%s\n' "$node_hash" >"$node_stamp"
fi

exit 0
