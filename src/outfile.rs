//! Every output newsmill writes (`annotate -o`, `annotate --report`, `report -o`, `export -o`)
//! goes through [`Target::plan`], so that no run loses a user's data.
//!
//! For `OUT` a regular file or a new one:
//! - a lock: `OUT.newsmill.json` beside it is opened and locked (`flock`, advisory, exclusive)
//!   for the whole run; a second run on the same `-o` fails at once. The same file is the run
//!   record that `--resume` checks (input identity, settings that change the output, models,
//!   and the identity of the output file it describes);
//! - records go to `OUT.newsmill-partial` beside it, renamed over `OUT` only when the run
//!   finishes: a failed or interrupted run leaves `OUT` as it was, and its partial output (only
//!   complete lines, except after `kill -9` or power loss) stays for `--resume`;
//! - `--resume` continues the partial output if there is one, else appends to `OUT`, after
//!   checking the run record and the last id, before changing anything;
//! - an output that is the input (same device and inode, so also through symlinks and hard
//!   links), or another output of the same run (`--report` naming `-o`'s file), is refused
//!   before any work;
//! - `report` and `export` write their whole output through the same partial file and lock
//!   ([`Target::write_whole`]): two runs on one output never mix.
//!
//! `-` is stdout; an existing output that is not a regular file (`/dev/null`, a FIFO, a
//! device node) is written directly, never replaced (no lock, no run record, no `--resume`).
//! A reader that goes away (closed pipe) ends the process quietly, as SIGPIPE would.

