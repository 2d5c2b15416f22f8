//! Per-function coverage, as `go tool cover -func` prints it.
//!
//! Three parts, each usable on its own:
//!
//! * [`FuncFinder`] finds the function declarations of a Go source file with
//!   tree-sitter-go and reports their extents exactly as `go/parser` would
//!   (byte columns, `//line` directives applied).
//! * [`SourceResolver`] maps a profile's file name (`import/path/file.go`)
//!   to a file on disk the way `go list` would, but without running it:
//!   from `go.mod`/`go.work`, `vendor/`, the module cache and `GOROOT`.
//! * [`FuncWriter`] lays the rows out like Go's `text/tabwriter`, and
//!   [`write_func_report`] ties everything together.

mod extents;
mod report;
mod resolve;
mod tabwriter;

pub use self::extents::{
    Annotations, FuncExtent, FuncFinder, IgnoredRange, find_funcs, funcs_coverage,
};
pub use self::report::{FuncWriter, write_func_report};
pub use self::resolve::{MAX_SOURCE_BYTES, SourceResolver, SourceResolverBuilder};
