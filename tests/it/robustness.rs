//! Corpus-scale robustness: kill -9 and resume, Ctrl-C, a 10 MB article, memory that does not
//! grow with the corpus. Tiny random models: these test the engine, not the models.

use crate::common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{newsmill, tiny_models};

/// `n` articles of `sentences` sentences; two in three end with a line of site furniture that
/// no phrase rule knows, so whether it is boilerplate depends on how many articles of its job
/// share it (page roles).
fn write_corpus(path: &Path, n: usize, sentences: usize) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for i in 0..n {
        let mut text: String = (0..sentences)
            .map(|k| {
                format!(
                    "Putin met Kim in Moscow on day {i} and said the visit number {k} was good. "
                )
            })
            .collect();
        if i % 3 != 0 {
            text.push_str("\nThe Harbour Gazette Evening Edition serving the whole bay area");
        }
        writeln!(
            f,
            "{}",
            serde_json::json!({"id": format!("a{i}"), "text": text})
        )
        .unwrap();
    }
}

fn annotate_cmd(input: &Path, output: &Path, extra: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_newsmill"));
    c.args([
        "annotate",
        input.to_str().unwrap(),
        "-o",
        output.to_str().unwrap(),
        "-q",
    ])
    .args([
        "--models",
        tiny_models().to_str().unwrap(),
        "--job-articles",
        "4",
    ])
    .args(extra)
    .env_remove("NEWSMILL_MODELS")
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    c
}

/// Waits (at most 60 s) until `path` holds at least `lines` newlines.
fn wait_for_lines(path: &Path, lines: usize) {
    let t0 = Instant::now();
    loop {
        let n = std::fs::read(path)
            .map(|b| b.iter().filter(|&&c| c == b'\n').count())
            .unwrap_or(0);
        if n >= lines {
            return;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "no progress in 60 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn kill_9_then_resume_equals_an_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    write_corpus(&input, 240, 6);
    let reference = dir.path().join("ref.jsonl");
    let st = annotate_cmd(&input, &reference, &[]).status().unwrap();
    assert!(st.success());
    let expected = std::fs::read_to_string(&reference).unwrap();
    assert_eq!(expected.lines().count(), 240);
    // jobs of 4: the furniture line is shared by 2 articles in some jobs (body) and by 3 in
    // others (boilerplate), so a resume that cut other jobs would change roles
    let roles: Vec<String> = expected
        .lines()
        .filter_map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["sentences"].as_array().unwrap().last().cloned()
        })
        .map(|s| s["role"].as_str().unwrap().to_string())
        .collect();
    assert!(roles.iter().any(|r| r == "boilerplate"));
    assert!(roles.iter().filter(|r| *r == "body").count() > 80);

    let out = dir.path().join("out.jsonl");
    std::fs::write(&out, "an earlier output\n").unwrap();
    // records go to OUT.newsmill-partial until the run finishes
    let work = dir.path().join("out.jsonl.newsmill-partial");
    let mut child = annotate_cmd(&input, &out, &[]).spawn().unwrap();
    wait_for_lines(&work, 30);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "an earlier output\n",
        "a killed run leaves the old output as it was"
    );
    // simulate the worst case too: a torn last line
    let mut partial = std::fs::read(&work).unwrap();
    let written = partial.iter().filter(|&&c| c == b'\n').count();
    assert!(written < 240, "killed before the end");
    partial.extend_from_slice(b"{\"schema_version\": \"1.1\", \"id\": \"a");
    std::fs::write(&work, &partial).unwrap();

    let res = annotate_cmd(&input, &out, &["--resume"]).output().unwrap();
    assert!(
        res.status.success(),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        expected,
        "no duplicate, no loss, same bytes"
    );
    assert!(
        !work.exists(),
        "the finished partial output replaced the output"
    );
    // resuming a finished run writes nothing more
    let again = annotate_cmd(&input, &out, &["--resume"]).output().unwrap();
    assert!(again.status.success());
    assert_eq!(std::fs::read_to_string(&out).unwrap(), expected);
}

