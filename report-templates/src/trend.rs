//! Trends of the last runs (from the history store): sparklines drawn here,
//! as inline SVG for HTML and as block characters for Markdown and
//! terminals (GitHub's Markdown cannot hold SVG), and the "below its recent
//! trend" rule of the PR comment.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

/// Coverage (percent) of the last runs, oldest first; `None` where a run
/// has no statements of the row.
pub type Trend = Vec<Option<f64>>;

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// The range drawn: the points' min and max, widened to at least one
/// percentage point, so noise does not look like a cliff.
fn range(points: &[Option<f64>]) -> Option<(f64, f64)> {
    let mut it = points.iter().flatten().copied();
    let first = it.next()?;
    let (mut lo, mut hi) = it.fold((first, first), |(lo, hi), p| (lo.min(p), hi.max(p)));
    if hi - lo < 1.0 {
        let mid = (hi + lo) / 2.0;
        lo = (mid - 0.5).max(0.0);
        hi = lo + 1.0;
    }
    Some((lo, hi))
}

/// A text sparkline, one character per run: `▁`..`█` scaled between the
/// lowest and highest point, a space where a run has no number. Empty when
/// no run has one.
pub fn sparkline_text(points: &[Option<f64>]) -> String {
    let Some((lo, hi)) = range(points) else {
        return String::new();
    };
    points
        .iter()
        .map(|p| match p {
            None => ' ',
            Some(v) => {
                let i = ((v - lo) / (hi - lo) * 7.0).round().clamp(0.0, 7.0);
                BARS[i as usize]
            }
        })
        .collect()
}

/// Width and height of [`sparkline_svg`], in CSS pixels.
pub const SPARK_SIZE: (u32, u32) = (80, 18);

/// An inline SVG sparkline: a line through the runs' percentages, scaled
/// between the lowest and highest, a dot on the newest; gaps where a run
/// has no number. Only numbers go into the markup (nothing to escape), and
/// it loads nothing. The `<title>` lists the values, oldest first.
pub fn sparkline_svg(points: &[Option<f64>]) -> String {
    let (w, h) = SPARK_SIZE;
    let Some((lo, hi)) = range(points) else {
        return String::new();
    };
    let n = points.len().max(2) - 1;
    let x = |i: usize| 1.0 + i as f64 * f64::from(w - 2) / n as f64;
    let y = |v: f64| 1.0 + (hi - v) / (hi - lo) * f64::from(h - 2);
    let mut s = format!(
        "<svg class=\"spark\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" \
         viewBox=\"0 0 {w} {h}\" role=\"img\"><title>"
    );
    let values: Vec<String> = points
        .iter()
        .map(|p| p.map_or_else(|| "—".to_string(), |v| format!("{v:.1}%")))
        .collect();
    s.push_str(&values.join(" → "));
    s.push_str("</title>");
    // One polyline per run of consecutive points.
    let mut line: Vec<String> = Vec::new();
    let flush = |line: &mut Vec<String>, s: &mut String| {
        if let [only] = &line[..] {
            // A run between gaps: a dot, not nothing.
            let (cx, cy) = only.split_once(',').unwrap_or(("0", "0"));
            let _ = write!(
                s,
                "<circle cx=\"{cx}\" cy=\"{cy}\" r=\"1\" fill=\"currentColor\"/>"
            );
        } else if line.len() > 1 {
            let _ = write!(
                s,
                "<polyline fill=\"none\" stroke=\"currentColor\" stroke-width=\"1.5\" points=\"{}\"/>",
                line.join(" ")
            );
        }
        line.clear();
    };
    for (i, p) in points.iter().enumerate() {
        match p {
            Some(v) => line.push(format!("{:.1},{:.1}", x(i), y(*v))),
            None => flush(&mut line, &mut s),
        }
    }
    flush(&mut line, &mut s);
    if let Some((i, Some(v))) = points.iter().enumerate().rev().find(|(_, p)| p.is_some()) {
        let _ = write!(
            s,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2\" fill=\"currentColor\"/>",
            x(i),
            y(*v)
        );
    }
    s.push_str("</svg>");
    s
}

/// When a package of a PR "falls below its recent trend": its coverage in
/// the PR is lower than the mean of its last runs (those with a number) by
/// more than `margin` percentage points. The mean, not the minimum, so a
/// package that was once low does not excuse a fall; a margin, so noise is
/// not reported. At least `min_runs` runs with a number are needed.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrendRule {
    /// Percentage points below the mean that count as a fall.
    pub margin: f64,
    /// Runs with a number needed before the rule says anything.
    pub min_runs: usize,
}

impl Default for TrendRule {
    fn default() -> TrendRule {
        TrendRule {
            margin: 1.0,
            min_runs: 3,
        }
    }
}

/// A package below its recent trend.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BelowTrend {
    /// Package (or directory).
    pub name: String,
    /// Coverage now, in percent.
    pub now: f64,
    /// Mean of the last runs.
    pub mean: f64,
    /// Lowest of the last runs.
    pub min: f64,
    /// Runs the mean is over.
    pub runs: usize,
    /// The text sparkline of those runs.
    pub spark: String,
}

impl TrendRule {
    /// Whether `now` is below the trend `points`; `None` when it is not, or
    /// when there are too few runs to say.
    pub fn check(&self, name: &str, now: f64, points: &[Option<f64>]) -> Option<BelowTrend> {
        let vals: Vec<f64> = points.iter().flatten().copied().collect();
        if vals.len() < self.min_runs.max(1) {
            return None;
        }
        let mean = vals.iter().sum::<f64>() / vals.len() as f64;
        if mean - now <= self.margin {
            return None;
        }
        Some(BelowTrend {
            name: name.to_string(),
            now,
            mean,
            min: vals.iter().copied().fold(f64::INFINITY, f64::min),
            runs: vals.len(),
            spark: sparkline_text(points),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_sparklines() {
        assert_eq!(
            sparkline_text(&[Some(10.0), Some(20.0), None, Some(80.0)]),
            "▁▂ █"
        );
        // Flat within a point: mid bars, not a cliff.
        assert_eq!(sparkline_text(&[Some(50.0), Some(50.2)]), "▄▅");
        assert_eq!(sparkline_text(&[None, None]), "");
    }

    #[test]
    fn svg_has_numbers_only() {
        let s = sparkline_svg(&[Some(10.0), Some(20.0), None, Some(15.0), Some(30.0)]);
        assert!(s.starts_with("<svg") && s.ends_with("</svg>"));
        // Two segments around the gap, and a dot on the newest.
        assert_eq!(s.matches("<polyline").count(), 2);
        assert!(s.contains("<circle cx=\"79.0\" cy=\"1.0\""));
        assert!(s.contains("<title>10.0% → 20.0% → — → 15.0% → 30.0%</title>"));
        assert!(!s.contains("href"));
        assert_eq!(sparkline_svg(&[None]), "");
    }

    #[test]
    fn below_trend() {
        let r = TrendRule::default();
        let pts = [Some(80.0), Some(82.0), Some(81.0)];
        let b = r.check("p", 79.0, &pts).unwrap();
        assert_eq!((b.mean, b.min, b.runs), (81.0, 80.0, 3));
        assert!(
            r.check("p", 80.0, &pts).is_none(),
            "exactly the margin is not a fall"
        );
        assert!(r.check("p", 10.0, &pts[..2]).is_none(), "too few runs");
    }
}
