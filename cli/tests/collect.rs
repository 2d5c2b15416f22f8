//! `covlens collect`'s logs (issue 10, item 13): the `covlens` binary sets
//! up its own log subscriber; with stderr not a terminal it writes no
//! colour codes, and names reach it escaped.

mod common;

use std::fs;

#[test]
fn collect_logs_have_no_colours_when_stderr_is_not_a_terminal() {
    let t = tempfile::tempdir().unwrap();
    let cov = t.path().join("cov");
    fs::create_dir(&cov).unwrap();
    let watch = cov.join("p\n2099-01-01T00:00:00Z ERROR forged.cov");
    fs::write(&watch, "mode: set\na.go:1.1,2.2 1 1\n").unwrap();
    let out = common::covlens()
        .args([
            "collect",
            "--once",
            "--settle",
            "0",
            "--text-writer",
            "rename",
        ])
        .arg("--watch")
        .arg(&watch)
        .arg("--dest")
        .arg(t.path().join("dest"))
        .env("COVLENS_LOG", "info")
        .output()
        .unwrap();
    let log = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{log}");
    assert!(log.contains("snapshot staged"), "{log}");
    assert!(
        !log.contains('\u{1b}'),
        "colour codes in a log file:\n{log:?}"
    );
    assert!(!log.contains("\n2099"), "a forged log line:\n{log}");
}
