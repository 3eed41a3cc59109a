//! The model phases of a group of articles, in the order they run. Each has one signature
//! ([`Phase`]): it runs only when its model is loaded, over every article of the group batched
//! by length, and reads and writes the articles' state ([`Work`]).

use newsmill_model::{gather_batches, plan_groups, BatchStats, JointItem};
use newsmill_text::Span;

use crate::joint::{JointModels, JointText};
use crate::models::{no_models, predict, run_plan, Models};
use crate::options::AnnotateOptions;
use crate::state::{GroupStats, Work};
use crate::PipelineError;

/// A model phase over a group's articles.
pub(crate) type Phase =
    fn(&Models, &mut [Work], &AnnotateOptions, &mut GroupStats) -> Result<(), PipelineError>;

/// The phases in the order they run: a phase reads what the ones before it wrote (stance
/// reads the entities).
pub(crate) const PHASES: [Phase; 5] = [ner, joint, sentiment, stance, joint_stance];

/// NER with a single-task checkpoint: windows of every article, then decoding.
fn ner(
    models: &Models,
    work: &mut [Work],
    opts: &AnnotateOptions,
    stats: &mut GroupStats,
) -> Result<(), PipelineError> {
    let Some(ner) = &models.ner else {
        return Ok(());
    };
    let budget = opts.token_budget;
    let t0 = std::time::Instant::now();
    let mut inputs = Vec::new();
    let mut counts = Vec::with_capacity(work.len());
    for w in work.iter_mut() {
        let p = ner.prepare(&w.article.text, &w.sentences, &w.roles)?;
        let mine = ner.inputs(&p);
        counts.push(mine.len());
        inputs.extend(mine);
        w.prepared = Some(p);
    }
    stats.prepare_seconds += t0.elapsed().as_secs_f64();
    let (probs, st) = predict(
        |m| m.ner.as_ref().and_then(|n| n.clf.as_ref()),
        &inputs,
        budget,
    )?;
    stats.ner.add(&st);
    let t0 = std::time::Instant::now();
    let mut at = 0;
    for (w, n) in work.iter_mut().zip(counts) {
        if let Some(p) = w.prepared.take() {
            w.entities = ner.decode(&p, &probs[at..at + n]);
        }
        at += n;
    }
    stats.decode_seconds += t0.elapsed().as_secs_f64();
    Ok(())
}

/// The joint checkpoint's one pass: every task it answers.
fn joint(
    models: &Models,
    work: &mut [Work],
    opts: &AnnotateOptions,
    stats: &mut GroupStats,
) -> Result<(), PipelineError> {
    let Some(jm) = &models.joint else {
        return Ok(());
    };
    let budget = opts.token_budget;
    let st = run_joint(jm, |m| m.joint.as_ref(), work, budget, stats)?;
    stats.joint.add(&st);
    Ok(())
}

/// Sentence sentiment with a single-task checkpoint.
fn sentiment(
    models: &Models,
    work: &mut [Work],
    opts: &AnnotateOptions,
    stats: &mut GroupStats,
) -> Result<(), PipelineError> {
    let Some(sm) = &models.sentiment else {
        return Ok(());
    };
    let budget = opts.token_budget;
    let t0 = std::time::Instant::now();
    let mut inputs = Vec::new();
    for w in work.iter() {
        for s in &w.sentences {
            inputs.push(sm.sentence_input(s.slice(&w.article.text))?);
        }
    }
    stats.prepare_seconds += t0.elapsed().as_secs_f64();
    let (probs, st) = predict(|m| m.sentiment.as_ref().map(|n| &n.clf), &inputs, budget)?;
    stats.sentiment.add(&st);
    let mut it = probs.iter();
    for w in work.iter_mut() {
        w.sentiments = w
            .sentences
            .iter()
            .map(|_| it.next().map(|p| sm.scored(p)))
            .collect();
    }
    Ok(())
}

