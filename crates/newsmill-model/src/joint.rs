//! Joint checkpoints: one BERT encoder read once per sequence, several heads over its last
//! hidden states (config.json's `newsmill.heads`, see models/README.md): token tags, classes
//! from the first position, and classes of target spans pooled from the same states — so a
//! sentence's entities, sentiment and the stance toward each of its mentions cost one pass.

use std::ops::Range;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use newsmill_text::WordpieceEncoder;
use rust_bert::bert::{BertConfig, BertEmbeddings, BertModel};
use tch::{nn, Device, Kind, Tensor};

use crate::bert::BertForward;
use crate::config::{HeadKind, HeadSpec, JointSpec, ModelConfig, ModelType};
use crate::error::ModelError;
use crate::model::{
    copy_vars, panic_reason, parse_weights, read_weights, tensor_f32, BatchStats, Precision,
};

struct LoadedHead {
    spec: HeadSpec,
    w: Tensor,
    b: Tensor,
}

/// A joint checkpoint loaded for inference. Not `Sync` (tch tensors are not): each worker
/// thread owns its own.
pub struct JointModel {
    pub config: ModelConfig,
    pub spec: JointSpec,
    pub encoder: WordpieceEncoder,
    pub dir: PathBuf,
    /// [`crate::model_identity`] of the folder.
    pub identity: String,
    /// Holds what it reads of the loaded variables (shallow copies, or fused and quantized
    /// copies); the variable store itself is dropped after loading, so weights that only
    /// served to build those copies (separate q/k/v, fp32 originals of int8 layers) are freed.
    bert: BertForward,
    heads: Vec<LoadedHead>,
}

/// One unit of a joint batch, run in one batch so that its token predictions can be decoded
/// whole before its spans are pooled: the windows (ids, token type ids, special tokens
/// included) of one sentence.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JointItem {
    pub windows: Vec<(Vec<u32>, Vec<u32>)>,
}

impl JointItem {
    /// (rows, longest row): what the item costs a batch.
    pub fn shape(&self) -> (usize, usize) {
        (
            self.windows.len(),
            self.windows.iter().map(|w| w.0.len()).max().unwrap_or(0),
        )
    }
}

/// A span to pool for the span head: positions (special token included) of one window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpanRequest {
    pub window: usize,
    pub positions: Range<usize>,
}

/// The heads a run reads, by index into [`JointModel::heads`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JointHeads {
    pub token: Option<usize>,
    /// First-position heads, in the order their outputs are returned.
    pub first: Vec<usize>,
    pub span: Option<usize>,
}

/// What the heads say about one item: token probabilities per window (`len × labels`), the
/// first-position heads' probabilities from its first window (in [`JointHeads::first`] order),
/// what the decoder made of the tokens, and the span head's probabilities per requested span.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JointItemOut<T> {
    pub first: Vec<Vec<f32>>,
    pub decoded: T,
    pub spans: Vec<Vec<f32>>,
}

