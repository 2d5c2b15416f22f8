//! Collector configuration and the pod/job identity it records.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use covlens_prow::layout;
pub use covlens_prow::layout::Identity;

use crate::error::{CollectorError, Result, esc};

/// Default option values, written as on the command line: clap parses
/// them for `covlens collect` and [`Config::new`] with the same parsers, so
/// the two cannot differ.
pub(crate) mod defaults {
    /// `--settle`.
    pub(crate) const SETTLE: &str = "500ms";
    /// `--rescan`.
    pub(crate) const RESCAN: &str = "2s";
    /// `--grace`.
    pub(crate) const GRACE: &str = "25s";
    /// `--max-staging-bytes`.
    pub(crate) const MAX_STAGING_BYTES: &str = "256M";
    /// `--retry-min`.
    pub(crate) const RETRY_MIN: &str = "500ms";
    /// `--retry-max`.
    pub(crate) const RETRY_MAX: &str = "30s";
}

/// A built-in default duration (parsing it is tested).
fn default_duration(s: &str) -> Duration {
    parse_duration(s).unwrap_or_default()
}

const DAY: Duration = Duration::from_secs(24 * 3600);

/// The accepted range of a duration option, defined once: clap's parsers
/// and [`Config::validate`] both check it. Beyond a day nothing is
/// sensible, and a bound keeps every `Instant + d` and `d * 2` in range.
#[derive(Clone, Copy, Debug)]
pub(crate) struct DurationRange {
    /// What it is, for messages.
    pub(crate) what: &'static str,
    pub(crate) min: Duration,
    pub(crate) max: Duration,
}

/// Ranges of the duration options.
pub(crate) mod ranges {
    use super::{DAY, Duration, DurationRange};

    /// `--settle` (0 only with the rename writer: [`super::Config::validate`]).
    pub(crate) const SETTLE: DurationRange = DurationRange {
        what: "settle delay",
        min: Duration::ZERO,
        max: DAY,
    };
    /// `--rescan`: a shorter period would only burn CPU.
    pub(crate) const RESCAN: DurationRange = DurationRange {
        what: "rescan period",
        min: Duration::from_millis(10),
        max: DAY,
    };
    /// `--grace`: without any, nothing could be uploaded at the end.
    pub(crate) const GRACE: DurationRange = DurationRange {
        what: "grace period",
        min: Duration::from_millis(1),
        max: DAY,
    };
    /// `--retry-min`: 0 would retry a failing destination in a tight loop.
    pub(crate) const RETRY_MIN: DurationRange = DurationRange {
        what: "first retry delay",
        min: Duration::from_millis(1),
        max: DAY,
    };
    /// `--retry-max`.
    pub(crate) const RETRY_MAX: DurationRange = DurationRange {
        what: "longest retry delay",
        min: Duration::from_millis(1),
        max: DAY,
    };
    /// `--max-staging-bytes`: 0 would defer every snapshot forever.
    pub(crate) const MAX_STAGING_BYTES: (u64, u64) = (1, 1 << 40);
}

impl DurationRange {
    /// Checks a duration against the range.
    pub(crate) fn check(&self, d: Duration) -> std::result::Result<Duration, String> {
        if d < self.min {
            Err(format!(
                "the {} {} is too short: at least {}",
                self.what,
                show_duration(d),
                show_duration(self.min)
            ))
        } else if d > self.max {
            Err(format!(
                "the {} {} is too long: at most {}",
                self.what,
                show_duration(d),
                show_duration(self.max)
            ))
        } else {
            Ok(d)
        }
    }

    /// Parses with [`parse_duration`] and checks the range.
    pub(crate) fn parse(&self, s: &str) -> std::result::Result<Duration, String> {
        match parse_duration_or_overflow(s)? {
            Some(d) => self
                .check(d)
                .map_err(|_| self.out_of_range(s, d < self.min)),
            None => Err(self.out_of_range(s, false)),
        }
    }

    fn out_of_range(&self, s: &str, short: bool) -> String {
        if short {
            format!("{s:?} is too short: at least {}", show_duration(self.min))
        } else {
            format!("{s:?} is too long: at most {}", show_duration(self.max))
        }
    }
}

