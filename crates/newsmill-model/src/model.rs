use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use newsmill_text::{Batch, WordpieceEncoder};
use rust_bert::bert::{BertConfig, BertForSequenceClassification, BertForTokenClassification};
use rust_bert::distilbert::{
    DistilBertConfig, DistilBertForTokenClassification, DistilBertModelClassifier,
};
use rust_bert::roberta::{RobertaForSequenceClassification, RobertaForTokenClassification};
use safetensors::{Dtype, SafeTensors};
use tch::{nn, Device, Kind, Tensor};

use crate::config::{Head, ModelConfig, ModelType};
use crate::device::{Compute, Precision};
use crate::error::{BuildError, ForwardError, ModelError};

enum Net {
    BertToken(BertForTokenClassification),
    BertSeq(BertForSequenceClassification),
    DistilToken(DistilBertForTokenClassification),
    DistilSeq(DistilBertModelClassifier),
    RobertaToken(RobertaForTokenClassification),
    RobertaSeq(RobertaForSequenceClassification),
}

/// Class probabilities of a batch: `rows × cols × labels` for token heads (cols = batch
/// columns), `rows × labels` for sequence heads.
#[derive(Debug, Clone)]
pub struct Logits {
    pub probs: Vec<f32>,
    pub rows: usize,
    pub cols: usize,
    pub labels: usize,
}

impl Logits {
    /// Probabilities of token `col` of row `row` (token heads).
    pub fn token(&self, row: usize, col: usize) -> &[f32] {
        let o = (row * self.cols + col) * self.labels;
        &self.probs[o..o + self.labels]
    }
    /// Probabilities of row `row` (sequence heads).
    pub fn row(&self, row: usize) -> &[f32] {
        let o = row * self.labels;
        &self.probs[o..o + self.labels]
    }
}

/// A classifier loaded from a Hugging Face checkpoint folder. Not `Sync` (tch tensors are not):
/// each worker thread owns its own.
pub struct Classifier {
    pub config: ModelConfig,
    pub encoder: WordpieceEncoder,
    pub head: Head,
    pub dir: PathBuf,
    /// [`model_identity`] of the folder.
    pub identity: String,
    /// The arithmetic it runs in ([`Compute::precision_for`] its model type).
    pub precision: Precision,
    net: Net,
    device: Device,
    /// Our BERT forward pass (BERT models); `None`: rust-bert's `net` runs.
    own: Option<crate::bert::BertForward>,
    _vs: nn::VarStore,
}

fn missing(path: PathBuf) -> ModelError {
    ModelError::MissingFile { path }
}

pub(crate) fn panic_reason(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "unknown panic".to_string())
}

impl Classifier {
    /// Loads `dir` (config.json, tokenizer.json, model.safetensors) for `head`.
    pub fn load(dir: &Path, head: Head) -> Result<Self, ModelError> {
        Self::load_with(dir, head, Compute::default())
    }

