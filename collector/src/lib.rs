/*!
covlens-collector ships coverage snapshots of long-running Go binaries from
a shared volume to a directory or a bucket, as a sidecar.

The source is either a GOCOVERDIR (binary files written by `go build -cover`
binaries, e.g. through the `covflush` Go package in `collector/go`) or a text
profile rewritten in place (Kubernetes' `KUBE_COVERAGE_FILE`). Every file is
copied only once it is stable, then validated (binary files against their
headers, text files with covlens-core's parser and the layout rules in
[`text`]); a file that is partial or corrupt is never shipped.

Snapshots are cumulative: for one process only the newest matters. The
collector keeps exactly one file per process at the destination (a newer one
replaces the older), and keeps processes apart even when a restarted
container reuses the pid (see [`scan`]). At the
destination, `covdata/` is a GOCOVERDIR that `go tool covdata` reads
directly, `text/NNNN-<name>` holds one text profile per process generation,
and `metadata/` a JSON document per snapshot (pod, node, container, Prow job).

Snapshots are staged on disk first (journal + content-addressed objects), so
a crashed collector resumes without duplicates or losses, and an unreachable
destination only delays uploads (bounded by `--max-staging-bytes`).
*/
#![deny(missing_docs)]

pub mod cli;
pub mod config;
pub mod dest;
pub mod error;
pub mod metrics;
pub mod run;
pub mod scan;
pub mod staging;
pub mod text;

pub use crate::cli::{CollectArgs, run_cli};
pub use crate::config::{Config, Identity, Layout, SourceKind, TextWriter};
pub use crate::dest::Dest;
pub use crate::error::{CollectorError, Result};
pub use crate::metrics::Metrics;
pub use crate::run::{StopReason, Summary, run, run_until};
pub use crate::scan::{Collector, ScanReport, Upload};
