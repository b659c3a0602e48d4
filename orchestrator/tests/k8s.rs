//! Kubernetes mode against a real control plane (kube-apiserver, kube-controller-manager,
//! kube-scheduler, etcd, kwok as the node), started by `scripts/k8s/with-cluster.sh`:
//! `make test-k8s`. The tests are ignored by a plain `cargo test`.
//!
//! Each test gets a namespace of its own with the deployed RBAC (`deploy/k8s/rbac.yaml`) and
//! runs the controller with a token of the deployed ServiceAccount (TokenRequest API), never as
//! admin. The tests wait on watches (kube-runtime) and log lines, never on fixed sleeps. kwok's
//! Pods are not real: no traffic ever goes to a Pod IP; the gateway is on 127.0.0.1.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{Minio, Server, http, write_spec};
use futures_util::TryStreamExt;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Pod, ServiceAccount};
use kube::runtime::wait::{await_condition, conditions};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client, ResourceExt};
use serde_json::{Value, json};

const QUERY_RESULTS: &str = "query-results";

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn kubectl(args: &[&str]) -> (bool, String) {
    let output = Command::new("kubectl")
        .args(args)
        .output()
        .expect("kubectl on PATH (run through scripts/k8s/with-cluster.sh)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A namespace with the deployed RBAC and a kubeconfig holding a token of the deployed
/// ServiceAccount.
struct Space {
    name: String,
    rt: tokio::runtime::Runtime,
    /// The test's own view (admin).
    client: Client,
    kubeconfig: PathBuf,
    specs: tempfile::TempDir,
    _dir: tempfile::TempDir,
}

impl Space {
    fn new(name: &str) -> Space {
        let rt = runtime();
        let client = rt.block_on(Client::try_default()).expect("KUBECONFIG (admin)");
        let (ok, out) = kubectl(&["create", "namespace", name]);
        assert!(ok, "create namespace {name}: {out}");
        let rbac = workspace().join("deploy/k8s/rbac.yaml");
        let (ok, out) = kubectl(&["apply", "-n", name, "-f", rbac.to_str().unwrap()]);
        assert!(ok, "apply the deployed RBAC: {out}");
        // Pods are admitted once the controller manager has made the namespace's default SA.
        let sas: Api<ServiceAccount> = Api::namespaced(client.clone(), name);
        rt.block_on(async {
            tokio::time::timeout(
                Duration::from_secs(60),
                await_condition(sas, "default", conditions::is_created()),
            )
            .await
            .expect("the default ServiceAccount within 60 s")
            .unwrap();
        });
        let (ok, token) = kubectl(&[
            "create",
            "token",
            "the0-orchestrator",
            "-n",
            name,
            "--duration",
            "2h",
        ]);
        assert!(ok, "TokenRequest for the0-orchestrator: {token}");
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("sa.kubeconfig");
        let server = std::env::var("K8S_SERVER").expect("K8S_SERVER");
        let ca = std::env::var("K8S_CA").expect("K8S_CA");
        std::fs::write(
            &kubeconfig,
            format!(
                "apiVersion: v1\nkind: Config\nclusters: [{{name: c, cluster: {{server: \"{server}\", certificate-authority: \"{ca}\"}}}}]\nusers: [{{name: sa, user: {{token: \"{}\"}}}}]\ncontexts: [{{name: c, context: {{cluster: c, user: sa, namespace: {name}}}}}]\ncurrent-context: c\n",
                token.trim()
            ),
        )
        .unwrap();
        Space {
            name: name.to_owned(),
            rt,
            client,
            kubeconfig,
            specs: tempfile::tempdir().unwrap(),
            _dir: dir,
        }
    }

    fn api<K>(&self) -> Api<K>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>,
    {
        Api::namespaced(self.client.clone(), &self.name)
    }

    fn specs(&self) -> &Path {
        self.specs.path()
    }

    /// `the0-orchestrator k8s` as the deployed ServiceAccount.
    fn controller(&self, extra: &[&str], env: &[(String, String)]) -> Controller {
        let mut command = Command::new(env!("CARGO_BIN_EXE_the0-orchestrator"));
        command
            .args(["k8s", "--specs", self.specs().to_str().unwrap()])
            .args(["--namespace", &self.name, "--instance", &self.name])
            .args(["--listen", "127.0.0.1:0", "--image", "the0-runtime:test"])
            .args(extra)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("LOG_LEVEL", "info")
            .env_remove("MONGO_URI")
            .env_remove("NATS_URL")
            .envs(env.iter().cloned());
        for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("MINIO_")) {
            if !env.iter().any(|(k, _)| *k == key) {
                command.env_remove(key);
            }
        }
        let server = Server::spawn(command);
        let line = server.wait_line("\"listening\"", Duration::from_secs(60));
        let event: Value = serde_json::from_str(&line).unwrap();
        let gateway = event["gateway"].as_str().unwrap().to_owned();
        Controller { server, gateway }
    }

    /// Waits (watching) until the named object satisfies `cond`.
    fn wait<K>(
        &self,
        name: &str,
        what: &str,
        limit: Duration,
        cond: impl kube::runtime::wait::Condition<K>,
    ) -> Option<K>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
            + Clone
            + std::fmt::Debug
            + serde::de::DeserializeOwned
            + Send
            + 'static,
    {
        let api = self.api::<K>();
        self.rt.block_on(async {
            tokio::time::timeout(limit, await_condition(api, name, cond))
                .await
                .unwrap_or_else(|_| panic!("gave up after {limit:?} waiting for {what}"))
                .unwrap()
        })
    }

    /// The first object of kind `K` with `labels` to appear (watching).
    fn first<K>(&self, labels: &str, what: &str, limit: Duration) -> K
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
            + Clone
            + std::fmt::Debug
            + serde::de::DeserializeOwned
            + Send
            + 'static,
    {
        let api = self.api::<K>();
        self.rt.block_on(async {
            let stream = watcher(api, watcher::Config::default().labels(labels)).applied_objects();
            let mut stream = std::pin::pin!(stream);
            tokio::time::timeout(limit, stream.try_next())
                .await
                .unwrap_or_else(|_| panic!("gave up after {limit:?} waiting for {what}"))
                .unwrap()
                .unwrap()
        })
    }

    fn list<K>(&self, labels: &str) -> Vec<K>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
            + Clone
            + std::fmt::Debug
            + serde::de::DeserializeOwned,
    {
        let api = self.api::<K>();
        self.rt
            .block_on(api.list(&kube::api::ListParams::default().labels(labels)))
            .unwrap()
            .items
    }
}

impl Drop for Space {
    fn drop(&mut self) {
        let _ = kubectl(&["delete", "namespace", &self.name, "--wait=false"]);
    }
}

struct Controller {
    server: Server,
    gateway: String,
}

impl Controller {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.gateway)
    }

    fn query(&self, bot: &str, path: &str, timeout_sec: u64) -> (u16, Value) {
        let body = json!({"bot_id": bot, "query_path": path, "params": {"n": 1}, "timeout_sec": timeout_sec});
        http("POST", &self.url("/query"), Some(&body.to_string()), None)
    }

    fn metric(&self, name: &str) -> f64 {
        let output = Command::new("curl")
            .args(["-s", &self.url("/metrics")])
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    }

    fn ready(&self) -> u16 {
        let output = Command::new("curl")
            .args([
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                &self.url("/readyz"),
            ])
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout)
            .trim()
            .parse()
            .unwrap_or(0)
    }

    /// Waits for `/readyz` (after the first reconcile pass of a leader).
    fn wait_ready(&self) {
        self.server
            .wait_line("\"caches synced\"", Duration::from_secs(60));
        common::eventually("/readyz", Duration::from_secs(60), || {
            (self.ready() == 200).then_some(())
        });
    }

    fn created(&self) -> Vec<Value> {
        self.server.events("created")
    }
}

