#!/bin/bash
# tests/peer_same.sh [BIN]: the quarter-end benchmark's peer (bench/peer) is
# the same service as workplan-api on its three routes. Both run on one
# seeded database (a throwaway cluster in var/peer-pg) and get the same
# requests (tests/peer_same.mjs): reading an action, progress for several
# quarters, a lead's update posted with an Idempotency-Key and again, one
# key sent four times at once, the same key with another body, a lead
# posting on another entity's action, a viewer posting, bad tokens, bad
# bodies. Their status codes and the JSON that matters must agree, and
# each stores every update once. make bench runs it before measuring; it
# is not part of make test.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${1:-bin}
pgdir=var/peer-pg
bench/peer/install.sh
export PGOPTIONS='-c client_min_messages=warning'
conninfo=$(scripts/pg.sh start "$pgdir" --fresh)
api_pid= peer_pid=
cleanup() {
	local rc=$? pid
	for pid in $api_pid $peer_pid; do
		kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
	done
	scripts/pg.sh stop "$pgdir" >/dev/null 2>&1 || true
	exit "$rc"
}
trap cleanup EXIT

free_port() {
	local p
	for p in $(seq "$1" "$(($1 + 900))"); do
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
	done
}
wait_up() {
	for _ in $(seq 100); do curl -s -o /dev/null "$1" && return; sleep 0.1; done
	echo "peer_same: nothing answers on $1" >&2
	exit 1
}

db=peer_same
psql "$conninfo dbname=postgres" -qc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
export DATABASE_URL="$conninfo dbname=$db"
"$bin/workplan-admin" migrate >/dev/null
"$bin/workplan-admin" seed >/dev/null
"$bin/workplan-admin" demo --actions 300 --updates 3000 --seed 1 >/dev/null
sql() { psql "$DATABASE_URL" -qAt -F ' ' -c "$1"; }
member() { # name email entity role: prints a new token of the new member
	"$bin/workplan-admin" member add --name "$1" --email "$2" --entity "$3" --role "$4" >/dev/null
	"$bin/workplan-admin" token create --email "$2" 2>/dev/null | tail -n 1
}

# the plan's last cycle with actions, its last quarter, the entity leading
# most of its actions, one action it leads and one it does not
read -r cycle period <<<"$(sql "SELECT c.label, c.end_year || '-Q4' FROM cycle c
	WHERE EXISTS (SELECT 1 FROM action a WHERE a.cycle = c.label) ORDER BY c.end_year DESC LIMIT 1")"
entity=$(sql "SELECT l.entity FROM action_lead l JOIN action a ON a.id = l.action_id
	WHERE a.cycle = '$cycle' AND NOT a.archived GROUP BY l.entity ORDER BY count(*) DESC, l.entity LIMIT 1")
export PEER_SAME_CYCLE=$cycle PEER_SAME_PERIOD=$period
export PEER_SAME_LED=$(sql "SELECT min(a.id) FROM action a JOIN action_lead l ON l.action_id = a.id
	WHERE a.cycle = '$cycle' AND NOT a.archived AND l.entity = '$entity'")
export PEER_SAME_OTHER=$(sql "SELECT min(a.id) FROM action a WHERE a.cycle = '$cycle' AND NOT a.archived
	AND NOT EXISTS (SELECT 1 FROM action_lead l WHERE l.action_id = a.id AND l.entity = '$entity')")
export PEER_SAME_VIEWER=$(member Viewer viewer@peer.example.org UNDP viewer)
export PEER_SAME_LEAD=$(member Lead lead@peer.example.org "$entity" lead)
export PEER_SAME_REVOKED=$(member Gone gone@peer.example.org UNDP viewer)
sql "UPDATE api_token SET revoked_at = now() WHERE member_id = (SELECT id FROM member
	WHERE email = 'gone@peer.example.org')"

port=$(free_port 18100)
WORKPLAN_RATE_LIMIT=0 WORKPLAN_LISTEN=127.0.0.1:$port WORKPLAN_LOG_LEVEL=warn "$bin/workplan-api" &
api_pid=$!
export PEER_SAME_API=http://127.0.0.1:$port
wait_up "$PEER_SAME_API/v1/health"
# node-postgres takes libpq's variables, not a conninfo string
pport=$(free_port $((port + 1)))
PEER_LISTEN=127.0.0.1:$pport PGDATABASE=$db PGUSER=postgres \
	PGHOST=$(sed 's/.*host=\([^ ]*\).*/\1/' <<<"$conninfo") PGPORT=$(sed 's/.*port=\([^ ]*\).*/\1/' <<<"$conninfo") \
	node bench/peer/server.mjs &
peer_pid=$!
export PEER_SAME_PEER=http://127.0.0.1:$pport
wait_up "$PEER_SAME_PEER/v1/progress"

before=$(sql "SELECT count(*) FROM status_update WHERE action_id = $PEER_SAME_LED")
node tests/peer_same.mjs
# each stored two updates, each once: the replays stored nothing
after=$(sql "SELECT count(*) FROM status_update WHERE action_id = $PEER_SAME_LED")
if [ "$after" != $((before + 4)) ]; then
	echo "peer_same: FAIL: $((after - before)) updates stored on action $PEER_SAME_LED, 4 expected" >&2
	exit 1
fi
echo "peer_same: workplan-api and bench/peer answered alike"
