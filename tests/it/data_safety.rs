//! Never lose a user's data (issue 11): the output is replaced only when a run finishes, the
//! input is never the output, one run per output, `--resume` refuses what it cannot check,
//! reads and writes that fail end the run, signals, folders with loops and FIFOs, exit codes.
//! Tiny random models: these test the edges, not the models.

use crate::common;

use std::io::{Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::tiny_models;
use serde_json::Value;

fn write_corpus(path: &Path, n: usize, sentences: usize) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for i in 0..n {
        let text: String = (0..sentences)
            .map(|k| format!("Putin met Kim in Moscow on day {i} and the visit {k} was good. "))
            .collect();
        writeln!(
            f,
            "{}",
            serde_json::json!({"id": format!("a{i}"), "text": text})
        )
        .unwrap();
    }
}

fn nm() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_newsmill"));
    c.env_remove("NEWSMILL_MODELS")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

/// `newsmill annotate INPUT -q --models TINY --job-articles 4 EXTRA...`
fn annotate(input: &Path, extra: &[&str]) -> Command {
    annotate_jobs(input, 4, extra)
}

/// `newsmill annotate INPUT -q --models TINY --job-articles JOB EXTRA...`
fn annotate_jobs(input: &Path, job: usize, extra: &[&str]) -> Command {
    let mut c = nm();
    c.arg("annotate")
        .arg(input)
        .args(["-q", "--models", tiny_models().to_str().unwrap()])
        .args(["--job-articles", &job.to_string()])
        .args(extra);
    c
}

/// Waits for `child` at most `secs` seconds (killing it and failing past that).
fn wait_at_most(mut child: Child, secs: u64) -> Output {
    let t0 = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if t0.elapsed() > Duration::from_secs(secs) {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "still running after {secs} s; stderr: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn run(mut cmd: Command, secs: u64) -> Output {
    wait_at_most(cmd.spawn().unwrap(), secs)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn lines_of(path: &Path) -> usize {
    std::fs::read(path)
        .map(|b| b.iter().filter(|&&c| c == b'\n').count())
        .unwrap_or(0)
}

/// Waits (at most 60 s) until `path` holds at least `lines` newlines.
fn wait_for_lines(path: &Path, lines: usize) {
    let t0 = Instant::now();
    while lines_of(path) < lines {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "no progress in 60 s"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn partial_of(out: &Path) -> PathBuf {
    let mut s = out.as_os_str().to_owned();
    s.push(".newsmill-partial");
    PathBuf::from(s)
}

fn records(bytes: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn kill(pid: u32, sig: &str) {
    assert!(Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .unwrap()
        .success());
}

// 1 ------------------------------------------------------------------------------------------

#[test]
fn an_output_that_is_the_input_is_refused_through_any_link() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("s.jsonl");
    write_corpus(&input, 3, 1);
    let before = std::fs::read(&input).unwrap();
    std::os::unix::fs::symlink(&input, dir.path().join("sym.jsonl")).unwrap();
    std::fs::hard_link(&input, dir.path().join("hard.jsonl")).unwrap();
    for (inp, out) in [
        ("s.jsonl", "s.jsonl"),
        ("s.jsonl", "sym.jsonl"),
        ("sym.jsonl", "s.jsonl"),
        ("hard.jsonl", "sym.jsonl"),
    ] {
        for extra in [&[][..], &["--resume"][..]] {
            let o = dir.path().join(out);
            let mut args = vec!["-o", o.to_str().unwrap()];
            args.extend_from_slice(extra);
            let res = run(annotate(&dir.path().join(inp), &args), 60);
            assert_eq!(res.status.code(), Some(1), "{inp} -o {out} {extra:?}");
            assert!(
                stderr(&res).contains("is the input itself"),
                "{}",
                stderr(&res)
            );
            assert_eq!(std::fs::read(&input).unwrap(), before, "input untouched");
        }
    }
    // stdin redirected from the output file
    let mut c = annotate(Path::new("-"), &["-o", input.to_str().unwrap()]);
    c.stdin(std::fs::File::open(&input).unwrap());
    let res = run(c, 60);
    assert_eq!(res.status.code(), Some(1), "{}", stderr(&res));
    assert_eq!(std::fs::read(&input).unwrap(), before);
}

#[test]
fn a_failed_run_leaves_the_old_output_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("a.jsonl");
    write_corpus(&input, 3, 1);
    let prev = dir.path().join("prev.jsonl");
    std::fs::write(&prev, "earlier results\n").unwrap();
    // models are checked before the output is touched
    let mut c = nm();
    c.args(["annotate", input.to_str().unwrap(), "-o"])
        .arg(&prev)
        .args(["--models", "/nonexistent"]);
    let res = run(c, 60);
    assert_eq!(res.status.code(), Some(1));
    assert_eq!(std::fs::read_to_string(&prev).unwrap(), "earlier results\n");
    // so is the input
    let res = run(
        annotate(
            &dir.path().join("missing.jsonl"),
            &["-o", prev.to_str().unwrap()],
        ),
        60,
    );
    assert_eq!(res.status.code(), Some(1));
    assert_eq!(std::fs::read_to_string(&prev).unwrap(), "earlier results\n");
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["a.jsonl", "prev.jsonl"],
        "no partial, lock or record left"
    );
}

#[test]
fn the_output_is_replaced_only_when_the_run_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    write_corpus(&input, 300, 4);
    let out = dir.path().join("out.jsonl");
    std::fs::write(&out, "earlier results\n").unwrap();
    // through a symlink: the file it points to is replaced, the link stays
    let link = dir.path().join("link.jsonl");
    std::os::unix::fs::symlink(&out, &link).unwrap();
    let child = annotate(&input, &["-o", link.to_str().unwrap()])
        .spawn()
        .unwrap();
    wait_for_lines(&partial_of(&out), 8);
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "earlier results\n",
        "the old output stays until the run finishes"
    );
    let res = wait_at_most(child, 300);
    assert_eq!(res.status.code(), Some(0), "{}", stderr(&res));
    assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
    let recs = records(&std::fs::read(&out).unwrap());
    assert_eq!(recs.len(), 300);
    assert!(!partial_of(&out).exists());
}

