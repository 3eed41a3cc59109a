//! The driver: reads corpora, chains segmentation, NER, sentence sentiment and entity stance
//! over groups of articles on parallel workers, and writes ordered JSONL.

mod annotate;
pub mod defaults;
mod engine;
pub mod input;
mod joint;
mod models;
mod options;
mod phases;
mod plan;
mod render;
mod state;

pub use annotate::annotate_group;
pub use engine::{Engine, EngineOptions, RunSummary};
pub use joint::{JointModels, JointResult, JointText, JointUses, SentenceHead};
pub use models::Models;
pub use options::{AnnotateOptions, ModelPaths, Tasks};
pub use plan::{is_joint_checkpoint, ModelPlan, PlannedJoint};
pub use state::GroupStats;

/// Errors that stop a whole run (record-level problems become error records instead).
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// No model folder answers this task.
    #[error("no model folder for task `{0}`")]
    NoModel(String),
    #[error(transparent)]
    Ner(#[from] newsmill_ner::NerError),
    #[error(transparent)]
    Stance(#[from] newsmill_stance::StanceError),
    #[error(transparent)]
    Model(#[from] newsmill_model::ModelError),
    #[error("cannot read input {input}")]
    Input {
        input: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write output")]
    Output(#[source] std::io::Error),
    #[error("cannot start worker threads")]
    Threads(#[source] rayon::ThreadPoolBuildError),
    #[error("could not give every worker its models")]
    WorkerModels,
}

/// An error and its causes, one after the other (`what failed: why: why`), as `{:#}` of
/// anyhow prints them: for messages that are not printed by the CLI's edge (error records).
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cause = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cause is said once: by the chain, not also by the message.
    #[test]
    fn causes_are_said_once() {
        let e = PipelineError::Input {
            input: "a.jsonl".into(),
            source: std::io::Error::other("boom"),
        };
        assert_eq!(error_chain(&e), "cannot read input a.jsonl: boom");
        let e = PipelineError::Model(newsmill_model::ModelError::Read {
            path: "m/config.json".into(),
            source: std::io::Error::other("EIO"),
        });
        assert_eq!(error_chain(&e), "m/config.json: cannot read: EIO");
    }
}
