//! `covlens covdata …` and GOCOVERDIR inputs against the real Go tools.
//!
//! Once per test process the fixture program (fixtures/covprog) is built
//! with `go build -cover` in each mode and run several times with
//! `GOCOVERDIR`, its tests run with `-test.gocoverdir`, and `go tool
//! covdata merge` writes merged directories. Every expected output comes
//! from `go tool covdata` at test time; nothing is hand-written.
//!
//! The tests that build the fixture are `#[ignore = "needs go"]` and fail
//! without a Go toolchain when run (`scripts/test.sh` runs them). The Go
//! 1.23 sample in `fixtures/covdata-go1.23` has its `go tool covdata`
//! outputs recorded, so its test runs everywhere.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use covlens_core::covdata::{Flavor, parse_counters, parse_meta};

mod common;
use common::{covlens, go, repo, require_go};

// ---------------------------------------------------------------- helpers

fn run(mut c: Command) -> Output {
    let what = format!("{c:?}");
    let out = c.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("panicked"),
        "{what} panicked: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn ok(c: Command) -> Output {
    let what = format!("{c:?}");
    let out = run(c);
    assert!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn p(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

fn copy_dir(from: &Path, to: &Path, keep: impl Fn(&str) -> bool) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        if e.file_type().unwrap().is_file() && keep(&name) {
            fs::copy(e.path(), to.join(&name)).unwrap();
        }
    }
}

fn files_with_prefix(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|f| f.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .collect();
    v.sort();
    v
}

// ---------------------------------------------------------------- fixture

/// Directories of coverage data, built once.
struct Fixture {
    root: PathBuf,
    /// Name → directory.
    dirs: BTreeMap<&'static str, PathBuf>,
    /// Mode → `-cover` binary.
    bins: BTreeMap<&'static str, PathBuf>,
}

impl Fixture {
    fn dir(&self, name: &str) -> &Path {
        &self.dirs[name]
    }

    /// A fresh scratch directory.
    fn scratch(&self, name: &str) -> PathBuf {
        let d = self.root.join("scratch").join(name);
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    /// `-i` value for the named directories.
    fn inputs(&self, names: &str) -> String {
        names
            .split(',')
            .map(|n| p(self.dir(n)))
            .collect::<Vec<_>>()
            .join(",")
    }
}

static FIXTURE: OnceLock<Fixture> = OnceLock::new();

/// The fixture directories; the first call builds them (needs Go).
fn fixture() -> &'static Fixture {
    FIXTURE.get_or_init(|| {
        require_go();
        build_fixture()
    })
}

/// Removes the fixture directories of earlier test processes that are no
/// longer running (statics are never dropped, so nothing else does).
fn remove_stale_fixtures(tmp: &Path) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    for e in fs::read_dir(tmp).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(pid) = name.strip_prefix("covdata-")
            && pid.parse::<u32>().is_ok()
            && !Path::new("/proc").join(pid).exists()
        {
            let _ = fs::remove_dir_all(e.path());
        }
    }
}

fn build_fixture() -> Fixture {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    remove_stale_fixtures(tmp);
    let root = tmp.join(format!("covdata-{}", std::process::id()));
    let _ = fs::remove_dir_all(&root);
    fs::create_dir_all(&root).unwrap();
    let src = repo().join("fixtures/covprog");
    let mut dirs = BTreeMap::new();
    let mut bins = BTreeMap::new();
    for mode in ["set", "count", "atomic"] {
        let bin = root.join(format!("covprog-{mode}"));
        let mut c = go();
        c.current_dir(&src).args([
            "build",
            "-cover",
            &format!("-covermode={mode}"),
            "-o",
            &p(&bin),
            "./cmd/covprog",
        ]);
        ok(c);
        bins.insert(mode, bin);
    }
    let runs = |name: &'static str, bin: &Path, runs: &[&[&str]], dirs: &mut BTreeMap<_, _>| {
        let d = root.join(name);
        fs::create_dir_all(&d).unwrap();
        for args in runs {
            let mut c = Command::new(bin);
            c.args(*args).env("GOCOVERDIR", &d).stdout(Stdio::null());
            let out = c.output().expect("run covprog");
            // `exit:N` runs end with that code; anything else must succeed.
            let want = args
                .iter()
                .find_map(|a| a.strip_prefix("exit:"))
                .map_or(0, |n| n.parse().unwrap());
            assert_eq!(out.status.code(), Some(want), "{args:?}");
        }
        dirs.insert(name, d);
    };
    runs(
        "set",
        &bins["set"],
        &[
            &["shapes"],
            &["text", "calc:5", "linedir:1"],
            &["init", "exit:1"],
        ],
        &mut dirs,
    );
    runs(
        "count",
        &bins["count"],
        &[
            &["shapes", "calc:12", "linedir:3"],
            &["text", "text", "init"],
            &["calc:3", "linedir:0", "exit:2"],
        ],
        &mut dirs,
    );
    runs(
        "count2",
        &bins["count"],
        &[&["calc:100"], &["shapes", "shapes", "text"]],
        &mut dirs,
    );
    runs(
        "atomic",
        &bins["atomic"],
        &[&["calc:40", "text"], &["shapes"]],
        &mut dirs,
    );
    // A long-running process that flushes 4 snapshots (plus the one at
    // exit), and another process of the same binary.
    runs(
        "periodic",
        &bins["atomic"],
        &[&["flush:4", "text"], &["calc:3"]],
        &mut dirs,
    );
    // Test binaries: one pod per package with tests (-coverpkg makes every
    // pod hold all packages).
    let tests = root.join("tests");
    fs::create_dir_all(&tests).unwrap();
    let mut c = go();
    c.current_dir(&src).args([
        "test",
        "-count=1",
        "-cover",
        "-covermode=count",
        "-coverpkg=./...",
        "./...",
        "-args",
        &format!("-test.gocoverdir={}", p(&tests)),
    ]);
    ok(c);
    dirs.insert("tests", tests);
    // covdata merge outputs (pid 0), with and without -pcombine.
    for (name, extra) in [("merged", None), ("pcombined", Some("-pcombine"))] {
        let d = root.join(name);
        fs::create_dir_all(&d).unwrap();
        let mut c = go();
        c.args(["tool", "covdata", "merge"])
            .arg(format!("-i={},{}", p(&dirs["count"]), p(&dirs["tests"])))
            .arg(format!("-o={}", p(&d)));
        if let Some(x) = extra {
            c.arg(x);
        }
        ok(c);
        dirs.insert(name, d);
    }
    Fixture { root, dirs, bins }
}

