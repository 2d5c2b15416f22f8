//! Numbers as every report prints them: statements covered and total, the
//! percentage with one decimal, and ▲/▼ marks that never contradict the
//! printed numbers.

use covlens_core::Counts;
use serde::{Deserialize, Serialize};

/// Covered and total statements with the percentage as printed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stat {
    /// Statements with a non-zero count.
    pub covered: u64,
    /// All statements.
    pub total: u64,
    /// `covered / total` in percent with one decimal (`"49.8"`), `"0.0"`
    /// for no statements, as `go tool cover` prints it. Part of the
    /// tables' JSON, so kept in the model.
    pub percent: String,
}

impl Stat {
    /// A stat from counts.
    pub fn new(covered: u64, total: u64) -> Stat {
        Stat {
            covered,
            total,
            percent: format!("{:.1}", percent(covered, total)),
        }
    }

    /// The percentage as a number.
    pub fn value(&self) -> f64 {
        percent(self.covered, self.total)
    }

    /// The percentage rounded to the printed decimal, in tenths, so
    /// marks never contradict the printed numbers.
    fn tenths(&self) -> i64 {
        tenths(self.value())
    }
}

impl From<Counts> for Stat {
    fn from(c: Counts) -> Stat {
        Stat::new(c.covered, c.total)
    }
}

fn percent(covered: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        100.0 * covered as f64 / total as f64
    }
}

/// A percentage (or percentage points) in tenths, as printed with one
/// decimal.
pub(crate) use covlens_core::printed_tenths as tenths;

/// Direction of a change against the older column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mark {
    /// Higher by at least the threshold: ▲.
    Up,
    /// Lower by at least the threshold: ▼.
    Down,
    /// Not marked.
    None,
}

impl Mark {
    /// Compares printed percentages (tenths of a percent) of `newer` and
    /// `older`; changes smaller than `threshold` percentage points, changes
    /// that do not show in the printed number, and a side without
    /// statements are not marked.
    pub fn between(newer: &Stat, older: Option<&Stat>, threshold: f64) -> Mark {
        let Some(older) = older else {
            return Mark::None;
        };
        // 0.0% for no statements is no coverage to compare.
        if newer.total == 0 || older.total == 0 {
            return Mark::None;
        }
        let d = newer.tenths() - older.tenths();
        let min = tenths(threshold).max(1);
        if d >= min {
            Mark::Up
        } else if -d >= min {
            Mark::Down
        } else {
            Mark::None
        }
    }
}

/// `+1.5`, `-0.2`, `0.0` (never `-0.0`): a change in percentage points as
/// the templates print it (filter `signed`).
pub(crate) fn signed(d: f64) -> String {
    let s = format!("{d:+.1}");
    if s == "+0.0" || s == "-0.0" {
        "0.0".into()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs() {
        assert_eq!(signed(1.54), "+1.5");
        assert_eq!(signed(-0.04), "0.0");
        assert_eq!(signed(-28.26), "-28.3");
    }

    #[test]
    fn marks_follow_printed_numbers() {
        let (a, b) = (Stat::new(4999, 10000), Stat::new(5000, 10000));
        // 49.99% and 50.00% both print as 50.0%.
        assert_eq!(Mark::between(&b, Some(&a), 0.0), Mark::None);
        assert_eq!(Mark::between(&Stat::new(6, 10), Some(&b), 0.1), Mark::Up);
        assert_eq!(Mark::between(&b, None, 0.1), Mark::None);
        // An exact tie prints to even: 37.25 is 37.2, below 37.3.
        let (tie, above) = (Stat::new(149, 400), Stat::new(373, 1000));
        assert_eq!(tie.percent, "37.2");
        assert_eq!(Mark::between(&above, Some(&tie), 0.1), Mark::Up);
        // A side without statements is not compared.
        let none = Stat::new(0, 0);
        assert_eq!(Mark::between(&none, Some(&b), 0.1), Mark::None);
        assert_eq!(Mark::between(&b, Some(&none), 0.1), Mark::None);
    }
}
