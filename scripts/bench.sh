#!/bin/bash
# make bench: figures measured in one run on this machine, as ratios where
# a baseline exists, printed as tables and written into docs/benchmarks.md
# (from scripts/bench/benchmarks.md.in: every figure in it comes from this
# run). Everything runs against a throwaway cluster in var/bench-pg.
#
#   analytics: GET /v1/progress, /v1/progress/trend and /v1/reporting, the
#   API's cache turned off, at 1x, 10x and 100x demo data (1 000 / 10 000
#   / 100 000 actions and 20 updates each), against the same aggregate
#   computed from the raw tables (scripts/bench/progress_naive.sql); and
#   the SQL cost of posting one update at each scale.
#
#   hot reads: GET /v1/actions/{id} (random ids) and GET /v1/progress under
#   wrk, 64 keep-alive connections, against pgbench -M prepared running
#   the same SQL (the action statement; the progress aggregate computed from
#   the raw tables) at its best client count of 1, 2, 4 and 8. Ratios,
#   median and p99 latency, errors, and the API's peak resident memory.
#
#   quarter-end mix (SPEC 9): 64 connections sending 75 % GET
#   /v1/actions/{id}, 20 % GET /v1/progress over the cycle's quarters, 5 %
#   POST /v1/actions/{id}/updates with fresh Idempotency-Keys
#   (scripts/bench/quarter_mix.lua), to the API and to its peer, a Fastify
#   + node-postgres implementation of the same routes (bench/peer), one
#   after the other on the same data; and pgbench on the same mix of SQL.
#
#   quarter-end browse (issue 16): leads posting (4 connections) while 8
#   viewers (60 connections) browse actions, pillars, progress, trend,
#   reporting, updates and charts; reads and writes timed apart.
#
#   queue: no-op jobs drained per second by 2 workers, and the time from
#   enqueue to start (median, p99) of jobs enqueued one at a time.
#
# BENCH_SCALES="1 10" limits the scales (default "1 10 100");
# BENCH_SECONDS sets the length of each wrk and pgbench run (default 10);
# BENCH_DOC the page written (default docs/benchmarks.md; "" for none).
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${1:-bin}

# ---- bench/peer, the quarter-end mix's baseline (SPEC 9): its npm packages
# (npm ci), then tests/peer_same.sh, which checks on its own throwaway
# cluster that it answers as workplan-api does, before anything is measured
bench/peer/install.sh
same=$(tests/peer_same.sh "$bin" 2>&1) || { echo "$same" >&2; exit 1; }
echo "${same##*$'\n'}"
scales=${BENCH_SCALES:-1 10 100}
doc=${BENCH_DOC-docs/benchmarks.md}
requests=${BENCH_REQUESTS:-50}
pgdir=var/bench-pg
export PGOPTIONS='-c client_min_messages=warning'
conninfo=$(scripts/pg.sh start "$pgdir" --fresh)
api_pid=
figs=$(mktemp)
cleanup() {
	[ -n "$api_pid" ] && kill "$api_pid" 2>/dev/null && wait "$api_pid" 2>/dev/null
	kill ${w1:-} ${w2:-} 2>/dev/null || true
	scripts/pg.sh stop "$pgdir" >/dev/null 2>&1 || true
	rm -f "$figs"
}
trap cleanup EXIT

# fig NAME VALUE: a figure for docs/benchmarks.md ({{NAME}} there)
fig() { printf '%s\t%s\n' "$1" "$2" >>"$figs"; }
# thousands with a thin space, as the page writes them: 12345 -> 12 345
num() {
	awk -v n="$1" 'BEGIN { s = sprintf("%.0f", n); t = ""
		while (length(s) > 3) { t = " " substr(s, length(s) - 2) t; s = substr(s, 1, length(s) - 3) }
		print s t }'
}
# milliseconds to three significant figures or so: 0.804, 22.1, 359
msf() { awk -v v="$1" 'BEGIN { printf (v >= 100 ? "%.0f" : v >= 10 ? "%.1f" : "%.2f"), v }'; }
# verdict OK: "met" or "**not met**"
verdict() { if [ "$1" = 1 ]; then echo met; else echo "**not met**"; fi; }
fig date "$(date -u +%Y-%m-%d)"
fig start "$(date -u +%H:%M)"
fig load "$(cut -d' ' -f1 /proc/loadavg)"
fig commit "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
fig cpus "$(nproc)"

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

