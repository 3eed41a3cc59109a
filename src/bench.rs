//! `newsmill bench`: a grid of configurations (model sets × precisions × batch budgets)
//! timed back to back on the same articles, each row with its throughput, where the time went,
//! batch latencies, memory and, when asked, its accuracy on dev files (`newsmill eval`'s
//! figures). Written as a table on the terminal, JSON (`--json`, docs/bench.schema.json), CSV
//! and a self-contained HTML page with charts (docs/bench.md).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

use anyhow::{bail, Context, Result};
use clap::Args;
use newsmill_model::{BatchStats, Precision, PrecisionChoice};
use newsmill_pipeline::input::{Fields, Item, Source};
use newsmill_pipeline::{Engine, RunSummary};
use newsmill_schema::bench::{
    Accuracy, BenchReport, BenchRow, Latency, Machine, Pass, PhaseSeconds, Spread,
    BENCH_SCHEMA_VERSION,
};

use crate::cli::{positive, ComputeArgs, ModelArgs, RunArgs, TaskArgs};
use crate::eval::{self, DevFile};
use crate::outfile::{InputIdentity, Target};
use crate::process;
use crate::settings::Settings;

#[derive(Args)]
pub struct BenchArgs {
    /// JSONL file or folder of .txt files (not with --from-json)
    #[arg(required_unless_present = "from_json")]
    input: Option<String>,
    /// Articles to time (the first N records)
    #[arg(long, default_value_t = 500)]
    limit: usize,
    /// Articles each row runs first, untimed, to warm caches and allocators
    #[arg(long, default_value_t = 16)]
    warmup: usize,
    #[command(flatten)]
    what: TaskArgs,
    /// A model set to compare (repeatable), DIR or NAME=DIR, as `annotate --models` takes it:
    /// a joint checkpoint (DIR/joint/, with DIR/stance/ beside it when there), or single-task
    /// folders DIR/ner/, DIR/sentiment/, DIR/stance/ [default: the default models]
    #[arg(long = "models")]
    models: Vec<PathBuf>,
    /// A NER checkpoint to compare (repeatable): the first model set with its NER model
    /// replaced by this one
    #[arg(long)]
    ner_model: Vec<PathBuf>,
    /// A sentence sentiment checkpoint to compare (repeatable), as --ner-model
    #[arg(long)]
    sentiment_model: Vec<PathBuf>,
    /// An entity stance checkpoint to compare (repeatable), as --ner-model
    #[arg(long)]
    stance_model: Vec<PathBuf>,
    /// Precisions to compare, comma-separated: auto (as annotate's default: int8 on this CPU if
    /// its kernels run it, bf16 on a GPU), fp32, int8; fp16, bf16 on a GPU
    #[arg(long, value_enum, value_delimiter = ',', default_value = "auto")]
    precision: Vec<PrecisionChoice>,
    /// Padded tokens per model batch to compare, comma-separated [default: 512 on the CPU,
    /// 16384 on a GPU]
    #[arg(long, value_delimiter = ',', value_parser = positive)]
    batch_tokens: Vec<usize>,
    /// Timed runs of every row; the rows take turns (run 1 of every row, then run 2, ...)
    #[arg(long, default_value_t = 3, value_parser = positive)]
    repeat: usize,
    /// Score every row on a dev file, TASK=FILE (repeatable): ner=CoNLL file, stance=NewsMTSC
    /// JSONL, sentiment=TSV (as `newsmill eval`)
    #[arg(long = "eval", value_parser = DevFile::parse)]
    eval: Vec<DevFile>,
    /// Seconds of the matmul peak measurement
    #[arg(long, default_value_t = 2.0)]
    peak_seconds: f64,
    /// Write the report as JSON (docs/bench.schema.json); - is stdout
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write the rows as CSV, one line per row
    #[arg(long)]
    csv: Option<PathBuf>,
    /// Write the report as one self-contained HTML page with charts
    #[arg(long)]
    html: Option<PathBuf>,
    /// Measure nothing: print and write (--json, --csv, --html) the report of an earlier run
    /// from its JSON
    #[arg(long, conflicts_with = "input")]
    from_json: Option<PathBuf>,
    #[command(flatten)]
    run: RunArgs,
}