fn realtime(id: &str, config: &str) -> String {
    format!(
        "type: realtime\nruntime: python3.11\ncode: user/{id}/1.0.0\nversion: 1.0.0\nentrypoints: {{bot: main.py, query: query.py}}\nconfig: {config}\n"
    )
}

fn scheduled(schedule: &str, extra: &str) -> String {
    format!(
        "type: scheduled\nschedule: \"{schedule}\"\ntimeout_secs: 120\nruntime: python3.11\ncode: user/s/1.0.0\nversion: 1.0.0\nentrypoints: {{bot: main.py, query: query.py}}\nconfig: {{}}\n{extra}"
    )
}

fn hash(pod: &Pod) -> String {
    pod.annotations()["the0.app/config-hash"].clone()
}

const MINUTE: Duration = Duration::from_secs(60);

#[test]
#[ignore = "needs a Kubernetes control plane: make test-k8s"]
fn the_manifests_pass_a_server_dry_run_and_grant_no_secrets() {
    let dir = workspace().join("deploy/k8s");
    let (ok, out) = kubectl(&["apply", "--dry-run=server", "-k", dir.to_str().unwrap()]);
    assert!(ok, "kubectl apply --dry-run=server -k deploy/k8s: {out}");
    for kind in [
        "deployment.apps/the0-orchestrator",
        "cronjob.batch/the0-gc",
        "role.rbac",
        "service/the0-orchestrator",
    ] {
        assert!(out.contains(kind), "{kind} missing in {out}");
    }
    let space = Space::new("t-rbac");
    let sa = format!("system:serviceaccount:{}:the0-orchestrator", space.name);
    for (verb, resource, expected) in [
        ("create", "pods", "yes"),
        ("watch", "cronjobs.batch", "yes"),
        ("delete", "jobs.batch", "yes"),
        ("update", "leases.coordination.k8s.io", "yes"),
        ("get", "secrets", "no"),
        ("list", "secrets", "no"),
        ("create", "secrets", "no"),
        ("create", "deployments.apps", "no"),
    ] {
        let (_, out) = kubectl(&["auth", "can-i", verb, resource, "-n", &space.name, "--as", &sa]);
        assert_eq!(out.trim(), expected, "can the controller {verb} {resource}?");
    }
}

