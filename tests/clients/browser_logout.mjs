#!/usr/bin/env node
// Front-Channel Logout 1.0 in a real browser: headless Chromium (Debian's
// /usr/bin/chromium, driven by playwright-core) signs in through client A, is sent
// through client B on the same session without a second login, then A logs out by
// RP-Initiated Logout 1.0 (openid-client's buildEndSessionUrl). The signed-out page
// loads B's frontchannel_logout_uri in an iframe; B is a small HTTP server of this
// script on a loopback port that records what it is sent: `iss` must be the track's
// issuer and `sid` the `sid` of the ID token B got. A (which asked) is not framed,
// the browser goes on to A's post-logout redirect URI with `state`, and prompt=none
// then answers login_required to both clients, read by openid-client. Then, signed in
// again, a logout without id_token_hint: nothing reaches B until the person presses
// "Sign out" on the confirmation page; then B gets the new session's sid.
//
// Environment:
//   FERRID_URL           base URL of a running server, e.g. http://127.0.0.1:8080
//   FERRID_ADMIN_SECRET  secret of the bootstrap client master/master/admin
//   FERRID_CHROMIUM      the browser (default /usr/bin/chromium)
//
// Output: one line per check ("ok - name" / "FAIL - name: reason"), then
// "N passed, N failed". Exit code 1 if any check failed.

import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import * as client from 'openid-client';
import { chromium } from 'playwright-core';

const TIMEOUT_MS = 15000;
const PASSWORD = 'a long passphrase 42';
const FRAME_TITLE = 'Signing out of an application';

class CheckFailed extends Error {}

function expect(cond, msg) {
  if (!cond) throw new CheckFailed(msg);
}

function eq(got, want, what) {
  const g = JSON.stringify(got);
  const w = JSON.stringify(want);
  if (g !== w) throw new CheckFailed(`${what}: expected ${w}, got ${g}`);
}

function short(text, n = 300) {
  const s = String(text).replace(/[\r\n]+/g, ' ');
  return s.length <= n ? s : `${s.slice(0, n)}...`;
}

const base = (process.env.FERRID_URL || '').replace(/\/+$/, '');
const adminSecret = process.env.FERRID_ADMIN_SECRET || '';
const executablePath = process.env.FERRID_CHROMIUM || '/usr/bin/chromium';
const tenant = `bl${randomBytes(5).toString('hex')}`;
const track = 'web';
const issuer = `${base}/${tenant}/${track}`;

const state = {
  adminToken: null, user: null, rps: {}, browser: null, page: null, tokens: {}, loggedOut: false,
};

async function http(method, url, { json, form, headers = {} } = {}) {
  const init = { method, headers: { ...headers }, signal: AbortSignal.timeout(TIMEOUT_MS) };
  if (json !== undefined) {
    init.body = JSON.stringify(json);
    init.headers['content-type'] = 'application/json';
  } else if (form !== undefined) {
    init.body = new URLSearchParams(form).toString();
    init.headers['content-type'] = 'application/x-www-form-urlencoded';
  }
  const res = await fetch(url, init);
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, text, body };
}

async function api(path, json) {
  expect(state.adminToken, 'no admin token (setup failed)');
  return http('POST', `${base}/api/v1${path}`, { json, headers: { authorization: `Bearer ${state.adminToken}` } });
}

// A relying party's web server on a loopback port: it answers every GET with a small
// page and records each request's URL; `next(path)` waits for the next request to
// that path (each request is handed to one waiter, in order).
class RelyingParty {
  constructor(name) {
    this.name = name;
    this.requests = [];
    this.waiters = [];
    this.seen = 0;
    this.server = createServer((req, res) => {
      const url = new URL(req.url, `http://${req.headers.host}`);
      this.requests.push(url);
      // Front-Channel Logout 1.0 §2: the RP's logout response is not cached
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache, no-store' });
      res.end(`<!doctype html><html lang="en"><title>${this.name}</title><p>${this.name}</p></html>`);
      this.wake();
    });
  }

  async listen() {
    await new Promise((r) => {
      this.server.listen(0, '127.0.0.1', r);
    });
    this.origin = `http://127.0.0.1:${this.server.address().port}`;
  }

