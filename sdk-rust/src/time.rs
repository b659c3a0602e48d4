//! The one timestamp format of every SDK: RFC 3339, UTC, milliseconds (`2026-11-23T07:24:00.123Z`).
//!
//! Upstream SDKs printed epoch milliseconds in some languages and ISO strings in others; log
//! consumers had to guess. Every metric and log line now carries this format.

use std::time::{SystemTime, UNIX_EPOCH};

/// The current time, formatted as RFC 3339 UTC with milliseconds.
pub fn now_rfc3339() -> String {
    rfc3339_millis(SystemTime::now())
}

/// Formats `time` as RFC 3339 UTC with milliseconds. Times before 1970 are clamped to the epoch.
pub fn rfc3339_millis(time: SystemTime) -> String {
    let since_epoch = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since_epoch.as_secs();
    let millis = since_epoch.subsec_millis();
    let (year, month, day) = civil_from_days((secs / 86_400) as i64);
    let secs_of_day = secs % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        secs_of_day / 3600,
        secs_of_day / 60 % 60,
        secs_of_day % 60,
    )
}

/// Converts days since 1970-01-01 to a proleptic Gregorian (year, month, day).
///
/// Works in 400-year eras (146 097 days) counted from 0000-03-01, so that the leap day is the last
/// day of each shifted year and needs no special case.
fn civil_from_days(days_since_epoch: i64) -> (i64, u32, u32) {
    const DAYS_PER_ERA: i64 = 146_097;
    let days = days_since_epoch + 719_468; // days from 0000-03-01 to 1970-01-01
    let era = days.div_euclid(DAYS_PER_ERA);
    let day_of_era = days.rem_euclid(DAYS_PER_ERA);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153; // 0 = March
    let day = (day_of_year - (153 * shifted_month + 2) / 5 + 1) as u32;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: u64, millis: u64) -> String {
        rfc3339_millis(UNIX_EPOCH + Duration::from_millis(secs * 1000 + millis))
    }

    #[test]
    fn formats_known_instants() {
        assert_eq!(at(0, 0), "1970-01-01T00:00:00.000Z");
        assert_eq!(at(951_782_400, 7), "2000-02-29T00:00:00.007Z"); // leap day of a 400-year leap year
        assert_eq!(at(4_107_542_399, 999), "2100-02-28T23:59:59.999Z"); // 2100 is not a leap year
        assert_eq!(at(4_107_542_400, 0), "2100-03-01T00:00:00.000Z");
        assert_eq!(at(1_795_418_640, 123), "2026-11-23T07:24:00.123Z");
    }

    #[test]
    fn every_day_round_trips_through_a_calendar_walk() {
        // Walk day by day from 1970 for 500 years and compare with an independent calendar count.
        let (mut y, mut m, mut d) = (1970i64, 1u32, 1u32);
        for days in 0..(500 * 366) {
            assert_eq!(civil_from_days(days), (y, m, d), "day {days}");
            let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
            let month_len = [
                31,
                if leap { 29 } else { 28 },
                31,
                30,
                31,
                30,
                31,
                31,
                30,
                31,
                30,
                31,
            ];
            d += 1;
            if d > month_len[(m - 1) as usize] {
                d = 1;
                m += 1;
                if m > 12 {
                    m = 1;
                    y += 1;
                }
            }
        }
    }
}
