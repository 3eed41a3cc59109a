/// Number of case-shape classes produced by [`case_class`].
pub const CASE_CLASSES: usize = 4;

/// The case shape of a word, the feature the default NER model reads as its token type id:
/// 0 no upper-case letter, 1 first letter upper-case ("Putin", "McDonald", "A"), 2 all letters
/// upper-case and at least two of them ("NATO", "U.S."), 3 other mixed case ("iPhone").
///
/// Must match `case_class` in `models/recipe/textrules.py` (both checked against
/// tests/data/text_rules.json).
pub fn case_class(word: &str) -> u32 {
    let mut letters = word.chars().filter(|c| c.is_alphabetic());
    let Some(first) = letters.next() else {
        return 0;
    };
    let mut count = 1usize;
    let mut any_upper = first.is_uppercase();
    let mut all_upper = first.is_uppercase();
    for c in letters {
        count += 1;
        let up = c.is_uppercase();
        any_upper |= up;
        all_upper &= up;
    }
    if !any_upper {
        0
    } else if count >= 2 && all_upper {
        2
    } else if first.is_uppercase() {
        1
    } else {
        3
    }
}

/// How a model reads case: the `newsmill.case_feature` of its config.json.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CaseFeature {
    /// Token type 0 everywhere (a plain uncased model).
    #[default]
    Off,
    /// `token_type_v1`: every wordpiece carries its word's [`case_class`] (4 types).
    Shape,
    /// `token_type_v2`: as `Shape`, plus 4 on a line styled as a title ([`title_styled`]), so
    /// that a headline's capitals are not read as names (8 types).
    ShapeTitle,
}

impl CaseFeature {
    /// Token types the model's embedding table must have.
    pub fn types_needed(self) -> usize {
        match self {
            CaseFeature::Off => 1,
            CaseFeature::Shape => CASE_CLASSES,
            CaseFeature::ShapeTitle => 2 * CASE_CLASSES,
        }
    }

    /// The token type of each of `words` (one sentence or line); `title`: the sentence is a
    /// page title (its role), read as one even when it is not styled as one.
    pub fn word_types(self, words: &[&str], title: bool) -> Vec<u32> {
        match self {
            CaseFeature::Off => vec![0; words.len()],
            CaseFeature::Shape => words.iter().map(|w| case_class(w)).collect(),
            CaseFeature::ShapeTitle => {
                let off = if title || title_styled(words) {
                    CASE_CLASSES as u32
                } else {
                    0
                };
                words.iter().map(|w| off + case_class(w)).collect()
            }
        }
    }
}

/// Short function words that Title Case leaves in lower case.
const SMALL_WORDS: &[&str] = &[
    "a", "an", "the", "and", "or", "but", "nor", "of", "in", "on", "at", "to", "for", "by", "from",
    "with", "as", "vs", "via", "into", "over", "per",
];

/// A line styled as a title ("Putin Makes Rare North Korea Visit", "WORLD WATCHES"): at least
/// three words with letters that are not small words (of, the, ...), every one of them
/// capitalised or all capitals. Must match `title_styled` in `models/recipe/textrules.py`
/// (both checked against tests/data/text_rules.json).
pub fn title_styled(words: &[&str]) -> bool {
    let mut content = 0;
    for w in words {
        if !w.chars().any(char::is_alphabetic) {
            continue;
        }
        if SMALL_WORDS.iter().any(|s| s.eq_ignore_ascii_case(w)) {
            continue;
        }
        if !matches!(case_class(w), 1 | 2) {
            return false;
        }
        content += 1;
    }
    content >= 3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        let cases = [
            ("putin", 0),
            ("1961", 0),
            ("-", 0),
            ("Putin", 1),
            ("McDonald", 1),
            ("A", 1),
            ("NATO", 2),
            ("U.S.", 2),
            ("iPhone", 3),
            ("Éric", 1),
            ("ÉCOLE", 2),
            ("北京", 0),
        ];
        for (w, want) in cases {
            assert_eq!(case_class(w), want, "{w}");
        }
    }

    #[test]
    fn titles() {
        let t = |s: &str| title_styled(&s.split(' ').collect::<Vec<_>>());
        assert!(t("Strategic Partnership and Global Diplomacy"));
        assert!(t("PUTIN ARRIVES IN PYONGYANG"));
        assert!(t("Putin Makes Rare Visit to North Korea"));
        assert!(!t(
            "World watches with unease as Putin makes rare North Korea visit"
        ));
        assert!(!t("Putin met Kim ."));
        assert!(!t("Vladimir Putin"), "two content words are not enough");
        let types =
            CaseFeature::ShapeTitle.word_types(&["Putin", "Meets", "Kim", "in", "NK"], false);
        assert_eq!(types, vec![5, 5, 5, 4, 6]);
        let types = CaseFeature::ShapeTitle.word_types(&["Putin", "met", "Kim"], false);
        assert_eq!(types, vec![1, 0, 1]);
        // a sentence whose role is title is read as one
        let types = CaseFeature::ShapeTitle.word_types(&["Putin", "met", "Kim"], true);
        assert_eq!(types, vec![5, 4, 5]);
        assert_eq!(CaseFeature::Shape.word_types(&["Putin"], true), vec![1]);
    }
}
