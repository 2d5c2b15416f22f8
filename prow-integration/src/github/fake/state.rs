//! The fake's GitHub: in-memory objects and the endpoints over them.
//!
//! Written from GitHub's REST documentation, independently of the
//! client's types, so that a misnamed field on either side shows.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Everything the fake holds; also what `--state FILE` stores.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FakeState {
    /// Accounts seen, with their ids.
    pub users: Vec<FakeUser>,
    /// Repositories seen, with their ids (for `/repositories/{id}` links).
    pub repos: Vec<FakeRepo>,
    /// Issue comments, oldest first.
    pub comments: Vec<FakeComment>,
    /// Commit statuses, oldest first.
    pub statuses: Vec<FakeStatus>,
    /// Check runs.
    pub check_runs: Vec<FakeCheckRun>,
    /// Repository files served by the contents API, per commit.
    #[serde(default)]
    pub files: Vec<FakeFile>,
    /// The last id handed out.
    pub last_id: u64,
    /// Recursive tree listings with more entries come cut short
    /// (`truncated`), as GitHub's do past 100,000 entries or 7 MB.
    #[serde(default)]
    pub tree_entries_max: Option<usize>,
}

/// An account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FakeUser {
    /// Login.
    pub login: String,
    /// Id.
    pub id: u64,
}

/// A repository.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FakeRepo {
    /// Owner.
    pub owner: String,
    /// Name.
    pub name: String,
    /// Id.
    pub id: u64,
}

/// An issue comment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FakeComment {
    /// Id.
    pub id: u64,
    /// `owner/name`.
    pub repo: String,
    /// Issue (PR) number.
    pub issue: u64,
    /// Author's login.
    pub login: String,
    /// Body.
    pub body: String,
    /// Creation time (ISO 8601).
    pub created_at: String,
    /// Last edit (ISO 8601).
    pub updated_at: String,
}

/// A file of a repository at a commit.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FakeFile {
    /// `owner/name`.
    pub repo: String,
    /// The commit (`ref`).
    pub reference: String,
    /// Path in the repository.
    pub path: String,
    /// Content.
    pub content: Vec<u8>,
    /// The content's fake blob SHA, computed once (tree listings need
    /// every file's).
    #[serde(skip)]
    pub sha: std::sync::OnceLock<String>,
}

impl FakeFile {
    /// A file of `repo` at `reference`.
    pub fn new(repo: &str, reference: &str, path: &str, content: Vec<u8>) -> FakeFile {
        FakeFile {
            repo: repo.to_string(),
            reference: reference.to_string(),
            path: path.to_string(),
            content,
            sha: std::sync::OnceLock::new(),
        }
    }

    fn key(&self) -> (&str, &str, &str, &[u8]) {
        (&self.repo, &self.reference, &self.path, &self.content)
    }

    /// The content's fake blob SHA.
    pub fn sha(&self) -> &str {
        self.sha
            .get_or_init(|| crate::github::tree::fake_blob_sha(&self.content))
    }
}

// The SHA is a cache: equal files are equal whether or not it was computed.
impl PartialEq for FakeFile {
    fn eq(&self, other: &FakeFile) -> bool {
        self.key() == other.key()
    }
}

impl Eq for FakeFile {}

/// A commit status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FakeStatus {
    /// Id.
    pub id: u64,
    /// `owner/name`.
    pub repo: String,
    /// Commit.
    pub sha: String,
    /// `error`, `failure`, `pending` or `success`.
    pub state: String,
    /// Details link.
    pub target_url: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Context.
    pub context: String,
    /// Who set it.
    pub creator: String,
}

/// A check run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FakeCheckRun {
    /// Id.
    pub id: u64,
    /// `owner/name`.
    pub repo: String,
    /// Name.
    pub name: String,
    /// Commit.
    pub head_sha: String,
    /// `queued`, `in_progress` or `completed`.
    pub status: String,
    /// Conclusion, once completed.
    pub conclusion: Option<String>,
    /// Details link.
    pub details_url: Option<String>,
    /// The caller's reference.
    pub external_id: Option<String>,
    /// Output title.
    pub title: Option<String>,
    /// Output summary.
    pub summary: Option<String>,
    /// Output text.
    pub text: Option<String>,
    /// Every annotation received, in order.
    pub annotations: Vec<Value>,
    /// Requests that created or updated it.
    pub requests: u32,
}

