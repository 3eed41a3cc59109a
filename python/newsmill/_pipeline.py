"""`Pipeline`: one `newsmill serve` engine process, its models loaded once."""

from __future__ import annotations

import collections
import datetime
import json
import subprocess
import sys
import threading
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import IO, Any, Union

from ._engine import NewsmillError, binary, environ
from ._tables import Tables, tables_of_records

Item = Union[str, Mapping[str, Any]]
Record = dict[str, Any]

# An unfinished iteration that is closed (a `break`, `close()`, garbage collection) reads the
# rest of its answer when its input is all sent and at most this many records are still to
# come; otherwise the engine process is stopped (and started again by the next `annotate`).
_DRAIN_AT_MOST = 256


def _json_default(o: Any) -> Any:
    if hasattr(o, "item") and callable(o.item):  # numpy and pandas scalars
        return o.item()
    if isinstance(o, (datetime.date, datetime.datetime)):
        return o.isoformat()
    raise TypeError(f"record value of type {type(o).__name__} is not JSON serializable")


def _encode(item: Any) -> bytes:
    obj = {"text": item} if isinstance(item, str) else item
    if isinstance(obj, Mapping) and not isinstance(obj, dict):
        obj = dict(obj)
    return json.dumps(obj, ensure_ascii=False, default=_json_default).encode() + b"\n"


