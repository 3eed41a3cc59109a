//! The bench report's views: the fixture (tests/data/bench.json: 2 model sets × fp32/int8 × 2
//! batch budgets, one NER dev file) renders; its CSV equals tests/data/bench.expected.csv;
//! hostile names (tests/data/bench-hostile.json) are text in the page and neutralised in the
//! CSV; every chart point sits where the SVG's own mapping puts its values; the Pareto front is
//! right; edge cases (one row, no scores, zero throughput, NaN) never put NaN on the page.
//!
//! `NEWSMILL_BENCH_HTML=DIR cargo test -p newsmill-report --test bench` also writes the pages
//! of both fixtures to DIR (bench-fixture.html, bench-hostile.html, and their terminal tables
//! as .txt) and of two variants (bench-no-scores, bench-log2: .html and .json), for a look in a
//! browser and scripts/check_bench_dom.py.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use newsmill_report::bench::{accuracy_keys, pareto_front, CSV_COLUMNS};
use newsmill_report::{bench_table, write_bench_csv, write_bench_html};
use newsmill_schema::bench::{Accuracy, BenchReport, Spread};

mod common;
use common::unescape;

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn load(name: &str) -> BenchReport {
    let text = std::fs::read_to_string(data(name)).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn html(report: &BenchReport) -> String {
    let mut out = Vec::new();
    write_bench_html(report, &mut out).expect("page");
    String::from_utf8(out).expect("the page is UTF-8")
}

fn csv(report: &BenchReport) -> Vec<u8> {
    let mut out = Vec::new();
    write_bench_csv(report, &mut out).expect("csv");
    out
}

/// The attributes of the tag that starts at `html[i]` (`<name a="v" ...>`), unescaped.
fn attrs(tag: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut rest = tag;
    while let Some(eq) = rest.find("=\"") {
        let name = rest[..eq]
            .rsplit([' ', '\n'])
            .next()
            .unwrap_or("")
            .to_string();
        let after = &rest[eq + 2..];
        let end = after.find('"').expect("attribute values are quoted");
        out.insert(name, unescape(&after[..end]));
        rest = &after[end + 1..];
    }
    out
}

/// Every start tag `<name ...>` of `html` with its attributes, in order.
fn tags(html: &str, name: &str) -> Vec<(usize, BTreeMap<String, String>)> {
    let open = format!("<{name} ");
    html.match_indices(&open)
        .map(|(i, _)| {
            let end = html[i..].find('>').unwrap() + i;
            (i, attrs(&html[i + open.len() - 1..end]))
        })
        .collect()
}

/// A chart of the page: the `<svg>`'s attributes and its points' attributes.
struct Chart {
    svg: BTreeMap<String, String>,
    points: Vec<BTreeMap<String, String>>,
}

fn charts(html: &str) -> Vec<Chart> {
    let mut out = Vec::new();
    for (i, svg) in tags(html, "svg") {
        if !svg.contains_key("data-chart") {
            continue;
        }
        let end = html[i..].find("</svg>").unwrap() + i;
        let points = tags(&html[i..end], "circle")
            .into_iter()
            .map(|(_, a)| a)
            .filter(|a| a.contains_key("data-row"))
            .collect();
        out.push(Chart { svg, points });
    }
    out
}

fn f(a: &BTreeMap<String, String>, k: &str) -> f64 {
    a.get(k)
        .unwrap_or_else(|| panic!("no {k}"))
        .parse()
        .unwrap_or_else(|_| panic!("{k}={:?} is not a number", a[k]))
}

/// Where the SVG's mapping puts (x, y).
fn position(svg: &BTreeMap<String, String>, x: f64, y: f64) -> (f64, f64) {
    let frac = |v: f64, lo: f64, hi: f64, log: bool| {
        if log {
            (v.log2() - lo.log2()) / (hi.log2() - lo.log2())
        } else {
            (v - lo) / (hi - lo)
        }
    };
    let fx = frac(
        x,
        f(svg, "data-x-min"),
        f(svg, "data-x-max"),
        svg["data-x-scale"] == "log2",
    );
    let fy = frac(y, f(svg, "data-y-min"), f(svg, "data-y-max"), false);
    let (l, r, t, b) = (
        f(svg, "data-left"),
        f(svg, "data-right"),
        f(svg, "data-top"),
        f(svg, "data-bottom"),
    );
    let py = if svg["data-y-scale"] == "rows" {
        t + fy * (b - t)
    } else {
        b - fy * (b - t)
    };
    (l + fx * (r - l), py)
}

/// Checks every chart of `page` against `report`; returns the rows on each accuracy chart's
/// Pareto front, by (task, file).
fn check_charts(report: &BenchReport, page: &str) -> BTreeMap<(String, String), BTreeSet<usize>> {
    let keys = accuracy_keys(report);
    let cs = charts(page);
    let kinds: Vec<&str> = cs.iter().map(|c| c.svg["data-chart"].as_str()).collect();
    if keys.is_empty() {
        assert_eq!(kinds, ["speed", "throughput"]);
    } else {
        let mut want = vec!["accuracy"; keys.len()];
        want.push("throughput");
        assert_eq!(kinds, want);
    }
    let mut fronts = BTreeMap::new();
    for c in &cs {
        let kind = c.svg["data-chart"].as_str();
        let mut rows = BTreeSet::new();
        let mut front = BTreeSet::new();
        for p in &c.points {
            let i: usize = p["data-row"].parse().unwrap();
            let r = &report.rows[i];
            let (x, y) = (f(p, "data-x"), f(p, "data-y"));
            let want = match kind {
                "accuracy" => {
                    let acc = r
                        .accuracy
                        .iter()
                        .find(|a| {
                            a.task == c.svg["data-task"]
                                && a.file == c.svg["data-file"]
                                && a.metric == c.svg["data-metric"]
                        })
                        .expect("a point of a row with that score");
                    (r.articles_per_second.median, acc.value)
                }
                "throughput" => (r.batch_tokens as f64, r.articles_per_second.median),
                "speed" => (r.articles_per_second.median, i as f64),
                k => panic!("chart kind {k}"),
            };
            assert_eq!((x, y), want, "{kind} chart, row {i}: data-x/data-y");
            let (px, py) = position(&c.svg, x, y);
            let (cx, cy) = (f(p, "cx"), f(p, "cy"));
            assert!(
                (cx - px).abs() <= 0.5 && (cy - py).abs() <= 0.5,
                "{kind} chart, row {i}: at ({cx}, {cy}), the mapping says ({px}, {py})"
            );
            // inside the plot area
            assert!(cx >= f(&c.svg, "data-left") - 0.5 && cx <= f(&c.svg, "data-right") + 0.5);
            assert!(cy >= f(&c.svg, "data-top") - 0.5 && cy <= f(&c.svg, "data-bottom") + 0.5);
            assert!(rows.insert(i), "row {i} twice on a chart");
            if p["class"].split(' ').any(|c| c == "pareto") {
                front.insert(i);
            }
        }
        if kind == "accuracy" {
            fronts.insert(
                (c.svg["data-task"].clone(), c.svg["data-file"].clone()),
                front,
            );
        } else {
            assert_eq!(rows.len(), report.rows.len(), "{kind}: every row");
            assert!(front.is_empty());
        }
    }
    fronts
}

/// Every number in an attribute of an SVG element is finite, and no "NaN" or "inf" anywhere.
fn assert_no_nan(page: &str) {
    assert!(!page.contains("NaN"), "NaN in the page");
    for word in ["inf\"", "\"inf", "infinity", "Infinity"] {
        assert!(!page.contains(word), "{word} in the page");
    }
    for name in ["circle", "line", "rect", "text", "polyline", "svg"] {
        for (_, a) in tags(page, name) {
            for (k, v) in &a {
                let numeric = matches!(
                    k.as_str(),
                    "cx" | "cy"
                        | "r"
                        | "x"
                        | "y"
                        | "x1"
                        | "x2"
                        | "y1"
                        | "y2"
                        | "width"
                        | "height"
                        | "data-x"
                        | "data-y"
                        | "data-left"
                        | "data-right"
                        | "data-top"
                        | "data-bottom"
                        | "data-x-min"
                        | "data-x-max"
                        | "data-y-min"
                        | "data-y-max"
                );
                if numeric {
                    let x: f64 = v
                        .parse()
                        .unwrap_or_else(|_| panic!("<{name} {k}={v:?}>: not a number"));
                    assert!(x.is_finite(), "<{name} {k}={v:?}>");
                }
                if k == "points" {
                    for n in v.split([' ', ',']) {
                        assert!(n.parse::<f64>().unwrap().is_finite(), "points {v:?}");
                    }
                }
            }
        }
    }
}

/// No script, no handler, nothing fetched, no link out.
fn assert_inert(page: &str) {
    let lower = page.to_ascii_lowercase();
    assert!(!lower.contains("<script"), "a script element");
    assert!(!lower.contains("http://") && !lower.contains("https://"));
    for bad in [
        "javascript:",
        "<img",
        "<iframe",
        "<object",
        "<embed",
        "<link",
    ] {
        assert!(!lower.contains(bad), "{bad:?} in the page");
    }
    // no element of the page has an event handler, a link or a source
    for (i, _) in page.match_indices('<') {
        if !page[i + 1..].starts_with(|c: char| c.is_ascii_alphabetic()) {
            continue;
        }
        let end = page[i..].find('>').unwrap() + i;
        for name in attrs(&page[i..end]).keys() {
            let name = name.to_ascii_lowercase();
            assert!(
                !name.starts_with("on")
                    && !["href", "src", "xlink:href", "action"].contains(&name.as_str()),
                "{name}= in {}",
                &page[i..end]
            );
        }
    }
    assert!(page.contains("default-src &#39;none&#39;") || page.contains("default-src 'none'"));
    assert!(!page.contains("script-src"), "the CSP allows no script");
}

fn write_for_browser(name: &str, page: &str) {
    if let Some(dir) = std::env::var_os("NEWSMILL_BENCH_HTML") {
        std::fs::write(PathBuf::from(dir).join(name), page).unwrap();
    }
}

#[test]
fn the_fixture_renders() {
    let report = load("bench.json");
    assert_eq!(report.rows.len(), 8);
    let page = html(&report);
    write_for_browser("bench-fixture.html", &page);
    write_for_browser("bench-fixture.txt", &bench_table(&report));
    assert_inert(&page);
    assert_no_nan(&page);
    let rows = tags(&page, "tr")
        .into_iter()
        .filter(|(_, a)| a.contains_key("data-row"))
        .count();
    assert_eq!(rows, 8);
    let fronts = check_charts(&report, &page);
    // default fp32 and int8 at 512 tokens: as accurate as at 256, and faster
    assert_eq!(
        fronts[&("ner".to_string(), "dev/ner-dev.conll".to_string())],
        BTreeSet::from([1, 3])
    );
    assert_eq!(page.matches("<polyline class=\"front\"").count(), 1);
    // 2 model sets × 2 precisions: 4 lines on the throughput chart
    assert_eq!(page.matches("<polyline class=\"series\"").count(), 4);
    assert!(page.contains(">Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz<"));
    // deterministic
    assert_eq!(page, html(&report));
}

/// The CSV of the fixture equals tests/data/bench.expected.csv (NEWSMILL_BLESS=1 rewrites it).
#[test]
fn csv_matches_the_expected_file() {
    let report = load("bench.json");
    let out = csv(&report);
    let expected = data("bench.expected.csv");
    if std::env::var_os("NEWSMILL_BLESS").is_some() {
        std::fs::write(&expected, &out).unwrap();
    }
    let want = std::fs::read(&expected)
        .unwrap_or_else(|e| panic!("{}: {e} (NEWSMILL_BLESS=1 writes it)", expected.display()));
    assert!(
        out == want,
        "the CSV differs from {}:\n{}",
        expected.display(),
        String::from_utf8_lossy(&out)
    );
}

/// The CSV read back: documented columns, then one per dev file; values equal the JSON's.
#[test]
fn csv_reads_back() {
    let report = load("bench.json");
    let out = csv(&report);
    let mut r = csv::Reader::from_reader(&out[..]);
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    let mut want: Vec<String> = CSV_COLUMNS.iter().map(|c| c.to_string()).collect();
    want.push("ner:dev/ner-dev.conll:f1".into());
    assert_eq!(header, want);
    let records: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), report.rows.len());
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    for (rec, row) in records.iter().zip(&report.rows) {
        assert_eq!(&rec[col("config")], row.config);
        assert_eq!(
            rec[col("batch_tokens")].parse::<usize>().unwrap(),
            row.batch_tokens
        );
        let median: f64 = rec[col("articles_per_second_median")].parse().unwrap();
        assert_eq!(median, row.articles_per_second.median);
        let acc: f64 = rec[col("ner:dev/ner-dev.conll:f1")].parse().unwrap();
        assert_eq!(acc, row.accuracy[0].value);
        assert_eq!(
            rec[col("models_ner")].to_string(),
            row.models.ner.clone().unwrap_or_default()
        );
    }
}

