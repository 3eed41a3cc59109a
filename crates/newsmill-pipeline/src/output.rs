//! The output records, one JSON object per line. Documented in docs/output.md; all offsets are
//! character (Unicode code point) offsets into `text`, end exclusive.

use std::collections::BTreeMap;

use newsmill_stance::{group_actors, mean_stance, Actor, Mention, Scored};
use newsmill_text::{CharIndex, Role};
use serde::{Deserialize, Serialize};

use crate::annotate::Work;
use crate::input::BadRecord;
use crate::options::AnnotateOptions;

/// Bumped whenever the output changes shape.
pub const SCHEMA_VERSION: &str = "2.0";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ArticleOut {
    pub schema_version: String,
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub text: Option<String>,
    /// Length of the text in characters.
    pub chars: usize,
    pub sentences: Vec<SentenceOut>,
    pub entities: Vec<EntityOut>,
    /// Matches of the user's `--target` phrases.
    pub targets: Vec<TargetOut>,
    pub actors: Vec<ActorOut>,
    pub summary: SummaryOut,
    /// The model that answered each task (`folder@content hash`; a joint checkpoint answers
    /// several).
    pub models: ModelsOut,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub warnings: Vec<String>,
}

/// Which model produced each part of a record: [`newsmill_model::model_identity`] strings.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ModelsOut {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub ner: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub sentiment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub stance: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TargetOut {
    /// The matched text as it stands in `text`.
    pub text: String,
    /// The user's target phrase it matched.
    pub target: String,
    pub start: usize,
    pub end: usize,
    pub sentence: usize,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub stance: Option<Scored>,
    /// Index into `actors`.
    pub actor: usize,
}

