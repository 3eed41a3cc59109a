//! The defaults and bounds of the run options, in one place: the library's `Default`s and the
//! command line's flags read them.

/// Padded tokens per model batch on the CPU (measured: DEVELOPERS.md "Engine").
pub const BATCH_TOKENS: usize = 512;
/// Padded tokens per model batch on a GPU (DEVELOPERS.md "GPU"): large enough that a batch's
/// kernels, not their launches, take the GPU's time.
pub const GPU_BATCH_TOKENS: usize = 16_384;
/// The smallest batch budget (a shorter one is raised to it).
pub const MIN_BATCH_TOKENS: usize = 64;
/// Articles per job (a job is batched as one unit).
pub const JOB_ARTICLES: usize = 128;
/// Bytes of text per job: a job closes at the record that takes it to this size or more.
pub const JOB_BYTES: usize = 200_000;
/// libtorch intra-op threads per worker (workers × 1 thread measured fastest).
pub const INTRA_THREADS: usize = 1;
/// NER input length in wordpieces, special tokens included.
pub const WINDOW: usize = newsmill_text::Windowing::DEFAULT.max_len;
/// Wordpieces shared by consecutive NER windows of a long sentence.
pub const WINDOW_OVERLAP: usize = newsmill_text::Windowing::DEFAULT.overlap;
