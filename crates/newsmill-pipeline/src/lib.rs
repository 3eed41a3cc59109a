//! The driver: reads corpora, chains segmentation, NER, sentence sentiment and entity stance
//! over groups of articles on parallel workers, and writes ordered JSONL.

mod annotate;
mod engine;
pub mod input;
mod joint;
mod models;
mod options;
mod plan;
mod render;
mod state;

pub use annotate::{annotate_group, GroupStats};
pub use engine::{Engine, EngineOptions, RunSummary};
pub use joint::{JointModels, JointResult, JointText, JointUses, SentenceHead};
pub use models::{is_joint_checkpoint, Models};
pub use options::{AnnotateOptions, ModelPaths, Tasks};
pub use plan::{ModelPlan, PlannedJoint};

/// Errors that stop a whole run (record-level problems become error records instead).
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("no model folder for task `{0}` (pass --models DIR or --{0}-model DIR)")]
    NoModel(String),
    #[error(transparent)]
    Ner(#[from] newsmill_ner::NerError),
    #[error(transparent)]
    Stance(#[from] newsmill_stance::StanceError),
    #[error(transparent)]
    Model(#[from] newsmill_model::ModelError),
    #[error("cannot read input {input}: {source}")]
    Input {
        input: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write output: {0}")]
    Output(#[source] std::io::Error),
    #[error("cannot start worker threads: {0}")]
    Threads(#[source] rayon::ThreadPoolBuildError),
    #[error("could not give every worker its models")]
    WorkerModels,
}
