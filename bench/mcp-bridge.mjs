// Per-request cost of `grantkeeper mcp bridge`: the MCP reference SDK's client calls a
// tool of the SDK's example server, alternately straight over Streamable HTTP with a
// bearer token and through the bridge over stdio, in rounds. Run by bench/mcp-bridge.sh:
//
//   node bench/mcp-bridge.mjs URL TOKEN ROUNDS CALLS -- COMMAND ARGS…
//
// Prints one JSON line: per-call times (ms) of each way, start-to-first-answer times
// (ms, from creating the client to the first tool result: for the bridge this includes
// starting it), and the bridge's VmRSS/VmHWM (KiB) at the end of each round.
import { performance } from 'node:perf_hooks';
import fs from 'node:fs';

const sdk = (path) => import(new URL(`../tests/mcp/node_modules/@modelcontextprotocol/sdk/dist/esm/${path}`, import.meta.url));
const { Client } = await sdk('client/index.js');
const { StdioClientTransport } = await sdk('client/stdio.js');
const { StreamableHTTPClientTransport } = await sdk('client/streamableHttp.js');

const args = process.argv.slice(2);
const split = args.indexOf('--');
const [url, token, rounds, calls] = args.slice(0, split);
const [command, ...commandArgs] = args.slice(split + 1);
const passed = Object.fromEntries(Object.entries(process.env).filter(([name]) =>
  name.startsWith('GRANTKEEPER_') || ['DBUS_SESSION_BUS_ADDRESS', 'HOME', 'XDG_RUNTIME_DIR', 'PATH', 'TMPDIR'].includes(name)));

const memory = (pid) => {
  const read = (file) => fs.readFileSync(`/proc/${pid}/${file}`, 'utf8');
  const field = (text, name) => Number(text.match(new RegExp(`^${name}:\\s+(\\d+)`, 'm'))[1]);
  const [status, rollup] = [read('status'), read('smaps_rollup')];
  // Anonymous: the heap and stacks; the rest of RSS is mapped files (the binary, libraries).
  return { rss_kib: field(status, 'VmRSS'), hwm_kib: field(status, 'VmHWM'), anon_kib: field(rollup, 'Anonymous') };
};

async function round(way) {
  const transport = way === 'bridge'
    ? new StdioClientTransport({ command, args: commandArgs, env: passed, stderr: 'inherit' })
    : new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } });
  const client = new Client({ name: 'grantkeeper-bench', version: '1.0.0' });
  const greet = () => client.callTool({ name: 'greet', arguments: { name: 'Ada' } });
  const started = performance.now();
  await client.connect(transport);
  await greet();
  const startToFirst = performance.now() - started;
  const times = [];
  for (let i = 0; i < Number(calls); i += 1) {
    const at = performance.now();
    await greet();
    times.push(performance.now() - at);
  }
  const used = way === 'bridge' ? memory(transport._process.pid) : null;
  await client.close();
  return { startToFirst, times, used };
}

const result = { direct: { times: [], start: [] }, bridge: { times: [], start: [], memory: [] } };
for (let i = 0; i < Number(rounds); i += 1) {
  // Every other round the other way first, so a burst of load lands on both.
  for (const way of i % 2 === 0 ? ['direct', 'bridge'] : ['bridge', 'direct']) {
    const { startToFirst, times, used } = await round(way);
    result[way].start.push(startToFirst);
    result[way].times.push(...times);
    if (used) result.bridge.memory.push(used);
  }
}
process.stdout.write(`${JSON.stringify(result)}\n`);
