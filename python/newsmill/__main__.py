"""The `newsmill` command of the Python package: runs the shipped binary (every command of the
CLI), with the default models of `newsmill_models` unless `--models` or `NEWSMILL_MODELS` says
otherwise."""

from __future__ import annotations

import os
import sys

from ._engine import NewsmillError, binary, environ


def main() -> None:
    try:
        exe = binary()
    except NewsmillError as e:
        sys.exit(f"newsmill: error: {e}")
    os.execve(exe, ["newsmill", *sys.argv[1:]], environ())


if __name__ == "__main__":
    main()
