//! The streaming engine: a reader thread groups records into jobs and hands each to a rayon
//! pool whose worker threads each own their models (with their own libtorch thread setting);
//! a job's model batches are spread over the pool, so a worker that runs out of jobs helps
//! with the batches of another; the calling thread writes results in input order. At most
//! `max_in_flight` jobs exist at once, so memory does not grow with the corpus.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Receiver, Sender};
use newsmill_schema::ModelsOut;

use crate::annotate::annotate_group;
use crate::defaults;
use crate::input::Item;
use crate::models::{install_worker_models, with_worker_models, Models};
use crate::options::AnnotateOptions;
use crate::plan::ModelPlan;
use crate::state::GroupStats;

use crate::PipelineError;

/// How work is split.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Worker threads (each with a handle on the joint model's weights, and its own copy of
    /// single-task models).
    pub workers: usize,
    /// libtorch intra-op threads per worker.
    pub intra_threads: usize,
    /// Articles per job (a job is batched as one unit).
    pub job_articles: usize,
    /// Bytes of text per job: a job closes at the record that takes its texts to this size
    /// or more.
    pub job_bytes: usize,
    /// Records at the start of the input already written by an earlier run (`--resume`):
    /// they are read (to cut jobs exactly as a fresh run does) but not written.
    pub skip_records: u64,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
            intra_threads: defaults::INTRA_THREADS,
            job_articles: defaults::JOB_ARTICLES,
            job_bytes: defaults::JOB_BYTES,
            skip_records: 0,
        }
    }
}

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct RunSummary {
    pub records: usize,
    /// The stop flag was raised: reading stopped early, everything read was written.
    pub interrupted: bool,
    pub stats: GroupStats,
    pub elapsed: Duration,
    pub model_load: Duration,
}

struct Job {
    index: u64,
    items: Vec<Item>,
    /// Output lines of the first records not to write (already written by an earlier run).
    drop_first: usize,
}

/// The engine of a run: every worker's models loaded once, held by the worker threads of its
/// pool. [`Engine::start`] loads them (a broken model folder fails here, before any record is
/// read); [`Engine::run`] annotates a stream of records, as often as needed (the CLI runs once;
/// `bench` warms up and then times the same engine; an embedding program runs it per batch of
/// its records).
pub struct Engine {
    pool: rayon::ThreadPool,
    opts: AnnotateOptions,
    options: EngineOptions,
    model_load: Duration,
    identities: ModelsOut,
}

impl Engine {
    /// Loads the models of `plan` ([`ModelPlan::resolve`], for the same `opts`) once per
    /// worker (the joint-format checkpoints' weights shared) and starts the worker threads.
    pub fn start(
        plan: &ModelPlan,
        opts: &AnnotateOptions,
        options: &EngineOptions,
    ) -> Result<Engine, PipelineError> {
        let started = Instant::now();
        let workers = options.workers.max(1);
        newsmill_model::set_torch_threads(options.intra_threads);
        let mut worker_models = Vec::with_capacity(workers);
        let first = Models::load(plan, opts)?;
        let identities = first.identities();
        for _ in 1..workers {
            worker_models.push(first.for_another_worker(plan, opts)?);
        }
        worker_models.push(first);
        let intra = options.intra_threads;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(workers)
            .thread_name(|i| format!("newsmill-worker-{i}"))
            .start_handler(move |_| newsmill_model::set_torch_threads(intra))
            .build()
            .map_err(PipelineError::Threads)?;
        // each worker thread takes one set of models for good (for the pool's lifetime)
        let slots: Mutex<Vec<Option<Models>>> =
            Mutex::new(worker_models.into_iter().map(Some).collect());
        let installed: Vec<bool> = pool.broadcast(|ctx| {
            let models = slots
                .lock()
                .ok()
                .and_then(|mut s| s.get_mut(ctx.index()).and_then(Option::take));
            models.is_some_and(install_worker_models)
        });
        if installed.iter().any(|ok| !ok) {
            return Err(PipelineError::WorkerModels);
        }
        Ok(Engine {
            pool,
            opts: opts.clone(),
            options: options.clone(),
            model_load: started.elapsed(),
            identities,
        })
    }

    /// The model that answers each task (`folder@content-hash`, as output records name them).
    pub fn identities(&self) -> &ModelsOut {
        &self.identities
    }

    /// Sets the padded tokens per model batch of later runs (`--batch-tokens`, at least
    /// `defaults::MIN_BATCH_TOKENS`): batches are planned per run, the models do not depend
    /// on it (`bench` times one engine at several budgets).
    pub fn set_token_budget(&mut self, tokens: usize) {
        self.opts.token_budget = tokens.max(defaults::MIN_BATCH_TOKENS);
    }

    /// How long [`Engine::start`] took (loading every worker's models).
    pub fn model_load(&self) -> Duration {
        self.model_load
    }

    /// The annotation options the models were loaded for.
    pub fn options(&self) -> &AnnotateOptions {
        &self.opts
    }