// 2 ------------------------------------------------------------------------------------------

#[test]
fn a_read_error_that_never_clears_ends_the_input_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.jsonl");
    // stdin is a folder: EISDIR on every read
    let mut c = annotate(Path::new("-"), &["-o", out.to_str().unwrap()]);
    c.stdin(std::fs::File::open(dir.path()).unwrap());
    let res = run(c, 60);
    assert_eq!(res.status.code(), Some(1), "{}", stderr(&res));
    assert!(
        stderr(&res).contains("cannot read input"),
        "{}",
        stderr(&res)
    );
    assert!(!out.exists() && !partial_of(&out).exists());
    // a file whose reads fail with EIO
    let res = run(annotate(Path::new("/proc/self/mem"), &[]), 60);
    assert_eq!(res.status.code(), Some(1), "{}", stderr(&res));
    assert!(res.stdout.len() < 10_000, "no endless error records");
}

// 3 ------------------------------------------------------------------------------------------

#[test]
fn folders_with_symlink_loops_fifos_and_upper_case_extensions() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("corpus");
    std::fs::create_dir_all(root.join("sub")).unwrap();
    std::fs::write(root.join("a.txt"), "Putin met Kim.").unwrap();
    std::fs::write(root.join("sub/B.TXT"), "Kim met Putin.").unwrap();
    std::fs::write(root.join("notes.md"), "not read").unwrap();
    std::os::unix::fs::symlink(".", root.join("loop")).unwrap();
    std::os::unix::fs::symlink("..", root.join("sub/up")).unwrap();
    std::os::unix::fs::symlink("/nonexistent", root.join("dangling.md")).unwrap();
    let fifo = root.join("pipe.txt");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let res = run(annotate(&root, &["--tasks", "ner"]), 120);
    assert_eq!(res.status.code(), Some(2), "{}", stderr(&res));
    let recs = records(&res.stdout);
    let ids: Vec<&str> = recs.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["a", "loop", "pipe", "sub/B", "sub/up"], "{recs:?}");
    let kind = |id: &str| {
        recs.iter().find(|r| r["id"] == id).unwrap()["error"]["kind"]
            .as_str()
            .map(str::to_string)
    };
    assert_eq!(kind("a"), None);
    assert_eq!(kind("sub/B"), None);
    assert_eq!(kind("loop").as_deref(), Some("symlink_loop"));
    assert_eq!(kind("sub/up").as_deref(), Some("symlink_loop"));
    assert_eq!(kind("pipe").as_deref(), Some("not_a_file"));
}

/// A folder this process cannot list: a mode-000 folder, or (root reads those) a link to
/// `/proc/1/map_files`, which needs CAP_SYS_ADMIN. `None` if neither is unreadable here.
fn make_unreadable_folder(at: &Path) -> Option<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir(at).unwrap();
    std::fs::write(at.join("x.txt"), "x").unwrap();
    std::fs::set_permissions(at, std::fs::Permissions::from_mode(0o000)).unwrap();
    // opening may work and reading the entries fail (as for /proc/1/map_files)
    let unlistable = |p: &Path| {
        std::fs::read_dir(p)
            .and_then(|mut d| d.next().transpose())
            .is_err()
    };
    if unlistable(at) {
        return Some(());
    }
    std::fs::set_permissions(at, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::remove_dir_all(at).unwrap();
    let denied = Path::new("/proc/1/map_files");
    if denied.is_dir() && unlistable(denied) {
        std::os::unix::fs::symlink(denied, at).unwrap();
        return Some(());
    }
    None
}

