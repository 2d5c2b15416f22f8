//! `covlens check` and `covlens annotate` on the public Kubernetes and
//! Prometheus profiles. Every expected number is computed here from the
//! raw profile lines (a parser of a few lines, regexes applied by this
//! test, percentages printed with one decimal as every covlens report
//! prints them), never copied from what covlens prints.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{covlens, repo};
use regex::Regex;
use serde_json::Value;

const K8S: &str = "kubernetes-v1.32.0.coverage.txt";
const PROM: &str = "prometheus-v3.2.0.coverage.txt";
const PROM_MODULE: &str = "github.com/prometheus/prometheus";

fn public(name: &str) -> PathBuf {
    repo().join("fixtures/public").join(name)
}

/// (start line, start col, end line, end col) -> (statements, count).
type Blocks = BTreeMap<(u32, u32, u32, u32), (u64, u64)>;

/// A profile read line by line: blocks per file, repeated blocks combined
/// (OR in set mode, sum otherwise).
struct Raw {
    files: BTreeMap<String, Blocks>,
}

impl Raw {
    fn parse(text: &str) -> Raw {
        let mut lines = text.lines();
        let set = lines.next().unwrap().trim() == "mode: set";
        let mut files: BTreeMap<String, Blocks> = BTreeMap::new();
        for l in lines.filter(|l| !l.trim().is_empty()) {
            let (name, rest) = l.rsplit_once(':').unwrap();
            let mut f = rest.split([',', ' ', '.']);
            let mut n = || f.next().unwrap().parse::<u64>().unwrap();
            let key = (n() as u32, n() as u32, n() as u32, n() as u32);
            let (stmts, count) = (n(), n());
            let e = files
                .entry(name.to_string())
                .or_default()
                .entry(key)
                .or_insert((stmts, 0));
            e.1 = if set { e.1.max(count) } else { e.1 + count };
        }
        Raw { files }
    }

    fn read(path: &Path) -> Raw {
        Raw::parse(&std::fs::read_to_string(path).unwrap())
    }

    /// (covered, total) per file kept.
    fn file_counts(&self, keep: impl Fn(&str) -> bool) -> BTreeMap<String, (u64, u64)> {
        self.files
            .iter()
            .filter(|(n, _)| keep(n))
            .map(|(n, b)| {
                let total = b.values().map(|v| v.0).sum();
                let covered = b.values().filter(|v| v.1 > 0).map(|v| v.0).sum();
                (n.clone(), (covered, total))
            })
            .collect()
    }

    /// (covered, total) per package (the file name's directory).
    fn package_counts(&self, keep: impl Fn(&str) -> bool) -> BTreeMap<String, (u64, u64)> {
        let mut m: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        for (n, (c, t)) in self.file_counts(keep) {
            let e = m.entry(dir(&n).to_string()).or_default();
            e.0 += c;
            e.1 += t;
        }
        m
    }

    fn total(&self, keep: impl Fn(&str) -> bool) -> (u64, u64) {
        self.file_counts(keep)
            .values()
            .fold((0, 0), |a, v| (a.0 + v.0, a.1 + v.1))
    }
}

fn dir(name: &str) -> &str {
    &name[..name.rfind('/').unwrap()]
}

/// The percentage as printed: one decimal.
fn printed(c: u64, t: u64) -> String {
    format!("{:.1}", 100.0 * c as f64 / t as f64)
}

fn tenths(c: u64, t: u64) -> i64 {
    printed(c, t).replace('.', "").parse().unwrap()
}

/// `covlens check ...` in `dir`, without GitHub's environment.
fn check_in(dir: &Path, args: &[&str]) -> Output {
    covlens()
        .current_dir(dir)
        .env_remove("GITHUB_ACTIONS")
        .arg("check")
        .args(args)
        .output()
        .unwrap()
}

/// `check --format json` in an empty directory: exit code and JSON.
fn check_json(args: &[&str]) -> (i32, Value) {
    let empty = tempfile::tempdir().unwrap();
    let out = check_in(empty.path(), &[args, &["--format", "json"]].concat());
    let code = out.status.code().unwrap();
    assert!(
        code == 0 || code == 1,
        "exit {code}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (code, serde_json::from_slice(&out.stdout).unwrap())
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// (rule, name, covered, total, actual in tenths) of each violation.
fn violations(v: &Value) -> Vec<(String, String, u64, u64, i64)> {
    v["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["rule"].as_str().unwrap().to_string(),
                x["target"]["name"].as_str().unwrap_or("").to_string(),
                x["head"]["covered"].as_u64().unwrap(),
                x["head"]["total"].as_u64().unwrap(),
                (x["actual"].as_f64().unwrap() * 10.0).round() as i64,
            )
        })
        .collect()
}

