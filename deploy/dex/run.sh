#!/usr/bin/env bash
# Runs the development identity provider in the foreground: builds Dex if the cache is stale
# (deploy/dex/build.sh), renders config.yaml.tmpl into DATA_DIR and execs Dex, so the caller's
# kill of this PID stops Dex itself.
#
# Usage: deploy/dex/run.sh PORT REDIRECT_URL[,REDIRECT_URL...] DATA_DIR
#   e.g. deploy/dex/run.sh 5556 http://127.0.0.1:8080/auth/callback data/dex
# Env:   DEX_CLIENT_SECRET  secret of the anpr-portal client (default: anpr-portal-demo-secret)
#        DEX_BIN            cached binary path (see build.sh)
# The issuer is http://127.0.0.1:PORT/dex; the client id is anpr-portal.
set -euo pipefail

if [[ $# -ne 3 ]]; then
	echo "usage: $0 PORT REDIRECT_URL[,REDIRECT_URL...] DATA_DIR" >&2
	exit 2
fi
port="$1"
redirects="$2"
data_dir="$3"
secret="${DEX_CLIENT_SECRET:-anpr-portal-demo-secret}"

if [[ ! "$port" =~ ^[0-9]+$ ]] || ((port < 1 || port > 65535)); then
	echo "run.sh: PORT must be a number from 1 to 65535, got '$port'" >&2
	exit 2
fi
# The values go into double-quoted YAML strings; refuse anything that could break out of one.
for v in "$redirects" "$secret"; do
	if [[ "$v" == *'"'* || "$v" == *'\'* || "$v" == *$'\n'* || -z "$v" ]]; then
		echo "run.sh: redirect URLs and client secret must be non-empty, without quotes, backslashes or newlines" >&2
		exit 2
	fi
done

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bin="$("$here/build.sh")"

uris=""
IFS=',' read -ra list <<<"$redirects"
for u in "${list[@]}"; do
	uris+="${uris:+, }\"$u\""
done

tmpl="$(cat "$here/config.yaml.tmpl")"
# Quoted replacements: bash 5.2 would otherwise treat '&' in a URL as "the matched text".
cfg="${tmpl//@ISSUER@/"http://127.0.0.1:$port/dex"}"
cfg="${cfg//@HTTP_ADDR@/"127.0.0.1:$port"}"
cfg="${cfg//@CLIENT_SECRET@/"$secret"}"
cfg="${cfg//@REDIRECT_URIS@/"[$uris]"}"

mkdir -p "$data_dir"
umask 077 # the rendered config holds the client secret
printf '%s\n' "$cfg" >"$data_dir/dex-config.yaml"
exec "$bin" serve "$data_dir/dex-config.yaml"
