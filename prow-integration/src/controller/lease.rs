//! Leader election with a `coordination.k8s.io/v1` Lease, as client-go's
//! `leaderelection` does it: the holder renews `renewTime` every retry
//! period; another replica takes the lease over only when it has seen the
//! record unchanged for a whole lease duration (by its own clock, so clock
//! skew between replicas does not matter); a holder that could not renew
//! within the renew deadline stops leading. Writes go through `replace`
//! with the read `resourceVersion`, so two replicas never both win.

use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::Api;
use kube::api::PostParams;
use tokio::sync::watch;

use super::LeaseSettings;

pub(crate) struct Elector {
    api: Api<Lease>,
    settings: LeaseSettings,
    /// The record last seen (holder, renewTime) and when it was first seen.
    observed: Option<((String, Option<Timestamp>), Instant)>,
}

impl Elector {
    pub(crate) fn new(api: Api<Lease>, settings: LeaseSettings) -> Elector {
        Elector {
            api,
            settings,
            observed: None,
        }
    }

    fn duration_secs(&self) -> i32 {
        i32::try_from(self.settings.lease_duration.as_secs().max(1)).unwrap_or(i32::MAX)
    }

    /// One round: acquire or renew. `Ok(true)`: this replica holds the
    /// lease now.
    pub(crate) async fn try_acquire_or_renew(&mut self) -> Result<bool, kube::Error> {
        let me = self.settings.identity.clone();
        let now = MicroTime(Timestamp::now());
        let Some(mut lease) = self.api.get_opt(&self.settings.name).await? else {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(self.settings.name.clone()),
                    namespace: Some(self.settings.namespace.clone()),
                    ..ObjectMeta::default()
                },
                spec: Some(LeaseSpec {
                    holder_identity: Some(me),
                    lease_duration_seconds: Some(self.duration_secs()),
                    acquire_time: Some(now.clone()),
                    renew_time: Some(now),
                    lease_transitions: Some(0),
                    ..LeaseSpec::default()
                }),
            };
            return match self.api.create(&PostParams::default(), &lease).await {
                Ok(_) => Ok(true),
                Err(kube::Error::Api(s)) if s.is_already_exists() => Ok(false),
                Err(e) => Err(e),
            };
        };
        let duration = self.duration_secs();
        let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
        let holder = spec.holder_identity.clone().unwrap_or_default();
        let record = (holder.clone(), spec.renew_time.as_ref().map(|t| t.0));
        let seen_at = match &self.observed {
            Some((r, at)) if *r == record => *at,
            _ => {
                let at = Instant::now();
                self.observed = Some((record, at));
                at
            }
        };
        let their_duration = spec
            .lease_duration_seconds
            .map_or(self.settings.lease_duration, |s| {
                Duration::from_secs(u64::try_from(s.max(0)).unwrap_or(0))
            });
        let expired = holder.is_empty() || seen_at.elapsed() > their_duration;
        if holder != me && !expired {
            return Ok(false);
        }
        if holder != me {
            spec.acquire_time = Some(now.clone());
            spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0) + 1);
        }
        spec.holder_identity = Some(me);
        spec.renew_time = Some(now);
        spec.lease_duration_seconds = Some(duration);
        match self
            .api
            .replace(&self.settings.name, &PostParams::default(), &lease)
            .await
        {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(s)) if s.is_conflict() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Gives the lease up (holder cleared), so another replica takes over
    /// at once instead of after a lease duration.
    pub(crate) async fn release(&self) -> Result<(), kube::Error> {
        let Some(mut lease) = self.api.get_opt(&self.settings.name).await? else {
            return Ok(());
        };
        let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
        if spec.holder_identity.as_deref() != Some(self.settings.identity.as_str()) {
            return Ok(());
        }
        spec.holder_identity = None;
        spec.lease_duration_seconds = Some(1);
        spec.renew_time = Some(MicroTime(Timestamp::now()));
        self.api
            .replace(&self.settings.name, &PostParams::default(), &lease)
            .await
            .map(|_| ())
    }

    /// Runs rounds every retry period until `shutdown`, telling `leader`
    /// whether this replica leads; releases the lease at the end.
    pub(crate) async fn run(
        mut self,
        leader: watch::Sender<bool>,
        elected_once: watch::Sender<bool>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut last_renew: Option<Instant> = None;
        loop {
            match self.try_acquire_or_renew().await {
                Ok(true) => {
                    if !*leader.borrow() {
                        tracing::info!(lease = %self.settings.name, identity = %self.settings.identity, "leading: this replica reports");
                    }
                    last_renew = Some(Instant::now());
                    leader.send_replace(true);
                    elected_once.send_replace(true);
                }
                Ok(false) => {
                    if *leader.borrow() {
                        tracing::warn!(lease = %self.settings.name, "lost the lease: stopped reporting");
                    }
                    last_renew = None;
                    leader.send_replace(false);
                    elected_once.send_replace(true);
                }
                Err(e) => {
                    tracing::warn!(lease = %self.settings.name, error = %e, "cannot acquire or renew the lease");
                    if last_renew.is_some_and(|t| t.elapsed() > self.settings.renew_deadline) {
                        tracing::warn!(lease = %self.settings.name, "no renewal within the renew deadline: stopped reporting");
                        last_renew = None;
                        leader.send_replace(false);
                    }
                }
            }
            tokio::select! {
                () = tokio::time::sleep(self.settings.retry_period) => {}
                () = super::stopped(&mut shutdown) => break,
            }
        }
        if *leader.borrow() {
            leader.send_replace(false);
            match self.release().await {
                Ok(()) => tracing::info!(lease = %self.settings.name, "released the lease"),
                Err(e) => {
                    tracing::warn!(lease = %self.settings.name, error = %e, "cannot release the lease")
                }
            }
        }
    }
}
