//! The shipped default models (models/, assembled by scripts/setup.sh into $NEWSMILL_MODELS) on
//! unambiguous cases written for this project, and on the real example article.

use crate::common;

use common::{check_record, newsmill, shared_data};
use serde_json::{json, Value};

fn models() -> String {
    std::env::var("NEWSMILL_MODELS")
        .expect("NEWSMILL_MODELS is not set: run `eval \"$(scripts/setup.sh)\"` first (scripts/test.sh does)")
}

fn annotate(args: &[&str], input: &str) -> Vec<Value> {
    let models = models();
    let mut all = vec!["annotate", "-", "-q", "--models", &models];
    all.extend_from_slice(args);
    let out = newsmill(&all, Some(input.as_bytes()));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn jsonl(texts: &[&str]) -> String {
    texts
        .iter()
        .enumerate()
        .map(|(i, t)| json!({"id": i.to_string(), "text": t}).to_string() + "\n")
        .collect()
}

fn entities(r: &Value) -> Vec<(String, String)> {
    r["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["text"].as_str().unwrap().to_string(),
                e["label"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn ner_finds_people_places_organisations() {
    let recs = annotate(
        &["--tasks", "ner"],
        &jsonl(&[
            "Vladimir Putin arrived in Paris on Monday.",
            "Angela Merkel met the chief executive of Siemens in Berlin.",
            "The United Nations said aid would reach Kenya next week.",
        ]),
    );
    let has = |i: usize, text: &str, label: &str| {
        let e = entities(&recs[i]);
        assert!(
            e.contains(&(text.to_string(), label.to_string())),
            "{text}/{label} not in {e:?}"
        );
    };
    has(0, "Vladimir Putin", "PER");
    has(0, "Paris", "LOC");
    has(1, "Angela Merkel", "PER");
    has(1, "Siemens", "ORG");
    has(1, "Berlin", "LOC");
    has(2, "United Nations", "ORG");
    has(2, "Kenya", "LOC");
    for r in &recs {
        check_record(r);
    }
}

/// The sentiment label of the first sentence of each text, annotated with `args`.
fn first_labels(args: &[&str], texts: &[&str]) -> (Vec<String>, Vec<Value>) {
    let recs = annotate(args, &jsonl(texts));
    let labels = recs
        .iter()
        .map(|r| {
            r["sentences"][0]["sentiment"]["label"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    (labels, recs)
}

#[test]
fn sentence_sentiment_clear_cases() {
    let (labels, _) = first_labels(
        &["--tasks", "sentiment"],
        &[
            "This is a wonderful, heartwarming film and I loved every minute of it.",
            "The service was terrible and the food was awful.",
            "A brilliant, moving and beautifully acted story.",
            "A boring, clumsy mess that wastes its talented cast.",
        ],
    );
    assert_eq!(labels, ["positive", "negative", "positive", "negative"]);
}

/// The default sentence head is three-class news tone: plain reports are neutral.
#[test]
fn news_tone_clear_cases() {
    let (labels, recs) = first_labels(
        &["--tasks", "sentiment"],
        &[
            "The committee will meet on Thursday to discuss the budget.",
            "The museum is open from 9am to 5pm every day except Monday.",
            "Shares in the airline plunged after it warned of heavy losses.",
            "The company said profits rose sharply, beating expectations for a third straight quarter.",
        ],
    );
    assert_eq!(labels, ["neutral", "neutral", "negative", "positive"]);
    assert!(recs[0]["models"]["sentiment"]
        .as_str()
        .unwrap()
        .ends_with(&format!("#tone:{}", common::auto_precision())));
    // the SST-2 head stays available
    let recs = annotate(
        &["--tasks", "sentiment", "--sentence-head", "polarity"],
        &jsonl(&["A boring, clumsy mess that wastes its talented cast."]),
    );
    let s = &recs[0]["sentences"][0]["sentiment"];
    assert_eq!(s["label"], "negative");
    assert_eq!(s["probs"].as_object().unwrap().len(), 2);
}

/// Page roles on the scraped example page: the furniture is boilerplate, the headline is the
/// title and reads as one (no ORG made of its capitalised common words), the story is body, and
/// the tone counts the story only.
#[test]
fn example_article_page_roles() {
    let path = shared_data().join("examples/putin-north-korea-visit.txt");
    let text = std::fs::read_to_string(&path).expect("the example article in ../shared/data");
    let input = json!({"id": "putin", "text": text}).to_string() + "\n";
    let r = &annotate(&[], &input)[0];
    check_record(r);
    let sents = r["sentences"].as_array().unwrap();
    let slice = |s: &Value| {
        common::char_slice(
            &text,
            s["start"].as_u64().unwrap() as usize,
            s["end"].as_u64().unwrap() as usize,
        )
    };
    let roles: Vec<&str> = sents.iter().map(|s| s["role"].as_str().unwrap()).collect();
    // the page, by position (its lines are not quoted here: the page is research-only data):
    // one furniture line, the headline, the story, five furniture lines
    let n = roles.len();
    assert_eq!(n, 18, "the page has 18 sentences");
    let want: Vec<&str> = (0..n)
        .map(|i| match i {
            0 => "boilerplate",
            1 => "title",
            i if i >= n - 5 => "boilerplate",
            _ => "body",
        })
        .collect();
    for (i, (got, want)) in roles.iter().zip(&want).enumerate() {
        assert_eq!(got, want, "sentence {i}: {}", slice(&sents[i]));
    }
    let in_title: Vec<&Value> = r["entities"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["sentence"] == 1)
        .collect();
    assert!(
        in_title.iter().all(|e| e["label"] != "ORG"),
        "an ORG in the title: {in_title:?}"
    );
    assert!(in_title
        .iter()
        .any(|e| e["text"] == "Putin" && e["label"] == "PER"));
    let summary = &r["summary"];
    assert_eq!(summary["boilerplate"], 6);
    let counted: u64 = summary["tone"]["counts"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(
        counted as usize,
        sents.len() - 6,
        "the tone leaves the furniture out"
    );
    // --keep-boilerplate counts every sentence
    let kept = &annotate(&["--keep-boilerplate", "--tasks", "sentiment"], &input)[0];
    let all: u64 = kept["summary"]["tone"]["counts"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(all as usize, sents.len());
}

#[test]
fn entity_stance_clear_cases() {
    let recs = annotate(
        &["--tasks", "stance"],
        &jsonl(&[
            "Critics condemned Mugabe for the brutal crackdown that killed dozens of protesters.",
            "Fans and experts praised Messi for his brilliant, match-winning performance.",
        ]),
    );
    let stance_of = |r: &Value, who: &str| -> String {
        r["entities"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["text"] == who)
            .unwrap_or_else(|| panic!("{who} not found in {r}"))["stance"]["label"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(stance_of(&recs[0], "Mugabe"), "negative");
    assert_eq!(stance_of(&recs[1], "Messi"), "positive");
}

#[test]
fn example_article_entities_and_offsets() {
    let path = shared_data().join("examples/putin-north-korea-visit.txt");
    let text = std::fs::read_to_string(&path).expect("the example article in ../shared/data");
    let recs = annotate(
        &[],
        &(json!({"id": "putin", "text": text}).to_string() + "\n"),
    );
    let r = &recs[0];
    check_record(r);
    let found = entities(r);
    for (want, label) in [
        ("Vladimir Putin", "PER"),
        ("Kim Jong Un", "PER"),
        ("Yuri Ushakov", "PER"),
        ("Pyongyang", "LOC"),
        ("Russia", "LOC"),
        ("Ukraine", "LOC"),
    ] {
        assert!(
            found.contains(&(want.to_string(), label.to_string())),
            "{want}/{label} not in {found:?}"
        );
    }
    assert!(
        found.iter().any(|(t, _)| t == "North Korea"),
        "North Korea not in {found:?}"
    );
    // boilerplate lines are sentences of their own
    let sents: Vec<String> = r["sentences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            common::char_slice(
                &text,
                s["start"].as_u64().unwrap() as usize,
                s["end"].as_u64().unwrap() as usize,
            )
        })
        .collect();
    assert!(sents.contains(&"Connect with us".to_string()));
    assert!(sents.contains(&"Leave a Reply".to_string()));
    assert!(r["sentences"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["sentiment"].is_object()));
    assert!(r["entities"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["stance"].is_object()));
    // actors: Putin's mentions ("Vladimir Putin", "Putin", "Putin’s") merge into one actor
    let actors = r["actors"].as_array().unwrap();
    let actor = |name: &str| {
        actors
            .iter()
            .find(|a| a["name"] == name)
            .unwrap_or_else(|| panic!("no actor {name}"))
    };
    assert!(actor("Vladimir Putin")["mentions"].as_u64().unwrap() >= 5);
    assert_eq!(actor("Vladimir Putin")["label"], "PER");
    assert_eq!(
        actors
            .iter()
            .filter(|a| a["name"].as_str().unwrap().contains("Putin"))
            .count(),
        1
    );
    for name in [
        "Kim Jong Un",
        "Yuri Ushakov",
        "North Korea",
        "Russia",
        "Pyongyang",
        "Ukraine",
    ] {
        assert!(
            actor(name)["stance"]["label"].is_string(),
            "{name} has a stance"
        );
    }
    assert!(actors.iter().all(|a| a["stance"].is_object()));
    assert_eq!(r["summary"]["salient"][0]["name"], "Vladimir Putin");
    assert!(r["summary"]["tone"]["label"].is_string());
}
