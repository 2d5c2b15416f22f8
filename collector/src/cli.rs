//! `covlens collect` / `covlens-collect` options.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::config::{
    Config, Identity, Layout, SourceKind, TextWriter, args as parse, default_markers, defaults,
};
use crate::error::{CollectorError, Result, esc};
use crate::run::{StopReason, run};

/// Ship coverage snapshots of a long-running Go binary (a GOCOVERDIR or a
/// KUBE_COVERAGE_FILE text profile) to a directory or bucket, without ever
/// shipping a partial one.
#[derive(Args, Clone, Debug)]
pub struct CollectArgs {
    /// Text profile (KUBE_COVERAGE_FILE) or GOCOVERDIR directory to watch.
    #[arg(long, value_name = "PATH")]
    pub watch: PathBuf,
    /// Destination: a directory, file://PATH, gs://BUCKET/PREFIX or
    /// s3://BUCKET/PREFIX (the last two need the `cloud` feature).
    #[arg(long, value_name = "DEST")]
    pub dest: String,
    /// What PATH holds (auto: a directory is a GOCOVERDIR).
    #[arg(long, value_enum, default_value_t)]
    pub kind: SourceKind,
    /// Staging directory, on a volume that survives collector restarts
    /// [default: PATH's directory/.covlens-staging].
    #[arg(long, value_name = "DIR")]
    pub staging: Option<PathBuf>,
    /// How long a file must stay unchanged before it is copied.
    #[arg(long, default_value = defaults::SETTLE, value_parser = parse::settle)]
    pub settle: Duration,
    /// Period of the full rescan (watch events only speed things up).
    #[arg(long, default_value = defaults::RESCAN, value_parser = parse::rescan)]
    pub rescan: Duration,
    /// Time for the last collection and upload after SIGTERM or the marker.
    #[arg(long, default_value = defaults::GRACE, value_parser = parse::grace)]
    pub grace: Duration,
    /// Bound on staged bytes; superseded snapshots are dropped first.
    #[arg(
        long,
        default_value = defaults::MAX_STAGING_BYTES,
        value_parser = parse::max_staging_bytes,
        value_name = "BYTES"
    )]
    pub max_staging_bytes: u64,
    /// How the text profile is written: in place (new layouts need a second
    /// write to confirm) or by rename (every parseable file is complete).
    #[arg(long, value_enum, default_value_t)]
    pub text_writer: TextWriter,
    /// Stop (after a last collection) when this file appears; repeatable
    /// [default in Prow jobs: /logs/marker-file.txt, /logs/test-marker.txt].
    #[arg(long = "prow-marker", value_name = "PATH")]
    pub prow_markers: Vec<PathBuf>,
    /// Do not watch for Prow marker files.
    #[arg(long, conflicts_with = "prow_markers")]
    pub no_prow_marker: bool,
    /// Destination layout (auto: Prow's job path when JOB_NAME and BUILD_ID
    /// are set).
    #[arg(long, value_enum, default_value_t)]
    pub layout: Layout,
    /// Prefix before the Prow job path (Prow's path_prefix).
    #[arg(long, default_value_t, value_name = "PREFIX")]
    pub path_prefix: String,
    /// The watched component's container name [default: $COVLENS_CONTAINER
    /// or "component"].
    #[arg(long, value_name = "NAME")]
    pub container: Option<String>,
    /// Serve /healthz and /metrics (Prometheus) on this address.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Keep superseded snapshots at the destination.
    #[arg(long)]
    pub keep_history: bool,
    /// Collect and upload once, then exit.
    #[arg(long)]
    pub once: bool,
    /// First retry delay after a failed upload (doubles each time).
    #[arg(long, default_value = defaults::RETRY_MIN, value_parser = parse::retry_min)]
    pub retry_min: Duration,
    /// Longest retry delay.
    #[arg(long, default_value = defaults::RETRY_MAX, value_parser = parse::retry_max)]
    pub retry_max: Duration,
}

impl CollectArgs {
    /// The configuration these options describe.
    pub fn to_config(&self) -> Config {
        let mut identity = Identity::from_env();
        if let Some(c) = &self.container {
            identity.container.clone_from(c);
        }
        let markers = if self.no_prow_marker {
            Vec::new()
        } else if self.prow_markers.is_empty() {
            default_markers(&identity)
        } else {
            self.prow_markers.clone()
        };
        Config {
            watch: self.watch.clone(),
            kind: self.kind,
            dest: self.dest.clone(),
            staging: self.staging.clone(),
            settle: self.settle,
            rescan: self.rescan,
            grace: self.grace,
            max_staging_bytes: self.max_staging_bytes,
            text_writer: self.text_writer,
            markers,
            layout: self.layout,
            path_prefix: self.path_prefix.clone(),
            identity,
            listen: self.listen,
            keep_history: self.keep_history,
            once: self.once,
            retry_min: self.retry_min,
            retry_max: self.retry_max.max(self.retry_min),
        }
    }
}

/// A sidecar's resident memory should fall back after each snapshot: glibc
/// otherwise raises its mmap threshold after the first large free and keeps
/// later large buffers on per-thread heaps it seldom returns.
#[allow(unsafe_code)]
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters; it is called before
    // the runtime starts its threads.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 << 10);
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// Runs the collector on a single-threaded tokio runtime (CPU work goes to
/// blocking threads). An error after the last collection if snapshots are
/// left pending (they stay staged for the next run) or the last scan
/// failed: a collector that shipped less than it found never exits 0.
pub fn run_cli(args: &CollectArgs) -> Result<()> {
    let cfg = args.to_config();
    tune_allocator();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CollectorError::io("starting", "tokio runtime", e))?;
    let summary = rt.block_on(run(cfg))?;
    if let StopReason::Marker(m) = &summary.reason {
        tracing::info!(marker = %esc(m), "stopped by marker");
    }
    // One line even when logging is off (`covlens` logs errors only unless
    // COVLENS_LOG is set).
    let m = &summary.metrics;
    let get = |a: &std::sync::atomic::AtomicU64| a.load(std::sync::atomic::Ordering::Relaxed);
    eprintln!(
        "covlens collect: {} snapshots taken, {} uploaded, {} rejected, {} upload errors, {} left staged",
        get(&m.snapshots_taken),
        get(&m.snapshots_uploaded),
        get(&m.rejected_corrupt) + get(&m.rejected_partial),
        get(&m.upload_errors),
        summary.pending
    );
    // Blocking threads may still be reading; do not wait for them.
    rt.shutdown_timeout(Duration::from_millis(100));
    summary.check()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: CollectArgs,
    }

    #[test]
    fn command_line_defaults_are_the_config_defaults() {
        let cli =
            Cli::try_parse_from(["covlens-collect", "--watch", "/cov", "--dest", "/out"]).unwrap();
        assert_eq!(cli.args.to_config(), Config::new("/cov", "/out"));
    }
}