    /// Loads `dir` for `head` on the given device and precision. Int8 (CPU), fp16 and bf16
    /// (GPU) are available for BERT models.
    pub fn load_with(dir: &Path, head: Head, compute: Compute) -> Result<Self, ModelError> {
        compute.check()?;
        if !dir.is_dir() {
            return Err(ModelError::NotAFolder(dir.to_path_buf()));
        }
        let config = ModelConfig::from_file(&dir.join("config.json"))?;
        let precision = compute.precision_for(config.model_type);
        let tok_path = dir.join("tokenizer.json");
        if !tok_path.is_file() {
            return Err(missing(tok_path));
        }
        let weights = dir.join("model.safetensors");
        if !weights.is_file() {
            return Err(missing(weights));
        }
        let encoder = WordpieceEncoder::from_file(&tok_path, config.max_positions)?;
        crate::vocab::check_vocab(&config, &encoder, &tok_path)?;

        let mut vs = nn::VarStore::new(Device::Cpu);
        let root = vs.root();
        let build = |source: BuildError| ModelError::Build {
            path: config.path.clone(),
            source: Box::new(source),
        };
        let built = catch_unwind(AssertUnwindSafe(|| -> Result<Net, ModelError> {
            Ok(match (config.model_type, head) {
                (ModelType::Bert, Head::Token) => Net::BertToken(
                    BertForTokenClassification::new(&root, &config.rust_bert::<BertConfig>()?)
                        .map_err(|e| build(BuildError::RustBert(e)))?,
                ),
                (ModelType::Bert, Head::Sequence) => Net::BertSeq(
                    BertForSequenceClassification::new(&root, &config.rust_bert::<BertConfig>()?)
                        .map_err(|e| build(BuildError::RustBert(e)))?,
                ),
                (ModelType::DistilBert, Head::Token) => Net::DistilToken(
                    DistilBertForTokenClassification::new(
                        &root,
                        &config.rust_bert::<DistilBertConfig>()?,
                    )
                    .map_err(|e| build(BuildError::RustBert(e)))?,
                ),
                (ModelType::DistilBert, Head::Sequence) => Net::DistilSeq(
                    DistilBertModelClassifier::new(&root, &config.rust_bert::<DistilBertConfig>()?)
                        .map_err(|e| build(BuildError::RustBert(e)))?,
                ),
                (ModelType::Roberta, Head::Token) => Net::RobertaToken(
                    RobertaForTokenClassification::new(&root, &config.rust_bert::<BertConfig>()?)
                        .map_err(|e| build(BuildError::RustBert(e)))?,
                ),
                (ModelType::Roberta, Head::Sequence) => Net::RobertaSeq(
                    RobertaForSequenceClassification::new(
                        &root,
                        &config.rust_bert::<BertConfig>()?,
                    )
                    .map_err(|e| build(BuildError::RustBert(e)))?,
                ),
            })
        }))
        .map_err(|p| {
            build(BuildError::Panicked {
                part: "model",
                message: panic_reason(p),
            })
        })??;
        let identity = load_weights(&vs, &weights)?;
        if compute.device.is_cuda() {
            vs.set_device(compute.device.tch());
        }
        match (config.model_type, precision) {
            (ModelType::Bert, Precision::Fp16 | Precision::Bf16) => vs.set_kind(precision.kind()),
            (model_type, Precision::Fp16 | Precision::Bf16) => {
                return Err(build(BuildError::Unsupported {
                    precision,
                    model_type,
                }))
            }
            _ => {}
        }
        // BERT runs through our own forward pass (fused query/key/value projections; fp32 or
        // int8 Linear layers) built from the variables rust-bert's model was loaded with;
        // DistilBERT and RoBERTa run through rust-bert.
        let own = match (config.model_type, precision) {
            (ModelType::Bert, _) => Some(
                crate::bert::BertForward::new(
                    &vs.variables(),
                    config.attention_heads as i64,
                    config.dims.2,
                    Some(head),
                    precision == Precision::Int8,
                )
                .map_err(build)?,
            ),
            (_, Precision::Fp32 | Precision::Fp16 | Precision::Bf16) => None,
            (model_type, Precision::Int8) => {
                return Err(build(BuildError::Unsupported {
                    precision,
                    model_type,
                }))
            }
        };
        Ok(Classifier {
            config,
            encoder,
            head,
            dir: dir.to_path_buf(),
            identity,
            precision,
            device: compute.device.tch(),
            net: built,
            own,
            _vs: vs,
        })
    }

    pub fn labels(&self) -> &[String] {
        &self.config.labels
    }

