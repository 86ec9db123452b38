#!/usr/bin/env bash
# Fuzzes the engine's parsers of untrusted input for a bounded time (scripts/test.sh,
# and so CI, runs it for 15 s per target):
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Every target in fuzz/fuzz_targets/ runs for SECONDS_PER_TARGET (default 60), one after
# another, starting from its seeds in fuzz/corpus/<target>/ with the tokens in
# fuzz/dict/<target>.dict. Inputs that find new code go to fuzz/generated/<target>/ (the
# seeds stay as they are), crashing inputs to fuzz/artifacts/<target>/, the libFuzzer log
# to fuzz/generated/<target>.log.
# Exits 1 when a target crashed.
#
# Installs cargo-fuzz when missing. libFuzzer needs a nightly compiler: the nightly
# toolchain when rustup has one, else stable with RUSTC_BOOTSTRAP=1.
# FUZZ_SANITIZER=address builds with AddressSanitizer; the default, none, runs several
# times faster, and the code under test is safe Rust.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

seconds=${1:-60}
[[ $seconds =~ ^[1-9][0-9]*$ ]] || { echo "usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]" >&2; exit 2; }
shift $(($# > 0 ? 1 : 0))
sanitizer=${FUZZ_SANITIZER:-none}
export CARGO_INCREMENTAL=0
export PATH="$HOME/.cargo/bin:$PATH"

command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  fuzz=(cargo +nightly fuzz)
else
  echo "fuzz: no nightly toolchain; using stable with RUSTC_BOOTSTRAP=1" >&2
  fuzz=(env RUSTC_BOOTSTRAP=1 cargo fuzz)
fi

if [ $# -gt 0 ]; then targets=("$@"); else mapfile -t targets < <("${fuzz[@]}" list --fuzz-dir fuzz); fi

"${fuzz[@]}" build --fuzz-dir fuzz --sanitizer "$sanitizer"
crashed=()
for target in "${targets[@]}"; do
  printf '\n== %s (%ss)\n' "$target" "$seconds" >&2
  mkdir -p "fuzz/generated/$target"
  log="fuzz/generated/$target.log"
  options=(-max_total_time="$seconds" -timeout=10 -print_final_stats=1)
  [ -f "fuzz/dict/$target.dict" ] && options+=(-dict="$repo/fuzz/dict/$target.dict")
  if "${fuzz[@]}" run --fuzz-dir fuzz --sanitizer "$sanitizer" "$target" \
      "$repo/fuzz/generated/$target" "$repo/fuzz/corpus/$target" -- "${options[@]}" >"$log" 2>&1; then
    # The last status line: executions, coverage (cov: edges, ft: features), corpus size.
    grep -E '^#[0-9]+' "$log" | tail -n 1 >&2 || true
    grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$log" >&2 || true
  else
    crashed+=("$target")
    tail -n 40 "$log" >&2
  fi
done

if [ ${#crashed[@]} -gt 0 ]; then
  echo "fuzz: crashed: ${crashed[*]} (inputs in fuzz/artifacts/; logs in fuzz/generated/)" >&2
  exit 1
fi
echo "fuzz: no crashes" >&2
