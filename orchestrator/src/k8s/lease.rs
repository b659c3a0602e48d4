//! Leader election through a `coordination.k8s.io/v1` Lease, so that two replicas are safe
//! (upstream had none, §12.17): the holder renews the Lease every `retry` and reconciles; the
//! others watch it and take it over once it has not been renewed for `duration`, measured on
//! their own clock from the moment they saw the record change (no clock comparison between
//! hosts). A leader that cannot renew within `duration * 2/3` steps down before anyone can take
//! over. At shutdown the leader releases the Lease, so its successor does not wait.

use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::Api;
use kube::api::PostParams;
use tokio::sync::watch;

/// Settings of the election.
#[derive(Debug, Clone)]
pub struct LeaseSettings {
    pub name: String,
    pub identity: String,
    /// How long a Lease holds without renewal.
    pub duration: Duration,
    /// Time between attempts (renewals of the leader).
    pub retry: Duration,
}

/// One candidate.
pub struct Elector {
    api: Api<Lease>,
    settings: LeaseSettings,
    /// The last record seen (holder, renew time, resource version) and when it was first seen.
    seen: Option<((String, String, String), Instant)>,
}

fn conflict(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 409)
}

impl Elector {
    pub fn new(api: Api<Lease>, settings: LeaseSettings) -> Elector {
        Elector {
            api,
            settings,
            seen: None,
        }
    }

    fn spec(&self, acquired: Option<MicroTime>, transitions: i32) -> LeaseSpec {
        let now = MicroTime(Timestamp::now());
        LeaseSpec {
            holder_identity: Some(self.settings.identity.clone()),
            lease_duration_seconds: Some(self.settings.duration.as_secs().max(1) as i32),
            acquire_time: Some(acquired.unwrap_or_else(|| now.clone())),
            renew_time: Some(now),
            lease_transitions: Some(transitions),
            ..LeaseSpec::default()
        }
    }

    /// Acquires, renews or takes over the Lease; `Ok(true)` when this candidate holds it.
    pub async fn try_acquire_or_renew(&mut self) -> Result<bool, kube::Error> {
        let name = &self.settings.name;
        let Some(mut lease) = self.api.get_opt(name).await? else {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(name.clone()),
                    ..ObjectMeta::default()
                },
                spec: Some(self.spec(None, 0)),
            };
            return match self.api.create(&PostParams::default(), &lease).await {
                Ok(_) => Ok(true),
                Err(e) if conflict(&e) => Ok(false),
                Err(e) => Err(e),
            };
        };
        let spec = lease.spec.clone().unwrap_or_default();
        let holder = spec.holder_identity.clone().unwrap_or_default();
        let record = (
            holder.clone(),
            format!("{:?}", spec.renew_time),
            lease.metadata.resource_version.clone().unwrap_or_default(),
        );
        let since = match &self.seen {
            Some((seen, at)) if *seen == record => *at,
            _ => {
                self.seen = Some((record, Instant::now()));
                Instant::now()
            }
        };
        let held_for = Duration::from_secs(spec.lease_duration_seconds.unwrap_or(0).max(0) as u64);
        let mine = holder == self.settings.identity;
        let expired = holder.is_empty() || since.elapsed() >= held_for;
        if !mine && !expired {
            return Ok(false);
        }
        let transitions = spec.lease_transitions.unwrap_or(0) + i32::from(!mine);
        let acquired = if mine { spec.acquire_time.clone() } else { None };
        lease.spec = Some(self.spec(acquired, transitions));
        match self.api.replace(name, &PostParams::default(), &lease).await {
            Ok(_) => {
                if !mine {
                    tracing::info!(lease = %name, previous = %holder, "took over the lease");
                }
                Ok(true)
            }
            Err(e) if conflict(&e) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Gives the Lease up if this candidate holds it.
    pub async fn release(&mut self) {
        let name = &self.settings.name;
        if let Ok(Some(mut lease)) = self.api.get_opt(name).await
            && let Some(spec) = lease.spec.as_mut()
            && spec.holder_identity.as_deref() == Some(self.settings.identity.as_str())
        {
            spec.holder_identity = None;
            spec.lease_duration_seconds = Some(1);
            match self.api.replace(name, &PostParams::default(), &lease).await {
                Ok(_) => tracing::info!(lease = %name, "released the lease"),
                Err(e) => tracing::warn!(lease = %name, error = %e, "could not release the lease"),
            }
        }
    }

    /// Campaigns until `shutdown`, publishing whether this candidate leads on `leader`.
    pub async fn run(mut self, leader: watch::Sender<bool>, mut shutdown: watch::Receiver<bool>) {
        let mut renewed: Option<Instant> = None;
        let renew_deadline = self.settings.duration * 2 / 3;
        loop {
            let now = Instant::now();
            match self.try_acquire_or_renew().await {
                Ok(true) => renewed = Some(now),
                Ok(false) => renewed = None,
                Err(e) => {
                    tracing::warn!(lease = %self.settings.name, error = %e, "lease request failed");
                    if renewed.is_some_and(|at| at.elapsed() >= renew_deadline) {
                        renewed = None;
                    }
                }
            }
            let leading = renewed.is_some();
            if *leader.borrow() != leading {
                tracing::info!(
                    lease = %self.settings.name,
                    identity = %self.settings.identity,
                    leading,
                    "leadership changed"
                );
                leader.send_replace(leading);
            }
            tokio::select! {
                _ = tokio::time::sleep(self.settings.retry) => {}
                _ = shutdown.wait_for(|stop| *stop) => break,
            }
        }
        if *leader.borrow() {
            leader.send_replace(false);
            self.release().await;
        }
    }
}
