//! User targets: case-insensitive, whole-word matches of given phrases in a text.

use newsmill_text::Span;

/// Byte spans of every case-insensitive occurrence of `target` in `text` that starts and ends
/// at a word boundary (no letter or digit just outside it). Matching compares characters one to
/// one in lower case, so spans always lie on character boundaries of `text`. Occurrences do
/// not overlap; an empty or blank target matches nothing.
pub fn find_targets(text: &str, target: &str) -> Vec<Span> {
    let pat: Vec<char> = target.trim().chars().map(lower).collect();
    if pat.is_empty() {
        return Vec::new();
    }
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i + pat.len() <= chars.len() {
        let matches = pat
            .iter()
            .enumerate()
            .all(|(k, &p)| lower(chars[i + k].1) == p);
        let left_ok = i == 0 || !chars[i - 1].1.is_alphanumeric();
        let j = i + pat.len();
        let right_ok = j == chars.len() || !chars[j].1.is_alphanumeric();
        if matches && left_ok && right_ok {
            let end = chars.get(j).map_or(text.len(), |c| c.0);
            out.push(Span::new(chars[i].0, end));
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

/// One-to-one lower-casing (the first char of the full lower-case mapping).
fn lower(c: char) -> char {
    c.to_lowercase().next().unwrap_or(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found<'a>(text: &'a str, t: &str) -> Vec<&'a str> {
        find_targets(text, t)
            .iter()
            .map(|s| s.slice(text))
            .collect()
    }

    #[test]
    fn whole_words_any_case() {
        let t =
            "Sanctions bite. New sanctions-busting trade; SANCTIONS again, but not unsanctioned.";
        assert_eq!(
            found(t, "sanctions"),
            vec!["Sanctions", "sanctions", "SANCTIONS"]
        );
        assert_eq!(found(t, " new SANCTIONS "), vec!["New sanctions"]);
        assert!(found(t, "  ").is_empty());
        assert!(found("", "x").is_empty());
    }

    #[test]
    fn non_ascii() {
        let t = "İstanbul and ÉCOLE and école; 北京 visit";
        assert_eq!(found(t, "école"), vec!["ÉCOLE", "école"]);
        assert_eq!(found(t, "北京"), vec!["北京"]);
        for s in find_targets(t, "istanbul") {
            assert!(t.is_char_boundary(s.start) && t.is_char_boundary(s.end));
        }
    }
}
