/*!
covlens-collector ships coverage snapshots of long-running Go binaries from
a shared volume to a directory or a bucket, as a sidecar.

The source is either a GOCOVERDIR (binary files written by `go build -cover`
binaries, e.g. through the `covflush` Go package in `collector/go`) or a text
profile rewritten in place (Kubernetes' `KUBE_COVERAGE_FILE`). Every file is
copied only once it is stable, then validated (binary files against their
headers, text files with covlens-core's parser and the completeness rules of
collector/README.md); a file that is partial or corrupt is never shipped.

Snapshots are cumulative: for one process only the newest matters. The
collector keeps exactly one file per process at the destination (a newer one
replaces the older), and keeps processes apart even when a restarted
container reuses the pid. At the destination, `covdata/` is a GOCOVERDIR
that `go tool covdata` reads directly, `text/NNNN-<name>` holds one text
profile per process generation, and `metadata/` a JSON document per snapshot
(pod, node, container, Prow job); the keys and the document are
`covlens_prow::layout`'s.

Snapshots are staged on disk first (journal + content-addressed objects), so
a crashed collector resumes without duplicates or losses, and an unreachable
destination only delays uploads (bounded by [`Config::max_staging_bytes`]).

The entry points: [`run`] (until SIGTERM or a Prow marker) or [`run_until`]
with a [`Config`]; [`CollectArgs`] and [`run_cli`] for the `covlens collect`
and `covlens-collect` command lines.

```no_run
let mut cfg = covlens_collector::Config::new("/coverage", "/logs/artifacts");
cfg.once = true;
let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
let summary = rt.block_on(covlens_collector::run(cfg))?;
assert_eq!(summary.pending, 0);
# Ok::<(), Box<dyn std::error::Error>>(())
```

Inside: `scan` (the synchronous core: scanning a GOCOVERDIR or a text
profile, staging what is complete), `text` (when a text profile is
complete), `staging` (journal and objects), `dest` (directory or object
store), `run` (the async driver), `metrics` (`/metrics`, `/healthz`).
*/
#![deny(missing_docs)]

mod cli;
mod config;
mod dest;
mod error;
mod fsat;
mod metrics;
mod run;
mod scan;
mod staging;
mod text;

pub use crate::cli::{CollectArgs, run_cli};
pub use crate::config::{Config, Identity, Layout, SourceKind, TextWriter};
pub use crate::error::{CollectorError, Result};
pub use crate::metrics::Metrics;
pub use crate::run::{StopReason, Summary, run, run_until};