/// The expected violations of a threshold rule over `counts`.
fn below(
    rule: &str,
    counts: &BTreeMap<String, (u64, u64)>,
    required: impl Fn(&str) -> Option<f64>,
) -> Vec<(String, String, u64, u64, i64)> {
    counts
        .iter()
        .filter(|(_, (_, t))| *t > 0)
        .filter_map(|(n, &(c, t))| {
            let req = required(n)?;
            ((tenths(c, t) as f64) / 10.0 < req)
                .then(|| (rule.to_string(), n.clone(), c, t, tenths(c, t)))
        })
        .collect()
}

#[test]
fn the_test_parser_agrees_with_summary() {
    for name in [K8S, PROM] {
        let raw = Raw::read(&public(name));
        let out = covlens()
            .args(["summary", "--format", "json"])
            .arg(public(name))
            .output()
            .unwrap();
        let s: Value = serde_json::from_slice(&out.stdout).unwrap();
        let (c, t) = raw.total(|_| true);
        assert_eq!(
            (s["total"]["covered"].as_u64(), s["total"]["total"].as_u64()),
            (Some(c), Some(t))
        );
    }
}

#[test]
fn threshold_total() {
    for name in [K8S, PROM] {
        let path = public(name);
        let (c, t) = Raw::read(&path).total(|_| true);
        let at = printed(c, t);
        let above = format!("{:.1}", (tenths(c, t) + 1) as f64 / 10.0);
        let (code, v) = check_json(&[path_str(&path), "--threshold-total", &at]);
        assert_eq!((code, v["passed"].as_bool()), (0, Some(true)), "{name}");
        assert_eq!(v["checked"]["total"]["covered"].as_u64(), Some(c));
        let (code, v) = check_json(&[path_str(&path), "--threshold-total", &above]);
        assert_eq!(code, 1, "{name}");
        assert_eq!(
            violations(&v),
            [("threshold-total".into(), String::new(), c, t, tenths(c, t))]
        );
        let x = &v["violations"][0];
        assert_eq!(x["target"], serde_json::json!({"kind": "total"}));
        assert_eq!(x["required"].as_f64(), Some(above.parse().unwrap()));
        assert_eq!(x["head"]["percent"].as_str(), Some(at.as_str()));
    }
}

#[test]
fn threshold_package_on_prometheus() {
    let path = public(PROM);
    let pkgs = Raw::read(&path).package_counts(|_| true);
    let expected = below("threshold-package", &pkgs, |_| Some(60.0));
    assert!(!expected.is_empty() && expected.len() < pkgs.len());
    let (code, v) = check_json(&[path_str(&path), "--threshold-package", "60"]);
    assert_eq!(code, 1);
    assert_eq!(violations(&v), expected);
    assert_eq!(v["checked"]["packages"].as_u64(), Some(pkgs.len() as u64));
}

#[test]
fn threshold_file_on_kubernetes() {
    let path = public(K8S);
    let files = Raw::read(&path).file_counts(|_| true);
    let expected = below("threshold-file", &files, |_| Some(50.0));
    assert!(!expected.is_empty() && expected.len() < files.len());
    let (code, v) = check_json(&[path_str(&path), "--threshold-file", "50"]);
    assert_eq!(code, 1);
    assert_eq!(violations(&v), expected);
}

