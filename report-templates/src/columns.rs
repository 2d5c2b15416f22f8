//! Naming a report's columns and finding its root.

use covlens_core::Profile;

/// A column's label: the file's base name without its extension
/// (`out/master.out` is `master`).
fn column_label(path: &str) -> String {
    let base = path.rsplit('/').next().unwrap_or(path);
    match base.rfind('.') {
        Some(i) if i > 0 => base[..i].to_string(),
        _ => base.to_string(),
    }
}

/// A column given as `NAME=PROFILE`, or as a plain profile named after its
/// file (`out/master.out` is `master`): its name and profile path. A path
/// may hold `=` itself, so the argument is `NAME=PROFILE` only when it is
/// not an existing path (nor `-`) as a whole and the part before its first
/// `=` is a non-empty name without `/` (`head=out/a.out`; `out/x=1.out` is
/// a path).
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

/// The root of a report: `root` (a trailing `/` dropped), else the longest
/// directory common to every file of `profiles`.
pub fn report_root<'a>(
    root: Option<&str>,
    profiles: impl IntoIterator<Item = &'a Profile>,
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
        // (Not tested relative to the working directory: other tests of
        // this crate run meanwhile.)
        assert_eq!(named_column(&odd), ("n=v".into(), odd.as_str()));
    }
}
