//! Splits a sentence into words the way CoNLL-2003 (the NER training data) tokenizes: on white
//! space, with opening and closing punctuation, sentence-final periods, possessive `'s` and
//! `n't` split off, and every CJK ideograph a word of its own. Abbreviations keep their period
//! ("U.S.", "Mr."). White space is [`is_space`] (Unicode white space and U+200B); format
//! characters ([`is_format`]: soft hyphen, joiners, BOM) are never at a word's edge but stay
//! inside a word.

use crate::sentences::{is_format, is_space, Span};

const OPENERS: &[char] = &['"', '\'', '(', '[', '{', '“', '‘', '«', '<'];
const CLOSERS: &[char] = &[
    '"', '\'', ')', ']', '}', '”', '’', '»', '>', ',', ';', ':', '!', '?', '…',
];

/// Words of `text[span]` as byte spans into `text`; never empty spans.
pub fn split_words(text: &str, span: Span) -> Vec<Span> {
    let mut out = Vec::new();
    let s = span.slice(text);
    let mut tok_start: Option<usize> = None;
    for (i, c) in s.char_indices().chain(std::iter::once((s.len(), ' '))) {
        if is_space(c) {
            if let Some(st) = tok_start.take() {
                split_token(text, span.start + st, span.start + i, &mut out);
            }
        } else if is_cjk(c) {
            if let Some(st) = tok_start.take() {
                split_token(text, span.start + st, span.start + i, &mut out);
            }
            out.push(Span::new(span.start + i, span.start + i + c.len_utf8()));
        } else if tok_start.is_none() {
            tok_start = Some(i);
        }
    }
    out
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0xAC00..=0xD7AF
        | 0x20000..=0x2FA1F | 0x3000..=0x303F | 0xFF00..=0xFFEF)
}

/// `[start, end)` without the format characters at its edges.
fn trim_format(text: &str, start: &mut usize, end: &mut usize) {
    let piece = &text[*start..*end];
    let trimmed = piece.trim_start_matches(is_format);
    *start += piece.len() - trimmed.len();
    *end = *start + trimmed.trim_end_matches(is_format).len();
}

fn split_token(text: &str, mut start: usize, mut end: usize, out: &mut Vec<Span>) {
    trim_format(text, &mut start, &mut end);
    // leading openers, one word each
    while start < end {
        trim_format(text, &mut start, &mut end);
        let Some(c) = text[start..end].chars().next() else {
            break;
        };
        if OPENERS.contains(&c) && end - start > c.len_utf8() {
            out.push(Span::new(start, start + c.len_utf8()));
            start += c.len_utf8();
        } else {
            break;
        }
    }
    // trailing closers, periods, possessives: collected right to left
    let mut tail: Vec<Span> = Vec::new();
    loop {
        trim_format(text, &mut start, &mut end);
        let word = &text[start..end];
        let Some(c) = word.chars().last() else { break };
        if word.chars().count() <= 1 {
            break;
        }
        if CLOSERS.contains(&c) || (c == '.' && !is_abbreviation(&word[..word.len() - 1])) {
            tail.push(Span::new(end - c.len_utf8(), end));
            end -= c.len_utf8();
            continue;
        }
        let lower = word.to_lowercase();
        let suffix = ["'s", "’s", "n't", "n’t"]
            .iter()
            .find(|suf| lower.ends_with(*suf) && lower.len() > suf.len());
        if let Some(suf) = suffix {
            tail.push(Span::new(end - suf.len(), end));
            end -= suf.len();
            continue;
        }
        break;
    }
    if start < end {
        out.push(Span::new(start, end));
    }
    out.extend(tail.into_iter().rev());
}

/// `word` (without its final period) is an abbreviation that keeps the period.
fn is_abbreviation(word: &str) -> bool {
    if word.is_empty() || word.ends_with('.') {
        return false;
    }
    let mut cs = word.chars();
    if matches!((cs.next(), cs.next()), (Some(a), None) if a.is_alphabetic()) {
        return true; // initial
    }
    if word.contains('.') && word.split('.').all(|p| p.chars().count() <= 2) {
        return true; // U.S, e.g, a.m
    }
    const ABBR: &[&str] = &[
        "Mr", "Mrs", "Ms", "Dr", "Prof", "Sen", "Rep", "Gov", "Gen", "Col", "Lt", "Sgt", "Capt",
        "St", "Jr", "Sr", "Inc", "Corp", "Ltd", "Co", "No", "vs", "Jan", "Feb", "Aug", "Sept",
        "Oct", "Nov", "Dec",
    ];
    ABBR.contains(&word)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(t: &str) -> Vec<&str> {
        split_words(t, Span::new(0, t.len()))
            .iter()
            .map(|s| s.slice(t))
            .collect()
    }

    #[test]
    fn conll_like() {
        assert_eq!(
            words("Mr. Putin's \"visit\" to the U.S. (2024), didn't end."),
            vec![
                "Mr.", "Putin", "'s", "\"", "visit", "\"", "to", "the", "U.S.", "(", "2024", ")",
                ",", "did", "n't", "end", "."
            ]
        );
        assert_eq!(
            words("Kim Jong Un’s aide."),
            vec!["Kim", "Jong", "Un", "’s", "aide", "."]
        );
        assert_eq!(words("$1.13bn (£600m)"), vec!["$1.13bn", "(", "£600m", ")"]);
    }

    #[test]
    fn odd_input() {
        assert_eq!(words("..."), vec![".", ".", "."]);
        assert_eq!(words("'"), vec!["'"]);
        assert_eq!(words("北京 visit"), vec!["北", "京", "visit"]);
        assert_eq!(words("e\u{301}clair 😀!"), vec!["e\u{301}clair", "😀", "!"]);
        assert!(words("   ").is_empty());
    }
}
