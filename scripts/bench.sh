#!/bin/bash
# make bench: figures measured in one run on this machine, as ratios where
# a baseline exists. Everything runs against a throwaway cluster in
# var/bench-pg. See docs/benchmarks.md for the figures and what they mean.
#
#   analytics: GET /v1/progress, /v1/progress/trend and /v1/reporting, the
#   API's cache turned off, at 1x, 10x and 100x demo data (1 000 / 20 000 up to 100 000 actions and
#   2 000 000 updates), against the same aggregate computed from the raw
#   tables (scripts/bench/progress_naive.sql).
#
#   hot reads: GET /v1/actions/{id} (random ids) and GET /v1/progress under
#   wrk, 64 keep-alive connections, against pgbench -M prepared running
#   the same SQL (the action statement; the progress aggregate computed from
#   the raw tables) at its best client count of 1, 2, 4 and 8. Ratios,
#   median and p99 latency, errors, and the API's peak resident memory.
#
#   quarter-end mix: leads posting (a few percent of requests, each with
#   an Idempotency-Key) while readers browse, against pgbench on the same
#   mix of SQL; reads' and writes' rates and latencies, the cache's hit
#   rate, writes acknowledged against updates stored.
#
#   queue: no-op jobs drained per second by 2 workers, and the time from
#   enqueue to start (median, p99) of jobs enqueued one at a time.
#
# BENCH_SCALES="1 10" limits the scales (default "1 10 100");
# BENCH_SECONDS sets the length of each wrk and pgbench run (default 10).
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${1:-bin}

# ---- bench/peer, the quarter-end mix's baseline (SPEC 9): its npm packages
# (npm ci), then tests/peer_same.sh, which checks on its own throwaway
# cluster that it answers as workplan-api does, before anything is measured
bench/peer/install.sh
tests/peer_same.sh "$bin" | grep -v "^ok "
# ---- end of bench/peer
scales=${BENCH_SCALES:-1 10 100}
requests=${BENCH_REQUESTS:-50}
pgdir=var/bench-pg
export PGOPTIONS='-c client_min_messages=warning'
conninfo=$(scripts/pg.sh start "$pgdir" --fresh)
api_pid=
cleanup() {
	[ -n "$api_pid" ] && kill "$api_pid" 2>/dev/null && wait "$api_pid" 2>/dev/null
	scripts/pg.sh stop "$pgdir" >/dev/null 2>&1 || true
}
trap cleanup EXIT

free_port() {
	local p
	for p in $(seq 18090 18999); do
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
	done
}

# median and 95th percentile, in ms, of $requests GETs of $2 on port $1,
# after a warm-up that lets every API thread (16) open its connection
latency() {
	local port=$1 path=$2 token=$3
	for _ in $(seq 48); do
		curl -s -o /dev/null -H "Authorization: Bearer $token" "http://127.0.0.1:$port$path"
	done
	for _ in $(seq "$requests"); do
		curl -s -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $token" \
			"http://127.0.0.1:$port$path"
	done | sort -n | awk '{ t[NR] = $1 * 1000 } END {
		printf "%.2f %.2f", t[int((NR + 1) / 2)], t[int(NR * 0.95 + 0.5)] }'
}

# milliseconds of the best of 3 runs of a psql script, timed by psql itself
sql_ms() {
	local db=$1 file=$2; shift 2
	psql "$conninfo dbname=$db" -qAt "$@" -c '\timing on' -f "$file" -f "$file" -f "$file" |
		awk '/^Time: / { print $2 }' | sort -n | head -n 1 | awk '{ printf "%.1f", $1 }'
}

printf '%-6s %9s %9s %9s | %-28s %-28s %-28s | %12s %8s\n' scale actions updates \
	"demo s" "progress ms (median p95)" "trend ms (median p95)" "reporting ms (median p95)" \
	"naive SQL ms" "ratio"
