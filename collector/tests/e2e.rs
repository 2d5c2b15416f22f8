//! End to end: the Go test server (built with -cover, flushing through
//! covflush) is killed with SIGKILL and SIGTERM at random points over several
//! cycles while the collector runs — and is itself killed and restarted —
//! and what arrives at the destination must equal what `go tool covdata
//! textfmt` computes from the last complete flush of each process: nothing
//! partial, nothing counted twice, nothing lost.

mod common;

use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::thread::sleep;
use std::time::{Duration, Instant};

use common::*;

fn collector_args<'a>(watch: &'a str, dest: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![
        "--watch",
        watch,
        "--dest",
        dest,
        "--settle",
        "100ms",
        "--rescan",
        "300ms",
        "--retry-min",
        "50ms",
        "--retry-max",
        "500ms",
        "--grace",
        "20s",
    ];
    v.extend_from_slice(extra);
    v
}

#[test]
#[ignore = "needs go"]
fn covdata_random_kills_ship_each_process_once() {
    covdata_cycles(10);
}

/// The same for longer (`cargo test -- --ignored long_`; E2E_CYCLES sets the
/// number of cycles).
#[test]
#[ignore = "long: 60 kill cycles of servers and the collector (about 30 s); needs go"]
fn long_covdata_random_kills_soak() {
    covdata_cycles(
        std::env::var("E2E_CYCLES")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(60),
    );
}

fn covdata_cycles(cycles: usize) {
    require_go();
    let (t, cov, cov_s) = cov_dir();
    let dest = t.path().join("dest");
    let log = t.path().join("collector.log");
    let dest_s = dest.display().to_string();
    // Default staging: <GOCOVERDIR>/.covlens-staging, on the shared volume.
    let args = collector_args(&cov_s, &dest_s, &[]);
    let env = [("POD_NAME", "e2e-pod"), ("COVLENS_CONTAINER", "server")];
    let mut rng = Rng::new();
    let mut coll = Collector::start(&args, &env, &log);
    let mut restarts = 0;
    for cycle in 0..cycles {
        let interval = ["20ms", "50ms", "150ms"][rng.below(3) as usize];
        let srv = Server::start(&[("GOCOVERDIR", &cov_s), ("COVFLUSH_INTERVAL", interval)]);
        let end = Instant::now() + Duration::from_millis(150 + rng.below(450));
        let mut crashed = false;
        while Instant::now() < end {
            srv.get(&format!("/classify?n={}", rng.below(5) as i64 - 1));
            if rng.below(4) == 0 {
                sleep(Duration::from_millis(rng.below(30)));
            }
            // The collector crashes mid-cycle now and then.
            if !crashed && cycle % 2 == 1 && rng.below(30) == 0 {
                coll.sigkill();
                coll = Collector::start(&args, &env, &log);
                restarts += 1;
                crashed = true;
            }
        }
        if rng.below(2) == 0 {
            srv.sigkill();
        } else {
            let st = srv.sigterm();
            assert_eq!(
                st.signal(),
                Some(15),
                "covflush re-raises SIGTERM after its last flush"
            );
        }
        if rng.below(3) == 0 {
            coll.sigkill();
            coll = Collector::start(&args, &env, &log);
            restarts += 1;
        }
    }
    let st = coll.sigterm();
    assert!(st.success(), "collector exit {st:?}\n{}", coll.log());
    eprintln!("collector restarts: {restarts}");

    let expected = t.path().join("expected");
    let procs = newest_per_pid(&cov, &expected);
    assert_eq!(procs, cycles, "one pid per server process");
    let root = dest.join("coverage/e2e-pod/server");
    let actual = root.join("covdata");
    let shipped = counters_by_pid(&actual);
    let want = counters_by_pid(&expected);
    if shipped.keys().ne(want.keys()) {
        for (pid, files) in counters_by_pid(&cov) {
            eprintln!("source pid {pid}: {files:?}");
        }
        for l in coll
            .log()
            .lines()
            .filter(|l| l.contains("new process") || l.contains("WARN"))
        {
            eprintln!("{l}");
        }
    }
    assert_eq!(
        shipped.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "every process shipped, under its own pid"
    );
    for (pid, files) in &shipped {
        if files.len() != 1 {
            let p = pid.to_string();
            for l in coll
                .log()
                .lines()
                .filter(|l| l.contains(&p) || l.contains("collector st") || l.contains("WARN"))
            {
                eprintln!("{l}");
            }
            let journal =
                fs::read_to_string(cov.join(".covlens-staging/journal.json")).unwrap_or_default();
            eprintln!("journal: {journal}");
        }
        assert_eq!(
            files.len(),
            1,
            "pid {pid}: superseded snapshots left at the destination: {files:?}"
        );
    }
    assert_eq!(
        textfmt(&actual),
        textfmt(&expected),
        "destination differs from the last flushes"
    );
    for f in tree(&dest) {
        let name = f.rsplit('/').next().unwrap();
        assert!(
            !name.starts_with('.') && !name.starts_with("tmp."),
            "temporary file at the destination: {f}"
        );
    }
    for (pid, files) in &shipped {
        let meta = root
            .join("metadata/covdata")
            .join(format!("{}.json", files[0].1));
        let m: serde_json::Value = serde_json::from_slice(&std::fs::read(&meta).unwrap()).unwrap();
        assert_eq!(
            (m["pod"].as_str(), m["container"].as_str()),
            (Some("e2e-pod"), Some("server"))
        );
        assert_eq!(m["pid"].as_u64(), Some(*pid));
    }
}

