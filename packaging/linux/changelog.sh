#!/usr/bin/env bash
# Prints the Debian changelog of a release build (Debian policy wants one in every
# package): one entry for VERSION, dated with the commit the build is made from.
#
#   packaging/linux/changelog.sh VERSION
set -euo pipefail
version=${1:?usage: changelog.sh VERSION}
commit=$(git log -1 --format=%h 2>/dev/null || echo "an unknown commit")
# Debian wants RFC 5322 dates with a two-digit day, which git's %aD does not give.
date=$(TZ=UTC date -R -d "@$(git log -1 --format=%at 2>/dev/null || date +%s)")
# The same maintainer as the package's control file, which Tauri takes from Cargo.toml.
maintainer="Grantkeeper maintainers <maintainers@grantkeeper.dev>"
cat <<ENTRY
grantkeeper ($version) unstable; urgency=medium

  * Release $version, built from $commit. What changed: the project's history.

 -- $maintainer  $date
ENTRY
