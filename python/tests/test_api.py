"""The Python API against the installed wheels (scripts/python-test.sh): order, streaming,
errors, DataFrames, equality with the CLI, Ctrl-C, the README example."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import newsmill
import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "articles.jsonl"
BBC = ROOT.parent / "shared" / "data" / "bbc" / "articles.jsonl"
CLI = str(Path(sys.executable).parent / "newsmill")


@pytest.fixture(scope="module")
def nlp() -> Iterator[newsmill.Pipeline]:
    with newsmill.Pipeline(precision="int8", workers=2) as p:
        yield p


def cli_annotate(tmp_path: Path, lines: list[str], args: list[str]) -> list[Any]:
    """`newsmill annotate` (the console script) on `lines` written as a JSONL file."""
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    done = subprocess.run(
        [CLI, "annotate", str(src), "-o", str(out), "-q", *args], capture_output=True, text=True
    )
    assert done.returncode in (0, 2), done.stderr
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def test_order_and_ids(nlp: newsmill.Pipeline) -> None:
    items: list[Any] = [
        {"id": f"n{i}", "text": f"Story {i}: Putin met Kim in Moscow."} for i in range(40)
    ]
    items.insert(7, "A plain text about Angela Merkel.")
    out = list(nlp.annotate(items))
    assert len(out) == len(items)
    assert [r["id"] for r in out] == [
        it["id"] if isinstance(it, dict) else "line-8" for it in items
    ]
    assert out[7]["text"] == "A plain text about Angela Merkel."
    # one text alone is one record, not its characters
    assert len(list(nlp.annotate("Obama spoke."))) == 1


def test_streaming_on_a_generator(nlp: newsmill.Pipeline) -> None:
    """The first results arrive while the generator is still running: after one job's items
    (job_articles, 128) the generator blocks until the first record has been read."""
    first_read = threading.Event()
    produced = []

    def gen() -> Iterator[str]:
        for i in range(128):
            produced.append(i)
            yield f"Text {i} on Boris Johnson in London."
        if not first_read.wait(timeout=120):
            raise AssertionError("no record came before the generator went on")
        for i in range(128, 140):
            produced.append(i)
            yield f"Text {i} on Boris Johnson in London."

    it = nlp.annotate(gen())
    t0 = time.monotonic()
    first = next(it)
    assert len(produced) == 128, "the first record came before the rest of the input was made"
    first_read.set()
    rest = list(it)
    assert first["id"] == "line-1" and len(rest) == 139
    assert time.monotonic() - t0 < 120


def test_a_few_items_return_at_once(nlp: newsmill.Pipeline) -> None:
    t0 = time.monotonic()
    assert len(list(nlp.annotate(["Macron visited Berlin."] * 3))) == 3
    assert time.monotonic() - t0 < 10


def test_bounded_lookahead() -> None:
    """An endless generator is pulled only as far as the pipes and the jobs in flight hold
    (here jobs of 4 articles of 2 kB): the input is never collected."""
    produced = [0]

    def gen() -> Iterator[dict[str, str]]:
        while True:
            produced[0] += 1
            yield {"text": "Putin met Kim in Moscow. " * 80}

    with newsmill.Pipeline(tasks="ner", precision="int8", workers=2, job_articles=4) as p:
        it = p.annotate(gen())
        for _ in islice(it, 20):
            pass
        time.sleep(1)
        ahead = produced[0] - 20
        it.close()
    # jobs in flight (3 per worker, 2 queued, 1 being read) and 64 kB pipes on either side
    assert ahead < 9 * 4 + 3 * 32 + 16, ahead


def test_one_iteration_at_a_time_and_break(nlp: newsmill.Pipeline) -> None:
    it = nlp.annotate(["Kim met Putin."] * 5)
    next(it)
    with pytest.raises(newsmill.NewsmillError, match="unfinished"):
        nlp.annotate(["x"])
    it.close()
    for _ in nlp.annotate(["Kim met Putin."] * 5):
        break  # an abandoned iteration is closed when dropped
    assert [r["id"] for r in nlp.annotate(["a", "b"])] == ["line-1", "line-2"]


def test_bad_records_are_error_records(nlp: newsmill.Pipeline) -> None:
    out = list(
        nlp.annotate([{"id": "ok", "text": "Fine."}, {"id": "no-text"}, 5, {"id": "x", "text": 3}])
    )
    assert "error" not in out[0]
    assert out[1]["error"]["kind"] == "missing_field"
    assert out[2]["error"]["kind"] == "invalid_json"
    assert out[3]["error"]["kind"] == "bad_field"


def test_errors_carry_the_cli_message(tmp_path: Path) -> None:
    for kwargs, flags in [
        ({"models": str(tmp_path / "missing")}, ["--models", str(tmp_path / "missing")]),
        ({"precision": "fp64"}, ["--precision", "fp64"]),
        ({"tasks": "ner,parsing"}, ["--tasks", "ner,parsing"]),
    ]:
        with pytest.raises(newsmill.NewsmillError) as e:
            newsmill.Pipeline(**kwargs)  # type: ignore[arg-type]
        cli = subprocess.run(
            [CLI, "annotate", str(EXAMPLES), *flags], capture_output=True, text=True
        )
        assert cli.returncode == 1
        assert str(e.value) == cli.stderr.strip()


def table_columns() -> dict[str, list[str]]:
    """The columns docs/tables.md lists for each table."""
    doc = (ROOT / "docs" / "tables.md").read_text(encoding="utf-8")
    out: dict[str, list[str]] = {}
    for section in re.split(r"^## ", doc, flags=re.MULTILINE)[1:]:
        name = section.split("`")[1]
        out[name] = re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.MULTILINE)
    return out


def test_dataframes(nlp: newsmill.Pipeline, tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    lines = EXAMPLES.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    df = pd.DataFrame(records)
    tables = nlp.annotate_df(df, text="text", id="id", title="title")
    docs = table_columns()
    assert set(docs) == set(newsmill.Tables._fields)
    annotated = tmp_path / "annotated.jsonl"
    annotated.write_text(
        "".join(json.dumps(r) + "\n" for r in nlp.annotate(records)), encoding="utf-8"
    )
    from_file = newsmill.read_jsonl(annotated)
    for name in newsmill.Tables._fields:
        frame = getattr(tables, name)
        assert list(frame.columns) == docs[name], name
        csv = subprocess.run(
            [CLI, "export", str(annotated), "--table", name, "-o", "-", "--format", "csv", "-q"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
        assert csv[0].split(",") == docs[name]
        assert len(frame) == len(csv) - 1
        pd.testing.assert_frame_equal(frame, getattr(from_file, name))
    assert list(tables.articles["article_id"]) == [r["id"] for r in records]
    assert (tables.entities["text"].str.len() > 0).all()


def corpus(path: Path, n: int) -> list[str]:
    with path.open(encoding="utf-8") as f:
        return [line.rstrip("\n") for line in islice(f, n)]


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_equals_the_cli(precision: str, tmp_path: Path) -> None:
    """nlp.annotate(records) == newsmill annotate on the same records as JSONL, same settings,
    compared as JSON values: the example corpus and 50 BBC articles."""
    sets = [corpus(EXAMPLES, 1000)]
    if BBC.exists():
        sets.append(corpus(BBC, 50))
    with newsmill.Pipeline(precision=precision, targets=["economy"]) as nlp:
        for lines in sets:
            api = list(nlp.annotate(json.loads(line) for line in lines))
            cli = cli_annotate(tmp_path, lines, nlp.cli_args)
            assert len(api) == len(cli) == len(lines)
            assert api == cli


CTRL_C = """
import itertools, json, sys
import newsmill
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
nlp = newsmill.Pipeline(precision="int8")
print(nlp._proc.pid, flush=True)
for i, r in enumerate(nlp.annotate(json.loads(l) for l in itertools.cycle(lines))):
    if i == 0:
        print("first", flush=True)
"""


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_ctrl_c_stops_cleanly(tmp_path: Path) -> None:
    script = tmp_path / "loop.py"
    script.write_text(CTRL_C)
    p = subprocess.Popen(
        [sys.executable, str(script), str(EXAMPLES)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert p.stdout is not None
    engine = int(p.stdout.readline())
    assert p.stdout.readline().strip() == "first"
    assert alive(engine)
    time.sleep(0.5)  # well inside the endless iteration
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=30)
    assert p.returncode != 0
    assert err.rstrip().endswith("KeyboardInterrupt"), err
    assert not alive(engine), "the engine process outlived the interrupt"
    children = [
        d
        for d in os.listdir("/proc")
        if d.isdigit() and Path(f"/proc/{d}/stat").exists() and _ppid(d) == p.pid
    ]
    assert not children


def _ppid(pid: str) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (FileNotFoundError, IndexError, ValueError):
        return -1


def test_readme_example(tmp_path: Path) -> None:
    """The README's Python example, as it stands there."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Python\n", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, flags=re.DOTALL)
    assert code is not None
    example = textwrap.dedent(code.group(1))
    assert len(example.strip().splitlines()) <= 6
    done = subprocess.run(
        [sys.executable, "-c", example], capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "Merkel" in done.stdout
