"""Evaluates the page-role classifier (`sentences[i].role`: title | body | boilerplate).

Builds a test corpus from a news corpus (default: the BBC corpus in ../shared/data) by
inserting page-furniture lines (benches/boilerplate_lines.txt: navigation, share and comment
prompts, newsletter/paywall/cookie notices, ads, related links, bylines, photo credits,
timestamps, copyright, app prompts, tags, media prompts) around and into every article, runs
`newsmill annotate` on it and on the unmodified corpus, and scores the roles against the known
spans. Prints one JSON summary to stdout (and to --json PATH); examples of real body sentences
wrongly flagged as boilerplate go to stderr only (the source corpus is research-only data: never
commit its text, nor the generated corpus or outputs, which live in --workdir).

    python3 benches/boilerplate_eval.py [--json summary.json] [--workdir /tmp/newsmill-bp-eval]
    python3 benches/boilerplate_eval.py --probe      # exit 0 when the binary emits roles
    python3 benches/boilerplate_eval.py --self-test  # checks the corpus builder and the scoring

The corpus (seeded, deterministic): the source text is `TITLE\\n\\nPARA\\n\\nPARA...`. Each
article gets 1-4 furniture units at the top (before the title line), 0-2 in the middle (one run
between two body paragraphs; none when the article has a single body paragraph) and 1-4 at the
bottom. A unit is one furniture line; a `nav` unit becomes, one time in three, a menu of 3-6 nav
lines. Within a run, consecutive lines are separated by a single newline (p = 0.4; menus always)
or by a blank line; a run is separated from the article by a blank line. The `title` field is
kept in half the records (seeded) and dropped in the other half, and the summary scores the two
halves separately.

Gold labels: a sentence is `title` when its span lies within the article's first line,
`boilerplate` when it lies within an inserted run of furniture lines, `body` when it overlaps
neither; a sentence straddling a run and the article ("mixed") is counted and left out of
precision and recall. Line level: an inserted line is found when every sentence overlapping it
is labelled boilerplate.
"""

import argparse
import collections
import hashlib
import json
import os
import random
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
POSITIONS = ("top", "middle", "bottom")
ROLES = ("title", "body", "boilerplate")


# ---------------------------------------------------------------------------------------------
# furniture lines and the corpus


def load_lines(path):
    """[(category, line)] from the lines file."""
    out, cat = [], None
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            m = re.fullmatch(r"\[([a-z_]+)\]", line.strip())
            if m:
                cat = m.group(1)
                continue
            if cat is None:
                raise SystemExit(f"{path}: line before the first [category]: {line!r}")
            out.append((cat, line))
    return out


def pick_units(rng, lines, nav, k):
    """k furniture units; a unit is a list of (category, line) joined by single newlines."""
    units, used = [], set()
    while len(units) < k:
        cat, line = rng.choice(lines)
        if line in used:
            continue
        if cat == "nav" and rng.random() < 1 / 3:
            menu = rng.sample(nav, rng.randint(3, 6))
            if any(m in used for m in menu):
                continue
            used.update(menu)
            units.append([("nav", m) for m in menu])
        else:
            used.add(line)
            units.append([(cat, line)])
    return units


def make_run(rng, units):
    """[(category, line)] and the separators between consecutive lines."""
    items, seps = [], []
    for u in units:
        if items:
            seps.append("\n" if rng.random() < 0.4 else "\n\n")
        for j, it in enumerate(u):
            if j:
                seps.append("\n")
            items.append(it)
    return items, seps


