//! The drop-in desired-state source: upstream's MongoDB collections, fed by upstream's NATS
//! subjects (contract §9).
//!
//! - `bot_runner.bots`: realtime bots; `bot_scheduler.bot_schedules`: scheduled bots with their
//!   `next_execution_time` (Unix seconds). Document fields as upstream: `id`, `config` (the bot's
//!   configuration, with `enabled` and, for schedules, `schedule`), `custom` (`version`,
//!   `filePath`, `config.runtime`, `config.entrypoints`), optional top-level `enabled`.
//! - `the0.bot.{created,updated,deleted}` and `the0.bot-schedule.{created,updated,deleted}`
//!   (queue group `runtime`, so several orchestrators share the work as upstream's services did):
//!   each event is written to its collection as upstream's subscribers did, and then triggers
//!   an immediate reconcile, which upstream never did (it waited for its next poll).
//!
//! Message bodies are never logged: bot configurations may hold exchange keys (§12.19).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use futures_util::{StreamExt, TryStreamExt};
use mongodb::bson::{Bson, Document, doc};
use mongodb::{Client, Collection};
use serde_json::{Map, Value};
use tokio::sync::watch;

use super::{ChangeSignal, DesiredState, Snapshot, SourceError};
use crate::scheduler::Cron;
use crate::spec::{BotKind, BotSpec, Entrypoints, Resources, Schedule, SpecError};

/// Where upstream keeps its bots.
#[derive(Debug, Clone)]
pub struct MongoSettings {
    pub uri: String,
    pub nats_url: Option<String>,
}

/// The two collections and the NATS connection that keeps them current.
pub struct MongoSource {
    bots: Collection<Document>,
    schedules: Collection<Document>,
    changes: ChangeSignal,
}

fn mongo_error(e: impl std::fmt::Display) -> SourceError {
    SourceError::Mongo(e.to_string())
}

impl MongoSource {
    /// Connects to MongoDB (and checks it answers) and, with a NATS URL, subscribes to the
    /// bot events.
    pub async fn connect(settings: &MongoSettings) -> Result<Arc<MongoSource>, SourceError> {
        let client = Client::with_uri_str(&settings.uri).await.map_err(mongo_error)?;
        client
            .database("admin")
            .run_command(doc! {"ping": 1})
            .await
            .map_err(mongo_error)?;
        let source = Arc::new(MongoSource {
            bots: client.database("bot_runner").collection("bots"),
            schedules: client.database("bot_scheduler").collection("bot_schedules"),
            changes: ChangeSignal::default(),
        });
        if let Some(url) = &settings.nats_url {
            let nats = async_nats::connect(url)
                .await
                .map_err(|e| SourceError::Refused(format!("NATS {url}: {e}")))?;
            for subject in ["the0.bot.*", "the0.bot-schedule.*"] {
                let subscriber = nats
                    .queue_subscribe(subject, "runtime".to_owned())
                    .await
                    .map_err(|e| SourceError::Refused(format!("NATS subscribe {subject}: {e}")))?;
                tokio::spawn(Arc::clone(&source).consume(subscriber));
            }
            // Subscriptions are registered once the server has seen them.
            nats.flush()
                .await
                .map_err(|e| SourceError::Refused(format!("NATS {url}: {e}")))?;
        }
        Ok(source)
    }

    async fn consume(self: Arc<Self>, mut subscriber: async_nats::Subscriber) {
        while let Some(message) = subscriber.next().await {
            let subject = message.subject.to_string();
            match self.apply_event(&subject, &message.payload).await {
                Ok(id) => tracing::info!(subject, bot_id = id, "bot event applied"),
                Err(e) => tracing::warn!(subject, error = %e, "bot event refused"),
            }
            self.changes.bump();
        }
    }

