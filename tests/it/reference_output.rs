//! The default models on `examples/articles.jsonl` (fp32, CPU): entities, and every
//! probability the output holds, against the reference in `tests/data/examples.reference.json`
//! made by the libtorch 2.4 build. scripts/test.sh runs this under both build flavours, so the
//! libtorch 2.11 build (the GPU flavour) is held to the 2.4 build's numbers within 1e-5.
//! `NEWSMILL_BLESS=1 cargo test --release --test reference_output` rewrites the reference (only
//! from the 2.4 build, after a deliberate change of the model or of the arithmetic).

use crate::common;

use common::assert_success;
use serde_json::Value;
use std::path::PathBuf;

const TOLERANCE: f64 = 1e-5;

fn reference_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/examples.reference.json")
}

/// What is compared: per record, the entities (text, label, character span) and the flat list
/// of (JSON path, probability) of every `probs` map.
fn digest(records: &[Value]) -> Value {
    fn probs(v: &Value, path: String, out: &mut Vec<Value>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    if k == "probs" {
                        for (label, p) in x.as_object().expect("probs is a map") {
                            out.push(serde_json::json!([format!("{path}.{label}"), p]));
                        }
                    } else {
                        probs(x, format!("{path}.{k}"), out);
                    }
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    probs(x, format!("{path}[{i}]"), out);
                }
            }
            _ => {}
        }
    }
    Value::Array(
        records
            .iter()
            .map(|r| {
                let entities: Vec<Value> = r["entities"]
                    .as_array()
                    .expect("entities")
                    .iter()
                    .map(|e| serde_json::json!([e["text"], e["label"], e["start"], e["end"]]))
                    .collect();
                let mut p = Vec::new();
                probs(r, String::new(), &mut p);
                serde_json::json!({"id": r["id"], "entities": entities, "probs": p})
            })
            .collect(),
    )
}

/// The [`digest`] of the default models' output on `examples/articles.jsonl`, on the CPU, with
/// `extra` flags.
fn annotated_digest(extra: &[&str]) -> Value {
    let models = std::env::var("NEWSMILL_MODELS").expect(
        "NEWSMILL_MODELS is not set: run `eval \"$(scripts/setup.sh)\"` first (scripts/test.sh does)",
    );
    let input = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/articles.jsonl");
    let mut args = vec![
        "annotate",
        input.to_str().unwrap(),
        "--models",
        &models,
        "--device",
        "cpu",
        "-q",
    ];
    args.extend(extra);
    let out = common::newsmill(&args, None);
    assert_success(&out);
    let records: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    digest(&records)
}

#[test]
fn default_model_output_matches_the_libtorch_2_4_reference() {
    let got = annotated_digest(&[
        "--workers",
        "1",
        "--target",
        "bridge",
        "--precision",
        "fp32",
    ]);
    if std::env::var_os("NEWSMILL_BLESS").is_some() {
        std::fs::write(
            reference_path(),
            serde_json::to_string_pretty(&got).unwrap(),
        )
        .unwrap();
        return;
    }
    let want: Value =
        serde_json::from_str(&std::fs::read_to_string(reference_path()).expect("reference file"))
            .unwrap();
    let (got, want) = (got.as_array().unwrap(), want.as_array().unwrap());
    assert_eq!(got.len(), want.len(), "records");
    let mut compared = 0;
    let mut worst = 0.0f64;
    for (g, w) in got.iter().zip(want) {
        assert_eq!(g["id"], w["id"]);
        assert_eq!(g["entities"], w["entities"], "entities of {}", w["id"]);
        let (gp, wp) = (
            g["probs"].as_array().unwrap(),
            w["probs"].as_array().unwrap(),
        );
        assert_eq!(gp.len(), wp.len(), "probabilities of {}", w["id"]);
        for (a, b) in gp.iter().zip(wp) {
            assert_eq!(a[0], b[0], "same place in the output");
            let d = (a[1].as_f64().unwrap() - b[1].as_f64().unwrap()).abs();
            assert!(
                d <= TOLERANCE,
                "{} {}: {} vs reference {} (|d| = {d:e})",
                w["id"],
                b[0],
                a[1],
                b[1]
            );
            worst = worst.max(d);
            compared += 1;
        }
    }
    assert!(compared > 100, "only {compared} probabilities compared");
    eprintln!("{compared} probabilities within {worst:e} of the reference");
}

#[test]
fn fp16_and_bf16_stay_close_to_fp32() {
    // the GPU precisions, run on the CPU: the same entities, probabilities within 0.05
    let run = |precision: &str| annotated_digest(&["--precision", precision]);
    let want = run("fp32");
    for precision in ["bf16", "fp16"] {
        let got = run(precision);
        for (g, w) in got.as_array().unwrap().iter().zip(want.as_array().unwrap()) {
            assert_eq!(g["entities"], w["entities"], "{precision}: {}", w["id"]);
            for (a, b) in g["probs"]
                .as_array()
                .unwrap()
                .iter()
                .zip(w["probs"].as_array().unwrap())
            {
                let d = (a[1].as_f64().unwrap() - b[1].as_f64().unwrap()).abs();
                assert!(
                    d < 0.05,
                    "{precision} {} {}: {} vs fp32 {}",
                    w["id"],
                    b[0],
                    a[1],
                    b[1]
                );
            }
        }
    }
}
