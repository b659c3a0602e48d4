//! The Kubernetes objects of a bot, built without talking to a cluster so every field is
//! unit-tested: the realtime Pod (contract §10: upstream's names, labels, annotations, security
//! context, volumes, the bot container, the native sync sidecar and the query container), the
//! CronJob of a scheduled bot, the Job of a one-shot query, and the Secret of the object-store
//! credentials.
//!
//! Differences from upstream (§12): label values are sanitised so that any valid bot id or
//! version makes a valid object (§12.17); the object-store credentials come from a Secret through
//! `secretKeyRef`, never as plain values (§12.18); resources from the bot's config are capped by
//! the operator (§12.17); the query container has a readiness probe (§12.17); a CronJob keeps a
//! schedule's seconds when they are `0`, has a `timeZone`, a deadline per run and no retries
//! (§12.15); `NATS_URL` reaches the pods (live logs, §12.17); the hash annotation covers the
//! whole object (image, code key, version, resources, ...), not only the config (§12.14).

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{Pod, Secret};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::spec::{BotKind, BotSpec, sorted};

/// Labels and annotations (upstream's `the0.app/*`, plus ours).
pub mod keys {
    pub const BOT_ID: &str = "the0.app/bot-id";
    pub const CUSTOM_BOT_ID: &str = "the0.app/custom-bot-id";
    pub const CUSTOM_BOT_VERSION: &str = "the0.app/custom-bot-version";
    pub const RUNTIME: &str = "the0.app/runtime";
    pub const MANAGED_BY: &str = "the0.app/managed-by";
    pub const SCHEDULE_ID: &str = "the0.app/schedule-id";
    pub const QUERY: &str = "the0.app/query";
    /// Which controller owns the object (`--instance`): each one only ever touches its own.
    pub const INSTANCE: &str = "the0.app/instance";
    /// Annotation: the exact bot id (label values are sanitised and may be shortened).
    pub const BOT_ID_ANNOTATION: &str = "the0.app/bot-id";
    pub const CONFIG_HASH: &str = "the0.app/config-hash";
    pub const SCHEDULE_HASH: &str = "the0.app/schedule-hash";
    /// Annotation of a query Job: the object key of its result.
    pub const RESULT_KEY: &str = "the0.app/result-key";
}

/// `the0.app/managed-by` of realtime Pods, CronJobs and query Jobs (upstream's values).
pub const BOT_MANAGER: &str = "the0-bot-controller";
pub const SCHEDULE_MANAGER: &str = "the0-schedule-controller";
pub const QUERY_MANAGER: &str = "the0-query-handler";

/// The port of the query container.
pub const QUERY_PORT: u16 = 9476;
/// The readiness port of the sync sidecar.
pub const SYNC_READINESS_PORT: u16 = 8079;

/// The keys of the object-store Secret; `MINIO_USE_SSL` may be absent.
pub const SECRET_KEYS: &[&str] = &[
    "MINIO_ENDPOINT",
    "MINIO_ACCESS_KEY",
    "MINIO_SECRET_KEY",
    "MINIO_USE_SSL",
];

/// Upper bounds on what a bot's config may ask for (upstream had none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceCaps {
    pub memory_mib: u64,
    pub cpu_millis: u64,
}

/// Settings shared by every object a controller creates.
#[derive(Debug, Clone)]
pub struct ObjectSettings {
    pub namespace: String,
    pub instance: String,
    pub image: String,
    pub pull_policy: String,
    /// The Secret holding `MINIO_ENDPOINT`, `MINIO_ACCESS_KEY`, `MINIO_SECRET_KEY` (and
    /// optionally `MINIO_USE_SSL`).
    pub store_secret: String,
    /// Non-secret variables for every bot (`MINIO_*_BUCKET`), as plain values.
    pub plain_env: Vec<(String, String)>,
    pub nats_url: Option<String>,
    /// Further `THE0_*` agent settings.
    pub agent_env: Vec<(String, String)>,
    pub caps: ResourceCaps,
    /// Default deadline of one scheduled run.
    pub run_timeout: Duration,
    /// How long a finished query Job is kept if the controller could not delete it.
    pub query_ttl: Duration,
    /// Grace period of a bot Pod (the agent's final sync fits in it, §12.8).
    pub stop_grace: Duration,
}

impl ObjectSettings {
    pub fn for_tests() -> ObjectSettings {
        ObjectSettings {
            namespace: "the0".into(),
            instance: "default".into(),
            image: "the0-runtime:test".into(),
            pull_policy: "IfNotPresent".into(),
            store_secret: "the0-object-store".into(),
            plain_env: vec![("MINIO_QUERY_RESULTS_BUCKET".into(), "query-results".into())],
            nats_url: None,
            agent_env: vec![],
            caps: ResourceCaps {
                memory_mib: 2048,
                cpu_millis: 2000,
            },
            run_timeout: Duration::from_secs(3600),
            query_ttl: Duration::from_secs(300),
            stop_grace: Duration::from_secs(30),
        }
    }
}

fn short_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    digest[..4].iter().map(|b| format!("{b:02x}")).collect()
}

