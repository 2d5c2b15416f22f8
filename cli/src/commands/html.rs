//! `html`: one self-contained summary page.
//!
//! gopherage's page loads Google Charts from the internet and embeds the raw
//! profiles for client-side parsing. This page is plain HTML and CSS with
//! every number computed here, so it opens offline and from `file://`.
//! Several profiles become columns, with ▲/▼ against the column to the
//! right, as in gopherage's comparison view.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;

use anyhow::Result;
use clap::Args;
use covlens_core::{Counts, Profile, package_of};

use crate::input::{InputArgs, load};

#[derive(Args, Debug)]
pub struct HtmlArgs {
    /// Profiles to show, one column each (`-` for stdin).
    #[arg(required = true)]
    files: Vec<String>,
    /// Output file (`-` for stdout).
    #[arg(short, long, default_value = "-")]
    output: String,
    /// Page title.
    #[arg(long, default_value = "Code Coverage")]
    title: String,
}

pub fn run(input: &InputArgs, a: HtmlArgs) -> Result<()> {
    let popts = input.load_options();
    let mut profiles = Vec::new();
    for f in &a.files {
        profiles.push((super::column_label(f), load(f, &popts)?));
    }
    let page = render(&a.title, &profiles);
    let mut out = covlens_core::output::Output::create(&a.output)?;
    out.write_all(page.as_bytes())?;
    Ok(out.commit()?)
}

/// Per package: per file: counts in each column (None: absent there).
type Table = BTreeMap<String, BTreeMap<String, Vec<Option<Counts>>>>;

fn render(title: &str, profiles: &[(String, Profile)]) -> String {
    let n = profiles.len();
    let mut table: Table = BTreeMap::new();
    let mut totals = vec![Counts::default(); n];
    for (i, (_, p)) in profiles.iter().enumerate() {
        for f in p.files() {
            let c = f.statements();
            totals[i].add(c);
            let row = table
                .entry(package_of(f.name()).to_string())
                .or_default()
                .entry(f.name().to_string())
                .or_insert_with(|| vec![None; n]);
            row[i] = Some(c);
        }
    }
    let mut h = String::with_capacity(4096 + table.len() * 512);
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    let _ = writeln!(h, "<title>{}</title>", esc(title));
    h.push_str(STYLE);
    h.push_str("</head>\n<body>\n");
    let _ = writeln!(h, "<h1>{}</h1>", esc(title));
    h.push_str("<input id=\"q\" type=\"search\" placeholder=\"Filter by path\" aria-label=\"Filter by path\">\n");
    h.push_str("<table>\n<thead><tr><th>Package / file</th>");
    for (label, _) in profiles {
        let _ = write!(h, "<th>{}</th>", esc(label));
    }
    h.push_str("</tr></thead>\n<tbody>\n<tr class=\"total\"><td>Total</td>");
    cells(&mut h, &totals.iter().map(|c| Some(*c)).collect::<Vec<_>>());
    h.push_str("</tr>\n");
    for (pkg, files) in &table {
        let mut sums = vec![None::<Counts>; n];
        for cols in files.values() {
            for (i, c) in cols.iter().enumerate() {
                if let Some(c) = c {
                    sums[i].get_or_insert_with(Counts::default).add(*c);
                }
            }
        }
        let _ = write!(
            h,
            "<tr class=\"pkg\" data-path=\"{}\"><td><details><summary>{}</summary><table class=\"files\">",
            esc(pkg),
            esc(pkg)
        );
        for (file, cols) in files {
            let base = file.rsplit('/').next().unwrap_or(file);
            let _ = write!(
                h,
                "<tr data-path=\"{}\"><td title=\"{}\">{}</td>",
                esc(file),
                esc(file),
                esc(base)
            );
            cells(&mut h, cols);
            h.push_str("</tr>");
        }
        h.push_str("</table></details></td>");
        cells(&mut h, &sums);
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody>\n</table>\n");
    h.push_str(SCRIPT);
    h.push_str("</body>\n</html>\n");
    h
}

fn cells(h: &mut String, cols: &[Option<Counts>]) {
    for (i, c) in cols.iter().enumerate() {
        match c {
            None => h.push_str("<td class=\"na\">–</td>"),
            Some(c) => {
                let pct = c.percent();
                let arrow = match cols.get(i + 1).copied().flatten() {
                    Some(next) if pct > next.percent() + 1e-9 => " <span class=\"up\">▲</span>",
                    Some(next) if pct + 1e-9 < next.percent() => " <span class=\"down\">▼</span>",
                    _ => "",
                };
                // Red (0%) to green (100%).
                let hue = (pct * 1.2).round() as u32;
                let _ = write!(
                    h,
                    "<td class=\"num\" style=\"background:hsl({hue},70%,88%)\" title=\"{} of {} statements\">{:.1}%{arrow}</td>",
                    c.covered, c.total, pct
                );
            }
        }
    }
}

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

const STYLE: &str = "<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;width:100%}
th,td{padding:3px 8px;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}
td.num{text-align:right;white-space:nowrap;width:8em}
td.na{text-align:center;color:#999}
tr.total td{font-weight:bold}
table.files{margin:4px 0 4px 1em;width:calc(100% - 1em)}
summary{cursor:pointer}
.up{color:#080}.down{color:#c00}
#q{margin:0 0 1em;padding:4px;width:30em;max-width:100%}
</style>
";

const SCRIPT: &str = "<script>
document.getElementById('q').addEventListener('input',function(){
var q=this.value.toLowerCase();
document.querySelectorAll('tr.pkg').forEach(function(r){
var hit=r.dataset.path.toLowerCase().indexOf(q)>=0;
r.querySelectorAll('table.files tr').forEach(function(f){
var m=f.dataset.path.toLowerCase().indexOf(q)>=0;f.style.display=(m||hit)?'':'none';if(m)hit=true;});
r.style.display=hit?'':'none';if(q&&hit)r.querySelector('details').open=true;});});
</script>
";

#[cfg(test)]
mod tests {
    use super::*;
    use covlens_core::{ParseOptions, parse_bytes};

    #[test]
    fn columns_and_arrows() {
        let a = parse_bytes(
            b"mode: set\np/a.go:1.1,1.2 1 1\np/b.go:1.1,1.2 1 1\n",
            "a",
            &ParseOptions::default(),
        )
        .unwrap();
        let b = parse_bytes(
            b"mode: set\np/a.go:1.1,1.2 1 0\n",
            "b",
            &ParseOptions::default(),
        )
        .unwrap();
        let page = render("T <x>", &[("master".into(), a), ("1.12".into(), b)]);
        assert!(page.contains("<title>T &lt;x&gt;</title>"));
        assert!(page.contains("<th>master</th><th>1.12</th>"));
        assert!(page.contains("▲"));
        assert!(!page.contains("http"));
    }
}
