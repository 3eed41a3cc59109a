//! The state of one article through the phases: what segmentation, target matching and each
//! model found, in the text's byte spans, until it is rendered (`render.rs` turns byte spans
//! into character offsets, once).

use newsmill_ner::{Entity, PreparedText};
use newsmill_schema::{ErrorKind, Scored};
use newsmill_text::{Role, Span};

use crate::input::Article;

/// One article being annotated. The vectors run parallel to `sentences`, `entities` and
/// `targets` (filled by the phases that ran; empty otherwise).
pub(crate) struct Work {
    pub(crate) article: Article,
    pub(crate) sentences: Vec<Span>,
    /// The page role of each sentence.
    pub(crate) roles: Vec<Role>,
    pub(crate) prepared: Option<PreparedText>,
    pub(crate) entities: Vec<Entity>,
    pub(crate) targets: Vec<TargetMatch>,
    /// The sentiment of each sentence.
    pub(crate) sentiments: Vec<Option<Scored>>,
    /// The stance toward each entity.
    pub(crate) stances: Vec<Option<Scored>>,
    /// The stance toward each target match.
    pub(crate) target_stances: Vec<Option<Scored>>,
    /// The article could not be annotated: it becomes an error record.
    pub(crate) failed: Option<Failure>,
}

/// A match of a user target phrase (`--target`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TargetMatch {
    /// Byte span in the article's text.
    pub(crate) span: Span,
    /// Index of the sentence that holds it.
    pub(crate) sentence: usize,
    /// Index into the run's target phrases.
    pub(crate) target: usize,
}

/// Why an article became an error record.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    pub(crate) kind: ErrorKind,
    pub(crate) message: String,
}
