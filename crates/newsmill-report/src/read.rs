//! Annotated JSONL back into records. Every non-blank line becomes one [`Record`]; a line that
//! is neither an article record nor an error record is kept as [`Record::Unreadable`] with the
//! reason, never dropped.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use newsmill_schema::{ArticleOut, ErrorOut};

use crate::ReportError;

/// One line of annotated JSONL.
#[derive(Debug, Clone)]
pub enum Record {
    /// An annotated article.
    Article {
        line: usize,
        article: Box<ArticleOut>,
    },
    /// An error record written by `newsmill annotate` in place of an article.
    Error { line: usize, error: ErrorOut },
    /// A line that is not an output record (malformed JSON, not UTF-8, wrong shape).
    Unreadable { line: usize, message: String },
}

impl Record {
    /// The 1-based line number in the annotated JSONL.
    pub fn line(&self) -> usize {
        match self {
            Record::Article { line, .. }
            | Record::Error { line, .. }
            | Record::Unreadable { line, .. } => *line,
        }
    }
}

/// The records of one annotated JSONL file, in file order.
#[derive(Debug, Clone, Default)]
pub struct Corpus {
    /// Where it came from (a path, or `standard input`), for titles and messages.
    pub source: String,
    pub records: Vec<Record>,
}

impl Corpus {
    pub fn articles(&self) -> impl Iterator<Item = &ArticleOut> {
        self.records.iter().filter_map(|r| match r {
            Record::Article { article, .. } => Some(article.as_ref()),
            _ => None,
        })
    }
}

/// Parses one line (without its newline).
pub fn parse_line(line: usize, bytes: &[u8]) -> Record {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            return Record::Unreadable {
                line,
                message: format!("not UTF-8 (byte {})", e.valid_up_to()),
            }
        }
    };
    match serde_json::from_str::<ArticleOut>(text) {
        Ok(article) => Record::Article {
            line,
            article: Box::new(article),
        },
        Err(article_err) => match serde_json::from_str::<ErrorOut>(text) {
            Ok(error) => Record::Error { line, error },
            Err(_) => Record::Unreadable {
                line,
                message: format!("not an output record: {article_err}"),
            },
        },
    }
}

/// Reads every line of `input`. Only a read error stops it; bad lines become
/// [`Record::Unreadable`]. A UTF-8 byte order mark at the start is skipped, blank lines too.
pub fn read_corpus<R: Read>(input: R, source: &str) -> Result<Corpus, ReportError> {
    let mut reader = BufReader::with_capacity(1 << 20, input);
    let mut records = Vec::new();
    let mut buf = Vec::new();
    let mut line = 0usize;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|source_err| ReportError::Read {
                path: source.to_string(),
                source: source_err,
            })?;
        if n == 0 {
            break;
        }
        line += 1;
        let mut bytes = buf.as_slice();
        if line == 1 {
            bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        }
        while let Some((b'\n' | b'\r', rest)) = bytes.split_last() {
            bytes = rest;
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        records.push(parse_line(line, bytes));
    }
    Ok(Corpus {
        source: source.to_string(),
        records,
    })
}

/// [`read_corpus`] on a file, or on standard input for `-`.
pub fn read_corpus_path(path: &Path) -> Result<Corpus, ReportError> {
    if path.as_os_str() == "-" {
        return read_corpus(std::io::stdin().lock(), "standard input");
    }
    let shown = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|source| ReportError::Read {
        path: shown.clone(),
        source,
    })?;
    read_corpus(file, &shown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_lines_are_kept() {
        let input = b"\xEF\xBB\xBF{\"schema_version\":\"1.2\",\"id\":null,\"record\":\"line 1\",\"error\":{\"kind\":\"invalid_json\",\"message\":\"x\"}}\n\nnot json\n\xff\xfe\n[1,2]\n{\"id\":\"a\"}";
        let c = read_corpus(&input[..], "t").unwrap();
        assert_eq!(c.records.len(), 5);
        assert!(matches!(c.records[0], Record::Error { line: 1, .. }));
        assert!(matches!(c.records[1], Record::Unreadable { line: 3, .. }));
        assert!(
            matches!(&c.records[2], Record::Unreadable { line: 4, message } if message.contains("UTF-8"))
        );
        assert!(matches!(c.records[3], Record::Unreadable { line: 5, .. }));
        assert!(matches!(c.records[4], Record::Unreadable { line: 6, .. }));
    }
}
