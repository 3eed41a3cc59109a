"""VADER baseline for 3-class news tone: scores a `label<TAB>sentence` TSV (header line; labels
negative/neutral/positive: newstone's dev.tsv, or benches/general_news.py's output) with VADER's
compound score at the standard thresholds (>= 0.05 positive, <= -0.05 negative, else neutral)
and prints macro-F1, per-class F1 and accuracy (percent) as JSON.

    python3 -m venv ~/.cache/newsmill/vader-py
    ~/.cache/newsmill/vader-py/bin/pip install vaderSentiment==3.3.2
    ~/.cache/newsmill/vader-py/bin/python benches/tone_baseline.py ../shared/data/newstone/dev.tsv
"""

import json
import sys

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

LABELS = ["negative", "neutral", "positive"]


def vader_label(analyzer, sentence):
    c = analyzer.polarity_scores(sentence)["compound"]
    return "positive" if c >= 0.05 else "negative" if c <= -0.05 else "neutral"


def main(path):
    with open(path, encoding="utf-8") as f:
        next(f)
        rows = [line.rstrip("\n").split("\t", 1) for line in f]
    analyzer = SentimentIntensityAnalyzer()
    gold = [y for y, _ in rows]
    pred = [vader_label(analyzer, s) for _, s in rows]
    f1 = {}
    for c in LABELS:
        tp = sum(p == c and g == c for p, g in zip(pred, gold))
        wrong = sum((p == c) != (g == c) for p, g in zip(pred, gold))
        f1[c] = round(100 * 2 * tp / max(1, 2 * tp + wrong), 2)
    out = {
        "file": path,
        "rows": len(rows),
        "macro_f1": round(sum(f1.values()) / len(LABELS), 2),
        "per_class_f1": f1,
        "accuracy": round(100 * sum(p == g for p, g in zip(pred, gold)) / len(rows), 2),
        "predicted": {c: pred.count(c) for c in LABELS},
        "gold": {c: gold.count(c) for c in LABELS},
    }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main(sys.argv[1])
