//! Joint checkpoints (one encoder, several heads): the one-phase output and the checks made
//! when one is loaded. Tiny random-weight checkpoints (tests/common), so these run without the
//! trained default model.

use crate::common;

use std::path::Path;

use common::{assert_success, check_record, newsmill, tiny_joint, tiny_models};
use serde_json::Value;

fn examples() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/articles.jsonl")
        .display()
        .to_string()
}

/// An edit of a checkpoint's config.json (or of its `newsmill` section).
type Edit = fn(&mut Value);

fn records(out: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

/// The examples annotated with `models` and `--target bridge` by one worker, checked to equal
/// what two workers write.
fn annotate_examples_twice(models: &str) -> Vec<u8> {
    let run = |workers: &str| {
        let args = [
            "annotate",
            &examples(),
            "--models",
            models,
            "--workers",
            workers,
        ];
        let out = newsmill(&[&args[..], &["-q", "--target", "bridge"]].concat(), None);
        assert_success(&out);
        out.stdout
    };
    let one = run("1");
    assert_eq!(one, run("2"), "output does not depend on the workers");
    one
}

/// `newsmill bench` on the examples with `models` and `extra` flags: its one row.
fn bench_examples(models: &str, extra: &[&str]) -> Value {
    let json = std::env::temp_dir().join(format!(
        "newsmill-joint-bench-{}-{}.json",
        std::process::id(),
        extra.join("_").replace(['-', ','], "")
    ));
    let args = [
        "bench",
        &examples(),
        "--models",
        models,
        "--warmup",
        "0",
        "--peak-seconds",
        "0.1",
        "--repeat",
        "1",
        "--json",
        json.to_str().unwrap(),
    ];
    let out = newsmill(&[&args[..], extra].concat(), None);
    assert_success(&out);
    let b: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let _ = std::fs::remove_file(&json);
    assert_eq!(b["rows"].as_array().unwrap().len(), 1);
    b["rows"][0].clone()
}

#[test]
fn one_phase_output_on_the_examples() {
    let models = tiny_joint().display().to_string();
    let one = annotate_examples_twice(&models);
    let recs = records(&one);
    let inputs = std::fs::read_to_string(examples()).unwrap().lines().count();
    assert_eq!(recs.len(), inputs);
    let mut entities = 0;
    for r in &recs {
        check_record(r);
        let m = &r["models"];
        // the default precision, `auto`, named in every identity
        let precision = common::auto_precision();
        let id = m["ner"].as_str().expect("models.ner");
        // one checkpoint answers the three tasks, each from its head
        let hash = id
            .strip_prefix("joint@")
            .and_then(|h| h.strip_suffix(&format!("#ner:{precision}")))
            .unwrap_or_else(|| panic!("{id}"));
        assert_eq!(hash.len(), 16, "{id}");
        assert_eq!(m["sentiment"], format!("joint@{hash}#tone:{precision}"));
        assert_eq!(m["stance"], format!("joint@{hash}#stance:{precision}"));
        for s in r["sentences"].as_array().unwrap() {
            assert!(s["sentiment"]["probs"]["positive"].is_number());
        }
        for e in r["entities"].as_array().unwrap() {
            entities += 1;
            let p = &e["stance"]["probs"];
            let sum: f64 = ["negative", "neutral", "positive"]
                .iter()
                .map(|k| p[k].as_f64().expect("stance probability"))
                .sum();
            assert!((sum - 1.0).abs() < 1e-4);
        }
        for t in r["targets"].as_array().unwrap() {
            assert!(
                t["stance"]["label"].is_string(),
                "user targets are scored too"
            );
        }
    }
    assert!(entities > 0, "the random tiny model tags something");
}

#[test]
fn one_encoder_pass_per_sentence() {
    // bench counts the batches of every phase: with a joint checkpoint only the joint phase runs
    let models = tiny_joint().display().to_string();
    let b = bench_examples(&models, &["--limit", "4"]);
    for phase in ["ner", "sentiment", "stance"] {
        assert!(
            b["passes"].get(phase).is_none(),
            "{phase} ran a pass of its own"
        );
    }
    assert!(b["passes"]["joint"]["batches"].as_u64().unwrap() > 0);
    // every sentence once (a sentence longer than the tiny model's 64 positions is windowed)
    let annotated = newsmill(&["annotate", &examples(), "--models", &models, "-q"], None);
    let sentences: usize = records(&annotated.stdout)
        .iter()
        .map(|r| r["sentences"].as_array().unwrap().len())
        .sum();
    let sequences = b["passes"]["joint"]["sequences"].as_u64().unwrap() as usize;
    assert!(
        sequences >= sentences && sequences < 2 * sentences,
        "{sequences} sequences for {sentences} sentences"
    );
}

#[test]
fn a_stance_only_checkpoint_beside_the_joint_answers_stance() {
    // the default layout: `joint/` answers NER and tone in one pass; `stance/`, a joint-format
    // checkpoint with only a span head, reads again only the sentences that have an entity or a
    // target, and scores every mention from that one pass
    let models = common::tiny_joint_and_stance().display().to_string();
    let one = annotate_examples_twice(&models);
    for r in &records(&one) {
        check_record(r);
        let m = &r["models"];
        assert!(m["ner"].as_str().unwrap().starts_with("joint@"), "{m}");
        assert!(
            m["sentiment"].as_str().unwrap().starts_with("joint@"),
            "{m}"
        );
        let stance = m["stance"].as_str().unwrap();
        assert!(
            stance.starts_with("stance@")
                && stance.ends_with(&format!("#stance:{}", common::auto_precision())),
            "{stance}"
        );
        for e in r["entities"].as_array().unwrap() {
            assert!(e["stance"]["label"].is_string(), "every entity is scored");
        }
        for t in r["targets"].as_array().unwrap() {
            assert!(t["stance"]["label"].is_string(), "user targets are scored");
        }
    }
    // with user targets only (entity stance off), the stance phase encodes exactly the
    // sentences that hold a target match: none other is read twice
    let targets_only = ["--tasks", "ner,sentiment", "--target", "bridge"];
    let out = newsmill(
        &[
            &["annotate", &examples(), "--models", &models, "-q"][..],
            &targets_only[..],
        ]
        .concat(),
        None,
    );
    assert_success(&out);
    let mut with_target = 0;
    let mut sentences = 0;
    for r in records(&out.stdout) {
        let mut marked: Vec<u64> = r["targets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["sentence"].as_u64().unwrap())
            .collect();
        marked.sort_unstable();
        marked.dedup();
        with_target += marked.len();
        sentences += r["sentences"].as_array().unwrap().len();
    }
    assert!(
        with_target > 0 && with_target < sentences,
        "{with_target} of {sentences}"
    );
    let b = bench_examples(&models, &targets_only);
    // (a sentence longer than the tiny model's 64 positions is more than one window)
    let stance = b["passes"]["stance"]["sequences"].as_u64().unwrap() as usize;
    assert!(
        with_target <= stance && stance < sentences,
        "{stance} stance sequences for {with_target} sentences with a target, of {sentences}"
    );
    assert!(b["passes"]["joint"]["sequences"].as_u64().unwrap() as usize >= sentences);
}

/// A stance head on its own upper layers (`encoder`: a branch from layer 1 of a two-layer
/// tiny checkpoint). With a copy of the shared layer 1 it answers exactly as the plain
/// checkpoint; with another model's layer 1, its stance changes and nothing else does, targets
/// included, in fp32 and int8.
#[test]
fn a_stance_branch_reads_its_own_upper_layers() {
    let dir = common::tiny_joint_branched();
    let run = |name: &str, precision: &str| -> Vec<Value> {
        let models = dir.join(name).display().to_string();
        let args = ["annotate", &examples(), "--models", &models, "-q"];
        let flags = ["--target", "bridge", "--precision", precision];
        let out = newsmill(&[&args[..], &flags[..]].concat(), None);
        assert_success(&out);
        records(&out.stdout)
    };
    let stance_of = |records: &[Value]| -> Vec<f64> {
        records
            .iter()
            .flat_map(|r| {
                let e = r["entities"].as_array().unwrap().clone();
                let t = r["targets"].as_array().unwrap().clone();
                e.into_iter().chain(t)
            })
            .flat_map(|x| {
                ["negative", "neutral", "positive"]
                    .map(|k| x["stance"]["probs"][k].as_f64().unwrap())
            })
            .collect()
    };
    let rest_of = |records: &[Value]| -> Vec<Value> {
        records
            .iter()
            .map(|r| {
                let mut r = r.clone();
                for list in ["entities", "targets"] {
                    for x in r[list].as_array_mut().unwrap() {
                        x.as_object_mut().unwrap().remove("stance");
                    }
                }
                for k in ["models", "actors", "summary"] {
                    r.as_object_mut().unwrap().remove(k);
                }
                r
            })
            .collect()
    };
    for precision in ["fp32", "int8"] {
        let (plain, same, own) = (
            run("plain", precision),
            run("same", precision),
            run("own", precision),
        );
        let (p, s, o) = (stance_of(&plain), stance_of(&same), stance_of(&own));
        assert!(!p.is_empty() && p.len() == s.len() && p.len() == o.len());
        for (a, b) in p.iter().zip(&s) {
            assert!((a - b).abs() < 1e-5, "{precision}: {p:?} {s:?}");
        }
        assert!(
            p.iter().zip(&o).any(|(a, b)| (a - b).abs() > 1e-3),
            "{precision}: the branch's own layer is not read"
        );
        assert_eq!(rest_of(&plain), rest_of(&own), "{precision}");
        for r in &own {
            check_record(r);
        }
    }
}

/// A branch whose layers are missing from model.safetensors, or that starts at no upper layer,
/// stops the run naming the file and the tensor or field.
#[test]
fn stance_branch_errors_name_file_and_field() {
    let dir = common::tiny_joint_branched();
    let cases: [(&str, Edit, &[&str]); 2] = [
        (
            "missing",
            |c| c["newsmill"]["heads"]["stance"]["encoder"]["prefix"] = "nowhere".into(),
            &["model.safetensors", "nowhere.layer.1."],
        ),
        (
            "layer",
            |c| c["newsmill"]["heads"]["stance"]["encoder"]["from_layer"] = 2.into(),
            &["config.json", "newsmill.heads.stance.encoder.from_layer"],
        ),
    ];
    for (name, edit, expected) in cases {
        let copy =
            std::env::temp_dir().join(format!("newsmill-branch-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&copy);
        std::fs::create_dir_all(&copy).unwrap();
        for f in ["config.json", "tokenizer.json", "model.safetensors"] {
            std::fs::copy(dir.join("own").join(f), copy.join(f)).unwrap();
        }
        let path = copy.join("config.json");
        let mut config: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        edit(&mut config);
        std::fs::write(&path, config.to_string()).unwrap();
        let out = newsmill(
            &["annotate", &examples(), "--models", copy.to_str().unwrap()],
            None,
        );
        let _ = std::fs::remove_dir_all(&copy);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{name}: {err}");
        assert!(out.stdout.is_empty(), "{name}: no record is written");
        for e in expected {
            assert!(err.contains(e), "{name}: `{e}` not in {err}");
        }
    }
}

#[test]
fn a_task_flag_overrides_the_joint_model() {
    let joint = tiny_joint().display().to_string();
    let ner = tiny_models().join("ner").display().to_string();
    let out = newsmill(
        &[
            "annotate",
            &examples(),
            "--models",
            &joint,
            "--ner-model",
            &ner,
            "-q",
        ],
        None,
    );
    assert_success(&out);
    for r in records(&out.stdout) {
        check_record(&r);
        assert!(r["models"]["ner"].as_str().unwrap().starts_with("ner@"));
        assert!(r["models"]["stance"]
            .as_str()
            .unwrap()
            .starts_with("joint@"));
        for e in r["entities"].as_array().unwrap() {
            assert!(
                e["stance"]["label"].is_string(),
                "the joint span head scores the other model's entities"
            );
        }
    }
}

/// A fresh copy of the tiny joint checkpoint (the same weights each time) in `dir`.
fn copy_tiny_joint(dir: &std::path::Path) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    for entry in std::fs::read_dir(tiny_joint().join("joint")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
    }
}

/// A copy of the tiny joint checkpoint with `edit` applied to its config.json's `newsmill`
/// section; returns the stderr and exit code of annotating the examples with it.
fn broken(name: &str, edit: impl Fn(&mut Value)) -> (String, Option<i32>) {
    let dir = std::env::temp_dir().join(format!("newsmill-joint-{name}-{}", std::process::id()));
    copy_tiny_joint(&dir);
    let path = dir.join("config.json");
    let mut config: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    edit(&mut config["newsmill"]);
    std::fs::write(&path, serde_json::to_string(&config).unwrap()).unwrap();
    let out = newsmill(
        &["annotate", &examples(), "--models", dir.to_str().unwrap()],
        None,
    );
    let _ = std::fs::remove_dir_all(&dir);
    assert!(out.stdout.is_empty(), "no record is written");
    (
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

/// Each checkpoint problem (an edit of config.json's `newsmill` section) stops the run with
/// exit 1 and a message naming the file and the field (and tensor) at fault.
#[test]
fn checkpoint_errors_name_file_and_field() {
    let cases: [(&str, Edit, &[&str]); 6] = [
        (
            "branch-kind",
            |n| {
                n["heads"]["tone"]["encoder"] =
                    serde_json::json!({"prefix": "tone.encoder", "from_layer": 1})
            },
            &[
                "config.json",
                "newsmill.heads.tone.encoder",
                "only span_pool heads",
            ],
        ),
        (
            "missing-head",
            |n| {
                n["heads"].as_object_mut().unwrap().remove("stance");
            },
            &["config.json", "newsmill.heads.stance", "missing"],
        ),
        (
            "labels",
            |n| n["heads"]["ner"]["labels"] = serde_json::json!(["O", "B-PER", "I-PER"]),
            &[
                "config.json",
                "newsmill.heads.ner.labels",
                "ner.classifier.weight",
                "9 rows",
            ],
        ),
        (
            "kind",
            |n| n["heads"]["sentiment"]["kind"] = serde_json::json!("crf"),
            &[
                "config.json",
                "newsmill.heads.sentiment.kind",
                "unknown head kind `crf`",
            ],
        ),
        (
            "temperature",
            |n| n["heads"]["tone"]["temperature"] = serde_json::json!(-1.5),
            &[
                "config.json",
                "newsmill.heads.tone.temperature",
                "expected a positive number, found -1.5",
            ],
        ),
        (
            "span-temperature",
            |n| n["heads"]["stance"]["temperature"] = serde_json::json!(2.0),
            &[
                "config.json",
                "newsmill.heads.stance.temperature",
                "only first_position heads",
            ],
        ),
    ];
    for (name, edit, expected) in cases {
        let (err, code) = broken(name, edit);
        assert_eq!(code, Some(1), "{name}: {err}");
        for e in expected {
            assert!(err.contains(e), "{name}: `{e}` not in {err}");
        }
    }
}

/// A head's `temperature` divides its logits: with T = 2 every log-ratio of two tone
/// probabilities is half of what it is without.
#[test]
fn temperature_divides_the_tone_logits() {
    let run = |name: &str, t: Option<f64>| {
        let dir =
            std::env::temp_dir().join(format!("newsmill-joint-{name}-{}", std::process::id()));
        copy_tiny_joint(&dir);
        let path = dir.join("config.json");
        let mut config: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        if let Some(t) = t {
            config["newsmill"]["heads"]["tone"]["temperature"] = t.into();
        }
        std::fs::write(&path, serde_json::to_string(&config).unwrap()).unwrap();
        let out = newsmill(
            &[
                "annotate",
                &examples(),
                "--models",
                dir.to_str().unwrap(),
                "-q",
                "--tasks",
                "sentiment",
            ],
            None,
        );
        let _ = std::fs::remove_dir_all(&dir);
        assert_success(&out);
        records(&out.stdout)
            .iter()
            .flat_map(|r| r["sentences"].as_array().unwrap().clone())
            .map(|s| {
                ["negative", "neutral", "positive"]
                    .map(|k| s["sentiment"]["probs"][k].as_f64().unwrap())
            })
            .collect::<Vec<_>>()
    };
    let plain = run("t1", None);
    let warm = run("t2", Some(2.0));
    assert_eq!(plain.len(), warm.len());
    assert!(!plain.is_empty());
    for (p, w) in plain.iter().zip(&warm) {
        for (i, j) in [(0, 1), (1, 2), (0, 2)] {
            let (lp, lw) = ((p[i] / p[j]).ln(), (w[i] / w[j]).ln());
            assert!((lw - lp / 2.0).abs() < 1e-3, "{p:?} {w:?}");
        }
    }
}

/// Items of the tiny joint model: the windows of a few sentences, special tokens included.
fn tiny_items(model: &newsmill_model::JointModel) -> Vec<newsmill_model::JointItem> {
    let e = &model.encoder;
    [
        "the minister met the bridge engineers",
        "a bridge",
        "engineers of the port met the minister on monday",
    ]
    .iter()
    .map(|s| {
        let words: Vec<&str> = s.split(' ').collect();
        let enc = e.encode_words(&words).expect("encodes");
        let mut ids = vec![e.cls_id];
        ids.extend(&enc.ids);
        ids.push(e.sep_id);
        let types = (0..ids.len() as u32).map(|i| i % 4).collect();
        newsmill_model::JointItem {
            windows: vec![(ids, types)],
        }
    })
    .collect()
}

/// Token, first-position and span outputs of every item, one batch per item.
type Outs = Vec<(Vec<Vec<f32>>, Vec<Vec<f32>>, Vec<Vec<f32>>)>;

fn run_items(model: &newsmill_model::JointModel, items: &[newsmill_model::JointItem]) -> Outs {
    let heads = newsmill_model::JointHeads {
        token: Some(0),
        first: vec![1],
        span: Some(2),
    };
    (0..items.len())
        .map(|i| {
            let enc = model.encode_batch(items, &[i], &heads).expect("encodes");
            // score the span of the first two wordpieces
            let requests = vec![vec![newsmill_model::SpanRequest {
                window: 0,
                positions: 1..3,
            }]];
            let mut spans = enc.score_spans(&requests).expect("pools");
            let e = enc.items.into_iter().next().expect("one item");
            (e.tokens, e.first, spans.remove(0))
        })
        .collect()
}

#[test]
fn workers_sharing_one_copy_of_the_weights_get_what_one_worker_gets() {
    // on a GPU the workers share one loaded model (JointModel::share); the CPU runs the same code
    let dir = tiny_joint().join("joint");
    let model =
        newsmill_model::JointModel::load(&dir, newsmill_model::Compute::default()).expect("loads");
    let items = tiny_items(&model);
    let alone = run_items(&model, &items);
    assert!(!alone[0].0.is_empty() && !alone[0].1[0].is_empty() && !alone[0].2[0].is_empty());
    let handles: Vec<newsmill_model::JointModel> = (0..4).map(|_| model.share()).collect();
    let shared: Vec<Outs> = std::thread::scope(|s| {
        let jobs: Vec<_> = handles
            .iter()
            .map(|h| s.spawn(|| (0..5).map(|_| run_items(h, &items)).last().unwrap()))
            .collect();
        jobs.into_iter().map(|j| j.join().unwrap()).collect()
    });
    for out in shared {
        assert_eq!(out, alone);
    }
}

/// A second checkpoint fine-tuned from the same backbone (word embeddings frozen) reads the
/// first one's table: memory holds it once, and the answers do not change. Different tables
/// are never shared.
#[test]
fn equal_word_embeddings_are_held_once() {
    let load = |dir: &std::path::Path| {
        newsmill_model::JointModel::load(dir, newsmill_model::Compute::default()).expect("loads")
    };
    let joint = tiny_joint().join("joint");
    let (first, second) = (load(&joint), load(&joint));
    let items = tiny_items(&second);
    let before = run_items(&second, &items);
    assert!(second.share_word_embeddings(&first));
    assert_eq!(run_items(&second, &items), before);
    let other = load(&common::tiny_joint_and_stance().join("stance"));
    assert!(
        !other.share_word_embeddings(&first),
        "another seed, another table"
    );
}

#[test]
fn device_and_precision_errors_are_clear() {
    let models = tiny_joint().display().to_string();
    let input = examples();
    let run = |extra: &[&str]| {
        let mut args = vec!["annotate", input.as_str(), "--models", &models, "-q"];
        args.extend(extra);
        newsmill(&args, None)
    };
    if newsmill_model::cuda_devices().map_or(true, |n| n == 0) {
        // no CUDA here: asking for it is an error that says what to do, not a fallback
        let out = run(&["--device", "cuda"]);
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("a CUDA device was asked for"), "{err}");
        assert!(err.contains("libtorch_cuda.so"), "{err}");
        // auto falls back to the CPU
        assert_success(&run(&["--device", "auto"]));
    }
    let err = newsmill_model::Compute {
        device: newsmill_model::Device::Cuda(0),
        precision: newsmill_model::Precision::Int8,
        auto: false,
    }
    .check()
    .expect_err("int8 is CPU-only")
    .to_string();
    assert!(err.contains("int8 runs on the CPU only"), "{err}");
}
