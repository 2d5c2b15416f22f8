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

/// `check` with `exclude.annotations` (the config key, or the flag) counts
/// what `filter --ignore-annotations` writes, and says what it left out.
#[test]
fn check_counts_what_filter_leaves() {
    let dir = repo().join("fixtures/ignoreprog");
    let t = tempfile::tempdir().unwrap();
    let filtered = t.path().join("f.out");
    output(covlens().current_dir(&dir).args([
        "filter",
        "cover.out",
        "--ignore-annotations",
        "-o",
        filtered.to_str().unwrap(),
        "--ignored-json",
        t.path().join("ignored.json").to_str().unwrap(),
    ]));
    let config = t.path().join("policy.yml");
    std::fs::write(
        &config,
        "threshold: {total: 1}\nexclude: {annotations: true}\n",
    )
    .unwrap();
    let check = |args: &[&str]| {
        let (out, said) = output(covlens().current_dir(&dir).arg("check").args(args).args([
            "--format",
            "json",
            "--threshold-total",
            "1",
        ]));
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        (v["checked"].clone(), said)
    };
    let (of_filtered, _) = check(&[filtered.to_str().unwrap()]);
    let (of_raw, _) = check(&["cover.out"]);
    let (by_config, said) = check(&["cover.out", "--config", config.to_str().unwrap()]);
    let (by_flag, _) = check(&["cover.out", "--ignore-annotations"]);
    assert_eq!(by_config, by_flag);
    assert_eq!(by_config["total"], of_filtered["total"]);
    assert_ne!(of_raw["total"], of_filtered["total"]);
    assert_eq!(of_raw.get("annotations"), None);
    let ignored: serde_json::Value =
        serde_json::from_slice(&std::fs::read(t.path().join("ignored.json")).unwrap()).unwrap();
    let files = ignored["files"].as_array().unwrap();
    let sum = |k: &str| -> u64 {
        files
            .iter()
            .map(|f| f["statements"][k].as_u64().unwrap())
            .sum()
    };
    let a = &by_config["annotations"];
    assert_eq!(a["statements"].as_u64(), Some(sum("total")));
    assert_eq!(a["covered"].as_u64(), Some(sum("covered")));
    assert_eq!(a["files"].as_u64(), Some(files.len() as u64));
    assert_eq!(a["unchecked_files"], 0);
    let removed = of_raw["total"]["total"].as_u64().unwrap()
        - of_filtered["total"]["total"].as_u64().unwrap();
    assert_eq!(removed, sum("total"));
    assert!(
        said.contains("covlens: coverage-ignore: left out "),
        "{said}"
    );
}

/// A change from a base to a head, in `t`: checkouts `head/` (the fixture)
/// and `base/` (two more lines after the package clause, and one
/// annotation of Div's missing), `d.diff` between them, and their profiles
/// `head.out` and `base.out` (the fixture's, calc.go's lines moved for the
/// base).
fn base_and_head(t: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let fixture = repo().join("fixtures/ignoreprog");
    let (head, base) = (t.join("head"), t.join("base"));
    for d in [&head, &base] {
        std::fs::create_dir(d).unwrap();
        for f in ["go.mod", "calc.go", "gen.go"] {
            std::fs::copy(fixture.join(f), d.join(f)).unwrap();
        }
    }
    // The base had two more lines after the package clause, and one of
    // Div's annotations was not there yet.
    let calc = std::fs::read_to_string(fixture.join("calc.go")).unwrap();
    let lines: Vec<&str> = calc.lines().collect();
    assert_eq!(lines[2], "package calc");
    let div = lines
        .iter()
        .position(|l| *l == "\tif b == 0 { // coverage-ignore")
        .unwrap();
    let mut old: Vec<&str> = lines.clone();
    old[div] = "\tif b == 0 {";
    old.splice(3..3, ["// Old comment.", "// Another."]);
    std::fs::write(base.join("calc.go"), old.join("\n") + "\n").unwrap();
    let diff = format!(
        "diff --git a/calc.go b/calc.go\n--- a/calc.go\n+++ b/calc.go\n\
         @@ -3,3 +3,1 @@\n {}\n-{}\n-{}\n@@ -{},1 +{},1 @@\n-{}\n+{}\n",
        lines[2],
        old[3],
        old[4],
        div + 3,
        div + 1,
        old[div + 2],
        lines[div],
    );
    std::fs::write(t.join("d.diff"), diff).unwrap();
    // The base's profile: the head's with calc.go's lines two further on.
    let profile = std::fs::read_to_string(fixture.join("cover.out")).unwrap();
    let shift = |pos: &str| {
        let (l, c) = pos.split_once('.').unwrap();
        format!("{}.{c}", l.parse::<u32>().unwrap() + 2)
    };
    let moved: Vec<String> = profile
        .lines()
        .map(
            |l| match l.strip_prefix("example.com/ignoreprog/calc.go:") {
                Some(rest) => {
                    let (range, nums) = rest.split_once(' ').unwrap();
                    let (s, e) = range.split_once(',').unwrap();
                    format!(
                        "example.com/ignoreprog/calc.go:{},{} {nums}",
                        shift(s),
                        shift(e)
                    )
                }
                None => l.to_string(),
            },
        )
        .collect();
    std::fs::write(t.join("base.out"), moved.join("\n") + "\n").unwrap();
    std::fs::copy(fixture.join("cover.out"), t.join("head.out")).unwrap();

    (head, base)
}

