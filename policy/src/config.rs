//! `.covlens.yml`: the policy as a file (docs/policy.md documents every
//! key).
//!
//! ```yaml
//! module: k8s.io/kubernetes
//! threshold:
//!   total: 60
//!   package: 40
//!   file: 0
//!   patch: 80
//! override:
//!   - path: ^k8s\.io/kubernetes/pkg/kubelet/
//!     threshold: 70
//! exclude:
//!   paths: [zz_generated, \.pb\.go$]
//!   annotations: true
//! max-drop: 1
//! ```
//!
//! YAML is read with serde-saphyr (as covlens-prow's reporter config), and
//! serde_path_to_error names the key of a type error; values carry their
//! position (`Spanned`), so a value of the right type but out of range is
//! reported at its line too. Unknown keys are errors: a misspelt
//! `threshhold` must not turn a gate off.

use std::path::Path;

use covlens_core::owners::OwnerBy;
use regex::Regex;
use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::Error;
use crate::model::{
    EXPECTED_PERCENT, EXPECTED_POINTS, GroupOverride, Override, Pattern, Percent, Points, Policy,
};

/// The file `covlens check` reads when no other is named.
pub const DEFAULT_CONFIG: &str = ".covlens.yml";

/// A read and validated policy file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PolicyFile {
    /// The rules.
    pub policy: Policy,
    /// `module`: the import path of the repository root, which maps diff
    /// paths to profile names and profile names to repository paths.
    pub module: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    module: Option<Spanned<String>>,
    #[serde(default)]
    threshold: RawThreshold,
    #[serde(default, rename = "override")]
    overrides: Vec<RawOverride>,
    #[serde(default)]
    exclude: RawExclude,
    #[serde(rename = "max-drop")]
    max_drop: Option<Spanned<f64>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawThreshold {
    total: Option<Spanned<f64>>,
    package: Option<Spanned<f64>>,
    file: Option<Spanned<f64>>,
    patch: Option<Spanned<f64>>,
    owner: Option<Spanned<f64>>,
    label: Option<Spanned<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOverride {
    path: Option<Spanned<String>>,
    owner: Option<Spanned<String>>,
    label: Option<Spanned<String>>,
    threshold: Spanned<f64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawExclude {
    #[serde(default)]
    paths: Vec<Spanned<String>>,
    #[serde(default)]
    annotations: bool,
}

impl PolicyFile {
    /// The file at `path`; without one, [`DEFAULT_CONFIG`] in the current
    /// directory when it exists, else an empty policy.
    pub fn load(path: Option<&Path>) -> Result<PolicyFile, Error> {
        match path {
            Some(p) => PolicyFile::read(p),
            None if Path::new(DEFAULT_CONFIG).is_file() => {
                PolicyFile::read(Path::new(DEFAULT_CONFIG))
            }
            None => Ok(PolicyFile::default()),
        }
    }

    /// Reads and validates the file at `path`.
    pub fn read(path: &Path) -> Result<PolicyFile, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.display().to_string(),
            source,
        })?;
        PolicyFile::parse(&text, &path.display().to_string())
    }

    /// Reads and validates a policy from its text; `origin` (a file name)
    /// starts every error message.
    pub fn parse(text: &str, origin: &str) -> Result<PolicyFile, Error> {
        // An empty file (or only comments) is an empty policy.
        if text
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
        {
            return Ok(PolicyFile::default());
        }
        let raw = crate::yaml::from_str::<RawFile>(text).map_err(|e| Error::Config {
            origin: origin.to_string(),
            line: e.line,
            column: e.column,
            message: match expected_for(&e.key) {
                Some(m) => m.to_string(),
                None => e.message,
            },
            key: e.key,
        })?;
        Validator { origin }.file(raw)
    }
}

/// What a number key must hold (a type error there says this instead of
/// serde's `invalid type: …, expected f64`).
fn expected_for(key: &str) -> Option<&'static str> {
    if key == "max-drop" {
        Some(EXPECTED_POINTS)
    } else if matches!(
        key,
        "threshold.total"
            | "threshold.package"
            | "threshold.file"
            | "threshold.patch"
            | "threshold.owner"
            | "threshold.label"
    ) || (key.starts_with("override[") && key.ends_with("].threshold"))
    {
        Some(EXPECTED_PERCENT)
    } else {
        None
    }
}

