//! The commands: `docker` (everything), `gateway` (the gateway and its pool only) and `gc`.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::backoff::{BackoffPolicy, CrashBackoff};
use crate::cli::{Command, EngineArgs, GatewayArgs, GcArgs, RunnerArgs, SourceArgs};
use crate::desired::{DesiredState, MongoSettings, MongoSource, SpecDir};
use crate::docker::pool::{DockerQueries, WarmPool};
use crate::docker::runner::{Runner, RunnerSettings};
use crate::docker::{Addressing, ContainerSettings, DockerEngine};
use crate::gateway::{Gateway, GatewaySettings, QueryBackend, ops_router};
use crate::gc::{GcSettings, sweep};
use crate::metrics::Metrics;
use crate::scheduler::{Scheduler, SchedulerSettings};

/// Runs a command; returns the exit code.
pub async fn run(command: Command) -> i32 {
    let result = match command {
        Command::Docker {
            source,
            engine,
            gateway,
            runner,
        } => docker(source, engine, gateway, Some(runner)).await,
        Command::Gateway {
            source,
            engine,
            gateway,
        } => docker(source, engine, gateway, None).await,
        Command::K8s {
            source,
            gateway,
            kube,
        } => crate::k8s::run(source, gateway, kube).await,
        Command::Gc { source, gc } => collect_garbage(source, gc).await,
        Command::Version => Ok(()),
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            tracing::error!("{e}");
            1
        }
    }
}

/// Opens the desired-state source the arguments select.
pub async fn open_source(args: &SourceArgs) -> Result<Arc<dyn DesiredState>, String> {
    let source: Arc<dyn DesiredState> = match &args.mongo_uri {
        Some(uri) => MongoSource::connect(&MongoSettings {
            uri: uri.clone(),
            nats_url: args.nats_url.clone(),
        })
        .await
        .map_err(|e| e.to_string())?,
        None => SpecDir::open(&args.specs).map_err(|e| e.to_string())?,
    };
    tracing::info!(source = source.describe(), "desired state");
    Ok(source)
}

/// The object-store variables handed to containers: `MINIO_*` of this process, with
/// `MINIO_CONTAINER_ENDPOINT` (if set) as the endpoint containers use.
fn store_env() -> Vec<(String, String)> {
    let container_endpoint = the0_sdk::env::non_empty("MINIO_CONTAINER_ENDPOINT");
    let mut vars: Vec<(String, String)> = std::env::vars()
        .filter(|(k, _)| k.starts_with("MINIO_") && k != "MINIO_CONTAINER_ENDPOINT")
        .map(|(k, v)| match (&container_endpoint, k.as_str()) {
            (Some(endpoint), "MINIO_ENDPOINT") => (k, endpoint.clone()),
            _ => (k, v),
        })
        .collect();
    vars.sort();
    vars
}

fn container_settings(engine: &EngineArgs, nats_url: Option<String>) -> Result<ContainerSettings, String> {
    let instance_ok = !engine.instance.is_empty()
        && engine.instance.len() <= 40
        && engine
            .instance
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !instance_ok {
        return Err(format!(
            "--instance {:?}: use 1-40 lowercase letters, digits or '-'",
            engine.instance
        ));
    }
    Ok(ContainerSettings {
        image: engine.image.clone(),
        instance: engine.instance.clone(),
        addressing: match engine.network.as_str() {
            "host" => Addressing::HostNetwork,
            network => Addressing::Published {
                network: network.to_owned(),
                publish_ip: engine.publish_ip.clone(),
            },
        },
        memory_mb: engine.memory_mb,
        cpu_shares: engine.cpu_shares,
        pids_limit: engine.pids_limit,
        store_env: store_env(),
        nats_url,
        agent_env: engine.agent_env.clone(),
        stop_timeout_secs: engine.stop_grace.as_secs() as i64,
    })
}

/// A receiver that turns true on SIGTERM or SIGINT.
pub(crate) fn shutdown_signal() -> Result<watch::Receiver<bool>, String> {
    let (tx, rx) = watch::channel(false);
    let mut term = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
    let mut int = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        let name = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        };
        tracing::info!(signal = name, "shutting down");
        tx.send_replace(true);
    });
    Ok(rx)
}

