#!/usr/bin/env python3
"""Interoperability checks of ferrid against third-party Python OAuth clients.

Clients exercised: Authlib (OAuth2Session), requests-oauthlib
(BackendApplicationClient + OAuth2Session.fetch_token), plain requests, and
PyJWT (PyJWKClient) for verifying the issued access tokens through the JWKS.

Environment:
  FERRID_URL           base URL of a running server, e.g. http://127.0.0.1:8080
  FERRID_ADMIN_SECRET  secret of the bootstrap client master/master/admin

Output: one line per check ("ok - name" / "FAIL - name: reason"), then
"N passed, N failed". Exit code 1 if any check failed.
"""

import base64
import os
import secrets
import sys
import time
import traceback
import urllib.parse

# oauthlib refuses http:// token endpoints unless told otherwise; the test
# server listens on loopback without TLS.
os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")

import jwt  # PyJWT
import requests
from authlib.integrations.requests_client import OAuth2Session as AuthlibSession
from authlib.integrations.requests_client import OAuthError
from oauthlib.oauth2 import BackendApplicationClient
from oauthlib.oauth2.rfc6749 import errors as oauthlib_errors
from requests.auth import HTTPBasicAuth
from requests_oauthlib import OAuth2Session as RequestsOAuthSession

TIMEOUT = 15
RESOURCE = "party-api2"
RESOURCE_SCOPES = ["read1", "read2"]

# track name -> signing_alg sent at creation (None: server default RS256)
TRACKS = {"rs": None, "es": "ES256", "ed": "EdDSA", "ps": "PS256"}
EXPECTED_ALG = {"rs": "RS256", "es": "ES256", "ed": "EdDSA", "ps": "PS256"}
# JWK key type (kty, crv) expected per algorithm
EXPECTED_KTY = {
    "RS256": ("RSA", None),
    "PS256": ("RSA", None),
    "ES256": ("EC", "P-256"),
    "EdDSA": ("OKP", "Ed25519"),
}


class CheckFailed(Exception):
    pass


def expect(cond, msg):
    if not cond:
        raise CheckFailed(msg)


def eq(got, want, what):
    if got != want:
        raise CheckFailed(f"{what}: expected {want!r}, got {got!r}")


def short(text, n=300):
    text = str(text).replace("\n", " ").replace("\r", " ")
    return text if len(text) <= n else text[:n] + "..."


def resp_info(r):
    return f"HTTP {r.status_code} {short(r.text, 200)}"


class Ctx:
    """State shared between checks (filled by the setup checks)."""

    def __init__(self, base, admin_secret):
        self.base = base.rstrip("/")
        self.admin_secret = admin_secret
        self.http = requests.Session()
        self.admin_token = None
        # unique tenant per run so several suites can share one server
        self.tenant = "py" + secrets.token_hex(5)
        self.tracks_created = set()
        # (track, app) -> creation response body of an oauth_client
        self.clients = {}

    def issuer(self, track):
        return f"{self.base}/{self.tenant}/{track}"

    def token_endpoint(self, track):
        return self.issuer(track) + "/oauth/token"

    def jwks_uri(self, track):
        return self.issuer(track) + "/oauth/keys"

    def client(self, track, app):
        c = self.clients.get((track, app))
        if c is None:
            raise CheckFailed(f"setup did not create client {track}/{app}")
        return c

    def admin(self):
        if not self.admin_token:
            raise CheckFailed("no admin token (setup failed)")
        return {"Authorization": f"Bearer {self.admin_token}"}

    def api_post(self, path, body):
        return self.http.post(
            f"{self.base}/api/v1{path}", json=body, headers=self.admin(), timeout=TIMEOUT
        )


# --------------------------------------------------------------------------
# token verification with PyJWT
# --------------------------------------------------------------------------

