#!/usr/bin/env node
// The web console in a real browser: headless Chromium (Debian's, driven by
// playwright-core, which downloads no browser), every element found by its role and
// accessible name or its label, as a person reads the page. Covers sign-in (wrong and
// right password), tenants and tracks, users, the audit log naming the person, tenant
// isolation, a form without its CSRF token, logout, a whole journey with JavaScript
// disabled, and an axe-core scan of the main pages (no critical violation). Writes
// screenshots of the main pages (docs/console.md shows them; refresh them with
// FERRID_SCREENSHOTS=docs/console).
//
// Environment:
//   FERRID_URL             base URL of a running server
//   FERRID_ADMIN_SECRET    secret of the bootstrap client master/master/admin (setup only)
//   FERRID_ADMIN_PASSWORD  password of the bootstrap user admin (the person signing in)
//   FERRID_CHROMIUM        the browser (default /usr/bin/chromium)
//   FERRID_SCREENSHOTS     where to write the screenshots (default $TMPDIR/ferrid-console-shots,
//                          so a test run leaves the tree as it was; docs/console to refresh them)
//
// Output: one line per check ("ok - name" / "FAIL - name: reason"), then
// "N passed, N failed". Exit code 1 if any check failed.

import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import {
  CONSOLE_BROWSER_ARGS, Management, PASSWORD, adminPassword, base, consolePage, eq, expect, heading,
  launchBrowser, runChecks, short, shot, submitLogin,
} from './lib.mjs';

const require = createRequire(import.meta.url);
const AXE = require.resolve('axe-core/axe.min.js');
const tenant = `co${randomBytes(4).toString('hex')}`;
const other = `ot${randomBytes(4).toString('hex')}`;
const userName = `alice${randomBytes(3).toString('hex')}`;
const admin = new Management();

const state = { browser: null, admin: null, page: null, tenantAdmin: `ops${randomBytes(3).toString('hex')}` };

// Signs in on the provider's login page as a person does.
async function signIn(page, entry, username, password) {
  await page.goto(`${base}${entry}`);
  await submitLogin(page, username, password);
  await page.waitForLoadState('load');
}

async function checkSetup() {
  expect(adminPassword, 'FERRID_ADMIN_PASSWORD is not set');
  const r = await admin.tokenRequest();
  eq(r.status, 200, 'admin token');
  admin.token = r.body?.access_token;
  state.browser = await launchBrowser(CONSOLE_BROWSER_ARGS);
}

async function checkWrongPassword() {
  const page = await consolePage(state.browser);
  await signIn(page, '/console/', 'admin', 'certainly not the password');
  await page.getByRole('alert').filter({ hasText: 'Wrong username or password' }).waitFor();
  expect(!(await page.context().cookies()).some((c) => c.name === 'ferrid_console'), 'a console cookie after a wrong password');
  await page.context().close();
}

async function checkSignIn() {
  state.page = await consolePage(state.browser);
  const page = state.page;
  await signIn(page, '/console/', 'admin', adminPassword);
  await heading(page, 'Tenants');
  await page.getByText('Signed in as').waitFor();
  const cookie = (await page.context().cookies()).find((c) => c.name === 'ferrid_console');
  expect(cookie && cookie.httpOnly && cookie.sameSite === 'Lax', `console cookie ${JSON.stringify(cookie)}`);
}

async function checkTenantAndTrack() {
  const page = state.page;
  await page.getByLabel('Tenant name').fill('Not A Name');
  await page.getByRole('button', { name: 'Create tenant' }).click();
  const field = page.getByLabel('Tenant name');
  eq(await field.getAttribute('aria-invalid'), 'true', 'aria-invalid on the name');
  const described = await field.getAttribute('aria-describedby');
  const message = await page.locator(`[id="${described.split(' ').pop()}"]`).innerText();
  expect(/must/.test(message), `the error next to the name: ${message}`);
  eq(await field.inputValue(), 'Not A Name', 'the input is kept');
  await shot(page, 'error');
  await field.fill(tenant);
  await page.getByRole('button', { name: 'Create tenant' }).click();
  await heading(page, `Tenant ${tenant}`);
  await page.getByLabel('Track name').fill('prod');
  await page.getByLabel('Signing algorithm').selectOption('ES256');
  await page.getByRole('button', { name: 'Create track' }).click();
  await heading(page, 'Track prod');
  await page.getByRole('button', { name: 'Rotate keys now' }).click();
  await page.getByRole('status').filter({ hasText: 'next signing key is published' }).waitFor();
  await shot(page, 'track');
  await page.getByRole('link', { name: `Tenant ${tenant}` }).click();
  await heading(page, `Tenant ${tenant}`);
  await shot(page, 'tenant');
  await page.getByRole('link', { name: 'Tenants', exact: true }).click();
  await heading(page, 'Tenants');
  await shot(page, 'tenants');
}

