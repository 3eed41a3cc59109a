//! The plain enums the other modules and the errors share (a leaf: it imports no module of
//! this crate, so `error.rs` can name them without a circle).

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
