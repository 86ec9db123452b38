// Local emulators of real providers' OAuth endpoints (Google, Microsoft, GitHub,
// Slack, Notion, Dropbox, Spotify, Zoom, Atlassian, Azure DevOps through Entra, Linear,
// Box, Bitbucket, HubSpot, Asana, Discord, X, Reddit, Salesforce, Figma), written from
// their public documentation, so Grantkeeper's catalog quirks are exercised end to end:
//
//   node tests/emulators/providers.mjs      prints {"port": N} once listening on 127.0.0.1
//
// Every provider lives under /<provider>/ and has: authorize (auto-consents as the
// current test user and redirects to the loopback redirect URI), token, identity,
// revoke; GitHub also device (RFC 8628, as GitHub runs it: errors with HTTP 200, a
// slow_down first), and its GitHub Enterprise Server paths (/login/oauth/...,
// /login/device/code, /api/v3/...) at the root, for a `--base-url` site; Figma's refresh
// endpoint is /v1/oauth/refresh at the root, beside its token endpoint's path. Test hooks: GET /test/login?user=bob (who signs in next), GET /test/log
// (every request seen, secrets included: this is a test double), GET /test/stats
// (refresh requests, most token requests at once), GET /test/lifetimes?min=&max= (spread
// code-exchange token lifetimes, for load tests), POST /test/revoke?
// provider=P&user=U (the person withdraws consent at the provider), GET
// /test/grant?provider=P&user=U (whether that grant has been revoked), GET
// /test/expiring-tokens?provider=P (8-hour tokens with single-use refresh tokens from
// now on, as a GitHub OAuth App with expiring user tokens on), GET
// /test/reject-key?key=K (an API key is deleted at its service), GET
// /test/break-token?how=html|truncated|empty_access_token|huge|server_error|rate_limited|redirect|dpop|escapes
// (the next token answer is broken that way), GET /test/omit-refresh (the next code
// exchange comes without a refresh token), GET /test/approve-device?user_code=C (the
// person approves a device sign-in), GET /test/delay-token?ms=N (the next token
// request is handled N ms later), GET /test/unrevocable?hint=H (revocations with that
// token_type_hint answer unsupported_token_type), GET /test/delay-identity?ms=N (the same for the next
// identity request or API-key check), GET /test/outage?on=1|0 (token requests get their
// connection dropped until the outage ends), GET /test/device-answer?expires_in=N&interval=M&slow_down=0
// (device sign-ins from now on last N seconds, ask for M between polls, and with
// slow_down=0 are not told to slow down first), GET /test/long-tokens?on=1|0 (access tokens
// over 4 KB, as Microsoft's are), GET /test/jwks-down?on=1|0 (the signing keys answer
// 503), GET /test/identity-down?on=1|0 (the identity endpoints, which checks use,
// answer 503), GET /test/id-token?fault=nonce|signature|sub|issuer|
// audience|expired|expired-a-minute-ago (the next ID token carries another sign-in's
// nonce, is signed with another key, names another account, issuer or client, or has
// expired: an hour ago, or as a machine a minute fast would see a fresh one). Google and
// Microsoft issue RS256 ID tokens (with the nonce of the authorize request) whenever
// `openid` was granted, on code exchange, refresh and device sign-in, signed with the
// keys at /<provider>/jwks (Microsoft's name the issuer they sign for, as its own do;
// both answer with the Cache-Control their providers send).
// API-key services
// (openai, anthropic, figma-token, sendgrid, stripe, twilio) answer their check endpoints under
// /<service>/ for keys ending in "-good", and HTTP 403 for ones ending in "-restricted".
import { createServer } from 'node:http';
import { randomBytes, createHash, generateKeyPairSync, sign } from 'node:crypto';

const USERS = {
  ada: { id: 1001, login: 'ada', email: 'ada@example.test', name: 'Ada' },
  bob: { id: 1002, login: 'bob', email: 'bob@example.test', name: 'Bob' },
  // A personal Microsoft account: its tenant is Microsoft's one tenant of consumers.
  pat: { id: 1003, login: 'pat', email: 'pat@example.test', name: 'Pat', tenant: '9188040d-6c67-4c5b-b112-36a304b66dad' },
};
const CLIENT_ID = 'emulated-client';
const CLIENT_SECRET = 'canary-emulated-secret-5d1e';

