//! The realtime reconciler: a pure function from desired bots and observed containers to the
//! actions that make them agree (the controller pattern of kube-rs, without the engine). The
//! Docker runner executes the actions; this module never talks to anything, so every rule is
//! unit-tested here.
//!
//! Rules:
//! - an exited container is reaped (its exit code and last lines are logged, upstream discarded
//!   them) and, when its spec is still wanted, counts as a crash for the backoff;
//! - a wanted bot with no running container of its current spec is started, unless it is
//!   backing off (a changed spec starts at once);
//! - containers of an old spec are stopped once per pass ("config-hash restart"), extra copies
//!   of a bot are stopped, containers of bots no longer wanted (deleted or disabled) are stopped;
//! - a bot whose container has run long enough is forgiven its past crashes.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use crate::backoff::CrashBackoff;
use crate::spec::BotSpec;

/// A container the engine reports, reduced to what the rules need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    pub container: String,
    pub bot_id: String,
    pub config_hash: String,
    pub running: bool,
    /// Exit code of a container that stopped.
    pub exit_code: Option<i64>,
    /// How long it has existed.
    pub age: Duration,
}

/// Why a container is stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// The bot was deleted or disabled.
    NotWanted,
    /// Its spec changed: a container of the new spec replaces it.
    SpecChanged,
    /// Another container already runs this bot.
    Duplicate,
}

impl StopReason {
    pub fn as_str(self) -> &'static str {
        match self {
            StopReason::NotWanted => "not wanted",
            StopReason::SpecChanged => "spec changed",
            StopReason::Duplicate => "duplicate",
        }
    }
}

/// One step toward the desired state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Remove an exited container; `crashed` when its spec is still wanted (backoff).
    Reap {
        container: String,
        bot_id: String,
        config_hash: String,
        exit_code: Option<i64>,
        crashed: bool,
    },
    Stop {
        container: String,
        bot_id: String,
        reason: StopReason,
    },
    Start(Box<BotSpec>),
    /// The bot ran long enough: forget its crashes.
    Forgive {
        bot_id: String,
    },
}

