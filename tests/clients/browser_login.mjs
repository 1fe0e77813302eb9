#!/usr/bin/env node
// The login of the OpenID Provider in a real browser: headless Chromium (Debian's
// /usr/bin/chromium, driven by playwright-core, which downloads no browser) opens an
// authorization request of openid-client, finds the fields by their labels, types,
// presses "Sign in" by its accessible name; a tiny local HTTP server is the client's
// redirect URI and receives code and state; openid-client exchanges the code and
// validates the ID token. Also: the login page's security headers and that the
// browser logs no console errors on the provider's pages (a CSP violation is one).
// response_mode=form_post: the page's script submits the response to the redirect
// URI, and with JavaScript off its "Continue" button does; openid-client takes the
// POST the browser sent.
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
import * as jose from 'jose';
import { chromium } from 'playwright-core';

const TIMEOUT_MS = 15000;
const PASSWORD = 'a long passphrase 42';

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
const tenant = `br${randomBytes(5).toString('hex')}`;
const track = 'web';
const issuer = `${base}/${tenant}/${track}`;

const state = {
  adminToken: null, user: null, client: null, redirectUri: null, callback: null,
  browser: null, page: null, config: null, pkce: null, consoleErrors: [], consoleSeen: 0, loginResponse: null,
  callbackUrl: null, later: [], wake: null,
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

// The client's redirect URI: a loopback HTTP server that hands the first
// request to /cb to the waiting check, and each later one (a form_post's POST
// too: method, URL, body) to the next `nextCallback()`.
function startCallbackServer() {
  let resolve;
  state.callback = new Promise((r) => {
    resolve = r;
  });
  let first = true;
  const server = createServer((req, res) => {
    const url = new URL(req.url, `http://${req.headers.host}`);
    if (url.pathname === '/favicon.ico') {
      // Chromium asks every origin it shows for one; a 404 here would be a console
      // error of this client's page, not of the provider's
      res.writeHead(204).end();
      return;
    }
    if (url.pathname !== '/cb') {
      res.writeHead(404).end();
      return;
    }
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><html lang="en"><title>Signed in</title><p>Signed in.</p></html>');
      if (first) {
        first = false;
        resolve(url);
        return;
      }
      state.later.push({ method: req.method, url, body, contentType: req.headers['content-type'] });
      state.wake?.();
    });
  });
  return new Promise((r) => {
    server.listen(0, '127.0.0.1', () => r(server));
  });
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
    claims: { name: 'Alice Liddell', given_name: 'Alice' },
  });
  eq(r.status, 201, `create user (${short(r.text)})`);
  state.user = { id: r.body?.id, username };
  r = await api(`/tenants/${tenant}/tracks/${track}/apps`, {
    name: 'browser-app', kind: 'oidc_client', redirect_uris: [state.redirectUri],
    client_auth_method: 'client_secret_basic', grant_types: ['authorization_code'],
  });
  eq(r.status, 201, `create oidc_client (${short(r.text)})`);
  state.client = r.body;
  state.config = await client.discovery(new URL(issuer), state.client.client_id, undefined,
    client.ClientSecretBasic(state.client.client_secret),
    { execute: [client.allowInsecureRequests], timeout: TIMEOUT_MS / 1000 });
  client.enableNonRepudiationChecks(state.config);
}

async function checkBrowserStarts() {
  state.browser = await chromium.launch({ executablePath, headless: true, timeout: 30000 });
  const context = await state.browser.newContext();
  context.setDefaultTimeout(TIMEOUT_MS);
  state.page = await context.newPage();
  // every console error and uncaught exception of any page (the provider's pages
  // are the only ones before the callback, which serves no script)
  state.page.on('console', (msg) => {
    if (msg.type() === 'error') state.consoleErrors.push(`${msg.text()} @ ${msg.location()?.url ?? ''}`);
  });
  state.page.on('pageerror', (err) => state.consoleErrors.push(`uncaught: ${err.message}`));
  expect(state.browser.version(), 'no browser version');
}

