//! Flat tables of annotated JSONL, for pandas, R and SQL engines: one row per article (and per
//! error record or unreadable line), per sentence, per mention (entity or target match), per
//! actor. The columns are [`columns`]; docs/tables.md documents them. CSV (header row, empty
//! field for a missing value) or Parquet (Arrow types: Utf8, Int64, Float32; nullable).

use std::io::Write;
use std::sync::Arc;

use arrow_array::{ArrayRef, Float32Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use newsmill_schema::ArticleOut;
use newsmill_schema::Scored;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use crate::read::{Corpus, Record};
use crate::ReportError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Articles,
    Sentences,
    Entities,
    Actors,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Parquet,
}

/// A column's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Str,
    Int,
    Float,
}

use Kind::{Float as F, Int as I, Str as S};

const ARTICLES: &[(&str, Kind)] = &[
    ("line", I),
    ("status", S),
    ("article_id", S),
    ("title", S),
    ("chars", I),
    ("sentences", I),
    ("boilerplate", I),
    ("entities", I),
    ("targets", I),
    ("actors", I),
    ("tone_label", S),
    ("tone_score", F),
    ("tone_negative", F),
    ("tone_neutral", F),
    ("tone_positive", F),
    ("warnings", I),
    ("error_kind", S),
    ("error_message", S),
    ("model_ner", S),
    ("model_sentiment", S),
    ("model_stance", S),
];

const SENTENCES: &[(&str, Kind)] = &[
    ("article_id", S),
    ("sentence", I),
    ("start", I),
    ("end", I),
    ("text", S),
    ("role", S),
    ("sentiment_label", S),
    ("sentiment_score", F),
    ("sentiment_negative", F),
    ("sentiment_neutral", F),
    ("sentiment_positive", F),
];

const ENTITIES: &[(&str, Kind)] = &[
    ("article_id", S),
    ("kind", S),
    ("mention", I),
    ("text", S),
    ("label", S),
    ("target", S),
    ("start", I),
    ("end", I),
    ("score", F),
    ("sentence", I),
    ("actor", I),
    ("actor_name", S),
    ("stance_label", S),
    ("stance_score", F),
    ("stance_negative", F),
    ("stance_neutral", F),
    ("stance_positive", F),
];

const ACTORS: &[(&str, Kind)] = &[
    ("article_id", S),
    ("actor", I),
    ("kind", S),
    ("name", S),
    ("label", S),
    ("mentions", I),
    ("first", I),
    ("mention_ids", S),
    ("stance_label", S),
    ("stance_score", F),
    ("stance_negative", F),
    ("stance_neutral", F),
    ("stance_positive", F),
    ("count_negative", I),
    ("count_neutral", I),
    ("count_positive", I),
];

/// The columns of a table, in order.
pub fn columns(table: Table) -> &'static [(&'static str, Kind)] {
    match table {
        Table::Articles => ARTICLES,
        Table::Sentences => SENTENCES,
        Table::Entities => ENTITIES,
        Table::Actors => ACTORS,
    }
}

/// A cell.
enum V {
    S(Option<String>),
    I(Option<i64>),
    F(Option<f32>),
}

fn s(v: &str) -> V {
    V::S(Some(v.to_string()))
}
fn os(v: Option<&str>) -> V {
    V::S(v.map(str::to_string))
}
fn i(v: usize) -> V {
    V::I(i64::try_from(v).ok())
}
fn f(v: f32) -> V {
    V::F(Some(v))
}

/// A scored prediction: label, score, negative, neutral, positive.
fn scored(x: &Option<Scored>) -> [V; 5] {
    let p = |k: &str| V::F(x.as_ref().and_then(|x| x.probs.get(k).copied()));
    [
        os(x.as_ref().map(|x| x.label.as_str())),
        V::F(x.as_ref().map(|x| x.score)),
        p("negative"),
        p("neutral"),
        p("positive"),
    ]
}

enum Col {
    S(Vec<Option<String>>),
    I(Vec<Option<i64>>),
    F(Vec<Option<f32>>),
}

struct Frame {
    table: Table,
    cols: Vec<Col>,
    rows: usize,
}

impl Frame {
    fn new(table: Table) -> Frame {
        let cols = columns(table)
            .iter()
            .map(|(_, k)| match k {
                S => Col::S(Vec::new()),
                I => Col::I(Vec::new()),
                F => Col::F(Vec::new()),
            })
            .collect();
        Frame {
            table,
            cols,
            rows: 0,
        }
    }

    fn push(&mut self, row: Vec<V>) {
        debug_assert_eq!(row.len(), self.cols.len());
        for (c, v) in self.cols.iter_mut().zip(row) {
            match (c, v) {
                (Col::S(c), V::S(v)) => c.push(v),
                (Col::I(c), V::I(v)) => c.push(v),
                (Col::F(c), V::F(v)) => c.push(v),
                // a row built against another table: impossible by construction; keep the
                // column lengths equal anyway
                (Col::S(c), _) => c.push(None),
                (Col::I(c), _) => c.push(None),
                (Col::F(c), _) => c.push(None),
            }
        }
        self.rows += 1;
    }
}

