//! newsmill's output records: one JSON object per input record, an article
//! ([`ArticleOut`]) or an error ([`ErrorOut`]); [`Record`] is either. Offsets are character
//! (Unicode code point) offsets into `text`, end exclusive. Documented in docs/output.md; the
//! JSON Schema (docs/output.schema.json) is generated from these types ([`json_schema`]).
//!
//! serde only: readers of the output (`newsmill-report`, a Python package) need no model code.

pub mod bench;

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A classification: the most probable label, its probability, and every label's probability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Scored {
    pub label: String,
    #[schemars(range(min = 0.0, max = 1.0))]
    pub score: f32,
    pub probs: BTreeMap<String, f32>,
}

impl Scored {
    /// The labels' probabilities as a classification (labels lower-cased; the first of equal
    /// maxima wins).
    pub fn from_probs(labels: &[String], probs: &[f32]) -> Scored {
        let mut best = 0;
        for (i, &p) in probs.iter().enumerate() {
            if p > probs[best] {
                best = i;
            }
        }
        Scored {
            label: labels
                .get(best)
                .map(|l| l.to_lowercase())
                .unwrap_or_default(),
            score: probs.get(best).copied().unwrap_or(0.0),
            probs: labels
                .iter()
                .zip(probs)
                .map(|(l, &p)| (l.to_lowercase(), p))
                .collect(),
        }
    }
}

/// Mentions of one entity (or target) grouped: "Vladimir Putin", "Putin", "Putin's".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Actor {
    pub name: String,
    pub label: String,
    /// Number of mentions.
    pub mentions: usize,
    /// Character offset of the first mention.
    pub first: usize,
    /// Indices of the mentions (into `entities` or `targets`, as `kind` says).
    pub mention_ids: Vec<usize>,
    /// Mean stance over the mentions that have one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub stance: Option<Scored>,
    /// Mentions per stance label.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub stance_counts: BTreeMap<String, usize>,
}

/// What a sentence is on the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Title,
    #[default]
    Body,
    Boilerplate,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Title => "title",
            Role::Body => "body",
            Role::Boilerplate => "boilerplate",
        }
    }
}

/// One output line: an annotated article or an error record.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[serde(untagged)]
pub enum Record {
    Error(ErrorOut),
    Article(Box<ArticleOut>),
}

/// Bumped whenever the output changes shape.
pub const SCHEMA_VERSION: &str = "2.0";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[schemars(deny_unknown_fields)]
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
    /// The model that answered each task and its precision (`folder@content hash:precision`;
    /// a joint checkpoint answers several, `folder@hash#head:precision`).
    pub models: ModelsOut,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub warnings: Vec<String>,
}

/// Which model produced each part of a record, in which arithmetic:
/// `folder@content hash[#head]:precision` strings (precision: fp32, int8, fp16 or bf16).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ModelsOut {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub ner: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub sentiment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub stance: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[schemars(deny_unknown_fields)]
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

