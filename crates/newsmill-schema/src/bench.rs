//! The report of `newsmill bench`: a grid of configurations (model set × precision × batch
//! budget) timed on the same articles, with their accuracy on dev files when asked. Written as
//! JSON (`--json`, schema docs/bench.schema.json, generated from these types), CSV (`--csv`:
//! one line per row) and HTML (`--html`); documented in docs/bench.md.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ModelsOut;

/// The version of the bench report's layout; raised when a field changes meaning or goes.
pub const BENCH_SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct BenchReport {
    /// [`BENCH_SCHEMA_VERSION`] of the writer.
    pub bench_schema_version: u32,
    /// The newsmill version that measured.
    pub newsmill: String,
    /// The corpus as given.
    pub corpus: String,
    /// Articles in every timed run (the same articles for every row).
    pub articles: usize,
    /// Articles each row ran first, untimed (caches, allocators).
    pub warmup_articles: usize,
    /// Timed runs per row; the rows take turns (repetition 1 of every row, then repetition 2,
    /// ...), so machine noise hits all rows alike.
    pub repeat: usize,
    /// The tasks run, comma-separated.
    pub tasks: String,
    pub machine: Machine,
    /// One per configuration, in the order run: model sets, then precisions, then batch budgets.
    pub rows: Vec<BenchRow>,
}

/// What the numbers were measured on, once per report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Machine {
    /// CPU model name (`/proc/cpuinfo`), or "unknown".
    pub cpu: String,
    /// The CPU's vector and matrix features that libtorch's kernels use (of avx, avx2, fma,
    /// f16c, avx512f, avx512bw, avx512_vnni, avx_vnni, avx512_bf16, amx_tile, amx_int8,
    /// amx_bf16), as `/proc/cpuinfo` lists them.
    pub cpu_flags: Vec<String>,
    /// Logical cores this process may use.
    pub cores: usize,
    /// Worker threads (each with its own models) and libtorch intra-op threads per worker.
    pub workers: usize,
    pub intra_threads: usize,
    /// libtorch version newsmill was built against.
    pub libtorch: String,
    /// Device of every row ("cpu" or "cuda:N").
    pub device: String,
    /// The kernels behind each precision on this machine, e.g. "int8": "fbgemm (avx512)".
    pub precision_kernels: BTreeMap<String, String>,
    /// Measured fp32 matmul throughput of `workers` threads at once (the encoder's
    /// feed-forward shape), GFLOP/s: what `fraction_of_peak` is relative to.
    pub peak_matmul_gflop_per_second: f64,
}

/// One configuration: a model set at one precision and batch budget. The fields after
/// `seconds` are from the median repetition (the one whose articles/s is the median), except
/// the batch latencies (every batch of every repetition).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct BenchRow {
    /// The model set's name: `default`, a `--models` folder as given, or `BASE + ner=DIR` for a
    /// single-task checkpoint swapped into the first set.
    pub config: String,
    /// The model that answered each task (`folder@content-hash`, as output records name them).
    pub models: ModelsOut,
    /// fp32, int8, fp16 or bf16.
    pub precision: String,
    /// Padded tokens per model batch (`--batch-tokens`).
    pub batch_tokens: usize,
    /// Articles per second of the whole pipeline (reading to rendering) over the repetitions.
    pub articles_per_second: Spread,
    /// Wall seconds of a timed run over the repetitions.
    pub seconds: Spread,
    /// Wordpieces (not padding) read by the encoders per second.
    pub wordpieces_per_second: f64,
    /// Encoder FLOP per second (padding included, as run), GFLOP/s.
    pub encoder_gflop_per_second: f64,
    /// `encoder_gflop_per_second` / the machine's measured fp32 matmul peak: above 1 is
    /// possible for int8 rows (their FLOP are counted as the fp32 ones they replace).
    pub fraction_of_peak: f64,
    /// Real tokens / padded tokens over every model batch.
    pub padding_efficiency: f64,
    /// Where the time went, seconds summed over the workers.
    pub phase_seconds: PhaseSeconds,
    /// The model passes that ran, by phase: `joint` (a joint checkpoint's one pass), `ner`,
    /// `sentiment` (single-task models), `stance` (a single-task or the stance-only
    /// checkpoint); a phase that ran no batch is left out.
    pub passes: BTreeMap<String, Pass>,
    /// Model batches: count and latency percentiles, milliseconds.
    pub batch_latency_ms: Latency,
    /// Estimated peak resident memory of a process running only this configuration, MiB: the
    /// process before any model was loaded, plus what loading this row's models added, plus
    /// the growth during this row's timed runs.
    pub peak_rss_mib: f64,
    /// What loading this row's models added to the resident memory, MiB.
    pub model_rss_mib: f64,
    /// Entities found in the timed articles (a cheap check that rows did the same work).
    pub entities: usize,
    /// Error records among the timed articles.
    pub errors: usize,
    /// Scores on the dev files of `--eval`, in the order given.
    pub accuracy: Vec<Accuracy>,
}

