#!/usr/bin/env bash
# Installs what is missing, builds the UI and the app, and opens the Grantkeeper window.
# Extra arguments go to the app. GRANTKEEPER_HOME overrides the data directory.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$repo/scripts/setup.sh"
npm run --prefix "$repo/ui" --silent build
cd "$repo"
exec cargo run --release --features custom-protocol --bin grantkeeper-app -- "$@"
