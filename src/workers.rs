//! Settings that cannot do what was asked are said on stderr, not changed silently: the worker
//! count (capped by the work and by memory) and the NER window options.

use std::path::Path;

use newsmill_pipeline::input::Source;
use newsmill_pipeline::{EngineOptions, ModelPlan};

use crate::settings::Settings;

/// Bytes of memory one worker needs beyond the weights themselves (activations, batches).
const WORKER_OVERHEAD: u64 = 64 << 20;

/// The engine options of a run over `source`: the settings' own, with the worker count capped
/// ([`cap`]); the NER window options said on stderr first where they cannot be used as given.
pub fn engine_options(settings: &Settings, plan: &ModelPlan, source: &Source) -> EngineOptions {
    warn_about_windows(settings, plan);
    let mut engine = settings.engine.clone();
    engine.workers = cap(
        engine.workers,
        settings.given.workers,
        source,
        &engine,
        plan,
    );
    engine
}

/// The number of workers to start: `requested`, but no more than the jobs the input can make
/// (an idle worker only costs memory) and than the memory available: the joint checkpoint's
/// weights exist once (the workers share them), single-task checkpoints once per worker. Says
/// so when an explicit `--workers` is capped.
fn cap(
    requested: usize,
    explicit: bool,
    source: &Source,
    engine: &EngineOptions,
    plan: &ModelPlan,
) -> usize {
    let requested = requested.max(1);
    let mut n = requested;
    if n > 1 {
        if let Some(jobs) = source.jobs_upper_bound(engine.job_articles, engine.job_bytes, n as u64)
        {
            let by_work = jobs.clamp(1, n as u64) as usize;
            if by_work < n {
                if explicit {
                    say!(
                        "newsmill: warning: --workers {requested}: the input makes at most {jobs} job(s) of up to {} articles, so {by_work} worker(s) start",
                        engine.job_articles
                    );
                }
                n = by_work;
            }
        }
    }
    if n > 1 {
        let (shared, per_worker) = worker_bytes(plan, engine.intra_threads);
        if let Some(avail) = crate::process::available_memory() {
            let room = (avail / 4 * 3).saturating_sub(shared);
            let by_memory = (room / per_worker.max(1)).max(1) as usize;
            if by_memory < n {
                say!(
                    "newsmill: warning: {n} workers would need about {} MiB ({} MiB of shared weights, about {} MiB per worker) but {} MiB are available: {by_memory} worker(s) start",
                    (shared + per_worker * n as u64) >> 20,
                    shared >> 20,
                    per_worker >> 20,
                    avail >> 20
                );
                n = by_memory;
            }
        }
    }
    n
}

/// Estimated memory: (weights shared by every worker — the joint-format checkpoints'; per
/// worker — its single-task checkpoints and activations), from the run's [`ModelPlan`].
/// Weights count twice (libtorch's copy and the load buffers; int8 keeps fp32 weights and adds
/// the packed ones).
fn worker_bytes(plan: &ModelPlan, intra_threads: usize) -> (u64, u64) {
    let size = |p: &Path| std::fs::metadata(p.join("model.safetensors")).map_or(0, |m| m.len());
    let (shared, own) = plan.shared_and_own();
    let shared: u64 = shared.into_iter().map(size).sum();
    let own: u64 = own.into_iter().map(size).sum();
    (
        2 * shared,
        2 * own + WORKER_OVERHEAD * intra_threads.max(1) as u64,
    )
}

/// Says on stderr when NER window options given on the command line cannot be used as given:
/// a window longer than the NER model's positions, an overlap of more than half a window's
/// content. (The defaults are fitted to the model without a word.)
fn warn_about_windows(settings: &Settings, plan: &ModelPlan) {
    let given = settings.given;
    if !settings.annotate.tasks.ner || !(given.window || given.window_overlap) {
        return;
    }
    let windowing = settings.annotate.ner.windowing;
    let mut window = windowing.max_len;
    let ner = plan
        .ner
        .as_deref()
        .or(plan.joint.as_ref().map(|j| j.dir.as_path()));
    if let Some(positions) = ner.and_then(model_positions) {
        if window > positions {
            if given.window {
                say!(
                    "newsmill: warning: --window {window} is longer than the NER model's {positions} positions (max_position_embeddings): windows of {positions} wordpieces are used"
                );
            }
            window = positions;
        }
    }
    // newsmill_text::Windowing: at most half a window's content (special tokens excluded)
    let content = window.saturating_sub(2).max(1);
    let overlap = windowing.overlap;
    if overlap > content / 2 {
        say!(
            "newsmill: warning: --window-overlap {overlap} is more than half of a window's {content} content wordpieces ({window} less 2 special tokens): an overlap of {} is used",
            content / 2
        );
    }
}

fn model_positions(dir: &Path) -> Option<usize> {
    newsmill_model::ModelConfig::from_file(&dir.join("config.json"))
        .ok()
        .map(|c| c.max_positions)
}
