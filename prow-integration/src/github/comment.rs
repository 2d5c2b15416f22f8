//! One PR comment per PR, edited in place.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use covlens_report_templates::github_len;
use tokio::sync::{Mutex as AsyncMutex, OnceCell, OwnedMutexGuard};
use tracing::info;

use super::{Comment, CommentId, GitHub, GitHubError, PullRequest, User};

/// The hidden marker the reporter's comment is found by: the first line
/// `covlens comment` prints (report-templates' `comment.md`).
pub const COMMENT_MARKER: &str = "<!-- covlens -->";

/// Starts the hidden line that says which run a comment shows: when it
/// started (Unix microseconds) and its build, so that a run finishing late
/// (a retry) never replaces a newer run's numbers.
pub const RUN_STAMP: &str = "<!-- covlens-run: ";

/// The hidden line for a run that started at `micros` as `build`.
pub fn run_stamp_line(micros: i128, build: &str) -> String {
    let build: String = build
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect();
    format!("{RUN_STAMP}{micros} {build} -->")
}

/// The run a body says it shows ([`run_stamp_line`]), if it says: its
/// start, then its build (Prow's are numbers), in the order runs follow.
fn run_stamp(body: &str) -> Option<(i128, Option<u128>, &str)> {
    let rest = &body[body.find(RUN_STAMP)? + RUN_STAMP.len()..];
    let line = rest.split(" -->").next()?;
    let (micros, build) = line.split_once(' ')?;
    Some((micros.parse().ok()?, build.parse().ok(), build))
}

/// GitHub's limit for a comment body.
pub const MAX_COMMENT_CHARS: usize = 65_536;

/// Refuses a body over GitHub's limit, counted as
/// [`github_len`] does (conservatively: UTF-16 units, newlines as CRLF).
/// Never cut here: the comment builder fits the text.
pub(crate) fn check_body(body: &str) -> Result<(), GitHubError> {
    let len = github_len(body);
    if len > MAX_COMMENT_CHARS {
        return Err(GitHubError::TooLong {
            what: "comment body",
            len,
            max: MAX_COMMENT_CHARS,
        });
    }
    Ok(())
}

/// What [`Commenter::upsert_comment`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Upsert {
    /// No comment of ours existed: one was created.
    Created,
    /// Our comment was edited in place.
    Edited,
    /// Our comment already had this body: nothing sent.
    Unchanged,
    /// Our comment shows a run that started later: left as it is.
    KeptNewer,
}

/// The outcome of [`Commenter::upsert_comment`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UpsertOutcome {
    /// The comment that now carries the body.
    pub id: CommentId,
    /// What was done to it.
    pub action: Upsert,
    /// Duplicates of ours deleted (left by a race or an older reporter).
    pub removed: usize,
}

/// How one round of [`Commenter::write`] ended.
enum Round {
    Done(UpsertOutcome),
    /// Update only, and the bot has no comment on the PR.
    NoComment,
    /// Our comment vanished under us: go round again.
    Vanished,
}

/// How the bot's own comments are recognised.
#[derive(Clone, Debug)]
enum Me {
    /// By account id (from `GET /user`).
    Id(u64),
    /// By login (GitHub Apps' `name[bot]`, whose tokens cannot call
    /// `GET /user`).
    Login(String),
}

/// Keeps one comment per PR for the bot: finds it by its marker, edits it
/// in place, creates it only when there is none.
///
/// Within one process a lock per PR serialises upserts. Across processes
/// (two reporters racing, or a restart in the middle), each creation is
/// followed by a fresh listing, and of the bot's comments carrying the
/// marker the oldest is kept and the newer ones deleted: both racers agree
/// on the oldest, so one comment remains and carries the body of whoever
/// edited last. Every upsert also deletes duplicates it finds, so even a
/// race hidden by a lagging listing is repaired by the next one.
pub struct Commenter<G> {
    gh: G,
    me: OnceCell<Me>,
    settle: Duration,
    locks: Mutex<HashMap<PullRequest, Arc<AsyncMutex<()>>>>,
}