/// Computes the actions for one pass. `desired` holds every bot of the source; only enabled
/// realtime ones are run. Stops and reaps come before starts in the result.
pub fn plan(desired: &[BotSpec], observed: &[Observed], backoff: &CrashBackoff, now: Instant) -> Vec<Action> {
    let wanted: HashMap<&str, (&BotSpec, String)> = desired
        .iter()
        .filter(|bot| bot.enabled && bot.is_realtime())
        .map(|bot| (bot.id.as_str(), (bot, bot.config_hash())))
        .collect();
    let mut actions = Vec::new();
    let mut just_crashed = HashSet::new();
    let mut running_current: HashSet<&str> = HashSet::new();
    let mut starts = Vec::new();

    for container in observed.iter().filter(|c| !c.running) {
        let crashed = wanted
            .get(container.bot_id.as_str())
            .is_some_and(|(_, hash)| *hash == container.config_hash);
        if crashed {
            just_crashed.insert(container.bot_id.as_str());
        }
        actions.push(Action::Reap {
            container: container.container.clone(),
            bot_id: container.bot_id.clone(),
            config_hash: container.config_hash.clone(),
            exit_code: container.exit_code,
            crashed,
        });
    }

    // Oldest first, so the container kept among copies is the one that has run longest.
    let mut running: Vec<&Observed> = observed.iter().filter(|c| c.running).collect();
    running.sort_by(|a, b| b.age.cmp(&a.age).then_with(|| a.container.cmp(&b.container)));
    for container in running {
        let bot = container.bot_id.as_str();
        let reason = match wanted.get(bot) {
            None => Some(StopReason::NotWanted),
            Some((_, hash)) if *hash != container.config_hash => Some(StopReason::SpecChanged),
            Some(_) if running_current.contains(bot) => Some(StopReason::Duplicate),
            Some(_) => {
                running_current.insert(bot);
                if backoff.is_backing_off(bot) && container.age >= backoff.policy().stable_after {
                    actions.push(Action::Forgive {
                        bot_id: bot.to_owned(),
                    });
                }
                None
            }
        };
        if let Some(reason) = reason {
            actions.push(Action::Stop {
                container: container.container.clone(),
                bot_id: container.bot_id.clone(),
                reason,
            });
        }
    }

    let mut ids: Vec<&&str> = wanted.keys().collect();
    ids.sort();
    for id in ids {
        let (spec, hash) = &wanted[*id];
        if running_current.contains(*id) || just_crashed.contains(*id) {
            continue;
        }
        if backoff.may_start(id, hash, now) {
            starts.push(Action::Start(Box::new((*spec).clone())));
        }
    }
    actions.extend(starts);
    actions
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backoff::BackoffPolicy;
    use crate::spec::tests::{realtime, scheduled};

    fn running(container: &str, spec: &BotSpec, age_secs: u64) -> Observed {
        Observed {
            container: container.into(),
            bot_id: spec.id.clone(),
            config_hash: spec.config_hash(),
            running: true,
            exit_code: None,
            age: Duration::from_secs(age_secs),
        }
    }

    fn exited(container: &str, spec: &BotSpec, code: i64) -> Observed {
        Observed {
            running: false,
            exit_code: Some(code),
            ..running(container, spec, 5)
        }
    }

    fn book() -> CrashBackoff {
        CrashBackoff::new(BackoffPolicy::default())
    }

    #[test]
    fn starts_what_is_missing_and_leaves_what_runs() {
        let a = realtime("a");
        let b = realtime("b");
        let actions = plan(
            &[a.clone(), b.clone()],
            &[running("c1", &a, 10)],
            &book(),
            Instant::now(),
        );
        assert_eq!(actions, [Action::Start(Box::new(b))]);
    }

    #[test]
    fn scheduled_and_disabled_bots_are_not_run() {
        let mut off = realtime("off");
        off.enabled = false;
        let cron = scheduled("cron", "* * * * *");
        let actions = plan(
            &[off.clone(), cron],
            &[running("c1", &off, 10)],
            &book(),
            Instant::now(),
        );
        assert_eq!(
            actions,
            [Action::Stop {
                container: "c1".into(),
                bot_id: "off".into(),
                reason: StopReason::NotWanted
            }]
        );
    }

    #[test]
    fn a_changed_spec_replaces_the_container() {
        let old = realtime("a");
        let mut new = old.clone();
        new.config.insert("symbol".into(), "ETH".into());
        let actions = plan(
            std::slice::from_ref(&new),
            &[running("c1", &old, 10)],
            &book(),
            Instant::now(),
        );
        assert_eq!(
            actions,
            [
                Action::Stop {
                    container: "c1".into(),
                    bot_id: "a".into(),
                    reason: StopReason::SpecChanged
                },
                Action::Start(Box::new(new))
            ]
        );
    }

    #[test]
    fn duplicates_keep_the_oldest() {
        let a = realtime("a");
        let actions = plan(
            std::slice::from_ref(&a),
            &[running("young", &a, 1), running("old", &a, 100)],
            &book(),
            Instant::now(),
        );
        assert_eq!(
            actions,
            [Action::Stop {
                container: "young".into(),
                bot_id: "a".into(),
                reason: StopReason::Duplicate
            }]
        );
    }

    #[test]
    fn an_exit_is_reaped_and_the_restart_waits_for_the_backoff() {
        let a = realtime("a");
        let now = Instant::now();
        let mut backoff = book();
        let actions = plan(std::slice::from_ref(&a), &[exited("c1", &a, 3)], &backoff, now);
        assert_eq!(
            actions,
            [Action::Reap {
                container: "c1".into(),
                bot_id: "a".into(),
                config_hash: a.config_hash(),
                exit_code: Some(3),
                crashed: true
            }],
            "no start in the pass that saw the exit"
        );
        backoff.record_exit("a", &a.config_hash(), now);
        assert!(
            plan(std::slice::from_ref(&a), &[], &backoff, now).is_empty(),
            "backing off"
        );
        let later = now + Duration::from_secs(1);
        assert_eq!(
            plan(std::slice::from_ref(&a), &[], &backoff, later),
            [Action::Start(Box::new(a.clone()))]
        );
    }

    #[test]
    fn an_exited_container_of_a_deleted_bot_is_not_a_crash() {
        let gone = realtime("gone");
        let actions = plan(&[], &[exited("c1", &gone, 0)], &book(), Instant::now());
        assert!(matches!(&actions[..], [Action::Reap { crashed: false, .. }]));
    }

    #[test]
    fn a_stable_container_is_forgiven() {
        let a = realtime("a");
        let mut backoff = book();
        backoff.record_exit("a", &a.config_hash(), Instant::now());
        let young = plan(
            std::slice::from_ref(&a),
            &[running("c", &a, 5)],
            &backoff,
            Instant::now(),
        );
        assert!(young.is_empty());
        let stable = plan(
            std::slice::from_ref(&a),
            &[running("c", &a, 61)],
            &backoff,
            Instant::now(),
        );
        assert_eq!(stable, [Action::Forgive { bot_id: "a".into() }]);
    }
}
