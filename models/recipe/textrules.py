"""The text rules the recipe shares with newsmill (crates/newsmill-text: words.rs, case.rs,
sentences.rs' white space): word splitting, case shapes, the title rule. Both sides are checked
against the same fixture, tests/data/text_rules.json (check_text_rules.py here; the Rust test
crates/newsmill-text/tests/fixtures.rs), so they cannot drift apart. Standard library only."""

import unicodedata

OPENERS = set("\"'([{“‘«<")
CLOSERS = set("\"')]}”’»>,;:!?…")
ABBR = {
    "Mr", "Mrs", "Ms", "Dr", "Prof", "Sen", "Rep", "Gov", "Gen", "Col", "Lt", "Sgt", "Capt",
    "St", "Jr", "Sr", "Inc", "Corp", "Ltd", "Co", "No", "vs", "Jan", "Feb", "Aug", "Sept",
    "Oct", "Nov", "Dec",
}


def is_cjk(c):
    o = ord(c)
    return (
        0x3040 <= o <= 0x30FF or 0x3400 <= o <= 0x4DBF or 0x4E00 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF
        or 0xAC00 <= o <= 0xD7AF or 0x20000 <= o <= 0x2FA1F or 0x3000 <= o <= 0x303F or 0xFF00 <= o <= 0xFFEF
    )


def is_abbreviation(word):
    if not word or word.endswith("."):
        return False
    if len(word) == 1 and word.isalpha():
        return True
    if "." in word and all(len(p) <= 2 for p in word.split(".")):
        return True
    return word in ABBR


def is_space(c):
    """newsmill-text's `is_space`: white space and the zero-width space (U+200B)."""
    return c.isspace() or c == "\u200b"


def is_format(c):
    """newsmill-text's `is_format`: a Unicode format character (Cf) other than U+200B."""
    return c != "\u200b" and unicodedata.category(c) == "Cf"


def trim_format(text, start, end):
    while start < end and is_format(text[start]):
        start += 1
    while end > start and is_format(text[end - 1]):
        end -= 1
    return start, end


def split_token(text, start, end, out):
    start, end = trim_format(text, start, end)
    while start < end:
        start, end = trim_format(text, start, end)
        if start >= end:
            break
        c = text[start]
        if c in OPENERS and end - start > 1:
            out.append((start, start + 1))
            start += 1
        else:
            break
    tail = []
    while True:
        start, end = trim_format(text, start, end)
        word = text[start:end]
        if len(word) <= 1:
            break
        c = word[-1]
        if c in CLOSERS or (c == "." and not is_abbreviation(word[:-1])):
            tail.append((end - 1, end))
            end -= 1
            continue
        low = word.lower()
        suf = next((s for s in ("'s", "’s", "n't", "n’t") if low.endswith(s) and len(low) > len(s)), None)
        if suf:
            tail.append((end - len(suf), end))
            end -= len(suf)
            continue
        break
    if start < end:
        out.append((start, end))
    out.extend(reversed(tail))


def split_words(text):
    """Character spans of the words of `text` (newsmill's CoNLL-style splitting)."""
    out, st = [], None
    for i, c in enumerate(text + " "):
        if is_space(c):
            if st is not None:
                split_token(text, st, i, out)
                st = None
        elif is_cjk(c):
            if st is not None:
                split_token(text, st, i, out)
                st = None
            out.append((i, i + 1))
        elif st is None:
            st = i
    return out


SMALL_WORDS = {
    "a", "an", "the", "and", "or", "but", "nor", "of", "in", "on", "at", "to", "for", "by", "from",
    "with", "as", "vs", "via", "into", "over", "per",
}


def title_styled(words):
    """A line styled as a title: at least three words with letters that are not small words,
    all of them starting with a capital (or all capitals). Must match newsmill-text."""
    content = [w for w in words if any(c.isalpha() for c in w) and w.lower() not in SMALL_WORDS]
    if len(content) < 3:
        return False
    return all(case_class(w) in (1, 2) for w in content)



def case_class(word):
    letters = [c for c in word if c.isalpha()]
    if not any(c.isupper() for c in letters):
        return 0
    if len(letters) >= 2 and all(c.isupper() for c in letters):
        return 2
    if letters[0].isupper():
        return 1
    return 3
