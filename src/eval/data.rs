//! The dev files `eval` reads: CoNLL (NER) and the two sentiment TSV layouts.

use std::path::Path;

use anyhow::{bail, Context, Result};

/// A dev file's text.
pub fn read(file: &Path) -> Result<String> {
    std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))
}

pub type Sentence = (Vec<String>, Vec<String>);

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

#[cfg(test)]
mod tests {
    use super::*;
    use newsmill_ner::{chunks, Tag};

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
}
