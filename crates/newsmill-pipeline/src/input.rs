//! Corpus readers: JSONL files or stdin, and folders of `.txt` files. Each yields, in input
//! order, either an [`Article`] or a [`BadRecord`] that names the record and the reason.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use newsmill_schema::ErrorKind;
use serde_json::Value;

/// One article to annotate.
#[derive(Debug, Clone)]
pub struct Article {
    /// Position in the input, from 0.
    pub seq: u64,
    pub id: String,
    pub title: Option<String>,
    pub text: String,
    /// Where it came from: `line N` of a JSONL input, or the file's path.
    pub record: String,
    pub warnings: Vec<String>,
}

/// A record that cannot be annotated.
#[derive(Debug, Clone)]
pub struct BadRecord {
    pub seq: u64,
    pub id: Option<String>,
    pub record: String,
    pub kind: ErrorKind,
    pub message: String,
}

pub type Item = Result<Article, BadRecord>;

/// Names of the JSONL fields to read.
#[derive(Debug, Clone)]
pub struct Fields {
    pub id: String,
    pub text: String,
    pub title: String,
}

impl Default for Fields {
    fn default() -> Self {
        Fields {
            id: "id".into(),
            text: "text".into(),
            title: "title".into(),
        }
    }
}

/// Where a corpus comes from.
#[derive(Debug, Clone)]
pub enum Source {
    /// A JSONL file: a regular file, or a stream such as a FIFO or `/dev/fd/N` (process
    /// substitution), read once from the start.
    Jsonl(PathBuf),
    Stdin,
    Dir(PathBuf),
    /// Several inputs read one after the other as one corpus (records numbered across them).
    Many(Vec<Source>),
}

/// Why the input arguments name no corpus.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("no input given")]
    Empty,
    #[error("input pattern `{pattern}` is not a valid glob")]
    Pattern {
        pattern: String,
        #[source]
        source: glob::PatternError,
    },
    #[error("input pattern `{0}` matches no file or folder")]
    NoMatch(String),
    #[error("input pattern `{pattern}`: cannot read {path}")]
    Walk {
        pattern: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("stdin (`-`) can only be the one input")]
    StdinAmongMany,
    #[error("input folder {folder} holds no .txt file, so it gives no article{hint}")]
    NoText { folder: PathBuf, hint: String },
}

/// The shared count of input bytes read so far (compressed bytes for compressed inputs), for
/// progress displays.
pub type BytesRead = Arc<AtomicU64>;

impl Source {
    /// The corpus named by several arguments, read in the order given. An argument that names
    /// no existing path but holds `*`, `?` or `[` is a glob (for patterns the shell did not
    /// expand, as from a script): its matches are read in sorted order.
    pub fn from_args(args: &[String]) -> Result<Source, InputError> {
        let mut sources = Vec::new();
        for arg in args {
            let is_pattern = arg.contains(['*', '?', '[']);
            if arg == "-" && args.len() > 1 {
                return Err(InputError::StdinAmongMany);
            }
            if !is_pattern || Path::new(arg).exists() {
                sources.push(Source::from_arg(arg));
                continue;
            }
            let paths = glob::glob(arg).map_err(|source| InputError::Pattern {
                pattern: arg.clone(),
                source,
            })?;
            let mut found = Vec::new();
            for p in paths {
                let p = p.map_err(|e| InputError::Walk {
                    pattern: arg.clone(),
                    path: e.path().to_path_buf(),
                    source: e.into(),
                })?;
                found.push(p);
            }
            if found.is_empty() {
                return Err(InputError::NoMatch(arg.clone()));
            }
            found.sort();
            sources.extend(found.iter().map(|p| Source::from_arg(&p.to_string_lossy())));
        }
        match sources.len() {
            0 => Err(InputError::Empty),
            1 => Ok(sources.remove(0)),
            _ => Ok(Source::Many(sources)),
        }
    }

    /// Checks the inputs before anything is read: a folder that holds no `.txt` file is an
    /// error (it would give no record, silently); returns a warning for each file or folder
    /// given more than once (it is read, and annotated, once per mention).
    pub fn check(&self) -> Result<Vec<String>, InputError> {
        use std::os::unix::fs::MetadataExt;
        let mut warnings = Vec::new();
        let mut seen: Vec<((u64, u64), String)> = Vec::new();
        for part in self.parts() {
            let path = match part {
                Source::Jsonl(p) | Source::Dir(p) => p,
                Source::Stdin | Source::Many(_) => continue,
            };
            if let Source::Dir(dir) = part {
                let mut others = 0usize;
                let mut has_txt = false;
                for e in walker(dir).into_iter().flatten() {
                    if !e.file_type().is_file() {
                        continue;
                    }
                    if is_txt(e.path()) {
                        has_txt = true;
                        break;
                    }
                    let name = e.file_name().to_string_lossy().to_ascii_lowercase();
                    if [".jsonl", ".json", ".gz", ".zst", ".zstd"]
                        .iter()
                        .any(|x| name.ends_with(x))
                    {
                        others += 1;
                    }
                }
                if !has_txt {
                    let hint = if others > 0 {
                        format!(
                            " (it holds {others} JSONL or compressed file(s): name them as inputs, e.g. '{}/*.jsonl')",
                            dir.display().to_string().trim_end_matches('/')
                        )
                    } else {
                        String::new()
                    };
                    return Err(InputError::NoText {
                        folder: dir.clone(),
                        hint,
                    });
                }
            }
            let Ok(meta) = std::fs::metadata(path) else {
                continue;
            };
            if !meta.is_file() && !meta.is_dir() {
                continue; // a FIFO or /dev/fd/N: each is its own stream
            }
            let key = (meta.dev(), meta.ino());
            let name = path.display().to_string();
            if let Some((_, first)) = seen.iter().find(|(k, _)| *k == key) {
                warnings.push(if *first == name {
                    format!("input {name} is given more than once: it is read (and annotated) each time")
                } else {
                    format!("input {name} is the same as {first}: it is read (and annotated) each time")
                });
            } else {
                seen.push((key, name));
            }
        }
        Ok(warnings)
    }

