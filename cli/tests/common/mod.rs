//! Helpers shared by the integration tests of the `covlens` binary: the
//! repository, the built binary, and the external tools some tests need.
//!
//! A test that needs a tool is `#[ignore = "needs TOOL"]`, so a plain
//! `cargo test` lists it as ignored; `scripts/test.sh` sets the tools up and
//! runs it with `--include-ignored`. When it runs and the tool is missing,
//! the `require_*` helper fails it, saying what to install: a missing tool
//! never turns into a passing test.

// Each test crate uses a different part of this module.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The workspace root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("cli/ has a parent")
        .to_path_buf()
}

/// The built `covlens`, with no log filter from the environment and no
/// stdin.
pub fn covlens() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_covlens"));
    c.env_remove("COVLENS_LOG").stdin(Stdio::null());
    c
}

/// `go`, hermetic: the local toolchain only, no module proxy, no workspace
/// or flags from outside.
pub fn go() -> Command {
    let mut c = Command::new("go");
    c.env("GOTOOLCHAIN", "local")
        .env("GOPROXY", "off")
        .env("GOWORK", "off")
        .env("GOFLAGS", "")
        .stdin(Stdio::null());
    // A bare environment (no HOME) leaves Go without a build cache.
    let has = |v: &str| std::env::var_os(v).is_some_and(|x| !x.is_empty());
    if !has("GOCACHE") && !has("HOME") && !has("XDG_CACHE_HOME") {
        c.env(
            "GOCACHE",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("go-build"),
        );
    }
    c
}

/// Fails the test unless `probe` runs successfully.
fn require(tool: &str, mut probe: Command, install: &str) {
    let works = probe
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        works,
        "this test needs {tool}, which is not available: {install} \
         (a plain `cargo test` leaves the tests that need tools out)"
    );
}

/// Fails the test unless the Go toolchain is on PATH.
pub fn require_go() {
    let mut probe = go();
    probe.arg("version");
    require(
        "the Go toolchain",
        probe,
        "install Go (https://go.dev/dl/) and put `go` on PATH",
    );
}

/// gopherage's path (`$GOPHERAGE`, else `.tools/bin/gopherage`); fails the
/// test unless it runs.
pub fn require_gopherage() -> PathBuf {
    let path = std::env::var_os("GOPHERAGE")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".tools/bin/gopherage"));
    let mut probe = Command::new(&path);
    probe.arg("--help");
    require(
        &format!("gopherage at {}", path.display()),
        probe,
        "run scripts/setup.sh (it builds .tools/bin/gopherage) or set GOPHERAGE",
    );
    path
}

/// Fails the test unless `python3` with its XML parser runs.
pub fn require_python3() {
    let mut probe = Command::new("python3");
    probe.args(["-c", "import xml.dom.minidom"]);
    require("python3", probe, "install python3");
}

/// Runs `cmd`, fails the test (showing its stderr) unless it succeeds, and
/// returns its stdout.
pub fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("the command starts");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// The headless browser's path (`$CHROMIUM`, else `chromium` or
/// `chromium-browser` in /usr/bin); fails the test unless it runs.
pub fn require_chromium() -> PathBuf {
    let path = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .or_else(|| {
            ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
                .into_iter()
                .map(PathBuf::from)
                .find(|p| p.exists())
        })
        .unwrap_or_else(|| PathBuf::from("chromium"));
    let mut probe = Command::new(&path);
    probe.args(["--headless", "--no-sandbox", "--version"]);
    require(
        &format!("chromium at {}", path.display()),
        probe,
        "apt-get install -y chromium, or set CHROMIUM to the browser's path",
    );
    path
}

/// Fails the test unless `cmark-gfm` (GitHub's Markdown renderer) runs.
pub fn require_cmark_gfm() {
    let mut probe = Command::new("cmark-gfm");
    probe.arg("--version");
    require(
        "cmark-gfm",
        probe,
        "apt-get install -y cmark-gfm (scripts/setup.sh does)",
    );
}

/// gofakes3's path (`$GOFAKES3`, else `.tools/bin/gofakes3`); fails the
/// test unless it exists.
pub fn require_gofakes3() -> PathBuf {
    let path = std::env::var_os("GOFAKES3")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".tools/bin/gofakes3"));
    let mut probe = Command::new("test");
    probe.arg("-x").arg(&path);
    require(
        &format!("gofakes3 at {}", path.display()),
        probe,
        "run scripts/setup.sh (it builds .tools/bin/gofakes3) or set GOFAKES3",
    );
    path
}

/// gofakes3 serving from memory on a free loopback port, with the bucket
/// `cov`; killed when dropped.
pub struct FakeS3 {
    child: std::process::Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

impl FakeS3 {
    /// Starts it and waits until it listens.
    pub fn start() -> FakeS3 {
        let bin = require_gofakes3();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(bin)
            .args(["-backend", "memory", "-autobucket", "-initialbucket", "cov"])
            .arg("-host")
            .arg(format!("127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gofakes3 starts");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "gofakes3 did not listen"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        FakeS3 { child, port }
    }

    /// Stores `data` at `key` in the bucket `cov` (gofakes3 does not check
    /// signatures, so a plain PUT does).
    pub fn put(&self, key: &str, data: &[u8]) {
        use std::io::{Read, Write};
        let mut c = std::net::TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        write!(
            c,
            "PUT /cov/{key} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\n\r\n",
            data.len()
        )
        .and_then(|()| c.write_all(data))
        .expect("send");
        let mut resp = String::new();
        c.read_to_string(&mut resp).expect("answer");
        assert!(
            resp.starts_with("HTTP/1.0 200") || resp.starts_with("HTTP/1.1 200"),
            "PUT {key}: {resp}"
        );
    }

    /// The environment that points object_store's S3 client at it.
    pub fn s3_env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ENDPOINT", format!("http://127.0.0.1:{}", self.port)),
            ("AWS_ALLOW_HTTP", "true".into()),
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
            ("AWS_REGION", "us-east-1".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// The environment that points object_store's GCS client at it (GCS's
    /// XML API for objects is S3's).
    pub fn gcs_env(&self) -> Vec<(String, String)> {
        let key = format!(
            r#"{{"gcs_base_url": "http://127.0.0.1:{}", "disable_oauth": true, "client_email": "", "private_key": "", "private_key_id": ""}}"#,
            self.port
        );
        vec![("GOOGLE_SERVICE_ACCOUNT_KEY".to_string(), key)]
    }
}

impl Drop for FakeS3 {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