def build_article(rng, rec, lines, nav):
    """The modified record and its gold spans."""
    paras = rec["text"].split("\n\n")
    title, body = paras[0], paras[1:]
    runs = {"top": make_run(rng, pick_units(rng, lines, nav, rng.randint(1, 4)))}
    n_mid = rng.randint(0, 2) if len(body) >= 2 else 0
    gap = rng.randint(1, len(body) - 1) if n_mid else None  # mid run goes before body[gap]
    if n_mid:
        runs["middle"] = make_run(rng, pick_units(rng, lines, nav, n_mid))
    runs["bottom"] = make_run(rng, pick_units(rng, lines, nav, rng.randint(1, 4)))
    keep_title = rng.random() < 0.5

    text, inserted, regions = "", [], []

    def add_para(s):
        nonlocal text
        if text:
            text += "\n\n"
        start = len(text)
        text += s
        return start

    def add_run(pos):
        nonlocal text
        items, seps = runs[pos]
        if text:
            text += "\n\n"
        rstart = len(text)
        for j, (cat, line) in enumerate(items):
            if j:
                text += seps[j - 1]
            inserted.append({"pos": pos, "cat": cat, "line": line,
                             "start": len(text), "end": len(text) + len(line)})
            text += line
        regions.append({"pos": pos, "start": rstart, "end": len(text)})

    add_run("top")
    t0 = add_para(title)
    title_span = [t0, t0 + len(title)]
    for i, p in enumerate(body):
        if n_mid and i == gap:
            add_run("middle")
        add_para(p)
    add_run("bottom")

    out = {"id": rec["id"], "text": text}
    if keep_title and "title" in rec:
        out["title"] = rec["title"]
    gold = {"id": rec["id"], "title_span": title_span, "title_field": "title" in out,
            "inserted": inserted, "regions": regions}
    return out, gold


def build_corpus(records, lines, seed):
    rng = random.Random(seed)
    nav = [l for c, l in lines if c == "nav"]
    corpus, golds = [], []
    for rec in records:
        r, g = build_article(rng, rec, lines, nav)
        corpus.append(r)
        golds.append(g)
    return corpus, golds


def original_gold(rec):
    title = rec["text"].split("\n\n")[0]
    return {"id": rec["id"], "title_span": [0, len(title)], "title_field": "title" in rec,
            "inserted": [], "regions": []}


# ---------------------------------------------------------------------------------------------
# scoring


def _span(x):
    return (x["start"], x["end"]) if isinstance(x, dict) else x


def within(s, e, span):
    a, b = _span(span)
    return a <= s and e <= b


def overlaps(s, e, span):
    a, b = _span(span)
    return s < b and e > a


def gold_role(s, e, g):
    if within(s, e, g["title_span"]):
        return "title"
    for r in g["regions"]:
        if within(s, e, r):
            return "boilerplate"
    if overlaps(s, e, g["title_span"]) or any(overlaps(s, e, r) for r in g["regions"]):
        return "mixed"
    return "body"


def prf(tp, fp, fn):
    p = tp / (tp + fp) if tp + fp else None
    r = tp / (tp + fn) if tp + fn else None
    f = 2 * p * r / (p + r) if p and r else (0.0 if p is not None and r is not None else None)
    return {"tp": tp, "fp": fp, "fn": fn, "precision": rnd(p), "recall": rnd(r), "f1": rnd(f)}


def rnd(x, k=4):
    return None if x is None else round(x, k)


def ratio(a, b):
    return {"n": b, "hits": a, "rate": rnd(a / b) if b else None}


