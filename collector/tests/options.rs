//! Option values a careless operator might type: every one is refused with
//! a message naming the option and the accepted range, never a panic.

use std::process::{Command, Output};

fn collect(args: &[&str]) -> Output {
    let t = tempfile::tempdir().unwrap();
    let watch = t.path().join("p.cov").display().to_string();
    let dest = t.path().join("out").display().to_string();
    Command::new(env!("CARGO_BIN_EXE_covlens-collect"))
        .args(["--watch", &watch, "--dest", &dest, "--once"])
        .args(args)
        .env("COVLENS_LOG", "error")
        .output()
        .unwrap()
}

/// Issue 10, item 12: durations and sizes beyond any sensible value
/// panicked (exit 101) while being converted.
#[test]
fn out_of_range_durations_and_sizes_are_usage_errors() {
    for (opt, value, says) in [
        ("--settle", "1e20", "at most 24h"),
        ("--grace", "1e300", "at most 24h"),
        ("--retry-max", "99999999999999999999h", "at most 24h"),
        ("--retry-min", "10000000000000000000s", "at most 24h"),
        ("--rescan", "5000000000000000000m", "at most 24h"),
        ("--settle", "25h", "at most 24h"),
        ("--rescan", "0", "at least 10ms"),
        ("--rescan", "1e-10", "at least 10ms"),
        ("--retry-min", "0s", "at least 1ms"),
        ("--grace", "0", "at least 1ms"),
        ("--settle", "-1s", "duration"),
        ("--settle", "inf", "duration"),
        ("--settle", "NaN", "duration"),
        ("--max-staging-bytes", "0", "at least 1"),
        ("--max-staging-bytes", "99999999999G", "too large"),
        ("--max-staging-bytes", "2048G", "at most 1024G"),
        ("--max-staging-bytes", "18446744073709551616", "size"),
    ] {
        // `--opt=value`: clap would take `-1s` for an option of its own.
        let out = collect(&[&format!("{opt}={value}")]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{opt} {value}: want a usage error, got {:?}\n{err}",
            out.status
        );
        assert!(!err.contains("panicked"), "{opt} {value}: {err}");
        assert!(
            err.contains(opt) && err.contains(says),
            "{opt} {value}: the message should name the option and say {says:?}:\n{err}"
        );
    }
}

/// The accepted ends of each range still start a collection.
#[test]
fn in_range_extremes_are_accepted() {
    for args in [
        &["--settle", "24h", "--grace", "1ms", "--retry-max", "24h"][..],
        &[
            "--settle",
            "0",
            "--text-writer",
            "rename",
            "--rescan",
            "10ms",
        ][..],
        &["--retry-min", "1ms", "--max-staging-bytes", "1"][..],
        &["--max-staging-bytes", "1024G", "--rescan", "24h"][..],
    ] {
        let out = collect(args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
