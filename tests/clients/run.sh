#!/usr/bin/env bash
# Runs the client interoperability suites (Python and Node) and schemathesis over the
# management API's OpenAPI document against a fresh ferrid server on a free loopback port.
#
#   FERRID_BIN   server binary (default: <repo>/target/debug/ferrid)
#
# Prints each suite's check lines, then a total "N passed, N failed".
# Exit status is non-zero if any check failed or the server did not start.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(git -C "$HERE" rev-parse --show-toplevel 2>/dev/null || (cd "$HERE/../.." && pwd))"
FERRID_BIN="${FERRID_BIN:-$ROOT/target/debug/ferrid}"

fail_early() {
    echo "client interop: $*" >&2
    echo "0 passed, 1 failed"
    exit 1
}

[ -x "$FERRID_BIN" ] || fail_early "server binary not found or not executable: $FERRID_BIN (build it first or set FERRID_BIN)"

bash "$HERE/setup.sh" || fail_early "setup.sh failed"

PY="$HERE/.venv/bin/python"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/ferrid-clients.XXXXXX")"
LOG="$TMP/server.log"
DATA="$TMP/data"
mkdir -p "$DATA"
SERVER_PID=""

cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null
        for _ in $(seq 1 50); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$SERVER_PID" 2>/dev/null
        wait "$SERVER_PID" 2>/dev/null
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

server_log_tail() {
    echo "---- server log (last 40 lines) ----" >&2
    tail -n 40 "$LOG" >&2 2>/dev/null || true
    echo "------------------------------------" >&2
}

PORT="$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
ADMIN_SECRET="$("$PY" -c 'import secrets; print(secrets.token_urlsafe(32))')"   # 43 chars
BASE="http://127.0.0.1:$PORT"

NO_COLOR=1 FERRID_ADMIN_SECRET="$ADMIN_SECRET" "$FERRID_BIN" serve \
    --listen "127.0.0.1:$PORT" \
    --public-url "$BASE" \
    --data-dir "$DATA" \
    </dev/null >"$LOG" 2>&1 &
SERVER_PID=$!

started=0
deadline=$((SECONDS + 30))
while [ "$SECONDS" -lt "$deadline" ]; do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        break
    fi
    code="$("$PY" - "$BASE/healthz" <<'EOF' 2>/dev/null
import sys, urllib.request
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=2).status)
except Exception as e:
    print(getattr(e, "code", 0))
EOF
)"
    if [ "$code" = "200" ]; then
        started=1
        break
    fi
    sleep 0.2
done

if [ "$started" != 1 ]; then
    if kill -0 "$SERVER_PID" 2>/dev/null; then
        echo "client interop: server did not answer 200 on /healthz within 30s" >&2
    else
        wait "$SERVER_PID"; rc=$?
        echo "client interop: server exited early with status $rc" >&2
    fi
    server_log_tail
    echo "0 passed, 1 failed"
    exit 1
fi

total_pass=0
total_fail=0
status=0

# Runs one suite, echoing its lines except its own summary, which is added
# to the totals. A suite that crashes without a summary counts as a failure.
run_suite() {
    local label="$1"; shift
    local out="$TMP/$label.out"
    echo "# $label"
    FERRID_URL="$BASE" FERRID_ADMIN_SECRET="$ADMIN_SECRET" "$@" >"$out" 2>&1 </dev/null
    local rc=$?
    local summary
    summary="$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -n 1)"
    grep -vE '^[0-9]+ passed, [0-9]+ failed$' "$out" | sed 's/^/  /'
    if [ -z "$summary" ]; then
        echo "  FAIL - $label: suite ended without a summary (exit $rc)"
        total_fail=$((total_fail + 1))
        status=1
        return
    fi
    local p f
    p="${summary%% passed*}"
    f="${summary#*, }"; f="${f%% failed}"
    echo "  ($label: $summary)"
    total_pass=$((total_pass + p))
    total_fail=$((total_fail + f))
    if [ "$rc" != 0 ] || [ "$f" != 0 ]; then
        status=1
    fi
}

run_suite python "$PY" "$HERE/python_clients.py"
run_suite node node "$HERE/node_clients.mjs"
# schemathesis over /api/v1/openapi.json: no 5xx, responses as documented (< 1 min)
run_suite schemathesis "$PY" "$HERE/api_fuzz.py"

if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "client interop: server died during the run" >&2
    server_log_tail
    total_fail=$((total_fail + 1))
    status=1
elif [ "$status" != 0 ]; then
    server_log_tail
fi

echo "$total_pass passed, $total_fail failed"
exit "$status"
