//! Recording a merged profile with its flaky coverage, opening stores by
//! name, and the trends reports draw from a job's runs.

use std::io::{self, Write};

use covlens_core::Profile;
use covlens_core::flaky::FlakyReport;
use covlens_core::owners::{OwnerBy, OwnersTree};
use covlens_core::printable::printable;

use crate::error::{Error, Result};
use crate::run::{FlakyCounts, NewRun, Recorded, profile_files};
use crate::trend::{History, HistoryQuery};
use crate::{Store, redacted};

impl Store {
    /// [`Store::open`] (or [`Store::open_existing`] unless `create`), the
    /// error naming the store ([`redacted`]).
    pub fn open_named(location: &str, create: bool) -> Result<Store> {
        let opened = if create {
            Store::open(location)
        } else {
            Store::open_existing(location)
        };
        opened.map_err(|e| Error::Open {
            store: redacted(location),
            source: Box::new(e),
        })
    }

    /// [`Store::open_reader`], errors naming the store.
    pub fn open_named_reader(location: &str) -> Result<Store> {
        Store::open_reader(location).map_err(|e| Error::Open {
            store: redacted(location),
            source: Box::new(e),
        })
    }

    /// Records `profile` as `run` and, when given, the flaky coverage
    /// measured over runs of its job with it.
    pub fn record_profile(
        &mut self,
        run: &NewRun<'_>,
        profile: &Profile,
        flaky: Option<&FlakyReport>,
    ) -> Result<Recorded> {
        let got = self.record(run, profile_files(profile))?;
        if let Some(f) = flaky {
            let packages = f.packages.iter().map(|p| FlakyCounts {
                package: &p.name,
                statements: p.statements,
                blocks: p.blocks,
            });
            self.record_flaky(run.job, run.build, f.runs, packages)?;
        }
        Ok(got)
    }

    /// [`Store::history`] with a row per owner or per label of `tree`.
    pub fn history_grouped(
        &mut self,
        q: &HistoryQuery<'_>,
        tree: &OwnersTree,
        by: OwnerBy,
    ) -> Result<History> {
        let name = match by {
            OwnerBy::Owner => "owner",
            OwnerBy::Label => "label",
        };
        self.history_by(q, name, &mut |file: &str| tree.groups_of(file, by))
    }
}

/// Fails unless `profile` has a file to record.
pub fn check_recordable(profile: &Profile) -> Result<()> {
    match profile_files(profile).next() {
        Some(_) => Ok(()),
        None => Err(Error::NothingToRecord),
    }
}

/// Says what [`Store::record_profile`] did: the flaky coverage recorded
/// (if any), then the run.
pub fn write_recorded<W: Write>(
    w: &mut W,
    run: &NewRun<'_>,
    got: &Recorded,
    flaky: Option<&FlakyReport>,
) -> io::Result<()> {
    if let Some(f) = flaky {
        writeln!(
            w,
            "flaky coverage over {} runs: {} statements in {} packages",
            f.runs,
            f.flaky,
            f.packages.iter().filter(|p| p.statements > 0).count()
        )?;
    }
    let (job, build) = (printable(run.job), printable(run.build));
    match got {
        Recorded::New { files, counts } => writeln!(
            w,
            "recorded job {job} build {build}: {files} files, {}/{} statements covered ({:.1}%)",
            counts.covered,
            counts.total,
            counts.percent()
        ),
        Recorded::Unchanged => writeln!(
            w,
            "job {job} build {build} is already recorded with the same data; nothing changed"
        ),
    }
}

/// Where a report draws its per-row trends from: the last runs of a job
/// in a store.
#[derive(Clone, Copy, Debug)]
pub struct Trends<'a> {
    /// The store's location (see [`Store::open`]); it must exist.
    pub store: &'a str,
    /// The job whose runs make the trends.
    pub job: &'a str,
    /// How many of its last runs.
    pub last: usize,
}

impl Trends<'_> {
    /// Per package, or per directory of at most `depth` elements counted
    /// from the start of the import path (callers add their root's depth;
    /// rows outside it stay).
    pub fn history(&self, depth: Option<usize>) -> Result<History> {
        Store::open_named_reader(self.store)?.history(&HistoryQuery {
            job: self.job,
            path: None,
            depth,
            root: Some(""),
            last: self.last,
        })
    }

    /// A row per owner or label of `tree`.
    pub fn history_grouped(&self, tree: &OwnersTree, by: OwnerBy) -> Result<History> {
        let q = HistoryQuery {
            job: self.job,
            path: None,
            depth: None,
            root: None,
            last: self.last,
        };
        Store::open_named_reader(self.store)?.history_grouped(&q, tree, by)
    }
}
