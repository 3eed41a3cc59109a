//! Loads standard Hugging Face checkpoint folders (`config.json`, `tokenizer.json`,
//! `model.safetensors`) into rust-bert models and runs padded batches through them.
//!
//! All model loading for newsmill lives here. Every problem with a folder is a typed
//! [`ModelError`] naming the file and field or tensor; rust-bert is only handed configs that
//! were validated first, and the few rust-bert calls that can still panic run under
//! `catch_unwind`.

mod config;
mod error;
mod model;

pub use config::{ModelConfig, ModelType};
pub use error::ModelError;
pub use model::{BatchStats, Classifier, Head, Logits};

/// Makes libtorch use `n` intra-op threads in the calling process.
pub fn set_torch_threads(n: usize) {
    tch::set_num_threads(n.max(1) as i32);
}