/// A request as the endpoints see it.
pub(crate) struct Req<'a> {
    pub method: &'a str,
    /// Path segments after the API prefix.
    pub segments: Vec<&'a str>,
    pub query: BTreeMap<String, String>,
    pub body: &'a [u8],
    /// The authenticated login.
    pub login: &'a str,
    /// `scheme://host` + prefix, for links.
    pub base: &'a str,
}

/// An answer.
pub(crate) struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub(crate) fn json(status: u16, v: &Value) -> Resp {
        Resp {
            status,
            headers: Vec::new(),
            body: serde_json::to_vec(v).expect("JSON values serialise"),
        }
    }

    pub(crate) fn message(status: u16, message: &str) -> Resp {
        Resp::json(
            status,
            &json!({"message": message, "documentation_url": "https://docs.github.com/rest"}),
        )
    }

    fn no_content() -> Resp {
        Resp {
            status: 204,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }
}

/// GitHub's default and largest page sizes.
const DEFAULT_PER_PAGE: usize = 30;
const MAX_PER_PAGE: usize = 100;

impl FakeState {
    fn next_id(&mut self) -> u64 {
        self.last_id = self.last_id.max(1_000_000) + 1;
        self.last_id
    }

    /// The account `login`, created on first sight.
    pub(crate) fn user(&mut self, login: &str) -> FakeUser {
        if let Some(u) = self.users.iter().find(|u| u.login == login) {
            return u.clone();
        }
        let u = FakeUser {
            login: login.to_owned(),
            id: 100 + self.users.len() as u64,
        };
        self.users.push(u.clone());
        u
    }

    fn repo(&mut self, owner: &str, name: &str) -> FakeRepo {
        if let Some(r) = self
            .repos
            .iter()
            .find(|r| r.owner == owner && r.name == name)
        {
            return r.clone();
        }
        let r = FakeRepo {
            owner: owner.to_owned(),
            name: name.to_owned(),
            id: 5000 + self.repos.len() as u64,
        };
        self.repos.push(r.clone());
        r
    }

    /// Adds a comment as `login` (seeding, and `POST .../comments`).
    pub fn add_comment(&mut self, repo: &str, issue: u64, login: &str, body: &str) -> u64 {
        self.user(login);
        if let Some((o, n)) = repo.split_once('/') {
            self.repo(o, n);
        }
        let id = self.next_id();
        let now = iso8601(SystemTime::now());
        self.comments.push(FakeComment {
            id,
            repo: repo.to_owned(),
            issue,
            login: login.to_owned(),
            body: body.to_owned(),
            created_at: now.clone(),
            updated_at: now,
        });
        id
    }

    fn user_json(&mut self, login: &str) -> Value {
        let u = self.user(login);
        let kind = if login.ends_with("[bot]") {
            "Bot"
        } else {
            "User"
        };
        json!({"login": u.login, "id": u.id, "node_id": format!("U_{}", u.id), "type": kind, "site_admin": false})
    }

    fn comment_json(&mut self, c: &FakeComment, base: &str) -> Value {
        json!({
            "id": c.id,
            "node_id": format!("IC_{}", c.id),
            "url": format!("{base}/repos/{}/issues/comments/{}", c.repo, c.id),
            "html_url": format!("https://github.com/{}/pull/{}#issuecomment-{}", c.repo, c.issue, c.id),
            "issue_url": format!("{base}/repos/{}/issues/{}", c.repo, c.issue),
            "body": c.body,
            "user": self.user_json(&c.login),
            "created_at": c.created_at,
            "updated_at": c.updated_at,
            "author_association": "NONE",
        })
    }