for scale in $scales; do
	actions=$((1000 * scale))
	updates=$((20000 * scale))
	db=bench_$scale
	psql "$conninfo dbname=postgres" -qc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
	export DATABASE_URL="$conninfo dbname=$db"
	"$bin/workplan-admin" migrate >/dev/null
	"$bin/workplan-admin" seed >/dev/null
	t0=$(date +%s%N)
	"$bin/workplan-admin" demo --actions "$actions" --updates "$updates" --seed 1 >/dev/null
	demo_s=$(awk -v d=$(($(date +%s%N) - t0)) 'BEGIN { printf "%.1f", d / 1e9 }')
	psql "$DATABASE_URL" -qc "VACUUM ANALYZE"
	"$bin/workplan-admin" member add --name Bench --email bench@un.org --entity UNDP \
		--role viewer >/dev/null
	token=$("$bin/workplan-admin" token create --email bench@un.org 2>/dev/null)
	port=$(free_port)
	# without the cache: these figures are the queries' own cost
	WORKPLAN_CACHE_MB=0 WORKPLAN_LISTEN=127.0.0.1:$port WORKPLAN_LOG_LEVEL=warn "$bin/workplan-api" &
	api_pid=$!
	for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/v1/health" >/dev/null && break; sleep 0.1; done
	progress=$(latency "$port" "/v1/progress?as_of=2023-Q2" "$token")
	trend=$(latency "$port" "/v1/progress/trend?from=2021-Q1&to=2025-Q4" "$token")
	reporting=$(latency "$port" "/v1/reporting?period=2023-Q2" "$token")
	kill "$api_pid" && wait "$api_pid" 2>/dev/null || true
	api_pid=
	naive=$(sql_ms "$db" scripts/bench/progress_naive.sql -v as_of=2023-Q2 -v prev=2023-Q1 \
		-v cycle=2022-2023)
	ratio=$(awk -v n="$naive" -v p="${progress%% *}" 'BEGIN { printf "%.0fx", n / p }')
	printf '%-6s %9s %9s %9s | %-28s %-28s %-28s | %12s %8s\n' "${scale}x" "$actions" "$updates" \
		"$demo_s" "$progress" "$trend" "$reporting" "$naive" "$ratio"
	psql "$conninfo dbname=postgres" -qc "DROP DATABASE $db"
done

# ---- hot reads: the API under wrk against pgbench on the same SQL ----
seconds=${BENCH_SECONDS:-10}
db=bench_hot
psql "$conninfo dbname=postgres" -qc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
export DATABASE_URL="$conninfo dbname=$db"
"$bin/workplan-admin" migrate >/dev/null
"$bin/workplan-admin" seed >/dev/null
"$bin/workplan-admin" demo --actions 1000 --updates 20000 --seed 1 >/dev/null
psql "$DATABASE_URL" -qc "VACUUM ANALYZE"
"$bin/workplan-admin" member add --name Bench --email bench@un.org --entity UNDP --role viewer >/dev/null
export BENCH_TOKEN=$("$bin/workplan-admin" token create --email bench@un.org 2>/dev/null)
export BENCH_IDS=$(psql "$DATABASE_URL" -qAt -c "SELECT min(id) || ' ' || max(id) FROM action")
naive=$(mktemp)
sed "s/:'\([a-z_]*\)'/:\1/g" scripts/bench/progress_naive.sql > "$naive"

# the best rate of pgbench -M prepared over 1, 2, 4 and 8 clients: "tps clients"
pgbench_best() {
	local c tps best="0 0"
	for c in 1 2 4 8; do
		tps=$(pgbench -n -M prepared -T "$seconds" -c "$c" -j "$c" "$@" "$DATABASE_URL" 2>/dev/null |
			awk '/^tps = / { printf "%.0f", $3 }')
		best=$(echo "$tps $c $best" | awk '{ print ($1 > $3 ? $1 " " $2 : $3 " " $4) }')
	done
	echo "$best"
}

