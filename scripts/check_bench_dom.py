#!/usr/bin/env python3
"""Checks the DOM that headless Chromium made of a `newsmill bench --html` page (`--dump-dom`)
against the report's JSON (`--json`).

usage: check_bench_dom.py REPORT.json DOM.html

- no script element, no element with an event-handler attribute, nothing that loads or links
  out (no href/src/action attribute, no img/iframe/object/embed/link/base/form element, no
  http(s) URL in an attribute or style);
- the charts: one accuracy chart per dev file (task, file, metric; the union over the rows) or,
  when no row has a score, one speed chart; and one throughput chart;
- every chart point (a <circle> with data-row): its data-x / data-y are the JSON's values for
  that row (accuracy chart: articles_per_second.median and the score; throughput chart:
  batch_tokens and articles_per_second.median; speed chart: articles_per_second.median and the
  row index), and its cx / cy are where the <svg>'s data-* mapping (linear or log2 x; y linear
  upwards, or "rows" downwards) puts those values, within 0.5 px; each chart shows every row
  it should, once;
- on each accuracy chart, the points with class "pareto" are the Pareto front computed here
  from the JSON (rows that no other row matches or beats on both speed and score, and beats on
  one);
- the table has a row (tr[data-row]) per JSON row whose config, precision and batch cells are
  the row's (control and bidirectional-override characters shown as [U+XXXX], as the page
  shows them).
"""
import json
import math
import sys
from html.parser import HTMLParser

HIDDEN = set(range(0, 9)) | {11, 12} | set(range(14, 32)) | set(range(0x7F, 0xA0)) | {
    0x61C, 0x200E, 0x200F, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069}
VOID = {"meta", "input", "br", "img", "link", "hr", "wbr", "source", "area", "base", "col", "embed",
        "param", "track"}
LOADING = {"img", "iframe", "object", "embed", "link", "base", "form", "frame", "audio", "video",
           "source", "image", "use", "foreignobject", "a"}


def visible(text):
    """As the page shows an input string: line breaks and tabs as spaces, hidden characters
    as [U+XXXX]."""
    out = []
    for c in text:
        if c in "\n\r\t":
            out.append(" ")
        elif ord(c) in HIDDEN:
            out.append(f"[U+{ord(c):04X}]")
        else:
            out.append(c)
    return "".join(out)


