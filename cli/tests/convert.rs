//! End-to-end tests of `covlens convert`.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

mod common;
use common::{repo, require_python3};

fn fixture(name: &str) -> PathBuf {
    repo().join("fixtures/convert").join(name)
}

fn covlens(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = common::covlens();
    c.args(args).env_remove("SOURCE_DATE_EPOCH");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "covlens failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn attr(xml: &str, tag: &str, name: &str) -> String {
    let start = xml.find(&format!("<{tag} ")).unwrap();
    let elem = &xml[start..start + xml[start..].find('>').unwrap()];
    let key = format!(" {name}=\"");
    let v = &elem[elem.find(&key).unwrap() + key.len()..];
    v[..v.find('"').unwrap()].to_string()
}

#[test]
fn lcov_to_file_with_totals_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cov.info");
    let o = covlens(
        &[
            "convert",
            fixture("go-test-count.out").to_str().unwrap(),
            "--to",
            "lcov",
            "-o",
            out.to_str().unwrap(),
            "--strip-prefix",
            "example.com/demo",
            "--source-dir",
            "/src",
        ],
        &[],
    );
    assert_eq!(ok(&o), "");
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "covlens: convert: 4 of 5 statements covered (80.0%); 6 of 6 lines hit (100.0%)\n"
    );
    let lcov = std::fs::read_to_string(&out).unwrap();
    assert!(lcov.starts_with("TN:\nSF:/src/demo.go\nDA:4,3\n"), "{lcov}");
    assert!(lcov.ends_with("LF:6\nLH:6\nend_of_record\n"));
    // Only the output is left behind, no temporary file.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn json_from_stdin_quiet() {
    let mut c = Command::new(env!("CARGO_BIN_EXE_covlens"))
        .args(["convert", "-", "--to", "json", "-q"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin
        .take()
        .unwrap()
        .write_all(b"mode: atomic\na/b.go:1.1,2.2 3 7\na/b.go:3.1,3.9 1 0\n")
        .unwrap();
    let o = c.wait_with_output().unwrap();
    let v: serde_json::Value = serde_json::from_str(&ok(&o)).unwrap();
    assert!(o.stderr.is_empty());
    assert_eq!(v["mode"], "atomic");
    assert_eq!(
        v["totals"],
        serde_json::json!({"covered": 3, "total": 4, "percent": 75.0})
    );
    assert_eq!(
        v["files"][0]["blocks"][0],
        serde_json::json!([1, 1, 2, 2, 3, 7])
    );
}

#[test]
fn cobertura_timestamp_is_reproducible() {
    let f = fixture("kubernetes-excerpt.out");
    let f = f.to_str().unwrap();
    let xml = ok(&covlens(&["convert", f, "--to", "cobertura"], &[]));
    assert_eq!(attr(&xml, "coverage", "timestamp"), "0");
    let xml = ok(&covlens(
        &["convert", f, "--to", "cobertura"],
        &[("SOURCE_DATE_EPOCH", "1700000000")],
    ));
    assert_eq!(attr(&xml, "coverage", "timestamp"), "1700000000000");
    let xml = ok(&covlens(
        &["convert", f, "--to", "cobertura", "--timestamp", "42"],
        &[("SOURCE_DATE_EPOCH", "1700000000")],
    ));
    assert_eq!(attr(&xml, "coverage", "timestamp"), "42");
    assert_eq!(
        attr(&xml, "coverage", "version"),
        concat!("covlens ", env!("CARGO_PKG_VERSION"))
    );
    // Statement-exact by default, line-based on request.
    assert_eq!(attr(&xml, "coverage", "lines-covered"), "35");
    assert_eq!(attr(&xml, "coverage", "lines-valid"), "43");
    let xml = ok(&covlens(
        &[
            "convert",
            f,
            "--to",
            "cobertura",
            "--cobertura-counts",
            "lines",
        ],
        &[],
    ));
    assert_eq!(attr(&xml, "coverage", "lines-covered"), "76");
    assert_eq!(attr(&xml, "coverage", "lines-valid"), "88");
}

#[test]
fn bad_source_date_epoch_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cov.xml");
    let o = covlens(
        &[
            "convert",
            fixture("names.out").to_str().unwrap(),
            "--to",
            "cobertura",
            "-o",
            out.to_str().unwrap(),
        ],
        &[("SOURCE_DATE_EPOCH", "yesterday")],
    );
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("SOURCE_DATE_EPOCH"));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

/// A block spanning more lines than any Go source (4 billion here; the
/// issue's 48-byte profile claimed 16,777,000) is clipped at 2^20 line
/// records per file, and stderr says what was left out, also with `-q`;
/// the statement totals keep it.
#[test]
fn spans_past_any_source_are_clipped_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.out");
    std::fs::write(
        &input,
        "mode: set\na.go:1.1,4000000000.2 1 1\nb.go:3.1,4.2 1 0\n",
    )
    .unwrap();
    let max = 1u64 << 20;
    let warning = format!(
        "covlens: warning: \"a.go\": blocks span more than {max} lines (more than any Go \
         source has), or the profile more than {} in all; line records stop at line {max}: {} more lines ({} of them hit) left \
         out (statement totals count every block)\n",
        1u64 << 24,
        4_000_000_000 - max,
        4_000_000_000 - max
    );
    for to in ["lcov", "cobertura"] {
        let out = dir.path().join(format!("cov.{to}"));
        let o = covlens(
            &[
                "convert",
                input.to_str().unwrap(),
                "--to",
                to,
                "-q",
                "-o",
                out.to_str().unwrap(),
            ],
            &[],
        );
        ok(&o);
        assert_eq!(String::from_utf8_lossy(&o.stderr), warning, "{to}");
        let text = std::fs::read_to_string(&out).unwrap();
        let records = if to == "lcov" {
            text.matches("\nDA:").count()
        } else {
            text.matches("<line number=").count()
        };
        assert_eq!(records as u64, max + 2, "{to}");
        if to == "cobertura" {
            assert_eq!(attr(&text, "coverage", "lines-valid"), "2");
            assert_eq!(attr(&text, "coverage", "lines-covered"), "1");
        }
    }
    // Without -q, the totals follow the warning.
    let o = covlens(&["convert", input.to_str().unwrap(), "--to", "lcov"], &[]);
    ok(&o);
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        format!(
            "{warning}covlens: convert: 1 of 2 statements covered (50.0%); \
             {} of {} lines hit (100.0%)\n",
            max,
            max + 2
        )
    );
}

