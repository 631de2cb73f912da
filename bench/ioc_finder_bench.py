"""ioc-finder (PyPI) on the same corpus and labelled set as tipline's extractor.

    python bench/ioc_finder_bench.py speed CORPUS_FILE
    python bench/ioc_finder_bench.py predict REPORTS_DIR LABELS_DIR > predictions.jsonl

`speed` prints MB/s by CPU time (time.process_time) and wall time for one pass over the
corpus. `predict` runs find_iocs with its default options on every labelled report and
prints one JSON line per (file, kind, value) in tipline's kind names, for extract_eval.
"""

import json
import os
import sys
import time

from ioc_finder import find_iocs

# ioc-finder result keys → tipline kinds (the other types it finds are not compared).
KINDS = {
    "ipv4s": "ipv4",
    "ipv6s": "ipv6",
    "ipv4_cidrs": "cidr",
    "domains": "domain",
    "urls": "url",
    "email_addresses": "email",
    "md5s": "md5",
    "sha1s": "sha1",
    "sha256s": "sha256",
    "asns": "asn",
    "cves": "cve",
}


def speed(corpus):
    with open(corpus, encoding="utf-8", errors="replace") as f:
        text = f.read()
    size = len(text.encode("utf-8"))
    cpu, wall = time.process_time(), time.perf_counter()
    found = find_iocs(text)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    hits = sum(len(found.get(key, [])) for key in KINDS)
    print(
        f"bytes={size} distinct_values={hits} cpu_s={cpu:.2f} wall_s={wall:.2f} "
        f"cpu_mb_s={size / 1e6 / cpu:.3f} wall_mb_s={size / 1e6 / wall:.3f}"
    )


def predict(reports, labels):
    for root, _, files in sorted(os.walk(labels)):
        for name in sorted(files):
            if not name.endswith(".tsv"):
                continue
            relative = os.path.relpath(os.path.join(root, name), labels)[: -len(".tsv")]
            with open(os.path.join(reports, relative), encoding="utf-8", errors="replace") as f:
                found = find_iocs(f.read())
            for key, kind in KINDS.items():
                for value in found.get(key, []):
                    print(json.dumps({"file": relative, "kind": kind, "value": value}))


if __name__ == "__main__":
    if sys.argv[1] == "speed":
        speed(sys.argv[2])
    else:
        predict(sys.argv[2], sys.argv[3])