def score(outputs, golds, texts, want_examples=20):
    """Scores output records against gold spans. Returns (summary, details); details holds
    the per-line misses and the wrongly flagged body sentences (not for committed files)."""
    if len(outputs) != len(golds):
        raise SystemExit(f"{len(outputs)} output records for {len(golds)} inputs")
    conf = collections.defaultdict(collections.Counter)  # gold -> pred -> sentences
    conf_by_field = {True: collections.defaultdict(collections.Counter),
                     False: collections.defaultdict(collections.Counter)}
    pos_sent = collections.defaultdict(lambda: [0, 0])  # pos -> [bp-labelled, total]
    cat_sent = collections.defaultdict(lambda: [0, 0])
    pos_line = collections.defaultdict(lambda: [0, 0])
    cat_line = collections.defaultdict(lambda: [0, 0])
    per_line = collections.defaultdict(lambda: [0, 0])  # (cat, line) -> [missed, total]
    missed_pred = collections.defaultdict(collections.Counter)  # (cat, line) -> pred roles
    title_articles = {True: [0, 0], False: [0, 0]}  # title line fully labelled title
    flagged, unsegmented, errors, no_role = [], 0, 0, 0
    for out, g, text in zip(outputs, golds, texts):
        if out.get("id") != g["id"]:
            raise SystemExit(f"record order differs: output {out.get('id')!r}, input {g['id']!r}")
        if "error" in out:
            errors += 1
            continue
        if "text" in out and out["text"] != text:
            raise SystemExit(f"{g['id']}: output text differs from the input text")
        sents = out["sentences"]
        roles = []
        for s in sents:
            if "role" not in s:
                no_role += 1
            roles.append(s.get("role"))
        spans = [(s["start"], s["end"]) for s in sents]
        tf = g["title_field"]
        title_ok = None
        for (s, e), pred in zip(spans, roles):
            gr = gold_role(s, e, g)
            conf[gr][pred] += 1
            conf_by_field[tf][gr][pred] += 1
            if gr == "title":
                title_ok = (title_ok is not False) and pred == "title"
            if gr == "boilerplate":
                line = next((L for L in g["inserted"] if L["start"] <= s < L["end"]), None) \
                    or next(L for L in g["inserted"] if overlaps(s, e, L))
                hit = pred == "boilerplate"
                pos_sent[line["pos"]][0] += hit
                pos_sent[line["pos"]][1] += 1
                cat_sent[line["cat"]][0] += hit
                cat_sent[line["cat"]][1] += 1
            if gr == "body" and pred == "boilerplate" and len(flagged) < want_examples:
                flagged.append((g["id"], text[s:e]))
        title_articles[tf][0] += bool(title_ok)
        title_articles[tf][1] += 1
        for L in g["inserted"]:
            preds = [p for (s, e), p in zip(spans, roles) if overlaps(s, e, L)]
            if not preds:
                unsegmented += 1
                continue
            found = all(p == "boilerplate" for p in preds)
            key = (L["cat"], L["line"])
            for d, k in ((pos_line, L["pos"]), (cat_line, L["cat"]), (per_line, key)):
                d[k][0] += (not found) if d is per_line else found
                d[k][1] += 1
            if not found:
                missed_pred[key].update(p for p in preds if p != "boilerplate")

    def bp_prf(c):
        tp = c["boilerplate"]["boilerplate"]
        fp = sum(c[g]["boilerplate"] for g in ("title", "body"))
        fn = sum(n for p, n in c["boilerplate"].items() if p != "boilerplate")
        return prf(tp, fp, fn)

    def title_stats(c, arts):
        tl = sum(c["title"].values())
        other = {g: sum(c[g].values()) for g in ("body", "boilerplate")}
        return {
            "title_sentences_labelled_title": ratio(c["title"]["title"], tl),
            "articles_title_fully_labelled_title": ratio(arts[0], arts[1]),
            "body_sentences_labelled_title": ratio(c["body"]["title"], other["body"]),
            "boilerplate_sentences_labelled_title": ratio(c["boilerplate"]["title"],
                                                          other["boilerplate"]),
        }

    merged_arts = [title_articles[True][0] + title_articles[False][0],
                   title_articles[True][1] + title_articles[False][1]]
    body_total = sum(conf["body"].values())
    summary = {
        "records": len(outputs),
        "error_records": errors,
        "sentences": sum(sum(c.values()) for c in conf.values()),
        "sentences_without_role": no_role,
        "confusion_gold_to_pred": {g: dict(conf[g]) for g in ("title", "body", "boilerplate", "mixed")
                                   if conf[g]},
        "mixed_sentences": sum(conf["mixed"].values()),
        "body_sentences_labelled_boilerplate": ratio(conf["body"]["boilerplate"], body_total),
        "title": dict(title_stats(conf, merged_arts), by_title_field={
            ("kept" if tf else "dropped"): title_stats(conf_by_field[tf], title_articles[tf])
            for tf in (True, False) if title_articles[tf][1]}),
    }
    if any(g["inserted"] for g in golds):
        summary["boilerplate_sentence"] = bp_prf(conf)
        summary["boilerplate_sentence_by_title_field"] = {
            ("kept" if tf else "dropped"): bp_prf(conf_by_field[tf])
            for tf in (True, False) if title_articles[tf][1]}
        nl = [sum(v[0] for v in pos_line.values()), sum(v[1] for v in pos_line.values())]
        summary["boilerplate_line"] = {"lines": nl[1], "found": nl[0],
                                       "recall": rnd(nl[0] / nl[1]) if nl[1] else None,
                                       "lines_without_sentences": unsegmented}
        summary["recall_by_position"] = {
            p: {"sentence": ratio(*pos_sent[p]), "line": ratio(*pos_line[p])}
            for p in POSITIONS if pos_line[p][1]}
        summary["recall_by_category"] = {
            c: {"sentence": ratio(*cat_sent[c]), "line": ratio(*cat_line[c])}
            for c in sorted(cat_line)}
        missed = collections.defaultdict(list)
        for (c, line), (m, n) in sorted(per_line.items()):
            if m:
                missed[c].append({"line": line, "missed": m, "of": n,
                                  "labelled": dict(missed_pred[(c, line)])})
        for c in missed:
            missed[c].sort(key=lambda d: (-d["missed"] / d["of"], d["line"]))
        summary["missed_lines"] = dict(missed)
        summary["lines_never_missed"] = sum(1 for m, n in per_line.values() if not m)
        summary["lines_always_missed"] = sum(1 for m, n in per_line.values() if m == n)
    return summary, {"flagged_body": flagged}


