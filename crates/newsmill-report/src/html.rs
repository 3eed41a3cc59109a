//! The HTML report: one self-contained file (inline CSS and SVG, one small inline script for the
//! filter box, no network). Rendered by askama (`templates/report.html`), which escapes every
//! value; strings from the input additionally have control and bidirectional-override
//! characters replaced by visible `[U+XXXX]` marks, and a Content-Security-Policy allows only
//! the report's own script (by hash), so even a missed escape could not run injected code.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;

use askama::Template;
use base64::Engine as _;
use newsmill_schema::Scored;
use newsmill_schema::{ArticleOut, ErrorOut};
use sha2::{Digest, Sha256};

use crate::read::{Corpus, Record};
use crate::ReportError;

/// How a report is made.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// At most this many articles get a section of their own (0: all). The overview, the
    /// article list and the error list always cover the whole corpus; the articles left out
    /// are named.
    pub max_articles: usize,
    /// The page title (default: the input's name).
    pub title: Option<String>,
    /// Actors in the overview chart.
    pub top_actors: usize,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            max_articles: 200,
            title: None,
            top_actors: 25,
        }
    }
}

/// What a report holds, for the caller's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportSummary {
    pub articles: usize,
    pub shown: usize,
    pub errors: usize,
    pub unreadable: usize,
}

/// The one script of the page: the filter box. Its hash goes into the CSP.
const SCRIPT: &str = r#"(function(){var q=document.getElementById('q');if(!q)return;q.addEventListener('input',function(){var v=q.value.trim().toLowerCase();var n=0;document.querySelectorAll('[data-search]').forEach(function(e){var hit=v===''||e.getAttribute('data-search').indexOf(v)>=0;e.hidden=!hit;if(hit&&e.tagName==='TR')n++;});var c=document.getElementById('qn');if(c)c.textContent=v===''?'':n+' match';});})();"#;

/// Replaces characters that would change how the surrounding text reads (C0/C1 controls,
/// bidirectional embeddings, overrides and isolates) by a visible `[U+XXXX]`; line breaks and
/// tabs become spaces. For ids, titles, entity strings and messages.
pub fn visible(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' | '\r' | '\t' => out.push(' '),
            c if is_hidden(c) => out.push_str(&format!("[U+{:04X}]", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// The model of each task, `task: folder@hash` (shown as [`visible`]), joined by `sep`.
pub(crate) fn models_text(models: &newsmill_schema::ModelsOut, sep: &str) -> String {
    [
        ("ner", &models.ner),
        ("sentiment", &models.sentiment),
        ("stance", &models.stance),
    ]
    .iter()
    .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}: {}", visible(v))))
    .collect::<Vec<_>>()
    .join(sep)
}

/// Characters rendered as `[U+XXXX]` marks (in article text too, except newline, tab and CR).
pub fn is_hidden(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        | '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn fmt_p(p: f32) -> String {
    if p.is_finite() {
        format!("{p:.2}")
    } else {
        "?".into()
    }
}

/// `negative 0.71 (negative 0.71, neutral 0.20, positive 0.09)`
fn describe(s: &Scored) -> String {
    let probs: Vec<String> = s
        .probs
        .iter()
        .map(|(k, v)| format!("{} {}", visible(k), fmt_p(*v)))
        .collect();
    format!(
        "{} {} ({})",
        visible(&s.label),
        fmt_p(s.score),
        probs.join(", ")
    )
}

/// CSS class suffix for a polarity label: only known names, never input text.
fn polarity(label: &str) -> &'static str {
    match label.to_ascii_lowercase().as_str() {
        "negative" | "neg" => "negative",
        "neutral" | "neu" => "neutral",
        "positive" | "pos" => "positive",
        _ => "other",
    }
}

/// CSS class suffix for an entity label.
fn type_class(label: &str) -> &'static str {
    match label {
        "PER" => "PER",
        "ORG" => "ORG",
        "LOC" => "LOC",
        "MISC" => "MISC",
        _ => "OTHER",
    }
}

