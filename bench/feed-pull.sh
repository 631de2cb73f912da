#!/usr/bin/env bash
# Feed pull and MISP import throughput through the release binary, on SQLite and (when
# TIPLINE_TEST_POSTGRES_URL is set, or with scripts/with-postgres) PostgreSQL:
#
#   1. first pull of a synthetic list of N entries (N listings opened, N indicators upserted);
#   2. a pull where 5% of the entries changed (2.5% delisted, 2.5% newly listed);
#   3. a pull of the unchanged file (not modified: size and mtime);
#   4. a MISP import of one synthetic event with N/10 ip-dst attributes.
#
#   bench/feed-pull.sh [N]          # default N = 100000
#
# Prints wall-clock and CPU seconds per step (the machine is shared: compare within one run).
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-100000}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tipline-target}"
cargo build --release -p tipline >&2
BIN="$CARGO_TARGET_DIR/release/tipline"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

python3 - "$N" "$WORK" <<'PY'
import json, random, sys
n, work = int(sys.argv[1]), sys.argv[2]
random.seed(7)
def address(i):  # distinct, deterministic, spread over 1.0.0.0-223.255.255.255
    x = (i * 2654435761) % (222 << 24) + (1 << 24)
    return f"{x >> 24}.{(x >> 16) & 255}.{(x >> 8) & 255}.{x & 255}"
entries = [address(i) for i in range(n)]
open(f"{work}/v1.txt", "w").write("".join(f"{e} ; SBL{i}\n" for i, e in enumerate(entries)))
cut = n // 40
v2 = entries[cut:] + [address(n + i) for i in range(cut)]
open(f"{work}/v2.txt", "w").write("".join(f"{e}\n" for e in v2))
event = {"Event": {"uuid": "0b0b0b0b-1111-4222-8333-444444444444", "timestamp": "1", "info": "bench",
         "Tag": [{"name": "tlp:green"}],
         "Attribute": [{"type": "ip-dst", "value": address(10 * n + i), "to_ids": True} for i in range(n // 10)]}}
json.dump(event, open(f"{work}/event.json", "w"))
PY

step() { # label, command...
  local label=$1; shift
  local out; out=$( { /usr/bin/time -f "%e %U %S" "$@" >/dev/null; } 2>&1 | tail -1 )
  read -r wall user sys <<<"$out"
  printf '%-40s wall %6.2f s   cpu %6.2f s\n' "$label" "$wall" "$(echo "$user + $sys" | bc)"
}

run_on() { # backend label, database url (empty: SQLite in the data directory)
  local backend=$1 url=$2 dir="$WORK/$1"
  mkdir -p "$dir"
  local env=(env TIPLINE_DATA_DIR="$dir")
  [ -n "$url" ] && env+=(TIPLINE_DATABASE_URL="$url")
  "${env[@]}" "$BIN" init >/dev/null
  cp "$WORK/v1.txt" "$dir/list.txt"
  "${env[@]}" "$BIN" feed add bench --path "$dir/list.txt" --format spamhaus --tlp green >/dev/null
  echo "== $backend, N = $N"
  step "first pull ($N added)" "${env[@]}" "$BIN" feed pull bench
  cp "$WORK/v2.txt" "$dir/list.txt"
  step "pull with 5% changed" "${env[@]}" "$BIN" feed pull bench
  step "pull, not modified" "${env[@]}" "$BIN" feed pull bench
  step "misp import ($((N / 10)) attributes)" "${env[@]}" "$BIN" import "$WORK/event.json" --format misp
}

run_on sqlite ""
if [ -n "${TIPLINE_TEST_POSTGRES_URL:-}" ]; then
  db="tipline_bench_$$"
  psql "$TIPLINE_TEST_POSTGRES_URL" -qc "CREATE DATABASE $db" >/dev/null
  run_on postgres "${TIPLINE_TEST_POSTGRES_URL%/*}/$db"
  psql "$TIPLINE_TEST_POSTGRES_URL" -qc "DROP DATABASE $db WITH (FORCE)" >/dev/null
fi
