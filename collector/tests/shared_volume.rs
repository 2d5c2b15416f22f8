//! The shared volume is the component's too: whoever runs in the component's
//! container can plant symlinks, files and directories there before and
//! while the collector runs. Each test is such an attack (issue 10, item 4);
//! the collector must neither write through what was planted nor read and
//! ship files from outside the volume.

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const PROFILE: &str = "mode: atomic\nexample.com/m/a.go:1.1,2.2 1 3\n";
const SECRET: &str = "mode: set\nsecret.go:1.1,2.2 1 1\n";

struct Volume {
    t: tempfile::TempDir,
}

impl Volume {
    /// A shared volume `cov/` with a text profile `cov/p.cov`, and a
    /// "secret" (a file the collector can read, outside the volume, that
    /// happens to parse as a profile).
    fn new() -> Volume {
        let t = tempfile::tempdir().unwrap();
        fs::create_dir(t.path().join("cov")).unwrap();
        fs::write(t.path().join("cov/p.cov"), PROFILE).unwrap();
        fs::write(t.path().join("secret"), SECRET).unwrap();
        Volume { t }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.t.path().join(rel)
    }

    fn staging(&self) -> PathBuf {
        self.path("cov/.covlens-staging")
    }

    /// `covlens-collect --once` on `cov/p.cov` into `dest/`.
    fn collect(&self, extra: &[&str]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_covlens-collect"));
        for k in ["JOB_NAME", "BUILD_ID", "JOB_TYPE", "POD_NAME"] {
            cmd.env_remove(k);
        }
        cmd.args([
            "--once",
            "--settle",
            "0",
            "--text-writer",
            "rename",
            "--grace",
            "2s",
        ])
        .arg("--watch")
        .arg(self.path("cov/p.cov"))
        .arg("--dest")
        .arg(self.path("dest"))
        .args(extra)
        .env("COVLENS_LOG", "info")
        .output()
        .unwrap()
    }

