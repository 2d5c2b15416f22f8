//! `merge` and `aggregate`.

use anyhow::Result;
use clap::{Args, ValueEnum};
use covlens_core::{BlockPool, Combine, MergeOptions, Merger, OnConflict};

use crate::input::{InputArgs, Loaded, for_each_input};

#[derive(Args, Debug)]
pub struct MergeArgs {
    /// Profiles to merge (`-` for stdin).
    #[arg(required = true)]
    files: Vec<String>,
    /// Output file (`-` for stdout).
    #[arg(short, long, default_value = "-")]
    output: String,
    /// When inputs disagree about a file's blocks (different source
    /// versions): fail, merge the rest and report, or drop the file.
    #[arg(long, value_enum, default_value_t = OnConflictArg::Error)]
    on_conflict: OnConflictArg,
    /// Also write the conflicts as JSON to this file.
    #[arg(long, value_name = "FILE")]
    conflicts_json: Option<String>,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum OnConflictArg {
    Error,
    Report,
    SkipFile,
}

#[derive(Args, Debug)]
pub struct AggregateArgs {
    /// Profiles to aggregate (`-` for stdin).
    #[arg(required = true)]
    files: Vec<String>,
    /// Output file (`-` for stdout).
    #[arg(short, long, default_value = "-")]
    output: String,
}

pub fn run_merge(input: &InputArgs, a: MergeArgs) -> Result<()> {
    let on_conflict = match a.on_conflict {
        OnConflictArg::Error => OnConflict::Error,
        OnConflictArg::Report => OnConflict::Report,
        OnConflictArg::SkipFile => OnConflict::SkipFile,
    };
    let opts = MergeOptions {
        mode_policy: input.mode_policy(),
        on_conflict,
        combine: Combine::ByMode,
    };
    let popts = input.parse_options();
    let mut m = Merger::new(opts);
    let mut pool = BlockPool::default();
    let mut t = std::time::Instant::now();
    for_each_input(&a.files, &popts, &mut pool, |f, loaded, pool| {
        let parsed = t.elapsed();
        match loaded {
            Loaded::Raw(raw) => m.add_raw(raw, pool)?,
            Loaded::Profile(p) => m.add(f, p)?,
        }
        tracing::debug!(input = %f, parse = ?parsed, merge = ?(t.elapsed() - parsed), "merged");
        t = std::time::Instant::now();
        Ok(())
    })?;
    let (p, conflicts) = m.finish();
    if matches!(on_conflict, OnConflict::Report) {
        for c in &conflicts {
            eprintln!("covlens: warning: {c}");
        }
    }
    if let Some(path) = &a.conflicts_json {
        let json = serde_json::to_vec_pretty(&serde_json::json!({ "conflicts": conflicts }))?;
        crate::output::write_file(path, &json)?;
    }
    let t = std::time::Instant::now();
    super::write_profile_to(&a.output, &super::non_empty(p)?)?;
    tracing::debug!(write = ?t.elapsed(), "written");
    Ok(())
}

pub fn run_aggregate(input: &InputArgs, a: AggregateArgs) -> Result<()> {
    let opts = MergeOptions {
        mode_policy: input.mode_policy(),
        combine: Combine::Sum,
        ..Default::default()
    };
    let popts = input.parse_options();
    let mut m = Merger::new(opts);
    let mut pool = BlockPool::default();
    for_each_input(&a.files, &popts, &mut pool, |f, loaded, pool| {
        match loaded {
            Loaded::Profile(mut p) => {
                covlens_core::to_boolean(&mut p);
                m.add(f, p)?;
            }
            // to_boolean combines an input's own repeated blocks (a
            // `-coverpkg` profile lists a block once per test binary)
            // before clamping, so each input counts once per block.
            Loaded::Raw(mut raw) => {
                raw.to_boolean();
                m.add_raw(raw, pool)?;
            }
        }
        Ok(())
    })?;
    let (p, _) = m.finish();
    super::write_profile_to(&a.output, &super::non_empty(p)?)
}