  url(path) {
    return `${this.origin}${path}`;
  }

  wake() {
    for (const w of [...this.waiters]) {
      const hit = this.requests.find((u, i) => i >= w.from && u.pathname === w.path);
      if (hit) {
        clearTimeout(w.timer);
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(hit);
      }
    }
  }

  // The first request to `path` from now on (a promise that counts as handled, so
  // one a failed check never awaits does not end the process when it times out).
  next(path) {
    const p = new Promise((resolve, reject) => {
      const w = { path, from: this.requests.length, resolve };
      w.timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new CheckFailed(`${this.name}: no request to ${path} within ${TIMEOUT_MS} ms`
          + ` (browser at ${state.page?.url()})`));
      }, TIMEOUT_MS);
      this.waiters.push(w);
    });
    p.catch(() => {});
    return p;
  }

  close() {
    for (const w of this.waiters) clearTimeout(w.timer);
    this.waiters = [];
    this.server.close();
  }
}

async function register(rp, name, extra) {
  const r = await api(`/tenants/${tenant}/tracks/${track}/apps`, {
    name, kind: 'oidc_client', redirect_uris: [rp.url('/cb')], client_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code'], frontchannel_logout_uri: rp.url('/fcl'), ...extra,
  });
  eq(r.status, 201, `create oidc_client ${name} (${short(r.text)})`);
  rp.client = r.body;
  rp.config = await client.discovery(new URL(issuer), r.body.client_id, undefined,
    client.ClientSecretBasic(r.body.client_secret),
    { execute: [client.allowInsecureRequests], timeout: TIMEOUT_MS / 1000 });
  client.enableNonRepudiationChecks(rp.config);
}

async function checkSetup() {
  let r = await http('POST', `${base}/master/master/oauth/token`, {
    form: { grant_type: 'client_credentials', client_id: 'admin', client_secret: adminSecret, scope: 'ferrid-api:admin' },
  });
  eq(r.status, 200, `admin token status (${short(r.text)})`);
  state.adminToken = r.body?.access_token;
  r = await api('/tenants', { name: tenant });
  eq(r.status, 201, `create tenant (${short(r.text)})`);
  r = await api(`/tenants/${tenant}/tracks`, { name: track });
  eq(r.status, 201, `create track (${short(r.text)})`);
  const username = `alice${randomBytes(3).toString('hex')}`;
  r = await api(`/tenants/${tenant}/tracks/${track}/users`, {
    username, email: `${username}@example.com`, email_verified: true, password: PASSWORD,
  });
  eq(r.status, 201, `create user (${short(r.text)})`);
  state.user = { id: r.body?.id, username };
  const { a, b } = state.rps;
  // both have a front-channel logout URI; only A may send the browser back after a logout
  await register(a, 'app-a', { post_logout_redirect_uris: [a.url('/logged-out')] });
  await register(b, 'app-b', {});
  expect(a.config.serverMetadata().frontchannel_logout_supported === true
    && a.config.serverMetadata().frontchannel_logout_session_supported === true,
  'discovery lacks frontchannel_logout_supported / frontchannel_logout_session_supported');
}

async function checkBrowserStarts() {
  state.browser = await chromium.launch({ executablePath, headless: true, timeout: 30000 });
  const context = await state.browser.newContext();
  context.setDefaultTimeout(TIMEOUT_MS);
  state.page = await context.newPage();
  expect(state.browser.version(), 'no browser version');
}

// An authorization request of `rp` (PKCE S256, state, nonce; `extra` parameters).
async function authorizationRequest(rp, extra = {}) {
  const verifier = client.randomPKCECodeVerifier();
  const checks = { pkceCodeVerifier: verifier, expectedNonce: client.randomNonce(), expectedState: client.randomState() };
  const url = client.buildAuthorizationUrl(rp.config, {
    redirect_uri: rp.url('/cb'), scope: 'openid', state: checks.expectedState, nonce: checks.expectedNonce,
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...extra,
  });
  return { url, checks };
}

