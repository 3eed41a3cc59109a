//! Property tests: target matching and context clipping stay on character boundaries and keep
//! the target.

use newsmill_stance::{clip_around, find_targets};
use newsmill_text::Span;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(3000), ..ProptestConfig::default() })]

    #[test]
    fn targets_on_boundaries(text in "(\\PC|[ ńİß😀北])*", target in "(\\PC|[ ńİß])*") {
        for s in find_targets(&text, &target) {
            prop_assert!(s.start < s.end && s.end <= text.len());
            prop_assert!(text.is_char_boundary(s.start) && text.is_char_boundary(s.end));
        }
    }

    #[test]
    fn clip_keeps_the_target(text in "\\PC{0,300}", a in 0usize..300, len in 0usize..40, max in 1usize..100) {
        let chars: Vec<usize> = text.char_indices().map(|(b, _)| b).chain([text.len()]).collect();
        let n = chars.len() - 1;
        let (sa, sb) = (a.min(n), (a + len).min(n));
        let target = Span::new(chars[sa], chars[sb]);
        let clipped = clip_around(&text, target, max);
        prop_assert!(clipped.chars().count() <= max.max(sb - sa));
        if sb - sa <= max {
            prop_assert!(clipped.contains(target.slice(&text)));
        }
    }
}
