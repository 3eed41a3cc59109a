//! `newsmill eval`: dev-set scores on the same inference path as `annotate`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use newsmill_ner::{chunks, NerModel, Tag};
use newsmill_stance::SequenceModel;
use newsmill_text::Span;
use serde::Serialize;

use newsmill_pipeline::{JointModels, JointText, JointUses, PlannedJoint, SentenceHead, Tasks};

use crate::cli::{ModelArgs, RunArgs};
use crate::settings::Settings;

#[derive(Args)]
pub struct EvalArgs {
    #[command(subcommand)]
    task: EvalTask,
    #[command(flatten)]
    models: ModelArgs,
    #[command(flatten)]
    run: RunArgs,
    /// Also write the scores as JSON to this file
    #[arg(long, global = true)]
    json: Option<PathBuf>,
}

#[derive(Subcommand)]
enum EvalTask {
    /// Entity-level exact-match P/R/F1 (conlleval semantics) on a CoNLL file (IOB1 or IOB2 tags
    /// in the last column)
    Ner { file: PathBuf },
    /// Accuracy and macro-F1 of target stance on a NewsMTSC JSONL file
    Stance { file: PathBuf },
    /// Sentence sentiment on a TSV file with a header line: three-class tone
    /// (`label<TAB>sentence`, negative/neutral/positive: accuracy, macro-F1, per-class F1,
    /// calibration error, per source when `<stem>.sources.tsv` is beside it; the joint
    /// checkpoint's `tone` head) or SST-2 (`sentence<TAB>label`, 0/1: accuracy; its
    /// `sentiment` head)
    Sentiment {
        file: PathBuf,
        /// Score only data rows whose index is a multiple of N (the training recipe's held-out
        /// slice of SST-2 train is N = 33)
        #[arg(long)]
        heldout_every: Option<usize>,
    },
}

/// Where a task's predictions come from: its own checkpoint, or the joint one.
enum Backend {
    Ner(Box<NerModel>),
    Sequence(Box<SequenceModel>),
    Joint(Box<JointModels>),
}

impl Backend {
    fn dir(&self) -> String {
        match self {
            Backend::Ner(m) => m.clf.as_ref().map(|c| c.dir.display().to_string()),
            Backend::Sequence(m) => Some(m.clf.dir.display().to_string()),
            Backend::Joint(j) => Some(j.model.dir.display().to_string()),
        }
        .unwrap_or_default()
    }
}

