//! The in-memory model of a Go coverage profile.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::Error;

/// The largest count covlens stores or writes.
///
/// Go parses counts as `int64`, so anything above this could not be read back
/// by `go tool cover` or gopherage. Sums saturate here instead of wrapping.
pub const MAX_COUNT: u64 = i64::MAX as u64;

/// A coverage mode, as written on a profile's `mode:` line.
///
/// Go does not validate the mode string, so unknown modes are kept verbatim
/// and written back unchanged; only `set` changes how duplicates combine.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// `mode: set`: counts are 0 or 1 and combine with OR.
    Set,
    /// `mode: count`: counts add up.
    Count,
    /// `mode: atomic`: like `count`, written by race-safe instrumentation.
    Atomic,
    /// Anything else, kept verbatim (Go accepts any string here).
    Other(String),
}

impl Mode {
    /// Parses the text after `mode: `.
    pub fn from_name(name: &str) -> Mode {
        match name {
            "set" => Mode::Set,
            "count" => Mode::Count,
            "atomic" => Mode::Atomic,
            other => Mode::Other(other.to_string()),
        }
    }

    /// The mode's name as written after `mode: `.
    pub fn as_str(&self) -> &str {
        match self {
            Mode::Set => "set",
            Mode::Count => "count",
            Mode::Atomic => "atomic",
            Mode::Other(s) => s,
        }
    }

    /// Whether counts combine with OR rather than addition.
    pub fn is_set(&self) -> bool {
        matches!(self, Mode::Set)
    }

    /// Rank used by the `upgrade` mode policy (set < count < atomic), as
    /// `go tool covdata` does. Unknown modes have no rank.
    pub fn rank(&self) -> Option<u8> {
        match self {
            Mode::Set => Some(1),
            Mode::Count => Some(2),
            Mode::Atomic => Some(3),
            Mode::Other(_) => None,
        }
    }

    /// Combines two counts the way this mode does: OR for `set`, a sum that
    /// saturates at [`MAX_COUNT`] otherwise.
    #[inline]
    pub fn combine(&self, a: u64, b: u64) -> u64 {
        if self.is_set() {
            a | b
        } else {
            add_counts(a, b)
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Set when a sum of counts saturated; see [`counts_saturated`].
static SATURATED: AtomicBool = AtomicBool::new(false);

/// Adds two counts, saturating at [`MAX_COUNT`] (noted for
/// [`counts_saturated`]).
#[inline]
pub fn add_counts(a: u64, b: u64) -> u64 {
    match a.checked_add(b) {
        Some(s) if s <= MAX_COUNT => s,
        _ => {
            SATURATED.store(true, Ordering::Relaxed);
            MAX_COUNT
        }
    }
}

/// Whether a sum of counts saturated at [`MAX_COUNT`] since the last call,
/// in this process: a count that stopped there is smaller than the sum,
/// so the caller tells the user. Clears the flag.
pub fn counts_saturated() -> bool {
    SATURATED.swap(false, Ordering::Relaxed)
}

/// One coverage block: a source range, its statement count and its hit count.
///
/// Positions are 1-based lines and 1-based byte columns; the end is
/// exclusive, exactly as Go writes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Block {
    /// First line of the range.
    pub start_line: u32,
    /// Byte column on `start_line`.
    pub start_col: u32,
    /// Last line of the range.
    pub end_line: u32,
    /// Byte column just past the range on `end_line`.
    pub end_col: u32,
    /// Number of statements in the block.
    pub num_stmt: u32,
    /// Line of the input this block was read from (0 when synthesised).
    /// Kept for diagnostics only; it costs nothing because the struct is
    /// padded to 32 bytes by `count` anyway.
    pub src_line: u32,
    /// Hit count (0/1 in set mode).
    pub count: u64,
}

impl Block {
    /// A block with the given range, statements and count.
    pub fn new(start: (u32, u32), end: (u32, u32), num_stmt: u32, count: u64) -> Block {
        Block {
            start_line: start.0,
            start_col: start.1,
            end_line: end.0,
            end_col: end.1,
            num_stmt,
            src_line: 0,
            count,
        }
    }

    /// The sort key: start position, then end position.
    #[inline]
    pub fn key(&self) -> (u32, u32, u32, u32) {
        (self.start_line, self.start_col, self.end_line, self.end_col)
    }

    /// Whether two blocks cover the same range with the same statements.
    #[inline]
    pub fn same_shape(&self, other: &Block) -> bool {
        self.key() == other.key() && self.num_stmt == other.num_stmt
    }
}

/// All blocks of one source file, sorted by position, without duplicates.
///
/// The order is an invariant: [`FileProfile::new`] establishes it and
/// nothing outside this crate can break it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileProfile {
    /// The file name as written in the profile (usually `import/path/file.go`).
    pub(crate) name: String,
    /// Blocks sorted by [`Block::key`], each range at most once.
    pub(crate) blocks: Vec<Block>,
}

impl FileProfile {
    /// A file with `blocks` sorted by position; blocks with the same range
    /// combine as `mode` combines counts (OR for `set`, a sum otherwise).
    /// The same range with different statement counts is an error.
    pub fn new(
        name: impl Into<String>,
        mut blocks: Vec<Block>,
        mode: &Mode,
    ) -> Result<FileProfile, Error> {
        let name = name.into();
        if let Err((_, kind)) = crate::text::normalize_blocks(&mut blocks, mode.is_set()) {
            return Err(Error::Invalid(format!("{name}: {kind}")));
        }
        Ok(FileProfile { name, blocks })
    }

    /// The file name as written in the profile (usually
    /// `import/path/file.go`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The blocks, sorted by [`Block::key`], each range at most once.
    pub fn blocks(&self) -> &[Block] {
        &self.blocks
    }