/// Overrides: the first match wins; a file is matched by its name, a
/// package by its import path (so an expression ending in `$` after the
/// package names only the package).
#[test]
fn overrides_on_prometheus() {
    let path = public(PROM);
    let raw = Raw::read(&path);
    let overrides = [
        (r"^github\.com/prometheus/prometheus/promql$", 99.0),
        (r"^github\.com/prometheus/prometheus/tsdb/", 90.0),
        (r"tsdb", 5.0), // never first for tsdb/..., first for .../tsdb
        (r"/web/.*\.go$", 100.0),
    ];
    let res: Vec<(Regex, f64)> = overrides
        .iter()
        .map(|(r, p)| (Regex::new(r).unwrap(), *p))
        .collect();
    let first = |name: &str, general: f64| {
        res.iter()
            .find(|(r, _)| r.is_match(name))
            .map_or(general, |o| o.1)
    };
    let mut expected = below("threshold-package", &raw.package_counts(|_| true), |n| {
        Some(first(n, 50.0))
    });
    expected.extend(below("threshold-file", &raw.file_counts(|_| true), |n| {
        Some(first(n, 40.0))
    }));
    let mut args = vec![
        path_str(&path).to_string(),
        "--threshold-package".into(),
        "50".into(),
        "--threshold-file".into(),
        "40".into(),
    ];
    for (r, p) in overrides {
        args.push("--override".into());
        args.push(format!("{r}={p}"));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, v) = check_json(&args);
    assert_eq!(code, 1);
    assert_eq!(violations(&v), expected);

    // The override that set each threshold is named, and only the package
    // itself matched the `$`-anchored one.
    for x in v["violations"].as_array().unwrap() {
        let name = x["target"]["name"].as_str().unwrap();
        let by = res.iter().position(|(r, _)| r.is_match(name));
        assert_eq!(x["override"].as_str(), by.map(|i| overrides[i].0), "{name}");
        if x["override"].as_str() == Some(overrides[0].0) {
            assert_eq!(x["rule"], "threshold-package");
        }
    }
    let promql = "github.com/prometheus/prometheus/promql";
    let (c, t) = raw.package_counts(|_| true)[promql];
    assert!(tenths(c, t) < 990, "the $-anchored override must bite");
    assert!(
        expected
            .iter()
            .any(|e| e.1 == promql && e.0 == "threshold-package")
    );
}

