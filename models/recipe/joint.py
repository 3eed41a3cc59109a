"""Trains newsmill's joint model: one MiniLM encoder read once per sentence, four heads.

    python models/recipe/joint.py --out DIR [--epochs 3]

Heads (one prefix each in model.safetensors, described in config.json's `newsmill.heads`):
  ner        token tags (CoNLL-2003, IOB2 over PER/ORG/LOC/MISC) on every position
  sentiment  sentence polarity (SST-2, negative/positive) from the first position (BERT pooler)
  tone       news tone (negative/neutral/positive) from the first position (BERT pooler)
  stance     stance toward a target span: [first position; mean; max of the target's wordpieces]
             of the same hidden states (NewsMTSC) -- no extra encoder pass per target

Every input is one sentence, split into words as newsmill splits them (`split_words`, a port of
crates/newsmill-text/src/words.rs), `[CLS] pieces [SEP]`, every wordpiece carrying its word's
case shape as token type id (0-3), plus 4 when the sentence is styled as a title
(`title_styled`, same rule as crates/newsmill-text/src/case.rs). NER training adds Title Case
and ALL CAPS copies of some sentences so that headlines do not turn capitalised words into names.

Multi-task schedule: task-homogeneous batches (length-sorted within shuffled blocks) of all
tasks, shuffled together each epoch; one optimizer step per batch. SST-2 is subsampled to two
thirds per epoch (a different third left out each epoch). Writes DIR/epoch-N/ (checkpoint in the
format documented in models/README.md) and DIR/train_log.json with per-epoch dev scores.
"""

import argparse
import json
import math
import random
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from transformers import BertConfig, BertModel, BertTokenizerFast
from transformers.models.bert.modeling_bert import BertLayer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from textrules import SMALL_WORDS, split_words, title_styled  # noqa: E402,F401  (newsmill's text rules)
from train import (  # noqa: E402  (same data readers and schedule as the single-task recipe)
    DATA,
    SEED,
    backbone_dir,
    case_class,
    chunks,
    iob1_to_iob2,
    length_batches,
    pad,
    read_conll,
    read_sst2,
    set_seed,
)

POLARITY = {2.0: 0, 4.0: 1, 6.0: 2}
TONE_LABELS = ["negative", "neutral", "positive"]
TYPES = ["PER", "ORG", "LOC", "MISC"]
NER_LABELS = ["O"] + [f"{p}-{t}" for t in TYPES for p in ("B", "I")]


# ---------------------------------------------------------------------------------------------
# Words and case shapes: models/recipe/textrules.py (must match crates/newsmill-text)


def type_ids_of(words):
    off = 4 if title_styled(words) else 0
    return [off + case_class(w) for w in words]


def title_case(words, rng=None):
    """Title Case copy of a sentence: every word starts with a capital except small words after
    the first (with `rng`: half of them); upper-case letters inside words are kept."""
    out = []
    for i, w in enumerate(words):
        if i > 0 and w.lower() in SMALL_WORDS and (rng is None or rng.random() < 0.5):
            out.append(w.lower())
        elif w[:1].isalpha():
            out.append(w[:1].upper() + w[1:])  # acronyms (EU, NATO) stay as they are
        else:
            out.append(w)
    return out


# ---------------------------------------------------------------------------------------------
class Encoder:
    def __init__(self, tok, max_len):
        self.tok = tok
        self.max_len = max_len

    def words(self, words):
        """ids (with [CLS]/[SEP]), type ids, word index per position (None for specials)."""
        types = type_ids_of(words)
        enc = self.tok(words, is_split_into_words=True, add_special_tokens=False)
        ids, tt, wid = [self.tok.cls_token_id], [0], [None]
        for i, w in zip(enc["input_ids"], enc.word_ids()):
            if len(ids) >= self.max_len - 1:
                break
            ids.append(i)
            tt.append(types[w])
            wid.append(w)
        ids.append(self.tok.sep_token_id)
        tt.append(0)
        wid.append(None)
        return ids, tt, wid

    def text(self, text):
        spans = split_words(text)
        words = [text[a:b] for a, b in spans]
        ids, tt, wid = self.words(words)
        return ids, tt, wid, spans


