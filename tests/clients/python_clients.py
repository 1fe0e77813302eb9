#!/usr/bin/env python3
"""Interoperability checks of ferrid against third-party Python OAuth clients.

Clients exercised: Authlib (OAuth2Session, also with PrivateKeyJWT),
requests-oauthlib (BackendApplicationClient + OAuth2Session.fetch_token),
plain requests, and PyJWT (PyJWKClient) for verifying the issued access tokens
through the JWKS and for signing private_key_jwt client assertions. Client keys
and certificates (PEM, PKCS#12) are made with cryptography.

OpenID Connect: Authlib's OAuth2Session runs the authorization code flow with
PKCE (S256) and a nonce for a client_secret_basic and a private_key_jwt client;
the user signs in by plain HTTP form posts (the login page's form parsed with
html.parser, every input submitted); PyJWT verifies the ID token through the
JWKS (iss, aud, nonce, at_hash per OpenID Connect Core §3.1.3.6); UserInfo,
refresh rotation, a reused code, a wrong password, the session cookie and
prompt=none are checked.

The implicit flow (OpenID Connect Core §3.2) for a public client on an RS256
and an EdDSA track: authlib's OAuth2Session builds the request and reads the
fragment (token_from_fragment), joserfc verifies the ID token through the JWKS
and authlib's ImplicitIDToken validates its claims (iss, aud, nonce, at_hash);
"id_token token" (UserInfo with the fragment's access token) and "id_token"
(the scopes' claims in the ID token); another nonce and another response's
access token are refused.

Introspection (RFC 7662) and revocation (RFC 7009): Authlib's introspect_token
and revoke_token for a client-credentials token and for a refresh token from
the code flow (the fields of active answers, exactly {"active": false} after
revocation, the refresh token's revocation reaching its access token), and
oauthlib's prepare_token_revocation_request sent by a requests-oauthlib session.

Environment:
  FERRID_URL           base URL of a running server, e.g. http://127.0.0.1:8080
  FERRID_ADMIN_SECRET  secret of the bootstrap client master/master/admin

Output: one line per check ("ok - name" / "FAIL - name: reason"), then
"N passed, N failed". Exit code 1 if any check failed.
"""

import base64
import datetime
import hashlib
import os
import secrets
import sys
import time
import traceback
import urllib.parse
from html.parser import HTMLParser

# oauthlib refuses http:// token endpoints unless told otherwise; the test
# server listens on loopback without TLS.
os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")

import jwt  # PyJWT
import requests
from authlib.integrations.requests_client import OAuth2Session as AuthlibSession
from authlib.integrations.requests_client import OAuthError
from authlib.common.security import generate_token
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from authlib.oidc.core import ImplicitIDToken
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from joserfc import jwt as joserfc_jwt
from joserfc.errors import InvalidClaimError
from joserfc.jwk import ECKey, KeySet
from oauthlib.oauth2 import BackendApplicationClient
from oauthlib.oauth2.rfc6749 import errors as oauthlib_errors
from requests.auth import HTTPBasicAuth
from requests_oauthlib import OAuth2Session as RequestsOAuthSession

TIMEOUT = 15
RESOURCE = "party-api2"
RESOURCE_SCOPES = ["read1", "read2"]
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

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
        # (track, app) -> {"key": private key, "kid": stored kid, "x5t": cert
        # thumbprint or None} of a private_key_jwt client whose key was uploaded
        self.pk_keys = {}
        # OpenID Connect: track -> user created, (track, app) -> registration,
        # track -> discovery document
        self.oidc_users = {}
        self.oidc_clients = {}
        self.oidc_metadata = {}

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


# --------------------------------------------------------------------------
# private_key_jwt (RFC 7523 §2.2)
# --------------------------------------------------------------------------

def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def self_signed_cert(key, cn):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.datetime.now(datetime.timezone.utc)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )


def private_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def create_pk_client(ctx, track, name):
    """Create a private_key_jwt client; it must not get a client_secret."""
    body = {"name": name, "kind": "oauth_client", "client_auth_method": "private_key_jwt",
            "resource_scopes": [{"resource": RESOURCE, "scopes": ["read1"]}]}
    r = ctx.api_post(f"/tenants/{ctx.tenant}/tracks/{track}/apps", body)
    eq(r.status_code, 201, f"create private_key_jwt client {track}/{name} ({short(r.text)})")
    c = r.json()
    expect(isinstance(c.get("client_id"), str) and c["client_id"], f"no client_id in {short(c)}")
    expect("client_secret" not in c, f"private_key_jwt client got a client_secret: {short(c)}")
    if "client_auth_method" in c:
        eq(c["client_auth_method"], "private_key_jwt", "client_auth_method in response")
    ctx.clients[(track, name)] = c
    return c


def upload_key(ctx, track, name, body):
    return ctx.api_post(f"/tenants/{ctx.tenant}/tracks/{track}/apps/{name}/keys", body)


def check_stored_jwk(jwk, want_kty, what):
    expect(isinstance(jwk, dict), f"{what}: no jwk in the answer")
    eq(jwk.get("kty"), want_kty, f"{what}: jwk kty")
    for private in ("d", "p", "q", "dp", "dq", "qi"):
        expect(private not in jwk, f"{what}: stored JWK leaks private member {private!r}")


def pk_assertion(ctx, track, app, aud=None, kid=None, key=None, alg="RS256", exp_in=120,
                 iat_shift=0, jti=None, drop=(), extra_headers=None):
    """A client assertion signed with PyJWT for the client (track, app);
    iat = now + iat_shift, exp = iat + exp_in."""
    c = ctx.client(track, app)
    k = ctx.pk_keys.get((track, app))
    expect(k is not None, f"no key uploaded for {track}/{app} (setup failed)")
    iat = int(time.time()) + iat_shift
    claims = {"iss": c["client_id"], "sub": c["client_id"], "aud": aud or ctx.issuer(track),
              "iat": iat, "exp": iat + exp_in, "jti": jti or secrets.token_urlsafe(24)}
    for name in drop:
        claims.pop(name, None)
    headers = dict(extra_headers or {})
    if kid is not None:
        headers["kid"] = kid
    return jwt.encode(claims, key or k["key"], algorithm=alg, headers=headers or None)


