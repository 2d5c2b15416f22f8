//! Checking a policy against profiles: violations as typed values.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use covlens_core::ignore::IgnoreReport;
use covlens_core::owners::{OwnerBy, OwnersTree, UNOWNED};
use covlens_core::{Counts, FileProfile, Profile, package_of};
use covlens_report_templates::{Annotation, AnnotationLevel, DiffFile, Stat};
use serde::{Deserialize, Serialize};

use crate::annotate::scan_patch;
use crate::model::{Percent, Policy};
use crate::{Error, LeftOut};

/// What a policy is checked against.
#[derive(Clone, Copy, Debug)]
pub struct Inputs<'a> {
    /// The profile being checked.
    pub head: &'a Profile,
    /// The profile compared against (the `max_drop` rule).
    pub base: Option<&'a Profile>,
    /// The change's diff, parsed (the `patch` rule and the annotations).
    pub diff: Option<&'a [DiffFile]>,
    /// The import path of the repository root: maps diff paths to profile
    /// names and profile names back to repository paths (see
    /// [`covlens_report_templates::PathMap`]).
    pub module: Option<&'a str>,
    /// Who owns the sources (the `owner` and `label` rules).
    pub owners: Option<&'a OwnersTree>,
    /// What [`Policy::leave_out_annotated`] left out of the head, for
    /// [`Checked::annotations`].
    pub left_out: Option<&'a IgnoreReport>,
}

impl<'a> Inputs<'a> {
    /// Only a head profile.
    pub fn new(head: &'a Profile) -> Inputs<'a> {
        Inputs {
            head,
            base: None,
            diff: None,
            module: None,
            owners: None,
            left_out: None,
        }
    }
}

/// A rule of the policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// [`Policy::total`].
    ThresholdTotal,
    /// [`Policy::package`] or an override matching a package.
    ThresholdPackage,
    /// [`Policy::file`] or an override matching a file.
    ThresholdFile,
    /// [`Policy::patch`].
    ThresholdPatch,
    /// [`Policy::max_drop`].
    MaxDrop,
    /// [`Policy::owner`].
    ThresholdOwner,
    /// [`Policy::label`].
    ThresholdLabel,
}

impl Rule {
    /// The rule's name as in JSON and on flags (`threshold-file`).
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::ThresholdTotal => "threshold-total",
            Rule::ThresholdPackage => "threshold-package",
            Rule::ThresholdFile => "threshold-file",
            Rule::ThresholdPatch => "threshold-patch",
            Rule::MaxDrop => "max-drop",
            Rule::ThresholdOwner => "threshold-owner",
            Rule::ThresholdLabel => "threshold-label",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a violation is about. In JSON: `{"kind": "file", "name": "…"}`,
/// `{"kind": "total"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "name", rename_all = "lowercase")]
pub enum Target {
    /// All statements.
    Total,
    /// The changed statements.
    Patch,
    /// A package, by import path.
    Package(String),
    /// A file, by profile name.
    File(String),
    /// An owner's files (approvers, CODEOWNERS owners).
    Owner(String),
    /// An `OWNERS` label's files.
    Label(String),
}

/// Lines of a file in the repository.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// Repository-relative path.
    pub path: String,
    /// First line.
    pub start_line: u32,
    /// Last line.
    pub end_line: u32,
}

/// A rule not met.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Violation {
    /// The rule.
    pub rule: Rule,
    /// What it is about.
    pub target: Target,
    /// The coverage in percent as printed (one decimal); for
    /// [`Rule::MaxDrop`] the drop in percentage points, the difference of
    /// the printed base and head percentages.
    pub actual: f64,
    /// The least coverage in percent; for [`Rule::MaxDrop`] the largest
    /// drop allowed.
    pub required: f64,
    /// The target's statements in the head profile.
    pub head: Stat,
    /// The target's statements in the base profile ([`Rule::MaxDrop`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<Stat>,
    /// The override that set `required`, if one did.
    #[serde(default, rename = "override", skip_serializing_if = "Option::is_none")]
    pub override_path: Option<String>,
    /// Where to point at in the repository: a file's first uncovered
    /// block, when the file's repository path is known (from the diff or
    /// the module path).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
}