#[test]
fn an_unreadable_subfolder_is_one_error_record_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("corpus");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("a.txt"), "Kim met Putin.").unwrap();
    std::fs::write(root.join("z.txt"), "Putin met Kim.").unwrap();
    if make_unreadable_folder(&root.join("locked")).is_none() {
        eprintln!("skipped: no folder is unreadable to this process");
        return;
    }
    let res = run(annotate(&root, &["--tasks", "ner"]), 120);
    if let Ok(m) = std::fs::symlink_metadata(root.join("locked")) {
        if m.is_dir() {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(
                root.join("locked"),
                std::fs::Permissions::from_mode(0o755),
            );
        }
    }
    assert_eq!(res.status.code(), Some(2), "{}", stderr(&res));
    let recs = records(&res.stdout);
    let ids: Vec<&str> = recs.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["a", "locked", "z"], "the rest is annotated");
    assert_eq!(recs[1]["error"]["kind"], "io");
    assert!(recs[1]["record"].as_str().unwrap().ends_with("locked"));
}

// 4 ------------------------------------------------------------------------------------------

#[test]
fn a_second_signal_exits_130_at_once_leaving_complete_lines() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    write_corpus(&input, 3000, 12);
    for (round, sig) in ["-INT", "-INT", "-TERM"].iter().enumerate() {
        let out = dir.path().join(format!("out{round}.jsonl"));
        let work = partial_of(&out);
        let child = annotate_jobs(&input, 32, &["-o", out.to_str().unwrap()])
            .spawn()
            .unwrap();
        wait_for_lines(&work, 40);
        kill(child.id(), sig);
        std::thread::sleep(Duration::from_millis(30));
        kill(child.id(), sig);
        let t0 = Instant::now();
        let res = wait_at_most(child, 30);
        let err = stderr(&res);
        assert_eq!(
            res.status.signal(),
            None,
            "round {round}: killed by a signal: {err}"
        );
        assert_eq!(res.status.code(), Some(130), "round {round}: {err}");
        assert!(!res.status.core_dumped());
        assert!(!err.contains("panicked"), "round {round}: {err}");
        assert!(err.contains("interrupted again"), "round {round}: {err}");
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "round {round}: not at once"
        );
        assert!(!out.exists(), "round {round}: the output is not replaced");
        let text = std::fs::read_to_string(&work).unwrap();
        assert!(
            text.is_empty() || text.ends_with('\n'),
            "round {round}: a torn line"
        );
        for l in text.lines() {
            serde_json::from_str::<Value>(l).unwrap();
        }
        assert!(text.lines().count() < 3000);
    }
}

// 5 ------------------------------------------------------------------------------------------

#[test]
fn a_second_run_on_the_same_output_fails_fast() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    write_corpus(&input, 3000, 12);
    let reference = dir.path().join("ref.jsonl");
    let res = run(annotate(&input, &["-o", reference.to_str().unwrap()]), 300);
    assert_eq!(res.status.code(), Some(0));
    let out = dir.path().join("out.jsonl");
    let first = annotate(&input, &["-o", out.to_str().unwrap()])
        .spawn()
        .unwrap();
    wait_for_lines(&partial_of(&out), 4);
    // the same output, named another way
    let other = dir.path().join("./out.jsonl");
    for extra in [&[][..], &["--resume"][..]] {
        let mut args = vec!["-o", other.to_str().unwrap()];
        args.extend_from_slice(extra);
        let t0 = Instant::now();
        let second = run(annotate(&input, &args), 60);
        assert_eq!(second.status.code(), Some(1), "{}", stderr(&second));
        assert!(
            stderr(&second).contains("another newsmill run is writing"),
            "{}",
            stderr(&second)
        );
        assert!(t0.elapsed() < Duration::from_secs(5), "fails fast");
    }
    let res = wait_at_most(first, 300);
    assert_eq!(res.status.code(), Some(0), "{}", stderr(&res));
    assert_eq!(
        std::fs::read(&out).unwrap(),
        std::fs::read(&reference).unwrap(),
        "the first run's output is whole"
    );
}

// 6 ------------------------------------------------------------------------------------------

