//! Support of the CLI tests: running the `newsmill` binary; the tiny checkpoints and the
//! record invariants are the `newsmill-testkit` crate's (crates' own tests use it too).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub use newsmill_testkit::*;

pub fn newsmill(args: &[&str], stdin: Option<&[u8]>) -> Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_newsmill"));
    cmd.args(args)
        .env_remove("NEWSMILL_MODELS")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    let mut child = cmd.spawn().expect("run newsmill");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    child.wait_with_output().unwrap()
}

/// Asserts that a run exited 0, showing its stderr otherwise.
pub fn assert_success(out: &Output) {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn shared_data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data")
}

/// What `--precision auto` (the default) resolves to on this machine's CPU.
pub fn auto_precision() -> &'static str {
    if newsmill_model::cpu_runs_int8() {
        "int8"
    } else {
        "fp32"
    }
}
