//! `newsmill report` (a self-contained HTML page) and `newsmill export` (flat tables), both
//! reading annotated JSONL; `annotate --report` calls [`write_report_file`] on its output.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use newsmill_report::{read_corpus_path, CsvFormulas, ExportOptions, Format, ReportOptions, Table};

use crate::outfile::{InputIdentity, Target};

#[derive(Args)]
pub struct ReportArgs {
    /// Annotated JSONL (the output of `newsmill annotate`), or - for stdin
    input: PathBuf,
    /// The HTML file to write; - is stdout
    #[arg(short, long)]
    output: PathBuf,
    /// Show at most N articles in full (0: all); the overview, the article list and the
    /// error list cover every record, and the articles left out are named
    #[arg(long, default_value_t = ReportOptions::default().max_articles)]
    max_articles: usize,
    /// Page title [default: the input's name]
    #[arg(long)]
    title: Option<String>,
    /// No summary on stderr
    #[arg(short, long)]
    quiet: bool,
}

#[derive(Copy, Clone, ValueEnum)]
pub enum TableArg {
    Articles,
    Sentences,
    Entities,
    Actors,
}

#[derive(Copy, Clone, ValueEnum)]
pub enum FormatArg {
    Csv,
    Parquet,
}

#[derive(Copy, Clone, ValueEnum)]
pub enum CsvFormulasArg {
    Escape,
    Keep,
}

#[derive(Args)]
pub struct ExportArgs {
    /// Annotated JSONL (the output of `newsmill annotate`), or - for stdin
    input: PathBuf,
    /// Which table: one row per article (and per error record), sentence, mention (entity or
    /// target match) or actor (columns: docs/tables.md)
    #[arg(long)]
    table: TableArg,
    /// File format [default: parquet when the output ends in .parquet, else csv]
    #[arg(long)]
    format: Option<FormatArg>,
    /// The file to write; - is stdout
    #[arg(short, long)]
    output: PathBuf,
    /// CSV cells (text columns) that begin with =, +, -, @, a tab or a carriage return, which
    /// a spreadsheet would run as a formula: `escape` puts a single quote (') before them
    /// (OWASP's advice), `keep` writes them as they are (for tools that are not spreadsheets)
    #[arg(long, value_enum, default_value_t = CsvFormulasArg::Escape)]
    csv_formulas: CsvFormulasArg,
    /// No summary on stderr
    #[arg(short, long)]
    quiet: bool,
}

/// Reads annotated JSONL and writes its report to `output` (planned with
/// [`outfile::Target::plan`]); a message on stderr unless `quiet`.
pub fn write_report_file(
    input: &Path,
    output: &Target,
    opts: &ReportOptions,
    quiet: bool,
) -> Result<()> {
    let t0 = Instant::now();
    let corpus = read_corpus_path(input)?;
    let mut summary = None;
    output
        .write_whole(|f| {
            summary = Some(newsmill_report::write_report(&corpus, opts, f)?);
            Ok(())
        })
        .with_context(|| format!("cannot write the report {}", output.name()))?;
    if let (false, Some(s)) = (quiet, summary) {
        let left_out = s.articles - s.shown;
        say!(
            "newsmill: report {}: {} articles ({} shown in full{}), {} error records, {} unreadable lines, in {:.2}s",
            output.name(),
            s.articles,
            s.shown,
            if left_out > 0 {
                format!("; {left_out} left out, raise --max-articles or use 0 for all")
            } else {
                String::new()
            },
            s.errors,
            s.unreadable,
            t0.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// The output of `report -o` / `export -o`, planned before the input is read: never the input
/// itself (also through links), locked against a second run on the same file.
fn plan_output(input: &Path, output: &Path) -> Result<Target> {
    Target::plan(Some(output), "-o", &InputIdentity::of_file(input))
}

pub fn run_report(args: ReportArgs) -> Result<ExitCode> {
    let opts = ReportOptions {
        max_articles: args.max_articles,
        title: args.title.clone(),
        ..ReportOptions::default()
    };
    let target = plan_output(&args.input, &args.output)?;
    write_report_file(&args.input, &target, &opts, args.quiet)?;
    Ok(ExitCode::SUCCESS)
}

pub fn run_export(args: ExportArgs) -> Result<ExitCode> {
    let t0 = Instant::now();
    let table = match args.table {
        TableArg::Articles => Table::Articles,
        TableArg::Sentences => Table::Sentences,
        TableArg::Entities => Table::Entities,
        TableArg::Actors => Table::Actors,
    };
    let format = match args.format {
        Some(FormatArg::Csv) => Format::Csv,
        Some(FormatArg::Parquet) => Format::Parquet,
        None if args
            .output
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("parquet")) =>
        {
            Format::Parquet
        }
        None => Format::Csv,
    };
    let target = plan_output(&args.input, &args.output)?;
    if matches!(target, Target::Stdout)
        && matches!(format, Format::Parquet)
        && std::io::IsTerminal::is_terminal(&std::io::stdout())
    {
        bail!("refusing to write Parquet to a terminal: use -o FILE");
    }
    let corpus = read_corpus_path(&args.input)?;
    let options = ExportOptions {
        csv_formulas: match args.csv_formulas {
            CsvFormulasArg::Escape => CsvFormulas::Escape,
            CsvFormulasArg::Keep => CsvFormulas::Keep,
        },
    };
    let mut rows = 0;
    target
        .write_whole(|f| {
            rows = newsmill_report::export_with(&corpus, table, format, &options, f)?;
            Ok(())
        })
        .with_context(|| format!("cannot write {}", target.name()))?;
    if !args.quiet {
        say!(
            "newsmill: {} rows from {} records in {:.2}s",
            rows,
            corpus.records.len(),
            t0.elapsed().as_secs_f64()
        );
    }
    Ok(ExitCode::SUCCESS)
}