const POLARITIES: [&str; 3] = ["negative", "neutral", "positive"];

/// A piece of an article's highlighted text.
pub enum Piece {
    Text(String),
    /// A character shown as `[U+XXXX]`.
    Hidden(String),
    OpenSentence {
        index: usize,
        class: &'static str,
        /// `title`, `body` or `boilerplate`
        role: &'static str,
        hover: String,
    },
    CloseSentence,
    OpenMark {
        kind: &'static str,
        label: String,
        type_class: &'static str,
        stance_class: &'static str,
        start: usize,
        end: usize,
        hover: String,
    },
    CloseMark,
}

pub struct ActorRow {
    pub index: usize,
    pub name: String,
    pub label: String,
    pub kind: String,
    pub mentions: usize,
    pub stance: String,
    pub stance_class: &'static str,
    pub counts: String,
    pub bar: Vec<BarPart>,
}

pub struct TargetRow {
    pub target: String,
    pub text: String,
    pub start: usize,
    pub end: usize,
    pub sentence: usize,
    pub stance: String,
    pub stance_class: &'static str,
}

pub struct ArticleView {
    pub n: usize,
    pub line: usize,
    pub id: String,
    pub title: String,
    pub search: String,
    pub tone: String,
    pub tone_class: &'static str,
    pub counts: String,
    pub models: String,
    pub has_text: bool,
    pub pieces: Vec<Piece>,
    pub actors: Vec<ActorRow>,
    pub targets: Vec<TargetRow>,
    pub warnings: Vec<String>,
    pub notes: Vec<String>,
}

pub struct NavRow {
    pub n: usize,
    pub line: usize,
    pub shown: bool,
    pub id: String,
    pub title: String,
    pub search: String,
    pub tone: String,
    pub tone_class: &'static str,
    pub sentences: usize,
    pub entities: usize,
    pub salient: String,
}

pub struct ProblemRow {
    pub line: usize,
    pub id: String,
    pub kind: String,
    pub message: String,
    pub anchor: Option<usize>,
}

/// One part of a stacked SVG bar (`x`, `w` in pixels).
pub struct BarPart {
    pub x: f32,
    pub w: f32,
    pub class: &'static str,
    pub hover: String,
}

/// One row of an SVG bar chart.
pub struct BarRow {
    pub y: f32,
    pub label: String,
    pub value: String,
    pub parts: Vec<BarPart>,
}

pub struct Chart {
    pub height: f32,
    pub rows: Vec<BarRow>,
}

#[derive(Template)]
#[template(path = "report.html")]
struct Page<'a> {
    title: String,
    source: String,
    csp: String,
    script: &'a str,
    stats: Vec<(&'static str, String)>,
    tone_chart: Chart,
    type_chart: Chart,
    actor_chart: Chart,
    nav: Vec<NavRow>,
    articles: Vec<ArticleView>,
    omitted: usize,
    max_articles: usize,
    errors: Vec<ProblemRow>,
    warnings: Vec<ProblemRow>,
}

const CHART_W: f32 = 300.0;
const ROW_H: f32 = 22.0;

