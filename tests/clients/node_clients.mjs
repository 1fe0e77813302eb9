#!/usr/bin/env node
// Interoperability checks of ferrid against third-party Node clients:
// openid-client v6 (discovery + client credentials grant, with client
// secrets and with PrivateKeyJwt; the authorization code flow with PKCE, ID
// token validation, UserInfo and refresh), oauth4webapi (the code flow with
// its RFC 9207 iss check) and jose (JWT verification through the remote JWKS,
// client key generation, private_key_jwt assertions). Introspection (RFC 7662)
// and revocation (RFC 7009) through oauth4webapi's introspectionRequest /
// processIntrospectionResponse and revocationRequest / processRevocationResponse,
// for a client-credentials token and a refresh token from the code flow.
// The hybrid flow (OpenID Connect Core §3.3) with openid-client's
// useCodeIdTokenResponseType: "code id_token" by form_post (the posted form
// handed to authorizationCodeGrant as a Request) and "code id_token token" in
// the fragment (c_hash checked by the library, at_hash and the front-channel
// access token at UserInfo by this script), a swapped code refused; RP-Initiated
// Logout 1.0 through buildEndSessionUrl (redirect with state, then prompt=none
// -> login_required, also with the old session cookie) and without a hint (the
// confirmation page). A client started from its app-scoped discovery document
// ({issuer}/{app}(login)/.well-known/...): code flow, UserInfo and end session at
// the app's endpoints, another app's logout refused there. The implicit
// "id_token" by form_post through openid-client's implicitAuthentication.
//
// Environment:
//   FERRID_URL           base URL of a running server, e.g. http://127.0.0.1:8080
//   FERRID_ADMIN_SECRET  secret of the bootstrap client master/master/admin
//
// Output: one line per check ("ok - name" / "FAIL - name: reason"), then
// "N passed, N failed". Exit code 1 if any check failed.

import { createHash, randomBytes } from 'node:crypto';
import * as client from 'openid-client';
import * as jose from 'jose';
import * as oauth from 'oauth4webapi';
import {
  CheckFailed, Management, PASSWORD as USER_PASSWORD, TIMEOUT_MS, base, eq, expect, http, runChecks, short,
} from './lib.mjs';

// unique tenant per run so several suites can share one server
const tenant = `js${randomBytes(5).toString('hex')}`;
const TRACKS = { rs: 'RS256', es: 'ES256' };
const admin = new Management();
const state = {
  tracks: new Set(), clients: new Map(), pkKeys: new Map(),
  users: new Map(), oidcClients: new Map(),
};
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

const issuerOf = (track) => `${base}/${tenant}/${track}`;
const tokenEndpointOf = (track) => `${issuerOf(track)}/oauth/token`;
const jwksUriOf = (track) => `${issuerOf(track)}/oauth/keys`;

function clientOf(track, app) {
  const c = state.clients.get(`${track}/${app}`);
  if (!c) throw new CheckFailed(`setup did not create client ${track}/${app}`);
  return c;
}

// ---------------------------------------------------------------------------
// helpers around openid-client and jose
// ---------------------------------------------------------------------------

function authFor(method, secret) {
  if (method === 'client_secret_basic') return client.ClientSecretBasic(secret);
  if (method === 'client_secret_post') return client.ClientSecretPost(secret);
  throw new Error(`unknown method ${method}`);
}

async function discover(track, app, method, secret) {
  const c = clientOf(track, app);
  // strict: openid-client compares the discovered issuer with this URL
  return client.discovery(
    new URL(issuerOf(track)),
    c.client_id,
    undefined,
    authFor(method, secret ?? c.client_secret),
    { execute: [client.allowInsecureRequests], timeout: TIMEOUT_MS / 1000 },
  );
}

const jwksCache = new Map();
function remoteJwks(track) {
  if (!jwksCache.has(track)) {
    jwksCache.set(track, jose.createRemoteJWKSet(new URL(jwksUriOf(track)), { timeoutDuration: TIMEOUT_MS }));
  }
  return jwksCache.get(track);
}

async function verifyToken(token, track, { clientId, audience, scope }) {
  const alg = TRACKS[track];
  const { payload, protectedHeader } = await jose.jwtVerify(token, remoteJwks(track), {
    issuer: issuerOf(track),
    audience,
    typ: 'at+jwt',
    algorithms: [alg],
    requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'nbf', 'jti'],
    clockTolerance: 5,
  });
  eq(protectedHeader.typ, 'at+jwt', 'JWT header typ');
  eq(protectedHeader.alg, alg, 'JWT header alg');
  expect(typeof protectedHeader.kid === 'string' && protectedHeader.kid, 'JWT header has no kid');
  eq(payload.iss, issuerOf(track), 'iss');
  eq(payload.sub, clientId, 'sub');
  eq(payload.client_id, clientId, 'client_id claim');
  if (scope !== undefined) eq(payload.scope, scope, 'scope claim');
  return payload;
}

function checkTokenResponse(tok, scope) {
  expect(typeof tok.access_token === 'string' && tok.access_token, 'no access_token');
  // openid-client normalises token_type to lower case
  eq(tok.token_type, 'bearer', 'token_type');
  expect(Number.isInteger(tok.expires_in) && tok.expires_in > 0, `bad expires_in ${tok.expires_in}`);
  if (scope !== undefined) eq(tok.scope, scope, 'response scope');
}

// Run fn, which must reject with an OAuth error from the token endpoint.
// Returns { status, error, kind } whichever class openid-client used:
// ResponseBodyError, or WWWAuthenticateChallengeError when the server sent a
// WWW-Authenticate header (RFC 6749 §5.2 requires one for 401 after HTTP
// Basic authentication; openid-client then throws the challenge error).
async function oauthErrorOf(fn) {
  try {
    await fn();
  } catch (err) {
    if (err instanceof client.ResponseBodyError) {
      return { status: err.status, error: err.error, kind: 'ResponseBodyError' };
    }
    if (err instanceof client.WWWAuthenticateChallengeError) {
      let body;
      try {
        body = await err.response.json();
      } catch {
        body = undefined;
      }
      return {
        status: err.status,
        error: body?.error,
        kind: 'WWWAuthenticateChallengeError',
        schemes: err.cause.map((c) => c.scheme),
      };
    }
    throw new CheckFailed(`unexpected error ${err?.name}: ${err?.message} ${short(JSON.stringify(err?.cause ?? ''))}`);
  }
  throw new CheckFailed('no error raised');
}

// ---------------------------------------------------------------------------
// setup checks
// ---------------------------------------------------------------------------

async function checkAdminToken() {
  const r = await admin.tokenRequest();
  eq(r.status, 200, `admin token status (${short(r.text)})`);
  expect(r.body && typeof r.body.access_token === 'string', `no access_token: ${short(r.text)}`);
  eq(r.body.token_type, 'Bearer', 'token_type');
  admin.token = r.body.access_token;
}

async function checkSetup() {
  let r = await admin.post('/tenants', { name: tenant });
  eq(r.status, 201, `create tenant (${short(r.text)})`);
  for (const [track, alg] of Object.entries(TRACKS)) {
    r = await admin.post(`/tenants/${tenant}/tracks`, { name: track, signing_alg: alg });
    eq(r.status, 201, `create track ${track} (${short(r.text)})`);
    state.tracks.add(track);
    const apps = `/tenants/${tenant}/tracks/${track}/apps`;
    r = await admin.post(apps, { name: 'party-api2', kind: 'oauth_resource', scopes: ['read1', 'read2'] });
    eq(r.status, 201, `create resource party-api2 in ${track} (${short(r.text)})`);
    r = await admin.post(apps, { name: 'ledger', kind: 'oauth_resource', scopes: ['view'] });
    eq(r.status, 201, `create resource ledger in ${track} (${short(r.text)})`);
    const clients = [
      ['svc-basic', 'client_secret_basic', [
        { resource: 'party-api2', scopes: ['read1', 'read2'] },
        { resource: 'ledger', scopes: ['view'] },
      ]],
      ['svc-post', 'client_secret_post', [{ resource: 'party-api2', scopes: ['read1'] }]],
    ];
    for (const [name, method, grants] of clients) {
      r = await admin.post(apps, {
        name,
        kind: 'oauth_client',
        client_auth_method: method,
        resource_scopes: grants,
      });
      eq(r.status, 201, `create client ${track}/${name} (${short(r.text)})`);
      const b = r.body ?? {};
      expect(typeof b.client_id === 'string' && b.client_id, `no client_id: ${short(r.text)}`);
      expect(typeof b.client_secret === 'string' && b.client_secret.length === 43,
        `client_secret not 43 chars: ${JSON.stringify(b.client_secret)}`);
      eq(b.issuer, issuerOf(track), 'issuer in client response');
      eq(b.token_endpoint, tokenEndpointOf(track), 'token_endpoint in client response');
      // the discovery_endpoint handed out must work with openid-client as is
      expect(typeof b.discovery_endpoint === 'string' && b.discovery_endpoint.includes('/.well-known/'),
        `discovery_endpoint: ${JSON.stringify(b.discovery_endpoint)}`);
      state.clients.set(`${track}/${name}`, b);
    }
  }
}

// ---------------------------------------------------------------------------
// openid-client + jose
// ---------------------------------------------------------------------------

