#!/bin/sh
# bench/peer's npm packages, pinned by its package-lock.json: installed
# (npm ci) when missing or older than the lock file.
set -eu
cd "$(dirname "$0")"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
	npm ci --no-audit --no-fund --loglevel=error ||
		{ echo "peer: cannot install fastify and pg from the npm registry (npm ci in bench/peer)" >&2; exit 1; }
fi
