//! Reads annotated JSONL (newsmill's output, docs/output.md) back and shows it: a
//! self-contained HTML report ([`html`]) and flat tables in CSV or Parquet ([`export`]). Also
//! shows the report of `newsmill bench` ([`bench`]): a terminal table, CSV and an HTML page.
//!
//! Nothing here panics on input: a line that is not an output record becomes
//! [`Record::Unreadable`], listed in the report and counted in the `articles` table.

pub mod bench;
pub mod export;
pub mod html;
pub mod read;

pub use bench::{bench_table, write_bench_csv, write_bench_html};
pub use export::{export, export_with, CsvFormulas, ExportOptions, Format, Table};
pub use html::{write_report, ReportOptions, ReportSummary};
pub use read::{read_corpus, read_corpus_path, Corpus, Record};

/// Everything that can stop a report or an export.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot read {path}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// Writing the report or a table failed (askama renders straight into the writer, so a
    /// template cannot fail otherwise).
    #[error("cannot write the output")]
    Write(#[source] std::io::Error),
    #[error("cannot write CSV")]
    Csv(#[from] csv::Error),
    #[error("cannot build the Arrow table")]
    Arrow(#[from] arrow_schema::ArrowError),
    #[error("cannot write Parquet")]
    Parquet(#[from] parquet::errors::ParquetError),
}
