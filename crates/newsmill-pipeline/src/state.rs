//! The state of one article through the phases: what segmentation, target matching and each
//! model found, in the text's byte spans, until it is rendered (`render.rs` turns byte spans
//! into character offsets, once).

use newsmill_model::BatchStats;
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

/// Counters of one group's work. Times are summed over workers (busy seconds).
#[derive(Debug, Clone, Default)]
pub struct GroupStats {
    pub articles: usize,
    pub errors: usize,
    pub warnings: usize,
    /// Entity mentions found.
    pub entities: usize,
    pub ner: BatchStats,
    pub sentiment: BatchStats,
    pub stance: BatchStats,
    /// The joint checkpoint's one pass (its token decoding included).
    pub joint: BatchStats,
    /// Segmentation, word splitting, wordpiece encoding, windowing.
    pub prepare_seconds: f64,
    /// NER decoding.
    pub decode_seconds: f64,
    /// Actors, summary and JSON rendering.
    pub render_seconds: f64,
}

impl GroupStats {
    /// Seconds some worker spent on this group: the stages and the forward passes.
    pub fn busy_seconds(&self) -> f64 {
        self.prepare_seconds
            + self.decode_seconds
            + self.render_seconds
            + self.ner.forward_seconds
            + self.sentiment.forward_seconds
            + self.stance.forward_seconds
            + self.joint.forward_seconds
    }

    pub fn add(&mut self, o: &GroupStats) {
        self.articles += o.articles;
        self.errors += o.errors;
        self.warnings += o.warnings;
        self.entities += o.entities;
        self.prepare_seconds += o.prepare_seconds;
        self.decode_seconds += o.decode_seconds;
        self.render_seconds += o.render_seconds;
        self.ner.add(&o.ner);
        self.sentiment.add(&o.sentiment);
        self.stance.add(&o.stance);
        self.joint.add(&o.joint);
    }
}
