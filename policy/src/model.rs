//! The policy: its rules and their values, each valid by construction.

use std::fmt;
use std::str::FromStr;

use covlens_core::owners::OwnerBy;
use regex::Regex;
use serde::{Serialize, Serializer};

use crate::Error;

/// What a percentage must be.
pub(crate) const EXPECTED_PERCENT: &str = "expected a number from 0 to 100";
/// What a number of percentage points must be.
pub(crate) const EXPECTED_POINTS: &str = "expected a number of percentage points from 0 to 100";

/// A required coverage in percent, from 0 to 100.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd, Serialize)]
#[serde(transparent)]
pub struct Percent(f64);

impl Percent {
    /// `v` if it is a finite number from 0 to 100.
    pub fn new(v: f64) -> Option<Percent> {
        (v.is_finite() && (0.0..=100.0).contains(&v)).then_some(Percent(v))
    }

    /// The number.
    pub fn get(self) -> f64 {
        self.0
    }
}

impl FromStr for Percent {
    type Err = Error;

    /// `80`, `80.5` or `80%`.
    fn from_str(s: &str) -> Result<Percent, Error> {
        let t = s.trim();
        let t = t.strip_suffix('%').unwrap_or(t);
        t.parse()
            .ok()
            .and_then(Percent::new)
            .ok_or_else(|| Error::Value {
                value: s.to_string(),
                expected: EXPECTED_PERCENT,
            })
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A largest allowed drop in percentage points, from 0 to 100.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd, Serialize)]
#[serde(transparent)]
pub struct Points(f64);

impl Points {
    /// `v` if it is a finite number from 0 to 100.
    pub fn new(v: f64) -> Option<Points> {
        (v.is_finite() && (0.0..=100.0).contains(&v)).then_some(Points(v))
    }

    /// The number.
    pub fn get(self) -> f64 {
        self.0
    }
}

impl FromStr for Points {
    type Err = Error;

    fn from_str(s: &str) -> Result<Points, Error> {
        s.trim()
            .parse()
            .ok()
            .and_then(Points::new)
            .ok_or_else(|| Error::Value {
                value: s.to_string(),
                expected: EXPECTED_POINTS,
            })
    }
}

impl fmt::Display for Points {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A regular expression (the `regex` crate's syntax, close to Go's RE2)
/// searched for anywhere in a name: unanchored, so `pkg/api` matches
/// `k8s.io/kubernetes/pkg/api/x.go`; anchor with `^` and `$`.
#[derive(Clone, Debug)]
pub struct Pattern(Regex);

impl Pattern {
    /// Compiles `re`.
    pub fn new(re: &str) -> Result<Pattern, Error> {
        Regex::new(re).map(Pattern).map_err(|source| Error::Regex {
            pattern: re.to_string(),
            source,
        })
    }

    /// Whether the expression occurs in `name`.
    pub fn is_match(&self, name: &str) -> bool {
        self.0.is_match(name)
    }

    /// The expression as written.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Pattern) -> bool {
        self.as_str() == other.as_str()
    }
}

impl FromStr for Pattern {
    type Err = Error;

    fn from_str(s: &str) -> Result<Pattern, Error> {
        Pattern::new(s)
    }
}

impl Serialize for Pattern {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A threshold for the files and packages a pattern matches (see
/// [`Policy::overrides`]).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Override {
    /// Matched against file names and package paths.
    pub path: Pattern,
    /// The coverage they need.
    pub threshold: Percent,
}

impl Override {
    /// From `REGEX=PERCENT`, split at the last `=` (a regular expression
    /// may hold one).
    pub fn from_spec(spec: &str) -> Result<Override, Error> {
        let (re, pct) = spec.rsplit_once('=').ok_or_else(|| Error::Value {
            value: spec.to_string(),
            expected: "expected REGEX=PERCENT",
        })?;
        Ok(Override {
            path: Pattern::new(re)?,
            threshold: pct.parse()?,
        })
    }
}

impl FromStr for Override {
    type Err = Error;

    fn from_str(s: &str) -> Result<Override, Error> {
        Override::from_spec(s)
    }
}

/// The threshold of one owner or `OWNERS` label, by its name.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GroupOverride {
    /// An owner or a label.
    pub by: OwnerBy,
    /// Its name (`sig/node`, `alice`).
    pub name: String,
    /// The coverage its files need.
    pub threshold: Percent,
}