// ---------------------------------------------------------------- comparing

/// What a covdata command printed, or the text profile it wrote.
#[derive(PartialEq, Eq)]
struct Res {
    code: Option<i32>,
    out: Vec<u8>,
}

impl std::fmt::Debug for Res {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit {:?}, output:\n{}", self.code, self.text())
    }
}

impl Res {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.out).into_owned()
    }
}

/// `go tool covdata CMD -i=INPUTS ARGS`; textfmt writes to a file, which
/// is what is returned.
fn go_covdata(f: &Fixture, cmd: &str, inputs: &str, args: &[&str]) -> Res {
    static SEQ: AtomicUsize = AtomicUsize::new(0);
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    let out_file = f.root.join("scratch").join(format!("go-{cmd}-{n}.txt"));
    fs::create_dir_all(out_file.parent().unwrap()).unwrap();
    let _ = fs::remove_file(&out_file);
    let mut c = go();
    c.args(["tool", "covdata", cmd])
        .arg(format!("-i={inputs}"))
        .args(args);
    if cmd == "textfmt" {
        c.arg(format!("-o={}", p(&out_file)));
    }
    let o = run(c);
    let out = if cmd == "textfmt" && o.status.success() {
        fs::read(&out_file).unwrap()
    } else {
        o.stdout
    };
    Res {
        code: o.status.code(),
        out,
    }
}

fn covlens_covdata(cmd: &str, inputs: &str, args: &[&str]) -> Res {
    let mut c = covlens();
    c.args(["covdata", cmd, "-i", inputs]).args(args);
    let o = run(c);
    Res {
        code: o.status.code(),
        out: o.stdout,
    }
}

/// Both tools give the same bytes (and both succeed).
fn same(f: &Fixture, cmd: &str, inputs: &str, args: &[&str]) -> String {
    let want = go_covdata(f, cmd, inputs, args);
    assert_eq!(
        want.code,
        Some(0),
        "go tool covdata {cmd} -i={inputs} {args:?} failed"
    );
    let got = covlens_covdata(cmd, inputs, args);
    assert_eq!(
        got.code,
        Some(0),
        "covlens covdata {cmd} -i {inputs} {args:?} failed"
    );
    assert!(
        got.out == want.out,
        "covlens covdata {cmd} -i {inputs} {args:?} differs from go tool covdata\n\
         --- go\n{}\n--- covlens\n{}",
        want.text(),
        got.text()
    );
    want.text()
}

const COMMANDS: [&str; 4] = ["textfmt", "percent", "func", "pkglist"];

// ---------------------------------------------------------------- tests

#[test]
#[ignore = "needs go"]
fn every_report_matches_go_tool_covdata() {
    let f = fixture();
    for names in [
        "set",
        "count",
        "atomic",
        "tests",
        "merged",
        "pcombined",
        "count,count2",
        "count,tests",
        "count2,merged,tests",
    ] {
        let inputs = f.inputs(names);
        for cmd in COMMANDS {
            let out = same(f, cmd, &inputs, &[]);
            assert!(!out.is_empty(), "{cmd} {names}: no output");
        }
    }
    // The fixture has the shapes the reports must get right.
    let percent = same(f, "percent", &f.inputs("count"), &[]);
    assert!(
        percent.contains("\texample.com/covprog/internal/consts\t\t\t"),
        "a package without statements prints no newline: {percent:?}"
    );
    let func = same(f, "func", &f.inputs("count"), &[]);
    assert!(func.contains("\tinit\t"), "{func}");
    assert!(func.contains("\t*Circle.Grow\t"), "{func}");
    assert!(!func.contains("func.L"), "literals are not listed: {func}");
    // //line directives interleave two functions' units: Go orders them
    // by end line before start column and lists Outer after Interleaved.
    let text = same(f, "textfmt", &f.inputs("count"), &[]);
    let at = |needle: &str| {
        text.find(needle)
            .unwrap_or_else(|| panic!("{needle}: {text}"))
    };
    assert!(
        at("virtual.go:10.24,10.36 ") < at("virtual.go:10.23,11.11 "),
        "{text}"
    );
    assert!(
        func.find("\tInterleaved\t") < func.find("\tOuter\t"),
        "{func}"
    );
}

#[test]
#[ignore = "needs go"]
fn package_patterns_match_go() {
    let f = fixture();
    let inputs = f.inputs("count,tests");
    for pat in [
        "example.com/covprog/shapes",
        "example.com/covprog/...",
        "example.com/covprog/text,example.com/covprog/calc",
        "example.com/...s",
        "nothing/matches",
    ] {
        for cmd in COMMANDS {
            let want = go_covdata(f, cmd, &inputs, &[&format!("-pkg={pat}")]);
            // Go's single-dash spelling and the clap one give the same.
            for flag in [format!("-pkg={pat}"), format!("--pkg={pat}")] {
                let got = covlens_covdata(cmd, &inputs, &[&flag]);
                assert_eq!(got, want, "{cmd} {flag}");
            }
        }
    }
}

/// debugdump output without its header's command line (the tool's own
/// path and arguments).
fn dump_body(out: &[u8]) -> String {
    let text = String::from_utf8_lossy(out);
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    assert!(
        lines.len() > 6 && lines[3] == " * produced by:\n" && lines[5] == " */\n",
        "{text}"
    );
    lines
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != 4)
        .map(|(_, l)| *l)
        .collect()
}

#[test]
#[ignore = "needs go"]
fn debugdump_matches_go() {
    let f = fixture();
    for names in [
        "set",
        "count",
        "atomic",
        "tests",
        "merged",
        "pcombined",
        "count,count2",
        "count2,merged,tests",
    ] {
        let inputs = f.inputs(names);
        for args in [
            &[][..],
            &["-live"],
            &["-pkg=example.com/covprog/shapes,example.com/covprog/calc"],
            &["-live", "-pkg=example.com/covprog/..."],
        ] {
            let want = go_covdata(f, "debugdump", &inputs, args);
            let got = covlens_covdata("debugdump", &inputs, args);
            assert_eq!(
                (want.code, got.code),
                (Some(0), Some(0)),
                "{names} {args:?}"
            );
            let (want, got) = (dump_body(&want.out), dump_body(&got.out));
            assert!(
                got == want,
                "debugdump {names} {args:?} differs from go tool covdata\n--- go\n{want}\n--- covlens\n{got}"
            );
            assert!(want.contains("\ntotalStmts: "), "{want}");
        }
    }
    // -live leaves out what never ran, and the totals still count it.
    let all = dump_body(&covlens_covdata("debugdump", &f.inputs("count"), &[]).out);
    let live = dump_body(&covlens_covdata("debugdump", &f.inputs("count"), &["-live"]).out);
    assert!(live.len() < all.len());
    assert_eq!(all.lines().last(), live.lines().last());
}

