//! Annotation of a group of articles by one worker: every model runs once per group, over the
//! sentences, windows and targets of all its articles batched together by length.

use std::path::PathBuf;

use std::cell::OnceCell;

use newsmill_model::{
    gather_batches, plan_batches, plan_groups, BatchStats, Classifier, JointItem, ModelError,
};
use newsmill_ner::{Entity, NerModel, NerOptions, PreparedText};
use newsmill_stance::{
    find_targets, group_actors, mean_stance, Actor, Mention, Scored, SequenceModel,
};
use newsmill_text::{segment, CharIndex, Span};
use rayon::prelude::*;

use crate::input::{Article, BadRecord, Item};
use crate::joint::{JointModels, JointText, JointUses};
use crate::output::{
    ActorOut, ArticleOut, EntityOut, ErrorBody, ErrorOut, ModelsOut, SalientOut, SentenceOut,
    SummaryOut, TargetOut, ToneOut, SCHEMA_VERSION,
};
use crate::PipelineError;

/// Which models run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tasks {
    pub ner: bool,
    pub sentiment: bool,
    pub stance: bool,
}

impl Default for Tasks {
    fn default() -> Self {
        Tasks {
            ner: true,
            sentiment: true,
            stance: true,
        }
    }
}

impl Tasks {
    /// Parses `ner,sentiment,stance` (any subset). Stance needs entities, so it implies NER.
    pub fn parse(s: &str) -> Result<Tasks, String> {
        let mut t = Tasks {
            ner: false,
            sentiment: false,
            stance: false,
        };
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part {
                "ner" => t.ner = true,
                "sentiment" => t.sentiment = true,
                "stance" => t.stance = true,
                other => {
                    return Err(format!(
                        "unknown task `{other}` (known: ner, sentiment, stance)"
                    ))
                }
            }
        }
        if t.stance {
            t.ner = true;
        }
        if !(t.ner || t.sentiment) {
            return Err("no task selected".into());
        }
        Ok(t)
    }
}

/// Model folders: a joint checkpoint that answers every task it is not overridden for, and
/// single-task checkpoints for the tasks that have one.
#[derive(Debug, Clone, Default)]
pub struct ModelPaths {
    pub joint: Option<PathBuf>,
    pub ner: Option<PathBuf>,
    pub sentiment: Option<PathBuf>,
    pub stance: Option<PathBuf>,
}

/// Options of annotation that do not depend on the models.
#[derive(Debug, Clone)]
pub struct AnnotateOptions {
    pub tasks: Tasks,
    pub ner: NerOptions,
    /// Padded tokens per model batch.
    pub token_budget: usize,
    /// Copy the text into the output.
    pub include_text: bool,
    /// User targets: case-insensitive whole-word matches are scored for stance.
    pub targets: Vec<String>,
}

impl Default for AnnotateOptions {
    fn default() -> Self {
        AnnotateOptions {
            tasks: Tasks::default(),
            ner: NerOptions::default(),
            token_budget: 512,
            include_text: true,
            targets: Vec::new(),
        }
    }
}

/// The models one worker owns.
pub struct Models {
    pub ner: Option<NerModel>,
    pub sentiment: Option<SequenceModel>,
    pub stance: Option<SequenceModel>,
    pub joint: Option<JointModels>,
}

fn need<'a>(p: &'a Option<PathBuf>, task: &str) -> Result<&'a PathBuf, PipelineError> {
    p.as_ref()
        .ok_or_else(|| PipelineError::NoModel(task.to_string()))
}

impl Models {
    /// Loads the models the tasks need: a task's own checkpoint when it has one, otherwise the
    /// joint checkpoint. Any problem with a model folder is an error here, before any article
    /// is read.
    pub fn load(paths: &ModelPaths, opts: &AnnotateOptions) -> Result<Models, PipelineError> {
        Self::load_sharing(paths, opts, None)
    }

