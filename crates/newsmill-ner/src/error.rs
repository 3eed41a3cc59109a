/// Errors of the NER crate.
#[derive(Debug, thiserror::Error)]
pub enum NerError {
    #[error("{path}: label `{label}` in id2label is not a NER tag (expected O, or B-/I-/E-/S-/L-/U- followed by a type)")]
    BadLabel { path: String, label: String },
    #[error("{path}: id2label has no `O` label")]
    NoOutsideLabel { path: String },
    #[error("a joint checkpoint's NER head runs inside the joint model's pass, not on its own")]
    JointHead,
    #[error(transparent)]
    Model(#[from] newsmill_model::ModelError),
    #[error(transparent)]
    Text(#[from] newsmill_text::TextError),
}
