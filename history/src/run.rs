//! What a run is: its provenance, its per-file numbers, and the digest that
//! makes a second recording of the same run comparable.

use std::collections::HashSet;

use covlens_core::Counts;
use serde::Serialize;
use xxhash_rust::xxh3::xxh3_128;

use crate::error::{Error, Result, RunDigest};
use crate::time::Timestamp;

/// Who recorded a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// `covlens history record`.
    Cli,
    /// The Prow reporter.
    Prow,
}

impl Source {
    /// The name stored in the `source` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Cli => "cli",
            Source::Prow => "prow",
        }
    }
}

/// A run about to be recorded. `(job, build)` identifies it.
#[derive(Clone, Debug)]
pub struct NewRun<'a> {
    /// The job (a Prow job name, or any name a CLI user picks).
    pub job: &'a str,
    /// The build id within the job.
    pub build: &'a str,
    /// The branch the run tested, if known.
    pub branch: Option<&'a str>,
    /// The commit the run tested, if known.
    pub commit: Option<&'a str>,
    /// When the run happened; runs are ordered by it.
    pub time: Timestamp,
    /// Who records it.
    pub source: Source,
}

impl NewRun<'_> {
    pub(crate) fn check(&self) -> Result<()> {
        if self.job.is_empty() {
            return Err(Error::Empty("job name"));
        }
        if self.build.is_empty() {
            return Err(Error::Empty("build id"));
        }
        Ok(())
    }
}

/// One file's numbers in a run: statements, and statements covered.
#[derive(Clone, Copy, Debug)]
pub struct FileCounts<'a> {
    /// The file name as the profile writes it (`import/path/file.go`).
    pub name: &'a str,
    /// Its statements.
    pub counts: Counts,
}

/// Per-file numbers of every file of a profile, in the profile's order.
pub fn profile_files(p: &covlens_core::Profile) -> impl Iterator<Item = FileCounts<'_>> + '_ {
    p.files().iter().map(|f| FileCounts {
        name: f.name(),
        counts: f.statements(),
    })
}

/// What [`crate::Store::record`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recorded {
    /// The run is new and now stored.
    New {
        /// Files stored.
        files: u64,
        /// Their total.
        counts: Counts,
    },
    /// The same run with the same data was already stored; nothing changed.
    Unchanged,
}

/// A stored run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Run {
    /// The store's id of the run.
    #[serde(skip)]
    pub id: i64,
    /// The job.
    pub job: String,
    /// The build id.
    pub build: String,
    /// The branch, if it was given.
    pub branch: Option<String>,
    /// The commit, if it was given.
    pub commit: Option<String>,
    /// When the run happened.
    pub time: Timestamp,
    /// Who recorded it (`cli`, `prow`).
    pub source: String,
    /// Number of files.
    pub files: u64,
    /// Statements of the whole run.
    #[serde(flatten)]
    pub counts: Counts,
    /// Over how many runs of the job its flaky coverage was measured
    /// (`record --flaky-from`); `None` when it was not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flaky_runs: Option<u32>,
}

/// Accumulates the numbers and digest of a run's files while they stream
/// into a store, and refuses a file listed twice.
pub(crate) struct Tally {
    files: u64,
    counts: Counts,
    digest: u128,
    seen: HashSet<u128>,
}

impl Tally {
    pub(crate) fn new() -> Tally {
        Tally {
            files: 0,
            counts: Counts::default(),
            digest: 0,
            seen: HashSet::new(),
        }
    }

    /// Adds one file; returns its numbers as the store's columns hold them.
    pub(crate) fn add(&mut self, f: &FileCounts<'_>) -> Result<(i32, i32)> {
        let (Ok(s), Ok(c)) = (
            i32::try_from(f.counts.total),
            i32::try_from(f.counts.covered),
        ) else {
            return Err(Error::TooLarge {
                name: f.name.to_string(),
                statements: f.counts.total,
            });
        };
        if !self.seen.insert(xxh3_128(f.name.as_bytes())) {
            return Err(Error::DuplicateFile(f.name.to_string()));
        }
        let mut buf = Vec::with_capacity(f.name.len() + 17);
        buf.extend_from_slice(f.name.as_bytes());
        buf.push(0);
        buf.extend_from_slice(&f.counts.total.to_le_bytes());
        buf.extend_from_slice(&f.counts.covered.to_le_bytes());
        // A sum of per-file hashes does not depend on the files' order.
        self.digest = self.digest.wrapping_add(xxh3_128(&buf));
        self.files += 1;
        self.counts.add(f.counts);
        Ok((s, c))
    }

    pub(crate) fn files(&self) -> u64 {
        self.files
    }

    pub(crate) fn counts(&self) -> Counts {
        self.counts
    }

    pub(crate) fn digest_hex(&self) -> String {
        format!("{:032x}", self.digest)
    }

    pub(crate) fn summary(&self, run: &NewRun<'_>) -> RunDigest {
        RunDigest {
            branch: run.branch.map(str::to_string),
            commit: run.commit.map(str::to_string),
            files: self.files,
            covered: self.counts.covered,
            statements: self.counts.total,
            digest: self.digest_hex(),
        }
    }

    /// Tallies the rest of `files` without storing them.
    pub(crate) fn drain<'a>(
        &mut self,
        files: &mut dyn Iterator<Item = FileCounts<'a>>,
    ) -> Result<()> {
        for f in files {
            self.add(&f)?;
        }
        Ok(())
    }
}

/// The outcome of recording a run whose key is already stored: a no-op when
/// the data is the same, an error when it differs.
pub(crate) fn compare_existing(
    run: &NewRun<'_>,
    stored: RunDigest,
    new: RunDigest,
) -> Result<Recorded> {
    if stored == new {
        Ok(Recorded::Unchanged)
    } else {
        Err(Error::Conflict {
            job: run.job.to_string(),
            build: run.build.to_string(),
            stored: Box::new(stored),
            new: Box::new(new),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fc(name: &str, total: u64, covered: u64) -> FileCounts<'_> {
        FileCounts {
            name,
            counts: Counts { covered, total },
        }
    }

    #[test]
    fn digest_ignores_order_and_sees_numbers() {
        let mut a = Tally::new();
        a.add(&fc("a/x.go", 3, 1)).unwrap();
        a.add(&fc("b/y.go", 5, 5)).unwrap();
        let mut b = Tally::new();
        b.add(&fc("b/y.go", 5, 5)).unwrap();
        b.add(&fc("a/x.go", 3, 1)).unwrap();
        assert_eq!(a.digest_hex(), b.digest_hex());
        let mut c = Tally::new();
        c.add(&fc("a/x.go", 3, 2)).unwrap();
        c.add(&fc("b/y.go", 5, 4)).unwrap();
        assert_eq!(a.counts(), c.counts());
        assert_ne!(a.digest_hex(), c.digest_hex());
        assert!(matches!(
            c.add(&fc("a/x.go", 3, 2)),
            Err(Error::DuplicateFile(_))
        ));
    }
}

/// Flaky coverage of one package, as recorded with a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlakyCounts<'a> {
    /// Package import path.
    pub package: &'a str,
    /// Statements covered in some but not all runs.
    pub statements: u64,
    /// Blocks covered in some but not all runs.
    pub blocks: u64,
}