# ---------------------------------------------------------------------------------------------
# running newsmill


def annotate(binary, inp, out, workers, extra):
    cmd = (f'cd {sh(REPO)} && eval "$(scripts/setup.sh)" >/dev/null 2>&1; '
           f'exec {sh(binary)} annotate {sh(inp)} -o {sh(out)} --tasks sentiment -q '
           f'--workers {int(workers)} {extra}')
    subprocess.run(["bash", "-c", cmd], check=True)


def sh(s):
    return "'" + str(s).replace("'", "'\\''") + "'"


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(l) for l in f if l.strip()]


def write_jsonl(path, recs):
    with open(path, "w", encoding="utf-8") as f:
        for r in recs:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def probe(binary, workdir):
    """True when the binary labels sentences with a role."""
    os.makedirs(workdir, exist_ok=True)
    inp, out = os.path.join(workdir, "probe.jsonl"), os.path.join(workdir, "probe.out.jsonl")
    write_jsonl(inp, [{"id": "probe", "text": "Skip to content\nHome | World\n\nCouncil approves "
                       "a new bridge\n\nThe council approved a bridge on Tuesday. Work starts "
                       "in May.\n\nShare this article"}])
    if os.path.exists(out):
        os.remove(out)
    annotate(binary, inp, out, 1, "")
    sents = read_jsonl(out)[0].get("sentences", [])
    return bool(sents) and all("role" in s for s in sents)


# ---------------------------------------------------------------------------------------------
# self-test: a made-up corpus and fake outputs with known answers


def fake_output(rec, gold, mislabel):
    """Splits lines at '. ' and labels sentences by gold, then applies mislabel(text, role)."""
    text, sents = rec["text"], []
    for m in re.finditer(r"[^\n]+", text):
        pos = m.start()
        for piece in re.split(r"(?<=\.) ", m.group()):
            if piece.strip():
                s = text.index(piece, pos)
                sents.append({"start": s, "end": s + len(piece)})
                pos = s + len(piece)
    for s in sents:
        gr = gold_role(s["start"], s["end"], gold)
        s["role"] = mislabel(text[s["start"]:s["end"]], gr)
    return {"id": rec["id"], "text": text, "sentences": sents}


