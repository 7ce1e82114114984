#!/bin/bash
# make test-cluster: the service as several hosts (SPEC 15), on one machine.
# As root, it makes Linux network namespaces as hosts, joined by a bridge in
# a namespace of its own (nothing touches the machine's own network):
#   pg 10.213.0.10   PostgreSQL (a cluster of its own under var/)
#   a1 .11, a2 .12   workplan-api
#   w1 .21, w2 .22   workplan-worker
#   lb .30           HAProxy (deploy/haproxy.cfg) on :8080, and the clients
# and checks:
#   1. a write on one API host shows on the other within 100 ms at p99,
#      under a load of reads through HAProxy (the distribution is printed);
#   2. killing an API host under a load of writes fails only the requests
#      in flight there, and clients retrying with their Idempotency-Keys
#      lose nothing and double nothing (counted in the database);
#   3. killing the worker building a report lets the other finish it;
#   4. a restart of PostgreSQL is survived by both APIs and both workers;
#   5. an API host whose listening connection is cut serves nothing stale.
# Everything it made (namespaces, processes, the cluster's folder) goes on
# exit, whether it passed or not.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
bin=${1:-bin}
[ "$(id -u)" -eq 0 ] || { echo "test-cluster: run as root (it makes network namespaces)" >&2; exit 1; }
for t in ip haproxy wrk python3 runuser; do
	command -v $t >/dev/null || { echo "test-cluster: $t missing (scripts/deps.sh)" >&2; exit 1; }
done
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)

id=wpc$$ # unique: namespaces and folders are named after this run
net=10.213.0
hosts="pg a1 a2 w1 w2 lb"
declare -A addr=([pg]=$net.10 [a1]=$net.11 [a2]=$net.12 [w1]=$net.21 [w2]=$net.22 [lb]=$net.30)
dir=$root/var/$id
# PostgreSQL runs as 'postgres', which must reach its folder: a checkout in a
# private home (root's /root is 700) keeps it in /var/lib/workplan-pg instead
pgdir=$dir/pg
mkdir -p "$root/var"
if ! runuser -u postgres -- test -x "$root/var"; then
	pgdir=/var/lib/workplan-pg/$id
	mkdir -p /var/lib/workplan-pg && chmod 755 /var/lib/workplan-pg
fi
pids=()
fail() { echo "test-cluster: FAIL: $*" >&2; exit 1; }
say() { echo "test-cluster: $*"; }

