"""Checks textrules.py against tests/data/text_rules.json, the fixture the Rust side
(crates/newsmill-text/tests/fixtures.rs) is checked against too. `--write` rewrites the
expected values from textrules.py (then the Rust test must agree). Standard library only;
run by scripts/test.sh."""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from textrules import case_class, split_words, title_styled  # noqa: E402

FIXTURE = Path(__file__).resolve().parents[2] / "tests" / "data" / "text_rules.json"


def expected(case):
    if "text" in case:
        return [case["text"][a:b] for a, b in split_words(case["text"])]
    if "word" in case:
        return case_class(case["word"])
    return title_styled(case["line"])


def main():
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    if "--write" in sys.argv:
        for group, key in (("words", "words"), ("case_class", "class"), ("title_styled", "title")):
            for case in data[group]:
                case[key] = expected(case)
        FIXTURE.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    bad = []
    for group, key in (("words", "words"), ("case_class", "class"), ("title_styled", "title")):
        for case in data[group]:
            if expected(case) != case[key]:
                bad.append((group, case, expected(case)))
    for b in bad:
        print("text_rules: differs:", b, file=sys.stderr)
    n = sum(len(data[g]) for g in ("words", "case_class", "title_styled"))
    print(f"text_rules: {n - len(bad)} passed, {len(bad)} failed")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