async function exchange(rp, callback, checks) {
  const tokens = await client.authorizationCodeGrant(rp.config, callback, { ...checks, idTokenExpected: true });
  const claims = tokens.claims();
  eq(claims.sub, state.user.id, `${rp.name}: ID token sub`);
  expect(typeof claims.sid === 'string' && claims.sid, `${rp.name}: ID token without sid`);
  return { tokens, claims };
}

async function checkLoginThroughA() {
  expect(state.page, 'no browser page (Chromium did not start)');
  const { a } = state.rps;
  const { url, checks } = await authorizationRequest(a);
  const callback = a.next('/cb');
  await state.page.goto(url.href);
  await state.page.getByLabel('Username or email', { exact: true }).fill(state.user.username);
  await state.page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await state.page.getByRole('button', { name: 'Sign in', exact: true }).click();
  state.tokens.a = await exchange(a, await callback, checks);
}

async function checkSameSessionThroughB() {
  expect(state.tokens.a, 'not signed in through A');
  const { b } = state.rps;
  const { url, checks } = await authorizationRequest(b);
  const callback = b.next('/cb');
  const resp = await state.page.goto(url.href);
  // straight from the authorization endpoint to B: no login page in between
  const first = resp?.request().redirectedFrom();
  expect(first && first.url() === url.href, `B's callback was not the authorization request's redirect: ${state.page.url()}`);
  state.tokens.b = await exchange(b, await callback, checks);
  eq(state.tokens.b.claims.sid, state.tokens.a.claims.sid, 'sid of B\'s ID token (one session)');
}

async function checkFrontChannelLogout() {
  expect(state.tokens.b, 'not signed in through B');
  const { a, b } = state.rps;
  const st = client.randomState();
  const url = client.buildEndSessionUrl(a.config, {
    id_token_hint: state.tokens.a.tokens.id_token, post_logout_redirect_uri: a.url('/logged-out'), state: st,
  });
  const framed = b.next('/fcl');
  state.back = a.next('/logged-out');
  state.backState = st;
  const seenByA = a.requests.length;
  const resp = await state.page.goto(url.href, { waitUntil: 'load' });
  state.loggedOut = true;
  state.oldSid = state.tokens.b.claims.sid;
  eq(resp?.status(), 200, 'signed-out page status');
  // the iframe, found by its title (its accessible name)
  const frame = state.page.getByTitle(FRAME_TITLE, { exact: true });
  eq(await frame.count(), 1, `iframes titled "${FRAME_TITLE}"`);
  const src = new URL(await frame.getAttribute('src'));
  eq(`${src.origin}${src.pathname}`, b.url('/fcl'), 'the iframe\'s src');
  const got = await framed;
  eq(got.searchParams.get('iss'), issuer, 'iss sent to B');
  eq(got.searchParams.get('sid'), state.tokens.b.claims.sid, 'sid sent to B');
  eq(a.requests.slice(seenByA).filter((u) => u.pathname === '/fcl').length, 0, 'front-channel requests to A, which asked');
}

async function checkRedirectAfterLogout() {
  expect(state.back, 'no logout (the previous check failed)');
  const back = await state.back;
  eq(back.searchParams.get('state'), state.backState, 'state at the post-logout redirect URI');
  await state.page.waitForURL((u) => u.pathname === '/logged-out');
}

async function checkPromptNoneAfterLogout() {
  expect(state.loggedOut, 'no logout (a previous check failed)');
  for (const rp of [state.rps.a, state.rps.b]) {
    const { url, checks } = await authorizationRequest(rp, { prompt: 'none' });
    const callback = rp.next('/cb');
    await state.page.goto(url.href);
    const cb = await callback;
    try {
      await client.authorizationCodeGrant(rp.config, cb, checks);
    } catch (err) {
      if (!(err instanceof client.AuthorizationResponseError)) throw err;
      eq(err.error, 'login_required', `${rp.name}: error of prompt=none`);
      continue;
    }
    throw new CheckFailed(`${rp.name}: prompt=none after the logout gave a code`);
  }
}

async function checkSignInAgain() {
  expect(state.loggedOut, 'no logout (a previous check failed)');
  state.tokens = {};
  await checkLoginThroughA();
  await checkSameSessionThroughB();
  expect(state.tokens.a.claims.sid !== state.oldSid, 'the new session has the old sid');
}

