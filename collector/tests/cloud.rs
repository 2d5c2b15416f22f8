//! gs:// and s3:// destinations through object_store, against gofakes3 (an
//! S3-compatible server; GCS's XML API, which object_store's GCS client
//! uses for objects, is S3's): multipart uploads of a large profile, small
//! puts, the store going away and coming back.
#![cfg(feature = "cloud")]

mod common;

use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;

struct Store {
    child: Child,
    port: u16,
}

impl Store {
    fn start(bin: &Path, port: u16) -> Store {
        let child = Command::new(bin)
            .args(["-backend", "memory", "-autobucket", "-initialbucket", "cov"])
            .arg("-host")
            .arg(format!("127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start gofakes3");
        assert!(
            wait_for(Duration::from_secs(10), || TcpStream::connect((
                "127.0.0.1",
                port
            ))
            .is_ok()),
            "gofakes3 did not listen"
        );
        Store { child, port }
    }

    /// An object's bytes, if it exists.
    fn get(&self, key: &str) -> Option<Vec<u8>> {
        let mut c = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        c.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
        write!(c, "GET /cov/{key} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
        let mut resp = Vec::new();
        c.read_to_end(&mut resp).ok()?;
        let head_end = resp.windows(4).position(|w| w == b"\r\n\r\n")?;
        let head = String::from_utf8_lossy(&resp[..head_end]);
        (head.split(' ').nth(1) == Some("200")).then(|| resp[head_end + 4..].to_vec())
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A text profile of `blocks` blocks (about 60 bytes each) whose counts are
/// `round` times the block number: later rounds continue earlier ones.
fn profile(blocks: usize, round: u64) -> String {
    let mut s = String::from("mode: count\n");
    for b in 0..blocks {
        let (file, line) = (b / 50, b % 50 * 3 + 1);
        s.push_str(&format!(
            "k8s.io/kubernetes/pkg/big/file{file:05}.go:{line}.2,{}.9 1 {}\n",
            line + 1,
            b as u64 * round
        ));
    }
    s
}

fn write_renamed(path: &Path, data: &str) {
    let tmp = path.with_extension("tmp");
    fs::write(&tmp, data).unwrap();
    fs::rename(&tmp, path).unwrap();
}

fn upload_through(scheme: &str, env: &[(&str, &str)], bin: &Path, port: u16) {
    let t = tempfile::tempdir().unwrap();
    let mut store = Store::start(bin, port);
    let watch = t.path().join("apiserver.cov");
    // 150k blocks: about 9 MB, so multipart (5 MiB parts).
    let first = profile(150_000, 1);
    assert!(first.len() > 6 << 20);
    write_renamed(&watch, &first);
    let metrics_port = free_port();
    let (watch_s, staging, dest, listen) = (
        watch.display().to_string(),
        t.path().join("staging").display().to_string(),
        format!("{scheme}://cov/ci/run"),
        format!("127.0.0.1:{metrics_port}"),
    );
    let args = [
        "--watch",
        &watch_s,
        "--kind",
        "text",
        "--text-writer",
        "rename",
        "--dest",
        &dest,
        "--staging",
        &staging,
        "--rescan",
        "200ms",
        "--retry-min",
        "50ms",
        "--retry-max",
        "300ms",
        "--listen",
        &listen,
    ];
    let mut env = env.to_vec();
    env.extend([("POD_NAME", "p"), ("COVLENS_CONTAINER", "c")]);
    let mut coll = Collector::start(&args, &env, &t.path().join("collector.log"));
    let key = "ci/run/coverage/p/c/text/0000-apiserver.cov";
    let meta_key = "ci/run/coverage/p/c/metadata/text/0000-apiserver.cov.json";
    assert!(
        wait_for(Duration::from_secs(30), || store.get(key).as_deref()
            == Some(first.as_bytes())),
        "{scheme}: the profile did not arrive\n{}",
        coll.log()
    );
    let meta: serde_json::Value = serde_json::from_slice(&store.get(meta_key).unwrap()).unwrap();
    assert_eq!(meta["kind"], "text");
    assert_eq!(meta["pod"], "p");
    assert_eq!(meta["size"], first.len());

    // The store goes away: the next snapshot waits in staging, retried.
    drop(store);
    let second = profile(150_000, 2);
    write_renamed(&watch, &second);
    assert!(
        wait_for(Duration::from_secs(20), || metric(
            metrics_port,
            "upload_errors_total"
        )
        .unwrap_or(0)
            > 0),
        "{scheme}: no failed upload while the store was down\n{}",
        coll.log()
    );
    assert_eq!(metric(metrics_port, "pending_snapshots"), Some(1));
    // Back (empty: a memory backend): the snapshot arrives, complete.
    store = Store::start(bin, port);
    assert!(
        wait_for(Duration::from_secs(30), || store.get(key).as_deref()
            == Some(second.as_bytes())
            && metric(metrics_port, "pending_snapshots") == Some(0)),
        "{scheme}: the snapshot did not arrive after the store came back\n{}",
        coll.log()
    );
    assert!(store.get(meta_key).is_some());
    assert!(coll.sigterm().success());
}

#[test]
#[ignore = "needs gofakes3"]
fn gs_destination() {
    let bin = require_gofakes3();
    let port = free_port();
    let key = format!(
        r#"{{"gcs_base_url": "http://127.0.0.1:{port}", "disable_oauth": true, "client_email": "", "private_key": "", "private_key_id": ""}}"#
    );
    upload_through("gs", &[("GOOGLE_SERVICE_ACCOUNT_KEY", &key)], &bin, port);
}

#[test]
#[ignore = "needs gofakes3"]
fn s3_destination() {
    let bin = require_gofakes3();
    let port = free_port();
    let endpoint = format!("http://127.0.0.1:{port}");
    upload_through(
        "s3",
        &[
            ("AWS_ENDPOINT", &endpoint),
            ("AWS_ALLOW_HTTP", "true"),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_REGION", "us-east-1"),
        ],
        &bin,
        port,
    );
}