def verify_access_token(ctx, token, track, client_id, scope, aud=RESOURCE):
    """Verify `token` with PyJWT through the track's JWKS; assert the claims."""
    alg = EXPECTED_ALG[track]
    issuer = ctx.issuer(track)
    header = jwt.get_unverified_header(token)
    eq(header.get("typ"), "at+jwt", "JWT header typ")
    eq(header.get("alg"), alg, "JWT header alg")
    expect(isinstance(header.get("kid"), str) and header["kid"], f"JWT header has no kid: {header}")

    jwks_client = jwt.PyJWKClient(ctx.jwks_uri(track), cache_jwk_set=False, timeout=TIMEOUT)
    signing_key = jwks_client.get_signing_key_from_jwt(token)
    jwk = signing_key._jwk_data
    kty, crv = EXPECTED_KTY[alg]
    eq(jwk.get("kty"), kty, "JWK kty")
    if crv:
        eq(jwk.get("crv"), crv, "JWK crv")
    if "alg" in jwk:
        eq(jwk["alg"], alg, "JWK alg")
    if "use" in jwk:
        eq(jwk["use"], "sig", "JWK use")

    claims = jwt.decode(
        token,
        signing_key.key,
        algorithms=[alg],
        audience=aud,
        issuer=issuer,
        leeway=5,
        options={"require": ["iss", "sub", "aud", "exp", "iat", "nbf", "jti"]},
    )
    eq(claims["iss"], issuer, "iss")
    eq(claims["sub"], client_id, "sub")
    eq(claims.get("client_id"), client_id, "client_id claim")
    eq(claims["aud"], aud, "aud")
    eq(claims.get("scope"), scope, "scope claim")
    now = time.time()
    expect(claims["iat"] <= now + 5, f"iat in the future: {claims['iat']} (now {now:.0f})")
    expect(claims["exp"] > now, f"exp not in the future: {claims['exp']}")
    expect(claims["nbf"] <= now + 5, f"nbf in the future: {claims['nbf']}")
    expect(isinstance(claims["jti"], str) and len(claims["jti"]) >= 8, f"weak jti {claims['jti']!r}")
    return claims


def check_token_response(tok, scope):
    """Assert the RFC 6749 §5.1 token response fields."""
    expect(isinstance(tok.get("access_token"), str) and tok["access_token"], f"no access_token in {tok}")
    eq(tok.get("token_type"), "Bearer", "token_type")
    expect(isinstance(tok.get("expires_in"), int) and tok["expires_in"] > 0,
           f"expires_in not a positive integer: {tok.get('expires_in')!r}")
    got = tok.get("scope")
    if isinstance(got, list):
        # oauthlib (requests-oauthlib) parses the scope string into a list
        got = " ".join(got)
    eq(got, scope, "response scope")


def check_expiry_matches(tok, claims):
    lifetime = claims["exp"] - claims["iat"]
    expect(abs(lifetime - tok["expires_in"]) <= 5,
           f"exp-iat={lifetime} but expires_in={tok['expires_in']}")


def raw_token(ctx, track, data, auth=None, headers=None, url=None):
    return ctx.http.post(url or ctx.token_endpoint(track), data=data, auth=auth,
                         headers=headers, timeout=TIMEOUT)


def basic_header(user, password):
    raw = f"{user}:{password}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def flip_last_char(secret):
    """A secret differing from `secret` only in its last character."""
    return secret[:-1] + ("A" if secret[-1] != "A" else "B")


def error_body(r):
    try:
        body = r.json()
    except ValueError:
        raise CheckFailed(f"error response is not JSON: {resp_info(r)}")
    expect(isinstance(body, dict), f"error body not an object: {body!r}")
    return body


# --------------------------------------------------------------------------
# setup checks (management API)
# --------------------------------------------------------------------------

def check_admin_token_post(ctx):
    r = ctx.http.post(
        f"{ctx.base}/master/master/oauth/token",
        data={"grant_type": "client_credentials", "client_id": "admin",
              "client_secret": ctx.admin_secret, "scope": "ferrid-api:admin"},
        timeout=TIMEOUT,
    )
    eq(r.status_code, 200, f"admin token status ({short(r.text)})")
    tok = r.json()
    check_token_response(tok, "ferrid-api:admin")
    ctx.admin_token = tok["access_token"]


def check_admin_token_basic(ctx):
    # authlib with client_secret_basic against the bootstrap admin client
    # (documented: method client_secret_post, Basic accepted too)
    sess = AuthlibSession("admin", ctx.admin_secret,
                          token_endpoint_auth_method="client_secret_basic",
                          scope="ferrid-api:admin")
    tok = sess.fetch_token(f"{ctx.base}/master/master/oauth/token", grant_type="client_credentials")
    check_token_response(tok, "ferrid-api:admin")
    claims = jwt.decode(tok["access_token"], options={"verify_signature": False})
    eq(claims.get("iss"), f"{ctx.base}/master/master", "iss")
    eq(claims.get("sub"), "admin", "sub")