/// `eval` runs one model on the calling thread, so the CPU budget the flags describe
/// (`--workers` × `--intra-threads`) goes to libtorch's intra-op threads.
pub fn run(args: EvalArgs) -> Result<ExitCode> {
    let task = match &args.task {
        EvalTask::Ner { .. } => "ner",
        EvalTask::Stance { .. } => "stance",
        EvalTask::Sentiment { .. } => "sentiment",
    };
    // a sentiment file is read once: its header says which head answers
    let sentiment_file = match &args.task {
        EvalTask::Sentiment { file, .. } => {
            let raw = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let format = SentimentFile::of(&raw, file)?;
            Some((raw, format))
        }
        _ => None,
    };
    // the same plan as `annotate` for this one task: its own folder, else the joint checkpoint
    let tasks = Tasks {
        ner: task == "ner",
        sentiment: task == "sentiment",
        stance: task == "stance",
    };
    let head = match sentiment_file {
        Some((_, SentimentFile::Polarity)) => SentenceHead::Polarity,
        _ => SentenceHead::Auto,
    };
    let settings = Settings::eval(&args.run, &args.models, tasks, head)?;
    newsmill_model::set_torch_threads(settings.engine.workers * settings.engine.intra_threads);
    let budget = settings.annotate.token_budget;
    let ner_opts = settings.annotate.ner;
    let plan = settings.plan()?;
    // eval scores the targets its file gives, not entities
    let joint = |p: &PlannedJoint| -> Result<Backend> {
        let uses = JointUses {
            entity_stance: false,
            ..p.uses
        };
        Ok(Backend::Joint(Box::new(JointModels::load(
            &p.dir, ner_opts, uses,
        )?)))
    };
    let backend = if let Some(dir) = &plan.ner {
        Backend::Ner(Box::new(NerModel::load(dir, ner_opts)?))
    } else if let Some(dir) = plan.sentiment.as_ref().or(plan.stance.as_ref()) {
        Backend::Sequence(Box::new(SequenceModel::load(dir, settings.compute)?))
    } else if let Some(p) = plan.joint_stance.as_ref().or(plan.joint.as_ref()) {
        joint(p)?
    } else {
        bail!("no model folder for task `{task}` (pass --models DIR or --{task}-model DIR)")
    };
    let mut report = match &args.task {
        EvalTask::Ner { file } => eval_ner(&backend, file, budget)?,
        EvalTask::Stance { file } => eval_stance(&backend, file, budget)?,
        EvalTask::Sentiment {
            file,
            heldout_every,
        } => {
            let (raw, format) = sentiment_file.as_ref().expect("read above");
            eval_sentiment(&backend, file, raw, *format, *heldout_every, budget)?
        }
    };
    report["device"] = settings.compute.device.name().into();
    report["precision"] = settings.compute.precision.as_str().into();
    println!("{}", serde_json::to_string_pretty(&report)?);
    if let Some(p) = &args.json {
        std::fs::write(p, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("cannot write {}", p.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Serialize, PartialEq)]
pub struct Prf {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub gold: usize,
    pub predicted: usize,
    pub correct: usize,
}

impl Prf {
    pub fn new(correct: usize, predicted: usize, gold: usize) -> Prf {
        let precision = if predicted == 0 {
            0.0
        } else {
            correct as f64 / predicted as f64
        };
        let recall = if gold == 0 {
            0.0
        } else {
            correct as f64 / gold as f64
        };
        let f1 = if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        };
        Prf {
            precision,
            recall,
            f1,
            gold,
            predicted,
            correct,
        }
    }
}

type Chunk = (usize, usize, usize, String);

/// Entity-level exact match per type and micro-averaged, over `(sentence, start, end, type)`.
pub fn entity_scores(gold: &[Chunk], pred: &[Chunk]) -> (Prf, BTreeMap<String, Prf>) {
    use std::collections::HashSet;
    let g: HashSet<&Chunk> = gold.iter().collect();
    let p: HashSet<&Chunk> = pred.iter().collect();
    let types: std::collections::BTreeSet<&String> =
        gold.iter().chain(pred).map(|c| &c.3).collect();
    let mut per = BTreeMap::new();
    for t in types {
        let gt = g.iter().filter(|c| &c.3 == t).count();
        let pt = p.iter().filter(|c| &c.3 == t).count();
        let ct = p.iter().filter(|c| &c.3 == t && g.contains(*c)).count();
        per.insert(t.clone(), Prf::new(ct, pt, gt));
    }
    let correct = p.iter().filter(|c| g.contains(*c)).count();
    (Prf::new(correct, p.len(), g.len()), per)
}

/// Accuracy and macro-F1 over `n` classes.
pub fn class_scores(gold: &[usize], pred: &[usize], n: usize) -> (f64, f64) {
    let total = gold.len().max(1) as f64;
    let acc = gold.iter().zip(pred).filter(|(g, p)| g == p).count() as f64 / total;
    let f1s = class_f1(gold, pred, n);
    (acc, f1s.iter().sum::<f64>() / n.max(1) as f64)
}

/// F1 of each class `0..n`.
fn class_f1(gold: &[usize], pred: &[usize], n: usize) -> Vec<f64> {
    (0..n)
        .map(|c| {
            let (mut tp, mut fp, mut fn_) = (0usize, 0usize, 0usize);
            for (&g, &p) in gold.iter().zip(pred) {
                match (g == c, p == c) {
                    (true, true) => tp += 1,
                    (false, true) => fp += 1,
                    (true, false) => fn_ += 1,
                    _ => {}
                }
            }
            let denom = 2 * tp + fp + fn_;
            if denom == 0 {
                0.0
            } else {
                2.0 * tp as f64 / denom as f64
            }
        })
        .collect()
}

/// Expected calibration error: the predictions in 15 equal-width bins of their top
/// probability; the mean over bins of |accuracy − mean confidence|, weighted by the bin's share.
pub fn ece(confidence: &[f64], correct: &[bool]) -> f64 {
    const BINS: usize = 15;
    let mut sum = [(0usize, 0f64, 0usize); BINS];
    for (&c, &ok) in confidence.iter().zip(correct) {
        let b = ((c * BINS as f64).ceil() as usize).clamp(1, BINS) - 1;
        sum[b].0 += 1;
        sum[b].1 += c;
        sum[b].2 += usize::from(ok);
    }
    let n = confidence.len().max(1) as f64;
    sum.iter()
        .filter(|b| b.0 > 0)
        .map(|&(k, conf, ok)| (ok as f64 / k as f64 - conf / k as f64).abs() * k as f64 / n)
        .sum()
}

type Sentence = (Vec<String>, Vec<String>);

/// Documents (split at `-DOCSTART-`) of sentences (tokens, tags) of a CoNLL file.
pub fn read_conll(text: &str) -> Vec<Vec<Sentence>> {
    let mut docs = Vec::new();
    let mut doc = Vec::new();
    let (mut words, mut tags) = (Vec::new(), Vec::new());
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with("-DOCSTART-") {
            if !words.is_empty() {
                doc.push((std::mem::take(&mut words), std::mem::take(&mut tags)));
            }
            if line.starts_with("-DOCSTART-") && !doc.is_empty() {
                docs.push(std::mem::take(&mut doc));
            }
            continue;
        }
        let parts: Vec<&str> = line.split_whitespace().collect();
        words.push(parts[0].to_string());
        tags.push(parts[parts.len() - 1].to_string());
    }
    if !words.is_empty() {
        doc.push((words, tags));
    }
    if !doc.is_empty() {
        docs.push(doc);
    }
    docs
}

