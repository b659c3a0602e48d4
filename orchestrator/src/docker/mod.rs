//! Docker mode's engine: the Docker Engine API through bollard, with the API version negotiated
//! (Debian's docker.io 20.10 speaks 1.41). Everything Docker-specific lives here; the rules live
//! in [`crate::reconcile`], [`crate::scheduler`] and [`crate::gateway`].

pub mod container;
pub mod pool;
pub mod runner;

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bollard::Docker;
use bollard::container::LogOutput;
use bollard::models::{ContainerSummary, ContainerSummaryStateEnum};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, EventsOptionsBuilder, ListContainersOptionsBuilder, LogsOptionsBuilder,
    RemoveContainerOptionsBuilder, StopContainerOptionsBuilder, WaitContainerOptionsBuilder,
};
use futures_util::StreamExt;

pub use container::{Addressing, ContainerSettings, Role};
use container::{ContainerPlan, QUERY_PORT, container_body, labels};

use crate::reconcile::Observed;
use crate::spec::BotSpec;

/// A Docker call failed.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("Docker: {0}")]
    Docker(#[from] bollard::errors::Error),
    #[error("the image {image:?} is not in Docker: build it first (make images), or pass --image")]
    NoImage { image: String },
    #[error("container {container} has no published query port")]
    NoPort { container: String },
    #[error("no free loopback port: {0}")]
    NoFreePort(std::io::Error),
}

/// A started container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    pub container: String,
    /// Where its query port answers (not for scheduled runs).
    pub query_addr: Option<SocketAddr>,
}

/// How a scheduled run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunOutcome {
    Exited { code: i64, last_lines: String },
    TimedOut { last_lines: String },
}

/// The Docker engine, scoped to one orchestrator instance: it lists, stops and removes only
/// containers labelled with that instance.
#[derive(Clone)]
pub struct DockerEngine {
    docker: Docker,
    settings: ContainerSettings,
}

