//! JSONL records: one JSON object per line.

use super::*;

/// Reads one JSON object per line.
pub struct JsonlReader<R> {
    reader: R,
    fields: Fields,
    line: u64,
    seq: u64,
    /// 128-bit digests of the ids read so far, for duplicate warnings: 16 bytes per record
    /// (plus the table's slack) instead of a copy of every id. `None` in a run of several
    /// inputs, where the chain checks the ids of all of them.
    seen: Option<HashSet<u128>>,
    buf: Vec<u8>,
    /// A read error ended the input: a stream that failed once is not read again (a read
    /// error that never clears would otherwise give error records forever).
    failed: bool,
    /// Put before the ids made from line numbers (`NAME:line-N`), when several inputs are
    /// read as one corpus: generated ids stay unique in the run.
    id_prefix: Option<String>,
}

/// The warning on a record whose id an earlier record of the run has.
pub(super) fn duplicate_warning(id: &str) -> String {
    format!("duplicate id `{id}`: an earlier record has the same id")
}

/// Two hash passes with different prefixes (std's `DefaultHasher`, fixed keys): a 128-bit
/// digest of `id`; two distinct ids share one with probability ~2⁻¹²⁸.
pub(super) fn id_digest(id: &str) -> u128 {
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
            seen: Some(HashSet::new()),
            buf: Vec::new(),
            failed: false,
            id_prefix: None,
        }
    }

    /// One of several inputs read as one corpus (`name`: the input's): ids made from line
    /// numbers become `NAME:line-N`, and duplicate ids are left to the chain, which sees every
    /// input.
    pub(super) fn part_of_many(mut self, name: String) -> Self {
        self.id_prefix = Some(name);
        self.seen = None;
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
        if self
            .seen
            .as_mut()
            .is_some_and(|s| !s.insert(id_digest(&id)))
        {
            warnings.push(duplicate_warning(&id));
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
pub(super) fn raw_field(line: &str, name: &str) -> Option<String> {
    let fields: HashMap<String, &serde_json::value::RawValue> = serde_json::from_str(line).ok()?;
    fields.get(name).map(|v| v.get().to_string())
}

pub(super) fn kind_of(v: &Value) -> &'static str {
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