use std::fs::{File, Metadata, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{bail, Context, Result};
use newsmill_pipeline::input::{self, Source};
use serde_json::{json, Value};

use crate::signals;

/// Where the records go.
pub enum Target {
    Stdout,
    /// An existing output that is not a regular file, written as it is.
    Stream(PathBuf),
    File(FileTarget),
}

/// A regular-file output with its lock, run record and partial file.
pub struct FileTarget {
    /// The output (symlinks resolved: the file that is replaced is the one they point to).
    pub path: PathBuf,
    /// The output as the user named it, for messages.
    pub shown: PathBuf,
    pub partial: PathBuf,
    pub record_path: PathBuf,
    /// The run record, also the lock (held while this is open).
    record_file: File,
    /// The run record's content before this run.
    old_record: String,
    /// This run created the (empty) run record.
    created: bool,
}

/// What an earlier run left, found by `--resume` (nothing is changed yet).
pub struct Resume {
    /// The file that is continued: the partial output, or the output itself.
    pub work: PathBuf,
    pub records: u64,
    pub last_id: Option<String>,
    /// Bytes of complete lines; anything after them is a torn last line.
    complete_bytes: u64,
    torn_bytes: u64,
}

fn suffixed(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn same_file(a: &Metadata, b: &Metadata) -> bool {
    a.dev() == b.dev() && a.ino() == b.ino()
}

/// The file `p` names, symlinks resolved, whether or not it exists yet.
fn resolve(p: &Path, flag: &str) -> Result<PathBuf> {
    if let Ok(c) = std::fs::canonicalize(p) {
        return Ok(c);
    }
    if let Ok(target) = std::fs::read_link(p) {
        // a dangling symlink: the file it names is created
        let base = p.parent().unwrap_or(Path::new("."));
        return resolve(&base.join(target), flag);
    }
    let name = p
        .file_name()
        .with_context(|| format!("{flag} {}: not a file name", p.display()))?;
    let parent = match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let dir = std::fs::canonicalize(parent).with_context(|| {
        format!(
            "{flag} {}: folder {} not found",
            p.display(),
            parent.display()
        )
    })?;
    Ok(dir.join(name))
}

impl Target {
    /// Plans the output named by `flag` (`-o`, `--report`): checks that it is none of the
    /// files `protected` names and takes the lock. Changes nothing that exists.
    pub fn plan(output: Option<&Path>, flag: &str, protected: &InputIdentity) -> Result<Target> {
        let Some(p) = output else {
            return Ok(Target::Stdout);
        };
        if p.as_os_str() == "-" {
            return Ok(Target::Stdout);
        }
        if let Ok(meta) = std::fs::metadata(p) {
            protected.refuse_same(&meta, flag, p)?;
            if meta.is_dir() {
                bail!("{flag} {} is a folder", p.display());
            }
            if !meta.is_file() {
                return Ok(Target::Stream(p.to_path_buf()));
            }
        }
        let path = resolve(p, flag)?;
        protected.refuse_named(&path, flag, p)?;
        protected.refuse_inside(&path, flag, p)?;
        let partial = suffixed(&path, ".newsmill-partial");
        if let Ok(meta) = std::fs::metadata(&partial) {
            protected.refuse_same(&meta, flag, &partial)?;
        }
        let record_path = suffixed(&path, ".newsmill.json");
        let (mut record_file, created) = lock(&record_path, p)?;
        let mut old_record = String::new();
        let _ = record_file.read_to_string(&mut old_record);
        Ok(Target::File(FileTarget {
            path,
            shown: p.to_path_buf(),
            partial,
            record_path,
            record_file,
            old_record,
            created,
        }))
    }

    /// The output's name in messages.
    pub fn name(&self) -> String {
        match self {
            Target::Stdout => "standard output".into(),
            Target::Stream(p) => p.display().to_string(),
            Target::File(t) => t.shown.display().to_string(),
        }
    }

    /// Writes a whole output in one go (a report, a table): to stdout, into a stream or
    /// device as it is, or to a regular file through its partial file (this run's alone: the
    /// lock is held), made durable and renamed over the output only when complete. A failed
    /// write leaves the output as it was and removes the partial file.
    pub fn write_whole(
        &self,
        write: impl FnOnce(&mut (dyn Write + Send)) -> Result<()>,
    ) -> Result<()> {
        match self {
            Target::Stdout => {
                let mut out = QuietPipe(std::io::BufWriter::new(std::io::stdout()));
                write(&mut out)?;
                out.flush().context("cannot write standard output")
            }
            Target::Stream(p) => {
                let f = OpenOptions::new()
                    .write(true)
                    .open(p)
                    .with_context(|| format!("cannot open {}", p.display()))?;
                let mut out = QuietPipe(std::io::BufWriter::new(f));
                write(&mut out)?;
                out.flush()
                    .with_context(|| format!("cannot write {}", p.display()))
            }
            Target::File(t) => {
                let result = (|| {
                    let mut f = t.create_partial()?;
                    {
                        let mut out = std::io::BufWriter::with_capacity(1 << 20, &mut f);
                        write(&mut out)?;
                        out.flush()
                            .with_context(|| format!("cannot write {}", t.partial.display()))?;
                    }
                    t.finish(&f)
                })();
                if result.is_err() {
                    let _ = std::fs::remove_file(&t.partial);
                }
                result
            }
        }
    }
}

/// A writer to a pipe or stream whose reader going away (EPIPE) ends the process quietly, as
/// a Unix tool killed by SIGPIPE (status 141 in a shell), not with an error message.
struct QuietPipe<W: Write>(W);

impl<W: Write> QuietPipe<W> {
    fn check<T>(r: std::io::Result<T>) -> std::io::Result<T> {
        if let Err(e) = &r {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                signals::die_of_sigpipe();
            }
        }
        r
    }
}

impl<W: Write> Write for QuietPipe<W> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        Self::check(self.0.write(data))
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Self::check(self.0.flush())
    }
}

/// Opens (creating it if needed) and locks the run record; fails at once if another run holds
/// it. Returns the file and whether this run created it.
fn lock(record_path: &Path, shown: &Path) -> Result<(File, bool)> {
    loop {
        let created = !record_path.exists();
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(record_path)
            .with_context(|| {
                format!(
                    "cannot create {} (the lock and run record beside the output)",
                    record_path.display()
                )
            })?;
        // SAFETY: flock on a file descriptor we own; no memory is involved.
        let rc = unsafe {
            libc::flock(
                std::os::fd::AsRawFd::as_raw_fd(&file),
                libc::LOCK_EX | libc::LOCK_NB,
            )
        };
        if rc != 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
                bail!(
                    "another newsmill run is writing {} (it holds the lock on {}); wait for it to finish or stop it",
                    shown.display(),
                    record_path.display()
                );
            }
            return Err(e).with_context(|| format!("cannot lock {}", record_path.display()));
        }
        // a run that gave up removes the empty record it created: make sure the locked file
        // is still the one the name points to
        let mine = file.metadata()?;
        if std::fs::metadata(record_path).is_ok_and(|m| same_file(&m, &mine)) {
            return Ok((file, created));
        }
    }
}