def pk_token_raw(ctx, track, assertion, client_id=None, url=None, scope="party-api2:read1"):
    data = {"grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion, "scope": scope}
    if client_id:
        data["client_id"] = client_id
    # one connection per request: a 401 may close the connection
    return requests.post(url or ctx.token_endpoint(track), data=data, timeout=TIMEOUT,
                         headers={"Connection": "close"})


def expect_invalid_client(r, what):
    eq(r.status_code, 401, f"{what}: status ({short(r.text)})")
    eq(error_body(r).get("error"), "invalid_client", f"{what}: error")


def check_pk_discovery(ctx):
    md = fetch_json(ctx, ctx.issuer("rs") + "/.well-known/openid-configuration")
    methods = md.get("token_endpoint_auth_methods_supported") or []
    expect("private_key_jwt" in methods,
           f"token_endpoint_auth_methods_supported lacks private_key_jwt: {methods}")
    algs = md.get("token_endpoint_auth_signing_alg_values_supported")
    expect(isinstance(algs, list), f"no token_endpoint_auth_signing_alg_values_supported: {short(md)}")
    eq(sorted(algs), sorted(["RS256", "PS256", "ES256", "EdDSA"]),
       "token_endpoint_auth_signing_alg_values_supported")


def check_pk_setup_cert(ctx):
    # RSA key; its public key is uploaded as a self-signed X.509 certificate (PEM)
    create_pk_client(ctx, "rs", "pk-rs")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = self_signed_cert(key, "pk-rs")
    thumb = b64url(cert.fingerprint(hashes.SHA256()))
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    r = upload_key(ctx, "rs", "pk-rs", {"pem": pem})
    eq(r.status_code, 201, f"upload certificate PEM ({short(r.text)})")
    body = r.json()
    eq(body.get("kid"), thumb, "stored kid (base64url SHA-256 of the certificate DER)")
    eq(body.get("x5t#S256"), thumb, "x5t#S256")
    check_stored_jwk(body.get("jwk"), "RSA", "certificate upload")
    want_n = b64url(key.public_key().public_numbers().n.to_bytes(256, "big"))
    eq(body["jwk"].get("n"), want_n, "stored jwk n (modulus of the certificate key)")
    ctx.pk_keys[("rs", "pk-rs")] = {"key": key, "kid": thumb, "x5t": thumb}


def check_pk_setup_jwk(ctx):
    # P-256 key; the public JWK is uploaded with its own kid
    create_pk_client(ctx, "es", "pk-es")
    key = ec.generate_private_key(ec.SECP256R1())
    jwk = jwt.algorithms.ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    kid = "pk-es-" + secrets.token_hex(4)
    jwk["kid"] = kid
    r = upload_key(ctx, "es", "pk-es", {"jwk": jwk})
    eq(r.status_code, 201, f"upload JWK ({short(r.text)})")
    body = r.json()
    eq(body.get("kid"), kid, "stored kid (the JWK's own kid)")
    check_stored_jwk(body.get("jwk"), "EC", "JWK upload")
    eq((body["jwk"].get("crv"), body["jwk"].get("x"), body["jwk"].get("y")),
       (jwk["crv"], jwk["x"], jwk["y"]), "stored jwk crv/x/y")
    ctx.pk_keys[("es", "pk-es")] = {"key": key, "kid": kid, "x5t": None}


def authlib_pk_fetch(ctx, track, app, alg, private_key, headers=None, scope="party-api2:read1"):
    c = ctx.client(track, app)
    token_url = ctx.token_endpoint(track)
    # authlib 1.9: the private key goes in as client_secret (PEM, or a joserfc
    # key for non-RSA keys); the auth method is registered by name
    sess = AuthlibSession(c["client_id"], private_key,
                          token_endpoint_auth_method="private_key_jwt", scope=scope)
    sess.register_client_auth_method(PrivateKeyJWT(token_url, headers=headers, alg=alg))
    return c, sess.fetch_token(token_url, grant_type="client_credentials")


def check_authlib_pk_rs256(ctx):
    k = ctx.pk_keys.get(("rs", "pk-rs"))
    expect(k is not None, "no key uploaded for rs/pk-rs (setup failed)")
    pem = private_pem(k["key"])
    scope = "party-api2:read1"
    # no kid in the header: the server tries every key of the client
    c, tok = authlib_pk_fetch(ctx, "rs", "pk-rs", "RS256", pem)
    check_token_response(tok, scope)
    claims = verify_access_token(ctx, tok["access_token"], "rs", c["client_id"], scope)
    check_expiry_matches(tok, claims)
    # the stored kid, then the certificate thumbprint as x5t#S256
    for hdr in ({"kid": k["kid"]}, {"x5t#S256": k["x5t"]}):
        c, tok = authlib_pk_fetch(ctx, "rs", "pk-rs", "RS256", pem, headers=hdr)
        verify_access_token(ctx, tok["access_token"], "rs", c["client_id"], scope)
    # a kid the client does not have is refused
    try:
        authlib_pk_fetch(ctx, "rs", "pk-rs", "RS256", pem, headers={"kid": "no-such-kid"})
    except OAuthError as e:
        eq(e.error, "invalid_client", "unknown kid: OAuthError.error")
    else:
        raise CheckFailed("assertion with an unknown kid was accepted")


def check_authlib_pk_es256(ctx):
    k = ctx.pk_keys.get(("es", "pk-es"))
    expect(k is not None, "no key uploaded for es/pk-es (setup failed)")
    key = ECKey.import_key(private_pem(k["key"]))
    scope = "party-api2:read1"
    c, tok = authlib_pk_fetch(ctx, "es", "pk-es", "ES256", key, headers={"kid": k["kid"]})
    check_token_response(tok, scope)
    claims = verify_access_token(ctx, tok["access_token"], "es", c["client_id"], scope)
    check_expiry_matches(tok, claims)
    # an assertion signed by another P-256 key under the same kid is refused
    other = ECKey.import_key(private_pem(ec.generate_private_key(ec.SECP256R1())))
    try:
        authlib_pk_fetch(ctx, "es", "pk-es", "ES256", other, headers={"kid": k["kid"]})
    except OAuthError as e:
        eq(e.error, "invalid_client", "foreign key: OAuthError.error")
    else:
        raise CheckFailed("assertion signed by a foreign key was accepted")


def check_pk_replay(ctx):
    c = ctx.client("rs", "pk-rs")
    k = ctx.pk_keys.get(("rs", "pk-rs"))
    expect(k is not None, "no key uploaded for rs/pk-rs (setup failed)")
    assertion = pk_assertion(ctx, "rs", "pk-rs", aud=ctx.token_endpoint("rs"), kid=k["kid"])
    r = pk_token_raw(ctx, "rs", assertion, client_id=c["client_id"])
    eq(r.status_code, 200, f"first use: status ({short(r.text)})")
    tok = r.json()
    check_token_response(tok, "party-api2:read1")
    verify_access_token(ctx, tok["access_token"], "rs", c["client_id"], "party-api2:read1")
    r = pk_token_raw(ctx, "rs", assertion, client_id=c["client_id"])
    expect_invalid_client(r, "replayed assertion")
    # the same jti in a freshly signed assertion is a replay too
    again = pk_assertion(ctx, "rs", "pk-rs", kid=k["kid"],
                         jti=jwt.decode(assertion, options={"verify_signature": False})["jti"])
    expect_invalid_client(pk_token_raw(ctx, "rs", again), "re-signed assertion with a used jti")


def check_pk_assertion_rules(ctx):
    # RFC 7523 §3 rules of the contract; every refusal is 401 invalid_client
    track, app = "rs", "pk-rs"
    c = ctx.client(track, app)
    k = ctx.pk_keys.get((track, app))
    expect(k is not None, "no key uploaded for rs/pk-rs (setup failed)")
    issuer = ctx.issuer(track)
    app_url = f"{issuer}/{app}/oauth/token"
    # accepted audiences: issuer (no client_id in the body), token endpoint,
    # and the app-scoped token endpoint at that endpoint
    for aud, url in ((issuer, None), (ctx.token_endpoint(track), None), (app_url, app_url)):
        r = pk_token_raw(ctx, track, pk_assertion(ctx, track, app, aud=aud), url=url)
        eq(r.status_code, 200, f"aud {aud}: status ({short(r.text)})")
        verify_access_token(ctx, r.json()["access_token"], track, c["client_id"], "party-api2:read1")
    r = pk_token_raw(ctx, track, pk_assertion(ctx, track, app, alg="PS256"))
    eq(r.status_code, 200, f"PS256 assertion: status ({short(r.text)})")
    # refusals
    foreign = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    bad = {
        "foreign RSA key": pk_assertion(ctx, track, app, key=foreign),
        "wrong aud": pk_assertion(ctx, track, app, aud=ctx.issuer("ps")),
        "exp more than 60 minutes after iat": pk_assertion(ctx, track, app, exp_in=3600 + 300),
        "expired": pk_assertion(ctx, track, app, iat_shift=-900, exp_in=300),
        "no exp": pk_assertion(ctx, track, app, drop=("exp",)),
        "no jti": pk_assertion(ctx, track, app, drop=("jti",)),
        "HS256 with the kid as secret": jwt.encode(
            {"iss": c["client_id"], "sub": c["client_id"], "aud": issuer, "iat": now,
             "exp": now + 60, "jti": secrets.token_urlsafe(16)},
            k["kid"] * 2, algorithm="HS256"),
    }
    for what, assertion in bad.items():
        expect_invalid_client(pk_token_raw(ctx, track, assertion), what)
    # iss/sub naming another client; client_id in the body naming another client
    other = ctx.client("rs", "svc-post")["client_id"]
    now = int(time.time())
    forged = jwt.encode({"iss": other, "sub": other, "aud": issuer, "iat": now, "exp": now + 60,
                         "jti": secrets.token_urlsafe(16)}, k["key"], algorithm="RS256")
    expect_invalid_client(pk_token_raw(ctx, track, forged), "iss/sub of another client")
    expect_invalid_client(pk_token_raw(ctx, track, pk_assertion(ctx, track, app), client_id=other),
                          "client_id of another client in the body")


def check_pk_pfx_upload(ctx):
    create_pk_client(ctx, "rs", "pk-pfx")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = self_signed_cert(key, "pk-pfx")
    thumb = b64url(cert.fingerprint(hashes.SHA256()))
    pfx = pkcs12.serialize_key_and_certificates(
        b"pk-pfx", key, cert, None, serialization.BestAvailableEncryption(b"pw"))
    pfx_b64 = base64.b64encode(pfx).decode()
    r = upload_key(ctx, "rs", "pk-pfx", {"pfx": pfx_b64, "password": "wrong"})
    eq(r.status_code, 400, f"wrong PFX password: status ({short(r.text)})")
    errs = error_body(r).get("errors")
    expect(isinstance(errs, list) and errs and isinstance(errs[0], dict),
           f"wrong PFX password: no errors list in {short(r.text)}")
    eq(errs[0].get("field"), "password", "wrong PFX password: errors[0].field")
    r = upload_key(ctx, "rs", "pk-pfx", {"pfx": pfx_b64, "password": "pw"})
    eq(r.status_code, 201, f"upload PFX ({short(r.text)})")
    body = r.json()
    eq(body.get("kid"), thumb, "stored kid (base64url SHA-256 of the certificate DER)")
    eq(body.get("x5t#S256"), thumb, "x5t#S256")
    check_stored_jwk(body.get("jwk"), "RSA", "PFX upload")
    ctx.pk_keys[("rs", "pk-pfx")] = {"key": key, "kid": thumb, "x5t": thumb}
    # the key taken from the PFX authenticates the client
    c = ctx.client("rs", "pk-pfx")
    r = pk_token_raw(ctx, "rs", pk_assertion(ctx, "rs", "pk-pfx", kid=thumb), client_id=c["client_id"])
    eq(r.status_code, 200, f"token with the PFX key: status ({short(r.text)})")
    verify_access_token(ctx, r.json()["access_token"], "rs", c["client_id"], "party-api2:read1")
    # a key of another private_key_jwt client does not authenticate this one
    other = ctx.pk_keys.get(("rs", "pk-rs"))
    expect(other is not None, "no key uploaded for rs/pk-rs (setup failed)")
    r = pk_token_raw(ctx, "rs", pk_assertion(ctx, "rs", "pk-pfx", key=other["key"]))
    expect_invalid_client(r, "assertion signed with another client's key")


# --------------------------------------------------------------------------
# OpenID Connect: authorization code flow with PKCE (OpenID Connect Core 1.0
# §3.1, RFC 7636), the login by plain form posts, ID token, UserInfo, refresh
# --------------------------------------------------------------------------

OIDC_SCOPE = "openid profile email offline_access"
OIDC_REDIRECT = "http://127.0.0.1:9/cb"  # never contacted: the 303 is read, not followed
USER_PASSWORD = "a long passphrase 42"
USER_CLAIMS = {"name": "Alice Liddell", "given_name": "Alice"}
# hash of at_hash per OpenID Connect Core §3.1.3.6: the SHA-2 of the alg's size
# (Ed25519 signs with SHA-512)
# a redirect answering a GET authorization request: 302 (RFC 6749 §4.1.2) or
# 303; the redirect after the login form's POST must be 303 (RFC 9700 §4.12)
GET_REDIRECTS = (302, 303)
AT_HASH = {"RS256": hashlib.sha256, "PS256": hashlib.sha256, "ES256": hashlib.sha256,
           "RS384": hashlib.sha384, "PS384": hashlib.sha384, "ES384": hashlib.sha384,
           "RS512": hashlib.sha512, "PS512": hashlib.sha512, "EdDSA": hashlib.sha512}


class LoginFormParser(HTMLParser):
    """The forms of a page: action, method, inputs (attribute dicts), the
    submit buttons; and each label's text by the id it names (`for`) and by the
    names of the inputs it wraps."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms = []
        self.labels = {}
        self._form = None
        self._label = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self._form = {"action": a.get("action"), "method": a.get("method", "get").lower(),
                          "inputs": [], "buttons": []}
            self.forms.append(self._form)
        elif tag == "input" and self._form is not None:
            if a.get("type", "text").lower() in ("submit", "image"):
                self._form["buttons"].append(a)
            else:
                self._form["inputs"].append(a)
        elif tag == "button" and self._form is not None:
            if a.get("type", "submit").lower() == "submit":
                self._form["buttons"].append(a)
        elif tag == "label":
            self._label = {"keys": [("id", a["for"])] if a.get("for") else [], "text": []}
        if tag == "input" and self._label is not None and a.get("name"):
            self._label["keys"].append(("name", a["name"]))

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "label" and self._label is not None:
            text = " ".join("".join(self._label["text"]).split())
            for key in self._label["keys"]:
                self.labels[key] = text
            self._label = None

    def handle_data(self, data):
        if self._label is not None:
            self._label["text"].append(data)

    def label_of(self, inp):
        """The text of the label of an input (by its id, or wrapping it)."""
        return self.labels.get(("id", inp.get("id"))) or self.labels.get(("name", inp.get("name")))


def form_fields(form, username, password):
    """The body a browser would post: every successful control of the form
    (RFC 7578 / HTML "constructing the entry list"), the credentials typed in."""
    data = []
    names = set()
    for inp in form["inputs"]:
        name = inp.get("name")
        kind = inp.get("type", "text").lower()
        if not name or "disabled" in inp or kind in ("reset", "button", "file"):
            continue
        if kind in ("checkbox", "radio") and "checked" not in inp:
            continue
        value = inp.get("value", "")
        if name == "username":
            value = username
        elif name == "password":
            value = password
        data.append((name, value))
        names.add(name)
    expect({"username", "password"} <= names,
           f"login form lacks username/password inputs: {sorted(names)}")
    # the submit button pressed, when it has a name
    if form["buttons"] and form["buttons"][0].get("name"):
        b = form["buttons"][0]
        data.append((b["name"], b.get("value", "")))
    return data


def set_cookie_headers(r):
    return r.raw.headers.getlist("Set-Cookie") if r.raw is not None else []


def submit_login(http, page, username, password):
    """Parse the login page `page` (a response) and post its form; the answer
    is returned without following a redirect."""
    ctype = page.headers.get("Content-Type", "")
    expect(ctype.split(";")[0].strip() == "text/html", f"login page Content-Type {ctype!r}")
    parser = LoginFormParser()
    parser.feed(page.text)
    posts = [f for f in parser.forms if f["method"] == "post"]
    eq(len(posts), 1, "number of POST forms on the login page")
    form = posts[0]
    by_name = {inp.get("name"): inp for inp in form["inputs"]}
    eq(parser.label_of(by_name.get("username", {})), "Username or email", "label of the username input")
    eq(parser.label_of(by_name.get("password", {})), "Password", "label of the password input")
    expect(any(i.get("type") == "hidden" for i in form["inputs"]), "login form has no hidden inputs")
    action = urllib.parse.urljoin(page.url, form["action"] or page.url)
    return http.post(action, data=form_fields(form, username, password),
                     allow_redirects=False, timeout=TIMEOUT)


def login_via_form(http, authorize_url, username, password, redirect_uri, sep="?"):
    """GET the authorization request, post the login form; returns the
    redirect (Location) the provider answered with (303), its parameters after
    `sep` ("?" for the query, "#" for the fragment response mode)."""
    page = http.get(authorize_url, allow_redirects=False, timeout=TIMEOUT)
    eq(page.status_code, 200, f"authorization request: login page status ({short(page.text)})")
    r = submit_login(http, page, username, password)
    eq(r.status_code, 303, f"login form post: status ({short(r.text)})")
    loc = r.headers.get("Location", "")
    expect(loc.startswith(redirect_uri + sep), f"Location {loc!r} is not the redirect URI")
    cookies = [c for c in set_cookie_headers(r) if c.startswith("ferrid_session=")]
    eq(len(cookies), 1, "ferrid_session Set-Cookie headers after the login")
    attrs = [a.strip().lower() for a in cookies[0].split(";")[1:]]
    expect("httponly" in attrs, f"session cookie is not HttpOnly: {cookies[0]!r}")
    expect("samesite=lax" in attrs, f"session cookie is not SameSite=Lax: {cookies[0]!r}")
    return loc


def callback_params(ctx, track, loc):
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(loc).query))
    # RFC 9207: the iss parameter names the issuer in every authorization response
    eq(q.get("iss"), ctx.issuer(track), "iss parameter of the authorization response")
    expect(q.get("code"), f"no code in {loc!r}")
    return q


def oidc_hash(value, alg):
    digest = AT_HASH[alg](value.encode("ascii")).digest()
    return b64url(digest[: len(digest) // 2])


def verify_id_token(ctx, track, id_token, client_id, nonce, access_token, sub):
    """Verify an ID token with PyJWT through the track's JWKS (OpenID Connect
    Core §3.1.3.7) and return its claims."""
    alg = EXPECTED_ALG[track]
    header = jwt.get_unverified_header(id_token)
    eq(header.get("alg"), alg, "ID token header alg")
    eq(header.get("typ"), "JWT", "ID token header typ")
    jwks_client = jwt.PyJWKClient(ctx.jwks_uri(track), cache_jwk_set=False, timeout=TIMEOUT)
    key = jwks_client.get_signing_key_from_jwt(id_token).key
    claims = jwt.decode(id_token, key, algorithms=[alg], audience=client_id, issuer=ctx.issuer(track),
                        leeway=5, options={"require": ["iss", "sub", "aud", "exp", "iat"]})
    eq(claims["sub"], sub, "ID token sub (the user's id)")
    eq(claims.get("nonce"), nonce, "ID token nonce")
    eq(claims.get("at_hash"), oidc_hash(access_token, alg), "ID token at_hash")
    now = time.time()
    expect(isinstance(claims.get("auth_time"), int) and claims["auth_time"] <= now + 5,
           f"auth_time {claims.get('auth_time')!r}")
    expect(isinstance(claims.get("sid"), str) and claims["sid"], f"sid {claims.get('sid')!r}")
    if isinstance(claims["aud"], list):
        eq(claims.get("azp"), client_id, "azp with several audiences")
    return claims


def check_userinfo(ctx, track, sess, userinfo_endpoint):
    """UserInfo through the authlib session (it sends the Bearer token)."""
    u = ctx.oidc_users[track]
    r = sess.get(userinfo_endpoint, timeout=TIMEOUT)
    eq(r.status_code, 200, f"UserInfo status ({short(r.text)})")
    info = r.json()
    eq(info.get("sub"), u["id"], "UserInfo sub")
    for claim, value in USER_CLAIMS.items():
        eq(info.get(claim), value, f"UserInfo {claim}")
    eq(info.get("email"), u["email"], "UserInfo email")
    eq(info.get("email_verified"), True, "UserInfo email_verified")
    return info


def oidc_client_of(ctx, track, app):
    c = ctx.oidc_clients.get((track, app))
    if c is None:
        raise CheckFailed(f"setup did not create oidc_client {track}/{app}")
    return c


def check_oidc_setup(ctx):
    # a user and OpenID Connect clients in the RS256 and the ES256 tracks
    for track in ("rs", "es"):
        username = "alice" + secrets.token_hex(3)
        user = {"username": username, "email": f"{username}@example.com", "email_verified": True,
                "password": USER_PASSWORD, "claims": USER_CLAIMS}
        r = ctx.api_post(f"/tenants/{ctx.tenant}/tracks/{track}/users", user)
        eq(r.status_code, 201, f"create user in {track} ({short(r.text)})")
        uid = r.json().get("id")
        expect(isinstance(uid, str) and uid, f"no user id: {short(r.text)}")
        ctx.oidc_users[track] = {"id": uid, "username": username, "email": user["email"]}
    apps = (("rs", "web-basic", "client_secret_basic"), ("es", "web-pk", "private_key_jwt"))
    for track, name, method in apps:
        body = {"name": name, "kind": "oidc_client", "redirect_uris": [OIDC_REDIRECT],
                "client_auth_method": method, "grant_types": ["authorization_code", "refresh_token"]}
        r = ctx.api_post(f"/tenants/{ctx.tenant}/tracks/{track}/apps", body)
        eq(r.status_code, 201, f"create oidc_client {track}/{name} ({short(r.text)})")
        c = r.json()
        eq(c.get("issuer"), ctx.issuer(track), "issuer of the registration")
        eq(c.get("authorization_endpoint"), ctx.issuer(track) + "/oauth/authorize",
           "authorization_endpoint of the registration")
        eq(c.get("token_endpoint"), ctx.token_endpoint(track), "token_endpoint of the registration")
        expect(("client_secret" in c) == (method != "private_key_jwt"),
               f"client_secret present/absent for {method}: {short(c)}")
        ctx.oidc_clients[(track, name)] = c
    # the private_key_jwt client's P-256 key, registered as a JWK with its kid
    key = ec.generate_private_key(ec.SECP256R1())
    jwk = jwt.algorithms.ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    jwk["kid"] = "web-pk-" + secrets.token_hex(4)
    r = upload_key(ctx, "es", "web-pk", {"jwk": jwk})
    eq(r.status_code, 201, f"upload JWK for es/web-pk ({short(r.text)})")
    ctx.oidc_clients[("es", "web-pk")]["_key"] = {"key": key, "kid": jwk["kid"]}


def check_oidc_discovery(ctx):
    for track in ("rs", "es"):
        issuer = ctx.issuer(track)
        md = fetch_json(ctx, issuer + "/.well-known/openid-configuration")
        eq(md.get("issuer"), issuer, "issuer")
        for field, path in (("authorization_endpoint", "/oauth/authorize"),
                            ("token_endpoint", "/oauth/token"),
                            ("userinfo_endpoint", "/oauth/userinfo"),
                            ("jwks_uri", "/oauth/keys")):
            eq(md.get(field), issuer + path, field)
        eq(md.get("response_types_supported"),
           ["code", "id_token", "id_token token", "code id_token", "code token", "code id_token token"],
           "response_types_supported")
        expect("S256" in (md.get("code_challenge_methods_supported") or []),
               f"code_challenge_methods_supported: {md.get('code_challenge_methods_supported')}")
        expect("none" in (md.get("token_endpoint_auth_methods_supported") or []),
               "token_endpoint_auth_methods_supported lacks none")
        eq(md.get("authorization_response_iss_parameter_supported"), True,
           "authorization_response_iss_parameter_supported")
        expect(EXPECTED_ALG[track] in (md.get("id_token_signing_alg_values_supported") or []),
               f"id_token_signing_alg_values_supported: {md.get('id_token_signing_alg_values_supported')}")
        ctx.oidc_metadata[track] = md


def authlib_oidc_session(ctx, track, app):
    """An authlib OAuth2Session for the oidc_client (track, app), PKCE S256."""
    c = oidc_client_of(ctx, track, app)
    method = "private_key_jwt" if "_key" in c else "client_secret_basic"
    if method == "private_key_jwt":
        secret = ECKey.import_key(private_pem(c["_key"]["key"]))
    else:
        secret = c["client_secret"]
    sess = AuthlibSession(c["client_id"], secret, scope=OIDC_SCOPE, redirect_uri=OIDC_REDIRECT,
                          token_endpoint_auth_method=method, code_challenge_method="S256")
    if method == "private_key_jwt":
        sess.register_client_auth_method(
            PrivateKeyJWT(ctx.token_endpoint(track), headers={"kid": c["_key"]["kid"]}, alg="ES256"))
    return c, sess


def authlib_code_flow(ctx, track, app):
    """Authorization request (PKCE S256, nonce) with authlib, the login by
    form posts, the code exchange with authlib; returns what the checks need."""
    md = ctx.oidc_metadata.get(track)
    expect(md is not None, "no discovery metadata (discovery check failed)")
    c, sess = authlib_oidc_session(ctx, track, app)
    verifier = generate_token(64)
    nonce = secrets.token_urlsafe(16)
    url, state = sess.create_authorization_url(md["authorization_endpoint"], code_verifier=verifier,
                                               nonce=nonce)
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    eq(q.get("code_challenge_method"), "S256", "authlib sent code_challenge_method")
    user = ctx.oidc_users[track]
    browser = requests.Session()  # the user agent: its own cookies
    loc = login_via_form(browser, url, user["username"], USER_PASSWORD, OIDC_REDIRECT)
    params = callback_params(ctx, track, loc)
    eq(params.get("state"), state, "state of the authorization response")
    # authlib checks state again and sends code, redirect_uri and code_verifier
    tok = sess.fetch_token(md["token_endpoint"], authorization_response=loc, code_verifier=verifier,
                           state=state)
    expect(isinstance(tok.get("id_token"), str), f"no id_token in {short(tok)}")
    expect(isinstance(tok.get("refresh_token"), str), f"no refresh_token (offline_access) in {short(tok)}")
    eq(tok.get("token_type"), "Bearer", "token_type")
    claims = verify_id_token(ctx, track, tok["id_token"], c["client_id"], nonce, tok["access_token"],
                             user["id"])
    return {"client": c, "session": sess, "token": tok, "claims": claims, "callback": loc,
            "verifier": verifier, "browser": browser, "md": md}


def check_authlib_code_flow_basic(ctx):
    flow = authlib_code_flow(ctx, "rs", "web-basic")
    check_userinfo(ctx, "rs", flow["session"], flow["md"]["userinfo_endpoint"])


def check_authlib_code_flow_private_key_jwt(ctx):
    flow = authlib_code_flow(ctx, "es", "web-pk")
    check_userinfo(ctx, "es", flow["session"], flow["md"]["userinfo_endpoint"])


def check_authlib_refresh_rotates(ctx):
    flow = authlib_code_flow(ctx, "rs", "web-basic")
    sess, old = flow["session"], flow["token"]["refresh_token"]
    new = sess.refresh_token(flow["md"]["token_endpoint"], refresh_token=old)
    expect(isinstance(new.get("refresh_token"), str), f"no refresh_token after refresh: {short(new)}")
    expect(new["refresh_token"] != old, "the refresh token was not rotated")
    expect(new.get("access_token") and new["access_token"] != flow["token"]["access_token"],
           "no new access token")
    # the new access token serves UserInfo
    check_userinfo(ctx, "rs", sess, flow["md"]["userinfo_endpoint"])
    c, again = authlib_oidc_session(ctx, "rs", "web-basic")
    try:
        again.refresh_token(flow["md"]["token_endpoint"], refresh_token=old)
    except OAuthError as e:
        eq(e.error, "invalid_grant", "reused refresh token: OAuthError.error")
    else:
        raise CheckFailed("the rotated-out refresh token was accepted again")


def check_authlib_reused_code(ctx):
    flow = authlib_code_flow(ctx, "rs", "web-basic")
    c, sess = authlib_oidc_session(ctx, "rs", "web-basic")
    state = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(flow["callback"]).query))["state"]
    try:
        sess.fetch_token(flow["md"]["token_endpoint"], authorization_response=flow["callback"],
                         code_verifier=flow["verifier"], state=state)
    except OAuthError as e:
        eq(e.error, "invalid_grant", "reused code: OAuthError.error")
    else:
        raise CheckFailed("a used authorization code was exchanged again")


def check_login_wrong_password(ctx):
    md = ctx.oidc_metadata.get("rs")
    expect(md is not None, "no discovery metadata (discovery check failed)")
    c, sess = authlib_oidc_session(ctx, "rs", "web-basic")
    url, _ = sess.create_authorization_url(md["authorization_endpoint"], code_verifier=generate_token(64),
                                           nonce=secrets.token_urlsafe(16))
    browser = requests.Session()
    page = browser.get(url, allow_redirects=False, timeout=TIMEOUT)
    eq(page.status_code, 200, f"login page status ({short(page.text)})")
    r = submit_login(browser, page, ctx.oidc_users["rs"]["username"], USER_PASSWORD + "x")
    eq(r.status_code, 400, f"wrong password: status ({short(r.text)})")
    expect("Location" not in r.headers, f"wrong password redirected to {r.headers.get('Location')!r}")
    expect(not any(h.startswith("ferrid_session=") for h in set_cookie_headers(r)),
           "wrong password set a session cookie")
    # the page is the login form again
    parser = LoginFormParser()
    parser.feed(r.text)
    expect(any(f["method"] == "post" for f in parser.forms), "no login form after a wrong password")


def check_session_cookie_skips_login(ctx):
    flow = authlib_code_flow(ctx, "rs", "web-basic")
    c, sess = authlib_oidc_session(ctx, "rs", "web-basic")
    verifier = generate_token(64)
    url, state = sess.create_authorization_url(flow["md"]["authorization_endpoint"], code_verifier=verifier,
                                               nonce=secrets.token_urlsafe(16))
    r = flow["browser"].get(url, allow_redirects=False, timeout=TIMEOUT)
    expect(r.status_code in GET_REDIRECTS, f"authorize with a session: expected 302/303, got {resp_info(r)}")
    loc = r.headers.get("Location", "")
    params = callback_params(ctx, "rs", loc)
    eq(params.get("state"), state, "state")
    tok = sess.fetch_token(flow["md"]["token_endpoint"], authorization_response=loc, code_verifier=verifier,
                           state=state)
    claims = jwt.decode(tok["id_token"], options={"verify_signature": False})
    eq(claims.get("sid"), flow["claims"]["sid"], "sid of the second ID token (same session)")
    eq(claims.get("auth_time"), flow["claims"]["auth_time"], "auth_time of the second ID token")


def check_prompt_none_without_session(ctx):
    # OpenID Connect Core §3.1.2.6: no session and prompt=none -> login_required
    # at the redirect URI, with state and iss, and no login page
    md = ctx.oidc_metadata.get("rs")
    expect(md is not None, "no discovery metadata (discovery check failed)")
    c, sess = authlib_oidc_session(ctx, "rs", "web-basic")
    url, state = sess.create_authorization_url(md["authorization_endpoint"], code_verifier=generate_token(64),
                                               nonce=secrets.token_urlsafe(16), prompt="none")
    r = requests.get(url, allow_redirects=False, timeout=TIMEOUT)
    expect(r.status_code in GET_REDIRECTS, f"prompt=none without a session: expected 302/303, got {resp_info(r)}")
    loc = r.headers.get("Location", "")
    expect(loc.startswith(OIDC_REDIRECT + "?"), f"Location {loc!r} is not the redirect URI")
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(loc).query))
    eq(q.get("error"), "login_required", "error")
    eq(q.get("state"), state, "state")
    eq(q.get("iss"), ctx.issuer("rs"), "iss")
    expect("code" not in q, f"a code with login_required: {loc!r}")


# --------------------------------------------------------------------------
# OpenID Connect implicit flow (Core §3.2) with authlib: the authorization URL
# and the fragment (token_from_fragment) by its OAuth2Session, the ID token
# verified with joserfc (authlib's JOSE library) through the JWKS and validated
# by authlib's ImplicitIDToken claims class (iss, aud, exp, nonce, at_hash)
# --------------------------------------------------------------------------

IMPLICIT_SCOPE = "openid profile email"
IMPLICIT_TRACKS = ("rs", "ed")  # at_hash with SHA-256 (RS256) and SHA-512 (EdDSA)


def check_implicit_setup(ctx):
    # a user in the EdDSA track (the code-flow setup made those of rs and es)
    username = "alice" + secrets.token_hex(3)
    user = {"username": username, "email": f"{username}@example.com", "email_verified": True,
            "password": USER_PASSWORD, "claims": USER_CLAIMS}
    r = ctx.api_post(f"/tenants/{ctx.tenant}/tracks/ed/users", user)
    eq(r.status_code, 201, f"create user in ed ({short(r.text)})")
    ctx.oidc_users["ed"] = {"id": r.json().get("id"), "username": username, "email": user["email"]}
    for track in IMPLICIT_TRACKS:
        # a public client: implicit responses check no secret and no PKCE
        body = {"name": "web-implicit", "kind": "oidc_client", "client_auth_method": "none",
                "redirect_uris": [OIDC_REDIRECT], "grant_types": ["implicit"],
                "response_types": ["id_token token", "id_token"]}
        r = ctx.api_post(f"/tenants/{ctx.tenant}/tracks/{track}/apps", body)
        eq(r.status_code, 201, f"create oidc_client {track}/web-implicit ({short(r.text)})")
        c = r.json()
        # the words of a response type in any order, stored in the documented spelling
        eq(c.get("response_types"), ["token id_token", "id_token"], "response_types as stored")
        expect("client_secret" not in c, f"a public client got a secret: {short(c)}")
        ctx.oidc_clients[(track, "web-implicit")] = c


def implicit_authorize(ctx, track, response_type, browser=None):
    """authlib builds the implicit request (state, nonce); the person logs in by
    form posts in `browser` (a new one by default), or is sent straight back
    when it has a session. Returns the authlib session, the nonce, the state and
    the redirect (fragment)."""
    browser = browser or requests.Session()
    c = oidc_client_of(ctx, track, "web-implicit")
    md = fetch_json(ctx, ctx.issuer(track) + "/.well-known/openid-configuration")
    sess = AuthlibSession(c["client_id"], scope=IMPLICIT_SCOPE, redirect_uri=OIDC_REDIRECT,
                          token_endpoint_auth_method="none")
    nonce = secrets.token_urlsafe(16)
    url, state = sess.create_authorization_url(md["authorization_endpoint"], response_type=response_type,
                                               nonce=nonce)
    if browser.cookies.get("ferrid_session") is None:
        user = ctx.oidc_users[track]
        loc = login_via_form(browser, url, user["username"], USER_PASSWORD, OIDC_REDIRECT, sep="#")
    else:
        r = browser.get(url, allow_redirects=False, timeout=TIMEOUT)
        expect(r.status_code in GET_REDIRECTS, f"authorization with a session: {resp_info(r)}")
        loc = r.headers.get("Location", "")
    parts = urllib.parse.urlsplit(loc)
    eq(parts.query, "", f"query of a fragment response {loc!r}")
    frag = dict(urllib.parse.parse_qsl(parts.fragment))
    eq(frag.get("iss"), ctx.issuer(track), "iss parameter of the authorization response")
    expect("code" not in frag and "refresh_token" not in frag, f"code/refresh_token in an implicit response: {loc!r}")
    return {"client": c, "md": md, "session": sess, "nonce": nonce, "state": state, "location": loc,
            "fragment": frag}


def implicit_id_token(ctx, track, flow, id_token, access_token=None, nonce=None):
    """The ID token's signature through the track's JWKS (joserfc), then its
    claims by authlib's ImplicitIDToken; returns the claims."""
    jwks = fetch_json(ctx, flow["md"]["jwks_uri"])
    alg = EXPECTED_ALG[track]
    token = joserfc_jwt.decode(id_token, KeySet.import_key_set(jwks), algorithms=[alg])
    eq(token.header.get("alg"), alg, "ID token alg")
    client_id = flow["client"]["client_id"]
    params = {"nonce": nonce or flow["nonce"], "client_id": client_id}
    if access_token is not None:
        params["access_token"] = access_token
    options = {"iss": {"essential": True, "value": ctx.issuer(track)},
               "aud": {"essential": True, "value": client_id}}
    claims = ImplicitIDToken(token.claims, token.header, options, params)
    claims.validate(leeway=5)
    eq(claims["sub"], ctx.oidc_users[track]["id"], "ID token sub (the user's id)")
    expect(isinstance(claims.get("sid"), str) and claims["sid"], f"sid {claims.get('sid')!r}")
    return claims


