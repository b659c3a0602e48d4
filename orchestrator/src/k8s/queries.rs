//! The gateway's backend in Kubernetes mode (contract §6c). A realtime bot's query goes to its
//! ready Pod's query container, as upstream; any other query runs as a Job: created, awaited
//! through a watch (upstream polled every 500 ms), its result read from the query-results
//! bucket and deleted there, and the Job deleted at once (upstream left both behind, §12.3,
//! §12.16). A query past its time limit answers 504 and its Job is deleted (with its Pod).

use std::net::{IpAddr, SocketAddr};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::StatusCode;
use futures_util::TryStreamExt;
use futures_util::future::BoxFuture;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{DeleteParams, PostParams};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client};
use serde_json::Value;
use the0_agent::store::{Buckets, ObjectStore, S3Store};

use super::objects::{self, ObjectSettings};
use crate::gateway::envelope::QueryAnswer;
use crate::gateway::{ANSWER_LIMIT, JobAnswer, QueryBackend, QueryJob, timed_out};

/// How a query Job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobEnd {
    Succeeded,
    Failed(String),
    /// Its `activeDeadlineSeconds` passed (a timeout, like the gateway's own).
    DeadlineExceeded,
}

/// The end of `job`, if it has ended.
pub fn job_end(job: &Job) -> Option<JobEnd> {
    let status = job.status.as_ref()?;
    for condition in status.conditions.iter().flatten() {
        if condition.status != "True" {
            continue;
        }
        match condition.type_.as_str() {
            "Complete" | "SuccessCriteriaMet" => return Some(JobEnd::Succeeded),
            "Failed" | "FailureTarget" if condition.reason.as_deref() == Some("DeadlineExceeded") => {
                return Some(JobEnd::DeadlineExceeded);
            }
            "Failed" | "FailureTarget" => {
                let why = condition
                    .message
                    .clone()
                    .or_else(|| condition.reason.clone())
                    .unwrap_or_default();
                return Some(JobEnd::Failed(why));
            }
            _ => {}
        }
    }
    None
}

/// Query Jobs and realtime Pods.
pub struct K8sQueries {
    pub client: Client,
    pub settings: ObjectSettings,
    pub pods: Store<Pod>,
    /// The object store holding query results (none: one-shot queries are refused).
    pub store: Option<S3Store>,
    pub buckets: Buckets,
}

impl K8sQueries {
    fn jobs(&self) -> Api<Job> {
        Api::namespaced(self.client.clone(), &self.settings.namespace)
    }

    async fn delete_job(&self, name: &str) {
        match self.jobs().delete(name, &DeleteParams::background()).await {
            Ok(_) => tracing::debug!(job = name, "query Job deleted"),
            Err(kube::Error::Api(s)) if s.code == 404 => {}
            Err(e) => tracing::warn!(job = name, error = %e, "cannot delete the query Job (its TTL will)"),
        }
    }

    async fn wait(&self, name: &str) -> Result<JobEnd, String> {
        let config = watcher::Config::default().fields(&format!("metadata.name={name}"));
        let mut stream = std::pin::pin!(watcher(self.jobs(), config).default_backoff().applied_objects());
        while let Some(job) = stream.try_next().await.map_err(|e| e.to_string())? {
            if let Some(end) = job_end(&job) {
                return Ok(end);
            }
        }
        Err("the watch of the query Job ended".into())
    }