// What each provider's documentation says its endpoints do.
const PROVIDERS = {
  google: {
    clientAuth: 'body', pkce: true, revoke: 'token-only', refresh: 'reusable', expiresIn: 3600, iss: 'https://accounts.google.com',
    // A refresh token only with access_type=offline; again on re-consent only with prompt=consent.
    offline: (q) => q.get('access_type') === 'offline' && q.get('prompt') === 'consent',
    incremental: (q) => q.get('include_granted_scopes') === 'true',
    identity: (u) => ({ sub: String(u.id), email: u.email, email_verified: true }),
    idToken: {
      issuer: () => 'https://accounts.google.com', sub: (u) => String(u.id), claims: (u) => ({ email: u.email, email_verified: true }),
      // Google's keys say how long to keep them; its documentation asks clients to follow it.
      keysCacheControl: 'public, max-age=19845, must-revalidate, no-transform',
    },
  },
  microsoft: {
    clientAuth: 'public', pkce: true, refresh: 'rotating-lenient', expiresIn: 3600, incremental: () => true,
    offline: (q) => scopesOf(q, 'scope', ' ').includes('offline_access'),
    // Graph scopes come back without their resource prefix; a resource's `.default` as
    // the permissions the registration was granted (Azure DevOps: user_impersonation).
    reportScope: (s) => s.replace('https://graph.microsoft.com/', '').replace(/\/\.default$/, '/user_impersonation'),
    // A `.default` scope goes with the OpenID scopes only; with another resource's scope
    // (Graph's User.Read) the sign-in is refused.
    scopeRule: (scopes) => {
      const openid = ['openid', 'offline_access', 'profile', 'email'];
      const mixed = scopes.some((s) => s.endsWith('/.default')) && scopes.some((s) => !s.endsWith('/.default') && !openid.includes(s));
      return mixed ? "AADSTS70011: The provided value for the input parameter 'scope' isn't valid. The scope .default can't be combined with resource-specific scopes." : null;
    },
    identity: (u) => ({ id: graphIdOf(u), mail: u.email, userPrincipalName: u.email }),
    // The common endpoint signs as the account's own tenant; `sub` is per app. `oid`, the
    // Graph id, and the names come only with the `profile` scope (the ID token claims
    // reference); a personal account's `oid` is its 16-hex Graph id, zero-padded.
    idToken: {
      issuer: (u) => `https://login.microsoftonline.com/${tenantOf(u)}/v2.0`,
      sub: (u) => `pairwise-${u.id}`,
      claims: (u, scopes) => ({
        tid: tenantOf(u),
        ...(scopes.includes('profile') ? { oid: objectIdOf(u), preferred_username: u.email, name: u.name } : {}),
        ver: '2.0',
      }),
      // Each key names the issuer it signs for: any tenant's at /microsoft/jwks (the
      // common endpoint's keys), one tenant's at /microsoft/jwks/<tenant ID or domain>.
      keyIssuer: (tenant) => `https://login.microsoftonline.com/${tenant ? tenantNamed(tenant) : '{tenantid}'}/v2.0`,
      keysCacheControl: 'max-age=86400, private',
    },
  },
  github: {
    clientAuth: 'body', pkce: true, revoke: 'github', refresh: 'none', shape: 'github', scopeSeparatorOut: ',',
    iss: 'https://github.com/login/oauth',
    identity: (u) => ({ id: u.id, login: u.login }),
  },
  'github-app': {
    clientAuth: 'body', pkce: true, revoke: 'github', refresh: 'rotating', expiresIn: 28800, refreshTokenExpiresIn: 15897600, shape: 'github',
    // A GitHub App's callback URLs are compared exactly, port included.
    callbackUrls: ['http://127.0.0.1:53146/callback'],
    iss: 'https://github.com/login/oauth', noScopes: true, identity: (u) => ({ id: u.id, login: u.login }),
  },
  slack: {
    // A PKCE app: a public client; user scopes in user_scope, comma-separated.
    clientAuth: 'public', pkce: true, refresh: 'none', shape: 'slack', scopeParam: 'user_scope', scopeSeparatorIn: ',', scopeSeparatorOut: ',',
    incremental: () => true, revoke: 'bearer',
    identity: (u) => ({ ok: true, user_id: `U${u.id}`, team_id: 'T0001', user: u.login, team: 'Example' }),
  },
  notion: {
    clientAuth: 'basic', json: true, pkce: false, refresh: 'rotating', noScopes: true, revoke: 'client-json',
    required: { owner: 'user' },
    tokenExtras: (u) => ({
      bot_id: `bot-${u.id}`, workspace_id: 'ws-1', workspace_name: 'Example', owner: { type: 'user', user: { object: 'user', id: `user-${u.id}`, person: { email: u.email } } },
    }),
  },
  dropbox: {
    clientAuth: 'basic-or-public', pkce: true, refresh: 'reusable', expiresIn: 14400, revoke: 'bearer',
    offline: (q) => q.get('token_access_type') === 'offline',
    incremental: (q) => q.get('include_granted_scopes') === 'user',
    identity: (u) => ({ account_id: `dbid:${u.id}`, email: u.email, name: { display_name: u.name } }),
  },
  spotify: {
    clientAuth: 'basic-or-public', pkce: true, refresh: 'rotating', expiresIn: 3600,
    identity: (u) => ({ id: `sp${u.id}`, email: u.email, display_name: u.name }),
  },
  // A public client ID (Use Public Client OAuth) with PKCE: no secret, no Authorization
  // header; a confidential client authenticates with HTTP Basic.
  zoom: {
    clientAuth: 'basic-or-public', pkce: true, refresh: 'rotating', expiresIn: 3600, revoke: 'client',
    identity: (u) => ({ id: `z${u.id}`, email: u.email }),
  },
  // A server that takes client credentials in the request body only
  // (client_secret_post), found through its metadata at /meta/post-only.
  'post-only': {
    clientAuth: 'body', pkce: true, refresh: 'reusable', expiresIn: 3600, revoke: 'client',
    identity: (u) => ({ sub: String(u.id), email: u.email }),
  },
  atlassian: {
    clientAuth: 'body', json: true, pkce: false, refresh: 'rotating', expiresIn: 3600, refreshErrorStatus: 403,
    required: { audience: 'api.atlassian.com', prompt: 'consent' },
    offline: (q) => scopesOf(q, 'scope', ' ').includes('offline_access'),
    identity: (u) => ({ account_id: `acc-${u.id}`, email: u.email, name: u.name }),
  },
  // Linear: comma-separated scopes, 24-hour tokens, single-use refresh tokens, a GraphQL
  // API (the identity is POSTed a `viewer` query), revocation by the access token itself.
  linear: {
    clientAuth: 'body', pkce: true, refresh: 'rotating', expiresIn: 86400, revoke: 'bearer', scopeSeparatorIn: ',',
    identityRequest: (req, form) => req.method === 'POST' && typeof form.query === 'string' && form.query.includes('viewer'),
    identity: (u) => ({ data: { viewer: { id: `lin-${u.id}`, email: u.email, name: u.name } } }),
  },
  // Box: a refresh token works once; the client's credentials in the form body; either
  // token of a pair revokes it; a localhost redirect may come back on any port.
  box: {
    clientAuth: 'body', pkce: false, refresh: 'rotating', expiresIn: 3600, revoke: 'client', noScopes: true,
    callbackUrls: ['http://localhost/callback'], loopbackAnyPort: true,
    identity: (u) => ({ id: String(u.id), login: u.email, name: u.name }),
  },
  // Bitbucket Cloud: HTTP Basic with the consumer's key and secret; scopes are the
  // consumer's (named in `scopes`); no revocation endpoint.
  bitbucket: {
    clientAuth: 'basic', pkce: false, refresh: 'reusable', expiresIn: 7200, noScopes: true,
    callbackUrls: ['http://localhost:53163/callback'],
    tokenExtras: () => ({ scopes: 'account repository:write' }),
    identity: (u) => ({ uuid: `{bb-${u.id}}`, username: u.login, display_name: u.name }),
  },
  hubspot: {
    clientAuth: 'body', pkce: true, refresh: 'reusable', expiresIn: 1800,
    callbackUrls: ['http://localhost:53167/callback'],
    identity: (u) => ({ portalId: 40000 + u.id, uiDomain: 'app.hubspot.com' }),
  },
  asana: {
    clientAuth: 'body', pkce: true, refresh: 'reusable', expiresIn: 3600, revoke: 'client',
    callbackUrls: ['http://localhost:53179/callback'],
    identity: (u) => ({ data: { gid: `as-${u.id}`, email: u.email, name: u.name } }),
  },
  // Discord's metadata: S256, Basic / body / none, `iss` in authorization responses.
  discord: {
    clientAuth: 'basic-or-public', pkce: true, refresh: 'rotating', expiresIn: 604800, revoke: 'client',
    iss: 'https://discord.com', callbackUrls: ['http://127.0.0.1:53165/callback'],
    identity: (u) => ({ id: `dc${u.id}`, username: u.login, email: u.email }),
  },
  // X: PKCE required; a refresh token only with offline.access; single-use refresh tokens;
  // a public client sends its client_id alone, a confidential one HTTP Basic.
  x: {
    clientAuth: 'basic-or-public', pkce: true, refresh: 'rotating', expiresIn: 7200, revoke: 'client',
    offline: (q) => scopesOf(q, 'scope', ' ').includes('offline.access'),
    callbackUrls: ['http://127.0.0.1:53169/callback'],
    identity: (u) => ({ data: { id: `x${u.id}`, username: u.login, name: u.name } }),
  },
  // Reddit: an installed app's empty secret with HTTP Basic; duration=permanent for a
  // refresh token; a descriptive User-Agent on every request, or HTTP 429. Token errors
  // come with HTTP 200 (PRAW's prawcore checks for them in "OKAY responses"), and a
  // revocation is answered 204 (reddit's POST_revoke_token).
  reddit: {
    clientAuth: 'basic-empty', pkce: false, refresh: 'reusable', expiresIn: 3600, revoke: 'client',
    errorsWith200: true, revokedStatus: 204,
    offline: (q) => q.get('duration') === 'permanent',
    userAgent: /^desktop:grantkeeper:[\w.-]+ \(by Grantkeeper; client emulated-client\)$/,
    callbackUrls: ['http://127.0.0.1:53171/callback'],
    identity: (u) => ({ id: `t2_${u.id}`, name: u.login }),
  },
  // Salesforce: no expires_in; the answer names the org's instance_url; revocation takes
  // the token alone.
  salesforce: {
    clientAuth: 'body-or-public', pkce: true, refresh: 'reusable', expiresIn: undefined, revoke: 'token-only',
    callbackUrls: ['http://localhost:53175/callback'],
    tokenExtras: (u) => ({
      instance_url: `https://${u.login}-org.my.salesforce.com`, id: `https://login.salesforce.com/id/00D${u.id}/005${u.id}`,
      issued_at: String(Date.now()), signature: 'c2lnbmF0dXJl',
    }),
    identity: (u) => ({ user_id: `005${u.id}`, organization_id: `00D${u.id}`, preferred_username: u.email, email: u.email }),
  },
  // Figma: HTTP Basic and S256 PKCE; refreshing only at /v1/oauth/refresh, whose answer
  // has no new refresh token; no revocation endpoint.
  figma: {
    clientAuth: 'basic', pkce: true, refresh: 'reusable', expiresIn: 7776000, refreshOnly: 'refresh',
    callbackUrls: ['http://localhost:53173/callback'],
    identity: (u) => ({ id: `fg${u.id}`, email: u.email, handle: u.name }),
  },
};

