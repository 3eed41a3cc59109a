"""Annotates a JSONL corpus on Spark by piping each partition through the newsmill bundle.

    spark-submit --master yarn \\
        --archives newsmill-0.1.0-linux-x86_64.tar.gz#newsmill \\
        examples/spark/annotate.py 's3a://bucket/corpus/*.jsonl.gz' --output s3a://bucket/out

Writes OUTPUT/annotated/ (newsmill's JSONL, one line per input record, error records kept) and
OUTPUT/entities/ (Parquet: id, start, end, text, label, stance, actor; one row per entity
mention) for Spark SQL. The project README, "Run on a cluster", says how to size partitions.

Inputs are any paths or globs Spark can read:
- plain JSONL (and what Hadoop decompresses by itself, .bz2) is read with `textFile`, split
  into partitions, and each partition is piped through `newsmill annotate - -q` (`RDD.pipe`);
- `.gz` / `.zst` files (not splittable) are read whole with `binaryFiles`, one task per file,
  and their bytes go to the same command unchanged: newsmill tells the compression by the
  first bytes and decodes it, so a corrupt or truncated stream gives newsmill's error record
  (naming the file and the compressed byte offset) after the records before it, and the job
  does not fail (Hadoop's gzip codec would fail the task).
"""

import argparse
import json
import os
import shlex
import subprocess
import sys
import time

from pyspark import SparkFiles
from pyspark.sql import Row, SparkSession
from pyspark.sql.types import LongType, StringType, StructField, StructType

COMPRESSED = (".gz", ".gzip", ".zst", ".zstd")
SCHEMA_VERSION = "1.2"

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


def annotate_file(command):
    """For (path, bytes) of a compressed file: its annotated lines, through the same command."""
    def run(pair):
        path, data = pair
        proc = subprocess.run(command, input=data, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, check=False)
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
        if proc.returncode not in (0, 2):
            # the run failed as a whole (a stream corrupt from its first bytes): one error
            # record for the file, after whatever was written
            msg = proc.stderr.decode("utf-8", "replace").strip().replace("standard input", path)
            out.append(error_record(path, msg or f"newsmill exited with {proc.returncode}"))
        return out
    return run


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
    args = ap.parse_args()

    t0 = time.time()
    spark = SparkSession.builder.appName("newsmill-annotate").getOrCreate()
    sc = spark.sparkContext
    t_ready = time.time()
    extra = shlex.split(args.newsmill_args)
    if "--workers" not in extra:
        # one newsmill worker per core Spark gives the task: tasks already fill the cores
        extra += ["--workers", sc.getConf().get("spark.task.cpus", "1")]
    command = newsmill_command(args.bundle_alias, extra)

    plain = [p for p in args.inputs if not p.lower().endswith(COMPRESSED)]
    packed = [p for p in args.inputs if p.lower().endswith(COMPRESSED)]
    parts = []
    if plain:
        lines = sc.textFile(",".join(plain), minPartitions=args.partitions)
        parts.append(lines.pipe(shlex.join(command)))
    if packed:
        files = sc.binaryFiles(",".join(packed))
        parts.append(files.flatMap(annotate_file(command)))
    annotated = sc.union(parts) if len(parts) > 1 else parts[0]
    annotated = annotated.filter(lambda line: line != "")

    annotated.saveAsTextFile(os.path.join(args.output, "annotated"))
    # read back what was written (not recomputed: the annotation runs once)
    written = sc.textFile(os.path.join(args.output, "annotated"))
    entities = spark.createDataFrame(written.flatMap(entity_rows), ENTITY_SCHEMA)
    entities.write.parquet(os.path.join(args.output, "entities"))
    t_done = time.time()

    records = written.count()
    errors = written.filter(lambda line: '"error"' in line and "error" in json.loads(line)).count()
    table = spark.read.parquet(os.path.join(args.output, "entities"))
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