/// Scores NER on a CoNLL file. Each document is one text (sentences on lines, tokens separated
/// by spaces), prepared as `annotate` prepares an article; all documents run in one batch set.
fn eval_ner(backend: &Backend, file: &PathBuf, budget: usize) -> Result<serde_json::Value> {
    let raw =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let docs = read_conll(&raw);
    let started = std::time::Instant::now();
    let mut gold = Vec::new();
    let mut texts: Vec<(String, Vec<Vec<Span>>)> = Vec::with_capacity(docs.len());
    let mut first_sentence = 0usize;
    for doc in &docs {
        let mut text = String::new();
        let mut spans: Vec<Vec<Span>> = Vec::with_capacity(doc.len());
        for (si, (words, tags)) in doc.iter().enumerate() {
            let mut ws = Vec::with_capacity(words.len());
            for w in words {
                if !ws.is_empty() {
                    text.push(' ');
                }
                ws.push(Span::new(text.len(), text.len() + w.len()));
                text.push_str(w);
            }
            text.push('\n');
            spans.push(ws);
            let parsed: Vec<Tag> = tags
                .iter()
                .map(|t| {
                    Tag::parse(t).with_context(|| format!("{}: bad tag `{t}`", file.display()))
                })
                .collect::<Result<_>>()?;
            gold.extend(
                chunks(&parsed)
                    .into_iter()
                    .map(|(a, b, t)| (first_sentence + si, a, b, t)),
            );
        }
        texts.push((text, spans));
        first_sentence += doc.len();
    }
    let (found, stats) = match backend {
        Backend::Ner(model) => {
            let clf = model.clf.as_ref().context("NER model without classifier")?;
            let mut prepared = Vec::with_capacity(texts.len());
            let mut inputs = Vec::new();
            let mut counts = Vec::with_capacity(texts.len());
            for (text, spans) in &texts {
                let p = model.prepare_words(text, spans.clone(), &[])?;
                let mine = model.inputs(&p);
                counts.push(mine.len());
                inputs.extend(mine);
                prepared.push(p);
            }
            let (probs, stats) = clf.predict(&inputs, budget)?;
            let mut at = 0;
            let mut found = Vec::with_capacity(texts.len());
            for (p, n) in prepared.iter().zip(counts) {
                found.push(model.decode(p, &probs[at..at + n]));
                at += n;
            }
            (found, stats)
        }
        Backend::Joint(j) => {
            let lines: Vec<Vec<Span>> = texts
                .iter()
                .map(|(text, spans)| line_spans(text, spans.len()))
                .collect();
            let jt: Vec<JointText> = texts
                .iter()
                .zip(&lines)
                .map(|((text, spans), lines)| JointText {
                    text,
                    sentences: lines,
                    roles: &[],
                    entities: &[],
                    targets: Vec::new(),
                    words: Some(spans.clone()),
                })
                .collect();
            let (results, stats) = j.run_texts(&jt, budget)?;
            (results.into_iter().map(|r| r.entities).collect(), stats)
        }
        Backend::Sequence(_) => bail!("a sequence classifier cannot tag entities"),
    };
    let mut pred = Vec::new();
    let mut first = 0usize;
    for ((_, spans), entities) in texts.iter().zip(found) {
        for e in entities {
            let ws = &spans[e.sentence];
            let (Some(a), Some(b)) = (
                ws.iter().position(|s| s.start == e.start),
                ws.iter().position(|s| s.end == e.end),
            ) else {
                bail!("internal: entity does not align with words");
            };
            pred.push((first + e.sentence, a, b + 1, e.label));
        }
        first += spans.len();
    }
    let (micro, per) = entity_scores(&gold, &pred);
    Ok(serde_json::json!({
        "task": "ner", "file": file.display().to_string(), "model": backend.dir(),
        "documents": docs.len(), "sentences": first_sentence, "micro": micro, "per_type": per,
        "seconds": started.elapsed().as_secs_f64(), "batches": stats.batches,
        "padding_efficiency": stats.real_tokens as f64 / stats.padded_tokens.max(1) as f64,
    }))
}