/// A file matched by an exclude and an override is excluded: it is in no
/// number, and the override has nothing to apply to.
#[test]
fn exclude_wins_over_override() {
    let path = public(PROM);
    let raw = Raw::read(&path);
    let tsdb = Regex::new(r"^github\.com/prometheus/prometheus/tsdb/").unwrap();
    let kept = |n: &str| !tsdb.is_match(n);
    let over = [
        path_str(&path),
        "--override",
        "tsdb/=100",
        "--threshold-total",
        "0",
    ];
    // Without the exclude, the override bites in tsdb.
    let (code, v) = check_json(&over);
    assert_eq!(code, 1);
    assert!(violations(&v).iter().any(|x| x.1.contains("/tsdb/")));

    let (code, v) = check_json(
        &[
            &over[..],
            &["--exclude", r"^github\.com/prometheus/prometheus/tsdb/"],
        ]
        .concat(),
    );
    let (c, t) = raw.total(kept);
    let excluded = raw.files.keys().filter(|n| !kept(n)).count();
    assert!(excluded > 10);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["violations"].as_array().unwrap().len(), 0);
    let ch = &v["checked"];
    assert_eq!(
        (
            ch["total"]["covered"].as_u64(),
            ch["total"]["total"].as_u64()
        ),
        (Some(c), Some(t))
    );
    assert_eq!(ch["excluded_files"].as_u64(), Some(excluded as u64));
    assert_eq!(
        ch["packages"].as_u64(),
        Some(raw.package_counts(kept).len() as u64)
    );

    // The same from a config file.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".covlens.yml"),
        "threshold:\n  total: 0\noverride:\n  - path: tsdb/\n    threshold: 100\nexclude:\n  paths:\n    - ^github\\.com/prometheus/prometheus/tsdb/\n",
    )
    .unwrap();
    let out = check_in(dir.path(), &[path_str(&path), "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let w: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(w, v);
}

/// Kubernetes as the base; the head loses coverage in some packages,
/// drops one and gains a new, uncovered one.
#[test]
fn max_drop_on_kubernetes() {
    let base_path = public(K8S);
    let text = std::fs::read_to_string(&base_path).unwrap();
    let base = Raw::parse(&text);
    let pkgs: Vec<String> = base.package_counts(|_| true).into_keys().collect();
    let gone = &pkgs[1];
    // In every fourth package, the blocks of its first file are not run.
    let mut hit = BTreeSet::new();
    for p in pkgs.iter().step_by(4) {
        let first = base.files.keys().find(|f| dir(f) == p).unwrap();
        hit.insert(first.clone());
    }
    let mut head = String::from("mode: set\n");
    for l in text.lines().skip(1) {
        let (name, rest) = l.rsplit_once(':').unwrap();
        if dir(name) == gone {
            continue;
        }
        if hit.contains(name) {
            let (pos, _) = rest.rsplit_once(' ').unwrap();
            head.push_str(&format!("{name}:{pos} 0\n"));
        } else {
            head.push_str(l);
            head.push('\n');
        }
    }
    head.push_str("k8s.io/kubernetes/pkg/brandnew/x.go:1.1,2.2 7 0\n");
    let tmp = tempfile::tempdir().unwrap();
    let head_path = tmp.path().join("head.out");
    std::fs::write(&head_path, &head).unwrap();

    let b = base.package_counts(|_| true);
    let h = Raw::parse(&head).package_counts(|_| true);
    let mut expected = Vec::new();
    for (name, &(hc, ht)) in &h {
        let Some(&(bc, bt)) = b.get(name) else {
            continue;
        };
        if bt == 0 || ht == 0 {
            continue;
        }
        let drop = tenths(bc, bt) - tenths(hc, ht);
        if drop > 10 {
            expected.push(("max-drop".to_string(), name.clone(), hc, ht, drop));
        }
    }
    assert!(expected.len() > 3);
    let (code, v) = check_json(&[
        path_str(&head_path),
        "--base",
        path_str(&base_path),
        "--max-drop",
        "1",
    ]);
    assert_eq!(code, 1);
    assert_eq!(violations(&v), expected);
    for x in v["violations"].as_array().unwrap() {
        let (bc, bt) = b[x["target"]["name"].as_str().unwrap()];
        assert_eq!(x["base"]["covered"].as_u64(), Some(bc));
        assert_eq!(x["base"]["total"].as_u64(), Some(bt));
        assert_eq!(x["required"].as_f64(), Some(1.0));
    }
    // Allowing the largest drop passes.
    let most = expected.iter().map(|e| e.4).max().unwrap();
    let (code, _) = check_json(&[
        path_str(&head_path),
        "--base",
        path_str(&base_path),
        "--max-drop",
        &format!("{:.1}", most as f64 / 10.0),
    ]);
    assert_eq!(code, 0);
}

/// Runs git in `dir` with no user or system configuration.
fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .args([
            "-c",
            "user.name=covlens",
            "-c",
            "user.email=covlens@example.invalid",
        ])
        .args(args)
        .output()
        .expect("this test needs git: apt-get install -y git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A repository whose files stand in for some of Prometheus' sources
/// (lines `// line N`), and a change to some of their lines, diffed by git.
struct Change {
    dir: tempfile::TempDir,
    /// Profile name -> (repository path, changed lines).
    changed: BTreeMap<String, (String, BTreeSet<u32>)>,
}

impl Change {
    fn diff(&self) -> PathBuf {
        self.dir.path().join("pr.diff")
    }
}

fn prometheus_change(raw: &Raw) -> Change {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("go.mod"), format!("module {PROM_MODULE}\n")).unwrap();
    std::fs::write(root.join("README.md"), "readme\n").unwrap();
    // Files with both covered and uncovered blocks.
    let picks: Vec<&String> = raw
        .files
        .iter()
        .filter(|(_, b)| {
            b.len() > 40 && b.values().any(|v| v.1 > 0) && b.values().any(|v| v.1 == 0)
        })
        .map(|(n, _)| n)
        .step_by(7)
        .take(4)
        .collect();
    assert_eq!(picks.len(), 4);
    let mut changed = BTreeMap::new();
    for name in &picks {
        let rel = name.strip_prefix(&format!("{PROM_MODULE}/")).unwrap();
        let blocks = &raw.files[*name];
        let last = blocks.keys().map(|k| k.2).max().unwrap() + 5;
        let mut lines = BTreeSet::new();
        for (i, k) in blocks.keys().enumerate() {
            if i % 3 == 0 {
                lines.insert(k.0);
            }
            if i % 5 == 0 {
                lines.insert(k.2);
            }
        }
        let text: String = (1..=last).map(|i| format!("// line {i}\n")).collect();
        std::fs::create_dir_all(root.join(rel).parent().unwrap()).unwrap();
        std::fs::write(root.join(rel), text).unwrap();
        changed.insert(name.to_string(), (rel.to_string(), lines));
    }
    git(root, &["init", "-q"]);
    git(root, &["add", "."]);
    git(root, &["commit", "-q", "-m", "base"]);
    for (rel, lines) in changed.values() {
        let old = std::fs::read_to_string(root.join(rel)).unwrap();
        let new: String = old
            .lines()
            .enumerate()
            .map(|(i, l)| {
                let n = i as u32 + 1;
                if lines.contains(&n) {
                    format!("// changed {n}\n")
                } else {
                    format!("{l}\n")
                }
            })
            .collect();
        std::fs::write(root.join(rel), new).unwrap();
    }
    std::fs::write(root.join("README.md"), "readme\nmore\n").unwrap();
    let diff = git(root, &["diff"]);
    std::fs::write(root.join("pr.diff"), diff).unwrap();
    Change { dir, changed }
}

/// Lines of a file: (repository path, first, last).
type Range = (String, u32, u32);

/// Expected patch counts and uncovered changed ranges (repository path,
/// first, last), from the blocks and the lines the change touched.
fn expected_patch(raw: &Raw, ch: &Change) -> ((u64, u64), Vec<Range>) {
    let (mut c, mut t) = (0, 0);
    let mut ranges = Vec::new();
    for (name, (rel, lines)) in &ch.changed {
        let blocks = &raw.files[name];
        let mut uncovered_lines = BTreeSet::new();
        for (k, &(n, count)) in blocks {
            if n == 0 || !lines.iter().any(|&l| l >= k.0 && l <= k.2) {
                continue;
            }
            t += n;
            if count > 0 {
                c += n;
            } else {
                uncovered_lines.extend(lines.iter().filter(|&&l| l >= k.0 && l <= k.2));
            }
        }
        let mut cur: Option<(u32, u32)> = None;
        for l in uncovered_lines {
            match cur {
                Some((s, e)) if e + 1 == l => cur = Some((s, l)),
                Some((s, e)) => {
                    ranges.push((rel.clone(), s, e));
                    cur = Some((l, l));
                }
                None => cur = Some((l, l)),
            }
        }
        if let Some((s, e)) = cur {
            ranges.push((rel.clone(), s, e));
        }
    }
    ((c, t), ranges)
}

fn annotation_ranges(a: &Value) -> Vec<Range> {
    a.as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["path"].as_str().unwrap().to_string(),
                x["start_line"].as_u64().unwrap() as u32,
                x["end_line"].as_u64().unwrap() as u32,
            )
        })
        .collect()
}

