"""Puts a stance-only checkpoint's upper layers into a joint checkpoint trained on its trunk, as
the stance head's own encoder layers: one checkpoint, one shared pass through the lower layers.

    python models/recipe/branch.py --joint JOINT_DIR --stance STANCE_DIR --from-layer K --out DIR

STANCE_DIR: a stance-only checkpoint (joint.py --heads stance). JOINT_DIR: a joint checkpoint
trained with `joint.py --trunk STANCE_DIR --freeze-layers K`, so that its embeddings and first K
layers are the stance checkpoint's, unchanged (checked here, tensor by tensor; refused if not).
DIR gets JOINT_DIR's tensors and heads, and the stance head of STANCE_DIR reading its own copy of
layers K..L-1 (`stance.encoder.layer.N.*`, config.json: the head's `encoder` field, see
models/README.md). newsmill then computes the trunk once per sentence, the joint layers above it
for every sentence, and the stance layers above it only for sentences with a span to score.
Both checkpoints' train logs are kept (train_log.json: the joint's, train_log.stance.json).
"""

import argparse
import json
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file


def layer_of(name):
    """The encoder layer number of a `bert.encoder.layer.N.*` tensor, else None."""
    parts = name.split(".")
    if name.startswith("bert.encoder.layer.") and parts[3].isdigit():
        return int(parts[3])
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--joint", required=True)
    ap.add_argument("--stance", required=True)
    ap.add_argument("--from-layer", type=int, required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    jd, sd, k = Path(args.joint), Path(args.stance), args.from_layer
    jt, st = load_file(str(jd / "model.safetensors")), load_file(str(sd / "model.safetensors"))
    jc, sc = json.loads((jd / "config.json").read_text()), json.loads((sd / "config.json").read_text())
    if not 0 < k < jc["num_hidden_layers"]:
        sys.exit(f"--from-layer: between 1 and {jc['num_hidden_layers'] - 1}")
    if "stance" not in sc["newsmill"]["heads"] or "stance" in jc["newsmill"]["heads"]:
        sys.exit("--stance needs a `stance` head, --joint must not have one")
    trunk = [n for n in st if n.startswith("bert.embeddings.") or (layer_of(n) is not None and layer_of(n) < k)]
    differ = [n for n in trunk if n not in jt or not torch.equal(jt[n], st[n])]
    if differ:
        sys.exit(f"{jd}: its trunk is not {sd}'s (first differing tensors: {differ[:3]}); "
                 f"train it with joint.py --trunk {sd} --freeze-layers {k}")
    out = dict(jt)
    for n, v in st.items():
        if layer_of(n) is not None and layer_of(n) >= k:
            out["stance.encoder." + n[len("bert.encoder."):]] = v
        elif n.startswith("stance.classifier."):
            out[n] = v
    head = dict(sc["newsmill"]["heads"]["stance"], prefix="stance.classifier",
                encoder={"prefix": "stance.encoder", "from_layer": k})
    jc["newsmill"]["heads"]["stance"] = head
    dst = Path(args.out)
    dst.mkdir(parents=True, exist_ok=True)
    save_file({n: v.contiguous() for n, v in sorted(out.items())}, str(dst / "model.safetensors"), metadata={"format": "pt"})
    (dst / "config.json").write_text(json.dumps(jc, indent=1, sort_keys=True))
    (dst / "tokenizer.json").write_bytes((jd / "tokenizer.json").read_bytes())
    for src, name in ((jd, "train_log.json"), (sd, "train_log.stance.json")):
        if (src / "train_log.json").is_file():
            (dst / name).write_bytes((src / "train_log.json").read_bytes())
    print(f"{dst}: {len(out)} tensors; stance reads layers {k}..{jc['num_hidden_layers'] - 1} of its own")


if __name__ == "__main__":
    sys.exit(main())
