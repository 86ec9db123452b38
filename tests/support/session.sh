#!/usr/bin/env bash
# Runs a command inside a private desktop session for tests: its own session D-Bus
# (dbus-run-session), private XDG directories under one temp dir, an unlocked
# gnome-keyring (a real Secret Service) and, with --xvfb, its own X display.
#
#   tests/support/session.sh [--xvfb] -- CMD ARGS...
#
# Exits with CMD's exit code. If GRANTKEEPER_TEST_SESSION=1 is already set (we are
# inside such a session), CMD is exec'd as is.
set -euo pipefail

xvfb=0
while [ $# -gt 0 ]; do
  case "$1" in
    --xvfb) xvfb=1; shift ;;
    --) shift; break ;;
    -*) echo "session.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
if [ $# -eq 0 ]; then
  echo "usage: $0 [--xvfb] -- CMD ARGS..." >&2
  exit 2
fi

if [ "${GRANTKEEPER_TEST_SESSION:-}" = 1 ]; then
  exec "$@"
fi

if [ "${_GRANTKEEPER_SESSION_STAGE:-}" != inner ]; then
  # Outer run: start over inside a new, private session bus. dbus-run-session
  # exits with the inner run's exit code and stops the bus afterwards.
  self=$(readlink -f "${BASH_SOURCE[0]}")
  args=()
  [ "$xvfb" = 1 ] && args+=(--xvfb)
  _GRANTKEEPER_SESSION_STAGE=inner exec dbus-run-session -- "$self" "${args[@]}" -- "$@"
fi
unset _GRANTKEEPER_SESSION_STAGE

scratch=$(mktemp -d "${TMPDIR:-/tmp}/grantkeeper-session.XXXXXX")
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    # Wait (briefly) so nothing still writes into the scratch dir while it is removed.
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  done
  rm -rf "$scratch"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

export XDG_RUNTIME_DIR="$scratch/runtime" XDG_DATA_HOME="$scratch/data" \
  XDG_CONFIG_HOME="$scratch/config" XDG_CACHE_HOME="$scratch/cache"
mkdir -p "$XDG_RUNTIME_DIR" "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME"
chmod 700 "$XDG_RUNTIME_DIR"
# Services that the bus starts on demand get the same private directories.
dbus-update-activation-environment XDG_RUNTIME_DIR XDG_DATA_HOME XDG_CONFIG_HOME XDG_CACHE_HOME \
  >/dev/null 2>&1 || true

bus_call() {
  dbus-send --session --print-reply=literal --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    "org.freedesktop.DBus.$1" "string:$2"
}

# gnome-keyring creates the "login" collection (the default one) with this password
# and unlocks it. It prints NAME=value lines for its clients (gnome-keyring 42
# prints none for --components=secrets, but older/newer ones may).
keyring_env=$(printf '%s' test-password | gnome-keyring-daemon --unlock --components=secrets)
while IFS= read -r line; do
  case "$line" in
    [A-Za-z_]*=*) export "${line?}" ;;
  esac
done <<< "$keyring_env"
for _ in $(seq 1 50); do
  case "$(bus_call NameHasOwner org.freedesktop.secrets 2>/dev/null)" in *true*) break ;; esac
  sleep 0.1
done
keyring_pid=$(bus_call GetConnectionUnixProcessID org.freedesktop.secrets 2>/dev/null | awk '{print $2}') || true
if [ -z "${keyring_pid:-}" ]; then
  echo "session.sh: gnome-keyring-daemon did not provide org.freedesktop.secrets" >&2
  exit 1
fi
pids+=("$keyring_pid")
if [ -z "${GNOME_KEYRING_CONTROL:-}" ] && [ -S "$XDG_RUNTIME_DIR/keyring/control" ]; then
  export GNOME_KEYRING_CONTROL="$XDG_RUNTIME_DIR/keyring"
fi

if [ "$xvfb" = 1 ]; then
  # Xvfb picks a free display itself and writes its number to fd 5.
  Xvfb -displayfd 5 -screen 0 1280x800x24 -nolisten tcp \
    5>"$scratch/display" >"$scratch/xvfb.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do
    [ -s "$scratch/display" ] && break
    kill -0 "${pids[-1]}" 2>/dev/null || break
    sleep 0.1
  done
  if [ ! -s "$scratch/display" ]; then
    echo "session.sh: Xvfb did not start:" >&2
    cat "$scratch/xvfb.log" >&2
    exit 1
  fi
  export DISPLAY=":$(head -n1 "$scratch/display" | tr -d '[:space:]')"
  if command -v dbus-update-activation-environment >/dev/null; then
    dbus-update-activation-environment DISPLAY >/dev/null 2>&1 || true
  fi
fi

export GRANTKEEPER_TEST_SESSION=1
set +e
"$@"
status=$?
set -e
exit "$status"
