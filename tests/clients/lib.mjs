// Scaffolding shared by the Node and browser client suites (node_clients.mjs,
// browser_login.mjs, browser_logout.mjs, console.mjs, console_apps.mjs): the
// environment run.sh hands them, assertions, HTTP and management calls against the
// running ferrid server, a loopback relying-party web server, headless Chromium
// (Debian's, through playwright-core) and the check runner with its output format:
// one line per check ("ok - name" / "FAIL - name: reason"), then "N passed, N failed".

import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// How long one request, browser action or awaited callback may take.
export const TIMEOUT_MS = 15000;

// The password of the users the suites create.
export const PASSWORD = 'a long passphrase 42';

// Base URL of the running server (FERRID_URL), without a trailing slash.
export const base = (process.env.FERRID_URL || '').replace(/\/+$/, '');

// Secret of the bootstrap client master/master/admin (FERRID_ADMIN_SECRET).
export const adminSecret = process.env.FERRID_ADMIN_SECRET || '';

// Password of the bootstrap user admin (FERRID_ADMIN_PASSWORD), for the console.
export const adminPassword = process.env.FERRID_ADMIN_PASSWORD || '';

// The browser (FERRID_CHROMIUM, default Debian's /usr/bin/chromium).
export const executablePath = process.env.FERRID_CHROMIUM || '/usr/bin/chromium';

// A failed assertion: the runner prints its message alone.
export class CheckFailed extends Error {}

// Fails the check with `msg` unless `cond` holds.
export function expect(cond, msg) {
  if (!cond) throw new CheckFailed(msg);
}

// Fails the check unless `got` and `want` have the same JSON.
export function eq(got, want, what) {
  const g = JSON.stringify(got);
  const w = JSON.stringify(want);
  if (g !== w) throw new CheckFailed(`${what}: expected ${w}, got ${g}`);
}

// `text` on one line, cut after `n` characters.
export function short(text, n = 300) {
  const s = String(text).replace(/[\r\n]+/g, ' ');
  return s.length <= n ? s : `${s.slice(0, n)}...`;
}

// One HTTP request with a JSON or form body; returns status, headers, text and the parsed JSON body.
export async function http(method, url, { json, form, headers = {} } = {}) {
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
  return { status: res.status, headers: res.headers, text, body };
}

// The management API (/api/v1) as the bootstrap admin client; `token` is set by the suite.
export class Management {
  constructor() {
    this.token = null;
  }

  // The admin client's client_credentials request at master/master (the response, unchecked).
  tokenRequest() {
    return http('POST', `${base}/master/master/oauth/token`, {
      form: { grant_type: 'client_credentials', client_id: 'admin', client_secret: adminSecret, scope: 'ferrid-api:admin' },
    });
  }

  // Gets the admin token: the token request must answer 200.
  async signIn() {
    const r = await this.tokenRequest();
    eq(r.status, 200, `admin token status (${short(r.text)})`);
    this.token = r.body?.access_token;
  }

  // Creates a tenant, its track and a user alice… with PASSWORD (and the `extra` fields); returns the user's id and name.
  async tenantTrackUser(tenant, track, extra = {}) {
    let r = await this.post('/tenants', { name: tenant });
    eq(r.status, 201, `create tenant (${short(r.text)})`);
    r = await this.post(`/tenants/${tenant}/tracks`, { name: track });
    eq(r.status, 201, `create track (${short(r.text)})`);
    const username = `alice${randomBytes(3).toString('hex')}`;
    r = await this.post(`/tenants/${tenant}/tracks/${track}/users`, {
      username, email: `${username}@example.com`, email_verified: true, password: PASSWORD, ...extra,
    });
    eq(r.status, 201, `create user (${short(r.text)})`);
    return { id: r.body?.id, username };
  }

  // A request to /api/v1{path} with the admin token (and a JSON body when given).
  request(method, path, json) {
    expect(this.token, 'no admin token (setup failed)');
    return http(method, `${base}/api/v1${path}`, { json, headers: { authorization: `Bearer ${this.token}` } });
  }

  // A POST of `json` to /api/v1{path}.
  post(path, json) {
    return this.request('POST', path, json);
  }
}

// openid-client's configuration of client `c` (client_secret_basic) by strict discovery of
// `issuer` over plain HTTP, with the ID token's signature checked through the JWKS too.
export async function discoverBasicClient(issuer, c) {
  // loaded here so that the console suites do not load openid-client
  const client = await import('openid-client');
  const config = await client.discovery(new URL(issuer), c.client_id, undefined, client.ClientSecretBasic(c.client_secret),
    { execute: [client.allowInsecureRequests], timeout: TIMEOUT_MS / 1000 });
  client.enableNonRepudiationChecks(config);
  return config;
}

