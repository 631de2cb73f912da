#!/usr/bin/env python3
"""Synthetic input for bench/match.sh: a firewall log and an indicator list.

    gen_match_data.py OUT_DIR LINES INDICATORS [SEED]

Writes OUT_DIR/indicators.txt (one IPv4 address or network per line: 75% addresses,
25% networks /20-/28) and OUT_DIR/fw.log (iptables-style lines; 5% of the sources are
inside an indicator, the rest uniformly random; destinations are a few fixed addresses).
Deterministic for a given seed."""

import random
import sys


def ip(n):
    return f"{n >> 24}.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


def main():
    out, lines, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 7)
    bases = []
    with open(f"{out}/indicators.txt", "w") as f:
        f.write("# synthetic indicators for bench/match.sh\n")
        for _ in range(count):
            a = rng.getrandbits(32)
            if rng.random() < 0.25:
                length = rng.randint(20, 28)
                a &= (0xFFFFFFFF << (32 - length)) & 0xFFFFFFFF
                f.write(f"{ip(a)}/{length}\n")
            else:
                f.write(ip(a) + "\n")
            if len(bases) < 100_000:
                bases.append(a)
    destinations = [ip(rng.getrandbits(32)) for _ in range(8)]
    ports = [22, 25, 53, 80, 123, 443, 445, 3389, 8080]
    with open(f"{out}/fw.log", "w") as f:
        chunk = []
        for i in range(lines):
            if rng.random() < 0.05:
                src = ip(rng.choice(bases))
            else:
                src = ip(rng.getrandbits(32))
            dst = destinations[i & 7]
            chunk.append(
                f"Mar  2 10:{(i // 60) % 60:02d}:{i % 60:02d} fw01 kernel: [{i}] DROP IN=eth0 OUT= "
                f"MAC=00:16:3e:00:00:01 SRC={src} DST={dst} LEN=60 TOS=0x00 TTL=51 ID={i & 65535} "
                f"PROTO=TCP SPT={1024 + (i * 7919) % 60000} DPT={ports[i % 9]} WINDOW=29200 SYN\n"
            )
            if len(chunk) == 10_000:
                f.write("".join(chunk))
                chunk.clear()
        f.write("".join(chunk))


if __name__ == "__main__":
    main()
