#!/usr/bin/env bash
# How long Grantkeeper's writes and reads take while other grantkeeper processes write
# to the same data directory. Every store transaction takes SQLite's write lock when it
# begins (so that none answers "database is locked" half way), which makes writers wait
# in turn; this measures that wait. With 0, 2 and 4 background writers, each renaming
# its own connection back and forth as fast as it can, hyperfine times:
#   - a rename and back (`grantkeeper rename` twice: two write transactions), and
#   - `grantkeeper token --no-agent` of a token it has (reads only, and the keychain),
# and the script prints the medians and how many renames the writers made meanwhile (and
# how many failed: hyperfine itself stops at a timed command that fails).
#
#   bench/store-contention.sh [--runs N]      (default 60; enters a private session)
#
# Installs what is missing (hyperfine; the test provider's npm packages), builds the
# release CLI (honours CARGO_TARGET_DIR) and writes hyperfine's JSON to
# $STORE_CONTENTION_OUT (default target/store-contention/).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
. bench/lib.sh
runs=60
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    *) echo "usage: $0 [--runs N]" >&2; exit 2 ;;
  esac
done

# Install and build once, before entering the session (it re-runs this script).
if [ "${_STORE_CONTENTION_READY:-}" != 1 ]; then
  if ! command -v hyperfine >/dev/null; then
    sudo=()
    [ "$(id -u)" = 0 ] || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hyperfine >/dev/null
  fi
  [ -d tests/oidc/node_modules ] || npm ci --prefix tests/oidc --silent
  CARGO_INCREMENTAL=0 cargo build --release --locked -p grantkeeper-cli
  export _STORE_CONTENTION_READY=1
fi
if [ "${GRANTKEEPER_TEST_SESSION:-}" != 1 ]; then
  exec tests/support/session.sh -- "$repo/bench/store-contention.sh" --runs "$runs"
fi
unset _STORE_CONTENTION_READY GRANTKEEPER_LOG

gk=${CARGO_TARGET_DIR:-$repo/target}/release/grantkeeper
out=${STORE_CONTENTION_OUT:-$repo/target/store-contention}
mkdir -p "$out"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/store-contention.XXXXXX")
export GRANTKEEPER_HOME=$scratch/home GRANTKEEPER_NO_AGENT=1
export GRANTKEEPER_KEYCHAIN_SERVICE=grantkeeper-bench-$(tr -d - </proc/sys/kernel/random/uuid)
export GRANTKEEPER_BROWSER="env GRANTKEEPER_TEST_BROWSER_MODE=consent GRANTKEEPER_TEST_LOGIN=bench node $repo/tests/oidc/browser.mjs"

op_pid= writers=()
stop_writers() {
  [ ${#writers[@]} = 0 ] || kill "${writers[@]}" 2>/dev/null || true
  [ ${#writers[@]} = 0 ] || wait "${writers[@]}" 2>/dev/null || true
  writers=()
}
cleanup() {
  stop_writers
  secret-tool clear service "$GRANTKEEPER_KEYCHAIN_SERVICE" 2>/dev/null || true
  [ -z "$op_pid" ] || kill "$op_pid" 2>/dev/null || true
  rm -rf "$scratch"
}
trap cleanup EXIT

start_local_op "$scratch"
for name in Timed W1 W2 W3 W4; do
  connect_local_op "$scratch" "$name"
done

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for count in 0 2 4; do
  for k in $(seq 1 "$count"); do
    (
      while :; do
        if "$gk" rename "W$k" "W$k-b" &>/dev/null && "$gk" rename "W$k-b" "W$k" &>/dev/null; then
          echo >>"$scratch/renames.$k"
        else
          echo >>"$scratch/failed.$k"
        fi
      done
    ) &
    writers+=($!)
  done
  rm -f "$scratch"/renames.* "$scratch"/failed.*
  hyperfine -N --style basic --runs "$runs" --warmup 3 --export-json "$out/writers-$count.json" \
    -n "rename and back, $count writers" "sh -c '\"$gk\" rename Timed Timed-b && \"$gk\" rename Timed-b Timed'" \
    -n "token, $count writers" "'$gk' token Timed" >/dev/null
  made=$({ cat "$scratch"/renames.* 2>/dev/null || true; } | wc -l)
  failed=$({ cat "$scratch"/failed.* 2>/dev/null || true; } | wc -l)
  stop_writers
  python3 - "$out/writers-$count.json" "$count" "$made" "$failed" <<'EOF'
import json, statistics, sys
results = json.load(open(sys.argv[1]))["results"]
figures = ", ".join(
    f"{r['command'].split(',')[0]} {statistics.median(r['times']) * 1000:.1f} ms "
    f"(max {max(r['times']) * 1000:.1f})"
    for r in results
)
print(f"{sys.argv[2]} writers: {figures}; the writers renamed and back {sys.argv[3]} times "
      f"meanwhile, and failed {sys.argv[4]} times")
EOF
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
