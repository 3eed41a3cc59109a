//! The HTML report: hostile input renders as text, every entity is a mark at its offsets, bad
//! lines are listed, output is deterministic, a BBC-sized corpus renders fast.

use std::path::PathBuf;
use std::time::Instant;

use newsmill_report::{read_corpus_path, write_report, Corpus, Record, ReportOptions};

mod common;
use common::unescape;

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn render(corpus: &Corpus, opts: &ReportOptions) -> String {
    let mut out = Vec::new();
    write_report(corpus, opts, &mut out).expect("report");
    String::from_utf8(out).expect("the report is UTF-8")
}

/// Every tag name that opens an element in `html` (`<name`), in order.
fn tags(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    let b = html.as_bytes();
    for (i, _) in html.match_indices('<') {
        let rest = &b[i + 1..];
        let n = rest
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'!')
            .count();
        if n > 0 {
            out.push(String::from_utf8_lossy(&rest[..n]).to_ascii_lowercase());
        }
    }
    out
}

/// The elements the report itself writes; anything else came from the input.
const ALLOWED: &[&str] = &[
    "!doctype", "html", "head", "meta", "title", "style", "body", "header", "main", "section",
    "h1", "h2", "h3", "p", "ul", "li", "b", "div", "svg", "g", "text", "rect", "input", "span",
    "table", "thead", "tbody", "tr", "th", "td", "a", "bdi", "code", "mark", "details", "summary",
    "article", "br", "script",
];

#[test]
fn hostile_input_renders_as_text() {
    let corpus = read_corpus_path(&data("hostile.jsonl")).unwrap();
    let html = render(&corpus, &ReportOptions::default());
    for t in tags(&html) {
        assert!(ALLOWED.contains(&t.as_str()), "element <{t}> in the report");
    }
    assert_eq!(
        html.matches("<script").count(),
        1,
        "only the report's own script"
    );
    assert_eq!(html.matches("</script").count(), 1);
    assert_eq!(
        html.matches("</style").count(),
        1,
        "the input cannot close the style"
    );
    let head_title = &html[html.find("<title>").unwrap() + 7..html.find("</title>").unwrap()];
    assert!(
        !head_title.contains('<'),
        "the input cannot close the title"
    );
    assert!(!html.contains("<img") && !html.contains("<svg onload"));
    // every attribute an input string could reach is quoted and escaped: no raw quote
    // followed by an event handler, no javascript: link
    for bad in ["\" onerror", "href=\"javascript", "href='javascript"] {
        assert!(!html.contains(bad), "{bad:?} in the report");
    }
    for (i, _) in html.match_indices("href=\"") {
        assert!(
            html[i + 6..].starts_with("#a"),
            "a link that is not an anchor"
        );
    }
    // control and bidi characters are shown as marks, never written
    for c in html.chars() {
        assert!(
            !newsmill_report::html::is_hidden(c) || c == '\n',
            "U+{:04X} in the report",
            c as u32
        );
    }
    assert!(html.contains("[U+202E]") && html.contains("[U+0007]") && html.contains("[U+0000]"));
    // the strings are there, as text
    assert!(
        html.contains("&#60;script&#62;document.title=&#39;PWNED&#39;")
            || html.contains("&lt;script&gt;document.title")
    );
    // CSP: only the script with this hash may run
    assert!(html.contains("script-src &#39;sha256-") || html.contains("script-src 'sha256-"));
}

#[test]
fn bad_records_are_listed() {
    let corpus = read_corpus_path(&data("hostile.jsonl")).unwrap();
    let kinds: Vec<&str> = corpus
        .records
        .iter()
        .map(|r| match r {
            Record::Article { .. } => "article",
            Record::Error { .. } => "error",
            Record::Unreadable { .. } => "unreadable",
        })
        .collect();
    assert_eq!(
        kinds,
        ["article", "article", "error", "unreadable", "unreadable"]
    );
    let html = render(&corpus, &ReportOptions::default());
    // error record, two unreadable lines, two warnings
    assert_eq!(html.matches("<tr class=\"error\">").count(), 3);
    assert_eq!(html.matches("<tr class=\"warning\">").count(), 2);
    // the record whose offsets do not fit the text: notes instead of marks
    assert!(html.contains("sentence 0: offsets 0..99 outside the text (11 characters)"));
    assert!(html.contains("entity 0: offsets 50..60 outside the text"));
    // its text is still shown, whole
    assert!(html.contains("<div class=\"text\" dir=\"auto\">Short text.</div>"));
}