impl Drop for FileTarget {
    /// A run that stopped before writing its run record (a model or input problem) removes
    /// the empty one it created: a failed run leaves nothing behind.
    fn drop(&mut self) {
        if self.created && self.record_file.metadata().is_ok_and(|m| m.len() == 0) {
            let _ = std::fs::remove_file(&self.record_path);
        }
    }
}

impl FileTarget {
    /// Creates (empties) the partial file, with the permissions of the output it will replace.
    fn create_partial(&self) -> Result<File> {
        let file = File::create(&self.partial)
            .with_context(|| format!("cannot create {}", self.partial.display()))?;
        if let Ok(old) = std::fs::metadata(&self.path) {
            let _ = file.set_permissions(old.permissions());
        }
        Ok(file)
    }

    /// For `--resume`: what the earlier run left, checked against `record` (this run's
    /// identity). Fails on any mismatch; changes nothing.
    pub fn resume_state(&self, record: &Value) -> Result<Resume> {
        let work = if self.partial.exists() {
            self.partial.clone()
        } else {
            self.path.clone()
        };
        let meta = match std::fs::metadata(&work) {
            Ok(m) => m,
            Err(_) => return Ok(Resume::empty(work)),
        };
        if meta.len() == 0 {
            return Ok(Resume::empty(work));
        }
        let shown = self.shown.display();
        let old: Value = serde_json::from_str(&self.old_record).map_err(|_| {
            anyhow::anyhow!(
                "--resume: {} has no readable run record ({}), so it cannot be checked against this input; rerun without --resume to start over",
                work.display(),
                self.record_path.display()
            )
        })?;
        if old.get("output") != Some(&json!({"dev": meta.dev(), "ino": meta.ino()})) {
            bail!(
                "--resume: the run record {} describes another file than {} (was the output copied or replaced?); rerun without --resume to start over",
                self.record_path.display(),
                work.display()
            );
        }
        for (key, what, hint) in [
            ("input", "the input is not", "not the same input?"),
            (
                "settings",
                "the settings that change the output are not",
                "rerun with the earlier settings, or without --resume to start over",
            ),
            (
                "models",
                "the models are not",
                "rerun with the earlier models, or without --resume to start over",
            ),
        ] {
            if old.get(key) != record.get(key) {
                bail!(
                    "--resume: {what} the same as in the run that wrote {shown}: {hint}\n{}",
                    differences(old.get(key), record.get(key))
                );
            }
        }
        scan(&work)
    }

    /// Opens the file records go to, once the models are loaded: for a fresh run the partial
    /// output (emptied) with a new run record; for `--resume` the work file, its torn last
    /// line (if any) cut first.
    pub fn open(&mut self, record: &Value, resume: Option<&Resume>) -> Result<File> {
        if let Some(r) = resume.filter(|r| r.records > 0 || r.work.exists()) {
            if r.torn_bytes > 0 {
                say!(
                    "newsmill: --resume: dropping a partial last line ({} bytes) of {}",
                    r.torn_bytes,
                    r.work.display()
                );
                OpenOptions::new()
                    .write(true)
                    .open(&r.work)?
                    .set_len(r.complete_bytes)
                    .with_context(|| format!("cannot cut {}", r.work.display()))?;
            }
            if r.records > 0 {
                return OpenOptions::new()
                    .append(true)
                    .open(&r.work)
                    .with_context(|| format!("cannot open {}", r.work.display()));
            }
        }
        let file = self.create_partial()?;
        let meta = file.metadata()?;
        let mut rec = record.clone();
        rec["output"] = json!({"dev": meta.dev(), "ino": meta.ino()});
        let text = serde_json::to_string_pretty(&rec)? + "\n";
        let f = &mut self.record_file;
        f.set_len(0)
            .and_then(|_| f.seek(SeekFrom::Start(0)))
            .and_then(|_| f.write_all(text.as_bytes()))
            .and_then(|_| f.sync_all())
            .with_context(|| format!("cannot write {}", self.record_path.display()))?;
        Ok(file)
    }

