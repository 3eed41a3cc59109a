#!/usr/bin/env bash
# The Spark test (issue 14, run by scripts/test.sh after the bundle test): installs PySpark
# (pinned, from PyPI, cached in ~/.cache/newsmill) and runs examples/spark/annotate.py in
# local[2] with the bundle shipped by --archives:
#   1. over the first 200 BBC articles (../shared/data/bbc/articles.jsonl): every input id
#      appears exactly once and each record equals what a plain local `newsmill annotate` gives;
#      the entities Parquet table holds one row per entity of those records;
#   2. over bad input (a file with malformed JSON lines, a gzip file with an invalid second
#      member, a .gz file corrupt from its first bytes) and odd inputs (a name with a comma, a
#      folder glob `dir/*` holding a plain and a compressed file and a `_` file that is
#      skipped), with --newsmill-args '--workers=1': error records for the bad ones (the
#      script's own for the .gz newsmill cannot open, with newsmill's schema_version),
#      annotated records for the rest, the job succeeds;
#   3. a newsmill command that fails (an unknown newsmill option): spark-submit fails, names
#      the option, and no output claims success (no _SUCCESS).
# Prints the measurements the README quotes: articles/s of plain newsmill and of the Spark job
# on the same 200 articles, and the model load per partition (a newsmill run on empty input).
set -euo pipefail
started=$(date +%s)
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
PYSPARK=4.3.0
CACHE="${NEWSMILL_CACHE:-$HOME/.cache/newsmill}"
VENV="$CACHE/pyspark-$PYSPARK"
if [ "$(cat "$VENV/.complete" 2>/dev/null)" != "pyspark==$PYSPARK" ]; then
  echo "spark-test: installing pyspark==$PYSPARK into $VENV" >&2
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "pyspark==$PYSPARK" >&2
  echo "pyspark==$PYSPARK" > "$VENV/.complete"
