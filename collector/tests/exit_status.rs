//! Failures are never silent: `covlens-collect --once` (and a collector
//! stopped with snapshots it could not ship) exits non-zero with a message
//! saying what went wrong, and bad setups are refused before anything is
//! created on the shared volume.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

const PROFILE: &str = "mode: atomic\nexample.com/m/a.go:1.1,2.2 1 3\n";

fn collect(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_covlens-collect"));
    for k in [
        "JOB_NAME",
        "BUILD_ID",
        "JOB_TYPE",
        "PROW_JOB_ID",
        "POD_NAME",
    ] {
        cmd.env_remove(k);
    }
    cmd.args(["--once", "--settle", "0", "--text-writer", "rename"])
        .args(args)
        .env("COVLENS_LOG", "warn")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// Issue 10, item 8: `--once` exited 0 when every upload failed.
#[test]
fn once_exits_non_zero_when_uploads_fail() {
    let t = tempfile::tempdir().unwrap();
    let cov = t.path().join("cov");
    fs::create_dir(&cov).unwrap();
    fs::write(cov.join("p.cov"), PROFILE).unwrap();
    let watch = s(&cov.join("p.cov"));
    let file = t.path().join("a-file");
    fs::write(&file, "not a directory").unwrap();
    for dest in [s(&file), "/dev/null/sub".to_string()] {
        let out = collect(&["--watch", &watch, "--dest", &dest, "--grace", "1s"], &[]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "--dest {dest}\n{err}");
        assert!(
            err.contains("1 snapshot not uploaded")
                && err.contains(&s(&cov.join(".covlens-staging")))
                && err.contains("Not a directory"),
            "--dest {dest}: the message should say what is left where, and why:\n{err}"
        );
    }
    // Nothing was lost: the next run ships what stayed staged.
    let dest = t.path().join("dest");
    let out = collect(&["--watch", &watch, "--dest", &s(&dest)], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        fs::read_to_string(dest.join("coverage/unknown-pod/component/text/0000-p.cov")).unwrap(),
        PROFILE
    );
}

/// Issue 10, item 8: `--path-prefix ../..` made every key invalid, and the
/// collector exited 0 having shipped nothing. A prefix is a relative,
/// clean `/`-separated path.
#[test]
fn bad_path_prefixes_are_refused_up_front() {
    let t = tempfile::tempdir().unwrap();
    let cov = t.path().join("cov");
    fs::create_dir(&cov).unwrap();
    fs::write(cov.join("p.cov"), PROFILE).unwrap();
    let watch = s(&cov.join("p.cov"));
    let dest = t.path().join("dest");
    let prow = [
        ("JOB_NAME", "ci-cov"),
        ("BUILD_ID", "7"),
        ("JOB_TYPE", "periodic"),
        ("POD_NAME", "pod"),
    ];
    for prefix in [
        "../..",
        "..",
        "/abs",
        "a//b",
        "a/./b",
        "a/../b",
        "a\nb",
        "a\u{1b}[2Jb",
        "//",
    ] {
        let out = collect(
            &[
                "--watch",
                &watch,
                "--dest",
                &s(&dest),
                "--layout",
                "prow",
                &format!("--path-prefix={prefix}"),
            ],
            &prow,
        );
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{prefix:?}\n{err}");
        assert!(err.contains("path prefix"), "{prefix:?}: {err}");
        assert!(
            !err.contains('\u{1b}'),
            "raw escape in the message: {err:?}"
        );
        assert!(!dest.exists() && !cov.join(".covlens-staging").exists());
    }
    // The other parts of the keys come from the environment: `/`, `.` and
    // `..` are replaced (covlens-prow's `segment`), control characters
    // refused.
    for (k, v) in [("POD_NAME", "a\u{1b}b"), ("BUILD_ID", "7\n8")] {
        let mut env = prow.to_vec();
        env.retain(|(n, _)| *n != k);
        env.push((k, v));
        let out = collect(
            &["--watch", &watch, "--dest", &s(&dest), "--layout", "prow"],
            &env,
        );
        assert_eq!(out.status.code(), Some(1), "{k}={v}\n{}", stderr(&out));
        assert!(!dest.exists());
    }
    let out = collect(
        &[
            "--watch",
            &watch,
            "--dest",
            &s(&dest),
            "--layout",
            "prow",
            "--path-prefix",
            "pr/fix/",
        ],
        &prow,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        dest.join("pr/fix/logs/ci-cov/7/artifacts/coverage/pod/component/text/0000-p.cov")
            .is_file()
    );
}

/// Issue 10, item 8: a watched path whose directory is missing (staging
/// was even created there) or a symlink loop exited 0.
#[test]
fn missing_or_looping_watch_paths_are_errors() {
    let t = tempfile::tempdir().unwrap();
    let dest = s(&t.path().join("dest"));
    let missing = t.path().join("missing");
    let lp = t.path().join("loop");
    std::os::unix::fs::symlink(&lp, &lp).unwrap();
    let file = t.path().join("file");
    fs::write(&file, PROFILE).unwrap();
    for (watch, kind, says) in [
        (missing.join("p.cov"), "auto", "does not exist"),
        (missing.join("p.cov"), "text", "does not exist"),
        (missing.clone(), "covdata", "does not exist"),
        (lp.clone(), "auto", "symbolic links"),
        (lp.join("p.cov"), "text", "symbolic links"),
        (lp.clone(), "covdata", "symbolic links"),
        (file.clone(), "covdata", "not a directory"),
        (t.path().to_path_buf(), "text", "is a directory"),
    ] {
        let out = collect(
            &["--watch", &s(&watch), "--kind", kind, "--dest", &dest],
            &[],
        );
        let err = stderr(&out);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{} ({kind})\n{err}",
            watch.display()
        );
        assert!(
            err.contains(says),
            "{} ({kind}): want {says:?} in\n{err}",
            watch.display()
        );
        assert!(!missing.exists(), "created {}", missing.display());
        assert!(!t.path().join(".covlens-staging").exists());
    }
}