async function checkDiscoveryMetadata() {
  const config = await discover('rs', 'svc-basic', 'client_secret_basic');
  const md = config.serverMetadata();
  eq(md.issuer, issuerOf('rs'), 'issuer');
  eq(md.token_endpoint, tokenEndpointOf('rs'), 'token_endpoint');
  eq(md.jwks_uri, jwksUriOf('rs'), 'jwks_uri');
  eq(config.clientMetadata().client_id, clientOf('rs', 'svc-basic').client_id, 'client_id');
}

async function grantAndVerify(track, app, method, scope, audience = 'party-api2') {
  const c = clientOf(track, app);
  const config = await discover(track, app, method);
  const tok = await client.clientCredentialsGrant(config, { scope });
  checkTokenResponse(tok, scope);
  const payload = await verifyToken(tok.access_token, track, { clientId: c.client_id, audience, scope });
  eq(payload.aud, audience, 'aud');
  expect(Math.abs(payload.exp - payload.iat - tok.expires_in) <= 5,
    `exp-iat=${payload.exp - payload.iat} but expires_in=${tok.expires_in}`);
  return { tok, payload };
}

async function checkBasicRs256() {
  await grantAndVerify('rs', 'svc-basic', 'client_secret_basic', 'party-api2:read1');
}

async function checkPostRs256() {
  await grantAndVerify('rs', 'svc-post', 'client_secret_post', 'party-api2:read1');
}

async function checkBasicEs256() {
  await grantAndVerify('es', 'svc-basic', 'client_secret_basic', 'party-api2:read1');
}

async function checkPostEs256() {
  await grantAndVerify('es', 'svc-post', 'client_secret_post', 'party-api2:read1');
}

async function checkTwoScopes() {
  await grantAndVerify('rs', 'svc-basic', 'client_secret_basic', 'party-api2:read1 party-api2:read2');
}

