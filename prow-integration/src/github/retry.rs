//! When to try a request again, and how long to wait first.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::StatusCode;
use reqwest::header::HeaderMap;

/// How often and how patiently [`Client`](super::Client) retries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per request, the first included (at least 1).
    pub max_attempts: u32,
    /// Wait before the first retry after a 5xx or a connection error;
    /// doubled for each further retry (with jitter: each wait is drawn
    /// from its upper half).
    pub initial_backoff: Duration,
    /// Upper bound of one backoff wait.
    pub max_backoff: Duration,
    /// Wait after a secondary rate limit that names no time (GitHub asks
    /// for at least a minute).
    pub secondary_limit_wait: Duration,
    /// Longest rate-limit wait accepted; a longer one fails the request
    /// with [`GitHubError::RateLimited`](super::GitHubError::RateLimited)
    /// at once, so the caller can report later instead.
    pub max_rate_limit_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            secondary_limit_wait: Duration::from_secs(60),
            max_rate_limit_wait: Duration::from_secs(600),
        }
    }
}

impl RetryPolicy {
    /// The wait after failed attempt `attempt` (1-based): exponential,
    /// capped, drawn uniformly from the upper half ("equal jitter"), so
    /// clients that failed together do not retry together.
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(30);
        let full = self
            .initial_backoff
            .saturating_mul(1u32 << exp)
            .min(self.max_backoff);
        let half = full / 2;
        half + half.mul_f64(fastrand::f64())
    }
}

/// Safety margin after `X-RateLimit-Reset`: the reset is given in whole
/// seconds and clocks differ a little.
const RESET_MARGIN: Duration = Duration::from_millis(500);

/// How long a rate-limited answer asks us to wait, or `None` when the
/// answer is no rate limit (a 403 can also be a plain permission error).
///
/// GitHub's rules, in order: `Retry-After` (seconds); else
/// `X-RateLimit-Remaining: 0` with `X-RateLimit-Reset` (epoch seconds);
/// else a secondary limit (429, or 403 whose message names a rate limit):
/// at least a minute, longer for each further attempt.
pub(crate) fn rate_limit_wait(
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    now: SystemTime,
    policy: &RetryPolicy,
    attempt: u32,
) -> Option<Duration> {
    if status != StatusCode::FORBIDDEN && status != StatusCode::TOO_MANY_REQUESTS {
        return None;
    }
    if let Some(wait) = retry_after(headers) {
        return Some(wait);
    }
    if header_str(headers, "x-ratelimit-remaining").map(str::trim) == Some("0")
        && let Some(reset) =
            header_str(headers, "x-ratelimit-reset").and_then(|s| s.trim().parse::<u64>().ok())
    {
        let reset = UNIX_EPOCH + Duration::from_secs(reset);
        let until = reset.duration_since(now).unwrap_or(Duration::ZERO);
        return Some(until + RESET_MARGIN);
    }
    let secondary = status == StatusCode::TOO_MANY_REQUESTS || mentions_rate_limit(body);
    secondary.then(|| policy.secondary_limit_wait.max(policy.backoff(attempt)))
}

/// `Retry-After` in seconds (GitHub does not send the HTTP-date form).
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    header_str(headers, "retry-after")
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// GitHub's 403 messages for limits: "API rate limit exceeded for ...",
/// "You have exceeded a secondary rate limit ...", and the older "abuse
/// detection mechanism".
fn mentions_rate_limit(body: &[u8]) -> bool {
    let text = String::from_utf8_lossy(body).to_ascii_lowercase();
    text.contains("rate limit") || text.contains("abuse")
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn backoff_doubles_within_jitter_and_is_capped() {
        let p = RetryPolicy {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(1000),
            ..RetryPolicy::default()
        };
        for _ in 0..100 {
            let b1 = p.backoff(1);
            assert!((50..=100).contains(&b1.as_millis()), "{b1:?}");
            let b3 = p.backoff(3);
            assert!((200..=400).contains(&b3.as_millis()), "{b3:?}");
            let b20 = p.backoff(20);
            assert!((500..=1000).contains(&b20.as_millis()), "{b20:?}");
            assert!(p.backoff(u32::MAX) <= Duration::from_millis(1000));
        }
    }

    #[test]
    fn rate_limit_rules() {
        let p = RetryPolicy::default();
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let wait = |status: u16, h: &[(&'static str, &str)], body: &str| {
            rate_limit_wait(
                StatusCode::from_u16(status).unwrap(),
                &headers(h),
                body.as_bytes(),
                now,
                &p,
                1,
            )
        };
        // Primary limit: until the reset, plus the margin.
        assert_eq!(
            wait(
                403,
                &[
                    ("x-ratelimit-remaining", "0"),
                    ("x-ratelimit-reset", "1000002")
                ],
                r#"{"message":"API rate limit exceeded"}"#
            ),
            Some(Duration::from_secs(2) + RESET_MARGIN)
        );
        // A reset in the past: just the margin.
        assert_eq!(
            wait(
                429,
                &[
                    ("x-ratelimit-remaining", "0"),
                    ("x-ratelimit-reset", "999990")
                ],
                ""
            ),
            Some(RESET_MARGIN)
        );
        // Retry-After wins.
        assert_eq!(
            wait(
                429,
                &[
                    ("retry-after", "7"),
                    ("x-ratelimit-remaining", "0"),
                    ("x-ratelimit-reset", "1000100")
                ],
                ""
            ),
            Some(Duration::from_secs(7))
        );
        // Secondary limits without a time: at least a minute.
        assert_eq!(
            wait(
                403,
                &[("x-ratelimit-remaining", "4000")],
                r#"{"message":"You have exceeded a secondary rate limit."}"#
            ),
            Some(Duration::from_secs(60))
        );
        assert_eq!(wait(429, &[], ""), Some(Duration::from_secs(60)));
        // A plain 403 is a permission error, not a limit.
        assert_eq!(
            wait(
                403,
                &[("x-ratelimit-remaining", "4999")],
                r#"{"message":"Resource not accessible by integration"}"#
            ),
            None
        );
        // Other statuses are not rate limits.
        assert_eq!(wait(502, &[("retry-after", "3")], ""), None);
    }
}
