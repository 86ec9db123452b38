#!/usr/bin/env bash
# Type-checks and lints the engine, the CLI and the app for Windows from Linux (not part of CI:
# it fetches a second standard library with rustup). Catches code that only compiles
# on Linux, such as the keychain's Linux-only backend or Unix-only sockets.
#
#   scripts/check-windows.sh
#
# Installs what is missing: the x86_64-pc-windows-gnu target (rustup) and MinGW's C
# compiler (gcc-mingw-w64-x86-64, for the bundled SQLite). Builds into
# target/check-windows. Exits non-zero on an error or a warning.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
export PATH="$HOME/.cargo/bin:$PATH" CARGO_INCREMENTAL=0
target=x86_64-pc-windows-gnu

rustup target list --installed | grep -qx "$target" || rustup target add "$target"
if ! command -v x86_64-w64-mingw32-gcc >/dev/null; then
  sudo=()
  [ "$(id -u)" = 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc-mingw-w64-x86-64 >/dev/null
fi
[ -d ui/dist ] || { npm ci --prefix ui --silent && npm run --prefix ui build; }
RUSTFLAGS="-D warnings" CARGO_TARGET_DIR=target/check-windows \
  cargo clippy --locked --target "$target" -p grantkeeper-engine -p grantkeeper-cli \
  -p grantkeeper-app --features grantkeeper-app/custom-protocol -- -D warnings
echo "check-windows: the engine, the CLI and the app type-check and lint clean for $target"
