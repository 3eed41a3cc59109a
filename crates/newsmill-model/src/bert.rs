//! Our BERT forward pass over the weights rust-bert's model was loaded with, the one BERT
//! checkpoints run through: query, key and value projections fused into one Linear layer, and,
//! with `--precision int8`, every encoder Linear layer run by libtorch's fbgemm kernels
//! (`fbgemm_linear_int8_weight_fp32_activation`: int8 weights quantized once per output row,
//! activations quantized per call) — the arithmetic of PyTorch's dynamic quantization of
//! Linear layers; embeddings, LayerNorm, softmax, attention products and the classifier head
//! stay fp32. Sequence heads read the first position only, so their last layer is computed
//! for that position alone (keys and values still from every position). Checked against
//! rust-bert's logits in the tests below. Measured (NER alone, 500 BBC articles, fp32): 15.4
//! articles/s against 14.2 through rust-bert's model.

use std::collections::HashMap;

use tch::{Kind, Tensor};

use crate::config::Head;
use crate::error::BuildError;
use crate::quant::{Linear, GELU_LOWER_BOUND};
use crate::shallow::Shallow;

struct Layer {
    /// Query, key and value projections in one layer (`[3h, h]`).
    qkv: Linear,
    attn_out: Linear,
    attn_ln: (Tensor, Tensor),
    inter: Linear,
    out: Linear,
    out_ln: (Tensor, Tensor),
}

/// The last layer of a sequence classifier split for the one position its head reads: key and
/// value projections for all positions (`[2h, h]`, int8 when the model is), and the query,
/// attention output and feed-forward layers for the first position, kept fp32 (one row per
/// sequence: cheap, and no quantization noise right before the head).
struct ClsOnly {
    kv: Linear,
    q: Linear,
    attn_out: Linear,
    inter: Linear,
    out: Linear,
}

/// What the encoder computed for a batch.
pub struct EncoderOut {
    /// The states after the last layer run for every position, `[rows, cols, h]`.
    pub hidden: Tensor,
    /// The additive attention mask, `[rows, 1, 1, cols]`: 0 where attended, -10000 on padding.
    pub mask_bias: Tensor,
    /// How many layers ran for every position (a sequence classifier's last layer runs for the
    /// first position alone, after them).
    pub layers: usize,
    /// The states after the layer asked to be kept ([`BertForward::hidden_and_at`]).
    pub kept: Option<Tensor>,
}

/// A BERT classifier: fused QKV projections, fp32 or int8 encoder Linear layers.
pub struct BertForward {
    word: Tensor,
    pos: Tensor,
    types: Tensor,
    emb_ln: (Tensor, Tensor),
    layers: Vec<Layer>,
    heads: i64,
    pooler: Option<Linear>,
    /// Sequence heads: the last layer computed for the first position only.
    cls_only: Option<ClsOnly>,
    /// `None` for an encoder whose heads live elsewhere (joint checkpoints).
    classifier: Option<Linear>,
}

impl Shallow for Layer {
    fn shallow(&self) -> Self {
        Layer {
            qkv: self.qkv.shallow(),
            attn_out: self.attn_out.shallow(),
            attn_ln: self.attn_ln.shallow(),
            inter: self.inter.shallow(),
            out: self.out.shallow(),
            out_ln: self.out_ln.shallow(),
        }
    }
}

impl Shallow for ClsOnly {
    fn shallow(&self) -> Self {
        ClsOnly {
            kv: self.kv.shallow(),
            q: self.q.shallow(),
            attn_out: self.attn_out.shallow(),
            inter: self.inter.shallow(),
            out: self.out.shallow(),
        }
    }
}