#[test]
#[ignore = "needs git"]
fn threshold_patch_with_a_real_git_diff() {
    let prom = public(PROM);
    let raw = Raw::read(&prom);
    let ch = prometheus_change(&raw);
    let ((c, t), ranges) = expected_patch(&raw, &ch);
    assert!(c > 0 && c < t && !ranges.is_empty());
    let diff = ch.diff();
    let at = printed(c, t);
    let above = format!("{:.1}", (tenths(c, t) + 1) as f64 / 10.0);
    // The module from go.mod in the working directory.
    let run = |req: &str| {
        let out = check_in(
            ch.dir.path(),
            &[
                path_str(&prom),
                "--threshold-patch",
                req,
                "--git-diff",
                path_str(&diff),
                "--format",
                "json",
            ],
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        (out.status.code().unwrap(), v)
    };
    let (code, v) = run(&at);
    assert_eq!(code, 0, "{v}");
    let (code, v) = run(&above);
    assert_eq!(code, 1);
    assert_eq!(
        violations(&v),
        [("threshold-patch".into(), String::new(), c, t, tenths(c, t))]
    );
    assert_eq!(v["violations"][0]["target"]["kind"], "patch");
    assert_eq!(
        (
            v["checked"]["patch"]["covered"].as_u64(),
            v["checked"]["patch"]["total"].as_u64()
        ),
        (Some(c), Some(t))
    );
    assert_eq!(annotation_ranges(&v["uncovered_changes"]), ranges);

    // What a GitHub workflow sees: one ::error for the rule, a ::warning
    // per uncovered changed range, on stdout after the text report.
    let out = covlens()
        .current_dir(ch.dir.path())
        .env("GITHUB_ACTIONS", "true")
        .args(["check", path_str(&prom), "--threshold-patch", &above])
        .args(["--git-diff", path_str(&diff)])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let errors: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("::error "))
        .collect();
    assert_eq!(
        errors,
        [format!(
            "::error title=Patch coverage below threshold::changed statements: {at}%25 ({c}/{t} statements) covered, below the required {above}%25"
        )]
    );
    let warnings: Vec<String> = stdout
        .lines()
        .filter(|l| l.starts_with("::warning "))
        .map(String::from)
        .collect();
    let want: Vec<String> = ranges
        .iter()
        .map(|(p, s, e)| {
            let msg = if s == e {
                format!("Added line {s} is not covered by tests.")
            } else {
                format!("Added lines {s}-{e} are not covered by tests.")
            };
            format!("::warning file={p},line={s},endLine={e},title=Uncovered change::{msg}")
        })
        .collect();
    assert_eq!(warnings, want);
}