    /// The inputs this source reads, in order (itself, or the parts of [`Source::Many`]).
    pub fn parts(&self) -> &[Source] {
        match self {
            Source::Many(v) => v,
            one => std::slice::from_ref(one),
        }
    }

    /// The input's name in messages: its path, or `-`.
    pub fn name(&self) -> String {
        match self {
            Source::Jsonl(p) | Source::Dir(p) => p.display().to_string(),
            Source::Stdin => "-".into(),
            Source::Many(v) => format!("{} inputs", v.len()),
        }
    }

    /// Total bytes to read when known without reading (regular files, folders; the sum over
    /// several inputs), for progress displays that show an ETA; `None` for stdin and streams.
    pub fn total_bytes(&self) -> Option<u64> {
        match self {
            Source::Stdin => None,
            Source::Jsonl(p) => std::fs::metadata(p)
                .ok()
                .filter(|m| m.is_file())
                .map(|m| m.len()),
            Source::Dir(p) => Some(
                walker(p)
                    .into_iter()
                    .flatten()
                    .filter(|e| e.file_type().is_file() && is_txt(e.path()))
                    .map(|e| e.metadata().map_or(0, |m| m.len()))
                    .sum(),
            ),
            Source::Many(v) => v.iter().map(Source::total_bytes).sum(),
        }
    }

    /// `-` is stdin, a folder is a folder of `.txt` files, anything else a JSONL file.
    pub fn from_arg(arg: &str) -> Source {
        if arg == "-" {
            Source::Stdin
        } else if Path::new(arg).is_dir() {
            Source::Dir(PathBuf::from(arg))
        } else {
            Source::Jsonl(PathBuf::from(arg))
        }
    }

    /// Whether the source can be read a second time with the same result: a regular file or
    /// a folder (not stdin, a FIFO or another stream).
    pub fn rereadable(&self) -> bool {
        match self {
            Source::Jsonl(p) => std::fs::metadata(p).is_ok_and(|m| m.is_file()),
            Source::Stdin => false,
            Source::Dir(_) => true,
            Source::Many(v) => v.iter().all(Source::rereadable),
        }
    }

    /// Opens the source. Fails only when the source itself cannot be read: it does not exist,
    /// or the very first read fails (stdin is a folder, the file gives EIO).
    pub fn open(&self, fields: Fields) -> std::io::Result<Box<dyn Iterator<Item = Item> + Send>> {
        self.open_until(fields, None)
    }

    /// Like [`Source::open`]; a folder listing also ends when `stop` is raised (Ctrl-C while a
    /// large tree is walked).
    pub fn open_until(
        &self,
        fields: Fields,
        stop: Option<&'static AtomicBool>,
    ) -> std::io::Result<Box<dyn Iterator<Item = Item> + Send>> {
        self.open_counted(fields, stop, None)
    }

    /// Like [`Source::open_until`]; the bytes read (compressed bytes of a compressed input) are
    /// added to `bytes_read` as the input is consumed. Of several inputs the first is opened
    /// now (its failure is the run's); each later one when the reader reaches it, its failure
    /// an `io` error record naming it.
    pub fn open_counted(
        &self,
        fields: Fields,
        stop: Option<&'static AtomicBool>,
        bytes_read: Option<BytesRead>,
    ) -> std::io::Result<Box<dyn Iterator<Item = Item> + Send>> {
        self.open_part(fields, stop, bytes_read.unwrap_or_default(), false)
    }