def check_authlib_implicit_id_token_token(ctx):
    for track in IMPLICIT_TRACKS:
        flow = implicit_authorize(ctx, track, "id_token token")
        sess = flow["session"]
        # authlib reads the fragment: access_token, token_type, state checked
        tok = sess.token_from_fragment(flow["location"], flow["state"])
        eq(tok.get("token_type"), "Bearer", "token_type")
        expect(int(tok.get("expires_in", 0)) > 0, f"expires_in {tok.get('expires_in')!r}")
        claims = implicit_id_token(ctx, track, flow, tok["id_token"], access_token=tok["access_token"])
        expect("at_hash" in claims, "no at_hash with an access token")
        # the access token is the person's: authlib's session calls UserInfo with it
        check_userinfo(ctx, track, sess, flow["md"]["userinfo_endpoint"])


def check_authlib_implicit_id_token(ctx):
    flow = implicit_authorize(ctx, "rs", "id_token")
    frag = flow["fragment"]
    eq(frag.get("state"), flow["state"], "state")
    expect("access_token" not in frag, f"an access token for response_type id_token: {flow['location']!r}")
    claims = implicit_id_token(ctx, "rs", flow, frag.get("id_token", ""))
    expect("at_hash" not in claims, "at_hash without an access token")
    # no access token to call UserInfo with: the ID token carries the scopes' claims
    user = ctx.oidc_users["rs"]
    for claim, value in USER_CLAIMS.items():
        eq(claims.get(claim), value, f"ID token {claim}")
    eq(claims.get("email"), user["email"], "ID token email")