#[test]
#[ignore = "needs go"]
fn go_style_flags_are_accepted() {
    let f = fixture();
    let d = f.scratch("flags");
    let out = d.join("t.txt");
    let mut c = covlens();
    c.args(["covdata", "textfmt"])
        .arg(format!("-i={}", f.inputs("count")))
        .arg(format!("-o={}", p(&out)));
    ok(c);
    assert_eq!(
        fs::read(&out).unwrap(),
        go_covdata(f, "textfmt", &f.inputs("count"), &[]).out
    );
    // percent -o also writes the text profile.
    let out2 = d.join("t2.txt");
    let mut c = covlens();
    c.args([
        "covdata",
        "percent",
        "-i",
        &f.inputs("count"),
        "-o",
        &p(&out2),
    ]);
    let o = ok(c);
    assert_eq!(
        o.stdout,
        go_covdata(f, "percent", &f.inputs("count"), &[]).out
    );
    assert_eq!(fs::read(&out2).unwrap(), fs::read(&out).unwrap());
    // Bad usage exits 2, as Go's flag package makes it.
    let inputs = f.inputs("count");
    for (cmd, args) in [("percent", &["-bogus"][..]), ("func", &["-pkg"][..])] {
        let want = go_covdata(f, cmd, &inputs, args);
        let got = covlens_covdata(cmd, &inputs, args);
        assert_eq!((got.code, want.code), (Some(2), Some(2)), "{cmd} {args:?}");
    }
}

#[test]
#[ignore = "needs go"]
fn empty_directory_like_go() {
    let f = fixture();
    let d = f.scratch("empty");
    let inputs = p(&d);
    for cmd in COMMANDS {
        let want = go_covdata(f, cmd, &inputs, &[]);
        let got = covlens_covdata(cmd, &inputs, &[]);
        assert_eq!(got, want, "{cmd}");
    }
    // As a profile input, a directory without data is an error.
    let mut c = covlens();
    c.args(["merge", &inputs]);
    let o = run(c);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("without Go coverage data"));
}

#[test]
#[ignore = "needs go"]
fn mode_clash_fails_textfmt_and_upgrades_elsewhere() {
    let f = fixture();
    let inputs = f.inputs("set,count,atomic");
    let want = go_covdata(f, "textfmt", &inputs, &[]);
    assert_eq!(
        want.code,
        Some(1),
        "go tool covdata textfmt accepts mixed modes?"
    );
    let got = covlens_covdata("textfmt", &inputs, &[]);
    assert_eq!(got.code, Some(1));
    for cmd in ["percent", "func", "pkglist"] {
        same(f, cmd, &inputs, &[]);
    }
    // With --mode-policy=upgrade textfmt combines at the highest mode.
    let mut c = covlens();
    c.args([
        "--mode-policy",
        "upgrade",
        "covdata",
        "textfmt",
        "-i",
        &inputs,
    ]);
    let o = ok(c);
    assert!(o.stdout.starts_with(b"mode: atomic\n"));
}

/// `covlens merge DIR text.out` equals merging `go tool covdata textfmt
/// DIR` with text.out; text and binary inputs mix in one merge.
#[test]
#[ignore = "needs go"]
fn directories_are_profile_inputs() {
    let f = fixture();
    let d = f.scratch("inputs");
    let count_txt = d.join("count.txt");
    let count2_txt = d.join("count2.txt");
    fs::write(
        &count_txt,
        go_covdata(f, "textfmt", &f.inputs("count"), &[]).out,
    )
    .unwrap();
    fs::write(
        &count2_txt,
        go_covdata(f, "textfmt", &f.inputs("count2"), &[]).out,
    )
    .unwrap();
    let covlens_out = |args: &[String]| {
        let mut c = covlens();
        c.args(args);
        ok(c).stdout
    };
    let s = |v: &[&Path]| v.iter().map(|x| p(x)).collect::<Vec<_>>();
    for cmd in ["merge", "aggregate"] {
        let mut a = vec![cmd.to_string()];
        a.extend(s(&[f.dir("count"), &count2_txt]));
        let mixed = covlens_out(&a);
        let mut b = vec![cmd.to_string()];
        b.extend(s(&[&count_txt, &count2_txt]));
        let text = covlens_out(&b);
        assert_eq!(mixed, text, "{cmd}: directory vs its textfmt");
        assert!(!mixed.is_empty());
        // Two directories.
        let mut a = vec![cmd.to_string()];
        a.extend(s(&[f.dir("count"), f.dir("count2")]));
        assert_eq!(covlens_out(&a), text, "{cmd}: two directories");
    }
    // The merged counts really are sums: a block of SumTo's loop.
    let merged = String::from_utf8(covlens_out(&[
        "merge".into(),
        p(f.dir("count")),
        p(&count2_txt),
    ]))
    .unwrap();
    assert!(merged.starts_with("mode: count\n"));
    // Single-input commands take a directory as well.
    for cmd in ["summary", "junit"] {
        assert_eq!(
            covlens_out(&[cmd.into(), p(f.dir("count"))]),
            covlens_out(&[cmd.into(), p(&count_txt)]),
            "{cmd}"
        );
    }
}

