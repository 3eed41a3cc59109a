//! Corpus readers: JSONL files or stdin, and folders of `.txt` files. Each yields, in input
//! order, either an [`Article`] or a [`BadRecord`] that names the record and the reason.

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

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
    pub kind: &'static str,
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
    Jsonl(PathBuf),
    Stdin,
    Dir(PathBuf),
}

impl Source {
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

    /// Opens the source. Fails only when the source itself cannot be read.
    pub fn open(&self, fields: Fields) -> std::io::Result<Box<dyn Iterator<Item = Item> + Send>> {
        Ok(match self {
            Source::Jsonl(p) => Box::new(JsonlReader::new(BufReader::new(File::open(p)?), fields)),
            Source::Stdin => Box::new(JsonlReader::new(BufReader::new(std::io::stdin()), fields)),
            Source::Dir(p) => Box::new(DirReader::new(p)?),
        })
    }

    /// Number of records when known cheaply (folders), for progress bars.
    pub fn len_hint(&self) -> Option<u64> {
        match self {
            Source::Dir(p) => txt_files(p).ok().map(|v| v.len() as u64),
            _ => None,
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
        }
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
                    "invalid_utf8",
                    format!("line is not valid UTF-8 (byte {})", e.valid_up_to()),
                ))
            }
        };
        let v: Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => return Err(bad(None, "invalid_json", format!("malformed JSON: {e}"))),
        };
        let Some(obj) = v.as_object() else {
            return Err(bad(
                None,
                "invalid_json",
                "line is JSON but not an object".into(),
            ));
        };
        let mut warnings = Vec::new();
        let id = match obj.get(&self.fields.id) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(Value::Null) | None => None,
            Some(other) => {
                return Err(bad(
                    None,
                    "bad_field",
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
            format!("line-{}", self.line)
        });
        let text = match obj.get(&self.fields.text) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => {
                return Err(bad(
                    Some(id),
                    "missing_field",
                    format!("no `{}` field", self.fields.text),
                ))
            }
            Some(other) => {
                return Err(bad(
                    Some(id),
                    "bad_field",
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
        loop {
            self.buf.clear();
            self.line += 1;
            let record = format!("line {}", self.line);
            match self.reader.read_until(b'\n', &mut self.buf) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => {
                    let seq = self.seq;
                    self.seq += 1;
                    return Some(Err(BadRecord {
                        seq,
                        id: None,
                        record,
                        kind: "io",
                        message: e.to_string(),
                    }));
                }
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

/// All `.txt` files under `dir`, sorted by path.
fn txt_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let p = entry?.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "txt") {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Reads a folder of `.txt` files (recursively, sorted by path). The id is the path relative
/// to the folder without `.txt`; text that is not valid UTF-8 is decoded with U+FFFD for each
/// bad byte sequence, with a warning naming the first bad byte.
pub struct DirReader {
    root: PathBuf,
    files: std::vec::IntoIter<PathBuf>,
    seq: u64,
}

impl DirReader {
    pub fn new(root: &Path) -> std::io::Result<Self> {
        Ok(DirReader {
            root: root.to_path_buf(),
            files: txt_files(root)?.into_iter(),
            seq: 0,
        })
    }
}

impl Iterator for DirReader {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        let path = self.files.next()?;
        let seq = self.seq;
        self.seq += 1;
        let rel = path.strip_prefix(&self.root).unwrap_or(&path);
        let id = rel.with_extension("").to_string_lossy().replace('\\', "/");
        let record = path.display().to_string();
        let mut bytes = Vec::new();
        if let Err(e) = File::open(&path).and_then(|mut f| f.read_to_end(&mut bytes)) {
            return Some(Err(BadRecord {
                seq,
                id: Some(id),
                record,
                kind: "io",
                message: e.to_string(),
            }));
        }
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
        Some(Ok(Article {
            seq,
            id,
            title: None,
            text,
            record,
            warnings,
        }))
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
        assert_eq!((e.kind, e.record.as_str()), ("invalid_json", "line 3"));
        assert_eq!(items[2].as_ref().unwrap().id, "7");
        let e = items[3].as_ref().unwrap_err();
        assert_eq!(e.kind, "bad_field");
        let e = items[4].as_ref().unwrap_err();
        assert_eq!((e.kind, e.id.as_deref()), ("missing_field", Some("b")));
        assert_eq!(items[5].as_ref().unwrap_err().kind, "invalid_json");
        assert_eq!(items[6].as_ref().unwrap_err().kind, "invalid_utf8");
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
}