impl DockerEngine {
    /// Connects to the local daemon (`DOCKER_HOST` or the default socket), negotiates the API
    /// version and checks the image is present.
    pub async fn connect(settings: ContainerSettings) -> Result<DockerEngine, EngineError> {
        let docker = Docker::connect_with_local_defaults()?.negotiate_version().await?;
        match docker.inspect_image(&settings.image).await {
            Ok(_) => {}
            Err(bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }) => {
                return Err(EngineError::NoImage {
                    image: settings.image.clone(),
                });
            }
            Err(e) => return Err(e.into()),
        }
        Ok(DockerEngine { docker, settings })
    }

    pub fn settings(&self) -> &ContainerSettings {
        &self.settings
    }

    /// Answers when the daemon does (readiness).
    pub async fn ping(&self) -> bool {
        self.docker.ping().await.is_ok()
    }

    fn filters(&self, role: Option<Role>, bot_id: Option<&str>) -> HashMap<String, Vec<String>> {
        let mut wanted = vec![
            format!("{}=true", labels::MANAGED),
            format!("{}={}", labels::INSTANCE, self.settings.instance),
        ];
        if let Some(role) = role {
            wanted.push(format!("{}={}", labels::ROLE, role.as_str()));
        }
        if let Some(bot) = bot_id {
            wanted.push(format!("{}={bot}", labels::BOT_ID));
        }
        HashMap::from([("label".to_owned(), wanted)])
    }

    async fn list(
        &self,
        role: Option<Role>,
        bot_id: Option<&str>,
        all: bool,
    ) -> Result<Vec<ContainerSummary>, EngineError> {
        let options = ListContainersOptionsBuilder::default()
            .all(all)
            .filters(&self.filters(role, bot_id))
            .build();
        Ok(self.docker.list_containers(Some(options)).await?)
    }

    /// This instance's realtime bot containers, running or not.
    pub async fn observe_bots(&self) -> Result<Vec<Observed>, EngineError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs() as i64;
        Ok(self
            .list(Some(Role::Bot), None, true)
            .await?
            .into_iter()
            .filter_map(|summary| {
                let labels = summary.labels.as_ref()?;
                let running = matches!(
                    summary.state,
                    Some(ContainerSummaryStateEnum::RUNNING | ContainerSummaryStateEnum::RESTARTING)
                );
                Some(Observed {
                    container: summary.id.clone()?,
                    bot_id: labels.get(labels::BOT_ID)?.clone(),
                    config_hash: labels.get(labels::CONFIG_HASH).cloned().unwrap_or_default(),
                    running,
                    exit_code: summary.status.as_deref().and_then(exit_code_of),
                    age: Duration::from_secs((now - summary.created.unwrap_or(now)).max(0) as u64),
                })
            })
            .collect())
    }

    /// Sends `()` on `exits` whenever a realtime bot container of this instance dies, so the
    /// reconciler reacts to a crash at once instead of at its next tick. Reconnects with a
    /// pause when the event stream ends.
    pub fn watch_exits(&self, exits: tokio::sync::mpsc::UnboundedSender<()>) {
        let docker = self.docker.clone();
        let filters = HashMap::from([
            ("type".to_owned(), vec!["container".to_owned()]),
            ("event".to_owned(), vec!["die".to_owned()]),
            (
                "label".to_owned(),
                vec![
                    format!("{}={}", labels::INSTANCE, self.settings.instance),
                    format!("{}={}", labels::ROLE, Role::Bot.as_str()),
                ],
            ),
        ]);
        tokio::spawn(async move {
            loop {
                let options = EventsOptionsBuilder::default().filters(&filters).build();
                let mut events = docker.events(Some(options));
                while let Some(event) = events.next().await {
                    if event.is_err() || exits.send(()).is_err() {
                        break;
                    }
                }
                if exits.is_closed() {
                    return;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
    }

    /// Every container of this instance (for shutdown and tests).
    pub async fn containers(&self, role: Option<Role>) -> Result<Vec<String>, EngineError> {
        Ok(self
            .list(role, None, true)
            .await?
            .into_iter()
            .filter_map(|s| s.id)
            .collect())
    }

    /// Creates and starts a container; a container that fails to start is removed.
    pub async fn start(
        &self,
        role: Role,
        bot: Option<&BotSpec>,
        token: Option<&str>,
    ) -> Result<Started, EngineError> {
        let host_port = match (&self.settings.addressing, role) {
            (Addressing::HostNetwork, Role::Bot | Role::Standby) => Some(free_loopback_port()?),
            _ => None,
        };
        let body = container_body(
            &self.settings,
            &ContainerPlan {
                role,
                bot,
                host_port,
                token,
            },
        );
        let name = format!(
            "the0-{}-{}-{}-{:08x}",
            self.settings.instance,
            role.as_str(),
            bot.map_or("pool", |b| b.id.as_str()),
            rand::random::<u32>()
        );
        let options = CreateContainerOptionsBuilder::default().name(&name).build();
        let created = self.docker.create_container(Some(options), body).await?;
        if let Err(e) = self.docker.start_container(&created.id, None).await {
            self.remove(&created.id).await;
            return Err(e.into());
        }
        let query_addr = match (host_port, role) {
            (Some(port), _) => Some(SocketAddr::from((Ipv4Addr::LOCALHOST, port))),
            (None, Role::Run) => None,
            (None, _) => Some(self.published_addr(&created.id).await?),
        };
        Ok(Started {
            container: created.id,
            query_addr,
        })
    }

    /// The published address of a container's query port (published addressing).
    async fn published_addr(&self, container: &str) -> Result<SocketAddr, EngineError> {
        let inspect = self.docker.inspect_container(container, None).await?;
        let no_port = || EngineError::NoPort {
            container: container.to_owned(),
        };
        let binding = inspect
            .network_settings
            .and_then(|n| n.ports)
            .and_then(|ports| ports.get(&format!("{QUERY_PORT}/tcp")).cloned().flatten())
            .and_then(|bindings| bindings.into_iter().next())
            .ok_or_else(no_port)?;
        let port: u16 = binding
            .host_port
            .and_then(|p| p.parse().ok())
            .ok_or_else(no_port)?;
        let ip = binding
            .host_ip
            .filter(|ip| !ip.is_empty() && ip != "0.0.0.0")
            .and_then(|ip| ip.parse().ok())
            .unwrap_or(Ipv4Addr::LOCALHOST.into());
        Ok(SocketAddr::new(ip, port))
    }

    /// Where the running realtime container of `bot_id` answers queries.
    pub async fn realtime_addr(&self, bot_id: &str) -> Result<Option<SocketAddr>, EngineError> {
        let running = self.list(Some(Role::Bot), Some(bot_id), false).await?;
        let Some(summary) = running.into_iter().next() else {
            return Ok(None);
        };
        let labels = summary.labels.clone().unwrap_or_default();
        if let Some(port) = labels.get(labels::QUERY_PORT).and_then(|p| p.parse::<u16>().ok()) {
            return Ok(Some(SocketAddr::from((Ipv4Addr::LOCALHOST, port))));
        }
        let published = summary
            .ports
            .unwrap_or_default()
            .into_iter()
            .find(|p| p.private_port == QUERY_PORT && p.public_port.is_some());
        Ok(published.map(|p| {
            let ip =
                p.ip.filter(|ip| ip != "0.0.0.0")
                    .and_then(|ip| ip.parse().ok())
                    .unwrap_or(Ipv4Addr::LOCALHOST.into());
            SocketAddr::new(ip, p.public_port.unwrap_or_default())
        }))
    }

    /// Stops a container (SIGTERM, then SIGKILL after `grace`) and removes it.
    pub async fn stop(&self, container: &str, grace: Duration) -> Result<(), EngineError> {
        let options = StopContainerOptionsBuilder::default()
            .t(grace.as_secs().clamp(1, i32::MAX as u64) as i32)
            .build();
        match self.docker.stop_container(container, Some(options)).await {
            Ok(())
            | Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 304 | 404,
                ..
            }) => {}
            Err(e) => return Err(e.into()),
        }
        self.remove(container).await;
        Ok(())
    }

    /// Removes a container, running or not; a missing one is fine.
    pub async fn remove(&self, container: &str) {
        let options = RemoveContainerOptionsBuilder::default().force(true).build();
        if let Err(e) = self.docker.remove_container(container, Some(options)).await
            && !matches!(
                e,
                bollard::errors::Error::DockerResponseServerError {
                    status_code: 404 | 409,
                    ..
                }
            )
        {
            tracing::warn!(container, error = %e, "cannot remove the container");
        }
    }

    /// The last `lines` lines of a container's output.
    pub async fn last_lines(&self, container: &str, lines: usize) -> String {
        let options = LogsOptionsBuilder::default()
            .stdout(true)
            .stderr(true)
            .tail(&lines.to_string())
            .build();
        let mut stream = self.docker.logs(container, Some(options));
        let mut text = String::new();
        while let Some(Ok(chunk)) = stream.next().await {
            match chunk {
                LogOutput::StdOut { message }
                | LogOutput::StdErr { message }
                | LogOutput::Console { message } => {
                    text.push_str(&String::from_utf8_lossy(&message));
                }
                LogOutput::StdIn { .. } => {}
            }
        }
        text.trim_end().to_owned()
    }

    /// Waits until `container` exits, at most `limit`; its exit code, or `None` on timeout.
    pub async fn wait(&self, container: &str, limit: Duration) -> Result<Option<i64>, EngineError> {
        let options = WaitContainerOptionsBuilder::default()
            .condition("not-running")
            .build();
        let mut stream = self.docker.wait_container(container, Some(options));
        match tokio::time::timeout(limit, stream.next()).await {
            Err(_) => Ok(None),
            Ok(None) => Ok(Some(-1)),
            Ok(Some(Ok(response))) => Ok(Some(response.status_code)),
            Ok(Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. }))) => Ok(Some(code)),
            Ok(Some(Err(e))) => Err(e.into()),
        }
    }

    /// One run of a scheduled bot: start, wait at most `limit` (then stop it: upstream waited
    /// forever, §12.15), collect its last lines, remove it.
    pub async fn run_to_completion(
        &self,
        bot: &BotSpec,
        limit: Duration,
        grace: Duration,
    ) -> Result<RunOutcome, EngineError> {
        let started = self.start(Role::Run, Some(bot), None).await?;
        let container = started.container;
        let waited = self.wait(&container, limit).await;
        let outcome = match waited {
            Ok(Some(code)) => RunOutcome::Exited {
                code,
                last_lines: self.last_lines(&container, 20).await,
            },
            Ok(None) => {
                let last_lines = self.last_lines(&container, 20).await;
                let _ = self.stop(&container, grace).await;
                RunOutcome::TimedOut { last_lines }
            }
            Err(e) => {
                self.remove(&container).await;
                return Err(e);
            }
        };
        self.remove(&container).await;
        Ok(outcome)
    }
}

/// A loopback port nobody listens on now (the container binds it a moment later).
fn free_loopback_port() -> Result<u16, EngineError> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(EngineError::NoFreePort)
}

/// The exit code in a container status line like `Exited (3) 2 seconds ago`.
fn exit_code_of(status: &str) -> Option<i64> {
    let rest = status.strip_prefix("Exited (")?;
    rest.split(')').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_from_status_lines() {
        assert_eq!(exit_code_of("Exited (3) 2 seconds ago"), Some(3));
        assert_eq!(exit_code_of("Exited (137) About a minute ago"), Some(137));
        assert_eq!(exit_code_of("Up 5 seconds"), None);
        assert_eq!(exit_code_of("Created"), None);
    }
}
