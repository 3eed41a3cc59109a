//! The output records, one JSON object per line. Documented in docs/output.md; all offsets are
//! character (Unicode code point) offsets into `text`, end exclusive.

use std::collections::BTreeMap;

use newsmill_stance::{Actor, Scored};
use serde::{Deserialize, Serialize};

/// Bumped whenever the output changes shape.
pub const SCHEMA_VERSION: &str = "1.2";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ArticleOut {
    pub schema_version: String,
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub text: Option<String>,
    /// Length of the text in characters.
    pub chars: usize,
    pub sentences: Vec<SentenceOut>,
    pub entities: Vec<EntityOut>,
    /// Matches of the user's `--target` phrases.
    pub targets: Vec<TargetOut>,
    pub actors: Vec<ActorOut>,
    pub summary: SummaryOut,
    /// The model that answered each task (`folder@content hash`; a joint checkpoint answers
    /// several).
    pub models: ModelsOut,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub warnings: Vec<String>,
}

/// Which model produced each part of a record: [`newsmill_model::model_identity`] strings.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ModelsOut {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub ner: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub sentiment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub stance: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TargetOut {
    /// The matched text as it stands in `text`.
    pub text: String,
    /// The user's target phrase it matched.
    pub target: String,
    pub start: usize,
    pub end: usize,
    pub sentence: usize,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub stance: Option<Scored>,
    /// Index into `actors`.
    pub actor: usize,
}

/// An actor (newsmill-stance's [`Actor`]) and what its mentions index.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ActorOut {
    /// `entity`: `mention_ids` index `entities`; `target`: they index `targets`.
    pub kind: String,
    #[serde(flatten)]
    pub actor: Actor,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SummaryOut {
    pub sentences: usize,
    pub entities: usize,
    pub targets: usize,
    pub actors: usize,
    /// Mean sentence sentiment; absent when sentiment did not run or there is no sentence.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub tone: Option<ToneOut>,
    /// Up to five entity actors with the most mentions (ties: earliest first).
    pub salient: Vec<SalientOut>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ToneOut {
    pub label: String,
    pub score: f32,
    pub mean: BTreeMap<String, f32>,
    /// Sentences per sentiment label.
    pub counts: BTreeMap<String, usize>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SalientOut {
    pub actor: usize,
    pub name: String,
    pub label: String,
    pub mentions: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SentenceOut {
    pub start: usize,
    pub end: usize,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub sentiment: Option<Scored>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EntityOut {
    pub text: String,
    pub label: String,
    pub start: usize,
    pub end: usize,
    pub score: f32,
    /// Index into `sentences`.
    pub sentence: usize,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub stance: Option<Scored>,
    /// Index into `actors`.
    pub actor: usize,
}

/// Written in place of an article that could not be annotated.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ErrorOut {
    pub schema_version: String,
    pub id: Option<String>,
    /// Where the record came from: `line N` or a file path.
    pub record: String,
    pub error: ErrorBody,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ErrorBody {
    pub kind: String,
    pub message: String,
}
