// A real OpenID provider for Grantkeeper's tests: the unmodified npm `oidc-provider` 8
// on a loopback port, plus a few /test/ endpoints for assertions. See README.md.
//
// When it listens it prints exactly one JSON line on stdout:
//   {"issuer":"http://127.0.0.1:PORT","port":PORT}
// Everything else goes to stderr. It exits on SIGTERM/SIGINT and when its stdin (a pipe
// from the harness) closes.
import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';

import Provider from 'oidc-provider';

// Also sends oidc-provider's NOTICEs (console.info) to stderr: stdout is the one line.
import { endWithHarness, json, ready } from '../support/harness.mjs';
import { isGitRequest, serveGit } from './git.mjs';

const port = Number(process.env.OIDC_PORT || 0);
const accessTokenTtl = Number(process.env.OIDC_ACCESS_TOKEN_TTL || 3600);
if (!Number.isInteger(port) || port < 0) throw new Error(`bad OIDC_PORT ${process.env.OIDC_PORT}`);
if (!Number.isInteger(accessTokenTtl) || accessTokenTtl <= 0) {
  throw new Error(`bad OIDC_ACCESS_TOKEN_TTL ${process.env.OIDC_ACCESS_TOKEN_TTL}`);
}

// OIDC_PROFILE=gitlab serves the same provider under a self-managed GitLab's paths and
// scopes (oauth/authorize, oauth/token, oauth/revoke, api/v4/user), so the catalog's
// GitLab entry runs against it with only its base URL changed. Like GitLab, it issues a
// refresh token with every grant.
const profile = process.env.OIDC_PROFILE || 'oidc';
if (!['oidc', 'gitlab'].includes(profile)) throw new Error(`bad OIDC_PROFILE ${profile}`);
const gitlab = profile === 'gitlab';
const GITLAB_SCOPES = ['read_user', 'read_api', 'api', 'read_repository', 'write_repository'];
const SCOPES = ['openid', 'email', 'profile', 'offline_access', ...(gitlab ? GITLAB_SCOPES : [])];

const nativeClient = (clientId, redirectHost, extra = {}) => ({
  client_id: clientId,
  application_type: 'native',
  token_endpoint_auth_method: 'none',
  // Native clients on loopback: oidc-provider ignores the port when it compares
  // (RFC 8252 section 7.3), so http://127.0.0.1:45678/callback matches.
  redirect_uris: [`http://${redirectHost}/callback`],
  grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
  response_types: ['code'],
  scope: SCOPES.join(' '),
  ...extra,
});

// OIDC_ID_TOKEN_ALG=ES256 signs the public client's ID tokens with an EC P-256 key
// (RFC 7518 §3.4) instead of RSA, from keys made at start.
const idTokenAlg = process.env.OIDC_ID_TOKEN_ALG || 'RS256';
if (!['RS256', 'ES256'].includes(idTokenAlg)) throw new Error(`bad OIDC_ID_TOKEN_ALG ${idTokenAlg}`);
const ecKeys = idTokenAlg === 'ES256'
  ? {
    jwks: {
      keys: [
        generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }),
        generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }),
      ],
    },
    enabledJWA: { idTokenSigningAlgValues: ['RS256', 'ES256'] },
  }
  : {};

const configuration = {
  ...ecKeys,
  clients: [
    nativeClient('grantkeeper-test', '127.0.0.1', { id_token_signed_response_alg: idTokenAlg }),
    nativeClient('grantkeeper-confidential', '127.0.0.1', {
      client_secret: 'canary-client-secret-7f3a',
      token_endpoint_auth_method: 'client_secret_basic',
    }),
    nativeClient('grantkeeper-localhost', 'localhost'),
    // GitLab's non-confidential applications send client_id in the body, with PKCE.
    nativeClient('grantkeeper-gitlab', '127.0.0.1'),
  ],
  ...(gitlab ? {
    routes: {
      authorization: '/oauth/authorize',
      token: '/oauth/token',
      revocation: '/oauth/revoke',
      userinfo: '/oauth/userinfo',
      device_authorization: '/oauth/authorize_device',
      code_verification: '/oauth/device',
      // Where GitLab publishes the keys its ID tokens are signed with.
      jwks: '/oauth/discovery/keys',
    },
  } : {}),
  pkce: { methods: ['S256'], required: () => true },
  scopes: SCOPES,
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
  },
  // Any login is an account: sub = the login, email = <login>@example.test. GitLab's
  // sub is the account's numeric ID (as a string); /test/id-token?fault=sub makes the
  // next ID token name another account.
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims(use) {
        let sub = gitlab ? String(gitlabIdOf(id)) : id;
        if (use === 'id_token' && idTokenFault === 'sub') {
          idTokenFault = null;
          sub = gitlab ? String(gitlabIdOf(`not-${id}`)) : `not-${id}`;
        }
        return {
          sub,
          email: `${id}@example.test`,
          email_verified: true,
          name: id.charAt(0).toUpperCase() + id.slice(1),
        };
      },
    };
  },
  features: {
    devInteractions: { enabled: true }, // login + consent pages at /interaction/:uid
    revocation: { enabled: true },
    introspection: { enabled: true },
    userinfo: { enabled: true },
    // Sign-in by code (RFC 8628): the code is typed at /device (GitLab: /oauth/device).
    deviceFlow: { enabled: true },
  },
  // The library's default, spelled out: a refresh token whenever the client may use
  // the grant and offline_access was granted.
  async issueRefreshToken(ctx, client, code) {
    return client.grantTypeAllowed('refresh_token') && (gitlab || code.scopes.has('offline_access'));
  },
  rotateRefreshToken: true,
  ttl: { AccessToken: accessTokenTtl }, // the other lifetimes keep the library defaults
  // Tokens stop working exactly at their expiry (the library default accepts 15 s more).
  clockTolerance: 0,
  cookies: { keys: ['grantkeeper-test-cookie-key-1', 'grantkeeper-test-cookie-key-2'] },
};

