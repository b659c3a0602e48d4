//! A bot as the orchestrators want it: one [`BotSpec`] per bot, whatever the source (a spec
//! file, or upstream's MongoDB documents). Everything downstream — containers, schedules, the
//! gateway — reads only this type.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// What went wrong with a bot's description; the message names the bot and the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bot {bot:?}: {problem}")]
pub struct SpecError {
    pub bot: String,
    pub problem: String,
}

impl SpecError {
    pub fn new(bot: &str, problem: impl Into<String>) -> SpecError {
        SpecError {
            bot: bot.to_owned(),
            problem: problem.into(),
        }
    }
}

/// How a bot runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum BotKind {
    /// A long-running container, restarted when it exits.
    Realtime,
    /// One container per cron tick.
    Scheduled(Schedule),
}

/// A cron schedule: 5 fields, 6 fields (seconds first), or a descriptor like `@daily`, in a time
/// zone (IANA name; UTC when absent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    pub schedule: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// Longest a run may take before it is stopped (seconds; the orchestrator's default when
    /// absent). Upstream waits forever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_secs: Option<u64>,
}

/// The files a bot runs: the bot itself and, optionally, its query handler.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entrypoints {
    pub bot: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
}

/// Container resources; the orchestrator's defaults apply to what is absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resources {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_mb: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_shares: Option<i64>,
}

/// One bot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BotSpec {
    pub id: String,
    /// Object key of the code archive in the code bucket (`CODE_FILE`).
    pub code: String,
    /// The custom bot's version; a new version restarts the bot even when the key is the same.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version: String,
    /// Runtime id (`python3.11`, `rust-stable`, ...).
    pub runtime: String,
    pub entrypoints: Entrypoints,
    #[serde(flatten)]
    pub kind: BotKind,
    /// The bot's configuration (`BOT_CONFIG`).
    #[serde(default)]
    pub config: Map<String, Value>,
    #[serde(default, skip_serializing_if = "is_default")]
    pub resources: Resources,
    /// A disabled bot is not run (its containers are stopped) but can still be queried.
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
}

fn enabled_by_default() -> bool {
    true
}

fn is_default(resources: &Resources) -> bool {
    *resources == Resources::default()
}

/// Runtime ids upstream's universal image supports (contract §11).
pub const RUNTIMES: &[&str] = &[
    "python3.11",
    "nodejs20",
    "rust-stable",
    "dotnet8",
    "gcc13",
    "cpp-gcc13",
    "scala3",
    "ghc96",
];

impl BotSpec {
    /// Checks what the container would otherwise fail on later, with a message naming the field.
    pub fn validate(&self) -> Result<(), SpecError> {
        check_id(&self.id)?;
        let fail = |problem: String| Err(SpecError::new(&self.id, problem));
        if !RUNTIMES.contains(&self.runtime.as_str()) {
            return fail(format!(
                "runtime {:?} is not one of {}",
                self.runtime,
                RUNTIMES.join(", ")
            ));
        }
        if self.code.is_empty() {
            return fail("code (the object key of the code archive) is empty".into());
        }
        if !self
            .code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/_.-".contains(c))
        {
            return fail(format!(
                "code {:?} may hold only letters, digits and / _ . -",
                self.code
            ));
        }
        check_entrypoint(&self.id, "entrypoints.bot", &self.entrypoints.bot)?;
        if let Some(query) = &self.entrypoints.query {
            check_entrypoint(&self.id, "entrypoints.query", query)?;
        }
        if let BotKind::Scheduled(schedule) = &self.kind {
            crate::scheduler::Cron::parse(schedule)
                .map_err(|e| SpecError::new(&self.id, format!("schedule: {e}")))?;
        }
        Ok(())
    }

    pub fn is_realtime(&self) -> bool {
        self.kind == BotKind::Realtime
    }

    /// `realtime` or `scheduled` (the `runtime.type` label, `BOT_TYPE`).
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            BotKind::Realtime => "realtime",
            BotKind::Scheduled(_) => "scheduled",
        }
    }

    /// `BOT_CONFIG`: the configuration as compact JSON.
    pub fn config_json(&self) -> String {
        Value::Object(self.config.clone()).to_string()
    }

    /// A digest of everything that shapes the container: a change replaces it. Upstream hashed
    /// only the config map, so a new version or code key never restarted a bot (§12.14).
    pub fn config_hash(&self) -> String {
        let shaping = serde_json::json!({
            "code": self.code,
            "version": self.version,
            "runtime": self.runtime,
            "entrypoints": self.entrypoints,
            "type": self.kind,
            "config": sorted(&Value::Object(self.config.clone())),
            "resources": self.resources,
        });
        let digest = Sha256::digest(shaping.to_string().as_bytes());
        digest[..8].iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// A JSON value with object keys sorted, so the hash does not depend on key order.
pub(crate) fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), sorted(v)))
                .collect::<BTreeMap<_, _>>()
                .into_iter()
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// Bot ids become label values, object-key prefixes and NATS subject parts: letters, digits and
/// `_ . -`, at most 128 bytes, not starting with `.` or `-`.
pub fn check_id(id: &str) -> Result<(), SpecError> {
    let ok = !id.is_empty()
        && id.len() <= 128
        && !id.starts_with(['.', '-'])
        && id.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    match ok {
        true => Ok(()),
        false => Err(SpecError::new(
            id,
            "the id must be 1-128 letters, digits, '_', '.' or '-', not starting with '.' or '-'",
        )),
    }
}