def expect_claim_error(fn, claim, what):
    try:
        fn()
    except InvalidClaimError as e:
        eq(e.claim, claim, f"{what}: the claim authlib refused")
    else:
        raise CheckFailed(f"{what}: authlib accepted it")


def check_authlib_implicit_refuses_mismatches(ctx):
    # proof that the validation above is real: another nonce, or the access token
    # of another response, is refused by ImplicitIDToken
    browser = requests.Session()
    first = implicit_authorize(ctx, "rs", "id_token token", browser)
    tok = first["session"].token_from_fragment(first["location"], first["state"])
    expect_claim_error(lambda: implicit_id_token(ctx, "rs", first, tok["id_token"], tok["access_token"],
                                                 nonce="another-nonce"), "nonce", "another nonce")
    # a second response in the same browser (its session: no login page) has another token
    second = implicit_authorize(ctx, "rs", "id_token token", browser)
    other = second["fragment"].get("access_token")
    expect(other and other != tok["access_token"], "no second access token")
    expect_claim_error(lambda: implicit_id_token(ctx, "rs", first, tok["id_token"], other), "at_hash",
                       "another response's access token")


# --------------------------------------------------------------------------
# introspection (RFC 7662) and revocation (RFC 7009) with authlib's helpers
# --------------------------------------------------------------------------