impl<G: GitHub> Commenter<G> {
    /// A commenter recognising its comments by the token's account
    /// (`GET /user`, asked once).
    pub fn new(gh: G) -> Commenter<G> {
        Commenter {
            gh,
            me: OnceCell::new(),
            settle: Duration::from_secs(1),
            locks: Mutex::new(HashMap::new()),
        }
    }

    /// Recognises the bot's comments by `login` instead (for GitHub App
    /// tokens: `app-name[bot]`).
    pub fn with_bot_login(self, login: &str) -> Commenter<G> {
        Commenter {
            me: OnceCell::new_with(Some(Me::Login(login.to_owned()))),
            ..self
        }
    }

    /// Wait between creating a comment and listing again to look for a
    /// racing reporter's (default 1 s: GitHub's listing can lag).
    pub fn with_settle_delay(self, settle: Duration) -> Commenter<G> {
        Commenter { settle, ..self }
    }

    /// The client.
    pub fn github(&self) -> &G {
        &self.gh
    }

    /// Makes `body` the text of the bot's one comment on `pr` carrying
    /// `marker` (e.g. [`COMMENT_MARKER`], which `body` must contain).
    /// A body over [`MAX_COMMENT_CHARS`] is refused before any request.
    pub async fn upsert_comment(
        &self,
        pr: &PullRequest,
        marker: &str,
        body: &str,
    ) -> Result<UpsertOutcome, GitHubError> {
        match self.write(pr, marker, body, true).await? {
            Some(outcome) => Ok(outcome),
            None => Err(GitHubError::Contended { pr: pr.to_string() }),
        }
    }

    /// As [`upsert_comment`](Commenter::upsert_comment) when the bot already
    /// has a comment on `pr`; creates none (`None`) otherwise. For updates
    /// that should reach an existing comment but are no reason to start one.
    pub async fn update_comment(
        &self,
        pr: &PullRequest,
        marker: &str,
        body: &str,
    ) -> Result<Option<UpsertOutcome>, GitHubError> {
        self.write(pr, marker, body, false).await
    }

    async fn write(
        &self,
        pr: &PullRequest,
        marker: &str,
        body: &str,
        create: bool,
    ) -> Result<Option<UpsertOutcome>, GitHubError> {
        if marker.trim().is_empty() {
            return Err(GitHubError::Invalid("empty comment marker"));
        }
        if !body.contains(marker) {
            return Err(GitHubError::MissingMarker {
                marker: marker.to_owned(),
            });
        }
        check_body(body)?;
        let _held = self.lock(pr).await;
        let me = self
            .me
            .get_or_try_init(|| async { self.gh.current_user().await.map(|u| Me::Id(u.id)) })
            .await?;
        // A comment deleted by someone between our listing and our edit
        // sends us round again; a few rounds settle any sane race.
        for _ in 0..3 {
            match self.write_once(pr, me, marker, body, create).await? {
                Round::Done(outcome) => return Ok(Some(outcome)),
                Round::NoComment => return Ok(None),
                Round::Vanished => {}
            }
        }
        Err(GitHubError::Contended { pr: pr.to_string() })
    }