    /// Writes one event to its collection; returns the bot id.
    pub async fn apply_event(&self, subject: &str, payload: &[u8]) -> Result<String, SourceError> {
        let (collection, scheduled) = match subject.rsplit_once('.') {
            Some(("the0.bot", _)) => (&self.bots, false),
            Some(("the0.bot-schedule", _)) => (&self.schedules, true),
            _ => return Err(SourceError::Refused(format!("unknown subject {subject}"))),
        };
        let verb = subject.rsplit('.').next().unwrap_or_default();
        let message = parse_event(payload)?;
        let id = message
            .get("id")
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty())
            .ok_or_else(|| SourceError::Refused("the event names no bot id".into()))?
            .to_owned();
        match verb {
            "deleted" => {
                collection
                    .delete_one(doc! {"id": &id})
                    .await
                    .map_err(mongo_error)?;
            }
            "created" | "updated" => {
                let mut fields = Document::new();
                fields.insert("id", &id);
                for key in ["config", "custom"] {
                    let value = message.get(key).cloned().unwrap_or(Value::Object(Map::new()));
                    fields.insert(key, Bson::try_from(value).map_err(mongo_error)?);
                }
                if scheduled {
                    let spec = to_spec(&fields_json(&fields), true)
                        .map_err(|e| SourceError::Refused(e.to_string()))?;
                    if let BotKind::Scheduled(schedule) = &spec.kind {
                        let cron = Cron::parse(schedule).map_err(SourceError::Refused)?;
                        if let Some(next) = cron.next_after(Utc::now()) {
                            fields.insert("next_execution_time", next.timestamp());
                        }
                    }
                }
                collection
                    .update_one(doc! {"id": &id}, doc! {"$set": fields})
                    .upsert(true)
                    .await
                    .map_err(mongo_error)?;
            }
            other => return Err(SourceError::Refused(format!("unknown event {other:?}"))),
        }
        Ok(id)
    }

    async fn read(
        &self,
        collection: &Collection<Document>,
        scheduled: bool,
        into: &mut Snapshot,
    ) -> Result<(), SourceError> {
        let documents: Vec<Document> = collection
            .find(doc! {})
            .await
            .map_err(mongo_error)?
            .try_collect()
            .await
            .map_err(mongo_error)?;
        for document in documents {
            let json = fields_json(&document);
            match to_spec(&json, scheduled) {
                Ok(spec) => {
                    if let Some(next) = json
                        .get("next_execution_time")
                        .and_then(Value::as_i64)
                        .and_then(|secs| DateTime::from_timestamp(secs, 0))
                    {
                        into.next_runs.insert(spec.id.clone(), next);
                    }
                    into.bots.push(spec);
                }
                Err(e) => into.rejected.push(e),
            }
        }
        Ok(())
    }
}

/// A document as relaxed extended JSON (numbers as numbers), `_id` as a string.
fn fields_json(document: &Document) -> Map<String, Value> {
    match Bson::Document(document.clone()).into_relaxed_extjson() {
        Value::Object(mut map) => {
            if let Some(Bson::ObjectId(oid)) = document.get("_id") {
                map.insert("_id".into(), oid.to_hex().into());
            }
            map
        }
        _ => Map::new(),
    }
}

/// An event body: upstream's API sends `{id, config, custom}`, older ones wrap it as
/// `{type, entity_id, data: {...}}`.
fn parse_event(payload: &[u8]) -> Result<Map<String, Value>, SourceError> {
    let value: Value = serde_json::from_slice(payload)
        .map_err(|e| SourceError::Refused(format!("the event is not JSON: {e}")))?;
    let direct = value
        .get("id")
        .and_then(Value::as_str)
        .is_some_and(|id| !id.is_empty());
    let body = if direct { Some(&value) } else { value.get("data") };
    body.and_then(Value::as_object)
        .cloned()
        .ok_or_else(|| SourceError::Refused("the event holds no bot".into()))
}

/// Upstream's `IsEnabled`: absent means enabled; false, "false", "0" and numeric zero disable.
fn is_enabled(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s != "false" && s != "0",
        Some(Value::Number(n)) => n.as_f64() != Some(0.0),
        _ => true,
    }
}

/// One upstream document as a [`BotSpec`].
fn to_spec(document: &Map<String, Value>, scheduled: bool) -> Result<BotSpec, SpecError> {
    let text = |value: Option<&Value>| value.and_then(Value::as_str).unwrap_or_default().to_owned();
    let id = match document.get("id").and_then(Value::as_str) {
        Some(id) if !id.is_empty() => id.to_owned(),
        _ => text(document.get("_id")),
    };
    let config = document
        .get("config")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let custom = document.get("custom").cloned().unwrap_or(Value::Null);
    let custom_config = custom.get("config").cloned().unwrap_or(Value::Null);
    let entrypoints = custom_config.get("entrypoints").cloned().unwrap_or(Value::Null);
    let kind = if scheduled {
        BotKind::Scheduled(Schedule {
            schedule: text(config.get("schedule")),
            timezone: config.get("timezone").and_then(Value::as_str).map(str::to_owned),
            timeout_secs: None,
        })
    } else {
        BotKind::Realtime
    };
    let runtime = match text(custom_config.get("runtime")) {
        empty if empty.is_empty() => "python3.11".to_owned(),
        runtime => runtime,
    };
    let spec = BotSpec {
        enabled: document.get("enabled") != Some(&Value::Bool(false)) && is_enabled(config.get("enabled")),
        id,
        code: text(custom.get("filePath")),
        version: text(custom.get("version")),
        runtime,
        entrypoints: Entrypoints {
            bot: text(entrypoints.get("bot")),
            query: entrypoints
                .get("query")
                .and_then(Value::as_str)
                .filter(|q| !q.is_empty())
                .map(str::to_owned),
        },
        kind,
        config,
        resources: Resources::default(),
    };
    spec.validate()?;
    Ok(spec)
}

