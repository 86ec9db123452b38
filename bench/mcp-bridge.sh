#!/usr/bin/env bash
# What `grantkeeper mcp bridge` adds: the MCP reference SDK's client calls a tool of the
# SDK's example server (with OAuth, --oauth-strict) 1,000 times straight over
# Streamable HTTP with a bearer token, and 1,000 times through the bridge over stdio,
# in alternating rounds in one run. Targets: median added latency per call at most
# 2 ms; start to first answer at most 50 ms beyond the direct client's; the bridge's
# RSS at most 15 MiB. The bridge reads its token itself (GRANTKEEPER_NO_AGENT=1): this
# measures the bridge, not the token agent (bench/token-speed.sh does that).
#
#   tests/support/session.sh -- bench/mcp-bridge.sh [--rounds N] [--calls N]
#   bench/mcp-bridge.sh ...      (enters a private session itself)
#
# Defaults: 10 rounds of 100 calls each way. Builds the release CLI (honours
# CARGO_TARGET_DIR); `npm ci` in tests/mcp and tests/oidc when missing. Exits 1 when a
# target is missed.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
. bench/lib.sh

rounds=10 calls=100
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --calls) calls=$2; shift 2 ;;
    *) echo "usage: $0 [--rounds N] [--calls N]" >&2; exit 2 ;;
  esac
done

if [ "${_MCP_BRIDGE_READY:-}" != 1 ]; then
  for dir in tests/mcp tests/oidc; do
    [ -d "$dir/node_modules" ] || npm ci --prefix "$dir" --silent
  done
  CARGO_INCREMENTAL=0 cargo build --release --locked -p grantkeeper-cli
  export _MCP_BRIDGE_READY=1
fi
if [ "${GRANTKEEPER_TEST_SESSION:-}" != 1 ]; then
  exec tests/support/session.sh -- "$repo/bench/mcp-bridge.sh" --rounds "$rounds" --calls "$calls"
fi
unset _MCP_BRIDGE_READY

gk=${CARGO_TARGET_DIR:-$repo/target}/release/grantkeeper
scratch=$(mktemp -d "${TMPDIR:-/tmp}/mcp-bridge.XXXXXX")
export GRANTKEEPER_HOME=$scratch/home GRANTKEEPER_NO_AGENT=1
export GRANTKEEPER_KEYCHAIN_SERVICE=grantkeeper-bench-$(tr -d - </proc/sys/kernel/random/uuid)
export GRANTKEEPER_BROWSER="env GRANTKEEPER_TEST_BROWSER_MODE=consent GRANTKEEPER_TEST_LOGIN=bench node $repo/tests/oidc/browser.mjs"
unset GRANTKEEPER_LOG BROWSER

server_pid=
cleanup() {
  secret-tool clear service "$GRANTKEEPER_KEYCHAIN_SERVICE" 2>/dev/null || true
  [ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null || true
  rm -rf "$scratch"
}
trap cleanup EXIT

# The SDK's example server; it stops when its stdin (this coprocess pipe) closes.
start_coprocess SERVER server_pid ready "the example server" "$scratch/server.log" \
  node "$repo/tests/mcp/example.mjs" --strict
url=$(sed -n 's/.*"url":"\([^"]*\)".*/\1/p' <<<"$ready")
"$gk" connect --url "$url" --name Example >/dev/null 2>"$scratch/connect.log" || {
  cat "$scratch/connect.log" >&2
  exit 1
}
token=$("$gk" token Example)

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
result=$(node bench/mcp-bridge.mjs "$url" "$token" "$rounds" "$calls" -- "$gk" mcp bridge Example)
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

node - "$result" <<'JS'
const result = JSON.parse(process.argv[2]);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) * p)];
const { direct, bridge } = result;
const row = (name, way) => console.log(
  `${name.padEnd(8)}${String(way.times.length).padStart(6)}${median(way.times).toFixed(2).padStart(11)}` +
  `${pct(way.times, 0.95).toFixed(2).padStart(10)}${median(way.start).toFixed(1).padStart(14)}`);
console.log('way      calls  median ms  p95 ms  start to first ms (median)');
row('direct', direct);
row('bridge', bridge);
const added = median(bridge.times) - median(direct.times);
const startAdded = median(bridge.start) - median(direct.start);
const hwm = Math.max(...bridge.memory.map((m) => m.hwm_kib)) / 1024;
const rss = Math.max(...bridge.memory.map((m) => m.rss_kib)) / 1024;
const anon = Math.max(...bridge.memory.map((m) => m.anon_kib)) / 1024;
const verdict = (ok) => (ok ? 'met' : 'MISSED');
console.log(`\nadded latency per call (median)   ${added.toFixed(2)} ms   (target <= 2 ms: ${verdict(added <= 2)})`);
console.log(`start to first answer, added      ${startAdded.toFixed(1)} ms   (target <= 50 ms: ${verdict(startAdded <= 50)})`);
console.log(`bridge RSS, most at a round's end ${rss.toFixed(1)} MiB (peak ${hwm.toFixed(1)} MiB; target <= 15 MiB: ${verdict(rss <= 15)})`);
console.log(`  of which anonymous (heap, stacks) ${anon.toFixed(1)} MiB; the rest is the binary and libraries mapped`);
process.exit(added <= 2 && startAdded <= 50 && rss <= 15 ? 0 : 1);
JS