/// The first line of what `filter --ignore-annotations` says of `profile`
/// in `checkout`, and the profile it writes.
fn filtered(checkout: &std::path::Path, profile: &str) -> (String, String) {
    let out = checkout.join(format!("{profile}.filtered"));
    let (_, said) = output(covlens().current_dir(checkout).args([
        "filter",
        "--ignore-annotations",
        &format!("../{profile}"),
        "-o",
        out.to_str().unwrap(),
    ]));
    (
        said.lines().next().unwrap().to_string(),
        out.to_str().unwrap().to_string(),
    )
}

/// A base's annotations are read from the base's sources, rebuilt from the
/// head's by undoing the diff: a base whose lines sit elsewhere loses the
/// blocks its own sources mark, as `filter` in a checkout of it finds them.
#[test]
fn check_reads_the_bases_annotations_from_its_rebuilt_sources() {
    let t = tempfile::tempdir().unwrap();
    let (head, base) = base_and_head(t.path());
    // What `filter` leaves of each profile in a checkout of its own side.
    let ((head_said, _), (base_said, _)) =
        (filtered(&head, "head.out"), filtered(&base, "base.out"));
    assert_ne!(head_said, base_said, "Div's annotation is the head's only");

    let (out, said) = output(covlens().current_dir(&head).args([
        "check",
        "../head.out",
        "--base",
        "../base.out",
        "--git-diff",
        "../d.diff",
        "--ignore-annotations",
        "--max-drop",
        "100",
        "--format",
        "json",
    ]));
    let mut said = said.lines();
    assert_eq!(said.next(), Some(head_said.as_str()));
    let base_line = said.find(|l| l.starts_with("covlens: base: ")).unwrap();
    assert_eq!(base_line.replacen("base: ", "", 1), base_said);
    assert!(!said.any(|l| l.contains("not checked")));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["passed"], true);
}

/// `comment` and `annotate` with `--ignore-annotations` write what they
/// write for the profiles `filter` leaves in each side's own checkout (the
/// comment with a row of what each side left out); the uncovered changed
/// line the head marks is then not annotated.
#[test]
fn comment_and_annotate_leave_out_each_sides_annotations() {
    let t = tempfile::tempdir().unwrap();
    let (head, base) = base_and_head(t.path());
    let (head_said, head_f) = filtered(&head, "head.out");
    let (base_said, base_f) = filtered(&base, "base.out");
    let run = |cmd: &str, head_p: &str, base_p: &str, more: &[&str]| {
        let (out, _) = output(
            covlens()
                .current_dir(&head)
                .args([cmd, "--head", head_p, "--base", base_p, "--git-diff"])
                .arg(t.path().join("d.diff"))
                .args(["--module", "example.com/ignoreprog"])
                .args(more),
        );
        out
    };
    // The statements `filter` said it left out.
    let left = |said: &str| {
        let (_, n) = said.split_once("left out ").unwrap();
        n.split_once(' ').unwrap().0.to_string()
    };
    let row = format!(
        "| Left out by `// coverage-ignore` | {} | {} | |\n",
        left(&base_said),
        left(&head_said)
    );
    for cmd in ["comment", "annotate"] {
        let mut annotated = run(cmd, "../head.out", "../base.out", &["--ignore-annotations"]);
        if cmd == "comment" {
            // The comment says what was left out, under the statements.
            assert!(annotated.contains(&format!(" |\n{row}")), "{annotated}");
            annotated = annotated.replacen(&row, "", 1);
        }
        assert_eq!(annotated, run(cmd, &head_f, &base_f, &[]), "{cmd}");
        assert_ne!(
            annotated,
            run(cmd, "../head.out", "../base.out", &[]),
            "{cmd}"
        );
    }
    let plain = run("annotate", "../head.out", "../base.out", &[]);
    assert!(plain.contains("\"path\": \"calc.go\""), "{plain}");
    let annotated = run(
        "annotate",
        "../head.out",
        "../base.out",
        &["--ignore-annotations"],
    );
    assert!(!annotated.contains("\"path\": \"calc.go\""), "{annotated}");
}

