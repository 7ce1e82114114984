#!/bin/bash
# A private PostgreSQL cluster for development and tests, reachable by the
# project alone.
#
#   scripts/pg.sh start DIR [--fresh]   start (creating if needed); prints the conninfo
#   scripts/pg.sh stop DIR              stop it
#   scripts/pg.sh restart DIR           stop, then start
#
# DIR holds data/ (the cluster), run/ (its unix socket), port and log.
# PostgreSQL refuses to run as root: as root, the cluster belongs to the
# unprivileged 'postgres' user that Debian's package creates.
#
# No TCP listener: the socket in run/ (mode 0700, owned by the cluster's OS
# user) is the only way in, and peer authentication admits only the OS users
# that run the project (the owner; root too when root runs it) as the role
# postgres. The port only names the socket file, so clusters in different
# folders never collide. An older cluster (trust over TCP) is brought to
# these settings, and restarted, on its next start.
set -euo pipefail

die() { echo "pg: $*" >&2; exit 1; }

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || die "usage: $0 start|stop|restart|crash DIR [--fresh]"
mkdir -p "$dir"
dir=$(cd "$dir" && pwd -P)
data=$dir/data
sock=$dir/run

pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$pgbin/pg_ctl" ] || die "PostgreSQL server binaries not found under /usr/lib/postgresql (run scripts/deps.sh)"

if [ "$(id -u)" -eq 0 ]; then
	id postgres >/dev/null 2>&1 || die "user 'postgres' missing (install the postgresql package)"
	# from /: PostgreSQL's programs complain of a folder postgres cannot enter
	as_pg() { (cd / && runuser -u postgres -- "$@"); }
	owner=postgres
else
	as_pg() { "$@"; }
	owner=$(id -un)
fi

# The server runs as 'postgres', which must reach DIR. A project in a
# private home (root's /root is 700) is out of its reach: the cluster then
# lives in /var/lib/workplan-pg/<hash of DIR>, and DIR is a link to it.
if [ "$owner" = postgres ] && ! as_pg test -x "$dir"; then
	home=/var/lib/workplan-pg/$(printf '%s' "$dir" | sha256sum | cut -c1-16)
	echo "pg: user postgres cannot reach $dir; keeping the cluster in $home" >&2
	rm -rf "$home"
	mkdir -p "$home"
	chmod 755 /var/lib/workplan-pg
	cp -a "$dir"/. "$home"/
	rm -rf "$dir"
	ln -s "$home" "$dir"
	dir=$home
	data=$dir/data
	sock=$dir/run
fi

# The port names the socket file (run/.s.PGSQL.PORT); with no TCP listener
# it need not be free on the machine.
default_port=5432

running() { as_pg "$pgbin/pg_ctl" -D "$data" status >/dev/null 2>&1; }

ready() { "$pgbin/pg_isready" -q -h "$sock" -p "$(cat "$dir/port")" -U postgres -t 1; }

init_cluster() {
	echo "pg: creating a cluster in $data" >&2
	rm -rf "$data" "$dir/initialised"
	mkdir -p "$data" "$sock"
	chown "$owner" "$dir" "$data" "$sock"
	chmod 700 "$data"
	as_pg test -w "$data" ||
		die "user $owner cannot write $data: every folder above it must be searchable (chmod o+x)"
	# no trust even for a moment: configure writes the real pg_hba.conf
	as_pg "$pgbin/initdb" -D "$data" -U postgres --auth-local=peer --auth-host=reject \
		-E UTF8 --locale=C.UTF-8 \
		>"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
	touch "$dir/initialised"
}

# Writes $2 to the cluster's file $1 when it differs; returns 0 if it did.
put_conf() {
	local want
	want=$(printf '%s' "$2")
	[ "$(cat "$data/$1" 2>/dev/null)" = "$want" ] && return 1
	printf '%s\n' "$want" >"$data/$1"
	chown "$owner" "$data/$1"
	chmod 600 "$data/$1"
}

