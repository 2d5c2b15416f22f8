//! `covlens summary --owners DIR --by owner|label` on the real profiles of
//! `fixtures/demo` with the ownership tree `fixtures/owners`. Who owns which
//! file is stated here from the OWNERS semantics (inheritance, aliases,
//! `no_parent_owners`, CODEOWNERS' last match); the numbers come from
//! `covlens summary --by file`.

use std::collections::BTreeMap;

mod common;
use common::{covlens, repo, run};

/// The (name, covered, total) rows of `summary --by owner|label --format json`.
fn summary_rows(summary: &serde_json::Value) -> Vec<(String, u64, u64)> {
    summary["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().into(),
                r["covered"].as_u64().unwrap(),
                r["total"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// Per file of the demo profiles: (owners, labels).
fn ownership() -> BTreeMap<&'static str, (Vec<&'static str>, Vec<&'static str>)> {
    let root = ("root-approver", "sig/testing");
    BTreeMap::from([
        (
            "calc/calc.go",
            (vec![root.0, "alice", "bob"], vec![root.1, "sig/calc"]),
        ),
        // no_parent_owners: neither the root nor calc/ own it.
        (
            "calc/advanced/advanced.go",
            (vec!["carol"], vec!["sig/math"]),
        ),
        ("calcx/calcx.go", (vec![root.0], vec![root.1])),
        (
            "cmd/goprog/main.go",
            (vec![root.0, "@org/cli"], vec![root.1]),
        ),
        ("internal/strutil/strutil.go", (vec![], vec![])),
        (
            "pkg/a/a.go",
            (vec![root.0, "dave"], vec![root.1, "sig/node"]),
        ),
        (
            "pkg/a/table.go",
            (vec![root.0, "dave"], vec![root.1, "sig/node"]),
        ),
        ("pkg/ab/ab.go", (vec![root.0, "@org/ab"], vec![root.1])),
    ])
}

#[test]
fn rollups_by_owner_and_label() {
    let dir = tempfile::tempdir().unwrap();
    let merged = dir.path().join("m.out");
    let mut merge = covlens();
    merge.arg("merge").arg("-o").arg(&merged);
    for f in std::fs::read_dir(repo().join("fixtures/demo")).unwrap() {
        let p = f.unwrap().path();
        if p.extension().is_some_and(|e| e == "out") {
            merge.arg(p);
        }
    }
    run(&mut merge);
    let files: serde_json::Value = serde_json::from_str(&run(covlens()
        .args(["summary", "--format", "json", "--by", "file"])
        .arg(&merged)))
    .unwrap();
    let per_file: BTreeMap<String, (u64, u64)> = files["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("example.com/goprog/")
                    .to_string(),
                (r["covered"].as_u64().unwrap(), r["total"].as_u64().unwrap()),
            )
        })
        .collect();
    let own = ownership();
    assert_eq!(
        per_file.keys().collect::<Vec<_>>(),
        own.keys().collect::<Vec<_>>()
    );

    for (by, pick) in [("owner", 0), ("label", 1)] {
        let mut want: BTreeMap<String, (u64, u64, u64)> = BTreeMap::new();
        for (file, (owners, labels)) in &own {
            let names = if pick == 0 { owners } else { labels };
            let names: Vec<&str> = if names.is_empty() {
                vec!["(unowned)"]
            } else {
                names.clone()
            };
            let (c, t) = per_file[*file];
            for n in names {
                let e = want.entry(n.to_string()).or_default();
                *e = (e.0 + 1, e.1 + c, e.2 + t);
            }
        }
        let out: serde_json::Value = serde_json::from_str(&run(covlens()
            .args(["summary", "--format", "json", "--by", by, "--owners"])
            .arg(repo().join("fixtures/owners"))
            .arg(&merged)))
        .unwrap();
        let got: BTreeMap<String, (u64, u64, u64)> = out["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["name"].as_str().unwrap().to_string(),
                    (
                        r["files"].as_u64().unwrap(),
                        r["covered"].as_u64().unwrap(),
                        r["total"].as_u64().unwrap(),
                    ),
                )
            })
            .collect();
        assert_eq!(got, want, "--by {by}");
        assert_eq!(
            out["rows"].as_array().unwrap().last().unwrap()["name"],
            "(unowned)"
        );
    }
    // The table says that rows overlap.
    let table = run(covlens()
        .args(["summary", "--by", "label", "--owners"])
        .arg(repo().join("fixtures/owners"))
        .arg(&merged));
    assert!(
        table.contains("sig/node") && table.contains("counts in the row of each"),
        "{table}"
    );
    // --by owner without a tree is a clear error.
    let o = covlens()
        .args(["summary", "--by", "owner"])
        .arg(&merged)
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--owners"));
}