/// One model set of the grid: its name in the report and its folders.
struct ModelSet {
    name: String,
    models: ModelArgs,
}

/// The model sets of the flags: each `--models` folder, then each single-task checkpoint
/// swapped into the first set; the default models when none is given.
fn model_sets(args: &BenchArgs) -> Vec<ModelSet> {
    let mut sets: Vec<ModelSet> = args
        .models
        .iter()
        .map(|m| {
            let (name, dir) = named(m);
            ModelSet {
                name,
                models: ModelArgs {
                    models: Some(dir),
                    ..ModelArgs::default()
                },
            }
        })
        .collect();
    let first = sets.first().map(|s| (s.name.clone(), s.models.clone()));
    let (base_name, base) = first.unwrap_or_else(|| ("default".into(), ModelArgs::default()));
    let swaps = [
        ("ner", &args.ner_model),
        ("sentiment", &args.sentiment_model),
        ("stance", &args.stance_model),
    ];
    for (task, dirs) in swaps {
        for dir in dirs {
            let mut models = base.clone();
            match task {
                "ner" => models.ner_model = Some(dir.clone()),
                "sentiment" => models.sentiment_model = Some(dir.clone()),
                _ => models.stance_model = Some(dir.clone()),
            }
            sets.push(ModelSet {
                name: format!("{base_name} + {task}={}", dir.display()),
                models,
            });
        }
    }
    if sets.is_empty() {
        sets.push(ModelSet {
            name: base_name,
            models: base,
        });
    }
    sets
}

/// `NAME=DIR` (NAME without a `/`, DIR a folder) names a model set; anything else is a folder,
/// named as given.
fn named(arg: &Path) -> (String, PathBuf) {
    let text = arg.to_string_lossy();
    if let Some((name, dir)) = text.split_once('=') {
        if !name.is_empty() && !name.contains('/') && !arg.is_dir() && Path::new(dir).is_dir() {
            return (name.to_string(), PathBuf::from(dir));
        }
    }
    (text.into_owned(), arg.to_path_buf())
}

/// A model set loaded at one precision: one engine, timed at every batch budget.
struct Loaded {
    set: usize,
    /// As asked (`auto` keeps its fp32 fallback for model types int8 does not cover).
    choice: PrecisionChoice,
    /// As resolved: the row's label.
    precision: Precision,
    engine: Engine,
    model_rss_mib: f64,
}

/// One row's timed runs.
#[derive(Default)]
struct Timings {
    runs: Vec<RunSummary>,
    /// The largest growth of the resident memory above its level at the start of a run.
    working_rss_mib: f64,
}