#[test]
#[ignore = "needs go"]
fn text_profile_each_process_generation_arrives() {
    require_go();
    let (t, cov, _) = cov_dir();
    let file = cov.join("k8s-server.cov");
    let dest = t.path().join("dest");
    let (file_s, dest_s) = (file.display().to_string(), dest.display().to_string());
    let staging = t.path().join("staging").display().to_string();
    let args = collector_args(
        &file_s,
        &dest_s,
        &[
            "--kind",
            "text",
            "--text-writer",
            "rename",
            "--staging",
            &staging,
        ],
    );
    let env = [("POD_NAME", "e2e-pod"), ("COVLENS_CONTAINER", "server")];
    let mut coll = Collector::start(&args, &env, &t.path().join("collector.log"));
    let mut rng = Rng::new();
    let shipped = |g: usize| {
        dest.join(format!(
            "coverage/e2e-pod/server/text/{g:04}-k8s-server.cov"
        ))
    };
    let mut finals = Vec::new();
    for g in 0..4 {
        let srv = Server::start(&[
            ("KUBE_COVERAGE_FILE", &file_s),
            ("KUBE_COVERAGE_FLUSH_INTERVAL", "50ms"),
        ]);
        // A text profile names no process: a restart is recognised by counts
        // going down, so the collector must see the new process's first
        // snapshot (written by covflush.Start) before the process catches up.
        assert!(
            wait_for(Duration::from_secs(15), || shipped(g).exists()),
            "generation {g} not recognised\n{}",
            coll.log()
        );
        for _ in 0..3 + rng.below(20) {
            srv.get(&format!("/classify?n={}", rng.below(4)));
        }
        // Long enough for periodic flushes to include the requests before a
        // SIGKILL (SIGTERM flushes anyway).
        sleep(Duration::from_millis(200 + rng.below(200)));
        if g % 2 == 0 {
            srv.sigkill();
        } else {
            srv.sigterm();
        }
        let last = std::fs::read(&file).unwrap();
        // The collector must see this process's last write before the next
        // process replaces it.
        assert!(
            wait_for(Duration::from_secs(15), || std::fs::read(shipped(g))
                .ok()
                .as_ref()
                == Some(&last)),
            "generation {g} never arrived\n{}",
            coll.log()
        );
        finals.push(last);
    }
    assert!(coll.sigterm().success());
    for (g, want) in finals.iter().enumerate() {
        assert_eq!(&std::fs::read(shipped(g)).unwrap(), want, "generation {g}");
    }
    let texts: Vec<String> = tree(&dest)
        .into_iter()
        .filter(|f| f.contains("/text/") && !f.contains("/metadata/"))
        .collect();
    assert_eq!(texts.len(), 4, "{texts:?}");
}
