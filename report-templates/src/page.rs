//! The one-page HTML summary (`covlens html`): packages with their files
//! as expandable rows, one column per profile, ▲/▼ against the column to
//! the right as in gopherage's comparison view. Plain HTML and CSS with
//! every number computed here, so it opens offline and from `file://`.

use std::collections::BTreeMap;
use std::io::Write;

use covlens_core::{Counts, Profile, package_of};
use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;

use crate::render::render_to;
use crate::{Error, Mark, Stat};

#[derive(Serialize)]
struct Page<'a> {
    title: &'a str,
    columns: Vec<&'a str>,
    total: Vec<Option<PageCell>>,
    packages: Vec<Package<'a>>,
}

#[derive(Serialize)]
struct Package<'a> {
    name: &'a str,
    cells: Vec<Option<PageCell>>,
    files: Vec<PageFile<'a>>,
}

#[derive(Serialize)]
struct PageFile<'a> {
    name: &'a str,
    /// The name after the last `/`.
    base: &'a str,
    cells: Vec<Option<PageCell>>,
}

#[derive(Serialize)]
struct PageCell {
    #[serde(flatten)]
    stat: Stat,
    /// Background hue: red (0%) to green (100%).
    hue: u32,
    /// Against the next column, by any difference at all.
    mark: Mark,
}

fn cells(cols: &[Option<Counts>]) -> Vec<Option<PageCell>> {
    cols.iter()
        .enumerate()
        .map(|(i, c)| {
            let c = (*c)?;
            let pct = c.percent();
            let mark = match cols.get(i + 1).copied().flatten() {
                Some(next) if pct > next.percent() + 1e-9 => Mark::Up,
                Some(next) if pct + 1e-9 < next.percent() => Mark::Down,
                _ => Mark::None,
            };
            Some(PageCell {
                stat: c.into(),
                hue: (pct * 1.2).round() as u32,
                mark,
            })
        })
        .collect()
}

/// Writes the page for `columns` (label, profile), newest first.
pub fn write_page<W: Write>(w: W, title: &str, columns: &[(String, Profile)]) -> Result<(), Error> {
    let n = columns.len();
    // Per package: per file: counts in each column (None: absent there).
    let mut table: BTreeMap<&str, BTreeMap<&str, Vec<Option<Counts>>>> = BTreeMap::new();
    let mut totals = vec![Some(Counts::default()); n];
    for (i, (_, p)) in columns.iter().enumerate() {
        for f in p.files() {
            let c = f.statements();
            totals[i].get_or_insert_default().add(c);
            table
                .entry(package_of(f.name()))
                .or_default()
                .entry(f.name())
                .or_insert_with(|| vec![None; n])[i] = Some(c);
        }
    }
    let packages = table
        .into_iter()
        .map(|(name, files)| {
            let mut sums = vec![None::<Counts>; n];
            for cols in files.values() {
                for (i, c) in cols.iter().enumerate() {
                    if let Some(c) = c {
                        sums[i].get_or_insert_default().add(*c);
                    }
                }
            }
            Package {
                name,
                cells: cells(&sums),
                files: files
                    .into_iter()
                    .map(|(name, cols)| PageFile {
                        name,
                        base: name.rsplit('/').next().unwrap_or(name),
                        cells: cells(&cols),
                    })
                    .collect(),
            }
        })
        .collect();
    let page = Page {
        title,
        columns: columns.iter().map(|(l, _)| l.as_str()).collect(),
        total: cells(&totals),
        packages,
    };
    render_to("page.html", context! { p => Serde(&page) }, w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_and_arrows() {
        let a = crate::test_profile("mode: set\np/a.go:1.1,1.2 1 1\np/b.go:1.1,1.2 1 1\n");
        let b = crate::test_profile("mode: set\np/a.go:1.1,1.2 1 0\n");
        let mut out = Vec::new();
        write_page(
            &mut out,
            "T <x>",
            &[("master".into(), a), ("1.12".into(), b)],
        )
        .unwrap();
        let page = String::from_utf8(out).unwrap();
        assert!(page.contains("<title>T &lt;x&gt;</title>"));
        assert!(page.contains("<th>master</th><th>1.12</th>"));
        assert!(page.contains("▲"));
        assert!(!page.contains("http"));
    }
}
