//! Property tests: decoding any probabilities under any label scheme yields one tag per word,
//! valid sequences under constrained decoding, and chunks inside the word range.

use newsmill_ner::{chunks, decode_words, Decoding, Prefix, TagSet};
use proptest::prelude::*;

fn tag_set() -> impl Strategy<Value = TagSet> {
    let schemes = prop_oneof![
        Just(vec!["B", "I"]),
        Just(vec!["I"]),
        Just(vec!["B", "I", "E", "S"])
    ];
    (schemes, 1usize..4).prop_map(|(prefixes, types)| {
        let mut labels = vec!["O".to_string()];
        for t in ["PER", "ORG", "LOC"].iter().take(types) {
            for p in &prefixes {
                labels.push(format!("{p}-{t}"));
            }
        }
        TagSet::new(&labels, "prop").unwrap()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(3000), ..ProptestConfig::default() })]

    #[test]
    fn decoding(set in tag_set(), raw in prop::collection::vec(prop::collection::vec(0.0f32..1.0, 13), 0..30),
                missing in prop::collection::vec(any::<bool>(), 30)) {
        let n = set.tags.len();
        let probs: Vec<Vec<f32>> = raw.iter().map(|r| r[..n].to_vec()).collect();
        let refs: Vec<Option<&[f32]>> = probs.iter().zip(&missing).map(|(p, &m)| (!m).then_some(p.as_slice())).collect();
        for how in [Decoding::Greedy, Decoding::Constrained] {
            let ids = decode_words(&set, &refs, how);
            prop_assert_eq!(ids.len(), refs.len());
            prop_assert!(ids.iter().all(|&i| i < n));
            let tags: Vec<_> = ids.iter().map(|&i| set.tags[i].clone()).collect();
            for (a, b, _) in chunks(&tags) {
                prop_assert!(a < b && b <= tags.len());
            }
            if how == Decoding::Constrained && set.scheme != newsmill_ner::Scheme::Io {
                for (i, t) in tags.iter().enumerate() {
                    if t.prefix == Prefix::I || t.prefix == Prefix::E {
                        let p = i.checked_sub(1).map(|j| &tags[j]);
                        prop_assert!(p.is_some_and(|p| matches!(p.prefix, Prefix::B | Prefix::I) && p.typ == t.typ),
                            "{:?} after {:?}", t, p);
                    }
                }
            }
        }
    }
}