    /// One round.
    async fn write_once(
        &self,
        pr: &PullRequest,
        me: &Me,
        marker: &str,
        body: &str,
        create: bool,
    ) -> Result<Round, GitHubError> {
        let mut mine = self.mine(pr, me, marker).await?;
        let mut created = None;
        if mine.is_empty() {
            if !create {
                return Ok(Round::NoComment);
            }
            let c = self.gh.create_comment(pr, body).await?;
            info!(pr = %pr, id = c.id, "created the coverage comment");
            if !self.settle.is_zero() {
                tokio::time::sleep(self.settle).await;
            }
            mine = self.mine(pr, me, marker).await?;
            // A lagging listing may not show ours yet: it counts anyway.
            if !mine.iter().any(|m| m.id == c.id) {
                mine.push(c.clone());
                mine.sort_by_key(|m| m.id);
            }
            created = Some(c.id);
        }
        let keep = mine.remove(0);
        let mut removed = 0;
        for dup in &mine {
            match self.gh.delete_comment(&pr.repo, dup.id).await {
                Ok(()) => removed += 1,
                // A racing reporter deleted it first.
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(e),
            }
        }
        if removed > 0 {
            info!(pr = %pr, removed, kept = keep.id, "deleted duplicate coverage comments");
        }
        let done = |action| {
            Round::Done(UpsertOutcome {
                id: keep.id,
                action,
                removed,
            })
        };
        if created == Some(keep.id) {
            return Ok(done(Upsert::Created));
        }
        if keep.body == body {
            return Ok(done(Upsert::Unchanged));
        }
        if let (Some(theirs), Some(ours)) = (run_stamp(&keep.body), run_stamp(body))
            && theirs > ours
        {
            info!(pr = %pr, id = keep.id, "the comment shows a newer run; left as it is");
            return Ok(done(Upsert::KeptNewer));
        }
        match self.gh.edit_comment(&pr.repo, keep.id, body).await {
            Ok(_) => Ok(done(Upsert::Edited)),
            Err(e) if e.is_not_found() => Ok(Round::Vanished),
            Err(e) => Err(e),
        }
    }

    /// The bot's comments on `pr` carrying `marker`, oldest first.
    async fn mine(
        &self,
        pr: &PullRequest,
        me: &Me,
        marker: &str,
    ) -> Result<Vec<Comment>, GitHubError> {
        let mut all = self.gh.list_comments(pr).await?;
        all.retain(|c| c.body.contains(marker) && c.user.as_ref().is_some_and(|u| is_me(me, u)));
        all.sort_by_key(|c| c.id);
        Ok(all)
    }

    /// This process's lock for `pr`, dropped from the table when the last
    /// holder lets go.
    async fn lock(&self, pr: &PullRequest) -> Held<'_> {
        let lock = self
            .locks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(pr.clone())
            .or_default()
            .clone();
        Held {
            guard: Some(lock.lock_owned().await),
            table: &self.locks,
            pr: pr.clone(),
        }
    }
}

fn is_me(me: &Me, user: &User) -> bool {
    match me {
        Me::Id(id) => user.id == *id,
        Me::Login(login) => user.login.eq_ignore_ascii_case(login),
    }
}

/// A held per-PR lock.
struct Held<'a> {
    guard: Option<OwnedMutexGuard<()>>,
    table: &'a Mutex<HashMap<PullRequest, Arc<AsyncMutex<()>>>>,
    pr: PullRequest,
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        let mut table = self.table.lock().unwrap_or_else(PoisonError::into_inner);
        self.guard = None;
        // Only the table's reference left: nobody holds or waits.
        if table
            .get(&self.pr)
            .is_some_and(|l| Arc::strong_count(l) == 1)
        {
            table.remove(&self.pr);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_marker_is_what_the_comment_template_prints() {
        let template = include_str!("../../../report-templates/templates/comment.md");
        assert!(template.contains(COMMENT_MARKER));
    }

    #[test]
    fn body_limit_counts_as_github() {
        assert!(check_body(&"a".repeat(MAX_COMMENT_CHARS)).is_ok());
        assert!(check_body(&"a".repeat(MAX_COMMENT_CHARS + 1)).is_err());
        // Newlines count twice, astral characters as two UTF-16 units.
        assert!(check_body(&"\n".repeat(MAX_COMMENT_CHARS / 2 + 1)).is_err());
        assert!(check_body(&"😀".repeat(MAX_COMMENT_CHARS / 2 + 1)).is_err());
    }
}
