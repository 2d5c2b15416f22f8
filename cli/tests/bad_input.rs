//! Malformed input: every command that reads profiles must fail with exit
//! code 1, name the position as `FILE:LINE:COLUMN`, say what was expected,
//! never panic, and leave no `-o` output file behind.
//!
//! The expected positions are computed from the input lines themselves (the
//! 1-based byte column of the offending field), not copied from covlens'
//! output.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

mod common;
use common::covlens;

struct Failure {
    stderr: String,
}

/// Runs `covlens ARGS` in `dir`, which must fail with exit code 1, print
/// nothing on stdout and not panic.
fn fails(dir: &Path, args: &[&str]) -> Failure {
    let out: Output = covlens()
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run covlens");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(1),
        "covlens {args:?}: expected exit code 1\nstderr: {stderr}"
    );
    assert!(
        out.stdout.is_empty(),
        "covlens {args:?} wrote to stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        !stderr.contains("panicked"),
        "covlens {args:?} panicked: {stderr}"
    );
    assert!(
        !stderr.contains("RUST_BACKTRACE"),
        "covlens {args:?}: {stderr}"
    );
    Failure { stderr }
}

/// The commands that read one profile, with the profile last.
fn one_input_commands(p: &str) -> Vec<Vec<String>> {
    let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    vec![
        v(&["merge", p]),
        v(&["aggregate", p]),
        v(&["filter", "--exclude-path=nothing", p]),
        v(&["junit", p]),
        v(&["diff", p, p]),
        v(&["summary", p]),
    ]
}

/// Runs `args` again with `-o out.txt` and checks that the directory holds
/// only `keep` (no output file, no temporary file).
fn assert_no_output_file(dir: &Path, args: &[&str], keep: &[&str]) {
    let mut with_o: Vec<&str> = args.to_vec();
    with_o.insert(1, "-o");
    with_o.insert(2, "out.txt");
    fails(dir, &with_o);
    let mut left: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "good.out")
        .collect();
    left.sort();
    assert_eq!(left, keep, "covlens {with_o:?} left files behind");
}

/// `FILE:LINE:COLUMN:` where COLUMN is the 1-based byte position of
/// `field` in line `line` of `data` (searched from the right, as Go's
/// parser reads fields).
fn pos(name: &str, data: &[u8], line: usize, field: &str) -> String {
    let l = data
        .split(|&b| b == b'\n')
        .nth(line - 1)
        .expect("line exists");
    let l = String::from_utf8_lossy(l);
    let col = l
        .rfind(field)
        .unwrap_or_else(|| panic!("{field:?} not in {l:?}"))
        + 1;
    format!("{name}:{line}:{col}: ")
}

const GOOD: &[u8] = b"mode: count\na.go:1.2,3.4 5 6\n";

/// Writes `data` as `name` in a fresh directory next to a valid
/// `good.out`, then checks every command on it, alone and after good.out,
/// from a file and from stdin: exit 1, each of `expect` in the message (with
/// `-` as the name for stdin), and no `-o` output left behind.
fn check_with_good(name: &str, data: &[u8], expect: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("good.out"), GOOD).unwrap();
    check_in(dir.path(), name, data, expect);
}