printf '%-6s %9s %9s %9s | %-28s %-28s %-28s | %12s %8s | %9s\n' scale actions updates \
	"demo s" "progress ms (median p95)" "trend ms (median p95)" "reporting ms (median p95)" \
	"naive SQL ms" "ratio" "write ms"
rows=
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
	ratio=$(awk -v n="$naive" -v p="${progress%% *}" 'BEGIN { printf "%.0f", n / p }')
	# what posting one update costs PostgreSQL at this scale (the update,
	# its key and every trigger), one client, committed
	write_ms=$(pgbench -n -M prepared -T 3 -c 1 -D lo=1 -D hi="$actions" -D author=1 \
		-D period=2025-Q4 -D cycle=2024-2025 -f scripts/bench/quarter_write.sql "$DATABASE_URL" \
		2>/dev/null | awk '/^latency average/ { printf "%.2f", $4 }')
	printf '%-6s %9s %9s %9s | %-28s %-28s %-28s | %12s %7sx | %9s\n' "${scale}x" "$actions" "$updates" \
		"$demo_s" "$progress" "$trend" "$reporting" "$naive" "$ratio" "$write_ms"
	rows="$rows| ${scale}× | $(num "$actions") | $(num "$updates") | $demo_s s | ${progress/ / \/ } ms"
	rows="$rows | ${trend/ / \/ } ms | ${reporting/ / \/ } ms | $naive ms | ${ratio}× | $write_ms ms |\n"
	last_scale=$scale last_actions=$actions last_updates=$updates
	read -r p_med _ <<<"$progress"; read -r t_med _ <<<"$trend"; read -r r_med _ <<<"$reporting"
	psql "$conninfo dbname=postgres" -qc "DROP DATABASE $db"
done
fig analytics_rows "$rows"
fig analytics_scale "${last_scale}× ($(num "$last_actions") actions, $(num "$last_updates") updates)"
fig analytics_medians "$p_med / $t_med / $r_med ms"
fig analytics_verdict "$(verdict "$(awk -v a="$p_med" -v b="$t_med" -v c="$r_med" \
	'BEGIN { print (a < 50 && b < 50 && c < 50) }')")"

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
		/Non-2xx|Socket errors/ { what = what $0; gsub(/[^0-9 ]/, " ")
			n = split($0, f, " "); for (i = 1; i <= n; i++) err += f[i] }
		END { printf "%.0f %.3f %.3f %d", rps, p50, p99, err
			# which errors: on stderr, beside the tables
			if (err) { gsub(/  +/, " ", what); print "bench: wrk errors:" what > "/dev/stderr" } }'
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
size=$(curl -s -o /dev/null -w '%{size_download}' -H "Authorization: Bearer $BENCH_TOKEN" \
	"$url/v1/actions/${BENCH_IDS% *}")
kill "$api_pid" && wait "$api_pid" 2>/dev/null || true
api_pid=

# the tail's yardstick (SPEC 9): nginx serving a static file of the size
# of an action's answer, on its own port, under the same wrk
www=$(mktemp -d)
chmod 755 "$www"
head -c "$size" /dev/zero | tr '\0' x >"$www/action.json"
port=$(free_port)
cat >"$www/nginx.conf" <<EOF
daemon off;
worker_processes auto;
pid $www/nginx.pid;
error_log $www/error.log;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $www/tmp; proxy_temp_path $www/tmp; fastcgi_temp_path $www/tmp;
	uwsgi_temp_path $www/tmp; scgi_temp_path $www/tmp;
	server { listen 127.0.0.1:$port; root $www; }
}
EOF
nginx -e "$www/error.log" -p "$www" -c "$www/nginx.conf" &
api_pid=$!
for _ in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$port/action.json" && break; sleep 0.1; done
seconds=2 wrk_run "http://127.0.0.1:$port/action.json" >/dev/null
nginx_run=$(wrk_run "http://127.0.0.1:$port/action.json")
kill "$api_pid" && wait "$api_pid" 2>/dev/null || true
api_pid=
rm -rf "$www"
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
read -r n_rps n_p50 n_p99 n_err <<<"$nginx_run"
printf '%-30s %10s %9s %8s %8.1fx %6s\n' "nginx, a file of $size bytes" "$n_rps" "$n_p50" "$n_p99" \
	"$(awk -v a="$n_p99" -v b="$n_p50" 'BEGIN { print a / b }')" "$n_err"