def piece_positions(wid, spans, a, b):
    """Positions whose word overlaps the character span [a, b)."""
    return [p for p, w in enumerate(wid) if w is not None and spans[w][0] < b and spans[w][1] > a]


# ---------------------------------------------------------------------------------------------
class JointModel(nn.Module):
    def __init__(self, config, n_tone=3, n_sent=2, n_stance=3, branch_from=0):
        super().__init__()
        self.bert = BertModel(config, add_pooling_layer=True)
        h = config.hidden_size
        self.drop = nn.Dropout(config.hidden_dropout_prob)
        self.ner = nn.Linear(h, len(NER_LABELS))
        self.sentiment = nn.Linear(h, n_sent)
        self.tone = nn.Linear(h, n_tone)
        self.stance = nn.Linear(3 * h, n_stance)
        # --stance-branch K: the stance head reads its own copy of layers K..L-1, run over the
        # shared trunk's states after layer K (models/README.md, the span head's `encoder`)
        self.branch_from = branch_from
        n = config.num_hidden_layers - branch_from if branch_from else 0
        self.branch = nn.ModuleList(BertLayer(config) for _ in range(n))

    def encode(self, ids, types):
        mask = (ids != 0).long()
        out = self.bert(input_ids=ids, attention_mask=mask, token_type_ids=types)
        return out.last_hidden_state, out.pooler_output

    def encode_stance(self, ids, types):
        """The states the stance head reads: the shared last states, or with a branch the trunk's
        first K layers then the branch's own layers (the shared upper layers are not run)."""
        if not self.branch_from:
            return self.encode(ids, types)[0]
        mask = (ids != 0).long()
        ext = self.bert.get_extended_attention_mask(mask, ids.shape)
        h = self.bert.embeddings(input_ids=ids, token_type_ids=types)
        for layer in self.bert.encoder.layer[: self.branch_from]:
            h = layer(h, attention_mask=ext)[0]
        for layer in self.branch:
            h = layer(h, attention_mask=ext)[0]
        return h

    def stance_logits(self, hidden, rows, positions):
        """hidden [B, T, h]; rows: batch row per target; positions: list of position lists."""
        feats = []
        for r, pos in zip(rows, positions):
            t = hidden[r, pos]  # [k, h]
            feats.append(torch.cat([hidden[r, 0], t.mean(0), t.max(0).values]))
        return self.stance(self.drop(torch.stack(feats)))


def saved_state(model, saved, heads):
    """`model`'s state from a saved checkpoint's tensors (`state_dict_for_export` names): the
    encoder, the branch's layers (`stance.encoder.layer.N.*`) and the classifiers of `heads`."""
    state = {k: v for k, v in saved.items() if k.startswith("bert.")}
    for i in range(len(model.branch)):
        p = f"stance.encoder.layer.{model.branch_from + i}."
        state.update({f"branch.{i}.{k[len(p):]}": v for k, v in saved.items() if k.startswith(p)})
    for head in heads:
        state[f"{head}.weight"] = saved[f"{head}.classifier.weight"]
        state[f"{head}.bias"] = saved[f"{head}.classifier.bias"]
    return state


def head_names():
    return {
        "ner.classifier": "ner",
        "sentiment.classifier": "sentiment",
        "tone.classifier": "tone",
        "stance.classifier": "stance",
    }


HEADS = ("ner", "sentiment", "tone", "stance")


def state_dict_for_export(model, heads=HEADS):
    sd = {}
    for k, v in model.state_dict().items():
        if k.startswith("bert."):
            sd[k] = v
        elif k.startswith("branch."):
            _, i, rest = k.split(".", 2)
            if "stance" in heads:
                sd[f"stance.encoder.layer.{model.branch_from + int(i)}.{rest}"] = v
        else:
            head, rest = k.split(".", 1)
            if head in heads:
                sd[f"{head}.classifier.{rest}"] = v
    return sd


