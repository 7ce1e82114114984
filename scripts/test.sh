#!/bin/bash
# make test: a throwaway PostgreSQL cluster under var/test-pg, a migrated
# and seeded template database, then every check suite (unit and
# end-to-end) and the replay of each fuzz corpus; the last line counts
# every test: "N passed, N failed". A suite that is missing, runs no test
# or stops short fails the run, as does a SUITE that names none.
set -uo pipefail
cd "$(dirname "$0")/.."

bin=${1:-bin}
tests=${2:-build/out/tests}
# the API built with fault points (api/fault.h): only the crash tests run it
fault_api=${3:-build/out/faults/workplan-api}
pgdir=var/test-pg
logdir=var/test-logs

# check would quietly run a part of each suite, or none of it
unset CK_RUN_SUITE CK_RUN_CASE CK_INCLUDE_TAGS CK_EXCLUDE_TAGS

# Every suite the sources define: tests/check_NAME.c, and the corpus replay
# check_fuzz_NAME of each tests/fuzz/fuzz_NAME.c. SUITE=cache runs
# check_cache alone (a pattern: SUITE='fuzz_*').
all=()
for f in tests/check_*.c tests/fuzz/fuzz_*.c; do
	case $f in
	tests/fuzz/fuzz_common.c) ;;
	tests/fuzz/*) all+=("check_$(basename "$f" .c)") ;;
	*) all+=("$(basename "$f" .c)") ;;
	esac
done
suites=()
for name in "${all[@]}"; do
	# shellcheck disable=SC2053 # SUITE is a pattern
	[[ $name == check_${SUITE:-*} ]] && suites+=("$name")
done
if [ ${#suites[@]} -eq 0 ]; then
	echo "test: SUITE=$SUITE names no suite; the suites: ${all[*]#check_}" >&2
	exit 1
fi

rm -rf "$logdir" && mkdir -p "$logdir"
conninfo=$(scripts/pg.sh start "$pgdir" --fresh) || exit 1
# a suite that dies mid-way must not leave its servers behind
trap 'pkill -f "^$PWD/($bin/workplan-(api|worker)|$fault_api)" 2>/dev/null; scripts/pg.sh stop "$pgdir" >/dev/null 2>&1' EXIT

# the OpenAPI validator and Stoplight Prism's validating proxy, from the npm
# registry, pinned by package-lock.json (again when the lock changed)
if [ ! -d tests/openapi/node_modules/@seriousme ] || [ ! -x tests/openapi/node_modules/.bin/prism ] ||
	[ tests/openapi/package-lock.json -nt tests/openapi/node_modules/.package-lock.json ]; then
	(cd tests/openapi && npm ci --no-audit --no-fund --loglevel=error) ||
		{ echo "test: cannot install the OpenAPI validator and Prism from the npm registry" >&2; exit 1; }
fi
# the browser that judges pages (Debian's chromium, from scripts/deps.sh)
# and what drives it: playwright-core and axe-core, pinned the same way
if [ ! -f tests/browser/node_modules/.package-lock.json ] ||
   [ tests/browser/package-lock.json -nt tests/browser/node_modules/.package-lock.json ]; then
	(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error) ||
		{ echo "test: cannot install playwright-core and axe-core from the npm registry" >&2; exit 1; }
fi

psql_() { psql "$conninfo dbname=${1}" -v ON_ERROR_STOP=1 -qAt -c "$2"; }
psql_ postgres "CREATE DATABASE workplan_template" || exit 1
DATABASE_URL="$conninfo dbname=workplan_template" "$bin/workplan-admin" migrate >/dev/null || exit 1
DATABASE_URL="$conninfo dbname=workplan_template" "$bin/workplan-admin" seed >/dev/null || exit 1

export WORKPLAN_TEST_CONNINFO="$conninfo"
export WORKPLAN_TEST_PGDIR="$pgdir"
export WORKPLAN_TEST_LOGDIR="$PWD/$logdir"
export WORKPLAN_BIN="$PWD/$bin"
export WORKPLAN_FAULT_API="$PWD/$fault_api"
export WORKPLAN_ABORT_ON_BUG=1
export CK_DEFAULT_TIMEOUT=${CK_DEFAULT_TIMEOUT:-120}
unset DATABASE_URL

# each suite's status in $logdir/suites and its tests in $logdir/NAME.tap,
# counted by scripts/tally.sh
: >"$logdir/suites"
for name in "${suites[@]}"; do
	t=$tests/$name
	rc=127
	if [ -x "$t" ]; then
		CK_TAP_LOG_FILE_NAME="$logdir/$name.tap" "$t"
		rc=$?
	fi
	# a corpus replay is not a check suite: one test, its status
	if [[ $name == check_fuzz_* ]] && [ -x "$t" ]; then
		printf '%s 1 - %s replays its corpus\n1..1\n' "$([ $rc -eq 0 ] && echo ok || echo not ok)" \
			"$name" >"$logdir/$name.tap"
	fi
	echo "$name $rc" >>"$logdir/suites"
done

# the servers' own logs: a sanitizer report or a bug there fails the run
# (a test that provokes a bug on purpose moves its log to expected-bugs/)
if grep -l -E "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|BUG at " \
	--exclude='*.tap' --exclude=suites "$logdir"/* 2>/dev/null; then
	printf 'not ok 1 - the server logs above have a sanitizer report or a bug\n1..1\n' \
		>"$logdir/server-logs.tap"
	echo "server-logs 1" >>"$logdir/suites"
fi

echo
echo "server logs in $logdir/"
scripts/tally.sh "$logdir"
