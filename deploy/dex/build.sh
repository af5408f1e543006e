#!/usr/bin/env bash
# Builds the pinned Dex binary once and caches it. A rebuild happens only when this tool module's
# go.mod / go.sum, this script or the Go toolchain changes, because building Dex takes minutes on a small
# machine and `make run` and the tests both need it.
#
# Usage: deploy/dex/build.sh          (prints the binary path on stdout, progress on stderr)
# Env:   DEX_BIN  where to put the binary (default <repo>/.cache/bin/dex)
#        GO       the go command (default go)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
go_cmd="${GO:-go}"
bin="${DEX_BIN:-$repo/.cache/bin/dex}"
stamp="$bin.sha256"
version="v2.45.1" # the release that the pinned pseudo-version in go.mod corresponds to

if ! command -v "$go_cmd" >/dev/null; then
	echo "build.sh: the Go toolchain ('$go_cmd') is not on PATH; Dex is built from source with it" >&2
	exit 1
fi
mkdir -p "$(dirname "$bin")"

# Two test binaries (or a test and `make run`) may ask for Dex at the same moment; only one
# should build, the other waits and then finds the cache fresh.
exec 9>"$bin.lock"
flock 9

want="$(cat "$here/go.mod" "$here/go.sum" "$here/build.sh" <("$go_cmd" version) | sha256sum | cut -d' ' -f1)"
if [[ -x "$bin" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
	echo "$bin"
	exit 0
fi

echo "Building Dex $version into $bin (first time only; can take several minutes)..." >&2
start=$(date +%s)
tmp="$bin.tmp.$$"
trap 'rm -f "$tmp"' EXIT
# CGO_ENABLED=0: a static binary that needs no C toolchain. The cost is that Dex's sqlite3
# storage (which needs cgo) is unavailable, so the config uses memory storage.
(cd "$here" && CGO_ENABLED=0 "$go_cmd" build -trimpath \
	-ldflags "-w -X main.version=$version" \
	-o "$tmp" github.com/dexidp/dex/cmd/dex) >&2
mv -f "$tmp" "$bin"
echo "$want" >"$stamp"
echo "Built Dex in $(($(date +%s) - start))s" >&2
echo "$bin"
