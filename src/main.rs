//! The `newsmill` command line.

/// `eprintln!` that never panics: a message to a closed stderr (`2>&-`, a pipe whose reader
/// went away) is dropped, and the run's result stands.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

mod bench;
mod eval;
mod outfile;
mod report;
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

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use newsmill_model::{Compute, DeviceChoice, Precision};
use newsmill_ner::{Decoding, NerContext, NerOptions};
use newsmill_pipeline::input::{Fields, Source};
use newsmill_pipeline::{
    AnnotateOptions, Engine, EngineOptions, ModelPaths, ModelPlan, PipelineError, SentenceHead,
    Tasks,
};
use newsmill_text::Windowing;

#[derive(Parser)]
#[command(
    name = "newsmill",
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
    /// Write a self-contained HTML report of annotated JSONL (overview, articles with entities
    /// highlighted, actors, errors).
    Report(report::ReportArgs),
    /// Write one flat table of annotated JSONL as CSV or Parquet (columns: docs/tables.md).
    Export(report::ExportArgs),
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
    /// checkpoint (`DIR/joint/`, or `DIR` itself) answers every task that has no flag and no
    /// folder of its own beside it (the default models: `joint/` and a stance-only `stance/`);
    /// without one, `DIR/ner/`, `DIR/sentiment/` and `DIR/stance/` are the single-task models.
    fn paths(&self) -> ModelPaths {
        let base = self
            .models
            .clone()
            .or_else(|| std::env::var_os("NEWSMILL_MODELS").map(PathBuf::from))
            .or_else(bundled_models);
        let joint = base.as_ref().and_then(|b| {
            if b.join("joint").join("config.json").is_file() {
                Some(b.join("joint"))
            } else if b.join("config.json").is_file() {
                Some(b.clone())
            } else {
                None
            }
        });
        // beside a joint checkpoint, a folder of a task's own (the default `stance/`) answers
        // that task when it is there
        let pick = |explicit: &Option<PathBuf>, name: &str| {
            explicit.clone().or_else(|| {
                let b = base.as_ref()?;
                match joint {
                    Some(_) => Some(b.join(name)).filter(|d| d.join("config.json").is_file()),
                    None => Some(b.join(name)),
                }
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

/// The models of a relocatable bundle (`scripts/bundle.sh`): `models/` beside the binary, the
/// default when neither `--models` nor `$NEWSMILL_MODELS` names a folder.
fn bundled_models() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?.join("models");
    dir.is_dir().then_some(dir)
}

/// `newsmill --version`: the crate version, the libtorch version it was built against, and the
/// content hash of the default models (as output records name them, `folder@hash`).
fn version_text() -> String {
    let mut s = format!(
        "newsmill {}\nlibtorch {}\n",
        env!("CARGO_PKG_VERSION"),
        env!("NEWSMILL_LIBTORCH_VERSION")
    );
    let none = ModelArgs {
        models: None,
        ner_model: None,
        sentiment_model: None,
        stance_model: None,
    };
    let paths = none.paths();
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

/// The defaults and bounds of the run options, in one place (the flags' help and the settings
/// below read them).
pub mod defaults {
    /// Padded tokens per model batch on the CPU (measured: DEVELOPERS.md "Engine").
    pub const BATCH_TOKENS: usize = 512;
    /// Padded tokens per model batch on a GPU (DEVELOPERS.md "GPU"): large enough that a
    /// batch's kernels, not their launches, take the GPU's time.
    pub const GPU_BATCH_TOKENS: usize = 16_384;
    /// The smallest batch budget (a shorter one is raised to it).
    pub const MIN_BATCH_TOKENS: usize = 64;
    pub const JOB_ARTICLES: usize = 128;
    pub const INTRA_THREADS: usize = 1;
    /// NER input length in wordpieces, special tokens included.
    pub const WINDOW: usize = 128;
    pub const WINDOW_OVERLAP: usize = 32;
}

/// The run settings of `annotate`, `bench` and `eval`, resolved once from the flags: defaults
/// filled, bounds applied.
pub struct RunSettings {
    pub engine: EngineOptions,
    pub ner: NerOptions,
    /// Device and precision of the models.
    pub compute: Compute,
    pub token_budget: usize,
}

#[derive(Args, Clone)]
pub struct RunArgs {
    /// Worker threads, each with its own models [default: number of cores]
    #[arg(long, global = true, value_parser = positive)]
    workers: Option<usize>,
    /// libtorch intra-op threads per worker
    #[arg(long, default_value_t = defaults::INTRA_THREADS, global = true, value_parser = positive)]
    intra_threads: usize,
    /// Padded tokens per model batch, at least 64 (chosen by measurement, DEVELOPERS.md
    /// "Engine" and "GPU"; int8 results move slightly with it, models/README.md)
    /// [default: 512 on the CPU, 16384 on a GPU]
    #[arg(long, global = true, value_parser = positive)]
    batch_tokens: Option<usize>,
    /// Articles batched together as one job
    #[arg(long, default_value_t = defaults::JOB_ARTICLES, global = true, value_parser = positive)]
    job_articles: usize,
    /// NER input length in wordpieces, special tokens included (at most the model's positions):
    /// consecutive sentences are packed up to this length, longer sentences are windowed
    /// [default: 128]
    #[arg(long, global = true)]
    window: Option<usize>,
    /// Wordpieces shared by consecutive NER windows of a long sentence (at most half a
    /// window's content) [default: 32]
    #[arg(long, global = true)]
    window_overlap: Option<usize>,
    /// How NER tags are chosen per word
    #[arg(long, value_enum, default_value_t = Decoding::Constrained, global = true)]
    decoding: Decoding,
    /// NER context: `sentence` (each sentence alone), `packed` (consecutive sentences packed
    /// up to --window), `auto` (as the model's config.json says it was trained)
    #[arg(long, value_enum, default_value_t = NerContext::Auto, global = true)]
    ner_context: NerContext,
    /// Arithmetic of the encoders: fp32; int8 (CPU: fbgemm int8 weights, dynamically
    /// quantized activations; BERT models); fp16 or bf16 (GPU: encoder weights and activations,
    /// heads in fp32; BERT models)
    #[arg(long, value_enum, default_value_t = Precision::Fp32, global = true)]
    precision: Precision,
    /// Where the models run: cpu, cuda (the first GPU; needs the libtorch 2.11 build, see
    /// README "GPU"), or auto (cuda when libtorch sees a GPU, else cpu; int8 stays on the cpu)
    #[arg(long, value_enum, default_value_t = DeviceChoice::Auto, global = true)]
    device: DeviceChoice,
}

/// A count that must be at least 1 (0 is an error, not silently raised).
fn positive(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

impl RunArgs {
    /// The settings these flags describe, resolved once.
    /// Fails when the device cannot be used (`--device cuda` without a GPU) or does not run
    /// the precision.
    pub fn resolve(&self) -> Result<RunSettings> {
        let compute = Compute::resolve(self.device, self.precision)?;
        let default_budget = if compute.device.is_cuda() {
            defaults::GPU_BATCH_TOKENS
        } else {
            defaults::BATCH_TOKENS
        };
        let token_budget = self.batch_tokens.unwrap_or(default_budget);
        if token_budget < defaults::MIN_BATCH_TOKENS {
            say!(
                "newsmill: warning: --batch-tokens {token_budget} is below the smallest batch budget: {} is used",
                defaults::MIN_BATCH_TOKENS
            );
        }
        Ok(RunSettings {
            engine: self.engine(),
            ner: self.ner_options(compute),
            compute,
            token_budget: token_budget.max(defaults::MIN_BATCH_TOKENS),
        })
    }

    fn ner_options(&self, compute: Compute) -> NerOptions {
        NerOptions {
            windowing: Windowing {
                max_len: self.window(),
                overlap: self.window_overlap(),
            },
            decoding: self.decoding,
            pack_sentences: self.ner_context.pack_sentences(),
            compute,
        }
    }

    pub fn window(&self) -> usize {
        self.window.unwrap_or(defaults::WINDOW)
    }

    pub fn window_overlap(&self) -> usize {
        self.window_overlap.unwrap_or(defaults::WINDOW_OVERLAP)
    }

    fn engine(&self) -> EngineOptions {
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
    /// Inputs, read in the order given as one corpus: JSONL files (plain, gzip or zstd,
    /// told by their first bytes), folders of .txt files, globs (a quoted pattern is expanded
    /// here, sorted), or - (JSONL on stdin, the only input)
    #[arg(required = true, num_args = 1..)]
    inputs: Vec<String>,
    /// Output JSONL file, written as OUT.newsmill-partial and renamed over OUT when the run
    /// finishes; `-` is stdout [default: stdout]
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
    /// Which head of a joint checkpoint gives the sentence sentiment
    #[arg(long, value_enum, default_value_t = SentenceHead::Auto)]
    sentence_head: SentenceHead,
    /// Count boilerplate sentences (role `boilerplate`) in the article tone, the salient actors
    /// and the actors' stance, as other sentences
    #[arg(long)]
    keep_boilerplate: bool,
    /// No progress bar or summary on stderr
    #[arg(short, long)]
    quiet: bool,
    /// Continue an interrupted run: check that the partial output (or --output) belongs to
    /// this input, settings and models (OUT.newsmill.json), drop a partial last line, skip the
    /// records it already holds, append the rest
    #[arg(long, requires = "output")]
    resume: bool,
    /// Also write the HTML report of the output (as `newsmill report`) to this file; needs
    /// -o FILE
    #[arg(long, requires = "output")]
    report: Option<PathBuf>,
    /// With --report: show at most N articles in full (0: all)
    #[arg(long, requires = "report", default_value_t = newsmill_report::ReportOptions::default().max_articles)]
    max_articles: usize,
    #[command(flatten)]
    run: RunArgs,
}

/// With `-q`, libtorch's own warnings (int8's deprecation notices) are not printed either:
/// its log level (`FLAGS_caffe2_log_level`, looked up at run time, so a libtorch without it
/// only keeps printing) is raised to errors.
fn quiet_libtorch() {
    // SAFETY: dlsym with a valid C string; the symbol, when present, is c10's `int32_t` log
    // level, written once here before any model is loaded or any worker runs.
    unsafe {
        let sym = libc::dlsym(libc::RTLD_DEFAULT, c"FLAGS_caffe2_log_level".as_ptr());
        if !sym.is_null() {
            *(sym as *mut i32) = 2;
        }
    }
}

fn annotate(args: AnnotateArgs) -> Result<ExitCode> {
    if args.quiet {
        quiet_libtorch();
    }
    let settings = args.run.resolve()?;
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
        ner: settings.ner,
        token_budget: settings.token_budget,
        include_text: !args.no_text,
        targets,
        sentence_head: args.sentence_head,
        keep_boilerplate: args.keep_boilerplate,
    };
    let source = Source::from_args(&args.inputs)?;
    for warning in source.check()? {
        say!("newsmill: warning: {warning}");
    }
    for part in source.parts() {
        if let Source::Jsonl(p) = part {
            // a regular file, or a stream (FIFO, /dev/fd/N of a process substitution)
            if let Err(e) = std::fs::metadata(p) {
                bail!("input {} does not exist ({e})", p.display());
            }
        }
    }
    let fields = Fields {
        id: args.id_field.clone(),
        text: args.text_field.clone(),
        title: args.title_field.clone(),
    };
    let paths = args.models.paths();
    // which checkpoint answers which task, once: loading, the worker cap and the run record
    let plan = ModelPlan::resolve(&paths, &opts)?;
    let stop = signals::install();

    // Everything is checked before the output is touched: input, output != input, the lock,
    // `--resume`'s run record (then, in `open` below, the models).
    let input_id = outfile::InputIdentity::of(&source);
    let mut target = outfile::Target::plan(args.output.as_deref(), "-o", &input_id)?;
    if args.report.is_some() && !matches!(target, outfile::Target::File(_)) {
        bail!("--report needs -o FILE (a regular file, not stdout or a device)");
    }
    // the report's file is checked and locked now, before any work: never the input or the
    // annotated output (also through links), its folder exists
    let report_target = match &args.report {
        Some(html) => {
            let mut protected = input_id.clone();
            protected.protect(&target, "the annotated output (-o)");
            Some(outfile::Target::plan(Some(html), "--report", &protected)?)
        }
        None => None,
    };
    // the run record (for `-o FILE` only)
    let record = match &target {
        outfile::Target::File(_) => serde_json::json!({
            "newsmill_run_record": 1,
            "input": input_id.describe(&source, stop),
            "settings": settings_identity(&args, &opts),
            "models": outfile::models_identity(&plan.folders()),
        }),
        _ => serde_json::Value::Null,
    };
    let resume = if args.resume {
        if !source.rereadable() {
            bail!("--resume needs an input that can be read again (a file or folder), not stdin or a stream");
        }
        let outfile::Target::File(t) = &target else {
            bail!("--resume needs -o FILE (a regular file, not stdout or a device)");
        };
        let r = t.resume_state(&record)?;
        check_resume(&source, &fields, &r)?;
        Some(r)
    } else {
        None
    };
    let done = resume.as_ref().map_or(0, |r| r.records);

    workers::warn_about_windows(&args.run, &opts, &plan);
    let mut engine = settings.engine.clone();
    engine.workers = workers::cap(
        engine.workers,
        args.run.workers.is_some(),
        &source,
        &engine,
        &plan,
    );
    engine.skip_records = done;

    // progress: input bytes read of the total (compressed bytes for compressed inputs), with
    // an ETA, when every input's size is known; a spinner with the record count otherwise
    let bytes_read = newsmill_pipeline::input::BytesRead::default();
    let bar = (!args.quiet && std::io::stderr().is_terminal()).then(|| {
        let (b, template) = match source.total_bytes() {
            Some(total) => (
                indicatif::ProgressBar::new(total),
                "{bar:30} {bytes}/{total_bytes} [{elapsed_precise}, ETA {eta}] {msg}",
            ),
            None => (
                indicatif::ProgressBar::new_spinner(),
                "{spinner} {bytes} read [{elapsed_precise}] {msg}",
            ),
        };
        b.set_style(
            indicatif::ProgressStyle::with_template(template)
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    });
    let started = std::time::Instant::now();
    let on_record = |n: u64| {
        if let Some(b) = &bar {
            b.set_position(bytes_read.load(std::sync::atomic::Ordering::Relaxed));
            let rate = n as f64 / started.elapsed().as_secs_f64().max(1e-9);
            b.set_message(format!("{} articles, {rate:.1}/s", n + done));
        }
    };
    // every worker's models are loaded before the input or the output is opened: a broken
    // model folder ends the run with nothing changed
    let runner = Engine::start(&plan, &opts, &engine)?;
    let reader = source
        .open_counted(fields.clone(), Some(stop), Some(bytes_read.clone()))
        .map_err(|source_err| PipelineError::Input {
            input: source.parts()[0].name(),
            source: source_err,
        })?;
    let mut out = outfile::Sink::new();
    let mut work_file: Option<std::fs::File> = None;
    match &mut target {
        outfile::Target::Stdout => out.set(
            Box::new(std::io::stdout()),
            "standard output".into(),
            String::new(),
        ),
        outfile::Target::Stream(p) => {
            let f = std::fs::OpenOptions::new()
                .write(true)
                .open(&*p)
                .with_context(|| format!("cannot open {}", p.display()))?;
            out.set(Box::new(f), p.display().to_string(), String::new());
        }
        outfile::Target::File(t) => {
            let f = t.open(&record, resume.as_ref())?;
            let work = resume
                .as_ref()
                .filter(|r| r.records > 0)
                .map_or(t.partial.clone(), |r| r.work.clone());
            let note = format!(
                "; the complete lines written so far are in {} ({} is unchanged); rerun with --resume once fixed",
                work.display(),
                t.shown.display()
            );
            out.set(Box::new(f.try_clone()?), work.display().to_string(), note);
            work_file = Some(f);
        }
    }
    let mut summary = runner.run(reader, &mut out, &on_record, stop)?;
    summary.elapsed += runner.model_load();
    out.flush().context("cannot write output")?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let s = &summary.stats;
    if !args.quiet {
        say!(
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
        let at = match &target {
            outfile::Target::File(t) => {
                let work = resume
                    .as_ref()
                    .filter(|r| r.records > 0)
                    .map_or(t.partial.clone(), |r| r.work.clone());
                if work == t.path {
                    format!(" to {}", t.shown.display())
                } else {
                    format!(
                        " to {} ({} is unchanged)",
                        work.display(),
                        t.shown.display()
                    )
                }
            }
            outfile::Target::Stream(p) => format!(" to {}", p.display()),
            outfile::Target::Stdout => String::new(),
        };
        say!(
            "newsmill: interrupted; {} records written{at}. Rerun with --resume to finish.",
            summary.records as u64 + done,
        );
        return Ok(ExitCode::from(130));
    }
    if let (outfile::Target::File(t), Some(f)) = (&target, work_file.as_ref()) {
        t.finish(f)?;
        if let Some(html) = &report_target {
            let opts = newsmill_report::ReportOptions {
                max_articles: args.max_articles,
                ..Default::default()
            };
            report::write_report_file(&t.path, html, &opts, args.quiet)?;
        }
    }
    Ok(if s.errors > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// The settings of an `annotate` run that change its output, resolved once: the run record's
/// `settings`, which `--resume` compares (each field that differs is named).
#[derive(serde::Serialize)]
struct OutputSettings<'a> {
    tasks: Tasks,
    /// The JSONL fields read: id, text, title.
    fields: [&'a str; 3],
    text: bool,
    targets: &'a [String],
    sentence_head: SentenceHead,
    keep_boilerplate: bool,
    batch_tokens: usize,
    job_articles: usize,
    window: usize,
    window_overlap: usize,
    decoding: Decoding,
    ner_context: NerContext,
    precision: Precision,
    device: String,
}

/// The options that change the output, for the run record `--resume` checks.
fn settings_identity(args: &AnnotateArgs, opts: &AnnotateOptions) -> serde_json::Value {
    let settings = OutputSettings {
        tasks: opts.tasks,
        fields: [&args.id_field, &args.text_field, &args.title_field],
        text: opts.include_text,
        targets: &opts.targets,
        sentence_head: opts.sentence_head,
        keep_boilerplate: opts.keep_boilerplate,
        batch_tokens: opts.token_budget,
        job_articles: args.run.engine().job_articles,
        window: args.run.window(),
        window_overlap: args.run.window_overlap(),
        decoding: opts.ner.decoding,
        ner_context: args.run.ner_context,
        precision: opts.ner.compute.precision,
        device: opts.ner.compute.device.name(),
    };
    serde_json::to_value(settings).expect("settings serialize")
}

/// Checks that the output's last record has the id of the input record at the same position.
fn check_resume(source: &Source, fields: &Fields, r: &outfile::Resume) -> Result<()> {
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
        Command::Annotate(a) => annotate(a),
        Command::Eval(e) => eval::run(e),
        Command::Bench(b) => bench::run(b),
        Command::Report(r) => report::run_report(r),
        Command::Export(x) => report::run_export(x),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            say!("newsmill: error: {e:#}");
            ExitCode::from(1)
        }
    }
}
