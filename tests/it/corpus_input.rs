//! Corpus-scale input (issue 14): several inputs in one run (files, folders, globs), gzip and
//! zstd JSONL told by magic bytes, corrupt streams that end in an error naming the file and the
//! byte offset (never a hang or a silently short output), `--resume` over several inputs.
//! Tiny random models: these test the reading, not the models.

use crate::common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::{newsmill, tiny_models};
use serde_json::Value;

fn corpus(from: usize, n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for i in from..from + n {
        let text = format!("Putin met Kim in Moscow on day {i}. The visit was good.");
        writeln!(
            out,
            "{}",
            serde_json::json!({"id": format!("a{i}"), "text": text})
        )
        .unwrap();
    }
    out
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::stream::encode_all(data, 3).unwrap()
}

/// `newsmill annotate ARGS... -q --models TINY --job-articles 4`, at most 60 s.
fn annotate(args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_newsmill"));
    c.env_remove("NEWSMILL_MODELS")
        .arg("annotate")
        .args(args)
        .args(["-q", "--models", tiny_models().to_str().unwrap()])
        .args(["--job-articles", "4"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // the output is read while the child runs (a full pipe must not stall it)
    let child = c.spawn().unwrap();
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(out) => out.unwrap(),
        Err(_) => {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            panic!("newsmill {args:?} still running after 60 s (a hang)");
        }
    }
}

fn records(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn ids(out: &Output) -> Vec<String> {
    records(out)
        .iter()
        .map(|r| r["id"].as_str().unwrap_or("null").to_string())
        .collect()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn gzip_and_zstd_inputs_give_the_plain_output_by_extension_and_by_magic_bytes() {
    let d = tempfile::tempdir().unwrap();
    let plain = corpus(0, 10);
    let half = plain.len() / 2;
    let cut = half + plain[half..].iter().position(|&b| b == b'\n').unwrap() + 1;
    let mut two_members = gzip(&plain[..cut]);
    two_members.extend(gzip(&plain[cut..]));
    let mut two_frames = zstd(&plain[..cut]);
    two_frames.extend(zstd(&plain[cut..]));
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("plain.jsonl", plain.clone()),
        ("c.jsonl.gz", gzip(&plain)),
        ("c.jsonl.zst", zstd(&plain)),
        ("gzip-without-extension.jsonl", gzip(&plain)),
        ("zstd-without-extension", zstd(&plain)),
        ("members.jsonl.gz", two_members),
        ("frames.jsonl.zst", two_frames),
    ];
    let mut want = None;
    for (name, bytes) in &files {
        let f = d.path().join(name);
        std::fs::write(&f, bytes).unwrap();
        let out = annotate(&[p(&f)]);
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        let want = want.get_or_insert_with(|| out.stdout.clone());
        assert_eq!(
            &out.stdout, want,
            "{name}: output differs from the plain file's"
        );
    }
    // stdin: told by magic bytes too
    let out = newsmill(
        &[
            "annotate",
            "-",
            "-q",
            "--models",
            p(tiny_models()),
            "--job-articles",
            "4",
        ],
        Some(&zstd(&plain)),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(Some(&out.stdout), want.as_ref());
}

#[test]
fn corrupt_streams_end_in_an_error_naming_the_file_and_byte_offset() {
    let d = tempfile::tempdir().unwrap();
    let plain = corpus(0, 400);
    let gz = gzip(&plain);
    let zst = zstd(&plain);
    let mut flipped = gz.clone();
    let mid = flipped.len() / 2;
    for b in &mut flipped[mid..mid + 64] {
        *b ^= 0x5a;
    }
    let mut bad_member = gzip(&corpus(0, 3));
    bad_member.extend_from_slice(b"\x1f\x8b\x08\x00garbage that is no deflate stream at all");
    let mut trailing = gzip(&corpus(0, 3));
    trailing.extend_from_slice(b"not gzip");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("truncated.jsonl.gz", gz[..gz.len() * 2 / 3].to_vec()),
        ("no-trailer.jsonl.gz", gz[..gz.len() - 4].to_vec()),
        ("flipped.jsonl.gz", flipped),
        ("bad-member.jsonl.gz", bad_member),
        ("trailing.jsonl.gz", trailing),
        ("truncated.jsonl.zst", zst[..zst.len() * 2 / 3].to_vec()),
        ("no-checksum.jsonl.zst", zst[..zst.len() - 3].to_vec()),
    ];
    for (name, bytes) in cases {
        let f = d.path().join(name);
        std::fs::write(&f, &bytes).unwrap();
        let out = annotate(&[p(&f)]);
        let code = out.status.code();
        if code == Some(1) {
            // a run error: said, naming the file and the offset
            let e = stderr(&out);
            assert!(
                e.contains(name) && e.contains("compressed byte"),
                "{name}: {e}"
            );
            continue;
        }
        assert_eq!(code, Some(2), "{name}: {}", stderr(&out));
        let recs = records(&out);
        let last = recs.last().unwrap();
        assert_eq!(last["error"]["kind"], "io", "{name}: {last}");
        let msg = last["error"]["message"].as_str().unwrap();
        assert!(
            msg.contains(name) && msg.contains("compressed byte"),
            "{name}: {msg}"
        );
        // flipped bytes inside a deflate block can decode to garbled lines (error records of
        // their own) before the CRC or the decoder notices; cut streams cannot
        if name != "flipped.jsonl.gz" {
            assert!(
                recs[..recs.len() - 1]
                    .iter()
                    .all(|r| r.get("error").is_none()),
                "{name}: the records before the corruption are annotated"
            );
        }
        assert!(recs.len() < 402, "{name}");
    }
    // a file named .gz that is not gzip data is refused, not read as text
    let f = d.path().join("plain-named.jsonl.gz");
    std::fs::write(&f, &plain).unwrap();
    let out = annotate(&[p(&f)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("plain-named.jsonl.gz"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn several_inputs_and_globs_are_one_corpus_in_order() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("in");
    std::fs::create_dir_all(dir.join("txt")).unwrap();
    std::fs::write(dir.join("b.jsonl"), corpus(3, 2)).unwrap();
    let mut a = corpus(0, 3);
    a.extend_from_slice(b"{broken\n");
    std::fs::write(dir.join("a.jsonl"), &a).unwrap();
    std::fs::write(dir.join("c.jsonl.gz"), gzip(&corpus(5, 2))).unwrap();
    std::fs::write(dir.join("txt/x.txt"), "Kim went to Moscow.").unwrap();

    // files, a folder, a compressed file, in the order given
    let out = annotate(&[
        p(&dir.join("b.jsonl")),
        p(&dir.join("txt")),
        p(&dir.join("a.jsonl")),
        p(&dir.join("c.jsonl.gz")),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(
        ids(&out),
        ["a3", "a4", "x", "a0", "a1", "a2", "null", "a5", "a6"]
    );
    let bad = &records(&out)[6];
    assert_eq!(bad["error"]["kind"], "invalid_json");
    let rec = bad["record"].as_str().unwrap();
    assert!(rec.ends_with("a.jsonl line 4"), "{rec}");

    // a quoted glob is expanded here, sorted; the same corpus as the shell's expansion
    let pattern = format!("{}/*.jsonl*", dir.display());
    let out = annotate(&[&pattern]);
    assert_eq!(
        ids(&out),
        ["a0", "a1", "a2", "null", "a3", "a4", "a5", "a6"]
    );
    // a pattern that matches nothing is a run error
    let out = annotate(&[&format!("{}/*.nothing", dir.display())]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("matches no file"), "{}", stderr(&out));
    // a later input that is missing: refused before anything runs
    let out = annotate(&[p(&dir.join("a.jsonl")), p(&dir.join("gone.jsonl"))]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("gone.jsonl"));
    // a later input corrupt from its first bytes: an error record naming it, the rest read
    std::fs::write(
        dir.join("z.jsonl.gz"),
        b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03garbage",
    )
    .unwrap();
    let out = annotate(&[
        p(&dir.join("b.jsonl")),
        p(&dir.join("z.jsonl.gz")),
        p(&dir.join("c.jsonl.gz")),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(ids(&out), ["a3", "a4", "null", "a5", "a6"]);
    let msg = records(&out)[2]["error"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(msg.contains("z.jsonl.gz"), "{msg}");
}

#[test]
fn resume_works_over_several_inputs_and_refuses_another_list() {
    let d = tempfile::tempdir().unwrap();
    let (a, b) = (d.path().join("a.jsonl"), d.path().join("b.jsonl.gz"));
    std::fs::write(&a, corpus(0, 9)).unwrap();
    std::fs::write(&b, gzip(&corpus(9, 9))).unwrap();
    let out_path = d.path().join("out.jsonl");
    let o = p(&out_path);
    let full = annotate(&[p(&a), p(&b), "-o", o]);
    assert!(full.status.success(), "{}", stderr(&full));
    let whole = std::fs::read(&out_path).unwrap();
    assert_eq!(whole.iter().filter(|&&x| x == b'\n').count(), 18);
    // cut into the second input, with a torn last line, as a killed run leaves it
    let keep: usize = whole
        .split_inclusive(|&x| x == b'\n')
        .take(12)
        .map(<[u8]>::len)
        .sum();
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&out_path)
        .unwrap();
    f.set_len(keep as u64 + 10).unwrap();
    drop(f);
    // another list of inputs is refused, nothing changed
    let other = annotate(&[p(&b), p(&a), "-o", o, "--resume"]);
    assert_eq!(other.status.code(), Some(1), "{}", stderr(&other));
    assert!(stderr(&other).contains("input"), "{}", stderr(&other));
    assert_eq!(
        std::fs::metadata(&out_path).unwrap().len(),
        keep as u64 + 10
    );
    let resumed = annotate(&[p(&a), p(&b), "-o", o, "--resume"]);
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    assert_eq!(std::fs::read(&out_path).unwrap(), whole);
}