    /// The models of another worker: the joint checkpoint's weights are `self`'s (one copy in
    /// memory whatever the number of workers, see `JointModel::share`); single-task checkpoints
    /// are loaded again (each worker owns its copy).
    pub fn for_another_worker(
        &self,
        paths: &ModelPaths,
        opts: &AnnotateOptions,
    ) -> Result<Models, PipelineError> {
        match &self.joint {
            Some(j) => Self::load_sharing(paths, opts, Some(j.share()?)),
            _ => Self::load(paths, opts),
        }
    }

    fn load_sharing(
        paths: &ModelPaths,
        opts: &AnnotateOptions,
        shared: Option<JointModels>,
    ) -> Result<Models, PipelineError> {
        let t = opts.tasks;
        let compute = opts.ner.compute;
        let wants_stance = t.stance || !opts.targets.is_empty();
        let from_joint =
            |own: &Option<PathBuf>, wanted: bool| wanted && own.is_none() && paths.joint.is_some();
        let uses = JointUses {
            ner: from_joint(&paths.ner, t.ner),
            sentiment: from_joint(&paths.sentiment, t.sentiment),
            stance: from_joint(&paths.stance, wants_stance),
            entity_stance: t.stance,
        };
        let joint = match &paths.joint {
            Some(_) if shared.is_some() => shared,
            Some(dir) if uses.ner || uses.sentiment || uses.stance => {
                Some(JointModels::load(dir, opts.ner, uses)?)
            }
            _ => None,
        };
        Ok(Models {
            ner: if t.ner && !uses.ner {
                Some(NerModel::load(need(&paths.ner, "ner")?, opts.ner)?)
            } else {
                None
            },
            sentiment: if t.sentiment && !uses.sentiment {
                Some(SequenceModel::load(
                    need(&paths.sentiment, "sentiment")?,
                    compute,
                )?)
            } else {
                None
            },
            stance: if wants_stance && !uses.stance {
                Some(SequenceModel::load(
                    need(&paths.stance, "stance")?,
                    compute,
                )?)
            } else {
                None
            },
            joint,
        })
    }
}

impl Models {
    /// The identity of the model that answers each task.
    pub fn identities(&self) -> ModelsOut {
        let joint = |used: bool| {
            self.joint
                .as_ref()
                .filter(|_| used)
                .map(|j| j.model.identity.clone())
        };
        let uses = self.joint.as_ref().map(|j| j.uses).unwrap_or_default();
        ModelsOut {
            ner: self
                .ner
                .as_ref()
                .and_then(|n| n.clf.as_ref().map(|c| c.identity.clone()))
                .or_else(|| joint(uses.ner)),
            sentiment: self
                .sentiment
                .as_ref()
                .map(|m| m.clf.identity.clone())
                .or_else(|| joint(uses.sentiment)),
            stance: self
                .stance
                .as_ref()
                .map(|m| m.clf.identity.clone())
                .or_else(|| joint(uses.stance)),
        }
    }
}

thread_local! {
    /// The models of the engine's worker thread this runs on (installed once per thread).
    static WORKER_MODELS: OnceCell<Models> = const { OnceCell::new() };
}

/// Gives the calling thread its own models; `false` if it already has some.
pub(crate) fn install_worker_models(models: Models) -> bool {
    WORKER_MODELS.with(|cell| cell.set(models).is_ok())
}

/// Runs `f` with the calling thread's installed models.
pub(crate) fn with_worker_models<R>(f: impl FnOnce(Option<&Models>) -> R) -> R {
    WORKER_MODELS.with(|cell| f(cell.get()))
}

/// Which of a worker's models runs a phase.
type Pick = fn(&Models) -> Option<&Classifier>;

/// One batch's values (one per member) and counters.
type BatchResult<T> = Result<(Vec<T>, BatchStats), ModelError>;

fn no_models() -> ModelError {
    ModelError::Forward("worker thread without models".into())
}

