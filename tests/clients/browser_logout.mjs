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
import * as client from 'openid-client';
import {
  CheckFailed, Management, PASSWORD, RelyingParty, base, discoverBasicClient, eq, executablePath, expect, launchBrowser,
  newPage, runChecks, short, submitLogin,
} from './lib.mjs';

const FRAME_TITLE = 'Signing out of an application';
const tenant = `bl${randomBytes(5).toString('hex')}`;
const track = 'web';
const issuer = `${base}/${tenant}/${track}`;
const admin = new Management();

const state = {
  user: null, rps: {}, browser: null, page: null, tokens: {}, loggedOut: false,
};

async function register(rp, name, extra) {
  const r = await admin.post(`/tenants/${tenant}/tracks/${track}/apps`, {
    name, kind: 'oidc_client', redirect_uris: [rp.url('/cb')], client_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code'], frontchannel_logout_uri: rp.url('/fcl'), ...extra,
  });
  eq(r.status, 201, `create oidc_client ${name} (${short(r.text)})`);
  rp.client = r.body;
  rp.config = await discoverBasicClient(issuer, r.body);
}

async function checkSetup() {
  await admin.signIn();
  state.user = await admin.tenantTrackUser(tenant, track);
  const { a, b } = state.rps;
  // both have a front-channel logout URI; only A may send the browser back after a logout
  await register(a, 'app-a', { post_logout_redirect_uris: [a.url('/logged-out')] });
  await register(b, 'app-b', {});
  expect(a.config.serverMetadata().frontchannel_logout_supported === true
    && a.config.serverMetadata().frontchannel_logout_session_supported === true,
  'discovery lacks frontchannel_logout_supported / frontchannel_logout_session_supported');
}

async function checkBrowserStarts() {
  state.browser = await launchBrowser();
  state.page = await newPage(state.browser);
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
  await submitLogin(state.page, state.user.username, PASSWORD);
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

// the relying parties A and B, each on its own loopback port
const where = () => `browser at ${state.page?.url()}`;
state.rps = { a: new RelyingParty('A', where), b: new RelyingParty('B', where) };
await state.rps.a.listen();
await state.rps.b.listen();
process.exitCode = await runChecks(CHECKS, {
  needs: ['FERRID_URL', 'FERRID_ADMIN_SECRET'],
  finish: async () => {
    await state.browser?.close().catch(() => {});
    state.rps.a.close();
    state.rps.b.close();
  },
});
