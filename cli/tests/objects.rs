//! Inputs from object stores: gs:// and s3:// against gofakes3, file://
//! against a directory. Every result is compared with the same command on
//! local copies of the objects.

mod common;

use std::process::{Command, Output};

use common::*;

/// A text profile of `blocks` blocks whose counts depend on `seed`.
fn profile(blocks: usize, seed: u64) -> String {
    let mut s = String::from("mode: count\n");
    for b in 0..blocks {
        let (file, line) = (b / 40, b % 40 * 3 + 1);
        let count = (b as u64 * 7 + seed * 13) % 5;
        s.push_str(&format!(
            "k8s.io/kubernetes/pkg/obj/f{file:04}.go:{line}.2,{}.9 2 {count}\n",
            line + 1
        ));
    }
    s
}

fn covlens_with(env: &[(String, String)]) -> Command {
    let mut c = covlens();
    for k in [
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "GOOGLE_APPLICATION_CREDENTIALS",
    ] {
        c.env_remove(k);
    }
    c.envs(env.iter().map(|(k, v)| (k, v)));
    c
}

fn output(cmd: &mut Command) -> Output {
    cmd.output().expect("covlens starts")
}

/// The same objects in a store and in a local directory.
struct Layout {
    dir: tempfile::TempDir,
}

const OBJECTS: [(&str, usize, u64); 4] = [
    ("logs/e2e/7/artifacts/node-a.cov", 400, 1),
    ("logs/e2e/7/artifacts/nodes/node-b.cov", 400, 2),
    // Large enough to arrive in many chunks.
    ("logs/e2e/7/artifacts/nodes/big.cov", 200_000, 3),
    ("logs/e2e/8/artifacts/node-a.cov", 400, 4),
];

/// Where the GOCOVERDIR's files are.
const COVDIR: &str = "logs/e2e/7/artifacts/covdir";

impl Layout {
    fn new(put: impl Fn(&str, &[u8])) -> Layout {
        let dir = tempfile::tempdir().unwrap();
        for (key, blocks, seed) in OBJECTS {
            let data = profile(blocks, seed);
            put(key, data.as_bytes());
            let p = dir.path().join(key);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, data).unwrap();
        }
        for (key, data) in [
            ("logs/e2e/7/artifacts/junit_01.xml", "<testsuites/>\n"),
            ("logs/e2e/7/build-log.txt", "ok\n"),
        ] {
            put(key, data.as_bytes());
            let p = dir.path().join(key);
            std::fs::write(p, data).unwrap();
        }
        // A GOCOVERDIR written by Go 1.23.
        let covdir = repo().join("fixtures/covdata-go1.23/gocoverdir");
        std::fs::create_dir_all(dir.path().join(COVDIR)).unwrap();
        for e in std::fs::read_dir(&covdir).unwrap() {
            let e = e.unwrap();
            let name = e.file_name().into_string().unwrap();
            let data = std::fs::read(e.path()).unwrap();
            put(&format!("{COVDIR}/{name}"), &data);
            std::fs::write(dir.path().join(COVDIR).join(name), data).unwrap();
        }
        Layout { dir }
    }

    fn local(&self, key: &str) -> String {
        self.dir.path().join(key).display().to_string()
    }

    /// Local paths of the OBJECTS keys under `prefix`, in key order.
    fn locals_under(&self, prefix: &str) -> Vec<String> {
        let mut keys: Vec<&str> = OBJECTS
            .iter()
            .map(|o| o.0)
            .filter(|k| k.starts_with(prefix))
            .collect();
        keys.sort();
        keys.into_iter().map(|k| self.local(k)).collect()
    }
}

/// Runs `args` (a command and its URL inputs) and the same command on local
/// paths; both succeed with the same output file and stdout.
fn same_as_local(env: &[(String, String)], remote: &[&str], local: &[String], tail: &[&str]) {
    let t = tempfile::tempdir().unwrap();
    let (ro, lo) = (t.path().join("remote.out"), t.path().join("local.out"));
    let r = output(covlens_with(env).args(remote).args(tail).arg("-o").arg(&ro));
    assert!(
        r.status.success(),
        "{remote:?}: {}",
        String::from_utf8_lossy(&r.stderr)
    );
    let l = output(
        covlens()
            .args(&remote[..1])
            .args(local)
            .args(tail)
            .arg("-o")
            .arg(&lo),
    );
    assert!(
        l.status.success(),
        "{local:?}: {}",
        String::from_utf8_lossy(&l.stderr)
    );
    assert_eq!(r.stdout, l.stdout, "{remote:?}");
    let (rb, lb) = (std::fs::read(&ro).unwrap(), std::fs::read(&lo).unwrap());
    assert!(!lb.is_empty());
    assert!(rb == lb, "{remote:?}: the outputs differ");
}

fn stderr_of(env: &[(String, String)], args: &[&str]) -> String {
    let o = output(covlens_with(env).args(args).args(["-o", "/dev/null"]));
    assert!(!o.status.success(), "{args:?} succeeded");
    String::from_utf8(o.stderr).unwrap()
}