/// An actor ([`Actor`]) and what its mentions index.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ActorOut {
    /// `entity`: `mention_ids` index `entities`; `target`: they index `targets`.
    pub kind: String,
    #[serde(flatten)]
    pub actor: Actor,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct SummaryOut {
    pub sentences: usize,
    /// Sentences whose role is `boilerplate` (0 in records before schema 2.0).
    #[serde(default)]
    pub boilerplate: usize,
    pub entities: usize,
    pub targets: usize,
    pub actors: usize,
    /// Mean sentence sentiment over the title and body sentences (every sentence with
    /// `--keep-boilerplate`); absent when sentiment did not run or no sentence counts.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub tone: Option<ToneOut>,
    /// Up to five entity actors with the most mentions outside boilerplate (ties: earliest
    /// first).
    pub salient: Vec<SalientOut>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ToneOut {
    pub label: String,
    pub score: f32,
    pub mean: BTreeMap<String, f32>,
    /// Sentences per sentiment label.
    pub counts: BTreeMap<String, usize>,
    /// The share of the counted sentences with each label (`counts` / their number).
    #[serde(default)]
    pub proportions: BTreeMap<String, f32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct SalientOut {
    pub actor: usize,
    pub name: String,
    pub label: String,
    /// Mentions outside boilerplate sentences.
    pub mentions: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct SentenceOut {
    pub start: usize,
    pub end: usize,
    /// `title`, `body` or `boilerplate` (page furniture); body in records before schema 2.0.
    #[serde(default)]
    pub role: Role,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub sentiment: Option<Scored>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[schemars(deny_unknown_fields)]
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
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ErrorOut {
    pub schema_version: String,
    pub id: Option<String>,
    /// Where the record came from: `line N` or a file path.
    pub record: String,
    pub error: ErrorBody,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ErrorBody {
    pub kind: ErrorKind,
    pub message: String,
}

/// Why a record could not be annotated; the strings are stable (docs/output.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The line is not JSON, or JSON but not an object.
    InvalidJson,
    /// The line is not valid UTF-8.
    InvalidUtf8,
    /// The text field is missing.
    MissingField,
    /// A field has the wrong type.
    BadField,
    /// Reading failed (a file, a folder, a compressed stream).
    Io,
    /// A `.txt` in a folder that is not a regular file (FIFO, socket, device).
    NotAFile,
    /// A symlink in a folder that leads back to an ancestor.
    SymlinkLoop,
    /// The model failed on this article.
    Model,
    /// newsmill failed on this article (a bug: please report it).
    Internal,
    /// A kind this version does not know (a record from a newer newsmill).
    #[serde(other)]
    Other,
}

impl ErrorKind {
    /// The kind as it stands in the output.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidJson => "invalid_json",
            ErrorKind::InvalidUtf8 => "invalid_utf8",
            ErrorKind::MissingField => "missing_field",
            ErrorKind::BadField => "bad_field",
            ErrorKind::Io => "io",
            ErrorKind::NotAFile => "not_a_file",
            ErrorKind::SymlinkLoop => "symlink_loop",
            ErrorKind::Model => "model",
            ErrorKind::Internal => "internal",
            ErrorKind::Other => "other",
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The JSON Schema of an output line ([`Record`]), as checked in at docs/output.schema.json.
pub fn json_schema() -> serde_json::Value {
    let mut schema = serde_json::to_value(schemars::schema_for!(Record)).expect("a schema is JSON");
    if let Some(obj) = schema.as_object_mut() {
        obj.insert(
            "title".into(),
            format!("newsmill annotate output record (schema_version {SCHEMA_VERSION})").into(),
        );
        obj.insert(
            "description".into(),
            "One JSON object per input record: an article record or an error record. Offsets are character (Unicode code point) offsets into `text`, end exclusive.".into(),
        );
    }
    schema
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/output.schema.json is generated from these types; `NEWSMILL_WRITE_SCHEMA=1 cargo
    /// test -p newsmill-schema` rewrites it after a change.
    #[test]
    fn the_checked_in_schema_is_current() {
        assert_schema_current("output.schema.json", &json_schema());
    }

    /// Asserts that docs/`name` is `schema` as written (rewritten first with
    /// NEWSMILL_WRITE_SCHEMA set).
    pub(crate) fn assert_schema_current(name: &str, schema: &serde_json::Value) {
        let path = format!("{}/../../docs/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = serde_json::to_string_pretty(schema).unwrap() + "\n";
        if std::env::var_os("NEWSMILL_WRITE_SCHEMA").is_some() {
            std::fs::write(&path, &text).unwrap();
        }
        let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            checked_in == text,
            "docs/{name} is not what the types generate: run NEWSMILL_WRITE_SCHEMA=1 cargo test -p newsmill-schema"
        );
    }

    #[test]
    fn error_kinds_keep_their_strings() {
        for k in [
            ErrorKind::InvalidJson,
            ErrorKind::InvalidUtf8,
            ErrorKind::MissingField,
            ErrorKind::BadField,
            ErrorKind::Io,
            ErrorKind::NotAFile,
            ErrorKind::SymlinkLoop,
            ErrorKind::Model,
            ErrorKind::Internal,
        ] {
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
            let back: ErrorKind = serde_json::from_value(k.as_str().into()).unwrap();
            assert_eq!(back, k);
        }
        let newer: ErrorKind = serde_json::from_value("from_the_future".into()).unwrap();
        assert_eq!(newer, ErrorKind::Other);
    }
}