/// A DNS-1123 name `<prefix><id>` of at most `max` bytes. An id that is not already a valid
/// lowercase name part (or too long) is lowercased, cleaned and suffixed with a hash of the id,
/// so two ids never share a name.
pub fn dns_name(prefix: &str, id: &str, max: usize) -> String {
    let clean = id
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && id.ends_with(|c: char| c.is_ascii_alphanumeric());
    if clean && prefix.len() + id.len() <= max {
        return format!("{prefix}{id}");
    }
    let suffix = short_hash(id);
    let body: String = id
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9') => c,
            _ => '-',
        })
        .collect();
    let room = max - prefix.len() - suffix.len() - 1;
    let body = body[..body.len().min(room)].trim_end_matches('-');
    match body.is_empty() {
        true => format!("{prefix}{suffix}"),
        false => format!("{prefix}{body}-{suffix}"),
    }
}

/// A valid label value for `text` (at most 63 bytes of letters, digits, `-_.`, starting and
/// ending with a letter or digit); `text` itself when it already is one. Upstream used raw
/// values, so a version like `1.0.0+build` failed the creation (§12.17).
pub fn label_value(text: &str) -> String {
    let valid = text.len() <= 63
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && (text.is_empty()
            || (text.starts_with(|c: char| c.is_ascii_alphanumeric())
                && text.ends_with(|c: char| c.is_ascii_alphanumeric())));
    if valid {
        return text.to_owned();
    }
    let suffix = short_hash(text);
    let body: String = text
        .chars()
        .map(|c| match c.is_ascii_alphanumeric() || "-_.".contains(c) {
            true => c,
            false => '_',
        })
        .collect();
    let body =
        body[..body.len().min(63 - suffix.len() - 1)].trim_matches(|c: char| !c.is_ascii_alphanumeric());
    match body.is_empty() {
        true => suffix,
        false => format!("{body}-{suffix}"),
    }
}

/// Name of a realtime bot's Pod: `bot-<id>` (upstream's).
pub fn pod_name(bot_id: &str) -> String {
    dns_name("bot-", bot_id, 63)
}

/// Name of a scheduled bot's CronJob: `schedule-<id>`, at most 52 bytes (upstream's; the
/// CronJob controller adds 11 for its Jobs).
pub fn cronjob_name(bot_id: &str) -> String {
    dns_name("schedule-", bot_id, 52)
}

/// The custom bot's name for the `custom-bot-id` label: the code key without its version
/// (`user/sma/1.0.0` -> `user/sma`), as a label value.
fn custom_bot(bot: &BotSpec) -> String {
    let key = bot.code.trim_end_matches(".zip");
    let name = match key.rsplit_once('/') {
        Some((head, last)) if last == bot.version || last.starts_with(|c: char| c.is_ascii_digit()) => head,
        _ => key,
    };
    label_value(&name.replace('/', "."))
}

