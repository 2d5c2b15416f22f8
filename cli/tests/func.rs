//! `covlens func` against `go tool cover -func`, byte for byte.
//!
//! Each test makes real profiles with `go test -coverprofile` in the
//! fixture module `fixtures/funcsrc` (written to a temporary directory),
//! runs `go tool cover -func` and the built `covlens func` on them from the
//! same working directory, and compares stdout and success. No expected
//! output is written by hand.
//!
//! Every test needs Go: they are `#[ignore = "needs go"]` and fail without
//! it when run (`scripts/test.sh` runs them).

use std::fs;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::{repo, require_go};

fn fixture() -> PathBuf {
    repo().join("fixtures/funcsrc")
}

/// A command with the settings both tools must share: no toolchain
/// downloads, no workspace from outside the fixture.
fn cmd(program: impl AsRef<std::ffi::OsStr>, dir: &Path) -> Command {
    let mut c = Command::new(program);
    c.current_dir(dir)
        .env("GOTOOLCHAIN", "local")
        .env("GOWORK", "off")
        .env_remove("GOFLAGS");
    c
}

fn run(c: &mut Command) -> Output {
    c.output()
        .unwrap_or_else(|e| panic!("cannot run {c:?}: {e}"))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `go test -coverprofile=<tmp>/<name> ARGS` in `dir`; returns the profile.
fn go_test(dir: &Path, tmp: &Path, name: &str, args: &[&str]) -> PathBuf {
    let profile = tmp.join(name);
    let out = run(cmd("go", dir)
        .arg("test")
        .arg(format!("-coverprofile={}", profile.display()))
        .args(args));
    assert!(
        out.status.success(),
        "go test {args:?} failed:\n{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    profile
}

fn go_cover_func(dir: &Path, profile: &Path) -> Output {
    run(cmd("go", dir)
        .args(["tool", "cover"])
        .arg(format!("-func={}", profile.display())))
}

fn covlens_func(dir: &Path, args: &[&str]) -> Output {
    run(cmd(env!("CARGO_BIN_EXE_covlens"), dir)
        .arg("func")
        .args(args))
}

/// Both succeeded with identical stdout.
fn assert_same(covlens: &Output, go: &Output) {
    assert!(
        go.status.success(),
        "go tool cover failed: {}",
        text(&go.stderr)
    );
    assert!(
        covlens.status.success(),
        "covlens func failed: {}",
        text(&covlens.stderr)
    );
    assert!(
        covlens.stdout == go.stdout,
        "output differs\n--- go tool cover -func\n{}--- covlens func\n{}",
        text(&go.stdout),
        text(&covlens.stdout)
    );
}

fn check_mode(mode: &str) {
    require_go();
    let tmp = tempfile::tempdir().unwrap();
    let fx = fixture();
    let profile = go_test(&fx, tmp.path(), "c.out", &["-covermode", mode, "./..."]);
    let p = profile.to_str().unwrap();
    assert_same(&covlens_func(&fx, &[p]), &go_cover_func(&fx, &profile));
}

#[test]
#[ignore = "needs go"]
fn matches_go_mode_set() {
    check_mode("set");
}

#[test]
#[ignore = "needs go"]
fn matches_go_mode_count() {
    check_mode("count");
}

#[test]
#[ignore = "needs go"]
fn matches_go_mode_atomic() {
    check_mode("atomic");
}

/// Every package's blocks from every test binary, merged, plus the module
/// pulled in through `replace`.
#[test]
#[ignore = "needs go"]
fn matches_go_with_coverpkg() {
    require_go();
    let tmp = tempfile::tempdir().unwrap();
    let fx = fixture();
    for mode in ["set", "atomic"] {
        let args = [
            "-covermode",
            mode,
            "-coverpkg=./...,example.com/funcdep",
            "./...",
        ];
        let profile = go_test(&fx, tmp.path(), mode, &args);
        let want = go_cover_func(&fx, &profile);
        assert_same(&covlens_func(&fx, &[profile.to_str().unwrap()]), &want);
        // The profile read from stdin gives the same output.
        let got = cmd(env!("CARGO_BIN_EXE_covlens"), &fx)
            .args(["func", "-"])
            .stdin(fs::File::open(&profile).unwrap())
            .output()
            .unwrap();
        assert_same(&got, &want);
    }
}

/// `strings/strings.go` and friends are found under GOROOT, both from
/// `$GOROOT` and, without it, from `go env GOROOT`.
#[test]
#[ignore = "needs go"]
fn standard_library_sources_come_from_goroot() {
    require_go();
    let tmp = tempfile::tempdir().unwrap();
    let fx = fixture();
    let profile = go_test(
        &fx,
        tmp.path(),
        "std.out",
        &["-coverpkg=strings", "./stdcov"],
    );
    let names = fs::read_to_string(&profile).unwrap();
    assert!(names.contains("\nstrings/strings.go:"), "{names}");
    let want = go_cover_func(&fx, &profile);
    let p = profile.to_str().unwrap();

    let got = cmd(env!("CARGO_BIN_EXE_covlens"), &fx)
        .env_remove("GOROOT")
        .args(["func", p])
        .output()
        .unwrap();
    assert_same(&got, &want);

    let goroot = run(Command::new("go").args(["env", "GOROOT"]));
    let goroot = text(&goroot.stdout).trim().to_string();
    let got = cmd(env!("CARGO_BIN_EXE_covlens"), tmp.path())
        .env("GOROOT", &goroot)
        .args(["func", p])
        .output()
        .unwrap();
    assert_same(&got, &want);
}

/// Outside any module, `--source-root` says where the packages are.
#[test]
#[ignore = "needs go"]
fn source_roots_from_another_directory() {
    require_go();
    let tmp = tempfile::tempdir().unwrap();
    let fx = fixture();
    let args = ["-coverpkg=./...,example.com/funcdep", "./..."];
    let profile = go_test(&fx, tmp.path(), "c.out", &args);
    let want = go_cover_func(&fx, &profile);
    let elsewhere = tmp.path().join("elsewhere");
    fs::create_dir(&elsewhere).unwrap();
    let root = format!("example.com/funcsrc={}", fx.display());
    let dep = format!("example.com/funcdep={}", fx.join("dep").display());
    let p = profile.to_str().unwrap();
    let got = covlens_func(
        &elsewhere,
        &["--source-root", &root, "--source-root", &dep, p],
    );
    assert_same(&got, &want);
    // Without them nothing is found, and the error says which file.
    let got = covlens_func(&elsewhere, &[p]);
    assert!(!got.status.success());
    assert!(text(&got.stderr).contains("example.com/funcdep/dep.go"));
}

/// A vendored module is read from `vendor/`, even with its replacement
/// directory gone.
#[test]
#[ignore = "needs go"]
fn vendored_modules() {
    require_go();
    let tmp = tempfile::tempdir().unwrap();
    let copy = tmp.path().join("funcsrc");
    copy_dir(&fixture(), &copy);
    let out = run(cmd("go", &copy).args(["mod", "vendor"]));
    assert!(out.status.success(), "go mod vendor: {}", text(&out.stderr));
    fs::remove_dir_all(copy.join("dep")).unwrap();
    let args = ["-coverpkg=./...,example.com/funcdep", "./..."];
    let profile = go_test(&copy, tmp.path(), "c.out", &args);
    let got = covlens_func(&copy, &[profile.to_str().unwrap()]);
    assert_same(&got, &go_cover_func(&copy, &profile));
}

/// A file that cannot be found fails both tools after the same lines.
#[test]
#[ignore = "needs go"]
fn missing_source_fails_after_the_same_lines() {
    require_go();
    let tmp = tempfile::tempdir().unwrap();
    let fx = fixture();
    let profile = go_test(&fx, tmp.path(), "c.out", &["./..."]);
    let mut data = fs::read_to_string(&profile).unwrap();
    // Sorts after every real file, so the others are reported first.
    data.push_str("example.com/funcsrc/zz/gone.go:1.1,2.2 1 1\n");
    let broken = tmp.path().join("broken.out");
    fs::write(&broken, data).unwrap();
    let want = go_cover_func(&fx, &broken);
    let b = broken.to_str().unwrap();
    let got = covlens_func(&fx, &[b]);
    assert!(!want.status.success() && !got.status.success());
    assert!(!want.stdout.is_empty());
    assert!(
        got.stdout == want.stdout,
        "partial output differs\n--- go\n{}--- covlens\n{}",
        text(&want.stdout),
        text(&got.stdout)
    );
    let err = text(&got.stderr);
    assert!(err.contains("example.com/funcsrc/zz/gone.go"), "{err}");

    // With -o, a failed run leaves no file behind.
    let out = tmp.path().join("out.txt");
    let got = covlens_func(&fx, &["-o", out.to_str().unwrap(), b]);
    assert!(!got.status.success());
    assert!(!out.exists());
}

#[test]
#[ignore = "needs go"]
fn output_file() {
    require_go();
    let tmp = tempfile::tempdir().unwrap();
    let fx = fixture();
    let profile = go_test(&fx, tmp.path(), "c.out", &["-covermode=count", "./..."]);
    let want = go_cover_func(&fx, &profile);
    let out = tmp.path().join("func.txt");
    let got = covlens_func(
        &fx,
        &["-o", out.to_str().unwrap(), profile.to_str().unwrap()],
    );
    assert!(got.status.success(), "{}", text(&got.stderr));
    assert!(got.stdout.is_empty());
    assert_eq!(text(&fs::read(&out).unwrap()), text(&want.stdout));
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            fs::copy(e.path(), dest).unwrap();
        }
    }
}

