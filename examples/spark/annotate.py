"""Annotates a JSONL corpus on Spark by piping each partition through the newsmill bundle.

    spark-submit --master yarn \\
        --archives newsmill-0.1.0-linux-x86_64.tar.gz#newsmill \\
        examples/spark/annotate.py 's3a://bucket/corpus/*.jsonl.gz' --output s3a://bucket/out

Writes OUTPUT/annotated/ (newsmill's JSONL, one line per input record, error records kept) and
OUTPUT/entities/ (Parquet: id, start, end, text, label, stance, actor; one row per entity
mention) for Spark SQL. The project README, "Run on a cluster", says how to size partitions.

Inputs are paths or globs Spark can read, one per argument (a comma is part of a name, not a
separator: give several inputs as several arguments). The driver expands each with Hadoop's
FileSystem API (a folder gives its files; names starting with `_` or `.` are skipped, as Hadoop
does; a folder inside a folder is an error) and tells each file's kind by its own name:
- plain JSONL (and what Hadoop decompresses by itself, .bz2) is read with `textFile`, split
  into partitions, and each partition is piped through `newsmill annotate - -q`;
- `.gz` / `.zst` files (not splittable) are read whole with `binaryFiles`, one task per file,
  and their bytes go to the same command unchanged: newsmill tells the compression by the
  first bytes and decodes it, so a corrupt or truncated stream gives newsmill's error record
  (naming the file and the compressed byte offset) after the records before it, and the job
  does not fail (Hadoop's gzip codec would fail the task).
An input that matches no file stops the job before it starts (exit status 1).

When newsmill fails, the job fails. newsmill exits 0 (all records annotated) or 2 (some
records are error records): both are success. Any other end of a piped partition (1: the run
failed as a whole, e.g. bad --newsmill-args or a model problem; 127: bundle not found; 130;
killed by a signal, e.g. out of memory) raises in the task with the exit status and the end of
newsmill's stderr, and Spark fails the task and (after its retries) the job: a partition is
never silently short. One exception, for a compressed file only: newsmill exits 1 and its
stderr says `newsmill: error: cannot read input` (its input, the file's bytes on stdin, could
not be opened: a stream corrupt or truncated from its first bytes). That is a failure of that
file alone, so it becomes one `io` error record naming the file (after whatever newsmill wrote)
and the job goes on; every other non-0/2 exit of a compressed file's run raises as above.
"""

import argparse
import collections
import json
import math
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time

from pyspark import SparkFiles, TaskContext
from pyspark.sql import Row, SparkSession
from pyspark.sql.types import LongType, StringType, StructField, StructType

COMPRESSED = (".gz", ".gzip", ".zst", ".zstd")
# the schema_version of newsmill's records (crates/newsmill-schema/src/lib.rs), for the
# error records this script writes itself; scripts/spark-check.py checks that they are equal
SCHEMA_VERSION = "2.0"
# newsmill's exit statuses that mean the run finished: 0, or 2 (some records are error records)
FINISHED = (0, 2)
# the start of newsmill's message when its input (stdin) could not be opened
INPUT_FAILED = "newsmill: error: cannot read input"
STDERR_KEPT = 4000

ENTITY_SCHEMA = StructType([
    StructField("id", StringType()),
    StructField("start", LongType()),
    StructField("end", LongType()),
    StructField("text", StringType()),
    StructField("label", StringType()),
    StructField("stance", StringType()),
    StructField("actor", StringType()),
])


def newsmill_command(alias, newsmill_args):
    """The command each task runs. The bundle is where `--archives X#alias` unpacked it: the
    task's working folder on a cluster (YARN, Kubernetes, standalone), the driver's SparkFiles
    folder in local mode; the shell looks in both, on the executor."""
    script = ('for b in "$0"/*/newsmill ./"$1"/*/newsmill; do '
              '[ -x "$b" ] && shift && exec "$b" "$@"; done; '
              'echo "newsmill bundle not found (--archives BUNDLE.tar.gz#$1)" >&2; exit 127')
    driver_dir = os.path.join(SparkFiles.getRootDirectory(), alias)
    return ["sh", "-c", script, driver_dir, alias, "annotate", "-", "-q"] + newsmill_args


