//! Helpers shared by the integration tests: the external tools they need,
//! the Go test server built with -cover and covflush, the collector binary,
//! and `go tool covdata`.
//!
//! A test that needs a tool is `#[ignore = "needs <tool>"]` (scripts/test.sh
//! runs them with `--include-ignored`) and calls `require_*` first: with the
//! tool missing it fails, saying what to install; it never passes by
//! skipping.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Fails the test unless `go` runs.
pub fn require_go() {
    let ok = Command::new("go")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "this test needs `go` on PATH: install Go 1.26 or newer (https://go.dev/dl/)"
    );
}

/// The gofakes3 object store server (`GOFAKES3`, as scripts/test.sh sets
/// it, else `.tools/bin/gofakes3`); fails the test if it is missing.
pub fn require_gofakes3() -> PathBuf {
    let p = std::env::var_os("GOFAKES3")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.tools/bin/gofakes3"));
    assert!(
        p.is_file(),
        "this test needs gofakes3 at {}: run scripts/install-gofakes3.sh (or scripts/setup.sh), \
         or set GOFAKES3",
        p.display()
    );
    p
}

/// Fails the test unless `python3` can import `yaml`.
pub fn require_python_yaml() {
    let ok = Command::new("python3")
        .args(["-c", "import yaml"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "this test needs python3 with PyYAML: install python3-yaml (apt-get install python3-yaml)"
    );
}

/// A temporary directory with an empty GOCOVERDIR `cov/` in it, and that
/// directory's path as a string (for command lines).
pub fn cov_dir() -> (tempfile::TempDir, PathBuf, String) {
    let t = tempfile::tempdir().unwrap();
    let cov = t.path().join("cov");
    std::fs::create_dir(&cov).unwrap();
    let cov_s = cov.display().to_string();
    (t, cov, cov_s)
}

/// The test server (collector/go/testdata/server), built once with
/// `-cover -covermode=atomic`.
pub fn server_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("covflush-server");
        let go_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("go");
        let st = Command::new("go")
            .args(["build", "-cover", "-covermode=atomic", "-o"])
            .arg(&out)
            .arg("./testdata/server")
            .current_dir(go_dir)
            .status()
            .expect("go build");
        assert!(st.success(), "building the test server failed");
        out
    })
}

/// Small deterministic PRNG (xorshift), seeded from `E2E_SEED` or the clock.
pub struct Rng(u64);