pub fn run(args: BenchArgs) -> Result<ExitCode> {
    if let Some(from) = &args.from_json {
        let text = std::fs::read_to_string(from)
            .with_context(|| format!("cannot read {}", from.display()))?;
        let report: BenchReport = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a newsmill bench report", from.display()))?;
        let mut protected = InputIdentity::of_file(from);
        let outputs = Outputs::plan(&args, &mut protected)?;
        outputs.write(&report)?;
        return Ok(ExitCode::SUCCESS);
    }
    let input = args.input.as_deref().expect("clap: input or --from-json");
    let source = Source::from_arg(input);
    let mut protected = InputIdentity::of(&source);
    for dev in &args.eval {
        if !dev.file().is_file() {
            bail!("--eval {}={}: not a file", dev.task(), dev.file().display());
        }
    }
    // outputs are planned (checked, locked) before anything is measured
    let outputs = Outputs::plan(&args, &mut protected)?;
    let items: Vec<Item> = source
        .open(Fields::default())
        .with_context(|| format!("cannot read {input}"))?
        .take(args.limit + args.warmup)
        .collect();
    let (warm, timed) = items.split_at(args.warmup.min(items.len()));
    if timed.is_empty() {
        bail!(
            "{input}: no articles to time (after {} warm-up ones)",
            warm.len()
        );
    }
    let sets = model_sets(&args);
    let budgets: Vec<Option<usize>> = if args.batch_tokens.is_empty() {
        vec![None]
    } else {
        args.batch_tokens.iter().copied().map(Some).collect()
    };
    let compute_of = |precision: PrecisionChoice, batch_tokens: Option<usize>| ComputeArgs {
        precision,
        batch_tokens,
    };
    let settings_of = |set: &ModelSet, precision: PrecisionChoice, batch_tokens: Option<usize>| {
        Settings::bench(
            &args.run,
            &compute_of(precision, batch_tokens),
            &set.models,
            &args.what,
        )
        .with_context(|| format!("model set {}", set.name))
    };
    // the machine: settings of the first row (every row shares device, workers and threads)
    let first = settings_of(&sets[0], args.precision[0], budgets[0])?;
    // the precisions as resolved on this machine, each once (`auto` is int8 here, or fp32...)
    let mut precisions: Vec<(PrecisionChoice, Precision)> = Vec::new();
    for &choice in &args.precision {
        let resolved = settings_of(&sets[0], choice, budgets[0])?.compute.precision;
        if !precisions.iter().any(|&(_, p)| p == resolved) {
            precisions.push((choice, resolved));
        }
    }
    let compute = first.compute;
    let engine_options = first.engine.clone();
    let peak = if compute.device.is_cuda() {
        say!("newsmill bench: measuring the GPU's matmul throughput");
        newsmill_model::measure_gpu_matmul_gflops(compute, args.peak_seconds)
    } else {
        say!(
            "newsmill bench: measuring peak matmul throughput ({} threads)",
            engine_options.workers
        );
        newsmill_model::measure_matmul_gflops(engine_options.workers, args.peak_seconds)
    };
    let base_rss = process::rss_mib().unwrap_or(0.0);
    // every model set at every precision loaded once, for the whole run
    let mut loaded: Vec<Loaded> = Vec::new();
    for (s, set) in sets.iter().enumerate() {
        for &(choice, precision) in &precisions {
            let settings = settings_of(set, choice, budgets[0])?;
            say!(
                "newsmill bench: loading {} ({})",
                set.name,
                precision.as_str()
            );
            let before = process::rss_mib().unwrap_or(0.0);
            let engine = Engine::start(&settings.plan()?, &settings.annotate, &settings.engine)
                .with_context(|| format!("model set {}", set.name))?;
            loaded.push(Loaded {
                set: s,
                choice,
                precision,
                engine,
                model_rss_mib: (process::rss_mib().unwrap_or(0.0) - before).max(0.0),
            });
        }
    }
    // rows: (loaded engine, batch budget)
    let rows: Vec<(usize, usize)> = (0..loaded.len())
        .flat_map(|l| {
            let default = loaded[l].engine.options().token_budget;
            budgets
                .iter()
                .map(move |b| (l, b.unwrap_or(default)))
                .collect::<Vec<_>>()
        })
        .collect();
    let never = AtomicBool::new(false);
    let run_over = |engine: &Engine, v: &[Item]| -> Result<RunSummary> {
        // the engine's reader thread takes owned records
        let owned: Vec<Item> = v.to_vec();
        Ok(engine.run(
            Box::new(owned.into_iter()),
            &mut std::io::sink(),
            &|_| {},
            &never,
        )?)
    };
    if !warm.is_empty() {
        say!(
            "newsmill bench: warming up {} rows ({} articles each)",
            rows.len(),
            warm.len()
        );
        for &(l, budget) in &rows {
            loaded[l].engine.set_token_budget(budget);
            run_over(&loaded[l].engine, warm)?;
        }
    }
    let mut timings: Vec<Timings> = rows.iter().map(|_| Timings::default()).collect();
    for rep in 0..args.repeat {
        say!(
            "newsmill bench: run {} of {}: {} rows × {} articles",
            rep + 1,
            args.repeat,
            rows.len(),
            timed.len()
        );
        for (r, &(l, budget)) in rows.iter().enumerate() {
            loaded[l].engine.set_token_budget(budget);
            process::reset_peak_rss();
            let start_rss = process::rss_mib().unwrap_or(0.0);
            let summary = run_over(&loaded[l].engine, timed)?;
            let grew = process::peak_rss_mib().unwrap_or(start_rss) - start_rss;
            let t = &mut timings[r];
            t.working_rss_mib = t.working_rss_mib.max(grew);
            t.runs.push(summary);
        }
    }
    // accuracy after the timing: `eval` sets libtorch's threads of this process
    let mut accuracy: Vec<Vec<Accuracy>> = rows.iter().map(|_| Vec::new()).collect();
    for (r, &(l, budget)) in rows.iter().enumerate() {
        let set = &sets[loaded[l].set];
        for dev in &args.eval {
            say!(
                "newsmill bench: scoring {} ({}, {budget} tokens) on {}",
                set.name,
                loaded[l].precision.as_str(),
                dev.file().display()
            );
            let compute = compute_of(loaded[l].choice, Some(budget));
            let scores = eval::score(dev, &args.run, &compute, &set.models)
                .with_context(|| format!("--eval {}={}", dev.task(), dev.file().display()))?;
            let (metric, value) = eval::headline(&scores).with_context(|| {
                format!("--eval {}: no headline figure in the scores", dev.task())
            })?;
            accuracy[r].push(Accuracy {
                task: dev.task().into(),
                file: dev.file().display().to_string(),
                metric: metric.into(),
                value,
                details: scores,
            });
        }
    }
    let (cpu, cpu_flags) = process::cpu_description();
    let report = BenchReport {
        bench_schema_version: BENCH_SCHEMA_VERSION,
        newsmill: env!("CARGO_PKG_VERSION").into(),
        corpus: input.into(),
        articles: timed.len(),
        warmup_articles: warm.len(),
        repeat: args.repeat,
        tasks: args.what.tasks.clone(),
        machine: Machine {
            precision_kernels: precision_kernels(
                &precisions.iter().map(|&(_, p)| p).collect::<Vec<_>>(),
                &cpu_flags,
                compute.device.is_cuda(),
            ),
            cpu,
            cpu_flags,
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            workers: engine_options.workers,
            intra_threads: engine_options.intra_threads,
            libtorch: env!("NEWSMILL_LIBTORCH_VERSION").into(),
            device: compute.device.name(),
            peak_matmul_gflop_per_second: peak,
        },
        rows: rows
            .iter()
            .zip(timings)
            .zip(accuracy)
            .map(|((&(l, budget), t), accuracy)| {
                let lo = &loaded[l];
                row(&sets[lo.set].name, lo, budget, &t, base_rss, peak, accuracy)
            })
            .collect(),
    };
    outputs.write(&report)?;
    Ok(ExitCode::SUCCESS)
}