async function checkLoginPageHeaders() {
  expect(state.page, 'no browser page (Chromium did not start)');
  expect(state.config, 'no client configuration (setup failed)');
  const verifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const st = client.randomState();
  state.pkce = { verifier, nonce, state: st };
  const url = client.buildAuthorizationUrl(state.config, {
    redirect_uri: state.redirectUri, scope: 'openid profile email', state: st, nonce,
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  const resp = await state.page.goto(url.href, { waitUntil: 'load' });
  expect(resp, 'no response for the authorization request');
  state.loginResponse = resp;
  eq(resp.status(), 200, 'login page status');
  const h = resp.headers();
  expect((h['content-type'] ?? '').startsWith('text/html'), `Content-Type ${h['content-type']}`);
  expect(h['content-security-policy'], `no Content-Security-Policy header: ${JSON.stringify(h)}`);
  eq((h['x-frame-options'] ?? '').toUpperCase(), 'DENY', 'X-Frame-Options');
  eq((h['referrer-policy'] ?? '').toLowerCase(), 'no-referrer', 'Referrer-Policy');
}

async function checkNoConsoleErrorsOnLoginPage() {
  expect(state.loginResponse, 'the login page was not loaded');
  // everything the page (and the browser for it) fetches has settled. Chromium also
  // fetches {origin}/favicon.ico for the page and logs a 404 there as a console error,
  // which counts: a user opening the developer tools on the login page sees it
  // (ferrid answers 204 there; so does this script's callback server for its own).
  await state.page.waitForLoadState('networkidle');
  state.consoleSeen = state.consoleErrors.length;
  eq(state.consoleErrors, [], 'console errors on the login page');
}

async function checkSignInByLabels() {
  expect(state.loginResponse, 'the login page was not loaded');
  const { page } = state;
  await page.getByLabel('Username or email', { exact: true }).fill(state.user.username);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new CheckFailed(
      `no callback within ${TIMEOUT_MS} ms; the browser is at ${page.url()}; console: ${JSON.stringify(state.consoleErrors)}`,
    )), TIMEOUT_MS);
  });
  let cb;
  try {
    cb = await Promise.race([state.callback, timeout]);
  } finally {
    clearTimeout(timer);
  }
  state.callbackUrl = cb;
  expect(cb.searchParams.get('code'), `no code in the callback ${cb.href}`);
  eq(cb.searchParams.get('state'), state.pkce.state, 'state in the callback');
  eq(cb.searchParams.get('iss'), issuer, 'iss in the callback (RFC 9207)');
  eq(cb.searchParams.get('error'), null, 'error in the callback');
  await page.waitForURL((u) => u.pathname === '/cb' && u.port === new URL(state.redirectUri).port);
  // those after the login page (which its own check reports)
  eq(state.consoleErrors.slice(state.consoleSeen), [], 'console errors during the sign-in');
}

async function checkCodeExchange() {
  expect(state.callbackUrl, 'no callback (sign-in failed)');
  const tokens = await client.authorizationCodeGrant(state.config, state.callbackUrl, {
    pkceCodeVerifier: state.pkce.verifier, expectedNonce: state.pkce.nonce,
    expectedState: state.pkce.state, idTokenExpected: true,
  });
  const claims = tokens.claims();
  eq(claims.sub, state.user.id, 'ID token sub (the user signed in)');
  eq(claims.aud, state.client.client_id, 'ID token aud');
  const jwks = jose.createRemoteJWKSet(new URL(`${issuer}/oauth/keys`));
  const { payload } = await jose.jwtVerify(tokens.id_token, jwks, { issuer, audience: state.client.client_id });
  eq(payload.sub, state.user.id, 'sub verified by jose');
  const info = await client.fetchUserInfo(state.config, tokens.access_token, claims.sub);
  eq(info.name, 'Alice Liddell', 'UserInfo name');
}

