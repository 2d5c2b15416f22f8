//! `covlens flaky` against the Go tools: the fixture program
//! `fixtures/covprog` is built with `go build -cover` and run three times
//! with different arguments (so each run covers different code), each run
//! into its own GOCOVERDIR. What counts as flaky is then derived from Go's
//! own outputs: per run, `go tool covdata textfmt` (blocks) and
//! `go tool cover -func` (functions). Without Go: runs that do not all
//! measure the same files (the demo profiles).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

mod common;
use common::{covlens, go, repo, require_go, run};

const RUNS: &[&[&str]] = &[
    &["text", "calc:3"],
    &["text", "shapes"],
    &["calc:5", "shapes", "text"],
];

fn p(path: &Path) -> String {
    path.to_str().unwrap().to_string()
}

/// Per block `file:range` of a textfmt profile: (statements, covered).
fn blocks(profile: &str) -> BTreeMap<String, (u64, bool)> {
    profile
        .lines()
        .skip(1)
        .map(|l| {
            let mut f = l.rsplitn(3, ' ');
            let count: u64 = f.next().unwrap().parse().unwrap();
            let stmts: u64 = f.next().unwrap().parse().unwrap();
            (f.next().unwrap().to_string(), (stmts, count > 0))
        })
        .collect()
}

/// Per function `(file, line, name)` of `go tool cover -func`: its percentage.
fn funcs(report: &str) -> BTreeMap<(String, u32, String), String> {
    report
        .lines()
        .filter(|l| !l.starts_with("total:"))
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let (file, line) = f[0].trim_end_matches(':').rsplit_once(':').unwrap();
            (
                (file.to_string(), line.parse().unwrap(), f[1].to_string()),
                f[f.len() - 1].to_string(),
            )
        })
        .collect()
}

#[test]
#[ignore = "needs go"]
fn flaky_matches_go_per_run() {
    require_go();
    let src = repo().join("fixtures/covprog");
    let tmp = tempfile::tempdir().unwrap();
    let bin = tmp.path().join("covprog");
    run(go()
        .current_dir(&src)
        .args(["build", "-cover", "-covermode=count", "-o"])
        .arg(&bin)
        .arg("./cmd/covprog"));
    let mut dirs = Vec::new();
    let mut profiles = Vec::new();
    let mut per_run_blocks = Vec::new();
    let mut per_run_funcs = Vec::new();
    for (i, args) in RUNS.iter().enumerate() {
        let dir = tmp.path().join(format!("run{i}"));
        std::fs::create_dir(&dir).unwrap();
        run(std::process::Command::new(&bin)
            .args(*args)
            .env("GOCOVERDIR", &dir));
        let out = tmp.path().join(format!("run{i}.out"));
        run(go()
            .current_dir(&src)
            .args(["tool", "covdata", "textfmt"])
            .arg(format!("-i={}", p(&dir)))
            .arg(format!("-o={}", p(&out))));
        // `linedir` places its blocks in a file that does not exist (by
        // `//line`), which `go tool cover -func` cannot open; no run here
        // reaches it.
        let text = std::fs::read_to_string(&out).unwrap();
        let text: String = text
            .lines()
            .filter(|l| !l.contains("/linedir/"))
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(&out, &text).unwrap();
        per_run_blocks.push(blocks(&text));
        per_run_funcs.push(funcs(&run(go()
            .current_dir(&src)
            .args(["tool", "cover"])
            .arg(format!("-func={}", p(&out))))));
        dirs.push(p(&dir));
        profiles.push(p(&out));
    }

    // Go's answer: blocks covered in some runs but not all, per file.
    let mut want_files: BTreeMap<String, u64> = BTreeMap::new();
    let mut want_total = 0;
    for (block, &(stmts, _)) in &per_run_blocks[0] {
        let covered = per_run_blocks.iter().filter(|r| r[block].1).count();
        if covered > 0 && covered < RUNS.len() {
            let file = block.rsplit_once(':').unwrap().0.to_string();
            *want_files.entry(file).or_default() += stmts;
            want_total += stmts;
        }
    }
    // ... and functions whose `-func` percentage differs between runs.
    let want_funcs: BTreeSet<(String, u32, String)> = per_run_funcs[0]
        .keys()
        .filter(|k| per_run_funcs.iter().any(|r| r[*k] != per_run_funcs[0][*k]))
        .cloned()
        .collect();
    assert!(
        want_total > 0 && want_funcs.len() > 1,
        "the runs should differ"
    );

    let json = |inputs: &[String]| -> serde_json::Value {
        let out = run(covlens()
            .current_dir(&src)
            .args(["flaky", "--format", "json"])
            .args(inputs));
        serde_json::from_str(&out).unwrap()
    };
    let from_dirs = json(&dirs);
    // Text profiles of the same runs give the same flaky blocks (all
    // statements differ by linedir's, left out of them).
    let from_profiles = json(&profiles);
    assert_eq!(from_dirs["files"], from_profiles["files"]);
    assert_eq!(from_dirs["flaky"], from_profiles["flaky"]);

    assert_eq!(from_dirs["runs"], RUNS.len());
    assert_eq!(from_dirs["flaky"], want_total);
    let got_files: BTreeMap<String, u64> = from_dirs["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["name"].as_str().unwrap().to_string(),
                f["statements"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got_files, want_files);
    let got_funcs: BTreeSet<(String, u32, String)> = from_dirs["files"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| {
            f["funcs"].as_array().unwrap().iter().map(|g| {
                (
                    f["name"].as_str().unwrap().to_string(),
                    g["line"].as_u64().unwrap() as u32,
                    g["name"].as_str().expect("sources are found").to_string(),
                )
            })
        })
        .collect();
    assert_eq!(got_funcs, want_funcs);
    // Ranked: flaky statements never increase down the list.
    let ranks: Vec<u64> = got_files_ranked(&from_dirs);
    assert!(ranks.windows(2).all(|w| w[0] >= w[1]), "{ranks:?}");

    // The table names the same functions; too few runs is an error.
    let table = run(covlens().current_dir(&src).arg("flaky").args(&dirs));
    assert!(table.starts_with(&format!("{want_total} of ")), "{table}");
    for (_, _, name) in &want_funcs {
        assert!(table.contains(name.as_str()), "{name} missing:\n{table}");
    }
    let one = covlens()
        .current_dir(&src)
        .arg("flaky")
        .arg(&dirs[0])
        .output()
        .unwrap();
    assert!(!one.status.success());
    assert!(String::from_utf8_lossy(&one.stderr).contains("at least 2"));
}

fn got_files_ranked(v: &serde_json::Value) -> Vec<u64> {
    v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["statements"].as_u64().unwrap())
        .collect()
}