/// A coverage policy: which numbers must reach what.
///
/// Names are profile names: a file is its import path and base name
/// (`k8s.io/kubernetes/pkg/api/pod/util.go`), a package its import path
/// (the file name's directory, `k8s.io/kubernetes/pkg/api/pod`).
///
/// 1. Files whose name matches one of [`exclude`](Policy::exclude) are
///    dropped from every profile (head and base) before anything is
///    counted: they are in no total, package, file or patch number, and an
///    override that matches them has nothing to apply to. With
///    [`exclude_annotations`](Policy::exclude_annotations), so are the
///    blocks that `// coverage-ignore` comments mark in the sources
///    ([`Policy::leave_out_annotated`]).
/// 2. [`total`](Policy::total): the covered share of all statements.
/// 3. [`package`](Policy::package) and [`file`](Policy::file): every
///    package and every file. For each, the first of
///    [`overrides`](Policy::overrides) whose pattern matches its name sets
///    its threshold instead (also when the general one is not set); a file
///    is matched by its file name, a package by its package path, so
///    `^k8s\.io/x/pkg/api$` matches only that package, `_test_util\.go$`
///    only files, and `pkg/api/` files and packages below `pkg/api`.
/// 4. [`patch`](Policy::patch): the covered share of the changed
///    statements, those of blocks that overlap an added line of the diff
///    (as the pull-request comment counts them).
/// 5. [`max_drop`](Policy::max_drop): no package present in both the base
///    and the head profile may lose more than this many percentage points;
///    a new package is not a drop, nor is one that is gone.
/// 6. [`owner`](Policy::owner), [`label`](Policy::label) and
///    [`group_overrides`](Policy::group_overrides): every owner's (label's)
///    files, with the ownership of the sources.
///
/// Files, packages, totals and patches with no statements are not checked.
/// Percentages are compared as every covlens report prints them: with one
/// decimal, so `79.96%` is `80.0%` and meets 80; a drop is the difference
/// of two printed percentages.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Policy {
    /// Required coverage of all statements.
    pub total: Option<Percent>,
    /// Required coverage of every package.
    pub package: Option<Percent>,
    /// Required coverage of every file.
    pub file: Option<Percent>,
    /// Required coverage of the changed statements (needs a diff).
    pub patch: Option<Percent>,
    /// Largest drop of a package against the base (needs a base profile).
    pub max_drop: Option<Points>,
    /// Required coverage of every owner's files (`OWNERS` approvers,
    /// `CODEOWNERS` owners; needs the ownership of the sources).
    pub owner: Option<Percent>,
    /// Required coverage of every `OWNERS` label's files (`sig/node`;
    /// needs the ownership of the sources).
    pub label: Option<Percent>,
    /// Thresholds of named owners and labels, over `owner` and `label`.
    pub group_overrides: Vec<GroupOverride>,
    /// Thresholds for matching files and packages; the first match wins.
    pub overrides: Vec<Override>,
    /// Files left out of everything.
    pub exclude: Vec<Pattern>,
    /// Leave out the blocks `// coverage-ignore` comments mark (not a rule:
    /// it changes what the rules count).
    pub exclude_annotations: bool,
}

impl Policy {
    /// Whether the policy has no rule to check.
    pub fn is_empty(&self) -> bool {
        self.total.is_none()
            && self.package.is_none()
            && self.file.is_none()
            && self.patch.is_none()
            && self.max_drop.is_none()
            && self.overrides.is_empty()
            && !self.needs_owners()
    }

    /// Whether a rule needs the ownership of the sources.
    pub fn needs_owners(&self) -> bool {
        self.owner.is_some() || self.label.is_some() || !self.group_overrides.is_empty()
    }

    /// The threshold of owner (`by` owner) or label `name`, and whether an
    /// override set it; `None` when no rule covers it.
    pub fn group_threshold(&self, by: OwnerBy, name: &str) -> Option<(Percent, bool)> {
        let named = self
            .group_overrides
            .iter()
            .find(|o| o.by == by && o.name == name);
        match named {
            Some(o) => Some((o.threshold, true)),
            None => match by {
                OwnerBy::Owner => self.owner,
                OwnerBy::Label => self.label,
            }
            .map(|p| (p, false)),
        }
    }

