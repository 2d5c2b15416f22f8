//! covlens' report library: everything covlens shows people, computed from
//! [`covlens_core`] profiles and laid out through minijinja templates. The
//! `covlens` CLI and the Prow reporter call the same functions.
//!
//! # What it computes
//!
//! The coverage numbers themselves come from the core (statement counts
//! per file, rollups, function extents). This crate turns them into the
//! views of a report, each a typed serde model:
//!
//! - the **branch table** ([`Table`]): packages or directories as rows
//!   ([`table_rows`]), branches as columns, ▲/▼ where a column is higher or
//!   lower than the next, older one, in Markdown, HTML or JSON;
//! - the **pull-request comment** ([`Comment`]): a unified diff is parsed
//!   ([`parse_diff`], git's quoted paths included), its paths mapped to
//!   profile names ([`PathMap`]), and the change in coverage is ranked by
//!   size: packages, changed files with the statements on added lines,
//!   uncovered changed lines. [`write_comment`] renders it under GitHub's
//!   size limit, cutting lists as needed;
//! - the **report site** ([`write_site`]): a directory tree with counts per
//!   column, a search index, and per file its source coloured by block
//!   counts as `go tool cover -html` colours it, with its functions;
//! - the same report as **one HTML file** ([`write_page`]), the **badge**
//!   ([`Badge`]) and **summary** rollups ([`write_summary`]);
//! - **annotations** ([`Annotation`]): notes on lines of a file as GitHub's
//!   Checks API takes them.
//!
//! # Templates
//!
//! Every format is a minijinja 3 template embedded in the binary; models
//! keep numbers as numbers and the templates format them. The environment
//! is built once per process. Escaping is decided by the template's
//! extension and applied by one formatter: `.html` and `.svg` through
//! [`html_escape`], `.md` through [`md_escape`], so a name from a profile
//! or a diff cannot reach a page or a comment unescaped; JSON placed in a
//! script goes through [`script_json`]. Undefined values are errors, not
//! empty cells.
//!
//! # Output
//!
//! Single documents are written to any [`std::io::Write`]. The site is many
//! files, handed one by one to a [`SiteSink`] (`put(path, bytes)`):
//! [`DirSink`] writes a local directory (each file through a temporary file
//! renamed into place), [`MemorySink`] keeps them for callers that upload
//! to an object store themselves.

#![deny(missing_docs)]

mod annotation;
mod badge;
mod columns;
mod comment;
mod escape;
mod render;
mod site;
mod stat;
mod summary;
mod table;
mod trend;

pub use crate::annotation::{Annotation, AnnotationLevel};
pub use crate::badge::{Badge, write_badge};
pub use crate::columns::{named_column, report_root};
pub use crate::comment::{
    ANNOTATED_BASE_NEEDS_DIFF, Annotated, BaseSources, COMMENT_MARKER, ChangedStatements, Comment,
    CommentFit, CommentLeftOut, DeltaRow, DiffError, DiffFile, FuncDelta, LostFunctions,
    MAX_RANGES, MAX_SOURCE_FILES, Origin, PathMap, Provenance, PullBase, SourceFile, Uncovered,
    changed_statements, github_len, go_mod_module, leave_out_annotated, lost_functions,
    min_comment_chars, parse_diff, read_diff_file, read_sources, same_commit, source_files,
    write_comment,
};
pub use crate::escape::{
    ScriptContext, WORD_JOINER, html_escape, md_code, md_code_in_table, md_escape, script_json,
};
pub use crate::site::{
    DirSink, LeftOut, LeftOutColumn, MAX_LOST_FUNCTION_FILES, MemorySink, NoSources, SiteExtras,
    SiteOptions, SiteSink, SiteStats, Sources, source_lines, write_page, write_page_with_extras,
    write_site, write_site_with, write_site_with_extras,
};
pub use crate::stat::{Mark, Stat};
pub use crate::summary::{SummaryBy, SummaryFormat, write_summary};
pub use crate::table::{
    Cell, Column, Table, TableFormat, TableRow, TableRows, group_rows, table_rows,
    table_rows_under, write_table,
};
pub use crate::trend::{BelowTrend, SPARK_SIZE, Trend, TrendRule, sparkline_svg, sparkline_text};

/// What can go wrong while rendering or writing a report.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A template failed (a bug in a template or in the data model).
    #[error("template {name} failed")]
    Template {
        /// The template's name.
        name: &'static str,
        /// minijinja's error.
        #[source]
        source: minijinja::Error,
    },
    /// Writing the output failed.
    #[error("cannot write the report")]
    Write(#[source] std::io::Error),
    /// A site file could not be stored.
    #[error("cannot store site file {path}")]
    Sink {
        /// The file, relative to the site.
        path: String,
        /// The sink's error.
        #[source]
        source: std::io::Error,
    },
    /// A comment limit too small for the comment's marker line.
    #[error(
        "a comment limit of {max_chars} characters cannot hold the comment's marker line \
         and the note that it was cut; the limit must be at least {min}"
    )]
    LimitTooSmall {
        /// The limit asked for.
        max_chars: usize,
        /// The smallest limit accepted ([`min_comment_chars`]).
        min: usize,
    },
    /// A file is outside the root asked for: a report under that root
    /// would leave its counts out.
    #[error("{file} is not under the root {root}/")]
    OutsideRoot {
        /// The file's name in the profile.
        file: String,
        /// The root.
        root: String,
    },
    /// A diff file could not be read.
    #[error("cannot read {path}")]
    ReadDiff {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A diff file is not a unified diff (the line and what was expected).
    #[error("{path}:{diff}")]
    BadDiff {
        /// The file.
        path: String,
        /// Where and why.
        diff: DiffError,
    },
    /// Serialising report data failed.
    #[error("cannot serialise report data")]
    Json(#[source] serde_json::Error),
}

/// A profile from its text, for unit tests.
#[cfg(test)]
pub(crate) fn test_profile(text: &str) -> covlens_core::Profile {
    covlens_core::parse_bytes(
        text.as_bytes(),
        "test.out",
        &covlens_core::ParseOptions::default(),
    )
    .expect("test profile parses")
}