/// A duration as an option value would write it (`24h`, `10ms`, `0.0005s`).
fn show_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if !d.subsec_nanos().is_multiple_of(1_000_000) {
        format!("{}s", d.as_secs_f64())
    } else if ms == 0 {
        "0s".into()
    } else if ms.is_multiple_of(3_600_000) {
        format!("{}h", ms / 3_600_000)
    } else if ms.is_multiple_of(60_000) {
        format!("{}m", ms / 60_000)
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// clap parsers of the duration and size options, with their ranges.
pub(crate) mod args {
    use super::{Duration, parse_size, ranges};

    pub(crate) fn settle(s: &str) -> Result<Duration, String> {
        ranges::SETTLE.parse(s)
    }
    pub(crate) fn rescan(s: &str) -> Result<Duration, String> {
        ranges::RESCAN.parse(s)
    }
    pub(crate) fn grace(s: &str) -> Result<Duration, String> {
        ranges::GRACE.parse(s)
    }
    pub(crate) fn retry_min(s: &str) -> Result<Duration, String> {
        ranges::RETRY_MIN.parse(s)
    }
    pub(crate) fn retry_max(s: &str) -> Result<Duration, String> {
        ranges::RETRY_MAX.parse(s)
    }
    pub(crate) fn max_staging_bytes(s: &str) -> Result<u64, String> {
        let n = parse_size(s)?;
        super::check_staging_bytes(n).map_err(|_| {
            let (min, max) = ranges::MAX_STAGING_BYTES;
            if n < min {
                format!("{s:?} is too small: at least {min} byte")
            } else {
                format!("{s:?} is too large: at most {}G", max >> 30)
            }
        })
    }
}

fn check_staging_bytes(n: u64) -> std::result::Result<u64, String> {
    let (min, max) = ranges::MAX_STAGING_BYTES;
    if n < min {
        Err(format!(
            "the staging limit {n} is too small: at least {min} byte"
        ))
    } else if n > max {
        Err(format!(
            "the staging limit {n} is too large: at most {} bytes",
            max
        ))
    } else {
        Ok(n)
    }
}

/// What the watched path holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum SourceKind {
    /// A directory is a GOCOVERDIR, a file a text profile.
    #[default]
    Auto,
    /// GOCOVERDIR (binary meta-data and counter files).
    Covdata,
    /// Text profile (KUBE_COVERAGE_FILE).
    Text,
}

/// How the text profile's writer publishes it (see the text rules in
/// collector/README.md).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum TextWriter {
    /// Truncate and rewrite (the legacy Kubernetes wrapper, plain writes):
    /// new layouts need a second write to confirm.
    #[default]
    InPlace,
    /// Temporary file and rename (covflush): never visible half written.
    Rename,
}

/// Where under the destination snapshots go.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Layout {
    /// Prow when JOB_NAME and BUILD_ID are set, else flat.
    #[default]
    Auto,
    /// RUN/artifacts/coverage/POD/CONTAINER/ (Prow's GCS layout, RUN the
    /// job run's directory).
    Prow,
    /// coverage/POD/CONTAINER/ (e.g. with the destination $ARTIFACTS).
    Flat,
}

/// The entrypoint markers that end collection by default: Prow's when the
/// identity names a Prow job (see [`layout::ENTRYPOINT_MARKERS`]), else
/// none.
pub(crate) fn default_markers(identity: &Identity) -> Vec<PathBuf> {
    if identity.prow.job.is_some() {
        layout::ENTRYPOINT_MARKERS
            .iter()
            .map(PathBuf::from)
            .collect()
    } else {
        Vec::new()
    }
}

