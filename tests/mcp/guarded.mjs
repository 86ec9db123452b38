// An MCP server made of the reference SDK's parts (McpServer, its Streamable HTTP
// transport), guarded by a real OpenID provider (the unmodified npm `oidc-provider` 8)
// that has what the SDK's demo authorization server lacks: refresh tokens (rotated),
// revocation, open dynamic registration (RFC 7591) with management (RFC 7592), and
// resource indicators (RFC 8707) that bind each access token to the MCP URL.
//
//   node tests/mcp/guarded.mjs       prints {"url":…,"issuer":…,"port":…,"auth_port":…}
//
// MCP_ACCESS_TOKEN_TTL sets the access tokens' lifetime (default 3600 s);
// MCP_CLIENT_METADATA_DOCUMENTS=1 makes the authorization server take client ID metadata
// documents (a client_id that is a URL). See README.md for the /test/ endpoints.
import { randomUUID } from 'node:crypto';
import http from 'node:http';

import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import Provider from 'oidc-provider';
import MemoryAdapter from 'oidc-provider/lib/adapters/memory_adapter.js';
import * as z from 'zod/v4';

import { endWithHarness, json, ready } from '../support/harness.mjs';

const SCOPES = ['mcp:tools', 'mcp:admin'];
const accessTokenTtl = Number(process.env.MCP_ACCESS_TOKEN_TTL || 3600);
const takesMetadataDocuments = process.env.MCP_CLIENT_METADATA_DOCUMENTS === '1';

const stats = {
  registrations: 0, authorizations: 0, token_code: 0, token_refresh: 0, revocations: 0,
  mcp_requests: 0, mcp_401: 0, mcp_403: 0, documents_fetched: 0,
};
const grants = new Set();
const registered = []; // { uri, token }: how to delete each registration (RFC 7592)
let refuseRegistration = false;
// Access tokens issued before this instant are refused by the MCP server (/test/expire-access).
let accessTokensValidFrom = 0;
// The MCP server refuses every token, even one just renewed (/test/refuse-every-token).
let refuseEveryToken = false;

const authServer = http.createServer();
const mcpServer = http.createServer();
await Promise.all([authServer, mcpServer].map((s) => new Promise((resolve) => s.listen(0, '127.0.0.1', resolve))));
const issuer = `http://127.0.0.1:${authServer.address().port}`;
const mcpOrigin = `http://127.0.0.1:${mcpServer.address().port}`;
const mcpUrl = `${mcpOrigin}/mcp`;
const metadataUrl = `${mcpOrigin}/.well-known/oauth-protected-resource/mcp`;

// oidc-provider has no client ID metadata documents of its own: a client_id that is a
// URL is looked up as the document published there, which must name itself.
class MetadataDocumentClients extends MemoryAdapter {
  async find(id) {
    if (this.model !== 'Client' || !takesMetadataDocuments || !/^https?:\/\//.test(id)) return super.find(id);
    stats.documents_fetched += 1;
    const response = await fetch(id, { redirect: 'error' }).catch(() => undefined);
    const document = response?.ok ? await response.json().catch(() => undefined) : undefined;
    return document?.client_id === id ? document : undefined;
  }
}

const provider = new Provider(issuer, {
  adapter: MetadataDocumentClients,
  discovery: { client_id_metadata_document_supported: takesMetadataDocuments },
  features: {
    devInteractions: { enabled: true }, // the stand-in browser signs in and consents here
    registration: { enabled: true },
    registrationManagement: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => mcpUrl,
      useGrantedResource: () => true,
      getResourceServerInfo(ctx, indicator) {
        if (indicator !== mcpUrl) throw new Provider.errors.InvalidTarget();
        return { scope: SCOPES.join(' '), audience: mcpUrl, accessTokenTTL: accessTokenTtl, accessTokenFormat: 'opaque' };
      },
    },
  },
  pkce: { methods: ['S256'], required: () => true },
  async issueRefreshToken(ctx, client) {
    return client.grantTypeAllowed('refresh_token');
  },
  rotateRefreshToken: true,
  clockTolerance: 0,
  async findAccount(ctx, id) {
    return { accountId: id, async claims() { return { sub: id }; } };
  },
  cookies: { keys: ['grantkeeper-test-mcp-cookie-key'] },
});
provider.proxy = false;
provider.on('grant.saved', (grant) => grants.add(grant.jti));
provider.on('registration_create.success', (ctx) => {
  stats.registrations += 1;
  registered.push({ uri: ctx.body.registration_client_uri, token: ctx.body.registration_access_token });
});
provider.on('authorization.success', () => { stats.authorizations += 1; });
provider.on('grant.success', (ctx) => {
  const type = ctx.oidc.params.grant_type;
  if (type === 'authorization_code') stats.token_code += 1;
  if (type === 'refresh_token') stats.token_refresh += 1;
});
// oidc-provider has no event for a revocation it answered; count the answers.
provider.use(async (ctx, next) => {
  await next();
  if (ctx.method === 'POST' && ctx.path === '/token/revocation' && ctx.status === 200) stats.revocations += 1;
});
provider.on('server_error', (ctx, error) => console.error('oidc-provider server_error:', error));

const providerCallback = provider.callback();
authServer.on('request', (req, res) => {
  const url = new URL(req.url, issuer);
  if (url.pathname.startsWith('/test/')) {
    testEndpoint(url, res);
    return;
  }
  if (refuseRegistration && url.pathname === '/reg' && req.method === 'POST') {
    json(res, 400, { error: 'invalid_client_metadata', error_description: 'registration is closed' });
    return;
  }
  providerCallback(req, res);
});

