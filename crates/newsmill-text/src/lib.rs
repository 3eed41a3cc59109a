//! Text handling for newsmill: sentence segmentation, word splitting, wordpiece encoding and
//! windowing. Every span is a byte range into the original `&str`; [`CharIndex`] converts byte
//! offsets to character (Unicode code point) offsets at the output edge.
//!
//! This crate does no IO beyond reading a `tokenizer.json` when asked to.

mod case;
mod encode;
mod error;
mod offsets;
mod roles;
mod sentences;
mod words;

pub use case::{case_class, title_styled, CaseFeature, CASE_CLASSES};
pub use encode::{pad_batch, Batch, Encoded, Window, Windowing, WordpieceEncoder};
pub use error::TextError;
pub use offsets::CharIndex;
pub use roles::{page_roles, Repeated, Role};
pub use sentences::{is_format, is_space, segment, Span};
pub use words::split_words;
