use std::path::PathBuf;

/// Errors of loading and running a model. Every variant names the file (and field or tensor)
/// at fault.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("model folder {0} does not exist or is not a folder")]
    NotAFolder(PathBuf),
    #[error(
        "{path}: missing (a model folder needs config.json, tokenizer.json and model.safetensors)"
    )]
    MissingFile { path: PathBuf },
    #[error("{path}: cannot read")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: invalid JSON")]
    BadJson {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("{path}: field `{field}`: {reason}")]
    BadField {
        path: PathBuf,
        field: String,
        reason: String,
    },
    #[error(
        "{path}: model_type `{found}` is not supported (supported: bert, distilbert, roberta)"
    )]
    UnknownModelType { path: PathBuf, found: String },
    #[error("{path}: corrupt safetensors file: {reason}")]
    CorruptWeights { path: PathBuf, reason: String },
    #[error("{path}: tensor `{tensor}` is missing")]
    MissingTensor { path: PathBuf, tensor: String },
    #[error("{path}: tensor `{tensor}` has shape {found:?}, the config implies {expected:?}")]
    ShapeMismatch {
        path: PathBuf,
        tensor: String,
        expected: Vec<i64>,
        found: Vec<i64>,
    },
    #[error("{path}: tensor `{tensor}` has unsupported dtype {dtype}")]
    BadDtype {
        path: PathBuf,
        tensor: String,
        dtype: String,
    },
    #[error("{path}: {reason}")]
    Build { path: PathBuf, reason: String },
    #[error(transparent)]
    Text(#[from] newsmill_text::TextError),
    #[error("{0}")]
    Device(String),
    #[error("model forward pass failed: {0}")]
    Forward(String),
    #[error("model forward pass failed")]
    Torch(#[from] tch::TchError),
}