    /// Answers an API request (authenticated as `req.login`).
    pub(crate) fn handle(&mut self, req: &Req<'_>) -> Resp {
        let s = req.segments.as_slice();
        match (req.method, s) {
            ("GET", ["user"]) => Resp::json(200, &self.user_json(req.login)),
            ("GET", ["repos", o, r, "issues", n, "comments"]) => match n.parse() {
                Ok(n) => {
                    let repo = self.repo(o, r);
                    self.list_comments(req, &repo, n)
                }
                Err(_) => Resp::message(404, "Not Found"),
            },
            ("GET", ["repositories", id, "issues", n, "comments"]) => {
                let repo = self.repos.iter().find(|r| r.id.to_string() == *id).cloned();
                match (repo, n.parse()) {
                    (Some(repo), Ok(n)) => self.list_comments(req, &repo, n),
                    _ => Resp::message(404, "Not Found"),
                }
            }
            ("POST", ["repos", o, r, "issues", n, "comments"]) => {
                let Ok(n) = n.parse() else {
                    return Resp::message(404, "Not Found");
                };
                let body = match comment_body(req.body) {
                    Ok(b) => b,
                    Err(resp) => return resp,
                };
                self.repo(o, r);
                let repo = format!("{o}/{r}");
                let id = self.add_comment(&repo, n, req.login, &body);
                let c = self.comments.iter().find(|c| c.id == id).cloned();
                let c = c.expect("just added");
                Resp::json(201, &self.comment_json(&c, req.base))
            }
            (method, ["repos", o, r, "issues", "comments", id]) => {
                let repo = format!("{o}/{r}");
                let Some(i) = self
                    .comments
                    .iter()
                    .position(|c| c.repo == repo && c.id.to_string() == *id)
                else {
                    return Resp::message(404, "Not Found");
                };
                let mine = self.comments[i].login == req.login;
                match method {
                    "GET" => {
                        let c = self.comments[i].clone();
                        Resp::json(200, &self.comment_json(&c, req.base))
                    }
                    "PATCH" if mine => {
                        let body = match comment_body(req.body) {
                            Ok(b) => b,
                            Err(resp) => return resp,
                        };
                        let c = &mut self.comments[i];
                        c.body = body;
                        c.updated_at = iso8601(SystemTime::now());
                        let c = c.clone();
                        Resp::json(200, &self.comment_json(&c, req.base))
                    }
                    "DELETE" if mine => {
                        self.comments.remove(i);
                        Resp::no_content()
                    }
                    "PATCH" | "DELETE" => {
                        Resp::message(403, "Must have admin rights to Repository.")
                    }
                    _ => Resp::message(404, "Not Found"),
                }
            }
            ("GET", ["repos", o, r, "contents", path @ ..]) if !path.is_empty() => {
                let (repo, path) = (format!("{o}/{r}"), path.join("/"));
                let reference = req.query.get("ref").map(String::as_str).unwrap_or("");
                match self
                    .files
                    .iter()
                    .find(|f| f.repo == repo && f.path == path && f.reference == reference)
                {
                    Some(f) => Resp::json(
                        200,
                        &crate::github::contents::encode_contents(&path, &f.content),
                    ),
                    None => Resp::message(404, "Not Found"),
                }
            }
            ("GET", ["repos", o, r, "git", "trees", reference @ ..]) if !reference.is_empty() => {
                let (repo, reference) = (format!("{o}/{r}"), reference.join("/"));
                let recursive = req.query.get("recursive").is_some_and(|v| v == "1");
                let at = |reference: &str| -> Vec<(&str, &str, usize)> {
                    let files = self.files.iter();
                    files
                        .filter(|f| f.repo == repo && f.reference == reference)
                        .map(|f| (f.path.as_str(), f.sha(), f.content.len()))
                        .collect()
                };
                // A reference, or a directory's tree SHA from a listing.
                let mut references: Vec<&str> = self
                    .files
                    .iter()
                    .filter(|f| f.repo == repo)
                    .map(|f| f.reference.as_str())
                    .collect();
                references.sort_unstable();
                references.dedup();
                let found = if references.contains(&reference.as_str()) {
                    Some((at(&reference), String::new()))
                } else {
                    references.iter().find_map(|r| {
                        let files = at(r);
                        let shas = crate::github::tree::fake_tree_shas(&files);
                        let dir = shas.iter().find(|(_, sha)| **sha == reference)?.0.clone();
                        Some((files, dir))
                    })
                };
                let Some((files, dir)) = found else {
                    return Resp::message(404, "Not Found");
                };
                let max = self.tree_entries_max;
                Resp::json(
                    200,
                    &crate::github::tree::encode_tree(&dir, &files, recursive, max),
                )
            }
            ("POST", ["graphql"]) => self.graphql(req),
            ("GET", ["repos", o, r, "git", "blobs", sha]) => {
                let repo = format!("{o}/{r}");
                match self
                    .files
                    .iter()
                    .find(|f| f.repo == repo && f.sha() == *sha)
                {
                    Some(f) => Resp::json(200, &crate::github::tree::encode_blob(&f.content)),
                    None => Resp::message(404, "Not Found"),
                }
            }
            ("POST", ["repos", o, r, "statuses", sha]) => self.create_status(req, o, r, sha),
            ("GET", ["repos", o, r, "commits", sha, "statuses"]) => {
                let repo = format!("{o}/{r}");
                let mut list: Vec<Value> = self
                    .statuses
                    .iter()
                    .filter(|s| s.repo == repo && s.sha == *sha)
                    .map(status_json)
                    .collect();
                list.reverse();
                Resp::json(200, &Value::Array(list))
            }
            ("POST", ["repos", o, r, "check-runs"]) => self.create_check_run(req, o, r),
            ("PATCH", ["repos", o, r, "check-runs", id]) => {
                let repo = format!("{o}/{r}");
                match self
                    .check_runs
                    .iter()
                    .position(|c| c.repo == repo && c.id.to_string() == *id)
                {
                    Some(i) => self.update_check_run(req, i),
                    None => Resp::message(404, "Not Found"),
                }
            }
            _ => Resp::message(404, "Not Found"),
        }
    }

