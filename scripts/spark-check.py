"""Checks of scripts/spark-test.sh on the Spark job's output (see there)."""
import collections
import glob
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


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


def schema_version(path, pattern):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        found = re.findall(pattern, f.read(), re.M)
    assert len(found) == 1, f"{path}: {len(found)} matches of {pattern}"
    return found[0]


def bad(tmp):
    # newsmill's records and the script's own error records have the same schema_version
    newsmill = schema_version("crates/newsmill-schema/src/lib.rs",
                              r'^pub const SCHEMA_VERSION: &str = "([^"]+)";')
    script = schema_version("examples/spark/annotate.py", r'^SCHEMA_VERSION = "([^"]+)"')
    assert script == newsmill, \
        f"examples/spark/annotate.py SCHEMA_VERSION {script} != newsmill's {newsmill}"
    got = annotated(f"{tmp}/badout")
    versions = collections.Counter(r.get("schema_version") for r in got)
    assert set(versions) == {newsmill}, f"schema_version of the records: {dict(versions)}, " \
                                        f"newsmill's is {newsmill}"
    errors = [r for r in got if "error" in r]
    good = sorted(r["id"] for r in got if "error" not in r)
    # records 1-16: mixed.jsonl, members.jsonl.gz, good.jsonl.gz, with,comma.jsonl, dir/*
    lines = open(f"{tmp}/bbc200.jsonl", encoding="utf-8").readlines()[:16]
    want = sorted(json.loads(l)["id"] for l in lines)
    assert good == want, (sorted(set(want) - set(good)), sorted(set(good) - set(want)), good)
    kinds = sorted(r["error"]["kind"] for r in errors)
    assert kinds == ["invalid_json", "invalid_json", "io", "io"], (kinds, errors)
    io = [r for r in errors if r["error"]["kind"] == "io"]
    member = [r for r in io if "members.jsonl.gz" in r["error"]["message"]]
    assert len(member) == 1 and "compressed byte" in member[0]["error"]["message"], io
    # the script's own record: newsmill could not open the stream (exit 1), one record, the
    # file named in place of "standard input"
    own = [r for r in io if r["record"].endswith("notgzip.jsonl.gz")]
    assert len(own) == 1, io
    msg = own[0]["error"]["message"]
    assert msg.startswith("cannot read input") and "notgzip.jsonl.gz" in msg \
        and "standard input" not in msg, own
    print(f"spark-test: bad input: {len(good)} annotated (a name with a comma, a folder glob "
          f"with plain and compressed files), error records {kinds}, all schema_version "
          f"{newsmill}; {member[0]['error']['message'][:200]}; {msg[:200]}", file=sys.stderr)


if __name__ == "__main__":
    {"same": same, "bad": bad}[sys.argv[1]](sys.argv[2])