printf 'API peak resident memory: %d KiB (%.1f MiB)\n' "$rss_kb" "$(awk -v k="$rss_kb" 'BEGIN { print k / 1024 }')"
for row in "action|$action_api|$action_pg" "progress|$progress_api|$progress_pg"; do
	IFS='|' read -r name api pg <<<"$row"
	read -r rps p50 p99 err <<<"$api"
	read -r tps clients <<<"$pg"
	fig "${name}_rps" "$(num "$rps")"
	fig "${name}_p50" "$(msf "$p50")"
	fig "${name}_p99" "$(msf "$p99")"
	fig "${name}_tail" "$(awk -v a="$p99" -v b="$p50" 'BEGIN { printf "%.1f", a / b }')"
	fig "${name}_errors" "$err"
	fig "${name}_pg" "$(num "$tps")"
	fig "${name}_pg_clients" "$clients"
	fig "${name}_ratio" "$(awk -v a="$rps" -v b="$tps" 'BEGIN { printf "%.1f", a / b }')"
done
fig action_verdict "$(verdict "$(awk -v a="$action_api" -v b="$action_pg" \
	'BEGIN { split(a, x, " "); split(b, y, " "); print (x[1] >= 0.5 * y[1]) }')")"
fig progress_verdict "$(verdict "$(awk -v a="$progress_api" -v b="$progress_pg" \
	'BEGIN { split(a, x, " "); split(b, y, " "); print (x[1] >= 3 * y[1]) }')")"
fig nginx_rps "$(num "$n_rps")"
fig nginx_p50 "$(msf "$n_p50")"
fig nginx_p99 "$(msf "$n_p99")"
fig nginx_tail "$(awk -v a="$n_p99" -v b="$n_p50" 'BEGIN { printf "%.1f", a / b }')"
fig nginx_errors "$n_err"
fig nginx_size "$(num "$size")"
# each read: p99 within 10x its median or 2.5x nginx's p99, and no errors
fig tail_verdict "$(verdict "$(awk -v a="$action_api" -v b="$progress_api" -v n="$n_p99" 'BEGIN {
	split(a, x, " "); split(b, y, " ")
	print ((x[3] <= 10 * x[2] || x[3] <= 2.5 * n) && x[4] == 0 && (y[3] <= 10 * y[2] || y[3] <= 2.5 * n) && y[4] == 0) }')")"
fig rss "$(awk -v k="$rss_kb" 'BEGIN { printf "%.1f", k / 1024 }')"
fig rss_verdict "$(verdict "$(awk -v k="$rss_kb" 'BEGIN { print (k <= 65536) }')")"

# ---- the quarter-end mix (SPEC 9): the API, then its peer, on the same data ----
# 16 lead members, each of an entity that leads key actions of the plan's
# last cycle, post that cycle's last quarter on actions their entity leads;
# a viewer reads actions and progress (scripts/bench/quarter_mix.lua).
read -r cycle first_year last_year <<<"$(psql "$DATABASE_URL" -qAt -F ' ' -c "SELECT c.label,
	c.start_year, c.end_year FROM cycle c WHERE EXISTS (SELECT 1 FROM action a WHERE a.cycle = c.label)
	ORDER BY c.end_year DESC LIMIT 1")"