    /// Opens one input; `in_many`: it is one of several inputs of a run, so the ids newsmill
    /// makes from line numbers name it (`NAME:line-N`).
    fn open_part(
        &self,
        fields: Fields,
        stop: Option<&'static AtomicBool>,
        counter: BytesRead,
        in_many: bool,
    ) -> std::io::Result<Box<dyn Iterator<Item = Item> + Send>> {
        let prefix = in_many.then(|| self.name().trim_end_matches('/').to_string());
        Ok(match self {
            Source::Jsonl(p) => {
                if std::fs::metadata(p)?.is_dir() {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::IsADirectory,
                        "is a folder",
                    ));
                }
                let name = p.display().to_string();
                Box::new(
                    JsonlReader::new(
                        open_stream(Box::new(File::open(p)?), &name, Some(p), counter)?,
                        fields,
                    )
                    .with_id_prefix(prefix),
                )
            }
            Source::Stdin => Box::new(JsonlReader::new(
                open_stream(Box::new(std::io::stdin()), "standard input", None, counter)?,
                fields,
            )),
            // a folder's ids are its files' paths, chosen by the user as ids are: kept as
            // they are (a path repeated across inputs is warned about as a duplicate id)
            Source::Dir(p) => Box::new(DirReader::new(p)?.with_stop(stop).with_counter(counter)),
            Source::Many(v) => {
                let mut chain = Chain {
                    rest: v.clone().into_iter(),
                    current: None,
                    fields,
                    stop,
                    counter,
                    seq: 0,
                    seen: HashSet::new(),
                };
                if let Some(first) = chain.rest.next() {
                    let it =
                        first.open_part(chain.fields.clone(), stop, chain.counter.clone(), true)?;
                    chain.current = Some((first, it));
                }
                Box::new(chain)
            }
        })
    }

    /// An upper bound on the number of jobs the engine cuts from this source (jobs close at
    /// `job_articles` records or `job_chars` bytes of text), or `None` when it cannot be known
    /// without consuming the input (stdin, streams). The count stops once it reaches `enough`.
    pub fn jobs_upper_bound(
        &self,
        job_articles: usize,
        job_chars: usize,
        enough: u64,
    ) -> Option<u64> {
        let (job_articles, job_chars) = (job_articles.max(1) as u64, job_chars.max(1) as u64);
        let bound =
            |records: u64, bytes: u64| records.div_ceil(job_articles) + bytes.div_ceil(job_chars);
        let record_limit = enough.saturating_mul(job_articles);
        match self {
            Source::Stdin => None,
            Source::Many(v) => {
                let mut total = 0u64;
                for s in v {
                    total = total.saturating_add(s.jobs_upper_bound(
                        job_articles as usize,
                        job_chars as usize,
                        enough,
                    )?);
                    if total >= enough {
                        return Some(total);
                    }
                }
                Some(total)
            }
            Source::Jsonl(p) => {
                let meta = std::fs::metadata(p).ok()?;
                if !meta.is_file() || compression_of_file(p) != Compression::None {
                    return None;
                }
                let mut f = File::open(p).ok()?;
                let (mut lines, mut buf) = (1u64, vec![0u8; 1 << 16]);
                loop {
                    match f.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => lines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                        Err(_) => return None,
                    }
                    if lines >= record_limit {
                        return Some(enough.max(bound(lines, meta.len())));
                    }
                }
                Some(bound(lines, meta.len()))
            }
            Source::Dir(p) => {
                let (mut files, mut bytes) = (0u64, 0u64);
                for e in walker(p).into_iter().flatten() {
                    if e.file_type().is_file() && is_txt(e.path()) {
                        files += 1;
                        bytes += e.metadata().map_or(0, |m| m.len());
                        if files >= record_limit {
                            return Some(enough);
                        }
                    }
                }
                Some(bound(files, bytes))
            }
        }
    }
}

/// How a JSONL input is compressed, told by its first bytes (the extension only has to agree).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    /// gzip; several members one after the other (`cat a.gz b.gz`) are one stream.
    Gzip,
    /// Zstandard; several frames are one stream.
    Zstd,
}

const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
const ZSTD_MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];

/// A zstd skippable frame's magic number, 0x184D2A50..=0x184D2A5F (little-endian): `pzstd`
/// and seekable-format writers start their files with one; `zstd -d` skips it, and so does
/// the decoder.
fn is_skippable_frame(head: &[u8]) -> bool {
    head.len() >= 4 && head[0] & 0xF0 == 0x50 && head[1..4] == [0x2A, 0x4D, 0x18]
}

impl Compression {
    /// From the first bytes of a stream.
    pub fn sniff(head: &[u8]) -> Compression {
        if head.starts_with(GZIP_MAGIC) {
            Compression::Gzip
        } else if head.starts_with(ZSTD_MAGIC) || is_skippable_frame(head) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }

    /// From a file name: `.gz`, `.gzip`, `.zst`, `.zstd` in any case.
    pub fn of_name(p: &Path) -> Compression {
        let ext = p
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        match ext.as_deref() {
            Some("gz" | "gzip") => Compression::Gzip,
            Some("zst" | "zstd") => Compression::Zstd,
            _ => Compression::None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Compression::None => "plain",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }
}

/// The compression of the file at `p`, by its first bytes (`None` if unreadable).
fn compression_of_file(p: &Path) -> Compression {
    let mut head = [0u8; 4];
    let n = File::open(p)
        .and_then(|mut f| {
            let mut n = 0;
            while n < head.len() {
                match f.read(&mut head[n..])? {
                    0 => break,
                    k => n += k,
                }
            }
            Ok(n)
        })
        .unwrap_or(0);
    Compression::sniff(&head[..n])
}

/// A buffered reader that counts the bytes consumed from it: into its own position (the byte
/// offset named in decompression errors) and into the run's shared count (progress).
struct Tracked<R> {
    inner: R,
    pos: Arc<AtomicU64>,
    total: BytesRead,
}

impl<R: BufRead> Read for Tracked<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pos.fetch_add(n as u64, Ordering::Relaxed);
        self.total.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Tracked<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, amt: usize) {
        self.inner.consume(amt);
        self.pos.fetch_add(amt as u64, Ordering::Relaxed);
        self.total.fetch_add(amt as u64, Ordering::Relaxed);
    }
}

