//! Issue 13, items 4 to 10: what new users trip on. Progress on a
//! terminal, named columns, `html` as the one-file report, `--root`, the
//! PR comment's numbers and help that says what an input may be.

mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{covlens, repo, require_chromium, run};

fn kubernetes() -> PathBuf {
    repo().join("fixtures/public/kubernetes-v1.32.0.coverage.txt")
}

fn demo() -> PathBuf {
    repo().join("fixtures/demo")
}

fn goprog_root() -> String {
    format!(
        "example.com/goprog={}",
        repo().join("fixtures/goprog").display()
    )
}

/// The JSON data of a page's boot script.
fn boot(index: &Path) -> serde_json::Value {
    let html = std::fs::read_to_string(index).unwrap();
    let start = html
        .find("<script id=\"boot\" type=\"application/json\">")
        .unwrap();
    let rest = &html[start..];
    let json = &rest[rest.find('>').unwrap() + 1..rest.find("</script>").unwrap()];
    serde_json::from_str(json).unwrap()
}

/// Item 10: every command that reads profiles says in its help that a
/// GOCOVERDIR and `-` are inputs too, with an example of each.
#[test]
fn help_says_directories_and_stdin_are_inputs() {
    let commands: &[&[&str]] = &[
        &["merge"],
        &["aggregate"],
        &["diff"],
        &["filter"],
        &["junit"],
        &["html"],
        &["func"],
        &["summary"],
        &["convert"],
        &["report"],
        &["table"],
        &["comment"],
        &["badge"],
        &["check"],
        &["annotate"],
        &["history", "record"],
    ];
    for cmd in commands {
        let help = run(covlens().args(*cmd).arg("--help"));
        let what = cmd.join(" ");
        assert!(help.contains("GOCOVERDIR"), "{what}: {help}");
        assert!(help.contains("`-` for standard input"), "{what}: {help}");
        assert!(help.contains("Examples:"), "{what}: {help}");
        // The command's own options come first; the input options shared
        // by every command under their own heading after them.
        let (own, shared) = help
            .split_once("\nInput options:\n")
            .unwrap_or_else(|| panic!("{what}: {help}"));
        assert!(
            !own.contains("--no-mmap") && !own.contains("--max-line-bytes"),
            "{what}: {own}"
        );
        assert!(
            shared.contains("--mode-policy") && shared.contains("--quiet"),
            "{what}"
        );
        // One example reads a directory, one reads stdin.
        let example = |marker: &str| {
            let i = help
                .find(marker)
                .unwrap_or_else(|| panic!("{what}: {marker}"));
            help[i..].lines().nth(1).unwrap().trim().to_string()
        };
        let dir = example("# a GOCOVERDIR");
        assert!(
            dir.starts_with(&format!("covlens {what} ")),
            "{what}: {dir}"
        );
        assert!(dir.contains("covdir"), "{what}: {dir}");
        let stdin = example("# standard input");
        assert!(
            stdin.contains(&format!("| covlens {what} ")) && stdin.contains(" -"),
            "{what}: {stdin}"
        );
    }
}

/// Item 5: `report` and `html` take `NAME=PROFILE`; a plain path keeps
/// its file's name, and so does a path with `=` that exists.
#[test]
fn report_and_html_name_columns() {
    let t = tempfile::tempdir().unwrap();
    let odd = t.path().join("x=y.out");
    std::fs::copy(demo().join("calc.out"), &odd).unwrap();
    let site = t.path().join("site");
    run(covlens()
        .arg("report")
        .arg(format!(
            "head={}",
            demo().join("calc-advanced.out").display()
        ))
        .arg(demo().join("calc.out"))
        .arg(&odd)
        .arg("--out")
        .arg(&site));
    assert_eq!(
        boot(&site.join("index.html"))["cols"],
        serde_json::json!(["head", "calc", "x=y"])
    );
    let page = t.path().join("page.html");
    run(covlens()
        .arg("html")
        .arg(format!(
            "head={}",
            demo().join("calc-advanced.out").display()
        ))
        .arg(format!("base={}", demo().join("calc.out").display()))
        .arg("-o")
        .arg(&page));
    assert_eq!(boot(&page)["cols"], serde_json::json!(["head", "base"]));
    // A name for a file that does not exist: the error names the file.
    let o = covlens()
        .arg("html")
        .arg("head=missing.out")
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("missing.out"));
}

