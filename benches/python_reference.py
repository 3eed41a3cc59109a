"""The Python reference for `newsmill bench`: the same checkpoints through Hugging Face
`transformers` pipelines on the same corpus, on the same machine.

    python benches/python_reference.py CORPUS.jsonl MODELS_DIR [--limit 500] [--tasks ner,sentiment,stance]
                                       [--threads 2] [--json OUT] [--device cuda:0] [--dtype bf16]
                                       [--hf-ner]

- sentences: split on line breaks, then after . ! ? before an upper-case letter, digit or quote;
- NER: token-classification pipeline, aggregation_strategy="first" (newsmill's aggregation),
  over sentences;
- sentence sentiment: text-classification pipeline over the same sentences;
- entity stance: text-classification over (sentence, mention) text pairs.
With a joint checkpoint (MODELS_DIR/joint/, newsmill's default) the reference is the recipe's
Python class (`models/recipe/newsmill_joint.py`): one encoder pass per batch of sentences
answers all tasks, as in newsmill; with a stance-only checkpoint beside it (MODELS_DIR/stance/,
the default) the stance comes from that, in a second pass over the sentences with entities. `--three` uses MODELS_DIR/ner, sentiment, stance through the
pipelines below instead.
`--hf-ner` (NER only) runs the joint checkpoint's encoder and token head through the
token-classification pipeline instead (exported to a standard BertForTokenClassification folder
in a temporary directory; case shapes as below): the Hugging Face pipeline on the same weights.
`--device` (cpu, cuda:0, ...) and `--dtype` (fp32, bf16, fp16) place the models; on a GPU the
batch sizes tried go up to 512.
The batch size is the best of 1, 8, 32, 64 on the first 20 articles (calibration, untimed).
When the NER model's config says it reads word case shapes as token types
(`newsmill.case_feature = "token_type_v1"`, the default model), the token-classification
pipeline's preprocessing adds them (words split on white space with possessive 's / n't
split off, an approximation of newsmill's CoNLL-style words), so the reference finds about the
entities newsmill finds and scores as many stance pairs; `--no-case` leaves them out.
"""

import argparse
import json
import re
from pathlib import Path
import resource
import sys
import time

import torch
from transformers import AutoConfig, TokenClassificationPipeline, pipeline

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "models" / "recipe"))
from train import case_class  # noqa: E402  (the feature the NER model was trained with)

SPLIT = re.compile(r"(?<=[.!?\"'”’)])\s+(?=[A-Z0-9\"“‘(])")


def sentences(text):
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line:
            out += [s for s in SPLIT.split(line) if s.strip()]
    return out


WORD = re.compile(r"\S+")
CLITIC = re.compile(r"(?i)(n['’]t|['’]s)$")


def word_classes(text):
    """(start, end, class) of the words of text."""
    out = []
    for m in WORD.finditer(text):
        start, end = m.span()
        c = CLITIC.search(m.group())
        if c and c.start() > 0:
            out.append((start, start + c.start(), case_class(m.group()[: c.start()])))
            out.append((start + c.start(), end, case_class(c.group())))
        else:
            out.append((start, end, case_class(m.group())))
    return out


class CaseShapeNER(TokenClassificationPipeline):
    """The token-classification pipeline with the case shape of each token's word as its token
    type id, as newsmill feeds the default NER model."""

    def preprocess(self, sentence, offset_mapping=None, **params):
        words = word_classes(sentence)
        for inputs in super().preprocess(sentence, offset_mapping=offset_mapping, **params):
            types = torch.zeros_like(inputs["input_ids"])
            offsets = inputs["offset_mapping"][0].tolist()
            special = inputs["special_tokens_mask"][0].tolist()
            w = 0
            for i, ((s, e), sp) in enumerate(zip(offsets, special)):
                if sp or e <= s:
                    continue
                while w < len(words) and words[w][1] <= s:
                    w += 1
                if w < len(words) and words[w][0] <= s:
                    types[0, i] = words[w][2]
            inputs["token_type_ids"] = types
            yield inputs


def run(articles, pipes, tasks, bs):
    counts = {"sentences": 0, "entities": 0, "pairs": 0}
    sents = [s for a in articles for s in sentences(a["text"])]
    counts["sentences"] = len(sents)
    if "joint" in pipes:
        for i in range(0, len(sents), bs):
            for r in pipes["joint"].annotate(sents[i : i + bs], stance_model=pipes.get("joint_stance")):
                counts["entities"] += len(r["entities"])
        if "stance" in tasks:
            counts["pairs"] = counts["entities"]
        return counts
    ents = []
    if "ner" in tasks or "stance" in tasks:
        for s, found in zip(sents, pipes["ner"](sents, batch_size=bs)):
            for e in found:
                ents.append((s, s[e["start"] : e["end"]]))
        counts["entities"] = len(ents)
    if "sentiment" in tasks and "joint" not in pipes:
        pipes["sentiment"](sents, batch_size=bs)
    if "stance" in tasks:
        pairs = [{"text": s, "text_pair": m} for s, m in ents]
        counts["pairs"] = len(pairs)
        pipes["stance"](pairs, batch_size=bs)
    return counts


