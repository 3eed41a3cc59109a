//! What a run annotates and with what: the tasks, the model folders, and the options that do
//! not depend on the models — resolved once by the CLI.

use std::path::PathBuf;

use newsmill_ner::NerOptions;

use crate::joint::SentenceHead;

/// Which models run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Tasks {
    pub ner: bool,
    pub sentiment: bool,
    pub stance: bool,
}

impl Default for Tasks {
    fn default() -> Self {
        Tasks {
            ner: true,
            sentiment: true,
            stance: true,
        }
    }
}

impl Tasks {
    /// Parses `ner,sentiment,stance` (any subset). Stance needs entities, so it implies NER.
    pub fn parse(s: &str) -> Result<Tasks, String> {
        let mut t = Tasks {
            ner: false,
            sentiment: false,
            stance: false,
        };
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part {
                "ner" => t.ner = true,
                "sentiment" => t.sentiment = true,
                "stance" => t.stance = true,
                other => {
                    return Err(format!(
                        "unknown task `{other}` (known: ner, sentiment, stance)"
                    ))
                }
            }
        }
        if t.stance {
            t.ner = true;
        }
        if !(t.ner || t.sentiment) {
            return Err("no task selected".into());
        }
        Ok(t)
    }
}

/// Model folders: a joint checkpoint that answers every task it is not overridden for, and
/// single-task checkpoints for the tasks that have one.
#[derive(Debug, Clone, Default)]
pub struct ModelPaths {
    pub joint: Option<PathBuf>,
    pub ner: Option<PathBuf>,
    pub sentiment: Option<PathBuf>,
    pub stance: Option<PathBuf>,
}

/// Options of annotation that do not depend on the models.
#[derive(Debug, Clone)]
pub struct AnnotateOptions {
    pub tasks: Tasks,
    pub ner: NerOptions,
    /// Padded tokens per model batch.
    pub token_budget: usize,
    /// Copy the text into the output.
    pub include_text: bool,
    /// User targets: case-insensitive whole-word matches are scored for stance.
    pub targets: Vec<String>,
    /// Which head of a joint checkpoint gives the sentence sentiment.
    pub sentence_head: SentenceHead,
    /// Count boilerplate sentences in the tone, the salient actors and stance aggregation.
    pub keep_boilerplate: bool,
}

impl Default for AnnotateOptions {
    fn default() -> Self {
        AnnotateOptions {
            tasks: Tasks::default(),
            ner: NerOptions::default(),
            token_budget: crate::defaults::BATCH_TOKENS,
            include_text: true,
            targets: Vec::new(),
            sentence_head: SentenceHead::default(),
            keep_boilerplate: false,
        }
    }
}
