#!/usr/bin/env bash
# Bulk upsert throughput of the store on SQLite and PostgreSQL (100,000 indicators in
# batches of 10,000; fresh database per sample). PostgreSQL is a throw-away local cluster
# (fsync off, as in the tests) unless TIPLINE_TEST_POSTGRES_URL is already set.
#
#   bench/upsert.sh
set -euo pipefail
cd "$(dirname "$0")/.."
run() { cargo bench -p tipline-store --bench upsert; }
if [ -n "${TIPLINE_TEST_POSTGRES_URL:-}" ]; then run; else scripts/with-postgres bash -c "$(declare -f run); run"; fi