def check_create_tenant(ctx):
    r = ctx.api_post("/tenants", {"name": ctx.tenant})
    eq(r.status_code, 201, f"create tenant ({short(r.text)})")
    body = r.json()
    eq(body.get("name"), ctx.tenant, "tenant name in response")
    r = ctx.api_post("/tenants", {"name": ctx.tenant})
    eq(r.status_code, 409, f"duplicate tenant ({short(r.text)})")


def check_management_requires_admin_token(ctx):
    # One connection per request (not ctx.http): the server may answer 401
    # before the JSON body has arrived and then drop the keep-alive connection
    # without "Connection: close", which breaks the next request on it.
    url = f"{ctx.base}/api/v1/tenants"
    body = {"name": ctx.tenant + "x"}
    r = requests.post(url, json=body, headers={"Connection": "close"}, timeout=TIMEOUT)
    eq(r.status_code, 401, f"no bearer token ({short(r.text)})")
    expect(r.headers.get("WWW-Authenticate", "").lower().startswith("bearer"),
           f"WWW-Authenticate should start with Bearer, got {r.headers.get('WWW-Authenticate')!r}")
    r = requests.post(url, json=body, timeout=TIMEOUT,
                      headers={"Authorization": "Bearer not-a-token", "Connection": "close"})
    eq(r.status_code, 401, f"garbage bearer token ({short(r.text)})")
    # a valid token of a non-admin client is refused too
    c = ctx.client("rs", "svc-post")
    tok = requests.post(ctx.token_endpoint("rs"), timeout=TIMEOUT, data={
        "grant_type": "client_credentials", "client_id": c["client_id"],
        "client_secret": c["client_secret"], "scope": "party-api2:read1"}).json()
    r = requests.post(url, json=body, timeout=TIMEOUT, headers={
        "Authorization": f"Bearer {tok['access_token']}", "Connection": "close"})
    expect(r.status_code in (401, 403), f"non-admin token: expected 401/403, got {resp_info(r)}")


def check_create_tracks(ctx):
    for track, alg in TRACKS.items():
        body = {"name": track}
        if alg:
            body["signing_alg"] = alg
        r = ctx.api_post(f"/tenants/{ctx.tenant}/tracks", body)
        eq(r.status_code, 201, f"create track {track} ({short(r.text)})")
        ctx.tracks_created.add(track)


def check_create_apps(ctx):
    expect(ctx.tracks_created, "no tracks were created")
    for track in TRACKS:
        base = f"/tenants/{ctx.tenant}/tracks/{track}/apps"
        r = ctx.api_post(base, {"name": RESOURCE, "kind": "oauth_resource", "scopes": RESOURCE_SCOPES})
        eq(r.status_code, 201, f"create resource in {track} ({short(r.text)})")
        grants = [{"resource": RESOURCE, "scopes": RESOURCE_SCOPES}]
        apps = [("svc-basic", {"client_auth_method": "client_secret_basic"})]
        if track == "rs":
            # default client_auth_method is client_secret_post
            apps.append(("svc-post", {}))
        for name, extra in apps:
            req = {"name": name, "kind": "oauth_client", "resource_scopes": grants, **extra}
            r = ctx.api_post(base, req)
            eq(r.status_code, 201, f"create client {track}/{name} ({short(r.text)})")
            body = r.json()
            expect(isinstance(body.get("client_id"), str) and body["client_id"],
                   f"no client_id in {short(body)}")
            secret = body.get("client_secret")
            expect(isinstance(secret, str) and len(secret) == 43,
                   f"client_secret not 43 chars: {secret!r}")
            eq(body.get("issuer"), ctx.issuer(track), "issuer in client response")
            eq(body.get("token_endpoint"), ctx.token_endpoint(track), "token_endpoint in client response")
            # the track's discovery document or the app-scoped one
            allowed = (ctx.issuer(track) + "/.well-known/openid-configuration",
                       f"{ctx.issuer(track)}/{name}/.well-known/openid-configuration")
            expect(body.get("discovery_endpoint") in allowed,
                   f"discovery_endpoint: expected one of {allowed}, got {body.get('discovery_endpoint')!r}")
            want_method = extra.get("client_auth_method", "client_secret_post")
            if "client_auth_method" in body:
                eq(body["client_auth_method"], want_method, "client_auth_method in response")
            ctx.clients[(track, name)] = body