#[test]
#[ignore = "needs git"]
fn annotate_batches_of_fifty() {
    let prom = public(PROM);
    let raw = Raw::read(&prom);
    let ch = prometheus_change(&raw);
    let (_, ranges) = expected_patch(&raw, &ch);
    assert!(ranges.len() > 50, "{} ranges", ranges.len());
    let tmp = tempfile::tempdir().unwrap();
    let out_path = tmp.path().join("annotations.json");
    let out = covlens()
        .args([
            "annotate",
            "--base",
            path_str(&prom),
            "--head",
            path_str(&prom),
        ])
        .args(["--git-diff", path_str(&ch.diff()), "--module", PROM_MODULE])
        .arg("-o")
        .arg(&out_path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&std::fs::read(&out_path).unwrap()).unwrap();
    let batches = v.as_array().unwrap();
    assert_eq!(batches.len(), ranges.len().div_ceil(50));
    let mut all = Vec::new();
    for (i, b) in batches.iter().enumerate() {
        let a = b["annotations"].as_array().unwrap();
        assert!(a.len() <= 50 && !a.is_empty());
        assert_eq!(b["title"], "Coverage of changed lines");
        assert!(b["summary"].as_str().unwrap().ends_with(&format!(
            "(part {} of {})",
            i + 1,
            batches.len()
        )));
        for x in a {
            assert_eq!(x["annotation_level"], "warning");
            assert_eq!(x["title"], "Uncovered change");
        }
        all.extend(annotation_ranges(&b["annotations"]));
    }
    assert_eq!(all, ranges);
}

/// A diff cut short (a hunk shorter than its header says, as a truncated
/// upload gives) is refused with its line by every command that reads
/// one; it used to read the next file's headers as content, lose that
/// file, and pass `--threshold-patch`.
#[test]
#[ignore = "needs git"]
fn a_diff_cut_short_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("go.mod"), "module example.com/m\n").unwrap();
    for f in ["a.go", "b.go"] {
        std::fs::write(root.join(f), "package m\n").unwrap();
    }
    git(root, &["init", "-q"]);
    git(root, &["add", "."]);
    git(root, &["commit", "-q", "-m", "base"]);
    std::fs::write(root.join("a.go"), "package m\n\nvar A = 1\n").unwrap();
    std::fs::write(root.join("b.go"), "package m\n\nvar B = 2\n").unwrap();
    let diff = git(root, &["diff"]);
    // Drop the last added line of a.go's hunk.
    let cut = diff.replacen("+var A = 1\n", "", 1);
    assert_ne!(cut, diff);
    let line = cut
        .lines()
        .position(|l| l.starts_with("diff --git a/b.go"))
        .unwrap()
        + 1;
    std::fs::write(root.join("pr.diff"), &cut).unwrap();
    std::fs::write(
        root.join("p.out"),
        "mode: set\nexample.com/m/a.go:3.1,3.10 1 1\nexample.com/m/b.go:3.1,3.10 1 0\n",
    )
    .unwrap();
    let want = format!("pr.diff:{line}:1: expected a line of the hunk");
    let patch = ["--threshold-patch", "80", "--git-diff", "pr.diff"];
    for (args, code) in [
        (&["check", "p.out"][..], 2),
        (
            &[
                "annotate",
                "--base",
                "p.out",
                "--head",
                "p.out",
                "--git-diff",
                "pr.diff",
            ][..],
            2,
        ),
        (
            &[
                "comment",
                "--base",
                "p.out",
                "--head",
                "p.out",
                "--git-diff",
                "pr.diff",
            ][..],
            1,
        ),
    ] {
        let mut c = covlens();
        c.current_dir(root).args(args).args(["-o", "out.txt"]);
        if args[0] == "check" {
            c.args(patch);
        }
        let out = c.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
        assert!(stderr.contains(&want), "{args:?}: {stderr}");
        assert!(!root.join("out.txt").exists());
    }
    // The whole diff: b.go's uncovered line fails the patch rule.
    std::fs::write(root.join("pr.diff"), &diff).unwrap();
    let out = check_in(
        root,
        &["p.out", "--threshold-patch", "80", "--git-diff", "pr.diff"],
    );
    assert_eq!(out.status.code(), Some(1));
}