#[test]
fn hostile_names_are_text_in_the_page() {
    let report = load("bench-hostile.json");
    let page = html(&report);
    write_for_browser("bench-hostile.html", &page);
    write_for_browser("bench-hostile.txt", &bench_table(&report));
    assert_inert(&page);
    assert_no_nan(&page);
    check_charts(&report, &page);
    // only the page's own elements
    let allowed = [
        "!doctype",
        "html",
        "head",
        "meta",
        "title",
        "style",
        "body",
        "header",
        "main",
        "section",
        "h1",
        "h2",
        "h3",
        "p",
        "ul",
        "li",
        "b",
        "div",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "bdi",
        "svg",
        "line",
        "polyline",
        "circle",
        "rect",
        "text",
        "figure",
        "figcaption",
    ];
    for (i, _) in page.match_indices('<') {
        let name: String = page[i + 1..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '!')
            .collect::<String>()
            .to_ascii_lowercase();
        if !name.is_empty() {
            assert!(
                allowed.contains(&name.as_str()),
                "element <{name}> in the page"
            );
        }
    }
    // the names are there, escaped
    assert!(page.contains("&#60;script&#62;alert(1)&#60;/script&#62;"));
    assert!(page.contains("&#34; onmouseover=&#34;alert(3)&#34; x=&#34;"));
    // in attributes too: the config's models and the dev file's name
    let svgs = tags(&page, "svg");
    assert!(svgs
        .iter()
        .any(|(_, a)| a.get("data-file").map(String::as_str)
            == Some("dev/\"><svg onload=alert(2)>.conll")));
    // a bidirectional override is shown, not applied
    assert!(!page.contains('\u{202e}') && page.contains("[U+202E]"));
    // the long name is whole in the table
    assert!(page.contains("ner-large-finetuned-v7 + ner=/tmp/x"));
}