    /// One page of an issue's comments with GitHub's `Link` header, whose
    /// targets use the `/repositories/{id}/...` form as GitHub's do.
    fn list_comments(&mut self, req: &Req<'_>, repo: &FakeRepo, issue: u64) -> Resp {
        let per_page = req
            .query
            .get("per_page")
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(DEFAULT_PER_PAGE)
            .clamp(1, MAX_PER_PAGE);
        let page = req
            .query
            .get("page")
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(1)
            .max(1);
        let full = format!("{}/{}", repo.owner, repo.name);
        let all: Vec<FakeComment> = self
            .comments
            .iter()
            .filter(|c| c.repo == full && c.issue == issue)
            .cloned()
            .collect();
        let pages = all.len().div_ceil(per_page).max(1);
        let items: Vec<Value> = all
            .iter()
            .skip((page - 1) * per_page)
            .take(per_page)
            .map(|c| self.comment_json(c, req.base))
            .collect();
        let link = |p: usize, rel: &str| {
            format!(
                "<{}/repositories/{}/issues/{issue}/comments?per_page={per_page}&page={p}>; rel=\"{rel}\"",
                req.base, repo.id
            )
        };
        let mut links = Vec::new();
        if page > 1 {
            links.push(link(page - 1, "prev"));
        }
        if page < pages {
            links.push(link(page + 1, "next"));
            links.push(link(pages, "last"));
        }
        if page > 1 {
            links.push(link(1, "first"));
        }
        let mut resp = Resp::json(200, &Value::Array(items));
        if !links.is_empty() {
            resp.headers.push(("link".to_owned(), links.join(", ")));
        }
        resp
    }