async function checkStrictIssuer() {
  // The discovery document served for ".../rs/" names ".../rs" as issuer;
  // openid-client must refuse it. Proves the issuer comparison in the
  // positive checks is real.
  const c = clientOf('rs', 'svc-basic');
  try {
    await client.discovery(new URL(`${issuerOf('rs')}/`), c.client_id, undefined,
      client.ClientSecretBasic(c.client_secret), { execute: [client.allowInsecureRequests] });
  } catch (err) {
    eq(err?.code, 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED', `error code (${err?.message})`);
    return;
  }
  throw new CheckFailed('discovery accepted an issuer with a trailing slash');
}

async function checkWrongSecretBasic() {
  const config = await discover('rs', 'svc-basic', 'client_secret_basic', 'w'.repeat(43));
  const e = await oauthErrorOf(() => client.clientCredentialsGrant(config, { scope: 'party-api2:read1' }));
  eq(e.status, 401, `status (${e.kind})`);
  eq(e.error, 'invalid_client', `error (${e.kind})`);
  if (e.kind === 'WWWAuthenticateChallengeError') {
    expect(e.schemes.includes('basic'), `WWW-Authenticate schemes ${e.schemes}`);
  }
}

async function checkWrongSecretPost() {
  const config = await discover('rs', 'svc-post', 'client_secret_post', 'v'.repeat(43));
  const e = await oauthErrorOf(() => client.clientCredentialsGrant(config, { scope: 'party-api2:read1' }));
  eq(e.status, 401, `status (${e.kind})`);
  eq(e.error, 'invalid_client', `error (${e.kind})`);
}

async function checkUnknownScope() {
  const config = await discover('rs', 'svc-post', 'client_secret_post');
  const e = await oauthErrorOf(() => client.clientCredentialsGrant(config, { scope: 'party-api2:read2' }));
  // svc-post is granted party-api2:read1 only
  eq(e.status, 400, `status (${e.kind})`);
  eq(e.error, 'invalid_scope', `error (${e.kind})`);
  const e2 = await oauthErrorOf(() => client.clientCredentialsGrant(config, { scope: 'nosuch:thing' }));
  eq(e2.status, 400, `status for nosuch:thing (${e2.kind})`);
  eq(e2.error, 'invalid_scope', `error for nosuch:thing (${e2.kind})`);
}

async function selectAndVerify(params, expectAud, expectScope) {
  const c = clientOf('rs', 'svc-basic');
  const config = await discover('rs', 'svc-basic', 'client_secret_basic');
  const tok = await client.clientCredentialsGrant(config, params);
  checkTokenResponse(tok, expectScope);
  const aud = Array.isArray(expectAud) ? expectAud[0] : expectAud;
  const payload = await verifyToken(tok.access_token, 'rs', { clientId: c.client_id, audience: aud, scope: expectScope });
  if (Array.isArray(expectAud)) {
    expect(Array.isArray(payload.aud), `aud should be an array, got ${JSON.stringify(payload.aud)}`);
    eq([...payload.aud].sort(), [...expectAud].sort(), 'aud');
  } else {
    eq(payload.aud, expectAud, 'aud');
  }
}

async function checkResourceParam() {
  // resource alone selects the resource: all granted scopes of it
  await selectAndVerify({ resource: 'ledger' }, 'ledger', 'ledger:view');
}

async function checkAudienceParam() {
  await selectAndVerify({ audience: 'ledger' }, 'ledger', 'ledger:view');
}

async function checkResourceWithScope() {
  await selectAndVerify({ resource: 'party-api2', scope: 'party-api2:read2' }, 'party-api2', 'party-api2:read2');
}

async function checkTwoResources() {
  // scopes of two resources: aud is an array naming both
  const scope = 'party-api2:read1 ledger:view';
  const c = clientOf('rs', 'svc-basic');
  const config = await discover('rs', 'svc-basic', 'client_secret_basic');
  const tok = await client.clientCredentialsGrant(config, { scope });
  checkTokenResponse(tok);
  eq(tok.scope.split(' ').sort(), scope.split(' ').sort(), 'response scope (as a set)');
  const payload = await verifyToken(tok.access_token, 'rs', { clientId: c.client_id, audience: 'ledger' });
  expect(Array.isArray(payload.aud), `aud should be an array, got ${JSON.stringify(payload.aud)}`);
  eq([...payload.aud].sort(), ['ledger', 'party-api2'], 'aud');
  eq(payload.scope.split(' ').sort(), scope.split(' ').sort(), 'scope claim (as a set)');
}

async function checkJoseRejectsForeignToken() {
  // an ES256-track token must not verify against the RS256 track (other
  // keys, other issuer), and a wrong audience must be refused
  const { tok } = await grantAndVerify('es', 'svc-basic', 'client_secret_basic', 'party-api2:read1');
  try {
    await jose.jwtVerify(tok.access_token, remoteJwks('rs'), { issuer: issuerOf('es') });
    throw new CheckFailed('ES256-track token verified with the RS256-track JWKS');
  } catch (err) {
    if (err instanceof CheckFailed) throw err;
    expect(err instanceof jose.errors.JOSEError, `unexpected ${err?.name}: ${err?.message}`);
    expect(['ERR_JWKS_NO_MATCHING_KEY', 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED'].includes(err.code),
      `unexpected jose error ${err.code}`);
  }
  try {
    await jose.jwtVerify(tok.access_token, remoteJwks('es'), { issuer: issuerOf('es'), audience: 'ledger' });
    throw new CheckFailed('token verified for audience ledger');
  } catch (err) {
    if (err instanceof CheckFailed) throw err;
    eq(err?.code, 'ERR_JWT_CLAIM_VALIDATION_FAILED', 'jose error code');
    eq(err?.claim, 'aud', 'failed claim');
  }
}

async function checkJwksShape() {
  for (const [track, alg] of Object.entries(TRACKS)) {
    const r = await http('GET', jwksUriOf(track));
    eq(r.status, 200, `GET jwks ${track}`);
    const keys = r.body?.keys;
    expect(Array.isArray(keys) && keys.length > 0, `no keys in ${track} JWKS`);
    for (const k of keys) {
      expect(!('d' in k), `private key material in ${track} JWKS`);
      const key = await jose.importJWK(k, alg);
      expect(key, `jose cannot import ${track} JWK`);
    }
  }
}

async function checkAppScopedDiscovery() {
  // App-scoped discovery: the document is at {issuer}/{app}/.well-known/...
  // but names the track issuer. Give openid-client the document URL itself.
  const c = clientOf('rs', 'svc-post');
  const url = `${issuerOf('rs')}/svc-post/.well-known/openid-configuration`;
  const config = await client.discovery(new URL(url), c.client_id, undefined,
    client.ClientSecretPost(c.client_secret), { execute: [client.allowInsecureRequests] });
  const md = config.serverMetadata();
  eq(md.issuer, issuerOf('rs'), 'issuer');
  eq(md.token_endpoint, `${issuerOf('rs')}/svc-post/oauth/token`, 'token_endpoint');
  const tok = await client.clientCredentialsGrant(config, { scope: 'party-api2:read1' });
  checkTokenResponse(tok, 'party-api2:read1');
  const payload = await verifyToken(tok.access_token, 'rs', {
    clientId: c.client_id, audience: 'party-api2', scope: 'party-api2:read1',
  });
  eq(payload.aud, 'party-api2', 'aud');
}

async function checkOAuth2Discovery() {
  // RFC 8414 §3.1: openid-client's 'oauth2' algorithm inserts
  // /.well-known/oauth-authorization-server between host and issuer path.
  const c = clientOf('rs', 'svc-post');
  const config = await client.discovery(new URL(issuerOf('rs')), c.client_id, undefined,
    client.ClientSecretPost(c.client_secret),
    { algorithm: 'oauth2', execute: [client.allowInsecureRequests] });
  const md = config.serverMetadata();
  eq(md.issuer, issuerOf('rs'), 'issuer');
  eq(md.token_endpoint, tokenEndpointOf('rs'), 'token_endpoint');
  const tok = await client.clientCredentialsGrant(config, { scope: 'party-api2:read1' });
  checkTokenResponse(tok, 'party-api2:read1');
  await verifyToken(tok.access_token, 'rs', { clientId: c.client_id, audience: 'party-api2', scope: 'party-api2:read1' });
}

async function checkReturnedDiscoveryEndpoint() {
  // A client configured with exactly what client creation returned.
  const c = clientOf('es', 'svc-basic');
  const config = await client.discovery(new URL(c.discovery_endpoint), c.client_id, undefined,
    client.ClientSecretBasic(c.client_secret), { execute: [client.allowInsecureRequests] });
  eq(config.serverMetadata().issuer, c.issuer, 'issuer');
  const tok = await client.clientCredentialsGrant(config, { scope: 'party-api2:read2' });
  checkTokenResponse(tok, 'party-api2:read2');
  const payload = await verifyToken(tok.access_token, 'es', {
    clientId: c.client_id, audience: 'party-api2', scope: 'party-api2:read2',
  });
  eq(payload.aud, 'party-api2', 'aud');
}

// ---------------------------------------------------------------------------
// private_key_jwt (RFC 7523 §2.2) with openid-client PrivateKeyJwt and jose
// ---------------------------------------------------------------------------

function pkKeyOf(track, app) {
  const k = state.pkKeys.get(`${track}/${app}`);
  if (!k) throw new CheckFailed(`no key uploaded for ${track}/${app} (setup failed)`);
  return k;
}

// Creates a private_key_jwt client (no secret expected), generates a key pair
// with jose and uploads the public JWK (with `kid` when given).
async function createPkClient(track, name, alg, kid) {
  let r = await admin.post(`/tenants/${tenant}/tracks/${track}/apps`, {
    name,
    kind: 'oauth_client',
    client_auth_method: 'private_key_jwt',
    resource_scopes: [{ resource: 'party-api2', scopes: ['read1'] }],
  });
  eq(r.status, 201, `create private_key_jwt client ${track}/${name} (${short(r.text)})`);
  const b = r.body ?? {};
  expect(typeof b.client_id === 'string' && b.client_id, `no client_id: ${short(r.text)}`);
  expect(!('client_secret' in b), `private_key_jwt client got a client_secret: ${short(r.text)}`);
  state.clients.set(`${track}/${name}`, b);

  const { privateKey, publicKey } = await jose.generateKeyPair(alg, { extractable: true });
  const jwk = await jose.exportJWK(publicKey);
  if (kid) jwk.kid = kid;
  r = await admin.post(`/tenants/${tenant}/tracks/${track}/apps/${name}/keys`, { jwk });
  eq(r.status, 201, `upload JWK for ${track}/${name} (${short(r.text)})`);
  const stored = r.body ?? {};
  // a JWK's own kid is kept; without one the kid is the RFC 7638 thumbprint
  const wantKid = kid ?? await jose.calculateJwkThumbprint(jwk);
  eq(stored.kid, wantKid, `stored kid of ${track}/${name}`);
  expect(stored.jwk && typeof stored.jwk === 'object', `no jwk in the key answer: ${short(r.text)}`);
  eq(stored.jwk.kty, jwk.kty, 'stored jwk kty');
  for (const p of ['d', 'p', 'q', 'dp', 'dq', 'qi']) {
    expect(!(p in stored.jwk), `stored JWK leaks private member ${p}`);
  }
  state.pkKeys.set(`${track}/${name}`, { privateKey, kid: wantKid, alg });
}

async function checkPkSetup() {
  await createPkClient('es', 'pk-es', 'ES256', `pk-es-${randomBytes(4).toString('hex')}`);
  await createPkClient('rs', 'pk-rs', 'RS256');
  await createPkClient('rs', 'pk-ed', 'EdDSA', `pk-ed-${randomBytes(4).toString('hex')}`);
}

async function pkDiscover(track, app, clientPrivateKey, options) {
  const c = clientOf(track, app);
  return client.discovery(
    new URL(issuerOf(track)),
    c.client_id,
    {},
    client.PrivateKeyJwt(clientPrivateKey, options),
    { execute: [client.allowInsecureRequests], timeout: TIMEOUT_MS / 1000 },
  );
}

async function pkGrantAndVerify(track, app, clientPrivateKey, options) {
  const c = clientOf(track, app);
  const scope = 'party-api2:read1';
  const config = await pkDiscover(track, app, clientPrivateKey, options);
  const tok = await client.clientCredentialsGrant(config, { scope });
  checkTokenResponse(tok, scope);
  const payload = await verifyToken(tok.access_token, track, {
    clientId: c.client_id, audience: 'party-api2', scope,
  });
  eq(payload.aud, 'party-api2', 'aud');
  return { config, tok, payload };
}

async function checkPkDiscovery() {
  const k = pkKeyOf('rs', 'pk-rs');
  const config = await pkDiscover('rs', 'pk-rs', k.privateKey);
  const md = config.serverMetadata();
  expect((md.token_endpoint_auth_methods_supported ?? []).includes('private_key_jwt'),
    `token_endpoint_auth_methods_supported: ${JSON.stringify(md.token_endpoint_auth_methods_supported)}`);
  eq([...(md.token_endpoint_auth_signing_alg_values_supported ?? [])].sort(),
    ['RS256', 'PS256', 'ES256', 'EdDSA'].sort(), 'token_endpoint_auth_signing_alg_values_supported');
}

async function checkPkEs256() {
  // {key, kid}: openid-client puts the kid in the assertion header
  const k = pkKeyOf('es', 'pk-es');
  await pkGrantAndVerify('es', 'pk-es', { key: k.privateKey, kid: k.kid });
}

async function checkPkRs256() {
  // bare CryptoKey: no kid, the server tries the client's keys
  const k = pkKeyOf('rs', 'pk-rs');
  await pkGrantAndVerify('rs', 'pk-rs', k.privateKey);
  // with the stored kid (the RFC 7638 thumbprint)
  await pkGrantAndVerify('rs', 'pk-rs', { key: k.privateKey, kid: k.kid });
}

async function checkPkEd25519() {
  // openid-client labels Ed25519 keys with the fully-specified alg "Ed25519"
  // (RFC 9864); the server advertises "EdDSA", so the header is rewritten
  // through the documented modifyAssertion hook.
  const k = pkKeyOf('rs', 'pk-ed');
  await pkGrantAndVerify('rs', 'pk-ed', { key: k.privateKey, kid: k.kid }, {
    [client.modifyAssertion]: (header) => {
      header.alg = 'EdDSA';
    },
  });
}

async function checkPkWrongKey() {
  // a foreign key under the client's kid, and an unknown kid
  const k = pkKeyOf('es', 'pk-es');
  const { privateKey } = await jose.generateKeyPair('ES256', { extractable: true });
  let config = await pkDiscover('es', 'pk-es', { key: privateKey, kid: k.kid });
  let e = await oauthErrorOf(() => client.clientCredentialsGrant(config, { scope: 'party-api2:read1' }));
  eq(e.status, 401, `foreign key: status (${e.kind})`);
  eq(e.error, 'invalid_client', `foreign key: error (${e.kind})`);
  config = await pkDiscover('es', 'pk-es', { key: k.privateKey, kid: 'no-such-kid' });
  e = await oauthErrorOf(() => client.clientCredentialsGrant(config, { scope: 'party-api2:read1' }));
  eq(e.status, 401, `unknown kid: status (${e.kind})`);
  eq(e.error, 'invalid_client', `unknown kid: error (${e.kind})`);
}

async function signAssertion(track, app, { aud, jti, expIn = 120 } = {}) {
  const c = clientOf(track, app);
  const k = pkKeyOf(track, app);
  return new jose.SignJWT({})
    .setProtectedHeader({ alg: k.alg, kid: k.kid })
    .setIssuer(c.client_id)
    .setSubject(c.client_id)
    .setAudience(aud ?? tokenEndpointOf(track))
    .setIssuedAt()
    .setExpirationTime(`${expIn}s`)
    .setJti(jti ?? randomBytes(18).toString('base64url'))
    .sign(k.privateKey);
}

function pkTokenRaw(track, assertion, clientId) {
  const form = {
    grant_type: 'client_credentials',
    client_assertion_type: ASSERTION_TYPE,
    client_assertion: assertion,
    scope: 'party-api2:read1',
  };
  if (clientId) form.client_id = clientId;
  return http('POST', tokenEndpointOf(track), { form });
}

async function checkPkReplay() {
  // EdDSA assertion signed with jose.SignJWT, posted twice
  const c = clientOf('rs', 'pk-ed');
  const assertion = await signAssertion('rs', 'pk-ed');
  let r = await pkTokenRaw('rs', assertion, c.client_id);
  eq(r.status, 200, `first use: status (${short(r.text)})`);
  expect(typeof r.body?.access_token === 'string', `no access_token: ${short(r.text)}`);
  await verifyToken(r.body.access_token, 'rs', {
    clientId: c.client_id, audience: 'party-api2', scope: 'party-api2:read1',
  });
  r = await pkTokenRaw('rs', assertion, c.client_id);
  eq(r.status, 401, `replayed assertion: status (${short(r.text)})`);
  eq(r.body?.error, 'invalid_client', 'replayed assertion: error');
  // without client_id in the body (it is optional) the replay is refused too
  r = await pkTokenRaw('rs', assertion);
  eq(r.status, 401, `replayed assertion without client_id: status (${short(r.text)})`);
  eq(r.body?.error, 'invalid_client', 'replayed assertion without client_id: error');
}

async function checkPkAssertionRules() {
  // issuer as aud is accepted; a long-lived assertion and a foreign aud are not
  const c = clientOf('rs', 'pk-ed');
  let r = await pkTokenRaw('rs', await signAssertion('rs', 'pk-ed', { aud: issuerOf('rs') }));
  eq(r.status, 200, `aud = issuer: status (${short(r.text)})`);
  await verifyToken(r.body.access_token, 'rs', { clientId: c.client_id, audience: 'party-api2' });
  r = await pkTokenRaw('rs', await signAssertion('rs', 'pk-ed', { expIn: 2 * 3600 }));
  eq(r.status, 401, `exp 2h after iat: status (${short(r.text)})`);
  eq(r.body?.error, 'invalid_client', 'exp 2h after iat: error');
  r = await pkTokenRaw('rs', await signAssertion('rs', 'pk-ed', { aud: issuerOf('es') }));
  eq(r.status, 401, `aud of another track: status (${short(r.text)})`);
  eq(r.body?.error, 'invalid_client', 'aud of another track: error');
}

// ---------------------------------------------------------------------------
// OpenID Connect: authorization code flow + PKCE with openid-client and with
// oauth4webapi; the login is done by plain form posts (a user agent without
// JavaScript: cookies kept, redirects not followed)
// ---------------------------------------------------------------------------

const OIDC_SCOPE = 'openid profile email offline_access';
const OIDC_REDIRECT = 'http://127.0.0.1:9/cb'; // never contacted: the 303 is read, not followed
const USER_CLAIMS = { name: 'Alice Liddell', given_name: 'Alice' };

function oidcClientOf(track, app) {
  const c = state.oidcClients.get(`${track}/${app}`);
  if (!c) throw new CheckFailed(`setup did not create oidc_client ${track}/${app}`);
  return c;
}

function userOf(track) {
  const u = state.users.get(track);
  if (!u) throw new CheckFailed(`setup did not create a user in ${track}`);
  return u;
}

// The attributes of one HTML start tag's source (`name="v"`, `name='v'`,
// `name=v`, bare `name`), entities in values decoded.
function tagAttributes(src) {
  const attrs = {};
  const re = /([^\s"'=<>/]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;
  for (const m of src.matchAll(re)) {
    const v = m[2] ?? m[3] ?? m[4] ?? '';
    attrs[m[1].toLowerCase()] = v
      .replace(/&quot;/g, '"').replace(/&#39;|&#x27;/g, "'").replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>').replace(/&#x2F;|&#47;/g, '/').replace(/&amp;/g, '&');
  }
  return attrs;
}

// The POST forms of a page: action, and the controls a browser would submit.
function postForms(html) {
  const forms = [];
  for (const m of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const attrs = tagAttributes(m[1]);
    if ((attrs.method ?? 'get').toLowerCase() !== 'post') continue;
    const inputs = [...m[2].matchAll(/<input\b([^>]*)>/gi)].map((i) => tagAttributes(i[1]));
    const buttons = [...m[2].matchAll(/<button\b([^>]*)>/gi)].map((b) => tagAttributes(b[1]))
      .filter((b) => (b.type ?? 'submit').toLowerCase() === 'submit');
    forms.push({ action: attrs.action, inputs, buttons });
  }
  return forms;
}

// A user agent: a cookie jar by name (every request here stays below one
// issuer, the cookies' path) and requests that do not follow redirects.
class UserAgent {
  constructor() {
    this.cookies = new Map();
  }

  async request(url, { method = 'GET', form } = {}) {
    const headers = {};
    if (this.cookies.size) {
      headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    }
    const init = { method, headers, redirect: 'manual', signal: AbortSignal.timeout(TIMEOUT_MS) };
    if (form) {
      init.body = new URLSearchParams(form).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    const res = await fetch(url, init);
    const setCookies = res.headers.getSetCookie();
    for (const sc of setCookies) {
      const [pair, ...attrs] = sc.split(';');
      const eqAt = pair.indexOf('=');
      const name = pair.slice(0, eqAt).trim();
      // a cookie cleared with Max-Age=0 (RFC 6265 §5.2.2) is gone
      if (attrs.some((a) => /^\s*max-age\s*=\s*0\s*$/i.test(a))) {
        this.cookies.delete(name);
      } else {
        this.cookies.set(name, pair.slice(eqAt + 1).trim());
      }
    }
    return { status: res.status, headers: res.headers, setCookies, text: await res.text(), url };
  }
}

// GET the authorization request, post the login form (every control of it,
// the credentials typed in); returns the Location of the 303, whose parameters
// follow `sep` ('?' for the query, '#' for the fragment response mode).
async function loginViaForm(ua, authorizeUrl, username, password, redirectUri, sep = '?') {
  const r = await postLogin(ua, authorizeUrl, username, password);
  eq(r.status, 303, `login form post: status (${short(r.text)})`);
  const loc = r.headers.get('location') ?? '';
  expect(loc.startsWith(`${redirectUri}${sep}`), `Location ${loc} is not the redirect URI`);
  expect(r.setCookies.some((c) => c.startsWith('ferrid_session=')), 'no ferrid_session cookie after the login');
  return loc;
}

// GET the authorization request and post the login form; the provider's answer.
async function postLogin(ua, authorizeUrl, username, password) {
  const page = await ua.request(authorizeUrl);
  eq(page.status, 200, `authorization request: login page status (${short(page.text)})`);
  expect((page.headers.get('content-type') ?? '').startsWith('text/html'),
    `login page Content-Type ${page.headers.get('content-type')}`);
  const forms = postForms(page.text);
  eq(forms.length, 1, 'number of POST forms on the login page');
  const [form] = forms;
  const body = [];
  for (const i of form.inputs) {
    const type = (i.type ?? 'text').toLowerCase();
    if (!i.name || 'disabled' in i || ['submit', 'image', 'reset', 'button', 'file'].includes(type)) continue;
    if ((type === 'checkbox' || type === 'radio') && !('checked' in i)) continue;
    let value = i.value ?? '';
    if (i.name === 'username') value = username;
    if (i.name === 'password') value = password;
    body.push([i.name, value]);
  }
  const names = body.map(([n]) => n);
  expect(names.includes('username') && names.includes('password'), `login form inputs: ${names}`);
  if (form.buttons[0]?.name) body.push([form.buttons[0].name, form.buttons[0].value ?? '']);
  const action = new URL(form.action ?? page.url, page.url);
  return ua.request(action, { method: 'POST', form: body });
}

async function checkOidcSetup() {
  for (const track of Object.keys(TRACKS)) {
    const username = `alice${randomBytes(3).toString('hex')}`;
    const email = `${username}@example.com`;
    let r = await admin.post(`/tenants/${tenant}/tracks/${track}/users`, {
      username, email, email_verified: true, password: USER_PASSWORD, claims: USER_CLAIMS,
    });
    eq(r.status, 201, `create user in ${track} (${short(r.text)})`);
    expect(typeof r.body?.id === 'string' && r.body.id, `no user id: ${short(r.text)}`);
    state.users.set(track, { id: r.body.id, username, email });
  }
  const apps = [
    ['rs', 'web-basic', 'client_secret_basic'],
    ['es', 'web-public', 'none'],
    ['rs', 'web-post', 'client_secret_post'],
  ];
  for (const [track, name, method] of apps) {
    const r = await admin.post(`/tenants/${tenant}/tracks/${track}/apps`, {
      name,
      kind: 'oidc_client',
      redirect_uris: [OIDC_REDIRECT],
      client_auth_method: method,
      grant_types: ['authorization_code', 'refresh_token'],
    });
    eq(r.status, 201, `create oidc_client ${track}/${name} (${short(r.text)})`);
    const b = r.body ?? {};
    eq(b.authorization_endpoint, `${issuerOf(track)}/oauth/authorize`, 'authorization_endpoint of the registration');
    eq('client_secret' in b, method !== 'none', `client_secret present for ${method}`);
    state.oidcClients.set(`${track}/${name}`, { ...b, method });
  }
}

async function oidcDiscover(track, app) {
  const c = oidcClientOf(track, app);
  const auth = c.method === 'none' ? client.None() : authFor(c.method, c.client_secret);
  // the ID token must be signed with the track's algorithm
  const config = await client.discovery(new URL(issuerOf(track)), c.client_id,
    { id_token_signed_response_alg: TRACKS[track] }, auth,
    { execute: [client.allowInsecureRequests], timeout: TIMEOUT_MS / 1000 });
  // verify the ID token's signature through the JWKS too (not only its claims)
  client.enableNonRepudiationChecks(config);
  return config;
}

// openid-client: authorization URL with PKCE S256, state and nonce; login by
// form posts; authorizationCodeGrant validating state, iss (RFC 9207), the ID
// token and nonce.
async function openidClientCodeFlow(track, app, ua = new UserAgent()) {
  const config = await oidcDiscover(track, app);
  const verifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const st = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: OIDC_REDIRECT,
    scope: OIDC_SCOPE,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state: st,
    nonce,
  });
  const user = userOf(track);
  const loc = await loginViaForm(ua, url, user.username, USER_PASSWORD, OIDC_REDIRECT);
  eq(new URL(loc).searchParams.get('iss'), issuerOf(track), 'iss parameter of the authorization response');
  const tokens = await client.authorizationCodeGrant(config, new URL(loc), {
    pkceCodeVerifier: verifier, expectedNonce: nonce, expectedState: st, idTokenExpected: true,
  });
  const claims = tokens.claims();
  eq(claims.sub, user.id, 'ID token sub');
  eq(claims.aud, oidcClientOf(track, app).client_id, 'ID token aud');
  eq(claims.iss, issuerOf(track), 'ID token iss');
  eq(claims.nonce, nonce, 'ID token nonce');
  expect(typeof claims.at_hash === 'string', 'ID token without at_hash');
  return { config, tokens, claims, loc, ua };
}

async function checkUserInfoClaims(info, track) {
  const user = userOf(track);
  eq(info.sub, user.id, 'UserInfo sub');
  eq(info.name, USER_CLAIMS.name, 'UserInfo name');
  eq(info.given_name, USER_CLAIMS.given_name, 'UserInfo given_name');
  eq(info.email, user.email, 'UserInfo email');
  eq(info.email_verified, true, 'UserInfo email_verified');
}

async function checkOidcDiscovery() {
  const config = await oidcDiscover('rs', 'web-basic');
  const md = config.serverMetadata();
  const iss = issuerOf('rs');
  eq(md.authorization_endpoint, `${iss}/oauth/authorize`, 'authorization_endpoint');
  eq(md.userinfo_endpoint, `${iss}/oauth/userinfo`, 'userinfo_endpoint');
  // end session (RP-Initiated Logout 1.0, optional) is listed exactly when it is served
  // (docs/protocol.md "Discovery"), and then at {issuer}/oauth/endsession
  const endSession = await http('GET', `${iss}/oauth/endsession`);
  if (endSession.status === 404) {
    eq(md.end_session_endpoint, undefined, 'end_session_endpoint while /oauth/endsession is 404');
  } else {
    eq(md.end_session_endpoint, `${iss}/oauth/endsession`, 'end_session_endpoint');
  }
  eq(md.response_types_supported, ['code', 'id_token', 'id_token token', 'code id_token', 'code token', 'code id_token token'], 'response_types_supported');
  expect((md.code_challenge_methods_supported ?? []).includes('S256'), 'code_challenge_methods_supported lacks S256');
  // openid-client then requires the iss parameter in authorization responses
  eq(md.authorization_response_iss_parameter_supported, true, 'authorization_response_iss_parameter_supported');
  expect(md.supportsPKCE('S256'), 'openid-client: supportsPKCE() is false');
}

async function checkOpenidClientCodeFlowBasic() {
  const { config, tokens, claims } = await openidClientCodeFlow('rs', 'web-basic');
  const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  await checkUserInfoClaims(info, 'rs');
}

async function checkOpenidClientRefresh() {
  const { config, tokens, claims } = await openidClientCodeFlow('rs', 'web-basic');
  expect(typeof tokens.refresh_token === 'string', 'no refresh_token (offline_access)');
  const next = await client.refreshTokenGrant(config, tokens.refresh_token);
  expect(typeof next.refresh_token === 'string' && next.refresh_token !== tokens.refresh_token,
    'the refresh token was not rotated');
  // an ID token from a refresh names the same user (OpenID Connect Core §12.2)
  if (next.id_token) eq(next.claims().sub, claims.sub, 'sub of the refreshed ID token');
  const info = await client.fetchUserInfo(config, next.access_token, claims.sub);
  await checkUserInfoClaims(info, 'rs');
  const e = await oauthErrorOf(() => client.refreshTokenGrant(config, tokens.refresh_token));
  eq(e.status, 400, `reused refresh token: status (${e.kind})`);
  eq(e.error, 'invalid_grant', `reused refresh token: error (${e.kind})`);
}

async function checkOpenidClientPublicClient() {
  // a public client (token_endpoint_auth_method none): PKCE is its only proof
  const { config, tokens, claims } = await openidClientCodeFlow('es', 'web-public');
  const [header] = tokens.id_token.split('.');
  eq(JSON.parse(Buffer.from(header, 'base64url')).alg, 'ES256', 'ID token alg of the ES256 track');
  const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  await checkUserInfoClaims(info, 'es');
  const next = await client.refreshTokenGrant(config, tokens.refresh_token);
  expect(next.refresh_token !== tokens.refresh_token, 'the refresh token was not rotated');
}

async function checkOpenidClientWrongVerifier() {
  // the code exchanged with another code_verifier is refused (RFC 7636 §4.6)
  const config = await oidcDiscover('rs', 'web-basic');
  const verifier = client.randomPKCECodeVerifier();
  const st = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: OIDC_REDIRECT, scope: 'openid', state: st, nonce: client.randomNonce(),
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  const user = userOf('rs');
  const loc = await loginViaForm(new UserAgent(), url, user.username, USER_PASSWORD, OIDC_REDIRECT);
  const e = await oauthErrorOf(() => client.authorizationCodeGrant(config, new URL(loc), {
    pkceCodeVerifier: client.randomPKCECodeVerifier(), expectedState: st, idTokenExpected: true,
  }));
  eq(e.status, 400, `wrong code_verifier: status (${e.kind})`);
  eq(e.error, 'invalid_grant', `wrong code_verifier: error (${e.kind})`);
}

// oauth4webapi, the lower-level library openid-client is built on, used
// directly: its own discovery, RFC 9207 check, code exchange and UserInfo.
async function checkOauth4webapiCodeFlow() {
  const track = 'rs';
  const c = oidcClientOf(track, 'web-post');
  const issuer = new URL(issuerOf(track));
  const insecure = { [oauth.allowInsecureRequests]: true };
  const as = await oauth.processDiscoveryResponse(issuer,
    await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...insecure }));
  eq(as.authorization_response_iss_parameter_supported, true, 'authorization_response_iss_parameter_supported');
  const cl = { client_id: c.client_id };
  const clientAuth = oauth.ClientSecretPost(c.client_secret);
  const verifier = oauth.generateRandomCodeVerifier();
  const nonce = oauth.generateRandomNonce();
  const st = oauth.generateRandomState();
  const url = new URL(as.authorization_endpoint);
  for (const [k, v] of Object.entries({
    client_id: c.client_id, redirect_uri: OIDC_REDIRECT, response_type: 'code', scope: OIDC_SCOPE,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    state: st, nonce,
  })) url.searchParams.set(k, v);
  const user = userOf(track);
  const loc = new URL(await loginViaForm(new UserAgent(), url, user.username, USER_PASSWORD, OIDC_REDIRECT));
  // a response whose iss names another issuer is refused by the library (RFC 9207 §2.4)
  const forged = new URL(loc);
  forged.searchParams.set('iss', issuerOf('es'));
  let refused = false;
  try {
    oauth.validateAuthResponse(as, cl, forged, st);
  } catch (err) {
    refused = true;
    eq(err?.code, 'OAUTH_INVALID_RESPONSE', `forged iss: error code (${err?.message})`);
    expect(String(err?.message).includes('"iss"'), `forged iss: refused for another reason: ${err?.message}`);
  }
  expect(refused, 'validateAuthResponse accepted a foreign iss');
  const params = oauth.validateAuthResponse(as, cl, loc, st);
  const response = await oauth.authorizationCodeGrantRequest(as, cl, clientAuth, params, OIDC_REDIRECT,
    verifier, insecure);
  const result = await oauth.processAuthorizationCodeResponse(as, cl, response, {
    expectedNonce: nonce, requireIdToken: true,
  });
  const claims = oauth.getValidatedIdTokenClaims(result);
  eq(claims.sub, user.id, 'ID token sub');
  eq(claims.nonce, nonce, 'ID token nonce');
  // the ID token's signature, by jose through the JWKS
  const { protectedHeader } = await jose.jwtVerify(result.id_token, remoteJwks(track), {
    issuer: issuerOf(track), audience: c.client_id, algorithms: [TRACKS[track]],
  });
  eq(protectedHeader.typ, 'JWT', 'ID token typ');
  const ui = await oauth.userInfoRequest(as, cl, result.access_token, insecure);
  const info = await oauth.processUserInfoResponse(as, cl, claims.sub, ui);
  await checkUserInfoClaims(info, track);
}

// ---------------------------------------------------------------------------
// introspection (RFC 7662) and revocation (RFC 7009) with oauth4webapi
// ---------------------------------------------------------------------------

const insecureRequests = { [oauth.allowInsecureRequests]: true };

async function oauth4Discover(track) {
  const issuer = new URL(issuerOf(track));
  const as = await oauth.processDiscoveryResponse(issuer,
    await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...insecureRequests }));
  eq(as.introspection_endpoint, `${issuerOf(track)}/oauth/introspect`, 'introspection_endpoint');
  eq(as.revocation_endpoint, `${issuerOf(track)}/oauth/revoke`, 'revocation_endpoint');
  for (const field of ['introspection_endpoint_auth_methods_supported', 'revocation_endpoint_auth_methods_supported']) {
    for (const m of ['client_secret_basic', 'client_secret_post', 'private_key_jwt']) {
      expect((as[field] ?? []).includes(m), `${field} lacks ${m}: ${JSON.stringify(as[field])}`);
    }
  }
  return as;
}

