//! Annotation of a group of articles by one worker: every model runs once per group, over the
//! sentences, windows and targets of all its articles batched together by length.

use newsmill_stance::find_targets;
use newsmill_text::{page_roles, segment, Repeated, Span};

use newsmill_schema::ErrorKind;

use crate::input::{BadRecord, Item};
use crate::models::Models;
use crate::options::AnnotateOptions;
use crate::phases::PHASES;
use crate::render::{error_line, render};
use crate::state::{Failure, GroupStats, TargetMatch, Work};

/// The message of a caught panic.
fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "internal error".into())
}

/// Runs one stage of one article; a panic in it becomes that article's failure (an `internal`
/// error record) instead of ending the run: every stage of an article runs under such a guard
/// (segmentation and roles, target matching, the models, rendering).
fn guarded<T>(stage: &str, f: impl FnOnce() -> T) -> Result<T, Failure> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|p| Failure {
        kind: ErrorKind::Internal,
        message: format!(
            "internal error while {stage} (please report it): {}",
            panic_message(&*p)
        ),
    })
}

/// A test hook: panics in `stage` for a text holding `\u{0}panic:STAGE`, so the guards can be
/// tested (compiled into tests only).
#[cfg(test)]
fn injected_panic(stage: &str, text: &str) {
    if text.contains(&format!("\u{0}panic:{stage}")) {
        panic!("injected panic in {stage}");
    }
}

#[cfg(not(test))]
#[inline(always)]
fn injected_panic(_stage: &str, _text: &str) {}