function tenantOf(u) {
  if (u.tenant) return u.tenant;
  return `00000000-0000-4000-8000-${String(u.id).padStart(12, '0')}`;
}

const CONSUMERS = '9188040d-6c67-4c5b-b112-36a304b66dad';

// Graph's `id` for a user: a work account's object ID, a personal account's 16 hex digits.
function graphIdOf(u) {
  return u.tenant === CONSUMERS ? `f${String(u.id).padStart(15, '0')}` : `ms-${u.id}`;
}

// The ID token's `oid`: the same, a personal account's written as a GUID.
function objectIdOf(u) {
  const id = graphIdOf(u);
  return u.tenant === CONSUMERS ? `00000000-0000-0000-${id.slice(0, 4)}-${id.slice(4)}` : id;
}

// A tenant by its ID, or by its domain: <login>.example is that user's organisation.
function tenantNamed(name) {
  const user = USERS[name.replace(/\.example$/, '')];
  return user && name.endsWith('.example') ? tenantOf(user) : name;
}

// The keys ID tokens are signed with, published at /<provider>/jwks; the other key
// signs forged ones (/test/id-token?fault=signature) under the same key id.
const KEY_ID = 'emulator-key-1';
const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
const forgingKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
const JWKS = { keys: [{ ...signingKey.publicKey.export({ format: 'jwk' }), kid: KEY_ID, use: 'sig', alg: 'RS256' }] };
// The next ID token's fault (/test/id-token?fault=...).
let idTokenFault = null;

function base64url(value) {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

// An ID token as OpenID Connect Core §2 describes it, RS256-signed (Google's and
// Microsoft's algorithm). `nonce` is the authorize request's, on a code exchange only.
function idToken(spec, user, nonce, scopes) {
  const fault = idTokenFault;
  idTokenFault = null;
  const u = fault === 'sub' ? USERS[user === 'bob' ? 'ada' : 'bob'] : USERS[user];
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    iss: fault === 'issuer' ? 'https://issuer.example.test' : spec.idToken.issuer(u),
    sub: spec.idToken.sub(u),
    aud: fault === 'audience' ? 'another-client' : CLIENT_ID,
    iat: now - ({ expired: 7200, 'expired-a-minute-ago': 3660 }[fault] ?? 0),
    exp: now + ({ expired: -3600, 'expired-a-minute-ago': -60 }[fault] ?? 3600),
    ...spec.idToken.claims(u, scopes),
  };
  if (fault === 'nonce') claims.nonce = 'nonce-of-another-sign-in';
  else if (nonce) claims.nonce = nonce;
  const input = `${base64url({ alg: 'RS256', kid: KEY_ID, typ: 'JWT' })}.${base64url(claims)}`;
  const key = fault === 'signature' ? forgingKey.privateKey : signingKey.privateKey;
  return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
}