/// What every store must do; `base` is `SCHEME://BUCKET/` or the local
/// `file:///DIR/`.
fn reads_objects(base: &str, env: &[(String, String)], lay: &Layout) {
    let run7 = lay.locals_under("logs/e2e/7/");
    let pattern = format!("{base}logs/e2e/*/artifacts/**/*.cov");
    let all = lay.locals_under("logs/e2e/");
    same_as_local(env, &["merge", &pattern], &all, &[]);
    same_as_local(env, &["aggregate", &pattern], &all, &[]);
    // A pattern and a plain object, mixed with a local path.
    let one = format!("{base}logs/e2e/8/artifacts/node-a.cov");
    let p7 = format!("{base}logs/e2e/7/artifacts/**/*.cov");
    let mut mixed = run7.clone();
    mixed.push(lay.local("logs/e2e/8/artifacts/node-a.cov"));
    same_as_local(env, &["merge", &p7, &one], &mixed, &[]);
    let t = tempfile::tempdir().unwrap();
    let dflt = t.path().join("x.out").display().to_string();
    std::fs::write(&dflt, profile(400, 4)).unwrap();
    same_as_local(
        env,
        &["merge", &p7, &dflt],
        &{
            let mut v = run7.clone();
            v.push(dflt.clone());
            v
        },
        &[],
    );
    // One object where one profile is expected.
    let big = format!("{base}logs/e2e/7/artifacts/nodes/big.cov");
    same_as_local(
        env,
        &["filter", &big],
        &[lay.local("logs/e2e/7/artifacts/nodes/big.cov")],
        &["--include-path", "f00"],
    );
    same_as_local(
        env,
        &["diff", &one, &one],
        &[
            lay.local("logs/e2e/8/artifacts/node-a.cov"),
            lay.local("logs/e2e/8/artifacts/node-a.cov"),
        ],
        &[],
    );

    // A GOCOVERDIR under a prefix, alone and mixed with text profiles.
    let covdir = format!("{base}{COVDIR}/");
    let local_covdir = lay.local(COVDIR);
    same_as_local(
        env,
        &["summary", &covdir],
        std::slice::from_ref(&local_covdir),
        &[],
    );
    same_as_local(
        env,
        &["merge", &covdir, &one],
        &[
            local_covdir.clone(),
            lay.local("logs/e2e/8/artifacts/node-a.cov"),
        ],
        &["--mode-policy", "upgrade"],
    );
    same_as_local(
        env,
        &["merge", &format!("{base}{COVDIR}/cov*")],
        std::slice::from_ref(&local_covdir),
        &[],
    );

    // covdata's own commands read the same directory.
    let t = tempfile::tempdir().unwrap();
    let textfmt = |input: &str, name: &str| {
        let out = t.path().join(name);
        let o = output(
            covlens_with(env)
                .args(["covdata", "textfmt"])
                .arg(format!("-i={input}"))
                .arg(format!("-o={}", out.display())),
        );
        assert!(
            o.status.success(),
            "{input}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        std::fs::read(out).unwrap()
    };
    assert_eq!(
        textfmt(&covdir, "remote.txt"),
        textfmt(&local_covdir, "local.txt")
    );
    let merged = t.path().join("merged");
    let o = output(
        covlens_with(env)
            .args(["covdata", "merge"])
            .arg(format!("-i={covdir}"))
            .arg(format!("-o={}", merged.display())),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        textfmt(&merged.display().to_string(), "merged.txt"),
        textfmt(&local_covdir, "local.txt")
    );
    let o =
        output(covlens_with(env).args(["covdata", "percent", &format!("-i={base}logs/e2e/8/")]));
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("node-a.cov: a text profile, expected Go binary coverage files"),
        "{e}"
    );

    // A prefix names every object under it, the JUnit file too: the error
    // names the object, line and column.
    let e = stderr_of(env, &["merge", &format!("{base}logs/e2e/7/artifacts/")]);
    assert!(
        e.contains(&format!("{base}logs/e2e/7/artifacts/junit_01.xml:1:1")),
        "{e}"
    );
    let e = stderr_of(env, &["merge", &format!("{base}logs/e2e/9/**/*.cov")]);
    assert!(
        e.contains(&format!("{base}logs/e2e/9/**/*.cov: no such object")),
        "{e}"
    );
    let e = stderr_of(env, &["merge", &format!("{base}logs/e2e/7/artifacts")]);
    assert!(e.contains("end the URL with '/'"), "{e}");
    let e = stderr_of(env, &["summary", &pattern]);
    assert!(e.contains("names 4 objects, expected one profile"), "{e}");
}

#[test]
fn file_urls() {
    let lay = Layout::new(|_, _| {});
    let base = format!("file://{}/", lay.dir.path().display());
    reads_objects(&base, &[], &lay);
    // A broken GOCOVERDIR: the error names the object.
    std::fs::write(lay.dir.path().join("logs/e2e/covmeta.0123"), b"x").unwrap();
    let e = stderr_of(&[], &["merge", &format!("{base}logs/e2e/cov*")]);
    assert!(e.contains(&format!("{base}logs/e2e/covmeta.0123")), "{e}");
    let e = stderr_of(&[], &["merge", "file://relative/x.out"]);
    assert!(e.contains("expected an absolute path after file://"), "{e}");
}

fn with_store(f: impl Fn(&FakeS3, &Layout)) {
    let s3 = FakeS3::start();
    let lay = Layout::new(|k, d| s3.put(k, d));
    f(&s3, &lay);
}

#[test]
#[ignore = "needs gofakes3"]
fn s3_urls() {
    with_store(|s3, lay| reads_objects("s3://cov/", &s3.s3_env(), lay));
}

#[test]
#[ignore = "needs gofakes3"]
fn gs_urls() {
    with_store(|s3, lay| reads_objects("gs://cov/", &s3.gcs_env(), lay));
}

#[test]
#[ignore = "needs gofakes3"]
fn a_store_that_is_not_there() {
    let s3 = FakeS3::start();
    let env = s3.s3_env();
    drop(s3);
    let e = stderr_of(&env, &["merge", "s3://cov/logs/a.cov"]);
    assert!(e.starts_with("covlens: s3://cov/logs/a.cov: "), "{e}");
    assert!(e.contains("Connection refused"), "{e}");
    assert_eq!(e.matches("Connection refused").count(), 1, "{e}");
}