#[test]
fn hostile_names_are_neutralised_in_the_csv() {
    let report = load("bench-hostile.json");
    let out = csv(&report);
    let mut r = csv::Reader::from_reader(&out[..]);
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    // a task of "-stance" would make its column's name a formula
    assert!(
        header.contains(&"'-stance:-2+3.tsv:f1m".to_string()),
        "{header:?}"
    );
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(&rows[0][0], "<script>alert(1)</script>");
    assert_eq!(&rows[1][0], "'=cmd|' /C calc'!A0");
    assert_eq!(&rows[1][1], "'+models/evil@0000");
    assert_eq!(&rows[1][3], "'@SUM(1+1)");
    assert_eq!(&rows[2][0], "\" onmouseover=\"alert(3)\" x=\"");
    // a row without scores: empty cells; zero throughput is a number
    assert_eq!(&rows[2][CSV_COLUMNS.len()], "");
    assert_eq!(&rows[3][7], "0");
    // no cell of the file starts a formula
    for rec in &rows {
        for cell in rec.iter() {
            // a negative number would be fine; text starting with '-' is not
            let formula = cell.starts_with(['=', '+', '@', '\t', '\r'])
                || (cell.starts_with('-') && cell.parse::<f64>().is_err());
            assert!(!formula, "{cell:?}");
        }
    }
}

