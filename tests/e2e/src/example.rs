//! The life of an example bot in the universal image, end to end, and what proves each step.
//!
//! 1. Its code archive (`images/package-bot.sh`) is stored in MinIO; a realtime container starts,
//!    the agent downloads the code, runs the bot, and its state lands in MinIO.
//! 2. A realtime query is answered through :9476, published on 127.0.0.1.
//! 3. `docker stop`: the agent gets SIGTERM as PID 1 and passes it to the bot, which exits
//!    (0, or 143 when it dies of the signal — not 137, killed after the grace period); the final
//!    sync completes inside the stop timeout (the agent says so, and exits by itself).
//! 4. An ephemeral query container answers from the stored state and writes its result object:
//!    exactly the stored progress, since no bot runs.
//! 5. A second container restores the state and continues from it.
//!
//! Every tick a bot prints one `tick_metric` line and then stores its tick counter. So the stored
//! logs of all runs hold between `counter` and `counter + runs` such lines: a final sync that lost
//! the last state or log lines breaks the lower or upper bound, and a restart that did not
//! restore the state (counting from 0 again) breaks the upper bound.

use std::time::Duration;

use serde_json::{Value, json};
use the0_conformance::http::{Target, get};

use crate::container::{Container, Spec};
use crate::docker::{Scope, runtime_image};
use crate::minio::Minio;
use crate::package::CodeArchive;
use crate::{eventually, example_dir, scratch_dir, unix_nanos};

/// How long a step may take before the test gives up (builds are done by then; this is slack for
/// a loaded machine, not a timing assertion).
const PATIENCE: Duration = Duration::from_secs(120);
/// `docker stop`'s grace period, upstream's 30 s.
const STOP_GRACE_SECS: u32 = 30;

/// An example bot, and where its progress shows.
pub struct ExampleBot {
    /// Its folder under `examples/`.
    pub dir: &'static str,
    /// `BOT_CONFIG` for a realtime run of several ticks a second.
    pub config: &'static str,
    /// The state key holding the tick counter, and the counter's JSON pointer in it.
    pub state_key: &'static str,
    pub state_counter: &'static str,
    /// A query path answering the counter, and its JSON pointer in the answer's `data`.
    pub query: &'static str,
    pub query_counter: &'static str,
    /// The metric the bot prints once per tick, before storing the counter.
    pub tick_metric: &'static str,
    /// A runtime id to run it under instead of its bot-config.yaml's (an alias: `cpp-gcc13`).
    pub runtime: Option<&'static str>,
}

impl ExampleBot {
    /// Names its scope, bot id and code key: the folder, and the runtime when it is overridden.
    fn name(&self) -> String {
        match self.runtime {
            Some(runtime) => format!("{}-{runtime}", self.dir),
            None => self.dir.to_owned(),
        }
    }
}

/// One test's world: its scope, MinIO, and the bot's code stored in it.
struct World<'a> {
    bot: &'a ExampleBot,
    scope: Scope,
    minio: Minio,
    code: CodeArchive,
    code_key: String,
    bot_id: String,
}