/// Item 6: `html` is the report in one file: the same boot data as the
/// site's index, plus every directory and file page the site keeps in
/// `data/`, with the same numbers.
#[test]
fn html_holds_the_whole_site() {
    let t = tempfile::tempdir().unwrap();
    let site = t.path().join("site");
    let page = t.path().join("page.html");
    let inputs = [demo().join("calc-advanced.out"), demo().join("calc.out")];
    run(covlens()
        .arg("report")
        .args(&inputs)
        .args(["--source-root", &goprog_root(), "--out"])
        .arg(&site));
    run(covlens()
        .arg("html")
        .args(&inputs)
        .args(["--source-root", &goprog_root(), "-o"])
        .arg(&page));
    let b = boot(&page);
    let mut n = 0;
    for e in std::fs::read_dir(site.join("data")).unwrap() {
        let p = e.unwrap().path();
        let id = p.file_stem().unwrap().to_str().unwrap().to_string();
        let js = std::fs::read_to_string(&p).unwrap();
        let json = &js[js.find(',').unwrap() + 1..js.rfind(')').unwrap()];
        let want: serde_json::Value = serde_json::from_str(json).unwrap();
        let got = match id.chars().next().unwrap() {
            'd' => &b["dirs"][&id],
            'f' => &b["files"][&id],
            _ => &b["search"],
        };
        assert_eq!(got, &want, "{id}");
        n += 1;
    }
    assert!(n > 3, "{n}");
    // The same style and script as the site.
    let index = std::fs::read_to_string(site.join("index.html")).unwrap();
    let html = std::fs::read_to_string(&page).unwrap();
    let script = |s: &str| s[s.rfind("<script>").unwrap()..].to_string();
    assert_eq!(script(&index), script(&html));
}

