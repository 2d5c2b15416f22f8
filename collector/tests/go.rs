//! Runs the Go side (collector/go: covflush) through `go vet` and `go test`,
//! so `cargo test` covers it too.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Command;

#[test]
#[ignore = "needs go"]
fn covflush_go_vet_and_test() {
    common::require_go();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("go");
    for args in [&["vet", "./..."][..], &["test", "-count=1", "./..."][..]] {
        let out = Command::new("go")
            .args(args)
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "go {}:\n{}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// covlens reading a directory covflush wrote counts each process once:
/// the newest of its marked snapshots, plus the Go runtime's file of a
/// normal exit (which holds only what ran after covflush's Stop). That is
/// what `go tool covdata` computes from those files alone; Go itself sums
/// every snapshot (`--all-snapshots`).
#[test]
#[ignore = "needs go"]
fn covlens_counts_each_covflush_process_once() {
    use covlens_core::covdata::{
        ReadOptions, Snapshots, parse_counters, read_dirs, write_percent, write_textfmt,
    };
    common::require_go();
    let (t, cov, cov_s) = common::cov_dir();
    let env = [("GOCOVERDIR", cov_s.as_str()), ("COVFLUSH_INTERVAL", "1h")];
    // Killed by SIGTERM after two flushes; then a restart that exits
    // normally; then one killed after its first snapshot only.
    let a = common::Server::start(&env);
    for n in [7, 7, 8, -1] {
        a.get(&format!("/classify?n={n}"));
    }
    a.get("/flush");
    a.get("/classify?n=0");
    assert_eq!(a.sigterm().signal(), Some(15));
    let b = common::Server::start(&env);
    for n in [3, 5, 0] {
        b.get(&format!("/classify?n={n}"));
    }
    b.get("/exit?code=0");
    let mut b = b;
    assert!(b.child.wait().unwrap().success());
    let c = common::Server::start(&env);
    c.get("/classify?n=9");
    c.sigkill();

    // Expected: per marked process the newest file, and every unmarked one.
    let expected = t.path().join("expected");
    fs::create_dir(&expected).unwrap();
    let mut newest: BTreeMap<String, (u64, String)> = BTreeMap::new();
    let mut unmarked = 0;
    for e in fs::read_dir(&cov).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        if name.starts_with("covmeta.") {
            fs::copy(cov.join(&name), expected.join(&name)).unwrap();
            continue;
        }
        if !name.starts_with("covcounters.") {
            continue;
        }
        let data = fs::read(cov.join(&name)).unwrap();
        let seg = parse_counters(&data, &name).unwrap().segments.remove(0);
        let nanos: u64 = name.rsplit('.').next().unwrap().parse().unwrap();
        match seg.snapshot_process() {
            Some(p) => {
                let e = newest.entry(p.to_string()).or_default();
                if nanos > e.0 {
                    *e = (nanos, name);
                }
            }
            None => {
                unmarked += 1;
                fs::copy(cov.join(&name), expected.join(&name)).unwrap();
            }
        }
    }
    assert_eq!((newest.len(), unmarked), (3, 1), "{newest:?}");
    for (_, name) in newest.values() {
        fs::copy(cov.join(name), expected.join(name)).unwrap();
    }

    let covlens = |snapshots: Snapshots, percent: bool| {
        let opts = ReadOptions {
            snapshots,
            ..ReadOptions::default()
        };
        let data = read_dirs(&[&cov], &opts).unwrap();
        let mut out = Vec::new();
        if percent {
            write_percent(&mut out, &data).unwrap();
        } else {
            write_textfmt(&mut out, &data).unwrap();
        }
        String::from_utf8(out).unwrap()
    };
    let go_percent = |dir: &Path| {
        let o = Command::new("go")
            .args(["tool", "covdata", "percent", "-i"])
            .arg(dir)
            .output()
            .unwrap();
        assert!(o.status.success());
        String::from_utf8(o.stdout).unwrap()
    };
    assert_eq!(
        covlens(Snapshots::default(), false),
        common::textfmt(&expected)
    );
    assert_eq!(covlens(Snapshots::default(), true), go_percent(&expected));
    assert_eq!(covlens(Snapshots::All, false), common::textfmt(&cov));
    // Summing snapshots would count the first process twice.
    assert_ne!(common::textfmt(&cov), common::textfmt(&expected));
}