#[test]
fn pareto_front_of_a_small_case() {
    let points = [
        (1.0, 1.0),
        (2.0, 0.5),
        (0.5, 2.0),
        (1.0, 0.9), // (1, 1) is as fast and better
        (2.0, 0.5), // equal to another: both stay
        (0.4, 1.9), // (0.5, 2) is better on both
        (f64::NAN, 3.0),
        (0.1, 2.0), // (0.5, 2) is as good and faster
    ];
    assert_eq!(
        pareto_front(&points),
        [true, true, true, false, true, false, false, false]
    );
    assert_eq!(pareto_front(&[]), Vec::<bool>::new());
    assert_eq!(pareto_front(&[(0.0, 0.0)]), [true]);
}

/// The terminal table: header block, one line per row, columns aligned even with a long config
/// name (cut from the left), the score column ×100.
#[test]
fn terminal_table() {
    for name in ["bench.json", "bench-hostile.json"] {
        let report = load(name);
        let t = bench_table(&report);
        assert!(t.ends_with('\n'));
        assert!(t.starts_with("corpus "), "{t}");
        let lines: Vec<&str> = t.lines().collect();
        let head = lines.iter().position(|l| l.starts_with("config")).unwrap();
        let table = &lines[head..=head + report.rows.len()];
        let width = table[0].chars().count();
        for l in table {
            assert_eq!(l.chars().count(), width, "{name}: not aligned:\n{t}");
        }
        // the columns start where the header's do: every header word's first character sits
        // above a column (right-aligned columns end where their header ends)
        assert!(!t.contains('\u{202e}') && !t.contains('\u{1b}'));
        if name == "bench.json" {
            assert!(table[1].starts_with("default "), "{t}");
            assert!(table[1].ends_with("93.12"), "{t}");
            assert!(table[0].ends_with("ner ner-dev"), "{t}");
            assert!(t.contains("1.00×") && t.contains("2.75×"), "{t}");
            assert!(t.contains("2 workers × 4 intra-op threads"), "{t}");
        } else {
            assert!(t.contains("…"), "the long name is cut:\n{t}");
            assert!(t.contains("200 error records"), "{t}");
        }
    }
}

