#!/usr/bin/env bash
# Builds the .deb and .rpm (scripts/package.sh), then checks them the way a person gets
# them: lintian on the .deb, the same files in the .rpm (rpm -qlp), and the .deb
# installed with apt. Everything after the install runs the installed files only: the
# CLI from /usr/bin, the app's first screen under Xvfb in a private session, the desktop
# and AppStream files, every linked library resolved and declared. Removing the package
# must remove its files and leave the person's data directory alone.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export GRANTKEEPER_SETUP_TESTS=1 # Xvfb and WebKitWebDriver for the first screen
source "$repo/scripts/setup.sh"
cd "$repo"
export PATH="$HOME/.cargo/bin:$PATH" # tauri-driver

step() { printf '\n== package test: %s\n' "$*" >&2; }
fail() { echo "package test: $*" >&2; exit 1; }
# Absolute paths of the files (not folders) in a .deb, one a line, sorted.
deb_files() { dpkg-deb --contents "$1" | awk '$1 !~ /^d/ {print $6}' | sed 's|^\.\{0,1\}/\{0,1\}|/|' | sort; }

version=$(cargo metadata --locked --no-deps --format-version 1 \
  | python3 -c 'import json, sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == "grantkeeper-app"))')
scripts/package.sh
deb=$(echo target/packages/grantkeeper_"$version"_*.deb)
rpm=$(echo target/packages/grantkeeper-"$version"-*.rpm)
[ -f "$deb" ] && [ -f "$rpm" ] || fail "scripts/package.sh made no $version packages: $(ls target/packages)"

step "lintian (errors fail; warnings are listed)"
lintian --fail-on error --info "$deb"

step "the .rpm holds the .deb's files"
# Where the distributions differ: zsh's completion folder; Debian's copyright and changelog.
diff -u \
  <(deb_files "$deb" | grep -v '^/usr/share/doc/grantkeeper/' | sed 's|/zsh/vendor-completions/|/zsh/|') \
  <(rpm -qlp "$rpm" | sed 's|/zsh/site-functions/|/zsh/|' | sort) \
  || fail "the .deb (-) and the .rpm (+) hold different files"
[ "$(rpm -qp --qf '%{VERSION}' "$rpm")" = "$version" ] || fail "the .rpm's version is not $version"

step "install with apt"
if dpkg-query -W -f='${Status}' grantkeeper 2>/dev/null | grep -q "install ok installed"; then
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq grantkeeper >/dev/null
fi
sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$repo/$deb" >/dev/null
[ "$(dpkg-query -W -f='${Version}' grantkeeper)" = "$version" ] || fail "dpkg does not list grantkeeper $version"
for file in /usr/bin/grantkeeper /usr/bin/git-credential-grantkeeper /usr/bin/grantkeeper-app \
  /usr/share/applications/Grantkeeper.desktop /usr/share/metainfo/dev.grantkeeper.app.metainfo.xml \
  /usr/share/man/man1/grantkeeper.1.gz /usr/share/man/man1/grantkeeper-connect.1.gz \
  /usr/share/man/man1/git-credential-grantkeeper.1.gz /usr/share/man/man1/grantkeeper-app.1.gz \
  /usr/share/bash-completion/completions/grantkeeper /usr/share/zsh/vendor-completions/_grantkeeper \
  /usr/share/fish/vendor_completions.d/grantkeeper.fish /usr/share/icons/hicolor/scalable/apps/grantkeeper-app.svg; do
  [ -f "$file" ] || fail "$file is not installed"
done
for size in 16x16 24x24 32x32 48x48 64x64 128x128 256x256 512x512; do
  [ -f "/usr/share/icons/hicolor/$size/apps/grantkeeper-app.png" ] || fail "no $size icon"
done

step "desktop entry and AppStream metadata"
desktop-file-validate /usr/share/applications/Grantkeeper.desktop
# --no-net: CI may have no network, so the screenshots' URLs are not fetched.
appstreamcli validate --no-net /usr/share/metainfo/dev.grantkeeper.app.metainfo.xml
grep -qx 'Exec=grantkeeper-app' /usr/share/applications/Grantkeeper.desktop || fail "the desktop entry does not run grantkeeper-app"

