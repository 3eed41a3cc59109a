//! The `newsmill` command line.

mod bench;
mod eval;

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

use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use newsmill_model::Precision;
use newsmill_ner::{Decoding, NerOptions};
use newsmill_pipeline::input::{Fields, Item, Source};
use newsmill_pipeline::{AnnotateOptions, EngineOptions, ModelPaths, PipelineError, Tasks};
use newsmill_text::Windowing;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Parser)]
#[command(
    name = "newsmill",
    version,
    about = "Annotate news corpora: entities, sentence sentiment, entity stance"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Annotate a corpus (JSONL file, folder of .txt files, or - for JSONL on stdin).
    Annotate(AnnotateArgs),
    /// Score a model on a labelled dev file with the same inference path as `annotate`.
    Eval(eval::EvalArgs),
    /// Measure throughput on a corpus (articles/s, wordpieces/s, padding, FLOP/s, peak RSS).
    Bench(bench::BenchArgs),
}

#[derive(Args, Clone)]
pub struct ModelArgs {
    /// Model folder: a joint checkpoint (DIR/joint/ or DIR itself), or one folder per task
    /// (DIR/ner/, DIR/sentiment/, DIR/stance/) [env: NEWSMILL_MODELS]
    #[arg(long, global = true)]
    models: Option<PathBuf>,
    /// NER model folder (overrides --models)
    #[arg(long, global = true)]
    ner_model: Option<PathBuf>,
    /// Sentence sentiment model folder (overrides --models)
    #[arg(long, global = true)]
    sentiment_model: Option<PathBuf>,
    /// Entity stance model folder (overrides --models)
    #[arg(long, global = true)]
    stance_model: Option<PathBuf>,
}

impl ModelArgs {
    /// The model folders of a run: `--models DIR` (or `$NEWSMILL_MODELS`) holding a joint
    /// checkpoint (`DIR/joint/`, or `DIR` itself) answers every task that has no flag of its own;
    /// without one, `DIR/ner/`, `DIR/sentiment/` and `DIR/stance/` are the single-task models.
    fn paths(&self) -> ModelPaths {
        let base = self
            .models
            .clone()
            .or_else(|| std::env::var_os("NEWSMILL_MODELS").map(PathBuf::from));
        let joint = base.as_ref().and_then(|b| {
            if b.join("joint").join("config.json").is_file() {
                Some(b.join("joint"))
            } else if b.join("config.json").is_file() {
                Some(b.clone())
            } else {
                None
            }
        });
        let pick = |explicit: &Option<PathBuf>, name: &str| {
            explicit.clone().or_else(|| match joint {
                Some(_) => None,
                None => base.as_ref().map(|b| b.join(name)),
            })
        };
        ModelPaths {
            ner: pick(&self.ner_model, "ner"),
            sentiment: pick(&self.sentiment_model, "sentiment"),
            stance: pick(&self.stance_model, "stance"),
            joint,
        }
    }
}

#[derive(Copy, Clone, ValueEnum)]
enum DecodingArg {
    Greedy,
    Constrained,
}

#[derive(Args, Clone)]
pub struct RunArgs {
    /// Worker threads, each with its own models [default: number of cores]
    #[arg(long, global = true)]
    workers: Option<usize>,
    /// libtorch intra-op threads per worker
    #[arg(long, default_value_t = 1, global = true)]
    intra_threads: usize,
    /// Padded tokens per model batch (chosen by measurement, DEVELOPERS.md "Engine"; int8
    /// results move slightly with it, models/README.md)
    #[arg(long, default_value_t = 512, global = true)]
    batch_tokens: usize,
    /// Articles batched together as one job
    #[arg(long, default_value_t = 128, global = true)]
    job_articles: usize,
    /// NER input length in wordpieces, special tokens included (at most the model's positions):
    /// consecutive sentences are packed up to this length, longer sentences are windowed
    #[arg(long, default_value_t = 128, global = true)]
    window: usize,
    /// Wordpieces shared by consecutive NER windows of a long sentence
    #[arg(long, default_value_t = 32, global = true)]
    window_overlap: usize,
    /// How NER tags are chosen per word
    #[arg(long, value_enum, default_value_t = DecodingArg::Constrained, global = true)]
    decoding: DecodingArg,
    /// NER context: `sentence` (each sentence alone), `packed` (consecutive sentences packed
    /// up to --window), `auto` (as the model's config.json says it was trained)
    #[arg(long, value_enum, default_value_t = ContextArg::Auto, global = true)]
    ner_context: ContextArg,
    /// Arithmetic of the encoders' Linear layers: fp32, or int8 (fbgemm int8
    /// weights, dynamically quantized activations; BERT models)
    #[arg(long, value_enum, default_value_t = PrecisionArg::Fp32, global = true)]
    precision: PrecisionArg,
}

