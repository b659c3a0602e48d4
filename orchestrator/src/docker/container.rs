//! The container a bot runs in, as a Docker Engine API body: upstream's labels, environment,
//! mounts and security settings (contract §1c, §2, §9), built without talking to Docker so every
//! field is unit-tested.

use std::collections::HashMap;

use bollard::models::{ContainerCreateBody, HostConfig, PortBinding};

use crate::spec::BotSpec;

/// The agent's public query port inside a container (the front, or a standby agent).
pub const QUERY_PORT: u16 = 9476;

/// Labels (upstream's `runtime.*`, and ours under `the0.`).
pub mod labels {
    pub const MANAGED: &str = "runtime.managed";
    pub const BOT_ID: &str = "runtime.id";
    pub const ENTRYPOINT: &str = "runtime.entrypoint";
    pub const TYPE: &str = "runtime.type";
    /// Which orchestrator owns the container: each one only ever sees its own.
    pub const INSTANCE: &str = "the0.instance";
    /// `bot` (realtime), `run` (one scheduled run) or `standby` (a query container).
    pub const ROLE: &str = "the0.role";
    pub const CONFIG_HASH: &str = "the0.config-hash";
    /// The loopback port of the container's query front (host network mode).
    pub const QUERY_PORT: &str = "the0.query-port";
}

/// What a container is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A realtime bot, restarted by the reconciler.
    Bot,
    /// One run of a scheduled bot.
    Run,
    /// A query container waiting for one job (the warm pool, or a cold query).
    Standby,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Bot => "bot",
            Role::Run => "run",
            Role::Standby => "standby",
        }
    }
}

/// How the orchestrator reaches a container's query port: always on a loopback (or chosen host)
/// address, never on a bridge address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Addressing {
    /// Containers share the host's network (`--network host`); each query front binds
    /// `127.0.0.1:<port>` with a port the orchestrator picks and records in a label. Containers
    /// reach services on the host's loopback (an object store on 127.0.0.1).
    HostNetwork,
    /// Containers join this Docker network and :9476 is published on `publish_ip` with a port
    /// Docker picks (Docker Desktop, or a host where the orchestrator is not in the network).
    Published { network: String, publish_ip: String },
}

/// Settings shared by every container an orchestrator creates.
#[derive(Debug, Clone)]
pub struct ContainerSettings {
    pub image: String,
    pub instance: String,
    pub addressing: Addressing,
    /// Default memory limit (MiB) when the spec sets none (`BOT_MEMORY_LIMIT_MB`, 512).
    pub memory_mb: u64,
    /// Default CPU shares (`BOT_CPU_SHARES`, 512).
    pub cpu_shares: i64,
    /// At most this many processes per container (upstream had no limit, §12.22).
    pub pids_limit: i64,
    /// Object-store variables handed to the agent (`MINIO_*`); the agent removes them from the
    /// bot's environment.
    pub store_env: Vec<(String, String)>,
    /// `NATS_URL` for live log tailing.
    pub nats_url: Option<String>,
    /// Further `THE0_*` agent settings passed to every container.
    pub agent_env: Vec<(String, String)>,
    /// Seconds Docker waits after SIGTERM (the agent's own budget is shorter).
    pub stop_timeout_secs: i64,
}

/// What varies per container.
#[derive(Debug, Clone)]
pub struct ContainerPlan<'a> {
    pub role: Role,
    /// The bot (none for a standby container, which learns its bot with the job).
    pub bot: Option<&'a BotSpec>,
    /// The loopback port to bind in host network mode.
    pub host_port: Option<u16>,
    /// A standby container's job token.
    pub token: Option<&'a str>,
}

