//! The drop-in for upstream deployments: bots from upstream's MongoDB collections (on a real
//! MongoDB-wire server, FerretDB), kept current by upstream's NATS subjects (a real
//! nats-server), where an event triggers an immediate reconcile.

mod common;

use std::future::IntoFuture;
use std::process::Command;
use std::time::Duration;

use common::*;
use mongodb::bson::{Document, doc};
use serde_json::json;

const CODE_KEY: &str = "u1/testbot/1.0.0";

/// A FerretDB server (SQLite backend) on a port it picked.
struct Ferret {
    uri: String,
    _dir: tempfile::TempDir,
    _server: Server,
}

fn start_ferret() -> Ferret {
    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::new(ensure("ensure-ferretdb.sh"));
    command.args(["--dir", dir.path().to_str().unwrap()]);
    let server = Server::spawn(command);
    let line = server.wait_line("listening ", Duration::from_secs(60));
    let addr = line.trim().strip_prefix("listening ").unwrap().to_owned();
    Ferret {
        uri: format!("mongodb://{addr}/"),
        _dir: dir,
        _server: server,
    }
}

/// A nats-server on a port of its own.
fn start_nats() -> (String, Server) {
    let port = free_port();
    let mut command = Command::new(ensure("ensure-nats.sh"));
    command.args(["-a", "127.0.0.1", "-p", &port.to_string()]);
    let server = Server::spawn(command);
    server.wait_line("Server is ready", Duration::from_secs(60));
    (format!("nats://127.0.0.1:{port}"), server)
}