export BENCH_QUARTERS=$(for y in $(seq "$first_year" "$last_year"); do printf '%s-Q1 %s-Q2 %s-Q3 %s-Q4 ' $y $y $y $y; done)
export BENCH_POSTERS=$(mktemp)
for entity in $(psql "$DATABASE_URL" -qAt -c "SELECT l.entity FROM action_lead l JOIN action a
		ON a.id = l.action_id WHERE a.cycle = '$cycle' AND NOT a.archived
		GROUP BY l.entity ORDER BY count(*) DESC, l.entity LIMIT 16"); do
	email="lead-$(echo "$entity" | tr 'A-Z' 'a-z')@bench.example.org"
	"$bin/workplan-admin" member add --name "Lead $entity" --email "$email" --entity "$entity" \
		--role lead >/dev/null
	t=$("$bin/workplan-admin" token create --email "$email" 2>/dev/null | tail -n 1)
	psql "$DATABASE_URL" -qAt -c "SELECT '$t ' || a.id FROM action_lead l JOIN action a ON a.id = l.action_id
		WHERE a.cycle = '$cycle' AND NOT a.archived AND l.entity = '$entity'" >>"$BENCH_POSTERS"
done

# The mix against url after a 2 s warm-up: "requests/s median_ms p99_ms
# errors reads writes acknowledged stored doubled". Every POST's narrative
# holds its Idempotency-Key, so an update stored twice shows as a repeat.
mix_run() {
	local url=$1 out last
	wrk -t2 -c64 -d2s -s scripts/bench/quarter_mix.lua "$url" >/dev/null
	last=$(psql "$DATABASE_URL" -qAt -c "SELECT coalesce(max(id), 0) FROM status_update")
	out=$(wrk -t2 -c64 -d"$seconds"s --latency -s scripts/bench/quarter_mix.lua "$url")
	sleep 1 # what was in flight when wrk stopped lands
	echo "$(wrk_parse <<<"$out") $(awk '/^mix / { print $3, $5, $7 }' <<<"$out")" \
		"$(psql "$DATABASE_URL" -qAt -F ' ' -c "SELECT count(*), count(*) - count(DISTINCT narrative)
			FROM status_update WHERE id > $last")"
}
wait_port() {
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return
		sleep 0.1
	done
	echo "bench: nothing listens on port $1" >&2
	exit 1
}

port=$(free_port)
WORKPLAN_RATE_LIMIT=0 WORKPLAN_LISTEN=127.0.0.1:$port WORKPLAN_LOG_LEVEL=warn "$bin/workplan-api" &
api_pid=$!
wait_port "$port"
url=http://127.0.0.1:$port
metric() { curl -s "$url/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
hits0=$(metric workplan_cache_hits_total)
misses0=$(metric workplan_cache_misses_total)
mix_api=$(mix_run "$url")
hits=$(($(metric workplan_cache_hits_total) - hits0))
misses=$(($(metric workplan_cache_misses_total) - misses0))
kill "$api_pid" && wait "$api_pid" 2>/dev/null || true
api_pid=

# the peer: Fastify + node-postgres (bench/peer), installed and checked above
port=$(free_port)
pg_env=$(awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] == "host") printf "PGHOST=%s ", kv[2];
	if (kv[1] == "port") printf "PGPORT=%s ", kv[2]; if (kv[1] == "user") printf "PGUSER=%s ", kv[2];
	if (kv[1] == "dbname") printf "PGDATABASE=%s ", kv[2] } }' <<<"$DATABASE_URL")
env $pg_env PEER_LISTEN=127.0.0.1:$port node bench/peer/server.mjs &
api_pid=$!
wait_port "$port"
mix_peer=$(mix_run "http://127.0.0.1:$port")
kill "$api_pid" && wait "$api_pid" 2>/dev/null || true
api_pid=

# pgbench on the same mix of SQL: the action statement, the progress sums
# and the write (the update and its key in one transaction, triggers included)
author=$(psql "$DATABASE_URL" -qAt -c "SELECT id FROM member WHERE email = 'bench@un.org'")
mix_pg=$(pgbench_best -D lo="${BENCH_IDS% *}" -D hi="${BENCH_IDS#* }" -D author="$author" \
	-D period="$last_year-Q4" -D cycle="$cycle" -D first="$first_year" -D last="$last_year" \
	-f scripts/bench/action_get.sql@75 -f scripts/bench/quarter_progress.sql@20 \
	-f scripts/bench/quarter_write.sql@5)

read -r a_rps a_p50 a_p99 a_err a_reads a_writes a_ack a_stored a_doubled <<<"$mix_api"
read -r p_rps p_p50 p_p99 p_err p_reads p_writes p_ack p_stored p_doubled <<<"$mix_peer"
read -r m_tps m_clients <<<"$mix_pg"
echo
printf 'quarter-end mix (%s s, 64 connections: 75 %% actions, 20 %% progress, 5 %% posts)\n' "$seconds"
printf '%-26s %10s %9s %8s %6s | %6s %6s %6s %7s\n' "" requests/s "median ms" "p99 ms" errors \
	posts 201s stored doubled
for row in "API|$mix_api" "peer (Fastify + pg)|$mix_peer"; do
	IFS='|' read -r name v <<<"$row"
	read -r rps p50 p99 err _ writes ack stored doubled <<<"$v"
	printf '%-26s %10s %9s %8s %6s | %6s %6s %6s %7s\n' "$name" "$rps" "$p50" "$p99" "$err" \
		"$writes" "$ack" "$stored" "$doubled"
