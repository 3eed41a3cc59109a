"""Writes the general-news tone dev set that joint.py scores ("general news F1m"; derived by
`general_news_dev` in models/recipe/joint.py): the emobank-news rows of newstone dev.tsv, then the
NewsMTSC dev_rw and dev_mt sentences whose targets all share one polarity (536 sentences).

    python3 benches/general_news.py OUT.tsv

OUT.tsv: header `label<TAB>sentence`, labels negative/neutral/positive (newstone's format).
OUT.sources.tsv, line for line: header `source<TAB>detail`, source emobank-news (detail from
dev.sources.tsv), newsmtsc-dev_rw or newsmtsc-dev_mt (detail `line=N` of the .jsonl). A tab,
CR or newline inside a sentence (some NewsMTSC "sentences" span lines) is written as a space:
newsmill and joint.py split words at any whitespace, so the words stay the same. The
sentences are research-only data from ../shared/data: never commit the output. Needs the
recipe's Python environment (models/recipe/requirements.txt: joint.py imports torch).
"""

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "models" / "recipe"))
from joint import TONE_LABELS, general_news_dev  # noqa: E402


def main(out):
    rows = general_news_dev()
    out = Path(out)
    with open(out, "w", encoding="utf-8") as f, open(out.with_suffix(".sources.tsv"), "w", encoding="utf-8") as g:
        f.write("label\tsentence\n")
        g.write("source\tdetail\n")
        for s, y, source, detail in rows:
            s = re.sub(r"[\t\r\n]", " ", s)
            f.write(f"{TONE_LABELS[y]}\t{s}\n")
            g.write(f"{source}\t{detail}\n")
    print(f"wrote {len(rows)} rows to {out} and {out.with_suffix('.sources.tsv')}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1])