#[test]
fn resume_refuses_another_input() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, out) = (
        dir.path().join("a.jsonl"),
        dir.path().join("b.jsonl"),
        dir.path().join("o.jsonl"),
    );
    write_corpus(&a, 8, 1);
    std::fs::write(
        &b,
        (0..8)
            .map(|i| format!("{{\"id\": \"other{i}\", \"text\": \"x\"}}\n"))
            .collect::<String>(),
    )
    .unwrap();
    assert!(annotate_cmd(&a, &out, &[]).status().unwrap().success());
    let res = annotate_cmd(&b, &out, &["--resume"]).output().unwrap();
    assert_eq!(res.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&res.stderr).contains("not the same input"));
}

#[test]
fn ctrl_c_flushes_complete_lines_and_resume_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    write_corpus(&input, 400, 6);
    let out = dir.path().join("out.jsonl");
    let work = dir.path().join("out.jsonl.newsmill-partial");
    let child = annotate_cmd(&input, &out, &[]).spawn().unwrap();
    wait_for_lines(&work, 20);
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap()
        .success());
    let res = child.wait_with_output().unwrap();
    assert_eq!(
        res.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    assert!(String::from_utf8_lossy(&res.stderr).contains("--resume"));
    assert!(
        !out.exists(),
        "an interrupted run does not create the output"
    );
    let text = std::fs::read_to_string(&work).unwrap();
    assert!(text.ends_with('\n'), "everything written is complete lines");
    let n = text.lines().count();
    assert!(n < 400);
    for l in text.lines() {
        serde_json::from_str::<serde_json::Value>(l).unwrap();
    }
    let res = annotate_cmd(&input, &out, &["--resume"]).output().unwrap();
    assert!(res.status.success());
    let ids: Vec<String> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(ids, (0..400).map(|i| format!("a{i}")).collect::<Vec<_>>());
}

#[test]
fn ten_megabyte_article() {
    let sentence = "Putin met Kim in Moscow and the visit was good. ";
    let mut text = sentence.repeat(10_000_000 / sentence.len());
    text.push_str(&"x".repeat(5000)); // one very long word too
    let input = serde_json::json!({"id": "big", "text": text}).to_string()
        + "\n{\"id\": \"small\", \"text\": \"Fine.\"}\n";
    let out = newsmill(
        &[
            "annotate",
            "-",
            "--models",
            tiny_models().to_str().unwrap(),
            "-q",
            "--tasks",
            "ner",
            "--no-text",
        ],
        Some(input.as_bytes()),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(
        lines[0]["chars"].as_u64().unwrap() as usize,
        text.chars().count()
    );
    assert!(lines[0]["sentences"].as_array().unwrap().len() > 200_000);
    assert_eq!(lines[1]["id"], "small");
}

/// Peak RSS from the run summary newsmill prints on stderr.
fn peak_rss(stderr: &[u8]) -> f64 {
    let s = String::from_utf8_lossy(stderr);
    let at = s.find("peak RSS ").expect("summary line has peak RSS") + "peak RSS ".len();
    s[at..].split_whitespace().next().unwrap().parse().unwrap()
}

#[test]
fn peak_memory_flat_when_the_corpus_grows_tenfold() {
    let dir = tempfile::tempdir().unwrap();
    let mut rss = Vec::new();
    for n in [400usize, 4000] {
        let input = dir.path().join(format!("c{n}.jsonl"));
        write_corpus(&input, n, 3);
        let out = Command::new(env!("CARGO_BIN_EXE_newsmill"))
            .args([
                "annotate",
                input.to_str().unwrap(),
                "-o",
                "/dev/null",
                "--tasks",
                "ner",
                "--models",
                tiny_models().to_str().unwrap(),
            ])
            .env_remove("NEWSMILL_MODELS")
            .output()
            .unwrap();
        assert!(out.status.success());
        rss.push(peak_rss(&out.stderr));
    }
    eprintln!(
        "peak RSS: {:.0} MiB (400 articles), {:.0} MiB (4000 articles)",
        rss[0], rss[1]
    );
    assert!(
        rss[1] < rss[0] * 1.25 + 16.0,
        "peak RSS grew from {} to {} MiB",
        rss[0],
        rss[1]
    );
}