/// Runs every batch of `plan` with `run`, spread over the current rayon pool: each batch on
/// whichever worker is free, with that thread's installed models, so a worker that runs out of
/// jobs helps with another job's batches (results do not depend on which worker ran a batch).
/// Returns the results in plan order.
fn run_plan<T: Send>(
    plan: &[Vec<usize>],
    run: impl Fn(&Models, &[usize]) -> BatchResult<T> + Sync,
) -> Vec<BatchResult<T>> {
    plan.par_iter()
        .with_max_len(1)
        .map(|m| with_worker_models(|wm| wm.map_or_else(|| Err(no_models()), |wm| run(wm, m))))
        .collect()
}

/// Runs `items` through the model `pick` selects, batched by length under `budget`; returns
/// probabilities in input order.
fn predict(
    pick: Pick,
    items: &[(Vec<u32>, Vec<u32>)],
    budget: usize,
) -> Result<(Vec<Vec<f32>>, BatchStats), PipelineError> {
    let lengths: Vec<usize> = items.iter().map(|i| i.0.len()).collect();
    let plan = plan_batches(&lengths, budget);
    let results = run_plan(&plan, |m, members| {
        pick(m).ok_or_else(no_models)?.run_batch(items, members)
    });
    Ok(gather_batches(items.len(), &plan, results)?)
}

/// Counters of one group's work. Times are summed over workers (busy seconds).
#[derive(Debug, Clone, Copy, Default)]
pub struct GroupStats {
    pub articles: usize,
    pub errors: usize,
    pub warnings: usize,
    /// Entity mentions found.
    pub entities: usize,
    pub ner: BatchStats,
    pub sentiment: BatchStats,
    pub stance: BatchStats,
    /// The joint checkpoint's one pass (its token decoding included).
    pub joint: BatchStats,
    /// Segmentation, word splitting, wordpiece encoding, windowing.
    pub prepare_seconds: f64,
    /// NER decoding.
    pub decode_seconds: f64,
    /// Actors, summary and JSON rendering.
    pub render_seconds: f64,
}

impl GroupStats {
    /// Seconds some worker spent on this group: the stages and the forward passes.
    pub fn busy_seconds(&self) -> f64 {
        self.prepare_seconds
            + self.decode_seconds
            + self.render_seconds
            + self.ner.forward_seconds
            + self.sentiment.forward_seconds
            + self.stance.forward_seconds
            + self.joint.forward_seconds
    }

    pub fn add(&mut self, o: &GroupStats) {
        self.articles += o.articles;
        self.errors += o.errors;
        self.warnings += o.warnings;
        self.entities += o.entities;
        self.prepare_seconds += o.prepare_seconds;
        self.decode_seconds += o.decode_seconds;
        self.render_seconds += o.render_seconds;
        self.ner.add(&o.ner);
        self.sentiment.add(&o.sentiment);
        self.stance.add(&o.stance);
        self.joint.add(&o.joint);
    }
}

