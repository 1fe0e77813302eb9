// The peer of the OpenID Provider flow benchmark (docs/benchmarks.md, "OpenID Provider
// flows"): panva's oidc-provider configured for the same flows as ferrid's track.
//
//   node bench/oidc_flows/peer.mjs --provider /path/to/node_modules/oidc-provider
//
// oidc-provider is not a dependency of this repository: its directory is given on the
// command line (the benchmark kit has one). The only package here is @node-rs/argon2,
// so that the login form checks the password with Argon2id at ferrid's parameters
// (m = 19 MiB, t = 2, p = 1) rather than with no check at all (`npm install` here).
//
// One confidential client (client_secret_basic), redirect URI http://127.0.0.1:9/cb,
// response type code, PKCE S256 required, authorization_code + refresh_token, scopes
// openid profile email offline_access, refresh tokens rotated on every use (ferrid
// rotates them). One user with profile and email claims. A logged-in session goes
// straight to the code: `loadExistingGrant` creates the grant of this first-party
// client (no consent prompt). The login is a minimal form (username, password).
//
// Access tokens: oidc-provider issues JWT access tokens only for a resource server
// (resource indicators); its userinfo endpoint refuses any token with an audience. So a
// request with `resource=urn:bench:api` gets an ES256/RS256 JWT access token (RFC 9068
// shape, like ferrid's), and one without gets an opaque token that userinfo accepts.
//
// Env: PORT (3000), ALG (ES256 | RS256), BENCH_USER / BENCH_PASSWORD, CLIENT_ID /
// CLIENT_SECRET, QUIET=1 hides the provider's error events.
import { createServer } from 'node:http';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import path from 'node:path';

import { hash, verify, Algorithm } from '@node-rs/argon2';

function arg(name) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}

const providerDir = arg('--provider') || process.env.OIDC_PROVIDER_DIR;
if (!providerDir) {
  console.error('usage: node peer.mjs --provider DIR_OF_oidc-provider');
  process.exit(2);
}
const { default: Provider } = await import(pathToFileURL(path.join(path.resolve(providerDir), 'lib', 'index.js')).href);

const PORT = Number(process.env.PORT || 3000);
const HOST = '127.0.0.1';
const ALG = process.env.ALG || 'ES256';
const CLIENT_ID = process.env.CLIENT_ID || 'bench-web';
const CLIENT_SECRET = process.env.CLIENT_SECRET || 'bench-web-secret-0123456789abcdef';
const USERNAME = process.env.BENCH_USER || 'alice';
const PASSWORD = process.env.BENCH_PASSWORD || 'a long passphrase 42';
const RESOURCE = 'urn:bench:api';
const ISSUER = `http://${HOST}:${PORT}`;

// ferrid's Argon2id parameters (crates/ferrid-core/src/credentials/argon2id.rs)
const ARGON2 = { algorithm: Algorithm.Argon2id, memoryCost: 19 * 1024, timeCost: 2, parallelism: 1, outputLen: 32 };
const passwordHash = await hash(PASSWORD, ARGON2);

const ACCOUNT = {
  sub: 'u-alice-0001',
  name: 'Alice Liddell',
  given_name: 'Alice',
  family_name: 'Liddell',
  preferred_username: USERNAME,
  email: 'alice@example.com',
  email_verified: true,
};

function keyPair(alg) {
  let pair;
  if (alg === 'ES256') pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  else if (alg === 'RS256') pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  else throw new Error(`unsupported ALG ${alg}`);
  return { ...pair.privateKey.export({ format: 'jwk' }), alg, use: 'sig', kid: `k-${alg.toLowerCase()}-${randomUUID().slice(0, 8)}` };
}

