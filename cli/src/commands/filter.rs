//! `filter`.

use anyhow::Result;
use clap::{ArgAction, Args};

use crate::input::{InputArgs, load};

#[derive(Args, Debug)]
#[command(after_help = crate::input::inputs_help!(
    "covlens filter /tmp/covdir --exclude-path 'zz_generated' -o f.out",
    "gzip -dc c.out.gz | covlens filter - --include-path '^k8s.io/kubernetes/pkg/'"
))]
pub struct FilterArgs {
    /// The profile to filter (`-` for stdin).
    file: String,
    /// Output file (`-` for stdout).
    #[arg(short, long, default_value = "-")]
    output: String,
    /// Keep only files whose path matches; repeatable, and comma-separated
    /// values are split (CSV quoting keeps a comma).
    #[arg(long, action = ArgAction::Append, value_name = "REGEX")]
    include_path: Vec<String>,
    /// Drop files whose path matches; repeatable and comma-split like
    /// --include-path.
    #[arg(long, action = ArgAction::Append, value_name = "REGEX")]
    exclude_path: Vec<String>,
}

pub fn run(input: &InputArgs, a: FilterArgs) -> Result<()> {
    let include = covlens_core::path_regex(&split_all(&a.include_path)?)?;
    let exclude = covlens_core::path_regex(&split_all(&a.exclude_path)?)?;
    let mut p = load(&a.file, &input.load_options())?;
    covlens_core::filter(&mut p, include.as_ref(), exclude.as_ref());
    super::write_profile_to(&a.output, &super::non_empty(p)?)
}

fn split_all(values: &[String]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for v in values {
        out.extend(csv_fields(v)?);
    }
    Ok(out)
}

/// Splits one flag value the way pflag's string slices do: as one CSV
/// record (commas separate fields; a field in double quotes may hold commas
/// and `""` for a quote).
pub fn csv_fields(v: &str) -> Result<Vec<String>> {
    if v.is_empty() {
        return Ok(Vec::new());
    }
    let mut fields = Vec::new();
    let mut chars = v.chars().peekable();
    loop {
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                    None => anyhow::bail!("unterminated quote in {v:?}"),
                }
            }
            match chars.next() {
                None => {
                    fields.push(field);
                    return Ok(fields);
                }
                Some(',') => fields.push(field),
                Some(c) => anyhow::bail!("unexpected {c:?} after a quoted field in {v:?}"),
            }
        } else {
            loop {
                match chars.next() {
                    None => {
                        fields.push(field);
                        return Ok(fields);
                    }
                    Some(',') => break,
                    Some(c) => field.push(c),
                }
            }
            fields.push(field);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::csv_fields;

    #[test]
    fn splits_like_pflag() {
        assert_eq!(
            csv_fields("zz_generated,generated\\.pb\\.go").unwrap(),
            ["zz_generated", "generated\\.pb\\.go"]
        );
        assert_eq!(csv_fields("\"a{1,3}\",b").unwrap(), ["a{1,3}", "b"]);
        assert_eq!(csv_fields("a,").unwrap(), ["a", ""]);
        assert!(csv_fields("").unwrap().is_empty());
    }
}