def self_test(lines):
    recs = [{"id": f"a{i}", "title": f"Made-up headline number {i}",
             "text": f"Made-up headline number {i}\n\nFirst paragraph of story {i}. It has two "
                     f"sentences.\n\nSecond paragraph here.\n\nThird paragraph closes it."}
            for i in range(40)]
    # the first seed from 7 up whose corpus holds an "Advertisement" line (check 2 needs one;
    # 7 for benches/boilerplate_lines.txt)
    seed = next(k for k in range(7, 1007)
                if any(L["line"] == "Advertisement"
                       for g in build_corpus(recs, lines, k)[1] for L in g["inserted"]))
    corpus, golds = build_corpus(recs, lines, seed=seed)
    again, _ = build_corpus(recs, lines, seed=seed)
    assert corpus == again, "corpus not deterministic"
    nav = set(l for c, l in lines if c == "nav")
    for r, g, src in zip(corpus, golds, recs):
        t = r["text"]
        assert t[slice(*g["title_span"])] == src["title"]
        for L in g["inserted"]:
            assert t[L["start"]:L["end"]] == L["line"]
        # removing the runs gives the source text back
        rest, prev = "", 0
        for reg in g["regions"]:
            rest += t[prev:reg["start"]]
            prev = reg["end"]
        rest += t[prev:]
        assert re.sub(r"\n{3,}", "\n\n", rest).strip("\n") == src["text"], r["id"]
        counts = collections.Counter(L["pos"] for L in g["inserted"])
        assert counts["top"] >= 1 and counts["bottom"] >= 1
    assert {g["title_field"] for g in golds} == {True, False}
    assert any("\n" + L["line"] in r["text"] for r, g in zip(corpus, golds)
               for L in g["inserted"] if L["line"] in nav)
    # 1. perfect output
    outs = [fake_output(r, g, lambda s, gr: gr) for r, g in zip(corpus, golds)]
    s, d = score(outs, golds, [r["text"] for r in corpus])
    assert s["boilerplate_sentence"]["f1"] == 1.0 and s["boilerplate_line"]["recall"] == 1.0, s
    assert s["title"]["title_sentences_labelled_title"]["rate"] == 1.0
    assert s["body_sentences_labelled_boilerplate"]["hits"] == 0 and not s["missed_lines"]
    assert s["mixed_sentences"] == 0 and s["sentences_without_role"] == 0
    n_bp = s["boilerplate_sentence"]["tp"]
    # 2. known errors: "Advertisement" lines missed, "Second paragraph here." flagged, titles as body
    def bad(text, gr):
        if text == "Advertisement":
            return "body"
        if text == "Second paragraph here.":
            return "boilerplate"
        if gr == "title":
            return "body"
        return gr
    outs = [fake_output(r, g, bad) for r, g in zip(corpus, golds)]
    s, d = score(outs, golds, [r["text"] for r in corpus])
    n_ad = sum(1 for g in golds for L in g["inserted"] if L["line"] == "Advertisement")
    assert n_ad > 0, "seed gives no Advertisement line; pick another"
    b = s["boilerplate_sentence"]
    assert (b["tp"], b["fn"], b["fp"]) == (n_bp - n_ad, n_ad, 40), b
    assert s["missed_lines"]["ad"][0] == {"line": "Advertisement", "missed": n_ad, "of": n_ad,
                                          "labelled": {"body": n_ad}}
    assert s["body_sentences_labelled_boilerplate"]["hits"] == 40
    assert s["title"]["title_sentences_labelled_title"]["rate"] == 0.0
    assert len(d["flagged_body"]) == 20 and d["flagged_body"][0][1] == "Second paragraph here."
    # 3. a sentence straddling a run and the title is "mixed", not scored
    g = {"id": "x", "title_span": [10, 20], "title_field": False,
         "inserted": [{"pos": "top", "cat": "nav", "line": "Home menu", "start": 0, "end": 9}],
         "regions": [{"pos": "top", "start": 0, "end": 9}]}
    out = {"id": "x", "sentences": [{"start": 0, "end": 20, "role": "boilerplate"}]}
    s, _ = score([out], [g], ["Home menu\nHeadline 1"])
    assert s["mixed_sentences"] == 1 and s["boilerplate_sentence"]["fp"] == 0
    assert s["boilerplate_line"]["found"] == 1
    # 4. the original-corpus gold
    g = original_gold(recs[0])
    out = fake_output(recs[0], g, lambda t, gr: gr)
    s, _ = score([out], [g], [recs[0]["text"]])
    assert s["confusion_gold_to_pred"] == {"title": {"title": 1}, "body": {"body": 4}}, s
    print("self-test ok", file=sys.stderr)


# ---------------------------------------------------------------------------------------------


DEFAULT_LINES = os.path.join(HERE, "boilerplate_lines.txt")
DEFAULT_WORKDIR = "/tmp/newsmill-boilerplate-eval"


