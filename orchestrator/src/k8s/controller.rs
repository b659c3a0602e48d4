//! The controller: watches its Pods and CronJobs (kube-runtime reflectors with a label
//! selector, never a polling loop) and the desired-state source's change stream, and
//! reconciles through the pure [`plan`](super::plan) with a bounded number of API calls at once.
//! Only the leader reconciles; followers keep their caches warm to take over at once.
//!
//! The caches lag the API by a watch event, so creates and deletes the controller has just made
//! are remembered until the caches show them ("expectations", as in Kubernetes' own
//! controllers): a pass that runs in between never creates a Pod twice or deletes one twice.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures_util::{StreamExt, TryStreamExt};
use k8s_openapi::api::batch::v1::CronJob;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{DeleteParams, PostParams, Preconditions};
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client, Resource, ResourceExt};
use tokio::sync::{Notify, watch};

use super::objects::{self, ObjectSettings, keys};
use super::plan::{Action, Desired, Kind, Observed, plan};
use crate::desired::DesiredState;
use crate::metrics::Metrics;
use crate::spec::{BotKind, BotSpec};

/// How long a create or delete is remembered while the caches catch up.
const EXPECTATION_TTL: Duration = Duration::from_secs(60);

/// The watched caches of the controller's objects, and a signal that fires on every change.
#[derive(Clone)]
pub struct Caches {
    pub pods: Store<Pod>,
    pub cronjobs: Store<CronJob>,
    pub changed: Arc<Notify>,
}

/// Drops what the controller never reads from a cached Pod (its spec, managed fields, container
/// statuses), so that the cache of thousands of bots stays small.
fn trim_pod(pod: &mut Pod) {
    pod.metadata.managed_fields = None;
    pod.spec = None;
    if let Some(status) = pod.status.as_mut() {
        status.container_statuses = None;
        status.init_container_statuses = None;
    }
}

/// Drops a cached CronJob's job template and managed fields (only its hash annotation counts).
fn trim_cronjob(cronjob: &mut CronJob) {
    cronjob.metadata.managed_fields = None;
    cronjob.spec.job_template = Default::default();
}

fn watch_into<K>(api: Api<K>, selector: &str, changed: Arc<Notify>, trim: fn(&mut K)) -> Store<K>
where
    K: Resource<DynamicType = ()>
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned
        + Send
        + Sync
        + 'static,
{
    let (reader, writer) = reflector::store();
    let source = watcher(api, watcher::Config::default().labels(selector)).modify(trim);
    let stream = reflector::reflector(writer, source)
        .default_backoff()
        .touched_objects();
    tokio::spawn(async move {
        let mut stream = std::pin::pin!(stream);
        loop {
            match stream.try_next().await {
                Ok(Some(_)) => changed.notify_one(),
                Ok(None) => break,
                Err(e) => tracing::warn!(error = %e, "watch failed (retrying)"),
            }
        }
    });
    reader
}

impl Caches {
    /// Starts the watches of `namespace` for the objects of `instance`.
    pub fn start(client: &Client, namespace: &str, instance: &str) -> Caches {
        let changed = Arc::new(Notify::new());
        let pods = watch_into(
            Api::<Pod>::namespaced(client.clone(), namespace),
            &objects::selector(instance, objects::BOT_MANAGER),
            Arc::clone(&changed),
            trim_pod,
        );
        let cronjobs = watch_into(
            Api::<CronJob>::namespaced(client.clone(), namespace),
            &objects::selector(instance, objects::SCHEDULE_MANAGER),
            Arc::clone(&changed),
            trim_cronjob,
        );
        Caches {
            pods,
            cronjobs,
            changed,
        }
    }

    /// Waits until both caches hold a first full listing.
    pub async fn ready(&self) -> Result<(), String> {
        self.pods.wait_until_ready().await.map_err(|e| e.to_string())?;
        self.cronjobs.wait_until_ready().await.map_err(|e| e.to_string())
    }

    fn observed(&self) -> Vec<Observed> {
        let pods = self.pods.state().into_iter().map(|pod| {
            let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or("");
            observed(
                Kind::Pod,
                &*pod,
                keys::CONFIG_HASH,
                matches!(phase, "Succeeded" | "Failed"),
            )
        });
        let cronjobs = self
            .cronjobs
            .state()
            .into_iter()
            .map(|cj| observed(Kind::CronJob, &*cj, keys::SCHEDULE_HASH, false));
        pods.chain(cronjobs).collect()
    }
}

