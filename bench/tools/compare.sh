#!/usr/bin/env bash
# `make bench-tools`: requests/s of `loadgen --mode single` in closed loop
# against wrk, bombardier, vegeta and hey, one after the other, against the
# same stand-in node (cmd/devnet on a free loopback port), with the same
# connections, the same duration and the same single-call body. Prints each
# tool's requests/s and loadgen's ratio to it, with the bars of issue 8:
# ≥ 0.9× wrk, ≥ 1.0× bombardier, ≥ 2× vegeta and hey.
#
# wrk and hey come from Debian packages (apt-get, when missing and root),
# bombardier and vegeta from the Go module proxy into $BIN.
#
# Knobs: CONNS (default 16), DURATION in seconds per run (default 10),
# ROUNDS (default 3). Each tool runs right beside a loadgen run and the ratio
# is taken within the pair (the machine is shared); the verdict is the median
# ratio over the rounds.
set -euo pipefail
cd "$(dirname "$0")/../.."

GO=${GO:-go}
BIN=${BIN:-$PWD/bin}
OUT=${OUT:-$PWD/out}
CONNS=${CONNS:-16}
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
BOMBARDIER_VERSION=${BOMBARDIER_VERSION:-v1.2.6}
VEGETA_VERSION=${VEGETA_VERSION:-v12.13.0}
mkdir -p "$BIN" "$OUT"
export PATH="$BIN:$PATH"