INACTIVE = {"active": False}


def endpoints_of(ctx, track):
    """The introspection and revocation endpoints from the track's discovery."""
    md = fetch_json(ctx, ctx.issuer(track) + "/.well-known/openid-configuration")
    eq(md.get("introspection_endpoint"), ctx.issuer(track) + "/oauth/introspect", "introspection_endpoint")
    eq(md.get("revocation_endpoint"), ctx.issuer(track) + "/oauth/revoke", "revocation_endpoint")
    for field in ("introspection_endpoint_auth_methods_supported", "revocation_endpoint_auth_methods_supported"):
        for m in ("client_secret_basic", "client_secret_post", "private_key_jwt"):
            expect(m in (md.get(field) or []), f"{field} lacks {m}: {md.get(field)}")
    return md["introspection_endpoint"], md["revocation_endpoint"]


def answer_of(r, what):
    """The JSON answer of an introspection (200, application/json, no-store)."""
    eq(r.status_code, 200, f"{what}: status ({short(r.text)})")
    ctype = r.headers.get("Content-Type", "")
    eq(ctype.split(";")[0].strip().lower(), "application/json", f"{what}: Content-Type")
    expect("no-store" in r.headers.get("Cache-Control", "").lower(), f"{what}: Cache-Control lacks no-store")
    return r.json()


