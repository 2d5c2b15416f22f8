//! Go's flag spellings for the `covdata` commands.
//!
//! `go tool covdata` parses its flags with Go's `flag` package: one or two
//! dashes, `-flag=value` or `-flag value`, booleans as `-flag=true`.
//! [`go_flag_args`] turns such arguments into the usual spellings (`-i`,
//! `-o`, `--pkg`, `--live`...), so command lines written for `go tool
//! covdata` work unchanged.

use std::ffi::OsString;

/// Rewrites the arguments of a `covdata` command (those after its name):
/// `-pkg=P`, `-pkg P`, `--i=D`, `-pcombine=true`... become `--pkg P`,
/// `-i D`, `--pcombine`; a boolean set to false is dropped. Other
/// arguments are kept as they are.
pub fn go_flag_args(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let mut out = Vec::new();
    for a in args {
        let Some(s) = a.to_str() else {
            out.push(a);
            continue;
        };
        let (flag, value) = match s.split_once('=') {
            Some((f, v)) => (f, Some(v)),
            None => (s, None),
        };
        let canon = match flag {
            "-pkg" | "--pkg" => "--pkg",
            "-i" | "--i" => "-i",
            "-o" | "--o" => "-o",
            "-skip-bad" => "--skip-bad",
            "-all-snapshots" => "--all-snapshots",
            "-newest-per-pid" => "--newest-per-pid",
            "-pcombine" | "--pcombine" => "--pcombine",
            "-live" => "--live",
            _ => {
                out.push(a);
                continue;
            }
        };
        if canon.starts_with("--") && canon != "--pkg" {
            // A boolean flag: Go also accepts -flag=true and -flag=false.
            match value {
                None | Some("true" | "1" | "t" | "T" | "TRUE" | "True") => out.push(canon.into()),
                Some(_) => {}
            }
            continue;
        }
        out.push(canon.into());
        if let Some(v) = value {
            out.push(v.into());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(v: &[&str]) -> Vec<String> {
        go_flag_args(v.iter().map(OsString::from))
            .into_iter()
            .map(|s| s.into_string().unwrap())
            .collect()
    }

    #[test]
    fn go_flag_spellings() {
        assert_eq!(
            norm(&["textfmt", "-i=a,b", "-o=x", "-pkg=p/..."]),
            ["textfmt", "-i", "a,b", "-o", "x", "--pkg", "p/..."]
        );
        assert_eq!(norm(&["func", "-pkg", "p"]), ["func", "--pkg", "p"]);
        assert_eq!(
            norm(&["merge", "-pcombine=true", "-skip-bad=false", "--i", "d"]),
            ["merge", "--pcombine", "-i", "d"]
        );
        assert_eq!(
            norm(&["pkglist", "-x=1", "dir"]),
            ["pkglist", "-x=1", "dir"]
        );
    }
}