/// One row, no scores, zero throughput, and a report built in Rust with NaN in it.
#[test]
fn edge_cases_render_without_nan() {
    let full = load("bench.json");
    let mut one = full.clone();
    one.rows.truncate(1);
    let mut no_scores = full.clone();
    for r in &mut no_scores.rows {
        r.accuracy.clear();
    }
    let mut zero = full.clone();
    for r in &mut zero.rows {
        r.articles_per_second = Spread::of(&[0.0]);
        r.encoder_gflop_per_second = 0.0;
    }
    let mut nan = full.clone();
    nan.machine.peak_matmul_gflop_per_second = f64::NAN;
    nan.rows[0].articles_per_second = Spread {
        min: f64::NAN,
        median: f64::NAN,
        max: f64::INFINITY,
    };
    nan.rows[1].accuracy[0].value = f64::NAN;
    nan.rows[2].fraction_of_peak = f64::INFINITY;
    nan.rows[3].batch_latency_ms.p95 = f64::NAN;
    nan.rows[4].accuracy.push(Accuracy {
        task: "stance".into(),
        file: "dev.tsv".into(),
        metric: "f1m".into(),
        value: f64::NAN,
        details: serde_json::Value::Null,
    });
    let mut empty = full.clone();
    empty.rows.clear();
    // budgets of 256 and 2048 tokens: a log2 axis
    let mut wide = full.clone();
    for r in &mut wide.rows {
        if r.batch_tokens == 512 {
            r.batch_tokens = 2048;
        }
    }
    for (what, report) in [
        ("one row", &one),
        ("no scores", &no_scores),
        ("zero throughput", &zero),
        ("NaN", &nan),
        ("no rows", &empty),
        ("wide budgets", &wide),
    ] {
        let page = html(report);
        assert_no_nan(&page);
        assert_inert(&page);
        if what != "NaN" && what != "no rows" {
            check_charts(report, &page);
        }
        let table = bench_table(report);
        assert!(
            !table.contains("NaN") && !table.contains("inf"),
            "{what}:\n{table}"
        );
        let out = String::from_utf8(csv(report)).unwrap();
        assert!(
            !out.contains("NaN") && !out.contains("inf"),
            "{what}:\n{out}"
        );
        assert_eq!(out.lines().count(), 1 + report.rows.len(), "{what}");
    }
    assert!(html(&no_scores).contains("data-chart=\"speed\""));
    write_for_browser("bench-no-scores.html", &html(&no_scores));
    write_for_browser(
        "bench-no-scores.json",
        &serde_json::to_string(&no_scores).unwrap(),
    );
    let page = html(&wide);
    write_for_browser("bench-log2.html", &page);
    write_for_browser("bench-log2.json", &serde_json::to_string(&wide).unwrap());
    assert!(page.contains("data-chart=\"throughput\" data-x-scale=\"log2\""));
    // NaN rows are left out of the charts, the others drawn
    let page = html(&nan);
    let cs = charts(&page);
    let accuracy = &cs[0];
    assert_eq!(accuracy.svg["data-chart"], "accuracy");
    let plotted: BTreeSet<&str> = accuracy
        .points
        .iter()
        .map(|p| p["data-row"].as_str())
        .collect();
    assert_eq!(plotted, BTreeSet::from(["2", "3", "4", "5", "6", "7"]));
}
