"""Checks of scripts/spark-test.sh on the Spark job's output (see there)."""
import collections
import glob
import json
import sys


def annotated(folder):
    return [json.loads(line) for f in sorted(glob.glob(f"{folder}/annotated/part-*"))
            for line in open(f, encoding="utf-8")]


TOLERANCE = 1e-5


def max_diff(a, b):
    """The largest difference between the numbers of two records of the same shape (float
    fields), or None when anything else differs (a key, a label, an offset, a text)."""
    if isinstance(a, float) or isinstance(b, float):
        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
            return abs(a - b)
        return None
    if type(a) is not type(b):
        return None
    if isinstance(a, dict):
        if a.keys() != b.keys():
            return None
        ds = [max_diff(a[k], b[k]) for k in a]
    elif isinstance(a, list):
        if len(a) != len(b):
            return None
        ds = [max_diff(x, y) for x, y in zip(a, b)]
    else:
        return 0.0 if a == b else None
    return None if any(d is None for d in ds) else max(ds, default=0.0)


def stats(tmp):
    with open(f"{tmp}/stats.json", encoding="utf-8") as f:
        return json.load(f)


def same(tmp):
    ids = [json.loads(l)["id"] for l in open(f"{tmp}/bbc200.jsonl", encoding="utf-8")]
    plain = {}
    for line in open(f"{tmp}/plain.jsonl", encoding="utf-8"):
        r = json.loads(line)
        plain[r["id"]] = r
    got = annotated(f"{tmp}/out")
    count = collections.Counter(r["id"] for r in got)
    bad = [i for i in ids if count[i] != 1]
    assert not bad and len(got) == len(ids), f"ids not exactly once: {bad[:5]}, {len(got)} records"
    # equal: every key, label, offset and text; scores within TOLERANCE (fp32 sums round
    # differently when a sentence shares its batch with other sentences: partitions are not
    # newsmill's jobs)
    diffs = {r["id"]: max_diff(r, plain[r["id"]]) for r in got}
    differ = [i for i, d in diffs.items() if d is None or d > TOLERANCE]
    assert not differ, f"{len(differ)} records differ from plain newsmill's: {differ[:5]}"
    exact = sum(1 for r in got if r == plain[r["id"]])
    worst = max(diffs.values())
    s = stats(tmp)
    want = sum(len(r.get("entities", [])) for r in got)
    assert s["entity_rows"] == want, (s, want)
    assert s["entity_columns"] == ["id", "start", "end", "text", "label", "stance", "actor"], s
    print(f"spark-test: 200 ids exactly once, every record equal to plain newsmill's "
          f"({exact} byte for byte, the rest with scores within {worst:.1e}), "
          f"{want} entity rows in the Parquet table", file=sys.stderr)


def bad(tmp):
    got = annotated(f"{tmp}/badout")
    errors = [r for r in got if "error" in r]
    good = sorted(r["id"] for r in got if "error" not in r)
    lines = open(f"{tmp}/bbc200.jsonl", encoding="utf-8").readlines()[:10]
    want = sorted(json.loads(l)["id"] for l in lines)
    assert good == want, (good, want)
    kinds = sorted(r["error"]["kind"] for r in errors)
    assert kinds == ["invalid_json", "invalid_json", "io"], kinds
    io = [r for r in errors if r["error"]["kind"] == "io"][0]
    msg = io["error"]["message"]
    assert "members.jsonl.gz" in msg and "compressed byte" in msg, io
    print(f"spark-test: bad input: {len(good)} annotated, error records {kinds}; {msg[:200]}",
          file=sys.stderr)


if __name__ == "__main__":
    {"same": same, "bad": bad}[sys.argv[1]](sys.argv[2])
