#!/usr/bin/env bash
# Installs what building, running and testing Grantkeeper needs on Debian/Ubuntu, only
# when it is missing. Sourced by scripts/run.sh and scripts/test.sh.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

apt_packages=(
  # build and run the Tauri 2 app
  libwebkit2gtk-4.1-dev libayatana-appindicator3-dev librsvg2-dev file pkg-config build-essential
  # a Secret Service keyring, its client, a session bus
  gnome-keyring libsecret-tools dbus dbus-x11
)
if [ "${GRANTKEEPER_SETUP_TESTS:-0}" = 1 ]; then
  # headless window, WebDriver, screenshots; git for the credential helper's tests;
  # python3 for the WebDriver scripts and a web site publishing a client metadata document
  apt_packages+=(xvfb webkit2gtk-driver imagemagick git python3)
fi
# Installs those of the given apt packages that are missing; scripts/package.sh uses it too.
apt_install_missing() {
  local package missing=()
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}" >&2
    sudo_if_needed apt-get update -qq
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}
apt_install_missing "${apt_packages[@]}"

command -v cargo >/dev/null || { echo "setup: Rust is missing; install it from https://rustup.rs" >&2; exit 1; }
command -v npm >/dev/null || { echo "setup: Node.js 20+ and npm are missing; install them (apt install nodejs npm)" >&2; exit 1; }

# UI packages (the lock file pins them); reinstall only when the lock changed.
if [ ! -f "$repo/ui/node_modules/.package-lock.json" ] || [ "$repo/ui/package-lock.json" -nt "$repo/ui/node_modules/.package-lock.json" ]; then
  npm ci --prefix "$repo/ui" --no-audit --no-fund --loglevel=error
fi
