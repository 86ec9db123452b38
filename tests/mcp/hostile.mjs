// Broken and hostile MCP servers, one per path prefix, so a test can check each refusal
// alone (node:http, no SDK: these answer what no real server library would):
//
//   node tests/mcp/hostile.mjs        prints {"base":"http://127.0.0.1:PORT","port":PORT}
//
// The resource of case C is BASE/C/mcp; its protected resource metadata is BASE/C/prm
// (named by the 401's WWW-Authenticate) and its authorization server BASE/C/as. Every
// document is valid except for the one fault its case is named after (README.md).
// GET /test/requests lists the paths requested so far; GET /test/resources the RFC 8707
// `resource` parameters its authorization servers were sent, in order.
import { createHash, randomUUID } from 'node:crypto';
import http from 'node:http';

import { endWithHarness, json, ready } from '../support/harness.mjs';

const requests = [];
const resources = [];
const codes = new Map(); // code -> PKCE challenge
const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const port = server.address().port;
const base = `http://127.0.0.1:${port}`;

/** Metadata of a working authorization server for `name`, with `changes` applied. */
function authorizationServer(name, changes = {}) {
  const issuer = `${base}/${name}/as`;
  return {
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    registration_endpoint: `${issuer}/register`,
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_methods_supported: ['none'],
    code_challenge_methods_supported: ['S256'],
    ...changes,
  };
}

function resourceMetadata(name, changes = {}) {
  return {
    resource: `${base}/${name}/mcp`,
    authorization_servers: [`${base}/${name}/as`],
    scopes_supported: ['mcp:tools'],
    ...changes,
  };
}

// case -> what its documents say; `prm` and `as` are JSON unless a function answers.
const CASES = {
  'other-resource': { prm: resourceMetadata('other-resource', { resource: 'https://elsewhere.example/mcp' }) },
  'issuer-mismatch': { as: authorizationServer('issuer-mismatch', { issuer: `${base}/someone-else` }) },
  'no-s256': { as: authorizationServer('no-s256', { code_challenge_methods_supported: ['plain'] }) },
  'no-pkce-listed': { as: authorizationServer('no-pkce-listed', { code_challenge_methods_supported: undefined }) },
  'registration-refused': {},
  'registration-busy': {},
  // Its metadata only at the root, naming the origin (as Cloudflare's OAuth provider does).
  'root-only': { quiet: true },
  // Answers its own URL with a redirect to the same with a slash (as Starlette does).
  moved: {},
  // Its authorization server's first OpenID location answers with another issuer's
  // configuration; its OAuth metadata is right.
  'openid-elsewhere': {},
  // Answers a request with 202 and nothing else, against Streamable HTTP.
  'accepts-silently': {},
  'no-registration': { as: authorizationServer('no-registration', { registration_endpoint: undefined }) },
  html: { prm: (res) => { res.writeHead(200, { 'content-type': 'text/html' }); res.end('<html><body>Sign in</body></html>'); } },
  'endless-401': { prm: (res) => unauthorized(res, 'endless-401'), as: (res) => unauthorized(res, 'endless-401') },
  redirect: { prm: (res) => { res.writeHead(302, { location: `http://127.0.0.2:${port}/redirect/prm` }); res.end(); } },
  'no-www-authenticate': { quiet: true },
  // Down for maintenance: its URL answers 503.
  busy: {},
};

function unauthorized(res, name, quiet = false) {
  const headers = quiet ? {} : { 'www-authenticate': `Bearer resource_metadata="${base}/${name}/prm"` };
  json(res, 401, { error: 'unauthorized' }, headers);
}

function answer(res, document) {
  if (typeof document === 'function') return document(res);
  return json(res, 200, document);
}

server.on('request', async (req, res) => {
  const url = new URL(req.url, base);
  requests.push(url.pathname);
  if (url.pathname === '/test/requests') return json(res, 200, requests);
  if (url.pathname === '/test/resources') return json(res, 200, resources);
  if (url.pathname === '/.well-known/openid-configuration/openid-elsewhere/as') {
    return json(res, 200, authorizationServer('openid-elsewhere', { issuer: base }));
  }
  if (url.pathname === '/.well-known/oauth-protected-resource') {
    return json(res, 200, { resource: base, authorization_servers: [`${base}/root-only/as`] });
  }
  // RFC 9728 and RFC 8414 well-known locations, path inserted after the host.
  const wellKnown = /^\/\.well-known\/(oauth-protected-resource|oauth-authorization-server)\/([^/]+)\/(mcp|as)$/
    .exec(url.pathname);
  if (wellKnown) {
    const [, kind, name] = wellKnown;
    if (!CASES[name]) return json(res, 404, { error: 'not found' });
    if (kind === 'oauth-authorization-server') return answer(res, CASES[name].as ?? authorizationServer(name));
    // Only the case without a challenge publishes its metadata at the well-known place.
    return name === 'no-www-authenticate' ? json(res, 200, resourceMetadata(name)) : json(res, 404, {});
  }
  const [, name, rest] = /^\/([^/]+)\/(.*)$/.exec(url.pathname) ?? [];
  const fault = CASES[name];
  if (!fault) return json(res, 404, { error: 'not found' });
  switch (rest) {
    case 'mcp':
      if (name === 'busy') return json(res, 503, { error: 'down for maintenance' });
      if (name === 'moved') {
        res.writeHead(307, { location: `/${name}/mcp/` });
        return res.end();
      }
      if (req.headers.authorization === 'Bearer hostile-test-token') {
        if (name === 'accepts-silently') return (res.writeHead(202), res.end());
        return json(res, 200, { jsonrpc: '2.0', id: 1, result: {} });
      }
      return unauthorized(res, name, fault.quiet);
    case 'prm':
      return fault.quiet ? json(res, 404, {}) : answer(res, fault.prm ?? resourceMetadata(name));
    case 'as/register': {
      if (name === 'registration-refused') {
        return json(res, 400, { error: 'invalid_client_metadata', error_description: 'registration is closed here' });
      }
      if (name === 'registration-busy') return json(res, 429, { error: 'slow_down' }, { 'retry-after': '30' });
      const metadata = JSON.parse(await text(req));
      return json(res, 201, { ...metadata, client_id: randomUUID(), client_id_issued_at: Math.floor(Date.now() / 1000) });
    }
    case 'as/authorize': {
      // Approves at once, as the SDK's demo does.
      const code = randomUUID();
      resources.push(url.searchParams.get('resource'));
      codes.set(code, url.searchParams.get('code_challenge'));
      const back = new URL(url.searchParams.get('redirect_uri'));
      back.searchParams.set('code', code);
      back.searchParams.set('state', url.searchParams.get('state'));
      res.writeHead(302, { location: back.toString() });
      return res.end();
    }
    case 'as/token': {
      const form = new URLSearchParams(await text(req));
      resources.push(form.get('resource'));
      const challenge = codes.get(form.get('code'));
      codes.delete(form.get('code'));
      const verified = challenge && createHash('sha256').update(form.get('code_verifier') || '').digest('base64url') === challenge;
      if (!verified) return json(res, 400, { error: 'invalid_grant' });
      return json(res, 200, { access_token: 'hostile-test-token', token_type: 'Bearer', expires_in: 3600, scope: 'mcp:tools' });
    }
    default:
      return json(res, 404, { error: 'not found' });
  }
});

async function text(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

endWithHarness(() => {
  server.closeAllConnections();
  process.exit(0);
});
ready({ base, port });
