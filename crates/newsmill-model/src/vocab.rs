//! The tokenizer must fit the model: every id it can produce needs a row of the embedding
//! table, or the first article with such a token fails deep inside libtorch.

use newsmill_text::WordpieceEncoder;

use crate::config::ModelConfig;
use crate::error::ModelError;

/// Checks that `encoder` (loaded from `tokenizer`) produces no id beyond the embedding table
/// that `config.json`'s `vocab_size` declares; names both files and sizes if it does.
pub(crate) fn check_vocab(
    config: &ModelConfig,
    encoder: &WordpieceEncoder,
    tokenizer: &std::path::Path,
) -> Result<(), ModelError> {
    let Some(rows) = config.raw.get("vocab_size").and_then(|v| v.as_u64()) else {
        return Ok(()); // ModelConfig::from_file already requires it
    };
    let ids = encoder.vocab_len() as u64;
    if ids > rows {
        return Err(ModelError::BadField {
            path: tokenizer.to_path_buf(),
            field: "model.vocab".into(),
            reason: format!(
                "the tokenizer has ids up to {} ({ids} tokens), but {} has vocab_size {rows} \
                 (the model's embedding table): this tokenizer does not belong to this model",
                ids - 1,
                config.path.display()
            ),
        });
    }
    Ok(())
}
