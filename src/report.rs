//! `newsmill report` (a self-contained HTML page) and `newsmill export` (flat tables), both
//! reading annotated JSONL; `annotate --report` calls [`write_report_file`] on its output.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use newsmill_report::{read_corpus_path, Format, ReportOptions, Table};

#[derive(Args)]
pub struct ReportArgs {
    /// Annotated JSONL (the output of `newsmill annotate`), or - for stdin
    input: PathBuf,
    /// The HTML file to write
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
    /// No summary on stderr
    #[arg(short, long)]
    quiet: bool,
}

/// Writes to `path` through a temporary file beside it, renamed into place when complete.
fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> Result<()>,
) -> Result<()> {
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(".newsmill-partial");
    let tmp = PathBuf::from(tmp_name);
    let mut f =
        std::fs::File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    let result = write(&mut f).and_then(|()| {
        f.sync_all()
            .with_context(|| format!("cannot write {}", tmp.display()))
    });
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, path)
        .with_context(|| format!("cannot rename {} to {}", tmp.display(), path.display()))
}

/// Reads annotated JSONL and writes its report; a message on stderr unless `quiet`.
pub fn write_report_file(
    input: &Path,
    output: &Path,
    opts: &ReportOptions,
    quiet: bool,
) -> Result<()> {
    let t0 = Instant::now();
    let corpus = read_corpus_path(input)?;
    let mut summary = None;
    write_atomically(output, |f| {
        summary = Some(newsmill_report::write_report(&corpus, opts, f)?);
        Ok(())
    })
    .with_context(|| format!("cannot write the report {}", output.display()))?;
    if let (false, Some(s)) = (quiet, summary) {
        let left_out = s.articles - s.shown;
        eprintln!(
            "newsmill: report {}: {} articles ({} shown in full{}), {} error records, {} unreadable lines, in {:.2}s",
            output.display(),
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

pub fn run_report(args: ReportArgs) -> Result<ExitCode> {
    let opts = ReportOptions {
        max_articles: args.max_articles,
        title: args.title.clone(),
        ..ReportOptions::default()
    };
    write_report_file(&args.input, &args.output, &opts, args.quiet)?;
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
    let corpus = read_corpus_path(&args.input)?;
    let rows = if args.output.as_os_str() == "-" {
        if matches!(format, Format::Parquet) && std::io::IsTerminal::is_terminal(&std::io::stdout())
        {
            bail!("refusing to write Parquet to a terminal: use -o FILE");
        }
        newsmill_report::export(
            &corpus,
            table,
            format,
            std::io::BufWriter::new(std::io::stdout()),
        )?
    } else {
        let mut rows = 0;
        write_atomically(&args.output, |f| {
            rows = newsmill_report::export(
                &corpus,
                table,
                format,
                std::io::BufWriter::with_capacity(1 << 20, f),
            )?;
            Ok(())
        })
        .with_context(|| format!("cannot write {}", args.output.display()))?;
        rows
    };
    if !args.quiet {
        eprintln!(
            "newsmill: {} rows from {} records in {:.2}s",
            rows,
            corpus.records.len(),
            t0.elapsed().as_secs_f64()
        );
    }
    Ok(ExitCode::SUCCESS)
}