/// A bar of a chart: (value, CSS class, hover text).
type Part = (f64, &'static str, String);

fn chart(rows: Vec<(String, Vec<Part>)>) -> Chart {
    let max = rows
        .iter()
        .map(|(_, parts)| parts.iter().map(|p| p.0).sum::<f64>())
        .fold(0.0f64, f64::max)
        .max(1.0);
    let rows: Vec<BarRow> = rows
        .into_iter()
        .enumerate()
        .map(|(i, (label, parts))| {
            let total: f64 = parts.iter().map(|p| p.0).sum();
            let mut x = 0.0f32;
            let parts = parts
                .into_iter()
                .filter(|p| p.0 > 0.0)
                .map(|(v, class, hover)| {
                    let w = (v / max * CHART_W as f64) as f32;
                    let part = BarPart { x, w, class, hover };
                    x += w;
                    part
                })
                .collect();
            BarRow {
                y: i as f32 * ROW_H,
                label,
                value: format!("{total}"),
                parts,
            }
        })
        .collect();
    Chart {
        height: rows.len() as f32 * ROW_H,
        rows,
    }
}

/// Tone of an article: (text, class).
fn tone_of(a: &ArticleOut) -> (String, &'static str) {
    match &a.summary.tone {
        Some(t) => (
            format!("{} {}", visible(&t.label), fmt_p(t.score)),
            polarity(&t.label),
        ),
        None => ("—".into(), "none"),
    }
}

fn stance_text(s: &Option<Scored>) -> (String, &'static str) {
    match s {
        Some(s) => (describe(s), polarity(&s.label)),
        None => ("—".into(), "none"),
    }
}

/// The highlighted text of an article: sentences (by sentiment) holding entity and target marks.
/// Spans out of range, empty, or overlapping an earlier one are not drawn and get a note.
fn pieces(a: &ArticleOut, notes: &mut Vec<String>) -> Vec<Piece> {
    let Some(text) = &a.text else {
        return Vec::new();
    };
    let chars: Vec<char> = text.chars().collect();
    let n = chars.len();
    const NONE: u32 = u32::MAX;
    let mut sent_of = vec![NONE; n];
    for (i, s) in a.sentences.iter().enumerate() {
        if s.start >= s.end || s.end > n {
            notes.push(format!(
                "sentence {i}: offsets {}..{} outside the text ({n} characters)",
                s.start, s.end
            ));
            continue;
        }
        if sent_of[s.start..s.end].iter().any(|&x| x != NONE) {
            notes.push(format!("sentence {i}: overlaps an earlier sentence"));
            continue;
        }
        sent_of[s.start..s.end].fill(i as u32);
    }
    // marks: entities first, then targets (index = entities.len() + target index)
    let ne = a.entities.len();
    let mut mark_of = vec![NONE; n];
    let spans = a
        .entities
        .iter()
        .map(|e| (e.start, e.end))
        .chain(a.targets.iter().map(|t| (t.start, t.end)));
    for (m, (start, end)) in spans.enumerate() {
        let what = if m < ne {
            format!("entity {m}")
        } else {
            format!("target match {}", m - ne)
        };
        if start >= end || end > n {
            notes.push(format!(
                "{what}: offsets {start}..{end} outside the text ({n} characters); not highlighted"
            ));
            continue;
        }
        if mark_of[start..end].iter().any(|&x| x != NONE) {
            if m < ne {
                notes.push(format!(
                    "{what}: overlaps an earlier entity; not highlighted"
                ));
            }
            continue;
        }
        mark_of[start..end].fill(m as u32);
    }
    let mut out = Vec::new();
    let (mut cur_s, mut cur_m) = (NONE, NONE);
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut Vec<Piece>| {
        if !run.is_empty() {
            out.push(Piece::Text(std::mem::take(run)));
        }
    };
    for i in 0..=n {
        let (s, m) = if i < n {
            (sent_of[i], mark_of[i])
        } else {
            (NONE, NONE)
        };
        if s != cur_s || m != cur_m {
            flush(&mut run, &mut out);
            if cur_m != NONE {
                out.push(Piece::CloseMark);
            }
            if s != cur_s {
                if cur_s != NONE {
                    out.push(Piece::CloseSentence);
                }
                if s != NONE {
                    let sent = &a.sentences[s as usize];
                    let role = sent.role.as_str();
                    let (hover, class) = match &sent.sentiment {
                        Some(sc) => (
                            format!("sentence {s} ({role}): {}", describe(sc)),
                            polarity(&sc.label),
                        ),
                        None => (format!("sentence {s} ({role})"), "none"),
                    };
                    out.push(Piece::OpenSentence {
                        index: s as usize,
                        class,
                        role,
                        hover,
                    });
                }
            }
            if m != NONE {
                out.push(open_mark(a, m as usize, ne));
            }
            cur_s = s;
            cur_m = m;
        }
        if i < n {
            let c = chars[i];
            if is_hidden(c) {
                flush(&mut run, &mut out);
                out.push(Piece::Hidden(format!("[U+{:04X}]", c as u32)));
            } else {
                run.push(c);
            }
        }
    }
    // text after the last sentence and mark, or a text with none
    flush(&mut run, &mut out);
    out
}

fn open_mark(a: &ArticleOut, m: usize, ne: usize) -> Piece {
    let actor_name = |i: usize| {
        a.actors
            .get(i)
            .map(|x| visible(&x.actor.name))
            .unwrap_or_else(|| "?".into())
    };
    if m < ne {
        let e = &a.entities[m];
        let (st, class) = stance_text(&e.stance);
        Piece::OpenMark {
            kind: "entity",
            label: visible(&e.label),
            type_class: type_class(&e.label),
            stance_class: class,
            start: e.start,
            end: e.end,
            hover: format!(
                "{} {} (score {}) · actor {} “{}” · stance {}",
                visible(&e.label),
                visible(&e.text),
                fmt_p(e.score),
                e.actor,
                actor_name(e.actor),
                st
            ),
        }
    } else {
        let t = &a.targets[m - ne];
        let (st, class) = stance_text(&t.stance);
        Piece::OpenMark {
            kind: "target",
            label: "TARGET".into(),
            type_class: "TARGET",
            stance_class: class,
            start: t.start,
            end: t.end,
            hover: format!(
                "target “{}” · actor {} · stance {}",
                visible(&t.target),
                t.actor,
                st
            ),
        }
    }
}

fn stance_bar(counts: &BTreeMap<String, usize>, width: f32) -> Vec<BarPart> {
    let total: usize = counts.values().sum();
    if total == 0 {
        return Vec::new();
    }
    let mut x = 0.0;
    let mut parts = Vec::new();
    for (label, c) in ordered(counts) {
        let w = c as f32 / total as f32 * width;
        parts.push(BarPart {
            x,
            w,
            class: polarity(label),
            hover: format!("{} {c}", visible(label)),
        });
        x += w;
    }
    parts
}

/// negative, neutral, positive first, then any other label by name.
fn ordered<V: Copy>(m: &BTreeMap<String, V>) -> Vec<(&str, V)> {
    let mut v: Vec<(&str, V)> = m.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    v.sort_by_key(|(k, _)| (POLARITIES.iter().position(|p| p == k).unwrap_or(3), *k));
    v
}

fn article_view(n: usize, line: usize, a: &ArticleOut) -> ArticleView {
    let mut notes = Vec::new();
    let pieces = pieces(a, &mut notes);
    let (tone, tone_class) = tone_of(a);
    let actors = a
        .actors
        .iter()
        .enumerate()
        .map(|(i, x)| {
            let (stance, stance_class) = stance_text(&x.actor.stance);
            ActorRow {
                index: i,
                name: visible(&x.actor.name),
                label: visible(&x.actor.label),
                kind: visible(&x.kind),
                mentions: x.actor.mentions,
                stance,
                stance_class,
                counts: ordered(&x.actor.stance_counts)
                    .iter()
                    .map(|(k, v)| format!("{} {v}", visible(k)))
                    .collect::<Vec<_>>()
                    .join(", "),
                bar: stance_bar(&x.actor.stance_counts, 120.0),
            }
        })
        .collect();
    let targets = a
        .targets
        .iter()
        .map(|t| {
            let (stance, stance_class) = stance_text(&t.stance);
            TargetRow {
                target: visible(&t.target),
                text: visible(&t.text),
                start: t.start,
                end: t.end,
                sentence: t.sentence,
                stance,
                stance_class,
            }
        })
        .collect();
    let models = models_text(&a.models, " · ");
    ArticleView {
        n,
        line,
        id: visible(&a.id),
        title: a.title.as_deref().map(visible).unwrap_or_default(),
        search: search_key(a),
        tone,
        tone_class,
        counts: format!(
            "{} characters · {} sentences · {} entities · {} actors · {} target matches",
            a.chars,
            a.sentences.len(),
            a.entities.len(),
            a.actors.len(),
            a.targets.len()
        ),
        models,
        has_text: a.text.is_some(),
        pieces,
        actors,
        targets,
        warnings: a.warnings.iter().map(|w| visible(w)).collect(),
        notes,
    }
}

/// What the filter box matches: id, title and actor names, lower case.
fn search_key(a: &ArticleOut) -> String {
    let mut s = visible(&a.id);
    if let Some(t) = &a.title {
        s.push(' ');
        s.push_str(&visible(t));
    }
    for x in &a.actors {
        s.push(' ');
        s.push_str(&visible(&x.actor.name));
    }
    s.to_lowercase()
}

fn error_row(line: usize, e: &ErrorOut) -> ProblemRow {
    ProblemRow {
        line,
        id: e.id.as_deref().map(visible).unwrap_or_else(|| "—".into()),
        kind: visible(e.error.kind.as_str()),
        message: format!("{} ({})", visible(&e.error.message), visible(&e.record)),
        anchor: None,
    }
}

/// Renders the report of `corpus` into `out`.
pub fn write_report<W: Write>(
    corpus: &Corpus,
    opts: &ReportOptions,
    out: W,
) -> Result<ReportSummary, ReportError> {
    let limit = if opts.max_articles == 0 {
        usize::MAX
    } else {
        opts.max_articles
    };
    let mut nav = Vec::new();
    let mut articles = Vec::new();
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let mut tone_counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut sentence_counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut type_counts: BTreeMap<String, usize> = BTreeMap::new();
    // (name, label) → (mentions, articles, stance counts)
    type ActorKey = (String, String);
    type ActorTotal = (usize, usize, BTreeMap<String, usize>);
    let mut actor_totals: HashMap<ActorKey, ActorTotal> = HashMap::new();
    let (mut n_articles, mut n_sent, mut n_ent, mut n_tgt, mut n_warn, mut n_unreadable) =
        (0, 0, 0, 0, 0, 0);
    for r in &corpus.records {
        match r {
            Record::Article { line, article: a } => {
                let n = n_articles;
                n_articles += 1;
                n_sent += a.sentences.len();
                n_ent += a.entities.len();
                n_tgt += a.targets.len();
                n_warn += a.warnings.len();
                let tone_key = a
                    .summary
                    .tone
                    .as_ref()
                    .map_or("none".to_string(), |t| visible(&t.label));
                *tone_counts.entry(tone_key).or_default() += 1;
                for s in &a.sentences {
                    if let Some(sc) = &s.sentiment {
                        *sentence_counts.entry(visible(&sc.label)).or_default() += 1;
                    }
                }
                for e in &a.entities {
                    *type_counts.entry(visible(&e.label)).or_default() += 1;
                }
                for x in a.actors.iter().filter(|x| x.kind == "entity") {
                    let t = actor_totals
                        .entry((visible(&x.actor.name), visible(&x.actor.label)))
                        .or_default();
                    t.0 += x.actor.mentions;
                    t.1 += 1;
                    for (k, v) in &x.actor.stance_counts {
                        *t.2.entry(k.clone()).or_default() += v;
                    }
                }
                let shown = n < limit;
                for w in &a.warnings {
                    warnings.push(ProblemRow {
                        line: *line,
                        id: visible(&a.id),
                        kind: "warning".into(),
                        message: visible(w),
                        anchor: shown.then_some(n),
                    });
                }
                let (tone, tone_class) = tone_of(a);
                nav.push(NavRow {
                    n,
                    line: *line,
                    shown,
                    id: visible(&a.id),
                    title: a.title.as_deref().map(visible).unwrap_or_default(),
                    search: search_key(a),
                    tone,
                    tone_class,
                    sentences: a.sentences.len(),
                    entities: a.entities.len(),
                    salient: a
                        .summary
                        .salient
                        .iter()
                        .take(3)
                        .map(|s| visible(&s.name))
                        .collect::<Vec<_>>()
                        .join(", "),
                });
                if shown {
                    articles.push(article_view(n, *line, a));
                }
            }
            Record::Error { line, error } => errors.push(error_row(*line, error)),
            Record::Unreadable { line, message } => {
                n_unreadable += 1;
                errors.push(ProblemRow {
                    line: *line,
                    id: "—".into(),
                    kind: "unreadable line".into(),
                    message: visible(message),
                    anchor: None,
                })
            }
        }
    }
    let shown = articles.len();
    let n_errors = errors.len() - n_unreadable;
    let stats = vec![
        ("records", corpus.records.len().to_string()),
        ("articles", n_articles.to_string()),
        ("error records", n_errors.to_string()),
        ("unreadable lines", n_unreadable.to_string()),
        ("sentences", n_sent.to_string()),
        ("entity mentions", n_ent.to_string()),
        ("target matches", n_tgt.to_string()),
        ("warnings", n_warn.to_string()),
        ("articles shown", shown.to_string()),
    ];
    let polar_rows = |m: &BTreeMap<String, usize>| {
        ordered(m)
            .into_iter()
            .map(|(k, v)| {
                let class = if k == "none" { "none" } else { polarity(k) };
                (k.to_string(), vec![(v as f64, class, format!("{k}: {v}"))])
            })
            .collect::<Vec<_>>()
    };
    let mut tone_rows = polar_rows(&tone_counts);
    for r in &mut tone_rows {
        r.0 = format!("articles {}", r.0);
    }
    let mut sent_rows = polar_rows(&sentence_counts);
    for r in &mut sent_rows {
        r.0 = format!("sentences {}", r.0);
    }
    tone_rows.extend(sent_rows);
    let mut types: Vec<(String, usize)> = type_counts.into_iter().collect();
    types.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let type_rows = types
        .into_iter()
        .map(|(k, v)| {
            let class = match type_class(&k) {
                "PER" => "PER",
                "ORG" => "ORG",
                "LOC" => "LOC",
                "MISC" => "MISC",
                _ => "OTHER",
            };
            (k.clone(), vec![(v as f64, class, format!("{k}: {v}"))])
        })
        .collect();
    let mut top: Vec<(ActorKey, ActorTotal)> = actor_totals.into_iter().collect();
    top.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then_with(|| a.0.cmp(&b.0)));
    top.truncate(opts.top_actors);
    let actor_rows = top
        .into_iter()
        .map(|((name, label), (mentions, in_articles, counts))| {
            let with_stance: usize = counts.values().sum();
            let mut parts: Vec<Part> = ordered(&counts)
                .into_iter()
                .map(|(k, v)| {
                    (
                        v as f64,
                        polarity(k),
                        format!("{}: {v} mentions", visible(k)),
                    )
                })
                .collect();
            if mentions > with_stance {
                parts.push((
                    (mentions - with_stance) as f64,
                    "none",
                    format!("no stance: {}", mentions - with_stance),
                ));
            }
            (
                format!(
                    "{name} ({label}, {in_articles} article{})",
                    if in_articles == 1 { "" } else { "s" }
                ),
                parts,
            )
        })
        .collect();
    let script_hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(SCRIPT));
    let page = Page {
        title: visible(
            opts.title
                .as_deref()
                .unwrap_or(&format!("newsmill report: {}", corpus.source)),
        ),
        source: visible(&corpus.source),
        csp: format!(
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-{script_hash}'; base-uri 'none'; form-action 'none'"
        ),
        script: SCRIPT,
        stats,
        tone_chart: chart(tone_rows),
        type_chart: chart(type_rows),
        actor_chart: chart(actor_rows),
        nav,
        omitted: n_articles - shown,
        max_articles: opts.max_articles,
        articles,
        errors,
        warnings,
    };
    let mut out = std::io::BufWriter::with_capacity(1 << 20, out);
    page.write_into(&mut out).map_err(ReportError::Write)?;
    out.flush().map_err(ReportError::Write)?;
    Ok(ReportSummary {
        articles: n_articles,
        shown,
        errors: n_errors,
        unreadable: n_unreadable,
    })
}
