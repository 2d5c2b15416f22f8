//! `diff`.

use anyhow::Result;
use clap::{Args, ValueEnum};
use covlens_core::RestartPolicy;

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
    /// Output file (`-` for stdout).
    #[arg(short, long, default_value = "-")]
    output: String,
    /// A count that went down (the program restarted in between): write 0,
    /// write the after count, or fail.
    #[arg(long, value_enum, default_value_t = RestartArg::Clamp)]
    restart_policy: RestartArg,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum RestartArg {
    Clamp,
    After,
    Error,
}

pub fn run(input: &InputArgs, a: DiffArgs) -> Result<()> {
    let policy = match a.restart_policy {
        RestartArg::Clamp => RestartPolicy::Clamp,
        RestartArg::After => RestartPolicy::After,
        RestartArg::Error => RestartPolicy::Error,
    };
    let d = with_loader(&input.load_options(), |l| {
        l.diff(&a.before, &a.after, policy)
    })?;
    super::write_profile_to(&a.output, &super::non_empty(d)?)
}
