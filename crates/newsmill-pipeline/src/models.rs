//! The models of the workers: loading them once per run (the joint model's weights shared by
//! every worker, single-task models one copy per worker), installing them in the engine's
//! worker threads, and spreading a phase's batches over those workers.

use std::cell::OnceCell;
use std::collections::HashMap;
use std::path::PathBuf;

use newsmill_model::{gather_batches, plan_batches, BatchStats, Classifier, ModelError, Precision};
use newsmill_ner::NerModel;
use newsmill_stance::SequenceModel;
use rayon::prelude::*;

use crate::joint::JointModels;
use crate::options::AnnotateOptions;
use crate::plan::{ModelPlan, PlannedJoint};
use crate::PipelineError;
use newsmill_schema::ModelsOut;

/// The models one worker owns.
pub struct Models {
    pub ner: Option<NerModel>,
    pub sentiment: Option<SequenceModel>,
    pub stance: Option<SequenceModel>,
    pub joint: Option<JointModels>,
    /// A second joint checkpoint that answers stance alone (`--stance-model` pointing at a
    /// joint-format folder, e.g. the default `stance/`): one pass per sentence that has an
    /// entity or target, pooled per mention.
    pub joint_stance: Option<JointModels>,
}

/// The joint checkpoints another worker shares (see [`Models::for_another_worker`]).
#[derive(Default)]
struct Shared {
    joint: Option<JointModels>,
    joint_stance: Option<JointModels>,
}

impl Models {
    /// Loads the models the tasks need: a task's own checkpoint when it has one, otherwise the
    /// joint checkpoint. Any problem with a model folder is an error here, before any article
    /// is read.
    pub fn load(plan: &ModelPlan, opts: &AnnotateOptions) -> Result<Models, PipelineError> {
        Self::load_sharing(plan, opts, Shared::default())
    }

    /// The models of another worker: the joint checkpoint's weights are `self`'s (one copy in
    /// memory whatever the number of workers, see `JointModel::share`); single-task checkpoints
    /// are loaded again (each worker owns its copy).
    pub fn for_another_worker(
        &self,
        plan: &ModelPlan,
        opts: &AnnotateOptions,
    ) -> Result<Models, PipelineError> {
        let joint = self.joint.as_ref().map(JointModels::share).transpose()?;
        let joint_stance = self
            .joint_stance
            .as_ref()
            .map(JointModels::share)
            .transpose()?;
        Self::load_sharing(
            plan,
            opts,
            Shared {
                joint,
                joint_stance,
            },
        )
    }

    fn load_sharing(
        plan: &ModelPlan,
        opts: &AnnotateOptions,
        shared: Shared,
    ) -> Result<Models, PipelineError> {
        let compute = opts.ner.compute;
        let fresh_stance = shared.joint_stance.is_none();
        let load_joint = |p: &PlannedJoint| JointModels::load(&p.dir, opts.ner, p.uses);
        let joint_stance = match shared.joint_stance {
            Some(js) => Some(js),
            None => plan.joint_stance.as_ref().map(load_joint).transpose()?,
        };
        let joint = match shared.joint {
            Some(j) => Some(j),
            None => plan.joint.as_ref().map(load_joint).transpose()?,
        };
        // the stance-only checkpoint beside the joint one: the same frozen word embeddings
        if let (true, Some(j), Some(js)) = (fresh_stance, &joint, &joint_stance) {
            js.model.share_word_embeddings(&j.model);
        }
        let sequence = |dir: &Option<PathBuf>| -> Result<_, PipelineError> {
            dir.as_ref()
                .map(|d| SequenceModel::load(d, compute).map_err(Into::into))
                .transpose()
        };
        Ok(Models {
            ner: plan
                .ner
                .as_ref()
                .map(|d| NerModel::load(d, opts.ner))
                .transpose()?,
            sentiment: sequence(&plan.sentiment)?,
            stance: sequence(&plan.stance)?,
            joint,
            joint_stance,
        })
    }
}