impl Layer {
    /// The encoder layer whose variables are named `{p}.attention.self.query.weight` and so on
    /// (Hugging Face names); `quantize`: int8 Linear layers.
    fn new(vars: &HashMap<String, Tensor>, p: &str, quantize: bool) -> Result<Layer, BuildError> {
        let q8 = |ps: &[&str]| fused_linear(vars, ps, quantize, None);
        Ok(Layer {
            qkv: q8(&[
                &format!("{p}.attention.self.query"),
                &format!("{p}.attention.self.key"),
                &format!("{p}.attention.self.value"),
            ])?,
            attn_out: q8(&[&format!("{p}.attention.output.dense")])?,
            attn_ln: layer_norm_of(vars, &format!("{p}.attention.output.LayerNorm"))?,
            inter: q8(&[&format!("{p}.intermediate.dense")])?,
            out: fused_linear(
                vars,
                &[&format!("{p}.output.dense")],
                quantize,
                Some(GELU_LOWER_BOUND),
            )?,
            out_ln: layer_norm_of(vars, &format!("{p}.output.LayerNorm"))?,
        })
    }

    /// The layer over every position of `x` (`[rows, cols, h]`; `heads` attention heads).
    fn forward(&self, x: Tensor, bias: &Tensor, heads: i64) -> Tensor {
        let (rows, cols, h) = (x.size()[0], x.size()[1], x.size()[2]);
        let split = |t: Tensor| split_heads(t, rows, cols, heads);
        let qkv = self.qkv.forward(&x);
        let q = split(qkv.narrow(-1, 0, h));
        let k = split(qkv.narrow(-1, h, h));
        let v = split(qkv.narrow(-1, 2 * h, h));
        // libtorch's fused attention (its CPU flash-attention kernel): the scores matrix is
        // never materialized; scale 1/sqrt(d) as in BERT
        let ctx = Tensor::scaled_dot_product_attention(&q, &k, &v, Some(bias), 0.0, false, None)
            .transpose(1, 2)
            .contiguous()
            .view([rows, cols, h]);
        let mut a = self.attn_out.forward(&ctx);
        a += &x;
        let a = layer_norm(&a, &self.attn_ln);
        let mut f = self.out.forward(&self.inter.forward(&a).gelu_("none"));
        f += &a;
        layer_norm(&f, &self.out_ln)
    }
}

/// The Linear layer computing the outputs of the variables `{p}.weight`/`{p}.bias` of every `p`
/// in `ps` side by side; `quantize`: int8 (`lower_bound`: see [`Linear::int8`]).
fn fused_linear(
    vars: &HashMap<String, Tensor>,
    ps: &[&str],
    quantize: bool,
    lower_bound: Option<f64>,
) -> Result<Linear, BuildError> {
    let mut parts = Vec::with_capacity(ps.len());
    for p in ps {
        parts.push((
            get(vars, &format!("{p}.weight"))?,
            get(vars, &format!("{p}.bias"))?,
        ));
    }
    Linear::fused(&parts, quantize, lower_bound).map_err(|source| BuildError::Linear {
        layer: ps.join("+"),
        source,
    })
}

/// The LayerNorm parameters `{p}.weight` and `{p}.bias`.
fn layer_norm_of(vars: &HashMap<String, Tensor>, p: &str) -> Result<(Tensor, Tensor), BuildError> {
    Ok((
        get(vars, &format!("{p}.weight"))?.shallow_clone(),
        get(vars, &format!("{p}.bias"))?.shallow_clone(),
    ))
}

/// BERT's LayerNorm (epsilon 1e-12) over the last dimension.
fn layer_norm(t: &Tensor, p: &(Tensor, Tensor)) -> Tensor {
    let h = t.size()[t.dim() - 1];
    t.layer_norm([h], Some(&p.0), Some(&p.1), 1e-12, true)
}

/// `[rows, cols, h]` → `[rows, heads, cols, h / heads]` (a view).
fn split_heads(t: Tensor, rows: i64, cols: i64, heads: i64) -> Tensor {
    let d = t.size()[2] / heads;
    t.view([rows, cols, heads, d]).transpose(1, 2)
}