impl Violation {
    /// A one-line message with the numbers as printed everywhere
    /// (`package k8s.io/x/pkg: 61.5% (8/13 statements) is below the
    /// required 70%`). Names are not escaped: see `covlens_core::printable`.
    pub fn message(&self) -> String {
        let pct = |s: &Stat| format!("{}% ({}/{} statements)", s.percent, s.covered, s.total);
        let by = match &self.override_path {
            Some(re) => format!(" (override `{re}`)"),
            None => String::new(),
        };
        let req = self.required;
        match (&self.rule, &self.target) {
            (Rule::MaxDrop, t) => {
                let base = self.base.as_ref().map_or("?", |b| b.percent.as_str());
                format!(
                    "{} dropped {} points ({base}% -> {}%), more than the allowed {req}",
                    target_name(t),
                    tenths_str(tenths_of(self.actual)),
                    self.head.percent,
                )
            }
            (Rule::ThresholdPatch, _) => format!(
                "changed statements: {} covered, below the required {req}%",
                pct(&self.head)
            ),
            (_, t) => format!(
                "{}: {} is below the required {req}%{by}",
                target_name(t),
                pct(&self.head)
            ),
        }
    }

    /// A short title (an annotation's or a workflow command's).
    pub fn title(&self) -> &'static str {
        match self.rule {
            Rule::ThresholdTotal => "Total coverage below threshold",
            Rule::ThresholdPackage => "Package coverage below threshold",
            Rule::ThresholdFile => "File coverage below threshold",
            Rule::ThresholdPatch => "Patch coverage below threshold",
            Rule::MaxDrop => "Package coverage dropped",
            Rule::ThresholdOwner => "Owner coverage below threshold",
            Rule::ThresholdLabel => "Label coverage below threshold",
        }
    }
}

fn target_name(t: &Target) -> String {
    match t {
        Target::Total => "total".into(),
        Target::Patch => "changed statements".into(),
        Target::Package(n) => format!("package {n}"),
        Target::File(n) => format!("file {n}"),
        Target::Owner(n) => format!("owner {n}"),
        Target::Label(n) => format!("label {n}"),
    }
}

/// What was checked.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Checked {
    /// The rules in force.
    pub rules: Vec<Rule>,
    /// All statements after excluding files.
    pub total: Stat,
    /// The changed statements (with a diff).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch: Option<Stat>,
    /// Packages in the head profile after excluding files.
    pub packages: usize,
    /// Files in the head profile after excluding files.
    pub files: usize,
    /// Files of the head profile excluded.
    pub excluded_files: usize,
    /// What `// coverage-ignore` comments left out of the head
    /// ([`Policy::exclude_annotations`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<LeftOut>,
}

/// The result of [`Policy::evaluate`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// No violation.
    pub passed: bool,
    /// The rules not met: by rule (total, package, file, patch, max-drop),
    /// then by name.
    pub violations: Vec<Violation>,
    /// What was checked.
    pub checked: Checked,
    /// Added lines in uncovered blocks, as warnings, merged into ranges
    /// (with a diff; see [`crate::uncovered_changes`]).
    pub uncovered_changes: Vec<Annotation>,
}

impl Outcome {
    /// One line for a commit status or a check run's title (under
    /// GitHub's 140 characters for a status): `coverage policy met`, or
    /// `coverage policy not met: 4 violations (threshold-package 3,
    /// max-drop 1)`.
    pub fn headline(&self) -> String {
        if self.passed {
            return "coverage policy met".into();
        }
        let mut by: BTreeMap<Rule, usize> = BTreeMap::new();
        for v in &self.violations {
            *by.entry(v.rule).or_default() += 1;
        }
        let n = self.violations.len();
        let rules: Vec<String> = by.iter().map(|(r, k)| format!("{r} {k}")).collect();
        format!(
            "coverage policy not met: {n} violation{} ({})",
            if n == 1 { "" } else { "s" },
            rules.join(", ")
        )
    }

    /// Check-run annotations: a failure for each violation with a
    /// location, then the uncovered changes.
    pub fn annotations(&self) -> Vec<Annotation> {
        let mut v: Vec<Annotation> = self
            .violations
            .iter()
            .filter_map(|x| {
                let l = x.location.as_ref()?;
                Some(Annotation {
                    path: l.path.clone(),
                    start_line: l.start_line,
                    end_line: l.end_line,
                    start_column: None,
                    end_column: None,
                    annotation_level: AnnotationLevel::Failure,
                    message: x.message(),
                    title: Some(x.title().to_string()),
                    raw_details: None,
                })
            })
            .collect();
        v.extend(self.uncovered_changes.iter().cloned());
        v
    }
}

/// A percentage as every covlens report prints it ([`Stat`]'s one
/// decimal), in tenths.
fn printed_tenths(s: &Stat) -> i64 {
    let (int, frac) = s.percent.split_once('.').unwrap_or((&s.percent, "0"));
    let int: i64 = int.parse().unwrap_or(0);
    let frac: i64 = frac.get(..1).and_then(|d| d.parse().ok()).unwrap_or(0);
    int * 10 + frac
}

