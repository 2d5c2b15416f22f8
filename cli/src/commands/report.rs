//! `report`: a static, self-contained site (no request leaves the page).
//!
//! `index.html` carries the top of the directory tree; every directory
//! and every file with source is a `data/<id>.js` script the page adds
//! with `<script src>` when it is opened, so the site works from
//! `file://` (where `fetch` of local files is refused) and stays fast at
//! Kubernetes scale. Files whose source is not found keep their numbers
//! in the tree but get no page.

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use covlens_core::{Block, Counts, Profile, SourceResolver, find_funcs, package_of};
use covlens_report_templates::{SiteIndex, Stat, write_site_data, write_site_index};
use serde::Serialize;
use serde_json::{Value, json};

use crate::input::{InputArgs, load};

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Profiles, one column each, newest first (`-` for stdin).
    #[arg(required = true)]
    files: Vec<String>,
    /// Directory to write the site into (created; existing files with the
    /// same names are replaced).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Map an import-path prefix to a source directory (repeatable).
    #[arg(long, value_name = "IMPORT_PREFIX=DIR")]
    source_root: Vec<String>,
    /// Page title.
    #[arg(long, default_value = "Coverage report")]
    title: String,
}

pub fn run(input: &InputArgs, a: ReportArgs) -> Result<()> {
    let resolver = super::source_resolver(&a.source_root)?;
    let popts = input.load_options();
    let mut profiles = Vec::new();
    for f in &a.files {
        profiles.push((super::column_label(f), load(f, &popts)?));
    }
    let data = a.out.join("data");
    fs::create_dir_all(&data).with_context(|| format!("cannot create {}", data.display()))?;
    build(&a.title, &profiles, &resolver, &a.out)
}

type Cols = Vec<Option<Counts>>;

#[derive(Default)]
struct Dir {
    dirs: BTreeMap<String, usize>,
    files: Vec<usize>,
    counts: Cols,
}

fn add(cols: &mut Cols, i: usize, c: Counts) {
    cols[i].get_or_insert_with(Counts::default).add(c);
}

fn cells(cols: &Cols) -> Value {
    Value::Array(
        cols.iter()
            .map(|c| c.map_or(Value::Null, |c| json!([c.covered, c.total])))
            .collect(),
    )
}

fn write_js<T: Serialize>(dir: &Path, id: &str, callback: &str, data: &T) -> Result<()> {
    let path = dir.join("data").join(format!("{id}.js"));
    let f = fs::File::create(&path).with_context(|| format!("cannot write {}", path.display()))?;
    let mut w = BufWriter::new(f);
    write_site_data(&mut w, callback, id, data)?;
    w.flush()?;
    Ok(())
}