# Settings that follow the folder and the OS users, rewritten at every
# start; returns 0 if any file changed.
configure() {
	# A throwaway cluster skips fsync: it need not survive the machine
	# crashing, but it keeps synchronous commits, so a commit it
	# acknowledged survives PostgreSQL itself crashing (tests/check_chaos.c).
	local extra="" users changed=1
	[ -f "$dir/throwaway" ] && extra="fsync = off
full_page_writes = off"
	put_conf postgresql.auto.conf "# written by scripts/pg.sh at every start
listen_addresses = ''
port = $(cat "$dir/port")
unix_socket_directories = '$sock'
unix_socket_permissions = 0700
max_connections = 200
shared_buffers = 256MB
log_min_messages = warning
log_min_error_statement = panic
$extra" && changed=0
	put_conf pg_hba.conf "# written by scripts/pg.sh at every start: the socket alone, and only
# for the OS users of pg_ident.conf's map 'project'
local all all peer map=project" && changed=0
	users=$owner
	[ "$(id -u)" -eq 0 ] && users="root $owner"
	put_conf pg_ident.conf "# written by scripts/pg.sh: the OS users that may connect, as postgres
$(for u in $users; do echo "project $u postgres"; done)" && changed=0
	return $changed
}

pg_start() {
	as_pg "$pgbin/pg_ctl" -D "$data" -l "$dir/log" -w -t 60 start >/dev/null
}

# postmaster.pid names a process, but no server answers on our socket.
check_stale() {
	local pid state comm
	pid=$(head -n 1 "$data/postmaster.pid" 2>/dev/null || true)
	state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)
	comm=$(cat "/proc/$pid/comm" 2>/dev/null || true)
	if [ "$comm" = postgres ] && [ "$state" != Z ]; then
		for _ in $(seq 5); do ready && return; sleep 0.5; done
		die "PostgreSQL (pid $pid) holds $data but does not answer; stop it (kill $pid) and run again"
	fi
	# a dead server (or another program that reused its pid): clear its locks
	echo "pg: removing the stale lock files of a server that is gone (pid $pid)" >&2
	rm -f "$data/postmaster.pid" "$sock"/.s.PGSQL.*
}

# listen_addresses of the running server ('' as it should be)
live_listen() {
	"$pgbin/psql" "host=$sock port=$(cat "$dir/port") user=postgres dbname=postgres" \
		-qAtX -c "SHOW listen_addresses" 2>/dev/null
}

start() {
	if [ "${1:-}" = "--fresh" ]; then
		running && as_pg "$pgbin/pg_ctl" -D "$data" -m immediate stop >/dev/null 2>&1 || true
		rm -rf "$data" "$dir/initialised" "$dir/port"
		touch "$dir/throwaway"
	fi
	# a folder without the marker was left half-initialised: start over
	[ -f "$dir/initialised" ] && [ -f "$data/PG_VERSION" ] || init_cluster
	[ -s "$dir/port" ] || echo "$default_port" >"$dir/port"
	mkdir -p "$sock"
	chown "$owner" "$sock"
	chmod 700 "$sock"
	if running && ! ready; then
		check_stale
	fi
	if configure && running; then
		echo "pg: the settings of $data changed; restarting it" >&2
		as_pg "$pgbin/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null
	elif running && [ -n "$(live_listen)" ]; then
		echo "pg: $data listens on TCP; restarting it on its socket alone" >&2
		as_pg "$pgbin/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null
	fi
	if ! running; then
		rm -f "$data/postmaster.pid"
		touch "$dir/log" && chown "$owner" "$dir/log"
		# a killed server's last backends may hold shared memory a moment longer
		pg_start || { sleep 2; pg_start; } ||
			{ tail -n 20 "$dir/log" >&2; die "PostgreSQL did not start (log: $dir/log)"; }
	fi
	for _ in $(seq 50); do ready && break; sleep 0.2; done
	ready || die "PostgreSQL is not answering on $sock (log: $dir/log)"
	echo "host=$sock port=$(cat "$dir/port") user=postgres"
}

stop() {
	[ -d "$data" ] || return 0
	if running; then
		as_pg "$pgbin/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null
	fi
}

case $cmd in
start) start "${3:-}" ;;
stop) stop ;;
# as a power cut would: no shutdown checkpoint, crash recovery on the next start
crash) running && as_pg "$pgbin/pg_ctl" -D "$data" -m immediate -w -t 60 stop >/dev/null ;;
restart) stop; start ;;
*) die "unknown command $cmd" ;;
esac