impl Models {
    /// The identity of the model that answers each task and the precision it runs in:
    /// `folder@hash:int8`, a joint checkpoint's with the head, `joint@<hash>#tone:int8`.
    pub fn identities(&self) -> ModelsOut {
        let named = |identity: &str, head: Option<&str>, precision: Precision| match head {
            Some(head) => format!("{identity}#{head}:{}", precision.as_str()),
            None => format!("{identity}:{}", precision.as_str()),
        };
        let joint = |used: bool, head: &str| {
            self.joint
                .as_ref()
                .filter(|_| used)
                .map(|j| named(&j.model.identity, Some(head), j.model.compute.precision))
        };
        let single = |c: &Classifier| named(&c.identity, None, c.precision);
        let uses = self.joint.as_ref().map(|j| j.uses).unwrap_or_default();
        ModelsOut {
            ner: self
                .ner
                .as_ref()
                .and_then(|n| n.clf.as_ref().map(single))
                .or_else(|| joint(uses.ner, "ner")),
            sentiment: self.sentiment.as_ref().map(|m| single(&m.clf)).or_else(|| {
                let head = self.joint.as_ref().map_or("", |j| j.sentiment_head);
                joint(uses.sentiment, head)
            }),
            stance: self
                .stance
                .as_ref()
                .map(|m| single(&m.clf))
                .or_else(|| {
                    self.joint_stance.as_ref().map(|j| {
                        named(&j.model.identity, Some("stance"), j.model.compute.precision)
                    })
                })
                .or_else(|| joint(uses.stance, "stance")),
        }
    }
}

thread_local! {
    /// The models of the engine's worker thread this runs on (installed once per thread).
    static WORKER_MODELS: OnceCell<Models> = const { OnceCell::new() };
}

/// Gives the calling thread its own models; `false` if it already has some.
pub(crate) fn install_worker_models(models: Models) -> bool {
    WORKER_MODELS.with(|cell| cell.set(models).is_ok())
}

/// Runs `f` with the calling thread's installed models.
pub(crate) fn with_worker_models<R>(f: impl FnOnce(Option<&Models>) -> R) -> R {
    WORKER_MODELS.with(|cell| f(cell.get()))
}

/// Which of a worker's models runs a phase.
type Pick = fn(&Models) -> Option<&Classifier>;

/// One batch's values (one per member) and counters.
pub(crate) type BatchResult<T> = Result<(Vec<T>, BatchStats), ModelError>;

pub(crate) fn no_models() -> ModelError {
    ModelError::NotLoaded
}

/// Runs every batch of `plan` with `run`, spread over the current rayon pool: each batch on
/// whichever worker is free, with that thread's installed models, so a worker that runs out of
/// jobs helps with another job's batches (results do not depend on which worker ran a batch).
/// Returns the results in plan order.
pub(crate) fn run_plan<T: Send>(
    plan: &[Vec<usize>],
    run: impl Fn(&Models, &[usize]) -> BatchResult<T> + Sync,
) -> Vec<BatchResult<T>> {
    plan.par_iter()
        .with_max_len(1)
        .map(|m| with_worker_models(|wm| wm.map_or_else(|| Err(no_models()), |wm| run(wm, m))))
        .collect()
}

/// Runs `items` through the model `pick` selects, batched by length under `budget`; returns
/// probabilities in input order. Identical inputs run once: a mention repeated in a sentence
/// gives the stance model the same (sentence, mention) pair, and a line repeated across a job
/// the sentiment model the same sentence (counters count what ran).
pub(crate) fn predict(
    pick: Pick,
    items: &[(Vec<u32>, Vec<u32>)],
    budget: usize,
) -> Result<(Vec<Vec<f32>>, BatchStats), PipelineError> {
    // `unique`: the index in `items` of each distinct input; `slot`: each item's place in it
    let mut first: HashMap<&(Vec<u32>, Vec<u32>), usize> = HashMap::with_capacity(items.len());
    let mut unique: Vec<usize> = Vec::with_capacity(items.len());
    let slot: Vec<usize> = items
        .iter()
        .enumerate()
        .map(|(i, it)| {
            *first.entry(it).or_insert_with(|| {
                unique.push(i);
                unique.len() - 1
            })
        })
        .collect();
    let lengths: Vec<usize> = unique.iter().map(|&i| items[i].0.len()).collect();
    let plan = plan_batches(&lengths, budget);
    let results = run_plan(&plan, |m, members| {
        let members: Vec<usize> = members.iter().map(|&u| unique[u]).collect();
        pick(m).ok_or_else(no_models)?.run_batch(items, &members)
    });
    let (probs, stats) = gather_batches(unique.len(), &plan, results)?;
    Ok((slot.into_iter().map(|i| probs[i].clone()).collect(), stats))
}