fn chars_slice(text: &str, start: usize, end: usize) -> Option<String> {
    if start > end {
        return None;
    }
    let mut it = text.char_indices().map(|(b, _)| b).chain([text.len()]);
    let b0 = it.nth(start)?;
    let b1 = if end == start {
        b0
    } else {
        it.nth(end - start - 1)?
    };
    Some(text[b0..b1].to_string())
}

fn article_rows(frame: &mut Frame, a: &ArticleOut) {
    let id = a.id.as_str();
    match frame.table {
        // one row per record, built in `build`
        Table::Articles => {}
        Table::Sentences => {
            for (n, x) in a.sentences.iter().enumerate() {
                let text = a
                    .text
                    .as_deref()
                    .and_then(|t| chars_slice(t, x.start, x.end));
                let mut row = vec![
                    s(id),
                    i(n),
                    i(x.start),
                    i(x.end),
                    V::S(text),
                    s(x.role.as_str()),
                ];
                row.extend(scored(&x.sentiment));
                frame.push(row);
            }
        }
        Table::Entities => {
            let actor_name = |k: usize| a.actors.get(k).map(|x| x.actor.name.as_str());
            for (n, e) in a.entities.iter().enumerate() {
                let mut row = vec![
                    s(id),
                    s("entity"),
                    i(n),
                    s(&e.text),
                    s(&e.label),
                    V::S(None),
                    i(e.start),
                    i(e.end),
                    f(e.score),
                    i(e.sentence),
                    i(e.actor),
                    os(actor_name(e.actor)),
                ];
                row.extend(scored(&e.stance));
                frame.push(row);
            }
            for (n, t) in a.targets.iter().enumerate() {
                let mut row = vec![
                    s(id),
                    s("target"),
                    i(n),
                    s(&t.text),
                    V::S(None),
                    s(&t.target),
                    i(t.start),
                    i(t.end),
                    V::F(None),
                    i(t.sentence),
                    i(t.actor),
                    os(actor_name(t.actor)),
                ];
                row.extend(scored(&t.stance));
                frame.push(row);
            }
        }
        Table::Actors => {
            for (n, x) in a.actors.iter().enumerate() {
                let ids: Vec<String> = x.actor.mention_ids.iter().map(|m| m.to_string()).collect();
                let count =
                    |k: &str| V::I(Some(*x.actor.stance_counts.get(k).unwrap_or(&0) as i64));
                let mut row = vec![
                    s(id),
                    i(n),
                    s(&x.kind),
                    s(&x.actor.name),
                    s(&x.actor.label),
                    i(x.actor.mentions),
                    i(x.actor.first),
                    s(&ids.join(" ")),
                ];
                row.extend(scored(&x.actor.stance));
                row.extend([count("negative"), count("neutral"), count("positive")]);
                frame.push(row);
            }
        }
    }
}

fn tone(a: &ArticleOut) -> [V; 5] {
    let t = a.summary.tone.as_ref();
    let m = |k: &str| V::F(t.and_then(|t| t.mean.get(k).copied()));
    [
        os(t.map(|t| t.label.as_str())),
        V::F(t.map(|t| t.score)),
        m("negative"),
        m("neutral"),
        m("positive"),
    ]
}

fn build(corpus: &Corpus, table: Table) -> Frame {
    let mut frame = Frame::new(table);
    for r in &corpus.records {
        match (table, r) {
            (Table::Articles, Record::Article { line, article: a }) => {
                let mut row = vec![
                    i(*line),
                    s("ok"),
                    s(&a.id),
                    os(a.title.as_deref()),
                    i(a.chars),
                    i(a.sentences.len()),
                    i(a.summary.boilerplate),
                    i(a.entities.len()),
                    i(a.targets.len()),
                    i(a.actors.len()),
                ];
                row.extend(tone(a));
                row.extend([
                    i(a.warnings.len()),
                    V::S(None),
                    V::S(None),
                    os(a.models.ner.as_deref()),
                    os(a.models.sentiment.as_deref()),
                    os(a.models.stance.as_deref()),
                ]);
                frame.push(row);
            }
            (Table::Articles, Record::Error { line, error }) => frame.push(error_row(
                *line,
                "error",
                error.id.as_deref(),
                error.error.kind.as_str(),
                &error.error.message,
            )),
            (Table::Articles, Record::Unreadable { line, message }) => frame.push(error_row(
                *line,
                "unreadable",
                None,
                "unreadable_line",
                message,
            )),
            (_, Record::Article { article, .. }) => article_rows(&mut frame, article),
            (_, _) => {}
        }
    }
    frame
}

