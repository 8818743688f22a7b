//! Durations as people write them: `500ms`, `1.5s`, `200us`, `2m`.
//!
//! One grammar for every place a duration is written: a link's `delay=`, the attribute's
//! `timeout = "..."` (read at compile time by the macro) and the `NETNS_TEST_TIMEOUT`
//! environment variable (read by the harness). A duration is a decimal number (at most six
//! decimals) and one of the units `us`, `ms`, `s` and `m`, with optional space between them,
//! and must come to a whole number of microseconds. Each use adds its own range on top (see
//! [`parse_timeout`] and [`parse_delay`](crate::parse_delay)).

use std::time::Duration;

/// The units, with their length in microseconds.
const UNITS: &[(&str, u64)] = &[
    ("us", 1),
    ("ms", 1_000),
    ("s", 1_000_000),
    ("m", 60_000_000),
];

/// The units as a message lists them.
pub(crate) const UNIT_NAMES: &str = "`us`, `ms`, `s` or `m`";

/// Reads `text` as a duration in whole microseconds. The error is a sentence fragment that quotes
/// the text and says what would be valid, ending with `example` (`delay=50ms`).
pub(crate) fn parse_micros(text: &str, example: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let at = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(at);
    let unit = unit.trim_start();
    if number.is_empty() {
        return Err(format!(
            "`{text}` is not a duration: write a number and a unit, as in `{example}`"
        ));
    }
    if unit.is_empty() {
        return Err(format!(
            "`{text}` needs a unit: {UNIT_NAMES}, as in `{example}`"
        ));
    }
    let Some(&(_, micros)) = UNITS.iter().find(|(name, _)| *name == unit) else {
        return Err(format!(
            "`{text}` has an unknown unit `{unit}`: use {UNIT_NAMES}, as in `{example}`"
        ));
    };
    // In millionths of the unit, then in microseconds.
    let Some(millionths) = decimal_millionths(number) else {
        return Err(format!(
            "`{text}` is not a duration: write a number (at most six decimals) and a unit, as in \
             `{example}`"
        ));
    };
    let total = millionths
        .checked_mul(u128::from(micros))
        .ok_or_else(|| format!("`{text}` is too long a duration"))?;
    if total % 1_000_000 != 0 {
        return Err(format!(
            "`{text}` is not a whole number of microseconds, the finest a duration can be"
        ));
    }
    u64::try_from(total / 1_000_000).map_err(|_| format!("`{text}` is too long a duration"))
}

/// `number` (digits with at most one `.` and six decimals) times 10^6, if it is one.
fn decimal_millionths(number: &str) -> Option<u128> {
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) || fraction.len() > 6 {
        return None;
    }
    if number.ends_with('.') {
        return None;
    }
    let whole = whole.parse::<u128>().ok()?.checked_mul(1_000_000)?;
    let fraction = if fraction.is_empty() {
        0
    } else {
        fraction.parse::<u128>().ok()? * 10u128.pow(6 - fraction.len() as u32)
    };
    whole.checked_add(fraction)
}

/// Reads a test's time limit: `timeout = "10s"` and `NETNS_TEST_TIMEOUT=1.5s`. Any duration of
/// the grammar above but zero.
pub fn parse_timeout(text: &str) -> Result<Duration, String> {
    let micros = parse_micros(text, "10s")?;
    if micros == 0 {
        return Err(format!(
            "`{text}` is zero: a test cannot finish in no time; give a positive duration"
        ));
    }
    Ok(Duration::from_micros(micros))
}

/// Writes `duration` in the largest unit that shows it exactly: `1s`, `90s`, `2m`, `1500ms`,
/// `250us` (as a timeout is reported: "timed out after 10s").
pub fn format_duration(duration: Duration) -> String {
    let micros = duration.as_micros();
    if micros != 0 && micros.is_multiple_of(60_000_000) {
        format!("{}m", micros / 60_000_000)
    } else if micros.is_multiple_of(1_000_000) {
        format!("{}s", micros / 1_000_000)
    } else if micros.is_multiple_of(1_000) {
        format!("{}ms", micros / 1_000)
    } else {
        format!("{micros}us")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_unit_and_decimals() {
        assert_eq!(parse_timeout("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_timeout("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_timeout(" 2m "), Ok(Duration::from_secs(120)));
        assert_eq!(parse_timeout("3 s"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_timeout("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_timeout("250us"), Ok(Duration::from_micros(250)));
        assert_eq!(parse_timeout("0.5m"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_micros("1.5ms", "x"), Ok(1_500));
        assert_eq!(parse_micros("0.000001s", "x"), Ok(1));
    }

    #[test]
    fn says_what_is_wrong() {
        assert_eq!(
            parse_timeout("10"),
            Err("`10` needs a unit: `us`, `ms`, `s` or `m`, as in `10s`".into())
        );
        assert_eq!(
            parse_timeout("1h"),
            Err("`1h` has an unknown unit `h`: use `us`, `ms`, `s` or `m`, as in `10s`".into())
        );
        assert!(
            parse_timeout("ten")
                .unwrap_err()
                .contains("is not a duration")
        );
        assert!(
            parse_timeout("-1s")
                .unwrap_err()
                .contains("is not a duration")
        );
        assert!(
            parse_timeout("1.s")
                .unwrap_err()
                .contains("is not a duration")
        );
        assert!(
            parse_timeout("1.0000001s")
                .unwrap_err()
                .contains("six decimals")
        );
        assert!(
            parse_timeout("1.5us")
                .unwrap_err()
                .contains("whole number of microseconds")
        );
        assert!(parse_timeout("0s").unwrap_err().contains("is zero"));
        assert!(
            parse_timeout("99999999999999999999999999m")
                .unwrap_err()
                .contains("too long")
        );
    }

    #[test]
    fn writes_the_largest_exact_unit() {
        assert_eq!(format_duration(Duration::from_secs(1)), "1s");
        assert_eq!(format_duration(Duration::from_secs(90)), "90s");
        assert_eq!(format_duration(Duration::from_secs(120)), "2m");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1500ms");
        assert_eq!(format_duration(Duration::from_micros(250)), "250us");
    }

    #[test]
    fn what_is_written_reads_back() {
        for text in ["1s", "90s", "2m", "1500ms", "250us"] {
            assert_eq!(format_duration(parse_timeout(text).unwrap()), text);
        }
    }
}