fn tenths_of(v: f64) -> i64 {
    (v * 10.0).round() as i64
}

fn tenths_str(t: i64) -> String {
    let sign = if t < 0 { "-" } else { "" };
    format!("{sign}{}.{}", t.abs() / 10, t.abs() % 10)
}

/// The file's first uncovered block with statements.
fn first_uncovered(f: &FileProfile) -> Option<(u32, u32)> {
    f.blocks()
        .iter()
        .filter(|b| b.num_stmt > 0 && b.count == 0)
        .map(|b| (b.start_line, b.end_line))
        .min()
}

/// Why the `owner` and `label` rules cannot run ([`Error::MissingInput`]).
pub const OWNERS_NEEDED: &str =
    "the owner and label thresholds need the ownership of the sources (OWNERS, CODEOWNERS)";

/// Statements per owner or label of the files not excluded; a file with
/// several counts in each, files with none in no group.
fn groups(
    p: &Profile,
    tree: &OwnersTree,
    by: OwnerBy,
    policy: &Policy,
) -> BTreeMap<String, Counts> {
    let mut out: BTreeMap<String, Counts> = BTreeMap::new();
    for f in p.files().iter().filter(|f| !policy.excludes(f.name())) {
        for g in tree.groups_of(f.name(), by) {
            if g != UNOWNED {
                out.entry(g).or_default().add(f.statements());
            }
        }
    }
    out
}

/// Package rollups of the files `keep` keeps.
fn packages<'p>(p: &'p Profile, policy: &Policy) -> BTreeMap<&'p str, Counts> {
    let mut m: BTreeMap<&str, Counts> = BTreeMap::new();
    for f in p.files().iter().filter(|f| !policy.excludes(f.name())) {
        m.entry(package_of(f.name()))
            .or_default()
            .add(f.statements());
    }
    m
}

impl Policy {
    /// Whether the policy can run with these inputs: it has a rule, and
    /// `patch` has a diff, `max_drop` a base, and a base whose annotations
    /// are left out a diff. [`Policy::evaluate`] checks the rules' inputs
    /// too; a front end calls this before loading any profile.
    pub fn ready(&self, has_base: bool, has_diff: bool, has_owners: bool) -> Result<(), Error> {
        if self.is_empty() {
            Err(Error::NoRules)
        } else if self.patch.is_some() && !has_diff {
            Err(Error::MissingInput(
                "the patch threshold needs the change's diff",
            ))
        } else if self.max_drop.is_some() && !has_base {
            Err(Error::MissingInput(
                "the max-drop rule needs a base profile",
            ))
        } else if self.needs_owners() && !has_owners {
            Err(Error::MissingInput(OWNERS_NEEDED))
        } else if self.exclude_annotations && has_base && !has_diff {
            Err(Error::MissingInput(
                covlens_report_templates::ANNOTATED_BASE_NEEDS_DIFF,
            ))
        } else {
            Ok(())
        }
    }