// API-key services' check endpoints: a key is good when it ends in "-good" and has
// not been rejected through /test/reject-key.
const rejectedKeys = new Set();
const API_CHECKS = {
  openai: { path: '/v1/models', key: (req) => bearerOf(req), answer: () => ({ object: 'list', data: [] }) },
  anthropic: {
    path: '/v1/models', key: (req) => (req.headers['anthropic-version'] ? req.headers['x-api-key'] : undefined),
    answer: () => ({ data: [] }),
  },
  'figma-token': {
    path: '/v1/me', key: (req) => req.headers['x-figma-token'],
    answer: () => ({ id: '1001', email: 'ada@example.test', handle: 'Ada' }),
  },
  sendgrid: { path: '/v3/scopes', key: (req) => bearerOf(req), answer: () => ({ scopes: ['mail.send'] }) },
  stripe: { path: '/v1/account', key: (req) => bearerOf(req), answer: () => ({ id: 'acct_1', email: 'ada@example.test' }) },
  twilio: {
    path: /^\/2010-04-01\/Accounts\/(AC\w+)\.json$/,
    key: (req, match) => {
      const basic = (req.headers.authorization || '').match(/^Basic (.+)$/i);
      const [sid, token] = basic ? Buffer.from(basic[1], 'base64').toString().split(':') : [];
      return sid === match[1] ? token : undefined;
    },
    answer: () => ({ friendly_name: "Ada's account", status: 'active' }),
  },
};

function bearerOf(req) {
  const match = (req.headers.authorization || '').match(/^Bearer (.+)$/i);
  return match ? match[1] : undefined;
}

function apiCheck(service, req, url, res) {
  const spec = API_CHECKS[service];
  const path = url.pathname.slice(service.length + 1);
  const match = spec.path instanceof RegExp ? path.match(spec.path) : (path === spec.path ? [path] : null);
  if (!match) return send(res, 404, { error: 'not found' });
  const key = spec.key(req, match);
  // A restricted key (Stripe's rk_, an OpenAI project key with limited permissions) is
  // valid but may not read this endpoint: HTTP 403.
  if (key && key.endsWith('-restricted') && !rejectedKeys.has(key)) {
    return send(res, 403, { error: { message: 'The provided key does not have the required permissions for this endpoint.' } });
  }
  if (!key || !key.endsWith('-good') || rejectedKeys.has(key)) return send(res, 401, { error: { message: 'Incorrect API key provided' } });
  return send(res, 200, spec.answer());
}

let nextLogin = null;
// The next token-endpoint answer, broken on purpose (/test/break-token?how=...).
let brokenTokenAnswer = null;
// The next code exchange answers without a refresh token (/test/omit-refresh).
let omitRefresh = false;
// Revocations of tokens with this hint are refused as a server that cannot revoke that
// kind answers (/test/unrevocable?hint=refresh_token; no hint: none), until told otherwise.
let unrevocableHint = null;
// The next token request is handled this much later (/test/delay-token?ms=N), as a
// slow provider would: it still rotates, even if the client has gone meanwhile.
let delayTokenMs = 0;
let delayIdentityMs = 0;
let outage = false;
let deviceAnswer = {}; // expires_in, interval and slow_down for device sign-ins from now on
let longTokens = false;
// The keys that sign ID tokens cannot be fetched (/test/jwks-down?on=1|0): HTTP 503.
let jwksDown = false;
let identityDown = false;
// Lifetimes of tokens from code exchanges, spread at random (/test/lifetimes?min=&max=),
// for load tests; refreshed tokens keep the provider's own lifetime.
let codeLifetimes = null;
// Token requests being answered right now, and the most at once.
let inFlight = 0;
let mostInFlight = 0;
const BROKEN_ANSWERS = {
  html: (res) => send(res, 200, '<html><body>Sign in again</body></html>', 'text/html'),
  truncated: (res) => send(res, 200, '{"access_token": "canary-trunc', 'application/json'),
  newline_token: (res) => send(res, 200, { access_token: 'canary-nl\r\nX-Injected: 1', token_type: 'bearer', refresh_token: 'canary-nl-refresh', expires_in: 3600 }),
  empty_access_token: (res) => send(res, 200, { access_token: '', token_type: 'bearer', refresh_token: 'canary-half-refresh' }),
  huge: (res) => send(res, 200, { access_token: 'x', token_type: 'bearer', padding: 'p'.repeat(2 * 1024 * 1024) }),
  server_error: (res) => send(res, 503, { error: 'temporarily_unavailable' }),
  rate_limited: (res) => {
    res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '120' });
    res.end(JSON.stringify({ error: 'slow_down' }));
  },
  redirect: (res) => { res.writeHead(302, { location: 'https://example.com/elsewhere' }); res.end(); },
  // A sender-constrained token (RFC 9449), which a bearer client cannot use.
  dpop: (res) => send(res, 200, { access_token: 'canary-dpop-access', token_type: 'DPoP', refresh_token: 'canary-dpop-refresh', expires_in: 3600 }),
  // The grant stands, but its account must pass multi-factor authentication first, as
  // Microsoft's token endpoint answers a refresh after its administrator requires it.
  interaction_required: (res) => send(res, 400, {
    error: 'interaction_required',
    error_description: 'AADSTS50076: Multi-factor authentication is now required to use this account.',
    error_codes: [50076],
    suberror: 'basic_action',
  }),
  // A refusal that quotes back the refresh token and client secret it was sent, as a
  // careless server's error text does.
  echo_grant: (res, form, req) => send(res, 400, {
    error: 'invalid_grant',
    error_description: `unknown refresh_token ${form.refresh_token} (client_secret ${form.client_secret ?? req.headers.authorization})`,
  }),
  // Terminal escape sequences and a bidirectional override in the error's code and text.
  escapes: (res) => send(res, 400, { error: 'invalid_grant\u001b[2J\u001b[31m', error_description: '\u001b]0;owned\u0007 sign in \u202eagain' }),
};
const log = [];
const codes = new Map(); // code -> { provider, user, clientId, redirectUri, challenge, scopes, offline }
const grants = new Map(); // `${provider}/${user}` -> { scopes: Set, revoked }
const accessTokens = new Map(); // token -> { provider, user }
const refreshTokens = new Map(); // token -> { provider, user, scopes, used }
const deviceCodes = new Map(); // device_code -> { provider, user, scopes, userCode, approved, slowedDown }

function scopesOf(params, name, separator) {
  return (params.get(name) || '').split(separator).map((s) => s.trim()).filter(Boolean);
}

function token(prefix) {
  const value = `${prefix}-${randomBytes(12).toString('hex')}`;
  // Microsoft's access tokens are JWTs of several KB.
  return longTokens && prefix.endsWith('-access') ? `${value}-${'x'.repeat(4096)}` : value;
}