impl JointModel {
    /// Loads a joint checkpoint folder (`config.json` with `newsmill.heads`, `tokenizer.json`,
    /// `model.safetensors` holding `bert.*` and one prefix per head).
    pub fn load(dir: &Path, precision: Precision) -> Result<Self, ModelError> {
        if !dir.is_dir() {
            return Err(ModelError::NotAFolder(dir.to_path_buf()));
        }
        let config = ModelConfig::from_file(&dir.join("config.json"))?;
        let spec = config.joint.clone().ok_or_else(|| ModelError::BadField {
            path: config.path.clone(),
            field: "newsmill.heads".into(),
            reason: "missing: not a joint checkpoint".into(),
        })?;
        if config.model_type != ModelType::Bert {
            return Err(ModelError::BadField {
                path: config.path.clone(),
                field: "model_type".into(),
                reason: format!(
                    "joint checkpoints are BERT encoders, found {:?}",
                    config.model_type
                ),
            });
        }
        let tok_path = dir.join("tokenizer.json");
        if !tok_path.is_file() {
            return Err(ModelError::MissingFile { path: tok_path });
        }
        let weights = dir.join("model.safetensors");
        if !weights.is_file() {
            return Err(ModelError::MissingFile { path: weights });
        }
        let encoder = WordpieceEncoder::from_file(&tok_path, config.max_positions)?;
        crate::vocab::check_vocab(&config, &encoder, &tok_path)?;
        let build = |reason: String| ModelError::Build {
            path: config.path.clone(),
            reason,
        };
        let vs = nn::VarStore::new(Device::Cpu);
        let rb: BertConfig = config.rust_bert()?;
        catch_unwind(AssertUnwindSafe(|| {
            BertModel::<BertEmbeddings>::new(vs.root() / "bert", &rb)
        }))
        .map_err(|p| {
            build(format!(
                "rust-bert could not build the encoder: {}",
                panic_reason(p)
            ))
        })?;
        let bytes = read_weights(&weights)?;
        let st = parse_weights(&bytes, &weights)?;
        copy_vars(&vs, &st, &weights)?;
        let identity = crate::model::model_identity(dir, &bytes);
        let h = config.dims.0 as i64;
        let mut heads = Vec::with_capacity(spec.heads.len());
        for hs in &spec.heads {
            let input = match hs.kind {
                HeadKind::SpanPool => 3 * h,
                _ => h,
            };
            let wname = format!("{}.weight", hs.prefix);
            let w = tensor_f32(&st, &weights, &wname, None)?;
            let size = w.size();
            if size.len() != 2 || size[1] != input {
                return Err(ModelError::ShapeMismatch {
                    path: weights.clone(),
                    tensor: wname,
                    expected: vec![hs.labels.len() as i64, input],
                    found: size,
                });
            }
            if size[0] != hs.labels.len() as i64 {
                return Err(ModelError::BadField {
                    path: config.path.clone(),
                    field: format!("newsmill.heads.{}.labels", hs.name),
                    reason: format!(
                        "{} labels, but tensor `{wname}` in {} has {} rows",
                        hs.labels.len(),
                        weights.display(),
                        size[0]
                    ),
                });
            }
            let b = tensor_f32(
                &st,
                &weights,
                &format!("{}.bias", hs.prefix),
                Some(&[size[0]]),
            )?;
            heads.push(LoadedHead {
                spec: hs.clone(),
                w,
                b,
            });
        }
        // the file's bytes are not needed any more: free them before the encoder's fused (and,
        // for int8, quantized) copies are made, so two copies of the weights never meet a third
        drop(st);
        drop(bytes);
        let bert = BertForward::new(
            &vs.variables(),
            config.attention_heads as i64,
            config.dims.2,
            None,
            precision == Precision::Int8,
        )
        .map_err(build)?;
        Ok(JointModel {
            config,
            spec,
            encoder,
            dir: dir.to_path_buf(),
            identity,
            bert,
            heads,
        })
    }

    /// The heads, in output order.
    pub fn heads(&self) -> impl Iterator<Item = &HeadSpec> {
        self.heads.iter().map(|h| &h.spec)
    }