/// A decompressor whose errors name the input, the format and the compressed byte offset the
/// decoder had reached (a corrupt or truncated stream is never a silent end of input).
struct Decoded<R> {
    inner: R,
    name: String,
    format: Compression,
    pos: Arc<AtomicU64>,
    /// Decompressed bytes given out so far.
    out: u64,
}

impl<R: Read> Read for Decoded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                self.out += n as u64;
                Ok(n)
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => Err(e),
            Err(e) => {
                let kind = match e.kind() {
                    std::io::ErrorKind::UnexpectedEof => std::io::ErrorKind::UnexpectedEof,
                    _ => std::io::ErrorKind::InvalidData,
                };
                Err(std::io::Error::new(
                    kind,
                    format!(
                        "{}: corrupt or truncated {} stream at compressed byte {} (after {} decompressed bytes): {e}",
                        self.name,
                        self.format.as_str(),
                        self.pos.load(Ordering::Relaxed),
                        self.out
                    ),
                ))
            }
        }
    }
}

/// Opens a JSONL byte stream: probes its first read (a failure there is the whole input's),
/// tells its compression by its first bytes and decompresses it. A file named `.gz`/`.zst`
/// whose bytes are not of that format is refused rather than read as text.
fn open_stream(
    raw: Box<dyn Read + Send>,
    name: &str,
    path: Option<&Path>,
    counter: BytesRead,
) -> std::io::Result<Box<dyn BufRead + Send>> {
    let pos = Arc::new(AtomicU64::new(0));
    let mut tracked = Tracked {
        inner: BufReader::with_capacity(1 << 16, raw),
        pos: pos.clone(),
        total: counter,
    };
    let head = probe_head(&mut tracked)?;
    let format = Compression::sniff(&head);
    let named = path.map_or(Compression::None, Compression::of_name);
    if named != Compression::None && format != named && !head.is_empty() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "{name}: named as {} but its first bytes ({}) are not {} data",
                named.as_str(),
                head.iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<Vec<_>>()
                    .join(" "),
                named.as_str()
            ),
        ));
    }
    let decoder: Box<dyn Read + Send> = match format {
        Compression::None => return Ok(Box::new(tracked)),
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(tracked)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(tracked).map_err(
            |e| {
                std::io::Error::new(
                    e.kind(),
                    format!("{name}: cannot start a zstd decoder: {e}"),
                )
            },
        )?),
    };
    let decoded = Decoded {
        inner: decoder,
        name: name.to_string(),
        format,
        pos,
        out: 0,
    };
    probe(BufReader::with_capacity(1 << 16, decoded))
        .map(|r| Box::new(r) as Box<dyn BufRead + Send>)
}

