//! Flaky coverage: blocks covered in some, but not all, runs of the same job.
//!
//! The runs are streamed as `aggregate` streams them (one run in memory at a
//! time, plus the accumulator: per block, the number of runs that covered
//! it), see [`Loader::flaky`](crate::input::Loader::flaky). A block is
//! *flaky* when that number is neither 0 nor the number of runs: a test
//! exercised it by chance, or only in some environments.
//!
//! Blocks are grouped by file and by the function whose extent holds the
//! block's start (when sources are found, see [`FlakyReport::attribute`]),
//! and ranked: more flaky statements first, then the group whose coverage
//! disagreed most often with the majority of runs (per block
//! `min(k, N - k)` for a block covered in `k` of `N` runs), then by
//! position. Blocks without statements (an empty function body) are never
//! flaky: statement coverage cannot see them. A file that some runs did not
//! measure (added or removed between them) is left out and counted
//! ([`FlakyReport::partial_files`]): its blocks would look flaky.

use std::collections::BTreeMap;

use foldhash::{HashMap, HashSet};
use serde::Serialize;

use crate::error::{Conflict, Error};
use crate::ops::{Combine, MergeOptions, Merger, OnConflict, to_boolean};
use crate::profile::{Block, Counts, Profile};
use crate::text::{BlockPool, ModePolicy, RawProfile};

/// A block covered in some but not all runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FlakyBlock {
    /// First line.
    pub start_line: u32,
    /// Byte column on the first line.
    pub start_col: u32,
    /// Last line.
    pub end_line: u32,
    /// Byte column just past the block.
    pub end_col: u32,
    /// Statements in the block.
    pub statements: u32,
    /// Runs that covered it (0 < runs < total runs).
    pub covered_in: u32,
}

/// A function's flaky blocks (or, with no function known, the file's).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FlakyFunc {
    /// The function's name (no receiver, as `go tool cover -func`); `None`
    /// when the source was not found or the blocks lie outside functions.
    pub name: Option<String>,
    /// Line of the function (or of its first flaky block).
    pub line: u32,
    /// Flaky statements.
    pub statements: u64,
    /// The largest number of runs that disagreed with the majority about
    /// one of its blocks.
    pub disagreeing: u32,
    /// Fewest and most runs that covered one of its flaky blocks.
    pub covered_in: (u32, u32),
    /// The blocks, by position.
    pub blocks: Vec<FlakyBlock>,
}

/// A file with flaky blocks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FlakyFile {
    /// File name as in the profiles.
    pub name: String,
    /// Flaky statements in the file.
    pub statements: u64,
    /// Statements of the file: all, and covered in at least one run.
    pub counts: Counts,
    /// Groups, ranked.
    pub funcs: Vec<FlakyFunc>,
}

/// Flaky statements of a package.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FlakyPackage {
    /// Import path.
    pub name: String,
    /// Flaky statements.
    pub statements: u64,
    /// Flaky blocks.
    pub blocks: u64,
    /// All statements of the package.
    pub total: u64,
}

/// The flaky coverage of several runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FlakyReport {
    /// Number of runs.
    pub runs: u32,
    /// All statements (in any run).
    pub statements: u64,
    /// Statements covered in every run.
    pub always: u64,
    /// Flaky statements (covered in some runs, not all).
    pub flaky: u64,
    /// Flaky blocks.
    pub flaky_blocks: u64,
    /// Files with flaky blocks, ranked.
    pub files: Vec<FlakyFile>,
    /// Files whose functions are not known, with why (source not found...).
    pub unattributed: Vec<(String, String)>,
    /// Every package of the runs (flaky or not), by name.
    pub packages: Vec<FlakyPackage>,
    /// Files left out because not every run measured them.
    #[serde(skip_serializing_if = "is_zero")]
    pub partial_files: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Runs folded one at a time into a [`FlakyReport`]: per block, how many
/// runs covered it, and per file, how many runs measured it. Only the
/// accumulator and the run being added are in memory.
#[derive(Debug)]
pub struct FlakyFold {
    merger: Merger,
    runs: u32,
    measured: HashMap<String, u32>,
}

impl FlakyFold {
    /// An empty fold; `on_conflict` says what to do with a file two runs
    /// describe differently (different source versions).
    pub fn new(mode_policy: ModePolicy, on_conflict: OnConflict) -> FlakyFold {
        FlakyFold {
            merger: Merger::new(MergeOptions {
                mode_policy,
                on_conflict,
                combine: Combine::Sum,
            }),
            runs: 0,
            measured: HashMap::default(),
        }
    }