    /// Runs a padded batch and returns softmax probabilities.
    pub fn forward(&self, batch: &Batch) -> Result<Logits, ModelError> {
        let labels = self.config.labels.len();
        if batch.rows == 0 || batch.cols == 0 {
            return Ok(Logits {
                probs: Vec::new(),
                rows: batch.rows,
                cols: batch.cols,
                labels,
            });
        }
        if batch.cols > self.config.max_positions {
            return Err(ForwardError::TooLong {
                cols: batch.cols,
                max: self.config.max_positions,
            }
            .into());
        }
        let shape = [batch.rows as i64, batch.cols as i64];
        let dev = self.device;
        let ids = Tensor::from_slice(&batch.ids).view(shape).to_device(dev);
        let mask = Tensor::from_slice(&batch.mask).view(shape).to_device(dev);
        let types = if self.config.type_vocab_size > 0 {
            let max_type = batch.type_ids.iter().copied().max().unwrap_or(0);
            if max_type as usize >= self.config.type_vocab_size {
                return Err(ForwardError::TokenType {
                    id: max_type,
                    types: self.config.type_vocab_size,
                }
                .into());
            }
            Some(
                Tensor::from_slice(&batch.type_ids)
                    .view(shape)
                    .to_device(dev),
            )
        } else {
            None
        };
        let out = catch_unwind(AssertUnwindSafe(|| {
            tch::no_grad(|| -> Result<Tensor, rust_bert::RustBertError> {
                let t = types.as_ref();
                if let Some(q) = &self.own {
                    return Ok(q
                        .forward(&ids, &mask, t)
                        .softmax(-1, Kind::Float)
                        .contiguous());
                }
                let logits = match &self.net {
                    Net::BertToken(m) => {
                        m.forward_t(Some(&ids), Some(&mask), t, None, None, false)
                            .logits
                    }
                    Net::BertSeq(m) => {
                        m.forward_t(Some(&ids), Some(&mask), t, None, None, false)
                            .logits
                    }
                    Net::DistilToken(m) => {
                        m.forward_t(Some(&ids), Some(&mask), None, false)?.logits
                    }
                    Net::DistilSeq(m) => m.forward_t(Some(&ids), Some(&mask), None, false)?.logits,
                    Net::RobertaToken(m) => {
                        m.forward_t(Some(&ids), Some(&mask), t, None, None, false)
                            .logits
                    }
                    Net::RobertaSeq(m) => {
                        m.forward_t(Some(&ids), Some(&mask), t, None, None, false)
                            .logits
                    }
                };
                Ok(logits.softmax(-1, Kind::Float).contiguous())
            })
        }))
        .map_err(|p| ForwardError::Panicked {
            message: panic_reason(p),
        })?
        .map_err(ForwardError::RustBert)?
        .to_device(Device::Cpu);
        let numel = out.numel();
        let mut probs = vec![0f32; numel];
        out.f_copy_data(&mut probs, numel)?;
        let expected = match self.head {
            Head::Token => batch.rows * batch.cols * labels,
            Head::Sequence => batch.rows * labels,
        };
        if numel != expected {
            return Err(ForwardError::OutputSize {
                found: numel,
                expected,
            }
            .into());
        }
        Ok(Logits {
            probs,
            rows: batch.rows,
            cols: batch.cols,
            labels,
        })
    }
}

/// Copies every variable of `vs` from the safetensors file, checking names, shapes and dtypes
/// first; weights become fp32 whatever their stored precision.
fn load_weights(vs: &nn::VarStore, path: &Path) -> Result<String, ModelError> {
    let bytes = read_weights(path)?;
    let st = parse_weights(&bytes, path)?;
    copy_vars(vs, &st, path)?;
    Ok(model_identity(
        path.parent().unwrap_or(Path::new(".")),
        &bytes,
    ))
}

/// A model's identity: its folder name and the first 16 hex digits of the SHA-256 of its
/// config.json, tokenizer.json and weights (in that order), e.g. `joint@3f2a9c01d4e5b677`.
pub fn model_identity(dir: &Path, weights: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for f in ["config.json", "tokenizer.json"] {
        h.update(std::fs::read(dir.join(f)).unwrap_or_default());
    }
    h.update(weights);
    let hex: String = h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "model".into());
    format!("{name}@{hex}")
}

/// The bytes of a safetensors file.
pub(crate) fn read_weights(path: &Path) -> Result<Vec<u8>, ModelError> {
    std::fs::read(path).map_err(|source| ModelError::Read {
        path: path.to_path_buf(),
        source,
    })
}

pub(crate) fn parse_weights<'a>(
    bytes: &'a [u8],
    path: &Path,
) -> Result<SafeTensors<'a>, ModelError> {
    SafeTensors::deserialize(bytes).map_err(|source| ModelError::CorruptWeights {
        path: path.to_path_buf(),
        source,
    })
}

/// Copies every variable of `vs` from `st` (checked: present, same shape, a float dtype).
pub(crate) fn copy_vars(
    vs: &nn::VarStore,
    st: &SafeTensors,
    path: &Path,
) -> Result<(), ModelError> {
    let mut vars: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, mut var) in vars {
        let src = tensor_f32(st, path, &name, Some(&var.size()))?;
        tch::no_grad(|| var.f_copy_(&src)).map_err(|source| ModelError::TensorData {
            path: path.to_path_buf(),
            tensor: name.clone(),
            source: Box::new(source),
        })?;
    }
    Ok(())
}

