#!/usr/bin/env bash
# Fetches the Keycloak server distribution (org.keycloak:keycloak-quarkus-dist, a zip on Maven
# Central) with mvn, unpacks it once under <repo>/.cache/keycloak (git-ignored) and prints the
# unpacked home directory on stdout. A second run finds the home and does nothing else, so the
# tests can call it every time. Keycloak is a second, real identity provider for the tests; the
# bundled Dex stays the IdP of `make run`.
#
# Why 26.4.7: a current 26.x release from Central; override with KEYCLOAK_VERSION. Keycloak 26
# needs Java 21 or newer (see start.sh for how it finds one).
set -euo pipefail

KEYCLOAK_VERSION="${KEYCLOAK_VERSION:-26.4.7}"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cache="$repo/.cache/keycloak"
home="$cache/keycloak-$KEYCLOAK_VERSION"
zip="$cache/keycloak-quarkus-dist-$KEYCLOAK_VERSION.zip"

if [ -x "$home/bin/kc.sh" ] && [ -f "$home/.unpacked" ]; then
	echo "$home"
	exit 0
fi
command -v mvn >/dev/null || { echo "fetch.sh: mvn not found" >&2; exit 3; }
mkdir -p "$cache"
# Two test binaries may fetch at once: one unpacks, the other waits for it.
exec 9>"$cache/.lock"
flock 9
if [ -x "$home/bin/kc.sh" ] && [ -f "$home/.unpacked" ]; then
	echo "$home"
	exit 0
fi
if [ ! -f "$zip" ]; then
	# dependency:copy needs no project; the plugin version is pinned so the fetch is repeatable.
	mvn -B -q org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
		-Dartifact="org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:zip" \
		-DoutputDirectory="$cache" -Dmdep.overWriteReleases=true >&2
fi
# Unpack beside the final place and rename, so an interrupted unpack never looks complete.
tmp="$(mktemp -d "$cache/unpack.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
if command -v unzip >/dev/null; then
	unzip -q "$zip" -d "$tmp"
else
	python3 -m zipfile -e "$zip" "$tmp"
	chmod -R u+rwX,go+rX "$tmp"
fi
chmod +x "$tmp/keycloak-$KEYCLOAK_VERSION"/bin/*.sh
touch "$tmp/keycloak-$KEYCLOAK_VERSION/.unpacked"
rm -rf "$home"
mv "$tmp/keycloak-$KEYCLOAK_VERSION" "$home"
echo "$home"