#[test]
fn resume_refuses_a_mismatch_before_changing_anything() {
    let dir = tempfile::tempdir().unwrap();
    let idless = |name: &str, word: &str| {
        let p = dir.path().join(name);
        let body: String = (0..12)
            .map(|i| format!("{{\"text\": \"{word} number {i} met Kim.\"}}\n"))
            .collect();
        std::fs::write(&p, body).unwrap();
        p
    };
    let (a, b) = (idless("a.jsonl", "Putin"), idless("b.jsonl", "Merkel"));
    let out = dir.path().join("o.jsonl");
    let res = run(annotate(&a, &["-o", out.to_str().unwrap()]), 120);
    assert_eq!(res.status.code(), Some(0), "{}", stderr(&res));
    // a torn last line, as after kill -9
    let mut bytes = std::fs::read(&out).unwrap();
    bytes.truncate(bytes.len() - 1);
    let torn_at = bytes.iter().rposition(|&c| c == b'\n').unwrap() + 1;
    bytes.truncate(torn_at + 20);
    std::fs::write(&out, &bytes).unwrap();
    let check = |input: &Path, extra: &[&str], want: &str| {
        let mut args = vec!["-o", out.to_str().unwrap(), "--resume"];
        args.extend_from_slice(extra);
        let res = run(annotate(input, &args), 120);
        assert_eq!(res.status.code(), Some(1), "{extra:?}: {}", stderr(&res));
        assert!(stderr(&res).contains(want), "{extra:?}: {}", stderr(&res));
        assert_eq!(
            std::fs::read(&out).unwrap(),
            bytes,
            "{extra:?}: output unchanged"
        );
    };
    // another id-less corpus with as many records: same last id `line-11`
    check(&b, &[], "the input is not the same");
    // settings that change the output
    check(&a, &["--no-text"], "text: then true, now false");
    check(&a, &["--tasks", "ner"], "tasks: then {");
    check(
        &a,
        &["--batch-tokens", "256"],
        "batch_tokens: then 512, now 256",
    );
    // no run record: nothing to check against
    let record = dir.path().join("o.jsonl.newsmill.json");
    let saved = std::fs::read(&record).unwrap();
    std::fs::remove_file(&record).unwrap();
    check(&a, &[], "no readable run record");
    std::fs::write(&record, saved).unwrap();
    // the right input finishes it
    let res = run(
        annotate(&a, &["-o", out.to_str().unwrap(), "--resume"]),
        120,
    );
    assert_eq!(res.status.code(), Some(0), "{}", stderr(&res));
    assert_eq!(records(&std::fs::read(&out).unwrap()).len(), 12);
}

// 7 ------------------------------------------------------------------------------------------

#[test]
fn a_closed_pipe_stops_the_run_at_once_and_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("big.jsonl");
    write_corpus(&input, 20_000, 6);
    let t0 = Instant::now();
    let mut child = annotate(&input, &["--tasks", "ner"]).spawn().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 1];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout); // as `| head -c 1`
    let res = wait_at_most(child, 60);
    let took = t0.elapsed();
    assert_eq!(res.status.signal(), Some(libc::SIGPIPE), "{}", stderr(&res));
    assert!(stderr(&res).is_empty(), "quietly: {}", stderr(&res));
    assert!(took < Duration::from_secs(20), "stopped at once: {took:?}");
}

#[test]
fn other_write_errors_end_the_run_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    write_corpus(&input, 2000, 4);
    let t0 = Instant::now();
    let res = run(
        annotate(&input, &["-o", "/dev/full", "--tasks", "ner"]),
        120,
    );
    assert_eq!(res.status.code(), Some(1), "{}", stderr(&res));
    assert!(stderr(&res).contains("No space left"), "{}", stderr(&res));
    assert!(t0.elapsed() < Duration::from_secs(30));
}

// 8 ------------------------------------------------------------------------------------------

#[test]
fn argument_errors_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    write_corpus(&input, 1, 1);
    let i = input.to_str().unwrap();
    let cases: &[&[&str]] = &[
        &["annotate", i, "--bogus"],
        &["annotate", i, "--workers", "many"],
        &["annotate", i, "--decoding", "psychic"],
        &["annotate"],
        &["annotate", "/nonexistent.jsonl"],
        &["annotate", i, "--resume"],
        &["annotate", i, "--tasks", "poetry"],
        &["frobnicate"],
        &[],
    ];
    for args in cases {
        let mut c = nm();
        c.args(*args);
        let res = run(c, 60);
        assert_eq!(res.status.code(), Some(1), "{args:?}: {}", stderr(&res));
        assert!(!stderr(&res).is_empty(), "{args:?} says why");
    }
    for args in [["--help"], ["--version"]] {
        let mut c = nm();
        c.args(args);
        assert_eq!(run(c, 60).status.code(), Some(0), "{args:?}");
    }
}

// 9 ------------------------------------------------------------------------------------------