/// A head's own copy of the upper encoder layers (a stance branch), run over the shared
/// encoder's states after its first `from` layers.
pub struct BranchForward {
    from: usize,
    layers: Vec<Layer>,
    heads: i64,
    /// Hidden and feed-forward sizes (for [`BranchForward::flops`]).
    dims: (usize, usize),
}

/// FLOPs of one encoder layer of hidden size `h` and feed-forward size `f` over `rows` rows of
/// `cols` positions: the Linear layers and the two attention products.
pub(crate) fn layer_flops(h: usize, f: usize, rows: usize, cols: usize) -> f64 {
    let (h, f, n) = (h as f64, f as f64, cols as f64);
    (2.0 * (4.0 * h * h + 2.0 * h * f) + 4.0 * n * h) * n * rows as f64
}

impl BranchForward {
    /// Layers `from`..`from + count` named `{prefix}.layer.N.*` in `vars`, with `heads`
    /// attention heads, hidden and feed-forward sizes `dims`.
    pub fn new(
        vars: &HashMap<String, Tensor>,
        prefix: &str,
        from: usize,
        count: usize,
        heads: i64,
        dims: (usize, usize),
        quantize: bool,
    ) -> Result<Self, BuildError> {
        let layers = (from..from + count)
            .map(|i| Layer::new(vars, &format!("{prefix}.layer.{i}"), quantize))
            .collect::<Result<_, _>>()?;
        Ok(BranchForward {
            from,
            layers,
            heads,
            dims,
        })
    }

    /// FLOPs of one [`BranchForward::forward`] over `rows` rows of `cols` positions.
    pub fn flops(&self, rows: usize, cols: usize) -> f64 {
        self.layers.len() as f64 * layer_flops(self.dims.0, self.dims.1, rows, cols)
    }

    /// The shared encoder layer whose output the branch reads.
    pub fn start(&self) -> usize {
        self.from
    }

    pub fn share(&self) -> BranchForward {
        BranchForward {
            from: self.from,
            layers: self.layers.iter().map(Shallow::shallow).collect(),
            heads: self.heads,
            dims: self.dims,
        }
    }

    /// The branch's last hidden states `[rows, cols, h]` from the shared encoder's states
    /// `x` after layer `from` and the additive attention mask `bias` of the same rows (see
    /// [`BertForward::hidden_and_at`]).
    pub fn forward(&self, x: &Tensor, bias: &Tensor) -> Tensor {
        let mut x = x.shallow_clone();
        for l in &self.layers {
            x = l.forward(x, bias, self.heads);
        }
        x
    }
}

fn get<'a>(vars: &'a HashMap<String, Tensor>, name: &str) -> Result<&'a Tensor, BuildError> {
    vars.get(name).ok_or_else(|| BuildError::MissingVariable {
        name: name.to_string(),
    })
}

impl BertForward {
    /// Another handle on the same weights, for another worker thread (see `Shallow`).
    pub fn share(&self) -> BertForward {
        BertForward {
            word: self.word.shallow(),
            pos: self.pos.shallow(),
            types: self.types.shallow(),
            emb_ln: self.emb_ln.shallow(),
            layers: self.layers.iter().map(Shallow::shallow).collect(),
            heads: self.heads,
            pooler: self.pooler.shallow(),
            cls_only: self.cls_only.shallow(),
            classifier: self.classifier.shallow(),
        }
    }