async function introspectWith(as, c, auth, token, hint) {
  const options = { ...insecureRequests };
  if (hint) options.additionalParameters = { token_type_hint: hint };
  const response = await oauth.introspectionRequest(as, { client_id: c.client_id }, auth, token, options);
  return oauth.processIntrospectionResponse(as, { client_id: c.client_id }, response);
}

async function revokeWith(as, c, auth, token, hint) {
  const options = { ...insecureRequests };
  if (hint) options.additionalParameters = { token_type_hint: hint };
  const response = await oauth.revocationRequest(as, { client_id: c.client_id }, auth, token, options);
  return oauth.processRevocationResponse(response);
}

// The answer for anything inactive is exactly {"active": false} (RFC 7662 §2.2).
function expectInactive(answer, what) {
  eq(Object.fromEntries(Object.entries(answer)), { active: false }, what);
}

function expectActiveAccess(answer, claims, what) {
  eq(answer.active, true, `${what}: active (${short(JSON.stringify(answer))})`);
  eq(answer.token_type, 'Bearer', `${what}: token_type`);
  for (const k of ['scope', 'client_id', 'sub', 'aud', 'iss', 'exp', 'iat', 'nbf', 'jti']) {
    expect(k in answer, `${what}: no ${k} in ${short(JSON.stringify(answer))}`);
    eq(answer[k], claims[k], `${what}: ${k}`);
  }
}