# --------------------------------------------------------------------------
# discovery
# --------------------------------------------------------------------------

def fetch_json(ctx, url):
    r = ctx.http.get(url, timeout=TIMEOUT)
    eq(r.status_code, 200, f"GET {url} ({short(r.text)})")
    ctype = r.headers.get("Content-Type", "")
    expect(ctype.split(";")[0].strip() == "application/json", f"Content-Type {ctype!r} for {url}")
    return r.json()


def assert_metadata(ctx, md, track, token_endpoint):
    issuer = ctx.issuer(track)
    eq(md.get("issuer"), issuer, "issuer")
    eq(md.get("token_endpoint"), token_endpoint, "token_endpoint")
    eq(md.get("jwks_uri"), ctx.jwks_uri(track), "jwks_uri")
    if "grant_types_supported" in md:
        expect("client_credentials" in md["grant_types_supported"],
               f"grant_types_supported lacks client_credentials: {md['grant_types_supported']}")
    if "token_endpoint_auth_methods_supported" in md:
        for m in ("client_secret_basic", "client_secret_post"):
            expect(m in md["token_endpoint_auth_methods_supported"],
                   f"token_endpoint_auth_methods_supported lacks {m}")


def check_discovery_openid(ctx):
    track = "rs"
    md = fetch_json(ctx, ctx.issuer(track) + "/.well-known/openid-configuration")
    assert_metadata(ctx, md, track, ctx.token_endpoint(track))
    jwks = fetch_json(ctx, md["jwks_uri"])
    keys = jwks.get("keys")
    expect(isinstance(keys, list) and keys, f"JWKS has no keys: {short(jwks)}")
    for k in keys:
        expect(k.get("kid"), f"JWK without kid: {k}")
        for private in ("d", "p", "q", "dp", "dq", "qi"):
            expect(private not in k, f"JWKS leaks private key member {private!r}")


def check_discovery_oauth_as(ctx):
    track = "es"
    md = fetch_json(ctx, ctx.issuer(track) + "/.well-known/oauth-authorization-server")
    assert_metadata(ctx, md, track, ctx.token_endpoint(track))


def check_discovery_app_scoped(ctx):
    track = "rs"
    app = "svc-post"
    c = ctx.client(track, app)
    url = f"{ctx.issuer(track)}/{app}/.well-known/openid-configuration"
    md = fetch_json(ctx, url)
    assert_metadata(ctx, md, track, f"{ctx.issuer(track)}/{app}/oauth/token")
    # the discovery_endpoint given at client creation must serve the same issuer
    md2 = fetch_json(ctx, c["discovery_endpoint"])
    eq(md2.get("issuer"), ctx.issuer(track), "issuer at the client's discovery_endpoint")


def check_unknown_issuer_404(ctx):
    r = ctx.http.get(f"{ctx.base}/{ctx.tenant}/nosuchtrack/.well-known/openid-configuration",
                     timeout=TIMEOUT)
    eq(r.status_code, 404, f"unknown track discovery ({short(r.text)})")


# --------------------------------------------------------------------------
# authlib
# --------------------------------------------------------------------------

def authlib_fetch(ctx, track, app, method, scope, secret=None):
    c = ctx.client(track, app)
    sess = AuthlibSession(c["client_id"], secret or c["client_secret"],
                          token_endpoint_auth_method=method, scope=scope)
    return c, sess.fetch_token(ctx.token_endpoint(track), grant_type="client_credentials")


def authlib_check(ctx, track, app, method, scope="party-api2:read1"):
    c, tok = authlib_fetch(ctx, track, app, method, scope)
    check_token_response(tok, scope)
    claims = verify_access_token(ctx, tok["access_token"], track, c["client_id"], scope)
    check_expiry_matches(tok, claims)


def check_authlib_basic(ctx):
    authlib_check(ctx, "rs", "svc-basic", "client_secret_basic")


def check_authlib_post(ctx):
    authlib_check(ctx, "rs", "svc-post", "client_secret_post")