/// Tensor `name` of `st` as fp32, checked against `expected` when given.
pub(crate) fn tensor_f32(
    st: &SafeTensors,
    path: &Path,
    name: &str,
    expected: Option<&[i64]>,
) -> Result<Tensor, ModelError> {
    let view = st.tensor(name).map_err(|_| ModelError::MissingTensor {
        path: path.to_path_buf(),
        tensor: name.to_string(),
    })?;
    let found: Vec<i64> = view.shape().iter().map(|&d| d as i64).collect();
    if let Some(expected) = expected {
        if found != expected {
            return Err(ModelError::ShapeMismatch {
                path: path.to_path_buf(),
                tensor: name.to_string(),
                expected: expected.to_vec(),
                found,
            });
        }
    }
    let kind = match view.dtype() {
        Dtype::F32 => Kind::Float,
        Dtype::F16 => Kind::Half,
        Dtype::BF16 => Kind::BFloat16,
        other => {
            return Err(ModelError::BadDtype {
                path: path.to_path_buf(),
                tensor: name.to_string(),
                dtype: format!("{other:?}"),
            })
        }
    };
    Tensor::f_from_data_size(view.data(), &found, kind)
        .and_then(|t| t.f_to_kind(Kind::Float))
        .map_err(|source| ModelError::TensorData {
            path: path.to_path_buf(),
            tensor: name.to_string(),
            source: Box::new(source),
        })
}

/// Counters of the batches a classifier ran.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BatchStats {
    pub batches: usize,
    pub sequences: usize,
    /// Tokens that are not padding.
    pub real_tokens: usize,
    /// rows × columns of every batch: what the encoder computed.
    pub padded_tokens: usize,
    /// Encoder FLOPs of the batches as run (padding included), from the config's sizes.
    pub flops: f64,
    /// Wall time in the forward passes (tensor creation and copies included).
    pub forward_seconds: f64,
    /// Each batch's share of `forward_seconds` (its latency), in the order run: `bench`'s
    /// percentiles. Four bytes a batch (a batch holds up to `--batch-tokens` padded tokens).
    pub batch_seconds: Vec<f32>,
}

impl BatchStats {
    pub fn add(&mut self, o: &BatchStats) {
        self.batches += o.batches;
        self.sequences += o.sequences;
        self.real_tokens += o.real_tokens;
        self.padded_tokens += o.padded_tokens;
        self.flops += o.flops;
        self.forward_seconds += o.forward_seconds;
        self.batch_seconds.extend_from_slice(&o.batch_seconds);
    }
}

impl Classifier {
    /// Encoder FLOPs of one batch of `rows` sequences of `cols` positions: per layer, the four
    /// attention projections and the two feed-forward matrices (2·(4h² + 2h·f) per token) and
    /// the two attention products (4·n·h per token). At h = 384, f = 1536, 6 layers and n = 128
    /// that is 22.4 MFLOP per token. Counts what runs: where the last layer is computed for the
    /// first position only (BERT sequence heads), that layer costs the key and value
    /// projections of every position (2·2h² each) and the rest for one position.
    pub fn encoder_flops(&self, rows: usize, cols: usize) -> f64 {
        let (h, f, layers) = self.config.dims;
        let (h, f, n) = (h as f64, f as f64, cols as f64);
        let per_token = 2.0 * (4.0 * h * h + 2.0 * h * f) + 4.0 * n * h;
        let cls_only = self.own.as_ref().is_some_and(|o| o.first_position_only()) && layers > 0;
        if !cls_only {
            return layers as f64 * per_token * n * rows as f64;
        }
        let last = 4.0 * h * h * n + 2.0 * (2.0 * h * h + 2.0 * h * f) + 4.0 * n * h;
        ((layers - 1) as f64 * per_token * n + last) * rows as f64
    }
}

