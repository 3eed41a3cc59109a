use std::path::PathBuf;

/// Errors of the text crate.
#[derive(Debug, thiserror::Error)]
pub enum TextError {
    #[error("cannot load tokenizer {path}: {reason}")]
    TokenizerLoad { path: PathBuf, reason: String },
    #[error("tokenizer {path} lacks the special token {token}")]
    MissingSpecialToken { path: PathBuf, token: String },
    #[error("tokenizing failed")]
    Encode(#[source] tokenizers::Error),
    #[error("window size {0} is too small (need at least 8 wordpieces)")]
    WindowTooSmall(usize),
}
