//! End-to-end runs of `newsmill annotate` on tiny random-weight models: the plumbing, not the
//! quality (that is tests/default_models.rs).

use crate::common;

use common::{check_record, newsmill, shared_data, tiny_models};
use serde_json::Value;

fn records(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8(stdout.to_vec())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("each output line is JSON"))
        .collect()
}

fn corpus() -> String {
    let long = "putin said the visit was good and kim said moscow was bad ".repeat(12);
    let articles = [
        serde_json::json!({"id": "plain", "title": "T", "text": "Putin met Kim Jong Un in Pyongyang. The visit was good.\nConnect with us"}),
        serde_json::json!({"id": "unicode", "text": "Émile met 習近平 in Beijing 😀. مرحبا بالعالم. Cafe\u{301} Zoë visited Moscow!"}),
        serde_json::json!({"id": "empty", "text": ""}),
        serde_json::json!({"id": "blank", "text": " \n\t "}),
        serde_json::json!({"id": "control", "text": "Putin\u{0} met\u{7} Kim.\u{1b}"}),
        serde_json::json!({"id": "long", "text": long}),
        serde_json::json!({"id": 42, "text": "Numeric ids become strings."}),
    ];
    let mut lines: Vec<String> = articles.iter().map(|a| a.to_string()).collect();
    lines.insert(3, "{not json".to_string());
    lines.insert(5, r#"{"id": "notext"}"#.to_string());
    lines.join("\n") + "\n"
}

#[test]
fn jsonl_corpus_one_line_per_record_in_order() {
    let models = tiny_models().to_str().unwrap();
    let out = newsmill(
        &["annotate", "-", "--models", models, "-q"],
        Some(corpus().as_bytes()),
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "partial failure exits 2: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let recs = records(&out.stdout);
    let ids: Vec<String> = recs
        .iter()
        .map(|r| match &r["id"] {
            Value::String(s) => s.clone(),
            _ => "null".into(),
        })
        .collect();
    assert_eq!(
        ids,
        ["plain", "unicode", "empty", "null", "blank", "notext", "control", "long", "42"]
    );
    assert_eq!(recs[3]["error"]["kind"], "invalid_json");
    assert_eq!(recs[3]["record"], "line 4");
    assert_eq!(recs[5]["error"]["kind"], "missing_field");
    for r in recs.iter().filter(|r| r.get("error").is_none()) {
        assert_eq!(r["schema_version"], "2.0");
        check_record(r);
        for s in r["sentences"].as_array().unwrap() {
            assert!(s["sentiment"]["probs"].as_object().unwrap().len() == 2);
        }
        for e in r["entities"].as_array().unwrap() {
            assert!(e["stance"]["label"].is_string());
        }
    }
    assert!(recs[2]["warnings"][0]
        .as_str()
        .unwrap()
        .contains("empty text"));
    assert_eq!(recs[0]["title"], "T");
    // the boilerplate line is a sentence of its own
    let t = recs[0]["text"].as_str().unwrap();
    let last = recs[0]["sentences"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        common::char_slice(
            t,
            last["start"].as_u64().unwrap() as usize,
            last["end"].as_u64().unwrap() as usize
        ),
        "Connect with us"
    );
}

#[test]
fn output_validates_against_the_schema() {
    let schema: Value =
        serde_json::from_str(include_str!("../../docs/output.schema.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the schema is valid");
    let models = tiny_models().to_str().unwrap();
    let out = newsmill(
        &[
            "annotate", "-", "--models", models, "-q", "--target", "visit",
        ],
        Some(corpus().as_bytes()),
    );
    let recs = records(&out.stdout);
    assert_eq!(recs.len(), 9);
    for r in &recs {
        let errors: Vec<String> = validator
            .iter_errors(r)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:?}", r["id"]);
    }
    // the schema is strict: an unknown field fails
    let mut bad = recs[0].clone();
    bad["surprise"] = 1.into();
    assert!(!validator.is_valid(&bad));
}

#[test]
fn user_targets_are_scored_and_grouped() {
    let models = tiny_models().to_str().unwrap();
    let input = serde_json::json!({"id": "t", "text": "The visit began. Critics said the VISIT failed, and the visitor left. Visit over."}).to_string() + "\n";
    let out = newsmill(
        &[
            "annotate",
            "-",
            "--models",
            models,
            "-q",
            "--tasks",
            "sentiment",
            "--target",
            "visit",
        ],
        Some(input.as_bytes()),
    );
    let r = &records(&out.stdout)[0];
    let t = r["text"].as_str().unwrap();
    let targets = r["targets"].as_array().unwrap();
    let found: Vec<String> = targets
        .iter()
        .map(|m| {
            common::char_slice(
                t,
                m["start"].as_u64().unwrap() as usize,
                m["end"].as_u64().unwrap() as usize,
            )
        })
        .collect();
    assert_eq!(
        found,
        ["visit", "VISIT", "Visit"],
        "whole words only, any case"
    );
    assert!(targets
        .iter()
        .all(|m| m["stance"]["probs"].as_object().unwrap().len() == 3));
    let actor = &r["actors"][targets[0]["actor"].as_u64().unwrap() as usize];
    assert_eq!(
        (
            actor["name"].as_str(),
            actor["kind"].as_str(),
            actor["mentions"].as_u64()
        ),
        (Some("visit"), Some("target"), Some(3))
    );
    assert_eq!(r["summary"]["targets"], 3);
    assert!(r["summary"]["tone"]["mean"].is_object());
}

#[test]
fn same_output_whatever_the_worker_count() {
    let models = tiny_models().to_str().unwrap();
    let one = newsmill(
        &[
            "annotate",
            "-",
            "--models",
            models,
            "-q",
            "--workers",
            "1",
            "--job-articles",
            "3",
        ],
        Some(corpus().as_bytes()),
    );
    let two = newsmill(
        &[
            "annotate",
            "-",
            "--models",
            models,
            "-q",
            "--workers",
            "2",
            "--job-articles",
            "3",
        ],
        Some(corpus().as_bytes()),
    );
    assert!(!one.stdout.is_empty());
    assert_eq!(
        String::from_utf8(one.stdout).unwrap(),
        String::from_utf8(two.stdout).unwrap()
    );
}

#[test]
fn tasks_subset_and_no_text() {
    let models = tiny_models().to_str().unwrap();
    let out = newsmill(
        &[
            "annotate",
            "-",
            "--models",
            models,
            "-q",
            "--tasks",
            "sentiment",
            "--no-text",
        ],
        Some(corpus().as_bytes()),
    );
    let recs = records(&out.stdout);
    let plain = &recs[0];
    assert!(plain.get("text").is_none());
    assert!(plain["entities"].as_array().unwrap().is_empty());
    assert!(plain["sentences"][0]["sentiment"].is_object());
    let out = newsmill(
        &["annotate", "-", "--models", models, "-q", "--tasks", "ner"],
        Some(corpus().as_bytes()),
    );
    let recs = records(&out.stdout);
    assert!(recs[0]["sentences"][0].get("sentiment").is_none());
    assert!(recs[0]["entities"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e.get("stance").is_none()));
}

#[test]
fn bbc_raw_folder_every_file_answered() {
    let dir = shared_data().join("bbc/raw");
    assert!(dir.is_dir(), "{} is needed (../shared/data)", dir.display());
    let models = tiny_models().to_str().unwrap();
    let out = newsmill(
        &[
            "annotate",
            dir.to_str().unwrap(),
            "--models",
            models,
            "-q",
            "--tasks",
            "ner",
        ],
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let recs = records(&out.stdout);
    // 2,225 articles and the corpus's README.TXT (the extension matches in any case)
    assert_eq!(recs.len(), 2226);
    assert!(recs.iter().any(|r| r["id"] == "README"));
    let bad = recs
        .iter()
        .find(|r| r["id"] == "sport/199")
        .expect("sport/199 is in the output");
    assert!(bad["warnings"][0]
        .as_str()
        .unwrap()
        .contains("not valid UTF-8"));
    assert!(bad["text"].as_str().unwrap().contains('\u{fffd}'));
    for r in &recs {
        check_record(r);
    }
    // sorted by path
    let ids: Vec<&str> = recs.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted);
}

#[test]
fn broken_model_folders_fail_before_any_output() {
    let good = tiny_models();
    let tmp = tempfile::tempdir().unwrap();
    let copy = |name: &str| {
        let d = tmp.path().join(name);
        for task in ["ner", "sentiment", "stance"] {
            std::fs::create_dir_all(d.join(task)).unwrap();
            for f in ["config.json", "tokenizer.json", "model.safetensors"] {
                std::fs::copy(good.join(task).join(f), d.join(task).join(f)).unwrap();
            }
        }
        d
    };
    let edit_config = |d: &std::path::Path, f: &dyn Fn(&mut Value)| {
        let p = d.join("ner/config.json");
        let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        f(&mut v);
        std::fs::write(&p, v.to_string()).unwrap();
    };
    let cases: Vec<(std::path::PathBuf, &str)> = vec![
        (
            {
                let d = copy("missing");
                std::fs::remove_file(d.join("ner/tokenizer.json")).unwrap();
                d
            },
            "tokenizer.json: missing",
        ),
        (
            {
                let d = copy("type");
                edit_config(&d, &|v| v["model_type"] = "gpt2".into());
                d
            },
            "model_type `gpt2`",
        ),
        (
            {
                let d = copy("labels");
                edit_config(&d, &|v| {
                    v.as_object_mut().unwrap().remove("id2label");
                });
                d
            },
            "field `id2label`",
        ),
        (
            {
                let d = copy("shape");
                edit_config(&d, &|v| v["intermediate_size"] = 48.into());
                d
            },
            "has shape",
        ),
        (
            {
                let d = copy("head");
                edit_config(&d, &|v| {
                    v["id2label"] = serde_json::json!({"0": "O", "1": "B-PER", "2": "I-PER"})
                });
                d
            },
            "classifier",
        ),
        (
            {
                let d = copy("corrupt");
                std::fs::write(
                    d.join("ner/model.safetensors"),
                    b"\x10\x00\x00\x00\x00\x00\x00\x00{\"a\":",
                )
                .unwrap();
                d
            },
            "corrupt safetensors",
        ),
        (
            {
                let d = copy("badlabel");
                edit_config(&d, &|v| v["id2label"]["1"] = "PERSON".into());
                d
            },
            "label `PERSON`",
        ),
    ];
    for (dir, want) in cases {
        let out = newsmill(
            &["annotate", "-", "--models", dir.to_str().unwrap()],
            Some(corpus().as_bytes()),
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{}: {err}", dir.display());
        assert!(out.stdout.is_empty(), "no article is processed");
        assert!(
            err.contains(want),
            "{}: expected `{want}` in: {err}",
            dir.display()
        );
        assert!(!err.contains("panicked"), "{err}");
    }
}
