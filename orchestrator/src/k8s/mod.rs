//! Kubernetes mode (`the0-orchestrator k8s`), on kube-rs with k8s-openapi types: the same
//! desired-state sources, gateway and rules as Docker mode, with Kubernetes doing the placement
//! and the restarts.
//!
//! - [`objects`]: the Pod, CronJob, query Job and Secret of a bot, built purely;
//! - [`plan`]: desired vs observed objects -> creates, updates, deletes (pure);
//! - [`controller`]: watches (reflectors) + the source's change stream -> [`plan`] -> the API;
//! - [`lease`]: leader election through a Lease;
//! - [`queries`]: the gateway's backend (query Jobs, realtime Pods).

pub mod controller;
pub mod lease;
pub mod objects;
pub mod plan;
pub mod queries;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use kube::api::{Patch, PatchParams};
use kube::{Api, Client, Config};
use tokio::sync::watch;

use crate::app::{open_source, serve_gateway, shutdown_signal, wait_for};
use crate::cli::{GatewayArgs, KubeArgs, SourceArgs};
use crate::metrics::Metrics;
use controller::{Caches, Controller, ControllerSettings};
use lease::{Elector, LeaseSettings};
use objects::{ObjectSettings, ResourceCaps};
use queries::K8sQueries;

/// A client from KUBECONFIG (or the in-cluster ServiceAccount) that counts its requests in
/// `the0_k8s_api_requests_total`.
pub async fn connect(metrics: &Metrics) -> Result<Client, String> {
    let config = Config::infer()
        .await
        .map_err(|e| format!("no Kubernetes configuration: {e}"))?;
    let counter = metrics.api_requests.clone();
    let layer = tower::util::MapRequestLayer::new(move |request: axum::http::Request<kube::client::Body>| {
        counter.inc();
        request
    });
    let builder = kube::client::ClientBuilder::try_from(config).map_err(|e| e.to_string())?;
    Ok(builder.with_layer(&layer).build())
}

fn identity(args: &KubeArgs) -> String {
    args.identity.clone().unwrap_or_else(|| {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        format!("{}-{}", host.trim(), std::process::id())
    })
}

/// The object settings the arguments and the environment select.
pub fn object_settings(args: &KubeArgs, nats_url: Option<String>) -> ObjectSettings {
    let plain_env = [
        "MINIO_CODE_BUCKET",
        "MINIO_STATE_BUCKET",
        "MINIO_LOGS_BUCKET",
        "MINIO_QUERY_RESULTS_BUCKET",
    ]
    .iter()
    .filter_map(|key| the0_sdk::env::non_empty(key).map(|v| ((*key).to_owned(), v)))
    .collect();
    ObjectSettings {
        namespace: args.namespace.clone(),
        instance: args.instance.clone(),
        image: args.image.clone(),
        pull_policy: args.pull_policy.clone(),
        store_secret: args.store_secret.clone(),
        plain_env,
        nats_url,
        agent_env: args.agent_env.clone(),
        caps: ResourceCaps {
            memory_mib: args.max_memory_mb,
            cpu_millis: args.max_cpu_millis,
        },
        run_timeout: args.run_timeout,
        query_ttl: Duration::from_secs(300),
        stop_grace: args.stop_grace,
    }
}

/// Writes the object-store Secret from this process's `MINIO_*` variables (server-side apply).
async fn apply_secret(client: &Client, settings: &ObjectSettings) -> Result<(), String> {
    let values: Vec<(String, String)> = std::env::vars()
        .filter(|(k, _)| k.starts_with("MINIO_"))
        .collect();
    let secret = objects::store_secret(settings, &values);
    let api: Api<Secret> = Api::namespaced(client.clone(), &settings.namespace);
    api.patch(
        &settings.store_secret,
        &PatchParams::apply("the0-orchestrator").force(),
        &Patch::Apply(&secret),
    )
    .await
    .map_err(|e| format!("cannot write Secret {}: {e}", settings.store_secret))?;
    Ok(())
}

/// `the0-orchestrator k8s`.
pub async fn run(source: SourceArgs, gateway: GatewayArgs, args: KubeArgs) -> Result<(), String> {
    let shutdown = shutdown_signal()?;
    let metrics = Arc::new(Metrics::default());
    let client = connect(&metrics).await?;
    let settings = object_settings(&args, source.nats_url.clone());
    let source = open_source(&source).await?;
    if args.create_secret {
        apply_secret(&client, &settings).await?;
    }
    let caches = Caches::start(&client, &settings.namespace, &settings.instance);
    let ready = Arc::new(AtomicBool::new(false));

    let (leader_tx, leader_rx) = watch::channel(!args.leader_elect);
    let mut tasks = Vec::new();
    if args.leader_elect {
        let elector = Elector::new(
            Api::namespaced(client.clone(), &settings.namespace),
            LeaseSettings {
                name: args.lease_name.clone(),
                identity: identity(&args),
                duration: args.lease_duration,
                retry: (args.lease_duration / 5).max(Duration::from_millis(200)),
            },
        );
        tasks.push(tokio::spawn(elector.run(leader_tx, shutdown.clone())));
    }

    let store = match the0_agent::store::S3Config::from_env()? {
        Some(config) => Some(the0_agent::store::S3Store::connect(config).await),
        None => {
            tracing::warn!("no object store (MINIO_ENDPOINT): one-shot queries are refused");
            None
        }
    };
    let backend = Arc::new(K8sQueries {
        client: client.clone(),
        settings: settings.clone(),
        pods: caches.pods.clone(),
        store,
        buckets: the0_agent::store::Buckets::from_env(),
    });
    let (addr, server_task) = serve_gateway(
        Arc::clone(&source),
        backend,
        Arc::clone(&metrics),
        &gateway,
        Arc::clone(&ready),
        shutdown.clone(),
    )
    .await?;
    tracing::info!(
        gateway = %addr,
        namespace = %settings.namespace,
        instance = %settings.instance,
        leader_elect = args.leader_elect,
        "listening"
    );

    let controller = Controller {
        client,
        objects: settings,
        settings: ControllerSettings {
            concurrency: args.concurrency,
            resync: args.resync,
        },
        source,
        caches,
        metrics,
        leader: leader_rx,
        ready,
    };
    tasks.push(tokio::spawn(controller.run(shutdown.clone())));
    wait_for(shutdown).await;
    for task in tasks {
        let _ = task.await;
    }
    let _ = server_task.await;
    tracing::info!("stopped");
    Ok(())
}