#[derive(Copy, Clone, ValueEnum)]
enum PrecisionArg {
    Fp32,
    Int8,
}

#[derive(Copy, Clone, ValueEnum)]
enum ContextArg {
    Auto,
    Sentence,
    Packed,
}

impl RunArgs {
    pub fn ner_options(&self) -> NerOptions {
        NerOptions {
            windowing: Windowing {
                max_len: self.window,
                overlap: self.window_overlap,
            },
            decoding: match self.decoding {
                DecodingArg::Greedy => Decoding::Greedy,
                DecodingArg::Constrained => Decoding::Constrained,
            },
            pack_sentences: match self.ner_context {
                ContextArg::Auto => None,
                ContextArg::Sentence => Some(false),
                ContextArg::Packed => Some(true),
            },
            precision: self.precision(),
        }
    }

    pub fn precision(&self) -> Precision {
        match self.precision {
            PrecisionArg::Fp32 => Precision::Fp32,
            PrecisionArg::Int8 => Precision::Int8,
        }
    }

    pub fn engine(&self) -> EngineOptions {
        let mut e = EngineOptions::default();
        if let Some(w) = self.workers {
            e.workers = w.max(1);
        }
        e.intra_threads = self.intra_threads.max(1);
        e.job_articles = self.job_articles.max(1);
        e
    }
}

#[derive(Args)]
struct AnnotateArgs {
    /// JSONL file, folder of .txt files, or - (JSONL on stdin)
    input: String,
    /// Output JSONL file [default: stdout]
    #[arg(short, long)]
    output: Option<PathBuf>,
    #[command(flatten)]
    models: ModelArgs,
    /// Tasks to run, comma-separated: ner, sentiment, stance (stance implies ner)
    #[arg(long, default_value = "ner,sentiment,stance")]
    tasks: String,
    /// JSONL field holding the id
    #[arg(long, default_value = "id")]
    id_field: String,
    /// JSONL field holding the text
    #[arg(long, default_value = "text")]
    text_field: String,
    /// JSONL field holding the title (copied to the output)
    #[arg(long, default_value = "title")]
    title_field: String,
    /// Leave the article text out of the output
    #[arg(long)]
    no_text: bool,
    /// A phrase whose case-insensitive whole-word matches are scored for stance (repeatable)
    #[arg(long = "target")]
    targets: Vec<String>,
    /// A file of target phrases, one per line (blank lines and lines starting with # skipped)
    #[arg(long)]
    targets_file: Option<PathBuf>,
    /// No progress bar or summary on stderr
    #[arg(short, long)]
    quiet: bool,
    /// Continue an interrupted run: repair a partial last line of --output, skip the records
    /// it already holds, append the rest
    #[arg(long, requires = "output")]
    resume: bool,
    #[command(flatten)]
    run: RunArgs,
}