    /// Builds from the variables of a loaded rust-bert BERT classifier (Hugging Face names);
    /// `quantize`: int8 encoder Linear layers. `head` `None`: the encoder alone (all layers for
    /// every position, the pooler when the variables have one), read by [`BertForward::hidden`].
    pub fn new(
        vars: &HashMap<String, Tensor>,
        heads: i64,
        layers: usize,
        head: Option<Head>,
        quantize: bool,
    ) -> Result<Self, BuildError> {
        let v = |n: &str| get(vars, n).map(|t| t.shallow_clone());
        let mut ls = Vec::with_capacity(layers);
        for i in 0..layers {
            ls.push(Layer::new(
                vars,
                &format!("bert.encoder.layer.{i}"),
                quantize,
            )?);
        }
        let cls_only = match head {
            Some(Head::Sequence) if layers > 0 => {
                let p = format!("bert.encoder.layer.{}", layers - 1);
                let f32 = |n: &str| -> Result<Linear, BuildError> {
                    Ok(Linear::f32(
                        get(vars, &format!("{p}.{n}.weight"))?,
                        get(vars, &format!("{p}.{n}.bias"))?,
                    ))
                };
                Some(ClsOnly {
                    kv: fused_linear(
                        vars,
                        &[
                            &format!("{p}.attention.self.key"),
                            &format!("{p}.attention.self.value"),
                        ],
                        quantize,
                        None,
                    )?,
                    q: f32("attention.self.query")?,
                    attn_out: f32("attention.output.dense")?,
                    inter: f32("intermediate.dense")?,
                    out: f32("output.dense")?,
                })
            }
            _ => None,
        };
        let pooler = match head {
            Some(Head::Sequence) => Some(Linear::f32(
                get(vars, "bert.pooler.dense.weight")?,
                get(vars, "bert.pooler.dense.bias")?,
            )),
            Some(Head::Token) => None,
            None => match (
                vars.get("bert.pooler.dense.weight"),
                vars.get("bert.pooler.dense.bias"),
            ) {
                (Some(w), Some(b)) => Some(Linear::f32(w, b)),
                _ => None,
            },
        };
        let classifier = match head {
            Some(_) => Some(Linear::f32(
                get(vars, "classifier.weight")?,
                get(vars, "classifier.bias")?,
            )),
            None => None,
        };
        Ok(BertForward {
            word: v("bert.embeddings.word_embeddings.weight")?,
            pos: v("bert.embeddings.position_embeddings.weight")?,
            types: v("bert.embeddings.token_type_embeddings.weight")?,
            emb_ln: layer_norm_of(vars, "bert.embeddings.LayerNorm")?,
            layers: ls,
            heads,
            pooler,
            cls_only,
            classifier,
        })
    }

    /// Logits of a batch (`ids`, `mask`, `types`: `[rows, cols]` int64); the last hidden
    /// states `[rows, cols, h]` for an encoder without a classifier.
    pub fn forward(&self, ids: &Tensor, mask: &Tensor, types: Option<&Tensor>) -> Tensor {
        let EncoderOut {
            hidden: x,
            mask_bias: bias,
            layers: full,
            ..
        } = self.encode(ids, mask, types, None);
        let Some(classifier) = &self.classifier else {
            return x;
        };
        let Some(pooler) = &self.pooler else {
            return classifier.forward(&x);
        };
        let x0 = match &self.cls_only {
            Some(cls) => self.cls_layer(&self.layers[full], cls, &x, &bias),
            None => x.select(1, 0),
        };
        classifier.forward(&pooler.forward(&x0).tanh())
    }

    /// The last hidden states `[rows, cols, h]` of every position (an encoder built without a
    /// head).
    pub fn hidden(&self, ids: &Tensor, mask: &Tensor, types: Option<&Tensor>) -> Tensor {
        self.encode(ids, mask, types, None).hidden
    }

    /// The last hidden states, the states after the first `at` layers (`kept`) and the
    /// additive attention mask: what a [`BranchForward`] from layer `at` reads.
    pub fn hidden_and_at(
        &self,
        ids: &Tensor,
        mask: &Tensor,
        types: Option<&Tensor>,
        at: usize,
    ) -> EncoderOut {
        self.encode(ids, mask, types, Some(at))
    }