/// Periodic flushes with `runtime/coverage.WriteCountersDir` are
/// cumulative snapshots, but nothing in the files says so: they count as
/// Go counts them (all of them), and only `--newest-per-pid` (the rule for
/// directories of covflush releases that did not mark their snapshots)
/// keeps the newest file per pid. covflush's marked snapshots are tested
/// with covflush itself (collector/tests/go.rs).
#[test]
#[ignore = "needs go"]
fn unmarked_periodic_flushes_count_like_go() {
    let f = fixture();
    let dir = f.dir("periodic");
    let counters = files_with_prefix(dir, "covcounters.");
    // 4 flushes + the exit hook of one process, 1 file of another.
    assert_eq!(counters.len(), 6, "{counters:?}");
    let mut by_pid: BTreeMap<String, Vec<(u128, PathBuf)>> = BTreeMap::new();
    for c in &counters {
        let name = c.file_name().unwrap().to_string_lossy().into_owned();
        let parts: Vec<&str> = name.split('.').collect();
        by_pid
            .entry(parts[2].to_string())
            .or_default()
            .push((parts[3].parse().unwrap(), c.clone()));
    }
    assert_eq!(by_pid.len(), 2);
    let newest: Vec<String> = by_pid
        .values()
        .map(|v| {
            let (_, path) = v.iter().max().unwrap();
            path.file_name().unwrap().to_string_lossy().into_owned()
        })
        .collect();
    let only_newest = f.scratch("periodic-newest");
    copy_dir(dir, &only_newest, |n| {
        n.starts_with("covmeta.") || newest.iter().any(|x| x == n)
    });
    for cmd in COMMANDS {
        same(f, cmd, &p(dir), &[]);
        assert_eq!(
            covlens_covdata(cmd, &p(dir), &["--all-snapshots"]),
            go_covdata(f, cmd, &p(dir), &[]),
            "{cmd} --all-snapshots"
        );
        assert_eq!(
            covlens_covdata(cmd, &p(dir), &["--newest-per-pid"]),
            go_covdata(f, cmd, &p(&only_newest), &[]),
            "{cmd} --newest-per-pid"
        );
    }
    // Summing snapshots over-counts (Go's numbers, kept by default), and
    // the legacy rule differs from it.
    assert_ne!(
        go_covdata(f, "textfmt", &p(dir), &[]).out,
        go_covdata(f, "textfmt", &p(&only_newest), &[]).out
    );
    // Profile commands read the directory as the covdata commands do.
    let mut c = covlens();
    c.args(["merge", &p(dir)]);
    let from_dir = ok(c).stdout;
    let txt = f.scratch("periodic-txt").join("t.txt");
    fs::write(&txt, go_covdata(f, "textfmt", &p(dir), &[]).out).unwrap();
    let mut c = covlens();
    c.args(["merge", &p(&txt)]);
    assert_eq!(from_dir, ok(c).stdout);
}

/// Re-encodes a counter file (ULEB128, one segment) with raw 4-byte
/// values in the given byte order; header, string table and args are
/// copied from the original.
fn to_raw(data: &[u8], big_endian: bool) -> Vec<u8> {
    let cf = parse_counters(data, "orig").unwrap();
    assert_eq!(cf.flavor, Flavor::Uleb128);
    assert_eq!(cf.segments.len(), 1);
    let strtab_len = u32::from_le_bytes(data[40..44].try_into().unwrap()) as usize;
    let args_len = u32::from_le_bytes(data[44..48].try_into().unwrap()) as usize;
    let mut out = data[..48 + strtab_len + args_len].to_vec();
    out[24] = 1; // Raw
    out[25] = u8::from(big_endian);
    let put = |out: &mut Vec<u8>, v: u32| {
        out.extend_from_slice(&if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        })
    };
    let seg = &cf.segments[0];
    for r in seg.records() {
        let c = seg.counters(r);
        put(&mut out, c.len() as u32);
        put(&mut out, r.pkg);
        put(&mut out, r.func);
        for &v in c {
            put(&mut out, v);
        }
    }
    out.extend_from_slice(&data[data.len() - 16..]);
    out
}

#[test]
#[ignore = "needs go"]
fn raw_counter_flavours_read_like_uleb() {
    let f = fixture();
    let src = f.dir("count");
    let want = go_covdata(f, "textfmt", &p(src), &[]);
    for big in [false, true] {
        let d = f.scratch(if big { "raw-be" } else { "raw-le" });
        copy_dir(src, &d, |n| n.starts_with("covmeta."));
        for c in files_with_prefix(src, "covcounters.") {
            let raw = to_raw(&fs::read(&c).unwrap(), big);
            fs::write(d.join(c.file_name().unwrap()), raw).unwrap();
        }
        // Go reads the hand-made files the same, and so does covlens.
        assert_eq!(go_covdata(f, "textfmt", &p(&d), &[]), want, "go, big={big}");
        for cmd in COMMANDS {
            same(f, cmd, &p(&d), &[]);
        }
        assert_eq!(covlens_covdata("textfmt", &p(&d), &[]), want);
    }
}

/// Two counter files folded into one file with two segments read like the
/// two files (Go writes one segment, and its reader reads only that one;
/// covlens reads them all).
#[test]
#[ignore = "needs go"]
fn several_segments_add_up() {
    let f = fixture();
    let src = f.dir("count");
    let files = files_with_prefix(src, "covcounters.");
    assert!(files.len() >= 2);
    let a = fs::read(&files[0]).unwrap();
    let b = fs::read(&files[1]).unwrap();
    let two_files = f.scratch("segments-files");
    copy_dir(src, &two_files, |n| n.starts_with("covmeta."));
    fs::copy(&files[0], two_files.join(files[0].file_name().unwrap())).unwrap();
    fs::copy(&files[1], two_files.join(files[1].file_name().unwrap())).unwrap();
    // header(a) | segment(a) | footer(1) | segment(b) | footer(2)
    let mut joined = a.clone();
    joined.extend_from_slice(&b[32..b.len() - 16]);
    let mut footer = b[b.len() - 16..].to_vec();
    footer[8..12].copy_from_slice(&2u32.to_le_bytes());
    joined.extend_from_slice(&footer);
    let one_file = f.scratch("segments-one");
    copy_dir(src, &one_file, |n| n.starts_with("covmeta."));
    fs::write(one_file.join(files[0].file_name().unwrap()), &joined).unwrap();
    let cf = parse_counters(&joined, "joined").unwrap();
    assert_eq!(cf.segments.len(), 2);
    for cmd in COMMANDS {
        let want = go_covdata(f, cmd, &p(&two_files), &[]);
        assert_eq!(covlens_covdata(cmd, &p(&one_file), &[]), want, "{cmd}");
    }
}

/// A directory Go 1.23 wrote (MD5-era hashes) and what `go tool covdata`
/// 1.23 printed for it, recorded in `fixtures/covdata-go1.23`.
#[test]
fn sample_directory_matches_recorded_go_outputs() {
    let samples = repo().join("fixtures/covdata-go1.23");
    let dir = p(&samples.join("gocoverdir"));
    for cmd in COMMANDS {
        let want = fs::read(samples.join(format!("covdata_{cmd}.txt"))).unwrap();
        let got = covlens_covdata(cmd, &dir, &[]);
        assert_eq!(got.code, Some(0));
        assert!(got.out == want, "{cmd}:\n{}", got.text());
    }
    // The recorded dump names files relative to the samples directory.
    let mut c = covlens();
    c.current_dir(&samples)
        .args(["covdata", "debugdump", "-i=gocoverdir"]);
    let got = ok(c);
    let want = fs::read(samples.join("covdata_debugdump.txt")).unwrap();
    assert_eq!(dump_body(&got.stdout), dump_body(&want));
    // MD5-era (Go 1.23) hashes verify as well as FNV-era ones.
    let meta = files_with_prefix(&samples.join("gocoverdir"), "covmeta.");
    let m = parse_meta(&fs::read(&meta[0]).unwrap(), "m").unwrap();
    assert_eq!(m.algo, covlens_core::covdata::HashAlgo::Md5);
}

