"""Writes a large JSONL corpus for memory and throughput runs by repeating the articles of a
source corpus (default: the BBC corpus in ../shared/data) with fresh ids, until the output
reaches the requested size. The output is generated data for local runs: never commit it.

    python3 benches/make_corpus.py OUT.jsonl --mb 1024 [--source ../shared/data/bbc/articles.jsonl]
"""

import argparse
import json


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--mb", type=float, default=1024)
    ap.add_argument("--source", default="../shared/data/bbc/articles.jsonl")
    args = ap.parse_args()
    with open(args.source, encoding="utf-8") as f:
        records = [json.loads(line) for line in f if line.strip()]
    limit = int(args.mb * 1024 * 1024)
    written, n, copy = 0, 0, 0
    with open(args.out, "w", encoding="utf-8") as out:
        while written < limit:
            for r in records:
                r = dict(r, id=f"{r.get('id', n)}#{copy}")
                line = json.dumps(r, ensure_ascii=False) + "\n"
                out.write(line)
                written += len(line.encode("utf-8"))
                n += 1
                if written >= limit:
                    break
            copy += 1
    print(f"{args.out}: {n} records, {written / 1024 / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
