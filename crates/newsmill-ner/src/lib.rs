//! Named-entity recognition over newsmill's sentence windows: label schemes read from
//! `id2label`, word-level aggregation, (constrained) decoding, and entity spans with offsets
//! into the original text.

mod decode;
mod error;
mod ner;
mod tags;

pub use decode::{decode_words, Decoding};
pub use error::NerError;
pub use ner::{Entity, NerContext, NerModel, NerOptions, PreparedText, SpanPlace};
pub use tags::{chunks, Prefix, Scheme, Tag, TagSet};