def check_authlib_es256(ctx):
    authlib_check(ctx, "es", "svc-basic", "client_secret_basic")


def check_authlib_eddsa(ctx):
    authlib_check(ctx, "ed", "svc-basic", "client_secret_basic")


def check_authlib_ps256(ctx):
    authlib_check(ctx, "ps", "svc-basic", "client_secret_basic")


def check_authlib_wrong_secret_basic(ctx):
    bad = "x" * 43
    try:
        authlib_fetch(ctx, "rs", "svc-basic", "client_secret_basic", "party-api2:read1", secret=bad)
    except OAuthError as e:
        eq(e.error, "invalid_client", "OAuthError.error")
        return
    raise CheckFailed("no OAuthError raised for a wrong secret")


def check_authlib_wrong_secret_post(ctx):
    bad = "y" * 43
    try:
        authlib_fetch(ctx, "rs", "svc-post", "client_secret_post", "party-api2:read1", secret=bad)
    except OAuthError as e:
        eq(e.error, "invalid_client", "OAuthError.error")
        return
    raise CheckFailed("no OAuthError raised for a wrong secret")


def check_authlib_dotted_alias(ctx):
    c, tok = authlib_fetch(ctx, "rs", "svc-basic", "client_secret_basic", "party-api2.read2")
    check_token_response(tok, "party-api2:read2")
    verify_access_token(ctx, tok["access_token"], "rs", c["client_id"], "party-api2:read2")


def check_authlib_two_scopes(ctx):
    scope = "party-api2:read1 party-api2:read2"
    c, tok = authlib_fetch(ctx, "rs", "svc-post", "client_secret_post", scope)
    check_token_response(tok, scope)
    verify_access_token(ctx, tok["access_token"], "rs", c["client_id"], scope)


