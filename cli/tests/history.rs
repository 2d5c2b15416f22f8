//! End-to-end tests of `covlens history`: the built binary against an
//! SQLite file and (with `--include-ignored`) the test PostgreSQL server.
//! Expected numbers come from `covlens summary --format json` of the same
//! inputs merged by `covlens merge`, never from the history code.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

fn demo(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/demo")
        .join(name)
        .to_str()
        .unwrap()
        .to_string()
}

fn covlens(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_covlens"))
        .args(args)
        .output()
        .unwrap()
}

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "covlens failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn json(o: &Output) -> Value {
    serde_json::from_str(&ok(o)).unwrap()
}

/// A new, empty database on the test server; panics when it is not there.
fn postgres_store() -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let admin = std::env::var("COVLENS_TEST_POSTGRES").unwrap_or_else(|_| {
        panic!(
            "COVLENS_TEST_POSTGRES is not set: run scripts/test.sh, or \
             `scripts/postgres-testenv.sh start && eval \"$(scripts/postgres-testenv.sh env)\"`"
        )
    });
    let mut client = postgres::Client::connect(&admin, postgres::NoTls)
        .unwrap_or_else(|e| panic!("cannot reach the test PostgreSQL server {admin}: {e}"));
    let name = format!(
        "covlens_cli{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    let (head, query) = admin.split_once('?').unwrap_or((&admin, ""));
    let (scheme_host, _) = head.rsplit_once('/').unwrap();
    format!("{scheme_host}/{name}?{query}")
}

fn sqlite_store(dir: &Path) -> String {
    dir.join("h.db").to_str().unwrap().to_string()
}

/// Per package `(covered, total)` of `inputs` merged, from `covlens summary`.
fn expected_packages(dir: &Path, inputs: &[String]) -> BTreeMap<String, (u64, u64)> {
    static N: AtomicUsize = AtomicUsize::new(0);
    let merged = dir.join(format!("merged{}.out", N.fetch_add(1, Ordering::Relaxed)));
    let merged = merged.to_str().unwrap();
    let mut args = vec!["merge", "-o", merged];
    args.extend(inputs.iter().map(String::as_str));
    ok(&covlens(&args));
    let s = json(&covlens(&[
        "summary", merged, "--by", "package", "--format", "json",
    ]));
    s["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_string(),
                (r["covered"].as_u64().unwrap(), r["total"].as_u64().unwrap()),
            )
        })
        .collect()
}

fn record(store: &str, job: &str, build: &str, time: &str, inputs: &[String]) -> Output {
    let mut args = vec![
        "history", "record", "--store", store, "--job", job, "--build", build, "--time", time,
        "--branch", "main",
    ];
    args.extend(inputs.iter().map(String::as_str));
    covlens(&args)
}

/// Three runs of the demo job: all profiles, then two subsets.
fn demo_runs() -> Vec<(&'static str, &'static str, Vec<String>)> {
    let all: Vec<String> = [
        "calc.out",
        "calc-advanced.out",
        "calcx.out",
        "cmd-goprog.out",
        "pkg-a.out",
        "pkg-ab.out",
    ]
    .iter()
    .map(|n| demo(n))
    .collect();
    vec![
        (
            "101",
            "2026-12-01T10:00:00Z",
            vec![demo("calc.out"), demo("pkg-a.out")],
        ),
        ("102", "2026-12-02T10:00:00+01:00", all),
        (
            "103",
            "2026-12-03T10:00:00Z",
            vec![demo("calc.out"), demo("cmd-goprog.out")],
        ),
    ]
}