impl World<'_> {
    /// The container environment upstream's Docker runner sets (contract §1c).
    fn env(&self, bot_type: &str) -> Vec<(String, String)> {
        let mut vars = vec![
            ("BOT_ID", self.bot_id.as_str()),
            ("RUNTIME", &self.code.runtime),
            ("ENTRYPOINT", &self.code.entrypoint),
            ("CODE_FILE", &self.code_key),
            ("BOT_CONFIG", self.bot.config),
            ("BOT_TYPE", bot_type),
            ("IS_SCHEDULED", "false"),
            ("ENTRYPOINT_TYPE", "bot"),
            ("CODE_MOUNT_DIR", "bot"),
            ("STATE_DIR", "/state/.the0-state"),
            ("PYTHONDONTWRITEBYTECODE", "1"),
        ];
        if let Some(query) = &self.code.query_entrypoint {
            vars.push(("QUERY_ENTRYPOINT", query));
        }
        self.minio.bot_env(&vars)
    }

    fn stored_counter(&self) -> Option<u64> {
        let state = self.minio.state_value(&self.bot_id, self.bot.state_key)?;
        state.pointer(self.bot.state_counter).and_then(Value::as_u64)
    }

    /// The `tick_metric` lines in the stored logs (the bot's, not its query process's).
    fn stored_ticks_logged(&self) -> u64 {
        self.minio
            .log_lines(&self.bot_id)
            .iter()
            .filter(|line| line["_metric"] == self.bot.tick_metric && line.get("source").is_none())
            .count() as u64
    }

    /// A realtime container; returns once the stored counter passes `above`.
    fn start_realtime(&self, role: &str, above: u64) -> Container {
        let mut spec = Spec::new(runtime_image(), self.env("realtime"));
        spec.publish_query = true;
        let container = Container::start(&self.scope, role, &spec);
        eventually(
            &format!("the stored tick counter to pass {above}"),
            PATIENCE,
            || {
                assert!(
                    container.is_running(),
                    "the bot stopped:\n{}",
                    container.describe()
                );
                self.stored_counter().filter(|&n| n > above)
            },
        );
        container
    }

    /// The query's answer through the port published on 127.0.0.1; the counter it reports.
    fn realtime_query(&self, container: &Container) -> u64 {
        let target = Target::loopback(container.query_port());
        let health = eventually("the query process to be up", PATIENCE, || {
            let health = get(&target, "/healthz").ok()?.json();
            (health["query_process"] == "up").then_some(health)
        });
        assert_eq!(health, json!({"status": "ok", "query_process": "up"}));
        let answer = eventually(&format!("an answer to {}", self.bot.query), PATIENCE, || {
            get(&target, self.bot.query).ok().filter(|r| r.status == 200)
        })
        .json();
        assert_eq!(answer["status"], "ok", "{answer}");
        answer["data"]
            .pointer(self.bot.query_counter)
            .and_then(Value::as_u64)
            .unwrap_or_else(|| {
                panic!(
                    "{} answered no counter at {}: {answer}",
                    self.bot.query, self.bot.query_counter
                )
            })
    }

    /// `docker stop`, then checks that the agent stopped the bot with SIGTERM and synced before
    /// Docker's grace period ran out.
    fn stop(&self, container: &Container) {
        container.stop(STOP_GRACE_SECS);
        let exit_code = container.wait();
        let describe = || container.describe();
        let stopping = container.agent_events("stopping the bot");
        assert!(
            stopping.iter().any(|e| e["signal"] == "SIGTERM"),
            "the agent (PID 1) got no SIGTERM:\n{}",
            describe()
        );
        let exited = container.agent_events("the bot exited");
        let bot_code = exited.first().and_then(|e| e["exit_code"].as_i64());
        assert!(
            matches!(bot_code, Some(0 | 143)),
            "the bot should exit on SIGTERM (0, or 143 when killed by it), not {bot_code:?}:\n{}",
            describe()
        );
        assert_eq!(
            container.agent_events("final sync done").len(),
            1,
            "no final sync:\n{}",
            describe()
        );
        assert_eq!(
            Some(i64::from(exit_code)),
            bot_code,
            "the agent exits with the bot's code by itself (137 means Docker killed it):\n{}",
            describe()
        );
    }

    /// An ephemeral query container (upstream's query containers); the result object it stored.
    fn ephemeral_query(&self) -> Value {
        let key = format!("{}/{}/result.json", self.bot_id, unix_nanos());
        let mut env = self.env("scheduled");
        env.retain(|(name, _)| name != "ENTRYPOINT_TYPE");
        env.extend(
            [
                ("QUERY_PATH", self.bot.query),
                ("QUERY_PARAMS", "{}"),
                ("QUERY_RESULT_KEY", &key),
                ("ENTRYPOINT_TYPE", "query"),
            ]
            .map(|(name, value)| (name.to_owned(), value.to_owned())),
        );
        let container = Container::start(&self.scope, "query", &Spec::new(runtime_image(), env));
        let code = container.wait();
        assert_eq!(code, 0, "the query container failed:\n{}", container.describe());
        let result = self.minio.get("query-results", &key).unwrap_or_else(|| {
            panic!(
                "no result object at query-results/{key}:\n{}",
                container.describe()
            )
        });
        serde_json::from_slice(&result).expect("the result object is JSON")
    }
}

/// Runs the whole life of `bot` (module docs); panics on the first broken expectation.
pub fn run(bot: &ExampleBot) {
    let work = scratch_dir();
    let mut code = CodeArchive::package(&example_dir(bot.dir), work.path());
    if let Some(runtime) = bot.runtime {
        code.runtime = runtime.to_owned();
    }
    let name = bot.name();
    let scope = Scope::new(&name.replace(|c: char| !c.is_ascii_alphanumeric(), ""));
    let minio = Minio::start(&scope);
    let world = World {
        bot,
        code_key: format!("e2e/{name}/{}.zip", env!("CARGO_PKG_VERSION")),
        bot_id: format!("e2e-{name}"),
        scope,
        minio,
        code,
    };
    world.minio.put("custom-bots", &world.code_key, &world.code.zip);

    // 1-3: the first container.
    let first = world.start_realtime("first", 2);
    let answered = world.realtime_query(&first);
    world.stop(&first);
    let after_first = world
        .stored_counter()
        .expect("a stored state after the first run");
    assert!(
        answered <= after_first,
        "the final state ({after_first}) is older than an answer ({answered})"
    );
    let logged = world.stored_ticks_logged();
    assert!(
        (after_first..=after_first + 1).contains(&logged),
        "{logged} '{}' lines stored for {after_first} stored ticks: the final sync lost state or logs",
        bot.tick_metric
    );

    // 4: an ephemeral query sees exactly the stored state.
    let result = world.ephemeral_query();
    assert_eq!(result["status"], "ok", "{result}");
    assert_eq!(
        result["data"].pointer(bot.query_counter).and_then(Value::as_u64),
        Some(after_first),
        "the ephemeral answer should report the stored counter: {result}"
    );

    // 5: a restart restores the state and continues.
    let second = world.start_realtime("second", after_first);
    assert!(
        !second.agent_events("state restored").is_empty(),
        "the second container restored no state:\n{}",
        second.describe()
    );
    assert!(world.realtime_query(&second) > after_first);
    world.stop(&second);
    let after_second = world.stored_counter().unwrap();
    let logged = world.stored_ticks_logged();
    assert!(
        (after_second..=after_second + 2).contains(&logged),
        "{logged} '{}' lines stored over two runs for {after_second} stored ticks: the restart did not \
         continue from the restored state, or a final sync lost state or logs",
        bot.tick_metric
    );
}