/// Every model's counters of a run, added.
fn total(summary: &RunSummary) -> BatchStats {
    let s = &summary.stats;
    let mut total = BatchStats::default();
    for m in [&s.ner, &s.sentiment, &s.stance, &s.joint] {
        total.add(m);
    }
    total
}

fn row(
    name: &str,
    lo: &Loaded,
    batch_tokens: usize,
    t: &Timings,
    base_rss: f64,
    peak: f64,
    accuracy: Vec<Accuracy>,
) -> BenchRow {
    let speed = |s: &RunSummary| s.stats.articles as f64 / s.elapsed.as_secs_f64().max(1e-9);
    let speeds: Vec<f64> = t.runs.iter().map(speed).collect();
    // the median run (the lower middle one for an even count) gives the other figures
    let mut order: Vec<usize> = (0..t.runs.len()).collect();
    order.sort_by(|&a, &b| speeds[a].total_cmp(&speeds[b]));
    let mid = &t.runs[order[(order.len() - 1) / 2]];
    let wall = mid.elapsed.as_secs_f64().max(1e-9);
    let all = total(mid);
    let s = &mid.stats;
    let latencies: Vec<f64> = t
        .runs
        .iter()
        .flat_map(|r| total(r).batch_seconds)
        .map(f64::from)
        .collect();
    let gflops = all.flops / 1e9 / wall;
    BenchRow {
        config: name.into(),
        models: lo.engine.identities().clone(),
        precision: lo.precision.as_str().into(),
        batch_tokens,
        articles_per_second: Spread::of(&speeds),
        seconds: Spread::of(
            &t.runs
                .iter()
                .map(|r| r.elapsed.as_secs_f64())
                .collect::<Vec<_>>(),
        ),
        wordpieces_per_second: all.real_tokens as f64 / wall,
        encoder_gflop_per_second: gflops,
        fraction_of_peak: if peak > 0.0 { gflops / peak } else { 0.0 },
        padding_efficiency: all.real_tokens as f64 / all.padded_tokens.max(1) as f64,
        phase_seconds: PhaseSeconds {
            prepare: s.prepare_seconds,
            encoder: all.forward_seconds,
            decode: s.decode_seconds,
            render: s.render_seconds,
        },
        passes: [
            ("joint", &s.joint),
            ("ner", &s.ner),
            ("sentiment", &s.sentiment),
            ("stance", &s.stance),
        ]
        .into_iter()
        .filter(|(_, m)| m.batches > 0)
        .map(|(name, m)| {
            let pass = Pass {
                batches: m.batches,
                sequences: m.sequences,
                real_tokens: m.real_tokens,
                padded_tokens: m.padded_tokens,
                gflop: m.flops / 1e9,
                seconds: m.forward_seconds,
            };
            (name.to_string(), pass)
        })
        .collect(),
        batch_latency_ms: Latency::of_seconds(&latencies),
        peak_rss_mib: base_rss + lo.model_rss_mib + t.working_rss_mib,
        model_rss_mib: lo.model_rss_mib,
        entities: s.entities,
        errors: s.errors,
        accuracy,
    }
}