/// Item 7: `--depth` counts below the root (default: the longest common
/// directory), rows are relative to it and the root is in the heading.
/// Before, `--depth 2` on the Kubernetes profile showed only `k8s.io` and
/// `k8s.io/kubernetes`.
#[test]
fn depth_counts_below_the_root() {
    let k = kubernetes();
    let tree = |extra: &[&str]| {
        run(covlens()
            .arg("summary")
            .arg(&k)
            .args(["--by", "tree", "--depth", "2"])
            .args(extra))
    };
    // Every row as the JSON's full-name row counts it.
    let check = |text: &str, root: &str| -> Vec<String> {
        let json: serde_json::Value = serde_json::from_str(&run(covlens()
            .arg("summary")
            .arg(&k)
            .args(["--format", "json", "--root", root])))
        .unwrap();
        assert_eq!(json["root"], root);
        let mut lines = text.lines();
        let head = lines.next().unwrap();
        assert!(head.starts_with(&format!("Directory in {root}/")), "{head}");
        let mut names = Vec::new();
        for l in lines.filter(|l| !l.starts_with("total")) {
            let f: Vec<&str> = l.split_whitespace().collect();
            let full = format!("{root}/{}", f[0]);
            let row = json["tree"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["name"] == full.as_str())
                .unwrap_or_else(|| panic!("{full} not in the tree"));
            assert_eq!(row["covered"].to_string(), f[1], "{full}");
            assert_eq!(row["total"].to_string(), f[2], "{full}");
            names.push(f[0].to_string());
        }
        names
    };
    let rows = check(&tree(&[]), "k8s.io/kubernetes/pkg");
    assert!(rows.contains(&"api/pod".to_string()), "{rows:?}");
    assert!(rows.iter().all(|r| r.split('/').count() <= 2), "{rows:?}");
    let rows = check(
        &tree(&["--root", "k8s.io/kubernetes/"]),
        "k8s.io/kubernetes",
    );
    assert!(rows.contains(&"pkg/api".to_string()), "{rows:?}");
    assert!(rows.contains(&"pkg".to_string()), "{rows:?}");

    // table: the same rows under the same root.
    let head = format!("head={}", k.display());
    let md = run(covlens()
        .args(["table", "--depth", "1", "--column"])
        .arg(format!("head={}", k.display())));
    assert!(
        md.starts_with("| Directory in k8s.io/kubernetes/pkg/ | head |"),
        "{md}"
    );
    assert!(md.contains("\n| api |"), "{md}");
    // Rows of no path element are no rows: `--depth 0` of table and
    // history is refused (it gave the rows of `--depth 1`).
    let zero = [
        &["table", "--depth", "0", "--column", &head][..],
        &[
            "history", "show", "--store", "none.db", "--job", "j", "--depth", "0",
        ],
    ];
    for args in zero {
        let o = covlens().args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{args:?}");
        assert!(stderr.contains("1 or more"), "{args:?}: {stderr}");
    }
    // A root that leaves files out is an error naming one; the command
    // line (not the library) says which flag to change.
    let out = tempfile::tempdir().unwrap();
    let commands: [&[&OsStr]; 3] = [
        &["summary".as_ref(), k.as_os_str()],
        &["table".as_ref(), "--column".as_ref(), head.as_ref()],
        &[
            "report".as_ref(),
            k.as_os_str(),
            "--out".as_ref(),
            out.path().as_os_str(),
        ],
    ];
    for args in commands {
        let o = covlens()
            .args(args)
            .args(["--root", "k8s.io/kubernetes/pkg/api"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains(
                "is not under the root k8s.io/kubernetes/pkg/api/ (choose another --root"
            ),
            "{args:?}: {stderr}"
        );
        assert_eq!(stderr.matches("--root").count(), 1, "{stderr}");
    }
    // report too: the tree starts at the root, which the header names.
    let t = tempfile::tempdir().unwrap();
    let site = t.path().join("site");
    run(covlens()
        .arg("report")
        .arg(&k)
        .args(["--root", "k8s.io/kubernetes", "--out"])
        .arg(&site));
    let b = boot(&site.join("index.html"));
    assert_eq!(b["dirs"]["d0"]["path"], "k8s.io/kubernetes");
    assert_eq!(b["dirs"]["d0"]["kids"][0]["n"], "pkg");
    let index = std::fs::read_to_string(site.join("index.html")).unwrap();
    assert!(index.contains("Under <code>k8s.io/kubernetes/</code>"));
}

/// Item 8: the PR comment without `--report-url` has no link line; the
/// change agrees with the numbers shown (64.04% to 60.16% shows as 64.0
/// to 60.2: −3.8, not the unrounded −3.9); a new package is "new"; the
/// totals say when they compare different sets of packages.
#[test]
fn comment_numbers_agree_with_what_is_shown() {
    let t = tempfile::tempdir().unwrap();
    let base = t.path().join("base.out");
    let head = t.path().join("head.out");
    std::fs::write(
        &base,
        "mode: set\nm/a/x.go:1.1,2.2 6404 1\nm/a/x.go:3.1,4.2 3596 0\n",
    )
    .unwrap();
    std::fs::write(
        &head,
        "mode: set\nm/a/x.go:1.1,2.2 6015 1\nm/a/x.go:3.1,4.2 3596 0\nm/b/y.go:1.1,2.2 389 0\nm/b/y.go:3.1,4.2 1 1\n",
    )
    .unwrap();
    let text = run(covlens()
        .arg("comment")
        .arg("--base")
        .arg(&base)
        .arg("--head")
        .arg(&head)
        .args(["--module", "m"]));
    assert!(text.contains("### Coverage: 60.2% (-3.8)"), "{text}");
    assert!(
        text.contains("| **Total** ¹ | 64.0% | **60.2%** | ▼ -3.8 |"),
        "{text}"
    );
    assert!(text.contains("| m/b | — | 0.3% | new |"), "{text}");
    assert!(
        text.contains("¹ The totals compare different sets of packages: 1 package is new."),
        "{text}"
    );
    assert!(
        !text.contains("not configured") && !text.contains("Full coverage report"),
        "{text}"
    );
}

/// `comment --if-changed`: a comment that shows no change (the same
/// profile, or a change too small to print) is not written at all; a
/// printed change, or an uncovered changed statement with the totals
/// unchanged, writes the comment the flag leaves out.
#[test]
fn comment_if_changed_writes_only_a_change() {
    let t = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = t.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let base = write(
        "base.out",
        "mode: set\nm/a/x.go:1.1,2.2 6404 1\nm/a/x.go:3.1,4.2 3596 0\n",
    );
    let tiny = write(
        "tiny.out",
        "mode: set\nm/a/x.go:1.1,2.2 6403 1\nm/a/x.go:3.1,4.2 3597 0\n",
    );
    let fell = write(
        "fell.out",
        "mode: set\nm/a/x.go:1.1,2.2 6015 1\nm/a/x.go:3.1,4.2 3985 0\n",
    );
    let diff = write(
        "pr.diff",
        "diff --git a/a/x.go b/a/x.go\n--- a/a/x.go\n+++ b/a/x.go\n@@ -3,0 +3,1 @@\n+\tx++\n",
    );
    let comment = |head: &std::path::Path, extra: &[&std::ffi::OsStr], if_changed: bool| {
        let out = t.path().join("c.md");
        let _ = std::fs::remove_file(&out);
        let mut cmd = covlens();
        cmd.arg("comment")
            .arg("--base")
            .arg(&base)
            .arg("--head")
            .arg(head);
        cmd.args(["--module", "m", "-o"]).arg(&out).args(extra);
        if if_changed {
            cmd.arg("--if-changed");
        }
        let o = cmd.output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let said = String::from_utf8_lossy(&o.stderr).into_owned();
        (std::fs::read_to_string(&out).ok(), said)
    };
    for head in [&base, &tiny] {
        let (text, said) = comment(head, &[], true);
        assert_eq!(text, None, "{}", head.display());
        assert!(said.contains("shows no change: nothing written"), "{said}");
        // Without the flag the comment is there, with no change in it.
        let (text, _) = comment(head, &[], false);
        assert!(
            text.unwrap()
                .contains("| **Total** | 64.0% | **64.0%** | 0.0 |")
        );
    }
    let with_diff = [std::ffi::OsStr::new("--git-diff"), diff.as_os_str()];
    for (head, extra) in [(&fell, &[][..]), (&tiny, &with_diff[..])] {
        let (text, said) = comment(head, extra, true);
        assert_eq!(said, "");
        assert_eq!(text, comment(head, extra, false).0, "{}", head.display());
        assert!(text.is_some());
    }
    // The changed statement is listed as uncovered: that is the change.
    let (text, _) = comment(&tiny, &with_diff, true);
    assert!(
        text.unwrap()
            .contains("- `a/x.go` (3597 statements), lines: 3-4")
    );
    // Nothing on stdout either.
    let o = covlens()
        .arg("comment")
        .arg("--base")
        .arg(&base)
        .arg("--head")
        .arg(&base)
        .arg("--if-changed")
        .output()
        .unwrap();
    assert!(o.status.success() && o.stdout.is_empty());
}

/// `--pull-base`: a base run of another commit than the pull request's
/// base is said to be one; the same commit (or a prefix of it) is named the
/// pull request's base.
#[test]
fn comment_says_when_the_base_run_is_not_the_pull_requests_base() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("c.out");
    std::fs::write(&p, "mode: set\nm/a/x.go:1.1,2.2 1 1\n").unwrap();
    let said = |pull_base: &str| -> String {
        let text = run(covlens()
            .arg("comment")
            .arg("--base")
            .arg(&p)
            .arg("--head")
            .arg(&p)
            .args(["--base-origin", "ci-x@ABCDEF0123", "--pull-base", pull_base]));
        text.lines().nth(3).unwrap_or_default().to_string()
    };
    let other = said("1234567");
    assert!(
        other.ends_with("Base: `ci-x` at abcdef0123. The pull request's base is 1234567, not the commit the base run tested: changes made on the base branch between the two show here as the pull request's.</sub>"),
        "{other}"
    );
    for same in ["abcdef0", "ABCDEF0123456"] {
        let line = said(same);
        assert!(
            line.ends_with("at abcdef0123, the pull request's base.</sub>"),
            "{same}: {line}"
        );
    }
    // Not a commit: nothing said about it.
    assert!(said("main").ends_with("at abcdef0123.</sub>"));
}

