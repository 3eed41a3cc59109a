"""The flat tables of `newsmill export` as pandas DataFrames (columns: docs/tables.md)."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Iterable
from typing import Any, NamedTuple

from ._engine import NewsmillError, binary, environ

TABLES = ("articles", "sentences", "entities", "actors")


class Tables(NamedTuple):
    """The four flat tables of annotated records (docs/tables.md), as pandas DataFrames:
    `articles` (one row per record, error records included), `sentences`, `entities` (one
    row per mention) and `actors`. Joins: `(article_id, sentence)`, `(article_id, actor)`."""

    articles: Any
    sentences: Any
    entities: Any
    actors: Any


def _read_parquet(path: str) -> Any:
    try:
        import pandas as pd
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(
            "DataFrames need pandas and pyarrow: pip install 'newsmill[pandas]'"
        ) from e
    if int(pd.__version__.split(".")[0]) >= 2:
        # Arrow-backed columns keep the tables' types: nullable Int64, Float32, strings
        return pd.read_parquet(path, dtype_backend="pyarrow")
    return pd.read_parquet(path)


def read_jsonl(path: str | os.PathLike[str]) -> Tables:
    """The flat tables of an annotated JSONL file (the output of `newsmill annotate`), as
    `newsmill export --table T --format parquet` writes them, read into pandas DataFrames
    (Arrow-backed with pandas 2). Needs the `pandas` extra (`newsmill[pandas]`)."""
    frames: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="newsmill-tables-") as tmp:
        for table in TABLES:
            out = os.path.join(tmp, f"{table}.parquet")
            argv = [binary(), "export", os.fspath(path), "--table", table]
            argv += ["--format", "parquet", "-o", out, "--quiet"]
            done = subprocess.run(argv, env=environ(), capture_output=True, text=True)
            if done.returncode != 0:
                raise NewsmillError(
                    done.stderr.strip() or f"newsmill export exited with {done.returncode}"
                )
            frames[table] = _read_parquet(out)
    return Tables(**frames)


def tables_of_records(records: Iterable[dict[str, Any]]) -> Tables:
    """The flat tables of annotated records (dicts, as `Pipeline.annotate` yields them)."""
    with tempfile.TemporaryDirectory(prefix="newsmill-records-") as tmp:
        path = os.path.join(tmp, "annotated.jsonl")
        with open(path, "w", encoding="utf-8") as f:
            for r in records:
                f.write(json.dumps(r, ensure_ascii=False))
                f.write("\n")
        return read_jsonl(path)