    /// The run finished: the work file is made durable and the partial output replaces the
    /// output.
    pub fn finish(&self, file: &File) -> Result<()> {
        file.sync_all()
            .with_context(|| format!("cannot write {}", self.partial.display()))?;
        let meta = file.metadata()?;
        if std::fs::metadata(&self.partial).is_ok_and(|m| same_file(&m, &meta)) {
            std::fs::rename(&self.partial, &self.path).with_context(|| {
                format!(
                    "cannot rename {} to {}",
                    self.partial.display(),
                    self.path.display()
                )
            })?;
            if let Some(dir) = self.path.parent() {
                let _ = File::open(dir).and_then(|d| d.sync_all());
            }
        }
        Ok(())
    }
}

/// What differs between two parts of run records, one line each: `  KEY: then X, now Y` for
/// the keys of two objects that differ, else the two values whole.
fn differences(then: Option<&Value>, now: Option<&Value>) -> String {
    let show = |v: Option<&Value>| v.map_or("none".into(), Value::to_string);
    match (then, now) {
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter()
                .filter(|k| a.get(*k) != b.get(*k))
                .map(|k| format!("  {k}: then {}, now {}", show(a.get(k)), show(b.get(k))))
                .collect::<Vec<_>>()
                .join("\n")
        }
        _ => format!("  then: {}\n  now:  {}", show(then), show(now)),
    }
}

impl Resume {
    fn empty(work: PathBuf) -> Resume {
        Resume {
            work,
            records: 0,
            last_id: None,
            complete_bytes: 0,
            torn_bytes: 0,
        }
    }
}

/// Counts the complete lines of `work` and reads the last one's id; changes nothing.
fn scan(work: &Path) -> Result<Resume> {
    let file = File::open(work).with_context(|| format!("cannot read {}", work.display()))?;
    let len = file.metadata()?.len();
    let mut reader = BufReader::new(file);
    let (mut records, mut complete_bytes) = (0u64, 0u64);
    let (mut last, mut line) = (Vec::new(), Vec::new());
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line)?;
        if n == 0 || line.last() != Some(&b'\n') {
            break;
        }
        records += 1;
        complete_bytes += n as u64;
        std::mem::swap(&mut last, &mut line);
    }
    let last_id = if records == 0 {
        None
    } else {
        let v: Value = serde_json::from_slice(&last).with_context(|| {
            format!(
                "--resume: the last complete line of {} is not JSON",
                work.display()
            )
        })?;
        v.get("id").and_then(|i| i.as_str()).map(str::to_string)
    };
    Ok(Resume {
        work: work.to_path_buf(),
        records,
        last_id,
        complete_bytes,
        torn_bytes: len - complete_bytes,
    })
}