fn observed<K: Resource>(kind: Kind, object: &K, hash_key: &str, finished: bool) -> Observed {
    let meta = object.meta();
    Observed {
        kind,
        name: meta.name.clone().unwrap_or_default(),
        uid: meta.uid.clone().unwrap_or_default(),
        resource_version: meta.resource_version.clone().unwrap_or_default(),
        hash: meta
            .annotations
            .as_ref()
            .and_then(|a| a.get(hash_key))
            .cloned()
            .unwrap_or_default(),
        terminating: meta.deletion_timestamp.is_some(),
        finished,
    }
}

type Created = HashMap<(Kind, String), (String, Instant)>;

/// Folds what was just done and is not in the caches yet into `observed`: a recent create
/// counts as an object with its hash, a recent delete as terminating. Expectations end when the
/// caches show them, or after [`EXPECTATION_TTL`].
fn apply_expectations(
    observed: &mut Vec<Observed>,
    created: &mut Created,
    deleted: &mut HashMap<String, Instant>,
) {
    let mut index: HashMap<(Kind, String), Vec<usize>> = HashMap::new();
    for (i, object) in observed.iter().enumerate() {
        index
            .entry((object.kind, object.name.clone()))
            .or_default()
            .push(i);
    }
    created.retain(|key, (hash, at)| {
        let seen = index
            .get(key)
            .is_some_and(|ix| ix.iter().any(|&i| observed[i].hash == *hash));
        !seen && at.elapsed() < EXPECTATION_TTL
    });
    for ((kind, name), (hash, _)) in created.iter() {
        match index.get(&(*kind, name.clone())) {
            Some(ix) => {
                for &i in ix {
                    if !observed[i].terminating {
                        observed[i].hash = hash.clone();
                    }
                }
            }
            None => observed.push(Observed {
                kind: *kind,
                name: name.clone(),
                uid: String::new(),
                resource_version: String::new(),
                hash: hash.clone(),
                terminating: false,
                finished: false,
            }),
        }
    }
    let live: HashSet<&str> = observed
        .iter()
        .filter(|o| !o.terminating)
        .map(|o| o.uid.as_str())
        .collect();
    deleted.retain(|uid, at| live.contains(uid.as_str()) && at.elapsed() < EXPECTATION_TTL);
    for object in observed.iter_mut() {
        if deleted.contains_key(&object.uid) {
            object.terminating = true;
        }
    }
}

/// Settings of the reconcile loop.
#[derive(Debug, Clone)]
pub struct ControllerSettings {
    /// API calls at once.
    pub concurrency: usize,
    /// A full pass at least this often, even without events.
    pub resync: Duration,
}

/// The reconcile loop.
pub struct Controller {
    pub client: Client,
    pub objects: ObjectSettings,
    pub settings: ControllerSettings,
    pub source: Arc<dyn DesiredState>,
    pub caches: Caches,
    pub metrics: Arc<Metrics>,
    /// True while this replica leads.
    pub leader: watch::Receiver<bool>,
    /// `/readyz`.
    pub ready: Arc<AtomicBool>,
}

/// What the loop remembers between passes.
#[derive(Default)]
struct Memory {
    /// The desired objects, reduced to what the plan compares, rebuilt when the source changes.
    desired: Vec<Desired>,
    /// The specs of the desired objects' bots by id: objects are built from them when sent.
    /// Keeping built objects instead would hold tens of KiB per bot between passes.
    bots: HashMap<String, BotSpec>,
    desired_at: Option<Instant>,
    /// Objects created (kind, name) -> (hash, when), until the caches show them.
    created: Created,
    /// Uids deleted, until the caches drop them or show them terminating.
    deleted: HashMap<String, Instant>,
    /// Bots whose objects cannot be built, logged once per spec.
    refused: HashMap<String, String>,
}

/// A built object, to send.
enum Object {
    Pod(Box<Pod>),
    CronJob(Box<CronJob>),
}

impl Object {
    /// Its kind, name and hash annotation: what the plan compares.
    fn identity(&self) -> (Kind, String, String) {
        match self {
            Object::Pod(pod) => (
                Kind::Pod,
                pod.name_any(),
                pod.annotations()[keys::CONFIG_HASH].clone(),
            ),
            Object::CronJob(cj) => (
                Kind::CronJob,
                cj.name_any(),
                cj.annotations()[keys::SCHEDULE_HASH].clone(),
            ),
        }
    }
}

enum Outcome {
    Created(Kind, String, String),
    Deleted(String),
    Updated,
    Failed,
}