    fn shipped(&self) -> Option<String> {
        fs::read_to_string(self.path("dest/coverage/unknown-pod/component/text/0000-p.cov")).ok()
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn refused(o: &Output, says: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(1), "want exit 1:\n{err}");
    assert!(err.contains(says), "want {says:?} in:\n{err}");
}

fn digest(data: &str) -> String {
    format!("{:032x}", xxhash_rust::xxh3::xxh3_128(data.as_bytes()))
}

/// A staging directory as the collector itself would have made it.
fn private_dir(p: &Path) {
    fs::create_dir_all(p).unwrap();
    fs::set_permissions(p, fs::Permissions::from_mode(0o700)).unwrap();
}

#[test]
fn planted_lock_symlink_does_not_truncate_its_target() {
    let v = Volume::new();
    let victim = v.path("victim");
    fs::write(&victim, "precious").unwrap();
    private_dir(&v.staging());
    symlink(&victim, v.staging().join("lock")).unwrap();
    let out = v.collect(&[]);
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
    refused(&out, "lock");
    assert!(stderr(&out).contains("symbolic link"), "{}", stderr(&out));
}

#[test]
fn symlinked_staging_directory_and_its_parts_are_refused() {
    // The staging directory itself.
    let v = Volume::new();
    let elsewhere = v.path("elsewhere");
    private_dir(&elsewhere);
    symlink(&elsewhere, v.staging()).unwrap();
    let out = v.collect(&[]);
    refused(&out, "symbolic link");
    assert_eq!(
        fs::read_dir(&elsewhere).unwrap().count(),
        0,
        "written through the link"
    );
    // Its objects directory and its journal.
    for part in ["objects", "journal.json"] {
        let v = Volume::new();
        let elsewhere = v.path("elsewhere");
        private_dir(&elsewhere);
        private_dir(&v.staging());
        symlink(&elsewhere, v.staging().join(part)).unwrap();
        let out = v.collect(&[]);
        refused(&out, part);
        assert!(stderr(&out).contains("symbolic link"), "{}", stderr(&out));
        assert_eq!(fs::read_dir(&elsewhere).unwrap().count(), 0, "{part}");
    }
    // An explicit --staging that is a link.
    let v = Volume::new();
    let elsewhere = v.path("elsewhere");
    private_dir(&elsewhere);
    symlink(&elsewhere, v.path("st")).unwrap();
    let out = v.collect(&["--staging", v.path("st").to_str().unwrap()]);
    refused(&out, "symbolic link");
}

#[test]
fn staging_writable_by_others_or_owned_by_another_user_is_refused() {
    for mode in [0o777, 0o1777, 0o770, 0o702] {
        let v = Volume::new();
        fs::create_dir(v.staging()).unwrap();
        fs::set_permissions(v.staging(), fs::Permissions::from_mode(mode)).unwrap();
        let out = v.collect(&[]);
        refused(&out, "writable by");
        assert!(v.shipped().is_none());
    }
    // Owned by someone else: a directory chowned away (we run as root in
    // CI), or else one that root owns.
    let v = Volume::new();
    private_dir(&v.staging());
    let other = if std::os::unix::fs::chown(v.staging(), Some(54321), Some(54321)).is_ok() {
        v.staging()
    } else {
        PathBuf::from("/usr")
    };
    let out = v.collect(&["--staging", other.to_str().unwrap()]);
    refused(&out, "owned by uid");
    // The collector's own private directory is fine.
    let v = Volume::new();
    private_dir(&v.staging());
    let out = v.collect(&[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mode = fs::metadata(v.staging()).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0, "{mode:o}");
}

#[test]
fn a_new_staging_directory_is_private() {
    let v = Volume::new();
    let out = v.collect(&[]);
    assert!(out.status.success(), "{}", stderr(&out));
    for d in [v.staging(), v.staging().join("objects")] {
        let mode = fs::metadata(&d).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700, "{}: {mode:o}", d.display());
    }
    assert_eq!(v.shipped().as_deref(), Some(PROFILE));
}

/// Objects are named by the digest of their content, which the component
/// knows: a symlink planted under that name (after the collector started
/// and cleaned up) counted as the staged copy, and the file it pointed to
/// was shipped instead of the profile.
#[test]
fn planted_object_symlink_is_not_shipped() {
    let v = Volume::new();
    let log = v.path("collector.log");
    let mut coll = Command::new(env!("CARGO_BIN_EXE_covlens-collect"))
        .args([
            "--settle",
            "0",
            "--text-writer",
            "rename",
            "--rescan",
            "100ms",
        ])
        .arg("--watch")
        .arg(v.path("cov/p.cov"))
        .arg("--dest")
        .arg(v.path("dest"))
        .env("COVLENS_LOG", "info")
        .env_remove("POD_NAME")
        .env_remove("JOB_NAME")
        .stderr(fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let wait = |what: &dyn Fn() -> bool| {
        let end = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while !what() && std::time::Instant::now() < end {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        what()
    };
    assert!(
        wait(&|| v.shipped().is_some()),
        "{}",
        fs::read_to_string(&log).unwrap()
    );
    // The next snapshot's object name, planted before the snapshot.
    let next = PROFILE.replace(" 1 3\n", " 1 4\n");
    symlink(
        v.path("secret"),
        v.staging().join("objects").join(digest(&next)),
    )
    .unwrap();
    fs::write(v.path("cov/p.tmp"), &next).unwrap();
    fs::rename(v.path("cov/p.tmp"), v.path("cov/p.cov")).unwrap();
    assert!(
        wait(&|| v.shipped().as_deref() != Some(PROFILE)),
        "{}",
        fs::read_to_string(&log).unwrap()
    );
    let _ = Command::new("kill").arg(coll.id().to_string()).status();
    let _ = coll.wait();
    assert_eq!(
        v.shipped().as_deref(),
        Some(next.as_str()),
        "shipped the link's target"
    );
}

/// A journal that names an object outside `objects/` (or a key outside the
/// destination) is not the collector's: refused, nothing shipped.
#[test]
fn journal_naming_files_outside_staging_is_refused() {
    let secret_digest = "../../../secret";
    let entry = |key: &str, digest: &str| {
        format!(
            r#"{{"version":1,"next_seq":1,"entries":[{{"key":"{key}","meta_key":"m/{key}.json",
            "digest":"{digest}","size":{size},"kind":"text","source":"text:x","group":"text:x:0",
            "order":1,"seq":0,"uploaded":false,"info":{{"source":"x","taken_at_unix_ms":1}}}}],
            "retire":[],"counters":{{}},"text":{{}}}}"#,
            size = SECRET.len()
        )
    };
    for (journal, says) in [
        (
            entry("coverage/x/y/text/0000-s.cov", secret_digest),
            "digest",
        ),
        (entry("../../../outside.cov", &digest(SECRET)), "key"),
    ] {
        let v = Volume::new();
        private_dir(&v.staging().join("objects"));
        private_dir(&v.staging());
        fs::write(v.staging().join("journal.json"), journal).unwrap();
        fs::write(v.staging().join("objects").join(digest(SECRET)), SECRET).unwrap();
        let out = v.collect(&[]);
        refused(&out, says);
        assert!(!v.path("dest").exists(), "{}", stderr(&out));
        assert!(!v.path("outside.cov").exists());
    }
}

/// The watched profile replaced by a symlink to a file outside the volume:
/// not read, not shipped.
#[test]
fn watched_file_that_is_a_symlink_is_not_read() {
    let v = Volume::new();
    fs::remove_file(v.path("cov/p.cov")).unwrap();
    symlink(v.path("secret"), v.path("cov/p.cov")).unwrap();
    let out = v.collect(&[]);
    assert!(v.shipped().is_none(), "shipped the link's target");
    assert!(stderr(&out).contains("symbolic link"), "{}", stderr(&out));
}

/// A local destination is the operator's directory, but what is below it
/// may be shared (Prow's artifacts directory): links planted there are not
/// followed.
#[test]
fn links_planted_in_a_local_destination_are_not_followed() {
    let v = Volume::new();
    let victim = v.path("victim");
    fs::create_dir(&victim).unwrap();
    fs::create_dir(v.path("dest")).unwrap();
    symlink(&victim, v.path("dest/coverage")).unwrap();
    let out = v.collect(&[]);
    assert_eq!(
        fs::read_dir(&victim).unwrap().count(),
        0,
        "written through the link"
    );
    refused(&out, "not uploaded");
    assert!(stderr(&out).contains("symbolic link"), "{}", stderr(&out));
    // The snapshot stayed staged: once the link is gone, it arrives.
    fs::remove_file(v.path("dest/coverage")).unwrap();
    let out = v.collect(&[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(v.shipped().as_deref(), Some(PROFILE));
}
