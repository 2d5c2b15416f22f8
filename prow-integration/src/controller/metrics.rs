//! The reporter's Prometheus metrics, rendered in the text format.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Upper bounds (seconds) of the report-lag histogram's buckets.
const LAG_BUCKETS: [f64; 9] = [1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 21600.0];

/// Counters and gauges, updated by the controller and read by `/metrics`.
#[derive(Default)]
pub struct Metrics {
    /// (state, outcome) -> reports; outcome is published, skipped or error.
    reports: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    /// kind -> errors; kind is publish_transient, publish_permanent or api.
    errors: Mutex<BTreeMap<&'static str, u64>>,
    lag: Mutex<Histogram>,
    deleted: AtomicU64,
    conflicts: AtomicU64,
    watch_restarts: AtomicU64,
    pub(crate) leader: AtomicBool,
    pub(crate) synced: AtomicBool,
    pub(crate) queue_depth: AtomicU64,
}

#[derive(Default)]
struct Histogram {
    buckets: [u64; LAG_BUCKETS.len()],
    sum: f64,
    count: u64,
}

impl Metrics {
    pub(crate) fn report(&self, state: &'static str, outcome: &'static str) {
        *self
            .reports
            .lock()
            .expect("metrics lock")
            .entry((state, outcome))
            .or_default() += 1;
    }

    pub(crate) fn error(&self, kind: &'static str) {
        *self
            .errors
            .lock()
            .expect("metrics lock")
            .entry(kind)
            .or_default() += 1;
    }

    pub(crate) fn lag(&self, seconds: f64) {
        let seconds = seconds.max(0.0);
        let mut h = self.lag.lock().expect("metrics lock");
        for (i, le) in LAG_BUCKETS.iter().enumerate() {
            if seconds <= *le {
                h.buckets[i] += 1;
            }
        }
        h.sum += seconds;
        h.count += 1;
    }

    pub(crate) fn deleted(&self) {
        self.deleted.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn conflict(&self) {
        self.conflicts.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn watch_restart(&self) {
        self.watch_restarts.fetch_add(1, Ordering::Relaxed);
    }

    /// Reports counted so far with `outcome` (published, skipped, error),
    /// all states together.
    pub fn reports_with_outcome(&self, outcome: &str) -> u64 {
        let reports = self.reports.lock().expect("metrics lock");
        reports
            .iter()
            .filter(|((_, o), _)| *o == outcome)
            .map(|(_, n)| n)
            .sum()
    }

    /// Whether this replica currently reports.
    pub fn is_leader(&self) -> bool {
        self.leader.load(Ordering::Relaxed)
    }

    /// The Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::new();
        let o = &mut out;
        header(
            o,
            "covlens_prow_reports_total",
            "counter",
            "Reports of ProwJobs that reached a final state, by state and outcome (published, skipped, error).",
        );
        for ((state, outcome), n) in self.reports.lock().expect("metrics lock").iter() {
            let _ = writeln!(
                o,
                "covlens_prow_reports_total{{state=\"{state}\",outcome=\"{outcome}\"}} {n}"
            );
        }
        header(
            o,
            "covlens_prow_errors_total",
            "counter",
            "Errors by kind: publish_transient (retried), publish_permanent (recorded), api (Kubernetes API).",
        );
        for (kind, n) in self.errors.lock().expect("metrics lock").iter() {
            let _ = writeln!(o, "covlens_prow_errors_total{{kind=\"{kind}\"}} {n}");
        }
        {
            let h = self.lag.lock().expect("metrics lock");
            header(
                o,
                "covlens_prow_report_lag_seconds",
                "histogram",
                "Seconds from a ProwJob's completionTime to its report being recorded.",
            );
            for (le, n) in LAG_BUCKETS.iter().zip(h.buckets) {
                let _ = writeln!(
                    o,
                    "covlens_prow_report_lag_seconds_bucket{{le=\"{le}\"}} {n}"
                );
            }
            let _ = writeln!(
                o,
                "covlens_prow_report_lag_seconds_bucket{{le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(o, "covlens_prow_report_lag_seconds_sum {}", h.sum);
            let _ = writeln!(o, "covlens_prow_report_lag_seconds_count {}", h.count);
        }
        let counters = [
            (
                "covlens_prow_deleted_before_recorded_total",
                "ProwJobs deleted while being reported (their report could not be recorded).",
                self.deleted.load(Ordering::Relaxed),
            ),
            (
                "covlens_prow_record_conflicts_total",
                "Records of prev_report_states refused with 409 Conflict (re-read and decided again).",
                self.conflicts.load(Ordering::Relaxed),
            ),
            (
                "covlens_prow_watch_errors_total",
                "Errors of the ProwJob watch (it retries with backoff and relists when needed).",
                self.watch_restarts.load(Ordering::Relaxed),
            ),
        ];
        for (name, help, v) in counters {
            header(o, name, "counter", help);
            let _ = writeln!(o, "{name} {v}");
        }
        let gauges = [
            (
                "covlens_prow_leader",
                "1 while this replica holds the lease and reports.",
                u64::from(self.leader.load(Ordering::Relaxed)),
            ),
            (
                "covlens_prow_watch_synced",
                "1 once the ProwJob watch has listed every job.",
                u64::from(self.synced.load(Ordering::Relaxed)),
            ),
            (
                "covlens_prow_queue_depth",
                "ProwJobs waiting to be reported.",
                self.queue_depth.load(Ordering::Relaxed),
            ),
        ];
        for (name, help, v) in gauges {
            header(o, name, "gauge", help);
            let _ = writeln!(o, "{name} {v}");
        }
        out
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_histogram() {
        let m = Metrics::default();
        m.report("success", "published");
        m.report("success", "published");
        m.report("failure", "error");
        m.error("publish_permanent");
        m.lag(3.0);
        m.lag(7200.0);
        let text = m.render();
        assert!(
            text.contains(
                "covlens_prow_reports_total{state=\"success\",outcome=\"published\"} 2\n"
            )
        );
        assert!(
            text.contains("covlens_prow_reports_total{state=\"failure\",outcome=\"error\"} 1\n")
        );
        assert!(text.contains("covlens_prow_errors_total{kind=\"publish_permanent\"} 1\n"));
        assert!(text.contains("covlens_prow_report_lag_seconds_bucket{le=\"1\"} 0\n"));
        assert!(text.contains("covlens_prow_report_lag_seconds_bucket{le=\"5\"} 1\n"));
        assert!(text.contains("covlens_prow_report_lag_seconds_bucket{le=\"21600\"} 2\n"));
        assert!(text.contains("covlens_prow_report_lag_seconds_bucket{le=\"+Inf\"} 2\n"));
        assert!(text.contains("covlens_prow_report_lag_seconds_sum 7203\n"));
        assert!(text.contains("covlens_prow_leader 0\n"));
        assert_eq!(m.reports_with_outcome("published"), 2);
    }
}
