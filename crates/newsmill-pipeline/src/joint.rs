//! The one-pass phase: every sentence of a group is encoded once by a joint checkpoint, and
//! its heads give the entities (token head, decoded whole per sentence), the sentence
//! sentiment (first position) and the stance toward every entity mention and user-target match
//! (spans pooled from the same hidden states).

use std::path::Path;

use newsmill_model::{
    BatchStats, HeadKind, JointHeads, JointItem, JointModel, ModelError, SpanRequest,
};
use newsmill_ner::{Entity, NerModel, NerOptions, PreparedText};
use newsmill_stance::Scored;
use newsmill_text::{Role, Span};

use crate::PipelineError;

/// Which tasks the joint checkpoint answers in a run (the others come from single-task
/// checkpoints given with `--ner-model` and the like).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JointUses {
    pub ner: bool,
    pub sentiment: bool,
    /// Which first-position head answers `sentiment`.
    pub sentence_head: SentenceHead,
    /// The span head scores user targets, and entities when `entity_stance`.
    pub stance: bool,
    pub entity_stance: bool,
}

impl JointUses {
    /// A second, stance-only checkpoint: the entities are given (scored when `entity_stance`),
    /// and only sentences with an entity or target to score are encoded.
    pub fn stance_only(entity_stance: bool) -> JointUses {
        JointUses {
            stance: true,
            entity_stance,
            ..JointUses::default()
        }
    }

    fn is_stance_only(&self) -> bool {
        self.stance && !self.ner && !self.sentiment
    }
}

/// Which first-position head of a joint checkpoint gives the sentence sentiment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum SentenceHead {
    /// `tone` when the checkpoint has it, else `sentiment`.
    #[default]
    Auto,
    /// `tone`: three-class news tone (negative, neutral, positive).
    Tone,
    /// `sentiment`: two-class polarity (SST-2).
    Polarity,
}

impl SentenceHead {
    /// The head's name in a checkpoint with `heads`.
    fn name(self, has: impl Fn(&str) -> bool) -> &'static str {
        match self {
            SentenceHead::Tone => "tone",
            SentenceHead::Polarity => "sentiment",
            SentenceHead::Auto if has("tone") => "tone",
            SentenceHead::Auto => "sentiment",
        }
    }
}

/// A joint checkpoint with the heads a run reads, resolved once at load.
pub struct JointModels {
    pub model: JointModel,
    /// Prepares sentences for the encoder (words, case types, windows) and decodes the token
    /// head.
    pub ner: NerModel,
    pub uses: JointUses,
    heads: JointHeads,
    /// Labels of the sentiment and stance heads.
    sentiment_labels: Vec<String>,
    /// The name of the head that answers `sentiment` (empty when none does).
    pub sentiment_head: &'static str,
    stance_labels: Vec<String>,
}

impl JointModels {
    /// Loads `dir` and checks that it has the heads `uses` needs: `ner` (token),
    /// `sentiment` (first_position), `stance` (span_pool).
    pub fn load(dir: &Path, ner_opts: NerOptions, uses: JointUses) -> Result<Self, PipelineError> {
        let model = JointModel::load(dir, ner_opts.compute)?;
        Self::with_model(model, ner_opts, uses)
    }

    /// The same weights for another worker (see [`JointModel::share`]).
    pub fn share(&self) -> Result<Self, PipelineError> {
        Self::with_model(self.model.share(), self.ner.opts, self.uses)
    }

    fn with_model(
        model: JointModel,
        ner_opts: NerOptions,
        uses: JointUses,
    ) -> Result<Self, PipelineError> {
        let ner = NerModel::for_joint(&model, ner_opts)?;
        let mut heads = JointHeads {
            token: uses
                .ner
                .then(|| model.require("ner", HeadKind::Token))
                .transpose()?,
            ..JointHeads::default()
        };
        let labels = |i: usize| -> Vec<String> {
            model
                .heads()
                .nth(i)
                .map(|h| h.labels.clone())
                .unwrap_or_default()
        };
        let mut sentiment_labels = Vec::new();
        let mut sentiment_head = "";
        if uses.sentiment {
            sentiment_head = uses
                .sentence_head
                .name(|n| model.heads().any(|h| h.name == n));
            let i = model.require(sentiment_head, HeadKind::FirstPosition)?;
            heads.first.push(i);
            sentiment_labels = labels(i);
        }
        let mut stance_labels = Vec::new();
        if uses.stance {
            let i = model.require("stance", HeadKind::SpanPool)?;
            heads.span = Some(i);
            stance_labels = labels(i);
        }
        Ok(JointModels {
            model,
            ner,
            uses,
            heads,
            sentiment_labels,
            sentiment_head,
            stance_labels,
        })
    }
}

/// One article's part of the phase.
pub struct JointText<'a> {
    pub text: &'a str,
    pub sentences: &'a [Span],
    /// The page role of each sentence (a title is read as one; missing: body).
    pub roles: &'a [Role],
    /// Entities found by a separate NER model (used when the joint model does not do NER).
    pub entities: &'a [Entity],
    /// User-target matches: (byte span, sentence index).
    pub targets: Vec<(Span, usize)>,
    /// The words of each sentence when they are given (CoNLL files); `None`: split as
    /// `annotate` splits them.
    pub words: Option<Vec<Vec<Span>>>,
}

