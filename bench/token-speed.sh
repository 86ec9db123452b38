#!/usr/bin/env bash
# How long `grantkeeper token CONNECTION` takes to hand a script a token it already has,
# through the running app's token agent (an allowed program) and by the direct path
# (`--no-agent`: the CLI reads the keychain itself), next to (a) `secret-tool lookup` of
# one item, the floor: one Secret Service read, and (b) `gh auth token`, a CLI that
# prints a token from its own config file. Targets: through the agent at most 0.5x
# secret-tool's median and 2 ms CPU per call; direct at most 1.0x secret-tool's and at
# most a third of gh's; the agent adds at most 2 MiB to its process at idle, and once
# its activity log is full (5,000 hand-outs) 1,000 more in a row leave that process's
# RSS flat (at most 0.25 MiB more). Also times a
# `grantkeeper token` that must refresh at the local OpenID provider first, and
# `grantkeeper exec CONNECTION -- true` through the agent (the token into a command's
# environment; `true` itself is about 1 ms).
#
# The agent is served by bench/agent-serve: the engine serving it as the app does,
# without the webview, answering Allow always to every program's first request.
#
#   tests/support/session.sh -- bench/token-speed.sh [--runs N] [--warmup N] [--rounds N]
#                                                    [--refresh-runs N]
#   bench/token-speed.sh ...      (enters a private session itself)
#
# Defaults: 300 runs of each command in 6 alternating rounds (5 warm-up runs each per
# round); 40 refreshing runs. Installs what is missing (hyperfine, gh, secret-tool,
# gnome-keyring, dbus; the test provider's npm packages), builds the release CLI
# and the agent's server (honours CARGO_TARGET_DIR), prints medians and ratios, writes hyperfine's JSON and a
# summary to $TOKEN_SPEED_OUT (default target/token-speed/), and exits 1 when a target
# is missed.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
. bench/lib.sh
runs=300 warmup=5 rounds=6 refresh_runs=40
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --refresh-runs) refresh_runs=$2; shift 2 ;;
    *) echo "usage: $0 [--runs N] [--warmup N] [--rounds N] [--refresh-runs N]" >&2; exit 2 ;;
  esac
done

