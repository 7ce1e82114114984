#!/bin/bash
# The count of make test: reads LOGDIR/suites ("NAME STATUS" per suite run,
# in order) and each suite's TAP log LOGDIR/NAME.tap (check writes it when
# CK_TAP_LOG_FILE_NAME names it), names each suite that went wrong, and
# ends with one line "N passed, N failed".
#
#   scripts/tally.sh LOGDIR
#
# Beyond failed tests, a failure each: no suite at all, a suite without a
# TAP log (missing, not built, died before its end), one that ran no test,
# one that ran fewer tests than it planned, and one that exited non-zero
# though its tests passed (a leak report at exit, say). Exit status 1 when
# anything failed.
set -uo pipefail

dir=${1:?usage: $0 LOGDIR}
passed=0
failed=0
suites=0

# "ok not_ok plan" of one TAP log; plan is -1 without a plan line
count() {
	awk 'BEGIN { ok = 0; bad = 0; plan = -1 }
		/^ok / { ok++ } /^not ok / { bad++ }
		/^1\.\.[0-9]+/ { plan = substr($0, 4) + 0 }
		END { print ok, bad, plan }' "$1"
}

while read -r name rc; do
	[ -n "$name" ] || continue
	suites=$((suites + 1))
	tap=$dir/$name.tap
	if [ ! -f "$tap" ]; then
		echo "$name: no test log (status $rc): not built, or died before running its tests"
		failed=$((failed + 1))
		continue
	fi
	read -r ok bad plan < <(count "$tap")
	passed=$((passed + ok))
	failed=$((failed + bad))
	[ "$bad" -gt 0 ] && echo "$name: $bad failed"
	if [ "$plan" -lt 0 ] || [ $((ok + bad)) -ne "$plan" ]; then
		echo "$name: stopped after $((ok + bad)) tests (status $rc)"
		failed=$((failed + 1))
	elif [ "$plan" -eq 0 ]; then
		echo "$name: ran no test (is CK_RUN_SUITE, CK_RUN_CASE or a tag filter set?)"
		failed=$((failed + 1))
	elif [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
		echo "$name: exited with status $rc though its tests passed"
		failed=$((failed + 1))
	fi
done < <(cat "$dir/suites" 2>/dev/null)

if [ "$suites" -eq 0 ]; then
	echo "no suite ran"
	failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