/// What the phase gives back for one article.
#[derive(Debug, Default)]
pub struct JointResult {
    /// Entities decoded from the token head (empty when NER came from elsewhere).
    pub entities: Vec<Entity>,
    pub sentiments: Vec<Option<Scored>>,
    /// Stance per entity (of `entities`, or of the given entities).
    pub stances: Vec<Option<Scored>>,
    pub target_stances: Vec<Option<Scored>>,
}

/// What the decoder made of one item (one sentence): entities, and which span request scores
/// which entity and which target.
#[derive(Debug, Default)]
pub(crate) struct Decoded {
    entities: Vec<Entity>,
    /// (index of the entity in the article's list, request)
    entity_requests: Vec<(usize, usize)>,
    /// (index of the target in the article's list, request)
    target_requests: Vec<(usize, usize)>,
}

/// What one item (one sentence) gave: the first-position heads' probabilities (in
/// [`JointHeads::first`] order), what the decoder made of its tokens, and the span head's
/// probabilities per span request.
#[derive(Debug, Default)]
pub(crate) struct ItemOut {
    first: Vec<Vec<f32>>,
    decoded: Decoded,
    spans: Vec<Vec<f32>>,
}

/// The items of a group: one per sentence unit, and where each came from.
pub(crate) struct Prepared {
    texts: Vec<PreparedText>,
    pub(crate) items: Vec<JointItem>,
    /// (article, unit) of each item
    origin: Vec<(usize, usize)>,
    /// per article: for each sentence, its item (if it has any wordpieces)
    sentence_item: Vec<Vec<Option<usize>>>,
}

impl JointModels {
    /// Splits the texts into sentence items.
    pub(crate) fn prepare(&self, texts: &[JointText]) -> Result<Prepared, PipelineError> {
        let mut p = Prepared {
            texts: Vec::with_capacity(texts.len()),
            items: Vec::new(),
            origin: Vec::new(),
            sentence_item: Vec::with_capacity(texts.len()),
        };
        for (a, t) in texts.iter().enumerate() {
            let prepared = match &t.words {
                Some(words) => self.ner.prepare_words(t.text, words.clone(), t.roles)?,
                None => self.ner.prepare(t.text, t.sentences, t.roles)?,
            };
            let mut by_sentence = vec![None; t.sentences.len()];
            // a stance-only checkpoint reads only the sentences with something to score
            let wanted: Option<Vec<bool>> = self.uses.is_stance_only().then(|| {
                let mut w = vec![false; t.sentences.len()];
                let entities = t.entities.iter().filter(|_| self.uses.entity_stance);
                for s in entities
                    .map(|e| e.sentence)
                    .chain(t.targets.iter().map(|&(_, s)| s))
                {
                    if let Some(slot) = w.get_mut(s) {
                        *slot = true;
                    }
                }
                w
            });
            for (u, windows) in self.ner.unit_inputs(&prepared).into_iter().enumerate() {
                if windows.is_empty() {
                    continue;
                }
                if let Some(w) = &wanted {
                    if !prepared
                        .unit_sentences(u)
                        .any(|s| w.get(s).copied().unwrap_or(false))
                    {
                        continue;
                    }
                }
                for s in prepared.unit_sentences(u) {
                    if let Some(slot) = by_sentence.get_mut(s) {
                        *slot = Some(p.items.len());
                    }
                }
                p.origin.push((a, u));
                p.items.push(JointItem { windows });
            }
            p.texts.push(prepared);
            p.sentence_item.push(by_sentence);
        }
        Ok(p)
    }

    /// Decodes item `item` from its token probabilities and lists the spans to score.
    pub(crate) fn decode(
        &self,
        p: &Prepared,
        texts: &[JointText],
        item: usize,
        token_probs: &[Vec<f32>],
    ) -> (Decoded, Vec<SpanRequest>) {
        let (a, unit) = p.origin[item];
        let prepared = &p.texts[a];
        let t = &texts[a];
        let mut d = Decoded::default();
        let mut requests = Vec::new();
        let request = |sentence: usize, span: Span, requests: &mut Vec<SpanRequest>| {
            let place = self.ner.locate(prepared, sentence, span)?;
            (place.unit == unit).then(|| {
                requests.push(SpanRequest {
                    window: place.window,
                    positions: place.positions,
                });
                requests.len() - 1
            })
        };
        if self.uses.ner {
            d.entities = self.ner.decode_unit(prepared, unit, token_probs);
        }
        if self.uses.stance {
            let unit_sentences = prepared.unit_sentences(unit);
            let given: Vec<(usize, &Entity)> = if self.uses.ner {
                d.entities.iter().enumerate().collect()
            } else {
                t.entities
                    .iter()
                    .enumerate()
                    .filter(|(_, e)| unit_sentences.contains(&e.sentence))
                    .collect()
            };
            for (i, e) in given.into_iter().filter(|_| self.uses.entity_stance) {
                if let Some(r) = request(e.sentence, Span::new(e.start, e.end), &mut requests) {
                    d.entity_requests.push((i, r));
                }
            }
            for (i, &(span, s)) in t.targets.iter().enumerate() {
                if unit_sentences.contains(&s) {
                    if let Some(r) = request(s, span, &mut requests) {
                        d.target_requests.push((i, r));
                    }
                }
            }
        }
        (d, requests)
    }

