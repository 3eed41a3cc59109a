//! Every setting of a run, resolved once from the flags (`cli.rs`): defaults filled (from
//! `newsmill_pipeline::defaults`), bounds applied, what cannot be used as given said on stderr.
//! Commands then make plain library calls with a [`Settings`].

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use newsmill_model::{Compute, Precision};
use newsmill_ner::{Decoding, NerContext, NerOptions};
use newsmill_pipeline::input::Fields;
use newsmill_pipeline::{
    defaults, AnnotateOptions, EngineOptions, ModelPaths, ModelPlan, PipelineError, SentenceHead,
    Tasks,
};
use newsmill_text::Windowing;

use crate::cli::{AnnotateArgs, ComputeArgs, ModelArgs, RecordArgs, RunArgs, ServeArgs, TaskArgs};

/// The settings of an `annotate`, `serve`, `bench` or `eval` run.
pub struct Settings {
    /// What is annotated and how: tasks, NER options, batch budget, targets, output options.
    pub annotate: AnnotateOptions,
    /// Workers, threads and jobs.
    pub engine: EngineOptions,
    /// Device and precision of the models.
    pub compute: Compute,
    /// Where the model folders are (which checkpoint answers which task is then decided once,
    /// by `ModelPlan::resolve`).
    pub models: ModelPaths,
    /// The JSONL fields read.
    pub fields: Fields,
    /// `--ner-context` as given (the NER options hold what it resolves to).
    pub ner_context: NerContext,
    /// Which flags the user gave: a setting capped or shortened later is said only for those.
    pub given: Given,
}

/// Flags given on the command line (not defaulted).
#[derive(Debug, Clone, Copy, Default)]
pub struct Given {
    pub workers: bool,
    pub window: bool,
    pub window_overlap: bool,
}

impl Settings {
    /// `annotate`'s settings.
    pub fn annotate(args: &AnnotateArgs) -> Result<Settings> {
        Settings::records(
            &args.run,
            &args.compute,
            &args.models,
            &args.what,
            &args.record,
        )
    }

    /// `serve`'s settings: `annotate`'s, from the same flags.
    pub fn serve(args: &ServeArgs) -> Result<Settings> {
        Settings::records(
            &args.run,
            &args.compute,
            &args.models,
            &args.what,
            &args.record,
        )
    }

    /// The settings of a command that annotates JSONL records (`annotate`, `serve`): fields
    /// id, text, title; output options (text included, sentence head, boilerplate kept).
    fn records(
        run: &RunArgs,
        compute: &ComputeArgs,
        models: &ModelArgs,
        what: &TaskArgs,
        record: &RecordArgs,
    ) -> Result<Settings> {
        let mut s = Settings::base(run, compute, models)?;
        s.annotate.tasks = tasks(what)?;
        s.annotate.targets = targets(what)?;
        s.annotate.include_text = !record.no_text;
        s.annotate.sentence_head = record.sentence_head;
        s.annotate.keep_boilerplate = record.keep_boilerplate;
        s.fields = Fields {
            id: record.id_field.clone(),
            text: record.text_field.clone(),
            title: record.title_field.clone(),
        };
        Ok(s)
    }

    /// The settings of one row of `bench`'s grid: `annotate`'s with its defaults for what
    /// `bench` has no flag for.
    pub fn bench(
        run: &RunArgs,
        compute: &ComputeArgs,
        models: &ModelArgs,
        what: &TaskArgs,
    ) -> Result<Settings> {
        let mut s = Settings::base(run, compute, models)?;
        s.annotate.tasks = tasks(what)?;
        s.annotate.targets = targets(what)?;
        Ok(s)
    }

    /// `eval`'s settings: one task, scored with `sentence_head` when it is sentiment.
    pub fn eval(
        run: &RunArgs,
        compute: &ComputeArgs,
        models: &ModelArgs,
        task: Tasks,
        sentence_head: SentenceHead,
    ) -> Result<Settings> {
        let mut s = Settings::base(run, compute, models)?;
        s.annotate.tasks = task;
        s.annotate.sentence_head = sentence_head;
        Ok(s)
    }