/// Stance with a single-task (sentence, mention) pair checkpoint: the entities' (when the
/// stance task runs) and the user targets'.
fn stance(
    models: &Models,
    work: &mut [Work],
    opts: &AnnotateOptions,
    stats: &mut GroupStats,
) -> Result<(), PipelineError> {
    let Some(st_model) = &models.stance else {
        return Ok(());
    };
    let budget = opts.token_budget;
    let t0 = std::time::Instant::now();
    let mut inputs = Vec::new();
    for w in work.iter() {
        let text = &w.article.text;
        let entity_spans = w
            .entities
            .iter()
            .filter(|_| opts.tasks.stance)
            .map(|e| (Span::new(e.start, e.end), e.sentence));
        let target_spans = w.targets.iter().map(|t| (t.span, t.sentence));
        for (span, si) in entity_spans.chain(target_spans) {
            let s = w.sentences[si];
            let target = Span::new(span.start - s.start, span.end - s.start);
            inputs.push(st_model.target_input(s.slice(text), target)?);
        }
    }
    stats.prepare_seconds += t0.elapsed().as_secs_f64();
    let (probs, st) = predict(|m| m.stance.as_ref().map(|n| &n.clf), &inputs, budget)?;
    stats.stance.add(&st);
    let mut it = probs.iter();
    for w in work.iter_mut() {
        if opts.tasks.stance {
            w.stances = w
                .entities
                .iter()
                .map(|_| it.next().map(|p| st_model.scored(p)))
                .collect();
        }
        w.target_stances = w
            .targets
            .iter()
            .map(|_| it.next().map(|p| st_model.scored(p)))
            .collect();
    }
    Ok(())
}

/// A stance-only joint-format checkpoint (the default `stance/`): one more pass over the
/// sentences with something to score.
fn joint_stance(
    models: &Models,
    work: &mut [Work],
    opts: &AnnotateOptions,
    stats: &mut GroupStats,
) -> Result<(), PipelineError> {
    let Some(js) = &models.joint_stance else {
        return Ok(());
    };
    let budget = opts.token_budget;
    let st = run_joint(js, |m| m.joint_stance.as_ref(), work, budget, stats)?;
    stats.stance.add(&st);
    Ok(())
}

/// A joint checkpoint's phase: one encoder pass per sentence for every task it answers (`pick`
/// finds the same checkpoint among a worker's models). Returns the pass's counters.
fn run_joint(
    jm: &JointModels,
    pick: fn(&Models) -> Option<&JointModels>,
    work: &mut [Work],
    budget: usize,
    stats: &mut GroupStats,
) -> Result<BatchStats, PipelineError> {
    let (results, pass) = {
        let t0 = std::time::Instant::now();
        let texts: Vec<JointText> = work
            .iter()
            .map(|w| JointText {
                text: &w.article.text,
                sentences: &w.sentences,
                roles: &w.roles,
                entities: &w.entities,
                targets: w.targets.iter().map(|t| (t.span, t.sentence)).collect(),
                words: None,
            })
            .collect();
        let prepared = jm.prepare(&texts)?;
        let shapes: Vec<(usize, usize)> = prepared.items.iter().map(JointItem::shape).collect();
        let plan = plan_groups(&shapes, budget);
        stats.prepare_seconds += t0.elapsed().as_secs_f64();
        let results = run_plan(&plan, |m, members| {
            pick(m)
                .ok_or_else(no_models)?
                .run_batch(&prepared, &texts, members)
        });
        let (outs, st) = gather_batches(prepared.items.len(), &plan, results)?;
        (jm.collect(&prepared, &texts, outs), st)
    };
    for (w, r) in work.iter_mut().zip(results) {
        if jm.uses.ner {
            w.entities = r.entities;
        }
        if jm.uses.sentiment {
            w.sentiments = r.sentiments;
        }
        if jm.uses.stance {
            if jm.uses.entity_stance {
                w.stances = r.stances;
            }
            w.target_stances = r.target_stances;
        }
    }
    Ok(pass)
}