done
printf 'API / peer: throughput %.1fx, p99 %.2fx; pgbench on the same mix of SQL: %s tps (%s clients)\n' \
	"$(awk -v a="$a_rps" -v b="$p_rps" 'BEGIN { print a / b }')" \
	"$(awk -v a="$a_p99" -v b="$p_p99" 'BEGIN { print a / b }')" "$m_tps" "$m_clients"
printf "API's cache: %s hits, %s misses (reads and token checks): hit rate %.1f %%\n" "$hits" "$misses" \
	"$(awk -v h="$hits" -v m="$misses" 'BEGIN { print 100 * h / (h + m) }')"
for side in a p; do
	for v in rps p50 p99 err writes ack stored doubled; do
		n="${side}_$v"
		case $v in
		rps | writes | ack | stored) fig "mix_$n" "$(num "${!n}")" ;;
		p50 | p99) fig "mix_$n" "$(msf "${!n}")" ;;
		*) fig "mix_$n" "${!n}" ;;
		esac
	done
done
fig mix_ratio "$(awk -v a="$a_rps" -v b="$p_rps" 'BEGIN { printf "%.1f", a / b }')"
fig mix_p99_ratio "$(awk -v a="$a_p99" -v b="$p_p99" 'BEGIN { printf "%.2f", a / b }')"
fig mix_pg "$(num "$m_tps")"
fig mix_pg_clients "$m_clients"
fig mix_pg_ratio "$(awk -v a="$a_rps" -v b="$m_tps" 'BEGIN { printf "%.1f", a / b }')"
fig mix_hits "$(num "$hits")"
fig mix_misses "$(num "$misses")"
fig mix_hit_rate "$(awk -v h="$hits" -v m="$misses" 'BEGIN { printf "%.1f", 100 * h / (h + m) }')"
fig mix_write_pct "$(awk -v w="$a_writes" -v r="$a_reads" 'BEGIN { printf "%.1f", 100 * w / (w + r) }')"
fig mix_verdict "$(verdict "$(awk -v a="$a_rps" -v b="$p_rps" -v x="$a_p99" -v y="$p_p99" -v e="$a_err" \
	-v k="$a_ack" -v s="$a_stored" -v d="$a_doubled" \
	'BEGIN { print (a >= 2 * b && x <= 2.5 * y && e == 0 && s >= k && d == 0) }')")"
# ---- the quarter-end browse: leads posting while staff browse everything ----
# Issue 16's wider reading of reporting week, on the same data and API:
# 4 connections of leads post the cycle's last quarter, each POST with a
# fresh Idempotency-Key and 40 ms apart (scripts/bench/quarter_writes.lua,
# a few percent of the requests), while 60
# connections of 8 viewers browse actions, pillars, progress, trend,
# reporting, updates and charts over every action, pillar and quarter
# (quarter_reads.lua); two workers draw the charts. Reads and writes are
# timed apart.
tokens=
for i in $(seq 8); do
	"$bin/workplan-admin" member add --name "Staff $i" --email "staff$i@bench.example.org" --entity UNDP \
		--role viewer >/dev/null
	tokens="$tokens $("$bin/workplan-admin" token create --email "staff$i@bench.example.org" 2>/dev/null | tail -n 1)"
done
export BENCH_TOKENS=$tokens BENCH_PERIOD=$last_year-Q4
BENCH_QUARTERS_ALL=$(for y in $(seq 2021 2025); do printf '%s-Q1 %s-Q2 %s-Q3 %s-Q4 ' $y $y $y $y; done)
port=$(free_port)
WORKPLAN_RATE_LIMIT=0 WORKPLAN_LISTEN=127.0.0.1:$port WORKPLAN_LOG_LEVEL=warn "$bin/workplan-api" &
api_pid=$!
WORKPLAN_LOG_LEVEL=warn "$bin/workplan-worker" & w1=$!
WORKPLAN_LOG_LEVEL=warn "$bin/workplan-worker" & w2=$!
wait_port "$port"
url=http://127.0.0.1:$port
# warm-up: every chart of the browse drawn once (each request waits for
# its drawing), then the reads' cache filled
for q in $BENCH_QUARTERS_ALL; do
	curl -s -o /dev/null -H "Authorization: Bearer ${tokens##* }" "$url/v1/charts/status-by-pillar.svg?as_of=$q"