# wrk with 64 keep-alive connections: "requests/s median_ms p99_ms errors"
wrk_run() {
	wrk -t2 -c64 -d"$seconds"s --latency "$@" | wrk_parse
}
wrk_parse() {
	awk '
		function ms(v) { return v ~ /us$/ ? v / 1000 : v ~ /ms$/ ? v + 0 : v * 1000 }
		/^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) }
		/^Requests\/sec:/ { rps = $2 }
		/Non-2xx|Socket errors/ { gsub(/[^0-9 ]/, " "); n = split($0, f, " "); for (i = 1; i <= n; i++) err += f[i] }
		END { printf "%.0f %.3f %.3f %d", rps, p50, p99, err }'
}

port=$(free_port)
# one token sends every request here: its rate limit would be the figure
WORKPLAN_RATE_LIMIT=0 WORKPLAN_LISTEN=127.0.0.1:$port WORKPLAN_LOG_LEVEL=warn "$bin/workplan-api" &
api_pid=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/v1/health" >/dev/null && break; sleep 0.1; done
url=http://127.0.0.1:$port
progress_path="/v1/progress?as_of=2023-Q2"
# warm-up: every API thread opens its connection, the cache fills (for
# both routes: the figures are of a service that has been running)
seconds=2 wrk_run -s scripts/bench/actions.lua "$url" >/dev/null
seconds=2 wrk_run -H "Authorization: Bearer $BENCH_TOKEN" "$url$progress_path" >/dev/null
action_api=$(wrk_run -s scripts/bench/actions.lua "$url")
progress_api=$(wrk_run -H "Authorization: Bearer $BENCH_TOKEN" "$url$progress_path")
rss_kb=$(awk '/^VmHWM:/ { print $2 }' "/proc/$api_pid/status")
kill "$api_pid" && wait "$api_pid" 2>/dev/null || true
api_pid=
action_pg=$(pgbench_best -D lo="${BENCH_IDS% *}" -D hi="${BENCH_IDS#* }" -f scripts/bench/action_get.sql)
progress_pg=$(pgbench_best -D as_of=2023-Q2 -D prev=2023-Q1 -D cycle=2022-2023 -f "$naive")
rm -f "$naive"

echo
printf '%-30s %10s %9s %8s %9s %6s | %11s %7s | %7s\n' "hot read (wrk, 64 conns)" "requests/s" \
	"median ms" "p99 ms" "p99/median" errors "pgbench tps" clients ratio
for row in "GET /v1/actions/{id}|$action_api|$action_pg" "GET $progress_path|$progress_api|$progress_pg"; do
	IFS='|' read -r name api pg <<<"$row"
	read -r rps p50 p99 err <<<"$api"
	read -r tps clients <<<"$pg"
	printf '%-30s %10s %9s %8s %8.1fx %6s | %11s %7s | %6.1fx\n' "$name" "$rps" "$p50" "$p99" \
		"$(awk -v a="$p99" -v b="$p50" 'BEGIN { print a / b }')" "$err" "$tps" "$clients" \
		"$(awk -v a="$rps" -v b="$tps" 'BEGIN { print a / b }')"
done
printf 'API peak resident memory: %d KiB (%.1f MiB)\n' "$rss_kb" "$(awk -v k="$rss_kb" 'BEGIN { print k / 1024 }')"