work=$(mktemp -d)
devnet_pid=""
# Every exit path ends in cleanup: success, failure (set -e), Ctrl-C, kill,
# hang-up. A signal without a trap would kill the script without running the
# EXIT trap and orphan the stand-in and whichever tool was running, so INT,
# TERM and HUP exit through it. cleanup stops every process this script
# started (the tools run in subshells, so it walks the tree by parent pid).
kill_tree() {
	local child
	for child in $(pgrep -P "$1" 2>/dev/null); do
		kill_tree "$child"
	done
	kill "$1" 2>/dev/null || true
}
cleanup() {
	local child
	trap - INT TERM HUP
	for child in $(pgrep -P $$ 2>/dev/null); do
		kill_tree "$child"
	done
	# Without pgrep (procps) the walk finds nothing: stop the stand-in anyway.
	[ -z "${devnet_pid:-}" ] || kill "$devnet_pid" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# --- tools -----------------------------------------------------------------
apt_install() {
	local missing=()
	for pkg in "$@"; do command -v "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "missing ${missing[*]}: install them (apt-get install ${missing[*]}) and re-run" >&2
		exit 1
	fi
	echo "== apt-get install ${missing[*]}"
	apt-get update -qq >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}
apt_install wrk hey
[ -x "$BIN/bombardier" ] || { echo "== go install bombardier@$BOMBARDIER_VERSION"; GOBIN="$BIN" "$GO" install "github.com/codesenberg/bombardier@$BOMBARDIER_VERSION"; }
[ -x "$BIN/vegeta" ] || { echo "== go install vegeta@$VEGETA_VERSION"; GOBIN="$BIN" "$GO" install "github.com/tsenart/vegeta/v12@$VEGETA_VERSION"; }
echo "== building cmd/devnet and cmd/loadgen"
"$GO" build -o "$BIN/devnet" ./cmd/devnet
"$GO" build -o "$BIN/loadgen" ./cmd/loadgen

# --- stand-in node ---------------------------------------------------------
"$BIN/devnet" --addr 127.0.0.1:0 >"$work/devnet.log" 2>&1 &
devnet_pid=$!
base=""
for _ in $(seq 1 100); do
	base=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$work/devnet.log" | head -n 1 || true)
	[ -n "$base" ] && break
	kill -0 "$devnet_pid" 2>/dev/null || { cat "$work/devnet.log" >&2; exit 1; }
	sleep 0.1
done
[ -n "$base" ] || { echo "devnet did not start" >&2; exit 1; }
url="$base/v3"

# The same single call for every tool.
body='{"jsonrpc":"2.0","id":1,"method":"node-info","params":{}}'
printf '%s' "$body" >"$work/body.json"
printf '{"method":"node-info","params":{}}\n' >"$work/workload.jsonl"
cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.body   = '$body'
wrk.headers["Content-Type"] = "application/json"
LUA
printf 'POST %s\nContent-Type: application/json\n@%s\n' "$url" "$work/body.json" >"$work/vegeta.targets"

# Each function prints requests/s (all answered requests / wall time).
run_wrk() {
	wrk -t 2 -c "$CONNS" -d "${DURATION}s" -s "$work/post.lua" "$url" | awk '/^Requests\/sec:/ {print $2}'
}
run_bombardier() {
	bombardier -c "$CONNS" -d "${DURATION}s" -m POST -H 'Content-Type: application/json' -f "$work/body.json" \
		-p r -o json "$url" >"$work/bombardier.json"
	# requests answered (any status) over the time taken
	local n t
	n=$(grep -o '"req[1-5]xx":[0-9]*' "$work/bombardier.json" | awk -F: '{s += $2} END {print s}')
	t=$(grep -o '"timeTakenSeconds":[0-9.e+-]*' "$work/bombardier.json" | cut -d: -f2)
	awk -v n="$n" -v t="$t" 'BEGIN {printf "%.2f\n", n / t}'
}
run_vegeta() {
	vegeta attack -targets "$work/vegeta.targets" -rate 0 -workers "$CONNS" -max-workers "$CONNS" \
		-max-connections "$CONNS" -duration "${DURATION}s" -keepalive >"$work/vegeta.bin"
	# "Requests [total, rate, throughput]": rate is requests sent per second
	vegeta report -type text <"$work/vegeta.bin" | awk -F'[],[ ]+' '/^Requests/ {print $(NF-1)}'
}
run_hey() {
	hey -z "${DURATION}s" -c "$CONNS" -m POST -T application/json -D "$work/body.json" "$url" | awk '/Requests\/sec:/ {print $2}'
}
run_loadgen() {
	loadgen --target "$url" --mode single --connections "$CONNS" --workers "$CONNS" --duration "${DURATION}s" \
		--warmup 0s --workload "$work/workload.jsonl" --progress off | awk '/^  requests/ {print $4}'
}

# Each tool is measured right next to a loadgen run (alternating which goes
# first), and the ratio is taken within that pair: the machine is shared, so
# only runs seconds apart are comparable. The verdict uses the median ratio
# over the rounds.
# measure runs one tool and leaves its requests/s in $measured. It runs in
# the script's own shell (not in a $(…) subshell), with the tool in the
# background and waited for, so that a signal is acted on at once: bash
# defers traps until a foreground command ends.
measured=""
measure() {
	local t=$1 round=$2
	echo "== round $round: $t, $CONNS connections, ${DURATION}s, closed loop" >&2
	"run_$t" >"$work/value" &
	wait $! || { echo "$t failed" >&2; exit 1; }
	measured=$(cat "$work/value")
	[ -n "$measured" ] || { echo "$t printed no requests/s" >&2; exit 1; }
	echo "   $t: $measured req/s" >&2
}
median() { sort -g | awk '{a[NR] = $1} END {if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

: >"$work/pairs"
for round in $(seq 1 "$ROUNDS"); do
	for t in wrk bombardier vegeta hey; do
		if [ $((round % 2)) -eq 1 ]; then
			measure loadgen "$round"; lg=$measured
			measure "$t" "$round"; tv=$measured
		else
			measure "$t" "$round"; tv=$measured
			measure loadgen "$round"; lg=$measured
		fi
		echo "$t $round $tv $lg" >>"$work/pairs"
	done
done

{
	echo "machine: $(nproc) cores, $(uname -sr), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
	echo "command: CONNS=$CONNS DURATION=$DURATION ROUNDS=$ROUNDS make bench-tools"
	echo "each tool ran beside a loadgen run; ratio = loadgen/tool within the pair, median over $ROUNDS round(s)"
	printf '%-11s %12s %14s %16s %6s %s\n' tool "tool req/s" "loadgen req/s" "loadgen/tool" bar verdict
	for t in wrk bombardier vegeta hey; do
		case $t in wrk) bar=0.9 ;; bombardier) bar=1.0 ;; *) bar=2.0 ;; esac
		tv=$(awk -v t="$t" '$1 == t {print $3}' "$work/pairs" | median)
		lg=$(awk -v t="$t" '$1 == t {print $4}' "$work/pairs" | median)
		r=$(awk -v t="$t" '$1 == t {print $4 / $3}' "$work/pairs" | median)
		rounds=$(awk -v t="$t" '$1 == t {printf "%s%.2f", sep, $4 / $3; sep = " "}' "$work/pairs")
		awk -v t="$t" -v tv="$tv" -v lg="$lg" -v r="$r" -v bar="$bar" -v rounds="$rounds" 'BEGIN {
			printf "%-11s %12.0f %14.0f %15.2f× %5.1f× %s (rounds: %s)\n", t, tv, lg, r, bar, (r >= bar ? "meets the bar" : "BELOW the bar"), rounds }'
	done
} | tee "$OUT/bench-tools.txt"