def default_workdir(lines_path):
    """DEFAULT_WORKDIR for the default lines file, else DEFAULT_WORKDIR-<file name stem>."""
    if os.path.abspath(lines_path) == os.path.abspath(DEFAULT_LINES):
        return DEFAULT_WORKDIR
    stem = os.path.splitext(os.path.basename(lines_path))[0]
    return DEFAULT_WORKDIR + "-" + (re.sub(r"[^A-Za-z0-9._-]+", "_", stem) or "lines")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", default=os.path.join(REPO, "..", "shared", "data", "bbc",
                                                     "articles.jsonl"))
    ap.add_argument("--lines", default=DEFAULT_LINES,
                    help="furniture lines file ([category] headers, one line each; default "
                         "benches/boilerplate_lines.txt)")
    ap.add_argument("--binary", default=os.path.join(REPO, "target", "release", "newsmill"))
    ap.add_argument("--workdir",
                    help="generated corpus and outputs (outside the repository; default "
                         f"{DEFAULT_WORKDIR}, or {DEFAULT_WORKDIR}-NAME for another --lines "
                         "file NAME.txt, so runs with different lines files keep apart)")
    ap.add_argument("--seed", type=int, default=20240618)
    ap.add_argument("--limit", type=int, default=0, help="first N source articles (0: all)")
    ap.add_argument("--workers", type=int, default=1, help="newsmill --workers")
    ap.add_argument("--annotate-args", default="", help="more newsmill annotate flags")
    ap.add_argument("--skip-run", action="store_true", help="score the outputs in --workdir")
    ap.add_argument("--examples", type=int, default=20,
                    help="wrongly flagged body sentences printed to stderr")
    ap.add_argument("--json", help="also write the summary here")
    ap.add_argument("--probe", action="store_true",
                    help="exit 0 when the binary emits sentence roles, 1 when not")
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()
    if args.workdir is None:
        args.workdir = default_workdir(args.lines)

    lines = load_lines(args.lines)
    if args.self_test:
        self_test(lines)
        return
    if args.probe:
        ok = probe(args.binary, args.workdir)
        print("roles" if ok else "no roles")
        sys.exit(0 if ok else 1)

    records = read_jsonl(args.source)
    if args.limit:
        records = records[:args.limit]
    corpus, golds = build_corpus(records, lines, args.seed)
    os.makedirs(args.workdir, exist_ok=True)
    paths = {k: os.path.join(args.workdir, f"{k}.jsonl")
             for k in ("original", "original.out", "modified", "modified.out")}
    if not args.skip_run:
        write_jsonl(paths["original"], records)
        write_jsonl(paths["modified"], corpus)
        for k in ("modified", "original"):
            print(f"annotating {paths[k]}", file=sys.stderr)
            annotate(args.binary, paths[k], paths[k + ".out"], args.workers, args.annotate_args)

    mod, mod_d = score(read_jsonl(paths["modified.out"]), golds, [r["text"] for r in corpus],
                       args.examples)
    orig, orig_d = score(read_jsonl(paths["original.out"]), [original_gold(r) for r in records],
                         [r["text"] for r in records], args.examples)
    with open(args.lines, "rb") as f:
        lines_sha = hashlib.sha256(f.read()).hexdigest()[:16]
    inserted = [L for g in golds for L in g["inserted"]]
    summary = {
        "corpus": {
            "source": os.path.basename(args.source), "articles": len(records), "seed": args.seed,
            "furniture_lines_file": os.path.relpath(args.lines, REPO), "lines_sha256": lines_sha,
            "furniture_lines_available": len(lines),
            "categories": dict(collections.Counter(c for c, _ in lines)),
            "inserted_lines": len(inserted),
            "inserted_by_position": dict(collections.Counter(L["pos"] for L in inserted)),
            "title_field_kept": sum(g["title_field"] for g in golds),
            "annotate": f"--tasks sentiment -q --workers {args.workers} {args.annotate_args}".strip(),
        },
        "modified": mod,
        "original": orig,
        "goal_original_body_flagged_below_1pct": (
            orig["body_sentences_labelled_boilerplate"]["rate"] is not None
            and orig["body_sentences_labelled_boilerplate"]["rate"] < 0.01),
    }
    for name, part in (("original", orig), ("modified", mod)):
        if part["sentences_without_role"]:
            print(f"warning: {part['sentences_without_role']} of {part['sentences']} {name} "
                  "sentences have no `role` (scored as null): is the binary too old?",
                  file=sys.stderr)
    for name, d in (("original", orig_d), ("modified", mod_d)):
        if d["flagged_body"]:
            print(f"--- {name}: body sentences labelled boilerplate (first {args.examples})",
                  file=sys.stderr)
            for rid, sent in d["flagged_body"]:
                print(f"  {rid}: {sent[:160]!r}", file=sys.stderr)
    text = json.dumps(summary, indent=1, ensure_ascii=False)
    print(text)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
