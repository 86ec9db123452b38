// The reference SDK's MCP client over stdio, as an AI client runs a local server:
//
//   node tests/mcp/client.mjs [--calls N] [--tool NAME] [--oversize BYTES] -- COMMAND ARGS…
//
// Launches COMMAND (e.g. `grantkeeper mcp bridge ID`), lists its tools, with --oversize
// calls `greet` once with a name of BYTES characters, then calls `greet` with name "Ada"
// N times (default 1), then NAME once if given, and prints one line:
//   {"tools":[…],"results":[…],"error":null|"…","child_exit":CODE|null,"child_stderr":"…"}
// (with --oversize also "oversize_error": the error that call ended with, or null).
// The child gets GRANTKEEPER_* variables, the session's bus, paths and TMPDIR passed on (the
// SDK gives a stdio server a reduced environment). Exits 0 unless used wrongly (2).
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const args = process.argv.slice(2);
const split = args.indexOf('--');
if (split < 0 || split === args.length - 1) {
  console.error('usage: node client.mjs [--calls N] [--tool NAME] [--oversize BYTES] -- COMMAND ARGS…');
  process.exit(2);
}
const option = (name) => {
  const at = args.indexOf(name);
  return at >= 0 && at < split ? args[at + 1] : undefined;
};
const calls = Number(option('--calls') ?? 1);
const extraTool = option('--tool');
const oversize = Number(option('--oversize') ?? 0);
const [command, ...commandArgs] = args.slice(split + 1);

const passed = Object.fromEntries(Object.entries(process.env).filter(([name]) =>
  name.startsWith('GRANTKEEPER_') || ['DBUS_SESSION_BUS_ADDRESS', 'HOME', 'XDG_RUNTIME_DIR', 'PATH', 'TMPDIR'].includes(name)));
const transport = new StdioClientTransport({ command, args: commandArgs, env: passed, stderr: 'pipe' });
let childStderr = '';
transport.stderr?.on('data', (chunk) => { childStderr += chunk; });
// The SDK forgets its child on close: keep hold of it, from its start, for the exit code.
let childExit = Promise.resolve(null);
const start = transport.start.bind(transport);
transport.start = async () => {
  await start();
  const child = transport._process;
  childExit = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
};

const outcome = { tools: [], results: [], error: null };
const client = new Client({ name: 'grantkeeper-test-client', version: '1.0.0' });
const text = (result) => result.content?.map((part) => part.text).join('') ?? JSON.stringify(result);
try {
  await client.connect(transport);
  outcome.tools = (await client.listTools()).tools.map((tool) => tool.name);
  if (oversize) {
    try {
      await client.callTool({ name: 'greet', arguments: { name: 'x'.repeat(oversize) } });
      outcome.oversize_error = null;
    } catch (error) {
      outcome.oversize_error = String(error?.message ?? error);
    }
  }
  for (let i = 0; i < calls; i += 1) {
    outcome.results.push(text(await client.callTool({ name: 'greet', arguments: { name: 'Ada' } })));
  }
  if (extraTool) outcome.results.push(text(await client.callTool({ name: extraTool, arguments: {} })));
} catch (error) {
  outcome.error = String(error?.message ?? error);
}
// Closing stdin ends the bridge; wait for its exit code (bounded).
await client.close().catch(() => {});
const exitCode = await Promise.race([childExit, new Promise((resolve) => setTimeout(() => resolve(null), 5000))]);
process.stdout.write(`${JSON.stringify({ ...outcome, child_exit: exitCode, child_stderr: childStderr })}\n`);