function send(res, status, body, type = 'application/json', cacheControl = 'no-store') {
  const text = type === 'application/json' ? JSON.stringify(body) : body;
  res.writeHead(status, { 'content-type': type, 'cache-control': cacheControl });
  res.end(text);
}

// The provider's way of saying no at the token endpoint.
function tokenError(res, spec, error, description, accept, status) {
  if (spec.shape === 'github') return githubAnswer(res, { error, error_description: description }, accept);
  if (spec.shape === 'slack') return send(res, 200, { ok: false, error });
  if (spec.errorsWith200) return send(res, 200, { error });
  return send(res, status || (error === 'invalid_client' ? 401 : 400), { error, error_description: description });
}

// GitHub answers form-encoded unless asked for JSON, and errors with HTTP 200.
function githubAnswer(res, body, accept) {
  if ((accept || '').includes('application/json')) return send(res, 200, body);
  return send(res, 200, new URLSearchParams(body).toString(), 'application/x-www-form-urlencoded');
}

function clientAuthenticated(spec, req, form) {
  const basic = (req.headers.authorization || '').match(/^Basic (.+)$/i);
  const [basicId, basicSecret] = basic ? Buffer.from(basic[1], 'base64').toString().split(':').map(decodeURIComponent) : [];
  const body = [form.client_id, form.client_secret];
  switch (spec.clientAuth) {
    case 'basic': return basicId === CLIENT_ID && basicSecret === CLIENT_SECRET && !form.client_secret;
    case 'body': return !basic && body[0] === CLIENT_ID && body[1] === CLIENT_SECRET;
    case 'basic-or-body': return (basicId === CLIENT_ID && basicSecret === CLIENT_SECRET) || (body[0] === CLIENT_ID && body[1] === CLIENT_SECRET);
    case 'public': return !basic && form.client_id === CLIENT_ID && !form.client_secret;
    case 'basic-or-public': return (basicId === CLIENT_ID && basicSecret === CLIENT_SECRET) || (!basic && form.client_id === CLIENT_ID && !form.client_secret);
    // Salesforce: the secret in the body, or none for an app that does not require it (PKCE).
    case 'body-or-public': return !basic && body[0] === CLIENT_ID && (body[1] === CLIENT_SECRET || !body[1]);
    // Reddit: HTTP Basic always; an installed app's password is the empty string.
    case 'basic-empty': return basicId === CLIENT_ID && (basicSecret === '' || basicSecret === CLIENT_SECRET) && !form.client_id && !form.client_secret;
    default: return false;
  }
}

// `nonce`: the authorize request's, for the ID token of a code exchange.
function issue(spec, provider, user, scopes, withRefresh, lifetime = spec.expiresIn, nonce = undefined) {
  const access = token(`${provider}-access`);
  accessTokens.set(access, { provider, user, expiresAt: lifetime ? Date.now() + lifetime * 1000 : null });
  const reported = scopes.map(spec.reportScope || ((s) => s)).join(spec.scopeSeparatorOut || ' ');
  const answer = { access_token: access, token_type: 'bearer' };
  if (!spec.noScopes) answer.scope = reported;
  if (lifetime) answer.expires_in = lifetime;
  if (withRefresh && spec.refresh !== 'none') {
    const refresh = token(`${provider}-refresh`);
    refreshTokens.set(refresh, { provider, user, scopes, used: false });
    answer.refresh_token = refresh;
    if (spec.refreshTokenExpiresIn) answer.refresh_token_expires_in = spec.refreshTokenExpiresIn;
  }
  if (spec.tokenExtras) Object.assign(answer, spec.tokenExtras(USERS[user]));
  if (spec.idToken && scopes.includes('openid')) answer.id_token = idToken(spec, user, nonce, scopes);
  if (spec.shape === 'slack') {
    const { access_token, scope, token_type, ...rest } = answer;
    return { ok: true, app_id: 'A0001', authed_user: { id: `U${USERS[user].id}`, scope, access_token, token_type: 'user', ...rest }, team: { id: 'T0001', name: 'Example' } };
  }
  return answer;
}

function authorize(provider, spec, url, res) {
  const q = url.searchParams;
  const redirect = q.get('redirect_uri');
  let redirectUrl;
  try { redirectUrl = new URL(redirect); } catch { return send(res, 400, 'bad redirect_uri', 'text/plain'); }
  if (q.get('client_id') !== CLIENT_ID || !['127.0.0.1', 'localhost'].includes(redirectUrl.hostname)) {
    return send(res, 400, 'unknown client or redirect_uri', 'text/plain');
  }
  // Box compares all but a loopback redirect's port.
  const compared = spec.loopbackAnyPort ? Object.assign(new URL(redirect), { port: '' }).toString() : redirect;
  if (spec.callbackUrls && !spec.callbackUrls.includes(compared)) {
    return send(res, 400, 'The redirect_uri is not associated with this application.', 'text/plain');
  }
  if (spec.pkce && q.get('code_challenge_method') !== 'S256') return send(res, 400, 'PKCE S256 required here', 'text/plain');
  for (const [name, value] of Object.entries(spec.required || {})) {
    if (q.get(name) !== value) return send(res, 400, `${name}=${value} required`, 'text/plain');
  }
  const user = nextLogin || 'ada';
  if (!USERS[user]) {
    const n = Number(user.replace(/\D/g, '')) || 0;
    USERS[user] = { id: 5000 + n, login: user, email: `${user}@example.test`, name: user };
  }
  const requested = scopesOf(q, spec.scopeParam || 'scope', spec.scopeSeparatorIn || ' ');
  const refused = spec.scopeRule && spec.scopeRule(requested);
  if (refused) {
    redirectUrl.searchParams.set('error', 'invalid_scope');
    redirectUrl.searchParams.set('error_description', refused);
    redirectUrl.searchParams.set('state', q.get('state') || '');
    res.writeHead(302, { location: redirectUrl.toString() });
    return res.end();
  }
  const key = `${provider}/${user}`;
  const grant = grants.get(key);
  const scopes = spec.incremental && spec.incremental(q) && grant && !grant.revoked
    ? [...new Set([...grant.scopes, ...requested])] : requested;
  grants.set(key, { scopes: new Set(scopes), revoked: false });
  const code = token('code');
  codes.set(code, {
    provider, user, redirectUri: redirect, challenge: q.get('code_challenge'), scopes,
    offline: spec.offline ? spec.offline(q) : true, nonce: q.get('nonce') || undefined,
  });
  redirectUrl.searchParams.set('code', code);
  redirectUrl.searchParams.set('state', q.get('state') || '');
  if (spec.iss) redirectUrl.searchParams.set('iss', spec.iss);
  res.writeHead(302, { location: redirectUrl.toString() });
  res.end();
}