/// Truncated or altered files: an error naming the file and a byte offset
/// (or, for an altered value that stays consistent, a normal read), and
/// never a panic.
#[test]
#[ignore = "needs go"]
fn corrupt_files_name_file_and_offset() {
    let f = fixture();
    let src = f.dir("count");
    let meta_path = files_with_prefix(src, "covmeta.").remove(0);
    let ctr_path = files_with_prefix(src, "covcounters.").remove(0);
    let meta = fs::read(&meta_path).unwrap();
    let ctr = fs::read(&ctr_path).unwrap();
    parse_meta(&meta, "m").unwrap();
    parse_counters(&ctr, "c").unwrap();
    let offset_of = |msg: &str| -> u64 {
        let rest = msg
            .split("at byte offset ")
            .nth(1)
            .unwrap_or_else(|| panic!("no offset in {msg:?}"));
        rest.split(':').next().unwrap().parse().unwrap()
    };
    for cut in 0..meta.len() {
        let e = parse_meta(&meta[..cut], "covmeta.x")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("covmeta.x: at byte offset "), "{e}");
        assert!(offset_of(&e) <= cut as u64, "cut {cut}: {e}");
    }
    for cut in 0..ctr.len() {
        let e = parse_counters(&ctr[..cut], "covcounters.x")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("covcounters.x: at byte offset "), "{e}");
    }
    // Flip every byte. The meta file is covered by its hashes: any change
    // that matters is an error.
    let mut meta_errors = 0;
    for i in 0..meta.len() {
        for x in [0xffu8, 0x01] {
            let mut m = meta.clone();
            m[i] ^= x;
            match parse_meta(&m, "covmeta.x") {
                Ok(_) => {}
                Err(e) => {
                    let e = e.to_string();
                    assert!(e.starts_with("covmeta.x: at byte offset "), "{e}");
                    assert!(offset_of(&e) <= meta.len() as u64, "{e}");
                    meta_errors += 1;
                }
            }
        }
    }
    assert!(meta_errors > meta.len(), "flips went unnoticed");
    for i in 0..ctr.len() {
        let mut c = ctr.clone();
        c[i] ^= 0xff;
        if let Err(e) = parse_counters(&c, "covcounters.x") {
            assert!(
                e.to_string().starts_with("covcounters.x: at byte offset "),
                "{e}"
            );
        }
    }
    // Through the CLI: exit code 1 and the file's path; --skip-bad reports
    // the file and reads the rest, which gives Go's output for the rest.
    let bad = f.scratch("corrupt");
    copy_dir(src, &bad, |_| true);
    let victim = bad.join(ctr_path.file_name().unwrap());
    fs::write(&victim, &ctr[..ctr.len() - 5]).unwrap();
    let mut c = covlens();
    c.args(["covdata", "textfmt", "-i", &p(&bad)]);
    let o = run(c);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(
        err.contains(&p(&victim)) && err.contains("at byte offset"),
        "{err}"
    );
    let mut c = covlens();
    c.args(["merge", &p(&bad)]);
    assert_eq!(run(c).status.code(), Some(1));
    let rest = f.scratch("corrupt-rest");
    copy_dir(&bad, &rest, |n| !victim.ends_with(n));
    let mut c = covlens();
    c.args(["covdata", "textfmt", "--skip-bad", "-i", &p(&bad)]);
    let o = ok(c);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(
        err.contains(&format!("skipped {}: at byte offset", p(&victim))),
        "{err}"
    );
    // Named once, not once by the warning and again by the reason.
    assert_eq!(err.matches(&p(&victim)).count(), 1, "{err}");
    assert_eq!(o.stdout, go_covdata(f, "textfmt", &p(&rest), &[]).out);
    // A bad meta file takes its counter files with it.
    let bad_meta = f.scratch("corrupt-meta");
    copy_dir(src, &bad_meta, |_| true);
    let mut m = meta.clone();
    let k = m.len() - 3;
    m[k] ^= 0x10;
    fs::write(bad_meta.join(meta_path.file_name().unwrap()), &m).unwrap();
    let mut c = covlens();
    c.args(["covdata", "percent", "--skip-bad", "-i", &p(&bad_meta)]);
    let o = ok(c);
    assert!(o.stdout.is_empty());
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(err.contains("with its meta-data file"), "{err}");
}

/// A counter file that belongs to another binary, renamed to this one's
/// hash, is reported as a mismatch, not read as garbage.
#[test]
#[ignore = "needs go"]
fn mismatched_counter_file_is_an_error() {
    let f = fixture();
    let d = f.scratch("mismatch");
    copy_dir(f.dir("count"), &d, |n| n.starts_with("covmeta."));
    let tag = files_with_prefix(&d, "covmeta.")[0]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .trim_start_matches("covmeta.")
        .to_string();
    let other = files_with_prefix(f.dir("set"), "covcounters.").remove(0);
    let victim = d.join(format!("covcounters.{tag}.42.1"));
    fs::copy(&other, &victim).unwrap();
    let got = covlens_covdata("textfmt", &p(&d), &[]);
    assert_eq!(got.code, Some(1));
    let mut c = covlens();
    c.args(["covdata", "textfmt", "-i", &p(&d)]);
    let err = String::from_utf8_lossy(&run(c).stderr).into_owned();
    assert!(
        err.contains(&p(&victim)) && err.contains("at byte offset 8") && err.contains(&tag),
        "{err}"
    );
}

