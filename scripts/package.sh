#!/usr/bin/env bash
# Builds the Linux packages with the Tauri bundler — grantkeeper_<version>_amd64.deb and
# grantkeeper-<version>-1.x86_64.rpm — into target/packages/ and prints their paths and
# sizes. Installs what is missing first, as scripts/setup.sh does. The version is the
# workspace Cargo.toml's.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$repo/scripts/setup.sh"
cd "$repo"

step() { printf '\n== package: %s\n' "$*" >&2; }
target=${CARGO_TARGET_DIR:-$repo/target}
# tauri.conf.json's bundle.linux.*.files name these paths, relative to the repository.
files=$repo/target/package-files
out=$repo/target/packages

# rpm names the .rpm below; lintian, desktop-file-utils and appstream are what
# tests/package/install.sh checks the packages with.
apt_install_missing rpm lintian desktop-file-utils appstream
# The Tauri CLI from npm is a prebuilt binary; `cargo install tauri-cli` would compile for ~9 min.
if [ ! -f packaging/node_modules/.package-lock.json ] || [ packaging/package-lock.json -nt packaging/node_modules/.package-lock.json ]; then
  npm ci --prefix packaging --no-audit --no-fund --loglevel=error
fi

step "UI and the command-line binaries (release)"
npm run --prefix ui --silent build
cargo build --release --locked -p grantkeeper-cli --bins

step "extra files: CLI binaries, completions, man pages, changelog"
rm -rf "$files" && mkdir -p "$files/bin" "$files/completions" "$files/man"
cp "$target/release/grantkeeper" "$target/release/git-credential-grantkeeper" "$files/bin/"
"$files/bin/grantkeeper" completions bash >"$files/completions/grantkeeper.bash"
"$files/bin/grantkeeper" completions zsh >"$files/completions/_grantkeeper"
"$files/bin/grantkeeper" completions fish >"$files/completions/grantkeeper.fish"
# The dev profile: its build is at hand after the tests, and the pages are the same.
cargo run --locked --quiet -p grantkeeper-cli --example man_pages -- "$files/man"
gzip -9n "$files"/man/*.1
version=$("$files/bin/grantkeeper" --version | cut -d' ' -f2)
packaging/linux/changelog.sh "$version" | gzip -9n >"$files/changelog.gz"

step "deb and rpm (tauri build)"
rm -rf "$target/release/bundle/deb" "$target/release/bundle/rpm"
packaging/node_modules/.bin/tauri build --ci --bundles deb,rpm --features custom-protocol -- --locked

# The bundler names the files after productName (Grantkeeper_…); each distribution's
# own file name comes from the package's metadata (grantkeeper_0.1.0_amd64.deb).
rm -rf "$out" && mkdir -p "$out"
deb=$(echo "$target"/release/bundle/deb/*.deb) rpm=$(echo "$target"/release/bundle/rpm/*.rpm)
cp "$deb" "$out/$(dpkg-deb --show --showformat='${Package}_${Version}_${Architecture}' "$deb").deb"
cp "$rpm" "$out/$(rpm -qp --queryformat '%{NAME}-%{VERSION}-%{RELEASE}.%{ARCH}' "$rpm").rpm"
for package in "$out"/*; do
  printf '%s\t%s\n' "$(numfmt --to=iec-i --suffix=B --format=%.1f "$(stat -c %s "$package")")" "$package"
done