    /// The one GraphQL query the client makes: blob texts, each under an
    /// alias, by SHA or by `COMMIT:PATH` held in a variable
    /// (`b0: object(oid: $v0) { ... on Blob { … } }`).
    fn graphql(&self, req: &Req<'_>) -> Resp {
        #[derive(Deserialize)]
        struct Query {
            query: String,
            variables: BTreeMap<String, String>,
        }
        let Ok(q) = serde_json::from_slice::<Query>(req.body) else {
            return Resp::message(400, "Problems parsing JSON");
        };
        let var = |k: &str| q.variables.get(k).map(String::as_str).unwrap_or_default();
        let repo = format!("{}/{}", var("owner"), var("name"));
        if !self.files.iter().any(|f| f.repo == repo) {
            return Resp::json(
                200,
                &json!({"data": {"repository": null}, "errors": [{"type": "NOT_FOUND",
                    "message": format!("Could not resolve to a Repository with the name '{repo}'.")}]}),
            );
        }
        let mut data = serde_json::Map::new();
        let mut rest = q.query.as_str();
        while let Some(i) = rest.find(": object(") {
            let alias = rest[..i].rsplit([' ', '{']).next().unwrap_or_default();
            let after = &rest[i + ": object(".len()..];
            let (arg, after) = after.split_once(": $").unwrap_or_default();
            let name: String = after
                .chars()
                .take_while(char::is_ascii_alphanumeric)
                .collect();
            let value = var(&name);
            let file = self.files.iter().find(|f| {
                f.repo == repo
                    && match arg {
                        "oid" => f.sha() == value,
                        _ => value.split_once(':') == Some((&f.reference, &f.path)),
                    }
            });
            let blob = file.map(|f| match std::str::from_utf8(&f.content) {
                Ok(text) => json!({"text": text, "isBinary": false, "isTruncated": false,
                                   "byteSize": f.content.len()}),
                Err(_) => json!({"text": null, "isBinary": true, "isTruncated": false,
                                 "byteSize": f.content.len()}),
            });
            data.insert(alias.to_string(), blob.unwrap_or(Value::Null));
            rest = after;
        }
        Resp::json(200, &json!({"data": {"repository": data}}))
    }

    fn create_status(&mut self, req: &Req<'_>, owner: &str, name: &str, sha: &str) -> Resp {
        let Ok(v) = serde_json::from_slice::<Value>(req.body) else {
            return Resp::message(400, "Problems parsing JSON");
        };
        let state = v.get("state").and_then(Value::as_str).unwrap_or_default();
        if !matches!(state, "error" | "failure" | "pending" | "success") {
            return validation_failed("Status", "state", "invalid");
        }
        let description = v
            .get("description")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if description
            .as_ref()
            .is_some_and(|d| d.chars().count() > 140)
        {
            return Resp::json(
                422,
                &json!({"message": "Validation Failed", "errors": [{"resource": "Status", "code": "custom", "field": "description", "message": "description is too long (maximum is 140 characters)"}]}),
            );
        }
        self.repo(owner, name);
        let id = self.next_id();
        let status = FakeStatus {
            id,
            repo: format!("{owner}/{name}"),
            sha: sha.to_owned(),
            state: state.to_owned(),
            target_url: v
                .get("target_url")
                .and_then(Value::as_str)
                .map(str::to_owned),
            description,
            context: v
                .get("context")
                .and_then(Value::as_str)
                .unwrap_or("default")
                .to_owned(),
            creator: req.login.to_owned(),
        };
        let out = status_json(&status);
        self.statuses.push(status);
        Resp::json(201, &out)
    }

    fn create_check_run(&mut self, req: &Req<'_>, owner: &str, name: &str) -> Resp {
        let Ok(v) = serde_json::from_slice::<Value>(req.body) else {
            return Resp::message(400, "Problems parsing JSON");
        };
        let (Some(run_name), Some(head_sha)) = (
            v.get("name").and_then(Value::as_str),
            v.get("head_sha").and_then(Value::as_str),
        ) else {
            return validation_failed("CheckRun", "name", "missing_field");
        };
        self.repo(owner, name);
        let id = self.next_id();
        self.check_runs.push(FakeCheckRun {
            id,
            repo: format!("{owner}/{name}"),
            name: run_name.to_owned(),
            head_sha: head_sha.to_owned(),
            status: "queued".to_owned(),
            conclusion: None,
            details_url: None,
            external_id: None,
            title: None,
            summary: None,
            text: None,
            annotations: Vec::new(),
            requests: 0,
        });
        let i = self.check_runs.len() - 1;
        let resp = self.update_check_run(req, i);
        if resp.status != 200 {
            self.check_runs.pop();
            return resp;
        }
        Resp {
            status: 201,
            ..resp
        }
    }

