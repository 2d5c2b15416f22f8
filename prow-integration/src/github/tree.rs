//! A repository's file listing (the git trees API) and file contents by
//! blob SHA (the git blobs API): ownership files read without a checkout.

use serde::Deserialize;

use super::GitHubError;
use super::contents::{MAX_FILE_BYTES, decode_base64};

/// The longest tree answer read: GitHub cuts a recursive listing at
/// 100,000 entries or 7 MB and says so, so this bound is never what stops a
/// real answer.
pub(crate) const MAX_TREE_ANSWER: usize = 32 << 20;

/// The longest blob answer read: a blob of [`MAX_FILE_BYTES`] in base64
/// and the document around it.
pub(crate) const MAX_BLOB_ANSWER: usize = 2 << 20;

/// Blobs asked for in one GraphQL query: a first read of Kubernetes'
/// OWNERS files is then a few requests, not one per file.
pub const BLOBS_PER_QUERY: usize = 100;

/// The longest GraphQL answer read; a longer one is read blob by blob.
pub(crate) const MAX_GRAPHQL_ANSWER: usize = 16 << 20;

/// How a GraphQL query names the blobs it asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BlobsBy {
    /// By blob SHA (`object(oid:)`).
    Oid,
    /// By `COMMIT:PATH` (`object(expression:)`).
    Expression,
}

/// The GraphQL request for the texts of blobs named by `values` in
/// `owner/name`, each under the alias `b{index}`. The values travel as
/// variables, never inside the query's text.
pub(crate) fn blobs_query(owner: &str, name: &str, by: BlobsBy, values: &[String]) -> Vec<u8> {
    let (ty, arg) = match by {
        BlobsBy::Oid => ("GitObjectID", "oid"),
        BlobsBy::Expression => ("String", "expression"),
    };
    let mut vars = serde_json::Map::new();
    vars.insert("owner".into(), owner.into());
    vars.insert("name".into(), name.into());
    let mut params = String::from("$owner: String!, $name: String!");
    let mut fields = String::new();
    for (i, v) in values.iter().enumerate() {
        vars.insert(format!("v{i}"), v.as_str().into());
        params.push_str(&format!(", $v{i}: {ty}!"));
        fields.push_str(&format!(
            " b{i}: object({arg}: $v{i}) {{ ... on Blob {{ text isBinary isTruncated byteSize }} }}"
        ));
    }
    let q = format!("query({params}) {{ repository(owner: $owner, name: $name) {{{fields} }} }}");
    let body = serde_json::json!({ "query": q, "variables": vars });
    serde_json::to_vec(&body).expect("a query serialises")
}

/// One blob of a [`blobs_query`] answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Blob {
    /// Its text.
    Text(Vec<u8>),
    /// GitHub has no such object.
    Missing,
    /// No usable text (binary, cut short, over [`MAX_FILE_BYTES`]): to be
    /// read on its own through REST.
    Other,
}

/// The blobs of a [`blobs_query`] answer for `n` values, in order. An
/// answer with errors and no data is an error.
pub(crate) fn decode_blobs(body: &[u8], n: usize) -> Result<Vec<Blob>, GitHubError> {
    #[derive(Deserialize)]
    struct Answer {
        data: Option<Data>,
        #[serde(default)]
        errors: Vec<serde_json::Value>,
    }
    #[derive(Deserialize)]
    struct Data {
        repository: Option<std::collections::HashMap<String, Option<Text>>>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Text {
        text: Option<String>,
        #[serde(default)]
        is_binary: bool,
        #[serde(default)]
        is_truncated: bool,
        #[serde(default)]
        byte_size: u64,
    }
    let bad = |reason: String| GitHubError::Git {
        object: format!("{n} blobs"),
        reason,
    };
    let a: Answer =
        serde_json::from_slice(body).map_err(|e| bad(format!("not a GraphQL answer ({e})")))?;
    let Some(mut blobs) = a.data.and_then(|d| d.repository) else {
        let first = a.errors.first().and_then(|e| e.get("message")?.as_str());
        return Err(bad(match first {
            Some(m) => format!("GraphQL: {}", m.chars().take(200).collect::<String>()),
            None => "GraphQL answered no repository".into(),
        }));
    };
    Ok((0..n)
        .map(|i| match blobs.remove(&format!("b{i}")).flatten() {
            None => Blob::Missing,
            Some(t) if t.is_binary || t.is_truncated || t.byte_size > MAX_FILE_BYTES => Blob::Other,
            Some(t) => t.text.map_or(Blob::Other, |t| Blob::Text(t.into_bytes())),
        })
        .collect())
}

/// A file of a repository's tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreeEntry {
    /// Its path from the repository's root, `/`-separated.
    pub path: String,
    /// Its blob's SHA: the same content has the same SHA, so a reader can
    /// keep what it read by it.
    pub sha: String,
    /// Its size in bytes.
    pub size: u64,
}