/// The kernels behind each precision of the grid on this machine.
fn precision_kernels(
    precisions: &[Precision],
    cpu_flags: &[String],
    cuda: bool,
) -> std::collections::BTreeMap<String, String> {
    let has = |f: &str| cpu_flags.iter().any(|x| x == f);
    precisions
        .iter()
        .map(|p| {
            let kernels = match (p, cuda) {
                (Precision::Int8, _) if has("avx512f") && has("avx512_vnni") => {
                    "fbgemm int8 (AVX-512 VNNI)"
                }
                (Precision::Int8, _) if has("avx512f") && has("avx512bw") => {
                    "fbgemm int8 (AVX-512)"
                }
                (Precision::Int8, _) if has("avx2") => "fbgemm int8 (AVX2)",
                (Precision::Int8, _) => "fbgemm int8 (no AVX2: reference kernels)",
                (_, true) => "libtorch CUDA matmul",
                (_, false) => "libtorch CPU matmul (fp32)",
            };
            (p.as_str().to_string(), kernels.to_string())
        })
        .collect()
}

/// The files `--json`, `--csv` and `--html` name, planned before anything is measured: never
/// the corpus or each other, locked, each written whole at the end.
struct Outputs {
    json: Option<Target>,
    csv: Option<Target>,
    html: Option<Target>,
}

impl Outputs {
    fn plan(args: &BenchArgs, protected: &mut InputIdentity) -> Result<Outputs> {
        let mut plan = |p: &Option<PathBuf>, flag: &str| -> Result<Option<Target>> {
            let Some(p) = p else { return Ok(None) };
            let t = Target::plan(Some(p.as_path()), flag, protected)?;
            protected.protect(&t, flag);
            Ok(Some(t))
        };
        Ok(Outputs {
            json: plan(&args.json, "--json")?,
            csv: plan(&args.csv, "--csv")?,
            html: plan(&args.html, "--html")?,
        })
    }

    /// The table on the terminal (standard error when an output is standard output), then
    /// the files.
    fn write(&self, report: &BenchReport) -> Result<()> {
        let table = newsmill_report::bench::bench_table(report);
        let to_stdout = [&self.json, &self.csv, &self.html]
            .iter()
            .any(|t| matches!(t, Some(Target::Stdout)));
        if to_stdout {
            say!("{table}");
        } else {
            print!("{table}");
        }
        if let Some(t) = &self.json {
            t.write_whole(|f| {
                serde_json::to_writer_pretty(&mut *f, report)?;
                writeln!(f)?;
                Ok(())
            })
            .with_context(|| format!("cannot write {}", t.name()))?;
        }
        if let Some(t) = &self.csv {
            t.write_whole(|f| Ok(newsmill_report::bench::write_bench_csv(report, f)?))
                .with_context(|| format!("cannot write {}", t.name()))?;
        }
        if let Some(t) = &self.html {
            t.write_whole(|f| Ok(newsmill_report::bench::write_bench_html(report, f)?))
                .with_context(|| format!("cannot write {}", t.name()))?;
        }
        Ok(())
    }
}
