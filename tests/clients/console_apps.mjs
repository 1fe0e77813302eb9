#!/usr/bin/env node
// The console's application pages in a real browser: headless Chromium (Debian's,
// driven by playwright-core), every element found by its role and accessible name or
// its label. Covers New application for each kind, a token got with the secret the page
// showed, an invalid and a taken name next to the field with nothing created, a secret
// added and removed (the removed one stops working), delete with confirmation, and the
// whole client-credentials journey with JavaScript disabled. Writes screenshots of the
// application pages (docs/console.md shows them; refresh them with
// FERRID_SCREENSHOTS=docs/console).
//
// Environment: FERRID_URL, FERRID_ADMIN_SECRET, FERRID_ADMIN_PASSWORD, FERRID_CHROMIUM,
// FERRID_SCREENSHOTS, as console.mjs.
//
// Output: one line per check ("ok - name" / "FAIL - name: reason"), then
// "N passed, N failed". Exit code 1 if any check failed.

import { execFileSync } from 'node:child_process';
import { createPrivateKey, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import {
  CONSOLE_BROWSER_ARGS, Management, TIMEOUT_MS, adminPassword, base, consolePage, eq, expect, heading, launchBrowser,
  runChecks, shot, submitLogin,
} from './lib.mjs';

const tenant = `ap${randomBytes(4).toString('hex')}`;
const apps = `/console/${tenant}/tracks/master/apps`;
const admin = new Management();
const state = { browser: null, page: null, secrets: {} };

// client_credentials at the tenant's master track with client_secret_post.
async function token(clientId, secret, scope) {
  const r = await fetch(`${base}/${tenant}/master/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret, scope }),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  return r.status;
}

// Signs in as the bootstrap admin (a user of master/master) and opens the tenant.
async function signIn(page) {
  await page.goto(`${base}/console/`);
  await submitLogin(page, 'admin', adminPassword);
  await heading(page, 'Tenants');
  await page.goto(`${base}/console/${tenant}/`);
}

// New application of the kind named `kind`, filled by `fill`; returns the shown secret.
async function createApp(page, kind, name, fill) {
  await page.goto(`${base}${apps}`);
  await page.getByRole('link', { name: 'New application' }).click();
  await page.getByRole('link', { name: kind, exact: true }).click();
  await page.getByLabel('Name (required)').fill(name);
  if (fill) await fill(page);
  await page.getByRole('button', { name: 'Create application' }).click();
  await heading(page, `Application ${name} created`);
  const secret = page.getByLabel('Client secret');
  return (await secret.count()) ? secret.inputValue() : null;
}

async function checkSetup() {
  expect(adminPassword, 'FERRID_ADMIN_PASSWORD is not set');
  const r = await admin.tokenRequest();
  eq(r.status, 200, 'admin token');
  admin.token = r.body?.access_token;
  eq((await admin.post('/tenants', { name: tenant })).status, 201, 'tenant');
  state.browser = await launchBrowser(CONSOLE_BROWSER_ARGS);
  state.page = await consolePage(state.browser);
  await signIn(state.page);
  await heading(state.page, `Tenant ${tenant}`);
}

async function checkKinds() {
  const page = state.page;
  const secret = await createApp(page, 'OAuth 2.0 – Resource (API)', 'api', (p) => p.getByLabel('Scopes').fill('read write'));
  eq(secret, null, 'a resource has no secret');
  await page.goto(`${base}${apps}/new`);
  await shot(page, 'app-kinds');
  const svc = await createApp(page, 'OAuth 2.0 – Client Credentials Grant', 'svc', async (p) => {
    await p.getByRole('checkbox', { name: 'api:read' }).check();
    await p.getByText('Show advanced').click();
    eq(await p.getByLabel('Client authentication method').inputValue(), 'client_secret_post', 'the default method');
    await shot(p, 'app-new');
  });
  expect(svc, 'the client secret is shown');
  await page.getByRole('button', { name: 'Copy secret' }).waitFor();
  await shot(page, 'app-created');
  eq(await token('svc', svc, 'api:read'), 200, 'a token with the shown secret');
  const web = await createApp(page, 'OpenID Connect', 'web', async (p) => {
    await p.getByLabel('Redirect URIs').fill('https://web.example/cb');
    await p.getByLabel('Grant types').fill('authorization_code, client_credentials');
    await p.getByRole('checkbox', { name: 'api:write' }).check();
  });
  eq(await token('web', web, 'api:write'), 200, 'the OpenID Connect client gets a token');
  state.secrets.svc = svc;
}

async function checkNames() {
  const page = state.page;
  for (const [name, why] of [['Bad Name', 'invalid'], ['api', 'taken']]) {
    await page.goto(`${base}${apps}/new`);
    await page.getByRole('link', { name: 'OAuth 2.0 – Client Credentials Grant' }).click();
    await page.getByLabel('Name (required)').fill(name);
    await page.getByRole('button', { name: 'Create application' }).click();
    const field = page.getByLabel('Name (required)');
    eq(await field.getAttribute('aria-invalid'), 'true', `${why}: aria-invalid`);
    const described = await field.getAttribute('aria-describedby');
    expect(described && described.includes('f-name-error'), `${why}: aria-describedby ${described}`);
    eq(await field.inputValue(), name, `${why}: the input is kept`);
    if (why === 'invalid') await shot(page, 'app-error');
  }
  const list = await admin.request('GET', `/tenants/${tenant}/tracks/master/apps`);
  // the master track also holds ferrid's own console client and ferrid-api resource
  eq(list.body.items.map((a) => a.name), ['api', 'console', 'ferrid-api', 'svc', 'web'], 'nothing was created');
  eq(list.body.items.find((a) => a.name === 'api').kind, 'oauth_resource', 'the taken name is unchanged');
}

async function checkSecrets() {
  const page = state.page;
  await page.goto(`${base}${apps}`);
  await shot(page, 'apps');
  await page.getByRole('link', { name: 'svc' }).click();
  await heading(page, 'Application svc');
  await shot(page, 'app');
  await page.getByRole('button', { name: 'Add secret' }).click();
  const added = await page.getByLabel('Client secret').inputValue();
  eq(await token('svc', added, 'api:read'), 200, 'the added secret works');
  await page.getByRole('link', { name: 'Go to the application' }).click();
  const first = state.secrets.svc;
  const row = page.getByRole('row').filter({ hasText: first.slice(0, 3) });
  await row.getByRole('link', { name: /^Remove secret/ }).click();
  await page.getByRole('button', { name: 'Remove secret' }).click();
  await page.getByRole('status').filter({ hasText: 'The secret is removed' }).waitFor();
  expect((await token('svc', first, 'api:read')) !== 200, 'the removed secret stops working');
  eq(await token('svc', added, 'api:read'), 200, 'the other secret still works');
}

async function checkDelete() {
  const page = state.page;
  await page.goto(`${base}${apps}/web`);
  await page.getByRole('link', { name: 'Delete this application…' }).click();
  await heading(page, 'Delete application web?');
  eq((await admin.request('GET', `/tenants/${tenant}/tracks/master/apps/web`)).status, 200, 'asking deletes nothing');
  await page.getByRole('button', { name: 'Delete application' }).click();
  await heading(page, `Applications of ${tenant}/master`);
  eq((await admin.request('GET', `/tenants/${tenant}/tracks/master/apps/web`)).status, 404, 'deleted');
}

async function checkWithoutJavaScript() {
  const page = await consolePage(state.browser, { javaScriptEnabled: false });
  await signIn(page);
  await heading(page, `Tenant ${tenant}`);
  await page.goto(`${base}/console/${tenant}/tracks/master`);
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Applications' }).click();
  const secret = await createApp(page, 'OAuth 2.0 – Client Credentials Grant', 'nojs', async (p) => {
    await p.getByRole('checkbox', { name: 'api:write' }).check();
    await p.getByText('Show advanced').click();
    await p.getByLabel('Client authentication method').selectOption('client_secret_post');
  });
  expect(secret, 'the secret is visible without JavaScript');
  expect(!(await page.getByRole('button', { name: 'Copy secret' }).isVisible()), 'no copy button without JavaScript');
  eq(await token('nojs', secret, 'api:write'), 200, 'a token without JavaScript');
  await page.context().close();
}

// A P-256 key with a self-signed certificate (PEM) and a PFX of both, by the openssl CLI.
function keyFiles(password) {
  const dir = mkdtempSync(join(tmpdir(), 'ferrid-pkjwt-'));
  const [key, cert, pfx] = ['key.pem', 'cert.pem', 'client.pfx'].map((f) => join(dir, f));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=pkjwt.example'], { stdio: 'ignore' });
  execFileSync('openssl', ['pkcs12', '-export', '-inkey', key, '-in', cert, '-out', pfx, '-passout', `pass:${password}`],
    { stdio: 'ignore' });
  return { key: createPrivateKey(readFileSync(key)), cert, pfx };
}

// client_credentials with a private_key_jwt assertion (RFC 7523 §2.2) signed by `key`.
async function assertionToken(clientId, key, scope) {
  const aud = `${base}/${tenant}/master/oauth/token`;
  const assertion = await new SignJWT({}).setProtectedHeader({ alg: 'ES256' }).setIssuer(clientId).setSubject(clientId)
    .setAudience(aud).setIssuedAt().setExpirationTime('2m').setJti(randomUUID()).sign(key);
  const r = await fetch(aud, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope, client_assertion: assertion,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' }),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  return r.status;
}

async function checkPrivateKeyJwt() {
  const page = state.page;
  const first = keyFiles('pfx-pass');
  const secret = await createApp(page, 'OAuth 2.0 – Client Credentials Grant', 'pkjwt', async (p) => {
    await p.getByRole('checkbox', { name: 'api:read' }).check();
    await p.getByText('Show advanced').click();
    await p.getByLabel('Client authentication method').selectOption('private_key_jwt');
    await p.getByLabel('Certificate file (PEM or PFX)').setInputFiles(first.cert);
  });
  eq(secret, null, 'no secret for private_key_jwt');
  eq(await assertionToken('pkjwt', first.key, 'api:read'), 200, 'a token with the uploaded certificate');
  // a second key on the application's page, as a PFX: a wrong password first
  const second = keyFiles('right-pass');
  eq(await assertionToken('pkjwt', second.key, 'api:read'), 401, 'not yet uploaded');
  await page.goto(`${base}${apps}/pkjwt`);
  await page.getByLabel('Certificate file (PEM or PFX)').setInputFiles(second.pfx);
  await page.getByLabel('PFX password').fill('wrong-pass');
  await page.getByRole('button', { name: 'Upload certificate' }).click();
  await page.locator('#f-password-error').waitFor();
  eq(await assertionToken('pkjwt', second.key, 'api:read'), 401, 'refused, nothing added');
  await page.getByLabel('Certificate file (PEM or PFX)').setInputFiles(second.pfx);
  await page.getByLabel('PFX password').fill('right-pass');
  await page.getByRole('button', { name: 'Upload certificate' }).click();
  await page.getByText('The key is added').waitFor();
  eq(await assertionToken('pkjwt', second.key, 'api:read'), 200, 'a token with the PFX key');
  eq(await assertionToken('pkjwt', first.key, 'api:read'), 200, 'the first key still works');
}

const CHECKS = [
  ['setup: tenant, browser, sign-in', checkSetup],
  ['New application: each kind; the client gets a token with the secret the page showed', checkKinds],
  ['an invalid and a taken name are shown next to the field, nothing created', checkNames],
  ['a secret added works; a removed secret stops working', checkSecrets],
  ['private_key_jwt: a certificate uploaded in New application and a PFX on the app page give tokens', checkPrivateKeyJwt],
  ['an application is deleted after its confirmation page', checkDelete],
  ['with JavaScript disabled: the whole client-credentials journey', checkWithoutJavaScript],
];

process.exit(await runChecks(CHECKS, { needs: ['FERRID_URL'], finish: () => state.browser?.close().catch(() => {}) }));