class Dom(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems = []
        self.scripts = 0
        self.charts = []  # {"attrs": {...}, "points": [{...}]}
        self.in_chart = 0  # depth inside a chart's <svg>
        self.rows = {}  # data-row -> [cell texts]
        self.row = None  # the table row being read
        self.cell = None  # the cell text being read
        self.in_style = False

    def handle_starttag(self, tag, attrs):
        a = {k.lower(): (v or "") for k, v in attrs}
        for k, v in a.items():
            if k.startswith("on"):
                self.problems.append(f"<{tag}> has an event handler attribute {k}={v!r}")
            if k in ("href", "src", "action", "formaction", "xlink:href", "srcset", "poster"):
                self.problems.append(f"<{tag}> has {k}={v!r}")
            # text attributes (tooltips, labels, the data-* of the charts) may hold any text
            text = k in ("title", "aria-label", "content") or k.startswith("data-")
            if not text and any(u in v.lower() for u in ("http:", "https:", "url(", "//")):
                self.problems.append(f"<{tag}> has an external reference: {k}={v!r}")
        if tag == "script":
            self.scripts += 1
        self.in_style = tag == "style"
        if tag in LOADING:
            self.problems.append(f"<{tag}> element in the page")
        if tag == "svg" and "data-chart" in a:
            self.charts.append({"attrs": a, "points": []})
            self.in_chart = 1
        elif self.in_chart and tag not in VOID:
            self.in_chart += 1
        if tag == "circle" and self.in_chart and "data-row" in a:
            self.charts[-1]["points"].append(a)
        if tag == "tr" and "data-row" in a:
            self.row = []
            self.rows[a["data-row"]] = self.row
        if tag == "td" and self.row is not None:
            self.cell = ""

    def handle_endtag(self, tag):
        if self.in_chart and tag not in VOID:
            self.in_chart -= 1
        if tag == "td" and self.row is not None and self.cell is not None:
            self.row.append(self.cell)
            self.cell = None
        if tag == "tr":
            self.row = None

    def handle_data(self, data):
        if self.in_style and any(u in data.lower() for u in ("url(", "@import", "http:", "https:")):
            self.problems.append("the style sheet loads something")
        if self.cell is not None:
            self.cell += data


def num(a, k, problems, where):
    try:
        x = float(a[k])
    except (KeyError, ValueError):
        problems.append(f"{where}: {k}={a.get(k)!r} is not a number")
        return None
    if not math.isfinite(x):
        problems.append(f"{where}: {k}={a[k]!r} is not finite")
        return None
    return x


def same(a, b):
    """The page writes the shortest text that reads back to the same double; the JSON reader
    of the writer may have been a last bit off."""
    return a == b or abs(a - b) <= 1e-12 * max(abs(a), abs(b))


def position(svg, x, y, problems, where):
    """Where the chart's mapping puts (x, y), in the SVG's user space."""
    g = {k: num(svg, "data-" + k, problems, where)
         for k in ("x-min", "x-max", "y-min", "y-max", "left", "right", "top", "bottom")}
    if None in g.values():
        return None
    if svg.get("data-x-scale") == "log2":
        if x <= 0 or g["x-min"] <= 0:
            problems.append(f"{where}: log2 scale with a value <= 0")
            return None
        fx = (math.log2(x) - math.log2(g["x-min"])) / (math.log2(g["x-max"]) - math.log2(g["x-min"]))
    elif svg.get("data-x-scale") == "linear":
        fx = (x - g["x-min"]) / (g["x-max"] - g["x-min"])
    else:
        problems.append(f"{where}: data-x-scale={svg.get('data-x-scale')!r}")
        return None
    fy = (y - g["y-min"]) / (g["y-max"] - g["y-min"])
    px = g["left"] + fx * (g["right"] - g["left"])
    if svg.get("data-y-scale") == "rows":
        py = g["top"] + fy * (g["bottom"] - g["top"])
    else:
        py = g["bottom"] - fy * (g["bottom"] - g["top"])
    return px, py


def pareto(points):
    """{row: (speed, score)} -> the rows no other row dominates."""
    front = set()
    for i, (x, y) in points.items():
        if not any(qx >= x and qy >= y and (qx > x or qy > y) for j, (qx, qy) in points.items() if j != i):
            front.add(i)
    return front


def score(row, task, file, metric):
    for a in row.get("accuracy", []):
        if a["task"] == task and a["file"] == file and a["metric"] == metric:
            return a["value"]
    return None


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    report_path, dom_path = sys.argv[1], sys.argv[2]
    report = json.load(open(report_path, encoding="utf-8"))
    rows = report["rows"]
    dom = Dom()
    dom.feed(open(dom_path, encoding="utf-8").read())
    dom.close()
    p = dom.problems
    if dom.scripts:
        p.append(f"{dom.scripts} script elements (want none)")

    keys = []
    for r in rows:
        for a in r.get("accuracy", []):
            k = (a["task"], a["file"], a["metric"])
            if k not in keys:
                keys.append(k)
    kinds = [c["attrs"].get("data-chart") for c in dom.charts]
    want_kinds = (["accuracy"] * len(keys) if keys else ["speed"]) + ["throughput"]
    if kinds != want_kinds:
        p.append(f"charts {kinds}, want {want_kinds}")

    points_checked = 0
    fronts = 0
    for n, c in enumerate(dom.charts):
        svg = c["attrs"]
        kind = svg.get("data-chart")
        key = None
        if kind == "accuracy":
            key = (svg.get("data-task"), svg.get("data-file"), svg.get("data-metric"))
            match = [k for k in keys if tuple(visible(x) for x in k) == key]
            if not match:
                p.append(f"chart {n}: accuracy chart of {key!r}, which no row has")
                continue
            key = match[0]
        where = f"chart {n} ({kind}{'' if key is None else ' ' + repr(key)})"
        want_rows = {}
        for i, r in enumerate(rows):
            speed = r["articles_per_second"]["median"]
            if kind == "accuracy":
                s = score(r, *key)
                if s is not None:
                    want_rows[i] = (speed, s)
            elif kind == "throughput":
                want_rows[i] = (r["batch_tokens"], speed)
            elif kind == "speed":
                want_rows[i] = (speed, i)
        seen = set()
        pareto_rows = set()
        for pt in c["points"]:
            try:
                i = int(pt["data-row"])
            except ValueError:
                p.append(f"{where}: data-row={pt['data-row']!r}")
                continue
            if i in seen:
                p.append(f"{where}: row {i} drawn twice")
            seen.add(i)
            if i not in want_rows:
                p.append(f"{where}: a point for row {i}, which this chart should not show")
                continue
            wx, wy = want_rows[i]
            x = num(pt, "data-x", p, f"{where} row {i}")
            y = num(pt, "data-y", p, f"{where} row {i}")
            if x is None or y is None:
                continue
            if not (same(x, wx) and same(y, wy)):
                p.append(f"{where} row {i}: plots ({x}, {y}), the JSON has ({wx}, {wy})")
            at = position(svg, wx, wy, p, where)
            cx = num(pt, "cx", p, f"{where} row {i}")
            cy = num(pt, "cy", p, f"{where} row {i}")
            if at is not None and cx is not None and cy is not None:
                if abs(cx - at[0]) > 0.5 or abs(cy - at[1]) > 0.5:
                    p.append(f"{where} row {i}: drawn at ({cx}, {cy}), the mapping puts it at "
                             f"({at[0]:.2f}, {at[1]:.2f})")
            points_checked += 1
            if "pareto" in pt.get("class", "").split():
                pareto_rows.add(i)
        missing = set(want_rows) - seen
        if missing:
            p.append(f"{where}: rows {sorted(missing)} not drawn")
        if kind == "accuracy":
            front = pareto(want_rows)
            fronts += 1
            if pareto_rows != front:
                p.append(f"{where}: Pareto points {sorted(pareto_rows)}, want {sorted(front)}")
        elif pareto_rows:
            p.append(f"{where}: Pareto points on a chart without scores")

    for i, r in enumerate(rows):
        cells = dom.rows.get(str(i))
        if cells is None:
            p.append(f"table: no row {i}")
            continue
        want = [visible(r["config"]), visible(r["precision"]), str(r["batch_tokens"])]
        if cells[:3] != want:
            p.append(f"table row {i}: {cells[:3]!r}, want {want!r}")
    if len(dom.rows) != len(rows):
        p.append(f"table: {len(dom.rows)} rows, the JSON has {len(rows)}")

    if p:
        print(f"{dom_path}: FAILED", file=sys.stderr)
        for x in p:
            print("  " + x, file=sys.stderr)
        sys.exit(1)
    print(f"{dom_path}: ok ({len(rows)} rows in the table, {len(dom.charts)} charts, "
          f"{points_checked} points at their values, {fronts} Pareto fronts checked)")


if __name__ == "__main__":
    main()
