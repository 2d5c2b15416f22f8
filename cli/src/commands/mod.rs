//! One module per subcommand.

pub mod annotate;
pub mod badge;
pub mod check;
pub mod comment;
pub mod convert;
pub mod covdata;
pub mod diff;
pub mod filter;
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
