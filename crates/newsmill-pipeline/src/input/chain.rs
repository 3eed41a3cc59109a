//! Several inputs read one after the other as one corpus.

use super::*;

/// Several inputs read one after the other: records renumbered across them, JSONL records
/// named by file and line, a later input that cannot be opened an `io` error record.
pub(super) struct Chain {
    pub(super) rest: std::vec::IntoIter<Source>,
    pub(super) current: Option<(Source, Box<dyn Iterator<Item = Item> + Send>)>,
    pub(super) fields: Fields,
    pub(super) stop: Option<&'static AtomicBool>,
    pub(super) counter: BytesRead,
    pub(super) seq: u64,
    /// Digests of the ids of every input so far: duplicates within an input and across inputs
    /// are warned about here (the readers of a chain leave it to it).
    pub(super) seen: HashSet<u128>,
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
                            if !self.seen.insert(id_digest(&a.id)) {
                                a.warnings.push(duplicate_warning(&a.id));
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
