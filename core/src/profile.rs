//! The in-memory model of a Go coverage profile.

use std::fmt;

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

/// Adds two counts, saturating at [`MAX_COUNT`].
#[inline]
pub fn add_counts(a: u64, b: u64) -> u64 {
    a.saturating_add(b).min(MAX_COUNT)
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
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileProfile {
    /// The file name as written in the profile (usually `import/path/file.go`).
    pub name: String,
    /// Blocks sorted by [`Block::key`], each range at most once.
    pub blocks: Vec<Block>,
}

impl FileProfile {
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

/// A whole profile: a mode and files sorted by name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Profile {
    /// The coverage mode. `None` only for an input with no mode line at all
    /// (an empty file), which Go treats as a profile with no files.
    pub mode: Option<Mode>,
    /// Files sorted by name (byte-wise), each name once.
    pub files: Vec<FileProfile>,
}

impl Profile {
    /// An empty profile with the given mode.
    pub fn new(mode: Option<Mode>) -> Profile {
        Profile {
            mode,
            files: Vec::new(),
        }
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
    pub fn sort_files(&mut self) {
        if !self.files.windows(2).all(|w| w[0].name < w[1].name) {
            self.files.sort_by(|a, b| a.name.cmp(&b.name));
        }
    }
}
