"""newsmill for Python: entities, sentence tone and entity stance of news articles.

    import newsmill
    with newsmill.Pipeline(precision="int8") as nlp:
        for record in nlp.annotate(["Putin met Kim in Moscow."]):
            print(record["entities"])

The engine is the `newsmill` binary shipped in this package, run as a child process
(`newsmill serve`): libtorch is never loaded into the Python process, so a `torch` imported in
the same interpreter (any version) cannot clash with it. Records are the JSONL records of
`newsmill annotate` (docs/output.md), as dicts.
"""

from ._engine import NewsmillError, binary, default_models
from ._pipeline import Pipeline
from ._tables import Tables, read_jsonl

try:
    from importlib.metadata import version as _version

    __version__ = _version("newsmill")
except Exception:  # not installed as a distribution (a source checkout)
    __version__ = "0+unknown"

__all__ = [
    "NewsmillError",
    "Pipeline",
    "Tables",
    "__version__",
    "binary",
    "default_models",
    "read_jsonl",
]
