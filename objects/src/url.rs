//! Parsing an input URL into a store, and the object, prefix or pattern
//! it names.

use crate::error::Error;
use crate::pattern::{Pattern, has_wildcard};
use crate::store::Scheme;

/// An input URL: which store, and what in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectUrl {
    /// The URL as given.
    pub url: String,
    /// `gs`, `s3` or `file`.
    pub scheme: Scheme,
    /// The bucket; empty for `file://` (the store is the file system).
    pub bucket: String,
    /// What the URL names in the bucket.
    pub target: Target,
}

/// What an [`ObjectUrl`] names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// One object: its key.
    Object(String),
    /// Every object under a prefix (a key ending in `/`, without it;
    /// empty for the whole bucket).
    Prefix(String),
    /// Every object whose key matches, listed from the literal prefix
    /// before the first wildcard.
    Pattern {
        /// The directory to list (no trailing `/`; may be empty).
        prefix: String,
        /// The whole key pattern.
        pattern: Pattern,
    },
}

impl ObjectUrl {
    /// Parses `gs://BUCKET/KEY`, `s3://BUCKET/KEY` or `file:///PATH`.
    pub fn parse(url: &str) -> Result<ObjectUrl, Error> {
        let bad = |reason: &str| Error::BadUrl {
            url: url.to_string(),
            reason: reason.to_string(),
        };
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| bad("expected SCHEME://..."))?;
        let scheme = match scheme {
            "gs" => Scheme::Gs,
            "s3" => Scheme::S3,
            "file" => Scheme::File,
            _ => return Err(bad("unsupported scheme, expected gs://, s3:// or file://")),
        };
        let (bucket, key) = if scheme == Scheme::File {
            let key = rest.strip_prefix('/').ok_or_else(|| {
                bad("expected an absolute path after file:// (file:///dir/profile.out)")
            })?;
            (String::new(), key)
        } else {
            let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
            check_bucket(bucket).map_err(|r| bad(&r))?;
            (bucket.to_string(), key)
        };
        check_key(key).map_err(|r| bad(&r))?;
        let target = if has_wildcard(key) {
            let literal: Vec<&str> = key.split('/').take_while(|s| !has_wildcard(s)).collect();
            Target::Pattern {
                prefix: literal.join("/"),
                pattern: Pattern::new(key),
            }
        } else if key.is_empty() || key.ends_with('/') {
            Target::Prefix(key.trim_end_matches('/').to_string())
        } else {
            Target::Object(key.to_string())
        };
        Ok(ObjectUrl {
            url: url.to_string(),
            scheme,
            bucket,
            target,
        })
    }

    /// The URL of the object `key` in the same bucket.
    pub fn object(&self, key: &str) -> String {
        format!("{}://{}/{key}", self.scheme.as_str(), self.bucket)
    }
}

/// Bucket names as GCS and S3 allow them: lower-case letters, digits,
/// `-`, `_` and `.`, 3 to 222 characters.
fn check_bucket(b: &str) -> Result<(), String> {
    let ok = (3..=222).contains(&b.len())
        && b.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || b"-_.".contains(&c));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "bucket {b:?}: expected 3 to 222 lower-case letters, digits, '-', '_' or '.'"
        ))
    }
}

/// A clean relative key: no empty, `.` or `..` segment (a trailing `/` is
/// allowed), no control character.
fn check_key(key: &str) -> Result<(), String> {
    let body = key.strip_suffix('/').unwrap_or(key);
    if body.is_empty() {
        return Ok(());
    }
    if let Some(c) = key.chars().find(|c| c.is_control()) {
        return Err(format!("control character {c:?} in the key"));
    }
    if body
        .split('/')
        .any(|s| s.is_empty() || s == "." || s == "..")
    {
        return Err("expected a key without empty, '.' or '..' segments".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(u: &str) -> Target {
        ObjectUrl::parse(u).unwrap().target
    }

    #[test]
    fn objects_prefixes_and_patterns() {
        assert_eq!(
            target("gs://kubernetes-jenkins/logs/ci-e2e/1/artifacts/e2e.cov"),
            Target::Object("logs/ci-e2e/1/artifacts/e2e.cov".into())
        );
        assert_eq!(
            target("s3://bucket/logs/ci-e2e/1/artifacts/"),
            Target::Prefix("logs/ci-e2e/1/artifacts".into())
        );
        assert_eq!(target("s3://bucket"), Target::Prefix(String::new()));
        assert_eq!(target("s3://bucket/"), Target::Prefix(String::new()));
        match target("gs://b12/logs/*/artifacts/**/*.cov") {
            Target::Pattern { prefix, pattern } => {
                assert_eq!(prefix, "logs");
                assert!(pattern.matches("logs/7/artifacts/a/b.cov"));
            }
            t => panic!("{t:?}"),
        }
        let f = ObjectUrl::parse("file:///tmp/cov/*.out").unwrap();
        assert_eq!((f.scheme, f.bucket.as_str()), (Scheme::File, ""));
        assert_eq!(f.object("tmp/cov/a.out"), "file:///tmp/cov/a.out");
        assert_eq!(
            ObjectUrl::parse("gs://b12/x").unwrap().object("y/z"),
            "gs://b12/y/z"
        );
    }

    #[test]
    fn refuses_what_is_not_a_clean_url() {
        for (u, want) in [
            ("http://b12/x", "unsupported scheme"),
            ("gs://B/x", "bucket \"B\""),
            ("gs:///x", "bucket \"\""),
            ("gs://b12/a/../x", "'..' segments"),
            ("gs://b12/a//x", "empty"),
            ("gs://b12/a\n", "control character"),
            ("file://rel/x", "absolute path"),
            ("gs:b", "SCHEME://"),
        ] {
            let e = ObjectUrl::parse(u).unwrap_err().to_string();
            assert!(e.contains(want) && e.starts_with(u.trim_end()), "{u}: {e}");
        }
    }
}