async function testEndpoint(url, res) {
  switch (url.pathname) {
    case '/test/stats':
      return json(res, 200, stats);
    case '/test/revoke-all':
      // As if the person revoked the app at the server: every grant and its tokens end.
      for (const id of grants) {
        await Promise.all([provider.AccessToken, provider.RefreshToken, provider.AuthorizationCode]
          .map((model) => model.revokeByGrantId(id)));
        await (await provider.Grant.find(id))?.destroy();
      }
      grants.clear();
      accessTokensValidFrom = Date.now() / 1000;
      return json(res, 200, { revoked: true });
    case '/test/expire-access':
      accessTokensValidFrom = Math.ceil(Date.now() / 1000);
      // Tokens issued in this same second must still count as older.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      return json(res, 200, { expired: true });
    case '/test/forget-clients':
      // Each registration deleted as RFC 7592 does it: the server no longer knows it.
      for (const { uri, token } of registered.splice(0)) {
        await fetch(uri, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
      }
      return json(res, 200, { forgotten: true });
    case '/test/refuse-every-token':
      refuseEveryToken = url.searchParams.get('on') === '1';
      return json(res, 200, { refuse: refuseEveryToken });
    case '/test/refuse-registration':
      refuseRegistration = url.searchParams.get('on') === '1';
      return json(res, 200, { refuse: refuseRegistration });
    default:
      return json(res, 404, { error: 'no such test endpoint' });
  }
}

// The MCP side: one SDK server and transport per session.
function newMcpServer() {
  const server = new McpServer({ name: 'grantkeeper-guarded-test', version: '1.0.0' });
  server.registerTool('greet', { description: 'Greets someone', inputSchema: { name: z.string() } },
    async ({ name }) => ({ content: [{ type: 'text', text: `Hello, ${name}!` }] }));
  server.registerTool('whoami', { description: 'What the token is for' },
    async (extra) => ({ content: [{ type: 'text', text: JSON.stringify(extra.authInfo?.extra ?? {}) }] }));
  server.registerTool('admin_only', { description: 'Needs mcp:admin' },
    async () => ({ content: [{ type: 'text', text: 'admin tool ran' }] }));
  return server;
}
const transports = new Map();

/** The bearer token's grant as the server sees it, or why it is refused. */
async function tokenOf(req) {
  const match = /^Bearer\s+(.+)$/i.exec(req.headers.authorization || '');
  if (!match) return { refused: 'no token' };
  const token = await provider.AccessToken.find(match[1]);
  if (!token || token.isExpired) return { refused: 'unknown or expired token' };
  if (token.iat < accessTokensValidFrom || refuseEveryToken) return { refused: 'token no longer valid' };
  const audience = [token.aud].flat();
  if (!audience.includes(mcpUrl)) return { refused: 'token for another resource' };
  return { token, scopes: new Set((token.scope || '').split(' ')) };
}

function challenge(res, status, error, scope) {
  const header = `Bearer error="${error}", scope="${scope}", resource_metadata="${metadataUrl}"`;
  if (status === 401) stats.mcp_401 += 1; else stats.mcp_403 += 1;
  json(res, status, { error }, { 'www-authenticate': header });
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : undefined;
}

mcpServer.on('request', async (req, res) => {
  const url = new URL(req.url, mcpOrigin);
  try {
    if (url.pathname === '/.well-known/oauth-protected-resource/mcp') {
      return json(res, 200, {
        resource: mcpUrl, authorization_servers: [issuer], scopes_supported: SCOPES,
        bearer_methods_supported: ['header'], resource_name: 'Grantkeeper guarded test server',
      });
    }
    if (url.pathname === '/test/stats') return json(res, 200, stats);
    if (url.pathname !== '/mcp') return json(res, 404, { error: 'not found' });
    stats.mcp_requests += 1;
    const body = req.method === 'POST' ? await readBody(req) : undefined;
    const granted = await tokenOf(req);
    if (granted.refused) return challenge(res, 401, 'invalid_token', 'mcp:tools');
    const calls = [body].flat().filter((m) => m?.method === 'tools/call');
    if (calls.some((m) => m.params?.name === 'admin_only') && !granted.scopes.has('mcp:admin')) {
      return challenge(res, 403, 'insufficient_scope', 'mcp:tools mcp:admin');
    }
    req.auth = {
      token: 'not shown', clientId: granted.token.clientId, scopes: [...granted.scopes],
      extra: { audience: granted.token.aud, scopes: [...granted.scopes] },
    };
    const sessionId = req.headers['mcp-session-id'];
    let transport = sessionId && transports.get(sessionId);
    if (!transport) {
      if (sessionId) return json(res, 404, { jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null });
      transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => transports.set(id, transport),
      });
      transport.onclose = () => transports.delete(transport.sessionId);
      await newMcpServer().connect(transport);
    }
    await transport.handleRequest(req, res, body);
  } catch (error) {
    console.error('MCP request failed:', error);
    if (!res.headersSent) json(res, 500, { error: String(error) });
  }
});

endWithHarness(() => {
  authServer.closeAllConnections();
  mcpServer.closeAllConnections();
  process.exit(0);
});
ready({ url: mcpUrl, issuer, port: mcpServer.address().port, auth_port: authServer.address().port });
