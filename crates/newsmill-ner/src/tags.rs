//! Tags, label schemes and conlleval chunk extraction.

/// The prefix of a tag. `L-`/`U-` (BILOU) are read as `E-`/`S-`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Prefix {
    O,
    B,
    I,
    E,
    S,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Tag {
    pub prefix: Prefix,
    /// Entity type; empty for `O`.
    pub typ: String,
}

impl Tag {
    /// Parses `O`, `B-PER`, `I-LOC`, `E-ORG`, `S-MISC`, `L-x`, `U-x` (also with `_`).
    pub fn parse(label: &str) -> Option<Tag> {
        if label == "O" {
            return Some(Tag {
                prefix: Prefix::O,
                typ: String::new(),
            });
        }
        let (p, t) = label.split_at_checked(2)?;
        let prefix = match p {
            "B-" | "B_" => Prefix::B,
            "I-" | "I_" => Prefix::I,
            "E-" | "E_" | "L-" | "L_" => Prefix::E,
            "S-" | "S_" | "U-" | "U_" => Prefix::S,
            _ => return None,
        };
        if t.is_empty() {
            return None;
        }
        Some(Tag {
            prefix,
            typ: t.to_string(),
        })
    }
}

/// The label scheme a tag set uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Only `I-` (and `O`).
    Io,
    /// `B-` and `I-`. A model trained on IOB1 data has the same labels; decoding treats both
    /// alike (conlleval chunking), constrained decoding assumes IOB2.
    Iob,
    /// `B-`, `I-`, `E-`, `S-`.
    Bioes,
}

/// The labels of a NER model in id order, parsed.
#[derive(Debug, Clone)]
pub struct TagSet {
    pub tags: Vec<Tag>,
    pub scheme: Scheme,
    pub outside: usize,
}

impl TagSet {
    pub fn new(labels: &[String], path: &str) -> Result<Self, crate::NerError> {
        let mut tags = Vec::with_capacity(labels.len());
        for l in labels {
            tags.push(Tag::parse(l).ok_or_else(|| crate::NerError::BadLabel {
                path: path.to_string(),
                label: l.clone(),
            })?);
        }
        let outside = tags
            .iter()
            .position(|t| t.prefix == Prefix::O)
            .ok_or_else(|| crate::NerError::NoOutsideLabel {
                path: path.to_string(),
            })?;
        let has = |p| tags.iter().any(|t| t.prefix == p);
        let scheme = if has(Prefix::E) || has(Prefix::S) {
            Scheme::Bioes
        } else if has(Prefix::B) {
            Scheme::Iob
        } else {
            Scheme::Io
        };
        Ok(TagSet {
            tags,
            scheme,
            outside,
        })
    }
}

/// Chunks `(start, end, type)` of a tag sequence, end exclusive, with conlleval's rules, so
/// IOB1, IOB2, IO and BIOES input are all read the way conlleval reads them.
pub fn chunks(tags: &[Tag]) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    let mut open: Option<(usize, &str)> = None;
    let mut prev: Option<&Tag> = None;
    for (i, t) in tags.iter().enumerate() {
        if let (Some((s, typ)), Some(p)) = (open, prev) {
            if end_of_chunk(p, t) {
                out.push((s, i, typ.to_string()));
                open = None;
            }
        }
        if start_of_chunk(prev, t) {
            open = Some((i, t.typ.as_str()));
        }
        prev = Some(t);
    }
    if let Some((s, typ)) = open {
        out.push((s, tags.len(), typ.to_string()));
    }
    out
}

fn end_of_chunk(prev: &Tag, cur: &Tag) -> bool {
    use Prefix::*;
    match (prev.prefix, cur.prefix) {
        (O, _) => false,
        (E, _) | (S, _) => true,
        (_, O) => true,
        (B, B) | (B, S) | (I, B) | (I, S) => true,
        _ => prev.typ != cur.typ,
    }
}

fn start_of_chunk(prev: Option<&Tag>, cur: &Tag) -> bool {
    use Prefix::*;
    match cur.prefix {
        O => false,
        B | S => true,
        I | E => match prev {
            None => true,
            Some(p) => matches!(p.prefix, O | E | S) || p.typ != cur.typ,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(s: &str) -> Vec<Tag> {
        s.split_whitespace()
            .map(|l| Tag::parse(l).unwrap())
            .collect()
    }

    fn ch(s: &str) -> Vec<(usize, usize, String)> {
        chunks(&tags(s))
    }

    #[test]
    fn iob1() {
        assert_eq!(
            ch("I-PER I-PER O I-LOC B-LOC I-ORG"),
            vec![
                (0, 2, "PER".into()),
                (3, 4, "LOC".into()),
                (4, 5, "LOC".into()),
                (5, 6, "ORG".into())
            ]
        );
    }

    #[test]
    fn iob2_and_malformed() {
        assert_eq!(
            ch("B-PER I-PER B-PER"),
            vec![(0, 2, "PER".into()), (2, 3, "PER".into())]
        );
        // an I- of another type starts a new chunk; a stray I- after O starts one too
        assert_eq!(
            ch("B-PER I-LOC O I-ORG"),
            vec![
                (0, 1, "PER".into()),
                (1, 2, "LOC".into()),
                (3, 4, "ORG".into())
            ]
        );
    }

    #[test]
    fn bioes() {
        assert_eq!(
            ch("B-PER E-PER S-LOC O B-ORG I-ORG E-ORG"),
            vec![
                (0, 2, "PER".into()),
                (2, 3, "LOC".into()),
                (4, 7, "ORG".into())
            ]
        );
        assert_eq!(
            ch("U-LOC L-LOC"),
            vec![(0, 1, "LOC".into()), (1, 2, "LOC".into())]
        );
    }

    #[test]
    fn schemes_and_errors() {
        let l = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            TagSet::new(&l(&["O", "I-PER"]), "x").unwrap().scheme,
            Scheme::Io
        );
        assert_eq!(
            TagSet::new(&l(&["O", "B-PER", "I-PER"]), "x")
                .unwrap()
                .scheme,
            Scheme::Iob
        );
        assert_eq!(
            TagSet::new(&l(&["O", "S-PER", "B-PER", "E-PER"]), "x")
                .unwrap()
                .scheme,
            Scheme::Bioes
        );
        assert!(TagSet::new(&l(&["O", "PER"]), "x").is_err());
        assert!(TagSet::new(&l(&["B-PER"]), "x").is_err());
        assert!(TagSet::new(&l(&["O", "B-"]), "x").is_err());
    }
}
