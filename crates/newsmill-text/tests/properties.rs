//! Property tests: segmentation, word splitting and offset mapping never panic and always give
//! spans in bounds, on character boundaries, in order, that slice back.

use newsmill_text::{segment, split_words, CharIndex, Span};
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
            let words = split_words(&text, *s);
            check_spans(&text, &words, *s);
            for w in &words {
                prop_assert!(!w.slice(&text).chars().any(char::is_whitespace));
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
