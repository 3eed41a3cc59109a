//! Rendering of the output records (their types: newsmill-schema), one JSON object per line.
//! Documented in docs/output.md; all offsets are character (Unicode code point) offsets into
//! `text`, end exclusive.

use std::collections::BTreeMap;

use newsmill_stance::{group_actors, mean_stance, Actor, Mention};
use newsmill_text::{CharIndex, Role};

use crate::input::BadRecord;
use crate::options::AnnotateOptions;
use crate::state::Work;

use newsmill_schema::{
    ActorOut, ArticleOut, EntityOut, ErrorBody, ErrorOut, ModelsOut, SalientOut, SentenceOut,
    SummaryOut, TargetOut, ToneOut, SCHEMA_VERSION,
};

pub(crate) fn error_line(b: &BadRecord) -> String {
    let out = ErrorOut {
        schema_version: SCHEMA_VERSION.into(),
        id: b.id.clone(),
        record: b.record.clone(),
        error: ErrorBody {
            kind: b.kind,
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
        .map(|(i, m)| TargetOut {
            text: m.span.slice(text).to_string(),
            target: opts.targets[m.target].clone(),
            start: ci.char_of(m.span.start),
            end: ci.char_of(m.span.end),
            sentence: m.sentence,
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