/// Index of label `name` (any case) among `labels`.
fn label_index(labels: &[String], name: &str) -> Result<usize> {
    labels
        .iter()
        .position(|l| l.eq_ignore_ascii_case(name))
        .with_context(|| format!("model has no label `{name}` (labels: {labels:?})"))
}

/// Byte spans of the lines of a text built one sentence a line (as `eval_ner` builds them).
fn line_spans(text: &str, n: usize) -> Vec<Span> {
    let mut out = Vec::with_capacity(n);
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches('\n');
        out.push(Span::new(start, start + body.len()));
        start += line.len();
    }
    out.truncate(n);
    out
}

/// Probabilities of sequence classification for each of `items` (a sentence and, for stance,
/// the byte span of the target in it), and the labels they refer to.
fn classify(
    backend: &Backend,
    items: &[(&str, Option<Span>)],
    budget: usize,
) -> Result<(Vec<Vec<f32>>, Vec<String>)> {
    match backend {
        Backend::Sequence(model) => {
            let inputs = items
                .iter()
                .map(|(s, t)| match t {
                    Some(t) => model.target_input(s, *t),
                    None => model.sentence_input(s),
                })
                .collect::<Result<Vec<_>, _>>()?;
            let (probs, _) = model.clf.predict(&inputs, budget)?;
            Ok((probs, model.clf.labels().to_vec()))
        }
        Backend::Joint(j) => {
            let spans: Vec<Vec<Span>> = items
                .iter()
                .map(|(s, _)| vec![Span::new(0, s.len())])
                .collect();
            let texts: Vec<JointText> = items
                .iter()
                .zip(&spans)
                .map(|((s, t), sp)| JointText {
                    text: s,
                    sentences: sp,
                    roles: &[],
                    entities: &[],
                    targets: t.map(|t| (t, 0)).into_iter().collect(),
                    words: None,
                })
                .collect();
            let (results, _) = j.run_texts(&texts, budget)?;
            let stance = items.iter().any(|(_, t)| t.is_some());
            let labels = if stance {
                j.stance_labels().to_vec()
            } else {
                j.sentiment_labels().to_vec()
            };
            let probs = results
                .into_iter()
                .map(|r| {
                    let scored = if stance {
                        r.target_stances.into_iter().next().flatten()
                    } else {
                        r.sentiments.into_iter().next().flatten()
                    };
                    // a sentence without wordpieces: no prediction, scored as uniform
                    scored.map_or_else(
                        || vec![1.0 / labels.len().max(1) as f32; labels.len()],
                        |s| {
                            labels
                                .iter()
                                .map(|l| s.probs.get(&l.to_lowercase()).copied().unwrap_or(0.0))
                                .collect()
                        },
                    )
                })
                .collect();
            Ok((probs, labels))
        }
        Backend::Ner(_) => bail!("a NER model cannot classify sentences"),
    }
}