/// A listing of a tree: its files and directories, recursively or one
/// level deep.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tree {
    /// Files (blobs).
    pub files: Vec<TreeEntry>,
    /// Directories (subtrees; `sha` lists one on its own, `size` is 0).
    pub dirs: Vec<TreeEntry>,
    /// GitHub cut a recursive listing short (over 100,000 entries or
    /// 7 MB): some entries are missing.
    pub truncated: bool,
}

/// `GET /repos/{owner}/{repo}/git/trees/{ref}[?recursive=1]`: what is used.
#[derive(Deserialize)]
struct TreeDoc {
    tree: Vec<TreeItem>,
    #[serde(default)]
    truncated: bool,
}

#[derive(Deserialize)]
struct TreeItem {
    path: String,
    #[serde(rename = "type")]
    kind: String,
    sha: String,
    #[serde(default)]
    size: u64,
}

/// `GET /repos/{owner}/{repo}/git/blobs/{sha}`: what is used.
#[derive(Deserialize)]
struct BlobDoc {
    size: u64,
    encoding: String,
    content: String,
}

/// The files and directories of a tree answer (submodules are neither);
/// whether GitHub cut it short is the caller's to handle.
pub(crate) fn decode_tree(body: &[u8], reference: &str) -> Result<Tree, GitHubError> {
    let doc: TreeDoc = serde_json::from_slice(body).map_err(|e| GitHubError::Git {
        object: format!("tree {reference}"),
        reason: format!("not a tree document ({e})"),
    })?;
    let mut tree = Tree {
        truncated: doc.truncated,
        ..Tree::default()
    };
    for i in doc.tree {
        let e = TreeEntry {
            path: i.path,
            sha: i.sha,
            size: i.size,
        };
        match i.kind.as_str() {
            "blob" => tree.files.push(e),
            "tree" => tree.dirs.push(e),
            _ => {}
        }
    }
    Ok(tree)
}

/// A blob's bytes: at most [`MAX_FILE_BYTES`], base64 with the line breaks
/// GitHub puts in, as long as the answer says.
pub(crate) fn decode_blob(body: &[u8], sha: &str) -> Result<Vec<u8>, GitHubError> {
    let bad = |reason: String| GitHubError::Git {
        object: format!("blob {sha}"),
        reason,
    };
    let doc: BlobDoc =
        serde_json::from_slice(body).map_err(|e| bad(format!("not a blob document ({e})")))?;
    if doc.size > MAX_FILE_BYTES {
        return Err(bad(format!(
            "{} bytes, more than the {MAX_FILE_BYTES} read",
            doc.size
        )));
    }
    if doc.encoding != "base64" {
        return Err(bad(format!("encoding {:?}, expected base64", doc.encoding)));
    }
    decode_base64(&doc.content, doc.size).map_err(bad)
}

/// The fake server's blob SHA of `bytes`: any stable 40-hex-digit name
/// does for it (two FNV-1a hashes, not git's SHA-1).
#[cfg(feature = "fake-github")]
pub(crate) fn fake_blob_sha(bytes: &[u8]) -> String {
    let fnv = |seed: u64| {
        bytes.iter().fold(seed, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    };
    let (a, b) = (fnv(0xcbf2_9ce4_8422_2325), fnv(0x6c62_272e_07bb_0142));
    format!("{a:016x}{b:016x}{:08x}", (a ^ b) as u32)
}

/// The fake server's SHA of every directory (`""`: the root) of a tree
/// holding `files` (path from the root, blob SHA, size): a hash of what is
/// below it, so it changes when a file below it does, as git's does.
#[cfg(feature = "fake-github")]
pub(crate) fn fake_tree_shas(
    files: &[(&str, &str, usize)],
) -> std::collections::BTreeMap<String, String> {
    let mut below: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (path, sha, _) in files {
        let mut d = *path;
        below
            .entry(String::new())
            .or_default()
            .push(format!("{path} {sha}\n"));
        while let Some((parent, _)) = d.rsplit_once('/') {
            let rel = &path[parent.len() + 1..];
            below
                .entry(parent.to_string())
                .or_default()
                .push(format!("{rel} {sha}\n"));
            d = parent;
        }
    }
    below
        .into_iter()
        .map(|(dir, mut entries)| {
            entries.sort();
            let sha = fake_blob_sha(format!("tree {dir}\n{}", entries.concat()).as_bytes());
            (dir, sha)
        })
        .collect()
}

/// A tree answer (the fake server's) for directory `dir` of a tree holding
/// `files` (path from the root, blob SHA, size): its files and the
/// directories below it, recursively or one level deep, with GitHub's
/// `truncated` past `max_entries`.
#[cfg(feature = "fake-github")]
pub(crate) fn encode_tree(
    dir: &str,
    files: &[(&str, &str, usize)],
    recursive: bool,
    max_entries: Option<usize>,
) -> serde_json::Value {
    use std::collections::BTreeSet;
    let prefix = if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    };
    let shas = fake_tree_shas(files);
    let mut dirs = BTreeSet::new();
    let mut items = Vec::new();
    for (path, sha, size) in files {
        let Some(rel) = path.strip_prefix(&prefix) else {
            continue;
        };
        // Every directory between `dir` and the file.
        let mut d = rel;
        while let Some((parent, _)) = d.rsplit_once('/') {
            dirs.insert(parent.to_string());
            d = parent;
        }
        if recursive || !rel.contains('/') {
            items.push(serde_json::json!({
                "path": rel, "mode": "100644", "type": "blob", "sha": sha, "size": size,
            }));
        }
    }
    for d in dirs.iter().filter(|d| recursive || !d.contains('/')) {
        let sha = &shas[&format!("{prefix}{d}")];
        items.push(serde_json::json!({"path": d, "mode": "040000", "type": "tree", "sha": sha}));
    }
    let truncated = recursive && max_entries.is_some_and(|m| items.len() > m);
    if let Some(m) = max_entries.filter(|_| truncated) {
        items.truncate(m);
    }
    let sha = shas.get(dir).cloned().unwrap_or_default();
    serde_json::json!({ "sha": sha, "tree": items, "truncated": truncated })
}