    /// Reads and deletes the result object.
    async fn take_result(&self, store: &S3Store, key: &str) -> Result<Option<Value>, String> {
        let bucket = &self.buckets.query_results;
        let bytes = store
            .get(bucket, key, ANSWER_LIMIT as u64)
            .await
            .map_err(|e| e.to_string())?;
        let Some(bytes) = bytes else { return Ok(None) };
        if let Err(e) = store
            .client()
            .delete_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
        {
            tracing::warn!(key, error = %e, "cannot delete the query result (GC will)");
        }
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| format!("the query result is not JSON: {e}"))
    }

    async fn run(&self, job: QueryJob) -> Result<JobAnswer, QueryAnswer> {
        let Some(store) = &self.store else {
            return Err(QueryAnswer::error(
                StatusCode::SERVICE_UNAVAILABLE,
                "one-shot queries need the object store (MINIO_ENDPOINT)",
            ));
        };
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let name = objects::query_job_name(&job.bot.id, nanos);
        let key = format!("{name}.json");
        let body = objects::query_job(
            &self.settings,
            &job.bot,
            &name,
            &job.path,
            &job.params,
            &key,
            job.timeout,
        );
        if let Err(e) = self.jobs().create(&PostParams::default(), &body).await {
            return Err(QueryAnswer::error(
                StatusCode::BAD_GATEWAY,
                format!("cannot create the query Job: {e}"),
            ));
        }
        tracing::debug!(job = %name, bot = %job.bot.id, "query Job created");
        let end = tokio::time::timeout(job.timeout, self.wait(&name)).await;
        let answer = match end {
            Err(_) => {
                tracing::info!(job = %name, bot = %job.bot.id, "query timed out: Job deleted");
                Err(timed_out(job.timeout))
            }
            Ok(Err(e)) => Err(QueryAnswer::error(StatusCode::BAD_GATEWAY, e)),
            Ok(Ok(end)) => match (self.take_result(store, &key).await, end) {
                (Ok(Some(envelope)), _) => Ok(JobAnswer {
                    envelope,
                    warm: false,
                }),
                (Ok(None), JobEnd::Succeeded) => Err(QueryAnswer::error(
                    StatusCode::BAD_GATEWAY,
                    "the query Job finished without a result",
                )),
                (Ok(None), JobEnd::DeadlineExceeded) => Err(timed_out(job.timeout)),
                (Ok(None), JobEnd::Failed(why)) => Err(QueryAnswer::error(
                    StatusCode::BAD_GATEWAY,
                    format!("the query Job failed: {why}"),
                )),
                (Err(e), _) => Err(QueryAnswer::error(StatusCode::BAD_GATEWAY, e)),
            },
        };
        self.delete_job(&name).await;
        if answer.is_err() {
            // A late result of a failed or timed-out query is not left behind either.
            let _ = store
                .client()
                .delete_object()
                .bucket(&self.buckets.query_results)
                .key(&key)
                .send()
                .await;
        }
        answer
    }
}

/// The query address of a ready Pod.
pub fn pod_query_addr(pod: &Pod) -> Option<SocketAddr> {
    let status = pod.status.as_ref()?;
    if pod.metadata.deletion_timestamp.is_some() || status.phase.as_deref() != Some("Running") {
        return None;
    }
    let ready = status
        .conditions
        .iter()
        .flatten()
        .any(|c| c.type_ == "Ready" && c.status == "True");
    let ip: IpAddr = status.pod_ip.as_deref()?.parse().ok()?;
    ready.then_some(SocketAddr::new(ip, objects::QUERY_PORT))
}

impl QueryBackend for K8sQueries {
    fn realtime_addr(&self, bot_id: &str) -> BoxFuture<'_, Result<Option<SocketAddr>, String>> {
        let reference = ObjectRef::new(&objects::pod_name(bot_id)).within(&self.settings.namespace);
        let addr = self.pods.get(&reference).and_then(|pod| pod_query_addr(&pod));
        Box::pin(async move { Ok(addr) })
    }

    fn run_job(&self, job: QueryJob) -> BoxFuture<'_, Result<JobAnswer, QueryAnswer>> {
        Box::pin(self.run(job))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn job_ends_are_read_from_conditions() {
        let job = |conditions: Value| -> Job {
            serde_json::from_value(json!({"metadata": {"name": "q"}, "status": {"conditions": conditions}}))
                .unwrap()
        };
        assert_eq!(job_end(&job(json!([]))), None);
        assert_eq!(
            job_end(&job(json!([{"type": "Complete", "status": "True"}]))),
            Some(JobEnd::Succeeded)
        );
        assert_eq!(
            job_end(&job(
                json!([{"type": "Failed", "status": "True", "reason": "DeadlineExceeded"}])
            )),
            Some(JobEnd::DeadlineExceeded)
        );
        assert_eq!(
            job_end(&job(
                json!([{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}])
            )),
            Some(JobEnd::Failed("BackoffLimitExceeded".into()))
        );
        assert_eq!(
            job_end(&job(json!([{"type": "Complete", "status": "False"}]))),
            None
        );
    }

    #[test]
    fn only_ready_running_pods_have_an_address() {
        let pod = |phase: &str, ready: &str| -> Pod {
            serde_json::from_value(json!({"metadata": {"name": "bot-a"}, "status": {
                "phase": phase, "podIP": "10.0.0.7",
                "conditions": [{"type": "Ready", "status": ready}],
            }}))
            .unwrap()
        };
        assert_eq!(
            pod_query_addr(&pod("Running", "True")),
            Some("10.0.0.7:9476".parse().unwrap())
        );
        assert_eq!(pod_query_addr(&pod("Running", "False")), None);
        assert_eq!(pod_query_addr(&pod("Pending", "True")), None);
    }
}
