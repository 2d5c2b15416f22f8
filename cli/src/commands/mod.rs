//! One module per subcommand.

pub mod annotate;
pub mod badge;
pub mod check;
pub mod comment;
pub mod convert;
pub mod covdata;
pub mod diff;
pub mod explain;
pub mod filter;
pub mod flaky;
pub mod func;
pub mod history;
pub mod html;
pub mod junit;
pub mod merge;
pub mod metadata;
pub mod prow;
pub mod report;
pub mod setop;
pub mod summary;
pub mod table;

use anyhow::{Context as _, Result};
use clap::builder::{PossibleValuesParser, TypedValueParser};
use covlens_core::Profile;
use covlens_core::output::Output;
use covlens_core::owners::{OwnerBy, OwnersTree};
use covlens_report_templates::{Annotated, CommentLeftOut, DiffFile, leave_out_annotated};

/// gopherage refuses to write a profile with no files; so do we, and no
/// output file is created.
pub fn non_empty(p: Profile) -> Result<Profile> {
    if p.files().is_empty() {
        return Err(covlens_core::Error::EmptyProfile.into());
    }
    Ok(p)
}

/// Writes `path` (`-` for stdout) through `f`; a file appears only when
/// `f` succeeds.
pub fn write_with<T, E: Into<anyhow::Error>>(
    path: &str,
    f: impl FnOnce(&mut Output) -> Result<T, E>,
) -> Result<T> {
    let mut out = Output::create(path)?;
    let t = f(&mut out).map_err(Into::into)?;
    out.commit()?;
    Ok(t)
}

/// `-o`/`--output`, stdout by default.
#[derive(clap::Args, Debug)]
pub struct Out {
    /// Output file (`-` for stdout).
    #[arg(short, long, default_value = "-")]
    pub output: String,
}

impl Out {
    /// [`write_with`] to `-o`, what `f` returns besides left out.
    pub fn write<T, E: Into<anyhow::Error>>(
        &self,
        f: impl FnOnce(&mut Output) -> Result<T, E>,
    ) -> Result<()> {
        write_with(&self.output, f).map(drop)
    }

    /// Writes a profile with at least one file.
    pub fn profile(&self, p: Profile) -> Result<()> {
        let p = non_empty(p)?;
        self.write(|w| covlens_core::write_profile(w, &p))
    }
}

/// The names a flag takes for a library's values. The libraries never see
/// clap: their values are named here.
pub type Names<T> = &'static [(&'static str, T)];

/// A parser for a flag whose values are `names`' (listed in the help).
pub fn choice<T: Clone + Send + Sync + 'static>(
    names: Names<T>,
) -> impl TypedValueParser<Value = T> {
    PossibleValuesParser::new(names.iter().map(|(n, _)| *n)).try_map(move |s| {
        let found = names.iter().find(|(n, _)| *n == s).map(|(_, v)| v.clone());
        found.ok_or_else(|| format!("unknown value {s:?}"))
    })
}

/// A count of 1 or more (a `--depth` of rows: 0 would be the root alone).
pub fn at_least_one() -> impl Fn(&str) -> Result<usize, String> + Clone {
    |s: &str| match s.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err("expected a number of path elements, 1 or more".into()),
    }
}

/// `--source-root IMPORT_PREFIX=DIR`: where Go sources are.
#[derive(clap::Args, Debug)]
pub struct SourceRoots {
    /// Map an import-path prefix to a source directory (repeatable), for
    /// sources not found as `go` finds them (go.mod, go.work, vendor/, the
    /// module cache, GOROOT).
    #[arg(long = "source-root", value_name = "IMPORT_PREFIX=DIR")]
    roots: Vec<String>,
}

impl SourceRoots {
    /// The source resolver for the flags.
    pub fn resolver(&self) -> Result<covlens_core::SourceResolver> {
        let mut b = covlens_core::SourceResolver::builder();
        for root in &self.roots {
            let (prefix, dir) = root
                .split_once('=')
                .with_context(|| format!("--source-root {root:?}: expected IMPORT_PREFIX=DIR"))?;
            b.source_root(prefix, dir);
        }
        Ok(b.build()?)
    }
}

/// `--ignore-annotations`, for the commands that compare a base and a head.
#[derive(clap::Args, Debug)]
pub struct AnnotationArgs {
    /// Leave out the blocks `// coverage-ignore` comments mark, as `filter
    /// --ignore-annotations` does: the head's from its sources (found as
    /// `covlens func` finds them, and by --source-root), the base's from
    /// the base's sources, rebuilt by undoing --git-diff.
    #[arg(long)]
    pub ignore_annotations: bool,
}

