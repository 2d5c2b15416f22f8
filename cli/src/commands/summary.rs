//! `summary`: rollups as a table, JSON or Markdown.

use anyhow::{Result, bail};
use clap::Args;
use covlens_core::owners::{OwnerBy, rollup, write_rollup_json, write_rollup_table};
use covlens_core::summarize_under;
use covlens_report_templates::{SummaryBy, SummaryFormat, report_root, write_summary};

use super::{Names, Out, choice, load_owners};
use crate::input::{InputArgs, load};

#[derive(Args, Debug)]
#[command(after_help = crate::input::inputs_help!(
    "covlens summary /tmp/covdir --by tree --depth 2",
    "gzip -dc c.out.gz | covlens summary - --by package"
))]
pub struct SummaryArgs {
    /// The profile to summarise (`-` for stdin).
    file: String,
    #[command(flatten)]
    out: Out,
    /// Output format.
    #[arg(long, default_value = "table", value_parser = choice(FORMAT))]
    format: SummaryFormat,
    /// Rows: per file, per package, or per directory tree (table and
    /// Markdown; JSON has all three); or, with --owners, per owner (OWNERS
    /// approvers, CODEOWNERS owners) or per OWNERS label such as sig/node.
    #[arg(long, default_value = "package", value_parser = choice(BY))]
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

const FORMAT: Names<SummaryFormat> = &[
    ("table", SummaryFormat::Table),
    ("json", SummaryFormat::Json),
    ("markdown", SummaryFormat::Markdown),
];

/// Rows by path, or by owner.
#[derive(Clone, Copy, Debug)]
enum By {
    Paths(SummaryBy),
    Owners(OwnerBy),
}

const BY: Names<By> = &[
    ("file", By::Paths(SummaryBy::File)),
    ("package", By::Paths(SummaryBy::Package)),
    ("tree", By::Paths(SummaryBy::Tree)),
    ("owner", By::Owners(OwnerBy::Owner)),
    ("label", By::Owners(OwnerBy::Label)),
];

pub fn run(input: &InputArgs, a: SummaryArgs) -> Result<()> {
    let p = load(&a.file, &input.load_options())?;
    match a.by {
        By::Owners(by) => {
            let Some(dir) = &a.owners else {
                bail!("--by owner and --by label need --owners DIR (the source tree)");
            };
            let rows = rollup(&p, &load_owners(dir, None)?, by);
            match a.format {
                SummaryFormat::Table => a.out.write(|w| write_rollup_table(w, &rows, by)),
                SummaryFormat::Json => a.out.write(|w| write_rollup_json(w, &rows, by)),
                SummaryFormat::Markdown => bail!("--by owner|label: use --format table or json"),
            }
        }
        By::Paths(by) => {
            let s = summarize_under(&p, &report_root(a.root.as_deref(), [&p]), a.depth)?;
            a.out.write(|w| write_summary(w, &s, by, a.format))
        }
    }
}