step "shared libraries: all resolve, all declared"
binaries=(/usr/bin/grantkeeper /usr/bin/git-credential-grantkeeper /usr/bin/grantkeeper-app)
if ldd "${binaries[@]}" | grep 'not found'; then fail "libraries above are missing"; fi
# dpkg-shlibdeps names the package of every library the binaries link; each must be a
# declared dependency. It wants a debian/control, so it runs in a scratch folder.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir "$scratch/debian" && printf 'Source: grantkeeper\n\nPackage: grantkeeper\nArchitecture: any\n' >"$scratch/debian/control"
needed=$(cd "$scratch" && dpkg-shlibdeps -O "${binaries[@]}" 2> >(grep -v 'should already be installed in their package' >&2) \
  | sed 's/^shlibs:Depends=//')
[ -n "$needed" ] || fail "dpkg-shlibdeps named no libraries"
declared=$(dpkg-query -W -f='${Depends}' grantkeeper)
names() { tr ',|' '\n\n' | sed 's/(.*)//; s/[[:space:]]//g' | sed '/^$/d' | sort -u; }
undeclared=$(comm -23 <(names <<<"$needed") <(names <<<"$declared"))
[ -z "$undeclared" ] || fail "linked but not declared in Depends: $undeclared (dpkg-shlibdeps says: $needed)"
# The tray library is loaded at run time, so no linker sees it.
grep -q 'libayatana-appindicator3-1' <<<"$declared" || fail "Depends lacks the tray library"
# grep reads all (no -q): quitting at the match could end ldconfig with SIGPIPE, which
# pipefail would read as the library missing.
ldconfig -p | grep 'libayatana-appindicator3.so.1' >/dev/null || fail "the tray library does not resolve"

step "the CLI and the app from /usr/bin, in a private session and a fresh home"
home=$scratch/home && mkdir "$home"
[ "$(/usr/bin/grantkeeper --version)" = "grantkeeper $version" ] || fail "grantkeeper --version is not $version"
man -w grantkeeper-token >/dev/null || fail "man does not find grantkeeper-token(1)"
bash -c 'source /usr/share/bash-completion/completions/grantkeeper && complete -p grantkeeper' >/dev/null \
  || fail "the bash completion does not complete grantkeeper"
# A fresh home without XDG_DATA_HOME: the data directory is the default one a person gets.
tests/support/session.sh --xvfb -- env -u XDG_DATA_HOME HOME="$home" GRANTKEEPER_KEYCHAIN_SERVICE=grantkeeper-package-test \
  bash -c '
    set -euo pipefail
    cd "$HOME"
    /usr/bin/grantkeeper catalog | grep "Google Drive" >/dev/null
    /usr/bin/grantkeeper catalog --json | python3 -c "import json, sys; assert len(json.load(sys.stdin)) > 10"
    /usr/bin/grantkeeper list
    printf "protocol=https\nhost=example.org\n\n" | /usr/bin/git-credential-grantkeeper store
    python3 "$0" /usr/bin/grantkeeper-app "$1" "$2"
  ' "$repo/tests/package/first_screen.py" "$version" "$repo/tests/artifacts/package-first-screen.png"
data=$home/.local/share/grantkeeper
[ -f "$data/grantkeeper.sqlite3" ] || fail "the installed app and CLI did not use $data"
before=$(cd "$data" && find . -type f -exec sha256sum {} + | sort)

step "remove: the package's files go, the person's data stays"
sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq grantkeeper >/dev/null
while read -r file; do
  [ ! -e "$file" ] || fail "$file is still there after removal"
done < <(deb_files "$deb")
[ "$(cd "$data" && find . -type f -exec sha256sum {} + | sort)" = "$before" ] || fail "removal changed $data"
# Nothing of the package runs on removal, so it cannot touch the keychain either.
if dpkg-deb --ctrl-tarfile "$deb" | tar -t | grep -E 'preinst|postinst|prerm|postrm'; then
  fail "the package has maintainer scripts; check what they do to data and keychain"
fi
echo "package test: grantkeeper $version installed, checked and removed" >&2