fn build(
    title: &str,
    profiles: &[(String, Profile)],
    resolver: &SourceResolver,
    out: &Path,
) -> Result<()> {
    let n = profiles.len();
    // Every file of every profile, with its counts per column.
    let mut files: BTreeMap<&str, Cols> = BTreeMap::new();
    for (i, (_, p)) in profiles.iter().enumerate() {
        for f in p.files() {
            add(
                files.entry(f.name()).or_insert_with(|| vec![None; n]),
                i,
                f.statements(),
            );
        }
    }
    let names: Vec<&str> = files.keys().copied().collect();
    let mut dirs = vec![Dir {
        counts: vec![None; n],
        ..Dir::default()
    }];
    for (fi, (name, cols)) in files.iter().enumerate() {
        let mut d = 0;
        for (i, c) in cols.iter().enumerate() {
            if let Some(c) = c {
                add(&mut dirs[0].counts, i, *c);
            }
        }
        for part in package_of(name)
            .split('/')
            .filter(|p| !p.is_empty() && *p != ".")
        {
            let next = match dirs[d].dirs.get(part) {
                Some(&x) => x,
                None => {
                    dirs.push(Dir {
                        counts: vec![None; n],
                        ..Dir::default()
                    });
                    let x = dirs.len() - 1;
                    dirs[d].dirs.insert(part.to_string(), x);
                    x
                }
            };
            d = next;
            for (i, c) in cols.iter().enumerate() {
                if let Some(c) = c {
                    add(&mut dirs[d].counts, i, *c);
                }
            }
        }
        dirs[d].files.push(fi);
    }
    // Chains of directories with one subdirectory and no files show as one
    // entry (`k8s.io/kubernetes`).
    let follow = |mut d: usize, mut name: String| -> (usize, String) {
        while dirs[d].files.is_empty() && dirs[d].dirs.len() == 1 {
            let (child, &c) = dirs[d].dirs.iter().next().expect("one child");
            name = if name.is_empty() {
                child.clone()
            } else {
                format!("{name}/{child}")
            };
            d = c;
        }
        (d, name)
    };
    let (root, root_name) = follow(0, String::new());
    let set_mode = profiles
        .iter()
        .any(|(_, p)| p.mode().is_some_and(|m| m.is_set()));

    // Visit visible directories breadth first, so ids of the top levels
    // are small and the boot data holds the root and its children.
    let mut boot_dirs = serde_json::Map::new();
    let mut search: Vec<Value> = Vec::new();
    let mut queue = std::collections::VecDeque::new();
    let mut next_id = 1usize;
    queue.push_back((
        root,
        0usize,
        root_name.clone(),
        root_name,
        Vec::<Value>::new(),
        0usize,
    ));
    while let Some((d, id, path, name, up, level)) = queue.pop_front() {
        let did = format!("d{id}");
        let mut kids = Vec::new();
        let mut my_up = up.clone();
        my_up.push(json!([if name.is_empty() { "(root)" } else { &name }, did]));
        for (cname, &c) in &dirs[d].dirs {
            let (c, cname) = follow(c, cname.clone());
            let cid = next_id;
            next_id += 1;
            let cpath = if path.is_empty() {
                cname.clone()
            } else {
                format!("{path}/{cname}")
            };
            kids.push(
                json!({"t": "d", "id": format!("d{cid}"), "n": cname, "c": cells(&dirs[c].counts)}),
            );
            search.push(json!([format!("{cpath}/"), format!("d{cid}")]));
            queue.push_back((c, cid, cpath, cname, my_up.clone(), level + 1));
        }
        for &fi in &dirs[d].files {
            let fname = names[fi];
            let base = fname.rsplit('/').next().unwrap_or(fname);
            let fid = format!("f{fi}");
            let has_src = write_file_page(
                out, &fid, fname, profiles, resolver, set_mode, &did, &name, &my_up,
            )?;
            let mut k = json!({"t": "f", "id": fid, "n": base, "c": cells(&files[fname])});
            if has_src {
                k["s"] = json!(1);
            }
            kids.push(k);
            search.push(json!([fname, if has_src { &fid } else { &did }]));
        }
        let data = json!({"id": did, "path": path, "name": if name.is_empty() { "(root)".to_string() } else { name.clone() },
            "up": up, "c": cells(&dirs[d].counts), "kids": kids});
        write_js(out, &did, "dir", &data)?;
        if level <= 1 {
            boot_dirs.insert(did, data);
        }
    }
    write_js(out, "search", "search", &search)?;

    let totals = (0..n)
        .map(|i| {
            let c = profiles[i].1.statements();
            Stat::new(c.covered, c.total)
        })
        .collect();
    let idx = SiteIndex {
        title: title.to_string(),
        columns: profiles.iter().map(|(l, _)| l.clone()).collect(),
        totals,
        files: names.len(),
        set_mode,
        boot: json!({"title": title, "cols": profiles.iter().map(|(l, _)| l.clone()).collect::<Vec<_>>(),
            "root": "d0", "dirs": boot_dirs}),
    };
    let path = out.join("index.html");
    let mut w = BufWriter::new(
        fs::File::create(&path).with_context(|| format!("cannot write {}", path.display()))?,
    );
    write_site_index(&mut w, &idx)?;
    w.flush()?;
    Ok(())
}

/// Writes `data/<fid>.js` with the coloured source and the functions of
/// `name` if its source is found; returns whether it was.
#[allow(clippy::too_many_arguments)]
fn write_file_page(
    out: &Path,
    fid: &str,
    name: &str,
    profiles: &[(String, Profile)],
    resolver: &SourceResolver,
    set_mode: bool,
    did: &str,
    dirname: &str,
    up: &[Value],
) -> Result<bool> {
    let Ok(path) = resolver.resolve(name) else {
        return Ok(false);
    };
    let Ok(src) = fs::read(&path) else {
        return Ok(false);
    };
    let per: Vec<Option<&covlens_core::FileProfile>> =
        profiles.iter().map(|(_, p)| p.file(name)).collect();
    let first = per.iter().flatten().next().expect("file is in a profile");
    let funcs: Vec<Value> = find_funcs(&src, &path.to_string_lossy())
        .unwrap_or_default()
        .iter()
        .map(|f| {
            let c: Cols = per
                .iter()
                .map(|p| p.map(|p| f.coverage(p.blocks())))
                .collect();
            json!([f.name, f.start_line, cells(&c)])
        })
        .collect();
    let c: Cols = per.iter().map(|p| p.map(|p| p.statements())).collect();
    let mut data = json!({"path": name, "name": name.rsplit('/').next().unwrap_or(name), "dir": did,
        "dirname": dirname, "up": &up[..up.len().saturating_sub(1)], "c": cells(&c), "funcs": funcs,
        "lines": source_lines(&src, first.blocks(), set_mode), "set": set_mode});
    if profiles.len() > 1 {
        data["bc"] = json!(block_counts(first.blocks(), &per));
    }
    write_js(out, fid, "file", &data)?;
    Ok(true)
}

