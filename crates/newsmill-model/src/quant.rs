//! Linear layers of our BERT forward pass: fp32, or int8 weights run by libtorch's fbgemm
//! kernels with activations scaled per row ([`QuantLinear`]: a row's result never depends on
//! its batch; ranges that keep the kernel's int16 pairs below saturation, [`range_for`]).

use tch::{Kind, Tensor};

use crate::shallow::Shallow;

/// A Linear layer: fp32 weight and bias, or int8 ([`QuantLinear`]).
pub(crate) enum Linear {
    F32 { w: Tensor, b: Tensor },
    Int8(QuantLinear),
}

/// A Linear layer with int8 weights quantized per output row (symmetric, 8 bits) and
/// activations quantized per row (token). fbgemm's legacy kernel takes one weight scale and
/// quantizes its whole input with one range, so each input row is first scaled into [lo, 1]
/// (divided by its max |x|; lo = -1, or the input's own lower bound) and one extra row
/// `[lo, hi, 0, ...]` fixes the kernel's range at [lo, hi], with hi chosen so that 1 becomes
/// uint8 128 (see [`range_for`]); the kernel runs with weight scale 1, and the per-row weight
/// scales and per-row input scales are applied to its output together with the bias. A row's
/// result depends on that row alone, never on which rows share its batch.
pub(crate) struct QuantLinear {
    /// The kernel's `weight` argument, of which it reads only the shape (`[out, in]`): a view
    /// of one int8 zero expanded to that shape. The weights themselves are in `packed`.
    q: Tensor,
    packed: Tensor,
    col_offsets: Tensor,
    /// Per-output-row scales, `[out]`.
    scales: Tensor,
    /// Zeros, `[out]`: the kernel's own bias argument.
    zeros: Tensor,
    /// `[1, in]`: lo, hi, then zeros: the row that sets the kernel's activation range.
    range_row: Tensor,
    /// Whether the input has a lower bound (GELU outputs are above -0.17, see `range_row`):
    /// rows are then divided by their max floored at 1, which keeps them in [bound, 1] (one
    /// reduction instead of two, and a range that spends no levels below the bound).
    bounded_below: bool,
    b: Tensor,
}

/// GELU's minimum is -0.16997 (at -0.75): a bound on the feed-forward output layer's inputs.
pub(crate) const GELU_LOWER_BOUND: f64 = -0.17;

/// The kernel's activation range `[lo, hi]` for rows scaled into `[lo, 1]`. The kernel maps it
/// onto uint8 0..=255 and multiplies uint8 × int8 pairs with int16 accumulation (vpmaddubsw),
/// which saturates above 32,767: with 8-bit weights (|q| ≤ 127) a pair stays below that only if
/// both uint8 values are at most 129. `hi` puts 1 at uint8 128, so the rows use 129 levels
/// (0..=128) and never saturate; the range row itself may (its output row is dropped).
fn range_for(lo: f64) -> (f64, f64) {
    (lo, lo + 255.0 * (1.0 - lo) / 128.0)
}

impl Linear {
    pub(crate) fn f32(w: &Tensor, b: &Tensor) -> Linear {
        Linear::F32 {
            w: w.shallow_clone(),
            b: b.shallow_clone(),
        }
    }

    /// Symmetric per-row quantization of `w` (`[out, in]`) to 8 bits, for inputs scaled per
    /// row as [`QuantLinear`] says (no int16 saturation: [`range_for`]). `lower_bound`: a
    /// bound every input value respects (GELU outputs), or `None`.
    /// History (DEVELOPERS.md, int8): 7-bit weights with one activation range per batch cost
    /// the joint model's stance ~2.2 F1m and made results depend on the batch.
    pub(crate) fn int8(
        w: &Tensor,
        b: &Tensor,
        lower_bound: Option<f64>,
    ) -> Result<Linear, tch::TchError> {
        let w = w.f_contiguous()?;
        let qmax = 127.0;
        let scales = w
            .f_abs()?
            .f_amax(&[1i64][..], false)?
            .f_clamp_min(1e-12)?
            .f_div_scalar(qmax)?;
        let q = w
            .f_div(&scales.f_unsqueeze(1)?)?
            .f_round()?
            .f_clamp(-qmax, qmax)?
            .f_to_kind(Kind::Int8)?;
        let col_offsets =
            q.f_to_kind(Kind::Int)?
                .f_sum_dim_intlist(&[1i64][..], false, Kind::Int)?;
        let packed = q.f_fbgemm_pack_quantized_matrix()?;
        let inputs = w.size()[1];
        let shape_only =
            Tensor::f_zeros([1, 1], (Kind::Int8, q.device()))?.f_expand(q.size(), false)?;
        let (lo, hi) = range_for(lower_bound.unwrap_or(-1.0));
        let mut range = vec![0f32; inputs as usize];
        if let [a, b, ..] = range.as_mut_slice() {
            (*a, *b) = (lo as f32, hi as f32);
        }
        Ok(Linear::Int8(QuantLinear {
            zeros: scales.f_zeros_like()?,
            q: shape_only,
            packed,
            col_offsets,
            scales,
            range_row: Tensor::from_slice(&range).f_view([1, inputs])?,
            bounded_below: lower_bound.is_some(),
            b: b.f_contiguous()?,
        }))
    }