struct Validator<'a> {
    origin: &'a str,
}

impl Validator<'_> {
    fn err<T>(&self, key: String, at: &Spanned<T>, message: impl Into<String>) -> Error {
        Error::Config {
            origin: self.origin.to_string(),
            line: at.referenced.line() as usize,
            column: at.referenced.column() as usize,
            key,
            message: message.into(),
        }
    }

    fn percent(&self, key: &str, v: Option<Spanned<f64>>) -> Result<Option<Percent>, Error> {
        v.map(|v| {
            Percent::new(v.value).ok_or_else(|| self.err(key.to_string(), &v, EXPECTED_PERCENT))
        })
        .transpose()
    }

    /// A name on one line, not empty.
    fn text(&self, key: String, v: &Spanned<String>) -> Result<String, Error> {
        let t = v.value.trim();
        if t.is_empty() || t.chars().any(char::is_control) {
            return Err(self.err(key, v, "expected a name on one line"));
        }
        Ok(t.to_string())
    }

    fn pattern(&self, key: String, v: &Spanned<String>) -> Result<Pattern, Error> {
        // Compiled here for the message; Pattern::new cannot fail after.
        match Regex::new(&v.value) {
            Ok(_) => Pattern::new(&v.value),
            Err(e) => Err(self.err(
                key,
                v,
                format!("invalid regular expression: {}", regex_message(&e)),
            )),
        }
    }

    fn file(&self, raw: RawFile) -> Result<PolicyFile, Error> {
        let t = raw.threshold;
        let mut policy = Policy {
            total: self.percent("threshold.total", t.total)?,
            package: self.percent("threshold.package", t.package)?,
            file: self.percent("threshold.file", t.file)?,
            patch: self.percent("threshold.patch", t.patch)?,
            owner: self.percent("threshold.owner", t.owner)?,
            label: self.percent("threshold.label", t.label)?,
            ..Policy::default()
        };
        if let Some(v) = raw.max_drop {
            policy.max_drop = Some(
                Points::new(v.value)
                    .ok_or_else(|| self.err("max-drop".into(), &v, EXPECTED_POINTS))?,
            );
        }
        for (i, o) in raw.overrides.iter().enumerate() {
            let threshold = Percent::new(o.threshold.value).ok_or_else(|| {
                self.err(
                    format!("override[{i}].threshold"),
                    &o.threshold,
                    EXPECTED_PERCENT,
                )
            })?;
            match (&o.path, &o.owner, &o.label) {
                (Some(path), None, None) => policy.overrides.push(Override {
                    path: self.pattern(format!("override[{i}].path"), path)?,
                    threshold,
                }),
                (None, Some(name), None) | (None, None, Some(name)) => {
                    let by = if o.owner.is_some() {
                        OwnerBy::Owner
                    } else {
                        OwnerBy::Label
                    };
                    let key = format!(
                        "override[{i}].{}",
                        if o.owner.is_some() { "owner" } else { "label" }
                    );
                    let name = self.text(key, name)?;
                    policy.group_overrides.push(GroupOverride {
                        by,
                        name,
                        threshold,
                    });
                }
                _ => {
                    return Err(self.err(
                        format!("override[{i}]"),
                        &o.threshold,
                        "expected one of path, owner and label",
                    ));
                }
            }
        }
        for (i, p) in raw.exclude.paths.iter().enumerate() {
            policy
                .exclude
                .push(self.pattern(format!("exclude.paths[{i}]"), p)?);
        }
        policy.exclude_annotations = raw.exclude.annotations;
        let module = match raw.module {
            Some(m) => {
                let v = m.value.trim().trim_end_matches('/');
                if v.is_empty() || v.chars().any(|c| c.is_whitespace() || c.is_control()) {
                    return Err(self.err(
                        "module".into(),
                        &m,
                        "expected an import path (`k8s.io/kubernetes`)",
                    ));
                }
                Some(v.to_string())
            }
            None => None,
        };
        Ok(PolicyFile { policy, module })
    }
}