/// The data `html` inlines (its boot JSON), with every file's source view
/// taken out: the numbers of every directory, file and function.
fn page_numbers(page: &str) -> (serde_json::Value, Vec<String>) {
    let start = page
        .find(r#"<script id="boot" type="application/json">"#)
        .unwrap();
    let json = &page[start..].split_once('>').unwrap().1;
    let json = json.split_once("</script>").unwrap().0;
    let mut boot: serde_json::Value = serde_json::from_str(json).unwrap();
    let mut lines = Vec::new();
    for f in boot["files"].as_object_mut().unwrap().values_mut() {
        let f = f.as_object_mut().unwrap();
        f.remove("ig");
        for l in f.remove("lines").unwrap().as_array().unwrap() {
            lines.push(l.as_str().unwrap().to_string());
        }
    }
    (boot, lines)
}

/// `html --ignore-annotations` counts every column as `filter` leaves it in
/// that column's own checkout (the base's read from its rebuilt sources),
/// says how much it left out, and greys the marked blocks in the source.
#[test]
fn html_leaves_out_each_columns_annotations_and_greys_them() {
    let t = tempfile::tempdir().unwrap();
    let (head, base) = base_and_head(t.path());
    let (head_said, head_f) = filtered(&head, "head.out");
    let (base_said, base_f) = filtered(&base, "base.out");
    let page = |cols: [&str; 2], more: &[&str]| {
        let out = t.path().join("page.html");
        let (_, said) = output(
            covlens()
                .current_dir(&head)
                .arg("html")
                .args(cols)
                .arg("-o")
                .arg(&out)
                .args(more),
        );
        (std::fs::read_to_string(out).unwrap(), said)
    };
    let (annotated, said) = page(
        ["head=../head.out", "base=../base.out"],
        &[
            "--ignore-annotations",
            "--git-diff",
            "../d.diff",
            "--module",
            "example.com/ignoreprog",
        ],
    );
    let (prefiltered, _) = page([&format!("head={head_f}"), &format!("base={base_f}")], &[]);
    // stderr says what each column lost, as `filter` says it, by name.
    let mut said = said.lines();
    assert_eq!(
        said.next(),
        Some(
            head_said
                .replacen("covlens: ", "covlens: head: ", 1)
                .as_str()
        )
    );
    let base_line = said.find(|l| l.starts_with("covlens: base: ")).unwrap();
    assert_eq!(base_line.replacen("base: ", "", 1), base_said);
    let (mut numbers, lines) = page_numbers(&annotated);
    let (want, plain_lines) = page_numbers(&prefiltered);
    // Must is left out whole: `—` where the filtered profile gives 0 of 0.
    let funcs = numbers["files"]["f0"]["funcs"].as_array_mut().unwrap();
    let mut gone = Vec::new();
    for f in funcs.iter_mut() {
        if f[2] == serde_json::json!([null, null]) {
            gone.push(f[0].as_str().unwrap().to_string());
            f[2] = serde_json::json!([[0, 0], [0, 0]]);
        }
    }
    assert_eq!(gone, ["Must"]);
    assert_eq!(numbers, want);
    assert!(!plain_lines.iter().any(|l| l.contains("class=\"ign\"")));
    // Every line of a marked block is greyed, none is coloured too.
    let greyed: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("class=\"ign\""))
        .collect();
    assert!(greyed.len() >= 9, "{greyed:?}");
    assert!(
        greyed
            .iter()
            .any(|l| l.contains("{ // coverage-ignore</span>")),
        "{greyed:?}"
    );
    // The whole-file annotation leaves gen.go out of the tree.
    assert!(!annotated.contains("gen.go"));
    // The head's column says what `filter` said it left out.
    let (_, said) = head_said.split_once("left out ").unwrap();
    let (statements, rest) = said.split_once(" statements (").unwrap();
    let covered = rest.split_once(' ').unwrap().0;
    let files = rest.rsplit_once(" of ").unwrap().1;
    let row = format!("<td>{statements} statements <small>({covered} covered) in {files}</small>");
    assert!(annotated.contains(&row), "{row}");
}
