#!/usr/bin/env python3
"""Checks the DOM that headless Chromium made of a newsmill report (`--dump-dom`).

usage: check_dom.py ANNOTATED.jsonl DOM.html [--hostile]

- the only script element is the report's own; no element has an event-handler attribute; no
  link leaves the page (every href is "#..."); no img/iframe/object/embed/form element; the
  hostile fixture's payloads did not run (no data-pwned on <body>, title not PWNED);
- every article section's text is the article's text (control characters shown as [U+XXXX]);
- its entity marks are the record's entities: label, character offsets, and the text that the
  offsets select.
"""
import json
import sys
from html.parser import HTMLParser

HIDDEN = set(range(0, 9)) | {11, 12} | set(range(14, 32)) | set(range(0x7F, 0xA0)) | {
    0x61C, 0x200E, 0x200F, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069}
VOID = {"meta", "input", "br", "img", "link", "hr", "wbr", "source", "area", "base", "col", "embed", "param", "track"}


def shown(text):
    return "".join(f"[U+{ord(c):04X}]" if ord(c) in HIDDEN else c for c in text)


class Dom(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems = []
        self.scripts = 0
        self.title = ""
        self.body_attrs = {}
        self.stack = []
        self.articles = []  # {"id": a{n}, "text": str, "marks": [..]}
        self.in_text = 0  # depth inside div.text
        self.mark = None
        self.in_title = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for k, v in attrs:
            if k.lower().startswith("on"):
                self.problems.append(f"<{tag}> has an event handler attribute {k}={v!r}")
            if k.lower() == "href" and not (v or "").startswith("#"):
                self.problems.append(f"<{tag}> links out: href={v!r}")
            if k.lower() in ("src", "action", "formaction", "xlink:href"):
                self.problems.append(f"<{tag}> has {k}={v!r}")
        if tag in ("img", "iframe", "object", "embed", "form", "base", "link", "frame"):
            self.problems.append(f"<{tag}> element in the report")
        if tag == "script":
            self.scripts += 1
        if tag == "title":
            self.in_title = True
        if tag == "body":
            self.body_attrs = a
        if tag == "article":
            self.articles.append({"id": a.get("id"), "text": "", "marks": []})
        if tag == "div" and "text" in (a.get("class") or "").split() and self.articles:
            self.in_text = 1
        elif self.in_text and tag not in VOID:
            self.in_text += 1
        if tag == "mark" and self.in_text and self.articles:
            self.mark = {"class": a.get("class", ""), "label": a.get("data-label"),
                         "start": int(a.get("data-start", -1)), "end": int(a.get("data-end", -1)), "text": ""}
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag == "title":
            self.in_title = False
        if tag == "mark" and self.mark is not None:
            self.articles[-1]["marks"].append(self.mark)
            self.mark = None
        if self.in_text and tag not in VOID:
            self.in_text -= 1
        if self.stack and self.stack[-1] == tag:
            self.stack.pop()

    def handle_data(self, data):
        if self.in_title:
            self.title += data
        if self.in_text and self.articles:
            self.articles[-1]["text"] += data
            if self.mark is not None:
                self.mark["text"] += data


def main():
    jsonl, dom_path = sys.argv[1], sys.argv[2]
    hostile = "--hostile" in sys.argv[3:]
    records = []
    for line in open(jsonl, encoding="utf-8", errors="replace"):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
        except ValueError:
            continue
        if isinstance(r, dict) and "error" not in r and "sentences" in r:
            records.append(r)
    dom = Dom()
    dom.feed(open(dom_path, encoding="utf-8").read())
    dom.close()
    p = dom.problems
    if dom.scripts != 1:
        p.append(f"{dom.scripts} script elements (want 1: the report's own)")
    if "data-pwned" in dom.body_attrs:
        p.append(f"a payload ran: body data-pwned={dom.body_attrs['data-pwned']!r}")
    if "PWNED" in dom.title:
        p.append("a payload ran: the title was changed")
    if not dom.articles:
        p.append("no article sections")
    marks = 0
    for sec in dom.articles:
        n = int(sec["id"][1:])
        r = records[n]
        text = r.get("text") or ""
        if sec["text"] != shown(text):
            p.append(f"article {n} ({r['id']!r}): the text shown differs from the record's text")
        chars = len(text)
        want = []
        taken = [False] * chars
        for e in r["entities"]:
            if 0 <= e["start"] < e["end"] <= chars and not any(taken[e["start"]:e["end"]]):
                taken[e["start"]:e["end"]] = [True] * (e["end"] - e["start"])
                want.append((e["label"], e["start"], e["end"], shown(text[e["start"]:e["end"]])))
                if text[e["start"]:e["end"]] != e["text"]:
                    p.append(f"article {n}: entity {e['text']!r} does not match its offsets")
        got = [(m["label"], m["start"], m["end"], m["text"]) for m in sec["marks"] if "entity" in m["class"].split()]
        marks += len(got)
        if [(shown(l), s, e, t) for l, s, e, t in want] != got:
            p.append(f"article {n} ({r['id']!r}): marks differ\n  want {want}\n  got  {got}")
    if hostile and marks == 0:
        p.append("the hostile fixture rendered no marks")
    if p:
        print(f"{dom_path}: FAILED", file=sys.stderr)
        for x in p:
            print("  " + x, file=sys.stderr)
        sys.exit(1)
    print(f"{dom_path}: ok ({len(dom.articles)} article sections, {marks} entity marks checked)")


if __name__ == "__main__":
    main()