async function checkOauth4webapiIntrospectRevokeClientCredentials() {
  const track = 'rs';
  const as = await oauth4Discover(track);
  const owner = clientOf(track, 'svc-basic');
  const other = clientOf(track, 'svc-post');
  const ownerAuth = oauth.ClientSecretBasic(owner.client_secret);
  const otherAuth = oauth.ClientSecretPost(other.client_secret);
  const tokenResponse = await oauth.processClientCredentialsResponse(as, { client_id: owner.client_id },
    await oauth.clientCredentialsGrantRequest(as, { client_id: owner.client_id }, ownerAuth,
      new URLSearchParams({ scope: 'party-api2:read1' }), insecureRequests));
  const token = tokenResponse.access_token;
  const claims = await verifyToken(token, track, { clientId: owner.client_id, audience: 'party-api2', scope: 'party-api2:read1' });
  // any client of the track may ask (RFC 7662 §2.1)
  expectActiveAccess(await introspectWith(as, other, otherAuth, token, 'access_token'), claims, 'asked by another client');
  expectActiveAccess(await introspectWith(as, owner, ownerAuth, token), claims, 'asked by its client');
  // another client's revocation is answered 200 and revokes nothing (RFC 7009 §2.1)
  eq(await revokeWith(as, other, otherAuth, token, 'access_token'), undefined, 'another client\'s revocation');
  eq((await introspectWith(as, owner, ownerAuth, token)).active, true, 'active after another client\'s revocation');
  eq(await revokeWith(as, owner, ownerAuth, token, 'access_token'), undefined, 'revocation');
  expectInactive(await introspectWith(as, other, otherAuth, token), 'introspection after revocation');
  // a wrong secret: the library surfaces the 401 invalid_client
  const e = await oauthErrorOf4(() => introspectWith(as, owner, oauth.ClientSecretBasic(`${owner.client_secret}x`), token));
  eq([e.status, e.error], [401, 'invalid_client'], 'introspection with a wrong secret');
}