/// FNV-1a, 64 bits: a hash that stays the same across builds and Rust versions (std's may
/// not), for the run record.
fn fnv(data: &[u8], mut h: u64) -> u64 {
    for &b in data {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

const FNV_START: u64 = 0xcbf2_9ce4_8422_2325;
const SAMPLE: u64 = 1 << 20;

/// Size and a hash of the first and last MiB of a file (whole if smaller): enough to tell two
/// corpora or two checkpoints apart without reading gigabytes.
fn file_digest(p: &Path) -> Value {
    let digest = || -> std::io::Result<Value> {
        let mut f = File::open(p)?;
        let len = f.metadata()?.len();
        let mut buf = Vec::new();
        (&mut f).take(SAMPLE).read_to_end(&mut buf)?;
        let mut h = fnv(&buf, FNV_START);
        if len > SAMPLE {
            f.seek(SeekFrom::Start(len.saturating_sub(SAMPLE).max(SAMPLE)))?;
            buf.clear();
            f.take(SAMPLE).read_to_end(&mut buf)?;
            h = fnv(&buf, h);
        }
        Ok(json!({"bytes": len, "fnv64": format!("{h:016x}")}))
    };
    digest().unwrap_or_else(|e| json!({"error": e.to_string()}))
}

/// What identifies the input, for the same-file checks and the run record; also the other
/// files of the run that an output must not replace ([`InputIdentity::protect`]).
#[derive(Clone)]
pub struct InputIdentity {
    /// The input files (following symlinks).
    metas: Vec<Metadata>,
    /// The input folders, canonical.
    dirs: Vec<PathBuf>,
    /// Other files of the run (resolved, existing or not), with what they are.
    named: Vec<(PathBuf, String)>,
}

impl InputIdentity {
    pub fn of(source: &Source) -> InputIdentity {
        let mut id = InputIdentity {
            metas: Vec::new(),
            dirs: Vec::new(),
            named: Vec::new(),
        };
        for part in source.parts() {
            match part {
                Source::Stdin => id.metas.extend(std::fs::metadata("/dev/stdin").ok()),
                Source::Jsonl(p) => id.metas.extend(std::fs::metadata(p).ok()),
                Source::Dir(p) => id.dirs.extend(std::fs::canonicalize(p).ok()),
                Source::Many(_) => {}
            }
        }
        id
    }

    /// The identity of one input file (`-`: stdin), as `report` and `export` read.
    pub fn of_file(p: &Path) -> InputIdentity {
        let meta = if p.as_os_str() == "-" {
            std::fs::metadata("/dev/stdin")
        } else {
            std::fs::metadata(p)
        };
        InputIdentity {
            metas: meta.ok().into_iter().collect(),
            dirs: Vec::new(),
            named: Vec::new(),
        }
    }

    /// Adds the files of a planned output (the output, its partial file and run record) as
    /// files another output of the same run must not replace; `what` names it in messages.
    pub fn protect(&mut self, target: &Target, what: &str) {
        let Target::File(t) = target else { return };
        for p in [&t.path, &t.partial, &t.record_path] {
            self.named.push((p.clone(), what.to_string()));
            self.metas.extend(std::fs::metadata(p).ok());
        }
    }

    /// The input's part of the run record: a file's size and sampled hash, a folder's listing
    /// (names and sizes of its `.txt` files in reading order; the walk ends early if `stop`
    /// is raised); for several inputs the list of theirs, in order.
    pub fn describe(&self, source: &Source, stop: &AtomicBool) -> Value {
        match source {
            Source::Many(v) => json!({
                "kind": "several",
                "inputs": v.iter().map(|s| describe_one(s, stop)).collect::<Vec<_>>(),
            }),
            one => describe_one(one, stop),
        }
    }

    /// Refuses an output that is the input file itself (also through links) or another
    /// output of the run.
    fn refuse_same(&self, out: &Metadata, flag: &str, shown: &Path) -> Result<()> {
        if self.metas.iter().any(|m| same_file(m, out)) && out.is_file() {
            bail!(
                "{flag} {} is the input itself or another output of this run (same file): refusing to overwrite it",
                shown.display()
            );
        }
        Ok(())
    }

    /// Refuses an output whose resolved path is another output of the run (which may not
    /// exist yet).
    fn refuse_named(&self, out: &Path, flag: &str, shown: &Path) -> Result<()> {
        if let Some((_, what)) = self.named.iter().find(|(p, _)| p == out) {
            bail!(
                "{flag} {} is {what} of this run: refusing to overwrite it",
                shown.display()
            );
        }
        Ok(())
    }

    /// Refuses an output that the folder input would read as one of its articles.
    fn refuse_inside(&self, out: &Path, flag: &str, shown: &Path) -> Result<()> {
        for dir in &self.dirs {
            if input::is_txt(out) && out.starts_with(dir) {
                bail!(
                    "{flag} {} is inside the input folder and would be read as an article",
                    shown.display()
                );
            }
        }
        Ok(())
    }
}

/// One input's part of the run record (see [`InputIdentity::describe`]).
fn describe_one(source: &Source, stop: &AtomicBool) -> Value {
    match source {
        Source::Stdin => json!({"kind": "stdin"}),
        Source::Jsonl(p) if std::fs::metadata(p).is_ok_and(|m| m.is_file()) => {
            json!({"kind": "jsonl", "content": file_digest(p)})
        }
        Source::Jsonl(_) => json!({"kind": "stream"}),
        Source::Many(v) => Value::Array(v.iter().map(|s| describe_one(s, stop)).collect()),
        Source::Dir(p) => {
            let mut h = FNV_START;
            let mut files = 0u64;
            // the reader's own walk: the listing is the set of files it reads
            for e in input::walker(p).into_iter().flatten() {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                if input::is_txt(e.path()) {
                    files += 1;
                    let rel = e.path().strip_prefix(p).unwrap_or(e.path());
                    h = fnv(rel.as_os_str().as_encoded_bytes(), h);
                    let size = e.metadata().map_or(0, |m| m.len());
                    h = fnv(&size.to_le_bytes(), h);
                }
            }
            json!({"kind": "folder", "files": files, "listing_fnv64": format!("{h:016x}")})
        }
    }
}

/// Identity of the model folders a run uses: hashes of config.json and tokenizer.json, size
/// and hash of model.safetensors (not the paths: a moved folder is the same model).
pub fn models_identity(folders: &[(&str, &Path)]) -> Value {
    let mut m = serde_json::Map::new();
    for (role, d) in folders {
        let v = json!({
            "config": file_digest(&d.join("config.json")),
            "tokenizer": file_digest(&d.join("tokenizer.json")),
            "weights": file_digest(&d.join("model.safetensors")),
        });
        m.insert(role.to_string(), v);
    }
    Value::Object(m)
}

/// The output sink: collects a job's lines and writes them in one go under the write gate
/// (see `signals`), so an immediate exit never cuts a line. A write error ends the process at
/// once: a closed pipe quietly (as a Unix tool killed by SIGPIPE), anything else with a
/// message and status 1; waiting for the workers' jobs in flight would only delay it.
pub struct Sink {
    buf: Vec<u8>,
    dest: Option<Box<dyn Write>>,
    name: String,
    /// Said after a write error: where the complete lines written so far are.
    on_error: String,
}

impl Sink {
    pub fn new() -> Sink {
        Sink {
            buf: Vec::new(),
            dest: None,
            name: String::new(),
            on_error: String::new(),
        }
    }

    pub fn set(&mut self, dest: Box<dyn Write>, name: String, on_error: String) {
        self.dest = Some(dest);
        self.name = name;
        self.on_error = on_error;
    }
}

impl Write for Sink {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let Some(dest) = self.dest.as_mut() else {
            return Err(std::io::Error::other("output not opened"));
        };
        let gate = signals::gate();
        let r = dest.write_all(&self.buf).and_then(|_| dest.flush());
        self.buf.clear();
        if let Err(e) = r {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                signals::die_of_sigpipe();
            }
            let msg = format!(
                "newsmill: error: cannot write {}: {e}{}\n",
                self.name, self.on_error
            );
            signals::exit_immediately(1, &msg);
        }
        drop(gate);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_is_stable() {
        // FNV-1a 64 test vectors
        assert_eq!(fnv(b"", FNV_START), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv(b"a", FNV_START), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv(b"foobar", FNV_START), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn resolve_follows_symlinks_and_new_names() {
        let d = tempfile::tempdir().unwrap();
        let real = d.path().join("real.jsonl");
        std::fs::write(&real, "x").unwrap();
        std::os::unix::fs::symlink(&real, d.path().join("link.jsonl")).unwrap();
        let canon = std::fs::canonicalize(&real).unwrap();
        assert_eq!(resolve(&d.path().join("link.jsonl"), "-o").unwrap(), canon);
        let new = resolve(&d.path().join("new.jsonl"), "-o").unwrap();
        assert_eq!(new, canon.with_file_name("new.jsonl"));
    }
}
