// A real OpenID provider for Grantkeeper's tests: the unmodified npm `oidc-provider`
// on an ephemeral loopback port, plus a few /test/ endpoints for assertions.
// Prints one JSON line {"issuer", "port"} on stdout when ready; logs go to stderr.
import http from 'node:http';
import Provider from 'oidc-provider';

const accessTokenTtl = Number(process.env.OIDC_ACCESS_TOKEN_TTL || 3600);
const stats = { token_requests: {}, userinfo_requests: 0 };
const grantsByAccount = new Map();

const nativeClient = (clientId, redirectHost, extra = {}) => ({
  client_id: clientId,
  application_type: 'native',
  token_endpoint_auth_method: 'none',
  redirect_uris: [`http://${redirectHost}/callback`],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  ...extra,
});

const configuration = {
  clients: [
    nativeClient('grantkeeper-test', '127.0.0.1'),
    nativeClient('grantkeeper-localhost', 'localhost'),
    nativeClient('grantkeeper-confidential', '127.0.0.1', {
      client_secret: 'canary-client-secret-7f3a',
      token_endpoint_auth_method: 'client_secret_basic',
    }),
  ],
  pkce: { methods: ['S256'], required: () => true },
  scopes: ['openid', 'email', 'profile', 'offline_access'],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  // Any login is an account: sub = the login, email = <login>@example.test.
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: `${id}@example.test`, email_verified: true, name: id.charAt(0).toUpperCase() + id.slice(1) };
      },
    };
  },
  features: {
    devInteractions: { enabled: true },
    revocation: { enabled: true },
    introspection: { enabled: true },
    userinfo: { enabled: true },
  },
  async issueRefreshToken(ctx, client, code) {
    return client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access');
  },
  rotateRefreshToken: true,
  ttl: { AccessToken: accessTokenTtl, IdToken: 3600, RefreshToken: 14 * 24 * 3600, Interaction: 600, Session: 600, Grant: 14 * 24 * 3600 },
  cookies: { keys: ['grantkeeper-test-cookie-key'] },
};

const server = http.createServer();
server.listen(Number(process.env.OIDC_PORT || 0), '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, configuration);

  provider.on('grant.saved', (grant) => {
    if (!grantsByAccount.has(grant.accountId)) grantsByAccount.set(grant.accountId, new Set());
    grantsByAccount.get(grant.accountId).add(grant.jti);
  });
  provider.on('server_error', (ctx, error) => console.error('oidc-provider server_error', error));

  // Count what the token and userinfo endpoints actually receive, failures included.
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.method === 'POST' && ctx.path === '/token') {
      const grantType = ctx.oidc?.params?.grant_type ?? 'unknown';
      stats.token_requests[grantType] = (stats.token_requests[grantType] ?? 0) + 1;
    }
    if (ctx.path === '/me') stats.userinfo_requests += 1;
  });

  const providerCallback = provider.callback();
  server.on('request', async (req, res) => {
    const url = new URL(req.url, issuer);
    if (req.method === 'GET' && url.pathname === '/test/stats') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(stats));
      return;
    }
    if (req.method === 'POST' && url.pathname === '/test/revoke-grants') {
      const account = url.searchParams.get('sub');
      let revoked = 0;
      for (const grantId of grantsByAccount.get(account) ?? []) {
        for (const Model of [provider.AccessToken, provider.RefreshToken, provider.AuthorizationCode]) {
          await Model.adapter.revokeByGrantId(grantId);
        }
        await provider.Grant.adapter.destroy(grantId);
        revoked += 1;
      }
      grantsByAccount.delete(account);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ revoked }));
      return;
    }
    // A discovery document served under another path: its issuer names the root, so a
    // client that asked for <issuer>/liar must notice the mismatch.
    if (url.pathname.startsWith('/liar/')) req.url = req.url.slice('/liar'.length);
    providerCallback(req, res);
  });

  process.stdout.write(`${JSON.stringify({ issuer, port })}\n`);
});

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// When the harness that started us goes away, so do we.
if (!process.stdin.isTTY) {
  process.stdin.on('end', stop);
  process.stdin.on('close', stop);
  process.stdin.resume();
}
