#!/bin/bash
# make run: PostgreSQL (a private cluster under var/pg unless DATABASE_URL
# is set), migrations, the Network's work plan, a co-chair token in
# var/cochair.token, then the API and one worker in the foreground.
# Ctrl-C stops both. Run again, it reuses the cluster and its data.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${1:-bin}
mkdir -p var

private=
if [ -z "${DATABASE_URL:-}" ]; then
	private=var/pg
	conninfo=$(scripts/pg.sh start var/pg)
	if ! psql "$conninfo dbname=postgres" -qAt -c "SELECT 1 FROM pg_database WHERE datname = 'workplan'" | grep -q 1; then
		psql "$conninfo dbname=postgres" -q -c "CREATE DATABASE workplan"
	fi
	export DATABASE_URL="$conninfo dbname=workplan"
fi

"$bin/workplan-admin" migrate
"$bin/workplan-admin" seed

# A co-chair to try the service with: reuse the saved token while it works.
email=cochair@workplan.invalid
token_ok() {
	[ -s var/cochair.token ] || return 1
	local hash
	hash=$(tr -d '\n' <var/cochair.token | sha256sum | cut -d' ' -f1)
	psql "$DATABASE_URL" -qAt -c "SELECT 1 FROM api_token WHERE hash = '\\x$hash' AND revoked_at IS NULL" | grep -q 1
}
if ! token_ok; then
	if ! psql "$DATABASE_URL" -qAt -c "SELECT 1 FROM member WHERE email = '$email'" | grep -q 1; then
		"$bin/workplan-admin" member add --name "Network co-chair (OHCHR)" --email "$email" \
			--entity OHCHR --role cochair >/dev/null
	fi
	(umask 077 && "$bin/workplan-admin" token create --email "$email" --label "make run" 2>/dev/null |
		tail -n 1 >var/cochair.token)
fi

listen=${WORKPLAN_LISTEN:-127.0.0.1:8080}
# links the service sends (and the origin browsers' writes must come from)
# follow a loopback listen address unless WORKPLAN_PUBLIC_URL says otherwise
case $listen in 127.*|localhost:*|\[::1\]:*) export WORKPLAN_PUBLIC_URL=${WORKPLAN_PUBLIC_URL:-http://$listen} ;; esac
# a fresh one-time sign-in link for the browser (15 minutes)
signin=$("$bin/workplan-admin" link --email "$email" 2>/dev/null || echo "(none: workplan-admin link --email $email)")
cat <<MSG

  Workplan service on http://$listen
  Co-chair token (also in var/cochair.token):
    $(cat var/cochair.token)
  Co-chair sign-in link for a browser (works once, within 15 minutes;
  a new one: bin/workplan-admin link --email $email):
    $signin
  Try:
    curl http://$listen/v1/health
    curl -H "Authorization: Bearer \$(cat var/cochair.token)" http://$listen/v1/pillars
  Ctrl-C stops the API and the worker.

MSG

pids=()
stop() {
	trap - INT TERM
	kill -TERM "${pids[@]}" 2>/dev/null || true
	wait "${pids[@]}" 2>/dev/null || true
	# the private cluster stops too; its data stays for the next run
	[ -n "$private" ] && scripts/pg.sh stop "$private"
	exit "${1:-0}"
}
trap stop INT TERM
"$bin/workplan-worker" & pids+=($!)
"$bin/workplan-api" & pids+=($!)
# if either exits on its own (a port in use, say), stop the other
rc=0
wait -n "${pids[@]}" || rc=$?
stop "$rc"