done
for n in $(seq 8); do
	curl -s -o /dev/null -H "Authorization: Bearer ${tokens##* }" "$url/v1/charts/pillar-burnup.svg?pillar=$n"
done
seconds=2 wrk_run -s scripts/bench/quarter_reads.lua "$url" >/dev/null
rows0=$(psql "$DATABASE_URL" -qAt -c "SELECT count(*) FROM status_update")
charts0=$(psql "$DATABASE_URL" -qAt -c "SELECT count(*) FROM job WHERE kind = 'render_chart'")
hits0=$(metric workplan_cache_hits_total)
misses0=$(metric workplan_cache_misses_total)
writes_out=$(mktemp)
wrk -t1 -c4 -d"$seconds"s --latency -s scripts/bench/quarter_writes.lua "$url" >"$writes_out" &
writer=$!
# a chart request waits for its drawing up to the API's 10 s (then 202):
# that is latency, not wrk's default 2 s timeout
reads=$(wrk -t2 -c60 -d"$seconds"s --timeout 12s --latency -s scripts/bench/quarter_reads.lua "$url" | wrk_parse)
wait "$writer"
writes=$(wrk_parse <"$writes_out")
created=$(awk '/^created / { print $2 }' "$writes_out")
hits=$(($(metric workplan_cache_hits_total) - hits0))
misses=$(($(metric workplan_cache_misses_total) - misses0))
sleep 1 # what was in flight when wrk stopped lands
rows=$(($(psql "$DATABASE_URL" -qAt -c "SELECT count(*) FROM status_update") - rows0))
charts=$(($(psql "$DATABASE_URL" -qAt -c "SELECT count(*) FROM job WHERE kind = 'render_chart'") - charts0))
kill "$api_pid" "$w1" "$w2" && wait "$api_pid" "$w1" "$w2" 2>/dev/null || true
api_pid=
rm -f "$writes_out" "$BENCH_POSTERS"
read -r r_rps r_p50 r_p99 r_err <<<"$reads"
read -r w_rps w_p50 w_p99 w_err <<<"$writes"
echo
printf 'quarter-end browse (%s s; 60 reading connections of 8 viewers, 4 posting):\n' "$seconds"
printf '  reads  %8s req/s  median %6s ms  p99 %7s ms  errors %s\n' "$r_rps" "$r_p50" "$r_p99" "$r_err"
printf '  writes %8s req/s  median %6s ms  p99 %7s ms  errors %s\n' "$w_rps" "$w_p50" "$w_p99" "$w_err"
printf '  cache hit rate %.1f %% (%s hits, %s misses); %s charts drawn; %s acknowledged, %s stored\n' \
	"$(awk -v h="$hits" -v m="$misses" 'BEGIN { print 100 * h / (h + m) }')" "$hits" "$misses" \
	"$charts" "$created" "$rows"
for v in rps p50 p99 err; do
	for side in r w; do
		n="${side}_$v"
		case $v in rps) fig "browse_$n" "$(num "${!n}")" ;; p50 | p99) fig "browse_$n" "$(msf "${!n}")" ;;
		*) fig "browse_$n" "${!n}" ;; esac
	done
done
fig browse_write_pct "$(awk -v r="$r_rps" -v w="$w_rps" 'BEGIN { printf "%.1f", 100 * w / (r + w) }')"
fig browse_hit_rate "$(awk -v h="$hits" -v m="$misses" 'BEGIN { printf "%.1f", 100 * h / (h + m) }')"
fig browse_charts "$charts"
fig browse_ack "$(num "$created")"
fig browse_stored "$(num "$rows")"
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
fig queue_rate "$(num "$drain")"
fig queue_jobs "$(num "$jobs")"
fig queue_p50 "${latency%% *}"
fig queue_p99 "${latency##* }"
fig queue_verdict "$(verdict "$(awk -v d="$drain" -v p="${latency##* }" 'BEGIN { print (d >= 1000 && p <= 50) }')")"
fig end "$(date -u +%H:%M)"

# ---- docs/benchmarks.md: the template with this run's figures ----
if [ -n "$doc" ]; then
	python3 scripts/bench/fill.py scripts/bench/benchmarks.md.in "$figs" >"$doc.new"
	mv "$doc.new" "$doc"
	echo
	echo "bench: wrote $doc"
fi