/// `table --run`: the run behind each column is listed under the table, as
/// the Prow reporter lists it; one per column or none.
#[test]
fn table_names_the_run_of_each_column() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("c.out");
    std::fs::write(&p, "mode: set\nm/a/x.go:1.1,2.2 1 1\n").unwrap();
    let col = |name: &str| format!("{name}={}", p.display());
    let text = run(covlens()
        .args([
            "table",
            "--column",
            &col("master"),
            "--column",
            &col("1.36"),
        ])
        .args(["--run", "ci-master@ABCDEF0", "--run", "ci-1-36"]));
    assert!(
        text.ends_with("Runs:\n- master: `ci-master` at abcdef0\n- 1.36: `ci-1-36`\n"),
        "{text}"
    );
    let out = covlens()
        .args([
            "table",
            "--column",
            &col("master"),
            "--run",
            "a",
            "--run",
            "b",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("2 --run for 1 --column"), "{err}");
}

/// Runs `sh -c script` in `dir` with stdout and stderr on a terminal
/// (util-linux `script`); returns what the terminal got.
fn on_terminal(dir: &Path, script: &str) -> String {
    let out = Command::new("script")
        .current_dir(dir)
        .args(["-qec", script, "/dev/null"])
        .env("TERM", "xterm-256color")
        .env("SHELL", "/bin/sh")
        .env_remove("COVLENS_LOG")
        .stdin(Stdio::null())
        .output()
        .expect("this test needs script (util-linux)");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Item 4: reading that takes over a second shows progress on stderr
/// when stderr is a terminal (inputs, bytes, rate); nothing with
/// `--quiet`, when stderr is not a terminal, or for quick runs.
#[test]
fn progress_on_a_terminal_only() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    std::fs::copy(demo().join("calc.out"), dir.join("a.out")).unwrap();
    let bin = env!("CARGO_BIN_EXE_covlens");
    // The second input is a pipe whose writer waits 1.5 s.
    let slow = |flags: &str, redirect: &str| {
        format!(
            "rm -f p; mkfifo p; (sleep 1.5; cat a.out > p) & '{bin}' merge {flags} a.out p -o m.out {redirect}; wait"
        )
    };
    let shown = on_terminal(dir, &slow("", ""));
    assert!(shown.contains("inputs read"), "{shown:?}");
    assert!(shown.contains("1/2 inputs read"), "{shown:?}");
    assert!(shown.contains("/s"), "{shown:?}");
    for (flags, redirect) in [("--quiet", ""), ("", "2>err.txt")] {
        let out = on_terminal(dir, &slow(flags, redirect));
        assert!(!out.contains("inputs read"), "{flags} {redirect}: {out:?}");
    }
    assert_eq!(std::fs::read_to_string(dir.join("err.txt")).unwrap(), "");
    // A quick run shows nothing.
    let quick = on_terminal(dir, &format!("'{bin}' merge a.out a.out -o m.out"));
    assert!(!quick.contains("inputs read"), "{quick:?}");
    // And the merge is right: the profile counted twice.
    let m = std::fs::read_to_string(dir.join("m.out")).unwrap();
    assert_eq!(
        m,
        run(covlens().current_dir(dir).args(["merge", "a.out", "a.out"]))
    );
}