// The status and error of an oauth4webapi call that must fail with an OAuth error.
async function oauthErrorOf4(fn) {
  try {
    await fn();
  } catch (err) {
    if (err instanceof oauth.ResponseBodyError) return { status: err.status, error: err.error };
    if (err instanceof oauth.WWWAuthenticateChallengeError) {
      const body = await err.response.json().catch(() => undefined);
      return { status: err.status, error: body?.error };
    }
    throw new CheckFailed(`unexpected error ${err?.name}: ${err?.message}`);
  }
  throw new CheckFailed('no error raised');
}

async function checkOauth4webapiRevokeRefreshTokenCascades() {
  const track = 'rs';
  const as = await oauth4Discover(track);
  const { tokens, claims: idClaims } = await openidClientCodeFlow(track, 'web-basic');
  const c = oidcClientOf(track, 'web-basic');
  const auth = oauth.ClientSecretBasic(c.client_secret);
  const rt = tokens.refresh_token;
  expect(typeof rt === 'string', 'no refresh_token (offline_access)');
  const answer = await introspectWith(as, c, auth, rt, 'refresh_token');
  eq(answer.active, true, `refresh token active (${short(JSON.stringify(answer))})`);
  eq(answer.token_type, 'refresh_token', 'refresh token: token_type');
  eq(answer.client_id, c.client_id, 'refresh token: client_id');
  eq(answer.sub, idClaims.sub, 'refresh token: sub');
  eq(answer.iss, issuerOf(track), 'refresh token: iss');
  for (const k of ['exp', 'iat', 'nbf']) expect(Number.isInteger(answer[k]), `refresh token: ${k} = ${answer[k]}`);
  const atClaims = jose.decodeJwt(tokens.access_token);
  const atAnswer = await introspectWith(as, c, auth, tokens.access_token);
  expectActiveAccess(atAnswer, atClaims, 'user\'s access token');
  eq(atAnswer.sub, idClaims.sub, 'user\'s access token: sub');
  // the ID token is not revocable: 400 unsupported_token_type (RFC 7009 §2.2.1)
  const e = await oauthErrorOf4(() => revokeWith(as, c, auth, tokens.id_token));
  eq([e.status, e.error], [400, 'unsupported_token_type'], 'ID token revocation');
  eq(await revokeWith(as, c, auth, rt, 'refresh_token'), undefined, 'refresh token revocation');
  expectInactive(await introspectWith(as, c, auth, rt), 'the revoked refresh token');
  expectInactive(await introspectWith(as, c, auth, tokens.access_token), 'the revoked refresh token\'s access token');
  const ui = await http('GET', as.userinfo_endpoint, { headers: { authorization: `Bearer ${tokens.access_token}` } });
  eq(ui.status, 401, `UserInfo with the revoked grant's access token (${short(ui.text)})`);
}

// ---------------------------------------------------------------------------
// OpenID Connect hybrid flow (Core §3.3) and RP-Initiated Logout 1.0 with
// openid-client: useCodeIdTokenResponseType validates the front-channel ID
// token (signature through the JWKS, nonce, c_hash) before the code exchange;
// buildEndSessionUrl sends the logout.
// ---------------------------------------------------------------------------

const HYBRID_SCOPE = 'openid profile email';
const LOGOUT_REDIRECT = 'http://127.0.0.1:9/logged-out'; // read from the 303, never contacted

async function checkHybridSetup() {
  const r = await admin.post(`/tenants/${tenant}/tracks/rs/apps`, {
    name: 'web-hybrid',
    kind: 'oidc_client',
    redirect_uris: [OIDC_REDIRECT],
    post_logout_redirect_uris: [LOGOUT_REDIRECT],
    client_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code', 'implicit', 'refresh_token'],
    response_types: ['code', 'code id_token', 'code id_token token'],
  });
  eq(r.status, 201, `create oidc_client rs/web-hybrid (${short(r.text)})`);
  const b = r.body ?? {};
  eq(b.end_session_endpoint, `${issuerOf('rs')}/oauth/endsession`, 'end_session_endpoint of the registration');
  // the words of a response type in any order, stored in the documented spelling
  eq(b.response_types, ['code', 'code id_token', 'code token id_token'], 'response_types as stored');
  state.oidcClients.set('rs/web-hybrid', { ...b, method: 'client_secret_basic' });
}

// A hybrid authorization request of web-hybrid (PKCE S256, state, nonce).
async function hybridRequest(responseType, responseMode) {
  const config = await oidcDiscover('rs', 'web-hybrid');
  client.useCodeIdTokenResponseType(config);
  const verifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const st = client.randomState();
  const params = {
    redirect_uri: OIDC_REDIRECT, scope: HYBRID_SCOPE, response_type: responseType, state: st, nonce,
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  };
  if (responseMode) params.response_mode = responseMode;
  const url = client.buildAuthorizationUrl(config, params);
  return { config, url, checks: { pkceCodeVerifier: verifier, expectedNonce: nonce, expectedState: st, idTokenExpected: true } };
}

// OpenID Connect Core §3.3.2.11: base64url of the left half of the SHA-256 (RS256) of the value.
function halfHash(value) {
  const digest = createHash('sha256').update(value, 'ascii').digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}

// The ID token of the token endpoint names the same person and session as the
// front-channel one; UserInfo answers with that token's access token.
async function checkHybridTokens(config, tokens, front, nonce) {
  const user = userOf('rs');
  const claims = tokens.claims();
  eq(claims.sub, user.id, 'ID token sub');
  eq(claims.nonce, nonce, 'nonce of the token endpoint\'s ID token');
  eq(front.sub, claims.sub, 'front-channel ID token sub');
  eq(front.sid, claims.sid, 'front-channel ID token sid');
  eq(tokens.refresh_token, undefined, 'refresh_token without offline_access');
  await checkUserInfoClaims(await client.fetchUserInfo(config, tokens.access_token, claims.sub), 'rs');
}

