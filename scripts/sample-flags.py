#!/usr/bin/env python3
"""Print N flagged lines of a `tarjim eval --out DIR` run, picked at random with a fixed seed,
for reading against the Arabic (the flags' precision in BENCHMARKS.md).

    python3 scripts/sample-flags.py output/eval-pipeline/eval.json 30 [seed]
"""
import json
import random
import sys


def main() -> None:
    path, count = sys.argv[1], int(sys.argv[2])
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    with open(path, encoding="utf-8") as file:
        lines = json.load(file)["lines"]
    flagged = [line for line in lines if line.get("flags")]
    picked = sorted(random.Random(seed).sample(flagged, min(count, len(flagged))), key=lambda l: l["index"])
    print(f"{len(flagged)} flagged lines of {len(lines)}; {len(picked)} picked (seed {seed})\n")
    for line in picked:
        print(f"--- line {line['index']} (kept: {line.get('kept') or 'first'})")
        print(f"AR:  {line['source']}")
        print(f"HYP: {line['hypothesis']}")
        print(f"REF: {line['reference']}")
        for flag in line["flags"]:
            about = flag.get("arabic") or flag.get("english") or ""
            print(f"  [{flag['kind']}] {flag['message']}" + (f" ({about})" if about else ""))
        print()


if __name__ == "__main__":
    main()
