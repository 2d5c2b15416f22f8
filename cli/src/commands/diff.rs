//! `diff`.

use anyhow::Result;
use clap::{Args, ValueEnum};
use covlens_core::RestartPolicy;

use crate::input::{InputArgs, is_covdata_dir, load};

#[derive(Args, Debug)]
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
    let popts = input.parse_options();
    let before = load(&a.before, &popts)?;
    let policy = match a.restart_policy {
        RestartArg::Clamp => RestartPolicy::Clamp,
        RestartArg::After => RestartPolicy::After,
        RestartArg::Error => RestartPolicy::Error,
    };
    let d = if is_covdata_dir(&a.after) {
        let after = load(&a.after, &popts)?;
        covlens_core::diff(
            (&a.before, before),
            (&a.after, &after),
            input.mode_policy(),
            policy,
        )?
    } else {
        // The after side stays in the parser's buffers: one profile's worth
        // of memory less at Kubernetes scale.
        let after = covlens_core::parse_path_raw(
            std::path::Path::new(&a.after),
            &popts,
            &mut covlens_core::BlockPool::default(),
        )?;
        covlens_core::diff_raw((&a.before, before), &after, input.mode_policy(), policy)?
    };
    super::write_profile_to(&a.output, &super::non_empty(d)?)
}