/// Groups sequences into batches of at most `token_budget` padded tokens (rows × longest):
/// sequences are sorted by length (ties by position) and cut greedily, so a batch holds
/// sequences of similar length. Returns each batch's member indices into `lengths`. Depends
/// only on the lengths and the budget.
pub fn plan_batches(lengths: &[usize], token_budget: usize) -> Vec<Vec<usize>> {
    let shapes: Vec<(usize, usize)> = lengths.iter().map(|&l| (1, l)).collect();
    plan_groups(&shapes, token_budget)
}

/// [`plan_batches`] for items of several rows each (`(rows, longest row)`), kept whole in one
/// batch: sorted by length, cut greedily so that all rows × the longest stay within the budget
/// (an item larger than the budget gets a batch of its own).
pub fn plan_groups(shapes: &[(usize, usize)], token_budget: usize) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..shapes.len()).collect();
    order.sort_by_key(|&i| (shapes[i].1, i));
    let mut out = Vec::new();
    let mut k = 0;
    while k < order.len() {
        // lengths ascend, so the last member sets the padded width
        let mut rows = shapes[order[k]].0;
        let mut end = k + 1;
        while end < order.len()
            && shapes[order[end]].1 * (rows + shapes[order[end]].0) <= token_budget.max(1)
        {
            rows += shapes[order[end]].0;
            end += 1;
        }
        out.push(order[k..end].to_vec());
        k = end;
    }
    out
}

/// Puts the results of the batches of `plan` (one result per batch, in plan order, one value
/// per member) back in input order (`len` items) and sums the batches' counters; stops at the
/// first error.
pub fn gather_batches<T: Default>(
    len: usize,
    plan: &[Vec<usize>],
    results: impl IntoIterator<Item = Result<(Vec<T>, BatchStats), ModelError>>,
) -> Result<(Vec<T>, BatchStats), ModelError> {
    let mut out: Vec<T> = std::iter::repeat_with(T::default).take(len).collect();
    let mut stats = BatchStats::default();
    for (members, r) in plan.iter().zip(results) {
        let (values, st) = r?;
        stats.add(&st);
        for (&i, v) in members.iter().zip(values) {
            out[i] = v;
        }
    }
    Ok((out, stats))
}

impl Classifier {
    /// Runs many `(ids, type ids)` sequences (special tokens included), grouped by length into
    /// batches of at most `token_budget` padded tokens ([`plan_batches`]). Returns, in input
    /// order, each sequence's probabilities: `len × labels` for token heads, `labels` for
    /// sequence heads.
    pub fn predict(
        &self,
        items: &[(Vec<u32>, Vec<u32>)],
        token_budget: usize,
    ) -> Result<(Vec<Vec<f32>>, BatchStats), ModelError> {
        let lengths: Vec<usize> = items.iter().map(|i| i.0.len()).collect();
        let plan = plan_batches(&lengths, token_budget);
        gather_batches(
            items.len(),
            &plan,
            plan.iter().map(|m| self.run_batch(items, m)),
        )
    }

    /// Runs the batch of `items[members]` (one of [`plan_batches`]'s) and returns each
    /// member's probabilities, in member order.
    pub fn run_batch(
        &self,
        items: &[(Vec<u32>, Vec<u32>)],
        members: &[usize],
    ) -> Result<(Vec<Vec<f32>>, BatchStats), ModelError> {
        let seqs: Vec<&(Vec<u32>, Vec<u32>)> = members.iter().map(|&i| &items[i]).collect();
        let batch = newsmill_text::pad_batch(&seqs, self.encoder.pad_id);
        let t0 = std::time::Instant::now();
        let logits = self.forward(&batch)?;
        let seconds = t0.elapsed().as_secs_f64();
        let stats = BatchStats {
            batches: 1,
            sequences: members.len(),
            real_tokens: batch.real_tokens(),
            padded_tokens: batch.rows * batch.cols,
            flops: self.encoder_flops(batch.rows, batch.cols),
            forward_seconds: seconds,
            batch_seconds: vec![seconds as f32],
        };
        let probs = members
            .iter()
            .enumerate()
            .map(|(row, &i)| match self.head {
                Head::Token => (0..items[i].0.len())
                    .flat_map(|c| logits.token(row, c).iter().copied())
                    .collect(),
                Head::Sequence => logits.row(row).to_vec(),
            })
            .collect();
        Ok((probs, stats))
    }
}