    /// Index of the head `name` of kind `kind`, or an error naming the config field: a task
    /// whose head the checkpoint lacks cannot run.
    pub fn require(&self, name: &str, kind: HeadKindName) -> Result<usize, ModelError> {
        let found = self.heads.iter().position(|h| h.spec.name == name);
        let field = format!("newsmill.heads.{name}");
        match found {
            None => Err(ModelError::BadField {
                path: self.config.path.clone(),
                field,
                reason: format!(
                    "missing: this run needs a `{}` head named `{name}` (heads present: {})",
                    kind.as_str(),
                    self.heads
                        .iter()
                        .map(|h| h.spec.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }),
            Some(i) if HeadKindName::of(&self.heads[i].spec.kind) != kind => {
                Err(ModelError::BadField {
                    path: self.config.path.clone(),
                    field: format!("{field}.kind"),
                    reason: format!(
                        "this run reads `{name}` as a `{}` head, the checkpoint says `{}`",
                        kind.as_str(),
                        HeadKindName::of(&self.heads[i].spec.kind).as_str()
                    ),
                })
            }
            Some(i) => Ok(i),
        }
    }

    /// Encoder FLOPs of one batch (every layer for every position).
    pub fn encoder_flops(&self, rows: usize, cols: usize) -> f64 {
        let (h, f, layers) = self.config.dims;
        let (h, f, n) = (h as f64, f as f64, cols as f64);
        layers as f64 * (2.0 * (4.0 * h * h + 2.0 * h * f) + 4.0 * n * h) * n * rows as f64
    }

    /// Runs the batch of `items[members]` (one of [`crate::plan_groups`]'s, planned on the
    /// items' shapes) through the encoder once: the token head's probabilities of each item go
    /// to `decode` (called with the item's index), which returns what it made of them and the
    /// spans the span head should score; those spans are pooled from the same hidden states.
    pub fn run_batch<T, F>(
        &self,
        items: &[JointItem],
        members: &[usize],
        heads: &JointHeads,
        decode: &F,
    ) -> Result<(Vec<JointItemOut<T>>, BatchStats), ModelError>
    where
        F: Fn(usize, &[Vec<f32>]) -> (T, Vec<SpanRequest>),
    {
        let t0 = std::time::Instant::now();
        // rows: every window of every member, members in order
        let mut first_row = Vec::with_capacity(members.len());
        let mut rows: Vec<&(Vec<u32>, Vec<u32>)> = Vec::new();
        for &m in members {
            first_row.push(rows.len());
            rows.extend(items[m].windows.iter());
        }
        let cols = rows.iter().map(|w| w.0.len()).max().unwrap_or(0);
        if cols > self.config.max_positions {
            return Err(ModelError::Forward(format!(
                "batch of {cols} positions exceeds the model's {}",
                self.config.max_positions
            )));
        }
        let n = rows.len();
        let pad = self.encoder.pad_id as i64;
        let mut ids = vec![pad; n * cols];
        let mut types = vec![0i64; n * cols];
        let mut mask = vec![0i64; n * cols];
        let mut real = 0usize;
        for (r, (wi, wt)) in rows.iter().enumerate() {
            if wt.len() != wi.len() {
                return Err(ModelError::Forward(format!(
                    "{} ids but {} token types",
                    wi.len(),
                    wt.len()
                )));
            }
            for (c, (&id, &ty)) in wi.iter().zip(wt).enumerate() {
                if ty as usize >= self.config.type_vocab_size {
                    return Err(ModelError::Forward(format!(
                        "token type id {ty} out of range ({} types)",
                        self.config.type_vocab_size
                    )));
                }
                ids[r * cols + c] = id as i64;
                types[r * cols + c] = ty as i64;
                mask[r * cols + c] = 1;
            }
            real += wi.len();
        }
        let forward = |f: &mut dyn FnMut(&Tensor) -> Result<(), ModelError>| {
            if n == 0 || cols == 0 {
                return Ok(());
            }
            let shape = [n as i64, cols as i64];
            let ids = Tensor::from_slice(&ids).view(shape);
            let types = Tensor::from_slice(&types).view(shape);
            let mask = Tensor::from_slice(&mask).view(shape);
            let x = catch_unwind(AssertUnwindSafe(|| {
                tch::no_grad(|| self.bert.hidden(&ids, &mask, Some(&types)))
            }))
            .map_err(|p| ModelError::Forward(panic_reason(p)))?;
            f(&x)
        };
        let mut outs: Vec<JointItemOut<T>> = Vec::with_capacity(members.len());
        let mut spans_wanted: Vec<Vec<SpanRequest>> = Vec::with_capacity(members.len());
        forward(&mut |x: &Tensor| {
            let fwd = |e: tch::TchError| ModelError::Forward(e.to_string());
            let token = match heads.token {
                Some(h) => {
                    let head = self.head(h)?;
                    to_vec(
                        &tch::no_grad(|| x.f_linear(&head.w, Some(&head.b)))
                            .and_then(|t| t.f_softmax(-1, Kind::Float))
                            .and_then(|t| t.f_contiguous())
                            .map_err(fwd)?,
                    )
                    .map_err(fwd)?
                }
                None => Vec::new(),
            };
            let mut first: Vec<Vec<f32>> = Vec::with_capacity(heads.first.len());
            let x0 = x.f_select(1, 0).map_err(fwd)?;
            for &h in &heads.first {
                let head = self.head(h)?;
                let pooled = match head.spec.kind {
                    HeadKind::FirstPosition { pooler: true } => self.bert.pool(&x0),
                    _ => None,
                };
                let input = pooled.as_ref().unwrap_or(&x0);
                first.push(
                    to_vec(
                        &tch::no_grad(|| input.f_linear(&head.w, Some(&head.b)))
                            .and_then(|t| t.f_softmax(-1, Kind::Float))
                            .and_then(|t| t.f_contiguous())
                            .map_err(fwd)?,
                    )
                    .map_err(fwd)?,
                );
            }
            for (k, &m) in members.iter().enumerate() {
                let r0 = first_row[k];
                let token_probs: Vec<Vec<f32>> = match heads.token {
                    Some(h) => {
                        let labels = self.heads[h].spec.labels.len();
                        items[m]
                            .windows
                            .iter()
                            .enumerate()
                            .map(|(w, win)| {
                                let o = (r0 + w) * cols * labels;
                                token[o..o + win.0.len() * labels].to_vec()
                            })
                            .collect()
                    }
                    None => Vec::new(),
                };
                let (decoded, wanted) = decode(m, &token_probs);
                let firsts = heads
                    .first
                    .iter()
                    .enumerate()
                    .map(|(i, &h)| {
                        let labels = self.heads[h].spec.labels.len();
                        if items[m].windows.is_empty() {
                            Vec::new()
                        } else {
                            first[i][r0 * labels..(r0 + 1) * labels].to_vec()
                        }
                    })
                    .collect();
                outs.push(JointItemOut {
                    first: firsts,
                    decoded,
                    spans: Vec::new(),
                });
                spans_wanted.push(wanted);
            }
            // the span head over the requested spans of every member, in one matmul
            let Some(h) = heads.span else {
                return Ok(());
            };
            let head = self.head(h)?;
            let mut feats = Vec::new();
            for (k, &m) in members.iter().enumerate() {
                for req in &spans_wanted[k] {
                    let len = items[m].windows.get(req.window).map_or(0, |w| w.0.len());
                    if req.positions.start == 0
                        || req.positions.start >= req.positions.end
                        || req.positions.end > len
                    {
                        return Err(ModelError::Forward(format!(
                            "span {:?} outside window {} of {len} positions",
                            req.positions, req.window
                        )));
                    }
                    let row = x
                        .f_select(0, (first_row[k] + req.window) as i64)
                        .map_err(fwd)?;
                    let part = row
                        .f_narrow(
                            0,
                            req.positions.start as i64,
                            (req.positions.end - req.positions.start) as i64,
                        )
                        .map_err(fwd)?;
                    let feat = tch::no_grad(|| -> Result<Tensor, tch::TchError> {
                        let mean = part.f_mean_dim(&[0i64][..], false, Kind::Float)?;
                        let max = part.f_amax(&[0i64][..], false)?;
                        Tensor::f_cat(&[&row.f_select(0, 0)?, &mean, &max], 0)
                    })
                    .map_err(fwd)?;
                    feats.push(feat);
                }
            }
            if feats.is_empty() {
                return Ok(());
            }
            let labels = head.spec.labels.len();
            let probs = to_vec(
                &tch::no_grad(|| {
                    Tensor::f_stack(&feats, 0)?
                        .f_linear(&head.w, Some(&head.b))?
                        .f_softmax(-1, Kind::Float)?
                        .f_contiguous()
                })
                .map_err(fwd)?,
            )
            .map_err(fwd)?;
            let mut at = 0;
            for (k, out) in outs.iter_mut().enumerate() {
                for _ in &spans_wanted[k] {
                    out.spans.push(probs[at..at + labels].to_vec());
                    at += labels;
                }
            }
            Ok(())
        })?;
        if n == 0 || cols == 0 {
            // nothing to encode: items without windows still get decoded (to nothing)
            for &m in members {
                let (decoded, _) = decode(m, &[]);
                outs.push(JointItemOut {
                    first: vec![Vec::new(); heads.first.len()],
                    decoded,
                    spans: Vec::new(),
                });
            }
        }
        let stats = BatchStats {
            batches: usize::from(n > 0),
            sequences: n,
            real_tokens: real,
            padded_tokens: n * cols,
            flops: self.encoder_flops(n, cols),
            forward_seconds: t0.elapsed().as_secs_f64(),
        };
        Ok((outs, stats))
    }

    fn head(&self, i: usize) -> Result<&LoadedHead, ModelError> {
        self.heads
            .get(i)
            .ok_or_else(|| ModelError::Forward(format!("no head {i}")))
    }
}

fn to_vec(t: &Tensor) -> Result<Vec<f32>, tch::TchError> {
    let n = t.numel();
    let mut v = vec![0f32; n];
    t.f_copy_data(&mut v, n)?;
    Ok(v)
}

/// The head kinds by their config.json names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadKindName {
    Token,
    FirstPosition,
    SpanPool,
}

impl HeadKindName {
    fn of(k: &HeadKind) -> Self {
        match k {
            HeadKind::Token => HeadKindName::Token,
            HeadKind::FirstPosition { .. } => HeadKindName::FirstPosition,
            HeadKind::SpanPool => HeadKindName::SpanPool,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            HeadKindName::Token => "token",
            HeadKindName::FirstPosition => "first_position",
            HeadKindName::SpanPool => "span_pool",
        }
    }
}