fn upstream_bot(id: &str, config: serde_json::Value) -> serde_json::Value {
    json!({
        "id": id,
        "config": config,
        "custom": {"version": "1.0.0", "filePath": CODE_KEY,
                   "config": {"name": "testbot", "runtime": "rust-stable", "type": "realtime",
                              "entrypoints": {"bot": "bot", "query": "query"}}}
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bots_from_mongodb_and_nats_events_reconcile_at_once() {
    let minio = tokio::task::block_in_place(Minio::start);
    tokio::task::block_in_place(|| minio.put("custom-bots", CODE_KEY, code_archive()));
    let ferret = tokio::task::block_in_place(start_ferret);
    let (nats_url, _nats) = tokio::task::block_in_place(start_nats);

    // A bot already in upstream's collection before the orchestrator starts.
    let mongo = mongodb::Client::with_uri_str(&ferret.uri).await.unwrap();
    let bots = mongo.database("bot_runner").collection::<Document>("bots");
    let existing = mongodb::bson::to_document(&upstream_bot("dbbot", json!({"symbol": "BTC"}))).unwrap();
    bots.insert_one(existing).await.unwrap();
    // And one disabled the upstream way (a string "false").
    let off = mongodb::bson::to_document(&upstream_bot("offbot", json!({"enabled": "false"}))).unwrap();
    bots.insert_one(off).await.unwrap();

    let instance = instance("dropin");
    // A reconcile interval of an hour: only NATS events can make anything happen quickly.
    let orchestrator = tokio::task::block_in_place(|| {
        Orchestrator::start(
            &instance,
            &minio,
            &[
                "--mongo-uri",
                &ferret.uri,
                "--nats-url",
                &nats_url,
                "--reconcile-interval",
                "1h",
                "--warm-pool",
                "0",
            ],
        )
    });
    tokio::task::block_in_place(|| {
        eventually("dbbot to answer", Duration::from_secs(120), || {
            let (status, body) = orchestrator.query("dbbot", "/status", json!({}), 10);
            (status == 200 && body["data"]["runs"] == 1).then_some(())
        });
        assert!(
            orchestrator.running_bot("offbot").is_empty(),
            "a disabled bot is not run"
        );
    });

    // the0.bot.created: stored in MongoDB as upstream's subscriber did, and started at once.
    let nats = async_nats::connect(&nats_url).await.unwrap();
    // The bot's agent publishes its log lines for live tailing.
    let mut live_logs = nats.subscribe("the0.bot.logs.natsbot").await.unwrap();
    let created = upstream_bot("natsbot", json!({"symbol": "ETH"}));
    nats.publish("the0.bot.created", created.to_string().into())
        .await
        .unwrap();
    nats.flush().await.unwrap();
    tokio::task::block_in_place(|| {
        let body = eventually("natsbot to start from the event", Duration::from_secs(60), || {
            let (status, body) = orchestrator.query("natsbot", "/status", json!({}), 10);
            (status == 200 && body["data"]["runs"] == 1).then_some(body)
        });
        assert_eq!(body["data"]["bot_config"]["symbol"], "ETH");
    });
    let stored = bots
        .find_one(doc! {"id": "natsbot"})
        .await
        .unwrap()
        .expect("the event was stored");
    let line = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(message) = futures_util::StreamExt::next(&mut live_logs).await {
            let text = String::from_utf8_lossy(&message.payload).into_owned();
            if text.contains("testbot natsbot: run 1 started") {
                return text;
            }
        }
        panic!("the live log subscription ended");
    })
    .await
    .expect("the bot's log line on NATS");
    let first = line.lines().find(|l| l.contains("run 1 started")).unwrap();
    let first: serde_json::Value = serde_json::from_str(first).unwrap();
    assert!(first["timestamp"].is_string(), "NDJSON, as stored: {line}");
    assert_eq!(
        stored
            .get_document("custom")
            .unwrap()
            .get_str("filePath")
            .unwrap(),
        CODE_KEY
    );

    // the0.bot.updated in the wrapped form, disabling it: stopped at once.
    let disabled = json!({"type": "bot.updated", "entity_id": "natsbot",
        "data": upstream_bot("natsbot", json!({"symbol": "ETH", "enabled": false}))});
    nats.publish("the0.bot.updated", disabled.to_string().into())
        .await
        .unwrap();
    // the0.bot.deleted: removed from MongoDB and stopped at once.
    nats.publish("the0.bot.deleted", json!({"id": "dbbot"}).to_string().into())
        .await
        .unwrap();
    nats.flush().await.unwrap();
    tokio::task::block_in_place(|| {
        eventually("both bots to stop", Duration::from_secs(60), || {
            (orchestrator.running_bot("natsbot").is_empty() && orchestrator.running_bot("dbbot").is_empty())
                .then_some(())
        });
    });
    assert!(bots.find_one(doc! {"id": "dbbot"}).await.unwrap().is_none());

    // A schedule event: stored with its next execution time.
    let schedules = mongo
        .database("bot_scheduler")
        .collection::<Document>("bot_schedules");
    let schedule = json!({"id": "sched1", "config": {"schedule": "0 9 * * *", "timezone": "America/New_York"},
        "custom": {"version": "1", "filePath": CODE_KEY, "config": {"runtime": "rust-stable", "entrypoints": {"bot": "bot", "query": "query"}}}});
    nats.publish("the0.bot-schedule.created", schedule.to_string().into())
        .await
        .unwrap();
    nats.flush().await.unwrap();
    let stored = tokio::task::block_in_place(|| {
        let runtime = tokio::runtime::Handle::current();
        eventually("the schedule to be stored", Duration::from_secs(30), || {
            runtime
                .block_on(schedules.find_one(doc! {"id": "sched1"}).into_future())
                .unwrap()
        })
    });
    let next = stored.get_i64("next_execution_time").unwrap();
    assert!(
        next > chrono::Utc::now().timestamp(),
        "the next run is in the future"
    );

    // The admin API cannot write to upstream's database.
    let (status, body) = tokio::task::block_in_place(|| {
        orchestrator.admin(
            "PUT",
            "/admin/bots/x",
            Some(&json!({"type": "realtime", "runtime": "rust-stable",
            "code": CODE_KEY, "entrypoints": {"bot": "bot"}})),
        )
    });
    assert_eq!(status, 422, "{body}");
    tokio::task::block_in_place(move || drop(orchestrator));
}
