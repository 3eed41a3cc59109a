//! `newsmill bench`'s grid: model sets × precisions × batch budgets on the same articles, the
//! rows taking turns, with dev-file accuracy; its JSON (valid against docs/bench.schema.json),
//! CSV and HTML, and `--from-json`.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{self, assert_success, newsmill, tiny_joint, tiny_joint_and_stance};

fn examples() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/articles.jsonl")
        .display()
        .to_string()
}

/// A small CoNLL file (IOB1 tags in the last column), as `eval ner` reads it.
const CONLL: &str = "-DOCSTART- -X- O O\n\nPutin NNP I-NP I-PER\narrived VBD I-VP O\nin IN I-PP O\nPyongyang NNP I-NP I-LOC\n. . O O\n\nKim NNP I-NP I-PER\nmet VBD I-VP O\nthe DT I-NP O\nUnited NNP I-NP I-ORG\nNations NNP I-NP I-ORG\n. . O O\n";

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("newsmill-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn a_grid_of_model_sets_precisions_and_batch_budgets() {
    let dir = temp_dir("grid");
    let conll = dir.join("dev.conll");
    std::fs::write(&conll, CONLL).unwrap();
    let (json, csv, html) = (dir.join("b.json"), dir.join("b.csv"), dir.join("b.html"));
    let a = tiny_joint().display().to_string();
    let b = tiny_joint_and_stance().display().to_string();
    let eval = format!("ner={}", conll.display());
    let out = newsmill(
        &[
            "bench",
            &examples(),
            "--models",
            &a,
            "--models",
            &b,
            "--precision",
            "fp32,int8",
            "--batch-tokens",
            "64,256",
            "--repeat",
            "2",
            "--limit",
            "3",
            "--warmup",
            "1",
            "--peak-seconds",
            "0.1",
            "--eval",
            &eval,
            "--json",
            json.to_str().unwrap(),
            "--csv",
            csv.to_str().unwrap(),
            "--html",
            html.to_str().unwrap(),
        ],
        None,
    );
    assert_success(&out);
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let schema: Value = serde_json::from_str(include_str!("../../docs/bench.schema.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the schema is valid");
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(report["articles"], 3);
    assert_eq!(report["warmup_articles"], 1);
    assert_eq!(report["repeat"], 2);
    let rows = report["rows"].as_array().unwrap();
    // model sets, then precisions, then batch budgets
    let mut expected = Vec::new();
    for set in [&a, &b] {
        for p in ["fp32", "int8"] {
            for bt in [64, 256] {
                expected.push((set.clone(), p, bt));
            }
        }
    }
    let got: Vec<(String, &str, u64)> = rows
        .iter()
        .map(|r| {
            (
                r["config"].as_str().unwrap().to_string(),
                r["precision"].as_str().unwrap(),
                r["batch_tokens"].as_u64().unwrap(),
            )
        })
        .collect();
    let want: Vec<(String, &str, u64)> = expected
        .iter()
        .map(|(s, p, b)| (s.clone(), *p, *b as u64))
        .collect();
    assert_eq!(got, want);
    for r in rows {
        let aps = &r["articles_per_second"];
        let (min, med, max) = (
            aps["min"].as_f64().unwrap(),
            aps["median"].as_f64().unwrap(),
            aps["max"].as_f64().unwrap(),
        );
        assert!(0.0 < min && min <= med && med <= max, "{aps}");
        let lat = &r["batch_latency_ms"];
        assert!(lat["batches"].as_u64().unwrap() > 0);
        assert!(lat["p50"].as_f64().unwrap() <= lat["p95"].as_f64().unwrap());
        assert!(lat["p95"].as_f64().unwrap() <= lat["p99"].as_f64().unwrap());
        assert!(r["passes"]["joint"]["batches"].as_u64().unwrap() > 0);
        assert!(r["padding_efficiency"].as_f64().unwrap() <= 1.0);
        assert!(r["peak_rss_mib"].as_f64().unwrap() >= r["model_rss_mib"].as_f64().unwrap());
        let acc = r["accuracy"].as_array().unwrap();
        assert_eq!(acc.len(), 1);
        assert_eq!(acc[0]["metric"], "f1");
        assert_eq!(acc[0]["value"], acc[0]["details"]["micro"]["f1"]);
    }
    // the second set has the stance-only checkpoint: a stance pass of its own
    assert!(rows[4]["passes"]["stance"]["batches"].as_u64().unwrap() > 0);
    assert!(rows[0]["passes"].get("stance").is_none());
    // a row's accuracy is what `newsmill eval` reports with the same models and settings
    let conll_arg = conll.display().to_string();
    let eval_out = newsmill(
        &[
            "eval",
            "ner",
            &conll_arg,
            "--models",
            &b,
            "--precision",
            "int8",
            "--batch-tokens",
            "256",
        ],
        None,
    );
    assert_success(&eval_out);
    let scores: Value = serde_json::from_slice(&eval_out.stdout).unwrap();
    assert_eq!(rows[7]["accuracy"][0]["details"]["micro"], scores["micro"]);
    // CSV: a header and one line per row; the HTML page has its charts and no script
    let csv_text = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(csv_text.lines().count(), 1 + rows.len());
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<svg") && !page.contains("<script"));
    // --from-json measures nothing and writes the same files
    let (csv2, html2) = (dir.join("again.csv"), dir.join("again.html"));
    let again = newsmill(
        &[
            "bench",
            "--from-json",
            json.to_str().unwrap(),
            "--csv",
            csv2.to_str().unwrap(),
            "--html",
            html2.to_str().unwrap(),
        ],
        None,
    );
    assert_success(&again);
    assert_eq!(std::fs::read(&csv2).unwrap(), csv_text.as_bytes());
    assert_eq!(std::fs::read_to_string(&html2).unwrap(), page);
    // the terminal table names every row
    let table = String::from_utf8_lossy(&again.stdout);
    assert!(table.contains("int8") && table.contains("256"), "{table}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_named_model_set_and_a_single_task_checkpoint_swapped_into_it() {
    let dir = temp_dir("swap");
    let json = dir.join("b.json");
    let a = tiny_joint().display().to_string();
    let named = format!("tiny={a}");
    let ner = common::tiny_models().join("ner").display().to_string();
    let out = newsmill(
        &[
            "bench",
            &examples(),
            "--models",
            &named,
            "--ner-model",
            &ner,
            "--repeat",
            "1",
            "--limit",
            "2",
            "--warmup",
            "0",
            "--peak-seconds",
            "0.1",
            "--json",
            json.to_str().unwrap(),
        ],
        None,
    );
    assert_success(&out);
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let rows = report["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    // NAME=DIR names a model set
    assert_eq!(rows[0]["config"], "tiny");
    assert_eq!(rows[1]["config"], format!("tiny + ner={ner}"));
    assert!(rows[0]["models"]["ner"]
        .as_str()
        .unwrap()
        .starts_with("joint@"));
    assert!(rows[1]["models"]["ner"]
        .as_str()
        .unwrap()
        .starts_with("ner@"));
    assert!(rows[1]["passes"]["ner"]["batches"].as_u64().unwrap() > 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_bench_flags_fail_before_anything_is_measured() {
    let dir = temp_dir("bad");
    let a = tiny_joint().display().to_string();
    let ex = examples();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["--eval".into(), "pos=x".into()], "unknown task `pos`"),
        (vec!["--eval".into(), "ner".into()], "expected TASK=FILE"),
        (
            vec![
                "--eval".into(),
                format!("ner={}", dir.join("missing").display()),
            ],
            "not a file",
        ),
        (vec!["--json".into(), ex.clone()], "--json"),
        (vec!["--batch-tokens".into(), "0".into()], "at least 1"),
        (vec!["--precision".into(), "fp33".into()], "fp33"),
    ];
    for (extra, says) in cases {
        let mut args: Vec<String> = vec![
            "bench".into(),
            ex.clone(),
            "--models".into(),
            a.clone(),
            "--repeat".into(),
            "1".into(),
        ];
        args.extend(extra.iter().cloned());
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = newsmill(&argv, None);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_ne!(out.status.code(), Some(0), "{extra:?}");
        assert!(err.contains(says), "{extra:?}: {err}");
        assert!(
            !err.contains("timing") && !err.contains("run 1 of"),
            "{err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
    // the corpus was not touched by the refused --json
    assert!(std::fs::read_to_string(&ex).unwrap().starts_with('{'));
    let _ = std::fs::remove_dir_all(&dir);
}
