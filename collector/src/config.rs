//! Collector configuration and the pod/job identity it records.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use covlens_prow::layout;
pub use covlens_prow::layout::Identity;

use crate::error::{CollectorError, Result};

/// What the watched path holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceKind {
    /// A directory is a GOCOVERDIR, anything else a text profile.
    Auto,
    /// A GOCOVERDIR (binary meta-data and counter files).
    Covdata,
    /// A text profile (KUBE_COVERAGE_FILE).
    Text,
}

/// How the text profile's writer publishes it (see [`crate::text`] rules).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextWriter {
    /// Truncates and rewrites in place: new layouts need confirmation.
    InPlace,
    /// Writes a temporary file and renames it: never visible half written.
    Rename,
}

/// Where under the destination snapshots go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// `Prow` when `JOB_NAME` and `BUILD_ID` are set, else `Flat`.
    Auto,
    /// `<job path>/artifacts/coverage/<pod>/<container>/` (Prow's GCS layout).
    Prow,
    /// `coverage/<pod>/<container>/` (e.g. with `--dest $ARTIFACTS`).
    Flat,
}

/// Everything [`crate::run`] needs.
#[derive(Clone, Debug)]
pub struct Config {
    /// The text profile or GOCOVERDIR to watch.
    pub watch: PathBuf,
    /// What `watch` holds.
    pub kind: SourceKind,
    /// A directory, `file://` URL, or (feature `cloud`) `gs://` / `s3://` URL.
    pub dest: String,
    /// Staging directory; must survive collector restarts (same volume as
    /// the watched path). `None`: `.covlens-staging` next to the source.
    pub staging: Option<PathBuf>,
    /// A file must be unchanged this long before it is copied.
    pub settle: Duration,
    /// Full rescan period (the source of truth; watch events only hint).
    pub rescan: Duration,
    /// On SIGTERM or the Prow marker: time for the last collection and upload.
    pub grace: Duration,
    /// Bound on the staging directory's snapshot bytes.
    pub max_staging_bytes: u64,
    /// Text writer behaviour.
    pub text_writer: TextWriter,
    /// Files whose appearance ends collection (Prow entrypoint markers).
    pub markers: Vec<PathBuf>,
    /// Destination layout.
    pub layout: Layout,
    /// Extra prefix before the Prow job path (Prow's `path_prefix`).
    pub path_prefix: String,
    /// Who we are.
    pub identity: Identity,
    /// `/healthz` and `/metrics` listener.
    pub listen: Option<SocketAddr>,
    /// Keep superseded snapshots at the destination (readers must then take
    /// the newest per group themselves).
    pub keep_history: bool,
    /// One collection and upload, then exit (no watching).
    pub once: bool,
    /// First retry delay after a failed upload (doubles up to `retry_max`).
    pub retry_min: Duration,
    /// Longest retry delay.
    pub retry_max: Duration,
}

impl Config {
    /// A configuration with the defaults and identity from the environment.
    pub fn new(watch: impl Into<PathBuf>, dest: impl Into<String>) -> Config {
        Config {
            watch: watch.into(),
            kind: SourceKind::Auto,
            dest: dest.into(),
            staging: None,
            settle: Duration::from_millis(500),
            rescan: Duration::from_secs(2),
            grace: Duration::from_secs(25),
            max_staging_bytes: 256 << 20,
            text_writer: TextWriter::InPlace,
            markers: Vec::new(),
            layout: Layout::Auto,
            path_prefix: String::new(),
            identity: Identity::from_env(),
            listen: None,
            keep_history: false,
            once: false,
            retry_min: Duration::from_millis(500),
            retry_max: Duration::from_secs(30),
        }
    }

    /// The kind, with `Auto` resolved against the filesystem.
    pub fn resolved_kind(&self) -> SourceKind {
        match self.kind {
            SourceKind::Auto if self.watch.is_dir() => SourceKind::Covdata,
            SourceKind::Auto => SourceKind::Text,
            k => k,
        }
    }

    /// The directory to watch: the GOCOVERDIR, or the text file's parent.
    pub fn watch_dir(&self) -> PathBuf {
        match self.resolved_kind() {
            SourceKind::Covdata => self.watch.clone(),
            _ => parent_dir(&self.watch),
        }
    }

    /// The staging directory.
    pub fn staging_dir(&self) -> PathBuf {
        self.staging
            .clone()
            .unwrap_or_else(|| self.watch_dir().join(".covlens-staging"))
    }

    /// The key prefix of everything this collector writes, ending in `/`:
    /// [`layout::coverage_root`], under the Prow run's artifacts directory
    /// with the Prow layout.
    pub fn root(&self) -> String {
        let id = &self.identity;
        let prow = match self.layout {
            Layout::Prow => true,
            Layout::Flat => false,
            Layout::Auto => id.prow.is_run(),
        };
        let under = if prow {
            id.prow.run(&self.path_prefix).artifacts_dir()
        } else {
            String::new()
        };
        let pod = id.pod.as_deref().unwrap_or("unknown-pod");
        layout::coverage_root(&under, pod, &id.container)
    }