fn show_and_drops_match_summary(store: &str, dir: &Path) {
    let runs = demo_runs();
    // Recorded newest first: the history orders by time, not arrival.
    for (build, time, inputs) in runs.iter().rev() {
        ok(&record(store, "demo", build, time, inputs));
    }
    let expected: Vec<_> = runs
        .iter()
        .map(|(_, _, inputs)| expected_packages(dir, inputs))
        .collect();

    let h = json(&covlens(&[
        "history", "show", "--store", store, "--job", "demo", "--format", "json",
    ]));
    let builds: Vec<_> = h["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["build"].as_str().unwrap())
        .collect();
    assert_eq!(builds, ["101", "102", "103"]);
    let mut names: Vec<&String> = expected.iter().flat_map(|e| e.keys()).collect();
    names.sort();
    names.dedup();
    let rows = h["rows"].as_array().unwrap();
    assert_eq!(rows.len(), names.len());
    for (row, name) in rows.iter().zip(&names) {
        assert_eq!(row["name"].as_str().unwrap(), name.as_str());
        for (i, e) in expected.iter().enumerate() {
            let p = &row["points"][i];
            match e.get(*name) {
                Some(&(c, t)) => assert_eq!(
                    (p["covered"].as_u64(), p["total"].as_u64()),
                    (Some(c), Some(t)),
                    "{name} run {i}"
                ),
                None => assert!(p.is_null(), "{name} run {i}: {p}"),
            }
        }
    }

    // --last 2: the newest two.
    let h2 = json(&covlens(&[
        "history", "show", "--store", store, "--job", "demo", "--last", "2", "--format", "json",
    ]));
    assert_eq!(h2["runs"][0]["build"], "102");
    assert_eq!(h2["runs"].as_array().unwrap().len(), 2);

    // Drops, computed here from the summaries.
    let min = 5.0;
    let mut want = Vec::new();
    for name in &names {
        for i in 1..expected.len() {
            let (Some(&(c0, t0)), Some(&(c1, t1))) =
                (expected[i - 1].get(*name), expected[i].get(*name))
            else {
                continue;
            };
            if t0 == 0 || t1 == 0 {
                continue;
            }
            // Between the percentages as printed, one decimal each.
            let shown = |c: u64, t: u64| -> f64 {
                format!("{:.1}", 100.0 * c as f64 / t as f64)
                    .parse()
                    .unwrap()
            };
            let fall = ((shown(c0, t0) - shown(c1, t1)) * 10.0).round() / 10.0;
            if fall > min {
                want.push((name.to_string(), runs[i - 1].0, runs[i].0, fall));
            }
        }
    }
    assert!(!want.is_empty());
    let d = json(&covlens(&[
        "history",
        "drops",
        "--store",
        store,
        "--job",
        "demo",
        "--min-points",
        "5",
        "--format",
        "json",
    ]));
    let got: Vec<_> = d["drops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["name"].as_str().unwrap().to_string(),
                x["from"]["build"].as_str().unwrap(),
                x["to"]["build"].as_str().unwrap(),
                x["points"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
    for (g, w) in got.iter().zip(&want) {
        assert_eq!((&g.0, g.1, g.2), (&w.0, w.1, w.2));
        assert!((g.3 - w.3).abs() < 1e-9, "{g:?} vs {w:?}");
    }

    // Per directory of 3 elements below the same root: as `covlens table
    // --depth 3` groups, from the full import path (`--root ''`) and from
    // the default root (the longest common directory).
    let merged = dir.join("run102.out");
    let mut args = vec!["merge", "-o", merged.to_str().unwrap()];
    args.extend(runs[1].2.iter().map(String::as_str));
    ok(&covlens(&args));
    for root in [Some(""), None] {
        let mut h_args = vec![
            "history", "show", "--store", store, "--job", "demo", "--depth", "3", "--format",
            "json",
        ];
        let column = format!("x={}", merged.display());
        let mut t_args = vec![
            "table", "--column", &column, "--depth", "3", "--format", "json",
        ];
        if let Some(r) = root {
            h_args.extend(["--root", r]);
            t_args.extend(["--root", r]);
        }
        let h3 = json(&covlens(&h_args));
        let t = json(&covlens(&t_args));
        let t_root = t["root"].as_str().unwrap_or("").to_string();
        let from_table: Vec<_> = t["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                // Table rows are named below their root.
                let name = r["name"].as_str().unwrap();
                let full = match (t_root.as_str(), name) {
                    ("", n) => n.to_string(),
                    (r, ".") => r.to_string(),
                    (r, n) => format!("{r}/{n}"),
                };
                (
                    full,
                    r["cells"][0]["covered"].as_u64(),
                    r["cells"][0]["total"].as_u64(),
                )
            })
            .collect();
        let from_history: Vec<_> = h3["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["name"].as_str().unwrap().to_string(),
                    r["points"][1]["covered"].as_u64(),
                    r["points"][1]["total"].as_u64(),
                )
            })
            .collect();
        assert_eq!(h3["root"].as_str(), Some(t_root.as_str()), "{root:?}");
        assert!(from_history.len() > 1, "{from_history:?}");
        assert_eq!(from_history, from_table, "root {root:?}");
    }

    // The text formats carry the same numbers.
    let table = ok(&covlens(&[
        "history",
        "show",
        "--store",
        store,
        "--job",
        "demo",
        "--path",
        "example.com/goprog/pkg",
    ]));
    let lines: Vec<_> = table.lines().collect();
    assert!(
        lines[0].starts_with("Package") && lines[0].ends_with("103"),
        "{table}"
    );
    let (c, t) = expected[0]["example.com/goprog/pkg/a"];
    let pct = format!("{:.1}%", 100.0 * c as f64 / t as f64);
    assert!(
        lines[1].starts_with("example.com/goprog/pkg/a ") && lines[1].contains(&pct),
        "{table}"
    );
    assert_eq!(lines.len(), 4, "{table}"); // pkg/a, pkg/ab, total
    let md = ok(&covlens(&[
        "history", "drops", "--store", store, "--job", "demo", "--format", "markdown",
    ]));
    assert!(md.starts_with("| Package | From | To |"), "{md}");
}