#[test]
#[ignore = "needs a Kubernetes control plane: make test-k8s"]
fn a_realtime_bot_is_created_replaced_on_change_and_removed() {
    let space = Space::new("t-realtime");
    write_spec(space.specs(), "rt1", &realtime("rt1", "{symbol: BTC, a: 1}"));
    let controller = space.controller(&[], &[]);
    let pod = space
        .wait::<Pod>("bot-rt1", "Pod bot-rt1 Running", MINUTE, |p: Option<&Pod>| {
            p.and_then(|p| p.status.as_ref()?.phase.as_deref()) == Some("Running")
        })
        .unwrap();
    let labels = pod.labels();
    assert_eq!(labels["the0.app/bot-id"], "rt1");
    assert_eq!(labels["the0.app/managed-by"], "the0-bot-controller");
    assert_eq!(labels["the0.app/runtime"], "python3.11");
    let spec = pod.spec.clone().unwrap();
    let names: Vec<_> = spec.containers.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["bot", "query-server"]);
    let sync = &spec.init_containers.clone().unwrap()[0];
    assert_eq!(
        (sync.name.as_str(), sync.restart_policy.as_deref()),
        ("sync", Some("Always"))
    );
    for container in spec.containers.iter().chain([sync]) {
        for var in container.env.clone().unwrap_or_default() {
            if var.name.starts_with("MINIO_") && !var.name.ends_with("_BUCKET") {
                assert!(
                    var.value.is_none(),
                    "{} is a plain value in {}",
                    var.name,
                    container.name
                );
                assert!(var.value_from.unwrap().secret_key_ref.is_some());
            }
        }
    }
    assert_eq!(
        spec.security_context.unwrap().seccomp_profile.unwrap().type_,
        "RuntimeDefault"
    );
    let first_uid = pod.uid().unwrap();
    let first_hash = hash(&pod);
    controller.wait_ready();

    // The same config with its keys in another order: nothing happens.
    write_spec(space.specs(), "rt1", &realtime("rt1", "{a: 1, symbol: BTC}"));
    // A real change replaces the Pod.
    write_spec(space.specs(), "rt1", &realtime("rt1", "{symbol: ETH, a: 1}"));
    let replaced = space
        .wait::<Pod>("bot-rt1", "a new Pod bot-rt1", MINUTE, |p: Option<&Pod>| {
            p.is_some_and(|p| {
                p.uid().as_deref() != Some(first_uid.as_str()) && p.metadata.deletion_timestamp.is_none()
            })
        })
        .unwrap();
    assert_ne!(hash(&replaced), first_hash);
    common::eventually("the second create logged", MINUTE, || {
        (controller.created().len() >= 2).then_some(())
    });
    let creates = controller.created();
    assert_eq!(creates.len(), 2, "one create per spec: {creates:?}");

    // Disabled: the Pod goes.
    write_spec(
        space.specs(),
        "rt1",
        &format!("{}enabled: false\n", realtime("rt1", "{symbol: ETH, a: 1}")),
    );
    space.wait::<Pod>(
        "bot-rt1",
        "bot-rt1 deleted",
        MINUTE,
        conditions::is_deleted(&replaced.uid().unwrap()),
    );
    // Enabled again, then deleted: back, then gone.
    write_spec(space.specs(), "rt1", &realtime("rt1", "{symbol: ETH, a: 1}"));
    let back = space
        .wait::<Pod>("bot-rt1", "bot-rt1 back", MINUTE, conditions::is_created())
        .unwrap();
    std::fs::remove_file(space.specs().join("rt1.yaml")).unwrap();
    space.wait::<Pod>(
        "bot-rt1",
        "bot-rt1 deleted",
        MINUTE,
        conditions::is_deleted(&back.uid().unwrap()),
    );
    assert!(controller.metric("the0_k8s_api_requests_total") > 0.0);
}

