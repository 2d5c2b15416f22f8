//! Snapshots of every template over the fixtures in tests/fixtures.

use std::path::{Path, PathBuf};

use covlens_core::{ParseOptions, Profile, SourceResolver, parse_path, summarize};
use covlens_report_templates::{
    Badge, COMMENT_MARKER, Column, Comment, MemorySink, NoSources, SiteOptions, Sources, Stat,
    SummaryBy, SummaryFormat, Table, TableFormat, github_len, min_comment_chars, write_badge,
    write_comment, write_page, write_site, write_summary, write_table,
};
use serde::Deserialize;

#[derive(Deserialize)]
struct TableInput {
    heading: String,
    threshold: f64,
    columns: Vec<Column>,
    #[serde(default)]
    origins: Vec<covlens_report_templates::Origin>,
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
        let mut t = Table::build(&input.heading, input.columns, input.threshold);
        t.origins = input.origins;
        insta::assert_snapshot!("markdown", render_table(&t, TableFormat::Markdown));
        insta::assert_snapshot!("html", render_table(&t, TableFormat::Html));
        let json = render_table(&t, TableFormat::Json);
        // The JSON is the model itself.
        assert_eq!(serde_json::from_str::<Table>(&json).unwrap(), t);
        insta::assert_snapshot!("json", json);
    });
}