/// Every fixture's Cobertura output parses as XML and keeps odd file names
/// intact (checked with Python's parser).
#[test]
#[ignore = "needs python3"]
fn cobertura_is_well_formed_xml() {
    require_python3();
    let script = r#"
import sys, xml.dom.minidom
d = xml.dom.minidom.parse(sys.stdin.buffer)
root = d.documentElement
assert root.tagName == "coverage"
for c in d.getElementsByTagName("class"):
    print(c.getAttribute("filename"))
"#;
    for name in [
        "names.out",
        "overlap.out",
        "empty.out",
        "kubernetes-excerpt.out",
    ] {
        let xml = ok(&covlens(
            &[
                "convert",
                fixture(name).to_str().unwrap(),
                "--to",
                "cobertura",
            ],
            &[],
        ));
        let mut py = Command::new("python3")
            .args(["-c", script])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        py.stdin.take().unwrap().write_all(xml.as_bytes()).unwrap();
        let o = py.wait_with_output().unwrap();
        assert!(
            o.status.success(),
            "{name}: {}\n{xml}",
            String::from_utf8_lossy(&o.stderr)
        );
        if name == "names.out" {
            let names = String::from_utf8(o.stdout).unwrap();
            assert!(
                names.contains("example.com/m/<tag>&\"quote'.go\n"),
                "{names}"
            );
            assert!(names.contains("example.com/m/tab\there.go\n"), "{names}");
            assert!(names.contains("example.com/m/dir with space/a:b.go\n"));
        }
    }
}

/// `covlens explain` on the real Kubernetes profile against a reference
/// written the slow way: every line of every block expanded.
#[test]
fn explain_counts_lines_as_a_line_by_line_expansion_does() {
    use std::collections::{BTreeMap, HashMap};
    let path = repo().join("fixtures/public/kubernetes-v1.32.0.coverage.txt");
    let text = std::fs::read_to_string(&path).unwrap();
    // Repeated blocks (several test binaries) count once, covered if any ran.
    let mut blocks: HashMap<(&str, &str), (u64, u64)> = HashMap::new();
    for l in text.lines().skip(1) {
        let (file, rest) = l.rsplit_once(':').unwrap();
        let mut f = rest.split(' ');
        let (range, stmts, count) = (f.next().unwrap(), f.next().unwrap(), f.next().unwrap());
        let e = blocks.entry((file, range)).or_default();
        e.0 = stmts.parse().unwrap();
        e.1 = e.1.max(count.parse().unwrap());
    }
    // Per file: statements, covered statements, and per line (max, min).
    type Lines = BTreeMap<u32, (u64, u64)>;
    let mut files: BTreeMap<&str, (u64, u64, Lines)> = BTreeMap::new();
    for ((file, range), (stmts, count)) in blocks {
        let f = files.entry(file).or_default();
        f.0 += stmts;
        f.1 += if count > 0 { stmts } else { 0 };
        if stmts == 0 {
            continue;
        }
        let (start, end) = range.split_once(',').unwrap();
        let line = |p: &str| -> (u32, u32) {
            let (l, c) = p.split_once('.').unwrap();
            (l.parse().unwrap(), c.parse().unwrap())
        };
        let ((sl, _), (el, ec)) = (line(start), line(end));
        let last = if el > sl && ec <= 1 { el - 1 } else { el };
        for n in sl..=last {
            let e = f.2.entry(n).or_insert((count, count));
            *e = (e.0.max(count), e.1.min(count));
        }
    }

    let o = covlens(
        &[
            "explain",
            path.to_str().unwrap(),
            "--by",
            "file",
            "--top",
            "0",
            "--format",
            "json",
        ],
        &[],
    );
    let v: serde_json::Value = serde_json::from_str(&ok(&o)).unwrap();
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), files.len());
    assert_eq!(v["more"], 0);
    let mut partial_files = 0;
    for r in rows {
        let (stmts, covered, lines) = &files[r["name"].as_str().unwrap()];
        let ran = lines.values().filter(|c| c.0 > 0).count() as u64;
        let fully = lines.values().filter(|c| c.1 > 0).count() as u64;
        assert_eq!(r["statements"]["total"], *stmts, "{r}");
        assert_eq!(r["statements"]["covered"], *covered, "{r}");
        assert_eq!(r["lines"], lines.len() as u64, "{r}");
        assert_eq!(r["lines_ran"], ran, "{r}");
        assert_eq!(r["lines_fully_ran"], fully, "{r}");
        partial_files += usize::from(ran > fully);
    }
    assert!(partial_files > 10, "the profile has partial lines");
}