    /// Adds the run read from `input`.
    pub fn add(&mut self, input: &str, mut p: Profile) -> Result<(), Error> {
        self.count_run(p.files().iter().map(|f| f.name()))?;
        to_boolean(&mut p);
        self.merger.add(input, p)
    }

    /// [`FlakyFold::add`] for a run still in the parser's buffers.
    pub(crate) fn add_raw(
        &mut self,
        mut raw: RawProfile,
        pool: &mut BlockPool,
    ) -> Result<(), Error> {
        let names: HashSet<&str> = raw.file_names().collect();
        self.count_run(names.into_iter())?;
        // Combines an input's own repeated blocks (a `-coverpkg` profile
        // lists a block once per test binary) before clamping, so each
        // run counts once per block.
        raw.make_boolean();
        self.merger.add_raw(raw, pool)
    }

    fn count_run<'a>(&mut self, files: impl Iterator<Item = &'a str>) -> Result<(), Error> {
        self.runs = self
            .runs
            .checked_add(1)
            .ok_or_else(|| Error::Invalid("more than 2^32 runs".into()))?;
        for f in files {
            *self.measured.entry(f.to_string()).or_default() += 1;
        }
        Ok(())
    }

    /// The report, and the files two runs described differently (with
    /// [`OnConflict::SkipFile`]: left out).
    pub fn finish(self) -> (FlakyReport, Vec<Conflict>) {
        let (mut agg, conflicts) = self.merger.finish();
        let before = agg.files.len();
        let (runs, measured) = (self.runs, self.measured);
        agg.files
            .retain(|f| measured.get(f.name()).copied() == Some(runs));
        let mut r = FlakyReport::from_aggregate(&agg, runs);
        r.partial_files = (before - agg.files.len()) as u64;
        (r, conflicts)
    }
}

impl FlakyReport {
    /// The report of `runs` runs from their aggregate: per block, the number
    /// of runs that covered it (as [`Loader::aggregate`] computes it).
    ///
    /// [`Loader::aggregate`]: crate::input::Loader::aggregate
    pub fn from_aggregate(agg: &Profile, runs: u32) -> FlakyReport {
        let mut r = FlakyReport {
            runs,
            statements: 0,
            always: 0,
            flaky: 0,
            flaky_blocks: 0,
            files: Vec::new(),
            unattributed: Vec::new(),
            packages: Vec::new(),
            partial_files: 0,
        };
        let mut packages: BTreeMap<&str, FlakyPackage> = BTreeMap::new();
        for f in agg.files() {
            let mut counts = Counts::default();
            let mut blocks = Vec::new();
            let mut flaky = 0u64;
            for b in f.blocks() {
                counts.add_block(b);
                let n = u64::from(b.num_stmt);
                if b.count >= u64::from(runs) {
                    r.always += n;
                } else if b.count > 0 && b.num_stmt > 0 {
                    // Blocks without statements (`func f() {}`) change no
                    // statement coverage; `go tool cover` shows them as 0%.
                    flaky += n;
                    blocks.push(flaky_block(b));
                }
            }
            r.statements += counts.total;
            let p = packages.entry(f.package()).or_default();
            p.total += counts.total;
            p.statements += flaky;
            p.blocks += blocks.len() as u64;
            if blocks.is_empty() {
                continue;
            }
            r.flaky += flaky;
            r.flaky_blocks += blocks.len() as u64;
            let mut file = FlakyFile {
                name: f.name().to_string(),
                statements: flaky,
                counts,
                funcs: Vec::new(),
            };
            file.funcs = vec![group(None, blocks, runs)];
            r.files.push(file);
        }
        r.packages = packages
            .into_iter()
            .map(|(name, mut p)| {
                p.name = name.to_string();
                p
            })
            .collect();
        r.rank();
        r
    }

