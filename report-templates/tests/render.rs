//! Snapshots of every template over the fixtures in tests/fixtures.

use covlens_report_templates::{
    Badge, Column, Comment, Stat, Table, TableFormat, github_len, write_badge, write_comment,
    write_table,
};
use serde::Deserialize;

#[derive(Deserialize)]
struct TableInput {
    heading: String,
    threshold: f64,
    columns: Vec<Column>,
}

#[derive(Deserialize)]
struct CommentInput {
    max_chars: usize,
    comment: Comment,
}

fn render_table(t: &Table, f: TableFormat) -> String {
    let mut out = Vec::new();
    write_table(&mut out, t, f).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn tables() {
    insta::glob!("fixtures/table/*.json", |path| {
        let input: TableInput = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let t = Table::build(&input.heading, input.columns, input.threshold);
        insta::assert_snapshot!("markdown", render_table(&t, TableFormat::Markdown));
        insta::assert_snapshot!("html", render_table(&t, TableFormat::Html));
        let json = render_table(&t, TableFormat::Json);
        // The JSON is the model itself.
        assert_eq!(serde_json::from_str::<Table>(&json).unwrap(), t);
        insta::assert_snapshot!("json", json);
    });
}

#[test]
fn comments() {
    insta::glob!("fixtures/comment/*.json", |path| {
        let input: CommentInput = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let mut out = Vec::new();
        let fit = write_comment(&mut out, &input.comment, input.max_chars).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("<!-- covlens -->\n"));
        assert!(
            github_len(&text) <= input.max_chars,
            "{} > {}",
            github_len(&text),
            input.max_chars
        );
        assert_eq!(fit.len, github_len(&text));
        insta::assert_snapshot!(text);
    });
}

#[test]
fn badges() {
    insta::glob!("fixtures/badge/*.json", |path| {
        let input: Vec<(String, u64, u64)> =
            serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let mut all = String::new();
        for (label, covered, total) in input {
            let mut out = Vec::new();
            write_badge(
                &mut out,
                &Badge::coverage(&label, &Stat::new(covered, total)),
            )
            .unwrap();
            all.push_str(&String::from_utf8(out).unwrap());
            all.push('\n');
        }
        insta::assert_snapshot!(all);
    });
}

#[test]
fn tiny_limit_is_still_respected() {
    let input: CommentInput =
        serde_json::from_str(include_str!("fixtures/comment/changes.json")).unwrap();
    for max in [0, 10, 200, 500, 1000] {
        let mut out = Vec::new();
        write_comment(&mut out, &input.comment, max).unwrap();
        assert!(github_len(std::str::from_utf8(&out).unwrap()) <= max);
    }
}

#[test]
fn github_len_counts_utf16_and_crlf() {
    assert_eq!(github_len("a\nb"), 4);
    assert_eq!(github_len("▲"), 1);
    assert_eq!(github_len("😀"), 2);
}