/// An entrypoint is a relative path inside the code directory (upstream never checked, §12.21).
fn check_entrypoint(bot: &str, field: &str, entry: &str) -> Result<(), SpecError> {
    let bad = entry.is_empty()
        || entry.starts_with('/')
        || entry.split(['/', '\\']).any(|part| part == "..")
        || entry.chars().any(char::is_control);
    match bad {
        true => Err(SpecError::new(
            bot,
            format!("{field} {entry:?} must be a relative path inside the code, without '..'"),
        )),
        false => Ok(()),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn realtime(id: &str) -> BotSpec {
        BotSpec {
            id: id.to_owned(),
            code: format!("user/{id}/1.0.0"),
            version: "1.0.0".into(),
            runtime: "rust-stable".into(),
            entrypoints: Entrypoints {
                bot: "bot".into(),
                query: Some("query".into()),
            },
            kind: BotKind::Realtime,
            config: Map::new(),
            resources: Resources::default(),
            enabled: true,
        }
    }

    pub fn scheduled(id: &str, cron: &str) -> BotSpec {
        BotSpec {
            kind: BotKind::Scheduled(Schedule {
                schedule: cron.into(),
                timezone: None,
                timeout_secs: None,
            }),
            ..realtime(id)
        }
    }

    #[test]
    fn a_spec_file_reads_in_yaml_and_json() {
        let yaml = "id: sma\ncode: u/sma/1.0.0\nruntime: rust-stable\ntype: scheduled\nschedule: '*/5 * * * *'\ntimezone: Europe/London\nentrypoints: {bot: sma-bot, query: query}\nconfig: {symbol: BTC}\n";
        let spec: BotSpec = serde_yaml::from_str(yaml).unwrap();
        assert_eq!(spec.entrypoints.query.as_deref(), Some("query"));
        assert!(spec.enabled);
        assert_eq!(
            spec.kind,
            BotKind::Scheduled(Schedule {
                schedule: "*/5 * * * *".into(),
                timezone: Some("Europe/London".into()),
                timeout_secs: None
            })
        );
        spec.validate().unwrap();
        let again: BotSpec = serde_json::from_str(&serde_json::to_string(&spec).unwrap()).unwrap();
        assert_eq!(again, spec);
    }

    #[test]
    fn the_hash_follows_what_shapes_the_container_and_not_key_order() {
        let mut a = realtime("a");
        a.config.insert("x".into(), 1.into());
        a.config.insert("y".into(), 2.into());
        let mut b = realtime("a");
        b.config.insert("y".into(), 2.into());
        b.config.insert("x".into(), 1.into());
        assert_eq!(a.config_hash(), b.config_hash());
        assert_eq!(a.config_hash().len(), 16);
        let mut newer = a.clone();
        newer.version = "1.0.1".into();
        assert_ne!(
            newer.config_hash(),
            a.config_hash(),
            "a new version restarts the bot"
        );
        let mut disabled = a.clone();
        disabled.enabled = false;
        assert_eq!(disabled.config_hash(), a.config_hash());
    }

    #[test]
    fn bad_specs_are_refused_naming_the_field() {
        let mut spec = realtime("ok");
        spec.runtime = "python311".into();
        assert!(
            spec.validate()
                .unwrap_err()
                .to_string()
                .contains("runtime \"python311\"")
        );
        let mut spec = realtime("ok");
        spec.entrypoints.bot = "../etc/passwd".into();
        assert!(
            spec.validate()
                .unwrap_err()
                .to_string()
                .contains("entrypoints.bot")
        );
        let mut spec = scheduled("ok", "not a cron");
        assert!(spec.validate().unwrap_err().to_string().contains("schedule"));
        spec = realtime("bad id");
        assert!(
            spec.validate()
                .unwrap_err()
                .to_string()
                .contains("the id must be")
        );
        assert!(check_id("-x").is_err());
        assert!(check_id("abc-1_2.3").is_ok());
    }
}