/// A digest of an object's JSON, independent of key order (§12.14).
pub fn object_hash(value: &Value) -> String {
    let digest = Sha256::digest(sorted(value).to_string().as_bytes());
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// A memory quantity in MiB (`512Mi`, `1Gi`, `1G`, `800M`, `1048576`); `None` when unparsable.
pub fn parse_memory_mib(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let bytes_per = match unit {
        "" => 1.0,
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        "k" | "K" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        _ => return None,
    };
    let mib = (number * bytes_per / (1024.0 * 1024.0)).ceil();
    (mib.is_finite() && mib >= 1.0).then_some(mib as u64)
}

/// A CPU quantity in millicores (`500m`, `0.5`, `2`); `None` when unparsable.
pub fn parse_cpu_millis(text: &str) -> Option<u64> {
    let text = text.trim();
    let millis = match text.strip_suffix('m') {
        Some(m) => m.parse::<f64>().ok()?,
        None => text.parse::<f64>().ok()? * 1000.0,
    };
    (millis.is_finite() && millis >= 1.0).then_some(millis.ceil() as u64)
}

/// Requests and limits of a bot container: upstream's config strings (`memory_limit`,
/// `cpu_limit`, `memory_request`, `cpu_request`; defaults 768Mi/500m limits, 256Mi/100m
/// requests), or the spec's `resources`, capped by the operator; a request never exceeds its
/// limit.
pub fn bot_resources(bot: &BotSpec, caps: ResourceCaps) -> Value {
    let config_str = |key: &str| bot.config.get(key).and_then(Value::as_str);
    let mut memory_limit = config_str("memory_limit")
        .and_then(parse_memory_mib)
        .or(bot.resources.memory_mb)
        .unwrap_or(768);
    let mut cpu_limit = config_str("cpu_limit")
        .and_then(parse_cpu_millis)
        .or(bot
            .resources
            .cpu_shares
            .filter(|s| *s > 0)
            .map(|s| (s as u64 * 1000).div_ceil(1024)))
        .unwrap_or(500);
    memory_limit = memory_limit.min(caps.memory_mib);
    cpu_limit = cpu_limit.min(caps.cpu_millis);
    let memory_request = config_str("memory_request")
        .and_then(parse_memory_mib)
        .unwrap_or(256)
        .min(memory_limit);
    let cpu_request = config_str("cpu_request")
        .and_then(parse_cpu_millis)
        .unwrap_or(100)
        .min(cpu_limit);
    json!({
        "limits": {"memory": format!("{memory_limit}Mi"), "cpu": format!("{cpu_limit}m")},
        "requests": {"memory": format!("{memory_request}Mi"), "cpu": format!("{cpu_request}m")},
    })
}

fn container_security() -> Value {
    json!({
        "runAsNonRoot": true,
        "runAsUser": 1000,
        "runAsGroup": 1000,
        "readOnlyRootFilesystem": true,
        "allowPrivilegeEscalation": false,
        "capabilities": {"drop": ["ALL"]},
    })
}

fn pod_security() -> Value {
    json!({
        "runAsNonRoot": true,
        "runAsUser": 1000,
        "runAsGroup": 1000,
        "fsGroup": 1000,
        "seccompProfile": {"type": "RuntimeDefault"},
    })
}

fn volumes() -> Value {
    json!([
        {"name": "bot-code", "emptyDir": {}},
        {"name": "bot-state", "emptyDir": {}},
        {"name": "the0", "emptyDir": {}},
        {"name": "tmp", "emptyDir": {}},
        {"name": "query", "emptyDir": {}},
    ])
}

fn all_mounts() -> Value {
    json!([
        {"name": "bot-code", "mountPath": "/bot"},
        {"name": "bot-state", "mountPath": "/state"},
        {"name": "the0", "mountPath": "/var/the0"},
        {"name": "tmp", "mountPath": "/tmp"},
        {"name": "query", "mountPath": "/query"},
    ])
}

fn plain(name: &str, value: &str) -> Value {
    json!({"name": name, "value": value})
}

/// The object-store variables, each from the Secret (never a plain value, §12.18).
fn store_env(settings: &ObjectSettings) -> Vec<Value> {
    let mut env: Vec<Value> = SECRET_KEYS
        .iter()
        .map(|key| {
            json!({"name": key, "valueFrom": {"secretKeyRef": {
                "name": settings.store_secret, "key": key, "optional": *key == "MINIO_USE_SSL",
            }}})
        })
        .collect();
    env.extend(settings.plain_env.iter().map(|(k, v)| plain(k, v)));
    if let Some(url) = &settings.nats_url {
        env.push(plain("NATS_URL", url));
    }
    env
}

/// The environment of a bot or query container (contract §1c). The config's keys are sorted,
/// so that the same config in another key order makes the same Pod (§12.14).
fn bot_env(settings: &ObjectSettings, bot: &BotSpec, entry: &str, entry_type: &str) -> Vec<Value> {
    let config = sorted(&Value::Object(bot.config.clone())).to_string();
    let mut env = vec![
        plain("BOT_ID", &bot.id),
        plain("ID", &bot.id),
        plain("CODE_FILE", &bot.code),
        plain("RUNTIME", &bot.runtime),
        plain("ENTRYPOINT", entry),
        plain("ENTRYPOINT_TYPE", entry_type),
        plain("CODE_MOUNT_DIR", entry_type),
        plain("BOT_CONFIG", &config),
        plain("CONFIG", &config),
        plain("BOT_TYPE", bot.type_name()),
        plain("CODE_PATH", "/bot"),
        plain("STATE_PATH", "/state"),
        plain("LOGS_PATH", "/var/the0/logs"),
        plain("STATE_DIR", "/state/.the0-state"),
        plain("PYTHONDONTWRITEBYTECODE", "1"),
    ];
    if !bot.is_realtime() {
        env.push(plain("IS_SCHEDULED", "true"));
    }
    if entry_type == "bot"
        && bot.is_realtime()
        && let Some(query) = &bot.entrypoints.query
    {
        env.push(plain("QUERY_ENTRYPOINT", query));
    }
    env.extend(store_env(settings));
    env.extend(settings.agent_env.iter().map(|(k, v)| plain(k, v)));
    env
}

fn labels(settings: &ObjectSettings, bot: &BotSpec, manager: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (keys::BOT_ID.to_owned(), label_value(&bot.id)),
        (keys::CUSTOM_BOT_ID.to_owned(), custom_bot(bot)),
        (keys::CUSTOM_BOT_VERSION.to_owned(), label_value(&bot.version)),
        (keys::RUNTIME.to_owned(), label_value(&bot.runtime)),
        (keys::MANAGED_BY.to_owned(), manager.to_owned()),
        (keys::INSTANCE.to_owned(), label_value(&settings.instance)),
    ])
}

/// The label selector of everything `manager` of this instance owns.
pub fn selector(instance: &str, manager: &str) -> String {
    format!(
        "{}={manager},{}={}",
        keys::MANAGED_BY,
        keys::INSTANCE,
        label_value(instance)
    )
}

fn image_fields(settings: &ObjectSettings) -> (String, String) {
    (settings.image.clone(), settings.pull_policy.clone())
}

