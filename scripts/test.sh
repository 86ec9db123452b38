#!/usr/bin/env bash
# Runs every test: the engine against a real OpenID provider and a real Secret Service,
# the CLI binary, the IPC commands, the UI components, and the real app window under
# Xvfb through tauri-driver + WebKitWebDriver. Installs what is missing first.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export GRANTKEEPER_SETUP_TESTS=1
source "$repo/scripts/setup.sh"
cd "$repo"

step() { printf '\n== %s\n' "$*" >&2; }
# One build from a clean clone: incremental artifacts would only cost time and disk.
export CARGO_INCREMENTAL=0

step "test packages (OpenID provider, MCP servers) and tauri-driver"
for dir in tests/oidc tests/mcp; do
  if [ ! -f "$dir/node_modules/.package-lock.json" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
  fi
done
command -v tauri-driver >/dev/null || [ -x "$HOME/.cargo/bin/tauri-driver" ] \
  || cargo install tauri-driver --version '^2' --locked --quiet
export PATH="$HOME/.cargo/bin:$PATH"

step "the engine never depends on tauri"
if cargo tree --locked -p grantkeeper-engine -e normal,build --prefix none | grep -E '^tauri' ; then
  echo "grantkeeper-engine must not depend on tauri" >&2; exit 1
fi

step "UI: type check, component tests, build"
npm run --prefix ui --silent check
npm test --prefix ui --silent
npm run --prefix ui --silent build

step "Rust: format and lints"
cargo fmt --all --check
cargo clippy --locked --workspace --all-targets --features custom-protocol -- -D warnings

step "Rust: unit, engine, CLI, IPC and window tests (private D-Bus, keyring and Xvfb)"
tests/support/session.sh --xvfb -- cargo test --locked --workspace --features custom-protocol

step "Fuzzing: every parser of untrusted input for 15 s from its seeds"
scripts/fuzz.sh 15

step "Packages: build the .deb and .rpm, install the .deb, check and remove the installed app"
tests/package/install.sh