def error_record(record, message):
    return json.dumps({"schema_version": SCHEMA_VERSION, "id": None, "record": record,
                       "error": {"kind": "io", "message": message}})


class NewsmillFailed(RuntimeError):
    """newsmill ended otherwise than 0 or 2: the task fails (after Spark's retries, the job)."""


def describe_exit(returncode, stderr, what):
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        how = f"was killed by {name}" + (" (out of memory?)" if name == "SIGKILL" else "")
    else:
        how = f"exited with status {returncode}"
    tail = stderr.strip()
    return f"newsmill {how} on {what}" + (f"; its stderr ends:\n{tail}" if tail else "")


def pipe_partition(command):
    """For an iterator of JSONL lines (a partition): newsmill's output lines, the lines piped
    through `command` (what `RDD.pipe` does), but any exit other than 0 or 2, and a failure
    to feed newsmill its input, raises NewsmillFailed instead of ending the partition short."""
    def run(lines):
        proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        fed = {"error": None, "broken": False}
        tail = collections.deque()

        def feed():
            try:
                for line in lines:
                    proc.stdin.write(line.rstrip("\n").encode("utf-8") + b"\n")
            except BrokenPipeError:
                fed["broken"] = True
            except BaseException as e:  # the partition's input failed: not a short partition
                fed["error"] = e
            finally:
                try:
                    proc.stdin.close()
                except BrokenPipeError:
                    fed["broken"] = True

        def drain():
            # newsmill's messages go on to the task's stderr (the executor log); the end is kept
            size = 0
            log = getattr(sys.stderr, "buffer", None)
            for raw in proc.stderr:
                if log is not None:
                    log.write(raw)
                tail.append(raw)
                size += len(raw)
                while size > STDERR_KEPT and len(tail) > 1:
                    size -= len(tail.popleft())
            sys.stderr.flush()

        threads = [threading.Thread(target=feed, daemon=True),
                   threading.Thread(target=drain, daemon=True)]
        for t in threads:
            t.start()
        try:
            for raw in proc.stdout:
                yield raw.rstrip(b"\n").decode("utf-8")
            proc.wait()
            for t in threads:
                t.join()
        finally:
            if proc.poll() is None:  # the consumer stopped early (task killed, an error)
                proc.kill()
                proc.wait()
        stderr = b"".join(tail).decode("utf-8", "replace")
        ctx = TaskContext.get()
        what = f"partition {ctx.partitionId()}" if ctx else "a partition"
        if proc.returncode not in FINISHED:
            raise NewsmillFailed(describe_exit(proc.returncode, stderr, what))
        if fed["error"] is not None:
            raise NewsmillFailed(f"reading the input of {what} failed: {fed['error']!r}") \
                from fed["error"]
        if fed["broken"]:
            raise NewsmillFailed(describe_exit(proc.returncode, stderr, what)
                                 + " before reading all of its input")
    return run


def input_failed(returncode, stderr):
    """newsmill could not open its input (the file's bytes on stdin): the file's own failure."""
    return returncode == 1 and any(line.startswith(INPUT_FAILED) for line in stderr.splitlines())


def annotate_file(command):
    """For (path, bytes) of a compressed file: its annotated lines, through the same command."""
    def run(pair):
        path, data = pair
        proc = subprocess.run(command, input=data, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, check=False)
        stderr = proc.stderr.decode("utf-8", "replace")
        if proc.returncode not in FINISHED and not input_failed(proc.returncode, stderr):
            raise NewsmillFailed(describe_exit(proc.returncode, stderr[-STDERR_KEPT:], path))
        lines = proc.stdout.decode("utf-8").splitlines()
        out = []
        for line in lines:
            rec = json.loads(line)
            if "error" in rec:
                # name the file rather than newsmill's "standard input"
                rec["record"] = f"{path} {rec.get('record', '')}".strip()
                rec["error"]["message"] = rec["error"]["message"].replace(
                    "standard input", path)
                line = json.dumps(rec, ensure_ascii=False)
            out.append(line)
        if proc.returncode not in FINISHED:
            # newsmill could not open the file's stream (corrupt from its first bytes): one
            # error record for the file, after whatever was written
            msg = [l for l in stderr.splitlines() if l.startswith(INPUT_FAILED)][-1]
            msg = msg[len("newsmill: error: "):]
            msg = msg.replace("input -: standard input", f"input {path}").replace(
                "standard input", path)
            out.append(error_record(path, msg))
        return out
    return run