// `endpoint`: 'token', or 'refresh' for a provider that refreshes elsewhere (Figma).
function exchange(provider, spec, req, form, res, endpoint = 'token') {
  const accept = req.headers.accept;
  if (spec.refreshOnly && (endpoint === spec.refreshOnly) !== (form.grant_type === 'refresh_token')) {
    return tokenError(res, spec, 'unsupported_grant_type', `refresh tokens go to /${spec.refreshOnly} only`, accept);
  }
  if (spec.json && !(req.headers['content-type'] || '').startsWith('application/json')) {
    return send(res, 400, { error: 'invalid_request', error_description: 'body must be JSON' });
  }
  if (!clientAuthenticated(spec, req, form)) {
    return tokenError(res, spec, spec.shape === 'github' ? 'incorrect_client_credentials' : spec.shape === 'slack' ? 'invalid_client_id' : 'invalid_client', 'client authentication failed', accept);
  }
  if (form.grant_type === 'authorization_code' || (spec.shape === 'slack' && !form.grant_type)) {
    const entry = codes.get(form.code);
    codes.delete(form.code);
    if (!entry || entry.provider !== provider || entry.redirectUri !== form.redirect_uri) {
      return tokenError(res, spec, spec.shape === 'github' ? 'bad_verification_code' : spec.shape === 'slack' ? 'invalid_code' : 'invalid_grant', 'the code is wrong, used or expired', accept);
    }
    if (spec.pkce) {
      const digest = createHash('sha256').update(form.code_verifier || '').digest('base64url');
      if (digest !== entry.challenge) return tokenError(res, spec, 'invalid_grant', 'PKCE verification failed', accept);
    }
    const lifetime = codeLifetimes
      ? Math.round(codeLifetimes.min + Math.random() * (codeLifetimes.max - codeLifetimes.min))
      : spec.expiresIn;
    const answer = issue(spec, provider, entry.user, entry.scopes, entry.offline && !omitRefresh, lifetime, entry.nonce);
    omitRefresh = false;
    return spec.shape === 'github' ? githubAnswer(res, answer, accept) : send(res, 200, answer);
  }
  if (form.grant_type === 'urn:ietf:params:oauth:grant-type:device_code') {
    const entry = deviceCodes.get(form.device_code);
    if (!entry || entry.provider !== provider) return tokenError(res, spec, 'incorrect_device_code', 'the device code is wrong', accept);
    if (!entry.approved) {
      // GitHub says both with HTTP 200; the first poll is told to slow down.
      if (!entry.slowedDown) {
        entry.slowedDown = true;
        return spec.shape === 'github'
          ? githubAnswer(res, { error: 'slow_down', error_description: 'Too many requests', interval: 6 }, accept)
          : tokenError(res, spec, 'slow_down', 'poll less often', accept);
      }
      return tokenError(res, spec, 'authorization_pending', 'the person has not approved yet', accept);
    }
    deviceCodes.delete(form.device_code);
    grants.set(`${provider}/${entry.user}`, { scopes: new Set(entry.scopes), revoked: false });
    const answer = issue(spec, provider, entry.user, entry.scopes, true);
    return spec.shape === 'github' ? githubAnswer(res, answer, accept) : send(res, 200, answer);
  }
  if (form.grant_type === 'refresh_token') {
    const entry = refreshTokens.get(form.refresh_token);
    const grant = entry && grants.get(`${provider}/${entry.user}`);
    const refused = !entry || entry.provider !== provider || !grant || grant.revoked
      || (entry.used && spec.refresh === 'rotating');
    if (refused) {
      // Reuse of a rotated refresh token retires the whole grant.
      if (entry && entry.used && grant) grant.revoked = true;
      const code = spec.shape === 'github' ? 'bad_refresh_token' : spec.shape === 'slack' ? 'invalid_refresh_token' : 'invalid_grant';
      return tokenError(res, spec, code, 'the refresh token is not valid', accept, spec.refreshErrorStatus);
    }
    const rotates = spec.refresh.startsWith('rotating');
    if (rotates) entry.used = true;
    const answer = issue(spec, provider, entry.user, entry.scopes, rotates);
    return spec.shape === 'github' ? githubAnswer(res, answer, accept) : send(res, 200, answer);
  }
  return tokenError(res, spec, 'unsupported_grant_type', 'unknown grant_type', accept);
}

function identity(provider, spec, req, form, res) {
  if (spec.identityRequest && !spec.identityRequest(req, form)) return send(res, 400, { errors: [{ message: 'Must provide query string.' }] });
  const bearer = (req.headers.authorization || '').replace(/^Bearer /i, '');
  const entry = accessTokens.get(bearer);
  const grant = entry && grants.get(`${provider}/${entry.user}`);
  if (!entry || entry.provider !== provider || grant.revoked) {
    return spec.shape === 'slack' ? send(res, 200, { ok: false, error: 'invalid_auth' }) : send(res, 401, { error: 'invalid_token' });
  }
  return send(res, 200, spec.identity(USERS[entry.user]));
}

function revokeGrant(provider, user) {
  const grant = grants.get(`${provider}/${user}`);
  if (grant) grant.revoked = true;
}