cleanup() {
	set +e
	if [ -f "$pgdir/data/postmaster.pid" ]; then
		ip netns exec "${id}pg" runuser -u postgres -- "$pgbin/pg_ctl" -D "$pgdir/data" -m immediate stop >/dev/null 2>&1
	fi
	for p in "${pids[@]}"; do kill -CONT "$p" 2>/dev/null; kill -9 "$p" 2>/dev/null; done
	# and whatever else still runs in the namespaces this run made
	for h in $hosts; do
		for p in $(ip netns pids "$id$h" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
	done
	for h in $hosts hub; do ip netns del "$id$h" 2>/dev/null; done
	if [ -n "${KEEP_LOGS:-}" ]; then
		echo "test-cluster: logs in $dir/log and $pgdir/postgresql.log"
	else
		rm -rf "$dir" "$pgdir"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

at() { local h=$1; shift; ip netns exec "$id$h" "$@"; }

# --- the network: a bridge in its own namespace, a veth to each host ---
ip netns add "${id}hub"
ip -n "${id}hub" link add br0 type bridge
ip -n "${id}hub" link set br0 up
for h in $hosts; do
	ip netns add "$id$h"
	ip -n "${id}hub" link add "v$h" type veth peer name eth0 netns "$id$h"
	ip -n "${id}hub" link set "v$h" master br0 up
	ip -n "$id$h" addr add "${addr[$h]}/24" dev eth0
	ip -n "$id$h" link set eth0 up
	ip -n "$id$h" link set lo up
done


# --- PostgreSQL on 10.213.0.10, password authentication over the bridge ---
mkdir -p "$pgdir" "$dir/log"
password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
echo "$password" >"$pgdir/pw"
chown -R postgres "$pgdir"
# (from /: PostgreSQL's programs complain of a folder postgres cannot enter)
(cd / && runuser -u postgres -- "$pgbin/initdb" -D "$pgdir/data" -U postgres --auth-local=peer \
	--auth-host=scram-sha-256 --pwfile="$pgdir/pw" >"$dir/log/initdb.log")
mkdir -p "$pgdir/run" && chown postgres "$pgdir/run"
cat >>"$pgdir/data/postgresql.conf" <<EOF
listen_addresses = '${addr[pg]}'
port = 5432
unix_socket_directories = '$pgdir/run'
max_connections = 200
EOF
echo "host all all $net.0/24 scram-sha-256" >>"$pgdir/data/pg_hba.conf"
pg_ctl() { (cd / && at pg runuser -u postgres -- "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/postgresql.log" -w "$@" >/dev/null); }
pg_ctl start
url="host=${addr[pg]} port=5432 user=postgres password=$password dbname=workplan connect_timeout=2"
(cd / && at pg runuser -u postgres -- psql -h "$pgdir/run" -qc "CREATE DATABASE workplan" postgres)
sql() { at pg psql "$url" -Atqc "$1"; }
at pg env DATABASE_URL="$url" "$bin/workplan-admin" migrate >/dev/null
at pg env DATABASE_URL="$url" "$bin/workplan-admin" seed >/dev/null
at pg env DATABASE_URL="$url" "$bin/workplan-admin" member add --name "Cluster Co-chair" \
	--email cochair@cluster.example.org --entity OHCHR --role cochair >/dev/null
token=$(at pg env DATABASE_URL="$url" "$bin/workplan-admin" token create --email cochair@cluster.example.org | tail -n 1)

# --- the hosts ---
api_start() { # host
	# not through a function: $! must be the program's own pid (ip and env exec it)
	ip netns exec "$id$1" env DATABASE_URL="$url" WORKPLAN_LISTEN="${addr[$1]}:8080" \
		WORKPLAN_RATE_LIMIT=0 WORKPLAN_TRUSTED_PROXIES="${addr[lb]}" "$bin/workplan-api" >>"$dir/log/$1.log" 2>&1 &
	pids+=($!)
	eval "pid_$1=$!"
}
worker_start() { # host
	ip netns exec "$id$1" env DATABASE_URL="$url" WORKPLAN_JOB_LEASE_S=3 WORKPLAN_POLL_MS=200 \
		"$bin/workplan-worker" >>"$dir/log/$1.log" 2>&1 &
	pids+=($!)
	eval "pid_$1=$!"
}
healthy() { # host: /v1/health answers 200 within 10 s
	for _ in $(seq 100); do
		[ "$(at lb curl -s -o /dev/null -w '%{http_code}' "http://${addr[$1]}:8080/v1/health")" = 200 ] && return 0
		sleep 0.1
	done
	return 1
}
listening() { # host: its cache listens (within 10 s)
	for _ in $(seq 100); do
		[ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'workplan-api-cache'
			AND client_addr = '${addr[$1]}'")" = 1 ] && return 0
		sleep 0.1
	done
	return 1
}
api_start a1
api_start a2
worker_start w1
worker_start w2
healthy a1 && healthy a2 || fail "the APIs did not come up (logs in $dir/log, KEEP_LOGS=1)"
listening a1 && listening a2 || fail "the APIs' caches do not listen"
WORKPLAN_LB_BIND="${addr[lb]}:8080" WORKPLAN_API1="${addr[a1]}:8080" WORKPLAN_API2="${addr[a2]}:8080" \
	haproxy -q -c -f "$root/deploy/haproxy.cfg" || fail "deploy/haproxy.cfg is not valid"
ip netns exec "${id}lb" env WORKPLAN_LB_BIND="${addr[lb]}:8080" WORKPLAN_API1="${addr[a1]}:8080" \
	WORKPLAN_API2="${addr[a2]}:8080" haproxy -db -f "$root/deploy/haproxy.cfg" >>"$dir/log/haproxy.log" 2>&1 &
pids+=($!)
lb=${addr[lb]}:8080
for _ in $(seq 100); do
	[ "$(at lb curl -s -o /dev/null -w '%{http_code}' "http://$lb/v1/health")" = 200 ] && break
	sleep 0.1
done
say "hosts up: PostgreSQL ${addr[pg]}, APIs ${addr[a1]} ${addr[a2]}, workers ${addr[w1]} ${addr[w2]}, HAProxy $lb"

load() { # seconds: reads through HAProxy in the background
	ip netns exec "${id}lb" env WORKPLAN_TOKEN="$token" wrk -t 1 -c 8 -d "$1s" -s tests/cluster/reads.lua "http://$lb" \
		>"$dir/log/wrk-$(date +%s%N).log" 2>&1 &
	pids+=($!)
}
py() { at lb python3 tests/cluster/load.py "$@"; }

# 1. cross-host freshness under load
say "1. a write on one host, read on the other (under a load of reads through HAProxy)"
load 30
sleep 1
# (the other checks still run when this one fails)
fresh_failed=
py fresh "${addr[a1]}:8080" "${addr[a2]}:8080" "$token" 300 || fresh_failed=1
py fresh "${addr[a2]}:8080" "${addr[a1]}:8080" "$token" 100 || fresh_failed=1

# 2. an API host killed under a load of writes
say "2. kill -9 of an API host under a load of writes with Idempotency-Keys"
before=$(sql "SELECT count(*) FROM status_update")
ip netns exec "${id}lb" python3 tests/cluster/load.py writers "$lb" "$token" 8 6 "$dir/keys" &
writers=$!
sleep 2
kill -9 "$pid_a1"
say "   killed a1 (pid $pid_a1)"
wait "$writers" || fail "more requests failed than were in flight on the killed host"
acked=$(wc -l <"$dir/keys")
[ "$acked" -gt 0 ] || fail "no write was acknowledged"
keys=$(sed "s/.*/'key &'/" "$dir/keys" | paste -sd,)
stored=$(sql "SELECT count(*) FROM status_update WHERE narrative IN ($keys)")
distinct=$(sql "SELECT count(DISTINCT narrative) FROM status_update WHERE narrative IN ($keys)")
after=$(sql "SELECT count(*) FROM status_update")
say "   acknowledged $acked, stored $stored ($distinct distinct), rows added $((after - before))"
[ "$stored" = "$acked" ] && [ "$distinct" = "$acked" ] || fail "acknowledged writes lost or doubled"
[ $((after - before)) = "$acked" ] || fail "updates stored that no client was told of"
api_start a1
healthy a1 && listening a1 || fail "a1 did not come back"

# 3. a worker killed mid-report
say "3. kill -9 of the worker building a report"
kill -STOP "$pid_w2"
report=$(at lb curl -s -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
	-d '{"kind":"quarterly","period":"2021-Q3"}' "http://$lb/v1/reports" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
for _ in $(seq 500); do
	running=$(sql "SELECT locked_by FROM job WHERE kind = 'build_report' AND state = 'running'")
	[ -n "$running" ] && break
	sleep 0.01
done
[ "$running" = "${running%:$pid_w1}:$pid_w1" ] || fail "w1 did not take the report (job: '$running')"
kill -9 "$pid_w1"
kill -CONT "$pid_w2"
say "   report $report taken by w1 (pid $pid_w1), killed; w2 (pid $pid_w2) resumed"
for _ in $(seq 600); do
	state=$(sql "SELECT state FROM report WHERE id = $report")
	[ "$state" = done ] || [ "$state" = failed ] && break
	sleep 0.1
done
[ "$state" = done ] || fail "the report is '$state' a minute after its worker died"
by=$(sql "SELECT locked_by FROM job WHERE kind = 'build_report' ORDER BY id DESC LIMIT 1")
say "   report $report done; the job was last held by $by"
worker_start w1

# 4. PostgreSQL restarted
say "4. PostgreSQL restarted under load"
load 8
sleep 1
pg_ctl -m fast restart
for h in a1 a2; do healthy "$h" && listening "$h" || fail "$h did not recover from the restart"; done
for w in w1 w2; do # each worker alone does jobs again
	other=w2; [ $w = w2 ] && other=w1
	kill -STOP "$(eval echo "\$pid_$other")"
	sql "INSERT INTO job (kind, key) SELECT 'noop', 'after-restart-$w-' || g FROM generate_series(1, 5) g" >/dev/null
	for _ in $(seq 100); do
		[ "$(sql "SELECT count(*) FROM job WHERE key LIKE 'after-restart-$w-%' AND state = 'done'")" = 5 ] && break
		sleep 0.1
	done
	kill -CONT "$(eval echo "\$pid_$other")"
	[ "$(sql "SELECT count(*) FROM job WHERE key LIKE 'after-restart-$w-%' AND state = 'done'")" = 5 ] ||
		fail "$w does no job after the restart"
done
say "   both APIs healthy and listening, both workers doing jobs"

# 5. a host that lost its listening connection
say "5. a2's listening connection cut, then a write on a1"
for round in 1 2 3; do
	# a2 holds action 1's answer
	py latest "${addr[a2]}:8080" "$token" 1 >/dev/null
	py latest "${addr[a2]}:8080" "$token" 1 >/dev/null
	[ "$(sql "SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity
		WHERE application_name = 'workplan-api-cache' AND client_addr = '${addr[a2]}'")" = 1 ] ||
		fail "a2's listening connection not found"
	id1=$(py once "${addr[a1]}:8080" "$token" 1)
	seen=$(py latest "${addr[a2]}:8080" "$token" 1)
	[ "$seen" = "$id1" ] || fail "a2 served a stale action 1 ($seen, not $id1) without its listener"
	listening a2 || fail "a2 did not listen again"
done
say "   a2 answered fresh each time, and listens again"
[ -z "$fresh_failed" ] || fail "cross-host freshness over 100 ms at p99 (check 1, above)"
say "passed"
