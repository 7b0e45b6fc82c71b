#!/bin/sh
# report-scale.sh - how tlspolicy-report scales: a chained log of N records
# (default 10,000,000, about 5 GB: a busy server's month) is generated,
# then the report (text, with the chain checked by the real verifier, as
# an auditor runs it: one pass of `tlspolicy-milter --verify-audit
# --report-data` checks and aggregates, the report renders) is timed, and
# its peak memory sampled: the largest process (GNU time) and the whole
# process tree (the report and the verifier together, sampled every
# 0.2 s).  "verifier alone" is --verify-audit without the aggregate.  The same at N/10
# shows memory does not grow with the number of records.  Not part of the
# test suite (it takes minutes and 5 GB of TMPDIR).
#
#   sh tests/bench/report-scale.sh MILTER [N]
#
# Prints one line per size, and exits 1 when the report fails or the
# target (N records under 60 s) is missed.
#
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The tlspolicy-milter authors
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
milter=${1:?usage: report-scale.sh MILTER [N]}
n=${2:-10000000}
w=$(mktemp -d "${TMPDIR:-/tmp}/report-scale.XXXXXX")
trap 'rm -rf "$w"' EXIT
status=0

# sample - largest sum of RSS (KiB) of process group $1 into $2, every
# 0.2 s until the file $3 exists
sample() {
	_max=0
	while [ ! -e "$3" ]; do
		_s=$(ps -o rss= -g "$1" 2>/dev/null | awk '{s += $1} END {print s + 0}')
		[ "$_s" -gt "$_max" ] && _max=$_s
		sleep 0.2
	done
	echo "$_max" >"$2"
}

run() {
	_n=$1
	_t0=$(date +%s.%N)
	python3 "$top/tests/report/gen.py" scale "$w/audit.jsonl" "$_n" >/dev/null ||
	    { echo "generation failed"; exit 1; }
	_gen=$(echo "$(date +%s.%N) - $_t0" | bc)
	_size=$(wc -c <"$w/audit.jsonl")
	_t0=$(date +%s.%N)
	"$milter" --verify-audit "$w/audit.jsonl" >"$w/verify.out"
	_ver=$(echo "$(date +%s.%N) - $_t0" | bc)
	setsid /usr/bin/time -f '%e %U %S %M' -o "$w/time.out" \
	    python3 "$top/report/tlspolicy-report" --verifier "$milter" \
	    "$w/audit.jsonl" >"$w/report.out" 2>"$w/report.err" &
	_pid=$!
	rm -f "$w/done"
	sample "$_pid" "$w/tree.out" "$w/done" &
	_spid=$!
	wait "$_pid"
	_rc=$?
	: >"$w/done"
	wait "$_spid"
	_tree=$(cat "$w/tree.out")
	read -r _wall _user _sys _max <"$w/time.out"
	_first=$(head -1 "$w/report.out")
	case $_first in
	"Evidence verified: $_n records"*) ;;
	*) echo "FAIL: report over $_n records: exit $_rc: $_first"; cat "$w/report.err"; status=1 ;;
	esac
	printf '%s records (%s bytes; generated in %.0f s; verifier alone %.1f s): report %.1f s wall, %.1f s CPU (user+sys, all processes), peak RSS %d KiB (largest process), %d KiB (process tree)\n' \
	    "$_n" "$_size" "$_gen" "$_ver" "$_wall" "$(echo "$_user + $_sys" | bc)" "$_max" "$_tree"
	rm -f "$w/audit.jsonl"
	wall=$_wall
}

command -v bc >/dev/null || { echo "report-scale.sh needs bc"; exit 1; }
command -v /usr/bin/time >/dev/null || { echo "report-scale.sh needs GNU time"; exit 1; }
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); cores: $(nproc)"
run $((n / 10))
run "$n"
big=$wall
if [ "$(echo "$big < 60" | bc)" -eq 1 ]; then
	echo "target met: $n records in $big s (under 60 s)"
else
	echo "target MISSED: $n records in $big s (target: under 60 s)"
	status=1
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
exit $status