async function checkUsers() {
  const page = state.page;
  await page.goto(`${base}/console/${tenant}/tracks/prod`);
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Users' }).click();
  await heading(page, 'Users of prod');
  await page.getByRole('link', { name: 'New user' }).click();
  await heading(page, 'New user');
  await page.getByLabel('Username').fill(userName);
  await page.getByLabel('Email', { exact: true }).fill(`${userName}@example.com`);
  await page.getByLabel('Password').fill('password');
  await page.getByLabel('Claims (JSON)').fill('{"sub": "x"}');
  await page.getByRole('button', { name: 'Create user' }).click();
  eq(await page.getByLabel('Password').getAttribute('aria-invalid'), 'true', 'a weak password is refused on its field');
  eq(await page.getByLabel('Claims (JSON)').getAttribute('aria-invalid'), 'true', 'a protected claim is refused on its field');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByLabel('Claims (JSON)').fill('{"name": "Alice Liddell"}');
  await page.getByRole('button', { name: 'Create user' }).click();
  await heading(page, `User ${userName}`);
  await page.getByRole('status').filter({ hasText: 'created' }).waitFor();
  await page.getByLabel('Claims (JSON)').fill('{"name": "Alice L.", "given_name": "Alice"}');
  await page.getByRole('button', { name: 'Save profile' }).click();
  await page.getByRole('status').filter({ hasText: 'saved' }).waitFor();
  await page.getByLabel('New password').fill('another long passphrase 7');
  await page.getByRole('button', { name: 'Set password' }).click();
  await page.getByRole('status').filter({ hasText: 'password is changed' }).waitFor();
  await page.getByRole('button', { name: 'Disable user' }).click();
  await page.getByRole('status').filter({ hasText: 'disabled' }).waitFor();
  await shot(page, 'user');
  await page.getByRole('button', { name: 'Enable user' }).click();
  await page.getByRole('status').filter({ hasText: 'enabled' }).waitFor();
  await page.getByRole('button', { name: 'End every session' }).click();
  await page.getByRole('status').filter({ hasText: 'session' }).waitFor();
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Users' }).click();
  await page.getByLabel('Username starts with').fill(userName.slice(0, 7));
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByRole('link', { name: userName }).waitFor();
  await shot(page, 'users');
  const r = await admin.request('GET', `/tenants/${tenant}/tracks/prod/users?username=${userName}`);
  const claims = r.body.items?.[0]?.claims ?? {};
  eq([claims.name, claims.given_name], ['Alice L.', 'Alice'], 'the claims the console saved');
}

async function checkAudit() {
  const page = state.page;
  const admins = await admin.request('GET', '/tenants/master/tracks/master/users?username=admin');
  const actor = `user:master/master/${admins.body.items[0].id}`;
  await page.goto(`${base}/console/${tenant}/`);
  await page.getByRole('link', { name: 'Audit log' }).click();
  await heading(page, `Audit log of ${tenant}`);
  await page.getByLabel('Action').fill('user.create');
  await page.getByRole('button', { name: 'Filter' }).click();
  const row = page.getByRole('row').filter({ hasText: 'user.create' });
  await row.first().waitFor();
  const text = await row.first().innerText();
  expect(text.includes(actor) && text.includes('admin'), `the person as actor: ${short(text)}`);
  await shot(page, 'audit');
  const api_ = await admin.request('GET', `/tenants/${tenant}/audit?action=track.create`);
  eq(api_.body.items?.[0]?.actor, actor, 'the API shows the same actor');
}

async function checkCsrf() {
  const page = state.page;
  await page.goto(`${base}/console/`);
  await page.getByLabel('Tenant name').fill(`${tenant}x`);
  await page.locator('form[aria-label="New tenant"] input[name="csrf"]').evaluate((e) => e.remove());
  const [resp] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/console/tenants')),
    page.getByRole('button', { name: 'Create tenant' }).click(),
  ]);
  eq(resp.status(), 403, 'a form without its CSRF token');
  await heading(page, 'Form refused');
  eq((await admin.request('GET', `/tenants/${tenant}x`)).status, 404, 'nothing was created');
}