fi
archive=$(ls target/bundle/newsmill-*-linux-x86_64.tar.gz 2>/dev/null | head -1 || true)
[ -n "$archive" ] || { scripts/bundle.sh target/bundle >&2; archive=$(ls target/bundle/newsmill-*-linux-x86_64.tar.gz | head -1); }
eval "$(scripts/setup.sh)"
data="$root/../shared/data/bbc/articles.jsonl"
[ -f "$data" ] || { echo "spark-test: $data not found" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
head -n 200 "$data" > "$tmp/bbc200.jsonl"
export PYSPARK_PYTHON="$VENV/bin/python" SPARK_LOCAL_IP=127.0.0.1
spark_submit() {
  # the bundle runs on its own: no NEWSMILL_MODELS, no LD_LIBRARY_PATH from setup.sh
  env -u NEWSMILL_MODELS -u LD_LIBRARY_PATH "$VENV/bin/spark-submit" --master 'local[2]' \
    --conf spark.ui.enabled=false --conf spark.sql.shuffle.partitions=2 \
    --driver-java-options '-Dlog4j2.rootLogger.level=error -Dlog4j.rootLogger=ERROR' \
    --archives "$archive#newsmill" examples/spark/annotate.py "$@" > "$tmp/spark.log" 2>&1
}
submit() {
  spark_submit "$@" || { tail -40 "$tmp/spark.log" >&2; exit 1; }
  grep '^{"records"' "$tmp/spark.log" >&2 || true
}
now() { date +%s.%N; }
secs() { python3 -c "import sys; print(f\"{float(sys.argv[2]) - float(sys.argv[1]):.2f}\")" "$1" "$2"; }

# plain newsmill on the same articles, same machine, same two cores
t0=$(now)
# (fp32 on both sides: int8, the default on this CPU, quantizes activations, so a last-digit fp32
# difference from a sentence's batch neighbours can move a value by a quantization step)
target/release/newsmill annotate "$tmp/bbc200.jsonl" -q --precision fp32 -o "$tmp/plain.jsonl"
t1=$(now)
# model load per partition: what a task pays before its first record (process start, libraries,
# models), from the bundle as the executors run it
mkdir "$tmp/b" && tar -xzf "$archive" -C "$tmp/b"
load=()
for _ in 1 2 3; do
  s=$(now); env -i PATH=/usr/bin:/bin "$tmp"/b/*/newsmill annotate - -q --workers 1 < /dev/null; e=$(now)
  load+=("$(secs "$s" "$e")")
done

t2=$(now)
submit "$tmp/bbc200.jsonl" --output "$tmp/out" --partitions 2 --stats "$tmp/stats.json" \
  --newsmill-args '--precision=fp32'
t3=$(now)
"$VENV/bin/python" scripts/spark-check.py same "$tmp"

# bad input: malformed JSON lines in a plain file, an invalid second gzip member, a .gz corrupt
# from its first bytes (newsmill exits 1: the script's own error record); odd input: a comma in
# a name (Hadoop splits path strings at commas), a folder glob holding a plain and a compressed
# file (each read by its own kind) and a `_` file (skipped, as Hadoop does; if read it would
# give an error record); records 1-16 of bbc200 in all (spark-check.py bad)
bad_gzip='\037\213\010\000\000\000\000\000\000\003this is no deflate data'
mkdir -p "$tmp/bad/dir"
{ sed -n 1,3p "$tmp/bbc200.jsonl"; echo '{"id": "broken", "text": '; echo 'not json at all'
  sed -n 4,5p "$tmp/bbc200.jsonl"; } > "$tmp/bad/mixed.jsonl"
sed -n 6,8p "$tmp/bbc200.jsonl" | gzip -c > "$tmp/bad/members.jsonl.gz"
printf "$bad_gzip" >> "$tmp/bad/members.jsonl.gz"
sed -n 9,10p "$tmp/bbc200.jsonl" | gzip -c > "$tmp/bad/good.jsonl.gz"
printf "$bad_gzip" > "$tmp/bad/notgzip.jsonl.gz"
sed -n 11,12p "$tmp/bbc200.jsonl" > "$tmp/bad/with,comma.jsonl"
sed -n 13,14p "$tmp/bbc200.jsonl" > "$tmp/bad/dir/plain.jsonl"
if command -v zstd > /dev/null; then
  sed -n 15,16p "$tmp/bbc200.jsonl" | zstd -q -c > "$tmp/bad/dir/packed.jsonl.zst"
else
  echo "spark-test: no zstd command: the folder's compressed file is .gz" >&2
  sed -n 15,16p "$tmp/bbc200.jsonl" | gzip -c > "$tmp/bad/dir/packed.jsonl.gz"
fi
echo 'not json at all' > "$tmp/bad/dir/_skipped.jsonl"
submit "$tmp/bad/mixed.jsonl" "$tmp/bad/members.jsonl.gz" "$tmp/bad/good.jsonl.gz" \
  "$tmp/bad/notgzip.jsonl.gz" "$tmp/bad/with,comma.jsonl" "$tmp/bad/dir/*" \
  --newsmill-args '--workers=1' --output "$tmp/badout"
"$VENV/bin/python" scripts/spark-check.py bad "$tmp"

# a newsmill command that fails (exit 1, not 2) fails the job (whichever task fails first)
if spark_submit "$tmp/bad/mixed.jsonl" "$tmp/bad/good.jsonl.gz" \
  --newsmill-args '--no-such-flag' --output "$tmp/failout"; then
  tail -40 "$tmp/spark.log" >&2
  echo "spark-test: the job succeeded although newsmill failed (--no-such-flag)" >&2; exit 1
fi
# the script says why first: newsmill's status and the end of its stderr
failed=$(grep -A1 '^annotate.py: error: the job failed: newsmill exited with status' "$tmp/spark.log" || true)
[[ $failed == *--no-such-flag* ]] ||
  { tail -40 "$tmp/spark.log" >&2; echo "spark-test: the failure does not name newsmill's error" >&2; exit 1; }
[ ! -e "$tmp/failout/annotated/_SUCCESS" ] ||
  { echo "spark-test: a failed job left a complete output ($tmp/failout/annotated/_SUCCESS)" >&2; exit 1; }
echo "spark-test: a failing newsmill command fails the job: ${failed//$'\n'/ }" >&2

plain_s=$(secs "$t0" "$t1")
spark_s=$(secs "$t2" "$t3")
rate() { python3 -c "import sys; print(f'{200 / float(sys.argv[1]):.2f}')" "$1"; }
echo "spark-test: plain newsmill annotate: 200 articles in ${plain_s} s = $(rate "$plain_s") art/s" >&2
echo "spark-test: Spark local[2], whole spark-submit (JVM start included): 200 articles in ${spark_s} s = $(rate "$spark_s") art/s" >&2
echo "spark-test: model load per partition (bundle, newsmill annotate on empty input, 3 runs): ${load[*]} s" >&2
echo "spark-test: ok ($(( $(date +%s) - started )) s)" >&2
