//! The output records, one JSON object per line. Documented in docs/output.md; all offsets are
//! character (Unicode code point) offsets into `text`, end exclusive.

use newsmill_stance::Scored;
use serde::{Deserialize, Serialize};

/// Bumped whenever the output changes shape.
pub const SCHEMA_VERSION: &str = "1.0";

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
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub warnings: Vec<String>,
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
