"""The Python reference for `newsmill bench`: the same checkpoints through Hugging Face
`transformers` pipelines on the same corpus, on the same machine.

    python benches/python_reference.py CORPUS.jsonl MODELS_DIR [--limit 500] [--tasks ner,sentiment,stance]
                                       [--threads 2] [--json OUT]

- sentences: split on line breaks, then after . ! ? before an upper-case letter, digit or quote;
- NER: token-classification pipeline, aggregation_strategy="first" (newsmill's aggregation),
  over sentences;
- sentence sentiment: text-classification pipeline over the same sentences;
- entity stance: text-classification over (sentence, mention) text pairs.
The batch size is the best of 1, 8, 32, 64 on the first 20 articles (calibration, untimed).
Note: the pipeline cannot feed newsmill's case-shape token types to the NER model, so its
entities are those of a caseless model; the work per token is the same.
"""

import argparse
import json
import re
import resource
import time

import torch
from transformers import pipeline

SPLIT = re.compile(r"(?<=[.!?\"'”’)])\s+(?=[A-Z0-9\"“‘(])")


def sentences(text):
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line:
            out += [s for s in SPLIT.split(line) if s.strip()]
    return out


def run(articles, pipes, tasks, bs):
    counts = {"sentences": 0, "entities": 0, "pairs": 0}
    sents = [s for a in articles for s in sentences(a["text"])]
    counts["sentences"] = len(sents)
    ents = []
    if "ner" in tasks or "stance" in tasks:
        for s, found in zip(sents, pipes["ner"](sents, batch_size=bs)):
            for e in found:
                ents.append((s, s[e["start"] : e["end"]]))
        counts["entities"] = len(ents)
    if "sentiment" in tasks:
        pipes["sentiment"](sents, batch_size=bs)
    if "stance" in tasks:
        pairs = [{"text": s, "text_pair": m} for s, m in ents]
        counts["pairs"] = len(pairs)
        pipes["stance"](pairs, batch_size=bs)
    return counts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus")
    ap.add_argument("models")
    ap.add_argument("--limit", type=int, default=500)
    ap.add_argument("--warmup", type=int, default=16)
    ap.add_argument("--tasks", default="ner,sentiment,stance")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    tasks = set(args.tasks.split(","))
    with open(args.corpus, encoding="utf-8") as f:
        arts = [json.loads(l) for _, l in zip(range(args.warmup + args.limit), f)]
    warm, timed = arts[: args.warmup], arts[args.warmup :]
    t0 = time.time()
    pipes = {}
    if "ner" in tasks or "stance" in tasks:
        pipes["ner"] = pipeline("token-classification", model=f"{args.models}/ner", aggregation_strategy="first", device=-1)
    if "sentiment" in tasks:
        pipes["sentiment"] = pipeline("text-classification", model=f"{args.models}/sentiment", device=-1)
    if "stance" in tasks:
        pipes["stance"] = pipeline("text-classification", model=f"{args.models}/stance", device=-1)
    load = time.time() - t0
    best, best_t = 1, float("inf")
    for bs in (1, 8, 32, 64):
        t = time.time()
        run(warm[:20], pipes, tasks, bs)
        t = time.time() - t
        if t < best_t:
            best, best_t = bs, t
    t = time.time()
    counts = run(timed, pipes, tasks, best)
    wall = time.time() - t
    report = {
        "articles": len(timed),
        "tasks": args.tasks,
        "batch_size": best,
        "threads": args.threads,
        "seconds": wall,
        "model_load_seconds": load,
        "articles_per_second": len(timed) / wall,
        "counts": counts,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "torch": torch.__version__,
    }
    text = json.dumps(report, indent=1)
    print(text)
    if args.json:
        open(args.json, "w").write(text)


if __name__ == "__main__":
    main()
