//! `newsmill annotate`: a corpus in, one JSON line per article out, through the one output
//! path (`outfile.rs`).

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use newsmill_pipeline::input::{Fields, Source};
use newsmill_pipeline::{Engine, PipelineError};

use crate::cli::AnnotateArgs;
use crate::settings::Settings;
use crate::{outfile, process, report, signals, workers};

pub fn run(args: AnnotateArgs) -> Result<ExitCode> {
    if args.quiet {
        process::quiet_libtorch();
    }
    let settings = Settings::annotate(&args)?;
    let opts = &settings.annotate;
    let source = Source::from_args(&args.inputs)?;
    for warning in source.check()? {
        say!("newsmill: warning: {warning}");
    }
    for part in source.parts() {
        if let Source::Jsonl(p) = part {
            // a regular file, or a stream (FIFO, /dev/fd/N of a process substitution)
            if let Err(e) = std::fs::metadata(p) {
                bail!("input {} does not exist ({e})", p.display());
            }
        }
    }
    let fields = &settings.fields;
    // which checkpoint answers which task, once: loading, the worker cap and the run record
    let plan = settings.plan()?;
    let stop = signals::install();

    // Everything is checked before the output is touched: input, output != input, the lock,
    // `--resume`'s run record (then, in `open` below, the models).
    let input_id = outfile::InputIdentity::of(&source);
    let mut target = outfile::Target::plan(args.output.as_deref(), "-o", &input_id)?;
    if args.report.is_some() && !matches!(target, outfile::Target::File(_)) {
        bail!("--report needs -o FILE (a regular file, not stdout or a device)");
    }
    // the report's file is checked and locked now, before any work: never the input or the
    // annotated output (also through links), its folder exists
    let report_target = match &args.report {
        Some(html) => {
            let mut protected = input_id.clone();
            protected.protect(&target, "the annotated output (-o)");
            Some(outfile::Target::plan(Some(html), "--report", &protected)?)
        }
        None => None,
    };
    // the run record (for `-o FILE` only)
    let record = match &target {
        outfile::Target::File(_) => serde_json::json!({
            "newsmill_run_record": 1,
            "input": input_id.describe(&source, stop),
            "settings": settings.output_settings(),
            "models": outfile::models_identity(&plan.folders()),
        }),
        _ => serde_json::Value::Null,
    };
    let resume = if args.resume {
        if !source.rereadable() {
            bail!("--resume needs an input that can be read again (a file or folder), not stdin or a stream");
        }
        let outfile::Target::File(t) = &target else {
            bail!("--resume needs -o FILE (a regular file, not stdout or a device)");
        };
        let r = t.resume_state(&record)?;
        check_resume(&source, fields, &r)?;
        Some(r)
    } else {
        None
    };
    let done = resume.as_ref().map_or(0, |r| r.records);

    let mut engine = workers::engine_options(&settings, &plan, &source);
    engine.skip_records = done;

    // progress: input bytes read of the total (compressed bytes for compressed inputs), with
    // an ETA, when every input's size is known; a spinner with the record count otherwise
    let bytes_read = newsmill_pipeline::input::BytesRead::default();
    let bar = (!args.quiet && std::io::stderr().is_terminal()).then(|| {
        let (b, template) = match source.total_bytes() {
            Some(total) => (
                indicatif::ProgressBar::new(total),
                "{bar:30} {bytes}/{total_bytes} [{elapsed_precise}, ETA {eta}] {msg}",
            ),
            None => (
                indicatif::ProgressBar::new_spinner(),
                "{spinner} {bytes} read [{elapsed_precise}] {msg}",
            ),
        };
        b.set_style(
            indicatif::ProgressStyle::with_template(template)
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    });
    let started = std::time::Instant::now();
    let on_record = |n: u64| {
        if let Some(b) = &bar {
            b.set_position(bytes_read.load(std::sync::atomic::Ordering::Relaxed));
            let rate = n as f64 / started.elapsed().as_secs_f64().max(1e-9);
            b.set_message(format!("{} articles, {rate:.1}/s", n + done));
        }
    };
    // every worker's models are loaded before the input or the output is opened: a broken
    // model folder ends the run with nothing changed
    let runner = Engine::start(&plan, opts, &engine)?;
    let reader = source
        .open_counted(fields.clone(), Some(stop), Some(bytes_read.clone()))
        .map_err(|source_err| PipelineError::Input {
            input: source.parts()[0].name(),
            source: source_err,
        })?;
    let mut out = outfile::Sink::new();
    let mut work_file: Option<std::fs::File> = None;
    match &mut target {
        outfile::Target::Stdout => out.set(
            Box::new(std::io::stdout()),
            "standard output".into(),
            String::new(),
        ),
        outfile::Target::Stream(p) => {
            let f = std::fs::OpenOptions::new()
                .write(true)
                .open(&*p)
                .with_context(|| format!("cannot open {}", p.display()))?;
            out.set(Box::new(f), p.display().to_string(), String::new());
        }
        outfile::Target::File(t) => {
            let f = t.open(&record, resume.as_ref())?;
            let work = resume
                .as_ref()
                .filter(|r| r.records > 0)
                .map_or(t.partial.clone(), |r| r.work.clone());
            let note = format!(
                "; the complete lines written so far are in {} ({} is unchanged); rerun with --resume once fixed",
                work.display(),
                t.shown.display()
            );
            out.set(Box::new(f.try_clone()?), work.display().to_string(), note);
            work_file = Some(f);
        }
    }
    let mut summary = runner.run(reader, &mut out, &on_record, stop)?;
    summary.elapsed += runner.model_load();
    out.flush().context("cannot write output")?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let s = &summary.stats;
    if !args.quiet {
        say!(
            "newsmill: {} records: {} annotated, {} errors, {} warnings in {:.1}s ({:.1} articles/s, peak RSS {:.0} MiB){}",
            summary.records,
            s.articles,
            s.errors,
            s.warnings,
            summary.elapsed.as_secs_f64(),
            s.articles as f64 / summary.elapsed.as_secs_f64().max(1e-9),
            process::peak_rss_mib().unwrap_or(0.0),
            if done > 0 { format!("; {done} records were already in the output") } else { String::new() },
        );
    }
    if summary.interrupted {
        let at = match &target {
            outfile::Target::File(t) => {
                let work = resume
                    .as_ref()
                    .filter(|r| r.records > 0)
                    .map_or(t.partial.clone(), |r| r.work.clone());
                if work == t.path {
                    format!(" to {}", t.shown.display())
                } else {
                    format!(
                        " to {} ({} is unchanged)",
                        work.display(),
                        t.shown.display()
                    )
                }
            }
            outfile::Target::Stream(p) => format!(" to {}", p.display()),
            outfile::Target::Stdout => String::new(),
        };
        say!(
            "newsmill: interrupted; {} records written{at}. Rerun with --resume to finish.",
            summary.records as u64 + done,
        );
        return Ok(ExitCode::from(130));
    }
    if let (outfile::Target::File(t), Some(f)) = (&target, work_file.as_ref()) {
        t.finish(f)?;
        if let Some(html) = &report_target {
            let opts = newsmill_report::ReportOptions {
                max_articles: args.max_articles,
                ..Default::default()
            };
            report::write_report_file(&t.path, html, &opts, args.quiet)?;
        }
    }
    Ok(if s.errors > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// Checks that the output's last record has the id of the input record at the same position.
fn check_resume(source: &Source, fields: &Fields, r: &outfile::Resume) -> Result<()> {
    if r.records == 0 {
        return Ok(());
    }
    let Some(last) = source.open(fields.clone())?.nth(r.records as usize - 1) else {
        bail!(
            "--resume: the output holds {} records but the input has fewer",
            r.records
        );
    };
    let id = match last {
        Ok(a) => Some(a.id),
        Err(b) => b.id,
    };
    if id != r.last_id {
        bail!(
            "--resume: output record {} has id {:?} but input record {} has id {:?}: not the same input?",
            r.records,
            r.last_id,
            r.records,
            id
        );
    }
    Ok(())
}
