//! The report of `newsmill bench` ([`BenchReport`], newsmill-schema) shown three ways: a terminal
//! table ([`bench_table`]), a flat CSV with one line per row ([`write_bench_csv`]) and one
//! self-contained HTML page with SVG charts ([`write_bench_html`]): accuracy against articles/s
//! with the Pareto front marked, and throughput against the batch budget.
//!
//! The page has no script at all (its Content-Security-Policy allows none) and loads nothing.
//! Config names, model and file names come from users: askama escapes every one of them, and
//! [`visible`] first shows control and bidirectional-override characters as `[U+XXXX]` (the
//! terminal table gets the same treatment, so a name cannot move the cursor either).
//!
//! The charts are computed here, not in a browser. So that a test can check the drawing
//! against the JSON (scripts/check_bench_dom.py), every point is a `<circle>` carrying what it
//! plots (`data-row`, `data-x`, `data-y`, full precision) and every chart's `<svg>` the mapping
//! from values to pixels: `data-x-min`/`-max`, `data-y-min`/`-max` (the values at the plot
//! area's edges), `data-x-scale` (`linear` or `log2`), `data-y-scale` (`linear`, or `rows`:
//! row indexes growing downwards) and the plot area `data-left`, `-right`, `-top`, `-bottom`
//! in the SVG's user space. Non-finite values (impossible in JSON, possible in a report built
//! in Rust) are left out of charts and shown as "—" in tables, so no NaN reaches the page.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

use askama::Template;
use newsmill_schema::bench::{Accuracy, BenchReport, BenchRow};

use crate::export::{csv_cell, CsvFormulas};
use crate::html::visible;
use crate::ReportError;

// ---------------------------------------------------------------------------------------------
// Accuracy files and the Pareto front

/// One accuracy column (and chart): a dev file scored with one metric for one task.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccuracyKey {
    pub task: String,
    pub file: String,
    pub metric: String,
}

impl AccuracyKey {
    fn of(a: &Accuracy) -> AccuracyKey {
        AccuracyKey {
            task: a.task.clone(),
            file: a.file.clone(),
            metric: a.metric.clone(),
        }
    }

    fn matches(&self, a: &Accuracy) -> bool {
        a.task == self.task && a.file == self.file && a.metric == self.metric
    }

    /// The CSV column name: `task:file:metric`.
    pub fn column(&self) -> String {
        format!("{}:{}:{}", self.task, self.file, self.metric)
    }

    /// The tables' header: the task and the file's name without folder and extension
    /// (`ner dev` for `data/dev.conll`).
    pub fn short(&self) -> String {
        let stem = Path::new(&self.file)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| self.file.clone());
        format!("{} {}", self.task, stem)
    }
}

/// The accuracy files of a report: the union over the rows, in first-seen order.
pub fn accuracy_keys(report: &BenchReport) -> Vec<AccuracyKey> {
    let mut keys: Vec<AccuracyKey> = Vec::new();
    for a in report.rows.iter().flat_map(|r| &r.accuracy) {
        if !keys.iter().any(|k| k.matches(a)) {
            keys.push(AccuracyKey::of(a));
        }
    }
    keys
}

/// A row's score for `key` (its first entry for that file), when it has a finite one.
pub fn accuracy_of(row: &BenchRow, key: &AccuracyKey) -> Option<f64> {
    row.accuracy
        .iter()
        .find(|a| key.matches(a))
        .map(|a| a.value)
        .filter(|v| v.is_finite())
}