/// Everything [`crate::run`] needs.
#[derive(Clone, Debug, PartialEq, Eq)]
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
    /// A configuration with the defaults of `covlens collect` and the
    /// identity from the environment.
    pub fn new(watch: impl Into<PathBuf>, dest: impl Into<String>) -> Config {
        let identity = Identity::from_env();
        Config {
            watch: watch.into(),
            kind: SourceKind::default(),
            dest: dest.into(),
            staging: None,
            settle: default_duration(defaults::SETTLE),
            rescan: default_duration(defaults::RESCAN),
            grace: default_duration(defaults::GRACE),
            max_staging_bytes: parse_size(defaults::MAX_STAGING_BYTES).unwrap_or_default(),
            text_writer: TextWriter::default(),
            markers: default_markers(&identity),
            layout: Layout::default(),
            path_prefix: String::new(),
            identity,
            listen: None,
            keep_history: false,
            once: false,
            retry_min: default_duration(defaults::RETRY_MIN),
            retry_max: default_duration(defaults::RETRY_MAX),
        }
    }

    /// The kind, with `Auto` resolved against the filesystem.
    pub(crate) fn resolved_kind(&self) -> SourceKind {
        match self.kind {
            SourceKind::Auto if self.watch.is_dir() => SourceKind::Covdata,
            SourceKind::Auto => SourceKind::Text,
            k => k,
        }
    }

    /// Checks that the watched path can be used, before anything is
    /// created next to it: its directory exists (staging is never created
    /// under a missing one), it is no symlink loop, and it fits its kind (a
    /// GOCOVERDIR is a directory, a text profile is not; the profile itself
    /// may appear later).
    pub(crate) fn check_watch(&self) -> Result<()> {
        let err = |why: String, source| CollectorError::WatchPath {
            path: self.watch.clone(),
            why,
            source,
        };
        let kind = self.resolved_kind();
        match std::fs::metadata(&self.watch) {
            Ok(m) if kind == SourceKind::Covdata && !m.is_dir() => {
                return Err(err("is not a directory (a GOCOVERDIR is one)".into(), None));
            }
            Ok(m) if kind != SourceKind::Covdata && m.is_dir() => {
                return Err(err("is a directory, not a text profile".into(), None));
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && kind != SourceKind::Covdata => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(err("does not exist".into(), None));
            }
            Err(e) => return Err(err("cannot be read".into(), Some(e))),
        }
        let dir = self.watch_dir();
        match std::fs::metadata(&dir) {
            Ok(m) if m.is_dir() => Ok(()),
            Ok(_) => Err(err(format!("{} is not a directory", esc(&dir)), None)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(err(
                format!("its directory {} does not exist", esc(&dir)),
                None,
            )),
            Err(e) => Err(err(
                format!("its directory {} cannot be read", esc(&dir)),
                Some(e),
            )),
        }
    }

    /// The directory to watch: the GOCOVERDIR, or the text file's parent.
    pub(crate) fn watch_dir(&self) -> PathBuf {
        match self.resolved_kind() {
            SourceKind::Covdata => self.watch.clone(),
            _ => parent_dir(&self.watch),
        }
    }

    /// The staging directory.
    pub(crate) fn staging_dir(&self) -> PathBuf {
        self.staging
            .clone()
            .unwrap_or_else(|| self.watch_dir().join(".covlens-staging"))
    }

    /// The key prefix of everything this collector writes, ending in `/`:
    /// [`layout::coverage_root`], under the Prow run's artifacts directory
    /// with the Prow layout.
    pub(crate) fn root(&self) -> String {
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
        for (range, d) in [
            (ranges::SETTLE, self.settle),
            (ranges::RESCAN, self.rescan),
            (ranges::GRACE, self.grace),
            (ranges::RETRY_MIN, self.retry_min),
            (ranges::RETRY_MAX, self.retry_max),
        ] {
            range.check(d).map_err(CollectorError::Config)?;
        }
        if self.retry_max < self.retry_min {
            return Err(CollectorError::Config(
                "the longest retry delay is shorter than the first".into(),
            ));
        }
        check_staging_bytes(self.max_staging_bytes).map_err(CollectorError::Config)?;
        if self.settle.is_zero() && self.text_writer == TextWriter::InPlace {
            return Err(CollectorError::Config(
                "a settle delay of 0 cannot tell when an in-place writer has finished; \
                 use the rename text writer"
                    .into(),
            ));
        }
        if let Err(why) = check_prefix(&self.path_prefix) {
            return Err(CollectorError::Config(format!(
                "the path prefix {:?} {why}",
                self.path_prefix
            )));
        }
        let root = self.root();
        if let Err(why) = check_key(root.trim_end_matches('/')) {
            return Err(CollectorError::Config(format!(
                "the destination root {root:?} (from the pod, container and Prow job names) {why}"
            )));
        }
        if self.layout == Layout::Prow && !self.identity.prow.is_run() {
            return Err(CollectorError::Config(
                "the Prow layout needs JOB_NAME and BUILD_ID in the environment".into(),
            ));
        }
        Ok(())
    }
}

/// Checks a destination key (or part of one): `/`-separated, relative,
/// without empty, `.` or `..` segments or control characters, so that it
/// names one object below the destination's root and nothing else.
pub(crate) fn check_key(key: &str) -> std::result::Result<(), String> {
    if key.starts_with('/') {
        return Err("is not relative".into());
    }
    if key.chars().any(char::is_control) {
        return Err("contains control characters".into());
    }
    for seg in key.split('/') {
        match seg {
            "" => return Err("has an empty segment".into()),
            "." | ".." => return Err(format!("has a {seg:?} segment")),
            _ => {}
        }
    }
    Ok(())
}

/// [`check_key`] for Prow's path prefix, which may be empty and may end
/// with one `/`.
fn check_prefix(prefix: &str) -> std::result::Result<(), String> {
    match prefix.strip_suffix('/').unwrap_or(prefix) {
        "" if prefix.len() <= 1 => Ok(()),
        p => check_key(p),
    }
}

