#!/bin/bash
# make test: a throwaway PostgreSQL cluster under var/test-pg, a migrated
# and seeded template database, then every check suite: unit suites first,
# then the end-to-end suites that start the real binaries.
set -uo pipefail
cd "$(dirname "$0")/.."

bin=${1:-bin}
tests=${2:-build/out/tests}
pgdir=var/test-pg
logdir=var/test-logs

rm -rf "$logdir" && mkdir -p "$logdir"
conninfo=$(scripts/pg.sh start "$pgdir" --fresh) || exit 1
# a suite that dies mid-way must not leave its servers behind
trap 'pkill -f "^$PWD/$bin/workplan-(api|worker)" 2>/dev/null; scripts/pg.sh stop "$pgdir" >/dev/null 2>&1' EXIT

# the OpenAPI validator and Stoplight Prism's validating proxy, from the npm
# registry, pinned by package-lock.json (again when the lock changed)
if [ ! -d tests/openapi/node_modules/@seriousme ] || [ ! -x tests/openapi/node_modules/.bin/prism ] ||
	[ tests/openapi/package-lock.json -nt tests/openapi/node_modules/.package-lock.json ]; then
	(cd tests/openapi && npm ci --no-audit --no-fund --loglevel=error) ||
		{ echo "test: cannot install the OpenAPI validator and Prism from the npm registry" >&2; exit 1; }
fi

psql_() { psql "$conninfo dbname=${1}" -v ON_ERROR_STOP=1 -qAt -c "$2"; }
psql_ postgres "CREATE DATABASE workplan_template" || exit 1
DATABASE_URL="$conninfo dbname=workplan_template" "$bin/workplan-admin" migrate >/dev/null || exit 1
DATABASE_URL="$conninfo dbname=workplan_template" "$bin/workplan-admin" seed >/dev/null || exit 1

export WORKPLAN_TEST_CONNINFO="$conninfo"
export WORKPLAN_TEST_PGDIR="$pgdir"
export WORKPLAN_TEST_LOGDIR="$PWD/$logdir"
export WORKPLAN_BIN="$PWD/$bin"
export WORKPLAN_ABORT_ON_BUG=1
export CK_DEFAULT_TIMEOUT=${CK_DEFAULT_TIMEOUT:-120}
unset DATABASE_URL

failed=()
# SUITE=cache runs tests/check_cache.c alone
for t in "$tests"/check_${SUITE:-*}; do
	[ -x "$t" ] || continue
	"$t" || failed+=("$(basename "$t")")
done

# the servers' own logs: a sanitizer report or a bug there fails the run
if grep -l -E "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|BUG at " "$logdir"/* 2>/dev/null; then
	failed+=("server logs above")
fi

echo
if [ ${#failed[@]} -gt 0 ]; then
	echo "FAILED: ${failed[*]} (server logs in $logdir/)"
	exit 1
fi
echo "all test suites passed"