/// A blob answer (the fake server's).
#[cfg(feature = "fake-github")]
pub(crate) fn encode_blob(bytes: &[u8]) -> serde_json::Value {
    serde_json::json!({
        "sha": fake_blob_sha(bytes), "size": bytes.len(),
        "encoding": "base64", "content": super::contents::encode_base64_lines(bytes),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graphql_blob_answers() {
        let ok = br#"{"data":{"repository":{
            "b0":{"text":"a\n","isBinary":false,"isTruncated":false,"byteSize":2},
            "b1":null,
            "b2":{"text":null,"isBinary":true,"byteSize":9},
            "b3":{"text":"cut","isTruncated":true,"byteSize":3000000}}}}"#;
        let got = decode_blobs(ok, 5).unwrap();
        use Blob::*;
        assert_eq!(got, [Text(b"a\n".to_vec()), Missing, Other, Other, Missing]);
        let err = br#"{"data":null,"errors":[{"message":"API rate limit exceeded"}]}"#;
        let e = decode_blobs(err, 1).unwrap_err().to_string();
        assert!(e.contains("GraphQL: API rate limit exceeded"), "{e}");
        for bad in [&b"[]"[..], b"{\"data\":{\"repository\":{\"b0\":7}}}", b""] {
            assert!(decode_blobs(bad, 1).is_err());
        }
        // Values are variables: a hostile path stays out of the query.
        let path = "a\" } } mutation { x".to_string();
        let body = blobs_query(
            "o",
            "n",
            BlobsBy::Expression,
            &["ab12".into(), path.clone()],
        );
        let q: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let text = q["query"].as_str().unwrap();
        assert!(
            text.contains("b1: object(expression: $v1)") && !text.contains("mutation"),
            "{text}"
        );
        assert_eq!(q["variables"]["v1"], path.as_str());
    }

    #[test]
    fn trees_list_files_and_directories() {
        let body = br#"{"sha":"t","truncated":false,"tree":[
            {"path":"pkg","mode":"040000","type":"tree","sha":"aa"},
            {"path":"pkg/OWNERS","mode":"100644","type":"blob","sha":"bb","size":12},
            {"path":"sub","mode":"160000","type":"commit","sha":"cc"}]}"#;
        let t = decode_tree(body, "master").unwrap();
        let entry = |path: &str, sha: &str, size| TreeEntry {
            path: path.into(),
            sha: sha.into(),
            size,
        };
        assert_eq!(t.files, [entry("pkg/OWNERS", "bb", 12)]);
        assert_eq!(t.dirs, [entry("pkg", "aa", 0)], "submodules are neither");
        assert!(!t.truncated);
        let cut = br#"{"sha":"t","truncated":true,"tree":[]}"#;
        assert!(decode_tree(cut, "master").unwrap().truncated);
        let e = decode_tree(b"[]", "master").unwrap_err().to_string();
        assert!(e.contains("tree master"), "{e}");
    }

    #[test]
    fn blobs_are_checked_against_their_size() {
        let ok = br#"{"sha":"s","size":6,"encoding":"base64","content":"YXBw\ncm92\n"}"#;
        assert_eq!(decode_blob(ok, "s").unwrap(), b"approv");
        let short = br#"{"sha":"s","size":7,"encoding":"base64","content":"YXBwcm92"}"#;
        assert!(decode_blob(short, "s").is_err());
        let big = format!(
            r#"{{"sha":"s","size":{},"encoding":"base64","content":""}}"#,
            2 << 20
        );
        let e = decode_blob(big.as_bytes(), "s").unwrap_err().to_string();
        assert!(e.contains("blob s") && e.contains("more than"), "{e}");
        let raw = br#"{"sha":"s","size":1,"encoding":"utf-8","content":"a"}"#;
        assert!(decode_blob(raw, "s").is_err());
    }
}