fn annotate(args: AnnotateArgs) -> Result<ExitCode> {
    let tasks = Tasks::parse(&args.tasks).map_err(anyhow::Error::msg)?;
    let mut targets: Vec<String> = args.targets.iter().map(|t| t.trim().to_string()).collect();
    if let Some(f) = &args.targets_file {
        let raw =
            std::fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?;
        targets.extend(
            raw.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(str::to_string),
        );
    }
    if let Some(t) = targets.iter().find(|t| t.is_empty()) {
        bail!("empty --target {t:?}");
    }
    targets.dedup();
    let opts = AnnotateOptions {
        tasks,
        ner: args.run.ner_options(),
        token_budget: args.run.batch_tokens.max(64),
        include_text: !args.no_text,
        targets,
    };
    let source = Source::from_arg(&args.input);
    if let Source::Jsonl(p) = &source {
        if !p.is_file() {
            bail!("input {} does not exist", p.display());
        }
    }
    let fields = Fields {
        id: args.id_field,
        text: args.text_field,
        title: args.title_field,
    };
    let resume = match (&args.output, args.resume) {
        (Some(p), true) => Some(prepare_resume(p)?),
        _ => None,
    };
    let mut out: Box<dyn Write> = match &args.output {
        Some(p) => {
            let file = if resume.is_some() {
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)
            } else {
                std::fs::File::create(p)
            };
            Box::new(BufWriter::new(
                file.with_context(|| format!("cannot open {}", p.display()))?,
            ))
        }
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    let bar = (!args.quiet && std::io::stderr().is_terminal()).then(|| {
        let b = match source.len_hint() {
            Some(n) => indicatif::ProgressBar::new(n),
            None => indicatif::ProgressBar::new_spinner(),
        };
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {pos}/{len} articles [{elapsed_precise}] {per_sec}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    });
    let on_record = |n: u64| {
        if let Some(b) = &bar {
            b.set_position(n + resume.as_ref().map_or(0, |r| r.records));
        }
    };
    let stop = install_interrupt_handler();
    let done = resume.as_ref().map_or(0, |r| r.records);
    if let Some(r) = &resume {
        if matches!(source, Source::Stdin) {
            bail!("--resume needs an input that can be read again (a file or folder), not stdin");
        }
        check_resume(&source, &fields, r)?;
    }
    let mut engine = args.run.engine();
    engine.skip_records = done;
    let open = || -> Result<Box<dyn Iterator<Item = Item> + Send>, PipelineError> {
        source
            .open(fields.clone())
            .map_err(|e| PipelineError::Input(format!("{}: {e}", args.input)))
    };
    let summary = newsmill_pipeline::run_with(
        open,
        &args.models.paths(),
        &opts,
        &engine,
        &mut out,
        &on_record,
        stop,
    )?;
    out.flush().context("cannot write output")?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let s = &summary.stats;
    if !args.quiet {
        eprintln!(
            "newsmill: {} records: {} annotated, {} errors, {} warnings in {:.1}s ({:.1} articles/s, peak RSS {:.0} MiB){}",
            summary.records,
            s.articles,
            s.errors,
            s.warnings,
            summary.elapsed.as_secs_f64(),
            s.articles as f64 / summary.elapsed.as_secs_f64().max(1e-9),
            bench::peak_rss_mib().unwrap_or(0.0),
            if done > 0 { format!("; {done} records were already in the output") } else { String::new() },
        );
    }
    if summary.interrupted {
        eprintln!(
            "newsmill: interrupted; {} records written{}. Rerun with --resume to finish.",
            summary.records as u64 + done,
            args.output
                .as_ref()
                .map_or(String::new(), |p| format!(" to {}", p.display())),
        );
        return Ok(ExitCode::from(130));
    }
    Ok(if s.errors > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// What an earlier run left in the output file.
struct Resume {
    records: u64,
    last_id: Option<String>,
}

/// Checks that the output's last record has the id of the input record at the same position.
fn check_resume(source: &Source, fields: &Fields, r: &Resume) -> Result<()> {
    if r.records == 0 {
        return Ok(());
    }
    let Some(last) = source.open(fields.clone())?.nth(r.records as usize - 1) else {
        bail!(
            "--resume: the output holds {} records but the input has fewer",
            r.records
        );
    };
    let id = match last {
        Ok(a) => Some(a.id),
        Err(b) => b.id,
    };
    if id != r.last_id {
        bail!(
            "--resume: output record {} has id {:?} but input record {} has id {:?}: not the same input?",
            r.records,
            r.last_id,
            r.records,
            id
        );
    }
    Ok(())
}

/// Drops a partial last line (a run killed mid-write) and counts the complete records.
fn prepare_resume(path: &Path) -> Result<Resume> {
    use std::io::{BufRead, BufReader};
    if !path.exists() {
        return Ok(Resume {
            records: 0,
            last_id: None,
        });
    }
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut reader = BufReader::new(file);
    let (mut records, mut complete_bytes) = (0u64, 0u64);
    let mut last = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line)?;
        if n == 0 || line.last() != Some(&b'\n') {
            break;
        }
        records += 1;
        complete_bytes += n as u64;
        std::mem::swap(&mut last, &mut line);
    }
    let len = std::fs::metadata(path)?.len();
    if len > complete_bytes {
        eprintln!(
            "newsmill: --resume: dropping a partial last line ({} bytes) of {}",
            len - complete_bytes,
            path.display()
        );
        std::fs::OpenOptions::new()
            .write(true)
            .open(path)?
            .set_len(complete_bytes)?;
    }
    let last_id = if records == 0 {
        None
    } else {
        let v: serde_json::Value = serde_json::from_slice(&last).with_context(|| {
            format!(
                "--resume: the last complete line of {} is not JSON",
                path.display()
            )
        })?;
        v.get("id").and_then(|i| i.as_str()).map(str::to_string)
    };
    Ok(Resume { records, last_id })
}

/// Ctrl-C (SIGINT/SIGTERM) raises the returned flag: the run stops reading, finishes what it
/// read and writes it. A second Ctrl-C exits at once.
fn install_interrupt_handler() -> &'static AtomicBool {
    static STOP: AtomicBool = AtomicBool::new(false);
    let _ = ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
    });
    &STOP
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Annotate(a) => annotate(a),
        Command::Eval(e) => eval::run(e),
        Command::Bench(b) => bench::run(b),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("newsmill: error: {e:#}");
            ExitCode::from(1)
        }
    }
}
