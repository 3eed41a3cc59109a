//! Test support for newsmill's crates and its CLI tests: tiny random-weight checkpoints in the
//! standard Hugging Face layout and newsmill's joint format, written with the same libraries
//! newsmill loads them with, so every stage can run without a trained model; and the
//! invariants every output record keeps ([`check_record`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use serde_json::json;
use tokenizers::models::wordpiece::WordPiece;
use tokenizers::normalizers::bert::BertNormalizer;
use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
use tokenizers::processors::bert::BertProcessing;
use tokenizers::Tokenizer;

/// libtorch's random generator is one per process; tests run on parallel threads. Every
/// writer seeds and draws under this lock, so a seed always gives the same weights.
static RNG: Mutex<()> = Mutex::new(());

pub const NER_LABELS: &[&str] = &[
    "O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC",
];

/// A WordPiece vocabulary that covers every lower-case ASCII word: all single characters and
/// their `##` continuations, plus a few whole words. Anything else becomes [UNK].
fn vocab() -> HashMap<String, u32> {
    let mut v: Vec<String> = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for c in (b'!'..=b'~')
        .map(|b| b as char)
        .filter(|c| !c.is_ascii_uppercase())
    {
        v.push(c.to_string());
        v.push(format!("##{c}"));
    }
    for w in [
        "the", "putin", "kim", "moscow", "visit", "said", "good", "bad", "korea", "north",
    ] {
        v.push(w.to_string());
    }
    v.into_iter()
        .enumerate()
        .map(|(i, t)| (t, i as u32))
        .collect()
}

pub fn write_tokenizer(path: &Path) -> usize {
    let vocab = vocab();
    let n = vocab.len();
    let mut by_id: Vec<(&String, &u32)> = vocab.iter().collect();
    by_id.sort_by_key(|(_, &i)| i);
    let vocab_txt = path.with_extension("vocab.txt");
    let lines: Vec<&str> = by_id.iter().map(|(t, _)| t.as_str()).collect();
    std::fs::write(&vocab_txt, lines.join("\n") + "\n").unwrap();
    let wp = WordPiece::from_file(vocab_txt.to_str().unwrap())
        .unk_token("[UNK]".into())
        .build()
        .expect("wordpiece");
    std::fs::remove_file(&vocab_txt).unwrap();
    let mut tok = Tokenizer::new(wp);
    tok.with_normalizer(Some(BertNormalizer::new(true, true, None, true)));
    tok.with_pre_tokenizer(Some(BertPreTokenizer));
    tok.with_post_processor(Some(BertProcessing::new(
        ("[SEP]".into(), 3),
        ("[CLS]".into(), 2),
    )));
    tok.save(path, false).expect("save tokenizer");
    n
}

/// Writes a tiny BERT checkpoint folder: 1 layer, 16 hidden, 64 positions (so long sentences
/// need several windows), random weights from a fixed seed.
pub fn write_tiny_model(dir: &Path, labels: &[&str], token_head: bool, case_feature: bool) {
    std::fs::create_dir_all(dir).unwrap();
    let vocab_size = write_tokenizer(&dir.join("tokenizer.json"));
    let id2label: serde_json::Map<String, serde_json::Value> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| (i.to_string(), json!(l)))
        .collect();
    let mut config = json!({
        "model_type": "bert", "architectures": [if token_head {"BertForTokenClassification"} else {"BertForSequenceClassification"}],
        "hidden_size": 16, "num_attention_heads": 2, "num_hidden_layers": 1, "intermediate_size": 32,
        "vocab_size": vocab_size, "max_position_embeddings": 64, "hidden_act": "gelu",
        "type_vocab_size": if case_feature { 4 } else { 2 }, "id2label": id2label,
        "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1, "initializer_range": 0.5
    });
    if case_feature {
        config["newsmill"] = json!({"case_feature": "token_type_v1"});
    }
    write_weights(dir, config, 7, |vs, rb| {
        if token_head {
            rust_bert::bert::BertForTokenClassification::new(vs.root(), rb).unwrap();
        } else {
            rust_bert::bert::BertForSequenceClassification::new(vs.root(), rb).unwrap();
        }
    });
}

/// Writes `config` as `dir/config.json`, then `dir/model.safetensors` with the variables that
/// `make` creates from it, drawn from `seed` (under the generator lock, so a seed always gives
/// the same weights).
fn write_weights(
    dir: &Path,
    config: serde_json::Value,
    seed: i64,
    make: impl FnOnce(&tch::nn::VarStore, &rust_bert::bert::BertConfig),
) {
    std::fs::write(
        dir.join("config.json"),
        serde_json::to_string_pretty(&config).unwrap(),
    )
    .unwrap();
    let rb: rust_bert::bert::BertConfig = serde_json::from_value(config).unwrap();
    let _rng = RNG.lock().unwrap_or_else(|e| e.into_inner());
    tch::manual_seed(seed);
    let vs = tch::nn::VarStore::new(tch::Device::Cpu);
    make(&vs, &rb);
    vs.save(dir.join("model.safetensors")).unwrap();
}