/// The Pod of a realtime bot (contract §10), with its hash annotation.
pub fn realtime_pod(settings: &ObjectSettings, bot: &BotSpec) -> Pod {
    let (image, pull) = image_fields(settings);
    let mut containers = vec![json!({
        "name": "bot",
        "image": image,
        "imagePullPolicy": pull,
        "command": ["/app/runtime", "execute", "--skip-sync", "--skip-query-server"],
        "workingDir": "/bot",
        "env": bot_env(settings, bot, &bot.entrypoints.bot, "bot"),
        "volumeMounts": all_mounts(),
        "resources": bot_resources(bot, settings.caps),
        "securityContext": container_security(),
    })];
    if let Some(query) = &bot.entrypoints.query {
        containers.push(json!({
            "name": "query-server",
            "image": image,
            "imagePullPolicy": pull,
            "command": ["/app/runtime", "execute", "--query-server-only"],
            "workingDir": "/bot",
            "env": bot_env(settings, bot, query, "query"),
            "volumeMounts": all_mounts(),
            "ports": [{"name": "query", "containerPort": QUERY_PORT, "protocol": "TCP"}],
            "readinessProbe": {
                "httpGet": {"path": "/healthz", "port": QUERY_PORT},
                "periodSeconds": 2, "failureThreshold": 3,
            },
            "resources": {
                "requests": {"memory": "32Mi", "cpu": "10m"},
                "limits": {"memory": "128Mi", "cpu": "200m"},
            },
            "securityContext": container_security(),
        }));
    }
    let mut sync_env = store_env(settings);
    sync_env.extend(settings.agent_env.iter().map(|(k, v)| plain(k, v)));
    let sync = json!({
        "name": "sync",
        "image": image,
        "imagePullPolicy": pull,
        "restartPolicy": "Always",
        "command": [
            "/app/runtime", "daemon", "sync", "--bot-id", bot.id,
            "--state-path", "/state", "--logs-path", "/var/the0/logs",
            "--readiness-port", SYNC_READINESS_PORT.to_string(),
        ],
        "env": sync_env,
        "volumeMounts": [
            {"name": "bot-state", "mountPath": "/state"},
            {"name": "the0", "mountPath": "/var/the0"},
        ],
        "startupProbe": {
            "httpGet": {"path": "/readyz", "port": SYNC_READINESS_PORT},
            "periodSeconds": 1, "failureThreshold": 30,
        },
        "readinessProbe": {
            "httpGet": {"path": "/readyz", "port": SYNC_READINESS_PORT},
            "periodSeconds": 5,
        },
        "resources": {
            "requests": {"memory": "64Mi", "cpu": "10m"},
            "limits": {"memory": "128Mi", "cpu": "100m"},
        },
        "securityContext": container_security(),
    });
    let mut pod = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": pod_name(&bot.id),
            "namespace": settings.namespace,
            "labels": labels(settings, bot, BOT_MANAGER),
            "annotations": {keys::BOT_ID_ANNOTATION: bot.id},
        },
        "spec": {
            "restartPolicy": "Always",
            "automountServiceAccountToken": false,
            "enableServiceLinks": false,
            "terminationGracePeriodSeconds": settings.stop_grace.as_secs(),
            "securityContext": pod_security(),
            "volumes": volumes(),
            "initContainers": [sync],
            "containers": containers,
        },
    });
    let hash = object_hash(&pod);
    pod["metadata"]["annotations"][keys::CONFIG_HASH] = json!(hash);
    serde_json::from_value(pod).expect("a realtime Pod is a valid Pod")
}

/// A schedule as the CronJob controller takes it: 5 fields or a descriptor as is; 6 fields
/// (seconds first) only when the seconds are `0` (dropped then; upstream dropped any seconds,
/// §12.15). The error says why the schedule cannot run here.
pub fn cronjob_schedule(schedule: &str) -> Result<String, String> {
    let text = schedule.trim();
    let fields: Vec<&str> = text.split_whitespace().collect();
    if text.starts_with('@') {
        return Ok(fields.join(" "));
    }
    match fields.len() {
        5 => Ok(fields.join(" ")),
        6 if fields[0] == "0" || fields[0] == "00" => Ok(fields[1..].join(" ")),
        6 => Err(format!(
            "{text:?}: Kubernetes CronJobs run at most once a minute, at second 0; seconds {:?} cannot be kept (use Docker mode or a 5-field schedule)",
            fields[0]
        )),
        n => Err(format!("{text:?} has {n} fields")),
    }
}