# Install and build once, before entering the session (it re-runs this script).
if [ "${_TOKEN_SPEED_READY:-}" != 1 ]; then
  missing=()
  command -v hyperfine >/dev/null || missing+=(hyperfine)
  command -v gh >/dev/null || missing+=(gh)
  command -v secret-tool >/dev/null || missing+=(libsecret-tools)
  command -v gnome-keyring-daemon >/dev/null || missing+=(gnome-keyring)
  command -v dbus-run-session >/dev/null || missing+=(dbus dbus-x11)
  if [ ${#missing[@]} -gt 0 ]; then
    sudo=()
    [ "$(id -u)" = 0 ] || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  [ -d tests/oidc/node_modules ] || npm ci --prefix tests/oidc --silent
  CARGO_INCREMENTAL=0 cargo build --release --locked -p grantkeeper-cli -p agent-serve
  export _TOKEN_SPEED_READY=1
fi
if [ "${GRANTKEEPER_TEST_SESSION:-}" != 1 ]; then
  exec tests/support/session.sh -- "$repo/bench/token-speed.sh" \
    --runs "$runs" --warmup "$warmup" --rounds "$rounds" --refresh-runs "$refresh_runs"
fi
unset _TOKEN_SPEED_READY

gk=${CARGO_TARGET_DIR:-$repo/target}/release/grantkeeper
agent_serve=${CARGO_TARGET_DIR:-$repo/target}/release/agent-serve
out=${TOKEN_SPEED_OUT:-$repo/target/token-speed}
mkdir -p "$out"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/token-speed.XXXXXX")
export GRANTKEEPER_HOME=$scratch/home
export GRANTKEEPER_KEYCHAIN_SERVICE=grantkeeper-bench-$(tr -d - </proc/sys/kernel/random/uuid)
export GRANTKEEPER_AGENT_SOCKET=$scratch/agent/agent.sock
export GRANTKEEPER_BROWSER="env GRANTKEEPER_TEST_BROWSER_MODE=consent GRANTKEEPER_TEST_LOGIN=bench node $repo/tests/oidc/browser.mjs"
# Logging on would time the log, not the work; a token in the environment would make
# gh print that instead of reading its hosts file.
unset GRANTKEEPER_LOG GRANTKEEPER_NO_AGENT BROWSER GH_TOKEN GITHUB_TOKEN GH_ENTERPRISE_TOKEN GITHUB_ENTERPRISE_TOKEN GH_HOST

op_pid= agent_pid=
cleanup() {
  secret-tool clear service "$GRANTKEEPER_KEYCHAIN_SERVICE" 2>/dev/null || true
  [ -z "$op_pid" ] || kill "$op_pid" 2>/dev/null || true
  [ -z "$agent_pid" ] || kill "$agent_pid" 2>/dev/null || true
  rm -rf "$scratch"
}
trap cleanup EXIT

start_local_op "$scratch"
connect_local_op "$scratch" Bench
[ -n "$("$gk" token Bench --no-agent)" ] || { echo "token-speed: grantkeeper printed no token" >&2; exit 1; }

# The agent, started after the connection was made (as a running app would see it).
start_coprocess AGENT agent_pid agent_memory "the agent" "$scratch/agent.log" "$agent_serve"
# One request first: it is asked about (answered Allow always) and keeps the token.
[ -n "$("$gk" token Bench)" ] || { echo "token-speed: the agent handed out no token" >&2; exit 1; }

# The floor reads the very item `grantkeeper token` reads: the credential's token set.
item=$(secret-tool search --all service "$GRANTKEEPER_KEYCHAIN_SERVICE" 2>&1 |
  sed -n 's/^attribute\.username = \(credential\/.*\)$/\1/p' | head -n1)
[ -n "$item" ] && [ -n "$(secret-tool lookup service "$GRANTKEEPER_KEYCHAIN_SERVICE" username "$item")" ] || {
  echo "token-speed: secret-tool cannot read the credential item" >&2
  exit 1
}

# gh with a config of its own: hosts.yml holds a dummy token, printed without network.
export GH_CONFIG_DIR=$scratch/gh GH_NO_UPDATE_NOTIFIER=1 GH_PROMPT_DISABLED=1
mkdir -p "$GH_CONFIG_DIR"
gh_token=gho_bench0000000000000000000000000000
printf 'github.com:\n    user: bench\n    oauth_token: %s\n    git_protocol: https\n' "$gh_token" \
  >"$GH_CONFIG_DIR/hosts.yml"
[ "$(gh auth token 2>/dev/null)" = "$gh_token" ] || { echo "token-speed: gh auth token failed" >&2; exit 1; }

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
# -N: no shell in between, so each figure is the program itself (fork/exec to exit).
# hyperfine runs one command's runs back to back; on a shared machine a burst of load
# would then land on one command only, so the runs are split into rounds, and every
# other round takes the commands in reverse order.
commands=(
  "grantkeeper token (agent)" "'$gk' token Bench"
  "grantkeeper token" "'$gk' token Bench --no-agent"
  "secret-tool lookup" "secret-tool lookup service $GRANTKEEPER_KEYCHAIN_SERVICE username $item"
  "gh auth token" "gh auth token"
  "grantkeeper exec (agent)" "'$gk' exec Bench -- true"
)
rm -f "$out"/stored-*.json
for round in $(seq 1 "$rounds"); do
  order=(0 2 4 6 8)
  [ $((round % 2)) = 1 ] || order=(8 6 4 2 0)
  args=()
  for i in "${order[@]}"; do args+=(-n "${commands[i]}" "${commands[i + 1]}"); done
  echo "round $round of $rounds"
  hyperfine -N --style basic --warmup "$warmup" --runs $(((runs + rounds - 1) / rounds)) \
    --export-json "$out/stored-$round.json" "${args[@]}" | grep -E '^(Benchmark|  Time)'
done

# --min-ttl above the token's lifetime (3600 s) makes a run refresh first, unless the
# last refresh is under a minute old (then another would bring no longer a token): so
# before each run the last refresh is forgotten, untimed.
forget_refresh="python3 -c 'import sqlite3, sys; db = sqlite3.connect(sys.argv[1]); \
db.execute(\"UPDATE credentials SET last_refreshed_at = NULL\"); db.commit()' \
'$GRANTKEEPER_HOME/grantkeeper.sqlite3'"
refreshes() {
  node -e "fetch('$issuer/test/stats').then(r => r.json()).then(s => console.log(s.token_requests.refresh_token || 0))"
}
before=$(refreshes)
echo "refreshing runs"
hyperfine -N --style basic --warmup 2 --runs "$refresh_runs" --export-json "$out/refresh.json" \
  --prepare "$forget_refresh" -n "grantkeeper token (refresh)" "'$gk' token Bench --no-agent --min-ttl 86400" | grep -E '^(Benchmark|  Time)'
after=$(refreshes)

# The agent's RSS over hand-outs in a row: 5,000 first, which fill the activity log to
# its limit (older entries are then deleted) and SQLite's page cache with its pages,
# then 1,000 more, which must leave it flat; and its CPU per hand-out over those 1,000.
agent_cpu() { awk '{ print $14 + $15 }' "/proc/$agent_pid/stat"; }
rss_now() { echo >&"${AGENT[1]}"; read -r line <&"${AGENT[0]}"; sed 's/[^0-9]//g' <<<"$line"; }
hand_outs() { for _ in $(seq "$1"); do "$gk" token Bench >/dev/null; done; }
rss_start=$(rss_now)
hand_outs 5000
rss_before=$(rss_now) cpu_before=$(agent_cpu)
hand_outs 1000
rss_after=$(rss_now) cpu_after=$(agent_cpu)
ticks=$(getconf CLK_TCK)
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "refresh requests at the provider: $((after - before)) (want $((refresh_runs + 2)))"

node - "$out" "$rounds" "$((after - before))" "$((refresh_runs + 2))" "$agent_memory" \
  "$rss_start" "$rss_before" "$rss_after" "$(((cpu_after - cpu_before) * 1000 / ticks))" <<'EOF'
const fs = require('node:fs');
const [out, rounds, refreshes, wanted, memory, rssStart, rssBefore, rssAfter, agentCpuMs] = process.argv.slice(2);
const idle = JSON.parse(memory);
const files = Array.from({ length: Number(rounds) }, (_, i) => `${out}/stored-${i + 1}.json`);
const merged = new Map();
for (const file of [...files, `${out}/refresh.json`]) {
  for (const r of JSON.parse(fs.readFileSync(file)).results) {
    const m = merged.get(r.command) || { command: r.command, times: [], cpu: 0 };
    m.times.push(...r.times);
    m.cpu += (r.user + r.system) * r.times.length;
    merged.set(r.command, m);
  }
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const order = ['grantkeeper token (agent)', 'grantkeeper token', 'secret-tool lookup', 'gh auth token', 'grantkeeper token (refresh)',
  'grantkeeper exec (agent)'];
const rows = order.map((name) => merged.get(name)).map((m) => ({
  command: m.command,
  runs: m.times.length,
  median: median(m.times),
  min: Math.min(...m.times),
  max: Math.max(...m.times),
  cpu: m.cpu / m.times.length,
}));
fs.writeFileSync(`${out}/summary.json`, `${JSON.stringify(rows, null, 2)}\n`);
const ms = (s) => (s * 1000).toFixed(2);
console.log('\n                             runs  median ms  min–max ms      CPU ms (user+sys, mean)');
for (const r of rows) {
  const range = `${ms(r.min)}–${ms(r.max)}`;
  console.log(`${r.command.padEnd(29)}${String(r.runs).padStart(4)}${ms(r.median).padStart(11)}  ${range.padEnd(16)}${ms(r.cpu).padStart(8)}`);
}
const [agent, gk, floor, gh] = rows;
const verdict = (ok) => (ok ? 'met' : 'MISSED');
const checks = [
  ['through the agent / secret-tool', agent.median / floor.median, 0.5, 'x'],
  ['through the agent, CPU per call', agent.cpu * 1000, 2, ' ms'],
  ['direct / secret-tool', gk.median / floor.median, 1, 'x'],
  ['direct / gh', gk.median / gh.median, 1 / 3, 'x'],
  ['agent added at idle', (idle.rss_with_agent_kib - idle.rss_before_agent_kib) / 1024, 2, ' MiB'],
  ['agent RSS, 1,000 hand-outs', (Number(rssAfter) - Number(rssBefore)) / 1024, 0.25, ' MiB more'],
];
console.log('');
for (const [what, value, target, unit] of checks) {
  const line = `${what.padEnd(34)}${value.toFixed(2).padStart(7)}${unit}`;
  console.log(`${line.padEnd(52)}(target <= ${target.toFixed(2)}: ${verdict(value <= target)})`);
}
console.log(`agent's CPU per hand-out          ${(Number(agentCpuMs) / 1000).toFixed(2)} ms (1,000 in a row)`);
console.log(`agent's RSS, KiB: ${idle.rss_before_agent_kib} before it served, ${idle.rss_with_agent_kib} serving; ` +
  `${rssStart} → ${rssBefore} after 5,000 hand-outs → ${rssAfter} after 1,000 more`);
console.log(`CPU, direct / secret-tool ${(gk.cpu / floor.cpu).toFixed(2)}x`);
console.log(`hyperfine's JSON and summary.json: ${out}/`);
if (Number(refreshes) < Number(wanted)) {
  console.log('the refreshing runs did not all refresh');
  process.exit(1);
}
process.exit(checks.every(([, value, target]) => value <= target) ? 0 : 1);
EOF