/// The `newsmill` section of a tiny joint checkpoint's config.json (edited by the error tests).
pub fn tiny_joint_section() -> serde_json::Value {
    json!({
        "case_feature": "token_type_v2",
        "heads": {
            "ner": {"kind": "token", "prefix": "ner.classifier", "labels": NER_LABELS},
            "sentiment": {"kind": "first_position", "pooler": true, "prefix": "sentiment.classifier",
                          "labels": ["negative", "positive"]},
            "stance": {"kind": "span_pool", "pool": ["first", "mean", "max"], "prefix": "stance.classifier",
                       "labels": ["negative", "neutral", "positive"]},
            "tone": {"kind": "first_position", "pooler": true, "prefix": "tone.classifier",
                     "labels": ["negative", "neutral", "positive"]}
        }
    })
}

/// Writes a tiny joint checkpoint folder (models/README.md, "Joint checkpoint format"): a
/// 1-layer BERT encoder under `bert.*` and the heads of [`tiny_joint_section`], random weights
/// from a fixed seed.
pub fn write_tiny_joint(dir: &Path) {
    write_tiny_joint_heads(dir, &["ner", "sentiment", "stance", "tone"], 11);
}

/// Like [`write_tiny_joint`] with only the heads `keep` (a stance-only checkpoint: `["stance"]`)
/// and weights from `seed`.
pub fn write_tiny_joint_heads(dir: &Path, keep: &[&str], seed: i64) {
    write_tiny_joint_layers(dir, keep, seed, 1);
}

/// Like [`write_tiny_joint_heads`] with an encoder of `layers` layers.
pub fn write_tiny_joint_layers(dir: &Path, keep: &[&str], seed: i64, layers: usize) {
    std::fs::create_dir_all(dir).unwrap();
    let vocab_size = write_tokenizer(&dir.join("tokenizer.json"));
    let mut config = json!({
        "model_type": "bert", "architectures": ["NewsmillJointModel"],
        "hidden_size": 16, "num_attention_heads": 2, "num_hidden_layers": layers, "intermediate_size": 32,
        "vocab_size": vocab_size, "max_position_embeddings": 64, "hidden_act": "gelu",
        "type_vocab_size": 8, "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
        "initializer_range": 0.5
    });
    let mut section = tiny_joint_section();
    section["heads"]
        .as_object_mut()
        .unwrap()
        .retain(|name, _| keep.contains(&name.as_str()));
    config["newsmill"] = section;
    write_weights(dir, config, seed, |vs, rb| {
        rust_bert::bert::BertModel::<rust_bert::bert::BertEmbeddings>::new(vs.root() / "bert", rb);
        let heads = [
            ("ner", 9, 16),
            ("sentiment", 2, 16),
            ("stance", 3, 48),
            ("tone", 3, 16),
        ];
        for (name, rows, cols) in heads.into_iter().filter(|(n, _, _)| keep.contains(n)) {
            let p = vs.root() / name / "classifier";
            let _ = p.randn("weight", &[rows, cols], 0.0, 1.0);
            let _ = p.randn("bias", &[rows], 0.0, 1.0);
        }
    });
}

/// The folder `name` in the temporary directory, written by `write` the first time a test
/// binary asks for it (when `check`, a file in it, is missing). It is made in a private folder,
/// then renamed into place, so concurrent test binaries never see a half-written model and /tmp
/// does not fill with copies.
fn made_once(name: &str, check: &str, write: impl FnOnce(&Path)) -> PathBuf {
    let dir = std::env::temp_dir().join(name);
    if dir.join(check).is_file() {
        return dir;
    }
    let tmp = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
    write(&tmp);
    if std::fs::rename(&tmp, &dir).is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    dir
}

/// A tiny joint checkpoint, made once per test binary (`DIR/joint/`).
pub fn tiny_joint() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        made_once("newsmill-tiny-joint-v2", "joint/model.safetensors", |tmp| {
            write_tiny_joint(&tmp.join("joint"))
        })
    })
}

/// A models folder laid out as the default one: the tiny joint checkpoint (`joint/`) and a
/// tiny stance-only joint-format checkpoint beside it (`stance/`), made once per test binary.
pub fn tiny_joint_and_stance() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        made_once(
            "newsmill-tiny-joint-stance-v1",
            "stance/model.safetensors",
            |tmp| {
                write_tiny_joint(&tmp.join("joint"));
                write_tiny_joint_heads(&tmp.join("stance"), &["stance"], 12);
            },
        )
    })
}