/// Files that not every run measured are left out and counted, not taken
/// for flaky: calc-advanced.out measures calc/advanced, calc.out does not.
/// Which files those are is read from the two profiles themselves.
#[test]
fn files_some_runs_lack_are_left_out() {
    let names = |f: &str| -> BTreeSet<String> {
        let text = std::fs::read_to_string(repo().join("fixtures/demo").join(f)).unwrap();
        text.lines()
            .skip(1)
            .map(|l| l.split(':').next().unwrap().to_string())
            .collect()
    };
    let (a, b) = (names("calc-advanced.out"), names("calc.out"));
    let only_a: BTreeSet<&String> = a.difference(&b).collect();
    assert!(!only_a.is_empty() && b.is_subset(&a));
    let json = run(covlens().current_dir(repo()).args([
        "flaky",
        "fixtures/demo/calc-advanced.out",
        "fixtures/demo/calc.out",
        "--format",
        "json",
    ]));
    let r: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(r["partial_files"], only_a.len(), "{json}");
    let flaky: Vec<&str> = r["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert!(!flaky.is_empty(), "{json}");
    assert!(flaky.iter().all(|f| b.contains(*f)), "{flaky:?}");
    let table = run(covlens().current_dir(repo()).args([
        "flaky",
        "fixtures/demo/calc-advanced.out",
        "fixtures/demo/calc.out",
    ]));
    assert!(
        table.contains(&format!("{} files left out", only_a.len())),
        "{table}"
    );
}

/// One run cannot show flaky coverage: `history record --flaky-from`,
/// `report --flaky-from` and `comment --flaky-from` refuse a single run,
/// with the same message.
#[test]
fn flaky_from_one_run_is_refused() {
    let t = tempfile::tempdir().unwrap();
    let one = repo().join("fixtures/demo/calc.out");
    let one = one.to_str().unwrap();
    for args in [
        vec!["report", one, "--out", "site", "--flaky-from", one],
        vec!["comment", "--base", one, "--head", one, "--flaky-from", one],
        vec![
            "history",
            "record",
            "--job",
            "j",
            "--build",
            "1",
            one,
            "--flaky-from",
            one,
        ],
    ] {
        let o = covlens()
            .current_dir(t.path())
            .args(&args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains("flaky coverage needs at least 2 runs, 1 given"),
            "{err}"
        );
    }
    // Nothing was written for the refused runs.
    assert!(!t.path().join("site").exists());
}

/// `comment --flaky-from`: the changed packages' table has each package's
/// flaky statements over the base job's runs, as `covlens flaky` counts
/// them (a package not measured in every run: `—`).
#[test]
fn comment_lists_the_base_jobs_flaky_statements() {
    let demo = repo().join("fixtures/demo");
    let f = |n: &str| p(&demo.join(n));
    let runs = [f("calc.out"), f("calc-advanced.out"), f("calc.out")];
    let flaky: serde_json::Value = serde_json::from_str(&run(covlens()
        .args(["flaky", "--format", "json"])
        .args(&runs)))
    .unwrap();
    let counted: BTreeMap<String, u64> = flaky["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let name = p["name"].as_str().unwrap().to_string();
            (name, p["statements"].as_u64().unwrap())
        })
        .collect();
    assert!(counted.values().any(|n| *n > 0), "{flaky}");
    let comment = run(covlens()
        .args(["comment", "--base", &f("calc.out"), "--head"])
        .arg(f("cmd-goprog.out"))
        .arg("--flaky-from")
        .arg(runs.join(",")));
    let table = comment
        .split("Packages with changed coverage")
        .nth(1)
        .unwrap_or_else(|| panic!("{comment}"));
    assert!(
        table.contains("| Package | Base | Head | Δ | Flaky on base |"),
        "{comment}"
    );
    assert!(table.contains("base job's last 3 runs"), "{comment}");
    let mut rows = 0;
    for l in table.lines().filter(|l| l.starts_with("| example.com/")) {
        let cells: Vec<&str> = l.split('|').map(str::trim).collect();
        let want = counted
            .get(&cells[1].replace('\\', ""))
            .map_or("—".to_string(), u64::to_string);
        assert_eq!(cells[5], want, "{l}");
        rows += 1;
    }
    assert!(rows > 1, "{comment}");
    // Without --flaky-from, no such column.
    let plain = run(covlens()
        .args(["comment", "--base", &f("calc.out"), "--head"])
        .arg(f("cmd-goprog.out")));
    assert!(!plain.contains("Flaky on base"), "{plain}");
}
