//! `eval ner`: the documents of a CoNLL file, annotated as articles are, scored by entity.

use std::path::Path;

use anyhow::{bail, Context, Result};
use newsmill_ner::{chunks, Tag};
use newsmill_pipeline::JointText;
use newsmill_text::Span;

use super::data::read_conll;
use super::metrics::entity_scores;
use super::Backend;

/// Scores NER on a CoNLL file. Each document is one text (sentences on lines, tokens separated
/// by spaces), prepared as `annotate` prepares an article; all documents run in one batch set.
pub(super) fn eval_ner(backend: &Backend, file: &Path, budget: usize) -> Result<serde_json::Value> {
    let raw = super::data::read(file)?;
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
