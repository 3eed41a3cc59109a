//! `newsmill report` and `newsmill export` from the command line (no models needed): files
//! written, bad lines listed rather than fatal, `--report` refused without `-o FILE`.

use std::path::PathBuf;
use std::process::Command;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("crates/newsmill-report/tests/data")
        .join(name)
}

fn newsmill(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_newsmill"))
        .args(args)
        .output()
        .expect("run newsmill")
}

#[test]
fn report_and_export_write_files() {
    let dir = tempfile::tempdir().unwrap();
    let input = fixture("hostile.jsonl");
    let html = dir.path().join("r.html");
    let out = newsmill(&[
        "report",
        input.to_str().unwrap(),
        "-o",
        html.to_str().unwrap(),
        "--max-articles",
        "1",
    ]);
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("2 articles (1 shown in full; 1 left out"),
        "{stderr}"
    );
    assert!(
        stderr.contains("1 error records, 2 unreadable lines"),
        "{stderr}"
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(!dir.path().join("r.html.newsmill-partial").exists());

    for (table, file, rows) in [
        ("articles", "a.parquet", 5),
        ("entities", "e.csv", 8),
        ("actors", "x.parquet", 7),
        ("sentences", "s.csv", 6),
    ] {
        let path = dir.path().join(file);
        let out = newsmill(&[
            "export",
            input.to_str().unwrap(),
            "--table",
            table,
            "-o",
            path.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!("{rows} rows from 5 records")),
            "{table}: {stderr}"
        );
        let bytes = std::fs::read(&path).unwrap();
        if file.ends_with(".parquet") {
            assert_eq!(&bytes[..4], b"PAR1", "{file} is Parquet");
        } else {
            assert!(bytes.starts_with(b"article_id,"), "{file} is CSV");
        }
    }
}

#[test]
fn bad_arguments_fail_with_status_1() {
    let out = newsmill(&["report", "missing.jsonl", "-o", "/nonexistent-dir/r.html"]);
    assert_eq!(out.status.code(), Some(1));
    let examples = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/articles.jsonl");
    let out = newsmill(&["annotate", examples, "--report", "r.html"]);
    assert_eq!(out.status.code(), Some(1), "--report without -o");
    let out = newsmill(&["annotate", examples, "-o", "-", "--report", "r.html"]);
    assert_eq!(out.status.code(), Some(1), "--report with -o -");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--report needs -o FILE"));
}