fn record_twice(store: &str) {
    let runs = demo_runs();
    let (build, time, inputs) = &runs[1];
    let first = ok(&record(store, "j", build, time, inputs));
    assert!(
        first.starts_with("recorded job j build 102: 8 files"),
        "{first}"
    );
    let again = ok(&record(store, "j", build, "2027-01-01T00:00:00Z", inputs));
    assert!(
        again.contains("already recorded with the same data"),
        "{again}"
    );
    let other = record(store, "j", build, time, &runs[0].2);
    assert_eq!(other.status.code(), Some(1));
    let err = String::from_utf8_lossy(&other.stderr);
    assert!(
        err.contains("already recorded with different data"),
        "{err}"
    );
    let h = json(&covlens(&[
        "history", "show", "--store", store, "--job", "j", "--format", "json",
    ]));
    assert_eq!(h["runs"].as_array().unwrap().len(), 1);
    assert_eq!(h["runs"][0]["files"], 8);
}

/// A profile of `files` files in `files / 5` packages; `seed` varies which
/// blocks are covered.
fn synthetic(path: &Path, files: usize, seed: u64) {
    let mut s = String::from("mode: set\n");
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    for f in 0..files {
        for b in 0..20u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            s.push_str(&format!(
                "k8s.io/kubernetes/pkg/p{:03}/f{f:04}.go:{}.1,{}.9 {} {}\n",
                f / 5,
                b * 3 + 1,
                b * 3 + 2,
                1 + b % 4,
                u8::from(x.is_multiple_of(3))
            ));
        }
    }
    std::fs::write(path, s).unwrap();
}