    /// Splits each file's blocks by function: `extents(file)` gives the
    /// functions of a file as `(name, start, end)` (positions as in
    /// [`FuncExtent`](crate::FuncExtent)), or why they are not known. A
    /// block belongs to the function whose extent holds its start; blocks
    /// outside every function stay unnamed.
    pub fn attribute(&mut self, mut extents: impl FnMut(&str) -> Result<Vec<FuncSpan>, String>) {
        let runs = self.runs;
        for file in &mut self.files {
            let spans = match extents(&file.name) {
                Ok(s) => s,
                Err(why) => {
                    self.unattributed.push((file.name.clone(), why));
                    continue;
                }
            };
            let blocks: Vec<FlakyBlock> = file.funcs.drain(..).flat_map(|g| g.blocks).collect();
            let mut by_func: BTreeMap<Option<usize>, Vec<FlakyBlock>> = BTreeMap::new();
            for b in blocks {
                let at = (b.start_line, b.start_col);
                let owner = spans.iter().position(|s| s.start <= at && at < s.end);
                by_func.entry(owner).or_default().push(b);
            }
            file.funcs = by_func
                .into_iter()
                .map(|(owner, blocks)| {
                    let mut g = group(owner.map(|i| spans[i].name.clone()), blocks, runs);
                    if let Some(i) = owner {
                        g.line = spans[i].start.0;
                    }
                    g
                })
                .collect();
        }
        self.rank();
    }

    /// [`attribute`](FlakyReport::attribute) with the functions of the
    /// sources `resolver` finds, parsed in parallel. A file whose source is
    /// missing or does not parse keeps its blocks unnamed.
    #[cfg(feature = "funcs")]
    pub fn attribute_sources(&mut self, resolver: &crate::funcs::SourceResolver) {
        use rayon::prelude::*;
        let found: std::collections::HashMap<String, Result<Vec<FuncSpan>, String>> = self
            .files
            .par_iter()
            .map_init(crate::funcs::FuncFinder::new, |finder, file| {
                let spans = (|| {
                    let finder = finder.as_mut().map_err(|e| e.to_string())?;
                    let (path, src) = resolver
                        .read_source(&file.name)
                        .map_err(|e| e.to_string())?;
                    let funcs = finder
                        .find(&src, &path.to_string_lossy())
                        .map_err(|e| e.to_string())?;
                    Ok(funcs
                        .into_iter()
                        .map(|f| FuncSpan {
                            name: f.name,
                            start: (f.start_line, f.start_col),
                            end: (f.end_line, f.end_col),
                        })
                        .collect())
                })();
                (file.name.clone(), spans)
            })
            .collect();
        let mut found = found;
        self.attribute(|name| {
            found
                .remove(name)
                .unwrap_or_else(|| Err("not looked up".into()))
        });
    }

    fn rank(&mut self) {
        for f in &mut self.files {
            f.funcs.sort_by(|a, b| {
                (b.statements, b.disagreeing)
                    .cmp(&(a.statements, a.disagreeing))
                    .then(a.line.cmp(&b.line))
            });
        }
        let disagreeing = |f: &FlakyFile| f.funcs.iter().map(|g| g.disagreeing).max().unwrap_or(0);
        self.files.sort_by(|a, b| {
            (b.statements, disagreeing(b))
                .cmp(&(a.statements, disagreeing(a)))
                .then_with(|| a.name.cmp(&b.name))
        });
    }
}

/// The formats [`write_flaky`] writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlakyFormat {
    /// [`write_flaky_table`].
    Table,
    /// [`write_flaky_json`].
    Json,
}

/// Writes the report in `format`.
pub fn write_flaky<W: std::io::Write>(
    out: W,
    r: &FlakyReport,
    format: FlakyFormat,
) -> std::io::Result<()> {
    match format {
        FlakyFormat::Table => write_flaky_table(out, r),
        FlakyFormat::Json => write_flaky_json(out, r),
    }
}

/// Writes the report as pretty JSON, with a final newline.
pub fn write_flaky_json<W: std::io::Write>(mut out: W, r: &FlakyReport) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut out, r)?;
    out.write_all(b"\n")
}