def newsmill_section(heads=HEADS, branch_from=0):
    every = {
        "ner": {"kind": "token", "prefix": "ner.classifier", "labels": NER_LABELS},
        "sentiment": {"kind": "first_position", "pooler": True, "prefix": "sentiment.classifier",
                      "labels": ["negative", "positive"]},
        "tone": {"kind": "first_position", "pooler": True, "prefix": "tone.classifier", "labels": TONE_LABELS},
        "stance": {"kind": "span_pool", "pool": ["first", "mean", "max"], "prefix": "stance.classifier",
                   "labels": TONE_LABELS},
    }
    if branch_from:
        every["stance"]["encoder"] = {"prefix": "stance.encoder", "from_layer": branch_from}
    return {
        "format": "joint_v1",
        "case_feature": "token_type_v2",
        "heads": {k: v for k, v in every.items() if k in heads},
    }


def save_checkpoint(model, tok, config, out, log, heads=HEADS):
    from safetensors.torch import save_file

    out.mkdir(parents=True, exist_ok=True)
    cfg = config.to_dict()
    cfg["architectures"] = ["NewsmillJointModel"]
    cfg["newsmill"] = newsmill_section(heads, model.branch_from)
    for k in ("id2label", "label2id"):
        cfg.pop(k, None)
    (out / "config.json").write_text(json.dumps(cfg, indent=1, sort_keys=True))
    sd = {k: v.detach().contiguous() for k, v in state_dict_for_export(model, heads).items()}
    save_file(sd, str(out / "model.safetensors"), metadata={"format": "pt"})
    tok.backend_tokenizer.save(str(out / "tokenizer.json"))
    (out / "train_log.json").write_text(json.dumps(log, indent=1))


# ---------------------------------------------------------------------------------------------
# Data
def ner_examples(path, enc, rng=None, title_p=0.0, caps_p=0.0):
    """(ids, types, labels, wid, words, gold IOB1 tags) per sentence (+ augmented copies)."""
    l2i = {l: i for i, l in enumerate(NER_LABELS)}
    out = []
    for words, tags in read_conll(path):
        variants = [words]
        if rng is not None:
            if rng.random() < title_p:
                variants.append(title_case(words, rng))
            if rng.random() < caps_p:
                variants.append([w.upper() for w in words])
        for ws in variants:
            ids, tt, wid = enc.words(ws)
            tags2 = iob1_to_iob2(tags)
            lab, prev = [], None
            for w in wid:
                lab.append(-100 if w is None or w == prev else l2i[tags2[w]])
                prev = w
            out.append((ids, tt, lab, wid, ws, tags))
    return out