/// `table --owners --by label`: a row per label, and a total that counts
/// each file once (the rows overlap).
#[test]
fn table_by_label() {
    let calc = repo().join("fixtures/demo/calc.out");
    let pkg_a = repo().join("fixtures/demo/pkg-a.out");
    let md = run(covlens()
        .args(["table", "--by", "label", "--owners"])
        .arg(repo().join("fixtures/owners"))
        .arg("--column")
        .arg(format!("a={}", pkg_a.display()))
        .arg("--column")
        .arg(format!("c={}", calc.display())));
    assert!(md.starts_with("| Label | a | c |"), "{md}");
    assert!(
        md.contains("| sig/node |") && md.contains("| sig/calc |"),
        "{md}"
    );
    let s = |p: &std::path::Path| -> serde_json::Value {
        serde_json::from_str(&run(covlens().args(["summary", "--format", "json"]).arg(p))).unwrap()
    };
    let (a, c) = (s(&pkg_a), s(&calc));
    let pct = |v: &serde_json::Value| {
        let t = &v["total"];
        format!(
            "{:.1}%",
            t["covered"].as_f64().unwrap() * 100.0 / t["total"].as_f64().unwrap()
        )
    };
    let total = md
        .lines()
        .find(|l| l.contains("Total (each file once)"))
        .unwrap();
    assert!(
        total.contains(&pct(&a)) && total.contains(&pct(&c)),
        "{total}\n{a}"
    );
}

/// `history show --owners --by label`: the recorded run's numbers per
/// label are those of `summary --owners --by label` on the same profile.
#[test]
fn history_show_by_label() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("h.db");
    let profile = repo().join("fixtures/demo/pkg-a.out");
    run(covlens()
        .args(["history", "record", "--job", "j", "--build", "1", "--store"])
        .arg(&store)
        .arg(&profile));
    let tree = repo().join("fixtures/owners");
    let summary: serde_json::Value = serde_json::from_str(&run(covlens()
        .args(["summary", "--format", "json", "--by", "label", "--owners"])
        .arg(&tree)
        .arg(&profile)))
    .unwrap();
    let h: serde_json::Value = serde_json::from_str(&run(covlens()
        .args([
            "history", "show", "--job", "j", "--format", "json", "--by", "label", "--store",
        ])
        .arg(&store)
        .arg("--owners")
        .arg(&tree)))
    .unwrap();
    let want = summary_rows(&summary);
    let mut got: Vec<(String, u64, u64)> = h["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let p = &r["points"][0];
            (
                r["name"].as_str().unwrap().into(),
                p["covered"].as_u64().unwrap(),
                p["total"].as_u64().unwrap(),
            )
        })
        .collect();
    // summary puts (unowned) last; history sorts by name.
    got.sort_by_key(|r| (r.0 == "(unowned)", r.0.clone()));
    assert_eq!(got, want);
    assert_eq!(h["by"], "label");
}

