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

// Issue 22: `report -o` and `export -o` are as safe as `annotate -o` (one output path for all).

/// A character device like /dev/null (made with mknod; as root only). `None` when it cannot
/// be made here.
fn device_node(at: &std::path::Path) -> Option<()> {
    let c = std::ffi::CString::new(at.to_str()?).ok()?;
    // SAFETY: mknod with a valid C string; makes a node or fails.
    let rc = unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR | 0o666, libc::makedev(1, 3)) };
    (rc == 0).then_some(())
}

fn is_char_device(p: &std::path::Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_char_device())
}

#[test]
fn an_output_that_is_a_device_node_is_written_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let node = dir.path().join("n");
    if device_node(&node).is_none() {
        eprintln!("skipped: mknod needs root");
        return;
    }
    let input = fixture("examples.annotated.jsonl");
    let (i, n) = (input.to_str().unwrap(), node.to_str().unwrap());
    for args in [
        vec!["report", i, "-o", n],
        vec!["export", i, "--table", "entities", "-o", n],
        vec![
            "export", i, "--table", "articles", "-o", n, "--format", "parquet",
        ],
    ] {
        let out = newsmill(&args);
        assert!(out.status.success(), "{args:?}: {out:?}");
        assert!(is_char_device(&node), "{args:?} replaced the device node");
    }
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "nothing but the node: {leftovers:?}");
}

#[test]
fn report_and_export_refuse_their_own_input_through_any_link() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    std::fs::copy(fixture("examples.annotated.jsonl"), &input).unwrap();
    let before = std::fs::read(&input).unwrap();
    let sym = dir.path().join("sym.jsonl");
    let hard = dir.path().join("hard.jsonl");
    std::os::unix::fs::symlink(&input, &sym).unwrap();
    std::fs::hard_link(&input, &hard).unwrap();
    let i = input.to_str().unwrap();
    for out in [&input, &sym, &hard] {
        let o = out.to_str().unwrap();
        for args in [
            vec!["report", i, "-o", o],
            vec!["export", i, "--table", "entities", "-o", o],
        ] {
            let res = newsmill(&args);
            assert_eq!(res.status.code(), Some(1), "{args:?}");
            let err = String::from_utf8_lossy(&res.stderr);
            assert!(err.contains("is the input itself"), "{args:?}: {err}");
            assert_eq!(std::fs::read(&input).unwrap(), before, "{args:?}");
        }
    }
}

#[test]
fn a_second_export_on_the_same_output_fails_fast() {
    use std::os::fd::AsRawFd;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("t.csv");
    // a run in progress holds the lock beside its output
    let lock = std::fs::File::create(dir.path().join("t.csv.newsmill.json")).unwrap();
    // SAFETY: flock on a file descriptor we own.
    assert_eq!(
        unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) },
        0
    );
    let input = fixture("examples.annotated.jsonl");
    for args in [
        vec!["export", input.to_str().unwrap(), "--table", "entities"],
        vec!["report", input.to_str().unwrap()],
    ] {
        let mut args = args.clone();
        args.extend(["-o", out.to_str().unwrap()]);
        let res = newsmill(&args);
        assert_eq!(res.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&res.stderr);
        assert!(err.contains("another newsmill run is writing"), "{err}");
        assert!(!out.exists());
        assert!(!dir.path().join("t.csv.newsmill-partial").exists());
    }
    drop(lock);
    let res = newsmill(&[
        "export",
        input.to_str().unwrap(),
        "--table",
        "entities",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(res.status.success(), "{res:?}");
    // the lock file this run made is gone again, the one the test made stays
    assert!(out.exists());
}

#[test]
fn dash_is_stdout_for_report_too() {
    let dir = tempfile::tempdir().unwrap();
    let input = fixture("examples.annotated.jsonl");
    let out = Command::new(env!("CARGO_BIN_EXE_newsmill"))
        .args(["report", input.to_str().unwrap(), "-o", "-", "-q"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(out.stdout.starts_with(b"<!DOCTYPE html>"));
    assert!(!dir.path().join("-").exists(), "no file named -");
}

#[test]
fn a_closed_pipe_ends_export_quietly() {
    use std::os::unix::process::ExitStatusExt;
    let input = fixture("examples.annotated.jsonl");
    let mut child = Command::new(env!("CARGO_BIN_EXE_newsmill"))
        .args([
            "export",
            input.to_str().unwrap(),
            "--table",
            "entities",
            "-o",
            "-",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader goes away before anything is written
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.signal(), Some(libc::SIGPIPE), "{out:?}");
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_closed_stderr_does_not_fail_a_run() {
    let dir = tempfile::tempdir().unwrap();
    let input = fixture("examples.annotated.jsonl");
    let html = dir.path().join("r.html");
    let mut child = Command::new(env!("CARGO_BIN_EXE_newsmill"))
        .args([
            "report",
            input.to_str().unwrap(),
            "-o",
            html.to_str().unwrap(),
        ])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take()); // the summary line goes to a pipe nobody reads
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(std::fs::read(&html)
        .unwrap()
        .starts_with(b"<!DOCTYPE html>"));
    // and with stderr closed outright
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "'{}' report '{}' -o '{}' 2>&-",
            env!("CARGO_BIN_EXE_newsmill"),
            input.display(),
            dir.path().join("r2.html").display()
        ))
        .status()
        .unwrap();
    assert!(status.success(), "{status:?}");
    assert!(dir.path().join("r2.html").exists());
}

#[test]
fn csv_cells_that_a_spreadsheet_would_run_are_escaped() {
    let dir = tempfile::tempdir().unwrap();
    // one record of the fixture with hostile id, title and entity text
    let line = std::fs::read_to_string(fixture("examples.annotated.jsonl")).unwrap();
    let mut rec: serde_json::Value = serde_json::from_str(line.lines().next().unwrap()).unwrap();
    rec["id"] = "=HYPERLINK(\"http://x.test\",\"y\")".into();
    rec["title"] = "+1 title".into();
    rec["entities"][0]["text"] = "@SUM(A1)".into();
    rec["entities"][1]["text"] = "-2+3".into();
    let input = dir.path().join("in.jsonl");
    std::fs::write(&input, format!("{rec}\n")).unwrap();
    let export = |table: &str, extra: &[&str]| {
        let mut args = vec![
            "export",
            input.to_str().unwrap(),
            "--table",
            table,
            "-o",
            "-",
        ];
        args.extend_from_slice(extra);
        let out = newsmill(&args);
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let articles = export("articles", &[]);
    assert!(
        articles.contains("\"'=HYPERLINK(\"\"http://x.test\"\",\"\"y\"\")\""),
        "{articles}"
    );
    assert!(articles.contains(",'+1 title,"), "{articles}");
    let entities = export("entities", &[]);
    assert!(entities.contains(",'@SUM(A1),"), "{entities}");
    assert!(entities.contains(",'-2+3,"), "{entities}");
    // numbers are numbers: a negative score would stay as it is (none starts with a quote)
    for line in entities.lines().skip(1) {
        assert!(!line.contains(",'0") && !line.contains(",'-0"), "{line}");
    }
    let kept = export("entities", &["--csv-formulas", "keep"]);
    assert!(kept.contains(",@SUM(A1),"), "{kept}");
}
