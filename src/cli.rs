//! The command line's flags (clap). Nothing here decides anything: `settings.rs` resolves
//! the flags into one `Settings`, once.

use std::path::PathBuf;

use clap::Args;
use newsmill_model::{DeviceChoice, PrecisionChoice};
use newsmill_ner::{Decoding, NerContext};
use newsmill_pipeline::defaults;
use newsmill_pipeline::SentenceHead;

#[derive(Args, Clone, Default)]
pub struct ModelArgs {
    /// Model folder: a joint checkpoint (DIR/joint/ or DIR itself), or one folder per task
    /// (DIR/ner/, DIR/sentiment/, DIR/stance/) [env: NEWSMILL_MODELS]
    #[arg(long, global = true)]
    pub models: Option<PathBuf>,
    /// NER model folder (overrides --models)
    #[arg(long, global = true)]
    pub ner_model: Option<PathBuf>,
    /// Sentence sentiment model folder (overrides --models)
    #[arg(long, global = true)]
    pub sentiment_model: Option<PathBuf>,
    /// Entity stance model folder (overrides --models)
    #[arg(long, global = true)]
    pub stance_model: Option<PathBuf>,
}

#[derive(Args, Clone)]
pub struct RunArgs {
    /// Worker threads, each with its own models [default: number of cores]
    #[arg(long, global = true, value_parser = positive)]
    pub workers: Option<usize>,
    /// libtorch intra-op threads per worker
    #[arg(long, default_value_t = defaults::INTRA_THREADS, global = true, value_parser = positive)]
    pub intra_threads: usize,
    /// Articles batched together as one job
    #[arg(long, default_value_t = defaults::JOB_ARTICLES, global = true, value_parser = positive)]
    pub job_articles: usize,
    /// NER input length in wordpieces, special tokens included (at most the model's positions):
    /// consecutive sentences are packed up to this length, longer sentences are windowed
    /// [default: 128]
    #[arg(long, global = true)]
    pub window: Option<usize>,
    /// Wordpieces shared by consecutive NER windows of a long sentence (at most half a
    /// window's content) [default: 32]
    #[arg(long, global = true)]
    pub window_overlap: Option<usize>,
    /// How NER tags are chosen per word
    #[arg(long, value_enum, default_value_t = Decoding::Constrained, global = true)]
    pub decoding: Decoding,
    /// NER context: `sentence` (each sentence alone), `packed` (consecutive sentences packed
    /// up to --window), `auto` (as the model's config.json says it was trained)
    #[arg(long, value_enum, default_value_t = NerContext::Auto, global = true)]
    pub ner_context: NerContext,
    /// Where the models run: cpu, cuda (the first GPU; needs the libtorch 2.11 build, see
    /// README "GPU"), or auto (cuda when libtorch sees a GPU, else cpu; int8 stays on the cpu)
    #[arg(long, value_enum, default_value_t = DeviceChoice::Auto, global = true)]
    pub device: DeviceChoice,
}

/// The precision and the batch budget of the models (`annotate`, `serve`, `eval`; `bench`
/// takes lists of them, its grid).
#[derive(Args, Clone)]
pub struct ComputeArgs {
    /// Arithmetic of the encoders: auto (int8 on a CPU with AVX2, bf16 on a GPU, fp32
    /// elsewhere and for models int8 does not cover; each record's `models` names the one
    /// used); fp32; int8 (CPU: fbgemm int8 weights, dynamically quantized activations; BERT
    /// models); fp16 or bf16 (GPU: encoder weights and activations, heads in fp32; BERT models)
    #[arg(long, value_enum, default_value_t = PrecisionChoice::Auto, global = true)]
    pub precision: PrecisionChoice,
    /// Padded tokens per model batch, at least 64 (chosen by measurement, DEVELOPERS.md
    /// "Engine" and "GPU"; int8 results move slightly with it, models/README.md)
    /// [default: 512 on the CPU, 16384 on a GPU]
    #[arg(long, global = true, value_parser = positive)]
    pub batch_tokens: Option<usize>,
}

/// What to annotate: the tasks and the user's stance targets (`annotate`, `bench`).
#[derive(Args, Clone)]
pub struct TaskArgs {
    /// Tasks to run, comma-separated: ner, sentiment, stance (stance implies ner)
    #[arg(long, default_value = "ner,sentiment,stance")]
    pub tasks: String,
    /// A phrase whose case-insensitive whole-word matches are scored for stance (repeatable)
    #[arg(long = "target")]
    pub targets: Vec<String>,
    /// A file of target phrases, one per line (blank lines and lines starting with # skipped)
    #[arg(long)]
    pub targets_file: Option<PathBuf>,
}

/// What is read from each JSONL record and what its output record holds (`annotate`,
/// `serve`).
#[derive(Args, Clone)]
pub struct RecordArgs {
    /// JSONL field holding the id
    #[arg(long, default_value = "id")]
    pub id_field: String,
    /// JSONL field holding the text
    #[arg(long, default_value = "text")]
    pub text_field: String,
    /// JSONL field holding the title (copied to the output)
    #[arg(long, default_value = "title")]
    pub title_field: String,
    /// Leave the article text out of the output
    #[arg(long)]
    pub no_text: bool,
    /// Which head of a joint checkpoint gives the sentence sentiment
    #[arg(long, value_enum, default_value_t = SentenceHead::Auto)]
    pub sentence_head: SentenceHead,
    /// Count boilerplate sentences (role `boilerplate`) in the article tone, the salient actors
    /// and the actors' stance, as other sentences
    #[arg(long)]
    pub keep_boilerplate: bool,
}

#[derive(Args)]
pub struct AnnotateArgs {
    /// Inputs, read in the order given as one corpus: JSONL files (plain, gzip or zstd,
    /// told by their first bytes), folders of .txt files, globs (a quoted pattern is expanded
    /// here, sorted), or - (JSONL on stdin, the only input)
    #[arg(required = true, num_args = 1..)]
    pub inputs: Vec<String>,
    /// Output JSONL file, written as OUT.newsmill-partial and renamed over OUT when the run
    /// finishes; `-` is stdout [default: stdout]
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub models: ModelArgs,
    #[command(flatten)]
    pub what: TaskArgs,
    #[command(flatten)]
    pub record: RecordArgs,
    /// No progress bar or summary on stderr
    #[arg(short, long)]
    pub quiet: bool,
    /// Continue an interrupted run: check that the partial output (or --output) belongs to
    /// this input, settings and models (OUT.newsmill.json), drop a partial last line, skip the
    /// records it already holds, append the rest
    #[arg(long, requires = "output")]
    pub resume: bool,
    /// Also write the HTML report of the output (as `newsmill report`) to this file; needs
    /// -o FILE
    #[arg(long, requires = "output")]
    pub report: Option<PathBuf>,
    /// With --report: show at most N articles in full (0: all)
    #[arg(long, requires = "report", default_value_t = newsmill_report::ReportOptions::default().max_articles)]
    pub max_articles: usize,
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub compute: ComputeArgs,
}

/// `serve`: the flags of `annotate` that do not name an input or an output.
#[derive(Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub models: ModelArgs,
    #[command(flatten)]
    pub what: TaskArgs,
    #[command(flatten)]
    pub record: RecordArgs,
    /// libtorch's own warnings (int8's deprecation notices) are not printed
    #[arg(short, long)]
    pub quiet: bool,
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub compute: ComputeArgs,
}

/// A count that must be at least 1 (0 is an error, not silently raised).
pub fn positive(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}