/// GitHub's escaping in workflow commands: `%`, `:` and `,` in a path
/// property; a file violation points at its first uncovered block.
#[test]
#[ignore = "needs git"]
fn workflow_commands_escape_properties() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let rel = "pkg/a,b:c%.go";
    std::fs::create_dir(root.join("pkg")).unwrap();
    std::fs::write(root.join("go.mod"), "module example.com/m\n").unwrap();
    let body: String = (1..=12).map(|i| format!("// line {i}\n")).collect();
    std::fs::write(root.join(rel), &body).unwrap();
    git(root, &["init", "-q"]);
    git(root, &["add", "."]);
    git(root, &["commit", "-q", "-m", "base"]);
    std::fs::write(root.join(rel), body.replace("// line 4\n", "// four\n")).unwrap();
    std::fs::write(root.join("pr.diff"), git(root, &["diff"])).unwrap();
    let name = format!("example.com/m/{rel}");
    std::fs::write(
        root.join("head.out"),
        format!("mode: set\n{name}:1.1,2.2 1 1\n{name}:3.1,5.2 2 0\n{name}:8.1,9.2 3 0\n"),
    )
    .unwrap();
    let out = covlens()
        .current_dir(root)
        .env("GITHUB_ACTIONS", "true")
        .args(["check", "head.out", "--threshold-file", "50"])
        .args(["--threshold-patch", "50", "--git-diff", "pr.diff"])
        .args(["--format", "json", "-o", "report.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    // The file: 1 of 6 statements; the patch: the 3.1-5.2 block, 0 of 2.
    let (file, patch) = (printed(1, 6), printed(0, 2));
    assert_eq!(
        lines,
        [
            format!("::error file=pkg/a%2Cb%3Ac%25.go,line=3,endLine=5,title=File coverage below threshold::file example.com/m/pkg/a,b:c%25.go: {file}%25 (1/6 statements) is below the required 50%25"),
            format!("::error title=Patch coverage below threshold::changed statements: {patch}%25 (0/2 statements) covered, below the required 50%25"),
            "::warning file=pkg/a%2Cb%3Ac%25.go,line=4,endLine=4,title=Uncovered change::Added line 4 is not covered by tests.".to_string(),
        ]
    );
    let v: Value =
        serde_json::from_slice(&std::fs::read(root.join("report.json")).unwrap()).unwrap();
    assert_eq!(
        v["violations"][0]["location"],
        serde_json::json!({"path": rel, "start_line": 3, "end_line": 5})
    );
}

#[test]
fn text_is_safe_for_a_terminal() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("p.out"),
        "mode: set\nexample.com/m/\x1b[2J\u{202e}x.go:1.1,2.2 1 0\n",
    )
    .unwrap();
    let out = check_in(tmp.path(), &["p.out", "--threshold-file", "50"]);
    assert_eq!(out.status.code(), Some(1));
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(!s.contains('\x1b') && !s.contains('\u{202e}'), "{s:?}");
    assert!(s.contains("example.com/m/\\x1b[2J\\u{202e}x.go"), "{s}");
}