#[test]
#[ignore = "needs a Kubernetes control plane: make test-k8s"]
fn a_schedule_is_a_cronjob_whose_jobs_come_on_time() {
    let space = Space::new("t-schedule");
    write_spec(
        space.specs(),
        "s1",
        &scheduled("* * * * *", "timezone: Europe/London\n"),
    );
    let _controller = space.controller(&[], &[]);
    let cj = space
        .wait::<CronJob>(
            "schedule-s1",
            "CronJob schedule-s1",
            MINUTE,
            conditions::is_created(),
        )
        .unwrap();
    let spec = cj.spec.clone();
    assert_eq!(spec.schedule, "* * * * *");
    assert_eq!(spec.time_zone.as_deref(), Some("Europe/London"));
    assert_eq!(spec.concurrency_policy.as_deref(), Some("Forbid"));
    let job_spec = spec.job_template.spec.clone().unwrap();
    assert_eq!(job_spec.backoff_limit, Some(0));
    assert_eq!(job_spec.active_deadline_seconds, Some(120));

    // kube-controller-manager makes the run at the next minute boundary.
    let job: Job = space.first(
        "the0.app/schedule-id=s1",
        "a Job of schedule-s1",
        Duration::from_secs(75),
    );
    let owner = job.owner_references()[0].clone();
    assert_eq!(
        (owner.kind.as_str(), owner.name.as_str()),
        ("CronJob", "schedule-s1")
    );
    assert_eq!(job.spec.unwrap().active_deadline_seconds, Some(120));

    // A changed schedule updates the CronJob in place; disabling deletes it.
    write_spec(space.specs(), "s1", &scheduled("*/5 * * * *", ""));
    let updated = space
        .wait::<CronJob>(
            "schedule-s1",
            "schedule-s1 updated",
            MINUTE,
            |c: Option<&CronJob>| c.is_some_and(|c| c.spec.schedule == "*/5 * * * *"),
        )
        .unwrap();
    assert_eq!(updated.uid(), cj.uid(), "updated, not recreated");
    assert_eq!(updated.spec.time_zone.as_deref(), Some("Etc/UTC"));
    write_spec(space.specs(), "s1", &scheduled("*/5 * * * *", "enabled: false\n"));
    space.wait::<CronJob>(
        "schedule-s1",
        "schedule-s1 deleted",
        MINUTE,
        conditions::is_deleted(&cj.uid().unwrap()),
    );
}

