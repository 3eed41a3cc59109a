//! Property tests: segmentation, word splitting and offset mapping never panic and always give
//! spans in bounds, on character boundaries, in order, that slice back.

use newsmill_text::{is_format, is_space, segment, split_words, CharIndex, Span};
use proptest::prelude::*;

/// News-like text: words, abbreviations, punctuation, quotes, line breaks, non-Latin scripts,
/// emoji, combining marks, control characters.
fn newsish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("Putin".to_string()),
        Just("U.S.".to_string()),
        Just("Mr.".to_string()),
        Just("J.".to_string()),
        Just(". ".to_string()),
        Just("! ".to_string()),
        Just("? ".to_string()),
        Just("...".to_string()),
        Just("\"".to_string()),
        Just("“".to_string()),
        Just("’s".to_string()),
        Just("'s ".to_string()),
        Just("n't".to_string()),
        Just("(".to_string()),
        Just(")".to_string()),
        Just("\n".to_string()),
        Just("\r\n".to_string()),
        Just("\n\n".to_string()),
        Just(" ".to_string()),
        Just("\t".to_string()),
        Just("北京".to_string()),
        Just("😀".to_string()),
        Just("e\u{301}".to_string()),
        Just("مرحبا".to_string()),
        Just("\u{0}".to_string()),
        Just("\u{200b}".to_string()),
        Just("\u{2028}".to_string()),
        Just("…".to_string()),
        "[a-zA-Z]{1,8}",
        "[0-9.,]{1,5}",
        any::<char>().prop_map(|c| c.to_string()),
    ];
    prop::collection::vec(piece, 0..120).prop_map(|v| v.concat())
}

fn check_spans(text: &str, spans: &[Span], within: Span) {
    let mut prev = within.start;
    for s in spans {
        assert!(s.start < s.end, "non-empty {s:?}");
        assert!(
            prev <= s.start && s.end <= within.end,
            "ordered and inside {s:?} {within:?}"
        );
        assert!(text.is_char_boundary(s.start) && text.is_char_boundary(s.end));
        prev = s.end;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2000), ..ProptestConfig::default() })]

    #[test]
    fn segmentation_and_words(text in newsish()) {
        let sents = segment(&text);
        check_spans(&text, &sents, Span::new(0, text.len()));
        for s in &sents {
            let body = s.slice(&text);
            prop_assert_eq!(body.trim(), body);
            let edge = |c: Option<char>| c.is_some_and(|c| is_space(c) || is_format(c));
            prop_assert!(!edge(body.chars().next()) && !edge(body.chars().last()));
            let words = split_words(&text, *s);
            check_spans(&text, &words, *s);
            for w in &words {
                let w = w.slice(&text);
                prop_assert!(!w.chars().any(is_space));
                prop_assert!(!edge(w.chars().next()) && !edge(w.chars().last()), "word {:?}", w);
            }
        }
    }

    #[test]
    fn arbitrary_unicode(text in any::<String>()) {
        let sents = segment(&text);
        check_spans(&text, &sents, Span::new(0, text.len()));
        for s in &sents {
            check_spans(&text, &split_words(&text, *s), *s);
        }
    }

    #[test]
    fn char_offsets_match_python_indexing(text in newsish()) {
        let ci = CharIndex::new(&text);
        prop_assert_eq!(ci.char_len(), text.chars().count());
        for (b, _) in text.char_indices() {
            prop_assert_eq!(ci.char_of(b), text[..b].chars().count());
        }
        prop_assert_eq!(ci.char_of(text.len()), ci.char_len());
    }
}

/// Unicode white space that is not a line break, the zero-width space, and format characters
/// (alone or beside a space): what may stand between two words.
fn gap() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(" ".to_string()),
        Just("\t".to_string()),
        Just("\u{a0}".to_string()),
        Just("\u{2003}".to_string()),
        Just("\u{202f}".to_string()),
        Just("\u{3000}".to_string()),
        Just("\u{200b}".to_string()),
        Just(" \u{200b}".to_string()),
        Just("\u{200b} ".to_string()),
        Just("\u{feff} ".to_string()),
        Just(" \u{ad}".to_string()),
        Just("\u{200d} \u{200c}".to_string()),
        Just(" \u{2060}\u{200e}".to_string()),
    ]
}

/// A sentence-ish word: names, lower-case words, abbreviations, words with punctuation.
fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("Zürich.".to_string()),
        Just("Putin's".to_string()),
        Just("(Reuters)".to_string()),
        Just("U.S.".to_string()),
        Just("Mr.".to_string()),
        Just("\"visit\"".to_string()),
        Just("said,".to_string()),
        Just("end!".to_string()),
        "[A-Z][a-z]{1,7}",
        "[a-z]{1,8}",
        "[a-z]{1,8}[.,;:]",
    ]
}

/// The words of every sentence, as strings without format characters.
fn words_of(text: &str) -> Vec<Vec<String>> {
    segment(text)
        .iter()
        .map(|s| {
            split_words(text, *s)
                .iter()
                .map(|w| w.slice(text).chars().filter(|c| !is_format(*c)).collect())
                .collect()
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1000), ..ProptestConfig::default() })]

    /// Any white space or format character between words splits as a plain space does: the
    /// same sentences and words (offsets still slice the text they came from).
    #[test]
    fn gaps_split_as_spaces(pairs in prop::collection::vec((word(), gap()), 1..30)) {
        let plain: String = pairs.iter().map(|(w, _)| format!("{w} ")).collect();
        let odd: String = pairs.iter().map(|(w, g)| format!("{w}{g}")).collect();
        prop_assert_eq!(words_of(&plain), words_of(&odd), "{:?}", odd);
    }

    /// A format character inside a word (a soft hyphen, a joiner) keeps it one word.
    #[test]
    fn format_inside_a_word_keeps_it_whole(a in "[A-Z][a-z]{1,6}", b in "[a-z]{1,6}", f in prop::sample::select(vec!['\u{ad}', '\u{200d}', '\u{2060}', '\u{feff}'])) {
        let text = format!("They met in {a}{f}{b} today.");
        let words = words_of(&text);
        let want = format!("{a}{b}");
        prop_assert!(words[0].contains(&want), "{:?}", words);
    }
}

#[test]
fn line_breaks_of_every_kind_end_lines() {
    for br in [
        "\n", "\r", "\u{b}", "\u{c}", "\u{85}", "\u{2028}", "\u{2029}",
    ] {
        let text = format!("Berlin{br}Madrid{br}Lisbon");
        let got: Vec<&str> = segment(&text).iter().map(|s| s.slice(&text)).collect();
        assert_eq!(got, vec!["Berlin", "Madrid", "Lisbon"], "{br:?}");
    }
}

#[test]
fn zero_width_space_after_a_period() {
    let text = "The talks were held in Zürich.\u{200b} Vladimir Putin arrived.";
    let sents: Vec<&str> = segment(text).iter().map(|s| s.slice(text)).collect();
    assert_eq!(
        sents,
        vec!["The talks were held in Zürich.", "Vladimir Putin arrived."]
    );
    let first = segment(text)[0];
    let words: Vec<&str> = split_words(text, first)
        .iter()
        .map(|w| w.slice(text))
        .collect();
    assert_eq!(words[words.len() - 2..], ["Zürich", "."]);
}
