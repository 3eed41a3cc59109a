//! `eval stance` and `eval sentiment`: one label per sentence (and target), scored by class.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use newsmill_pipeline::JointText;
use newsmill_text::Span;

use super::data::SentimentFile;
use super::metrics::{class_f1, class_scores, ece};
use super::Backend;

/// Index of label `name` (any case) among `labels`.
fn label_index(labels: &[String], name: &str) -> Result<usize> {
    labels
        .iter()
        .position(|l| l.eq_ignore_ascii_case(name))
        .with_context(|| format!("model has no label `{name}` (labels: {labels:?})"))
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

pub(super) fn eval_stance(
    backend: &Backend,
    file: &Path,
    budget: usize,
) -> Result<serde_json::Value> {
    let raw = super::data::read(file)?;
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

pub(super) fn eval_sentiment(
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
