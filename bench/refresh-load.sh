#!/usr/bin/env bash
# The refresh scheduler under load (see bench/refresh-load/src/main.rs), in a private
# session with its own keyring. Arguments pass through: [N] [MIN_LIFETIME_S]
# [MAX_LIFETIME_S] [IDLE_S]; defaults 1000 120 300 60.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
cargo build --release --locked -p refresh-load
exec tests/support/session.sh -- target/release/refresh-load "$@"
