//! Instants as the ledger keeps them (milliseconds since the Unix epoch, UTC), the
//! budget periods, and the dates people type (`2026-12-07`, RFC 3339, Unix seconds).

use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::{Date, Month, OffsetDateTime, Time};

/// How often a budget starts over, at UTC midnight.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    Day,
    #[default]
    Month,
}

impl Period {
    pub fn name(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::Month => "month",
        }
    }

    /// The start of the period `ms` falls in and the start of the next one.
    pub fn bounds(self, ms: i64) -> (i64, i64) {
        let date = at(ms).date();
        let (start, next) = match self {
            Self::Day => (date, date.next_day().unwrap_or(Date::MAX)),
            Self::Month => {
                let first = date.replace_day(1).unwrap_or(date);
                let (year, month) = match first.month() {
                    Month::December => (first.year() + 1, Month::January),
                    month => (first.year(), month.next()),
                };
                let next = Date::from_calendar_date(year, month, 1).unwrap_or(Date::MAX);
                (first, next)
            }
        };
        (midnight_ms(start), midnight_ms(next))
    }
}

fn at(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn midnight_ms(date: Date) -> i64 {
    let at = date.with_time(Time::MIDNIGHT).assume_utc();
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// Now, in milliseconds since the Unix epoch (how records keep instants).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The UTC date of `ms`, as `YYYY-MM-DD` (what usage groups by day).
pub fn day(ms: i64) -> String {
    let date = at(ms).date();
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// `ms` as RFC 3339 in UTC (`2026-12-07T10:00:00Z`).
pub fn format_time(ms: i64) -> String {
    at(ms).format(&Rfc3339).unwrap_or_default()
}

/// An instant typed by a person: a date (`2026-12-07`, its UTC midnight), an RFC 3339
/// date and time, or Unix seconds.
pub fn parse_time(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<i64>() {
        return seconds.checked_mul(1000);
    }
    if let Ok(at) = OffsetDateTime::parse(text, &Rfc3339) {
        return i64::try_from(at.unix_timestamp_nanos() / 1_000_000).ok();
    }
    let mut parts = text.splitn(3, '-');
    let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
    if month.len() != 2 || day.len() != 2 {
        return None;
    }
    let month = Month::try_from(month.parse::<u8>().ok()?).ok()?;
    let date = Date::from_calendar_date(year.parse().ok()?, month, day.parse().ok()?).ok()?;
    Some(midnight_ms(date))
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2026-12-07T00:00Z.
    const DEC_7: i64 = 1_796_601_600_000;
    const DAY: i64 = 86_400_000;

    #[test]
    fn days_are_utc_dates() {
        assert_eq!(day(0), "1970-01-01");
        assert_eq!(day(DEC_7 + DAY - 1), "2026-12-07");
        assert_eq!(day(DEC_7 + DAY), "2026-12-08");
    }

    #[test]
    fn periods_start_at_utc_midnight() {
        let noon = DEC_7 + DAY / 2;
        assert_eq!(Period::Day.bounds(noon), (DEC_7, DEC_7 + DAY));
        let (start, next) = Period::Month.bounds(noon);
        assert_eq!(format_time(start), "2026-12-01T00:00:00Z");
        assert_eq!(format_time(next), "2027-01-01T00:00:00Z");
        let (start, next) = Period::Month.bounds(parse_time("2027-02-10").unwrap());
        assert_eq!(
            (day(start), day(next)),
            ("2027-02-01".into(), "2027-03-01".into())
        );
    }

    #[test]
    fn times_people_type() {
        assert_eq!(parse_time("2026-12-07"), Some(DEC_7));
        assert_eq!(parse_time("2026-12-07T01:00:00Z"), Some(DEC_7 + 3_600_000));
        assert_eq!(
            parse_time("2026-12-07T02:00:00+01:00"),
            Some(DEC_7 + 3_600_000)
        );
        assert_eq!(parse_time("1796601600"), Some(DEC_7));
        for bad in [
            "",
            "yesterday",
            "2026-13-01",
            "2026-1-01",
            "2026-02-30",
            "12/07/2026",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }
}
