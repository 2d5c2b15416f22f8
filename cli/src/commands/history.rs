//! `history record|show|drops`: the coverage history store (covlens-history).

use std::io::Write;

use anyhow::Result;
use clap::{Args, Subcommand};
use covlens_core::OnConflict;
use covlens_core::owners::{OwnerBy, OwnersTree};
use covlens_core::printable::printable;
use covlens_history::{
    DEFAULT_STORE, Format, History, HistoryQuery, NewRun, Source, Store, Timestamp, Trends,
    check_recordable, write_drops, write_history, write_recorded,
};

use super::{Names, Out, choice};
use crate::input::{InputArgs, with_loader};

#[derive(Subcommand, Debug)]
pub enum HistoryCommand {
    /// Record a run: per file, statements and covered statements (several
    /// inputs are merged first, as `covlens merge` does). Recording the same
    /// job and build again is a no-op; with other numbers, an error.
    Record(RecordArgs),
    /// Per package (or directory), the coverage of the last runs of a job,
    /// oldest to newest.
    Show(ShowArgs),
    /// Packages whose coverage fell between consecutive runs of a job.
    Drops(DropsArgs),
    /// Keep the newest N runs of a job and delete the older ones.
    Prune(PruneArgs),
}

#[derive(Args, Debug)]
pub struct PruneArgs {
    #[command(flatten)]
    store: StoreArg,
    /// The job.
    #[arg(long)]
    job: String,
    /// How many of the newest runs to keep.
    #[arg(long, value_name = "N")]
    keep: usize,
}

#[derive(Args, Debug)]
struct StoreArg {
    /// The store: an SQLite file (created if missing), or a PostgreSQL URL
    /// (`postgres://user@host/db`, `postgresql:///db?host=/run/postgresql`).
    #[arg(long, default_value = DEFAULT_STORE)]
    store: String,
}

#[derive(Args, Debug)]
#[command(after_help = crate::input::inputs_help!(
    "covlens history record --job ci --build 7 unit.out /tmp/covdir",
    "gzip -dc c.out.gz | covlens history record --job ci --build 7 -"
))]
pub struct RecordArgs {
    #[command(flatten)]
    store: StoreArg,
    /// The job the run belongs to.
    #[arg(long)]
    job: String,
    /// The run's build id, unique within the job.
    #[arg(long)]
    build: String,
    /// The branch the run tested.
    #[arg(long)]
    branch: Option<String>,
    /// The commit the run tested.
    #[arg(long)]
    commit: Option<String>,
    /// When the run happened (RFC 3339); default: now. Runs are ordered by it.
    #[arg(long, value_name = "RFC3339")]
    time: Option<String>,
    /// Profiles or GOCOVERDIR directories of the run (`-` for stdin).
    #[arg(required = true, value_name = "PROFILE|DIR")]
    files: Vec<String>,
    /// Also record, per package, the flaky coverage (as `covlens flaky`)
    /// of these runs of the job (one profile or GOCOVERDIR per run, at
    /// least 2, comma-separated or repeated; usually the recorded run and
    /// the ones before it).
    #[arg(long, value_name = "RUN,...", value_delimiter = ',')]
    flaky_from: Vec<String>,
}

#[derive(Args, Debug)]
struct RowArgs {
    #[command(flatten)]
    store: StoreArg,
    /// The job.
    #[arg(long)]
    job: String,
    /// Only packages equal to this import path or below it.
    #[arg(long, value_name = "PREFIX")]
    path: Option<String>,
    /// Rows per directory of at most N path elements below the root
    /// instead of per package.
    #[arg(long, value_name = "N", conflicts_with = "owners", value_parser = super::at_least_one())]
    depth: Option<usize>,
    /// The directory `--depth` counts from; default: the longest directory
    /// common to the packages, `--root ''` for full import paths.
    #[arg(long, value_name = "PREFIX", requires = "depth")]
    root: Option<String>,
    /// The last N runs.
    #[arg(long, value_name = "N", default_value_t = 10)]
    last: usize,
    /// Output format.
    #[arg(long, default_value = "table", value_parser = choice(FORMAT))]
    format: Format,
    #[command(flatten)]
    out: Out,
    #[command(flatten)]
    owners: super::OwnerArgs,
}

#[derive(Args, Debug)]
pub struct ShowArgs {
    #[command(flatten)]
    rows: RowArgs,
}