#[test]
#[ignore = "needs a Kubernetes control plane: make test-k8s"]
fn a_scheduled_query_runs_as_a_job_that_is_cleaned_up() {
    let minio = Minio::start();
    let space = Space::new("t-query");
    write_spec(space.specs(), "q1", &scheduled("0 0 1 1 *", ""));
    write_spec(
        space.specs(),
        "noquery",
        "type: realtime\nruntime: python3.11\ncode: u/n/1\nentrypoints: {bot: main.py}\n",
    );
    let controller = space.controller(&[], &minio.env());
    controller.wait_ready();

    // Stand in for the query container (kwok runs none): write the envelope under the Job's
    // result key as soon as the Job appears.
    let jobs = space.api::<Job>();
    let writer = {
        let store = space.rt.block_on(minio.store());
        space.rt.spawn(async move {
            use the0_agent::store::ObjectStore;
            let stream =
                watcher(jobs, watcher::Config::default().labels("the0.app/query=true")).applied_objects();
            let mut stream = std::pin::pin!(stream);
            let job = stream.try_next().await.unwrap().unwrap();
            let key = job.annotations()["the0.app/result-key"].clone();
            store.ensure_bucket(QUERY_RESULTS).await.unwrap();
            let envelope = json!({"status": "ok", "data": {"answer": 42}});
            store
                .put(
                    QUERY_RESULTS,
                    &key,
                    envelope.to_string().into_bytes(),
                    "application/json",
                )
                .await
                .unwrap();
            job
        })
    };
    let (status, body) = controller.query("q1", "/status", 60);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"], json!({"answer": 42}));
    let job = space.rt.block_on(writer).unwrap();
    let spec = job.spec.clone().unwrap();
    assert_eq!(spec.backoff_limit, Some(0));
    assert_eq!(spec.ttl_seconds_after_finished, Some(300));
    let env = spec.template.spec.unwrap().containers[0].env.clone().unwrap();
    assert!(
        env.iter()
            .any(|e| e.name == "QUERY_PATH" && e.value.as_deref() == Some("/status"))
    );
    // Cleaned up: the Job is gone (not left to its TTL) and so is the result object.
    space.wait::<Job>(
        &job.name_any(),
        "the query Job deleted",
        MINUTE,
        conditions::is_deleted(&job.uid().unwrap()),
    );
    assert!(minio.keys(QUERY_RESULTS).is_empty(), "result object left behind");

    // A Job that finishes without a result: 502, and cleaned up too.
    let (status, body) = controller.query("q1", "/status", 60);
    assert_eq!(status, 502, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("without a result"),
        "{body}"
    );
    let left = space.list::<Job>("the0.app/query=true");
    assert!(
        left.iter().all(|j| j.metadata.deletion_timestamp.is_some()),
        "{left:?}"
    );

    // Error paths, answered without a Job.
    assert_eq!(controller.query("nobody", "/x", 5).0, 404);
    assert_eq!(controller.query("noquery", "/x", 5).0, 404);
    let (status, _) = http("GET", &controller.url("/query"), None, None);
    assert_eq!(status, 405);
}

