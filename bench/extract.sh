#!/usr/bin/env bash
# IOC extraction: throughput on one core over >= 10 MB of report text, and precision and
# recall per kind on the labelled set (testdata/extract/labels), for tipline's extractor and
# for ioc-finder (PyPI, installed in .venv) on the same inputs.
#
#   bench/extract.sh            everything (ioc-finder takes about a minute on the corpus)
#   SKIP_IOC_FINDER=1 bench/extract.sh
#
# The corpus is built here (not committed): every report of testdata/extract/reports,
# concatenated and repeated to at least 10 MiB. Throughput is given by CPU time (steady on a
# shared machine) and by wall time; both processes are pinned to one core when taskset is
# available.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
corpus=$work/corpus.txt
python3 - "$corpus" <<'PY'
import os, sys
root = "testdata/extract/reports"
one = b""
for folder in sorted(os.listdir(root)):
    for name in sorted(os.listdir(os.path.join(root, folder))):
        if name != "LICENSE":
            one += open(os.path.join(root, folder, name), "rb").read() + b"\n"
corpus = b""
while len(corpus) < 10 << 20:
    corpus += one
open(sys.argv[1], "wb").write(corpus)
print(f"corpus: {len(corpus)} bytes ({len(one)} bytes of reports repeated)")
PY
pin=()
if command -v taskset >/dev/null; then pin=(taskset -c 0); fi
labels=testdata/extract/labels
reports=testdata/extract/reports

echo "== tipline: build (release)"
cargo build -q --release -p tipline-formats --examples
bin=$CARGO_TARGET_DIR/release/examples
echo "== tipline: throughput (5 passes, default options, then with hosts)"
"${pin[@]}" "$bin/extract_speed" "$corpus" 5
"${pin[@]}" "$bin/extract_speed" "$corpus" 5 --hosts
echo "== tipline: precision and recall (hits as reported; labels as written)"
"$bin/extract_eval" "$labels" "$reports"
echo "== tipline: precision and recall with hosts (URL hosts and email domains count as domains/IPs)"
"$bin/extract_eval" "$labels" "$reports" --hosts

if [ -z "${SKIP_IOC_FINDER:-}" ]; then
  if [ ! -x .venv/bin/python ]; then python3 -m venv .venv; fi
  .venv/bin/pip install -q ioc-finder
  echo "== ioc-finder $(.venv/bin/pip show ioc-finder | sed -n 's/^Version: //p'): throughput (one pass)"
  "${pin[@]}" .venv/bin/python bench/ioc_finder_bench.py speed "$corpus"
  echo "== ioc-finder: precision and recall (default options: it reports URL hosts as domains, so compare with hosts)"
  .venv/bin/python bench/ioc_finder_bench.py predict "$reports" "$labels" > "$work/ioc-finder.jsonl"
  "$bin/extract_eval" "$labels" "$reports" --hosts --predictions "$work/ioc-finder.jsonl"
fi

echo "== divan (wall time, same corpus)"
TIPLINE_EXTRACT_CORPUS=$corpus cargo bench -q -p tipline-formats --bench extract
