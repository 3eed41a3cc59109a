//! `newsmill serve`: the engine of the Python package (`python/newsmill`). The models are
//! loaded once; then each request — JSONL records on stdin ended by an empty line — is
//! annotated as `newsmill annotate FILE` annotates those lines (same reader, so ids made from
//! line numbers, bad lines and error records are the same, byte for byte), its lines written to
//! stdout and ended by an empty line. End of stdin ends the server.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use newsmill_pipeline::input::{JsonlReader, Source};
use newsmill_pipeline::Engine;

use crate::cli::ServeArgs;
use crate::settings::Settings;
use crate::{outfile, process, workers};

/// The server's stdin, shared by the requests: each request's reader takes lines from it
/// until the empty line that ends the request (or the end of stdin).
struct Input {
    stdin: BufReader<std::io::Stdin>,
    /// stdin has ended: no request follows.
    eof: bool,
}

/// One request's bytes: stdin's lines up to (not including) the empty line that ends it.
struct Request {
    input: Arc<Mutex<Input>>,
    line: Vec<u8>,
    pos: usize,
    done: bool,
}

impl Read for Request {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pos == self.line.len() {
            if self.done {
                return Ok(0);
            }
            self.line.clear();
            self.pos = 0;
            let mut input = self
                .input
                .lock()
                .map_err(|_| std::io::Error::other("stdin lock poisoned"))?;
            let n = input.stdin.read_until(b'\n', &mut self.line)?;
            if n == 0 {
                input.eof = true;
                self.done = true;
                return Ok(0);
            }
            if self.line == b"\n" || self.line == b"\r\n" {
                self.line.clear();
                self.done = true;
                return Ok(0);
            }
        }
        let n = buf.len().min(self.line.len() - self.pos);
        buf[..n].copy_from_slice(&self.line[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Ends the process when its parent goes (the Python process that started it, killed without
/// a chance to stop it). `PR_SET_PDEATHSIG` is not used: it fires when the parent *thread*
/// that forked ends, and Python forks from whichever thread made the `Pipeline`.
fn exit_with_parent() {
    // SAFETY: getppid has no preconditions.
    let parent = unsafe { libc::getppid() };
    if parent <= 1 {
        return;
    }
    std::thread::spawn(move || loop {
        std::thread::sleep(std::time::Duration::from_millis(500));
        // SAFETY: getppid has no preconditions; _exit ends the process without running
        // destructors under running libtorch threads (ARCHITECTURE.md, invariants).
        unsafe {
            if libc::getppid() != parent {
                libc::_exit(1);
            }
        }
    });
}

pub fn run(args: ServeArgs) -> Result<ExitCode> {
    exit_with_parent();
    if args.quiet {
        process::quiet_libtorch();
    }
    let settings = Settings::serve(&args)?;
    let plan = settings.plan()?;
    let engine = workers::engine_options(&settings, &plan, &Source::Stdin);
    let runner = Engine::start(&plan, &settings.annotate, &engine)?;
    let ready = serde_json::json!({
        "newsmill_serve": 1,
        "version": env!("CARGO_PKG_VERSION"),
        "schema_version": newsmill_schema::SCHEMA_VERSION,
        "workers": engine.workers,
        "model_load_seconds": runner.model_load().as_secs_f64(),
        "settings": settings.output_settings(),
        "models": outfile::models_identity(&plan.folders()),
    });
    let mut out = std::io::stdout().lock();
    writeln!(out, "{ready}")
        .and_then(|_| out.flush())
        .context("cannot write to stdout")?;

    let input = Arc::new(Mutex::new(Input {
        stdin: BufReader::with_capacity(1 << 16, std::io::stdin()),
        eof: false,
    }));
    let never = AtomicBool::new(false);
    loop {
        {
            let mut i = input
                .lock()
                .map_err(|_| anyhow::anyhow!("stdin lock poisoned"))?;
            if i.eof || i.stdin.fill_buf().context("cannot read stdin")?.is_empty() {
                return Ok(ExitCode::SUCCESS);
            }
        }
        let request = Request {
            input: input.clone(),
            line: Vec::new(),
            pos: 0,
            done: false,
        };
        let records = JsonlReader::new(BufReader::new(request), settings.fields.clone());
        runner.run(Box::new(records), &mut out, &|_| {}, &never)?;
        out.write_all(b"\n")
            .and_then(|_| out.flush())
            .context("cannot write to stdout")?;
    }
}