    pub(crate) fn forward(&self, x: &Tensor) -> Tensor {
        match self {
            Linear::F32 { w, b } => x.linear(w, Some(b)),
            Linear::Int8(l) => {
                let size = x.size();
                let inputs = size[size.len() - 1];
                let rows = x.reshape([-1, inputs]);
                let n = rows.size()[0];
                // per-row max |x| (reductions only, no temporary of the input's size)
                let top = rows.amax(&[1i64][..], true);
                let m = if l.bounded_below {
                    top.clamp_min(1.0)
                } else {
                    top.maximum(&rows.amin(&[1i64][..], true).neg())
                        .clamp_min(1e-12)
                };
                // rows / m, then the range row, written into one buffer for the kernel
                let scaled = Tensor::empty([n + 1, inputs], (Kind::Float, x.device()));
                let _ = rows.div_out(&scaled.narrow(0, 0, n), &m);
                scaled.narrow(0, n, 1).copy_(&l.range_row);
                let mut raw = scaled
                    .f_fbgemm_linear_int8_weight_fp32_activation(
                        &l.q,
                        &l.packed,
                        &l.col_offsets,
                        tch::Scalar::float(1.0),
                        tch::Scalar::int(0),
                        &l.zeros,
                    )
                    .expect("fbgemm int8 linear on a validated model (callers catch panics)")
                    .narrow(0, 0, n);
                // bias + raw * input scales * row scales, in place (no new buffer)
                raw *= &m;
                let out = l.b.addcmul_out(&raw, &raw, &l.scales);
                let mut shape = size;
                let last = shape.len() - 1;
                shape[last] = out.size()[1];
                out.view(shape.as_slice())
            }
        }
    }

    /// One layer computing the outputs of `parts` side by side (their rows stacked).
    pub(crate) fn fused(
        parts: &[(&Tensor, &Tensor)],
        quantize: bool,
        lower_bound: Option<f64>,
    ) -> Result<Linear, tch::TchError> {
        let ws: Vec<&Tensor> = parts.iter().map(|p| p.0).collect();
        let bs: Vec<&Tensor> = parts.iter().map(|p| p.1).collect();
        let (w, b) = (Tensor::f_cat(&ws, 0)?, Tensor::f_cat(&bs, 0)?);
        if quantize {
            Linear::int8(&w, &b, lower_bound)
        } else {
            Ok(Linear::f32(&w, &b))
        }
    }
}

impl Shallow for Linear {
    fn shallow(&self) -> Self {
        match self {
            Linear::F32 { w, b } => Linear::F32 {
                w: w.shallow(),
                b: b.shallow(),
            },
            Linear::Int8(q) => Linear::Int8(QuantLinear {
                q: q.q.shallow(),
                packed: q.packed.shallow(),
                col_offsets: q.col_offsets.shallow(),
                scales: q.scales.shallow(),
                zeros: q.zeros.shallow(),
                range_row: q.range_row.shallow(),
                bounded_below: q.bounded_below,
                b: q.b.shallow(),
            }),
        }
    }
}

