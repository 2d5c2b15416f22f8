//! What the collector writes to stderr is for people and log pipelines: no
//! colour codes when stderr is not a terminal, and names from the shared
//! volume or the environment never reach it raw (issue 10, item 13).

use std::fs;
use std::process::{Command, Output};

fn collect(watch: &std::path::Path, dest: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_covlens-collect"))
        .args([
            "--once",
            "--settle",
            "0",
            "--text-writer",
            "rename",
            "--grace",
            "1s",
        ])
        .arg("--watch")
        .arg(watch)
        .arg("--dest")
        .arg(dest)
        .env("COVLENS_LOG", "debug")
        .env("POD_NAME", "pod")
        .output()
        .unwrap()
}

fn assert_clean(log: &str) {
    assert!(!log.contains('\u{1b}'), "raw escape character in:\n{log}");
    assert!(!log.contains("\n2099"), "a forged log line:\n{log}");
    for line in log.lines() {
        assert!(
            line.starts_with("20")
                || line.starts_with("covlens-collect")
                || line.starts_with("covlens collect"),
            "a line that the collector did not start (a raw newline from a name?): {line:?}\n{log}"
        );
    }
    assert!(
        !log.chars().any(|c| c.is_control() && c != '\n'),
        "raw control character in:\n{log:?}"
    );
}

#[test]
fn no_colours_and_no_raw_control_characters_from_names() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("cov\u{1b}[2J");
    fs::create_dir(&dir).unwrap();
    let watch = dir.join("p\u{1b}[31m\n2099-01-01T00:00:00Z ERROR forged\r\u{7}\u{9b}.cov");
    fs::write(&watch, "mode: set\na.go:1.1,2.2 1 1\n").unwrap();
    // Shipped: the names appear in the start, staging and upload lines.
    let out = collect(&watch, &t.path().join("dest"));
    let log = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{log}");
    assert!(
        log.contains("snapshot staged") && log.contains("uploaded"),
        "{log}"
    );
    assert_clean(&log);
    // And in error messages (the destination is a file).
    let file = t.path().join("f\n2099-01-01T00:00:00Z ERROR forged");
    fs::write(&file, "").unwrap();
    let out = collect(&watch, &file);
    let log = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "{log}");
    assert_clean(&log);
    assert!(log.contains("\\n2099"), "escaped, not dropped: {log}");
}