// What the assertions read.
const stats = {
  token_requests: {}, userinfo_requests: 0, revocation_requests: 0, jwks_requests: 0, git_authorized: 0, git_refused: 0,
};
// Scopes the person does not grant (as if unticked on the consent screen): dropped
// from authorization requests before the provider sees them. Set by /test/withhold.
let withheld = new Set();
const grantsByAccount = new Map(); // accountId -> Set of grant ids
// The next ID token's fault, set by /test/id-token.
let idTokenFault = null;
// The next signing keys answer lists none, like one fetched before the key that signs
// now was published. Set by /test/stale-jwks.
let staleJwks = false;
// GitLab names accounts by number: each login gets the next one.
const gitlabIds = new Map();
function gitlabIdOf(login) {
  if (!gitlabIds.has(login)) gitlabIds.set(login, 1001 + gitlabIds.size);
  return gitlabIds.get(login);
}

const server = http.createServer();

server.listen(port, '127.0.0.1', () => {
  const actualPort = server.address().port;
  const issuer = `http://127.0.0.1:${actualPort}`;
  const provider = new Provider(issuer, configuration);
  provider.proxy = false;

  provider.on('grant.saved', (grant) => {
    if (!grantsByAccount.has(grant.accountId)) grantsByAccount.set(grant.accountId, new Set());
    grantsByAccount.get(grant.accountId).add(grant.jti);
  });
  provider.on('grant.destroyed', (grant) => grantsByAccount.get(grant.accountId)?.delete(grant.jti));
  // Revocation (RFC 7009) of a refresh token ends its grant without loading it.
  provider.on('grant.revoked', (ctx, grantId) => grantsByAccount.forEach((grants) => grants.delete(grantId)));
  provider.on('server_error', (ctx, error) => console.error('oidc-provider server_error:', error));

  // Count what the token and userinfo endpoints receive, failed requests included.
  provider.use(async (ctx, next) => {
    try {
      await next();
    } finally {
      if (ctx.method === 'POST' && (ctx.path === '/token' || ctx.path === '/oauth/token')) {
        const grantType = ctx.oidc?.params?.grant_type ?? ctx.oidc?.body?.grant_type ?? 'unknown';
        stats.token_requests[grantType] = (stats.token_requests[grantType] ?? 0) + 1;
      } else if ((ctx.method === 'GET' || ctx.method === 'POST') && ctx.path === '/me') {
        stats.userinfo_requests += 1;
      } else if (ctx.method === 'POST' && (ctx.path === '/token/revocation' || ctx.path === '/oauth/revoke')) {
        stats.revocation_requests += 1;
      } else if (ctx.method === 'GET' && (ctx.path === '/jwks' || ctx.path === '/oauth/discovery/keys')) {
        stats.jwks_requests += 1;
      }
    }
  });

  async function revokeGrants(accountId) {
    let revoked = 0;
    for (const grantId of [...(grantsByAccount.get(accountId) ?? [])]) {
      const grant = await provider.Grant.find(grantId);
      await Promise.all([
        provider.AccessToken.revokeByGrantId(grantId),
        provider.AuthorizationCode.revokeByGrantId(grantId),
        provider.RefreshToken.revokeByGrantId(grantId),
      ]);
      if (grant) {
        await grant.destroy();
        revoked += 1;
      }
    }
    grantsByAccount.delete(accountId);
    return revoked;
  }

  const providerCallback = provider.callback();
  server.on('request', (req, res) => {
    const url = new URL(req.url, issuer);
    if (url.pathname === '/test/stats' && req.method === 'GET') {
      const grants = Object.fromEntries([...grantsByAccount].map(([account, ids]) => [account, ids.size]));
      json(res, 200, { ...stats, grants });
      return;
    }
    if (url.pathname === '/test/withhold' && req.method === 'POST') {
      withheld = new Set((url.searchParams.get('scopes') || '').split(' ').filter(Boolean));
      json(res, 200, { withheld: [...withheld] });
      return;
    }
    // The next sign-in's ID token carries another nonce than the client sent (a token
    // from someone else's sign-in), its signature is broken, or it names another
    // account (fault=sub) than the one signed in (and GitLab's /api/v4/user names).
    if (url.pathname === '/test/id-token' && req.method === 'POST') {
      idTokenFault = url.searchParams.get('fault');
      json(res, 200, { fault: idTokenFault });
      return;
    }
    if (url.pathname === '/test/stale-jwks' && req.method === 'POST') {
      staleJwks = true;
      json(res, 200, { stale: true });
      return;
    }
    if (staleJwks && req.method === 'GET' && (url.pathname === '/jwks' || url.pathname === '/oauth/discovery/keys')) {
      staleJwks = false;
      stats.jwks_requests += 1;
      json(res, 200, { keys: [] });
      return;
    }
    const authorizePath = gitlab ? '/oauth/authorize' : '/auth';
    const tokenPath = gitlab ? '/oauth/token' : '/token';
    if (idTokenFault === 'nonce' && url.pathname === authorizePath && url.searchParams.has('nonce')) {
      idTokenFault = null;
      url.searchParams.set('nonce', 'nonce-of-another-sign-in');
      req.url = `${url.pathname}${url.search}`;
    }
    // The fault lasts until a token answer carries an ID token (a device sign-in's
    // first polls carry none).
    if (idTokenFault === 'signature' && url.pathname === tokenPath && req.method === 'POST') {
      breakSignature(res, () => { idTokenFault = null; });
    }
    if (withheld.size && (url.pathname === '/auth' || url.pathname === '/oauth/authorize')) {
      const scopes = (url.searchParams.get('scope') || '').split(' ').filter((s) => !withheld.has(s));
      url.searchParams.set('scope', scopes.join(' '));
      req.url = `${url.pathname}${url.search}`;
    }
    // GitLab's "who am I": the account behind a valid access token.
    if (gitlab && url.pathname === '/api/v4/user' && req.method === 'GET') {
      const token = (req.headers.authorization || '').replace(/^Bearer /i, '');
      provider.AccessToken.find(token).then(
        (found) => (found && !found.isExpired
          ? json(res, 200, { id: gitlabIdOf(found.accountId), username: found.accountId, email: `${found.accountId}@example.test` })
          : json(res, 401, { message: '401 Unauthorized' })),
        () => json(res, 401, { message: '401 Unauthorized' }),
      );
      return;
    }
    // GITLAB_GIT_ROOT: the bare repositories this GitLab serves over HTTP.
    if (gitlab && process.env.GITLAB_GIT_ROOT && isGitRequest(url)) {
      const findToken = (value) => provider.AccessToken.find(value);
      serveGit(req, res, url, { root: process.env.GITLAB_GIT_ROOT, findToken, stats });
      return;
    }
    if (url.pathname === '/test/revoke-grants' && req.method === 'POST') {
      const accountId = url.searchParams.get('sub');
      if (!accountId) {
        json(res, 400, { error: 'sub is required' });
        return;
      }
      revokeGrants(accountId).then(
        (revoked) => json(res, 200, { revoked }),
        (error) => {
          console.error('revoke-grants failed:', error);
          json(res, 500, { error: String(error) });
        },
      );
      return;
    }
    // The real discovery document under another path: its issuer is the root, so a
    // client that asked for <issuer>/liar must notice the mismatch.
    if (url.pathname === '/liar/.well-known/openid-configuration' && req.method === 'GET') {
      req.url = `/.well-known/openid-configuration${url.search}`;
    }
    providerCallback(req, res);
  });

  ready({ issuer, port: actualPort });
  console.error(`grantkeeper test OpenID provider at ${issuer}`);
});

server.on('error', (error) => {
  console.error('could not listen:', error.message);
  process.exit(1);
});

function stop() {
  server.close();
  server.closeAllConnections();
  process.exit(0);
}
endWithHarness(stop);

// Changes a character of the ID token's signature in the token response, keeping its
// length (Content-Length is already set when the body is written); calls `broken` when
// the answer had an ID token to break.
function breakSignature(res, broken) {
  const end = res.end.bind(res);
  res.end = (chunk, ...rest) => {
    const text = Buffer.isBuffer(chunk) ? chunk.toString('utf8') : chunk;
    // The first character of the signature: all six of its bits are signature bits.
    const body = typeof text === 'string'
      ? text.replace(/("id_token":"[^".]+\.[^".]+\.)(.)/, (_, head, first) => {
        broken();
        return `${head}${first === 'A' ? 'g' : 'A'}`;
      })
      : text;
    return end(body, ...rest);
  };
}