#[test]
fn a_tokenizer_that_does_not_fit_the_model_fails_at_load() {
    let tmp = tempfile::tempdir().unwrap();
    let models = tmp.path().join("models");
    for task in ["ner", "sentiment", "stance"] {
        std::fs::create_dir_all(models.join(task)).unwrap();
        for f in ["config.json", "tokenizer.json", "model.safetensors"] {
            std::fs::copy(tiny_models().join(task).join(f), models.join(task).join(f)).unwrap();
        }
    }
    let input = tmp.path().join("in.jsonl");
    write_corpus(&input, 2, 1);
    let tok = models.join("ner/tokenizer.json");
    // a tokenizer with more tokens than the embedding table has rows
    let mut t: Value = serde_json::from_slice(&std::fs::read(&tok).unwrap()).unwrap();
    let vocab = t["model"]["vocab"].as_object_mut().unwrap();
    let n = vocab.len();
    for k in 0..20 {
        vocab.insert(format!("extra{k}"), (n + k).into());
    }
    std::fs::write(&tok, t.to_string()).unwrap();
    let mut c = nm();
    c.args(["annotate", input.to_str().unwrap(), "--models"])
        .arg(&models);
    let res = run(c, 120);
    let err = stderr(&res);
    assert_eq!(res.status.code(), Some(1), "{err}");
    assert!(res.stdout.is_empty());
    assert!(err.contains(&format!("{} tokens", n + 20)), "{err}");
    assert!(err.contains(&format!("vocab_size {n}")), "{err}");
    assert!(
        err.contains("tokenizer.json") && err.contains("config.json"),
        "{err}"
    );
    // JSON, but not a tokenizers tokenizer.json
    std::fs::write(&tok, r#"{"vocab": {"[PAD]": 0}, "do_lower_case": true}"#).unwrap();
    let mut c = nm();
    c.args(["annotate", input.to_str().unwrap(), "--models"])
        .arg(&models);
    let res = run(c, 120);
    let err = stderr(&res);
    assert_eq!(res.status.code(), Some(1), "{err}");
    assert!(err.contains("not a tokenizers tokenizer.json"), "{err}");
    assert!(!err.contains("expected `,`"), "{err}");
}

// 10 -----------------------------------------------------------------------------------------

#[test]
fn numeric_ids_beyond_64_bits_keep_their_text() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    std::fs::write(
        &input,
        "{\"id\": 123456789012345678901234567890, \"text\": \"One.\"}\n\
         {\"id\": 123456789012345678901234567891, \"text\": \"Two.\"}\n\
         {\"id\": 18446744073709551615, \"text\": \"Three.\"}\n\
         {\"id\": -7, \"text\": \"Four.\"}\n\
         {\"id\": 2.50, \"text\": \"Five.\"}\n",
    )
    .unwrap();
    let res = run(annotate(&input, &["--tasks", "ner"]), 60);
    assert_eq!(res.status.code(), Some(0), "{}", stderr(&res));
    let recs = records(&res.stdout);
    let ids: Vec<&str> = recs.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "123456789012345678901234567890",
            "123456789012345678901234567891",
            "18446744073709551615",
            "-7",
            "2.50"
        ]
    );
    assert!(
        recs.iter().all(|r| r.get("warnings").is_none()),
        "no duplicate"
    );
}

#[test]
fn a_byte_order_mark_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("bom.jsonl");
    std::fs::write(
        &input,
        "\u{feff}{\"id\": \"a\", \"text\": \"Putin met Kim.\"}\n{\"id\": \"b\", \"text\": \"x\"}\n",
    )
    .unwrap();
    let res = run(annotate(&input, &["--tasks", "ner"]), 60);
    assert_eq!(res.status.code(), Some(0), "{}", stderr(&res));
    let recs = records(&res.stdout);
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0]["id"], "a");
    assert_eq!(recs[0]["text"], "Putin met Kim.");
}

#[test]
fn dash_o_dash_is_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    write_corpus(&input, 3, 1);
    let mut c = annotate(&input, &["-o", "-", "--tasks", "ner"]);
    c.current_dir(dir.path());
    let res = run(c, 60);
    assert_eq!(res.status.code(), Some(0), "{}", stderr(&res));
    assert_eq!(records(&res.stdout).len(), 3);
    assert!(!dir.path().join("-").exists(), "no file named -");
}

