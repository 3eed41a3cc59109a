//! Joint checkpoints: one BERT encoder read once per sequence, several heads over its last
//! hidden states (config.json's `newsmill.heads`, see models/README.md): token tags, classes
//! from the first position, and classes of target spans pooled from the same states — so a
//! sentence's entities, sentiment and the stance toward each of its mentions cost one pass.

use std::ops::Range;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use newsmill_text::WordpieceEncoder;
use rust_bert::bert::{BertConfig, BertEmbeddings, BertModel};
use tch::{nn, Device, Kind, Tensor};

use crate::bert::{BertForward, BranchForward};
use crate::config::{BranchSpec, HeadKind, HeadSpec, JointSpec, ModelConfig, ModelType};
use crate::device::{Compute, Precision};
use crate::error::{BuildError, ForwardError, ModelError};
use crate::model::{copy_vars, panic_reason, parse_weights, read_weights, tensor_f32, BatchStats};

/// A head's weights (fp32, on the model's device) and its own upper encoder layers, if any.
struct LoadedHead {
    w: Tensor,
    b: Tensor,
    branch: Option<BranchForward>,
}

impl LoadedHead {
    fn share(&self) -> LoadedHead {
        LoadedHead {
            w: self.w.shallow_clone(),
            b: self.b.shallow_clone(),
            branch: self.branch.as_ref().map(BranchForward::share),
        }
    }
}

/// The tensors of a loaded joint checkpoint: the encoder and the heads' weights.
struct Net {
    /// Holds what it reads of the loaded variables (shallow copies, or fused and quantized
    /// copies); the variable store itself is dropped after loading, so weights that only
    /// served to build those copies (separate q/k/v, fp32 originals of int8 layers) are freed.
    bert: BertForward,
    heads: Vec<LoadedHead>,
}

/// A joint checkpoint loaded for inference. The weights are loaded once: every worker thread
/// gets a handle on them ([`JointModel::share`]). On the CPU each handle runs on its own; on a
/// GPU the handles take turns (one batch on the GPU at a time; preparing and decoding run beside
/// it on the CPU workers).
pub struct JointModel {
    pub config: ModelConfig,
    pub spec: JointSpec,
    pub encoder: WordpieceEncoder,
    pub dir: PathBuf,
    /// [`crate::model_identity`] of the folder.
    pub identity: String,
    pub compute: Compute,
    heads: Vec<HeadSpec>,
    net: Arc<Mutex<Net>>,
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

/// One batch of a joint checkpoint after its encoder pass ([`JointModel::encode_batch`]):
/// what the token and first-position heads say about each member (`items`), and the hidden
/// states the span head pools the members' spans from ([`EncodedBatch::score_spans`]) once
/// the caller has decoded the tokens and knows which spans to score.
pub struct EncodedBatch {
    /// Each member's probabilities, in member order.
    pub items: Vec<EncodedItem>,
    /// The batch rows (windows) of each member.
    member_rows: Vec<Range<usize>>,
    /// The positions of each row (special tokens included).
    row_len: Vec<usize>,
    /// Positions per row, padding included.
    cols: usize,
    /// What the span head reads; `None` when nothing was encoded (no member has a window).
    states: Option<BatchStates>,
    /// The batch's counters, `forward_seconds` left to [`EncodedBatch::stats`].
    counts: BatchStats,
    /// The FLOPs of a span head's own upper layers, run in [`EncodedBatch::score_spans`].
    branch_flops: std::cell::Cell<f64>,
    started: Instant,
}

/// What the token and first-position heads say about one item of an [`EncodedBatch`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EncodedItem {
    /// The token head's probabilities per window (`len × labels`, special tokens included);
    /// empty when the run reads no token head.
    pub tokens: Vec<Vec<f32>>,
    /// The first-position heads' probabilities from the item's first window, in
    /// [`JointHeads::first`] order (empty vectors for an item without windows).
    pub first: Vec<Vec<f32>>,
}

