// The MCP reference SDK's own example server with OAuth, unmodified:
//
//   node tests/mcp/example.mjs [--strict]
//
// `simpleStreamableHttp.js --oauth` serves MCP at http://localhost:PORT/mcp with a demo
// authorization server on AUTH (dynamic registration, auto-approving /authorize, PKCE
// S256, no refresh tokens); --strict adds `--oauth-strict`, so the server takes only
// tokens issued for its own URL (RFC 8707). Prints one line when both listen:
//   {"url":"http://localhost:PORT/mcp","auth_issuer":"http://localhost:AUTH/","port":PORT,"auth_port":AUTH}
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { endWithHarness, freePorts, listening, ready } from '../support/harness.mjs';

const strict = process.argv.includes('--strict');
// The examples are not among the package's exports: found by path.
const example = fileURLToPath(new URL(
  './node_modules/@modelcontextprotocol/sdk/dist/esm/examples/server/simpleStreamableHttp.js', import.meta.url,
));

const [port, authPort] = await freePorts(2);
const child = spawn(process.execPath, [example, '--oauth', ...(strict ? ['--oauth-strict'] : [])], {
  env: { ...process.env, MCP_PORT: String(port), MCP_AUTH_PORT: String(authPort) },
  stdio: ['ignore', 'pipe', 'inherit'],
});
// Its own logging goes to our stderr; our stdout is the ready line.
child.stdout.pipe(process.stderr);
child.on('exit', (code) => {
  console.error(`the SDK example exited with ${code}`);
  process.exit(1);
});
endWithHarness(() => {
  child.removeAllListeners('exit');
  child.kill('SIGTERM');
  process.exit(0);
});

await Promise.all([listening(port), listening(authPort)]);
// Its metadata names `localhost`, so its URLs must too.
ready({ url: `http://localhost:${port}/mcp`, auth_issuer: `http://localhost:${authPort}/`, port, auth_port: authPort });