# ---- the quarter-end mix: leads posting while readers browse ----
# 16 lead members, each of an entity that leads key actions of the plan's
# last cycle, post the update of its last quarter on those actions, each POST with a
# fresh Idempotency-Key (wrk, 4 connections, scripts/bench/quarter_writes.lua);
# meanwhile readers browse actions, pillars, progress, trend, reporting and
# updates over every action, pillar and quarter (wrk, 60 connections,
# scripts/bench/quarter_reads.lua). The reference: pgbench -M prepared
# running the same mix's SQL (action_get.sql, quarter_progress.sql,
# quarter_write.sql) weighted as the API's requests were, best of 2, 4, 8
# clients.
posters=$(mktemp)
read -r cycle period <<<"$(psql "$DATABASE_URL" -qAt -F ' ' -c "SELECT c.label, c.end_year || '-Q4'
	FROM cycle c WHERE EXISTS (SELECT 1 FROM action a WHERE a.cycle = c.label) ORDER BY c.end_year DESC LIMIT 1")"
for entity in $(psql "$DATABASE_URL" -qAt -c "SELECT l.entity FROM action_lead l JOIN action a
		ON a.id = l.action_id WHERE a.cycle = '$cycle' AND NOT a.archived
		GROUP BY l.entity ORDER BY count(*) DESC, l.entity LIMIT 16"); do
	email="lead-$(echo "$entity" | tr 'A-Z' 'a-z')@bench.example.org"
	"$bin/workplan-admin" member add --name "Lead $entity" --email "$email" --entity "$entity" \
		--role lead >/dev/null
	t=$("$bin/workplan-admin" token create --email "$email" 2>/dev/null | tail -n 1)
	psql "$DATABASE_URL" -qAt -c "SELECT '$t ' || a.id FROM action_lead l JOIN action a ON a.id = l.action_id
		WHERE a.cycle = '$cycle' AND NOT a.archived AND l.entity = '$entity'" >>"$posters"
done
port=$(free_port)
WORKPLAN_RATE_LIMIT=0 WORKPLAN_LISTEN=127.0.0.1:$port WORKPLAN_LOG_LEVEL=warn "$bin/workplan-api" &
api_pid=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/v1/health" >/dev/null && break; sleep 0.1; done
url=http://127.0.0.1:$port
metric() { curl -s "$url/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
seconds=2 wrk_run -s scripts/bench/quarter_reads.lua "$url" >/dev/null
rows0=$(psql "$DATABASE_URL" -qAt -c "SELECT count(*) FROM status_update")
hits0=$(metric workplan_cache_hits_total)
misses0=$(metric workplan_cache_misses_total)
writes_out=$(mktemp)
BENCH_POSTERS=$posters BENCH_PERIOD=$period wrk -t1 -c4 -d"$seconds"s --latency -s scripts/bench/quarter_writes.lua "$url" \
	>"$writes_out" &
writer=$!
reads=$(wrk -t2 -c60 -d"$seconds"s --latency -s scripts/bench/quarter_reads.lua "$url" | wrk_parse)
wait "$writer"
writes=$(wrk_parse <"$writes_out")
created=$(awk '/^created / { print $2 }' "$writes_out")
hits=$(($(metric workplan_cache_hits_total) - hits0))
misses=$(($(metric workplan_cache_misses_total) - misses0))
rows=$(($(psql "$DATABASE_URL" -qAt -c "SELECT count(*) FROM status_update") - rows0))
kill "$api_pid" && wait "$api_pid" 2>/dev/null || true
api_pid=
rm -f "$posters" "$writes_out"
read -r r_rps r_p50 r_p99 r_err <<<"$reads"
read -r w_rps w_p50 w_p99 w_err <<<"$writes"
write_pct=$(awk -v r="$r_rps" -v w="$w_rps" 'BEGIN { printf "%.1f", 100 * w / (r + w) }')
author=$(psql "$DATABASE_URL" -qAt -c "SELECT id FROM member WHERE email = 'bench@un.org'")
# the reads' weights as in quarter_reads.lua: one action (60 %), the rest
# aggregates or lists (40 %), here all as the progress sums
w_w=$(awk -v p="$write_pct" 'BEGIN { printf "%d", p * 10 + 0.5 }')
r_w=$((1000 - w_w))
mix_pg=$(pgbench_best -D lo="${BENCH_IDS% *}" -D hi="${BENCH_IDS#* }" -D author="$author" -D period="$period" -D cycle="$cycle" \
	-f scripts/bench/action_get.sql@$((r_w * 60 / 100)) -f scripts/bench/quarter_progress.sql@$((r_w * 40 / 100)) \
	-f scripts/bench/quarter_write.sql@"$w_w")
read -r mix_tps mix_clients <<<"$mix_pg"
echo
printf 'quarter-end mix (%s s; 60 reading + 4 posting connections):\n' "$seconds"
printf '  reads  %8s req/s  median %6s ms  p99 %7s ms  errors %s\n' "$r_rps" "$r_p50" "$r_p99" "$r_err"
printf '  writes %8s req/s  median %6s ms  p99 %7s ms  errors %s  (%s %% of requests)\n' \
	"$w_rps" "$w_p50" "$w_p99" "$w_err" "$write_pct"
printf '  total  %8s req/s; pgbench on the same mix of SQL: %s tps (%s clients); ratio %.1fx\n' \
	"$((r_rps + w_rps))" "$mix_tps" "$mix_clients" \
	"$(awk -v a="$((r_rps + w_rps))" -v b="$mix_tps" 'BEGIN { print a / b }')"
printf '  cache: %s hits, %s misses (reads and token checks): hit rate %.1f %%\n' "$hits" "$misses" \
	"$(awk -v h="$hits" -v m="$misses" 'BEGIN { print 100 * h / (h + m) }')"
printf '  writes acknowledged (201) %s, updates stored %s\n' "$created" "$rows"
psql "$conninfo dbname=postgres" -qc "DROP DATABASE $db"

# ---- the job queue ----
db=bench_queue
psql "$conninfo dbname=postgres" -qc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
export DATABASE_URL="$conninfo dbname=$db"
"$bin/workplan-admin" migrate >/dev/null
jobs=${BENCH_JOBS:-20000}
psql "$DATABASE_URL" -qc "INSERT INTO job (kind, key) SELECT 'noop', 'drain-' || g FROM generate_series(1, $jobs) g"
WORKPLAN_LOG_LEVEL=warn "$bin/workplan-worker" & w1=$!
WORKPLAN_LOG_LEVEL=warn "$bin/workplan-worker" & w2=$!
while [ "$(psql "$DATABASE_URL" -qAt -c "SELECT count(*) FROM job WHERE state <> 'done'")" != 0 ]; do
	sleep 0.2
done
drain=$(psql "$DATABASE_URL" -qAt -c "SELECT round($jobs / extract(epoch FROM max(finished_at) - min(started_at)))
	FROM job WHERE key LIKE 'drain-%'")
# one at a time, each in its own transaction, workers idle between
for i in $(seq 200); do
	echo "INSERT INTO job (kind, key) VALUES ('noop', 'latency-$i');"
	echo "SELECT pg_sleep(0.01);"
done | psql "$DATABASE_URL" -q >/dev/null
while [ "$(psql "$DATABASE_URL" -qAt -c "SELECT count(*) FROM job WHERE state <> 'done'")" != 0 ]; do
	sleep 0.2
done
latency=$(psql "$DATABASE_URL" -qAt -c "SELECT round(1000 * extract(epoch FROM percentile_cont(0.5)
	WITHIN GROUP (ORDER BY started_at - created_at)), 2) || ' ' || round(1000 * extract(epoch FROM
	percentile_cont(0.99) WITHIN GROUP (ORDER BY started_at - created_at)), 2)
	FROM job WHERE key LIKE 'latency-%'")
kill "$w1" "$w2"
wait "$w1" "$w2" 2>/dev/null || true
echo
printf 'queue: %s no-op jobs/s drained by 2 workers (%s jobs); enqueue to start: median %s ms, p99 %s ms\n' \
	"$drain" "$jobs" "${latency%% *}" "${latency##* }"