#[derive(Args, Debug)]
pub struct DropsArgs {
    #[command(flatten)]
    rows: RowArgs,
    /// Report falls of more than this many percentage points.
    #[arg(long, value_name = "X", default_value_t = 1.0)]
    min_points: f64,
}

const FORMAT: Names<Format> = &[
    ("table", Format::Table),
    ("json", Format::Json),
    ("markdown", Format::Markdown),
];

impl RowArgs {
    /// The history, per package/directory or per owner/label.
    fn load(&self) -> Result<History> {
        let mut store = Store::open_named_reader(&self.store.store)?;
        let q = HistoryQuery {
            job: &self.job,
            path: self.path.as_deref(),
            depth: self.depth,
            root: self.root.as_deref(),
            last: self.last,
        };
        Ok(match self.owners.load()? {
            Some((tree, by)) => store.history_grouped(&q, &tree, by)?,
            None => store.history(&q)?,
        })
    }
}

pub fn run(input: &InputArgs, c: HistoryCommand) -> Result<()> {
    match c {
        HistoryCommand::Record(a) => record(input, a),
        HistoryCommand::Show(ShowArgs { rows: r }) => {
            let h = r.load()?;
            r.out.write(|w| write_history(w, &h, r.format))
        }
        HistoryCommand::Drops(DropsArgs {
            rows: r,
            min_points,
        }) => {
            let h = r.load()?;
            let drops = h.drops(min_points);
            r.out
                .write(|w| write_drops(w, &h, &drops, min_points, r.format))
        }

        HistoryCommand::Prune(a) => {
            let n = Store::open_named(&a.store.store, false)?.prune(&a.job, a.keep)?;
            writeln!(
                std::io::stdout().lock(),
                "job {}: {n} runs deleted, at most {} kept",
                printable(&a.job),
                a.keep
            )?;
            Ok(())
        }
    }
}

fn record(input: &InputArgs, a: RecordArgs) -> Result<()> {
    let time = match &a.time {
        Some(t) => Timestamp::parse_rfc3339(t)?,
        None => Timestamp::now(),
    };
    // Merged as `covlens merge` merges (conflicting blocks are an error).
    let opts = input.load_options();
    let p = with_loader(&opts, |l| l.merge(&a.files, OnConflict::Error))?.0;
    check_recordable(&p)?;
    let run = NewRun {
        job: &a.job,
        build: &a.build,
        branch: a.branch.as_deref(),
        commit: a.commit.as_deref(),
        time,
        source: Source::Cli,
    };
    let flaky = (!a.flaky_from.is_empty())
        .then(|| with_loader(&opts, |l| l.flaky(&a.flaky_from)))
        .transpose()?;
    let got = Store::open_named(&a.store.store, true)?.record_profile(&run, &p, flaky.as_ref())?;
    write_recorded(&mut std::io::stdout().lock(), &run, &got, flaky.as_ref())?;
    Ok(())
}

/// `--history URL --history-job J [--trend N]`: the recorded runs a report
/// draws its trends from.
#[derive(Args, Debug, Clone)]
pub struct TrendArgs {
    /// A history store (as `history --store`) to draw per-package trends
    /// from; needs `--history-job`.
    #[arg(long, value_name = "URL", requires = "history_job")]
    pub history: Option<String>,
    /// The job whose recorded runs make the trends (usually the base
    /// branch's postsubmit job).
    #[arg(long, value_name = "J", requires = "history")]
    pub history_job: Option<String>,
    /// How many of the job's last runs a trend shows.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub trend: usize,
}

impl TrendArgs {
    fn trends(&self) -> Option<Trends<'_>> {
        let (Some(store), Some(job)) = (&self.history, &self.history_job) else {
            return None;
        };
        Some(Trends {
            store,
            job,
            last: self.trend,
        })
    }

    /// The history, per package or per directory of `depth` elements;
    /// `None` without `--history`.
    pub fn load(&self, depth: Option<usize>) -> Result<Option<History>> {
        Ok(self.trends().map(|t| t.history(depth)).transpose()?)
    }

    /// As [`TrendArgs::load`], a row per owner or label.
    pub fn load_by(&self, tree: &OwnersTree, by: OwnerBy) -> Result<Option<History>> {
        Ok(self
            .trends()
            .map(|t| t.history_grouped(tree, by))
            .transpose()?)
    }
}
