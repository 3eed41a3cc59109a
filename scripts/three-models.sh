#!/usr/bin/env bash
# Prints the folder holding the three single-task checkpoints that shipped until commit 780ef89
# (ner/, sentiment/, stance/: standard Hugging Face folders), assembled from git history the
# first time (scripts/models-at.sh). Use them with --models FOLDER (three-model mode) or pick
# one, e.g. the pair stance model beside the default NER and tone:
#   newsmill annotate corpus.jsonl --stance-model "$(scripts/three-models.sh)/stance"
# (models/README.md, "Stance: pooled head or pair model").
exec "$(dirname "$0")/models-at.sh" 780ef89 ner sentiment stance