/// The regex crate's message on one line (a syntax error is several:
/// the pattern, a caret, then `error: …`).
pub(crate) fn regex_message(e: &regex::Error) -> String {
    let s = e.to_string();
    let last = s.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("");
    last.trim()
        .strip_prefix("error: ")
        .unwrap_or(last.trim())
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        PolicyFile::parse(text, ".covlens.yml")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn every_key() {
        let f = PolicyFile::parse(
            "# policy\nmodule: k8s.io/kubernetes/\nthreshold:\n  total: 60\n  package: 40.5\n  file: 0\n  patch: 80\noverride:\n  - path: ^k8s\\.io/kubernetes/pkg/kubelet/\n    threshold: 70\n  - {path: 'x=y', threshold: 1}\nexclude:\n  paths: [zz_generated, '\\.pb\\.go$']\nmax-drop: 0.5\n",
            ".covlens.yml",
        )
        .unwrap();
        assert_eq!(f.module.as_deref(), Some("k8s.io/kubernetes"));
        let p = &f.policy;
        assert_eq!(p.total, Percent::new(60.0));
        assert_eq!(p.package, Percent::new(40.5));
        assert_eq!(p.file, Percent::new(0.0));
        assert_eq!(p.patch, Percent::new(80.0));
        assert_eq!(p.max_drop, Points::new(0.5));
        assert_eq!(p.overrides.len(), 2);
        assert_eq!(p.overrides[1].path.as_str(), "x=y");
        assert_eq!(p.exclude[1].as_str(), r"\.pb\.go$");
        assert!(!p.exclude_annotations);
        let f = PolicyFile::parse("threshold: {total: 1}\nexclude: {annotations: true}\n", "x");
        assert!(f.unwrap().policy.exclude_annotations);
        assert_eq!(
            PolicyFile::parse("# nothing\n\n", "x").unwrap(),
            PolicyFile::default()
        );
    }

    #[test]
    fn errors_name_the_key_and_the_line() {
        assert_eq!(
            err("threshold:\n  total: 60\n  package: 150\n"),
            ".covlens.yml:3:12: threshold.package: expected a number from 0 to 100"
        );
        assert_eq!(
            err(
                "override:\n  - path: ok\n    threshold: 1\n  - path: '(unclosed'\n    threshold: 1\n"
            ),
            ".covlens.yml:4:11: override[1].path: invalid regular expression: unclosed group"
        );
        assert_eq!(
            err("override:\n  - path: ok\n    threshold: -3\n"),
            ".covlens.yml:3:16: override[0].threshold: expected a number from 0 to 100"
        );
        assert_eq!(
            err("max-drop: 101\n"),
            ".covlens.yml:1:11: max-drop: expected a number of percentage points from 0 to 100"
        );
        assert_eq!(
            err("exclude:\n  paths:\n    - a\n    - '['\n"),
            ".covlens.yml:4:7: exclude.paths[1]: invalid regular expression: unclosed character class"
        );
        assert!(
            err("exclude:\n  annotations: 2\n")
                .starts_with(".covlens.yml:2:16: exclude.annotations: "),
            "{}",
            err("exclude:\n  annotations: 2\n")
        );
        let e = err("threshold:\n  packge: 50\n");
        assert_eq!(
            e,
            ".covlens.yml:2:3: threshold.packge: unknown field `packge`, expected one of total, package, file, patch, owner, label"
        );
        assert_eq!(
            err("threshold:\n  total: high\n"),
            ".covlens.yml:2:10: threshold.total: expected a number from 0 to 100"
        );
        assert_eq!(
            err("override:\n  - path: x\n    threshold: [1]\n"),
            ".covlens.yml:3:16: override[0].threshold: expected a number from 0 to 100"
        );
        assert_eq!(
            err("override:\n  - threshold: 1\n"),
            ".covlens.yml:2:16: override[0]: expected one of path, owner and label"
        );
        assert_eq!(
            err("override:\n  - {path: x, label: sig/node, threshold: 1}\n"),
            ".covlens.yml:2:43: override[0]: expected one of path, owner and label"
        );
        assert_eq!(
            err("override:\n  - {label: '', threshold: 1}\n"),
            ".covlens.yml:2:13: override[0].label: expected a name on one line"
        );
        let e = err("threshold: [1, 2\n");
        assert!(e.starts_with(".covlens.yml:"), "{e}");
        let e = err("module: ''\n");
        assert!(e.starts_with(".covlens.yml:1:9: module: expected"), "{e}");
    }
}
