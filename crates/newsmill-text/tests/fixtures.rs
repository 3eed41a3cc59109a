//! The text rules the training recipe shares with newsmill (word splitting, case shapes, the
//! title rule), checked against the fixture the recipe is checked against too
//! (tests/data/text_rules.json; models/recipe/check_text_rules.py): expected output beside
//! input, so the Rust crate and the Python port cannot drift apart.

use newsmill_text::{case_class, split_words, title_styled, Span};
use serde_json::Value;

fn fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/data/text_rules.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("the fixture")).expect("JSON")
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .expect("an array")
        .iter()
        .map(|s| s.as_str().expect("a string"))
        .collect()
}

#[test]
fn word_splitting_matches_the_fixture() {
    let f = fixture();
    for case in f["words"].as_array().unwrap() {
        let text = case["text"].as_str().unwrap();
        let got: Vec<&str> = split_words(text, Span::new(0, text.len()))
            .iter()
            .map(|s| s.slice(text))
            .collect();
        assert_eq!(got, strings(&case["words"]), "{text:?}");
    }
}

#[test]
fn case_shapes_and_the_title_rule_match_the_fixture() {
    let f = fixture();
    for case in f["case_class"].as_array().unwrap() {
        let word = case["word"].as_str().unwrap();
        assert_eq!(
            u64::from(case_class(word)),
            case["class"].as_u64().unwrap(),
            "{word}"
        );
    }
    for case in f["title_styled"].as_array().unwrap() {
        let line = strings(&case["line"]);
        assert_eq!(
            title_styled(&line),
            case["title"].as_bool().unwrap(),
            "{line:?}"
        );
    }
}
