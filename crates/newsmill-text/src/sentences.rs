//! Rule-based sentence segmentation for news text.
//!
//! Rules, in order:
//! 1. A line break ends a sentence (headlines, bylines and web boilerplate such as "Connect with
//!    us" sit on lines of their own), except a soft wrap: a line that does not end in
//!    punctuation followed by a line that starts with a lower-case letter.
//! 2. Inside a line, `.`, `!`, `?` or `…` (with any closing quotes or brackets after it)
//!    followed by white space ends a sentence, unless the next word starts with a lower-case
//!    letter, or the period closes an abbreviation: titles, months and the like never end a
//!    sentence ("Mr. Putin"), single initials never do ("Kim J. Un"), and initialisms and company
//!    suffixes ("U.S.", "Inc.") do only before a word that usually starts a sentence
//!    ("... in the U.S. The visit").
//! 3. Sentences are trimmed of white space; empty ones are dropped.
//!
//! "White space" is every Unicode `White_Space` character and the zero-width space (U+200B)
//! ([`is_space`]); a line break is any of `\n`, `\r`, `\v`, `\f`, U+0085, U+2028, U+2029.
//! Other format characters (Unicode Cf: soft hyphen, zero-width joiners, word joiner, BOM,
//! direction marks; [`is_format`]) are transparent: never at the edge of a sentence or word,
//! kept inside a word ("Ber\u{AD}lin" is one word; the tokenizer drops them).

/// A byte range `[start, end)` into the text it was made from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }
    pub fn len(&self) -> usize {
        self.end - self.start
    }
    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }
    pub fn slice<'a>(&self, text: &'a str) -> &'a str {
        &text[self.start..self.end]
    }
}

/// White space for the splitters: Unicode `White_Space` and the zero-width space (U+200B),
/// which marks a word break.
pub fn is_space(c: char) -> bool {
    c.is_whitespace() || c == '\u{200B}'
}

/// A Unicode format character (general category Cf) other than U+200B: soft hyphen,
/// zero-width (non-)joiner, word joiner, BOM, direction marks and the like. Never at the edge
/// of a word or sentence.
pub fn is_format(c: char) -> bool {
    matches!(c as u32,
        0x00AD | 0x0600..=0x0605 | 0x061C | 0x06DD | 0x070F | 0x0890..=0x0891 | 0x08E2
        | 0x180E | 0x200C..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x206F
        | 0xFEFF | 0xFFF9..=0xFFFB | 0x110BD | 0x110CD | 0x13430..=0x1343F
        | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A | 0xE0001 | 0xE0020..=0xE007F)
}

/// White space or a format character: what sentences and words are trimmed of.
pub(crate) fn is_gap(c: char) -> bool {
    is_space(c) || is_format(c)
}

/// A line break: ends a line for the segmenter and the page roles.
pub(crate) fn is_line_break(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r' | '\u{000B}' | '\u{000C}' | '\u{0085}' | '\u{2028}' | '\u{2029}'
    )
}

/// Abbreviations whose period never ends a sentence (compared lower-cased, without the period).
const STRONG_ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "sen", "rep", "gov", "gen", "col", "lt", "sgt", "capt",
    "cmdr", "adm", "maj", "st", "mt", "ft", "rev", "hon", "pres", "no", "nos", "vol", "pp", "jan",
    "feb", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "approx", "dept", "est",
    "fig", "vs", "v", "e.g", "i.e", "cf", "al",
];

/// Abbreviations that end a sentence only before a typical sentence starter.
const WEAK_ABBREVIATIONS: &[&str] = &["inc", "corp", "ltd", "co", "jr", "sr", "bros", "plc", "etc"];

/// Words that usually start a sentence: after a weak abbreviation they signal a boundary.
const STARTERS: &[&str] = &[
    "the",
    "a",
    "an",
    "he",
    "she",
    "it",
    "they",
    "we",
    "i",
    "you",
    "but",
    "and",
    "in",
    "on",
    "at",
    "this",
    "that",
    "these",
    "those",
    "his",
    "her",
    "its",
    "their",
    "our",
    "there",
    "however",
    "meanwhile",
    "after",
    "before",
    "when",
    "while",
    "if",
    "as",
    "for",
    "so",
    "yet",
    "according",
    "mr",
    "mrs",
    "ms",
    "dr",
    "president",
    "officials",
    "some",
    "many",
    "both",
];

const CLOSERS: &[char] = &['"', '\'', '”', '’', ')', ']', '»'];
const TERMINALS: &[char] = &['.', '!', '?', '…'];

/// Splits `text` into sentences. Returns byte spans in order, non-overlapping, trimmed, never
/// empty, each on character boundaries.
pub fn segment(text: &str) -> Vec<Span> {
    let mut out = Vec::new();
    for block in blocks(text) {
        split_block(text, block, &mut out);
    }
    out
}

/// Lines joined across soft wraps.
pub(crate) fn blocks(text: &str) -> Vec<Span> {
    let mut lines = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if is_line_break(c) {
            lines.push(Span::new(start, i));
            start = i + c.len_utf8();
        }
    }
    lines.push(Span::new(start, text.len()));

    let mut blocks: Vec<Span> = Vec::new();
    let mut prev_nonempty = false;
    for line in lines {
        let body = line.slice(text).trim_matches(is_gap);
        if body.is_empty() {
            prev_nonempty = false;
            continue;
        }
        if prev_nonempty {
            let last = blocks.last_mut().expect("a previous block exists");
            let prev = last.slice(text).trim_end_matches(is_gap);
            let ends_open = prev
                .chars()
                .last()
                .is_some_and(|c| c.is_alphanumeric() || c == ',');
            let starts_lower = body.chars().next().is_some_and(|c| c.is_lowercase());
            if ends_open && starts_lower {
                last.end = line.end;
                continue;
            }
        }
        blocks.push(line);
        prev_nonempty = true;
    }
    blocks
}

