#!/usr/bin/env bash
# The bundle test (issue 14, run by scripts/test.sh): builds the relocatable bundle, unpacks it
# into a temporary folder and annotates the example corpus with it, HOME pointed at an empty
# folder, PATH reduced to /usr/bin:/bin and no other environment (no NEWSMILL_MODELS, no
# LD_LIBRARY_PATH): the bundle must hold everything. Its records must equal those of the
# development binary with the same models. Leaves the archive in target/bundle/ (the Spark test
# ships it).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
t0=$(date +%s)
mkdir -p target/bundle
scripts/bundle.sh target/bundle | tee target/bundle/bundle.log >&2
archive=$(sed -n 's/^bundle: \(.*\.tar\.gz\)$/\1/p' target/bundle/bundle.log)
eval "$(scripts/setup.sh)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/home" "$tmp/unpacked"
tar -xzf "$archive" -C "$tmp/unpacked"
nm=$(echo "$tmp"/unpacked/*/newsmill)
clean() { (cd "$tmp" && env -i HOME="$tmp/home" PATH=/usr/bin:/bin "$@"); }

# every library from the bundle, none from this machine's cache
if clean ldd "$nm" | grep -E "not found|\.cache/newsmill|$LIBTORCH"; then
  echo "bundle-test: FAIL: libraries resolve outside the bundle" >&2; exit 1
fi
clean "$nm" --version | tee "$tmp/version" >&2
grep -q "^newsmill " "$tmp/version" && grep -q "^libtorch 2\." "$tmp/version" &&
  grep -q "^models (joint): joint@[0-9a-f]\{16\}" "$tmp/version" ||
  { echo "bundle-test: FAIL: --version" >&2; exit 1; }

cp examples/articles.jsonl "$tmp/articles.jsonl"
clean "$nm" annotate articles.jsonl -o out.jsonl -q
target/release/newsmill annotate examples/articles.jsonl -q > "$tmp/dev.jsonl"
if ! cmp -s "$tmp/out.jsonl" "$tmp/dev.jsonl"; then
  echo "bundle-test: FAIL: the bundle's records differ from the development binary's" >&2
  diff <(head -c 2000 "$tmp/out.jsonl") <(head -c 2000 "$tmp/dev.jsonl") >&2 || true
  exit 1
fi
# the records name the bundle's models, as --version does, and the precision they ran in
hash=$(sed -n 's/^models (joint): \(joint@[0-9a-f]*\).*/\1/p' "$tmp/version")
grep -q "\"ner\":\"$hash#ner:\(int8\|fp32\)\"" "$tmp/out.jsonl" ||
  { echo "bundle-test: FAIL: records do not name $hash" >&2; exit 1; }
echo "bundle-test: ok: $(wc -l < "$tmp/out.jsonl") records from the unpacked bundle ($(( $(date +%s) - t0 )) s)" >&2