/// The CronJob of a scheduled bot, with its hash annotation.
pub fn scheduled_cronjob(settings: &ObjectSettings, bot: &BotSpec) -> Result<CronJob, String> {
    let BotKind::Scheduled(schedule) = &bot.kind else {
        return Err(format!("bot {} is not scheduled", bot.id));
    };
    let cron = cronjob_schedule(&schedule.schedule)?;
    let deadline = schedule
        .timeout_secs
        .unwrap_or(settings.run_timeout.as_secs())
        .max(1);
    let (image, pull) = image_fields(settings);
    let mut meta_labels = labels(settings, bot, SCHEDULE_MANAGER);
    meta_labels.insert(keys::SCHEDULE_ID.to_owned(), label_value(&bot.id));
    let mut pod_labels = meta_labels.clone();
    pod_labels.insert(keys::BOT_ID.to_owned(), label_value(&bot.id));
    let mut cronjob = json!({
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {
            "name": cronjob_name(&bot.id),
            "namespace": settings.namespace,
            "labels": meta_labels,
            "annotations": {keys::BOT_ID_ANNOTATION: bot.id},
        },
        "spec": {
            "schedule": cron,
            "timeZone": schedule.timezone.clone().unwrap_or_else(|| "Etc/UTC".into()),
            "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": 60,
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 1,
            "jobTemplate": {
                "metadata": {"labels": pod_labels},
                "spec": {
                    "backoffLimit": 0,
                    "activeDeadlineSeconds": deadline,
                    "template": {
                        "metadata": {
                            "labels": pod_labels,
                            "annotations": {keys::BOT_ID_ANNOTATION: bot.id},
                        },
                        "spec": {
                            "restartPolicy": "Never",
                            "automountServiceAccountToken": false,
                            "enableServiceLinks": false,
                            "terminationGracePeriodSeconds": settings.stop_grace.as_secs(),
                            "securityContext": pod_security(),
                            "volumes": volumes(),
                            "containers": [{
                                "name": "bot",
                                "image": image,
                                "imagePullPolicy": pull,
                                "command": ["/app/runtime", "execute", "--skip-query-server"],
                                "workingDir": "/bot",
                                "env": bot_env(settings, bot, &bot.entrypoints.bot, "bot"),
                                "volumeMounts": all_mounts(),
                                "resources": bot_resources(bot, settings.caps),
                                "securityContext": container_security(),
                            }],
                        },
                    },
                },
            },
        },
    });
    let hash = object_hash(&cronjob);
    cronjob["metadata"]["annotations"][keys::SCHEDULE_HASH] = json!(hash);
    serde_json::from_value(cronjob).map_err(|e| format!("CronJob of {}: {e}", bot.id))
}

/// Name of a query Job: `query-<id>-<nanos>`, at most 63 bytes.
pub fn query_job_name(bot_id: &str, nanos: u128) -> String {
    let stamp = format!("-{nanos}");
    let base = dns_name("query-", bot_id, 63 - stamp.len());
    format!("{base}{stamp}")
}

/// Seconds a query Job may outlive the gateway's own limit, so that the gateway times out first
/// and answers 504 (the Job's deadline only backs it up).
pub const QUERY_DEADLINE_MARGIN: u64 = 5;

/// One query as a Job (contract §6c): no retries, a deadline, a TTL after it finishes (the
/// controller deletes it as soon as it has the answer; upstream never did, §12.16).
pub fn query_job(
    settings: &ObjectSettings,
    bot: &BotSpec,
    name: &str,
    path: &str,
    params: &serde_json::Map<String, Value>,
    result_key: &str,
    timeout: Duration,
) -> Job {
    let (image, pull) = image_fields(settings);
    let entry = bot.entrypoints.query.as_deref().unwrap_or(&bot.entrypoints.bot);
    let mut env = bot_env(settings, bot, entry, "query");
    env.push(plain("QUERY_PATH", path));
    if !params.is_empty() {
        env.push(plain("QUERY_PARAMS", &Value::Object(params.clone()).to_string()));
    }
    env.push(plain("QUERY_RESULT_KEY", result_key));
    let mut job_labels = BTreeMap::from([
        (keys::MANAGED_BY.to_owned(), QUERY_MANAGER.to_owned()),
        (keys::BOT_ID.to_owned(), label_value(&bot.id)),
        (keys::QUERY.to_owned(), "true".to_owned()),
        (keys::INSTANCE.to_owned(), label_value(&settings.instance)),
    ]);
    job_labels.insert(keys::RUNTIME.to_owned(), label_value(&bot.runtime));
    let job = json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": name,
            "namespace": settings.namespace,
            "labels": job_labels,
            "annotations": {keys::BOT_ID_ANNOTATION: bot.id, keys::RESULT_KEY: result_key},
        },
        "spec": {
            "backoffLimit": 0,
            "activeDeadlineSeconds": timeout.as_secs().max(1) + QUERY_DEADLINE_MARGIN,
            "ttlSecondsAfterFinished": settings.query_ttl.as_secs(),
            "template": {
                "metadata": {"labels": job_labels},
                "spec": {
                    "restartPolicy": "Never",
                    "automountServiceAccountToken": false,
                    "enableServiceLinks": false,
                    "securityContext": pod_security(),
                    "volumes": volumes(),
                    "containers": [{
                        "name": "query",
                        "image": image,
                        "imagePullPolicy": pull,
                        "command": ["/app/runtime", "execute"],
                        "workingDir": "/bot",
                        "env": env,
                        "volumeMounts": all_mounts(),
                        "resources": {
                            "requests": {"memory": "64Mi", "cpu": "50m"},
                            "limits": {"memory": "512Mi", "cpu": "500m"},
                        },
                        "securityContext": container_security(),
                    }],
                },
            },
        },
    });
    serde_json::from_value(job).expect("a query Job is a valid Job")
}

