#!/usr/bin/env bash
# Fetches the Elasticsearch integration-test distribution from Maven Central with mvn, caches the
# zip and unpacks it under <repo>/.cache/elasticsearch (git-ignored), and prints the unpacked home
# directory on stdout. A second run finds the home and does nothing else, so the tests and make can
# call it every time.
#
# Why this artifact: org.elasticsearch.distribution.integ-test-zip:elasticsearch is the only
# Elasticsearch server distribution on Maven Central, so it needs nothing but mvn. It is the OSS
# core plus x-pack-core and x-pack-security: no ILM, no wildcard field type, no data-stream REST
# API, no reindex module (so no delete_by_query), no analysis-common. The store detects all of
# that and says what it falls back to.
#
# Why 8.19.21: the newest 8.x in Central's maven-metadata.xml on 2026-11-23 (the 8.19 line is the
# last 8.x minor; there is no 9.x of this artifact). Override with ES_VERSION.
set -euo pipefail

ES_VERSION="${ES_VERSION:-8.19.21}"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cache="$repo/.cache/elasticsearch"
home="$cache/elasticsearch-$ES_VERSION"
zip="$cache/elasticsearch-$ES_VERSION.zip"

if [ -x "$home/bin/elasticsearch" ] && [ -f "$home/.unpacked" ]; then
	echo "$home"
	exit 0
fi
command -v mvn >/dev/null || { echo "fetch.sh: mvn not found" >&2; exit 3; }
mkdir -p "$cache"
if [ ! -f "$zip" ]; then
	# dependency:copy needs no project; the plugin version is pinned so the fetch is repeatable.
	# The zip is also kept in ~/.m2, so a wiped .cache costs no second download.
	mvn -B -q org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
		-Dartifact="org.elasticsearch.distribution.integ-test-zip:elasticsearch:$ES_VERSION:zip" \
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
	chmod +x "$tmp/elasticsearch-$ES_VERSION"/bin/*
fi
touch "$tmp/elasticsearch-$ES_VERSION/.unpacked"
rm -rf "$home"
mv "$tmp/elasticsearch-$ES_VERSION" "$home"
# Readable by everyone: when the tests run as root, the node runs as nobody (see start.sh).
chmod -R go+rX "$cache"
echo "$home"
