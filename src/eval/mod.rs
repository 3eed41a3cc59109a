//! `newsmill eval`: dev-set scores on the same inference path as `annotate`.

mod classify;
mod data;
mod metrics;
mod ner;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use newsmill_ner::NerModel;
use newsmill_stance::SequenceModel;

use newsmill_pipeline::{JointModels, JointUses, PlannedJoint, SentenceHead, Tasks};

use classify::{eval_sentiment, eval_stance};
use data::SentimentFile;
use ner::eval_ner;

use crate::cli::{ComputeArgs, ModelArgs, RunArgs};
use crate::outfile::{InputIdentity, Target};
use crate::settings::Settings;

#[derive(Args)]
pub struct EvalArgs {
    #[command(subcommand)]
    task: EvalTask,
    #[command(flatten)]
    models: ModelArgs,
    #[command(flatten)]
    run: RunArgs,
    #[command(flatten)]
    compute: ComputeArgs,
    /// Also write the scores as JSON to this file (`-`: standard output only), never over the
    /// dev file
    #[arg(long, global = true)]
    json: Option<PathBuf>,
}

#[derive(Subcommand)]
enum EvalTask {
    /// Entity-level exact-match P/R/F1 (conlleval semantics) on a CoNLL file (IOB1 or IOB2 tags
    /// in the last column)
    Ner { file: PathBuf },
    /// Accuracy and macro-F1 of target stance on a NewsMTSC JSONL file
    Stance { file: PathBuf },
    /// Sentence sentiment on a TSV file with a header line: three-class tone
    /// (`label<TAB>sentence`, negative/neutral/positive: accuracy, macro-F1, per-class F1,
    /// calibration error, per source when `<stem>.sources.tsv` is beside it; the joint
    /// checkpoint's `tone` head) or SST-2 (`sentence<TAB>label`, 0/1: accuracy; its
    /// `sentiment` head)
    Sentiment {
        file: PathBuf,
        /// Score only data rows whose index is a multiple of N (the training recipe's held-out
        /// slice of SST-2 train is N = 33)
        #[arg(long)]
        heldout_every: Option<usize>,
    },
}

/// Where a task's predictions come from: its own checkpoint, or the joint one.
enum Backend {
    Ner(Box<NerModel>),
    Sequence(Box<SequenceModel>),
    Joint(Box<JointModels>),
}

impl Backend {
    pub(super) fn dir(&self) -> String {
        match self {
            Backend::Ner(m) => m.clf.as_ref().map(|c| c.dir.display().to_string()),
            Backend::Sequence(m) => Some(m.clf.dir.display().to_string()),
            Backend::Joint(j) => Some(j.model.dir.display().to_string()),
        }
        .unwrap_or_default()
    }
}

/// A dev file and the task it scores (`eval`'s subcommands, `bench --eval TASK=FILE`).
#[derive(Clone, Debug)]
pub enum DevFile {
    Ner(PathBuf),
    Stance(PathBuf),
    Sentiment {
        file: PathBuf,
        heldout_every: Option<usize>,
    },
}

impl DevFile {
    /// `TASK=FILE` (`bench --eval`): ner, stance or sentiment.
    pub fn parse(spec: &str) -> Result<DevFile, String> {
        let (task, file) = spec.split_once('=').ok_or_else(|| {
            format!("{spec:?}: expected TASK=FILE (TASK: ner, stance or sentiment)")
        })?;
        let file = PathBuf::from(file);
        match task {
            "ner" => Ok(DevFile::Ner(file)),
            "stance" => Ok(DevFile::Stance(file)),
            "sentiment" => Ok(DevFile::Sentiment {
                file,
                heldout_every: None,
            }),
            t => Err(format!(
                "{spec:?}: unknown task `{t}` (ner, stance or sentiment)"
            )),
        }
    }

    pub fn task(&self) -> &'static str {
        match self {
            DevFile::Ner(_) => "ner",
            DevFile::Stance(_) => "stance",
            DevFile::Sentiment { .. } => "sentiment",
        }
    }

    pub fn file(&self) -> &Path {
        match self {
            DevFile::Ner(f) | DevFile::Stance(f) | DevFile::Sentiment { file: f, .. } => f,
        }
    }
}

