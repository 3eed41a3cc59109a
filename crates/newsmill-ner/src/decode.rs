//! Word-level decoding: from one probability vector per word to a tag per word.

use crate::tags::{Prefix, Scheme, TagSet};

/// How word tags are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Decoding {
    /// Most probable tag per word.
    Greedy,
    /// Most probable tag sequence that is valid in the model's scheme (IOB2: no `I-X` after
    /// `O` or another type; BIOES: `B`/`I` continue with `I`/`E` of the same type). Falls back
    /// to greedy for IO label sets, where every sequence is valid.
    #[default]
    Constrained,
}

fn allowed(set: &TagSet, prev: Option<usize>, cur: usize) -> bool {
    let c = &set.tags[cur];
    let p = prev.map(|i| &set.tags[i]);
    let continues = |p: Option<&crate::Tag>| {
        p.is_some_and(|p| matches!(p.prefix, Prefix::B | Prefix::I) && p.typ == c.typ)
    };
    match set.scheme {
        Scheme::Io => true,
        Scheme::Iob => c.prefix != Prefix::I || continues(p),
        Scheme::Bioes => {
            let inside = p.is_some_and(|p| matches!(p.prefix, Prefix::B | Prefix::I));
            match c.prefix {
                Prefix::I | Prefix::E => continues(p),
                _ => !inside,
            }
        }
    }
}

fn can_end(set: &TagSet, last: usize) -> bool {
    set.scheme != Scheme::Bioes || !matches!(set.tags[last].prefix, Prefix::B | Prefix::I)
}

/// Tag ids for each word. `probs[w]` holds the label probabilities of word `w`; words without
/// a prediction (no wordpiece) pass `None` and get `O`.
pub fn decode_words(set: &TagSet, probs: &[Option<&[f32]>], how: Decoding) -> Vec<usize> {
    let greedy = |p: &Option<&[f32]>| match p {
        Some(p) => argmax(p),
        None => set.outside,
    };
    if how == Decoding::Greedy || set.scheme == Scheme::Io || probs.is_empty() {
        return probs.iter().map(greedy).collect();
    }
    let n = set.tags.len();
    let lp = |w: usize, t: usize| -> f32 {
        match probs[w] {
            Some(p) => p.get(t).copied().unwrap_or(0.0).max(1e-12).ln(),
            None if t == set.outside => 0.0,
            None => -1e9,
        }
    };
    let neg = f32::NEG_INFINITY;
    let mut score: Vec<f32> = (0..n)
        .map(|t| if allowed(set, None, t) { lp(0, t) } else { neg })
        .collect();
    let mut back: Vec<Vec<usize>> = Vec::with_capacity(probs.len());
    back.push(vec![0; n]);
    for w in 1..probs.len() {
        let mut next = vec![neg; n];
        let mut bp = vec![0; n];
        for cur in 0..n {
            let emit = lp(w, cur);
            for (prev, &ps) in score.iter().enumerate() {
                if ps == neg || !allowed(set, Some(prev), cur) {
                    continue;
                }
                let s = ps + emit;
                if s > next[cur] {
                    next[cur] = s;
                    bp[cur] = prev;
                }
            }
        }
        score = next;
        back.push(bp);
    }
    let mut best = set.outside;
    let mut best_s = neg;
    for (t, &s) in score.iter().enumerate() {
        if can_end(set, t) && s > best_s {
            best_s = s;
            best = t;
        }
    }
    if best_s == neg {
        return probs.iter().map(greedy).collect();
    }
    let mut path = vec![best; probs.len()];
    for w in (1..probs.len()).rev() {
        path[w - 1] = back[w][path[w]];
    }
    path
}

fn argmax(p: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in p.iter().enumerate() {
        if v > p[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(labels: &[&str]) -> TagSet {
        let l: Vec<String> = labels.iter().map(|s| s.to_string()).collect();
        TagSet::new(&l, "t").unwrap()
    }

    fn names(s: &TagSet, ids: &[usize]) -> Vec<String> {
        ids.iter()
            .map(|&i| {
                let t = &s.tags[i];
                if t.prefix == Prefix::O {
                    "O".into()
                } else {
                    format!("{:?}-{}", t.prefix, t.typ)
                }
            })
            .collect()
    }

    #[test]
    fn constrained_fixes_stray_inside() {
        let s = set(&["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]);
        // word 0: I-PER slightly above B-PER; word 1: I-PER
        let p0 = [0.1, 0.4, 0.45, 0.03, 0.02];
        let p1 = [0.1, 0.05, 0.8, 0.03, 0.02];
        let probs = [Some(&p0[..]), Some(&p1[..])];
        assert_eq!(
            names(&s, &decode_words(&s, &probs, Decoding::Greedy)),
            vec!["I-PER", "I-PER"]
        );
        assert_eq!(
            names(&s, &decode_words(&s, &probs, Decoding::Constrained)),
            vec!["B-PER", "I-PER"]
        );
    }

    #[test]
    fn missing_words_are_outside() {
        let s = set(&["O", "B-PER", "I-PER"]);
        let p = [0.0, 1.0, 0.0];
        let probs = [Some(&p[..]), None, Some(&p[..])];
        assert_eq!(
            names(&s, &decode_words(&s, &probs, Decoding::Constrained)),
            vec!["B-PER", "O", "B-PER"]
        );
        assert!(decode_words(&s, &[], Decoding::Constrained).is_empty());
    }

    #[test]
    fn bioes_must_close() {
        let s = set(&["O", "B-ORG", "I-ORG", "E-ORG", "S-ORG"]);
        let p0 = [0.0, 0.9, 0.0, 0.0, 0.1];
        let p1 = [0.6, 0.0, 0.2, 0.2, 0.0];
        let probs = [Some(&p0[..]), Some(&p1[..])];
        let got = names(&s, &decode_words(&s, &probs, Decoding::Constrained));
        assert!(
            got == vec!["B-ORG", "E-ORG"] || got == vec!["S-ORG", "O"],
            "{got:?}"
        );
    }
}
