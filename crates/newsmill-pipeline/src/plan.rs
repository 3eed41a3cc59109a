//! Which checkpoint answers which task, decided once per run ([`ModelPlan::resolve`]) from the
//! model folders and the options; loading, the worker count's memory estimate, the run record
//! and `eval` all read the same plan.

use std::path::{Path, PathBuf};

use crate::joint::JointUses;
use crate::options::{AnnotateOptions, ModelPaths};
use crate::PipelineError;

/// A joint-format checkpoint and the tasks it answers in this run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedJoint {
    pub dir: PathBuf,
    pub uses: JointUses,
}

/// The checkpoints a run loads, each with what it answers. A task has exactly one answer: its
/// own single-task checkpoint, its own joint-format checkpoint (the default stance-only
/// `stance/`), or the joint checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ModelPlan {
    /// The joint checkpoint, when it answers at least one task.
    pub joint: Option<PlannedJoint>,
    /// A joint-format checkpoint of the stance task's own (stance-only).
    pub joint_stance: Option<PlannedJoint>,
    /// Single-task checkpoints.
    pub ner: Option<PathBuf>,
    pub sentiment: Option<PathBuf>,
    pub stance: Option<PathBuf>,
}

impl ModelPlan {
    /// Whether the run scores stance: the stance task, or user targets.
    pub fn wants_stance(opts: &AnnotateOptions) -> bool {
        opts.tasks.stance || !opts.targets.is_empty()
    }

    /// Decides which folder answers each task of `opts`: a task's own folder when it has one,
    /// else the joint checkpoint. Fails when a task has neither. Reads only the stance
    /// folder's config.json (is it joint-format?).
    pub fn resolve(paths: &ModelPaths, opts: &AnnotateOptions) -> Result<ModelPlan, PipelineError> {
        let t = opts.tasks;
        let wants_stance = Self::wants_stance(opts);
        let joint_stance = paths
            .stance
            .as_ref()
            .filter(|dir| wants_stance && is_joint_checkpoint(dir))
            .map(|dir| PlannedJoint {
                dir: dir.clone(),
                uses: JointUses::stance_only(t.stance),
            });
        let from_joint =
            |own: &Option<PathBuf>, wanted: bool| wanted && own.is_none() && paths.joint.is_some();
        let uses = JointUses {
            ner: from_joint(&paths.ner, t.ner),
            sentiment: from_joint(&paths.sentiment, t.sentiment),
            sentence_head: opts.sentence_head,
            stance: from_joint(&paths.stance, wants_stance),
            entity_stance: t.stance,
        };
        let joint = paths
            .joint
            .as_ref()
            .filter(|_| uses.ner || uses.sentiment || uses.stance)
            .map(|dir| PlannedJoint {
                dir: dir.clone(),
                uses,
            });
        let own = |wanted: bool, p: &Option<PathBuf>, task: &str| {
            wanted
                .then(|| {
                    p.clone()
                        .ok_or_else(|| PipelineError::NoModel(task.to_string()))
                })
                .transpose()
        };
        Ok(ModelPlan {
            ner: own(t.ner && !uses.ner, &paths.ner, "ner")?,
            sentiment: own(
                t.sentiment && !uses.sentiment,
                &paths.sentiment,
                "sentiment",
            )?,
            stance: own(
                wants_stance && !uses.stance && joint_stance.is_none(),
                &paths.stance,
                "stance",
            )?,
            joint,
            joint_stance,
        })
    }

    /// Every folder the run loads, by role (`joint`, `ner`, `sentiment`, `stance`), in that
    /// order.
    pub fn folders(&self) -> Vec<(&'static str, &Path)> {
        let stance = self
            .joint_stance
            .as_ref()
            .map(|j| j.dir.as_path())
            .or(self.stance.as_deref());
        [
            ("joint", self.joint.as_ref().map(|j| j.dir.as_path())),
            ("ner", self.ner.as_deref()),
            ("sentiment", self.sentiment.as_deref()),
            ("stance", stance),
        ]
        .into_iter()
        .filter_map(|(role, dir)| dir.map(|d| (role, d)))
        .collect()
    }

    /// The joint-format checkpoints (shared by every worker) and the single-task ones (one
    /// copy per worker).
    pub fn shared_and_own(&self) -> (Vec<&Path>, Vec<&Path>) {
        let shared = [&self.joint, &self.joint_stance]
            .into_iter()
            .flatten()
            .map(|j| j.dir.as_path())
            .collect();
        let own = [&self.ner, &self.sentiment, &self.stance]
            .into_iter()
            .flatten()
            .map(PathBuf::as_path)
            .collect();
        (shared, own)
    }
}

/// Whether `dir` holds a joint-format checkpoint (config.json with a `newsmill.heads`
/// section). A folder whose config cannot be read is not one; loading it as a single-task
/// model then reports the problem.
pub fn is_joint_checkpoint(dir: &std::path::Path) -> bool {
    newsmill_model::ModelConfig::from_file(&dir.join("config.json"))
        .is_ok_and(|c| c.joint.is_some())
}