/// A bad file of a later program fails the whole write: nothing of the
/// programs before it is left in `-o` (they used to be written one at a
/// time, and stayed).
#[test]
#[ignore = "needs go"]
fn a_bad_input_leaves_no_output() {
    let f = fixture();
    let bad = f.scratch("bad-tests");
    copy_dir(f.dir("tests"), &bad, |_| true);
    for c in files_with_prefix(&bad, "covcounters.") {
        let data = fs::read(&c).unwrap();
        fs::write(&c, &data[..50]).unwrap();
    }
    let good = p(f.dir("count"));
    for (op, inputs, args) in [
        ("merge", format!("{good},{}", p(&bad)), &[][..]),
        ("merge", format!("{},{good}", p(&bad)), &[][..]),
        ("merge", format!("{good},{}", p(&bad)), &["-pcombine"][..]),
        ("subtract", format!("{good},{}", p(&bad)), &[][..]),
        ("intersect", format!("{good},{}", p(&bad)), &[][..]),
    ] {
        for existing in [false, true] {
            let out = f.scratch("bad-out");
            if !existing {
                fs::remove_dir(&out).unwrap();
            }
            let mut c = covlens();
            c.args(["covdata", op, "-i", &inputs, "-o", &p(&out)])
                .args(args);
            let o = c.output().unwrap();
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(1), "{op} {inputs}: {err}");
            assert!(err.contains("covcounters."), "{op}: {err}");
            match fs::read_dir(&out) {
                Ok(d) => assert!(existing && d.count() == 0, "{op} {inputs} wrote into -o"),
                Err(_) => assert!(!existing, "{op}: -o removed"),
            }
        }
    }
}

// ------------------------------------------------------- writing directories

/// `go tool covdata OP -i=INPUTS -o=DIR ARGS` into a fresh directory.
fn go_write(f: &Fixture, op: &str, inputs: &str, name: &str, args: &[&str]) -> (PathBuf, Output) {
    let d = f.scratch(name);
    let mut c = go();
    c.args(["tool", "covdata", op])
        .arg(format!("-i={inputs}"))
        .arg(format!("-o={}", p(&d)))
        .args(args);
    let o = c.output().expect("run go tool covdata");
    (d, o)
}

/// `covlens covdata OP -i INPUTS -o DIR ARGS` into a fresh directory.
fn covlens_write(f: &Fixture, op: &str, inputs: &str, name: &str, args: &[&str]) -> PathBuf {
    let d = f.scratch(name);
    let mut c = covlens();
    c.args(["covdata", op, "-i", inputs, "-o", &p(&d)])
        .args(args);
    ok(c);
    d
}

/// What Go's tools read from `dirs`: every report.
fn go_reads(f: &Fixture, dirs: &str) -> Vec<Res> {
    COMMANDS
        .iter()
        .map(|cmd| go_covdata(f, cmd, dirs, &[]))
        .collect()
}

#[test]
#[ignore = "needs go"]
fn merge_writes_what_go_reads_back() {
    let f = fixture();
    for (k, (inputs, extra)) in [
        ("count,tests", &[][..]),
        ("set", &[]),
        ("count,count2", &[]),
        (
            "count,tests",
            &["-pkg=example.com/covprog/text,example.com/covprog/calc"],
        ),
        ("count,tests,set,atomic", &["-pcombine"]),
        (
            "count,tests",
            &["-pcombine", "-pkg=example.com/covprog/..."],
        ),
        ("merged,pcombined,tests", &["-pcombine"]),
    ]
    .into_iter()
    .enumerate()
    {
        let inputs = f.inputs(inputs);
        let ours = covlens_write(f, "merge", &inputs, &format!("merge-ours-{k}"), extra);
        let (theirs, o) = go_write(f, "merge", &inputs, &format!("merge-go-{k}"), extra);
        assert!(o.status.success(), "go merge {inputs} {extra:?}");
        let names = |d: &Path| {
            let mut v: Vec<String> = fs::read_dir(d)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .map(|n| {
                    n.rsplit_once(".0.")
                        .map_or(n.clone(), |(h, _)| h.to_string())
                })
                .collect();
            v.sort();
            v
        };
        // Same files (meta-data files named by the same hashes, one
        // counter file of pid 0 each) …
        assert_eq!(names(&ours), names(&theirs), "{inputs} {extra:?}");
        // … meta-data files byte for byte (copied, or built as Go builds
        // them) …
        for m in files_with_prefix(&theirs, "covmeta.") {
            let mine = ours.join(m.file_name().unwrap());
            assert_eq!(
                fs::read(&mine).unwrap(),
                fs::read(&m).unwrap(),
                "{}",
                m.display()
            );
        }
        // … and Go reads the same numbers from both.
        assert_eq!(
            go_reads(f, &p(&ours)),
            go_reads(f, &p(&theirs)),
            "{inputs} {extra:?}"
        );
        // covlens reads its own output as it read the inputs.
        if !extra.contains(&"-pcombine") {
            let pkg: Vec<&str> = extra
                .iter()
                .filter(|a| a.starts_with("-pkg"))
                .copied()
                .collect();
            for cmd in COMMANDS {
                assert_eq!(
                    covlens_covdata(cmd, &p(&ours), &[]),
                    covlens_covdata(cmd, &inputs, &pkg),
                    "{cmd} {inputs} {extra:?}"
                );
            }
        }
    }
    // Unmarked periodic flushes merge as they read: all of them by
    // default, the newest per pid with --newest-per-pid.
    for args in [&[][..], &["--newest-per-pid"]] {
        let ours = covlens_write(f, "merge", &f.inputs("periodic"), "merge-periodic", args);
        let mut c = covlens();
        c.args(["covdata", "textfmt", "-i", &f.inputs("periodic")])
            .args(args);
        let want = ok(c).stdout;
        assert_eq!(
            go_covdata(f, "textfmt", &p(&ours), &[]).out,
            want,
            "{args:?}"
        );
    }
}

/// Splits `dirs` by pod: for each meta-data file, copies of the input
/// directories holding only that pod's files.
fn split_by_pod(f: &Fixture, dirs: &[&Path], name: &str) -> Vec<Vec<PathBuf>> {
    let mut tags: Vec<String> = Vec::new();
    for d in dirs {
        for m in files_with_prefix(d, "covmeta.") {
            let t = m.file_name().unwrap().to_string_lossy()["covmeta.".len()..].to_string();
            if !tags.contains(&t) {
                tags.push(t);
            }
        }
    }
    tags.iter()
        .enumerate()
        .map(|(i, tag)| {
            dirs.iter()
                .enumerate()
                .map(|(j, d)| {
                    let out = f.scratch(&format!("{name}-pod{i}-dir{j}"));
                    copy_dir(d, &out, |n| {
                        n == format!("covmeta.{tag}")
                            || n.starts_with(&format!("covcounters.{tag}."))
                    });
                    // Go needs the meta-data file next to its counter files.
                    for e in dirs {
                        let m = e.join(format!("covmeta.{tag}"));
                        if m.exists() {
                            let _ = fs::copy(&m, out.join(format!("covmeta.{tag}")));
                        }
                    }
                    out
                })
                .collect()
        })
        .collect()
}