fn check_in(dir: &Path, name: &str, data: &[u8], expect: &[&str]) {
    let path: PathBuf = dir.join(name);
    fs::write(&path, data).unwrap();
    for args in one_input_commands(name) {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let f = fails(dir, &args);
        for e in expect {
            assert!(
                f.stderr.contains(e),
                "covlens {args:?}: stderr should contain {e:?}\nstderr: {}",
                f.stderr
            );
        }
        assert_no_output_file(dir, &args, &[name]);
    }
    let f = fails(dir, &["merge", "good.out", name]);
    for e in expect {
        assert!(f.stderr.contains(e), "merge good.out {name}: {}", f.stderr);
    }
    assert_no_output_file(dir, &["merge", "good.out", name], &[name]);
    let out = covlens()
        .args(["merge", "-"])
        .current_dir(dir)
        .stdin(fs::File::open(&path).unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    for e in expect {
        let e = e.replacen(&format!("{name}:"), "-:", 1);
        assert!(stderr.contains(&e), "stdin: want {e:?} in {stderr}");
    }
}

#[test]
fn truncated_lines() {
    // One number short: read right to left (as Go does), "5" is the Count
    // and there is no ' ' before the NumStmt field.
    let d = b"mode: count\na.go:1.2,3.4 5 6\na.go:1.2,3.4 5\n";
    check_with_good(
        "t1.out",
        d,
        &["t1.out:3:1: ", "expected ' ' before the NumStmt field"],
    );
    // Cut in the middle of the positions.
    let d = b"mode: count\na.go:1.2,3.4 5 6\na.go:1.2,3";
    check_with_good("t2.out", d, &["t2.out:3:1: ", "expected ' '"]);
    // A trailing space: an empty Count.
    let d = b"mode: count\na.go:1.2,3.4 5 6\na.go:1.2,3.4 5 \n";
    let at = format!("t3.out:3:{}: ", "a.go:1.2,3.4 5 ".len() + 1);
    check_with_good("t3.out", d, &[&at, "Count", "expected"]);
    // Only a file name.
    let d = b"mode: count\na.go:1.2,3.4 5 6\na.go\n";
    check_with_good("t4.out", d, &["t4.out:3:1: ", "expected"]);
    // Tab-separated fields.
    let d = b"mode: count\na.go:1.2,3.4\t5 6\n";
    check_with_good(
        "t5.out",
        d,
        &["t5.out:2:1: ", "expected ' ' before the NumStmt field"],
    );
}

#[test]
fn bad_numbers() {
    for (name, d, field, what) in [
        (
            "n1.out",
            &b"mode: count\na.go:1.2,3.4 5 6x\n"[..],
            "6x",
            "Count",
        ),
        (
            "n2.out",
            b"mode: count\na.go:1.2,3.4 5y 6\n",
            "5y",
            "NumStmt",
        ),
        (
            "n3.out",
            b"mode: count\na.go:1.2,3.4z 5 6\n",
            "4z",
            "EndCol",
        ),
        (
            "n4.out",
            b"mode: count\na.go:1.2,3z.4 5 6\n",
            "3z",
            "EndLine",
        ),
        (
            "n5.out",
            b"mode: count\na.go:1.x,3.4 5 6\n",
            "x",
            "StartCol",
        ),
        (
            "n6.out",
            b"mode: count\nb.go:1.2,3.4 5 6\na.go:1a.2,3.4 5 6\n",
            "1a",
            "StartLine",
        ),
    ] {
        let line = if name == "n6.out" { 3 } else { 2 };
        let at = pos(name, d, line, field);
        let quoted = format!("{what} \"{field}\"");
        check_with_good(name, d, &[&at, &quoted, "expected a decimal integer"]);
    }
}

#[test]
fn negative_counts_and_positions() {
    let d = b"mode: count\na.go:1.2,3.4 5 -6\n";
    let at = pos("neg.out", d, 2, "-6");
    check_with_good(
        "neg.out",
        d,
        &[&at, "Count \"-6\"", "expected a non-negative integer"],
    );
    let d = b"mode: count\na.go:1.-2,3.4 5 6\n";
    let at = pos("neg2.out", d, 2, "-2");
    check_with_good("neg2.out", d, &[&at, "StartCol \"-2\"", "non-negative"]);
}

#[test]
fn overflowing_numbers() {
    // One more than Go's int64 maximum.
    let d = b"mode: count\na.go:1.2,3.4 5 9223372036854775808\n";
    let at = pos("big.out", d, 2, "9223372036854775808");
    check_with_good(
        "big.out",
        d,
        &[&at, "out of range", "expected at most 9223372036854775807"],
    );
    let d = b"mode: count\na.go:1.2,3.4 5 99999999999999999999999\n";
    let at = pos("big2.out", d, 2, "99999999999999999999999");
    check_with_good("big2.out", d, &[&at, "out of range"]);
    let d = b"mode: count\nab.go:1.2,99999999999999999999.4 5 6\n";
    let at = pos("big3.out", d, 2, "99999999999999999999");
    check_with_good(
        "big3.out",
        d,
        &[&at, "EndLine", "out of range", "expected at most"],
    );
}

#[test]
fn largest_count_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let d = b"mode: count\na.go:1.2,3.4 5 9223372036854775807\n";
    fs::write(dir.path().join("max.out"), d).unwrap();
    let out = covlens()
        .args(["merge", "max.out"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, d);
    assert!(out.stderr.is_empty());
    // A sum past it stops there, and says so (it was silent); in the
    // general merge, in the streaming one, and within one profile.
    let twice = b"mode: count\na.go:1.2,3.4 5 9223372036854775807\na.go:1.2,3.4 5 1\n";
    fs::write(dir.path().join("twice.out"), twice).unwrap();
    for args in [
        &["merge", "max.out", "max.out"][..],
        &["merge", "twice.out"],
    ] {
        let out = covlens()
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert_eq!(out.stdout, d, "{args:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            "covlens: warning: some counts reached 9223372036854775807, the largest a profile \
             holds, and stopped there\n",
            "{args:?}"
        );
    }
}

#[test]
fn missing_mode_line() {
    let d = b"a.go:1.2,3.4 5 6\n";
    check_with_good(
        "nomode.out",
        d,
        &["nomode.out:1:1: ", "expected a mode line"],
    );
    let d = b"mode: \na.go:1.2,3.4 5 6\n";
    check_with_good(
        "nomode2.out",
        d,
        &["nomode2.out:1:1: ", "expected a mode line"],
    );
}

#[test]
fn inconsistent_numstmt() {
    // The same block with 5 and then 4 statements; the file's lines need
    // not be adjacent.
    let d = b"mode: count\na.go:1.2,3.4 5 6\nb.go:1.1,1.2 1 1\na.go:1.2,3.4 4 6\n";
    check_with_good(
        "nstmt.out",
        d,
        &[
            "nstmt.out:4:1: ",
            "inconsistent NumStmt",
            "expected 5",
            "line 2",
            "found 4",
        ],
    );
}

#[test]
fn second_different_mode_line() {
    let d = b"mode: count\na.go:1.2,3.4 5 6\nmode: set\nb.go:1.2,3.4 5 6\n";
    let at = format!("mode2.out:3:{}: ", "mode: ".len() + 1);
    check_with_good("mode2.out", d, &[&at, "\"set\"", "\"count\""]);
}

#[test]
fn non_utf8_file_name() {
    let d = b"mode: set\na.go:1.2,3.4 5 1\nx\xc3(.go:1.2,3.4 5 1\n";
    check_with_good(
        "utf.out",
        d,
        &["utf.out:3:1: ", "expected a UTF-8 file name"],
    );
}

#[test]
fn blank_file_name() {
    let d = b"mode: set\n:1.2,3.4 5 1\n";
    check_with_good("blank.out", d, &["blank.out:2:1: ", "expected a file name"]);
}

#[test]
fn empty_inputs() {
    // No blocks: gopherage's "can't write an empty profile", for the
    // commands that write a profile.
    for (name, d) in [("empty.out", &b""[..]), ("modeonly.out", b"mode: set\n")] {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(name), d).unwrap();
        for args in [
            vec!["merge", name],
            vec!["aggregate", name, name],
            vec!["diff", name, name],
            vec!["filter", name],
        ] {
            let f = fails(dir.path(), &args);
            assert!(
                f.stderr.contains("can't write an empty profile"),
                "{}",
                f.stderr
            );
            assert_no_output_file(dir.path(), &args, &[name]);
        }
    }
}