fn split_block(text: &str, block: Span, out: &mut Vec<Span>) {
    let s = block.slice(text);
    let mut sent_start = 0usize;
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (_, c) = chars[i];
        if !TERMINALS.contains(&c) {
            i += 1;
            continue;
        }
        // run of terminals and closers (format characters among them are transparent)
        let mut j = i + 1;
        while j < chars.len()
            && (TERMINALS.contains(&chars[j].1)
                || CLOSERS.contains(&chars[j].1)
                || is_format(chars[j].1))
        {
            j += 1;
        }
        let end_byte = if j < chars.len() { chars[j].0 } else { s.len() };
        if j < chars.len() && !is_space(chars[j].1) {
            i = j;
            continue;
        }
        // next word
        let mut k = j;
        while k < chars.len() && is_gap(chars[k].1) {
            k += 1;
        }
        if k >= chars.len() {
            break; // end of block: the block end closes the sentence
        }
        let next_word = word_at(s, chars[k].0);
        let next_first = chars[k].1;
        let boundary = if next_first.is_lowercase() {
            false
        } else if c == '.' && chars[i + 1..j].iter().all(|&(_, f)| is_format(f)) {
            period_ends_sentence(s, chars[i].0, next_word)
        } else {
            true
        };
        if boundary {
            push_trimmed(text, block.start + sent_start, block.start + end_byte, out);
            sent_start = chars[k].0;
        }
        i = k;
    }
    push_trimmed(text, block.start + sent_start, block.end, out);
}

/// The word (up to white space) starting at byte `at` of `s`, stripped of opening quotes.
fn word_at(s: &str, at: usize) -> &str {
    let rest = &s[at..];
    let end = rest.find(is_space).unwrap_or(rest.len());
    rest[..end].trim_start_matches(['"', '\'', '“', '‘', '(', '['])
}

/// Decides whether the period at byte `dot` of `s` ends a sentence.
fn period_ends_sentence(s: &str, dot: usize, next_word: &str) -> bool {
    let before = &s[..dot];
    let word_start = before
        .rfind(|c: char| is_space(c) || c == '(' || c == '"' || c == '“')
        .map(|p| p + before[p..].chars().next().map_or(1, char::len_utf8))
        .unwrap_or(0);
    let word = before[word_start..].trim_start_matches(is_format);
    if word.is_empty() {
        return true;
    }
    let lower = word.to_lowercase();
    if STRONG_ABBREVIATIONS.contains(&lower.as_str()) {
        return false;
    }
    let mut cs = word.chars();
    let single_initial = matches!((cs.next(), cs.next()), (Some(a), None) if a.is_uppercase());
    if single_initial {
        return false;
    }
    let initialism = word.contains('.') && word.chars().any(char::is_alphabetic);
    if initialism || WEAK_ABBREVIATIONS.contains(&lower.as_str()) {
        let next = next_word
            .trim_end_matches(|c: char| !c.is_alphanumeric())
            .to_lowercase();
        return STARTERS.contains(&next.as_str());
    }
    true
}

fn push_trimmed(text: &str, start: usize, end: usize, out: &mut Vec<Span>) {
    let piece = &text[start..end];
    let lead = piece.len() - piece.trim_start_matches(is_gap).len();
    let trail = piece.len() - piece.trim_end_matches(is_gap).len();
    if lead + trail < piece.len() {
        out.push(Span::new(start + lead, end - trail));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sents(t: &str) -> Vec<&str> {
        segment(t).iter().map(|s| s.slice(t)).collect()
    }

    #[test]
    fn basic_and_abbreviations() {
        assert_eq!(
            sents("Mr. Putin arrived. He met Kim J. Un in Pyongyang! Then he left?"),
            vec![
                "Mr. Putin arrived.",
                "He met Kim J. Un in Pyongyang!",
                "Then he left?"
            ]
        );
        assert_eq!(
            sents("U.S. officials said so. Growth was 3.5 per cent."),
            vec!["U.S. officials said so.", "Growth was 3.5 per cent."]
        );
        assert_eq!(
            sents("Aid came from the U.S. The visit ended."),
            vec!["Aid came from the U.S.", "The visit ended."]
        );
        assert_eq!(
            sents("He works for Apple Inc. in Cupertino."),
            vec!["He works for Apple Inc. in Cupertino."]
        );
    }

    #[test]
    fn quotes_and_lines() {
        assert_eq!(
            sents("\"We will win.\" He said it twice.\nConnect with us\n\nHeadline Without Period\nBody text here."),
            vec![
                "\"We will win.\"",
                "He said it twice.",
                "Connect with us",
                "Headline Without Period",
                "Body text here."
            ]
        );
    }

    #[test]
    fn soft_wrap_is_joined() {
        assert_eq!(
            sents("The talks in Moscow\nended on Tuesday. Next."),
            vec!["The talks in Moscow\nended on Tuesday.", "Next."]
        );
    }

    #[test]
    fn empty_and_whitespace() {
        assert!(segment("").is_empty());
        assert!(segment("  \n\t \r\n").is_empty());
        assert_eq!(sents("..."), vec!["..."]);
    }

    #[test]
    fn non_ascii() {
        assert_eq!(
            sents("Лидер прибыл. 北京欢迎你。 Émile left… Then 😀 came."),
            vec!["Лидер прибыл.", "北京欢迎你。 Émile left…", "Then 😀 came."]
        );
    }
}
