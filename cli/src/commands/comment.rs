//! `comment`: the Markdown of a pull-request comment, always within
//! GitHub's size limit.

use anyhow::Result;
use clap::Args;
use covlens_report_templates::{
    Comment, MAX_SOURCE_FILES, Origin, Provenance, PullBase, TrendRule, go_mod_module,
    min_comment_chars, read_diff_file, read_sources, source_files, write_comment,
};

use crate::input::{InputArgs, load};

#[derive(Args, Debug)]
#[command(after_help = crate::input::inputs_help!(
    "covlens comment --base base.out --head /tmp/covdir --git-diff pr.diff",
    "gzip -dc head.out.gz | covlens comment --base base.out --head -"
))]
pub struct CommentArgs {
    /// The profile of the base branch.
    #[arg(long)]
    base: String,
    /// The profile of the pull request.
    #[arg(long)]
    head: String,
    /// The pull request's unified diff (`git diff base...head`).
    #[arg(long, value_name = "FILE")]
    git_diff: Option<String>,
    /// GitHub's limit; the comment stays below it with a margin. Limits
    /// too small for the comment's marker line are refused.
    #[arg(long, default_value_t = 65536)]
    max_chars: usize,
    /// Link to the full report.
    #[arg(long, value_name = "URL")]
    report_url: Option<String>,
    /// Import path of the repository root (profile names are import paths,
    /// diff paths are repository-relative). Default: the `module` line of
    /// ./go.mod; without one, names are matched by suffix.
    #[arg(long, value_name = "PREFIX")]
    module: Option<String>,
    /// Say under the heading which run the head is: `NAME[@COMMIT]` (a
    /// commit of 7 to 64 hex digits, which GitHub links).
    #[arg(long, value_name = "NAME[@COMMIT]")]
    head_origin: Option<String>,
    /// As --head-origin, for the base (either one names both: the other
    /// is its profile's path).
    #[arg(long, value_name = "NAME[@COMMIT]")]
    base_origin: Option<String>,
    /// The commit the pull request is based on: when the base's commit
    /// (--base-origin) is another, the comment says that changes on the
    /// base branch show as the pull request's.
    #[arg(long, value_name = "COMMIT", requires = "base_origin")]
    pull_base: Option<String>,
    /// List the functions whose coverage fell, from the head's sources
    /// (found as `covlens func` finds them); the base's are rebuilt by
    /// undoing `--git-diff`.
    #[arg(long)]
    functions: bool,
    // For --functions and --ignore-annotations.
    #[command(flatten)]
    sources: super::SourceRoots,
    #[command(flatten)]
    annotations: super::AnnotationArgs,
    /// The base job's last runs (profiles or GOCOVERDIRs, comma-separated
    /// or repeated, at least 2): the changed packages' table gets their
    /// flaky statements, covered in some but not all of these runs.
    #[arg(long, value_name = "RUN,...", value_delimiter = ',')]
    flaky_from: Vec<String>,
    /// Write nothing (no file, nothing on stdout; a note on stderr) when
    /// the comment shows no change, as the reporter's `comment: changed`
    /// judges it: no printed change of the total or of a package, no
    /// package added or removed, no uncovered changed statement, no
    /// function that lost coverage, no package below its trend.
    #[arg(long)]
    if_changed: bool,
    #[command(flatten)]
    out: super::Out,
    #[command(flatten)]
    trend: super::history::TrendArgs,
    /// With `--history`: a package of the head whose coverage is more than
    /// this many points below the mean of its last runs is listed.
    #[arg(long, value_name = "POINTS", default_value_t = TrendRule::default().margin)]
    trend_margin: f64,
    /// With `--history`: runs with a number a package needs before it is
    /// judged against its trend.
    #[arg(long, value_name = "N", default_value_t = TrendRule::default().min_runs)]
    trend_min_runs: usize,
}

pub fn run(input: &InputArgs, a: CommentArgs) -> Result<()> {
    let min = min_comment_chars();
    if a.max_chars < min {
        anyhow::bail!(
            "--max-chars {}: a comment needs at least {min} characters for its marker line \
             and the note that it was cut",
            a.max_chars
        );
    }
    let popts = input.load_options();
    let base = load(&a.base, &popts)?;
    let head = load(&a.head, &popts)?;
    let diff = a.git_diff.as_deref().map(read_diff_file).transpose()?;
    let module = a.module.clone().or_else(go_mod_module);
    let (d, m) = (diff.as_deref(), module.as_deref());
    let (head, base, left_out) = a.annotations.apply((head, base), d, m, &a.sources)?;
    let mut c = Comment::build(
        &base,
        &head,
        diff.as_deref(),
        module.as_deref(),
        a.report_url,
    );
    c.left_out = left_out;
    if a.head_origin.is_some() || a.base_origin.is_some() {
        let origin = |o: &Option<String>, path: &str| Origin::parse(o.as_deref().unwrap_or(path));
        let base = origin(&a.base_origin, &a.base);
        c.provenance = Some(Provenance {
            head: origin(&a.head_origin, &a.head),
            pull_base: a.pull_base.as_deref().and_then(|p| PullBase::of(p, &base)),
            base,
        });
    }
    if a.functions {
        let (diff, module) = (diff.as_deref(), module.as_deref());
        let files = source_files(&base, &head, diff, module, MAX_SOURCE_FILES);
        let sources = read_sources(&files, &a.sources.resolver()?);
        c.set_functions(&base, &head, diff, module, &files, &sources);
    }
    if let Some(h) = a.trend.load(None)? {
        let mut by_pkg = h.percents();
        let rule = TrendRule {
            margin: a.trend_margin,
            min_runs: a.trend_min_runs,
        };
        c.set_trends(&head, rule, |p| by_pkg.remove(p));
    }
    if !a.flaky_from.is_empty() {
        c.set_flaky_report(&crate::input::with_loader(&popts, |l| {
            l.flaky(&a.flaky_from)
        })?);
    }
    if a.if_changed && !c.shows_a_change() {
        crate::note(["the comment shows no change: nothing written (--if-changed)"]);
        return Ok(());
    }
    a.out.write(|w| write_comment(w, &c, a.max_chars))
}