    /// Annotates `records` on the workers and writes their lines, in input order, to `out`
    /// (the first `skip_records` of the engine's options are read but not written). Reading
    /// stops when `stop` is raised; everything read is written. `on_record` is called with the
    /// count of lines written so far. The summary's `elapsed` is this run's time.
    pub fn run(
        &self,
        records: Box<dyn Iterator<Item = Item> + Send>,
        out: &mut dyn Write,
        on_record: &(dyn Fn(u64) + Sync),
        stop: &AtomicBool,
    ) -> Result<RunSummary, PipelineError> {
        let started = Instant::now();
        let engine = &self.options;
        let opts = &self.opts;
        let max_in_flight = engine.workers.max(1) * 3;
        let (job_tx, job_rx) = bounded::<Job>(engine.workers.max(1));
        let (res_tx, res_rx) = bounded::<JobResult>(max_in_flight);
        let (ticket_tx, ticket_rx) = bounded::<()>(max_in_flight);
        for _ in 0..max_in_flight {
            ticket_tx.send(()).expect("ticket channel has room");
        }
        let mut summary = RunSummary {
            model_load: self.model_load,
            ..Default::default()
        };
        let mut write_err: Option<std::io::Error> = None;
        // raised at the first write error: reading stops there (nothing more can be written)
        let halt = AtomicBool::new(false);
        let pool = &self.pool;
        std::thread::scope(|scope| {
            let halt = &halt;
            scope.spawn(move || read_jobs(records, engine, job_tx, ticket_rx, stop, halt));
            scope.spawn(move || {
                pool.in_place_scope(|s| {
                    for job in job_rx.iter() {
                        let res_tx = res_tx.clone();
                        s.spawn(move |_| {
                            let result = with_worker_models(|models| {
                                let models = models.expect("every pool thread got its models");
                                annotate_group(models, job.items, opts)
                            });
                            let (mut lines, stats) = result;
                            lines.drain(..job.drop_first.min(lines.len()));
                            let _ = res_tx.send((job.index, lines, stats));
                        });
                    }
                });
                drop(res_tx);
            });
            // ordered writer
            let mut pending: BTreeMap<u64, (Vec<String>, GroupStats)> = BTreeMap::new();
            let mut next = 0u64;
            for (index, lines, stats) in res_rx.iter() {
                pending.insert(index, (lines, stats));
                while let Some((lines, stats)) = pending.remove(&next) {
                    next += 1;
                    summary.stats.add(&stats);
                    for l in lines {
                        summary.records += 1;
                        if write_err.is_none() {
                            if let Err(e) = out
                                .write_all(l.as_bytes())
                                .and_then(|_| out.write_all(b"\n"))
                            {
                                write_err = Some(e);
                            }
                        }
                        on_record(summary.records as u64);
                    }
                    if write_err.is_none() {
                        if let Err(e) = out.flush() {
                            write_err = Some(e);
                        }
                    }
                    if write_err.is_some() {
                        halt.store(true, Ordering::SeqCst);
                    }
                    let _ = ticket_tx.send(());
                }
            }
        });
        if let Some(e) = write_err {
            return Err(PipelineError::Output(e));
        }
        summary.elapsed = started.elapsed();
        summary.interrupted = stop.load(Ordering::SeqCst);
        Ok(summary)
    }
}

type JobResult = (u64, Vec<String>, GroupStats);

fn read_jobs(
    reader: Box<dyn Iterator<Item = Item> + Send>,
    engine: &EngineOptions,
    job_tx: Sender<Job>,
    tickets: Receiver<()>,
    stop: &AtomicBool,
    halt: &AtomicBool,
) {
    let mut index = 0u64;
    let mut items = Vec::new();
    let mut bytes = 0usize;
    let mut position = 0u64; // records read so far
                             // A job is sent unless all its records are skipped; a job that straddles the skip point is
                             // annotated whole (so batches are the ones a fresh run makes) and its skipped lines dropped.
    let send = |items: Vec<Item>, first: u64, index: &mut u64| -> bool {
        let n = items.len() as u64;
        if first + n <= engine.skip_records {
            return true;
        }
        if tickets.recv().is_err() {
            return false;
        }
        let ok = job_tx
            .send(Job {
                index: *index,
                items,
                drop_first: engine.skip_records.saturating_sub(first) as usize,
            })
            .is_ok();
        *index += 1;
        ok
    };
    let mut first = 0u64;
    for item in reader {
        if halt.load(Ordering::SeqCst) {
            return;
        }
        if stop.load(Ordering::SeqCst) && position >= engine.skip_records {
            break;
        }
        position += 1;
        bytes += item.as_ref().map_or(0, |a| a.text.len());
        items.push(item);
        if items.len() >= engine.job_articles || bytes >= engine.job_bytes {
            if !send(std::mem::take(&mut items), first, &mut index) {
                return;
            }
            first = position;
            bytes = 0;
        }
    }
    if !items.is_empty() {
        send(items, first, &mut index);
    }
}