/// Minimum, median and maximum over the repetitions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Spread {
    pub min: f64,
    pub median: f64,
    pub max: f64,
}

impl Spread {
    /// The spread of some values (all zero when there are none).
    pub fn of(values: &[f64]) -> Spread {
        let v = sorted_finite(values);
        if v.is_empty() {
            return Spread {
                min: 0.0,
                median: 0.0,
                max: 0.0,
            };
        }
        let median = if v.len() % 2 == 1 {
            v[v.len() / 2]
        } else {
            (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0
        };
        Spread {
            min: v[0],
            median,
            max: v[v.len() - 1],
        }
    }
}

/// The finite values, ascending.
fn sorted_finite(values: &[f64]) -> Vec<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    v
}

/// Seconds summed over the workers, per stage of the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct PhaseSeconds {
    /// Segmentation, page roles, wordpiece encoding, windows, stance inputs, batch planning.
    pub prepare: f64,
    /// The models' batches: encoder passes and their heads (for a joint-format checkpoint the
    /// batch's token decoding and span pooling too).
    pub encoder: f64,
    /// A single-task NER model's tag decoding.
    pub decode: f64,
    /// Actors, summary and output records (byte spans to characters, JSON).
    pub render: f64,
}

/// The batches one model phase ran (in the median run).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Pass {
    pub batches: usize,
    /// Sequences (rows of the batches): sentences, windows or (sentence, mention) pairs.
    pub sequences: usize,
    /// Wordpieces that are not padding.
    pub real_tokens: usize,
    /// Rows × columns of every batch: what the encoder computed.
    pub padded_tokens: usize,
    /// Encoder GFLOP as run (padding included).
    pub gflop: f64,
    /// Seconds in its batches, summed over the workers.
    pub seconds: f64,
}

/// Model batches of a row (every repetition): count and latency percentiles (nearest rank).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Latency {
    pub batches: usize,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
}

impl Latency {
    /// Percentiles (nearest rank) of batch latencies given in seconds, as milliseconds.
    pub fn of_seconds(seconds: &[f64]) -> Latency {
        let v = sorted_finite(seconds);
        let rank = |p: f64| -> f64 {
            if v.is_empty() {
                return 0.0;
            }
            let i = ((p / 100.0) * v.len() as f64).ceil() as usize;
            v[i.clamp(1, v.len()) - 1] * 1000.0
        };
        Latency {
            batches: v.len(),
            p50: rank(50.0),
            p95: rank(95.0),
            p99: rank(99.0),
        }
    }
}

/// One dev file's score for a row, as `newsmill eval` computes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Accuracy {
    /// ner, stance or sentiment.
    pub task: String,
    /// The dev file as given.
    pub file: String,
    /// The headline metric: `f1` (NER, entity-level micro F1), `f1m` (stance and three-class
    /// tone, macro F1) or `accuracy` (SST-2).
    pub metric: String,
    /// Its value, 0 to 1.
    pub value: f64,
    /// Everything `newsmill eval` reports for the file.
    pub details: serde_json::Value,
}

/// The JSON Schema of `newsmill bench --json`, as checked in at docs/bench.schema.json.
pub fn bench_json_schema() -> serde_json::Value {
    let mut schema =
        serde_json::to_value(schemars::schema_for!(BenchReport)).expect("a schema is JSON");
    if let Some(obj) = schema.as_object_mut() {
        obj.insert(
            "title".into(),
            format!("newsmill bench report (bench_schema_version {BENCH_SCHEMA_VERSION})").into(),
        );
    }
    schema
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/bench.schema.json is generated from these types; `NEWSMILL_WRITE_SCHEMA=1 cargo
    /// test -p newsmill-schema` rewrites it after a change.
    #[test]
    fn the_checked_in_bench_schema_is_current() {
        crate::tests::assert_schema_current("bench.schema.json", &bench_json_schema());
    }

    #[test]
    fn spread_and_percentiles() {
        let s = Spread::of(&[3.0, 1.0, 2.0, f64::NAN]);
        assert_eq!((s.min, s.median, s.max), (1.0, 2.0, 3.0));
        assert_eq!(Spread::of(&[1.0, 2.0]).median, 1.5);
        assert_eq!(Spread::of(&[]).max, 0.0);
        let secs: Vec<f64> = (1..=100).map(|i| i as f64 / 1000.0).collect();
        let l = Latency::of_seconds(&secs);
        assert_eq!(l.batches, 100);
        assert!((l.p50 - 50.0).abs() < 1e-9 && (l.p95 - 95.0).abs() < 1e-9);
        assert!((l.p99 - 99.0).abs() < 1e-9);
        assert_eq!(Latency::of_seconds(&[0.004]).p99, 4.0);
    }
}