/// Which of `points` (speed, accuracy) are on the Pareto front: not dominated by another
/// point, i.e. no other point is at least as good on both and better on one. Equal points
/// do not dominate each other (both are on the front). Points with a non-finite coordinate
/// are never on it.
pub fn pareto_front(points: &[(f64, f64)]) -> Vec<bool> {
    let finite = |p: &(f64, f64)| p.0.is_finite() && p.1.is_finite();
    points
        .iter()
        .map(|p| {
            finite(p)
                && !points
                    .iter()
                    .any(|q| finite(q) && q.0 >= p.0 && q.1 >= p.1 && (q.0 > p.0 || q.1 > p.1))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Numbers as text

/// `1234567.8` → `1,234,568`; "—" when not finite.
fn thousands(x: f64) -> String {
    if !x.is_finite() {
        return "—".into();
    }
    let digits = format!("{:.0}", x.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if x < 0.0 && digits != "0" {
        out.insert(0, '-');
    }
    out
}

/// About three significant digits: `9.31`, `24.6`, `612`, `1,452`; "—" when not finite.
fn num(x: f64) -> String {
    if !x.is_finite() {
        return "—".into();
    }
    match x.abs() {
        a if a >= 100.0 => thousands(x),
        a if a >= 10.0 => format!("{x:.1}"),
        _ => format!("{x:.2}"),
    }
}

/// A fraction as a percentage with one decimal: `0.893` → `89.3%`.
fn percent(x: f64) -> String {
    if x.is_finite() {
        format!("{:.1}%", x * 100.0)
    } else {
        "—".into()
    }
}

/// A value as written to CSV and to `data-*` attributes: Rust's shortest representation that
/// reads back to the same f64 (so `9.31` stays `9.31`); empty when not finite.
fn exact(x: f64) -> String {
    if x.is_finite() {
        x.to_string()
    } else {
        String::new()
    }
}

/// A pixel coordinate, to 0.01 px (0 for a non-finite value, which the charts never produce:
/// a last guard so that no `NaN` reaches an attribute).
fn px(x: f64) -> String {
    if !x.is_finite() {
        return "0".into();
    }
    let s = format!("{x:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

/// `s` cut to at most `max` characters by dropping its start: `…` + the last `max - 1`.
/// Names of model folders differ at their end more often than at their start.
fn clip_left(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        return s.to_string();
    }
    let tail: String = s.chars().skip(n - (max - 1)).collect();
    format!("…{tail}")
}

// ---------------------------------------------------------------------------------------------
// The table (terminal and HTML)

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Align {
    Left,
    Right,
}

struct Column {
    head: String,
    /// What the column means (the HTML header's tooltip).
    about: String,
    align: Align,
}

/// The table both the terminal and the page show: one line per row, text already through
/// [`visible`].
struct TableModel {
    columns: Vec<Column>,
    rows: Vec<Vec<String>>,
}

/// Config names longer than this are cut (from the left) in the terminal table.
const CONFIG_WIDTH: usize = 28;

/// The table's columns before the scores: header, what it means (the page's tooltip),
/// alignment.
const TABLE_COLUMNS: &[(&str, &str, Align)] = &[
    ("config", "the model set", Align::Left),
    ("precision", "weights and matmuls", Align::Left),
    (
        "batch",
        "padded tokens per model batch (--batch-tokens)",
        Align::Right,
    ),
    (
        "art/s",
        "articles per second, whole pipeline: median of the repetitions",
        Align::Right,
    ),
    (
        "min–max",
        "articles per second: slowest and fastest repetition",
        Align::Right,
    ),
    (
        "vs first",
        "median articles/s relative to the first row",
        Align::Right,
    ),
    (
        "wordpieces/s",
        "wordpieces (not padding) read by the encoders per second",
        Align::Right,
    ),
    ("GFLOP/s", "encoder GFLOP/s, padding included", Align::Right),
    (
        "of peak",
        "GFLOP/s relative to the machine's measured fp32 matmul peak",
        Align::Right,
    ),
    (
        "padding",
        "real tokens / padded tokens over every batch",
        Align::Right,
    ),
    (
        "p50/p95 ms",
        "model batch latency percentiles, milliseconds",
        Align::Right,
    ),
    (
        "RSS MiB",
        "estimated peak resident memory of this configuration alone",
        Align::Right,
    ),
];

fn table_model(report: &BenchReport, keys: &[AccuracyKey]) -> TableModel {
    let mut columns: Vec<Column> = TABLE_COLUMNS
        .iter()
        .map(|&(head, about, align)| Column {
            head: head.into(),
            about: about.into(),
            align,
        })
        .collect();
    for k in keys {
        columns.push(Column {
            head: visible(&k.short()),
            about: visible(&format!("{} {} on {} (×100)", k.task, k.metric, k.file)),
            align: Align::Right,
        });
    }
    let first = report
        .rows
        .first()
        .map(|r| r.articles_per_second.median)
        .filter(|x| x.is_finite() && *x > 0.0);
    let rows = report
        .rows
        .iter()
        .map(|r| {
            let aps = r.articles_per_second;
            let mut cells = vec![
                visible(&r.config),
                visible(&r.precision),
                r.batch_tokens.to_string(),
                num(aps.median),
                if aps.min.is_finite() && aps.max.is_finite() {
                    format!("{}–{}", num(aps.min), num(aps.max))
                } else {
                    "—".into()
                },
                match first {
                    Some(f) if aps.median.is_finite() => format!("{:.2}×", aps.median / f),
                    _ => "—".into(),
                },
                thousands(r.wordpieces_per_second),
                num(r.encoder_gflop_per_second),
                percent(r.fraction_of_peak),
                percent(r.padding_efficiency),
                format!(
                    "{}/{}",
                    num(r.batch_latency_ms.p50),
                    num(r.batch_latency_ms.p95)
                ),
                thousands(r.peak_rss_mib),
            ];
            for k in keys {
                cells.push(match accuracy_of(r, k) {
                    Some(v) => format!("{:.2}", v * 100.0),
                    None => "—".into(),
                });
            }
            cells
        })
        .collect();
    TableModel { columns, rows }
}

/// The lines above the table: corpus and machine.
fn header_lines(report: &BenchReport) -> Vec<(&'static str, String)> {
    let m = &report.machine;
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut lines = vec![
        (
            "corpus",
            format!(
                "{}: {} × {} (after {}), tasks {}",
                visible(&report.corpus),
                plural(report.articles, "article", "articles"),
                plural(report.repeat, "repetition", "repetitions"),
                plural(
                    report.warmup_articles,
                    "warm-up article",
                    "warm-up articles"
                ),
                visible(&report.tasks),
            ),
        ),
        (
            "machine",
            format!(
                "{} · {} · {} × {} intra-op threads · libtorch {} on {} · peak {} GFLOP/s",
                visible(&m.cpu),
                plural(m.cores, "core", "cores"),
                plural(m.workers, "worker", "workers"),
                m.intra_threads,
                visible(&m.libtorch),
                visible(&m.device),
                num(m.peak_matmul_gflop_per_second),
            ),
        ),
    ];
    if !m.precision_kernels.is_empty() {
        lines.push(("kernels", kernels(&m.precision_kernels)));
    }
    lines
}

/// `fp32: libtorch CPU matmul · int8: fbgemm int8 (AVX-512)`
fn kernels(k: &BTreeMap<String, String>) -> String {
    k.iter()
        .map(|(p, k)| format!("{}: {}", visible(p), visible(k)))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// The terminal table: the corpus and the machine, then one line per row with its speed,
/// memory and accuracy (one column per dev file, ×100), columns aligned; ends with a newline.
pub fn bench_table(report: &BenchReport) -> String {
    let keys = accuracy_keys(report);
    let mut t = table_model(report, &keys);
    for r in &mut t.rows {
        r[0] = clip_left(&r[0], CONFIG_WIDTH);
    }
    // dev files' names can be long too: the notes below the table give them whole
    let first_score = t.columns.len() - keys.len();
    for c in &mut t.columns[first_score..] {
        c.head = clip_left(&c.head, CONFIG_WIDTH);
    }
    let mut out = String::new();
    for (k, v) in header_lines(report) {
        let _ = writeln!(out, "{k:<8} {v}");
    }
    out.push('\n');
    let width: Vec<usize> = (0..t.columns.len())
        .map(|c| {
            t.rows
                .iter()
                .map(|r| r[c].chars().count())
                .chain([t.columns[c].head.chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: Vec<&str>| -> String {
        let mut s = String::new();
        for (c, text) in cells.iter().enumerate() {
            if c > 0 {
                s.push_str("  ");
            }
            let pad = " ".repeat(width[c] - text.chars().count());
            match t.columns[c].align {
                Align::Left => {
                    s.push_str(text);
                    s.push_str(&pad);
                }
                Align::Right => {
                    s.push_str(&pad);
                    s.push_str(text);
                }
            }
        }
        s
    };
    out.push_str(&line(t.columns.iter().map(|c| c.head.as_str()).collect()));
    out.push('\n');
    for r in &t.rows {
        out.push_str(&line(r.iter().map(String::as_str).collect()));
        out.push('\n');
    }
    let mut notes = Vec::new();
    for k in &keys {
        notes.push(format!(
            "{}: {} {} on {}, ×100",
            visible(&k.short()),
            visible(&k.task),
            visible(&k.metric),
            visible(&k.file)
        ));
    }
    for (i, r) in report.rows.iter().enumerate().filter(|(_, r)| r.errors > 0) {
        notes.push(format!(
            "row {} ({}): {} error records among the timed articles",
            i + 1,
            clip_left(&visible(&r.config), CONFIG_WIDTH),
            r.errors
        ));
    }
    if !notes.is_empty() {
        out.push('\n');
        for n in notes {
            out.push_str(&n);
            out.push('\n');
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// CSV

/// The CSV's columns before the accuracy ones (docs/bench.md).
pub const CSV_COLUMNS: &[&str] = &[
    "config",
    "models_ner",
    "models_sentiment",
    "models_stance",
    "precision",
    "batch_tokens",
    "articles_per_second_min",
    "articles_per_second_median",
    "articles_per_second_max",
    "seconds_median",
    "wordpieces_per_second",
    "encoder_gflop_per_second",
    "fraction_of_peak",
    "padding_efficiency",
    "prepare_s",
    "encoder_s",
    "decode_s",
    "render_s",
    "batches",
    "latency_p50_ms",
    "latency_p95_ms",
    "latency_p99_ms",
    "peak_rss_mib",
    "model_rss_mib",
    "entities",
    "errors",
];

/// Writes the rows of `report` as CSV: a header line, then one line per row; the columns are
/// [`CSV_COLUMNS`], then `task:file:metric` for each accuracy file (the union over the rows,
/// in first-seen order; empty where a row has no score). Text cells that a spreadsheet would
/// run as a formula get a leading `'` ([`CsvFormulas::Escape`]).
pub fn write_bench_csv<W: Write>(report: &BenchReport, out: W) -> Result<(), ReportError> {
    write_bench_csv_with(report, CsvFormulas::Escape, out)
}

/// [`write_bench_csv`] with the choice of what happens to formula-like text cells.
pub fn write_bench_csv_with<W: Write>(
    report: &BenchReport,
    formulas: CsvFormulas,
    out: W,
) -> Result<(), ReportError> {
    let keys = accuracy_keys(report);
    let text = |s: &str| csv_cell(s, formulas);
    let opt = |s: &Option<String>| s.as_deref().map(text).unwrap_or_default();
    let mut w = csv::Writer::from_writer(out);
    let header: Vec<String> = CSV_COLUMNS
        .iter()
        .map(|c| c.to_string())
        .chain(keys.iter().map(|k| text(&k.column())))
        .collect();
    w.write_record(&header)?;
    for r in &report.rows {
        let aps = r.articles_per_second;
        let p = r.phase_seconds;
        let l = r.batch_latency_ms;
        let mut record = vec![
            text(&r.config),
            opt(&r.models.ner),
            opt(&r.models.sentiment),
            opt(&r.models.stance),
            text(&r.precision),
            r.batch_tokens.to_string(),
            exact(aps.min),
            exact(aps.median),
            exact(aps.max),
            exact(r.seconds.median),
            exact(r.wordpieces_per_second),
            exact(r.encoder_gflop_per_second),
            exact(r.fraction_of_peak),
            exact(r.padding_efficiency),
            exact(p.prepare),
            exact(p.encoder),
            exact(p.decode),
            exact(p.render),
            l.batches.to_string(),
            exact(l.p50),
            exact(l.p95),
            exact(l.p99),
            exact(r.peak_rss_mib),
            exact(r.model_rss_mib),
            r.entities.to_string(),
            r.errors.to_string(),
        ];
        debug_assert_eq!(record.len(), CSV_COLUMNS.len());
        record.extend(
            keys.iter()
                .map(|k| accuracy_of(r, k).map(exact).unwrap_or_default()),
        );
        w.write_record(&record)?;
    }
    w.flush().map_err(ReportError::Write)?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Chart geometry

/// How an axis maps values to the plot area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scale {
    Linear,
    /// Equal distances per doubling (batch budgets spanning 4× or more).
    Log2,
    /// Row indexes of a bar chart, growing downwards (row 0 at the top).
    Rows,
}

impl Scale {
    fn name(self) -> &'static str {
        match self {
            Scale::Linear => "linear",
            Scale::Log2 => "log2",
            Scale::Rows => "rows",
        }
    }
}

/// An axis: the values at the two ends of the plot area, and how it maps between.
#[derive(Debug, Clone, Copy)]
struct Axis {
    min: f64,
    max: f64,
    scale: Scale,
}

impl Axis {
    /// Where `v` falls between `min` (0) and `max` (1).
    fn frac(&self, v: f64) -> f64 {
        let f = match self.scale {
            Scale::Log2 => (v.log2() - self.min.log2()) / (self.max.log2() - self.min.log2()),
            Scale::Linear | Scale::Rows => (v - self.min) / (self.max - self.min),
        };
        if f.is_finite() {
            f
        } else {
            0.0
        }
    }
}

/// A chart's canvas and mapping: the SVG's size, the plot area inside it and the two axes.
#[derive(Debug, Clone, Copy)]
struct Frame {
    width: f64,
    height: f64,
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
    x: Axis,
    y: Axis,
}

impl Frame {
    fn px(&self, v: f64) -> f64 {
        self.left + self.x.frac(v) * (self.right - self.left)
    }

    fn py(&self, v: f64) -> f64 {
        let f = self.y.frac(v);
        match self.y.scale {
            Scale::Rows => self.top + f * (self.bottom - self.top),
            _ => self.bottom - f * (self.bottom - self.top),
        }
    }
}

/// The "nice" number (1, 2 or 5 × a power of ten) nearest to `x` > 0.
fn nice(x: f64) -> f64 {
    let base = 10f64.powf(x.log10().floor());
    let n = match x / base {
        f if f < 1.5 => 1.0,
        f if f < 3.0 => 2.0,
        f if f < 7.0 => 5.0,
        _ => 10.0,
    };
    n * base
}

/// A linear axis over `lo..hi` widened to nice ends, and its ticks (values and labels, the
/// labels' values multiplied by `label_factor`: 100 for scores shown as percentages).
fn nice_axis(lo: f64, hi: f64, label_factor: f64) -> (Axis, Vec<(f64, String)>) {
    let (mut lo, mut hi) = (lo, hi);
    if !(lo.is_finite() && hi.is_finite()) {
        (lo, hi) = (0.0, 1.0);
    }
    if hi - lo <= f64::EPSILON * hi.abs().max(1.0) {
        // one value: a window around it
        let pad = (hi.abs() * 0.05).max(0.01);
        (lo, hi) = (lo - pad, hi + pad);
    }
    // about five intervals, each 1, 2 or 5 × a power of ten
    let step = nice((hi - lo) / 5.0);
    let (k0, k1) = ((lo / step).floor(), (hi / step).ceil());
    let axis = Axis {
        min: k0 * step,
        max: k1 * step,
        scale: Scale::Linear,
    };
    let decimals = (-(step * label_factor).log10().floor()).clamp(0.0, 6.0) as usize;
    let ticks = (k0 as i64..=k1 as i64)
        .map(|k| {
            let v = k as f64 * step;
            (v, format!("{:.*}", decimals, v * label_factor))
        })
        .collect();
    (axis, ticks)
}

/// The x axis of the throughput chart: batch budgets, on a log2 scale when they span 4× or
/// more (all positive), else linear; ticks at the values present.
fn batch_axis(values: &[usize]) -> (Axis, Vec<(f64, String)>) {
    let mut v: Vec<usize> = values.to_vec();
    v.sort_unstable();
    v.dedup();
    let (lo, hi) = match (v.first(), v.last()) {
        (Some(&a), Some(&b)) => (a as f64, b as f64),
        _ => (0.0, 1.0),
    };
    let axis = if lo > 0.0 && hi / lo >= 4.0 {
        // a third of a doubling beyond the ends
        let pad = 2f64.powf(1.0 / 3.0);
        Axis {
            min: lo / pad,
            max: hi * pad,
            scale: Scale::Log2,
        }
    } else if hi > lo {
        let pad = (hi - lo) * 0.12;
        Axis {
            min: (lo - pad).max(0.0),
            max: hi + pad,
            scale: Scale::Linear,
        }
    } else {
        let pad = (lo * 0.5).max(1.0);
        Axis {
            min: (lo - pad).max(0.0),
            max: lo + pad,
            scale: Scale::Linear,
        }
    };
    let ticks = v.iter().map(|&b| (b as f64, b.to_string())).collect();
    (axis, ticks)
}

/// Colours of the model sets, in first-seen order (then again from the start).
const PALETTE: [&str; 10] = [
    "#1f77b4", "#e6550d", "#2ca02c", "#9467bd", "#8c564b", "#d62728", "#17becf", "#bcbd22",
    "#7f7f7f", "#e377c2",
];

/// A point's look by precision: fp32 hollow, int8 filled, anything else half-filled. The
/// class is one of a fixed set, never the input's text.
fn precision_class(p: &str) -> &'static str {
    match p {
        "fp32" => "fp32",
        "int8" => "int8",
        _ => "half",
    }
}

/// A line's dash by precision: fp32 solid, int8 dashed, others dotted.
fn dash(p: &str) -> &'static str {
    match precision_class(p) {
        "fp32" => "",
        "int8" => "7 4",
        _ => "2 3",
    }
}

/// A rectangle in SVG user space (for label placement).
#[derive(Debug, Clone, Copy)]
struct Boxed {
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
}

impl Boxed {
    fn overlap(&self, o: &Boxed) -> f64 {
        let w = (self.x1.min(o.x1) - self.x0.max(o.x0)).max(0.0);
        let h = (self.y1.min(o.y1) - self.y0.max(o.y0)).max(0.0);
        w * h
    }

    fn inside(&self, o: &Boxed) -> bool {
        self.x0 >= o.x0 && self.x1 <= o.x1 && self.y0 >= o.y0 && self.y1 <= o.y1
    }
}

/// Font size of point labels, and the width of one character at it (an estimate: the page's
/// sans-serif averages under this).
const LABEL_PX: f64 = 11.0;
const CHAR_W: f64 = 6.3;
/// Vertical distance between label slots.
const LABEL_STEP: f64 = 13.0;

/// Places point labels one at a time where they overlap neither the labels placed before,
/// nor the points, nor leave the given area: beside the point first (right, then left), then
/// one, two, three lines above or below (with a leader line back to the point).
struct Placer {
    area: Boxed,
    taken: Vec<Boxed>,
}

/// Where a label went: text anchor point, anchor and whether it needs a leader line.
struct Placed {
    x: f64,
    y: f64,
    anchor: &'static str,
    leader: Option<(f64, f64)>,
}

impl Placer {
    fn new(area: Boxed) -> Placer {
        Placer {
            area,
            taken: Vec::new(),
        }
    }

    /// Keeps labels off a point of radius `r`.
    fn block_point(&mut self, cx: f64, cy: f64, r: f64) {
        self.taken.push(Boxed {
            x0: cx - r - 1.0,
            y0: cy - r - 1.0,
            x1: cx + r + 1.0,
            y1: cy + r + 1.0,
        });
    }

    fn place(&mut self, cx: f64, cy: f64, r: f64, chars: usize) -> Placed {
        let w = chars as f64 * CHAR_W;
        let gap = r + 4.0;
        // (dx sign, line offset): right and left at the point's height, then further away
        let mut tries: Vec<(f64, f64)> = vec![(1.0, 0.0), (-1.0, 0.0)];
        for k in 1..=3 {
            let k = k as f64;
            tries.extend([(1.0, -k), (1.0, k), (-1.0, -k), (-1.0, k)]);
        }
        let mut best: Option<(f64, Boxed, Placed)> = None;
        for (side, line) in tries {
            let y = cy + 4.0 + line * LABEL_STEP;
            let (x, anchor, x0) = if side > 0.0 {
                (cx + gap, "start", cx + gap)
            } else {
                (cx - gap, "end", cx - gap - w)
            };
            let b = Boxed {
                x0,
                y0: y - LABEL_PX + 1.0,
                x1: x0 + w,
                y1: y + 3.0,
            };
            if !b.inside(&self.area) {
                continue;
            }
            let cost: f64 = self.taken.iter().map(|t| t.overlap(&b)).sum();
            let leader = (line != 0.0).then_some((x - side * 2.0, y - 4.0));
            let placed = Placed {
                x,
                y,
                anchor,
                leader,
            };
            if cost == 0.0 {
                best = Some((0.0, b, placed));
                break;
            }
            if best.as_ref().is_none_or(|(c, _, _)| cost < *c) {
                best = Some((cost, b, placed));
            }
        }
        match best {
            Some((_, b, placed)) => {
                self.taken.push(b);
                placed
            }
            // no slot inside the area (a label wider than the chart): right of the point
            None => Placed {
                x: cx + gap,
                y: cy + 4.0,
                anchor: "start",
                leader: None,
            },
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Charts for the template

/// What a chart draws, in drawing order. Coordinates are already text ([`px`]); every string
/// from the input is escaped by askama.
enum Shape {
    Line {
        class: &'static str,
        x1: String,
        y1: String,
        x2: String,
        y2: String,
    },
    /// A line through points (`x,y x,y ...`), coloured and dashed.
    Path {
        class: &'static str,
        points: String,
        stroke: &'static str,
        dash: &'static str,
    },
    Bar {
        x: String,
        y: String,
        w: String,
        h: String,
        fill: &'static str,
        hover: String,
    },
    /// A ring behind a point (the Pareto front's mark).
    Halo { cx: String, cy: String, r: String },
    /// A data point: a row's value, with what it plots in `data-*` attributes.
    Point {
        class: String,
        cx: String,
        cy: String,
        r: String,
        colour: &'static str,
        row: usize,
        data_x: String,
        data_y: String,
        hover: String,
    },
    Text {
        class: &'static str,
        x: String,
        y: String,
        anchor: &'static str,
        text: String,
    },
}

/// What a legend entry shows.
enum Swatch {
    /// A point of `colour` in the style `class`.
    Dot,
    /// A line of `colour` and `dash`, with a point.
    Line,
    /// The Pareto front's mark: a ringed point on a dashed line.
    Front,
}

/// A legend entry: a swatch and its text.
struct LegendItem {
    pub swatch: Swatch,
    pub class: &'static str,
    pub colour: &'static str,
    pub dash: &'static str,
    pub text: String,
}

/// The dev file an accuracy chart is about (`data-task`, `data-file`, `data-metric`).
struct ChartFile {
    pub task: String,
    pub file: String,
    pub metric: String,
}

/// One SVG chart of the page.
struct SvgChart {
    /// accuracy, throughput or speed (`data-chart`).
    pub kind: &'static str,
    pub title: String,
    pub note: String,
    pub width: String,
    pub height: String,
    pub left: String,
    pub right: String,
    pub top: String,
    pub bottom: String,
    pub x_min: String,
    pub x_max: String,
    pub y_min: String,
    pub y_max: String,
    pub x_scale: &'static str,
    pub y_scale: &'static str,
    pub file: Option<ChartFile>,
    pub shapes: Vec<Shape>,
    pub legend: Vec<LegendItem>,
}

impl SvgChart {
    fn new(kind: &'static str, title: String, frame: &Frame) -> SvgChart {
        SvgChart {
            kind,
            title,
            note: String::new(),
            width: px(frame.width),
            height: px(frame.height),
            left: px(frame.left),
            right: px(frame.right),
            top: px(frame.top),
            bottom: px(frame.bottom),
            x_min: exact(frame.x.min),
            x_max: exact(frame.x.max),
            y_min: exact(frame.y.min),
            y_max: exact(frame.y.max),
            x_scale: frame.x.scale.name(),
            y_scale: frame.y.scale.name(),
            file: None,
            shapes: Vec::new(),
            legend: Vec::new(),
        }
    }

    fn line(&mut self, class: &'static str, x1: f64, y1: f64, x2: f64, y2: f64) {
        self.shapes.push(Shape::Line {
            class,
            x1: px(x1),
            y1: px(y1),
            x2: px(x2),
            y2: px(y2),
        });
    }

    fn text(&mut self, class: &'static str, x: f64, y: f64, anchor: &'static str, text: String) {
        self.shapes.push(Shape::Text {
            class,
            x: px(x),
            y: px(y),
            anchor,
            text,
        });
    }

    /// Axis lines, grid lines and tick labels, and the axes' titles. Tick labels closer than
    /// `min_gap` pixels to the previous one drawn are left out (their grid line stays).
    fn axes(
        &mut self,
        f: &Frame,
        x_ticks: &[(f64, String)],
        y_ticks: &[(f64, String)],
        x_title: String,
        y_title: String,
    ) {
        let mut last_label = f64::NEG_INFINITY;
        for (v, label) in x_ticks {
            let x = f.px(*v);
            self.line("grid", x, f.top, x, f.bottom);
            self.line("tick", x, f.bottom, x, f.bottom + 4.0);
            let w = label.chars().count() as f64 * CHAR_W;
            if x - w / 2.0 >= last_label + 6.0 {
                self.text("tick", x, f.bottom + 17.0, "middle", label.clone());
                last_label = x + w / 2.0;
            }
        }
        let mut last_label = f64::INFINITY;
        for (v, label) in y_ticks {
            let y = f.py(*v);
            self.line("grid", f.left, y, f.right, y);
            self.line("tick", f.left - 4.0, y, f.left, y);
            if y <= last_label - 14.0 {
                self.text("tick", f.left - 7.0, y + 4.0, "end", label.clone());
                last_label = y;
            }
        }
        self.line("axis", f.left, f.bottom, f.right, f.bottom);
        self.line("axis", f.left, f.top, f.left, f.bottom);
        self.text(
            "title",
            (f.left + f.right) / 2.0,
            f.bottom + 36.0,
            "middle",
            x_title,
        );
        if !y_title.is_empty() {
            self.shapes.push(Shape::Text {
                class: "ytitle",
                x: px(14.0),
                y: px((f.top + f.bottom) / 2.0),
                anchor: "middle",
                text: y_title,
            });
        }
    }
}

/// `config · precision · batch` of a row, the config cut to `max` characters.
fn row_label(r: &BenchRow, max: usize) -> String {
    format!(
        "{} · {} · {}",
        clip_left(&visible(&r.config), max),
        visible(&r.precision),
        r.batch_tokens
    )
}

/// A point's tooltip: the row in full.
fn row_hover(i: usize, r: &BenchRow, extra: &str) -> String {
    let aps = r.articles_per_second;
    format!(
        "row {}: {} · {} · batch {} tokens\n{} articles/s (min {}, max {}){}",
        i + 1,
        visible(&r.config),
        visible(&r.precision),
        r.batch_tokens,
        num(aps.median),
        num(aps.min),
        num(aps.max),
        extra
    )
}

/// The page's colour of each row: by model set, in first-seen order.
fn colours(report: &BenchReport) -> Vec<&'static str> {
    let mut seen: Vec<&str> = Vec::new();
    report
        .rows
        .iter()
        .map(|r| {
            let i = seen.iter().position(|c| *c == r.config).unwrap_or_else(|| {
                seen.push(&r.config);
                seen.len() - 1
            });
            PALETTE[i % PALETTE.len()]
        })
        .collect()
}

/// Legend entries for the model sets (colours) and precisions (point styles, and line dashes
/// when `lines`).
fn legend(report: &BenchReport, colours: &[&'static str], lines: bool) -> Vec<LegendItem> {
    let mut items: Vec<LegendItem> = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for (r, c) in report.rows.iter().zip(colours) {
        if !seen.contains(&r.config.as_str()) {
            seen.push(&r.config);
            items.push(LegendItem {
                swatch: Swatch::Dot,
                class: "int8",
                colour: c,
                dash: "",
                text: visible(&r.config),
            });
        }
    }
    let mut seen: Vec<&str> = Vec::new();
    for r in &report.rows {
        if !seen.contains(&r.precision.as_str()) {
            seen.push(&r.precision);
            items.push(LegendItem {
                swatch: if lines { Swatch::Line } else { Swatch::Dot },
                class: precision_class(&r.precision),
                colour: "#555",
                dash: dash(&r.precision),
                text: visible(&r.precision),
            });
        }
    }
    items
}

const CHART_W: f64 = 820.0;
const POINT_R: f64 = 5.0;

/// An articles/s axis: from 0 to the highest value a chart has to show (whisker ends
/// included), 0 to 1 when every row stood still.
fn speed_axis<'a>(rows: impl Iterator<Item = &'a BenchRow>) -> (Axis, Vec<(f64, String)>) {
    let top = rows
        .flat_map(|r| {
            let a = r.articles_per_second;
            [a.min, a.median, a.max]
        })
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    nice_axis(0.0, if top > 0.0 { top } else { 1.0 }, 1.0)
}

/// Point labels, drawn after every point and line: each at its placed spot, with a leader line
/// to its point when it was moved away.
fn draw_labels(c: &mut SvgChart, labels: Vec<(Placed, String, f64, f64)>) {
    for (p, text, cx, cy) in labels {
        if let Some((lx, ly)) = p.leader {
            c.line("leader", cx, cy, lx, ly);
        }
        c.text("label", p.x, p.y, p.anchor, text);
    }
}

/// Chart A: accuracy on one dev file against articles/s, one point per row that has the
/// score, with its min–max whisker and a label; the Pareto front ringed and joined.
fn accuracy_chart(report: &BenchReport, key: &AccuracyKey, colours: &[&'static str]) -> SvgChart {
    // (row, speed, score)
    let points: Vec<(usize, f64, f64)> = report
        .rows
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            let x = r.articles_per_second.median;
            let y = accuracy_of(r, key)?;
            x.is_finite().then_some((i, x, y))
        })
        .collect();
    let (xa, x_ticks) = speed_axis(points.iter().map(|p| &report.rows[p.0]));
    let ys = points.iter().map(|p| p.2);
    let (ylo, yhi) = (
        ys.clone().fold(f64::INFINITY, f64::min),
        ys.fold(f64::NEG_INFINITY, f64::max),
    );
    // a tenth of the range beyond the scores, so no point sits on an edge
    let pad = (yhi - ylo) * 0.1;
    let (mut ya, y_ticks) = nice_axis(ylo - pad, yhi + pad, 100.0);
    // scores are 0 to 1: the axis need not go beyond
    if ylo >= 0.0 && ya.min < 0.0 {
        ya.min = 0.0;
    }
    if yhi <= 1.0 && ya.max > 1.0 {
        ya.max = 1.0;
    }
    let y_ticks: Vec<_> = y_ticks
        .into_iter()
        .filter(|(v, _)| *v >= ya.min - 1e-12 && *v <= ya.max + 1e-12)
        .collect();
    let f = Frame {
        width: CHART_W,
        height: 430.0,
        left: 64.0,
        right: CHART_W - 24.0,
        top: 14.0,
        bottom: 430.0 - 48.0,
        x: xa,
        y: ya,
    };
    let title = format!(
        "{} {} on {} against articles/s",
        visible(&key.task),
        visible(&key.metric),
        visible(&key.file)
    );
    let mut c = SvgChart::new("accuracy", title, &f);
    c.file = Some(ChartFile {
        task: visible(&key.task),
        file: visible(&key.file),
        metric: visible(&key.metric),
    });
    c.axes(
        &f,
        &x_ticks,
        &y_ticks,
        format!(
            "articles/s (median of {}; whisker: slowest to fastest)",
            report.repeat
        ),
        format!("{} {} ×100", visible(&key.task), visible(&key.metric)),
    );
    let front = pareto_front(&points.iter().map(|p| (p.1, p.2)).collect::<Vec<_>>());
    // the front's line, left to right, under the points
    let mut on_front: Vec<(f64, f64)> = points
        .iter()
        .zip(&front)
        .filter(|(_, on)| **on)
        .map(|(p, _)| (p.1, p.2))
        .collect();
    on_front.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.total_cmp(&a.1)));
    if on_front.len() > 1 {
        c.shapes.push(Shape::Path {
            class: "front",
            points: on_front
                .iter()
                .map(|(x, y)| format!("{},{}", px(f.px(*x)), px(f.py(*y))))
                .collect::<Vec<_>>()
                .join(" "),
            stroke: "#444",
            dash: "4 3",
        });
    }
    let area = Boxed {
        x0: f.left + 2.0,
        y0: f.top,
        x1: f.width - 2.0,
        y1: f.bottom - 2.0,
    };
    let mut placer = Placer::new(area);
    for &(_, x, y) in &points {
        placer.block_point(f.px(x), f.py(y), POINT_R + 3.0);
    }
    let mut labels = Vec::new();
    for (&(i, x, y), &on) in points.iter().zip(&front) {
        let r = &report.rows[i];
        let (cx, cy) = (f.px(x), f.py(y));
        let a = r.articles_per_second;
        if a.min.is_finite() && a.max.is_finite() && a.max > a.min {
            c.line("whisker", f.px(a.min), cy, f.px(a.max), cy);
        }
        if on {
            c.shapes.push(Shape::Halo {
                cx: px(cx),
                cy: px(cy),
                r: px(POINT_R + 3.5),
            });
        }
        let class = format!(
            "pt {}{}",
            precision_class(&r.precision),
            if on { " pareto" } else { "" }
        );
        c.shapes.push(Shape::Point {
            class,
            cx: px(cx),
            cy: px(cy),
            r: px(POINT_R),
            colour: colours[i],
            row: i,
            data_x: exact(x),
            data_y: exact(y),
            hover: row_hover(
                i,
                r,
                &format!(
                    "\n{} {} {:.2}{}",
                    visible(&key.task),
                    visible(&key.metric),
                    y * 100.0,
                    if on { " · on the Pareto front" } else { "" }
                ),
            ),
        });
        let text = row_label(r, 24);
        let p = placer.place(cx, cy, POINT_R, text.chars().count());
        labels.push((p, text, cx, cy));
    }
    // labels last, over every point and line
    draw_labels(&mut c, labels);
    c.note = format!(
        "{} of {} rows have this score. Ringed and joined: the Pareto front, the rows that no \
         other row beats on both speed and score.",
        points.len(),
        report.rows.len()
    );
    c.legend = legend(report, colours, false);
    c.legend.push(LegendItem {
        swatch: Swatch::Front,
        class: "",
        colour: "#444",
        dash: "4 3",
        text: "Pareto front".into(),
    });
    c
}

/// Chart B: articles/s against the batch budget, one line per model set and precision.
fn throughput_chart(report: &BenchReport, colours: &[&'static str]) -> SvgChart {
    let rows: Vec<(usize, &BenchRow)> = report
        .rows
        .iter()
        .enumerate()
        .filter(|(_, r)| r.articles_per_second.median.is_finite())
        .collect();
    let budgets: Vec<usize> = rows.iter().map(|(_, r)| r.batch_tokens).collect();
    let (xa, x_ticks) = batch_axis(&budgets);
    let (ya, y_ticks) = speed_axis(rows.iter().map(|(_, r)| *r));
    let height = 400.0;
    let f = Frame {
        width: CHART_W,
        height,
        left: 64.0,
        right: CHART_W - 190.0,
        top: 14.0,
        bottom: height - 48.0,
        x: xa,
        y: ya,
    };
    let mut c = SvgChart::new(
        "throughput",
        "Articles/s against the batch budget".into(),
        &f,
    );
    c.axes(
        &f,
        &x_ticks,
        &y_ticks,
        format!(
            "padded tokens per batch{}",
            if xa.scale == Scale::Log2 {
                " (log scale)"
            } else {
                ""
            }
        ),
        "articles/s".into(),
    );
    // one series per (config, precision), in first-seen order, points by batch budget
    let mut series: Vec<(&str, &str, Vec<usize>)> = Vec::new();
    for &(i, r) in &rows {
        match series
            .iter_mut()
            .find(|s| s.0 == r.config && s.1 == r.precision)
        {
            Some(s) => s.2.push(i),
            None => series.push((&r.config, &r.precision, vec![i])),
        }
    }
    let mut placer = Placer::new(Boxed {
        x0: f.left + 2.0,
        y0: f.top,
        x1: f.width - 2.0,
        y1: f.bottom - 2.0,
    });
    for &(_, r) in &rows {
        placer.block_point(
            f.px(r.batch_tokens as f64),
            f.py(r.articles_per_second.median),
            POINT_R + 2.0,
        );
    }
    let mut labels = Vec::new();
    for (_, precision, members) in &mut series {
        members.sort_by_key(|&i| report.rows[i].batch_tokens);
        let colour = colours[members[0]];
        if members.len() > 1 {
            c.shapes.push(Shape::Path {
                class: "series",
                points: members
                    .iter()
                    .map(|&i| {
                        let r = &report.rows[i];
                        format!(
                            "{},{}",
                            px(f.px(r.batch_tokens as f64)),
                            px(f.py(r.articles_per_second.median))
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(" "),
                stroke: colour,
                dash: dash(precision),
            });
        }
        for &i in members.iter() {
            let r = &report.rows[i];
            let a = r.articles_per_second;
            let cx = f.px(r.batch_tokens as f64);
            if a.min.is_finite() && a.max.is_finite() && a.max > a.min {
                c.line("whisker", cx, f.py(a.min), cx, f.py(a.max));
            }
        }
        for &i in members.iter() {
            let r = &report.rows[i];
            let (x, y) = (r.batch_tokens as f64, r.articles_per_second.median);
            c.shapes.push(Shape::Point {
                class: format!("pt {}", precision_class(&r.precision)),
                cx: px(f.px(x)),
                cy: px(f.py(y)),
                r: px(POINT_R),
                colour,
                row: i,
                data_x: r.batch_tokens.to_string(),
                data_y: exact(y),
                hover: row_hover(i, r, ""),
            });
        }
        // the series' name beside its last point
        let last = &report.rows[*members.last().expect("a series has a row")];
        let text = format!(
            "{} · {}",
            clip_left(&visible(&last.config), 20),
            visible(&last.precision)
        );
        let (cx, cy) = (
            f.px(last.batch_tokens as f64),
            f.py(last.articles_per_second.median),
        );
        let p = placer.place(cx, cy, POINT_R, text.chars().count());
        labels.push((p, text, cx, cy));
    }
    draw_labels(&mut c, labels);
    c.note =
        "Median articles/s of each configuration, the whisker from the slowest to the fastest \
              repetition; one line per model set and precision."
            .into();
    c.legend = legend(report, colours, true);
    c
}

/// The speed chart that stands in for chart A when no row has a score: a bar per row.
fn speed_chart(report: &BenchReport, colours: &[&'static str]) -> SvgChart {
    let n = report.rows.len();
    let pitch = 24.0;
    let top = 8.0;
    let bottom = top + pitch * n.max(1) as f64;
    let (xa, x_ticks) = speed_axis(report.rows.iter());
    let f = Frame {
        width: CHART_W,
        height: bottom + 48.0,
        left: 250.0,
        right: CHART_W - 24.0,
        top,
        bottom,
        x: xa,
        y: Axis {
            min: -0.5,
            max: n as f64 - 0.5,
            scale: Scale::Rows,
        },
    };
    let mut c = SvgChart::new("speed", "Articles/s per configuration".into(), &f);
    c.axes(
        &f,
        &x_ticks,
        &[],
        format!(
            "articles/s (median of {}; whisker: slowest to fastest)",
            report.repeat
        ),
        String::new(),
    );
    for (i, r) in report.rows.iter().enumerate() {
        let y = f.py(i as f64);
        c.text("tick", f.left - 8.0, y + 4.0, "end", row_label(r, 26));
        let a = r.articles_per_second;
        if !a.median.is_finite() {
            continue;
        }
        let x = f.px(a.median);
        c.shapes.push(Shape::Bar {
            x: px(f.left),
            y: px(y - 8.0),
            w: px((x - f.left).max(0.0)),
            h: px(16.0),
            fill: colours[i],
            hover: row_hover(i, r, ""),
        });
        if a.min.is_finite() && a.max.is_finite() && a.max > a.min {
            c.line("whisker", f.px(a.min), y, f.px(a.max), y);
        }
        c.shapes.push(Shape::Point {
            class: format!("pt {}", precision_class(&r.precision)),
            cx: px(x),
            cy: px(y),
            r: px(4.0),
            colour: colours[i],
            row: i,
            data_x: exact(a.median),
            data_y: i.to_string(),
            hover: row_hover(i, r, ""),
        });
    }
    c.note = "No row has a score on a dev file (bench --eval): speed only.".into();
    c.legend = legend(report, colours, false);
    c
}

// ---------------------------------------------------------------------------------------------
// The page

/// A table row of the page.
struct HtmlRow {
    pub index: usize,
    pub models: String,
    pub cells: Vec<(String, &'static str)>,
}

#[derive(Template)]
#[template(path = "bench.html")]
struct BenchPage {
    title: String,
    csp: &'static str,
    subtitle: String,
    machine: Vec<(&'static str, String)>,
    flags: String,
    kernels: String,
    heads: Vec<(String, String, &'static str)>,
    /// No row has a score: the first chart is [`speed_chart`].
    speed_only: bool,
    rows: Vec<HtmlRow>,
    accuracy_charts: Vec<SvgChart>,
    throughput: SvgChart,
}

/// No script, no fetch of anything; inline styles only.
const CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

/// Writes the bench report as one self-contained HTML page into `out`: the machine, the table,
/// accuracy against articles/s per dev file (or, without scores, articles/s per row), and
/// articles/s against the batch budget.
pub fn write_bench_html<W: Write>(report: &BenchReport, out: W) -> Result<(), ReportError> {
    let keys = accuracy_keys(report);
    let colours = colours(report);
    let table = table_model(report, &keys);
    let m = &report.machine;
    let machine = vec![
        ("CPU", visible(&m.cpu)),
        ("cores", m.cores.to_string()),
        (
            "workers × intra-op threads",
            format!("{} × {}", m.workers, m.intra_threads),
        ),
        ("libtorch", visible(&m.libtorch)),
        ("device", visible(&m.device)),
        (
            "fp32 matmul peak",
            format!("{} GFLOP/s", num(m.peak_matmul_gflop_per_second)),
        ),
    ];
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let heads = table
        .columns
        .iter()
        .map(|c| {
            let class = if c.align == Align::Right { "num" } else { "" };
            (c.head.clone(), c.about.clone(), class)
        })
        .collect();
    let rows = report
        .rows
        .iter()
        .zip(table.rows)
        .enumerate()
        .map(|(i, (r, cells))| HtmlRow {
            index: i,
            models: crate::html::models_text(&r.models, "\n"),
            cells: cells
                .into_iter()
                .zip(&table.columns)
                .map(|(text, c)| (text, if c.align == Align::Right { "num" } else { "" }))
                .collect(),
        })
        .collect();
    let accuracy_charts = if keys.is_empty() {
        vec![speed_chart(report, &colours)]
    } else {
        keys.iter()
            .map(|k| accuracy_chart(report, k, &colours))
            .collect()
    };
    let page = BenchPage {
        title: format!("newsmill bench: {}", visible(&report.corpus)),
        csp: CSP,
        subtitle: format!(
            "newsmill {} · {} × {} (after {}) · tasks {}",
            visible(&report.newsmill),
            plural(report.articles, "article"),
            plural(report.repeat, "repetition"),
            plural(report.warmup_articles, "warm-up article"),
            visible(&report.tasks)
        ),
        machine,
        flags: m
            .cpu_flags
            .iter()
            .map(|f| visible(f))
            .collect::<Vec<_>>()
            .join(" "),
        kernels: kernels(&m.precision_kernels),
        heads,
        speed_only: keys.is_empty(),
        rows,
        accuracy_charts,
        throughput: throughput_chart(report, &colours),
    };
    let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
    page.write_into(&mut out).map_err(ReportError::Write)?;
    out.flush().map_err(ReportError::Write)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_axes() {
        let (a, t) = nice_axis(0.0, 24.6, 1.0);
        assert_eq!((a.min, a.max), (0.0, 25.0));
        assert_eq!(
            t.iter().map(|x| x.1.as_str()).collect::<Vec<_>>(),
            ["0", "5", "10", "15", "20", "25"]
        );
        let (a, t) = nice_axis(0.9, 0.94, 100.0);
        assert!(a.min <= 0.9 && a.max >= 0.94 && a.max - a.min < 0.1);
        assert_eq!(t[0].1, "90");
        // one value, zero, nothing finite: still a range
        for (lo, hi) in [(0.93, 0.93), (0.0, 0.0), (f64::NAN, f64::INFINITY)] {
            let (a, t) = nice_axis(lo, hi, 1.0);
            assert!(a.max > a.min && a.min.is_finite() && a.max.is_finite());
            assert!(t.len() >= 2);
        }
    }

    #[test]
    fn batch_axes() {
        let (a, t) = batch_axis(&[512, 256, 256]);
        assert_eq!(a.scale, Scale::Linear);
        assert_eq!(t.len(), 2);
        assert!(a.min < 256.0 && a.max > 512.0);
        let (a, _) = batch_axis(&[256, 1024]);
        assert_eq!(a.scale, Scale::Log2);
        let (a, _) = batch_axis(&[0, 1024]);
        assert_eq!(a.scale, Scale::Linear, "log2 of 0");
        let (a, _) = batch_axis(&[0]);
        assert!(a.max > a.min);
    }

    #[test]
    fn numbers() {
        assert_eq!(thousands(1234567.8), "1,234,568");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(num(9.312), "9.31");
        assert_eq!(num(24.61), "24.6");
        assert_eq!(num(f64::NAN), "—");
        assert_eq!(px(-0.001), "0");
        assert_eq!(px(12.5), "12.5");
        assert_eq!(px(f64::INFINITY), "0");
        assert_eq!(clip_left("abcdef", 4), "…def");
        assert_eq!(clip_left("abc", 4), "abc");
    }
}
