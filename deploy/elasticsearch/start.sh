#!/usr/bin/env bash
# Runs one throwaway single-node Elasticsearch in the foreground, on 127.0.0.1 only, from the
# distribution fetch.sh unpacked. Everything it writes (config copy, data, logs, tmp) goes under
# ES_WORKDIR, so the cached distribution stays read-only and many nodes can share it.
#
#   ES_HTTP_PORT=9200 deploy/elasticsearch/start.sh          # a dev node; Ctrl-C stops it
#
# Environment: ES_HOME (default: what fetch.sh prints), ES_WORKDIR (default: a new temp dir),
# ES_HTTP_PORT (9200), ES_TRANSPORT_PORT (9300), ES_HEAP (512m), ES_WATCH_PID (below).
#
# Elasticsearch refuses to run as root, with no override: Elasticsearch.initializeNatives throws
# "can not run elasticsearch as root" whenever NativeAccess says so (checked in 8.19.21; the old
# -Des.insecure.allow.root property is gone). So as root we drop to nobody with setpriv (or runuser)
# and hand nobody the work dir. The script execs the node, so its pid is the node's pid: stop it
# with SIGTERM to that pid's process group.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ES_HOME="${ES_HOME:-$("$here/fetch.sh")}"
ES_WORKDIR="${ES_WORKDIR:-$(mktemp -d "${TMPDIR:-/tmp}/anpr-es.XXXXXX")}"
ES_HTTP_PORT="${ES_HTTP_PORT:-9200}"
ES_TRANSPORT_PORT="${ES_TRANSPORT_PORT:-9300}"
ES_HEAP="${ES_HEAP:-512m}"

command -v java >/dev/null || { echo "start.sh: java not found" >&2; exit 3; }
# The integ-test zip bundles no JDK; point the launcher at the one on PATH.
export ES_JAVA_HOME="${ES_JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")}"
export ES_JAVA_OPTS="-Xms$ES_HEAP -Xmx$ES_HEAP ${ES_JAVA_OPTS:-}"
export ES_PATH_CONF="$ES_WORKDIR/config"
export ES_TMPDIR="$ES_WORKDIR/tmp"

mkdir -p "$ES_WORKDIR/data" "$ES_WORKDIR/logs" "$ES_TMPDIR"
rm -rf "$ES_PATH_CONF"
cp -R "$ES_HOME/config" "$ES_PATH_CONF" # the node writes its keystore here

args=(
	-Ediscovery.type=single-node
	-Enetwork.host=127.0.0.1
	-Ehttp.port="$ES_HTTP_PORT"
	-Etransport.port="$ES_TRANSPORT_PORT"
	-Epath.data="$ES_WORKDIR/data"
	-Epath.logs="$ES_WORKDIR/logs"
	-Ecluster.name=anpr-test
	-Enode.name=anpr-test
	# A nearly full CI disk must not turn the indices read-only halfway through a run.
	-Ecluster.routing.allocation.disk.threshold_enabled=false
)
# The setting exists only where the security module is installed; an unknown setting is fatal.
if [ -d "$ES_HOME/modules/x-pack-security" ]; then
	args+=(-Expack.security.enabled=false)
fi

run=()
if [ "$(id -u)" = 0 ]; then
	chown -R nobody: "$ES_WORKDIR"
	chmod 755 "$ES_WORKDIR"
	if command -v setpriv >/dev/null; then
		run=(setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups --)
	elif command -v runuser >/dev/null; then
		run=(runuser -u nobody --)
	else
		echo "start.sh: running as root and neither setpriv nor runuser is available" >&2
		exit 3
	fi
	# The checkout may sit under a directory nobody cannot enter (/root, say). Then the node runs
	# from a copy of the distribution inside its own work dir, which nobody owns.
	if ! "${run[@]}" test -x "$ES_HOME/bin/elasticsearch"; then
		cp -R "$ES_HOME" "$ES_WORKDIR/home"
		chown -R nobody: "$ES_WORKDIR/home"
		ES_HOME="$ES_WORKDIR/home"
	fi
fi
# ES_WATCH_PID: a test binary that started this node; if it dies without stopping the node (a
# timeout panic, a kill), a watchdog ends the node's process group instead of leaving it running.
# Only meaningful when this script leads its own process group, as estest arranges.
if [ -n "${ES_WATCH_PID:-}" ] && [ "$(ps -o pgid= $$ | tr -d ' ')" = "$$" ]; then
	(
		while kill -0 "$ES_WATCH_PID" 2>/dev/null; do sleep 2; done
		trap '' TERM # outlive the signal to the group, to clean up after it
		kill -TERM -- "-$$" 2>/dev/null
		for _ in $(seq 60); do
			pgrep -g "$$" -x java >/dev/null || break
			sleep 0.5
		done
		pkill -KILL -g "$$" -x java 2>/dev/null || true # only this group's JVMs, not this shell
		sleep 0.5
		rm -rf "$ES_WORKDIR"
	) </dev/null >/dev/null 2>&1 &
fi
echo "start.sh: Elasticsearch $(basename "$ES_HOME") on http://127.0.0.1:$ES_HTTP_PORT, work dir $ES_WORKDIR" >&2
exec "${run[@]}" "$ES_HOME/bin/elasticsearch" "${args[@]}"