// Revocation as each provider documents it: RFC 7009 with the token alone (Google) or
// with client authentication (Zoom; Notion in JSON), GitHub's DELETE of the grant with
// Basic auth, or the token itself as Bearer (Slack, Dropbox).
function revoke(provider, spec, req, form, res) {
  const bearer = (req.headers.authorization || '').replace(/^Bearer /i, '');
  let tokenValue;
  switch (spec.revoke) {
    case 'token-only': tokenValue = form.token; break;
    case 'client': case 'client-json':
      // Notion: JSON `{token}` alone, with its API version.
      if (spec.revoke === 'client-json' && (!(req.headers['content-type'] || '').startsWith('application/json')
        || !req.headers['notion-version'] || Object.keys(form).join() !== 'token')) {
        return send(res, 400, { object: 'error', status: 400, code: 'validation_error' });
      }
      if (!clientAuthenticated(spec, req, form)) return send(res, 401, { error: 'invalid_client' });
      tokenValue = form.token;
      break;
    case 'github': {
      const basic = (req.headers.authorization || '').match(/^Basic (.+)$/i);
      const [id, secret] = basic ? Buffer.from(basic[1], 'base64').toString().split(':') : [];
      if (req.method !== 'DELETE' || id !== CLIENT_ID || secret !== CLIENT_SECRET) return send(res, 404, { message: 'Not Found' });
      tokenValue = form.access_token;
      break;
    }
    case 'bearer': tokenValue = bearer; break;
    default: return send(res, 404, { error: 'no revocation here' });
  }
  // RFC 7009 §2.2.1: a server that does not revoke this kind of token says so.
  if (unrevocableHint && form.token_type_hint === unrevocableHint) return send(res, 400, { error: 'unsupported_token_type' });
  const entry = refreshTokens.get(tokenValue) || accessTokens.get(tokenValue);
  const grant = entry && grants.get(`${provider}/${entry.user}`);
  // Dropbox and Slack take only a live access token: an expired one revokes nothing.
  if (spec.revoke === 'bearer' && entry && entry.expiresAt && entry.expiresAt <= Date.now()) {
    return spec.shape === 'slack'
      ? send(res, 200, { ok: false, error: 'token_expired' })
      : send(res, 401, { error_summary: 'expired_access_token/', error: { '.tag': 'expired_access_token' } });
  }
  // Google: once the grant has ended, its tokens are unknown (HTTP 400, invalid_token).
  if (spec.revoke === 'token-only' && grant && grant.revoked) return send(res, 400, { error: 'invalid_token' });
  if (entry) revokeGrant(provider, entry.user);
  if (spec.revoke === 'github') return entry ? (res.writeHead(204), res.end()) : send(res, 404, { message: 'Not Found' });
  if (spec.revoke === 'bearer' && !entry) return send(res, spec.shape === 'slack' ? 200 : 401, spec.shape === 'slack' ? { ok: false, error: 'invalid_auth' } : { error: 'invalid_access_token' });
  if (spec.revokedStatus === 204) return (res.writeHead(204), res.end());
  return send(res, 200, spec.shape === 'slack' ? { ok: true, revoked: true } : {});
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const text = Buffer.concat(chunks).toString();
  if ((req.headers['content-type'] || '').startsWith('application/json')) {
    try { return { text, form: JSON.parse(text || '{}') }; } catch { return { text, form: {} }; }
  }
  return { text, form: Object.fromEntries(new URLSearchParams(text)) };
}