#[test]
fn fifo_and_process_substitution_inputs_are_read_as_streams() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    write_corpus(&input, 5, 1);
    let fifo = dir.path().join("in.fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let (src, dst) = (input.clone(), fifo.clone());
    // the writer waits (at most 60 s) for newsmill to open the FIFO, so a run that never does
    // fails the test instead of hanging it
    let writer = std::thread::spawn(move || -> std::io::Result<()> {
        use std::os::unix::fs::OpenOptionsExt;
        let data = std::fs::read(src)?;
        let t0 = Instant::now();
        let mut f = loop {
            match std::fs::OpenOptions::new()
                .write(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(&dst)
            {
                Ok(f) => break f,
                Err(_) if t0.elapsed() < Duration::from_secs(60) => {
                    std::thread::sleep(Duration::from_millis(10))
                }
                Err(e) => return Err(e),
            }
        };
        // SAFETY: clears O_NONBLOCK on a descriptor this thread owns.
        unsafe { libc::fcntl(std::os::fd::AsRawFd::as_raw_fd(&f), libc::F_SETFL, 0) };
        f.write_all(&data)
    });
    let res = run(annotate(&fifo, &["--tasks", "ner"]), 60);
    assert_eq!(res.status.code(), Some(0), "{}", stderr(&res));
    writer.join().unwrap().unwrap();
    assert_eq!(records(&res.stdout).len(), 5);
    // bash process substitution: /dev/fd/N
    let script = format!(
        "exec {} annotate <(cat {}) -q --tasks ner --models {}",
        env!("CARGO_BIN_EXE_newsmill"),
        input.display(),
        tiny_models().display()
    );
    let mut c = Command::new("bash");
    c.args(["-c", &script])
        .env_remove("NEWSMILL_MODELS")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let res = run(c, 60);
    assert_eq!(res.status.code(), Some(0), "{}", stderr(&res));
    assert_eq!(records(&res.stdout).len(), 5);
    // a stream cannot be resumed: it cannot be read again
    let out = dir.path().join("o.jsonl");
    let script = format!("{script} -o {} --resume", out.display());
    let mut c = Command::new("bash");
    c.args(["-c", &script])
        .env_remove("NEWSMILL_MODELS")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let res = run(c, 60);
    assert_eq!(res.status.code(), Some(1), "{}", stderr(&res));
    assert!(stderr(&res).contains("read again"), "{}", stderr(&res));
}

#[test]
fn workers_are_capped_by_the_work_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    write_corpus(&input, 2, 1);
    let mut c = nm();
    c.args(["annotate", input.to_str().unwrap(), "--workers", "64"])
        .args(["--models", tiny_models().to_str().unwrap()]);
    let res = run(c, 120);
    let err = stderr(&res);
    assert_eq!(res.status.code(), Some(0), "{err}");
    assert!(err.contains("--workers 64"), "{err}");
    assert!(err.contains("worker(s) start"), "{err}");
    assert_eq!(records(&res.stdout).len(), 2);
}

#[test]
fn window_options_the_model_cannot_take_are_said() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    write_corpus(&input, 1, 1);
    // the tiny NER model has 64 positions
    let res = run(annotate(&input, &["--tasks", "ner", "--window", "512"]), 60);
    assert_eq!(res.status.code(), Some(0), "{}", stderr(&res));
    assert!(stderr(&res).contains("--window 512 is longer than the NER model's 64 positions"));
    let res = run(
        annotate(
            &input,
            &["--tasks", "ner", "--window", "48", "--window-overlap", "48"],
        ),
        60,
    );
    assert_eq!(res.status.code(), Some(0), "{}", stderr(&res));
    assert!(
        stderr(&res).contains("--window-overlap 48 is more than half"),
        "{}",
        stderr(&res)
    );
    // nothing said for options that fit, or for the defaults
    let res = run(
        annotate(
            &input,
            &["--tasks", "ner", "--window", "64", "--window-overlap", "8"],
        ),
        60,
    );
    assert!(!stderr(&res).contains("warning"), "{}", stderr(&res));
    let res = run(annotate(&input, &["--tasks", "ner"]), 60);
    assert!(!stderr(&res).contains("warning"), "{}", stderr(&res));
}

// Issue 22: every output as safe as `annotate -o` ----------------------------------------------