    /// Puts the items' outputs together per article.
    pub(crate) fn collect(
        &self,
        p: &Prepared,
        texts: &[JointText],
        outs: Vec<ItemOut>,
    ) -> Vec<JointResult> {
        let mut results: Vec<JointResult> = texts
            .iter()
            .map(|t| JointResult {
                entities: Vec::new(),
                sentiments: vec![None; t.sentences.len()],
                stances: Vec::new(),
                target_stances: vec![None; t.targets.len()],
            })
            .collect();
        // entities first (items of an article are in sentence order), so stance indices of
        // decoded entities can be offset by what came before
        let mut offsets = vec![0usize; outs.len()];
        for (item, out) in outs.iter().enumerate() {
            let a = p.origin[item].0;
            offsets[item] = results[a].entities.len();
            results[a]
                .entities
                .extend(out.decoded.entities.iter().cloned());
        }
        for (a, r) in results.iter_mut().enumerate() {
            let n = if self.uses.ner {
                r.entities.len()
            } else {
                texts[a].entities.len()
            };
            r.stances = vec![None; n];
        }
        for (item, out) in outs.iter().enumerate() {
            let a = p.origin[item].0;
            let r = &mut results[a];
            let scored = |req: usize| {
                out.spans
                    .get(req)
                    .map(|probs| Scored::from_probs(&self.stance_labels, probs))
            };
            for &(i, req) in &out.decoded.entity_requests {
                let i = if self.uses.ner { offsets[item] + i } else { i };
                if let Some(slot) = r.stances.get_mut(i) {
                    *slot = scored(req);
                }
            }
            for &(i, req) in &out.decoded.target_requests {
                if let Some(slot) = r.target_stances.get_mut(i) {
                    *slot = scored(req);
                }
            }
        }
        if self.uses.sentiment {
            for (a, per_sentence) in p.sentence_item.iter().enumerate() {
                for (s, item) in per_sentence.iter().enumerate() {
                    let probs = item
                        .and_then(|i| outs[i].first.first())
                        .filter(|v| !v.is_empty());
                    results[a].sentiments[s] =
                        probs.map(|v| Scored::from_probs(&self.sentiment_labels, v));
                }
            }
        }
        results
    }

    /// Runs the batch `members` of `p.items` (planned by the caller) on this model: one
    /// encoder pass, each member's tokens decoded, then the spans the decoding asked for
    /// pooled from the same hidden states.
    pub(crate) fn run_batch(
        &self,
        p: &Prepared,
        texts: &[JointText],
        members: &[usize],
    ) -> Result<(Vec<ItemOut>, BatchStats), ModelError> {
        let enc = self.model.encode_batch(&p.items, members, &self.heads)?;
        let (decoded, requests): (Vec<Decoded>, Vec<Vec<SpanRequest>>) = members
            .iter()
            .zip(&enc.items)
            .map(|(&item, e)| self.decode(p, texts, item, &e.tokens))
            .unzip();
        let spans = enc.score_spans(&requests)?;
        // the pass's time: encoding, decoding and pooling
        let stats = enc.stats();
        let outs = enc
            .items
            .into_iter()
            .zip(decoded)
            .zip(spans)
            .map(|((e, decoded), spans)| ItemOut {
                first: e.first,
                decoded,
                spans,
            })
            .collect();
        Ok((outs, stats))
    }
}

impl JointModels {
    /// Runs `texts` on the calling thread, batched under `budget` padded tokens, as
    /// `annotate` does (`eval` scores the dev sets with it).
    pub fn run_texts(
        &self,
        texts: &[JointText],
        budget: usize,
    ) -> Result<(Vec<JointResult>, BatchStats), PipelineError> {
        let prepared = self.prepare(texts)?;
        let shapes: Vec<(usize, usize)> = prepared.items.iter().map(JointItem::shape).collect();
        let plan = newsmill_model::plan_groups(&shapes, budget);
        let results = plan
            .iter()
            .map(|members| self.run_batch(&prepared, texts, members));
        let (outs, stats) = newsmill_model::gather_batches(prepared.items.len(), &plan, results)?;
        Ok((self.collect(&prepared, texts, outs), stats))
    }

    /// The labels of the sentiment head (empty when the run does not use it).
    pub fn sentiment_labels(&self) -> &[String] {
        &self.sentiment_labels
    }

    /// The labels of the stance head (empty when the run does not use it).
    pub fn stance_labels(&self) -> &[String] {
        &self.stance_labels
    }
}
