//! Durations as people write them for a timeout: `500ms`, `10s`, `2m`.
//!
//! One reader for both places a timeout is written: the attribute (`timeout = "10s"`, read at
//! compile time by the macro, which compiles this very file through `#[path]`) and the
//! `NETNS_TEST_TIMEOUT` environment variable (read by the harness). So it uses only `std`.

use std::time::Duration;

/// The units a duration may carry, with their length in milliseconds.
const UNITS: &[(&str, u64)] = &[("ms", 1), ("s", 1_000), ("m", 60_000)];

/// Reads `text` as a whole number followed by a unit: `ms`, `s` or `m`. The error is a sentence
/// fragment that quotes the text and says what would be valid.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let trimmed = text.trim();
    let digits = trimmed.len()
        - trimmed
            .trim_start_matches(|c: char| c.is_ascii_digit())
            .len();
    let (number, unit) = trimmed.split_at(digits);
    let expected = "write a whole number and a unit: `500ms`, `10s` or `2m`";
    if number.is_empty() {
        return Err(format!("`{text}` is not a duration: {expected}"));
    }
    if unit.is_empty() {
        return Err(format!("`{text}` has no unit: {expected}"));
    }
    let Some(&(_, scale)) = UNITS.iter().find(|(name, _)| *name == unit.trim_start()) else {
        return Err(format!(
            "`{text}` has an unknown unit `{}`: use `ms`, `s` or `m`",
            unit.trim_start()
        ));
    };
    let millis = number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .ok_or_else(|| format!("`{text}` is too long a duration"))?;
    if millis == 0 {
        return Err(format!(
            "`{text}` is zero: a test cannot finish in no time; give a positive duration"
        ));
    }
    Ok(Duration::from_millis(millis))
}

/// Writes `duration` in the largest unit that shows it exactly: `1s`, `90s`, `2m`, `1500ms`.
#[cfg(any(test, target_os = "linux"))]
pub fn format_duration(duration: Duration) -> String {
    let millis = duration.as_millis();
    if millis != 0 && millis.is_multiple_of(60_000) {
        format!("{}m", millis / 60_000)
    } else if millis.is_multiple_of(1_000) {
        format!("{}s", millis / 1_000)
    } else {
        format!("{millis}ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_unit() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration(" 2m "), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("3 s"), Ok(Duration::from_secs(3)));
    }

    #[test]
    fn says_what_is_wrong() {
        assert_eq!(
            parse_duration("10"),
            Err("`10` has no unit: write a whole number and a unit: `500ms`, `10s` or `2m`".into())
        );
        assert_eq!(
            parse_duration("1h"),
            Err("`1h` has an unknown unit `h`: use `ms`, `s` or `m`".into())
        );
        assert!(
            parse_duration("ten")
                .unwrap_err()
                .contains("is not a duration")
        );
        assert!(
            parse_duration("1.5s")
                .unwrap_err()
                .contains("unknown unit `.5s`")
        );
        assert!(
            parse_duration("-1s")
                .unwrap_err()
                .contains("is not a duration")
        );
        assert!(parse_duration("0s").unwrap_err().contains("is zero"));
        assert!(
            parse_duration("99999999999999999999m")
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
    }
}
