//! Profiles read where CI put them: object-store URLs as inputs of every
//! command that reads profiles.
//!
//! - `gs://BUCKET/KEY` and `s3://BUCKET/KEY` (feature `cloud`; credentials
//!   from the environment, as object_store reads them), `file:///DIR/KEY`;
//! - a key ending in `/` (or empty) names every object under it;
//! - a key with `*`, `?` or `**` is a pattern: `*` and `?` stay within one
//!   `/`-separated segment, `**` spans any number of them
//!   (`gs://b/logs/job/1/artifacts/**/*.cov`);
//! - anything else names one object.
//!
//! Objects named `covmeta.*` and `covcounters.*` (Go's binary coverage
//! files) make one GOCOVERDIR input per prefix, `gs://b/dir/`, read into
//! memory whole (up to [`ObjectsOptions::max_dir_bytes`]); every other
//! object is a text profile.
//!
//! [`Objects`] lists what a URL names and streams each object into the
//! text parser (reading a few ahead, each through a bounded buffer), never
//! copying it to disk: plug it into a loader with
//! [`Loader::with_remote`](covlens_core::input::Loader::with_remote).

mod error;
mod pattern;
mod reader;
mod store;
mod url;

pub use error::Error;
pub use pattern::Pattern;
pub use reader::{ObjectReader, Objects, ObjectsOptions};
pub use store::{Scheme, open_store};
pub use url::ObjectUrl;

/// Whether `input` looks like a URL this crate reads (`gs://`, `s3://`,
/// `file://`), before any check of the rest.
pub fn is_url(input: &str) -> bool {
    ["gs://", "s3://", "file://"]
        .iter()
        .any(|s| input.starts_with(s))
}