/// Annotates a group of items and returns their output lines in input order.
pub fn annotate_group(
    models: &Models,
    items: Vec<Item>,
    opts: &AnnotateOptions,
) -> (Vec<String>, GroupStats) {
    let mut stats = GroupStats::default();
    let mut slots: Vec<Result<usize, BadRecord>> = Vec::with_capacity(items.len());
    let mut work: Vec<Work> = Vec::new();
    // short lines several articles of this job share are furniture (jobs are cut by the
    // reader: the same for any number of workers, and on --resume)
    let t0 = std::time::Instant::now();
    let texts = || {
        items
            .iter()
            .filter_map(|i| i.as_ref().ok())
            .map(|a| a.text.as_str())
    };
    // a panic here would lose the job's shared-line counts only, not its articles
    let repeated = guarded("counting shared lines", || Repeated::count(texts()))
        .unwrap_or_else(|_| Repeated::count(std::iter::empty()));
    stats.prepare_seconds += t0.elapsed().as_secs_f64();
    for item in items {
        match item {
            Ok(article) => {
                let t0 = std::time::Instant::now();
                let prepared = guarded("segmenting", || {
                    injected_panic("segment", &article.text);
                    let sentences = segment(&article.text);
                    let roles = page_roles(
                        &article.text,
                        &sentences,
                        article.title.as_deref(),
                        &repeated,
                    );
                    let targets = match_targets(&article.text, &sentences, &opts.targets);
                    (sentences, roles, targets)
                });
                stats.prepare_seconds += t0.elapsed().as_secs_f64();
                match prepared {
                    Ok((sentences, roles, targets)) => {
                        slots.push(Ok(work.len()));
                        work.push(Work {
                            article,
                            sentences,
                            roles,
                            prepared: None,
                            entities: Vec::new(),
                            targets,
                            sentiments: Vec::new(),
                            stances: Vec::new(),
                            target_stances: Vec::new(),
                            failed: None,
                        });
                    }
                    Err(Failure { kind, message }) => slots.push(Err(BadRecord {
                        seq: article.seq,
                        id: Some(article.id),
                        record: article.record,
                        kind,
                        message,
                    })),
                }
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
                let rendered = match w.failed.take() {
                    Some(f) => Err(f),
                    None => guarded("rendering", || {
                        injected_panic("render", &w.article.text);
                        render(w, opts, &identities)
                    }),
                };
                match rendered {
                    Ok(line) => {
                        stats.articles += 1;
                        stats.warnings += w.article.warnings.len();
                        stats.entities += w.entities.len();
                        lines.push(line);
                    }
                    Err(Failure { kind, message }) => {
                        stats.errors += 1;
                        lines.push(error_line(&BadRecord {
                            seq: w.article.seq,
                            id: Some(w.article.id.clone()),
                            record: w.article.record.clone(),
                            kind,
                            message,
                        }));
                    }
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
        for w in work.iter() {
            injected_panic("models", &w.article.text);
        }
        let mut s = GroupStats::default();
        PHASES
            .iter()
            .try_for_each(|phase| phase(models, work, opts, &mut s))
            .map(|_| s)
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
        Ok(Err(e)) => {
            work[0].failed = Some(Failure {
                kind: ErrorKind::Model,
                message: crate::error_chain(&e),
            })
        }
        Err(p) => {
            work[0].failed = Some(Failure {
                kind: ErrorKind::Internal,
                message: panic_message(&*p),
            });
        }
    }
}

/// Matches of the user targets, each inside one sentence (a match that crosses a sentence
/// boundary is not scored), in text order.
fn match_targets(text: &str, sentences: &[Span], targets: &[String]) -> Vec<TargetMatch> {
    let mut out = Vec::new();
    for (target, t) in targets.iter().enumerate() {
        for span in find_targets(text, t) {
            let sentence = sentences.partition_point(|s| s.end <= span.start);
            if let Some(s) = sentences.get(sentence) {
                if s.start <= span.start && span.end <= s.end {
                    out.push(TargetMatch {
                        span,
                        sentence,
                        target,
                    });
                }
            }
        }
    }
    out.sort_by_key(|m| (m.span.start, m.target));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::Article;

    fn article(seq: u64, text: &str) -> Item {
        Ok(Article {
            seq,
            id: format!("a{seq}"),
            title: None,
            text: text.into(),
            record: format!("line {}", seq + 1),
            warnings: Vec::new(),
        })
    }

    /// A panic in any stage of one article becomes its `internal` error record; the other
    /// articles of the job are annotated as usual.
    #[test]
    fn a_panic_in_any_stage_is_one_error_record() {
        let models = Models {
            ner: None,
            sentiment: None,
            stance: None,
            joint: None,
            joint_stance: None,
        };
        let opts = AnnotateOptions {
            targets: vec!["visit".into()],
            ..AnnotateOptions::default()
        };
        for stage in ["segment", "models", "render"] {
            let items = vec![
                article(0, "The visit began. It ended."),
                article(1, &format!("A visit.\u{0}panic:{stage}")),
                article(2, "Another visit."),
            ];
            let (lines, stats) = annotate_group(&models, items, &opts);
            assert_eq!(lines.len(), 3, "{stage}");
            let recs: Vec<serde_json::Value> = lines
                .iter()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            assert_eq!(recs[1]["error"]["kind"], "internal", "{stage}");
            let msg = recs[1]["error"]["message"].as_str().unwrap();
            assert!(msg.contains("injected panic"), "{stage}: {msg}");
            for i in [0, 2] {
                assert!(recs[i].get("error").is_none(), "{stage}: {}", lines[i]);
                assert_eq!(recs[i]["id"], format!("a{i}"));
            }
            assert_eq!((stats.articles, stats.errors), (2, 1), "{stage}");
        }
    }

    /// The same through the engine with the models of a tiny joint checkpoint
    /// (newsmill-testkit): the guard holds around the real model phase, and the other
    /// articles' records keep every output invariant.
    #[test]
    fn a_panic_beside_real_models_is_one_error_record() {
        let opts = AnnotateOptions {
            targets: vec!["visit".into()],
            ..AnnotateOptions::default()
        };
        let paths = crate::ModelPaths {
            joint: Some(newsmill_testkit::tiny_joint().join("joint")),
            ..crate::ModelPaths::default()
        };
        let plan = crate::ModelPlan::resolve(&paths, &opts).unwrap();
        let workers = crate::EngineOptions {
            workers: 2,
            ..crate::EngineOptions::default()
        };
        let engine = crate::Engine::start(&plan, &opts, &workers).unwrap();
        let never = std::sync::atomic::AtomicBool::new(false);
        for stage in ["segment", "models", "render"] {
            let items = vec![
                article(0, "Putin met Kim in Moscow. The visit was good."),
                article(1, &format!("A visit.\u{0}panic:{stage}")),
                article(2, "North Korea said the visit was bad."),
            ];
            let mut out = Vec::new();
            let summary = engine
                .run(Box::new(items.into_iter()), &mut out, &|_| {}, &never)
                .unwrap();
            let text = String::from_utf8(out).unwrap();
            let s = &summary.stats;
            assert_eq!((s.articles, s.errors), (2, 1), "{stage}: {text}");
            let recs: Vec<serde_json::Value> = text
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            assert_eq!(recs[1]["error"]["kind"], "internal", "{stage}");
            for i in [0, 2] {
                assert!(recs[i].get("error").is_none(), "{stage}: {}", recs[i]);
                newsmill_testkit::check_record(&recs[i]);
                assert_eq!(recs[i]["sentences"].as_array().unwrap().len(), 2 - i / 2);
            }
        }
    }
}