impl DesiredState for MongoSource {
    fn snapshot(&self) -> BoxFuture<'_, Result<Snapshot, SourceError>> {
        Box::pin(async move {
            let mut snapshot = Snapshot::default();
            self.read(&self.bots, false, &mut snapshot).await?;
            self.read(&self.schedules, true, &mut snapshot).await?;
            Ok(snapshot)
        })
    }

    fn changes(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    fn record_next_run(&self, bot_id: &str, at: DateTime<Utc>) -> BoxFuture<'_, Result<(), SourceError>> {
        let bot_id = bot_id.to_owned();
        Box::pin(async move {
            self.schedules
                .update_one(
                    doc! {"id": bot_id},
                    doc! {"$set": {"next_execution_time": at.timestamp()}},
                )
                .await
                .map_err(mongo_error)?;
            Ok(())
        })
    }

    fn put(&self, _spec: BotSpec) -> BoxFuture<'_, Result<(), SourceError>> {
        Box::pin(async {
            Err(SourceError::Refused(
                "bots come from MongoDB and NATS here: change them through the0's API".into(),
            ))
        })
    }

    fn delete(&self, _id: &str) -> BoxFuture<'_, Result<bool, SourceError>> {
        Box::pin(async {
            Err(SourceError::Refused(
                "bots come from MongoDB and NATS here: change them through the0's API".into(),
            ))
        })
    }

    fn describe(&self) -> String {
        "mongodb bot_runner.bots + bot_scheduler.bot_schedules".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn document(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn upstream_documents_become_specs() {
        let bot = document(json!({
            "_id": "ignored", "id": "b1", "segment_id": 3,
            "config": {"symbol": "AAPL", "enabled": true},
            "custom": {"version": "1.2.0", "filePath": "u/sma/1.2.0",
                       "config": {"runtime": "nodejs20", "entrypoints": {"bot": "main.js", "query": "query.js"}}}
        }));
        let spec = to_spec(&bot, false).unwrap();
        assert_eq!(spec.id, "b1");
        assert_eq!(spec.code, "u/sma/1.2.0");
        assert_eq!(spec.runtime, "nodejs20");
        assert_eq!(spec.entrypoints.query.as_deref(), Some("query.js"));
        assert!(spec.enabled && spec.is_realtime());

        let schedule = document(json!({
            "id": "s1", "config": {"schedule": "0 9 * * 1-5", "timezone": "Europe/London"},
            "custom": {"filePath": "k", "config": {"entrypoints": {"bot": "main.py"}}}
        }));
        let spec = to_spec(&schedule, true).unwrap();
        assert_eq!(spec.runtime, "python3.11", "upstream's default runtime");
        assert!(
            matches!(&spec.kind, BotKind::Scheduled(s) if s.timezone.as_deref() == Some("Europe/London"))
        );

        let bad = document(
            json!({"id": "s2", "config": {"schedule": "nope"}, "custom": {"filePath": "k", "config": {"entrypoints": {"bot": "m.py"}}}}),
        );
        assert!(to_spec(&bad, true).unwrap_err().to_string().contains("schedule"));
    }

    #[test]
    fn enabled_rules_are_upstreams() {
        for (value, enabled) in [
            (None, true),
            (Some(json!(false)), false),
            (Some(json!("false")), false),
            (Some(json!("0")), false),
            (Some(json!(0)), false),
            (Some(json!(0.0)), false),
            (Some(json!("yes")), true),
            (Some(json!(1)), true),
            (Some(json!(null)), true),
        ] {
            assert_eq!(is_enabled(value.as_ref()), enabled, "{value:?}");
        }
        let top_level_off = document(json!({
            "id": "b", "enabled": false, "config": {},
            "custom": {"filePath": "k", "config": {"entrypoints": {"bot": "m.py"}}}
        }));
        assert!(!to_spec(&top_level_off, false).unwrap().enabled);
    }

    #[test]
    fn events_come_direct_or_wrapped() {
        let direct = parse_event(br#"{"id":"b1","config":{}}"#).unwrap();
        assert_eq!(direct["id"], "b1");
        let wrapped =
            parse_event(br#"{"type":"bot.created","entity_id":"b2","data":{"id":"b2","config":{}}}"#)
                .unwrap();
        assert_eq!(wrapped["id"], "b2");
        assert!(parse_event(b"not json").is_err());
        assert!(parse_event(br#"{"type":"x"}"#).is_err());
    }
}
