"""Where the engine binary and the default models are, and the environment it runs in."""

from __future__ import annotations

import os
from pathlib import Path


class NewsmillError(RuntimeError):
    """The engine could not start or stopped: a model folder problem, a bad argument (the
    message is the command line's own), or the engine process ended unexpectedly."""


def binary() -> str:
    """The path of the `newsmill` binary of this package (`newsmill/bin/newsmill`);
    `NEWSMILL_BINARY` overrides it (a development build)."""
    override = os.environ.get("NEWSMILL_BINARY")
    if override:
        return override
    path = Path(__file__).resolve().parent / "bin" / "newsmill"
    if not path.is_file():
        raise NewsmillError(
            f"the newsmill binary is missing ({path}): install the newsmill wheel "
            "(scripts/wheel.sh; README, 'Python')"
        )
    return str(path)


def default_models() -> str | None:
    """The default models folder: `$NEWSMILL_MODELS` when set, else the `newsmill_models`
    package's folder (joint/), else None."""
    env = os.environ.get("NEWSMILL_MODELS")
    if env:
        return env
    try:
        import newsmill_models  # type: ignore[import-not-found]
    except ImportError:
        return None
    return str(newsmill_models.MODELS)


def environ() -> dict[str, str]:
    """The engine's environment: this process's, with `NEWSMILL_MODELS` naming the default
    models when the user has not set it."""
    env = dict(os.environ)
    if not env.get("NEWSMILL_MODELS"):
        models = default_models()
        if models:
            env["NEWSMILL_MODELS"] = models
    return env