def read_newsmtsc_sentences(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            out.append((r["sentence_normalized"], [(t["from"], t["to"], POLARITY[float(t["polarity"])]) for t in r["targets"]]))
    return out


def stance_examples(path, enc):
    out = []
    for s, targets in read_newsmtsc_sentences(path):
        ids, tt, wid, spans = enc.text(s)
        ts = []
        for a, b, y in targets:
            pos = piece_positions(wid, spans, a, b)
            if pos:
                ts.append((pos, y))
        if ts:
            out.append((ids, tt, ts))
    return out


def read_tsv_labels(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        next(f)
        for line in f:
            y, s = line.rstrip("\n").split("\t", 1)
            rows.append((s, TONE_LABELS.index(y)))
    return rows


def uniform_newsmtsc(path, line_numbers=False):
    """NewsMTSC sentences whose targets all share one polarity, labelled with it (with
    `line_numbers`: (sentence, label, 1-based line of the file))."""
    out = []
    for i, (s, targets) in enumerate(read_newsmtsc_sentences(path), 1):
        ys = {y for _, _, y in targets}
        if len(ys) == 1:
            out.append((s, ys.pop(), i) if line_numbers else (s, ys.pop()))
    return out


def general_news_dev(data=DATA):
    """The general-news tone dev set, as (sentence, label index, source, detail): the
    emobank-news rows of newstone dev.tsv (detail from dev.sources.tsv), then the NewsMTSC
    dev_rw and dev_mt sentences whose targets all share one polarity (detail: line=N)."""
    nt = read_tsv_labels(data / "newstone" / "dev.tsv")
    with open(data / "newstone" / "dev.sources.tsv", encoding="utf-8") as f:
        next(f)
        sources = [line.rstrip("\n").split("\t", 1) for line in f]
    out = [(s, y, src, detail) for (s, y), (src, detail) in zip(nt, sources) if src == "emobank-news"]
    for split in ("dev_rw", "dev_mt"):
        for s, y, i in uniform_newsmtsc(data / "newsmtsc" / f"{split}.jsonl", line_numbers=True):
            out.append((s, y, f"newsmtsc-{split}", f"line={i}"))
    return out


def title_case_conll(path):
    """The Title Case copy of a CoNLL file's sentences (`title_case` without rng), as
    (words, gold tags) per sentence: the "Title Case CoNLL" dev set."""
    return [(title_case(words), tags) for words, tags in read_conll(path)]


def seq_examples(rows, enc):
    return [enc.text(s)[:2] + (y,) for s, y in rows]


# ---------------------------------------------------------------------------------------------
def macro_f1(preds, gold, n):
    f1s = []
    for c in range(n):
        tp = sum(1 for p, g in zip(preds, gold) if p == c and g == c)
        fp = sum(1 for p, g in zip(preds, gold) if p == c and g != c)
        fn = sum(1 for p, g in zip(preds, gold) if p != c and g == c)
        f1s.append(2 * tp / max(1, 2 * tp + fp + fn))
    return sum(f1s) / n, f1s


def evaluate(model, dev):
    model.eval()
    res = {}
    with torch.no_grad():
        for name, data in dev["ner"].items():
            gold, pred = set(), set()
            order = sorted(range(len(data)), key=lambda i: len(data[i][0]))
            for b in range(0, len(order), 64):
                ids = order[b : b + 64]
                hid, _ = model.encode(pad([data[i][0] for i in ids], 0), pad([data[i][1] for i in ids], 0))
                am = model.ner(hid).argmax(-1).tolist()
                for row, i in enumerate(ids):
                    _, _, _, wid, words, gt = data[i]
                    wt, prev = ["O"] * len(words), None
                    for p, w in enumerate(wid):
                        if w is not None and w != prev:
                            wt[w] = NER_LABELS[am[row][p]]
                        prev = w
                    gold |= {(i,) + c for c in chunks(gt)}
                    pred |= {(i,) + c for c in chunks(wt)}
            tp = len(gold & pred)
            p, r = tp / max(1, len(pred)), tp / max(1, len(gold))
            res[name] = {"f1": 2 * p * r / max(1e-9, p + r), "precision": p, "recall": r}
        for name, data in dev["stance"].items():
            preds, gold = [], []
            for b in range(0, len(data), 64):
                chunk = data[b : b + 64]
                hid = model.encode_stance(pad([c[0] for c in chunk], 0), pad([c[1] for c in chunk], 0))
                rows = [r for r, c in enumerate(chunk) for _ in c[2]]
                pos = [p for c in chunk for p, _ in c[2]]
                preds += model.stance_logits(hid, rows, pos).argmax(-1).tolist()
                gold += [y for c in chunk for _, y in c[2]]
            f1m, per = macro_f1(preds, gold, 3)
            res[name] = {"f1m": f1m, "accuracy": sum(p == g for p, g in zip(preds, gold)) / len(gold), "per_class_f1": per}
        for name, (head, n, data) in dev["seq"].items():
            preds, gold = [], []
            for b in range(0, len(data), 64):
                chunk = data[b : b + 64]
                _, pooled = model.encode(pad([c[0] for c in chunk], 0), pad([c[1] for c in chunk], 0))
                preds += getattr(model, head)(pooled).argmax(-1).tolist()
                gold += [c[2] for c in chunk]
            f1m, per = macro_f1(preds, gold, n)
            res[name] = {"f1m": f1m, "accuracy": sum(p == g for p, g in zip(preds, gold)) / len(gold), "per_class_f1": per}
    model.train()
    return res


# ---------------------------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--head-lr", type=float, default=2e-4)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--max-len", type=int, default=192)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--title-p", type=float, default=0.15, help="NER: share of sentences with a Title Case copy")
    ap.add_argument("--caps-p", type=float, default=0.05, help="NER: share of sentences with an ALL CAPS copy")
    ap.add_argument("--sst2-share", type=float, default=2 / 3, help="share of SST-2 used per epoch")
    ap.add_argument("--limit", type=int, default=0, help="smoke runs: first N examples of every task")
    ap.add_argument("--init", help="start from this joint checkpoint folder (a continuation run) instead of the backbone")
    ap.add_argument("--ner-repeat", type=int, default=1, help="NER batches per epoch: every sentence this many times")
    ap.add_argument("--stance-repeat", type=int, default=1, help="stance batches per epoch: every sentence this many times")
    ap.add_argument("--ner-share", type=float, default=1.0, help="share of the NER batches used per epoch (after --ner-repeat)")
    ap.add_argument("--tone-share", type=float, default=1.0, help="share of the tone batches used per epoch")
    ap.add_argument("--heads", default=",".join(HEADS),
                    help="heads to train and save (comma-separated); the tasks of the others get no batches")
    ap.add_argument("--layers", type=int, default=0, help="keep only the backbone's first N encoder layers (0: all)")
    ap.add_argument("--trunk", help="a checkpoint folder whose embeddings and first --freeze-layers layers replace "
                                    "the model's (after --init) and stay frozen: the shared trunk of a branched checkpoint")
    ap.add_argument("--freeze-layers", type=int, default=0, help="with --trunk: K, the layers taken from it")
    ap.add_argument("--resume", help="continue an interrupted run from its last epoch folder (same flags as that run): "
                    "its weights, the data order and learning-rate schedule of the later epochs; the optimizer's "
                    "moments and the dropout RNG restart, so the result is close to, not bit-identical with, an "
                    "uninterrupted run")
    ap.add_argument("--stance-branch", type=int, default=0,
                    help="K: the stance head gets its own layers K..L-1 (starting as the backbone's, or --init's "
                         "branch), over the trunk's first K layers shared with the other heads (0: no branch)")
    args = ap.parse_args()
    done_log = None
    if args.resume:
        done_log = json.loads((Path(args.resume) / "train_log.json").read_text())
        same = ("out", "init", "resume")
        differ = [k for k, v in done_log["args"].items() if k not in same and vars(args).get(k) != v]
        if differ or args.init:
            sys.exit(f"--resume {args.resume}: give the interrupted run's flags (differ: {differ}) and no --init")
        args.init = args.resume
    heads = tuple(h for h in HEADS if h in args.heads.split(","))
    if set(args.heads.split(",")) - set(HEADS):
        sys.exit(f"--heads: unknown head in {args.heads!r}; heads are {', '.join(HEADS)}")
    torch.set_num_threads(args.threads)
    set_seed(SEED)
    rng = random.Random(SEED)
    t_start = time.time()
    tok = BertTokenizerFast.from_pretrained(str(backbone_dir()))
    enc = Encoder(tok, args.max_len)
    lim = (lambda xs: xs[: args.limit]) if args.limit else (lambda xs: xs)

    conll = DATA / "conll2003"
    ner_tr = lim(ner_examples(conll / "eng.train", enc, rng, args.title_p, args.caps_p))
    stance_tr = lim(stance_examples(DATA / "newsmtsc" / "train.jsonl", enc))
    tone_rows = read_tsv_labels(DATA / "newstone" / "train.tsv") + uniform_newsmtsc(DATA / "newsmtsc" / "train.jsonl")
    tone_tr = lim(seq_examples(tone_rows, enc))
    sst = read_sst2()
    sst_tr = lim(seq_examples([r for i, r in enumerate(sst) if i % 33 != 0], enc))

    # dev sets (selection only; test splits are not here)
    ner_dev = lim(ner_examples(conll / "eng.testa", enc))
    title_dev = []
    for ws, tags in lim(title_case_conll(conll / "eng.testa")):
        ids, tt, wid = enc.words(ws)
        title_dev.append((ids, tt, None, wid, ws, tags))
    nt_dev = read_tsv_labels(DATA / "newstone" / "dev.tsv")
    general = [(s, y) for s, y, _, _ in general_news_dev()]
    if "ner" not in heads:
        ner_tr = []
    if "stance" not in heads:
        stance_tr = []
    if "tone" not in heads:
        tone_tr = []
    if "sentiment" not in heads:
        sst_tr = []
    dev = {
        "ner": {"conll_dev": ner_dev, "conll_dev_titlecase": title_dev},
        "stance": {
            "dev_rw": lim(stance_examples(DATA / "newsmtsc" / "dev_rw.jsonl", enc)),
            "dev_mt": lim(stance_examples(DATA / "newsmtsc" / "dev_mt.jsonl", enc)),
        },
        "seq": {
            "sst2_heldout": ("sentiment", 2, lim(seq_examples(sst[::33], enc))),
            "newstone_dev": ("tone", 3, lim(seq_examples(nt_dev, enc))),
            "general_news_dev": ("tone", 3, lim(seq_examples(general, enc))),
        },
    }
    dev["ner"] = {k: v for k, v in dev["ner"].items() if "ner" in heads}
    dev["stance"] = {k: v for k, v in dev["stance"].items() if "stance" in heads}
    dev["seq"] = {k: v for k, v in dev["seq"].items() if v[0] in heads}
    print(
        f"joint: ner {len(ner_tr)}, stance {len(stance_tr)} sentences, tone {len(tone_tr)}, sst2 {len(sst_tr)}; "
        f"general-news dev {len(general)}; prepared in {time.time() - t_start:.0f}s",
        flush=True,
    )

    config = BertConfig.from_pretrained(str(backbone_dir()), type_vocab_size=8)
    if args.layers:
        config.num_hidden_layers = args.layers
    if args.stance_branch and not 0 < args.stance_branch < config.num_hidden_layers:
        sys.exit(f"--stance-branch: between 1 and {config.num_hidden_layers - 1}")
    set_seed(SEED)
    model = JointModel(config, branch_from=args.stance_branch)
    base = BertModel.from_pretrained(str(backbone_dir()), add_pooling_layer=True)
    own = model.bert.state_dict()
    for k, v in base.state_dict().items():
        if k not in own:
            continue  # a layer above --layers
        if k == "embeddings.token_type_embeddings.weight":
            v = v[0:1].repeat(own[k].shape[0], 1)  # every type row starts as row 0
        own[k] = v
    model.bert.load_state_dict(own)
    for i, layer in enumerate(model.branch):  # the branch starts as a copy of the upper layers
        layer.load_state_dict(model.bert.encoder.layer[args.stance_branch + i].state_dict())
    if args.init:
        from safetensors.torch import load_file

        saved = load_file(str(Path(args.init) / "model.safetensors"))
        missing, unexpected = model.load_state_dict(saved_state(model, saved, heads), strict=False)
        if unexpected or any(k.startswith(("bert.", "branch.")) for k in missing):
            sys.exit(f"--init {args.init}: tensors that do not fit: {(unexpected + missing)[:5]}")
    if args.trunk:
        if not 0 < args.freeze_layers < config.num_hidden_layers:
            sys.exit(f"--trunk needs --freeze-layers between 1 and {config.num_hidden_layers - 1}")
        from safetensors.torch import load_file

        def in_trunk(name):
            parts = name.split(".")
            return name.startswith("bert.embeddings.") or (
                name.startswith("bert.encoder.layer.") and int(parts[3]) < args.freeze_layers
            )

        own = model.state_dict()
        for k, v in load_file(str(Path(args.trunk) / "model.safetensors")).items():
            if in_trunk(k):
                own[k] = v
        model.load_state_dict(own)
        for n, p in model.named_parameters():
            if in_trunk(n):
                p.requires_grad_(False)
    model.bert.embeddings.word_embeddings.weight.requires_grad_(False)
    frozen = {"bert.embeddings.word_embeddings.weight"}

    sst_per_epoch = int(len(sst_tr) * args.sst2_share)
    n_batches = sum(
        math.ceil(n / args.batch)
        for n in (
            len(ner_tr) * args.ner_repeat * args.ner_share,
            len(stance_tr) * args.stance_repeat,
            len(tone_tr) * args.tone_share,
            sst_per_epoch,
        )
    )
    total = n_batches * args.epochs
    # encoder and heads: separate learning rates (the heads start from scratch); AdamW, weight
    # decay 0.01 except biases and LayerNorm, linear warm-up over 10% of the steps, linear decay
    groups = {"enc": [], "enc_nd": [], "head": []}
    for n, p in model.named_parameters():
        if not p.requires_grad or n in frozen:
            continue
        if not n.startswith(("bert.", "branch.")):
            groups["head"].append(p)
        elif n.endswith("bias") or "LayerNorm" in n:
            groups["enc_nd"].append(p)
        else:
            groups["enc"].append(p)
    opt = torch.optim.AdamW(
        [
            {"params": groups["enc"], "weight_decay": 0.01, "lr": args.lr},
            {"params": groups["enc_nd"], "weight_decay": 0.0, "lr": args.lr},
            {"params": groups["head"], "weight_decay": 0.01, "lr": args.head_lr},
        ]
    )
    warm = max(1, int(0.1 * total))
    done = len(done_log["epochs"]) if done_log else 0  # epochs an interrupted run finished (--resume)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (lambda s: s / warm if s < warm else max(0.0, (total - s) / max(1, total - warm)))(s + done * n_batches)
    )

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log = {"args": vars(args), "seed": SEED, "torch": torch.__version__, "steps_per_epoch": n_batches, "epochs": []}
    if done_log:
        log["epochs"] = done_log["epochs"]
        log["resumed_from"] = {"folder": args.resume, "epochs_done": done}
    model.train()
    step, t0 = done * n_batches, time.time()
    task_time = {"ner": 0.0, "stance": 0.0, "tone": 0.0, "sentiment": 0.0}
    for epoch in range(args.epochs):
        third = epoch % 3
        sst_idx = [i for i in range(len(sst_tr)) if (i % 3 != third) or args.sst2_share >= 1.0][:sst_per_epoch]
        def blocks(data):
            return length_batches([len(x[0]) for x in data], args.batch, rng, shuffle=False)

        def share(batches, p):
            # the first p of the batches in a shuffled order (all of them when p >= 1)
            if p >= 1.0:
                return batches
            rng.shuffle(batches)
            return batches[: math.ceil(len(batches) * p)]

        plan = share([("ner", b) for _ in range(args.ner_repeat) for b in blocks(ner_tr)], args.ner_share)
        plan += [("stance", b) for _ in range(args.stance_repeat) for b in blocks(stance_tr)]
        plan += share([("tone", b) for b in blocks(tone_tr)], args.tone_share)
        sst_sub = [sst_tr[i] for i in sst_idx]
        plan += [("sentiment", [sst_idx[j] for j in b]) for b in blocks(sst_sub)]
        rng.shuffle(plan)
        if epoch < done:
            continue  # --resume: this epoch's data order replayed, its training already done
        for task, ids in plan:
            ts = time.time()
            data = {"ner": ner_tr, "stance": stance_tr, "tone": tone_tr, "sentiment": sst_tr}[task]
            x = pad([data[i][0] for i in ids], 0)
            tt = pad([data[i][1] for i in ids], 0)
            if task == "stance":
                hid = model.encode_stance(x, tt)
            else:
                hid, pooled = model.encode(x, tt)
            if task == "ner":
                logits = model.ner(model.drop(hid))
                loss = F.cross_entropy(logits.view(-1, logits.size(-1)), pad([data[i][2] for i in ids], -100).view(-1), ignore_index=-100)
            elif task == "stance":
                rows = [r for r, i in enumerate(ids) for _ in data[i][2]]
                pos = [p for i in ids for p, _ in data[i][2]]
                y = torch.tensor([y for i in ids for _, y in data[i][2]])
                loss = F.cross_entropy(model.stance_logits(hid, rows, pos), y)
            else:
                head = getattr(model, task)
                loss = F.cross_entropy(head(model.drop(pooled)), torch.tensor([data[i][2] for i in ids]))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
            step += 1
            task_time[task] += time.time() - ts
            if step % 100 == 0:
                print(f"epoch {epoch} step {step}/{total} {task} loss {loss.item():.4f} {time.time() - t0:.0f}s", flush=True)
        te = time.time()
        scores = evaluate(model, dev)
        scores["epoch"] = epoch + 1
        scores["elapsed_s"] = round(time.time() - t0, 1)
        scores["eval_s"] = round(time.time() - te, 1)
        scores["task_seconds"] = {k: round(v, 1) for k, v in task_time.items()}
        log["epochs"].append(scores)
        print(f"epoch {epoch + 1} dev {json.dumps(scores)}", flush=True)
        save_checkpoint(model, tok, config, out / f"epoch-{epoch + 1}", log, heads)
    log["total_seconds"] = round(time.time() - t0, 1)
    (out / "train_log.json").write_text(json.dumps(log, indent=1))
    print(f"joint done in {log['total_seconds']}s", flush=True)


if __name__ == "__main__":
    sys.exit(main())