impl Rng {
    pub fn new() -> Rng {
        let seed = std::env::var("E2E_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
                    | 1
            });
        eprintln!("E2E_SEED={seed}");
        Rng(seed)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// A running test server.
pub struct Server {
    pub child: Child,
    pub addr: String,
}

impl Server {
    pub fn start(env: &[(&str, &str)]) -> Server {
        let mut cmd = Command::new(server_bin());
        for k in [
            "GOCOVERDIR",
            "KUBE_COVERAGE_FILE",
            "COVFLUSH_INTERVAL",
            "KUBE_COVERAGE_FLUSH_INTERVAL",
        ] {
            cmd.env_remove(k);
        }
        cmd.envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd.spawn().expect("start server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim()
            .strip_prefix("listening ")
            .expect("server address")
            .to_string();
        Server { child, addr }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// GET a path; errors are ignored (the server may be dying).
    pub fn get(&self, path: &str) -> Option<String> {
        http_get(&self.addr, path)
    }

    pub fn sigterm(mut self) -> ExitStatus {
        signal(self.child.id(), "TERM");
        self.child.wait().unwrap()
    }

    pub fn sigkill(mut self) -> ExitStatus {
        self.child.kill().unwrap();
        self.child.wait().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn signal(pid: u32, sig: &str) {
    let st = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status()
        .unwrap();
    assert!(st.success());
}

pub fn http_get(addr: &str, path: &str) -> Option<String> {
    let mut c = TcpStream::connect(addr).ok()?;
    c.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(c, "GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").ok()?;
    let mut out = String::new();
    c.read_to_string(&mut out).ok()?;
    Some(out)
}

/// A free local port (bound and released; good enough for tests).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running collector (`covlens-collect`).
pub struct Collector {
    pub child: Child,
    pub log: PathBuf,
}

impl Collector {
    pub fn start(args: &[&str], env: &[(&str, &str)], log: &Path) -> Collector {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_covlens-collect"));
        for k in [
            "JOB_NAME",
            "BUILD_ID",
            "JOB_TYPE",
            "PROW_JOB_ID",
            "POD_NAME",
            "COVLENS_CONTAINER",
        ] {
            cmd.env_remove(k);
        }
        let logf = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        cmd.args(args)
            .env(
                "COVLENS_LOG",
                std::env::var("E2E_LOG").unwrap_or_else(|_| "info".into()),
            )
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(logf);
        let started = |log: &Path| {
            std::fs::read_to_string(log)
                .unwrap_or_default()
                .matches("collector started")
                .count()
        };
        let before = started(log);
        let mut c = Collector {
            child: cmd.spawn().expect("start collector"),
            log: log.to_path_buf(),
        };
        // Signal handlers are in place once it says so: a SIGTERM before
        // that would kill it like any process.
        let ready = wait_for(Duration::from_secs(30), || {
            started(log) > before || c.child.try_wait().unwrap().is_some()
        });
        assert!(
            ready && (c.child.try_wait().unwrap().is_none() || args.contains(&"--once")),
            "collector did not start:\n{}",
            c.log()
        );
        c
    }

    pub fn sigkill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM and wait; returns the exit status.
    pub fn sigterm(&mut self) -> ExitStatus {
        signal(self.child.id(), "TERM");
        self.wait(Duration::from_secs(60))
            .expect("collector did not exit after SIGTERM")
    }

    pub fn wait(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if let Some(st) = self.child.try_wait().unwrap() {
                return Some(st);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `go tool covdata textfmt` of a directory.
pub fn textfmt(dir: &Path) -> String {
    let out = dir.with_extension("textfmt.txt");
    let o = Command::new("go")
        .args(["tool", "covdata", "textfmt", "-i"])
        .arg(dir)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "covdata textfmt {}: {}",
        dir.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    std::fs::read_to_string(out).unwrap()
}

/// Counter file names of a directory grouped by pid: pid → [(nanos, name)]
/// sorted by nanos.
pub fn counters_by_pid(dir: &Path) -> BTreeMap<u64, Vec<(u64, String)>> {
    let mut m: BTreeMap<u64, Vec<(u64, String)>> = BTreeMap::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(rest) = name.strip_prefix("covcounters.") {
            let parts: Vec<&str> = rest.split('.').collect();
            let (pid, nanos) = (parts[1].parse().unwrap(), parts[2].parse().unwrap());
            m.entry(pid).or_default().push((nanos, name));
        }
    }
    for v in m.values_mut() {
        v.sort();
    }
    m
}

/// A directory with the meta files of `src` and, per pid, only the newest
/// counter file: "the last complete flush of each process".
pub fn newest_per_pid(src: &Path, out: &Path) -> usize {
    std::fs::create_dir_all(out).unwrap();
    for e in std::fs::read_dir(src).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with("covmeta.") {
            std::fs::copy(e.path(), out.join(&name)).unwrap();
        }
    }
    let by_pid = counters_by_pid(src);
    for files in by_pid.values() {
        let name = &files.last().unwrap().1;
        std::fs::copy(src.join(name), out.join(name)).unwrap();
    }
    by_pid.len()
}

/// Every file under `dir`, relative, sorted.
pub fn tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                out.push(e.path().strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

/// Polls `f` until it returns true or `timeout` passes.
pub fn wait_for(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    f()
}

/// A Prometheus metric's value from `/metrics`.
pub fn metric(port: u16, name: &str) -> Option<u64> {
    let body = http_get(&format!("127.0.0.1:{port}"), "/metrics")?;
    body.lines()
        .find_map(|l| l.strip_prefix(&format!("covlens_collector_{name} ")))
        .and_then(|v| v.trim().parse().ok())
}