def has_workers(args):
    return any(a == "--workers" or a.startswith("--workers=") for a in args)


def hidden(name):
    """Hadoop's FileInputFormat skips these names (_SUCCESS, .crc files, ...)."""
    return name.startswith(("_", "."))


def expand_inputs(sc, patterns):
    """The files the inputs name, as (path, size): each path or glob expanded with Hadoop's
    FileSystem (what textFile would read), a folder replaced by its files. Raises ValueError,
    naming the input, for one that matches no file."""
    jvm = sc._jvm
    conf = sc._jsc.hadoopConfiguration()
    files = []
    for pattern in patterns:
        try:
            path = jvm.org.apache.hadoop.fs.Path(pattern)
            fs = path.getFileSystem(conf)
            matched = fs.globStatus(path) or []
            found = []
            for st in matched:
                if hidden(st.getPath().getName()):
                    continue
                if not st.isDirectory():
                    found.append(st)
                    continue
                for child in sorted(fs.listStatus(st.getPath()),
                                    key=lambda c: c.getPath().getName()):
                    if hidden(child.getPath().getName()):
                        continue
                    if child.isDirectory():
                        raise ValueError(f"input {pattern}: {child.getPath().toString()} is a "
                                         "folder in a folder (give it, or its files, as an input)")
                    found.append(child)
        except ValueError:
            raise
        except Exception as e:  # a Java exception through py4j: bad path, no such file system
            first = str(e).strip().splitlines()[0] if str(e).strip() else repr(e)
            raise ValueError(f"input {pattern}: cannot list it: {first}") from e
        if not found:
            hint = ""
            if re.search(r"[*?\[\]{}]", pattern) and fs.exists(path):
                hint = (" (a file of that very name exists: an input is a glob, so write its "
                        "* ? [ ] { } with a backslash before each)")
            elif "," in pattern:
                hint = (" (each argument is one path or glob: give several inputs as several "
                        "arguments)")
            raise ValueError(f"input {pattern} matches no file (names starting with _ or . are "
                             f"skipped, as Hadoop does){hint}")
        files += [(st.getPath().toString(), st.getLen()) for st in found]
    return files


def hadoop_literal(path):
    """`path` as a Hadoop input path string that names this one file: the glob characters
    escaped with a backslash (Hadoop's GlobPattern), and each comma written `{\\,}`: textFile
    and binaryFiles split their path string at commas outside curly braces."""
    return re.sub(r"([\\*?\[\]{}^!])", r"\\\1", path).replace(",", "{\\,}")


def path_groups(files):
    """`files` in groups that can each be given to one textFile/binaryFiles call, joined by
    commas: a name holding a curly brace upsets Hadoop's comma splitting, so it gets a call of
    its own; the rest share one."""
    shared = [f for f in files if "{" not in f[0] and "}" not in f[0]]
    alone = [[f] for f in files if "{" in f[0] or "}" in f[0]]
    return ([shared] if shared else []) + alone


def joined(group):
    return ",".join(hadoop_literal(p) for p, _ in group)


def read_plain(sc, files, partitions):
    """The lines of the plain files, split into partitions as one textFile call over all of
    them would (`partitions` the minimum, shared by size when there are several calls)."""
    groups = path_groups(files)
    if len(groups) == 1:
        return [sc.textFile(joined(groups[0]), minPartitions=partitions)]
    want = partitions or sc.defaultMinPartitions
    total = sum(size for _, size in files) or 1
    return [sc.textFile(joined(g), minPartitions=max(1, math.ceil(
        want * sum(size for _, size in g) / total))) for g in groups]


def entity_rows(line):
    rec = json.loads(line)
    if "error" in rec:
        return []
    actors = rec.get("actors", [])
    rows = []
    for e in rec.get("entities", []):
        actor = e.get("actor")
        name = actors[actor]["name"] if isinstance(actor, int) and actor < len(actors) else None
        stance = e.get("stance")
        rows.append(Row(id=str(rec["id"]), start=e["start"], end=e["end"], text=e["text"],
                        label=e["label"], stance=stance["label"] if stance else None,
                        actor=name))
    return rows


