//! One module per subcommand.

pub mod annotate;
pub mod badge;
pub mod check;
pub mod comment;
pub mod convert;
pub mod covdata;
pub mod diff;
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
pub mod summary;
pub mod table;

use anyhow::Result;
use covlens_core::Profile;
use covlens_core::output::Output;

/// gopherage refuses to write a profile with no files; so do we, and no
/// output file is created.
pub fn non_empty(p: Profile) -> Result<Profile> {
    if p.files().is_empty() {
        return Err(covlens_core::Error::EmptyProfile.into());
    }
    Ok(p)
}

/// Writes `-o` (`-` for stdout) through `f`; a file appears only when `f`
/// succeeds.
pub fn write_with(path: &str, f: impl FnOnce(&mut Output) -> std::io::Result<()>) -> Result<()> {
    let mut out = Output::create(path)?;
    f(&mut out)?;
    Ok(out.commit()?)
}

/// Writes a profile to `-o`.
pub fn write_profile_to(path: &str, p: &Profile) -> Result<()> {
    write_with(path, |w| covlens_core::write_profile(w, p))
}

/// A column's label: the file's base name without its extension
/// (`out/master.out` is `master`).
pub fn column_label(path: &str) -> String {
    let base = path.rsplit('/').next().unwrap_or(path);
    match base.rfind('.') {
        Some(i) if i > 0 => base[..i].to_string(),
        _ => base.to_string(),
    }
}

/// A column argument of `report` and `html`: `NAME=PROFILE`, or a plain
/// profile named by [`column_label`]. A path may hold `=` itself, so the
/// argument is `NAME=PROFILE` only when it is not an existing path (nor
/// `-`) as a whole and the part before its first `=` is a non-empty name
/// without `/` (`head=out/a.out`; `out/x=1.out` is a path).
pub fn named_column(arg: &str) -> (String, &str) {
    if arg != "-"
        && !std::path::Path::new(arg).exists()
        && let Some((name, path)) = arg.split_once('=')
        && !name.is_empty()
        && !name.contains('/')
    {
        return (name.to_string(), path);
    }
    (column_label(arg), arg)
}

/// The root of a report: `--root` (a trailing `/` dropped), else the
/// longest directory common to every file of `profiles`.
pub fn report_root<'a>(
    root: Option<&str>,
    profiles: impl IntoIterator<Item = &'a covlens_core::Profile>,
) -> String {
    match root {
        Some(r) => r.trim_end_matches('/').to_string(),
        None => covlens_core::common_dir(
            profiles
                .into_iter()
                .flat_map(|p| p.files().iter().map(|f| f.name())),
        ),
    }
}

/// The source resolver for `--source-root IMPORT_PREFIX=DIR` flags.
pub fn source_resolver(roots: &[String]) -> Result<covlens_core::SourceResolver> {
    use anyhow::Context as _;
    let mut b = covlens_core::SourceResolver::builder();
    for root in roots {
        let (prefix, dir) = root
            .split_once('=')
            .with_context(|| format!("--source-root {root:?}: expected IMPORT_PREFIX=DIR"))?;
        b.source_root(prefix, dir);
    }
    Ok(b.build()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_columns_and_paths_with_equals() {
        assert_eq!(named_column("head=a/b.out"), ("head".into(), "a/b.out"));
        assert_eq!(named_column("a/b.out"), ("b".into(), "a/b.out"));
        assert_eq!(named_column("a/x=1.out"), ("x=1".into(), "a/x=1.out"));
        assert_eq!(named_column("-"), ("-".into(), "-"));
        assert_eq!(named_column("=x.out"), ("=x".into(), "=x.out"));
        // An existing file named like NAME=PATH is that file.
        let dir = tempfile::tempdir().unwrap();
        let odd = dir.path().join("n=v.out");
        std::fs::write(&odd, "mode: set\n").unwrap();
        let odd = odd.to_string_lossy().into_owned();
        assert_eq!(named_column(&odd), ("n=v".into(), odd.as_str()));
        let rel = std::env::current_dir().unwrap();
        std::env::set_current_dir(dir.path()).unwrap();
        let got = named_column("n=v.out");
        std::env::set_current_dir(rel).unwrap();
        assert_eq!(got, ("n=v".into(), "n=v.out"));
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
    #[arg(long, value_enum, requires = "owners")]
    pub by: Option<ByOwner>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum ByOwner {
    Owner,
    Label,
}

impl OwnerArgs {
    /// The ownership tree and what to group by; `None` without `--owners`.
    pub fn load(&self) -> Result<Option<(covlens_core::owners::OwnersTree, OwnerBy)>> {
        let (Some(dir), Some(by)) = (&self.owners, self.by) else {
            return Ok(None);
        };
        let tree = covlens_core::owners::OwnersTree::load(dir).map_err(|e| {
            anyhow::Error::new(e).context(format!("cannot read ownership from {}", dir.display()))
        })?;
        let by = match by {
            ByOwner::Owner => OwnerBy::Owner,
            ByOwner::Label => OwnerBy::Label,
        };
        Ok(Some((tree, by)))
    }
}

use covlens_core::owners::OwnerBy;
