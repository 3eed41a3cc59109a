use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::error::ModelError;
pub use crate::kinds::ModelType;
use newsmill_text::CaseFeature;

/// What a classifier predicts: one label per token, or one per sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Head {
    Token,
    Sequence,
}

/// How a head of a joint checkpoint reads the encoder's last hidden states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadKind {
    /// One label per position (`token`).
    Token,
    /// One label per sequence from the first position (`first_position`), through the BERT
    /// pooler (dense + tanh) when the head's `pooler` is true.
    FirstPosition,
    /// One label per target span (`span_pool`): the first position, the mean and the maximum
    /// of the span's positions, concatenated (`pool: ["first", "mean", "max"]`).
    SpanPool,
}

impl HeadKind {
    /// The kind's name in config.json.
    pub fn as_str(self) -> &'static str {
        match self {
            HeadKind::Token => "token",
            HeadKind::FirstPosition => "first_position",
            HeadKind::SpanPool => "span_pool",
        }
    }
}

/// One head of a joint checkpoint: `{prefix}.weight` (`[labels, in]`) and `{prefix}.bias`.
#[derive(Debug, Clone, PartialEq)]
pub struct HeadSpec {
    pub name: String,
    pub kind: HeadKind,
    pub prefix: String,
    pub labels: Vec<String>,
    /// `pooler` (first_position heads; default false): read the first position through the
    /// BERT pooler.
    pub pooler: bool,
    /// `temperature` (first_position heads; default 1): the logits are divided by it before
    /// the softmax (calibration by temperature scaling, fitted on a dev set).
    pub temperature: f32,
    /// `encoder` (span_pool heads; default none): the head reads its own copy of the upper
    /// encoder layers, run over the shared encoder's output of a lower layer.
    pub branch: Option<BranchSpec>,
}

/// A head's own upper layers (`newsmill.heads.NAME.encoder`): `{prefix}.layer.N.*` for
/// N = `from_layer`..L-1 (the shared encoder's names under `bert.encoder.layer.N.`), run over
/// the states after the shared encoder's first `from_layer` layers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BranchSpec {
    pub prefix: String,
    pub from_layer: usize,
}

/// The `newsmill` section of a joint checkpoint's config.json.
#[derive(Debug, Clone, PartialEq)]
pub struct JointSpec {
    pub heads: Vec<HeadSpec>,
}

impl JointSpec {
    pub fn head(&self, name: &str) -> Option<&HeadSpec> {
        self.heads.iter().find(|h| h.name == name)
    }
}

/// What newsmill reads from `config.json`, validated, plus the raw JSON (with defaults filled
/// in) that rust-bert's config types deserialize from.
#[derive(Debug, Clone)]
pub struct ModelConfig {
    pub path: PathBuf,
    pub model_type: ModelType,
    /// Labels by id, ids contiguous from 0.
    pub labels: Vec<String>,
    pub max_positions: usize,
    pub type_vocab_size: usize,
    /// `newsmill.case_feature` in config.json: feed word case shapes as token type ids.
    pub case_feature: CaseFeature,
    /// `newsmill.heads` in config.json: a joint checkpoint (one encoder, several heads).
    pub joint: Option<JointSpec>,
    /// `newsmill.context` in config.json: `"sentences_packed_N"` says the model was trained
    /// on consecutive sentences packed into inputs of N wordpieces.
    pub packed_context: Option<usize>,
    /// (hidden size, feed-forward size, layers), for FLOP counts.
    pub dims: (usize, usize, usize),
    /// Attention heads per layer.
    pub attention_heads: usize,
    pub raw: Value,
}

fn field_err(path: &Path, field: &str, reason: impl Into<String>) -> ModelError {
    ModelError::BadField {
        path: path.to_path_buf(),
        field: field.to_string(),
        reason: reason.into(),
    }
}

fn get_int(path: &Path, obj: &Map<String, Value>, field: &str) -> Result<i64, ModelError> {
    let v = obj
        .get(field)
        .ok_or_else(|| field_err(path, field, "missing"))?;
    let n = v
        .as_i64()
        .ok_or_else(|| field_err(path, field, format!("expected an integer, found {v}")))?;
    if n <= 0 {
        return Err(field_err(
            path,
            field,
            format!("must be positive, found {n}"),
        ));
    }
    Ok(n)
}

