//! The embeddable engine: `Engine::start` loads the models once, `Engine::run` annotates as
//! often as asked, and each run's lines equal the CLI's on the same records.

use std::sync::atomic::AtomicBool;

use newsmill_pipeline::input::{Fields, JsonlReader};
use newsmill_pipeline::{AnnotateOptions, Engine, EngineOptions, ModelPaths, ModelPlan};

use crate::common::{assert_success, newsmill, tiny_models};

fn corpus() -> String {
    (0..7)
        .map(|i| {
            serde_json::json!({
                "id": format!("e{i}"),
                "text": format!("Putin met Kim in Moscow on day {i}. The visit was good.")
            })
            .to_string()
                + "\n"
        })
        .collect()
}

fn run(engine: &Engine, input: &str) -> String {
    let records = JsonlReader::new(std::io::Cursor::new(input.to_string()), Fields::default());
    let mut out = Vec::new();
    let never = AtomicBool::new(false);
    let summary = engine
        .run(Box::new(records), &mut out, &|_| {}, &never)
        .expect("run");
    assert_eq!(summary.records, 7);
    String::from_utf8(out).unwrap()
}

#[test]
fn one_engine_runs_many_times_as_the_cli_does() {
    let dir = tiny_models();
    let paths = ModelPaths {
        joint: None,
        ner: Some(dir.join("ner")),
        sentiment: Some(dir.join("sentiment")),
        stance: Some(dir.join("stance")),
    };
    let options = EngineOptions {
        workers: 2,
        job_articles: 3,
        ..EngineOptions::default()
    };
    // the CLI's defaults: `--device auto --precision auto`, resolved once as the CLI does (a
    // library caller that sets nothing gets fp32 on the CPU)
    let mut opts = AnnotateOptions::default();
    opts.ner.compute = newsmill_model::Compute::resolve(
        newsmill_model::DeviceChoice::Auto,
        newsmill_model::PrecisionChoice::Auto,
    )
    .expect("resolve");
    let plan = ModelPlan::resolve(&paths, &opts).expect("plan");
    let engine = Engine::start(&plan, &opts, &options).expect("start");
    let input = corpus();
    let first = run(&engine, &input);
    let second = run(&engine, &input);
    assert_eq!(first, second, "a second run on the same engine");
    let cli = newsmill(
        &[
            "annotate",
            "-",
            "--models",
            dir.to_str().unwrap(),
            "--job-articles",
            "3",
            "-q",
        ],
        Some(input.as_bytes()),
    );
    assert_success(&cli);
    assert_eq!(
        String::from_utf8(cli.stdout).unwrap(),
        first,
        "the CLI's lines"
    );
}