/// Several processes record into one store at once: every run lands once,
/// with its numbers, and two processes recording the same build store it
/// once.
fn concurrent_processes(store: &str, dir: &Path) {
    const N: usize = 8;
    let profiles: Vec<PathBuf> = (0..N)
        .map(|i| {
            let p = dir.join(format!("run{i}.out"));
            synthetic(&p, 600, i as u64 + 1);
            p
        })
        .collect();
    let bin = env!("CARGO_BIN_EXE_covlens");
    let spawn = |build: String, p: &Path| {
        Command::new(bin)
            .args([
                "history", "record", "--store", store, "--job", "conc", "--build",
            ])
            .arg(&build)
            .args(["--time", &format!("2026-12-01T00:00:{build:0>2}Z")])
            .arg(p)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let mut children: Vec<_> = profiles
        .iter()
        .enumerate()
        .map(|(i, p)| spawn(i.to_string(), p))
        .collect();
    // Two more recorders of build 0, racing the first.
    children.push(spawn("0".into(), &profiles[0]));
    children.push(spawn("0".into(), &profiles[0]));
    for c in children {
        ok(&c.wait_with_output().unwrap());
    }
    let h = json(&covlens(&[
        "history", "show", "--store", store, "--job", "conc", "--last", "100", "--format", "json",
    ]));
    let runs = h["runs"].as_array().unwrap();
    assert_eq!(runs.len(), N);
    for (i, (run, p)) in runs.iter().zip(&profiles).enumerate() {
        assert_eq!(run["build"], i.to_string());
        let s = json(&covlens(&[
            "summary",
            p.to_str().unwrap(),
            "--format",
            "json",
        ]));
        assert_eq!(run["covered"], s["total"]["covered"], "run {i}");
        assert_eq!(run["total"], s["total"]["total"], "run {i}");
        assert_eq!(run["files"], 600);
        assert_eq!(h["total"][i]["covered"], s["total"]["covered"]);
    }
    assert_eq!(h["rows"].as_array().unwrap().len(), 120);
}

#[test]
fn sqlite_show_and_drops_match_summary() {
    let dir = tempfile::tempdir().unwrap();
    show_and_drops_match_summary(&sqlite_store(dir.path()), dir.path());
}

#[test]
fn sqlite_record_twice_is_a_no_op() {
    let dir = tempfile::tempdir().unwrap();
    record_twice(&sqlite_store(dir.path()));
}

#[test]
fn sqlite_concurrent_processes() {
    let dir = tempfile::tempdir().unwrap();
    concurrent_processes(&sqlite_store(dir.path()), dir.path());
}

#[test]
#[ignore = "needs postgres"]
fn postgres_show_and_drops_match_summary() {
    let dir = tempfile::tempdir().unwrap();
    show_and_drops_match_summary(&postgres_store(), dir.path());
}

#[test]
#[ignore = "needs postgres"]
fn postgres_record_twice_is_a_no_op() {
    // The `postgres://` spelling too.
    let url = postgres_store().replacen("postgresql://", "postgres://", 1);
    record_twice(&url);
}

#[test]
#[ignore = "needs postgres"]
fn postgres_concurrent_processes() {
    let dir = tempfile::tempdir().unwrap();
    concurrent_processes(&postgres_store(), dir.path());
}

#[test]
fn default_store_is_in_the_working_directory() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_covlens"))
        .current_dir(dir.path())
        .args(["history", "record", "--job", "j", "--build", "1"])
        .arg(demo("calc.out"))
        .output()
        .unwrap();
    ok(&o);
    assert!(dir.path().join("covlens-history.db").is_file());
}

