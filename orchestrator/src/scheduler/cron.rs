//! Cron expressions as upstream accepted them (robfig/cron v3: 6 fields with seconds, or the
//! standard 5, and descriptors), plus an explicit time zone, which upstream lacked (it used the
//! process's zone). Parsing and matching are croner's.

use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use croner::parser::{CronParser, Seconds, Year};

use crate::spec::Schedule;

/// A parsed schedule.
#[derive(Debug, Clone)]
pub enum Cron {
    /// A calendar pattern in a time zone.
    Pattern { pattern: Box<croner::Cron>, zone: Tz },
    /// `@every <duration>`: a fixed interval from the previous tick.
    Every(Duration),
}

impl Cron {
    /// Parses `schedule` in `timezone` (UTC when absent). The error says what is wrong.
    pub fn parse(schedule: &Schedule) -> Result<Cron, String> {
        let text = schedule.schedule.trim();
        let zone: Tz = match &schedule.timezone {
            None => Tz::UTC,
            Some(name) => name
                .parse()
                .map_err(|_| format!("unknown time zone {name:?} (use an IANA name like Europe/London)"))?,
        };
        if let Some(interval) = text.strip_prefix("@every ") {
            let every = the0_agent::cli::parse_duration(interval)?;
            if every < Duration::from_secs(1) {
                return Err(format!("{text:?}: the interval must be at least 1s"));
            }
            return Ok(Cron::Every(every));
        }
        let text = match text {
            "@midnight" => "@daily",
            other => other,
        };
        let fields = text.split_whitespace().count();
        if !(text.starts_with('@') || fields == 5 || fields == 6) {
            return Err(format!(
                "{text:?} has {fields} fields: use 5 (minute hour day month weekday), 6 (seconds first) or a descriptor like @daily"
            ));
        }
        let parser = CronParser::builder()
            .seconds(Seconds::Optional)
            .year(Year::Disallowed)
            .build();
        let pattern = parser
            .parse(text)
            .map_err(|e| format!("{text:?} is not a cron expression: {e}"))?;
        Ok(Cron::Pattern {
            pattern: Box::new(pattern),
            zone,
        })
    }

    /// The first tick strictly after `after`.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Cron::Every(every) => Some(after + chrono::Duration::from_std(*every).ok()?),
            Cron::Pattern { pattern, zone } => pattern
                .find_next_occurrence(&after.with_timezone(zone), false)
                .ok()
                .map(|next| next.with_timezone(&Utc)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn cron(text: &str, zone: Option<&str>) -> Result<Cron, String> {
        Cron::parse(&Schedule {
            schedule: text.into(),
            timezone: zone.map(Into::into),
            timeout_secs: None,
        })
    }

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 15, h, m, s).unwrap()
    }

    #[test]
    fn five_and_six_fields_and_descriptors() {
        let five = cron("*/5 * * * *", None).unwrap();
        assert_eq!(five.next_after(at(10, 2, 30)), Some(at(10, 5, 0)));
        assert_eq!(
            five.next_after(at(10, 5, 0)),
            Some(at(10, 10, 0)),
            "strictly after"
        );
        let six = cron("*/10 * * * * *", None).unwrap();
        assert_eq!(six.next_after(at(10, 2, 31)), Some(at(10, 2, 40)));
        let daily = cron("@daily", None).unwrap();
        assert_eq!(
            daily.next_after(at(10, 0, 0)),
            Some(Utc.with_ymd_and_hms(2026, 1, 16, 0, 0, 0).unwrap())
        );
        let midnight = cron("@midnight", None).unwrap();
        assert_eq!(midnight.next_after(at(10, 0, 0)), daily.next_after(at(10, 0, 0)));
        let every = cron("@every 90s", None).unwrap();
        assert_eq!(every.next_after(at(10, 0, 0)), Some(at(10, 1, 30)));
    }

    #[test]
    fn a_time_zone_moves_the_tick() {
        // 09:00 in New York is 14:00 UTC in January.
        let ny = cron("0 9 * * *", Some("America/New_York")).unwrap();
        assert_eq!(ny.next_after(at(10, 0, 0)), Some(at(14, 0, 0)));
        let utc = cron("0 9 * * *", None).unwrap();
        assert_eq!(
            utc.next_after(at(10, 0, 0)),
            Some(Utc.with_ymd_and_hms(2026, 1, 16, 9, 0, 0).unwrap())
        );
    }

    #[test]
    fn bad_schedules_say_why() {
        assert!(cron("* * *", None).unwrap_err().contains("has 3 fields"));
        assert!(cron("* * * * * * *", None).unwrap_err().contains("has 7 fields"));
        assert!(
            cron("61 * * * *", None)
                .unwrap_err()
                .contains("not a cron expression")
        );
        assert!(
            cron("* * * * *", Some("Mars/Olympus"))
                .unwrap_err()
                .contains("unknown time zone")
        );
        assert!(cron("@every 10x", None).is_err());
    }
}