impl Controller {
    /// Runs until `shutdown`.
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        if let Err(e) = self.caches.ready().await {
            tracing::error!(error = %e, "the watches did not start");
            return;
        }
        tracing::info!(
            pods = self.caches.pods.state().len(),
            cronjobs = self.caches.cronjobs.state().len(),
            "caches synced"
        );
        let mut changes = self.source.changes();
        changes.mark_unchanged();
        let mut memory = Memory::default();
        let mut refresh = true;
        loop {
            if !*self.leader.borrow() {
                self.ready.store(true, Ordering::Relaxed);
                tokio::select! {
                    _ = self.leader.wait_for(|leading| *leading) => {
                        refresh = true;
                        continue;
                    }
                    _ = shutdown.wait_for(|stop| *stop) => return,
                }
            }
            let started = Instant::now();
            let failed = self.pass(&mut memory, refresh).await;
            refresh = false;
            self.metrics
                .reconcile_seconds
                .observe(started.elapsed().as_secs_f64());
            self.ready.store(true, Ordering::Relaxed);
            let retry = if failed {
                Duration::from_secs(1)
            } else {
                self.settings.resync
            };
            tokio::select! {
                _ = self.caches.changed.notified() => {}
                _ = changes.changed() => refresh = true,
                _ = tokio::time::sleep(retry) => refresh = true,
                _ = self.leader.changed() => {}
                _ = shutdown.wait_for(|stop| *stop) => return,
            }
        }
    }

    /// The object of an enabled bot (an error says why its schedule cannot be a CronJob).
    fn build(&self, bot: &BotSpec) -> Result<Object, String> {
        match &bot.kind {
            BotKind::Realtime => Ok(Object::Pod(Box::new(objects::realtime_pod(&self.objects, bot)))),
            BotKind::Scheduled(_) => {
                objects::scheduled_cronjob(&self.objects, bot).map(|cj| Object::CronJob(Box::new(cj)))
            }
        }
    }

    /// Builds the object of a desired entry again, to send it.
    fn object_of(&self, desired: &Desired, bots: &HashMap<String, BotSpec>) -> Option<Object> {
        let built = bots
            .get(&desired.bot_id)
            .ok_or_else(|| "its spec is gone".to_owned())
            .and_then(|bot| self.build(bot));
        built
            .map_err(|e| tracing::error!(bot = %desired.bot_id, name = %desired.name, error = %e, "cannot build the object"))
            .ok()
    }

    /// Rebuilds the desired objects from a fresh snapshot.
    async fn refresh_desired(&self, memory: &mut Memory) -> Result<(), String> {
        let snapshot = self.source.snapshot().await.map_err(|e| e.to_string())?;
        let mut desired = Vec::new();
        let mut bots = HashMap::new();
        for bot in snapshot.bots.into_iter().filter(|b| b.enabled) {
            match self.build(&bot) {
                Ok(object) => {
                    let (kind, name, hash) = object.identity();
                    memory.refused.remove(&bot.id);
                    desired.push(Desired {
                        kind,
                        name,
                        bot_id: bot.id.clone(),
                        hash,
                    });
                    bots.insert(bot.id.clone(), bot);
                }
                Err(e) => {
                    if memory.refused.get(&bot.id) != Some(&e) {
                        tracing::error!(bot = %bot.id, error = %e, "bot skipped");
                        memory.refused.insert(bot.id.clone(), e);
                    }
                }
            }
        }
        for rejected in &snapshot.rejected {
            tracing::debug!(error = %rejected, "spec rejected");
        }
        self.metrics
            .bots_desired
            .set(desired.iter().filter(|d| d.kind == Kind::Pod).count() as i64);
        memory.desired = desired;
        memory.bots = bots;
        memory.desired_at = Some(Instant::now());
        Ok(())
    }

    /// One pass; true when something failed (retried soon).
    async fn pass(&self, memory: &mut Memory, refresh: bool) -> bool {
        if (refresh || memory.desired_at.is_none())
            && let Err(e) = self.refresh_desired(memory).await
        {
            tracing::error!(error = %e, "cannot read the desired state");
            return true;
        }
        let mut observed = self.caches.observed();
        let running = self
            .caches
            .pods
            .state()
            .iter()
            .filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"))
            .count();
        self.metrics.bots_running.set(running as i64);
        apply_expectations(&mut observed, &mut memory.created, &mut memory.deleted);
        let actions = plan(&memory.desired, &observed);
        if actions.is_empty() {
            return false;
        }
        let outcomes: Vec<Outcome> = futures_util::stream::iter(actions)
            .map(|action| self.execute(action, &memory.bots))
            .buffer_unordered(self.settings.concurrency.max(1))
            .collect()
            .await;
        let mut failed = false;
        for outcome in outcomes {
            match outcome {
                Outcome::Created(kind, name, hash) => {
                    memory.created.insert((kind, name), (hash, Instant::now()));
                }
                Outcome::Deleted(uid) => {
                    memory.deleted.insert(uid, Instant::now());
                }
                Outcome::Updated => {}
                Outcome::Failed => failed = true,
            }
        }
        failed
    }

    async fn execute(&self, action: Action, bots: &HashMap<String, BotSpec>) -> Outcome {
        let ns = &self.objects.namespace;
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), ns);
        let cronjobs: Api<CronJob> = Api::namespaced(self.client.clone(), ns);
        let post = PostParams::default();
        match action {
            Action::Create(desired) => {
                let Some(object) = self.object_of(&desired, bots) else {
                    return Outcome::Failed;
                };
                let Desired {
                    kind,
                    name,
                    bot_id,
                    hash,
                } = *desired;
                let result = match &object {
                    Object::Pod(pod) => pods.create(&post, pod).await.map(|_| ()),
                    Object::CronJob(cj) => cronjobs.create(&post, cj).await.map(|_| ()),
                };
                match result {
                    Ok(()) => {
                        if kind == Kind::Pod {
                            self.metrics.bot_starts.inc();
                        }
                        tracing::info!(bot = %bot_id, kind = kind.as_str(), name = %name, hash = %hash, "created");
                        Outcome::Created(kind, name, hash)
                    }
                    Err(kube::Error::Api(s)) if s.code == 409 => {
                        // Already there (the cache lags): the next pass compares its hash.
                        Outcome::Updated
                    }
                    Err(e) => {
                        tracing::error!(bot = %bot_id, kind = kind.as_str(), name = %name, error = %e, "create failed");
                        Outcome::Failed
                    }
                }
            }
            Action::Update {
                desired,
                resource_version,
            } => {
                let Some(Object::CronJob(mut cj)) = self.object_of(&desired, bots) else {
                    return Outcome::Failed;
                };
                cj.metadata.resource_version = Some(resource_version);
                match cronjobs.replace(&desired.name, &post, &cj).await {
                    Ok(_) => {
                        tracing::info!(bot = %desired.bot_id, name = %desired.name, hash = %desired.hash, "CronJob updated");
                        Outcome::Created(Kind::CronJob, desired.name, desired.hash)
                    }
                    Err(kube::Error::Api(s)) if s.code == 409 => Outcome::Updated,
                    Err(e) => {
                        tracing::error!(name = %desired.name, error = %e, "update failed");
                        Outcome::Failed
                    }
                }
            }
            Action::Delete {
                kind,
                name,
                uid,
                reason,
            } => {
                let params = DeleteParams {
                    preconditions: Some(Preconditions {
                        uid: Some(uid.clone()),
                        resource_version: None,
                    }),
                    ..DeleteParams::background()
                };
                let result = match kind {
                    Kind::Pod => pods.delete(&name, &params).await.map(|_| ()),
                    Kind::CronJob => cronjobs.delete(&name, &params).await.map(|_| ()),
                };
                match result {
                    Ok(()) => {
                        tracing::info!(kind = kind.as_str(), name = %name, reason = reason.as_str(), "deleted");
                        Outcome::Deleted(uid)
                    }
                    Err(kube::Error::Api(s)) if s.code == 404 || s.code == 409 => Outcome::Deleted(uid),
                    Err(e) => {
                        tracing::error!(kind = kind.as_str(), name = %name, error = %e, "delete failed");
                        Outcome::Failed
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str, uid: &str, hash: &str) -> Observed {
        Observed {
            kind: Kind::Pod,
            name: name.into(),
            uid: uid.into(),
            resource_version: "1".into(),
            hash: hash.into(),
            terminating: false,
            finished: false,
        }
    }

    #[test]
    fn recent_creates_and_deletes_count_until_the_caches_show_them() {
        let mut created = Created::new();
        let mut deleted = HashMap::new();
        created.insert((Kind::Pod, "bot-new".into()), ("h2".into(), Instant::now()));
        created.insert((Kind::Pod, "bot-seen".into()), ("h1".into(), Instant::now()));
        deleted.insert("uid-old".to_owned(), Instant::now());
        let mut observed = vec![pod("bot-seen", "u1", "h1"), pod("bot-old", "uid-old", "h0")];
        apply_expectations(&mut observed, &mut created, &mut deleted);
        assert_eq!(created.len(), 1, "the seen create is forgotten");
        let new = observed.iter().find(|o| o.name == "bot-new").unwrap();
        assert_eq!(new.hash, "h2", "a create not yet watched counts as existing");
        assert!(observed.iter().find(|o| o.name == "bot-old").unwrap().terminating);
        // Once the cache drops the deleted Pod, its expectation goes too.
        let mut observed = vec![pod("bot-new", "u2", "h2")];
        apply_expectations(&mut observed, &mut created, &mut deleted);
        assert!(created.is_empty() && deleted.is_empty());
    }
}