def expect_active_access(answer, claims, what):
    """An active answer for an access token: every RFC 7662 field, as in its claims."""
    eq(answer.get("active"), True, f"{what}: active ({short(answer)})")
    eq(answer.get("token_type"), "Bearer", f"{what}: token_type")
    for k in ("scope", "client_id", "sub", "aud", "iss", "exp", "iat", "nbf", "jti"):
        expect(k in answer, f"{what}: no {k} in {short(answer)}")
        eq(answer[k], claims[k], f"{what}: {k}")


def authlib_service_session(ctx, track, app, method):
    c = ctx.client(track, app)
    return c, AuthlibSession(c["client_id"], c["client_secret"], token_endpoint_auth_method=method,
                             revocation_endpoint_auth_method=method, scope="party-api2:read1")


def check_authlib_introspect_revoke_client_credentials(ctx):
    introspect_url, revoke_url = endpoints_of(ctx, "rs")
    c, owner = authlib_service_session(ctx, "rs", "svc-basic", "client_secret_basic")
    tok = owner.fetch_token(ctx.token_endpoint("rs"), grant_type="client_credentials")
    claims = verify_access_token(ctx, tok["access_token"], "rs", c["client_id"], "party-api2:read1")
    # any client of the track asks (RFC 7662 §2.1), here by client_secret_post
    _, other = authlib_service_session(ctx, "rs", "svc-post", "client_secret_post")
    answer = answer_of(other.introspect_token(introspect_url, token=tok["access_token"],
                                              token_type_hint="access_token"), "introspection")
    expect_active_access(answer, claims, "client-credentials token")
    # the hint is a hint only: the wrong one still finds the access token
    answer = answer_of(owner.introspect_token(introspect_url, token=tok["access_token"],
                                              token_type_hint="refresh_token"), "introspection, wrong hint")
    expect_active_access(answer, claims, "client-credentials token, wrong hint")
    # another client's revocation: 200, nothing revoked (RFC 7009 §2.1)
    r = other.revoke_token(revoke_url, token=tok["access_token"], token_type_hint="access_token")
    eq(r.status_code, 200, f"another client's revocation: status ({short(r.text)})")
    answer = answer_of(owner.introspect_token(introspect_url, token=tok["access_token"]), "introspection")
    eq(answer.get("active"), True, "still active after another client's revocation")
    r = owner.revoke_token(revoke_url, token=tok["access_token"], token_type_hint="access_token")
    eq(r.status_code, 200, f"revocation: status ({short(r.text)})")
    eq(answer_of(other.introspect_token(introspect_url, token=tok["access_token"]), "introspection"),
       INACTIVE, "introspection after revocation")
    # revoking it again, or revoking garbage, is 200 as well
    for token in (tok["access_token"], "not-a-token"):
        r = owner.revoke_token(revoke_url, token=token)
        eq(r.status_code, 200, f"revocation of a revoked/unknown token: status ({short(r.text)})")
    eq(answer_of(owner.introspect_token(introspect_url, token="not-a-token"), "introspection"), INACTIVE,
       "introspection of garbage")
    # a wrong secret: 401 invalid_client
    bad = AuthlibSession(c["client_id"], flip_last_char(c["client_secret"]),
                         revocation_endpoint_auth_method="client_secret_basic")
    r = bad.introspect_token(introspect_url, token=tok["access_token"])
    eq(r.status_code, 401, f"wrong secret: status ({short(r.text)})")
    eq(error_body(r).get("error"), "invalid_client", "wrong secret: error")