    /// The settings every run shares. Fails when the device cannot be used (`--device cuda`
    /// without a GPU) or does not run the precision.
    fn base(run: &RunArgs, knobs: &ComputeArgs, models: &ModelArgs) -> Result<Settings> {
        let compute = Compute::resolve(run.device, knobs.precision)?;
        if compute.precision == Precision::Int8 {
            newsmill_model::quiet_int8_notices();
        }
        let default_budget = if compute.device.is_cuda() {
            defaults::GPU_BATCH_TOKENS
        } else {
            defaults::BATCH_TOKENS
        };
        let token_budget = knobs.batch_tokens.unwrap_or(default_budget);
        if token_budget < defaults::MIN_BATCH_TOKENS {
            say!(
                "newsmill: warning: --batch-tokens {token_budget} is below the smallest batch budget: {} is used",
                defaults::MIN_BATCH_TOKENS
            );
        }
        let ner = NerOptions {
            windowing: Windowing {
                max_len: run.window.unwrap_or(defaults::WINDOW),
                overlap: run.window_overlap.unwrap_or(defaults::WINDOW_OVERLAP),
            },
            decoding: run.decoding,
            pack_sentences: run.ner_context.pack_sentences(),
            compute,
        };
        let mut engine = EngineOptions {
            intra_threads: run.intra_threads.max(1),
            job_articles: run.job_articles.max(1),
            ..EngineOptions::default()
        };
        if let Some(w) = run.workers {
            engine.workers = w.max(1);
        }
        Ok(Settings {
            annotate: AnnotateOptions {
                ner,
                token_budget: token_budget.max(defaults::MIN_BATCH_TOKENS),
                ..AnnotateOptions::default()
            },
            engine,
            compute,
            models: models.paths(),
            fields: Fields::default(),
            ner_context: run.ner_context,
            given: Given {
                workers: run.workers.is_some(),
                window: run.window.is_some(),
                window_overlap: run.window_overlap.is_some(),
            },
        })
    }

    /// Which checkpoint answers which task ([`ModelPlan::resolve`], once per run).
    pub fn plan(&self) -> Result<ModelPlan> {
        ModelPlan::resolve(&self.models, &self.annotate).map_err(|e| match e {
            PipelineError::NoModel(task) => anyhow::anyhow!(
                "no model folder for task `{task}` (pass --models DIR or --{task}-model DIR)"
            ),
            e => e.into(),
        })
    }

    /// The settings that change `annotate`'s output: the run record's `settings`, which
    /// `--resume` compares with the earlier run's (each field that differs is named).
    pub fn output_settings(&self) -> OutputSettings<'_> {
        let a = &self.annotate;
        OutputSettings {
            tasks: a.tasks,
            fields: [&self.fields.id, &self.fields.text, &self.fields.title],
            text: a.include_text,
            targets: &a.targets,
            sentence_head: a.sentence_head,
            keep_boilerplate: a.keep_boilerplate,
            batch_tokens: a.token_budget,
            job_articles: self.engine.job_articles,
            window: a.ner.windowing.max_len,
            window_overlap: a.ner.windowing.overlap,
            decoding: a.ner.decoding,
            ner_context: self.ner_context,
            precision: self.compute.precision,
            device: self.compute.device.name(),
        }
    }
}

/// The settings that change an `annotate` run's output (see [`Settings::output_settings`]).
#[derive(serde::Serialize)]
pub struct OutputSettings<'a> {
    pub tasks: Tasks,
    /// The JSONL fields read: id, text, title.
    pub fields: [&'a str; 3],
    pub text: bool,
    pub targets: &'a [String],
    pub sentence_head: SentenceHead,
    pub keep_boilerplate: bool,
    pub batch_tokens: usize,
    pub job_articles: usize,
    pub window: usize,
    pub window_overlap: usize,
    pub decoding: Decoding,
    pub ner_context: NerContext,
    pub precision: Precision,
    pub device: String,
}

fn tasks(what: &TaskArgs) -> Result<Tasks> {
    Tasks::parse(&what.tasks).map_err(|e| anyhow::anyhow!("--tasks: {e}"))
}

/// `--target` phrases and the lines of `--targets-file`, trimmed, repeats in a row dropped.
fn targets(what: &TaskArgs) -> Result<Vec<String>> {
    let mut targets: Vec<String> = what.targets.iter().map(|t| t.trim().to_string()).collect();
    if let Some(f) = &what.targets_file {
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
    Ok(targets)
}

impl ModelArgs {
    /// The model folders of a run: `--models DIR` (or `$NEWSMILL_MODELS`, or the bundle's
    /// `models/`) holding a joint checkpoint (`DIR/joint/`, or `DIR` itself) answers every
    /// task that has no flag and no folder of its own beside it (the default models: `joint/`
    /// and a stance-only `stance/`); without one, `DIR/ner/`, `DIR/sentiment/` and
    /// `DIR/stance/` are the single-task models.
    pub fn paths(&self) -> ModelPaths {
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
