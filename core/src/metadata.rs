//! gopherage's coverage metadata JSON (`gopherage metadata inc|abs`), the
//! description of a coverage run that Gerrit-style tooling reads.

use std::fmt::Write as _;

/// What a coverage run measured, with the fields gopherage writes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Metadata {
    /// Name of the repository host.
    pub host: String,
    /// Project name.
    pub project: String,
    /// Path to the workspace root of the repository.
    pub workspace_root: String,
    /// Type of coverage (`COV`, `LCOV`).
    pub trace_type: String,
    /// Per change or per commit.
    pub scope: Scope,
}

/// Whether the coverage is of one change or of a commit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Incremental coverage of one change (`metadata inc`).
    Change {
        /// Gerrit change number.
        changelist_num: String,
        /// Gerrit patchset number.
        patchset_num: String,
    },
    /// Absolute coverage of a commit (`metadata abs`).
    Commit {
        /// The commit hash.
        commit_id: String,
        /// The branch.
        git_ref: String,
        /// Free-form information about the coverage source.
        source: String,
        /// Path that replaces the root of coverage paths.
        git_project: String,
    },
}

impl Default for Scope {
    fn default() -> Scope {
        Scope::Change {
            changelist_num: String::new(),
            patchset_num: String::new(),
        }
    }
}

impl Scope {
    /// [`Scope::Commit`], where an empty commit is the one checked out
    /// (`git rev-parse HEAD`) and an empty ref the branch checked out, or
    /// `HEAD` when none is.
    pub fn commit_or_checkout(
        commit_id: String,
        git_ref: String,
        source: String,
        git_project: String,
    ) -> Result<Scope, crate::Error> {
        let commit_id = if commit_id.is_empty() {
            git(&["rev-parse", "HEAD"])?
        } else {
            commit_id
        };
        let git_ref = if git_ref.is_empty() {
            git(&["branch", "--show-current"]).unwrap_or_else(|_| "HEAD".into())
        } else {
            git_ref
        };
        Ok(Scope::Commit {
            commit_id,
            git_ref,
            source,
            git_project,
        })
    }
}

impl Metadata {
    /// The JSON gopherage writes: one line, no trailing newline, fields in
    /// its order, strings escaped as Go's `json.Marshal` escapes them.
    pub fn to_json(&self) -> String {
        let mut fields = vec![
            ("host", &self.host),
            ("project", &self.project),
            ("workspace_root", &self.workspace_root),
            ("trace_type", &self.trace_type),
        ];
        match &self.scope {
            Scope::Change {
                changelist_num,
                patchset_num,
            } => fields.extend([
                ("changelist_num", changelist_num),
                ("patchset_num", patchset_num),
            ]),
            Scope::Commit {
                commit_id,
                git_ref,
                source,
                git_project,
            } => fields.extend([
                ("commit_id", commit_id),
                ("ref", git_ref),
                ("source", source),
                ("git_project", git_project),
            ]),
        }
        let mut json = String::from("{");
        for (i, (k, v)) in fields.into_iter().enumerate() {
            if i > 0 {
                json.push(',');
            }
            go_json_string(&mut json, k);
            json.push(':');
            go_json_string(&mut json, v);
        }
        json.push('}');
        json
    }
}

/// What `git ARGS` prints, without its final newline.
fn git(args: &[&str]) -> Result<String, crate::Error> {
    let out = std::process::Command::new("git")
        .args(args)
        .output()
        .map_err(crate::Error::GitRun)?;
    if !out.status.success() {
        return Err(crate::Error::Git {
            args: args.join(" "),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    let s = String::from_utf8_lossy(&out.stdout).into_owned();
    Ok(s.strip_suffix('\n').unwrap_or(&s).to_string())
}

/// A JSON string escaped as Go's `json.Marshal` does (HTML-safe: `<`, `>`
/// and `&` become `\u003c` and so on).
fn go_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_escaping_and_field_order() {
        let m = Metadata {
            host: "a<b>&\"\n".into(),
            scope: Scope::Commit {
                commit_id: "c".into(),
                git_ref: "r".into(),
                source: "\u{1}".into(),
                git_project: String::new(),
            },
            ..Metadata::default()
        };
        assert_eq!(
            m.to_json(),
            r#"{"host":"a\u003cb\u003e\u0026\"\n","project":"","workspace_root":"","trace_type":"","commit_id":"c","ref":"r","source":"\u0001","git_project":""}"#
        );
    }
}