async function checkConfirmedLogoutWithoutHint() {
  // RP-Initiated Logout 1.0 §2 without id_token_hint: the person is asked, presses
  // "Sign out" (the CSRF-protected form), and only then are the clients told
  expect(state.tokens.b, 'not signed in again through B');
  const { a, b } = state.rps;
  const st = client.randomState();
  const url = client.buildEndSessionUrl(a.config, { post_logout_redirect_uri: a.url('/logged-out'), state: st });
  const seenByB = b.requests.length;
  await state.page.goto(url.href);
  const button = state.page.getByRole('button', { name: 'Sign out', exact: true });
  await button.waitFor();
  // only front-channel calls count: the browser may still fetch B's favicon of a page before
  eq(b.requests.slice(seenByB).filter((u) => u.pathname === '/fcl').length, 0,
    'front-channel requests to B before "Sign out" was pressed');
  const framed = b.next('/fcl');
  const back = a.next('/logged-out');
  await button.click();
  const got = await framed;
  eq(got.searchParams.get('iss'), issuer, 'iss sent to B');
  eq(got.searchParams.get('sid'), state.tokens.b.claims.sid, 'sid sent to B (the new session\'s)');
  eq((await back).searchParams.get('state'), st, 'state at the post-logout redirect URI');
  await state.page.waitForURL((u) => u.pathname === '/logged-out');
  const { url: again, checks } = await authorizationRequest(b, { prompt: 'none' });
  const callback = b.next('/cb');
  await state.page.goto(again.href);
  try {
    await client.authorizationCodeGrant(b.config, await callback, checks);
  } catch (err) {
    if (!(err instanceof client.AuthorizationResponseError)) throw err;
    eq(err.error, 'login_required', 'B: error of prompt=none after the confirmed logout');
    return;
  }
  throw new CheckFailed('B: prompt=none after the confirmed logout gave a code');
}

const CHECKS = [
  ['setup: tenant, user, clients A (post-logout redirect) and B, both with a frontchannel_logout_uri', checkSetup],
  [`headless Chromium starts (${executablePath}, playwright-core)`, checkBrowserStarts],
  ['sign in through A by the login page; openid-client: ID token with sid', checkLoginThroughA],
  ['B on the same session: no login page, the same sid', checkSameSessionThroughB],
  [`A's logout (buildEndSessionUrl): iframe "${FRAME_TITLE}" loads B's URI with iss and B's sid; A not framed`,
    checkFrontChannelLogout],
  ['then the browser reaches A\'s post-logout redirect URI with state', checkRedirectAfterLogout],
  ['prompt=none after the logout -> login_required for A and B (openid-client)', checkPromptNoneAfterLogout],
  ['sign in again through A, then B: a new session', checkSignInAgain],
  ['logout without id_token_hint: "Sign out" pressed, then B framed with the new sid, A\'s redirect with state',
    checkConfirmedLogoutWithoutHint],
];

async function main() {
  if (!base || !adminSecret) {
    console.error('FERRID_URL and FERRID_ADMIN_SECRET must be set');
    console.log('0 passed, 1 failed');
    return 1;
  }
  state.rps = { a: new RelyingParty('A'), b: new RelyingParty('B') };
  await state.rps.a.listen();
  await state.rps.b.listen();
  let passed = 0;
  let failed = 0;
  try {
    for (const [name, fn] of CHECKS) {
      try {
        await fn();
        passed += 1;
        console.log(`ok - ${name}`);
      } catch (err) {
        failed += 1;
        let detail = err instanceof CheckFailed ? err.message : `${err?.name ?? 'Error'}: ${err?.message ?? err}`;
        if (!(err instanceof CheckFailed)) {
          if (err?.code) detail += ` [${err.code}]`;
          if (err?.error) detail += ` error=${err.error}`;
          if (process.env.FERRID_TEST_DEBUG) console.error(err);
        }
        console.log(`FAIL - ${name}: ${short(detail, 500)}`);
      }
    }
  } finally {
    await state.browser?.close().catch(() => {});
    state.rps.a.close();
    state.rps.b.close();
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed ? 1 : 0;
}

process.exitCode = await main();
