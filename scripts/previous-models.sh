#!/usr/bin/env bash
# Prints the folder holding the default models that shipped until 2026-12-03 (commit a69d194):
# the joint checkpoint (joint/: NER and tone) and the stance-only checkpoint beside it
# (stance/), assembled from git history the first time (scripts/models-at.sh). They answer as
# before with --models FOLDER (models/README.md, "Default models before the stance branch").
exec "$(dirname "$0")/models-at.sh" a69d194 joint stance