/// `covlens explain`'s statements per package are what `go test -cover`
/// prints for the package; its line counts are the LF/LH of `covlens
/// convert --to lcov` with each `--line-hits` rule.
#[test]
#[ignore = "needs go"]
fn explain_reconciles_go_test_cover_and_lcov() {
    require_go();
    let tmp = tempfile::tempdir().unwrap();
    let fx = fixture();
    let profile = tmp.path().join("c.out");
    let go = run(cmd("go", &fx)
        .args(["test", "-covermode", "count"])
        .arg(format!("-coverprofile={}", profile.display()))
        .arg("./..."));
    assert!(go.status.success(), "{}", text(&go.stderr));
    // "ok  \texample.com/funcsrc\t0.01s\tcoverage: 81.8% of statements"
    let go: Vec<(String, String)> = text(&go.stdout)
        .lines()
        .filter_map(|l| {
            let (head, pct) = l.split_once("coverage: ")?;
            let pkg = head.split('\t').nth(1)?.trim().to_owned();
            Some((pkg, pct.split(' ').next()?.to_owned()))
        })
        .collect();
    assert!(go.len() > 5, "{go:?}");

    let p = profile.to_str().unwrap();
    let e = run(cmd(env!("CARGO_BIN_EXE_covlens"), &fx)
        .args(["explain", p, "--top", "0", "--format", "json"]));
    assert!(e.status.success(), "{}", text(&e.stderr));
    let e: serde_json::Value = serde_json::from_slice(&e.stdout).unwrap();
    let percent = |c: &serde_json::Value| {
        let (covered, total) = (c["covered"].as_u64().unwrap(), c["total"].as_u64().unwrap());
        format!("{:.1}%", 100.0 * covered as f64 / total.max(1) as f64)
    };
    let rows = e["rows"].as_array().unwrap();
    for (pkg, pct) in &go {
        let row = rows
            .iter()
            .find(|r| r["name"] == pkg.as_str())
            .unwrap_or_else(|| panic!("no row for {pkg}"));
        assert_eq!(&percent(&row["statements"]), pct, "{pkg}");
    }

    let lcov = |rule: &str| {
        let o = run(cmd(env!("CARGO_BIN_EXE_covlens"), &fx).args([
            "convert",
            p,
            "--to",
            "lcov",
            "--line-hits",
            rule,
        ]));
        assert!(o.status.success(), "{}", text(&o.stderr));
        let sum = |key: &str| -> u64 {
            text(&o.stdout)
                .lines()
                .filter_map(|l| l.strip_prefix(key))
                .map(|n| n.parse::<u64>().unwrap())
                .sum()
        };
        (sum("LF:"), sum("LH:"))
    };
    let (lines, ran) = lcov("max");
    let (_, fully) = lcov("min");
    let t = &e["total"];
    assert!(fully < ran, "the fixture has partial lines");
    assert_eq!(t["lines"], lines);
    assert_eq!(t["lines_ran"], ran);
    assert_eq!(t["lines_fully_ran"], fully);
}

