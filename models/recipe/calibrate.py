"""Temperature scaling of a joint checkpoint's 3-class `tone` head, fitted on newstone dev.

    python models/recipe/calibrate.py MODEL_DIR [--json OUT.json] [--write CONFIG_DIR]

MODEL_DIR is an assembled checkpoint ("$NEWSMILL_MODELS/joint"). The tone head's raw logits on
newstone dev.tsv (590 rows) are divided by one temperature T > 0, the value on the grid
0.25, 0.255, ..., 5 with the lowest mean negative log-likelihood (NLL) on dev (the smallest T on
a tie). T does not change the argmax, so accuracy and macro-F1 do not change.

ECE (expected calibration error): the rows are put into 15 equal-width bins by their max class
probability p (bin b holds (b/15, (b+1)/15]); ECE = sum over bins of (n_b / N) * |acc_b - conf_b|,
acc_b the share of the bin's rows whose argmax is right and conf_b their mean p.

Reported, before (T = 1) and after:
  in_sample     T fitted and measured on all of dev (optimistic);
  cross_fitted  T fitted on the even rows and measured on the odd ones and vice versa, the two
                halves pooled: the honest estimate;
  general_news  the general-news dev set (joint.py `general_news_dev`, 536 sentences) with the
                T of all dev; its 90 emobank-news rows are in newstone dev, so it overlaps the fit
                (newsmtsc_only: the 446 NewsMTSC rows, which do not).
Prints a JSON summary (and writes it to --json). --write CONFIG_DIR sets
`newsmill.heads.tone.temperature` (4 decimals) in CONFIG_DIR/config.json, kept in its format.
"""

import argparse
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from joint import DATA, TONE_LABELS, general_news_dev, macro_f1, read_tsv_labels  # noqa: E402
from newsmill_joint import NewsmillJoint  # noqa: E402

GRID = [round(0.25 + 0.005 * k, 3) for k in range(951)]


def nll(logits, gold, t=1.0):
    return torch.nn.functional.cross_entropy(logits / t, gold).item()


def ece(probs, gold, bins=15):
    conf, pred = probs.max(-1)
    b = (conf * bins).ceil().long().clamp(1, bins) - 1
    total = 0.0
    for i in range(bins):
        m = b == i
        if m.any():
            total += m.sum().item() / len(gold) * abs((pred[m] == gold[m]).float().mean().item() - conf[m].mean().item())
    return total


def fit(logits, gold):
    return min(GRID, key=lambda t: nll(logits, gold, t))  # min keeps the first (smallest) T on a tie


def scores(logits, gold, t):
    probs = (logits / t).softmax(-1)
    f1m, per = macro_f1(probs.argmax(-1).tolist(), gold.tolist(), 3)
    return {"ece": round(ece(probs, gold), 4), "nll": round(nll(logits, gold, t), 4), "macro_f1": round(100 * f1m, 2),
            "per_class_f1": [round(100 * f, 2) for f in per]}


def tone_logits(model, sentences, batch=64):
    return torch.cat([model.logits(sentences[i : i + batch], "tone") for i in range(0, len(sentences), batch)])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--json")
    ap.add_argument("--write", metavar="CONFIG_DIR")
    args = ap.parse_args()
    torch.set_num_threads(1)
    model = NewsmillJoint.from_pretrained(args.model)
    assert model.spec["heads"]["tone"]["labels"] == TONE_LABELS
    dev = read_tsv_labels(DATA / "newstone" / "dev.tsv")
    general = general_news_dev()
    x, y = tone_logits(model, [s for s, _ in dev]), torch.tensor([g for _, g in dev])
    gx, gy = tone_logits(model, [r[0] for r in general]), torch.tensor([r[1] for r in general])
    t = fit(x, y)
    even, odd = torch.arange(0, len(y), 2), torch.arange(1, len(y), 2)
    t_even, t_odd = fit(x[even], y[even]), fit(x[odd], y[odd])
    temps = torch.ones(len(y))
    temps[odd], temps[even] = t_even, t_odd  # each half scaled by the T of the other half
    news = torch.tensor([r[2] != "emobank-news" for r in general])
    out = {"model": str(args.model), "temperature": t, "cross_fit_temperatures": {"even": t_even, "odd": t_odd},
           "rows": {"dev": len(y), "general_news": len(gy), "general_news_newsmtsc_only": int(news.sum())}}
    for name, (lx, ly, after) in {
        "in_sample": (x, y, t),
        "cross_fitted": (x, y, temps[:, None]),
        "general_news": (gx, gy, t),
        "general_news_newsmtsc_only": (gx[news], gy[news], t),
    }.items():
        before, calibrated = scores(lx, ly, 1.0), scores(lx, ly, after)
        assert before["macro_f1"] == calibrated["macro_f1"]  # T never changes the argmax
        out[name] = {"before": before, "after": calibrated}
    text = json.dumps(out, indent=1)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")
    if args.write:
        path = Path(args.write) / "config.json"
        raw = path.read_text()
        cfg = json.loads(raw)
        fmt = lambda c: json.dumps(c, indent=1, sort_keys=True)  # noqa: E731  (how joint.py writes it)
        assert fmt(cfg) == raw, f"{path} is not formatted as joint.py writes it"
        cfg["newsmill"]["heads"]["tone"]["temperature"] = round(t, 4)
        path.write_text(fmt(cfg))
        print(f"wrote temperature {round(t, 4)} into {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