/// An articles-table row for an error record or an unreadable line: only the line, status,
/// id, error kind and message are set.
fn error_row(line: usize, status: &str, id: Option<&str>, kind: &str, message: &str) -> Vec<V> {
    let mut row = vec![i(line), s(status), os(id)];
    row.push(V::S(None)); // title
    row.extend((0..6).map(|_| V::I(None))); // chars .. actors
    row.push(V::S(None)); // tone_label
    row.extend((0..4).map(|_| V::F(None))); // tone_score .. tone_positive
    row.push(V::I(None)); // warnings
    row.push(s(kind));
    row.push(s(message));
    row.extend((0..3).map(|_| V::S(None))); // models
    row
}

/// What a CSV cell that a spreadsheet would run as a formula becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CsvFormulas {
    /// A text cell beginning with `=`, `+`, `-`, `@`, a tab or a carriage return gets a single
    /// quote (`'`) before it (OWASP's advice against CSV injection); numbers are untouched.
    #[default]
    Escape,
    /// Cells are written as they are.
    Keep,
}

/// How tables are written.
#[derive(Debug, Clone, Default)]
pub struct ExportOptions {
    pub csv_formulas: CsvFormulas,
}

/// Writes `table` of `corpus` in `format` with the default [`ExportOptions`]; returns the
/// number of rows.
pub fn export<W: Write + Send>(
    corpus: &Corpus,
    table: Table,
    format: Format,
    out: W,
) -> Result<usize, ReportError> {
    export_with(corpus, table, format, &ExportOptions::default(), out)
}

/// Writes `table` of `corpus` in `format`; returns the number of rows.
pub fn export_with<W: Write + Send>(
    corpus: &Corpus,
    table: Table,
    format: Format,
    options: &ExportOptions,
    out: W,
) -> Result<usize, ReportError> {
    let frame = build(corpus, table);
    match format {
        Format::Csv => write_csv(&frame, options.csv_formulas, out)?,
        Format::Parquet => write_parquet(&frame, out)?,
    }
    Ok(frame.rows)
}

/// A text cell as written to CSV: with `Escape`, a cell that a spreadsheet would read as a
/// formula gets a leading single quote. Shared with the bench report's CSV (crate::bench).
pub(crate) fn csv_cell(v: &str, formulas: CsvFormulas) -> String {
    let risky = v.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && formulas == CsvFormulas::Escape {
        format!("'{v}")
    } else {
        v.to_string()
    }
}

/// [`csv_cell`] of a cell that may be missing (empty field).
fn csv_text(v: &Option<String>, formulas: CsvFormulas) -> String {
    v.as_deref()
        .map_or_else(String::new, |v| csv_cell(v, formulas))
}

fn write_csv<W: Write>(frame: &Frame, formulas: CsvFormulas, out: W) -> Result<(), ReportError> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(columns(frame.table).iter().map(|(n, _)| *n))?;
    let mut record: Vec<String> = Vec::with_capacity(frame.cols.len());
    for r in 0..frame.rows {
        record.clear();
        for c in &frame.cols {
            record.push(match c {
                Col::S(v) => csv_text(&v[r], formulas),
                Col::I(v) => v[r].map(|x| x.to_string()).unwrap_or_default(),
                Col::F(v) => v[r].map(|x| x.to_string()).unwrap_or_default(),
            });
        }
        w.write_record(&record)?;
    }
    w.flush().map_err(ReportError::Write)?;
    Ok(())
}

/// The Arrow schema of a table (every column nullable).
pub fn schema(table: Table) -> Schema {
    Schema::new(
        columns(table)
            .iter()
            .map(|(n, k)| {
                let t = match k {
                    S => DataType::Utf8,
                    I => DataType::Int64,
                    F => DataType::Float32,
                };
                Field::new(*n, t, true)
            })
            .collect::<Vec<_>>(),
    )
}

fn write_parquet<W: Write + Send>(frame: &Frame, out: W) -> Result<(), ReportError> {
    let schema = Arc::new(schema(frame.table));
    let arrays: Vec<ArrayRef> = frame
        .cols
        .iter()
        .map(|c| -> ArrayRef {
            match c {
                Col::S(v) => Arc::new(v.iter().map(|x| x.as_deref()).collect::<StringArray>()),
                Col::I(v) => Arc::new(v.iter().copied().collect::<Int64Array>()),
                Col::F(v) => Arc::new(v.iter().copied().collect::<Float32Array>()),
            }
        })
        .collect();
    let batch = RecordBatch::try_new(schema.clone(), arrays)?;
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_created_by("newsmill export".into())
        .build();
    let mut w = ArrowWriter::try_new(out, schema, Some(props))?;
    w.write(&batch)?;
    w.close()?;
    Ok(())
}

/// Per-table row counts of a corpus, as the export would write them (for tests and messages).
pub fn row_count(corpus: &Corpus, table: Table) -> usize {
    match table {
        Table::Articles => corpus.records.len(),
        _ => corpus
            .articles()
            .map(|a| match table {
                Table::Sentences => a.sentences.len(),
                Table::Entities => a.entities.len() + a.targets.len(),
                _ => a.actors.len(),
            })
            .sum(),
    }
}
