use std::path::Path;

use std::ops::Range;

use newsmill_model::{BatchStats, Classifier, Compute, Head, HeadKind, JointModel};
use newsmill_text::{
    split_words, CaseFeature, Encoded, Role, Span, Window, Windowing, WordpieceEncoder,
};

use crate::decode::{decode_words, Decoding};
use crate::tags::{chunks, TagSet};
use crate::NerError;

/// An entity mention: byte span into the article text, type, and mean word probability of
/// its decoded tags.
#[derive(Debug, Clone, PartialEq)]
pub struct Entity {
    pub start: usize,
    pub end: usize,
    pub label: String,
    pub score: f32,
    /// Index of the sentence it lies in.
    pub sentence: usize,
}

/// Where the NER model reads a sentence's context (`--ner-context`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum NerContext {
    /// As the model's config.json says it was trained (`newsmill.context`).
    #[default]
    Auto,
    /// Each sentence alone.
    Sentence,
    /// Consecutive sentences packed up to the window.
    Packed,
}

impl NerContext {
    /// Whether to pack sentences; `None`: as the model says.
    pub fn pack_sentences(self) -> Option<bool> {
        match self {
            NerContext::Auto => None,
            NerContext::Sentence => Some(false),
            NerContext::Packed => Some(true),
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct NerOptions {
    pub windowing: Windowing,
    pub decoding: Decoding,
    /// Pack consecutive sentences into one input (context from the neighbours), or give every
    /// sentence an input of its own. `None`: pack when the model's config.json says it was
    /// trained packed (`newsmill.context`), otherwise one sentence per input.
    pub pack_sentences: Option<bool>,
    /// Device and precision of the model.
    pub compute: Compute,
}

/// A token-classification model with its tag set: a checkpoint of its own (`clf`), or the
/// token head of a joint checkpoint, which the caller runs (`clf` is `None`; this struct then
/// prepares the inputs and decodes the head's probabilities).
pub struct NerModel {
    pub clf: Option<Classifier>,
    pub encoder: WordpieceEncoder,
    pub case: CaseFeature,
    pub tags: TagSet,
    pub opts: NerOptions,
}

struct PreparedSentence {
    index: usize,
    words: Vec<Span>,
    enc: Encoded,
    types: Vec<u32>,
}

/// Consecutive sentences packed into one piece sequence, and the windows over it (several only
/// when a single sentence is longer than a window).
struct Unit {
    sentences: std::ops::Range<usize>,
    windows: Vec<Window>,
}

/// Where a text span lies in the model inputs ([`NerModel::locate`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpanPlace {
    pub unit: usize,
    pub window: usize,
    /// Positions in the window, the leading special token counted (so from 1).
    pub positions: Range<usize>,
}

/// An article split into words, wordpieces and model inputs.
pub struct PreparedText {
    sentences: Vec<PreparedSentence>,
    units: Vec<Unit>,
}

impl PreparedText {
    /// The sentences of unit `unit` (empty when there is no such unit).
    pub fn unit_sentences(&self, unit: usize) -> std::ops::Range<usize> {
        self.units.get(unit).map_or(0..0, |u| u.sentences.clone())
    }

    /// Number of model inputs (windows) of this text.
    pub fn input_count(&self) -> usize {
        self.units.iter().map(|u| u.windows.len()).sum()
    }
}

impl NerModel {
    pub fn load(dir: &Path, opts: NerOptions) -> Result<Self, NerError> {
        opts.windowing.validate()?;
        let clf = Classifier::load_with(dir, Head::Token, opts.compute)?;
        let tags = TagSet::new(clf.labels(), &clf.config.path.display().to_string())?;
        let mut opts = opts;
        if opts.pack_sentences.is_none() {
            opts.pack_sentences = Some(clf.config.packed_context.is_some());
        }
        // never exceed the model's positions
        opts.windowing.max_len = opts.windowing.max_len.min(clf.config.max_positions);
        Ok(NerModel {
            encoder: clf.encoder.clone(),
            case: clf.config.case_feature,
            clf: Some(clf),
            tags,
            opts,
        })
    }

    /// The NER side of a joint checkpoint: its `ner` token head's tags, its tokenizer and case
    /// feature. The joint model was trained on single sentences, so every sentence is an input
    /// of its own. A checkpoint without a `ner` head (a stance-only one) still prepares
    /// sentences this way; it has no tags to decode (only `O`).
    pub fn for_joint(joint: &JointModel, opts: NerOptions) -> Result<Self, NerError> {
        opts.windowing.validate()?;
        let field = format!(
            "{} (newsmill.heads.ner.labels)",
            joint.config.path.display()
        );
        let tags = if joint.heads().any(|h| h.name == "ner") {
            let head = joint.require("ner", HeadKind::Token)?;
            let spec = joint.heads().nth(head).expect("required head exists");
            TagSet::new(&spec.labels, &field)?
        } else {
            TagSet::new(&["O".to_string()], &field)?
        };
        let mut opts = opts;
        opts.pack_sentences = Some(false);
        opts.windowing.max_len = opts.windowing.max_len.min(joint.config.max_positions);
        Ok(NerModel {
            clf: None,
            encoder: joint.encoder.clone(),
            case: joint.config.case_feature,
            tags,
            opts,
        })
    }

    /// Words, wordpieces and windows of every sentence of `text`; `roles` are the sentences'
    /// page roles (a title is read as one; missing roles: body).
    pub fn prepare(
        &self,
        text: &str,
        sentences: &[Span],
        roles: &[Role],
    ) -> Result<PreparedText, NerError> {
        let split: Vec<Vec<Span>> = sentences.iter().map(|s| split_words(text, *s)).collect();
        self.prepare_words(text, split, roles)
    }

    /// Like [`NerModel::prepare`] for sentences already split into words (one `Vec` of word
    /// spans per sentence), as in CoNLL files.
    pub fn prepare_words(
        &self,
        text: &str,
        sentences: Vec<Vec<Span>>,
        roles: &[Role],
    ) -> Result<PreparedText, NerError> {
        let mut out = Vec::with_capacity(sentences.len());
        for (index, words) in sentences.into_iter().enumerate() {
            let strs: Vec<&str> = words.iter().map(|w| w.slice(text)).collect();
            let enc = self.encoder.encode_words(&strs)?;
            let title = roles.get(index) == Some(&Role::Title);
            let cases = self.case.word_types(&strs, title);
            let types = enc.word.iter().map(|&w| cases[w as usize]).collect();
            out.push(PreparedSentence {
                index,
                words,
                enc,
                types,
            });
        }
        let units = self.pack(&out);
        Ok(PreparedText {
            sentences: out,
            units,
        })
    }

    /// Packs consecutive sentences into units of at most `max_len - 2` pieces without splitting
    /// a sentence (the rule of `pack_doc` in models/recipe/train.py): each sentence is read with
    /// its neighbours as context, at no extra cost.
    fn pack(&self, sentences: &[PreparedSentence]) -> Vec<Unit> {
        let content = self.opts.windowing.max_len.saturating_sub(2);
        let mut units = Vec::new();
        let mut start = 0;
        let mut len = 0;
        for (i, s) in sentences.iter().enumerate() {
            let n = s.enc.ids.len();
            if i > start && (self.opts.pack_sentences != Some(true) || len + n > content) {
                units.push(self.unit(start..i, len));
                start = i;
                len = 0;
            }
            len += n;
        }
        if start < sentences.len() {
            units.push(self.unit(start..sentences.len(), len));
        }
        units
    }

    fn unit(&self, sentences: std::ops::Range<usize>, pieces: usize) -> Unit {
        Unit {
            sentences,
            windows: self.opts.windowing.windows(pieces),
        }
    }

    /// The model inputs of a prepared text, special tokens included, in a fixed order that
    /// [`NerModel::decode`] expects back.
    pub fn inputs(&self, p: &PreparedText) -> Vec<(Vec<u32>, Vec<u32>)> {
        self.unit_inputs(p).into_iter().flatten().collect()
    }

    /// [`NerModel::inputs`] grouped by unit (a sentence, or packed sentences): the windows of
    /// each unit, which [`NerModel::decode_unit`] decodes together.
    pub fn unit_inputs(&self, p: &PreparedText) -> Vec<Vec<(Vec<u32>, Vec<u32>)>> {
        let (cls, sep) = (self.encoder.cls_id, self.encoder.sep_id);
        let mut out = Vec::with_capacity(p.units.len());
        for u in &p.units {
            let ss = &p.sentences[u.sentences.clone()];
            let ids: Vec<u32> = ss.iter().flat_map(|s| s.enc.ids.iter().copied()).collect();
            let tys: Vec<u32> = ss.iter().flat_map(|s| s.types.iter().copied()).collect();
            let mut windows = Vec::with_capacity(u.windows.len());
            for w in &u.windows {
                let mut input = Vec::with_capacity(w.end - w.start + 2);
                input.push(cls);
                input.extend_from_slice(&ids[w.start..w.end]);
                input.push(sep);
                let mut types = Vec::with_capacity(input.len());
                types.push(0);
                types.extend_from_slice(&tys[w.start..w.end]);
                types.push(0);
                windows.push((input, types));
            }
            out.push(windows);
        }
        out
    }

    /// Entities from the probabilities of [`NerModel::inputs`] (same order). Each word takes
    /// the prediction of its first wordpiece, from the window that owns that piece.
    pub fn decode(&self, p: &PreparedText, probs: &[Vec<f32>]) -> Vec<Entity> {
        let mut entities = Vec::new();
        let mut input = 0usize;
        for (k, u) in p.units.iter().enumerate() {
            let end = (input + u.windows.len()).min(probs.len());
            entities.extend(self.decode_unit(p, k, &probs[input.min(end)..end]));
            input += u.windows.len();
        }
        entities
    }

    /// Entities of unit `unit` of `p` from the probabilities of its windows (as
    /// [`NerModel::unit_inputs`] gives them).
    pub fn decode_unit(&self, p: &PreparedText, unit: usize, probs: &[Vec<f32>]) -> Vec<Entity> {
        let nl = self.tags.tags.len();
        let mut entities = Vec::new();
        let Some(u) = p.units.get(unit) else {
            return entities;
        };
        let mut base = 0usize;
        for s in &p.sentences[u.sentences.clone()] {
            let sentence_base = base;
            base += s.enc.ids.len();
            let mut word_probs: Vec<Option<&[f32]>> = vec![None; s.words.len()];
            let mut prev_word = None;
            // windows are in order and own consecutive ranges: walk them with the pieces
            let mut k = 0usize;
            for (local, &w) in s.enc.word.iter().enumerate() {
                if prev_word == Some(w) {
                    continue;
                }
                prev_word = Some(w);
                let piece = sentence_base + local;
                while k < u.windows.len() && u.windows[k].own_end <= piece {
                    k += 1;
                }
                let Some(win) = u.windows.get(k).filter(|win| win.own_start <= piece) else {
                    continue;
                };
                let Some(row) = probs.get(k) else {
                    continue;
                };
                let o = (piece - win.start + 1) * nl;
                if let Some(slot) = word_probs.get_mut(w as usize) {
                    *slot = row.get(o..o + nl);
                }
            }
            self.decode_sentence(s, &word_probs, &mut entities);
        }
        entities
    }

    /// The unit (index into [`NerModel::unit_inputs`]) holding sentence `sentence`.
    pub fn unit_of(&self, p: &PreparedText, sentence: usize) -> Option<usize> {
        p.units.iter().position(|u| u.sentences.contains(&sentence))
    }

    fn decode_sentence(
        &self,
        s: &PreparedSentence,
        word_probs: &[Option<&[f32]>],
        entities: &mut Vec<Entity>,
    ) {
        {
            let tag_ids = decode_words(&self.tags, word_probs, self.opts.decoding);
            let tags: Vec<_> = tag_ids.iter().map(|&t| self.tags.tags[t].clone()).collect();
            for (a, b, typ) in chunks(&tags) {
                let score = (a..b)
                    .map(|w| word_probs[w].map_or(0.0, |p| p[tag_ids[w]]))
                    .sum::<f32>()
                    / (b - a) as f32;
                entities.push(Entity {
                    start: s.words[a].start,
                    end: s.words[b - 1].end,
                    label: typ,
                    score,
                    sentence: s.index,
                });
            }
        }
    }

    /// Convenience: prepare, run and decode one text.
    pub fn annotate(
        &self,
        text: &str,
        sentences: &[Span],
        token_budget: usize,
    ) -> Result<(Vec<Entity>, BatchStats), NerError> {
        let clf = self.clf.as_ref().ok_or(NerError::JointHead)?;
        let p = self.prepare(text, sentences, &[])?;
        let (probs, stats) = clf.predict(&self.inputs(&p), token_budget)?;
        Ok((self.decode(&p, &probs), stats))
    }

    /// Where the byte span `span` of sentence `sentence` lies in the model inputs: the unit
    /// ([`NerModel::unit_of`]), the window of that unit that owns the span's first wordpiece, and
    /// the positions (special token included, so from 1) of the span's wordpieces in that
    /// window. Words that overlap the span count whole. `None` when no wordpiece overlaps it.
    pub fn locate(&self, p: &PreparedText, sentence: usize, span: Span) -> Option<SpanPlace> {
        for (unit, u) in p.units.iter().enumerate() {
            if !u.sentences.contains(&sentence) {
                continue;
            }
            let mut base = 0;
            for s in &p.sentences[u.sentences.start..sentence] {
                base += s.enc.ids.len();
            }
            let s = &p.sentences[sentence];
            let mut first = None;
            let mut last = 0;
            for (local, &w) in s.enc.word.iter().enumerate() {
                let word = s.words[w as usize];
                if word.start < span.end && word.end > span.start {
                    first.get_or_insert(base + local);
                    last = base + local;
                }
            }
            let first = first?;
            let k = u
                .windows
                .iter()
                .position(|win| win.own_start <= first && first < win.own_end)?;
            let win = u.windows[k];
            let end = (last + 1).min(win.end);
            return Some(SpanPlace {
                unit,
                window: k,
                positions: first - win.start + 1..end - win.start + 1,
            });
        }
        None
    }
}
