//! Where `-o`, `report --out` and `covdata ... -o DIR` write (issue 10,
//! items 3 and 9): descriptors and devices directly, regular files
//! through a temporary file renamed into place, never through a link
//! planted in an output directory, keeping permission bits, and leaving
//! no temporary file behind when interrupted.

mod common;

use std::fs;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, PermissionsExt, symlink};
use std::path::Path;
use std::process::{Command, Stdio};

use common::{covlens, repo, run};

const PROFILE: &str = "mode: set\nexample.com/p/a.go:1.1,2.2 1 1\nexample.com/p/b.go:3.1,4.2 2 0\n";

/// What `covlens merge` of [`PROFILE`] prints.
fn merged(dir: &Path) -> String {
    run(covlens().current_dir(dir).args(["merge", "p.out"]))
}

fn setup() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    fs::write(t.path().join("p.out"), PROFILE).unwrap();
    t
}

fn mode(p: &Path) -> u32 {
    fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

/// `covlens merge p.out -o OUT` in `dir` with stdout going to the file
/// `stdout` (opened for appending when `append`); returns its exit status.
fn merge_to(dir: &Path, out: &str, stdout: &Path, append: bool) -> std::process::Output {
    let f = fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(append)
        .truncate(!append)
        .open(stdout)
        .unwrap();
    covlens()
        .current_dir(dir)
        .args(["merge", "p.out", "-o", out])
        .stdout(Stdio::from(f))
        .output()
        .unwrap()
}

/// `-o` naming a link to a descriptor (`/dev/stdout`, `/dev/fd/1`, a link
/// to `/proc/self/fd/1`) writes to that descriptor: into the file stdout
/// is redirected to (at its offset, so `>>` appends) or into a pipe. The
/// link stays a link. Before, covlens exited 0 with nothing written and,
/// as root, replaced `/dev/stdout` with a regular file.
#[test]
fn output_to_a_descriptor_link_writes_to_the_descriptor() {
    let t = setup();
    let dir = t.path();
    let want = merged(dir);
    symlink("/proc/self/fd/1", dir.join("fdlink")).unwrap();
    let redirect = dir.join("redirect.txt");
    // /dev/stdout last: should covlens replace it again, the machine's
    // /dev/stdout breaks, so the safer cases must pass first.
    for out in ["fdlink", "/dev/fd/1", "/dev/stdout"] {
        let o = merge_to(dir, out, &redirect, false);
        assert!(
            o.status.success(),
            "-o {out}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(fs::read_to_string(&redirect).unwrap(), want, "-o {out}");
        // Appending: the output goes after what is there.
        fs::write(&redirect, "before\n").unwrap();
        let o = merge_to(dir, out, &redirect, true);
        assert!(o.status.success(), "-o {out} (append)");
        assert_eq!(
            fs::read_to_string(&redirect).unwrap(),
            format!("before\n{want}"),
            "-o {out} with >>"
        );
        // Into a pipe.
        let piped = run(covlens()
            .current_dir(dir)
            .args(["merge", "p.out", "-o", out]));
        assert_eq!(piped, want, "-o {out} into a pipe");
    }
    assert!(
        fs::symlink_metadata(dir.join("fdlink"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(
        fs::symlink_metadata("/dev/stdout")
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let names: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with(".covlens-"))
        .collect();
    assert!(names.is_empty(), "temporary files left: {names:?}");
}

/// FIFOs and character devices are written in place, never replaced.
#[test]
fn output_to_fifos_and_devices_is_written_in_place() {
    let t = setup();
    let dir = t.path();
    let want = merged(dir);
    let fifo = dir.join("fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut s = String::new();
            fs::File::open(fifo)
                .unwrap()
                .read_to_string(&mut s)
                .unwrap();
            s
        })
    };
    run(covlens()
        .current_dir(dir)
        .args(["merge", "p.out", "-o", "fifo"]));
    assert_eq!(reader.join().unwrap(), want);
    assert!(fs::metadata(&fifo).unwrap().file_type().is_fifo());
    run(covlens()
        .current_dir(dir)
        .args(["merge", "p.out", "-o", "/dev/null"]));
    assert!(
        fs::metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device()
    );
}

/// `covlens ARGS` run by `sh` with umask `umask`.
fn with_umask(dir: &Path, umask: &str, args: &[&str]) {
    let o = Command::new("sh")
        .current_dir(dir)
        .arg("-c")
        .arg(format!("umask {umask} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_covlens"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A replaced file keeps its permission bits (a 0600 file stays 0600); a
/// new one gets what the umask allows, as a file opened by a shell
/// redirection would. Before, every output became 0644.
#[test]
fn output_keeps_permission_bits_and_honours_the_umask() {
    let t = setup();
    let dir = t.path();
    for (umask, want) in [("077", 0o600), ("022", 0o644), ("002", 0o664)] {
        let name = format!("new-{umask}.out");
        with_umask(dir, umask, &["merge", "p.out", "-o", &name]);
        assert_eq!(mode(&dir.join(&name)), want, "umask {umask}");
        let site = format!("site-{umask}");
        with_umask(dir, umask, &["report", "p.out", "--out", &site]);
        assert_eq!(
            mode(&dir.join(&site).join("index.html")),
            want,
            "report, umask {umask}"
        );
    }
    for keep in [0o600, 0o640, 0o604] {
        let out = dir.join("old.out");
        fs::write(&out, "old").unwrap();
        fs::set_permissions(&out, fs::Permissions::from_mode(keep)).unwrap();
        with_umask(dir, "022", &["merge", "p.out", "-o", "old.out"]);
        assert_eq!(mode(&out), keep);
        assert_eq!(fs::read_to_string(&out).unwrap(), merged(dir));
        let index = dir.join("site-022/index.html");
        fs::set_permissions(&index, fs::Permissions::from_mode(keep)).unwrap();
        with_umask(dir, "022", &["report", "p.out", "--out", "site-022"]);
        assert_eq!(mode(&index), keep, "report's index.html");
    }
}

/// `-o LINK` where LINK points to a regular file writes that file (through
/// a temporary file beside it, keeping its mode); the link stays. A link
/// to nothing is refused.
#[test]
fn output_through_a_link_replaces_its_target() {
    let t = setup();
    let dir = t.path();
    fs::create_dir(dir.join("real")).unwrap();
    let target = dir.join("real/target.out");
    fs::write(&target, "old").unwrap();
    fs::set_permissions(&target, fs::Permissions::from_mode(0o600)).unwrap();
    symlink("real/target.out", dir.join("link.out")).unwrap();
    run(covlens()
        .current_dir(dir)
        .args(["merge", "p.out", "-o", "link.out"]));
    assert_eq!(fs::read_to_string(&target).unwrap(), merged(dir));
    assert_eq!(mode(&target), 0o600);
    assert!(
        fs::symlink_metadata(dir.join("link.out"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    symlink("real/missing.out", dir.join("dangling.out")).unwrap();
    let o = covlens()
        .current_dir(dir)
        .args(["merge", "p.out", "-o", "dangling.out"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("dangling.out"), "{err}");
    assert!(!dir.join("real/missing.out").exists());
}

/// `report --out DIR` never writes through a link already in DIR: links
/// and special files named like the site's files are replaced, a
/// subdirectory that is a link is refused, and the files they point to
/// stay as they were.
#[test]
fn report_out_never_follows_links_in_the_directory() {
    let t = setup();
    let dir = t.path();
    let site = dir.join("site");
    fs::create_dir_all(site.join("data")).unwrap();
    let victim = dir.join("victim");
    fs::write(&victim, "keep").unwrap();
    symlink(&victim, site.join("index.html")).unwrap();
    symlink(&victim, site.join("data/d0.js")).unwrap();
    // A FIFO would block a writer that opens it.
    assert!(
        Command::new("mkfifo")
            .arg(site.join("data/search.js"))
            .status()
            .unwrap()
            .success()
    );
    run(covlens()
        .current_dir(dir)
        .args(["report", "p.out", "--out", "site"]));
    assert_eq!(fs::read_to_string(&victim).unwrap(), "keep");
    for f in ["index.html", "data/d0.js", "data/search.js"] {
        let m = fs::symlink_metadata(site.join(f)).unwrap();
        assert!(m.file_type().is_file(), "{f} is not a regular file now");
    }
    assert!(
        fs::read_to_string(site.join("data/d0.js"))
            .unwrap()
            .starts_with("covlens.dir(")
    );

    let elsewhere = dir.join("elsewhere");
    fs::create_dir(&elsewhere).unwrap();
    let site2 = dir.join("site2");
    fs::create_dir(&site2).unwrap();
    symlink(&elsewhere, site2.join("data")).unwrap();
    let o = covlens()
        .current_dir(dir)
        .args(["report", "p.out", "--out", "site2"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(fs::read_dir(&elsewhere).unwrap().count(), 0);
}

/// `report --out DIR` that fails on its last file (`index.html` is a
/// directory there) leaves DIR as it was: the earlier run's site, and no
/// file of the new one (before, every data file was already replaced).
/// (The unit tests of `DirSink` show that a new DIR goes again.)
#[test]
fn report_out_that_fails_midway_changes_nothing() {
    let t = setup();
    let dir = t.path();
    run(covlens()
        .current_dir(dir)
        .args(["report", "p.out", "--out", "site"]));
    let d0 = fs::read_to_string(dir.join("site/data/d0.js")).unwrap();
    fs::write(
        dir.join("q.out"),
        "mode: set\nexample.com/q/c.go:1.1,2.2 1 1\n",
    )
    .unwrap();
    fs::remove_file(dir.join("site/index.html")).unwrap();
    fs::create_dir(dir.join("site/index.html")).unwrap();
    let listing = |d: &Path| {
        let mut v: Vec<String> = walkdir(d);
        v.sort();
        v
    };
    let before = listing(dir);
    let o = covlens()
        .current_dir(dir)
        .args(["report", "q.out", "--out", "site"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("site/index.html"));
    assert_eq!(listing(dir), before);
    assert_eq!(fs::read_to_string(dir.join("site/data/d0.js")).unwrap(), d0);
}

/// Every path below `d`, relative to it, temporary files included.
fn walkdir(d: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec![d.to_path_buf()];
    while let Some(p) = todo.pop() {
        for e in fs::read_dir(&p).unwrap() {
            let e = e.unwrap().path();
            if fs::symlink_metadata(&e).unwrap().is_dir() {
                todo.push(e.clone());
            }
            out.push(e.strip_prefix(d).unwrap().display().to_string());
        }
    }
    out
}

/// `covdata merge -o DIR` writes through temporary files it creates
/// itself: a link planted under the temporary name it used to use
/// (`tmp.covmeta.<hash>.covlens`) is not followed.
#[test]
fn covdata_output_directory_never_follows_planted_links() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    let input = repo().join("fixtures/covdata-go1.23/gocoverdir");
    let clean = dir.join("clean");
    fs::create_dir(&clean).unwrap();
    run(covlens()
        .args(["covdata", "merge", "-i"])
        .arg(&input)
        .arg("-o")
        .arg(&clean));
    let meta = fs::read_dir(&clean)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .find(|n| n.starts_with("covmeta."))
        .unwrap();
    let out = dir.join("out");
    fs::create_dir(&out).unwrap();
    let victim = dir.join("victim");
    fs::write(&victim, "keep").unwrap();
    symlink(&victim, out.join(format!("tmp.{meta}.covlens"))).unwrap();
    symlink(&victim, out.join(&meta)).unwrap();
    run(covlens()
        .args(["covdata", "merge", "-i"])
        .arg(&input)
        .arg("-o")
        .arg(&out));
    assert_eq!(fs::read(&victim).unwrap(), b"keep");
    assert_eq!(
        fs::read(out.join(&meta)).unwrap(),
        fs::read(clean.join(&meta)).unwrap()
    );
    assert!(
        fs::symlink_metadata(out.join(&meta))
            .unwrap()
            .file_type()
            .is_file()
    );
}

/// A profile of about `mb` megabytes.
fn big_profile(mb: usize) -> String {
    let mut s = String::from("mode: count\n");
    let mut i = 0usize;
    while s.len() < mb << 20 {
        let _ = std::fmt::Write::write_fmt(
            &mut s,
            format_args!(
                "example.com/big/p{}/f{}.go:{}.2,{}.9 3 {}\n",
                i % 97,
                i % 1009,
                i % 5000 + 1,
                i % 5000 + 2,
                i % 7
            ),
        );
        i += 1;
    }
    s
}

/// The `.covlens-*` temporary files in `dir`.
fn temporaries(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with(".covlens-"))
        .collect()
}

/// Issue 10, item 9: SIGINT, SIGTERM or SIGHUP while `merge -o` writes a
/// large output. The process is frozen (SIGSTOP) as soon as its temporary
/// file appears, so the signal lands mid-write every time. It must end by
/// that signal, remove its temporary file and leave the destination as it
/// was. Before, the temporary file stayed behind.
#[test]
fn interrupted_output_leaves_no_temporary_file() {
    use std::os::unix::process::ExitStatusExt;
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    fs::write(dir.join("big.out"), big_profile(24)).unwrap();
    for (name, sig) in [("INT", 2), ("TERM", 15), ("HUP", 1)] {
        fs::write(dir.join("dest.out"), "old").unwrap();
        let mut child = covlens()
            .current_dir(dir)
            .args(["merge", "big.out", "-o", "dest.out"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let pid = child.id().to_string();
        // Our own child, not reaped yet: the pid is still its.
        let kill = |s: &str| {
            let ok = Command::new("kill").args(["-s", s, &pid]).status().unwrap();
            assert!(ok.success(), "kill -s {s} {pid}");
        };
        let start = std::time::Instant::now();
        let caught = loop {
            if !temporaries(dir).is_empty() {
                kill("STOP");
                break true;
            }
            if child.try_wait().unwrap().is_some() || start.elapsed().as_secs() > 120 {
                break false;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        };
        assert!(caught, "merge finished before its temporary file was seen");
        // Frozen after its rename would mean the destination changed.
        assert_eq!(fs::read_to_string(dir.join("dest.out")).unwrap(), "old");
        assert_eq!(temporaries(dir).len(), 1);
        kill(name);
        kill("CONT");
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            out.status.signal(),
            Some(sig),
            "merge did not end by SIG{name}: {:?} {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(temporaries(dir), Vec::<String>::new(), "SIG{name}");
        assert_eq!(fs::read_to_string(dir.join("dest.out")).unwrap(), "old");
    }
}
