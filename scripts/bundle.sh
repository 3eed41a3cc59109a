#!/usr/bin/env bash
# Writes the relocatable bundle newsmill-<version>-linux-x86_64.tar.gz (README "Run on a
# cluster"): the stripped release binary with the run path $ORIGIN/lib, exactly the shared
# libraries it loads from the lean libtorch folder (real files, not links), the default models
# as ready Hugging Face folders (models/joint/), and a README. It needs no Rust, no Python and
# no ~/.cache/newsmill where it runs: only the system's glibc and libstdc++, at least the
# versions the binary's symbols name (printed below; glibc 2.34 and GLIBCXX_3.4.29, i.e. GCC 11,
# when built on Ubuntu 22.04).
#
#   scripts/bundle.sh [OUT_DIR]        # default OUT_DIR: target/bundle
#
# Prints the archive's path, its size and its unpacked size. Builds the release binary first.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out_dir=$(mkdir -p "${1:-target/bundle}" && cd "${1:-target/bundle}" && pwd)
eval "$(scripts/setup.sh)"
[ -n "${NEWSMILL_MODELS:-}" ] || { echo "bundle: no default models (NEWSMILL_MODELS)" >&2; exit 1; }

# the targets `cargo test` builds (same features: a bin-only build would resolve features
# differently and rebuild rust-bert and its dependencies)
cargo build --release --quiet --workspace --all-targets
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
name="newsmill-$version-linux-x86_64"
stage="$out_dir/$name"
rm -rf "$stage" "$out_dir/$name.tar.gz"
mkdir -p "$stage/lib" "$stage/models"

# the binary: stripped, its run path $ORIGIN/lib instead of the build machine's libtorch folder
cp target/release/newsmill "$stage/newsmill"
strip "$stage/newsmill"
python3 scripts/set-runpath.py "$stage/newsmill" '$ORIGIN/lib'

# the libraries: what the binary loads, transitively, from the libtorch folder or the Python
# environment behind its links (libtorch_cpu, libc10, libgomp, and the two small CUDA runtime
# libraries libtorch_cpu links; libtorch_cpu finds them beside itself through its $ORIGIN rpath)
cache_real=$(readlink -f "${NEWSMILL_CACHE:-$HOME/.cache/newsmill}")
env -u LD_LIBRARY_PATH ldd target/release/newsmill | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}' |
  while read -r soname path; do
    real=$(readlink -f "$path")
    case "$real" in
      "$cache_real"/*|"$(readlink -f "$LIBTORCH")"/*) cp "$real" "$stage/lib/$soname" ;;
    esac
  done
chmod 755 "$stage"/lib/*

# the default models, as plain files
cp -rL "$NEWSMILL_MODELS"/. "$stage/models/"
rm -f "$stage/models/.complete"

# check: every library resolves inside the bundle, none from the build machine's cache
missing=$(cd /tmp && env -i PATH=/usr/bin:/bin ldd "$stage/newsmill" | grep -E "not found|$cache_real" || true)
if [ -n "$missing" ]; then
  echo "bundle: the binary does not resolve its libraries inside the bundle:" >&2
  echo "$missing" >&2
  exit 1
fi

libtorch=$("$stage/newsmill" --version | sed -n 's/^libtorch //p')
models=$("$stage/newsmill" --version | sed -n 's/^models (joint): \([^ ]*\).*/\1/p')
# the newest symbol versions the bundle asks of the system's glibc and libstdc++
newest() { for f in "$stage/newsmill" "$stage"/lib/*; do objdump -T "$f"; done |
  grep -oE "\b$1_[0-9][0-9.]*" | sort -u | sort -V | tail -1; }
glibc=$(newest GLIBC)
glibcxx=$(newest GLIBCXX)
cat > "$stage/README.md" <<EOF
# $name

newsmill $version (libtorch $libtorch CPU, default models $models), relocatable: unpack it
anywhere and run \`./newsmill\`. It needs no Rust, no Python and no \`~/.cache/newsmill\`; only
the system's glibc and libstdc++, with the symbol versions $glibc and $glibcxx (Ubuntu 22.04,
Debian 12 and later have them).

    ./newsmill annotate corpus.jsonl.gz -o annotated.jsonl
    ./newsmill --version

- \`newsmill\`: the binary; its run path is \`\$ORIGIN/lib\`, so it finds \`lib/\` beside it
  wherever the folder is.
- \`lib/\`: libtorch_cpu, libc10, libgomp and the two CUDA runtime libraries libtorch_cpu links
  at load time (libcudart, libcupti; nothing else of CUDA; the binary runs on the CPU).
- \`models/\`: the default joint checkpoint as a Hugging Face folder. It is the default when
  neither \`--models\` nor \`\$NEWSMILL_MODELS\` names another.

Options, input and output formats: the project README and docs/output.md. On Spark: the
project's examples/spark/annotate.py ships this archive with \`--archives\`.
EOF

(cd "$out_dir" && tar -czf "$name.tar.gz" "$name")
packed=$(stat -c %s "$out_dir/$name.tar.gz")
unpacked=$(du -sb "$stage" | cut -f1)
echo "bundle: $out_dir/$name.tar.gz"
echo "bundle: needs $glibc, $glibcxx"
echo "bundle: size $((packed / 1048576)) MiB ($packed bytes), unpacked $((unpacked / 1048576)) MiB ($unpacked bytes)"