#[test]
#[ignore = "needs a Kubernetes control plane: make test-k8s"]
fn a_query_past_its_timeout_answers_504_and_its_job_is_deleted() {
    let minio = Minio::start();
    let space = Space::new("t-timeout");
    // No Pod may start in this namespace, so the query Job never finishes.
    let (ok, out) = kubectl(&["create", "quota", "no-pods", "--hard=pods=0", "-n", &space.name]);
    assert!(ok, "{out}");
    write_spec(space.specs(), "slow", &scheduled("0 0 1 1 *", ""));
    let controller = space.controller(&[], &minio.env());
    controller.wait_ready();
    let started = std::time::Instant::now();
    let (status, body) = controller.query("slow", "/status", 2);
    assert_eq!(status, 504, "{body}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    let jobs = space.list::<Job>("the0.app/query=true");
    assert!(
        jobs.iter().all(|j| j.metadata.deletion_timestamp.is_some()),
        "the Job of a timed-out query is deleted: {jobs:?}"
    );
}

#[test]
#[ignore = "needs a Kubernetes control plane: make test-k8s"]
fn a_restarted_controller_converges_without_creating_anything() {
    let space = Space::new("t-restart");
    for id in ["r1", "r2", "r3"] {
        write_spec(space.specs(), id, &realtime(id, "{}"));
    }
    write_spec(space.specs(), "s1", &scheduled("*/5 * * * *", ""));
    let mut first = space.controller(&[], &[]);
    first.wait_ready();
    let mut uids = Vec::new();
    for id in ["r1", "r2", "r3"] {
        let pod = space
            .wait::<Pod>(
                &format!("bot-{id}"),
                "a bot Pod",
                MINUTE,
                conditions::is_created(),
            )
            .unwrap();
        uids.push(pod.uid().unwrap());
    }
    let cj_uid = space
        .wait::<CronJob>("schedule-s1", "the CronJob", MINUTE, conditions::is_created())
        .unwrap()
        .uid();
    common::eventually("4 creates logged", MINUTE, || {
        (first.created().len() >= 4).then_some(())
    });
    assert_eq!(first.created().len(), 4);
    assert_eq!(first.server.terminate(Duration::from_secs(30)), Some(0));

    let second = space.controller(&[], &[]);
    second.wait_ready();
    assert!(second.created().is_empty(), "{:?}", second.created());
    assert_eq!(second.metric("the0_bot_starts_total"), 0.0);
    for (id, uid) in ["r1", "r2", "r3"].iter().zip(&uids) {
        let pod = space
            .rt
            .block_on(space.api::<Pod>().get(&format!("bot-{id}")))
            .unwrap();
        assert_eq!(pod.uid().as_ref(), Some(uid), "bot-{id} kept");
    }
    let cj = space
        .rt
        .block_on(space.api::<CronJob>().get("schedule-s1"))
        .unwrap();
    assert_eq!(cj.uid(), cj_uid);
    assert_eq!(
        space.list::<Pod>("the0.app/managed-by=the0-bot-controller").len(),
        3
    );
}

#[test]
#[ignore = "needs a Kubernetes control plane: make test-k8s"]
fn two_replicas_elect_one_leader_and_the_other_takes_over() {
    let space = Space::new("t-leader");
    write_spec(space.specs(), "l1", &realtime("l1", "{}"));
    let args = |id: &'static str| {
        [
            "--leader-elect",
            "--lease-name",
            "t-lease",
            "--lease-duration",
            "3s",
            "--identity",
            id,
        ]
    };
    let mut a = space.controller(&args("replica-a"), &[]);
    a.server.wait_line("\"leading\":true", MINUTE);
    let b = space.controller(&args("replica-b"), &[]);
    b.wait_ready();
    space.wait::<Pod>("bot-l1", "bot-l1", MINUTE, conditions::is_created());
    let lease = space.rt.block_on(space.api::<Lease>().get("t-lease")).unwrap();
    assert_eq!(lease.spec.unwrap().holder_identity.as_deref(), Some("replica-a"));
    common::eventually("the create logged", MINUTE, || {
        (!a.created().is_empty()).then_some(())
    });
    assert_eq!(a.created().len(), 1);
    assert!(b.created().is_empty(), "the follower reconciles nothing");
    assert!(b.server.lines().iter().all(|l| !l.contains("\"leading\":true")));

    // The leader dies without releasing the Lease: the follower takes over once it expires.
    a.server.kill();
    b.server.wait_line("\"leading\":true", Duration::from_secs(30));
    let lease = space.rt.block_on(space.api::<Lease>().get("t-lease")).unwrap();
    assert_eq!(lease.spec.unwrap().holder_identity.as_deref(), Some("replica-b"));
    write_spec(space.specs(), "l2", &realtime("l2", "{}"));
    space.wait::<Pod>(
        "bot-l2",
        "bot-l2 from the new leader",
        MINUTE,
        conditions::is_created(),
    );
    common::eventually("the create logged", MINUTE, || {
        (!b.created().is_empty()).then_some(())
    });
    let created: Vec<_> = b
        .created()
        .iter()
        .map(|e| e["name"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(created, ["bot-l2"], "the new leader creates only what is missing");
}
