//! Counters exported at `/metrics` (Prometheus text format) and a tiny
//! HTTP/1.1 responder for them and `/healthz`.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The collector's counters and gauges.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Snapshots staged (accepted and copied).
    pub snapshots_taken: AtomicU64,
    /// Snapshots uploaded.
    pub snapshots_uploaded: AtomicU64,
    /// Bytes uploaded (snapshots and their metadata).
    pub bytes_uploaded: AtomicU64,
    /// Failed uploads or deletions.
    pub upload_errors: AtomicU64,
    /// Superseded snapshots deleted at the destination.
    pub snapshots_retired: AtomicU64,
    /// Corrupt or incomplete files rejected (never shipped).
    pub rejected_corrupt: AtomicU64,
    /// Text snapshots rejected as truncated at a line boundary.
    pub rejected_partial: AtomicU64,
    /// Snapshots deferred because staging was full.
    pub staging_full: AtomicU64,
    /// Superseded snapshots dropped to stay under the staging limit.
    pub staging_dropped: AtomicU64,
    /// Scans done.
    pub scans: AtomicU64,
    /// Scans that failed (e.g. the watched directory vanished).
    pub scan_errors: AtomicU64,
    /// Bytes currently staged (gauge).
    pub staging_bytes: AtomicU64,
    /// Snapshots waiting for upload (gauge).
    pub pending: AtomicU64,
    /// Unix time of the last successful upload (gauge, seconds).
    pub last_upload_unix: AtomicU64,
    /// Set once the last collection started (SIGTERM or marker).
    pub finishing: AtomicBool,
}

fn get(a: &AtomicU64) -> u64 {
    a.load(Ordering::Relaxed)
}

impl Metrics {
    /// Adds to a counter.
    pub(crate) fn add(a: &AtomicU64, n: u64) {
        a.fetch_add(n, Ordering::Relaxed);
    }

    /// Prometheus text exposition.
    pub(crate) fn render(&self) -> String {
        let mut s = String::new();
        let mut one = |name: &str, kind: &str, help: &str, v: u64| {
            let _ = writeln!(s, "# HELP covlens_collector_{name} {help}");
            let _ = writeln!(s, "# TYPE covlens_collector_{name} {kind}");
            let _ = writeln!(s, "covlens_collector_{name} {v}");
        };
        one(
            "snapshots_taken_total",
            "counter",
            "Snapshots accepted and staged.",
            get(&self.snapshots_taken),
        );
        one(
            "snapshots_uploaded_total",
            "counter",
            "Snapshots uploaded.",
            get(&self.snapshots_uploaded),
        );
        one(
            "bytes_uploaded_total",
            "counter",
            "Bytes uploaded.",
            get(&self.bytes_uploaded),
        );
        one(
            "upload_errors_total",
            "counter",
            "Failed uploads or deletions.",
            get(&self.upload_errors),
        );
        one(
            "snapshots_retired_total",
            "counter",
            "Superseded snapshots deleted at the destination.",
            get(&self.snapshots_retired),
        );
        one(
            "rejected_corrupt_total",
            "counter",
            "Corrupt or incomplete files, never shipped.",
            get(&self.rejected_corrupt),
        );
        one(
            "rejected_partial_total",
            "counter",
            "Text snapshots truncated at a line boundary, never shipped.",
            get(&self.rejected_partial),
        );
        one(
            "staging_full_total",
            "counter",
            "Snapshots deferred because staging was full.",
            get(&self.staging_full),
        );
        one(
            "staging_dropped_total",
            "counter",
            "Superseded snapshots dropped to respect the staging limit.",
            get(&self.staging_dropped),
        );
        one(
            "scans_total",
            "counter",
            "Scans of the watched path.",
            get(&self.scans),
        );
        one(
            "scan_errors_total",
            "counter",
            "Failed scans.",
            get(&self.scan_errors),
        );
        one(
            "staging_bytes",
            "gauge",
            "Bytes held in the staging directory.",
            get(&self.staging_bytes),
        );
        one(
            "pending_snapshots",
            "gauge",
            "Snapshots waiting for upload.",
            get(&self.pending),
        );
        one(
            "last_upload_timestamp_seconds",
            "gauge",
            "Unix time of the last successful upload.",
            get(&self.last_upload_unix),
        );
        s
    }
}

/// Serves `/healthz` and `/metrics` until the task is dropped.
pub(crate) async fn serve(listener: TcpListener, metrics: Arc<Metrics>) {
    loop {
        let Ok((conn, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let m = metrics.clone();
        tokio::spawn(async move {
            let _ = tokio::time::timeout(Duration::from_secs(5), respond(conn, &m)).await;
        });
    }
}

async fn respond(mut conn: TcpStream, m: &Metrics) -> std::io::Result<()> {
    // Read the request head only; these endpoints take no body.
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && !buf.windows(2).any(|w| w == b"\n\n") {
        let n = conn.read(&mut chunk).await?;
        if n == 0 || buf.len() > 8192 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let head = String::from_utf8_lossy(&buf);
    let mut parts = head.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = path.split('?').next().unwrap_or("");
    let (status, ctype, body) = match (method, path) {
        ("GET" | "HEAD", "/healthz") => {
            let body = if m.finishing.load(Ordering::Relaxed) {
                "finishing\n"
            } else {
                "ok\n"
            };
            ("200 OK", "text/plain; charset=utf-8", body.to_string())
        }
        ("GET" | "HEAD", "/metrics") => (
            "200 OK",
            "text/plain; version=0.0.4; charset=utf-8",
            m.render(),
        ),
        ("GET" | "HEAD", _) => (
            "404 Not Found",
            "text/plain; charset=utf-8",
            "not found\n".into(),
        ),
        _ => (
            "405 Method Not Allowed",
            "text/plain; charset=utf-8",
            "method not allowed\n".into(),
        ),
    };
    let mut resp = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    if method != "HEAD" {
        resp.push_str(&body);
    }
    conn.write_all(resp.as_bytes()).await?;
    conn.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition() {
        let m = Metrics::default();
        Metrics::add(&m.snapshots_taken, 3);
        let s = m.render();
        assert!(s.contains("# TYPE covlens_collector_snapshots_taken_total counter\ncovlens_collector_snapshots_taken_total 3\n"));
        assert!(s.contains("covlens_collector_staging_bytes 0\n"));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn http_endpoints() {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let m = Arc::new(Metrics::default());
        Metrics::add(&m.upload_errors, 2);
        let server = tokio::spawn(serve(l, m));
        let get = |path: &'static str| async move {
            let mut c = TcpStream::connect(addr).await.unwrap();
            c.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
                .await
                .unwrap();
            let mut out = String::new();
            c.read_to_string(&mut out).await.unwrap();
            out
        };
        let h = get("/healthz").await;
        assert!(
            h.starts_with("HTTP/1.1 200 OK\r\n") && h.ends_with("\r\n\r\nok\n"),
            "{h}"
        );
        assert!(
            get("/metrics")
                .await
                .contains("covlens_collector_upload_errors_total 2\n")
        );
        assert!(get("/nope").await.starts_with("HTTP/1.1 404"));
        server.abort();
    }
}