#[test]
fn report_never_replaces_the_corpus_the_output_or_a_device() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    write_corpus(&input, 3, 1);
    let before = std::fs::read(&input).unwrap();
    let out = dir.path().join("out.jsonl");
    let hard = dir.path().join("hard.jsonl");
    std::fs::hard_link(&input, &hard).unwrap();
    let o = out.to_str().unwrap();
    // the corpus (also through a hard link), the output (new, then existing), missing folder
    for (report, want) in [
        (input.clone(), "is the input itself"),
        (hard.clone(), "is the input itself"),
        (out.clone(), "is the annotated output (-o) of this run"),
        (dir.path().join("missing/r.html"), "not found"),
    ] {
        let t0 = Instant::now();
        let res = run(
            annotate(&input, &["-o", o, "--report", report.to_str().unwrap()]),
            60,
        );
        assert_eq!(res.status.code(), Some(1), "{report:?}: {}", stderr(&res));
        assert!(stderr(&res).contains(want), "{report:?}: {}", stderr(&res));
        assert!(!out.exists(), "refused before any work");
        assert_eq!(std::fs::read(&input).unwrap(), before);
        assert!(t0.elapsed() < Duration::from_secs(20));
    }
    let res = run(annotate(&input, &["-o", o]), 60);
    assert_eq!(res.status.code(), Some(0), "{}", stderr(&res));
    let annotated = std::fs::read(&out).unwrap();
    let res = run(annotate(&input, &["-o", o, "--report", o]), 60);
    assert_eq!(res.status.code(), Some(1), "{}", stderr(&res));
    assert_eq!(std::fs::read(&out).unwrap(), annotated, "annotations kept");
    // a device node is written, never replaced
    let node = dir.path().join("n");
    let c = std::ffi::CString::new(node.to_str().unwrap()).unwrap();
    // SAFETY: mknod with a valid C string.
    if unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR | 0o666, libc::makedev(1, 3)) } == 0 {
        let res = run(
            annotate(&input, &["-o", o, "--report", node.to_str().unwrap()]),
            60,
        );
        assert_eq!(res.status.code(), Some(0), "{}", stderr(&res));
        use std::os::unix::fs::FileTypeExt;
        assert!(std::fs::symlink_metadata(&node)
            .unwrap()
            .file_type()
            .is_char_device());
    }
}

#[test]
fn a_closed_stderr_leaves_the_run_s_result() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    write_corpus(&input, 3, 1);
    let out = dir.path().join("o.jsonl");
    // stderr into a pipe whose reader went away: the summary line cannot be written
    let mut c = nm();
    c.arg("annotate")
        .arg(&input)
        .args(["--models", tiny_models().to_str().unwrap()])
        .args(["-o", out.to_str().unwrap()]);
    let mut child = c.spawn().unwrap();
    drop(child.stderr.take());
    let res = wait_at_most(child, 60);
    assert_eq!(res.status.code(), Some(0), "{res:?}");
    assert_eq!(lines_of(&out), 3, "the output was renamed into place");
    // stderr closed outright
    let out2 = dir.path().join("o2.jsonl");
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "'{}' annotate '{}' --models '{}' -o '{}' 2>&-",
            env!("CARGO_BIN_EXE_newsmill"),
            input.display(),
            tiny_models().display(),
            out2.display()
        ))
        .env_remove("NEWSMILL_MODELS")
        .status()
        .unwrap();
    assert!(status.success(), "{status:?}");
    assert_eq!(lines_of(&out2), 3);
}

#[test]
fn generated_ids_are_unique_across_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.jsonl"), dir.path().join("b.jsonl"));
    std::fs::write(
        &a,
        "{\"text\": \"Putin met Kim.\"}\n{\"id\": \"x\", \"text\": \"Kim.\"}\n",
    )
    .unwrap();
    std::fs::write(
        &b,
        "{\"text\": \"Kim met Putin.\"}\n{\"id\": \"x\", \"text\": \"Putin.\"}\n",
    )
    .unwrap();
    let mut c = nm();
    c.arg("annotate")
        .args([&a, &b])
        .args(["-q", "--models", tiny_models().to_str().unwrap()]);
    let res = run(c, 60);
    assert_eq!(res.status.code(), Some(0), "{}", stderr(&res));
    let recs = records(&res.stdout);
    let ids: Vec<&str> = recs.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        vec![
            format!("{}:line-1", a.display()).as_str(),
            "x",
            format!("{}:line-1", b.display()).as_str(),
            "x"
        ]
    );
    // the explicit id repeated in the second input is warned about
    let warned = recs[3]["warnings"].to_string();
    assert!(warned.contains("duplicate id `x`"), "{warned}");
    // one input alone keeps plain line numbers
    let res = run(annotate(&a, &[]), 60);
    assert_eq!(records(&res.stdout)[0]["id"], "line-1");
}

#[test]
fn zstd_starting_with_a_skippable_frame_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("p.jsonl");
    write_corpus(&plain, 3, 1);
    let body = std::fs::read(&plain).unwrap();
    // as pzstd writes: a skippable frame (magic 0x184D2A50, 4-byte size, payload) first
    let mut bytes = vec![0x50, 0x2A, 0x4D, 0x18, 4, 0, 0, 0, 1, 2, 3, 4];
    bytes.extend(zstd::encode_all(&body[..], 3).unwrap());
    let zst = dir.path().join("p.jsonl.zst");
    std::fs::write(&zst, &bytes).unwrap();
    let res = run(annotate(&zst, &[]), 60);
    assert_eq!(res.status.code(), Some(0), "{}", stderr(&res));
    let ids: Vec<Value> = records(&res.stdout)
        .iter()
        .map(|r| r["id"].clone())
        .collect();
    assert_eq!(ids, vec!["a0", "a1", "a2"]);
}

