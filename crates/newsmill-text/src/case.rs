/// Number of case-shape classes produced by [`case_class`].
pub const CASE_CLASSES: usize = 4;

/// The case shape of a word, the feature the default NER model reads as its token type id:
/// 0 no upper-case letter, 1 first letter upper-case ("Putin", "McDonald", "A"), 2 all letters
/// upper-case and at least two of them ("NATO", "U.S."), 3 other mixed case ("iPhone").
///
/// Must match `case_class` in `models/recipe/train.py`.
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
}