/// The object-store Secret from `MINIO_*` values (for `--create-secret`; otherwise the operator
/// creates it and the controller only names it).
pub fn store_secret(settings: &ObjectSettings, values: &[(String, String)]) -> Secret {
    let data: BTreeMap<&str, &str> = values
        .iter()
        .filter(|(k, _)| SECRET_KEYS.contains(&k.as_str()))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    serde_json::from_value(json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": settings.store_secret,
            "namespace": settings.namespace,
            "labels": {keys::MANAGED_BY: BOT_MANAGER, keys::INSTANCE: label_value(&settings.instance)},
        },
        "type": "Opaque",
        "stringData": data,
    }))
    .expect("a Secret is a valid Secret")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::tests::{realtime, scheduled};
    use k8s_openapi::api::core::v1::Container;

    fn env_of(container: &Container) -> BTreeMap<String, Value> {
        container
            .env
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(|e| {
                let value = match (e.value, e.value_from) {
                    (Some(v), _) => json!(v),
                    (None, Some(from)) => serde_json::to_value(from).unwrap(),
                    _ => Value::Null,
                };
                (e.name, value)
            })
            .collect()
    }

    #[test]
    fn names_and_label_values_are_always_valid_and_distinct() {
        assert_eq!(pod_name("sma-1"), "bot-sma-1");
        assert_eq!(cronjob_name("sma-1"), "schedule-sma-1");
        let upper = pod_name("SMA_1");
        assert!(upper.starts_with("bot-sma-1-") && upper.len() <= 63, "{upper}");
        assert_ne!(pod_name("SMA_1"), pod_name("sma-1"));
        assert_ne!(pod_name("a.b"), pod_name("a_b"));
        let long = "x".repeat(128);
        assert!(pod_name(&long).len() <= 63);
        assert!(cronjob_name(&long).len() <= 52);
        assert!(pod_name("bot-.").ends_with(|c: char| c.is_ascii_alphanumeric()));
        assert_eq!(label_value("1.0.0"), "1.0.0");
        let version = label_value("1.0.0+build/7");
        assert!(version.starts_with("1.0.0_build_7-"), "{version}");
        let long = label_value(&"v".repeat(100));
        assert!(long.len() <= 63);
        assert_eq!(label_value(""), "");
        assert!(label_value("-x-").starts_with('x'));
        let name = query_job_name(&"q".repeat(128), 1_700_000_000_000_000_000);
        assert!(
            name.len() <= 63 && name.ends_with("-1700000000000000000"),
            "{name}"
        );
    }

    #[test]
    fn the_realtime_pod_has_upstreams_shape() {
        let settings = ObjectSettings::for_tests();
        let mut bot = realtime("sma");
        bot.version = "1.0.0+b".into();
        bot.config.insert("symbol".into(), json!("BTC"));
        let pod = realtime_pod(&settings, &bot);
        let meta = &pod.metadata;
        assert_eq!(meta.name.as_deref(), Some("bot-sma"));
        assert_eq!(meta.namespace.as_deref(), Some("the0"));
        let labels = meta.labels.clone().unwrap();
        assert_eq!(labels[keys::BOT_ID], "sma");
        assert_eq!(labels[keys::MANAGED_BY], BOT_MANAGER);
        assert_eq!(labels[keys::RUNTIME], "rust-stable");
        assert_eq!(labels[keys::CUSTOM_BOT_ID], "user.sma");
        assert!(labels[keys::CUSTOM_BOT_VERSION].starts_with("1.0.0_b-"));
        let annotations = meta.annotations.clone().unwrap();
        assert_eq!(annotations[keys::CONFIG_HASH].len(), 16);
        assert_eq!(annotations[keys::BOT_ID_ANNOTATION], "sma");

        let spec = pod.spec.unwrap();
        assert_eq!(spec.restart_policy.as_deref(), Some("Always"));
        assert_eq!(spec.automount_service_account_token, Some(false));
        let security = spec.security_context.unwrap();
        assert_eq!(security.run_as_non_root, Some(true));
        assert_eq!(security.fs_group, Some(1000));
        assert_eq!(security.seccomp_profile.unwrap().type_, "RuntimeDefault");
        let volumes: Vec<_> = spec.volumes.unwrap().into_iter().map(|v| v.name).collect();
        assert_eq!(volumes, ["bot-code", "bot-state", "the0", "tmp", "query"]);

        let sync = &spec.init_containers.unwrap()[0];
        assert_eq!(sync.name, "sync");
        assert_eq!(sync.restart_policy.as_deref(), Some("Always"), "a native sidecar");
        assert!(
            sync.command
                .clone()
                .unwrap()
                .join(" ")
                .contains("daemon sync --bot-id sma")
        );
        let probe = sync.startup_probe.clone().unwrap().http_get.unwrap();
        assert_eq!(probe.path.as_deref(), Some("/readyz"));
        assert!(sync.readiness_probe.is_some());

        let [bot_c, query_c] = &spec.containers[..] else {
            panic!("two containers")
        };
        assert_eq!(bot_c.name, "bot");
        assert_eq!(
            bot_c.command.clone().unwrap(),
            ["/app/runtime", "execute", "--skip-sync", "--skip-query-server"]
        );
        let sc = bot_c.security_context.clone().unwrap();
        assert_eq!(sc.read_only_root_filesystem, Some(true));
        assert_eq!(sc.allow_privilege_escalation, Some(false));
        assert_eq!(sc.capabilities.unwrap().drop.unwrap(), ["ALL"]);
        let env = env_of(bot_c);
        assert_eq!(env["BOT_ID"], "sma");
        assert_eq!(env["BOT_CONFIG"], r#"{"symbol":"BTC"}"#);
        assert_eq!(env["BOT_TYPE"], "realtime");
        assert_eq!(env["QUERY_ENTRYPOINT"], "query");
        assert_eq!(env["STATE_DIR"], "/state/.the0-state");
        assert!(!env.contains_key("IS_SCHEDULED"));
        for key in ["MINIO_ENDPOINT", "MINIO_ACCESS_KEY", "MINIO_SECRET_KEY"] {
            assert_eq!(
                env[key]["secretKeyRef"],
                json!({"name": "the0-object-store", "key": key, "optional": false}),
                "{key} comes from the Secret, never as a value"
            );
        }
        assert_eq!(query_c.name, "query-server");
        assert_eq!(query_c.ports.clone().unwrap()[0].container_port, 9476);
        let ready = query_c.readiness_probe.clone().unwrap().http_get.unwrap();
        assert_eq!(ready.path.as_deref(), Some("/healthz"));
        assert_eq!(env_of(query_c)["ENTRYPOINT"], "query");
    }

    #[test]
    fn the_hash_follows_the_object_and_not_key_order() {
        let settings = ObjectSettings::for_tests();
        let hash = |bot: &BotSpec, settings: &ObjectSettings| {
            realtime_pod(settings, bot).metadata.annotations.unwrap()[keys::CONFIG_HASH].clone()
        };
        let mut a = realtime("a");
        a.config.insert("x".into(), json!({"p": 1, "q": 2}));
        a.config.insert("y".into(), json!(2));
        let mut b = realtime("a");
        b.config.insert("y".into(), json!(2));
        b.config.insert("x".into(), json!({"q": 2, "p": 1}));
        assert_eq!(hash(&a, &settings), hash(&b, &settings));
        let mut newer = a.clone();
        newer.version = "1.0.1".into();
        assert_ne!(hash(&newer, &settings), hash(&a, &settings));
        let mut moved = a.clone();
        moved.code = "user/a/2.0.0".into();
        assert_ne!(hash(&moved, &settings), hash(&a, &settings));
        let other_image = ObjectSettings {
            image: "the0-runtime:next".into(),
            ..settings.clone()
        };
        assert_ne!(hash(&a, &other_image), hash(&a, &settings));
    }

    #[test]
    fn resources_come_from_the_config_capped_by_the_operator() {
        let caps = ResourceCaps {
            memory_mib: 1024,
            cpu_millis: 1000,
        };
        let bot = realtime("r");
        assert_eq!(
            bot_resources(&bot, caps),
            json!({"limits": {"memory": "768Mi", "cpu": "500m"}, "requests": {"memory": "256Mi", "cpu": "100m"}})
        );
        let mut greedy = realtime("g");
        greedy.config.insert("memory_limit".into(), json!("64Gi"));
        greedy.config.insert("cpu_limit".into(), json!("16"));
        greedy.config.insert("memory_request".into(), json!("32Gi"));
        greedy.config.insert("cpu_request".into(), json!("250m"));
        assert_eq!(
            bot_resources(&greedy, caps),
            json!({"limits": {"memory": "1024Mi", "cpu": "1000m"}, "requests": {"memory": "1024Mi", "cpu": "250m"}})
        );
        let mut spec_sized = realtime("s");
        spec_sized.resources.memory_mb = Some(300);
        spec_sized.resources.cpu_shares = Some(512);
        spec_sized.config.insert("memory_limit".into(), json!("nonsense"));
        assert_eq!(
            bot_resources(&spec_sized, caps)["limits"],
            json!({"memory": "300Mi", "cpu": "500m"})
        );
        assert_eq!(parse_memory_mib("1G"), Some(954));
        assert_eq!(parse_memory_mib("512Mi"), Some(512));
        assert_eq!(parse_cpu_millis("0.25"), Some(250));
        assert_eq!(parse_cpu_millis("x"), None);
    }

    #[test]
    fn a_scheduled_bot_is_a_cronjob_with_deadline_zone_and_no_retries() {
        let settings = ObjectSettings::for_tests();
        let mut bot = scheduled("daily", "0 30 9 * * 1-5");
        if let BotKind::Scheduled(s) = &mut bot.kind {
            s.timezone = Some("Europe/London".into());
            s.timeout_secs = Some(120);
        }
        let cj = scheduled_cronjob(&settings, &bot).unwrap();
        assert_eq!(cj.metadata.name.as_deref(), Some("schedule-daily"));
        let labels = cj.metadata.labels.clone().unwrap();
        assert_eq!(labels[keys::SCHEDULE_ID], "daily");
        assert_eq!(labels[keys::MANAGED_BY], SCHEDULE_MANAGER);
        assert_eq!(cj.metadata.annotations.unwrap()[keys::SCHEDULE_HASH].len(), 16);
        let spec = cj.spec;
        assert_eq!(
            spec.schedule, "30 9 * * 1-5",
            "seconds 0 are kept by dropping the field"
        );
        assert_eq!(spec.time_zone.as_deref(), Some("Europe/London"));
        assert_eq!(spec.concurrency_policy.as_deref(), Some("Forbid"));
        assert_eq!(spec.successful_jobs_history_limit, Some(3));
        assert_eq!(spec.failed_jobs_history_limit, Some(1));
        let job = spec.job_template.spec.unwrap();
        assert_eq!(job.backoff_limit, Some(0));
        assert_eq!(job.active_deadline_seconds, Some(120));
        let pod = job.template.spec.unwrap();
        assert_eq!(pod.restart_policy.as_deref(), Some("Never"));
        assert!(pod.init_containers.is_none(), "no sidecars: the run syncs itself");
        let container = &pod.containers[0];
        assert_eq!(
            container.command.clone().unwrap(),
            ["/app/runtime", "execute", "--skip-query-server"]
        );
        assert_eq!(env_of(container)["IS_SCHEDULED"], "true");
        let template_labels = job.template.metadata.unwrap().labels.unwrap();
        assert_eq!(template_labels[keys::BOT_ID], "daily");

        assert_eq!(cronjob_schedule("*/5 * * * *").unwrap(), "*/5 * * * *");
        assert_eq!(cronjob_schedule("@hourly").unwrap(), "@hourly");
        let err = cronjob_schedule("*/10 * * * * *").unwrap_err();
        assert!(err.contains("second 0"), "{err}");
        let utc = scheduled_cronjob(&settings, &scheduled("u", "* * * * *")).unwrap();
        assert_eq!(utc.spec.time_zone.as_deref(), Some("Etc/UTC"));
        let default_deadline = scheduled_cronjob(&settings, &scheduled("d", "* * * * *")).unwrap();
        let job = default_deadline.spec.job_template.spec.unwrap();
        assert_eq!(job.active_deadline_seconds, Some(3600));
    }

    #[test]
    fn a_query_job_is_one_try_with_deadline_and_ttl() {
        let settings = ObjectSettings::for_tests();
        let bot = scheduled("s", "* * * * *");
        let mut params = serde_json::Map::new();
        params.insert("n".into(), json!(3));
        let job = query_job(
            &settings,
            &bot,
            "query-s-1",
            "/status",
            &params,
            "query-s-1.json",
            Duration::from_secs(7),
        );
        let labels = job.metadata.labels.clone().unwrap();
        assert_eq!(labels[keys::MANAGED_BY], QUERY_MANAGER);
        assert_eq!(labels[keys::QUERY], "true");
        let spec = job.spec.unwrap();
        assert_eq!(spec.backoff_limit, Some(0));
        assert_eq!(
            spec.active_deadline_seconds,
            Some(7 + 5),
            "the gateway's limit first"
        );
        assert_eq!(spec.ttl_seconds_after_finished, Some(300));
        let pod = spec.template.spec.unwrap();
        assert_eq!(pod.restart_policy.as_deref(), Some("Never"));
        let env = env_of(&pod.containers[0]);
        assert_eq!(env["QUERY_PATH"], "/status");
        assert_eq!(env["QUERY_PARAMS"], r#"{"n":3}"#);
        assert_eq!(env["QUERY_RESULT_KEY"], "query-s-1.json");
        assert_eq!(env["ENTRYPOINT"], "query");
        assert!(env["MINIO_SECRET_KEY"]["secretKeyRef"].is_object());
        let empty = query_job(
            &settings,
            &bot,
            "q",
            "/",
            &serde_json::Map::new(),
            "k",
            Duration::from_secs(1),
        );
        let env = env_of(&empty.spec.unwrap().template.spec.unwrap().containers[0]);
        assert!(!env.contains_key("QUERY_PARAMS"));
    }

    #[test]
    fn the_secret_holds_only_the_store_keys() {
        let settings = ObjectSettings::for_tests();
        let secret = store_secret(
            &settings,
            &[
                ("MINIO_ENDPOINT".into(), "minio:9000".into()),
                ("MINIO_SECRET_KEY".into(), "s".into()),
                ("PATH".into(), "/bin".into()),
            ],
        );
        assert_eq!(secret.metadata.name.as_deref(), Some("the0-object-store"));
        let data = secret.string_data.unwrap();
        assert_eq!(data.len(), 2);
        assert_eq!(data["MINIO_ENDPOINT"], "minio:9000");
    }
}