/// Item 6 in a browser: the one-file page renders the tree, opens a file
/// with its coloured source, and finds paths by search, with no other
/// file next to it.
#[test]
#[ignore = "needs chromium"]
fn html_page_works_in_a_browser() {
    let chrome = &require_chromium();
    let t = tempfile::tempdir().unwrap();
    let page = t.path().join("page.html");
    run(covlens()
        .arg("html")
        .arg(format!(
            "new={}",
            demo().join("calc-advanced.out").display()
        ))
        .arg(format!("old={}", demo().join("calc.out").display()))
        .args(["--source-root", &goprog_root(), "-o"])
        .arg(&page));
    assert_eq!(std::fs::read_dir(t.path()).unwrap().count(), 1);
    let url = format!("file://{}", page.display());
    let dom = dump_dom(chrome, &url);
    assert!(dom.contains("<th>new</th><th>old</th>"), "{dom}");
    let s: serde_json::Value = serde_json::from_str(&run(covlens()
        .args(["summary", "--format", "json"])
        .arg(demo().join("calc-advanced.out"))))
    .unwrap();
    let total = format!(
        "data-covered=\"{}\" data-total=\"{}\"",
        s["total"]["covered"], s["total"]["total"]
    );
    assert!(dom.contains(&total), "{total}: {dom}");
    assert!(
        dom.contains("data-path=\"example.com/goprog/calc/advanced\""),
        "{dom}"
    );
    let id = regex::Regex::new(r##"href="#(f\d+)">calc.go"##)
        .unwrap()
        .captures(&dom)
        .unwrap()[1]
        .to_string();
    let file = dump_dom(chrome, &format!("{url}#{id}"));
    assert!(file.contains(r#"<table class="src">"#), "{file}");
    assert!(file.contains(r#"class="cov0""#), "{file}");
    assert!(!file.contains("<main id=\"main\">Cannot load"), "{file}");
}

fn dump_dom(chrome: &Path, url: &str) -> String {
    let profile = tempfile::tempdir().unwrap();
    run(Command::new(chrome).args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--virtual-time-budget=5000",
        &format!("--user-data-dir={}", profile.path().display()),
        "--dump-dom",
        url,
    ]))
}