    /// Checks the policy. Fails when it has no rule, or a rule lacks its
    /// input (`patch` without a diff, `max_drop` without a base).
    pub fn evaluate(&self, inputs: &Inputs<'_>) -> Result<Outcome, Error> {
        if self.is_empty() {
            return Err(Error::NoRules);
        }
        if self.patch.is_some() && inputs.diff.is_none() {
            return Err(Error::MissingInput(
                "the patch threshold needs the change's diff",
            ));
        }
        if self.max_drop.is_some() && inputs.base.is_none() {
            return Err(Error::MissingInput(
                "the max-drop rule needs a base profile",
            ));
        }
        if self.needs_owners() && inputs.owners.is_none() {
            return Err(Error::MissingInput(OWNERS_NEEDED));
        }
        let head = inputs.head;
        let module = inputs.module.map(|m| m.trim_end_matches('/'));

        let patch = inputs
            .diff
            .map(|d| scan_patch(head, inputs.base, d, module, self));
        // Repository paths: the diff's, else the name under the module.
        let diff_paths: HashMap<&str, &str> = patch
            .as_ref()
            .map(|p| {
                p.paths
                    .iter()
                    .map(|(n, d)| (n.as_str(), d.as_str()))
                    .collect()
            })
            .unwrap_or_default();
        let repo_path = |name: &str| -> Option<String> {
            if let Some(p) = diff_paths.get(name) {
                return Some(p.to_string());
            }
            let m = module?;
            let rest = name.strip_prefix(m)?.strip_prefix('/')?;
            (!rest.is_empty()).then(|| rest.to_string())
        };

        let mut rules = Vec::new();
        let mut violations = Vec::new();
        let mut total = Counts::default();
        let mut files = 0;
        let mut excluded = 0;
        let mut file_violations = Vec::new();
        for f in head.files() {
            if self.excludes(f.name()) {
                excluded += 1;
                continue;
            }
            files += 1;
            let c = f.statements();
            total.add(c);
            if c.total == 0 {
                continue;
            }
            if let Some((req, by)) = self.file_threshold(f.name()) {
                let head = Stat::from(c);
                if below(&head, req) {
                    let location = repo_path(f.name()).zip(first_uncovered(f)).map(
                        |(path, (start_line, end_line))| Location {
                            path,
                            start_line,
                            end_line,
                        },
                    );
                    file_violations.push(Violation {
                        rule: Rule::ThresholdFile,
                        target: Target::File(f.name().to_string()),
                        actual: printed_tenths(&head) as f64 / 10.0,
                        required: req.get(),
                        head,
                        base: None,
                        override_path: by.map(|p| p.as_str().to_string()),
                        location,
                    });
                }
            }
        }
        let head_pkgs = packages(head, self);

        if let Some(req) = self.total {
            rules.push(Rule::ThresholdTotal);
            let s = Stat::from(total);
            if total.total > 0 && below(&s, req) {
                violations.push(threshold(Rule::ThresholdTotal, Target::Total, s, req));
            }
        }
        if self.package.is_some() || !self.overrides.is_empty() {
            rules.push(Rule::ThresholdPackage);
        }
        for (name, c) in &head_pkgs {
            if c.total == 0 {
                continue;
            }
            if let Some((req, by)) = self.package_threshold(name) {
                let s = Stat::from(*c);
                if below(&s, req) {
                    let mut v = threshold(
                        Rule::ThresholdPackage,
                        Target::Package(name.to_string()),
                        s,
                        req,
                    );
                    v.override_path = by.map(|p| p.as_str().to_string());
                    violations.push(v);
                }
            }
        }
        if self.file.is_some() || !self.overrides.is_empty() {
            rules.push(Rule::ThresholdFile);
        }
        violations.append(&mut file_violations);
        for (rule, by) in [
            (Rule::ThresholdOwner, OwnerBy::Owner),
            (Rule::ThresholdLabel, OwnerBy::Label),
        ] {
            let Some(tree) = inputs.owners.filter(|_| self.checks_groups(by)) else {
                continue;
            };
            rules.push(rule);
            for (name, c) in groups(head, tree, by, self) {
                let Some((req, named)) = self.group_threshold(by, &name) else {
                    continue;
                };
                let s = Stat::from(c);
                if c.total > 0 && below(&s, req) {
                    let target = match by {
                        OwnerBy::Owner => Target::Owner(name.clone()),
                        OwnerBy::Label => Target::Label(name.clone()),
                    };
                    let mut v = threshold(rule, target, s, req);
                    v.override_path = named.then_some(name);
                    violations.push(v);
                }
            }
        }
        if let Some(req) = self.patch {
            rules.push(Rule::ThresholdPatch);
            let c = patch.as_ref().map(|p| p.counts).unwrap_or_default();
            let s = Stat::from(c);
            if c.total > 0 && below(&s, req) {
                violations.push(threshold(Rule::ThresholdPatch, Target::Patch, s, req));
            }
        }
        if let (Some(max), Some(base)) = (self.max_drop, inputs.base) {
            rules.push(Rule::MaxDrop);
            let base_pkgs = packages(base, self);
            for (name, c) in &head_pkgs {
                let Some(b) = base_pkgs.get(name).filter(|b| b.total > 0) else {
                    continue; // new: not a drop
                };
                if c.total == 0 {
                    continue;
                }
                let (bs, hs) = (Stat::from(*b), Stat::from(*c));
                let drop = printed_tenths(&bs) - printed_tenths(&hs);
                if drop as f64 / 10.0 > max.get() {
                    violations.push(Violation {
                        rule: Rule::MaxDrop,
                        target: Target::Package(name.to_string()),
                        actual: drop as f64 / 10.0,
                        required: max.get(),
                        head: hs,
                        base: Some(bs),
                        override_path: None,
                        location: None,
                    });
                }
            }
        }

        let (patch_stat, uncovered_changes) = match patch {
            Some(p) => (Some(Stat::from(p.counts)), p.changes),
            None => (None, Vec::new()),
        };
        Ok(Outcome {
            passed: violations.is_empty(),
            violations,
            checked: Checked {
                rules,
                total: Stat::from(total),
                patch: patch_stat,
                packages: head_pkgs.len(),
                files,
                excluded_files: excluded,
                annotations: inputs.left_out.map(LeftOut::from),
            },
            uncovered_changes,
        })
    }
}

