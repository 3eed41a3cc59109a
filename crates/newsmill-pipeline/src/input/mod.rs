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

mod chain;
mod compress;
mod folder;
mod jsonl;

use chain::Chain;
pub use compress::Compression;
use compress::{compression_of_file, open_stream};
pub use folder::{is_txt, walker, DirReader};
pub use jsonl::JsonlReader;
use jsonl::{duplicate_warning, id_digest};

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
        Ok(match self {
            Source::Jsonl(p) => {
                if std::fs::metadata(p)?.is_dir() {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::IsADirectory,
                        "is a folder",
                    ));
                }
                let name = p.display().to_string();
                let reader = JsonlReader::new(
                    open_stream(Box::new(File::open(p)?), &name, Some(p), counter)?,
                    fields,
                );
                if in_many {
                    Box::new(reader.part_of_many(name))
                } else {
                    Box::new(reader)
                }
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
    /// `job_articles` records or `job_bytes` bytes of text), or `None` when it cannot be known
    /// without consuming the input (stdin, streams). The count stops once it reaches `enough`.
    pub fn jobs_upper_bound(
        &self,
        job_articles: usize,
        job_bytes: usize,
        enough: u64,
    ) -> Option<u64> {
        let (job_articles, job_bytes) = (job_articles.max(1) as u64, job_bytes.max(1) as u64);
        let bound =
            |records: u64, bytes: u64| records.div_ceil(job_articles) + bytes.div_ceil(job_bytes);
        let record_limit = enough.saturating_mul(job_articles);
        match self {
            Source::Stdin => None,
            Source::Many(v) => {
                let mut total = 0u64;
                for s in v {
                    total = total.saturating_add(s.jobs_upper_bound(
                        job_articles as usize,
                        job_bytes as usize,
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

#[cfg(test)]
mod tests {
    use super::compress::probe;
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
