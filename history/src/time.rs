//! Run times: UTC microseconds since the Unix epoch, read and printed as
//! RFC 3339.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, SecondsFormat, Utc};

use crate::error::{Error, Result};

/// A point in time, microseconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    /// Parses RFC 3339 (`2026-12-02T16:04:56Z`, `2026-12-02T17:04:56.5+01:00`).
    pub fn parse_rfc3339(s: &str) -> Result<Timestamp> {
        let t = DateTime::parse_from_rfc3339(s).map_err(|_| Error::BadTime(s.to_string()))?;
        Ok(Timestamp(t.timestamp_micros()))
    }

    /// The current time.
    pub fn now() -> Timestamp {
        Timestamp::from(SystemTime::now())
    }

    /// Microseconds since the epoch.
    pub fn micros(self) -> i64 {
        self.0
    }

    /// From microseconds since the epoch.
    pub fn from_micros(us: i64) -> Timestamp {
        Timestamp(us)
    }
}

impl From<SystemTime> for Timestamp {
    fn from(t: SystemTime) -> Timestamp {
        let us = match t.duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_micros()).unwrap_or(i64::MAX),
            Err(e) => -i64::try_from(e.duration().as_micros()).unwrap_or(i64::MAX),
        };
        Timestamp(us)
    }
}

impl From<Timestamp> for SystemTime {
    fn from(t: Timestamp) -> SystemTime {
        let d = Duration::from_micros(t.0.unsigned_abs());
        if t.0 >= 0 {
            UNIX_EPOCH + d
        } else {
            UNIX_EPOCH - d
        }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match DateTime::<Utc>::from_timestamp_micros(self.0) {
            Some(t) => f.write_str(&t.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
            None => write!(f, "@{}us", self.0),
        }
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let t = Timestamp::parse_rfc3339("2026-12-02T17:04:56.5+01:00").unwrap();
        assert_eq!(t.to_string(), "2026-12-02T16:04:56.500Z");
        assert_eq!(
            Timestamp::parse_rfc3339("1970-01-01T00:00:01Z")
                .unwrap()
                .micros(),
            1_000_000
        );
        assert!(Timestamp::parse_rfc3339("yesterday").is_err());
        let now = Timestamp::now();
        assert_eq!(Timestamp::from(SystemTime::from(now)), now);
    }
}