const configuration = {
  clients: [
    {
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      token_endpoint_auth_method: 'client_secret_basic',
      redirect_uris: ['http://127.0.0.1:9/cb'],
      response_types: ['code'],
      grant_types: ['authorization_code', 'refresh_token'],
      scope: 'openid profile email offline_access',
      id_token_signed_response_alg: ALG,
    },
  ],
  jwks: { keys: [keyPair(ALG)] },
  cookies: { keys: [randomUUID(), randomUUID()] },
  scopes: ['openid', 'profile', 'email', 'offline_access'],
  claims: {
    openid: ['sub'],
    profile: ['name', 'given_name', 'family_name', 'preferred_username'],
    email: ['email', 'email_verified'],
  },
  pkce: { required: () => true },
  rotateRefreshToken: () => true,
  // oidc-provider drops offline_access from an authorization request without
  // prompt=consent (OpenID Connect Core §11); ferrid grants it to a client allowed the
  // refresh_token grant, so the peer issues a refresh token to that client too.
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  async findAccount(_ctx, id) {
    if (id !== ACCOUNT.sub) return undefined;
    return { accountId: id, claims: async () => ({ ...ACCOUNT }) };
  },
  // A first-party client: the grant is created on the first authorization of a session
  // and found again on the next ones, so no consent prompt ever shows.
  async loadExistingGrant(ctx) {
    const { client, session, params } = ctx.oidc;
    const grantId = ctx.oidc.result?.consent?.grantId || session.grantIdFor(client.clientId);
    if (grantId) {
      const found = await ctx.oidc.provider.Grant.find(grantId);
      if (found) return found;
    }
    const grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
    grant.addOIDCScope('openid profile email offline_access');
    grant.addResourceScope(RESOURCE, 'api.read');
    await grant.save();
    return grant;
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  features: {
    devInteractions: { enabled: false },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => undefined,
      useGrantedResource: async () => true,
      getResourceServerInfo: async (_ctx, indicator) => {
        if (indicator !== RESOURCE) throw new Provider.errors.InvalidTarget();
        return { scope: 'api.read', audience: RESOURCE, accessTokenTTL: 3600, accessTokenFormat: 'jwt', jwt: { sign: { alg: ALG } } };
      },
    },
  },
  enabledJWA: { idTokenSigningAlgValues: ['ES256', 'RS256'] },
};

const provider = new Provider(ISSUER, configuration);
if (!process.env.QUIET) {
  provider.on('server_error', (_ctx, err) => console.error('server_error', err));
  provider.on('grant.error', (_ctx, err) => console.error('grant.error', err.message, err.error_description));
}

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function loginPage(uid, error) {
  return `<!doctype html><html><head><title>Sign in</title></head><body>
${error ? `<p role="alert">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/login">
<label>Username or email <input name="username" autocomplete="username"></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
<button type="submit">Sign in</button>
</form></body></html>`;
}

function readForm(req) {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => {
      body += chunk;
      if (body.length > 8192) reject(new Error('form too large'));
    });
    req.on('end', () => resolve(new URLSearchParams(body)));
    req.on('error', reject);
  });
}

async function interaction(req, res) {
  const m = /^\/interaction\/([^/]+)(\/login)?$/.exec(new URL(req.url, ISSUER).pathname);
  if (!m) return false;
  try {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== m[1]) throw new Error('interaction mismatch');
    if (!m[2] && req.method === 'GET') {
      if (details.prompt.name !== 'login') {
        // any other prompt (consent) is answered by loadExistingGrant; finish with the grant
        await provider.interactionFinished(req, res, {}, { mergeWithLastSubmission: true });
        return true;
      }
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(loginPage(details.uid));
      return true;
    }
    if (m[2] && req.method === 'POST') {
      const form = await readForm(req);
      const user = form.get('username');
      const ok = (user === USERNAME || user === ACCOUNT.email) && (await verify(passwordHash, form.get('password') || ''));
      if (!ok) {
        res.writeHead(400, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
        res.end(loginPage(details.uid, 'Wrong username or password.'));
        return true;
      }
      await provider.interactionFinished(req, res, { login: { accountId: ACCOUNT.sub } }, { mergeWithLastSubmission: false });
      return true;
    }
    res.writeHead(405).end();
  } catch (err) {
    if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain' });
    res.end(String(err.message || err));
  }
  return true;
}

const callback = provider.callback();
const server = createServer(async (req, res) => {
  if (req.url.startsWith('/interaction/') && (await interaction(req, res))) return;
  callback(req, res);
});
server.keepAliveTimeout = 65_000;
server.listen(PORT, HOST, () => {
  console.log(`oidc-provider flows peer ${ALG} listening on ${ISSUER} pid=${process.pid}`);
});
