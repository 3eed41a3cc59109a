//! Criterion benches of the pieces around the model: segmentation and wordpiece encoding,
//! constrained decoding, and one batched NER forward pass. Needs the default models
//! (`eval "$(scripts/setup.sh)"` sets NEWSMILL_MODELS). Run: `cargo bench --bench components`.

use std::path::PathBuf;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use newsmill_ner::{decode_words, Decoding, NerModel, NerOptions, TagSet};
use newsmill_text::{segment, split_words};

fn models() -> PathBuf {
    PathBuf::from(
        std::env::var("NEWSMILL_MODELS")
            .expect("NEWSMILL_MODELS: run eval \"$(scripts/setup.sh)\""),
    )
}

fn corpus() -> String {
    let raw = include_str!("../examples/articles.jsonl");
    raw.lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["text"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

fn bench(c: &mut Criterion) {
    newsmill_model::set_torch_threads(1);
    let text = corpus();
    let ner =
        NerModel::load(&models().join("ner"), NerOptions::default()).expect("default NER model");
    c.bench_function("segment+words (4 articles)", |b| {
        b.iter(|| {
            let s = segment(black_box(&text));
            s.iter()
                .map(|&sp| split_words(&text, sp).len())
                .sum::<usize>()
        })
    });
    let sentences = segment(&text);
    c.bench_function("prepare: words+wordpieces+windows (4 articles)", |b| {
        b.iter(|| {
            ner.prepare(black_box(&text), &sentences, &[])
                .unwrap()
                .input_count()
        })
    });
    let clf = ner.clf.as_ref().expect("single-task NER model");
    let labels: Vec<String> = clf.labels().to_vec();
    let set = TagSet::new(&labels, "bench").unwrap();
    let n = labels.len();
    let probs: Vec<Vec<f32>> = (0..40)
        .map(|w| {
            (0..n)
                .map(|l| ((w * 7 + l * 3) % 11) as f32 / 11.0 + 0.01)
                .collect()
        })
        .collect();
    let refs: Vec<Option<&[f32]>> = probs.iter().map(|p| Some(p.as_slice())).collect();
    c.bench_function("constrained decoding (40 words)", |b| {
        b.iter(|| decode_words(&set, black_box(&refs), Decoding::Constrained))
    });
    let p = ner.prepare(&text, &sentences, &[]).unwrap();
    let inputs = ner.inputs(&p);
    let tokens: usize = inputs.iter().map(|i| i.0.len()).sum();
    c.bench_function(
        &format!("NER forward, {} inputs / {tokens} wordpieces", inputs.len()),
        |b| b.iter(|| clf.predict(black_box(&inputs), 4096).unwrap().1.batches),
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