/// Writes the report as a table for people: a headline, then one row per
/// group (file, function), ranked; names escaped for terminals.
pub fn write_flaky_table<W: std::io::Write>(mut out: W, r: &FlakyReport) -> std::io::Result<()> {
    use crate::printable::printable;
    let pct = |n: u64| {
        if r.statements == 0 {
            0.0
        } else {
            n as f64 * 100.0 / r.statements as f64
        }
    };
    writeln!(
        out,
        "{} of {} statements ({:.1}%) covered in some but not all of {} runs: {} blocks in {} files; \
         {} statements ({:.1}%) covered in every run",
        r.flaky,
        r.statements,
        pct(r.flaky),
        r.runs,
        r.flaky_blocks,
        r.files.len(),
        r.always,
        pct(r.always)
    )?;
    if r.partial_files > 0 {
        writeln!(
            out,
            "{} files left out: not every run measured them",
            r.partial_files
        )?;
    }
    if r.files.is_empty() {
        return Ok(());
    }
    let rows: Vec<[String; 5]> = r
        .files
        .iter()
        .flat_map(|f| {
            f.funcs.iter().map(move |g| {
                [
                    format!("{}:{}", printable(&f.name), g.line),
                    g.name
                        .as_deref()
                        .map_or_else(|| "-".to_string(), |n| printable(n).into_owned()),
                    g.statements.to_string(),
                    g.blocks.len().to_string(),
                    if g.covered_in.0 == g.covered_in.1 {
                        format!("{}/{}", g.covered_in.0, r.runs)
                    } else {
                        format!("{}-{}/{}", g.covered_in.0, g.covered_in.1, r.runs)
                    },
                ]
            })
        })
        .collect();
    let head = [
        "FILE:LINE",
        "FUNCTION",
        "FLAKY STMTS",
        "BLOCKS",
        "COVERED IN RUNS",
    ];
    let mut width = head.map(str::len);
    for row in &rows {
        for (w, c) in width.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |out: &mut W, cells: [&str; 5]| {
        writeln!(
            out,
            "{:<w0$}  {:<w1$}  {:>w2$}  {:>w3$}  {:>w4$}",
            cells[0],
            cells[1],
            cells[2],
            cells[3],
            cells[4],
            w0 = width[0],
            w1 = width[1],
            w2 = width[2],
            w3 = width[3],
            w4 = width[4]
        )
    };
    line(&mut out, head)?;
    for row in &rows {
        line(&mut out, [&row[0], &row[1], &row[2], &row[3], &row[4]])?;
    }
    for (name, why) in &r.unattributed {
        writeln!(
            out,
            "note: {}: functions unknown ({})",
            printable(name),
            printable(why)
        )?;
    }
    Ok(())
}

/// A function's extent, as [`FlakyReport::attribute`] takes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FuncSpan {
    /// Function name.
    pub name: String,
    /// `(line, column)` of `func`.
    pub start: (u32, u32),
    /// `(line, column)` just past the closing `}`.
    pub end: (u32, u32),
}

fn flaky_block(b: &Block) -> FlakyBlock {
    FlakyBlock {
        start_line: b.start_line,
        start_col: b.start_col,
        end_line: b.end_line,
        end_col: b.end_col,
        statements: b.num_stmt,
        covered_in: u32::try_from(b.count).unwrap_or(u32::MAX),
    }
}

