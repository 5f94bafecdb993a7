//! The `time` of events: a millisecond clock, written as UTC date and time.

use super::json::put_three_digits;

/// The `time` of events: an instant in milliseconds, and its date and time to the second,
/// formatted only when the second changes.
#[derive(Debug)]
pub(super) struct Clock {
    unix_millis: u64,
    /// `YYYY-MM-DDTHH:MM:SS` of `unix_millis`.
    second_text: String,
}

#[derive(Clone, Copy)]
pub(super) enum TimePrecision {
    /// `2026-11-14T12:34:56Z`, as Edge Applications events have it.
    Seconds,
    /// `2026-11-14T12:34:56.114Z`, as WAF events have it.
    Millis,
}

impl Clock {
    pub(super) fn new(unix_millis: u64) -> Clock {
        let mut clock = Clock {
            unix_millis,
            second_text: String::with_capacity(24),
        };
        clock.format_second();
        clock
    }

    pub(super) fn advance(&mut self, millis: u64) {
        let second = self.unix_millis / 1_000;
        self.unix_millis += millis;
        if self.unix_millis / 1_000 != second {
            self.format_second();
        }
    }

    fn format_second(&mut self) {
        use std::fmt::Write as _;
        let seconds = self.unix_millis / 1_000;
        let (year, month, day) = civil_from_days(seconds / 86_400);
        let second_of_day = seconds % 86_400;
        self.second_text.clear();
        write!(
            self.second_text,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
            second_of_day / 3_600,
            second_of_day / 60 % 60,
            second_of_day % 60,
        )
        .expect("writing to a String cannot fail");
    }

    pub(super) fn put_quoted(&self, out: &mut Vec<u8>, precision: TimePrecision) {
        out.push(b'"');
        out.extend_from_slice(self.second_text.as_bytes());
        if let TimePrecision::Millis = precision {
            out.push(b'.');
            put_three_digits(out, self.unix_millis % 1_000);
        }
        out.extend_from_slice(b"Z\"");
    }
}

/// The Gregorian (year, month, day) of a day counted from 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, for days on or after the epoch).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let shifted = days + 719_468; // days since 0000-03-01
    let era = shifted / 146_097;
    let day_of_era = shifted % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = era * 400 + year_of_era + u64::from(month <= 2);
    (year, month, day)
}