/// `report --owners --by owner` with a history: the site's top level is
/// one entry per owner with the numbers of `summary --by owner`, each with
/// its own trend over the recorded runs; `table --by owner` shows the same
/// trends.
#[test]
fn report_and_table_by_owner_with_trends() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("h.db");
    let tree = repo().join("fixtures/owners");
    let profile = repo().join("fixtures/demo/calc.out");
    for (build, p) in [("1", "pkg-a.out"), ("2", "calc.out")] {
        run(covlens()
            .args([
                "history", "record", "--job", "j", "--build", build, "--store",
            ])
            .arg(&store)
            .args(["--time", &format!("2026-12-0{build}T00:00:00Z")])
            .arg(repo().join("fixtures/demo").join(p)));
    }
    let site = dir.path().join("site");
    run(covlens()
        .args(["report", "--by", "owner", "--owners"])
        .arg(&tree)
        .arg("--history")
        .arg(&store)
        .args(["--history-job", "j", "--out"])
        .arg(&site)
        .arg(format!("head={}", profile.display())));
    let js = std::fs::read_to_string(site.join("data/d0.js")).unwrap();
    let json = js
        .strip_prefix("covlens.dir(\"d0\",")
        .and_then(|r| r.strip_suffix(");\n"))
        .unwrap_or_else(|| panic!("{js}"));
    let d0: serde_json::Value = serde_json::from_str(json).unwrap();
    let mut got: Vec<(String, u64, u64)> = d0["kids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["n"].as_str().unwrap().to_string(),
                k["c"][0][0].as_u64().unwrap(),
                k["c"][0][1].as_u64().unwrap(),
            )
        })
        .collect();
    got.sort_by_key(|r| (r.0 == "(unowned)", r.0.clone()));
    let summary: serde_json::Value = serde_json::from_str(&run(covlens()
        .args(["summary", "--format", "json", "--by", "owner", "--owners"])
        .arg(&tree)
        .arg(&profile)))
    .unwrap();
    let want = summary_rows(&summary);
    assert!(want.len() > 2, "{want:?}");
    assert_eq!(got, want);
    // Every owner of calc.out has a trend of the two runs; its last point
    // is its coverage now (run 2 recorded the same profile).
    for k in d0["kids"].as_array().unwrap() {
        let tr = k["tr"]
            .as_array()
            .unwrap_or_else(|| panic!("no trend: {k}"));
        assert_eq!(tr.len(), 2, "{k}");
        let (c, t) = (
            k["c"][0][0].as_f64().unwrap(),
            k["c"][0][1].as_f64().unwrap(),
        );
        let last = tr[1].as_f64().unwrap();
        assert!((last - c * 100.0 / t).abs() < 1e-9, "{k}");
    }
    let table = run(covlens()
        .args(["table", "--by", "owner", "--owners"])
        .arg(&tree)
        .arg("--history")
        .arg(&store)
        .args(["--history-job", "j", "--format", "json", "--column"])
        .arg(format!("head={}", profile.display())));
    let t: serde_json::Value = serde_json::from_str(&table).unwrap();
    let rows = t["rows"].as_array().unwrap();
    assert_eq!(rows.len(), want.len());
    assert!(
        rows.iter()
            .all(|r| r["trend"].as_array().is_some_and(|t| t.len() == 2)),
        "{table}"
    );
}

/// `html` is `report` in one file, extras included: with the same owners,
/// history and flaky runs, its inlined directories are the report's
/// `data/dN.js`, each owner with its trend and flaky count.
#[test]
fn html_inlines_what_report_writes_with_every_extra() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("h.db");
    let demo = repo().join("fixtures/demo");
    for (build, p) in [("1", "pkg-a.out"), ("2", "calc.out")] {
        run(covlens()
            .args(["history", "record", "--job", "j", "--build", build])
            .arg("--store")
            .arg(&store)
            .args(["--time", &format!("2026-12-0{build}T00:00:00Z")])
            .arg(demo.join(p)));
    }
    let extras = |cmd: &mut std::process::Command| {
        cmd.args(["--by", "owner", "--owners"])
            .arg(repo().join("fixtures/owners"))
            .arg("--history")
            .arg(&store)
            .args(["--history-job", "j", "--title", "t", "--flaky-from"])
            .arg(demo.join("calc.out"))
            .arg("--flaky-from")
            .arg(demo.join("calc-advanced.out"))
            .arg(format!("head={}", demo.join("calc.out").display()));
    };
    let site = dir.path().join("site");
    let page = dir.path().join("page.html");
    let mut report = covlens();
    extras(report.arg("report").arg("--out").arg(&site));
    run(&mut report);
    let mut html = covlens();
    extras(html.arg("html").arg("-o").arg(&page));
    run(&mut html);

    let boot = |html: &str| -> serde_json::Value {
        let start = r#"<script id="boot" type="application/json">"#;
        let b = &html[html.find(start).unwrap() + start.len()..];
        serde_json::from_str(&b[..b.find("</script>").unwrap()]).unwrap()
    };
    let inline = boot(&std::fs::read_to_string(&page).unwrap());
    let written = boot(&std::fs::read_to_string(site.join("index.html")).unwrap());
    for key in ["cols", "flaky", "trend", "title"] {
        assert_eq!(inline[key], written[key], "{key}");
    }
    assert_eq!(inline["trend"], 2);
    assert_eq!(inline["flaky"], true);
    let dirs = inline["dirs"].as_object().unwrap();
    let mut files = 0;
    for e in std::fs::read_dir(site.join("data")).unwrap() {
        let name = e.unwrap().file_name().into_string().unwrap();
        let Some(id) = name.strip_suffix(".js").filter(|n| n.starts_with('d')) else {
            continue;
        };
        let js = std::fs::read_to_string(site.join("data").join(&name)).unwrap();
        let json = js
            .strip_prefix(&format!("covlens.dir(\"{id}\","))
            .and_then(|r| r.strip_suffix(");\n"))
            .unwrap_or_else(|| panic!("{js}"));
        let d: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(dirs[id], d, "{id}");
        files += 1;
    }
    assert_eq!(dirs.len(), files);
    // calc.go's owners: a trend of both runs and the flaky statements of
    // `covlens flaky` on the two runs (9, see its table).
    let kids = dirs["d0"]["kids"].as_array().unwrap();
    let alice = kids.iter().find(|k| k["n"] == "alice").unwrap();
    assert_eq!(alice["tr"].as_array().unwrap().len(), 2, "{alice}");
    let flaky = run(covlens()
        .args(["flaky", "--format", "json"])
        .arg(demo.join("calc.out"))
        .arg(demo.join("calc-advanced.out")));
    let flaky: serde_json::Value = serde_json::from_str(&flaky).unwrap();
    assert_eq!(alice["fl"], flaky["flaky"], "{flaky}");
    assert_eq!(alice["fl"], 9);
}