// The next request to the callback after the first (the sign-in's).
function nextCallback() {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      state.wake = null;
      reject(new CheckFailed(`no callback within ${TIMEOUT_MS} ms; the browser is at ${state.page?.url()}`));
    }, TIMEOUT_MS);
    state.wake = () => {
      const hit = state.later.shift();
      if (!hit) return;
      clearTimeout(timer);
      state.wake = null;
      resolve(hit);
    };
    state.wake();
  });
}

// A code request with response_mode=form_post (PKCE, state, nonce).
async function formPostRequest() {
  const verifier = client.randomPKCECodeVerifier();
  const checks = {
    pkceCodeVerifier: verifier, expectedNonce: client.randomNonce(), expectedState: client.randomState(),
    idTokenExpected: true,
  };
  const url = client.buildAuthorizationUrl(state.config, {
    redirect_uri: state.redirectUri, scope: 'openid', state: checks.expectedState, nonce: checks.expectedNonce,
    response_mode: 'form_post',
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  return { url, checks };
}

// The form_post the browser sent, handed to openid-client as the Request it is.
async function exchangeFormPost(hit, checks) {
  eq(hit.method, 'POST', 'method of the form_post response');
  const callback = new Request(hit.url.href, {
    method: 'POST', headers: { 'content-type': hit.contentType ?? '' }, body: hit.body,
  });
  const tokens = await client.authorizationCodeGrant(state.config, callback, checks);
  eq(tokens.claims().sub, state.user.id, 'ID token sub');
}

async function checkFormPostAutoSubmits() {
  // the signed-in browser: the page's one script (allowed by its hash in the CSP)
  // submits the form without a click
  expect(state.callbackUrl, 'not signed in (sign-in failed)');
  state.later = [];
  const { url, checks } = await formPostRequest();
  const hit = nextCallback();
  await state.page.goto(url.href);
  await exchangeFormPost(await hit, checks);
}

async function checkFormPostWithoutJavaScript() {
  // a browser without JavaScript signs in and presses the visible "Continue" button
  expect(state.browser, 'no browser (Chromium did not start)');
  const context = await state.browser.newContext({ javaScriptEnabled: false });
  context.setDefaultTimeout(TIMEOUT_MS);
  try {
    const page = await context.newPage();
    state.later = [];
    const { url, checks } = await formPostRequest();
    await page.goto(url.href);
    await page.getByLabel('Username or email', { exact: true }).fill(state.user.username);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    const button = page.getByRole('button', { name: 'Continue', exact: true });
    await button.waitFor();
    eq(state.later.length, 0, 'callbacks before "Continue" was pressed');
    const hit = nextCallback();
    await button.click();
    await exchangeFormPost(await hit, checks);
  } finally {
    await context.close();
  }
}

const CHECKS = [
  ['setup: tenant, user, oidc_client with a loopback redirect URI', checkSetup],
  [`headless Chromium starts (${executablePath}, playwright-core)`, checkBrowserStarts],
  ['login page: Content-Security-Policy, X-Frame-Options DENY, Referrer-Policy no-referrer', checkLoginPageHeaders],
  ['login page: no console errors', checkNoConsoleErrorsOnLoginPage],
  ['sign in by labels and the "Sign in" button -> callback with code, state, iss', checkSignInByLabels],
  ['openid-client exchanges the code: ID token of the user, UserInfo', checkCodeExchange],
  ['response_mode=form_post: the page submits itself (script allowed by the CSP); openid-client takes the POST',
    checkFormPostAutoSubmits],
  ['response_mode=form_post without JavaScript: sign in, press "Continue"; openid-client takes the POST',
    checkFormPostWithoutJavaScript],
];

async function main() {
  if (!base || !adminSecret) {
    console.error('FERRID_URL and FERRID_ADMIN_SECRET must be set');
    console.log('0 passed, 1 failed');
    return 1;
  }
  const server = await startCallbackServer();
  state.redirectUri = `http://127.0.0.1:${server.address().port}/cb`;
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
    server.close();
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed ? 1 : 0;
}

process.exitCode = await main();