/// A source that is not a Go file (empty, comments only, no package
/// clause) fails as `go tool cover -func` fails: same position, same
/// words; it used to be read as a file without functions.
#[test]
#[ignore = "needs go"]
fn a_source_without_a_package_clause_fails_as_go_does() {
    require_go();
    let tmp = tempfile::tempdir().unwrap();
    let fx = tmp.path().join("funcsrc");
    copy_dir(&fixture(), &fx);
    let profile = go_test(&fx, tmp.path(), "c.out", &["./..."]);
    let victim = fx.join("shapes/shapes.go");
    assert!(
        fs::read_to_string(&profile)
            .unwrap()
            .contains("/shapes/shapes.go:")
    );
    for src in [
        "",
        "// only a comment\n",
        "\nfunc F() {}\n",
        "/* c */ x := 1\n",
    ] {
        fs::write(&victim, src).unwrap();
        let want = go_cover_func(&fx, &profile);
        let got = covlens_func(&fx, &[profile.to_str().unwrap()]);
        assert!(!want.status.success() && !got.status.success(), "{src:?}");
        // Go: `cover: PATH:L:C: expected 'package', found X`.
        let go_err = text(&want.stderr);
        let at = go_err
            .find("shapes.go:")
            .unwrap_or_else(|| panic!("{go_err}"));
        let what = go_err[at..].lines().next().unwrap();
        let err = text(&got.stderr);
        assert!(
            err.contains(what),
            "{src:?}\n go: {go_err}\n covlens: {err}"
        );
    }
}