/// Per column, the counts of `blocks` (the spans' `data-k` indices) when
/// that column's file has the same blocks, so the page can colour the
/// source by any column; `None` for a column without the file or with
/// another layout (another version of the source).
fn block_counts(
    blocks: &[Block],
    per: &[Option<&covlens_core::FileProfile>],
) -> Vec<Option<Vec<u64>>> {
    per.iter()
        .map(|p| {
            let p = (*p)?;
            let same = p.blocks().len() == blocks.len()
                && p.blocks().iter().zip(blocks).all(|(a, b)| a.same_shape(b));
            same.then(|| p.blocks().iter().map(|b| b.count).collect())
        })
        .collect()
}

/// CSS class of a block as `go tool cover -html` picks it: `cov0` for
/// no count; otherwise `cov1`…`cov10` by ln(count)/ln(max) over the
/// file, and `cov8` in set mode or when no count exceeds 1.
fn class(count: u64, max: u64, set_mode: bool) -> u32 {
    if count == 0 {
        return 0;
    }
    if set_mode || max <= 1 {
        return 8;
    }
    let norm = (count as f64).ln() / (max as f64).ln();
    ((norm * 9.0).floor() as u32 + 1).clamp(1, 10)
}

/// The source as HTML lines, each piece inside a block wrapped in a span
/// of the innermost (last started) block. Spans are closed at line ends
/// so every line stands alone.
pub fn source_lines(src: &[u8], blocks: &[Block], set_mode: bool) -> Vec<String> {
    let max = blocks.iter().map(|b| b.count).max().unwrap_or(0);
    // (line, col, 0 = end / 1 = start, block)
    let mut ev: Vec<(u32, u32, u8, usize)> = Vec::with_capacity(blocks.len() * 2);
    for (i, b) in blocks.iter().enumerate() {
        ev.push((b.start_line, b.start_col, 1, i));
        ev.push((b.end_line, b.end_col, 0, i));
    }
    ev.sort_unstable();
    let mut e = 0;
    let mut active: Vec<usize> = Vec::new();
    let mut lines = Vec::new();
    let text = src.strip_suffix(b"\n").unwrap_or(src);
    for (li, line) in text.split(|&b| b == b'\n').enumerate() {
        let l = li as u32 + 1;
        let mut html = String::with_capacity(line.len() + 32);
        let mut open: Option<usize> = None;
        let mut seg_start = 0;
        for col in 1..=line.len() as u32 + 1 {
            while e < ev.len() && (ev[e].0, ev[e].1) <= (l, col) {
                let (_, _, kind, i) = ev[e];
                if kind == 1 {
                    active.push(i);
                } else if let Some(p) = active.iter().rposition(|&x| x == i) {
                    active.remove(p);
                }
                e += 1;
            }
            let at = col as usize - 1;
            let cur = active.last().copied();
            if cur != open || at == line.len() {
                push_text(&mut html, &line[seg_start..at]);
                seg_start = at;
                if open.is_some() {
                    html.push_str("</span>");
                }
                if at < line.len()
                    && let Some(i) = cur
                {
                    let b = &blocks[i];
                    html.push_str(&format!(
                        "<span class=\"cov{}\" title=\"{}\" data-k=\"{i}\">",
                        class(b.count, max, set_mode),
                        b.count
                    ));
                }
                open = if at < line.len() { cur } else { None };
            }
        }
        lines.push(html);
    }
    lines
}

fn push_text(html: &mut String, bytes: &[u8]) {
    for ch in String::from_utf8_lossy(bytes).chars() {
        match ch {
            '&' => html.push_str("&amp;"),
            '<' => html.push_str("&lt;"),
            '>' => html.push_str("&gt;"),
            '"' => html.push_str("&quot;"),
            c => html.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_as_go_tool_cover() {
        assert_eq!(class(0, 10, false), 0);
        assert_eq!(class(1, 1, false), 8);
        assert_eq!(class(1, 100, false), 1);
        assert_eq!(class(100, 100, false), 10);
        assert_eq!(class(3, 3, true), 8);
    }

    #[test]
    fn spans_per_line() {
        let src = b"func f() {\n\tx := 1 < 2\n}\n";
        let blocks = [Block::new((1, 10), (3, 2), 1, 0)];
        let l = source_lines(src, &blocks, false);
        assert_eq!(
            l,
            [
                "func f() <span class=\"cov0\" title=\"0\" data-k=\"0\">{</span>",
                "<span class=\"cov0\" title=\"0\" data-k=\"0\">\tx := 1 &lt; 2</span>",
                "<span class=\"cov0\" title=\"0\" data-k=\"0\">}</span>",
            ]
        );
    }
}
