//! `covlens filter --ignore-annotations` against go/ast's reading of the
//! same `// coverage-ignore` comments.
//!
//! `fixtures/ignoreprog` marks code in every place an annotation can stand
//! (function, if, else, switch and select bodies, case and default clauses,
//! a function literal, a whole file) and has text that only looks like one.
//! Its `oracle` command finds the marked blocks with go/parser; the test
//! makes a real profile with `go test -coverprofile`, leaves out the
//! profile's blocks that start in a marked range, and compares the result
//! with what covlens writes and says it left out.

mod common;
use common::{covlens, go, repo, require_go};

/// A profile line's file and start position.
fn start_of(line: &str) -> (&str, (u32, u32)) {
    let (file, rest) = line.rsplit_once(':').unwrap();
    let (start, _) = rest.split_once(',').unwrap();
    let (l, c) = start.split_once('.').unwrap();
    (file, (l.parse().unwrap(), c.parse().unwrap()))
}

fn position(s: &str) -> (u32, u32) {
    let (l, c) = s.split_once('.').unwrap();
    (l.parse().unwrap(), c.parse().unwrap())
}

fn output(cmd: &mut std::process::Command) -> (String, String) {
    let o = cmd.output().unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    assert!(o.status.success(), "{cmd:?}: {}", text(&o.stderr));
    (text(&o.stdout), text(&o.stderr))
}

#[test]
#[ignore = "needs go"]
fn filter_leaves_out_what_go_ast_finds_annotated() {
    require_go();
    let dir = repo().join("fixtures/ignoreprog");
    let t = tempfile::tempdir().unwrap();
    let profile = t.path().join("c.out");
    output(
        go().current_dir(&dir)
            .arg("test")
            .arg(format!("-coverprofile={}", profile.display()))
            .arg("."),
    );
    let (marked, _) = output(go().current_dir(&dir).args([
        "run",
        "./oracle",
        "example.com/ignoreprog/",
        "calc.go",
        "gen.go",
    ]));
    // Per file: whole, or the marked ranges.
    let mut whole = Vec::new();
    let mut ranges = Vec::new();
    for l in marked.lines() {
        match l.split(' ').collect::<Vec<_>>()[..] {
            [file, "whole"] => whole.push(file.to_string()),
            [file, start, last] => ranges.push((file.to_string(), position(start), position(last))),
            _ => panic!("oracle: {l}"),
        }
    }
    assert_eq!(whole, ["example.com/ignoreprog/gen.go"]);
    assert!(ranges.len() >= 9, "{marked}");

    let text = std::fs::read_to_string(&profile).unwrap();
    let mut lines = text.lines();
    let mode = lines.next().unwrap();
    let mut want = vec![mode.to_string()];
    let (mut stmts, mut covered, mut blocks) = (0, 0, 0);
    let mut used = vec![false; ranges.len()];
    for l in lines {
        let (file, start) = start_of(l);
        let inside =
            |(f, s, e): &(String, (u32, u32), (u32, u32))| f == file && *s <= start && start <= *e;
        let mut hit = false;
        for (i, r) in ranges.iter().enumerate() {
            if inside(r) {
                used[i] = true;
                hit = true;
            }
        }
        if hit || whole.iter().any(|w| w == file) {
            let mut nums = l.rsplit(' ');
            let count: u64 = nums.next().unwrap().parse().unwrap();
            let n: u64 = nums.next().unwrap().parse().unwrap();
            stmts += n;
            covered += if count > 0 { n } else { 0 };
            blocks += 1;
        } else {
            want.push(l.to_string());
        }
    }
    // Every place the fixture marks holds a block of the profile (an else
    // body's own `{` range is within the range Go's block starts in).
    let within = |i: usize| {
        let (f, s, e) = &ranges[i];
        (0..ranges.len()).any(|j| {
            let (g, t, u) = &ranges[j];
            j != i && used[j] && f == g && t <= s && e <= u
        })
    };
    assert!(
        (0..ranges.len()).all(|i| used[i] || within(i)),
        "{ranges:?} {used:?}"
    );

    let filtered = t.path().join("f.out");
    let (_, said) = output(
        covlens()
            .current_dir(&dir)
            .args(["filter", "--ignore-annotations"])
            .arg(&profile)
            .arg("-o")
            .arg(&filtered)
            .arg("--ignored-json")
            .arg(t.path().join("ignored.json")),
    );
    let got = std::fs::read_to_string(&filtered).unwrap();
    assert_eq!(got.lines().collect::<Vec<_>>(), want);
    assert!(
        said.starts_with(&format!(
            "covlens: coverage-ignore: left out {stmts} statements ({covered} covered) in \
             {blocks} blocks of 2 files\n"
        )),
        "{said}"
    );
    assert!(
        said.contains("covlens: coverage-ignore: example.com/ignoreprog/gen.go: whole file, "),
        "{said}"
    );
    assert!(!said.contains("not checked"), "{said}");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(t.path().join("ignored.json")).unwrap()).unwrap();
    let files = json["files"].as_array().unwrap();
    let total: u64 = files
        .iter()
        .map(|f| f["statements"]["total"].as_u64().unwrap())
        .sum();
    let listed: u64 = files.iter().map(|f| f["blocks"].as_u64().unwrap()).sum();
    assert_eq!((total, listed), (stmts, blocks));
    assert_eq!(json["unchecked"].as_array().unwrap().len(), 0);
}

/// Without sources, nothing is left out, and every file is said to be
/// unchecked.
#[test]
fn filter_without_sources_keeps_everything_and_says_so() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("c.out");
    std::fs::write(
        &p,
        "mode: set\nexample.com/none/a.go:1.1,2.2 1 1\nexample.com/none/b.go:1.1,2.2 1 0\n",
    )
    .unwrap();
    let out = t.path().join("f.out");
    let (_, said) = output(
        covlens()
            .current_dir(t.path())
            .args(["filter", "--ignore-annotations"])
            .arg(&p)
            .arg("-o")
            .arg(&out),
    );
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        std::fs::read_to_string(&p).unwrap()
    );
    assert!(
        said.contains("left out 0 statements (0 covered) in 0 blocks of 0 files"),
        "{said}"
    );
    assert!(
        said.contains("2 files not checked for annotations, all their blocks kept"),
        "{said}"
    );
    assert!(
        said.contains("not checked: example.com/none/a.go: "),
        "{said}"
    );
}
