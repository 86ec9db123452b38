// What the test servers (tests/oidc, tests/mcp) share: stdout carries one JSON "ready"
// line and nothing else; the process ends on SIGTERM/SIGINT and when the harness that
// started it goes away (its stdin pipe closes).
import fs from 'node:fs';
import net from 'node:net';

// Libraries' chatter goes to stderr: stdout is the ready line only.
for (const method of ['log', 'info', 'debug']) console[method] = console.error;

export function ready(fields) {
  process.stdout.write(`${JSON.stringify(fields)}\n`);
}

export function endWithHarness(stop) {
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  let stat;
  try {
    stat = fs.fstatSync(0);
  } catch {
    return; // no stdin at all
  }
  // Only a pipe or socket: a TTY never ends, and /dev/null ends at once.
  if (!process.stdin.isTTY && (stat.isFIFO() || stat.isSocket())) {
    for (const event of ['end', 'close', 'error']) process.stdin.on(event, stop);
    process.stdin.resume();
  }
}

/** `count` different ports nothing listens on now (bound and released). */
export async function freePorts(count) {
  // Every probe stays open until all have a port, so no two get the same one.
  const probes = await Promise.all(Array.from({ length: count }, () => new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => resolve(probe));
  })));
  const ports = probes.map((probe) => probe.address().port);
  await Promise.all(probes.map((probe) => new Promise((resolve) => probe.close(resolve))));
  return ports;
}

/** Resolves once something accepts connections on `port`, or rejects after `ms`. */
export async function listening(port, ms = 15_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const open = await new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => { socket.end(); resolve(true); });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${port} after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export function json(res, status, body, headers = {}) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
}