/// libtorch 2.4 warns once per process, on standard error, that the two fbgemm functions int8
/// runs on are deprecated (they are the ones that take the per-row scales above). Runs both
/// once on a 2×2 matrix with libtorch's log level raised to errors
/// ([`crate::set_libtorch_log_level`]), then puts the level back, so that a default (int8) run
/// prints no message that is not newsmill's and later warnings of libtorch still show. Call it
/// before any worker runs (the CLI does, on resolving the precision).
pub fn quiet_int8_notices() {
    static DONE: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    DONE.get_or_init(|| {
        let Some(before) = crate::set_libtorch_log_level(2) else {
            return;
        };
        let cpu = (Kind::Float, tch::Device::Cpu);
        let w = Tensor::from_slice(&[1f32, 0.0, 0.0, 1.0]).view([2, 2]);
        if let Ok(l) = Linear::int8(&w, &Tensor::zeros([2], cpu), None) {
            let _ = l.forward(&Tensor::ones([1, 2], cpu));
        }
        crate::set_libtorch_log_level(before);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn max_diff(a: &Tensor, b: &Tensor) -> f64 {
        (a - b).abs().max().double_value(&[])
    }

    #[test]
    fn int8_linear_is_close_to_fp32() {
        tch::manual_seed(5);
        let w = Tensor::randn([48, 32], (Kind::Float, tch::Device::Cpu)) * 0.1;
        let b = Tensor::randn([48], (Kind::Float, tch::Device::Cpu));
        let x = Tensor::randn([3, 7, 32], (Kind::Float, tch::Device::Cpu));
        let want = Linear::f32(&w, &b).forward(&x);
        let got = Linear::int8(&w, &b, None).unwrap().forward(&x);
        assert_eq!(got.size(), vec![3, 7, 48]);
        let rel = max_diff(&want, &got) / want.abs().max().double_value(&[]);
        assert!(rel < 0.02, "relative error {rel}");
    }

    #[test]
    fn int8_rows_do_not_depend_on_their_batch() {
        tch::manual_seed(7);
        let opts = (Kind::Float, tch::Device::Cpu);
        let w = Tensor::randn([48, 32], opts) * 0.1;
        let b = Tensor::randn([48], opts);
        let x = Tensor::randn([2, 5, 32], opts);
        // companions whose values are 50 times wider, as an outlier sentence would be
        let wide = Tensor::cat(&[&x, &(Tensor::randn([3, 5, 32], opts) * 50.0)], 0);
        for (l, x, wide) in [
            (
                Linear::int8(&w, &b, None).unwrap(),
                x.shallow_clone(),
                wide.shallow_clone(),
            ),
            // inputs bounded below, as GELU outputs are
            (
                Linear::int8(&w, &b, Some(GELU_LOWER_BOUND)).unwrap(),
                x.gelu("none"),
                wide.gelu("none"),
            ),
        ] {
            let alone = l.forward(&x);
            let together = l.forward(&wide).narrow(0, 0, 2);
            assert_eq!(max_diff(&alone, &together), 0.0);
            let want = Linear::f32(&w, &b).forward(&x);
            let rel = max_diff(&want, &alone) / want.abs().max().double_value(&[]);
            assert!(rel < 0.02, "relative error {rel}");
        }
    }

    #[test]
    fn int8_ranges_keep_rows_below_saturation() {
        // the kernel's uint8 mapping of a range (fbgemm's ChooseQuantizationParams): scale
        // (hi - lo) / 255, zero point round(-lo / scale). Scaled rows lie in [lo, 1]; with 8-bit
        // weights a pair of products stays within int16 only if both uint8 values are <= 129
        // (this machine's AVX-512 VNNI kernels accumulate in int32 and cannot show it; AVX2 ones
        // saturate)
        for lo in [-1.0, GELU_LOWER_BOUND] {
            let (lo, hi) = range_for(lo);
            let scale = (hi - lo) / 255.0;
            let zero = (-lo / scale).round();
            let u8_of = |x: f64| (x / scale).round() + zero;
            assert!(
                u8_of(lo) >= 0.0 && u8_of(1.0) <= 129.0,
                "{lo} {hi}: {}",
                u8_of(1.0)
            );
            assert!(2.0 * u8_of(1.0) * 127.0 <= 32767.0);
            // and the rows get the levels: at least 128 between lo and 1
            assert!(u8_of(1.0) - u8_of(lo) >= 128.0);
        }
        // rows at their max with large weights: still close to fp32
        let opts = (Kind::Float, tch::Device::Cpu);
        let w = Tensor::rand([16, 64], opts) * 0.2 + 0.8;
        let b = Tensor::zeros([16], opts);
        let x = Tensor::ones([3, 64], opts) * Tensor::from_slice(&[0.5f32, 3.0, 40.0]).view([3, 1]);
        for l in [
            Linear::int8(&w, &b, None).unwrap(),
            Linear::int8(&w, &b, Some(GELU_LOWER_BOUND)).unwrap(),
        ] {
            let want = Linear::f32(&w, &b).forward(&x);
            let got = l.forward(&x);
            let rel = max_diff(&want, &got) / want.abs().max().double_value(&[]);
            assert!(rel < 0.01, "relative error {rel}");
        }
    }
}