struct Work {
    article: Article,
    sentences: Vec<Span>,
    prepared: Option<PreparedText>,
    entities: Vec<Entity>,
    /// User target matches: (byte span, sentence index, index into `opts.targets`).
    targets: Vec<(Span, usize, usize)>,
    sentiments: Vec<Option<Scored>>,
    stances: Vec<Option<Scored>>,
    target_stances: Vec<Option<Scored>>,
    failed: Option<(&'static str, String)>,
}

fn error_line(b: &BadRecord) -> String {
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

/// Annotates a group of items and returns their output lines in input order.
pub fn annotate_group(
    models: &Models,
    items: Vec<Item>,
    opts: &AnnotateOptions,
) -> (Vec<String>, GroupStats) {
    let mut stats = GroupStats::default();
    let mut slots: Vec<Result<usize, BadRecord>> = Vec::with_capacity(items.len());
    let mut work: Vec<Work> = Vec::new();
    for item in items {
        match item {
            Ok(article) => {
                slots.push(Ok(work.len()));
                let t0 = std::time::Instant::now();
                let sentences = segment(&article.text);
                stats.prepare_seconds += t0.elapsed().as_secs_f64();
                let targets = match_targets(&article.text, &sentences, &opts.targets);
                work.push(Work {
                    article,
                    sentences,
                    prepared: None,
                    entities: Vec::new(),
                    targets,
                    sentiments: Vec::new(),
                    stances: Vec::new(),
                    target_stances: Vec::new(),
                    failed: None,
                });
            }
            Err(b) => slots.push(Err(b)),
        }
    }
    run_models(models, &mut work, opts, &mut stats);
    let t_render = std::time::Instant::now();
    let identities = models.identities();
    let mut lines = Vec::with_capacity(slots.len());
    for slot in slots {
        match slot {
            Err(b) => {
                stats.errors += 1;
                lines.push(error_line(&b));
            }
            Ok(i) => {
                let w = &mut work[i];
                if let Some((kind, message)) = w.failed.take() {
                    stats.errors += 1;
                    lines.push(error_line(&BadRecord {
                        seq: w.article.seq,
                        id: Some(w.article.id.clone()),
                        record: w.article.record.clone(),
                        kind,
                        message,
                    }));
                } else {
                    stats.articles += 1;
                    stats.warnings += w.article.warnings.len();
                    stats.entities += w.entities.len();
                    lines.push(render(w, opts, &identities));
                }
            }
        }
    }
    stats.render_seconds += t_render.elapsed().as_secs_f64();
    (lines, stats)
}

/// Runs every model over the whole group; if a batched call fails, the articles are retried
/// one by one so that only the article at fault becomes an error record.
fn run_models(models: &Models, work: &mut [Work], opts: &AnnotateOptions, stats: &mut GroupStats) {
    if work.is_empty() {
        return;
    }
    let group = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut s = GroupStats::default();
        run_models_batched(models, work, opts, &mut s).map(|_| s)
    }));
    match group {
        Ok(Ok(s)) => stats.add(&s),
        _ if work.len() > 1 => {
            for w in work.iter_mut() {
                w.entities.clear();
                w.sentiments.clear();
                w.stances.clear();
                w.target_stances.clear();
                w.prepared = None;
                run_models(models, std::slice::from_mut(w), opts, stats);
            }
        }
        Ok(Err(e)) => work[0].failed = Some(("model", e.to_string())),
        Err(p) => {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "internal error".into());
            work[0].failed = Some(("internal", msg));
        }
    }
}

