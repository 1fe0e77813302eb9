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
import * as client from 'openid-client';
import * as jose from 'jose';
import {
  Management, PASSWORD, RelyingParty, base, discoverBasicClient, eq, executablePath, expect,
  launchBrowser, newPage, runChecks, short, submitLogin,
} from './lib.mjs';

const tenant = `br${randomBytes(5).toString('hex')}`;
const track = 'web';
const issuer = `${base}/${tenant}/${track}`;
const admin = new Management();

const state = {
  user: null, client: null, redirectUri: null, rp: null,
  browser: null, page: null, config: null, pkce: null, consoleErrors: [], consoleSeen: 0, loginResponse: null,
  callbackUrl: null,
};

async function checkSetup() {
  await admin.signIn();
  state.user = await admin.tenantTrackUser(tenant, track, { claims: { name: 'Alice Liddell', given_name: 'Alice' } });
  const r = await admin.post(`/tenants/${tenant}/tracks/${track}/apps`, {
    name: 'browser-app', kind: 'oidc_client', redirect_uris: [state.redirectUri],
    client_auth_method: 'client_secret_basic', grant_types: ['authorization_code'],
  });
  eq(r.status, 201, `create oidc_client (${short(r.text)})`);
  state.client = r.body;
  state.config = await discoverBasicClient(issuer, state.client);
}

async function checkBrowserStarts() {
  state.browser = await launchBrowser();
  state.page = await newPage(state.browser);
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
  const callback = state.rp.next('/cb');
  await submitLogin(page, state.user.username, PASSWORD);
  const cb = await callback;
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
  const { url, checks } = await formPostRequest();
  const hit = state.rp.nextRequest('/cb');
  await state.page.goto(url.href);
  await exchangeFormPost(await hit, checks);
}

async function checkFormPostWithoutJavaScript() {
  // a browser without JavaScript signs in and presses the visible "Continue" button
  expect(state.browser, 'no browser (Chromium did not start)');
  const page = await newPage(state.browser, { javaScriptEnabled: false });
  try {
    const seen = state.rp.requests.length;
    const { url, checks } = await formPostRequest();
    await page.goto(url.href);
    await submitLogin(page, state.user.username, PASSWORD);
    const button = page.getByRole('button', { name: 'Continue', exact: true });
    await button.waitFor();
    eq(state.rp.requests.slice(seen).filter((u) => u.pathname === '/cb').length, 0,
      'callbacks before "Continue" was pressed');
    const hit = state.rp.nextRequest('/cb');
    await button.click();
    await exchangeFormPost(await hit, checks);
  } finally {
    await page.context().close();
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

// The client's redirect URI: a loopback server; a wait for a callback that times out
// tells where the browser is and its console errors so far.
state.rp = new RelyingParty('Client', () => `the browser is at ${state.page?.url()}; console: ${JSON.stringify(state.consoleErrors)}`);
await state.rp.listen();
state.redirectUri = state.rp.url('/cb');
process.exitCode = await runChecks(CHECKS, {
  needs: ['FERRID_URL', 'FERRID_ADMIN_SECRET'],
  finish: async () => {
    await state.browser?.close().catch(() => {});
    state.rp.close();
  },
});
