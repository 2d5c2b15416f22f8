/*!
covlens-core reads, combines and reports Go coverage profiles.

The text format is the one `go test -coverprofile` writes; see
[`parse_path`] for what is accepted and [`write_profile`] for output. All
operations take and return [`Profile`] values whose files are sorted by name
and whose blocks are sorted by position, so writers iterate them directly;
the order is kept behind [`Profile::files`] and [`FileProfile::blocks`].

Where things are:
- reading: [`parse_path`] and friends (text profiles), [`covdata`] (Go's
  binary GOCOVERDIR data), and [`input`], which loads whatever a command
  names (files, `-`, directories), batches small files, and combines many
  inputs ([`input::Loader::merge`]; [`input::Loader::merge_into`] writes
  the result, merging large profiles of one program without parsing them
  into blocks); warnings come back as data;
- combining: [`Merger`], [`diff`], [`filter`];
- writing: [`write_profile`], [`write_junit`], [`convert`], [`summarize`],
  [`metadata`], [`explain`] (statements versus line-based counts), all generic over `io::Write`, and [`output`], the atomic
  output file every binary writes through (terminal-safe on a terminal);
- showing names to people: [`printable`], the escaping of controls every
  plain-text printer and error message uses;
- errors: [`Error`], whose `Display` never repeats its source: print the
  chain (`{:#}` with anyhow). Messages name no command-line flags.

```
use covlens_core::{parse_bytes, write_profile, ParseOptions};
let p = parse_bytes(b"mode: set\na.go:1.1,2.2 1 1\n", "a.out", &ParseOptions::default())?;
let mut out = Vec::new();
write_profile(&mut out, &p)?;
assert_eq!(out, b"mode: set\na.go:1.1,2.2 1 1\n");
# Ok::<(), Box<dyn std::error::Error>>(())
```
*/
#![deny(missing_docs)]

mod convert;
pub mod covdata;
mod error;
mod explain;
pub mod flaky;
#[cfg(feature = "funcs")]
mod funcs;
pub mod git;
mod gomod;
pub mod gopath;
pub mod goregex;
#[cfg(feature = "funcs")]
pub mod ignore;
pub mod input;
mod junit;
pub mod markdown;
pub mod metadata;
mod mmap;
mod ops;
pub mod output;
pub mod owners;
pub mod printable;
mod profile;
mod summary;
mod text;
mod within;
mod write;

pub use crate::convert::{
    Clipped, CoberturaCounts, ConvertFormat, ConvertOptions, ConvertStats, JSON_VERSION, LineHit,
    LineHits, LineRun, MAX_FILE_LINES, convert, line_hits, line_runs, write_cobertura, write_json,
    write_lcov,
};
pub use crate::error::{Conflict, Error, ParseError, ParseErrorKind};
pub use crate::explain::{
    ExplainBy, ExplainFormat, ExplainRow, Explanation, ThreeWays, explain, write_explain,
};
#[cfg(feature = "funcs")]
pub use crate::funcs::{
    Annotations, FuncExtent, FuncFinder, FuncWriter, IgnoredRange, MAX_SOURCE_BYTES,
    SourceResolver, SourceResolverBuilder, find_funcs, funcs_coverage, write_func_report,
};
pub use crate::gomod::module_path;
pub use crate::junit::write_junit;
pub use crate::ops::{
    Combine, MergeOptions, Merger, OnConflict, RestartPolicy, SetOp, diff, filter, path_regex,
    set_op, split_patterns, to_boolean, write_conflicts,
};
pub use crate::profile::{
    Block, Counts, FileProfile, MAX_COUNT, Mode, Profile, add_counts, counts_saturated, package_of,
    printed_tenths,
};
pub use crate::summary::{Row, Summary, common_dir, summarize, summarize_under, under_root};
pub use crate::text::{
    MAX_LINE, ModePolicy, ParseOptions, RawProfile, TextParser, parse_bytes, parse_path,
    parse_reader,
};
pub use crate::write::write_profile;