impl AnnotationArgs {
    /// `head` and `base` without their marked blocks, what was left out
    /// noted on stderr and returned; as they are without the flag.
    pub fn apply(
        &self,
        (head, base): (Profile, Profile),
        diff: Option<&[DiffFile]>,
        module: Option<&str>,
        sources: &SourceRoots,
    ) -> Result<(Profile, Profile, Option<CommentLeftOut>)> {
        if !self.ignore_annotations {
            return Ok((head, base, None));
        }
        let diff = diff.context(covlens_report_templates::ANNOTATED_BASE_NEEDS_DIFF)?;
        let sources = sources.resolver()?;
        let a = leave_out_annotated(head, Some((base, diff)), module, &sources, |_| false);
        note_left_out(&a)?;
        let left_out = CommentLeftOut::of(&a);
        let base = a.base.context("no base came back")?;
        Ok((a.head, base, Some(left_out)))
    }
}

/// Notes on stderr what annotations left out, the base's lines after
/// `base: `.
pub fn note_left_out(a: &Annotated) -> Result<()> {
    note_report("", &a.head_report)?;
    a.base_report
        .as_ref()
        .map_or(Ok(()), |r| note_report("base: ", r))
}

/// Notes `r` on stderr, each line after `prefix`.
fn note_report(prefix: &str, r: &covlens_core::ignore::IgnoreReport) -> Result<()> {
    let mut text = Vec::new();
    r.write_text(&mut text, 20)?;
    let text = String::from_utf8_lossy(&text);
    crate::note(text.lines().map(|l| format!("{prefix}{l}")));
    Ok(())
}

/// The columns of `html` and `report`: `[NAME=]PROFILE` arguments, where
/// sources are, and where the tree starts.
#[derive(clap::Args, Debug)]
pub struct ColumnArgs {
    /// Profiles, one column each, newest first: `NAME=PROFILE` or a
    /// profile named after its file (`-` for stdin). An argument that is
    /// an existing path, or whose part before `=` holds a `/`, is a path.
    #[arg(required = true, value_name = "[NAME=]PROFILE")]
    files: Vec<String>,
    // Files whose source is found get their coloured source.
    #[command(flatten)]
    sources: SourceRoots,
    /// The directory the tree starts at (import-path prefix); default: the
    /// longest directory common to every file.
    #[arg(long, value_name = "PREFIX")]
    root: Option<String>,
}

/// [`ColumnArgs`], loaded.
pub struct Columns {
    pub profiles: Vec<(String, Profile)>,
    pub root: String,
    pub resolver: covlens_core::SourceResolver,
}

impl ColumnArgs {
    pub fn load(&self, opts: &covlens_core::input::LoadOptions) -> Result<Columns> {
        let resolver = self.sources.resolver()?;
        let mut profiles = Vec::new();
        for f in &self.files {
            let (name, path) = covlens_report_templates::named_column(f);
            profiles.push((name, crate::input::load(path, opts)?));
        }
        let root = covlens_report_templates::report_root(
            self.root.as_deref(),
            profiles.iter().map(|(_, p)| p),
        );
        Ok(Columns {
            profiles,
            root,
            resolver,
        })
    }
}

/// What `report` and `html` add to the tree: trends, owners, flaky
/// coverage and the functions that lost coverage.
#[derive(clap::Args, Debug)]
pub struct ExtrasArgs {
    #[command(flatten)]
    trend: history::TrendArgs,
    /// `--by owner|label`: the tree's top level lists owners or labels.
    #[command(flatten)]
    owners: OwnerArgs,
    /// Add a flaky column: statements covered in some but not all of these
    /// runs (profiles or GOCOVERDIRs, comma-separated or repeated).
    #[arg(long, value_name = "RUN,...", value_delimiter = ',')]
    flaky_from: Vec<String>,
    /// List the functions whose coverage fell from the second column (the
    /// base) to the first (the head), as `comment --functions` does, from
    /// the sources `--source-root` finds.
    #[arg(long)]
    functions: bool,
    /// Leave out the blocks `// coverage-ignore` comments mark in the
    /// sources the report shows (greyed in the source view); with
    /// --git-diff, the second column's from the base's rebuilt sources.
    #[arg(long)]
    ignore_annotations: bool,
    /// With --functions or --ignore-annotations: the diff between the two
    /// (`git diff base...head`), to rebuild the base's source from the
    /// head's.
    #[arg(long, value_name = "FILE")]
    git_diff: Option<String>,
    /// With --functions or --git-diff: import path of the repository root,
    /// as `comment` takes it. Default: the `module` line of ./go.mod.
    #[arg(long, value_name = "PREFIX")]
    module: Option<String>,
}

