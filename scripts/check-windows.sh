#!/usr/bin/env bash
# Type-checks and lints the engine, the CLI and the app for Windows from Linux (not part
# of CI: it fetches a second standard library with rustup). Catches code that only
# compiles on Linux, such as the keychain's Linux-only backend or Unix-only sockets.
#
#   scripts/check-windows.sh          # type-check and lint
#   scripts/check-windows.sh --wine   # and run the token agent's Windows tests in Wine
#
# Installs what is missing: the x86_64-pc-windows-gnu target (rustup), MinGW's C
# compiler (gcc-mingw-w64-x86-64, for the bundled SQLite) and, for --wine, wine64.
# Builds into target/check-windows. Exits non-zero on an error, a warning or a failed
# test.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
export PATH="$HOME/.cargo/bin:$PATH" CARGO_INCREMENTAL=0
target=x86_64-pc-windows-gnu

rustup target list --installed | grep -qx "$target" || rustup target add "$target"
wine=false
[ "${1:-}" = --wine ] && wine=true
apt_install() {
  local sudo=()
  [ "$(id -u)" = 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
command -v x86_64-w64-mingw32-gcc >/dev/null || apt_install gcc-mingw-w64-x86-64
$wine && ! command -v wine >/dev/null && apt_install wine64
[ -d ui/dist ] || { npm ci --prefix ui --silent && npm run --prefix ui build; }
RUSTFLAGS="-D warnings" CARGO_TARGET_DIR=target/check-windows \
  cargo clippy --locked --target "$target" -p grantkeeper-engine -p grantkeeper-cli \
  -p grantkeeper-app --features grantkeeper-app/custom-protocol -- -D warnings
echo "check-windows: the engine, the CLI and the app type-check and lint clean for $target"

$wine || exit 0
# The named pipe, its access list and who is at each end, on Wine's Windows API. Wine
# does not refuse a second first instance of a pipe, so that test needs Windows itself.
prefix=target/check-windows/wineprefix
mkdir -p "$prefix/drive_c/windows/system32"
x86_64-w64-mingw32-gcc -shared -O2 -o "$prefix/drive_c/windows/system32/bcryptprimitives.dll" \
  scripts/wine/bcryptprimitives.c scripts/wine/bcryptprimitives.def -ladvapi32
WINEPREFIX="$repo/$prefix" WINEDEBUG=-all CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER=wine \
  CARGO_TARGET_DIR=target/check-windows cargo test --locked --target "$target" -p grantkeeper-engine \
  --lib agent:: -- --skip a_name_another_program_took_first_is_refused
echo "check-windows: the token agent's Windows tests pass in Wine"
