"""Rebuilds standard Hugging Face checkpoint folders from the compact models/<name>/ form.

    python models/recipe/assemble.py MODELS_DIR BACKBONE_DIR OUT_DIR

For every MODELS_DIR/<name>/weights.safetensors: the fp16 tensors are widened to fp32, a
matrix stored as a change (`NAME.delta8` and `NAME.delta8_scale`, see export.py) is the same
matrix of the base folder its metadata names (rebuilt first) plus `delta8 * scale` per row, the
word-embedding matrix is taken from the backbone (its safetensors has no `bert.` prefix), and
OUT_DIR/<name>/ receives config.json, tokenizer.json and model.safetensors. Needs only numpy and
safetensors.
"""

import hashlib
import shutil
import sys
from pathlib import Path

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file, save_file

WORD_EMB = "bert.embeddings.word_embeddings.weight"


def metadata(d):
    with safe_open(str(d / "weights.safetensors"), "np") as f:
        return f.metadata() or {}


def rebuild(d, meta, built, word_emb):
    """fp32 tensors of models folder `d` (its weights' metadata `meta`); `built`: the folders
    rebuilt so far, by name."""
    path = d / "weights.safetensors"
    stored = load_file(str(path))
    base = None
    if "delta8_base" in meta:
        name = meta["delta8_base"]
        base_path = d.parent / name / "weights.safetensors"
        if name not in built:
            sys.exit(f"{path}: its delta8 base `{name}` is not a folder beside it")
        if hashlib.sha256(base_path.read_bytes()).hexdigest() != meta.get("delta8_base_sha256"):
            sys.exit(f"{path}: {base_path} has changed since this was exported; re-export it (export.py --delta8)")
        base = built[name]
    t = {}
    for k, v in stored.items():
        if k.endswith(".delta8"):
            if base is None:
                sys.exit(f"{path}: {k} without a delta8_base in the metadata")
            name = k[: -len(".delta8")]
            scale = stored[name + ".delta8_scale"].astype(np.float32)
            t[name] = base[name] + v.astype(np.float32) * scale[:, None]
        elif not k.endswith(".delta8_scale"):
            t[k] = v.astype(np.float32)
    t[WORD_EMB] = word_emb
    return t


def main(models, backbone, out):
    models, backbone, out = Path(models), Path(backbone), Path(out)
    word_emb = load_file(str(backbone / "model.safetensors"))["embeddings.word_embeddings.weight"].astype(np.float32)
    metas = {p: metadata(p) for p in sorted(models.iterdir()) if (p / "weights.safetensors").is_file()}
    built = {}
    # folders stored whole first: they are the bases of the others
    for d in sorted(metas, key=lambda d: "delta8_base" in metas[d]):
        t = rebuild(d, metas[d], built, word_emb)
        built[d.name] = t
        dst = out / d.name
        tmp = out / (d.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        save_file(t, str(tmp / "model.safetensors"), metadata={"format": "pt"})
        for f in ("config.json", "tokenizer.json"):
            shutil.copy(d / f, tmp / f)
        shutil.rmtree(dst, ignore_errors=True)
        tmp.rename(dst)
    print(f"assembled {len(built)} model(s) into {out}", file=sys.stderr)


if __name__ == "__main__":
    main(*sys.argv[1:4])