/// Tiny two-layer joint checkpoints, made once per test binary: `plain/`; `same/`, plain with a
/// stance branch from layer 1 (`newsmill.heads.stance.encoder`) whose layer is a copy of plain's
/// layer 1 (so it must answer as plain does); `own/`, the same with another model's layer 1.
pub fn tiny_joint_branched() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        made_once(
            "newsmill-tiny-joint-branch-v1",
            "own/model.safetensors",
            |tmp| {
                let all = ["ner", "sentiment", "stance", "tone"];
                write_tiny_joint_layers(&tmp.join("plain"), &all, 13, 2);
                write_tiny_joint_layers(&tmp.join("other"), &all, 14, 2);
                let read = |d: &str| {
                    tch::Tensor::read_safetensors(tmp.join(d).join("model.safetensors")).unwrap()
                };
                let (plain, other) = (read("plain"), read("other"));
                for (name, source) in [("same", &plain), ("own", &other)] {
                    let dir = tmp.join(name);
                    std::fs::create_dir_all(&dir).unwrap();
                    let mut tensors: Vec<(String, tch::Tensor)> = plain
                        .iter()
                        .map(|(n, t)| (n.clone(), t.shallow_clone()))
                        .collect();
                    for (n, t) in source {
                        if let Some(rest) = n.strip_prefix("bert.encoder.layer.1.") {
                            tensors.push((
                                format!("stance.encoder.layer.1.{rest}"),
                                t.shallow_clone(),
                            ));
                        }
                    }
                    tch::Tensor::write_safetensors(&tensors, dir.join("model.safetensors"))
                        .unwrap();
                    std::fs::copy(tmp.join("plain/tokenizer.json"), dir.join("tokenizer.json"))
                        .unwrap();
                    let mut config: serde_json::Value = serde_json::from_str(
                        &std::fs::read_to_string(tmp.join("plain/config.json")).unwrap(),
                    )
                    .unwrap();
                    config["newsmill"]["heads"]["stance"]["encoder"] =
                        json!({"prefix": "stance.encoder", "from_layer": 1});
                    std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
                }
                std::fs::remove_dir_all(tmp.join("other")).unwrap();
            },
        )
    })
}

/// A models folder (ner/, sentiment/, stance/) of tiny models, made once per test binary.
pub fn tiny_models() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        made_once(
            "newsmill-tiny-models-v1",
            "stance/model.safetensors",
            |tmp| {
                write_tiny_model(&tmp.join("ner"), NER_LABELS, true, true);
                let sentiment = ["negative", "positive"];
                write_tiny_model(&tmp.join("sentiment"), &sentiment, false, false);
                let stance = ["negative", "neutral", "positive"];
                write_tiny_model(&tmp.join("stance"), &stance, false, false);
            },
        )
    })
}

/// `s[start..end]` in characters (Python `str` slicing).
pub fn char_slice(s: &str, start: usize, end: usize) -> String {
    s.chars()
        .skip(start)
        .take(end.saturating_sub(start))
        .collect()
}

/// Checks the invariants every article record must satisfy: offsets in bounds, sentences in
/// order and non-overlapping, entities inside their sentence and slicing back to their text.
pub fn check_record(r: &serde_json::Value) {
    let text = r["text"].as_str().expect("record has text");
    let n = text.chars().count();
    assert_eq!(r["chars"].as_u64().unwrap() as usize, n);
    let sents = r["sentences"].as_array().unwrap();
    let mut prev_end = 0;
    for s in sents {
        let (a, b) = (
            s["start"].as_u64().unwrap() as usize,
            s["end"].as_u64().unwrap() as usize,
        );
        assert!(
            prev_end <= a && a < b && b <= n,
            "sentence {a}..{b} in {}",
            r["id"]
        );
        assert_eq!(
            char_slice(text, a, b).trim(),
            char_slice(text, a, b),
            "sentences are trimmed"
        );
        assert!(
            matches!(s["role"].as_str(), Some("title" | "body" | "boilerplate")),
            "sentence role in {}",
            r["id"]
        );
        prev_end = b;
    }
    for e in r["entities"].as_array().unwrap() {
        let (a, b) = (
            e["start"].as_u64().unwrap() as usize,
            e["end"].as_u64().unwrap() as usize,
        );
        assert!(a < b && b <= n);
        assert_eq!(
            char_slice(text, a, b),
            e["text"].as_str().unwrap(),
            "entity slices back in {}",
            r["id"]
        );
        let s = &sents[e["sentence"].as_u64().unwrap() as usize];
        assert!(
            s["start"].as_u64().unwrap() as usize <= a && b <= s["end"].as_u64().unwrap() as usize
        );
    }
}