fn run_models_batched(
    models: &Models,
    work: &mut [Work],
    opts: &AnnotateOptions,
    stats: &mut GroupStats,
) -> Result<(), PipelineError> {
    let budget = opts.token_budget;
    if let Some(ner) = &models.ner {
        let t0 = std::time::Instant::now();
        let mut inputs = Vec::new();
        let mut counts = Vec::with_capacity(work.len());
        for w in work.iter_mut() {
            let p = ner.prepare(&w.article.text, &w.sentences)?;
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
    }
    if let Some(jm) = &models.joint {
        run_joint(jm, work, budget, stats)?;
    }
    if let Some(sm) = &models.sentiment {
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
    }
    if let Some(st_model) = &models.stance {
        let t0 = std::time::Instant::now();
        let mut inputs = Vec::new();
        for w in work.iter() {
            let text = &w.article.text;
            let entity_spans = w
                .entities
                .iter()
                .filter(|_| opts.tasks.stance)
                .map(|e| (Span::new(e.start, e.end), e.sentence));
            let target_spans = w.targets.iter().map(|&(span, s, _)| (span, s));
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
    }
    Ok(())
}

/// The joint checkpoint's phase: one encoder pass per sentence for every task it answers.
fn run_joint(
    jm: &JointModels,
    work: &mut [Work],
    budget: usize,
    stats: &mut GroupStats,
) -> Result<(), PipelineError> {
    let results = {
        let t0 = std::time::Instant::now();
        let texts: Vec<JointText> = work
            .iter()
            .map(|w| JointText {
                text: &w.article.text,
                sentences: &w.sentences,
                entities: &w.entities,
                targets: w.targets.iter().map(|&(span, s, _)| (span, s)).collect(),
                words: None,
            })
            .collect();
        let prepared = jm.prepare(&texts)?;
        let shapes: Vec<(usize, usize)> = prepared.items.iter().map(JointItem::shape).collect();
        let plan = plan_groups(&shapes, budget);
        stats.prepare_seconds += t0.elapsed().as_secs_f64();
        let results = run_plan(&plan, |m, members| {
            m.joint
                .as_ref()
                .ok_or_else(no_models)?
                .run_batch(&prepared, &texts, members)
        });
        let (outs, st) = gather_batches(prepared.items.len(), &plan, results)?;
        stats.joint.add(&st);
        jm.collect(&prepared, &texts, outs)
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
    Ok(())
}

/// Matches of the user targets, each inside one sentence (a match that crosses a sentence
/// boundary is not scored), in text order.
fn match_targets(text: &str, sentences: &[Span], targets: &[String]) -> Vec<(Span, usize, usize)> {
    let mut out = Vec::new();
    for (ti, t) in targets.iter().enumerate() {
        for span in find_targets(text, t) {
            let si = sentences.partition_point(|s| s.end <= span.start);
            if let Some(s) = sentences.get(si) {
                if s.start <= span.start && span.end <= s.end {
                    out.push((span, si, ti));
                }
            }
        }
    }
    out.sort_by_key(|&(span, _, ti)| (span.start, ti));
    out
}

fn render(w: &Work, opts: &AnnotateOptions, models: &ModelsOut) -> String {
    let text = &w.article.text;
    let ci = CharIndex::new(text);
    let sentences: Vec<SentenceOut> = w
        .sentences
        .iter()
        .enumerate()
        .map(|(i, s)| SentenceOut {
            start: ci.char_of(s.start),
            end: ci.char_of(s.end),
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
    let actors = build_actors(&mut entities, &mut targets);
    let summary = summarize(&sentences, &entities, &targets, &actors);
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
/// target that matched; sets each mention's `actor`.
fn build_actors(entities: &mut [EntityOut], targets: &mut [TargetOut]) -> Vec<ActorOut> {
    let mentions: Vec<Mention> = entities
        .iter()
        .map(|e| Mention {
            text: &e.text,
            label: &e.label,
            start: e.start,
            stance: e.stance.as_ref(),
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
        let (stance, stance_counts) =
            mean_stance(ids.iter().filter_map(|&i| targets[i].stance.as_ref()));
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
/// earliest), at most five.
fn summarize(
    sentences: &[SentenceOut],
    entities: &[EntityOut],
    targets: &[TargetOut],
    actors: &[ActorOut],
) -> SummaryOut {
    let (tone, counts) = mean_stance(sentences.iter().filter_map(|s| s.sentiment.as_ref()));
    let mut order: Vec<usize> = (0..actors.len())
        .filter(|&i| actors[i].kind == "entity")
        .collect();
    order.sort_by_key(|&i| {
        (
            std::cmp::Reverse(actors[i].actor.mentions),
            actors[i].actor.first,
        )
    });
    order.truncate(5);
    SummaryOut {
        sentences: sentences.len(),
        entities: entities.len(),
        targets: targets.len(),
        actors: actors.len(),
        tone: tone.map(|t| ToneOut {
            label: t.label,
            score: t.score,
            mean: t.probs,
            counts,
        }),
        salient: order
            .into_iter()
            .map(|i| SalientOut {
                actor: i,
                name: actors[i].actor.name.clone(),
                label: actors[i].actor.label.clone(),
                mentions: actors[i].actor.mentions,
            })
            .collect(),
    }
}