#[test]
fn directory_and_missing_files() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("adir")).unwrap();
    fs::write(dir.path().join("good.out"), GOOD).unwrap();
    for (input, what) in [("adir", "directory"), ("missing.out", "No such file")] {
        for mut args in one_input_commands(input) {
            if args[0] == "diff" {
                args[1] = "good.out".to_string();
            }
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let f = fails(dir.path(), &args);
            assert!(f.stderr.contains(input), "{args:?}: {}", f.stderr);
            assert!(f.stderr.contains(what), "{args:?}: {}", f.stderr);
            let mut left: Vec<String> = Vec::new();
            with_output(dir.path(), &args);
            for e in fs::read_dir(dir.path()).unwrap() {
                left.push(e.unwrap().file_name().to_string_lossy().into_owned());
            }
            left.sort();
            assert_eq!(left, ["adir", "good.out"], "{args:?} left files behind");
        }
    }
}

fn with_output(dir: &Path, args: &[&str]) {
    let mut a = args.to_vec();
    a.insert(1, "-o");
    a.insert(2, "out.txt");
    fails(dir, &a);
}

/// main.rs prints the error chain (`covlens_core::Error::Io` names the
/// file, its source says why): the reason appears once.
#[test]
fn io_error_reason_is_printed_once() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("adir")).unwrap();
    for (input, what) in [("adir", "directory"), ("missing.out", "No such file")] {
        let f = fails(dir.path(), &["merge", input]);
        assert_eq!(f.stderr.matches(what).count(), 1, "{}", f.stderr);
    }
}

