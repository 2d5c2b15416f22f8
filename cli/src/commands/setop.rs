//! `subtract` and `intersect`: what only one run covers, and what every
//! run covers, as `go tool covdata` computes them, for any inputs.

use anyhow::Result;
use clap::Args;
use covlens_core::SetOp;

use super::Out;
use crate::input::{InputArgs, with_loader};

#[derive(Args, Debug)]
#[command(after_help = crate::input::inputs_help!(
    "covlens subtract /tmp/e2e-covdir unit.out -o e2e-only.out",
    "gzip -dc e2e.out.gz | covlens intersect - unit.out"
))]
pub struct SetArgs {
    /// The first profile, whose blocks and counts the output keeps (`-`
    /// for stdin).
    first: String,
    /// The profiles it is compared with.
    #[arg(required = true)]
    others: Vec<String>,
    #[command(flatten)]
    out: Out,
}

pub fn run(input: &InputArgs, op: SetOp, a: SetArgs) -> Result<()> {
    let (p, conflicts) = with_loader(&input.load_options(), |l| l.set_op(op, &a.first, &a.others))?;
    crate::warn(conflicts);
    a.out.profile(p)
}