    /// The BERT pooler (dense + tanh) over first-position states `[rows, h]`; `None` when the
    /// checkpoint has no pooler.
    pub fn pool(&self, x0: &Tensor) -> Option<Tensor> {
        self.pooler.as_ref().map(|p| p.forward(x0).tanh())
    }

    /// Embeddings and the layers computed for every position (the states after layer `keep`
    /// kept as well).
    fn encode(
        &self,
        ids: &Tensor,
        mask: &Tensor,
        types: Option<&Tensor>,
        keep: Option<usize>,
    ) -> EncoderOut {
        let (rows, cols) = (ids.size()[0], ids.size()[1]);
        let positions = Tensor::arange(cols, (Kind::Int64, ids.device())).unsqueeze(0);
        let mut x = ids.embedding_for(&self.word) + positions.embedding_for(&self.pos);
        x = match types {
            Some(t) => x + t.embedding_for(&self.types),
            None => x + Tensor::zeros_like(ids).embedding_for(&self.types),
        };
        x = layer_norm(&x, &self.emb_ln);
        // additive mask: 0 where attended, -10000 on padding
        let mut bias = (mask.to_kind(Kind::Float).ones_like() - mask.to_kind(Kind::Float))
            .view([rows, 1, 1, cols])
            * -10000.0;
        // fp16/bf16 encoders: the attention kernels take the mask in the activations' kind
        if x.kind() != Kind::Float {
            bias = bias.to_kind(x.kind());
        }
        let mut kept = None;
        let full = match &self.cls_only {
            Some(_) => self.layers.len() - 1,
            None => self.layers.len(),
        };
        for (i, l) in self.layers[..full].iter().enumerate() {
            x = l.forward(x, &bias, self.heads);
            if keep == Some(i + 1) {
                kept = Some(x.shallow_clone());
            }
        }
        EncoderOut {
            hidden: x,
            mask_bias: bias,
            layers: full,
            kept,
        }
    }

    /// The last layer of a sequence classifier, whose head reads the first position only: that
    /// position alone attends and runs the feed-forward block (the other positions' outputs
    /// would be thrown away). `x`: `[rows, cols, h]`; returns `[rows, h]`.
    fn cls_layer(&self, l: &Layer, cls: &ClsOnly, x: &Tensor, bias: &Tensor) -> Tensor {
        let (rows, cols, h) = (x.size()[0], x.size()[1], x.size()[2]);
        let split = |t: Tensor| split_heads(t, rows, cols, self.heads);
        let kv = cls.kv.forward(x);
        let k = split(kv.narrow(-1, 0, h));
        let v = split(kv.narrow(-1, h, h));
        let x0 = x.select(1, 0).contiguous();
        let q = cls
            .q
            .forward(&x0)
            .view([rows, self.heads, 1, h / self.heads]);
        let ctx = Tensor::scaled_dot_product_attention(&q, &k, &v, Some(bias), 0.0, false, None)
            .reshape([rows, h]);
        let mut a = cls.attn_out.forward(&ctx);
        a += &x0;
        let a = layer_norm(&a, &l.attn_ln);
        let mut f = cls.out.forward(&cls.inter.forward(&a).gelu_("none"));
        f += &a;
        layer_norm(&f, &l.out_ln)
    }

    /// Reads `other`'s word-embedding table instead of its own when the two are equal (same
    /// shape, kind, device and values: checkpoints fine-tuned from one backbone with the table
    /// frozen), so that memory holds it once. Returns whether it does.
    pub fn reuse_word_embeddings(&mut self, other: &BertForward) -> bool {
        let same = self.word.size() == other.word.size()
            && self.word.kind() == other.word.kind()
            && self.word.device() == other.word.device()
            && self.word.equal(&other.word);
        if same {
            self.word = other.word.shallow_clone();
        }
        same
    }

    /// Whether the last layer runs for the first position only (sequence heads).
    pub fn first_position_only(&self) -> bool {
        self.cls_only.is_some()
    }
}