class Pipeline:
    """The newsmill engine with its models loaded once: `annotate` records as often as needed.

    >>> nlp = newsmill.Pipeline(precision="int8")
    >>> [r["entities"][0]["text"] for r in nlp.annotate(["Putin met Kim in Moscow."])]
    ['Putin']

    Arguments are the flags of `newsmill annotate` (README, "Use"):

    - tasks: a subset of ("ner", "sentiment", "stance") (a sequence, or "ner,stance").
    - precision: "auto" (the CLI's default: int8 on a CPU with AVX2, bf16 on a GPU, fp32
      elsewhere; each record's `models` names the one used), "fp32", "int8" (CPU), or
      "fp16"/"bf16" (GPU).
    - workers: worker threads (default: the cores).
    - targets: phrases whose mentions are scored for stance (`--target`).
    - models: a models folder (`--models`); default `$NEWSMILL_MODELS`, else the models of the
      `newsmill_models` package.
    - batch_tokens, job_articles, device: as `--batch-tokens`, `--job-articles`, `--device`.
    - include_text: False leaves the text out of the records (`--no-text`).
    - sentence_head, keep_boilerplate: as `--sentence-head`, `--keep-boilerplate`.
    - args: further `newsmill annotate` flags, e.g. ("--window", "256").

    The engine runs as a child process (`newsmill serve`), never inside this interpreter: a
    `torch` imported here cannot clash with it. A model folder problem or a bad argument raises
    `NewsmillError` with the command line's message. Use it as a context manager, or call
    `close()`.
    """

    def __init__(
        self,
        tasks: Union[str, Sequence[str]] = ("ner", "sentiment", "stance"),
        precision: str = "auto",
        workers: int | None = None,
        targets: Sequence[str] = (),
        models: str | None = None,
        batch_tokens: int | None = None,
        *,
        job_articles: int | None = None,
        device: str | None = None,
        include_text: bool = True,
        sentence_head: str | None = None,
        keep_boilerplate: bool = False,
        args: Sequence[str] = (),
    ) -> None:
        flags: list[str] = [
            "--tasks",
            tasks if isinstance(tasks, str) else ",".join(tasks),
            "--precision",
            precision,
        ]
        if isinstance(targets, str):
            targets = [targets]
        for t in targets:
            flags += ["--target", t]
        for flag, value in (
            ("--workers", workers),
            ("--models", models),
            ("--batch-tokens", batch_tokens),
            ("--job-articles", job_articles),
            ("--device", device),
            ("--sentence-head", sentence_head),
        ):
            if value is not None:
                flags += [flag, str(value)]
        if not include_text:
            flags.append("--no-text")
        if keep_boilerplate:
            flags.append("--keep-boilerplate")
        flags += [str(a) for a in args]
        #: The `newsmill annotate` flags that give the same records as this pipeline.
        self.cli_args: list[str] = flags
        #: The engine's ready line: version, schema_version, workers, settings, models.
        self.info: dict[str, Any] = {}
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr_tail: collections.deque[str] = collections.deque(maxlen=40)
        # weak: an iteration dropped unfinished (a `break`) is closed by its finalizer
        self._active: weakref.ref[_Run] | None = None
        self._closed = False
        self._start()

    # the engine process

    def _start(self) -> None:
        argv = [binary(), "serve", "--quiet", *self.cli_args]
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=environ(),
            # its own process group: a Ctrl-C on the terminal reaches Python only, which then
            # stops the engine (or keeps it, between iterations)
            start_new_session=True,
        )
        ready = threading.Event()
        early: list[str] = []
        tail = self._stderr_tail
        tail.clear()

        def forward(stream: IO[bytes]) -> None:
            for raw in stream:
                line = raw.decode(errors="replace")
                tail.append(line)
                if ready.is_set():
                    sys.stderr.write(line)
                else:
                    early.append(line)

        t = threading.Thread(target=forward, args=(proc.stderr,), daemon=True)
        t.name = "newsmill-stderr"
        t.start()
        assert proc.stdout is not None
        try:
            line = proc.stdout.readline()
        except BaseException:  # a KeyboardInterrupt while the models load
            proc.kill()
            proc.wait()
            raise
        if not line:
            proc.wait()
            t.join(timeout=5)
            message = "".join(early).strip() or f"newsmill serve exited with {proc.returncode}"
            raise NewsmillError(message)
        self.info = json.loads(line)
        for e in early:  # warnings said while starting (a window shortened, ...)
            sys.stderr.write(e)
        ready.set()
        self._proc = proc

    def _stop(self) -> None:
        """Stops the engine process now (terminate, kill after 2 s); the next `annotate`
        starts a new one."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for f in (proc.stdin, proc.stdout):
            try:
                if f is not None:
                    f.close()
            except OSError:
                pass

    def _stderr_text(self) -> str:
        return "".join(self._stderr_tail).strip()

    # the API

    def annotate(self, items: Union[Item, Iterable[Item]]) -> Iterator[Record]:
        """Annotates `items` (texts, or dicts with "text" and optional "id" and "title", as
        the JSONL of `newsmill annotate`) and yields one record (a dict) per item, in input
        order.

        Streaming: the items are sent to the engine by a thread while the records are read,
        so a generator of any length runs in bounded memory. Records come a job at a time
        (`job_articles`, 128 by default: jobs are cut by count, never by timing, because the
        page-role rules read a job's articles together), and a call with a few items returns as
        soon as they are done. A bad item gives an error record (`{"error": ...}`), as in the
        CLI; a value that JSON cannot hold raises TypeError after the records before it.

        One iteration at a time per Pipeline: starting another while one is unfinished raises
        NewsmillError (finish it, or `close()` it). A KeyboardInterrupt (or any exception)
        while waiting for records stops the engine process; the next `annotate` starts it
        again (the models are loaded again).
        """
        if self._closed:
            raise NewsmillError("this Pipeline is closed")
        active = self._active() if self._active is not None else None
        if active is not None and not active.finished:
            raise NewsmillError(
                "another annotate() iteration of this Pipeline is unfinished: read it to the "
                "end or call its close() first (one iteration at a time per Pipeline)"
            )
        if isinstance(items, (str, Mapping)):
            items = [items]
        if self._proc is None or self._proc.poll() is not None:
            self._stop()
            self._start()
        run = _Run(self, iter(items))
        self._active = weakref.ref(run)
        return run

    def annotate_df(
        self,
        df: Any,
        text: str = "text",
        id: str | None = "id",
        title: str | None = None,
    ) -> Tables:
        """Annotates the rows of a pandas DataFrame and returns the flat tables of
        `newsmill export` (articles, sentences, entities, actors; columns: docs/tables.md).

        `text`, `id`, `title` name the columns; when the `id` column is absent the
        DataFrame's index gives the ids. Needs the `pandas` extra (`newsmill[pandas]`).
        """
        texts = df[text].tolist()
        if id is not None and id in df.columns:
            ids: list[Any] = df[id].tolist()
        elif id is not None:
            ids = [str(i) for i in df.index.tolist()]
        else:
            ids = [None] * len(texts)
        titles = df[title].tolist() if title is not None else [None] * len(texts)

        def rows() -> Iterator[dict[str, Any]]:
            for i, t, h in zip(ids, texts, titles):
                r: dict[str, Any] = {"text": t}
                if i is not None:
                    r["id"] = i
                if isinstance(h, str):
                    r["title"] = h
                yield r

        return tables_of_records(self.annotate(rows()))

    def close(self) -> None:
        """Ends the engine process (its models are freed). Idempotent."""
        active = self._active() if self._active is not None else None
        if active is not None and not active.finished:
            active.close()
        self._closed = True
        proc = self._proc
        if proc is None:
            return
        try:
            if proc.stdin is not None:
                proc.stdin.close()  # end of input: the engine exits
            proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self._stop()

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def __repr__(self) -> str:
        state = "closed" if self._closed else "running" if self._proc else "stopped"
        return f"Pipeline({' '.join(self.cli_args)}; {state})"


class _Feed:
    """What the feeder thread shares with its iteration (the thread holds no reference to the
    iteration itself, so a dropped iteration is collected and closed)."""

    def __init__(self) -> None:
        self.sent = 0
        self.done = threading.Event()
        self.stop = threading.Event()
        self.error: BaseException | None = None


def _feed(stdin: IO[bytes], items: Iterator[Any], state: _Feed) -> None:
    try:
        for item in items:
            if state.stop.is_set():
                break
            stdin.write(_encode(item))
            stdin.flush()
            state.sent += 1
    except OSError:
        pass  # the engine is gone; the reader says why
    except BaseException as e:  # the caller's generator failed, or an item is not JSON
        state.error = e
    finally:
        try:
            stdin.write(b"\n")  # the empty line: the request ends
            stdin.flush()
        except (OSError, ValueError):
            pass
        state.done.set()


class _Run(Iterator[Record]):
    """One `annotate` iteration: a feeder thread writes the request, `__next__` reads."""

    def __init__(self, pipe: Pipeline, items: Iterator[Any]) -> None:
        assert pipe._proc is not None and pipe._proc.stdin is not None
        self._pipe = pipe
        self._proc = pipe._proc
        self._received = 0
        self._state = _Feed()
        self.finished = False
        self._feeder = threading.Thread(
            target=_feed, args=(pipe._proc.stdin, items, self._state), daemon=True
        )
        self._feeder.name = "newsmill-feeder"
        self._feeder.start()

    def __iter__(self) -> _Run:
        return self

    def __next__(self) -> Record:
        if self.finished:
            raise StopIteration
        stdout = self._proc.stdout
        assert stdout is not None
        try:
            line = stdout.readline()
        except BaseException:
            self._abort()
            raise
        if line == b"\n":
            self._done()
            if self._state.error is not None:
                raise self._state.error
            raise StopIteration
        if not line:
            self._abort()
            raise NewsmillError(
                "the newsmill engine stopped: " + (self._pipe._stderr_text() or "no message")
            )
        self._received += 1
        try:
            return json.loads(line)
        except BaseException:
            self._abort()
            raise

    def _done(self) -> None:
        self.finished = True
        self._feeder.join()

    def _abort(self) -> None:
        """Stops the engine process (an interrupt, an error, an abandoned long iteration)."""
        self.finished = True
        self._state.stop.set()
        self._pipe._stop()
        self._feeder.join(timeout=2)

    def close(self) -> None:
        """Abandons the iteration. When all items were sent and few records remain they are
        read and dropped (the engine stays); otherwise the engine process is stopped."""
        if self.finished:
            return
        self._state.stop.set()
        self._state.done.wait(timeout=0.5)
        if self._state.done.is_set() and self._state.sent - self._received <= _DRAIN_AT_MOST:
            stdout = self._proc.stdout
            assert stdout is not None
            try:
                while True:
                    line = stdout.readline()
                    if line == b"\n":
                        self._done()
                        return
                    if not line:
                        break
            except BaseException:
                self._abort()
                raise
        self._abort()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass
