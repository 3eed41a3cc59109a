use std::ops::Range;
use std::path::PathBuf;

use crate::kinds::{Device, ModelType, Precision};

/// Errors of loading and running a model. Every variant names the file (and field or tensor)
/// at fault; the cause, when there is one, is the error's source (printed after the message by
/// `{:#}` of anyhow, never in the message itself).
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
    #[error("{path}: rust-bert cannot read the configuration")]
    RustBertConfig {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "{path}: model_type `{found}` is not supported (supported: bert, distilbert, roberta)"
    )]
    UnknownModelType { path: PathBuf, found: String },
    #[error("{path}: corrupt safetensors file")]
    CorruptWeights {
        path: PathBuf,
        #[source]
        source: safetensors::SafeTensorError,
    },
    #[error("{path}: corrupt safetensors file: tensor `{tensor}` cannot be loaded")]
    TensorData {
        path: PathBuf,
        tensor: String,
        // boxed, as `Build`'s: keeps every `Result<_, ModelError>` small
        #[source]
        source: Box<tch::TchError>,
    },
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
    #[error("{path}: cannot build the model")]
    Build {
        path: PathBuf,
        #[source]
        source: Box<BuildError>,
    },
    #[error(transparent)]
    Text(#[from] newsmill_text::TextError),
    #[error(transparent)]
    Device(#[from] DeviceError),
    #[error("model forward pass failed")]
    Forward(#[from] ForwardError),
    #[error("model forward pass failed")]
    Torch(#[from] tch::TchError),
    /// For callers that keep models per thread: a thread that has none was asked to run one.
    #[error("no model is loaded on this thread")]
    NotLoaded,
}

/// Why a loaded checkpoint could not be made into a runnable model (carried by
/// [`ModelError::Build`], which names the folder's config.json).
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("no variable `{name}`")]
    MissingVariable { name: String },
    #[error("cannot build Linear layer `{layer}`")]
    Linear {
        layer: String,
        #[source]
        source: tch::TchError,
    },
    #[error("rust-bert could not build the model")]
    RustBert(#[source] rust_bert::RustBertError),
    #[error("rust-bert could not build the {part}: it panicked: {message}")]
    Panicked { part: &'static str, message: String },
    #[error("{} is implemented for BERT models, not {model_type:?}", .precision.as_str())]
    Unsupported {
        precision: Precision,
        model_type: ModelType,
    },
    #[error("head `{head}`'s encoder layers")]
    Branch {
        head: String,
        #[source]
        source: Box<BuildError>,
    },
}

/// Why a batch could not run (carried by [`ModelError::Forward`]).
#[derive(Debug, thiserror::Error)]
pub enum ForwardError {
    #[error("batch of {cols} positions exceeds the model's {max}")]
    TooLong { cols: usize, max: usize },
    #[error("token type id {id} out of range ({types} types)")]
    TokenType { id: i64, types: usize },
    #[error("{ids} ids but {types} token types")]
    TypeIdsLength { ids: usize, types: usize },
    #[error("model returned {found} values, expected {expected}")]
    OutputSize { found: usize, expected: usize },
    #[error("rust-bert returned an error")]
    RustBert(#[source] rust_bert::RustBertError),
    #[error("it panicked: {message}")]
    Panicked { message: String },
    #[error("a worker panicked while holding the model")]
    Poisoned,
    #[error("the checkpoint has no head {index}")]
    NoHead { index: usize },
    #[error("span {positions:?} outside window {window} of {len} positions")]
    SpanOutside {
        positions: Range<usize>,
        window: usize,
        len: usize,
    },
    #[error("the span head's own layers have no input (the batch kept no states)")]
    NoBranchInput,
    #[error("span requests for {found} items, the batch has {members}")]
    RequestLists { members: usize, found: usize },
}

/// Why the device and precision asked for cannot be used (carried by [`ModelError::Device`]).
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    #[error("a CUDA device was asked for, but CUDA cannot be used")]
    CudaUnavailable(#[source] CudaLoadError),
    #[error("a CUDA device was asked for: libtorch's CUDA library loaded, but it sees no GPU")]
    NoGpu,
    #[error(
        "int8 runs on the CPU only (fbgemm kernels), not on {}: fp32, fp16 and bf16 run on \
         GPUs",
        .device.name()
    )]
    Int8OnGpu { device: Device },
}

/// Why libtorch's CUDA library could not be loaded ([`crate::cuda_devices`]).
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "cannot load libtorch_cuda.so ({dlerror}); run a build made with \
     `scripts/setup.sh --libtorch 2.11` with LD_LIBRARY_PATH holding the lib folder of a \
     CUDA-enabled torch 2.11"
)]
pub struct CudaLoadError {
    /// What the dynamic loader said.
    pub dlerror: String,
}
