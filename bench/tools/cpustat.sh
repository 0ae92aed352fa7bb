#!/usr/bin/env bash
# cpustat.sh LABEL BEFORE AFTER: how the machine's CPU time was spent between
# two `head -1 /proc/stat` snapshots, as one line. `make bench` prints it per
# round: on a shared VM, "steal" is time the hypervisor gave our vCPUs to
# someone else, and it moves wall-clock results (ns/op, calls/s) without any
# change in the code.
set -euo pipefail
label=$1
read -r _ u1 n1 s1 i1 w1 q1 sq1 st1 _ <<<"$2"
read -r _ u2 n2 s2 i2 w2 q2 sq2 st2 _ <<<"$3"
busy=$(( (u2+n2+s2+q2+sq2) - (u1+n1+s1+q1+sq1) ))
idle=$(( (i2+w2) - (i1+w1) ))
steal=$(( st2 - st1 ))
total=$(( busy + idle + steal ))
if (( total <= 0 )); then
	echo "# cpu $label: no ticks counted"
	exit 0
fi
awk -v l="$label" -v b=$busy -v i=$idle -v s=$steal -v t=$total 'BEGIN {
	printf "# cpu %s: busy %.1f%%, idle %.1f%%, steal %.1f%% of %d ticks\n", l, 100*b/t, 100*i/t, 100*s/t, t }'
