#!/usr/bin/env bash
# Enrichment benchmarks: cache-hit latency and throughput (in-process hot cache, and the store
# cache on SQLite and PostgreSQL), GeoIP lookups/s from an mmdb, and the upstream calls saved
# by coalescing 1,000 concurrent lookups over 50 addresses. Everything runs against local
# servers. PostgreSQL is a throw-away local cluster unless TIPLINE_TEST_POSTGRES_URL is set.
#
#   bench/enrich.sh
set -euo pipefail
cd "$(dirname "$0")/.."
run() { cargo bench -p tipline-enrich --bench enrich; }
if [ -n "${TIPLINE_TEST_POSTGRES_URL:-}" ]; then run; else scripts/with-postgres bash -c "$(declare -f run); run"; fi