def check_authlib_revoke_refresh_token_cascades(ctx):
    introspect_url, revoke_url = endpoints_of(ctx, "rs")
    flow = authlib_code_flow(ctx, "rs", "web-basic")
    sess, tok = flow["session"], flow["token"]
    user = ctx.oidc_users["rs"]
    client_id = flow["client"]["client_id"]
    answer = answer_of(sess.introspect_token(introspect_url, token=tok["refresh_token"],
                                             token_type_hint="refresh_token"), "refresh token introspection")
    eq(answer.get("active"), True, f"refresh token active ({short(answer)})")
    eq(answer.get("token_type"), "refresh_token", "refresh token: token_type")
    eq(answer.get("client_id"), client_id, "refresh token: client_id")
    eq(answer.get("sub"), user["id"], "refresh token: sub")
    eq(answer.get("iss"), ctx.issuer("rs"), "refresh token: iss")
    eq(sorted(answer.get("scope", "").split()), sorted(OIDC_SCOPE.split()), "refresh token: scope")
    for k in ("exp", "iat", "nbf"):
        expect(isinstance(answer.get(k), int), f"refresh token: {k} not an integer in {short(answer)}")
    expect(answer["exp"] > time.time(), f"refresh token: exp {answer['exp']} not in the future")
    at_claims = jwt.decode(tok["access_token"], options={"verify_signature": False})
    answer = answer_of(sess.introspect_token(introspect_url, token=tok["access_token"]), "access token introspection")
    expect_active_access(answer, at_claims, "user's access token")
    eq(answer["sub"], user["id"], "user's access token: sub")
    # an ID token is not revocable (RFC 7009 §2.2.1)
    r = sess.revoke_token(revoke_url, token=tok["id_token"])
    eq(r.status_code, 400, f"ID token revocation: status ({short(r.text)})")
    eq(error_body(r).get("error"), "unsupported_token_type", "ID token revocation: error")
    # no token given: authlib revokes the session's refresh token
    r = sess.revoke_token(revoke_url, token_type_hint="refresh_token")
    eq(r.status_code, 200, f"refresh token revocation: status ({short(r.text)})")
    for what, token in (("refresh token", tok["refresh_token"]), ("its access token", tok["access_token"])):
        eq(answer_of(sess.introspect_token(introspect_url, token=token), what), INACTIVE,
           f"{what} after the refresh token's revocation")
    r = sess.get(flow["md"]["userinfo_endpoint"], timeout=TIMEOUT)
    eq(r.status_code, 401, f"UserInfo with the revoked grant's access token ({short(r.text)})")
    try:
        sess.refresh_token(flow["md"]["token_endpoint"], refresh_token=tok["refresh_token"])
    except OAuthError as e:
        eq(e.error, "invalid_grant", "revoked refresh token: OAuthError.error")
    else:
        raise CheckFailed("a revoked refresh token was accepted")


