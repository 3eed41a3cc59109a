//! `newsmill serve` (the Python package's engine): each request (JSONL ended by an empty line)
//! is answered as `newsmill annotate` answers the same lines, on one server, models loaded once.

use std::io::Write;

use crate::common::{assert_success, newsmill, tiny_joint_and_stance};

fn request(first: usize) -> String {
    let mut s: String = (first..first + 5)
        .map(|i| {
            serde_json::json!({
                "id": format!("s{i}"),
                "text": format!("Putin met Kim in Moscow on day {i}. The visit was good.")
            })
            .to_string()
                + "\n"
        })
        .collect();
    s += "{\"text\": \"no id: Merkel spoke in Berlin.\"}\nnot json\n{\"id\": \"x\"}\n";
    s
}

#[test]
fn two_requests_on_one_server_equal_two_annotate_runs() {
    let dir = tiny_joint_and_stance().to_str().unwrap();
    let flags = ["--models", dir, "--job-articles", "2", "--workers", "2"];
    let (a, b) = (request(0), request(10));
    let mut args = vec!["serve"];
    args.extend(flags);
    let served = newsmill(&args, Some(format!("{a}\n{b}\n").as_bytes()));
    assert_success(&served);
    let text = String::from_utf8(served.stdout).unwrap();
    let (ready, rest) = text.split_once('\n').unwrap();
    let ready: serde_json::Value = serde_json::from_str(ready).unwrap();
    assert_eq!(ready["newsmill_serve"], 1);
    assert_eq!(ready["schema_version"], "2.0");
    let answers: Vec<&str> = rest.split_inclusive("\n\n").collect();
    assert_eq!(answers.len(), 2, "{rest}");
    for (input, answer) in [(&a, answers[0]), (&b, answers[1])] {
        let mut args = vec!["annotate", "-", "-q"];
        args.extend(flags);
        let cli = newsmill(&args, Some(input.as_bytes()));
        assert_eq!(cli.status.code(), Some(2), "error records give exit 2");
        let cli = String::from_utf8(cli.stdout).unwrap();
        assert_eq!(format!("{cli}\n"), answer);
        // the bad line and the record without text are error records; the record without an
        // id gets one from its line number in the request
        let records: Vec<serde_json::Value> = cli
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(records.len(), 8);
        assert_eq!(records[5]["id"], "line-6");
        assert_eq!(records[6]["error"]["kind"], "invalid_json");
        assert!(records[7]["error"].is_object());
    }
}

#[test]
fn an_empty_request_and_end_of_input() {
    let dir = tiny_joint_and_stance().to_str().unwrap();
    let served = newsmill(&["serve", "--models", dir], Some(b"\n"));
    assert_success(&served);
    let text = String::from_utf8(served.stdout).unwrap();
    assert_eq!(text.lines().count(), 2, "ready line, then the empty answer");
    assert!(text.ends_with("}\n\n"), "{text}");
}

#[test]
fn a_missing_model_folder_exits_1_before_the_ready_line() {
    let out = newsmill(
        &["serve", "--models", "/nonexistent/newsmill-models"],
        Some(b"{\"text\": \"x\"}\n\n"),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "no ready line");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("newsmill: error: ") && err.contains("/nonexistent/newsmill-models"),
        "{err}"
    );
}

#[test]
fn answers_come_before_the_input_ends() {
    use std::io::BufRead;
    let dir = tiny_joint_and_stance().to_str().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_newsmill"))
        .args(["serve", "--models", dir])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert!(line.contains("newsmill_serve"));
    for round in 0..2 {
        // stdin stays open: the answer must not wait for more input
        stdin
            .write_all(
                format!("{{\"id\": \"r{round}\", \"text\": \"Kim met Putin.\"}}\n\n").as_bytes(),
            )
            .unwrap();
        stdin.flush().unwrap();
        line.clear();
        stdout.read_line(&mut line).unwrap();
        assert!(line.contains(&format!("\"r{round}\"")), "{line}");
        line.clear();
        stdout.read_line(&mut line).unwrap();
        assert_eq!(line, "\n");
    }
    drop(stdin);
    assert!(child.wait().unwrap().success());
}