fn eval_stance(backend: &Backend, file: &PathBuf, budget: usize) -> Result<serde_json::Value> {
    let raw =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let mut sentences: Vec<String> = Vec::new();
    let mut targets: Vec<(usize, Span)> = Vec::new();
    let mut gold = Vec::new();
    for (n, line) in raw
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let v: serde_json::Value = serde_json::from_str(line)
            .with_context(|| format!("{} line {}", file.display(), n + 1))?;
        let s = v["sentence_normalized"]
            .as_str()
            .context("no sentence_normalized")?;
        sentences.push(s.to_string());
        let chars: Vec<usize> = s.char_indices().map(|(b, _)| b).chain([s.len()]).collect();
        for t in v["targets"].as_array().context("no targets")? {
            let (from, to) = (
                t["from"].as_u64().unwrap_or(0) as usize,
                t["to"].as_u64().unwrap_or(0) as usize,
            );
            let (Some(&a), Some(&b)) = (chars.get(from), chars.get(to)) else {
                bail!(
                    "{} line {}: target offsets out of range",
                    file.display(),
                    n + 1
                );
            };
            let class = match t["polarity"].as_f64() {
                Some(p) if p < 3.0 => 0,
                Some(p) if p < 5.0 => 1,
                Some(_) => 2,
                None => bail!("{} line {}: no polarity", file.display(), n + 1),
            };
            targets.push((sentences.len() - 1, Span::new(a, b)));
            gold.push(class);
        }
    }
    let items: Vec<(&str, Option<Span>)> = targets
        .iter()
        .map(|&(i, t)| (sentences[i].as_str(), Some(t)))
        .collect();
    let (probs, labels) = classify(backend, &items, budget)?;
    let classes = [
        label_index(&labels, "negative")?,
        label_index(&labels, "neutral")?,
        label_index(&labels, "positive")?,
    ];
    let pred: Vec<usize> = probs
        .iter()
        .map(|p| {
            (0..3)
                .max_by(|&x, &y| p[classes[x]].total_cmp(&p[classes[y]]))
                .unwrap_or(1)
        })
        .collect();
    let (accuracy, f1m) = class_scores(&gold, &pred, 3);
    Ok(serde_json::json!({
        "task": "stance", "file": file.display().to_string(), "model": backend.dir(),
        "targets": gold.len(), "accuracy": accuracy, "f1m": f1m,
    }))
}

/// The two sentiment files `eval sentiment` reads, told by their header line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SentimentFile {
    /// `label<TAB>sentence`, labels negative / neutral / positive (newstone).
    Tone,
    /// `sentence<TAB>label`, labels 0 / 1 (SST-2).
    Polarity,
}

impl SentimentFile {
    /// Told by the header: the first line of `raw`.
    pub fn of(raw: &str, file: &Path) -> Result<Self> {
        match raw.lines().next().map(str::trim) {
            Some("label\tsentence") => Ok(SentimentFile::Tone),
            Some("sentence\tlabel") => Ok(SentimentFile::Polarity),
            other => bail!(
                "{}: the first line must be the header `label<TAB>sentence` (three-class tone) or `sentence<TAB>label` (SST-2), found {other:?}",
                file.display()
            ),
        }
    }
}

