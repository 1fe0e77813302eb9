#!/usr/bin/env bash
# Runs the client interoperability suites against a fresh ferrid server on a free
# loopback port:
#   python   python_clients.py: Authlib (client credentials, PrivateKeyJWT, the OpenID
#            Connect code flow with PKCE for client_secret_basic and private_key_jwt
#            clients, refresh rotation, a reused code; the implicit flow, id_token token
#            and id_token, validated by ImplicitIDToken through the JWKS),
#            requests-oauthlib, PyJWT (access and ID tokens through the JWKS, at_hash),
#            the login by plain form posts, introspection and revocation (Authlib
#            introspect_token/revoke_token, oauthlib's revocation request)
#   node     node_clients.mjs: openid-client v6 (client credentials, PrivateKeyJwt, the
#            code flow with PKCE and strict discovery, ID token, UserInfo, refresh, a
#            public client; the hybrid flow, code id_token by form_post and code
#            id_token token in the fragment; RP-initiated logout by buildEndSessionUrl,
#            also from an app-scoped discovery document; implicitAuthentication of an
#            id_token form_post),
#            oauth4webapi (code flow with the RFC 9207 iss check; introspectionRequest,
#            revocationRequest), jose
#   browser  browser_login.mjs: headless Chromium (Debian's, via playwright-core) signs
#            in on the login page by its labels; openid-client exchanges the code;
#            response_mode=form_post auto-submitted (CSP script hash) and, with
#            JavaScript off, by its "Continue" button
#   browser-logout  browser_logout.mjs: Front-Channel Logout in headless Chromium:
#            signed in through client A and then B (one session), A's RP-initiated
#            logout loads B's logout URI in an iframe; B's loopback server checks the
#            iss and sid it gets; then A's post-logout redirect with state, and
#            prompt=none -> login_required for both; a logout without id_token_hint
#            confirmed by the "Sign out" button
#   console  console.mjs: the web console in headless Chromium, by roles and labels
#            (sign-in, tenants, tracks, users, audit, isolation, CSRF, logout, without
#            JavaScript, an axe-core scan); screenshots to $FERRID_SCREENSHOTS
#            (default a temporary directory; FERRID_SCREENSHOTS=$PWD/docs/console refreshes
#            docs/console/*.png)
#   console-apps  console_apps.mjs: the console's application pages (each kind, a
#            token with the shown secret, names refused, secrets, a private_key_jwt
#            client with an uploaded certificate and PFX (openssl CLI), delete, without JS)
#   schemathesis over the management API's OpenAPI document
#   (the .mjs suites share lib.mjs: environment, assertions, management calls, the
#   loopback relying party, Chromium and the check runner)
#
#   FERRID_BIN   server binary (default: <repo>/target/debug/ferrid)
#
# Chromium: scripts/chromium installs Debian's package when /usr/bin/chromium is
# missing. If it still cannot be had, each browser suite counts as one failure under
# CI=true and is skipped, loudly, elsewhere.
#
# Prints each suite's check lines, then a total "N passed, N failed" (", N skipped"
# when a suite was skipped). Exit status is non-zero if any check failed or the server
# did not start.
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
ADMIN_PASSWORD="$("$PY" -c 'import secrets; print(secrets.token_urlsafe(18))')"  # the user admin's
BASE="http://127.0.0.1:$PORT"

NO_COLOR=1 FERRID_ADMIN_SECRET="$ADMIN_SECRET" FERRID_ADMIN_PASSWORD="$ADMIN_PASSWORD" "$FERRID_BIN" serve \
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
total_skip=0
status=0

# Runs one suite, echoing its lines except its own summary, which is added
# to the totals. A suite that crashes without a summary counts as a failure.
run_suite() {
    local label="$1"; shift
    local out="$TMP/$label.out"
    echo "# $label"
    FERRID_URL="$BASE" FERRID_ADMIN_SECRET="$ADMIN_SECRET" FERRID_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
        "$@" >"$out" 2>&1 </dev/null
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
# a real browser: Debian's Chromium, installed when missing
if CHROMIUM="$(bash "$ROOT/scripts/chromium" 2>"$TMP/chromium.err")"; then
    FERRID_CHROMIUM="$CHROMIUM" run_suite browser node "$HERE/browser_login.mjs"
    FERRID_CHROMIUM="$CHROMIUM" run_suite browser-logout node "$HERE/browser_logout.mjs"
    FERRID_CHROMIUM="$CHROMIUM" run_suite console node "$HERE/console.mjs"
    FERRID_CHROMIUM="$CHROMIUM" run_suite console-apps node "$HERE/console_apps.mjs"
else
    echo "# browser"
    sed 's/^/  /' "$TMP/chromium.err"
    if [ "${CI:-}" = "true" ]; then
        echo "  FAIL - browser: Chromium is required in CI and could not be installed"
        echo "  FAIL - browser-logout: Chromium is required in CI and could not be installed"
        echo "  FAIL - console: Chromium is required in CI and could not be installed"
        echo "  FAIL - console-apps: Chromium is required in CI and could not be installed"
        total_fail=$((total_fail + 4))
        status=1
    else
        echo "client interop: WARNING: no Chromium (scripts/chromium failed); the browser login, logout and console are NOT checked" >&2
        echo "  SKIP - browser: no Chromium; the browser login is NOT checked"
        echo "  SKIP - browser-logout: no Chromium; the front-channel logout is NOT checked"
        echo "  SKIP - console: no Chromium; the web console is NOT checked"
        echo "  SKIP - console-apps: no Chromium; the console's application pages are NOT checked"
        total_skip=$((total_skip + 4))
    fi
fi
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

if [ "$total_skip" != 0 ]; then
    echo "$total_pass passed, $total_fail failed, $total_skip skipped"
else
    echo "$total_pass passed, $total_fail failed"
fi
exit "$status"