/// Whether the printed percentage is below `req`.
fn below(s: &Stat, req: Percent) -> bool {
    // tenths / 10 is the double nearest the printed decimal, as `req`
    // parsed from the same digits would be.
    (printed_tenths(s) as f64 / 10.0) < req.get()
}

fn threshold(rule: Rule, target: Target, head: Stat, req: Percent) -> Violation {
    Violation {
        rule,
        target,
        actual: printed_tenths(&head) as f64 / 10.0,
        required: req.get(),
        head,
        base: None,
        override_path: None,
        location: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Override, Pattern, Points};
    use covlens_core::{ParseOptions, parse_bytes};

    fn profile(text: &str) -> Profile {
        parse_bytes(text.as_bytes(), "t.out", &ParseOptions::default()).unwrap()
    }

    #[test]
    fn rounding_follows_the_printed_number() {
        // 7996/10000 = 79.96% prints as 80.0 and meets 80.
        let p = profile("mode: set\nm/a.go:1.1,2.2 7996 1\nm/a.go:3.1,4.2 2004 0\n");
        let pol = Policy {
            total: Percent::new(80.0),
            ..Policy::default()
        };
        assert!(pol.evaluate(&Inputs::new(&p)).unwrap().passed);
        let pol = Policy {
            total: Percent::new(80.05),
            ..Policy::default()
        };
        let o = pol.evaluate(&Inputs::new(&p)).unwrap();
        assert_eq!(o.violations[0].actual, 80.0);
        assert_eq!(
            o.violations[0].message(),
            "total: 80.0% (7996/10000 statements) is below the required 80.05%"
        );
    }

    #[test]
    fn drops_are_differences_of_printed_numbers() {
        // base 2/3 = 66.7%, head 6/10 = 60.0%: 6.7 points.
        let base = profile("mode: set\nm/p/a.go:1.1,2.2 2 1\nm/p/a.go:3.1,4.2 1 0\n");
        let head = profile(
            "mode: set\nm/p/a.go:1.1,2.2 6 1\nm/p/a.go:3.1,4.2 4 0\nm/new/b.go:1.1,1.2 1 0\n",
        );
        let mut pol = Policy {
            max_drop: Points::new(6.7),
            ..Policy::default()
        };
        let inputs = Inputs {
            base: Some(&base),
            ..Inputs::new(&head)
        };
        assert!(pol.evaluate(&inputs).unwrap().passed);
        pol.max_drop = Points::new(6.6);
        let o = pol.evaluate(&inputs).unwrap();
        assert_eq!(o.violations.len(), 1, "the new package is not a drop");
        assert_eq!(
            o.headline(),
            "coverage policy not met: 1 violation (max-drop 1)"
        );
        assert_eq!(
            o.violations[0].message(),
            "package m/p dropped 6.7 points (66.7% -> 60.0%), more than the allowed 6.6"
        );
    }

    #[test]
    fn missing_inputs_and_no_rules() {
        let p = profile("mode: set\nm/a.go:1.1,2.2 1 1\n");
        assert!(matches!(
            Policy::default().evaluate(&Inputs::new(&p)),
            Err(Error::NoRules)
        ));
        let pol = Policy {
            patch: Percent::new(1.0),
            ..Policy::default()
        };
        assert!(matches!(
            pol.evaluate(&Inputs::new(&p)),
            Err(Error::MissingInput(_))
        ));
    }

    #[test]
    fn exclude_wins_over_override() {
        let p = profile(
            "mode: set\nm/p/gen.go:1.1,2.2 5 0\nm/p/a.go:1.1,2.2 1 1\nm/q/b.go:1.1,2.2 1 0\n",
        );
        let pol = Policy {
            overrides: vec![Override::from_spec("m/p/=100").unwrap()],
            exclude: vec![Pattern::new("gen").unwrap()],
            ..Policy::default()
        };
        let o = pol.evaluate(&Inputs::new(&p)).unwrap();
        assert!(o.passed, "{:?}", o.violations);
        assert_eq!(o.checked.excluded_files, 1);
        assert_eq!(o.checked.total, Stat::new(1, 2));
    }
}