def check_tampered_token_rejected(ctx):
    # guards against a verification helper that accepts anything
    c, tok = authlib_fetch(ctx, "rs", "svc-basic", "client_secret_basic", "party-api2:read1")
    head, payload, sig = tok["access_token"].split(".")
    raw = bytearray(base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4)))
    raw[len(raw) // 2] ^= 0x01
    bad = f"{head}.{payload}." + base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    try:
        verify_access_token(ctx, bad, "rs", c["client_id"], "party-api2:read1")
    except jwt.InvalidSignatureError:
        pass
    else:
        raise CheckFailed("token with a flipped signature bit verified")
    # a token of one track must not verify as a token of another track
    try:
        signing = jwt.PyJWKClient(ctx.jwks_uri("ps"), cache_jwk_set=False).get_signing_keys()
        keys = [k.key for k in signing]
    except Exception as e:  # noqa: BLE001
        raise CheckFailed(f"fetch ps JWKS: {e}")
    for key in keys:
        try:
            jwt.decode(tok["access_token"], key, algorithms=["RS256", "PS256"],
                       options={"verify_aud": False})
        except jwt.InvalidSignatureError:
            continue
        raise CheckFailed("rs track token verified with the ps track key")


# --------------------------------------------------------------------------
# requests-oauthlib
# --------------------------------------------------------------------------

def ro_session(c, scope):
    client = BackendApplicationClient(client_id=c["client_id"], scope=[scope])
    return RequestsOAuthSession(client=client, scope=[scope])


def check_requests_oauthlib_basic_auth(ctx):
    c = ctx.client("rs", "svc-basic")
    scope = "party-api2:read1"
    tok = ro_session(c, scope).fetch_token(
        token_url=ctx.token_endpoint("rs"),
        auth=HTTPBasicAuth(c["client_id"], c["client_secret"]),
    )
    check_token_response(tok, scope)
    verify_access_token(ctx, tok["access_token"], "rs", c["client_id"], scope)


def check_requests_oauthlib_default_basic(ctx):
    # no auth object: requests-oauthlib builds HTTP Basic from client_id/secret
    c = ctx.client("rs", "svc-basic")
    scope = "party-api2:read2"
    tok = ro_session(c, scope).fetch_token(
        token_url=ctx.token_endpoint("rs"), client_secret=c["client_secret"],
    )
    check_token_response(tok, scope)
    verify_access_token(ctx, tok["access_token"], "rs", c["client_id"], scope)


def check_requests_oauthlib_include_client_id(ctx):
    # client_id and client_secret in the form body (client_secret_post)
    c = ctx.client("rs", "svc-post")
    scope = "party-api2:read1"
    tok = ro_session(c, scope).fetch_token(
        token_url=ctx.token_endpoint("rs"), include_client_id=True,
        client_secret=c["client_secret"],
    )
    check_token_response(tok, scope)
    verify_access_token(ctx, tok["access_token"], "rs", c["client_id"], scope)


def check_requests_oauthlib_wrong_secret(ctx):
    c = ctx.client("rs", "svc-basic")
    try:
        ro_session(c, "party-api2:read1").fetch_token(
            token_url=ctx.token_endpoint("rs"), auth=HTTPBasicAuth(c["client_id"], "z" * 43),
        )
    except oauthlib_errors.InvalidClientError:
        return
    except oauthlib_errors.OAuth2Error as e:
        raise CheckFailed(f"expected invalid_client, got {e.error}")
    raise CheckFailed("no error raised for a wrong secret")


# --------------------------------------------------------------------------
# raw HTTP (requests) — RFC 6749 details clients depend on
# --------------------------------------------------------------------------

def check_token_response_headers(ctx):
    c = ctx.client("rs", "svc-post")
    r = raw_token(ctx, "rs", {"grant_type": "client_credentials", "client_id": c["client_id"],
                              "client_secret": c["client_secret"], "scope": "party-api2:read1"})
    eq(r.status_code, 200, f"status ({short(r.text)})")
    ctype = r.headers.get("Content-Type", "")
    eq(ctype.split(";")[0].strip().lower(), "application/json", "Content-Type")
    cc = r.headers.get("Cache-Control", "")
    expect("no-store" in cc.lower(), f"Cache-Control must contain no-store (RFC 6749 §5.1), got {cc!r}")


def check_wrong_secret_basic_raw(ctx):
    c = ctx.client("rs", "svc-basic")
    r = raw_token(ctx, "rs", {"grant_type": "client_credentials", "scope": "party-api2:read1"},
                  auth=HTTPBasicAuth(c["client_id"], flip_last_char(c["client_secret"])))
    eq(r.status_code, 401, f"status ({short(r.text)})")
    eq(error_body(r).get("error"), "invalid_client", "error")
    # RFC 6749 §5.2: for Authorization-header auth the 401 MUST carry a
    # WWW-Authenticate header matching the scheme used by the client.
    wa = r.headers.get("WWW-Authenticate", "")
    expect(wa.lower().startswith("basic"), f"WWW-Authenticate should start with Basic, got {wa!r}")


def check_wrong_secret_post_raw(ctx):
    c = ctx.client("rs", "svc-post")
    r = raw_token(ctx, "rs", {"grant_type": "client_credentials", "client_id": c["client_id"],
                              "client_secret": "q" * 43, "scope": "party-api2:read1"})
    eq(r.status_code, 401, f"status ({short(r.text)})")
    eq(error_body(r).get("error"), "invalid_client", "error")


def check_unknown_client_raw(ctx):
    r = raw_token(ctx, "rs", {"grant_type": "client_credentials", "scope": "party-api2:read1"},
                  auth=HTTPBasicAuth("no-such-client", "q" * 43))
    eq(r.status_code, 401, f"status ({short(r.text)})")
    eq(error_body(r).get("error"), "invalid_client", "error")


def check_unknown_scope(ctx):
    c = ctx.client("rs", "svc-post")
    r = raw_token(ctx, "rs", {"grant_type": "client_credentials", "client_id": c["client_id"],
                              "client_secret": c["client_secret"], "scope": "party-api2:write9"})
    eq(r.status_code, 400, f"status ({short(r.text)})")
    eq(error_body(r).get("error"), "invalid_scope", "error")
    # authlib surfaces the same error
    try:
        authlib_fetch(ctx, "rs", "svc-post", "client_secret_post", "party-api2:write9")
    except OAuthError as e:
        eq(e.error, "invalid_scope", "authlib OAuthError.error")
    else:
        raise CheckFailed("authlib raised nothing for an unknown scope")


def check_password_grant_unsupported(ctx):
    c = ctx.client("rs", "svc-post")
    r = raw_token(ctx, "rs", {"grant_type": "password", "username": "u", "password": "p",
                              "client_id": c["client_id"], "client_secret": c["client_secret"]})
    eq(r.status_code, 400, f"status ({short(r.text)})")
    eq(error_body(r).get("error"), "unsupported_grant_type", "error")


def check_two_auth_methods_rejected(ctx):
    # RFC 6749 §2.3: a client MUST NOT use more than one authentication method
    c = ctx.client("rs", "svc-basic")
    r = raw_token(ctx, "rs", {"grant_type": "client_credentials", "scope": "party-api2:read1",
                              "client_id": c["client_id"], "client_secret": c["client_secret"]},
                  auth=HTTPBasicAuth(c["client_id"], c["client_secret"]))
    eq(r.status_code, 400, f"status ({short(r.text)})")
    eq(error_body(r).get("error"), "invalid_request", "error")


def check_missing_grant_type(ctx):
    c = ctx.client("rs", "svc-post")
    r = raw_token(ctx, "rs", {"client_id": c["client_id"], "client_secret": c["client_secret"],
                              "scope": "party-api2:read1"})
    eq(r.status_code, 400, f"status ({short(r.text)})")
    eq(error_body(r).get("error"), "invalid_request", "error")


def check_unknown_resource_invalid_target(ctx):
    # RFC 8707 §2: an unknown resource is invalid_target
    c = ctx.client("rs", "svc-post")
    r = raw_token(ctx, "rs", {"grant_type": "client_credentials", "client_id": c["client_id"],
                              "client_secret": c["client_secret"], "resource": "no-such-api"})
    eq(r.status_code, 400, f"status ({short(r.text)})")
    eq(error_body(r).get("error"), "invalid_target", "error")


def check_basic_form_urlencoded(ctx):
    # RFC 6749 §2.3.1: id and secret are application/x-www-form-urlencoded
    # before being used as the Basic user-id and password.
    c = ctx.client("rs", "svc-basic")
    user = urllib.parse.quote_plus(c["client_id"])
    pwd = urllib.parse.quote_plus(c["client_secret"])
    r = raw_token(ctx, "rs", {"grant_type": "client_credentials", "scope": "party-api2:read1"},
                  headers=basic_header(user, pwd))
    eq(r.status_code, 200, f"status ({short(r.text)})")
    tok = r.json()
    check_token_response(tok, "party-api2:read1")
    verify_access_token(ctx, tok["access_token"], "rs", c["client_id"], "party-api2:read1")


def check_basic_percent_encoded(ctx):
    # Every character percent-encoded (valid form-urlencoding, e.g. "-" as
    # %2D): a compliant server must decode before comparing.
    c = ctx.client("rs", "svc-basic")

    def enc(s):
        return "".join(f"%{b:02X}" for b in s.encode())

    r = raw_token(ctx, "rs", {"grant_type": "client_credentials", "scope": "party-api2:read1"},
                  headers=basic_header(enc(c["client_id"]), enc(c["client_secret"])))
    eq(r.status_code, 200, f"status ({short(r.text)})")
    tok = r.json()
    claims = verify_access_token(ctx, tok["access_token"], "rs", c["client_id"], "party-api2:read1")
    eq(claims["client_id"], c["client_id"], "decoded client_id")


def check_app_scoped_token_endpoint(ctx):
    track, app = "rs", "svc-post"
    c = ctx.client(track, app)
    url = f"{ctx.issuer(track)}/{app}/oauth/token"
    sess = AuthlibSession(c["client_id"], c["client_secret"],
                          token_endpoint_auth_method="client_secret_post", scope="party-api2:read1")
    tok = sess.fetch_token(url, grant_type="client_credentials")
    check_token_response(tok, "party-api2:read1")
    # issuer stays the track issuer for app-scoped endpoints
    verify_access_token(ctx, tok["access_token"], track, c["client_id"], "party-api2:read1")
    # another client must not use this app's endpoint
    other = ctx.client(track, "svc-basic")
    r = raw_token(ctx, track, {"grant_type": "client_credentials", "scope": "party-api2:read1"},
                  auth=HTTPBasicAuth(other["client_id"], other["client_secret"]), url=url)
    expect(r.status_code in (400, 401),
           f"other client at app-scoped endpoint: expected 400/401, got {resp_info(r)}")
    err = error_body(r).get("error")
    expect(err in ("invalid_client", "invalid_request", "unauthorized_client"),
           f"other client at app-scoped endpoint: unexpected error {err!r}")


CHECKS = [
    ("admin token via client_secret_post", check_admin_token_post),
    ("admin token via authlib client_secret_basic", check_admin_token_basic),
    ("management: create tenant (201, duplicate 409)", check_create_tenant),
    ("management: create tracks RS256/ES256/EdDSA/PS256", check_create_tracks),
    ("management: create resource and clients", check_create_apps),
    ("management API rejects missing/garbage/non-admin bearer", check_management_requires_admin_token),
    ("discovery: openid-configuration + JWKS", check_discovery_openid),
    ("discovery: oauth-authorization-server", check_discovery_oauth_as),
    ("discovery: app-scoped metadata", check_discovery_app_scoped),
    ("discovery: unknown track is 404", check_unknown_issuer_404),
    ("authlib client_secret_basic RS256 + PyJWT verify", check_authlib_basic),
    ("authlib client_secret_post RS256 + PyJWT verify", check_authlib_post),
    ("authlib ES256 track + PyJWT verify", check_authlib_es256),
    ("authlib EdDSA track + PyJWT verify", check_authlib_eddsa),
    ("authlib PS256 track + PyJWT verify", check_authlib_ps256),
    ("authlib wrong secret (basic) -> invalid_client", check_authlib_wrong_secret_basic),
    ("authlib wrong secret (post) -> invalid_client", check_authlib_wrong_secret_post),
    ("authlib dotted scope alias party-api2.read2", check_authlib_dotted_alias),
    ("authlib two scopes", check_authlib_two_scopes),
    ("PyJWT rejects tampered / foreign-track token", check_tampered_token_rejected),
    ("requests-oauthlib BackendApplicationClient + HTTPBasicAuth", check_requests_oauthlib_basic_auth),
    ("requests-oauthlib BackendApplicationClient default Basic", check_requests_oauthlib_default_basic),
    ("requests-oauthlib BackendApplicationClient include_client_id", check_requests_oauthlib_include_client_id),
    ("requests-oauthlib wrong secret -> InvalidClientError", check_requests_oauthlib_wrong_secret),
    ("token response Content-Type json + Cache-Control no-store", check_token_response_headers),
    ("wrong secret via Basic -> 401 invalid_client + WWW-Authenticate", check_wrong_secret_basic_raw),
    ("wrong secret via post -> 401 invalid_client", check_wrong_secret_post_raw),
    ("unknown client -> 401 invalid_client", check_unknown_client_raw),
    ("unknown scope -> 400 invalid_scope", check_unknown_scope),
    ("grant_type=password -> 400 unsupported_grant_type", check_password_grant_unsupported),
    ("Basic + body credentials together -> 400 invalid_request", check_two_auth_methods_rejected),
    ("missing grant_type -> 400 invalid_request", check_missing_grant_type),
    ("unknown resource -> 400 invalid_target", check_unknown_resource_invalid_target),
    ("Basic with form-urlencoded id/secret", check_basic_form_urlencoded),
    ("Basic with fully percent-encoded id/secret", check_basic_percent_encoded),
    ("app-scoped token endpoint", check_app_scoped_token_endpoint),
]


def main():
    base = os.environ.get("FERRID_URL")
    admin_secret = os.environ.get("FERRID_ADMIN_SECRET")
    if not base or not admin_secret:
        print("FERRID_URL and FERRID_ADMIN_SECRET must be set", file=sys.stderr)
        print("0 passed, 1 failed")
        return 1
    ctx = Ctx(base, admin_secret)
    passed = failed = 0
    for name, fn in CHECKS:
        try:
            fn(ctx)
        except CheckFailed as e:
            failed += 1
            print(f"FAIL - {name}: {short(e, 500)}", flush=True)
        except Exception as e:  # noqa: BLE001 — any library error is a failure
            failed += 1
            detail = f"{type(e).__name__}: {e}"
            if os.environ.get("FERRID_TEST_DEBUG"):
                traceback.print_exc()
            print(f"FAIL - {name}: {short(detail, 500)}", flush=True)
        else:
            passed += 1
            print(f"ok - {name}", flush=True)
    print(f"{passed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