/// The library's errors do not name flags; the binary adds the flag that
/// helps, so the whole message reads as it always did.
#[test]
fn errors_end_with_the_flag_that_helps() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("set.out"), "mode: set\na.go:1.1,1.2 1 1\n").unwrap();
    fs::write(
        dir.path().join("count.out"),
        "mode: count\na.go:1.1,1.2 1 5\n",
    )
    .unwrap();
    fs::write(
        dir.path().join("less.out"),
        "mode: count\na.go:1.1,1.2 1 2\n",
    )
    .unwrap();
    fs::write(dir.path().join("clash.out"), "mode: set\nmode: count\n").unwrap();
    let upgrade = " (use --mode-policy=upgrade to combine them)";
    for (args, want) in [
        (
            &["merge", "set.out", "count.out"][..],
            format!(
                "mode mismatch: set.out has mode \"set\" but count.out has mode \"count\"{upgrade}"
            ),
        ),
        (
            &["merge", "clash.out"],
            format!(
                "clash.out:2:7: mode \"count\" clashes with mode \"set\" declared earlier{upgrade}"
            ),
        ),
        (
            &["diff", "--restart-policy=error", "count.out", "less.out"],
            "less.out:2:1: count of a.go:1.1,1.2 with 1 statement(s) went down from 5 to 2 \
             (the program restarted?); use --restart-policy=clamp or after"
                .to_string(),
        ),
        (
            &["merge", "missing.out"],
            "missing.out: No such file or directory (os error 2)".to_string(),
        ),
    ] {
        assert_eq!(fails(dir.path(), args).stderr, format!("covlens: {want}\n"));
    }
}

/// Input without a newline (a regular file mapped or read, a pipe on
/// stdin, `/dev/zero`) is refused once a line passes the length limit,
/// naming the file, the line and the byte offset where it starts, without
/// reading the rest.
#[test]
fn lines_without_end_are_refused() {
    use std::io::Write;
    use std::process::Stdio;
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir().unwrap();
    let mut data = b"mode: set\n".to_vec();
    data.resize(data.len() + (3 << 20), b'x');
    fs::write(dir.path().join("long.out"), &data).unwrap();
    let msg = |name: &str, line: u32, offset: u64, max: u64| {
        format!(
            "covlens: {name}:{line}:1: expected a newline within {max} bytes (the line length \
             limit) of the line starting at byte offset {offset}; --max-line-bytes raises the \
             limit\n"
        )
    };
    for extra in [&[][..], &["--no-mmap"]] {
        let mut args = vec!["merge", "long.out"];
        args.extend_from_slice(extra);
        assert_eq!(
            fails(dir.path(), &args).stderr,
            msg("long.out", 2, 10, 1 << 20)
        );
        args.extend_from_slice(&["--max-line-bytes", "100"]);
        assert_eq!(fails(dir.path(), &args).stderr, msg("long.out", 2, 10, 100));
        // Above the line, the line is read (and is no block line).
        args.pop();
        args.push("4000000");
        let e = fails(dir.path(), &args).stderr;
        assert!(e.contains("long.out:2:"), "{e}");
        assert!(!e.contains("line length"), "{e}");
    }

    // An endless pipe: covlens stops reading early.
    let mut child = covlens()
        .args(["merge", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let mut sent = 0u64;
        let chunk = vec![b'x'; 1 << 16];
        if stdin.write_all(b"mode: set\n").is_err() {
            return sent;
        }
        while sent < 1 << 30 && stdin.write_all(&chunk).is_ok() {
            sent += chunk.len() as u64;
        }
        sent
    });
    let out = child.wait_with_output().unwrap();
    let sent = writer.join().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        msg("-", 2, 10, 1 << 20)
    );
    assert!(
        sent < 64 << 20,
        "covlens read {sent} bytes of an endless line"
    );

    // /dev/zero, with a watchdog: before the limit, covlens read it until
    // memory ran out.
    if Path::new("/dev/zero").exists() {
        let mut child = covlens()
            .args(["merge", "/dev/zero"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let end = Instant::now() + Duration::from_secs(60);
        while child.try_wait().unwrap().is_none() {
            if Instant::now() > end {
                let _ = child.kill();
                panic!("covlens merge /dev/zero still running after 60 s");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            msg("/dev/zero", 1, 0, 1 << 20)
        );
    }
}