/// The create body for `plan`.
pub fn container_body(settings: &ContainerSettings, plan: &ContainerPlan<'_>) -> ContainerCreateBody {
    let mut env: Vec<(String, String)> = vec![
        ("PYTHONDONTWRITEBYTECODE".into(), "1".into()),
        ("STATE_DIR".into(), "/state/.the0-state".into()),
    ];
    env.extend(settings.store_env.iter().cloned());
    env.extend(settings.agent_env.iter().cloned());
    if let Some(url) = &settings.nats_url {
        env.push(("NATS_URL".into(), url.clone()));
    }
    let mut labels = HashMap::from([
        (labels::MANAGED.to_owned(), "true".to_owned()),
        (labels::INSTANCE.to_owned(), settings.instance.clone()),
        (labels::ROLE.to_owned(), plan.role.as_str().to_owned()),
    ]);
    let mut memory_mb = settings.memory_mb;
    let mut cpu_shares = settings.cpu_shares;
    if let Some(bot) = plan.bot {
        let entry = &bot.entrypoints.bot;
        env.extend([
            ("ID".into(), bot.id.clone()),
            ("CONFIG".into(), bot.config_json()),
            ("ENTRYPOINT_TYPE".into(), "bot".into()),
            ("CODE_MOUNT_DIR".into(), "bot".into()),
            ("BOT_ID".into(), bot.id.clone()),
            ("CODE_FILE".into(), bot.code.clone()),
            ("RUNTIME".into(), bot.runtime.clone()),
            ("ENTRYPOINT".into(), entry.clone()),
            ("BOT_CONFIG".into(), bot.config_json()),
            ("BOT_TYPE".into(), bot.type_name().into()),
            ("IS_SCHEDULED".into(), (plan.role == Role::Run).to_string()),
        ]);
        if let Some(query) = &bot.entrypoints.query {
            env.push(("QUERY_ENTRYPOINT".into(), query.clone()));
        }
        labels.extend([
            (labels::BOT_ID.to_owned(), bot.id.clone()),
            (labels::ENTRYPOINT.to_owned(), entry.clone()),
            (labels::TYPE.to_owned(), bot.type_name().to_owned()),
            (labels::CONFIG_HASH.to_owned(), bot.config_hash()),
        ]);
        memory_mb = bot.resources.memory_mb.unwrap_or(memory_mb);
        cpu_shares = bot.resources.cpu_shares.unwrap_or(cpu_shares);
    } else {
        labels.insert(labels::TYPE.to_owned(), "query".to_owned());
    }
    if let Some(token) = plan.token {
        env.push(("THE0_STANDBY_TOKEN".into(), token.to_owned()));
    }
    let listen_var = match plan.role {
        Role::Standby => "THE0_STANDBY_ADDR",
        _ => "THE0_AGENT_QUERY_ADDR",
    };
    let (network_mode, port_bindings, exposed_ports, extra_hosts) = match &settings.addressing {
        Addressing::HostNetwork => {
            if let Some(port) = plan.host_port {
                env.push((listen_var.into(), format!("127.0.0.1:{port}")));
                labels.insert(labels::QUERY_PORT.to_owned(), port.to_string());
            }
            ("host".to_owned(), None, None, None)
        }
        Addressing::Published { network, publish_ip } => {
            let port = format!("{QUERY_PORT}/tcp");
            let published = plan.role != Role::Run;
            let bindings = published.then(|| {
                HashMap::from([(
                    port.clone(),
                    Some(vec![PortBinding {
                        host_ip: Some(publish_ip.clone()),
                        host_port: Some(String::new()),
                    }]),
                )])
            });
            (
                network.clone(),
                bindings,
                published.then(|| vec![port]),
                Some(vec!["host.docker.internal:host-gateway".to_owned()]),
            )
        }
    };
    let tmpfs = HashMap::from([
        (
            "/bot".to_owned(),
            "rw,exec,nosuid,nodev,uid=1000,gid=1000".to_owned(),
        ),
        (
            "/state".to_owned(),
            "rw,nosuid,nodev,uid=1000,gid=1000".to_owned(),
        ),
        (
            "/var/the0".to_owned(),
            "rw,nosuid,nodev,uid=1000,gid=1000".to_owned(),
        ),
        (
            "/query".to_owned(),
            "rw,nosuid,nodev,uid=1000,gid=1000".to_owned(),
        ),
        ("/tmp".to_owned(), "rw,exec,nosuid,nodev,mode=1777".to_owned()),
    ]);
    let command = match plan.role {
        Role::Standby => "standby",
        Role::Bot | Role::Run => "execute",
    };
    ContainerCreateBody {
        image: Some(settings.image.clone()),
        cmd: Some(vec!["/app/runtime".into(), command.into()]),
        env: Some(env.into_iter().map(|(k, v)| format!("{k}={v}")).collect()),
        labels: Some(labels),
        user: Some("1000:1000".into()),
        working_dir: Some("/tmp".into()),
        stop_signal: Some("SIGTERM".into()),
        stop_timeout: Some(settings.stop_timeout_secs),
        exposed_ports,
        host_config: Some(HostConfig {
            network_mode: Some(network_mode),
            port_bindings,
            extra_hosts,
            readonly_rootfs: Some(true),
            cap_drop: Some(vec!["ALL".into()]),
            security_opt: Some(vec!["no-new-privileges".into()]),
            tmpfs: Some(tmpfs),
            memory: Some((memory_mb * 1024 * 1024) as i64),
            cpu_shares: Some(cpu_shares),
            pids_limit: Some(settings.pids_limit),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::tests::{realtime, scheduled};

    fn settings(addressing: Addressing) -> ContainerSettings {
        ContainerSettings {
            image: "the0-runtime:test".into(),
            instance: "t1".into(),
            addressing,
            memory_mb: 512,
            cpu_shares: 512,
            pids_limit: 1024,
            store_env: vec![("MINIO_ENDPOINT".into(), "127.0.0.1:9000".into())],
            nats_url: Some("nats://127.0.0.1:4222".into()),
            agent_env: vec![],
            stop_timeout_secs: 30,
        }
    }

    fn env_of(body: &ContainerCreateBody) -> HashMap<String, String> {
        body.env
            .as_ref()
            .unwrap()
            .iter()
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap();
                (k.to_owned(), v.to_owned())
            })
            .collect()
    }

    #[test]
    fn a_realtime_bot_gets_upstreams_env_labels_and_security() {
        let mut bot = realtime("b1");
        bot.config.insert("symbol".into(), "BTC".into());
        bot.resources.memory_mb = Some(256);
        let body = container_body(
            &settings(Addressing::HostNetwork),
            &ContainerPlan {
                role: Role::Bot,
                bot: Some(&bot),
                host_port: Some(40001),
                token: None,
            },
        );
        let env = env_of(&body);
        for (k, v) in [
            ("BOT_ID", "b1"),
            ("ID", "b1"),
            ("CODE_FILE", "user/b1/1.0.0"),
            ("RUNTIME", "rust-stable"),
            ("ENTRYPOINT", "bot"),
            ("QUERY_ENTRYPOINT", "query"),
            ("BOT_TYPE", "realtime"),
            ("IS_SCHEDULED", "false"),
            ("BOT_CONFIG", r#"{"symbol":"BTC"}"#),
            ("CONFIG", r#"{"symbol":"BTC"}"#),
            ("ENTRYPOINT_TYPE", "bot"),
            ("CODE_MOUNT_DIR", "bot"),
            ("STATE_DIR", "/state/.the0-state"),
            ("PYTHONDONTWRITEBYTECODE", "1"),
            ("MINIO_ENDPOINT", "127.0.0.1:9000"),
            ("NATS_URL", "nats://127.0.0.1:4222"),
            ("THE0_AGENT_QUERY_ADDR", "127.0.0.1:40001"),
        ] {
            assert_eq!(env.get(k).map(String::as_str), Some(v), "{k}");
        }
        let labels = body.labels.as_ref().unwrap();
        assert_eq!(labels[labels::BOT_ID], "b1");
        assert_eq!(labels[labels::MANAGED], "true");
        assert_eq!(labels[labels::TYPE], "realtime");
        assert_eq!(labels[labels::ENTRYPOINT], "bot");
        assert_eq!(labels[labels::CONFIG_HASH], bot.config_hash());
        assert_eq!(labels[labels::QUERY_PORT], "40001");
        let host = body.host_config.as_ref().unwrap();
        assert_eq!(host.readonly_rootfs, Some(true));
        assert_eq!(host.cap_drop.as_deref(), Some(&["ALL".to_owned()][..]));
        assert_eq!(
            host.security_opt.as_deref(),
            Some(&["no-new-privileges".to_owned()][..])
        );
        assert_eq!(host.memory, Some(256 * 1024 * 1024));
        assert_eq!(host.pids_limit, Some(1024));
        assert_eq!(host.network_mode.as_deref(), Some("host"));
        assert_eq!(body.user.as_deref(), Some("1000:1000"));
        for dir in ["/bot", "/state", "/var/the0", "/query", "/tmp"] {
            assert!(host.tmpfs.as_ref().unwrap().contains_key(dir), "{dir}");
        }
        assert_eq!(
            body.cmd.as_deref(),
            Some(&["/app/runtime".to_owned(), "execute".to_owned()][..])
        );
    }

    #[test]
    fn published_addressing_binds_the_query_port_on_the_chosen_ip_only() {
        let bot = realtime("b1");
        let body = container_body(
            &settings(Addressing::Published {
                network: "the0".into(),
                publish_ip: "127.0.0.1".into(),
            }),
            &ContainerPlan {
                role: Role::Bot,
                bot: Some(&bot),
                host_port: None,
                token: None,
            },
        );
        let host = body.host_config.as_ref().unwrap();
        assert_eq!(host.network_mode.as_deref(), Some("the0"));
        let binding = &host.port_bindings.as_ref().unwrap()["9476/tcp"].as_ref().unwrap()[0];
        assert_eq!(binding.host_ip.as_deref(), Some("127.0.0.1"));
        assert_eq!(binding.host_port.as_deref(), Some(""), "Docker picks the port");
        assert!(!env_of(&body).contains_key("THE0_AGENT_QUERY_ADDR"));
    }

    #[test]
    fn a_scheduled_run_and_a_standby_container() {
        let bot = scheduled("s1", "* * * * *");
        let run = container_body(
            &settings(Addressing::HostNetwork),
            &ContainerPlan {
                role: Role::Run,
                bot: Some(&bot),
                host_port: None,
                token: None,
            },
        );
        let env = env_of(&run);
        assert_eq!(env["IS_SCHEDULED"], "true");
        assert_eq!(env["BOT_TYPE"], "scheduled");
        assert_eq!(run.labels.as_ref().unwrap()[labels::ROLE], "run");

        let standby = container_body(
            &settings(Addressing::HostNetwork),
            &ContainerPlan {
                role: Role::Standby,
                bot: None,
                host_port: Some(40002),
                token: Some("secret"),
            },
        );
        let env = env_of(&standby);
        assert_eq!(env["THE0_STANDBY_ADDR"], "127.0.0.1:40002");
        assert_eq!(env["THE0_STANDBY_TOKEN"], "secret");
        assert!(!env.contains_key("BOT_ID"));
        assert_eq!(
            standby.cmd.as_deref(),
            Some(&["/app/runtime".to_owned(), "standby".to_owned()][..])
        );
        assert_eq!(standby.labels.as_ref().unwrap()[labels::TYPE], "query");
    }
}
