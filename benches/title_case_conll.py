"""Writes the Title Case copy of a CoNLL-2003 file: the "Title Case CoNLL" dev set that
joint.py scores (`title_case_conll` in models/recipe/joint.py: every word capitalised except
small words after a sentence's first; capitals inside words kept). Only the first column (the
word) changes; the other columns, blank lines and -DOCSTART- lines are kept, so
`newsmill eval ner OUT` reads it like the original.

    python3 benches/title_case_conll.py ../shared/data/conll2003/eng.testa /tmp/tc.testa
    target/release/newsmill eval ner /tmp/tc.testa

The output is research-only data (CoNLL-2003): never commit it. Needs the recipe's Python
environment (models/recipe/requirements.txt: joint.py imports torch).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "models" / "recipe"))
from joint import title_case_conll  # noqa: E402


def main(src, dst):
    words = iter(w for ws, _ in title_case_conll(src) for w in ws)
    with open(src, encoding="utf-8") as f, open(dst, "w", encoding="utf-8") as out:
        for line in f:
            parts = line.split()
            if parts and not line.strip().startswith("-DOCSTART-"):  # a word line, as read_conll reads it
                line = " ".join([next(words)] + parts[1:]) + "\n"
            out.write(line)
    assert next(words, None) is None, "the words of title_case_conll and the file's word lines differ"


if __name__ == "__main__":
    main(*sys.argv[1:3])