impl ExtrasArgs {
    /// The extras of `c`'s site, read and checked before anything is
    /// written; with --ignore-annotations, `c`'s profiles lose their
    /// marked blocks first (noted on stderr).
    pub fn load(
        &self,
        c: &mut Columns,
        opts: &covlens_core::input::LoadOptions,
    ) -> Result<covlens_report_templates::SiteExtras> {
        let mut extras = covlens_report_templates::SiteExtras::default();
        anyhow::ensure!(
            self.git_diff.is_none() || self.functions || self.ignore_annotations,
            "--git-diff is for --functions or --ignore-annotations"
        );
        let diff = self
            .git_diff
            .as_deref()
            .map(covlens_report_templates::read_diff_file)
            .transpose()?;
        let module = (diff.is_some() || self.functions)
            .then(|| {
                self.module
                    .clone()
                    .or_else(covlens_report_templates::go_mod_module)
            })
            .flatten();
        if self.ignore_annotations {
            let base = diff.as_deref().map(|d| (d, module.as_deref()));
            let columns = std::mem::take(&mut c.profiles);
            let (kept, reports) = extras.leave_out_annotated(columns, base, &c.resolver);
            // Lines name their column when there are several.
            for ((name, _), r) in kept.iter().zip(&reports) {
                let prefix = if kept.len() > 1 {
                    format!("{name}: ")
                } else {
                    String::new()
                };
                note_report(&prefix, r)?;
            }
            c.profiles = kept;
        }
        if let Some(h) = self.trend.load(None)? {
            extras.trends = Some((h.runs.len(), h.into_counts()));
        }
        if let Some((tree, by)) = self.owners.load()? {
            extras.set_groups(&c.profiles, &tree, by);
            extras.group_trends = self.trend.load_by(&tree, by)?.map(|h| h.into_counts());
        }
        if !self.flaky_from.is_empty() {
            extras.set_flaky(crate::input::with_loader(opts, |l| {
                l.flaky(&self.flaky_from)
            })?);
        }
        if !self.functions {
            return Ok(extras);
        }
        let [(_, head), (_, base), ..] = &c.profiles[..] else {
            anyhow::bail!(
                "--functions compares two columns: give the head's profile, then the base's"
            );
        };
        extras.set_lost_functions(base, head, diff.as_deref(), module.as_deref(), &c.resolver);
        Ok(extras)
    }
}

/// `--owners DIR --by owner|label`: rows per owner or OWNERS label.
#[derive(clap::Args, Debug, Clone)]
pub struct OwnerArgs {
    /// A source tree with Kubernetes OWNERS files and/or CODEOWNERS: rows
    /// per owner or label (`--by`) instead of per package.
    #[arg(long, value_name = "DIR", requires = "by")]
    pub owners: Option<std::path::PathBuf>,
    /// With `--owners`: rows per owner or per OWNERS label. A file with
    /// several owners counts in each row.
    #[arg(long, requires = "owners", value_parser = choice(OWNER_BY))]
    pub by: Option<OwnerBy>,
}

pub const OWNER_BY: Names<OwnerBy> = &[("owner", OwnerBy::Owner), ("label", OwnerBy::Label)];

impl OwnerArgs {
    /// The ownership tree and what to group by; `None` without `--owners`.
    pub fn load(&self) -> Result<Option<(OwnersTree, OwnerBy)>> {
        let (Some(dir), Some(by)) = (&self.owners, self.by) else {
            return Ok(None);
        };
        Ok(Some((load_owners(dir, None)?, by)))
    }
}

/// The OWNERS and CODEOWNERS files of the tree at `dir`; with `at`, of
/// the git checkout `dir` at that commit.
pub fn load_owners(dir: &std::path::Path, at: Option<&str>) -> Result<OwnersTree> {
    let tree = match at {
        Some(commit) => OwnersTree::load_at(dir, commit),
        None => OwnersTree::load(dir),
    }
    .map_err(|e| {
        anyhow::Error::new(e).context(format!("cannot read ownership from {}", dir.display()))
    })?;
    crate::warn(
        tree.warnings()
            .iter()
            .map(|w| format!("{}: {w}", dir.display())),
    );
    Ok(tree)
}