impl JointModel {
    /// Loads a joint checkpoint folder (`config.json` with `newsmill.heads`, `tokenizer.json`,
    /// `model.safetensors` holding `bert.*` and one prefix per head).
    pub fn load(dir: &Path, compute: Compute) -> Result<Self, ModelError> {
        compute.check()?;
        let precision = compute.precision;
        let device = compute.device.tch();
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
        let build = |source: BuildError| ModelError::Build {
            path: config.path.clone(),
            source: Box::new(source),
        };
        let mut vs = nn::VarStore::new(Device::Cpu);
        let rb: BertConfig = config.rust_bert()?;
        catch_unwind(AssertUnwindSafe(|| {
            BertModel::<BertEmbeddings>::new(vs.root() / "bert", &rb)
        }))
        .map_err(|p| {
            build(BuildError::Panicked {
                part: "encoder",
                message: panic_reason(p),
            })
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
            let w = tensor_f32(&st, &weights, &wname, None)?.to_device(device);
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
            )?
            .to_device(device);
            // calibration: logits / T, folded into the weights
            let (w, b) = if hs.temperature == 1.0 {
                (w, b)
            } else {
                let t = f64::from(hs.temperature);
                (w / t, b / t)
            };
            let branch = match &hs.branch {
                Some(spec) => Some(load_branch(&config, &st, &weights, &vs, hs, spec, compute)?),
                None => None,
            };
            heads.push(LoadedHead { w, b, branch });
        }
        // the file's bytes are not needed any more: free them before the encoder's fused (and,
        // for int8, quantized) copies are made, so two copies of the weights never meet a third
        drop(st);
        drop(bytes);
        if compute.device.is_cuda() {
            vs.set_device(device);
        }
        if precision.kind() != Kind::Float {
            vs.set_kind(precision.kind());
        }
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
            encoder,
            dir: dir.to_path_buf(),
            identity,
            compute,
            heads: spec.heads.clone(),
            spec,
            net: Arc::new(Mutex::new(Net { bert, heads })),
        })
    }

    /// Another handle on the same loaded weights (for another worker thread): memory (RAM or
    /// GPU) holds one copy of the model whatever the number of workers. On a GPU the handles
    /// share one lock (batches take turns); on the CPU each has its own and they run side by
    /// side.
    pub fn share(&self) -> JointModel {
        let net = if self.compute.device.is_cuda() {
            Arc::clone(&self.net)
        } else {
            let own = self.net.lock().unwrap_or_else(|p| p.into_inner());
            Arc::new(Mutex::new(Net {
                bert: own.bert.share(),
                heads: own.heads.iter().map(LoadedHead::share).collect(),
            }))
        };
        JointModel {
            config: self.config.clone(),
            spec: self.spec.clone(),
            encoder: self.encoder.clone(),
            dir: self.dir.clone(),
            identity: self.identity.clone(),
            compute: self.compute,
            heads: self.heads.clone(),
            net,
        }
    }

    /// Makes this model read `other`'s word-embedding table when the two checkpoints' tables
    /// are equal (see [`BertForward::reuse_word_embeddings`]); call it before [`Self::share`].
    /// Returns whether they are shared.
    pub fn share_word_embeddings(&self, other: &JointModel) -> bool {
        if Arc::ptr_eq(&self.net, &other.net) {
            return true;
        }
        match (self.net.lock(), other.net.lock()) {
            (Ok(mut own), Ok(theirs)) => own.bert.reuse_word_embeddings(&theirs.bert),
            _ => false,
        }
    }

    /// The heads, in output order.
    pub fn heads(&self) -> impl Iterator<Item = &HeadSpec> {
        self.heads.iter()
    }

    /// Index of the head `name` of kind `kind`, or an error naming the config field: a task
    /// whose head the checkpoint lacks cannot run.
    pub fn require(&self, name: &str, kind: HeadKind) -> Result<usize, ModelError> {
        let found = self.heads.iter().position(|h| h.name == name);
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
                        .map(|h| h.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }),
            Some(i) if self.heads[i].kind != kind => Err(ModelError::BadField {
                path: self.config.path.clone(),
                field: format!("{field}.kind"),
                reason: format!(
                    "this run reads `{name}` as a `{}` head, the checkpoint says `{}`",
                    kind.as_str(),
                    self.heads[i].kind.as_str()
                ),
            }),
            Some(i) => Ok(i),
        }
    }

    /// Encoder FLOPs of one batch (every layer for every position).
    pub fn encoder_flops(&self, rows: usize, cols: usize) -> f64 {
        let (h, f, layers) = self.config.dims;
        layers as f64 * crate::bert::layer_flops(h, f, rows, cols)
    }

    /// Runs the batch of `items[members]` (one of [`crate::plan_groups`]'s, planned on the
    /// items' shapes) through the encoder once and reads the token and first-position heads:
    /// each member's probabilities are in the result's `items`, in member order. The caller
    /// decodes them, then asks [`EncodedBatch::score_spans`] for the spans the span head
    /// should score (pooled from the same hidden states) and [`EncodedBatch::stats`] for the
    /// batch's counters.
    pub fn encode_batch(
        &self,
        items: &[JointItem],
        members: &[usize],
        heads: &JointHeads,
    ) -> Result<EncodedBatch, ModelError> {
        let started = Instant::now();
        // rows: every window of every member, members in order
        let mut member_rows = Vec::with_capacity(members.len());
        let mut rows: Vec<&(Vec<u32>, Vec<u32>)> = Vec::new();
        for &m in members {
            let start = rows.len();
            rows.extend(items[m].windows.iter());
            member_rows.push(start..rows.len());
        }
        let cols = rows.iter().map(|w| w.0.len()).max().unwrap_or(0);
        if cols > self.config.max_positions {
            return Err(ForwardError::TooLong {
                cols,
                max: self.config.max_positions,
            }
            .into());
        }
        let n = rows.len();
        let pad = self.encoder.pad_id as i64;
        let mut ids = vec![pad; n * cols];
        let mut types = vec![0i64; n * cols];
        let mut mask = vec![0i64; n * cols];
        let mut real = 0usize;
        for (r, (wi, wt)) in rows.iter().enumerate() {
            if wt.len() != wi.len() {
                return Err(ForwardError::TypeIdsLength {
                    ids: wi.len(),
                    types: wt.len(),
                }
                .into());
            }
            for (c, (&id, &ty)) in wi.iter().zip(wt).enumerate() {
                if ty as usize >= self.config.type_vocab_size {
                    return Err(ForwardError::TokenType {
                        id: i64::from(ty),
                        types: self.config.type_vocab_size,
                    }
                    .into());
                }
                ids[r * cols + c] = id as i64;
                types[r * cols + c] = ty as i64;
                mask[r * cols + c] = 1;
            }
            real += wi.len();
        }
        let row_len: Vec<usize> = rows.iter().map(|w| w.0.len()).collect();
        let counts = BatchStats {
            batches: usize::from(n > 0),
            sequences: n,
            real_tokens: real,
            padded_tokens: n * cols,
            flops: self.encoder_flops(n, cols),
            forward_seconds: 0.0,
            batch_seconds: Vec::new(),
        };
        if n == 0 || cols == 0 {
            // nothing to encode: items without windows get empty probabilities
            let empty = EncodedItem {
                tokens: Vec::new(),
                first: vec![Vec::new(); heads.first.len()],
            };
            return Ok(EncodedBatch {
                items: vec![empty; members.len()],
                member_rows,
                row_len,
                cols,
                states: None,
                counts,
                branch_flops: std::cell::Cell::new(0.0),
                started,
            });
        }
        let device = self.compute.device.tch();
        let shape = [n as i64, cols as i64];
        let ids = Tensor::from_slice(&ids).view(shape).to_device(device);
        let types = Tensor::from_slice(&types).view(shape).to_device(device);
        let mask = Tensor::from_slice(&mask).view(shape).to_device(device);
        // the GPU part under the lock (one batch at a time on weights the workers share on a
        // GPU); the caller's decoding and the CPU side of span pooling run outside it
        let read = {
            let net = self.net.lock().map_err(|_| ForwardError::Poisoned)?;
            catch_unwind(AssertUnwindSafe(|| {
                self.read_batch(&net, &ids, &mask, &types, heads)
            }))
            .map_err(|p| ForwardError::Panicked {
                message: panic_reason(p),
            })??
        };
        let BatchRead {
            x,
            token,
            first,
            span,
            branch_input,
        } = read;
        let mut encoded = Vec::with_capacity(members.len());
        for (&m, rows) in members.iter().zip(&member_rows) {
            let r0 = rows.start;
            let tokens: Vec<Vec<f32>> = match heads.token {
                Some(h) => {
                    let labels = self.heads[h].labels.len();
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
            let first = heads
                .first
                .iter()
                .enumerate()
                .map(|(i, &h)| {
                    let labels = self.heads[h].labels.len();
                    if items[m].windows.is_empty() {
                        Vec::new()
                    } else {
                        first[i][r0 * labels..(r0 + 1) * labels].to_vec()
                    }
                })
                .collect();
            encoded.push(EncodedItem { tokens, first });
        }
        let span = match (heads.span, span) {
            (Some(h), Some(head)) => Some(SpanHead {
                head,
                labels: self.heads[h].labels.len(),
            }),
            _ => None,
        };
        Ok(EncodedBatch {
            items: encoded,
            member_rows,
            row_len,
            cols,
            states: Some(BatchStates {
                x,
                span,
                branch_input,
            }),
            counts,
            branch_flops: std::cell::Cell::new(0.0),
            started,
        })
    }

    /// Runs the encoder over a batch and reads the token and first-position heads (copied to
    /// the CPU); keeps the hidden states and the span head's weights for the spans the caller
    /// will ask for.
    fn read_batch(
        &self,
        net: &Net,
        ids: &Tensor,
        mask: &Tensor,
        types: &Tensor,
        heads: &JointHeads,
    ) -> Result<BatchRead, ModelError> {
        let head = |i: usize| net.heads.get(i).ok_or(ForwardError::NoHead { index: i });
        let branch_from = match heads.span {
            Some(h) => head(h)?.branch.as_ref().map(BranchForward::start),
            None => None,
        };
        // with a span head on its own upper layers, the states after the shared lower layers
        // are kept for it (with the attention mask)
        let (x, branch_input) = tch::no_grad(|| match branch_from {
            Some(at) => {
                let out = net.bert.hidden_and_at(ids, mask, Some(types), at);
                (out.hidden, out.kept.map(|k| (k, out.mask_bias)))
            }
            None => (net.bert.hidden(ids, mask, Some(types)), None),
        });
        let token = match heads.token {
            Some(h) => head_probs(&x, head(h)?)?,
            None => Vec::new(),
        };
        let mut first: Vec<Vec<f32>> = Vec::with_capacity(heads.first.len());
        let x0 = x.f_select(1, 0).map_err(fwd)?;
        for &h in &heads.first {
            let pooled = if self.heads[h].pooler {
                tch::no_grad(|| net.bert.pool(&x0))
            } else {
                None
            };
            first.push(head_probs(pooled.as_ref().unwrap_or(&x0), head(h)?)?);
        }
        let span = match heads.span {
            Some(h) => Some(head(h)?.share()),
            None => None,
        };
        Ok(BatchRead {
            x,
            token,
            first,
            span,
            branch_input,
        })
    }
}

impl EncodedBatch {
    /// Runs the span head over `requests` (one list per member, in member order: spans of
    /// that member's windows), pooled ([CLS; mean; max]) from the batch's hidden states in
    /// one gather for all of them. Returns the span head's probabilities per member, one per
    /// request; nothing when the run reads no span head or nothing was encoded.
    pub fn score_spans(
        &self,
        requests: &[Vec<SpanRequest>],
    ) -> Result<Vec<Vec<Vec<f32>>>, ModelError> {
        if requests.len() != self.member_rows.len() {
            return Err(ForwardError::RequestLists {
                members: self.member_rows.len(),
                found: requests.len(),
            }
            .into());
        }
        let mut out: Vec<Vec<Vec<f32>>> = vec![Vec::new(); requests.len()];
        // the span head over the requested spans of every member: one gather of their
        // positions (each span padded to the longest, padding masked), one matmul
        let Some(BatchStates {
            x,
            span: Some(span),
            branch_input,
        }) = &self.states
        else {
            return Ok(out);
        };
        let cols = self.cols;
        // (batch row, start, length) of each span
        let mut wanted = Vec::new();
        for (rows, reqs) in self.member_rows.iter().zip(requests) {
            for req in reqs {
                let len = if req.window < rows.len() {
                    self.row_len[rows.start + req.window]
                } else {
                    0
                };
                if req.positions.start == 0
                    || req.positions.start >= req.positions.end
                    || req.positions.end > len
                {
                    return Err(ForwardError::SpanOutside {
                        positions: req.positions.clone(),
                        window: req.window,
                        len,
                    }
                    .into());
                }
                let row = rows.start + req.window;
                wanted.push((
                    row,
                    req.positions.start,
                    req.positions.end - req.positions.start,
                ));
            }
        }
        if wanted.is_empty() {
            return Ok(out);
        }
        // a head on its own upper layers: they run over the rows with a span only
        let (x, cols) = match (&span.head.branch, branch_input) {
            (Some(branch), Some((kept, bias))) => {
                let mut rows: Vec<usize> = wanted.iter().map(|w| w.0).collect();
                rows.sort_unstable();
                rows.dedup();
                let used = rows
                    .iter()
                    .map(|&r| self.row_len.get(r).copied().unwrap_or(cols))
                    .max()
                    .unwrap_or(cols)
                    .clamp(1, cols);
                let y = tch::no_grad(|| -> Result<Tensor, tch::TchError> {
                    let idx =
                        Tensor::from_slice(&rows.iter().map(|&r| r as i64).collect::<Vec<_>>())
                            .to_device(kept.device());
                    let xs = kept.f_index_select(0, &idx)?.f_narrow(1, 0, used as i64)?;
                    let bs = bias.f_index_select(0, &idx)?.f_narrow(3, 0, used as i64)?;
                    Ok(branch.forward(&xs.f_contiguous()?, &bs))
                })
                .map_err(fwd)?;
                self.branch_flops
                    .set(self.branch_flops.get() + branch.flops(rows.len(), used));
                for w in &mut wanted {
                    w.0 = rows.binary_search(&w.0).unwrap_or(0);
                }
                (y, used)
            }
            (Some(_), None) => return Err(ForwardError::NoBranchInput.into()),
            (None, _) => (x.shallow_clone(), cols),
        };
        let mut starts = Vec::with_capacity(wanted.len()); // flat position of each row start
        let mut lens = Vec::with_capacity(wanted.len());
        let mut from = Vec::with_capacity(wanted.len());
        for &(row, start, len) in &wanted {
            starts.push((row * cols) as i64);
            from.push((row * cols + start) as i64);
            lens.push(len as i64);
        }
        let (s, longest) = (starts.len(), lens.iter().copied().max().unwrap_or(1));
        let mut gather = Vec::with_capacity(s * longest as usize);
        let mut valid = Vec::with_capacity(s * longest as usize);
        for (&f, &l) in from.iter().zip(&lens) {
            for j in 0..longest {
                gather.push(if j < l { f + j } else { f });
                valid.push(j < l);
            }
        }
        let device = x.device();
        let feats = tch::no_grad(|| -> Result<Tensor, tch::TchError> {
            let hdim = x.size()[2];
            let flat = x.f_reshape([-1, hdim])?;
            let idx = Tensor::from_slice(&gather).to_device(device);
            let valid = Tensor::from_slice(&valid)
                .to_device(device)
                .f_view([s as i64, longest, 1])?;
            let g = flat
                .f_index_select(0, &idx)?
                .f_to_kind(Kind::Float)?
                .f_view([s as i64, longest, hdim])?;
            let n = Tensor::from_slice(&lens)
                .to_device(device)
                .f_to_kind(Kind::Float)?
                .f_unsqueeze(1)?;
            let mean = g
                .f_mul(&valid.f_to_kind(Kind::Float)?)?
                .f_sum_dim_intlist(&[1i64][..], false, Kind::Float)?
                .f_div(&n)?;
            let max = g
                .f_masked_fill(&valid.f_logical_not()?, f64::NEG_INFINITY)?
                .f_amax(&[1i64][..], false)?;
            let cls = flat
                .f_index_select(0, &Tensor::from_slice(&starts).to_device(device))?
                .f_to_kind(Kind::Float)?;
            Tensor::f_cat(&[&cls, &mean, &max], 1)
        })
        .map_err(fwd)?;
        let labels = span.labels;
        let probs = head_probs(&feats, &span.head)?;
        let mut at = 0;
        for (spans, reqs) in out.iter_mut().zip(requests) {
            for _ in reqs {
                spans.push(probs[at..at + labels].to_vec());
                at += labels;
            }
        }
        Ok(out)
    }

    /// The batch's counters; `forward_seconds` is the time since [`JointModel::encode_batch`]
    /// began (the caller's decoding and the span pooling included when asked for after them).
    pub fn stats(&self) -> BatchStats {
        let seconds = self.started.elapsed().as_secs_f64();
        BatchStats {
            forward_seconds: seconds,
            batch_seconds: if self.counts.batches > 0 {
                vec![seconds as f32]
            } else {
                Vec::new()
            },
            flops: self.counts.flops + self.branch_flops.get(),
            ..self.counts.clone()
        }
    }
}

/// What the encoder pass of one batch gave: hidden states, the token head's probabilities
/// (`rows × cols × labels`), each first-position head's (`rows × labels`), the span head.
struct BatchRead {
    x: Tensor,
    token: Vec<f32>,
    first: Vec<Vec<f32>>,
    span: Option<LoadedHead>,
    /// For a span head on its own upper layers: the states after the shared lower layers and
    /// the attention mask.
    branch_input: Option<(Tensor, Tensor)>,
}

/// What an [`EncodedBatch`] keeps for its spans.
struct BatchStates {
    /// The last hidden states, `[rows, cols, h]`.
    x: Tensor,
    /// `None` when the run reads no span head.
    span: Option<SpanHead>,
    /// For a span head on its own upper layers: the states after the shared lower layers and
    /// the attention mask.
    branch_input: Option<(Tensor, Tensor)>,
}

/// The span head of a batch: its weights (and own layers) and its number of labels.
struct SpanHead {
    head: LoadedHead,
    labels: usize,
}

fn fwd(e: tch::TchError) -> ModelError {
    ModelError::Torch(e)
}

/// A head's softmax probabilities over `input` (any kind; the head runs in fp32), on the CPU.
fn head_probs(input: &Tensor, h: &LoadedHead) -> Result<Vec<f32>, ModelError> {
    tch::no_grad(|| {
        input
            .f_to_kind(Kind::Float)?
            .f_linear(&h.w, Some(&h.b))?
            .f_softmax(-1, Kind::Float)
    })
    .and_then(|t| to_vec(&t))
    .map_err(fwd)
}

/// A tensor's values, copied to the CPU.
fn to_vec(t: &Tensor) -> Result<Vec<f32>, tch::TchError> {
    let t = t.f_to_device(Device::Cpu)?.f_contiguous()?;
    let n = t.numel();
    let mut v = vec![0f32; n];
    t.f_copy_data(&mut v, n)?;
    Ok(v)
}

/// The upper encoder layers of head `hs` (`spec.prefix.layer.N.*`, N = `from_layer`..L-1),
/// each tensor checked against the shape of the shared encoder's layer N.
fn load_branch(
    config: &ModelConfig,
    st: &safetensors::SafeTensors,
    weights: &Path,
    vs: &nn::VarStore,
    hs: &HeadSpec,
    spec: &BranchSpec,
    compute: Compute,
) -> Result<BranchForward, ModelError> {
    let layers = config.dims.2;
    if spec.from_layer >= layers {
        return Err(ModelError::BadField {
            path: config.path.clone(),
            field: format!("newsmill.heads.{}.encoder.from_layer", hs.name),
            reason: format!(
                "{} is not an upper layer of this {layers}-layer encoder (1 to {})",
                spec.from_layer,
                layers - 1
            ),
        });
    }
    let device = compute.device.tch();
    let mut vars = std::collections::HashMap::new();
    for (name, var) in vs.variables() {
        let Some(rest) = name.strip_prefix("bert.encoder.layer.") else {
            continue;
        };
        let Some((n, rest)) = rest.split_once('.') else {
            continue;
        };
        if n.parse::<usize>().map_or(true, |n| n < spec.from_layer) {
            continue;
        }
        let own = format!("{}.layer.{n}.{rest}", spec.prefix);
        let mut t = tensor_f32(st, weights, &own, Some(&var.size()))?.to_device(device);
        if compute.precision.kind() != Kind::Float {
            t = t.to_kind(compute.precision.kind());
        }
        vars.insert(own, t);
    }
    BranchForward::new(
        &vars,
        &spec.prefix,
        spec.from_layer,
        layers - spec.from_layer,
        config.attention_heads as i64,
        (config.dims.0, config.dims.1),
        compute.precision == Precision::Int8,
    )
    .map_err(|source| ModelError::Build {
        path: config.path.clone(),
        source: Box::new(BuildError::Branch {
            head: hs.name.clone(),
            source: Box::new(source),
        }),
    })
}