    /// Statements in the file and statements with a non-zero count.
    pub fn statements(&self) -> Counts {
        let mut c = Counts::default();
        for b in &self.blocks {
            c.add_block(b);
        }
        c
    }

    /// The package (import path) of this file: everything before the last `/`.
    pub fn package(&self) -> &str {
        package_of(&self.name)
    }
}

/// The directory part of a profile file name, as Go's `path.Dir` gives it
/// for the names found in profiles.
pub fn package_of(name: &str) -> &str {
    match name.rfind('/') {
        Some(0) => "/",
        Some(i) => &name[..i],
        None => ".",
    }
}

/// Statement totals.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    /// Statements with a non-zero count.
    pub covered: u64,
    /// All statements.
    pub total: u64,
}

impl Counts {
    /// Adds one block's statements.
    #[inline]
    pub fn add_block(&mut self, b: &Block) {
        self.total += u64::from(b.num_stmt);
        if b.count > 0 {
            self.covered += u64::from(b.num_stmt);
        }
    }

    /// Adds another total into this one.
    pub fn add(&mut self, other: Counts) {
        self.covered += other.covered;
        self.total += other.total;
    }

    /// Covered share in percent, 0 when there are no statements (as
    /// `go tool cover` and `covdata` print it).
    pub fn percent(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            100.0 * self.covered as f64 / self.total as f64
        }
    }
}

/// A percentage (or percentage points) in tenths as printed with one
/// decimal: `{:.1}` rounds an exact tie (6.25) to even, as Go's `%.1f`
/// does, where `(p * 10).round()` would go up. Comparisons of printed
/// numbers (marks, drops) use this, so they never contradict the text.
pub fn printed_tenths(p: f64) -> i64 {
    let shown: f64 = format!("{p:.1}").parse().unwrap_or(0.0);
    (shown * 10.0).round() as i64
}

/// A whole profile: a mode and files sorted by name.
///
/// Files are sorted by name (byte-wise), each name once; the constructors
/// establish that order and the accessors only read, so every writer can
/// iterate [`Profile::files`] directly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Profile {
    /// The coverage mode. `None` only for an input with no mode line at all
    /// (an empty file), which Go treats as a profile with no files.
    pub(crate) mode: Option<Mode>,
    /// Files sorted by name (byte-wise), each name once.
    pub(crate) files: Vec<FileProfile>,
}

impl Profile {
    /// An empty profile with the given mode.
    pub fn new(mode: Option<Mode>) -> Profile {
        Profile {
            mode,
            files: Vec::new(),
        }
    }

    /// A profile of `files` in any order; a name given twice is an error.
    pub fn from_files(mode: Option<Mode>, files: Vec<FileProfile>) -> Result<Profile, Error> {
        let mut p = Profile { mode, files };
        p.sort_files();
        if let Some(w) = p.files.windows(2).find(|w| w[0].name == w[1].name) {
            return Err(Error::Invalid(format!("{}: file given twice", w[0].name)));
        }
        Ok(p)
    }

    /// The coverage mode; `None` only for an input with no mode line at all
    /// (an empty file), which Go treats as a profile with no files.
    pub fn mode(&self) -> Option<&Mode> {
        self.mode.as_ref()
    }

    /// The files, sorted by name (byte-wise), each name once.
    pub fn files(&self) -> &[FileProfile] {
        &self.files
    }

    /// Number of blocks in all files.
    pub fn block_count(&self) -> usize {
        self.files.iter().map(|f| f.blocks.len()).sum()
    }

    /// Whether the profile has no blocks.
    pub fn is_empty(&self) -> bool {
        self.files.iter().all(|f| f.blocks.is_empty())
    }

    /// Totals over every file.
    pub fn statements(&self) -> Counts {
        let mut c = Counts::default();
        for f in &self.files {
            c.add(f.statements());
        }
        c
    }

    /// Looks a file up by name (files are sorted, so this is a binary search).
    pub fn file(&self, name: &str) -> Option<&FileProfile> {
        self.files
            .binary_search_by(|f| f.name.as_str().cmp(name))
            .ok()
            .map(|i| &self.files[i])
    }

    /// Restores the invariants after files were added out of order: files
    /// sorted by name. Blocks must already be normalised.
    pub(crate) fn sort_files(&mut self) {
        if !self.files.windows(2).all(|w| w[0].name < w[1].name) {
            self.files.sort_by(|a, b| a.name.cmp(&b.name));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors_establish_the_order() {
        let b = |l, n, c| Block::new((l, 1), (l, 9), n, c);
        let f = FileProfile::new(
            "p/b.go",
            vec![b(3, 1, 1), b(1, 2, 0), b(3, 1, 2)],
            &Mode::Set,
        )
        .unwrap();
        assert_eq!(
            f.blocks().iter().map(|x| x.count).collect::<Vec<_>>(),
            [0, 3]
        );
        let err = FileProfile::new("x.go", vec![b(1, 1, 0), b(1, 2, 0)], &Mode::Count);
        assert!(
            err.unwrap_err()
                .to_string()
                .starts_with("x.go: inconsistent NumStmt")
        );
        let a = FileProfile::new("p/a.go", vec![b(1, 1, 4)], &Mode::Set).unwrap();
        let p = Profile::from_files(Some(Mode::Set), vec![f.clone(), a.clone()]).unwrap();
        assert_eq!(
            p.files().iter().map(FileProfile::name).collect::<Vec<_>>(),
            ["p/a.go", "p/b.go"]
        );
        assert_eq!(p.file("p/b.go"), Some(&f));
        assert!(Profile::from_files(None, vec![a.clone(), a]).is_err());
    }
}