    /// Checks option combinations.
    pub fn validate(&self) -> Result<()> {
        if self.settle.is_zero() && self.text_writer == TextWriter::InPlace {
            return Err(CollectorError::Config(
                "--settle 0 cannot detect in-place writers; use --text-writer=rename".into(),
            ));
        }
        if self.rescan.is_zero() {
            return Err(CollectorError::Config("--rescan must be positive".into()));
        }
        if self.layout == Layout::Prow && !self.identity.prow.is_run() {
            return Err(CollectorError::Config(
                "--layout=prow needs JOB_NAME and BUILD_ID in the environment".into(),
            ));
        }
        Ok(())
    }
}

fn parent_dir(p: &Path) -> PathBuf {
    match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Parses `500ms`, `2s`, `1m`, `1h`, `1m30s` or a bare number of seconds.
pub fn parse_duration(s: &str) -> std::result::Result<Duration, String> {
    let s = s.trim();
    if let Ok(secs) = s.parse::<f64>()
        && secs.is_finite()
        && secs >= 0.0
    {
        return Ok(Duration::from_secs_f64(secs));
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    if rest.is_empty() {
        return Err("empty duration".into());
    }
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| format!("duration {s:?} lacks a unit (ms, s, m, h)"))?;
        let (num, tail) = rest.split_at(num_end);
        let unit_end = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_end);
        let n: f64 = num
            .parse()
            .map_err(|_| format!("bad number in duration {s:?}"))?;
        let scale = match unit {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(format!("unknown unit {unit:?} in duration {s:?}")),
        };
        total += Duration::from_secs_f64(n * scale);
        rest = tail;
    }
    Ok(total)
}

/// Parses a byte size: `1048576`, `512K`, `256M`, `2G` (also `KiB`, `MB`…,
/// all powers of 1024).
pub fn parse_size(s: &str) -> std::result::Result<u64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().map_err(|_| format!("bad size {s:?}"))?;
    let shift = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        _ => return Err(format!("unknown unit in size {s:?}")),
    };
    n.checked_mul(1 << shift)
        .ok_or_else(|| format!("size {s:?} too large"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn ident(vars: &[(&str, &str)]) -> Identity {
        let m: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Identity::from_lookup(|k| m.get(k).cloned())
    }

    #[test]
    fn layouts() {
        let mut c = Config::new("/cov", "/out");
        c.identity = ident(&[("POD_NAME", "e2e-0"), ("COVLENS_CONTAINER", "apiserver")]);
        assert_eq!(c.root(), "coverage/e2e-0/apiserver/");
        c.identity = ident(&[
            ("POD_NAME", "e2e-0"),
            ("JOB_NAME", "ci-kubernetes-coverage-e2e"),
            ("JOB_TYPE", "periodic"),
            ("BUILD_ID", "1790"),
        ]);
        assert_eq!(
            c.root(),
            "logs/ci-kubernetes-coverage-e2e/1790/artifacts/coverage/e2e-0/component/"
        );
        c.path_prefix = "/pfx/".into();
        assert!(c.root().starts_with("pfx/logs/"));
        c.layout = Layout::Flat;
        assert_eq!(c.root(), "coverage/e2e-0/component/");
        c.identity = ident(&[
            ("JOB_NAME", "pull-k8s-cov"),
            ("JOB_TYPE", "presubmit"),
            ("BUILD_ID", "7"),
            ("REPO_OWNER", "kubernetes"),
            ("REPO_NAME", "kubernetes"),
            ("PULL_NUMBER", "123"),
        ]);
        assert_eq!(
            c.identity.prow.run("").dir(),
            "pr-logs/pull/kubernetes_kubernetes/123/pull-k8s-cov/7/"
        );
        c.identity.prow.job_type = Some("batch".into());
        assert_eq!(
            c.identity.prow.run("").dir(),
            "pr-logs/pull/batch/pull-k8s-cov/7/"
        );
        // Empty variables count as unset; HOSTNAME stands in for POD_NAME.
        let id = ident(&[("POD_NAME", ""), ("HOSTNAME", "h"), ("JOB_NAME", "")]);
        assert_eq!(
            (id.pod.as_deref(), id.prow.job.as_deref()),
            (Some("h"), None)
        );
    }

    #[test]
    fn durations_and_sizes() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("1m30s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("2").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration("0.25s").unwrap(), Duration::from_millis(250));
        for bad in ["", "5x", "s", "-1"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_size("256M").unwrap(), 256 << 20);
        assert_eq!(parse_size("10KiB").unwrap(), 10 << 10);
        assert_eq!(parse_size("77").unwrap(), 77);
        assert!(parse_size("1T").is_err());
    }
}
