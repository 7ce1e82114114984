#!/bin/sh
# Installs the Debian packages the project needs when any is missing.
# As root it runs apt-get itself; otherwise it prints the command and fails.
set -eu

PACKAGES="make gcc clang libclang-rt-14-dev pkg-config ca-certificates
postgresql postgresql-client libpq-dev
libmicrohttpd-dev libjansson-dev check libcurl4-openssl-dev
gnuplot-nox pandoc fonts-dejavu-core fonts-noto-core fonts-noto-cjk
procps iproute2 curl libxml2-utils fontconfig unzip
libreoffice-writer-nogui poppler-utils wrk chromium
python3-aiosmtpd"
# the spreadsheet round trip: the template written with libxlsxwriter, a
# filled XLSX read with libzip and libxml2; the tests fill sheets with
# LibreOffice Calc; libzip also checks consultation attachments (SPEC 13)
PACKAGES="$PACKAGES libxlsxwriter-dev libzip-dev libxml2-dev libreoffice-calc-nogui"
# the webhook tests' receiver checks signatures with Python's own hmac
PACKAGES="$PACKAGES python3"
# make test-cluster: HAProxy in front of the API hosts (deploy/haproxy.cfg)
PACKAGES="$PACKAGES haproxy"
# check_cli reads docs/workplan.1 with man --warnings (groff-base formats it)
PACKAGES="$PACKAGES man-db groff-base"
# make bench: nginx serving a file of the same size sets the yardstick for
# the API's tail (SPEC 9); the bench runs it on a port of its own
PACKAGES="$PACKAGES nginx-light"

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
		missing="$missing $p"
	fi
done
# Node.js and npm run the OpenAPI validator in the tests; any install will do
# (Debian's, or one already on the machine).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	missing="$missing nodejs npm"
fi
# The browser tests' drivers from npm, pinned by tests/browser/package-lock.json:
# playwright-core (drives Debian's chromium) and @axe-core/playwright.
browser_npm() {
	dir=$(dirname "$0")/../tests/browser
	if [ ! -f "$dir/node_modules/.package-lock.json" ] ||
		[ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
		echo "deps: installing playwright-core and @axe-core/playwright (npm ci in tests/browser)"
		(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
	fi
}
if [ -z "$missing" ]; then
	browser_npm
	exit 0
fi

cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing Debian packages:$missing" >&2
	echo "deps: install them as root with:" >&2
	echo "  $cmd" >&2
	exit 1
fi
echo "deps: installing$missing"
# no package starts a service of its own on install (nginx would take port
# 80, PostgreSQL a cluster on 5432): the project runs what it needs itself
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod +x /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
sh -c "$cmd"
browser_npm