#[test]
fn config_file_flags_and_exit_codes() {
    let path = public(K8S);
    let raw = Raw::read(&path);
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("policy.yml");
    std::fs::write(
        &cfg,
        "threshold:\n  package: 40\n  total: 1\noverride:\n  - path: ^k8s\\.io/kubernetes/pkg/util/\n    threshold: 0\n",
    )
    .unwrap();
    let util = Regex::new(r"^k8s\.io/kubernetes/pkg/util/").unwrap();
    let pkgs = raw.package_counts(|_| true);
    let (code, v) = check_json(&[path_str(&path), "--config", path_str(&cfg)]);
    assert_eq!(code, 1);
    let expected = below("threshold-package", &pkgs, |n| {
        Some(if util.is_match(n) { 0.0 } else { 40.0 })
    });
    assert!(!expected.is_empty());
    assert_eq!(violations(&v), expected);
    let from_file = expected.len();

    // A flag replaces the file's value; a flag's override comes first, and
    // applies to the files it matches too (with no general file threshold).
    let (code, v) = check_json(&[
        path_str(&path),
        "--config",
        path_str(&cfg),
        "--threshold-package",
        "20",
        "--override",
        "pkg/util/=100",
    ]);
    assert_eq!(code, 1);
    let mut expected = below("threshold-package", &pkgs, |n| {
        Some(if n.contains("pkg/util/") { 100.0 } else { 20.0 })
    });
    expected.extend(below("threshold-file", &raw.file_counts(|_| true), |n| {
        n.contains("pkg/util/").then_some(100.0)
    }));
    assert_eq!(violations(&v), expected);

    // Text: a line per violation and a summary; exit 1.
    let out = check_in(dir.path(), &[path_str(&path), "--config", path_str(&cfg)]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    let fails = text.lines().filter(|l| l.starts_with("FAIL ")).count();
    assert_eq!(fails, from_file);
    assert!(text.lines().last().unwrap().starts_with(&format!(
        "coverage policy not met, {from_file} violations: total "
    )));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("coverage policy not met"),
        "{text}"
    );

    // Bad config: the key and the line, exit 2.
    std::fs::write(&cfg, "threshold:\n  total: 10\n  package: 150\n").unwrap();
    let out = check_in(dir.path(), &[path_str(&path), "--config", path_str(&cfg)]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("policy.yml:3:12: threshold.package: expected a number from 0 to 100"),
        "{err}"
    );
    std::fs::write(&cfg, "treshold:\n  total: 10\n").unwrap();
    let out = check_in(dir.path(), &[path_str(&path), "--config", path_str(&cfg)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("unknown field `treshold`")
    );

    // Bad usage: exit 2.
    let p = path_str(&path);
    for args in [
        vec![p],
        vec![p, "--threshold-total", "101"],
        vec![p, "--threshold-patch", "50"],
        vec![p, "--max-drop", "1"],
        vec![p, "--override", "nopercent"],
        vec![p, "--override", "(=50"],
        vec![p, "--exclude", "[", "--threshold-total", "1"],
        vec![],
    ] {
        let out = check_in(dir.path(), &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
    // Met: exit 0; a missing profile or diff: 1 (as every command).
    assert_eq!(
        check_in(
            dir.path(),
            &[p, "--threshold-patch", "1", "--git-diff", "no.diff"]
        )
        .status
        .code(),
        Some(1)
    );
    assert_eq!(
        check_in(dir.path(), &[p, "--threshold-total", "0"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        check_in(dir.path(), &["missing.out", "--threshold-total", "0"])
            .status
            .code(),
        Some(1)
    );
}

/// Several inputs are merged into one profile before checking.
#[test]
fn several_inputs_are_merged() {
    let path = public(PROM);
    let text = std::fs::read_to_string(&path).unwrap();
    let raw = Raw::parse(&text);
    let (c, t) = raw.total(|_| true);
    // Files alternately in one input or the other (a merge needs a file's
    // blocks to be the same in every input that has it).
    let names: Vec<&String> = raw.files.keys().collect();
    let (mut a_text, mut b_text) = (String::from("mode: set\n"), String::from("mode: set\n"));
    for l in text.lines().skip(1) {
        let name = l.rsplit_once(':').unwrap().0;
        let i = names.iter().position(|n| n.as_str() == name).unwrap();
        let out = if i % 2 == 0 { &mut a_text } else { &mut b_text };
        out.push_str(l);
        out.push('\n');
    }
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a.out"), tmp.path().join("b.out"));
    std::fs::write(&a, a_text).unwrap();
    std::fs::write(&b, b_text).unwrap();
    let above = format!("{:.1}", (tenths(c, t) + 1) as f64 / 10.0);
    let (code, v) = check_json(&[path_str(&a), path_str(&b), "--threshold-total", &above]);
    assert_eq!(code, 1);
    assert_eq!(
        violations(&v),
        [("threshold-total".into(), String::new(), c, t, tenths(c, t))]
    );
}

/// Under GitHub Actions, JSON on stdout stays JSON: the workflow commands
/// go to stderr, one `::error` per violation.
#[test]
fn workflow_commands_beside_json_on_stdout() {
    let path = public(K8S);
    let tmp = tempfile::tempdir().unwrap();
    let out = covlens()
        .current_dir(tmp.path())
        .env("GITHUB_ACTIONS", "true")
        .args(["check", path_str(&path), "--threshold-package", "50"])
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let n = v["violations"].as_array().unwrap().len();
    let stderr = String::from_utf8(out.stderr).unwrap();
    let errors = stderr
        .lines()
        .filter(|l| l.starts_with("::error title=Package coverage below threshold::package "))
        .count();
    assert_eq!((errors, n > 0), (n, true), "{stderr}");
}