/// `<mark ... data-label="L" data-start="S" data-end="E" ...>TEXT</mark>` → (L, S, E, TEXT).
fn marks(html: &str) -> Vec<(String, usize, usize, String)> {
    let attr = |tag: &str, name: &str| -> String {
        let key = format!(" {name}=\"");
        let i = tag.find(&key).map(|i| i + key.len()).unwrap_or(0);
        tag[i..].split('"').next().unwrap_or("").to_string()
    };
    let mut out = Vec::new();
    for (i, _) in html.match_indices("<mark class=\"entity") {
        let end_tag = html[i..].find('>').unwrap() + i;
        let tag = &html[i..end_tag];
        let close = html[end_tag..].find("</mark>").unwrap() + end_tag;
        out.push((
            attr(tag, "data-label"),
            attr(tag, "data-start").parse().unwrap(),
            attr(tag, "data-end").parse().unwrap(),
            html[end_tag + 1..close].to_string(),
        ));
    }
    out
}

#[test]
fn every_entity_is_a_mark_at_its_offsets() {
    for name in ["examples.annotated.jsonl", "hostile.jsonl"] {
        let corpus = read_corpus_path(&data(name)).unwrap();
        let html = render(&corpus, &ReportOptions::default());
        let got = marks(&html);
        let mut want = Vec::new();
        for a in corpus.articles() {
            let chars = a.text.as_deref().unwrap_or("").chars().count();
            for e in a
                .entities
                .iter()
                .filter(|e| e.start < e.end && e.end <= chars)
            {
                want.push((e.label.clone(), e.start, e.end, e.text.clone()));
            }
        }
        assert!(!want.is_empty());
        let got: Vec<_> = got
            .into_iter()
            .map(|(l, s, e, t)| {
                // control characters are shown as [U+XXXX] spans
                let t = unescape(&t)
                    .replace("<span class=\"cc\">[U+202E]</span>", "\u{202e}")
                    .replace("<span class=\"cc\">[U+202C]</span>", "\u{202c}")
                    .replace("<span class=\"cc\">[U+0007]</span>", "\u{7}");
                (newsmill_report::html::visible(&unescape(&l)), s, e, t)
            })
            .collect();
        let want: Vec<_> = want
            .into_iter()
            .map(|(l, s, e, t)| (newsmill_report::html::visible(&l), s, e, t))
            .collect();
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn deterministic() {
    let corpus = read_corpus_path(&data("examples.annotated.jsonl")).unwrap();
    let a = render(&corpus, &ReportOptions::default());
    let b = render(&corpus, &ReportOptions::default());
    assert_eq!(a, b);
}

#[test]
fn max_articles_names_what_is_left_out() {
    let corpus = read_corpus_path(&data("examples.annotated.jsonl")).unwrap();
    let n = corpus.articles().count();
    let html = render(
        &corpus,
        &ReportOptions {
            max_articles: 1,
            ..Default::default()
        },
    );
    assert_eq!(html.matches("<article id=").count(), 1);
    assert_eq!(html.matches("not shown</span>").count(), n - 1);
    assert!(html.contains(&format!("{} articles are not shown in full", n - 1)));
}

/// A corpus the size of the BBC one (2,225 articles, made of copies of the examples) renders
/// in well under the 10 s the issue allows, with the default cap.
#[test]
fn bbc_sized_corpus_is_fast() {
    let one = read_corpus_path(&data("examples.annotated.jsonl")).unwrap();
    let mut corpus = Corpus {
        source: "synthetic".into(),
        records: Vec::new(),
    };
    while corpus.records.len() < 2225 {
        corpus.records.extend(one.records.iter().cloned());
    }
    corpus.records.truncate(2225);
    let t0 = Instant::now();
    let html = render(&corpus, &ReportOptions::default());
    let secs = t0.elapsed().as_secs_f64();
    assert!(secs < 10.0, "{secs:.1}s");
    assert_eq!(
        html.matches("<article id=").count(),
        ReportOptions::default().max_articles
    );
}
