//! The flat tables: Parquet files read back with the Arrow reader have the documented columns
//! and one row per record / sentence / mention / actor of the JSONL (counted here from the raw
//! JSON, independently of the exporter); CSV matches the expected files beside the input.

use std::fs::File;
use std::path::PathBuf;

use arrow_array::RecordBatchReader;
use newsmill_report::export::{columns, row_count};
use newsmill_report::{export, read_corpus_path, Format, Table};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

const TABLES: [(Table, &str); 4] = [
    (Table::Articles, "articles"),
    (Table::Sentences, "sentences"),
    (Table::Entities, "entities"),
    (Table::Actors, "actors"),
];

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// Rows each table should have, from the raw JSON lines: every non-blank line is an articles
/// row; article records contribute their sentences, entities + targets, actors.
fn expected_rows(path: &PathBuf) -> [usize; 4] {
    let bytes = std::fs::read(path).unwrap();
    let mut n = [0usize; 4];
    for line in bytes.split(|&b| b == b'\n') {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        n[0] += 1;
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(line) else {
            continue;
        };
        if v.get("error").is_some() || v.get("sentences").is_none() {
            continue;
        }
        let len = |k: &str| v[k].as_array().map_or(0, Vec::len);
        n[1] += len("sentences");
        n[2] += len("entities") + len("targets");
        n[3] += len("actors");
    }
    n
}

fn check_parquet(jsonl: &PathBuf) {
    let corpus = read_corpus_path(jsonl).unwrap();
    let want = expected_rows(jsonl);
    let dir = tempfile::tempdir().unwrap();
    for (k, (table, name)) in TABLES.iter().enumerate() {
        let path = dir.path().join(format!("{name}.parquet"));
        let rows = export(
            &corpus,
            *table,
            Format::Parquet,
            File::create(&path).unwrap(),
        )
        .unwrap();
        assert_eq!(rows, want[k], "{name}: rows written");
        assert_eq!(row_count(&corpus, *table), want[k]);
        let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(&path).unwrap())
            .unwrap()
            .build()
            .unwrap();
        let schema = reader.schema();
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        let documented: Vec<&str> = columns(*table).iter().map(|c| c.0).collect();
        assert_eq!(names, documented, "{name}: columns");
        let read: usize = reader.map(|b| b.unwrap().num_rows()).sum();
        assert_eq!(
            read,
            want[k],
            "{name}: rows read back from {}",
            jsonl.display()
        );
    }
}

#[test]
fn parquet_reads_back_with_the_documented_columns() {
    check_parquet(&data("examples.annotated.jsonl"));
    check_parquet(&data("hostile.jsonl"));
    // a big real corpus when one is at hand (README: the BBC corpus)
    if let Some(p) = std::env::var_os("NEWSMILL_ANNOTATED_JSONL") {
        check_parquet(&PathBuf::from(p));
    }
}

/// CSV output of the examples equals `examples.annotated.TABLE.csv` (NEWSMILL_BLESS=1 rewrites
/// them).
#[test]
fn csv_matches_expected_files() {
    let input = data("examples.annotated.jsonl");
    let corpus = read_corpus_path(&input).unwrap();
    let bless = std::env::var_os("NEWSMILL_BLESS").is_some();
    for (table, name) in TABLES {
        let mut out = Vec::new();
        export(&corpus, table, Format::Csv, &mut out).unwrap();
        let expected = data(&format!("examples.annotated.{name}.csv"));
        if bless {
            std::fs::write(&expected, &out).unwrap();
            continue;
        }
        let want = std::fs::read(&expected)
            .unwrap_or_else(|e| panic!("{}: {e} (NEWSMILL_BLESS=1 writes it)", expected.display()));
        assert!(
            out == want,
            "{name}: CSV differs from {}",
            expected.display()
        );
    }
}

#[test]
fn every_column_is_documented() {
    let doc = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/tables.md"),
    )
    .unwrap();
    for (table, name) in TABLES {
        let section = doc
            .split("\n## ")
            .find(|s| s.starts_with(&format!("`{name}`")))
            .unwrap_or_else(|| panic!("docs/tables.md has no section `{name}`"));
        for (col, _) in columns(table) {
            assert!(
                section.contains(&format!("| `{col}` |")),
                "docs/tables.md, `{name}`: column `{col}` is not documented"
            );
        }
    }
}

#[test]
fn hostile_csv_is_quoted() {
    let corpus = read_corpus_path(&data("hostile.jsonl")).unwrap();
    let mut out = Vec::new();
    export(&corpus, Table::Entities, Format::Csv, &mut out).unwrap();
    let mut r = csv::Reader::from_reader(&out[..]);
    let text_col = columns(Table::Entities)
        .iter()
        .position(|c| c.0 == "text")
        .unwrap();
    let texts: Vec<String> = r
        .records()
        .map(|x| x.unwrap()[text_col].to_string())
        .collect();
    assert!(texts
        .iter()
        .any(|t| t.starts_with("\"><img src=x onerror=")));
    assert!(texts.iter().any(|t| t.contains('\u{202e}')));
}