async function checkHybridCodeIdTokenFormPost() {
  const { config, url, checks } = await hybridRequest('code id_token', 'form_post');
  const user = userOf('rs');
  const r = await postLogin(new UserAgent(), url, user.username, USER_PASSWORD);
  eq(r.status, 200, `form_post page after the login: status (${short(r.text)})`);
  const forms = postForms(r.text);
  eq(forms.length, 1, 'number of POST forms on the form_post page');
  const [form] = forms;
  eq(form.action, OIDC_REDIRECT, 'form_post action');
  const fields = form.inputs.filter((i) => i.name && (i.type ?? 'text').toLowerCase() === 'hidden')
    .map((i) => [i.name, i.value ?? '']);
  eq(fields.map(([n]) => n).sort(), ['code', 'id_token', 'iss', 'state'], 'form_post fields');
  // what the client's redirect URI receives: the browser's POST of that form
  const callback = new Request(form.action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
  const front = jose.decodeJwt(new URLSearchParams(fields).get('id_token'));
  expect(typeof front.c_hash === 'string', 'front-channel ID token without c_hash');
  expect(!('at_hash' in front), 'front-channel ID token has at_hash without an access token');
  const tokens = await client.authorizationCodeGrant(config, callback, checks);
  await checkHybridTokens(config, tokens, front, checks.expectedNonce);
}

async function checkHybridCodeIdTokenTokenFragment() {
  const { config, url, checks } = await hybridRequest('code id_token token');
  const user = userOf('rs');
  const loc = new URL(await loginViaForm(new UserAgent(), url, user.username, USER_PASSWORD, OIDC_REDIRECT, '#'));
  const frag = new URLSearchParams(loc.hash.slice(1));
  eq(loc.search, '', 'query of a fragment response');
  eq(frag.get('token_type'), 'Bearer', 'token_type in the fragment');
  expect(Number(frag.get('expires_in')) > 0, `expires_in in the fragment: ${frag.get('expires_in')}`);
  expect(!frag.has('refresh_token'), 'a refresh token from the authorization endpoint');
  const accessToken = frag.get('access_token');
  expect(accessToken, 'no access_token in the fragment');
  const { payload: front } = await jose.jwtVerify(frag.get('id_token'), remoteJwks('rs'), {
    issuer: issuerOf('rs'), audience: oidcClientOf('rs', 'web-hybrid').client_id, algorithms: ['RS256'],
  });
  eq(front.at_hash, halfHash(accessToken), 'front-channel ID token at_hash');
  eq(front.c_hash, halfHash(frag.get('code')), 'front-channel ID token c_hash');
  const tokens = await client.authorizationCodeGrant(config, loc, checks);
  expect(tokens.access_token !== accessToken, 'the token endpoint returned the front-channel access token');
  await checkHybridTokens(config, tokens, front, checks.expectedNonce);
  // the front-channel access token is the person's too
  const info = await client.fetchUserInfo(config, accessToken, front.sub);
  eq(info.sub, user.id, 'UserInfo sub with the front-channel access token');
}

// A second authorization in a browser that has a session: no login page, a redirect.
async function authorizeWithSession(ua, url) {
  const r = await ua.request(url);
  expect([302, 303].includes(r.status), `authorization with a session: status ${r.status} (${short(r.text)})`);
  return new URL(r.headers.get('location') ?? '');
}

async function checkHybridSwappedCodeRefused() {
  // a code moved into another response does not match that response's c_hash
  const user = userOf('rs');
  const ua = new UserAgent();
  const first = await hybridRequest('code id_token');
  const loc = new URL(await loginViaForm(ua, first.url, user.username, USER_PASSWORD, OIDC_REDIRECT, '#'));
  const second = await hybridRequest('code id_token');
  const other = new URLSearchParams((await authorizeWithSession(ua, second.url)).hash.slice(1));
  const frag = new URLSearchParams(loc.hash.slice(1));
  expect(other.get('code') && other.get('code') !== frag.get('code'), 'the second authorization gave no new code');
  frag.set('code', other.get('code'));
  const forged = new URL(loc);
  forged.hash = frag.toString();
  try {
    await client.authorizationCodeGrant(first.config, forged, first.checks);
  } catch (err) {
    eq(err?.code, 'OAUTH_JWT_CLAIM_COMPARISON_FAILED', `error code (${err?.message})`);
    eq(err?.cause?.cause?.claim, 'c_hash', 'the claim that failed');
    // the untouched response still works
    const tokens = await client.authorizationCodeGrant(first.config, loc, first.checks);
    eq(tokens.claims().sub, user.id, 'ID token sub of the untouched response');
    return;
  }
  throw new CheckFailed('openid-client accepted a code that does not match c_hash');
}

// prompt=none for web-hybrid in `ua`: the authorization response, read by
// openid-client (a code exchanged, or an AuthorizationResponseError).
async function promptNone(ua) {
  const config = await oidcDiscover('rs', 'web-hybrid');
  const verifier = client.randomPKCECodeVerifier();
  const st = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: OIDC_REDIRECT, scope: 'openid', state: st, nonce, prompt: 'none',
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  const loc = await authorizeWithSession(ua, url);
  try {
    await client.authorizationCodeGrant(config, loc, { pkceCodeVerifier: verifier, expectedState: st, expectedNonce: nonce });
    return 'code';
  } catch (err) {
    if (err instanceof client.AuthorizationResponseError) return err.error;
    throw err;
  }
}

async function checkRpInitiatedLogout() {
  const ua = new UserAgent();
  const { config, tokens } = await openidClientCodeFlow('rs', 'web-hybrid', ua);
  eq(config.serverMetadata().end_session_endpoint, `${issuerOf('rs')}/oauth/endsession`, 'end_session_endpoint');
  eq(await promptNone(ua), 'code', 'prompt=none before the logout');
  const session = ua.cookies.get('ferrid_session');
  const st = client.randomState();
  const url = client.buildEndSessionUrl(config, {
    id_token_hint: tokens.id_token, post_logout_redirect_uri: LOGOUT_REDIRECT, state: st,
  });
  eq(url.searchParams.get('client_id'), oidcClientOf('rs', 'web-hybrid').client_id, 'client_id added by openid-client');
  const r = await ua.request(url);
  // no other client of the session has a front-channel logout URI: straight back
  eq(r.status, 303, `end session: status (${short(r.text)})`);
  const back = new URL(r.headers.get('location') ?? '');
  eq(`${back.origin}${back.pathname}`, LOGOUT_REDIRECT, 'redirect after the logout');
  eq(back.searchParams.get('state'), st, 'state after the logout');
  expect(r.setCookies.some((c) => c.startsWith('ferrid_session=;') && /max-age=0/i.test(c)),
    `the session cookie is not cleared: ${JSON.stringify(r.setCookies)}`);
  eq(await promptNone(ua), 'login_required', 'prompt=none after the logout');
  // the session is gone on the server too: its old cookie is worth nothing
  const stale = new UserAgent();
  stale.cookies.set('ferrid_session', session);
  eq(await promptNone(stale), 'login_required', 'prompt=none with the old session cookie');
}

async function checkLogoutWithoutHintConfirms() {
  // RP-Initiated Logout 1.0 §2: without id_token_hint the person is asked first
  const ua = new UserAgent();
  const { config } = await openidClientCodeFlow('rs', 'web-hybrid', ua);
  const st = client.randomState();
  const url = client.buildEndSessionUrl(config, { post_logout_redirect_uri: LOGOUT_REDIRECT, state: st });
  const page = await ua.request(url);
  eq(page.status, 200, `confirmation page: status (${short(page.text)})`);
  const forms = postForms(page.text);
  eq(forms.length, 1, 'number of POST forms on the confirmation page');
  eq(await promptNone(ua), 'code', 'prompt=none while the logout is unconfirmed');
  const [form] = forms;
  const body = form.inputs.filter((i) => i.name).map((i) => [i.name, i.value ?? '']);
  const r = await ua.request(new URL(form.action, page.url), { method: 'POST', form: body });
  eq(r.status, 303, `confirmed logout: status (${short(r.text)})`);
  const back = new URL(r.headers.get('location') ?? '');
  eq(`${back.origin}${back.pathname}`, LOGOUT_REDIRECT, 'redirect after the confirmed logout');
  eq(back.searchParams.get('state'), st, 'state after the confirmed logout');
  eq(await promptNone(ua), 'login_required', 'prompt=none after the confirmed logout');
}

async function checkAppScopedCodeFlowAndLogout() {
  // a strict client started from the app-scoped discovery document (with the
  // authentication method, FoxIDs' form): issuer of the track, endpoints below the app
  const c = oidcClientOf('rs', 'web-hybrid');
  const appBase = `${issuerOf('rs')}/web-hybrid`;
  const config = await client.discovery(new URL(`${appBase}(login)/.well-known/openid-configuration`), c.client_id,
    { id_token_signed_response_alg: 'RS256' }, client.ClientSecretBasic(c.client_secret),
    { execute: [client.allowInsecureRequests], timeout: TIMEOUT_MS / 1000 });
  client.enableNonRepudiationChecks(config);
  const md = config.serverMetadata();
  eq(md.issuer, issuerOf('rs'), 'issuer of the app-scoped document');
  for (const [field, path] of [['authorization_endpoint', 'authorize'], ['token_endpoint', 'token'],
    ['userinfo_endpoint', 'userinfo'], ['end_session_endpoint', 'endsession']]) {
    eq(md[field], `${appBase}/oauth/${path}`, field);
  }
  const verifier = client.randomPKCECodeVerifier();
  const checks = { pkceCodeVerifier: verifier, expectedNonce: client.randomNonce(), expectedState: client.randomState() };
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: OIDC_REDIRECT, scope: HYBRID_SCOPE, state: checks.expectedState, nonce: checks.expectedNonce,
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  const ua = new UserAgent();
  const user = userOf('rs');
  const loc = await loginViaForm(ua, url, user.username, USER_PASSWORD, OIDC_REDIRECT);
  const tokens = await client.authorizationCodeGrant(config, new URL(loc), { ...checks, idTokenExpected: true });
  eq(tokens.claims().sub, user.id, 'ID token sub');
  await checkUserInfoClaims(await client.fetchUserInfo(config, tokens.access_token, user.id), 'rs');
  // another client's ID token at this app's end session: an error page, nothing ended
  const { tokens: others } = await openidClientCodeFlow('rs', 'web-basic');
  let r = await ua.request(client.buildEndSessionUrl(config, { id_token_hint: others.id_token, client_id: 'web-basic' }));
  eq(r.status, 400, `another app's logout at this app's end session: status (${short(r.text)})`);
  eq(await promptNone(ua), 'code', 'prompt=none after the refused logout');
  const st = client.randomState();
  r = await ua.request(client.buildEndSessionUrl(config, {
    id_token_hint: tokens.id_token, post_logout_redirect_uri: LOGOUT_REDIRECT, state: st,
  }));
  eq(r.status, 303, `app-scoped end session: status (${short(r.text)})`);
  eq(new URL(r.headers.get('location') ?? '').searchParams.get('state'), st, 'state after the logout');
  eq(await promptNone(ua), 'login_required', 'prompt=none after the app-scoped logout');
}

async function checkImplicitIdTokenFormPost() {
  // openid-client's implicitAuthentication (response_type=id_token) on the form_post
  // response of a public client: signature, iss, aud, nonce; the scopes' claims
  let r = await admin.post(`/tenants/${tenant}/tracks/es/apps`, {
    name: 'web-idtoken', kind: 'oidc_client', client_auth_method: 'none', redirect_uris: [OIDC_REDIRECT],
    grant_types: ['implicit'], response_types: ['id_token'],
  });
  eq(r.status, 201, `create oidc_client es/web-idtoken (${short(r.text)})`);
  const c = r.body;
  const config = await client.discovery(new URL(issuerOf('es')), c.client_id,
    { id_token_signed_response_alg: 'ES256' }, client.None(),
    { execute: [client.allowInsecureRequests], timeout: TIMEOUT_MS / 1000 });
  client.useIdTokenResponseType(config);
  const nonce = client.randomNonce();
  const st = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: OIDC_REDIRECT, scope: HYBRID_SCOPE, response_mode: 'form_post', state: st, nonce,
  });
  const user = userOf('es');
  r = await postLogin(new UserAgent(), url, user.username, USER_PASSWORD);
  eq(r.status, 200, `form_post page after the login: status (${short(r.text)})`);
  const [form] = postForms(r.text);
  expect(form, 'no form on the form_post page');
  const fields = form.inputs.filter((i) => i.name).map((i) => [i.name, i.value ?? '']);
  eq(fields.map(([n]) => n).sort(), ['id_token', 'iss', 'state'], 'form_post fields');
  const callback = new Request(form.action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
  const claims = await client.implicitAuthentication(config, callback, nonce, { expectedState: st });
  eq(claims.sub, user.id, 'ID token sub');
  eq(claims.aud, c.client_id, 'ID token aud');
  eq(claims.name, USER_CLAIMS.name, 'ID token name (no access token: the claims are in the ID token)');
  eq(claims.email, user.email, 'ID token email');
  // the same response with another nonce is refused by the library
  const again = new Request(form.action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
  try {
    await client.implicitAuthentication(config, again, client.randomNonce(), { expectedState: st });
  } catch (err) {
    eq(err?.code, 'OAUTH_JWT_CLAIM_COMPARISON_FAILED', `another nonce: error code (${err?.message})`);
    return;
  }
  throw new CheckFailed('implicitAuthentication accepted another nonce');
}

const CHECKS = [
  ['admin token via client_credentials', checkAdminToken],
  ['management: tenant, tracks RS256/ES256, resources, clients', checkSetup],
  ['openid-client discovery metadata (strict issuer)', checkDiscoveryMetadata],
  ['openid-client rejects issuer mismatch (trailing slash)', checkStrictIssuer],
  ['openid-client RFC 8414 discovery (algorithm oauth2)', checkOAuth2Discovery],
  ['openid-client ClientSecretBasic RS256 + jose verify', checkBasicRs256],
  ['openid-client ClientSecretPost RS256 + jose verify', checkPostRs256],
  ['openid-client ClientSecretBasic ES256 + jose verify', checkBasicEs256],
  ['openid-client ClientSecretPost ES256 + jose verify', checkPostEs256],
  ['openid-client two scopes', checkTwoScopes],
  ['openid-client wrong secret (basic) -> 401 invalid_client', checkWrongSecretBasic],
  ['openid-client wrong secret (post) -> 401 invalid_client', checkWrongSecretPost],
  ['openid-client ungranted/unknown scope -> 400 invalid_scope', checkUnknownScope],
  ['resource parameter selects the audience', checkResourceParam],
  ['audience parameter selects the audience', checkAudienceParam],
  ['resource parameter with scope', checkResourceWithScope],
  ['scopes of two resources -> aud array', checkTwoResources],
  ['jose rejects foreign-track key and wrong audience', checkJoseRejectsForeignToken],
  ['JWKS keys importable by jose, no private parts', checkJwksShape],
  ['openid-client app-scoped discovery + token', checkAppScopedDiscovery],
  ['openid-client from the returned discovery_endpoint', checkReturnedDiscoveryEndpoint],
  ['management: private_key_jwt clients (no secret) + JWK uploads', checkPkSetup],
  ['openid-client discovery lists private_key_jwt + signing algs', checkPkDiscovery],
  ['openid-client PrivateKeyJwt ES256 {key, kid} + jose verify', checkPkEs256],
  ['openid-client PrivateKeyJwt RS256 (no kid, then thumbprint kid) + jose verify', checkPkRs256],
  ['openid-client PrivateKeyJwt Ed25519 (alg EdDSA via modifyAssertion)', checkPkEd25519],
  ['openid-client PrivateKeyJwt foreign key / unknown kid -> 401 invalid_client', checkPkWrongKey],
  ['jose.SignJWT EdDSA assertion replayed -> 200 then 401 invalid_client', checkPkReplay],
  ['private_key_jwt aud = issuer ok; long exp / foreign aud -> 401', checkPkAssertionRules],
  ['oidc: users + oidc_clients (client_secret_basic, none, client_secret_post)', checkOidcSetup],
  ['openid-client discovery of the OpenID Provider (authorize, userinfo, iss parameter)', checkOidcDiscovery],
  ['openid-client code flow + PKCE (basic): ID token (signature, nonce, state, iss), UserInfo', checkOpenidClientCodeFlowBasic],
  ['openid-client refreshTokenGrant rotates; the old refresh token -> invalid_grant', checkOpenidClientRefresh],
  ['openid-client public client (none) code flow + PKCE on ES256, UserInfo, refresh', checkOpenidClientPublicClient],
  ['openid-client code with a wrong code_verifier -> invalid_grant', checkOpenidClientWrongVerifier],
  ['oauth4webapi code flow: discovery, validateAuthResponse (iss), code grant, UserInfo', checkOauth4webapiCodeFlow],
  ['oauth4webapi introspectionRequest/revocationRequest: client-credentials token (fields, other client, 401)',
    checkOauth4webapiIntrospectRevokeClientCredentials],
  ['oauth4webapi revocationRequest of a refresh token: its access token inactive, UserInfo 401, ID token 400',
    checkOauth4webapiRevokeRefreshTokenCascades],
  ['management: oidc_client with hybrid response types and a post-logout redirect URI', checkHybridSetup],
  ['openid-client hybrid "code id_token" form_post: c_hash, nonce, signature, code exchange, UserInfo',
    checkHybridCodeIdTokenFormPost],
  ['openid-client hybrid "code id_token token" fragment: at_hash, c_hash, code exchange, both access tokens',
    checkHybridCodeIdTokenTokenFragment],
  ['openid-client hybrid: a code swapped into another response fails the c_hash check', checkHybridSwappedCodeRefused],
  ['openid-client buildEndSessionUrl: logout with id_token_hint -> redirect with state; prompt=none -> login_required',
    checkRpInitiatedLogout],
  ['end session without id_token_hint: confirmation page, then redirect with state; prompt=none -> login_required',
    checkLogoutWithoutHintConfirms],
  ['openid-client from the app-scoped discovery {app}(login): code flow, UserInfo, end session at the app\'s endpoints',
    checkAppScopedCodeFlowAndLogout],
  ['openid-client implicitAuthentication: id_token by form_post (ES256, public client), another nonce refused',
    checkImplicitIdTokenFormPost],
];

process.exitCode = await runChecks(CHECKS, { needs: ['FERRID_URL', 'FERRID_ADMIN_SECRET'] });
