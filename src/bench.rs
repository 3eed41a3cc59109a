//! `newsmill bench`: throughput of the full pipeline on a corpus, as JSON that runs can be
//! compared by.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use newsmill_model::BatchStats;
use newsmill_pipeline::input::{Fields, Item, Source};
use newsmill_pipeline::Engine;
use serde_json::json;

use crate::cli::{ModelArgs, RunArgs, TaskArgs};
use crate::settings::Settings;

#[derive(Args)]
pub struct BenchArgs {
    /// JSONL file or folder of .txt files
    input: String,
    /// Articles to time (the first N records)
    #[arg(long, default_value_t = 500)]
    limit: usize,
    /// Articles run first, untimed, to warm caches and allocators
    #[arg(long, default_value_t = 16)]
    warmup: usize,
    #[command(flatten)]
    what: TaskArgs,
    /// Seconds of the matmul peak measurement
    #[arg(long, default_value_t = 2.0)]
    peak_seconds: f64,
    /// Also write the report to this file
    #[arg(long)]
    json: Option<PathBuf>,
    #[command(flatten)]
    models: ModelArgs,
    #[command(flatten)]
    run: RunArgs,
}

fn model_json(s: &BatchStats, wall: f64) -> serde_json::Value {
    json!({
        "batches": s.batches,
        "sequences": s.sequences,
        "mean_batch_rows": s.sequences as f64 / s.batches.max(1) as f64,
        "mean_batch_columns": s.padded_tokens as f64 / s.sequences.max(1) as f64,
        "real_tokens": s.real_tokens,
        "padded_tokens": s.padded_tokens,
        "padding_efficiency": s.real_tokens as f64 / s.padded_tokens.max(1) as f64,
        "forward_seconds_summed_over_workers": s.forward_seconds,
        "gflop": s.flops / 1e9,
        "gflop_per_second_over_run": s.flops / 1e9 / wall.max(1e-9),
    })
}

pub fn run(args: BenchArgs) -> Result<ExitCode> {
    let settings = Settings::bench(&args.run, &args.models, &args.what)?;
    let opts = &settings.annotate;
    let engine = &settings.engine;
    let source = Source::from_arg(&args.input);
    let items: Vec<Item> = source
        .open(Fields::default())
        .with_context(|| format!("cannot read {}", args.input))?
        .take(args.limit + args.warmup)
        .collect();
    let (warm, timed) = items.split_at(args.warmup.min(items.len()));
    // the models are loaded once; the warm-up and the timed run use the same workers
    let runner = Engine::start(&settings.plan()?, opts, engine)?;
    // one engine run over in-memory records, output discarded
    let run_over = |v: &[Item]| {
        let never = std::sync::atomic::AtomicBool::new(false);
        // the engine's reader thread takes owned records
        let owned: Vec<Item> = v.to_vec();
        runner.run(
            Box::new(owned.into_iter()),
            &mut std::io::sink(),
            &|_| {},
            &never,
        )
    };
    let compute = settings.compute;
    let peak = if compute.device.is_cuda() {
        say!("newsmill bench: measuring the GPU's matmul throughput");
        newsmill_model::measure_gpu_matmul_gflops(compute, args.peak_seconds)
    } else {
        say!(
            "newsmill bench: measuring peak matmul throughput ({} threads)",
            engine.workers
        );
        newsmill_model::measure_matmul_gflops(engine.workers, args.peak_seconds)
    };
    if !warm.is_empty() {
        run_over(warm)?;
    }
    say!("newsmill bench: timing {} articles", timed.len());
    let summary = run_over(timed)?;
    let s = &summary.stats;
    let wall = summary.elapsed.as_secs_f64();
    let mut total = BatchStats::default();
    for m in [&s.ner, &s.sentiment, &s.stance, &s.joint] {
        total.add(m);
    }
    let achieved = total.flops / 1e9 / wall.max(1e-9);
    let report = json!({
        "corpus": args.input,
        "articles": s.articles,
        "errors": s.errors,
        "entities": s.entities,
        "tasks": args.what.tasks,
        "targets": opts.targets,
        "device": compute.device.name(),
        "precision": compute.precision.as_str(),
        "threads": {"workers": engine.workers, "intra_op_per_worker": engine.intra_threads,
                    "job_articles": engine.job_articles, "batch_tokens": opts.token_budget},
        "seconds": wall,
        "model_load_seconds": summary.model_load.as_secs_f64(),
        "articles_per_second": s.articles as f64 / wall.max(1e-9),
        "wordpieces_per_second": total.real_tokens as f64 / wall.max(1e-9),
        "padding_efficiency": total.real_tokens as f64 / total.padded_tokens.max(1) as f64,
        "stage_seconds_summed_over_workers": {
            "prepare": s.prepare_seconds, "decode": s.decode_seconds, "render": s.render_seconds,
            "forward_ner": s.ner.forward_seconds, "forward_sentiment": s.sentiment.forward_seconds,
            "forward_stance": s.stance.forward_seconds, "forward_joint": s.joint.forward_seconds,
            "busy": s.busy_seconds(),
        },
        "models": {"ner": model_json(&s.ner, wall), "sentiment": model_json(&s.sentiment, wall), "stance": model_json(&s.stance, wall), "joint": model_json(&s.joint, wall)},
        "encoder_gflop_per_second": achieved,
        "peak_matmul_gflop_per_second": peak,
        "fraction_of_peak": achieved / peak.max(1e-9),
        "peak_rss_mib": crate::process::peak_rss_mib(),
    });
    let text = serde_json::to_string_pretty(&report)?;
    println!("{text}");
    if let Some(p) = &args.json {
        std::fs::write(p, &text).with_context(|| format!("cannot write {}", p.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}