/// Fills the buffer once (see [`probe`]) and returns up to its first four bytes.
fn probe_head<R: BufRead>(r: &mut R) -> std::io::Result<Vec<u8>> {
    loop {
        match r.fill_buf() {
            Ok(b) => return Ok(b[..b.len().min(4)].to_vec()),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Several inputs read one after the other: records renumbered across them, JSONL records
/// named by file and line, a later input that cannot be opened an `io` error record.
struct Chain {
    rest: std::vec::IntoIter<Source>,
    current: Option<(Source, Box<dyn Iterator<Item = Item> + Send>)>,
    fields: Fields,
    stop: Option<&'static AtomicBool>,
    counter: BytesRead,
    seq: u64,
    /// Digests of the ids of every input so far: a duplicate across inputs is warned about
    /// too (each reader warns about its own).
    seen: HashSet<u128>,
}

impl Iterator for Chain {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        loop {
            if let Some((source, it)) = &mut self.current {
                if let Some(mut item) = it.next() {
                    let seq = self.seq;
                    self.seq += 1;
                    let prefix = matches!(source, Source::Jsonl(_)).then(|| source.name());
                    match &mut item {
                        Ok(a) => {
                            a.seq = seq;
                            if let Some(p) = prefix {
                                a.record = format!("{p} {}", a.record);
                            }
                            let dup = !self.seen.insert(id_digest(&a.id));
                            if dup && !a.warnings.iter().any(|w| w.starts_with("duplicate id")) {
                                a.warnings.push(format!(
                                    "duplicate id `{}`: a record of an earlier input has the same id",
                                    a.id
                                ));
                            }
                        }
                        Err(b) => {
                            b.seq = seq;
                            if let Some(p) = prefix {
                                b.record = format!("{p} {}", b.record);
                            }
                        }
                    }
                    return Some(item);
                }
                self.current = None;
            }
            let next = self.rest.next()?;
            match next.open_part(self.fields.clone(), self.stop, self.counter.clone(), true) {
                Ok(it) => self.current = Some((next, it)),
                Err(e) => {
                    let seq = self.seq;
                    self.seq += 1;
                    let name = next.name();
                    let message = if e.to_string().starts_with(&name) {
                        format!("cannot read input: {e}")
                    } else {
                        format!("cannot read input {name}: {e}")
                    };
                    return Some(Err(BadRecord {
                        seq,
                        id: None,
                        record: name,
                        kind: ErrorKind::Io,
                        message,
                    }));
                }
            }
        }
    }
}

/// Fills the reader's buffer once, so that a source whose very first read fails (stdin
/// redirected from a folder, a file that gives EIO) is an error of the whole input.
fn probe<R: BufRead>(mut r: R) -> std::io::Result<R> {
    loop {
        match r.fill_buf() {
            Ok(_) => return Ok(r),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Reads one JSON object per line.
pub struct JsonlReader<R> {
    reader: R,
    fields: Fields,
    line: u64,
    seq: u64,
    /// 128-bit digests of the ids read so far, for duplicate warnings: 16 bytes per record
    /// (plus the table's slack) instead of a copy of every id.
    seen: HashSet<u128>,
    buf: Vec<u8>,
    /// A read error ended the input: a stream that failed once is not read again (a read
    /// error that never clears would otherwise give error records forever).
    failed: bool,
    /// Put before the ids made from line numbers (`NAME:line-N`), when several inputs are
    /// read as one corpus: generated ids stay unique in the run.
    id_prefix: Option<String>,
}

/// Two hash passes with different prefixes (std's `DefaultHasher`, fixed keys): a 128-bit
/// digest of `id`; two distinct ids share one with probability ~2⁻¹²⁸.
fn id_digest(id: &str) -> u128 {
    use std::hash::{Hash, Hasher};
    let half = |salt: u8| {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        salt.hash(&mut h);
        id.hash(&mut h);
        h.finish()
    };
    (u128::from(half(0)) << 64) | u128::from(half(1))
}

impl<R: BufRead> JsonlReader<R> {
    pub fn new(reader: R, fields: Fields) -> Self {
        JsonlReader {
            reader,
            fields,
            line: 0,
            seq: 0,
            seen: HashSet::new(),
            buf: Vec::new(),
            failed: false,
            id_prefix: None,
        }
    }

    /// Ids made from line numbers become `PREFIX:line-N` (several inputs in one run).
    pub fn with_id_prefix(mut self, prefix: Option<String>) -> Self {
        self.id_prefix = prefix;
        self
    }

    fn parse(&mut self, seq: u64, record: String) -> Item {
        let bad = |id: Option<String>, kind, message: String| BadRecord {
            seq,
            id,
            record: record.clone(),
            kind,
            message,
        };
        let line = match std::str::from_utf8(&self.buf) {
            Ok(s) => s,
            Err(e) => {
                return Err(bad(
                    None,
                    ErrorKind::InvalidUtf8,
                    format!("line is not valid UTF-8 (byte {})", e.valid_up_to()),
                ))
            }
        };
        let v: Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => {
                return Err(bad(
                    None,
                    ErrorKind::InvalidJson,
                    format!("malformed JSON: {e}"),
                ))
            }
        };
        let Some(obj) = v.as_object() else {
            return Err(bad(
                None,
                ErrorKind::InvalidJson,
                "line is JSON but not an object".into(),
            ));
        };
        let mut warnings = Vec::new();
        let id = match obj.get(&self.fields.id) {
            Some(Value::String(s)) => Some(s.clone()),
            // integers beyond 64 bits (and decimals) keep the text they were written with:
            // serde_json holds them as f64, which would round them (and make distinct ids equal)
            Some(Value::Number(n)) if n.is_u64() || n.is_i64() => Some(n.to_string()),
            Some(Value::Number(n)) => {
                Some(raw_field(line, &self.fields.id).unwrap_or_else(|| n.to_string()))
            }
            Some(Value::Null) | None => None,
            Some(other) => {
                return Err(bad(
                    None,
                    ErrorKind::BadField,
                    format!(
                        "field `{}` must be a string or number, found {other}",
                        self.fields.id
                    ),
                ))
            }
        };
        let id = id.unwrap_or_else(|| {
            warnings.push(format!(
                "no `{}` field: id set to the line number",
                self.fields.id
            ));
            match &self.id_prefix {
                Some(p) => format!("{p}:line-{}", self.line),
                None => format!("line-{}", self.line),
            }
        });
        let text = match obj.get(&self.fields.text) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => {
                return Err(bad(
                    Some(id),
                    ErrorKind::MissingField,
                    format!("no `{}` field", self.fields.text),
                ))
            }
            Some(other) => {
                return Err(bad(
                    Some(id),
                    ErrorKind::BadField,
                    format!(
                        "field `{}` must be a string, found {}",
                        self.fields.text,
                        kind_of(other)
                    ),
                ))
            }
        };
        let title = obj
            .get(&self.fields.title)
            .and_then(Value::as_str)
            .map(str::to_string);
        if !self.seen.insert(id_digest(&id)) {
            warnings.push(format!(
                "duplicate id `{id}`: an earlier record has the same id"
            ));
        }
        Ok(Article {
            seq,
            id,
            title,
            text,
            record,
            warnings,
        })
    }
}

/// The JSON text of field `name` of the object `line`, as written.
fn raw_field(line: &str, name: &str) -> Option<String> {
    let fields: HashMap<String, &serde_json::value::RawValue> = serde_json::from_str(line).ok()?;
    fields.get(name).map(|v| v.get().to_string())
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl<R: BufRead> Iterator for JsonlReader<R> {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        if self.failed {
            return None;
        }
        loop {
            self.buf.clear();
            self.line += 1;
            let record = format!("line {}", self.line);
            match self.reader.read_until(b'\n', &mut self.buf) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => {
                    self.failed = true;
                    let seq = self.seq;
                    self.seq += 1;
                    return Some(Err(BadRecord {
                        seq,
                        id: None,
                        record,
                        kind: ErrorKind::Io,
                        message: format!("read error, the input ends here: {e}"),
                    }));
                }
            }
            if self.line == 1 && self.buf.starts_with(b"\xEF\xBB\xBF") {
                self.buf.drain(..3); // a UTF-8 byte order mark
            }
            while matches!(self.buf.last(), Some(b'\n' | b'\r')) {
                self.buf.pop();
            }
            if self.buf.iter().all(u8::is_ascii_whitespace) {
                continue; // blank lines are not records
            }
            let seq = self.seq;
            self.seq += 1;
            return Some(self.parse(seq, record));
        }
    }
}

/// `.txt`, in any case (`a.TXT` too): the files a folder input reads.
pub fn is_txt(p: &Path) -> bool {
    p.extension().is_some_and(|e| e.eq_ignore_ascii_case("txt"))
}

/// The folder walk: sorted by name at each level (so the whole listing is sorted by path),
/// symlinks followed with walkdir's loop detection (a link to an ancestor is reported, not
/// followed). The one walk of a folder input: the reader, its size and job estimates, the
/// input checks and the run record that `--resume` compares all list a folder with it.
pub fn walker(root: &Path) -> walkdir::WalkDir {
    walkdir::WalkDir::new(root)
        .follow_links(true)
        .sort_by_file_name()
}

/// Reads a folder of `.txt` files (recursively, sorted by path; the extension in any case).
/// The id is the path relative to the folder without `.txt`; text that is not valid UTF-8 is
/// decoded with U+FFFD for each bad byte sequence, with a warning naming the first bad byte.
/// The folder is walked lazily. Symlinks are followed, but never into a loop; what cannot be
/// read (a subfolder, a file, a symlink loop, a `.txt` that is not a regular file such as a
/// FIFO) becomes an error record naming its path: non-regular files are never opened.
pub struct DirReader {
    root: PathBuf,
    walk: walkdir::IntoIter,
    seq: u64,
    stop: Option<&'static AtomicBool>,
    /// The folders being walked, by depth: an error while listing a folder's entries comes
    /// without a path (walkdir), at the depth of its entries.
    dirs: Vec<PathBuf>,
    /// Bytes read, for progress.
    counter: BytesRead,
}

impl DirReader {
    /// Fails when `root` itself cannot be listed.
    pub fn new(root: &Path) -> std::io::Result<Self> {
        std::fs::read_dir(root)?;
        Ok(DirReader {
            root: root.to_path_buf(),
            walk: walker(root).into_iter(),
            seq: 0,
            stop: None,
            dirs: Vec::new(),
            counter: BytesRead::default(),
        })
    }

    /// Adds the bytes of each file read to `counter`.
    pub fn with_counter(mut self, counter: BytesRead) -> Self {
        self.counter = counter;
        self
    }

    /// Ends the walk as soon as `stop` is raised.
    pub fn with_stop(mut self, stop: Option<&'static AtomicBool>) -> Self {
        self.stop = stop;
        self
    }

    fn id_of(&self, path: &Path, strip_ext: bool) -> String {
        let rel = path.strip_prefix(&self.root).unwrap_or(path);
        let rel = if strip_ext {
            rel.with_extension("")
        } else {
            rel.to_path_buf()
        };
        rel.to_string_lossy().replace('\\', "/")
    }

    fn bad(&mut self, path: &Path, strip_ext: bool, kind: ErrorKind, message: String) -> Item {
        let seq = self.seq;
        self.seq += 1;
        Err(BadRecord {
            seq,
            id: Some(self.id_of(path, strip_ext)),
            record: path.display().to_string(),
            kind,
            message,
        })
    }

    fn read(&mut self, path: &Path) -> Item {
        let mut bytes = Vec::new();
        match read_regular(path, &mut bytes) {
            Ok(true) => {}
            Ok(false) => {
                return self.bad(
                    path,
                    true,
                    ErrorKind::NotAFile,
                    "not a regular file (a FIFO, socket or device): not read".into(),
                )
            }
            Err(e) => return self.bad(path, true, ErrorKind::Io, e.to_string()),
        }
        self.counter
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        let seq = self.seq;
        self.seq += 1;
        let mut warnings = Vec::new();
        let text = match String::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => {
                let at = e.utf8_error().valid_up_to();
                warnings.push(format!(
                    "not valid UTF-8 (first bad byte at byte {at}): each invalid sequence was replaced by U+FFFD"
                ));
                String::from_utf8_lossy(e.as_bytes()).into_owned()
            }
        };
        Ok(Article {
            seq,
            id: self.id_of(path, true),
            title: None,
            text,
            record: path.display().to_string(),
            warnings,
        })
    }
}

/// Reads `path` into `bytes` if it is a regular file; `Ok(false)` if it is not. It is opened
/// non-blocking (a FIFO does not wait for a writer) and checked on the open file, so a file
/// swapped for a FIFO after the listing is not read either.
fn read_regular(path: &Path, bytes: &mut Vec<u8>) -> std::io::Result<bool> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    if !f.metadata()?.is_file() {
        return Ok(false);
    }
    f.read_to_end(bytes)?;
    Ok(true)
}

