//! The plain enums the other modules and the errors share (a leaf: it imports no module of
//! this crate, so `error.rs` can name them without a circle).

/// What the user asked for with `--precision`: a [`Precision`], or `auto`, resolved once per
/// run by [`crate::Compute::resolve`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum PrecisionChoice {
    /// int8 on a CPU whose int8 kernels run it (x86-64 with AVX2), bf16 on a GPU, fp32
    /// elsewhere; a model type those do not cover (DistilBERT, RoBERTa) runs in fp32.
    #[default]
    Auto,
    Fp32,
    Int8,
    Fp16,
    Bf16,
}

impl PrecisionChoice {
    /// The precision asked for by name (`None` for `auto`).
    pub fn named(self) -> Option<Precision> {
        match self {
            PrecisionChoice::Auto => None,
            PrecisionChoice::Fp32 => Some(Precision::Fp32),
            PrecisionChoice::Int8 => Some(Precision::Int8),
            PrecisionChoice::Fp16 => Some(Precision::Fp16),
            PrecisionChoice::Bf16 => Some(Precision::Bf16),
        }
    }
}

/// Arithmetic of the encoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Precision {
    /// fp32 everywhere.
    #[default]
    Fp32,
    /// fbgemm int8 weights with dynamically quantized activations (BERT models, CPU only).
    Int8,
    /// The encoder's weights and activations in fp16; heads, softmax and pooling in fp32.
    Fp16,
    /// As fp16, in bfloat16.
    Bf16,
}

impl Precision {
    pub fn as_str(self) -> &'static str {
        match self {
            Precision::Fp32 => "fp32",
            Precision::Int8 => "int8",
            Precision::Fp16 => "fp16",
            Precision::Bf16 => "bf16",
        }
    }

    /// The tensor kind of the encoder's weights and activations.
    pub(crate) fn kind(self) -> tch::Kind {
        match self {
            Precision::Fp16 => tch::Kind::Half,
            Precision::Bf16 => tch::Kind::BFloat16,
            Precision::Fp32 | Precision::Int8 => tch::Kind::Float,
        }
    }
}

/// A device the encoders run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Device {
    #[default]
    Cpu,
    /// A CUDA GPU by index.
    Cuda(usize),
}

impl Device {
    pub fn tch(self) -> tch::Device {
        match self {
            Device::Cpu => tch::Device::Cpu,
            Device::Cuda(i) => tch::Device::Cuda(i),
        }
    }

    pub fn is_cuda(self) -> bool {
        matches!(self, Device::Cuda(_))
    }

    pub fn name(self) -> String {
        match self {
            Device::Cpu => "cpu".into(),
            Device::Cuda(i) => format!("cuda:{i}"),
        }
    }
}

/// The architectures newsmill can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelType {
    Bert,
    DistilBert,
    Roberta,
}
