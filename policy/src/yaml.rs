//! Reading YAML configuration with errors that say where: the line and
//! column, the dotted path of the key (`threshold.total`,
//! `override[1].path`) and serde-saphyr's message without its own
//! position. Used by the policy file and the Prow reporter's config.

use serde::de::DeserializeOwned;

/// Why a YAML document did not deserialise.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct YamlError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The key path (`""` at the top); `serde_saphyr::Spanned`'s own
    /// `.value` steps are left out.
    pub key: String,
    /// What was wrong, on one line.
    pub message: String,
}

/// Deserialises `text` as `T`, saying where it failed.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, YamlError> {
    let mut key = String::new();
    // `yes`, `no`, `on` and `off` are strings, not booleans (YAML 1.2).
    let options = serde_saphyr::options! { strict_booleans: true };
    serde_saphyr::with_deserializer_from_str_with_options(text, options, |de| {
        serde_path_to_error::deserialize::<_, T>(de).map_err(|e| {
            let path = e.path().to_string();
            if path != "." {
                key = path;
            }
            e.into_inner()
        })
    })
    .map_err(|e| {
        let (line, column) = e
            .location()
            .map(|l| (l.line() as usize, l.column() as usize))
            .unwrap_or((1, 1));
        YamlError {
            line,
            column,
            key: key.replace(".value", ""),
            message: plain_message(&e),
        }
    })
}

/// serde-saphyr's message without its own `line L column C: ` (callers
/// start theirs with `file:line:column:`).
fn plain_message(e: &serde_saphyr::Error) -> String {
    let s = e.to_string();
    let mut m = s.lines().next().unwrap_or("").trim();
    m = m.strip_prefix("error: ").unwrap_or(m);
    if m.starts_with("line ")
        && let Some(i) = m.find(": ")
    {
        m = &m[i + 2..];
    }
    // Advice addressed to the library's callers, not to the file's author.
    m = m
        .strip_suffix(", set DuplicateKeyPolicy in Options if acceptable")
        .unwrap_or(m);
    if m.starts_with("multiple YAML documents detected") {
        return "expected one YAML document, found several (`---`)".to_string();
    }
    m.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Doc {
        a: Inner,
    }

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        n: serde_saphyr::Spanned<u32>,
    }

    #[test]
    fn position_key_and_message() {
        let e = from_str::<Doc>("a:\n  n: many\n").unwrap_err();
        assert_eq!((e.line, e.column, e.key.as_str()), (2, 6, "a.n"));
        assert!(!e.message.starts_with("line "), "{}", e.message);
        let e = from_str::<Doc>("a:\n  n: 1\n  m: 2\n").unwrap_err();
        assert!(e.message.starts_with("unknown field `m`"), "{e:?}");
    }

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Flag {
        on: bool,
    }

    /// Messages speak to the file's author, not to the library's caller;
    /// `yes` is not a boolean.
    #[test]
    fn messages_for_the_author() {
        let e = from_str::<Doc>("a:\n  n: 1\n  n: 2\n").unwrap_err();
        assert_eq!(
            (e.line, e.message.as_str()),
            (3, "duplicate mapping key: n")
        );
        let e = from_str::<Doc>("a: {n: 1}\n---\na: {n: 2}\n").unwrap_err();
        assert_eq!(
            e.message,
            "expected one YAML document, found several (`---`)"
        );
        assert!(from_str::<Flag>("on: yes\n").is_err());
        assert!(from_str::<Flag>("on: true\n").unwrap().on);
    }
}