impl ModelConfig {
    /// Parses and validates `path` (a config.json).
    pub fn from_file(path: &Path) -> Result<Self, ModelError> {
        if !path.is_file() {
            return Err(ModelError::MissingFile {
                path: path.to_path_buf(),
            });
        }
        let text = std::fs::read_to_string(path).map_err(|source| ModelError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let raw: Value = serde_json::from_str(&text).map_err(|source| ModelError::BadJson {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_value(path, raw)
    }

    pub fn from_value(path: &Path, mut raw: Value) -> Result<Self, ModelError> {
        let obj = raw
            .as_object_mut()
            .ok_or_else(|| field_err(path, "(root)", "expected a JSON object"))?;
        let mt = obj
            .get("model_type")
            .and_then(Value::as_str)
            .ok_or_else(|| field_err(path, "model_type", "missing or not a string"))?
            .to_string();
        let model_type = match mt.as_str() {
            "bert" => ModelType::Bert,
            "distilbert" => ModelType::DistilBert,
            "roberta" => ModelType::Roberta,
            _ => {
                return Err(ModelError::UnknownModelType {
                    path: path.to_path_buf(),
                    found: mt,
                })
            }
        };
        let joint = match obj.get("newsmill").and_then(|n| n.get("heads")) {
            Some(h) => Some(parse_heads(path, h)?),
            None => None,
        };
        // a joint checkpoint names its labels per head
        let labels = match joint {
            Some(_) => Vec::new(),
            None => parse_labels(path, obj)?,
        };

        // Sizes rust-bert divides by or allocates from: checked here so it never panics.
        let (hidden, heads, layers, ffn, act) = match model_type {
            ModelType::DistilBert => ("dim", "n_heads", "n_layers", "hidden_dim", "activation"),
            _ => (
                "hidden_size",
                "num_attention_heads",
                "num_hidden_layers",
                "intermediate_size",
                "hidden_act",
            ),
        };
        let h = get_int(path, obj, hidden)?;
        let nh = get_int(path, obj, heads)?;
        let n_layers = get_int(path, obj, layers)?;
        let ffn_size = get_int(path, obj, ffn)?;
        get_int(path, obj, "vocab_size")?;
        if h % nh != 0 {
            return Err(field_err(
                path,
                heads,
                format!("{hidden} = {h} is not divisible by {heads} = {nh}"),
            ));
        }
        let max_positions = get_int(path, obj, "max_position_embeddings")? as usize;
        const ACTS: &[&str] = &[
            "gelu", "relu", "swish", "mish", "gelu_new", "tanh", "identity",
        ];
        match obj.get(act).and_then(Value::as_str) {
            Some(a) if ACTS.contains(&a) => {}
            Some(a) => {
                return Err(field_err(
                    path,
                    act,
                    format!(
                        "activation `{a}` is not supported (supported: {})",
                        ACTS.join(", ")
                    ),
                ))
            }
            None => return Err(field_err(path, act, "missing or not a string")),
        }

        // Defaults for fields rust-bert requires but recent transformers omit.
        let defaults: &[(&str, Value)] = match model_type {
            ModelType::DistilBert => &[
                ("tie_weights_", Value::Bool(true)),
                ("sinusoidal_pos_embds", Value::Bool(false)),
                ("attention_dropout", Value::from(0.1)),
                ("dropout", Value::from(0.1)),
                ("qa_dropout", Value::from(0.1)),
                ("seq_classif_dropout", Value::from(0.2)),
                ("initializer_range", Value::from(0.02)),
            ],
            _ => &[
                ("attention_probs_dropout_prob", Value::from(0.1)),
                ("hidden_dropout_prob", Value::from(0.1)),
                ("initializer_range", Value::from(0.02)),
                ("type_vocab_size", Value::from(2)),
            ],
        };
        for (k, v) in defaults {
            if obj.get(*k).is_none_or(Value::is_null) {
                obj.insert(k.to_string(), v.clone());
            }
        }
        let type_vocab_size = match model_type {
            ModelType::DistilBert => 0,
            _ => get_int(path, obj, "type_vocab_size")? as usize,
        };
        let case_feature = match obj.get("newsmill").and_then(|n| n.get("case_feature")) {
            None => CaseFeature::Off,
            Some(Value::String(s)) if s == "token_type_v1" => CaseFeature::Shape,
            Some(Value::String(s)) if s == "token_type_v2" => CaseFeature::ShapeTitle,
            Some(other) => {
                return Err(field_err(
                    path,
                    "newsmill.case_feature",
                    format!("unknown value {other} (known: \"token_type_v1\", \"token_type_v2\")"),
                ))
            }
        };
        let packed_context = match obj.get("newsmill").and_then(|n| n.get("context")) {
            None => None,
            Some(Value::String(s)) if s.starts_with("sentences_packed_") => {
                match s["sentences_packed_".len()..].parse::<usize>() {
                    Ok(n) if n >= 8 => Some(n),
                    _ => {
                        return Err(field_err(
                            path,
                            "newsmill.context",
                            format!("bad packing length in `{s}`"),
                        ))
                    }
                }
            }
            Some(other) => {
                return Err(field_err(
                    path,
                    "newsmill.context",
                    format!("unknown value {other} (known: \"sentences_packed_N\")"),
                ))
            }
        };
        if case_feature != CaseFeature::Off && type_vocab_size < case_feature.types_needed() {
            return Err(field_err(
                path,
                "type_vocab_size",
                format!(
                    "the case feature needs {} token types, found {type_vocab_size}",
                    case_feature.types_needed()
                ),
            ));
        }
        // rust-bert reads id2label with integer keys
        let id2label: Map<String, Value> = labels
            .iter()
            .enumerate()
            .map(|(i, l)| (i.to_string(), Value::String(l.clone())))
            .collect();
        obj.insert("id2label".into(), Value::Object(id2label));
        obj.remove("label2id");
        Ok(ModelConfig {
            path: path.to_path_buf(),
            model_type,
            labels,
            max_positions,
            type_vocab_size,
            case_feature,
            joint,
            packed_context,
            dims: (h as usize, ffn_size as usize, n_layers as usize),
            attention_heads: nh as usize,
            raw,
        })
    }

    /// Deserializes the rust-bert config type `T` from the validated JSON.
    pub(crate) fn rust_bert<T: serde::de::DeserializeOwned>(&self) -> Result<T, ModelError> {
        serde_json::from_value(self.raw.clone()).map_err(|source| ModelError::RustBertConfig {
            path: self.path.clone(),
            source,
        })
    }
}

fn parse_heads(path: &Path, v: &Value) -> Result<JointSpec, ModelError> {
    let field = "newsmill.heads";
    let map = v
        .as_object()
        .filter(|m| !m.is_empty())
        .ok_or_else(|| field_err(path, field, "expected a non-empty object of heads"))?;
    let mut heads = Vec::with_capacity(map.len());
    for (name, h) in map {
        let f = |k: &str| format!("{field}.{name}.{k}");
        let kind = match h.get("kind").and_then(Value::as_str) {
            Some("token") => HeadKind::Token,
            Some("first_position") => HeadKind::FirstPosition,
            Some("span_pool") => {
                let pool: Vec<&str> = h
                    .get("pool")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                if pool != ["first", "mean", "max"] {
                    return Err(field_err(
                        path,
                        &f("pool"),
                        format!(
                            "unsupported pooling {:?} (supported: [\"first\", \"mean\", \"max\"])",
                            h.get("pool")
                        ),
                    ));
                }
                HeadKind::SpanPool
            }
            Some(other) => {
                return Err(field_err(
                    path,
                    &f("kind"),
                    format!(
                        "unknown head kind `{other}` (known: token, first_position, span_pool)"
                    ),
                ))
            }
            None => return Err(field_err(path, &f("kind"), "missing or not a string")),
        };
        let labels: Vec<String> = match h.get("labels").and_then(Value::as_array) {
            Some(a) if !a.is_empty() => a
                .iter()
                .map(|l| {
                    l.as_str().map(str::to_string).ok_or_else(|| {
                        field_err(path, &f("labels"), format!("label {l} is not a string"))
                    })
                })
                .collect::<Result<_, _>>()?,
            _ => {
                return Err(field_err(
                    path,
                    &f("labels"),
                    "missing or empty (a list of label names, in the order of the head's rows)",
                ))
            }
        };
        let prefix = match h.get("prefix") {
            None => format!("{name}.classifier"),
            Some(Value::String(p)) if !p.is_empty() => p.clone(),
            Some(other) => {
                return Err(field_err(
                    path,
                    &f("prefix"),
                    format!("expected a tensor name prefix, found {other}"),
                ))
            }
        };
        let temperature = match h.get("temperature") {
            None => 1.0,
            Some(t) => match t.as_f64() {
                Some(v) if v.is_finite() && v > 0.0 && kind == HeadKind::FirstPosition => v as f32,
                Some(v) if v.is_finite() && v > 0.0 => {
                    return Err(field_err(
                        path,
                        &f("temperature"),
                        "only first_position heads are calibrated by a temperature",
                    ))
                }
                _ => {
                    return Err(field_err(
                        path,
                        &f("temperature"),
                        format!("expected a positive number, found {t}"),
                    ))
                }
            },
        };
        let pooler = kind == HeadKind::FirstPosition
            && h.get("pooler").and_then(Value::as_bool) == Some(true);
        let branch = match h.get("encoder") {
            None => None,
            Some(_) if kind != HeadKind::SpanPool => {
                return Err(field_err(
                    path,
                    &f("encoder"),
                    "only span_pool heads read their own encoder layers",
                ))
            }
            Some(e) => {
                let prefix = e
                    .get("prefix")
                    .and_then(Value::as_str)
                    .filter(|p| !p.is_empty());
                let from = e.get("from_layer").and_then(Value::as_u64);
                match (prefix, from) {
                    (Some(p), Some(k)) if k > 0 => Some(BranchSpec {
                        prefix: p.to_string(),
                        from_layer: k as usize,
                    }),
                    _ => {
                        return Err(field_err(
                            path,
                            &f("encoder"),
                            format!(
                                "expected {{\"prefix\": a tensor name prefix, \"from_layer\": a \
                                 layer number from 1}}, found {e}"
                            ),
                        ))
                    }
                }
            }
        };
        heads.push(HeadSpec {
            name: name.clone(),
            kind,
            prefix,
            labels,
            pooler,
            temperature,
            branch,
        });
    }
    Ok(JointSpec { heads })
}

fn parse_labels(path: &Path, obj: &Map<String, Value>) -> Result<Vec<String>, ModelError> {
    let map = obj
        .get("id2label")
        .and_then(Value::as_object)
        .ok_or_else(|| {
            field_err(
                path,
                "id2label",
                "missing: a classifier needs its label map",
            )
        })?;
    if map.is_empty() {
        return Err(field_err(path, "id2label", "empty"));
    }
    let mut by_id = BTreeMap::new();
    for (k, v) in map {
        let id: usize = k
            .parse()
            .map_err(|_| field_err(path, "id2label", format!("key `{k}` is not an integer")))?;
        let label = v
            .as_str()
            .ok_or_else(|| field_err(path, "id2label", format!("value for {k} is not a string")))?;
        by_id.insert(id, label.to_string());
    }
    if by_id.keys().copied().ne(0..by_id.len()) {
        return Err(field_err(path, "id2label", "ids are not 0..n without gaps"));
    }
    Ok(by_id.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn bert() -> Value {
        json!({"model_type": "bert", "hidden_size": 8, "num_attention_heads": 2,
               "num_hidden_layers": 1, "intermediate_size": 16, "vocab_size": 50,
               "max_position_embeddings": 64, "hidden_act": "gelu",
               "id2label": {"0": "O", "1": "B-PER", "2": "I-PER"}})
    }

    fn err(v: Value) -> String {
        ModelConfig::from_value(Path::new("cfg.json"), v)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn valid_bert() {
        let c = ModelConfig::from_value(Path::new("c.json"), bert()).unwrap();
        assert_eq!(c.labels, vec!["O", "B-PER", "I-PER"]);
        assert_eq!(c.model_type, ModelType::Bert);
        assert_eq!(c.case_feature, CaseFeature::Off);
        assert!(c.joint.is_none());
        let rb: rust_bert::bert::BertConfig = c.rust_bert().unwrap();
        assert_eq!(rb.type_vocab_size, 2);
    }

    #[test]
    fn distilbert_without_tie_weights() {
        let v = json!({"model_type": "distilbert", "dim": 8, "n_heads": 2, "n_layers": 1,
            "hidden_dim": 16, "vocab_size": 50, "max_position_embeddings": 64,
            "activation": "gelu", "id2label": {"0": "NEGATIVE", "1": "POSITIVE"}});
        let c = ModelConfig::from_value(Path::new("c.json"), v).unwrap();
        let rb: rust_bert::distilbert::DistilBertConfig = c.rust_bert().unwrap();
        assert!(rb.tie_weights_);
    }

    #[test]
    fn errors_name_the_field() {
        let mut v = bert();
        v["model_type"] = json!("gpt2");
        assert!(err(v).contains("model_type `gpt2`"));
        let mut v = bert();
        v.as_object_mut().unwrap().remove("id2label");
        assert!(err(v).contains("field `id2label`"));
        let mut v = bert();
        v["num_attention_heads"] = json!(3);
        assert!(err(v).contains("not divisible"));
        let mut v = bert();
        v["hidden_size"] = json!(0);
        assert!(err(v).contains("field `hidden_size`: must be positive"));
        let mut v = bert();
        v["hidden_act"] = json!("gelu_pytorch_tanh");
        assert!(err(v).contains("field `hidden_act`"));
        let mut v = bert();
        v["id2label"] = json!({"0": "O", "2": "B-PER"});
        assert!(err(v).contains("gaps"));
        let mut v = bert();
        v["newsmill"] = json!({"case_feature": "token_type_v1"});
        assert!(err(v).contains("type_vocab_size"));
        assert!(err(json!([1])).contains("JSON object"));
    }
}