// Issuers under /meta/<name> whose OpenID configuration and OAuth metadata (RFC 8414)
// say different things, for discovery: "split" lists its revocation and device
// endpoints only in the OAuth metadata; "oauth-only" has no OpenID configuration;
// "other-oauth" has OAuth metadata naming another issuer; "post-only" lists only
// client_secret_post; "broken-oauth" has no OpenID configuration and OAuth metadata that
// is an HTML page. Endpoints are Zoom's, or post-only's.
function metadata(req, res, url) {
  const origin = `http://${req.headers.host}`;
  const openid = url.pathname.match(/^\/meta\/([\w-]+)\/\.well-known\/openid-configuration$/);
  const oauth = url.pathname.match(/^\/\.well-known\/oauth-authorization-server\/meta\/([\w-]+)$/);
  const name = (openid || oauth)[1];
  const issuer = `${origin}/meta/${name}`;
  const at = `${origin}/${name === 'post-only' ? 'post-only' : 'zoom'}`;
  const base = { issuer, authorization_endpoint: `${at}/authorize`, token_endpoint: `${at}/token` };
  if (name === 'post-only') {
    if (openid) return send(res, 404, {});
    return send(res, 200, {
      ...base, userinfo_endpoint: `${at}/identity`, revocation_endpoint: `${at}/revoke`,
      token_endpoint_auth_methods_supported: ['client_secret_post'],
    });
  }
  if (name === 'broken-oauth') {
    return openid ? send(res, 404, {}) : send(res, 200, '<html>Sign in</html>', 'text/html');
  }
  if (openid) {
    if (name === 'oauth-only') return send(res, 404, {});
    return send(res, 200, { ...base, jwks_uri: `${origin}/google/jwks`, id_token_signing_alg_values_supported: ['RS256'] });
  }
  if (name === 'other-oauth') return send(res, 200, { ...base, issuer: `${origin}/meta/someone-else`, revocation_endpoint: `${origin}/elsewhere/revoke` });
  return send(res, 200, {
    ...base, revocation_endpoint: `${origin}/zoom/revoke`, device_authorization_endpoint: `${origin}/zoom/device`,
    token_endpoint_auth_methods_supported: ['client_secret_post'], code_challenge_methods_supported: ['S256'],
  });
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url, 'http://127.0.0.1');
  const { text, form } = await readBody(req);
  if (url.pathname.startsWith('/meta/') || url.pathname.startsWith('/.well-known/oauth-authorization-server/meta/')) {
    return metadata(req, res, url);
  }
  const [, provider, ...rest] = ghesPath(url.pathname) ?? url.pathname.split('/');
  if (provider !== 'test') {
    log.push({ provider, method: req.method, path: url.pathname, query: Object.fromEntries(url.searchParams), headers: req.headers, body: text });
  }
  if (provider === 'test') {
    if (rest[0] === 'login') { nextLogin = url.searchParams.get('user'); return send(res, 200, {}); }
    if (rest[0] === 'approve-device') {
      const entry = [...deviceCodes.values()].find((d) => d.userCode === url.searchParams.get('user_code'));
      if (entry) entry.approved = true;
      return send(res, entry ? 200 : 404, {});
    }
    if (rest[0] === 'log') return send(res, 200, log);
    if (rest[0] === 'revoke') { revokeGrant(url.searchParams.get('provider'), url.searchParams.get('user')); return send(res, 200, {}); }
    if (rest[0] === 'expiring-tokens') {
      Object.assign(PROVIDERS[url.searchParams.get('provider')], { refresh: 'rotating', expiresIn: 28800, refreshTokenExpiresIn: 15897600 });
      return send(res, 200, {});
    }
    if (rest[0] === 'grant') {
      const grant = grants.get(`${url.searchParams.get('provider')}/${url.searchParams.get('user')}`);
      return grant ? send(res, 200, { revoked: grant.revoked }) : send(res, 404, {});
    }
    if (rest[0] === 'omit-refresh') { omitRefresh = true; return send(res, 200, {}); }
    if (rest[0] === 'lifetimes') {
      codeLifetimes = { min: Number(url.searchParams.get('min')), max: Number(url.searchParams.get('max')) };
      return send(res, 200, {});
    }
    if (rest[0] === 'stats') {
      const refreshes = log.filter((r) => r.path.endsWith('/token') && r.body.includes('grant_type=refresh_token')).length;
      return send(res, 200, { refresh_requests: refreshes, most_in_flight: mostInFlight });
    }
    // An outage: token requests get their connection dropped until it ends.
    if (rest[0] === 'jwks-down') { jwksDown = url.searchParams.get('on') === '1'; return send(res, 200, {}); }
    if (rest[0] === 'long-tokens') { longTokens = url.searchParams.get('on') === '1'; return send(res, 200, {}); }
    if (rest[0] === 'identity-down') { identityDown = url.searchParams.get('on') === '1'; return send(res, 200, {}); }
    if (rest[0] === 'outage') { outage = url.searchParams.get('on') === '1'; return send(res, 200, {}); }
    if (rest[0] === 'device-answer') {
      deviceAnswer = Object.fromEntries([...url.searchParams].map(([field, value]) => [field, Number(value)]));
      return send(res, 200, {});
    }
    if (rest[0] === 'delay-identity') { delayIdentityMs = Number(url.searchParams.get('ms')) || 0; return send(res, 200, {}); }
    if (rest[0] === 'delay-token') { delayTokenMs = Number(url.searchParams.get('ms')) || 0; return send(res, 200, {}); }
    if (rest[0] === 'unrevocable') { unrevocableHint = url.searchParams.get('hint'); return send(res, 200, {}); }
    if (rest[0] === 'break-token') { brokenTokenAnswer = url.searchParams.get('how'); return send(res, 200, {}); }
    if (rest[0] === 'id-token') { idTokenFault = url.searchParams.get('fault'); return send(res, 200, {}); }
    if (rest[0] === 'reject-key') { rejectedKeys.add(url.searchParams.get('key')); return send(res, 200, {}); }
    return send(res, 404, {});
  }
  if (API_CHECKS[provider]) {
    const ms = delayIdentityMs;
    delayIdentityMs = 0;
    return setTimeout(() => apiCheck(provider, req, url, res), ms);
  }
  const spec = PROVIDERS[provider];
  if (!spec) return send(res, 404, { error: 'no such provider' });
  // Reddit throttles requests without a User-Agent of the app's own.
  if (spec.userAgent && rest[0] !== 'authorize' && !spec.userAgent.test(req.headers['user-agent'] || '')) {
    return send(res, 429, { message: 'Too Many Requests', error: 429 });
  }
  switch (rest[0]) {
    case 'authorize': return authorize(provider, spec, url, res);
    case 'token': {
      if (outage) return req.socket.destroy();
      inFlight += 1;
      mostInFlight = Math.max(mostInFlight, inFlight);
      res.on('close', () => { inFlight -= 1; });
      if (brokenTokenAnswer) {
        const how = brokenTokenAnswer;
        brokenTokenAnswer = null;
        return BROKEN_ANSWERS[how](res, form, req);
      }
      if (delayTokenMs) {
        const ms = delayTokenMs;
        delayTokenMs = 0;
        return setTimeout(() => exchange(provider, spec, req, form, res), ms);
      }
      return exchange(provider, spec, req, form, res);
    }
    case 'refresh': return exchange(provider, spec, req, form, res, 'refresh');
    case 'identity': {
      if (identityDown) return send(res, 503, { message: 'Service Unavailable' });
      const ms = delayIdentityMs;
      delayIdentityMs = 0;
      return setTimeout(() => identity(provider, spec, req, form, res), ms);
    }
    case 'revoke': return revoke(provider, spec, req, form, res);
    case 'device': return deviceCode(provider, spec, req, form, res);
    case 'jwks': {
      if (jwksDown) return send(res, 503, { error: 'temporarily_unavailable' });
      if (!spec.idToken) return send(res, 404, { error: 'no such endpoint' });
      const keyIssuer = spec.idToken.keyIssuer;
      const keys = keyIssuer ? { keys: JWKS.keys.map((k) => ({ ...k, issuer: keyIssuer(rest[1]) })) } : JWKS;
      return send(res, 200, keys, 'application/json', spec.idToken.keysCacheControl);
    }
    default: return send(res, 404, { error: 'no such endpoint' });
  }
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
// The test harness closes stdin when it is done with the emulator.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();

// GitHub Enterprise Server's paths (a `--base-url` site), served as the github provider.
function ghesPath(pathname) {
  const routes = {
    '/login/oauth/authorize': 'authorize',
    '/login/oauth/access_token': 'token',
    '/api/v3/user': 'identity',
    '/login/device/code': 'device',
  };
  if (pathname === '/v1/oauth/refresh') return ['', 'figma', 'refresh'];
  if (routes[pathname]) return ['', 'github', routes[pathname]];
  if (/^\/api\/v3\/applications\/[^/]+\/grant$/.test(pathname)) return ['', 'github', 'revoke'];
  return undefined;
}

// RFC 8628 §3.2 as GitHub answers it (form-encoded unless asked for JSON); the person
// approves through GET /test/approve-device?user_code=.
function deviceCode(provider, spec, req, form, res) {
  if (form.client_id !== CLIENT_ID) return tokenError(res, spec, 'incorrect_client_credentials', 'unknown client', req.headers.accept);
  const userCode = `${randomBytes(2).toString('hex')}-${randomBytes(2).toString('hex')}`.toUpperCase();
  const deviceCode = token('device');
  const scopes = (form.scope || '').split(' ').filter(Boolean);
  const { slow_down: slowDown = 1, ...answered } = deviceAnswer;
  deviceCodes.set(deviceCode, { provider, user: nextLogin || 'ada', scopes, userCode, approved: false, slowedDown: slowDown === 0 });
  const answer = {
    device_code: deviceCode,
    user_code: userCode,
    verification_uri: `http://127.0.0.1:${server.address().port}/login/device`,
    expires_in: 900,
    interval: 1,
    ...answered,
  };
  return spec.shape === 'github' ? githubAnswer(res, answer, req.headers.accept) : send(res, 200, answer);
}