/// `check --threshold-label/--threshold-owner --owners DIR`: a violation for
/// each label (owner) whose files are below the threshold, with the numbers
/// `summary --by label` gives for it (files nobody owns are no group's);
/// without `--owners` the rule cannot run, and the error says what to pass.
#[test]
fn check_thresholds_per_label_and_owner() {
    let profile = repo().join("fixtures/demo/cmd-goprog.out");
    // `check ARGS --owners fixtures/owners PROFILE`, a policy not met: its
    // JSON outcome.
    let not_met = |args: &[&str]| -> serde_json::Value {
        let out = covlens()
            .arg("check")
            .args(args)
            .arg("--owners")
            .arg(repo().join("fixtures/owners"))
            .arg(&profile)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let summary = |by: &str| -> serde_json::Value {
        serde_json::from_str(&run(covlens()
            .args(["summary", "--format", "json", "--by", by, "--owners"])
            .arg(repo().join("fixtures/owners"))
            .arg(&profile)))
        .unwrap()
    };
    for (by, flag) in [
        ("label", "--threshold-label"),
        ("owner", "--threshold-owner"),
    ] {
        let summary = summary(by);
        let pct = |c: u64, t: u64| (1000 * c + t / 2) / t;
        let mut want: Vec<(String, u64, u64)> = summary_rows(&summary)
            .into_iter()
            .filter(|(n, c, t)| n != "(unowned)" && *t > 0 && pct(*c, *t) < 600)
            .collect();
        want.sort();
        assert!(!want.is_empty(), "the fixture has groups below 60%");
        let outcome = not_met(&["--format", "json", flag, "60"]);
        let mut got: Vec<(String, u64, u64)> = outcome["violations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                assert_eq!(v["rule"], format!("threshold-{by}"));
                assert_eq!(v["target"]["kind"], by);
                (
                    v["target"]["name"].as_str().unwrap().to_string(),
                    v["head"]["covered"].as_u64().unwrap(),
                    v["head"]["total"].as_u64().unwrap(),
                )
            })
            .collect();
        got.sort();
        assert_eq!(got, want, "--by {by}");
    }
    // A label named in the file's overrides, and no other rule: that
    // label alone is checked, and the violation names the override.
    let (label, c, t) = summary_rows(&summary("label"))
        .into_iter()
        .find(|(n, c, t)| n != "(unowned)" && c < t)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("policy.yml");
    std::fs::write(
        &config,
        format!("override:\n  - {{label: {label}, threshold: 100}}\n"),
    )
    .unwrap();
    let outcome = not_met(&["--format", "json", "--config", config.to_str().unwrap()]);
    let v = outcome["violations"].as_array().unwrap();
    assert_eq!(v.len(), 1, "{outcome}");
    assert_eq!(v[0]["target"]["name"], label.as_str());
    assert_eq!(v[0]["override"], label.as_str());
    assert_eq!(
        (
            v[0]["head"]["covered"].as_u64(),
            v[0]["head"]["total"].as_u64()
        ),
        (Some(c), Some(t))
    );

    let out = covlens()
        .args(["check", "--threshold-label", "60"])
        .arg(&profile)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("ownership of the sources") && err.contains("pass --owners DIR"),
        "{err}"
    );
}