impl Iterator for DirReader {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        loop {
            if self.stop.is_some_and(|s| s.load(Ordering::Relaxed)) {
                return None;
            }
            match self.walk.next()? {
                Ok(entry) => {
                    let path = entry.path();
                    if entry.file_type().is_dir() {
                        self.dirs.truncate(entry.depth());
                        self.dirs.push(path.to_path_buf());
                        continue;
                    }
                    if !is_txt(path) {
                        continue;
                    }
                    let path = path.to_path_buf();
                    if entry.file_type().is_file() {
                        return Some(self.read(&path));
                    }
                    return Some(self.bad(
                        &path,
                        true,
                        ErrorKind::NotAFile,
                        "not a regular file (a FIFO, socket or device): not read".into(),
                    ));
                }
                Err(e) => {
                    let Some(path) = e.path().map(Path::to_path_buf) else {
                        // reading the entries of a folder that could be opened failed
                        let folder = e.depth().checked_sub(1).and_then(|d| self.dirs.get(d));
                        let Some(folder) = folder.cloned() else {
                            continue;
                        };
                        let msg = format!("cannot read folder: {e}");
                        return Some(self.bad(&folder, false, ErrorKind::Io, msg));
                    };
                    if let Some(ancestor) = e.loop_ancestor() {
                        let msg = format!(
                            "symlink loop: leads back to {}; not followed",
                            ancestor.display()
                        );
                        return Some(self.bad(&path, false, ErrorKind::SymlinkLoop, msg));
                    }
                    let reason = e
                        .io_error()
                        .map_or_else(|| e.to_string(), ToString::to_string);
                    if std::fs::metadata(&path).is_ok_and(|m| m.is_dir()) {
                        let msg = format!("cannot read folder: {reason}");
                        return Some(self.bad(&path, false, ErrorKind::Io, msg));
                    }
                    if is_txt(&path) {
                        return Some(self.bad(&path, true, ErrorKind::Io, reason));
                    }
                    // an unreadable entry that would not have been read anyway (a broken
                    // link named x.md): nothing to report
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(input: &[u8]) -> Vec<Item> {
        JsonlReader::new(input, Fields::default()).collect()
    }

    #[test]
    fn jsonl_good_and_bad() {
        let input = b"{\"id\": \"a\", \"text\": \"Hello.\", \"title\": \"T\"}\n\n{bad json}\n{\"id\": 7, \"text\": \"x\"}\n{\"text\": 3}\n{\"id\": \"b\"}\n[1]\n\xff\xfe\n{\"id\": \"a\", \"text\": \"again\"}\r\n";
        let items = read(input);
        assert_eq!(items.len(), 8);
        let a = items[0].as_ref().unwrap();
        assert_eq!(
            (a.id.as_str(), a.text.as_str(), a.title.as_deref(), a.seq),
            ("a", "Hello.", Some("T"), 0)
        );
        let e = items[1].as_ref().unwrap_err();
        assert_eq!(
            (e.kind, e.record.as_str()),
            (ErrorKind::InvalidJson, "line 3")
        );
        assert_eq!(items[2].as_ref().unwrap().id, "7");
        let e = items[3].as_ref().unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadField);
        let e = items[4].as_ref().unwrap_err();
        assert_eq!(
            (e.kind, e.id.as_deref()),
            (ErrorKind::MissingField, Some("b"))
        );
        assert_eq!(items[5].as_ref().unwrap_err().kind, ErrorKind::InvalidJson);
        assert_eq!(items[6].as_ref().unwrap_err().kind, ErrorKind::InvalidUtf8);
        let dup = items[7].as_ref().unwrap();
        assert_eq!(dup.text, "again");
        assert!(dup.warnings[0].contains("duplicate id"));
        // seq numbers are dense and ordered
        let seqs: Vec<u64> = items
            .iter()
            .map(|i| match i {
                Ok(a) => a.seq,
                Err(b) => b.seq,
            })
            .collect();
        assert_eq!(seqs, (0..8).collect::<Vec<_>>());
    }

    /// Gives `data`, then fails every read (as a folder on stdin, or EIO).
    struct FailsAfter(&'static [u8]);

    impl Read for FailsAfter {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0.is_empty() {
                return Err(std::io::Error::other("Input/output error"));
            }
            let n = buf.len().min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn a_read_error_ends_the_input_with_one_error_record() {
        let r = BufReader::new(FailsAfter(b"{\"id\": \"a\", \"text\": \"x\"}\n"));
        let items: Vec<Item> = JsonlReader::new(r, Fields::default()).take(100).collect();
        assert_eq!(items.len(), 2, "one record, one error, then the end");
        assert_eq!(items[0].as_ref().unwrap().id, "a");
        let e = items[1].as_ref().unwrap_err();
        assert_eq!(e.kind, ErrorKind::Io);
        assert!(e.message.contains("the input ends here"));
        // a stream whose first read fails is an error of the whole input
        assert!(probe(BufReader::new(FailsAfter(b""))).is_err());
    }

    #[test]
    fn bom_skipped_and_big_numeric_ids_kept_as_written() {
        let items = read(
            b"\xEF\xBB\xBF{\"id\": 123456789012345678901234567890, \"text\": \"x\"}\n{\"id\": 123456789012345678901234567891, \"text\": \"y\"}\n{\"id\": 1.50, \"text\": \"z\"}\n",
        );
        let ids: Vec<&str> = items
            .iter()
            .map(|i| i.as_ref().unwrap().id.as_str())
            .collect();
        assert_eq!(
            ids,
            [
                "123456789012345678901234567890",
                "123456789012345678901234567891",
                "1.50"
            ]
        );
        assert!(items
            .iter()
            .all(|i| i.as_ref().unwrap().warnings.is_empty()));
        // a BOM anywhere but at the start is not skipped
        assert!(read(b"{\"text\": \"a\"}\n\xEF\xBB\xBF{\"text\": \"b\"}\n")[1].is_err());
    }

    #[test]
    fn missing_id_gets_line_number() {
        let items = read(b"{\"text\": \"x\"}\n");
        let a = items[0].as_ref().unwrap();
        assert_eq!(a.id, "line-1");
        assert!(a.warnings[0].contains("no `id`"));
    }

    #[test]
    fn dir_reader_sorted_lossy() {
        let dir = std::env::temp_dir().join(format!("newsmill-dir-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("b")).unwrap();
        std::fs::write(dir.join("b/2.txt"), b"caf\xe9 ok").unwrap();
        std::fs::write(dir.join("a.txt"), "first").unwrap();
        std::fs::write(dir.join("skip.md"), "no").unwrap();
        let items: Vec<Item> = DirReader::new(&dir).unwrap().collect();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].as_ref().unwrap().id, "a");
        let b = items[1].as_ref().unwrap();
        assert_eq!((b.id.as_str(), b.text.as_str()), ("b/2", "caf\u{fffd} ok"));
        assert!(b.warnings[0].contains("byte 3"));
    }

    fn decode_all(name: &str, bytes: Vec<u8>) -> std::io::Result<Vec<Item>> {
        let r = open_stream(
            Box::new(std::io::Cursor::new(bytes)),
            name,
            Some(Path::new(name)),
            BytesRead::default(),
        )?;
        Ok(JsonlReader::new(r, Fields::default()).take(5000).collect())
    }

    fn lines(n: usize) -> Vec<u8> {
        (0..n)
            .map(|i| format!("{{\"id\": \"a{i}\", \"text\": \"Text number {i}.\"}}\n"))
            .collect::<String>()
            .into_bytes()
    }

    #[test]
    fn compression_by_magic_and_name() {
        assert_eq!(Compression::sniff(b"\x1f\x8b\x08"), Compression::Gzip);
        assert_eq!(Compression::sniff(b"\x28\xb5\x2f\xfd"), Compression::Zstd);
        assert_eq!(Compression::sniff(b"{\"id\""), Compression::None);
        assert_eq!(
            Compression::of_name(Path::new("a.JSONL.GZ")),
            Compression::Gzip
        );
        assert_eq!(Compression::of_name(Path::new("a.zst")), Compression::Zstd);
        assert_eq!(
            Compression::of_name(Path::new("a.jsonl")),
            Compression::None
        );
    }

    #[test]
    fn truncated_streams_end_in_an_io_error_record_not_silently() {
        use std::io::Write;
        let plain = lines(2000);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&plain).unwrap();
        let gz = gz.finish().unwrap();
        let zst = zstd::stream::encode_all(&plain[..], 1).unwrap();
        let counter = BytesRead::default();
        let r = open_stream(
            Box::new(std::io::Cursor::new(gz.clone())),
            "whole.gz",
            None,
            counter.clone(),
        )
        .unwrap();
        assert_eq!(JsonlReader::new(r, Fields::default()).count(), 2000);
        assert_eq!(counter.load(Ordering::Relaxed), gz.len() as u64);
        for (name, data) in [
            ("t.jsonl.gz", gz[..gz.len() / 2].to_vec()),
            ("t.jsonl.gz", gz[..gz.len() - 1].to_vec()),
            ("t.jsonl.zst", zst[..zst.len() / 2].to_vec()),
            ("t.jsonl.zst", zst[..zst.len() - 1].to_vec()),
        ] {
            // the error comes with the first read (an error of the whole input) or later (an
            // error record after the records before it); either names the file and offset
            let message = match decode_all(name, data) {
                Err(e) => e.to_string(),
                Ok(items) => {
                    assert!(items.len() <= 2001);
                    let last = items.last().unwrap().as_ref().unwrap_err();
                    assert_eq!(last.kind, ErrorKind::Io, "{name}");
                    last.message.clone()
                }
            };
            assert!(
                message.contains(name) && message.contains("compressed byte"),
                "{message}"
            );
        }
        // named .gz, plain bytes: refused
        assert!(decode_all("p.gz", plain).is_err());
    }
}