trait EmbeddingFor {
    fn embedding_for(&self, table: &Tensor) -> Tensor;
}

impl EmbeddingFor for Tensor {
    fn embedding_for(&self, table: &Tensor) -> Tensor {
        Tensor::embedding(table, self, -1, false, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_bert::bert::{BertConfig, BertForSequenceClassification, BertForTokenClassification};

    fn config() -> BertConfig {
        serde_json::from_value(serde_json::json!({
            "hidden_act": "gelu", "attention_probs_dropout_prob": 0.1, "hidden_dropout_prob": 0.1,
            "hidden_size": 32, "initializer_range": 0.2, "intermediate_size": 64,
            "max_position_embeddings": 40, "num_attention_heads": 4, "num_hidden_layers": 2,
            "type_vocab_size": 4, "vocab_size": 50, "id2label": {"0": "a", "1": "b", "2": "c"}
        }))
        .unwrap()
    }

    fn batch() -> (Tensor, Tensor, Tensor) {
        let ids = Tensor::from_slice(&[2i64, 7, 9, 11, 3, 2, 5, 3, 0, 0]).view([2, 5]);
        let mask = Tensor::from_slice(&[1i64, 1, 1, 1, 1, 1, 1, 1, 0, 0]).view([2, 5]);
        let types = Tensor::from_slice(&[0i64, 1, 2, 3, 0, 0, 1, 0, 0, 0]).view([2, 5]);
        (ids, mask, types)
    }

    fn max_diff(a: &Tensor, b: &Tensor) -> f64 {
        (a - b).abs().max().double_value(&[])
    }

    #[test]
    fn own_forward_matches_rust_bert_and_int8_is_close() {
        tch::manual_seed(3);
        let (ids, mask, types) = batch();
        // token head
        let vs = tch::nn::VarStore::new(tch::Device::Cpu);
        let m = BertForTokenClassification::new(vs.root(), &config()).unwrap();
        let want = tch::no_grad(|| {
            m.forward_t(Some(&ids), Some(&mask), Some(&types), None, None, false)
                .logits
        });
        let own = BertForward::new(&vs.variables(), 4, 2, Some(Head::Token), false).unwrap();
        let got = tch::no_grad(|| own.forward(&ids, &mask, Some(&types)));
        // compare real positions only
        let real = mask.unsqueeze(-1).to_kind(Kind::Float);
        assert!(max_diff(&(&want * &real), &(&got * &real)) < 1e-4);
        let q = BertForward::new(&vs.variables(), 4, 2, Some(Head::Token), true).unwrap();
        let got8 = tch::no_grad(|| q.forward(&ids, &mask, Some(&types)));
        let d = max_diff(
            &(want.softmax(-1, Kind::Float) * &real),
            &(got8.softmax(-1, Kind::Float) * &real),
        );
        assert!(d < 0.05, "int8 probabilities differ by {d}");
        // sequence head
        let vs = tch::nn::VarStore::new(tch::Device::Cpu);
        let m = BertForSequenceClassification::new(vs.root(), &config()).unwrap();
        let want = tch::no_grad(|| {
            m.forward_t(Some(&ids), Some(&mask), Some(&types), None, None, false)
                .logits
        });
        let own = BertForward::new(&vs.variables(), 4, 2, Some(Head::Sequence), false).unwrap();
        assert!(own.first_position_only());
        let got = tch::no_grad(|| own.forward(&ids, &mask, Some(&types)));
        assert!(max_diff(&want, &got) < 1e-4);
        let q = BertForward::new(&vs.variables(), 4, 2, Some(Head::Sequence), true).unwrap();
        let got8 = tch::no_grad(|| q.forward(&ids, &mask, Some(&types)));
        let d = max_diff(
            &want.softmax(-1, Kind::Float),
            &got8.softmax(-1, Kind::Float),
        );
        assert!(d < 0.05, "int8 probabilities differ by {d}");
    }
}