def export_hf_ner(joint, out):
    """The joint checkpoint's encoder and `ner` head as a BertForTokenClassification folder."""
    import shutil
    from safetensors.torch import load_file, save_file

    raw = json.loads((joint / "config.json").read_text())
    head = raw["newsmill"]["heads"]["ner"]
    t = load_file(str(joint / "model.safetensors"))
    state = {k: v.float().contiguous() for k, v in t.items() if k.startswith("bert.") and "pooler" not in k}
    state["classifier.weight"] = t[f"{head['prefix']}.weight"].float().contiguous()
    state["classifier.bias"] = t[f"{head['prefix']}.bias"].float().contiguous()
    cfg = {k: v for k, v in raw.items() if k != "newsmill"}
    cfg["architectures"] = ["BertForTokenClassification"]
    cfg["id2label"] = {str(i): l for i, l in enumerate(head["labels"])}
    cfg["label2id"] = {l: i for i, l in enumerate(head["labels"])}
    cfg["newsmill"] = {"case_feature": "token_type_v1"}
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(cfg))
    shutil.copy(joint / "tokenizer.json", out / "tokenizer.json")
    save_file(state, str(out / "model.safetensors"), metadata={"format": "pt"})
    return out


def hf_pipeline(task, model_dir, device, dtype, **kw):
    """A transformers pipeline over model objects placed on `device` in `dtype` (objects, so
    that the same call works across transformers versions)."""
    from transformers import AutoModelForSequenceClassification, AutoModelForTokenClassification, AutoTokenizer

    cls = AutoModelForTokenClassification if task == "token-classification" else AutoModelForSequenceClassification
    model = cls.from_pretrained(model_dir).to(device=device, dtype=dtype).eval()
    tok = AutoTokenizer.from_pretrained(model_dir)
    return pipeline(task, model=model, tokenizer=tok, device=device, **kw)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus")
    ap.add_argument("models")
    ap.add_argument("--limit", type=int, default=500)
    ap.add_argument("--warmup", type=int, default=16)
    ap.add_argument("--tasks", default="ner,sentiment,stance")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json")
    ap.add_argument("--no-case", action="store_true", help="never add case-shape token types")
    ap.add_argument("--three", action="store_true", help="the three single-task checkpoints, not MODELS_DIR/joint")
    ap.add_argument("--hf-ner", action="store_true", help="NER through the token-classification pipeline on the joint checkpoint's weights")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--dtype", default="fp32", choices=["fp32", "bf16", "fp16"])
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[args.dtype]
    tasks = set(args.tasks.split(","))
    with open(args.corpus, encoding="utf-8") as f:
        arts = [json.loads(l) for _, l in zip(range(args.warmup + args.limit), f)]
    warm, timed = arts[: args.warmup], arts[args.warmup :]
    t0 = time.time()
    pipes = {}
    case_shapes = False
    joint = Path(args.models) / "joint"
    if not args.three and not args.hf_ner and joint.is_dir():
        from newsmill_joint import NewsmillJoint

        pipes["joint"] = NewsmillJoint.from_pretrained(joint).to(device=device, dtype=dtype)
        stance_dir = Path(args.models) / "stance"
        if "stance" in tasks and (stance_dir / "config.json").is_file() and "newsmill" in json.loads(
            (stance_dir / "config.json").read_text()
        ):
            # newsmill's default: the stance from the stance-only checkpoint beside the joint one
            pipes["joint_stance"] = NewsmillJoint.from_pretrained(stance_dir).to(device=device, dtype=dtype)
        case_shapes = True
    elif "ner" in tasks or "stance" in tasks:
        if args.hf_ner:
            import tempfile

            ner_dir = str(export_hf_ner(joint, Path(tempfile.mkdtemp()) / "ner"))
        else:
            ner_dir = f"{args.models}/ner"
        cased = (getattr(AutoConfig.from_pretrained(ner_dir), "newsmill", None) or {}).get("case_feature") == "token_type_v1"
        case_shapes = cased and not args.no_case
        pipes["ner"] = hf_pipeline(
            "token-classification", ner_dir, device, dtype, aggregation_strategy="first",
            pipeline_class=CaseShapeNER if case_shapes else TokenClassificationPipeline,
        )
    if "sentiment" in tasks and "joint" not in pipes:
        pipes["sentiment"] = hf_pipeline("text-classification", f"{args.models}/sentiment", device, dtype)
    if "stance" in tasks and "joint" not in pipes:
        pipes["stance"] = hf_pipeline("text-classification", f"{args.models}/stance", device, dtype)
    load = time.time() - t0
    best, best_t = 1, float("inf")
    sizes = (1, 8, 32, 64) if device.type == "cpu" else (8, 32, 64, 128, 256, 512)
    for bs in sizes:
        t = time.time()
        run(warm[:20], pipes, tasks, bs)
        t = time.time() - t
        if t < best_t:
            best, best_t = bs, t
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    sync()
    t = time.time()
    counts = run(timed, pipes, tasks, best)
    sync()
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
        "ner_case_shapes": case_shapes,
        "reference": ("joint + stance-only" if "joint_stance" in pipes else "joint") if "joint" in pipes else ("hf ner pipeline on the joint weights" if args.hf_ner else "three pipelines"),
        "device": str(device),
        "dtype": args.dtype,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "torch": torch.__version__,
        "transformers": __import__("transformers").__version__,
        "gpu": torch.cuda.get_device_name(device) if device.type == "cuda" else None,
    }
    text = json.dumps(report, indent=1)
    print(text)
    if args.json:
        open(args.json, "w").write(text)


if __name__ == "__main__":
    main()