/// The headline figure of a score: (metric, value): NER entity-level micro F1, stance macro
/// F1, three-class tone macro F1, SST-2 accuracy.
pub fn headline(scores: &serde_json::Value) -> Option<(&'static str, f64)> {
    match scores["task"].as_str()? {
        "ner" => Some(("f1", scores["micro"]["f1"].as_f64()?)),
        "stance" => Some(("f1m", scores["f1m"].as_f64()?)),
        _ => match scores["f1m"].as_f64() {
            Some(v) => Some(("f1m", v)),
            None => Some(("accuracy", scores["accuracy"].as_f64()?)),
        },
    }
}

pub fn run(args: EvalArgs) -> Result<ExitCode> {
    let dev = match &args.task {
        EvalTask::Ner { file } => DevFile::Ner(file.clone()),
        EvalTask::Stance { file } => DevFile::Stance(file.clone()),
        EvalTask::Sentiment {
            file,
            heldout_every,
        } => DevFile::Sentiment {
            file: file.clone(),
            heldout_every: *heldout_every,
        },
    };
    // `--json` as safe as `annotate -o`: never the dev file, written whole; `-` is stdout
    let json = args
        .json
        .as_deref()
        .map(|p| Target::plan(Some(p), "--json", &InputIdentity::of_file(dev.file())))
        .transpose()?;
    let report = score(&dev, &args.run, &args.compute, &args.models)?;
    if !matches!(json, Some(Target::Stdout)) {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    if let Some(t) = &json {
        t.write_whole(|f| {
            serde_json::to_writer_pretty(&mut *f, &report)?;
            writeln!(f)?;
            Ok(())
        })
        .with_context(|| format!("cannot write {}", t.name()))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Scores the models of `models` on a dev file, as `newsmill eval` reports it. `eval` runs one
/// model on the calling thread, so the CPU budget the flags describe (`--workers` ×
/// `--intra-threads`) goes to libtorch's intra-op threads (set for the calling process).
pub fn score(
    dev: &DevFile,
    run: &RunArgs,
    compute: &ComputeArgs,
    models: &ModelArgs,
) -> Result<serde_json::Value> {
    let task = dev.task();
    // a sentiment file is read once: its header says which head answers
    let sentiment_file = match dev {
        DevFile::Sentiment { file, .. } => {
            let raw = data::read(file)?;
            let format = SentimentFile::of(&raw, file)?;
            Some((raw, format))
        }
        _ => None,
    };
    // the same plan as `annotate` for this one task: its own folder, else the joint checkpoint
    let tasks = Tasks {
        ner: task == "ner",
        sentiment: task == "sentiment",
        stance: task == "stance",
    };
    let head = match sentiment_file {
        Some((_, SentimentFile::Polarity)) => SentenceHead::Polarity,
        _ => SentenceHead::Auto,
    };
    let settings = Settings::eval(run, compute, models, tasks, head)?;
    newsmill_model::set_torch_threads(settings.engine.workers * settings.engine.intra_threads);
    let budget = settings.annotate.token_budget;
    let ner_opts = settings.annotate.ner;
    let plan = settings.plan()?;
    // eval scores the targets its file gives, not entities
    let joint = |p: &PlannedJoint| -> Result<Backend> {
        let uses = JointUses {
            entity_stance: false,
            ..p.uses
        };
        Ok(Backend::Joint(Box::new(JointModels::load(
            &p.dir, ner_opts, uses,
        )?)))
    };
    let backend = if let Some(dir) = &plan.ner {
        Backend::Ner(Box::new(NerModel::load(dir, ner_opts)?))
    } else if let Some(dir) = plan.sentiment.as_ref().or(plan.stance.as_ref()) {
        Backend::Sequence(Box::new(SequenceModel::load(dir, settings.compute)?))
    } else if let Some(p) = plan.joint_stance.as_ref().or(plan.joint.as_ref()) {
        joint(p)?
    } else {
        bail!("no model folder for task `{task}` (pass --models DIR or --{task}-model DIR)")
    };
    let mut report = match dev {
        DevFile::Ner(file) => eval_ner(&backend, file, budget)?,
        DevFile::Stance(file) => eval_stance(&backend, file, budget)?,
        DevFile::Sentiment {
            file,
            heldout_every,
        } => {
            let (raw, format) = sentiment_file.as_ref().expect("read above");
            eval_sentiment(&backend, file, raw, *format, *heldout_every, budget)?
        }
    };
    report["device"] = settings.compute.device.name().into();
    report["precision"] = settings.compute.precision.as_str().into();
    Ok(report)
}
