"""Rebuilds standard Hugging Face checkpoint folders from the compact models/<name>/ form.

    python models/recipe/assemble.py MODELS_DIR BACKBONE_DIR OUT_DIR

For every MODELS_DIR/<name>/weights.safetensors: the fp16 tensors are widened to fp32, a
matrix stored as a change (`NAME.delta8` and `NAME.delta8_scale`, see export.py) is the
backbone's plus `delta8 * scale` per row, the word-embedding matrix is taken from the backbone
(its safetensors has no `bert.` prefix), and
OUT_DIR/<name>/ receives config.json, tokenizer.json and model.safetensors. Needs only numpy and
safetensors.
"""

import shutil
import sys
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file, save_file

WORD_EMB = "bert.embeddings.word_embeddings.weight"


def main(models, backbone, out):
    models, backbone, out = Path(models), Path(backbone), Path(out)
    base = load_file(str(backbone / "model.safetensors"))
    done = 0
    for d in sorted(p for p in models.iterdir() if (p / "weights.safetensors").is_file()):
        stored = load_file(str(d / "weights.safetensors"))
        t = {}
        for k, v in stored.items():
            if k.endswith(".delta8"):
                name = k[: -len(".delta8")]
                scale = stored[name + ".delta8_scale"].astype(np.float32)
                # the backbone's matrix (its names have no `bert.` prefix) plus the stored change
                t[name] = base[name[len("bert."):]].astype(np.float32) + v.astype(np.float32) * scale[:, None]
            elif not k.endswith(".delta8_scale"):
                t[k] = v.astype(np.float32)
        t[WORD_EMB] = base["embeddings.word_embeddings.weight"].astype(np.float32)
        dst = out / d.name
        tmp = out / (d.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        save_file(t, str(tmp / "model.safetensors"), metadata={"format": "pt"})
        for f in ("config.json", "tokenizer.json"):
            shutil.copy(d / f, tmp / f)
        shutil.rmtree(dst, ignore_errors=True)
        tmp.rename(dst)
        done += 1
    print(f"assembled {done} model(s) into {out}", file=sys.stderr)


if __name__ == "__main__":
    main(*sys.argv[1:4])
