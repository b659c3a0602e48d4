//! Crash-loop backoff: a realtime bot whose container keeps exiting is restarted after
//! growing delays (base, 2×base, 4×base, ... up to a cap), and forgiven once a container has run
//! long enough. Upstream restarted a crash loop every 30 s forever, and only backed off failed
//! container *starts* (§12.14).

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Backoff settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackoffPolicy {
    /// Delay after the first exit.
    pub base: Duration,
    /// Longest delay.
    pub max: Duration,
    /// A container running this long clears the bot's record.
    pub stable_after: Duration,
}

impl Default for BackoffPolicy {
    fn default() -> Self {
        BackoffPolicy {
            base: Duration::from_secs(1),
            max: Duration::from_secs(300),
            stable_after: Duration::from_secs(60),
        }
    }
}

/// One bot's record of consecutive exits.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Record {
    exits: u32,
    /// The config hash of the container that exited: a new spec is started at once.
    config_hash: String,
    not_before: Instant,
}

/// The records of every bot.
#[derive(Debug, Default)]
pub struct CrashBackoff {
    policy: BackoffPolicy,
    records: HashMap<String, Record>,
}

impl CrashBackoff {
    pub fn new(policy: BackoffPolicy) -> CrashBackoff {
        CrashBackoff {
            policy,
            records: HashMap::new(),
        }
    }

    pub fn policy(&self) -> BackoffPolicy {
        self.policy
    }

    /// Records an exit of `bot_id`'s container; returns the delay before the next start.
    pub fn record_exit(&mut self, bot_id: &str, config_hash: &str, now: Instant) -> Duration {
        let exits = match self.records.get(bot_id) {
            Some(record) if record.config_hash == config_hash => record.exits + 1,
            _ => 1,
        };
        let delay = self
            .policy
            .base
            .saturating_mul(2u32.saturating_pow(exits - 1))
            .min(self.policy.max);
        self.records.insert(
            bot_id.to_owned(),
            Record {
                exits,
                config_hash: config_hash.to_owned(),
                not_before: now + delay,
            },
        );
        delay
    }

    /// Whether a container for `bot_id` with `config_hash` may start at `now`.
    pub fn may_start(&self, bot_id: &str, config_hash: &str, now: Instant) -> bool {
        match self.records.get(bot_id) {
            Some(record) => record.config_hash != config_hash || now >= record.not_before,
            None => true,
        }
    }

    /// Whether `bot_id` has exits on record.
    pub fn is_backing_off(&self, bot_id: &str) -> bool {
        self.records.contains_key(bot_id)
    }

    /// Forgets `bot_id` (it ran long enough, or is no longer wanted).
    pub fn clear(&mut self, bot_id: &str) {
        self.records.remove(bot_id);
    }

    /// Forgets bots that are no longer wanted.
    pub fn retain(&mut self, wanted: impl Fn(&str) -> bool) {
        self.records.retain(|id, _| wanted(id));
    }

    /// The earliest moment a waiting bot may start again, to wake the loop then.
    pub fn next_due(&self) -> Option<Instant> {
        self.records.values().map(|r| r.not_before).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_cap_and_a_new_spec_starts_at_once() {
        let mut book = CrashBackoff::new(BackoffPolicy {
            base: Duration::from_secs(1),
            max: Duration::from_secs(5),
            stable_after: Duration::from_secs(60),
        });
        let t0 = Instant::now();
        let delays: Vec<u64> = (0..5)
            .map(|_| book.record_exit("b", "h1", t0).as_secs())
            .collect();
        assert_eq!(delays, [1, 2, 4, 5, 5]);
        assert!(!book.may_start("b", "h1", t0 + Duration::from_secs(4)));
        assert!(book.may_start("b", "h1", t0 + Duration::from_secs(5)));
        assert!(book.may_start("b", "h2", t0), "a changed spec is not held back");
        assert_eq!(
            book.record_exit("b", "h2", t0),
            Duration::from_secs(1),
            "and starts a new count"
        );
        assert!(book.may_start("other", "x", t0));
        book.clear("b");
        assert!(!book.is_backing_off("b"));
        assert_eq!(book.next_due(), None);
    }
}