#[test]
fn bad_options_fail_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_store(dir.path());
    let o = record(&store, "j", "1", "last tuesday", &[demo("calc.out")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("invalid time \"last tuesday\""));
    let o = covlens(&["history", "show", "--store", &store, "--job", "j"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("does not exist: record a run first"));
    assert!(!Path::new(&store).exists());
    let o = covlens(&["history", "show", "--store", "mysql://x/y", "--job", "j"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unrecognised store"));
    // A bad profile records nothing.
    let bad = dir.path().join("bad.out");
    std::fs::write(&bad, "mode: set\na.go:1.1,2.2 1 x\n").unwrap();
    let o = record(
        &store,
        "j",
        "1",
        "2026-12-01T00:00:00Z",
        &[bad.to_str().unwrap().into()],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("bad.out:2:"));
    // So does an empty one.
    let empty = dir.path().join("empty.out");
    std::fs::write(&empty, "mode: set\n").unwrap();
    let o = record(
        &store,
        "j",
        "1",
        "2026-12-01T00:00:00Z",
        &[empty.to_str().unwrap().into()],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no files"));
    // Nothing was opened, so nothing was created.
    assert!(!Path::new(&store).exists());
}

/// `record --flaky-from` stores per package what `covlens flaky` finds in
/// the same runs; `history prune` keeps the newest runs.
#[test]
fn flaky_from_and_prune() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_store(dir.path());
    let runs = demo_runs();
    // Each run of the demo job merged into one profile.
    let merged: Vec<String> = runs
        .iter()
        .enumerate()
        .map(|(i, (_, _, inputs))| {
            let out = dir.path().join(format!("run{i}.out"));
            let out = out.to_str().unwrap().to_string();
            let mut args = vec!["merge", "-o", &out];
            args.extend(inputs.iter().map(String::as_str));
            ok(&covlens(&args));
            out
        })
        .collect();
    for (build, time, inputs) in &runs {
        ok(&record(&store, "demo", build, time, inputs));
    }
    let flaky_from = merged.join(",");
    let out = ok(&covlens(&[
        "history",
        "record",
        "--store",
        &store,
        "--job",
        "demo",
        "--build",
        "103",
        "--time",
        runs[2].1,
        "--branch",
        "main",
        "--flaky-from",
        &flaky_from,
        &runs[2].2[0],
        &runs[2].2[1],
    ]));
    assert!(out.contains("flaky coverage over 3 runs"), "{out}");
    let mut args = vec!["flaky", "--format", "json"];
    args.extend(merged.iter().map(String::as_str));
    let want: BTreeMap<String, u64> = json(&covlens(&args))["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                p["statements"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(want.values().any(|&n| n > 0));
    let h = json(&covlens(&[
        "history", "show", "--store", &store, "--job", "demo", "--format", "json",
    ]));
    let got: BTreeMap<String, u64> = h["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| Some((r["name"].as_str()?.to_string(), r["flaky"][2].as_u64()?)))
        .collect();
    // Packages of the recorded run (103) that the flaky runs know.
    for (name, n) in &got {
        assert_eq!(want.get(name), Some(n), "{name}");
    }
    assert!(!got.is_empty());
    assert!(
        h["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["flaky"][0].is_null())
    );
    assert_eq!(h["runs"][2]["flaky_runs"], 3);
    assert!(h["runs"][0].get("flaky_runs").is_none());
    // The table and the Markdown end each row with the newest run's flaky
    // statements (`-`: not measured for the row), the total with their sum.
    for (format, sep) in [("table", None), ("markdown", Some('|'))] {
        let text = ok(&covlens(&[
            "history", "show", "--store", &store, "--job", "demo", "--format", format,
        ]));
        let cells = |l: &str| -> Vec<String> {
            match sep {
                Some(c) => l
                    .split(c)
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect(),
                None => l.split_whitespace().map(str::to_string).collect(),
            }
        };
        let mut lines = text.lines();
        let head = cells(lines.next().unwrap());
        assert!(
            head.last().unwrap() == "flaky/3" || head.last().unwrap() == "flaky (3 runs)",
            "{text}"
        );
        let mut sum = 0;
        for l in lines.filter(|l| l.contains("example.com/")) {
            let c = cells(l);
            let name = &c[0];
            let last = c.last().unwrap();
            match got.get(name) {
                Some(n) => {
                    assert_eq!(last, &n.to_string(), "{l}");
                    sum += n;
                }
                None => assert_eq!(last, "-", "{l}"),
            }
        }
        let total = cells(text.lines().last().unwrap());
        assert_eq!(
            total.last().unwrap().trim_matches('*'),
            sum.to_string(),
            "{text}"
        );
    }

    let out = ok(&covlens(&[
        "history", "prune", "--store", &store, "--job", "demo", "--keep", "1",
    ]));
    assert!(out.contains("2 runs deleted"), "{out}");
    let h = json(&covlens(&[
        "history", "show", "--store", &store, "--job", "demo", "--format", "json",
    ]));
    assert_eq!(h["runs"].as_array().unwrap().len(), 1);
    assert_eq!(h["runs"][0]["build"], "103");
}

/// `table --history` draws a text sparkline per package from the recorded
/// runs; `comment --history` lists a package of the head that fell below
/// the mean of its recorded runs.
#[test]
fn trends_in_table_and_comment() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_store(dir.path());
    for (build, time, inputs) in demo_runs() {
        ok(&record(&store, "demo", build, time, &inputs));
    }
    let calc = demo("calc.out");
    let table = ok(&covlens(&[
        "table",
        "--column",
        &format!("head={calc}"),
        "--history",
        &store,
        "--history-job",
        "demo",
        "--trend",
        "3",
        "--root",
        "",
    ]));
    assert!(
        table.lines().next().unwrap().ends_with("| last 3 runs |"),
        "{table}"
    );
    // Under the default root (calc's own directory, row `.`), the row is
    // looked up by its full import path: the same sparkline.
    let rooted = ok(&covlens(&[
        "table",
        "--column",
        &format!("head={calc}"),
        "--history",
        &store,
        "--history-job",
        "demo",
        "--trend",
        "3",
    ]));
    let spark_of = |t: &str, row: &str| {
        t.lines()
            .find(|l| l.starts_with(row))
            .map(|l| l.rsplit('|').nth(1).unwrap().trim().to_string())
    };
    assert_eq!(
        spark_of(&rooted, "| . |"),
        spark_of(&table, "| example.com/goprog/calc |"),
        "{rooted}"
    );
    let calc_row = table
        .lines()
        .find(|l| l.starts_with("| example.com/goprog/calc |"))
        .unwrap();
    // calc is in every run with the same numbers: a flat line of 3 runs.
    let spark = calc_row.rsplit('|').nth(1).unwrap().trim();
    assert_eq!(spark.chars().count(), 3, "{calc_row}");
    assert!(
        spark.chars().all(|c| c == spark.chars().next().unwrap()),
        "{calc_row}"
    );
    // A package only in run 102 has one point and two gaps.
    let ab = table
        .lines()
        .find(|l| l.contains("pkg/ab"))
        .map(|l| l.to_string());
    assert!(ab.is_none(), "not in the head column: {table}");

    // The head: calc with every count zeroed, so it is 0% against a trend
    // of calc's recorded numbers.
    let text = std::fs::read_to_string(&calc).unwrap();
    let zeroed: String = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                format!("{l}\n")
            } else {
                format!("{} 0\n", l.rsplit_once(' ').unwrap().0)
            }
        })
        .collect();
    let head = dir.path().join("head.out");
    std::fs::write(&head, zeroed).unwrap();
    let h = json(&covlens(&[
        "history", "show", "--store", &store, "--job", "demo", "--format", "json",
    ]));
    let row = h["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "example.com/goprog/calc")
        .unwrap();
    let mean: f64 = row["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["percent"].as_f64().unwrap())
        .sum::<f64>()
        / 3.0;
    let comment = ok(&covlens(&[
        "comment",
        "--base",
        &calc,
        "--head",
        head.to_str().unwrap(),
        "--history",
        &store,
        "--history-job",
        "demo",
    ]));
    assert!(
        comment.contains("Below their recent trend (1 package)"),
        "{comment}"
    );
    assert!(
        comment.contains(&format!(
            "| example.com/goprog/calc | 0.0% | {:.1}% |",
            mean
        )),
        "{comment}"
    );
    // Without history: no such section.
    let plain = ok(&covlens(&[
        "comment",
        "--base",
        &calc,
        "--head",
        head.to_str().unwrap(),
    ]));
    assert!(!plain.contains("recent trend"));
}

/// History's Markdown escapes names as comments and tables do: a package
/// or build named like a mention or a reference stays text, and a bidi
/// control cannot reorder a name.
#[test]
fn markdown_names_stay_text() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("p.out");
    std::fs::write(
        &p,
        "mode: set\nexample.com/m/@octocat/a.go:1.1,2.2 1 1\nexample.com/m/x\u{202e}og.c/c.go:1.1,2.2 1 0\n",
    )
    .unwrap();
    let store = dir.path().join("h.db");
    let store = store.to_str().unwrap();
    let inputs = [p.to_str().unwrap().to_string()];
    ok(&record(
        store,
        "j",
        "@octocat#1",
        "2026-01-01T00:00:00Z",
        &inputs,
    ));
    let md = ok(&covlens(&[
        "history", "show", "--store", store, "--job", "j", "--format", "markdown",
    ]));
    assert!(md.contains("@\u{2060}octocat\\#\u{2060}1"), "{md}");
    assert!(md.contains("| example.com/m/@\u{2060}octocat |"), "{md}");
    assert!(
        !md.contains('\u{202e}') && md.contains("x\u{FFFD}og.c"),
        "{md}"
    );
}