    fn update_check_run(&mut self, req: &Req<'_>, i: usize) -> Resp {
        let Ok(v) = serde_json::from_slice::<Value>(req.body) else {
            return Resp::message(400, "Problems parsing JSON");
        };
        let output = v.get("output");
        let annotations = output
            .and_then(|o| o.get("annotations"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if annotations.len() > 50 {
            return validation_failed("CheckRun", "annotations", "too_many");
        }
        if let Some(o) = output
            && (o.get("title").and_then(Value::as_str).is_none()
                || o.get("summary").and_then(Value::as_str).is_none())
        {
            return validation_failed("CheckRun", "output", "missing_field");
        }
        let run = &mut self.check_runs[i];
        let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        if let Some(s) = text("status") {
            run.status = s;
        }
        if let Some(c) = text("conclusion") {
            run.conclusion = Some(c);
            run.status = "completed".to_owned();
        }
        if let Some(u) = text("details_url") {
            run.details_url = Some(u);
        }
        if let Some(e) = text("external_id") {
            run.external_id = Some(e);
        }
        if let Some(o) = output {
            let text = |k: &str| o.get(k).and_then(Value::as_str).map(str::to_owned);
            run.title = text("title");
            run.summary = text("summary");
            run.text = text("text").or(run.text.take());
        }
        run.annotations.extend(annotations);
        run.requests += 1;
        let out = json!({
            "id": run.id, "name": run.name, "head_sha": run.head_sha, "status": run.status,
            "conclusion": run.conclusion, "details_url": run.details_url, "external_id": run.external_id,
            "output": {"title": run.title, "summary": run.summary, "text": run.text,
                       "annotations_count": run.annotations.len()},
        });
        Resp::json(200, &out)
    }
}

fn status_json(s: &FakeStatus) -> Value {
    json!({
        "id": s.id, "state": s.state, "target_url": s.target_url, "description": s.description,
        "context": s.context, "creator": {"login": s.creator},
    })
}

fn validation_failed(resource: &str, field: &str, code: &str) -> Resp {
    Resp::json(
        422,
        &json!({"message": "Validation Failed", "errors": [{"resource": resource, "field": field, "code": code}]}),
    )
}

/// The `body` of a comment request, with GitHub's checks.
fn comment_body(raw: &[u8]) -> Result<String, Resp> {
    let v: Value =
        serde_json::from_slice(raw).map_err(|_| Resp::message(400, "Problems parsing JSON"))?;
    let Some(body) = v.get("body").and_then(Value::as_str) else {
        return Err(validation_failed("IssueComment", "body", "missing_field"));
    };
    // GitHub counts UTF-16 units (JavaScript's length).
    if body.encode_utf16().count() > 65_536 {
        return Err(Resp::json(
            422,
            &json!({"message": "Validation Failed", "errors": [{"resource": "IssueComment", "code": "unprocessable", "field": "data", "message": "Body is too long (maximum is 65536 characters)"}]}),
        ));
    }
    Ok(body.to_owned())
}

/// `YYYY-MM-DDTHH:MM:SSZ`.
pub(crate) fn iso8601(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Days to civil date (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn iso8601_dates() {
        assert_eq!(iso8601(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let t = UNIX_EPOCH + Duration::from_secs(951_782_400 + 3_661); // 2000-02-29
        assert_eq!(iso8601(t), "2000-02-29T01:01:01Z");
        let t = UNIX_EPOCH + Duration::from_secs(1_767_225_599);
        assert_eq!(iso8601(t), "2025-12-31T23:59:59Z");
    }
}
