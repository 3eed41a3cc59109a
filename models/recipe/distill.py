"""Trains a branched checkpoint's stance branch again, its trunk frozen, from a teacher's stance
probabilities on unlabelled news plus NewsMTSC's gold labels.

    python models/recipe/distill.py --student DIR --teacher-records FILE.jsonl --out OUT

DIR is a checkpoint with a stance branch (`joint.py --stance-branch K`). Its embeddings, shared
layers and the NER, sentiment and tone heads are kept bit for bit (frozen), so every row but
stance scores as DIR's. Only the branch's own layers and the stance head train.

FILE.jsonl is `newsmill annotate` output made with the teacher (the default stance-only
checkpoint): each entity mention, in its sentence, with the teacher's probabilities
(`entities[].stance.probs`) is one soft-labelled target. The loss per batch is the KL divergence
to the teacher's probabilities at temperature --temperature (scaled by its square), or on
NewsMTSC train batches the cross-entropy to the gold polarity; the two kinds of batches are
shuffled together, --gold-repeat NewsMTSC passes per epoch. Writes OUT/step-N/ every half
epoch and OUT/train_log.json with their dev_rw/dev_mt scores.
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
from transformers import BertConfig, BertTokenizerFast

sys.path.insert(0, str(Path(__file__).resolve().parent))
from joint import (  # noqa: E402
    DATA,
    HEADS,
    TONE_LABELS,
    Encoder,
    JointModel,
    evaluate,
    piece_positions,
    save_checkpoint,
    saved_state,
    stance_examples,
)
from train import SEED, backbone_dir, length_batches, pad, set_seed  # noqa: E402


def teacher_examples(path, enc, limit=0):
    """(ids, types, [(positions, teacher probs)]) per sentence that has entity mentions."""
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f):
            if limit and n >= limit:
                break
            r = json.loads(line)
            if "error" in r:
                continue
            text, sents = r["text"], r["sentences"]
            per = {}
            for e in r["entities"]:
                if "stance" in e:
                    per.setdefault(e["sentence"], []).append(e)
            for si, ents in sorted(per.items()):
                s = sents[si]
                sentence = text[s["start"] : s["end"]]
                ids, tt, wid, spans = enc.text(sentence)
                ts = []
                for e in ents:
                    pos = piece_positions(wid, spans, e["start"] - s["start"], e["end"] - s["start"])
                    if pos:
                        ts.append((pos, [e["stance"]["probs"][k] for k in TONE_LABELS]))
                if ts:
                    out.append((ids, tt, ts))
    return out


def load_student(folder):
    from safetensors.torch import load_file

    config = BertConfig.from_pretrained(folder)
    k = config.newsmill["heads"]["stance"]["encoder"]["from_layer"]
    model = JointModel(config, branch_from=k)
    saved = load_file(str(Path(folder) / "model.safetensors"))
    missing, unexpected = model.load_state_dict(saved_state(model, saved, HEADS), strict=False)
    if missing or unexpected:
        sys.exit(f"--student {folder}: tensors that do not fit: {(missing + unexpected)[:5]}")
    return config, model


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--student", required=True, help="a checkpoint folder with a stance branch")
    ap.add_argument("--teacher-records", required=True, help="newsmill annotate output made with the teacher")
    ap.add_argument("--out", required=True)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--lr", type=float, default=3e-5, help="the branch's layers")
    ap.add_argument("--head-lr", type=float, default=1e-4)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--temperature", type=float, default=2.0)
    ap.add_argument("--gold-repeat", type=int, default=1, help="NewsMTSC train passes per epoch")
    ap.add_argument("--max-len", type=int, default=192)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--limit", type=int, default=0, help="smoke runs: first N records and examples")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    set_seed(SEED)
    rng = random.Random(SEED)
    t0 = time.time()
    tok = BertTokenizerFast.from_pretrained(str(backbone_dir()))
    enc = Encoder(tok, args.max_len)
    lim = (lambda xs: xs[: args.limit]) if args.limit else (lambda xs: xs)
    soft = teacher_examples(args.teacher_records, enc, args.limit)
    gold = lim(stance_examples(DATA / "newsmtsc" / "train.jsonl", enc))
    dev = {
        "ner": {},
        "seq": {},
        "stance": {
            "dev_rw": lim(stance_examples(DATA / "newsmtsc" / "dev_rw.jsonl", enc)),
            "dev_mt": lim(stance_examples(DATA / "newsmtsc" / "dev_mt.jsonl", enc)),
        },
    }
    n_soft = sum(len(x[2]) for x in soft)
    print(f"distill: {len(soft)} teacher sentences ({n_soft} targets), {len(gold)} NewsMTSC sentences; "
          f"prepared in {time.time() - t0:.0f}s", flush=True)

    config, model = load_student(args.student)
    for n, p in model.named_parameters():
        p.requires_grad_(n.startswith(("branch.", "stance.")))
    groups = {"enc": [], "enc_nd": [], "head": []}
    for n, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if n.startswith("stance."):
            groups["head"].append(p)
        elif n.endswith("bias") or "LayerNorm" in n:
            groups["enc_nd"].append(p)
        else:
            groups["enc"].append(p)
    opt = torch.optim.AdamW([
        {"params": groups["enc"], "weight_decay": 0.01, "lr": args.lr},
        {"params": groups["enc_nd"], "weight_decay": 0.0, "lr": args.lr},
        {"params": groups["head"], "weight_decay": 0.01, "lr": args.head_lr},
    ])
    per_epoch = math.ceil(len(soft) / args.batch) + args.gold_repeat * math.ceil(len(gold) / args.batch)
    total = per_epoch * args.epochs
    warm = max(1, int(0.1 * total))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: s / warm if s < warm else max(0.0, (total - s) / max(1, total - warm)))

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log = {"args": vars(args), "seed": SEED, "torch": torch.__version__, "steps_per_epoch": per_epoch,
           "teacher_sentences": len(soft), "teacher_targets": n_soft, "evals": []}
    base = evaluate(model, dev)
    base["step"] = 0
    log["evals"].append(base)
    print(f"step 0 dev {json.dumps(base)}", flush=True)
    T = args.temperature
    step = 0
    for epoch in range(args.epochs):
        def blocks(data):
            return length_batches([len(x[0]) for x in data], args.batch, rng, shuffle=False)

        plan = [("soft", b) for b in blocks(soft)] + [("gold", b) for _ in range(args.gold_repeat) for b in blocks(gold)]
        rng.shuffle(plan)
        model.train()
        model.bert.eval()  # the frozen trunk: no dropout on the states the branch reads
        for j, (kind, ids) in enumerate(plan):
            data = soft if kind == "soft" else gold
            x = pad([data[i][0] for i in ids], 0)
            tt = pad([data[i][1] for i in ids], 0)
            hid = model.encode_stance(x, tt)
            rows = [r for r, i in enumerate(ids) for _ in data[i][2]]
            pos = [p for i in ids for p, _ in data[i][2]]
            logits = model.stance_logits(hid, rows, pos)
            if kind == "soft":
                q = torch.tensor([y for i in ids for _, y in data[i][2]])
                q = F.softmax(torch.log(q.clamp_min(1e-8)) / T, -1)
                loss = F.kl_div(F.log_softmax(logits / T, -1), q, reduction="batchmean") * T * T
            else:
                loss = F.cross_entropy(logits, torch.tensor([y for i in ids for _, y in data[i][2]]))
            loss.backward()
            torch.nn.utils.clip_grad_norm_([p for g in groups.values() for p in g], 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
            step += 1
            if step % 100 == 0:
                print(f"epoch {epoch} step {step}/{total} {kind} loss {loss.item():.4f} {time.time() - t0:.0f}s", flush=True)
            if j + 1 == len(plan) // 2 or j + 1 == len(plan):
                scores = evaluate(model, dev)
                scores["step"] = step
                scores["elapsed_s"] = round(time.time() - t0, 1)
                log["evals"].append(scores)
                print(f"step {step} dev {json.dumps(scores)}", flush=True)
                save_checkpoint(model, tok, config, out / f"step-{step}", log)
                model.train()
                model.bert.eval()
    log["total_seconds"] = round(time.time() - t0, 1)
    (out / "train_log.json").write_text(json.dumps(log, indent=1))
    print(f"distill done in {log['total_seconds']}s", flush=True)


if __name__ == "__main__":
    sys.exit(main())