fn eval_sentiment(
    backend: &Backend,
    file: &Path,
    raw: &str,
    format: SentimentFile,
    every: Option<usize>,
    budget: usize,
) -> Result<serde_json::Value> {
    const TONE: [&str; 3] = ["negative", "neutral", "positive"];
    let mut rows = Vec::new();
    let mut sentences = Vec::new();
    let mut gold = Vec::new();
    for (i, line) in raw.lines().skip(1).enumerate() {
        if every.is_some_and(|n| i % n.max(1) != 0) {
            continue;
        }
        let row = || format!("{} data row {}", file.display(), i + 1);
        let (s, y) = match (format, line.split_once('\t'), line.rsplit_once('\t')) {
            (SentimentFile::Tone, Some((y, s)), _) => {
                let y = TONE
                    .iter()
                    .position(|l| *l == y.trim())
                    .with_context(|| format!("{}: label {y:?} is not one of {TONE:?}", row()))?;
                (s, y)
            }
            (SentimentFile::Polarity, _, Some((s, y))) => {
                let y: usize = y
                    .trim()
                    .parse()
                    .with_context(|| format!("{}: bad label {y:?}", row()))?;
                (s, y.min(1))
            }
            _ => bail!("{}: no tab", row()),
        };
        rows.push(i);
        sentences.push(s.trim());
        gold.push(y);
    }
    let items: Vec<(&str, Option<Span>)> = sentences.iter().map(|s| (*s, None)).collect();
    let (probs, labels) = classify(backend, &items, budget)?;
    let names: &[&str] = match format {
        SentimentFile::Tone => &TONE,
        SentimentFile::Polarity => &["negative", "positive"],
    };
    let classes = names
        .iter()
        .map(|n| label_index(&labels, n))
        .collect::<Result<Vec<_>>>()?;
    let pred: Vec<usize> = probs
        .iter()
        .map(|p| {
            (0..classes.len())
                .max_by(|&x, &y| p[classes[x]].total_cmp(&p[classes[y]]))
                .unwrap_or(0)
        })
        .collect();
    let (accuracy, f1m) = class_scores(&gold, &pred, classes.len());
    let mut report = serde_json::json!({
        "task": "sentiment", "file": file.display().to_string(), "model": backend.dir(),
        "sentences": gold.len(), "accuracy": accuracy,
    });
    if format == SentimentFile::Tone {
        let per_class: BTreeMap<&str, f64> = names
            .iter()
            .copied()
            .zip(class_f1(&gold, &pred, classes.len()))
            .collect();
        let confidence: Vec<f64> = probs
            .iter()
            .zip(&pred)
            .map(|(p, &k)| f64::from(p[classes[k]]))
            .collect();
        let correct: Vec<bool> = gold.iter().zip(&pred).map(|(g, p)| g == p).collect();
        report["f1m"] = f1m.into();
        report["f1"] = serde_json::to_value(per_class)?;
        report["ece"] = ece(&confidence, &correct).into();
        // per source, when a line-aligned `<stem>.sources.tsv` (header `source<TAB>detail`)
        // sits beside the file
        let sources_file = file.with_extension("sources.tsv");
        if let Ok(src) = std::fs::read_to_string(&sources_file) {
            let source: Vec<&str> = src
                .lines()
                .skip(1)
                .map(|l| l.split('\t').next().unwrap_or(""))
                .collect();
            let mut by: BTreeMap<&str, (Vec<usize>, Vec<usize>)> = BTreeMap::new();
            for (k, &r) in rows.iter().enumerate() {
                let name = source.get(r).copied().with_context(|| {
                    format!(
                        "{} has fewer rows than {}",
                        sources_file.display(),
                        file.display()
                    )
                })?;
                let e = by.entry(name).or_default();
                e.0.push(gold[k]);
                e.1.push(pred[k]);
            }
            let per: BTreeMap<&str, serde_json::Value> = by
                .into_iter()
                .map(|(name, (g, p))| {
                    let (acc, f1m) = class_scores(&g, &p, classes.len());
                    (
                        name,
                        serde_json::json!({"sentences": g.len(), "accuracy": acc, "f1m": f1m}),
                    )
                })
                .collect();
            report["sources"] = serde_json::to_value(per)?;
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: usize, a: usize, b: usize, t: &str) -> Chunk {
        (s, a, b, t.to_string())
    }

    #[test]
    fn entity_prf_by_hand() {
        // gold: PER(0,0-2) LOC(0,3-4) ORG(1,0-1); pred: PER exact, LOC wrong boundary, ORG exact, extra MISC
        let gold = vec![c(0, 0, 2, "PER"), c(0, 3, 4, "LOC"), c(1, 0, 1, "ORG")];
        let pred = vec![
            c(0, 0, 2, "PER"),
            c(0, 3, 5, "LOC"),
            c(1, 0, 1, "ORG"),
            c(1, 2, 3, "MISC"),
        ];
        let (micro, per) = entity_scores(&gold, &pred);
        assert_eq!((micro.correct, micro.predicted, micro.gold), (2, 4, 3));
        assert!((micro.precision - 0.5).abs() < 1e-12);
        assert!((micro.recall - 2.0 / 3.0).abs() < 1e-12);
        assert!((micro.f1 - 4.0 / 7.0).abs() < 1e-12);
        assert_eq!(per["LOC"].f1, 0.0);
        assert_eq!(per["PER"].f1, 1.0);
        assert_eq!((per["MISC"].precision, per["MISC"].recall), (0.0, 0.0));
    }

    #[test]
    fn conll_chunks_iob1_and_iob2_agree() {
        let iob1 = "EU NNP I-NP I-ORG\nrejects VBZ I-VP O\nGerman JJ I-NP I-MISC\ncall NN I-NP O\n\nPeter NNP I-NP I-PER\nBlackburn NNP I-NP I-PER\n";
        let iob2 = "EU B-ORG\nrejects O\nGerman B-MISC\ncall O\n\nPeter B-PER\nBlackburn I-PER\n";
        let get = |t: &str| -> Vec<Vec<(usize, usize, String)>> {
            read_conll(t)
                .iter()
                .flatten()
                .map(|(_, tags)| {
                    chunks(
                        &tags
                            .iter()
                            .map(|t| Tag::parse(t).unwrap())
                            .collect::<Vec<_>>(),
                    )
                })
                .collect()
        };
        assert_eq!(get(iob1), get(iob2));
        assert_eq!(get(iob1)[1], vec![(0, 2, "PER".to_string())]);
    }

    #[test]
    fn class_scores_by_hand() {
        // gold: 0 0 1 2 ; pred: 0 1 1 2  -> acc 0.75; F1: c0 = 2/3, c1 = 2/3, c2 = 1
        let (acc, f1m) = class_scores(&[0, 0, 1, 2], &[0, 1, 1, 2], 3);
        assert!((acc - 0.75).abs() < 1e-12);
        assert!((f1m - (2.0 / 3.0 + 2.0 / 3.0 + 1.0) / 3.0).abs() < 1e-12);
        let (acc, f1m) = class_scores(&[], &[], 2);
        assert_eq!((acc, f1m), (0.0, 0.0));
    }

    #[test]
    fn ece_by_hand() {
        // bin of 0.9: 2 predictions, 1 right -> |0.5 - 0.9| * 2/4; bin of 0.6: 2, both right ->
        // |1 - 0.6| * 2/4
        let e = ece(&[0.9, 0.9, 0.6, 0.6], &[true, false, true, true]);
        assert!((e - (0.4 * 0.5 + 0.4 * 0.5)).abs() < 1e-12);
        assert_eq!(ece(&[1.0, 1.0], &[true, true]), 0.0);
    }
}
