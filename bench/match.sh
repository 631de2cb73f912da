#!/usr/bin/env bash
# Matching benchmarks (issue 4), every figure with CPU time next to wall time:
#
#  1. divan: index build (1M mixed), IPv4 lookups against 1M networks and addresses,
#     domain lookups against 1M domains, applying 1,000 changes to 1M;
#  2. memory/throughput: build time and resident memory per indicator for 1M and 10M mixed
#     indicators, heap per IPv4 indicator, single-thread lookups per CPU second;
#  3. `tipline match` against `grepcidr` on the same 5-million-line firewall log and the same
#     patterns (FireHOL level 1 + 1 million synthetic indicators), each run REPEATS times,
#     alternating; lines/s (wall and CPU), peak memory, the ratio, time to first match.
#
# FireHOL level 1 comes from the shared fixtures when present, else a synthetic list of
# the same size is used. The machine is shared: compare figures within one run only.
#
#   bench/match.sh                 everything
#   SKIP_DIVAN=1 bench/match.sh    only 2 and 3 (SKIP_MEMORY=1: only 3)
#   LINES=1000000 REPEATS=2 bench/match.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
LINES="${LINES:-5000000}"
INDICATORS="${INDICATORS:-1000000}"
REPEATS="${REPEATS:-3}"
WORK="${WORK:-$(mktemp -d)}"
echo "# machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); work dir $WORK"

if ! command -v grepcidr >/dev/null; then
    if [ "$(id -u)" = 0 ]; then apt-get install -y grepcidr >/dev/null; else echo "grepcidr is not installed" >&2; exit 1; fi
fi

if [ -z "${SKIP_DIVAN:-}" ]; then
    echo "## 1. divan"
    cargo bench -p tipline-index --bench index 2>/dev/null
fi

if [ -z "${SKIP_MEMORY:-}" ]; then
echo "## 2. build, memory, single-thread lookups"
cargo bench -p tipline-index --bench memory --no-run 2>/dev/null
MEMORY=$(ls -t "$CARGO_TARGET_DIR"/release/deps/memory-* | grep -v '\.d$' | head -1)
for args in "1000000 ipv4" "1000000 domain" "1000000 mixed" "10000000 mixed"; do
    for _ in $(seq "$REPEATS"); do
        /usr/bin/time -f "   process: wall %es, cpu %Us user + %Ss sys, max rss %MKB" "$MEMORY" $args
    done
done
fi

echo "## 3. tipline match vs grepcidr, $LINES lines, FireHOL level 1 + $INDICATORS synthetic indicators"
# BENCH_TIPLINE: a prebuilt binary (the target directory may be shared with other builds).
if [ -z "${BENCH_TIPLINE:-}" ]; then
    cargo build --release -p tipline 2>/dev/null
    BENCH_TIPLINE="$WORK/tipline"
    cp "$CARGO_TARGET_DIR/release/tipline" "$BENCH_TIPLINE"
fi
TIPLINE="$BENCH_TIPLINE"
python3 bench/gen_match_data.py "$WORK" "$LINES" "$INDICATORS"
LEVEL1=""
for f in ../shared/fixtures/peer-bench-blocklists/firehol_level1.netset ../../shared/fixtures/peer-bench-blocklists/firehol_level1.netset /work/shared/fixtures/peer-bench-blocklists/firehol_level1.netset; do
    [ -f "$f" ] && LEVEL1="$f" && break
done
if [ -z "$LEVEL1" ]; then
    echo "   FireHOL level 1 not found; using 4,500 synthetic networks instead"
    mkdir -p "$WORK/l1"
    python3 bench/gen_match_data.py "$WORK/l1" 0 4500 99
    LEVEL1="$WORK/l1/indicators.txt"
fi
grep -v '^#' "$LEVEL1" > "$WORK/level1.txt"
cat "$WORK/level1.txt" <(grep -v '^#' "$WORK/indicators.txt") > "$WORK/patterns.txt"
echo "   log: $(wc -l < "$WORK/fw.log") lines, $(du -h "$WORK/fw.log" | cut -f1); patterns: $(wc -l < "$WORK/patterns.txt")"

measure() { # name command...: prints wall, cpu, rss, lines/s
    local name=$1; shift
    /usr/bin/time -o "$WORK/$name.time" -f "%e %U %S %M" "$@" > "$WORK/$name.out" 2>/dev/null
    read -r wall user sys rss < "$WORK/$name.time"
    local matched
    matched=$(wc -l < "$WORK/$name.out")
    python3 -c "import sys; w,u,s=map(float,sys.argv[1:4]); n=int(sys.argv[5]); print(f'   {sys.argv[6]:9s} wall {w:6.2f}s  cpu {u+s:6.2f}s  max rss {int(sys.argv[4])//1024:5d} MB  {n/w/1e6:5.2f} M lines/s wall  {n/(u+s)/1e6:5.2f} M lines/s cpu  output lines {sys.argv[7]}')" "$wall" "$user" "$sys" "$rss" "$LINES" "$name" "$matched"
    echo "$wall" >> "$WORK/$name.walls"
}

first_output() { # seconds from start until the first output byte
    python3 - "$@" <<'PY'
import subprocess, sys, time
start = time.monotonic()
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
p.stdout.read(1)
print(f"{time.monotonic() - start:.3f}")
p.kill(); p.wait()
PY
}

for i in $(seq "$REPEATS"); do
    echo "   run $i"
    measure grepcidr grepcidr -f "$WORK/patterns.txt" "$WORK/fw.log"
    measure tipline "$TIPLINE" match "$WORK/fw.log" --indicators "$WORK/level1.txt" --indicators "$WORK/indicators.txt" --lenient
done
python3 - "$WORK" <<'PY'
import statistics, sys
w = sys.argv[1]
g = [float(x) for x in open(f"{w}/grepcidr.walls")]
t = [float(x) for x in open(f"{w}/tipline.walls")]
print(f"   median wall: grepcidr {statistics.median(g):.2f}s, tipline {statistics.median(t):.2f}s; "
      f"tipline/grepcidr speed ratio {statistics.median(g)/statistics.median(t):.2f}x")
PY
echo "   time to first output (process start to first byte, index build included):"
for i in $(seq "$REPEATS"); do
    echo "     grepcidr $(first_output grepcidr -f "$WORK/patterns.txt" "$WORK/fw.log")s   tipline $(first_output "$TIPLINE" match "$WORK/fw.log" --indicators "$WORK/level1.txt" --indicators "$WORK/indicators.txt" --lenient)s"
done
"$TIPLINE" match "$WORK/fw.log" --indicators "$WORK/level1.txt" --indicators "$WORK/indicators.txt" --lenient --stats 2>&1 >/dev/null | tail -1 | sed 's/^/   tipline --stats: /'