async function checkTenantIsolation() {
  eq((await admin.request('POST', '/tenants', { name: other })).status, 201, 'another tenant');
  const made = await admin.request('POST', `/tenants/${tenant}/tracks/master/users`, { username: state.tenantAdmin, password: PASSWORD });
  eq(made.status, 201, 'a tenant administrator');
  const page = await consolePage(state.browser);
  await signIn(page, `/console/${tenant}/`, state.tenantAdmin, PASSWORD);
  await heading(page, `Tenant ${tenant}`);
  expect(!(await page.getByRole('link', { name: 'Tenants', exact: true }).count()), 'no tenant list for a tenant administrator');
  const resp = await page.goto(`${base}/console/${other}/`);
  eq(resp.status(), 404, "another tenant's page");
  await heading(page, 'Not found');
  await page.context().close();
}

async function checkLogout() {
  const page = state.page;
  await page.goto(`${base}/console/`);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.goto(`${base}/console/`);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.context().close();
}

async function checkWithoutJavaScript() {
  const page = await consolePage(state.browser, { javaScriptEnabled: false });
  await signIn(page, '/console/', 'admin', adminPassword);
  await heading(page, 'Tenants');
  await page.goto(`${base}/console/${tenant}/`);
  await page.getByLabel('Track name').fill('nojs');
  await page.getByRole('button', { name: 'Create track' }).click();
  await heading(page, 'Track nojs');
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Users' }).click();
  await page.getByRole('link', { name: 'New user' }).click();
  await page.getByLabel('Username').fill('bob');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create user' }).click();
  await heading(page, 'User bob');
  await page.goto(`${base}/console/${tenant}/tracks/nojs/delete`);
  await heading(page, 'Delete track nojs?');
  await page.getByRole('button', { name: 'Delete track' }).click();
  await heading(page, `Tenant ${tenant}`);
  eq((await admin.request('GET', `/tenants/${tenant}/tracks/nojs`)).status, 404, 'the track is deleted');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.context().close();
}

async function checkAccessibility() {
  // axe is injected as a script, which the console's policy forbids: this context
  // bypasses the CSP for the scan only.
  const page = await consolePage(state.browser, { bypassCSP: true });
  await signIn(page, '/console/', 'admin', adminPassword);
  await heading(page, 'Tenants');
  const pages = ['/console/', `/console/${tenant}/`, `/console/${tenant}/tracks/prod`, `/console/${tenant}/tracks/prod/users`,
    `/console/${tenant}/tracks/prod/users/new`, `/console/${tenant}/audit`, `/console/${tenant}/delete`];
  const problems = [];
  for (const p of pages) {
    await page.goto(`${base}${p}`);
    await page.addScriptTag({ path: AXE });
    const result = await page.evaluate(async () => window.axe.run(document, { resultTypes: ['violations'] }));
    for (const v of result.violations) {
      if (v.impact === 'critical' || v.impact === 'serious') problems.push(`${p}: ${v.impact} ${v.id} (${v.nodes.length})`);
    }
  }
  const critical = problems.filter((x) => x.includes(' critical '));
  expect(!critical.length, `critical violations: ${critical.join('; ')}`);
  expect(!problems.length, `serious violations: ${problems.join('; ')}`);
  await page.context().close();
}

const CHECKS = [
  ['setup: admin token, browser', checkSetup],
  ['sign-in with a wrong password is refused on the login page', checkWrongPassword],
  ['sign-in as the admin opens the tenant list', checkSignIn],
  ['tenant and track: an invalid name next to its field, create, rotate keys', checkTenantAndTrack],
  ['users: errors next to fields, create, claims, password, disable, enable, end sessions, search', checkUsers],
  ['the audit log shows the console change with the person as actor', checkAudit],
  ['a form without its CSRF token is refused with 403 and changes nothing', checkCsrf],
  ["a tenant administrator sees their tenant and gets 404 for another", checkTenantIsolation],
  ['sign out ends the console and provider sessions', checkLogout],
  ['with JavaScript disabled: sign in, track, user, delete with confirmation, sign out', checkWithoutJavaScript],
  ['axe-core: no critical or serious violations on the main pages', checkAccessibility],
];

process.exit(await runChecks(CHECKS, { needs: ['FERRID_URL'], finish: () => state.browser?.close().catch(() => {}) }));