fn group(name: Option<String>, blocks: Vec<FlakyBlock>, runs: u32) -> FlakyFunc {
    let statements = blocks.iter().map(|b| u64::from(b.statements)).sum();
    let disagreeing = blocks
        .iter()
        .map(|b| b.covered_in.min(runs - b.covered_in))
        .max()
        .unwrap_or(0);
    let lo = blocks.iter().map(|b| b.covered_in).min().unwrap_or(0);
    let hi = blocks.iter().map(|b| b.covered_in).max().unwrap_or(0);
    FlakyFunc {
        name,
        line: blocks.first().map_or(0, |b| b.start_line),
        statements,
        disagreeing,
        covered_in: (lo, hi),
        blocks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{FileProfile, Mode};

    fn file(name: &str, blocks: &[(u32, u32, u64)]) -> FileProfile {
        let b = blocks
            .iter()
            .map(|&(line, n, c)| Block::new((line, 1), (line, 9), n, c))
            .collect();
        FileProfile::new(name, b, &Mode::Count).unwrap()
    }

    fn run(files: Vec<FileProfile>) -> Profile {
        Profile::from_files(Some(Mode::Count), files).unwrap()
    }

    #[test]
    fn fold_leaves_out_files_not_every_run_measured() {
        let mut fold = FlakyFold::new(ModePolicy::Strict, OnConflict::Error);
        let x = |c: u64| file("m/x.go", &[(1, 2, c), (2, 1, 7)]);
        fold.add("r1", run(vec![x(0)])).unwrap();
        // A file added in the second run, covered in both runs it is in.
        let new = || file("m/new.go", &[(1, 4, 1)]);
        fold.add("r2", run(vec![new(), x(3)])).unwrap();
        fold.add("r3", run(vec![new(), x(0)])).unwrap();
        let (r, conflicts) = fold.finish();
        assert!(conflicts.is_empty());
        assert_eq!(r.runs, 3);
        assert_eq!(r.partial_files, 1);
        // x.go's first block (2 statements) in 1 of 3 runs; new.go is not
        // counted at all.
        assert_eq!((r.statements, r.always, r.flaky), (3, 1, 2));
        assert_eq!(
            r.files.iter().map(|f| &f.name[..]).collect::<Vec<_>>(),
            ["m/x.go"]
        );
        let mut table = Vec::new();
        write_flaky_table(&mut table, &r).unwrap();
        let table = String::from_utf8(table).unwrap();
        assert!(table.contains("1 files left out"), "{table}");
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["partial_files"], 1);
    }

    #[test]
    fn fold_skips_files_runs_describe_differently_when_asked() {
        let mut fold = FlakyFold::new(ModePolicy::Strict, OnConflict::SkipFile);
        fold.add(
            "r1",
            run(vec![
                file("m/x.go", &[(1, 2, 1)]),
                file("m/y.go", &[(1, 1, 1)]),
            ]),
        )
        .unwrap();
        fold.add(
            "r2",
            run(vec![
                file("m/x.go", &[(5, 2, 1)]),
                file("m/y.go", &[(1, 1, 0)]),
            ]),
        )
        .unwrap();
        let (r, conflicts) = fold.finish();
        assert_eq!(conflicts.len(), 1);
        assert_eq!((r.statements, r.flaky, r.partial_files), (1, 1, 0));
        assert!(
            serde_json::to_value(&r)
                .unwrap()
                .get("partial_files")
                .is_none()
        );

        let mut strict = FlakyFold::new(ModePolicy::Strict, OnConflict::Error);
        strict
            .add("r1", run(vec![file("m/x.go", &[(1, 2, 1)])]))
            .unwrap();
        assert!(
            strict
                .add("r2", run(vec![file("m/x.go", &[(5, 2, 1)])]))
                .is_err()
        );
    }

    #[test]
    fn flaky_blocks_ranked_and_attributed() {
        // Counts are "covered in k of 4 runs".
        let agg = Profile::from_files(
            Some(Mode::Count),
            vec![
                file("m/a/x.go", &[(3, 2, 4), (4, 1, 1), (10, 3, 2), (20, 5, 0)]),
                file("m/b/y.go", &[(1, 1, 3), (2, 1, 4)]),
                file("m/b/z.go", &[(1, 1, 4)]),
            ],
        )
        .unwrap();
        let mut r = FlakyReport::from_aggregate(&agg, 4);
        assert_eq!(
            (r.statements, r.always, r.flaky, r.flaky_blocks),
            (14, 4, 5, 3)
        );
        assert_eq!(
            r.files
                .iter()
                .map(|f| (&f.name[..], f.statements))
                .collect::<Vec<_>>(),
            [("m/a/x.go", 4), ("m/b/y.go", 1)]
        );
        r.attribute(|name| match name {
            "m/a/x.go" => Ok(vec![
                FuncSpan {
                    name: "f".into(),
                    start: (2, 1),
                    end: (5, 2),
                },
                FuncSpan {
                    name: "g".into(),
                    start: (9, 1),
                    end: (12, 2),
                },
            ]),
            _ => Err("not found".into()),
        });
        let x = &r.files[0];
        // g: 3 statements covered in 2 of 4 runs (2 disagree), before f: 1.
        assert_eq!(x.funcs[0].name.as_deref(), Some("g"));
        assert_eq!(
            (
                x.funcs[0].statements,
                x.funcs[0].disagreeing,
                x.funcs[0].line
            ),
            (3, 2, 9)
        );
        assert_eq!(x.funcs[1].name.as_deref(), Some("f"));
        assert_eq!(x.funcs[1].covered_in, (1, 1));
        assert_eq!(
            r.unattributed,
            [("m/b/y.go".to_string(), "not found".to_string())]
        );
        let p = &r.packages;
        assert_eq!(p.len(), 2);
        assert_eq!(
            (p[0].name.as_str(), p[0].statements, p[0].blocks, p[0].total),
            ("m/a", 4, 2, 11)
        );
        assert_eq!(
            (p[1].name.as_str(), p[1].statements, p[1].total),
            ("m/b", 1, 3)
        );
    }
}