#[test]
fn inputs_that_give_nothing_or_twice_are_said() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    write_corpus(&input, 2, 1);
    // the same file twice: a warning, read twice
    let mut c = nm();
    c.arg("annotate")
        .args([&input, &input])
        .args(["--models", tiny_models().to_str().unwrap()]);
    let res = run(c, 60);
    assert_eq!(res.status.code(), Some(0), "{}", stderr(&res));
    assert!(
        stderr(&res).contains("is given more than once"),
        "{}",
        stderr(&res)
    );
    assert_eq!(records(&res.stdout).len(), 4);
    // a folder with JSONL files but no .txt: an error that says what to do
    let folder = dir.path().join("shards");
    std::fs::create_dir(&folder).unwrap();
    std::fs::copy(&input, folder.join("part-0.jsonl")).unwrap();
    let res = run(annotate(&folder, &[]), 60);
    assert_eq!(res.status.code(), Some(1), "{}", stderr(&res));
    assert!(
        stderr(&res).contains("holds no .txt file"),
        "{}",
        stderr(&res)
    );
    assert!(stderr(&res).contains("*.jsonl"), "{}", stderr(&res));
}

#[test]
fn counts_of_zero_are_refused_and_small_budgets_said() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    write_corpus(&input, 1, 1);
    for flag in [
        "--batch-tokens",
        "--workers",
        "--job-articles",
        "--intra-threads",
    ] {
        let mut c = nm();
        c.arg("annotate").arg(&input).args([flag, "0"]);
        let res = run(c, 60);
        assert_eq!(res.status.code(), Some(1), "{flag} 0");
        assert!(
            stderr(&res).contains("must be at least 1"),
            "{flag}: {}",
            stderr(&res)
        );
    }
    let mut c = nm();
    c.arg("annotate")
        .arg(&input)
        .args(["--models", tiny_models().to_str().unwrap()])
        .args(["--batch-tokens", "10"]);
    let res = run(c, 60);
    assert_eq!(res.status.code(), Some(0), "{}", stderr(&res));
    assert!(
        stderr(&res).contains("--batch-tokens 10 is below the smallest batch budget: 64 is used"),
        "{}",
        stderr(&res)
    );
}

#[test]
fn quiet_int8_prints_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    write_corpus(&input, 2, 1);
    let res = run(annotate(&input, &["--precision", "int8"]), 60);
    assert_eq!(res.status.code(), Some(0), "{}", stderr(&res));
    assert!(stderr(&res).is_empty(), "-q: {}", stderr(&res));
    assert_eq!(records(&res.stdout).len(), 2);
}

#[test]
fn eval_json_never_replaces_the_dev_file_and_dash_is_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let dev = dir.path().join("dev.jsonl");
    std::fs::write(
        &dev,
        "{\"sentence_normalized\": \"Putin met Kim in Moscow.\", \"targets\": \
         [{\"from\": 0, \"to\": 5, \"polarity\": 4.0}]}\n",
    )
    .unwrap();
    let before = std::fs::read(&dev).unwrap();
    let eval = |json: &Path| {
        let mut c = nm();
        c.args(["eval", "stance"])
            .arg(&dev)
            .args(["--models", tiny_models().to_str().unwrap(), "--json"])
            .arg(json);
        run(c, 60)
    };
    let res = eval(&dev);
    assert_eq!(res.status.code(), Some(1), "{}", stderr(&res));
    assert!(
        stderr(&res).contains("is the input itself"),
        "{}",
        stderr(&res)
    );
    assert_eq!(std::fs::read(&dev).unwrap(), before, "the dev file is kept");
    // `-`: the scores once, on standard output, and no file named `-`
    let res = eval(Path::new("-"));
    assert_eq!(res.status.code(), Some(0), "{}", stderr(&res));
    let printed: Value = serde_json::from_slice(&res.stdout).expect("one JSON document");
    assert!(printed["f1m"].is_number(), "{printed}");
    // a file: the same scores, and on standard output as before
    let file = dir.path().join("scores.json");
    let res = eval(&file);
    assert_eq!(res.status.code(), Some(0), "{}", stderr(&res));
    let written: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let shown: Value = serde_json::from_slice(&res.stdout).unwrap();
    assert_eq!(written, shown);
    assert_eq!(written["f1m"], printed["f1m"]);
}
