#!/usr/bin/env python3
"""The Python API's throughput against `newsmill bench`, side by side (README, "Python").

    python benches/python_api.py [--corpus FILE] [--limit 500] [--precision int8] [--workers N]
                                 [--rounds 1]

Run with the Python of a venv where the newsmill wheels are installed; the CLI side is the
same binary (`newsmill.binary()`), with the same default models. Both sides: the same records
(`newsmill bench` takes the first 16 + LIMIT records, warms up on the 16 and times the LIMIT),
the same settings and workers; model load excluded from both (bench times after its engine has
started; the API side times `list(nlp.annotate(...))` on a Pipeline whose ready line has come,
after the same 16-record warm-up). The API side includes what a user pays: JSON encoding of
the input in Python, the pipe, JSON parsing of every record into dicts. Rounds alternate CLI,
API. Prints one JSON object with the rates and their ratio (API / CLI).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from itertools import islice
from pathlib import Path

import newsmill
from newsmill._engine import environ


def main() -> None:
    here = Path(__file__).resolve().parents[1]
    p = argparse.ArgumentParser()
    p.add_argument("--corpus", default=str(here.parent / "shared/data/bbc/articles.jsonl"))
    p.add_argument("--limit", type=int, default=500)
    p.add_argument("--warmup", type=int, default=16)
    p.add_argument("--precision", default="int8")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    p.add_argument("--rounds", type=int, default=1)
    a = p.parse_args()

    with open(a.corpus, encoding="utf-8") as f:
        lines = [line for line in islice(f, a.warmup + a.limit)]
    records = [json.loads(line) for line in lines]
    warm, timed = records[: a.warmup], records[a.warmup :]
    flags = ["--precision", a.precision, "--workers", str(a.workers)]

    cli_rates, api_rates = [], []
    for _ in range(a.rounds):
        with tempfile.TemporaryDirectory() as tmp:
            report = os.path.join(tmp, "bench.json")
            subprocess.run(
                [
                    newsmill.binary(),
                    "bench",
                    a.corpus,
                    "--limit",
                    str(a.limit),
                    "--warmup",
                    str(a.warmup),
                    "--repeat",
                    "1",
                    "--json",
                    report,
                    *flags,
                ],
                env=environ(),
                check=True,
                stdout=subprocess.DEVNULL,
            )
            with open(report, encoding="utf-8") as f:
                cli_rates.append(json.load(f)["rows"][0]["articles_per_second"]["median"])
        with newsmill.Pipeline(precision=a.precision, workers=a.workers) as nlp:
            list(nlp.annotate(warm))
            t0 = time.perf_counter()
            n = sum(1 for r in nlp.annotate(timed) if "error" not in r)
            api_rates.append(n / (time.perf_counter() - t0))
        print(
            f"round: cli {cli_rates[-1]:.2f} articles/s, api {api_rates[-1]:.2f} articles/s",
            file=sys.stderr,
        )
    cli, api = sum(cli_rates) / len(cli_rates), sum(api_rates) / len(api_rates)
    print(
        json.dumps(
            {
                "corpus": a.corpus,
                "articles": len(timed),
                "precision": a.precision,
                "workers": a.workers,
                "rounds": a.rounds,
                "model_load": "excluded from both",
                "cli_bench_articles_per_second": cli_rates,
                "api_articles_per_second": api_rates,
                "ratio_api_over_cli": api / cli,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
