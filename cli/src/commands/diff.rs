//! `diff`.

use anyhow::Result;
use clap::Args;
use covlens_core::RestartPolicy;

use super::{Names, Out, choice};
use crate::input::{InputArgs, with_loader};

#[derive(Args, Debug)]
#[command(after_help = crate::input::inputs_help!(
    "covlens diff before-covdir/ after-covdir/ -o during.out",
    "gzip -dc after.out.gz | covlens diff before.out -"
))]
pub struct DiffArgs {
    /// The earlier snapshot.
    before: String,
    /// The later snapshot.
    after: String,
    #[command(flatten)]
    out: Out,
    /// A count that went down (the program restarted in between): write 0,
    /// write the after count, or fail.
    #[arg(long, default_value = "clamp", value_parser = choice(RESTART))]
    restart_policy: RestartPolicy,
}

const RESTART: Names<RestartPolicy> = &[
    ("clamp", RestartPolicy::Clamp),
    ("after", RestartPolicy::After),
    ("error", RestartPolicy::Error),
];

pub fn run(input: &InputArgs, a: DiffArgs) -> Result<()> {
    let d = with_loader(&input.load_options(), |l| {
        l.diff(&a.before, &a.after, a.restart_policy)
    })?;
    a.out.profile(d)
}