fn parent_dir(p: &Path) -> PathBuf {
    match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Parses `500ms`, `2s`, `1m`, `1h`, `1m30s` or a bare number of seconds.
/// Values too large for a [`Duration`] are errors, never panics; option
/// ranges are checked by [`DurationRange`].
pub(crate) fn parse_duration(s: &str) -> std::result::Result<Duration, String> {
    parse_duration_or_overflow(s)?.ok_or_else(|| format!("duration {:?} is too long", s.trim()))
}

/// [`parse_duration`]; `Ok(None)` for a well-formed value too large for a
/// [`Duration`].
fn parse_duration_or_overflow(s: &str) -> std::result::Result<Option<Duration>, String> {
    let s = s.trim();
    if s.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && let Ok(secs) = s.parse::<f64>()
    {
        return Ok(Duration::try_from_secs_f64(secs).ok());
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
        let Some(total_) = Duration::try_from_secs_f64(n * scale)
            .ok()
            .and_then(|part| total.checked_add(part))
        else {
            return Ok(None);
        };
        total = total_;
        rest = tail;
    }
    Ok(Some(total))
}

/// Parses a byte size: `1048576`, `512K`, `256M`, `2G` (also `KiB`, `MB`…,
/// all powers of 1024).
pub(crate) fn parse_size(s: &str) -> std::result::Result<u64, String> {
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
        .ok_or_else(|| format!("size {s:?} is too large"))
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
        c.path_prefix = "pfx/".into();
        assert!(c.root().starts_with("pfx/logs/"));
        assert!(c.validate().is_ok());
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
    fn the_defaults_parse_within_their_ranges() {
        for (d, range) in [
            (defaults::SETTLE, ranges::SETTLE),
            (defaults::RESCAN, ranges::RESCAN),
            (defaults::GRACE, ranges::GRACE),
            (defaults::RETRY_MIN, ranges::RETRY_MIN),
            (defaults::RETRY_MAX, ranges::RETRY_MAX),
        ] {
            assert!(!range.parse(d).unwrap().is_zero(), "{d}");
        }
        assert_eq!(parse_size(defaults::MAX_STAGING_BYTES).unwrap(), 256 << 20);
        assert!(Config::new("/cov", "/out").validate().is_ok());
    }

    /// Issue 10, item 12: values too large for a `Duration` are errors.
    #[test]
    fn huge_durations_are_errors_not_panics() {
        for s in [
            "1e20",
            "1e300",
            "99999999999999999999h",
            "18446744073709551616",
            "5000000000000000000m",
            "9999999999999999999h9999999999999999999h",
        ] {
            let e = parse_duration(s).unwrap_err();
            assert!(e.contains("too long"), "{s}: {e}");
            assert!(ranges::GRACE.parse(s).unwrap_err().contains("at most 24h"));
        }
        assert_eq!(
            ranges::SETTLE.parse("24h").unwrap(),
            Duration::from_secs(86400)
        );
        assert!(ranges::SETTLE.parse("24h1ms").is_err());
        assert!(
            ranges::RESCAN
                .parse("9ms")
                .unwrap_err()
                .contains("at least 10ms")
        );
    }

    #[test]
    fn keys_and_prefixes() {
        for ok in [
            "",
            "/",
            "a",
            "a/",
            "a/b",
            "a/b/",
            "a.b/..c/c..",
            "gr\u{f6}\u{df}e",
        ] {
            assert!(check_prefix(ok).is_ok(), "{ok:?}");
        }
        for bad in [
            "//", "/a", "a//b", "a/./b", "..", "a/..", "../a", "a\nb", "a\u{7f}", "a\u{85}b",
        ] {
            assert!(check_prefix(bad).is_err(), "{bad:?}");
        }
        assert!(check_key("a/b/").is_err());
    }

    /// Library callers fill `Config` directly: the same ranges hold.
    #[test]
    fn validate_checks_the_ranges() {
        let bad = |f: &dyn Fn(&mut Config)| {
            let mut c = Config::new("/cov", "/out");
            f(&mut c);
            c.validate().unwrap_err().to_string()
        };
        assert!(bad(&|c| c.grace = Duration::MAX).contains("grace period"));
        assert!(bad(&|c| c.settle = Duration::from_secs(86401)).contains("at most 24h"));
        assert!(bad(&|c| c.rescan = Duration::ZERO).contains("at least 10ms"));
        assert!(bad(&|c| c.retry_min = Duration::ZERO).contains("first retry delay"));
        assert!(bad(&|c| c.retry_max = Duration::from_millis(100)).contains("shorter than"));
        assert!(bad(&|c| c.max_staging_bytes = 0).contains("staging limit"));
        assert!(bad(&|c| c.max_staging_bytes = u64::MAX).contains("staging limit"));
    }

    #[test]
    fn durations_and_sizes() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("1m30s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("2").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration("0.25s").unwrap(), Duration::from_millis(250));
        for bad in ["", "5x", "s", "-1", "inf", "NaN", "1e3s", "1..5s"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_size("256M").unwrap(), 256 << 20);
        assert_eq!(parse_size("10KiB").unwrap(), 10 << 10);
        assert_eq!(parse_size("77").unwrap(), 77);
        assert!(parse_size("1T").is_err());
    }
}
