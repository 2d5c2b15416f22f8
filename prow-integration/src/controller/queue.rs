//! A work queue keyed by ProwJob name: a name is queued at most once and
//! handed to at most one worker at a time; a name added while a worker has
//! it is handed out again when that worker is done (so the newest state of
//! the job is always looked at, and never by two workers at once).

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

use tokio::sync::Notify;

#[derive(Default)]
pub(crate) struct WorkQueue {
    inner: Mutex<Inner>,
    notify: Notify,
}

#[derive(Default)]
struct Inner {
    order: VecDeque<String>,
    queued: HashSet<String>,
    active: HashSet<String>,
    again: HashSet<String>,
}

impl WorkQueue {
    pub(crate) fn add(&self, name: &str) {
        let mut inner = self.inner.lock().expect("queue lock");
        if inner.active.contains(name) {
            inner.again.insert(name.to_string());
        } else if inner.queued.insert(name.to_string()) {
            inner.order.push_back(name.to_string());
            drop(inner);
            self.notify.notify_one();
        }
    }

    fn try_next(&self) -> Option<String> {
        let mut inner = self.inner.lock().expect("queue lock");
        let name = inner.order.pop_front()?;
        inner.queued.remove(&name);
        inner.active.insert(name.clone());
        Some(name)
    }

    /// The next name to work on; the caller must call [`WorkQueue::done`].
    pub(crate) async fn next(&self) -> String {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(name) = self.try_next() {
                // Others may be waiting for more work.
                if !self.is_empty() {
                    self.notify.notify_one();
                }
                return name;
            }
            notified.await;
        }
    }

    pub(crate) fn done(&self, name: &str) {
        let again = {
            let mut inner = self.inner.lock().expect("queue lock");
            inner.active.remove(name);
            inner.again.remove(name)
        };
        if again {
            self.add(name);
        }
    }

    fn is_empty(&self) -> bool {
        self.inner.lock().expect("queue lock").order.is_empty()
    }

    /// Names waiting (not counting those being worked on).
    pub(crate) fn len(&self) -> usize {
        self.inner.lock().expect("queue lock").order.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn no_duplicates_and_readded_after_done() {
        let q = WorkQueue::default();
        q.add("a");
        q.add("b");
        q.add("a");
        assert_eq!(q.len(), 2);
        let a = q.next().await;
        assert_eq!(a, "a");
        // Added while active: not handed out until done.
        q.add("a");
        assert_eq!(q.next().await, "b");
        assert_eq!(q.len(), 0);
        q.done("a");
        assert_eq!(q.len(), 1);
        assert_eq!(q.next().await, "a");
        q.done("a");
        q.done("b");
        assert_eq!(q.len(), 0);
    }

    #[tokio::test]
    async fn waiting_worker_wakes() {
        let q = std::sync::Arc::new(WorkQueue::default());
        let q2 = q.clone();
        let t = tokio::spawn(async move { q2.next().await });
        tokio::task::yield_now().await;
        q.add("x");
        let got = tokio::time::timeout(std::time::Duration::from_secs(5), t)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got, "x");
    }
}
