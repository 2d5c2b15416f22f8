//! `summary`: rollups as a table, JSON or Markdown.

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use covlens_core::owners::{OwnerBy, OwnersTree, rollup, write_rollup_json, write_rollup_table};
use covlens_core::summarize_under;
use covlens_report_templates::{SummaryBy, SummaryFormat, write_summary};

use crate::input::{InputArgs, load};

#[derive(Args, Debug)]
#[command(after_help = crate::input::inputs_help!(
    "covlens summary /tmp/covdir --by tree --depth 2",
    "gzip -dc c.out.gz | covlens summary - --by package"
))]
pub struct SummaryArgs {
    /// The profile to summarise (`-` for stdin).
    file: String,
    /// Output file (`-` for stdout).
    #[arg(short, long, default_value = "-")]
    output: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Rows: per file, per package, or per directory tree (table and
    /// Markdown; JSON has all three).
    #[arg(long, value_enum, default_value_t = By::Package)]
    by: By,
    /// Deepest directory level in the tree, in path elements below the
    /// root.
    #[arg(long)]
    depth: Option<usize>,
    /// The directory rows are shown relative to (import-path prefix, e.g.
    /// `k8s.io/kubernetes/`); default: the longest directory common to
    /// every file; `--root ''` for full import paths. JSON keeps full
    /// names and says the root.
    #[arg(long, value_name = "PREFIX")]
    root: Option<String>,
    /// A source tree with Kubernetes OWNERS files and/or CODEOWNERS, for
    /// `--by owner` and `--by label`.
    #[arg(long, value_name = "DIR")]
    owners: Option<std::path::PathBuf>,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum Format {
    Table,
    Json,
    Markdown,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum By {
    File,
    Package,
    Tree,
    /// Per owner (OWNERS approvers, CODEOWNERS owners; needs --owners).
    Owner,
    /// Per OWNERS label such as sig/node (needs --owners).
    Label,
}

pub fn run(input: &InputArgs, a: SummaryArgs) -> Result<()> {
    let owner_by = match a.by {
        By::Owner => Some(OwnerBy::Owner),
        By::Label => Some(OwnerBy::Label),
        _ => None,
    };
    let p = load(&a.file, &input.load_options())?;
    if let Some(by) = owner_by {
        let Some(dir) = &a.owners else {
            anyhow::bail!("--by owner and --by label need --owners DIR (the source tree)");
        };
        let tree = OwnersTree::load(dir)
            .with_context(|| format!("cannot read ownership from {}", dir.display()))?;
        let rows = rollup(&p, &tree, by);
        let mut out = covlens_core::output::Output::create(&a.output)?;
        match a.format {
            Format::Table => write_rollup_table(&mut out, &rows, by)?,
            Format::Json => write_rollup_json(&mut out, &rows, by)?,
            Format::Markdown => anyhow::bail!("--by owner|label: use --format table or json"),
        }
        return Ok(out.commit()?);
    }
    let root = covlens_report_templates::report_root(a.root.as_deref(), [&p]);
    let s = summarize_under(&p, &root, a.depth)?;
    let by = match a.by {
        By::File => SummaryBy::File,
        By::Package => SummaryBy::Package,
        By::Tree => SummaryBy::Tree,
        By::Owner | By::Label => unreachable!("handled above"),
    };
    let format = match a.format {
        Format::Table => SummaryFormat::Table,
        Format::Json => SummaryFormat::Json,
        Format::Markdown => SummaryFormat::Markdown,
    };
    let mut out = covlens_core::output::Output::create(&a.output)?;
    write_summary(&mut out, &s, by, format)?;
    Ok(out.commit()?)
}
