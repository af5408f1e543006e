#!/bin/sh
# Runs `make test` while every core is kept busy, as on a shared CI runner, to show that no test
# depends on a quiet machine: every wait in the suite is bounded by the liveness of what it waits
# for, not by a short timer.
#
# The load is bounded: one busy-looping shell per core (LOAD_WORKERS overrides the count), each of
# which stops when this script ends, however it ends: on exit or a signal the script kills them,
# and each also checks every moment that the script is still alive, so even a kill -9 of the
# script leaves nothing spinning. Arguments are passed to make (e.g. DEX_PORT=...).
set -eu
cd "$(dirname "$0")/.."

workers=${LOAD_WORKERS:-$(nproc)}
parent=$$
pids=
stop_load() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	for p in $pids; do wait "$p" 2>/dev/null || true; done
}
trap stop_load EXIT
trap 'exit 130' INT TERM

i=0
while [ "$i" -lt "$workers" ]; do
	sh -c 'while kill -0 "$1" 2>/dev/null; do n=0; while [ $n -lt 20000 ]; do n=$((n + 1)); done; done' load "$parent" &
	pids="$pids $!"
	i=$((i + 1))
done
echo "test-under-load: $workers busy worker(s) started (pids$pids); running make test" >&2

status=0
make test "$@" || status=$?
echo "test-under-load: make test exited $status; stopping the load" >&2
exit "$status"
