#!/usr/bin/env bash
# The main job (`make run`): build the stand-in node and the load generator,
# start the stand-in in the background on a free loopback port, run a compare
# (single calls vs batched, 5 s each after a 1 s warm-up) on the built-in
# Accumulate read mix, print the report, write the results and the plot into
# $OUT, and stop the stand-in. Nothing is left running, whatever happens.
set -euo pipefail
cd "$(dirname "$0")/../.."

GO=${GO:-go}
BIN=${BIN:-$PWD/bin}
OUT=${OUT:-$PWD/out}
DURATION=${DURATION:-5s}
mkdir -p "$BIN" "$OUT"

log=$(mktemp)
devnet_pid=""
loadgen_pid=""
# Every exit path ends here: success, failure (set -e), Ctrl-C, kill, hang-up.
# bash runs the EXIT trap on its own exit, but a signal without a trap kills
# the script without it and would orphan both programs, so INT, TERM and HUP
# are trapped to exit through it. loadgen runs in the background and is
# waited for, because bash defers traps until a foreground command ends: a
# kill would otherwise only take effect after the whole run.
cleanup() {
	for pid in $loadgen_pid $devnet_pid; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in $loadgen_pid $devnet_pid; do
		wait "$pid" 2>/dev/null || true
	done
	rm -f "$log"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

echo "== building cmd/devnet and cmd/loadgen into $BIN"
"$GO" build -o "$BIN/devnet" ./cmd/devnet
"$GO" build -o "$BIN/loadgen" ./cmd/loadgen

"$BIN/devnet" --addr 127.0.0.1:0 >"$log" 2>&1 &
devnet_pid=$!

# The stand-in prints its URL once it is serving.
url=""
for _ in $(seq 1 100); do
	url=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$log" | head -n 1 || true)
	[ -n "$url" ] && break
	if ! kill -0 "$devnet_pid" 2>/dev/null; then
		echo "devnet did not start:" >&2
		cat "$log" >&2
		exit 1
	fi
	sleep 0.1
done
if [ -z "$url" ]; then
	echo "devnet did not print its URL within 10 s" >&2
	exit 1
fi
echo "== stand-in node at $url"

"$BIN/loadgen" --target "$url/v3" --mode compare --duration "$DURATION" --warmup 1s \
	--out "$OUT/run.json" --hgrm "$OUT/run.hgrm" --plot "$OUT/run.png" &
loadgen_pid=$!
status=0
wait "$loadgen_pid" || status=$?
loadgen_pid=""
[ "$status" -eq 0 ] || exit "$status"
echo "== results: $OUT/run-single.json $OUT/run-batch.json (.hgrm beside them); plot: $OUT/run.png"