#[test]
#[ignore = "needs go"]
fn subtract_and_intersect_match_go() {
    let f = fixture();
    // A third directory of the same program.
    let count3 = f.scratch("count3");
    for args in [&["calc:2", "text"][..], &["shapes"]] {
        let mut c = Command::new(&f.bins["count"]);
        c.args(args)
            .env("GOCOVERDIR", &count3)
            .stdout(Stdio::null());
        assert!(c.status().unwrap().success());
    }
    let inputs2 = f.inputs("count,count2");
    let inputs3 = format!("{inputs2},{}", p(&count3));
    for (k, (op, inputs)) in [
        ("subtract", inputs2.clone()),
        ("intersect", inputs2.clone()),
        ("intersect", inputs3.clone()),
        ("subtract", format!("{},{}", p(&count3), f.inputs("count"))),
    ]
    .into_iter()
    .enumerate()
    {
        let ours = covlens_write(f, op, &inputs, &format!("{op}-ours-{k}"), &[]);
        let (theirs, o) = go_write(f, op, &inputs, &format!("{op}-go-{k}"), &[]);
        assert!(o.status.success(), "go {op} {inputs}");
        let want = go_reads(f, &p(&theirs));
        assert_eq!(go_reads(f, &p(&ours)), want, "{op} {inputs}");
        // Not a no-op: the result differs from the first input.
        assert_ne!(
            want[0],
            go_covdata(f, "textfmt", &inputs[..inputs.find(',').unwrap()], &[])
        );
    }
}

/// `covlens subtract` and `intersect` give, as a text profile, what `go
/// tool covdata subtract` and `intersect` give on the directories: from the
/// directories themselves, and from a text profile of the first. (Go's
/// intersect also zeroes a block that one run of a later directory missed
/// although another run covered it; covlens counts each input as a whole,
/// so the later directory here holds one run.)
#[test]
#[ignore = "needs go"]
fn text_subtract_and_intersect_match_go() {
    let f = fixture();
    let one_run = f.scratch("count2-one-run");
    let first_counters = files_with_prefix(f.dir("count2"), "covcounters.").remove(0);
    copy_dir(f.dir("count2"), &one_run, |n| {
        n.starts_with("covmeta.") || first_counters.ends_with(n)
    });
    let (a, b) = (p(f.dir("count")), p(&one_run));
    let sorted = |text: &str| {
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        lines.sort();
        lines
    };
    let a_text = f.scratch("text-a").join("a.out");
    fs::write(&a_text, go_covdata(f, "textfmt", &a, &[]).out).unwrap();
    for op in ["subtract", "intersect"] {
        let (theirs, o) = go_write(f, op, &format!("{a},{b}"), &format!("text-{op}-go"), &[]);
        assert!(o.status.success(), "go {op}");
        let want = go_covdata(f, "textfmt", &p(&theirs), &[]).text();
        assert_ne!(
            sorted(&want),
            sorted(&fs::read_to_string(&a_text).unwrap()),
            "{op} changes something"
        );
        for first in [a.clone(), p(&a_text)] {
            let mut c = covlens();
            c.args([op, &first, &b]);
            let ours = String::from_utf8(ok(c).stdout).unwrap();
            assert_eq!(sorted(&ours), sorted(&want), "{op} {first}");
        }
    }
}