    /// Whether the rule on owners (labels) applies to any group.
    pub fn checks_groups(&self, by: OwnerBy) -> bool {
        let general = match by {
            OwnerBy::Owner => self.owner,
            OwnerBy::Label => self.label,
        };
        general.is_some() || self.group_overrides.iter().any(|o| o.by == by)
    }

    /// Whether file `name` is excluded.
    pub fn excludes(&self, name: &str) -> bool {
        self.exclude.iter().any(|p| p.is_match(name))
    }

    /// The threshold of file `name` and the override that set it.
    pub fn file_threshold(&self, name: &str) -> Option<(Percent, Option<&Pattern>)> {
        self.threshold_of(name, self.file)
    }

    /// The threshold of package `path` and the override that set it.
    pub fn package_threshold(&self, path: &str) -> Option<(Percent, Option<&Pattern>)> {
        self.threshold_of(path, self.package)
    }

    fn threshold_of(
        &self,
        name: &str,
        general: Option<Percent>,
    ) -> Option<(Percent, Option<&Pattern>)> {
        match self.overrides.iter().find(|o| o.path.is_match(name)) {
            Some(o) => Some((o.threshold, Some(&o.path))),
            None => general.map(|p| (p, None)),
        }
    }

    /// Applies `other` over this policy, as command-line flags over a
    /// config file: its thresholds replace these where set, its overrides
    /// are tried before these (so they win for what they match), its
    /// excludes are added.
    pub fn overlay(&mut self, other: Policy) {
        let Policy {
            total,
            package,
            file,
            patch,
            max_drop,
            owner,
            label,
            mut group_overrides,
            mut overrides,
            exclude,
            exclude_annotations,
        } = other;
        self.exclude_annotations |= exclude_annotations;
        self.owner = owner.or(self.owner);
        self.label = label.or(self.label);
        group_overrides.append(&mut self.group_overrides);
        self.group_overrides = group_overrides;
        self.total = total.or(self.total);
        self.package = package.or(self.package);
        self.file = file.or(self.file);
        self.patch = patch.or(self.patch);
        self.max_drop = max_drop.or(self.max_drop);
        overrides.append(&mut self.overrides);
        self.overrides = overrides;
        self.exclude.extend(exclude);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        assert_eq!("80".parse::<Percent>().unwrap().get(), 80.0);
        assert_eq!("80.5%".parse::<Percent>().unwrap().get(), 80.5);
        for bad in ["-1", "100.1", "NaN", "inf", "x", ""] {
            let e = bad.parse::<Percent>().unwrap_err().to_string();
            assert_eq!(e, format!("{bad:?}: expected a number from 0 to 100"));
        }
        assert!("0.5".parse::<Points>().is_ok());
        assert!("-0.5".parse::<Points>().is_err());
    }

    #[test]
    fn override_specs() {
        let o = Override::from_spec("a=b=90").unwrap();
        assert_eq!((o.path.as_str(), o.threshold.get()), ("a=b", 90.0));
        assert!(Override::from_spec("abc").is_err());
        assert!(Override::from_spec("(=90").is_err());
        assert!(Override::from_spec("x=101").is_err());
    }

    #[test]
    fn first_override_wins_and_overlay_puts_flags_first() {
        let mut p = Policy {
            file: Some(Percent(50.0)),
            overrides: vec![Override::from_spec("pkg/=70").unwrap()],
            ..Policy::default()
        };
        p.overlay(Policy {
            overrides: vec![Override::from_spec(r"pkg/a\.go$=90").unwrap()],
            exclude: vec![Pattern::new("gen").unwrap()],
            ..Policy::default()
        });
        assert_eq!(p.file_threshold("m/pkg/a.go").unwrap().0.get(), 90.0);
        assert_eq!(p.file_threshold("m/pkg/b.go").unwrap().0.get(), 70.0);
        assert_eq!(p.file_threshold("m/x/b.go"), Some((Percent(50.0), None)));
        assert_eq!(p.package_threshold("m/pkg/sub").unwrap().0.get(), 70.0);
        assert_eq!(p.package_threshold("m/x"), None);
        assert!(p.excludes("m/gen.go"));
    }
}
