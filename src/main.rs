//! The `newsmill` command line.

/// `eprintln!` that never panics: a message to a closed stderr (`2>&-`, a pipe whose reader
/// went away) is dropped, and the run's result stands.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

mod annotate;
mod bench;
mod cli;
mod eval;
mod outfile;
mod process;
mod report;
mod serve;
mod settings;
mod signals;
mod workers;

/// jemalloc serves every allocation of the process, libtorch's included (see Cargo.toml).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's built-in options (the `MALLOC_CONF` environment variable still overrides them):
/// freed pages are purged after 1 s. Measured, NER int8 on 500 BBC articles: 20.9 articles/s,
/// peak RSS 595 MiB; with purging off 21.6 articles/s and 765 MiB, but RSS then grew without
/// bound on a long run (tiny models: +5 MiB/s), while with 1 s it stayed at 160–210 MiB over
/// 20,000 articles. The default 10 s decay measured 14.5 articles/s.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[export_name = "malloc_conf"]
static MALLOC_CONF: ConfString = ConfString(c"dirty_decay_ms:1000,muzzy_decay_ms:0".as_ptr());

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[repr(transparent)]
struct ConfString(*const std::ffi::c_char);

// SAFETY: the pointer is to a static, immutable C string.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
unsafe impl Sync for ConfString {}

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use cli::ModelArgs;

#[derive(Parser)]
#[command(
    name = "newsmill",
    about = "Annotate news corpora: entities, sentence sentiment, entity stance"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Annotate a corpus (JSONL file, folder of .txt files, or - for JSONL on stdin).
    Annotate(cli::AnnotateArgs),
    /// Score a model on a labelled dev file with the same inference path as `annotate`.
    Eval(eval::EvalArgs),
    /// Compare model sets, precisions and batch budgets on a corpus: throughput, where the time
    /// goes, latency, memory and dev-file accuracy per configuration (table, JSON, CSV, HTML).
    Bench(bench::BenchArgs),
    /// Write a self-contained HTML report of annotated JSONL (overview, articles with entities
    /// highlighted, actors, errors).
    Report(report::ReportArgs),
    /// Write one flat table of annotated JSONL as CSV or Parquet (columns: docs/tables.md).
    Export(report::ExportArgs),
    /// Annotate requests on stdin (JSONL records, each request ended by an empty line), the
    /// models loaded once: the engine of the Python package (README, "Python").
    Serve(cli::ServeArgs),
}

/// `newsmill --version`: the crate version, the libtorch version it was built against, and the
/// content hash of the default models (as output records name them, `folder@hash`).
fn version_text() -> String {
    let mut s = format!(
        "newsmill {}\nlibtorch {}\n",
        env!("CARGO_PKG_VERSION"),
        env!("NEWSMILL_LIBTORCH_VERSION")
    );
    let paths = ModelArgs::default().paths();
    let mut found = false;
    for (task, dir) in [
        ("joint", paths.joint),
        ("ner", paths.ner),
        ("sentiment", paths.sentiment),
        ("stance", paths.stance),
    ] {
        let Some(dir) = dir else { continue };
        found = true;
        let id = match std::fs::read(dir.join("model.safetensors")) {
            Ok(w) => newsmill_model::model_identity(&dir, &w),
            Err(e) => format!("unreadable ({e})"),
        };
        s += &format!("models ({task}): {id} ({})\n", dir.display());
    }
    if !found {
        s += "models: none found (set NEWSMILL_MODELS or pass --models)\n";
    }
    s
}

fn main() -> ExitCode {
    if matches!(std::env::args().nth(1).as_deref(), Some("--version" | "-V")) {
        let _ = std::io::stdout().write_all(version_text().as_bytes());
        return ExitCode::SUCCESS;
    }
    // argument errors exit 1 like every other failure: 2 means "some records became error
    // records" (README, exit status)
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitCode::SUCCESS
                }
                _ => ExitCode::from(1),
            };
        }
    };
    let result = match cli.command {
        Command::Annotate(a) => annotate::run(a),
        Command::Eval(e) => eval::run(e),
        Command::Bench(b) => bench::run(b),
        Command::Report(r) => report::run_report(r),
        Command::Export(x) => report::run_export(x),
        Command::Serve(s) => serve::run(s),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            say!("newsmill: error: {e:#}");
            ExitCode::from(1)
        }
    }
}