def join_option_values(argv, options):
    """`--opt VALUE` as `--opt=VALUE` for these options: argparse takes a VALUE that starts
    with `-` and holds no space (`--newsmill-args --workers=4`) for an option of its own."""
    out = []
    i = 0
    while i < len(argv):
        if argv[i] == "--":
            return out + argv[i:]
        if argv[i] in options and i + 1 < len(argv):
            out.append(f"{argv[i]}={argv[i + 1]}")
            i += 2
        else:
            out.append(argv[i])
            i += 1
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("inputs", nargs="+", help="JSONL paths or globs (plain, .gz, .zst)")
    ap.add_argument("--output", required=True, help="folder for annotated/ and entities/")
    ap.add_argument("--bundle-alias", default="newsmill",
                    help="the #alias of the bundle in --archives (default: newsmill)")
    ap.add_argument("--partitions", type=int, default=None,
                    help="minimum partitions of the plain inputs (default: Spark's)")
    ap.add_argument("--newsmill-args", default="",
                    help="more newsmill annotate options, e.g. '--precision int8 --tasks ner' "
                         "(default: --workers spark.task.cpus)")
    ap.add_argument("--stats", help="also write the run's counts and times to this local file")
    args = ap.parse_args(join_option_values(sys.argv[1:], ("--newsmill-args",)))

    t0 = time.time()
    spark = SparkSession.builder.appName("newsmill-annotate").getOrCreate()
    sc = spark.sparkContext
    t_ready = time.time()
    extra = shlex.split(args.newsmill_args)
    if not has_workers(extra):
        # one newsmill worker per core Spark gives the task: tasks already fill the cores
        extra += ["--workers", sc.getConf().get("spark.task.cpus", "1")]
    command = newsmill_command(args.bundle_alias, extra)

    try:
        files = expand_inputs(sc, args.inputs)
    except ValueError as e:
        print(f"annotate.py: error: {e}", file=sys.stderr)
        spark.stop()
        sys.exit(1)
    # each file by its own name (a glob or folder may hold both kinds)
    plain = [f for f in files if not f[0].lower().endswith(COMPRESSED)]
    packed = [f for f in files if f[0].lower().endswith(COMPRESSED)]
    parts = []
    if plain:
        parts += [lines.mapPartitions(pipe_partition(command))
                  for lines in read_plain(sc, plain, args.partitions)]
    if packed:
        parts += [sc.binaryFiles(joined(g)).flatMap(annotate_file(command))
                  for g in path_groups(packed)]
    annotated = sc.union(parts) if len(parts) > 1 else parts[0]
    annotated = annotated.filter(lambda line: line != "")

    try:
        annotated.saveAsTextFile(os.path.join(args.output, "annotated"))
    except Exception as e:
        # say why first: the cause sits deep in the Java exception that follows
        why = re.search(r"NewsmillFailed: (.*?)(?:\n\s*SQLSTATE|\n\s+at |\nDriver stacktrace|$)",
                        str(e), re.S)
        print("annotate.py: error: the job failed" + (f": {why.group(1).strip()}" if why else ""),
              file=sys.stderr)
        raise
    # read back what was written (not recomputed: the annotation runs once); paths that are
    # read are globs to Hadoop, so the output's is escaped
    written = sc.textFile(hadoop_literal(os.path.join(args.output, "annotated")))
    entities = spark.createDataFrame(written.flatMap(entity_rows), ENTITY_SCHEMA)
    entities.write.parquet(os.path.join(args.output, "entities"))
    t_done = time.time()

    records = written.count()
    errors = written.filter(lambda line: '"error"' in line and "error" in json.loads(line)).count()
    table = spark.read.parquet(hadoop_literal(os.path.join(args.output, "entities")))
    stats = {"records": records, "errors": errors,
             "entity_rows": table.count(), "entity_columns": table.columns,
             "spark_startup_s": round(t_ready - t0, 2),
             "annotate_and_write_s": round(t_done - t_ready, 2)}
    print(json.dumps(stats), file=sys.stderr)
    if args.stats:
        with open(args.stats, "w", encoding="utf-8") as f:
            json.dump(stats, f)
    spark.stop()


if __name__ == "__main__":
    main()