pub(crate) async fn wait_for(mut shutdown: watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// Binds the query gateway on `--listen` and serves it until shutdown: the same API in Docker
/// and Kubernetes mode, only the backend that answers scheduled bots' queries differs.
pub(crate) async fn serve_gateway(
    source: Arc<dyn DesiredState>,
    backend: Arc<dyn QueryBackend>,
    metrics: Arc<Metrics>,
    gateway: &GatewayArgs,
    ready: Arc<AtomicBool>,
    shutdown: watch::Receiver<bool>,
) -> Result<(SocketAddr, JoinHandle<std::io::Result<()>>), String> {
    let gateway_state = Gateway::new(
        source,
        backend,
        metrics,
        GatewaySettings {
            token: gateway.token.clone(),
            admin_token: gateway.admin_token.clone(),
            max_timeout: gateway.max_query_timeout,
        },
        ready,
    );
    let listener = TcpListener::bind(gateway.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", gateway.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let server = axum::serve(listener, gateway_state.router()).with_graceful_shutdown(wait_for(shutdown));
    Ok((addr, tokio::spawn(async move { server.await })))
}

/// `docker` (with `runner`) or `gateway` (without).
async fn docker(
    source: SourceArgs,
    engine: EngineArgs,
    gateway: GatewayArgs,
    runner: Option<RunnerArgs>,
) -> Result<(), String> {
    let shutdown = shutdown_signal()?;
    let settings = container_settings(&engine, source.nats_url.clone())?;
    let source = open_source(&source).await?;
    let engine_handle = DockerEngine::connect(settings).await.map_err(|e| e.to_string())?;
    let metrics = Arc::new(Metrics::default());
    let ready = Arc::new(AtomicBool::new(runner.is_none()));

    let pool = WarmPool::new(engine_handle.clone(), gateway.warm_pool, Arc::clone(&metrics));
    let pool_task = tokio::spawn(Arc::clone(&pool).run(shutdown.clone()));
    let backend = Arc::new(DockerQueries {
        engine: engine_handle.clone(),
        pool,
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
    tracing::info!(gateway = %addr, "listening");

    let mut loops = Vec::new();
    if let Some(runner) = runner {
        let realtime = Runner {
            engine: engine_handle.clone(),
            source: Arc::clone(&source),
            backoff: CrashBackoff::new(BackoffPolicy {
                base: runner.crash_backoff_base,
                max: runner.crash_backoff_max,
                stable_after: runner.crash_stable_after,
            }),
            metrics: Arc::clone(&metrics),
            settings: RunnerSettings {
                interval: runner.reconcile_interval,
                stop_grace: engine.stop_grace,
                concurrency: runner.concurrency,
                stop_bots_on_exit: !runner.leave_bots_running,
                shutdown_budget: engine.stop_grace + std::time::Duration::from_secs(15),
            },
            ready: Arc::clone(&ready),
        };
        loops.push(tokio::spawn(realtime.run(shutdown.clone())));
        let scheduler = Scheduler {
            engine: engine_handle.clone(),
            source: Arc::clone(&source),
            metrics: Arc::clone(&metrics),
            settings: SchedulerSettings {
                tick: std::time::Duration::from_secs(10),
                run_timeout: runner.run_timeout,
                stop_grace: engine.stop_grace,
                shutdown_budget: std::time::Duration::from_secs(30),
            },
        };
        loops.push(tokio::spawn(scheduler.run(shutdown.clone())));
    }
    wait_for(shutdown).await;
    for task in loops {
        let _ = task.await;
    }
    let _ = pool_task.await;
    let _ = server_task.await;
    tracing::info!("stopped");
    Ok(())
}

async fn collect_garbage(source: SourceArgs, args: GcArgs) -> Result<(), String> {
    let config = the0_agent::store::S3Config::from_env()?.ok_or(
        "gc needs the object store: set MINIO_ENDPOINT (with MINIO_ACCESS_KEY and MINIO_SECRET_KEY) or AWS_*",
    )?;
    let store = the0_agent::store::S3Store::connect(config).await;
    let buckets = the0_agent::store::Buckets::from_env();
    let source = open_source(&source).await?;
    let settings = GcSettings {
        dry_run: args.dry_run,
        max_share: args.max_share,
        force: args.force,
        stale_after: args.stale_after,
    };
    let metrics = Arc::new(Metrics::default());
    let ready = Arc::new(AtomicBool::new(false));
    let mut shutdown = None;
    if !args.interval.is_zero() {
        let stop = shutdown_signal()?;
        let listener = TcpListener::bind(args.health_addr)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", args.health_addr))?;
        tracing::info!(health = %listener.local_addr().map_err(|e| e.to_string())?, "listening");
        let router = ops_router(Arc::clone(&metrics), Arc::clone(&ready));
        tokio::spawn(
            axum::serve(listener, router)
                .with_graceful_shutdown(wait_for(stop.clone()))
                .into_future(),
        );
        shutdown = Some(stop);
    }
    loop {
        let snapshot = source.snapshot().await.map_err(|e| e.to_string())?;
        let known: HashSet<String> = snapshot.bots.iter().map(|b| b.id.clone()).collect();
        let outcome = sweep(store.client(), &buckets, &known, &settings).await;
        ready.store(true, Ordering::Relaxed);
        match (&outcome, &shutdown) {
            (Ok(report), _) => {
                println!("{}", serde_json::to_string(report).expect("a report serializes"));
                tracing::info!(
                    orphans = report.orphans.len(),
                    objects = report.orphan_objects,
                    dry_run = report.dry_run,
                    "gc sweep done"
                );
            }
            (Err(e), Some(_)) => tracing::error!(error = %e, "gc sweep failed"),
            (Err(_), None) => {}
        }
        let Some(stop) = shutdown.as_mut() else {
            return outcome.map(|_| ()).map_err(|e| e.to_string());
        };
        tokio::select! {
            _ = tokio::time::sleep(args.interval) => {}
            _ = stop.wait_for(|s| *s) => return Ok(()),
        }
    }
}