// A relying party's web server on a loopback port: it answers every request with a
// small uncached page (Front-Channel Logout 1.0 §2) and /favicon.ico with 204 (a 404
// would be a console error of the RP's page, not the provider's), and records each
// request: `requests` holds their URLs, `records` (same order) method, URL, body and
// Content-Type. `next(path)` waits for the next request to that path.
export class RelyingParty {
  // `name` titles its page and its errors; `where()` tells where the browser is when a wait times out.
  constructor(name, where = () => '') {
    this.name = name;
    this.where = where;
    this.requests = [];
    this.records = [];
    this.waiters = [];
    this.server = createServer((req, res) => {
      const url = new URL(req.url, `http://${req.headers.host}`);
      if (url.pathname === '/favicon.ico') {
        res.writeHead(204).end();
        return;
      }
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk) => {
        body += chunk;
      });
      req.on('end', () => {
        this.requests.push(url);
        this.records.push({ method: req.method, url, body, contentType: req.headers['content-type'] });
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache, no-store' });
        res.end(`<!doctype html><html lang="en"><title>${this.name}</title><p>${this.name}</p></html>`);
        this.wake();
      });
    });
  }

  // Starts listening on a free port of 127.0.0.1.
  async listen() {
    await new Promise((r) => {
      this.server.listen(0, '127.0.0.1', r);
    });
    this.origin = `http://127.0.0.1:${this.server.address().port}`;
  }

  // The absolute URL of `path` on this server.
  url(path) {
    return `${this.origin}${path}`;
  }

  // Hands each waiter the first request to its path since it began waiting.
  wake() {
    for (const w of [...this.waiters]) {
      const hit = this.records.find((r, i) => i >= w.from && r.url.pathname === w.path);
      if (hit) {
        clearTimeout(w.timer);
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(hit);
      }
    }
  }

  // The record of the first request to `path` from now on (a promise that counts as
  // handled, so one a failed check never awaits does not end the process when it times out).
  nextRequest(path) {
    const p = new Promise((resolve, reject) => {
      const w = { path, from: this.records.length, resolve };
      w.timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new CheckFailed(`${this.name}: no request to ${path} within ${TIMEOUT_MS} ms (${this.where()})`));
      }, TIMEOUT_MS);
      this.waiters.push(w);
    });
    p.catch(() => {});
    return p;
  }

  // The URL of the first request to `path` from now on (handled like nextRequest's).
  next(path) {
    const p = this.nextRequest(path).then((r) => r.url);
    p.catch(() => {});
    return p;
  }

  // Stops the server and drops the waiters.
  close() {
    for (const w of this.waiters) clearTimeout(w.timer);
    this.waiters = [];
    this.server.close();
  }
}

// Starts headless Chromium (executablePath) with extra command-line `args`.
export async function launchBrowser(args = []) {
  // loaded here so that the suites without a browser do not load playwright-core
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath, headless: true, timeout: 30000, args });
}

// A page in a new browser context (`options`) whose actions time out after TIMEOUT_MS.
export async function newPage(browser, options = {}) {
  const context = await browser.newContext(options);
  context.setDefaultTimeout(TIMEOUT_MS);
  return context.newPage();
}

// Fills the provider's login form by its labels and presses "Sign in".
export async function submitLogin(page, username, password) {
  await page.getByLabel('Username or email', { exact: true }).fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

// Chromium's extra arguments in the console suites.
export const CONSOLE_BROWSER_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking'];

// A console page: 1200x900, the size of the screenshots in docs/console.
export function consolePage(browser, options = {}) {
  return newPage(browser, { viewport: { width: 1200, height: 900 }, ...options });
}

// The page's level-1 heading named `name`, once it is there.
export async function heading(page, name) {
  const h = page.getByRole('heading', { level: 1, name });
  await h.waitFor();
  return h;
}

// Where the console suites write their screenshots (FERRID_SCREENSHOTS).
export const SHOTS = process.env.FERRID_SCREENSHOTS || join(tmpdir(), 'ferrid-console-shots');

// A full-page screenshot of `page` as SHOTS/{name}.png.
export async function shot(page, name) {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

// Why a check failed: a CheckFailed's message, or the error's name, message, code, OAuth error, status and cause.
function failureDetail(err) {
  if (err instanceof CheckFailed) return err.message;
  let detail = `${err?.name ?? 'Error'}: ${err?.message ?? err}`;
  if (err?.code) detail += ` [${err.code}]`;
  if (err?.error) detail += ` error=${err.error}`;
  if (err?.status) detail += ` status=${err.status}`;
  if (err?.cause && typeof err.cause === 'object') {
    try {
      detail += ` cause=${JSON.stringify(err.cause)}`;
    } catch {
      // ignore unserialisable causes
    }
  }
  if (process.env.FERRID_TEST_DEBUG) console.error(err);
  return detail;
}

// Runs `checks` ([name, fn] pairs) in order and prints their lines and the summary;
// `needs` names environment variables that must be set, `finish` runs at the end
// even after a throw. Returns the exit code: 1 if any check failed.
export async function runChecks(checks, { needs = [], finish } = {}) {
  let passed = 0;
  let failed = 0;
  try {
    const missing = needs.filter((name) => !process.env[name]);
    if (missing.length) {
      failed += 1;
      console.log(`FAIL - setup: ${missing.join(' and ')} must be set`);
      checks = [];
    }
    for (const [name, fn] of checks) {
      try {
        await fn();
        passed += 1;
        console.log(`ok - ${name}`);
      } catch (err) {
        failed += 1;
        console.log(`FAIL - ${name}: ${short(failureDetail(err), 500)}`);
      }
    }
  } finally {
    await finish?.();
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed ? 1 : 0;
}