/// Several programs in one run: Go's subtract and intersect panic
/// ("decreasing dir index"); covlens gives, pod by pod, what Go gives on
/// each program alone.
#[test]
#[ignore = "needs go"]
fn subtract_and_intersect_across_programs() {
    let f = fixture();
    let a = f.scratch("multi-a");
    copy_dir(f.dir("count"), &a, |_| true);
    copy_dir(f.dir("tests"), &a, |_| true);
    let b = f.scratch("multi-b");
    copy_dir(f.dir("count2"), &b, |_| true);
    // Other test runs: only the calc package's tests.
    let mut c = go();
    c.current_dir(repo().join("fixtures/covprog")).args([
        "test",
        "-count=1",
        "-cover",
        "-covermode=count",
        "-coverpkg=./...",
        "./calc",
        "./text",
        "-run=TestSumTo|TestCount",
        "-args",
        &format!("-test.gocoverdir={}", p(&b)),
    ]);
    ok(c);
    let inputs = format!("{},{}", p(&a), p(&b));
    let pods = split_by_pod(f, &[&a, &b], "multi");
    assert!(pods.len() >= 3, "{pods:?}");
    for op in ["subtract", "intersect"] {
        let (_, o) = go_write(f, op, &inputs, &format!("multi-go-{op}"), &[]);
        assert!(
            !o.status.success()
                && String::from_utf8_lossy(&o.stderr).contains("decreasing dir index"),
            "go tool covdata {op} no longer panics on several programs: update the docs"
        );
        let ours = covlens_write(f, op, &inputs, &format!("multi-ours-{op}"), &[]);
        let mut outs = Vec::new();
        for (i, dirs) in pods.iter().enumerate() {
            let ins = dirs.iter().map(|d| p(d)).collect::<Vec<_>>().join(",");
            let (out, o) = go_write(f, op, &ins, &format!("multi-go-{op}-pod{i}"), &[]);
            assert!(
                o.status.success(),
                "go {op} {ins}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            outs.push(p(&out));
        }
        assert_eq!(go_reads(f, &p(&ours)), go_reads(f, &outs.join(",")), "{op}");
    }
}

/// `--skip-bad` on a profile command: a truncated counter file of another
/// process is listed on stderr and the rest of the directory is read; the
/// numbers are those of the directory without it. Without the flag, the
/// same input fails naming the file.
#[test]
#[ignore = "needs go"]
fn skip_bad_reads_the_rest_of_a_directory() {
    let f = fixture();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("d");
    copy_dir(f.dir("count"), &dir, |_| true);
    let summary = |extra: &[&str]| {
        let mut c = covlens();
        c.arg("summary")
            .args(extra)
            .args(["--format", "json"])
            .arg(&dir);
        run(c)
    };
    let good = summary(&[]);
    assert!(good.status.success());

    let ctr = files_with_prefix(&dir, "covcounters.").remove(0);
    let name = ctr.file_name().unwrap().to_string_lossy().into_owned();
    let parts: Vec<&str> = name.split('.').collect();
    let bad_name = format!("covcounters.{}.999999.{}", parts[1], parts[3]);
    let data = fs::read(&ctr).unwrap();
    fs::write(dir.join(&bad_name), &data[..data.len() / 2]).unwrap();

    let failed = summary(&[]);
    assert!(!failed.status.success());
    let err = String::from_utf8_lossy(&failed.stderr);
    assert!(err.contains(&bad_name) && err.contains("offset"), "{err}");

    let skipped = summary(&["--skip-bad"]);
    assert!(
        skipped.status.success(),
        "{}",
        String::from_utf8_lossy(&skipped.stderr)
    );
    let err = String::from_utf8_lossy(&skipped.stderr);
    assert!(err.contains("skipped") && err.contains(&bad_name), "{err}");
    assert_eq!(skipped.stdout, good.stdout);
}

/// Runs `bin` once per argument list, each run a separate process writing
/// into `dir`, all with pid 1, as restarted containers sharing a volume do:
/// in a fresh pid namespace when `unshare --pid --fork` works (root), else
/// into a scratch directory whose counter file is then renamed to pid 1.
/// Returns how the pids were made to collide.
fn run_as_pid_1(bin: &Path, runs: &[&[&str]], dir: &Path) -> &'static str {
    static UNSHARE: OnceLock<bool> = OnceLock::new();
    let unshare = *UNSHARE.get_or_init(|| {
        Command::new("unshare")
            .args(["--pid", "--fork", "sh", "-c", "test $$ = 1"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    for (k, args) in runs.iter().enumerate() {
        if unshare {
            let mut c = Command::new("unshare");
            c.args(["--pid", "--fork"]).arg(bin).args(*args);
            c.env("GOCOVERDIR", dir).stdout(Stdio::null());
            ok(c);
            continue;
        }
        let own = dir.join(format!("run{k}"));
        fs::create_dir_all(&own).unwrap();
        let mut c = Command::new(bin);
        c.args(*args).env("GOCOVERDIR", &own).stdout(Stdio::null());
        ok(c);
        for f in fs::read_dir(&own).unwrap() {
            let f = f.unwrap().path();
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            let parts: Vec<&str> = name.split('.').collect();
            let to = if parts[0] == "covcounters" {
                format!("covcounters.{}.1.{}", parts[1], parts[3])
            } else {
                name.clone()
            };
            fs::rename(&f, dir.join(to)).unwrap();
        }
        fs::remove_dir(&own).unwrap();
    }
    if unshare {
        "a pid namespace per run"
    } else {
        "counter files renamed to pid 1"
    }
}

/// Processes that had the same pid (pid 1 in every restarted container,
/// all writing to one volume) each wrote one counter file at exit: every
/// one counts, as in Go. Reading them as snapshots of one process would
/// keep only the last and lose the others' counts.
#[test]
#[ignore = "needs go"]
fn same_pid_processes_add_up_like_go() {
    let f = fixture();
    for mode in ["set", "count", "atomic"] {
        let dir = f.scratch(&format!("pid1-{mode}"));
        let how = run_as_pid_1(
            &f.bins[mode],
            &[&["shapes"], &["text", "calc:5"], &["calc:3", "linedir:1"]],
            &dir,
        );
        let counters = files_with_prefix(&dir, "covcounters.");
        assert_eq!(counters.len(), 3, "{how}: {counters:?}");
        assert!(
            counters
                .iter()
                .all(|c| c.file_name().unwrap().to_string_lossy().split('.').nth(2) == Some("1")),
            "{how}: {counters:?}"
        );
        for cmd in COMMANDS {
            same(f, cmd, &p(&dir), &[]);
        }
        let want = go_covdata(f, "debugdump", &p(&dir), &[]);
        let got = covlens_covdata("debugdump", &p(&dir), &[]);
        assert_eq!(dump_body(&got.out), dump_body(&want.out), "{mode} ({how})");
        // Profile commands read directories the same way.
        let txt = f.scratch(&format!("pid1-{mode}-txt")).join("t.txt");
        fs::write(&txt, go_covdata(f, "textfmt", &p(&dir), &[]).out).unwrap();
        let merged = |input: &Path| {
            let mut c = covlens();
            c.args(["merge", &p(input)]);
            ok(c).stdout
        };
        assert_eq!(merged(&dir), merged(&txt), "{mode} ({how})");
    }
}

/// Program arguments are bytes: a run with arguments that are not UTF-8
/// (`./prog $'caf\xe9'`) reads as Go reads it, and `debugdump` prints the
/// same bytes Go prints. A merged directory keeps them for Go to read.
#[test]
#[ignore = "needs go"]
fn non_utf8_program_arguments_read_like_go() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let f = fixture();
    let dir = f.scratch("non-utf8-args");
    let mut c = Command::new(&f.bins["count"]);
    c.arg("shapes")
        .arg(OsStr::from_bytes(b"calc:caf\xe9"))
        .arg(OsStr::from_bytes(b"text:\xff\xfe"))
        .env("GOCOVERDIR", &dir)
        .stdout(Stdio::null());
    ok(c);
    for cmd in COMMANDS {
        same(f, cmd, &p(&dir), &[]);
    }
    let want = go_covdata(f, "debugdump", &p(&dir), &[]);
    let got = covlens_covdata("debugdump", &p(&dir), &[]);
    assert_eq!((want.code, got.code), (Some(0), Some(0)));
    assert!(
        want.out.windows(5).any(|w| w == b"caf\xe9 "),
        "Go prints the raw bytes: {}",
        want.text()
    );
    assert_eq!(dump_body(&got.out), dump_body(&want.out));
    // Bytes, not their lossy text: compare the raw program-args lines too.
    let args_line = |out: &[u8]| -> Vec<u8> {
        let line = out
            .split(|&b| b == b'\n')
            .find(|l| l.windows(13).any(|w| w == b"program args:"))
            .expect("a program args line");
        let at = line.windows(5).position(|w| w == b" GOOS").unwrap();
        line[at..].to_vec()
    };
    assert_eq!(args_line(&got.out), args_line(&want.out));
    // covlens' merge output keeps the arguments, byte for byte.
    let merged = covlens_write(f, "merge", &p(&dir), "merge-non-utf8", &[]);
    let dumped = go_covdata(f, "debugdump", &p(&merged), &[]);
    assert_eq!(dumped.code, Some(0), "{dumped:?}");
    assert_eq!(args_line(&dumped.out), args_line(&want.out));
    // Profile commands read the directory too.
    let txt = f.scratch("non-utf8-txt").join("t.txt");
    fs::write(&txt, go_covdata(f, "textfmt", &p(&dir), &[]).out).unwrap();
    let merge = |input: &Path| {
        let mut c = covlens();
        c.args(["merge", &p(input)]);
        ok(c).stdout
    };
    assert_eq!(merge(&dir), merge(&txt));
}