/// The trend column: text sparklines in Markdown, inline SVG in HTML.
#[test]
fn table_trends() {
    let input: TableInput = serde_json::from_slice(
        &std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/table/branches.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let mut t = Table::build(&input.heading, input.columns, input.threshold);
    let first = t.rows[0].name.clone();
    t.set_trends(
        4,
        |name| (name == first).then(|| vec![Some(40.0), None, Some(55.5), Some(61.0)]),
        Some(vec![Some(60.0), Some(61.0), Some(60.5), Some(62.0)]),
    );
    let md = render_table(&t, TableFormat::Markdown);
    assert!(
        md.contains("| last 4 runs |") && md.contains("▁ ▆█"),
        "{md}"
    );
    let html = render_table(&t, TableFormat::Html);
    assert_eq!(html.matches("<svg class=\"spark\"").count(), 2, "{html}");
    assert!(!html.contains("&lt;svg"));
    let json = render_table(&t, TableFormat::Json);
    assert_eq!(serde_json::from_str::<Table>(&json).unwrap(), t);
    insta::assert_snapshot!("trend_markdown", md);
    insta::assert_snapshot!("trend_html", html);
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
    let min = min_comment_chars();
    for max in [0, 10, min - 1] {
        let mut out = Vec::new();
        let e = write_comment(&mut out, &input.comment, max).unwrap_err();
        assert!(e.to_string().contains(&format!("at least {min}")), "{e}");
        assert!(out.is_empty());
    }
    for max in [min, min + 1, 200, 500, 1000] {
        let mut out = Vec::new();
        write_comment(&mut out, &input.comment, max).unwrap();
        let text = std::str::from_utf8(&out).unwrap();
        assert!(github_len(text) <= max, "{max}: {text}");
        assert!(
            text.starts_with(&format!("{COMMENT_MARKER}\n")),
            "{max}: {text}"
        );
    }
}

#[test]
fn github_len_counts_utf16_and_crlf() {
    assert_eq!(github_len("a\nb"), 4);
    assert_eq!(github_len("▲"), 1);
    assert_eq!(github_len("😀"), 2);
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn load(rel: &str) -> Profile {
    parse_path(&fixtures().join(rel), &ParseOptions::default()).unwrap()
}

#[test]
fn summaries() {
    insta::glob!("fixtures/profiles/*.out", |path| {
        let p = parse_path(path, &ParseOptions::default()).unwrap();
        let s = summarize(&p, None).unwrap();
        let mut all = String::new();
        for by in [SummaryBy::File, SummaryBy::Package, SummaryBy::Tree] {
            for format in [SummaryFormat::Table, SummaryFormat::Markdown] {
                let mut out = Vec::new();
                write_summary(&mut out, &s, by, format).unwrap();
                all.push_str(&format!("=== {by:?} {format:?}\n"));
                all.push_str(std::str::from_utf8(&out).unwrap());
            }
        }
        insta::assert_snapshot!("summary", all);
        let mut out = Vec::new();
        write_summary(&mut out, &s, SummaryBy::File, SummaryFormat::Json).unwrap();
        insta::assert_snapshot!("summary_json", String::from_utf8(out).unwrap());
    });
}

/// Columns named in a fixture: (label, profile path relative to
/// tests/fixtures).
#[derive(Deserialize)]
struct Columns {
    title: String,
    columns: Vec<(String, String)>,
    #[serde(default)]
    source_roots: Vec<(String, String)>,
}

impl Columns {
    fn read(path: &Path) -> Columns {
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    }

    fn profiles(&self) -> Vec<(String, Profile)> {
        self.columns
            .iter()
            .map(|(label, p)| (label.clone(), load(p)))
            .collect()
    }
}

#[test]
fn pages() {
    insta::glob!("fixtures/page/*.json", |path| {
        let c = Columns::read(path);
        let mut out = Vec::new();
        let opts = SiteOptions {
            title: &c.title,
            root: "",
        };
        write_page(&mut out, &opts, &c.profiles(), &NoSources).unwrap();
        let page = String::from_utf8(out).unwrap();
        // Nothing from a profile can close the boot script early.
        let boot = page.split("<script id=\"boot\"").nth(1).unwrap();
        assert_eq!(boot.matches("</script>").count(), 2, "{boot}");
        // The data, not the page's fixed style and script.
        let start = boot.find('>').unwrap() + 1;
        insta::assert_snapshot!(&boot[start..boot.find("</script>").unwrap()]);
    });
}

#[test]
fn sites() {
    insta::glob!("fixtures/site/*.json", |path| {
        let c = Columns::read(path);
        let sources: Box<dyn Sources> = if c.source_roots.is_empty() {
            Box::new(NoSources)
        } else {
            let mut b = SourceResolver::builder();
            for (prefix, dir) in &c.source_roots {
                b.source_root(prefix, fixtures().join(dir));
            }
            Box::new(b.build().unwrap())
        };
        let mut sink = MemorySink::default();
        write_site(&mut sink, &c.title, &c.profiles(), sources.as_ref()).unwrap();
        let index = String::from_utf8(sink.files.remove("index.html").unwrap()).unwrap();
        // Nothing from a profile can close the boot script early.
        let boot = index.split("<script id=\"boot\"").nth(1).unwrap();
        assert_eq!(boot.matches("</script>").count(), 2, "{boot}");
        insta::assert_snapshot!("index", index);
        let mut data = String::new();
        for (name, bytes) in &sink.files {
            data.push_str(&format!("=== {name}\n{}", String::from_utf8_lossy(bytes)));
        }
        insta::assert_snapshot!("data", data);
    });
}

/// The files of the site of `columns` with `extras` (title `t`, the tree
/// from `root`), by path.
fn site_files(
    root: &str,
    columns: &[(String, Profile)],
    sources: &dyn Sources,
    extras: &covlens_report_templates::SiteExtras,
) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut sink = MemorySink::default();
    let opts = SiteOptions { title: "t", root };
    covlens_report_templates::write_site_with_extras(&mut sink, &opts, columns, sources, extras)
        .unwrap();
    sink.files
}

/// A site file as text.
fn text_of(files: &std::collections::BTreeMap<String, Vec<u8>>, path: &str) -> String {
    String::from_utf8(files[path].clone()).unwrap()
}

/// Trend and flaky columns of the site: the data the page draws them from.
#[test]
fn site_trends_and_flaky() {
    use covlens_core::Counts;
    use covlens_report_templates::SiteExtras;
    let p = covlens_core::parse_bytes(
        b"mode: set\na.io/m/x/f.go:1.1,2.2 2 1\na.io/m/x/y/g.go:1.1,2.2 1 0\na.io/m/z/h.go:1.1,2.2 4 1\n",
        "p.out",
        &ParseOptions::default(),
    )
    .unwrap();
    let c = |covered, total| Some(Counts { covered, total });
    let extras = SiteExtras {
        trends: Some((
            3,
            [
                ("a.io/m/x".to_string(), vec![c(1, 2), None, c(2, 2)]),
                ("a.io/m/x/y".to_string(), vec![c(0, 1), c(1, 1), c(0, 1)]),
                // Only in the history: no directory for it.
                ("a.io/gone".to_string(), vec![c(1, 1), c(1, 1), c(1, 1)]),
            ]
            .into_iter()
            .collect(),
        )),
        flaky: Some([("a.io/m/x/y/g.go".to_string(), 1)].into_iter().collect()),
        ..SiteExtras::default()
    };
    let files = site_files("", &[("head".into(), p)], &NoSources, &extras);
    let index = text_of(&files, "index.html");
    assert!(
        index.contains("\"trend\":3") && index.contains("\"flaky\":true"),
        "{index}"
    );
    // x: its own package plus y below it, per run: 1/3, 1/1, 2/3.
    // Every file, the index included.
    let all: String = files
        .values()
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .collect();
    let pct = |c: f64, t: f64| format!("{:?}", c * 100.0 / t);
    let x_trend = format!(
        "\"tr\":[{},{},{}]",
        pct(1.0, 3.0),
        pct(1.0, 1.0),
        pct(2.0, 3.0)
    );
    assert!(all.contains(&x_trend), "{x_trend} not in {all}");
    // z has no history: no trend; y's flaky statement counts in x too.
    assert!(
        all.contains("\"fl\":1,\"id\":\"d2\"") || all.contains("\"fl\":1"),
        "{all}"
    );
    assert!(!all.contains("gone"));
}

/// A pull request's functions that lost coverage head the index, linked to
/// their line where the file has a page; names are HTML-escaped.
#[test]
fn site_lists_lost_functions() {
    use covlens_report_templates::{DeltaRow, FuncDelta, SiteExtras, Stat};
    use std::collections::BTreeMap;
    let p = covlens_core::parse_bytes(
        b"mode: set\na.io/m/f.go:3.1,4.2 2 1\na.io/m/<g>.go:1.1,2.2 1 0\n",
        "p.out",
        &ParseOptions::default(),
    )
    .unwrap();
    let lost = |name: &str, func: &str, line| FuncDelta {
        file: format!("m/{}", name.rsplit('/').next().unwrap()),
        name: name.into(),
        line,
        row: DeltaRow::new(
            func.into(),
            Some(Stat::new(2, 2)),
            Some(Stat::new(1, 2)),
            None,
        ),
    };
    let extras = SiteExtras {
        lost_functions: vec![
            lost("a.io/m/f.go", "T.Add", 3),
            lost("a.io/m/<g>.go", "g", 1),
        ],
        lost_unread: 1,
        ..SiteExtras::default()
    };
    // Only f.go has a source, so only it has a page.
    let sources: BTreeMap<String, Vec<u8>> = [(
        "a.io/m/f.go".to_string(),
        b"package m\n\nfunc (T) Add() {\n}\n".to_vec(),
    )]
    .into();
    let cols = [("head".into(), p.clone()), ("base".into(), p)];
    let index = text_of(&site_files("", &cols, &sources, &extras), "index.html");
    assert!(
        index.contains("Functions that lost coverage (2)"),
        "{index}"
    );
    // Files are numbered in name order: `<g>.go` is f0, f.go is f1.
    assert!(
        index.contains(r##"<a href="#f1/L3">m/f.go:3</a></td><td>100.0%</td><td>50.0%</td><td class="down">▼ -50.0</td>"##),
        "{index}"
    );
    assert!(
        index.contains("<td class=\"name\">m/&lt;g&gt;.go:1</td>"),
        "{index}"
    );
    assert!(!index.contains("<g>"), "{index}");
    assert!(
        index.contains("The functions of 1 file could not be compared"),
        "{index}"
    );

    // Without lost functions, no section.
    let plain = site_files("", &cols, &sources, &SiteExtras::default());
    let index = text_of(&plain, "index.html");
    assert!(!index.contains("id=\"lost\""));
}

/// `report --by owner`: the top level lists the groups, each with the
/// directories of its files below the root; a file in two groups counts
/// in both, the root once; group trends come from the history per group.
#[test]
fn site_grouped_by_owner() {
    use covlens_core::Counts;
    use covlens_report_templates::SiteExtras;
    let p = covlens_core::parse_bytes(
        b"mode: set\na.io/m/x/f.go:1.1,2.2 2 1\na.io/m/x/y/g.go:1.1,2.2 1 0\na.io/m/z/h.go:1.1,2.2 4 1\n",
        "p.out",
        &ParseOptions::default(),
    )
    .unwrap();
    let g = |f: &str, v: &[&str]| (f.to_string(), v.iter().map(|s| s.to_string()).collect());
    let c = |covered, total| Some(Counts { covered, total });
    let extras = SiteExtras {
        groups: Some(
            [
                g("a.io/m/x/f.go", &["alice"]),
                g("a.io/m/x/y/g.go", &["alice", "sig/node"]),
            ]
            .into_iter()
            .collect(),
        ),
        trends: Some((
            2,
            [("a.io/m/x".to_string(), vec![c(1, 2), c(2, 2)])]
                .into_iter()
                .collect(),
        )),
        group_trends: Some(
            [("alice".to_string(), vec![c(1, 4), c(3, 4)])]
                .into_iter()
                .collect(),
        ),
        ..SiteExtras::default()
    };
    let files = site_files("a.io/m", &[("head".into(), p)], &NoSources, &extras);
    let data = |id: &str| -> serde_json::Value {
        let js = text_of(&files, &format!("data/{id}.js"));
        let json = js
            .strip_prefix(&format!("covlens.dir(\"{id}\","))
            .and_then(|r| r.strip_suffix(");\n"))
            .unwrap_or_else(|| panic!("{js}"));
        serde_json::from_str(json).unwrap()
    };
    let root = data("d0");
    // The root counts every file once: 2 + 0 + 1 of 7 statements... (set
    // mode: f.go 2/2, g.go 0/1, h.go 4/4).
    assert_eq!(root["c"], serde_json::json!([[6, 7]]));
    let kids: Vec<(String, serde_json::Value)> = root["kids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["n"].as_str().unwrap().to_string(), k["c"].clone()))
        .collect();
    assert_eq!(
        kids,
        [
            ("(unowned)".to_string(), serde_json::json!([[4, 4]])),
            ("alice".to_string(), serde_json::json!([[2, 3]])),
            ("sig/node".to_string(), serde_json::json!([[0, 1]])),
        ]
    );
    // alice's trend is the group's own history; sig/node has none.
    let alice = &root["kids"][1];
    assert_eq!(alice["tr"], serde_json::json!([25.0, 75.0]));
    assert!(root["kids"][2].get("tr").is_none());
    // Below a group, directories are relative to the root: alice holds x
    // (its files f.go and, in y, g.go).
    let alice_dir = data(alice["id"].as_str().unwrap());
    let names: Vec<&str> = alice_dir["kids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["n"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["x"]);
    assert_eq!(alice_dir["path"], "alice");
}

/// `// coverage-ignore` in a site: each column loses the marked blocks,
/// the totals say what was left out per column, and the file's data
/// greys the marked block and shows its function without numbers.
#[test]
fn site_left_out_by_annotations() {
    use covlens_report_templates::{LeftOutColumn, SiteExtras};
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("f.go"),
        "package m\n\nfunc F(x int) int {\n\tif x < 0 { // coverage-ignore: cannot happen\n\t\tpanic(x)\n\t}\n\treturn x\n}\n\nfunc G() { // coverage-ignore\n\tprintln()\n}\n",
    )
    .unwrap();
    let profile = |counts: [u8; 4]| {
        let text = format!(
            "mode: count\na.io/m/f.go:3.19,4.12 1 {}\na.io/m/f.go:4.12,6.3 1 {}\na.io/m/f.go:7.2,7.10 1 {}\na.io/m/f.go:10.11,12.2 1 {}\n",
            counts[0], counts[1], counts[2], counts[3]
        );
        covlens_core::parse_bytes(text.as_bytes(), "p.out", &ParseOptions::default()).unwrap()
    };
    let mut b = SourceResolver::builder();
    b.source_root("a.io/m", dir.path());
    let sources = b.build().unwrap();
    let mut extras = SiteExtras::default();
    let (columns, reports) = extras.leave_out_annotated(
        vec![
            ("head".into(), profile([3, 0, 3, 0])),
            ("base".into(), profile([1, 1, 1, 2])),
        ],
        None,
        &sources,
    );
    assert_eq!(reports.len(), 2);
    let left = &extras.left_out.as_ref().unwrap().columns;
    assert_eq!(
        left.iter()
            .map(|l| (l.statements.total, l.statements.covered))
            .collect::<Vec<_>>(),
        [(2, 0), (2, 2)]
    );
    assert!(left.iter().all(|l| *l == LeftOutColumn { files: 1, ..*l }));
    let files = site_files("", &columns, &sources, &extras);
    let index = text_of(&files, "index.html");
    let totals = index
        .split("<table class=\"totals\" id=\"totals\">")
        .nth(1)
        .unwrap()
        .split("</table>")
        .next()
        .unwrap();
    insta::assert_snapshot!("left_out_totals", totals);
    insta::assert_snapshot!("left_out_file", text_of(&files, "data/f0.js"));
}

/// A file page greys the blocks left out of the column whose blocks it
/// shows, never another column's (a base's sit where its own source had
/// them).
#[test]
fn site_greys_only_the_shown_columns_left_out_blocks() {
    use covlens_core::Block;
    use covlens_report_templates::{LeftOut, LeftOutColumn, SiteExtras};
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("f.go"),
        "package m\n\nfunc F() {\n\tprintln()\n}\n",
    )
    .unwrap();
    let p = covlens_core::parse_bytes(
        b"mode: set\na.io/m/f.go:3.10,5.2 1 1\n",
        "p.out",
        &ParseOptions::default(),
    )
    .unwrap();
    let mut b = SourceResolver::builder();
    b.source_root("a.io/m", dir.path());
    let sources = b.build().unwrap();
    let elsewhere = vec![Block::new((4, 2), (4, 11), 1, 0)];
    let page = |blocks: Vec<std::collections::HashMap<String, Vec<Block>>>| {
        let extras = SiteExtras {
            left_out: Some(LeftOut {
                columns: vec![LeftOutColumn::default(); 2],
                blocks,
            }),
            ..SiteExtras::default()
        };
        let columns = [("head".into(), p.clone()), ("base".into(), p.clone())];
        text_of(&site_files("", &columns, &sources, &extras), "data/f0.js")
    };
    let file = |blocks: &Vec<Block>| [("a.io/m/f.go".to_string(), blocks.clone())].into();
    let base_only = page(vec![Default::default(), file(&elsewhere)]);
    assert!(!base_only.contains("ign"), "{base_only}");
    let head = page(vec![file(&elsewhere), Default::default()]);
    assert!(
        head.contains("class=\\\"ign\\\"") && head.contains("\"ig\":1"),
        "{head}"
    );
}

/// The comment's row of what annotations left out shows only when they
/// left something out; files not checked are said either way.
#[test]
fn comment_left_out_row_only_when_something_was() {
    let mut input: CommentInput =
        serde_json::from_str(include_str!("fixtures/comment/left-out.json")).unwrap();
    let render = |c: &Comment| {
        let mut out = Vec::new();
        write_comment(&mut out, c, 65536).unwrap();
        String::from_utf8(out).unwrap()
    };
    assert!(render(&input.comment).contains("| Left out by `// coverage-ignore` | 12 | 14 | |"));
    input.comment.left_out = Some(covlens_report_templates::CommentLeftOut {
        base: 0,
        head: 0,
        unchecked: 2,
    });
    let text = render(&input.comment);
    assert!(!text.contains("| Left out by"), "{text}");
    assert!(
        text.contains("The annotations of 2 files could not be read"),
        "{text}"
    );
}

/// Names that are not clean land in the directory of their clean twin;
/// rows that would show the same name show their whole names instead.
#[test]
fn site_rows_of_twin_names_show_whole_names() {
    use covlens_report_templates::SiteExtras;
    let p = covlens_core::parse_bytes(
        b"mode: set\na.io/m/x/f.go:1.1,2.2 2 1\na.io/m/x//f.go:1.1,2.2 1 0\na.io/m/x/g.go:1.1,2.2 4 1\n",
        "p.out",
        &ParseOptions::default(),
    )
    .unwrap();
    let files = site_files(
        "",
        &[("head".into(), p)],
        &NoSources,
        &SiteExtras::default(),
    );
    let all: String = files
        .values()
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .collect();
    assert!(all.contains("\"n\":\"a.io/m/x/f.go\""), "{all}");
    assert!(all.contains("\"n\":\"a.io/m/x//f.go\""), "{all}");
    // A name of its own keeps the short form.
    assert!(all.contains("\"n\":\"g.go\""), "{all}");
    assert!(!all.contains("\"n\":\"f.go\""), "{all}");
}
