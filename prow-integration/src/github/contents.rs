//! Reading a file of a repository at a commit (the contents API), for the
//! repository's policy file.

use base64::Engine;
use serde::Deserialize;

use super::GitHubError;

/// The largest repository file read (a policy file is a few hundred bytes;
/// the repository is the pull request author's to shape).
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// The longest contents answer read: a file of [`MAX_FILE_BYTES`] in
/// base64 (4/3, plus a line break per 60) and the document around it.
pub(crate) const MAX_CONTENTS_ANSWER: usize = 2 << 20;

/// `GET /repos/{owner}/{repo}/contents/{path}?ref=`: only what is used.
#[derive(Deserialize)]
struct ContentsDoc {
    #[serde(rename = "type")]
    kind: String,
    size: u64,
    #[serde(default)]
    encoding: Option<String>,
    #[serde(default)]
    content: Option<String>,
}

/// Checks that `path` names a file inside the repository: relative, no
/// empty, `.` or `..` element (it becomes URL path segments).
pub(crate) fn check_path(path: &str) -> Result<Vec<&str>, GitHubError> {
    let bad = || GitHubError::InvalidName {
        what: "repository file path",
        value: path.chars().take(200).collect(),
    };
    if path.is_empty() || path.len() > 1024 {
        return Err(bad());
    }
    let parts: Vec<&str> = path.split('/').collect();
    if parts
        .iter()
        .any(|p| p.is_empty() || *p == "." || *p == ".." || p.chars().any(char::is_control))
    {
        return Err(bad());
    }
    Ok(parts)
}

/// The file's bytes from the contents API's answer: a file (not a
/// directory or link) of at most [`MAX_FILE_BYTES`], base64 with the line
/// breaks GitHub puts in.
pub(crate) fn decode_contents(body: &[u8], path: &str) -> Result<Vec<u8>, GitHubError> {
    let bad = |reason: String| GitHubError::Contents {
        path: path.to_string(),
        reason,
    };
    // A directory's answer is the list of its entries.
    if body.trim_ascii_start().starts_with(b"[") {
        return Err(bad("a directory, not a file".to_string()));
    }
    let doc: ContentsDoc =
        serde_json::from_slice(body).map_err(|e| bad(format!("not a contents document ({e})")))?;
    if doc.kind != "file" {
        return Err(bad(format!("a {}, not a file", doc.kind)));
    }
    if doc.size > MAX_FILE_BYTES {
        return Err(bad(format!(
            "{} bytes, more than the {MAX_FILE_BYTES} read",
            doc.size
        )));
    }
    match doc.encoding.as_deref() {
        Some("base64") => {}
        other => return Err(bad(format!("encoding {other:?}, expected base64"))),
    }
    decode_base64(&doc.content.unwrap_or_default(), doc.size).map_err(bad)
}

/// `content` of a contents or blob answer: base64 with line breaks, which
/// must decode to the `size` the answer gives.
pub(crate) fn decode_base64(content: &str, size: u64) -> Result<Vec<u8>, String> {
    let text: Vec<u8> = content
        .bytes()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&text)
        .map_err(|e| format!("invalid base64 ({e})"))?;
    if bytes.len() as u64 != size {
        return Err(format!(
            "{} bytes decoded, the answer says {size}",
            bytes.len()
        ));
    }
    Ok(bytes)
}

/// `bytes` in base64, in lines of 60 as GitHub sends them (the fake's).
#[cfg(feature = "fake-github")]
pub(crate) fn encode_base64_lines(bytes: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(60)
        .map(|c| std::str::from_utf8(c).expect("base64 is ASCII"))
        .collect();
    lines.join("\n") + "\n"
}

/// The contents API's answer for a file (the fake server's). As GitHub's:
/// a file over 1 MiB comes without its content (`encoding: none`).
#[cfg(feature = "fake-github")]
pub(crate) fn encode_contents(path: &str, bytes: &[u8]) -> serde_json::Value {
    let name = path.rsplit('/').next().unwrap_or(path);
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return serde_json::json!({
            "type": "file", "encoding": "none", "size": bytes.len(),
            "name": name, "path": path, "content": "",
        });
    }
    serde_json::json!({
        "type": "file",
        "encoding": "base64",
        "size": bytes.len(),
        "name": name,
        "path": path,
        "content": encode_base64_lines(bytes),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(v: serde_json::Value) -> Vec<u8> {
        serde_json::to_vec(&v).unwrap()
    }

    #[test]
    fn base64_with_line_breaks() {
        let text = b"threshold:\n  total: 60\n".repeat(10);
        let b64 = base64::engine::general_purpose::STANDARD.encode(&text);
        let wrapped: Vec<String> = b64
            .as_bytes()
            .chunks(60)
            .map(|c| String::from_utf8(c.to_vec()).unwrap())
            .collect();
        let body = doc(serde_json::json!({
            "type": "file", "encoding": "base64", "size": text.len(),
            "content": wrapped.join("\n"),
        }));
        assert_eq!(decode_contents(&body, ".covlens.yml").unwrap(), text);
    }

    #[test]
    fn refused_answers_name_the_path_and_why() {
        let cases = [
            (
                serde_json::json!({"type": "dir", "size": 0}),
                "a dir, not a file",
            ),
            (
                serde_json::json!({"type": "file", "size": MAX_FILE_BYTES + 1, "encoding": "none", "content": ""}),
                "more than the 1048576 read",
            ),
            (
                serde_json::json!({"type": "file", "size": 3, "encoding": "base64", "content": "!!!"}),
                "invalid base64",
            ),
            (
                serde_json::json!({"type": "file", "size": 9, "encoding": "base64", "content": "YWJj"}),
                "3 bytes decoded, the answer says 9",
            ),
        ];
        for (v, want) in cases {
            let e = decode_contents(&doc(v), "ci/p.yml")
                .unwrap_err()
                .to_string();
            assert!(e.contains("ci/p.yml") && e.contains(want), "{e}");
        }
        let e = decode_contents(b"[{\"type\": \"file\"}]", "ci").unwrap_err();
        assert_eq!(e.to_string(), "repository file ci: a directory, not a file");
        assert!(decode_contents(b"{}", "p.yml").is_err());
    }

    #[test]
    fn paths_stay_in_the_repository() {
        assert_eq!(
            check_path("ci/.covlens.yml").unwrap(),
            ["ci", ".covlens.yml"]
        );
        for p in ["", "/etc/passwd", "a/../b", "./a", "a//b", "a/\n"] {
            assert!(check_path(p).is_err(), "{p:?}");
        }
    }
}