/// An actor (newsmill-stance's [`Actor`]) and what its mentions index.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ActorOut {
    /// `entity`: `mention_ids` index `entities`; `target`: they index `targets`.
    pub kind: String,
    #[serde(flatten)]
    pub actor: Actor,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SummaryOut {
    pub sentences: usize,
    /// Sentences whose role is `boilerplate` (0 in records before schema 2.0).
    #[serde(default)]
    pub boilerplate: usize,
    pub entities: usize,
    pub targets: usize,
    pub actors: usize,
    /// Mean sentence sentiment over the title and body sentences (every sentence with
    /// `--keep-boilerplate`); absent when sentiment did not run or no sentence counts.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub tone: Option<ToneOut>,
    /// Up to five entity actors with the most mentions outside boilerplate (ties: earliest
    /// first).
    pub salient: Vec<SalientOut>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ToneOut {
    pub label: String,
    pub score: f32,
    pub mean: BTreeMap<String, f32>,
    /// Sentences per sentiment label.
    pub counts: BTreeMap<String, usize>,
    /// The share of the counted sentences with each label (`counts` / their number).
    #[serde(default)]
    pub proportions: BTreeMap<String, f32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SalientOut {
    pub actor: usize,
    pub name: String,
    pub label: String,
    /// Mentions outside boilerplate sentences.
    pub mentions: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SentenceOut {
    pub start: usize,
    pub end: usize,
    /// `title`, `body` or `boilerplate` (page furniture); body in records before schema 2.0.
    #[serde(default)]
    pub role: Role,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub sentiment: Option<Scored>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EntityOut {
    pub text: String,
    pub label: String,
    pub start: usize,
    pub end: usize,
    pub score: f32,
    /// Index into `sentences`.
    pub sentence: usize,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub stance: Option<Scored>,
    /// Index into `actors`.
    pub actor: usize,
}

/// Written in place of an article that could not be annotated.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ErrorOut {
    pub schema_version: String,
    pub id: Option<String>,
    /// Where the record came from: `line N` or a file path.
    pub record: String,
    pub error: ErrorBody,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ErrorBody {
    pub kind: String,
    pub message: String,
}

// Rendering: one annotated group's results as output lines.

pub(crate) fn error_line(b: &BadRecord) -> String {
    let out = ErrorOut {
        schema_version: SCHEMA_VERSION.into(),
        id: b.id.clone(),
        record: b.record.clone(),
        error: ErrorBody {
            kind: b.kind.into(),
            message: b.message.clone(),
        },
    };
    serde_json::to_string(&out).expect("output records serialize")
}

pub(crate) fn render(w: &Work, opts: &AnnotateOptions, models: &ModelsOut) -> String {
    let text = &w.article.text;
    let ci = CharIndex::new(text);
    let sentences: Vec<SentenceOut> = w
        .sentences
        .iter()
        .enumerate()
        .map(|(i, s)| SentenceOut {
            start: ci.char_of(s.start),
            end: ci.char_of(s.end),
            role: w.roles.get(i).copied().unwrap_or_default(),
            sentiment: w.sentiments.get(i).cloned().flatten(),
        })
        .collect();
    let mut entities: Vec<EntityOut> = w
        .entities
        .iter()
        .enumerate()
        .map(|(i, e)| EntityOut {
            text: text[e.start..e.end].to_string(),
            label: e.label.clone(),
            start: ci.char_of(e.start),
            end: ci.char_of(e.end),
            score: e.score,
            sentence: e.sentence,
            stance: w.stances.get(i).cloned().flatten(),
            actor: 0,
        })
        .collect();
    let mut targets: Vec<TargetOut> = w
        .targets
        .iter()
        .enumerate()
        .map(|(i, &(span, si, ti))| TargetOut {
            text: span.slice(text).to_string(),
            target: opts.targets[ti].clone(),
            start: ci.char_of(span.start),
            end: ci.char_of(span.end),
            sentence: si,
            stance: w.target_stances.get(i).cloned().flatten(),
            actor: 0,
        })
        .collect();
    // which sentences count in the tone, the salient actors and the actors' stance
    let counted: Vec<bool> = sentences
        .iter()
        .map(|s| opts.keep_boilerplate || s.role != Role::Boilerplate)
        .collect();
    let actors = build_actors(&mut entities, &mut targets, &counted);
    let summary = summarize(&sentences, &entities, &targets, &actors, &counted);
    let mut warnings = w.article.warnings.clone();
    if w.sentences.is_empty() {
        warnings.push("empty text: nothing to annotate".into());
    }
    let out = ArticleOut {
        schema_version: SCHEMA_VERSION.into(),
        id: w.article.id.clone(),
        title: w.article.title.clone(),
        text: opts.include_text.then(|| text.clone()),
        chars: ci.char_len(),
        sentences,
        entities,
        targets,
        actors,
        summary,
        models: models.clone(),
        warnings,
    };
    serde_json::to_string(&out).expect("output records serialize")
}

/// Actors of the entities (grouped by newsmill-stance's rules) followed by one actor per user
/// target that matched; sets each mention's `actor`. An actor's stance is the mean over its
/// mentions in `counted` sentences.
fn build_actors(
    entities: &mut [EntityOut],
    targets: &mut [TargetOut],
    counted: &[bool],
) -> Vec<ActorOut> {
    let counts = |s: usize| counted.get(s).copied().unwrap_or(true);
    let mentions: Vec<Mention> = entities
        .iter()
        .map(|e| Mention {
            text: &e.text,
            label: &e.label,
            start: e.start,
            stance: e.stance.as_ref().filter(|_| counts(e.sentence)),
        })
        .collect();
    let (groups, actor_of) = group_actors(&mentions);
    let mut actors: Vec<ActorOut> = groups
        .into_iter()
        .map(|actor| ActorOut {
            kind: "entity".into(),
            actor,
        })
        .collect();
    for (e, a) in entities.iter_mut().zip(actor_of) {
        e.actor = a;
    }
    let mut by_target: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, t) in targets.iter().enumerate() {
        match by_target.iter_mut().find(|(name, _)| *name == t.target) {
            Some((_, v)) => v.push(i),
            None => by_target.push((t.target.clone(), vec![i])),
        }
    }
    for (name, ids) in by_target {
        let (stance, stance_counts) = mean_stance(
            ids.iter()
                .filter(|&&i| counts(targets[i].sentence))
                .filter_map(|&i| targets[i].stance.as_ref()),
        );
        let idx = actors.len();
        for &i in &ids {
            targets[i].actor = idx;
        }
        actors.push(ActorOut {
            kind: "target".into(),
            actor: Actor {
                name,
                label: "TARGET".into(),
                mentions: ids.len(),
                first: targets[ids[0]].start,
                mention_ids: ids,
                stance,
                stance_counts,
            },
        });
    }
    actors
}

/// Counts, the tone (mean sentence sentiment) and the most salient actors (most mentions, then
/// earliest), at most five — over the `counted` sentences.
fn summarize(
    sentences: &[SentenceOut],
    entities: &[EntityOut],
    targets: &[TargetOut],
    actors: &[ActorOut],
    counted: &[bool],
) -> SummaryOut {
    let (tone, counts) = mean_stance(
        sentences
            .iter()
            .zip(counted)
            .filter(|(_, &c)| c)
            .filter_map(|(s, _)| s.sentiment.as_ref()),
    );
    // every label of the head, 0 for those no sentence has
    let scored: usize = counts.values().sum();
    let proportions: BTreeMap<String, f32> = tone
        .iter()
        .flat_map(|t| t.probs.keys())
        .map(|l| {
            let n = counts.get(l).copied().unwrap_or(0);
            (l.clone(), n as f32 / scored.max(1) as f32)
        })
        .collect();
    // salience: mentions in counted sentences
    let salient_mentions = |a: &ActorOut| {
        a.actor
            .mention_ids
            .iter()
            .filter(|&&m| counted.get(entities[m].sentence).copied().unwrap_or(true))
            .count()
    };
    let mut order: Vec<(usize, usize)> = (0..actors.len())
        .filter(|&i| actors[i].kind == "entity")
        .map(|i| (i, salient_mentions(&actors[i])))
        .filter(|&(_, n)| n > 0)
        .collect();
    order.sort_by_key(|&(i, n)| (std::cmp::Reverse(n), actors[i].actor.first));
    order.truncate(5);
    SummaryOut {
        sentences: sentences.len(),
        boilerplate: sentences
            .iter()
            .filter(|s| s.role == Role::Boilerplate)
            .count(),
        entities: entities.len(),
        targets: targets.len(),
        actors: actors.len(),
        tone: tone.map(|t| ToneOut {
            label: t.label,
            score: t.score,
            mean: t.probs,
            counts,
            proportions,
        }),
        salient: order
            .into_iter()
            .map(|(i, n)| SalientOut {
                actor: i,
                name: actors[i].actor.name.clone(),
                label: actors[i].actor.label.clone(),
                mentions: n,
            })
            .collect(),
    }
}