/// `check --owners DIR --owners-at COMMIT`: a git checkout's ownership as
/// it was at that commit, not as its work tree has it now; the label
/// violations name the commit's labels, with the numbers `summary --by
/// label` gives on a copy of the tree at that commit.
#[test]
#[ignore = "needs git"]
fn check_reads_ownership_at_a_commit() {
    let t = tempfile::tempdir().unwrap();
    let checkout = t.path().join("checkout");
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(&checkout)
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .output()
            .expect("this test needs git");
        assert!(out.status.success(), "git {args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let copy = |to: &std::path::Path, relabel: bool| {
        let from = repo().join("fixtures/owners");
        let out = std::process::Command::new("cp")
            .arg("-rT")
            .arg(&from)
            .arg(to)
            .status()
            .unwrap();
        assert!(out.success());
        if relabel {
            let p = to.join("calc/OWNERS");
            let text = std::fs::read_to_string(&p).unwrap();
            assert!(text.contains("sig/calc"), "{text}");
            std::fs::write(&p, text.replace("sig/calc", "sig/at-base")).unwrap();
        }
    };
    std::fs::create_dir_all(&checkout).unwrap();
    git(&["init", "-q"]);
    copy(&checkout, true);
    git(&["add", "-A"]);
    git(&["commit", "-qm", "base"]);
    let base = git(&["rev-parse", "HEAD"]);
    copy(&checkout, false);
    git(&["commit", "-qam", "moved on"]);
    let then = t.path().join("then");
    copy(&then, true);

    let profile = repo().join("fixtures/demo/cmd-goprog.out");
    let labels = |args: &[&std::ffi::OsStr]| -> Vec<(String, u64, u64)> {
        let out = covlens()
            .args(["check", "--format", "json", "--threshold-label", "99"])
            .args(args)
            .arg(&profile)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        let o: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut v: Vec<(String, u64, u64)> = o["violations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                (
                    v["target"]["name"].as_str().unwrap().to_string(),
                    v["head"]["covered"].as_u64().unwrap(),
                    v["head"]["total"].as_u64().unwrap(),
                )
            })
            .collect();
        v.sort();
        v
    };
    let os = |s: &str| std::ffi::OsString::from(s);
    let at = labels(&[
        os("--owners").as_os_str(),
        checkout.as_os_str(),
        os("--owners-at").as_os_str(),
        os(&base[..10]).as_os_str(),
    ]);
    assert!(at.iter().any(|(n, ..)| n == "sig/at-base"), "{at:?}");
    assert_eq!(at, labels(&[os("--owners").as_os_str(), then.as_os_str()]));
    let now = labels(&[os("--owners").as_os_str(), checkout.as_os_str()]);
    assert!(now.iter().all(|(n, ..)| n != "sig/at-base"), "{now:?}");

    // A commit the checkout does not hold is an error.
    let out = covlens()
        .args(["check", "--threshold-label", "99", "--owners"])
        .arg(&checkout)
        .args(["--owners-at", "0123456789abcdef"])
        .arg(&profile)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("no commit 0123456789abcdef"), "{err}");
}

/// A `CODEOWNERS` line GitHub cannot read is left out, as GitHub leaves it
/// out, and named on stderr; the rest of the tree still counts.
#[test]
fn unreadable_codeowners_line_is_left_out_with_a_warning() {
    let merged = repo().join("fixtures/demo/calc.out");
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("owners");
    let cp = std::process::Command::new("cp")
        .arg("-r")
        .arg(repo().join("fixtures/owners"))
        .arg(&tree)
        .status()
        .unwrap();
    assert!(cp.success());
    let codeowners = tree.join(".github/CODEOWNERS");
    let mut text = std::fs::read_to_string(&codeowners).unwrap();
    text.push_str("!/calc/ @nobody\n/calc/ carol-without-at\n");
    std::fs::write(&codeowners, &text).unwrap();
    let bad_lines = text.lines().count();

    let summary = |owners: &std::path::Path| {
        covlens()
            .args(["summary", "--format", "json", "--by", "owner", "--owners"])
            .arg(owners)
            .arg(&merged)
            .output()
            .unwrap()
    };
    let (want, got) = (summary(&repo().join("fixtures/owners")), summary(&tree));
    assert!(want.status.success() && got.status.success());
    assert_eq!(got.stdout, want.stdout);
    let stderr = String::from_utf8_lossy(&got.stderr);
    assert!(
        stderr.contains(&format!(
            ".github/CODEOWNERS:{}: line left out: negated pattern",
            bad_lines - 1
        )) && stderr.contains(&format!(
            ".github/CODEOWNERS:{bad_lines}: line left out: owner \"carol-without-at\""
        )),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&want.stderr).is_empty());
}