def check_oauthlib_revocation_request(ctx):
    # requests-oauthlib has no revocation helper; oauthlib's client prepares the
    # RFC 7009 request and the requests-oauthlib session sends it
    introspect_url, revoke_url = endpoints_of(ctx, "rs")
    c = ctx.client("rs", "svc-basic")
    sess = ro_session(c, "party-api2:read1")
    auth = HTTPBasicAuth(c["client_id"], c["client_secret"])
    tok = sess.fetch_token(token_url=ctx.token_endpoint("rs"), auth=auth)
    url, headers, body = sess._client.prepare_token_revocation_request(
        revoke_url, tok["access_token"], token_type_hint="access_token")
    r = sess.post(url, data=body, headers=headers, auth=auth, timeout=TIMEOUT)
    eq(r.status_code, 200, f"revocation: status ({short(r.text)})")
    r = requests.post(introspect_url, data={"token": tok["access_token"]}, auth=auth, timeout=TIMEOUT)
    eq(answer_of(r, "introspection"), INACTIVE, "introspection after revocation")


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
    ("discovery: private_key_jwt and its signing algs", check_pk_discovery),
    ("private_key_jwt client (no secret) + certificate PEM upload", check_pk_setup_cert),
    ("private_key_jwt client + JWK upload with kid", check_pk_setup_jwk),
    ("authlib PrivateKeyJWT RS256 (certificate key) + PyJWT verify", check_authlib_pk_rs256),
    ("authlib PrivateKeyJWT ES256 (JWK with kid) + PyJWT verify", check_authlib_pk_es256),
    ("private_key_jwt replayed assertion -> 401 invalid_client", check_pk_replay),
    ("private_key_jwt aud/alg accepted, bad assertions -> 401 invalid_client", check_pk_assertion_rules),
    ("private_key_jwt PFX upload (wrong password 400) + token", check_pk_pfx_upload),
    ("oidc: users + oidc_clients (client_secret_basic, private_key_jwt JWK)", check_oidc_setup),
    ("oidc: discovery names the provider endpoints, S256, iss parameter", check_oidc_discovery),
    ("authlib code flow + PKCE, client_secret_basic: ID token (PyJWT, at_hash), UserInfo",
     check_authlib_code_flow_basic),
    ("authlib code flow + PKCE, PrivateKeyJWT ES256: ID token (PyJWT, at_hash), UserInfo",
     check_authlib_code_flow_private_key_jwt),
    ("authlib refresh rotates; the old refresh token -> invalid_grant", check_authlib_refresh_rotates),
    ("authlib reused authorization code -> invalid_grant", check_authlib_reused_code),
    ("login form: wrong password -> 400 login page, no redirect, no session", check_login_wrong_password),
    ("session cookie: a second authorization request skips the login", check_session_cookie_skips_login),
    ("prompt=none without a session -> login_required at the redirect URI", check_prompt_none_without_session),
    ("oidc: user in the EdDSA track + implicit public clients (id_token token, id_token)", check_implicit_setup),
    ("authlib implicit id_token token (RS256, EdDSA): token_from_fragment, ImplicitIDToken (nonce, at_hash), UserInfo",
     check_authlib_implicit_id_token_token),
    ("authlib implicit id_token: ImplicitIDToken (nonce, no at_hash), the scopes' claims in the ID token",
     check_authlib_implicit_id_token),
    ("authlib ImplicitIDToken refuses another nonce and another response's access token (at_hash)",
     check_authlib_implicit_refuses_mismatches),
    ("authlib introspect_token/revoke_token: client-credentials token (fields, hint, other client, 401)",
     check_authlib_introspect_revoke_client_credentials),
    ("authlib revoke_token of a refresh token: its access token inactive, UserInfo 401, ID token 400",
     check_authlib_revoke_refresh_token_cascades),
    ("oauthlib prepare_token_revocation_request via requests-oauthlib", check_oauthlib_revocation_request),
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
